/*  ef_proto_req.c: requests of protocol version 1 (schemas/protocol.md
    §2, §4). s_fields is every key a request can carry, in wire order,
    with its type and its place in ef_request_t; the encoder writes the
    present ones, the decoder looks each key up in it. s_views gives each
    command its view of the request: the keys it takes (protocol.md §4),
    the ones it always sends; s_required and s_ranges are what a command
    must have and the bounds of its numbers. PUBLISH items are the table
    s_item_fields. The decoder first checks the whole frame with
    ef_mp_validate, so the typed reads that follow can only fail on a type
    mismatch, which is an INVALID field rather than a malformed frame. */
#include "eventflow/ef_proto.h"
#include "eventflow/ef_error.h"
#include "ef_proto_int.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define KEY(k, lit)          ef_str_eq ((k), (lit))
#define S_AT(base, f, type)  ((type *)((char *)(base) + (f)->off))
#define S_AUX(base, f, type) ((type *)((char *)(base) + (f)->aux))

/* ---------------------------------------------------------------- tables */

#define S_OF(m) offsetof (ef_request_t, m)
static const ef_proto_field_t s_rate_fields[] = {
    EF_PF (ef_request_t, "per_second", U32, ALWAYS, 0, rate_per_second, 0,
           NULL),
    EF_PF (ef_request_t, "burst", U32, ALWAYS, 0, rate_burst, 0, NULL),
};
static const ef_proto_table_t s_rate = EF_PT (s_rate_fields);
static const ef_proto_field_t s_retention_fields[] = {
    EF_PF (ef_request_t, "max_age_ms", U64, ALWAYS, 0, ret_max_age_ms, 0, NULL),
    EF_PF (ef_request_t, "max_bytes", U64, ALWAYS, 0, ret_max_bytes, 0, NULL),
    EF_PF (ef_request_t, "max_events", U64, ALWAYS, 0, ret_max_events, 0, NULL),
    EF_PF (ef_request_t, "after_groups", BOOL, ALWAYS, 0, ret_after_groups, 0,
           NULL),
};
static const ef_proto_table_t s_retention = EF_PT (s_retention_fields);

/*  Every key of a request after v, id, cmd and auth, in the order they
    are written: id, key, kind, when it is written, member, aux, sub. */
