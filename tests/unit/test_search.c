/*  test_search.c: unit tests of ef_search, the payload predicates of
    LIST_EVENTS: each op on matching and non-matching payloads, pointers
    into nested objects and arrays with ~0/~1 escapes, predicates ANDed,
    escaped payload text (past the raw-text shortcut), and the refusals
    of bad predicates, each naming where. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ef_search.h"
#include "eventflow/ef_error.h"

/*  1 when payload satisfies the predicates (a NULL-ended list). */
static int
s_match (const char *payload, const char *p1, const char *p2)
{
    ef_str_t w[2] = {ef_str (p1), p2 ? ef_str (p2) : EF_STR_NULL};
    ef_search_t *s;
    const char *why = NULL;
    assert_int_equal (ef_search_new (&s, w, p2 ? 2 : 1, &why), 0);
    int ok = ef_search_match (s, ef_str (payload));
    ef_search_destroy (&s);
    return ok;
}

static const char *s_order =
    "{\"customer\":{\"id\":\"c-1\",\"name\":\"Ann Lee\"},\"total\":120.5,"
    "\"n\":3,\"tags\":[\"a\",\"b\"],\"a/b\":1,\"m~n\":2,\"gone\":null}";

static void
test_each_op_on_a_payload (void **state)
{
    (void)state;
    assert_true (s_match (s_order, "/customer/id:eq:\"c-1\"", NULL));
    assert_false (s_match (s_order, "/customer/id:eq:\"c-2\"", NULL));
    assert_false (s_match (s_order, "/customer/id:eq:1", NULL));
    assert_true (s_match (s_order,
                          "/customer:eq:{\"name\":\"Ann Lee\","
                          "\"id\":\"c-1\"}",
                          NULL));
    assert_true (s_match (s_order, "/customer/name:contains:\"n L\"", NULL));
    assert_false (s_match (s_order, "/customer/name:contains:\"Bob\"", NULL));
    assert_false (s_match (s_order, "/total:contains:\"1\"", NULL));
    assert_true (s_match (s_order, "/gone:exists", NULL));
    assert_true (s_match (s_order, "/tags/1:exists", NULL));
    assert_false (s_match (s_order, "/tags/2:exists", NULL));
    assert_false (s_match (s_order, "/tags/01:exists", NULL));
    assert_false (s_match (s_order, "/missing:exists", NULL));
    assert_true (s_match (s_order, "/total:gt:120", NULL));
    assert_false (s_match (s_order, "/total:gt:120.5", NULL));
    assert_true (s_match (s_order, "/total:ge:120.5", NULL));
    assert_true (s_match (s_order, "/n:lt:4", NULL));
    assert_true (s_match (s_order, "/n:le:3", NULL));
    assert_false (s_match (s_order, "/n:lt:3", NULL));
    assert_false (s_match (s_order, "/customer/id:gt:0", NULL));
    assert_true (s_match (s_order, "/a~1b:eq:1", NULL));
    assert_true (s_match (s_order, "/m~0n:eq:2", NULL));
    assert_true (s_match (s_order, "/tags/0:eq:\"a\"", NULL));
    /* ANDed */
    assert_true (s_match (s_order, "/n:ge:3", "/customer/id:eq:\"c-1\""));
    assert_false (s_match (s_order, "/n:ge:3", "/customer/id:eq:\"c-9\""));
    /* a key with ':' in the pointer: the op is the first ":op" */
    assert_true (s_match ("{\"a:b\":5}", "/a:b:eq:5", NULL));
    /* escapes in the payload: the raw-text shortcut must not refuse it */
    assert_true (s_match ("{\"id\":\"c\\u002d1\"}", "/id:eq:\"c-1\"", NULL));
    /* not JSON matches nothing */
    assert_false (s_match ("{\"id\":", "/id:exists", NULL));
}

static void
test_bad_predicates_are_refused (void **state)
{
    (void)state;
    static const char *bad[] = {
        "customer/id:eq:\"c\"", /* not a pointer */
        "/a~2:exists",          /* bad escape */
        "/a:like:\"x\"",        /* no such op */
        "/a:eq",                /* no value */
        "/a:eq:c-1",            /* not JSON */
        "/a:exists:1",          /* exists takes none */
        "/a:gt:\"1\"",          /* not a number */
        "/a:contains:1",        /* not a string */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ef_str_t w = ef_str (bad[i]);
        ef_search_t *s = (ef_search_t *)1;
        const char *why = NULL;
        assert_int_equal (ef_search_new (&s, &w, 1, &why), EF_EINVAL);
        assert_null (s);
        assert_non_null (why);
        assert_non_null (strstr (why, "where"));
    }
    ef_str_t nine[9];
    for (int i = 0; i < 9; i++)
        nine[i] = ef_str ("/a:exists");
    ef_search_t *s;
    const char *why = NULL;
    assert_int_equal (ef_search_new (&s, nine, 9, &why), EF_EINVAL);
    assert_int_equal (ef_search_new (&s, nine, 8, &why), 0);
    assert_true (ef_search_match (s, ef_str ("{\"a\":0}")));
    ef_search_destroy (&s);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_each_op_on_a_payload),
        cmocka_unit_test (test_bad_predicates_are_refused),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
