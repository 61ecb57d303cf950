/*  ef_proto.c: encoder and decoder of protocol version 1 messages
    (schemas/protocol.md). The request decoder first checks the whole frame
    with ef_mp_validate, so the typed reads that follow can only fail on a
    type mismatch, which is an INVALID field rather than a malformed frame.
    Replies are read lazily (pages of events are large); the reader is
    bounded, so a malformed part fails when it is reached. */
#include "eventflow/ef_proto.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_event_rules.h"
#include "eventflow/ef_uuid.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *s_cmd_names[EF_CMD_COUNT] = {
    NULL,          "HELLO",    "PING",      "CREATE_STREAM", "LIST_STREAMS",
    "GET_STREAM",  "PUBLISH",  "GET_EVENT", "READ",          "LIST_EVENTS",
    "STATS",       "REGISTER",      "LOGIN",           "REFRESH",
    "LOGOUT",      "WHOAMI",        "USER_CREATE",     "USER_LIST",
    "USER_GET",    "USER_UPDATE",   "USER_DELETE",     "APIKEY_CREATE",
    "APIKEY_LIST", "APIKEY_REVOKE", "CLIENTKEY_ADD",   "CLIENTKEY_LIST",
    "CLIENTKEY_REVOKE", "UPDATE_STREAM", "DELETE_STREAM", "FETCH",
    "COMMIT",      "SEEK",          "LIST_GROUPS",     "SUBSCRIBE",
    "CREDIT",      "UNSUBSCRIBE",   "READY",           "DONE",
    "FAIL",        "WORKERS",       "DLQ_LIST",        "DLQ_GET",
    "DLQ_REPLAY",  "DLQ_DELETE",    "LEAVE",
    "PASSWORD",
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
            return (ef_cmd_t) i;
    return EF_CMD_NONE;
}

#define KEY(k, lit) ef_str_eq ((k), (lit))

/* ---------------------------------------------------------------- encode */

static void
s_kstr (ef_buf_t *b, const char *k, ef_str_t v)
{
    ef_mp_key (b, k);
    ef_mp_xstr (b, v);
}

static void
s_kuint (ef_buf_t *b, const char *k, uint64_t v)
{
    ef_mp_key (b, k);
    ef_mp_uint (b, v);
}

static void
s_encode_event_in (ef_buf_t *b, const ef_event_in_t *ev)
{
    int has_ctx = ef_str_set (ev->trace_id) || ef_str_set (ev->correlation_id)
                  || ef_str_set (ev->request_id);
    uint32_t n = 2 + !!ef_str_set (ev->event_id) + !!ef_str_set (ev->source)
                 + !!ev->version + !!ev->occurred_at + !!has_ctx;
    ef_mp_map (b, n);
    s_kstr (b, "type", ev->type);
    s_kstr (b, "payload", ev->payload);
    if (ef_str_set (ev->event_id))
        s_kstr (b, "event_id", ev->event_id);
    if (ef_str_set (ev->source))
        s_kstr (b, "source", ev->source);
    if (ev->version)
        s_kuint (b, "version", ev->version);
    if (ev->occurred_at)
        s_kuint (b, "occurred_at", ev->occurred_at);
    if (has_ctx) {
        ef_mp_key (b, "context");
        ef_mp_map (b, !!ef_str_set (ev->trace_id)
                          + !!ef_str_set (ev->correlation_id)
                          + !!ef_str_set (ev->request_id));
        if (ef_str_set (ev->trace_id))
            s_kstr (b, "trace_id", ev->trace_id);
        if (ef_str_set (ev->correlation_id))
            s_kstr (b, "correlation_id", ev->correlation_id);
        if (ef_str_set (ev->request_id))
            s_kstr (b, "request_id", ev->request_id);
    }
}

/*  The string fields of a request, by key: encoded when set, decoded by
    name. One table for both directions. */
typedef struct {
    const char *key;
    size_t off;
} s_reqfield_t;

#define S_F(k, f) {k, offsetof (ef_request_t, f)}
static const s_reqfield_t s_strfields[] = {
    S_F ("client", client),         S_F ("name", name),
    S_F ("stream", stream),         S_F ("event_id", event_id),
    S_F ("type", type),             S_F ("source", source),
    S_F ("status", status),         S_F ("email", email),
    S_F ("password", password),     S_F ("org_name", org_name),
    S_F ("refresh_token", refresh_token), S_F ("role", role),
    S_F ("user_id", user_id),       S_F ("key_id", key_id),
    S_F ("public_key", public_key), S_F ("org", org),
    S_F ("group", group),           S_F ("consumer_id", consumer_id),
    S_F ("last_event_id", last_event_id), S_F ("position", position),
    S_F ("schema", schema),         S_F ("pipeline", pipeline),
    S_F ("service", service),       S_F ("job_id", job_id),
    S_F ("result", result),         S_F ("reason", reason),
    S_F ("error", error),
    S_F ("proof", proof),           S_F ("new_password", new_password),
    S_F ("client_addr", client_addr),
    S_F ("request_id", request_id), S_F ("traceparent", traceparent),
};
#define S_NSTRFIELDS (sizeof s_strfields / sizeof s_strfields[0])

static ef_str_t *
s_strfield (const ef_request_t *req, size_t i)
{
    return (ef_str_t *) ((char *) req + s_strfields[i].off);
}

/*  The 32-bit numbers of a request, by key. A number that is present is
    checked against its command's range (s_ranges); absent, it is 0 and
    the command's default applies. */
static const s_reqfield_t s_u32fields[] = {
    S_F ("limit", limit),     S_F ("page", page),
    S_F ("timeout", timeout), S_F ("credit", credit),
};
#define S_NU32FIELDS (sizeof s_u32fields / sizeof s_u32fields[0])

static uint32_t *
s_u32field (const ef_request_t *req, size_t i)
{
    return (uint32_t *) ((char *) req + s_u32fields[i].off);
}

static int
s_find_u32field (ef_str_t k)
{
    for (size_t i = 0; i < S_NU32FIELDS; i++)
        if (KEY (k, s_u32fields[i].key))
            return (int) i;
    return -1;
}

/*  The range of each number a command takes (protocol.md §4); a value
    outside it is INVALID, never clamped. */
typedef struct {
    ef_cmd_t cmd;
    const char *key;
    uint32_t min, max;
    const char *why;
} s_range_t;

static const s_range_t s_ranges[] = {
    {EF_CMD_READ, "limit", 1, EF_MAX_READ, "limit is 1 to 10000"},
    {EF_CMD_LIST_EVENTS, "limit", 1, EF_MAX_LIST, "limit is 1 to 100"},
    {EF_CMD_LIST_EVENTS, "page", 1, EF_MAX_PAGE, "page is 1 to 1000000"},
    {EF_CMD_DLQ_LIST, "limit", 1, EF_MAX_LIST, "limit is 1 to 100"},
    {EF_CMD_DLQ_LIST, "page", 1, EF_MAX_PAGE, "page is 1 to 1000000"},
    {EF_CMD_FETCH, "limit", 1, EF_MAX_FETCH, "limit is 1 to 1000"},
    {EF_CMD_FETCH, "timeout", 0, EF_MAX_WAIT_MS, "timeout is 0 to 60000 ms"},
    {EF_CMD_CREDIT, "credit", 1, UINT32_MAX, "credit is at least 1"},
    {EF_CMD_READY, "credit", 1, UINT32_MAX, "credit is at least 1"},
};

