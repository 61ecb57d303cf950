/*  Two orgs on one broker, over HTTP and the native protocol, against a
    real broker and a real bridge (DESIGN.md §13): what one org does must
    not hide, nor stall, what another does.
    * Event ids resolve in the caller's org: when two orgs publish the
      same client-chosen event_id (in either order), each one's GET
      /events/{id}, GET_EVENT and /dlq/{id} (get, replay, delete) see its
      own event; in two streams of one org, GET /events/{id} answers the
      first stream created.
    * A hostile schema (fifty backtracking patterns under allOf) and a
      batch of 1000 hostile strings: another org's requests are answered
      while that batch is still being checked (the order of the replies
      is asserted, not a time), and every hostile item is refused with
      "the schema check exceeded its budget" (natively VALIDATION, over
      HTTP 422). */
#define _GNU_SOURCE
#include "harness.h"
#include "h_fixture.h"
#include "h_http.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_time.h"

#include <curl/curl.h>
#include <jansson.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define API        "/api/v1"
#define WAIT_MS    20000 /* a deadline for what must happen, not a timing */
#define BUDGET_MSG "the schema check exceeded its budget"

/* ---------------------------------------------------------------- fixture */

static char s_dir[256];
static h_broker_t s_broker;
static h_bridge_t s_bridge;
static ef_client_t *s_native;  /* org A's local admin */
static ef_client_t *s_gateway; /* the gateway key, acting for org B */
static char s_a[200];          /* org A: "X-API-Key: …" (admin) */
static char s_b[2200];         /* org B: "Authorization: Bearer …" */
/* --durability os: org B's publish must not wait on a disk the test does
   not measure */
static h_fixture_t s_fx = {
    .dir = s_dir,
    .broker = &s_broker,
    .native = &s_native,
    .bridge = &s_bridge,
    .admin_key = s_a,
    .gateway = &s_gateway,
    .broker_flags = (const char *const[]){"--durability", "os", NULL}};
static char s_b_jwt[2048];

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
    /* org B registers over HTTP and logs in */
    if (h_http_new_org (s_bridge.url, "b@example.com", "B", s_b_jwt,
                        sizeof s_b_jwt, s_b, sizeof s_b))
        return -1;
    ef_client_set_jwt (s_gateway, s_b_jwt);
    return 0;
}

static int
group_teardown (void **state)
{
    (void)state;
    return h_fixture_teardown (&s_fx);
}

/* ---------------------------------------------------------------- helpers */

/*  POST one event {type, event_id, payload {"org": org}} to stream as
    cred; expects 202 ACCEPTED. */
static void
s_publish_id (const char *cred, const char *stream, const char *id,
              const char *org)
{
    h_resp_t r;
    char path[300], body[400];
    snprintf (path, sizeof path, API "/streams/%s/events", stream);
    snprintf (body, sizeof body,
              "{\"type\":\"t\",\"event_id\":\"%s\",\"payload\":{\"org\":"
              "\"%s\"}}",
              id, org);
    s_http (&r, "POST", path, cred, body);
    H_EXPECT_STATUS (r, 202);
    H_EXPECT_STR (r, "status", "ACCEPTED");
    h_http_free (&r);
}

/*  POST /streams {name, …rest} as cred; expects 201. */
static void
s_create (const char *cred, const char *name, const char *rest)
{
    h_resp_t r;
    char body[8192];
    snprintf (body, sizeof body, "{\"name\":\"%s\"%s}", name, rest);
    s_http (&r, "POST", API "/streams", cred, body);
    H_EXPECT_STATUS (r, 201);
    h_http_free (&r);
}

/*  GET path as cred: 200, and the string at field is want. */
static void
s_expect_field (const char *cred, const char *path, const char *field,
                const char *want)
{
    h_resp_t r;
    s_http (&r, "GET", path, cred, NULL);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, field, want);
    h_http_free (&r);
}

