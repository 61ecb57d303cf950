/*  test_schema.c: unit tests of ef_schema, the draft-07 JSON Schema
    validator, for what a user of EventFlow meets: schemas refused at
    compile time with a reason that names the place (not JSON, not a
    schema, bad keyword values, bad regular expressions, $refs that do not
    resolve or point to other documents, circular $refs, nesting deeper
    than 64); a realistic event payload whose several faults are all
    listed with their JSON Pointers; boolean schemas; lengths counted in
    characters, not bytes; hostile values and schemas (deep nesting,
    endless recursion, catastrophic regular expressions) refused without a
    crash and in bounded time; the work budget (PCRE2 step, depth and heap
    limits, work units over the walk, a CPU deadline) and its one message;
    one schema shared by several threads and references to it. The
    keyword-by-keyword conformance is test_schema_suite's job. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <cmocka.h>
#include <jansson.h>

#include "ef_schema.h"
#include "eventflow/ef_error.h"

/* ---------------------------------------------------------------- helpers */

/*  Compile text, expecting success. */
static ef_schema_t *
s_compile (const char *text)
{
    int err = 1;
    char why[256];
    ef_schema_t *schema =
        ef_schema_compile (text, strlen (text), &err, why, sizeof why);
    if (!schema)
        fail_msg ("compile failed (%d): %s\nschema: %s", err, why, text);
    assert_int_equal (err, 0);
    assert_string_equal (why, "");
    return schema;
}

/*  Compile text, expecting EF_EINVAL with a reason containing expect. */
static void
s_refused (const char *text, const char *expect)
{
    int err = 0;
    char why[256];
    ef_schema_t *schema =
        ef_schema_compile (text, strlen (text), &err, why, sizeof why);
    if (schema) {
        ef_schema_destroy (&schema);
        fail_msg ("compiled, but should not have: %s", text);
    }
    assert_int_equal (err, EF_EINVAL);
    if (!strstr (why, expect))
        fail_msg ("reason \"%s\" lacks \"%s\" (schema %s)", why, expect, text);
}

/*  Validate value text; the code. */
static int
s_check (const ef_schema_t *schema, const char *value)
{
    return ef_schema_validate (schema, value, strlen (value), NULL, 0, NULL);
}

/*  1 when errors[0..n) has an entry at path whose message contains part. */
static int
s_has_error (const ef_schema_error_t *errors, uint32_t n, const char *path,
             const char *part)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp (errors[i].path, path) == 0 &&
            strstr (errors[i].message, part))
            return 1;
    return 0;
}

static void
s_print_errors (const ef_schema_error_t *errors, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        print_message ("  %s: %s\n", errors[i].path, errors[i].message);
}

/*  A value text of depth nested arrays ("[[[...]]]"), malloc. */
static char *
s_nested_arrays (size_t depth)
{
    char *s = malloc (2 * depth + 1);
    assert_non_null (s);
    memset (s, '[', depth);
    memset (s + depth, ']', depth);
    s[2 * depth] = '\0';
    return s;
}

/*  A value text of depth nested objects, each with the one member
    "abcdefghij", so that its path grows 11 bytes a level; malloc. */
static char *
s_nested_objects (size_t depth)
{
    char *s = malloc (16 * depth + 3);
    assert_non_null (s);
    size_t o = 0;
    for (size_t i = 0; i < depth; i++)
        o += (size_t)sprintf (s + o, "{\"abcdefghij\":");
    o += (size_t)sprintf (s + o, "{}");
    memset (s + o, '}', depth);
    s[o + depth] = '\0';
    return s;
}

/* ---------------------------------------------------- refused at compile */

static void
test_compile_refuses_what_is_not_a_schema (void **state)
{
    (void)state;
    s_refused ("42", "must be an object or a boolean");
    s_refused ("\"string\"", "must be an object or a boolean");
    s_refused ("[{}]", "must be an object or a boolean");
    s_refused ("null", "must be an object or a boolean");
    s_refused ("{\"type\": ", "not JSON");
    s_refused ("{\"a\": 1, \"a\": 2}", "not JSON");
    s_refused ("", "not JSON");
    s_refused ("{\"properties\": {\"a\": 5}}",
               "/properties/a: a schema must be an object or a boolean");
    s_refused ("{\"items\": [true, \"no\"]}", "/items/1");

    int err = 0;
    char why[8];
    assert_null (ef_schema_compile (NULL, 0, &err, why, sizeof why));
    assert_int_equal (err, EF_EINVAL);
    /*  A short why is cut and still NUL-terminated. */
    assert_null (ef_schema_compile ("7", 1, &err, why, sizeof why));
    assert_int_equal (strlen (why), sizeof why - 1);
    /*  err and why are optional. */
    assert_null (ef_schema_compile ("7", 1, NULL, NULL, 0));
}

