/*  test_proto_reply.c: unit tests of ef_proto's replies and records
    (schemas/protocol.md): error and ok replies, PUBLISH results, the
    event, stream, stats and HELLO shapes, each written and read back
    field by field. The request side is in test_proto.c. */
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

#define T(f)                                                                   \
    cmocka_unit_test_setup_teardown (f, u_proto_setup, u_proto_teardown)

/* ---------------------------------------------------------------- replies */

static void
test_error_reply_without_retry_after_round_trips (void **state)
{
    u_proto_t *fx = *state;
    ef_reply_t rep;
    ef_proto_reply_error (&fx->b, 42, EF_ENOTFOUND, "no such stream", 0);
    assert_int_equal (ef_proto_decode_reply (fx->b.data, fx->b.len, &rep), 0);
    assert_int_equal (rep.id, 42);
    assert_int_equal (rep.ok, 0);
    assert_int_equal (rep.code, EF_ENOTFOUND);
    u_assert_str (rep.err_name, "NOT_FOUND");
    u_assert_str (rep.err_message, "no such stream");
    assert_int_equal (rep.retry_after_ms, 0);

    /* the error map has exactly code, name, message */
    ef_mpr_t r;
    uint32_t n;
    assert_int_equal (ef_proto_reply_find (&rep, "error", &r), 0);
    assert_int_equal (ef_mpr_map (&r, &n), 0);
    assert_int_equal (n, 3);
}

static void
test_rate_limited_error_reply_carries_retry_after_ms (void **state)
{
    u_proto_t *fx = *state;
    ef_reply_t rep;
    ef_proto_reply_error (&fx->b, 43, EF_ERATE, NULL, 1500);
    assert_int_equal (ef_proto_decode_reply (fx->b.data, fx->b.len, &rep), 0);
    assert_int_equal (rep.id, 43);
    assert_int_equal (rep.ok, 0);
    assert_int_equal (rep.code, EF_ERATE);
    u_assert_str (rep.err_name, "RATE_LIMITED");
    u_assert_str (rep.err_message, ef_strerror (EF_ERATE));
    assert_int_equal (rep.retry_after_ms, 1500);
}

static void
test_error_reply_with_out_of_range_code_is_read_by_name (void **state)
{
    u_proto_t *fx = *state;
    ef_reply_t rep;
    ef_mp_map (&fx->b, 3);
    u_kuint (&fx->b, "id", 44);
    ef_mp_key (&fx->b, "ok");
    ef_mp_bool (&fx->b, 0);
    ef_mp_key (&fx->b, "error");
    ef_mp_map (&fx->b, 3);
    u_kuint (&fx->b, "code", 9999);
    u_kstr (&fx->b, "name", "EXISTS");
    u_kstr (&fx->b, "message", "taken");
    assert_int_equal (ef_proto_decode_reply (fx->b.data, fx->b.len, &rep), 0);
    assert_int_equal (rep.code, EF_EEXISTS);
}

static void
test_ok_reply_exposes_its_keys_and_rejects_malformed_frames (void **state)
{
    u_proto_t *fx = *state;
    ef_reply_t rep;
    ef_mpr_t r;
    uint64_t now;
    ef_proto_reply_ok (&fx->b, 45, 1);
    u_kuint (&fx->b, "now", 1700000000000ull);
    assert_int_equal (ef_proto_decode_reply (fx->b.data, fx->b.len, &rep), 0);
    assert_int_equal (rep.id, 45);
    assert_int_equal (rep.ok, 1);
    assert_int_equal (rep.code, 0);
    assert_int_equal (rep.nkeys, 3);
    assert_int_equal (ef_proto_reply_find (&rep, "now", &r), 0);
    assert_int_equal (ef_mpr_uint (&r, &now), 0);
    assert_true (now == 1700000000000ull);
    assert_int_equal (ef_proto_reply_find (&rep, "missing", &r), EF_ENOTFOUND);

    /* cut short in a value past id and ok: the reply is read lazily, and
       the cut value fails when it is read, never past the frame's end */
    assert_int_equal (ef_proto_decode_reply (fx->b.data, fx->b.len - 1, &rep),
                      0);
    assert_int_equal (ef_proto_reply_find (&rep, "now", &r), 0);
    assert_int_equal (ef_mpr_uint (&r, &now), EF_EPROTO);
    /* cut short before ok, not a map, or without ok */
    assert_int_equal (ef_proto_decode_reply (fx->b.data, 4, &rep), EF_EPROTO);
    static const uint8_t arr[] = {0x90};
    assert_int_equal (ef_proto_decode_reply (arr, sizeof arr, &rep), EF_EPROTO);
    ef_buf_reset (&fx->b);
    ef_mp_map (&fx->b, 1);
    u_kuint (&fx->b, "id", 1);
    assert_int_equal (ef_proto_decode_reply (fx->b.data, fx->b.len, &rep),
                      EF_EPROTO);
}

