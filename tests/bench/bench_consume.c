/*  bench_consume: consumer-side figures (DESIGN.md §11), run on purpose
    by tests/bench/consume.sh against a running broker:
      replay   N stored events read back by one native consumer: READ pages,
               FETCH+COMMIT pages (each commit awaited; carried by the
               next fetch; sent without waiting, without a member and as
               a member), and a push subscription (events/s);
               the stream ("replay") is filled up to AFTER + N events of
               200 bytes when it holds fewer, and READ starts after AFTER
      latency  publish → delivery at RATE events/s for SECONDS, through a
               push subscription and through long-polling FETCH: p50, p99,
               p99.9 (ms)
    usage: bench_consume DATA_DIR ENDPOINT replay N [read|fetch|push|all
                                                     [STREAM [AFTER]]]
           bench_consume DATA_DIR ENDPOINT latency RATE SECONDS
           bench_consume DATA_DIR ENDPOINT parked N
      parked   publish rate with and without N long polls parked on
               another stream, and the time one event takes to answer
               them all */
#include "bench_util.h"
#include "eventflow/ef_client.h"
#include "eventflow/ef_consumer.h"
#include "eventflow/ef_time.h"

#include <malloc.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_dir, *s_endpoint;

static ef_client_t *
s_connect (void)
{
    return bench_connect (s_dir, s_endpoint, 30000);
}

/* ---------------------------------------------------------------- replay */

static int
s_count (void *arg, const ef_event_t *ev)
{
    (void)ev;
    (*(uint64_t *)arg)++;
    return 0;
}

static void
s_failed (void *arg, int status)
{
    *(uint64_t *)arg += status != 0;
}

static double
s_secs (uint64_t t0)
{
    return (ef_time_mono_ns () - t0) / 1e9;
}

/*  Does `only` (NULL: all) name this phase? */
static int
s_phase (const char *only, const char *phase)
{
    return !only || strcmp (only, phase) == 0;
}

static int
s_replay (uint64_t n, const char *only, const char *stream, uint64_t from)
{
    ef_client_t *c = s_connect ();
    if (!c)
        return 1;
    ef_client_create_stream (c, stream, NULL);
    /* a stream already holding them (an earlier run) is read again */
    ef_stream_info_t info;
    uint64_t have = 0;
    if (ef_client_get_stream (c, stream, &info) == 0)
        have = info.events;
    static char payload[201];
    memset (payload, 'x', 200);
    payload[0] = '"', payload[199] = '"';
    ef_event_in_t evs[1000];
    for (int i = 0; i < 1000; i++) {
        memset (&evs[i], 0, sizeof evs[i]);
        evs[i].type = ef_str ("replay");
        evs[i].payload = ef_str (payload);
    }
    for (uint64_t sent = have; sent < from + n; sent += 1000)
        if (ef_client_publish_async (c, stream, evs, 1000, NULL, NULL))
            return 1;
    ef_client_flush (c, 600000);
    /* the bytes of a page of 1000 as libeventflow asks for them (slim):
       consume.sh sends frames of that size through bare ZeroMQ */
    ef_request_t page = {.cmd = EF_CMD_READ};
    const ef_reply_t *rep;
    page.stream = ef_str ("replay");
    page.limit = 1000;
    page.slim = 1;
    if (ef_client_call (c, &page, &rep) == 0)
        printf ("replay_page_bytes=%zu events=1000\n",
                (size_t)(rep->body.end - rep->body.p) + 1);

    /* READ pages of 10000 */
    uint64_t got = 0, after = from, head = 0, t0 = ef_time_mono_ns ();
    if (s_phase (only, "read")) {
        do {
            if (ef_client_read (c, stream, after, 10000, s_count, &got, &after,
                                &head))
                return 1;
        } while (after < head && got < n);
        printf ("replay_read_events_per_s=%.0f events=%llu\n",
                got / s_secs (t0), (unsigned long long)got);
    }

    /* FETCH + COMMIT pages of 1000 (the group protocol) */
    char next[40];
    got = 0;
    t0 = ef_time_mono_ns ();
    if (s_phase (only, "fetch")) {
        while (got < n) {
            uint64_t before = got;
            if (ef_client_fetch (c, stream, "bench", NULL, 1000, 0, s_count,
                                 &got, next) ||
                got == before ||
                ef_client_commit (c, stream, "bench", NULL, next, NULL))
                break;
        }
        printf ("replay_fetch_commit_events_per_s=%.0f events=%llu\n",
                got / s_secs (t0), (unsigned long long)got);
        /* the same with each page's commit carried by the next fetch, in
           another group */
        got = 0;
        next[0] = 0;
        t0 = ef_time_mono_ns ();
        while (got < n) {
            uint64_t before = got;
            if (ef_client_commit_fetch (c, stream, "bench1", NULL,
                                        next[0] ? next : NULL, 1000, 0, s_count,
                                        &got, next) ||
                got == before)
                break;
        }
        printf ("replay_fetch_with_commit_events_per_s=%.0f events=%llu\n",
                got / s_secs (t0), (unsigned long long)got);
        /* each page's COMMIT sent without waiting for its answer (its
           sync), the next FETCH right behind it: without a member, then
           as a member holding leases; other groups */
        const char *member[2] = {NULL, "m1"};
        const char *label[2] = {"replay_fetch_commit_async",
                                "replay_member_fetch_commit_async"};
        for (int m = 0; m < 2; m++) {
            uint64_t failed = 0;
            got = 0;
            t0 = ef_time_mono_ns ();
            while (got < n) {
                uint64_t before = got;
                if (ef_client_fetch (c, stream, m ? "bench3" : "bench2",
                                     member[m], 1000, 0, s_count, &got, next) ||
                    got == before ||
                    ef_client_commit_async (c, stream, m ? "bench3" : "bench2",
                                            member[m], next, s_failed, &failed))
                    break;
            }
            ef_client_flush (c, 60000);
            printf ("%s_events_per_s=%.0f events=%llu failed_commits=%llu\n",
                    label[m], got / s_secs (t0), (unsigned long long)got,
                    (unsigned long long)failed);
        }
    }
    if (!s_phase (only, "push")) {
        ef_client_destroy (&c);
        return 0;
    }

    /* push with credit */
    ef_consumer_t *k = ef_consumer_new (c, stream, "push");
    got = 0;
    t0 = ef_time_mono_ns ();
    ef_consumer_start (k, 20000);
    while (got < n) {
        int rc = ef_consumer_poll (k, 1000, s_count, &got);
        if (rc <= 0)
            break;
    }
    printf ("replay_push_events_per_s=%.0f events=%llu\n", got / s_secs (t0),
            (unsigned long long)got);
    ef_consumer_destroy (&k);
    ef_client_destroy (&c);
    return 0;
}

