/*  ef_api_events.c: streams and events over HTTP: stream management,
    ingest (single, batch, and the seed form), reading one event and
    listing them. Ingest is the hot route: its body is walked without a
    DOM (ef_json_object_each), the payload travels byte for byte as sent,
    and one broker PUBLISH carries a whole batch. */
#include "ef_api_common.h"
#include "eventflow/ef_event_rules.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_proto.h"
#include "eventflow/ef_time.h"
#include "eventflow/ef_uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_BATCH 1000

/* ---------------------------------------------------------------- streams */

/*  One stream map of a reply as JSON: times as RFC 3339, and its schema
    and pipeline (JSON texts in the reply) embedded as JSON values, null
    when the stream has none. 0, or -1 when the map is malformed. */
static int
s_stream_json (ef_http_t *h, ef_mpr_t *r)
{
    uint32_t n;
    int have_schema = 0, have_pipeline = 0, have_retention = 0;
    if (ef_mpr_map (r, &n))
        return -1;
    ef_buf_append (&h->out, "{", 1);
    for (uint32_t i = 0; i < n; i++) {
        ef_str_t key, text;
        uint64_t ms;
        char t[40];
        if (ef_mpr_str (r, &key))
            return -1;
        if (i)
            ef_buf_append (&h->out, ",", 1);
        ef_json_quote (&h->out, key.ptr, key.len);
        ef_buf_append (&h->out, ":", 1);
        int config = ef_str_eq (key, "schema") || ef_str_eq (key, "pipeline");
        have_retention |= ef_str_eq (key, "retention");
        if (config && ef_mpr_peek (r) == EF_MP_STR &&
            ef_mpr_str (r, &text) == 0 &&
            ef_json_validate (text.ptr, text.len, EF_JSON_DEPTH, NULL, NULL) ==
                0) {
            ef_buf_append (&h->out, text.ptr, text.len);
            have_schema |= ef_str_eq (key, "schema");
            have_pipeline |= ef_str_eq (key, "pipeline");
        } else if (config && ef_mpr_skip (r, EF_MSGPACK_DEPTH) == 0)
            ef_buf_append (&h->out, "null", 4);
        else if (key.len > 3 && !memcmp (key.ptr + key.len - 3, "_at", 3) &&
                 ef_mpr_peek (r) == EF_MP_UINT && ef_mpr_uint (r, &ms) == 0)
            ef_http_printf (h, "\"%s\"", ef_time_format (ms, t, sizeof t));
        else
            ef_json_from_mp (&h->out, r, 1);
    }
    /* the same shape whether or not the stream has them */
    if (!have_schema)
        ef_buf_append (&h->out, n ? ",\"schema\":null" : "\"schema\":null",
                       n ? 14 : 13);
    if (!have_pipeline)
        ef_buf_append (&h->out, ",\"pipeline\":null", 16);
    if (!have_retention)
        ef_buf_append (&h->out, ",\"retention\":null", 17);
    ef_buf_append (&h->out, "}", 1);
    return 0;
}

/*  The stream answer; a 422 from the broker about the schema or the
    pipeline names that member (the refusal's errors, protocol.md §2). */
static int
s_stream_call (ef_bridge_t *self, ef_http_t *h, ef_request_t *req, int status)
{
    const ef_reply_t *rep;
    int rc = ef_bridge_try (self, h, req, &rep);
    if (rc)
        return ef_bridge_call_error (h, rc, rep);
    if (status == 204)
        return ef_http_send (h, 204);
    ef_mpr_t r;
    if (ef_proto_reply_find (rep, "stream", &r) || s_stream_json (h, &r))
        return ef_http_problem (h, EF_EINTERNAL, "malformed reply", NULL, 0);
    return ef_http_send (h, status);
}

/*  A stream's schema and pipeline, as the body wrote them but compacted:
    white space outside strings is dropped, numbers and key order stay as
    sent (a DOM round trip would rewrite 0.1 as 0.10000000000000001, and
    hide a duplicate key the broker should refuse). */
typedef struct {
    ef_buf_t schema, pipeline;
    ef_buf_t payload; /* a check's payload, as sent */
    json_t *root;     /* the parsed body: req's name points into it */
} s_config_t;

static void
s_compact (ef_buf_t *b, ef_str_t v)
{
    int in_str = 0, esc = 0;
    for (uint32_t i = 0; i < v.len; i++) {
        char c = v.ptr[i];
        if (in_str) {
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == '"')
                in_str = 0;
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            continue;
        else if (c == '"')
            in_str = 1;
        ef_buf_append (b, &c, 1);
    }
}

static int
s_config_member (void *arg, ef_str_t key, ef_str_t value)
{
    s_config_t *c = arg;
    ef_buf_t *b = ef_str_eq (key, "schema")     ? &c->schema
                  : ef_str_eq (key, "pipeline") ? &c->pipeline
                                                : NULL;
    if (b) { /* the last of repeated members, as jansson keeps it */
        ef_buf_reset (b);
        s_compact (b, value);
    }
    if (ef_str_eq (key, "payload")) {
        ef_buf_reset (&c->payload);
        ef_buf_append (&c->payload, value.ptr, value.len);
    }
    return 0;
}

