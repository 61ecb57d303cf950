/*  test_patch.c: unit tests of ef_patch, JSON Patch (RFC 6902) over JSON
    Pointer (RFC 6901). Every example of RFC 6902 Appendix A runs with the
    RFC's own input, patch and expected output, compared by deep equality
    after a round trip through ef_patch_apply's text; each successful case
    also runs through ef_patch_apply_json and must leave its input alone.
    Beyond the RFC: patches refused at compile time, atomicity when a later
    operation fails, pointer escapes, "-", array indexes, moves into a
    child, the root, equality of numbers, the nesting limit, and one patch
    applied from many threads at once. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ef_patch.h"
#include "eventflow/ef_error.h"

/* ---------------------------------------------------------------- helpers */

static json_t *
s_parse (const char *text)
{
    json_error_t e;
    json_t *j = json_loads (text, JSON_DECODE_ANY, &e);
    if (!j)
        fail_msg ("bad test JSON: %s: %s", e.text, text);
    return j;
}

static ef_patch_t *
s_compile (const char *patch)
{
    char why[256];
    int err = 1;
    ef_patch_t *p =
        ef_patch_compile (patch, strlen (patch), &err, why, sizeof why);
    if (!p)
        fail_msg ("compile failed (%d): %s", err, why);
    assert_int_equal (err, 0);
    assert_string_equal (why, "");
    return p;
}

/*  Apply patch to doc both ways and check the result deep-equals expect. */
static void
s_expect (const char *doc, const char *patch, const char *expect)
{
    ef_patch_t *p = s_compile (patch);
    char why[256];
    char *out = NULL;
    size_t out_len = 0;
    int rc = ef_patch_apply (p, doc, strlen (doc), SIZE_MAX, &out, &out_len,
                             why, sizeof why);
    if (rc != 0)
        fail_msg ("apply failed (%d): %s", rc, why);
    assert_non_null (out);
    assert_int_equal (out_len, strlen (out));
    json_t *got = s_parse (out);
    json_t *want = s_parse (expect);
    if (!json_equal (got, want))
        fail_msg ("got %s, want %s", out, expect);

    /*  The same through the jansson entry, which must not touch its input. */
    json_t *in = s_parse (doc);
    json_t *before = json_deep_copy (in);
    int err = 1;
    json_t *res = ef_patch_apply_json (p, in, SIZE_MAX, &err, why, sizeof why);
    assert_non_null (res);
    assert_int_equal (err, 0);
    assert_true (json_equal (res, want));
    assert_true (json_equal (in, before));
    /*  Bounded one byte below the result's text: refused, so the size
        kept on the way never underestimates the result. */
    char *dumped = json_dumps (res, JSON_COMPACT | JSON_ENCODE_ANY |
                                        JSON_REAL_PRECISION (17));
    assert_non_null (dumped);
    size_t len = strlen (dumped);
    free (dumped);
    json_t *none = ef_patch_apply_json (p, in, len - 1, &err, why, sizeof why);
    if (none)
        fail_msg ("bounded at %zu bytes, %s gave a %zu-byte result", len - 1,
                  patch, len);
    assert_int_equal (err, EF_ETOOBIG);

    json_decref (res);
    json_decref (before);
    json_decref (in);
    json_decref (got);
    json_decref (want);
    free (out);
    ef_patch_destroy (&p);
    assert_null (p);
}

/*  Apply patch to doc both ways; both must fail with code, return nothing
    and give a reason containing needle. */
static void
s_expect_fail (const char *doc, const char *patch, int code, const char *needle)
{
    ef_patch_t *p = s_compile (patch);
    char why[256];
    char *out = (char *)"junk";
    size_t out_len = 99;
    int rc = ef_patch_apply (p, doc, strlen (doc), SIZE_MAX, &out, &out_len,
                             why, sizeof why);
    if (rc != code)
        fail_msg ("apply gave %d, want %d (%s) for %s", rc, code, why, patch);
    assert_null (out);
    assert_int_equal (out_len, 0);
    if (!strstr (why, needle))
        fail_msg ("reason \"%s\" lacks \"%s\"", why, needle);

    json_t *in = s_parse (doc);
    json_t *before = json_deep_copy (in);
    int err = 0;
    assert_null (ef_patch_apply_json (p, in, SIZE_MAX, &err, why, sizeof why));
    assert_int_equal (err, code);
    assert_true (json_equal (in, before));
    json_decref (before);
    json_decref (in);
    ef_patch_destroy (&p);
}

/*  Compiling patch must fail with EF_EINVAL and a reason containing
    needle. */
static void
s_expect_invalid (const char *patch, size_t len, const char *needle)
{
    char why[256];
    int err = 0;
    ef_patch_t *p = ef_patch_compile (patch, len, &err, why, sizeof why);
    if (p)
        fail_msg ("compiled, should not have: %s", patch);
    assert_int_equal (err, EF_EINVAL);
    if (!strstr (why, needle))
        fail_msg ("reason \"%s\" lacks \"%s\" for %s", why, needle, patch);
}

/* ------------------------------------------------ RFC 6902 Appendix A */

static void
test_rfc_a1_adding_an_object_member (void **state)
{
    (void)state;
    s_expect ("{ \"foo\": \"bar\"}",
              "[ { \"op\": \"add\", \"path\": \"/baz\", \"value\": \"qux\" } ]",
              "{ \"baz\": \"qux\", \"foo\": \"bar\" }");
}

static void
test_rfc_a2_adding_an_array_element (void **state)
{
    (void)state;
    s_expect (
        "{ \"foo\": [ \"bar\", \"baz\" ] }",
        "[ { \"op\": \"add\", \"path\": \"/foo/1\", \"value\": \"qux\" } ]",
        "{ \"foo\": [ \"bar\", \"qux\", \"baz\" ] }");
}

static void
test_rfc_a3_removing_an_object_member (void **state)
{
    (void)state;
    s_expect ("{ \"baz\": \"qux\", \"foo\": \"bar\" }",
              "[ { \"op\": \"remove\", \"path\": \"/baz\" } ]",
              "{ \"foo\": \"bar\" }");
}

static void
test_rfc_a4_removing_an_array_element (void **state)
{
    (void)state;
    s_expect ("{ \"foo\": [ \"bar\", \"qux\", \"baz\" ] }",
              "[ { \"op\": \"remove\", \"path\": \"/foo/1\" } ]",
              "{ \"foo\": [ \"bar\", \"baz\" ] }");
}

