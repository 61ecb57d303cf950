/*  test_writer.c: unit tests of ef_writer, the group-commit writer thread,
    over a real LMDB store in a temporary directory. Requests are custom
    writes (an apply function creating a stream, or appending records) so
    that each test controls what a request writes and whether it fails.
    Requests queued together commit in one transaction and come back
    through the done mailbox only once it committed; a request whose
    apply fails after writing leaves nothing while the others of its group
    commit; on a map too small for any of them, each request is answered
    STORE_FULL and nothing is written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ef_mailbox.h"
#include "ef_metrics.h"
#include "ef_store.h"
#include "ef_writer.h"
#include "u_store.h"
#include "eventflow/ef_error.h"

#define S_MAX 4

/*  What one request does in the writer's transaction. */
typedef struct {
    char name[16];         /* the stream it creates (create), or appends to */
    uint32_t num;          /* append: the stream */
    uint32_t bytes;        /* append: how much, in 1 KiB records */
    int fail;              /* create: fail with EF_ESTORE after creating */
    int applied;           /* times apply ran */
    uint32_t done_waiting; /* answers already posted when apply ran */
    ef_mailbox_t *done;
} job_t;

typedef struct {
    u_store_t st; /* first: u_store_teardown frees it all */
    ef_mailbox_t *done;
    ef_metrics_t *metrics;
    ef_writer_t *writer;
    job_t jobs[S_MAX];
    ef_wreq_t *w[S_MAX];
} fx_t;

static int
s_setup (void **state)
{
    fx_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    assert_int_equal (u_tmpdir (fx->st.dir, "writer_test"), 0);
    fx->done = ef_mailbox_new ();
    fx->metrics = ef_metrics_new ();
    assert_non_null (fx->done);
    assert_non_null (fx->metrics);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *fx = *state;
    ef_writer_destroy (&fx->writer);
    for (int i = 0; i < S_MAX; i++)
        if (fx->w[i]) {
            ef_buf_free (&fx->w[i]->reply);
            free (fx->w[i]);
        }
    ef_mailbox_destroy (&fx->done);
    ef_metrics_destroy (&fx->metrics);
    return u_store_teardown (state);
}

static int
s_apply_create (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w, uint64_t now)
{
    job_t *job = ctx;
    (void)w;
    job->applied++;
    job->done_waiting = ef_mailbox_size (job->done);
    ef_stream_rec_t s;
    int rc = ef_store_stream_create (txn, 1, ef_str (job->name), now, &s);
    if (rc == 0 && job->fail)
        rc = EF_ESTORE; /* the store failing after this wrote */
    return rc;
}

static int
s_apply_append (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w, uint64_t now)
{
    job_t *job = ctx;
    (void)w;
    (void)now;
    job->applied++;
    uint64_t first, last;
    int rc = ef_store_stream_bounds (txn, job->num, &first, &last);
    char rec[1024];
    memset (rec, 'x', sizeof rec);
    for (uint32_t i = 0; rc == 0 && i < job->bytes / sizeof rec; i++) {
        ef_uuid_t id = {{0}};
        uint64_t seq = last + 1 + i;
        memcpy (id.b, &seq, sizeof seq);
        memcpy (id.b + 8, &job->num, sizeof job->num);
        rc = ef_store_event_append (txn, job->num, seq, &id, rec, sizeof rec);
    }
    return rc;
}

/*  Request i, a custom write doing jobs[i]. */
static ef_wreq_t *
s_wreq (fx_t *fx, int i, ef_wapply_fn *fn)
{
    ef_wreq_t *w = calloc (1, sizeof *w);
    assert_non_null (w);
    ef_buf_init (&w->reply);
    w->apply = fn;
    w->apply_ctx = &fx->jobs[i];
    fx->jobs[i].done = fx->done;
    fx->w[i] = w;
    return w;
}

/*  Start a writer over the open store with n requests already queued (so
    that its first group holds them all), and wait for their n answers. */
static void
s_run (fx_t *fx, int n)
{
    fx->writer = ef_writer_new (fx->st.store, fx->done, fx->metrics, NULL);
    assert_non_null (fx->writer);
    for (int i = 0; i < n; i++)
        ef_writer_submit (fx->writer, fx->w[i]);
    assert_int_equal (ef_writer_start (fx->writer), 0);
    int got = 0;
    while (got < n) {
        ef_wreq_t *list = ef_mailbox_wait_for (fx->done, 0, 10000);
        assert_non_null (list); /* no answer within 10 s: the writer hung */
        for (ef_wreq_t *w = list; w; w = w->next)
            got++;
    }
    assert_int_equal (got, n);
    ef_writer_stop (fx->writer);
}