static void
s_config_free (s_config_t *c)
{
    ef_buf_free (&c->schema);
    ef_buf_free (&c->pipeline);
    ef_buf_free (&c->payload);
    if (c->root)
        json_decref (c->root);
}

/*  A check's verdict on a body the bridge refuses already: 200
    {valid: false, errors}, as the broker's verdicts read. */
static int
s_check_refused (ef_http_t *h, ef_api_errors_t *e)
{
    static const char head[] = "{\"valid\":false,\"errors\":[";
    ef_buf_append (&h->out, head, sizeof head - 1);
    ef_buf_append (&h->out, e->list.data, e->list.len);
    ef_buf_append (&h->out, "]}", 2);
    ef_api_errors_free (e);
    return ef_http_send (h, 200);
}

enum { S_UPDATE, S_CREATE, S_CHECK };

/*  A body's retention: null (keep everything: on update, sent as a
    retention of no limits, which removes the one there), or an object of
    max_age_ms, max_bytes, max_events (integers, 0 = no limit) and
    after_groups (a boolean). The broker checks the ranges. */
static void
s_retention_body (json_t *v, ef_request_t *req, int create, ef_api_errors_t *e)
{
    static const char *const keys[] = {"max_age_ms", "max_bytes", "max_events"};
    uint64_t *at[] = {&req->ret_max_age_ms, &req->ret_max_bytes,
                      &req->ret_max_events};
    if (json_is_null (v)) {
        req->has_retention = !create;
        return;
    }
    if (!json_is_object (v)) {
        ef_api_errors_add (e, "/retention",
                           "must be an object (max_age_ms, max_bytes, "
                           "max_events, after_groups) or null");
        return;
    }
    const char *k;
    json_t *m;
    json_object_foreach (v, k, m)
    {
        int known = !strcmp (k, "after_groups");
        for (size_t i = 0; i < 3; i++) {
            if (strcmp (k, keys[i]))
                continue;
            known = 1;
            char path[40];
            snprintf (path, sizeof path, "/retention/%s", keys[i]);
            if (json_is_null (m))
                *at[i] = 0;
            else if (!json_is_integer (m) || json_integer_value (m) < 0)
                ef_api_errors_add (e, path,
                                   "must be a non-negative integer (0 = no "
                                   "limit)");
            else
                *at[i] = (uint64_t)json_integer_value (m);
        }
        if (!strcmp (k, "after_groups")) {
            if (json_is_boolean (m) || json_is_null (m))
                req->ret_after_groups = json_is_true (m);
            else
                ef_api_errors_add (e, "/retention/after_groups",
                                   "must be a boolean");
        }
        if (!known) {
            char path[160];
            snprintf (path, sizeof path, "/retention/%.120s", k);
            ef_api_errors_add (e, path, "is not a retention setting");
        }
    }
    req->has_retention = 1;
}

/*  Read a stream body: name (required on create), schema (an object or a
    boolean), pipeline (an array of steps), retention (s_retention_body).
    On update a null schema or pipeline removes it (and a check checks
    nothing of it); a check's payload is any JSON value. 0 with req
    filled (its texts point into c: keep c until the call is done, then
    s_config_free it), or the status answered. */
static int
s_stream_body (ef_bridge_t *self, ef_http_t *h, ef_request_t *req,
               s_config_t *c, int mode)
{
    int create = mode == S_CREATE;
    json_t *root;
    int rc = ef_api_body (self, h, &root);
    if (rc)
        return rc;
    ef_api_errors_t e;
    ef_api_errors_init (&e);
    const char *name = ef_api_string (root, "name", create, &e);
    ef_api_check_name (&e, "/name", name);
    json_t *schema = json_object_get (root, "schema");
    json_t *pipeline = json_object_get (root, "pipeline");
    if (schema && !json_is_null (schema) && !json_is_object (schema) &&
        !json_is_boolean (schema))
        ef_api_errors_add (&e, "/schema",
                           "must be a JSON Schema (an object "
                           "or a boolean)");
    if (pipeline && !json_is_null (pipeline) && !json_is_array (pipeline))
        ef_api_errors_add (&e, "/pipeline", "must be an array of steps");
    json_t *retention = json_object_get (root, "retention");
    if (retention && mode != S_CHECK)
        s_retention_body (retention, req, create, &e);
    if (e.n) {
        json_decref (root);
        return mode == S_CHECK ? s_check_refused (h, &e)
                               : ef_api_errors_send (h, &e);
    }
    ef_api_errors_free (&e);
    c->root = root;
    req->name = ef_str (name);
    ef_str_t body = {h->body, (uint32_t)h->body_len};
    while (body.len && (*body.ptr == ' ' || *body.ptr == '\n' ||
                        *body.ptr == '\r' || *body.ptr == '\t'))
        body.ptr++, body.len--;
    ef_json_object_each (body.ptr, body.len, s_config_member, c);
    /* absent: left as it is; null: none (on create) or removed (on
       update, where the broker takes an empty text for "remove") */
    if (schema && (!json_is_null (schema) || !create))
        req->schema = json_is_null (schema)
                          ? ef_str ("")
                          : (ef_str_t){c->schema.data, (uint32_t)c->schema.len};
    if (pipeline && (!json_is_null (pipeline) || !create))
        req->pipeline =
            json_is_null (pipeline)
                ? ef_str ("")
                : (ef_str_t){c->pipeline.data, (uint32_t)c->pipeline.len};
    if (mode == S_CHECK && json_object_get (root, "payload"))
        req->payload = (ef_str_t){c->payload.data, (uint32_t)c->payload.len};
    return c->schema.oom || c->pipeline.oom || c->payload.oom
               ? ef_http_problem (h, EF_EUNAVAILABLE, "out of memory", NULL, 1)
               : 0;
}

