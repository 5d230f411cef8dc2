/* The memcached plugin's integration program: a fixed mix of libmemcached calls through the
 * promex adapter against the memcached on 127.0.0.1:$PMX_TEST_MEMCACHED_PORT, with promex
 * serving the metrics on loopback.
 *
 *   memcached_workload [--port N] [--bind 127.0.0.1] [--once]
 *
 * One round (run.sh checks these counts; kept in sync):
 *   set k0..k9, set c=5                      set ok 11
 *   get k0..k4 / get 3 missing keys          get hit 5 / miss 3
 *   add k0 x2 / add a new key                add not_stored 2 / ok 1
 *   replace a missing key                    replace not_stored 1
 *   delete k9 / delete a missing key         delete hit 1 / miss 1
 *   increment c x2 / increment k1 ("v")      increment hit 2 / error 1
 *   exist k0, touch k0                       exist hit 1, touch hit 1
 *   get on a server that refuses             get error 1 (CONNECTION_FAILURE)
 * With --once the round runs once and the program idles; without it a round runs every 200 ms
 * until SIGTERM (the dashboard data test). Prints "metrics at http://127.0.0.1:PORT/metrics"
 * after the first round. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "promex/memcached.h"
#include "promex/plugins/memcached.h"
#include "promex/promex.h"

static unsigned closed_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  bind(s, (struct sockaddr *)&sa, sizeof sa);
  getsockname(s, (struct sockaddr *)&sa, &len);
  close(s);
  return ntohs(sa.sin_port);
}

static int expect(memcached_return_t got, memcached_return_t want, const char *what) {
  if (got == want) return 0;
  fprintf(stderr, "memcached_workload: %s: %s, want %s\n", what, pmx_memcached_code_name(got),
          pmx_memcached_code_name(want));
  return -1;
}

static int round_once(pmx_memcached_t *pm, memcached_st *mc) {
  int bad = 0;
  char key[32];
  for (int i = 0; i < 10; i++) {
    snprintf(key, sizeof key, "k%d", i);
    bad |= expect(pmx_memcached_set(pm, mc, key, strlen(key), "v", 1, 0, 0), MEMCACHED_SUCCESS,
                  "set");
  }
  bad |= expect(pmx_memcached_set(pm, mc, "c", 1, "5", 1, 0, 0), MEMCACHED_SUCCESS, "set c");
  for (int i = 0; i < 8; i++) {
    snprintf(key, sizeof key, i < 5 ? "k%d" : "missing%d", i);
    size_t len = 0;
    uint32_t flags = 0;
    memcached_return_t rc;
    char *v = pmx_memcached_get(pm, mc, key, strlen(key), &len, &flags, &rc);
    free(v);
    bad |= expect(rc, i < 5 ? MEMCACHED_SUCCESS : MEMCACHED_NOTFOUND, "get");
  }
  for (int i = 0; i < 2; i++)
    bad |= expect(pmx_memcached_add(pm, mc, "k0", 2, "x", 1, 0, 0), MEMCACHED_NOTSTORED, "add");
  /* A fresh key per round: delete it first (unmeasured) so the add stores. */
  memcached_delete(mc, "fresh", 5, 0);
  bad |= expect(pmx_memcached_add(pm, mc, "fresh", 5, "x", 1, 0, 0), MEMCACHED_SUCCESS, "add");
  bad |= expect(pmx_memcached_replace(pm, mc, "missing", 7, "x", 1, 0, 0), MEMCACHED_NOTSTORED,
                "replace");
  bad |= expect(pmx_memcached_delete(pm, mc, "k9", 2, 0), MEMCACHED_SUCCESS, "delete");
  bad |= expect(pmx_memcached_delete(pm, mc, "missing", 7, 0), MEMCACHED_NOTFOUND, "delete");
  uint64_t value = 0;
  for (int i = 0; i < 2; i++)
    bad |= expect(pmx_memcached_increment(pm, mc, "c", 1, 1, &value), MEMCACHED_SUCCESS, "incr");
  memcached_return_t rc = pmx_memcached_increment(pm, mc, "k1", 2, 1, &value);
  if (rc == MEMCACHED_SUCCESS || rc == MEMCACHED_NOTFOUND) bad = -1;
  bad |= expect(pmx_memcached_exist(pm, mc, "k0", 2), MEMCACHED_SUCCESS, "exist");
  bad |= expect(pmx_memcached_touch(pm, mc, "k0", 2, 0), MEMCACHED_SUCCESS, "touch");

  memcached_st *dead = memcached_create(NULL);
  memcached_server_add(dead, "127.0.0.1", (in_port_t)closed_port());
  size_t len = 0;
  uint32_t flags = 0;
  free(pmx_memcached_get(pm, dead, "k0", 2, &len, &flags, &rc));
  if (rc == MEMCACHED_SUCCESS || rc == MEMCACHED_NOTFOUND) bad = -1;
  memcached_free(dead);
  return bad;
}

static volatile sig_atomic_t stop;
static void on_term(int s) {
  (void)s;
  stop = 1;
}

int main(int argc, char **argv) {
  long port = 0;
  const char *bind_addr = "127.0.0.1";
  int once = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) port = strtol(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--bind") == 0 && i + 1 < argc) bind_addr = argv[++i];
    else if (strcmp(argv[i], "--once") == 0) once = 1;
    else {
      fprintf(stderr, "usage: memcached_workload [--port N] [--bind ADDR] [--once]\n");
      return 2;
    }
  }
  const char *mp = getenv("PMX_TEST_MEMCACHED_PORT");
  int mport = mp != NULL ? atoi(mp) : 0;
  if (mport <= 0) {
    fprintf(stderr, "memcached_workload: set PMX_TEST_MEMCACHED_PORT\n");
    return 2;
  }
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term);
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "mcit";
  pmx_plugin_use_t use = {.plugin = &pmx_plugin_memcached};
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  cfg.metrics_server.enabled = true;
  cfg.metrics_server.port = (uint16_t)port;
  cfg.metrics_server.bind_address = bind_addr;
  pmx_t *p = NULL;
  pmx_error_t err;
  pmx_memcached_t *pm = NULL;
  if (pmx_new(&cfg, &p, &err) != PMX_OK || pmx_start(p, &err) != PMX_OK ||
      pmx_memcached_new(pmx_bus(p), &pm) != PMX_OK) {
    fprintf(stderr, "memcached_workload: promex: %s\n", err.text);
    return 1;
  }
  memcached_st *mc = memcached_create(NULL);
  memcached_server_add(mc, "127.0.0.1", (in_port_t)mport);
  if (round_once(pm, mc) != 0) {
    fprintf(stderr, "memcached_workload: the workload failed\n");
    return 1;
  }
  printf("memcached workload%s; metrics at http://127.0.0.1:%u/metrics\n", once ? " done" : "",
         (unsigned)pmx_metrics_port(p));
  fflush(stdout);
  while (!stop) {
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);
    if (!once && !stop) round_once(pm, mc);
  }
  memcached_free(mc);
  pmx_memcached_destroy(pm);
  pmx_stop(p);
  pmx_destroy(p);
  return 0;
}
