/*  bench_process: processing figures (issue: pipelines and workers), run
    on purpose by tests/bench/process.sh against a running broker:
      jobs      N events through a one-step worker pipeline with a no-op
                handler, on W worker threads (each its own connection,
                capacity 32): jobs/s from the first publish to the last
                answer the broker recorded
      validate  N events published (batches of 1000) to a stream without a
                schema and to one with a realistic order schema: events/s
                each, and the cost per event in microseconds
      latency   events published one at a time at RATE/s for SECONDS
                through the same pipeline on W workers: the time from
                the publish to the handler's call, p50 and p99 (ms)
    usage: bench_process DATA_DIR ENDPOINT jobs N W
           bench_process DATA_DIR ENDPOINT validate N
           bench_process DATA_DIR ENDPOINT latency RATE SECONDS W */
#include "bench_util.h"
#include "eventflow/ef_client.h"
#include "eventflow/ef_time.h"
#include "eventflow/ef_worker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *s_dir, *s_endpoint;

static ef_client_t *
s_connect (void)
{
    return bench_connect (s_dir, s_endpoint, 60000);
}

static double
s_secs (uint64_t t0)
{
    return (ef_time_mono_ns () - t0) / 1e9;
}

static int
s_create (ef_client_t *c, const char *name, const char *schema,
          const char *pipeline)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_CREATE_STREAM;
    req.name = ef_str (name);
    req.schema = ef_str (schema);
    req.pipeline = ef_str (pipeline);
    int rc = ef_client_call (c, &req, &rep);
    if (rc)
        fprintf (stderr, "create %s: %s\n", name, ef_client_error (c));
    return rc;
}

/*  Publish n copies of payload in batches of 1000, pipelined. */
static int
s_publish (ef_client_t *c, const char *stream, const char *payload, uint64_t n)
{
    static ef_event_in_t evs[1000];
    for (int i = 0; i < 1000; i++) {
        memset (&evs[i], 0, sizeof evs[i]);
        evs[i].type = ef_str ("bench.process");
        evs[i].payload = ef_str (payload);
    }
    for (uint64_t sent = 0; sent < n; sent += 1000) {
        uint32_t k = n - sent < 1000 ? (uint32_t)(n - sent) : 1000;
        if (ef_client_publish_async (c, stream, evs, k, NULL, NULL))
            return 1;
    }
    return ef_client_flush (c, 600000) ? 1 : 0;
}

/* ------------------------------------------------------------------ jobs */

static atomic_uint_fast64_t s_handled;
static atomic_int s_stop;
static char s_service[64];
static ef_job_fn *s_handler;

static void
s_noop (void *arg, const ef_job_t *job, ef_job_outcome_t *out)
{
    (void)arg, (void)job, (void)out;
    atomic_fetch_add (&s_handled, 1);
}

static void *
s_worker (void *arg)
{
    (void)arg;
    ef_client_t *c = s_connect ();
    ef_worker_t *w = c ? ef_worker_new (c, s_service, 32) : NULL;
    if (!w || ef_worker_start (w)) {
        fprintf (stderr, "worker: cannot attach\n");
        exit (1);
    }
    while (!atomic_load (&s_stop))
        ef_worker_poll (w, 50, s_handler ? s_handler : s_noop, NULL);
    ef_client_flush (c, 5000);
    ef_worker_destroy (&w);
    ef_client_destroy (&c);
    return NULL;
}

/*  The status of the stream's last event. */
static int
s_last (void *arg, const ef_event_t *ev)
{
    snprintf (arg, 16, "%.*s", (int)ev->status.len, ev->status.ptr);
    return 0;
}

/*  Create stream `name` with a one-step pipeline to s_service, and nw
    workers attached to it (threads in th). */
