/*  GET /api/v1/stats against a real broker and a real bridge: the
    broker's per-second series (core/ef_series) of the caller's org.
    * Events published over HTTP are counted in the org's total and in
      their stream's series (ingested, and duplicates for an event_id sent
      again, rejected for one its stream's schema refuses); the arrays
      have `seconds` values.
    * Another org's streams and figures are absent (DESIGN.md §13), and
      ?stream narrows the answer to one stream.
    * The DLQ size and the workers attached are sampled when the series
      is read: the org's own (the stream's DLQ size in its series, no
      workers there), never another org's.
    * seconds outside 1..3600 is a 422.
    * ?streams=none answers the org's total without any stream's series
      (natively STATS total_only); streams=active is the default; any
      other value, or none with ?stream, is a 422 naming ?streams, and
      total_only without seconds or with stream is INVALID natively. */
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

/* ---------------------------------------------------------------- fixture */

static char s_dir[256];
static h_broker_t s_broker;
static h_bridge_t s_bridge;
static ef_client_t *s_native;
static char s_a[200];  /* org A: "X-API-Key: …" (admin) */
static char s_b[2200]; /* org B: "Authorization: Bearer …" */
static h_fixture_t s_fx = {
    .dir = s_dir,
    .broker = &s_broker,
    .native = &s_native,
    .bridge = &s_bridge,
    .admin_key = s_a,
    .broker_flags = (const char *const[]){"--durability", "os", NULL}};

static void
s_http (h_resp_t *r, const char *method, const char *path, const char *cred,
        const char *body)
{
    h_http (r, s_bridge.url, method, path, cred, body, NULL);
}

static int
group_setup (void **state)
{
    (void)state;
    if (h_fixture_setup (&s_fx))
        return -1;
    return h_http_new_org (s_bridge.url, "sb@example.com", "SB", NULL, 0, s_b,
                           sizeof s_b);
}

static int
group_teardown (void **state)
{
    (void)state;
    return h_fixture_teardown (&s_fx);
}

/* ---------------------------------------------------------------- helpers */

static void
s_create (const char *cred, const char *stream)
{
    h_resp_t r;
    char body[200];
    snprintf (body, sizeof body, "{\"name\":\"%s\"}", stream);
    s_http (&r, "POST", API "/streams", cred, body);
    H_EXPECT_STATUS (r, 201);
    h_http_free (&r);
}

static void
s_publish (const char *cred, const char *stream, const char *id)
{
    h_resp_t r;
    char path[300], body[300];
    snprintf (path, sizeof path, API "/streams/%s/events", stream);
    snprintf (body, sizeof body,
              "{\"type\":\"t\",\"event_id\":\"%s\",\"payload\":{}}", id);
    s_http (&r, "POST", path, cred, body);
    assert_true (r.status == 202 || r.status == 200);
    h_http_free (&r);
}

/*  The sum of figures[key] (an array of n numbers). */
static long long
s_sum (json_t *figures, const char *key, size_t n)
{
    json_t *a = json_object_get (figures, key);
    assert_true (json_is_array (a));
    assert_int_equal (json_array_size (a), n);
    long long sum = 0;
    size_t i;
    json_t *v;
    json_array_foreach (a, i, v)
    {
        assert_true (json_is_integer (v));
        sum += json_integer_value (v);
    }
    return sum;
}

/*  The newest (last) value of figures[key], an array of n numbers. */
static long long
s_last (json_t *figures, const char *key, size_t n)
{
    s_sum (figures, key, n);
    return json_integer_value (
        json_array_get (json_object_get (figures, key), n - 1));
}

/*  h_wait_until: GET /dlq?stream=arg as org A lists 2 letters. */
static int
s_two_dead (void *arg)
{
    h_resp_t r;
    char path[200];
    snprintf (path, sizeof path, API "/dlq?stream=%s", (const char *)arg);
    s_http (&r, "GET", path, s_a, NULL);
    H_EXPECT_STATUS (r, 200);
    int two = json_array_size (json_object_get (r.json, "items")) == 2;
    h_http_free (&r);
    return two;
}

/*  The native admin (org A) says READY to service, or LEAVEs it. */
static void
s_worker (ef_cmd_t cmd, const char *service)
{
    ef_request_t req = {0};
    req.cmd = cmd;
    req.service = ef_str (service);
    assert_int_equal (ef_client_call (s_native, &req, NULL), 0);
}

