/*  ef_proto.h: the codec of the EventFlow wire protocol, version 1
    (schemas/protocol.md). Requests and replies are single msgpack maps;
    this module turns them into plain structs and back. Decoding is
    zero-copy: every ef_str_t points into the frame that was decoded, so the
    frame must outlive the decoded values. Decoding never allocates and
    never trusts a declared length (see ef_mp.h).
    Thread-safety: pure functions over caller-owned data. */
#ifndef EF_PROTO_H
#define EF_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include "eventflow/ef_mp.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EF_PROTO_VERSION 1

/* Limits of protocol.md §5. */
#define EF_MAX_MESSAGE_DEFAULT (4u << 20)
#define EF_MAX_BATCH_DEFAULT   1000u
#define EF_MAX_PAYLOAD_DEFAULT (1u << 20)
#define EF_MAX_READ            10000u
#define EF_MAX_LIST            100u
#define EF_MAX_PAGE            1000000u /* LIST_EVENTS, DLQ_LIST */
#define EF_MAX_FETCH           1000u    /* FETCH limit */
#define EF_MAX_WAIT_MS         60000u   /* FETCH timeout */
#define EF_MAX_REQUEST_ID      128u     /* request_id bytes */
#define EF_MAX_TYPE            256u
#define EF_MAX_SOURCE          256u
#define EF_MAX_CONTEXT_FIELD   128u
#define EF_MAX_STREAM_NAME     128u
#define EF_MAX_IDS             1000u /* DLQ_REPLAY, DLQ_DELETE event_ids */
#define EF_MSGPACK_DEPTH       16
#define EF_JSON_DEPTH          64

typedef enum {
    EF_CMD_NONE = 0,
    EF_CMD_HELLO,
    EF_CMD_PING,
    EF_CMD_CREATE_STREAM,
    EF_CMD_LIST_STREAMS,
    EF_CMD_GET_STREAM,
    EF_CMD_PUBLISH,
    EF_CMD_GET_EVENT,
    EF_CMD_READ,
    EF_CMD_LIST_EVENTS,
    EF_CMD_STATS,
    EF_CMD_REGISTER,
    EF_CMD_LOGIN,
    EF_CMD_REFRESH,
    EF_CMD_LOGOUT,
    EF_CMD_WHOAMI,
    EF_CMD_USER_CREATE,
    EF_CMD_USER_LIST,
    EF_CMD_USER_GET,
    EF_CMD_USER_UPDATE,
    EF_CMD_USER_DELETE,
    EF_CMD_APIKEY_CREATE,
    EF_CMD_APIKEY_LIST,
    EF_CMD_APIKEY_REVOKE,
    EF_CMD_CLIENTKEY_ADD,
    EF_CMD_CLIENTKEY_LIST,
    EF_CMD_CLIENTKEY_REVOKE,
    EF_CMD_UPDATE_STREAM,
    EF_CMD_DELETE_STREAM,
    EF_CMD_FETCH,
    EF_CMD_COMMIT,
    EF_CMD_SEEK,
    EF_CMD_LIST_GROUPS,
    EF_CMD_SUBSCRIBE,
    EF_CMD_CREDIT,
    EF_CMD_UNSUBSCRIBE,
    EF_CMD_READY,
    EF_CMD_DONE,
    EF_CMD_FAIL,
    EF_CMD_WORKERS,
    EF_CMD_DLQ_LIST,
    EF_CMD_DLQ_GET,
    EF_CMD_DLQ_REPLAY,
    EF_CMD_DLQ_DELETE,
    EF_CMD_LEAVE,
    EF_CMD_PASSWORD,
    EF_CMD_EVENT_HISTORY,
    EF_CMD_CHECK_STREAM,
    EF_CMD_DLQ_REASONS,
    EF_CMD_BACKUP,
    EF_CMD_BACKUP_STATUS,
    EF_CMD_ROTATE_JWT_KEY,
    EF_CMD_GATEWAY_KEY_NEW,
    EF_CMD_GATEWAY_KEY_PROMOTE,
    EF_CMD_COUNT
} ef_cmd_t;

/*  "PUBLISH" etc., or NULL for an unknown value. */
const char *ef_cmd_name (ef_cmd_t cmd);
/*  The command for a name, or EF_CMD_NONE. */
ef_cmd_t ef_cmd_from_name (ef_str_t name);

