/*  ef_proto.c: the tables' walkers and the value rules of protocol
    version 1 (schemas/protocol.md). Every message and record is a table
    of its keys (ef_proto_int.h); the functions here write a table's
    present fields and read a map through it, so that no key is spelled
    twice. Requests are in ef_proto_req.c, replies in ef_proto_reply.c.
    Also here: command names and the checks of single values (request_id,
    traceparent, status, names, one PUBLISH item). */
#include "eventflow/ef_proto.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_event_rules.h"
#include "eventflow/ef_uuid.h"
#include "ef_proto_int.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *s_cmd_names[EF_CMD_COUNT] = {
    NULL,
    "HELLO",
    "PING",
    "CREATE_STREAM",
    "LIST_STREAMS",
    "GET_STREAM",
    "PUBLISH",
    "GET_EVENT",
    "READ",
    "LIST_EVENTS",
    "STATS",
    "REGISTER",
    "LOGIN",
    "REFRESH",
    "LOGOUT",
    "WHOAMI",
    "USER_CREATE",
    "USER_LIST",
    "USER_GET",
    "USER_UPDATE",
    "USER_DELETE",
    "APIKEY_CREATE",
    "APIKEY_LIST",
    "APIKEY_REVOKE",
    "CLIENTKEY_ADD",
    "CLIENTKEY_LIST",
    "CLIENTKEY_REVOKE",
    "UPDATE_STREAM",
    "DELETE_STREAM",
    "FETCH",
    "COMMIT",
    "SEEK",
    "LIST_GROUPS",
    "SUBSCRIBE",
    "CREDIT",
    "UNSUBSCRIBE",
    "READY",
    "DONE",
    "FAIL",
    "WORKERS",
    "DLQ_LIST",
    "DLQ_GET",
    "DLQ_REPLAY",
    "DLQ_DELETE",
    "LEAVE",
    "PASSWORD",
    "EVENT_HISTORY",
    "CHECK_STREAM",
    "DLQ_REASONS",
    "BACKUP",
    "BACKUP_STATUS",
    "ROTATE_JWT_KEY",
    "GATEWAY_KEY_NEW",
    "GATEWAY_KEY_PROMOTE",
};

const char *
ef_cmd_name (ef_cmd_t cmd)
{
    return (cmd > EF_CMD_NONE && cmd < EF_CMD_COUNT) ? s_cmd_names[cmd] : NULL;
}

ef_cmd_t
ef_cmd_from_name (ef_str_t name)
{
    for (int i = 1; i < EF_CMD_COUNT; i++)
        if (ef_str_eq (name, s_cmd_names[i]))
            return (ef_cmd_t)i;
    return EF_CMD_NONE;
}


/* ---------------------------------------------------------------- tables */

#define S_AT(base, f, type)  ((type *)((char *)(base) + (f)->off))
#define S_AUX(base, f, type) ((type *)((char *)(base) + (f)->aux))

/*  1 if the n bytes at a and b are the same. Keys are short: two
    overlapping word loads from each side (never past either end) instead
    of a call to memcmp, as a compiler does for a literal's length. */
static inline int
s_same_bytes (const char *a, const char *b, uint32_t n)
{
    uint64_t x, y, u, v;
    if (n >= 8) {
        memcpy (&x, a, 8), memcpy (&y, b, 8);
        memcpy (&u, a + n - 8, 8), memcpy (&v, b + n - 8, 8);
        return n <= 16 ? (x == y && u == v) : (x == y && memcmp (a, b, n) == 0);
    }
    if (n >= 4) {
        uint32_t p, q, r, t;
        memcpy (&p, a, 4), memcpy (&q, b, 4);
        memcpy (&r, a + n - 4, 4), memcpy (&t, b + n - 4, 4);
        return p == q && r == t;
    }
    for (uint32_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/*  1 if f's key is k. */
static inline int
s_is_key (const ef_proto_field_t *f, ef_str_t k)
{
    return f->klen == k.len && s_same_bytes (f->key, k.ptr, k.len);
}

const ef_proto_field_t *
ef_proto_field_find (const ef_proto_table_t *t, ef_str_t k)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (s_is_key (&t->f[i], k))
            return &t->f[i];
    return NULL;
}

uint32_t
ef_proto_fields_count (const ef_proto_table_t *t, const void *base)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->n; i++)
        n += (uint32_t)ef_proto_field_present (&t->f[i], base);
    return n;
}