#define S_FIELDS(X)                                                            \
    X (CLIENT, "client", STR, SET, client, 0, NULL)                            \
    X (NAME, "name", STR, SET, name, 0, NULL)                                  \
    X (STREAM, "stream", STR, SET, stream, 0, NULL)                            \
    X (EVENT_ID, "event_id", STR, SET, event_id, 0, NULL)                      \
    X (TYPE, "type", STR, SET, type, 0, NULL)                                  \
    X (SOURCE, "source", STR, SET, source, 0, NULL)                            \
    X (STATUS, "status", STR, SET, status, 0, NULL)                            \
    X (EMAIL, "email", STR, SET, email, 0, NULL)                               \
    X (PASSWORD, "password", STR, SET, password, 0, NULL)                      \
    X (ORG_NAME, "org_name", STR, SET, org_name, 0, NULL)                      \
    X (REFRESH_TOKEN, "refresh_token", STR, SET, refresh_token, 0, NULL)       \
    X (ROLE, "role", STR, SET, role, 0, NULL)                                  \
    X (USER_ID, "user_id", STR, SET, user_id, 0, NULL)                         \
    X (KEY_ID, "key_id", STR, SET, key_id, 0, NULL)                            \
    X (PUBLIC_KEY, "public_key", STR, SET, public_key, 0, NULL)                \
    X (ORG, "org", STR, SET, org, 0, NULL)                                     \
    X (GROUP, "group", STR, SET, group, 0, NULL)                               \
    X (CONSUMER_ID, "consumer_id", STR, SET, consumer_id, 0, NULL)             \
    X (LAST_EVENT_ID, "last_event_id", STR, SET, last_event_id, 0, NULL)       \
    X (POSITION, "position", STR, SET, position, 0, NULL)                      \
    X (SCHEMA, "schema", STR, SET, schema, 0, NULL)                            \
    X (PIPELINE, "pipeline", STR, SET, pipeline, 0, NULL)                      \
    X (SERVICE, "service", STR, SET, service, 0, NULL)                         \
    X (JOB_ID, "job_id", STR, SET, job_id, 0, NULL)                            \
    X (RESULT, "result", STR, SET, result, 0, NULL)                            \
    X (REASON, "reason", STR, SET, reason, 0, NULL)                            \
    X (ERROR, "error", STR, SET, error, 0, NULL)                               \
    X (PROOF, "proof", STR, SET, proof, 0, NULL)                               \
    X (NEW_PASSWORD, "new_password", STR, SET, new_password, 0, NULL)          \
    X (CLIENT_ADDR, "client_addr", STR, SET, client_addr, 0, NULL)             \
    X (REQUEST_ID, "request_id", STR, SET, request_id, 0, NULL)                \
    X (TRACEPARENT, "traceparent", STR, SET, traceparent, 0, NULL)             \
    X (AFTER, "after", U64, VIEW, after, 0, NULL)                              \
    X (FROM, "from", U64, HAS, from, S_OF (has_from), NULL)                    \
    X (TO, "to", U64, HAS, to, S_OF (has_to), NULL)                            \
    X (PAGE, "page", U32, SET, page, 0, NULL)                                  \
    X (LIMIT, "limit", U32, SET, limit, 0, NULL)                               \
    X (PRODUCER, "producer", BOOL, HAS, producer, S_OF (has_producer), NULL)   \
    X (RATE, "rate", MAP, HAS, rate_per_second, S_OF (has_rate), &s_rate)      \
    X (RETRYABLE, "retryable", BOOL, HAS, retryable, S_OF (has_retryable),     \
       NULL)                                                                   \
    X (ALL, "all", BOOL, SET, all, 0, NULL)                                    \
    X (TIMESTAMP, "timestamp", U64, HAS, timestamp, S_OF (has_timestamp),      \
       NULL)                                                                   \
    X (TIMEOUT, "timeout", U32, SET, timeout, 0, NULL)                         \
    X (CREDIT, "credit", U32, SET, credit, 0, NULL)                            \
    X (SUB, "sub", U64, SET, sub, 0, NULL)                                     \
    X (STREAMS, "streams", STRS, SET, streams, S_OF (n_streams), NULL)         \
    X (EVENTS, "events", EVENTS, VIEW, events, S_OF (n_events), NULL)          \
    X (CURSOR, "cursor", STR, SET, cursor, 0, NULL)                            \
    X (WHERE, "where", STRS, SET, where, S_OF (n_where), NULL)                 \
    X (SECONDS, "seconds", U32, HAS, seconds, S_OF (has_seconds), NULL)        \
    X (PAYLOAD, "payload", STR, SET, payload, 0, NULL)                         \
    X (EVENT_IDS, "event_ids", LIST, SET, event_ids, S_OF (n_event_ids), NULL) \
    X (TOTAL_ONLY, "total_only", BOOL, SET, total_only, 0, NULL)               \
    X (DIR, "dir", STR, SET, dir, 0, NULL)                                     \
    X (RETENTION, "retention", MAP, HAS, ret_max_age_ms, S_OF (has_retention), \
       &s_retention)                                                           \
    X (SLIM, "slim", BOOL, SET, slim, 0, NULL)

#define S_ENUM(id, k, kind, when, m, aux, sub) S_F_##id,
enum { S_FIELDS (S_ENUM) S_NFIELDS };
_Static_assert(S_NFIELDS <= 64, "a view is a 64-bit mask of fields");
#define S_ROW(id, k, kind, when, m, aux, sub)                                  \
    EF_PF (ef_request_t, k, kind, when, EF_PF_TEXT, m, aux, sub),
static const ef_proto_field_t s_field_rows[] = {S_FIELDS (S_ROW)};
static const ef_proto_table_t s_fields = EF_PT (s_field_rows);
const ef_proto_table_t ef_proto_request_table = EF_PT (s_field_rows);

#define B(id) (UINT64_C (1) << S_F_##id)

/*  Each command's view of a request: the keys it takes (besides v, id,
    cmd, auth, request_id and traceparent, which every command takes) and
    the ones its requests always carry. A key outside the view is read
    all the same and left to the handler (protocol.md §1: unknown keys
    are ignored), so the view refuses nothing: it is the one list of what
    each command reads, for the encoder and the tests. */
typedef struct {
    uint64_t takes, always;
} s_view_t;

