/* The libcurl adapter (promex/curl.h): turns a finished transfer into http.client.request.*
 * events (contract in promex/plugins/http_client.h).
 *
 * Everything comes from curl_easy_getinfo() after the transfer, so the application's transfer is
 * untouched: no option is set, no callback replaced. libcurl's timers are cumulative from the
 * start of the transfer (NAMELOOKUP <= CONNECT <= APPCONNECT <= PRETRANSFER <= STARTTRANSFER <=
 * TOTAL, in microseconds); the phases are the differences, clamped at 0 because libcurl adds
 * redirect legs to some timers and not to others. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "promex/curl.h"
#include "promex/plugins/http_client.h"

struct pmx_curl {
  pmx_event_t *start, *stop, *exception, *phase;
};

int pmx_curl_new(pmx_bus_t *bus, pmx_curl_t **out) {
  if (out != NULL) *out = NULL;
  if (bus == NULL || out == NULL) return PMX_EINVAL;
  pmx_curl_t *pc = pmx__calloc(1, sizeof *pc);
  if (pc == NULL) return PMX_ENOMEM;
  int rc = pmx_bus_event(bus, PMX_HTTP_CLIENT_EVENT_START, &pc->start);
  if (rc == PMX_OK) rc = pmx_bus_event(bus, PMX_HTTP_CLIENT_EVENT_STOP, &pc->stop);
  if (rc == PMX_OK) rc = pmx_bus_event(bus, PMX_HTTP_CLIENT_EVENT_EXCEPTION, &pc->exception);
  if (rc == PMX_OK) rc = pmx_bus_event(bus, PMX_HTTP_CLIENT_EVENT_PHASE, &pc->phase);
  if (rc != PMX_OK) {
    pmx__free(pc);
    return rc;
  }
  *out = pc;
  return PMX_OK;
}

void pmx_curl_free(pmx_curl_t *pc) { pmx__free(pc); }

/* The URL parts the events carry. Strings point into the CURLU results, freed by url_done. */
typedef struct url_parts {
  char *scheme, *host, *port;
} url_parts_t;

static void url_parse(const char *url, url_parts_t *u) {
  memset(u, 0, sizeof *u);
  if (url == NULL) return;
  CURLU *h = curl_url();
  if (h == NULL) return;
  if (curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK) {
    curl_url_get(h, CURLUPART_SCHEME, &u->scheme, 0);
    curl_url_get(h, CURLUPART_HOST, &u->host, 0);
    curl_url_get(h, CURLUPART_PORT, &u->port, CURLU_DEFAULT_PORT);
  }
  curl_url_cleanup(h);
}

static void url_done(url_parts_t *u) {
  curl_free(u->scheme);
  curl_free(u->host);
  curl_free(u->port);
}

static curl_off_t info_off(CURL *e, CURLINFO what) {
  curl_off_t v = 0;
  if (curl_easy_getinfo(e, what, &v) != CURLE_OK || v < 0) return 0;
  return v;
}

static long info_long(CURL *e, CURLINFO what) {
  long v = 0;
  if (curl_easy_getinfo(e, what, &v) != CURLE_OK) return 0;
  return v;
}

static const char *http_version(long v) {
  switch (v) {
    case CURL_HTTP_VERSION_1_0: return "1.0";
    case CURL_HTTP_VERSION_1_1: return "1.1";
    case CURL_HTTP_VERSION_2_0: return "2";
    case CURL_HTTP_VERSION_3: return "3";
    default: return "unknown";
  }
}

static int64_t realtime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void emit_phase(const pmx_curl_t *pc, pmx_meta_t *md, const char *phase, curl_off_t us) {
  md[0] = PMX_META_S("phase", phase);
  pmx_measurement_t m[] = {PMX_M("duration", (double)us * 1000.0)};
  pmx_emit(pc->phase, m, 1, md, 5);
}

static curl_off_t diff(curl_off_t a, curl_off_t b) { return a > b ? a - b : 0; }