int
ef_api_streams_create (ef_bridge_t *self, ef_http_t *h)
{
    ef_request_t req = {0};
    s_config_t c = {0};
    ef_buf_init (&c.schema);
    ef_buf_init (&c.pipeline);
    ef_buf_init (&c.payload);
    int rc = s_stream_body (self, h, &req, &c, S_CREATE);
    if (rc == 0) {
        req.cmd = EF_CMD_CREATE_STREAM;
        rc = s_stream_call (self, h, &req, 201);
    }
    s_config_free (&c);
    return rc;
}

int
ef_api_streams_update (ef_bridge_t *self, ef_http_t *h)
{
    ef_request_t req = {0};
    s_config_t c = {0};
    ef_buf_init (&c.schema);
    ef_buf_init (&c.pipeline);
    ef_buf_init (&c.payload);
    int rc = s_stream_body (self, h, &req, &c, S_UPDATE);
    if (rc == 0) {
        req.cmd = EF_CMD_UPDATE_STREAM;
        req.stream = ef_str (h->params[0]);
        rc = s_stream_call (self, h, &req, 200);
    }
    s_config_free (&c);
    return rc;
}

/*  POST /api/v1/streams/check: CHECK_STREAM, a dry run of the create or
    update body plus a payload: 200 {valid, errors} whatever the verdict
    (nothing is stored). */
int
ef_api_streams_check (ef_bridge_t *self, ef_http_t *h)
{
    ef_request_t req = {0};
    s_config_t c = {0};
    const ef_reply_t *rep;
    ef_buf_init (&c.schema);
    ef_buf_init (&c.pipeline);
    ef_buf_init (&c.payload);
    int rc = s_stream_body (self, h, &req, &c, S_CHECK);
    if (rc == 0) {
        req.cmd = EF_CMD_CHECK_STREAM;
        rc = ef_bridge_try (self, h, &req, &rep);
        if (rc)
            rc = ef_bridge_call_error (h, rc, rep);
        else {
            ef_buf_append (&h->out, "{\"valid\":", 9);
            int bad = ef_api_render (h, rep, "valid");
            ef_buf_append (&h->out, ",\"errors\":", 10);
            bad |= ef_api_render (h, rep, "errors");
            ef_buf_append (&h->out, "}", 1);
            rc = bad ? ef_http_problem (h, EF_EINTERNAL, "malformed reply",
                                        NULL, 0)
                     : ef_http_send (h, 200);
        }
    }
    s_config_free (&c);
    return rc;
}

int
ef_api_streams_list (ef_bridge_t *self, ef_http_t *h)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_LIST_STREAMS;
    int rc = ef_bridge_call (self, h, &req, &rep);
    if (rc)
        return rc;
    ef_mpr_t r;
    uint32_t n = 0;
    if (ef_proto_reply_find (rep, "streams", &r) == 0 && ef_mpr_array (&r, &n))
        return ef_http_problem (h, EF_EINTERNAL, "malformed reply", NULL, 0);
    ef_buf_append (&h->out, "{\"items\":[", 10);
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            ef_buf_append (&h->out, ",", 1);
        if (s_stream_json (h, &r))
            return ef_http_problem (h, EF_EINTERNAL, "malformed reply", NULL,
                                    0);
    }
    ef_buf_append (&h->out, "]}", 2);
    return ef_http_send (h, 200);
}

int
ef_api_streams_get (ef_bridge_t *self, ef_http_t *h)
{
    ef_request_t req = {0};
    req.cmd = EF_CMD_GET_STREAM;
    req.stream = ef_str (h->params[0]);
    return s_stream_call (self, h, &req, 200);
}

int
ef_api_streams_delete (ef_bridge_t *self, ef_http_t *h)
{
    ef_request_t req = {0};
    req.cmd = EF_CMD_DELETE_STREAM;
    req.stream = ef_str (h->params[0]);
    return s_stream_call (self, h, &req, 204);
}

/* ---------------------------------------------------------------- events out */

