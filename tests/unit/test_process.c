/*  test_process.c: unit tests of ef_process, the processing records in
    the store, over a real LMDB store in a temporary directory. A state
    reads back as it was written (and survives reopening the store); due
    jobs come earliest first, at most as many as asked, with when the
    next one is due; a removed job is gone; dead letters read back, list
    in (stream, seq) order per org, count over all orgs, and are gone once
    deleted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ef_process.h"
#include "ef_store.h"
#include "u_store.h"
#include "eventflow/ef_error.h"

#define T0 1700000000000ull

static ef_store_txn_t *
s_begin (u_store_t *fx)
{
    ef_store_txn_t *w;
    assert_int_equal (ef_store_write_begin (fx->store, &w), 0);
    return w;
}

static void
s_commit (ef_store_txn_t *w)
{
    assert_int_equal (ef_store_write_commit (&w), 0);
}

static void
test_state_reads_back_as_written_after_a_restart (void **state)
{
    u_store_t *fx = *state;
    u_store_open (fx, 0, 0);
    ef_state_t st;
    memset (&st, 0, sizeof st);
    st.status = EF_STATUS_PENDING;
    st.attempts = 3;
    st.step = 2;
    st.inflight = 1;
    st.job_due = T0 + 500;
    st.first_failure = T0;
    snprintf (st.last_error, sizeof st.last_error, "worker said no");
    st.result = ef_str ("{\"a\":1}");
    st.hops = 4;
    st.dispatches = 7;
    ef_store_txn_t *w = s_begin (fx);
    assert_int_equal (ef_process_state_put (w, 5, 9, &st), 0);
    s_commit (w);
    u_store_open (fx, 0, 0); /* closed and opened again */
    ef_state_t got;
    w = s_begin (fx);
    assert_int_equal (ef_process_state_get (w, 5, 9, &got), 0);
    assert_int_equal (got.status, EF_STATUS_PENDING);
    assert_int_equal (got.attempts, 3);
    assert_int_equal (got.step, 2);
    assert_true (got.inflight);
    assert_int_equal (got.job_due, T0 + 500);
    assert_int_equal (got.first_failure, T0);
    assert_string_equal (got.last_error, "worker said no");
    assert_int_equal (got.result.len, 7);
    assert_memory_equal (got.result.ptr, "{\"a\":1}", 7);
    assert_int_equal (got.hops, 4);
    assert_int_equal (got.dispatches, 7);
    assert_int_equal (ef_process_state_get (w, 5, 10, &got), EF_ENOTFOUND);
    ef_store_write_abort (&w);
    assert_string_equal (ef_status_name (EF_STATUS_FAILED), "FAILED");
}

static void
test_due_jobs_come_earliest_first_with_the_next_due (void **state)
{
    u_store_t *fx = *state;
    u_store_open (fx, 0, 0);
    ef_store_txn_t *w = s_begin (fx);
    /* put out of order, over two streams; due times past 2^32 ms and
       past 2^8, so the keys' byte order matters */
    assert_int_equal (ef_process_job_put (w, T0 + 300, 1, 1), 0);
    assert_int_equal (ef_process_job_put (w, T0 + 100, 2, 7), 0);
    assert_int_equal (ef_process_job_put (w, T0 + 200, 1, 2), 0);
    assert_int_equal (ef_process_job_put (w, T0 + 100, 1, 300), 0);
    assert_int_equal (ef_process_job_put (w, T0 + 5000, 3, 1), 0);
    s_commit (w);
    ef_job_t jobs[8];
    uint32_t n;
    uint64_t next;
    w = s_begin (fx);
    assert_int_equal (ef_process_jobs_due (w, T0 + 99, jobs, 8, &n, &next), 0);
    assert_int_equal (n, 0);
    assert_int_equal (next, T0 + 100);
    assert_int_equal (ef_process_jobs_due (w, T0 + 300, jobs, 8, &n, &next), 0);
    assert_int_equal (n, 4);
    assert_int_equal (jobs[0].due, T0 + 100);
    assert_int_equal (jobs[1].due, T0 + 100);
    assert_int_equal (jobs[2].due, T0 + 200);
    assert_int_equal (jobs[2].seq, 2);
    assert_int_equal (jobs[3].due, T0 + 300);
    assert_int_equal (jobs[3].num, 1);
    assert_int_equal (next, T0 + 5000);
    /* at most max, the rest told as next */
    assert_int_equal (ef_process_jobs_due (w, T0 + 300, jobs, 2, &n, &next), 0);
    assert_int_equal (n, 2);
    assert_int_equal (next, T0 + 200);
    /* a removed job is not due any more */
    assert_int_equal (ef_process_job_del (w, T0 + 200, 1, 2), 0);
    assert_int_equal (ef_process_jobs_due (w, T0 + 300, jobs, 8, &n, &next), 0);
    assert_int_equal (n, 3);
    assert_int_equal (jobs[2].due, T0 + 300);
    ef_store_write_abort (&w);
}

