/*  Crash safety. Publish with acknowledgements, kill -9 the broker in the
    middle, restart it: every acknowledged event is there, in order, and
    seq has no gaps. And a SIGTERM: the writes in hand are committed and
    answered before a clean exit. */
#include "harness.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sched.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define MAX_ACKED 400000

typedef struct {
    char (*ids)[37];
    uint64_t *seqs;
    uint32_t n;
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
    for (uint32_t i = 0; i < n && a->n < MAX_ACKED; i++)
        if (res[i].code == 0) {
            memcpy (a->ids[a->n], res[i].event_id.ptr, 36);
            a->ids[a->n][36] = 0;
            a->seqs[a->n++] = res[i].seq;
        }
}

typedef struct {
    uint64_t expect;
    int gaps;
} order_t;

static int
s_order (void *arg, const ef_event_t *ev)
{
    order_t *o = arg;
    if (ev->seq != o->expect)
        o->gaps++;
    o->expect = ev->seq + 1;
    return 0;
}

/*  Publish until the broker dies under us (or until the limit). */
static void
s_publish_until_dead (ef_client_t *c, acked_t *a, uint32_t limit)
{
    ef_event_in_t evs[20];
    for (int j = 0; j < 20; j++) {
        memset (&evs[j], 0, sizeof evs[j]);
        evs[j].type = ef_str ("crash");
        evs[j].payload = ef_str ("{\"data\":\"0123456789abcdef\"}");
    }
    ef_client_set_timeout (c, 2000);
    ef_client_set_max_inflight (c, 32);
    for (uint32_t sent = 0; sent < limit; sent += 20)
        if (ef_client_publish_async (c, "c", evs, 20, s_ack, a))
            break;
    ef_client_flush (c, 3000);
}

typedef struct {
    h_broker_t *b;
    acked_t *a;
    uint32_t kill_after;
} killer_t;

static void *
s_killer (void *arg)
{
    killer_t *k = arg;
    /* wait until enough acknowledgements were seen, then kill -9 */
    while (__atomic_load_n (&k->a->n, __ATOMIC_RELAXED) < k->kill_after)
        sched_yield ();
    kill (k->b->pid, SIGKILL);
    return NULL;
}

static void
s_verify (const h_broker_t *b, acked_t *a)
{
    ef_client_t *c = h_client (b);
    assert_non_null (c);
    /* every acknowledged event is there, at the seq it was given */
    for (uint32_t i = 0; i < a->n; i++) {
        ef_event_t ev;
        int rc = ef_client_get_event (c, a->ids[i], "c", &ev);
        if (rc)
            fail_msg ("acknowledged event %s (seq %llu) lost: %s", a->ids[i],
                      (unsigned long long)a->seqs[i], ef_strerror (rc));
        assert_int_equal (ev.seq, a->seqs[i]);
    }
    /* in order, without gaps */
    order_t o = {1, 0};
    uint64_t after = 0, head = 0;
    do {
        assert_int_equal (
            ef_client_read (c, "c", after, 10000, s_order, &o, &after, &head),
            0);
    } while (after < head);
    assert_int_equal (o.gaps, 0);
    assert_true (head >= a->n);
    ef_client_destroy (&c);
}

static void
test_kill9_loses_no_acknowledged_event (void **state)
{
    (void)state;
    char dir[256];
    h_broker_t b;
    acked_t a = {calloc (MAX_ACKED, 37), calloc (MAX_ACKED, 8), 0, 0};
    assert_int_equal (h_tempdir (dir), 0);
    assert_int_equal (h_broker_start (&b, dir, NULL), 0);
    ef_client_t *c = h_client (&b);
    assert_non_null (c);
    assert_int_equal (ef_client_create_stream (c, "c", NULL), 0);

    killer_t k = {&b, &a, 5000};
    pthread_t t;
    pid_t pid = b.pid;
    pthread_create (&t, NULL, s_killer, &k);
    s_publish_until_dead (c, &a, MAX_ACKED - 1000);
    pthread_join (t, NULL);
    int status;
    waitpid (pid, &status, 0);
    b.pid = 0;
    ef_client_destroy (&c);
    assert_true (a.n >= 5000);

    assert_int_equal (h_broker_start (&b, dir, NULL), 0);
    s_verify (&b, &a);
    assert_int_equal (h_broker_stop (&b), 0);
    h_rmrf (dir);
    free (a.ids);
    free (a.seqs);
}

static void
test_sigterm_commits_and_answers_writes_in_hand (void **state)
{
    (void)state;
    char dir[256];
    h_broker_t b;
    acked_t a = {calloc (MAX_ACKED, 37), calloc (MAX_ACKED, 8), 0, 0};
    assert_int_equal (h_tempdir (dir), 0);
    assert_int_equal (h_broker_start (&b, dir, NULL), 0);
    ef_client_t *c = h_client (&b);
    assert_non_null (c);
    assert_int_equal (ef_client_create_stream (c, "c", NULL), 0);

    /* many publishes in flight, then SIGTERM while they are */
    ef_event_in_t evs[20];
    for (int j = 0; j < 20; j++) {
        memset (&evs[j], 0, sizeof evs[j]);
        evs[j].type = ef_str ("term");
        evs[j].payload = ef_str ("{}");
    }
    ef_client_set_max_inflight (c, 256);
    for (int i = 0; i < 200; i++)
        assert_int_equal (ef_client_publish_async (c, "c", evs, 20, s_ack, &a),
                          0);
    kill (b.pid, SIGTERM);
    ef_client_flush (c, 5000);
    int status;
    waitpid (b.pid, &status, 0);
    b.pid = 0;
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 0);
    ef_client_destroy (&c);

    assert_int_equal (h_broker_start (&b, dir, NULL), 0);
    s_verify (&b, &a);
    assert_int_equal (h_broker_stop (&b), 0);
    h_rmrf (dir);
    free (a.ids);
    free (a.seqs);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_kill9_loses_no_acknowledged_event),
        cmocka_unit_test (test_sigterm_commits_and_answers_writes_in_hand),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