/*  The first number of req out of its range, as *why; 0 or EF_EINVAL. */
static int
s_check_ranges (const ef_request_t *req, uint32_t seen, const char **why)
{
    for (size_t i = 0; i < sizeof s_ranges / sizeof s_ranges[0]; i++) {
        const s_range_t *g = &s_ranges[i];
        if (g->cmd != req->cmd)
            continue;
        int f = s_find_u32field (ef_str (g->key));
        uint32_t v = *s_u32field (req, (size_t) f);
        if ((seen >> f & 1) && (v < g->min || v > g->max)) {
            *why = g->why;
            return EF_EINVAL;
        }
    }
    return 0;
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
    if (memcmp (tp.ptr + 3, "00000000000000000000000000000000", 32) == 0
        || memcmp (tp.ptr, "ff", 2) == 0)
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
    for (int i = 0; i < (int) (sizeof s_statuses / sizeof s_statuses[0]); i++)
        if (ef_str_eq (name, s_statuses[i]))
            return i;
    return -1;
}

int
ef_proto_encode_request (ef_buf_t *b, const ef_request_t *req)
{
    const char *name = ef_cmd_name (req->cmd);
    if (!name)
        return EF_EINVAL;
    int has_auth = ef_str_set (req->auth_api_key) || ef_str_set (req->auth_jwt);
    uint32_t n = 3 + !!has_auth;
    for (size_t i = 0; i < S_NSTRFIELDS; i++)
        n += !!ef_str_set (*s_strfield (req, i));
    n += (req->cmd == EF_CMD_READ) + !!req->has_from + !!req->has_to
         + !!req->page + !!req->limit + !!req->has_producer + !!req->has_rate
         + !!req->n_streams + (req->cmd == EF_CMD_PUBLISH)
         + !!req->has_timestamp + !!req->timeout + !!req->credit + !!req->sub
         + !!req->has_retryable + !!req->all;
    ef_mp_map (b, n);
    s_kuint (b, "v", req->v ? req->v : EF_PROTO_VERSION);
    s_kuint (b, "id", req->id);
    ef_mp_key (b, "cmd");
    ef_mp_cstr (b, name);
    if (has_auth) {
        ef_mp_key (b, "auth");
        ef_mp_map (b, 1);
        if (ef_str_set (req->auth_api_key))
            s_kstr (b, "api_key", req->auth_api_key);
        else
            s_kstr (b, "jwt", req->auth_jwt);
    }
    for (size_t i = 0; i < S_NSTRFIELDS; i++)
        if (ef_str_set (*s_strfield (req, i)))
            s_kstr (b, s_strfields[i].key, *s_strfield (req, i));
    if (req->cmd == EF_CMD_READ)
        s_kuint (b, "after", req->after);
    if (req->has_from)
        s_kuint (b, "from", req->from);
    if (req->has_to)
        s_kuint (b, "to", req->to);
    if (req->page)
        s_kuint (b, "page", req->page);
    if (req->limit)
        s_kuint (b, "limit", req->limit);
    if (req->has_producer) {
        ef_mp_key (b, "producer");
        ef_mp_bool (b, req->producer);
    }
    if (req->has_rate) {
        ef_mp_key (b, "rate");
        ef_mp_map (b, 2);
        s_kuint (b, "per_second", req->rate_per_second);
        s_kuint (b, "burst", req->rate_burst);
    }
    if (req->has_retryable) {
        ef_mp_key (b, "retryable");
        ef_mp_bool (b, req->retryable);
    }
    if (req->all) {
        ef_mp_key (b, "all");
        ef_mp_bool (b, 1);
    }
    if (req->has_timestamp)
        s_kuint (b, "timestamp", req->timestamp);
    if (req->timeout)
        s_kuint (b, "timeout", req->timeout);
    if (req->credit)
        s_kuint (b, "credit", req->credit);
    if (req->sub)
        s_kuint (b, "sub", req->sub);
    if (req->n_streams) {
        ef_mp_key (b, "streams");
        ef_mp_array (b, req->n_streams);
        for (uint32_t i = 0; i < req->n_streams; i++)
            ef_mp_xstr (b, req->streams[i]);
    }
    if (req->cmd == EF_CMD_PUBLISH) {
        ef_mp_key (b, "events");
        ef_mp_array (b, req->n_events);
        for (uint32_t i = 0; i < req->n_events; i++)
            s_encode_event_in (b, &req->events[i]);
    }
    return b->oom ? EF_ENOMEM : 0;
}

/* ---------------------------------------------------------------- decode */

/*  Read an optional string or nil into *s (nil leaves it unset). */
static int
s_opt_str (ef_mpr_t *r, ef_str_t *s)
{
    if (ef_mpr_nil (r)) {
        *s = EF_STR_NULL;
        return 0;
    }
    return ef_mpr_str (r, s);
}

/*  A text field of a request: an optional string that must be valid
    UTF-8 (protocol.md §1). S_EUTF8 when it is not; on any refusal nothing
    is consumed. */
#define S_EUTF8 1

static int
s_opt_text (ef_mpr_t *r, ef_str_t *s)
{
    ef_mpr_t at = *r;
    int rc = s_opt_str (&at, s);
    if (rc)
        return rc;
    if (!ef_str_utf8 (*s)) {
        *s = EF_STR_NULL;
        return S_EUTF8;
    }
    *r = at;
    return 0;
}

/*  A uint that fits 32 bits; on any refusal nothing is consumed. */
static int
s_u32 (ef_mpr_t *r, uint32_t *v)
{
    ef_mpr_t at = *r;
    uint64_t u;
    int rc = ef_mpr_uint (&at, &u);
    if (rc)
        return rc;
    if (u > UINT32_MAX)
        return EF_EINVAL;
    *r = at;
    *v = (uint32_t) u;
    return 0;
}

static void
s_item_fail (ef_event_in_t *ev, int code, const char *msg)
{
    if (!ev->err) {
        ev->err = code;
        ev->err_msg = msg;
    }
}

static void s_item_fail (ef_event_in_t *ev, int code, const char *msg);

/*  After a typed read of an item field: a mismatch (nothing consumed) is
    the item's fault; the value is skipped and decoding goes on. */
static int
s_item_field (ef_mpr_t *r, ef_event_in_t *ev, int rc)
{
    if (rc != EF_EINVAL)
        return rc;
    s_item_fail (ev, EF_EINVAL, "event field of the wrong type");
    return ef_mpr_skip (r, EF_MSGPACK_DEPTH);
}

/*  A text field of an item; not UTF-8 is the item's fault, named by
    bad_text. */
