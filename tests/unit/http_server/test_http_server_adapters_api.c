/* Bad input to every adapter's public functions: a clear error code (and message), nothing
 * created, nothing crashed. Compiled with the adapters this build has (HAVE_EVHTTP,
 * HAVE_CIVETWEB, HAVE_LWS); the libmicrohttpd adapter is always there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "promex/http_mhd.h"
#include "promex/promex.h"
#ifdef HAVE_EVHTTP
#include "promex/http_evhttp.h"
#endif
#ifdef HAVE_CIVETWEB
#include "promex/http_civetweb.h"
#endif
#ifdef HAVE_LWS
#include "promex/http_lws.h"
#endif

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **req_cls) {
  (void)cls, (void)c, (void)url, (void)method, (void)version, (void)upload, (void)upload_size;
  (void)req_cls;
  return MHD_NO;
}

static char g_long[400];

static void test_mhd(void **state) {
  (void)state;
  pmx_bus_t *bus = NULL;
  assert_int_equal(pmx_bus_new(&bus), PMX_OK);
  pmx_http_mhd_t *ins = (pmx_http_mhd_t *)1;
  pmx_error_t err;
  assert_int_equal(pmx_http_mhd_new(NULL, &ins, &err), PMX_EINVAL);
  assert_null(ins);
  pmx_http_mhd_config_t c = {.bus = bus};
  assert_int_equal(pmx_http_mhd_new(&c, &ins, &err), PMX_EINVAL); /* no handler */
  assert_non_null(strstr(err.text, "handler"));
  c.handler = handler;
  c.event_prefix = "bad prefix";
  assert_int_equal(pmx_http_mhd_new(&c, &ins, &err), PMX_EINVAL);
  assert_non_null(strstr(err.text, "event_prefix"));
  c.event_prefix = NULL;
  c.host = g_long;
  assert_int_equal(pmx_http_mhd_new(&c, &ins, &err), PMX_EINVAL);
  assert_non_null(strstr(err.text, "host"));
  c.host = "api";
  assert_int_equal(pmx_http_mhd_new(&c, &ins, &err), PMX_OK);
  const struct MHD_OptionItem *o = pmx_http_mhd_options(ins);
  assert_int_equal(o[0].option, MHD_OPTION_NOTIFY_COMPLETED);
  assert_int_equal(o[1].option, MHD_OPTION_END);
  assert_null(pmx_http_mhd_options(NULL));
  assert_int_equal(pmx_http_mhd_announce(ins, NULL, "h"), PMX_EINVAL);
  assert_int_equal(pmx_http_mhd_announce(NULL, NULL, NULL), PMX_EINVAL);
  pmx_http_mhd_set_route(NULL, "/x"); /* outside a handler: no effect */
  pmx_http_mhd_free(ins);
  pmx_http_mhd_free(NULL);
  pmx_bus_destroy(bus);
}

#ifdef HAVE_EVHTTP
static void test_evhttp(void **state) {
  (void)state;
  pmx_bus_t *bus = NULL;
  assert_int_equal(pmx_bus_new(&bus), PMX_OK);
  pmx_http_evhttp_t *ins = NULL;
  pmx_error_t err;
  pmx_http_evhttp_config_t c = {.bus = NULL};
  assert_int_equal(pmx_http_evhttp_new(&c, &ins, &err), PMX_EINVAL);
  assert_null(ins);
  c.bus = bus;
  c.event_prefix = "..";
  assert_int_equal(pmx_http_evhttp_new(&c, &ins, &err), PMX_EINVAL);
  assert_non_null(strstr(err.text, "event_prefix"));
  c.event_prefix = NULL;
  assert_int_equal(pmx_http_evhttp_new(&c, &ins, &err), PMX_OK);
  assert_int_equal(pmx_http_evhttp_set_cb(ins, NULL, "/x", NULL, NULL), PMX_EINVAL);
  assert_int_equal(pmx_http_evhttp_set_gencb(NULL, NULL, NULL, NULL), PMX_EINVAL);
  assert_int_equal(pmx_http_evhttp_announce(ins, NULL, "h"), PMX_EINVAL);
  pmx_http_evhttp_free(ins);
  pmx_bus_destroy(bus);
}
#endif

