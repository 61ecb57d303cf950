/*  test_proto_golden.c: the wire bytes of ef_proto, pinned. Every command's
    request (once with every field set, once with none but v, id and cmd)
    and every reply shape is encoded and compared byte for byte with
    proto_golden.txt, written by the codec before it became table-driven:
    a change of the tables that moves a byte on the wire fails here.
    Each request frame must also decode and encode back to itself.
    EF_GOLDEN_WRITE=1 rewrites the file (only for a deliberate change of
    the protocol, with protocol.md in the same commit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eventflow/ef_error.h"
#include "eventflow/ef_mp.h"
#include "eventflow/ef_proto.h"

#define UUID_A "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
#define TP     "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

/*  One named frame per line: "name hex". */
typedef struct {
    ef_buf_t text;
} s_out_t;

static void
s_emit (s_out_t *o, const char *name, const ef_buf_t *b)
{
    static const char hex[] = "0123456789abcdef";
    ef_buf_append (&o->text, name, strlen (name));
    ef_buf_append (&o->text, " ", 1);
    for (size_t i = 0; i < b->len; i++) {
        unsigned char c = (unsigned char)b->data[i];
        char two[2] = {hex[c >> 4], hex[c & 15]};
        ef_buf_append (&o->text, two, 2);
    }
    ef_buf_append (&o->text, "\n", 1);
}

static ef_event_in_t s_items[2];

/*  Every field of a request set, with values that pass the decoder. */
static void
s_fill (ef_request_t *q, ef_cmd_t cmd)
{
    memset (q, 0, sizeof *q);
    q->cmd = cmd;
    q->id = 1000 + (uint64_t)cmd;
    q->auth_api_key = ef_str ("efk_key");
    q->client = ef_str ("cli/1");
    q->name = ef_str ("orders");
    q->stream = ef_str ("orders");
    q->event_id = ef_str (UUID_A);
    q->type = ef_str ("order.created");
    q->source = ef_str ("shop");
    q->status = ef_str ("FAILED");
    q->after = 7;
    q->from = 100;
    q->to = 200;
    q->has_from = q->has_to = 1;
    q->limit = 5;
    q->page = 2;
    q->email = ef_str ("a@b.c");
    q->password = ef_str ("secret-1");
    q->org_name = ef_str ("acme");
    q->refresh_token = ef_str ("rt");
    q->role = ef_str ("admin");
    q->user_id = ef_str ("u1");
    q->key_id = ef_str ("k1");
    q->public_key = ef_str ("pk");
    q->org = ef_str ("o1");
    q->proof = ef_str ("abcd");
    q->new_password = ef_str ("secret-2");
    q->client_addr = ef_str ("10.0.0.1");
    q->producer = 1;
    q->has_producer = 1;
    q->rate_per_second = 10;
    q->rate_burst = 20;
    q->has_rate = 1;
    q->streams[0] = ef_str ("a");
    q->streams[1] = ef_str ("b");
    q->n_streams = 2;
    q->group = ef_str ("g");
    q->consumer_id = ef_str ("c1");
    q->last_event_id = ef_str (UUID_A);
    q->position = ef_str ("earliest");
    q->timestamp = 123456;
    q->has_timestamp = 1;
    q->timeout = 1000;
    q->credit = 3;
    q->sub = 9;
    q->schema = ef_str ("{\"type\":\"object\"}");
    q->pipeline = ef_str ("[]");
    q->service = ef_str ("svc");
    q->job_id = ef_str ("j1");
    q->result = ef_str ("{}");
    q->reason = ef_str ("boom");
    q->error = ef_str ("timeout");
    q->retryable = 0;
    q->has_retryable = 1;
    q->all = 1;
    q->request_id = ef_str ("req-1");
    q->traceparent = ef_str (TP);
    q->dir = ef_str ("/var/backups/ef");
    q->slim = 1;
    memset (s_items, 0, sizeof s_items);
    s_items[0].type = ef_str ("t");
    s_items[0].payload = ef_str ("{\"a\":1}");
    s_items[0].event_id = ef_str (UUID_A);
    s_items[0].source = ef_str ("s");
    s_items[0].trace_id = ef_str ("tr");
    s_items[0].correlation_id = ef_str ("co");
    s_items[0].request_id = ef_str ("ri");
    s_items[0].occurred_at = 42;
    s_items[0].version = 2;
    s_items[1].type = ef_str ("u");
    s_items[1].payload = ef_str ("1");
    q->events = s_items;
    q->n_events = 2;
}