static void
test_publish_results_round_trip_accepted_duplicate_and_item_error (void **state)
{
    u_proto_t *fx = *state;
    ef_publish_result_t in[4] = {
        {.event_id = ef_str (U_UUID_A), .seq = 10, .received_at = 1000},
        {.event_id = ef_str ("0190a1b2-c3d4-7e5f-8a9b-000000000001"),
         .seq = 3,
         .received_at = 900,
         .duplicate = 1},
        {.code = EF_ETOOBIG,
         .index = 2,
         .message = ef_str ("payload is larger than the limit")},
        {.code = EF_EINVAL, .index = 3}, /* no message: ef_strerror's */
    };
    ef_proto_reply_ok (&fx->b, 46, 1);
    ef_mp_key (&fx->b, "results");
    ef_mp_array (&fx->b, 4);
    for (int i = 0; i < 4; i++)
        ef_proto_write_result (&fx->b, &in[i]);

    ef_reply_t rep;
    ef_mpr_t r;
    uint32_t n;
    ef_publish_result_t out;
    assert_int_equal (ef_proto_decode_reply (fx->b.data, fx->b.len, &rep), 0);
    assert_int_equal (ef_proto_reply_find (&rep, "results", &r), 0);
    assert_int_equal (ef_mpr_array (&r, &n), 0);
    assert_int_equal (n, 4);

    assert_int_equal (ef_proto_read_result (&r, &out), 0);
    assert_int_equal (out.code, 0);
    u_assert_str (out.event_id, U_UUID_A);
    assert_int_equal (out.seq, 10);
    assert_int_equal (out.received_at, 1000);
    assert_int_equal (out.duplicate, 0);

    assert_int_equal (ef_proto_read_result (&r, &out), 0);
    assert_int_equal (out.code, 0);
    u_assert_str (out.event_id, "0190a1b2-c3d4-7e5f-8a9b-000000000001");
    assert_int_equal (out.seq, 3);
    assert_int_equal (out.received_at, 900);
    assert_int_equal (out.duplicate, 1);

    assert_int_equal (ef_proto_read_result (&r, &out), 0);
    assert_int_equal (out.code, EF_ETOOBIG);
    assert_int_equal (out.index, 2);
    u_assert_str (out.message, "payload is larger than the limit");
    u_assert_str (out.event_id, NULL);

    assert_int_equal (ef_proto_read_result (&r, &out), 0);
    assert_int_equal (out.code, EF_EINVAL);
    assert_int_equal (out.index, 3);
    u_assert_str (out.message, ef_strerror (EF_EINVAL));
    assert_int_equal (ef_mpr_peek (&r), EF_MP_NONE);
}