static int
s_item_text (ef_mpr_t *r, ef_event_in_t *ev, ef_str_t *s, const char *bad_text)
{
    int rc = s_opt_text (r, s);
    if (rc != S_EUTF8)
        return s_item_field (r, ev, rc);
    s_item_fail (ev, EF_EINVAL, bad_text);
    return ef_mpr_skip (r, EF_MSGPACK_DEPTH);
}

static int
s_decode_context (ef_mpr_t *r, ef_event_in_t *ev)
{
    uint32_t m;
    if (ef_mpr_nil (r))
        return 0;
    int rc = ef_mpr_map (r, &m);
    if (rc)
        return s_item_field (r, ev, rc);
    for (uint32_t j = 0; rc == 0 && j < m; j++) {
        ef_str_t ck = EF_STR_NULL;
        if ((rc = s_item_field (r, ev, ef_mpr_str (r, &ck))))
            break;
        if (ck.ptr == NULL) /* the key itself was skipped: skip its value */
            rc = ef_mpr_skip (r, EF_MSGPACK_DEPTH);
        else if (KEY (ck, "trace_id"))
            rc = s_item_text (r, ev, &ev->trace_id,
                              "context.trace_id is not valid UTF-8");
        else if (KEY (ck, "correlation_id"))
            rc = s_item_text (r, ev, &ev->correlation_id,
                              "context.correlation_id is not valid UTF-8");
        else if (KEY (ck, "request_id"))
            rc = s_item_text (r, ev, &ev->request_id,
                              "context.request_id is not valid UTF-8");
        else
            rc = ef_mpr_skip (r, EF_MSGPACK_DEPTH);
    }
    return rc;
}

/*  One PUBLISH item. A mistyped field is the item's fault, not the
    frame's: the frame has been validated, so skipping is always safe. */
static int
s_decode_event_in (ef_mpr_t *r, ef_event_in_t *ev)
{
    uint32_t n;
    memset (ev, 0, sizeof *ev);
    if (ef_mpr_map (r, &n)) {
        s_item_fail (ev, EF_EINVAL, "event must be a map");
        return ef_mpr_skip (r, EF_MSGPACK_DEPTH);
    }
    for (uint32_t i = 0; i < n; i++) {
        ef_str_t k = EF_STR_NULL;
        int rc = s_item_field (r, ev, ef_mpr_str (r, &k));
        if (rc)
            return rc;
        if (!k.ptr) /* a key that is not a string: skip its value */
            rc = ef_mpr_skip (r, EF_MSGPACK_DEPTH);
        else if (KEY (k, "type"))
            rc = s_item_text (r, ev, &ev->type, "type is not valid UTF-8");
        else if (KEY (k, "payload")) /* JSON: checked whole with the rest */
            rc = s_item_field (r, ev, s_opt_str (r, &ev->payload));
        else if (KEY (k, "event_id"))
            rc = s_item_text (r, ev, &ev->event_id,
                              "event_id is not valid UTF-8");
        else if (KEY (k, "source"))
            rc = s_item_text (r, ev, &ev->source, "source is not valid UTF-8");
        else if (KEY (k, "version")) {
            if (ef_mpr_nil (r))
                rc = 0;
            else if ((rc = s_item_field (r, ev, s_u32 (r, &ev->version))) == 0
                     && ev->version == 0) /* 0 is "not given" in the struct */
                s_item_fail (ev, EF_EINVAL, "version must be at least 1");
        } else if (KEY (k, "occurred_at")) {
            if (ef_mpr_nil (r))
                rc = 0;
            else if ((rc = s_item_field (r, ev,
                                         ef_mpr_uint (r, &ev->occurred_at)))
                         == 0
                     && ev->occurred_at == 0)
                s_item_fail (ev, EF_EINVAL, "occurred_at must be at least 1");
        } else if (KEY (k, "context"))
            rc = s_decode_context (r, ev);
        else
            rc = ef_mpr_skip (r, EF_MSGPACK_DEPTH);
        if (rc)
            return rc;
    }
    return 0;
}

static int
s_find_strfield (ef_str_t k)
{
    for (size_t i = 0; i < S_NSTRFIELDS; i++)
        if (KEY (k, s_strfields[i].key))
            return (int) i;
    return -1;
}

/*  In a frame that is not well-formed, the id when it comes before the
    fault: the pairs are walked with the bounded reader until the id is
    read or anything fails. */
static void
s_salvage_id (const void *p, size_t n, ef_request_t *req)
{
    ef_mpr_t r;
    uint32_t nkeys;
    ef_str_t k;
    ef_mpr_init (&r, p, n);
    if (ef_mpr_map (&r, &nkeys))
        return;
    for (uint32_t i = 0; i < nkeys; i++) {
        k = EF_STR_NULL;
        if (ef_mpr_str (&r, &k) && ef_mpr_skip (&r, EF_MSGPACK_DEPTH))
            return; /* a key that is not a string is skipped, if it can be */
        if (KEY (k, "id")) {
            uint64_t id;
            if (ef_mpr_uint (&r, &id) == 0)
                req->id = id;
            return;
        }
        if (ef_mpr_skip (&r, EF_MSGPACK_DEPTH))
            return;
    }
}