static void
test_rfc_a5_replacing_a_value (void **state)
{
    (void)state;
    s_expect ("{ \"baz\": \"qux\", \"foo\": \"bar\" }",
              "[ { \"op\": \"replace\", \"path\": \"/baz\", \"value\": \"boo\" "
              "} ]",
              "{ \"baz\": \"boo\", \"foo\": \"bar\" }");
}

static void
test_rfc_a6_moving_a_value (void **state)
{
    (void)state;
    s_expect ("{ \"foo\": { \"bar\": \"baz\", \"waldo\": \"fred\" },"
              "  \"qux\": { \"corge\": \"grault\" } }",
              "[ { \"op\": \"move\", \"from\": \"/foo/waldo\", \"path\": "
              "\"/qux/thud\" } ]",
              "{ \"foo\": { \"bar\": \"baz\" },"
              "  \"qux\": { \"corge\": \"grault\", \"thud\": \"fred\" } }");
}

static void
test_rfc_a7_moving_an_array_element (void **state)
{
    (void)state;
    s_expect ("{ \"foo\": [ \"all\", \"grass\", \"cows\", \"eat\" ] }",
              "[ { \"op\": \"move\", \"from\": \"/foo/1\", \"path\": "
              "\"/foo/3\" } ]",
              "{ \"foo\": [ \"all\", \"cows\", \"eat\", \"grass\" ] }");
}

static void
test_rfc_a8_testing_a_value_success (void **state)
{
    (void)state;
    s_expect ("{ \"baz\": \"qux\", \"foo\": [ \"a\", 2, \"c\" ] }",
              "[ { \"op\": \"test\", \"path\": \"/baz\", \"value\": \"qux\" },"
              "  { \"op\": \"test\", \"path\": \"/foo/1\", \"value\": 2 } ]",
              "{ \"baz\": \"qux\", \"foo\": [ \"a\", 2, \"c\" ] }");
}

static void
test_rfc_a9_testing_a_value_error (void **state)
{
    (void)state;
    s_expect_fail ("{ \"baz\": \"qux\" }",
                   "[ { \"op\": \"test\", \"path\": \"/baz\", \"value\": "
                   "\"bar\" } ]",
                   EF_ECONFLICT, "patch[0] test at \"/baz\"");
}

static void
test_rfc_a10_adding_a_nested_member_object (void **state)
{
    (void)state;
    s_expect ("{ \"foo\": \"bar\" }",
              "[ { \"op\": \"add\", \"path\": \"/child\", \"value\": { "
              "\"grandchild\": { } } } ]",
              "{ \"foo\": \"bar\", \"child\": { \"grandchild\": { } } }");
}

static void
test_rfc_a11_ignoring_unrecognized_elements (void **state)
{
    (void)state;
    s_expect ("{ \"foo\": \"bar\" }",
              "[ { \"op\": \"add\", \"path\": \"/baz\", \"value\": \"qux\", "
              "\"xyz\": 123 } ]",
              "{ \"foo\": \"bar\", \"baz\": \"qux\" }");
}

static void
test_rfc_a12_adding_to_a_nonexistent_target (void **state)
{
    (void)state;
    s_expect_fail ("{ \"foo\": \"bar\" }",
                   "[ { \"op\": \"add\", \"path\": \"/baz/bat\", \"value\": "
                   "\"qux\" } ]",
                   EF_ECONFLICT, "member \"baz\" does not exist");
}

static void
test_rfc_a13_invalid_json_patch_document (void **state)
{
    (void)state;
    const char *patch = "[ { \"op\": \"add\", \"path\": \"/baz\", \"value\": "
                        "\"qux\", \"op\": \"remove\" } ]";
    s_expect_invalid (patch, strlen (patch), "duplicate");
}

static void
test_rfc_a14_escape_ordering (void **state)
{
    (void)state;
    s_expect ("{ \"/\": 9, \"~1\": 10 }",
              "[ {\"op\": \"test\", \"path\": \"/~01\", \"value\": 10} ]",
              "{ \"/\": 9, \"~1\": 10 }");
}

static void
test_rfc_a15_comparing_strings_and_numbers (void **state)
{
    (void)state;
    s_expect_fail ("{ \"/\": 9, \"~1\": 10 }",
                   "[ {\"op\": \"test\", \"path\": \"/~01\", \"value\": "
                   "\"10\"} ]",
                   EF_ECONFLICT, "differs");
}

static void
test_rfc_a16_adding_an_array_value (void **state)
{
    (void)state;
    s_expect ("{ \"foo\": [\"bar\"] }",
              "[ { \"op\": \"add\", \"path\": \"/foo/-\", \"value\": "
              "[\"abc\", \"def\"] } ]",
              "{ \"foo\": [\"bar\", [\"abc\", \"def\"]] }");
}

/* ---------------------------------------------------------------- compile */