static ef_event_t
s_full_event (void)
{
    ef_event_t ev = {
        .event_id = ef_str (U_UUID_A),
        .stream_id = ef_str ("0190a1b2-0000-7000-8000-000000000000"),
        .type = ef_str ("order.created"),
        .source = ef_str ("web"),
        .api_key_id = ef_str ("key-7"),
        .trace_id = ef_str ("trace-9"),
        .correlation_id = ef_str ("corr-9"),
        .payload = ef_str ("{\"total\":12.5e3}"),
        .status = ef_str ("FAILED"),
        .last_error = ef_str ("worker crashed"),
        .result = ef_str ("{\"ok\":false}"),
        .seq = 1234567,
        .occurred_at = 1700000000001ull,
        .received_at = 1700000000002ull,
        .processed_at = 1700000000003ull,
        .version = 2,
        .attempts = 4,
    };
    return ev;
}

static void
s_assert_event_equal (const ef_event_t *a, const ef_event_t *b)
{
#define S(f)                                                                   \
    do {                                                                       \
        assert_int_equal (ef_str_set (a->f), ef_str_set (b->f));               \
        if (ef_str_set (a->f)) {                                               \
            assert_int_equal (a->f.len, b->f.len);                             \
            assert_memory_equal (a->f.ptr, b->f.ptr, a->f.len);                \
        }                                                                      \
    } while (0)
    S (event_id);
    S (stream_id);
    S (type);
    S (source);
    S (api_key_id);
    S (trace_id);
    S (correlation_id);
    S (payload);
    S (status);
    S (last_error);
    S (result);
#undef S
    assert_true (a->seq == b->seq);
    assert_true (a->occurred_at == b->occurred_at);
    assert_true (a->received_at == b->received_at);
    assert_true (a->processed_at == b->processed_at);
    assert_int_equal (a->version, b->version);
    assert_int_equal (a->attempts, b->attempts);
}

static void
test_event_written_as_head_record_state_round_trips (void **state)
{
    u_proto_t *fx = *state;
    ef_event_t in = s_full_event (), out;

    /* the record kept as bytes (as the store does), then framed */
    ef_proto_write_event_record (&fx->aux, &in);
    ef_proto_write_event_head (&fx->b, in.stream_id, in.seq);
    ef_buf_append (&fx->b, fx->aux.data, fx->aux.len);
    ef_proto_write_event_state (&fx->b, &in);
    assert_int_equal (ef_mp_validate (fx->b.data, fx->b.len, 16), 0);

    ef_mpr_t r;
    ef_mpr_init (&r, fx->b.data, fx->b.len);
    assert_int_equal (ef_proto_read_event (&r, &out), 0);
    assert_int_equal (ef_mpr_peek (&r), EF_MP_NONE);
    s_assert_event_equal (&in, &out);

    /* the whole-event writer produces the very same bytes */
    ef_buf_t whole;
    ef_buf_init (&whole);
    ef_proto_write_event (&whole, &in);
    assert_int_equal (whole.len, fx->b.len);
    assert_memory_equal (whole.data, fx->b.data, whole.len);
    ef_buf_free (&whole);

    /* the record alone holds the immutable keys, readable pair by pair */
    ef_event_t rec = {0};
    ef_mpr_init (&r, fx->aux.data, fx->aux.len);
    assert_int_equal (ef_proto_read_event_kv (&r, EF_EVENT_RECORD_KEYS, &rec),
                      0);
    assert_int_equal (ef_mpr_peek (&r), EF_MP_NONE);
    u_assert_str (rec.event_id, U_UUID_A);
    u_assert_str (rec.payload, "{\"total\":12.5e3}");
    u_assert_str (rec.trace_id, "trace-9");
    assert_true (rec.received_at == in.received_at);
    u_assert_str (rec.status, NULL);
}

/*  A slim page's event (protocol.md, Event) reads as the whole one: the
    page's stream_id, and the pass-through state when it has none. */
