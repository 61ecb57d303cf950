/*  cli_bench.c: `eventflow bench`, a load generator for the publish path.
    P producer threads each own an ef_client_t and publish their share of
    N events of exactly S bytes, in requests of B events with at most W
    requests in flight, recording each request's ack latency (monotonic
    ns from send to callback) in an array sized before the clock starts.
    The run prints one line for people and one key=value line for
    scripts. Everything a producer touches is its own until it is joined;
    nothing is allocated per event or per request while measuring. */
#include "cli.h"

#include "eventflow/ef_error.h"
#include "eventflow/ef_proto.h"
#include "eventflow/ef_time.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Bytes reserved in a request for everything but its events, and an
   upper bound of what an event adds besides its strings. */
#define S_REQUEST_OVERHEAD 1024u
#define S_EVENT_OVERHEAD   128u
/* Most producers and requests in flight the options accept. */
#define S_MAX_PRODUCERS 1024u
#define S_MAX_INFLIGHT  65536u

typedef struct s_producer s_producer_t;

/*  The run's settings, read-only once the producers start, and the gate
    that starts them together. */
typedef struct {
    const cli_t *cli;
    const char *stream;
    ef_str_t type;
    const char *payload;
    uint32_t size, batch, inflight, producers;
    uint64_t events;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint32_t ready; /* producers connected (or failed to) */
    int go;         /* 1: start; with cancel, give up */
    int cancel;
} s_bench_t;

/*  One request in flight. */
typedef struct {
    s_producer_t *owner;
    uint64_t t0; /* ns, when sent */
    uint32_t n;  /* events */
    uint32_t id; /* index in the owner's pool */
    int busy;    /* sent and not answered */
} s_req_t;

struct s_producer {
    s_bench_t *bench;
    pthread_t thread;
    ef_client_t *client;
    uint64_t events; /* this producer's share */
    uint64_t *lat;   /* ns per answered request, [nreq] */
    uint64_t nreq, nlat;
    ef_event_in_t *ev;  /* [batch], all alike */
    s_req_t *reqs;      /* [inflight] */
    uint32_t *free_ids; /* stack of free reqs */
    uint32_t nfree;
    uint64_t ok, errors;
    int first_error; /* code of the first failure, 0 if none */
    char why[256];   /* its text */
};

static void
s_usage (FILE *out)
{
    fputs ("Usage: eventflow bench [OPTIONS]\n"
           "\n"
           "Measure publish throughput and ack latency: P threads, each "
           "with its own\n"
           "connection, publish N events of S bytes in requests of B events "
           "with at\n"
           "most W requests in flight each. An ack is the broker's answer, "
           "sent after\n"
           "its commit: every counted event is stored.\n"
           "\n"
           "  --stream NAME     stream to publish to, created if missing "
           "(default bench)\n"
           "  --events N        events in all (default 100000)\n"
           "  --size S          payload bytes, exactly (default 200)\n"
           "  --producers P     threads, one connection each (default 8)\n"
           "  --batch B         events per request (default 100; 1 is "
           "unbatched)\n"
           "  --inflight W      requests in flight per producer (default "
           "16)\n"
           "  --type T          event type (default bench)\n"
           "\n"
           "Output: a line for people, then one for scripts:\n"
           "  events_per_s=... requests_per_s=... p50_ms=... p99_ms=... "
           "p999_ms=...\n"
           "  events=... producers=... batch=... size=... errors=...\n"
           "(one line; latencies are per request, from send to ack)\n"
           "\n",
           out);
    cli_usage_exit_codes (out);
    fputs ("  (status 1 here: at least one event failed)\n"
           "\n"
           "Examples:\n"
           "  eventflow bench\n"
           "  eventflow bench --events 1000000 --producers 8 --batch 100 "
           "--size 200\n"
           "  eventflow bench --batch 1 --inflight 1      # unbatched, one "
           "at a time\n"
           "  eventflow bench --stream bench2 | tail -n 1   # the machine "
           "line\n",
           out);
}

/* ------------------------------------------------------------ producer */