/*  One event as a producer sends it (PUBLISH item). Unset strings are
    EF_STR_NULL; occurred_at 0 and version 0 mean "not given". When
    decoded, err is the item's own fault (0, EF_EINVAL or EF_ETOOBIG) and
    err_msg a static text. */
typedef struct {
    ef_str_t type;
    ef_str_t payload; /* JSON text */
    ef_str_t event_id;
    ef_str_t source;
    ef_str_t trace_id;
    ef_str_t correlation_id;
    uint64_t occurred_at;
    uint32_t version;
    int version_given; /* 1 when the producer sent a version: then it must
                          be at least 1 (ef_event_rules) */
    int err;
    const char *err_msg;
    ef_str_t request_id; /* context.request_id; else the request's */
} ef_event_in_t;

/*  A request. Only the fields its command uses are encoded. */
typedef struct {
    uint32_t v;
    uint64_t id;
    ef_cmd_t cmd;
    ef_str_t auth_api_key;
    ef_str_t auth_jwt;
    ef_str_t client;   /* HELLO */
    ef_str_t name;     /* CREATE_STREAM */
    ef_str_t stream;   /* GET_STREAM, PUBLISH, GET_EVENT, READ, LIST_EVENTS */
    ef_str_t event_id; /* GET_EVENT, EVENT_HISTORY */
    ef_str_t type;     /* LIST_EVENTS filters */
    ef_str_t source;
    ef_str_t status;
    uint64_t after;    /* READ */
    uint64_t from, to; /* LIST_EVENTS, when has_from / has_to */
    int has_from, has_to;
    uint32_t limit;     /* READ, LIST_EVENTS; 0 = default */
    uint32_t page;      /* LIST_EVENTS; 0 = default */
    ef_str_t cursor;    /* LIST_EVENTS: a reply's next_cursor */
    ef_str_t where[16]; /* LIST_EVENTS: payload predicates (≤ 8 taken) */
    uint32_t n_where;
    ef_event_in_t *events; /* PUBLISH */
    uint32_t n_events;
    /* security commands */
    ef_str_t email, password, org_name; /* REGISTER, LOGIN, USER_* */
    ef_str_t refresh_token;             /* REFRESH, LOGOUT */
    ef_str_t role;         /* USER_*, APIKEY_CREATE, CLIENTKEY_ADD */
    ef_str_t user_id;      /* USER_GET/UPDATE/DELETE */
    ef_str_t key_id;       /* APIKEY_REVOKE */
    ef_str_t public_key;   /* CLIENTKEY_* (z85) */
    ef_str_t org;          /* CLIENTKEY_ADD: the caller's org id */
    ef_str_t proof;        /* CLIENTKEY_ADD: holder's proof (hex) */
    ef_str_t new_password; /* PASSWORD */
    ef_str_t client_addr;  /* LOGIN from the gateway: HTTP client address */
    int producer, has_producer; /* APIKEY_CREATE, APIKEY_LIST */
    uint32_t rate_per_second, rate_burst;
    int has_rate;
    ef_str_t streams[16]; /* APIKEY_CREATE scope */
    uint32_t n_streams;
    /* consumer groups */
    ef_str_t group;         /* FETCH, COMMIT, SEEK, SUBSCRIBE */
    ef_str_t consumer_id;   /* FETCH, COMMIT: a member of the group */
    ef_str_t last_event_id; /* COMMIT */
    ef_str_t position;      /* SEEK: "earliest", "latest" or an event id */
    uint64_t timestamp;     /* SEEK: ms, when has_timestamp */
    int has_timestamp;
    uint32_t timeout; /* FETCH: ms to wait for events (long poll) */
    uint32_t credit;  /* SUBSCRIBE, CREDIT: events the peer can take */
    uint32_t seconds; /* STATS: the per-second series asked for */
    int has_seconds;
    int total_only; /* STATS with seconds: the org's total, no stream's */
    uint64_t sub;   /* CREDIT, UNSUBSCRIBE: the SUBSCRIBE's id */
    int slim;       /* READ, FETCH, SUBSCRIBE: events without what the
                       page says once (protocol.md, Event) */
    /* processing */
    ef_str_t schema;   /* CREATE/UPDATE_STREAM: JSON Schema text */
    ef_str_t pipeline; /* CREATE/UPDATE_STREAM: pipeline JSON text */
    /* CREATE/UPDATE_STREAM: retention (0 = no limit of that kind; given
       with every limit 0 and after_groups 0: keep everything) */
    uint64_t ret_max_age_ms, ret_max_bytes, ret_max_events;
    int ret_after_groups, has_retention;
    ef_str_t payload;             /* CHECK_STREAM: a payload (JSON text) */
    ef_str_t service;             /* READY */
    ef_str_t job_id;              /* DONE, FAIL */
    ef_str_t result;              /* DONE: JSON text */
    ef_str_t reason;              /* FAIL */
    ef_str_t error;               /* DLQ_LIST: substring of the error */
    int retryable, has_retryable; /* FAIL (default retryable) */
    int all;                      /* DLQ_REPLAY: every match of the filters */
    /* DLQ_REPLAY, DLQ_DELETE: the msgpack bytes of an array of 1 to
       EF_MAX_IDS strings, as they travel (the decoder checks them and
       points into the frame; a writer builds them with ef_mp_array and
       ef_mp_xstr); read them with ef_mpr_array and ef_mpr_str */
    ef_str_t event_ids;
    uint32_t n_event_ids;
    /* tracing, any command (protocol.md §2): into logs, jobs, events */
    ef_str_t request_id;  /* ≤ EF_MAX_REQUEST_ID printable ASCII bytes */
    ef_str_t traceparent; /* W3C traceparent, 55 bytes */
    ef_str_t dir;         /* BACKUP: an absolute path on the broker's machine */
    char why[96];         /* decoder: a refusal that names its field */
} ef_request_t;

