/*  Per-stream processing end to end against a real broker (DESIGN.md §6):
    a stream's JSON Schema refuses bad events one by one (the good ones of
    the batch are stored, the bad ones are not); filter, transform and
    route steps decide an event's state; worker steps run on attached
    workers (threads here, and `eventflow worker` processes) whose result
    becomes the event's; a poison event goes to the dead-letter queue
    after max_attempts, a non-retryable failure at once; a replayed dead
    letter runs again; a worker killed mid-job has its job run elsewhere;
    a retry pending at a kill -9 still runs after the restart;
    EVENT_HISTORY tells each attempt of an event, in order. */
#define _GNU_SOURCE
#include "harness.h"
#include "h_proc.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_time.h"
#include "eventflow/ef_worker.h"

#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define WAIT_MS 20000 /* a deadline for what must happen, not a timing */

static char s_dir[256];
static h_broker_t s_broker;
static ef_client_t *s_admin;

/* ---------------------------------------------------------------- helpers */

static int
s_create (const char *name, const char *schema, const char *pipeline)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_CREATE_STREAM;
    req.name = ef_str (name);
    req.schema = ef_str (schema);
    req.pipeline = ef_str (pipeline);
    return ef_client_call (s_admin, &req, &rep);
}

/*  Publish one event; its seq (asserts it was stored). */
static uint64_t
s_pub (const char *stream, const char *payload)
{
    ef_event_in_t ev = {.type = ef_str ("proc.test"),
                        .payload = ef_str (payload)};
    ef_publish_result_t res;
    assert_int_equal (ef_client_publish (s_admin, stream, &ev, 1, &res), 0);
    assert_int_equal (res.code, 0);
    return res.seq;
}

typedef struct {
    char status[16];
    uint32_t attempts;
    char last_error[256];
    char result[256];
    char payload[256];
    char id[40];
    int found;
} state_t;

static int
s_copy (void *arg, const ef_event_t *e)
{
    state_t *s = arg;
    snprintf (s->status, sizeof s->status, "%.*s", (int)e->status.len,
              e->status.ptr ? e->status.ptr : "");
    snprintf (s->last_error, sizeof s->last_error, "%.*s",
              (int)e->last_error.len,
              e->last_error.ptr ? e->last_error.ptr : "");
    snprintf (s->result, sizeof s->result, "%.*s", (int)e->result.len,
              e->result.ptr ? e->result.ptr : "");
    snprintf (s->payload, sizeof s->payload, "%.*s", (int)e->payload.len,
              e->payload.ptr ? e->payload.ptr : "");
    snprintf (s->id, sizeof s->id, "%.*s", (int)e->event_id.len,
              e->event_id.ptr ? e->event_id.ptr : "");
    s->attempts = e->attempts;
    s->found = 1;
    return 1;
}

static state_t
s_state (ef_client_t *c, const char *stream, uint64_t seq)
{
    state_t s = {0};
    assert_int_equal (
        ef_client_read (c, stream, seq - 1, 1, s_copy, &s, NULL, NULL), 0);
    assert_true (s.found);
    return s;
}

/*  What h_wait_until looks for in an event's state (read into s): the
    status, a substring of last_error, at least attempts (each optional),
    or (not_status) any status but that one. */
typedef struct {
    const char *stream;
    uint64_t seq;
    const char *status;
    const char *error;
    uint32_t attempts;
    const char *not_status;
    state_t s;
} s_watch_t;

static int
s_watch (void *arg)
{
    s_watch_t *w = arg;
    w->s = s_state (s_admin, w->stream, w->seq);
    if (w->not_status)
        return strcmp (w->s.status, w->not_status) != 0;
    return (!w->status || strcmp (w->s.status, w->status) == 0) &&
           (!w->error || strstr (w->s.last_error, w->error)) &&
           w->s.attempts >= w->attempts;
}

/*  h_wait_until: the int a worker thread sets becomes non-zero. */
static int
s_flag (void *arg)
{
    return *(volatile int *)arg != 0;
}

/*  Wait for the event's status to become `status`; its state. */
static state_t
s_wait (const char *stream, uint64_t seq, const char *status)
{
    s_watch_t w = {.stream = stream, .seq = seq, .status = status};
    if (h_wait_until (s_watch, &w, WAIT_MS) == 0)
        return w.s;
    state_t s = w.s;
    fail_msg ("seq %llu of %s: status %s (attempts %u, error %s), wanted %s",
              (unsigned long long)seq, stream, s.status, s.attempts,
              s.last_error, status);
    return s;
}

