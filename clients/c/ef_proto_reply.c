/*  ef_proto_reply.c: replies of protocol version 1 and the values they
    carry (schemas/protocol.md §2, §4): each value (Event, Stream, Result,
    stats, HELLO's keys, User, ApiKey, ClientKey) is one table of its keys
    in wire order, which ef_proto_write_* writes and ef_proto_read_* reads
    (ef_proto_int.h). The error map is one writer and one reader, shared
    by error replies and PUBLISH results. Replies are read lazily (pages
    of events are large); the reader is bounded, so a malformed part fails
    when it is reached. */
#include "eventflow/ef_proto.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_json.h"
#include "ef_proto_int.h"

#include <stddef.h>
#include <string.h>

#define KEY(k, lit) ef_str_eq ((k), (lit))
#define NIL         EF_PF_NIL

/* ---------------------------------------------------------------- tables */

static const ef_proto_field_t s_context_rows[] = {
    EF_PF (ef_event_t, "trace_id", STR, ALWAYS, NIL, trace_id, 0, NULL),
    EF_PF (ef_event_t, "correlation_id", STR, ALWAYS, NIL, correlation_id, 0,
           NULL),
    /* only when set: bytes on disk count */
    EF_PF (ef_event_t, "request_id", STR, SET, NIL, request_id, 0, NULL),
};
static const ef_proto_table_t s_context = EF_PT (s_context_rows);

/*  An event: head (known from where it is stored), record (immutable, as
    stored), state. */
static const ef_proto_field_t s_event_rows[] = {
    EF_PF (ef_event_t, "stream_id", STR, ALWAYS, NIL, stream_id, 0, NULL),
    EF_PF (ef_event_t, "seq", U64, ALWAYS, 0, seq, 0, NULL),
    /* record */
    EF_PF (ef_event_t, "event_id", STR, ALWAYS, NIL, event_id, 0, NULL),
    EF_PF (ef_event_t, "type", STR, ALWAYS, NIL, type, 0, NULL),
    EF_PF (ef_event_t, "version", U32, ALWAYS, 0, version, 0, NULL),
    EF_PF (ef_event_t, "occurred_at", U64, ALWAYS, NIL, occurred_at, 0, NULL),
    EF_PF (ef_event_t, "received_at", U64, ALWAYS, NIL, received_at, 0, NULL),
    EF_PF (ef_event_t, "source", STR, ALWAYS, NIL, source, 0, NULL),
    EF_PF (ef_event_t, "api_key_id", STR, ALWAYS, NIL, api_key_id, 0, NULL),
    EF_PF (ef_event_t, "context", MAP, ALWAYS, NIL, trace_id, 0, &s_context),
    EF_PF (ef_event_t, "payload", STR, ALWAYS, NIL, payload, 0, NULL),
    /* state */
    EF_PF (ef_event_t, "status", STR, ALWAYS, NIL, status, 0, NULL),
    EF_PF (ef_event_t, "attempts", U32, ALWAYS, 0, attempts, 0, NULL),
    EF_PF (ef_event_t, "last_error", STR, ALWAYS, NIL, last_error, 0, NULL),
    EF_PF (ef_event_t, "result", STR, ALWAYS, NIL, result, 0, NULL),
    EF_PF (ef_event_t, "processed_at", U64, ALWAYS, NIL | EF_PF_NILZ,
           processed_at, 0, NULL),
};
static const ef_proto_table_t s_event = EF_PT (s_event_rows);
static const ef_proto_table_t s_event_record = {s_event_rows + 2,
                                                EF_EVENT_RECORD_KEYS};
static const ef_proto_table_t s_event_state = {
    s_event_rows + 2 + EF_EVENT_RECORD_KEYS, EF_EVENT_STATE_KEYS};
_Static_assert(sizeof s_event_rows / sizeof s_event_rows[0] ==
                   2 + EF_EVENT_RECORD_KEYS + EF_EVENT_STATE_KEYS,
               "an event is head, record and state");

