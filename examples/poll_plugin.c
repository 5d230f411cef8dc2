/* A polling plugin from scratch: the free space of one directory's filesystem, read every
 * poll_rate with statvfs(). Everything a new polling plugin needs is here and in
 * include/promex/plugin.h; run it with `build/examples/poll_plugin [DIR]`: it starts promex,
 * lets three polls happen and prints the exposition (exit 0 when the metric is there).
 *
 * The shape is always the same:
 *   1. a context struct for what the measurement needs (options, cached event handles);
 *   2. a measurement callback: measure, then emit ONE event with the values as measurements;
 *   3. the plugin's polling_metrics callback: read options, allocate the context, and add a
 *      polling group whose metric definitions listen to that event;
 *   4. a const pmx_plugin_t table, enabled through pmx_config_t.plugins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "promex/promex.h"

/* 1. The context: owned by the group, freed by the runtime through ctx_free (here free()). */
typedef struct disk_ctx {
  char path[256];
  pmx_event_t *ev; /* resolved on the first poll; the bus outlives every group */
} disk_ctx_t;

/* 2. Runs on a poller worker thread every poll_rate (never twice at once for one group). A slow
 * statvfs (a hung NFS mount) is counted in <app>_prom_ex_prom_ex_poll_timeouts_total and delays
 * no other group. Return PMX_OK or an error code: failures are counted in poll_errors_total and
 * logged once. */
static int disk_measure(pmx_bus_t *bus, void *ctx) {
  disk_ctx_t *c = ctx;
  struct statvfs st;
  if (statvfs(c->path, &st) != 0) return PMX_ESYS;
  if (c->ev == NULL && pmx_bus_event(bus, "example.disk.poll", &c->ev) != PMX_OK) return PMX_ENOMEM;
  const pmx_measurement_t m[] = {
      PMX_M("free_bytes", (double)st.f_bavail * (double)st.f_frsize),
      PMX_M("size_bytes", (double)st.f_blocks * (double)st.f_frsize),
  };
  const pmx_meta_t md[] = {PMX_META_S("path", c->path)};
  return pmx_emit(c->ev, m, 2, md, 1) < 0 ? PMX_EINVAL : PMX_OK;
}

/* 3. Called once inside pmx_start() (and by pmx_describe_metrics()). */
static int disk_polling_metrics(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  static const char *const allowed[] = {"path"};
  int rc = pmx_plugin_check_opts(ctx, allowed, 1); /* metric_prefix, poll_rate(_timeout) too */
  if (rc != PMX_OK) return rc;
  const char *path = pmx_plugin_opt(ctx, "path");
  if (path == NULL) path = "/";
  if (strlen(path) >= sizeof ((disk_ctx_t *)0)->path)
    return pmx_plugin_fail(ctx, PMX_ECONFIG, "plugin \"disk\": option path is too long");
  disk_ctx_t *c = calloc(1, sizeof *c);
  if (c == NULL) return PMX_ENOMEM;
  snprintf(c->path, sizeof c->path, "%s", path);
  static const char *const tags[] = {"path"};
  const pmx_metric_def_t metrics[] = {
      {.kind = PMX_LAST_VALUE, .name = "free.bytes", .event_name = "example.disk.poll",
       .measurement = "free_bytes", .tags = tags, .n_tags = 1,
       .description = "Bytes available to unprivileged users on the filesystem of path."},
      {.kind = PMX_LAST_VALUE, .name = "size.bytes", .event_name = "example.disk.poll",
       .measurement = "size_bytes", .tags = tags, .n_tags = 1,
       .description = "Size of the filesystem of path."},
  };
  /* Names are prefixed with ctx->metric_prefix ("<app>_prom_ex_disk") and dots become '_':
   * <app>_prom_ex_disk_free_bytes{path="/"}. The definitions are copied; c is handed over
   * (freed with free() even if this call fails). Poll rate 0: the plugin's poll_rate option. */
  return pmx_groups_add_polling(out, "disk_polling_metrics", 0, disk_measure, c, free, metrics, 2);
}

/* 4. The plugin table. */
static const pmx_plugin_t disk_plugin = {PMX_PLUGIN_ABI, "disk", NULL, disk_polling_metrics, NULL,
                                         {0}};

int main(int argc, char **argv) {
  const pmx_kv_t opts[] = {{"path", argc > 1 ? argv[1] : "/"}, {"poll_rate", "100"}};
  const pmx_plugin_use_t uses[] = {{.plugin = &disk_plugin, .opts = opts, .n_opts = 2}};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "example";
  cfg.plugins = uses;
  cfg.n_plugins = 1;
  pmx_error_t err;
  pmx_t *p = NULL;
  if (pmx_new(&cfg, &p, &err) != PMX_OK || pmx_start(p, &err) != PMX_OK) {
    fprintf(stderr, "poll_plugin: %s\n", err.text);
    pmx_destroy(p);
    return 1;
  }
  struct timespec ts = {0, 250 * 1000000L}; /* polls at 0, 100, 200 ms */
  nanosleep(&ts, NULL);
  pmx_buf_t buf = {0};
  int rc = pmx_get_metrics(p, PMX_FORMAT_TEXT, &buf);
  bool found = rc == PMX_OK && buf.data != NULL &&
               strstr(buf.data, "example_prom_ex_disk_free_bytes{path=") != NULL;
  if (rc == PMX_OK) fwrite(buf.data, 1, buf.len, stdout);
  pmx_buf_free(&buf);
  pmx_stop(p);
  pmx_destroy(p);
  return found ? 0 : 1;
}
