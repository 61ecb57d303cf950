/*  test_uuid.c: unit tests of ef_uuid: UUIDv7 generation (strictly
    increasing per generator, even many ids in one millisecond or with a
    clock that steps back), version and variant bits, parsing, formatting
    and the timestamp read back from an id; and ef_hex_value, the one hex
    digit reader of the project. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "eventflow/ef_error.h"
#include "eventflow/ef_uuid.h"

#define N_IDS 10000

static ef_uuid_t s_ids[N_IDS];

static void
s_assert_v7_bits (const ef_uuid_t *u)
{
    assert_int_equal (u->b[6] >> 4, 7);      /* version */
    assert_int_equal (u->b[8] & 0xc0, 0x80); /* variant 10 */
}

static void
test_ten_thousand_ids_in_one_ms_strictly_increase (void **state)
{
    (void)state;
    ef_uuid_gen_t g;
    ef_uuid_gen_init (&g);
    const uint64_t ms = 1700000000123ull;
    for (int i = 0; i < N_IDS; i++)
        ef_uuid_gen_v7 (&g, ms, &s_ids[i]);
    assert_true (ef_uuid_v7_ms (&s_ids[0]) == ms);
    for (int i = 0; i < N_IDS; i++) {
        s_assert_v7_bits (&s_ids[i]);
        if (i > 0 && memcmp (&s_ids[i - 1], &s_ids[i], 16) >= 0)
            fail_msg ("id %d is not greater than id %d", i, i - 1);
        /* never behind the clock; ahead only by counter overflow */
        assert_true (ef_uuid_v7_ms (&s_ids[i]) >= ms);
        assert_true (ef_uuid_v7_ms (&s_ids[i]) < ms + N_IDS / 2048 + 2);
    }
}

static void
test_ids_increase_across_ms_and_when_the_clock_steps_back (void **state)
{
    (void)state;
    ef_uuid_gen_t g;
    ef_uuid_t prev, u;
    ef_uuid_gen_init (&g);
    ef_uuid_gen_v7 (&g, 5000, &prev);
    static const uint64_t clock[] = {5000, 5001, 5001, 4000, 4999,
                                     5001, 5002, 1,    6000, 6000};
    for (size_t i = 0; i < sizeof clock / sizeof clock[0]; i++) {
        ef_uuid_gen_v7 (&g, clock[i], &u);
        s_assert_v7_bits (&u);
        assert_true (memcmp (&prev, &u, 16) < 0);
        prev = u;
    }
    assert_true (ef_uuid_v7_ms (&u) == 6000);
}

static void
test_two_generators_give_distinct_ids_in_the_same_ms (void **state)
{
    (void)state;
    ef_uuid_gen_t a, b;
    ef_uuid_t ua, ub;
    ef_uuid_gen_init (&a);
    ef_uuid_gen_init (&b);
    ef_uuid_gen_v7 (&a, 42, &ua);
    ef_uuid_gen_v7 (&b, 42, &ub);
    assert_true (memcmp (&ua, &ub, 16) != 0); /* random tail */
}

static void
test_random_tails_stay_distinct_across_many_ids (void **state)
{
    (void)state;
    /* more ids than one refill of the generator's random pool, one per ms
       so that every id gets fresh random bits */
    enum { N = 1000 };
    ef_uuid_gen_t g;
    ef_uuid_gen_init (&g);
    for (int i = 0; i < N; i++)
        ef_uuid_gen_v7 (&g, 1000 + (uint64_t)i, &s_ids[i]);
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            if (memcmp (s_ids[i].b + 9, s_ids[j].b + 9, 7) == 0)
                fail_msg ("ids %d and %d share their random tail", i, j);
}

static void
test_v7_ms_returns_the_ms_given (void **state)
{
    (void)state;
    static const uint64_t ms[] = {0, 1, 1700000000123ull, 0xffffffffffffull};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        ef_uuid_gen_t g;
        ef_uuid_t u;
        ef_uuid_gen_init (&g);
        ef_uuid_gen_v7 (&g, ms[i], &u);
        assert_true (ef_uuid_v7_ms (&u) == ms[i]);
        s_assert_v7_bits (&u);
    }
    /* a version 4 id has no time */
    ef_uuid_t v4;
    assert_int_equal (
        ef_uuid_parse ("f47ac10b-58cc-4372-a567-0e02b2c3d479", 36, &v4), 0);
    assert_true (ef_uuid_v7_ms (&v4) == 0);
}