static uint32_t s_put_pairs (ef_buf_t *b, const ef_proto_table_t *t,
                             const void *base);

/*  A field's key (a fixstr: keys are short), straight into the buffer
    when it has room. */
static inline void
s_put_key (ef_buf_t *b, const ef_proto_field_t *f)
{
    if (b->cap - b->len <= f->klen) {
        ef_mp_str (b, f->key, f->klen);
        return;
    }
    char *q = b->data + b->len;
    q[0] = (char)(0xa0 | f->klen);
    for (uint32_t i = 0; i < f->klen; i++)
        q[1 + i] = f->key[i];
    b->len += 1u + f->klen;
}

/*  A map of t's present fields. With at most 15 (a one-byte header) the
    fields are written in one pass and the header is set after. */
static uint32_t
s_put_map (ef_buf_t *b, const ef_proto_table_t *t, const void *base)
{
    if (t->n > 15) {
        uint32_t n = ef_proto_fields_count (t, base);
        ef_mp_map (b, n);
        ef_proto_fields_write (b, t, base);
        return n;
    }
    size_t at = b->len;
    ef_mp_map (b, 0);
    uint32_t n = s_put_pairs (b, t, base);
    if (!b->oom && at < b->len)
        b->data[at] = (char)(0x80 | n);
    return n;
}

/*  One field's value. */
static void
s_put_value (ef_buf_t *b, const ef_proto_field_t *f, const void *base)
{
    uint64_t u = 0;
    switch (f->kind) {
    case EF_PF_STR:
        ef_mp_xstr (b, *S_AT (base, f, const ef_str_t));
        return;
    case EF_PF_U64:
        u = *S_AT (base, f, const uint64_t);
        break;
    case EF_PF_U32:
        u = *S_AT (base, f, const uint32_t);
        break;
    case EF_PF_BOOL:
        ef_mp_bool (b, *S_AT (base, f, const int));
        return;
    case EF_PF_MAP:
        s_put_map (b, f->sub, base);
        return;
    case EF_PF_STRS: {
        const ef_str_t *s = S_AT (base, f, const ef_str_t);
        uint32_t n = *S_AUX (base, f, const uint32_t);
        ef_mp_array (b, n);
        for (uint32_t i = 0; i < n; i++)
            ef_mp_xstr (b, s[i]);
        return;
    }
    case EF_PF_DUP:
        ef_mp_cstr (b, *S_AT (base, f, const int) ? "DUPLICATE" : "ACCEPTED");
        return;
    case EF_PF_LIST: {
        const ef_str_t *s = S_AT (base, f, const ef_str_t);
        ef_buf_append (b, s->ptr, s->len);
        return;
    }
    default:
        ef_mp_nil (b);
        return;
    }
    if (u == 0 && (f->flags & EF_PF_NILZ))
        ef_mp_nil (b);
    else
        ef_mp_uint (b, u);
}

/*  The present fields of t as pairs; their number. A map written only
    when set is taken back when none of its fields was. */
static uint32_t
s_put_pairs (ef_buf_t *b, const ef_proto_table_t *t, const void *base)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->n; i++) {
        const ef_proto_field_t *f = &t->f[i];
        if (!ef_proto_field_present (f, base))
            continue;
        s_put_key (b, f);
        s_put_value (b, f, base);
        n++;
    }
    return n;
}

void
ef_proto_field_write (ef_buf_t *b, const ef_proto_field_t *f, const void *base)
{
    s_put_key (b, f);
    s_put_value (b, f, base);
}

void
ef_proto_fields_write (ef_buf_t *b, const ef_proto_table_t *t, const void *base)
{
    s_put_pairs (b, t, base);
}

