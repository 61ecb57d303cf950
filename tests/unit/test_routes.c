/*  ef_routes: a pipeline whose routes close a cycle through the org's
    streams is found, whatever its length (a stream routing to itself,
    A → B → A, longer), with the cycle named from the changed stream;
    routes by stream id count; routes to streams that do not exist,
    cycles that do not pass through the stream, diamonds and long chains
    are no cycle; routes may not fan out past 1000 routed events. */
#include "ef_routes.h"
#include "eventflow/ef_error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/*  A pipeline routing to each of the streams listed (NULL-terminated). */
static ef_pipeline_t *
s_routes_to (const char *const *to)
{
    char text[2048] = "[";
    for (int i = 0; to[i]; i++)
        snprintf (text + strlen (text), sizeof text - strlen (text),
                  "%s{\"type\":\"route\",\"stream\":\"%s\"}", i ? "," : "",
                  to[i]);
    strcat (text, to[0] ? "]" : "{\"type\":\"filter\",\"schema\":{}}]");
    int err;
    char why[256];
    ef_pipeline_t *p =
        ef_pipeline_compile (text, strlen (text), &err, why, sizeof why);
    if (!p)
        fail_msg ("%s: %s", text, why);
    return p;
}

static void
s_add (ef_routes_t *g, const char *name, const char *id, const char *const *to)
{
    ef_pipeline_t *p = to ? s_routes_to (to) : NULL;
    assert_int_equal (ef_routes_add (g, ef_str (name), ef_str (id), p), 0);
    ef_pipeline_destroy (&p);
}

#define TO(...) ((const char *const[]){__VA_ARGS__, NULL})

/*  The check from start: 0, or the cycle's text. */
static const char *
s_check (ef_routes_t *g, const char *start)
{
    static char why[256];
    why[0] = 0;
    int rc = ef_routes_check (g, ef_str (start), why, sizeof why);
    assert_true (rc == 0 || rc == EF_EINVAL);
    return rc ? why : NULL;
}

static void
test_a_stream_routing_to_itself (void **state)
{
    (void)state;
    ef_routes_t *g = ef_routes_new ();
    s_add (g, "loop", NULL, TO ("loop"));
    assert_string_equal (s_check (g, "loop"), "route cycle: loop -> loop");
    ef_routes_destroy (&g);
    assert_null (g);
}

static void
test_two_and_more_streams_in_a_ring (void **state)
{
    (void)state;
    ef_routes_t *g = ef_routes_new ();
    s_add (g, "a", NULL, TO ("b"));
    s_add (g, "b", NULL, TO ("a"));
    assert_string_equal (s_check (g, "a"), "route cycle: a -> b -> a");
    assert_string_equal (s_check (g, "b"), "route cycle: b -> a -> b");
    ef_routes_destroy (&g);

    g = ef_routes_new ();
    s_add (g, "d", NULL, TO ("x", "e"));
    s_add (g, "x", NULL, TO ("nowhere"));
    s_add (g, "e", NULL, TO ("f"));
    s_add (g, "f", NULL, TO ("g"));
    s_add (g, "g", NULL, TO ("x", "d"));
    assert_string_equal (s_check (g, "d"),
                         "route cycle: d -> e -> f -> g -> d");
    ef_routes_destroy (&g);
}

static void
test_routes_by_id_count (void **state)
{
    (void)state;
    ef_routes_t *g = ef_routes_new ();
    s_add (g, "a", "0190a0b0-0000-7000-8000-000000000001", TO ("b"));
    s_add (g, "b", "0190a0b0-0000-7000-8000-000000000002",
           TO ("0190a0b0-0000-7000-8000-000000000001"));
    assert_string_equal (s_check (g, "a"), "route cycle: a -> b -> a");
    ef_routes_destroy (&g);
}