static void
s_requests (s_out_t *o)
{
    ef_buf_t b, b2;
    ef_buf_init (&b);
    ef_buf_init (&b2);
    for (int c = 1; c < EF_CMD_COUNT; c++) {
        ef_request_t q, d;
        ef_event_in_t ev[4];
        char name[64];
        for (int full = 0; full < 2; full++) {
            if (full)
                s_fill (&q, (ef_cmd_t)c);
            else {
                memset (&q, 0, sizeof q);
                q.cmd = (ef_cmd_t)c;
                q.id = (uint64_t)c;
            }
            ef_buf_reset (&b);
            assert_int_equal (ef_proto_encode_request (&b, &q), 0);
            snprintf (name, sizeof name, "req.%s.%s", ef_cmd_name (q.cmd),
                      full ? "full" : "bare");
            s_emit (o, name, &b);
            if (!full)
                continue;
            /* decode, encode: the same bytes */
            const char *why = NULL;
            int rc = ef_proto_decode_request (b.data, b.len, &d, ev, 4, &why);
            if (rc)
                fail_msg ("%s: %d %s", name, rc, why ? why : "");
            ef_buf_reset (&b2);
            assert_int_equal (ef_proto_encode_request (&b2, &d), 0);
            assert_int_equal (b2.len, b.len);
            assert_memory_equal (b2.data, b.data, b.len);
        }
    }
    /* a list of ids travels as the array it is */
    ef_request_t q;
    ef_buf_t ids;
    ef_buf_init (&ids);
    ef_mp_array (&ids, 2);
    ef_mp_cstr (&ids, UUID_A);
    ef_mp_cstr (&ids, "x");
    memset (&q, 0, sizeof q);
    q.cmd = EF_CMD_DLQ_DELETE;
    q.id = 77;
    q.event_ids = (ef_str_t){ids.data, (uint32_t)ids.len};
    q.n_event_ids = 2;
    ef_buf_reset (&b);
    assert_int_equal (ef_proto_encode_request (&b, &q), 0);
    s_emit (o, "req.DLQ_DELETE.ids", &b);
    ef_buf_free (&ids);
    ef_buf_free (&b);
    ef_buf_free (&b2);
}

