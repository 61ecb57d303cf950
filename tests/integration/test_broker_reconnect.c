/*  Clients across what a broker goes through: kill -9 and a restart on
    the same data dir and port, SIGSTOP beyond the heartbeat. `consume`,
    `tail -f` and `worker` say on stderr that they lost the broker, come
    back by themselves and go on where they were; `produce` retries with
    the same event ids; a worker's job longer than the broker's
    worker-silence limit is not taken for a dead worker. Every wait is on
    a line of output or a reply, never a sleep. */
#include "eventflow/ef_consumer.h"
#include "eventflow/ef_time.h"
#include "harness.h"
#include "h_proc.h"

#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zmq.h>

#define WAIT_MS 20000

/*  Fast liveness for the CLI processes: a lost broker is noticed within
    a second, and reconnects back off to 200 ms at most. */
static const char *const s_env[] = {"EVENTFLOW_HEARTBEAT=1000",
                                    "EVENTFLOW_RECONNECT_MAX=200", NULL};

typedef struct {
    char dir[256];
    char endpoint[256];
    h_broker_t b;
    h_proc_t *procs[4]; /* CLI processes still running */
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    const char *extra[] = {"--worker-silence", "2500", NULL};
    if (!f || h_tempdir (f->dir) || h_broker_start (&f->b, f->dir, extra))
        return -1;
    snprintf (f->endpoint, sizeof f->endpoint, "%s", f->b.endpoint);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 4; i++) /* left running by a failed test */
        if (f->procs[i])
            h_proc_end (&f->procs[i], SIGKILL, WAIT_MS);
    if (f->b.pid > 0) {
        kill (f->b.pid, SIGCONT); /* a failed test may leave it stopped */
        h_broker_stop (&f->b);
    }
    h_rmrf (f->dir);
    free (f);
    return 0;
}

/*  `eventflow ARGS...` beside the test, with the fast liveness. */
static h_proc_t *
s_spawn (fixture_t *f, const char *const *args)
{
    for (int i = 0; i < 4; i++)
        if (!f->procs[i]) {
            f->procs[i] = h_proc_start (&f->b, s_env, args);
            assert_non_null (f->procs[i]);
            return f->procs[i];
        }
    fail_msg ("too many processes");
    return NULL;
}

/*  End p (sending sig); its exit code. */
static int
s_end (fixture_t *f, h_proc_t *p, int sig)
{
    for (int i = 0; i < 4; i++)
        if (f->procs[i] == p)
            return h_proc_end (&f->procs[i], sig, WAIT_MS);
    fail_msg ("no such process");
    return -1;
}

/*  The broker again, on the same data dir and port. */
static void
s_restart (fixture_t *f)
{
    const char *extra[] = {"--endpoint", f->endpoint, "--worker-silence",
                           "2500", NULL};
    assert_int_equal (h_broker_start (&f->b, f->dir, extra), 0);
    assert_string_equal (f->b.endpoint, f->endpoint);
}

/*  `eventflow ARGS...` run to its end; asserts exit code 0. */
static void
s_cli_ok (fixture_t *f, const char *in, const char *const *args)
{
    char *out, *err;
    int rc = h_cli (&f->b, in, &out, &err, args);
    if (rc != 0)
        fprintf (stderr, "eventflow %s: %d\n%s%s", args[0], rc, out, err);
    assert_int_equal (rc, 0);
    free (out), free (err);
}

static void
s_create (fixture_t *f, const char *name, const char *pipeline)
{
    ef_client_t *c = h_client (&f->b);
    assert_non_null (c);
    ef_request_t req = {0};
    req.cmd = EF_CMD_CREATE_STREAM;
    req.name = ef_str (name);
    req.pipeline = ef_str (pipeline);
    assert_int_equal (ef_client_call (c, &req, NULL), 0);
    ef_client_destroy (&c);
}