int
ef_api_events_get (ef_bridge_t *self, ef_http_t *h)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    ef_uuid_t u;
    if (ef_uuid_parse (h->params[0], strlen (h->params[0]), &u))
        return ef_http_problem (h, EF_ENOTFOUND, "no such event", NULL, 0);
    req.cmd = EF_CMD_GET_EVENT;
    req.event_id = ef_str (h->params[0]);
    int rc = ef_bridge_call (self, h, &req, &rep);
    if (rc)
        return rc;
    ef_mpr_t r;
    ef_event_t ev;
    if (ef_proto_reply_find (rep, "event", &r) || ef_proto_read_event (&r, &ev))
        return ef_http_problem (h, EF_EINTERNAL, "malformed reply", NULL, 0);
    ef_event_json (&h->out, &ev, 0);
    return ef_http_send (h, 200);
}

/*  GET /events/{id}/history: EVENT_HISTORY's reply as one object (its
    keys but the reply's own id and ok). */
int
ef_api_events_history (ef_bridge_t *self, ef_http_t *h)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    ef_uuid_t u;
    if (ef_uuid_parse (h->params[0], strlen (h->params[0]), &u))
        return ef_http_problem (h, EF_ENOTFOUND, "no such event", NULL, 0);
    req.cmd = EF_CMD_EVENT_HISTORY;
    req.event_id = ef_str (h->params[0]);
    int rc = ef_bridge_call (self, h, &req, &rep);
    if (rc)
        return rc;
    ef_mpr_t r = rep->body;
    int first = 1;
    ef_buf_append (&h->out, "{", 1);
    for (uint32_t i = 0; i < rep->nkeys; i++) {
        ef_str_t k;
        if (ef_mpr_str (&r, &k))
            return ef_http_problem (h, EF_EINTERNAL, "malformed reply", NULL,
                                    0);
        if (ef_str_eq (k, "id") || ef_str_eq (k, "ok")) {
            ef_mpr_skip (&r, EF_MSGPACK_DEPTH);
            continue;
        }
        if (!first)
            ef_buf_append (&h->out, ",", 1);
        first = 0;
        ef_json_quote (&h->out, k.ptr, k.len);
        ef_buf_append (&h->out, ":", 1);
        ef_json_from_mp (&h->out, &r, 1);
    }
    ef_buf_append (&h->out, "}", 1);
    return ef_http_send (h, 200);
}

/*  GET /events and GET /streams/{stream_id}/events: the filters as query
    parameters (ef_api_query_filters), `where` judged by the broker, whose
    refusal names it (ef_api_search_refused: 422 on ?where, ?cursor or
    ?page, a page deeper than the broker's scan bound), `cursor` from a
    reply's next_cursor, which every listing answers when there is more. */
static int
s_events_list (ef_bridge_t *self, ef_http_t *h, const char *in_stream)
{
    ef_request_t req = {0};
    ef_api_errors_t e;
    ef_api_filters_t f;
    char stream[260], cursor[80];
    ef_api_errors_init (&e);
    req.cmd = EF_CMD_LIST_EVENTS;
    req.page = 1;
    req.limit = 20;
    ef_api_query_uint (h, "page", 1, EF_MAX_PAGE, &req.page, &e);
    ef_api_query_uint (h, "limit", 1, EF_MAX_LIST, &req.limit, &e);
    if (in_stream)
        req.stream = ef_str (in_stream);
    else
        ef_api_query_text (h, "stream", stream, sizeof stream, &req.stream, &e);
    ef_api_query_text (h, "cursor", cursor, sizeof cursor, &req.cursor, &e);
    ef_api_query_filters (h, &f, &req, &e);
    req.has_from = ef_api_query_time (h, "from", &req.from, &e) > 0;
    req.has_to = ef_api_query_time (h, "to", &req.to, &e) > 0;
    if (e.n)
        return ef_api_errors_send (h, &e);
    ef_api_errors_free (&e);
    const ef_reply_t *rep;
    int rc = ef_bridge_try (self, h, &req, &rep);
    int refused = ef_api_search_refused (h, rc, rep);
    if (refused)
        return refused;
    if (rc)
        return ef_bridge_call_error (h, rc, rep);
    int more = 0;
    ef_buf_append (&h->out, "{\"items\":", 9);
    ef_api_render_events (h, rep, "items");
    ef_mpr_t m;
    if (ef_proto_reply_find (rep, "has_more", &m) == 0)
        ef_mpr_bool (&m, &more);
    ef_http_printf (h, ",\"page\":%u,\"limit\":%u,\"has_more\":%s", req.page,
                    req.limit, more ? "true" : "false");
    if (ef_proto_reply_find (rep, "next_cursor", &m) == 0) {
        ef_str_t c = EF_STR_NULL;
        ef_buf_append (&h->out, ",\"next_cursor\":", 15);
        if (ef_mpr_nil (&m) || ef_mpr_str (&m, &c))
            ef_buf_append (&h->out, "null", 4);
        else
            ef_json_quote (&h->out, c.ptr, c.len);
    }
    ef_buf_append (&h->out, "}", 1);
    return ef_http_send (h, 200);
}