int
ef_proto_decode_request (const void *p, size_t n, ef_request_t *req,
                         ef_event_in_t *events, uint32_t max_events,
                         const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    memset (req, 0, sizeof *req);
    *why = NULL;
    if (ef_mp_validate (p, n, EF_MSGPACK_DEPTH)) {
        *why = "not a well-formed msgpack value";
        s_salvage_id (p, n, req);
        return EF_EPROTO;
    }
    ef_mpr_t r;
    ef_mpr_init (&r, p, n);
    uint32_t nkeys;
    if (ef_mpr_map (&r, &nkeys)) {
        *why = "request must be a map";
        return EF_EPROTO;
    }
    ef_str_t cmd = EF_STR_NULL;
    int have_v = 0, have_id = 0, rc = 0, sf, uf;
    uint32_t events_n = 0, u32_seen = 0;
    ef_mpr_t events_at = {0};
    int have_events = 0, events_decoded = 0;
    /* the first fault is answered, but the walk goes on to the end: the
       id may come after it, and the answer must carry it (the frame is
       validated, so every value can be skipped) */
    int err = 0;
    for (uint32_t i = 0; i < nkeys; i++) {
        ef_str_t k;
        if (ef_mpr_str (&r, &k)) {
            if (!err) {
                err = EF_EINVAL;
                *why = "request keys must be strings";
            }
            if (ef_mpr_skip (&r, EF_MSGPACK_DEPTH)
                || ef_mpr_skip (&r, EF_MSGPACK_DEPTH))
                return EF_EPROTO;
            continue;
        }
        ef_mpr_t value_at = r;
        if (err && !KEY (k, "id"))
            rc = ef_mpr_skip (&r, EF_MSGPACK_DEPTH);
        else if (ef_mpr_nil (&r))
            continue; /* nil is absent (protocol.md §1) */
        else if (KEY (k, "v")) {
            rc = s_u32 (&r, &req->v);
            have_v = 1;
        } else if (KEY (k, "id")) {
            rc = ef_mpr_uint (&r, &req->id);
            have_id = rc == 0;
        } else if (KEY (k, "cmd"))
            rc = ef_mpr_str (&r, &cmd);
        else if (KEY (k, "auth")) {
            uint32_t m;
            rc = ef_mpr_map (&r, &m);
            for (uint32_t j = 0; rc == 0 && j < m; j++) {
                ef_str_t ak;
                if ((rc = ef_mpr_str (&r, &ak)))
                    break;
                if (KEY (ak, "api_key"))
                    rc = ef_mpr_str (&r, &req->auth_api_key);
                else if (KEY (ak, "jwt"))
                    rc = ef_mpr_str (&r, &req->auth_jwt);
                else
                    rc = ef_mpr_skip (&r, EF_MSGPACK_DEPTH);
            }
        } else if ((sf = s_find_strfield (k)) >= 0)
            rc = s_opt_text (&r, s_strfield (req, (size_t) sf));
        else if ((uf = s_find_u32field (k)) >= 0) {
            rc = s_u32 (&r, s_u32field (req, (size_t) uf));
            u32_seen |= 1u << uf;
        } else if (KEY (k, "after"))
            rc = ef_mpr_uint (&r, &req->after);
        else if (KEY (k, "from")) {
            rc = ef_mpr_uint (&r, &req->from);
            req->has_from = 1;
        } else if (KEY (k, "to")) {
            rc = ef_mpr_uint (&r, &req->to);
            req->has_to = 1;
        } else if (KEY (k, "retryable")) {
            rc = ef_mpr_bool (&r, &req->retryable);
            req->has_retryable = 1;
        } else if (KEY (k, "all"))
            rc = ef_mpr_bool (&r, &req->all);
        else if (KEY (k, "timestamp")) {
            rc = ef_mpr_uint (&r, &req->timestamp);
            req->has_timestamp = 1;
        } else if (KEY (k, "sub"))
            rc = ef_mpr_uint (&r, &req->sub);
        else if (KEY (k, "producer")) {
            rc = ef_mpr_bool (&r, &req->producer);
            req->has_producer = 1;
        } else if (KEY (k, "rate")) {
            uint32_t m;
            rc = ef_mpr_map (&r, &m);
            req->has_rate = 1;
            for (uint32_t j = 0; rc == 0 && j < m; j++) {
                ef_str_t rk;
                if ((rc = ef_mpr_str (&r, &rk)))
                    break;
                if (KEY (rk, "per_second"))
                    rc = s_u32 (&r, &req->rate_per_second);
                else if (KEY (rk, "burst"))
                    rc = s_u32 (&r, &req->rate_burst);
                else
                    rc = ef_mpr_skip (&r, EF_MSGPACK_DEPTH);
            }
        } else if (KEY (k, "streams")) {
            uint32_t m;
            rc = ef_mpr_array (&r, &m);
            if (rc == 0 && m > 16)
                rc = EF_ETOOBIG;
            for (uint32_t j = 0; rc == 0 && j < m; j++)
                rc = s_opt_text (&r, &req->streams[j]);
            req->n_streams = rc == 0 ? m : 0;
        } else if (KEY (k, "events")) {
            /* decoded in this one pass when they fit; the frame is
               already validated, so an item's fault is only the item's */
            events_at = r;
            rc = ef_mpr_array (&r, &events_n);
            have_events = 1;
            if (rc == 0 && events_n <= max_events) {
                for (uint32_t e = 0; rc == 0 && e < events_n; e++)
                    rc = s_decode_event_in (&r, &events[e]);
                events_decoded = rc == 0;
            } else if (rc == 0) {
                r = events_at;
                rc = ef_mpr_skip (&r, EF_MSGPACK_DEPTH);
            }
        } else
            rc = ef_mpr_skip (&r, EF_MSGPACK_DEPTH);
        if (rc == EF_EPROTO) {
            *why = "not a well-formed msgpack value";
            return EF_EPROTO;
        }
        if (rc && !err) {
            /* k matched one of the keys above: printable ASCII */
            err = rc == EF_ETOOBIG ? EF_ETOOBIG : EF_EINVAL;
            snprintf (req->why, sizeof req->why, "%.*s %s", (int) k.len,
                      k.ptr,
                      rc == S_EUTF8       ? "is not valid UTF-8"
                      : rc == EF_ETOOBIG  ? "has more than 16 items"
                                          : "has the wrong type");
            *why = req->why;
        }
        if (rc) {
            r = value_at;
            if (ef_mpr_skip (&r, EF_MSGPACK_DEPTH))
                return EF_EPROTO;
        }
    }
    if (err)
        return err;
    if (!have_v || !have_id || !ef_str_set (cmd)) {
        *why = "v, id and cmd are required";
        return EF_EINVAL;
    }
    if (req->v != EF_PROTO_VERSION) {
        *why = "unsupported protocol version";
        return EF_EVERSION;
    }
    req->cmd = ef_cmd_from_name (cmd);
    if (req->cmd == EF_CMD_NONE) {
        *why = "unknown command";
        return EF_EUNKNOWN_CMD;
    }
    if (s_check_ranges (req, u32_seen, why))
        return EF_EINVAL;
    if (ef_str_set (req->status) && ef_proto_event_status (req->status) < 0) {
        *why = "status is PENDING, PROCESSED, FILTERED or FAILED";
        return EF_EINVAL;
    }
    if (ef_str_set (req->request_id) && !ef_proto_request_id_ok (req->request_id)) {
        *why = "request_id is 1 to 128 bytes of printable ASCII";
        return EF_EINVAL;
    }
    if (ef_str_set (req->traceparent)
        && ef_proto_traceparent (req->traceparent, NULL)) {
        *why = "traceparent is not a W3C traceparent";
        return EF_EINVAL;
    }
    switch (req->cmd) {
    case EF_CMD_CREATE_STREAM:
        if (!ef_str_set (req->name)) {
            *why = "name is required";
            return EF_EINVAL;
        }
        break;
    case EF_CMD_GET_STREAM:
    case EF_CMD_READ:
    case EF_CMD_UPDATE_STREAM:
    case EF_CMD_DELETE_STREAM:
    case EF_CMD_LIST_GROUPS:
        if (!ef_str_set (req->stream)) {
            *why = "stream is required";
            return EF_EINVAL;
        }
        break;
    case EF_CMD_GET_EVENT:
        if (!ef_str_set (req->event_id)) {
            *why = "event_id is required";
            return EF_EINVAL;
        }
        break;
    case EF_CMD_REGISTER:
    case EF_CMD_LOGIN:
    case EF_CMD_USER_CREATE:
        if (!ef_str_set (req->email) || !ef_str_set (req->password)) {
            *why = "email and password are required";
            return EF_EINVAL;
        }
        break;
    case EF_CMD_PASSWORD:
        if (!ef_str_set (req->password) || !ef_str_set (req->new_password)) {
            *why = "password and new_password are required";
            return EF_EINVAL;
        }
        break;
    case EF_CMD_REFRESH:
    case EF_CMD_LOGOUT:
        if (!ef_str_set (req->refresh_token)) {
            *why = "refresh_token is required";
            return EF_EINVAL;
        }
        break;
    case EF_CMD_USER_GET:
    case EF_CMD_USER_UPDATE:
    case EF_CMD_USER_DELETE:
        if (!ef_str_set (req->user_id)) {
            *why = "user_id is required";
            return EF_EINVAL;
        }
        break;
    case EF_CMD_APIKEY_CREATE:
        if (!ef_str_set (req->name)) {
            *why = "name is required";
            return EF_EINVAL;
        }
        break;
    case EF_CMD_FETCH:
    case EF_CMD_COMMIT:
    case EF_CMD_SEEK:
    case EF_CMD_SUBSCRIBE:
        if (!ef_str_set (req->stream) || !ef_str_set (req->group)) {
            *why = "stream and group are required";
            return EF_EINVAL;
        }
        if (req->cmd == EF_CMD_COMMIT && !ef_str_set (req->last_event_id)) {
            *why = "last_event_id is required";
            return EF_EINVAL;
        }
        if (req->cmd == EF_CMD_SEEK && !ef_str_set (req->position)
            && !req->has_timestamp) {
            *why = "position or timestamp is required";
            return EF_EINVAL;
        }
        break;
    case EF_CMD_READY:
    case EF_CMD_LEAVE:
        if (!ef_str_set (req->service)) {
            *why = "service is required";
            return EF_EINVAL;
        }
        break;
    case EF_CMD_DONE:
    case EF_CMD_FAIL:
        if (!ef_str_set (req->job_id)) {
            *why = "job_id is required";
            return EF_EINVAL;
        }
        break;
    case EF_CMD_DLQ_GET:
    case EF_CMD_DLQ_DELETE:
        if (!ef_str_set (req->event_id)) {
            *why = "event_id is required";
            return EF_EINVAL;
        }
        break;
    case EF_CMD_CREDIT:
    case EF_CMD_UNSUBSCRIBE:
        if (!req->sub) {
            *why = "sub is required";
            return EF_EINVAL;
        }
        break;
    case EF_CMD_APIKEY_REVOKE:
        if (!ef_str_set (req->key_id)) {
            *why = "key_id is required";
            return EF_EINVAL;
        }
        break;
    case EF_CMD_CLIENTKEY_ADD:
    case EF_CMD_CLIENTKEY_REVOKE:
        if (!ef_str_set (req->public_key)) {
            *why = "public_key is required";
            return EF_EINVAL;
        }
        break;
    case EF_CMD_PUBLISH:
        if (!ef_str_set (req->stream) || !have_events) {
            *why = "stream and events are required";
            return EF_EINVAL;
        }
        if (events_n == 0) {
            *why = "events is empty";
            return EF_EINVAL;
        }
        if (events_n > max_events) {
            *why = "too many events in one request";
            return EF_ETOOBIG;
        }
        if (!events_decoded) {
            *why = "malformed event";
            return EF_EPROTO;
        }
        req->events = events;
        req->n_events = events_n;
        break;
    default: break;
    }
    return 0;
}

