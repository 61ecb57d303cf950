/*  test_fairq.c: unit tests of ef_fairq, the fair queue the hasher and
    the validator share between orgs: lanes are taken in turn, one item
    per turn, a new lane waits behind the lanes already waiting, order
    within a lane is kept, a held lane sits out of the turns until it is
    released (its item kept first when not finished), the caps per lane
    and in total refuse with EF_EUNAVAILABLE and free again as items are
    taken, and a closed queue refuses pushes but gives out what waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ef_fairq.h"
#include "eventflow/ef_error.h"

/*  Items are small integers made pointers (never 0). */
#define ITEM(i) ((void *)(uintptr_t)(i))
#define INT(p)  ((int)(uintptr_t)(p))

static ef_fairq_t *
s_new (uint32_t max_total, uint32_t max_per_lane)
{
    ef_fairq_t *q = ef_fairq_new (max_total, max_per_lane);
    assert_non_null (q);
    return q;
}

/*  Take everything, into out (as ints); returns how many. */
static int
s_drain (ef_fairq_t *q, int *out, int max)
{
    int n = 0;
    void *item;
    while (n < max && (item = ef_fairq_take (q)))
        out[n++] = INT (item);
    return n;
}

static void
test_lanes_are_taken_in_turn (void **state)
{
    (void)state;
    ef_fairq_t *q = s_new (64, 16);
    /* org 1 bursts first; orgs 2 and 3 arrive behind it */
    for (int i = 1; i <= 4; i++)
        assert_int_equal (ef_fairq_push (q, 1, ITEM (10 + i)), 0);
    assert_int_equal (ef_fairq_push (q, 2, ITEM (21)), 0);
    assert_int_equal (ef_fairq_push (q, 3, ITEM (31)), 0);
    assert_int_equal (ef_fairq_push (q, 2, ITEM (22)), 0);
    int got[16], want[] = {11, 21, 31, 12, 22, 13, 14};
    assert_int_equal (s_drain (q, got, 16), 7);
    assert_memory_equal (got, want, sizeof want);
    assert_int_equal (ef_fairq_count (q), 0);
    assert_null (ef_fairq_take (q));
    ef_fairq_destroy (&q);
    assert_null (q);
}

static void
test_order_within_a_lane_is_kept (void **state)
{
    (void)state;
    ef_fairq_t *q = s_new (64, 4);
    /* the lane never empties, and its 4 slots wrap around many times */
    int next_in = 1, next_out = 1;
    for (int i = 0; i < 3; i++)
        assert_int_equal (ef_fairq_push (q, 7, ITEM (next_in++)), 0);
    for (int round = 0; round < 10; round++) {
        assert_int_equal (ef_fairq_push (q, 7, ITEM (next_in++)), 0);
        assert_int_equal (INT (ef_fairq_take (q)), next_out++);
    }
    while (next_out < next_in)
        assert_int_equal (INT (ef_fairq_take (q)), next_out++);
    assert_null (ef_fairq_take (q));
    ef_fairq_destroy (&q);
}

static void
test_a_lane_emptied_comes_back_at_the_back (void **state)
{
    (void)state;
    ef_fairq_t *q = s_new (64, 8);
    assert_int_equal (ef_fairq_push (q, 1, ITEM (11)), 0);
    assert_int_equal (ef_fairq_push (q, 2, ITEM (21)), 0);
    assert_int_equal (INT (ef_fairq_take (q)), 11);
    /* lane 1 is gone; its next item waits behind lane 2 */
    assert_int_equal (ef_fairq_push (q, 1, ITEM (12)), 0);
    assert_int_equal (ef_fairq_push (q, 2, ITEM (22)), 0);
    int got[8], want[] = {21, 12, 22};
    assert_int_equal (s_drain (q, got, 8), 3);
    assert_memory_equal (got, want, sizeof want);
    ef_fairq_destroy (&q);
}

