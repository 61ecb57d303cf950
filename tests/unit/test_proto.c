/*  test_proto.c: unit tests of ef_proto, the codec of wire protocol v1
    (schemas/protocol.md), its request side. Every request command is
    encoded, decoded and compared field by field; the decoder's refusals
    (missing, mistyped, unknown, too many) are checked with frames built by
    hand (ef_proto_check_event's limits are in test_proto_check.c).
    realloc is wrapped at link time (see CMakeLists.txt) so that a test can
    make buffer growth fail. Replies and records are in
    test_proto_reply.c; the fixture they share is u_proto.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eventflow/ef_error.h"
#include "eventflow/ef_mp.h"
#include "eventflow/ef_proto.h"

#include "u_proto.h"

static int s_realloc_fail;

void *__real_realloc (void *p, size_t n);

void *
__wrap_realloc (void *p, size_t n)
{
    return s_realloc_fail ? NULL : __real_realloc (p, n);
}

/* ---------------------------------------------------------------- helpers */

/*  Encode in into fx->b and decode it back into fx->req. */
static int
s_round_trip (u_proto_t *fx, const ef_request_t *in)
{
    ef_buf_reset (&fx->b);
    assert_int_equal (ef_proto_encode_request (&fx->b, in), 0);
    return ef_proto_decode_request (fx->b.data, fx->b.len, &fx->req, fx->events,
                                    8, NULL);
}

static int
s_decode (u_proto_t *fx, uint32_t max_events, const char **why)
{
    return ef_proto_decode_request (fx->b.data, fx->b.len, &fx->req, fx->events,
                                    max_events, why);
}

/*  The common header of a hand-built request: v, id, cmd (3 pairs). */
static void
s_head (ef_buf_t *b, uint32_t npairs, uint64_t v, uint64_t id, const char *cmd)
{
    ef_mp_map (b, npairs);
    u_kuint (b, "v", v);
    u_kuint (b, "id", id);
    u_kstr (b, "cmd", cmd);
}


#define T(f)                                                                   \
    cmocka_unit_test_setup_teardown (f, u_proto_setup, u_proto_teardown)

/* ---------------------------------------------------------------- requests */

static void
test_hello_request_round_trips_with_client_and_api_key (void **state)
{
    u_proto_t *fx = *state;
    ef_request_t in = {.id = 1,
                       .cmd = EF_CMD_HELLO,
                       .client = ef_str ("eventflow-cli/0.1"),
                       .auth_api_key = ef_str ("key-123")};
    assert_int_equal (s_round_trip (fx, &in), 0);
    assert_int_equal (fx->req.v, EF_PROTO_VERSION);
    assert_int_equal (fx->req.id, 1);
    assert_int_equal (fx->req.cmd, EF_CMD_HELLO);
    u_assert_str (fx->req.client, "eventflow-cli/0.1");
    u_assert_str (fx->req.auth_api_key, "key-123");
    u_assert_str (fx->req.auth_jwt, NULL);

    ef_request_t bare = {.id = 2, .cmd = EF_CMD_HELLO};
    assert_int_equal (s_round_trip (fx, &bare), 0);
    u_assert_str (fx->req.client, NULL);
    u_assert_str (fx->req.auth_api_key, NULL);
}

static void
test_ping_request_round_trips_with_jwt (void **state)
{
    u_proto_t *fx = *state;
    ef_request_t in = {.id = UINT64_MAX,
                       .cmd = EF_CMD_PING,
                       .auth_jwt = ef_str ("aaa.bbb.ccc")};
    assert_int_equal (s_round_trip (fx, &in), 0);
    assert_true (fx->req.id == UINT64_MAX);
    assert_int_equal (fx->req.cmd, EF_CMD_PING);
    u_assert_str (fx->req.auth_jwt, "aaa.bbb.ccc");
    u_assert_str (fx->req.auth_api_key, NULL);
}

static void
test_create_stream_request_round_trips (void **state)
{
    u_proto_t *fx = *state;
    ef_request_t in = {.id = 3,
                       .cmd = EF_CMD_CREATE_STREAM,
                       .name = ef_str ("orders.eu-1_v2")};
    assert_int_equal (s_round_trip (fx, &in), 0);
    assert_int_equal (fx->req.cmd, EF_CMD_CREATE_STREAM);
    u_assert_str (fx->req.name, "orders.eu-1_v2");
}

static void
test_list_streams_request_round_trips (void **state)
{
    u_proto_t *fx = *state;
    ef_request_t in = {.id = 4, .cmd = EF_CMD_LIST_STREAMS};
    assert_int_equal (s_round_trip (fx, &in), 0);
    assert_int_equal (fx->req.id, 4);
    assert_int_equal (fx->req.cmd, EF_CMD_LIST_STREAMS);
    u_assert_str (fx->req.stream, NULL);
}

static void
test_get_stream_request_round_trips (void **state)
{
    u_proto_t *fx = *state;
    ef_request_t in = {
        .id = 5, .cmd = EF_CMD_GET_STREAM, .stream = ef_str ("orders")};
    assert_int_equal (s_round_trip (fx, &in), 0);
    assert_int_equal (fx->req.cmd, EF_CMD_GET_STREAM);
    u_assert_str (fx->req.stream, "orders");
}

