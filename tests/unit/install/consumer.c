/* A program built against an installed promex through pkg-config (see check_install.sh). */
#include <promex/promex.h>
#include <stdio.h>
int main(void) {
  pmx_registry_t *r; if (pmx_registry_new(NULL, &r)) return 1;
  pmx_metric_def_t d = {.kind = PMX_COUNTER, .name = "consumer_runs_total", .description = "Runs."};
  pmx_metric_t *m; pmx_series_t *s; pmx_metric_define(r, &d, &m, NULL); pmx_metric_labels(m, NULL, 0, &s); pmx_series_inc(s);
  pmx_buf_t b = {0}; pmx_render(r, PMX_FORMAT_TEXT, &b); fwrite(b.data, 1, b.len, stdout); pmx_buf_free(&b); pmx_registry_destroy(r);
  printf("linked %s\n", pmx_version_string()); return 0; }