static const ef_proto_field_t s_stream_retention_rows[] = {
    EF_PF (ef_stream_info_t, "max_age_ms", U64, ALWAYS, 0, ret_max_age_ms, 0,
           NULL),
    EF_PF (ef_stream_info_t, "max_bytes", U64, ALWAYS, 0, ret_max_bytes, 0,
           NULL),
    EF_PF (ef_stream_info_t, "max_events", U64, ALWAYS, 0, ret_max_events, 0,
           NULL),
    EF_PF (ef_stream_info_t, "after_groups", BOOL, ALWAYS, 0, ret_after_groups,
           0, NULL),
};
static const ef_proto_table_t s_stream_retention =
    EF_PT (s_stream_retention_rows);

static const ef_proto_field_t s_stream_rows[] = {
    EF_PF (ef_stream_info_t, "id", STR, ALWAYS, NIL, id, 0, NULL),
    EF_PF (ef_stream_info_t, "name", STR, ALWAYS, NIL, name, 0, NULL),
    EF_PF (ef_stream_info_t, "created_at", U64, ALWAYS, NIL, created_at, 0,
           NULL),
    EF_PF (ef_stream_info_t, "events", U64, ALWAYS, NIL, events, 0, NULL),
    EF_PF (ef_stream_info_t, "first_seq", U64, ALWAYS, NIL, first_seq, 0, NULL),
    EF_PF (ef_stream_info_t, "last_seq", U64, ALWAYS, NIL, last_seq, 0, NULL),
    EF_PF (ef_stream_info_t, "schema", STR, SET, NIL, schema, 0, NULL),
    EF_PF (ef_stream_info_t, "pipeline", STR, SET, NIL, pipeline, 0, NULL),
    EF_PF (ef_stream_info_t, "bytes", U64, ALWAYS, NIL, bytes, 0, NULL),
    EF_PF (ef_stream_info_t, "last_event_at", U64, ALWAYS, NIL | EF_PF_NILZ,
           last_event_at, 0, NULL),
    EF_PF (ef_stream_info_t, "retention", MAP, HAS, 0, ret_max_age_ms,
           offsetof (ef_stream_info_t, has_retention), &s_stream_retention),
};
static const ef_proto_table_t s_stream = EF_PT (s_stream_rows);

/*  A PUBLISH result: stored or duplicate (the first four), or refused
    (index and the error map). */
static const ef_proto_field_t s_result_rows[] = {
    EF_PF (ef_publish_result_t, "event_id", STR, ALWAYS, 0, event_id, 0, NULL),
    EF_PF (ef_publish_result_t, "seq", U64, ALWAYS, 0, seq, 0, NULL),
    EF_PF (ef_publish_result_t, "status", DUP, ALWAYS, 0, duplicate, 0, NULL),
    EF_PF (ef_publish_result_t, "received_at", U64, ALWAYS, 0, received_at, 0,
           NULL),
    EF_PF (ef_publish_result_t, "index", U32, ALWAYS, 0, index, 0, NULL),
};
static const ef_proto_table_t s_result = EF_PT (s_result_rows);
static const ef_proto_table_t s_result_stored = {s_result_rows, 4};
static const ef_proto_field_t *const s_result_index = &s_result_rows[4];

static const ef_proto_field_t s_counter_rows[] = {
    EF_PF (ef_stats_t, "published", U64, ALWAYS, 0, published, 0, NULL),
    EF_PF (ef_stats_t, "duplicates", U64, ALWAYS, 0, duplicates, 0, NULL),
    EF_PF (ef_stats_t, "rejected", U64, ALWAYS, 0, rejected, 0, NULL),
    EF_PF (ef_stats_t, "malformed", U64, ALWAYS, 0, malformed, 0, NULL),
    EF_PF (ef_stats_t, "commits", U64, ALWAYS, 0, commits, 0, NULL),
    EF_PF (ef_stats_t, "requests", U64, ALWAYS, 0, requests, 0, NULL),
};
static const ef_proto_table_t s_counters = EF_PT (s_counter_rows);

