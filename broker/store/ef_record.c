/*  ef_record.c: the stored form of an event's record (see ef_record.h).
    Field names and the id's text cost ~130 bytes of a 200-byte event:
    the compact form keeps neither, and turns back into the reply's pairs
    as a page is written (replay reads it once per event, so the pairs
    are written by hand here rather than through the codec's tables; the
    unit tests hold the two to the same bytes). */
#include "ef_record.h"
#include "eventflow/ef_error.h"

#include <string.h>

/*  A compact record taken apart: each string both as its msgpack bytes
    (raw, copied into replies) and as its text (val; unset for nil). */
typedef struct {
    uint8_t flags;
    const uint8_t *id;
    ef_str_t raw_type, type, raw_source, source, raw_api_key_id, api_key_id,
        raw_trace_id, trace_id, raw_correlation_id, correlation_id,
        raw_request_id, request_id, raw_payload, payload;
    uint64_t version, occurred_at, received_at;
} s_compact_t;

/*  A string or nil. */
static int
s_str (ef_mpr_t *r, ef_str_t *raw, ef_str_t *val)
{
    const uint8_t *at = r->p;
    if (ef_mpr_nil (r))
        *val = EF_STR_NULL;
    else if (ef_mpr_str (r, val))
        return EF_ESTORE;
    *raw = (ef_str_t){(const char *)at, (uint32_t)(r->p - at)};
    return 0;
}

static int
s_uint (ef_mpr_t *r, uint64_t *v)
{
    return ef_mpr_uint (r, v) ? EF_ESTORE : 0;
}

static int
s_parse (ef_str_t record, s_compact_t *c)
{
    const uint8_t *p = (const uint8_t *)record.ptr;
    if (record.len < 18 || p[0] != EF_RECORD_COMPACT)
        return EF_ESTORE;
    c->flags = p[1];
    c->id = p + 2;
    ef_mpr_t r;
    ef_mpr_init (&r, p + 18, record.len - 18);
    uint8_t f = c->flags;
    int rc = s_str (&r, &c->raw_type, &c->type);
    c->version = 1;
    if (!rc && (f & EF_RECORD_F_VERSION))
        rc = s_uint (&r, &c->version);
    if (!rc && (f & EF_RECORD_F_OCCURRED))
        rc = s_uint (&r, &c->occurred_at);
    if (!rc && (f & EF_RECORD_F_RECEIVED))
        rc = s_uint (&r, &c->received_at);
    else if (!rc)
        c->received_at = ef_uuid_v7_ms ((const ef_uuid_t *)c->id);
    if (!(f & EF_RECORD_F_OCCURRED))
        c->occurred_at = c->received_at;
    c->raw_source = c->source = ef_str ("native");
    if (!rc && (f & EF_RECORD_F_SOURCE))
        rc = s_str (&r, &c->raw_source, &c->source);
    c->api_key_id = c->trace_id = c->correlation_id = c->request_id =
        EF_STR_NULL;
    if (!rc && (f & EF_RECORD_F_API_KEY))
        rc = s_str (&r, &c->raw_api_key_id, &c->api_key_id);
    if (!rc && (f & EF_RECORD_F_TRACE))
        rc = s_str (&r, &c->raw_trace_id, &c->trace_id);
    if (!rc && (f & EF_RECORD_F_CORRELATION))
        rc = s_str (&r, &c->raw_correlation_id, &c->correlation_id);
    if (!rc && (f & EF_RECORD_F_REQUEST))
        rc = s_str (&r, &c->raw_request_id, &c->request_id);
    if (!rc)
        rc = s_str (&r, &c->raw_payload, &c->payload);
    /* flagged strings are strings, and nothing follows the payload */
    if (!rc &&
        (((f & EF_RECORD_F_API_KEY) && !c->api_key_id.ptr) ||
         ((f & EF_RECORD_F_TRACE) && !c->trace_id.ptr) ||
         ((f & EF_RECORD_F_CORRELATION) && !c->correlation_id.ptr) ||
         ((f & EF_RECORD_F_REQUEST) && !c->request_id.ptr) || r.p != r.end))
        rc = EF_ESTORE;
    return rc;
}

