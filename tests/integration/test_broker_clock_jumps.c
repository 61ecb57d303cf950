/*  The wall clock stepped ±300 s under a real broker (issue 14, item 3):
    the broker runs under libfaketime (Debian's faketime package), its
    offset read from a file on every clock read and the monotonic clock
    left alone (DONT_FAKE_MONOTONIC=1), which is what an NTP step does. A
    pending retry runs within its backoff, not 300 s early or late; a
    consumer group lease expires on time, not at once and not 300 s late;
    an event's received_at is the broker's wall clock at ingest, as it
    reads then (after a backwards step, later events carry earlier times;
    seq is the order). Each run prints the delays it measured
    ("figure: NAME MS"); tests/chaos/clock_jumps.sh repeats it. */
#define _GNU_SOURCE
#include "harness.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_time.h"
#include "eventflow/ef_worker.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define WAIT_MS  20000 /* a deadline for what must happen, not a timing */
#define STEP_S   300
#define LEASE_MS 3000
#define BACKOFF  4000 /* a retry is due 2 to 4 s after a failure */
#define SLACK_MS 1000 /* the broker's and the test's own delays */

static char s_dir[256], s_offset_file[300];
static h_broker_t s_broker;
static ef_client_t *s_admin;

/* ---------------------------------------------------------------- helpers */

/*  Step the broker's wall clock to real time + secs (libfaketime reads
    the file at each clock read: FAKETIME_NO_CACHE). */
static void
s_clock_offset (int secs)
{
    char tmp[320];
    snprintf (tmp, sizeof tmp, "%s.tmp", s_offset_file);
    FILE *f = fopen (tmp, "w");
    assert_non_null (f);
    fprintf (f, "%+d\n", secs);
    assert_int_equal (fclose (f), 0);
    assert_int_equal (rename (tmp, s_offset_file), 0); /* never half read */
}

static void
s_create (const char *name, const char *pipeline)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_CREATE_STREAM;
    req.name = ef_str (name);
    req.pipeline = ef_str (pipeline);
    assert_int_equal (ef_client_call (s_admin, &req, &rep), 0);
}

/*  Publish one event; its seq and received_at. */
static uint64_t
s_pub (const char *stream, uint64_t *received_at)
{
    ef_event_in_t ev = {.type = ef_str ("clock.test"),
                        .payload = ef_str ("{\"n\":1}")};
    ef_publish_result_t res;
    assert_int_equal (ef_client_publish (s_admin, stream, &ev, 1, &res), 0);
    assert_int_equal (res.code, 0);
    if (received_at)
        *received_at = res.received_at;
    return res.seq;
}

static void
s_figure (const char *name, int64_t ms)
{
    printf ("figure: %s %lld\n", name, (long long)ms);
    fflush (stdout);
}

/*  A delay the policy allows: at least lo, at most hi (ms). */
static void
s_assert_within (const char *what, int64_t ms, int64_t lo, int64_t hi)
{
    if (ms < lo || ms > hi)
        fail_msg ("%s took %lld ms, the policy says %lld to %lld", what,
                  (long long)ms, (long long)lo, (long long)hi);
}

/* ---------------------------------------------------------------- worker */

/*  A worker that fails the first two attempts and notes when each
    attempt came (monotonic ms). */
typedef struct {
    int attempts; /* atomic: the worker's thread counts */
    int64_t at[8];
} wk_t;

static void
s_handle (void *arg, const ef_job_t *job, ef_job_outcome_t *out)
{
    wk_t *w = arg;
    int n = __atomic_load_n (&w->attempts, __ATOMIC_SEQ_CST);
    if (n < 8)
        w->at[n] = ef_time_mono_ms ();
    __atomic_store_n (&w->attempts, n + 1, __ATOMIC_SEQ_CST);
    if (job->attempt <= 2)
        out->ok = 0, out->reason = "not yet";
}

typedef struct {
    wk_t *w;
    int n;
} s_nth_t;

/*  h_wait_until: the worker's attempt n (1-based) has come. */
static int
s_nth_came (void *arg)
{
    s_nth_t *a = arg;
    return __atomic_load_n (&a->w->attempts, __ATOMIC_SEQ_CST) >= a->n;
}