int
ef_proto_name_valid (ef_str_t name)
{
    if (!name.ptr || name.len == 0 || name.len > EF_MAX_STREAM_NAME)
        return 0;
    if ((name.len == 1 && name.ptr[0] == '.')
        || (name.len == 2 && name.ptr[0] == '.' && name.ptr[1] == '.'))
        return 0;
    for (uint32_t i = 0; i < name.len; i++) {
        char c = name.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
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
        s_item_fail (ev, f->code, f->text);
    return ev->err;
}

/* ---------------------------------------------------------------- replies */

void
ef_proto_reply_ok (ef_buf_t *b, uint64_t id, uint32_t n)
{
    ef_mp_map (b, n + 2);
    s_kuint (b, "id", id);
    ef_mp_key (b, "ok");
    ef_mp_bool (b, 1);
}

void
ef_proto_reply_error (ef_buf_t *b, uint64_t id, int code, const char *message,
                      uint64_t retry_after_ms)
{
    ef_mp_map (b, 3);
    s_kuint (b, "id", id);
    ef_mp_key (b, "ok");
    ef_mp_bool (b, 0);
    ef_mp_key (b, "error");
    ef_mp_map (b, code == EF_ERATE ? 4 : 3);
    ef_mp_key (b, "code");
    ef_mp_int (b, code);
    ef_mp_key (b, "name");
    ef_mp_cstr (b, ef_error_name (code));
    ef_mp_key (b, "message");
    ef_mp_cstr (b, message ? message : ef_strerror (code));
    if (code == EF_ERATE)
        s_kuint (b, "retry_after_ms", retry_after_ms);
}

void
ef_proto_write_event_record (ef_buf_t *b, const ef_event_t *ev)
{
    s_kstr (b, "event_id", ev->event_id);
    s_kstr (b, "type", ev->type);
    s_kuint (b, "version", ev->version);
    s_kuint (b, "occurred_at", ev->occurred_at);
    s_kuint (b, "received_at", ev->received_at);
    s_kstr (b, "source", ev->source);
    s_kstr (b, "api_key_id", ev->api_key_id);
    ef_mp_key (b, "context");
    ef_mp_map (b, 2 + !!ef_str_set (ev->request_id));
    s_kstr (b, "trace_id", ev->trace_id);
    s_kstr (b, "correlation_id", ev->correlation_id);
    if (ef_str_set (ev->request_id)) /* only then: bytes on disk count */
        s_kstr (b, "request_id", ev->request_id);
    s_kstr (b, "payload", ev->payload);
}

void
ef_proto_write_event_head (ef_buf_t *b, ef_str_t stream_id, uint64_t seq)
{
    ef_mp_map (b, 2 + EF_EVENT_RECORD_KEYS + EF_EVENT_STATE_KEYS);
    s_kstr (b, "stream_id", stream_id);
    s_kuint (b, "seq", seq);
}

void
ef_proto_write_event_state (ef_buf_t *b, const ef_event_t *ev)
{
    s_kstr (b, "status", ev->status);
    s_kuint (b, "attempts", ev->attempts);
    s_kstr (b, "last_error", ev->last_error);
    s_kstr (b, "result", ev->result);
    ef_mp_key (b, "processed_at");
    if (ev->processed_at)
        ef_mp_uint (b, ev->processed_at);
    else
        ef_mp_nil (b);
}

void
ef_proto_write_event (ef_buf_t *b, const ef_event_t *ev)
{
    ef_proto_write_event_head (b, ev->stream_id, ev->seq);
    ef_proto_write_event_record (b, ev);
    ef_proto_write_event_state (b, ev);
}

void
ef_proto_write_stream (ef_buf_t *b, const ef_stream_info_t *s)
{
    ef_mp_map (b, 6 + !!ef_str_set (s->schema) + !!ef_str_set (s->pipeline));
    s_kstr (b, "id", s->id);
    s_kstr (b, "name", s->name);
    s_kuint (b, "created_at", s->created_at);
    s_kuint (b, "events", s->events);
    s_kuint (b, "first_seq", s->first_seq);
    s_kuint (b, "last_seq", s->last_seq);
    if (ef_str_set (s->schema))
        s_kstr (b, "schema", s->schema);
    if (ef_str_set (s->pipeline))
        s_kstr (b, "pipeline", s->pipeline);
}

void
ef_proto_write_result (ef_buf_t *b, const ef_publish_result_t *r)
{
    if (r->code) {
        ef_mp_map (b, 2);
        s_kuint (b, "index", r->index);
        ef_mp_key (b, "error");
        ef_mp_map (b, r->code == EF_ERATE ? 4 : 3);
        if (r->code == EF_ERATE)
            s_kuint (b, "retry_after_ms", r->retry_after_ms);
        ef_mp_key (b, "code");
        ef_mp_int (b, r->code);
        ef_mp_key (b, "name");
        ef_mp_cstr (b, ef_error_name (r->code));
        ef_mp_key (b, "message");
        if (ef_str_set (r->message))
            ef_mp_xstr (b, r->message);
        else
            ef_mp_cstr (b, ef_strerror (r->code));
        return;
    }
    ef_mp_map (b, 4);
    s_kstr (b, "event_id", r->event_id);
    s_kuint (b, "seq", r->seq);
    ef_mp_key (b, "status");
    ef_mp_cstr (b, r->duplicate ? "DUPLICATE" : "ACCEPTED");
    s_kuint (b, "received_at", r->received_at);
}

void
ef_proto_write_stats (ef_buf_t *b, const ef_stats_t *s)
{
    ef_mp_map (b, 5);
    s_kuint (b, "streams", s->streams);
    s_kuint (b, "events", s->events);
    s_kuint (b, "store_bytes", s->store_bytes);
    s_kuint (b, "map_size", s->map_size);
    ef_mp_key (b, "counters");
    ef_mp_map (b, 6);
    s_kuint (b, "published", s->published);
    s_kuint (b, "duplicates", s->duplicates);
    s_kuint (b, "rejected", s->rejected);
    s_kuint (b, "malformed", s->malformed);
    s_kuint (b, "commits", s->commits);
    s_kuint (b, "requests", s->requests);
}

void
ef_proto_write_hello (ef_buf_t *b, const ef_hello_t *h)
{
    s_kstr (b, "server", h->server);
    s_kstr (b, "version", h->version);
    s_kuint (b, "protocol", h->protocol);
    ef_mp_key (b, "limits");
    ef_mp_map (b, 4);
    s_kuint (b, "max_message", h->max_message);
    s_kuint (b, "max_batch", h->max_batch);
    s_kuint (b, "max_payload", h->max_payload);
    s_kuint (b, "max_read", h->max_read);
}

void
ef_proto_write_user (ef_buf_t *b, const ef_user_info_t *u)
{
    ef_mp_map (b, 5);
    s_kstr (b, "id", u->id);
    s_kstr (b, "email", u->email);
    s_kstr (b, "role", u->role);
    s_kstr (b, "org_id", u->org_id);
    s_kuint (b, "created_at", u->created_at);
}

void
ef_proto_write_apikey (ef_buf_t *b, const ef_apikey_info_t *k)
{
    ef_mp_map (b, 8);
    s_kstr (b, "id", k->id);
    s_kstr (b, "name", k->name);
    s_kstr (b, "role", k->role);
    ef_mp_key (b, "producer");
    ef_mp_bool (b, k->producer);
    ef_mp_key (b, "streams");
    ef_mp_array (b, k->n_streams);
    for (uint32_t i = 0; i < k->n_streams; i++)
        ef_mp_xstr (b, k->streams[i]);
    ef_mp_key (b, "rate");
    ef_mp_map (b, 2);
    s_kuint (b, "per_second", k->per_second);
    s_kuint (b, "burst", k->burst);
    s_kuint (b, "created_at", k->created_at);
    ef_mp_key (b, "revoked_at");
    if (k->revoked_at)
        ef_mp_uint (b, k->revoked_at);
    else
        ef_mp_nil (b);
}

void
ef_proto_write_clientkey (ef_buf_t *b, const ef_clientkey_info_t *k)
{
    ef_mp_map (b, 5);
    s_kstr (b, "public_key", k->public_key);
    s_kstr (b, "role", k->role);
    s_kstr (b, "name", k->name);
    s_kuint (b, "created_at", k->created_at);
    ef_mp_key (b, "revoked_at");
    if (k->revoked_at)
        ef_mp_uint (b, k->revoked_at);
    else
        ef_mp_nil (b);
}

/* ---------------------------------------------------------------- fields */

/*  Flat maps are read through a table: a key, a kind, and where in the
    output struct the value goes. Unknown keys are skipped. */
typedef enum { S_F_STR, S_F_UINT, S_F_BOOL } s_fkind_t;

typedef struct {
    const char *key;
    s_fkind_t kind;
    size_t off;
} s_field_t;

static int s_opt_uint (ef_mpr_t *r, uint64_t *v);

/*  Read one value by kind into base + f->off. */
static int
s_read_field (ef_mpr_t *r, const s_field_t *f, void *base)
{
    void *at = (char *) base + f->off;
    switch (f->kind) {
    case S_F_STR: return s_opt_str (r, (ef_str_t *) at);
    case S_F_UINT: return s_opt_uint (r, (uint64_t *) at);
    default: return ef_mpr_bool (r, (int *) at);
    }
}

/*  A map of n pairs; for keys not in the table, extra (may be NULL) gets
    a chance before the value is skipped: it returns 1 when it read it. */
typedef int (s_extra_fn) (ef_mpr_t *r, ef_str_t key, void *base, int *rc);

static int
s_read_fields (ef_mpr_t *r, const s_field_t *fields, size_t nfields,
               void *base, s_extra_fn *extra)
{
    uint32_t n;
    int rc = ef_mpr_map (r, &n);
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        ef_str_t k;
        if ((rc = ef_mpr_str (r, &k)))
            break;
        size_t f = 0;
        while (f < nfields && !KEY (k, fields[f].key))
            f++;
        if (f < nfields)
            rc = s_read_field (r, &fields[f], base);
        else if (!(extra && extra (r, k, base, &rc)))
            rc = ef_mpr_skip (r, EF_MSGPACK_DEPTH);
    }
    return rc;
}

