/* The amqp plugin (see include/promex/plugins/amqp.h for the contract and the metric list):
 * three event groups over the contract's events and one polling group asking the user's
 * callback for each configured queue's depth and consumer count. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "plugin_common.h"
#include "promex/plugins/amqp.h"

#define EV_QUEUE "promex.plugin.amqp.queue"
#define MAX_QUEUES 256

static const char *const k_allowed[] = {"queues"};
#define N(a) (sizeof(a) / sizeof((a)[0]))

typedef struct queue_ctx {
  char *queues[MAX_QUEUES];
  size_t n;
  const pmx_amqp_opts_t *opts;
  pmx__evcache_t ev;
} queue_ctx_t;

static void queue_ctx_free(void *p) {
  queue_ctx_t *c = p;
  if (c == NULL) return;
  for (size_t i = 0; i < c->n; i++) pmx__free(c->queues[i]);
  pmx__free(c);
}

/* Splits the `queues` option; refuses empty and repeated names. */
static int parse_queues(const pmx_plugin_ctx_t *ctx, queue_ctx_t *c) {
  const char *list = pmx_plugin_opt(ctx, "queues");
  if (list == NULL) return PMX_OK;
  const char *p = list;
  for (;;) {
    while (*p == ' ' || *p == '\t') p++;
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
    if (len == 0)
      return pmx_plugin_fail(ctx, PMX_ECONFIG, "plugin amqp: option queues has an empty item in \"%s\"",
                             list);
    for (size_t i = 0; i < c->n; i++)
      if (strlen(c->queues[i]) == len && memcmp(c->queues[i], p, len) == 0)
        return pmx_plugin_fail(ctx, PMX_ECONFIG, "plugin amqp: option queues lists \"%.*s\" twice",
                               (int)len, p);
    if (c->n >= MAX_QUEUES)
      return pmx_plugin_fail(ctx, PMX_ECONFIG, "plugin amqp: option queues has more than %d items",
                             MAX_QUEUES);
    char *q = pmx__malloc(len + 1);
    if (q == NULL) return PMX_ENOMEM;
    memcpy(q, p, len);
    q[len] = '\0';
    c->queues[c->n++] = q;
    if (end == NULL) return PMX_OK;
    p = end + 1;
  }
}

static int queue_measure(pmx_bus_t *bus, void *p) {
  queue_ctx_t *c = p;
  if (c->opts == NULL || c->opts->queue_stats == NULL) return PMX_OK;
  pmx_event_t *ev = pmx__ev(&c->ev, bus, EV_QUEUE);
  if (ev == NULL) return PMX_ENOMEM;
  int first_err = PMX_OK;
  for (size_t i = 0; i < c->n; i++) {
    double messages = 0, consumers = 0;
    int rc = c->opts->queue_stats(c->queues[i], &messages, &consumers, c->opts->ctx);
    if (rc == PMX_ENOENT) {
      messages = consumers = 0; /* gone: say so rather than keep a stale depth */
    } else if (rc != PMX_OK) {
      if (first_err == PMX_OK) first_err = rc;
      continue;
    }
    const pmx_measurement_t m[] = {PMX_M("messages", messages), PMX_M("consumers", consumers)};
    const pmx_meta_t md[] = {PMX_META_S("queue", c->queues[i])};
    pmx_emit(ev, m, 2, md, 1);
  }
  return first_err;
}

static int amqp_polling(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  int rc = pmx_plugin_check_opts(ctx, k_allowed, N(k_allowed));
  if (rc != PMX_OK) return rc;
  queue_ctx_t *c = pmx__calloc(1, sizeof *c);
  if (c == NULL) return PMX_ENOMEM;
  if ((rc = parse_queues(ctx, c)) != PMX_OK) {
    queue_ctx_free(c);
    return rc;
  }
  c->opts = ctx->user_data;
  static const char *const tags[] = {"queue"};
  const pmx_metric_def_t m[] = {
      {.kind = PMX_LAST_VALUE, .name = "queue.messages", .event_name = EV_QUEUE,
       .measurement = "messages", .tags = tags, .n_tags = 1,
       .description = "Messages ready in the queue at the last poll (passive queue.declare)."},
      {.kind = PMX_LAST_VALUE, .name = "queue.consumers", .event_name = EV_QUEUE,
       .measurement = "consumers", .tags = tags, .n_tags = 1,
       .description = "Consumers subscribed to the queue at the last poll."},
  };
  return pmx_groups_add_polling(out, "amqp_queue_polling_metrics", 0, queue_measure, c,
                                queue_ctx_free, m, N(m));
}

static const double k_duration_s[] = {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5};