static void
test_format_then_parse_round_trips (void **state)
{
    (void)state;
    ef_uuid_gen_t g;
    ef_uuid_gen_init (&g);
    for (int i = 0; i < 100; i++) {
        ef_uuid_t u, back;
        char s[EF_UUID_STRLEN + 1];
        ef_uuid_gen_v7 (&g, 1700000000000ull + (uint64_t)i, &u);
        memset (s, 'X', sizeof s);
        ef_uuid_format (&u, s);
        assert_int_equal (strlen (s), EF_UUID_STRLEN);
        assert_int_equal (s[8], '-');
        assert_int_equal (s[13], '-');
        assert_int_equal (s[18], '-');
        assert_int_equal (s[23], '-');
        assert_int_equal (s[14], '7');
        assert_int_equal (ef_uuid_parse (s, strlen (s), &back), 0);
        assert_memory_equal (&u, &back, 16);
    }
}

static void
test_parse_reads_either_case_and_formats_lowercase (void **state)
{
    (void)state;
    static const uint8_t want[16] = {0x01, 0x90, 0xa1, 0xb2, 0xc3, 0xd4,
                                     0x7e, 0x5f, 0x8a, 0x9b, 0x0c, 0x1d,
                                     0x2e, 0x3f, 0x4a, 0x5b};
    ef_uuid_t u;
    char s[EF_UUID_STRLEN + 1];
    assert_int_equal (
        ef_uuid_parse ("0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B", 36, &u), 0);
    assert_memory_equal (u.b, want, 16);
    ef_uuid_format (&u, s);
    assert_string_equal (s, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
    /* only len bytes are read: a longer buffer is fine */
    assert_int_equal (
        ef_uuid_parse ("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5bXYZ", 36, &u), 0);
    assert_memory_equal (u.b, want, 16);
}

static void
test_parse_rejects_wrong_length_bad_hex_and_misplaced_dashes (void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5",   /* 35 */
        "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5bb", /* 37 */
        "0190a1b2c3d47e5f8a9b0c1d2e3f4a5b",      /* no dashes, 32 */
        "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5g",  /* g */
        "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5 ",  /* space */
        "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a-b",  /* dash in hex */
        "0190a1b2c-3d4-7e5f-8a9b-0c1d2e3f4a5b",  /* dash one late */
        "0190a1b-2c3d4-7e5f-8a9b-0c1d2e3f4a5b",  /* dash one early */
        "0190a1b2-c3d47-e5f-8a9b-0c1d2e3f4a5b",
        "0190a1b2-c3d4-7e5f8-a9b-0c1d2e3f4a5b",
        "0190a1b2-c3d4-7e5f-8a9b0-c1d2e3f4a5b",
        "0190a1b2_c3d4_7e5f_8a9b_0c1d2e3f4a5b", /* wrong separator */
        "{190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5}",
        "0x90a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ef_uuid_t u;
        if (ef_uuid_parse (bad[i], strlen (bad[i]), &u) != EF_EINVAL)
            fail_msg ("accepted \"%s\"", bad[i]);
    }
    /* right characters, wrong length given */
    ef_uuid_t u;
    assert_int_equal (
        ef_uuid_parse ("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", 35, &u),
        EF_EINVAL);
}

static void
test_hex_value_reads_both_cases_and_refuses_the_rest (void **state)
{
    (void)state;
    const char *digits = "0123456789abcdef", *upper = "ABCDEF";
    for (int i = 0; i < 16; i++)
        assert_int_equal (ef_hex_value (digits[i]), i);
    for (int i = 0; i < 6; i++)
        assert_int_equal (ef_hex_value (upper[i]), 10 + i);
    for (int c = -128; c < 128; c++)
        if (!strchr ("0123456789abcdefABCDEF", c) || c == 0)
            assert_int_equal (ef_hex_value ((char)c), -1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_ten_thousand_ids_in_one_ms_strictly_increase),
        cmocka_unit_test (
            test_ids_increase_across_ms_and_when_the_clock_steps_back),
        cmocka_unit_test (test_two_generators_give_distinct_ids_in_the_same_ms),
        cmocka_unit_test (test_random_tails_stay_distinct_across_many_ids),
        cmocka_unit_test (test_v7_ms_returns_the_ms_given),
        cmocka_unit_test (test_format_then_parse_round_trips),
        cmocka_unit_test (test_parse_reads_either_case_and_formats_lowercase),
        cmocka_unit_test (
            test_parse_rejects_wrong_length_bad_hex_and_misplaced_dashes),
        cmocka_unit_test (test_hex_value_reads_both_cases_and_refuses_the_rest),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