/* ---------------------------------------------------------------- tests */

static void
test_stats_sample_the_dlq_size_and_the_workers_of_the_org (void **state)
{
    (void)state;
    h_resp_t r;
    /* a patch that cannot apply: each event goes to the DLQ */
    s_http (&r, "POST", API "/streams", s_a,
            "{\"name\":\"stats-dlq\",\"pipeline\":[{\"type\":"
            "\"transform\",\"patch\":[{\"op\":\"remove\",\"path\":"
            "\"/nope\"}]}]}");
    H_EXPECT_STATUS (r, 201);
    h_http_free (&r);
    s_publish (s_a, "stats-dlq", "00000000-0000-4000-8000-0000000000d1");
    s_publish (s_a, "stats-dlq", "00000000-0000-4000-8000-0000000000d2");
    assert_int_equal (h_wait_until (s_two_dead, "stats-dlq", 20000), 0);

    s_worker (EF_CMD_READY, "stats-w");
    s_http (&r, "GET", API "/stats?seconds=5", s_a, NULL);
    H_EXPECT_STATUS (r, 200);
    json_t *total = json_object_get (r.json, "total");
    assert_int_equal (s_last (total, "dlq_size", 5), 2);
    assert_int_equal (s_last (total, "workers", 5), 1);
    json_t *f =
        json_object_get (json_object_get (r.json, "streams"), "stats-dlq");
    assert_non_null (f);
    assert_int_equal (s_last (f, "dlq_size", 5), 2);
    assert_int_equal (s_sum (f, "workers", 5), 0);
    h_http_free (&r);

    /* org B: none of A's */
    s_http (&r, "GET", API "/stats?seconds=5", s_b, NULL);
    H_EXPECT_STATUS (r, 200);
    total = json_object_get (r.json, "total");
    assert_int_equal (s_sum (total, "dlq_size", 5), 0);
    assert_int_equal (s_sum (total, "workers", 5), 0);
    h_http_free (&r);

    /* the next read samples again: one letter gone, the worker gone */
    s_worker (EF_CMD_LEAVE, "stats-w");
    s_http (&r, "POST", API "/dlq/delete", s_a,
            "{\"event_ids\":[\"00000000-0000-4000-8000-0000000000d1\"]}");
    H_EXPECT_STATUS (r, 200);
    h_http_free (&r);
    s_http (&r, "GET", API "/stats?seconds=5&stream=stats-dlq", s_a, NULL);
    H_EXPECT_STATUS (r, 200);
    total = json_object_get (r.json, "total");
    assert_int_equal (s_last (total, "dlq_size", 5), 1);
    assert_int_equal (s_last (total, "workers", 5), 0);
    f = json_object_get (json_object_get (r.json, "streams"), "stats-dlq");
    assert_int_equal (s_last (f, "dlq_size", 5), 1);
    h_http_free (&r);
}