static const s_view_t s_views[EF_CMD_COUNT] = {
    [EF_CMD_HELLO] = {B (CLIENT), 0},
    [EF_CMD_PING] = {0, 0},
    [EF_CMD_CREATE_STREAM] = {B (NAME) | B (SCHEMA) | B (PIPELINE) |
                                  B (RETENTION),
                              0},
    [EF_CMD_LIST_STREAMS] = {0, 0},
    [EF_CMD_GET_STREAM] = {B (STREAM), 0},
    [EF_CMD_PUBLISH] = {B (STREAM) | B (EVENTS), B (EVENTS)},
    [EF_CMD_GET_EVENT] = {B (EVENT_ID) | B (STREAM), 0},
    [EF_CMD_EVENT_HISTORY] = {B (EVENT_ID) | B (STREAM), 0},
    [EF_CMD_READ] = {B (STREAM) | B (AFTER) | B (LIMIT) | B (TYPE) |
                         B (SOURCE) | B (STATUS) | B (WHERE) | B (SLIM),
                     B (AFTER)},
    [EF_CMD_LIST_EVENTS] = {B (STREAM) | B (TYPE) | B (SOURCE) | B (STATUS) |
                                B (FROM) | B (TO) | B (PAGE) | B (LIMIT) |
                                B (CURSOR) | B (WHERE),
                            0},
    [EF_CMD_STATS] = {B (STREAM) | B (SECONDS) | B (TOTAL_ONLY), 0},
    [EF_CMD_REGISTER] = {B (EMAIL) | B (PASSWORD) | B (ORG_NAME), 0},
    [EF_CMD_LOGIN] = {B (EMAIL) | B (PASSWORD) | B (CLIENT_ADDR), 0},
    [EF_CMD_REFRESH] = {B (REFRESH_TOKEN), 0},
    [EF_CMD_LOGOUT] = {B (REFRESH_TOKEN), 0},
    [EF_CMD_WHOAMI] = {0, 0},
    [EF_CMD_USER_CREATE] = {B (EMAIL) | B (PASSWORD) | B (ROLE), 0},
    [EF_CMD_USER_LIST] = {0, 0},
    [EF_CMD_USER_GET] = {B (USER_ID), 0},
    [EF_CMD_USER_UPDATE] = {B (USER_ID) | B (ROLE) | B (PASSWORD), 0},
    [EF_CMD_USER_DELETE] = {B (USER_ID), 0},
    [EF_CMD_APIKEY_CREATE] = {B (NAME) | B (ROLE) | B (PRODUCER) | B (STREAMS) |
                                  B (RATE),
                              0},
    [EF_CMD_APIKEY_LIST] = {B (PRODUCER), 0},
    [EF_CMD_APIKEY_REVOKE] = {B (KEY_ID), 0},
    [EF_CMD_CLIENTKEY_ADD] = {B (PUBLIC_KEY) | B (ROLE) | B (PROOF) | B (NAME) |
                                  B (ORG),
                              0},
    [EF_CMD_CLIENTKEY_LIST] = {0, 0},
    [EF_CMD_CLIENTKEY_REVOKE] = {B (PUBLIC_KEY), 0},
    [EF_CMD_UPDATE_STREAM] = {B (STREAM) | B (NAME) | B (SCHEMA) |
                                  B (PIPELINE) | B (RETENTION),
                              0},
    [EF_CMD_DELETE_STREAM] = {B (STREAM), 0},
    [EF_CMD_FETCH] = {B (STREAM) | B (GROUP) | B (CONSUMER_ID) | B (LIMIT) |
                          B (TIMEOUT) | B (LAST_EVENT_ID) | B (SLIM),
                      0},
    [EF_CMD_COMMIT] = {B (STREAM) | B (GROUP) | B (CONSUMER_ID) |
                           B (LAST_EVENT_ID),
                       0},
    [EF_CMD_SEEK] = {B (STREAM) | B (GROUP) | B (POSITION) | B (TIMESTAMP), 0},
    [EF_CMD_LIST_GROUPS] = {B (STREAM), 0},
    [EF_CMD_SUBSCRIBE] = {B (STREAM) | B (GROUP) | B (CREDIT) | B (SLIM), 0},
    [EF_CMD_CREDIT] = {B (SUB) | B (CREDIT), 0},
    [EF_CMD_UNSUBSCRIBE] = {B (SUB), 0},
    [EF_CMD_READY] = {B (SERVICE) | B (CREDIT), 0},
    [EF_CMD_DONE] = {B (JOB_ID) | B (RESULT), 0},
    [EF_CMD_FAIL] = {B (JOB_ID) | B (REASON) | B (RETRYABLE), 0},
    [EF_CMD_WORKERS] = {0, 0},
    [EF_CMD_DLQ_LIST] = {B (STREAM) | B (ERROR) | B (FROM) | B (TO) | B (PAGE) |
                             B (LIMIT) | B (TYPE),
                         0},
    [EF_CMD_DLQ_GET] = {B (EVENT_ID), 0},
    [EF_CMD_DLQ_REPLAY] = {B (EVENT_ID) | B (ALL) | B (STREAM) | B (ERROR) |
                               B (FROM) | B (TO) | B (TYPE) | B (EVENT_IDS),
                           0},
    [EF_CMD_DLQ_DELETE] = {B (EVENT_ID) | B (EVENT_IDS), 0},
    [EF_CMD_DLQ_REASONS] = {B (STREAM) | B (TYPE) | B (FROM) | B (TO), 0},
    [EF_CMD_BACKUP] = {B (DIR), 0},
    [EF_CMD_BACKUP_STATUS] = {0, 0},
    [EF_CMD_ROTATE_JWT_KEY] = {0, 0},
    [EF_CMD_GATEWAY_KEY_NEW] = {0, 0},
    [EF_CMD_GATEWAY_KEY_PROMOTE] = {0, 0},
    [EF_CMD_LEAVE] = {B (SERVICE), 0},
    [EF_CMD_PASSWORD] = {B (PASSWORD) | B (NEW_PASSWORD), 0},
    [EF_CMD_CHECK_STREAM] = {B (NAME) | B (SCHEMA) | B (PIPELINE) | B (PAYLOAD),
                             0},
};