/*  `eventflow dlq ARGS…` as JSON (asserts it exits 0). */
static json_t *
s_dlq (const char *const *args)
{
    const char *argv[12] = {"--data-dir", s_broker.dir, "dlq"};
    int n = 3;
    for (int i = 0; args[i] && n < 11; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    char *out = NULL, *err = NULL;
    int rc = h_cli (&s_broker, NULL, &out, &err, argv);
    if (rc != 0)
        fail_msg ("dlq: exit %d: %s", rc, err ? err : "");
    json_error_t jerr;
    json_t *j = json_loads (out, 0, &jerr);
    if (!j)
        fail_msg ("dlq printed no JSON: %s", out);
    free (out);
    free (err);
    return j;
}

/*  One figure of STATS' "processing" map. */
static uint64_t
s_proc_stat (const char *key)
{
    ef_request_t req = {.cmd = EF_CMD_STATS};
    const ef_reply_t *rep;
    ef_mpr_t r;
    uint32_t n;
    assert_int_equal (ef_client_call (s_admin, &req, &rep), 0);
    assert_int_equal (ef_proto_reply_find (rep, "processing", &r), 0);
    assert_int_equal (ef_mpr_map (&r, &n), 0);
    for (uint32_t i = 0; i < n; i++) {
        ef_str_t k;
        uint64_t v;
        assert_int_equal (ef_mpr_str (&r, &k), 0);
        if (ef_str_eq (k, key)) {
            assert_int_equal (ef_mpr_uint (&r, &v), 0);
            return v;
        }
        assert_int_equal (ef_mpr_skip (&r, EF_MSGPACK_DEPTH), 0);
    }
    fail_msg ("no %s in STATS", key);
    return 0;
}

static int
s_workers_are (void *arg)
{
    return s_proc_stat ("workers") == *(uint64_t *)arg;
}

static void
s_wait_workers (uint64_t n)
{
    h_wait_until (s_workers_are, &n, WAIT_MS);
    assert_int_equal (s_proc_stat ("workers"), n);
}


/* --------------------------------------------------------------- workers */

enum { WK_OK, WK_FAIL, WK_FATAL, WK_FAIL_ONCE, WK_HUGE, WK_FAIL_TWICE };

typedef struct {
    const char *service;
    const char *jwt; /* act in another org, NULL: the local admin's */
    int mode;
    volatile int stop;
    volatile int handled;
    volatile int ready;
    volatile int alive_later; /* broker heard after 3.5 s: 1, not: -1 */
    pthread_t thread;
} wk_t;

static void
s_handle (void *arg, const ef_job_t *job, ef_job_outcome_t *out)
{
    wk_t *w = arg;
    static __thread char result[256];
    w->handled++;
    switch (w->mode) {
    case WK_FAIL:
        out->ok = 0, out->reason = "boom";
        return;
    case WK_FATAL:
        out->ok = 0, out->reason = "bad input", out->retryable = 0;
        return;
    case WK_FAIL_ONCE:
        if (job->attempt == 1) {
            out->ok = 0, out->reason = "not yet";
            return;
        }
        break;
    case WK_FAIL_TWICE:
        if (job->attempt <= 2) {
            out->ok = 0, out->reason = "not yet";
            return;
        }
        break;
    case WK_HUGE: { /* a result over max_payload (1 MiB): a 1.5 MB string */
        static char *huge;
        size_t n = 1536 * 1024;
        if (!huge && (huge = malloc (n + 3))) {
            memset (huge, 'x', n + 2);
            huge[0] = huge[n + 1] = '"';
            huge[n + 2] = 0;
        }
        out->result = huge;
        return;
    }
    default:
        break;
    }
    snprintf (result, sizeof result, "{\"attempt\":%u,\"saw\":%.*s}",
              job->attempt, (int)job->payload.len, job->payload.ptr);
    out->result = result;
}

static void *
s_worker_main (void *arg)
{
    wk_t *w = arg;
    ef_client_t *c = h_client (&s_broker);
    if (c && w->jwt)
        ef_client_set_jwt (c, w->jwt);
    ef_worker_t *wk = c ? ef_worker_new (c, w->service, 2) : NULL;
    if (!wk || ef_worker_start (wk)) {
        w->ready = -1;
        goto done;
    }
    w->ready = 1;
    int64_t started = ef_time_mono_ms ();
    while (!w->stop) {
        if (ef_worker_poll (wk, 100, s_handle, w) < 0)
            break;
        if (!w->alive_later && ef_time_mono_ms () - started > 3500)
            w->alive_later = ef_worker_broker_alive (wk) ? 1 : -1;
    }
    ef_client_flush (c, 2000);
done:
    ef_worker_destroy (&wk);
    ef_client_destroy (&c);
    return NULL;
}

static void
s_worker_start (wk_t *w, const char *service, int mode)
{
    memset (w, 0, sizeof *w);
    w->service = service;
    w->mode = mode;
    assert_int_equal (pthread_create (&w->thread, NULL, s_worker_main, w), 0);
    assert_int_equal (h_wait_until (s_flag, (void *)&w->ready, WAIT_MS), 0);
    assert_int_equal (w->ready, 1);
}

static void
s_worker_stop (wk_t *w)
{
    w->stop = 1;
    pthread_join (w->thread, NULL);
}

/* ----------------------------------------------------------------- setup */

static int
s_setup (void **state)
{
    (void)state;
    if (h_tempdir (s_dir) || h_broker_start (&s_broker, s_dir, NULL))
        return -1;
    s_admin = h_client (&s_broker);
    return s_admin ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void)state;
    ef_client_destroy (&s_admin);
    h_broker_stop (&s_broker);
    h_rmrf (s_dir);
    return 0;
}

/* ----------------------------------------------------------------- tests */

static void
test_schema_refuses_each_bad_event (void **state)
{
    (void)state;
    assert_int_equal (
        s_create ("orders",
                  "{\"type\":\"object\",\"required\":[\"amount\"],"
                  "\"properties\":{\"amount\":{\"type\":\"number\","
                  "\"minimum\":0}}}",
                  NULL),
        0);
    ef_event_in_t ev[3] = {
        {.type = ef_str ("o"), .payload = ef_str ("{\"amount\":5}")},
        {.type = ef_str ("o"), .payload = ef_str ("{\"amount\":-1}")},
        {.type = ef_str ("o"), .payload = ef_str ("{\"qty\":2}")}};
    ef_publish_result_t r[3];
    assert_int_equal (ef_client_publish (s_admin, "orders", ev, 3, r), 0);
    assert_int_equal (r[0].code, 0);
    assert_int_equal (r[1].code, EF_EVALIDATION);
    assert_non_null (r[1].message.ptr);
    assert_non_null (strstr (r[1].message.ptr, "/amount"));
    assert_int_equal (r[2].code, EF_EVALIDATION);
    assert_non_null (strstr (r[2].message.ptr, "amount"));
    /* only the good one is stored, and with no pipeline it is processed */
    ef_stream_info_t si;
    assert_int_equal (ef_client_get_stream (s_admin, "orders", &si), 0);
    assert_int_equal (si.last_seq, 1);
    state_t s = s_state (s_admin, "orders", r[0].seq);
    assert_string_equal (s.status, "PROCESSED");

    /* a schema that is not JSON Schema is refused when the stream is made */
    assert_int_equal (s_create ("bad-schema", "{\"type\":\"nonsense\"}", NULL),
                      EF_EINVAL);
    assert_int_equal (
        s_create ("bad-pipe", NULL, "[{\"type\":\"route\",\"stream\":\"\"}]"),
        EF_EINVAL);
}

