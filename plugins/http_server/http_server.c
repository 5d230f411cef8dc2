/* The http_server plugin: metrics over the HTTP request event contract (see
 * include/promex/plugins/http_server.h for the contract, labels, metrics and options).
 *
 * Everything a request needs is prepared at start: options parsed, route patterns compiled, event
 * handles resolved. Per event the metrics' tag_values callback turns metadata into bounded label
 * values (route lookup, method and status vocabularies) in the tag source's scratch space, so the
 * request path costs no allocation and no lock here. The state lives in the manual group's ctx:
 * the runtime frees it (ctx_free) only after every metric was detached from the bus. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_server_internal.h"
#include "internal.h"
#include "promex/plugins/http_server.h"
#include "promex/promex.h"

#define EV_CONFIG "promex.plugin.http_server.config"
#define MAX_EVENT_NAME 256
#define ROUTE_SCRATCH 256 /* bytes of the tag source's scratch given to the resolver */
#define STATUS_SCRATCH 400 /* offset of the status label in the scratch */

static const double k_duration_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                            0.5,   1,    2.5,   5,    10};
static const double k_size_buckets[] = {100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
static const double k_socket_buckets[] = {0.01, 0.1, 0.5, 1, 5, 10};

typedef struct hs_state {
  pmx__route_list_t routes, additional, ignore;
  char *unmatched;
  bool status_class;
  pmx_http_server_data_t data; /* copied from user_data (zero if none) */
  double *duration_buckets, *size_buckets;
  size_t n_duration, n_size;
  char ev_start[MAX_EVENT_NAME], ev_stop[MAX_EVENT_NAME], ev_exception[MAX_EVENT_NAME],
      ev_in_flight[MAX_EVENT_NAME], ev_endpoint[MAX_EVENT_NAME], ev_connected[MAX_EVENT_NAME],
      ev_joined[MAX_EVENT_NAME], ev_handled_in[MAX_EVENT_NAME];
  pmx_bus_t *bus;
  pmx_event_t *start, *in_flight;
  char handler_id[MAX_EVENT_NAME + 32];
  bool attached;
} hs_state_t;

static void state_free(void *p) {
  hs_state_t *st = p;
  if (st == NULL) return;
  /* Runs after the registry detached the metrics and outside any handler (pmx_stop, a failed
   * start, or pmx_describe_metrics before its bus is destroyed). */
  if (st->attached) pmx_bus_detach(st->bus, st->handler_id);
  pmx__routes_free(&st->routes);
  pmx__routes_free(&st->additional);
  pmx__routes_free(&st->ignore);
  pmx__free(st->unmatched);
  pmx__free(st->duration_buckets);
  pmx__free(st->size_buckets);
  pmx__free(st);
}

/* ---- per-event label computation ----------------------------------------------------------- */

static const char *meta_str(const pmx_event_data_t *ev, const char *key) {
  const pmx_meta_t *m = pmx_event_meta(ev, key);
  return m != NULL && m->type == PMX_META_STR ? m->v.s : NULL;
}

/* The route label of a request event; may write into `scratch` (ROUTE_SCRATCH bytes). */
static const char *route_label(const hs_state_t *st, const pmx_event_data_t *ev, char *scratch) {
  const char *route = meta_str(ev, "route");
  if (route != NULL && route[0] != '\0') return route;
  const char *path = meta_str(ev, "path");
  if (path == NULL) return st->unmatched;
  if (st->data.resolve != NULL) {
    scratch[0] = '\0';
    if (st->data.resolve(meta_str(ev, "method"), path, scratch, ROUTE_SCRATCH, st->data.resolve_ctx)) {
      scratch[ROUTE_SCRATCH - 1] = '\0';
      if (scratch[0] != '\0') return scratch;
    }
  }
  const pmx__route_t *r = pmx__routes_find(&st->routes, path);
  if (r == NULL) r = pmx__routes_find(&st->additional, path);
  return r != NULL ? r->label : st->unmatched;
}

static bool request_tags(const pmx_event_data_t *ev, pmx_tag_source_t *out, void *ctx) {
  const hs_state_t *st = ctx;
  const pmx_meta_t *status = pmx_event_meta(ev, "status");
  long long code = status != NULL && status->type == PMX_META_INT ? (long long)status->v.i : 0;
  const char *host = meta_str(ev, "host");
  const char *kind = meta_str(ev, "kind");
  out->items[0] = PMX_META_S("method", pmx__http_method_label(meta_str(ev, "method")));
  out->items[1] = PMX_META_S("route", route_label(st, ev, out->scratch));
  out->items[2] = PMX_META_S(
      "status", pmx__http_status_label(code, st->status_class, out->scratch + STATUS_SCRATCH));
  out->items[3] = PMX_META_S("host", host != NULL && host[0] != '\0' ? host : "default");
  out->items[4] = PMX_META_S("kind", kind != NULL && kind[0] != '\0' ? kind : "error");
  out->n = 5;
  return true;
}

/* drop predicate: ignore_routes. */
static bool ignored(const pmx_event_data_t *ev, void *ctx) {
  const hs_state_t *st = ctx;
  char scratch[ROUTE_SCRATCH];
  const char *label = route_label(st, ev, scratch);
  const char *path = meta_str(ev, "path");
  for (size_t i = 0; i < st->ignore.n; i++) {
    if (strcmp(label, st->ignore.items[i].text) == 0) return true;
    if (path != NULL && pmx__route_match(&st->ignore.items[i], path, strlen(path))) return true;
  }
  return false;
}

static bool has_request_size(const pmx_event_data_t *ev, void *ctx) {
  double v;
  (void)ctx;
  return pmx_event_measurement(ev, "request_size", &v);
}

static bool has_response_size(const pmx_event_data_t *ev, void *ctx) {
  double v;
  (void)ctx;
  return pmx_event_measurement(ev, "response_size", &v);
}

static bool one(const pmx_event_data_t *ev, double *value, void *ctx) {
  (void)ev;
  (void)ctx;
  *value = 1;
  return true;
}

/* Forwards start (+1) and stop/exception (-1) to the in-flight event: one family can listen to
 * one event only, and the contract should not ask emitters for an in-flight count. */
static void in_flight_forward(const pmx_event_data_t *ev, void *config) {
  const hs_state_t *st = config;
  pmx_measurement_t m = PMX_M("delta", ev->event == st->start ? 1 : -1);
  pmx_emit(st->in_flight, &m, 1, NULL, 0);
}

static int config_measure(pmx_bus_t *bus, void *ctx) {
  const hs_state_t *st = ctx;
  const struct {
    const char *kind;
    size_t n;
  } k[] = {{"route", st->routes.n}, {"additional", st->additional.n}, {"ignore", st->ignore.n}};
  for (size_t i = 0; i < 3; i++) {
    pmx_measurement_t m = PMX_M("count", (double)k[i].n);
    pmx_meta_t md = PMX_META_S("kind", k[i].kind);
    if (pmx_emit_name(bus, EV_CONFIG, &m, 1, &md, 1) < 0) return PMX_ENOMEM;
  }
  return PMX_OK;
}

/* ---- options ------------------------------------------------------------------------------- */

static int opt_fail(const pmx_plugin_ctx_t *ctx, int rc, const char *msg) {
  if (rc == PMX_ENOMEM) return pmx_plugin_fail(ctx, rc, "plugin http_server: out of memory");
  return pmx_plugin_fail(ctx, rc, "plugin http_server: %s", msg);
}

static int copy_buckets(const double *src, size_t n, double **out, size_t *n_out) {
  *out = pmx__malloc(n * sizeof *src);
  if (*out == NULL) return PMX_ENOMEM;
  memcpy(*out, src, n * sizeof *src);
  *n_out = n;
  return PMX_OK;
}

static int event_names(hs_state_t *st, const char *prefix) {
  const struct {
    char *dst;
    const char *suffix;
  } e[] = {{st->ev_start, "request.start"},         {st->ev_stop, "request.stop"},
           {st->ev_exception, "request.exception"}, {st->ev_in_flight, "request.in_flight"},
           {st->ev_endpoint, "endpoint"},           {st->ev_connected, "socket.connected"},
           {st->ev_joined, "channel.joined"},       {st->ev_handled_in, "channel.handled_in"}};
  for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
    int n = snprintf(e[i].dst, MAX_EVENT_NAME, "%s.%s", prefix, e[i].suffix);
    if (n < 0 || n >= MAX_EVENT_NAME) return PMX_ECONFIG;
  }
  return PMX_OK;
}