/*  GET /dlq/{id} as cred until it answers 200 (the pipeline runs after
    the publish was answered); its payload's org is want. */
static void
s_wait_letter (const char *cred, const char *id, const char *want)
{
    char path[200];
    snprintf (path, sizeof path, API "/dlq/%s", id);
    long until = h_http_ms_now () + WAIT_MS;
    for (;;) {
        h_resp_t r;
        s_http (&r, "GET", path, cred, NULL);
        if (r.status == 200) {
            H_EXPECT_STR (r, "event.payload.org", want);
            h_http_free (&r);
            return;
        }
        H_EXPECT_STATUS (r, 404);
        h_http_free (&r);
        if (h_http_ms_now () > until)
            fail_msg ("no dead letter %s for org %s", id, want);
    }
}

/* ---------------------------------------------------------------- ids */

static void
test_the_same_event_id_in_two_orgs_is_two_events (void **st)
{
    (void)st;
    /* in both orders: the org that stored the id second also finds it */
    const char *ids[2] = {"01900000-0000-7000-8000-00000000a001",
                          "01900000-0000-7000-8000-00000000b002"};
    for (int order = 0; order < 2; order++) {
        const char *id = ids[order];
        if (order == 0) {
            s_publish_id (s_a, "default", id, "A");
            s_publish_id (s_b, "default", id, "B");
        } else {
            s_publish_id (s_b, "default", id, "B");
            s_publish_id (s_a, "default", id, "A");
        }
        char path[200];
        snprintf (path, sizeof path, API "/events/%s", id);
        s_expect_field (s_a, path, "payload.org", "A");
        s_expect_field (s_b, path, "payload.org", "B");
        /* natively: GET_EVENT as org A, and as org B through the gateway */
        ef_event_t ev;
        assert_int_equal (ef_client_get_event (s_native, id, NULL, &ev), 0);
        assert_non_null (memmem (ev.payload.ptr, ev.payload.len, "\"A\"", 3));
        assert_int_equal (ef_client_get_event (s_gateway, id, NULL, &ev), 0);
        assert_non_null (memmem (ev.payload.ptr, ev.payload.len, "\"B\"", 3));
    }
}

static void
test_dead_letters_are_found_by_id_in_the_callers_org (void **st)
{
    (void)st;
    /* a transform that always fails: every event is a dead letter */
    const char *dead = ",\"pipeline\":[{\"type\":\"transform\",\"patch\":"
                       "[{\"op\":\"remove\",\"path\":\"/nope\"}]}]";
    s_create (s_a, "dead", dead);
    s_create (s_b, "dead", dead);
    const char *ids[2] = {"01900000-0000-7000-8000-00000000d001",
                          "01900000-0000-7000-8000-00000000d002"};
    for (int order = 0; order < 2; order++) {
        const char *id = ids[order];
        const char *first = order ? s_b : s_a, *second = order ? s_a : s_b;
        s_publish_id (first, "dead", id, order ? "B" : "A");
        s_publish_id (second, "dead", id, order ? "A" : "B");
        s_wait_letter (s_a, id, "A");
        s_wait_letter (s_b, id, "B");
        char path[200];
        h_resp_t r;
        /* replay and delete act on the caller's letter only */
        snprintf (path, sizeof path, API "/dlq/%s/replay", id);
        s_http (&r, "POST", path, second, NULL);
        H_EXPECT_STATUS (r, 200);
        h_http_free (&r);
        s_wait_letter (s_a, id, "A");
        s_wait_letter (s_b, id, "B");
        snprintf (path, sizeof path, API "/dlq/%s", id);
        s_http (&r, "DELETE", path, second, NULL);
        H_EXPECT_STATUS (r, 204);
        h_http_free (&r);
        s_http (&r, "GET", path, second, NULL);
        H_EXPECT_STATUS (r, 404);
        h_http_free (&r);
        s_wait_letter (first, id, order ? "B" : "A");
    }
    /* A holds d001's letter, B d002's: a list of ids, and the reasons,
       see the caller's letters only */
    h_resp_t r;
    char body[200];
    snprintf (body, sizeof body, "{\"event_ids\":[\"%s\"]}", ids[1]);
    s_http (&r, "POST", API "/dlq/delete", s_a, body);
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_integer_value (h_http_j (r.json, "deleted")), 0);
    H_EXPECT_STR (r, "not_found.0", ids[1]);
    h_http_free (&r);
    snprintf (body, sizeof body, "{\"event_ids\":[\"%s\"]}", ids[0]);
    s_http (&r, "POST", API "/dlq/replay", s_b, body);
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_integer_value (h_http_j (r.json, "replayed")), 0);
    H_EXPECT_STR (r, "not_found.0", ids[0]);
    h_http_free (&r);
    s_wait_letter (s_a, ids[0], "A");
    s_wait_letter (s_b, ids[1], "B");
    s_http (&r, "GET", API "/dlq/reasons?stream=dead", s_b, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_integer_value (h_http_j (r.json, "items.0.count")),
                      1);
    assert_null (h_http_j (r.json, "items.1"));
    h_http_free (&r);
}

