/* The demo's database workload: see demo_db.h. Two in-memory SQLite connections form a pool
 * (repo "demo_sqlite"); two threads check a connection out (the wait is the queue time, the
 * time it sat unused the idle time), run a few statements on an `orders` table (one in eight
 * rounds inserts a duplicate key: an SQLITE_CONSTRAINT error) and check it back in, reporting
 * pool usage. A round every 50-150 ms keeps the rates visible without load. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "demo_db.h"
#include "promex/db_sqlite.h"

#define POOL 2
#define THREADS 2

typedef struct conn {
  sqlite3 *db;
  pmx_sqlite_t *c;
  bool busy;
  int64_t released_ns;
} conn_t;

struct demo_db {
  pmx_db_repo_t *repo;
  conn_t pool[POOL];
  pthread_mutex_t mu;
  pthread_cond_t cv;
  uint32_t in_use;
  atomic_bool stop;
  pthread_t threads[THREADS];
  int started;
  long next_id;
};

static void nap_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static conn_t *checkout(demo_db_t *d) {
  int64_t t0 = pmx_monotonic_ns();
  pthread_mutex_lock(&d->mu);
  conn_t *c = NULL;
  while (c == NULL) {
    for (int i = 0; i < POOL && c == NULL; i++)
      if (!d->pool[i].busy) c = &d->pool[i];
    if (c == NULL) pthread_cond_wait(&d->cv, &d->mu);
  }
  c->busy = true;
  uint32_t in_use = ++d->in_use;
  pthread_mutex_unlock(&d->mu);
  int64_t now = pmx_monotonic_ns();
  pmx_sqlite_checkout(c->c, now - t0, c->released_ns > 0 ? t0 - c->released_ns : -1);
  pmx_db_repo_pool(d->repo, in_use, POOL);
  return c;
}

static void checkin(demo_db_t *d, conn_t *c) {
  pthread_mutex_lock(&d->mu);
  c->busy = false;
  c->released_ns = pmx_monotonic_ns();
  uint32_t in_use = --d->in_use;
  pthread_cond_signal(&d->cv);
  pthread_mutex_unlock(&d->mu);
  pmx_db_repo_pool(d->repo, in_use, POOL);
}

static void *db_worker(void *arg) {
  demo_db_t *d = arg;
  unsigned seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)&seed;
  for (long round = 0; !atomic_load(&d->stop); round++) {
    conn_t *c = checkout(d);
    pthread_mutex_lock(&d->mu);
    long id = ++d->next_id;
    pthread_mutex_unlock(&d->mu);
    char sql[160];
    snprintf(sql, sizeof sql, "INSERT INTO orders (id, item, qty) VALUES (%ld, 'widget', %u)", id,
             rand_r(&seed) % 10);
    pmx_sqlite_exec(c->c, sql, NULL, NULL, NULL);
    if (round % 8 == 7) /* a duplicate key: SQLITE_CONSTRAINT */
      pmx_sqlite_exec(c->c, "INSERT INTO orders (id, item, qty) VALUES (1, 'dup', 1)", NULL, NULL,
                      NULL);
    pmx_sqlite_exec(c->c, "SELECT id, qty FROM orders WHERE qty > 4 ORDER BY id DESC LIMIT 20",
                    NULL, NULL, NULL);
    pmx_sqlite_exec(c->c, "UPDATE orders SET qty = qty + 1 WHERE id % 5 = 0", NULL, NULL, NULL);
    if (round % 4 == 3) pmx_sqlite_exec(c->c, "DELETE FROM orders WHERE qty > 8", NULL, NULL, NULL);
    nap_ms(5 + rand_r(&seed) % 20); /* hold the connection a little: the other thread queues */
    checkin(d, c);
    nap_ms(50 + rand_r(&seed) % 100);
  }
  return NULL;
}

demo_db_t *demo_db_start(pmx_t *p) {
  demo_db_t *d = calloc(1, sizeof *d);
  if (d == NULL) return NULL;
  pthread_mutex_init(&d->mu, NULL);
  pthread_cond_init(&d->cv, NULL);
  pmx_db_repo_info_t info = {":memory:", "localhost", POOL, 5};
  if (pmx_db_repo_new(pmx_bus(p), "demo_sqlite", &info, &d->repo) != PMX_OK) goto fail;
  for (int i = 0; i < POOL; i++) {
    conn_t *c = &d->pool[i];
    if (sqlite3_open(":memory:", &c->db) != SQLITE_OK ||
        pmx_sqlite_attach_repo(d->repo, c->db, &c->c) != PMX_OK ||
        pmx_sqlite_exec(c->c, "CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT, qty INT);"
                              "INSERT INTO orders VALUES (1, 'seed', 1)",
                        NULL, NULL, NULL) != SQLITE_OK)
      goto fail;
  }
  d->next_id = 1;
  for (; d->started < THREADS; d->started++)
    if (pthread_create(&d->threads[d->started], NULL, db_worker, d) != 0) break;
  return d;
fail:
  fprintf(stderr, "demo: the SQLite workload could not start\n");
  demo_db_stop(d);
  return NULL;
}

void demo_db_stop(demo_db_t *d) {
  if (d == NULL) return;
  atomic_store(&d->stop, true);
  for (int i = 0; i < d->started; i++) pthread_join(d->threads[i], NULL);
  for (int i = 0; i < POOL; i++) {
    pmx_sqlite_detach(d->pool[i].c);
    sqlite3_close(d->pool[i].db);
  }
  pmx_db_repo_free(d->repo);
  pthread_mutex_destroy(&d->mu);
  pthread_cond_destroy(&d->cv);
  free(d);
}
