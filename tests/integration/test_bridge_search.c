/*  Event search over HTTP (LIST_EVENTS with where and cursor) against a
    real broker with --search-scan 3 and a real bridge: a payload field
    equal to a value, found across pages that each stop at the scan
    bound and continue by next_cursor until it is null; exists and a
    numeric compare ANDed on GET /events; lt on GET /streams/{id}/events;
    the 422s that name ?where and ?cursor; and every listing, plain or
    filtered, pages by next_cursor within the same scan bound, a page
    deeper than it being a 422 on ?page. Events are published over the
    native protocol. */
#define _GNU_SOURCE
#include "harness.h"
#include "h_fixture.h"
#include "h_http.h"

#include <curl/curl.h>
#include <jansson.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define API "/api/v1"

static char s_dir[256];
static h_broker_t s_broker;
static h_bridge_t s_bridge;
static ef_client_t *s_native;
static char s_consumer[200];

static h_fixture_t s_fx = {
    .dir = s_dir,
    .broker = &s_broker,
    .native = &s_native,
    .bridge = &s_bridge,
    .consumer_key = s_consumer,
    .broker_flags = (const char *const[]){"--search-scan", "3", NULL}};

/*  Stream "orders" with 10 events, total 0..9: customer c-(total % 3),
    a note on the even ones. */
static int
group_setup (void **state)
{
    (void)state;
    if (h_fixture_setup (&s_fx))
        return -1;
    ef_stream_info_t si;
    if (ef_client_create_stream (s_native, "orders", &si))
        return -1;
    ef_event_in_t evs[10];
    ef_publish_result_t res[10];
    char payloads[10][96];
    for (int i = 0; i < 10; i++) {
        memset (&evs[i], 0, sizeof evs[i]);
        snprintf (payloads[i], sizeof payloads[i],
                  "{\"customer\":{\"id\":\"c-%d\"},\"total\":%d%s}", i % 3, i,
                  i % 2 ? "" : ",\"note\":\"even\"");
        evs[i].type = ef_str ("order.created");
        evs[i].payload = ef_str (payloads[i]);
    }
    if (ef_client_publish (s_native, "orders", evs, 10, res))
        return -1;
    for (int i = 0; i < 10; i++)
        if (res[i].code)
            return -1;
    return 0;
}

static int
group_teardown (void **state)
{
    (void)state;
    return h_fixture_teardown (&s_fx);
}

/*  Follow a search from path (its query ends without '&') through every
    next_cursor; the totals found, newest first, into got; the pages. */
static int
s_search (const char *path, char *got, size_t size)
{
    char url[600], cursor[128] = "";
    int pages = 0;
    got[0] = 0;
    do {
        h_resp_t r;
        snprintf (url, sizeof url, "%s%s%s", path, cursor[0] ? "&cursor=" : "",
                  cursor);
        h_http (&r, s_bridge.url, "GET", url, s_consumer, NULL, NULL);
        H_EXPECT_STATUS (r, 200);
        H_HAS (r, "next_cursor", '?');
        size_t i;
        json_t *it;
        json_array_foreach (h_http_j (r.json, "items"), i, it)
        {
            json_t *t = h_http_j (it, "payload.total");
            assert_non_null (t);
            snprintf (got + strlen (got), size - strlen (got), "%s%d",
                      got[0] ? " " : "", (int)json_integer_value (t));
        }
        const char *c = h_http_jstr (r.json, "next_cursor");
        snprintf (cursor, sizeof cursor, "%s", c ? c : "");
        h_http_free (&r);
        pages++;
    } while (cursor[0] && pages < 20);
    return pages;
}

static void
test_a_field_equal_to_a_value_across_scan_bounded_pages (void **state)
{
    (void)state;
    char got[256];
    /* 10 events, 3 examined a page: 4 pages, the last one null */
    int pages = s_search (API "/streams/orders/events?where=/customer/id:eq:"
                              "%22c-1%22",
                          got, sizeof got);
    assert_string_equal (got, "7 4 1");
    assert_int_equal (pages, 4);
}