static void
test_filter_transform_route (void **state)
{
    (void)state;
    assert_int_equal (s_create ("big", NULL, NULL), 0);
    assert_int_equal (
        s_create ("sales", NULL,
                  "[{\"type\":\"filter\",\"schema\":{\"properties\":"
                  "{\"amount\":{\"minimum\":10}}}},"
                  "{\"type\":\"transform\",\"patch\":[{\"op\":\"add\","
                  "\"path\":\"/big\",\"value\":true}]},"
                  "{\"type\":\"route\",\"stream\":\"big\"}]"),
        0);
    uint64_t small = s_pub ("sales", "{\"amount\":5}");
    uint64_t large = s_pub ("sales", "{\"amount\":50}");
    s_wait ("sales", small, "FILTERED");
    state_t s = s_wait ("sales", large, "PROCESSED");
    /* the routed copy carries the transformed payload and its origin */
    state_t routed = s_state (s_admin, "big", 1);
    json_error_t jerr;
    json_t *p = json_loads (routed.payload, 0, &jerr);
    assert_non_null (p);
    assert_true (json_is_true (json_object_get (p, "big")));
    assert_int_equal (json_integer_value (json_object_get (p, "amount")), 50);
    json_decref (p);
    /* the stored event itself never changes */
    assert_string_equal (s.payload, "{\"amount\":50}");
}

static void
test_worker_result (void **state)
{
    (void)state;
    assert_int_equal (
        s_create ("bill", NULL,
                  "[{\"type\":\"worker\",\"service\":\"billing\"}]"),
        0);
    wk_t w;
    s_worker_start (&w, "billing", WK_OK);
    uint64_t seq = s_pub ("bill", "{\"amount\":7}");
    state_t s = s_wait ("bill", seq, "PROCESSED");
    s_worker_stop (&w);
    json_error_t jerr;
    json_t *r = json_loads (s.result, 0, &jerr);
    assert_non_null (r);
    assert_int_equal (json_integer_value (json_object_get (r, "attempt")), 1);
    assert_int_equal (json_integer_value (json_object_get (
                          json_object_get (r, "saw"), "amount")),
                      7);
    json_decref (r);
}

static int
s_count_one (void *arg, const ef_event_t *ev)
{
    (void)ev;
    (*(int *)arg)++;
    return 0;
}

/*  How many events of stream LIST_EVENTS finds with that status. */
static int
s_count_status (const char *stream, const char *status)
{
    ef_request_t q = {0};
    q.stream = ef_str (stream);
    q.status = ef_str (status);
    int n = 0;
    assert_int_equal (
        ef_client_list_events (s_admin, &q, s_count_one, &n, NULL), 0);
    return n;
}

static void
test_poison_to_dlq_and_replay (void **state)
{
    (void)state;
    assert_int_equal (
        s_create ("poison", NULL,
                  "[{\"type\":\"worker\",\"service\":\"flaky\","
                  "\"max_attempts\":3,\"backoff\":{\"base_ms\":20,"
                  "\"max_ms\":40}}]"),
        0);
    wk_t w;
    s_worker_start (&w, "flaky", WK_FAIL);
    uint64_t seq = s_pub ("poison", "{\"n\":1}");
    state_t s = s_wait ("poison", seq, "FAILED");
    s_worker_stop (&w);
    assert_int_equal (s.attempts, 3);
    assert_int_equal (w.handled, 3);
    assert_string_equal (s.last_error, "boom");
    /* listing by status reads the processing state: the event is FAILED,
       not PROCESSED */
    assert_int_equal (s_count_status ("poison", "FAILED"), 1);
    assert_int_equal (s_count_status ("poison", "PROCESSED"), 0);

    json_t *l =
        s_dlq ((const char *const[]){"list", "--stream", "poison", NULL});
    json_t *items = json_object_get (l, "items");
    assert_int_equal (json_array_size (items), 1);
    json_t *d = json_array_get (items, 0);
    assert_string_equal (json_string_value (json_object_get (d, "event_id")),
                         s.id);
    assert_int_equal (json_integer_value (json_object_get (d, "attempts")), 3);
    assert_string_equal (json_string_value (json_object_get (d, "last_error")),
                         "boom");
    json_decref (l);
    /* one dead letter shows its attempts, each with its worker */
    json_t *one = s_dlq ((const char *const[]){"show", s.id, NULL});
    json_t *hist = json_object_get (one, "history");
    assert_int_equal (json_array_size (hist), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *a = json_array_get (hist, i);
        assert_string_equal (json_string_value (json_object_get (a, "outcome")),
                             "failed");
        assert_non_null (json_string_value (json_object_get (a, "worker")));
    }
    json_decref (one);
    l = s_dlq ((const char *const[]){"list", "--stream", "poison", "--type",
                                     "no.such.type", NULL});
    assert_int_equal (json_array_size (json_object_get (l, "items")), 0);
    json_decref (l);
    /* counted by reason */
    l = s_dlq ((const char *const[]){"reasons", "--stream", "poison", NULL});
    assert_string_equal (
        json_string_value (json_object_get (
            json_array_get (json_object_get (l, "items"), 0), "reason")),
        "boom");
    assert_int_equal (
        json_integer_value (json_object_get (
            json_array_get (json_object_get (l, "items"), 0), "count")),
        1);
    assert_true (json_is_false (json_object_get (l, "truncated")));
    json_decref (l);
    assert_int_equal (s_proc_stat ("dlq_size"), 1);
    assert_true (s_proc_stat ("retries") >= 2);
    assert_true (s_proc_stat ("latency_count") >= 2); /* earlier tests' */

    /* replay with a healthy worker: it runs again, from the failed step */
    s_worker_start (&w, "flaky", WK_OK);
    json_decref (s_dlq ((const char *const[]){"replay", s.id, NULL}));
    s = s_wait ("poison", seq, "PROCESSED");
    assert_int_equal (s_proc_stat ("workers"), 1);
    s_worker_stop (&w);
    assert_int_equal (s_proc_stat ("dlq_size"), 0);
    s_wait_workers (0); /* it said LEAVE */
    l = s_dlq ((const char *const[]){"list", "--stream", "poison", NULL});
    assert_int_equal (json_array_size (json_object_get (l, "items")), 0);
    json_decref (l);
}