uint64_t
ef_proto_view_takes (ef_cmd_t cmd)
{
    uint64_t common = B (REQUEST_ID) | B (TRACEPARENT);
    return cmd > EF_CMD_NONE && cmd < EF_CMD_COUNT ? s_views[cmd].takes | common
                                                   : 0;
}

/*  What a command must have, checked in this order: every key of all
    (or one of any), else why. */
typedef struct {
    ef_cmd_t cmd;
    uint64_t all, any;
    const char *why;
} s_required_t;

static const s_required_t s_required[] = {
    {EF_CMD_CREATE_STREAM, B (NAME), 0, "name is required"},
    {EF_CMD_GET_STREAM, B (STREAM), 0, "stream is required"},
    {EF_CMD_READ, B (STREAM), 0, "stream is required"},
    {EF_CMD_UPDATE_STREAM, B (STREAM), 0, "stream is required"},
    {EF_CMD_DELETE_STREAM, B (STREAM), 0, "stream is required"},
    {EF_CMD_LIST_GROUPS, B (STREAM), 0, "stream is required"},
    {EF_CMD_GET_EVENT, B (EVENT_ID), 0, "event_id is required"},
    {EF_CMD_EVENT_HISTORY, B (EVENT_ID), 0, "event_id is required"},
    {EF_CMD_REGISTER, B (EMAIL) | B (PASSWORD), 0,
     "email and password are required"},
    {EF_CMD_LOGIN, B (EMAIL) | B (PASSWORD), 0,
     "email and password are required"},
    {EF_CMD_USER_CREATE, B (EMAIL) | B (PASSWORD), 0,
     "email and password are required"},
    {EF_CMD_PASSWORD, B (PASSWORD) | B (NEW_PASSWORD), 0,
     "password and new_password are required"},
    {EF_CMD_REFRESH, B (REFRESH_TOKEN), 0, "refresh_token is required"},
    {EF_CMD_LOGOUT, B (REFRESH_TOKEN), 0, "refresh_token is required"},
    {EF_CMD_USER_GET, B (USER_ID), 0, "user_id is required"},
    {EF_CMD_USER_UPDATE, B (USER_ID), 0, "user_id is required"},
    {EF_CMD_USER_DELETE, B (USER_ID), 0, "user_id is required"},
    {EF_CMD_APIKEY_CREATE, B (NAME), 0, "name is required"},
    {EF_CMD_FETCH, B (STREAM) | B (GROUP), 0, "stream and group are required"},
    {EF_CMD_COMMIT, B (STREAM) | B (GROUP), 0, "stream and group are required"},
    {EF_CMD_COMMIT, B (LAST_EVENT_ID), 0, "last_event_id is required"},
    {EF_CMD_SEEK, B (STREAM) | B (GROUP), 0, "stream and group are required"},
    {EF_CMD_SEEK, 0, B (POSITION) | B (TIMESTAMP),
     "position or timestamp is required"},
    {EF_CMD_SUBSCRIBE, B (STREAM) | B (GROUP), 0,
     "stream and group are required"},
    {EF_CMD_READY, B (SERVICE), 0, "service is required"},
    {EF_CMD_LEAVE, B (SERVICE), 0, "service is required"},
    {EF_CMD_DONE, B (JOB_ID), 0, "job_id is required"},
    {EF_CMD_FAIL, B (JOB_ID), 0, "job_id is required"},
    {EF_CMD_DLQ_GET, B (EVENT_ID), 0, "event_id is required"},
    {EF_CMD_DLQ_DELETE, 0, B (EVENT_ID) | B (EVENT_IDS),
     "event_id or event_ids is required"},
    {EF_CMD_CREDIT, B (SUB), 0, "sub is required"},
    {EF_CMD_UNSUBSCRIBE, B (SUB), 0, "sub is required"},
    {EF_CMD_APIKEY_REVOKE, B (KEY_ID), 0, "key_id is required"},
    {EF_CMD_CLIENTKEY_ADD, B (PUBLIC_KEY), 0, "public_key is required"},
    {EF_CMD_CLIENTKEY_REVOKE, B (PUBLIC_KEY), 0, "public_key is required"},
    {EF_CMD_PUBLISH, B (STREAM) | B (EVENTS), 0,
     "stream and events are required"},
    {EF_CMD_BACKUP, B (DIR), 0, "dir is required"},
};

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
    {EF_CMD_STATS, "seconds", 1, 3600, "seconds is 1 to 3600"},
};

