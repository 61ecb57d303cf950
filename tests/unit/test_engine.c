/*  test_engine.c: unit tests of ef_engine (the pipeline runner) and the
    records it keeps through ef_process (states, due jobs, dead letters),
    over a real LMDB store in a temporary directory. The engine takes the
    time as an argument, so the tests drive the clock: no waiting. The
    writer's parts are played by the test: an append that stores the next
    event of a stream, and a dispatch that keeps the worker jobs handed
    out. A failed worker attempt is retried after an exponential backoff
    with its jitter in the upper half and capped at max_ms; attempts are
    counted; past max_attempts (or on a failure that may not be retried)
    the event is FAILED, in the dead-letter queue, with no job left; an
    attempt nobody answers counts as failed at its timeout; a replay
    resets the attempts and is due at once; due jobs are taken in the
    order they are due; an event that routes around a loop is FAILED at
    the hop limit; every step's attempt goes into the event's history
    with its outcome (a route's with the copy's stream and id), the
    newest EF_HISTORY_MAX kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ef_engine.h"
#include "ef_metrics.h"
#include "ef_process.h"
#include "ef_store.h"
#include "u_store.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_uuid.h"

#define T0    1700000000000ull
#define S_MAX 64

/*  A worker step of service svc: up to 6 attempts, backoff from 1 s
    capped at 2.5 s (so the third retry is the first capped), 10 s
    timeout. */
#define S_WORKER                                                               \
    "[{\"type\":\"worker\",\"service\":\"svc\",\"max_attempts\":6,"            \
    "\"backoff\":{\"base_ms\":1000,\"max_ms\":2500},\"timeout_ms\":10000}]"
#define S_BASE_MS    1000
#define S_MAX_MS     2500
#define S_TIMEOUT_MS 10000
#define S_ATTEMPTS   6

typedef struct {
    u_store_t st; /* first: u_store_teardown frees it all */
    ef_metrics_t *metrics;
    ef_engine_t *engine;
    ef_store_txn_t *w; /* the write transaction of the moment */
    ef_uuid_gen_t uuids;
    ef_wreq_t *jobs[S_MAX]; /* dispatched, in order */
    int njobs;
    uint32_t work; /* stream with the worker step */
} fx_t;

static int
s_append (void *arg, ef_store_txn_t *txn, uint32_t num, const ef_uuid_t *id,
          const void *record, size_t len, uint64_t *seq)
{
    (void)arg;
    uint64_t first, last;
    int rc = ef_store_stream_bounds (txn, num, &first, &last);
    if (rc == 0)
        rc = ef_store_event_append (txn, num, last + 1, id, record, len);
    if (rc == 0)
        *seq = last + 1;
    return rc;
}

static void
s_dispatch (void *arg, ef_wreq_t *job)
{
    fx_t *fx = arg;
    assert_true (fx->njobs < S_MAX);
    fx->jobs[fx->njobs++] = job;
}

static void
s_begin (fx_t *fx)
{
    assert_int_equal (ef_store_write_begin (fx->st.store, &fx->w), 0);
}

static void
s_commit (fx_t *fx)
{
    assert_int_equal (ef_store_write_commit (&fx->w), 0);
}

/*  A stream of org 1 with pipeline (NULL: none). */
static uint32_t
s_stream (fx_t *fx, const char *name, const char *pipeline)
{
    ef_stream_rec_t s;
    assert_int_equal (ef_store_stream_create (fx->w, 1, ef_str (name), T0, &s),
                      0);
    if (pipeline)
        assert_int_equal (ef_store_stream_configure (fx->w, s.num, EF_STR_NULL,
                                                     ef_str (pipeline)),
                          0);
    return s.num;
}

/*  Publish an event to stream num at now, as the writer does: stored,
    and its job enqueued. Its seq. */
