/*  The bridge's REST/JSON API end to end (DESIGN §5) against a real broker
    and two real bridges (the default one and one with --max-body 4096):
    the health, stream, event and metrics routes with their success
    statuses and body shapes, the seed forms, org isolation, idempotent and
    batch ingest, the request headers, and every error status with its
    RFC 9457 problem body. The auth, user, producer and API key routes are
    in test_bridge_admin.c. Fixtures that a test only needs as a
    precondition (streams, API keys, a second org, stored events) are made
    over the native protocol, so that a broken route fails the test about
    that route and not every test. */
#define _GNU_SOURCE /* strcasestr, timegm */
#include "harness.h"
#include "h_fixture.h"
#include "h_http.h"
#include "eventflow/ef_proto.h"

#include <curl/curl.h>
#include <jansson.h>

#include <sys/time.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#define API "/api/v1"

/* ---------------------------------------------------------------- fixture */

static char s_dir[256];
static h_broker_t s_broker;
static h_bridge_t s_bridge;    /* defaults */
static h_bridge_t s_small;     /* --max-body 4096 */
static ef_client_t *s_native;  /* the local admin key */
static ef_client_t *s_gateway; /* the gateway key, credentials per call */
/* header lines "X-API-Key: efk_…" */
static char s_admin_key[200], s_producer_key[200], s_consumer_key[200];

static h_fixture_t s_fx = {
    .dir = s_dir,
    .broker = &s_broker,
    .native = &s_native,
    .bridge = &s_bridge,
    .bridge2 = &s_small,
    .bridge2_flags = (const char *const[]){"--max-body", "4096", NULL},
    .admin_key = s_admin_key,
    .producer_key = s_producer_key,
    .consumer_key = s_consumer_key,
    .gateway = &s_gateway};
static unsigned s_uuid_n;

/*  A native API key of role (rate 0: the default) as an X-API-Key header
    line into out (200 bytes). */
static int
s_native_key (const char *role, uint32_t per_second, uint32_t burst, char *out)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    char key[160];
    req.cmd = EF_CMD_APIKEY_CREATE;
    req.name = ef_str (role);
    req.role = ef_str (role);
    if (per_second) {
        req.has_rate = 1;
        req.rate_per_second = per_second;
        req.rate_burst = burst;
    }
    if (ef_client_call (s_native, &req, &rep))
        return -1;
    h_reply_str (rep, "api_key", NULL, key, sizeof key);
    snprintf (out, 200, "X-API-Key: %s", key);
    return key[0] ? 0 : -1;
}

/*  A native stream; its id into id_out (may be NULL). */
static void
s_native_stream (const char *name, char *id_out)
{
    ef_stream_info_t si;
    assert_int_equal (ef_client_create_stream (s_native, name, &si), 0);
    if (id_out)
        snprintf (id_out, 64, "%.*s", (int)si.id.len, si.id.ptr);
}

static uint64_t
s_native_count (const char *stream)
{
    ef_stream_info_t si;
    assert_int_equal (ef_client_get_stream (s_native, stream, &si), 0);
    return si.events;
}

/*  A fresh UUID (v4 layout) for client-supplied event ids. */
static void
s_uuid (char *out)
{
    snprintf (out, 37, "%08x-%04x-4%03x-8%03x-%012llx", (unsigned)getpid (),
              (unsigned)(time (NULL) & 0xffff), s_uuid_n & 0xfff,
              (s_uuid_n >> 12) & 0xfff,
              (unsigned long long)(h_http_ms_now () * 1000 + s_uuid_n) &
                  0xffffffffffffULL);
    s_uuid_n++;
}
/*  POST one event; the response in r. */
static void
s_publish (h_resp_t *r, const char *stream, const char *cred, const char *body)
{
    h_http_publish (r, s_bridge.url, stream, cred, body);
}

static int
group_setup (void **state)
{
    (void)state;
    return h_fixture_setup (&s_fx);
}

static int
group_teardown (void **state)
{
    (void)state;
    return h_fixture_teardown (&s_fx);
}

/* ---------------------------------------------------------------- ops */

static void
test_health_and_ready_are_open (void **st)
{
    (void)st;
    h_resp_t r;
    h_http (&r, s_bridge.url, "GET", API "/health", NULL, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "status", "ok");
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", API "/ready", NULL, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "status", "ready");
    h_http_free (&r);
}
/* ---------------------------------------------------------------- streams */
/*  Does errors[] have an entry whose path names field (with or without a
    leading "/", "$.", "." or "?"), with a message? */
static int
s_error_path (json_t *errors, const char *field)
{
    size_t i;
    json_t *e;
    json_array_foreach (errors, i, e)
    {
        const char *p = json_string_value (json_object_get (e, "path"));
        if (!p || !json_is_string (json_object_get (e, "message")))
            continue;
        while (*p == '/' || *p == '$' || *p == '.' || *p == '?')
            p++;
        if (!strcmp (p, field))
            return 1;
    }
    return 0;
}

static void
s_expect_stream (const h_resp_t *r, json_t *s)
{
    H_HAS_IN (*r, s, "id", 's');
    H_HAS_IN (*r, s, "name", 's');
    H_HAS_IN (*r, s, "created_at", '?');
    H_HAS_IN (*r, s, "events", 'i');
    H_HAS_IN (*r, s, "first_seq", 'i');
    H_HAS_IN (*r, s, "last_seq", 'i');
    H_HAS_IN (*r, s, "bytes", 'i');
    H_HAS_IN (*r, s, "last_event_at", '?');
}

