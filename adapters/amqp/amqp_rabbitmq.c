/* The librabbitmq adapter (include/promex/amqp_rabbitmq.h). Channel 1 carries the work (publish
 * or consume), channel 2 the passive queue.declare polls; a 404 on a poll closes channel 2 on the
 * broker side, so it is acknowledged and reopened on the next poll. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include "promex/amqp_rabbitmq.h"

#define WORK 1
#define POLL 2

struct pmx_amqp {
  pthread_mutex_t mu;
  amqp_connection_state_t conn; /* NULL while down */
  bool poll_open, ever_up, confirms;
  char host[256], user[128], password[128], vhost[128], broker[300];
  int port;
  unsigned timeout_ms;
  pmx_event_t *ev_pub, *ev_confirm, *ev_return, *ev_consume, *ev_conn, *ev_state;
};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct timeval tv_ms(unsigned ms) {
  struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
  return tv;
}

static void conn_event(pmx_amqp_t *h, const char *event, double up) {
  const pmx_meta_t md[] = {PMX_META_S("broker", h->broker), PMX_META_S("event", event)};
  pmx_emit(h->ev_conn, NULL, 0, md, 2);
  const pmx_measurement_t m[] = {PMX_M("up", up)};
  pmx_emit(h->ev_state, m, 1, md, 1);
}

