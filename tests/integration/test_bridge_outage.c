/*  The bridge while its broker is away. Once the bridge knows the broker
    is down (a disconnect, an unanswered request), every request is 503
    with Retry-After at once, not after the broker timeout: the bridges
    here wait 60 s for the broker, and the answers must come before the
    test's own 20 s deadline. An ingest 503 names the event_id each event
    was sent with (made by the bridge when the client gave none), and
    since such an event may have been stored all the same, a retry with
    that id is answered DUPLICATE when it was (a broker frozen with
    SIGSTOP stores it on SIGCONT) and stored once when it was not. When
    the broker is back, the first request is served. */
#define _GNU_SOURCE
#include "harness.h"
#include "h_fixture.h"
#include "h_http.h"

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

#define API    "/api/v1"
#define INGEST API "/streams/default/events"

/*  Longer than any deadline of these tests: an answer that waited for
    the broker could not come in time. */
#define S_BRIDGE_TIMEOUT "60000"
#define S_DEADLINE_MS    20000

typedef struct {
    char dir[256];
    h_broker_t broker;
    h_bridge_t bridge;
    ef_client_t *native;
    char producer_key[200];
    h_fixture_t fx;
} fixture_t;

static int
s_setup (void **state, const char *timeout)
{
    fixture_t *f = calloc (1, sizeof *f);
    *state = f;
    const char *extra[] = {"--timeout", timeout, NULL};
    f->fx = (h_fixture_t){.dir = f->dir,
                          .broker = &f->broker,
                          .native = &f->native,
                          .bridge = &f->bridge,
                          .bridge_flags = extra,
                          .producer_key = f->producer_key};
    return h_fixture_setup (&f->fx);
}

static int
setup_patient (void **state)
{
    return s_setup (state, S_BRIDGE_TIMEOUT);
}

static int
setup_hasty (void **state)
{
    return s_setup (state, "1000");
}

static int
teardown (void **state)
{
    fixture_t *f = *state;
    if (f->broker.pid > 0)
        kill (f->broker.pid, SIGCONT);
    int rc = h_fixture_teardown (&f->fx);
    free (f);
    return rc;
}

/*  POST body to the default stream, answered within the test deadline. */
static void
s_ingest (fixture_t *f, h_resp_t *r, const char *body)
{
    h_http_ex (r, f->bridge.url, "POST", INGEST, f->producer_key, body, NULL,
               S_DEADLINE_MS, NULL);
}

static void
s_expect_503 (const h_resp_t *r)
{
    H_EXPECT_PROBLEM (*r, 503, "UNAVAILABLE", NULL);
    if (!r->retry_after[0] || atoi (r->retry_after) < 1)
        fail_msg ("a 503 without Retry-After: %s", r->body);
}