static uint64_t
s_publish (fx_t *fx, uint32_t num, uint64_t now)
{
    ef_uuid_t id;
    char ids[EF_UUID_STRLEN + 1];
    ef_uuid_gen_v7 (&fx->uuids, now, &id);
    ef_uuid_format (&id, ids);
    ef_event_t e = {0};
    e.event_id = (ef_str_t){ids, EF_UUID_STRLEN};
    e.type = ef_str ("t");
    e.version = 1;
    e.occurred_at = now;
    e.received_at = now;
    e.source = ef_str ("native");
    e.payload = ef_str ("{\"n\":1}");
    ef_buf_t rec;
    ef_buf_init (&rec);
    ef_proto_write_event_record (&rec, &e);
    assert_false (rec.oom);
    uint64_t seq = 0;
    assert_int_equal (s_append (fx, fx->w, num, &id, rec.data, rec.len, &seq),
                      0);
    ef_buf_free (&rec);
    assert_int_equal (ef_engine_enqueue (fx->engine, fx->w, num, seq, now), 0);
    return seq;
}

/*  One engine pass at now, in a transaction of its own; the next due. */
static uint64_t
s_run (fx_t *fx, uint64_t now)
{
    uint64_t next = 0;
    s_begin (fx);
    assert_int_equal (ef_engine_run (fx->engine, fx->w, now, &next), 0);
    s_commit (fx);
    return next;
}

/*  The worker's answer to job i: failed (retryable or not), at now. */
static void
s_fail (fx_t *fx, int i, int retryable, uint64_t now)
{
    s_begin (fx);
    assert_int_equal (ef_engine_outcome (fx->engine, fx->w,
                                         fx->jobs[i]->req.job_id, 0,
                                         EF_STR_NULL, ef_str ("boom"),
                                         retryable, ef_str ("00a1b2c3d4"), now),
                      0);
    s_commit (fx);
}

static ef_state_t
s_state (fx_t *fx, uint32_t num, uint64_t seq)
{
    ef_state_t st;
    s_begin (fx);
    assert_int_equal (ef_process_state_get (fx->w, num, seq, &st), 0);
    st.result = EF_STR_NULL; /* points into the transaction */
    ef_store_write_abort (&fx->w);
    return st;
}

/*  How many jobs are due at any time at all. */
static uint32_t
s_jobs_left (fx_t *fx)
{
    ef_job_t jobs[S_MAX];
    uint32_t n;
    uint64_t next;
    s_begin (fx);
    assert_int_equal (
        ef_process_jobs_due (fx->w, UINT64_MAX, jobs, S_MAX, &n, &next), 0);
    ef_store_write_abort (&fx->w);
    return n;
}

static int
s_setup (void **state)
{
    u_store_setup (state);
    fx_t *fx = realloc (*state, sizeof *fx);
    assert_non_null (fx);
    memset ((char *)fx + sizeof fx->st, 0, sizeof *fx - sizeof fx->st);
    *state = fx;
    u_store_open (&fx->st, 0, 0);
    fx->metrics = ef_metrics_new ();
    assert_non_null (fx->metrics);
    fx->engine = ef_engine_new (s_append, s_dispatch, fx, fx->metrics, NULL);
    assert_non_null (fx->engine);
    ef_uuid_gen_init (&fx->uuids);
    s_begin (fx);
    fx->work = s_stream (fx, "work", S_WORKER);
    s_commit (fx);
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *fx = *state;
    ef_store_write_abort (&fx->w);
    for (int i = 0; i < fx->njobs; i++)
        ef_engine_job_free (fx->jobs[i]);
    ef_engine_destroy (&fx->engine);
    ef_metrics_destroy (&fx->metrics);
    return u_store_teardown (state);
}

/*  The delay before attempt a (2, 3, ...): base doubled per retry, capped. */
static uint64_t
s_delay (uint32_t a)
{
    uint64_t d = S_BASE_MS;
    for (uint32_t i = 2; i < a; i++)
        d *= 2;
    return d > S_MAX_MS ? S_MAX_MS : d;
}