static const ef_proto_field_t s_stats_rows[] = {
    EF_PF (ef_stats_t, "streams", U64, ALWAYS, 0, streams, 0, NULL),
    EF_PF (ef_stats_t, "events", U64, ALWAYS, 0, events, 0, NULL),
    EF_PF (ef_stats_t, "store_bytes", U64, ALWAYS, 0, store_bytes, 0, NULL),
    EF_PF (ef_stats_t, "map_size", U64, ALWAYS, 0, map_size, 0, NULL),
    /* the operator's figures: broker_wide when they came */
    EF_PF (ef_stats_t, "counters", MAP, ALWAYS, EF_PF_SEEN, published,
           offsetof (ef_stats_t, broker_wide), &s_counters),
};
static const ef_proto_table_t s_stats = EF_PT (s_stats_rows);

static const ef_proto_field_t s_limit_rows[] = {
    EF_PF (ef_hello_t, "max_message", U64, ALWAYS, 0, max_message, 0, NULL),
    EF_PF (ef_hello_t, "max_batch", U64, ALWAYS, 0, max_batch, 0, NULL),
    EF_PF (ef_hello_t, "max_payload", U64, ALWAYS, 0, max_payload, 0, NULL),
    EF_PF (ef_hello_t, "max_read", U64, ALWAYS, 0, max_read, 0, NULL),
};
static const ef_proto_table_t s_limits = EF_PT (s_limit_rows);

/*  HELLO's keys, at the top level of its reply. */
static const ef_proto_field_t s_hello_rows[] = {
    EF_PF (ef_hello_t, "server", STR, ALWAYS, 0, server, 0, NULL),
    EF_PF (ef_hello_t, "version", STR, ALWAYS, 0, version, 0, NULL),
    EF_PF (ef_hello_t, "protocol", U64, ALWAYS, 0, protocol, 0, NULL),
    EF_PF (ef_hello_t, "limits", MAP, ALWAYS, 0, max_message, 0, &s_limits),
};
static const ef_proto_table_t s_hello = EF_PT (s_hello_rows);

static const ef_proto_field_t s_user_rows[] = {
    EF_PF (ef_user_info_t, "id", STR, ALWAYS, NIL, id, 0, NULL),
    EF_PF (ef_user_info_t, "email", STR, ALWAYS, NIL, email, 0, NULL),
    EF_PF (ef_user_info_t, "role", STR, ALWAYS, NIL, role, 0, NULL),
    EF_PF (ef_user_info_t, "org_id", STR, ALWAYS, NIL, org_id, 0, NULL),
    EF_PF (ef_user_info_t, "created_at", U64, ALWAYS, NIL, created_at, 0, NULL),
};
static const ef_proto_table_t s_user = EF_PT (s_user_rows);

static const ef_proto_field_t s_rate_rows[] = {
    EF_PF (ef_apikey_info_t, "per_second", U64, ALWAYS, NIL, per_second, 0,
           NULL),
    EF_PF (ef_apikey_info_t, "burst", U64, ALWAYS, NIL, burst, 0, NULL),
};
static const ef_proto_table_t s_rate = EF_PT (s_rate_rows);

static const ef_proto_field_t s_apikey_rows[] = {
    EF_PF (ef_apikey_info_t, "id", STR, ALWAYS, NIL, id, 0, NULL),
    EF_PF (ef_apikey_info_t, "name", STR, ALWAYS, NIL, name, 0, NULL),
    EF_PF (ef_apikey_info_t, "role", STR, ALWAYS, NIL, role, 0, NULL),
    EF_PF (ef_apikey_info_t, "producer", BOOL, ALWAYS, 0, producer, 0, NULL),
    EF_PF (ef_apikey_info_t, "streams", STRS, ALWAYS, 0, streams,
           offsetof (ef_apikey_info_t, n_streams), NULL),
    EF_PF (ef_apikey_info_t, "rate", MAP, ALWAYS, 0, per_second, 0, &s_rate),
    EF_PF (ef_apikey_info_t, "created_at", U64, ALWAYS, NIL, created_at, 0,
           NULL),
    EF_PF (ef_apikey_info_t, "revoked_at", U64, ALWAYS, NIL | EF_PF_NILZ,
           revoked_at, 0, NULL),
    EF_PF (ef_apikey_info_t, "last_used_at", U64, ALWAYS, NIL | EF_PF_NILZ,
           last_used_at, 0, NULL),
    EF_PF (ef_apikey_info_t, "requests_per_min", U64, ALWAYS, NIL,
           requests_per_min, 0, NULL),
};
static const ef_proto_table_t s_apikey = EF_PT (s_apikey_rows);