/* Keeps only deliveries flagged redelivered. */
static bool redelivered(const pmx_event_data_t *ev, void *ctx) {
  (void)ctx;
  for (size_t i = 0; i < ev->n_metadata; i++)
    if (strcmp(ev->metadata[i].key, "redelivered") == 0)
      return ev->metadata[i].type == PMX_META_BOOL && ev->metadata[i].v.b;
  return false;
}

static int amqp_events(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  int rc = pmx_plugin_check_opts(ctx, k_allowed, N(k_allowed));
  if (rc != PMX_OK) return rc;
  queue_ctx_t check = {0}; /* bad queues fail start even when only events are used */
  rc = parse_queues(ctx, &check);
  for (size_t i = 0; i < check.n; i++) pmx__free(check.queues[i]);
  if (rc != PMX_OK) return rc;

  static const char *const ex_res[] = {"exchange", "result"};
  static const char *const ex[] = {"exchange"};
  const pmx_metric_def_t pub[] = {
      {.kind = PMX_COUNTER, .name = "published.messages.total", .event_name = "amqp.publish.stop",
       .tags = ex_res, .n_tags = 2, .description = "Messages published, by result."},
      {.kind = PMX_SUM, .name = "published.bytes.total", .event_name = "amqp.publish.stop",
       .measurement = "bytes", .tags = ex, .n_tags = 1,
       .description = "Message body bytes published."},
      {.kind = PMX_DISTRIBUTION, .name = "publish.duration.seconds",
       .event_name = "amqp.publish.stop", .measurement = "duration", .tags = ex, .n_tags = 1,
       .unit_from = PMX_UNIT_NATIVE, .unit_to = PMX_UNIT_SECOND, .buckets = k_duration_s,
       .n_buckets = N(k_duration_s),
       .description = "How long a publish took (with the confirm wait when confirms are on)."},
      {.kind = PMX_COUNTER, .name = "publish.confirms.total", .event_name = "amqp.publish.confirm",
       .tags = ex_res, .n_tags = 2, .description = "Publisher confirms, by result (ack, nack)."},
      {.kind = PMX_COUNTER, .name = "publish.returns.total", .event_name = "amqp.publish.return",
       .tags = ex, .n_tags = 1, .description = "Mandatory messages the broker could not route."},
  };
  static const char *const q_out[] = {"queue", "outcome"};
  static const char *const q[] = {"queue"};
  const pmx_metric_def_t con[] = {
      {.kind = PMX_COUNTER, .name = "consumed.messages.total", .event_name = "amqp.consume.stop",
       .tags = q_out, .n_tags = 2,
       .description = "Messages delivered to consumers, by how they were settled."},
      {.kind = PMX_SUM, .name = "consumed.bytes.total", .event_name = "amqp.consume.stop",
       .measurement = "bytes", .tags = q, .n_tags = 1, .description = "Message body bytes consumed."},
      {.kind = PMX_DISTRIBUTION, .name = "handling.duration.seconds",
       .event_name = "amqp.consume.stop", .measurement = "duration", .tags = q_out, .n_tags = 2,
       .unit_from = PMX_UNIT_NATIVE, .unit_to = PMX_UNIT_SECOND, .buckets = k_duration_s,
       .n_buckets = N(k_duration_s), .description = "How long consumers took per message."},
      {.kind = PMX_COUNTER, .name = "redelivered.messages.total",
       .event_name = "amqp.consume.stop", .tags = q, .n_tags = 1, .keep = redelivered,
       .description = "Deliveries the broker flagged as redelivered."},
  };
  static const char *const br[] = {"broker"};
  static const char *const br_ev[] = {"broker", "event"};
  const pmx_metric_def_t conn[] = {
      {.kind = PMX_LAST_VALUE, .name = "connection.up", .event_name = "amqp.connection.state",
       .measurement = "up", .tags = br, .n_tags = 1,
       .description = "1 while the connection to the broker is open, else 0."},
      {.kind = PMX_COUNTER, .name = "connection.events.total",
       .event_name = "amqp.connection.event", .tags = br_ev, .n_tags = 2,
       .description = "Connection events: connected, reconnected, disconnected, connect_failed."},
  };
  if ((rc = pmx_groups_add_event(out, "amqp_publisher_event_metrics", pub, N(pub))) != PMX_OK ||
      (rc = pmx_groups_add_event(out, "amqp_consumer_event_metrics", con, N(con))) != PMX_OK)
    return rc;
  return pmx_groups_add_event(out, "amqp_connection_event_metrics", conn, N(conn));
}

const pmx_plugin_t pmx_plugin_amqp = {PMX_PLUGIN_ABI, "amqp", amqp_events, amqp_polling, NULL,
                                      {0}};