static void
test_fatal_failure_not_retried (void **state)
{
    (void)state;
    assert_int_equal (s_create ("fatal", NULL,
                                "[{\"type\":\"worker\",\"service\":\"strict\","
                                "\"max_attempts\":5}]"),
                      0);
    wk_t w;
    s_worker_start (&w, "strict", WK_FATAL);
    uint64_t seq = s_pub ("fatal", "{}");
    state_t s = s_wait ("fatal", seq, "FAILED");
    s_worker_stop (&w);
    assert_int_equal (s.attempts, 1);
    assert_int_equal (w.handled, 1);
    assert_string_equal (s.last_error, "bad input");
    /* filters: time of the last failure, error text */
    json_t *f = s_dlq ((const char *const[]){"list", "--stream", "fatal",
                                             "--from", "2000-01-01T00:00:00Z",
                                             "--error", "bad", NULL});
    assert_int_equal (json_array_size (json_object_get (f, "items")), 1);
    json_decref (f);
    f = s_dlq ((const char *const[]){"list", "--stream", "fatal", "--to",
                                     "2000-01-01T00:00:00Z", NULL});
    assert_int_equal (json_array_size (json_object_get (f, "items")), 0);
    json_decref (f);
    f = s_dlq ((const char *const[]){"list", "--error", "no such text", NULL});
    assert_int_equal (json_array_size (json_object_get (f, "items")), 0);
    json_decref (f);
    json_t *g = s_dlq ((const char *const[]){"show", s.id, NULL});
    assert_non_null (json_object_get (g, "dead"));
    json_decref (g);
    /* deleted: gone from the queue, the event stays failed */
    json_decref (s_dlq ((const char *const[]){"delete", s.id, NULL}));
    json_t *l =
        s_dlq ((const char *const[]){"list", "--stream", "fatal", NULL});
    assert_int_equal (json_array_size (json_object_get (l, "items")), 0);
    json_decref (l);
}

/*  The CLI sets and removes a stream's schema and pipeline. */
static void
test_cli_configure (void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    const char *create[] = {"--data-dir",
                            s_broker.dir,
                            "streams",
                            "create",
                            "cli-s",
                            "--schema",
                            "{\"type\":\"object\",\"required\":[\"a\"]}",
                            "--pipeline",
                            "[{\"type\":\"route\",\"stream\":\"big\"}]",
                            NULL};
    assert_int_equal (h_cli (&s_broker, NULL, &out, &err, create), 0);
    json_error_t jerr;
    json_t *j = json_loads (out, 0, &jerr);
    assert_non_null (j);
    assert_true (json_is_object (json_object_get (j, "schema")));
    assert_true (json_is_array (json_object_get (j, "pipeline")));
    json_decref (j);
    free (out), free (err);
    /* a payload without "a" is refused */
    ef_event_in_t ev = {.type = ef_str ("t"), .payload = ef_str ("{}")};
    ef_publish_result_t res;
    assert_int_equal (ef_client_publish (s_admin, "cli-s", &ev, 1, &res), 0);
    assert_int_equal (res.code, EF_EVALIDATION);
    /* removed: the same payload is stored */
    const char *update[] = {"--data-dir", s_broker.dir, "streams", "update",
                            "cli-s",      "--schema",   "",        NULL};
    assert_int_equal (h_cli (&s_broker, NULL, &out, &err, update), 0);
    j = json_loads (out, 0, &jerr);
    assert_non_null (j);
    assert_null (json_object_get (j, "schema"));
    assert_non_null (json_object_get (j, "pipeline"));
    json_decref (j);
    free (out), free (err);
    assert_int_equal (ef_client_publish (s_admin, "cli-s", &ev, 1, &res), 0);
    assert_int_equal (res.code, 0);
    /* a pipeline that is not one: refused with the reason */
    const char *bad[] = {"--data-dir",
                         s_broker.dir,
                         "streams",
                         "update",
                         "cli-s",
                         "--pipeline",
                         "[{\"type\":\"sort\"}]",
                         NULL};
    assert_int_not_equal (h_cli (&s_broker, NULL, &out, &err, bad), 0);
    assert_non_null (strstr (err, "filter, transform, route or worker"));
    free (out), free (err);
}

/*  With no worker of the service attached, jobs wait (PENDING, no
    attempt counted, the reason in last_error) instead of failing; a
    worker that attaches gets them. */
static void
test_jobs_wait_for_a_worker (void **state)
{
    (void)state;
    assert_int_equal (s_create ("patient", NULL,
                                "[{\"type\":\"worker\",\"service\":\"absent\","
                                "\"max_attempts\":2,\"timeout_ms\":250}]"),
                      0);
    uint64_t seq = s_pub ("patient", "{\"n\":9}");
    s_watch_t wt = {
        .stream = "patient", .seq = seq, .error = "waiting for a worker"};
    h_wait_until (s_watch, &wt, WAIT_MS);
    state_t s = wt.s;
    assert_string_equal (s.last_error, "waiting for a worker of absent");
    /* longer than timeout_ms × max_attempts: still waiting, not failed
       (the status must not leave PENDING within 700 ms). Two attempts of
       250 ms, so a worker slowed by a loaded machine (sanitizers, tests in
       parallel) still answers one of them in time. */
    s_watch_t moved = {
        .stream = "patient", .seq = seq, .not_status = "PENDING"};
    assert_int_equal (h_wait_until (s_watch, &moved, 700), -1);
    s = s_state (s_admin, "patient", seq);
    assert_string_equal (s.status, "PENDING");
    assert_int_equal (s.attempts, 0);
    wk_t w;
    s_worker_start (&w, "absent", WK_OK);
    s = s_wait ("patient", seq, "PROCESSED");
    s_worker_stop (&w);
    assert_in_range (s.attempts, 1, 2);
}

/*  Workers serve their own org: a worker of another org under the same
    service name gets none of this org's jobs, and WORKERS shows each org
    its own workers only. */