static void
test_compile_refuses_what_is_not_a_patch (void **state)
{
    (void)state;
    static const struct {
        const char *patch;
        const char *needle;
    } cases[] = {
        {"", "not JSON"},
        {"[{\"op\":\"add\"", "not JSON"},
        {"{\"op\":\"add\",\"path\":\"/a\",\"value\":1}", "not a JSON array"},
        {"\"add\"", "not a JSON array"},
        {"[1]", "patch[0]: an operation must be an object"},
        {"[{\"path\":\"/a\",\"value\":1}]", "\"op\" is missing"},
        {"[{\"op\":1,\"path\":\"/a\",\"value\":1}]", "\"op\" is not a string"},
        {"[{\"op\":\"ADD\",\"path\":\"/a\",\"value\":1}]",
         "unknown op \"ADD\""},
        {"[{\"op\":\"add\\u0000\",\"path\":\"/a\",\"value\":1}]", "unknown op"},
        {"[{\"op\":\"merge\",\"path\":\"/a\",\"value\":1}]", "unknown op"},
        {"[{\"op\":\"remove\"}]", "\"path\" is missing"},
        {"[{\"op\":\"remove\",\"path\":null}]", "\"path\" is not a string"},
        {"[{\"op\":\"remove\",\"path\":\"a\"}]", "not a JSON Pointer"},
        {"[{\"op\":\"remove\",\"path\":\"#/a\"}]", "not a JSON Pointer"},
        {"[{\"op\":\"remove\",\"path\":\"/a~2\"}]", "\"~\" not followed"},
        {"[{\"op\":\"remove\",\"path\":\"/a~\"}]", "\"~\" not followed"},
        {"[{\"op\":\"remove\",\"path\":\"/a\\u0000b\"}]", "U+0000"},
        {"[{\"op\":\"move\",\"path\":\"/a\"}]", "\"from\" is missing"},
        {"[{\"op\":\"copy\",\"path\":\"/a\"}]", "\"from\" is missing"},
        {"[{\"op\":\"copy\",\"path\":\"/a\",\"from\":7}]",
         "\"from\" is not a string"},
        {"[{\"op\":\"move\",\"path\":\"/a\",\"from\":\"b\"}]",
         "\"from\" is not a JSON Pointer"},
        {"[{\"op\":\"add\",\"path\":\"/a\"}]", "\"value\" is missing"},
        {"[{\"op\":\"replace\",\"path\":\"/a\"}]", "\"value\" is missing"},
        {"[{\"op\":\"test\",\"path\":\"/a\"}]", "\"value\" is missing"},
        {"[{\"op\":\"test\",\"path\":\"/a\",\"value\":1},"
         " {\"op\":\"add\",\"path\":\"/a\"}]",
         "patch[1]: \"value\" is missing"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        s_expect_invalid (cases[i].patch, strlen (cases[i].patch),
                          cases[i].needle);
}

static void
test_compile_accepts_null_value_and_ignores_unused_members (void **state)
{
    (void)state;
    /*  "value": null is a value; remove needs none and ignores a bad one;
        test ignores a bad "from". */
    s_expect ("{\"a\":1,\"b\":2}",
              "[{\"op\":\"add\",\"path\":\"/c\",\"value\":null},"
              " {\"op\":\"remove\",\"path\":\"/b\",\"value\":{},\"from\":5},"
              " {\"op\":\"test\",\"path\":\"/a\",\"value\":1,\"from\":\"x\"}]",
              "{\"a\":1,\"c\":null}");
    /*  An empty patch changes nothing. */
    s_expect ("{\"a\":1}", "[]", "{\"a\":1}");
}

static void
test_compile_limits_the_number_of_operations (void **state)
{
    (void)state;
    const char *op = "{\"op\":\"test\",\"path\":\"\",\"value\":0},";
    size_t cap = (EF_PATCH_MAX_OPS + 1) * strlen (op) + 3;
    char *text = malloc (cap);
    assert_non_null (text);
    for (int n = EF_PATCH_MAX_OPS; n <= EF_PATCH_MAX_OPS + 1; n++) {
        char *w = text;
        *w++ = '[';
        for (int i = 0; i < n; i++)
            w += sprintf (w, "%s", op);
        w[-1] = ']';
        size_t len = (size_t)(w - text);
        int err = 1;
        char why[128];
        ef_patch_t *p = ef_patch_compile (text, len, &err, why, sizeof why);
        if (n == EF_PATCH_MAX_OPS) {
            assert_non_null (p);
            char *out = NULL;
            assert_int_equal (
                ef_patch_apply (p, "0", 1, SIZE_MAX, &out, NULL, NULL, 0), 0);
            assert_string_equal (out, "0");
            free (out);
            ef_patch_destroy (&p);
        } else {
            assert_null (p);
            assert_int_equal (err, EF_EINVAL);
            assert_non_null (strstr (why, "more than 1000"));
        }
    }
    free (text);
}

static void
test_compile_takes_text_that_is_not_nul_terminated (void **state)
{
    (void)state;
    const char buf[] = "[{\"op\":\"remove\",\"path\":\"/a\"}]garbage";
    ef_patch_t *p = ef_patch_compile (buf, strlen (buf) - 7, NULL, NULL, 0);
    assert_non_null (p);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal (ef_patch_apply (p, "{\"a\":1,\"b\":2}xx", 13, SIZE_MAX,
                                      &out, &len, NULL, 0),
                      0);
    assert_string_equal (out, "{\"b\":2}");
    assert_int_equal (len, 7);
    free (out);
    ef_patch_destroy (&p);
    ef_patch_destroy (&p); /* safe twice */
    ef_patch_destroy (NULL);
}

/* ---------------------------------------------------------------- apply */

static void
test_apply_is_atomic_when_a_later_operation_fails (void **state)
{
    (void)state;
    /*  RFC 6902 section 5's own example. */
    s_expect_fail (
        "{\"a\":{\"b\":{\"c\":\"C\"}}}",
        "[{ \"op\": \"replace\", \"path\": \"/a/b/c\", \"value\": 42 },"
        " { \"op\": \"test\", \"path\": \"/a/b/c\", \"value\": \"C\" }]",
        EF_ECONFLICT, "patch[1] test at \"/a/b/c\"");
    /*  Many kinds of change, then a remove of something missing: the
        caller's value is untouched and nothing comes back (s_expect_fail
        checks both entries). */
    s_expect_fail ("{\"a\":1,\"b\":[1,2],\"c\":{\"d\":true}}",
                   "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":2},"
                   " {\"op\":\"add\",\"path\":\"/b/0\",\"value\":0},"
                   " {\"op\":\"remove\",\"path\":\"/c/d\"},"
                   " {\"op\":\"move\",\"from\":\"/c\",\"path\":\"/e\"},"
                   " {\"op\":\"copy\",\"from\":\"/b\",\"path\":\"/f\"},"
                   " {\"op\":\"replace\",\"path\":\"\",\"value\":[]},"
                   " {\"op\":\"remove\",\"path\":\"/nope\"}]",
                   EF_ECONFLICT, "patch[6] remove at \"/nope\"");
}

static void
test_apply_refuses_a_document_that_is_not_json (void **state)
{
    (void)state;
    ef_patch_t *p = s_compile ("[]");
    char why[128];
    char *out = (char *)"junk";
    assert_int_equal (
        ef_patch_apply (p, "{\"a\":", 5, SIZE_MAX, &out, NULL, why, sizeof why),
        EF_EINVAL);
    assert_null (out);
    assert_non_null (strstr (why, "document is not JSON"));
    assert_int_equal (
        ef_patch_apply (p, "", 0, SIZE_MAX, &out, NULL, why, sizeof why),
        EF_EINVAL);
    assert_int_equal (
        ef_patch_apply (p, NULL, 0, SIZE_MAX, &out, NULL, why, sizeof why),
        EF_EINVAL);
    int err = 0;
    assert_null (
        ef_patch_apply_json (p, NULL, SIZE_MAX, &err, why, sizeof why));
    assert_int_equal (err, EF_EINVAL);
    ef_patch_destroy (&p);
}

static void
test_pointer_escapes_decode_tilde_one_then_tilde_zero (void **state)
{
    (void)state;
    s_expect ("{\"a/b\":1,\"m~n\":2,\"~1\":3,\"~\":4,\"\":5,\" \":6}",
              "[{\"op\":\"test\",\"path\":\"/a~1b\",\"value\":1},"
              " {\"op\":\"test\",\"path\":\"/m~0n\",\"value\":2},"
              " {\"op\":\"test\",\"path\":\"/~01\",\"value\":3},"
              " {\"op\":\"test\",\"path\":\"/~0\",\"value\":4},"
              " {\"op\":\"test\",\"path\":\"/\",\"value\":5},"
              " {\"op\":\"test\",\"path\":\"/ \",\"value\":6},"
              " {\"op\":\"add\",\"path\":\"/x~1y~0z\",\"value\":7},"
              " {\"op\":\"remove\",\"path\":\"/m~0n\"},"
              " {\"op\":\"move\",\"from\":\"/a~1b\",\"path\":\"/~1~1\"}]",
              "{\"~1\":3,\"~\":4,\"\":5,\" \":6,\"x/y~z\":7,\"//\":1}");
    /*  "~1" is a "/", not a separator: "/a~1b" is not "/a/b". */
    s_expect_fail ("{\"a\":{\"b\":1}}",
                   "[{\"op\":\"remove\",\"path\":\"/a~1b\"}]", EF_ECONFLICT,
                   "member \"a/b\" does not exist");
}

static void
test_dash_appends_and_names_no_element (void **state)
{
    (void)state;
    s_expect ("{\"a\":[1,2],\"b\":[],\"o\":{}}",
              "[{\"op\":\"add\",\"path\":\"/a/-\",\"value\":3},"
              " {\"op\":\"add\",\"path\":\"/b/-\",\"value\":\"x\"},"
              " {\"op\":\"copy\",\"from\":\"/a/0\",\"path\":\"/a/-\"},"
              " {\"op\":\"move\",\"from\":\"/b/0\",\"path\":\"/a/-\"},"
              " {\"op\":\"add\",\"path\":\"/o/-\",\"value\":\"member\"}]",
              "{\"a\":[1,2,3,1,\"x\"],\"b\":[],\"o\":{\"-\":\"member\"}}");
    s_expect ("[1]", "[{\"op\":\"add\",\"path\":\"/-\",\"value\":2}]", "[1,2]");
    static const char *const misuse[] = {
        "[{\"op\":\"remove\",\"path\":\"/a/-\"}]",
        "[{\"op\":\"replace\",\"path\":\"/a/-\",\"value\":0}]",
        "[{\"op\":\"test\",\"path\":\"/a/-\",\"value\":2}]",
        "[{\"op\":\"move\",\"from\":\"/a/-\",\"path\":\"/b\"}]",
        "[{\"op\":\"copy\",\"from\":\"/a/-\",\"path\":\"/b\"}]",
    };
    for (size_t i = 0; i < sizeof misuse / sizeof misuse[0]; i++)
        s_expect_fail ("{\"a\":[1,2]}", misuse[i], EF_ECONFLICT,
                       "\"-\" names no existing element");
    /*  "-" in the middle of a path leads nowhere. */
    s_expect_fail ("{\"a\":[[1]]}",
                   "[{\"op\":\"add\",\"path\":\"/a/-/0\",\"value\":0}]",
                   EF_ECONFLICT, "\"-\" names no existing element");
}

static void
test_array_index_must_be_in_range_and_canonical (void **state)
{
    (void)state;
    /*  add may insert at size (the end), not beyond. */
    s_expect ("{\"a\":[1,2]}",
              "[{\"op\":\"add\",\"path\":\"/a/2\",\"value\":3}]",
              "{\"a\":[1,2,3]}");
    s_expect ("{\"a\":[1,2]}",
              "[{\"op\":\"add\",\"path\":\"/a/0\",\"value\":0}]",
              "{\"a\":[0,1,2]}");
    s_expect_fail ("{\"a\":[1,2]}",
                   "[{\"op\":\"add\",\"path\":\"/a/3\",\"value\":3}]",
                   EF_ECONFLICT, "array index 3 is out of range (size 2)");
    s_expect_fail ("{\"a\":[1,2]}", "[{\"op\":\"remove\",\"path\":\"/a/2\"}]",
                   EF_ECONFLICT, "array index 2 is out of range (size 2)");
    s_expect_fail ("{\"a\":[1,2]}",
                   "[{\"op\":\"replace\",\"path\":\"/a/2\",\"value\":0}]",
                   EF_ECONFLICT, "out of range");
    s_expect_fail ("{\"a\":[1,2]}",
                   "[{\"op\":\"test\",\"path\":\"/a/5\",\"value\":0}]",
                   EF_ECONFLICT, "out of range");
    s_expect_fail ("{\"a\":[1,2]}",
                   "[{\"op\":\"add\",\"path\":\"/a/99999999999999999999999\","
                   "\"value\":0}]",
                   EF_ECONFLICT, "out of range");
    s_expect_fail ("{\"a\":[[1]]}",
                   "[{\"op\":\"add\",\"path\":\"/a/1/0\",\"value\":0}]",
                   EF_ECONFLICT, "array index 1 is out of range (size 1)");
    static const char *const bad[] = {"01", "00", "+1",  "-1", "1.0", "1e0",
                                      " 1", "1 ", "0x1", "",   "a"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char patch[128];
        snprintf (patch, sizeof patch,
                  "[{\"op\":\"add\",\"path\":\"/a/%s\",\"value\":0}]", bad[i]);
        s_expect_fail ("{\"a\":[1,2]}", patch, EF_ECONFLICT,
                       "is not an array index");
        snprintf (patch, sizeof patch,
                  "[{\"op\":\"remove\",\"path\":\"/a/%s\"}]", bad[i]);
        s_expect_fail ("{\"a\":[1,2]}", patch, EF_ECONFLICT,
                       "is not an array index");
    }
    /*  On an object the same tokens are plain member names. */
    s_expect ("{\"a\":{}}", "[{\"op\":\"add\",\"path\":\"/a/01\",\"value\":0}]",
              "{\"a\":{\"01\":0}}");
}

static void
test_paths_cannot_go_through_scalars (void **state)
{
    (void)state;
    s_expect_fail ("{\"a\":\"str\"}",
                   "[{\"op\":\"add\",\"path\":\"/a/0\",\"value\":0}]",
                   EF_ECONFLICT, "in a string");
    s_expect_fail ("{\"a\":1}",
                   "[{\"op\":\"test\",\"path\":\"/a/b\",\"value\":0}]",
                   EF_ECONFLICT, "in a number");
    s_expect_fail ("{\"a\":null}",
                   "[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":0}]",
                   EF_ECONFLICT, "in a literal");
    s_expect_fail ("{\"a\":{}}", "[{\"op\":\"remove\",\"path\":\"/a/b/c\"}]",
                   EF_ECONFLICT, "member \"b\" does not exist");
}

