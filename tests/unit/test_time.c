/*  test_time.c: unit tests of ef_time: RFC 3339 formatting of event times
    and parsing of the times users type (UTC, fractions, offsets), plus the
    clocks' basic promises. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "eventflow/ef_error.h"
#include "eventflow/ef_time.h"

static int
s_parse (const char *s, uint64_t *ms)
{
    return ef_time_parse (s, strlen (s), ms);
}

static void
test_format_of_known_ms (void **state)
{
    (void)state;
    char out[32];
    assert_string_equal (ef_time_format (0, out, sizeof out),
                         "1970-01-01T00:00:00.000Z");
    assert_string_equal (ef_time_format (1700000000123ull, out, sizeof out),
                         "2023-11-14T22:13:20.123Z");
    assert_string_equal (ef_time_format (951782400999ull, out, sizeof out),
                         "2000-02-29T00:00:00.999Z"); /* leap day */
    assert_ptr_equal (ef_time_format (5, out, sizeof out), out);
    assert_string_equal (out, "1970-01-01T00:00:00.005Z");
}

static void
test_parse_of_utc_with_z (void **state)
{
    (void)state;
    uint64_t ms = 1;
    assert_int_equal (s_parse ("2023-11-14T22:13:20Z", &ms), 0);
    assert_true (ms == 1700000000000ull);
    assert_int_equal (s_parse ("1970-01-01T00:00:00Z", &ms), 0);
    assert_true (ms == 0);
    assert_int_equal (s_parse ("2023-11-14t22:13:20z", &ms), 0);
    assert_true (ms == 1700000000000ull);
    assert_int_equal (s_parse ("2023-11-14 22:13:20Z", &ms), 0);
    assert_true (ms == 1700000000000ull);
}

static void
test_parse_of_fractional_seconds (void **state)
{
    (void)state;
    uint64_t ms = 0;
    assert_int_equal (s_parse ("2023-11-14T22:13:20.123Z", &ms), 0);
    assert_true (ms == 1700000000123ull);
    assert_int_equal (s_parse ("2023-11-14T22:13:20.5Z", &ms), 0);
    assert_true (ms == 1700000000500ull);
    assert_int_equal (s_parse ("2023-11-14T22:13:20.12Z", &ms), 0);
    assert_true (ms == 1700000000120ull);
    /* precision beyond the ms is dropped, not rounded into the next ms */
    assert_int_equal (s_parse ("2023-11-14T22:13:20.123999999Z", &ms), 0);
    assert_true (ms == 1700000000123ull);
}

static void
test_parse_of_numeric_offsets (void **state)
{
    (void)state;
    uint64_t ms = 0;
    assert_int_equal (s_parse ("2023-11-15T00:13:20.123+02:00", &ms), 0);
    assert_true (ms == 1700000000123ull);
    assert_int_equal (s_parse ("2023-11-14T17:43:20-04:30", &ms), 0);
    assert_true (ms == 1700000000000ull);
    assert_int_equal (s_parse ("2023-11-14T22:13:20+00:00", &ms), 0);
    assert_true (ms == 1700000000000ull);
}

static void
test_format_then_parse_round_trips (void **state)
{
    (void)state;
    static const uint64_t ms[] = {0, 999, 1700000000123ull, 4102444799999ull};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        char out[32];
        uint64_t back = 0;
        ef_time_format (ms[i], out, sizeof out);
        assert_int_equal (s_parse (out, &back), 0);
        assert_true (back == ms[i]);
    }
}