static void
test_compile_refuses_keywords_of_the_wrong_type (void **state)
{
    (void)state;
    s_refused ("{\"type\": \"int\"}", "/type: unknown type \"int\"");
    s_refused ("{\"type\": []}", "/type");
    s_refused ("{\"type\": [\"string\", 3]}", "/type");
    s_refused ("{\"minLength\": -1}", "/minLength: must be a non-negative");
    s_refused ("{\"maxItems\": 1.5}", "/maxItems: must be a non-negative");
    s_refused ("{\"minimum\": \"0\"}", "/minimum: must be a number");
    s_refused ("{\"exclusiveMaximum\": true}", "/exclusiveMaximum");
    s_refused ("{\"multipleOf\": 0}", "/multipleOf: must be greater than 0");
    s_refused ("{\"multipleOf\": -2}", "/multipleOf");
    s_refused ("{\"required\": [\"a\", 1]}", "/required");
    s_refused ("{\"required\": \"a\"}", "/required");
    s_refused ("{\"enum\": 3}", "/enum: must be an array");
    s_refused ("{\"allOf\": []}", "/allOf: must be a non-empty array");
    s_refused ("{\"anyOf\": {}}", "/anyOf");
    s_refused ("{\"uniqueItems\": 1}", "/uniqueItems: must be a boolean");
    s_refused ("{\"dependencies\": {\"a\": [1]}}", "/dependencies/a");
    s_refused ("{\"pattern\": 5}", "/pattern: must be a string");
    s_refused ("{\"$ref\": 5}", "/$ref: must be a string");
    s_refused ("{\"$id\": 5}", "/$id: must be a string");
    /*  1.0 is an integer in draft-07. */
    ef_schema_t *schema = s_compile ("{\"minLength\": 2.0}");
    assert_int_equal (s_check (schema, "\"a\""), EF_EVALIDATION);
    ef_schema_destroy (&schema);
}

static void
test_compile_refuses_bad_regular_expressions (void **state)
{
    (void)state;
    s_refused ("{\"properties\": {\"sku\": {\"pattern\": \"^(ab\"}}}",
               "/properties/sku/pattern: invalid regular expression");
    s_refused ("{\"patternProperties\": {\"[a-\": true}}",
               "/patternProperties/[a-: invalid regular expression");
    s_refused ("{\"pattern\": \"a{2,1}\"}", "invalid regular expression");
}

static void
test_compile_refuses_unresolvable_and_remote_refs (void **state)
{
    (void)state;
    s_refused ("{\"$ref\": \"#/definitions/missing\"}",
               "unresolvable $ref \"#/definitions/missing\"");
    s_refused ("{\"properties\": {\"a\": {\"$ref\": \"#/nowhere/0\"}}}",
               "/properties/a/$ref: unresolvable $ref");
    s_refused ("{\"$ref\": \"#/definitions/a~2\", \"definitions\": {}}",
               "unresolvable $ref");
    s_refused ("{\"$ref\": \"#nosuchname\"}", "unresolvable $ref");
    /*  The target must be a schema. */
    s_refused ("{\"enum\": [1], \"allOf\": [{\"$ref\": \"#/enum/0\"}]}",
               "must be an object or a boolean");
    s_refused ("{\"$ref\": \"http://example.com/schemas/order.json\"}",
               "remote $ref is not supported");
    s_refused ("{\"items\": {\"$ref\": \"https://example.com/x#/a\"}}",
               "remote $ref is not supported");
    s_refused ("{\"$ref\": \"other.json#/definitions/a\"}",
               "remote $ref is not supported");
    s_refused ("{\"$id\": \"http://example.com/a.json\", "
               "\"allOf\": [{\"$ref\": \"b.json\"}]}",
               "remote $ref is not supported: \"http://example.com/b.json\"");
}

static void
test_compile_refuses_circular_refs_and_deep_schemas (void **state)
{
    (void)state;
    s_refused ("{\"$ref\": \"#\"}", "circular $ref");
    s_refused ("{\"definitions\": {\"a\": {\"$ref\": \"#/definitions/b\"}, "
               "\"b\": {\"$ref\": \"#/definitions/a\"}}, "
               "\"$ref\": \"#/definitions/a\"}",
               "circular $ref");

    /*  65 levels of "not" are too many, 64 are fine. */
    char text[2048] = "";
    for (int i = 0; i < 65; i++)
        strcat (text, "{\"not\":");
    strcat (text, "true");
    for (int i = 0; i < 65; i++)
        strcat (text, "}");
    s_refused (text, "schema nested deeper than 64 levels");
    strcpy (text, "");
    for (int i = 0; i < 64; i++)
        strcat (text, "{\"not\":");
    strcat (text, "true");
    for (int i = 0; i < 64; i++)
        strcat (text, "}");
    ef_schema_t *schema = s_compile (text);
    /*  64 nots of true: an even number, so everything is valid. */
    assert_int_equal (s_check (schema, "1"), 0);
    ef_schema_destroy (&schema);
}

