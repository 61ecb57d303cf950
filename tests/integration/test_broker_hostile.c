/*  Bad input over the wire: malformed msgpack, lying length headers
    (including the 5 bytes dd ff 00 00 00), deep nesting, extra frames,
    unknown commands, wrong versions and types, oversized frames and
    batches. Each gets an ERROR reply with its code (or, for a frame over
    the size limit, the connection is dropped by ZeroMQ); nothing is stored
    and the broker keeps serving everyone. */
#include "harness.h"
#include "eventflow/ef_proto.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include <cmocka.h>

typedef struct {
    char dir[256];
    h_broker_t broker;
    void *ctx;
    void *sock;
} fixture_t;

static int
setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    const char *extra[] = {"--max-message", "65536", "--max-batch", "10",
                           "--max-payload", "1024", NULL};
    if (h_tempdir (f->dir) || h_broker_start (&f->broker, f->dir, extra))
        return -1;
    f->ctx = zmq_ctx_new ();
    f->sock = zmq_socket (f->ctx, ZMQ_DEALER);
    int timeout = 5000, zero = 0;
    zmq_setsockopt (f->sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt (f->sock, ZMQ_LINGER, &zero, sizeof zero);
    if (h_curve_socket (&f->broker, f->sock)
        || zmq_connect (f->sock, f->broker.endpoint))
        return -1;
    ef_client_t *c = h_client (&f->broker);
    if (!c || ef_client_create_stream (c, "s", NULL))
        return -1;
    ef_client_destroy (&c);
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *f = *state;
    zmq_close (f->sock);
    zmq_ctx_term (f->ctx);
    assert_int_equal (h_broker_stop (&f->broker), 0);
    h_rmrf (f->dir);
    free (f);
    return 0;
}

/*  Send raw bytes, expect an error reply with code. */
static void
s_expect_error (fixture_t *f, const void *bytes, size_t len, int code,
                uint64_t id)
{
    assert_int_equal (zmq_send (f->sock, bytes, len, 0), (int) len);
    char buf[65536];
    int n = zmq_recv (f->sock, buf, sizeof buf, 0);
    assert_true (n > 0);
    ef_reply_t rep;
    assert_int_equal (ef_proto_decode_reply (buf, (size_t) n, &rep), 0);
    assert_false (rep.ok);
    assert_int_equal (rep.code, code);
    assert_int_equal (rep.id, id);
}

/*  The broker still answers a real client and stored nothing. */
static void
s_still_serving (fixture_t *f)
{
    ef_client_t *c = h_client (&f->broker);
    assert_non_null (c);
    assert_int_equal (ef_client_ping (c), 0);
    ef_stream_info_t s;
    assert_int_equal (ef_client_get_stream (c, "s", &s), 0);
    assert_int_equal (s.events, 0);
    ef_client_destroy (&c);
}

static void
test_garbage_bytes_get_a_proto_error (void **state)
{
    fixture_t *f = *state;
    s_expect_error (f, "\xc1\xc1\xc1", 3, EF_EPROTO, 0);
    s_expect_error (f, "hello, broker", 13, EF_EPROTO, 0);
    s_expect_error (f, "", 0, EF_EPROTO, 0);
    s_still_serving (f);
}

static void
test_array_header_claiming_4g_items_is_refused_without_allocating (void **state)
{
    fixture_t *f = *state;
    s_expect_error (f, "\xdd\xff\x00\x00\x00", 5, EF_EPROTO, 0);
    s_expect_error (f, "\xdf\xff\xff\xff\xff", 5, EF_EPROTO, 0);
    s_expect_error (f, "\xdb\xff\xff\xff\xff", 5, EF_EPROTO, 0);
    /* the same lie nested in a valid-looking request */
    s_expect_error (f, "\x83\xa1v\x01\xa2id\x05\xa3" "cmd\xdd\xff\xff\xff\xff",
                    15, EF_EPROTO, 0);
    s_still_serving (f);
}

static void
test_deep_nesting_is_refused (void **state)
{
    fixture_t *f = *state;
    char deep[2000];
    memset (deep, 0x91, sizeof deep - 1); /* fixarray of 1, nested */
    deep[sizeof deep - 1] = (char) 0xc0;
    s_expect_error (f, deep, sizeof deep, EF_EPROTO, 0);
    s_still_serving (f);
}

static void
s_send_request (fixture_t *f, ef_buf_t *b, int code, uint64_t id)
{
    s_expect_error (f, b->data, b->len, code, id);
    ef_buf_reset (b);
}