static void
s_note_error (s_producer_t *p, int code, const char *why)
{
    if (p->first_error)
        return;
    p->first_error = code;
    snprintf (p->why, sizeof p->why, "%s",
              why && *why ? why : ef_strerror (code));
}

static void
s_on_ack (void *arg, int status, const ef_publish_result_t *results, uint32_t n)
{
    s_req_t *req = arg;
    s_producer_t *p = req->owner;
    if (!req->busy)
        return; /* settled already (see s_produce) */
    req->busy = 0;
    p->lat[p->nlat++] = ef_time_mono_ns () - req->t0;
    if (status == 0 && n != req->n)
        status = EF_EPROTO;
    if (status) {
        /* The client's last error is this request's. */
        p->errors += req->n;
        s_note_error (p, status, ef_client_error (p->client));
    } else
        for (uint32_t i = 0; i < n; i++) {
            if (results[i].code == 0) {
                p->ok++;
                continue;
            }
            p->errors++;
            if (!p->first_error) {
                char why[256];
                snprintf (why, sizeof why, "%.*s", (int)results[i].message.len,
                          results[i].message.ptr ? results[i].message.ptr : "");
                s_note_error (p, results[i].code, why);
            }
        }
    p->free_ids[p->nfree++] = req->id;
}

/*  Wait for a free request slot. 0, or the error that ends the run. */
static int
s_wait_free (s_producer_t *p)
{
    int timeout_ms = p->bench->cli->timeout_ms;
    int64_t deadline = ef_time_mono_ms () + timeout_ms + 5000;
    while (p->nfree == 0) {
        int rc = ef_client_poll (p->client, 100);
        if (rc < 0 && rc != EF_ETIMEOUT)
            return rc;
        if (rc > 0)
            deadline = ef_time_mono_ms () + timeout_ms + 5000;
        else if (ef_time_mono_ms () > deadline)
            return EF_ETIMEOUT;
    }
    return 0;
}

static void
s_produce (s_producer_t *p)
{
    const s_bench_t *b = p->bench;
    uint64_t left = p->events;
    while (left > 0) {
        int rc = s_wait_free (p);
        /* Once the broker stops answering, further requests would only
           wait out their own timeouts. */
        if (!rc && cli_is_unavailable (p->first_error))
            rc = p->first_error;
        if (rc) {
            s_note_error (p, rc, ef_client_error (p->client));
            break;
        }
        uint32_t n = left < b->batch ? (uint32_t)left : b->batch;
        s_req_t *req = &p->reqs[p->free_ids[--p->nfree]];
        req->n = n;
        req->busy = 1;
        req->t0 = ef_time_mono_ns ();
        rc = ef_client_publish_async (p->client, b->stream, p->ev, n, s_on_ack,
                                      req);
        left -= n;
        if (rc && req->busy) {
            /* Not sent, and not called back: settled here. */
            req->busy = 0;
            p->errors += n;
            s_note_error (p, rc, ef_client_error (p->client));
            p->free_ids[p->nfree++] = req->id;
        }
    }
    p->errors += left; /* never sent */
    int rc = ef_client_flush (p->client, b->cli->timeout_ms + 5000);
    if (rc) {
        s_note_error (p, rc, ef_client_error (p->client));
        /* Requests without an answer failed, as far as we can tell. */
        for (uint32_t i = 0; i < b->inflight; i++)
            if (p->reqs[i].busy) {
                p->reqs[i].busy = 0;
                p->errors += p->reqs[i].n;
            }
    }
}

static void *
s_producer_main (void *arg)
{
    s_producer_t *p = arg;
    s_bench_t *b = p->bench;
    int rc = EF_ENOMEM;
    p->client = ef_client_new (b->cli->endpoint);
    if (p->client) {
        cli_configure (b->cli, p->client);
        ef_client_set_max_inflight (p->client, b->inflight);
        rc = ef_client_connect (p->client);
    }
    if (rc)
        s_note_error (
            p, rc, p->client ? ef_client_error (p->client) : ef_strerror (rc));
    /* Everyone starts together, connected or not, so that the clock
       measures publishing only. */
    pthread_mutex_lock (&b->lock);
    b->ready++;
    pthread_cond_broadcast (&b->cond);
    while (!b->go)
        pthread_cond_wait (&b->cond, &b->lock);
    int cancel = b->cancel;
    pthread_mutex_unlock (&b->lock);
    if (rc)
        p->errors = p->events;
    else if (!cancel)
        s_produce (p);
    ef_client_destroy (&p->client);
    return NULL;
}