static void
test_publish_request_round_trips_every_optional_item_field (void **state)
{
    u_proto_t *fx = *state;
    ef_event_in_t ev[3] = {
        {.type = ef_str ("order.created"),
         .payload = ef_str ("{\"id\":42,\"items\":[1,2]}"),
         .event_id = ef_str (U_UUID_A),
         .source = ef_str ("web-shop"),
         .trace_id = ef_str ("trace-1"),
         .correlation_id = ef_str ("corr-1"),
         .occurred_at = 1700000000123ull,
         .version = 3},
        {.type = ef_str ("tick"), .payload = ef_str ("1")},
        {.type = ef_str ("t"),
         .payload = ef_str ("null"),
         .correlation_id = ef_str ("only-corr")},
    };
    ef_request_t in = {.id = 6,
                       .cmd = EF_CMD_PUBLISH,
                       .stream = ef_str ("orders"),
                       .events = ev,
                       .n_events = 3};
    assert_int_equal (s_round_trip (fx, &in), 0);
    assert_int_equal (fx->req.cmd, EF_CMD_PUBLISH);
    u_assert_str (fx->req.stream, "orders");
    assert_int_equal (fx->req.n_events, 3);
    assert_ptr_equal (fx->req.events, fx->events);

    ef_event_in_t *e = fx->req.events;
    assert_int_equal (e[0].err, 0);
    u_assert_str (e[0].type, "order.created");
    u_assert_str (e[0].payload, "{\"id\":42,\"items\":[1,2]}");
    u_assert_str (e[0].event_id, U_UUID_A);
    u_assert_str (e[0].source, "web-shop");
    u_assert_str (e[0].trace_id, "trace-1");
    u_assert_str (e[0].correlation_id, "corr-1");
    assert_true (e[0].occurred_at == 1700000000123ull);
    assert_int_equal (e[0].version, 3);

    assert_int_equal (e[1].err, 0);
    u_assert_str (e[1].type, "tick");
    u_assert_str (e[1].payload, "1");
    u_assert_str (e[1].event_id, NULL);
    u_assert_str (e[1].source, NULL);
    u_assert_str (e[1].trace_id, NULL);
    u_assert_str (e[1].correlation_id, NULL);
    assert_int_equal (e[1].occurred_at, 0);
    assert_int_equal (e[1].version, 0);

    assert_int_equal (e[2].err, 0);
    u_assert_str (e[2].trace_id, NULL);
    u_assert_str (e[2].correlation_id, "only-corr");

    for (int i = 0; i < 3; i++)
        assert_int_equal (ef_proto_check_event (&e[i], EF_MAX_PAYLOAD_DEFAULT),
                          0);
}

static void
test_get_event_request_round_trips_with_and_without_stream (void **state)
{
    u_proto_t *fx = *state;
    ef_request_t in = {.id = 7,
                       .cmd = EF_CMD_GET_EVENT,
                       .event_id = ef_str (U_UUID_A),
                       .stream = ef_str ("s")};
    assert_int_equal (s_round_trip (fx, &in), 0);
    assert_int_equal (fx->req.cmd, EF_CMD_GET_EVENT);
    u_assert_str (fx->req.event_id, U_UUID_A);
    u_assert_str (fx->req.stream, "s");

    in.stream = EF_STR_NULL;
    assert_int_equal (s_round_trip (fx, &in), 0);
    u_assert_str (fx->req.event_id, U_UUID_A);
    u_assert_str (fx->req.stream, NULL);
}

static void
test_read_request_round_trips_after_and_limit (void **state)
{
    u_proto_t *fx = *state;
    ef_request_t in = {.id = 8,
                       .cmd = EF_CMD_READ,
                       .stream = ef_str ("s"),
                       .after = 41,
                       .limit = 500};
    assert_int_equal (s_round_trip (fx, &in), 0);
    assert_int_equal (fx->req.cmd, EF_CMD_READ);
    u_assert_str (fx->req.stream, "s");
    assert_int_equal (fx->req.after, 41);
    assert_int_equal (fx->req.limit, 500);

    /* limit 0 means "the broker's default": it is not sent at all */
    in.limit = 0;
    in.after = 0;
    assert_int_equal (s_round_trip (fx, &in), 0);
    assert_int_equal (fx->req.after, 0);
    assert_int_equal (fx->req.limit, 0);
}

static void
test_list_events_request_round_trips_every_filter (void **state)
{
    u_proto_t *fx = *state;
    ef_request_t in = {.id = 9,
                       .cmd = EF_CMD_LIST_EVENTS,
                       .stream = ef_str ("orders"),
                       .type = ef_str ("a.b"),
                       .source = ef_str ("web"),
                       .status = ef_str ("PROCESSED"),
                       .from = 0,
                       .has_from = 1, /* 0 is a real bound */
                       .to = 1700000000999ull,
                       .has_to = 1,
                       .page = 3,
                       .limit = 50};
    assert_int_equal (s_round_trip (fx, &in), 0);
    assert_int_equal (fx->req.cmd, EF_CMD_LIST_EVENTS);
    u_assert_str (fx->req.stream, "orders");
    u_assert_str (fx->req.type, "a.b");
    u_assert_str (fx->req.source, "web");
    u_assert_str (fx->req.status, "PROCESSED");
    assert_int_equal (fx->req.has_from, 1);
    assert_int_equal (fx->req.from, 0);
    assert_int_equal (fx->req.has_to, 1);
    assert_true (fx->req.to == 1700000000999ull);
    assert_int_equal (fx->req.page, 3);
    assert_int_equal (fx->req.limit, 50);

    ef_request_t bare = {.id = 10, .cmd = EF_CMD_LIST_EVENTS};
    assert_int_equal (s_round_trip (fx, &bare), 0);
    u_assert_str (fx->req.stream, NULL);
    u_assert_str (fx->req.type, NULL);
    u_assert_str (fx->req.source, NULL);
    u_assert_str (fx->req.status, NULL);
    assert_int_equal (fx->req.has_from, 0);
    assert_int_equal (fx->req.has_to, 0);
    assert_int_equal (fx->req.page, 0);
    assert_int_equal (fx->req.limit, 0);
}

static void
test_stats_request_round_trips (void **state)
{
    u_proto_t *fx = *state;
    ef_request_t in = {.id = 11, .cmd = EF_CMD_STATS};
    assert_int_equal (s_round_trip (fx, &in), 0);
    assert_int_equal (fx->req.cmd, EF_CMD_STATS);
    assert_int_equal (fx->req.id, 11);
    ef_request_t series = {.id = 12,
                           .cmd = EF_CMD_STATS,
                           .seconds = 60,
                           .has_seconds = 1,
                           .total_only = 1};
    assert_int_equal (s_round_trip (fx, &series), 0);
    assert_int_equal (fx->req.seconds, 60);
    assert_int_equal (fx->req.has_seconds, 1);
    assert_int_equal (fx->req.total_only, 1);
}

