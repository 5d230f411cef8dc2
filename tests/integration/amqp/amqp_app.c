/* The program under test of the amqp integration test (run.sh): a promex instance with the amqp
 * plugin, fed by the librabbitmq adapter against the broker on 127.0.0.1:$PMX_AMQP_PORT.
 *
 *   amqp_app --port N [--bind 127.0.0.1]
 *
 * Three connections, labelled by role (broker label "pub", "con", "poll"). Workload:
 *   publish 10 x 100-byte messages to queue "work" and 5 x 50-byte ones to "idle" (all confirmed),
 *   and 1 mandatory message to the unbound routing key "nowhere" (returned, then confirmed);
 *   consume "work": messages 0-6 acked, 7 nacked with requeue once (then redelivered and acked),
 *   8 and 9 rejected: 11 deliveries. Queues "work, idle, missing" are polled every 200 ms.
 * Then prints "ready" and "metrics at http://127.0.0.1:PORT/metrics" and waits. On SIGUSR1 (the
 * test stopped the broker) it publishes once (must fail: the connection is gone), lets the poller
 * notice, tries to reconnect (must fail: nobody listens) and prints "down". On SIGUSR2 (the broker
 * is back) it reconnects the publisher and the poller, declares "idle" again, publishes once more
 * (must be confirmed) and prints "recovered". SIGTERM stops it (exit 0). Any unexpected result:
 * message, exit 1. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "promex/amqp_rabbitmq.h"
#include "promex/promex.h"

static int fail(const char *what, int rc) {
  fprintf(stderr, "amqp_app: %s (rc %d)\n", what, rc);
  return 1;
}

static pmx_amqp_settle_t handle(const void *body, size_t len, bool redelivered, void *ctx) {
  (void)ctx;
  int n = -1;
  sscanf((const char *)body, "msg-%d", &n);
  (void)len;
  if (n == 7) return redelivered ? PMX_AMQP_ACK : PMX_AMQP_NACK_REQUEUE;
  if (n == 8 || n == 9) return PMX_AMQP_REJECT;
  return PMX_AMQP_ACK;
}

static pmx_amqp_t *open_handle(pmx_t *p, int port, const char *label, bool confirms) {
  pmx_amqp_conn_opts_t o = {.host = "127.0.0.1", .port = port, .broker = label,
                            .confirms = confirms, .timeout_ms = 5000, .bus = pmx_bus(p)};
  pmx_amqp_t *h = NULL;
  return pmx_amqp_new(&o, &h) == PMX_OK ? h : NULL;
}

int main(int argc, char **argv) {
  long port = -1;
  for (int i = 1; i + 1 < argc; i += 2)
    if (strcmp(argv[i], "--port") == 0) port = strtol(argv[i + 1], NULL, 10);
  const char *bp = getenv("PMX_AMQP_PORT");
  if (port < 0 || port > 65535 || bp == NULL) {
    fprintf(stderr, "usage: PMX_AMQP_PORT=N amqp_app --port N [--bind 127.0.0.1]\n");
    return 2;
  }
  int broker_port = atoi(bp);
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGUSR1);
  sigaddset(&sigs, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);

  static pmx_amqp_opts_t ao; /* ctx set once the poller connection exists */
  const pmx_kv_t opts[] = {{"queues", "work, idle, missing"}, {"poll_rate", "200"}};
  pmx_plugin_use_t use = {&pmx_plugin_amqp, opts, 2, &ao};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "amqp_app";
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  cfg.metrics_server.enabled = true;
  cfg.metrics_server.bind_address = "127.0.0.1";
  cfg.metrics_server.port = (uint16_t)port;
  pmx_t *p = NULL;
  pmx_error_t err;
  if (pmx_new(&cfg, &p, &err) != PMX_OK) return fail(err.text, -1);
  /* Handles are created before start (the poller's callback needs its ctx) and connected after
   * it, so the connection events reach the metrics. */
  pmx_amqp_t *pub = open_handle(p, broker_port, "pub", true);
  pmx_amqp_t *con = open_handle(p, broker_port, "con", false);
  pmx_amqp_t *poll = open_handle(p, broker_port, "poll", false);
  if (pub == NULL || con == NULL || poll == NULL) return fail("pmx_amqp_new", -1);
  ao.queue_stats = pmx_amqp_queue_stats;
  ao.ctx = poll;
  if (pmx_start(p, &err) != PMX_OK) return fail(err.text, -1);
  int rc;
  if ((rc = pmx_amqp_connect(pub)) != PMX_OK || (rc = pmx_amqp_connect(con)) != PMX_OK ||
      (rc = pmx_amqp_connect(poll)) != PMX_OK)
    return fail("connect", rc);
  if ((rc = pmx_amqp_declare_queue(pub, "work")) != PMX_OK) return fail("declare work", rc);
  if ((rc = pmx_amqp_declare_queue(pub, "idle")) != PMX_OK) return fail("declare idle", rc);

  char body[128];
  pmx_amqp_publish_result_t res;
  for (int i = 0; i < 10; i++) {
    memset(body, 'x', 100);
    snprintf(body, sizeof body, "msg-%d", i);
    body[strlen(body)] = ' ';
    if ((rc = pmx_amqp_publish(pub, "", "work", body, 100, false, &res)) != PMX_OK || !res.acked)
      return fail("publish to work", rc);
  }
  for (int i = 0; i < 5; i++) {
    memset(body, 'y', 50);
    if ((rc = pmx_amqp_publish(pub, "", "idle", body, 50, false, &res)) != PMX_OK || !res.acked)
      return fail("publish to idle", rc);
  }
  if ((rc = pmx_amqp_publish(pub, "", "nowhere", "lost", 4, true, &res)) != PMX_OK ||
      !res.returned || !res.acked)
    return fail("mandatory publish to nowhere was not returned and confirmed", rc);
  if (pmx_amqp_publish(pub, NULL, "x", "", 0, false, NULL) != PMX_EINVAL)
    return fail("NULL exchange accepted", 0);

  if ((rc = pmx_amqp_consume(con, "work", 1)) != PMX_OK) return fail("consume", rc);
  int handled = 0;
  for (int tries = 0; handled < 11 && tries < 100; tries++) {
    rc = pmx_amqp_consume_one(con, 200, handle, NULL);
    if (rc < 0) return fail("consume_one", rc);
    handled += rc;
  }
  if (handled != 11) return fail("deliveries", handled);

  printf("ready\nmetrics at http://127.0.0.1:%u/metrics\n", (unsigned)pmx_metrics_port(p));
  fflush(stdout);
  int code = 0;
  for (;;) {
    int sig = 0;
    sigwait(&sigs, &sig);
    if (sig == SIGUSR1) {
      /* The broker went away: the next publish fails and is counted as an error. */
      rc = pmx_amqp_publish(pub, "", "work", "after", 5, false, &res);
      if (rc != PMX_EIO) {
        code = fail("publish with the broker gone did not fail", rc);
        break;
      }
      if ((rc = pmx_amqp_publish(pub, "", "work", "after", 5, false, &res)) != PMX_ESTATE) {
        code = fail("publish on a lost connection did not say so", rc);
        break;
      }
      double m, c;
      for (int i = 0; i < 50 && pmx_amqp_is_up(poll); i++)
        pmx_amqp_queue_stats("work", &m, &c, poll);
      if ((rc = pmx_amqp_connect(pub)) != PMX_EIO) {
        code = fail("connecting to a stopped broker did not fail", rc);
        break;
      }
      printf("down\n");
    } else if (sig == SIGUSR2) {
      if ((rc = pmx_amqp_connect(pub)) != PMX_OK || (rc = pmx_amqp_connect(poll)) != PMX_OK) {
        code = fail("reconnect", rc);
        break;
      }
      if ((rc = pmx_amqp_declare_queue(pub, "idle")) != PMX_OK ||
          (rc = pmx_amqp_publish(pub, "", "idle", "after", 5, false, &res)) != PMX_OK || !res.acked) {
        code = fail("publish after reconnect", rc);
        break;
      }
      printf("recovered\n");
    } else {
      break;
    }
    fflush(stdout);
  }
  pmx_stop(p); /* no poll after this */
  pmx_amqp_free(pub);
  pmx_amqp_free(con);
  pmx_amqp_free(poll);
  pmx_destroy(p);
  return code;
}