typedef struct {
    ef_dead_t d[8];
    int n;
} s_dead_list_t;

static int
s_collect (void *arg, const ef_dead_t *d)
{
    s_dead_list_t *l = arg;
    assert_true (l->n < 8);
    l->d[l->n++] = *d;
    return 0;
}

static void
s_dead (ef_store_txn_t *w, uint32_t org, uint32_t num, uint64_t seq)
{
    ef_dead_t d;
    memset (&d, 0, sizeof d);
    d.num = num;
    d.seq = seq;
    d.org = org;
    d.step = 1;
    d.attempts = 5;
    snprintf (d.error, sizeof d.error, "failed %u.%llu", num,
              (unsigned long long)seq);
    d.first_failure = T0;
    d.last_failure = T0 + 9;
    assert_int_equal (ef_process_dlq_put (w, &d), 0);
}

static void
test_dead_letters_list_per_org_in_stream_order_and_count (void **state)
{
    u_store_t *fx = *state;
    u_store_open (fx, 0, 0);
    ef_store_txn_t *w = s_begin (fx);
    s_dead (w, 1, 4, 2);
    s_dead (w, 2, 3, 1);
    s_dead (w, 1, 1, 300);
    s_dead (w, 1, 1, 7);
    s_commit (w);
    w = s_begin (fx);
    ef_dead_t d;
    assert_int_equal (ef_process_dlq_get (w, 1, 7, &d), 0);
    assert_int_equal (d.org, 1);
    assert_int_equal (d.step, 1);
    assert_int_equal (d.attempts, 5);
    assert_string_equal (d.error, "failed 1.7");
    assert_int_equal (d.first_failure, T0);
    assert_int_equal (d.last_failure, T0 + 9);
    s_dead_list_t l = {0};
    assert_int_equal (ef_process_dlq_each (w, 1, s_collect, &l), 0);
    assert_int_equal (l.n, 3); /* not org 2's */
    assert_int_equal (l.d[0].num, 1);
    assert_int_equal (l.d[0].seq, 7);
    assert_int_equal (l.d[1].seq, 300);
    assert_int_equal (l.d[2].num, 4);
    uint64_t count;
    assert_int_equal (ef_process_dlq_count (w, &count), 0);
    assert_int_equal (count, 4);
    assert_int_equal (ef_process_dlq_del (w, 1, 7), 0);
    assert_int_equal (ef_process_dlq_get (w, 1, 7, &d), EF_ENOTFOUND);
    assert_int_equal (ef_process_dlq_count (w, &count), 0);
    assert_int_equal (count, 3);
    memset (&l, 0, sizeof l);
    assert_int_equal (ef_process_dlq_each (w, 0, s_collect, &l), 0);
    assert_int_equal (l.n, 3); /* org 0: every org's */
    ef_store_write_abort (&w);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (
            test_state_reads_back_as_written_after_a_restart, u_store_setup,
            u_store_teardown),
        cmocka_unit_test_setup_teardown (
            test_due_jobs_come_earliest_first_with_the_next_due, u_store_setup,
            u_store_teardown),
        cmocka_unit_test_setup_teardown (
            test_dead_letters_list_per_org_in_stream_order_and_count,
            u_store_setup, u_store_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