static void
s_produce (fixture_t *f, const char *stream, const char *lines)
{
    const char *args[] = {"produce", stream, "--type", "t", NULL};
    s_cli_ok (f, lines, args);
}

/* ---------------------------------------------------------------- consume */

static void
test_consume_resumes_after_kill9_and_restart (void **state)
{
    fixture_t *f = *state;
    s_create (f, "r-consume", NULL);
    s_produce (f, "r-consume", "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
    /* the group's committed offset: seq 2 */
    const char *first[] = {"consume", "r-consume", "--group", "g",
                           "--max",   "2",         NULL};
    s_cli_ok (f, NULL, first);
    const char *args[] = {"consume", "r-consume", "--group", "g", NULL};
    h_proc_t *p = s_spawn (f, args);
    assert_int_equal (h_proc_wait (p, 0, "\"seq\":3", 1, WAIT_MS), 0);

    h_broker_kill9 (&f->b);
    assert_int_equal (h_proc_wait (p, 1, "lost the subscription", 1, WAIT_MS),
                      0);
    s_restart (f);
    assert_int_equal (h_proc_wait (p, 1, "subscribed again", 1, WAIT_MS), 0);
    s_produce (f, "r-consume", "{\"n\":4}\n{\"n\":5}\n");
    assert_int_equal (h_proc_wait (p, 0, "\"seq\":5", 1, WAIT_MS), 0);
    assert_true (h_proc_count (p, 0, "\"seq\":4,") >= 1);
    /* from the committed offset: seq 3 may come again, 1 and 2 not */
    assert_int_equal (h_proc_count (p, 0, "\"seq\":1,"), 0);
    assert_int_equal (h_proc_count (p, 0, "\"seq\":2,"), 0);
    assert_int_equal (s_end (f, p, SIGTERM), 0);
}

static void
test_consume_notices_a_paused_broker (void **state)
{
    fixture_t *f = *state;
    s_create (f, "r-pause", NULL);
    s_produce (f, "r-pause", "{\"n\":1}\n");
    const char *args[] = {"consume", "r-pause", "--group", "g", NULL};
    h_proc_t *p = s_spawn (f, args);
    assert_int_equal (h_proc_wait (p, 0, "\"seq\":1", 1, WAIT_MS), 0);

    kill (f->b.pid, SIGSTOP); /* longer than the consumer's heartbeat */
    assert_int_equal (h_proc_wait (p, 1, "lost the subscription", 1, WAIT_MS),
                      0);
    kill (f->b.pid, SIGCONT);
    assert_int_equal (h_proc_wait (p, 1, "subscribed again", 1, WAIT_MS), 0);
    s_produce (f, "r-pause", "{\"n\":2}\n");
    assert_int_equal (h_proc_wait (p, 0, "\"seq\":2", 1, WAIT_MS), 0);
    assert_int_equal (s_end (f, p, SIGTERM), 0);
}

/*  What h_wait_until looks for: a TCP connection of process pid to the
    broker's port that the broker has closed (CLOSE_WAIT on the process's
    side: the kernel took the broker's FIN while the process sleeps). */
typedef struct {
    pid_t pid;
    unsigned port;
} s_closed_t;

static int
s_broker_closed_it (void *arg)
{
    s_closed_t *c = arg;
    char path[64], link[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/fd", (int)c->pid);
    DIR *d = opendir (path);
    if (!d)
        return -1;
    unsigned long inodes[64];
    int n = 0;
    struct dirent *e;
    while (n < 64 && (e = readdir (d))) {
        char fd[600];
        snprintf (fd, sizeof fd, "%s/%s", path, e->d_name);
        ssize_t len = readlink (fd, link, sizeof link - 1);
        if (len <= 0)
            continue;
        link[len] = 0;
        if (sscanf (link, "socket:[%lu]", &inodes[n]) == 1)
            n++;
    }
    closedir (d);
    int closed = 0;
    const char *tables[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    for (int t = 0; t < 2 && !closed; t++) {
        FILE *f = fopen (tables[t], "r");
        while (f && fgets (line, sizeof line, f)) {
            char rem[64];
            unsigned st, rport;
            unsigned long inode;
            /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
            if (sscanf (line, " %*s %*s %63s %x %*s %*s %*s %*u %*u %lu", rem,
                        &st, &inode) != 3)
                continue;
            char *colon = strrchr (rem, ':');
            if (!colon || sscanf (colon + 1, "%x", &rport) != 1)
                continue;
            for (int i = 0; i < n; i++)
                if (inode == inodes[i] && rport == c->port && st == 0x08)
                    closed = 1;
        }
        if (f)
            fclose (f);
    }
    return closed;
}

/*  The consumer ITSELF stopped (SIGSTOP) beyond the broker's heartbeat
    timeout: the broker drops its connection and its subscription; once
    continued, it says it lost the subscription, subscribes again, and
    prints what was published while it slept, then what comes next. */
static void
test_consume_survives_being_stopped_beyond_the_heartbeat (void **state)
{
    fixture_t *f = *state;
    /* this test's broker drops a silent peer after 1 s */
    assert_int_equal (h_broker_stop (&f->b), 0);
    const char *extra[] = {"--endpoint", f->endpoint, "--heartbeat-timeout",
                           "1000", NULL};
    assert_int_equal (h_broker_start (&f->b, f->dir, extra), 0);
    s_create (f, "r-sleeper", NULL);
    s_produce (f, "r-sleeper", "{\"n\":1}\n");
    const char *args[] = {"consume", "r-sleeper", "--group", "g", NULL};
    h_proc_t *p = s_spawn (f, args);
    assert_int_equal (h_proc_wait (p, 0, "\"seq\":1,", 1, WAIT_MS), 0);

    kill (h_proc_pid (p), SIGSTOP);
    /* the event that follows the broker's timeout: it closed the
       connection of the stopped consumer */
    s_closed_t c = {h_proc_pid (p), 0};
    const char *colon = strrchr (f->endpoint, ':');
    assert_non_null (colon);
    c.port = (unsigned)atoi (colon + 1);
    if (h_wait_until (s_broker_closed_it, &c, WAIT_MS)) {
        kill (h_proc_pid (p), SIGCONT);
        fail_msg ("the broker never closed the stopped consumer's connection");
    }
    s_produce (f, "r-sleeper", "{\"n\":2}\n");
    kill (h_proc_pid (p), SIGCONT);
    assert_int_equal (h_proc_wait (p, 1, "lost the subscription", 1, WAIT_MS),
                      0);
    assert_int_equal (h_proc_wait (p, 1, "subscribed again", 1, WAIT_MS), 0);
    assert_int_equal (h_proc_wait (p, 0, "\"seq\":2,", 1, WAIT_MS), 0);
    s_produce (f, "r-sleeper", "{\"n\":3}\n");
    assert_int_equal (h_proc_wait (p, 0, "\"seq\":3,", 1, WAIT_MS), 0);
    assert_int_equal (s_end (f, p, SIGTERM), 0);
}

static void
test_consume_hears_the_broker_shut_down (void **state)
{
    fixture_t *f = *state;
    s_create (f, "r-stop", NULL);
    s_produce (f, "r-stop", "{\"n\":1}\n");
    const char *args[] = {"consume", "r-stop", "--group", "g", NULL};
    h_proc_t *p = s_spawn (f, args);
    assert_int_equal (h_proc_wait (p, 0, "\"seq\":1", 1, WAIT_MS), 0);
    /* a raw subscriber beside it, whose socket keeps what came when the
       connection goes (no ZMQ_IMMEDIATE), reads the broker's last word */
    void *ctx = zmq_ctx_new ();
    void *raw = zmq_socket (ctx, ZMQ_DEALER);
    assert_int_equal (h_curve_socket (&f->b, raw), 0);
    assert_int_equal (zmq_connect (raw, f->b.endpoint), 0);
    ef_buf_t b;
    ef_buf_init (&b);
    ef_request_t req = {.v = 1,
                        .id = 77,
                        .cmd = EF_CMD_SUBSCRIBE,
                        .stream = ef_str ("r-stop"),
                        .group = ef_str ("raw"),
                        .credit = 1};
    assert_int_equal (ef_proto_encode_request (&b, &req), 0);
    assert_int_equal ((int)zmq_send (raw, b.data, b.len, 0), (int)b.len);
    ef_buf_free (&b);
    int timeout = WAIT_MS;
    zmq_setsockopt (raw, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    char frame[4096];
    ef_reply_t rep;
    int n = zmq_recv (raw, frame, sizeof frame, 0); /* the reply */
    assert_true (n > 0 && n <= (int)sizeof frame);
    assert_int_equal (ef_proto_decode_reply (frame, (size_t)n, &rep), 0);
    assert_int_equal (rep.ok, 1);
    n = zmq_recv (raw, frame, sizeof frame, 0); /* the one event */
    assert_true (n > 0 && n <= (int)sizeof frame);

    h_broker_stop (&f->b);
    n = zmq_recv (raw, frame, sizeof frame, 0);
    assert_true (n > 0 && n <= (int)sizeof frame);
    assert_int_equal (ef_proto_decode_reply (frame, (size_t)n, &rep), 0);
    assert_int_equal (rep.id, 77);
    assert_int_equal (rep.ok, 0);
    assert_int_equal (rep.code, EF_EUNAVAILABLE);
    ef_mpr_t r;
    int push = 0;
    assert_int_equal (ef_proto_reply_find (&rep, "push", &r), 0);
    assert_int_equal (ef_mpr_bool (&r, &push), 0);
    assert_true (push);
    zmq_close (raw);
    zmq_ctx_term (ctx);

    /* the CLI says it lost the subscription: for the broker's reason when
       the frame was read before the connection went, else for that */
    assert_int_equal (h_proc_wait (p, 1, "lost the subscription", 1, WAIT_MS),
                      0);
    s_restart (f);
    assert_int_equal (h_proc_wait (p, 1, "subscribed again", 1, WAIT_MS), 0);
    s_produce (f, "r-stop", "{\"n\":2}\n");
    assert_int_equal (h_proc_wait (p, 0, "\"seq\":2", 1, WAIT_MS), 0);
    assert_int_equal (s_end (f, p, SIGTERM), 0);
}

/*  What a consumer's notify callback heard. */
typedef struct {
    int down, up;
    char last[512];
} news_t;

static void
s_news (void *arg, int up, const char *message)
{
    news_t *n = arg;
    if (up)
        n->up++;
    else
        n->down++;
    snprintf (n->last, sizeof n->last, "%s", message);
}

static int
s_count_event (void *arg, const ef_event_t *ev)
{
    (void)ev;
    (*(int *)arg)++;
    return 0;
}

static void
test_consumer_learns_its_stream_was_deleted (void **state)
{
    fixture_t *f = *state;
    s_create (f, "r-gone", NULL);
    s_produce (f, "r-gone", "{\"n\":1}\n");
    ef_client_t *c = h_client (&f->b);
    assert_non_null (c);
    ef_consumer_t *k = ef_consumer_new (c, "r-gone", "g");
    news_t news = {0};
    ef_consumer_set_notify (k, s_news, &news);
    assert_int_equal (ef_consumer_start (k, 10), 0);
    int got = 0;
    assert_int_equal (ef_consumer_poll (k, WAIT_MS, s_count_event, &got), 1);

    ef_client_t *admin = h_client (&f->b);
    assert_non_null (admin);
    ef_request_t req = {0};
    req.cmd = EF_CMD_DELETE_STREAM;
    req.stream = ef_str ("r-gone");
    assert_int_equal (ef_client_call (admin, &req, NULL), 0);
    ef_client_destroy (&admin);

    /* the broker's last push ends the subscription, on a live connection */
    int rc = 0;
    int64_t until = ef_time_mono_ms () + WAIT_MS;
    while (rc >= 0 && ef_time_mono_ms () < until)
        rc = ef_consumer_poll (k, 500, s_count_event, &got);
    assert_int_equal (rc, EF_ENOTFOUND);
    assert_int_equal (news.down, 1);
    assert_int_equal (news.up, 0);
    assert_non_null (strstr (news.last, "the stream was deleted"));
    assert_int_equal (ef_consumer_subscribed (k), 0);
    ef_consumer_destroy (&k);
    ef_client_destroy (&c);
}

/* ---------------------------------------------------------------- produce */

static void
test_produce_retries_across_kill9_and_restart (void **state)
{
    fixture_t *f = *state;
    s_create (f, "r-prod", NULL);
    /* retrying is the default (--retry-for 60) */
    const char *args[] = {"produce", "r-prod", "--type", "t", NULL};
    h_proc_t *p = s_spawn (f, args);
    char line[64];
    for (int i = 1; i <= 5; i++) {
        snprintf (line, sizeof line, "{\"n\":%d}\n", i);
        assert_int_equal (h_proc_write (p, line), 0);
    }
    assert_int_equal (h_proc_wait (p, 0, "ACCEPTED", 5, WAIT_MS), 0);

    h_broker_kill9 (&f->b);
    for (int i = 6; i <= 10; i++) {
        snprintf (line, sizeof line, "{\"n\":%d}\n", i);
        assert_int_equal (h_proc_write (p, line), 0);
    }
    assert_int_equal (h_proc_wait (p, 1, "sending again", 1, WAIT_MS), 0);
    s_restart (f);
    h_proc_close_stdin (p);
    assert_int_equal (h_proc_wait (p, 1, "produced 10 events", 1, WAIT_MS), 0);
    /* one result line per event (stdout is flushed at the end) */
    assert_int_equal (h_proc_wait (p, 0, "\"seq\":", 10, WAIT_MS), 0);
    assert_int_equal (h_proc_count (p, 0, "\"seq\":"), 10);
    assert_int_equal (s_end (f, p, 0), 0);
    char *out;

    /* every line stored exactly once */
    char *err;
    const char *read[] = {"read", "r-prod", NULL};
    assert_int_equal (h_cli (&f->b, NULL, &out, &err, read), 0);
    for (int i = 1; i <= 10; i++) {
        snprintf (line, sizeof line, "\"payload\":{\"n\":%d}", i);
        const char *at = strstr (out, line);
        assert_non_null (at);
        assert_null (strstr (at + 1, line));
    }
    assert_null (strstr (out, "\"seq\":11"));
    free (out), free (err);
}

/* ---------------------------------------------------------------- tail */

static void
test_tail_follow_survives_kill9_and_restart (void **state)
{
    fixture_t *f = *state;
    s_create (f, "r-tail", NULL);
    s_produce (f, "r-tail", "{\"n\":1}\n");
    const char *args[] = {"tail", "r-tail", "-f", NULL};
    h_proc_t *p = s_spawn (f, args);
    assert_int_equal (h_proc_wait (p, 0, "\"seq\":1,", 1, WAIT_MS), 0);
    h_broker_kill9 (&f->b);
    assert_int_equal (h_proc_wait (p, 1, "lost the broker", 1, WAIT_MS), 0);
    s_restart (f);
    assert_int_equal (
        h_proc_wait (p, 1, "the broker answers again", 1, WAIT_MS), 0);
    s_produce (f, "r-tail", "{\"n\":2}\n");
    assert_int_equal (h_proc_wait (p, 0, "\"seq\":2,", 1, WAIT_MS), 0);
    assert_int_equal (h_proc_count (p, 0, "\"seq\":1,"), 1);
    assert_int_equal (s_end (f, p, SIGTERM), 0);
}

/* ---------------------------------------------------------------- worker */

/*  A stream whose events go to workers of service, then on to the stream
    done (followed by a `tail -f`, whose lines say what was processed). */
static h_proc_t *
s_worker_stream (fixture_t *f, const char *stream, const char *service,
                 const char *done)
{
    char pipeline[512];
    snprintf (pipeline, sizeof pipeline,
              "[{\"type\":\"worker\",\"service\":\"%s\","
              "\"max_attempts\":2,\"timeout_ms\":30000},"
              "{\"type\":\"route\",\"stream\":\"%s\"}]",
              service, done);
    s_create (f, done, NULL);
    s_create (f, stream, pipeline);
    const char *args[] = {"tail", done, "-f", NULL};
    h_proc_t *t = s_spawn (f, args);
    return t;
}

static void
test_worker_attaches_again_after_kill9_and_restart (void **state)
{
    fixture_t *f = *state;
    h_proc_t *t = s_worker_stream (f, "r-work", "svc", "r-work-done");
    const char *args[] = {
        "worker", "--service", "svc", "--exec", "cat >/dev/null; echo 1", NULL};
    h_proc_t *w = s_spawn (f, args);
    assert_int_equal (h_proc_wait (w, 1, "ready", 1, WAIT_MS), 0);
    s_produce (f, "r-work", "{\"n\":1}\n");
    assert_int_equal (h_proc_wait (t, 0, "\"seq\":1,", 1, WAIT_MS), 0);

    h_broker_kill9 (&f->b);
    assert_int_equal (
        h_proc_wait (w, 1, "the broker is not answering", 1, WAIT_MS), 0);
    s_restart (f);
    assert_int_equal (h_proc_wait (w, 1, "the broker is back", 1, WAIT_MS), 0);
    s_produce (f, "r-work", "{\"n\":2}\n");
    assert_int_equal (h_proc_wait (t, 0, "\"seq\":2,", 1, WAIT_MS), 0);
    assert_int_equal (s_end (f, w, SIGTERM), 0);
    assert_int_equal (s_end (f, t, SIGTERM), 0);
}

static void
test_worker_job_longer_than_the_silence_limit_succeeds_first_time (void **state)
{
    fixture_t *f = *state;
    /* the broker drops a worker silent for 2.5 s (--worker-silence); the
       job takes 4 s */
    h_proc_t *t = s_worker_stream (f, "r-long", "slow", "r-long-done");
    const char *args[] = {"worker",
                          "--service",
                          "slow",
                          "--exec",
                          "cat >/dev/null; sleep 4; echo 1",
                          NULL};
    h_proc_t *w = s_spawn (f, args);
    assert_int_equal (h_proc_wait (w, 1, "ready", 1, WAIT_MS), 0);
    s_produce (f, "r-long", "{\"n\":1}\n");
    assert_int_equal (h_proc_wait (t, 0, "\"seq\":1,", 1, WAIT_MS), 0);
    char *out, *err;
    const char *read[] = {"read", "r-long", NULL};
    assert_int_equal (h_cli (&f->b, NULL, &out, &err, read), 0);
    assert_non_null (strstr (out, "\"status\":\"PROCESSED\""));
    assert_non_null (strstr (out, "\"attempts\":1,"));
    free (out), free (err);
    assert_int_equal (s_end (f, w, SIGTERM), 0);
    assert_int_equal (s_end (f, t, SIGTERM), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (
            test_consume_resumes_after_kill9_and_restart, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_consume_notices_a_paused_broker,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_consume_survives_being_stopped_beyond_the_heartbeat, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown (
            test_consume_hears_the_broker_shut_down, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_consumer_learns_its_stream_was_deleted, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_produce_retries_across_kill9_and_restart, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_tail_follow_survives_kill9_and_restart, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_worker_attaches_again_after_kill9_and_restart, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown (
            test_worker_job_longer_than_the_silence_limit_succeeds_first_time,
            s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
