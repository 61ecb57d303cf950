/*  test_series.c: unit tests of ef_series, the broker's per-second
    figures, driven by an explicit clock: counts land in their second in
    the org's totals and the stream's series, other orgs see nothing,
    latency p50/p99 come from the second's histogram, gauges carry over
    until set again, old seconds leave the window, idle series give their
    place up and a stream without a place counts in totals only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ef_series.h"

#define S(x) (x), strlen (x)

static void
test_counts_per_second_and_org (void **state)
{
    (void)state;
    ef_series_t *s = ef_series_new (60, 16);
    assert_non_null (s);
    ef_series_count (s, 1000, 1, S ("orders"), EF_SERIES_INGESTED, 3);
    ef_series_count (s, 1000, 1, S ("orders"), EF_SERIES_DUPLICATES, 1);
    ef_series_count (s, 1002, 1, S ("users"), EF_SERIES_INGESTED, 2);
    ef_series_count (s, 1002, 1, S ("orders"), EF_SERIES_REJECTED, 4);
    ef_series_count (s, 1002, 2, S ("orders"), EF_SERIES_INGESTED, 7);

    ef_series_point_t p[4];
    assert_int_equal (ef_series_read (s, 1003, 1, NULL, 0, 4, p), 0);
    /* seconds 1000..1003 */
    assert_int_equal (p[0].count[EF_SERIES_INGESTED], 3);
    assert_int_equal (p[0].count[EF_SERIES_DUPLICATES], 1);
    assert_int_equal (p[1].count[EF_SERIES_INGESTED], 0);
    assert_int_equal (p[2].count[EF_SERIES_INGESTED], 2);
    assert_int_equal (p[2].count[EF_SERIES_REJECTED], 4);
    assert_int_equal (p[3].count[EF_SERIES_INGESTED], 0);

    assert_int_equal (ef_series_read (s, 1003, 1, S ("orders"), 4, p), 0);
    assert_int_equal (p[0].count[EF_SERIES_INGESTED], 3);
    assert_int_equal (p[2].count[EF_SERIES_INGESTED], 0);
    assert_int_equal (p[2].count[EF_SERIES_REJECTED], 4);

    /* org 2 sees its own figures only, org 3 none */
    assert_int_equal (ef_series_read (s, 1003, 2, NULL, 0, 4, p), 0);
    assert_int_equal (p[0].count[EF_SERIES_INGESTED], 0);
    assert_int_equal (p[2].count[EF_SERIES_INGESTED], 7);
    assert_int_equal (ef_series_read (s, 1003, 3, NULL, 0, 4, p), -1);
    assert_int_equal (ef_series_read (s, 1003, 2, S ("users"), 4, p), -1);
    assert_int_equal (p[2].count[EF_SERIES_INGESTED], 0);

    char names[4][EF_SERIES_MAX_NAME + 1];
    assert_int_equal (ef_series_streams (s, 1003, 1, names, 4), 2);
    assert_int_equal (ef_series_streams (s, 1003, 2, names, 4), 1);
    assert_string_equal (names[0], "orders");
    assert_int_equal (ef_series_streams (s, 1003, 3, names, 4), 0);
    ef_series_destroy (&s);
    assert_null (s);
}

static void
test_latency_quantiles (void **state)
{
    (void)state;
    ef_series_t *s = ef_series_new (60, 16);
    /* second 10: 98 fast (<= 1 ms), 2 slow (about 2 s) */
    for (int i = 0; i < 98; i++)
        ef_series_latency (s, 10, 1, S ("a"), 1);
    ef_series_latency (s, 10, 1, S ("a"), 2000);
    ef_series_latency (s, 10, 1, S ("a"), 2100);
    /* second 11: one event of 7 ms */
    ef_series_latency (s, 11, 1, S ("a"), 7);

    ef_series_point_t p[3];
    assert_int_equal (ef_series_read (s, 11, 1, S ("a"), 3, p), 0);
    assert_int_equal (p[0].p50_ms, 0); /* second 9: nothing */
    assert_int_equal (p[1].p50_ms, 1);
    assert_int_equal (p[1].p99_ms, 2100); /* bucket 5000, capped by max */
    /* the current second is read live */
    assert_int_equal (p[2].p50_ms, 7);
    assert_int_equal (p[2].p99_ms, 7);
    /* settled once the series moves on */
    assert_int_equal (ef_series_read (s, 12, 1, NULL, 0, 3, p), 0);
    assert_int_equal (p[0].p99_ms, 2100);
    assert_int_equal (p[1].p50_ms, 7);
    assert_int_equal (p[2].p50_ms, 0);
    ef_series_destroy (&s);
}