void
ef_proto_record_write (ef_buf_t *b, const ef_proto_table_t *t, const void *base)
{
    s_put_map (b, t, base);
}

int
ef_proto_opt_str (ef_mpr_t *r, ef_str_t *s)
{
    if (ef_mpr_nil (r)) {
        *s = EF_STR_NULL;
        return 0;
    }
    return ef_mpr_str (r, s);
}

/*  A string, inline where it is a fixstr (every key, and most values of
    a record), else ef_mpr_str: a page of 1000 events reads some 30,000
    of them. */
static inline int
s_read_str (ef_mpr_t *r, ef_str_t *s)
{
    size_t avail = (size_t)(r->end - r->p);
    uint8_t c = avail ? r->p[0] : 0;
    if ((c & 0xe0) == 0xa0 && avail - 1 >= (c & 0x1fu)) {
        s->len = c & 0x1fu;
        s->ptr = (const char *)r->p + 1;
        r->p += 1 + s->len;
        return 0;
    }
    return ef_mpr_str (r, s);
}

/*  An unsigned integer, inline where it is a positive fixint or a uint 64
    (the times of a record), else ef_mpr_uint. */
static inline int
s_read_uint (ef_mpr_t *r, uint64_t *v)
{
    size_t avail = (size_t)(r->end - r->p);
    if (avail && r->p[0] <= 0x7f) {
        *v = *r->p++;
        return 0;
    }
    if (avail >= 9 && r->p[0] == 0xcf) {
        uint64_t x = 0;
        for (int i = 1; i <= 8; i++) /* one bswap where the host is LE */
            x = (x << 8) | r->p[i];
        *v = x;
        r->p += 9;
        return 0;
    }
    return ef_mpr_uint (r, v);
}

/*  One value by f's kind (see ef_proto_field_read); inline in the loop
    that reads a map, the replay hot path. */
static inline int
s_read_value (ef_mpr_t *r, const ef_proto_field_t *f, void *base)
{
    uint64_t u = 0;
    int rc;
    if (f->kind == EF_PF_STR) { /* the most of any record: first */
        ef_str_t *v = S_AT (base, f, ef_str_t);
        if ((f->flags & EF_PF_NIL) && r->p < r->end && r->p[0] == 0xc0) {
            r->p++;
            *v = EF_STR_NULL;
            return 0;
        }
        return s_read_str (r, v);
    }
    if (f->flags & EF_PF_SEEN)
        *S_AUX (base, f, uint64_t) = 1;
    if ((f->flags & EF_PF_NIL) && r->p < r->end && r->p[0] == 0xc0) {
        r->p++;
        if (f->kind == EF_PF_U64)
            *S_AT (base, f, uint64_t) = 0;
        else if (f->kind == EF_PF_U32)
            *S_AT (base, f, uint32_t) = 0;
        return 0;
    }
    switch (f->kind) {
    case EF_PF_U64:
        return s_read_uint (r, S_AT (base, f, uint64_t));
    case EF_PF_U32:
        rc = s_read_uint (r, &u);
        *S_AT (base, f, uint32_t) = (uint32_t)u;
        return rc;
    case EF_PF_BOOL:
        return ef_mpr_bool (r, S_AT (base, f, int));
    case EF_PF_MAP:
        if (f->when == EF_PW_HAS)
            *S_AUX (base, f, int) = 1;
        return ef_proto_record_read (r, f->sub, base, NULL);
    case EF_PF_STRS: {
        uint32_t m;
        ef_str_t *s = S_AT (base, f, ef_str_t);
        rc = ef_mpr_array (r, &m);
        if (rc == 0 && m > 16)
            rc = EF_EINVAL;
        for (uint32_t j = 0; rc == 0 && j < m; j++)
            rc = ef_mpr_str (r, &s[j]);
        *S_AUX (base, f, uint32_t) = rc == 0 ? m : 0;
        return rc;
    }
    case EF_PF_DUP: {
        ef_str_t st;
        rc = ef_mpr_str (r, &st);
        *S_AT (base, f, int) = rc == 0 && ef_str_eq (st, "DUPLICATE");
        return rc;
    }
    default:
        return ef_mpr_skip (r, EF_MSGPACK_DEPTH);
    }
}