static int
s_pipeline (ef_client_t *c, const char *name, int nw, pthread_t *th)
{
    char pipeline[256];
    snprintf (pipeline, sizeof pipeline,
              "[{\"type\":\"worker\",\"service\":\"%s\",\"max_attempts\":1}]",
              s_service);
    if (s_create (c, name, NULL, pipeline))
        return 1;
    for (int i = 0; i < nw; i++)
        pthread_create (&th[i], NULL, s_worker, NULL);
    usleep (300 * 1000); /* attached */
    return 0;
}

static int
s_jobs (uint64_t n, int nw)
{
    ef_client_t *c = s_connect ();
    if (!c)
        return 1;
    char stream[64];
    snprintf (s_service, sizeof s_service, "noop-%d", nw);
    snprintf (stream, sizeof stream, "jobs-%d", nw);
    pthread_t th[64];
    if (s_pipeline (c, stream, nw, th))
        return 1;
    uint64_t t0 = ef_time_mono_ns ();
    if (s_publish (c, stream, "{\"order\":1,\"amount\":12.5}", n))
        return 1;
    double pub = s_secs (t0);
    while (atomic_load (&s_handled) < n && s_secs (t0) < 600)
        usleep (1000);
    /* the answers are in: wait for the broker to have recorded the last */
    char status[16] = "";
    do {
        ef_client_read (c, stream, n - 1, 1, s_last, status, NULL, NULL);
        if (strcmp (status, "PROCESSED") != 0)
            usleep (1000);
    } while (strcmp (status, "PROCESSED") != 0 && s_secs (t0) < 600);
    double secs = s_secs (t0);
    atomic_store (&s_stop, 1);
    for (int i = 0; i < nw; i++)
        pthread_join (th[i], NULL);
    printf ("jobs     %d worker%s   %8.0f jobs/s  (%llu jobs in %.2f s; "
            "publish took %.2f s)\n",
            nw, nw == 1 ? " " : "s", n / secs, (unsigned long long)n, secs,
            pub);
    ef_client_destroy (&c);
    return 0;
}

/* --------------------------------------------------------------- latency */

static pthread_mutex_t s_lat_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t *s_lat, s_nlat, s_caplat;

/*  The job's payload is its event's publish time (monotonic ns). */
static void
s_timed (void *arg, const ef_job_t *job, ef_job_outcome_t *out)
{
    (void)arg, (void)out;
    uint64_t now = ef_time_mono_ns ();
    uint64_t sent = strtoull (job->payload.ptr, NULL, 10);
    pthread_mutex_lock (&s_lat_lock);
    if (sent && sent <= now && s_nlat < s_caplat)
        s_lat[s_nlat++] = now - sent;
    pthread_mutex_unlock (&s_lat_lock);
    atomic_fetch_add (&s_handled, 1);
}

