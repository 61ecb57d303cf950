/*  I/O errors of the store (the fsyncgate lesson: a failed fsync is never
    retried and trusted). Under the h_faults.c shim a producer publishes;
    then each call LMDB makes on data.mdb (strace: pwrite for single pages
    and the O_DSYNC meta page, lseek+writev for runs of pages, fdatasync;
    never write, fsync or msync) fails with EIO or ENOSPC while the disk
    has room. The broker answers the failed commit's requests with an
    error, logs why, stops writing and exits non-zero; restarted without
    the fault it serves every event it had acknowledged, under its seq,
    the stream gapless. */
#include "harness.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

typedef struct {
    char (*ids)[37];
    uint64_t *seqs;
    size_t n, cap;
    uint32_t errors;
} acked_t;

static void
s_ack (void *arg, int status, const ef_publish_result_t *res, uint32_t n)
{
    acked_t *a = arg;
    if (status) {
        a->errors++;
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (res[i].code) {
            a->errors++;
            continue;
        }
        if (a->n == a->cap) {
            a->cap = a->cap ? a->cap * 2 : 4096;
            a->ids = realloc (a->ids, a->cap * sizeof *a->ids);
            a->seqs = realloc (a->seqs, a->cap * sizeof *a->seqs);
        }
        snprintf (a->ids[a->n], 37, "%.*s", (int)res[i].event_id.len,
                  res[i].event_id.ptr);
        a->seqs[a->n++] = res[i].seq;
    }
}

typedef struct {
    h_broker_t *b;
    int done, status;
} exited_t;

static int
s_exited (void *arg)
{
    exited_t *e = arg;
    if (!e->done && waitpid (e->b->pid, &e->status, WNOHANG) == e->b->pid)
        e->done = 1;
    return e->done;
}

typedef struct {
    uint64_t expect;
    int gaps;
    size_t n;
    char (*ids)[37];
    uint64_t cap;
} read_t;

static int
s_on_event (void *arg, const ef_event_t *ev)
{
    read_t *r = arg;
    if (ev->seq != r->expect)
        r->gaps++;
    r->expect = ev->seq + 1;
    r->n++;
    if (ev->seq < r->cap)
        snprintf (r->ids[ev->seq], 37, "%.*s", (int)ev->event_id.len,
                  ev->event_id.ptr);
    return 0;
}

/*  Publish until the broker exits; the fault starts after 200 acks. */
static void
s_publish_into_fault (ef_client_t *c, const char *trigger, acked_t *a,
                      exited_t *ex)
{
    static char payload[3000];
    ef_event_in_t evs[10];
    memset (payload, 'x', sizeof payload);
    payload[0] = '"', payload[sizeof payload - 2] = '"';
    payload[sizeof payload - 1] = 0;
    for (int i = 0; i < 10; i++) {
        memset (&evs[i], 0, sizeof evs[i]);
        evs[i].type = ef_str ("io");
        evs[i].payload = ef_str (payload);
    }
    ef_client_set_timeout (c, 1000);
    ef_client_set_max_inflight (c, 8);
    int faulty = 0;
    for (int sent = 0; sent < 200000; sent++) {
        if (!faulty && a->n >= 200) {
            FILE *fp = fopen (trigger, "w"); /* the fault starts */
            assert_non_null (fp);
            fclose (fp);
            faulty = 1;
        }
        if (faulty && s_exited (ex))
            break;
        if (ef_client_publish_async (c, "io", evs, 10, s_ack, a))
            break;
    }
    ef_client_flush (c, 5000);
}