static const ef_proto_field_t s_clientkey_rows[] = {
    EF_PF (ef_clientkey_info_t, "public_key", STR, ALWAYS, NIL, public_key, 0,
           NULL),
    EF_PF (ef_clientkey_info_t, "role", STR, ALWAYS, NIL, role, 0, NULL),
    EF_PF (ef_clientkey_info_t, "name", STR, ALWAYS, NIL, name, 0, NULL),
    EF_PF (ef_clientkey_info_t, "created_at", U64, ALWAYS, NIL, created_at, 0,
           NULL),
    EF_PF (ef_clientkey_info_t, "revoked_at", U64, ALWAYS, NIL | EF_PF_NILZ,
           revoked_at, 0, NULL),
};
static const ef_proto_table_t s_clientkey = EF_PT (s_clientkey_rows);

/* ---------------------------------------------------------------- errors */

/*  The error map (protocol.md §2): code, name, message, retry_after_ms
    with RATE_LIMITED, and errors (the field errors) when there are any.
    A PUBLISH result writes retry_after_ms first (as it always has). */
static void
s_write_error (ef_buf_t *b, int code, ef_str_t message, uint64_t retry_ms,
               ef_str_t errors, int retry_first)
{
    int rate = code == EF_ERATE;
    ef_mp_map (b, 3 + (uint32_t)rate + !!ef_str_set (errors));
    if (rate && retry_first) {
        ef_mp_key (b, "retry_after_ms");
        ef_mp_uint (b, retry_ms);
    }
    ef_mp_key (b, "code");
    ef_mp_int (b, code);
    ef_mp_key (b, "name");
    ef_mp_cstr (b, ef_error_name (code));
    ef_mp_key (b, "message");
    if (ef_str_set (message))
        ef_mp_xstr (b, message);
    else
        ef_mp_cstr (b, ef_strerror (code));
    if (rate && !retry_first) {
        ef_mp_key (b, "retry_after_ms");
        ef_mp_uint (b, retry_ms);
    }
    if (ef_str_set (errors)) {
        ef_mp_key (b, "errors");
        ef_buf_append (b, errors.ptr, errors.len);
    }
}

typedef struct {
    int64_t code;
    ef_str_t name, message, errors;
    uint64_t retry_after_ms;
} s_error_t;

/*  The error map at r; errors is the bytes of its array, as they came. */
static int
s_read_error (ef_mpr_t *r, s_error_t *e)
{
    uint32_t m;
    int rc = ef_mpr_map (r, &m);
    for (uint32_t j = 0; rc == 0 && j < m; j++) {
        ef_str_t ek;
        if ((rc = ef_mpr_str (r, &ek)))
            break;
        if (KEY (ek, "code"))
            rc = ef_mpr_int (r, &e->code);
        else if (KEY (ek, "name"))
            rc = ef_mpr_str (r, &e->name);
        else if (KEY (ek, "message"))
            rc = ef_mpr_str (r, &e->message);
        else if (KEY (ek, "retry_after_ms"))
            rc = ef_mpr_uint (r, &e->retry_after_ms);
        else if (KEY (ek, "errors")) {
            const char *at = (const char *)r->p;
            uint32_t n;
            ef_mpr_t probe = *r;
            rc = ef_mpr_array (&probe, &n); /* an array, or mistyped */
            if (rc == 0)
                rc = ef_mpr_skip (r, EF_MSGPACK_DEPTH);
            if (rc == 0)
                e->errors = (ef_str_t){at, (uint32_t)((const char *)r->p - at)};
        } else
            rc = ef_mpr_skip (r, EF_MSGPACK_DEPTH);
    }
    return rc;
}