static void
test_a_held_lane_sits_out_until_released (void **state)
{
    (void)state;
    ef_fairq_t *q = s_new (64, 8);
    assert_int_equal (ef_fairq_push (q, 1, ITEM (11)), 0);
    assert_int_equal (ef_fairq_push (q, 1, ITEM (12)), 0);
    assert_int_equal (ef_fairq_push (q, 2, ITEM (21)), 0);
    ef_fairq_lane_t *one, *two, *other;
    assert_int_equal (INT (ef_fairq_hold (q, &one)), 11);
    /* while lane 1 is held, only lane 2 is given out */
    assert_int_equal (INT (ef_fairq_hold (q, &two)), 21);
    assert_null (ef_fairq_hold (q, &other));
    assert_int_equal (ef_fairq_count (q), 3);
    /* a push finds the held lane and waits in it */
    assert_int_equal (ef_fairq_push (q, 1, ITEM (13)), 0);
    assert_null (ef_fairq_take (q));
    /* not finished: 11 stays first, and lane 1 waits for its turn */
    ef_fairq_release (q, one, 0);
    assert_int_equal (ef_fairq_count (q), 4);
    assert_int_equal (INT (ef_fairq_hold (q, &one)), 11);
    ef_fairq_release (q, one, 1);
    ef_fairq_release (q, two, 1);
    assert_int_equal (ef_fairq_count (q), 2);
    int got[8], want[] = {12, 13};
    assert_int_equal (s_drain (q, got, 8), 2);
    assert_memory_equal (got, want, sizeof want);
    ef_fairq_destroy (&q);
}

static void
test_a_lane_is_capped (void **state)
{
    (void)state;
    ef_fairq_t *q = s_new (64, 3);
    for (int i = 1; i <= 3; i++)
        assert_int_equal (ef_fairq_push (q, 1, ITEM (i)), 0);
    assert_int_equal (ef_fairq_push (q, 1, ITEM (4)), EF_EUNAVAILABLE);
    /* another org is not held back by org 1's full lane */
    assert_int_equal (ef_fairq_push (q, 2, ITEM (21)), 0);
    assert_int_equal (ef_fairq_count (q), 4);
    /* a held item still counts against its lane */
    ef_fairq_lane_t *lane;
    assert_int_equal (INT (ef_fairq_hold (q, &lane)), 1);
    assert_int_equal (ef_fairq_push (q, 1, ITEM (4)), EF_EUNAVAILABLE);
    ef_fairq_release (q, lane, 1);
    assert_int_equal (ef_fairq_push (q, 1, ITEM (4)), 0);
    ef_fairq_destroy (&q); /* frees lanes that still hold items */
}

static void
test_the_whole_queue_is_capped (void **state)
{
    (void)state;
    ef_fairq_t *q = s_new (4, 3);
    for (int org = 1; org <= 4; org++)
        assert_int_equal (ef_fairq_push (q, (uint64_t)org, ITEM (org)), 0);
    assert_int_equal (ef_fairq_push (q, 5, ITEM (5)), EF_EUNAVAILABLE);
    assert_int_equal (ef_fairq_push (q, 1, ITEM (6)), EF_EUNAVAILABLE);
    assert_int_equal (ef_fairq_count (q), 4);
    assert_int_equal (INT (ef_fairq_take (q)), 1);
    assert_int_equal (ef_fairq_push (q, 5, ITEM (5)), 0);
    assert_int_equal (ef_fairq_count (q), 4);
    ef_fairq_destroy (&q);
}

static void
test_a_closed_queue_refuses_but_gives_out_what_waits (void **state)
{
    (void)state;
    ef_fairq_t *q = s_new (64, 8);
    assert_int_equal (ef_fairq_push (q, 1, ITEM (11)), 0);
    assert_int_equal (ef_fairq_push (q, 2, ITEM (21)), 0);
    assert_false (ef_fairq_closed (q));
    ef_fairq_close (q);
    assert_true (ef_fairq_closed (q));
    assert_int_equal (ef_fairq_push (q, 1, ITEM (12)), EF_EUNAVAILABLE);
    assert_int_equal (ef_fairq_push (q, 3, ITEM (31)), EF_EUNAVAILABLE);
    int got[8], want[] = {11, 21};
    assert_int_equal (s_drain (q, got, 8), 2);
    assert_memory_equal (got, want, sizeof want);
    assert_int_equal (ef_fairq_count (q), 0);
    ef_fairq_destroy (&q);
    ef_fairq_destroy (&q); /* harmless twice */
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_lanes_are_taken_in_turn),
        cmocka_unit_test (test_order_within_a_lane_is_kept),
        cmocka_unit_test (test_a_lane_emptied_comes_back_at_the_back),
        cmocka_unit_test (test_a_held_lane_sits_out_until_released),
        cmocka_unit_test (test_a_lane_is_capped),
        cmocka_unit_test (test_the_whole_queue_is_capped),
        cmocka_unit_test (test_a_closed_queue_refuses_but_gives_out_what_waits),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