static void
test_streams_are_created_read_renamed_and_deleted (void **st)
{
    (void)st;
    h_resp_t r;
    char id[128], path[300];
    h_http (&r, s_bridge.url, "POST", API "/streams", s_admin_key,
            "{\"name\":\"orders\"}", NULL);
    H_EXPECT_STATUS (r, 201);
    s_expect_stream (&r, r.json);
    H_EXPECT_STR (r, "name", "orders");
    assert_int_equal (json_integer_value (h_http_j (r.json, "events")), 0);
    snprintf (id, sizeof id, "%s", h_http_jstr (r.json, "id"));
    h_http_free (&r);

    h_http (&r, s_bridge.url, "POST", API "/streams", s_admin_key,
            "{\"name\":\"orders\"}", NULL);
    H_EXPECT_PROBLEM (r, 409, "EXISTS", NULL);
    h_http_free (&r);

    /* listed, with default; readable by every role */
    h_http (&r, s_bridge.url, "GET", API "/streams", s_consumer_key, NULL,
            NULL);
    H_EXPECT_STATUS (r, 200);
    H_HAS (r, "items", 'a');
    assert_true (
        h_http_array_has (h_http_j (r.json, "items"), "name", "orders"));
    assert_true (
        h_http_array_has (h_http_j (r.json, "items"), "name", "default"));
    h_http_free (&r);

    h_http (&r, s_bridge.url, "GET", API "/streams/orders", s_consumer_key,
            NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    s_expect_stream (&r, r.json);
    H_EXPECT_STR (r, "id", id);
    h_http_free (&r);
    snprintf (path, sizeof path, API "/streams/%s", id);
    h_http (&r, s_bridge.url, "GET", path, s_consumer_key, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "name", "orders");
    h_http_free (&r);

    h_http (&r, s_bridge.url, "PATCH", path, s_admin_key,
            "{\"name\":\"orders-v2\"}", NULL);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "id", id);
    H_EXPECT_STR (r, "name", "orders-v2");
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", API "/streams/orders-v2", s_admin_key,
            NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", API "/streams/orders", s_admin_key, NULL,
            NULL);
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);

    h_http (&r, s_bridge.url, "DELETE", path, s_admin_key, NULL, NULL);
    H_EXPECT_STATUS (r, 204);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", path, s_admin_key, NULL, NULL);
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
}

/*  A stream's retention over HTTP: set on POST, shown (null when none),
    replaced on PATCH, removed by null; bad types and ranges are 422 at
    their path. */
static void
test_stream_retention_is_set_shown_and_checked (void **st)
{
    (void)st;
    h_resp_t r;
    h_http (&r, s_bridge.url, "POST", API "/streams", s_admin_key,
            "{\"name\":\"kept\",\"retention\":{\"max_events\":5,"
            "\"after_groups\":true}}",
            NULL);
    H_EXPECT_STATUS (r, 201);
    assert_int_equal (
        json_integer_value (h_http_j (r.json, "retention.max_events")), 5);
    assert_true (json_is_true (h_http_j (r.json, "retention.after_groups")));
    assert_int_equal (
        json_integer_value (h_http_j (r.json, "retention.max_bytes")), 0);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "PATCH", API "/streams/kept", s_admin_key,
            "{\"retention\":{\"max_age_ms\":86400000}}", NULL);
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (
        json_integer_value (h_http_j (r.json, "retention.max_age_ms")),
        86400000);
    assert_int_equal (
        json_integer_value (h_http_j (r.json, "retention.max_events")), 0);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "PATCH", API "/streams/kept", s_admin_key,
            "{\"retention\":null}", NULL);
    H_EXPECT_STATUS (r, 200);
    assert_true (json_is_null (h_http_j (r.json, "retention")));
    h_http_free (&r);

    h_http (&r, s_bridge.url, "POST", API "/streams", s_admin_key,
            "{\"name\":\"bad-ret\",\"retention\":{\"max_events\":-1,"
            "\"after_groups\":1,\"keep\":2}}",
            NULL);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", NULL);
    assert_true (h_http_has_error (h_http_j (r.json, "errors"),
                                   "/retention/max_events", NULL));
    assert_true (h_http_has_error (h_http_j (r.json, "errors"),
                                   "/retention/after_groups", NULL));
    assert_true (h_http_has_error (h_http_j (r.json, "errors"),
                                   "/retention/keep", NULL));
    h_http_free (&r);
    h_http (&r, s_bridge.url, "POST", API "/streams", s_admin_key,
            "{\"name\":\"bad-ret\",\"retention\":{\"max_age_ms\":"
            "999999999999999}}",
            NULL);
    if (r.status != 422 || !strstr (r.body, "/retention/max_age_ms"))
        fail_msg ("out of range max_age_ms: %ld %s", r.status, r.body);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", API "/streams/bad-ret", s_admin_key, NULL,
            NULL);
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
}

static void
test_stream_with_a_bad_name_is_422 (void **st)
{
    (void)st;
    h_resp_t r;
    h_http (&r, s_bridge.url, "POST", API "/streams", s_admin_key,
            "{\"name\":\"bad name!\"}", NULL);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", NULL);
    H_HAS (r, "errors", 'a');
    if (!s_error_path (h_http_j (r.json, "errors"), "name"))
        fail_msg ("errors[] does not name the path name: %s", r.body);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "PATCH", API "/streams/default", s_admin_key,
            "{\"name\":\"bad name!\"}", NULL);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", NULL);
    if (!s_error_path (h_http_j (r.json, "errors"), "name"))
        fail_msg ("PATCH: errors[] does not name the path name: %s", r.body);
    h_http_free (&r);
    char body[400];
    memset (body, 0, sizeof body);
    strcpy (body, "{\"name\":\"");
    memset (body + strlen (body), 'n', 129); /* one over the 128 limit */
    strcat (body, "\"}");
    h_http (&r, s_bridge.url, "POST", API "/streams", s_admin_key, body, NULL);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", NULL);
    h_http_free (&r);
}

static void
test_stream_read_carries_its_event_statistics (void **st)
{
    (void)st;
    h_resp_t r;
    s_native_stream ("stats", NULL);
    for (int i = 0; i < 3; i++) {
        s_publish (&r, "stats", s_producer_key,
                   "{\"type\":\"s\",\"payload\":null}");
        H_EXPECT_STATUS (r, 202);
        h_http_free (&r);
    }
    h_http (&r, s_bridge.url, "GET", API "/streams/stats", s_consumer_key, NULL,
            NULL);
    H_EXPECT_STATUS (r, 200);
    s_expect_stream (&r, r.json);
    assert_int_equal (json_integer_value (h_http_j (r.json, "events")), 3);
    assert_int_equal (json_integer_value (h_http_j (r.json, "first_seq")), 1);
    assert_int_equal (json_integer_value (h_http_j (r.json, "last_seq")), 3);
    /* three stored records, and the newest one's time */
    assert_true (json_integer_value (h_http_j (r.json, "bytes")) > 3 * 60);
    assert_non_null (h_http_jstr (r.json, "last_event_at"));
    h_http_free (&r);
    /* an empty stream has no newest event */
    s_native_stream ("stats-empty", NULL);
    h_http (&r, s_bridge.url, "GET", API "/streams", s_consumer_key, NULL,
            NULL);
    H_EXPECT_STATUS (r, 200);
    json_t *it, *items = h_http_j (r.json, "items");
    size_t i;
    int seen = 0;
    json_array_foreach (items, i, it)
    {
        if (strcmp (h_http_jstr (it, "name"), "stats-empty"))
            continue;
        seen = 1;
        assert_true (json_is_null (h_http_j (it, "last_event_at")));
        assert_int_equal (json_integer_value (h_http_j (it, "bytes")), 0);
    }
    assert_true (seen);
    h_http_free (&r);
}

