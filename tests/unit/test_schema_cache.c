/*  test_schema_cache.c: unit tests of ef_schema_cache, the streams'
    compiled schemas: a stream's schema is compiled once while its text
    stays the same, again when the text changes or another stream took its
    slot; no text is no schema; what it hands out validates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ef_schema_cache.h"
#include "eventflow/ef_error.h"

static const char *S_NUMBER = "{\"type\":\"number\"}";
static const char *S_STRING = "{\"type\":\"string\"}";

static void
test_compiled_once_per_text (void **state)
{
    (void)state;
    ef_schema_cache_t *c = ef_schema_cache_new ();
    assert_non_null (c);
    ef_schema_t *a = ef_schema_cache_get (c, 7, ef_str (S_NUMBER));
    assert_non_null (a);
    assert_ptr_equal (ef_schema_cache_get (c, 7, ef_str (S_NUMBER)), a);
    assert_int_equal (ef_schema_cache_compiles (c), 1);
    /* the same text in a copy of its own is the same schema */
    char copy[64];
    strcpy (copy, S_NUMBER);
    assert_ptr_equal (ef_schema_cache_get (c, 7, ef_str (copy)), a);
    assert_int_equal (ef_schema_cache_compiles (c), 1);
    /* what it hands out checks payloads */
    assert_int_equal (ef_schema_validate (a, "12", 2, NULL, 0, NULL), 0);
    assert_int_equal (ef_schema_validate (a, "\"x\"", 3, NULL, 0, NULL),
                      EF_EVALIDATION);
    /* another text for the stream: compiled again */
    ef_schema_t *b = ef_schema_cache_get (c, 7, ef_str (S_STRING));
    assert_non_null (b);
    assert_int_equal (ef_schema_cache_compiles (c), 2);
    assert_int_equal (ef_schema_validate (b, "\"x\"", 3, NULL, 0, NULL), 0);
    ef_schema_cache_destroy (&c);
    assert_null (c);
}

static void
test_no_text_no_schema (void **state)
{
    (void)state;
    ef_schema_cache_t *c = ef_schema_cache_new ();
    assert_null (ef_schema_cache_get (c, 7, EF_STR_NULL));
    assert_null (ef_schema_cache_get (c, 7, ef_str ("")));
    assert_int_equal (ef_schema_cache_compiles (c), 0);
    ef_schema_cache_destroy (&c);
}

static void
test_slot_shared (void **state)
{
    (void)state;
    ef_schema_cache_t *c = ef_schema_cache_new ();
    /* streams 3 and 67 share a slot of 64: each evicts the other */
    assert_non_null (ef_schema_cache_get (c, 3, ef_str (S_NUMBER)));
    assert_non_null (ef_schema_cache_get (c, 67, ef_str (S_NUMBER)));
    assert_non_null (ef_schema_cache_get (c, 3, ef_str (S_NUMBER)));
    assert_int_equal (ef_schema_cache_compiles (c), 3);
    /* stream 4 has its own */
    assert_non_null (ef_schema_cache_get (c, 4, ef_str (S_NUMBER)));
    assert_non_null (ef_schema_cache_get (c, 3, ef_str (S_NUMBER)));
    assert_int_equal (ef_schema_cache_compiles (c), 4);
    ef_schema_cache_destroy (&c);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_compiled_once_per_text),
        cmocka_unit_test (test_no_text_no_schema),
        cmocka_unit_test (test_slot_shared),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