static void
test_every_command_name_maps_back_to_its_command (void **state)
{
    u_proto_t *fx = *state;
    for (int c = EF_CMD_NONE + 1; c < EF_CMD_COUNT; c++) {
        const char *name = ef_cmd_name ((ef_cmd_t)c);
        assert_non_null (name);
        assert_int_equal (ef_cmd_from_name (ef_str (name)), c);
    }
    assert_null (ef_cmd_name (EF_CMD_NONE));
    assert_null (ef_cmd_name (EF_CMD_COUNT));
    assert_int_equal (ef_cmd_from_name (ef_str ("publish")), EF_CMD_NONE);
    assert_int_equal (ef_cmd_from_name (ef_str ("PUBLISHX")), EF_CMD_NONE);
    assert_int_equal (ef_cmd_from_name (EF_STR_NULL), EF_CMD_NONE);
    /* nothing is encoded for a command that does not exist */
    ef_request_t bad = {.id = 1, .cmd = EF_CMD_COUNT};
    assert_int_equal (ef_proto_encode_request (&fx->b, &bad), EF_EINVAL);
}

static void
test_encode_reports_enomem_when_the_buffer_cannot_grow (void **state)
{
    u_proto_t *fx = *state;
    ef_request_t in = {
        .id = 1, .cmd = EF_CMD_CREATE_STREAM, .name = ef_str ("orders")};
    s_realloc_fail = 1;
    int rc = ef_proto_encode_request (&fx->b, &in);
    s_realloc_fail = 0;
    assert_int_equal (rc, EF_ENOMEM);
    assert_int_equal (fx->b.oom, 1);
    /* and succeeds once memory is back */
    ef_buf_reset (&fx->b);
    assert_int_equal (ef_proto_encode_request (&fx->b, &in), 0);
}

/* ---------------------------------------------------------------- refusals */

static void
test_decode_rejects_missing_v_id_or_cmd_as_invalid (void **state)
{
    u_proto_t *fx = *state;
    const char *why = NULL;

    ef_mp_map (&fx->b, 2); /* no v */
    u_kuint (&fx->b, "id", 12);
    u_kstr (&fx->b, "cmd", "PING");
    assert_int_equal (s_decode (fx, 8, &why), EF_EINVAL);
    assert_non_null (why);
    assert_int_equal (fx->req.id, 12); /* still echoed in the error */

    ef_buf_reset (&fx->b);
    ef_mp_map (&fx->b, 2); /* no id */
    u_kuint (&fx->b, "v", 1);
    u_kstr (&fx->b, "cmd", "PING");
    assert_int_equal (s_decode (fx, 8, NULL), EF_EINVAL);
    assert_int_equal (fx->req.id, 0);

    ef_buf_reset (&fx->b);
    ef_mp_map (&fx->b, 2); /* no cmd */
    u_kuint (&fx->b, "v", 1);
    u_kuint (&fx->b, "id", 13);
    assert_int_equal (s_decode (fx, 8, NULL), EF_EINVAL);
    assert_int_equal (fx->req.id, 13);

    ef_buf_reset (&fx->b);
    ef_mp_map (&fx->b, 0);
    assert_int_equal (s_decode (fx, 8, NULL), EF_EINVAL);
}

static void
test_decode_answers_version_2_with_eversion_and_keeps_the_id (void **state)
{
    u_proto_t *fx = *state;
    s_head (&fx->b, 3, 2, 77, "PING");
    assert_int_equal (s_decode (fx, 8, NULL), EF_EVERSION);
    assert_int_equal (fx->req.id, 77);

    /* the version is judged before the command: a v2 peer may have new ones */
    ef_buf_reset (&fx->b);
    ef_mp_map (&fx->b, 3);
    u_kstr (&fx->b, "cmd", "SUBSCRIBE");
    u_kuint (&fx->b, "id", 78);
    u_kuint (&fx->b, "v", 2);
    assert_int_equal (s_decode (fx, 8, NULL), EF_EVERSION);
    assert_int_equal (fx->req.id, 78);
}

static void
test_decode_rejects_unknown_command_keeping_the_id (void **state)
{
    u_proto_t *fx = *state;
    const char *why = NULL;
    s_head (&fx->b, 3, 1, 79, "FROBNICATE");
    assert_int_equal (s_decode (fx, 8, &why), EF_EUNKNOWN_CMD);
    assert_int_equal (fx->req.id, 79);
    assert_non_null (why);
}

/*  A PUBLISH of n minimal items. */
static void
s_publish_frame (ef_buf_t *b, uint32_t n)
{
    s_head (b, 5, 1, 80, "PUBLISH");
    u_kstr (b, "stream", "s");
    ef_mp_key (b, "events");
    ef_mp_array (b, n);
    for (uint32_t i = 0; i < n; i++) {
        ef_mp_map (b, 2);
        u_kstr (b, "type", "t");
        u_kstr (b, "payload", "{}");
    }
}

static void
test_decode_rejects_more_events_than_max_as_too_big (void **state)
{
    u_proto_t *fx = *state;
    s_publish_frame (&fx->b, 3);
    assert_int_equal (s_decode (fx, 2, NULL), EF_ETOOBIG);
    assert_int_equal (fx->req.id, 80);
    assert_int_equal (s_decode (fx, 3, NULL), 0);
    assert_int_equal (fx->req.n_events, 3);
}

static void
test_decode_rejects_publish_without_events_or_with_none (void **state)
{
    u_proto_t *fx = *state;
    s_publish_frame (&fx->b, 0);
    assert_int_equal (s_decode (fx, 8, NULL), EF_EINVAL);

    ef_buf_reset (&fx->b);
    s_head (&fx->b, 4, 1, 81, "PUBLISH");
    u_kstr (&fx->b, "stream", "s");
    assert_int_equal (s_decode (fx, 8, NULL), EF_EINVAL);
}

static void
test_decode_rejects_commands_missing_their_required_field (void **state)
{
    u_proto_t *fx = *state;
    static const char *const cmds[] = {"CREATE_STREAM", "GET_STREAM", "READ",
                                       "GET_EVENT"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        ef_buf_reset (&fx->b);
        s_head (&fx->b, 3, 1, 82, cmds[i]);
        assert_int_equal (s_decode (fx, 8, NULL), EF_EINVAL);
        assert_int_equal (fx->req.id, 82);
    }
}