/*  The first number of req out of its range, as *why; 0 or EF_EINVAL.
    seen: the keys the request carried, by bit. */
static int
s_check_ranges (const ef_request_t *req, uint64_t seen, const char **why)
{
    for (size_t i = 0; i < sizeof s_ranges / sizeof s_ranges[0]; i++) {
        const s_range_t *g = &s_ranges[i];
        if (g->cmd != req->cmd)
            continue;
        const ef_proto_field_t *f =
            ef_proto_field_find (&s_fields, ef_str (g->key));
        uint32_t v = *S_AT (req, f, const uint32_t);
        if ((seen >> (f - s_field_rows) & 1) && (v < g->min || v > g->max)) {
            *why = g->why;
            return EF_EINVAL;
        }
    }
    return 0;
}

/*  The first of s_required that req does not meet, as *why; 0 or
    EF_EINVAL. The items of PUBLISH count when the key was there. */
static int
s_check_required (const ef_request_t *req, uint64_t seen, const char **why)
{
    uint64_t have = seen & B (EVENTS);
    for (uint32_t i = 0; i < s_fields.n; i++)
        if (s_field_rows[i].kind != EF_PF_EVENTS &&
            ef_proto_field_present (&s_field_rows[i], req))
            have |= UINT64_C (1) << i;
    for (size_t i = 0; i < sizeof s_required / sizeof s_required[0]; i++) {
        const s_required_t *q = &s_required[i];
        if (q->cmd == req->cmd &&
            ((have & q->all) != q->all || (q->any && !(have & q->any)))) {
            *why = q->why;
            return EF_EINVAL;
        }
    }
    return 0;
}

/*  A PUBLISH item (protocol.md "EventIn"), and its context. */
static const ef_proto_field_t s_context_rows[] = {
    EF_PFX (ef_event_in_t, "trace_id", STR, SET, EF_PF_TEXT, trace_id, 0, NULL,
            "context.trace_id is not valid UTF-8"),
    EF_PFX (ef_event_in_t, "correlation_id", STR, SET, EF_PF_TEXT,
            correlation_id, 0, NULL,
            "context.correlation_id is not valid UTF-8"),
    EF_PFX (ef_event_in_t, "request_id", STR, SET, EF_PF_TEXT, request_id, 0,
            NULL, "context.request_id is not valid UTF-8"),
};
static const ef_proto_table_t s_context = EF_PT (s_context_rows);

