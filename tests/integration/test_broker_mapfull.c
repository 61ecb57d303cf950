/*  A full store: with a small map, publishing until the map is full gets
    STORE_FULL for the publish that does not fit, nothing of it is stored,
    the earlier events stay intact and readable, and the broker keeps
    serving reads (and accepts writes again when they fit). */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

typedef struct {
    uint64_t n, expect;
    int bad;
} count_t;

static int
s_count (void *arg, const ef_event_t *ev)
{
    count_t *c = arg;
    if (ev->seq != c->expect++ || ev->payload.len < 1000)
        c->bad++;
    c->n++;
    return 0;
}

static void
test_full_map_refuses_the_publish_and_keeps_serving (void **state)
{
    (void)state;
    char dir[256];
    h_broker_t b;
    const char *extra[] = {"--map-size", "2M", NULL};
    assert_int_equal (h_tempdir (dir), 0);
    assert_int_equal (h_broker_start (&b, dir, extra), 0);
    ef_client_t *c = h_client (&b);
    assert_non_null (c);
    assert_int_equal (ef_client_create_stream (c, "full", NULL), 0);

    char payload[1100];
    memset (payload, 'x', sizeof payload);
    payload[0] = '"', payload[sizeof payload - 2] = '"';
    payload[sizeof payload - 1] = 0;
    ef_event_in_t evs[10];
    for (int i = 0; i < 10; i++) {
        memset (&evs[i], 0, sizeof evs[i]);
        evs[i].type = ef_str ("big");
        evs[i].payload = ef_str (payload);
    }
    ef_publish_result_t res[10];
    uint64_t stored = 0;
    int rc = 0;
    for (int i = 0; i < 10000 && rc == 0; i++) {
        rc = ef_client_publish (c, "full", evs, 10, res);
        if (rc == 0)
            stored += 10;
    }
    assert_int_equal (rc, EF_ESTORE_FULL);
    assert_true (stored > 0);

    /* nothing half-written: exactly the acknowledged events are there */
    ef_stream_info_t s;
    assert_int_equal (ef_client_get_stream (c, "full", &s), 0);
    assert_int_equal (s.events, stored);
    count_t cnt = {0, 1, 0};
    uint64_t after = 0, head = 0;
    do {
        assert_int_equal (ef_client_read (c, "full", after, 1000, s_count, &cnt,
                                          &after, &head),
                          0);
    } while (after < head);
    assert_int_equal (cnt.n, stored);
    assert_int_equal (cnt.bad, 0);
    assert_int_equal (ef_client_ping (c), 0);

    /* a small event may still fit; either way the answer is clean */
    ef_event_in_t small = {0};
    small.type = ef_str ("s");
    small.payload = ef_str ("1");
    rc = ef_client_publish (c, "full", &small, 1, res);
    assert_true (rc == 0 || rc == EF_ESTORE_FULL);

    ef_client_destroy (&c);
    assert_int_equal (h_broker_stop (&b), 0);
    /* and the store opens again afterwards with everything in it */
    assert_int_equal (h_broker_start (&b, dir, extra), 0);
    c = h_client (&b);
    assert_int_equal (ef_client_get_stream (c, "full", &s), 0);
    assert_true (s.events >= stored);
    ef_client_destroy (&c);
    assert_int_equal (h_broker_stop (&b), 0);
    h_rmrf (dir);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_full_map_refuses_the_publish_and_keeps_serving),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