/* ---------------------------------------------------------------- latency */

typedef struct {
    uint64_t *lat; /* ns */
    uint64_t n, cap;
} s_lat_t;

static int
s_record (void *arg, const ef_event_t *ev)
{
    s_lat_t *l = arg;
    uint64_t sent = strtoull (ev->payload.ptr, NULL, 10);
    if (l->n < l->cap && sent)
        l->lat[l->n++] = ef_time_mono_ns () - sent;
    return 0;
}

static int
s_cmp (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void
s_report (const char *what, s_lat_t *l)
{
    qsort (l->lat, l->n, sizeof *l->lat, s_cmp);
    if (!l->n) {
        printf ("%s: nothing delivered\n", what);
        return;
    }
    printf ("%s_p50_ms=%.3f %s_p99_ms=%.3f %s_p999_ms=%.3f delivered=%llu\n",
            what, l->lat[l->n / 2] / 1e6, what, l->lat[l->n * 99 / 100] / 1e6,
            what, l->lat[l->n * 999 / 1000] / 1e6, (unsigned long long)l->n);
}

typedef struct {
    const char *stream;
    uint64_t rate, seconds;
} s_prod_t;

/*  The producer thread: one event a request at rate/s, each carrying
    its send time. */
static void *
s_produce (void *arg)
{
    s_prod_t *p = arg;
    ef_client_t *c = s_connect ();
    if (!c)
        return NULL;
    bench_publish_paced (c, p->stream, "lat", p->rate, p->rate * p->seconds);
    ef_client_destroy (&c);
    return NULL;
}

static int
s_latency (uint64_t rate, uint64_t seconds)
{
    ef_client_t *c = s_connect ();
    if (!c)
        return 1;
    uint64_t total = rate * seconds;
    s_lat_t l = {calloc (total + 1, sizeof (uint64_t)), 0, total};
    pthread_t t;

    /* push */
    ef_client_create_stream (c, "lat-push", NULL);
    ef_consumer_t *k = ef_consumer_new (c, "lat-push", "bench");
    ef_consumer_start (k, 10000);
    s_prod_t p = {"lat-push", rate, seconds};
    pthread_create (&t, NULL, s_produce, &p);
    int64_t end = ef_time_mono_ms () + (int64_t)seconds * 1000 + 5000;
    while (l.n < total && ef_time_mono_ms () < end)
        ef_consumer_poll (k, 100, s_record, &l);
    pthread_join (t, NULL);
    s_report ("push", &l);
    ef_consumer_destroy (&k);

    /* long-polling FETCH, each carrying the commit of the page before */
    l.n = 0;
    ef_client_create_stream (c, "lat-poll", NULL);
    p.stream = "lat-poll";
    pthread_create (&t, NULL, s_produce, &p);
    end = ef_time_mono_ms () + (int64_t)seconds * 1000 + 5000;
    char next[40] = "", done[40] = "";
    while (l.n < total && ef_time_mono_ms () < end) {
        /* commit what the last fetch gave, if anything new */
        const char *commit = next[0] && strcmp (next, done) ? next : NULL;
        if (commit)
            memcpy (done, next, sizeof done);
        if (ef_client_commit_fetch (c, "lat-poll", "bench", NULL, commit, 1000,
                                    1000, s_record, &l, next))
            break;
    }
    pthread_join (t, NULL);
    s_report ("longpoll", &l);
    free (l.lat);
    ef_client_destroy (&c);
    return 0;
}

/* ---------------------------------------------------------------- parked */

/*  Publish n single-event requests, pipelined, on stream; events/s. */
static double
s_publish_rate (ef_client_t *c, const char *stream, uint64_t n)
{
    ef_event_in_t ev = {0};
    ev.type = ef_str ("p");
    ev.payload = ef_str ("{\"n\":1}");
    uint64_t t0 = ef_time_mono_ns ();
    for (uint64_t i = 0; i < n; i++)
        if (ef_client_publish_async (c, stream, &ev, 1, NULL, NULL))
            return 0;
    ef_client_flush (c, 60000);
    return n / s_secs (t0);
}

/*  What parked long polls cost others: publish rate on one stream, then
    the same with `parked` FETCHes (60 s timeout, distinct groups) waiting
    on another stream, then a publish to that stream wakes them all. */
static int
s_parked (uint64_t parked)
{
    ef_client_t *c = s_connect (), *w = s_connect ();
    if (!c || !w)
        return 1;
    ef_client_create_stream (c, "busy", NULL);
    ef_client_create_stream (c, "idle", NULL);
    ef_client_set_max_inflight (c, 10000);
    ef_client_set_max_inflight (w, (uint32_t)parked + 100);
    ef_client_set_timeout (w, 120000);
    printf ("publish_events_per_s_0_parked=%.0f\n",
            s_publish_rate (c, "busy", 200000));
    char group[32];
    for (uint64_t i = 0; i < parked; i++) {
        ef_request_t req = {0};
        snprintf (group, sizeof group, "g%llu", (unsigned long long)i);
        req.cmd = EF_CMD_FETCH;
        req.stream = ef_str ("idle");
        req.group = ef_str (group);
        req.limit = 10;
        req.timeout = 60000;
        if (ef_client_send (w, &req))
            return 1;
    }
    ef_client_poll (w, 1000); /* all of them in and parked */
    printf ("publish_events_per_s_%llu_parked=%.0f\n",
            (unsigned long long)parked, s_publish_rate (c, "busy", 200000));
    /* one event on their stream answers every one of them */
    uint64_t t0 = ef_time_mono_ns ();
    s_publish_rate (c, "idle", 1);
    while (ef_client_inflight (w) && s_secs (t0) < 30)
        ef_client_poll (w, 100);
    printf ("wake_%llu_parked_s=%.3f unanswered=%u\n",
            (unsigned long long)parked, s_secs (t0), ef_client_inflight (w));
    ef_client_destroy (&w);
    ef_client_destroy (&c);
    return 0;
}

int
main (int argc, char **argv)
{
    if (argc < 5) {
        fprintf (stderr, "usage: bench_consume DATA_DIR ENDPOINT replay N "
                         "[read|fetch|push|all [STREAM [AFTER]]]\n"
                         "       bench_consume DATA_DIR ENDPOINT latency RATE "
                         "SECONDS\n");
        return 2;
    }
    /* as a consumer of large pages would: keep the frames ZeroMQ
       allocates for them in the heap (see the broker's main) */
    mallopt (M_MMAP_THRESHOLD, 32 << 20);
    mallopt (M_TRIM_THRESHOLD, 256 << 20);
    s_dir = argv[1];
    s_endpoint = argv[2];
    if (!strcmp (argv[3], "replay"))
        return s_replay (strtoull (argv[4], NULL, 10),
                         argc > 5 && strcmp (argv[5], "all") ? argv[5] : NULL,
                         argc > 6 ? argv[6] : "replay",
                         argc > 7 ? strtoull (argv[7], NULL, 10) : 0);
    if (!strcmp (argv[3], "parked"))
        return s_parked (strtoull (argv[4], NULL, 10));
    if (!strcmp (argv[3], "latency") && argc > 5)
        return s_latency (strtoull (argv[4], NULL, 10),
                          strtoull (argv[5], NULL, 10));
    return 2;
}