/*  Encode req into b (appended). 0 or EF_ENOMEM/EF_EINVAL. */
int ef_proto_encode_request (ef_buf_t *b, const ef_request_t *req);

/*  Decode a request frame. events/max_events receive PUBLISH items
    (req->events is set to events). Returns 0, or EF_EPROTO (not a
    well-formed map), EF_EVERSION, EF_EUNKNOWN_CMD, EF_EINVAL (a field
    missing or mistyped), EF_ETOOBIG (more than max_events items); *why
    (may be NULL) gets a static explanation. req->id is set whenever it
    could be read, so that the error reply can carry it. Item-level faults
    do not fail the request: they are left in events[i].err. */
int ef_proto_decode_request (const void *p, size_t n, ef_request_t *req,
                             ef_event_in_t *events, uint32_t max_events,
                             const char **why);

/*  The index of an event status name (PENDING 0, PROCESSED 1, FILTERED
    2, FAILED 3), or -1. */
int ef_proto_event_status (ef_str_t name);

/*  1 if id is a request_id: 1 to EF_MAX_REQUEST_ID bytes, each printable
    ASCII (0x21 to 0x7e). */
int ef_proto_request_id_ok (ef_str_t id);
/*  Check a W3C traceparent ("00-<32 hex>-<16 hex>-<2 hex>", lowercase, a
    trace id not all zeros) and, when trace_id is not NULL, copy its trace
    id there (32 hex and a NUL). 0 or EF_EINVAL. */
int ef_proto_traceparent (ef_str_t tp, char trace_id[33]);

/*  Check one PUBLISH item against the rules of ef_event_rules.h (type
    present and ≤ 256 bytes, payload one JSON value ≤ max_payload,
    event_id a UUID, lengths of source and context). Sets ev->err /
    ev->err_msg (the first fault's text) and returns ev->err. */
int ef_proto_check_event (ef_event_in_t *ev, uint32_t max_payload);

/*  1 if name is a valid stream or consumer-group name: 1 to
    EF_MAX_STREAM_NAME of [A-Za-z0-9._-], and neither "." nor ".." (a URL
    path would read those as dot segments). The one copy of the rule. */
int ef_proto_name_valid (ef_str_t name);

/* ---------------------------------------------------------------- values */