/* ----------------------------------------------------- validating values */

/*  An order event, as a producer would describe it. */
static const char s_order_schema[] =
    "{"
    " \"$id\": \"https://eventflow.example/schemas/order-placed.json\","
    " \"type\": \"object\","
    " \"required\": [\"order_id\", \"customer\", \"currency\", \"items\"],"
    " \"additionalProperties\": false,"
    " \"properties\": {"
    "  \"order_id\": {\"type\": \"string\","
    "               \"pattern\": \"^ord_[0-9a-f]{8}$\"},"
    "  \"customer\": {"
    "   \"type\": \"object\","
    "   \"required\": [\"id\", \"email\"],"
    "   \"properties\": {"
    "    \"id\": {\"type\": \"integer\", \"minimum\": 1},"
    "    \"email\": {\"type\": \"string\", \"format\": \"email\","
    "              \"minLength\": 3}"
    "   }"
    "  },"
    "  \"currency\": {\"enum\": [\"EUR\", \"USD\", \"GBP\"]},"
    "  \"items\": {"
    "   \"type\": \"array\", \"minItems\": 1, \"maxItems\": 100,"
    "   \"items\": {\"$ref\": \"#/definitions/line\"}"
    "  },"
    "  \"placed_at\": {\"type\": \"string\"},"
    "  \"tags\": {\"type\": \"array\", \"uniqueItems\": true,"
    "           \"items\": {\"type\": \"string\"}}"
    " },"
    " \"definitions\": {"
    "  \"line\": {"
    "   \"type\": \"object\","
    "   \"required\": [\"sku\", \"qty\", \"price\"],"
    "   \"properties\": {"
    "    \"sku\": {\"type\": \"string\", \"minLength\": 1},"
    "    \"qty\": {\"type\": \"integer\", \"exclusiveMinimum\": 0},"
    "    \"price\": {\"type\": \"number\", \"minimum\": 0,"
    "              \"multipleOf\": 0.01}"
    "   }"
    "  }"
    " }"
    "}";

static void
test_valid_order_event_passes (void **state)
{
    (void)state;
    ef_schema_t *schema = s_compile (s_order_schema);
    const char *order =
        "{\"order_id\": \"ord_0a1b2c3d\","
        " \"customer\": {\"id\": 42, \"email\": \"ada@example.com\"},"
        " \"currency\": \"EUR\","
        " \"items\": [{\"sku\": \"A-1\", \"qty\": 2, \"price\": 19.99},"
        "           {\"sku\": \"B-2\", \"qty\": 1.0, \"price\": 0.1}],"
        " \"tags\": [\"gift\", \"express\"]}";
    ef_schema_error_t errors[8];
    uint32_t n = 99;
    int rc = ef_schema_validate (schema, order, strlen (order), errors, 8, &n);
    s_print_errors (errors, n);
    assert_int_equal (rc, 0);
    assert_int_equal (n, 0);
    ef_schema_destroy (&schema);
}

static void
test_invalid_order_event_lists_every_failing_path (void **state)
{
    (void)state;
    ef_schema_t *schema = s_compile (s_order_schema);
    const char *order =
        "{\"order_id\": \"ORD-1\","
        " \"customer\": {\"id\": 0},"
        " \"currency\": \"JPY\","
        " \"items\": [{\"sku\": \"A-1\", \"qty\": 2, \"price\": 19.99},"
        "           {\"sku\": \"\", \"qty\": 0, \"price\": 5},"
        "           {\"sku\": \"C-3\", \"qty\": 1, \"price\": -1.005}],"
        " \"tags\": [\"gift\", \"gift\"],"
        " \"coupon\": \"SAVE10\"}";
    ef_schema_error_t errors[32];
    uint32_t n = 0;
    int rc = ef_schema_validate (schema, order, strlen (order), errors, 32, &n);
    s_print_errors (errors, n);
    assert_int_equal (rc, EF_EVALIDATION);
    assert_true (
        s_has_error (errors, n, "/order_id", "must match the pattern"));
    assert_true (s_has_error (errors, n, "/customer/id", "must be >= 1"));
    assert_true (s_has_error (errors, n, "/customer/email",
                              "required property \"email\" is missing"));
    assert_true (s_has_error (errors, n, "/currency", "enum"));
    assert_true (s_has_error (errors, n, "/items/1/sku", "at least 1"));
    assert_true (s_has_error (errors, n, "/items/1/qty", "must be > 0"));
    assert_true (s_has_error (errors, n, "/items/2/price", "must be >= 0"));
    assert_true (s_has_error (errors, n, "/items/2/price",
                              "must be a multiple of 0.01"));
    assert_true (s_has_error (errors, n, "/tags", "items 0 and 1 are equal"));
    assert_true (s_has_error (errors, n, "/coupon",
                              "additional property \"coupon\" is not allowed"));
    assert_int_equal (n, 10);

    /*  The list is bounded by max, and the verdict does not change. */
    n = 0;
    rc = ef_schema_validate (schema, order, strlen (order), errors, 3, &n);
    assert_int_equal (rc, EF_EVALIDATION);
    assert_int_equal (n, 3);
    /*  Without room for errors only the verdict comes back. */
    assert_int_equal (s_check (schema, order), EF_EVALIDATION);
    ef_schema_destroy (&schema);
}

