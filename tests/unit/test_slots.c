/*  test_slots.c: unit tests of ef_slots, the bounded open-addressing
    table under the broker's per-key state in memory: a key is made once
    and found again, a removed key leaves a hole the others are still
    found across, and a table flooded with keys stays within its places,
    giving up the entries used longest ago. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "ef_slots.h"

/*  The caller's own entry: a short key and its last use. */
typedef struct {
    char key[24];
    uint8_t len;
    uint64_t last_ms;
} s_entry_t;

static int
s_holds (const void *entry, const void *key, size_t len)
{
    const s_entry_t *e = entry;
    return e->len == len && memcmp (e->key, key, len) == 0;
}

static uint64_t
s_last_ms (const void *entry)
{
    return ((const s_entry_t *)entry)->last_ms;
}

static const ef_slots_type_t s_type = {sizeof (s_entry_t), s_holds, s_last_ms};

/*  key's entry, made when it has none, used at now. */
static s_entry_t *
s_use (ef_slots_t *t, const char *key, uint64_t now)
{
    int made;
    size_t len = strlen (key);
    s_entry_t *e = ef_slots_make (t, key, len, &made);
    assert_non_null (e);
    if (made) {
        assert_int_equal (e->len, 0); /* a place given zeroed */
        memcpy (e->key, key, len);
        e->len = (uint8_t)len;
    }
    e->last_ms = now;
    return e;
}

static s_entry_t *
s_find (ef_slots_t *t, const char *key)
{
    return ef_slots_find (t, key, strlen (key));
}

static void
test_a_key_is_made_once_and_found_again (void **state)
{
    (void)state;
    ef_slots_t *t = ef_slots_new (0, &s_type);
    assert_non_null (t);
    assert_null (s_find (t, "a"));
    s_entry_t *a = s_use (t, "a", 1);
    int made = -1;
    assert_ptr_equal (ef_slots_make (t, "a", 1, &made), a);
    assert_int_equal (made, 0);
    assert_ptr_equal (s_find (t, "a"), a);
    assert_null (s_find (t, "b"));
    assert_null (s_find (t, "ab")); /* by the whole length */
    assert_int_equal (ef_slots_count (t), 1);
    ef_slots_destroy (&t);
    assert_null (t);
    ef_slots_destroy (NULL);
}

static void
test_a_removed_key_leaves_a_hole_the_others_are_found_across (void **state)
{
    (void)state;
    ef_slots_t *t = ef_slots_new (64, &s_type);
    char key[24];
    /* many keys in few places, so that windows overlap */
    for (int i = 0; i < 40; i++) {
        snprintf (key, sizeof key, "key%d", i);
        s_use (t, key, 100 + (uint64_t)i);
    }
    assert_int_equal (ef_slots_count (t), 40);
    ef_slots_remove (t, s_find (t, "key7"));
    assert_int_equal (ef_slots_count (t), 39);
    assert_null (s_find (t, "key7"));
    for (int i = 0; i < 40; i++) {
        snprintf (key, sizeof key, "key%d", i);
        s_entry_t *e = s_find (t, key);
        if (i == 7)
            continue;
        assert_non_null (e);
        assert_int_equal (e->last_ms, 100 + (uint64_t)i);
    }
    /* the hole is a free place again: key7 comes back */
    s_use (t, "key7", 200);
    assert_int_equal (ef_slots_count (t), 40);
    assert_int_equal (s_find (t, "key7")->last_ms, 200);
    ef_slots_destroy (&t);
}

static void
test_a_flood_stays_within_the_places_and_gives_up_the_oldest (void **state)
{
    (void)state;
    ef_slots_t *t = ef_slots_new (50, &s_type); /* 64 places */
    char key[24];
    for (int i = 0; i < 10000; i++) {
        snprintf (key, sizeof key, "k%d", i);
        s_use (t, key, 1000 + (uint64_t)i);
        /* one key in use all along is never the one used longest ago */
        s_use (t, "busy", 1000 + (uint64_t)i);
    }
    assert_true (ef_slots_count (t) <= 64);
    assert_non_null (s_find (t, "busy"));
    assert_non_null (s_find (t, "k9999")); /* the newest took a place */
    assert_null (s_find (t, "k0"));        /* the oldest gave theirs up */
    ef_slots_destroy (&t);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_key_is_made_once_and_found_again),
        cmocka_unit_test (
            test_a_removed_key_leaves_a_hole_the_others_are_found_across),
        cmocka_unit_test (
            test_a_flood_stays_within_the_places_and_gives_up_the_oldest),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