#define S_FS(st, k, m) {k, S_F_STR, offsetof (st, m)}
#define S_FU(st, k, m) {k, S_F_UINT, offsetof (st, m)}
#define S_FB(st, k, m) {k, S_F_BOOL, offsetof (st, m)}

/* ---------------------------------------------------------------- reading */

int
ef_proto_decode_reply (const void *p, size_t n, ef_reply_t *rep)
{
    memset (rep, 0, sizeof *rep);
    ef_mpr_t r;
    ef_mpr_init (&r, p, n);
    if (ef_mpr_map (&r, &rep->nkeys))
        return EF_EPROTO;
    rep->body = r;
    int have_ok = 0, have_id = 0;
    /* Replies are not validated whole first (a page of events would be
       walked twice): the reader is bounded, so whatever part is read later
       fails cleanly if it is malformed. The walk stops once id and ok (and
       for a refusal, error) are known; the broker writes them first. */
    for (uint32_t i = 0; i < rep->nkeys; i++) {
        if (have_id && have_ok && rep->ok)
            break;
        ef_str_t k;
        int rc;
        if (ef_mpr_str (&r, &k))
            return EF_EPROTO;
        if (KEY (k, "id")) {
            rc = ef_mpr_uint (&r, &rep->id);
            have_id = 1;
        } else if (KEY (k, "ok")) {
            rc = ef_mpr_bool (&r, &rep->ok);
            have_ok = 1;
        } else if (KEY (k, "error")) {
            uint32_t m;
            rc = ef_mpr_map (&r, &m);
            for (uint32_t j = 0; rc == 0 && j < m; j++) {
                ef_str_t ek;
                int64_t code;
                if ((rc = ef_mpr_str (&r, &ek)))
                    break;
                if (KEY (ek, "code")) {
                    rc = ef_mpr_int (&r, &code);
                    rep->code = (int) code;
                } else if (KEY (ek, "name"))
                    rc = ef_mpr_str (&r, &rep->err_name);
                else if (KEY (ek, "message"))
                    rc = ef_mpr_str (&r, &rep->err_message);
                else if (KEY (ek, "retry_after_ms"))
                    rc = ef_mpr_uint (&r, &rep->retry_after_ms);
                else
                    rc = ef_mpr_skip (&r, EF_MSGPACK_DEPTH);
            }
        } else
            rc = ef_mpr_skip (&r, EF_MSGPACK_DEPTH);
        if (rc)
            return EF_EPROTO;
    }
    if (!have_ok)
        return EF_EPROTO;
    if (rep->ok)
        rep->code = 0;
    else if (rep->code >= 0 || rep->code < EF_ERROR_MIN)
        rep->code = ef_str_set (rep->err_name)
                        ? ef_error_from_name (rep->err_name.ptr,
                                              rep->err_name.len)
                        : EF_EINTERNAL;
    return 0;
}

