/*  test_error.c: unit tests of ef_error, the one table of EventFlow error
    codes. The codes, names and HTTP statuses are part of the wire
    protocol (schemas/protocol.md §3), so the table is checked against a
    copy of that section here: a change to either must be deliberate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "eventflow/ef_error.h"

/* protocol.md §3, verbatim */
static const struct {
    int code;
    const char *name;
    int http;
} s_table[] = {
    {-1, "PROTO", 400},         {-2, "UNKNOWN_COMMAND", 400},
    {-3, "INVALID", 400},       {-4, "TOO_BIG", 413},
    {-5, "NOT_FOUND", 404},     {-6, "EXISTS", 409},
    {-7, "STORE_FULL", 507},    {-8, "STORE_ERROR", 500},
    {-9, "VERSION", 400},       {-10, "TIMEOUT", 504},
    {-11, "UNAVAILABLE", 503},  {-12, "NO_MEMORY", 500},
    {-13, "AUTH", 401},         {-14, "FORBIDDEN", 403},
    {-15, "RATE_LIMITED", 429}, {-16, "VALIDATION", 422},
    {-17, "CONFLICT", 409},     {-18, "INTERNAL", 500},
    {-19, "QUOTA", 507},
};
#define N_TABLE (sizeof s_table / sizeof s_table[0])

static void
test_codes_names_and_http_statuses_match_the_protocol (void **state)
{
    (void)state;
    assert_int_equal (N_TABLE, -EF_ERROR_MIN);
    for (size_t i = 0; i < N_TABLE; i++) {
        assert_string_equal (ef_error_name (s_table[i].code), s_table[i].name);
        assert_int_equal (ef_error_http_status (s_table[i].code),
                          s_table[i].http);
    }
    /* the header's macros are those numbers */
    assert_int_equal (EF_EPROTO, -1);
    assert_int_equal (EF_EINVAL, -3);
    assert_int_equal (EF_ESTORE_FULL, -7);
    assert_int_equal (EF_EVERSION, -9);
    assert_int_equal (EF_ERATE, -15);
    assert_int_equal (EF_EINTERNAL, -18);
    assert_int_equal (ef_error_http_status (EF_OK), 200);
}

static void
test_every_name_round_trips_through_from_name (void **state)
{
    (void)state;
    for (int code = EF_OK; code >= EF_ERROR_MIN; code--) {
        const char *name = ef_error_name (code);
        assert_non_null (name);
        assert_int_equal (ef_error_from_name (name, (unsigned)strlen (name)),
                          code);
    }
}

static void
test_every_code_has_its_own_text (void **state)
{
    (void)state;
    for (int a = EF_OK; a >= EF_ERROR_MIN; a--) {
        assert_non_null (ef_strerror (a));
        assert_true (strlen (ef_strerror (a)) > 0);
        for (int b = a - 1; b >= EF_ERROR_MIN; b--) {
            assert_true (strcmp (ef_strerror (a), ef_strerror (b)) != 0);
            assert_true (strcmp (ef_error_name (a), ef_error_name (b)) != 0);
        }
    }
}

static void
test_codes_outside_the_table_are_unknown_and_500 (void **state)
{
    (void)state;
    static const int outside[] = {1, 42, EF_ERROR_MIN - 1, -1000, INT32_MIN};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        assert_string_equal (ef_error_name (outside[i]), "UNKNOWN");
        assert_non_null (ef_strerror (outside[i]));
        assert_int_equal (ef_error_http_status (outside[i]), 500);
    }
}

static void
test_from_name_matches_whole_names_only (void **state)
{
    (void)state;
    assert_int_equal (ef_error_from_name ("NOPE", 4), EF_EINTERNAL);
    assert_int_equal (ef_error_from_name ("", 0), EF_EINTERNAL);
    assert_int_equal (ef_error_from_name ("not_found", 9), EF_EINTERNAL);
    /* the length given counts, not the NUL */
    assert_int_equal (ef_error_from_name ("PROTOCOL", 5), EF_EPROTO);
    assert_int_equal (ef_error_from_name ("PROT", 4), EF_EINTERNAL);
    assert_int_equal (ef_error_from_name ("EXISTSX", 7), EF_EINTERNAL);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (
            test_codes_names_and_http_statuses_match_the_protocol),
        cmocka_unit_test (test_every_name_round_trips_through_from_name),
        cmocka_unit_test (test_every_code_has_its_own_text),
        cmocka_unit_test (test_codes_outside_the_table_are_unknown_and_500),
        cmocka_unit_test (test_from_name_matches_whole_names_only),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