static void
test_paths_escape_and_messages_name_types (void **state)
{
    (void)state;
    ef_schema_t *schema = s_compile (
        "{\"properties\": {\"a/b~c\": {\"type\": [\"string\", \"null\"]}},"
        " \"additionalProperties\": {\"type\": \"integer\"}}");
    const char *value = "{\"a/b~c\": 1.5, \"n\": \"x\", \"m\": 2.0}";
    ef_schema_error_t errors[4];
    uint32_t n = 0;
    assert_int_equal (
        ef_schema_validate (schema, value, strlen (value), errors, 4, &n),
        EF_EVALIDATION);
    s_print_errors (errors, n);
    assert_int_equal (n, 2);
    assert_true (s_has_error (errors, n, "/a~1b~0c",
                              "must be of type null or string, not number"));
    assert_true (
        s_has_error (errors, n, "/n", "must be of type integer, not string"));
    ef_schema_destroy (&schema);
}

static void
test_boolean_schemas (void **state)
{
    (void)state;
    ef_schema_t *yes = s_compile ("true");
    ef_schema_t *no = s_compile ("false");
    const char *values[] = {"null", "0", "\"x\"", "[1,[2]]", "{\"a\":{}}"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        assert_int_equal (s_check (yes, values[i]), 0);
        ef_schema_error_t e[2];
        uint32_t n = 0;
        assert_int_equal (
            ef_schema_validate (no, values[i], strlen (values[i]), e, 2, &n),
            EF_EVALIDATION);
        assert_int_equal (n, 1);
        assert_string_equal (e[0].path, "");
    }
    ef_schema_destroy (&yes);
    ef_schema_destroy (&no);

    /*  Inside a schema: false forbids a property, true allows anything. */
    ef_schema_t *schema =
        s_compile ("{\"properties\": {\"secret\": false, \"any\": true},"
                   " \"items\": [true, false]}");
    assert_int_equal (s_check (schema, "{\"any\": [1, {}]}"), 0);
    assert_int_equal (s_check (schema, "{\"secret\": 1}"), EF_EVALIDATION);
    assert_int_equal (s_check (schema, "[1]"), 0);
    assert_int_equal (s_check (schema, "[1, 2]"), EF_EVALIDATION);
    ef_schema_destroy (&schema);
}

static void
test_string_lengths_count_characters_not_bytes (void **state)
{
    (void)state;
    ef_schema_t *schema = s_compile ("{\"minLength\": 3, \"maxLength\": 3}");
    /*  "héé" is 5 bytes, 3 characters; the emoji are 4 bytes each (a
        surrogate pair in JSON text, one code point). */
    assert_int_equal (s_check (schema, "\"h\xc3\xa9\xc3\xa9\""), 0);
    assert_int_equal (s_check (schema, "\"\\u00e9\\u00e9\\u00e9\""), 0);
    assert_int_equal (s_check (schema, "\"\\ud83d\\udca9\\ud83d\\udca9a\""), 0);
    assert_int_equal (s_check (schema, "\"\xf0\x9f\x92\xa9\xf0\x9f\x92\xa9\""),
                      EF_EVALIDATION);
    assert_int_equal (s_check (schema, "\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"
                                       "\xe6\x96\x87\""),
                      EF_EVALIDATION); /* 4 characters, 12 bytes */
    assert_int_equal (s_check (schema, "\"abc\""), 0);
    ef_schema_destroy (&schema);
}