/*  A code from a peer: its own when it is one of ours, else by name. */
static int
s_error_code (const s_error_t *e)
{
    if (e->code < 0 && e->code >= EF_ERROR_MIN)
        return (int)e->code;
    return ef_str_set (e->name) ? ef_error_from_name (e->name.ptr, e->name.len)
                                : EF_EINTERNAL;
}

void
ef_proto_write_field_error (ef_buf_t *b, const char *path, const char *message)
{
    ef_mp_map (b, 2);
    ef_mp_key (b, "path");
    ef_mp_cstr (b, path);
    ef_mp_key (b, "message");
    ef_mp_cstr (b, message);
}

int
ef_proto_read_field_error (ef_mpr_t *r, ef_field_error_t *e)
{
    static const ef_proto_field_t rows[] = {
        EF_PF (ef_field_error_t, "path", STR, ALWAYS, 0, path, 0, NULL),
        EF_PF (ef_field_error_t, "message", STR, ALWAYS, 0, message, 0, NULL),
    };
    static const ef_proto_table_t t = EF_PT (rows);
    memset (e, 0, sizeof *e);
    int rc = ef_proto_record_read (r, &t, e, NULL);
    return rc                                                  ? rc
           : (ef_str_set (e->path) && ef_str_set (e->message)) ? 0
                                                               : EF_EINVAL;
}

/* ---------------------------------------------------------------- writing */

void
ef_proto_reply_ok (ef_buf_t *b, uint64_t id, uint32_t n)
{
    ef_mp_map (b, n + 2);
    ef_mp_key (b, "id");
    ef_mp_uint (b, id);
    ef_mp_key (b, "ok");
    ef_mp_bool (b, 1);
}

void
ef_proto_reply_error (ef_buf_t *b, uint64_t id, int code, const char *message,
                      uint64_t retry_after_ms)
{
    ef_mp_map (b, 3);
    ef_mp_key (b, "id");
    ef_mp_uint (b, id);
    ef_mp_key (b, "ok");
    ef_mp_bool (b, 0);
    ef_mp_key (b, "error");
    s_write_error (b, code, ef_str (message), retry_after_ms, EF_STR_NULL, 0);
}

void
ef_proto_reply_error_at (ef_buf_t *b, uint64_t id, int code,
                         const char *message, const char *path)
{
    ef_buf_t errors;
    ef_buf_init (&errors);
    ef_mp_array (&errors, 1);
    ef_proto_write_field_error (&errors, path, message);
    ef_mp_map (b, 3);
    ef_mp_key (b, "id");
    ef_mp_uint (b, id);
    ef_mp_key (b, "ok");
    ef_mp_bool (b, 0);
    ef_mp_key (b, "error");
    s_write_error (b, code, ef_str (message), 0,
                   errors.oom ? EF_STR_NULL
                              : (ef_str_t){errors.data, (uint32_t)errors.len},
                   0);
    ef_buf_free (&errors);
}

void
ef_proto_write_event_head (ef_buf_t *b, ef_str_t stream_id, uint64_t seq)
{
    ef_event_t ev;
    ev.stream_id = stream_id;
    ev.seq = seq;
    ef_mp_map (b, 2 + EF_EVENT_RECORD_KEYS + EF_EVENT_STATE_KEYS);
    ef_proto_field_write (b, &s_event_rows[0], &ev);
    ef_proto_field_write (b, &s_event_rows[1], &ev);
}

void
ef_proto_write_event_slim_head (ef_buf_t *b, uint64_t seq, int with_state)
{
    ef_event_t ev;
    ev.seq = seq;
    ef_mp_map (b, 1 + EF_EVENT_RECORD_KEYS +
                      (with_state ? EF_EVENT_STATE_KEYS : 0));
    ef_proto_field_write (b, &s_event_rows[1], &ev);
}