#ifdef HAVE_CIVETWEB
static void test_civetweb(void **state) {
  (void)state;
  pmx_bus_t *bus = NULL;
  assert_int_equal(pmx_bus_new(&bus), PMX_OK);
  pmx_http_civetweb_t *ins = NULL;
  pmx_error_t err;
  assert_int_equal(pmx_http_civetweb_new(NULL, &ins, &err), PMX_EINVAL);
  pmx_http_civetweb_config_t c = {.bus = bus, .endpoint = g_long};
  assert_int_equal(pmx_http_civetweb_new(&c, &ins, &err), PMX_EINVAL);
  assert_null(ins);
  c.endpoint = NULL;
  assert_int_equal(pmx_http_civetweb_new(&c, &ins, &err), PMX_OK);
  assert_null(pmx_http_civetweb_start(NULL, NULL, NULL, NULL));
  assert_int_equal(pmx_http_civetweb_announce(ins, NULL, "h"), PMX_EINVAL);
  pmx_http_civetweb_free(ins);
  pmx_bus_destroy(bus);
}
#endif

#ifdef HAVE_LWS
static int ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len) {
  (void)wsi, (void)reason, (void)user, (void)in, (void)len;
  return 0;
}

static void test_lws(void **state) {
  (void)state;
  pmx_bus_t *bus = NULL;
  assert_int_equal(pmx_bus_new(&bus), PMX_OK);
  pmx_http_lws_t *ins = NULL;
  pmx_error_t err;
  pmx_http_lws_config_t c = {.bus = bus};
  static const struct lws_protocols none[] = {{NULL, NULL, 0, 0, 0, NULL, 0}};
  assert_int_equal(pmx_http_lws_new(&c, none, &ins, &err), PMX_EINVAL);
  assert_non_null(strstr(err.text, "empty"));
  assert_int_equal(pmx_http_lws_new(&c, NULL, &ins, &err), PMX_EINVAL);
  static struct lws_protocols many[40];
  for (int i = 0; i < 39; i++) many[i] = (struct lws_protocols){"p", ws_cb, 0, 0, 0, NULL, 0};
  assert_int_equal(pmx_http_lws_new(&c, many, &ins, &err), PMX_ELIMIT);
  assert_null(ins);
  /* 32 trampolines: two adapters of 20 protocols cannot both exist; freeing gives them back. */
  static struct lws_protocols twenty[21];
  for (int i = 0; i < 20; i++) twenty[i] = (struct lws_protocols){"p", ws_cb, 8, 0, 0, NULL, 0};
  pmx_http_lws_t *a = NULL, *b = NULL;
  assert_int_equal(pmx_http_lws_new(&c, twenty, &a, &err), PMX_OK);
  assert_int_equal(pmx_http_lws_new(&c, twenty, &b, &err), PMX_ELIMIT);
  const struct lws_protocols *p = pmx_http_lws_protocols(a);
  assert_string_equal(p[0].name, "p");
  assert_true(p[0].callback != ws_cb);
  assert_true(p[0].per_session_data_size >= 16);
  assert_null(p[20].name);
  pmx_http_lws_free(a);
  assert_int_equal(pmx_http_lws_new(&c, twenty, &b, &err), PMX_OK);
  pmx_http_lws_free(b);
  pmx_bus_destroy(bus);
}
#endif

int main(void) {
  memset(g_long, 'x', sizeof g_long - 1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mhd),
#ifdef HAVE_EVHTTP
      cmocka_unit_test(test_evhttp),
#endif
#ifdef HAVE_CIVETWEB
      cmocka_unit_test(test_civetweb),
#endif
#ifdef HAVE_LWS
      cmocka_unit_test(test_lws),
#endif
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