static void
test_failed_attempts_are_retried_with_capped_backoff_then_dead_lettered (
    void **state)
{
    fx_t *fx = *state;
    enum { N = 8 }; /* events, for eight draws of the jitter per attempt */
    uint64_t seq[N], now = T0;
    s_begin (fx);
    for (int e = 0; e < N; e++)
        seq[e] = s_publish (fx, fx->work, now);
    s_commit (fx);
    s_run (fx, now);
    assert_int_equal (fx->njobs, N);
    for (uint32_t a = 1; a <= S_ATTEMPTS; a++) {
        int first = fx->njobs - N; /* this attempt's jobs */
        now += 10;
        int seen[N] = {0}; /* each event once, in the order they are due */
        for (int e = 0; e < N; e++) {
            uint64_t s = fx->jobs[first + e]->req.after;
            assert_true (s >= seq[0] && s <= seq[N - 1]);
            assert_false (seen[s - seq[0]]++);
            s_fail (fx, first + e, 1, now);
        }
        if (a == S_ATTEMPTS)
            break;
        uint64_t latest = 0, d = s_delay (a + 1);
        for (int e = 0; e < N; e++) {
            ef_state_t st = s_state (fx, fx->work, seq[e]);
            assert_int_equal (st.status, EF_STATUS_PENDING);
            assert_int_equal (st.attempts, a);
            assert_false (st.inflight);
            assert_string_equal (st.last_error, "boom");
            /* jitter in the upper half of the delay, never past it */
            assert_true (st.job_due >= now + d / 2);
            assert_true (st.job_due <= now + d);
            latest = st.job_due > latest ? st.job_due : latest;
        }
        /* not one is retried early; every one by the latest due */
        uint64_t next = s_run (fx, now + d / 2 - 1);
        assert_int_equal (fx->njobs, first + N);
        assert_true (next >= now + d / 2);
        s_run (fx, latest);
        assert_int_equal (fx->njobs, first + 2 * N);
        now = latest;
    }
    /* past max_attempts: FAILED, dead-lettered, nothing left to run */
    for (int e = 0; e < N; e++) {
        ef_state_t st = s_state (fx, fx->work, seq[e]);
        assert_int_equal (st.status, EF_STATUS_FAILED);
        assert_int_equal (st.attempts, S_ATTEMPTS);
        ef_dead_t d;
        s_begin (fx);
        assert_int_equal (ef_process_dlq_get (fx->w, fx->work, seq[e], &d), 0);
        ef_store_write_abort (&fx->w);
        assert_int_equal (d.attempts, S_ATTEMPTS);
        assert_string_equal (d.error, "boom");
        assert_int_equal (d.org, 1);
    }
    assert_int_equal (s_jobs_left (fx), 0);
    assert_int_equal (ef_metrics_get (fx->metrics, EF_M_DEAD), N);
    s_run (fx, now + 1000000);
    assert_int_equal (fx->njobs, N * S_ATTEMPTS);
}

static void
test_failure_that_may_not_be_retried_is_dead_lettered_at_once (void **state)
{
    fx_t *fx = *state;
    s_begin (fx);
    uint64_t seq = s_publish (fx, fx->work, T0);
    s_commit (fx);
    s_run (fx, T0);
    assert_int_equal (fx->njobs, 1);
    s_fail (fx, 0, 0, T0 + 5);
    ef_state_t st = s_state (fx, fx->work, seq);
    assert_int_equal (st.status, EF_STATUS_FAILED);
    assert_int_equal (st.attempts, 1);
    assert_int_equal (s_jobs_left (fx), 0);
}