static int
s_cmp (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int
s_latency (uint64_t rate, uint64_t seconds, int nw)
{
    ef_client_t *c = s_connect ();
    if (!c || !rate)
        return 1;
    char stream[64];
    snprintf (s_service, sizeof s_service, "timed-%d", nw);
    snprintf (stream, sizeof stream, "latency-%d", nw);
    s_handler = s_timed;
    uint64_t total = rate * seconds;
    s_caplat = total;
    s_lat = calloc (total + 1, sizeof *s_lat);
    pthread_t th[64];
    if (!s_lat || s_pipeline (c, stream, nw, th))
        return 1;
    uint64_t t0 = ef_time_mono_ns ();
    if (bench_publish_paced (c, stream, "bench.latency", rate, total))
        return 1;
    while (atomic_load (&s_handled) < total && s_secs (t0) < seconds + 30.0)
        usleep (1000);
    atomic_store (&s_stop, 1);
    for (int i = 0; i < nw; i++)
        pthread_join (th[i], NULL);
    qsort (s_lat, s_nlat, sizeof *s_lat, s_cmp);
    if (!s_nlat) {
        printf ("job latency: nothing handled\n");
        return 1;
    }
    printf ("job_latency_%d_worker%s p50_ms=%.3f p99_ms=%.3f jobs=%llu "
            "rate=%llu\n",
            nw, nw == 1 ? "" : "s", s_lat[s_nlat / 2] / 1e6,
            s_lat[s_nlat * 99 / 100] / 1e6, (unsigned long long)s_nlat,
            (unsigned long long)rate);
    free (s_lat);
    ef_client_destroy (&c);
    return 0;
}

/* -------------------------------------------------------------- validate */

static const char s_order_schema[] =
    "{\"type\":\"object\",\"required\":[\"order_id\",\"customer\",\"items\","
    "\"total\",\"currency\"],\"additionalProperties\":false,"
    "\"properties\":{\"order_id\":{\"type\":\"string\",\"pattern\":"
    "\"^ord_[0-9a-z]{8}$\"},\"customer\":{\"type\":\"object\",\"required\":"
    "[\"id\",\"email\"],\"properties\":{\"id\":{\"type\":\"integer\","
    "\"minimum\":1},\"email\":{\"type\":\"string\",\"maxLength\":254}}},"
    "\"items\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":100,"
    "\"items\":{\"type\":\"object\",\"required\":[\"sku\",\"qty\",\"price\"],"
    "\"properties\":{\"sku\":{\"type\":\"string\",\"minLength\":1},"
    "\"qty\":{\"type\":\"integer\",\"minimum\":1},\"price\":{\"type\":"
    "\"number\",\"exclusiveMinimum\":0}}}},\"total\":{\"type\":\"number\","
    "\"minimum\":0},\"currency\":{\"enum\":[\"EUR\",\"USD\",\"GBP\"]}}}";

static const char s_order[] =
    "{\"order_id\":\"ord_7f3k9a2b\",\"customer\":{\"id\":4211,\"email\":"
    "\"ada@example.com\"},\"items\":[{\"sku\":\"BK-101\",\"qty\":2,\"price\":"
    "12.5},{\"sku\":\"PN-7\",\"qty\":1,\"price\":3.2}],\"total\":28.2,"
    "\"currency\":\"EUR\"}";

static int
s_validate (uint64_t n)
{
    ef_client_t *c = s_connect ();
    if (!c || s_create (c, "plain", NULL, NULL) ||
        s_create (c, "checked", s_order_schema, NULL))
        return 1;
    /* warm up both, then alternate twice to even out the noise */
    s_publish (c, "plain", s_order, 10000);
    s_publish (c, "checked", s_order, 10000);
    double t[2] = {0, 0};
    for (int round = 0; round < 2; round++)
        for (int k = 0; k < 2; k++) {
            uint64_t t0 = ef_time_mono_ns ();
            if (s_publish (c, k ? "checked" : "plain", s_order, n / 2))
                return 1;
            t[k] += s_secs (t0);
        }
    double plain = n / t[0], checked = n / t[1];
    printf ("validate without schema %8.0f events/s\n", plain);
    printf ("validate with schema    %8.0f events/s  (%.2f of without; "
            "%.2f us more per event, %zu-byte payload)\n",
            checked, checked / plain, (t[1] - t[0]) / n * 1e6,
            strlen (s_order));
    ef_client_destroy (&c);
    return 0;
}

int
main (int argc, char **argv)
{
    if (argc < 5) {
        fprintf (stderr, "usage: bench_process DATA_DIR ENDPOINT jobs N W\n"
                         "       bench_process DATA_DIR ENDPOINT validate N\n"
                         "       bench_process DATA_DIR ENDPOINT latency RATE "
                         "SECONDS W\n");
        return 2;
    }
    s_dir = argv[1];
    s_endpoint = argv[2];
    uint64_t n = strtoull (argv[4], NULL, 10);
    if (!strcmp (argv[3], "jobs") && argc > 5)
        return s_jobs (n, atoi (argv[5]));
    if (!strcmp (argv[3], "validate"))
        return s_validate (n);
    if (!strcmp (argv[3], "latency") && argc > 6)
        return s_latency (n, strtoull (argv[5], NULL, 10), atoi (argv[6]));
    return 2;
}