static int parse_options(const pmx_plugin_ctx_t *ctx, hs_state_t *st) {
  static const char *const allowed[] = {"routes",           "additional_routes", "ignore_routes",
                                        "unmatched_route",  "duration_buckets",  "size_buckets",
                                        "status_class",     "event_prefix"};
  int rc = pmx_plugin_check_opts(ctx, allowed, sizeof allowed / sizeof allowed[0]);
  if (rc != PMX_OK) return rc;
  char msg[512] = "";
  if ((rc = pmx__routes_parse(pmx_plugin_opt(ctx, "routes"), false, "routes", &st->routes, msg,
                              sizeof msg)) != PMX_OK ||
      (rc = pmx__routes_parse(pmx_plugin_opt(ctx, "additional_routes"), true, "additional_routes",
                              &st->additional, msg, sizeof msg)) != PMX_OK ||
      (rc = pmx__routes_parse(pmx_plugin_opt(ctx, "ignore_routes"), false, "ignore_routes",
                              &st->ignore, msg, sizeof msg)) != PMX_OK)
    return opt_fail(ctx, rc, msg);

  const char *unmatched = pmx_plugin_opt(ctx, "unmatched_route");
  if (unmatched == NULL) unmatched = "unmatched";
  size_t ulen = strlen(unmatched);
  if (ulen == 0 || ulen > PMX__HTTP_MAX_LABEL_LEN)
    return opt_fail(ctx, PMX_ECONFIG, "option unmatched_route: must be 1 to 128 bytes");
  if ((st->unmatched = pmx__strdup(unmatched)) == NULL) return opt_fail(ctx, PMX_ENOMEM, "");

  const char *v = pmx_plugin_opt(ctx, "duration_buckets");
  rc = v ? pmx__buckets_parse(v, "duration_buckets", &st->duration_buckets, &st->n_duration, msg,
                              sizeof msg)
         : copy_buckets(k_duration_buckets, sizeof k_duration_buckets / sizeof(double),
                        &st->duration_buckets, &st->n_duration);
  if (rc != PMX_OK) return opt_fail(ctx, rc, msg);
  v = pmx_plugin_opt(ctx, "size_buckets");
  rc = v ? pmx__buckets_parse(v, "size_buckets", &st->size_buckets, &st->n_size, msg, sizeof msg)
         : copy_buckets(k_size_buckets, sizeof k_size_buckets / sizeof(double), &st->size_buckets,
                        &st->n_size);
  if (rc != PMX_OK) return opt_fail(ctx, rc, msg);

  v = pmx_plugin_opt(ctx, "status_class");
  if (v != NULL && (rc = pmx__bool_parse(v, "status_class", &st->status_class, msg, sizeof msg)))
    return opt_fail(ctx, rc, msg);

  const char *prefix = pmx_plugin_opt(ctx, "event_prefix");
  if (prefix == NULL) prefix = PMX_HTTP_SERVER_EVENT_PREFIX;
  pmx_event_t *probe = NULL;
  rc = event_names(st, prefix);
  if (rc == PMX_OK) rc = pmx_bus_event(ctx->bus, st->ev_start, &probe);
  if (rc == PMX_ENOMEM) return opt_fail(ctx, PMX_ENOMEM, "");
  if (rc != PMX_OK)
    return pmx_plugin_fail(ctx, PMX_ECONFIG,
                           "plugin http_server: option event_prefix: \"%s\" is not a valid event "
                           "name prefix (dot-separated segments of [A-Za-z0-9_-])", prefix);
  st->start = probe;
  if (pmx_bus_event(ctx->bus, st->ev_in_flight, &st->in_flight) != PMX_OK)
    return opt_fail(ctx, PMX_ENOMEM, "");
  if (ctx->user_data != NULL) st->data = *(const pmx_http_server_data_t *)ctx->user_data;
  return PMX_OK;
}