/*  POST /streams/check: a dry run answering 200 with the verdict, every
    fault by path (the bridge's own and the broker's alike); a stream
    named "check" is still reached by its name on the other methods. */
static void
test_stream_check_is_a_dry_run_answered_by_path (void **st)
{
    (void)st;
    h_resp_t r;
    h_http (&r, s_bridge.url, "POST", API "/streams/check", s_admin_key,
            "{\"name\":\"chk\",\"schema\":{\"type\":\"object\","
            "\"properties\":{\"a\":{\"type\":\"integer\"}}},"
            "\"pipeline\":[{\"type\":\"filter\",\"schema\":{}}],"
            "\"payload\":{\"a\": 1}}",
            NULL);
    H_EXPECT_STATUS (r, 200);
    assert_true (json_is_true (h_http_j (r.json, "valid")));
    assert_int_equal (json_array_size (h_http_j (r.json, "errors")), 0);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", API "/streams/chk", s_admin_key, NULL,
            NULL);
    H_EXPECT_STATUS (r, 404); /* nothing was made */
    h_http_free (&r);
    /* the broker's verdicts: schema, a step's patch, the payload's path */
    h_http (&r, s_bridge.url, "POST", API "/streams/check", s_admin_key,
            "{\"schema\":{\"type\":7},"
            "\"pipeline\":[{\"type\":\"transform\",\"patch\":[{\"op\":1}]}]}",
            NULL);
    H_EXPECT_STATUS (r, 200);
    assert_true (json_is_false (h_http_j (r.json, "valid")));
    assert_true (h_http_has_error (h_http_j (r.json, "errors"), "/schema",
                                   "invalid schema"));
    assert_true (h_http_has_error (h_http_j (r.json, "errors"),
                                   "/pipeline/0/patch", "invalid pipeline"));
    h_http_free (&r);
    h_http (&r, s_bridge.url, "POST", API "/streams/check", s_admin_key,
            "{\"schema\":{\"properties\":{\"a\":{\"type\":\"integer\"}}},"
            "\"payload\":{\"a\":\"x\"}}",
            NULL);
    H_EXPECT_STATUS (r, 200);
    assert_true (json_is_false (h_http_j (r.json, "valid")));
    assert_true (
        h_http_has_error (h_http_j (r.json, "errors"), "/payload/a", NULL));
    h_http_free (&r);
    /* the bridge's own: a schema that is not one, a bad name */
    h_http (&r, s_bridge.url, "POST", API "/streams/check", s_admin_key,
            "{\"name\":\"a b\",\"schema\":\"x\"}", NULL);
    H_EXPECT_STATUS (r, 200);
    assert_true (json_is_false (h_http_j (r.json, "valid")));
    assert_true (
        h_http_has_error (h_http_j (r.json, "errors"), "/schema", NULL));
    assert_true (h_http_has_error (h_http_j (r.json, "errors"), "/name", NULL));
    h_http_free (&r);
    /* admins only */
    h_http (&r, s_bridge.url, "POST", API "/streams/check", s_consumer_key,
            "{}", NULL);
    H_EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
    h_http_free (&r);
    /* a stream named check is checked as the stream being edited (the
       router's side: tests/unit/test_bridge_routes.c) */
    char path[200];
    h_http (&r, s_bridge.url, "POST", API "/streams", s_admin_key,
            "{\"name\":\"check\"}", NULL);
    H_EXPECT_STATUS (r, 201);
    snprintf (path, sizeof path, API "/streams/%s", h_http_jstr (r.json, "id"));
    h_http_free (&r);
    h_http (&r, s_bridge.url, "POST", API "/streams/check", s_admin_key,
            "{\"name\":\"check\",\"pipeline\":[{\"type\":\"route\","
            "\"stream\":\"check\"}]}",
            NULL);
    H_EXPECT_STATUS (r, 200);
    assert_true (h_http_has_error (h_http_j (r.json, "errors"), "/pipeline",
                                   "route cycle: check -> check"));
    h_http_free (&r);
    h_http (&r, s_bridge.url, "DELETE", path, s_admin_key, NULL, NULL);
    H_EXPECT_STATUS (r, 204);
    h_http_free (&r);
}

/* ---------------------------------------------------------------- ingest */

/*  j is the time ms, either as an integer of ms or an RFC 3339 string. */
static int
s_time_is (json_t *j, long long ms)
{
    if (json_is_integer (j))
        return json_integer_value (j) == ms;
    const char *s = json_string_value (j);
    struct tm tm = {0};
    if (!s || !strptime (s, "%Y-%m-%dT%H:%M:%S", &tm))
        return 0;
    return (long long)timegm (&tm) * 1000 == ms - ms % 1000;
}