static void
s_wait_attempt (wk_t *w, int n)
{
    s_nth_t a = {w, n};
    if (h_wait_until (s_nth_came, &a, WAIT_MS))
        fail_msg ("attempt %d did not come within %d ms", n, WAIT_MS);
}

/*  h_wait_until: the event at seq of stream "ticks" has attempts >= n
    and a last_error (the broker took the failure in). */
typedef struct {
    uint64_t seq;
    uint32_t attempts;
} s_failed_t;

static int
s_copy_attempts (void *arg, const ef_event_t *e)
{
    s_failed_t *f = arg;
    f->attempts = e->last_error.len ? e->attempts : 0;
    return 1;
}

static int
s_failure_taken (void *arg)
{
    s_failed_t *want = arg, got = {0};
    if (ef_client_read (s_admin, "ticks", want->seq - 1, 1, s_copy_attempts,
                        &got, NULL, NULL))
        return -1;
    return got.attempts >= want->attempts;
}

/* ----------------------------------------------------------------- setup */

static int
s_setup (void **state)
{
    (void)state;
    if (h_tempdir (s_dir))
        return -1;
    snprintf (s_offset_file, sizeof s_offset_file, "%s.faketime", s_dir);
    s_clock_offset (0);
    /* only the broker runs on the faked clock: set for its start */
    char preload[1024];
    snprintf (preload, sizeof preload, "%s%s%s", EF_ASAN_RUNTIME,
              EF_ASAN_RUNTIME[0] ? ":" : "", EF_FAKETIME_LIB);
    setenv ("LD_PRELOAD", preload, 1);
    setenv ("FAKETIME_TIMESTAMP_FILE", s_offset_file, 1);
    setenv ("FAKETIME_NO_CACHE", "1", 1);
    setenv ("DONT_FAKE_MONOTONIC", "1", 1);
    const char *extra[] = {"--group-lease-ms", "3000", NULL};
    int rc = h_broker_start (&s_broker, s_dir, extra);
    unsetenv ("LD_PRELOAD");
    unsetenv ("FAKETIME_TIMESTAMP_FILE");
    unsetenv ("FAKETIME_NO_CACHE");
    unsetenv ("DONT_FAKE_MONOTONIC");
    if (rc)
        return -1;
    s_admin = h_client (&s_broker);
    return s_admin ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void)state;
    ef_client_destroy (&s_admin);
    int rc = h_broker_stop (&s_broker);
    h_rmrf (s_dir);
    unlink (s_offset_file);
    return rc == 0 ? 0 : -1;
}

static int
s_clock_reset (void **state)
{
    (void)state;
    s_clock_offset (0);
    return 0;
}

/* ----------------------------------------------------------------- tests */

/*  received_at is the broker's wall clock at ingest as it reads then:
    300 s ahead after a +300 s step, 300 s behind after a -300 s one (a
    later event with an earlier time); seq keeps the order. This also
    shows the steps reach the broker, so the tests below are not
    vacuous. */
static void
test_event_times_follow_the_wall_clock (void **state)
{
    (void)state;
    s_create ("times", NULL);
    uint64_t t0, t1, t2, real;
    uint64_t s0 = s_pub ("times", &t0);
    real = ef_time_now_ms ();
    assert_true (t0 + 2000 > real && t0 < real + 2000);

    s_clock_offset (STEP_S);
    uint64_t s1 = s_pub ("times", &t1);
    real = ef_time_now_ms () + STEP_S * 1000;
    assert_true (t1 + 2000 > real && t1 < real + 2000);

    s_clock_offset (-STEP_S);
    uint64_t s2 = s_pub ("times", &t2);
    real = ef_time_now_ms () - STEP_S * 1000;
    assert_true (t2 + 2000 > real && t2 < real + 2000);
    assert_true (t2 < t0); /* backwards, as the clock went */
    assert_true (s0 < s1 && s1 < s2);
}

/*  A retry waiting on its backoff (2 to 4 s) when the clock steps +300 s
    runs 2 to 4 s after the failure, not at once; the next, waiting when
    the clock steps back 600 s, likewise, not 600 s late. */