static void
test_an_id_in_two_streams_of_one_org_answers_the_first_stream (void **st)
{
    (void)st;
    const char *id = "01900000-0000-7000-8000-0000000000c1";
    s_create (s_a, "first", "");
    s_create (s_a, "second", "");
    s_publish_id (s_a, "second", id, "A2");
    s_publish_id (s_a, "first", id, "A1");
    char path[200];
    snprintf (path, sizeof path, API "/events/%s", id);
    s_expect_field (s_a, path, "payload.org", "A1");
}

/* ---------------------------------------------------------------- budget */

typedef struct {
    int done;
    int status;
    uint32_t n, over_budget;
} s_batch_t;

static void
s_on_batch (void *arg, int status, const ef_publish_result_t *res, uint32_t n)
{
    s_batch_t *b = arg;
    b->done = 1;
    b->status = status;
    b->n = n;
    for (uint32_t i = 0; status == 0 && i < n; i++)
        if (res[i].code == EF_EVALIDATION && res[i].message.ptr &&
            res[i].message.len == strlen (BUDGET_MSG) &&
            !memcmp (res[i].message.ptr, BUDGET_MSG, res[i].message.len))
            b->over_budget++;
}

static void
test_a_hostile_schema_does_not_stall_other_orgs (void **st)
{
    (void)st;
    char rest[4096] = ",\"schema\":{\"allOf\":[";
    for (int i = 0; i < 50; i++)
        strcat (rest, i ? ",{\"pattern\":\"^(a|aa)+$\"}"
                        : "{\"pattern\":\"^(a|aa)+$\"}");
    strcat (rest, "]}");
    s_create (s_a, "hostile", rest);

    /* org A sends 1000 hostile strings in one batch, and does not wait */
    const char *hostile =
        "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\"";
    static ef_event_in_t evs[1000];
    for (int i = 0; i < 1000; i++) {
        memset (&evs[i], 0, sizeof evs[i]);
        evs[i].type = ef_str ("t");
        evs[i].payload = ef_str (hostile);
    }
    ef_client_t *a = h_client (&s_broker);
    assert_non_null (a);
    ef_client_set_timeout (a, 120000);
    s_batch_t batch = {0};
    assert_int_equal (
        ef_client_publish_async (a, "hostile", evs, 1000, s_on_batch, &batch),
        0);

    /* org B is served meanwhile: a read and a publish, both answered
       before A's batch is (assert the order of replies, not a time) */
    ef_stream_info_t si;
    assert_int_equal (ef_client_get_stream (s_gateway, "default", &si), 0);
    ef_event_in_t ev = {0};
    ev.type = ef_str ("t");
    ev.payload = ef_str ("{\"b\":1}");
    ef_publish_result_t res;
    assert_int_equal (ef_client_publish (s_gateway, "default", &ev, 1, &res),
                      0);
    assert_int_equal (res.code, 0);
    assert_int_equal (ef_client_poll (a, 0), 0);
    assert_int_equal (batch.done, 0);

    /* then A's answer: every item refused, over budget */
    long until = h_http_ms_now () + 120000;
    while (!batch.done && h_http_ms_now () < until)
        ef_client_poll (a, 1000);
    assert_int_equal (batch.done, 1);
    assert_int_equal (batch.status, 0);
    assert_int_equal (batch.n, 1000);
    assert_int_equal (batch.over_budget, 1000);
    ef_client_destroy (&a);

    /* over HTTP: 422 with the message, alone and per item in a batch; the
       harmless item of the batch is stored */
    h_resp_t r;
    char body[512];
    snprintf (body, sizeof body, "{\"type\":\"t\",\"payload\":%s}", hostile);
    s_http (&r, "POST", API "/streams/hostile/events", s_a, body);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "/payload");
    assert_true (
        h_http_has_error (h_http_j (r.json, "errors"), "/payload", BUDGET_MSG));
    h_http_free (&r);
    snprintf (body, sizeof body,
              "[{\"type\":\"t\",\"payload\":%s},"
              "{\"type\":\"t\",\"payload\":\"aaaa\"}]",
              hostile);
    s_http (&r, "POST", API "/streams/hostile/events", s_a, body);
    H_EXPECT_STATUS (r, 202);
    H_EXPECT_STR (r, "results.0.error.code", "VALIDATION");
    H_EXPECT_STR (r, "results.0.error.message", BUDGET_MSG);
    H_EXPECT_STR (r, "results.1.status", "ACCEPTED");
    h_http_free (&r);
}