static void
test_exists_and_a_numeric_compare (void **state)
{
    (void)state;
    char got[256];
    s_search (API "/events?stream=orders&where=/note:exists&where=/total:ge:4",
              got, sizeof got);
    assert_string_equal (got, "8 6 4");
    s_search (API "/streams/orders/events?where=/total:lt:2", got, sizeof got);
    assert_string_equal (got, "1 0");
    s_search (API "/streams/orders/events?where=/customer:exists&limit=2", got,
              sizeof got);
    assert_string_equal (got, "9 8 7 6 5 4 3 2 1 0");
}

static void
test_bad_searches_are_422_naming_the_parameter (void **state)
{
    (void)state;
    static const char *bad[][2] = {
        {API "/events?where=/total:gt:%22x%22", "where"},
        {API "/events?where=total:exists", "where"},
        {API "/events?where=/total:like:1", "where"},
        {API "/streams/orders/events?where=/total:eq:c-1", "where"},
        {API "/events?cursor=zz", "cursor"},
        {API "/events?where=/a:exists&where=/a:exists&where=/a:exists&where=/"
             "a:exists&where=/a:exists&where=/a:exists&where=/a:exists&where=/"
             "a:exists&where=/a:exists",
         "where"},
    };
    int ok = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h_resp_t r;
        h_http (&r, s_bridge.url, "GET", bad[i][0], s_consumer, NULL, NULL);
        ok &= h_http_is_422_naming (&r, bad[i][1]);
        h_http_free (&r);
    }
    assert_true (ok);
    h_resp_t r;
    h_http (&r, s_bridge.url, "GET", API "/events?page=2&cursor=9.1.1",
            s_consumer, NULL, NULL);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "?page");
    h_http_free (&r);
}

static void
test_every_listing_pages_by_cursor_within_the_scan_bound (void **state)
{
    (void)state;
    char got[256];
    /* plain: the limit or the scan bound (3) ends a page, next_cursor
       goes on, the last page answers it null */
    int pages =
        s_search (API "/streams/orders/events?limit=3", got, sizeof got);
    assert_string_equal (got, "9 8 7 6 5 4 3 2 1 0");
    assert_int_equal (pages, 4);
    pages = s_search (API "/events?limit=4", got, sizeof got);
    assert_string_equal (got, "9 8 7 6 5 4 3 2 1 0");
    assert_int_equal (pages, 4);
    /* a type that matches nothing: 3 examined a page, not the stream */
    pages = s_search (API "/events?type=order.none", got, sizeof got);
    assert_string_equal (got, "");
    assert_int_equal (pages, 4);
    /* with its filters: the cursor keeps them */
    pages = s_search (API "/events?type=order.created&to=4102444800000"
                          "&limit=2",
                      got, sizeof got);
    assert_string_equal (got, "9 8 7 6 5 4 3 2 1 0");
    /* page 2 skips within the bound: the rest of it, and a cursor on */
    h_resp_t r;
    h_http (&r, s_bridge.url, "GET", API "/events?limit=2&page=2", s_consumer,
            NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_array_size (h_http_j (r.json, "items")), 1);
    assert_non_null (h_http_jstr (r.json, "next_cursor"));
    assert_true (json_is_true (h_http_j (r.json, "has_more")));
    h_http_free (&r);
    /* a page whose skip alone reaches the bound: 422 naming ?page */
    h_http (&r, s_bridge.url, "GET", API "/events?limit=3&page=2", s_consumer,
            NULL, NULL);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "?page");
    assert_non_null (strstr (r.body, "cursor"));
    h_http_free (&r);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (
            test_a_field_equal_to_a_value_across_scan_bounded_pages),
        cmocka_unit_test (test_exists_and_a_numeric_compare),
        cmocka_unit_test (test_bad_searches_are_422_naming_the_parameter),
        cmocka_unit_test (
            test_every_listing_pages_by_cursor_within_the_scan_bound),
    };
    return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