static void
test_bad_requests_get_their_codes_and_ids (void **state)
{
    fixture_t *f = *state;
    ef_buf_t b;
    ef_buf_init (&b);

    /* unknown command */
    ef_mp_map (&b, 3);
    ef_mp_key (&b, "v"), ef_mp_uint (&b, 1);
    ef_mp_key (&b, "id"), ef_mp_uint (&b, 7);
    ef_mp_key (&b, "cmd"), ef_mp_cstr (&b, "LAUNCH");
    s_send_request (f, &b, EF_EUNKNOWN_CMD, 7);

    /* wrong version, id kept */
    ef_mp_map (&b, 3);
    ef_mp_key (&b, "v"), ef_mp_uint (&b, 2);
    ef_mp_key (&b, "id"), ef_mp_uint (&b, 8);
    ef_mp_key (&b, "cmd"), ef_mp_cstr (&b, "PING");
    s_send_request (f, &b, EF_EVERSION, 8);

    /* missing cmd */
    ef_mp_map (&b, 2);
    ef_mp_key (&b, "v"), ef_mp_uint (&b, 1);
    ef_mp_key (&b, "id"), ef_mp_uint (&b, 9);
    s_send_request (f, &b, EF_EINVAL, 9);

    /* mistyped field */
    ef_mp_map (&b, 4);
    ef_mp_key (&b, "v"), ef_mp_uint (&b, 1);
    ef_mp_key (&b, "id"), ef_mp_uint (&b, 10);
    ef_mp_key (&b, "cmd"), ef_mp_cstr (&b, "READ");
    ef_mp_key (&b, "stream"), ef_mp_uint (&b, 42);
    s_send_request (f, &b, EF_EINVAL, 10);

    /* not a map */
    ef_mp_array (&b, 1);
    ef_mp_uint (&b, 1);
    s_send_request (f, &b, EF_EPROTO, 0);

    /* a batch over max-batch (10) */
    ef_event_in_t evs[11];
    for (int i = 0; i < 11; i++) {
        memset (&evs[i], 0, sizeof evs[i]);
        evs[i].type = ef_str ("t");
        evs[i].payload = ef_str ("{}");
    }
    ef_request_t req = {0};
    req.v = 1, req.id = 11, req.cmd = EF_CMD_PUBLISH;
    req.stream = ef_str ("s");
    req.events = evs, req.n_events = 11;
    ef_proto_encode_request (&b, &req);
    s_send_request (f, &b, EF_ETOOBIG, 11);

    /* an empty batch */
    req.n_events = 0, req.id = 12;
    ef_proto_encode_request (&b, &req);
    s_send_request (f, &b, EF_EINVAL, 12);
    ef_buf_free (&b);
    s_still_serving (f);
}

static void
test_extra_frames_are_refused (void **state)
{
    fixture_t *f = *state;
    zmq_send (f->sock, "\x80", 1, ZMQ_SNDMORE);
    s_expect_error (f, "\x80", 1, EF_EPROTO, 0);
    s_still_serving (f);
}

static void
test_payload_over_limit_is_refused_per_item (void **state)
{
    fixture_t *f = *state;
    ef_client_t *c = h_client (&f->broker);
    char big[2048];
    memset (big, 'x', sizeof big);
    big[0] = '"';
    big[sizeof big - 2] = '"';
    big[sizeof big - 1] = 0;
    ef_event_in_t evs[2];
    memset (evs, 0, sizeof evs);
    evs[0].type = ef_str ("t"), evs[0].payload = ef_str (big);
    evs[1].type = ef_str ("t"), evs[1].payload = ef_str ("1");
    ef_publish_result_t res[2];
    assert_int_equal (ef_client_publish (c, "s", evs, 2, res), 0);
    assert_int_equal (res[0].code, EF_ETOOBIG);
    assert_int_equal (res[1].code, 0);
    ef_client_destroy (&c);
}

static void
test_frame_over_max_message_drops_only_that_connection (void **state)
{
    fixture_t *f = *state;
    size_t len = 200000; /* > 64 KiB */
    char *big = malloc (len);
    memset (big, 0xc0, len);
    zmq_send (f->sock, big, len, 0);
    free (big);
    /* no reply comes on that connection ... */
    char buf[256];
    int t = 500;
    zmq_setsockopt (f->sock, ZMQ_RCVTIMEO, &t, sizeof t);
    assert_int_equal (zmq_recv (f->sock, buf, sizeof buf, 0), -1);
    /* ... and everyone else is served; the counters saw the malformed */
    ef_client_t *c = h_client (&f->broker);
    assert_non_null (c);
    assert_int_equal (ef_client_ping (c), 0);
    ef_client_destroy (&c);
    s_expect_error (f, "\xc1", 1, EF_EPROTO, 0); /* reconnected by ZeroMQ */
    ef_client_t *c2 = h_client (&f->broker);
    ef_stats_t st;
    assert_int_equal (ef_client_stats (c2, &st), 0);
    assert_true (st.malformed >= 1);
    ef_client_destroy (&c2);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_garbage_bytes_get_a_proto_error,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (
            test_array_header_claiming_4g_items_is_refused_without_allocating,
            setup, teardown),
        cmocka_unit_test_setup_teardown (test_deep_nesting_is_refused, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (
            test_bad_requests_get_their_codes_and_ids, setup, teardown),
        cmocka_unit_test_setup_teardown (test_extra_frames_are_refused, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (
            test_payload_over_limit_is_refused_per_item, setup, teardown),
        cmocka_unit_test_setup_teardown (
            test_frame_over_max_message_drops_only_that_connection, setup,
            teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