int
ef_api_events_list (ef_bridge_t *self, ef_http_t *h)
{
    return s_events_list (self, h, NULL);
}

int
ef_api_stream_events_list (ef_bridge_t *self, ef_http_t *h)
{
    return s_events_list (self, h, h->params[0]);
}

/* ---------------------------------------------------------------- ingest */

typedef struct {
    ef_event_in_t *ev;
    unsigned seen; /* known fields met, to refuse a repeated one */
    ef_api_errors_t *errors;
    const char *prefix; /* "" or "/3" */
    char *arena;        /* unescaped strings; never reallocated */
    size_t *used;
    size_t cap;
    int bad;
    const char *named[8]; /* the fields an error names already */
    int n_named;
} s_item_t;

static void
s_item_error (s_item_t *it, const char *field, const char *message)
{
    char path[80];
    snprintf (path, sizeof path, "%s/%s", it->prefix, field);
    ef_api_errors_add (it->errors, path, message);
    it->bad = 1;
    if (it->n_named < 8)
        it->named[it->n_named++] = field;
}

/*  A broken rule of ef_event_rules, unless the field's value was already
    refused as it was read. */
static void
s_item_fault (void *arg, const ef_event_fault_t *f)
{
    s_item_t *it = arg;
    for (int i = 0; i < it->n_named; i++)
        if (strcmp (it->named[i], f->path) == 0)
            return;
    s_item_error (it, f->path, f->message);
}

/*  A JSON string member into the arena; NULL (and an error) otherwise. */
static const char *
s_item_string (s_item_t *it, const char *field, ef_str_t value, size_t max,
               uint32_t *len)
{
    if (ef_json_kind (value) == 'z')
        return NULL;
    char *dst = it->arena + *it->used;
    int n = ef_json_kind (value) == 's'
                ? ef_json_unescape (value, dst, it->cap - *it->used)
                : -1;
    if (n < 0) {
        s_item_error (it, field, "must be a string");
        return NULL;
    }
    if ((size_t)n > max) {
        s_item_error (it, field, "is too long");
        return NULL;
    }
    *it->used += (size_t)n + 1;
    *len = (uint32_t)n;
    return dst;
}

static int
s_context_member (void *arg, ef_str_t key, ef_str_t value)
{
    s_item_t *it = arg;
    ef_str_t *slot = ef_str_eq (key, "trace_id") ? &it->ev->trace_id
                     : ef_str_eq (key, "correlation_id")
                         ? &it->ev->correlation_id
                         : NULL;
    if (slot) {
        uint32_t len;
        const char *s = s_item_string (it,
                                       ef_str_eq (key, "trace_id")
                                           ? "context/trace_id"
                                           : "context/correlation_id",
                                       value, it->cap, &len);
        if (s)
            *slot = (ef_str_t){s, len};
    }
    return 0;
}

/*  1 if key is a known field already met in this item. */
static int
s_seen (s_item_t *it, ef_str_t key)
{
    static const char *known[] = {"type",     "payload", "source",
                                  "event_id", "version", "occurred_at",
                                  "context"};
    for (unsigned i = 0; i < sizeof known / sizeof known[0]; i++)
        if (ef_str_eq (key, known[i])) {
            int again = (it->seen >> i) & 1;
            it->seen |= 1u << i;
            return again;
        }
    return 0;
}

static int
s_item_member (void *arg, ef_str_t key, ef_str_t value)
{
    s_item_t *it = arg;
    ef_event_in_t *ev = it->ev;
    uint32_t len;
    const char *s;
    if (s_seen (it, key))
        s_item_error (it, "", "a field appears twice");
    if (ef_str_eq (key, "type")) {
        if ((s = s_item_string (it, "type", value, it->cap, &len)))
            ev->type = (ef_str_t){s, len};
    } else if (ef_str_eq (key, "payload"))
        ev->payload = value; /* the raw JSON text, byte for byte */
    else if (ef_str_eq (key, "source")) {
        if ((s = s_item_string (it, "source", value, it->cap, &len)))
            ev->source = (ef_str_t){s, len};
    } else if (ef_str_eq (key, "event_id")) {
        if ((s = s_item_string (it, "event_id", value, it->cap, &len)))
            ev->event_id = (ef_str_t){s, len};
    } else if (ef_str_eq (key, "version")) {
        uint64_t v;
        if (ef_json_kind (value) == 'z')
            ;
        else if (ef_api_decimal (value.ptr, value.len, &v) || v > 1000000000)
            s_item_error (it, "version", "must be a positive integer");
        else { /* at least 1: a rule of ef_event_rules */
            ev->version = (uint32_t)v;
            ev->version_given = 1;
        }
    } else if (ef_str_eq (key, "occurred_at")) {
        char kind = ef_json_kind (value);
        if (kind == 'n') {
            uint64_t ms;
            if (ef_api_decimal (value.ptr, value.len, &ms) || ms == 0)
                s_item_error (it, "occurred_at",
                              "must be epoch ms or RFC 3339");
            else
                ev->occurred_at = ms;
        } else if (kind == 's') {
            if ((s = s_item_string (it, "occurred_at", value, 64, &len)) &&
                ef_time_parse (s, len, &ev->occurred_at))
                s_item_error (it, "occurred_at", "must be RFC 3339");
        } else if (kind != 'z')
            s_item_error (it, "occurred_at", "must be epoch ms or RFC 3339");
    } else if (ef_str_eq (key, "context")) {
        if (ef_json_kind (value) == 'o')
            ef_json_object_each (value.ptr, value.len, s_context_member, it);
        else if (ef_json_kind (value) != 'z')
            s_item_error (it, "context", "must be an object");
    }
    return 0;
}

