/*  ef_metrics.h: the broker's counters, shared between the reactor and the
    writer thread (relaxed atomics: figures, not synchronisation). The
    names follow DESIGN.md §8 where they are exported. */
#ifndef EF_METRICS_H
#define EF_METRICS_H

#include <stdint.h>

typedef enum {
    EF_M_REQUESTS = 0,  /* requests received */
    EF_M_PUBLISHED,     /* events stored (eventflow_events_ingested_total) */
    EF_M_DUPLICATES,    /* eventflow_events_duplicate_total */
    EF_M_REJECTED,      /* events refused (eventflow_events_rejected_total) */
    EF_M_MALFORMED,     /* frames answered PROTO */
    EF_M_COMMITS,       /* write transactions committed */
    EF_M_COMMIT_ERRORS, /* write transactions that failed */
    EF_M_UNROUTABLE,    /* replies to peers that had gone */
    EF_M_RETRIES,       /* worker attempts scheduled again */
    EF_M_DEAD,          /* events sent to the dead-letter queue */
    EF_M_JOBS_DONE,     /* worker jobs answered done */
    EF_M_COUNT
} ef_metric_t;

typedef struct ef_metrics ef_metrics_t;

/*  The processing latency histogram (eventflow_processing_seconds): from
    an event's arrival to its pipeline's end, upper bounds in ms. */
#define EF_M_LATENCY_BUCKETS 11
extern const uint32_t ef_metrics_latency_le_ms[EF_M_LATENCY_BUCKETS];

ef_metrics_t *ef_metrics_new (void);
void ef_metrics_destroy (ef_metrics_t **self_p);
/*  Thread-safe. */
void ef_metrics_add (ef_metrics_t *self, ef_metric_t m, uint64_t n);
uint64_t ef_metrics_get (const ef_metrics_t *self, ef_metric_t m);
/*  Thread-safe: one processing latency. */
void ef_metrics_latency (ef_metrics_t *self, uint64_t ms);
/*  The histogram: cumulative counts per bucket (the last is +Inf), the
    count, the sum in ms. */
void ef_metrics_latency_get (const ef_metrics_t *self,
                             uint64_t buckets[EF_M_LATENCY_BUCKETS + 1],
                             uint64_t *count, uint64_t *sum_ms);

#endif