/* ---- plugin callback ----------------------------------------------------------------------- */

static int add_request_group(const hs_state_t *st, pmx_groups_t *out) {
  static const char *const tags[] = {"method", "route", "status", "host"};
  static const char *const exc_tags[] = {"method", "route", "host", "kind"};
  pmx_predicate_fn drop = st->ignore.n > 0 ? ignored : NULL;
  void *c = (void *)(uintptr_t)st;
  const pmx_metric_def_t m[] = {
      {.kind = PMX_COUNTER, .name = "requests.total", .event_name = st->ev_stop,
       .tags = tags, .n_tags = 4, .tag_values = request_tags, .tag_values_ctx = c, .drop = drop,
       .predicate_ctx = c, .description = "HTTP requests answered."},
      {.kind = PMX_DISTRIBUTION, .name = "request.duration.seconds", .event_name = st->ev_stop,
       .measurement = "duration", .tags = tags, .n_tags = 4, .tag_values = request_tags,
       .tag_values_ctx = c, .drop = drop, .predicate_ctx = c, .unit_from = PMX_UNIT_NATIVE,
       .unit_to = PMX_UNIT_SECOND, .buckets = st->duration_buckets, .n_buckets = st->n_duration,
       .description = "Time from reading the request to sending the response."},
      {.kind = PMX_DISTRIBUTION, .name = "request_size.bytes", .event_name = st->ev_stop,
       .measurement = "request_size", .tags = tags, .n_tags = 4, .tag_values = request_tags,
       .tag_values_ctx = c, .keep = has_request_size, .drop = drop, .predicate_ctx = c,
       .buckets = st->size_buckets, .n_buckets = st->n_size,
       .description = "Size of the request bodies received."},
      {.kind = PMX_DISTRIBUTION, .name = "response_size.bytes", .event_name = st->ev_stop,
       .measurement = "response_size", .tags = tags, .n_tags = 4, .tag_values = request_tags,
       .tag_values_ctx = c, .keep = has_response_size, .drop = drop, .predicate_ctx = c,
       .buckets = st->size_buckets, .n_buckets = st->n_size,
       .description = "Size of the response bodies sent."},
      {.kind = PMX_COUNTER, .name = "exceptions.total", .event_name = st->ev_exception,
       .tags = exc_tags, .n_tags = 4, .tag_values = request_tags, .tag_values_ctx = c,
       .drop = drop, .predicate_ctx = c,
       .description = "HTTP requests that ended without a complete response, by kind."},
      {.kind = PMX_SUM, .name = "requests.in_flight", .event_name = st->ev_in_flight,
       .measurement = "delta", .sum_as_gauge = true,
       .description = "HTTP requests started and not yet finished."},
  };
  return pmx_groups_add_event(out, "http_server_request_event_metrics", m, sizeof m / sizeof m[0]);
}