void
ef_record_write (ef_buf_t *b, const ef_event_t *ev, const ef_uuid_t *id)
{
    uint8_t f = 0;
    if (ev->version != 1)
        f |= EF_RECORD_F_VERSION;
    if (ev->occurred_at != ev->received_at)
        f |= EF_RECORD_F_OCCURRED;
    if (ev->received_at != ef_uuid_v7_ms (id))
        f |= EF_RECORD_F_RECEIVED;
    if (!ef_str_set (ev->source) || !ef_str_eq (ev->source, "native"))
        f |= EF_RECORD_F_SOURCE;
    if (ef_str_set (ev->api_key_id))
        f |= EF_RECORD_F_API_KEY;
    if (ef_str_set (ev->trace_id))
        f |= EF_RECORD_F_TRACE;
    if (ef_str_set (ev->correlation_id))
        f |= EF_RECORD_F_CORRELATION;
    if (ef_str_set (ev->request_id))
        f |= EF_RECORD_F_REQUEST;
    uint8_t head[18] = {EF_RECORD_COMPACT, f};
    memcpy (head + 2, id->b, 16);
    ef_buf_append (b, head, sizeof head);
    ef_mp_xstr (b, ev->type);
    if (f & EF_RECORD_F_VERSION)
        ef_mp_uint (b, ev->version);
    if (f & EF_RECORD_F_OCCURRED)
        ef_mp_uint (b, ev->occurred_at);
    if (f & EF_RECORD_F_RECEIVED)
        ef_mp_uint (b, ev->received_at);
    if (f & EF_RECORD_F_SOURCE)
        ef_mp_xstr (b, ev->source);
    if (f & EF_RECORD_F_API_KEY)
        ef_mp_xstr (b, ev->api_key_id);
    if (f & EF_RECORD_F_TRACE)
        ef_mp_xstr (b, ev->trace_id);
    if (f & EF_RECORD_F_CORRELATION)
        ef_mp_xstr (b, ev->correlation_id);
    if (f & EF_RECORD_F_REQUEST)
        ef_mp_xstr (b, ev->request_id);
    ef_mp_xstr (b, ev->payload);
}

int
ef_record_read (ef_str_t record, ef_event_t *ev,
                char id_text[EF_UUID_STRLEN + 1])
{
    s_compact_t c;
    if (record.len && (uint8_t)record.ptr[0] != EF_RECORD_COMPACT) {
        ef_mpr_t r;
        ef_mpr_init (&r, record.ptr, record.len);
        return ef_proto_read_event_kv (&r, EF_EVENT_RECORD_KEYS, ev) ? EF_ESTORE
                                                                     : 0;
    }
    if (s_parse (record, &c))
        return EF_ESTORE;
    ef_uuid_format ((const ef_uuid_t *)c.id, id_text);
    ev->event_id = (ef_str_t){id_text, EF_UUID_STRLEN};
    ev->type = c.type;
    ev->version = (uint32_t)c.version;
    ev->occurred_at = c.occurred_at;
    ev->received_at = c.received_at;
    ev->source = c.source;
    ev->api_key_id = c.api_key_id;
    ev->trace_id = c.trace_id;
    ev->correlation_id = c.correlation_id;
    ev->request_id = c.request_id;
    ev->payload = c.payload;
    return 0;
}

/* ---------------------------------------------------------------- pairs */

/*  A key (a fixstr) at q; its size. */
#define S_KEY(q, lit)                                                          \
    ((q)[0] = (uint8_t)(0xa0 | (sizeof (lit) - 1)),                            \
     memcpy ((q) + 1, (lit), sizeof (lit) - 1), sizeof (lit))

