/*  ef_series.c: per-second rings per org and per stream (see
    ef_series.h). A series holds the slots of the window ending with its
    newest second (last); the latency of that second is kept as a
    histogram over the bounds of ef_metrics and turned into p50/p99 when
    the series moves on to a later second. Series live in one array of
    max_series places, found by a linear scan (the cap keeps it short). */
#include "ef_series.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ef_metrics.h"

#define S_HIST (EF_M_LATENCY_BUCKETS + 1)

typedef struct {
    int used;
    int total; /* org's totals, not a stream */
    uint32_t org;
    uint32_t name_len;
    char name[EF_SERIES_MAX_NAME + 1];
    uint64_t last;    /* the newest second held */
    uint64_t touched; /* the last second with traffic */
    uint32_t hist[S_HIST];
    uint32_t max_ms;
    uint32_t gauge[EF_SERIES_GAUGES]; /* carried into new seconds */
    ef_series_point_t *ring;
} s_series_t;

struct ef_series {
    pthread_mutex_t lock;
    uint32_t window;
    uint32_t max;
    s_series_t *all;
    uint64_t overflow;
};

ef_series_t *
ef_series_new (uint32_t seconds, uint32_t max_series)
{
    if (seconds == 0 || seconds > EF_SERIES_MAX_SECONDS)
        seconds = EF_SERIES_MAX_SECONDS;
    if (max_series < 2)
        max_series = 2;
    ef_series_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->all = calloc (max_series, sizeof *self->all);
    if (!self->all) {
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    self->window = seconds;
    self->max = max_series;
    return self;
}

void
ef_series_destroy (ef_series_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_series_t *self = *self_p;
    for (uint32_t i = 0; i < self->max; i++)
        free (self->all[i].ring);
    free (self->all);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

/*  The q-th per-mille latency of a histogram: the upper bound of the
    bucket holding that rank, never above the largest seen. */
static uint32_t
s_quantile (const s_series_t *s, uint32_t permille)
{
    uint64_t n = 0;
    for (int i = 0; i < S_HIST; i++)
        n += s->hist[i];
    if (n == 0)
        return 0;
    uint64_t rank = (n * permille + 999) / 1000, seen = 0;
    if (rank == 0)
        rank = 1;
    for (int i = 0; i < S_HIST; i++) {
        seen += s->hist[i];
        if (seen >= rank) {
            uint32_t bound = i < EF_M_LATENCY_BUCKETS
                                 ? ef_metrics_latency_le_ms[i]
                                 : s->max_ms;
            return bound < s->max_ms ? bound : s->max_ms;
        }
    }
    return s->max_ms;
}

static ef_series_point_t *
s_slot (ef_series_t *self, s_series_t *s, uint64_t t)
{
    return &s->ring[t % self->window];
}

/*  Move s on to second now: the newest second's latency is settled and
    the seconds between start empty, with the gauges carried over. A
    second earlier than the newest counts in the newest. */
static void
s_advance (ef_series_t *self, s_series_t *s, uint64_t now)
{
    if (now <= s->last)
        return;
    ef_series_point_t *p = s_slot (self, s, s->last);
    p->p50_ms = s_quantile (s, 500);
    p->p99_ms = s_quantile (s, 990);
    memset (s->hist, 0, sizeof s->hist);
    s->max_ms = 0;
    uint64_t from = s->last + 1;
    if (now - s->last > self->window)
        from = now - self->window + 1;
    for (uint64_t t = from; t <= now; t++) {
        p = s_slot (self, s, t);
        memset (p, 0, sizeof *p);
        memcpy (p->gauge, s->gauge, sizeof s->gauge);
    }
    s->last = now;
}

static s_series_t *
s_find (ef_series_t *self, uint32_t org, const char *name, size_t len)
{
    int total = name == NULL;
    for (uint32_t i = 0; i < self->max; i++) {
        s_series_t *s = &self->all[i];
        if (s->used && s->org == org && s->total == total &&
            (total || (s->name_len == len && memcmp (s->name, name, len) == 0)))
            return s;
    }
    return NULL;
}

/*  The series of (org, name), made if missing and a place is free (never
    used, or idle for a whole window); NULL if none. */
static s_series_t *
s_get (ef_series_t *self, uint64_t now, uint32_t org, const char *name,
       size_t len)
{
    if (name && (len == 0 || len > EF_SERIES_MAX_NAME))
        return NULL;
    s_series_t *s = s_find (self, org, name, len);
    if (s)
        return s;
    for (uint32_t i = 0; i < self->max && !s; i++) {
        s_series_t *c = &self->all[i];
        if (!c->used || c->touched + self->window <= now)
            s = c;
    }
    if (!s)
        return NULL;
    ef_series_point_t *ring = s->ring;
    if (!ring && !(ring = malloc (self->window * sizeof *ring)))
        return NULL;
    memset (ring, 0, self->window * sizeof *ring);
    memset (s, 0, sizeof *s);
    s->ring = ring;
    s->used = 1;
    s->total = name == NULL;
    s->org = org;
    if (name) {
        memcpy (s->name, name, len);
        s->name_len = (uint32_t)len;
    }
    s->last = now;
    s->touched = now;
    return s;
}

static uint32_t
s_add32 (uint32_t a, uint64_t b)
{
    return b >= UINT32_MAX - a ? UINT32_MAX : a + (uint32_t)b;
}

static void
s_add_all (ef_series_t *self, s_series_t *s, uint64_t now,
           const uint64_t n[EF_SERIES_COUNTERS])
{
    s_advance (self, s, now);
    ef_series_point_t *p = s_slot (self, s, s->last);
    for (int c = 0; c < EF_SERIES_COUNTERS; c++)
        p->count[c] = s_add32 (p->count[c], n[c]);
    if (now > s->touched)
        s->touched = now;
}

void
ef_series_add (ef_series_t *self, uint64_t now, uint32_t org,
               const char *stream, size_t stream_len,
               const uint64_t n[EF_SERIES_COUNTERS])
{
    uint64_t sum = 0;
    for (int c = 0; c < EF_SERIES_COUNTERS; c++)
        sum += n[c];
    if (!self || sum == 0)
        return;
    pthread_mutex_lock (&self->lock);
    s_series_t *t = s_get (self, now, org, NULL, 0);
    if (t)
        s_add_all (self, t, now, n);
    s_series_t *s = stream ? s_get (self, now, org, stream, stream_len) : NULL;
    if (s)
        s_add_all (self, s, now, n);
    if (!t || (stream && !s))
        self->overflow += sum;
    pthread_mutex_unlock (&self->lock);
}

void
ef_series_count (ef_series_t *self, uint64_t now, uint32_t org,
                 const char *stream, size_t stream_len, ef_series_counter_t c,
                 uint64_t n)
{
    uint64_t all[EF_SERIES_COUNTERS] = {0};
    if (c >= EF_SERIES_COUNTERS)
        return;
    all[c] = n;
    ef_series_add (self, now, org, stream, stream_len, all);
}

static void
s_latency_one (ef_series_t *self, s_series_t *s, uint64_t now, uint64_t ms)
{
    s_advance (self, s, now);
    int i = 0;
    while (i < EF_M_LATENCY_BUCKETS && ms > ef_metrics_latency_le_ms[i])
        i++;
    s->hist[i] = s_add32 (s->hist[i], 1);
    uint32_t ms32 = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
    if (ms32 > s->max_ms)
        s->max_ms = ms32;
    if (now > s->touched)
        s->touched = now;
}

void
ef_series_latency (ef_series_t *self, uint64_t now, uint32_t org,
                   const char *stream, size_t stream_len, uint64_t ms)
{
    if (!self)
        return;
    pthread_mutex_lock (&self->lock);
    s_series_t *t = s_get (self, now, org, NULL, 0);
    if (t)
        s_latency_one (self, t, now, ms);
    s_series_t *s = stream ? s_get (self, now, org, stream, stream_len) : NULL;
    if (s)
        s_latency_one (self, s, now, ms);
    pthread_mutex_unlock (&self->lock);
}

void
ef_series_gauge (ef_series_t *self, uint64_t now, uint32_t org,
                 const char *stream, size_t stream_len, ef_series_gauge_t g,
                 uint64_t value)
{
    if (!self || g >= EF_SERIES_GAUGES)
        return;
    pthread_mutex_lock (&self->lock);
    /* a gauge alone makes no series: only traffic does */
    s_series_t *s = stream && stream_len
                        ? s_find (self, org, stream, stream_len)
                        : s_find (self, org, NULL, 0);
    if (s) {
        s_advance (self, s, now);
        s->gauge[g] = value > UINT32_MAX ? UINT32_MAX : (uint32_t)value;
        s_slot (self, s, s->last)->gauge[g] = s->gauge[g];
    }
    pthread_mutex_unlock (&self->lock);
}

int
ef_series_read (ef_series_t *self, uint64_t now, uint32_t org,
                const char *stream, size_t stream_len, uint32_t n,
                ef_series_point_t *out)
{
    if (!self || n == 0)
        return -1;
    if (n > self->window)
        n = self->window;
    memset (out, 0, n * sizeof *out);
    pthread_mutex_lock (&self->lock);
    s_series_t *s = s_find (self, org, stream, stream ? stream_len : 0);
    if (!s || s->touched + self->window <= now) {
        pthread_mutex_unlock (&self->lock);
        return -1;
    }
    s_advance (self, s, now);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t t = now - (n - 1 - i);
        if (t > now || now - t >= self->window)
            continue; /* before second 0 */
        out[i] = *s_slot (self, s, t);
        if (t == s->last) {
            out[i].p50_ms = s_quantile (s, 500);
            out[i].p99_ms = s_quantile (s, 990);
        }
    }
    pthread_mutex_unlock (&self->lock);
    return 0;
}

uint32_t
ef_series_streams (ef_series_t *self, uint64_t now, uint32_t org,
                   char (*names)[EF_SERIES_MAX_NAME + 1], uint32_t max)
{
    uint32_t n = 0;
    if (!self)
        return 0;
    pthread_mutex_lock (&self->lock);
    for (uint32_t i = 0; i < self->max; i++) {
        const s_series_t *s = &self->all[i];
        if (!s->used || s->total || s->org != org ||
            s->touched + self->window <= now)
            continue;
        if (n < max) {
            memcpy (names[n], s->name, s->name_len);
            names[n][s->name_len] = '\0';
        }
        n++;
    }
    pthread_mutex_unlock (&self->lock);
    return n;
}

uint64_t
ef_series_overflow (ef_series_t *self)
{
    pthread_mutex_lock (&self->lock);
    uint64_t n = self->overflow;
    pthread_mutex_unlock (&self->lock);
    return n;
}