void
ef_proto_write_event_record (ef_buf_t *b, const ef_event_t *ev)
{
    ef_proto_fields_write (b, &s_event_record, ev);
}

void
ef_proto_write_event_state (ef_buf_t *b, const ef_event_t *ev)
{
    ef_proto_fields_write (b, &s_event_state, ev);
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
    ef_proto_record_write (b, &s_stream, s);
}

void
ef_proto_write_result (ef_buf_t *b, const ef_publish_result_t *r)
{
    if (!r->code) {
        ef_proto_record_write (b, &s_result_stored, r);
        return;
    }
    ef_mp_map (b, 2);
    ef_proto_field_write (b, s_result_index, r);
    ef_mp_key (b, "error");
    s_write_error (b, r->code, r->message, r->retry_after_ms, r->errors, 1);
}

void
ef_proto_write_stats (ef_buf_t *b, const ef_stats_t *s)
{
    ef_proto_record_write (b, &s_stats, s);
}

void
ef_proto_write_hello (ef_buf_t *b, const ef_hello_t *h)
{
    ef_proto_fields_write (b, &s_hello, h);
}

void
ef_proto_write_user (ef_buf_t *b, const ef_user_info_t *u)
{
    ef_proto_record_write (b, &s_user, u);
}

void
ef_proto_write_apikey (ef_buf_t *b, const ef_apikey_info_t *k)
{
    ef_proto_record_write (b, &s_apikey, k);
}

void
ef_proto_write_clientkey (ef_buf_t *b, const ef_clientkey_info_t *k)
{
    ef_proto_record_write (b, &s_clientkey, k);
}

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
    s_error_t e = {0};
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
        } else if (KEY (k, "error"))
            rc = s_read_error (&r, &e);
        else
            rc = ef_mpr_skip (&r, EF_MSGPACK_DEPTH);
        if (rc)
            return EF_EPROTO;
    }
    if (!have_ok)
        return EF_EPROTO;
    rep->err_name = e.name;
    rep->err_message = e.message;
    rep->err_errors = e.errors;
    rep->retry_after_ms = e.retry_after_ms;
    rep->code = rep->ok ? 0 : s_error_code (&e);
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

void
ef_proto_reply_json (ef_buf_t *b, const ef_reply_t *rep)
{
    ef_mpr_t r = rep->body;
    int first = 1;
    ef_buf_append (b, "{", 1);
    for (uint32_t i = 0; i < rep->nkeys; i++) {
        ef_str_t k;
        if (ef_mpr_str (&r, &k))
            break;
        if (KEY (k, "id") || KEY (k, "ok")) {
            ef_mpr_skip (&r, EF_MSGPACK_DEPTH);
            continue;
        }
        if (!first)
            ef_buf_append (b, ",", 1);
        first = 0;
        ef_json_quote (b, k.ptr, k.len);
        ef_buf_append (b, ":", 1);
        ef_json_from_mp (b, &r, 1);
    }
    ef_buf_append (b, "}", 1);
}

int
ef_proto_read_event_kv (ef_mpr_t *r, uint32_t n, ef_event_t *ev)
{
    return ef_proto_fields_read (r, n, &s_event, ev, NULL);
}

int
ef_proto_read_event (ef_mpr_t *r, ef_event_t *ev)
{
    memset (ev, 0, sizeof *ev);
    return ef_proto_record_read (r, &s_event, ev, NULL);
}

int
ef_proto_read_page_event (ef_mpr_t *r, ef_str_t stream_id, ef_event_t *ev)
{
    int rc = ef_proto_read_event (r, ev);
    if (rc)
        return rc;
    if (!ev->stream_id.ptr)
        ev->stream_id = stream_id;
    if (!ev->status.ptr) { /* a whole event always has one */
        ev->status = ef_str ("PROCESSED");
        ev->processed_at = ev->received_at;
    }
    return 0;
}