/*  Parse one item; its faults go to errors under prefix. 1 if valid. */
static int
s_parse_item (ef_str_t text, ef_event_in_t *ev, const char *prefix,
              ef_api_errors_t *errors, char *arena, size_t *used, size_t cap)
{
    s_item_t it = {ev, 0, errors, prefix, arena, used, cap, 0, {0}, 0};
    memset (ev, 0, sizeof *ev);
    if (ef_json_kind (text) != 'o') {
        char path[40];
        snprintf (path, sizeof path, "%s", *prefix ? prefix : "");
        ef_api_errors_add (errors, path, "an event must be an object");
        return 0;
    }
    ef_json_object_each (text.ptr, text.len, s_item_member, &it);
    /* the broker's limits: the payload's is its own to decide; the payload
       is a value of the body, validated whole already */
    ef_event_rules_fields (ev, UINT32_MAX, s_item_fault, &it);
    return !it.bad;
}

typedef struct {
    ef_event_in_t *events;
    int *valid; /* per index: 1 sent, 0 refused here */
    uint32_t n;
    ef_api_errors_t *errors;
    char *arena;
    size_t used, cap;
    int overflow;
    uint32_t cap_items;
} s_batch_t;

static int
s_batch_element (void *arg, uint32_t index, ef_str_t value)
{
    s_batch_t *b = arg;
    char prefix[16];
    if (index >= b->cap_items) {
        b->overflow = 1;
        return 1;
    }
    snprintf (prefix, sizeof prefix, "/%u", index);
    b->valid[index] = s_parse_item (value, &b->events[index], prefix, b->errors,
                                    b->arena, &b->used, b->cap);
    b->n = index + 1;
    return 0;
}

/*  The answer to a batch: one result per item, in order. */
static int
s_batch_reply (ef_http_t *h, s_batch_t *b, ef_api_errors_t *errors,
               const ef_batch_result_t *results)
{
    char t[40];
    uint32_t at = 0;
    ef_buf_append (&h->out, "{\"results\":[", 12);
    for (uint32_t i = 0; i < b->n; i++) {
        if (i)
            ef_buf_append (&h->out, ",", 1);
        if (!b->valid[i]) {
            ef_http_printf (h,
                            "{\"index\":%u,\"error\":{\"code\":\"VALIDATION\","
                            "\"message\":\"invalid fields (see errors)\"}}",
                            i);
            continue;
        }
        const ef_batch_result_t *res = &results[at++];
        if (res->code) {
            ef_http_printf (h,
                            "{\"index\":%u,\"error\":{\"code\":\"%s\","
                            "\"message\":",
                            i, ef_error_name (res->code));
            ef_json_quote (&h->out, res->message, strlen (res->message));
            ef_buf_append (&h->out, "}", 1);
            if (res->code == EF_EVALIDATION) {
                /* the payload's failing paths, as a single event's 422 */
                char prefix[24];
                ef_api_errors_t item;
                ef_api_errors_init (&item);
                snprintf (prefix, sizeof prefix, "/%u/payload", i);
                ef_api_errors_schema (&item, prefix, res->errors, res->n_errors,
                                      res->message);
                ef_buf_append (&h->out, ",\"errors\":[", 11);
                ef_buf_append (&h->out, item.list.data, item.list.len);
                ef_buf_append (&h->out, "]", 1);
                ef_api_errors_free (&item);
            }
            ef_buf_append (&h->out, "}", 1);
        } else {
            ef_http_printf (h,
                            "{\"index\":%u,\"event_id\":\"%s\",\"seq\":%llu,"
                            "\"status\":\"%s\",\"received_at\":\"%s\"}",
                            i, res->event_id, (unsigned long long)res->seq,
                            res->duplicate ? "DUPLICATE" : "ACCEPTED",
                            ef_time_format (res->received_at, t, sizeof t));
        }
    }
    ef_buf_append (&h->out, "]", 1);
    if (errors->n) {
        ef_buf_append (&h->out, ",\"errors\":[", 11);
        ef_buf_append (&h->out, errors->list.data, errors->list.len);
        ef_buf_append (&h->out, "]", 1);
    }
    ef_buf_append (&h->out, "}", 1);
    return ef_http_send (h, 202);
}