static void
test_move_into_a_child_is_refused (void **state)
{
    (void)state;
    s_expect_fail ("{\"a\":{\"b\":{}}}",
                   "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b/c\"}]",
                   EF_ECONFLICT, "into one of its children");
    s_expect_fail ("{\"a\":[1]}",
                   "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/-\"}]",
                   EF_ECONFLICT, "into one of its children");
    s_expect_fail ("{\"a\":{}}",
                   "[{\"op\":\"move\",\"from\":\"\",\"path\":\"/a/x\"}]",
                   EF_ECONFLICT, "into one of its children");
    /*  A sibling whose name starts the same is not a child. */
    s_expect ("{\"a\":1}",
              "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/ab\"}]",
              "{\"ab\":1}");
    /*  Onto itself: nothing changes, but from must exist. */
    s_expect ("{\"a\":[1,2]}",
              "[{\"op\":\"move\",\"from\":\"/a/0\",\"path\":\"/a/0\"},"
              " {\"op\":\"move\",\"from\":\"\",\"path\":\"\"}]",
              "{\"a\":[1,2]}");
    s_expect_fail ("{}", "[{\"op\":\"move\",\"from\":\"/x\",\"path\":\"/x\"}]",
                   EF_ECONFLICT, "patch[0] move from \"/x\"");
    /*  Moving a parent's member up replaces the parent (path evaluated
        after the remove), and moving to an existing member replaces it. */
    s_expect ("{\"a\":{\"b\":1},\"c\":2}",
              "[{\"op\":\"move\",\"from\":\"/a/b\",\"path\":\"/a\"},"
              " {\"op\":\"move\",\"from\":\"/a\",\"path\":\"/c\"}]",
              "{\"c\":1}");
    /*  Moving forward in an array: the index is read after the removal. */
    s_expect ("[0,1,2,3]",
              "[{\"op\":\"move\",\"from\":\"/0\",\"path\":\"/3\"}]",
              "[1,2,3,0]");
    s_expect_fail ("[0,1,2,3]",
                   "[{\"op\":\"move\",\"from\":\"/0\",\"path\":\"/4\"}]",
                   EF_ECONFLICT, "out of range");
}