static void
test_stats_count_per_org_and_stream (void **state)
{
    (void)state;
    s_create (s_a, "stats-a");
    s_create (s_b, "stats-b");
    s_publish (s_a, "stats-a", "00000000-0000-4000-8000-00000000000a");
    s_publish (s_a, "stats-a", "00000000-0000-4000-8000-00000000000b");
    s_publish (s_a, "stats-a",
               "00000000-0000-4000-8000-00000000000a"); /* a duplicate */
    s_publish (s_b, "stats-b", "00000000-0000-4000-8000-00000000000c");

    h_resp_t r;
    s_http (&r, "GET", API "/stats?seconds=120", s_a, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_integer_value (json_object_get (r.json, "seconds")),
                      120);
    assert_true (json_integer_value (json_object_get (r.json, "now")) > 0);
    json_t *total = json_object_get (r.json, "total");
    assert_int_equal (s_sum (total, "ingested", 120), 2);
    assert_int_equal (s_sum (total, "duplicates", 120), 1);
    assert_int_equal (s_sum (total, "rejected", 120), 0);
    s_sum (total, "latency_p50_ms", 120);
    s_sum (total, "latency_p99_ms", 120);
    s_sum (total, "worst_lag", 120);
    json_t *streams = json_object_get (r.json, "streams");
    assert_non_null (json_object_get (streams, "stats-a"));
    assert_null (json_object_get (streams, "stats-b"));
    assert_int_equal (
        s_sum (json_object_get (streams, "stats-a"), "ingested", 120), 2);
    h_http_free (&r);

    /* org B sees its own figures only */
    s_http (&r, "GET", API "/stats", s_b, NULL);
    H_EXPECT_STATUS (r, 200);
    total = json_object_get (r.json, "total");
    assert_int_equal (s_sum (total, "ingested", 3600), 1);
    assert_int_equal (s_sum (total, "duplicates", 3600), 0);
    streams = json_object_get (r.json, "streams");
    assert_non_null (json_object_get (streams, "stats-b"));
    assert_null (json_object_get (streams, "stats-a"));
    h_http_free (&r);

    /* ?stream of another org: nothing of it */
    s_http (&r, "GET", API "/stats?seconds=5&stream=stats-a", s_b, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_object_size (json_object_get (r.json, "streams")),
                      0);
    h_http_free (&r);
    s_http (&r, "GET", API "/stats?seconds=5&stream=stats-a", s_a, NULL);
    H_EXPECT_STATUS (r, 200);
    streams = json_object_get (r.json, "streams");
    assert_int_equal (json_object_size (streams), 1);
    s_sum (json_object_get (streams, "stats-a"), "ingested", 5);
    h_http_free (&r);
}

static void
test_stats_count_rejected (void **state)
{
    (void)state;
    h_resp_t r;
    s_http (&r, "POST", API "/streams", s_a,
            "{\"name\":\"stats-r\",\"schema\":{\"type\":\"object\","
            "\"required\":[\"x\"]}}");
    H_EXPECT_STATUS (r, 201);
    h_http_free (&r);
    s_http (&r, "POST", API "/streams/stats-r/events", s_a,
            "{\"type\":\"t\",\"payload\":{}}");
    H_EXPECT_STATUS (r, 422);
    h_http_free (&r);
    s_http (&r, "GET", API "/stats?seconds=60&stream=stats-r", s_a, NULL);
    H_EXPECT_STATUS (r, 200);
    json_t *f =
        json_object_get (json_object_get (r.json, "streams"), "stats-r");
    assert_non_null (f);
    assert_int_equal (s_sum (f, "rejected", 60), 1);
    assert_int_equal (s_sum (f, "ingested", 60), 0);
    h_http_free (&r);
}

/*  A producer key allowed one event a second: its second event in a burst
    is refused (429) and counted as rejected. */
static void
test_stats_count_rate_limited (void **state)
{
    (void)state;
    s_create (s_a, "stats-rl");
    h_resp_t r;
    s_http (&r, "POST", API "/api-keys", s_a,
            "{\"name\":\"slow\",\"role\":\"producer\","
            "\"rate_limit\":{\"per_second\":1,\"burst\":1}}");
    H_EXPECT_STATUS (r, 201);
    char cred[300];
    snprintf (cred, sizeof cred, "X-API-Key: %s",
              h_http_jstr (r.json, "api_key"));
    h_http_free (&r);
    long got[3];
    for (int i = 0; i < 3; i++) {
        s_http (&r, "POST", API "/streams/stats-rl/events", cred,
                "{\"type\":\"t\",\"payload\":{}}");
        got[i] = r.status;
        h_http_free (&r);
    }
    int refused = (got[0] == 429) + (got[1] == 429) + (got[2] == 429);
    assert_true (refused >= 1);
    s_http (&r, "GET", API "/stats?seconds=60&stream=stats-rl", s_a, NULL);
    H_EXPECT_STATUS (r, 200);
    json_t *f =
        json_object_get (json_object_get (r.json, "streams"), "stats-rl");
    assert_non_null (f);
    assert_int_equal (s_sum (f, "rejected", 60), refused);
    assert_int_equal (s_sum (f, "ingested", 60), 3 - refused);
    h_http_free (&r);
}

