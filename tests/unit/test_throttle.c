/*  test_throttle.c: unit tests of ef_throttle, the hold-back of failed
    logins (README "Login throttling"). Time is passed in as now_ms: the
    free failures cost nothing, each further failure holds the key back
    for a delay that doubles up to the maximum, the time left is told,
    a success clears the key, a key quiet for the maximum starts afresh,
    keys do not share a count, and a table flooded with keys stays
    bounded and still holds back the key under attack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ef_throttle.h"
#include "eventflow/ef_error.h"

#define T0 1700000000000ull

#define KEY(s) (s), strlen (s)

/*  3 free failures, then 100, 200, 400 … up to 1000 ms. */
static ef_throttle_t *
s_new (void)
{
    ef_throttle_t *t = ef_throttle_new (64, 3, 100, 1000);
    assert_non_null (t);
    return t;
}

/*  0 when key may try at now; else the time left. */
static uint64_t
s_held (ef_throttle_t *t, const char *key, uint64_t now)
{
    uint64_t left = 0;
    int rc = ef_throttle_check (t, KEY (key), now, &left);
    if (rc == 0)
        return 0;
    assert_int_equal (rc, EF_ERATE);
    assert_true (left > 0);
    return left;
}

static void
test_the_free_failures_hold_nothing_back (void **state)
{
    (void)state;
    ef_throttle_t *t = s_new ();
    for (int i = 0; i < 3; i++) {
        ef_throttle_fail (t, KEY ("a@example.com"), T0);
        assert_int_equal (s_held (t, "a@example.com", T0), 0);
    }
    ef_throttle_destroy (&t);
    assert_null (t);
}

static void
test_each_further_failure_doubles_the_hold_up_to_the_maximum (void **st)
{
    (void)st;
    ef_throttle_t *t = s_new ();
    uint64_t now = T0;
    for (int i = 0; i < 3; i++)
        ef_throttle_fail (t, KEY ("a@example.com"), now);
    const uint64_t want[] = {100, 200, 400, 800, 1000, 1000};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        ef_throttle_fail (t, KEY ("a@example.com"), now);
        assert_int_equal (s_held (t, "a@example.com", now), want[i]);
        /* the time left shrinks as time passes, and then it is free */
        assert_int_equal (s_held (t, "a@example.com", now + want[i] / 2),
                          want[i] - want[i] / 2);
        now += want[i];
        assert_int_equal (s_held (t, "a@example.com", now), 0);
    }
    ef_throttle_destroy (&t);
}

static void
test_a_success_clears_the_count (void **state)
{
    (void)state;
    ef_throttle_t *t = s_new ();
    for (int i = 0; i < 5; i++)
        ef_throttle_fail (t, KEY ("a@example.com"), T0);
    assert_true (s_held (t, "a@example.com", T0) > 0);
    ef_throttle_clear (t, KEY ("a@example.com"));
    assert_int_equal (s_held (t, "a@example.com", T0), 0);
    /* and the free failures are free again */
    for (int i = 0; i < 3; i++)
        ef_throttle_fail (t, KEY ("a@example.com"), T0);
    assert_int_equal (s_held (t, "a@example.com", T0), 0);
    ef_throttle_destroy (&t);
}

static void
test_a_key_quiet_for_the_maximum_starts_afresh (void **state)
{
    (void)state;
    ef_throttle_t *t = s_new ();
    for (int i = 0; i < 4; i++)
        ef_throttle_fail (t, KEY ("a@example.com"), T0);
    assert_int_equal (s_held (t, "a@example.com", T0), 100);
    /* quiet for longer than max_ms: the next failure is a free one */
    ef_throttle_fail (t, KEY ("a@example.com"), T0 + 1001);
    assert_int_equal (s_held (t, "a@example.com", T0 + 1001), 0);
    ef_throttle_destroy (&t);
}

static void
test_keys_have_their_own_counts (void **state)
{
    (void)state;
    ef_throttle_t *t = s_new ();
    for (int i = 0; i < 4; i++)
        ef_throttle_fail (t, KEY ("a@example.com"), T0);
    assert_true (s_held (t, "a@example.com", T0) > 0);
    assert_int_equal (s_held (t, "b@example.com", T0), 0);
    /* keys are compared as given: the caller folds case */
    assert_int_equal (s_held (t, "A@example.com", T0), 0);
    /* and by their whole length */
    uint64_t left;
    assert_int_equal (ef_throttle_check (t, "a@example.com", 5, T0, &left), 0);
    ef_throttle_destroy (&t);
}

static void
test_a_flood_of_keys_keeps_the_table_bounded_and_the_victim_held (void **st)
{
    (void)st;
    ef_throttle_t *t = s_new ();
    char key[32];
    /* the key under attack, failing on and on */
    for (int i = 0; i < 10; i++)
        ef_throttle_fail (t, KEY ("victim@example.com"), T0 + 1000);
    /* 10000 other keys, one failure each, older than the victim's */
    for (int i = 0; i < 10000; i++) {
        snprintf (key, sizeof key, "k%d@example.com", i);
        ef_throttle_fail (t, KEY (key), T0 + (uint64_t)i % 1000);
    }
    /* the most idle entries went first: the victim's hold stays */
    assert_true (s_held (t, "victim@example.com", T0 + 1000) > 0);
    ef_throttle_destroy (&t);
}

static void
test_clearing_an_unknown_key_is_harmless (void **state)
{
    (void)state;
    ef_throttle_t *t = s_new ();
    ef_throttle_clear (t, KEY ("nobody@example.com"));
    assert_int_equal (s_held (t, "nobody@example.com", T0), 0);
    ef_throttle_destroy (&t);
    ef_throttle_destroy (NULL);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_the_free_failures_hold_nothing_back),
        cmocka_unit_test (
            test_each_further_failure_doubles_the_hold_up_to_the_maximum),
        cmocka_unit_test (test_a_success_clears_the_count),
        cmocka_unit_test (test_a_key_quiet_for_the_maximum_starts_afresh),
        cmocka_unit_test (test_keys_have_their_own_counts),
        cmocka_unit_test (
            test_a_flood_of_keys_keeps_the_table_bounded_and_the_victim_held),
        cmocka_unit_test (test_clearing_an_unknown_key_is_harmless),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