static void
test_copy_is_deep (void **state)
{
    (void)state;
    s_expect ("{\"a\":{\"b\":[1]}}",
              "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/c\"},"
              " {\"op\":\"add\",\"path\":\"/c/b/-\",\"value\":2},"
              " {\"op\":\"copy\",\"from\":\"\",\"path\":\"/all\"}]",
              "{\"a\":{\"b\":[1]},\"c\":{\"b\":[1,2]},"
              " \"all\":{\"a\":{\"b\":[1]},\"c\":{\"b\":[1,2]}}}");
}

static void
test_root_is_the_empty_pointer (void **state)
{
    (void)state;
    s_expect ("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":[1]}]",
              "[1]");
    s_expect ("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"\",\"value\":\"s\"}]",
              "\"s\"");
    s_expect ("42", "[{\"op\":\"test\",\"path\":\"\",\"value\":42.0}]", "42");
    s_expect ("42.0", "[{\"op\":\"test\",\"path\":\"\",\"value\":42}]", "42.0");
    s_expect ("{\"a\":{\"b\":1}}",
              "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"\"}]", "{\"b\":1}");
    s_expect ("null",
              "[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"x\":[]}},"
              " {\"op\":\"add\",\"path\":\"/x/0\",\"value\":true}]",
              "{\"x\":[true]}");
    s_expect_fail ("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"\"}]",
                   EF_ECONFLICT, "whole document");
    s_expect_fail ("5", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}]",
                   EF_ECONFLICT, "in a number");
}

static void
test_test_compares_deeply_and_numbers_by_value (void **state)
{
    (void)state;
    s_expect (
        "{\"n\":1,\"r\":2.5,\"z\":0,\"o\":{\"x\":1,\"y\":[1,{\"k\":null}]},"
        " \"big\":9007199254740993,\"s\":\"caf\\u00e9\"}",
        "[{\"op\":\"test\",\"path\":\"/n\",\"value\":1.0},"
        " {\"op\":\"test\",\"path\":\"/n\",\"value\":1e0},"
        " {\"op\":\"test\",\"path\":\"/r\",\"value\":25e-1},"
        " {\"op\":\"test\",\"path\":\"/z\",\"value\":-0.0},"
        " {\"op\":\"test\",\"path\":\"/o\","
        "  \"value\":{\"y\":[1.0,{\"k\":null}],\"x\":1}},"
        " {\"op\":\"test\",\"path\":\"/big\",\"value\":9007199254740993},"
        " {\"op\":\"test\",\"path\":\"/s\",\"value\":\"caf\\u00e9\"}]",
        "{\"n\":1,\"r\":2.5,\"z\":0,\"o\":{\"x\":1,\"y\":[1,{\"k\":null}]},"
        " \"big\":9007199254740993,\"s\":\"caf\\u00e9\"}");
    static const char *const unequal[] = {
        "[{\"op\":\"test\",\"path\":\"/n\",\"value\":1.5}]",
        "[{\"op\":\"test\",\"path\":\"/n\",\"value\":true}]",
        "[{\"op\":\"test\",\"path\":\"/n\",\"value\":\"1\"}]",
        /*  2^53 + 1 is no double: the nearest double is 2^53. */
        "[{\"op\":\"test\",\"path\":\"/big\",\"value\":9007199254740992.0}]",
        "[{\"op\":\"test\",\"path\":\"/o\",\"value\":{\"x\":1}}]",
        "[{\"op\":\"test\",\"path\":\"/o\","
        "  \"value\":{\"x\":1,\"y\":[1,{\"k\":null}],\"z\":1}}]",
        "[{\"op\":\"test\",\"path\":\"/o/y\",\"value\":[{\"k\":null},1]}]",
        "[{\"op\":\"test\",\"path\":\"/o/y/1/k\",\"value\":false}]",
        "[{\"op\":\"test\",\"path\":\"/s\",\"value\":\"cafe\"}]",
        "[{\"op\":\"test\",\"path\":\"/s\",\"value\":\"caf\\u00e9\\u0000\"}]",
        "[{\"op\":\"test\",\"path\":\"/n\",\"value\":1e300}]",
    };
    for (size_t i = 0; i < sizeof unequal / sizeof unequal[0]; i++)
        s_expect_fail ("{\"n\":1,\"o\":{\"x\":1,\"y\":[1,{\"k\":null}]},"
                       " \"big\":9007199254740993,\"s\":\"caf\\u00e9\"}",
                       unequal[i], EF_ECONFLICT, "differs");
}