static void
test_ingest_accepts_an_event_that_reads_back_whole (void **st)
{
    (void)st;
    h_resp_t r;
    char sid[64], eid[40], body[1024], path[300];
    s_native_stream ("ingest", sid);
    s_uuid (eid);
    snprintf (body, sizeof body,
              "{\"type\":\"order.created\",\"version\":2,"
              "\"occurred_at\":\"2024-05-06T07:08:09Z\",\"source\":\"shop\","
              "\"event_id\":\"%s\",\"context\":{\"trace_id\":\"t-1\","
              "\"correlation_id\":\"c-1\"},\"payload\":{\"n\":1,\"s\":\"x\"}}",
              eid);
    s_publish (&r, "ingest", s_producer_key, body);
    H_EXPECT_STATUS (r, 202);
    H_EXPECT_STR (r, "event_id", eid);
    H_EXPECT_STR (r, "status", "ACCEPTED");
    H_HAS (r, "received_at", '?');
    h_http_free (&r);

    /* read back by any role */
    snprintf (path, sizeof path, API "/events/%s", eid);
    h_http (&r, s_bridge.url, "GET", path, s_consumer_key, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    H_HAS (r, "id", 's');
    H_EXPECT_STR (r, "event_id", eid);
    H_EXPECT_STR (r, "stream_id", sid);
    H_HAS (r, "seq", 'i');
    assert_int_equal (json_integer_value (h_http_j (r.json, "seq")), 1);
    H_EXPECT_STR (r, "type", "order.created");
    H_HAS (r, "version", 'i');
    assert_int_equal (json_integer_value (h_http_j (r.json, "version")), 2);
    H_HAS (r, "occurred_at", '?');
    if (!s_time_is (h_http_j (r.json, "occurred_at"), 1714979289000LL))
        fail_msg ("occurred_at does not read back as 2024-05-06T07:08:09Z: "
                  "%s",
                  r.body);
    H_HAS (r, "received_at", '?');
    H_EXPECT_STR (r, "source", "shop");
    H_HAS (r, "api_key_id", 's'); /* the producer key's (ef_event_json) */
    H_EXPECT_STR (r, "context.trace_id", "t-1");
    H_EXPECT_STR (r, "context.correlation_id", "c-1");
    json_t *want = json_loads ("{\"n\":1,\"s\":\"x\"}", 0, NULL);
    if (!json_equal (h_http_j (r.json, "payload"), want))
        fail_msg ("payload does not read back as sent: %s", r.body);
    json_decref (want);
    H_EXPECT_STR (r, "status", "PROCESSED");
    H_HAS (r, "attempts", 'i');
    H_HAS (r, "last_error", '?');
    H_HAS (r, "result", '?');
    H_HAS (r, "processed_at", '?');
    h_http_free (&r);

    /* the stream named by its id */
    snprintf (path, sizeof path, API "/streams/%s/events", sid);
    h_http (&r, s_bridge.url, "POST", path, s_producer_key,
            "{\"type\":\"by.id\",\"payload\":0}", NULL);
    H_EXPECT_STATUS (r, 202);
    h_http_free (&r);

    /* occurred_at as ms; no event_id: one is generated */
    s_publish (&r, "ingest", s_producer_key,
               "{\"type\":\"t\",\"occurred_at\":1714979289000,"
               "\"payload\":[1,2]}");
    H_EXPECT_STATUS (r, 202);
    H_HAS (r, "event_id", 's');
    assert_int_equal (strlen (h_http_jstr (r.json, "event_id")), 36);
    snprintf (path, sizeof path, API "/events/%s",
              h_http_jstr (r.json, "event_id"));
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", path, s_admin_key, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_true (s_time_is (h_http_j (r.json, "occurred_at"), 1714979289000LL));
    assert_int_equal (json_integer_value (h_http_j (r.json, "version")), 1);
    h_http_free (&r);
}

static void
test_ingest_of_the_same_event_id_is_a_duplicate_with_the_original_time (
    void **st)
{
    (void)st;
    h_resp_t r;
    char eid[40], body[512];
    json_t *received;
    s_native_stream ("idem", NULL);
    s_uuid (eid);
    snprintf (body, sizeof body,
              "{\"type\":\"t\",\"event_id\":\"%s\",\"payload\":{\"a\":1}}",
              eid);
    s_publish (&r, "idem", s_producer_key, body);
    H_EXPECT_STATUS (r, 202);
    H_EXPECT_STR (r, "status", "ACCEPTED");
    received = json_incref (h_http_j (r.json, "received_at"));
    assert_non_null (received);
    h_http_free (&r);

    s_publish (&r, "idem", s_producer_key, body);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "event_id", eid);
    H_EXPECT_STR (r, "status", "DUPLICATE");
    if (!json_equal (h_http_j (r.json, "received_at"), received))
        fail_msg ("DUPLICATE's received_at is not the original: %s", r.body);
    h_http_free (&r);
    json_decref (received);
    assert_int_equal (s_native_count ("idem"), 1);
}

static void
test_batch_stores_the_valid_items_and_reports_the_bad_one (void **st)
{
    (void)st;
    h_resp_t r;
    char path[300];
    s_native_stream ("batch", NULL);
    s_publish (&r, "batch", s_producer_key,
               "[{\"type\":\"a\",\"payload\":1},"
               "{\"payload\":2},"
               "{\"type\":\"c\",\"payload\":3}]");
    H_EXPECT_STATUS (r, 202);
    H_HAS (r, "results", 'a');
    assert_int_equal (json_array_size (h_http_j (r.json, "results")), 3);
    for (int i = 0; i < 3; i += 2) {
        char p[64];
        snprintf (p, sizeof p, "results.%d.index", i);
        H_HAS (r, p, 'i');
        assert_int_equal (json_integer_value (h_http_j (r.json, p)), i);
        snprintf (p, sizeof p, "results.%d.event_id", i);
        H_HAS (r, p, 's');
        snprintf (p, sizeof p, "results.%d.status", i);
        H_EXPECT_STR (r, p, "ACCEPTED");
    }
    H_HAS (r, "results.1.index", 'i');
    assert_int_equal (json_integer_value (h_http_j (r.json, "results.1.index")),
                      1);
    H_HAS (r, "results.1.error", 'o');
    H_HAS (r, "results.1.error.code", 's');
    H_HAS (r, "results.1.error.message", 's');
    assert_null (h_http_j (r.json, "results.1.event_id"));
    snprintf (path, sizeof path, API "/events/%s",
              h_http_jstr (r.json, "results.2.event_id"));
    h_http_free (&r);
    assert_int_equal (s_native_count ("batch"), 2);
    h_http (&r, s_bridge.url, "GET", path, s_consumer_key, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "type", "c");
    assert_int_equal (json_integer_value (h_http_j (r.json, "seq")), 2);
    h_http_free (&r);
}