static void
test_stats_seconds_out_of_range (void **state)
{
    (void)state;
    h_resp_t r;
    s_http (&r, "GET", API "/stats?seconds=0", s_a, NULL);
    H_EXPECT_STATUS (r, 422);
    h_http_free (&r);
    s_http (&r, "GET", API "/stats?seconds=3601", s_a, NULL);
    H_EXPECT_STATUS (r, 422);
    h_http_free (&r);
    s_http (&r, "GET", API "/stats", NULL, NULL);
    H_EXPECT_STATUS (r, 401);
    h_http_free (&r);
}

static void
test_stats_streams_none_answers_the_total_only (void **state)
{
    (void)state;
    s_create (s_a, "stats-total");
    s_publish (s_a, "stats-total", "00000000-0000-4000-8000-0000000000e1");
    h_resp_t all, active, none;
    s_http (&all, "GET", API "/stats?seconds=600", s_a, NULL);
    s_http (&active, "GET", API "/stats?seconds=600&streams=active", s_a, NULL);
    s_http (&none, "GET", API "/stats?seconds=600&streams=none", s_a, NULL);
    H_EXPECT_STATUS (all, 200);
    H_EXPECT_STATUS (active, 200);
    H_EXPECT_STATUS (none, 200);
    assert_non_null (
        json_object_get (json_object_get (all.json, "streams"), "stats-total"));
    assert_non_null (json_object_get (json_object_get (active.json, "streams"),
                                      "stats-total"));
    json_t *streams = json_object_get (none.json, "streams");
    assert_true (json_is_object (streams));
    assert_int_equal (json_object_size (streams), 0);
    assert_int_equal (
        json_integer_value (json_object_get (none.json, "seconds")), 600);
    json_t *total = json_object_get (none.json, "total");
    assert_true (s_sum (total, "ingested", 600) >= 1);
    s_sum (total, "worst_lag", 600);
    s_sum (total, "workers", 600);
    fprintf (stderr, "  /stats?seconds=600: %zu bytes; streams=none: %zu\n",
             all.len, none.len);
    assert_true (none.len < all.len);
    h_http_free (&all);
    h_http_free (&active);
    h_http_free (&none);

    const char *bad[] = {API "/stats?streams=all", API "/stats?streams=",
                         API "/stats?streams=none&stream=stats-total"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h_resp_t r;
        s_http (&r, "GET", bad[i], s_a, NULL);
        H_EXPECT_PROBLEM (r, 422, "VALIDATION", "?streams");
        h_http_free (&r);
    }

    /* natively: total_only goes with seconds, not with stream */
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_STATS;
    req.total_only = 1;
    assert_int_equal (ef_client_call (s_native, &req, &rep), EF_EINVAL);
    req.seconds = 5;
    req.has_seconds = 1;
    req.stream = ef_str ("stats-total");
    assert_int_equal (ef_client_call (s_native, &req, &rep), EF_EINVAL);
    req.stream = EF_STR_NULL;
    assert_int_equal (ef_client_call (s_native, &req, &rep), 0);
}

/*  A publish that names the stream by its id counts under its name. */
static void
test_stats_count_a_publish_by_stream_id_under_its_name (void **state)
{
    (void)state;
    h_resp_t r;
    s_http (&r, "POST", API "/streams", s_a, "{\"name\":\"stats-by-id\"}");
    H_EXPECT_STATUS (r, 201);
    char id[64];
    snprintf (id, sizeof id, "%s", h_http_jstr (r.json, "id"));
    h_http_free (&r);
    s_publish (s_a, id, "00000000-0000-4000-8000-0000000000d1");
    s_http (&r, "GET", API "/stats?seconds=120&stream=stats-by-id", s_a, NULL);
    H_EXPECT_STATUS (r, 200);
    json_t *streams = json_object_get (r.json, "streams");
    assert_null (json_object_get (streams, id));
    assert_int_equal (
        s_sum (json_object_get (streams, "stats-by-id"), "ingested", 120), 1);
    h_http_free (&r);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_stats_count_per_org_and_stream),
        cmocka_unit_test (
            test_stats_count_a_publish_by_stream_id_under_its_name),
        cmocka_unit_test (test_stats_count_rejected),
        cmocka_unit_test (
            test_stats_sample_the_dlq_size_and_the_workers_of_the_org),
        cmocka_unit_test (test_stats_count_rate_limited),
        cmocka_unit_test (test_stats_seconds_out_of_range),
        cmocka_unit_test (test_stats_streams_none_answers_the_total_only),
    };
    return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
