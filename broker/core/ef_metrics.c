/*  ef_metrics.c: counters as relaxed atomics (see ef_metrics.h). */
#include "ef_metrics.h"

#include <stdatomic.h>
#include <stdlib.h>

const uint32_t ef_metrics_latency_le_ms[EF_M_LATENCY_BUCKETS] = {
    1, 5, 10, 25, 50, 100, 250, 1000, 5000, 30000, 300000};

struct ef_metrics {
    _Atomic uint64_t v[EF_M_COUNT];
    _Atomic uint64_t latency[EF_M_LATENCY_BUCKETS + 1]; /* not cumulative */
    _Atomic uint64_t latency_sum;
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
    return atomic_load_explicit (&((ef_metrics_t *)self)->v[m],
                                 memory_order_relaxed);
}

void
ef_metrics_latency (ef_metrics_t *self, uint64_t ms)
{
    uint32_t i = 0;
    while (i < EF_M_LATENCY_BUCKETS && ms > ef_metrics_latency_le_ms[i])
        i++;
    atomic_fetch_add_explicit (&self->latency[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit (&self->latency_sum, ms, memory_order_relaxed);
}

void
ef_metrics_latency_get (const ef_metrics_t *self,
                        uint64_t buckets[EF_M_LATENCY_BUCKETS + 1],
                        uint64_t *count, uint64_t *sum_ms)
{
    ef_metrics_t *m = (ef_metrics_t *)self;
    uint64_t total = 0;
    for (uint32_t i = 0; i <= EF_M_LATENCY_BUCKETS; i++) {
        total += atomic_load_explicit (&m->latency[i], memory_order_relaxed);
        buckets[i] = total;
    }
    *count = total;
    *sum_ms = atomic_load_explicit (&m->latency_sum, memory_order_relaxed);
}