static void
test_seed_form_queues_into_the_default_stream (void **st)
{
    (void)st;
    h_resp_t r;
    char path[300], eid[64];
    ef_stream_info_t def;
    assert_int_equal (ef_client_get_stream (s_native, "default", &def), 0);
    h_http (&r, s_bridge.url, "POST", API "/events", s_producer_key,
            "{\"type\":\"seed.test\",\"payload\":{\"k\":\"v\"}}", NULL);
    H_EXPECT_STATUS (r, 202);
    H_HAS (r, "eventId", 's');
    H_EXPECT_STR (r, "status", "queued");
    snprintf (eid, sizeof eid, "%s", h_http_jstr (r.json, "eventId"));
    h_http_free (&r);

    snprintf (path, sizeof path, API "/events/%s", eid);
    h_http (&r, s_bridge.url, "GET", path, s_producer_key, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    H_HAS (r, "id", 's');
    H_HAS (r, "status", 's');
    H_HAS (r, "result", '?');
    H_EXPECT_STR (r, "event_id", eid);
    H_EXPECT_STR (r, "type", "seed.test");
    char want[64];
    snprintf (want, sizeof want, "%.*s", (int)def.id.len, def.id.ptr);
    H_EXPECT_STR (r, "stream_id", want);
    h_http_free (&r);
}

static void
test_event_list_is_newest_first_paged_and_filtered (void **st)
{
    (void)st;
    h_resp_t r;
    static const char *types[] = {"t.a", "t.b", "t.a", "t.b", "t.a"};
    static const char *sources[] = {"s1", "s2", "s1", "s1", "s2"};
    s_native_stream ("listing", NULL);
    long long before = (long long)time (NULL) * 1000 - 1000;
    for (int i = 0; i < 5; i++) {
        char body[200];
        snprintf (body, sizeof body,
                  "{\"type\":\"%s\",\"source\":\"%s\",\"payload\":%d}",
                  types[i], sources[i], i + 1);
        s_publish (&r, "listing", s_producer_key, body);
        H_EXPECT_STATUS (r, 202);
        h_http_free (&r);
    }
    h_http (&r, s_bridge.url, "GET", API "/events?stream=listing&limit=2",
            s_consumer_key, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    H_HAS (r, "items", 'a');
    H_HAS (r, "page", 'i');
    H_HAS (r, "limit", 'i');
    H_HAS (r, "has_more", 'b');
    assert_int_equal (json_array_size (h_http_j (r.json, "items")), 2);
    assert_int_equal (json_integer_value (h_http_j (r.json, "items.0.seq")), 5);
    assert_int_equal (json_integer_value (h_http_j (r.json, "items.1.seq")), 4);
    assert_int_equal (json_integer_value (h_http_j (r.json, "page")), 1);
    assert_int_equal (json_integer_value (h_http_j (r.json, "limit")), 2);
    assert_true (json_is_true (h_http_j (r.json, "has_more")));
    h_http_free (&r);

    h_http (&r, s_bridge.url, "GET",
            API "/events?stream=listing&limit=2&page=3", s_consumer_key, NULL,
            NULL);
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_array_size (h_http_j (r.json, "items")), 1);
    assert_int_equal (json_integer_value (h_http_j (r.json, "items.0.seq")), 1);
    assert_int_equal (json_integer_value (h_http_j (r.json, "page")), 3);
    assert_true (json_is_false (h_http_j (r.json, "has_more")));
    h_http_free (&r);

    h_http (&r, s_bridge.url, "GET", API "/events?stream=listing&type=t.b",
            s_consumer_key, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_array_size (h_http_j (r.json, "items")), 2);
    assert_int_equal (json_integer_value (h_http_j (r.json, "items.0.seq")), 4);
    assert_int_equal (json_integer_value (h_http_j (r.json, "items.1.seq")), 2);
    h_http_free (&r);

    h_http (&r, s_bridge.url, "GET", API "/events?stream=listing&source=s2",
            s_consumer_key, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_array_size (h_http_j (r.json, "items")), 2);
    assert_int_equal (json_integer_value (h_http_j (r.json, "items.0.seq")), 5);
    h_http_free (&r);

    h_http (&r, s_bridge.url, "GET",
            API "/events?stream=listing&status=PROCESSED", s_consumer_key, NULL,
            NULL);
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_array_size (h_http_j (r.json, "items")), 5);
    h_http_free (&r);

    char path[300];
    snprintf (path, sizeof path, API "/events?stream=listing&from=%lld",
              before);
    h_http (&r, s_bridge.url, "GET", path, s_consumer_key, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_array_size (h_http_j (r.json, "items")), 5);
    h_http_free (&r);
    snprintf (path, sizeof path, API "/events?stream=listing&to=%lld", before);
    h_http (&r, s_bridge.url, "GET", path, s_consumer_key, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_array_size (h_http_j (r.json, "items")), 0);
    h_http_free (&r);

    /* limit is at most 100: refused, or capped */
    h_http (&r, s_bridge.url, "GET", API "/events?limit=1000", s_consumer_key,
            NULL, NULL);
    if (r.status == 200)
        assert_true (json_integer_value (h_http_j (r.json, "limit")) <= 100);
    else {
        fprintf (stderr, "  limit=1000 answered %ld\n", r.status);
        assert_true (r.status == 400 || r.status == 422);
    }
    h_http_free (&r);
}
/*  limit and page are positive integers and from/to are times: a
    negative or overflowing one is refused like zero or "abc", not wrapped
    or capped into another number. */