static void
test_workers_serve_their_org_only (void **state)
{
    (void)state;
    ef_request_t req = {0};
    const ef_reply_t *rep;
    ef_mpr_t r;
    static char jwt[1024];
    h_new_org (s_admin, jwt, sizeof jwt, "mallory@example.com", "mallory-corp");

    assert_int_equal (
        s_create ("ours", NULL,
                  "[{\"type\":\"worker\",\"service\":\"shared-name\"}]"),
        0);
    wk_t theirs;
    memset (&theirs, 0, sizeof theirs);
    theirs.service = "shared-name";
    theirs.jwt = jwt;
    theirs.mode = WK_OK;
    assert_int_equal (
        pthread_create (&theirs.thread, NULL, s_worker_main, &theirs), 0);
    assert_int_equal (h_wait_until (s_flag, (void *)&theirs.ready, WAIT_MS), 0);
    assert_int_equal (theirs.ready, 1);
    uint64_t seq = s_pub ("ours", "{\"secret\":1}");
    /* theirs is attached, yet ours waits for a worker of our org */
    s_watch_t wt = {
        .stream = "ours", .seq = seq, .error = "waiting for a worker"};
    h_wait_until (s_watch, &wt, WAIT_MS);
    state_t s = wt.s;
    assert_string_equal (s.status, "PENDING");
    assert_int_equal (theirs.handled, 0);
    /* we see no worker of theirs */
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_WORKERS;
    uint32_t n;
    assert_int_equal (ef_client_call (s_admin, &req, &rep), 0);
    assert_int_equal (ef_proto_reply_find (rep, "workers", &r), 0);
    assert_int_equal (ef_mpr_array (&r, &n), 0);
    assert_int_equal (n, 0);
    wk_t mine;
    s_worker_start (&mine, "shared-name", WK_OK);
    s_wait ("ours", seq, "PROCESSED");
    s_worker_stop (&mine);
    s_worker_stop (&theirs);
    assert_int_equal (theirs.handled, 0);
    assert_int_equal (mine.handled, 1);
}

/*  Heartbeats both ways: past the 3 s silence limit, the broker still
    has the worker and the worker still hears the broker. */
static void
test_heartbeats (void **state)
{
    (void)state;
    wk_t w;
    s_worker_start (&w, "idle", WK_OK);
    s_wait_workers (1);
    h_wait_until (s_flag, (void *)&w.alive_later, WAIT_MS);
    assert_int_equal (w.alive_later, 1);
    assert_int_equal (s_proc_stat ("workers"), 1);
    s_worker_stop (&w);
    s_wait_workers (0);
}

/*  A worker process killed while it holds the job: the broker notices it
    is gone and the job runs on another worker. */
static void
test_worker_killed_mid_job (void **state)
{
    (void)state;
    assert_int_equal (
        s_create ("slow", NULL,
                  "[{\"type\":\"worker\",\"service\":\"slowpoke\","
                  "\"max_attempts\":5,\"timeout_ms\":60000,"
                  "\"backoff\":{\"base_ms\":10,\"max_ms\":20}}]"),
        0);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        setenv ("EVENTFLOW_BROKER_ENDPOINT", s_broker.endpoint, 1);
        int devnull = open ("/dev/null", 1);
        dup2 (devnull, 2);
        execl (h_bin ("eventflow"), "eventflow", "--data-dir", s_broker.dir,
               "worker", "--service", "slowpoke", "--exec", "sleep 600",
               (char *)NULL);
        _exit (127);
    }
    uint64_t seq = s_pub ("slow", "{\"n\":2}");
    /* wait for the process to hold the job (attempt 1 started) */
    s_watch_t wt = {.stream = "slow", .seq = seq, .attempts = 1};
    h_wait_until (s_watch, &wt, WAIT_MS);
    state_t s = wt.s;
    assert_int_equal (s.attempts, 1);
    kill (pid, SIGKILL);
    waitpid (pid, NULL, 0);
    wk_t w;
    s_worker_start (&w, "slowpoke", WK_OK);
    s = s_wait ("slow", seq, "PROCESSED");
    s_worker_stop (&w);
    assert_int_equal (s.attempts, 2);
}

/*  A retry waiting on its backoff when the broker dies runs after the
    restart: jobs live in LMDB. */
static void
test_pending_retry_survives_kill9 (void **state)
{
    (void)state;
    assert_int_equal (
        s_create ("later", NULL,
                  "[{\"type\":\"worker\",\"service\":\"later\","
                  "\"max_attempts\":3,\"backoff\":{\"base_ms\":1000,"
                  "\"max_ms\":1000}}]"),
        0);
    wk_t w;
    s_worker_start (&w, "later", WK_FAIL_ONCE);
    uint64_t seq = s_pub ("later", "{\"n\":3}");
    h_wait_until (s_flag, (void *)&w.handled, WAIT_MS);
    assert_int_equal (w.handled, 1);
    s_worker_stop (&w);
    state_t s = s_state (s_admin, "later", seq);
    assert_string_equal (s.status, "PENDING");

    ef_client_destroy (&s_admin);
    h_broker_kill9 (&s_broker);
    assert_int_equal (h_broker_start (&s_broker, s_dir, NULL), 0);
    s_admin = h_client (&s_broker);
    assert_non_null (s_admin);
    s_worker_start (&w, "later", WK_FAIL_ONCE);
    s = s_wait ("later", seq, "PROCESSED");
    s_worker_stop (&w);
    assert_int_equal (s.attempts, 2);
}


/*  h_wait_until: the stream named arg holds an event. */
static int
s_has_events (void *arg)
{
    ef_stream_info_t si;
    assert_int_equal (ef_client_get_stream (s_admin, arg, &si), 0);
    return si.last_seq > 0;
}

/*  Routes that form no cycle may still be chained: an event goes through
    at most 8 routes (max-route-hops); the ninth makes it FAILED, to the
    DLQ, and the count is kept in the store: replayed after a restart,
    it fails the same way. */