static void
test_unanswered_attempt_counts_as_failed_at_its_timeout (void **state)
{
    fx_t *fx = *state;
    s_begin (fx);
    uint64_t seq = s_publish (fx, fx->work, T0);
    s_commit (fx);
    uint64_t next = s_run (fx, T0);
    assert_int_equal (next, T0 + S_TIMEOUT_MS);
    s_run (fx, T0 + S_TIMEOUT_MS - 1);
    assert_int_equal (fx->njobs, 1); /* still the worker's */
    s_run (fx, T0 + S_TIMEOUT_MS);
    ef_state_t st = s_state (fx, fx->work, seq);
    assert_int_equal (st.attempts, 1);
    assert_non_null (strstr (st.last_error, "no answer"));
    assert_true (st.job_due >= T0 + S_TIMEOUT_MS + S_BASE_MS / 2);
    /* the late answer of the timed-out attempt changes nothing */
    s_fail (fx, 0, 0, T0 + S_TIMEOUT_MS + 1);
    ef_state_t again = s_state (fx, fx->work, seq);
    assert_int_equal (again.status, EF_STATUS_PENDING);
    assert_int_equal (again.job_due, st.job_due);
}

static void
test_replay_resets_attempts_and_is_due_at_once (void **state)
{
    fx_t *fx = *state;
    s_begin (fx);
    uint64_t seq = s_publish (fx, fx->work, T0);
    s_commit (fx);
    s_run (fx, T0);
    s_fail (fx, 0, 0, T0 + 1); /* dead at once */
    uint64_t at = T0 + 60000;
    s_begin (fx);
    assert_int_equal (ef_engine_replay (fx->engine, fx->w, fx->work, seq, at),
                      0);
    s_commit (fx);
    ef_state_t st = s_state (fx, fx->work, seq);
    assert_int_equal (st.status, EF_STATUS_PENDING);
    assert_int_equal (st.attempts, 0);
    assert_int_equal (st.job_due, at);
    assert_int_equal (st.last_error[0], 0);
    ef_dead_t d;
    s_begin (fx);
    assert_int_equal (ef_process_dlq_get (fx->w, fx->work, seq, &d),
                      EF_ENOTFOUND);
    ef_store_write_abort (&fx->w);
    s_run (fx, at);
    assert_int_equal (fx->njobs, 2);
    assert_int_equal (s_state (fx, fx->work, seq).attempts, 1);
    /* a replay of what is not in the queue is NOT_FOUND */
    s_begin (fx);
    assert_int_equal (ef_engine_replay (fx->engine, fx->w, fx->work, seq, at),
                      EF_ENOTFOUND);
    ef_store_write_abort (&fx->w);
}

static void
test_due_jobs_are_taken_in_due_order (void **state)
{
    fx_t *fx = *state;
    s_begin (fx);
    uint64_t late = s_publish (fx, fx->work, T0 + 300);
    uint64_t early = s_publish (fx, fx->work, T0 + 100);
    uint64_t mid = s_publish (fx, fx->work, T0 + 200);
    s_commit (fx);
    /* only what is due, and when the next one is */
    uint64_t next = s_run (fx, T0 + 150);
    assert_int_equal (fx->njobs, 1);
    assert_int_equal (fx->jobs[0]->req.after, early);
    assert_int_equal (next, T0 + 200);
    s_run (fx, T0 + 1000);
    assert_int_equal (fx->njobs, 3);
    assert_int_equal (fx->jobs[1]->req.after, mid);
    assert_int_equal (fx->jobs[2]->req.after, late);
}