static void
test_numbers_compare_by_value (void **state)
{
    (void)state;
    ef_schema_t *schema = s_compile ("{\"type\": \"integer\", \"const\": 1}");
    assert_int_equal (s_check (schema, "1"), 0);
    assert_int_equal (s_check (schema, "1.0"), 0);
    assert_int_equal (s_check (schema, "1.5"), EF_EVALIDATION);
    ef_schema_destroy (&schema);

    schema = s_compile ("{\"multipleOf\": 0.0001}");
    assert_int_equal (s_check (schema, "0.0075"), 0);
    assert_int_equal (s_check (schema, "19.99"), 0);
    assert_int_equal (s_check (schema, "0.00751"), EF_EVALIDATION);
    assert_int_equal (s_check (schema, "1e-20"), EF_EVALIDATION);
    ef_schema_destroy (&schema);

    schema = s_compile ("{\"maximum\": 9007199254740992}");
    assert_int_equal (s_check (schema, "9007199254740992"), 0);
    assert_int_equal (s_check (schema, "9007199254740993"), EF_EVALIDATION);
    ef_schema_destroy (&schema);
}

static void
test_text_that_is_not_json_is_einval (void **state)
{
    (void)state;
    ef_schema_t *schema = s_compile ("{}");
    ef_schema_error_t e[2];
    uint32_t n = 0;
    assert_int_equal (ef_schema_validate (schema, "{\"a\":", 5, e, 2, &n),
                      EF_EINVAL);
    assert_int_equal (n, 1);
    assert_string_equal (e[0].path, "");
    assert_non_null (strstr (e[0].message, "not JSON"));
    /*  Duplicate keys would let a consumer see another value. */
    assert_int_equal (s_check (schema, "{\"a\": 1, \"a\": 2}"), EF_EINVAL);
    assert_int_equal (ef_schema_validate (NULL, "1", 1, NULL, 0, NULL),
                      EF_EINVAL);
    /*  Only len bytes count: "12" of "123". */
    ef_schema_t *max = s_compile ("{\"maximum\": 12}");
    assert_int_equal (ef_schema_validate (max, "123", 2, NULL, 0, NULL), 0);
    ef_schema_destroy (&max);
    ef_schema_destroy (&schema);
}

static void
test_validate_json_takes_a_parsed_value (void **state)
{
    (void)state;
    ef_schema_t *schema = s_compile (
        "{\"type\": \"object\", \"required\": [\"kind\"],"
        " \"if\": {\"properties\": {\"kind\": {\"const\": \"refund\"}}},"
        " \"then\": {\"required\": [\"reason\"]},"
        " \"else\": {\"properties\": {\"reason\": false}}}");
    json_t *refund = json_pack ("{s:s}", "kind", "refund");
    json_t *sale = json_pack ("{s:s, s:s}", "kind", "sale", "reason", "x");
    json_t *ok = json_pack ("{s:s, s:s}", "kind", "refund", "reason", "late");
    ef_schema_error_t e[4];
    uint32_t n = 0;
    assert_int_equal (ef_schema_validate_json (schema, refund, e, 4, &n),
                      EF_EVALIDATION);
    assert_true (s_has_error (e, n, "/reason", "is missing"));
    assert_int_equal (ef_schema_validate_json (schema, sale, e, 4, &n),
                      EF_EVALIDATION);
    assert_true (s_has_error (e, n, "/reason", "no value is allowed"));
    assert_int_equal (ef_schema_validate_json (schema, ok, e, 4, &n), 0);
    assert_int_equal (ef_schema_validate_json (schema, NULL, e, 4, &n),
                      EF_EINVAL);
    json_decref (refund);
    json_decref (sale);
    json_decref (ok);
    ef_schema_destroy (&schema);
}

static void
test_schemas_may_ref_the_draft07_meta_schema (void **state)
{
    (void)state;
    ef_schema_t *meta =
        s_compile ("{\"$ref\": \"http://json-schema.org/draft-07/schema#\"}");
    assert_int_equal (s_check (meta, s_order_schema), 0);
    assert_int_equal (s_check (meta, "{\"minLength\": -1}"), EF_EVALIDATION);
    assert_int_equal (s_check (meta, "{\"type\": \"int\"}"), EF_EVALIDATION);
    ef_schema_destroy (&meta);
}

/* ------------------------------------------------------- hostile inputs */