/*  422 for a payload the stream's schema refuses: its failing paths. */
static int
s_schema_refused (ef_http_t *h, ef_api_errors_t *bad)
{
    ef_buf_t extra;
    ef_buf_init (&extra);
    ef_buf_append (&extra, ",\"errors\":[", 11);
    ef_buf_append (&extra, bad->list.data, bad->list.len);
    ef_buf_append (&extra, "]", 2); /* with the NUL */
    int rc = ef_http_problem (h, EF_EVALIDATION,
                              "the payload does not match the stream's schema",
                              extra.oom ? NULL : extra.data, 0);
    ef_buf_free (&extra);
    ef_api_errors_free (bad);
    return rc;
}

/*  503 for an ingest the broker did not answer. The events may have been
    stored all the same, so the answer names the event_id each was sent
    with (null for an item refused here): a retry with the same ids is
    answered DUPLICATE for those that were. */
static int
s_unavailable (ef_http_t *h, const s_batch_t *b,
               char (*ids)[EF_UUID_STRLEN + 1], int batch)
{
    ef_buf_t extra;
    ef_buf_init (&extra);
    if (!batch) {
        ef_buf_append (&extra, ",\"event_id\":", 12);
        ef_json_quote (&extra, ids[0], strlen (ids[0]));
    } else {
        ef_buf_append (&extra, ",\"event_ids\":[", 14);
        for (uint32_t i = 0; i < b->n; i++) {
            if (i)
                ef_buf_append (&extra, ",", 1);
            if (b->valid[i])
                ef_json_quote (&extra, ids[i], strlen (ids[i]));
            else
                ef_buf_append (&extra, "null", 4);
        }
        ef_buf_append (&extra, "]", 1);
    }
    ef_buf_append (&extra, "", 1); /* the NUL */
    int rc = ef_http_problem (h, EF_EUNAVAILABLE,
                              "the broker is not reachable; retry with the "
                              "same event_id (an event already stored is "
                              "answered DUPLICATE)",
                              extra.oom ? NULL : extra.data, 1);
    ef_buf_free (&extra);
    return rc;
}

static int
s_count_one (void *arg, uint32_t index, ef_str_t value)
{
    (void)value;
    *(uint32_t *)arg = index + 1;
    return index >= S_MAX_BATCH; /* past the limit: stop counting */
}

static uint32_t
s_count_elements (ef_str_t body)
{
    uint32_t n = 0;
    ef_json_array_each (body.ptr, body.len, s_count_one, &n);
    return n;
}

