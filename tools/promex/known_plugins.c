/* The plugins the CLI knows (cli.h): libpromex's first-party plugins plus the server statistics
 * plugins, which live in their own libraries because they link database clients. The
 * CLI carries them so that `promex dashboard lint` and `promex alerts export` know their metrics
 * and `-c` configurations may enable them. */
#include <stddef.h>

#include "cli.h"
#include "promex/promex.h"
#ifdef PMX_HAVE_REDIS_STATS
#include "promex/plugins/redis_stats.h"
#endif
#ifdef PMX_HAVE_POSTGRES_STATS
#include "promex/plugins/postgres_stats.h"
#endif
#ifdef PMX_HAVE_MYSQL_STATS
#include "promex/plugins/mysql_stats.h"
#endif

const pmx_plugin_t *const *cli_known_plugins(size_t *n) {
  static const pmx_plugin_t *all[64];
  static size_t n_all = 0;
  if (n_all == 0) { /* the CLI is single-threaded */
    size_t n_fp = 0;
    const pmx_plugin_t *const *fp = pmx_first_party_plugins(&n_fp);
    for (size_t i = 0; i < n_fp && n_all < 60; i++) all[n_all++] = fp[i];
#ifdef PMX_HAVE_REDIS_STATS
    all[n_all++] = &pmx_plugin_redis_stats;
#endif
#ifdef PMX_HAVE_POSTGRES_STATS
    all[n_all++] = &pmx_plugin_postgres_stats;
#endif
#ifdef PMX_HAVE_MYSQL_STATS
    all[n_all++] = &pmx_plugin_mysql_stats;
#endif
  }
  *n = n_all;
  return all;
}