int
ef_proto_reply_find (const ef_reply_t *rep, const char *key, ef_mpr_t *out)
{
    ef_mpr_t r = rep->body;
    for (uint32_t i = 0; i < rep->nkeys; i++) {
        ef_str_t k;
        if (ef_mpr_str (&r, &k))
            return EF_ENOTFOUND;
        if (KEY (k, key)) {
            *out = r;
            return 0;
        }
        if (ef_mpr_skip (&r, EF_MSGPACK_DEPTH))
            return EF_ENOTFOUND;
    }
    return EF_ENOTFOUND;
}

static int
s_opt_uint (ef_mpr_t *r, uint64_t *v)
{
    if (ef_mpr_nil (r)) {
        *v = 0;
        return 0;
    }
    return ef_mpr_uint (r, v);
}

int
ef_proto_read_event_kv (ef_mpr_t *r, uint32_t n, ef_event_t *ev)
{
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        ef_str_t k;
        uint64_t u;
        if ((rc = ef_mpr_str (r, &k)))
            break;
        if (KEY (k, "event_id"))
            rc = s_opt_str (r, &ev->event_id);
        else if (KEY (k, "stream_id"))
            rc = s_opt_str (r, &ev->stream_id);
        else if (KEY (k, "seq"))
            rc = ef_mpr_uint (r, &ev->seq);
        else if (KEY (k, "type"))
            rc = s_opt_str (r, &ev->type);
        else if (KEY (k, "version")) {
            rc = ef_mpr_uint (r, &u);
            ev->version = (uint32_t) u;
        } else if (KEY (k, "occurred_at"))
            rc = s_opt_uint (r, &ev->occurred_at);
        else if (KEY (k, "received_at"))
            rc = s_opt_uint (r, &ev->received_at);
        else if (KEY (k, "source"))
            rc = s_opt_str (r, &ev->source);
        else if (KEY (k, "api_key_id"))
            rc = s_opt_str (r, &ev->api_key_id);
        else if (KEY (k, "context")) {
            uint32_t m;
            if (ef_mpr_nil (r))
                continue;
            rc = ef_mpr_map (r, &m);
            for (uint32_t j = 0; rc == 0 && j < m; j++) {
                ef_str_t ck;
                if ((rc = ef_mpr_str (r, &ck)))
                    break;
                if (KEY (ck, "trace_id"))
                    rc = s_opt_str (r, &ev->trace_id);
                else if (KEY (ck, "correlation_id"))
                    rc = s_opt_str (r, &ev->correlation_id);
                else if (KEY (ck, "request_id"))
                    rc = s_opt_str (r, &ev->request_id);
                else
                    rc = ef_mpr_skip (r, EF_MSGPACK_DEPTH);
            }
        } else if (KEY (k, "payload"))
            rc = s_opt_str (r, &ev->payload);
        else if (KEY (k, "status"))
            rc = s_opt_str (r, &ev->status);
        else if (KEY (k, "attempts")) {
            rc = ef_mpr_uint (r, &u);
            ev->attempts = (uint32_t) u;
        } else if (KEY (k, "last_error"))
            rc = s_opt_str (r, &ev->last_error);
        else if (KEY (k, "result"))
            rc = s_opt_str (r, &ev->result);
        else if (KEY (k, "processed_at"))
            rc = s_opt_uint (r, &ev->processed_at);
        else
            rc = ef_mpr_skip (r, EF_MSGPACK_DEPTH);
    }
    return rc;
}

int
ef_proto_read_event (ef_mpr_t *r, ef_event_t *ev)
{
    uint32_t n;
    memset (ev, 0, sizeof *ev);
    int rc = ef_mpr_map (r, &n);
    return rc ? rc : ef_proto_read_event_kv (r, n, ev);
}

int
ef_proto_read_stream (ef_mpr_t *r, ef_stream_info_t *s)
{
    static const s_field_t fields[] = {
        S_FS (ef_stream_info_t, "id", id),
        S_FS (ef_stream_info_t, "name", name),
        S_FU (ef_stream_info_t, "created_at", created_at),
        S_FU (ef_stream_info_t, "events", events),
        S_FU (ef_stream_info_t, "first_seq", first_seq),
        S_FU (ef_stream_info_t, "last_seq", last_seq),
        S_FS (ef_stream_info_t, "schema", schema),
        S_FS (ef_stream_info_t, "pipeline", pipeline),
    };
    memset (s, 0, sizeof *s);
    return s_read_fields (r, fields, sizeof fields / sizeof fields[0], s,
                          NULL);
}

