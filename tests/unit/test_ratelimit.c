/*  test_ratelimit.c: unit tests of ef_ratelimit, the per-API-key token
    buckets (README "Rate limits"). Time is passed in as now_ms, so the
    refill is driven without waiting: a burst is allowed at once, the
    next request is refused with the time its token is due, tokens come
    back at per_second and never beyond the burst, keys do not share a
    bucket, and a full table forgets its most idle bucket instead of
    growing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "ef_ratelimit.h"
#include "eventflow/ef_error.h"

#define T0 1700000000000ull

static ef_ratelimit_t *
s_new (void)
{
    ef_ratelimit_t *rl = ef_ratelimit_new (16);
    assert_non_null (rl);
    return rl;
}

/*  Take n tokens of key at now, every one allowed. */
static void
s_take_ok (ef_ratelimit_t *rl, const char *key, uint32_t ps, uint32_t burst,
           uint64_t now, int n)
{
    uint64_t retry = 0;
    for (int i = 0; i < n; i++)
        if (ef_ratelimit_take (rl, key, ps, burst, now, &retry))
            fail_msg ("%s: request %d of %d refused (retry %llu ms)", key,
                      i + 1, n, (unsigned long long)retry);
}

static void
test_a_burst_is_allowed_at_once_and_the_next_request_waits (void **state)
{
    (void)state;
    ef_ratelimit_t *rl = s_new ();
    uint64_t retry = 0;
    s_take_ok (rl, "k1", 10, 5, T0, 5);
    assert_int_equal (ef_ratelimit_take (rl, "k1", 10, 5, T0, &retry),
                      EF_ERATE);
    /* 10 a second: the next token is due in 100 ms */
    assert_int_equal (retry, 100);
    ef_ratelimit_destroy (&rl);
    assert_null (rl);
}

static void
test_tokens_come_back_at_the_rate_and_the_retry_time_is_honest (void **st)
{
    (void)st;
    ef_ratelimit_t *rl = s_new ();
    uint64_t retry = 0;
    s_take_ok (rl, "k1", 4, 2, T0, 2);
    assert_int_equal (ef_ratelimit_take (rl, "k1", 4, 2, T0, &retry), EF_ERATE);
    assert_int_equal (retry, 250);
    /* one ms before the token is due: still refused, 1 ms to go */
    assert_int_equal (ef_ratelimit_take (rl, "k1", 4, 2, T0 + 249, &retry),
                      EF_ERATE);
    assert_int_equal (retry, 1);
    /* when it is due, exactly one more */
    s_take_ok (rl, "k1", 4, 2, T0 + 250, 1);
    assert_int_equal (ef_ratelimit_take (rl, "k1", 4, 2, T0 + 250, &retry),
                      EF_ERATE);
    ef_ratelimit_destroy (&rl);
}

static void
test_a_long_idle_key_refills_to_its_burst_and_no_more (void **state)
{
    (void)state;
    ef_ratelimit_t *rl = s_new ();
    uint64_t retry = 0;
    s_take_ok (rl, "k1", 100, 3, T0, 3);
    /* an hour later: 3 tokens, not 360000 */
    s_take_ok (rl, "k1", 100, 3, T0 + 3600000, 3);
    assert_int_equal (
        ef_ratelimit_take (rl, "k1", 100, 3, T0 + 3600000, &retry), EF_ERATE);
    ef_ratelimit_destroy (&rl);
}

static void
test_keys_have_their_own_buckets (void **state)
{
    (void)state;
    ef_ratelimit_t *rl = s_new ();
    uint64_t retry = 0;
    s_take_ok (rl, "key-a", 1, 1, T0, 1);
    assert_int_equal (ef_ratelimit_take (rl, "key-a", 1, 1, T0, &retry),
                      EF_ERATE);
    /* another key (even one that differs in its last byte) is untouched */
    s_take_ok (rl, "key-b", 1, 1, T0, 1);
    s_take_ok (rl, "key-", 1, 1, T0, 1);
    ef_ratelimit_destroy (&rl);
}

static void
test_a_rate_of_zero_means_no_limit (void **state)
{
    (void)state;
    ef_ratelimit_t *rl = s_new ();
    s_take_ok (rl, "free", 0, 0, T0, 100000);
    ef_ratelimit_destroy (&rl);
}

static void
test_a_burst_of_zero_still_allows_one_request (void **state)
{
    (void)state;
    ef_ratelimit_t *rl = s_new ();
    uint64_t retry = 0;
    s_take_ok (rl, "k1", 2, 0, T0, 1);
    assert_int_equal (ef_ratelimit_take (rl, "k1", 2, 0, T0, &retry), EF_ERATE);
    assert_int_equal (retry, 500);
    ef_ratelimit_destroy (&rl);
}

static void
test_a_full_table_forgets_idle_buckets_and_keeps_answering (void **state)
{
    (void)state;
    ef_ratelimit_t *rl = s_new (); /* at least 64 slots */
    char key[32];
    uint64_t retry = 0;
    /* far more keys than slots, each spending its only token */
    for (int i = 0; i < 10000; i++) {
        snprintf (key, sizeof key, "key-%d", i);
        s_take_ok (rl, key, 1, 1, T0 + (uint64_t)i, 1);
    }
    /* the busiest recent key is still limited (its bucket was kept) */
    assert_int_equal (
        ef_ratelimit_take (rl, "key-9999", 1, 1, T0 + 9999, &retry), EF_ERATE);
    /* the first key was forgotten: a fresh, full bucket (a restart does
       the same; the table's memory stays bounded) */
    s_take_ok (rl, "key-0", 1, 1, T0 + 10000, 1);
    ef_ratelimit_destroy (&rl);
}

static void
test_destroy_is_safe_on_null (void **state)
{
    (void)state;
    ef_ratelimit_t *rl = NULL;
    ef_ratelimit_destroy (&rl);
    ef_ratelimit_destroy (NULL);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (
            test_a_burst_is_allowed_at_once_and_the_next_request_waits),
        cmocka_unit_test (
            test_tokens_come_back_at_the_rate_and_the_retry_time_is_honest),
        cmocka_unit_test (
            test_a_long_idle_key_refills_to_its_burst_and_no_more),
        cmocka_unit_test (test_keys_have_their_own_buckets),
        cmocka_unit_test (test_a_rate_of_zero_means_no_limit),
        cmocka_unit_test (test_a_burst_of_zero_still_allows_one_request),
        cmocka_unit_test (
            test_a_full_table_forgets_idle_buckets_and_keeps_answering),
        cmocka_unit_test (test_destroy_is_safe_on_null),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