/*  v as ef_mp_uint packs it. */
static size_t
s_put_uint (uint8_t *q, uint64_t v)
{
    size_t n;
    if (v < 128) {
        q[0] = (uint8_t)v;
        return 1;
    }
    if (v < 256)
        q[0] = 0xcc, n = 1;
    else if (v < 65536)
        q[0] = 0xcd, n = 2;
    else if (v <= UINT32_MAX)
        q[0] = 0xce, n = 4;
    else
        q[0] = 0xcf, n = 8;
    for (size_t i = 0; i < n; i++)
        q[1 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    return 1 + n;
}

/*  A flagged string's bytes, else nil. */
static size_t
s_put_opt (uint8_t *q, int flagged, ef_str_t raw)
{
    if (!flagged) {
        q[0] = 0xc0;
        return 1;
    }
    memcpy (q, raw.ptr, raw.len);
    return raw.len;
}

int
ef_record_write_pairs (ef_buf_t *out, ef_str_t record)
{
    if (!record.len || (uint8_t)record.ptr[0] != EF_RECORD_COMPACT) {
        ef_buf_append (out, record.ptr, record.len);
        return 0;
    }
    s_compact_t c;
    if (s_parse (record, &c))
        return EF_ESTORE;
    /* the keys (116 bytes), the id's text (38), three numbers (27), a
       default source and nils (11), and the record's strings as stored */
    if (ef_buf_reserve (out, (size_t)record.len + 256)) {
        out->oom = 1;
        return 0;
    }
    uint8_t *q0 = (uint8_t *)out->data + out->len, *q = q0;
    uint8_t f = c.flags;
    char id[EF_UUID_STRLEN + 1];
    ef_uuid_format ((const ef_uuid_t *)c.id, id);
    q += S_KEY (q, "event_id");
    *q++ = 0xd9; /* str 8 */
    *q++ = EF_UUID_STRLEN;
    memcpy (q, id, EF_UUID_STRLEN);
    q += EF_UUID_STRLEN;
    q += S_KEY (q, "type");
    memcpy (q, c.raw_type.ptr, c.raw_type.len);
    q += c.raw_type.len;
    q += S_KEY (q, "version");
    q += s_put_uint (q, c.version);
    q += S_KEY (q, "occurred_at");
    q += s_put_uint (q, c.occurred_at);
    q += S_KEY (q, "received_at");
    q += s_put_uint (q, c.received_at);
    q += S_KEY (q, "source");
    if (f & EF_RECORD_F_SOURCE) {
        memcpy (q, c.raw_source.ptr, c.raw_source.len);
        q += c.raw_source.len;
    } else
        q += S_KEY (q, "native");
    q += S_KEY (q, "api_key_id");
    q += s_put_opt (q, f & EF_RECORD_F_API_KEY, c.raw_api_key_id);
    q += S_KEY (q, "context");
    *q++ = (f & EF_RECORD_F_REQUEST) ? 0x83 : 0x82;
    q += S_KEY (q, "trace_id");
    q += s_put_opt (q, f & EF_RECORD_F_TRACE, c.raw_trace_id);
    q += S_KEY (q, "correlation_id");
    q += s_put_opt (q, f & EF_RECORD_F_CORRELATION, c.raw_correlation_id);
    if (f & EF_RECORD_F_REQUEST) {
        q += S_KEY (q, "request_id");
        memcpy (q, c.raw_request_id.ptr, c.raw_request_id.len);
        q += c.raw_request_id.len;
    }
    q += S_KEY (q, "payload");
    memcpy (q, c.raw_payload.ptr, c.raw_payload.len);
    q += c.raw_payload.len;
    out->len += (size_t)(q - q0);
    return 0;
}

/* ---------------------------------------------------------------- fields */

int
ef_record_id (ef_str_t record, ef_uuid_t *id)
{
    if (record.len >= 18 && (uint8_t)record.ptr[0] == EF_RECORD_COMPACT) {
        memcpy (id->b, record.ptr + 2, 16);
        return 0;
    }
    ef_event_t ev = {0};
    ef_mpr_t r;
    ef_mpr_init (&r, record.ptr, record.len);
    if (ef_proto_read_event_kv (&r, EF_EVENT_RECORD_KEYS, &ev) ||
        !ev.event_id.ptr)
        return EF_EINVAL;
    return ef_uuid_parse (ev.event_id.ptr, ev.event_id.len, id);
}

uint64_t
ef_record_received_at (ef_str_t record)
{
    ef_mpr_t r;
    if (record.len && (uint8_t)record.ptr[0] == EF_RECORD_COMPACT) {
        /* type, version and occurred_at stand before it */
        if (record.len < 18)
            return 0;
        uint8_t f = (uint8_t)record.ptr[1];
        if (!(f & EF_RECORD_F_RECEIVED))
            return ef_uuid_v7_ms ((const ef_uuid_t *)(record.ptr + 2));
        uint64_t v = 0;
        ef_str_t raw, type;
        ef_mpr_init (&r, record.ptr + 18, record.len - 18);
        if (s_str (&r, &raw, &type) ||
            ((f & EF_RECORD_F_VERSION) && ef_mpr_uint (&r, &v)) ||
            ((f & EF_RECORD_F_OCCURRED) && ef_mpr_uint (&r, &v)) ||
            ef_mpr_uint (&r, &v))
            return 0;
        return v;
    }
    /* a record in pairs is written by us, so its keys are known; a short
       scan finds it */
    ef_mpr_init (&r, record.ptr, record.len);
    for (int i = 0; i < EF_EVENT_RECORD_KEYS; i++) {
        ef_str_t k;
        if (ef_mpr_str (&r, &k))
            return 0;
        if (ef_str_eq (k, "received_at")) {
            uint64_t v = 0;
            ef_mpr_uint (&r, &v);
            return v;
        }
        if (ef_mpr_skip (&r, EF_MSGPACK_DEPTH))
            return 0;
    }
    return 0;
}