/* ------------------------------------------------------------- set up */

static int
s_producer_setup (s_producer_t *p, s_bench_t *b, uint64_t events)
{
    p->bench = b;
    p->events = events;
    p->nreq = (events + b->batch - 1) / b->batch;
    p->lat = malloc ((p->nreq ? p->nreq : 1) * sizeof *p->lat);
    p->ev = calloc (b->batch, sizeof *p->ev);
    p->reqs = calloc (b->inflight, sizeof *p->reqs);
    p->free_ids = calloc (b->inflight, sizeof *p->free_ids);
    if (!p->lat || !p->ev || !p->reqs || !p->free_ids)
        return EF_ENOMEM;
    for (uint32_t i = 0; i < b->batch; i++) {
        p->ev[i].type = b->type;
        p->ev[i].payload = (ef_str_t){b->payload, b->size};
    }
    for (uint32_t i = 0; i < b->inflight; i++) {
        p->reqs[i].owner = p;
        p->reqs[i].id = i;
        p->free_ids[i] = b->inflight - 1 - i;
    }
    p->nfree = b->inflight;
    return 0;
}

static void
s_producer_teardown (s_producer_t *p)
{
    free (p->lat);
    free (p->ev);
    free (p->reqs);
    free (p->free_ids);
}

/*  A JSON payload of exactly size bytes: {"d":"xxx…"} from 8 bytes up,
    a number of size digits below that. */
static char *
s_payload (uint32_t size)
{
    char *p = malloc ((size_t)size + 1);
    if (!p)
        return NULL;
    if (size >= 8) {
        memcpy (p, "{\"d\":\"", 6);
        memset (p + 6, 'x', size - 8);
        memcpy (p + size - 2, "\"}", 2);
    } else
        memset (p, '1', size);
    p[size] = 0;
    return p;
}

/*  Create the stream unless it exists; also reads the broker's limits.
    0, or an exit code after printing the error. */
static int
s_prepare (const cli_t *cli, const char *stream, uint64_t *max_batch,
           uint64_t *max_payload, uint64_t *max_message)
{
    ef_client_t *client;
    int rc = cli_connect (cli, &client);
    if (rc)
        return rc;
    ef_stream_info_t info;
    int err = ef_client_create_stream (client, stream, &info);
    if (err && err != EF_EEXISTS)
        rc = cli_fail (client, err, "cannot create stream '%s'", stream);
    *max_batch = cli_max_batch (client);
    *max_payload = cli_max_payload (client);
    *max_message = cli_max_message (client);
    ef_client_destroy (&client);
    return rc;
}