/*  A stored event as replies carry it (protocol.md "Event"). */
typedef struct {
    ef_str_t event_id;
    ef_str_t stream_id;
    ef_str_t type;
    ef_str_t source;
    ef_str_t api_key_id;
    ef_str_t trace_id;
    ef_str_t correlation_id;
    ef_str_t payload;
    ef_str_t status;
    ef_str_t last_error;
    ef_str_t result;
    uint64_t seq;
    uint64_t occurred_at;
    uint64_t received_at;
    uint64_t processed_at; /* 0 = nil */
    uint32_t version;
    uint32_t attempts;
    ef_str_t request_id; /* context.request_id: the publishing request's */
} ef_event_t;

/*  An event map is: stream_id, seq (known from where it is stored), the
    record (the immutable pairs, stored as they travel), then the state. */
#define EF_EVENT_RECORD_KEYS 9 /* immutable part, as stored */
#define EF_EVENT_STATE_KEYS  5 /* processing state */

typedef struct {
    ef_str_t id;
    ef_str_t name;
    uint64_t created_at;
    uint64_t events;
    uint64_t first_seq;
    uint64_t last_seq;
    ef_str_t schema; /* JSON texts, unset when none */
    ef_str_t pipeline;
    uint64_t bytes;         /* stored bytes of its events */
    uint64_t last_event_at; /* received_at of its newest event; 0 = nil */
    /* its retention, when has_retention (0 = no limit of that kind) */
    uint64_t ret_max_age_ms, ret_max_bytes, ret_max_events;
    int ret_after_groups, has_retention;
} ef_stream_info_t;

typedef struct {
    int code; /* 0, or the item's error */
    uint32_t index;
    ef_str_t event_id;
    uint64_t seq;
    uint64_t received_at;
    int duplicate;
    ef_str_t message;        /* for errors */
    uint64_t retry_after_ms; /* with EF_ERATE */
    ef_str_t errors; /* EF_EVALIDATION: the msgpack bytes of its array of
                        {path, message} (ef_proto_read_field_error), as
                        they travel; unset when there are none */
} ef_publish_result_t;

/*  One field or schema error: where (a JSON Pointer into the payload,
    "" for the payload itself) and why. */
typedef struct {
    ef_str_t path;
    ef_str_t message;
} ef_field_error_t;

/*  One {path, message} map of an errors array. */
void ef_proto_write_field_error (ef_buf_t *b, const char *path,
                                 const char *message);
/*  Read one errors item (r positioned at it). 0, EF_EINVAL (not a map
    with string path and message) or EF_EPROTO. */
int ef_proto_read_field_error (ef_mpr_t *r, ef_field_error_t *e);

typedef struct {
    uint64_t streams, events, store_bytes, map_size;
    uint64_t published, duplicates, rejected, malformed, commits, requests;
    uint64_t broker_wide; /* read: 1 when the reply had the operator's
                             figures (store_bytes, map_size, counters) */
} ef_stats_t;

typedef struct {
    ef_str_t server;
    ef_str_t version;
    uint64_t protocol;
    uint64_t max_message, max_batch, max_payload, max_read;
} ef_hello_t;

/* ---------------------------------------------------------------- replies */

/*  Begin a success reply with n command-specific keys to follow. */
void ef_proto_reply_ok (ef_buf_t *b, uint64_t id, uint32_t n);
/*  A whole error reply. message may be NULL (ef_strerror is used).
    retry_after_ms is sent when code is EF_ERATE. */
void ef_proto_reply_error (ef_buf_t *b, uint64_t id, int code,
                           const char *message, uint64_t retry_after_ms);
/*  A whole error reply about one place in the request: its errors array
    is [{path, message}] (path a JSON Pointer, "/pipeline/0/patch"). */
void ef_proto_reply_error_at (ef_buf_t *b, uint64_t id, int code,
                              const char *message, const char *path);

/*  Writers for reply values. An event is written either whole
    (ef_proto_write_event) or as head + record + state, where the record
    may be bytes kept from an earlier ef_proto_write_event_record. */
void ef_proto_write_event_head (ef_buf_t *b, ef_str_t stream_id, uint64_t seq);
/*  The head of an event in a slim page (protocol.md, Event): seq only
    (the page says stream_id once), and the state follows only when
    with_state (else it is the pass-through state). */