static void
test_deep_nesting_is_refused_gracefully (void **state)
{
    (void)state;
    ef_schema_t *tree =
        s_compile ("{\"type\": \"array\", \"items\": {\"$ref\": \"#\"}}");
    ef_schema_error_t e[4];
    uint32_t n = 0;

    /*  Within the evaluation limit: fine. */
    char *value = s_nested_arrays (100);
    assert_int_equal (s_check (tree, value), 0);
    free (value);

    /*  Deeper than the evaluation limit: invalid, with a reason. */
    value = s_nested_arrays (1000);
    assert_int_equal (
        ef_schema_validate (tree, value, strlen (value), e, 4, &n),
        EF_EVALIDATION);
    assert_int_equal (n, 1);
    assert_non_null (strstr (e[0].message, "nested too deeply"));
    assert_int_equal (strncmp (e[0].path, "/0/0/0/0", 8), 0);
    free (value);

    /*  Deeper than the parser's limit: not accepted as JSON. */
    value = s_nested_arrays (100000);
    assert_int_equal (s_check (tree, value), EF_EINVAL);
    free (value);
    ef_schema_destroy (&tree);

    /*  A schema with no recursion accepts a deep value without a look. */
    ef_schema_t *flat = s_compile ("{\"type\": \"array\"}");
    value = s_nested_arrays (2000);
    assert_int_equal (s_check (flat, value), 0);
    free (value);
    ef_schema_destroy (&flat);

    /*  A long path is cut, and says so. */
    ef_schema_t *deep =
        s_compile ("{\"additionalProperties\": {\"$ref\": \"#\"},"
                   " \"not\": {\"const\": {}}}");
    value = s_nested_objects (30);
    assert_int_equal (
        ef_schema_validate (deep, value, strlen (value), e, 4, &n),
        EF_EVALIDATION);
    assert_int_equal (n, 1);
    assert_int_equal (strlen (e[0].path), 255);
    assert_string_equal (e[0].path + 252, "...");
    free (value);
    ef_schema_destroy (&deep);
}

static void
test_endless_recursion_is_refused_not_flipped (void **state)
{
    (void)state;
    /*  A schema that recurses without consuming the value can never be
        decided; it fails, even under "not", which would otherwise turn
        the failure into success. */
    ef_schema_t *loop =
        s_compile ("{\"definitions\": {\"loop\": {\"allOf\": [{\"$ref\": "
                   "\"#/definitions/loop\"}]}},"
                   " \"not\": {\"$ref\": \"#/definitions/loop\"}}");
    ef_schema_error_t e[4];
    uint32_t n = 0;
    assert_int_equal (ef_schema_validate (loop, "1", 1, e, 4, &n),
                      EF_EVALIDATION);
    assert_int_equal (n, 1);
    assert_non_null (strstr (e[0].message, "nested too deeply"));
    ef_schema_destroy (&loop);
}

static void
test_catastrophic_regex_fails_in_bounded_time (void **state)
{
    (void)state;
    ef_schema_t *schema = s_compile ("{\"pattern\": \"^(a+)+$\"}");
    char value[80];
    value[0] = '"';
    memset (value + 1, 'a', 60);
    strcpy (value + 61, "!\"");
    ef_schema_error_t e[2];
    uint32_t n = 0;
    assert_int_equal (
        ef_schema_validate (schema, value, strlen (value), e, 2, &n),
        EF_EVALIDATION);
    assert_int_equal (n, 1);
    assert_string_equal (e[0].message, EF_SCHEMA_BUDGET_MSG);
    assert_int_equal (s_check (schema, "\"aaaa\""), 0);
    ef_schema_destroy (&schema);
}

/*  "^(a|aa)+$" fifty times under allOf: the first pattern that runs out
    of PCRE2 steps ends the check, refused as over budget (not checked to
    the end, not "invalid"), with the whole value as its path. */
static void
test_backtracking_patterns_exceed_the_budget_at_the_first (void **state)
{
    (void)state;
    char text[4096] = "{\"allOf\": [";
    for (int i = 0; i < 50; i++)
        strcat (text, i ? ",{\"pattern\": \"^(a|aa)+$\"}"
                        : "{\"pattern\": \"^(a|aa)+$\"}");
    strcat (text, "]}");
    ef_schema_t *schema = s_compile (text);
    const char *hostile =
        "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\"";
    ef_schema_budget_t b = {0};
    ef_schema_error_t e[4];
    uint32_t n = 0;
    assert_int_equal (ef_schema_validate_budget (
                          schema, hostile, strlen (hostile), &b, e, 4, &n),
                      EF_EVALIDATION);
    assert_int_equal (b.exceeded, 1);
    assert_int_equal (n, 1);
    assert_string_equal (e[0].path, "");
    assert_string_equal (e[0].message, EF_SCHEMA_BUDGET_MSG);
    assert_true (b.used < 10); /* one pattern ran, not fifty */
    /* quiet (no error list): the same verdict */
    assert_int_equal (ef_schema_validate_budget (
                          schema, hostile, strlen (hostile), &b, NULL, 0, NULL),
                      EF_EVALIDATION);
    assert_int_equal (b.exceeded, 1);
    /* an ordinary value passes, within budget */
    assert_int_equal (
        ef_schema_validate_budget (schema, "\"aaa\"", 5, &b, e, 4, &n), 0);
    assert_int_equal (b.exceeded, 0);
    assert_true (b.used > 50);
    ef_schema_destroy (&schema);
}