static void
test_decode_marks_only_the_items_with_a_mistyped_field (void **state)
{
    u_proto_t *fx = *state;
    s_head (&fx->b, 5, 1, 83, "PUBLISH");
    u_kstr (&fx->b, "stream", "s");
    ef_mp_key (&fx->b, "events");
    ef_mp_array (&fx->b, 5);
    /* 0: good */
    ef_mp_map (&fx->b, 2);
    u_kstr (&fx->b, "type", "first");
    u_kstr (&fx->b, "payload", "1");
    /* 1: type is an int */
    ef_mp_map (&fx->b, 2);
    u_kuint (&fx->b, "type", 5);
    u_kstr (&fx->b, "payload", "2");
    /* 2: version is a string, occurred_at a bool */
    ef_mp_map (&fx->b, 4);
    u_kstr (&fx->b, "type", "t");
    u_kstr (&fx->b, "version", "three");
    ef_mp_key (&fx->b, "occurred_at");
    ef_mp_bool (&fx->b, 1);
    u_kstr (&fx->b, "payload", "3");
    /* 3: not a map at all */
    ef_mp_array (&fx->b, 2);
    ef_mp_uint (&fx->b, 1);
    ef_mp_uint (&fx->b, 2);
    /* 4: good, with an unknown key (ignored) and nil optionals */
    ef_mp_map (&fx->b, 5);
    u_kstr (&fx->b, "type", "last");
    ef_mp_key (&fx->b, "future");
    ef_mp_map (&fx->b, 1);
    u_kuint (&fx->b, "x", 1);
    u_kstr (&fx->b, "event_id", NULL);
    u_kstr (&fx->b, "source", NULL);
    u_kstr (&fx->b, "payload", "5");

    assert_int_equal (s_decode (fx, 8, NULL), 0);
    assert_int_equal (fx->req.n_events, 5);
    ef_event_in_t *e = fx->req.events;
    assert_int_equal (e[0].err, 0);
    u_assert_str (e[0].type, "first");
    assert_int_equal (e[1].err, EF_EINVAL);
    assert_non_null (e[1].err_msg);
    u_assert_str (e[1].payload, "2"); /* read on past the bad field */
    assert_int_equal (e[2].err, EF_EINVAL);
    u_assert_str (e[2].payload, "3");
    assert_int_equal (e[3].err, EF_EINVAL);
    assert_int_equal (e[4].err, 0);
    u_assert_str (e[4].type, "last");
    u_assert_str (e[4].payload, "5");
    u_assert_str (e[4].event_id, NULL);
    u_assert_str (e[4].source, NULL);
    /* the item's fault survives the check, which reports it unchanged */
    assert_int_equal (ef_proto_check_event (&e[1], EF_MAX_PAYLOAD_DEFAULT),
                      EF_EINVAL);
}

/*  A PUBLISH whose first item has a bad field written by put, and a good
    second item. */
static void
s_publish_with_bad_first_item (ef_buf_t *b, void (*put) (ef_buf_t *))
{
    s_head (b, 5, 1, 84, "PUBLISH");
    u_kstr (b, "stream", "s");
    ef_mp_key (b, "events");
    ef_mp_array (b, 2);
    ef_mp_map (b, 3);
    put (b);
    u_kstr (b, "type", "t");
    u_kstr (b, "payload", "1");
    ef_mp_map (b, 2);
    u_kstr (b, "type", "second");
    u_kstr (b, "payload", "2");
}

static void
s_put_version_over_u32 (ef_buf_t *b)
{
    u_kuint (b, "version", 1ull << 32);
}

static void
s_put_context_string (ef_buf_t *b)
{
    u_kstr (b, "context", "trace-1");
}

static void
s_put_context_int_trace_id (ef_buf_t *b)
{
    ef_mp_key (b, "context");
    ef_mp_map (b, 2);
    u_kuint (b, "trace_id", 5);
    u_kstr (b, "correlation_id", "c");
}

static void
s_assert_only_first_item_marked (u_proto_t *fx)
{
    assert_int_equal (s_decode (fx, 8, NULL), 0);
    assert_int_equal (fx->req.n_events, 2);
    assert_int_equal (fx->req.events[0].err, EF_EINVAL);
    u_assert_str (fx->req.events[0].type, "t");
    assert_int_equal (fx->req.events[1].err, 0);
    u_assert_str (fx->req.events[1].type, "second");
    u_assert_str (fx->req.events[1].payload, "2");
}

static void
test_decode_marks_item_whose_version_exceeds_u32_and_reads_on (void **state)
{
    u_proto_t *fx = *state;
    s_publish_with_bad_first_item (&fx->b, s_put_version_over_u32);
    s_assert_only_first_item_marked (fx);
}

static void
test_decode_marks_item_whose_context_is_not_a_map (void **state)
{
    u_proto_t *fx = *state;
    s_publish_with_bad_first_item (&fx->b, s_put_context_string);
    s_assert_only_first_item_marked (fx);
}

static void
test_decode_marks_item_whose_trace_id_is_not_a_string (void **state)
{
    u_proto_t *fx = *state;
    s_publish_with_bad_first_item (&fx->b, s_put_context_int_trace_id);
    s_assert_only_first_item_marked (fx);
}

static void
test_decode_rejects_wrong_typed_top_level_field_as_invalid (void **state)
{
    u_proto_t *fx = *state;
    const char *why = NULL;

    s_head (&fx->b, 5, 1, 85, "READ");
    u_kstr (&fx->b, "stream", "s");
    u_kstr (&fx->b, "limit", "ten");
    assert_int_equal (s_decode (fx, 8, &why), EF_EINVAL);
    assert_non_null (why);
    assert_int_equal (fx->req.id, 85);

    ef_buf_reset (&fx->b);
    s_head (&fx->b, 4, 1, 86, "GET_STREAM");
    u_kuint (&fx->b, "stream", 5);
    assert_int_equal (s_decode (fx, 8, NULL), EF_EINVAL);

    ef_buf_reset (&fx->b);
    s_head (&fx->b, 5, 1, 87, "PUBLISH");
    u_kstr (&fx->b, "stream", "s");
    ef_mp_key (&fx->b, "events");
    ef_mp_map (&fx->b, 0); /* events must be an array */
    assert_int_equal (s_decode (fx, 8, NULL), EF_EINVAL);

    ef_buf_reset (&fx->b);
    s_head (&fx->b, 4, 1, 88, "PING");
    u_kstr (&fx->b, "auth", "key"); /* auth must be a map */
    assert_int_equal (s_decode (fx, 8, NULL), EF_EINVAL);

    ef_buf_reset (&fx->b);
    ef_mp_map (&fx->b, 3);
    u_kstr (&fx->b, "v", "1");
    u_kuint (&fx->b, "id", 89);
    u_kstr (&fx->b, "cmd", "PING");
    assert_int_equal (s_decode (fx, 8, NULL), EF_EINVAL);

    ef_buf_reset (&fx->b);
    ef_mp_map (&fx->b, 3);
    u_kuint (&fx->b, "v", 1);
    u_kuint (&fx->b, "id", 90);
    u_kuint (&fx->b, "cmd", 2);
    assert_int_equal (s_decode (fx, 8, NULL), EF_EINVAL);

    ef_buf_reset (&fx->b);
    s_head (&fx->b, 4, 1, 91, "LIST_EVENTS");
    u_kuint (&fx->b, "page", 1ull << 32); /* out of a u32's range */
    assert_int_equal (s_decode (fx, 8, NULL), EF_EINVAL);
}