static void
s_fault (const char *call, const char *err)
{
    char dir[256], data[300], trigger[320], count[340];
    h_broker_t b;
    assert_int_equal (h_tempdir (dir), 0);
    snprintf (data, sizeof data, "%s/data", dir);
    snprintf (trigger, sizeof trigger, "%s/fault", dir);
    snprintf (count, sizeof count, "%s/fault.count", dir);
    setenv ("EF_FAULTS_CALL", call, 1);
    setenv ("EF_FAULTS_ERRNO", err, 1);
    setenv ("EF_FAULTS_TRIGGER", trigger, 1);
    setenv ("LD_PRELOAD", EF_FAULTS_SHIM, 1);
    int started = h_broker_start (&b, data, NULL);
    unsetenv ("LD_PRELOAD");
    assert_int_equal (started, 0);
    ef_client_t *c = h_client (&b);
    assert_non_null (c);
    assert_int_equal (ef_client_create_stream (c, "io", NULL), 0);

    acked_t a = {0};
    exited_t ex = {&b, 0, 0};
    s_publish_into_fault (c, trigger, &a, &ex);
    ef_client_destroy (&c);
    /* the broker exits on its own, non-zero, saying why */
    if (!ex.done)
        assert_int_equal (h_wait_until (s_exited, &ex, 20000), 0);
    assert_true (WIFEXITED (ex.status));
    assert_int_not_equal (WEXITSTATUS (ex.status), 0);
    struct stat st;
    assert_int_equal (stat (count, &st), 0); /* the fault happened */
    assert_true (st.st_size > 0);
    assert_int_equal (
        h_log_wait (b.log_path, "store is broken; exiting", 1, 1000), 0);
    assert_int_equal (h_log_wait (b.log_path,
                                  strcmp (err, "EIO")
                                      ? "No space left on device"
                                      : "Input/output error",
                                  2, 1000),
                      0);
    assert_true (a.n >= 200);
    assert_true (a.errors > 0); /* the failed commit was not acknowledged */
    fprintf (stderr,
             "%s %s: %zu events acknowledged, %u refused, %lld "
             "faults injected\n",
             call, err, a.n, a.errors, (long long)st.st_size);

    /* restarted without the fault: every acknowledged event, in order */
    unlink (trigger);
    assert_int_equal (h_broker_start (&b, data, NULL), 0);
    c = h_client (&b);
    assert_non_null (c);
    uint64_t max_seq = 0;
    for (size_t i = 0; i < a.n; i++)
        if (a.seqs[i] > max_seq)
            max_seq = a.seqs[i];
    read_t r = {1, 0, 0, NULL, max_seq + 1};
    r.ids = calloc (r.cap, sizeof *r.ids);
    uint64_t after = 0, next = 0, head = 0;
    for (;;) {
        assert_int_equal (
            ef_client_read (c, "io", after, 1000, s_on_event, &r, &next, &head),
            0);
        if (next == after || next >= head)
            break;
        after = next;
    }
    assert_int_equal (r.gaps, 0);
    assert_true (head >= max_seq);
    for (size_t i = 0; i < a.n; i++)
        assert_string_equal (r.ids[a.seqs[i]], a.ids[i]);
    /* and it takes writes again */
    ef_event_in_t ev = {0};
    ef_publish_result_t res;
    ev.type = ef_str ("io");
    ev.payload = ef_str ("{}");
    assert_int_equal (ef_client_publish (c, "io", &ev, 1, &res), 0);
    assert_int_equal (res.code, 0);
    assert_int_equal (res.seq, head + 1);
    ef_client_destroy (&c);
    assert_int_equal (h_broker_stop (&b), 0);
    free (r.ids);
    free (a.ids);
    free (a.seqs);
    unsetenv ("EF_FAULTS_CALL");
    unsetenv ("EF_FAULTS_ERRNO");
    unsetenv ("EF_FAULTS_TRIGGER");
    h_rmrf (dir);
}

static void
test_eio_on_fdatasync_stops_the_broker_and_keeps_every_ack (void **state)
{
    (void)state;
    s_fault ("fdatasync", "EIO");
}

static void
test_enospc_on_fdatasync_stops_the_broker_and_keeps_every_ack (void **state)
{
    (void)state;
    s_fault ("fdatasync", "ENOSPC");
}

static void
test_eio_on_pwrite_stops_the_broker_and_keeps_every_ack (void **state)
{
    (void)state;
    s_fault ("pwrite", "EIO");
}

static void
test_enospc_on_pwrite_stops_the_broker_and_keeps_every_ack (void **state)
{
    (void)state;
    s_fault ("pwrite", "ENOSPC");
}

static void
test_eio_on_writev_stops_the_broker_and_keeps_every_ack (void **state)
{
    (void)state;
    s_fault ("writev", "EIO");
}

static void
test_enospc_on_writev_stops_the_broker_and_keeps_every_ack (void **state)
{
    (void)state;
    s_fault ("writev", "ENOSPC");
}

int
main (void)
{
    signal (SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (
            test_eio_on_fdatasync_stops_the_broker_and_keeps_every_ack),
        cmocka_unit_test (
            test_enospc_on_fdatasync_stops_the_broker_and_keeps_every_ack),
        cmocka_unit_test (
            test_eio_on_pwrite_stops_the_broker_and_keeps_every_ack),
        cmocka_unit_test (
            test_enospc_on_pwrite_stops_the_broker_and_keeps_every_ack),
        cmocka_unit_test (
            test_eio_on_writev_stops_the_broker_and_keeps_every_ack),
        cmocka_unit_test (
            test_enospc_on_writev_stops_the_broker_and_keeps_every_ack),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
