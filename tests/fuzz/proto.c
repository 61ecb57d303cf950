/*  proto.c: fuzz target for the wire codec (clients/c/ef_proto*.c), every
    command through the one request decoder and every reply shape through
    the reply decoder and its readers. Properties: a request the decoder
    takes encodes, and what it encodes to decodes again and encodes to
    the same bytes (the codec's tables agree with themselves for any
    input, not only for the golden frames); each PUBLISH item can be
    checked; a reply the decoder takes renders as valid JSON. */
#include <string.h>

#include "eventflow/ef_error.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_mp.h"
#include "eventflow/ef_proto.h"
#include "fuzz.h"

#define S_EVENTS 64

static void
s_request (const uint8_t *data, size_t size)
{
    static ef_event_in_t events[S_EVENTS], again_events[S_EVENTS];
    ef_request_t req, again;
    const char *why = NULL;
    if (ef_proto_decode_request (data, size, &req, events, S_EVENTS, &why))
        return;
    ef_buf_t first, second;
    ef_buf_init (&first);
    ef_buf_init (&second);
    if (ef_proto_encode_request (&first, &req) == 0) {
        int rc = ef_proto_decode_request (first.data, first.len, &again,
                                          again_events, S_EVENTS, &why);
        if (rc)
            fprintf (stderr, "re-decode: %s (%s)\n", ef_strerror (rc),
                     why ? why : "");
        FZ_CHECK (rc == 0);
        FZ_CHECK (again.cmd == req.cmd && again.id == req.id);
        FZ_CHECK (again.n_events == req.n_events);
        FZ_CHECK (ef_proto_encode_request (&second, &again) == 0);
        FZ_CHECK (second.len == first.len &&
                  memcmp (second.data, first.data, first.len) == 0);
    }
    for (uint32_t i = 0; i < req.n_events; i++)
        ef_proto_check_event (&events[i], EF_MAX_PAYLOAD_DEFAULT);
    ef_proto_name_valid (req.stream);
    ef_proto_request_id_ok (req.request_id);
    char trace[33];
    ef_proto_traceparent (req.traceparent, trace);
    ef_buf_free (&first);
    ef_buf_free (&second);
}

static void
s_reply (const uint8_t *data, size_t size)
{
    ef_reply_t rep;
    if (ef_proto_decode_reply (data, size, &rep))
        return;
    ef_buf_t json;
    ef_buf_init (&json);
    ef_proto_reply_json (&json, &rep);
    FZ_CHECK (ef_json_validate (json.data, json.len, 1000, NULL, NULL) == 0);
    ef_buf_free (&json);
    ef_hello_t hello;
    ef_proto_read_hello (&rep, &hello);
    static const char *const keys[] = {"event", "events", "stream", "result",
                                       "stats", "user",   "key",    "items"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        ef_mpr_t r;
        if (ef_proto_reply_find (&rep, keys[i], &r) == 0) {
            ef_mpr_t s = r;
            ef_mpr_skip (&s, EF_MSGPACK_DEPTH);
        }
    }
}

/*  The value readers, each from the start of the input. */
static void
s_values (const uint8_t *data, size_t size)
{
    ef_mpr_t r;
    ef_event_t ev;
    ef_mpr_init (&r, data, size);
    ef_proto_read_event (&r, &ev);
    ef_stream_info_t st;
    ef_mpr_init (&r, data, size);
    ef_proto_read_stream (&r, &st);
    ef_publish_result_t res;
    ef_mpr_init (&r, data, size);
    ef_proto_read_result (&r, &res);
    ef_stats_t stats;
    ef_mpr_init (&r, data, size);
    ef_proto_read_stats (&r, &stats);
    ef_user_info_t u;
    ef_mpr_init (&r, data, size);
    ef_proto_read_user (&r, &u);
    ef_apikey_info_t k;
    ef_mpr_init (&r, data, size);
    ef_proto_read_apikey (&r, &k);
    ef_clientkey_info_t ck;
    ef_mpr_init (&r, data, size);
    ef_proto_read_clientkey (&r, &ck);
    ef_field_error_t fe;
    ef_mpr_init (&r, data, size);
    ef_proto_read_field_error (&r, &fe);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_request (data, size);
    s_reply (data, size);
    s_values (data, size);
    return 0;
}