static const ef_proto_field_t s_item_rows[] = {
    EF_PFX (ef_event_in_t, "type", STR, ALWAYS, EF_PF_TEXT, type, 0, NULL,
            "type is not valid UTF-8"),
    /* JSON: checked whole with the rest (ef_proto_check_event) */
    EF_PF (ef_event_in_t, "payload", STR, ALWAYS, 0, payload, 0, NULL),
    EF_PFX (ef_event_in_t, "event_id", STR, SET, EF_PF_TEXT, event_id, 0, NULL,
            "event_id is not valid UTF-8"),
    EF_PFX (ef_event_in_t, "source", STR, SET, EF_PF_TEXT, source, 0, NULL,
            "source is not valid UTF-8"),
    /* given or not: version_given; its value checked by ef_event_rules */
    EF_PF (ef_event_in_t, "version", U32, SET, EF_PF_GIVEN, version,
           offsetof (ef_event_in_t, version_given), NULL),
    EF_PFX (ef_event_in_t, "occurred_at", U64, SET, EF_PF_MIN1, occurred_at, 0,
            NULL, "occurred_at must be at least 1"),
    EF_PF (ef_event_in_t, "context", MAP, SET, 0, trace_id, 0, &s_context),
};
static const ef_proto_table_t s_item = EF_PT (s_item_rows);

/* ---------------------------------------------------------------- encode */

/*  1 if f is written in req. */
static int
s_written (const ef_request_t *req, const ef_proto_field_t *f)
{
    if (f->when == EF_PW_VIEW)
        return (s_views[req->cmd].always >> (f - s_field_rows)) & 1;
    return ef_proto_field_present (f, req);
}

int
ef_proto_encode_request (ef_buf_t *b, const ef_request_t *req)
{
    const char *name = ef_cmd_name (req->cmd);
    if (!name)
        return EF_EINVAL;
    int has_auth = ef_str_set (req->auth_api_key) || ef_str_set (req->auth_jwt);
    uint32_t n = 3 + !!has_auth;
    for (uint32_t i = 0; i < s_fields.n; i++)
        n += (uint32_t)s_written (req, &s_field_rows[i]);
    ef_mp_map (b, n);
    ef_mp_key (b, "v");
    ef_mp_uint (b, req->v ? req->v : EF_PROTO_VERSION);
    ef_mp_key (b, "id");
    ef_mp_uint (b, req->id);
    ef_mp_key (b, "cmd");
    ef_mp_cstr (b, name);
    if (has_auth) {
        ef_mp_key (b, "auth");
        ef_mp_map (b, 1);
        if (ef_str_set (req->auth_api_key)) {
            ef_mp_key (b, "api_key");
            ef_mp_xstr (b, req->auth_api_key);
        } else {
            ef_mp_key (b, "jwt");
            ef_mp_xstr (b, req->auth_jwt);
        }
    }
    for (uint32_t i = 0; i < s_fields.n; i++) {
        const ef_proto_field_t *f = &s_field_rows[i];
        if (!s_written (req, f))
            continue;
        if (f->kind != EF_PF_EVENTS) {
            ef_proto_field_write (b, f, req);
            continue;
        }
        ef_mp_key (b, f->key);
        ef_mp_array (b, req->n_events);
        for (uint32_t e = 0; e < req->n_events; e++)
            ef_proto_record_write (b, &s_item, &req->events[e]);
    }
    return b->oom ? EF_ENOMEM : 0;
}

/* ---------------------------------------------------------------- decode */

/*  A text field of a request: an optional string that must be valid
    UTF-8 (protocol.md §1). S_EUTF8 when it is not; on any refusal nothing
    is consumed. */
#define S_EUTF8 1

static int
s_opt_text (ef_mpr_t *r, ef_str_t *s)
{
    ef_mpr_t at = *r;
    int rc = ef_proto_opt_str (&at, s);
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
    *v = (uint32_t)u;
    return 0;
}

/*  After a typed read of an item field: a mismatch (nothing consumed) is
    the item's fault; the value is skipped and decoding goes on. */
static int
s_item_field (ef_mpr_t *r, ef_event_in_t *ev, int rc)
{
    if (rc != EF_EINVAL)
        return rc;
    ef_proto_item_fail (ev, EF_EINVAL, "event field of the wrong type");
    return ef_mpr_skip (r, EF_MSGPACK_DEPTH);
}