static int add_endpoint_and_socket_groups(const hs_state_t *st, pmx_groups_t *out) {
  static const char *const url_tags[] = {"endpoint", "url"};
  static const char *const port_tags[] = {"endpoint", "port"};
  const pmx_metric_def_t ep[] = {
      {.kind = PMX_LAST_VALUE, .name = "endpoint.url.info", .event_name = st->ev_endpoint,
       .measure = one, .tags = url_tags, .n_tags = 2,
       .description = "The URL of each listener the service announced (value 1)."},
      {.kind = PMX_LAST_VALUE, .name = "endpoint.port.info", .event_name = st->ev_endpoint,
       .measure = one, .tags = port_tags, .n_tags = 2,
       .description = "The port of each listener the service announced (value 1)."},
  };
  int rc = pmx_groups_add_event(out, "http_server_endpoint_event_metrics", ep, 2);
  if (rc != PMX_OK) return rc;
  static const char *const conn_tags[] = {"endpoint", "transport", "result"};
  static const char *const msg_tags[] = {"endpoint", "handler", "event"};
  const size_t nb = sizeof k_socket_buckets / sizeof k_socket_buckets[0];
  const pmx_metric_def_t so[] = {
      {.kind = PMX_DISTRIBUTION, .name = "socket_connected.duration.seconds",
       .event_name = st->ev_connected, .measurement = "duration", .tags = conn_tags, .n_tags = 3,
       .unit_from = PMX_UNIT_NATIVE, .unit_to = PMX_UNIT_SECOND, .buckets = k_socket_buckets,
       .n_buckets = nb, .description = "Time to establish WebSocket connections, by result."},
      {.kind = PMX_COUNTER, .name = "channel_joined.total", .event_name = st->ev_joined,
       .tags = conn_tags, .n_tags = 3, .description = "Channels joined (topics subscribed), by result."},
      {.kind = PMX_DISTRIBUTION, .name = "channel_handled_in.duration.seconds",
       .event_name = st->ev_handled_in, .measurement = "duration", .tags = msg_tags, .n_tags = 3,
       .unit_from = PMX_UNIT_NATIVE, .unit_to = PMX_UNIT_SECOND, .buckets = k_socket_buckets,
       .n_buckets = nb, .description = "Time to handle one socket message, by handler and event."},
  };
  return pmx_groups_add_event(out, "http_server_socket_event_metrics", so, 3);
}