/* Tears the connection down after a failure (lock held). */
static void drop(pmx_amqp_t *h, bool graceful) {
  if (h->conn == NULL) return;
  if (graceful) amqp_connection_close(h->conn, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(h->conn);
  h->conn = NULL;
  h->poll_open = false;
  conn_event(h, "disconnected", 0);
}

static bool copy(char *dst, size_t cap, const char *src) {
  if (strlen(src) >= cap) return false;
  memcpy(dst, src, strlen(src) + 1);
  return true;
}

int pmx_amqp_new(const pmx_amqp_conn_opts_t *o, pmx_amqp_t **out) {
  if (out != NULL) *out = NULL;
  if (o == NULL || out == NULL || o->host == NULL || o->bus == NULL || o->port < 0 ||
      o->port > 65535)
    return PMX_EINVAL;
  pmx_amqp_t *h = calloc(1, sizeof *h);
  if (h == NULL) return PMX_ENOMEM;
  h->port = o->port ? o->port : 5672;
  h->timeout_ms = o->timeout_ms ? o->timeout_ms : 5000;
  h->confirms = o->confirms;
  char broker[300];
  snprintf(broker, sizeof broker, "%s:%d", o->host, h->port);
  if (!copy(h->host, sizeof h->host, o->host) ||
      !copy(h->user, sizeof h->user, o->user ? o->user : "guest") ||
      !copy(h->password, sizeof h->password, o->password ? o->password : "guest") ||
      !copy(h->vhost, sizeof h->vhost, o->vhost ? o->vhost : "/") ||
      !copy(h->broker, sizeof h->broker, o->broker ? o->broker : broker)) {
    free(h);
    return PMX_EINVAL;
  }
  if (pmx_bus_event(o->bus, "amqp.publish.stop", &h->ev_pub) != PMX_OK ||
      pmx_bus_event(o->bus, "amqp.publish.confirm", &h->ev_confirm) != PMX_OK ||
      pmx_bus_event(o->bus, "amqp.publish.return", &h->ev_return) != PMX_OK ||
      pmx_bus_event(o->bus, "amqp.consume.stop", &h->ev_consume) != PMX_OK ||
      pmx_bus_event(o->bus, "amqp.connection.event", &h->ev_conn) != PMX_OK ||
      pmx_bus_event(o->bus, "amqp.connection.state", &h->ev_state) != PMX_OK) {
    free(h);
    return PMX_ENOMEM;
  }
  pthread_mutex_init(&h->mu, NULL);
  *out = h;
  return PMX_OK;
}

static bool rpc_ok(pmx_amqp_t *h) {
  return amqp_get_rpc_reply(h->conn).reply_type == AMQP_RESPONSE_NORMAL;
}

static int connect_locked(pmx_amqp_t *h) {
  if (h->conn != NULL) return PMX_OK;
  h->conn = amqp_new_connection();
  amqp_socket_t *s = h->conn ? amqp_tcp_socket_new(h->conn) : NULL;
  struct timeval tv = tv_ms(h->timeout_ms);
  bool ok = s != NULL && amqp_socket_open_noblock(s, h->host, h->port, &tv) == AMQP_STATUS_OK;
  if (ok) {
    amqp_set_handshake_timeout(h->conn, &tv);
    amqp_set_rpc_timeout(h->conn, &tv);
    ok = amqp_login(h->conn, h->vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, h->user,
                    h->password).reply_type == AMQP_RESPONSE_NORMAL;
  }
  ok = ok && amqp_channel_open(h->conn, WORK) != NULL && rpc_ok(h);
  ok = ok && (!h->confirms || (amqp_confirm_select(h->conn, WORK) != NULL && rpc_ok(h)));
  if (!ok) {
    if (h->conn != NULL) amqp_destroy_connection(h->conn);
    h->conn = NULL;
    conn_event(h, "connect_failed", 0);
    return PMX_EIO;
  }
  conn_event(h, h->ever_up ? "reconnected" : "connected", 1);
  h->ever_up = true;
  return PMX_OK;
}

int pmx_amqp_connect(pmx_amqp_t *h) {
  if (h == NULL) return PMX_EINVAL;
  pthread_mutex_lock(&h->mu);
  int rc = connect_locked(h);
  pthread_mutex_unlock(&h->mu);
  return rc;
}

bool pmx_amqp_is_up(pmx_amqp_t *h) {
  if (h == NULL) return false;
  pthread_mutex_lock(&h->mu);
  bool up = h->conn != NULL;
  pthread_mutex_unlock(&h->mu);
  return up;
}

/* After a failed RPC: a channel-level error closes only that channel (answered with close-ok);
 * anything else loses the connection. Returns PMX_ENOENT for a 404 channel close. */
static int rpc_failure(pmx_amqp_t *h, amqp_channel_t ch) {
  amqp_rpc_reply_t r = amqp_get_rpc_reply(h->conn);
  if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
    const amqp_channel_close_t *c = r.reply.decoded;
    amqp_channel_close_ok_t ok = {0};
    amqp_send_method(h->conn, ch, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    if (ch == POLL) h->poll_open = false;
    return c != NULL && c->reply_code == AMQP_NOT_FOUND ? PMX_ENOENT : PMX_EIO;
  }
  drop(h, false);
  return PMX_EIO;
}

int pmx_amqp_declare_queue(pmx_amqp_t *h, const char *queue) {
  if (h == NULL || queue == NULL) return PMX_EINVAL;
  pthread_mutex_lock(&h->mu);
  int rc = PMX_ESTATE;
  if (h->conn != NULL)
    rc = amqp_queue_declare(h->conn, WORK, amqp_cstring_bytes(queue), 0, 0, 0, 0,
                            amqp_empty_table) != NULL
             ? PMX_OK
             : rpc_failure(h, WORK);
  pthread_mutex_unlock(&h->mu);
  return rc;
}

/* Waits for the confirm of the last publish (lock held), noting a basic.return before it. */
static int wait_confirm(pmx_amqp_t *h, const char *exchange, pmx_amqp_publish_result_t *res) {
  const pmx_meta_t ex[] = {PMX_META_S("exchange", exchange), PMX_META_S("result", "ack")};
  for (;;) {
    amqp_frame_t f;
    struct timeval tv = tv_ms(h->timeout_ms);
    int st = amqp_simple_wait_frame_noblock(h->conn, &f, &tv);
    if (st == AMQP_STATUS_TIMEOUT) return PMX_ETIMEDOUT;
    if (st != AMQP_STATUS_OK) {
      drop(h, false);
      return PMX_EIO;
    }
    if (f.frame_type != AMQP_FRAME_METHOD) continue;
    amqp_method_number_t id = f.payload.method.id;
    if (id == AMQP_BASIC_RETURN_METHOD) {
      amqp_message_t msg;
      amqp_rpc_reply_t r = amqp_read_message(h->conn, f.channel, &msg, 0); /* header + body */
      if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        drop(h, false);
        return PMX_EIO;
      }
      amqp_destroy_message(&msg);
      res->returned = true;
      pmx_emit(h->ev_return, NULL, 0, ex, 1);
    } else if (id == AMQP_BASIC_ACK_METHOD || id == AMQP_BASIC_NACK_METHOD) {
      bool ack = id == AMQP_BASIC_ACK_METHOD;
      res->acked = ack;
      res->nacked = !ack;
      const pmx_meta_t md[] = {ex[0], PMX_META_S("result", ack ? "ack" : "nack")};
      pmx_emit(h->ev_confirm, NULL, 0, md, 2);
      return PMX_OK;
    } else if (id == AMQP_CHANNEL_CLOSE_METHOD || id == AMQP_CONNECTION_CLOSE_METHOD) {
      drop(h, false);
      return PMX_EIO;
    }
  }
}

int pmx_amqp_publish(pmx_amqp_t *h, const char *exchange, const char *routing_key,
                     const void *body, size_t len, bool mandatory,
                     pmx_amqp_publish_result_t *res) {
  pmx_amqp_publish_result_t local = {0};
  if (res == NULL) res = &local;
  *res = local;
  if (h == NULL || exchange == NULL || routing_key == NULL || (body == NULL && len > 0))
    return PMX_EINVAL;
  pthread_mutex_lock(&h->mu);
  if (h->conn == NULL) {
    pthread_mutex_unlock(&h->mu);
    return PMX_ESTATE;
  }
  uint64_t t0 = now_ns();
  amqp_bytes_t b = {len, (void *)body};
  int st = amqp_basic_publish(h->conn, WORK, amqp_cstring_bytes(exchange),
                              amqp_cstring_bytes(routing_key), mandatory, 0, NULL, b);
  int rc = PMX_OK;
  if (st != AMQP_STATUS_OK) {
    drop(h, false);
    rc = PMX_EIO;
  } else if (h->confirms) {
    rc = wait_confirm(h, exchange, res);
  }
  const pmx_measurement_t m[] = {PMX_M("duration", now_ns() - t0), PMX_M("bytes", len)};
  const pmx_meta_t md[] = {PMX_META_S("exchange", exchange),
                           PMX_META_S("result", rc == PMX_OK ? "ok" : "error")};
  pmx_emit(h->ev_pub, m, 2, md, 2);
  pthread_mutex_unlock(&h->mu);
  return rc;
}