static void
test_event_list_refuses_bad_numbers_in_the_query (void **st)
{
    (void)st;
    static const struct {
        const char *query, *field;
    } cases[] = {
        {"limit=0", "limit"},   {"limit=-1", "limit"},
        {"limit=abc", "limit"}, {"page=0", "page"},
        {"page=-3", "page"},    {"page=99999999999999999999999", "page"},
        {"from=-1", "from"},    {"to=18446744073709551616", "to"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        h_resp_t r;
        char path[200];
        snprintf (path, sizeof path, API "/events?%s", cases[i].query);
        h_http (&r, s_bridge.url, "GET", path, s_consumer_key, NULL, NULL);
        bad += !h_http_is_422_naming (&r, cases[i].field);
        h_http_free (&r);
    }
    if (bad)
        fail_msg ("%d of %zu queries are not refused with 422", bad,
                  sizeof cases / sizeof cases[0]);
}
/* ---------------------------------------------------------------- orgs */

static void
test_another_org_gets_404_for_this_orgs_stream_and_event (void **st)
{
    (void)st;
    h_resp_t r;
    char sid[64], eid[64], path[300], bearer[2200], email[128];
    s_native_stream ("private", sid);
    s_publish (&r, "private", s_producer_key,
               "{\"type\":\"secret\",\"payload\":{\"x\":1}}");
    H_EXPECT_STATUS (r, 202);
    snprintf (eid, sizeof eid, "%s", h_http_jstr (r.json, "event_id"));
    h_http_free (&r);

    /* a second org, natively, and its admin's access token */
    ef_request_t req = {0};
    const ef_reply_t *rep;
    snprintf (email, sizeof email, "other-%d@example.com", (int)getpid ());
    req.cmd = EF_CMD_REGISTER;
    req.email = ef_str (email);
    req.password = ef_str ("other-password");
    req.org_name = ef_str ("Other");
    assert_int_equal (ef_client_call (s_gateway, &req, NULL), 0);
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_LOGIN;
    req.email = ef_str (email);
    req.password = ef_str ("other-password");
    assert_int_equal (ef_client_call (s_gateway, &req, &rep), 0);
    char access[2048];
    h_reply_str (rep, "access_token", NULL, access, sizeof access);
    snprintf (bearer, sizeof bearer, "Authorization: Bearer %s", access);

    h_http (&r, s_bridge.url, "GET", API "/streams/private", bearer, NULL,
            NULL);
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
    snprintf (path, sizeof path, API "/streams/%s", sid);
    h_http (&r, s_bridge.url, "GET", path, bearer, NULL, NULL);
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
    snprintf (path, sizeof path, API "/events/%s", eid);
    h_http (&r, s_bridge.url, "GET", path, bearer, NULL, NULL);
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
    snprintf (path, sizeof path, API "/streams/%s/events", sid);
    h_http (&r, s_bridge.url, "POST", path, bearer,
            "{\"type\":\"intrude\",\"payload\":1}", NULL);
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", API "/streams", bearer, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_false (
        h_http_array_has (h_http_j (r.json, "items"), "name", "private"));
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", API "/events?limit=100", bearer, NULL,
            NULL);
    H_EXPECT_STATUS (r, 200);
    assert_false (
        h_http_array_has (h_http_j (r.json, "items"), "event_id", eid));
    h_http_free (&r);
    assert_int_equal (s_native_count ("private"), 1);
}

/* ---------------------------------------------------------------- headers */

static void
test_request_id_is_echoed_or_generated (void **st)
{
    (void)st;
    h_resp_t r;
    char first[160];
    const char *mine[] = {"X-Request-Id: req-abc-123", NULL};
    h_http (&r, s_bridge.url, "GET", API "/streams", s_consumer_key, NULL,
            mine);
    H_EXPECT_STATUS (r, 200);
    assert_string_equal (r.request_id, "req-abc-123");
    h_http_free (&r);
    /* on an error too */
    h_http (&r, s_bridge.url, "GET", API "/streams", NULL, NULL, mine);
    H_EXPECT_STATUS (r, 401);
    assert_string_equal (r.request_id, "req-abc-123");
    h_http_free (&r);

    h_http (&r, s_bridge.url, "GET", API "/streams", s_consumer_key, NULL,
            NULL);
    H_EXPECT_STATUS (r, 200);
    assert_true (strlen (r.request_id) > 0);
    snprintf (first, sizeof first, "%s", r.request_id);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", API "/streams", s_consumer_key, NULL,
            NULL);
    assert_true (strlen (r.request_id) > 0);
    assert_string_not_equal (first, r.request_id);
    h_http_free (&r);
}

static void
test_traceparent_and_correlation_id_fill_the_event_context (void **st)
{
    (void)st;
    h_resp_t r;
    char path[300];
    const char *hdr[] = {
        "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "X-Correlation-Id: corr-42", NULL};
    h_http (&r, s_bridge.url, "POST", API "/streams/default/events",
            s_producer_key, "{\"type\":\"traced\",\"payload\":true}", hdr);
    H_EXPECT_STATUS (r, 202);
    snprintf (path, sizeof path, API "/events/%s",
              h_http_jstr (r.json, "event_id"));
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", path, s_consumer_key, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "context.trace_id", "4bf92f3577b34da6a3ce929d0e0e4736");
    H_EXPECT_STR (r, "context.correlation_id", "corr-42");
    h_http_free (&r);
}

/* ---------------------------------------------------------------- errors */

static void
test_malformed_json_is_400_with_its_line_and_column (void **st)
{
    (void)st;
    h_resp_t r;
    s_publish (&r, "default", s_producer_key,
               "{\n  \"type\": \"x\",\n  \"payload\": {\"a\": }\n}");
    H_EXPECT_PROBLEM (r, 400, "MALFORMED_JSON", NULL);
    H_HAS (r, "line", 'i');
    H_HAS (r, "column", 'i');
    long long line = json_integer_value (h_http_j (r.json, "line"));
    long long col = json_integer_value (h_http_j (r.json, "column"));
    fprintf (stderr,
             "  malformed JSON reported at line %lld column %lld "
             "(the fault: line 3 column 20)\n",
             line, col);
    assert_int_equal (line, 3);
    assert_in_range (col, 19, 21);
    h_http_free (&r);

    s_publish (&r, "default", s_producer_key, "{\"type\":");
    H_EXPECT_PROBLEM (r, 400, "MALFORMED_JSON", NULL);
    H_HAS (r, "line", 'i');
    H_HAS (r, "column", 'i');
    h_http_free (&r);
    h_http (&r, s_bridge.url, "POST", API "/streams", s_admin_key,
            "{\"name\" \"x\"}", NULL);
    H_EXPECT_PROBLEM (r, 400, "MALFORMED_JSON", NULL);
    h_http_free (&r);
}

static void
test_missing_or_bad_credentials_are_401 (void **st)
{
    (void)st;
    h_resp_t r;
    h_http (&r, s_bridge.url, "GET", API "/streams", NULL, NULL, NULL);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", API "/streams",
            "X-API-Key: efk_0000000000000000_nope", NULL, NULL);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", API "/streams",
            "Authorization: Bearer not.a.jwt", NULL, NULL);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
    s_publish (&r, "default", NULL, "{\"type\":\"anon\",\"payload\":1}");
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
}

static void
test_a_consumer_key_publishing_is_403 (void **st)
{
    (void)st;
    h_resp_t r;
    uint64_t n = s_native_count ("default");
    s_publish (&r, "default", s_consumer_key,
               "{\"type\":\"nope\",\"payload\":1}");
    H_EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "POST", API "/events", s_consumer_key,
            "{\"type\":\"nope\",\"payload\":1}", NULL);
    H_EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
    h_http_free (&r);
    assert_int_equal (s_native_count ("default"), n);
}

