/* The demo's batch pipeline workload: a Broadway-like message pipeline reporting
 * through the jobs plugin's batch events, so the batch panels of the jobs dashboard have data. */
#ifndef PMX_DEMO_BATCH_H
#define PMX_DEMO_BATCH_H

#include "promex/promex.h"

typedef struct demo_batch demo_batch_t;

/* Starts the pipeline thread on p's bus (after pmx_start). NULL on failure (logged). */
demo_batch_t *demo_batch_start(pmx_t *p);
/* Stops and joins the thread. NULL is a no-op. */
void demo_batch_stop(demo_batch_t *b);

#endif