static void
test_parse_rejects_garbage (void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "now",
        "1700000000",
        "2023-11-14",            /* date only */
        "2023-11-14T22:13:20",   /* no zone */
        "2023-11-14T22:13Z",     /* no seconds */
        "2023-11-14T22:13:20.Z", /* empty fraction */
        "2023-11-14T22:13:20ZZ", /* trailing junk */
        "2023-11-14T22:13:20Z ",
        "2023-11-14T22:13:20+0200", /* offset without colon */
        "2023-11-14T22:13:20+02",
        "2023/11/14T22:13:20Z",
        "23-11-14T22:13:20Z",
        "2023-13-01T00:00:00Z", /* month 13 */
        "2023-00-01T00:00:00Z",
        "2023-11-32T00:00:00Z",
        "2023-11-00T00:00:00Z",
        "2023-11-14T24:00:00Z",
        "2023-11-14T22:60:00Z",
        "1969-12-31T23:59:59Z", /* before the epoch */
        "2023-11-14X22:13:20Z",
        "2023-1a-14T22:13:20Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t ms = 77;
        if (s_parse (bad[i], &ms) != EF_EINVAL)
            fail_msg ("accepted \"%s\"", bad[i]);
        assert_true (ms == 77); /* untouched */
    }
    /* only n bytes are read */
    uint64_t ms;
    assert_int_equal (ef_time_parse ("2023-11-14T22:13:20Z", 19, &ms),
                      EF_EINVAL);
}

static void
test_parse_rejects_day_beyond_the_end_of_its_month (void **state)
{
    (void)state;
    uint64_t ms = 0;
    /* RFC 3339 §5.7: mday is bounded by the month and year */
    assert_int_equal (s_parse ("2023-02-30T00:00:00Z", &ms), EF_EINVAL);
    assert_int_equal (s_parse ("2023-02-29T00:00:00Z", &ms), EF_EINVAL);
    assert_int_equal (s_parse ("2023-04-31T00:00:00Z", &ms), EF_EINVAL);
    assert_int_equal (s_parse ("2024-02-29T00:00:00Z", &ms), 0); /* leap */
}

static void
test_parse_rejects_offset_out_of_range (void **state)
{
    (void)state;
    uint64_t ms = 0;
    /* RFC 3339 §5.6: time-numoffset is hh:mm with hh < 24 and mm < 60 */
    assert_int_equal (s_parse ("2023-11-14T22:13:20+02:60", &ms), EF_EINVAL);
    assert_int_equal (s_parse ("2023-11-14T22:13:20+24:00", &ms), EF_EINVAL);
}

static void
test_clocks_are_plausible_and_monotonic_never_goes_back (void **state)
{
    (void)state;
    uint64_t now = ef_time_now_ms ();
    assert_true (now > 1700000000000ull); /* after this code was written */
    uint64_t a = ef_time_mono_ns ();
    int64_t am = ef_time_mono_ms ();
    uint64_t b = ef_time_mono_ns ();
    int64_t bm = ef_time_mono_ms ();
    assert_true (b >= a);
    assert_true (bm >= am);
}

/*  The steady clock reads as the wall clock (with no step since the
    process started, within a few ms of it) and never goes back. */
static void
test_steady_clock_reads_as_the_wall_clock_and_never_goes_back (void **state)
{
    (void)state;
    uint64_t wall = ef_time_now_ms ();
    uint64_t prev = ef_time_steady_ms ();
    assert_true (prev + 50 >= wall && prev <= wall + 50);
    for (int i = 0; i < 100000; i++) {
        uint64_t t = ef_time_steady_ms ();
        assert_true (t >= prev);
        prev = t;
    }
    wall = ef_time_now_ms ();
    assert_true (prev + 50 >= wall && prev <= wall + 50);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_format_of_known_ms),
        cmocka_unit_test (test_parse_of_utc_with_z),
        cmocka_unit_test (test_parse_of_fractional_seconds),
        cmocka_unit_test (test_parse_of_numeric_offsets),
        cmocka_unit_test (test_format_then_parse_round_trips),
        cmocka_unit_test (test_parse_rejects_garbage),
        cmocka_unit_test (test_parse_rejects_day_beyond_the_end_of_its_month),
        cmocka_unit_test (test_parse_rejects_offset_out_of_range),
        cmocka_unit_test (
            test_steady_clock_reads_as_the_wall_clock_and_never_goes_back),
        cmocka_unit_test (
            test_clocks_are_plausible_and_monotonic_never_goes_back),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