static void
test_pending_retries_keep_their_backoff (void **state)
{
    (void)state;
    s_create ("ticks", "[{\"type\":\"worker\",\"service\":\"tick\","
                       "\"max_attempts\":5,\"backoff\":{\"base_ms\":4000,"
                       "\"max_ms\":4000}}]");
    wk_t w = {0};
    h_worker_t hw = {&s_broker, "tick", s_handle, &w};
    assert_int_equal (h_worker_start (&hw), 0);
    uint64_t seq = s_pub ("ticks", NULL);

    s_wait_attempt (&w, 1);
    s_failed_t f = {seq, 1};
    assert_int_equal (h_wait_until (s_failure_taken, &f, WAIT_MS), 0);
    s_clock_offset (STEP_S);
    s_wait_attempt (&w, 2);
    int64_t ahead = w.at[1] - w.at[0];
    s_figure ("retry_after_step_forward_ms", ahead);

    f.attempts = 2;
    assert_int_equal (h_wait_until (s_failure_taken, &f, WAIT_MS), 0);
    s_clock_offset (-STEP_S);
    s_wait_attempt (&w, 3);
    int64_t behind = w.at[2] - w.at[1];
    s_figure ("retry_after_step_back_ms", behind);

    h_worker_stop (&hw);
    s_assert_within ("the retry after +300 s", ahead, BACKOFF / 2 - 250,
                     BACKOFF + SLACK_MS);
    s_assert_within ("the retry after -600 s", behind, BACKOFF / 2 - 250,
                     BACKOFF + SLACK_MS);
}

/* ---------------------------------------------------------------- leases */

typedef struct {
    const char *member;
    uint32_t n;
} s_fetch_t;

static int
s_count (void *arg, const ef_event_t *ev)
{
    (void)ev;
    ((s_fetch_t *)arg)->n++;
    return 0;
}

/*  One fetch by a member of group g on "leased": how many events. */
static uint32_t
s_fetch (const char *member)
{
    s_fetch_t f = {member, 0};
    assert_int_equal (ef_client_fetch (s_admin, "leased", "g", member, 10, 0,
                                       s_count, &f, NULL),
                      0);
    return f.n;
}

static int
s_fetch_gets (void *arg)
{
    return s_fetch (arg) > 0;
}

/*  A 3 s lease taken before a +300 s step is not expired by it (another
    member gets nothing), and goes to another member 3 s after it was
    taken; one taken before a -600 s step goes 3 s after too, not 600 s
    later. */
static void
test_leases_expire_on_time_across_steps (void **state)
{
    (void)state;
    s_create ("leased", NULL);
    s_pub ("leased", NULL);
    s_pub ("leased", NULL);

    int64_t taken = ef_time_mono_ms ();
    assert_int_equal (s_fetch ("a"), 2);
    s_clock_offset (STEP_S);
    assert_int_equal (s_fetch ("b"), 0); /* a's lease still holds */
    assert_int_equal (h_wait_until (s_fetch_gets, "b", WAIT_MS), 0);
    int64_t ahead = ef_time_mono_ms () - taken;
    s_figure ("lease_after_step_forward_ms", ahead);

    taken = ef_time_mono_ms (); /* b's lease, just claimed */
    s_clock_offset (-STEP_S);
    assert_int_equal (s_fetch ("a"), 0);
    assert_int_equal (h_wait_until (s_fetch_gets, "a", WAIT_MS), 0);
    int64_t behind = ef_time_mono_ms () - taken;
    s_figure ("lease_after_step_back_ms", behind);

    s_assert_within ("the lease across +300 s", ahead, LEASE_MS - 250,
                     LEASE_MS + SLACK_MS);
    s_assert_within ("the lease across -600 s", behind, LEASE_MS - 250,
                     LEASE_MS + SLACK_MS);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown (test_event_times_follow_the_wall_clock,
                                   s_clock_reset),
        cmocka_unit_test_teardown (test_pending_retries_keep_their_backoff,
                                   s_clock_reset),
        cmocka_unit_test_teardown (test_leases_expire_on_time_across_steps,
                                   s_clock_reset),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