static void
test_event_routed_around_a_loop_fails_at_the_hop_limit (void **state)
{
    fx_t *fx = *state;
    ef_engine_set_limits (fx->engine, 1u << 20, 3);
    /* made straight in the store: the cycle check is the writer's */
    s_begin (fx);
    uint32_t a = s_stream (fx, "a", "[{\"type\":\"route\",\"stream\":\"b\"}]");
    uint32_t b = s_stream (fx, "b", "[{\"type\":\"route\",\"stream\":\"a\"}]");
    s_publish (fx, a, T0);
    s_commit (fx);
    for (int pass = 0; pass < 10 && s_jobs_left (fx); pass++)
        s_run (fx, T0 + (uint64_t)pass);
    assert_int_equal (s_jobs_left (fx), 0);
    /* a#1 -> b#1 -> a#2 -> b#2, which has come through 3 routes */
    uint64_t first, last_a, last_b;
    s_begin (fx);
    assert_int_equal (ef_store_stream_bounds (fx->w, a, &first, &last_a), 0);
    assert_int_equal (ef_store_stream_bounds (fx->w, b, &first, &last_b), 0);
    ef_dead_t d;
    assert_int_equal (ef_process_dlq_get (fx->w, b, 2, &d), 0);
    uint64_t dead;
    assert_int_equal (ef_process_dlq_count (fx->w, &dead), 0);
    ef_store_write_abort (&fx->w);
    assert_int_equal (last_a, 2);
    assert_int_equal (last_b, 2);
    assert_int_equal (dead, 1);
    assert_non_null (strstr (d.error, "hop limit"));
    assert_int_equal (s_state (fx, b, 2).status, EF_STATUS_FAILED);
    assert_int_equal (s_state (fx, b, 2).hops, 3);
    assert_int_equal (s_state (fx, a, 2).status, EF_STATUS_PROCESSED);
}

/*  The history as read back: copies of the attempts' texts. */
typedef struct {
    uint32_t step;
    char kind[16], outcome[16], service[32], error[64], to[40], id[40];
    char worker[40];
    uint64_t started_at, duration_ms;
} s_att_t;

typedef struct {
    int n;
    s_att_t a[EF_HISTORY_MAX];
} s_hist_t;

static int
s_hist_add (void *arg, const ef_attempt_t *a)
{
    s_hist_t *h = arg;
    assert_true (h->n < EF_HISTORY_MAX);
    s_att_t *e = &h->a[h->n++];
    e->step = a->step;
    e->started_at = a->started_at;
    e->duration_ms = a->duration_ms;
    snprintf (e->kind, sizeof e->kind, "%s", a->kind);
    snprintf (e->outcome, sizeof e->outcome, "%s", a->outcome);
#define S_CP(f, v)                                                             \
    snprintf (e->f, sizeof e->f, "%.*s", ef_str_set (v) ? (int)(v).len : 0,    \
              ef_str_set (v) ? (v).ptr : "")
    S_CP (service, a->service);
    S_CP (error, a->error);
    S_CP (to, a->routed_to);
    S_CP (id, a->routed_id);
    S_CP (worker, a->worker);
#undef S_CP
    return 0;
}

static uint64_t
s_history (fx_t *fx, uint32_t num, uint64_t seq, s_hist_t *h)
{
    uint64_t dropped = 0;
    memset (h, 0, sizeof *h);
    s_begin (fx);
    assert_int_equal (
        ef_process_history_each (fx->w, num, seq, s_hist_add, h, &dropped), 0);
    ef_store_write_abort (&fx->w);
    return dropped;
}