static int
s_cmp_u64 (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/*  The q-quantile (nearest rank) of sorted v[n], in ms. */
static double
s_quantile_ms (const uint64_t *v, uint64_t n, double q)
{
    if (n == 0)
        return 0.0;
    uint64_t rank = (uint64_t)(q * (double)n + 0.999999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return (double)v[rank - 1] / 1e6;
}

/* ----------------------------------------------------------------- run */

/*  Parse the options into b; 0, CLI_HELP or CLI_EXIT_USAGE. */
static int
s_options (s_bench_t *b, int argc, char **argv)
{
    cli_opt_t opts[] = {{"stream", 0, 1, NULL}, {"events", 0, 1, NULL},
                        {"size", 0, 1, NULL},   {"producers", 0, 1, NULL},
                        {"batch", 0, 1, NULL},  {"inflight", 0, 1, NULL},
                        {"type", 0, 1, NULL},   {NULL, 0, 0, NULL}};
    const char *pos[1];
    int npos;
    int rc = cli_parse ("bench", opts, argc, argv, pos, 0, &npos);
    if (rc)
        return rc;
    const char *v;
    uint64_t x;
    b->stream = (v = cli_opt (opts, "stream")) ? v : "bench";
    b->type = ef_str ((v = cli_opt (opts, "type")) ? v : "bench");
    if (b->type.len < 1 || b->type.len > EF_MAX_TYPE)
        return cli_usage_error ("bench", "--type must be 1-%u bytes",
                                EF_MAX_TYPE);
    b->events = 100000;
    if ((v = cli_opt (opts, "events")) &&
        (rc = cli_parse_u64 ("bench", "--events", v, 1, UINT64_MAX / 2,
                             &b->events)))
        return rc;
    x = 200;
    if ((v = cli_opt (opts, "size")) &&
        (rc = cli_parse_u64 ("bench", "--size", v, 1, EF_MAX_PAYLOAD_DEFAULT,
                             &x)))
        return rc;
    b->size = (uint32_t)x;
    x = 8;
    if ((v = cli_opt (opts, "producers")) &&
        (rc =
             cli_parse_u64 ("bench", "--producers", v, 1, S_MAX_PRODUCERS, &x)))
        return rc;
    b->producers = (uint32_t)x;
    x = 100;
    if ((v = cli_opt (opts, "batch")) &&
        (rc = cli_parse_u64 ("bench", "--batch", v, 1, EF_MAX_BATCH_DEFAULT,
                             &x)))
        return rc;
    b->batch = (uint32_t)x;
    x = 16;
    if ((v = cli_opt (opts, "inflight")) &&
        (rc = cli_parse_u64 ("bench", "--inflight", v, 1, S_MAX_INFLIGHT, &x)))
        return rc;
    b->inflight = (uint32_t)x;
    return 0;
}

/*  Check the options against the broker's limits; 0 or CLI_EXIT_USAGE. */
static int
s_check_limits (const s_bench_t *b, uint64_t max_batch, uint64_t max_payload,
                uint64_t max_message)
{
    if (b->batch > max_batch)
        return cli_usage_error ("bench",
                                "--batch %" PRIu32 " is over the broker's "
                                "max_batch of %" PRIu64,
                                b->batch, max_batch);
    if (b->size > max_payload)
        return cli_usage_error ("bench",
                                "--size %" PRIu32 " is over the broker's "
                                "max_payload of %" PRIu64,
                                b->size, max_payload);
    uint64_t frame =
        (uint64_t)b->batch * (b->size + b->type.len + S_EVENT_OVERHEAD) +
        S_REQUEST_OVERHEAD;
    if (frame > max_message)
        return cli_usage_error ("bench",
                                "a request of %" PRIu32 " events of %" PRIu32
                                " bytes would be over the broker's "
                                "max_message of %" PRIu64
                                " bytes: lower --batch or --size",
                                b->batch, b->size, max_message);
    return 0;
}

static int
s_report (const s_bench_t *b, s_producer_t *ps, double secs)
{
    uint64_t ok = 0, errors = 0, nlat = 0;
    int first_error = 0;
    const char *why = NULL;
    for (uint32_t i = 0; i < b->producers; i++) {
        ok += ps[i].ok;
        errors += ps[i].errors;
        nlat += ps[i].nlat;
        if (!first_error && ps[i].first_error) {
            first_error = ps[i].first_error;
            why = ps[i].why;
        }
    }
    /* All latencies in one sorted array; after the clock stopped, so
       this allocation is not measured. */
    uint64_t *all = malloc ((nlat ? nlat : 1) * sizeof *all);
    double p50 = 0, p99 = 0, p999 = 0;
    if (all) {
        uint64_t k = 0;
        for (uint32_t i = 0; i < b->producers; i++) {
            memcpy (all + k, ps[i].lat, ps[i].nlat * sizeof *all);
            k += ps[i].nlat;
        }
        qsort (all, nlat, sizeof *all, s_cmp_u64);
        p50 = s_quantile_ms (all, nlat, 0.50);
        p99 = s_quantile_ms (all, nlat, 0.99);
        p999 = s_quantile_ms (all, nlat, 0.999);
        free (all);
    } else
        cli_error ("no memory to sort the latencies; they are shown as 0");
    double eps = secs > 0 ? (double)ok / secs : 0;
    double rps = secs > 0 ? (double)nlat / secs : 0;

    printf ("bench: %" PRIu64 " events of %" PRIu32 " bytes to '%s' by %" PRIu32
            " producers (batch %" PRIu32 ", %" PRIu32
            " in flight each) in %.3f s: %.0f events/s, %.0f requests/s; "
            "ack latency p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms; %" PRIu64
            " errors\n",
            b->events, b->size, b->stream, b->producers, b->batch, b->inflight,
            secs, eps, rps, p50, p99, p999, errors);
    printf ("events_per_s=%.0f requests_per_s=%.0f p50_ms=%.3f p99_ms=%.3f "
            "p999_ms=%.3f events=%" PRIu64 " producers=%" PRIu32
            " batch=%" PRIu32 " size=%" PRIu32 " errors=%" PRIu64 "\n",
            eps, rps, p50, p99, p999, b->events, b->producers, b->batch,
            b->size, errors);
    if (!errors)
        return CLI_EXIT_OK;
    cli_error ("%" PRIu64 " events failed; the first: %s (%s)", errors,
               why ? why : "unknown", ef_error_name (first_error));
    return cli_is_unavailable (first_error) ? CLI_EXIT_UNAVAILABLE
                                            : CLI_EXIT_REFUSED;
}

int
cli_bench_run (const cli_t *cli, int argc, char **argv)
{
    s_bench_t b = {.cli = cli,
                   .lock = PTHREAD_MUTEX_INITIALIZER,
                   .cond = PTHREAD_COND_INITIALIZER};
    int rc = s_options (&b, argc, argv);
    if (rc == CLI_HELP) {
        s_usage (stdout);
        return CLI_EXIT_OK;
    }
    if (rc)
        return rc;
    if (b.producers > b.events)
        b.producers = (uint32_t)b.events;
    uint64_t max_batch, max_payload, max_message;
    if ((rc =
             s_prepare (cli, b.stream, &max_batch, &max_payload, &max_message)))
        return rc;
    if ((rc = s_check_limits (&b, max_batch, max_payload, max_message)))
        return rc;

    char *payload = s_payload (b.size);
    s_producer_t *ps = calloc (b.producers, sizeof *ps);
    rc = payload && ps ? 0 : EF_ENOMEM;
    b.payload = payload;
    uint32_t set_up = 0;
    for (; rc == 0 && set_up < b.producers; set_up++) {
        uint64_t share =
            b.events / b.producers + (set_up < b.events % b.producers ? 1 : 0);
        rc = s_producer_setup (&ps[set_up], &b, share);
    }
    if (rc) {
        cli_error ("cannot prepare the run: %s", ef_strerror (rc));
        rc = CLI_EXIT_REFUSED;
        goto cleanup;
    }
    uint32_t started = 0;
    for (; started < b.producers; started++)
        if (pthread_create (&ps[started].thread, NULL, s_producer_main,
                            &ps[started]))
            break;
    pthread_mutex_lock (&b.lock);
    while (started == b.producers && b.ready < started)
        pthread_cond_wait (&b.cond, &b.lock);
    b.go = 1;
    b.cancel = started < b.producers;
    pthread_cond_broadcast (&b.cond);
    pthread_mutex_unlock (&b.lock);
    uint64_t t0 = ef_time_mono_ns ();
    for (uint32_t i = 0; i < started; i++)
        pthread_join (ps[i].thread, NULL);
    double secs = (double)(ef_time_mono_ns () - t0) / 1e9;
    if (b.cancel) {
        cli_error ("cannot start %" PRIu32 " producer threads", b.producers);
        rc = CLI_EXIT_REFUSED;
    } else
        rc = s_report (&b, ps, secs);

cleanup:
    for (uint32_t i = 0; ps && i < set_up; i++)
        s_producer_teardown (&ps[i]);
    free (ps);
    free (payload);
    return rc;
}