static void
test_route_hop_limit (void **state)
{
    (void)state;
    char name[16], pipe[128];
    for (int i = 0; i <= 9; i++) {
        snprintf (name, sizeof name, "hop%d", i);
        snprintf (pipe, sizeof pipe,
                  "[{\"type\":\"route\",\"stream\":\"hop%d\"}]", i + 1);
        assert_int_equal (s_create (name, NULL, i < 9 ? pipe : NULL), 0);
    }
    s_pub ("hop0", "{\"n\":0}");
    ef_stream_info_t si;
    /* the routed copy reaches hop8 */
    h_wait_until (s_has_events, "hop8", WAIT_MS);
    state_t s = s_wait ("hop8", 1, "FAILED");
    assert_non_null (strstr (s.last_error, "route hop limit"));
    assert_non_null (strstr (s.last_error, "8 routes"));
    s_wait ("hop7", 1, "PROCESSED");
    assert_int_equal (ef_client_get_stream (s_admin, "hop9", &si), 0);
    assert_int_equal (si.last_seq, 0);
    json_t *l = s_dlq ((const char *const[]){"list", "--stream", "hop8", NULL});
    assert_int_equal (json_array_size (json_object_get (l, "items")), 1);
    json_decref (l);

    ef_client_destroy (&s_admin);
    assert_int_equal (h_broker_stop (&s_broker), 0);
    assert_int_equal (h_broker_start (&s_broker, s_dir, NULL), 0);
    s_admin = h_client (&s_broker);
    assert_non_null (s_admin);
    /* replayed: PENDING (committed with the replay) until it fails
       again, at the same hop */
    json_decref (s_dlq ((const char *const[]){"replay", s.id, NULL}));
    s = s_wait ("hop8", 1, "FAILED");
    assert_non_null (strstr (s.last_error, "route hop limit"));
    assert_int_equal (ef_client_get_stream (s_admin, "hop9", &si), 0);
    assert_int_equal (si.last_seq, 0);
}

/*  A transform whose copies of the root double the document sixteen
    times fails the event at the max_payload bound (1 MiB) instead of
    building 64 MB; one that copies the document aside and removes it
    again, over and over, fails at its work budget; a patch of more than
    64 operations is refused when the pipeline is set. */
static void
test_transform_growth_is_capped (void **state)
{
    (void)state;
    char pipe[4096] = "[{\"type\":\"transform\",\"patch\":[";
    for (int i = 0; i < 16; i++)
        snprintf (pipe + strlen (pipe), sizeof pipe - strlen (pipe),
                  "%s{\"op\":\"copy\",\"from\":\"\",\"path\":\"/c%d\"}",
                  i ? "," : "", i);
    strcat (pipe, "]},{\"type\":\"route\",\"stream\":\"default\"}]");
    assert_int_equal (s_create ("amp", NULL, pipe), 0);
    char payload[1100];
    memset (payload, 'x', sizeof payload);
    memcpy (payload, "{\"s\":\"", 6);
    memcpy (payload + 1022, "\"}", 3);
    uint64_t seq = s_pub ("amp", payload);
    state_t s = s_wait ("amp", seq, "FAILED");
    assert_non_null (strstr (s.last_error, "exceed 1048576 bytes"));
    assert_string_equal (s.result, "");
    json_t *l = s_dlq ((const char *const[]){"list", "--stream", "amp", NULL});
    assert_int_equal (json_array_size (json_object_get (l, "items")), 1);
    json_decref (l);

    /* within the size bound, copying the document aside and removing
       it again 32 times: the work budget (4 × max_payload) ends it */
    char loop[4096] = "[{\"type\":\"transform\",\"patch\":[";
    for (int i = 0; i < 32; i++)
        snprintf (loop + strlen (loop), sizeof loop - strlen (loop),
                  "%s{\"op\":\"copy\",\"from\":\"\",\"path\":\"/x\"},"
                  "{\"op\":\"remove\",\"path\":\"/x\"}",
                  i ? "," : "");
    strcat (loop, "]}]");
    assert_int_equal (s_create ("loop", NULL, loop), 0);
    size_t big = 300 * 1000;
    char *doc = malloc (big + 1);
    assert_non_null (doc);
    memset (doc, 'x', big);
    memcpy (doc, "{\"s\":\"", 6);
    memcpy (doc + big - 2, "\"}", 3);
    seq = s_pub ("loop", doc);
    free (doc);
    s = s_wait ("loop", seq, "FAILED");
    assert_non_null (strstr (s.last_error, "patch[6] copy from \"\": the "
                                           "patch would copy or compare more "
                                           "than 4194304 bytes"));

    char many[8192] = "[{\"type\":\"transform\",\"patch\":[";
    for (int i = 0; i < 65; i++)
        strcat (many, i ? ",{\"op\":\"remove\",\"path\":\"/a\"}"
                        : "{\"op\":\"remove\",\"path\":\"/a\"}");
    strcat (many, "]}]");
    assert_int_equal (s_create ("many-ops", NULL, many), EF_EINVAL);
    assert_non_null (strstr (ef_client_error (s_admin),
                             "step 0: transform: a patch has at most 64 "
                             "operations"));
}

/*  A worker's result larger than max_payload fails the event (no retry:
    the same answer would come again), to the DLQ. */
static void
test_worker_result_is_capped (void **state)
{
    (void)state;
    assert_int_equal (
        s_create ("bloat", NULL,
                  "[{\"type\":\"worker\",\"service\":\"bloat\"}]"),
        0);
    wk_t w;
    s_worker_start (&w, "bloat", WK_HUGE);
    uint64_t seq = s_pub ("bloat", "{\"n\":1}");
    state_t s = s_wait ("bloat", seq, "FAILED");
    s_worker_stop (&w);
    assert_non_null (strstr (s.last_error, "more than max_payload"));
    assert_string_equal (s.result, "");
    assert_int_equal (w.handled, 1);
    json_t *l =
        s_dlq ((const char *const[]){"list", "--stream", "bloat", NULL});
    assert_int_equal (json_array_size (json_object_get (l, "items")), 1);
    json_decref (l);
}

/*  Jobs as a hand-driven worker sees them: their ids and attempts. */
typedef struct {
    char id[8][64];
    uint32_t attempt[8];
    int n;
} jobs_t;