static void
test_while_the_broker_is_known_down_requests_are_503_at_once (void **state)
{
    fixture_t *f = *state;
    h_resp_t r;
    char endpoint[256], body[512], id[64];
    snprintf (endpoint, sizeof endpoint, "%s", f->broker.endpoint);
    s_ingest (f, &r, "{\"type\":\"t\",\"payload\":0}");
    H_EXPECT_STATUS (r, 202);
    h_http_free (&r);

    ef_client_destroy (&f->native);
    assert_int_equal (h_broker_stop (&f->broker), 0);
    if (h_log_wait (f->bridge.log_path, "broker unreachable", 1, S_DEADLINE_MS))
        fail_msg ("the bridge never noticed the broker had gone; log: %s",
                  f->bridge.log_path);

    /* one event without an id: the bridge names the one it made */
    s_ingest (f, &r, "{\"type\":\"t\",\"payload\":1}");
    s_expect_503 (&r);
    H_HAS (r, "event_id", 's');
    snprintf (id, sizeof id, "%s", h_http_jstr (r.json, "event_id"));
    assert_int_equal (strlen (id), 36);
    h_http_free (&r);

    /* a batch: each item's id, the client's own kept, null for an item
       refused here */
    s_ingest (f, &r,
              "[{\"type\":\"t\",\"payload\":2},{\"type\":\"t\"},"
              "{\"type\":\"t\",\"payload\":3,\"event_id\":"
              "\"01a00000-0000-7000-8000-000000000003\"}]");
    s_expect_503 (&r);
    json_t *ids = h_http_j (r.json, "event_ids");
    assert_true (json_is_array (ids));
    assert_int_equal (json_array_size (ids), 3);
    assert_int_equal (strlen (json_string_value (json_array_get (ids, 0))), 36);
    assert_true (json_is_null (json_array_get (ids, 1)));
    assert_string_equal (json_string_value (json_array_get (ids, 2)),
                         "01a00000-0000-7000-8000-000000000003");
    h_http_free (&r);

    /* any route that needs the broker */
    h_http_ex (&r, f->bridge.url, "GET", API "/streams", f->producer_key, NULL,
               NULL, S_DEADLINE_MS, NULL);
    s_expect_503 (&r);
    h_http_free (&r);
    h_http_ex (&r, f->bridge.url, "GET", API "/health", NULL, NULL, NULL,
               S_DEADLINE_MS, NULL);
    H_EXPECT_STATUS (r, 200);
    h_http_free (&r);

    /* back on the same endpoint: the first request is served */
    const char *extra[] = {"--endpoint", endpoint, NULL};
    assert_int_equal (h_broker_start (&f->broker, f->dir, extra), 0);
    if (h_log_wait (f->bridge.log_path, "broker reachable", 1, S_DEADLINE_MS))
        fail_msg ("the bridge never saw the broker back; log: %s",
                  f->bridge.log_path);
    h_http_ex (&r, f->bridge.url, "GET", API "/ready", NULL, NULL, NULL,
               S_DEADLINE_MS, NULL);
    H_EXPECT_STATUS (r, 200);
    h_http_free (&r);

    /* the refused event was never sent: its retry is stored, once */
    snprintf (body, sizeof body,
              "{\"type\":\"t\",\"payload\":1,\"event_id\":\"%s\"}", id);
    s_ingest (f, &r, body);
    H_EXPECT_STATUS (r, 202);
    H_EXPECT_STR (r, "event_id", id);
    h_http_free (&r);
    s_ingest (f, &r, body);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "status", "DUPLICATE");
    h_http_free (&r);
}

static void
test_an_ingest_503_names_its_event_id_and_the_retry_is_a_duplicate (
    void **state)
{
    fixture_t *f = *state;
    h_resp_t r;
    char body[512], id[64];
    s_ingest (f, &r, "{\"type\":\"t\",\"payload\":0}");
    H_EXPECT_STATUS (r, 202);
    h_http_free (&r);

    /* frozen: the request reaches the broker, the answer does not come */
    assert_int_equal (kill (f->broker.pid, SIGSTOP), 0);
    s_ingest (f, &r, "{\"type\":\"t\",\"payload\":1}");
    s_expect_503 (&r);
    H_HAS (r, "event_id", 's');
    snprintf (id, sizeof id, "%s", h_http_jstr (r.json, "event_id"));
    h_http_free (&r);
    assert_int_equal (kill (f->broker.pid, SIGCONT), 0);

    /* woken, the broker stores what it was sent */
    ef_event_t ev;
    int rc = -1;
    long until = h_http_ms_now () + S_DEADLINE_MS;
    while (rc != 0 && h_http_ms_now () < until)
        rc = ef_client_get_event (f->native, id, NULL, &ev);
    assert_int_equal (rc, 0);

    /* so the client's retry with the id from the 503 is not stored twice */
    if (h_log_wait (f->bridge.log_path, "broker reachable", 1, S_DEADLINE_MS))
        fail_msg ("the bridge never saw the broker back; log: %s",
                  f->bridge.log_path);
    snprintf (body, sizeof body,
              "{\"type\":\"t\",\"payload\":1,\"event_id\":\"%s\"}", id);
    s_ingest (f, &r, body);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "status", "DUPLICATE");
    H_EXPECT_STR (r, "event_id", id);
    h_http_free (&r);
    ef_stream_info_t si;
    assert_int_equal (ef_client_get_stream (f->native, "default", &si), 0);
    assert_int_equal (si.events, 2);
}

int
main (void)
{
    curl_global_init (CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (
            test_while_the_broker_is_known_down_requests_are_503_at_once,
            setup_patient, teardown),
        cmocka_unit_test_setup_teardown (
            test_an_ingest_503_names_its_event_id_and_the_retry_is_a_duplicate,
            setup_hasty, teardown),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    curl_global_cleanup ();
    return rc;
}