int
ef_proto_field_read (ef_mpr_t *r, const ef_proto_field_t *f, void *base)
{
    return s_read_value (r, f, base);
}

int
ef_proto_fields_read (ef_mpr_t *r, uint32_t n, const ef_proto_table_t *t,
                      void *base, ef_proto_extra_fn *extra)
{
    int rc = 0;
    uint32_t next = 0; /* keys mostly come in the table's order: try the
                          one after the last first */
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        ef_str_t k;
        if ((rc = s_read_str (r, &k)))
            break;
        const ef_proto_field_t *f = &t->f[next < t->n ? next : 0];
        if (!s_is_key (f, k))
            f = ef_proto_field_find (t, k);
        if (f)
            next = (uint32_t)(f - t->f) + 1;
        if (f)
            rc = s_read_value (r, f, base);
        else if (!(extra && extra (r, k, base, &rc)))
            rc = ef_mpr_skip (r, EF_MSGPACK_DEPTH);
    }
    return rc;
}

int
ef_proto_record_read (ef_mpr_t *r, const ef_proto_table_t *t, void *base,
                      ef_proto_extra_fn *extra)
{
    uint32_t n;
    int rc = ef_mpr_map (r, &n);
    return rc ? rc : ef_proto_fields_read (r, n, t, base, extra);
}

/* ---------------------------------------------------------------- values */

void
ef_proto_item_fail (ef_event_in_t *ev, int code, const char *msg)
{
    if (!ev->err) {
        ev->err = code;
        ev->err_msg = msg;
    }
}


int
ef_proto_request_id_ok (ef_str_t id)
{
    if (id.len == 0 || id.len > EF_MAX_REQUEST_ID)
        return 0;
    for (uint32_t i = 0; i < id.len; i++)
        if (id.ptr[i] < 0x21 || id.ptr[i] > 0x7e)
            return 0;
    return 1;
}

int
ef_proto_traceparent (ef_str_t tp, char trace_id[33])
{
    /* version-trace_id-parent_id-flags: 2, 32, 16 and 2 lowercase hex */
    static const uint8_t field[] = {2, 32, 16, 2};
    uint32_t at = 0;
    if (tp.len != 55)
        return EF_EINVAL;
    for (int f = 0; f < 4; f++, at++) {
        for (uint8_t i = 0; i < field[f]; i++, at++) {
            char c = tp.ptr[at];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                return EF_EINVAL;
        }
        if (f < 3 && tp.ptr[at] != '-')
            return EF_EINVAL;
    }
    if (memcmp (tp.ptr + 3, "00000000000000000000000000000000", 32) == 0 ||
        memcmp (tp.ptr, "ff", 2) == 0)
        return EF_EINVAL;
    if (trace_id) {
        memcpy (trace_id, tp.ptr + 3, 32);
        trace_id[32] = 0;
    }
    return 0;
}

static const char *s_statuses[] = {"PENDING", "PROCESSED", "FILTERED",
                                   "FAILED"};

int
ef_proto_event_status (ef_str_t name)
{
    for (int i = 0; i < (int)(sizeof s_statuses / sizeof s_statuses[0]); i++)
        if (ef_str_eq (name, s_statuses[i]))
            return i;
    return -1;
}


int
ef_proto_name_valid (ef_str_t name)
{
    if (!name.ptr || name.len == 0 || name.len > EF_MAX_STREAM_NAME)
        return 0;
    if ((name.len == 1 && name.ptr[0] == '.') ||
        (name.len == 2 && name.ptr[0] == '.' && name.ptr[1] == '.'))
        return 0;
    for (uint32_t i = 0; i < name.len; i++) {
        char c = name.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int
ef_proto_check_event (ef_event_in_t *ev, uint32_t max_payload)
{
    if (ev->err)
        return ev->err;
    const ef_event_fault_t *f = ef_event_rules_check (ev, max_payload);
    if (f)
        ef_proto_item_fail (ev, f->code, f->text);
    return ev->err;
}