static void
s_on_job (void *arg, uint64_t sub, const ef_reply_t *rep)
{
    (void)sub;
    jobs_t *j = arg;
    ef_mpr_t r;
    uint32_t n;
    if (ef_proto_reply_find (rep, "job", &r) || ef_mpr_map (&r, &n) ||
        j->n == 8)
        return; /* a heartbeat */
    for (uint32_t i = 0; i < n; i++) {
        ef_str_t k, v;
        uint64_t u;
        if (ef_mpr_str (&r, &k))
            return;
        if (ef_str_eq (k, "job_id") && ef_mpr_str (&r, &v) == 0)
            snprintf (j->id[j->n], sizeof j->id[0], "%.*s", (int)v.len, v.ptr);
        else if (ef_str_eq (k, "attempt") && ef_mpr_uint (&r, &u) == 0)
            j->attempt[j->n] = (uint32_t)u;
        else if (ef_mpr_skip (&r, EF_MSGPACK_DEPTH))
            return;
    }
    j->n++;
}

/*  Wait until the worker client c has had n jobs. */
static void
s_wait_jobs (ef_client_t *c, jobs_t *j, int n)
{
    int64_t until = ef_time_mono_ms () + WAIT_MS;
    while (j->n < n && ef_time_mono_ms () < until)
        assert_true (ef_client_poll (c, 100) >= 0);
    assert_int_equal (j->n, n);
}

static int
s_answer (ef_client_t *c, const char *job_id, const char *result)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_DONE;
    req.job_id = ef_str (job_id);
    req.result = ef_str (result);
    return ef_client_call (c, &req, &rep);
}

/*  Each attempt of a job has its own id: a worker that let attempt 1 time
    out and then answers it late, while attempt 2 is out, changes nothing;
    attempt 2's answer decides. */
static void
test_a_late_answer_for_a_timed_out_attempt_changes_nothing (void **state)
{
    (void)state;
    /* attempt 1 is held until the broker gives up on it (the test waits
       for attempt 2's push, not for the time); timeout_ms is long enough
       that attempt 2's answer, sent at once, is in time on a loaded
       machine (100 ms was not, under ctest -j2) */
    assert_int_equal (s_create ("stale", NULL,
                                "[{\"type\":\"worker\",\"service\":\"stale\","
                                "\"timeout_ms\":1500,\"max_attempts\":3,"
                                "\"backoff\":{\"base_ms\":1,\"max_ms\":1}}]"),
                      0);
    ef_client_t *wc = h_client (&s_broker);
    assert_non_null (wc);
    jobs_t jobs;
    memset (&jobs, 0, sizeof jobs);
    ef_client_set_push_handler (wc, s_on_job, &jobs);
    ef_request_t req = {0};
    req.cmd = EF_CMD_READY;
    req.service = ef_str ("stale");
    req.credit = 1;
    assert_int_equal (ef_client_call (wc, &req, NULL), 0);

    uint64_t seq = s_pub ("stale", "{\"n\":1}");
    s_wait_jobs (wc, &jobs, 1); /* attempt 1: held, not answered */
    assert_int_equal (jobs.attempt[0], 1);
    s_wait_jobs (wc, &jobs, 2); /* its timeout passed: attempt 2 */
    assert_int_equal (jobs.attempt[1], 2);
    assert_string_not_equal (jobs.id[0], jobs.id[1]);

    /* attempt 1's late answer: taken, and nothing changes */
    assert_int_equal (s_answer (wc, jobs.id[0], "{\"from\":\"attempt 1\"}"), 0);
    state_t s = s_state (s_admin, "stale", seq);
    assert_string_equal (s.status, "PENDING");
    assert_string_equal (s.result, "");
    /* attempt 2's decides */
    assert_int_equal (s_answer (wc, jobs.id[1], "{\"from\":\"attempt 2\"}"), 0);
    s = s_wait ("stale", seq, "PROCESSED");
    assert_string_equal (s.result, "{\"from\":\"attempt 2\"}");
    assert_int_equal (s.attempts, 2);
    assert_int_equal (jobs.n, 2);
    /* and an id that is none of ours is refused */
    assert_int_equal (s_answer (wc, "7.7", NULL), EF_EINVAL);
    ef_client_destroy (&wc);
}

/*  EVENT_HISTORY as the client c sees it: 0 and the history's outcomes
    and workers ("-" for nil; comma-separated), the routed copy's event
    id and the status, or the call's error. */
typedef struct {
    char outcomes[256];
    char workers[256];
    char routed[40];
    char status[16];
    char error[64];
    uint64_t dropped;
} s_hist_t;

static int
s_history (ef_client_t *c, const char *event_id, s_hist_t *h)
{
    ef_request_t req = {.cmd = EF_CMD_EVENT_HISTORY,
                        .event_id = ef_str (event_id)};
    const ef_reply_t *rep;
    ef_mpr_t r;
    uint32_t n, m;
    ef_str_t v;
    memset (h, 0, sizeof *h);
    int rc = ef_client_call (c, &req, &rep);
    if (rc)
        return rc;
    assert_int_equal (ef_proto_reply_find (rep, "status", &r), 0);
    assert_int_equal (ef_mpr_str (&r, &v), 0);
    snprintf (h->status, sizeof h->status, "%.*s", (int)v.len, v.ptr);
    assert_int_equal (ef_proto_reply_find (rep, "dropped", &r), 0);
    assert_int_equal (ef_mpr_uint (&r, &h->dropped), 0);
    assert_int_equal (ef_proto_reply_find (rep, "history", &r), 0);
    assert_int_equal (ef_mpr_array (&r, &n), 0);
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal (ef_mpr_map (&r, &m), 0);
        int worker = 0;
        for (uint32_t k = 0; k < m; k++) {
            ef_str_t key;
            assert_int_equal (ef_mpr_str (&r, &key), 0);
            if (ef_mpr_nil (&r))
                continue;
            if (ef_str_eq (key, "worker")) {
                assert_int_equal (ef_mpr_str (&r, &v), 0);
                snprintf (h->workers + strlen (h->workers),
                          sizeof h->workers - strlen (h->workers), "%s%.*s",
                          i ? "," : "", (int)v.len, v.ptr);
                worker = 1;
                continue;
            }
            if (ef_str_eq (key, "outcome") || ef_str_eq (key, "error") ||
                ef_str_eq (key, "routed_event_id")) {
                assert_int_equal (ef_mpr_str (&r, &v), 0);
                if (ef_str_eq (key, "outcome"))
                    snprintf (h->outcomes + strlen (h->outcomes),
                              sizeof h->outcomes - strlen (h->outcomes),
                              "%s%.*s", i ? "," : "", (int)v.len, v.ptr);
                else if (ef_str_eq (key, "error"))
                    snprintf (h->error, sizeof h->error, "%.*s", (int)v.len,
                              v.ptr);
                else
                    snprintf (h->routed, sizeof h->routed, "%.*s", (int)v.len,
                              v.ptr);
            } else
                assert_int_equal (ef_mpr_skip (&r, EF_MSGPACK_DEPTH), 0);
        }
        if (!worker)
            snprintf (h->workers + strlen (h->workers),
                      sizeof h->workers - strlen (h->workers), "%s-",
                      i ? "," : "");
    }
    return 0;
}