static void
test_history_tells_each_attempt_and_the_routed_copy (void **state)
{
    fx_t *fx = *state;
    s_begin (fx);
    uint32_t copy = s_stream (fx, "copy", NULL);
    uint32_t num = s_stream (
        fx, "hist",
        "[{\"type\":\"route\",\"stream\":\"copy\"},{\"type\":\"worker\","
        "\"service\":\"svc\",\"max_attempts\":6,\"timeout_ms\":10000}]");
    uint64_t seq = s_publish (fx, num, T0);
    s_commit (fx);
    s_run (fx, T0);
    assert_int_equal (fx->njobs, 1);
    /* two failures, each retried at its due, then done */
    s_fail (fx, 0, 1, T0 + 5);
    uint64_t due = s_state (fx, num, seq).job_due;
    s_run (fx, due);
    assert_int_equal (fx->njobs, 2);
    s_fail (fx, 1, 1, due + 7);
    due = s_state (fx, num, seq).job_due;
    s_run (fx, due);
    assert_int_equal (fx->njobs, 3);
    s_begin (fx);
    assert_int_equal (ef_engine_outcome (fx->engine, fx->w,
                                         fx->jobs[2]->req.job_id, 1,
                                         EF_STR_NULL, EF_STR_NULL, 0,
                                         ef_str ("00ffee0011"), due + 9),
                      0);
    s_commit (fx);
    assert_int_equal (s_state (fx, num, seq).status, EF_STATUS_PROCESSED);

    s_hist_t h;
    assert_int_equal (s_history (fx, num, seq, &h), 0);
    assert_int_equal (h.n, 4);
    assert_string_equal (h.a[0].kind, "route");
    assert_string_equal (h.a[0].outcome, "routed");
    assert_int_equal (h.a[0].step, 0);
    /* the copy is the first event of stream copy, with that id */
    ef_stream_rec_t cs;
    ef_uuid_t cid;
    uint64_t cseq = 0;
    s_begin (fx);
    assert_int_equal (ef_store_stream_get (fx->w, copy, &cs), 0);
    assert_int_equal (ef_uuid_parse (h.a[0].id, strlen (h.a[0].id), &cid), 0);
    assert_int_equal (ef_store_event_find_in (fx->w, copy, &cid, &cseq), 0);
    ef_store_write_abort (&fx->w);
    assert_string_equal (h.a[0].to, cs.id);
    assert_int_equal (cseq, 1);
    const char *outcomes[] = {"failed", "failed", "done"};
    uint64_t took[] = {5, 7, 9};
    for (int i = 1; i <= 3; i++) {
        assert_int_equal (h.a[i].step, 1);
        assert_string_equal (h.a[i].kind, "worker");
        assert_string_equal (h.a[i].service, "svc");
        assert_string_equal (h.a[i].outcome, outcomes[i - 1]);
        assert_string_equal (h.a[i].error, i < 3 ? "boom" : "");
        assert_int_equal (h.a[i].duration_ms, took[i - 1]);
        /* the worker that answered */
        assert_string_equal (h.a[i].worker,
                             i < 3 ? "00a1b2c3d4" : "00ffee0011");
    }
    assert_string_equal (h.a[0].worker, ""); /* a route has none */
    assert_int_equal (h.a[1].started_at, T0);
    assert_true (h.a[2].started_at > h.a[1].started_at);
}

static void
test_history_keeps_the_newest_attempts_and_counts_the_dropped (void **state)
{
    fx_t *fx = *state;
    s_begin (fx);
    uint64_t seq = s_publish (fx, fx->work, T0);
    for (uint32_t i = 0; i < EF_HISTORY_MAX + 8; i++) {
        ef_attempt_t a = {.step = i, .kind = "worker", .outcome = "failed"};
        assert_int_equal (ef_process_history_add (fx->w, fx->work, seq, &a), 0);
    }
    s_commit (fx);
    s_hist_t h;
    assert_int_equal (s_history (fx, fx->work, seq, &h), 8);
    assert_int_equal (h.n, EF_HISTORY_MAX);
    assert_int_equal (h.a[0].step, 8);
    assert_int_equal (h.a[EF_HISTORY_MAX - 1].step, EF_HISTORY_MAX + 7);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (
            test_failed_attempts_are_retried_with_capped_backoff_then_dead_lettered,
            s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_failure_that_may_not_be_retried_is_dead_lettered_at_once,
            s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_unanswered_attempt_counts_as_failed_at_its_timeout, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown (
            test_replay_resets_attempts_and_is_due_at_once, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown (test_due_jobs_are_taken_in_due_order,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_event_routed_around_a_loop_fails_at_the_hop_limit, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown (
            test_history_tells_each_attempt_and_the_routed_copy, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown (
            test_history_keeps_the_newest_attempts_and_counts_the_dropped,
            s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