static void
s_replies (s_out_t *o)
{
    ef_buf_t b;
    ef_buf_init (&b);
#define EMIT(n)                                                                \
    do {                                                                       \
        s_emit (o, n, &b);                                                     \
        ef_buf_reset (&b);                                                     \
    } while (0)
    ef_proto_reply_ok (&b, 5, 0);
    EMIT ("rep.ok");
    ef_proto_reply_error (&b, 6, EF_EINVAL, "bad field", 0);
    EMIT ("rep.error");
    ef_proto_reply_error (&b, 7, EF_ENOTFOUND, NULL, 0);
    EMIT ("rep.error.default");
    ef_proto_reply_error (&b, 8, EF_ERATE, "slow down", 250);
    EMIT ("rep.error.rate");

    ef_event_t ev = {0};
    ev.event_id = ef_str (UUID_A);
    ev.stream_id = ef_str ("s1");
    ev.type = ef_str ("t");
    ev.source = ef_str ("src");
    ev.api_key_id = ef_str ("k1");
    ev.trace_id = ef_str ("tr");
    ev.correlation_id = ef_str ("co");
    ev.payload = ef_str ("{\"x\":1}");
    ev.status = ef_str ("PROCESSED");
    ev.last_error = ef_str ("e");
    ev.result = ef_str ("{}");
    ev.seq = 11;
    ev.occurred_at = 12;
    ev.received_at = 13;
    ev.processed_at = 14;
    ev.version = 3;
    ev.attempts = 2;
    ef_proto_write_event (&b, &ev);
    EMIT ("val.event");
    ev.request_id = ef_str ("rq");
    ev.processed_at = 0;
    ev.source = EF_STR_NULL;
    ef_proto_write_event (&b, &ev);
    EMIT ("val.event.request_id");
    ef_proto_write_event_record (&b, &ev);
    EMIT ("val.event.record");
    ef_proto_write_event_state (&b, &ev);
    EMIT ("val.event.state");
    ef_proto_write_event_head (&b, ef_str ("s2"), 99);
    EMIT ("val.event.head");
    ef_proto_write_event_slim_head (&b, 99, 1);
    EMIT ("val.event.slim_head");
    ef_proto_write_event_slim_head (&b, 99, 0);
    EMIT ("val.event.slim_head.no_state");

    ef_stream_info_t s = {ef_str ("id1"), ef_str ("orders"), 1, 2, 3, 4,
                          EF_STR_NULL,    EF_STR_NULL};
    ef_proto_write_stream (&b, &s);
    EMIT ("val.stream");
    s.schema = ef_str ("{}");
    s.pipeline = ef_str ("[]");
    ef_proto_write_stream (&b, &s);
    EMIT ("val.stream.schema");

    ef_publish_result_t r = {0};
    r.event_id = ef_str (UUID_A);
    r.seq = 4;
    r.received_at = 5;
    ef_proto_write_result (&b, &r);
    EMIT ("val.result");
    r.duplicate = 1;
    ef_proto_write_result (&b, &r);
    EMIT ("val.result.duplicate");
    memset (&r, 0, sizeof r);
    r.code = EF_EVALIDATION;
    r.index = 3;
    r.message = ef_str ("/a: must be >= 0");
    ef_proto_write_result (&b, &r);
    EMIT ("val.result.error");
    r.code = EF_EINVAL;
    r.message = EF_STR_NULL;
    ef_proto_write_result (&b, &r);
    EMIT ("val.result.error.default");
    r.code = EF_ERATE;
    r.retry_after_ms = 77;
    ef_proto_write_result (&b, &r);
    EMIT ("val.result.rate");

    ef_stats_t st = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0};
    ef_proto_write_stats (&b, &st);
    EMIT ("val.stats");
    ef_hello_t h = {ef_str ("eventflow"), ef_str ("1.2.3"), 1, 4, 5, 6, 7};
    ef_proto_reply_ok (&b, 1, 4);
    ef_proto_write_hello (&b, &h);
    EMIT ("rep.hello");
    ef_user_info_t u = {ef_str ("u1"), ef_str ("a@b.c"), ef_str ("admin"),
                        ef_str ("o1"), 55};
    ef_proto_write_user (&b, &u);
    EMIT ("val.user");
    ef_apikey_info_t k = {0};
    k.id = ef_str ("k1");
    k.name = ef_str ("n");
    k.role = ef_str ("producer");
    k.producer = 1;
    k.streams[0] = ef_str ("a");
    k.n_streams = 1;
    k.per_second = 10;
    k.burst = 20;
    k.created_at = 30;
    ef_proto_write_apikey (&b, &k);
    EMIT ("val.apikey");
    k.revoked_at = 40;
    k.n_streams = 0;
    ef_proto_write_apikey (&b, &k);
    EMIT ("val.apikey.revoked");
    ef_clientkey_info_t ck = {ef_str ("pk"), ef_str ("admin"), ef_str ("n"), 1,
                              0};
    ef_proto_write_clientkey (&b, &ck);
    EMIT ("val.clientkey");
    ck.revoked_at = 2;
    ef_proto_write_clientkey (&b, &ck);
    EMIT ("val.clientkey.revoked");
#undef EMIT
    ef_buf_free (&b);
}

static void
test_every_message_encodes_to_the_pinned_bytes (void **state)
{
    (void)state;
    s_out_t o;
    ef_buf_init (&o.text);
    s_requests (&o);
    s_replies (&o);
    assert_false (o.text.oom);
    if (getenv ("EF_GOLDEN_WRITE")) {
        FILE *f = fopen (EF_GOLDEN, "wb");
        assert_non_null (f);
        assert_int_equal (fwrite (o.text.data, 1, o.text.len, f), o.text.len);
        fclose (f);
    }
    FILE *f = fopen (EF_GOLDEN, "rb");
    assert_non_null (f);
    char *want = malloc (o.text.len + 2);
    assert_non_null (want);
    size_t n = fread (want, 1, o.text.len + 1, f);
    fclose (f);
    /* the first line that differs, by name, for whoever reads the log */
    const char *a = o.text.data, *w = want;
    size_t i = 0;
    while (i < n && i < o.text.len && a[i] == w[i])
        i++;
    if (i != n || n != o.text.len) {
        size_t s = i;
        while (s > 0 && a[s - 1] != '\n')
            s--;
        fail_msg ("wire bytes differ from %s at: %.60s", EF_GOLDEN, a + s);
    }
    free (want);
    ef_buf_free (&o.text);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_message_encodes_to_the_pinned_bytes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