static void
test_numbers_and_strings_survive_the_round_trip (void **state)
{
    (void)state;
    const char *doc = "{\"a\":0.1,\"b\":1e300,\"c\":9223372036854775807,"
                      "\"d\":-9223372036854775808,\"e\":1.0,"
                      "\"f\":\"nul\\u0000inside\"}";
    ef_patch_t *p = s_compile ("[{\"op\":\"add\",\"path\":\"/g\",\"value\":"
                               "2.2250738585072014e-308}]");
    char *out = NULL;
    size_t len = 0;
    assert_int_equal (
        ef_patch_apply (p, doc, strlen (doc), SIZE_MAX, &out, &len, NULL, 0),
        0);
    json_error_t e;
    json_t *got = json_loads (out, JSON_ALLOW_NUL, &e);
    assert_non_null (got);
    assert_true (json_real_value (json_object_get (got, "a")) == 0.1);
    assert_true (json_real_value (json_object_get (got, "b")) == 1e300);
    assert_true (json_real_value (json_object_get (got, "g")) ==
                 2.2250738585072014e-308);
    assert_true (json_integer_value (json_object_get (got, "c")) == INT64_MAX);
    assert_true (json_integer_value (json_object_get (got, "d")) == INT64_MIN);
    assert_true (json_is_real (json_object_get (got, "e")));
    json_t *f = json_object_get (got, "f");
    assert_int_equal (json_string_length (f), 10);
    assert_memory_equal (json_string_value (f), "nul\0inside", 10);
    /*  Compact: no spaces anywhere. */
    assert_null (strchr (out, ' '));
    json_decref (got);
    free (out);
    ef_patch_destroy (&p);
}

static void
test_results_never_nest_deeper_than_the_parser_reads (void **state)
{
    (void)state;
    /*  A document of depth 2047 ([[...]]); adding [] inside its innermost
        array reaches 2048, which jansson still parses; [[]] would not. */
    size_t n = EF_PATCH_MAX_DEPTH - 1;
    char *doc = malloc (2 * n + 1);
    assert_non_null (doc);
    memset (doc, '[', n);
    memset (doc + n, ']', n);
    doc[2 * n] = '\0';
    /*  The innermost array is at n - 1 tokens: "/0" repeated n - 1 times. */
    char *path = malloc (2 * n + 8);
    assert_non_null (path);
    for (size_t i = 0; i + 1 < n; i++)
        memcpy (path + 2 * i, "/0", 2);
    strcpy (path + 2 * (n - 1), "/-");
    char *patch = malloc (strlen (path) + 64);
    assert_non_null (patch);

    sprintf (patch, "[{\"op\":\"add\",\"path\":\"%s\",\"value\":[]}]", path);
    ef_patch_t *p = s_compile (patch);
    char *out = NULL;
    assert_int_equal (
        ef_patch_apply (p, doc, strlen (doc), SIZE_MAX, &out, NULL, NULL, 0),
        0);
    json_error_t e;
    json_t *again = json_loads (out, 0, &e);
    assert_non_null (again);
    json_decref (again);
    free (out);
    ef_patch_destroy (&p);

    sprintf (patch, "[{\"op\":\"add\",\"path\":\"%s\",\"value\":[[]]}]", path);
    p = s_compile (patch);
    char why[512];
    out = NULL;
    assert_int_equal (ef_patch_apply (p, doc, strlen (doc), SIZE_MAX, &out,
                                      NULL, why, sizeof why),
                      EF_ETOOBIG);
    assert_null (out);
    assert_non_null (strstr (why, "nest deeper"));
    ef_patch_destroy (&p);

    /*  Copying the whole document into its innermost array would nearly
        double its depth; into the root it adds one level, which fits. */
    sprintf (patch, "[{\"op\":\"copy\",\"from\":\"\",\"path\":\"%s\"}]", path);
    p = s_compile (patch);
    assert_int_equal (ef_patch_apply (p, doc, strlen (doc), SIZE_MAX, &out,
                                      NULL, why, sizeof why),
                      EF_ETOOBIG);
    assert_null (out);
    ef_patch_destroy (&p);
    p = s_compile ("[{\"op\":\"copy\",\"from\":\"\",\"path\":\"/-\"}]");
    assert_int_equal (
        ef_patch_apply (p, doc, strlen (doc), SIZE_MAX, &out, NULL, NULL, 0),
        0);
    free (out);
    ef_patch_destroy (&p);

    free (patch);
    free (path);
    free (doc);
}

static void
test_reasons_are_truncated_to_the_buffer (void **state)
{
    (void)state;
    ef_patch_t *p = s_compile ("[{\"op\":\"remove\",\"path\":\"/missing\"}]");
    char why[8];
    memset (why, 'x', sizeof why);
    char *out = NULL;
    assert_int_equal (
        ef_patch_apply (p, "{}", 2, SIZE_MAX, &out, NULL, why, sizeof why),
        EF_ECONFLICT);
    assert_int_equal (strlen (why), sizeof why - 1);
    assert_int_equal (ef_patch_apply (p, "{}", 2, SIZE_MAX, &out, NULL, why, 0),
                      EF_ECONFLICT);
    assert_int_equal (
        ef_patch_apply (p, "{}", 2, SIZE_MAX, &out, NULL, NULL, 0),
        EF_ECONFLICT);
    ef_patch_destroy (&p);
}

