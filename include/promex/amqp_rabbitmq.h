/* The librabbitmq adapter of the amqp plugin (library promex_amqp, pkg-config promex-amqp; links
 * librabbitmq, so libpromex does not). librabbitmq has no hooks (its socket is opaque), so this is
 * a thin wrapper: each call does the AMQP work and emits the amqp plugin's events on `bus`.
 *
 *   pmx_amqp_conn_opts_t o = {.host = "127.0.0.1", .port = 5672, .confirms = true,
 *                             .bus = pmx_bus(p)};
 *   pmx_amqp_t *pub;  pmx_amqp_new(&o, &pub);  pmx_amqp_connect(pub);
 *   pmx_amqp_publish(pub, "", "work", body, len, false, NULL);
 *   // consumer: pmx_amqp_consume(c, "work", 10); while (...) pmx_amqp_consume_one(c, 1000, fn, x);
 *   // polling:  pmx_amqp_opts_t ao = {pmx_amqp_queue_stats, poller};   (plugin user_data)
 *
 * A handle is one connection with one channel for work (1) and one for queue polls (2). Calls on
 * a handle are serialised by a mutex, and a consume_one waits up to its timeout holding it: give
 * publishers, each consumer and the poller handles of their own. When the connection fails, the
 * call returns PMX_EIO, the handle emits "disconnected" and connection.up 0, and later calls
 * return PMX_ESTATE until pmx_amqp_connect() succeeds again ("reconnected"). Nothing is
 * retried behind the caller's back. */
#ifndef PROMEX_AMQP_RABBITMQ_H
#define PROMEX_AMQP_RABBITMQ_H

#include <stdbool.h>
#include <stddef.h>

#include "promex/event.h"
#include "promex/export.h"
#include "promex/plugins/amqp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pmx_amqp pmx_amqp_t;

typedef struct pmx_amqp_conn_opts {
  const char *host;        /* required */
  int port;                /* 0: 5672 */
  const char *user;        /* NULL: "guest" */
  const char *password;    /* NULL: "guest" */
  const char *vhost;       /* NULL: "/" */
  const char *broker;      /* the broker label; NULL: "host:port" */
  bool confirms;           /* publisher confirms (confirm.select); publish waits for the ack */
  unsigned timeout_ms;     /* connect, confirm and RPC wait; 0: 5000 */
  pmx_bus_t *bus;          /* required; must outlive the handle */
} pmx_amqp_conn_opts_t;

/* Copies the options; does not connect. PMX_OK, PMX_EINVAL, PMX_ENOMEM. */
PMX_EXTERN int pmx_amqp_new(const pmx_amqp_conn_opts_t *opts, pmx_amqp_t **out);

/* Connects (and opens the channels). PMX_OK (also when already up), PMX_EIO (failed:
 * "connect_failed" is emitted). */
PMX_EXTERN int pmx_amqp_connect(pmx_amqp_t *h);

PMX_EXTERN bool pmx_amqp_is_up(pmx_amqp_t *h);

/* Declares a (non-durable) queue, creating it if missing. PMX_OK, PMX_EIO, PMX_ESTATE. */
PMX_EXTERN int pmx_amqp_declare_queue(pmx_amqp_t *h, const char *queue);

/* What the broker said about one publish (confirms on). */
typedef struct pmx_amqp_publish_result {
  bool acked, nacked, returned;
} pmx_amqp_publish_result_t;

/* Publishes `body` to exchange ("" = default) with routing_key. With confirms, waits for the
 * broker's ack or nack (and a basic.return first, for an unroutable mandatory message). `res`
 * may be NULL. PMX_OK (sent; see res), PMX_EINVAL, PMX_ESTATE (not connected), PMX_EIO
 * (connection lost), PMX_ETIMEDOUT (no confirm in time). */
PMX_EXTERN int pmx_amqp_publish(pmx_amqp_t *h, const char *exchange, const char *routing_key,
                                const void *body, size_t len, bool mandatory,
                                pmx_amqp_publish_result_t *res);

/* Subscribes the work channel to `queue` with a prefetch of `prefetch` (0: unlimited).
 * PMX_OK, PMX_EIO, PMX_ESTATE. */
PMX_EXTERN int pmx_amqp_consume(pmx_amqp_t *h, const char *queue, unsigned prefetch);

typedef enum pmx_amqp_settle {
  PMX_AMQP_ACK = 0,
  PMX_AMQP_NACK_REQUEUE, /* nack, put back: it will be redelivered */
  PMX_AMQP_NACK,         /* nack, dropped (or dead-lettered) */
  PMX_AMQP_REJECT        /* reject, dropped */
} pmx_amqp_settle_t;

/* A handler decides how its message is settled. Called on the thread calling consume_one. */
typedef pmx_amqp_settle_t (*pmx_amqp_handler)(const void *body, size_t len, bool redelivered,
                                              void *ctx);

/* Waits up to timeout_ms for one delivery, runs `fn`, settles it and emits amqp.consume.stop.
 * Returns 1 (handled), 0 (nothing arrived), PMX_EINVAL, PMX_ESTATE, PMX_EIO. */
PMX_EXTERN int pmx_amqp_consume_one(pmx_amqp_t *h, unsigned timeout_ms, pmx_amqp_handler fn,
                                    void *ctx);

/* The amqp plugin's queue_stats callback (ctx = a handle): a passive queue.declare on the poll
 * channel. PMX_OK, PMX_ENOENT (no such queue), PMX_ESTATE, PMX_EIO. */
PMX_EXTERN int pmx_amqp_queue_stats(const char *queue, double *messages, double *consumers,
                                    void *h);

/* Closes the connection (emits "disconnected" if it was up) and frees the handle. NULL: no-op. */
PMX_EXTERN void pmx_amqp_free(pmx_amqp_t *h);

#ifdef __cplusplus
}
#endif
#endif
