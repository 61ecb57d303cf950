/*  Per-stream order under concurrent producers: 8 clients publish into one
    stream at once, asynchronously and in batches; afterwards the stream
    holds every event once, seq is 1..N without gaps, and each producer's
    events appear in the order it sent them. */
#include "harness.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define PRODUCERS    8
#define PER_PRODUCER 3000
#define BATCH        50

typedef struct {
    const h_broker_t *b;
    int producer;
    int failures;
} producer_t;

static void
s_done (void *arg, int status, const ef_publish_result_t *res, uint32_t n)
{
    producer_t *p = arg;
    if (status)
        p->failures++;
    for (uint32_t i = 0; i < n; i++)
        if (res[i].code)
            p->failures++;
}

static void *
s_produce (void *arg)
{
    producer_t *p = arg;
    ef_client_t *c = h_client (p->b);
    if (!c) {
        p->failures = -1;
        return NULL;
    }
    ef_client_set_max_inflight (c, 8);
    static __thread char payloads[BATCH][64];
    ef_event_in_t evs[BATCH];
    for (int i = 0; i < PER_PRODUCER; i += BATCH) {
        for (int j = 0; j < BATCH; j++) {
            snprintf (payloads[j], 64, "{\"p\":%d,\"n\":%d}", p->producer,
                      i + j);
            memset (&evs[j], 0, sizeof evs[j]);
            evs[j].type = ef_str ("c");
            evs[j].payload = ef_str (payloads[j]);
        }
        if (ef_client_publish_async (c, "conc", evs, BATCH, s_done, p))
            p->failures++;
    }
    if (ef_client_flush (c, 30000))
        p->failures++;
    ef_client_destroy (&c);
    return NULL;
}

typedef struct {
    int last[PRODUCERS];
    uint64_t expect_seq;
    int errors;
    uint64_t count;
} check_t;

static int
s_check (void *arg, const ef_event_t *ev)
{
    check_t *c = arg;
    int p, n;
    char buf[64];
    snprintf (buf, sizeof buf, "%.*s", (int)ev->payload.len, ev->payload.ptr);
    if (ev->seq != c->expect_seq++ ||
        sscanf (buf, "{\"p\":%d,\"n\":%d}", &p, &n) != 2 || p < 0 ||
        p >= PRODUCERS || n != c->last[p] + 1)
        c->errors++;
    else
        c->last[p] = n;
    c->count++;
    return 0;
}

static void
test_eight_producers_keep_order_and_leave_no_gaps (void **state)
{
    (void)state;
    char dir[256];
    h_broker_t b;
    assert_int_equal (h_tempdir (dir), 0);
    assert_int_equal (h_broker_start (&b, dir, NULL), 0);
    ef_client_t *c = h_client (&b);
    assert_non_null (c);
    assert_int_equal (ef_client_create_stream (c, "conc", NULL), 0);

    pthread_t t[PRODUCERS];
    producer_t p[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        p[i] = (producer_t){&b, i, 0};
        pthread_create (&t[i], NULL, s_produce, &p[i]);
    }
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join (t[i], NULL);
        assert_int_equal (p[i].failures, 0);
    }

    check_t chk;
    memset (&chk, 0, sizeof chk);
    for (int i = 0; i < PRODUCERS; i++)
        chk.last[i] = -1;
    chk.expect_seq = 1;
    uint64_t after = 0, head = 0;
    do {
        assert_int_equal (ef_client_read (c, "conc", after, 5000, s_check, &chk,
                                          &after, &head),
                          0);
    } while (after < head);
    assert_int_equal (chk.errors, 0);
    assert_int_equal (chk.count, PRODUCERS * PER_PRODUCER);
    assert_int_equal (head, PRODUCERS * PER_PRODUCER);
    for (int i = 0; i < PRODUCERS; i++)
        assert_int_equal (chk.last[i], PER_PRODUCER - 1);

    ef_client_destroy (&c);
    assert_int_equal (h_broker_stop (&b), 0);
    h_rmrf (dir);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_eight_producers_keep_order_and_leave_no_gaps),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
