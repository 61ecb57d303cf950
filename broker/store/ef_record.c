/*  ef_record.c: the stored form of an event's record (see ef_record.h).
    Field names and the id's text cost ~150 bytes of a 200-byte event:
    the compact form keeps neither, and turns back into the reply's pairs
    as a page is written (replay reads it once per event, so the pairs
    are written by hand here rather than through the codec's tables; the
    unit tests hold the two to the same bytes). */
#include "ef_record.h"
#include "eventflow/ef_error.h"

#include <string.h>

/*  The strings of a compact record, in stored order. */
enum {
    S_TYPE,
    S_SOURCE,
    S_API_KEY,
    S_TRACE,
    S_CORRELATION,
    S_REQUEST,
    S_PAYLOAD,
    S_NSTR
};

/*  A compact record taken apart: its strings as their msgpack bytes (as
    replies copy them; those its flags leave out are not set). */
typedef struct {
    uint8_t flags;
    const uint8_t *id;
    ef_str_t raw[S_NSTR];
    uint64_t version, occurred_at, received_at;
} s_compact_t;

/*  The bytes of the string or nil at p, 0 when it is neither or runs
    past end; its text into *text (unset for nil). Inline, as the codec's
    own fast paths: a page of 10000 events reads 20000 of them. */
static inline size_t
s_str (const uint8_t *p, const uint8_t *end, ef_str_t *text)
{
    size_t avail = (size_t)(end - p), h, n;
    if (avail == 0)
        return 0;
    if ((p[0] & 0xe0) == 0xa0)
        h = 1, n = p[0] & 0x1fu;
    else if (p[0] == 0xc0) {
        *text = EF_STR_NULL;
        return 1;
    } else if (p[0] == 0xd9 && avail >= 2)
        h = 2, n = p[1];
    else if (p[0] == 0xda && avail >= 3)
        h = 3, n = (size_t)p[1] << 8 | p[2];
    else if (p[0] == 0xdb && avail >= 5)
        h = 5,
        n = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
    else
        return 0;
    if (avail - h < n)
        return 0;
    *text = (ef_str_t){(const char *)p + h, (uint32_t)n};
    return h + n;
}

/*  A string (or nil, when nil_ok) at *p into raw. */
static inline int
s_take_str (const uint8_t **p, const uint8_t *end, ef_str_t *raw, int nil_ok)
{
    ef_str_t text;
    size_t n = s_str (*p, end, &text);
    *raw = (ef_str_t){(const char *)*p, (uint32_t)n};
    *p += n;
    return n && (nil_ok || text.ptr) ? 0 : EF_ESTORE;
}

/*  The id's UUIDv7 time (ef_uuid_v7_ms), inline. */
static inline uint64_t
s_v7_ms (const uint8_t *b)
{
    if ((b[6] >> 4) != 7)
        return 0;
    return (uint64_t)b[0] << 40 | (uint64_t)b[1] << 32 | (uint64_t)b[2] << 24 |
           (uint64_t)b[3] << 16 | (uint64_t)b[4] << 8 | b[5];
}

/*  An unsigned integer at *p (any of msgpack's sizes). */
static inline int
s_take_uint (const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    const uint8_t *q = *p;
    size_t avail = (size_t)(end - q), n;
    if (avail && q[0] <= 0x7f) {
        *v = q[0];
        *p += 1;
        return 0;
    }
    if (avail && q[0] >= 0xcc && q[0] <= 0xcf)
        n = (size_t)1 << (q[0] - 0xcc);
    else
        return EF_ESTORE;
    if (avail - 1 < n)
        return EF_ESTORE;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x = x << 8 | q[1 + i];
    *v = x;
    *p += 1 + n;
    return 0;
}

static int
s_parse (ef_str_t record, s_compact_t *c)
{
    const uint8_t *p = (const uint8_t *)record.ptr, *end = p + record.len;
    if (record.len < 18 || p[0] != EF_RECORD_COMPACT)
        return EF_ESTORE;
    uint8_t f = c->flags = p[1];
    c->id = p + 2;
    p += 18;
    int rc = s_take_str (&p, end, &c->raw[S_TYPE], 1);
    c->version = 1;
    if (!rc && (f & EF_RECORD_F_VERSION))
        rc = s_take_uint (&p, end, &c->version);
    if (!rc && (f & EF_RECORD_F_OCCURRED))
        rc = s_take_uint (&p, end, &c->occurred_at);
    if (!rc && (f & EF_RECORD_F_RECEIVED))
        rc = s_take_uint (&p, end, &c->received_at);
    else
        c->received_at = s_v7_ms (c->id);
    if (!(f & EF_RECORD_F_OCCURRED))
        c->occurred_at = c->received_at;
    /* flagged strings are strings (the source may be nil) */
    if (!rc && (f & EF_RECORD_F_SOURCE))
        rc = s_take_str (&p, end, &c->raw[S_SOURCE], 1);
    if (!rc && (f & EF_RECORD_F_API_KEY))
        rc = s_take_str (&p, end, &c->raw[S_API_KEY], 0);
    if (!rc && (f & EF_RECORD_F_TRACE))
        rc = s_take_str (&p, end, &c->raw[S_TRACE], 0);
    if (!rc && (f & EF_RECORD_F_CORRELATION))
        rc = s_take_str (&p, end, &c->raw[S_CORRELATION], 0);
    if (!rc && (f & EF_RECORD_F_REQUEST))
        rc = s_take_str (&p, end, &c->raw[S_REQUEST], 0);
    if (!rc)
        rc = s_take_str (&p, end, &c->raw[S_PAYLOAD], 1);
    /* nothing follows the payload */
    return rc || p != end ? EF_ESTORE : 0;
}