/*  event_ids: an array of 1 to 1000 strings, kept as it travels (the
    handler walks it); more is TOO_BIG, an item that is not a string is
    INVALID, each naming event_ids. */
static void
test_decode_takes_a_list_of_ids_and_refuses_a_long_or_mistyped_one (
    void **state)
{
    u_proto_t *fx = *state;
    const char *why = NULL;
    ef_request_t q = {.cmd = EF_CMD_DLQ_DELETE, .id = 7};
    ef_buf_t ids;
    ef_buf_init (&ids);
    ef_mp_array (&ids, 2);
    ef_mp_cstr (&ids, "a");
    ef_mp_cstr (&ids, "bc");
    q.event_ids = (ef_str_t){ids.data, (uint32_t)ids.len};
    q.n_event_ids = 2;
    assert_int_equal (s_round_trip (fx, &q), 0);
    assert_int_equal (fx->req.n_event_ids, 2);
    assert_int_equal (fx->req.event_ids.len, ids.len);
    assert_memory_equal (fx->req.event_ids.ptr, ids.data, ids.len);
    ef_mpr_t r;
    uint32_t n;
    ef_str_t s;
    ef_mpr_init (&r, fx->req.event_ids.ptr, fx->req.event_ids.len);
    assert_int_equal (ef_mpr_array (&r, &n), 0);
    assert_int_equal (n, 2);
    assert_int_equal (ef_mpr_str (&r, &s), 0);
    assert_true (ef_str_eq (s, "a"));
    assert_int_equal (ef_mpr_str (&r, &s), 0);
    assert_true (ef_str_eq (s, "bc"));

    ef_buf_reset (&fx->b);
    s_head (&fx->b, 4, 1, 8, "DLQ_DELETE");
    ef_mp_key (&fx->b, "event_ids");
    ef_mp_array (&fx->b, EF_MAX_IDS + 1);
    for (uint32_t i = 0; i <= EF_MAX_IDS; i++)
        ef_mp_cstr (&fx->b, "x");
    assert_int_equal (s_decode (fx, 8, &why), EF_ETOOBIG);
    assert_string_equal (why, "event_ids has more than 1000 items");
    assert_int_equal (fx->req.id, 8);

    ef_buf_reset (&fx->b);
    s_head (&fx->b, 4, 1, 9, "DLQ_REPLAY");
    ef_mp_key (&fx->b, "event_ids");
    ef_mp_array (&fx->b, 2);
    ef_mp_cstr (&fx->b, "x");
    ef_mp_uint (&fx->b, 5);
    assert_int_equal (s_decode (fx, 8, &why), EF_EINVAL);
    assert_string_equal (why, "event_ids has the wrong type");

    /* none at all: DLQ_DELETE needs one of event_id, event_ids */
    ef_buf_reset (&fx->b);
    s_head (&fx->b, 4, 1, 10, "DLQ_DELETE");
    ef_mp_key (&fx->b, "event_ids");
    ef_mp_array (&fx->b, 0);
    assert_int_equal (s_decode (fx, 8, &why), EF_EINVAL);
    assert_string_equal (why, "event_id or event_ids is required");
    ef_buf_free (&ids);
}

static void
test_decode_rejects_frames_that_are_not_one_map_as_proto (void **state)
{
    u_proto_t *fx = *state;
    static const uint8_t huge[] = {0xdd, 0xff, 0x00, 0x00, 0x00};
    static const uint8_t array[] = {0x91, 0x01};
    static const uint8_t cut[] = {0x83, 0xa1, 'v', 0x01, 0xa2, 'i'};
    const char *why = NULL;
    assert_int_equal (ef_proto_decode_request (huge, sizeof huge, &fx->req,
                                               fx->events, 8, &why),
                      EF_EPROTO);
    assert_non_null (why);
    assert_int_equal (ef_proto_decode_request (array, sizeof array, &fx->req,
                                               fx->events, 8, NULL),
                      EF_EPROTO);
    assert_int_equal (ef_proto_decode_request (cut, sizeof cut, &fx->req,
                                               fx->events, 8, NULL),
                      EF_EPROTO);
    assert_int_equal (
        ef_proto_decode_request ("", 0, &fx->req, fx->events, 8, NULL),
        EF_EPROTO);
    /* one good request followed by garbage is not one request */
    s_head (&fx->b, 3, 1, 92, "PING");
    ef_mp_uint (&fx->b, 0);
    assert_int_equal (s_decode (fx, 8, NULL), EF_EPROTO);
}

static void
test_decode_ignores_unknown_keys (void **state)
{
    u_proto_t *fx = *state;
    s_head (&fx->b, 5, 1, 93, "PING");
    ef_mp_key (&fx->b, "added_in_v1_1");
    ef_mp_map (&fx->b, 1);
    ef_mp_key (&fx->b, "nested");
    ef_mp_array (&fx->b, 2);
    ef_mp_uint (&fx->b, 1);
    ef_mp_nil (&fx->b);
    u_kstr (&fx->b, "hint", "x");
    assert_int_equal (s_decode (fx, 8, NULL), 0);
    assert_int_equal (fx->req.cmd, EF_CMD_PING);
    assert_int_equal (fx->req.id, 93);
}

/* ---------------------------------------------------------------- issue 10 */

