/*  test_json.c: unit tests of ef_json: the strict validator that guards
    every published payload (one RFC 8259 value, valid UTF-8, bounded
    nesting, the offset of the first fault) and the string quoter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eventflow/ef_error.h"
#include "eventflow/ef_json.h"

static int
s_valid (const char *doc, int depth)
{
    return ef_json_validate (doc, strlen (doc), depth, NULL, NULL);
}

static void
test_valid_documents_pass (void **state)
{
    (void)state;
    static const char *const good[] = {
        "0",
        "-0",
        "42",
        "-17",
        "3.14159",
        "1e10",
        "1E+2",
        "-2.5e-3",
        "0.0e0",
        "true",
        "false",
        "null",
        "\"\"",
        "\"plain\"",
        "[]",
        "{}",
        " \t\r\n[ 1 , 2 ]\n ",
        "{\"a\":{\"b\":[1,{\"c\":null}],\"d\":\"e\"},\"f\":[[],[{}]]}",
        "\"escapes \\\" \\\\ \\/ \\b \\f \\n \\r \\t\"",
        "\"\\u00e9\\u20AC\\ud83d\\ude00\"",
        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"",
        "{\"\xe6\x97\xa5\xe6\x9c\xac\":\"\xe8\xaa\x9e\"}",
        "[1.5e300,-1.5E-300,123456789012345678901234567890]",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const char *why = NULL;
        size_t at = 99;
        int rc = ef_json_validate (good[i], strlen (good[i]), 64, &at, &why);
        if (rc != 0)
            fail_msg ("rejected %s at %zu: %s", good[i], at, why ? why : "");
    }
}

static void
test_invalid_documents_fail (void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", /* nothing */
        "   ",
        "[1,2,]", /* trailing comma */
        "{\"a\":1,}",
        "[,1]",
        "01", /* leading zero */
        "-01",
        "+1",
        ".5",
        "1.",
        "1e",
        "1e+",
        "-",
        "0x10",
        "NaN",
        "Infinity",
        "\"\xed\xa0\x80\"", /* lone surrogate as raw UTF-8 */
        "\"\xed\xbf\xbf\"",
        "\"\xc0\xaf\"", /* overlong */
        "\"\xe0\x80\xaf\"",
        "\"\xf4\x90\x80\x80\"", /* beyond U+10FFFF */
        "\"\xff\"",
        "\"\x80\"",     /* stray continuation byte */
        "\"\xe2\x82\"", /* sequence cut by the quote */
        "\"a\x01"
        "b\"", /* control characters in a string */
        "\"a\nb\"",
        "\"a\tb\"",
        "\"unterminated",
        "\"ends in escape\\",
        "\"\\x41\"", /* unknown escape */
        "\"\\u12G4\"",
        "\"\\u12\"",
        "[1", /* unterminated containers */
        "{\"a\":1",
        "{\"a\"",
        "{\"a\" 1}",
        "{1:2}",
        "{'a':1}",
        "1 2", /* two values */
        "{} []",
        "[1]]",
        "tru",
        "nul",
        "True",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = NULL;
        if (ef_json_validate (bad[i], strlen (bad[i]), 64, NULL, &why) !=
            EF_EINVAL)
            fail_msg ("accepted document %zu: %s", i, bad[i]);
        assert_non_null (why);
    }
    /* a NUL byte inside the input is not the end of it */
    assert_int_equal (ef_json_validate ("1\0", 2, 64, NULL, NULL), EF_EINVAL);
    assert_int_equal (ef_json_validate ("\"a\0b\"", 5, 64, NULL, NULL),
                      EF_EINVAL);
}

/*  n nested arrays (open then close), or objects when obj. */
static char *
s_nested (int n, int obj)
{
    char *p = malloc ((size_t)n * 6 + 2);
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        if (obj) {
            memcpy (p + k, "{\"a\":", 5);
            k += 5;
        } else
            p[k++] = '[';
    }
    p[k++] = '1';
    for (int i = 0; i < n; i++)
        p[k++] = obj ? '}' : ']';
    p[k] = 0;
    return p;
}

static void
test_depth_64_passes_and_65_is_rejected_with_limit_64 (void **state)
{
    (void)state;
    for (int obj = 0; obj <= 1; obj++) {
        char *ok = s_nested (64, obj), *deep = s_nested (65, obj);
        const char *why = NULL;
        assert_int_equal (s_valid (ok, 64), 0);
        assert_int_equal (
            ef_json_validate (deep, strlen (deep), 64, NULL, &why), EF_EINVAL);
        assert_non_null (why);
        free (ok);
        free (deep);
    }
    /* siblings do not add up: many arrays side by side at depth 2 */
    assert_int_equal (s_valid ("[[],[],[],[[]]]", 3), 0);
    assert_int_equal (s_valid ("[[],[],[],[[]]]", 2), EF_EINVAL);
    assert_int_equal (s_valid ("1", 0), 0);
    assert_int_equal (s_valid ("[]", 0), EF_EINVAL);
    /* a very deep document fails fast instead of exhausting the stack */
    char *huge = s_nested (200000, 0);
    assert_int_equal (s_valid (huge, 64), EF_EINVAL);
    free (huge);
}