static int
s_stream_exists (fx_t *fx, const char *name)
{
    ef_store_txn_t *r = ef_store_reader_new (fx->st.store);
    assert_non_null (r);
    assert_int_equal (ef_store_reader_begin (r), 0);
    ef_stream_rec_t s;
    int rc = ef_store_stream_find (r, 1, ef_str (name), &s);
    ef_store_reader_end (r);
    ef_store_reader_destroy (&r);
    assert_true (rc == 0 || rc == EF_ENOTFOUND);
    return rc == 0;
}

static void
test_requests_queued_together_commit_in_one_transaction (void **state)
{
    fx_t *fx = *state;
    u_store_open (&fx->st, 0, 0);
    for (int i = 0; i < 3; i++) {
        snprintf (fx->jobs[i].name, sizeof fx->jobs[i].name, "s%d", i);
        s_wreq (fx, i, s_apply_create);
    }
    s_run (fx, 3);
    assert_int_equal (ef_metrics_get (fx->metrics, EF_M_COMMITS), 1);
    assert_int_equal (ef_metrics_get (fx->metrics, EF_M_COMMIT_ERRORS), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal (fx->jobs[i].applied, 1);
        assert_int_equal (fx->w[i]->status, 0);
        assert_int_equal (fx->jobs[i].done_waiting, 0);
        /* answered, so committed: a new reader sees what it wrote */
        assert_true (s_stream_exists (fx, fx->jobs[i].name));
    }
}

static void
test_failed_request_writes_nothing_and_the_rest_of_its_group_commits (
    void **state)
{
    fx_t *fx = *state;
    u_store_open (&fx->st, 0, 0);
    for (int i = 0; i < 3; i++) {
        snprintf (fx->jobs[i].name, sizeof fx->jobs[i].name, "s%d", i);
        s_wreq (fx, i, s_apply_create);
    }
    fx->jobs[1].fail = 1;
    s_run (fx, 3);
    assert_int_equal (fx->w[0]->status, 0);
    assert_int_equal (fx->w[1]->status, EF_ESTORE);
    assert_non_null (fx->w[1]->why);
    assert_non_null (strstr (fx->w[1]->why, "nothing was written"));
    assert_int_equal (fx->w[2]->status, 0);
    assert_true (s_stream_exists (fx, "s0"));
    assert_false (s_stream_exists (fx, "s1")); /* its half write is gone */
    assert_true (s_stream_exists (fx, "s2"));
    /* the group failed, then each alone: two commits, the failing one
       again failed alone */
    assert_int_equal (ef_metrics_get (fx->metrics, EF_M_COMMITS), 2);
    assert_int_equal (ef_metrics_get (fx->metrics, EF_M_COMMIT_ERRORS), 2);
}

static void
test_store_full_is_answered_to_each_request_and_nothing_is_written (
    void **state)
{
    fx_t *fx = *state;
    u_store_open (&fx->st, 1u << 20, 0);
    ef_store_txn_t *t;
    ef_stream_rec_t s;
    assert_int_equal (ef_store_write_begin (fx->st.store, &t), 0);
    assert_int_equal (ef_store_stream_create (t, 1, ef_str ("big"), 1, &s), 0);
    assert_int_equal (ef_store_write_commit (&t), 0);
    /* each request alone is twice the map */
    for (int i = 0; i < 3; i++) {
        fx->jobs[i].num = s.num;
        fx->jobs[i].bytes = 2u << 20;
        s_wreq (fx, i, s_apply_append);
    }
    s_run (fx, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal (fx->w[i]->status, EF_ESTORE_FULL);
        assert_non_null (strstr (fx->w[i]->why, "full"));
        assert_true (fx->jobs[i].applied >= 1); /* each tried alone */
    }
    assert_int_equal (ef_metrics_get (fx->metrics, EF_M_COMMITS), 0);
    ef_store_txn_t *r = ef_store_reader_new (fx->st.store);
    assert_non_null (r);
    assert_int_equal (ef_store_reader_begin (r), 0);
    uint64_t first = 0, last = 0;
    assert_int_equal (ef_store_stream_bounds (r, s.num, &first, &last), 0);
    assert_int_equal (last, 0); /* not one record stored */
    ef_store_reader_end (r);
    ef_store_reader_destroy (&r);
    assert_int_equal (ef_store_broken (fx->st.store), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (
            test_requests_queued_together_commit_in_one_transaction, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown (
            test_failed_request_writes_nothing_and_the_rest_of_its_group_commits,
            s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_store_full_is_answered_to_each_request_and_nothing_is_written,
            s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