static void
test_a_slim_event_reads_as_the_whole_event (void **state)
{
    u_proto_t *fx = *state;
    ef_event_t in = s_full_event (), out;
    ef_str_t page = in.stream_id;
    ef_proto_write_event_record (&fx->aux, &in);

    /* with a state of its own: only stream_id is left out */
    ef_proto_write_event_slim_head (&fx->b, in.seq, 1);
    ef_buf_append (&fx->b, fx->aux.data, fx->aux.len);
    ef_proto_write_event_state (&fx->b, &in);
    ef_buf_t whole;
    ef_buf_init (&whole);
    ef_proto_write_event (&whole, &in);
    assert_true (fx->b.len + page.len + 10 < whole.len); /* key, value */
    ef_buf_free (&whole);
    ef_mpr_t r;
    ef_mpr_init (&r, fx->b.data, fx->b.len);
    assert_int_equal (ef_proto_read_page_event (&r, page, &out), 0);
    assert_int_equal (ef_mpr_peek (&r), EF_MP_NONE);
    s_assert_event_equal (&in, &out);

    /* the pass-through state: left out, and read back */
    ef_buf_reset (&fx->b);
    ef_proto_write_event_slim_head (&fx->b, in.seq, 0);
    ef_buf_append (&fx->b, fx->aux.data, fx->aux.len);
    ef_mpr_init (&r, fx->b.data, fx->b.len);
    assert_int_equal (ef_proto_read_page_event (&r, page, &out), 0);
    assert_int_equal (ef_mpr_peek (&r), EF_MP_NONE);
    in.status = ef_str ("PROCESSED");
    in.attempts = 0;
    in.last_error = in.result = EF_STR_NULL;
    in.processed_at = in.received_at;
    s_assert_event_equal (&in, &out);

    /* a whole event is read as it is, whatever the page says */
    ef_buf_reset (&fx->b);
    ef_proto_write_event (&fx->b, &in);
    ef_mpr_init (&r, fx->b.data, fx->b.len);
    assert_int_equal (ef_proto_read_page_event (&r, EF_STR_NULL, &out), 0);
    s_assert_event_equal (&in, &out);
}

static void
test_event_with_nil_optionals_round_trips (void **state)
{
    u_proto_t *fx = *state;
    ef_event_t in = s_full_event (), out;
    in.api_key_id = EF_STR_NULL;
    in.trace_id = EF_STR_NULL;
    in.correlation_id = EF_STR_NULL;
    in.last_error = EF_STR_NULL;
    in.result = EF_STR_NULL;
    in.processed_at = 0;
    in.status = ef_str ("PENDING");
    in.attempts = 0;
    ef_proto_write_event (&fx->b, &in);
    ef_mpr_t r;
    ef_mpr_init (&r, fx->b.data, fx->b.len);
    assert_int_equal (ef_proto_read_event (&r, &out), 0);
    s_assert_event_equal (&in, &out);
}

static void
test_stream_round_trips (void **state)
{
    u_proto_t *fx = *state;
    ef_stream_info_t in = {ef_str ("0190a1b2-0000-7000-8000-000000000000"),
                           ef_str ("orders"),
                           1700000000000ull,
                           99,
                           2,
                           100},
                     out;
    ef_proto_reply_ok (&fx->b, 47, 1);
    ef_mp_key (&fx->b, "stream");
    ef_proto_write_stream (&fx->b, &in);
    ef_reply_t rep;
    ef_mpr_t r;
    assert_int_equal (ef_proto_decode_reply (fx->b.data, fx->b.len, &rep), 0);
    assert_int_equal (ef_proto_reply_find (&rep, "stream", &r), 0);
    assert_int_equal (ef_proto_read_stream (&r, &out), 0);
    u_assert_str (out.id, "0190a1b2-0000-7000-8000-000000000000");
    u_assert_str (out.name, "orders");
    assert_true (out.created_at == in.created_at);
    assert_int_equal (out.events, 99);
    assert_int_equal (out.first_seq, 2);
    assert_int_equal (out.last_seq, 100);
}