/*  A pattern that needs deep backtracking over a long string hits PCRE2's
    depth or heap limit: over budget too. */
static void
test_deep_backtracking_exceeds_the_budget (void **state)
{
    (void)state;
    ef_schema_t *schema = s_compile ("{\"pattern\": \"^(a|b)*c$\"}");
    size_t len = 200000;
    char *value = malloc (len + 3);
    assert_non_null (value);
    value[0] = '"';
    memset (value + 1, 'a', len);
    strcpy (value + 1 + len, "\"");
    ef_schema_budget_t b = {0};
    ef_schema_error_t e[2];
    uint32_t n = 0;
    assert_int_equal (
        ef_schema_validate_budget (schema, value, strlen (value), &b, e, 2, &n),
        EF_EVALIDATION);
    assert_int_equal (b.exceeded, 1);
    assert_string_equal (e[0].message, EF_SCHEMA_BUDGET_MSG);
    free (value);
    ef_schema_destroy (&schema);
}

/*  The walk itself is counted: a deep allOf over a big array runs out of
    work units though every check is cheap; a smaller budget says so
    sooner; a deadline on the CPU clock that has passed stops the walk at
    its next look at the clock. */
static void
test_the_walk_is_counted_against_the_budget (void **state)
{
    (void)state;
    char text[4096] = "{\"items\": {\"allOf\": [";
    for (int i = 0; i < 50; i++)
        strcat (text,
                i ? ",{\"type\": \"integer\"}" : "{\"type\": \"integer\"}");
    strcat (text, "]}}");
    ef_schema_t *schema = s_compile (text);
    size_t count = 30000; /* 30000 x 51 subschemas > EF_SCHEMA_WORK_MAX */
    char *value = malloc (count * 2 + 4);
    assert_non_null (value);
    size_t o = 0;
    value[o++] = '[';
    for (size_t i = 0; i < count; i++) {
        if (i)
            value[o++] = ',';
        value[o++] = '1';
    }
    strcpy (value + o, "]");
    ef_schema_budget_t b = {0};
    ef_schema_error_t e[2];
    uint32_t n = 0;
    assert_int_equal (
        ef_schema_validate_budget (schema, value, strlen (value), &b, e, 2, &n),
        EF_EVALIDATION);
    assert_int_equal (b.exceeded, 1);
    assert_string_equal (e[0].message, EF_SCHEMA_BUDGET_MSG);
    assert_true (b.used <= EF_SCHEMA_WORK_MAX + 64);
    /* the default entry point has the same budget */
    assert_int_equal (
        ef_schema_validate (schema, value, strlen (value), e, 2, &n),
        EF_EVALIDATION);
    assert_string_equal (e[0].message, EF_SCHEMA_BUDGET_MSG);
    /* 100 items fit the default budget, not one of 1000 units */
    strcpy (value + 200, "]");
    assert_int_equal (
        ef_schema_validate_budget (schema, value, strlen (value), &b, e, 2, &n),
        0);
    assert_int_equal (b.exceeded, 0);
    b.work = 1000;
    assert_int_equal (
        ef_schema_validate_budget (schema, value, strlen (value), &b, e, 2, &n),
        EF_EVALIDATION);
    assert_int_equal (b.exceeded, 1);
    /* a CPU deadline already passed: refused at the first look */
    b.work = 0;
    b.cpu_until_ns = ef_schema_cpu_now_ns () - 1;
    strcpy (value + 2 * 2000, "]"); /* 2000 items: past the first look */
    assert_int_equal (
        ef_schema_validate_budget (schema, value, strlen (value), &b, e, 2, &n),
        EF_EVALIDATION);
    assert_int_equal (b.exceeded, 1);
    assert_true (b.used < 4096);
    free (value);
    ef_schema_destroy (&schema);
}

/*  A reference keeps the schema alive after its owner dropped its own. */
static void
test_a_reference_outlives_the_owner (void **state)
{
    (void)state;
    ef_schema_t *owner = s_compile ("{\"type\": \"string\"}");
    ef_schema_t *ref = ef_schema_ref (owner);
    assert_ptr_equal (ref, owner);
    ef_schema_destroy (&owner);
    assert_null (owner);
    assert_int_equal (s_check (ref, "\"x\""), 0);
    ef_schema_destroy (&ref);
    assert_null (ref);
}