int pmx_amqp_consume(pmx_amqp_t *h, const char *queue, unsigned prefetch) {
  if (h == NULL || queue == NULL) return PMX_EINVAL;
  pthread_mutex_lock(&h->mu);
  int rc = PMX_ESTATE;
  if (h->conn != NULL) {
    bool ok = (prefetch == 0 || amqp_basic_qos(h->conn, WORK, 0, (uint16_t)prefetch, 0) != NULL) &&
              amqp_basic_consume(h->conn, WORK, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0,
                                 0, amqp_empty_table) != NULL;
    rc = ok ? PMX_OK : rpc_failure(h, WORK);
  }
  pthread_mutex_unlock(&h->mu);
  return rc;
}

int pmx_amqp_consume_one(pmx_amqp_t *h, unsigned timeout_ms, pmx_amqp_handler fn, void *ctx) {
  if (h == NULL || fn == NULL) return PMX_EINVAL;
  pthread_mutex_lock(&h->mu);
  if (h->conn == NULL) {
    pthread_mutex_unlock(&h->mu);
    return PMX_ESTATE;
  }
  amqp_maybe_release_buffers(h->conn);
  amqp_envelope_t env;
  struct timeval tv = tv_ms(timeout_ms);
  amqp_rpc_reply_t r = amqp_consume_message(h->conn, &env, &tv, 0);
  int rc;
  if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT) {
    rc = 0;
  } else if (r.reply_type != AMQP_RESPONSE_NORMAL) {
    drop(h, false);
    rc = PMX_EIO;
  } else {
    /* The queue label: the consumer's queue is not in the delivery, the routing key is (for the
     * default exchange it is the queue name). */
    char queue[256];
    snprintf(queue, sizeof queue, "%.*s", (int)env.routing_key.len,
             (const char *)env.routing_key.bytes);
    bool redelivered = env.redelivered != 0;
    size_t len = env.message.body.len;
    uint64_t t0 = now_ns();
    pmx_amqp_settle_t how = fn(env.message.body.bytes, len, redelivered, ctx);
    uint64_t took = now_ns() - t0;
    int st;
    const char *outcome = "ack";
    switch (how) {
      case PMX_AMQP_NACK_REQUEUE: st = amqp_basic_nack(h->conn, WORK, env.delivery_tag, 0, 1); outcome = "nack"; break;
      case PMX_AMQP_NACK: st = amqp_basic_nack(h->conn, WORK, env.delivery_tag, 0, 0); outcome = "nack"; break;
      case PMX_AMQP_REJECT: st = amqp_basic_reject(h->conn, WORK, env.delivery_tag, 0); outcome = "reject"; break;
      default: st = amqp_basic_ack(h->conn, WORK, env.delivery_tag, 0); break;
    }
    amqp_destroy_envelope(&env);
    const pmx_measurement_t m[] = {PMX_M("duration", took), PMX_M("bytes", len)};
    const pmx_meta_t md[] = {PMX_META_S("queue", queue), PMX_META_S("outcome", outcome),
                             PMX_META_B("redelivered", redelivered)};
    pmx_emit(h->ev_consume, m, 2, md, 3);
    rc = 1;
    if (st != AMQP_STATUS_OK) {
      drop(h, false);
      rc = PMX_EIO;
    }
  }
  pthread_mutex_unlock(&h->mu);
  return rc;
}

int pmx_amqp_queue_stats(const char *queue, double *messages, double *consumers, void *ctx) {
  pmx_amqp_t *h = ctx;
  if (h == NULL || queue == NULL || messages == NULL || consumers == NULL) return PMX_EINVAL;
  pthread_mutex_lock(&h->mu);
  int rc = PMX_ESTATE;
  if (h->conn != NULL) {
    rc = PMX_OK;
    if (!h->poll_open) {
      if (amqp_channel_open(h->conn, POLL) != NULL && rpc_ok(h)) h->poll_open = true;
      else rc = rpc_failure(h, POLL);
    }
    if (rc == PMX_OK) {
      amqp_queue_declare_ok_t *ok = amqp_queue_declare(h->conn, POLL, amqp_cstring_bytes(queue), 1,
                                                       0, 0, 0, amqp_empty_table);
      if (ok != NULL) {
        *messages = ok->message_count;
        *consumers = ok->consumer_count;
      } else {
        rc = rpc_failure(h, POLL);
      }
    }
  }
  pthread_mutex_unlock(&h->mu);
  return rc;
}

void pmx_amqp_free(pmx_amqp_t *h) {
  if (h == NULL) return;
  pthread_mutex_lock(&h->mu);
  drop(h, true);
  pthread_mutex_unlock(&h->mu);
  pthread_mutex_destroy(&h->mu);
  free(h);
}