static void
test_stats_round_trip_with_counters (void **state)
{
    u_proto_t *fx = *state;
    ef_stats_t in = {1, 2, 3, 4, 5, 6, 7, 8, 9, UINT64_MAX, 1}, out;
    ef_proto_reply_ok (&fx->b, 48, 1);
    ef_mp_key (&fx->b, "stats");
    ef_proto_write_stats (&fx->b, &in);
    ef_reply_t rep;
    ef_mpr_t r;
    assert_int_equal (ef_proto_decode_reply (fx->b.data, fx->b.len, &rep), 0);
    assert_int_equal (ef_proto_reply_find (&rep, "stats", &r), 0);
    assert_int_equal (ef_proto_read_stats (&r, &out), 0);
    assert_memory_equal (&in, &out, sizeof in);
}

static void
test_hello_reply_round_trips_with_limits (void **state)
{
    u_proto_t *fx = *state;
    ef_hello_t in = {ef_str ("eventflow-broker"),
                     ef_str ("0.1.0"),
                     1,
                     EF_MAX_MESSAGE_DEFAULT,
                     EF_MAX_BATCH_DEFAULT,
                     EF_MAX_PAYLOAD_DEFAULT,
                     EF_MAX_READ},
               out;
    ef_proto_reply_ok (&fx->b, 49, 4);
    ef_proto_write_hello (&fx->b, &in);
    ef_reply_t rep;
    assert_int_equal (ef_proto_decode_reply (fx->b.data, fx->b.len, &rep), 0);
    assert_int_equal (rep.id, 49);
    assert_int_equal (rep.ok, 1);
    assert_int_equal (ef_proto_read_hello (&rep, &out), 0);
    u_assert_str (out.server, "eventflow-broker");
    u_assert_str (out.version, "0.1.0");
    assert_int_equal (out.protocol, 1);
    assert_int_equal (out.max_message, EF_MAX_MESSAGE_DEFAULT);
    assert_int_equal (out.max_batch, EF_MAX_BATCH_DEFAULT);
    assert_int_equal (out.max_payload, EF_MAX_PAYLOAD_DEFAULT);
    assert_int_equal (out.max_read, EF_MAX_READ);
}

static void
test_event_record_carries_request_id_only_when_set (void **state)
{
    u_proto_t *fx = *state;
    ef_event_t ev = {0}, back;
    ev.event_id = ef_str (U_UUID_A);
    ev.type = ef_str ("t");
    ev.payload = ef_str ("{}");
    ev.source = ef_str ("native");
    ef_proto_write_event_record (&fx->b, &ev);
    size_t without = fx->b.len;
    ef_mpr_t r;
    ef_mpr_init (&r, fx->b.data, fx->b.len);
    memset (&back, 0, sizeof back);
    assert_int_equal (ef_proto_read_event_kv (&r, EF_EVENT_RECORD_KEYS, &back),
                      0);
    assert_false (ef_str_set (back.request_id));

    ef_buf_reset (&fx->b);
    ev.request_id = ef_str ("req-7");
    ef_proto_write_event_record (&fx->b, &ev);
    assert_true (fx->b.len > without);
    ef_mpr_init (&r, fx->b.data, fx->b.len);
    memset (&back, 0, sizeof back);
    assert_int_equal (ef_proto_read_event_kv (&r, EF_EVENT_RECORD_KEYS, &back),
                      0);
    u_assert_str (back.request_id, "req-7");
    u_assert_str (back.payload, "{}");
}


int
main (void)
{
    const struct CMUnitTest tests[] = {
        T (test_error_reply_without_retry_after_round_trips),
        T (test_rate_limited_error_reply_carries_retry_after_ms),
        T (test_error_reply_with_out_of_range_code_is_read_by_name),
        T (test_ok_reply_exposes_its_keys_and_rejects_malformed_frames),
        T (test_publish_results_round_trip_accepted_duplicate_and_item_error),
        T (test_event_written_as_head_record_state_round_trips),
        T (test_a_slim_event_reads_as_the_whole_event),
        T (test_event_with_nil_optionals_round_trips),
        T (test_stream_round_trips),
        T (test_stats_round_trip_with_counters),
        T (test_hello_reply_round_trips_with_limits),
        T (test_event_record_carries_request_id_only_when_set),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