/*  A PUBLISH of one item whose field key holds the n bytes of v. */
static void
s_publish_item_text (ef_buf_t *b, const char *key, const char *v, size_t n)
{
    s_head (b, 5, 1, 90, "PUBLISH");
    u_kstr (b, "stream", "s");
    ef_mp_key (b, "events");
    ef_mp_array (b, 1);
    int ctx = strncmp (key, "context.", 8) == 0;
    int extra = strcmp (key, "type") != 0;
    ef_mp_map (b, 2 + extra);
    if (strcmp (key, "type") != 0)
        u_kstr (b, "type", "t");
    u_kstr (b, "payload", "{}");
    if (ctx) {
        ef_mp_key (b, "context");
        ef_mp_map (b, 1);
        ef_mp_key (b, key + 8);
    } else
        ef_mp_key (b, key);
    ef_mp_str (b, v, n);
}

/*  Byte strings that are not UTF-8: a stray continuation byte, a cut
    sequence, overlong forms of '/' and of U+0000, a surrogate encoded in
    UTF-8 (ED A0 80), a code point past U+10FFFF, and 0xFF. */
static const struct {
    const char *bytes;
    size_t n;
} s_not_utf8[] = {
    {"a\x80z", 3},       {"\xc3", 1},
    {"\xc0\xaf", 2},     {"\xe0\x80\xaf", 3},
    {"\xc0\x80", 2},     {"\xed\xa0\x80", 3},
    {"\xed\xbf\xbf", 3}, {"\xf4\x90\x80\x80", 4},
    {"\xff", 1},
};
#define S_NOT_UTF8 (sizeof s_not_utf8 / sizeof s_not_utf8[0])

