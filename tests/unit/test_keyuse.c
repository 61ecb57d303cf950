/*  test_keyuse.c: unit tests of ef_keyuse, API keys' recent use kept in
    the broker's memory: the last use and the requests of the last 60
    seconds, which slide with the clock; a forgotten (revoked) key is
    gone; the table stays within its bound, giving way by least recent
    use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ef_keyuse.h"

#define T0 1700000000000ull /* ms, on a second */

static void
s_get (ef_keyuse_t *u, const char *key, uint64_t now, uint64_t *last,
       uint64_t *per_min)
{
    ef_keyuse_get (u, ef_str (key), now, last, per_min);
}

static void
test_requests_of_the_last_minute_slide_with_the_clock (void **state)
{
    (void)state;
    ef_keyuse_t *u = ef_keyuse_new (64);
    assert_non_null (u);
    uint64_t last, n;
    s_get (u, "k1", T0, &last, &n);
    assert_int_equal (last, 0); /* never seen: none */
    assert_int_equal (n, 0);
    for (int i = 0; i < 3; i++)
        ef_keyuse_note (u, ef_str ("k1"), T0 + 10);
    ef_keyuse_note (u, ef_str ("k1"), T0 + 30500);
    s_get (u, "k1", T0 + 31000, &last, &n);
    assert_int_equal (last, T0 + 30500);
    assert_int_equal (n, 4);
    /* 59 s after the first three they still count; at 60 s they do not */
    s_get (u, "k1", T0 + 59999, &last, &n);
    assert_int_equal (n, 4);
    s_get (u, "k1", T0 + 60000, &last, &n);
    assert_int_equal (n, 1);
    /* a request much later: the old seconds are cleared, not counted */
    ef_keyuse_note (u, ef_str ("k1"), T0 + 3600000);
    s_get (u, "k1", T0 + 3600000, &last, &n);
    assert_int_equal (n, 1);
    assert_int_equal (last, T0 + 3600000);
    s_get (u, "k1", T0 + 3700000, &last, &n);
    assert_int_equal (n, 0);
    assert_int_equal (last, T0 + 3600000); /* the last use stays */
    /* other keys are their own */
    s_get (u, "k2", T0 + 3600000, &last, &n);
    assert_int_equal (last, 0);
    ef_keyuse_destroy (&u);
    assert_null (u);
}

static void
test_a_forgotten_key_is_gone_and_others_are_still_found (void **state)
{
    (void)state;
    ef_keyuse_t *u = ef_keyuse_new (64);
    char key[32];
    /* many keys, so that windows overlap: forgetting one leaves a hole
       the others are still found across */
    for (int i = 0; i < 40; i++) {
        snprintf (key, sizeof key, "key%d", i);
        ef_keyuse_note (u, ef_str (key), T0 + (uint64_t)i);
    }
    assert_int_equal (ef_keyuse_count (u), 40);
    ef_keyuse_forget (u, ef_str ("key7"));
    assert_int_equal (ef_keyuse_count (u), 39);
    uint64_t last, n;
    s_get (u, "key7", T0 + 100, &last, &n);
    assert_int_equal (last, 0);
    assert_int_equal (n, 0);
    for (int i = 0; i < 40; i++) {
        if (i == 7)
            continue;
        snprintf (key, sizeof key, "key%d", i);
        s_get (u, key, T0 + 100, &last, &n);
        assert_int_equal (last, T0 + (uint64_t)i);
        assert_int_equal (n, 1);
        ef_keyuse_note (u, ef_str (key), T0 + 200); /* found, not doubled */
    }
    assert_int_equal (ef_keyuse_count (u), 39);
    ef_keyuse_forget (u, ef_str ("never-seen")); /* nothing happens */
    assert_int_equal (ef_keyuse_count (u), 39);
    ef_keyuse_destroy (&u);
}

static void
test_the_table_stays_bounded (void **state)
{
    (void)state;
    ef_keyuse_t *u = ef_keyuse_new (64);
    char key[32];
    for (int i = 0; i < 10000; i++) {
        snprintf (key, sizeof key, "k%d", i);
        ef_keyuse_note (u, ef_str (key), T0 + (uint64_t)i);
    }
    assert_true (ef_keyuse_count (u) <= 64);
    /* the newest is kept (it took the place of a less recent one) */
    uint64_t last, n;
    s_get (u, "k9999", T0 + 10000, &last, &n);
    assert_int_equal (last, T0 + 9999);
    /* a key id too long to be one is not kept */
    char longkey[100];
    memset (longkey, 'x', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = 0;
    ef_keyuse_note (u, ef_str (longkey), T0);
    s_get (u, longkey, T0, &last, &n);
    assert_int_equal (last, 0);
    ef_keyuse_destroy (&u);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (
            test_requests_of_the_last_minute_slide_with_the_clock),
        cmocka_unit_test (
            test_a_forgotten_key_is_gone_and_others_are_still_found),
        cmocka_unit_test (test_the_table_stays_bounded),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