static void
test_error_offset_points_at_the_fault (void **state)
{
    (void)state;
    static const struct {
        const char *doc;
        size_t at;
    } cases[] = {
        {"[1,]", 3},                         /* the ']' where a value was due */
        {"{\"a\" 1}", 5},                    /* the '1' where ':' was due */
        {"01", 1},                           /* the trailing '1' */
        {"[1, 2] x", 7},  {"\"ab\x01\"", 3}, /* the control character */
        {"  @", 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t at = 12345;
        assert_int_equal (ef_json_validate (cases[i].doc, strlen (cases[i].doc),
                                            64, &at, NULL),
                          EF_EINVAL);
        if (at != cases[i].at)
            fail_msg ("%s: error at %zu, expected %zu", cases[i].doc, at,
                      cases[i].at);
    }
}

static void
s_assert_quote (const char *in, size_t n, const char *want)
{
    ef_buf_t b;
    ef_buf_init (&b);
    ef_json_quote (&b, in, n);
    assert_int_equal (b.oom, 0);
    if (b.len != strlen (want) || memcmp (b.data, want, b.len) != 0)
        fail_msg ("quoted as %.*s, expected %s", (int)b.len, b.data, want);
    /* and the result is itself valid JSON */
    assert_int_equal (ef_json_validate (b.data, b.len, 1, NULL, NULL), 0);
    ef_buf_free (&b);
}

static void
test_quote_escapes_quotes_backslash_and_control_chars (void **state)
{
    (void)state;
    s_assert_quote ("", 0, "\"\"");
    s_assert_quote ("plain", 5, "\"plain\"");
    s_assert_quote ("say \"hi\"", 8, "\"say \\\"hi\\\"\"");
    s_assert_quote ("a\\b", 3, "\"a\\\\b\"");
    s_assert_quote ("\x01", 1, "\"\\u0001\"");
    s_assert_quote ("x\x1fy", 3, "\"x\\u001fy\"");
    s_assert_quote ("\0", 1, "\"\\u0000\"");
    s_assert_quote ("\x0b", 1, "\"\\u000b\"");
    s_assert_quote ("l1\nl2\r\t", 7, "\"l1\\nl2\\r\\t\"");
    s_assert_quote ("caf\xc3\xa9", 5, "\"caf\xc3\xa9\""); /* UTF-8 kept */
    s_assert_quote ("/", 1, "\"/\"");
}

static void
test_quote_appends_to_what_the_buffer_holds (void **state)
{
    (void)state;
    ef_buf_t b;
    ef_buf_init (&b);
    ef_buf_append (&b, "{\"k\":", 5);
    ef_json_quote (&b, "v\"", 2);
    ef_buf_append (&b, "}", 1);
    assert_int_equal (b.len, strlen ("{\"k\":\"v\\\"\"}"));
    assert_memory_equal (b.data, "{\"k\":\"v\\\"\"}", b.len);
    /* a long string with escapes throughout survives growth */
    char big[5000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i % 7 == 0 ? '"' : 'a' + i % 26);
    ef_buf_reset (&b);
    ef_json_quote (&b, big, sizeof big);
    assert_int_equal (ef_json_validate (b.data, b.len, 1, NULL, NULL), 0);
    assert_int_equal (b.len, 2 + sizeof big + (sizeof big + 6) / 7);
    ef_buf_free (&b);
}

static void
test_lone_surrogate_escapes_are_refused_and_pairs_taken (void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\"\\ud800\"",         "\"\\uDBFF\"",          "\"\\udc00\"",
        "\"\\ud800x\"",        "\"\\ud800\\u0041\"",   "\"\\ude00\\ud83d\"",
        "{\"k\":\"\\ud800\"}", "[\"ok\",\"\\udfff\"]", "\"a\\ud83d\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = NULL;
        if (ef_json_validate (bad[i], strlen (bad[i]), 64, NULL, &why) == 0)
            fail_msg ("accepted %s", bad[i]);
        assert_non_null (strstr (why, "surrogate"));
    }
    assert_int_equal (s_valid ("\"\\ud83d\\ude00 \\uDBFF\\uDFFF\"", 64), 0);
    /* a surrogate written as UTF-8 bytes is not UTF-8 either */
    assert_int_equal (s_valid ("\"\xed\xa0\x80\"", 64), EF_EINVAL);
    assert_int_equal (s_valid ("\"\xc0\xaf\"", 64), EF_EINVAL);
}

static void
test_fault_path_names_the_member_or_element_at_fault (void **state)
{
    (void)state;
    static const struct {
        const char *doc, *path;
    } cases[] = {
        {"{\"type\":\"\\ud800\",\"payload\":{}}", "/type"},
        {"[{\"type\":\"t\"},{\"payload\":{\"a/b\":[1,\"\xff\"]}}]",
         "/1/payload/a~1b/1"},
        {"\"\\udc00\"", ""},
        {"{\"a\":{\"b~\":\"\\ud800\"}}", "/a/b~0"},
        /* trailing characters: refused at the top level (found by
           tests/fuzz/json.c, which said such a text was valid) */
        {"1 2", ""},
        {"{} []", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[64];
        assert_int_equal (ef_json_fault_path (cases[i].doc,
                                              strlen (cases[i].doc), 64, path,
                                              sizeof path),
                          0);
        assert_string_equal (path, cases[i].path);
    }
    char path[8];
    assert_int_equal (ef_json_fault_path ("{}", 2, 64, path, sizeof path),
                      EF_EINVAL);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_valid_documents_pass),
        cmocka_unit_test (test_invalid_documents_fail),
        cmocka_unit_test (
            test_depth_64_passes_and_65_is_rejected_with_limit_64),
        cmocka_unit_test (test_error_offset_points_at_the_fault),
        cmocka_unit_test (
            test_quote_escapes_quotes_backslash_and_control_chars),
        cmocka_unit_test (test_quote_appends_to_what_the_buffer_holds),
        cmocka_unit_test (
            test_lone_surrogate_escapes_are_refused_and_pairs_taken),
        cmocka_unit_test (test_fault_path_names_the_member_or_element_at_fault),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