static int http_server_events(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  hs_state_t *st = pmx__calloc(1, sizeof *st);
  if (st == NULL) return pmx_plugin_fail(ctx, PMX_ENOMEM, "plugin http_server: out of memory");
  int rc = parse_options(ctx, st);
  if (rc != PMX_OK) {
    state_free(st);
    return rc;
  }
  st->bus = ctx->bus;
  snprintf(st->handler_id, sizeof st->handler_id, "promex.http_server.in_flight.%s", st->ev_start);
  const char *const fwd[] = {st->ev_start, st->ev_stop, st->ev_exception};
  rc = pmx_bus_attach_many(ctx->bus, st->handler_id, fwd, 3, in_flight_forward, st);
  if (rc != PMX_OK) {
    state_free(st);
    return pmx_plugin_fail(ctx, rc, "plugin http_server: cannot attach the in-flight handler: %s",
                           pmx_strerror(rc));
  }
  st->attached = true;

  /* The manual group owns the state (ctx_free), so it is added first: if it fails the state is
   * already freed, and if a later group fails the runtime frees it with the group. */
  static const char *const kind_tag[] = {"kind"};
  const pmx_metric_def_t cfg[] = {
      {.kind = PMX_LAST_VALUE, .name = "route_templates", .event_name = EV_CONFIG,
       .measurement = "count", .tags = kind_tag, .n_tags = 1,
       .description = "Route patterns configured (routes, additional_routes, ignore_routes)."}};
  rc = pmx_groups_add_manual(out, "http_server_config_manual_metrics", config_measure, st,
                             state_free, cfg, 1);
  if (rc != PMX_OK) return rc;
  if ((rc = add_request_group(st, out)) != PMX_OK) return rc;
  return add_endpoint_and_socket_groups(st, out);
}

const pmx_plugin_t pmx_plugin_http_server = {PMX_PLUGIN_ABI, "http_server", http_server_events,
                                             NULL, NULL, {0}};