static int s_item_map (ef_mpr_t *r, ef_event_in_t *ev,
                       const ef_proto_table_t *t);

/*  One value of an item through its row f. */
static int
s_item_value (ef_mpr_t *r, ef_event_in_t *ev, const ef_proto_field_t *f)
{
    int rc;
    if (f->kind == EF_PF_MAP)
        return ef_mpr_nil (r) ? 0 : s_item_map (r, ev, f->sub);
    if (f->kind == EF_PF_STR) {
        if (!(f->flags & EF_PF_TEXT))
            return s_item_field (r, ev,
                                 ef_proto_opt_str (r, S_AT (ev, f, ef_str_t)));
        rc = s_opt_text (r, S_AT (ev, f, ef_str_t));
        if (rc != S_EUTF8)
            return s_item_field (r, ev, rc);
        ef_proto_item_fail (ev, EF_EINVAL, f->bad);
        return ef_mpr_skip (r, EF_MSGPACK_DEPTH);
    }
    if (ef_mpr_nil (r))
        return 0;
    if (f->flags & EF_PF_GIVEN)
        *S_AUX (ev, f, int) = 1;
    uint64_t v;
    if (f->kind == EF_PF_U32) {
        uint32_t *p = S_AT (ev, f, uint32_t);
        rc = s_item_field (r, ev, s_u32 (r, p));
        v = *p;
    } else {
        uint64_t *p = S_AT (ev, f, uint64_t);
        rc = s_item_field (r, ev, ef_mpr_uint (r, p));
        v = *p;
    }
    if (rc == 0 && v == 0 && (f->flags & EF_PF_MIN1))
        ef_proto_item_fail (ev, EF_EINVAL, f->bad);
    return rc;
}

/*  A map of an item (the item itself, its context). A mistyped field is
    the item's fault, not the frame's: the frame has been validated, so
    skipping is always safe. */
static int
s_item_map (ef_mpr_t *r, ef_event_in_t *ev, const ef_proto_table_t *t)
{
    uint32_t n;
    int rc = ef_mpr_map (r, &n);
    if (rc) {
        if (t == &s_item) {
            ef_proto_item_fail (ev, EF_EINVAL, "event must be a map");
            return ef_mpr_skip (r, EF_MSGPACK_DEPTH);
        }
        return s_item_field (r, ev, rc);
    }
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        ef_str_t k = EF_STR_NULL;
        if ((rc = s_item_field (r, ev, ef_mpr_str (r, &k))))
            break;
        const ef_proto_field_t *f = k.ptr ? ef_proto_field_find (t, k) : NULL;
        /* a key that is not a string was skipped: its value is too */
        rc = f ? s_item_value (r, ev, f) : ef_mpr_skip (r, EF_MSGPACK_DEPTH);
    }
    return rc;
}