int
ef_proto_read_stream (ef_mpr_t *r, ef_stream_info_t *s)
{
    memset (s, 0, sizeof *s);
    return ef_proto_record_read (r, &s_stream, s, NULL);
}

/*  A refused result's error map. */
static int
s_result_error (ef_mpr_t *r, ef_str_t k, void *base, int *rc)
{
    ef_publish_result_t *res = base;
    s_error_t e = {0};
    if (!KEY (k, "error"))
        return 0;
    *rc = s_read_error (r, &e);
    res->message = e.message;
    res->errors = e.errors;
    res->retry_after_ms = e.retry_after_ms;
    res->code = s_error_code (&e);
    return 1;
}

int
ef_proto_read_result (ef_mpr_t *r, ef_publish_result_t *res)
{
    memset (res, 0, sizeof *res);
    return ef_proto_record_read (r, &s_result, res, s_result_error);
}

int
ef_proto_read_stats (ef_mpr_t *r, ef_stats_t *s)
{
    memset (s, 0, sizeof *s);
    return ef_proto_record_read (r, &s_stats, s, NULL);
}

int
ef_proto_read_hello (const ef_reply_t *rep, ef_hello_t *h)
{
    ef_mpr_t r = rep->body;
    memset (h, 0, sizeof *h);
    return ef_proto_fields_read (&r, rep->nkeys, &s_hello, h, NULL) ? EF_EINVAL
                                                                    : 0;
}

int
ef_proto_read_user (ef_mpr_t *r, ef_user_info_t *u)
{
    memset (u, 0, sizeof *u);
    return ef_proto_record_read (r, &s_user, u, NULL);
}

int
ef_proto_read_apikey (ef_mpr_t *r, ef_apikey_info_t *key)
{
    memset (key, 0, sizeof *key);
    return ef_proto_record_read (r, &s_apikey, key, NULL);
}

int
ef_proto_read_clientkey (ef_mpr_t *r, ef_clientkey_info_t *key)
{
    memset (key, 0, sizeof *key);
    return ef_proto_record_read (r, &s_clientkey, key, NULL);
}

/* ---------------------------------------------------------------- registry */

static void
s_write_hello_map (ef_buf_t *b, const void *h)
{
    ef_mp_map (b, ef_proto_fields_count (&s_hello, h));
    ef_proto_write_hello (b, h);
}

static int
s_read_hello_map (ef_mpr_t *r, void *h)
{
    memset (h, 0, sizeof (ef_hello_t));
    return ef_proto_record_read (r, &s_hello, h, NULL);
}

#define S_REC(name, table, type, w, rd)                                        \
    {                                                                          \
        name, &table, sizeof (type), (void (*) (ef_buf_t *, const void *))w,   \
            (int (*) (ef_mpr_t *, void *))rd                                   \
    }

const ef_proto_record_t ef_proto_records[] = {
    S_REC ("Event", s_event, ef_event_t, ef_proto_write_event,
           ef_proto_read_event),
    S_REC ("Stream", s_stream, ef_stream_info_t, ef_proto_write_stream,
           ef_proto_read_stream),
    S_REC ("Result", s_result_stored, ef_publish_result_t,
           ef_proto_write_result, ef_proto_read_result),
    S_REC ("stats", s_stats, ef_stats_t, ef_proto_write_stats,
           ef_proto_read_stats),
    S_REC ("HELLO", s_hello, ef_hello_t, s_write_hello_map, s_read_hello_map),
    S_REC ("User", s_user, ef_user_info_t, ef_proto_write_user,
           ef_proto_read_user),
    S_REC ("ApiKey", s_apikey, ef_apikey_info_t, ef_proto_write_apikey,
           ef_proto_read_apikey),
    S_REC ("ClientKey", s_clientkey, ef_clientkey_info_t,
           ef_proto_write_clientkey, ef_proto_read_clientkey),
};
const size_t ef_proto_nrecords =
    sizeof ef_proto_records / sizeof ef_proto_records[0];
