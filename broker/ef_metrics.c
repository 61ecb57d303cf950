/*  ef_metrics.c: counters as relaxed atomics (see ef_metrics.h). */
#include "ef_metrics.h"

#include <stdatomic.h>
#include <stdlib.h>

struct ef_metrics {
    _Atomic uint64_t v[EF_M_COUNT];
};

ef_metrics_t *
ef_metrics_new (void)
{
    return calloc (1, sizeof (ef_metrics_t));
}

void
ef_metrics_destroy (ef_metrics_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

void
ef_metrics_add (ef_metrics_t *self, ef_metric_t m, uint64_t n)
{
    atomic_fetch_add_explicit (&self->v[m], n, memory_order_relaxed);
}

uint64_t
ef_metrics_get (const ef_metrics_t *self, ef_metric_t m)
{
    return atomic_load_explicit (&((ef_metrics_t *) self)->v[m],
                                 memory_order_relaxed);
}