static void
test_no_cycle_through_the_stream (void **state)
{
    (void)state;
    ef_routes_t *g = ef_routes_new ();
    /* a diamond, a chain, a dangling route, no pipeline at all */
    s_add (g, "top", NULL, TO ("left", "right", "missing"));
    s_add (g, "left", NULL, TO ("bottom"));
    s_add (g, "right", NULL, TO ("bottom"));
    s_add (g, "bottom", NULL, TO ("c1"));
    char name[16], next[16];
    for (int i = 1; i < 50; i++) {
        snprintf (name, sizeof name, "c%d", i);
        snprintf (next, sizeof next, "c%d", i + 1);
        s_add (g, name, NULL, TO (next));
    }
    s_add (g, "c50", NULL, NULL);
    /* a ring that the start cannot reach, and one it reaches but is not
       on: neither is its cycle */
    s_add (g, "p", NULL, TO ("q"));
    s_add (g, "q", NULL, TO ("p"));
    s_add (g, "start", NULL, TO ("top", "p"));
    assert_null (s_check (g, "start"));
    assert_null (s_check (g, "top"));
    assert_null (s_check (g, "nobody")); /* not a stream */
    /* the chain's end routes back to its start: now there is one */
    ef_routes_destroy (&g);
    g = ef_routes_new ();
    s_add (g, "c50", NULL, TO ("c1")); /* the changed stream comes first */
    for (int i = 1; i < 50; i++) {
        snprintf (name, sizeof name, "c%d", i);
        snprintf (next, sizeof next, "c%d", i + 1);
        s_add (g, name, NULL, TO (next));
    }
    s_add (g, "c50", NULL, NULL); /* its old self: ignored */
    const char *why = s_check (g, "c50");
    assert_non_null (why);
    assert_true (strncmp (why, "route cycle: c50 -> c1 -> c2 -> ", 32) == 0);
    ef_routes_destroy (&g);
}

/*  A cycle too long for the text is still reported, truncated. */
static void
test_the_text_is_truncated_to_the_buffer (void **state)
{
    (void)state;
    ef_routes_t *g = ef_routes_new ();
    s_add (g, "a", NULL, TO ("b"));
    s_add (g, "b", NULL, TO ("a"));
    char why[16];
    assert_int_equal (ef_routes_check (g, ef_str ("a"), why, sizeof why),
                      EF_EINVAL);
    assert_string_equal (why, "route cycle: a ");
    ef_routes_destroy (&g);
}

/*  Sixteen routes to streams of sixteen routes make 272 events from one:
    fine; one level more (4,368) is refused, naming the stream where the
    event would enter, whether the change is at the top, in the middle or
    the creation of the leaf that the routes named before it existed. A
    count elsewhere that the change cannot raise does not matter. */
static void
test_fan_out_is_capped (void **state)
{
    (void)state;
    const char *const *to16b = TO ("b", "b", "b", "b", "b", "b", "b", "b", "b",
                                   "b", "b", "b", "b", "b", "b", "b");
    const char *const *to16c = TO ("c", "c", "c", "c", "c", "c", "c", "c", "c",
                                   "c", "c", "c", "c", "c", "c", "c");
    const char *const *to16d = TO ("d", "d", "d", "d", "d", "d", "d", "d", "d",
                                   "d", "d", "d", "d", "d", "d", "d");
    /* a → 16 b → 16 c each: 16 + 256 */
    ef_routes_t *g = ef_routes_new ();
    s_add (g, "a", NULL, to16b);
    s_add (g, "b", NULL, to16c);
    s_add (g, "c", NULL, NULL);
    assert_null (s_check (g, "a"));
    ef_routes_destroy (&g);
    /* c routing 16 times to d: a would lead to 16 + 256 + 4096 */
    g = ef_routes_new ();
    s_add (g, "c", NULL, to16d);
    s_add (g, "a", NULL, to16b);
    s_add (g, "b", NULL, to16c);
    s_add (g, "d", NULL, NULL);
    assert_string_equal (s_check (g, "c"),
                         "route fan-out: one event in a would lead to more "
                         "than 1000 routed events");
    ef_routes_destroy (&g);
    /* the same when d, named already, is created last */
    g = ef_routes_new ();
    s_add (g, "d", NULL, NULL);
    s_add (g, "a", NULL, to16b);
    s_add (g, "b", NULL, to16c);
    s_add (g, "c", NULL, to16d);
    assert_non_null (s_check (g, "d"));
    ef_routes_destroy (&g);
    /* a count the change cannot raise (x does not lead to y) is not ours
       to refuse, nor is an old cycle elsewhere */
    g = ef_routes_new ();
    s_add (g, "y", NULL, TO ("nothing"));
    s_add (g, "x", NULL, to16b);
    s_add (g, "b", NULL, to16c);
    s_add (g, "c", NULL, to16d);
    s_add (g, "d", NULL, NULL);
    s_add (g, "p", NULL, TO ("q"));
    s_add (g, "q", NULL, TO ("p", "y"));
    assert_null (s_check (g, "y"));
    assert_non_null (s_check (g, "x"));
    ef_routes_destroy (&g);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_stream_routing_to_itself),
        cmocka_unit_test (test_two_and_more_streams_in_a_ring),
        cmocka_unit_test (test_routes_by_id_count),
        cmocka_unit_test (test_no_cycle_through_the_stream),
        cmocka_unit_test (test_the_text_is_truncated_to_the_buffer),
        cmocka_unit_test (test_fan_out_is_capped),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
