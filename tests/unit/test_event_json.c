/*  test_event_json.c: unit tests of ef_event_json, the one rendering of a
    stored event that the bridge answers and the CLI prints: every member
    of openapi.yaml's Event, in its order, times as RFC 3339, stored JSON
    kept, and on one line when asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "eventflow/ef_event_json.h"
#include "eventflow/ef_json.h"

static ef_event_t
s_event (void)
{
    ef_event_t ev;
    memset (&ev, 0, sizeof ev);
    ev.event_id = ef_str ("0190f3a2-7c1e-7b3a-9d2f-4e5a6b7c8d9e");
    ev.stream_id = ef_str ("s-1");
    ev.seq = 7;
    ev.type = ef_str ("order.created");
    ev.version = 2;
    ev.occurred_at = 1714979289000ull;
    ev.received_at = 1714979289123ull;
    ev.source = ef_str ("shop");
    ev.api_key_id = ef_str ("k-1");
    ev.trace_id = ef_str ("t-1");
    ev.request_id = ef_str ("r-1");
    ev.payload = ef_str ("{\"n\":\n1}");
    ev.status = ef_str ("PENDING");
    return ev;
}

static char *
s_render (const ef_event_t *ev, int flags)
{
    static char out[2048];
    ef_buf_t b;
    ef_buf_init (&b);
    ef_event_json (&b, ev, flags);
    assert_false (b.oom);
    assert_true (b.len < sizeof out);
    memcpy (out, b.data, b.len);
    out[b.len] = 0;
    ef_buf_free (&b);
    assert_int_equal (ef_json_validate (out, strlen (out), 8, NULL, NULL), 0);
    return out;
}

static void
test_every_member_in_order (void **state)
{
    (void)state;
    ef_event_t ev = s_event ();
    assert_string_equal (
        s_render (&ev, 0),
        "{\"id\":\"0190f3a2-7c1e-7b3a-9d2f-4e5a6b7c8d9e\","
        "\"event_id\":\"0190f3a2-7c1e-7b3a-9d2f-4e5a6b7c8d9e\","
        "\"stream_id\":\"s-1\",\"seq\":7,\"type\":\"order.created\","
        "\"version\":2,\"occurred_at\":\"2024-05-06T07:08:09.000Z\","
        "\"received_at\":\"2024-05-06T07:08:09.123Z\",\"source\":\"shop\","
        "\"api_key_id\":\"k-1\",\"context\":{\"trace_id\":\"t-1\","
        "\"correlation_id\":null,\"request_id\":\"r-1\"},"
        "\"payload\":{\"n\":\n1},\"status\":\"PENDING\",\"attempts\":0,"
        "\"last_error\":null,\"result\":null,\"processed_at\":null}");
}

static void
test_one_line_keeps_the_value (void **state)
{
    (void)state;
    ef_event_t ev = s_event ();
    ev.result = ef_str ("[1,\r\n2]");
    const char *out = s_render (&ev, EF_EVENT_JSON_LINE);
    assert_null (strchr (out, '\n'));
    assert_null (strchr (out, '\r'));
    assert_non_null (strstr (out, "\"payload\":{\"n\": 1}"));
    assert_non_null (strstr (out, "\"result\":[1,  2]"));
}

static void
test_absent_parts_are_null_and_bad_json_a_string (void **state)
{
    (void)state;
    ef_event_t ev = s_event ();
    ev.api_key_id = EF_STR_NULL;
    ev.request_id = EF_STR_NULL;
    ev.payload = ef_str ("{not json");
    ev.processed_at = 1714979290000ull;
    const char *out = s_render (&ev, 0);
    assert_non_null (strstr (out, "\"api_key_id\":null"));
    assert_null (strstr (out, "request_id"));
    assert_non_null (strstr (out, "\"payload\":\"{not json\""));
    assert_non_null (
        strstr (out, "\"processed_at\":\"2024-05-06T07:08:10.000Z\""));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_member_in_order),
        cmocka_unit_test (test_one_line_keeps_the_value),
        cmocka_unit_test (test_absent_parts_are_null_and_bad_json_a_string),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