/*  The text of raw string i of c when present, else dflt. */
static ef_str_t
s_text (const s_compact_t *c, int i, int present, ef_str_t dflt)
{
    ef_str_t text = dflt;
    if (present)
        s_str ((const uint8_t *)c->raw[i].ptr,
               (const uint8_t *)c->raw[i].ptr + c->raw[i].len, &text);
    return text;
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
    if (id_text) {
        ef_uuid_format ((const ef_uuid_t *)c.id, id_text);
        ev->event_id = (ef_str_t){id_text, EF_UUID_STRLEN};
    }
    ev->type = s_text (&c, S_TYPE, 1, EF_STR_NULL);
    ev->version = (uint32_t)c.version;
    ev->occurred_at = c.occurred_at;
    ev->received_at = c.received_at;
    ev->source =
        s_text (&c, S_SOURCE, c.flags & EF_RECORD_F_SOURCE, ef_str ("native"));
    ev->api_key_id =
        s_text (&c, S_API_KEY, c.flags & EF_RECORD_F_API_KEY, EF_STR_NULL);
    ev->trace_id =
        s_text (&c, S_TRACE, c.flags & EF_RECORD_F_TRACE, EF_STR_NULL);
    ev->correlation_id = s_text (
        &c, S_CORRELATION, c.flags & EF_RECORD_F_CORRELATION, EF_STR_NULL);
    ev->request_id =
        s_text (&c, S_REQUEST, c.flags & EF_RECORD_F_REQUEST, EF_STR_NULL);
    ev->payload = s_text (&c, S_PAYLOAD, 1, EF_STR_NULL);
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

/*  The 36 characters of id's text at q (as ef_uuid_format writes them),
    unrolled. */
static void
s_put_uuid (uint8_t *q, const uint8_t *b)
{
    static const char hex[] = "0123456789abcdef";
#define S_HEX(i) (q[0] = hex[b[i] >> 4], q[1] = hex[b[i] & 15], q += 2)
    S_HEX (0), S_HEX (1), S_HEX (2), S_HEX (3), *q++ = '-';
    S_HEX (4), S_HEX (5), *q++ = '-';
    S_HEX (6), S_HEX (7), *q++ = '-';
    S_HEX (8), S_HEX (9), *q++ = '-';
    S_HEX (10), S_HEX (11), S_HEX (12), S_HEX (13), S_HEX (14), S_HEX (15);
#undef S_HEX
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
    if (s_parse (record, &c)) {
        /* the reply's map stays whole: its pairs, with nothing in them */
        ef_event_t none = {0};
        ef_proto_write_event_record (out, &none);
        return EF_ESTORE;
    }
    /* the keys (116 bytes), the id's text (38), three numbers (27), a
       default source and nils (11), and the record's strings as stored */
    if (ef_buf_reserve (out, (size_t)record.len + 256)) {
        out->oom = 1;
        return 0;
    }
    uint8_t *q0 = (uint8_t *)out->data + out->len, *q = q0;
    uint8_t f = c.flags;
    q += S_KEY (q, "event_id");
    *q++ = 0xd9; /* str 8 */
    *q++ = EF_UUID_STRLEN;
    s_put_uuid (q, c.id);
    q += EF_UUID_STRLEN;
    q += S_KEY (q, "type");
    memcpy (q, c.raw[S_TYPE].ptr, c.raw[S_TYPE].len);
    q += c.raw[S_TYPE].len;
    q += S_KEY (q, "version");
    q += s_put_uint (q, c.version);
    q += S_KEY (q, "occurred_at");
    q += s_put_uint (q, c.occurred_at);
    q += S_KEY (q, "received_at");
    q += s_put_uint (q, c.received_at);
    q += S_KEY (q, "source");
    if (f & EF_RECORD_F_SOURCE) {
        memcpy (q, c.raw[S_SOURCE].ptr, c.raw[S_SOURCE].len);
        q += c.raw[S_SOURCE].len;
    } else
        q += S_KEY (q, "native");
    q += S_KEY (q, "api_key_id");
    q += s_put_opt (q, f & EF_RECORD_F_API_KEY, c.raw[S_API_KEY]);
    q += S_KEY (q, "context");
    *q++ = (f & EF_RECORD_F_REQUEST) ? 0x83 : 0x82;
    q += S_KEY (q, "trace_id");
    q += s_put_opt (q, f & EF_RECORD_F_TRACE, c.raw[S_TRACE]);
    q += S_KEY (q, "correlation_id");
    q += s_put_opt (q, f & EF_RECORD_F_CORRELATION, c.raw[S_CORRELATION]);
    if (f & EF_RECORD_F_REQUEST) {
        q += S_KEY (q, "request_id");
        memcpy (q, c.raw[S_REQUEST].ptr, c.raw[S_REQUEST].len);
        q += c.raw[S_REQUEST].len;
    }
    q += S_KEY (q, "payload");
    memcpy (q, c.raw[S_PAYLOAD].ptr, c.raw[S_PAYLOAD].len);
    q += c.raw[S_PAYLOAD].len;
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
        ef_str_t type;
        const uint8_t *p = (const uint8_t *)record.ptr + 18,
                      *end = (const uint8_t *)record.ptr + record.len;
        if (s_take_str (&p, end, &type, 1) ||
            ((f & EF_RECORD_F_VERSION) && s_take_uint (&p, end, &v)) ||
            ((f & EF_RECORD_F_OCCURRED) && s_take_uint (&p, end, &v)) ||
            s_take_uint (&p, end, &v))
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
