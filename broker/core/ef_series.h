/*  ef_series.h: the broker's per-second figures over the last hour, kept
    in memory so that a dashboard needs no Prometheus. Each series is a
    ring of one-second slots: events ingested, rejected and duplicate in
    that second, the processing latency p50/p99 of the events finished in
    it, and three gauges sampled each second (DLQ size, worst consumer
    lag, workers attached).
    Series are kept per org (its totals) and per stream of that org; a
    caller reads only its own org's. Memory is bounded: at most
    max_series series at once (org totals and streams together); a series
    idle for a whole window gives its place up; a stream that finds no
    place counts in its org's totals only.
    Time is passed in (now, in seconds), never read here.
    Thread-safety: every call takes the module's own lock. */
#ifndef EF_SERIES_H
#define EF_SERIES_H

#include <stddef.h>
#include <stdint.h>

typedef struct ef_series ef_series_t;

typedef enum {
    EF_SERIES_INGESTED = 0, /* events stored */
    EF_SERIES_REJECTED,     /* events refused */
    EF_SERIES_DUPLICATES,   /* events answered as duplicates */
    EF_SERIES_COUNTERS
} ef_series_counter_t;

typedef enum {
    EF_SERIES_DLQ = 0, /* events in the dead-letter queue */
    EF_SERIES_LAG,     /* the worst consumer group's lag */
    EF_SERIES_WORKERS, /* workers attached */
    EF_SERIES_GAUGES
} ef_series_gauge_t;

/*  One second of one series. */
typedef struct {
    uint32_t count[EF_SERIES_COUNTERS];
    uint32_t p50_ms, p99_ms; /* 0 when no event finished that second */
    uint32_t gauge[EF_SERIES_GAUGES];
} ef_series_point_t;

#define EF_SERIES_MAX_SECONDS 3600
#define EF_SERIES_MAX_NAME    255

/*  A window of seconds (1..EF_SERIES_MAX_SECONDS) and a cap on series;
    NULL if out of memory. */
ef_series_t *ef_series_new (uint32_t seconds, uint32_t max_series);
void ef_series_destroy (ef_series_t **self_p);

/*  Add n[c] to every counter c at second now, in org's totals and in the
    stream's series (stream may be NULL: totals only): one lock and one
    look-up of each series for all the counters. */
void ef_series_add (ef_series_t *self, uint64_t now, uint32_t org,
                    const char *stream, size_t stream_len,
                    const uint64_t n[EF_SERIES_COUNTERS]);
/*  Add n to counter c alone (ef_series_add with the others 0). */
void ef_series_count (ef_series_t *self, uint64_t now, uint32_t org,
                      const char *stream, size_t stream_len,
                      ef_series_counter_t c, uint64_t n);
/*  One processing latency, in ms, finished at second now. */
void ef_series_latency (ef_series_t *self, uint64_t now, uint32_t org,
                        const char *stream, size_t stream_len, uint64_t ms);
/*  Set gauge g at second now: in the stream's series if stream is not
    NULL (and the stream has one), else in org's totals. A gauge keeps its
    value in the following seconds until set again. */
void ef_series_gauge (ef_series_t *self, uint64_t now, uint32_t org,
                      const char *stream, size_t stream_len,
                      ef_series_gauge_t g, uint64_t value);

/*  The last n seconds (1..window) ending with second now, oldest first,
    into out[n]: org's totals when stream is NULL. 0, or -1 when no such
    series is kept (out is then all zeroes). */
int ef_series_read (ef_series_t *self, uint64_t now, uint32_t org,
                    const char *stream, size_t stream_len, uint32_t n,
                    ef_series_point_t *out);
/*  The names of org's streams with a series, each a NUL-terminated copy
    into names[i] (EF_SERIES_MAX_NAME + 1 bytes each), at most max; how
    many there are (may exceed max). */
uint32_t ef_series_streams (ef_series_t *self, uint64_t now, uint32_t org,
                            char (*names)[EF_SERIES_MAX_NAME + 1],
                            uint32_t max);
/*  Events counted in totals only because no series was free. */
uint64_t ef_series_overflow (ef_series_t *self);

#endif
