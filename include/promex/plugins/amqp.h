/* The `amqp` plugin: message-broker metrics for C publishers and consumers (what GenRMQ and
 * Broadway's RabbitMQ producer report in Elixir), fed by events any AMQP client can emit. The
 * librabbitmq adapter in promex/amqp_rabbitmq.h (library promex_amqp) emits them and polls queue
 * depth with a passive queue.declare (no management plugin).
 *
 * ---- Event contract (durations in ns) ------------------------------------------------------------
 *   amqp.publish.stop       measurements duration, bytes   metadata exchange, result ("ok"|"error")
 *       one basic.publish (duration includes the wait for the confirm when confirms are on).
 *   amqp.publish.confirm    metadata exchange, result ("ack"|"nack")     a publisher confirm
 *   amqp.publish.return     metadata exchange                            a mandatory message
 *                                                                        the broker returned
 *   amqp.consume.stop       measurements duration, bytes   metadata queue, outcome
 *       ("ack"|"nack"|"reject"), redelivered (bool)   one delivery, handled
 *   amqp.connection.event   metadata broker, event ("connected"|"reconnected"|"disconnected"|
 *                           "connect_failed")
 *   amqp.connection.state   measurements up (1|0)          metadata broker
 *
 * ---- Options ---------------------------------------------------------------------------------------
 *   queues         comma list of queues whose depth and consumers are polled (default none)
 *   metric_prefix  default "<app>_prom_ex_amqp" (dashboard assign amqp_metric_prefix)
 *   poll_rate      ms between queue polls (default 5000)
 * user_data: an optional pmx_amqp_opts_t with the queue-stats callback (pmx_amqp_queue_stats of
 * the adapter fits); without it the polling group publishes nothing.
 *
 * ---- Metrics (P = <app>_prom_ex_amqp; duration buckets 0.0005 0.001 0.005 0.01 0.05 0.1 0.5 1 5 s)
 *   P_published_messages_total{exchange,result}   counter, amqp.publish.stop
 *   P_published_bytes_total{exchange}             counter of message body bytes
 *   P_publish_duration_seconds{exchange}          histogram
 *   P_publish_confirms_total{exchange,result}     counter, amqp.publish.confirm
 *   P_publish_returns_total{exchange}             counter, amqp.publish.return
 *     (group amqp_publisher_event_metrics)
 *   P_consumed_messages_total{queue,outcome}      counter, amqp.consume.stop (delivered messages
 *       by how they were settled: acks, nacks, rejects)
 *   P_consumed_bytes_total{queue}                 counter
 *   P_handling_duration_seconds{queue,outcome}    histogram. Broadway: process_message_duration.
 *   P_redelivered_messages_total{queue}           counter of deliveries flagged redelivered
 *     (group amqp_consumer_event_metrics)
 *   P_connection_up{broker}                       gauge 1|0
 *   P_connection_events_total{broker,event}       counter (reconnects: event="reconnected")
 *     (group amqp_connection_event_metrics)
 *   P_queue_messages{queue}, P_queue_consumers{queue}   gauges, group amqp_queue_polling_metrics:
 *       the message count (ready) and consumer count queue.declare-ok returned at the last poll;
 *       both 0 for a queue that does not exist (PMX_ENOENT), so a deleted queue never keeps a
 *       stale depth. A failed poll of a queue leaves its previous values.
 * PromEx has no RabbitMQ plugin; Broadway's metrics map to the jobs plugin's batch group.
 *
 * Threading: the callback runs on a poller thread, never twice at once. */
#ifndef PROMEX_PLUGINS_AMQP_H
#define PROMEX_PLUGINS_AMQP_H

#include "promex/export.h"
#include "promex/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The plugin table. Name "amqp". */
PMX_EXTERN extern const pmx_plugin_t pmx_plugin_amqp;

/* user_data of the amqp plugin. `queue_stats` is called once per configured queue per poll and
 * fills the ready-message and consumer counts; it returns PMX_OK, PMX_ENOENT (no such queue:
 * both published as 0) or another error (counted in poll_errors_total; the other queues still
 * report). Borrowed: must outlive the running instance. */
typedef struct pmx_amqp_opts {
  int (*queue_stats)(const char *queue, double *messages, double *consumers, void *ctx);
  void *ctx;
} pmx_amqp_opts_t;

#ifdef __cplusplus
}
#endif
#endif
