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
                           "--max-payload", "1024",  NULL};
    if (h_tempdir (f->dir) || h_broker_start (&f->broker, f->dir, extra))
        return -1;
    f->ctx = zmq_ctx_new ();
    f->sock = zmq_socket (f->ctx, ZMQ_DEALER);
    int timeout = 5000, zero = 0;
    zmq_setsockopt (f->sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt (f->sock, ZMQ_LINGER, &zero, sizeof zero);
    if (h_curve_socket (&f->broker, f->sock) ||
        zmq_connect (f->sock, f->broker.endpoint))
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
    assert_int_equal (zmq_send (f->sock, bytes, len, 0), (int)len);
    char buf[65536];
    int n = zmq_recv (f->sock, buf, sizeof buf, 0);
    assert_true (n > 0);
    ef_reply_t rep;
    assert_int_equal (ef_proto_decode_reply (buf, (size_t)n, &rep), 0);
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
    /* the same lie nested in a valid-looking request: its id, read
       before the lie, is echoed */
    s_expect_error (f,
                    "\x83\xa1v\x01\xa2id\x05\xa3"
                    "cmd\xdd\xff\xff\xff\xff",
                    15, EF_EPROTO, 5);
    s_still_serving (f);
}

static void
test_deep_nesting_is_refused (void **state)
{
    fixture_t *f = *state;
    char deep[2000];
    memset (deep, 0x91, sizeof deep - 1); /* fixarray of 1, nested */
    deep[sizeof deep - 1] = (char)0xc0;
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

/* ---------------------------------------------------------------- issue 10 */

/*  The next reply frame (push frames skipped), decoded; the frame stays
    in buf. */
static void
s_next_reply (fixture_t *f, char *buf, size_t size, ef_reply_t *rep)
{
    for (;;) {
        int n = zmq_recv (f->sock, buf, size, 0);
        assert_true (n > 0); /* an empty frame breaks every decoder */
        assert_int_equal (ef_proto_decode_reply (buf, (size_t)n, rep), 0);
        ef_mpr_t m;
        int push = 0;
        if (ef_proto_reply_find (rep, "push", &m) == 0)
            ef_mpr_bool (&m, &push);
        if (!push)
            return;
    }
}

/*  Every str in the value at r is valid UTF-8, as a strict decoder
    (Python's msgpack by default) demands. */
static void
s_assert_strict (ef_mpr_t *r, int depth)
{
    uint32_t n;
    ef_str_t s;
    assert_true (depth > 0);
    switch (ef_mpr_peek (r)) {
    case EF_MP_STR:
        assert_int_equal (ef_mpr_str (r, &s), 0);
        assert_true (ef_str_utf8 (s));
        return;
    case EF_MP_ARRAY:
        assert_int_equal (ef_mpr_array (r, &n), 0);
        for (uint32_t i = 0; i < n; i++)
            s_assert_strict (r, depth - 1);
        return;
    case EF_MP_MAP:
        assert_int_equal (ef_mpr_map (r, &n), 0);
        for (uint32_t i = 0; i < 2 * n; i++)
            s_assert_strict (r, depth - 1);
        return;
    default:
        assert_int_equal (ef_mpr_skip (r, 1), 0);
    }
}

/*  PUBLISH one item to stream s of map pairs: type, payload, then key =
    the n bytes at v (key NULL: none); its result's code. */
static int
s_publish_raw (fixture_t *f, uint64_t id, const char *key, const char *v,
               size_t n)
{
    ef_buf_t b;
    char buf[4096];
    ef_reply_t rep;
    ef_mpr_t m;
    uint32_t count;
    ef_publish_result_t res;
    ef_buf_init (&b);
    ef_mp_map (&b, 5);
    ef_mp_key (&b, "v"), ef_mp_uint (&b, 1);
    ef_mp_key (&b, "id"), ef_mp_uint (&b, id);
    ef_mp_key (&b, "cmd"), ef_mp_cstr (&b, "PUBLISH");
    ef_mp_key (&b, "stream"), ef_mp_cstr (&b, "s");
    ef_mp_key (&b, "events");
    ef_mp_array (&b, 1);
    int ctx = key && strncmp (key, "context.", 8) == 0;
    int own_type = key && strcmp (key, "type") == 0;
    ef_mp_map (&b, 1 + !own_type + !!key);
    if (!own_type)
        ef_mp_key (&b, "type"), ef_mp_cstr (&b, "t");
    ef_mp_key (&b, "payload"), ef_mp_cstr (&b, "{\"ok\":true}");
    if (ctx) {
        ef_mp_key (&b, "context");
        ef_mp_map (&b, 1);
        ef_mp_key (&b, key + 8);
        ef_mp_str (&b, v, n);
    } else if (key) {
        ef_mp_key (&b, key);
        ef_mp_str (&b, v, n);
    }
    assert_int_equal (zmq_send (f->sock, b.data, b.len, 0), (int)b.len);
    ef_buf_free (&b);
    s_next_reply (f, buf, sizeof buf, &rep);
    assert_true (rep.ok);
    assert_int_equal (rep.id, id);
    assert_int_equal (ef_proto_reply_find (&rep, "results", &m), 0);
    assert_int_equal (ef_mpr_array (&m, &count), 0);
    assert_int_equal (count, 1);
    assert_int_equal (ef_proto_read_result (&m, &res), 0);
    return res.code;
}

static void
test_text_that_is_not_utf8_is_refused_so_every_page_stays_readable (
    void **state)
{
    fixture_t *f = *state;
    static const char *keys[] = {"type", "source", "event_id",
                                 "context.trace_id", "context.correlation_id"};
    static const struct {
        const char *v;
        size_t n;
    } bad[] = {{"bad\xff", 4}, {"\xc0\xaf", 2}, {"\xed\xa0\x80", 3}};
    uint64_t id = 100;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
            assert_int_equal (
                s_publish_raw (f, id++, keys[k], bad[i].v, bad[i].n),
                EF_EINVAL);
    /* a payload with a lone surrogate escape is no JSON text either */
    ef_client_t *c = h_client (&f->broker);
    ef_event_in_t ev = {0};
    ef_publish_result_t res;
    ev.type = ef_str ("t");
    ev.payload = ef_str ("{\"name\":\"\\ud800\"}");
    assert_int_equal (ef_client_publish (c, "s", &ev, 1, &res), 0);
    assert_int_equal (res.code, EF_EINVAL);
    /* valid text of every width is stored */
    static const char fine[] = "caf\xc3\xa9 \xf0\x9f\x98\x80";
    assert_int_equal (s_publish_raw (f, id++, "type", fine, sizeof fine - 1),
                      0);
    /* a stream name, too, is text */
    ef_buf_t b;
    ef_buf_init (&b);
    ef_mp_map (&b, 4);
    ef_mp_key (&b, "v"), ef_mp_uint (&b, 1);
    ef_mp_key (&b, "id"), ef_mp_uint (&b, 150);
    ef_mp_key (&b, "cmd"), ef_mp_cstr (&b, "GET_STREAM");
    ef_mp_key (&b, "stream"), ef_mp_str (&b, "s\xed\xa0\x80", 4);
    s_send_request (f, &b, EF_EINVAL, 150);
    ef_buf_free (&b);

    /* what is stored reads back whole under strict decoding */
    ef_request_t rd = {0};
    const ef_reply_t *rep;
    rd.cmd = EF_CMD_READ;
    rd.stream = ef_str ("s");
    assert_int_equal (ef_client_call (c, &rd, &rep), 0);
    ef_mpr_t m;
    assert_int_equal (ef_proto_reply_find (rep, "events", &m), 0);
    uint32_t n;
    ef_mpr_t at = m;
    assert_int_equal (ef_mpr_array (&at, &n), 0);
    assert_int_equal (n, 1);
    s_assert_strict (&m, 8);
    ef_client_destroy (&c);
}

/*  A request of cmd with the extra pairs written by put; the error code
    of its reply (0 when ok), the reply id checked against id. */
static int
s_call_raw (fixture_t *f, uint64_t id, const char *cmd, uint32_t extra,
            void (*put) (ef_buf_t *, const void *), const void *arg, char *why,
            size_t why_size)
{
    ef_buf_t b;
    char buf[65536];
    ef_reply_t rep;
    ef_buf_init (&b);
    ef_mp_map (&b, 3 + extra);
    ef_mp_key (&b, "v"), ef_mp_uint (&b, 1);
    ef_mp_key (&b, "id"), ef_mp_uint (&b, id);
    ef_mp_key (&b, "cmd"), ef_mp_cstr (&b, cmd);
    put (&b, arg);
    assert_int_equal (zmq_send (f->sock, b.data, b.len, 0), (int)b.len);
    ef_buf_free (&b);
    s_next_reply (f, buf, sizeof buf, &rep);
    assert_int_equal (rep.id, id);
    if (why)
        snprintf (why, why_size, "%.*s", (int)rep.err_message.len,
                  rep.err_message.ptr ? rep.err_message.ptr : "");
    return rep.ok ? 0 : rep.code;
}

typedef struct {
    const char *key;
    uint64_t v;
} s_num_t;

static void
s_put_read (ef_buf_t *b, const void *arg)
{
    const s_num_t *n = arg;
    ef_mp_key (b, "stream"), ef_mp_cstr (b, "s");
    ef_mp_key (b, n->key), ef_mp_uint (b, n->v);
}

static void
s_put_fetch (ef_buf_t *b, const void *arg)
{
    ef_mp_key (b, "group"), ef_mp_cstr (b, "g");
    s_put_read (b, arg);
}

static void
s_put_num (ef_buf_t *b, const void *arg)
{
    const s_num_t *n = arg;
    ef_mp_key (b, n->key), ef_mp_uint (b, n->v);
}

static void
s_put_status (ef_buf_t *b, const void *arg)
{
    ef_mp_key (b, "status"), ef_mp_cstr (b, arg);
}

static void
test_numbers_out_of_range_are_refused_naming_the_field (void **state)
{
    fixture_t *f = *state;
    char why[256];
    static const struct {
        const char *cmd, *key;
        uint64_t bad, good;
    } cases[] = {
        {"READ", "limit", 0, 1},        {"READ", "limit", 10001, 10000},
        {"FETCH", "limit", 1001, 1000}, {"FETCH", "limit", 0, 1},
        {"FETCH", "timeout", 60001, 0}, {"LIST_EVENTS", "limit", 101, 100},
        {"LIST_EVENTS", "page", 0, 1},  {"DLQ_LIST", "limit", 0, 100},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int fetch = strcmp (cases[i].cmd, "FETCH") == 0;
        int stream = fetch || strcmp (cases[i].cmd, "READ") == 0;
        s_num_t n = {cases[i].key, cases[i].bad};
        void (*put) (ef_buf_t *, const void *) = fetch    ? s_put_fetch
                                                 : stream ? s_put_read
                                                          : s_put_num;
        uint32_t extra = 1 + stream + fetch;
        assert_int_equal (s_call_raw (f, 200 + i, cases[i].cmd, extra, put, &n,
                                      why, sizeof why),
                          EF_EINVAL);
        assert_non_null (strstr (why, cases[i].key));
        n.v = cases[i].good;
        assert_int_equal (
            s_call_raw (f, 300 + i, cases[i].cmd, extra, put, &n, NULL, 0), 0);
    }
    assert_int_equal (s_call_raw (f, 400, "LIST_EVENTS", 1, s_put_status,
                                  "DONE", why, sizeof why),
                      EF_EINVAL);
    assert_non_null (strstr (why, "status"));
    /* version 0 is refused, not stored as 1 */
    ef_publish_result_t res;
    ef_buf_t b;
    ef_buf_init (&b);
    ef_mp_map (&b, 5);
    ef_mp_key (&b, "v"), ef_mp_uint (&b, 1);
    ef_mp_key (&b, "id"), ef_mp_uint (&b, 401);
    ef_mp_key (&b, "cmd"), ef_mp_cstr (&b, "PUBLISH");
    ef_mp_key (&b, "stream"), ef_mp_cstr (&b, "s");
    ef_mp_key (&b, "events");
    ef_mp_array (&b, 1);
    ef_mp_map (&b, 3);
    ef_mp_key (&b, "type"), ef_mp_cstr (&b, "t");
    ef_mp_key (&b, "payload"), ef_mp_cstr (&b, "1");
    ef_mp_key (&b, "version"), ef_mp_uint (&b, 0);
    char buf[4096];
    ef_reply_t rep;
    ef_mpr_t m;
    uint32_t count;
    zmq_send (f->sock, b.data, b.len, 0);
    ef_buf_free (&b);
    s_next_reply (f, buf, sizeof buf, &rep);
    assert_int_equal (ef_proto_reply_find (&rep, "results", &m), 0);
    assert_int_equal (ef_mpr_array (&m, &count), 0);
    assert_int_equal (ef_proto_read_result (&m, &res), 0);
    assert_int_equal (res.code, EF_EINVAL);
    assert_non_null (strstr (res.message.ptr, "version"));
    /* the one rule's text (ef_event_rules), as the bridge's 422 says */
    assert_true (ef_str_eq (res.message, "version must be at least 1"));
    s_still_serving (f);
}

static void
test_errors_echo_the_id_whatever_comes_before_it (void **state)
{
    fixture_t *f = *state;
    ef_buf_t b;
    ef_buf_init (&b);
    /* v of the wrong type */
    ef_mp_map (&b, 3);
    ef_mp_key (&b, "v"), ef_mp_cstr (&b, "1");
    ef_mp_key (&b, "id"), ef_mp_uint (&b, 31);
    ef_mp_key (&b, "cmd"), ef_mp_cstr (&b, "PING");
    s_send_request (f, &b, EF_EINVAL, 31);
    /* an integer map key */
    ef_mp_map (&b, 4);
    ef_mp_uint (&b, 1), ef_mp_uint (&b, 2);
    ef_mp_key (&b, "v"), ef_mp_uint (&b, 1);
    ef_mp_key (&b, "id"), ef_mp_uint (&b, 32);
    ef_mp_key (&b, "cmd"), ef_mp_cstr (&b, "PING");
    s_send_request (f, &b, EF_EINVAL, 32);
    ef_buf_free (&b);
    s_still_serving (f);
}

static void
s_put_worker_stream (ef_buf_t *b, const void *arg)
{
    (void)arg;
    ef_mp_key (b, "name"), ef_mp_cstr (b, "jobs");
    ef_mp_key (b, "pipeline");
    ef_mp_cstr (b, "[{\"type\":\"worker\",\"service\":\"svc\"}]");
}

static void
s_put_service (ef_buf_t *b, const void *arg)
{
    (void)arg;
    ef_mp_key (b, "service"), ef_mp_cstr (b, "svc");
}

static void
s_put_name (ef_buf_t *b, const void *arg)
{
    ef_mp_key (b, "name"), ef_mp_cstr (b, arg);
}

static void
s_put_job (ef_buf_t *b, const void *arg)
{
    ef_mp_key (b, "job_id"), ef_mp_cstr (b, arg);
}

static void
test_done_and_fail_with_id_0_get_no_frame_at_all (void **state)
{
    fixture_t *f = *state;
    char buf[65536], job_id[64];
    ef_reply_t rep;
    ef_buf_t b;
    assert_int_equal (s_call_raw (f, 40, "CREATE_STREAM", 2,
                                  s_put_worker_stream, NULL, NULL, 0),
                      0);
    assert_int_equal (
        s_call_raw (f, 41, "READY", 1, s_put_service, NULL, NULL, 0), 0);
    ef_client_t *c = h_client (&f->broker);
    ef_event_in_t ev = {0};
    ef_publish_result_t res;
    ev.type = ef_str ("t");
    ev.payload = ef_str ("{}");
    assert_int_equal (ef_client_publish (c, "jobs", &ev, 1, &res), 0);
    assert_int_equal (res.code, 0);
    ef_client_destroy (&c);
    /* the job's push */
    for (;;) {
        int n = zmq_recv (f->sock, buf, sizeof buf, 0);
        assert_true (n > 0);
        assert_int_equal (ef_proto_decode_reply (buf, (size_t)n, &rep), 0);
        ef_mpr_t m;
        ef_str_t k;
        uint32_t pairs;
        if (ef_proto_reply_find (&rep, "job", &m))
            continue; /* a heartbeat */
        assert_int_equal (ef_mpr_map (&m, &pairs), 0);
        job_id[0] = 0;
        for (uint32_t i = 0; i < pairs; i++) {
            assert_int_equal (ef_mpr_str (&m, &k), 0);
            if (ef_str_eq (k, "job_id")) {
                ef_str_t v;
                assert_int_equal (ef_mpr_str (&m, &v), 0);
                snprintf (job_id, sizeof job_id, "%.*s", (int)v.len, v.ptr);
            } else
                assert_int_equal (ef_mpr_skip (&m, 16), 0);
        }
        break;
    }
    assert_true (job_id[0]);
    /* answered with id 0: held (the writer's path), then not held, then
       not even a job id of this broker, and a FAIL: no frame for any */
    static const char *cmds[] = {"DONE", "DONE", "DONE", "FAIL"};
    const char *ids[] = {job_id, job_id, "nonsense", job_id};
    ef_buf_init (&b);
    for (int i = 0; i < 4; i++) {
        ef_mp_map (&b, 4 + (i == 3));
        ef_mp_key (&b, "v"), ef_mp_uint (&b, 1);
        ef_mp_key (&b, "id"), ef_mp_uint (&b, 0);
        ef_mp_key (&b, "cmd"), ef_mp_cstr (&b, cmds[i]);
        s_put_job (&b, ids[i]);
        if (i == 3)
            ef_mp_key (&b, "reason"), ef_mp_cstr (&b, "late");
        assert_int_equal (zmq_send (f->sock, b.data, b.len, 0), (int)b.len);
        ef_buf_reset (&b);
    }
    ef_buf_free (&b);
    /* the next frame is the reply to a write sent after them (the writer
       answers in order): nothing came in between, not even an empty one */
    assert_int_equal (
        s_call_raw (f, 42, "CREATE_STREAM", 1, s_put_name, "after", NULL, 0),
        0);
}

static void
test_missing_and_bad_credentials_answer_one_message (void **state)
{
    fixture_t *f = *state;
    char gw[300];
    snprintf (gw, sizeof gw, "%s/gateway.key", f->dir);
    ef_client_t *c = h_client_new (&f->broker, gw);
    assert_non_null (c);
    assert_int_equal (ef_client_connect (c), 0);
    const ef_reply_t *rep;
    char missing[128], bad[128];
    ef_request_t req = {0};
    req.cmd = EF_CMD_LIST_STREAMS; /* no credential at all */
    assert_int_equal (ef_client_call (c, &req, &rep), EF_EAUTH);
    snprintf (missing, sizeof missing, "%.*s", (int)rep->err_message.len,
              rep->err_message.ptr);
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_LIST_STREAMS;
    req.auth_api_key = ef_str ("efk_nope_nope");
    assert_int_equal (ef_client_call (c, &req, &rep), EF_EAUTH);
    snprintf (bad, sizeof bad, "%.*s", (int)rep->err_message.len,
              rep->err_message.ptr);
    assert_string_equal (missing, bad);
    assert_string_equal (missing, "authentication failed");
    ef_client_destroy (&c);
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
        cmocka_unit_test_setup_teardown (
            test_text_that_is_not_utf8_is_refused_so_every_page_stays_readable,
            setup, teardown),
        cmocka_unit_test_setup_teardown (
            test_numbers_out_of_range_are_refused_naming_the_field, setup,
            teardown),
        cmocka_unit_test_setup_teardown (
            test_errors_echo_the_id_whatever_comes_before_it, setup, teardown),
        cmocka_unit_test_setup_teardown (
            test_done_and_fail_with_id_0_get_no_frame_at_all, setup, teardown),
        cmocka_unit_test_setup_teardown (
            test_missing_and_bad_credentials_answer_one_message, setup,
            teardown),
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