static void
test_gauges_carry_over (void **state)
{
    (void)state;
    ef_series_t *s = ef_series_new (60, 16);
    /* a gauge alone makes no series */
    ef_series_gauge (s, 100, 1, NULL, 0, EF_SERIES_DLQ, 5);
    ef_series_point_t p[4];
    assert_int_equal (ef_series_read (s, 100, 1, NULL, 0, 1, p), -1);

    ef_series_count (s, 100, 1, S ("a"), EF_SERIES_INGESTED, 1);
    ef_series_gauge (s, 100, 1, NULL, 0, EF_SERIES_DLQ, 5);
    ef_series_gauge (s, 100, 1, NULL, 0, EF_SERIES_WORKERS, 2);
    ef_series_gauge (s, 100, 1, S ("a"), EF_SERIES_LAG, 9);
    ef_series_gauge (s, 102, 1, NULL, 0, EF_SERIES_DLQ, 6);
    assert_int_equal (ef_series_read (s, 103, 1, NULL, 0, 4, p), 0);
    assert_int_equal (p[0].gauge[EF_SERIES_DLQ], 5);
    assert_int_equal (p[1].gauge[EF_SERIES_DLQ], 5);
    assert_int_equal (p[2].gauge[EF_SERIES_DLQ], 6);
    assert_int_equal (p[3].gauge[EF_SERIES_DLQ], 6);
    assert_int_equal (p[3].gauge[EF_SERIES_WORKERS], 2);
    assert_int_equal (p[3].gauge[EF_SERIES_LAG], 0);
    assert_int_equal (ef_series_read (s, 103, 1, S ("a"), 4, p), 0);
    assert_int_equal (p[3].gauge[EF_SERIES_LAG], 9);
    ef_series_destroy (&s);
}

static void
test_window_and_bounds (void **state)
{
    (void)state;
    ef_series_t *s = ef_series_new (10, 3); /* 3 series at most */
    ef_series_count (s, 50, 1, S ("a"), EF_SERIES_INGESTED, 1);
    ef_series_count (s, 55, 1, S ("a"), EF_SERIES_INGESTED, 2);
    ef_series_point_t p[10];
    /* a read asks for more than the window: it gets the window */
    assert_int_equal (ef_series_read (s, 59, 1, S ("a"), 10, p), 0);
    assert_int_equal (p[0].count[EF_SERIES_INGESTED], 1);
    assert_int_equal (p[5].count[EF_SERIES_INGESTED], 2);
    assert_int_equal (ef_series_read (s, 60, 1, S ("a"), 10, p), 0);
    assert_int_equal (p[0].count[EF_SERIES_INGESTED], 0); /* 50 is gone */
    assert_int_equal (p[4].count[EF_SERIES_INGESTED], 2);

    /* places: totals of 1 and "a", "b" fill the 3; "c" counts in totals
       only */
    ef_series_count (s, 60, 1, S ("b"), EF_SERIES_INGESTED, 1);
    ef_series_count (s, 60, 1, S ("c"), EF_SERIES_INGESTED, 4);
    assert_int_equal (ef_series_overflow (s), 4);
    assert_int_equal (ef_series_read (s, 60, 1, S ("c"), 1, p), -1);
    assert_int_equal (ef_series_read (s, 60, 1, NULL, 0, 1, p), 0);
    assert_int_equal (p[0].count[EF_SERIES_INGESTED], 5);
    /* a stream name too long is never kept */
    char big[EF_SERIES_MAX_NAME + 2];
    memset (big, 'x', sizeof big);
    ef_series_count (s, 60, 1, big, sizeof big, EF_SERIES_INGESTED, 1);
    assert_int_equal (ef_series_overflow (s), 5);

    /* after a whole idle window, places are free again */
    ef_series_count (s, 75, 2, S ("z"), EF_SERIES_INGESTED, 1);
    assert_int_equal (ef_series_read (s, 75, 2, S ("z"), 1, p), 0);
    assert_int_equal (p[0].count[EF_SERIES_INGESTED], 1);
    assert_int_equal (ef_series_read (s, 75, 1, S ("a"), 1, p), -1);
    char names[2][EF_SERIES_MAX_NAME + 1];
    assert_int_equal (ef_series_streams (s, 75, 1, names, 2), 0);
    ef_series_destroy (&s);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_counts_per_second_and_org),
        cmocka_unit_test (test_latency_quantiles),
        cmocka_unit_test (test_gauges_carry_over),
        cmocka_unit_test (test_window_and_bounds),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
