/*  ef_api_common.h: helpers the route modules share: a JSON request body
    read, checked (line and column of a fault) and parsed; the list of
    field errors for 422 answers and the checks that add to it (names,
    roles, e-mails, passwords, a schema's failing paths); numbers, texts
    and times in the query or body; the events' filters (`type`, `source`,
    `status`, `where`) in the query; the broker call those errors stand
    before; and rendering parts of a broker reply (events among them, or
    an object of its keys with their defaults) as JSON. Not public. */
#ifndef EF_API_COMMON_H
#define EF_API_COMMON_H

#include <jansson.h>
#include "ef_bridge_int.h"
#include "eventflow/ef_event_json.h"

/*  Read and parse the body as a JSON object into *root (caller decrefs).
    0, or the status already answered (400 with line/column, 413, 415,
    422 when not an object). */
int ef_api_body (ef_bridge_t *self, ef_http_t *h, json_t **root);
/*  Check the body as JSON without parsing it: 0 or the 400 answered. */
int ef_api_check_json (ef_http_t *h);

/*  Field errors collected for one 422 answer. */
typedef struct {
    ef_buf_t list; /* ",{...}" items */
    int n;
} ef_api_errors_t;

void ef_api_errors_init (ef_api_errors_t *e);
void ef_api_errors_add (ef_api_errors_t *e, const char *path,
                        const char *message);
/*  Answer 422 with the errors (and free them). */
int ef_api_errors_send (ef_http_t *h, ef_api_errors_t *e);
void ef_api_errors_free (ef_api_errors_t *e);

/*  Ask the broker req for the exchange h (ef_bridge_call), unless e
    holds field errors: those are answered (422) instead. e is freed
    either way. 0 and *rep, or the status already answered. */
int ef_api_call (ef_bridge_t *self, ef_http_t *h, ef_api_errors_t *e,
                 ef_request_t *req, const ef_reply_t **rep);

/*  A string member of root: NULL when absent; when present but not a
    string, an error is added. */
const char *ef_api_string (json_t *root, const char *key, int required,
                           ef_api_errors_t *e);

/*  Field checks that give a 422 its path before the broker is asked:
    each adds an error (and returns 0) when value is set and wrong. */
int ef_api_check_name (ef_api_errors_t *e, const char *path, const char *v);
int ef_api_check_role (ef_api_errors_t *e, const char *path, const char *v);
int ef_api_check_email (ef_api_errors_t *e, const char *path, const char *v);
int ef_api_check_password (ef_api_errors_t *e, const char *path, const char *v);

/*  Digits only (no sign, no space), at most 15 of them: a number a
    strtoull cannot wrap. 0 and *out, or -1. */
int ef_api_decimal (const char *s, size_t len, uint64_t *out);
/*  A decimal query parameter: 1 and *out when present, 0 when absent, -1
    (and an error at "?name") when it is not a whole number from min to
    max (out of range is refused, never capped). */
int ef_api_query_uint (ef_http_t *h, const char *name, uint32_t min,
                       uint32_t max, uint32_t *out, ef_api_errors_t *e);

/*  A text query parameter into out (size bytes): set in *dst when present
    and not empty; an error at "?name" when it does not fit or is not
    valid UTF-8. */
void ef_api_query_text (ef_http_t *h, const char *name, char *out, size_t size,
                        ef_str_t *dst, ef_api_errors_t *e);

/*  Payload predicates (`where`) in one request. */
#define EF_API_WHERE 8

/*  The texts of an events query's filters (ef_api_query_filters). */
typedef struct {
    char type[260], source[260], status[32];
    char where[EF_API_WHERE + 1][1024];
} ef_api_filters_t;

/*  The events' filters as query parameters, read one way for GET
    /events, GET /streams/{id}/events and the live feed's tail: `where`
    (repeated, at most EF_API_WHERE, pointer:op[:value], judged by the
    broker), `type`, `source` and `status` (one of the four states). Each
    one present is set in req (LIST_EVENTS or READ), its text kept in *f
    (which must outlive req's use); a fault is an error at "?name". */
void ef_api_query_filters (ef_http_t *h, ef_api_filters_t *f, ef_request_t *req,
                           ef_api_errors_t *e);
/*  The broker's INVALID naming `where`, `cursor` or `page` (its words
    begin with the name) as 422 at "?where", "?cursor" or "?page" with
    those words: the status answered, or 0 when the refusal (rc, rep) is
    another one. */
int ef_api_search_refused (ef_http_t *h, int rc, const ef_reply_t *rep);

/*  A time query parameter, RFC 3339 or epoch ms: 1 and *ms when present,
    0 when absent, -1 (and an error at "?name") when it is neither. */
int ef_api_query_time (ef_http_t *h, const char *name, uint64_t *ms,
                       ef_api_errors_t *e);
/*  A time member of a body (an RFC 3339 string or epoch ms): 1 and *ms
    when present, 0 when absent or null, -1 (and an error at path) when
    it is neither. */
int ef_api_json_time (json_t *root, const char *key, const char *path,
                      uint64_t *ms, ef_api_errors_t *e);

/*  The broker's schema verdict as field errors: n pairs "path\0message\0"
    in errors (the paths JSON Pointers into the payload, as the result's
    errors array carried them), each path under prefix (e.g. "/payload" or
    "/3/payload"); with none (a check that ran out of budget), message at
    prefix. */
void ef_api_errors_schema (ef_api_errors_t *e, const char *prefix,
                           const char *errors, uint32_t n, const char *message);

/*  Write reply[key] as JSON (times as RFC 3339) into h->out; 0 or -1 when
    the key is missing. */
int ef_api_render (ef_http_t *h, const ef_reply_t *rep, const char *key);
/*  reply[key] as ef_api_render writes it, or dflt (JSON text) when the
    key is missing. */
void ef_api_render_or (ef_http_t *h, const ef_reply_t *rep, const char *key,
                       const char *dflt);
/*  One member of an object rendered from a broker reply. */
typedef struct {
    const char *key;  /* the reply's key, and the member's name */
    const char *dflt; /* JSON text when the reply lacks key; NULL: the
                         member is left out then */
    const char *name; /* the member's name when it is not key */
} ef_api_member_t;
/*  {"name": reply[key], …} for the n members, in their order, into
    h->out: the way each answer made of a reply's keys is written. */
void ef_api_render_object (ef_http_t *h, const ef_reply_t *rep,
                           const ef_api_member_t *m, size_t n);
/*  {"items": reply[key]} ([] when the key is missing). */
int ef_api_render_items (ef_http_t *h, const ef_reply_t *rep, const char *key);
/*  reply[key], an array of events, into h->out as a JSON array of
    ef_event_json objects ("[]" when the key is missing). 0, or -1
    when an item is malformed (the array is still closed). */
int ef_api_render_events (ef_http_t *h, const ef_reply_t *rep, const char *key);

#endif
