/*  jsonmp.c: fuzz target for the crossings between msgpack and JSON: the
    bounded msgpack reader (ef_mp.c), msgpack written out as JSON
    (ef_json_from_mp, with and without times), a reply's keys as one
    JSON object (ef_proto_reply_json), and a stored event read from
    msgpack and rendered as the API's Event (ef_event_json). JSON crosses
    the wire as text inside msgpack strings (a payload is never turned
    into msgpack values), so the way back is checked as that: an event
    read, written and read again keeps its bytes. Properties: whatever
    the input, the JSON written is valid; ef_mp_validate accepts exactly
    what ef_mpr_skip can walk to the end. */
#include <string.h>

#include "eventflow/ef_error.h"
#include "eventflow/ef_event_json.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_mp.h"
#include "eventflow/ef_proto.h"
#include "fuzz.h"

static void
s_check_json (const ef_buf_t *b)
{
    const char *why = NULL;
    size_t at = 0;
    int rc = ef_json_validate (b->data, b->len, 1000, &at, &why);
    if (rc)
        fprintf (stderr, "invalid JSON at %zu (%s): %.*s\n", at, why,
                 (int)b->len, b->data);
    FZ_CHECK (rc == 0);
}

static int
s_str_same (ef_str_t a, ef_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp (a.ptr, b.ptr, a.len) == 0);
}

static void
s_event (const uint8_t *data, size_t size)
{
    ef_mpr_t r;
    ef_event_t ev;
    memset (&ev, 0, sizeof ev);
    ef_mpr_init (&r, data, size);
    if (ef_proto_read_event (&r, &ev))
        return;
    ef_buf_t b;
    ef_buf_init (&b);
    ef_event_json (&b, &ev, 0);
    s_check_json (&b);
    ef_buf_reset (&b);
    ef_event_json (&b, &ev, EF_EVENT_JSON_LINE);
    s_check_json (&b);
    FZ_CHECK (memchr (b.data, '\n', b.len) == NULL);
    /* written as replies carry it and read back: the same fields */
    ef_buf_reset (&b);
    ef_proto_write_event (&b, &ev);
    ef_event_t again;
    memset (&again, 0, sizeof again);
    ef_mpr_init (&r, b.data, b.len);
    FZ_CHECK (ef_proto_read_event (&r, &again) == 0);
    FZ_CHECK (s_str_same (again.event_id, ev.event_id));
    FZ_CHECK (s_str_same (again.type, ev.type));
    FZ_CHECK (s_str_same (again.payload, ev.payload));
    FZ_CHECK (s_str_same (again.result, ev.result));
    FZ_CHECK (again.seq == ev.seq && again.occurred_at == ev.occurred_at);
    ef_buf_free (&b);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    ef_mpr_t r;
    int valid = ef_mp_validate (data, size, EF_MSGPACK_DEPTH) == 0;
    ef_mpr_init (&r, data, size);
    int walked = ef_mpr_skip (&r, EF_MSGPACK_DEPTH) == 0;
    if (valid)
        FZ_CHECK (walked);
    ef_buf_t b;
    ef_buf_init (&b);
    /* callers render only validated msgpack (a reply is validated whole
       when decoded): an unvalidated header could claim 4 G items */
    for (int times = 0; valid && times < 2; times++) {
        ef_buf_reset (&b);
        ef_mpr_init (&r, data, size);
        ef_json_from_mp (&b, &r, times);
        s_check_json (&b);
    }
    ef_reply_t rep;
    if (ef_proto_decode_reply (data, size, &rep) == 0) {
        ef_buf_reset (&b);
        ef_proto_reply_json (&b, &rep);
        s_check_json (&b);
    }
    ef_buf_free (&b);
    s_event (data, size);
    return 0;
}
