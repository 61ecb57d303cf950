/*  test_error.c: unit tests of ef_error, the one table of EventFlow error
    codes. The codes, names and HTTP statuses are part of the wire
    protocol (schemas/protocol.md §3) and of the HTTP API
    (schemas/openapi.yaml, Problem.code), so the table is checked against
    a copy of that section here, and against both documents as they are
    read from the tree: a change to any of them must be deliberate, and
    none can drift from the others. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eventflow/ef_error.h"

/* protocol.md §3, verbatim */
static const struct {
    int code;
    const char *name;
    int http;
} s_table[] = {
    {-1, "PROTO", 400},
    {-2, "UNKNOWN_COMMAND", 400},
    {-3, "INVALID", 400},
    {-4, "TOO_BIG", 413},
    {-5, "NOT_FOUND", 404},
    {-6, "EXISTS", 409},
    {-7, "STORE_FULL", 507},
    {-8, "STORE_ERROR", 500},
    {-9, "VERSION", 400},
    {-10, "TIMEOUT", 408},
    {-11, "UNAVAILABLE", 503},
    {-12, "NO_MEMORY", 500},
    {-13, "AUTH", 401},
    {-14, "FORBIDDEN", 403},
    {-15, "RATE_LIMITED", 429},
    {-16, "VALIDATION", 422},
    {-17, "CONFLICT", 409},
    {-18, "INTERNAL", 500},
    {-19, "QUOTA", 507},
    /* the bridge's own (HTTP only) */
    {-20, "MALFORMED_JSON", 400},
    {-21, "UNSUPPORTED_MEDIA_TYPE", 415},
    {-22, "LENGTH_REQUIRED", 411},
    {-23, "METHOD_NOT_ALLOWED", 405},
};
#define N_TABLE (sizeof s_table / sizeof s_table[0])

static void
test_codes_names_and_http_statuses_match_the_protocol (void **state)
{
    (void)state;
    assert_int_equal (N_TABLE, -EF_ERROR_HTTP_MIN);
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
    for (int code = EF_OK; code >= EF_ERROR_HTTP_MIN; code--) {
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
    for (int a = EF_OK; a >= EF_ERROR_HTTP_MIN; a--) {
        assert_non_null (ef_strerror (a));
        assert_true (strlen (ef_strerror (a)) > 0);
        for (int b = a - 1; b >= EF_ERROR_HTTP_MIN; b--) {
            assert_true (strcmp (ef_strerror (a), ef_strerror (b)) != 0);
            assert_true (strcmp (ef_error_name (a), ef_error_name (b)) != 0);
        }
    }
}

static void
test_codes_outside_the_table_are_unknown_and_500 (void **state)
{
    (void)state;
    static const int outside[] = {1, 42, EF_ERROR_HTTP_MIN - 1, -1000,
                                  INT32_MIN};
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

/*  The whole of a file of the source tree, NUL-terminated (owned). */
static char *
s_slurp (const char *name)
{
    char path[512];
    snprintf (path, sizeof path, "%s/%s", EF_SOURCE_DIR, name);
    FILE *f = fopen (path, "rb");
    if (!f)
        fail_msg ("cannot open %s", path);
    fseek (f, 0, SEEK_END);
    long n = ftell (f);
    rewind (f);
    char *s = malloc ((size_t)n + 1);
    assert_non_null (s);
    assert_int_equal (fread (s, 1, (size_t)n, f), (size_t)n);
    s[n] = 0;
    fclose (f);
    return s;
}

static void
test_the_table_is_the_one_in_protocol_md (void **state)
{
    (void)state;
    char *doc = s_slurp ("schemas/protocol.md");
    char *sec = strstr (doc, "\n## 3. Error codes");
    assert_non_null (sec);
    char *end = strstr (sec + 1, "\n## ");
    assert_non_null (end);
    *end = 0;
    /* rows: | -N | `NAME` | meaning | STATUS | */
    int seen = 0;
    char *save = NULL;
    for (char *line = strtok_r (sec, "\n", &save); line;
         line = strtok_r (NULL, "\n", &save)) {
        int code = 0;
        char name[64] = "";
        if (strncmp (line, "| -", 3) != 0)
            continue;
        assert_int_equal (sscanf (line, "| %d | `%63[A-Z_]`", &code, name), 2);
        char *last = strrchr (line, '|');
        assert_non_null (last);
        *last = 0;
        int status = atoi (strrchr (line, '|') + 1);
        assert_string_equal (ef_error_name (code), name);
        if (ef_error_http_status (code) != status)
            fail_msg ("%s: protocol.md says %d, the table %d", name, status,
                      ef_error_http_status (code));
        assert_int_equal (code, -1 - seen); /* every code, in order */
        seen++;
    }
    assert_int_equal (seen, -EF_ERROR_HTTP_MIN);
    free (doc);
}

static void
test_the_table_is_the_one_in_openapi_yaml (void **state)
{
    (void)state;
    char *doc = s_slurp ("schemas/openapi.yaml");
    char *problem = strstr (doc, "\n    Problem:\n");
    assert_non_null (problem);
    char *code = strstr (problem, "\n        code:\n");
    assert_non_null (code);
    /* description: '... NAME (STATUS), NAME (STATUS). ...' names every
       code with its status; the enum names the same codes */
    char *desc = strstr (code, "description: '");
    char *eol = strchr (desc, '\n');
    *eol = 0;
    int listed = 0;
    for (int c = -1; c >= EF_ERROR_HTTP_MIN; c--) {
        char want[80];
        snprintf (want, sizeof want, " %s (%d)", ef_error_name (c),
                  ef_error_http_status (c));
        if (!strstr (desc, want))
            fail_msg ("openapi.yaml's Problem.code lacks \"%s\"", want + 1);
        listed++;
    }
    /* and nothing more: count the "(NNN)" it holds */
    int pairs = 0;
    for (char *p = strstr (desc, " ("); p; p = strstr (p + 1, " ("))
        if (p[2] >= '1' && p[2] <= '5' && p[5] == ')')
            pairs++;
    assert_int_equal (pairs, listed);
    char *en = strstr (eol + 1, "enum: [");
    assert_non_null (en);
    char *close = strchr (en, ']');
    assert_non_null (close);
    *close = 0;
    int names = 1;
    for (char *p = en; *p; p++)
        names += *p == ',';
    assert_int_equal (names, listed);
    for (int c = -1; c >= EF_ERROR_HTTP_MIN; c--) {
        char want[80];
        snprintf (want, sizeof want, "%s,", ef_error_name (c));
        char last[80];
        snprintf (last, sizeof last, "%s", ef_error_name (c));
        if (!strstr (en, want) && strcmp (strrchr (en, ' ') + 1, last) != 0)
            fail_msg ("openapi.yaml's Problem.code enum lacks %s", last);
    }
    free (doc);
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
        cmocka_unit_test (test_the_table_is_the_one_in_protocol_md),
        cmocka_unit_test (test_the_table_is_the_one_in_openapi_yaml),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