static void
test_unique_items_on_a_long_array (void **state)
{
    (void)state;
    ef_schema_t *schema = s_compile ("{\"uniqueItems\": true}");
    size_t count = 20000;
    char *value = malloc (count * 12 + 16);
    assert_non_null (value);
    size_t o = 0;
    value[o++] = '[';
    for (size_t i = 0; i < count; i++)
        o += (size_t)sprintf (value + o, "%s%zu", i ? "," : "", i);
    strcpy (value + o, "]");
    assert_int_equal (s_check (schema, value), 0);
    /*  The same array with 7.0 at the end: equal to 7. */
    strcpy (value + o, ",7.0]");
    ef_schema_error_t e[2];
    uint32_t n = 0;
    assert_int_equal (
        ef_schema_validate (schema, value, strlen (value), e, 2, &n),
        EF_EVALIDATION);
    assert_true (s_has_error (e, n, "", "items 7 and 20000 are equal"));
    free (value);
    ef_schema_destroy (&schema);
}

/* ---------------------------------------------------------------- threads */

typedef struct {
    const ef_schema_t *schema;
    int failures;
} s_worker_t;

static void *
s_worker (void *arg)
{
    s_worker_t *w = arg;
    const char *good = "{\"order_id\": \"ord_0a1b2c3d\","
                       " \"customer\": {\"id\": 1, \"email\": \"a@b.c\"},"
                       " \"currency\": \"USD\","
                       " \"items\": [{\"sku\": \"x\", \"qty\": 1,"
                       " \"price\": 1.25}]}";
    const char *bad = "{\"order_id\": \"nope\", \"customer\": {},"
                      " \"currency\": \"USD\", \"items\": []}";
    for (int i = 0; i < 2000; i++) {
        ef_schema_error_t e[8];
        uint32_t n = 0;
        if (ef_schema_validate (w->schema, good, strlen (good), e, 8, &n) != 0)
            w->failures++;
        if (ef_schema_validate (w->schema, bad, strlen (bad), e, 8, &n) !=
                EF_EVALIDATION ||
            n != 4)
            w->failures++;
    }
    return NULL;
}

static void
test_one_schema_serves_many_threads (void **state)
{
    (void)state;
    ef_schema_t *schema = s_compile (s_order_schema);
    pthread_t threads[4];
    s_worker_t workers[4];
    for (int i = 0; i < 4; i++) {
        workers[i].schema = schema;
        workers[i].failures = 0;
        assert_int_equal (
            pthread_create (&threads[i], NULL, s_worker, &workers[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join (threads[i], NULL);
        assert_int_equal (workers[i].failures, 0);
    }
    ef_schema_destroy (&schema);
    assert_null (schema);
    ef_schema_destroy (&schema); /* safe on NULL */
    ef_schema_destroy (NULL);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_compile_refuses_what_is_not_a_schema),
        cmocka_unit_test (test_compile_refuses_keywords_of_the_wrong_type),
        cmocka_unit_test (test_compile_refuses_bad_regular_expressions),
        cmocka_unit_test (test_compile_refuses_unresolvable_and_remote_refs),
        cmocka_unit_test (test_compile_refuses_circular_refs_and_deep_schemas),
        cmocka_unit_test (test_valid_order_event_passes),
        cmocka_unit_test (test_invalid_order_event_lists_every_failing_path),
        cmocka_unit_test (test_paths_escape_and_messages_name_types),
        cmocka_unit_test (test_boolean_schemas),
        cmocka_unit_test (test_string_lengths_count_characters_not_bytes),
        cmocka_unit_test (test_numbers_compare_by_value),
        cmocka_unit_test (test_text_that_is_not_json_is_einval),
        cmocka_unit_test (test_validate_json_takes_a_parsed_value),
        cmocka_unit_test (test_schemas_may_ref_the_draft07_meta_schema),
        cmocka_unit_test (test_deep_nesting_is_refused_gracefully),
        cmocka_unit_test (test_endless_recursion_is_refused_not_flipped),
        cmocka_unit_test (test_catastrophic_regex_fails_in_bounded_time),
        cmocka_unit_test (
            test_backtracking_patterns_exceed_the_budget_at_the_first),
        cmocka_unit_test (test_deep_backtracking_exceeds_the_budget),
        cmocka_unit_test (test_the_walk_is_counted_against_the_budget),
        cmocka_unit_test (test_a_reference_outlives_the_owner),
        cmocka_unit_test (test_unique_items_on_a_long_array),
        cmocka_unit_test (test_one_schema_serves_many_threads),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