static int
s_ingest (ef_bridge_t *self, ef_http_t *h, const char *stream, int seed)
{
    int rc = ef_http_read_json (h, ef_bridge_max_body (self));
    if (rc)
        return rc;
    if ((rc = ef_api_check_json (h)))
        return rc;
    ef_str_t body = {h->body, (uint32_t)h->body_len};
    while (body.len && (*body.ptr == ' ' || *body.ptr == '\n' ||
                        *body.ptr == '\r' || *body.ptr == '\t'))
        body.ptr++, body.len--;
    char kind = ef_json_kind (body);
    if (kind != 'o' && (kind != 'a' || seed))
        return ef_http_problem (
            h, EF_EVALIDATION,
            seed ? "the body must be a JSON object"
                 : "the body must be an event object or "
                   "an array of them",
            ",\"errors\":[{\"path\":\"\",\"message\":\"must "
            "be an object or an array\"}]",
            0);
    /* one slot for an object; for an array, its element count (bounded
       by the body size: no per-request 1000-slot arrays to clear) */
    uint32_t slots = 1;
    if (kind == 'a') {
        slots = s_count_elements (body);
        if (slots > S_MAX_BATCH)
            return ef_http_problem (
                h, EF_ETOOBIG, "a batch holds at most 1000 events", NULL, 0);
        if (slots == 0)
            slots = 1;
    }
    char (*ids)[EF_UUID_STRLEN + 1] = NULL; /* each item's event_id */
    ef_event_in_t *events = malloc (slots * sizeof *events);
    int *valid = calloc (slots + 1, sizeof *valid);
    size_t cap = h->body_len + 64;
    char *arena = malloc (cap);
    ef_api_errors_t errors;
    ef_api_errors_init (&errors);
    s_batch_t b = {events, valid, 0, &errors, arena, 0, cap, 0, slots};
    if (!events || !valid || !arena) {
        rc = ef_http_problem (h, EF_EUNAVAILABLE, "out of memory", NULL, 1);
        goto done;
    }
    if (kind == 'o') {
        b.n = 1;
        valid[0] =
            s_parse_item (body, &events[0], "", &errors, arena, &b.used, cap);
        if (!valid[0]) {
            rc = ef_api_errors_send (h, &errors);
            goto done;
        }
    } else {
        ef_json_array_each (body.ptr, body.len, s_batch_element, &b);
        if (b.overflow) {
            rc = ef_http_problem (h, EF_ETOOBIG,
                                  "a batch holds at most 1000 events", NULL, 0);
            goto done;
        }
        if (b.n == 0) {
            rc = ef_http_problem (h, EF_EVALIDATION, "the batch is empty",
                                  ",\"errors\":[{\"path\":\"\",\"message\":"
                                  "\"needs at least one event\"}]",
                                  0);
            goto done;
        }
    }
    /* context from the headers, where the event has none */
    char trace[33], corr[130];
    const char *tp = ef_http_header (h, "traceparent");
    const char *ci = ef_http_header (h, "X-Correlation-Id");
    int have_trace = tp && ef_proto_traceparent (ef_str (tp), trace) == 0;
    if (ci && strlen (ci) > EF_MAX_CONTEXT_FIELD) {
        rc = ef_http_problem (h, EF_EVALIDATION,
                              "X-Correlation-Id is longer than 128 bytes",
                              ",\"errors\":[{\"path\":\"X-Correlation-Id\","
                              "\"message\":\"longer than 128 bytes\"}]",
                              0);
        goto done;
    }
    snprintf (corr, sizeof corr, "%s", ci ? ci : "");
    ef_event_in_t *send = calloc (b.n, sizeof *send);
    uint32_t nsend = 0;
    ids = calloc (b.n, sizeof *ids);
    if (!send || !ids) {
        free (send);
        rc = ef_http_problem (h, EF_EUNAVAILABLE, "out of memory", NULL, 1);
        goto done;
    }
    for (uint32_t i = 0; i < b.n; i++) {
        if (!valid[i])
            continue;
        ef_event_in_t *ev = &events[i];
        /* every event goes with its id, made here when the client gave
           none, so that an answer lost on the way still names it */
        if (ev->event_id.ptr)
            snprintf (ids[i], sizeof ids[i], "%.*s", (int)ev->event_id.len,
                      ev->event_id.ptr);
        else {
            ef_http_uuid (ids[i]);
            ev->event_id = (ef_str_t){ids[i], EF_UUID_STRLEN};
        }
        if (!ev->trace_id.ptr && have_trace)
            ev->trace_id = (ef_str_t){trace, 32};
        if (!ev->correlation_id.ptr && corr[0])
            ev->correlation_id = ef_str (corr);
        if (!ev->source.ptr)
            ev->source = ef_str ("http");
        /* one PUBLISH carries the events of many HTTP requests: each
           event carries its own request's id */
        if (ef_proto_request_id_ok (ef_str (h->request_id)))
            ev->request_id = ef_str (h->request_id);
        send[nsend++] = *ev;
    }
    ef_batch_result_t *results = NULL;
    if (nsend) {
        char why[160];
        uint64_t retry = 0;
        results = malloc (nsend * sizeof *results);
        if (!results) {
            free (send);
            rc = ef_http_problem (h, EF_EUNAVAILABLE, "out of memory", NULL, 1);
            goto done;
        }
        rc = ef_bridge_publish (self, h, ef_str (stream), send, nsend, results,
                                why, &retry);
        if (rc == EF_EUNAVAILABLE || rc == EF_ETIMEOUT) {
            free (send);
            free (results);
            rc = s_unavailable (h, &b, ids, kind == 'a');
            goto done;
        }
        h->authenticated = rc == 0 || rc == EF_EFORBIDDEN || rc == EF_ERATE ||
                           rc == EF_ENOTFOUND; /* for the request log */
        if (rc) {
            free (send);
            free (results);
            rc = ef_bridge_error (h, rc, why, retry);
            goto done;
        }
    }
    free (send);
    if (kind == 'a') {
        rc = s_batch_reply (h, &b, &errors, results);
        free (results);
        goto done;
    }
    /* one event */
    ef_batch_result_t res = results[0];
    free (results);
    char t[40];
    if (res.code == EF_EVALIDATION) {
        ef_api_errors_t bad;
        ef_api_errors_init (&bad);
        ef_api_errors_schema (&bad, "/payload", res.errors, res.n_errors,
                              res.message);
        rc = s_schema_refused (h, &bad);
        goto done;
    }
    if (res.code) {
        rc = ef_bridge_error (h, res.code, res.message, res.retry_after_ms);
        goto done;
    }
    if (seed) {
        ef_http_printf (h, "{\"eventId\":\"%s\",\"status\":\"queued\"}",
                        res.event_id);
        rc = ef_http_send (h, 202);
        goto done;
    }
    ef_http_printf (h,
                    "{\"event_id\":\"%s\",\"seq\":%llu,\"status\":\"%s\","
                    "\"received_at\":\"%s\"}",
                    res.event_id, (unsigned long long)res.seq,
                    res.duplicate ? "DUPLICATE" : "ACCEPTED",
                    ef_time_format (res.received_at, t, sizeof t));
    rc = ef_http_send (h, res.duplicate ? 200 : 202);
done:
    ef_api_errors_free (&errors);
    free (ids);
    free (events);
    free (valid);
    free (arena);
    return rc;
}

int
ef_api_ingest (ef_bridge_t *self, ef_http_t *h)
{
    return s_ingest (self, h, h->params[0], 0);
}

int
ef_api_ingest_seed (ef_bridge_t *self, ef_http_t *h)
{
    return s_ingest (self, h, "default", 1);
}