static void
test_utf8_check_takes_every_valid_form_and_refuses_the_rest (void **state)
{
    (void)state;
    static const char *good[] = {"",
                                 "ascii",
                                 "caf\xc3\xa9",
                                 "\xe2\x82\xac",
                                 "\xf0\x9f\x98\x80",
                                 "\xef\xbf\xbf",
                                 "\xed\x9f\xbf",
                                 "\xf4\x8f\xbf\xbf"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true (ef_str_utf8 (ef_str (good[i])));
    /* unset (a nil field): empty, with no arithmetic on its NULL (UBSan
       stopped the decoder there; tests/fuzz/corpus/proto/regress-*) */
    assert_true (ef_str_utf8 (EF_STR_NULL));
    for (size_t i = 0; i < S_NOT_UTF8; i++)
        assert_false (ef_str_utf8 (
            (ef_str_t){s_not_utf8[i].bytes, (uint32_t)s_not_utf8[i].n}));
}

static void
test_decode_refuses_an_item_whose_text_fields_are_not_utf8 (void **state)
{
    u_proto_t *fx = *state;
    static const char *keys[] = {"type", "source", "event_id",
                                 "context.trace_id", "context.correlation_id"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        for (size_t i = 0; i < S_NOT_UTF8; i++) {
            ef_buf_reset (&fx->b);
            s_publish_item_text (&fx->b, keys[k], s_not_utf8[i].bytes,
                                 s_not_utf8[i].n);
            assert_int_equal (s_decode (fx, 8, NULL), 0);
            assert_int_equal (fx->events[0].err, EF_EINVAL);
            assert_non_null (strstr (fx->events[0].err_msg, "UTF-8"));
            assert_non_null (strstr (
                fx->events[0].err_msg,
                strchr (keys[k], '.') ? strchr (keys[k], '.') + 1 : keys[k]));
        }
}

static void
test_decode_refuses_request_text_fields_that_are_not_utf8_naming_them (
    void **state)
{
    u_proto_t *fx = *state;
    static const struct {
        const char *cmd, *key;
    } cases[] = {
        {"GET_STREAM", "stream"}, {"CREATE_STREAM", "name"},
        {"REGISTER", "email"},    {"REGISTER", "org_name"},
        {"FETCH", "group"},       {"LIST_EVENTS", "type"},
        {"READY", "service"},     {"FAIL", "reason"},
        {"PING", "request_id"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *why = NULL;
        ef_buf_reset (&fx->b);
        s_head (&fx->b, 4, 1, 91, cases[c].cmd);
        ef_mp_key (&fx->b, cases[c].key);
        ef_mp_str (&fx->b, "\xed\xa0\x80", 3);
        assert_int_equal (s_decode (fx, 8, &why), EF_EINVAL);
        assert_int_equal (fx->req.id, 91);
        assert_non_null (why);
        assert_non_null (strstr (why, cases[c].key));
        assert_non_null (strstr (why, "UTF-8"));
    }
    /* an API key's stream scope too */
    const char *why = NULL;
    ef_buf_reset (&fx->b);
    s_head (&fx->b, 5, 1, 92, "APIKEY_CREATE");
    u_kstr (&fx->b, "name", "k");
    ef_mp_key (&fx->b, "streams");
    ef_mp_array (&fx->b, 1);
    ef_mp_str (&fx->b, "\xc0\xaf", 2);
    assert_int_equal (s_decode (fx, 8, &why), EF_EINVAL);
    assert_non_null (strstr (why, "streams"));
}

/*  A request of cmd with one number key = v (and what cmd requires). */
static void
s_number_request (ef_buf_t *b, const char *cmd, const char *key, uint64_t v)
{
    int group = strcmp (cmd, "FETCH") == 0;
    int stream = group || strcmp (cmd, "READ") == 0;
    int service = strcmp (cmd, "READY") == 0;
    int sub = strcmp (cmd, "CREDIT") == 0;
    s_head (b, 4 + stream + group + service + sub, 1, 93, cmd);
    if (stream)
        u_kstr (b, "stream", "s");
    if (group)
        u_kstr (b, "group", "g");
    if (service)
        u_kstr (b, "service", "svc");
    if (sub)
        u_kuint (b, "sub", 7);
    u_kuint (b, key, v);
}

static void
test_decode_refuses_numbers_out_of_range_naming_them_never_clamping (
    void **state)
{
    u_proto_t *fx = *state;
    static const struct {
        const char *cmd, *key;
        uint64_t lo_bad, lo_ok, hi_ok, hi_bad; /* lo_bad UINT64_MAX: none */
    } cases[] = {
        {"READ", "limit", 0, 1, 10000, 10001},
        {"LIST_EVENTS", "limit", 0, 1, 100, 101},
        {"LIST_EVENTS", "page", 0, 1, 1000000, 1000001},
        {"DLQ_LIST", "limit", 0, 1, 100, 101},
        {"DLQ_LIST", "page", 0, 1, 1000000, 1000001},
        {"FETCH", "limit", 0, 1, 1000, 1001},
        {"FETCH", "timeout", UINT64_MAX, 0, 60000, 60001},
        {"CREDIT", "credit", 0, 1, 1000, UINT64_MAX},
        {"READY", "credit", 0, 1, 1000, UINT64_MAX},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint64_t vals[] = {cases[c].lo_bad, cases[c].lo_ok, cases[c].hi_ok,
                           cases[c].hi_bad};
        for (int i = 0; i < 4; i++) {
            const char *why = NULL;
            if (vals[i] == UINT64_MAX)
                continue;
            ef_buf_reset (&fx->b);
            s_number_request (&fx->b, cases[c].cmd, cases[c].key, vals[i]);
            int rc = s_decode (fx, 8, &why);
            if (i == 1 || i == 2) {
                assert_int_equal (rc, 0);
                continue;
            }
            assert_int_equal (rc, EF_EINVAL);
            assert_int_equal (fx->req.id, 93);
            assert_non_null (strstr (why, cases[c].key));
        }
    }
}

static void
test_decode_refuses_an_unknown_status_filter (void **state)
{
    u_proto_t *fx = *state;
    const char *why = NULL;
    s_head (&fx->b, 4, 1, 94, "LIST_EVENTS");
    u_kstr (&fx->b, "status", "DONE");
    assert_int_equal (s_decode (fx, 8, &why), EF_EINVAL);
    assert_non_null (strstr (why, "status"));
    ef_buf_reset (&fx->b);
    s_head (&fx->b, 4, 1, 94, "LIST_EVENTS");
    u_kstr (&fx->b, "status", "FAILED");
    assert_int_equal (s_decode (fx, 8, NULL), 0);
}

static void
test_decode_refuses_an_item_of_version_0_or_occurred_at_0 (void **state)
{
    u_proto_t *fx = *state;
    static const char *keys[] = {"version", "occurred_at"};
    for (int k = 0; k < 2; k++) {
        s_head (&fx->b, 5, 1, 95, "PUBLISH");
        ef_buf_reset (&fx->b);
        s_head (&fx->b, 5, 1, 95, "PUBLISH");
        u_kstr (&fx->b, "stream", "s");
        ef_mp_key (&fx->b, "events");
        ef_mp_array (&fx->b, 2);
        ef_mp_map (&fx->b, 3);
        u_kstr (&fx->b, "type", "t");
        u_kstr (&fx->b, "payload", "{}");
        u_kuint (&fx->b, keys[k], 0);
        ef_mp_map (&fx->b, 3);
        u_kstr (&fx->b, "type", "t");
        u_kstr (&fx->b, "payload", "{}");
        ef_mp_key (&fx->b, keys[k]);
        ef_mp_nil (&fx->b); /* nil is absent: the default */
        assert_int_equal (s_decode (fx, 8, NULL), 0);
        /* version 0 is refused by the rules (ef_event_rules, with the
           bridge's), which the broker's PUBLISH runs after the decode */
        assert_int_equal (ef_proto_check_event (&fx->events[0], 1024),
                          EF_EINVAL);
        assert_int_equal (fx->events[0].err, EF_EINVAL);
        assert_non_null (strstr (fx->events[0].err_msg, keys[k]));
        assert_int_equal (fx->events[1].err, 0);
        assert_int_equal (ef_proto_check_event (&fx->events[1], 1024), 0);
    }
}

static void
test_decode_echoes_the_id_whatever_fault_comes_before_it (void **state)
{
    u_proto_t *fx = *state;
    const char *why = NULL;
    /* v of the wrong type, then the id */
    ef_mp_map (&fx->b, 3);
    u_kstr (&fx->b, "v", "1");
    u_kuint (&fx->b, "id", 501);
    u_kstr (&fx->b, "cmd", "PING");
    assert_int_equal (s_decode (fx, 8, &why), EF_EINVAL);
    assert_int_equal (fx->req.id, 501);
    assert_non_null (strstr (why, "v "));

    /* an integer key, then the id */
    ef_buf_reset (&fx->b);
    ef_mp_map (&fx->b, 4);
    ef_mp_uint (&fx->b, 7);
    ef_mp_uint (&fx->b, 8);
    u_kuint (&fx->b, "v", 1);
    u_kuint (&fx->b, "id", 502);
    u_kstr (&fx->b, "cmd", "PING");
    assert_int_equal (s_decode (fx, 8, &why), EF_EINVAL);
    assert_int_equal (fx->req.id, 502);

    /* a mistyped nested field (auth a string), then the id */
    ef_buf_reset (&fx->b);
    ef_mp_map (&fx->b, 4);
    u_kuint (&fx->b, "v", 1);
    u_kstr (&fx->b, "auth", "efk_x");
    u_kstr (&fx->b, "cmd", "PING");
    u_kuint (&fx->b, "id", 503);
    assert_int_equal (s_decode (fx, 8, &why), EF_EINVAL);
    assert_int_equal (fx->req.id, 503);
    assert_non_null (strstr (why, "auth"));

    /* a frame malformed after its id: PROTO, with the id */
    ef_buf_reset (&fx->b);
    ef_mp_map (&fx->b, 4);
    u_kuint (&fx->b, "v", 1);
    u_kuint (&fx->b, "id", 504);
    u_kstr (&fx->b, "cmd", "PING");
    ef_mp_key (&fx->b, "deep");
    for (int i = 0; i < 40; i++)
        ef_mp_array (&fx->b, 1);
    ef_mp_nil (&fx->b);
    assert_int_equal (s_decode (fx, 8, NULL), EF_EPROTO);
    assert_int_equal (fx->req.id, 504);
    ef_buf_reset (&fx->b);
    ef_mp_map (&fx->b, 2);
    u_kuint (&fx->b, "v", 1);
    u_kuint (&fx->b, "id", 505);
    fx->b.data[0] = (char)0x83; /* claims a third pair it does not hold */
    assert_int_equal (s_decode (fx, 8, NULL), EF_EPROTO);
    assert_int_equal (fx->req.id, 505);
}

static void
test_request_id_and_traceparent_round_trip_and_are_checked (void **state)
{
    u_proto_t *fx = *state;
    static const char tp[] =
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    ef_request_t in = {0};
    in.cmd = EF_CMD_PING;
    in.id = 5;
    in.request_id = ef_str ("req-42");
    in.traceparent = ef_str (tp);
    assert_int_equal (s_round_trip (fx, &in), 0);
    u_assert_str (fx->req.request_id, "req-42");
    u_assert_str (fx->req.traceparent, tp);
    char trace[33];
    assert_int_equal (ef_proto_traceparent (ef_str (tp), trace), 0);
    assert_string_equal (trace, "4bf92f3577b34da6a3ce929d0e0e4736");

    static const char *bad_tp[] = {
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    };
    for (size_t i = 0; i < sizeof bad_tp / sizeof bad_tp[0]; i++) {
        const char *why = NULL;
        in.traceparent = ef_str (bad_tp[i]);
        assert_int_equal (s_round_trip (fx, &in), EF_EINVAL);
        ef_proto_decode_request (fx->b.data, fx->b.len, &fx->req, fx->events, 8,
                                 &why);
        assert_non_null (strstr (why, "traceparent"));
    }
    in.traceparent = EF_STR_NULL;
    char long_id[130];
    memset (long_id, 'r', 129);
    long_id[129] = 0;
    static const char *bad_id[] = {"", "has space", "tab\there"};
    for (size_t i = 0; i < 4; i++) {
        const char *why = NULL;
        in.request_id = ef_str (i < 3 ? bad_id[i] : long_id);
        ef_buf_reset (&fx->b);
        ef_proto_encode_request (&fx->b, &in);
        assert_int_equal (ef_proto_decode_request (fx->b.data, fx->b.len,
                                                   &fx->req, fx->events, 8,
                                                   &why),
                          EF_EINVAL);
        assert_non_null (strstr (why, "request_id"));
    }
}

static void
test_decode_takes_nil_for_an_absent_key (void **state)
{
    u_proto_t *fx = *state;
    const char *why = NULL;
    s_head (&fx->b, 6, 1, 96, "READ");
    u_kstr (&fx->b, "stream", "s");
    ef_mp_key (&fx->b, "limit");
    ef_mp_nil (&fx->b);
    ef_mp_key (&fx->b, "after");
    ef_mp_nil (&fx->b);
    assert_int_equal (s_decode (fx, 8, NULL), 0);
    assert_int_equal (fx->req.limit, 0); /* the default applies */
    ef_buf_reset (&fx->b);
    s_head (&fx->b, 4, 1, 97, "READ");
    ef_mp_key (&fx->b, "stream");
    ef_mp_nil (&fx->b);
    assert_int_equal (s_decode (fx, 8, &why), EF_EINVAL);
    assert_string_equal (why, "stream is required");
    assert_int_equal (fx->req.id, 97);
    /* in an item: nil type is a missing type */
    ef_buf_reset (&fx->b);
    s_head (&fx->b, 5, 1, 98, "PUBLISH");
    u_kstr (&fx->b, "stream", "s");
    ef_mp_key (&fx->b, "events");
    ef_mp_array (&fx->b, 1);
    ef_mp_map (&fx->b, 2);
    ef_mp_key (&fx->b, "type");
    ef_mp_nil (&fx->b);
    u_kstr (&fx->b, "payload", "1");
    assert_int_equal (s_decode (fx, 8, NULL), 0);
    assert_int_equal (ef_proto_check_event (&fx->events[0], 1024), EF_EINVAL);
    assert_string_equal (fx->events[0].err_msg, "type is required");
}


int
main (void)
{
    const struct CMUnitTest tests[] = {
        T (test_hello_request_round_trips_with_client_and_api_key),
        T (test_ping_request_round_trips_with_jwt),
        T (test_create_stream_request_round_trips),
        T (test_list_streams_request_round_trips),
        T (test_get_stream_request_round_trips),
        T (test_publish_request_round_trips_every_optional_item_field),
        T (test_get_event_request_round_trips_with_and_without_stream),
        T (test_read_request_round_trips_after_and_limit),
        T (test_list_events_request_round_trips_every_filter),
        T (test_stats_request_round_trips),
        T (test_every_command_name_maps_back_to_its_command),
        T (test_encode_reports_enomem_when_the_buffer_cannot_grow),
        T (test_decode_rejects_missing_v_id_or_cmd_as_invalid),
        T (test_decode_answers_version_2_with_eversion_and_keeps_the_id),
        T (test_decode_rejects_unknown_command_keeping_the_id),
        T (test_decode_rejects_more_events_than_max_as_too_big),
        T (test_decode_rejects_publish_without_events_or_with_none),
        T (test_decode_rejects_commands_missing_their_required_field),
        T (test_decode_marks_only_the_items_with_a_mistyped_field),
        T (test_decode_marks_item_whose_version_exceeds_u32_and_reads_on),
        T (test_decode_marks_item_whose_context_is_not_a_map),
        T (test_decode_marks_item_whose_trace_id_is_not_a_string),
        T (test_decode_takes_a_list_of_ids_and_refuses_a_long_or_mistyped_one),
        T (test_decode_rejects_wrong_typed_top_level_field_as_invalid),
        T (test_decode_rejects_frames_that_are_not_one_map_as_proto),
        T (test_decode_ignores_unknown_keys),
        T (test_utf8_check_takes_every_valid_form_and_refuses_the_rest),
        T (test_decode_refuses_an_item_whose_text_fields_are_not_utf8),
        T (test_decode_refuses_request_text_fields_that_are_not_utf8_naming_them),
        T (test_decode_refuses_numbers_out_of_range_naming_them_never_clamping),
        T (test_decode_refuses_an_unknown_status_filter),
        T (test_decode_refuses_an_item_of_version_0_or_occurred_at_0),
        T (test_decode_echoes_the_id_whatever_fault_comes_before_it),
        T (test_request_id_and_traceparent_round_trip_and_are_checked),
        T (test_decode_takes_nil_for_an_absent_key),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