int pmx_curl_observe(pmx_curl_t *pc, CURL *easy, CURLcode result) {
  if (pc == NULL || easy == NULL) return PMX_EINVAL;
  char *url = NULL, *method = NULL;
  curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url);
  curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_METHOD, &method);
  url_parts_t u;
  url_parse(url, &u);
  long port = u.port != NULL ? strtol(u.port, NULL, 10) : 0;
  const char *scheme = u.scheme != NULL ? u.scheme : "unknown";
  const char *host = u.host != NULL ? u.host : "unknown";
  if (method == NULL) method = "unknown";

  curl_off_t total = info_off(easy, CURLINFO_TOTAL_TIME_T);
  double duration_ns = (double)total * 1000.0;
  int64_t now = pmx_monotonic_ns();
  long status = info_long(easy, CURLINFO_RESPONSE_CODE);
  /* A response arrived: with CURLOPT_FAILONERROR an HTTP error status is still a response. */
  bool responded = result == CURLE_OK || (result == CURLE_HTTP_RETURNED_ERROR && status > 0);

  pmx_meta_t md[9];
  md[0] = PMX_META_S("method", method);
  md[1] = PMX_META_S("scheme", scheme);
  md[2] = PMX_META_S("host", host);
  md[3] = PMX_META_I("port", port);
  const pmx_measurement_t ms[] = {PMX_M("monotonic_time", (double)(now - (int64_t)duration_ns)),
                                  PMX_M("system_time",
                                        (double)(realtime_ns() - (int64_t)duration_ns))};
  pmx_emit(pc->start, ms, 2, md, 4);

  if (!responded) {
    md[4] = PMX_META_S("kind", "curl");
    md[5] = PMX_META_S("reason", pmx_curl_code_name(result));
    md[6] = PMX_META_I("code", (int64_t)result);
    md[7] = PMX_META_I("os_errno", info_long(easy, CURLINFO_OS_ERRNO));
    const pmx_measurement_t me[] = {PMX_M("duration", duration_ns),
                                    PMX_M("monotonic_time", (double)now)};
    pmx_emit(pc->exception, me, 2, md, 8);
    url_done(&u);
    return PMX_OK;
  }

  long new_conns = info_long(easy, CURLINFO_NUM_CONNECTS);
  curl_off_t req = info_long(easy, CURLINFO_REQUEST_SIZE) + info_off(easy, CURLINFO_SIZE_UPLOAD_T);
  curl_off_t resp =
      info_long(easy, CURLINFO_HEADER_SIZE) + info_off(easy, CURLINFO_SIZE_DOWNLOAD_T);
  md[4] = PMX_META_I("status", status);
  md[5] = PMX_META_S("connection", new_conns > 0 ? "new" : "reused");
  md[6] = PMX_META_S("http_version", http_version(info_long(easy, CURLINFO_HTTP_VERSION)));
  const pmx_measurement_t m[] = {
      PMX_M("duration", duration_ns), PMX_M("monotonic_time", (double)now),
      PMX_M("request_size", (double)req), PMX_M("response_size", (double)resp),
      PMX_M("redirects", (double)info_long(easy, CURLINFO_REDIRECT_COUNT)),
      PMX_M("new_connections", (double)new_conns)};
  pmx_emit(pc->stop, m, 6, md, 7);

  /* Phases: md[0] becomes the phase, followed by method, scheme, host, port. */
  pmx_meta_t pm[5] = {md[0], md[0], md[1], md[2], md[3]};
  curl_off_t dns = info_off(easy, CURLINFO_NAMELOOKUP_TIME_T);
  curl_off_t conn = info_off(easy, CURLINFO_CONNECT_TIME_T);
  curl_off_t tls = info_off(easy, CURLINFO_APPCONNECT_TIME_T);
  curl_off_t pre = info_off(easy, CURLINFO_PRETRANSFER_TIME_T);
  curl_off_t first = info_off(easy, CURLINFO_STARTTRANSFER_TIME_T);
  curl_off_t redirect = info_off(easy, CURLINFO_REDIRECT_TIME_T);
  if (new_conns > 0) {
    emit_phase(pc, pm, "dns", dns);
    emit_phase(pc, pm, "connect", diff(conn, dns));
    if (tls > 0) emit_phase(pc, pm, "tls", diff(tls, conn));
  }
  emit_phase(pc, pm, "wait", diff(first, pre));
  emit_phase(pc, pm, "receive", diff(total, first));
  if (redirect > 0) emit_phase(pc, pm, "redirect", redirect);
  url_done(&u);
  return PMX_OK;
}

CURLcode pmx_curl_easy_perform(pmx_curl_t *pc, CURL *easy) {
  CURLcode rc = curl_easy_perform(easy);
  if (pc != NULL && easy != NULL) pmx_curl_observe(pc, easy, rc);
  return rc;
}

CURLMsg *pmx_curl_multi_info_read(pmx_curl_t *pc, CURLM *multi, int *msgs_in_queue) {
  CURLMsg *msg = curl_multi_info_read(multi, msgs_in_queue);
  if (msg != NULL && pc != NULL && msg->msg == CURLMSG_DONE)
    pmx_curl_observe(pc, msg->easy_handle, msg->data.result);
  return msg;
}