static void
test_unknown_stream_event_and_route_are_404 (void **st)
{
    (void)st;
    h_resp_t r;
    h_http (&r, s_bridge.url, "GET",
            API "/events/0190a6b8-0000-7000-8000-000000000000", s_admin_key,
            NULL, NULL);
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", API "/streams/no-such-stream", s_admin_key,
            NULL, NULL);
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
    s_publish (&r, "no-such-stream", s_producer_key,
               "{\"type\":\"t\",\"payload\":1}");
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", API "/no-such-route", s_admin_key, NULL,
            NULL);
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
}

/*  Headers only, with Content-Length cl; the status of the answer that
    comes without the body being sent (0 if none within 5 s), and the
    answer into out (malloc'ed). */
static int
s_headers_only (const char *url, const char *cl, char **out)
{
    int fd = h_http_raw_connect (url);
    assert_true (fd >= 0);
    char req[1024];
    snprintf (req, sizeof req,
              "POST " API "/streams/default/events HTTP/1.1\r\n"
              "Host: 127.0.0.1\r\n%s\r\n"
              "Content-Type: application/json\r\n"
              "Content-Length: %s\r\n\r\n",
              s_producer_key, cl);
    h_http_raw_send (fd, req, strlen (req));
    char *resp = h_http_raw_read (fd, 5000);
    close (fd);
    int st = h_http_raw_status (resp);
    if (out)
        *out = resp;
    else
        free (resp);
    return st;
}

static void
test_a_content_length_over_the_limit_is_413_before_the_body (void **st)
{
    (void)st;
    h_resp_t r;
    char *resp;
    uint64_t n = s_native_count ("default");
    /* the small bridge: 4096 bytes; the body is never sent (its own
       check: an nginx in front, at 1m, would wait for the body) */
    int status = s_headers_only (s_small.direct, "100000", &resp);
    if (status != 413)
        fprintf (stderr,
                 "  headers-only POST with Content-Length 100000 to "
                 "a --max-body 4096 bridge: '%.300s'\n",
                 resp);
    assert_int_equal (status, 413);
    assert_non_null (strcasestr (resp, "application/problem+json"));
    assert_non_null (strstr (resp, "\"TOO_BIG\""));
    free (resp);
    /* the default bridge: 1 MiB */
    status = s_headers_only (s_bridge.url, "1048577", &resp);
    if (status != 413)
        fprintf (stderr,
                 "  headers-only POST with Content-Length 1048577: "
                 "'%.300s'\n",
                 resp);
    assert_int_equal (status, 413);
    free (resp);

    /* a whole body over the limit, and one under it */
    size_t big = 5000;
    char *body = malloc (big + 1);
    int k = snprintf (body, big + 1, "{\"type\":\"t\",\"payload\":\"");
    memset (body + k, 'x', big - (size_t)k - 2);
    memcpy (body + big - 2, "\"}", 3);
    h_http (&r, s_small.url, "POST", API "/streams/default/events",
            s_producer_key, body, NULL);
    H_EXPECT_PROBLEM (r, 413, "TOO_BIG", NULL);
    h_http_free (&r);
    body[3000 - 2] = '"', body[3000 - 1] = '}', body[3000] = 0;
    h_http (&r, s_small.url, "POST", API "/streams/default/events",
            s_producer_key, body, NULL);
    H_EXPECT_STATUS (r, 202);
    h_http_free (&r);
    free (body);
    assert_int_equal (s_native_count ("default"), n + 1);
}

static void
test_a_non_json_content_type_is_415 (void **st)
{
    (void)st;
    h_resp_t r;
    const char *text[] = {"Content-Type: text/plain", NULL};
    const char *form[] = {"Content-Type: application/x-www-form-urlencoded",
                          NULL};
    const char *charset[] = {"Content-Type: application/json; charset=utf-8",
                             NULL};
    h_http (&r, s_bridge.url, "POST", API "/streams/default/events",
            s_producer_key, "{\"type\":\"t\",\"payload\":1}", text);
    H_EXPECT_PROBLEM (r, 415, "UNSUPPORTED_MEDIA_TYPE", NULL);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "POST", API "/streams", s_admin_key, "name=x",
            form);
    H_EXPECT_PROBLEM (r, 415, "UNSUPPORTED_MEDIA_TYPE", NULL);
    h_http_free (&r);
    /* JSON with parameters is JSON */
    h_http (&r, s_bridge.url, "POST", API "/streams/default/events",
            s_producer_key, "{\"type\":\"t\",\"payload\":1}", charset);
    H_EXPECT_STATUS (r, 202);
    h_http_free (&r);
}

static void
test_a_rate_limited_key_gets_429_with_retry_after (void **st)
{
    (void)st;
    h_resp_t r;
    char key[200];
    assert_int_equal (s_native_key ("producer", 1, 1, key), 0);
    s_publish (&r, "default", key, "{\"type\":\"rl\",\"payload\":1}");
    H_EXPECT_STATUS (r, 202);
    h_http_free (&r);
    s_publish (&r, "default", key, "{\"type\":\"rl\",\"payload\":2}");
    H_EXPECT_PROBLEM (r, 429, "RATE_LIMITED", NULL);
    if (!r.retry_after[0])
        fail_msg ("429 without a Retry-After header");
    char *end;
    long secs = strtol (r.retry_after, &end, 10);
    if (*end || secs < 1)
        fail_msg ("Retry-After '%s' is not whole seconds >= 1", r.retry_after);
    h_http_free (&r);
}