int
ef_proto_read_result (ef_mpr_t *r, ef_publish_result_t *res)
{
    uint32_t n;
    memset (res, 0, sizeof *res);
    int rc = ef_mpr_map (r, &n);
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        ef_str_t k, st;
        uint64_t u;
        if ((rc = ef_mpr_str (r, &k)))
            break;
        if (KEY (k, "event_id"))
            rc = ef_mpr_str (r, &res->event_id);
        else if (KEY (k, "seq"))
            rc = ef_mpr_uint (r, &res->seq);
        else if (KEY (k, "received_at"))
            rc = ef_mpr_uint (r, &res->received_at);
        else if (KEY (k, "status")) {
            rc = ef_mpr_str (r, &st);
            res->duplicate = rc == 0 && ef_str_eq (st, "DUPLICATE");
        } else if (KEY (k, "index")) {
            rc = ef_mpr_uint (r, &u);
            res->index = (uint32_t) u;
        } else if (KEY (k, "error")) {
            uint32_t m;
            ef_str_t name = EF_STR_NULL;
            int64_t code = 0;
            rc = ef_mpr_map (r, &m);
            for (uint32_t j = 0; rc == 0 && j < m; j++) {
                ef_str_t ek;
                if ((rc = ef_mpr_str (r, &ek)))
                    break;
                if (KEY (ek, "code"))
                    rc = ef_mpr_int (r, &code);
                else if (KEY (ek, "name"))
                    rc = ef_mpr_str (r, &name);
                else if (KEY (ek, "message"))
                    rc = ef_mpr_str (r, &res->message);
                else if (KEY (ek, "retry_after_ms"))
                    rc = ef_mpr_uint (r, &res->retry_after_ms);
                else
                    rc = ef_mpr_skip (r, EF_MSGPACK_DEPTH);
            }
            res->code = (code < 0 && code >= EF_ERROR_MIN)
                            ? (int) code
                            : (name.ptr ? ef_error_from_name (name.ptr,
                                                              name.len)
                                        : EF_EINTERNAL);
        } else
            rc = ef_mpr_skip (r, EF_MSGPACK_DEPTH);
    }
    return rc;
}

static int
s_read_uint_fields (ef_mpr_t *r, const char *const *keys, uint64_t **vals,
                    int nfields, const char *nested, ef_mpr_t *nested_at)
{
    uint32_t n;
    int rc = ef_mpr_map (r, &n);
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        ef_str_t k;
        int found = 0;
        if ((rc = ef_mpr_str (r, &k)))
            break;
        if (nested && KEY (k, nested)) {
            *nested_at = *r;
            rc = ef_mpr_skip (r, EF_MSGPACK_DEPTH);
            continue;
        }
        for (int f = 0; f < nfields && !found; f++)
            if (KEY (k, keys[f])) {
                rc = ef_mpr_uint (r, vals[f]);
                found = 1;
            }
        if (!found)
            rc = ef_mpr_skip (r, EF_MSGPACK_DEPTH);
    }
    return rc;
}

int
ef_proto_read_stats (ef_mpr_t *r, ef_stats_t *s)
{
    static const char *const top[] = {"streams", "events", "store_bytes",
                                      "map_size"};
    static const char *const ctr[] = {"published", "duplicates", "rejected",
                                      "malformed", "commits",    "requests"};
    uint64_t *topv[] = {&s->streams, &s->events, &s->store_bytes, &s->map_size};
    uint64_t *ctrv[] = {&s->published, &s->duplicates, &s->rejected,
                        &s->malformed, &s->commits,    &s->requests};
    ef_mpr_t counters = {0};
    memset (s, 0, sizeof *s);
    int rc = s_read_uint_fields (r, top, topv, 4, "counters", &counters);
    if (rc == 0 && counters.p)
        rc = s_read_uint_fields (&counters, ctr, ctrv, 6, NULL, NULL);
    s->broker_wide = counters.p != NULL;
    return rc;
}

int
ef_proto_read_hello (const ef_reply_t *rep, ef_hello_t *h)
{
    static const char *const lim[] = {"max_message", "max_batch",
                                      "max_payload", "max_read"};
    uint64_t *limv[] = {&h->max_message, &h->max_batch, &h->max_payload,
                        &h->max_read};
    ef_mpr_t r;
    int rc = 0;
    memset (h, 0, sizeof *h);
    if (ef_proto_reply_find (rep, "server", &r) == 0)
        rc |= ef_mpr_str (&r, &h->server);
    if (ef_proto_reply_find (rep, "version", &r) == 0)
        rc |= ef_mpr_str (&r, &h->version);
    if (ef_proto_reply_find (rep, "protocol", &r) == 0)
        rc |= ef_mpr_uint (&r, &h->protocol);
    if (ef_proto_reply_find (rep, "limits", &r) == 0)
        rc |= s_read_uint_fields (&r, lim, limv, 4, NULL, NULL);
    return rc ? EF_EINVAL : 0;
}


int
ef_proto_read_user (ef_mpr_t *r, ef_user_info_t *u)
{
    static const s_field_t fields[] = {
        S_FS (ef_user_info_t, "id", id),
        S_FS (ef_user_info_t, "email", email),
        S_FS (ef_user_info_t, "role", role),
        S_FS (ef_user_info_t, "org_id", org_id),
        S_FU (ef_user_info_t, "created_at", created_at),
    };
    memset (u, 0, sizeof *u);
    return s_read_fields (r, fields, sizeof fields / sizeof fields[0], u,
                          NULL);
}

/*  An API key's nested fields: streams and rate. */
static int
s_apikey_extra (ef_mpr_t *r, ef_str_t k, void *base, int *rc)
{
    ef_apikey_info_t *key = base;
    uint32_t m;
    if (KEY (k, "streams")) {
        *rc = ef_mpr_array (r, &m);
        if (*rc == 0 && m > 16)
            *rc = EF_EINVAL;
        for (uint32_t j = 0; *rc == 0 && j < m; j++)
            *rc = ef_mpr_str (r, &key->streams[j]);
        key->n_streams = *rc == 0 ? m : 0;
        return 1;
    }
    if (KEY (k, "rate")) {
        static const s_field_t rate[] = {
            S_FU (ef_apikey_info_t, "per_second", per_second),
            S_FU (ef_apikey_info_t, "burst", burst),
        };
        *rc = s_read_fields (r, rate, 2, key, NULL);
        return 1;
    }
    return 0;
}

int
ef_proto_read_apikey (ef_mpr_t *r, ef_apikey_info_t *key)
{
    static const s_field_t fields[] = {
        S_FS (ef_apikey_info_t, "id", id),
        S_FS (ef_apikey_info_t, "name", name),
        S_FS (ef_apikey_info_t, "role", role),
        S_FB (ef_apikey_info_t, "producer", producer),
        S_FU (ef_apikey_info_t, "created_at", created_at),
        S_FU (ef_apikey_info_t, "revoked_at", revoked_at),
    };
    memset (key, 0, sizeof *key);
    return s_read_fields (r, fields, sizeof fields / sizeof fields[0], key,
                          s_apikey_extra);
}

int
ef_proto_read_clientkey (ef_mpr_t *r, ef_clientkey_info_t *key)
{
    static const s_field_t fields[] = {
        S_FS (ef_clientkey_info_t, "public_key", public_key),
        S_FS (ef_clientkey_info_t, "role", role),
        S_FS (ef_clientkey_info_t, "name", name),
        S_FU (ef_clientkey_info_t, "created_at", created_at),
        S_FU (ef_clientkey_info_t, "revoked_at", revoked_at),
    };
    memset (key, 0, sizeof *key);
    return s_read_fields (r, fields, sizeof fields / sizeof fields[0], key,
                          NULL);
}