static int
s_decode_event_in (ef_mpr_t *r, ef_event_in_t *ev)
{
    memset (ev, 0, sizeof *ev);
    return s_item_map (r, ev, &s_item);
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
    int have_v = 0, have_id = 0, rc = 0;
    uint32_t events_n = 0;
    uint64_t seen = 0; /* the keys of s_fields that came, by bit */
    int events_decoded = 0;
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
            if (ef_mpr_skip (&r, EF_MSGPACK_DEPTH) ||
                ef_mpr_skip (&r, EF_MSGPACK_DEPTH))
                return EF_EPROTO;
            continue;
        }
        ef_mpr_t value_at = r;
        const ef_proto_field_t *f = NULL;
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
        } else if (!(f = ef_proto_field_find (&s_fields, k)))
            rc = ef_mpr_skip (&r, EF_MSGPACK_DEPTH);
        else {
            seen |= UINT64_C (1) << (f - s_field_rows);
            if (f->when == EF_PW_HAS)
                *S_AUX (req, f, int) = 1;
            switch (f->kind) {
            case EF_PF_STR:
                rc = s_opt_text (&r, S_AT (req, f, ef_str_t));
                break;
            case EF_PF_U32:
                rc = s_u32 (&r, S_AT (req, f, uint32_t));
                break;
            case EF_PF_U64:
                rc = ef_mpr_uint (&r, S_AT (req, f, uint64_t));
                break;
            case EF_PF_BOOL:
                rc = ef_mpr_bool (&r, S_AT (req, f, int));
                break;
            case EF_PF_MAP: {
                uint32_t m;
                rc = ef_mpr_map (&r, &m);
                for (uint32_t j = 0; rc == 0 && j < m; j++) {
                    ef_str_t sk;
                    if ((rc = ef_mpr_str (&r, &sk)))
                        break;
                    const ef_proto_field_t *sf =
                        ef_proto_field_find (f->sub, sk);
                    if (!sf)
                        rc = ef_mpr_skip (&r, EF_MSGPACK_DEPTH);
                    else if (sf->kind == EF_PF_U64)
                        rc = ef_mpr_uint (&r, S_AT (req, sf, uint64_t));
                    else if (sf->kind == EF_PF_BOOL)
                        rc = ef_mpr_bool (&r, S_AT (req, sf, int));
                    else
                        rc = s_u32 (&r, S_AT (req, sf, uint32_t));
                }
                break;
            }
            case EF_PF_STRS: {
                uint32_t m;
                ef_str_t *s = S_AT (req, f, ef_str_t);
                rc = ef_mpr_array (&r, &m);
                if (rc == 0 && m > 16)
                    rc = EF_ETOOBIG;
                for (uint32_t j = 0; rc == 0 && j < m; j++)
                    rc = s_opt_text (&r, &s[j]);
                *S_AUX (req, f, uint32_t) = rc == 0 ? m : 0;
                break;
            }
            case EF_PF_LIST: {
                /* checked here, kept in place: the handler walks it */
                uint32_t m;
                ef_mpr_t at = r;
                ef_str_t s;
                rc = ef_mpr_array (&r, &m);
                if (rc == 0 && m > EF_MAX_IDS)
                    rc = EF_ETOOBIG;
                for (uint32_t j = 0; rc == 0 && j < m; j++)
                    if ((rc = ef_mpr_str (&r, &s)) == 0 && !ef_str_utf8 (s))
                        rc = S_EUTF8;
                *S_AT (req, f, ef_str_t) =
                    rc ? EF_STR_NULL
                       : (ef_str_t){(const char *)at.p, (uint32_t)(r.p - at.p)};
                *S_AUX (req, f, uint32_t) = rc == 0 ? m : 0;
                break;
            }
            default: { /* EF_PF_EVENTS */
                /* decoded in this one pass when they fit; the frame is
                   already validated, so an item's fault is only the
                   item's */
                ef_mpr_t events_at = r;
                rc = ef_mpr_array (&r, &events_n);
                if (rc == 0 && events_n <= max_events) {
                    for (uint32_t e = 0; rc == 0 && e < events_n; e++)
                        rc = s_decode_event_in (&r, &events[e]);
                    events_decoded = rc == 0;
                } else if (rc == 0) {
                    r = events_at;
                    rc = ef_mpr_skip (&r, EF_MSGPACK_DEPTH);
                }
                break;
            }
            }
        }
        if (rc == EF_EPROTO) {
            *why = "not a well-formed msgpack value";
            return EF_EPROTO;
        }
        if (rc && !err) {
            /* k matched one of the keys above: printable ASCII */
            err = rc == EF_ETOOBIG ? EF_ETOOBIG : EF_EINVAL;
            snprintf (req->why, sizeof req->why, "%.*s %s", (int)k.len, k.ptr,
                      rc == S_EUTF8 ? "is not valid UTF-8"
                      : rc == EF_ETOOBIG && f->kind == EF_PF_LIST
                          ? "has more than 1000 items"
                      : rc == EF_ETOOBIG ? "has more than 16 items"
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
    if (s_check_ranges (req, seen, why))
        return EF_EINVAL;
    if (ef_str_set (req->status) && ef_proto_event_status (req->status) < 0) {
        *why = "status is PENDING, PROCESSED, FILTERED or FAILED";
        return EF_EINVAL;
    }
    if (ef_str_set (req->request_id) &&
        !ef_proto_request_id_ok (req->request_id)) {
        *why = "request_id is 1 to 128 bytes of printable ASCII";
        return EF_EINVAL;
    }
    if (ef_str_set (req->traceparent) &&
        ef_proto_traceparent (req->traceparent, NULL)) {
        *why = "traceparent is not a W3C traceparent";
        return EF_EINVAL;
    }
    if (s_check_required (req, seen, why))
        return EF_EINVAL;
    if (req->cmd == EF_CMD_PUBLISH) {
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
    }
    return 0;
}