void ef_proto_write_event_slim_head (ef_buf_t *b, uint64_t seq, int with_state);
void ef_proto_write_event_record (ef_buf_t *b, const ef_event_t *ev);
void ef_proto_write_event_state (ef_buf_t *b, const ef_event_t *ev);
void ef_proto_write_event (ef_buf_t *b, const ef_event_t *ev);
void ef_proto_write_stream (ef_buf_t *b, const ef_stream_info_t *s);
void ef_proto_write_result (ef_buf_t *b, const ef_publish_result_t *r);
void ef_proto_write_stats (ef_buf_t *b, const ef_stats_t *s);
/*  HELLO's 4 keys, after ef_proto_reply_ok (b, id, 4). */
void ef_proto_write_hello (ef_buf_t *b, const ef_hello_t *h);

/*  A decoded reply header. body is positioned at the first key of the
    reply map; nkeys is its number of pairs. */
typedef struct {
    uint64_t id;
    int ok;
    int code; /* 0 when ok */
    ef_str_t err_name;
    ef_str_t err_message;
    ef_str_t err_errors; /* the error's errors array, as bytes (see
                            ef_publish_result_t.errors) */
    uint64_t retry_after_ms;
    ef_mpr_t body;
    uint32_t nkeys;
} ef_reply_t;

/*  Decode a reply frame: validates it whole, reads id/ok/error. 0 or
    EF_EPROTO. */
int ef_proto_decode_reply (const void *p, size_t n, ef_reply_t *rep);
/*  Position *r at the value of key in the reply. 0 or EF_ENOTFOUND. */
int ef_proto_reply_find (const ef_reply_t *rep, const char *key, ef_mpr_t *r);
/*  Append the reply's keys but id and ok to b as one JSON object, values
    rendered by ef_json_from_mp (no newline). */
void ef_proto_reply_json (ef_buf_t *b, const ef_reply_t *rep);

/*  Readers for reply values (r positioned at the value). 0, EF_EINVAL on
    a type mismatch, or EF_EPROTO. Unknown keys are skipped. */
int ef_proto_read_event (ef_mpr_t *r, ef_event_t *ev);
/*  Read an event of a page of events whose stream_id is stream_id (the
    page's own key; EF_STR_NULL when it has none): an event of a slim
    page gets what the page left out, the stream_id and the pass-through
    state (PROCESSED when received), so that it reads as the whole event
    would. */
int ef_proto_read_page_event (ef_mpr_t *r, ef_str_t stream_id, ef_event_t *ev);
/*  Read npairs key/value pairs of an event map body (as stored). */
int ef_proto_read_event_kv (ef_mpr_t *r, uint32_t npairs, ef_event_t *ev);
int ef_proto_read_stream (ef_mpr_t *r, ef_stream_info_t *s);
int ef_proto_read_result (ef_mpr_t *r, ef_publish_result_t *res);
int ef_proto_read_stats (ef_mpr_t *r, ef_stats_t *s);
/*  Users, keys and tokens as replies carry them (protocol.md §4). */
typedef struct {
    ef_str_t id, email, role, org_id;
    uint64_t created_at;
} ef_user_info_t;

typedef struct {
    ef_str_t id, name, role;
    int producer;
    ef_str_t streams[16];
    uint32_t n_streams;
    uint64_t per_second, burst, created_at, revoked_at;
    uint64_t last_used_at;     /* 0 = nil: none since the broker started */
    uint64_t requests_per_min; /* requests it authenticated in the last 60 s */
} ef_apikey_info_t;

typedef struct {
    ef_str_t public_key, role, name;
    uint64_t created_at, revoked_at;
} ef_clientkey_info_t;

void ef_proto_write_user (ef_buf_t *b, const ef_user_info_t *u);
void ef_proto_write_apikey (ef_buf_t *b, const ef_apikey_info_t *k);
void ef_proto_write_clientkey (ef_buf_t *b, const ef_clientkey_info_t *k);
int ef_proto_read_user (ef_mpr_t *r, ef_user_info_t *u);
int ef_proto_read_apikey (ef_mpr_t *r, ef_apikey_info_t *k);
int ef_proto_read_clientkey (ef_mpr_t *r, ef_clientkey_info_t *k);

/*  HELLO's keys sit at the top level of its reply. */
int ef_proto_read_hello (const ef_reply_t *rep, ef_hello_t *h);

#ifdef __cplusplus
}
#endif
#endif