/* ----------------------------------------------------------- threads */

typedef struct {
    const ef_patch_t *patch;
    int failures;
} s_worker_t;

static void *
s_worker (void *arg)
{
    s_worker_t *w = arg;
    const char *doc = "{\"list\":[1,2,3],\"obj\":{\"k\":\"v\"}}";
    const char *want = "{\"list\":[0,1,2,3,4],\"obj\":{\"k\":\"v\"},"
                       "\"copy\":{\"k\":\"v\",\"n\":{\"deep\":[true]}}}";
    for (int i = 0; i < 500; i++) {
        char *out = NULL;
        if (ef_patch_apply (w->patch, doc, strlen (doc), SIZE_MAX, &out, NULL,
                            NULL, 0) != 0 ||
            strcmp (out, want) != 0)
            w->failures++;
        free (out);
    }
    return NULL;
}

static void
test_one_patch_applies_from_many_threads_at_once (void **state)
{
    (void)state;
    ef_patch_t *p = s_compile (
        "[{\"op\":\"add\",\"path\":\"/list/0\",\"value\":0},"
        " {\"op\":\"add\",\"path\":\"/list/-\",\"value\":4},"
        " {\"op\":\"copy\",\"from\":\"/obj\",\"path\":\"/copy\"},"
        " {\"op\":\"add\",\"path\":\"/copy/n\",\"value\":{\"deep\":[true]}},"
        " {\"op\":\"test\",\"path\":\"/copy/n\",\"value\":{\"deep\":[true]}}]");
    enum { N = 8 };
    pthread_t t[N];
    s_worker_t w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (s_worker_t){p, 0};
        assert_int_equal (pthread_create (&t[i], NULL, s_worker, &w[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join (t[i], NULL);
        assert_int_equal (w[i].failures, 0);
    }
    ef_patch_destroy (&p);
}


/*  The size kept while a bounded patch runs is the exact length of the
    document's compact text: a patch whose last operation makes its
    largest document passes with the bound at that length and fails one
    byte below it, whatever the operations before did (remove, replace,
    move, copy and add, in objects and arrays, with strings that need
    escapes, reals, big and negative integers). */
static void
test_bounded_size_is_exact (void **state)
{
    (void)state;
    /* the last add outgrows everything on the way */
    static const char s_long[] = "0123456789012345678901234567890123456789"
                                 "0123456789012345678901234567890123456789";
    static const char *const values[] = {
        "\"plain\"",
        "\"q\\\"b\\\\s\\n\\t\\u0001\\u001f \u00e9\u20ac/\"",
        "0.1",
        "1e300",
        "-2.5e-7",
        "3.0",
        "-9223372036854775808",
        "[]",
        "{}",
        "[1,[2,{\"k\\\"\":null}],true,false,\"x\"]",
        "{\"a\":{\"b\":[0.5,-1,\"\\r\"]},\"c\":{}}",
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char doc[512], patch[1024];
        snprintf (doc, sizeof doc,
                  "{\"gone\":[1,2],\"r\":\"long text\",\"m\":%s,"
                  "\"arr\":[%s,7]}",
                  values[i], values[i]);
        snprintf (patch, sizeof patch,
                  "[{\"op\":\"remove\",\"path\":\"/gone\"},"
                  "{\"op\":\"replace\",\"path\":\"/r\",\"value\":%s},"
                  "{\"op\":\"move\",\"from\":\"/m\",\"path\":\"/n\"},"
                  "{\"op\":\"remove\",\"path\":\"/arr/1\"},"
                  "{\"op\":\"add\",\"path\":\"/arr/0\",\"value\":\"\\n\"},"
                  "{\"op\":\"copy\",\"from\":\"/n\",\"path\":\"/r\"},"
                  "{\"op\":\"copy\",\"from\":\"/arr\",\"path\":\"/arr/-\"},"
                  "{\"op\":\"add\",\"path\":\"/z\",\"value\":[%s,\"%s\"]}]",
                  values[i], values[i], s_long);
        ef_patch_t *p = s_compile (patch);
        json_t *in = s_parse (doc);
        int err = 1;
        char why[256];
        json_t *res =
            ef_patch_apply_json (p, in, SIZE_MAX, &err, why, sizeof why);
        if (!res)
            fail_msg ("%s: %s", values[i], why);
        char *text = json_dumps (res, JSON_COMPACT | JSON_ENCODE_ANY |
                                          JSON_REAL_PRECISION (17));
        size_t len = strlen (text);
        json_t *at = ef_patch_apply_json (p, in, len, &err, why, sizeof why);
        if (!at)
            fail_msg ("%s: bounded at its own %zu bytes: %s", text, len, why);
        assert_true (json_equal (at, res));
        assert_null (
            ef_patch_apply_json (p, in, len - 1, &err, why, sizeof why));
        assert_int_equal (err, EF_ETOOBIG);
        json_decref (at);
        free (text);
        json_decref (res);
        json_decref (in);
        ef_patch_destroy (&p);
    }
}

/*  A document already over the bound is refused as it is. */
static void
test_bounded_refuses_a_document_over_the_bound (void **state)
{
    (void)state;
    ef_patch_t *p = s_compile ("[]");
    json_t *in = s_parse ("{\"a\":\"0123456789\"}");
    int err = 0;
    char why[256];
    /* {"a":"0123456789"} is 18 bytes */
    assert_null (ef_patch_apply_json (p, in, 17, &err, why, sizeof why));
    assert_int_equal (err, EF_ETOOBIG);
    assert_non_null (strstr (why, "larger than 17 bytes"));
    json_t *res = ef_patch_apply_json (p, in, 18, &err, why, sizeof why);
    assert_non_null (res);
    json_decref (res);
    json_decref (in);
    ef_patch_destroy (&p);
}

/*  k copies of the root double the document k times: with a bound the
    copy that would pass it fails, before it is made, naming the bound;
    nothing is returned. */
static void
test_bounded_copies_of_the_root_stop_at_the_bound (void **state)
{
    (void)state;
    char patch[2048] = "[";
    for (int i = 0; i < 16; i++)
        snprintf (patch + strlen (patch), sizeof patch - strlen (patch),
                  "%s{\"op\":\"copy\",\"from\":\"\",\"path\":\"/c%d\"}",
                  i ? "," : "", i);
    strcat (patch, "]");
    ef_patch_t *p = s_compile (patch);
    assert_int_equal (ef_patch_ops (p), 16);
    char doc[1100];
    memset (doc, 'x', sizeof doc);
    memcpy (doc, "{\"s\":\"", 6);
    memcpy (doc + 1024 - 2, "\"}", 3); /* a 1 KiB document */
    json_t *in = s_parse (doc);
    int err = 0;
    char why[256];
    assert_null (ef_patch_apply_json (p, in, 1 << 20, &err, why, sizeof why));
    assert_int_equal (err, EF_ETOOBIG);
    /* 1 KiB doubled ten times (with the members' names) is over 1 MiB:
       the tenth copy */
    assert_non_null (strstr (why, "patch[9] copy"));
    assert_non_null (strstr (why, "exceed 1048576 bytes"));
    json_decref (in);
    ef_patch_destroy (&p);
}

/*  The document stays within the bound, yet each operation copies all of
    it aside and the next removes the copy: the work budget
    (EF_PATCH_WORK_FACTOR × max bytes copied, measured, compared) ends the
    patch with EF_ETOOBIG long before its 64 operations, and says why; the
    text form does the same. Under no bound it runs to the end. */
static void
test_bounded_work_stops_copy_and_remove_loops (void **state)
{
    (void)state;
    char patch[4096] = "[";
    for (int i = 0; i < 32; i++)
        snprintf (patch + strlen (patch), sizeof patch - strlen (patch),
                  "%s{\"op\":\"copy\",\"from\":\"\",\"path\":\"/x\"},"
                  "{\"op\":\"remove\",\"path\":\"/x\"}",
                  i ? "," : "");
    strcat (patch, "]");
    ef_patch_t *p = s_compile (patch);
    assert_int_equal (ef_patch_ops (p), 64);
    /* {"s":"xxx…"}: 4000 bytes; the bound 10000 holds it and one copy */
    char doc[4001];
    memset (doc, 'x', sizeof doc);
    memcpy (doc, "{\"s\":\"", 6);
    memcpy (doc + 4000 - 2, "\"}", 3);
    json_t *in = s_parse (doc);
    int err = 0;
    char why[256];
    assert_null (ef_patch_apply_json (p, in, 10000, &err, why, sizeof why));
    assert_int_equal (err, EF_ETOOBIG);
    /* each copy costs 3 × 4000, each remove of the copy 4000: the third
       copy would bring the work to 44000, past 40000 */
    assert_non_null (strstr (why, "patch[4] copy from \"\""));
    assert_non_null (strstr (why, "more than 40000 bytes"));
    char *out = (char *)"";
    assert_int_equal (ef_patch_apply (p, doc, strlen (doc), 10000, &out, NULL,
                                      why, sizeof why),
                      EF_ETOOBIG);
    assert_null (out);
    assert_non_null (strstr (why, "patch[4] copy"));
    json_t *res = ef_patch_apply_json (p, in, SIZE_MAX, &err, why, sizeof why);
    assert_non_null (res);
    assert_true (json_equal (res, in));
    json_decref (res);
    json_decref (in);
    ef_patch_destroy (&p);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_rfc_a1_adding_an_object_member),
        cmocka_unit_test (test_rfc_a2_adding_an_array_element),
        cmocka_unit_test (test_rfc_a3_removing_an_object_member),
        cmocka_unit_test (test_rfc_a4_removing_an_array_element),
        cmocka_unit_test (test_rfc_a5_replacing_a_value),
        cmocka_unit_test (test_rfc_a6_moving_a_value),
        cmocka_unit_test (test_rfc_a7_moving_an_array_element),
        cmocka_unit_test (test_rfc_a8_testing_a_value_success),
        cmocka_unit_test (test_rfc_a9_testing_a_value_error),
        cmocka_unit_test (test_rfc_a10_adding_a_nested_member_object),
        cmocka_unit_test (test_rfc_a11_ignoring_unrecognized_elements),
        cmocka_unit_test (test_rfc_a12_adding_to_a_nonexistent_target),
        cmocka_unit_test (test_rfc_a13_invalid_json_patch_document),
        cmocka_unit_test (test_rfc_a14_escape_ordering),
        cmocka_unit_test (test_rfc_a15_comparing_strings_and_numbers),
        cmocka_unit_test (test_rfc_a16_adding_an_array_value),
        cmocka_unit_test (test_compile_refuses_what_is_not_a_patch),
        cmocka_unit_test (
            test_compile_accepts_null_value_and_ignores_unused_members),
        cmocka_unit_test (test_compile_limits_the_number_of_operations),
        cmocka_unit_test (test_compile_takes_text_that_is_not_nul_terminated),
        cmocka_unit_test (test_apply_is_atomic_when_a_later_operation_fails),
        cmocka_unit_test (test_apply_refuses_a_document_that_is_not_json),
        cmocka_unit_test (
            test_pointer_escapes_decode_tilde_one_then_tilde_zero),
        cmocka_unit_test (test_dash_appends_and_names_no_element),
        cmocka_unit_test (test_array_index_must_be_in_range_and_canonical),
        cmocka_unit_test (test_paths_cannot_go_through_scalars),
        cmocka_unit_test (test_move_into_a_child_is_refused),
        cmocka_unit_test (test_copy_is_deep),
        cmocka_unit_test (test_root_is_the_empty_pointer),
        cmocka_unit_test (test_test_compares_deeply_and_numbers_by_value),
        cmocka_unit_test (test_numbers_and_strings_survive_the_round_trip),
        cmocka_unit_test (test_results_never_nest_deeper_than_the_parser_reads),
        cmocka_unit_test (test_reasons_are_truncated_to_the_buffer),
        cmocka_unit_test (test_one_patch_applies_from_many_threads_at_once),
        cmocka_unit_test (test_bounded_size_is_exact),
        cmocka_unit_test (test_bounded_refuses_a_document_over_the_bound),
        cmocka_unit_test (test_bounded_copies_of_the_root_stop_at_the_bound),
        cmocka_unit_test (test_bounded_work_stops_copy_and_remove_loops),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