/*  A filter step with the hostile schema: the event FAILS with the
    budget's message (in the DLQ), it is not filtered after a long
    check. */
static void
test_a_hostile_filter_fails_the_event_with_the_budget_message (void **st)
{
    (void)st;
    s_create (s_a, "hostile-filter",
              ",\"pipeline\":[{\"type\":\"filter\",\"schema\":{\"allOf\":["
              "{\"pattern\":\"^(a|aa)+$\"},{\"pattern\":\"^(a|aa)+$\"}]}}]");
    const char *id = "01900000-0000-7000-8000-0000000000f1";
    h_resp_t r;
    s_http (&r, "POST", API "/streams/hostile-filter/events", s_a,
            "{\"type\":\"t\",\"event_id\":\"01900000-0000-7000-8000-"
            "0000000000f1\",\"payload\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            "aaaaaaaaaaaa!\"}");
    H_EXPECT_STATUS (r, 202);
    h_http_free (&r);
    char path[200];
    snprintf (path, sizeof path, API "/dlq/%s", id);
    long until = h_http_ms_now () + WAIT_MS;
    for (;;) {
        s_http (&r, "GET", path, s_a, NULL);
        if (r.status == 200)
            break;
        H_EXPECT_STATUS (r, 404);
        h_http_free (&r);
        if (h_http_ms_now () > until)
            fail_msg ("the hostile filter left no dead letter");
    }
    H_EXPECT_STR (r, "dead.last_error", BUDGET_MSG);
    H_EXPECT_STR (r, "event.status", "FAILED");
    h_http_free (&r);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_the_same_event_id_in_two_orgs_is_two_events),
        cmocka_unit_test (test_dead_letters_are_found_by_id_in_the_callers_org),
        cmocka_unit_test (
            test_an_id_in_two_streams_of_one_org_answers_the_first_stream),
        cmocka_unit_test (test_a_hostile_schema_does_not_stall_other_orgs),
        cmocka_unit_test (
            test_a_hostile_filter_fails_the_event_with_the_budget_message),
    };
    return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