static void
test_validation_lists_each_failing_path (void **st)
{
    (void)st;
    h_resp_t r;
    uint64_t n = s_native_count ("default");
    s_publish (&r, "default", s_producer_key, "{\"version\":1}");
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", NULL);
    H_HAS (r, "errors", 'a');
    if (!s_error_path (h_http_j (r.json, "errors"), "type") ||
        !s_error_path (h_http_j (r.json, "errors"), "payload"))
        fail_msg ("errors[] does not name both type and payload: %s", r.body);
    h_http_free (&r);

    s_publish (&r, "default", s_producer_key,
               "{\"type\":5,\"version\":\"two\",\"occurred_at\":\"yesterday\","
               "\"payload\":1}");
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", NULL);
    if (!s_error_path (h_http_j (r.json, "errors"), "type") ||
        !s_error_path (h_http_j (r.json, "errors"), "version") ||
        !s_error_path (h_http_j (r.json, "errors"), "occurred_at"))
        fail_msg ("errors[] does not name type, version and occurred_at: %s",
                  r.body);
    h_http_free (&r);

    /* a negative time is not a time; an empty type is no type */
    s_publish (&r, "default", s_producer_key,
               "{\"type\":\"t\",\"occurred_at\":-5,\"payload\":1}");
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", NULL);
    if (!s_error_path (h_http_j (r.json, "errors"), "occurred_at"))
        fail_msg ("errors[] does not name occurred_at: %s", r.body);
    h_http_free (&r);
    s_publish (&r, "default", s_producer_key, "{\"type\":\"\",\"payload\":1}");
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", NULL);
    if (!s_error_path (h_http_j (r.json, "errors"), "type"))
        fail_msg ("empty type: errors[] does not name type: %s", r.body);
    h_http_free (&r);

    /* one rule, one message: the bridge and the broker say the same
       (ef_event_rules) */
    char body[600], type[300];
    memset (type, 't', 300);
    type[299] = 0;
    snprintf (body, sizeof body, "{\"type\":\"%s\",\"payload\":1}", type);
    s_publish (&r, "default", s_producer_key, body);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", NULL);
    json_t *e0 = json_array_get (h_http_j (r.json, "errors"), 0);
    assert_string_equal (json_string_value (json_object_get (e0, "path")),
                         "/type");
    assert_string_equal (json_string_value (json_object_get (e0, "message")),
                         "is longer than 256 bytes");
    h_http_free (&r);
    /* version 0: the rule's path and message, the broker's text being
       "version must be at least 1" (test_broker_hostile) */
    s_publish (&r, "default", s_producer_key,
               "{\"type\":\"t\",\"version\":0,\"payload\":1}");
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", NULL);
    e0 = json_array_get (h_http_j (r.json, "errors"), 0);
    assert_string_equal (json_string_value (json_object_get (e0, "path")),
                         "/version");
    assert_string_equal (json_string_value (json_object_get (e0, "message")),
                         "must be at least 1");
    h_http_free (&r);
    ef_event_in_t ev = {0};
    ef_publish_result_t res = {0};
    ev.type = ef_str (type);
    ev.payload = ef_str ("1");
    assert_int_equal (ef_client_publish (s_native, "default", &ev, 1, &res), 0);
    assert_int_equal (res.code, EF_ETOOBIG);
    assert_int_equal (res.message.len,
                      strlen ("type is longer than 256 bytes"));
    assert_memory_equal (res.message.ptr, "type is longer than 256 bytes",
                         res.message.len);
    s_publish (&r, "default", s_producer_key,
               "{\"type\":\"t\",\"event_id\":\"nope\",\"payload\":1}");
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", NULL);
    e0 = json_array_get (h_http_j (r.json, "errors"), 0);
    assert_string_equal (json_string_value (json_object_get (e0, "path")),
                         "/event_id");
    assert_string_equal (json_string_value (json_object_get (e0, "message")),
                         "is not a UUID");
    h_http_free (&r);

    h_http (&r, s_bridge.url, "POST", API "/events", s_producer_key,
            "{\"type\":\"x\"}", NULL);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", NULL);
    if (!s_error_path (h_http_j (r.json, "errors"), "payload"))
        fail_msg ("seed form: errors[] does not name payload: %s", r.body);
    h_http_free (&r);
    assert_int_equal (s_native_count ("default"), n);
}

/* ---------------------------------------------------------------- metrics */

static void
test_metrics_are_open_prometheus_text_with_eventflow_names (void **st)
{
    (void)st;
    h_resp_t r;
    s_publish (&r, "default", s_producer_key, "{\"type\":\"m\",\"payload\":1}");
    H_EXPECT_STATUS (r, 202);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", API "/metrics", NULL, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    if (strncmp (r.ctype, "text/plain", 10))
        fail_msg ("/metrics Content-Type is '%s'", r.ctype);
    assert_non_null (r.body);
    if (!strstr (r.body, "eventflow_events_ingested_total"))
        fail_msg ("no eventflow_events_ingested_total in /metrics");
    if (!strstr (r.body, "eventflow_http_requests_total"))
        fail_msg ("no eventflow_http_requests_total in /metrics");
    h_http_free (&r);
}
int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_health_and_ready_are_open),
        cmocka_unit_test (test_streams_are_created_read_renamed_and_deleted),
        cmocka_unit_test (test_stream_with_a_bad_name_is_422),
        cmocka_unit_test (test_stream_retention_is_set_shown_and_checked),
        cmocka_unit_test (test_stream_read_carries_its_event_statistics),
        cmocka_unit_test (test_stream_check_is_a_dry_run_answered_by_path),
        cmocka_unit_test (test_ingest_accepts_an_event_that_reads_back_whole),
        cmocka_unit_test (
            test_ingest_of_the_same_event_id_is_a_duplicate_with_the_original_time),
        cmocka_unit_test (
            test_batch_stores_the_valid_items_and_reports_the_bad_one),
        cmocka_unit_test (test_seed_form_queues_into_the_default_stream),
        cmocka_unit_test (test_event_list_is_newest_first_paged_and_filtered),
        cmocka_unit_test (test_event_list_refuses_bad_numbers_in_the_query),
        cmocka_unit_test (
            test_another_org_gets_404_for_this_orgs_stream_and_event),
        cmocka_unit_test (test_request_id_is_echoed_or_generated),
        cmocka_unit_test (
            test_traceparent_and_correlation_id_fill_the_event_context),
        cmocka_unit_test (test_malformed_json_is_400_with_its_line_and_column),
        cmocka_unit_test (test_missing_or_bad_credentials_are_401),
        cmocka_unit_test (test_a_consumer_key_publishing_is_403),
        cmocka_unit_test (test_unknown_stream_event_and_route_are_404),
        cmocka_unit_test (
            test_a_content_length_over_the_limit_is_413_before_the_body),
        cmocka_unit_test (test_a_non_json_content_type_is_415),
        cmocka_unit_test (test_a_rate_limited_key_gets_429_with_retry_after),
        cmocka_unit_test (test_validation_lists_each_failing_path),
        cmocka_unit_test (
            test_metrics_are_open_prometheus_text_with_eventflow_names),
    };
    return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