/*  An event's life: a route, then a worker that fails twice and then
    succeeds; EVENT_HISTORY tells each attempt in order, the routed
    copy's id and the end state, and to another org the event is not
    there. */
static void
test_event_history_tells_each_attempt (void **state)
{
    (void)state;
    assert_int_equal (s_create ("hist-copy", NULL, NULL), 0);
    assert_int_equal (
        s_create ("hist", NULL,
                  "[{\"type\":\"route\",\"stream\":\"hist-copy\"},"
                  "{\"type\":\"worker\",\"service\":\"twice\","
                  "\"backoff\":{\"base_ms\":20,\"max_ms\":40}}]"),
        0);
    wk_t w;
    s_worker_start (&w, "twice", WK_FAIL_TWICE);
    uint64_t seq = s_pub ("hist", "{\"n\":1}");
    state_t s = s_wait ("hist", seq, "PROCESSED");
    s_worker_stop (&w);
    s_hist_t h;
    assert_int_equal (s_history (s_admin, s.id, &h), 0);
    assert_string_equal (h.outcomes, "routed,failed,failed,done");
    /* each worker attempt names the worker that answered it (the one
       worker: the hex of its routing id), the route none */
    char w1[64] = "";
    assert_int_equal (sscanf (h.workers, "-,%63[0-9a-f],", w1), 1);
    assert_true (strlen (w1) >= 2 && strlen (w1) % 2 == 0);
    char want[256];
    snprintf (want, sizeof want, "-,%s,%s,%s", w1, w1, w1);
    assert_string_equal (h.workers, want);
    assert_string_equal (h.status, "PROCESSED");
    assert_string_equal (h.error, "not yet"); /* the last one given */
    assert_int_equal (h.dropped, 0);
    state_t copy = s_state (s_admin, "hist-copy", 1);
    assert_string_equal (h.routed, copy.id);
    /* the CLI: a table with the worker in it, or the answer as JSON */
    const char *args[] = {"--data-dir", s_broker.dir, "history", s.id, NULL};
    h_proc_t *p = h_proc_start (&s_broker, NULL, args);
    assert_non_null (p);
    assert_int_equal (
        h_proc_wait (p, 0, "status PROCESSED, 4 attempts", 1, WAIT_MS), 0);
    assert_int_equal (h_proc_end (&p, 0, WAIT_MS), 0);
    char *out = NULL, *err = NULL;
    assert_int_equal (h_cli (&s_broker, NULL, &out, &err, args), 0);
    assert_non_null (strstr (out, "WORKER"));
    assert_non_null (strstr (out, w1));
    assert_non_null (strstr (out, "not yet"));
    free (out);
    free (err);
    const char *json[] = {"--data-dir", s_broker.dir, "history",
                          s.id,         "--json",     NULL};
    assert_int_equal (h_cli (&s_broker, NULL, &out, &err, json), 0);
    json_error_t jerr;
    json_t *j = json_loads (out, 0, &jerr);
    assert_non_null (j);
    json_t *hist = json_object_get (j, "history");
    assert_int_equal (json_array_size (hist), 4);
    assert_true (
        json_is_null (json_object_get (json_array_get (hist, 0), "worker")));
    const char *w4 = json_string_value (
        json_object_get (json_array_get (hist, 3), "worker"));
    assert_non_null (w4);
    assert_string_equal (w4, w1);
    json_decref (j);
    free (out);
    free (err);
    /* the copy has no pipeline: no history, PROCESSED */
    assert_int_equal (s_history (s_admin, copy.id, &h), 0);
    assert_string_equal (h.outcomes, "");
    /* another org: no such event */
    static char jwt[1024];
    h_new_org (s_admin, jwt, sizeof jwt, "eve-history@example.com", "eve-corp");
    ef_client_t *c = h_client (&s_broker);
    assert_non_null (c);
    ef_client_set_jwt (c, jwt);
    assert_int_equal (s_history (c, s.id, &h), EF_ENOTFOUND);
    ef_client_destroy (&c);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_schema_refuses_each_bad_event),
        cmocka_unit_test (test_filter_transform_route),
        cmocka_unit_test (test_worker_result),
        cmocka_unit_test (test_poison_to_dlq_and_replay),
        cmocka_unit_test (test_fatal_failure_not_retried),
        cmocka_unit_test (test_cli_configure),
        cmocka_unit_test (test_jobs_wait_for_a_worker),
        cmocka_unit_test (test_workers_serve_their_org_only),
        cmocka_unit_test (test_heartbeats),
        cmocka_unit_test (test_worker_killed_mid_job),
        cmocka_unit_test (test_pending_retry_survives_kill9),
        cmocka_unit_test (test_route_hop_limit),
        cmocka_unit_test (test_transform_growth_is_capped),
        cmocka_unit_test (test_worker_result_is_capped),
        cmocka_unit_test (
            test_a_late_answer_for_a_timed_out_attempt_changes_nothing),
        cmocka_unit_test (test_event_history_tells_each_attempt),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
