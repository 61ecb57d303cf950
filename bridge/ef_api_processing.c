/*  ef_api_processing.c: stream processing over HTTP (DESIGN.md §5, §6):
    the dead-letter queue (list with filters, the letters counted by
    reason, one letter with its event, replay of one, of a list or of
    every match, delete of one or of a list) and the attached workers. The
    broker owns the queue, the jobs and the roles (all of this is admin);
    this module checks what the request says, so that a 422 names the
    failing path, and renders the answers. */
#include "ef_api_common.h"
#include "eventflow/ef_proto.h"
#include "eventflow/ef_uuid.h"

#include <stdio.h>
#include <string.h>

#define S_LIMIT_DEFAULT 20
#define S_LIMIT_MAX     100 /* DESIGN.md §5: the list page cap */
#define S_FILTER_MAX    256 /* bytes of a stream or error filter */
#define S_ID_MAX        64  /* bytes of an id in event_ids */

/* ---------------------------------------------------------------- helpers */

/*  A dead letter is named by its event's id: anything else is no letter. */
static int
s_event_id (ef_http_t *h, ef_request_t *req)
{
    ef_uuid_t u;
    if (ef_uuid_parse (h->params[0], strlen (h->params[0]), &u))
        return ef_http_problem (h, EF_ENOTFOUND, "no such dead letter", NULL,
                                0);
    req->event_id = ef_str (h->params[0]);
    return 0;
}

/*  A string filter of a body: set in *dst when present. */
static void
s_body_filter (json_t *root, const char *key, ef_str_t *dst, ef_api_errors_t *e)
{
    char path[40];
    const char *v = ef_api_string (root, key, 0, e);
    snprintf (path, sizeof path, "/%s", key);
    if (v && strlen (v) > S_FILTER_MAX)
        ef_api_errors_add (e, path, "is too long");
    else if (v && *v)
        *dst = ef_str (v);
}

/*  The filters that DLQ_LIST, DLQ_REASONS and GET /dlq share, from the
    query: stream, type, from, to (and error, when error is not NULL). */
static void
s_query_filters (ef_http_t *h, ef_request_t *req, char *stream, char *type,
                 char *error, ef_api_errors_t *e)
{
    ef_api_query_text (h, "stream", stream, S_FILTER_MAX + 1, &req->stream, e);
    ef_api_query_text (h, "type", type, EF_MAX_TYPE + 1, &req->type, e);
    if (error)
        ef_api_query_text (h, "error", error, S_FILTER_MAX + 1, &req->error, e);
    req->has_from = ef_api_query_time (h, "from", &req->from, e) > 0;
    req->has_to = ef_api_query_time (h, "to", &req->to, e) > 0;
}

/*  The body's event_ids: 1 to EF_MAX_IDS strings, written into ids as
    the array the broker takes. 1 when present (errors added when it is
    wrong), 0 when absent. */
static int
s_body_ids (json_t *root, ef_buf_t *ids, ef_request_t *req, ef_api_errors_t *e)
{
    json_t *a = json_object_get (root, "event_ids");
    if (!a)
        return 0;
    size_t n = json_is_array (a) ? json_array_size (a) : 0;
    if (!json_is_array (a) || n == 0 || n > EF_MAX_IDS) {
        ef_api_errors_add (e, "/event_ids", "is an array of 1 to 1000 ids");
        return 1;
    }
    ef_mp_array (ids, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get (a, i);
        char path[32];
        snprintf (path, sizeof path, "/event_ids/%zu", i);
        if (!json_is_string (v))
            ef_api_errors_add (e, path, "is not a string");
        else if (json_string_length (v) > S_ID_MAX)
            ef_api_errors_add (e, path, "is too long");
        else
            ef_mp_cstr (ids, json_string_value (v));
    }
    if (ids->oom)
        ef_api_errors_add (e, "/event_ids", "is too big");
    req->event_ids = (ef_str_t){ids->data, (uint32_t)ids->len};
    req->n_event_ids = (uint32_t)n;
    return 1;
}

/*  200 {"replayed": N, "has_more": bool} (and "not_found" for a list) */
static int
s_replayed (ef_http_t *h, const ef_reply_t *rep)
{
    static const ef_api_member_t m[] = {
        {"replayed", "0"}, {"has_more", "false"}, {"not_found", NULL}};
    ef_api_render_object (h, rep, m, sizeof m / sizeof *m);
    return ef_http_send (h, 200);
}

/* ---------------------------------------------------------------- dlq */

int
ef_api_dlq_list (ef_bridge_t *self, ef_http_t *h)
{
    ef_request_t req = {0};
    ef_api_errors_t e;
    char stream[S_FILTER_MAX + 1], error[S_FILTER_MAX + 1];
    char type[EF_MAX_TYPE + 1];
    ef_api_errors_init (&e);
    req.cmd = EF_CMD_DLQ_LIST;
    req.page = 1;
    req.limit = S_LIMIT_DEFAULT;
    ef_api_query_uint (h, "page", 1, EF_MAX_PAGE, &req.page, &e);
    ef_api_query_uint (h, "limit", 1, S_LIMIT_MAX, &req.limit, &e);
    s_query_filters (h, &req, stream, type, error, &e);
    const ef_reply_t *rep;
    int rc = ef_api_call (self, h, &e, &req, &rep);
    if (rc)
        return rc;
    int more = 0;
    ef_mpr_t m;
    if (ef_proto_reply_find (rep, "has_more", &m) == 0)
        ef_mpr_bool (&m, &more);
    ef_buf_append (&h->out, "{\"items\":", 9);
    ef_api_render_or (h, rep, "items", "[]");
    ef_http_printf (h, ",\"page\":%u,\"limit\":%u,\"has_more\":%s}", req.page,
                    req.limit, more ? "true" : "false");
    return ef_http_send (h, 200);
}

int
ef_api_dlq_reasons (ef_bridge_t *self, ef_http_t *h)
{
    ef_request_t req = {0};
    ef_api_errors_t e;
    char stream[S_FILTER_MAX + 1], type[EF_MAX_TYPE + 1];
    ef_api_errors_init (&e);
    req.cmd = EF_CMD_DLQ_REASONS;
    s_query_filters (h, &req, stream, type, NULL, &e);
    const ef_reply_t *rep;
    int rc = ef_api_call (self, h, &e, &req, &rep);
    if (rc)
        return rc;
    static const ef_api_member_t m[] = {{"items", "[]"},
                                        {"truncated", "false"}};
    ef_api_render_object (h, rep, m, sizeof m / sizeof *m);
    return ef_http_send (h, 200);
}

int
ef_api_dlq_get (ef_bridge_t *self, ef_http_t *h)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    int rc = s_event_id (h, &req);
    if (rc)
        return rc;
    req.cmd = EF_CMD_DLQ_GET;
    if ((rc = ef_bridge_call (self, h, &req, &rep)))
        return rc;
    ef_mpr_t r;
    ef_event_t ev;
    if (ef_proto_reply_find (rep, "event", &r) || ef_proto_read_event (&r, &ev))
        return ef_http_problem (h, EF_EINTERNAL, "malformed reply", NULL, 0);
    ef_buf_append (&h->out, "{\"dead\":", 8);
    if (ef_api_render (h, rep, "dead"))
        return ef_http_problem (h, EF_EINTERNAL, "malformed reply", NULL, 0);
    ef_buf_append (&h->out, ",\"event\":", 9);
    ef_event_json (&h->out, &ev, 0);
    /* its attempts, as GET /events/{id}/history shows them */
    ef_buf_append (&h->out, ",\"history\":", 11);
    if (ef_api_render (h, rep, "history"))
        return ef_http_problem (h, EF_EINTERNAL, "malformed reply", NULL, 0);
    ef_buf_append (&h->out, "}", 1);
    return ef_http_send (h, 200);
}

int
ef_api_dlq_replay (ef_bridge_t *self, ef_http_t *h)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    int rc = s_event_id (h, &req);
    if (rc)
        return rc;
    req.cmd = EF_CMD_DLQ_REPLAY;
    if ((rc = ef_bridge_call (self, h, &req, &rep)))
        return rc;
    return s_replayed (h, rep);
}

int
ef_api_dlq_replay_all (ef_bridge_t *self, ef_http_t *h)
{
    ef_request_t req = {0};
    ef_api_errors_t e;
    json_t *root = NULL;
    /* no body at all: no filters, every dead letter of the org */
    int empty =
        h->ri->content_length == 0 ||
        (h->ri->content_length < 0 && !ef_http_header (h, "Transfer-Encoding"));
    if (!empty) {
        int rc = ef_api_body (self, h, &root);
        if (rc)
            return rc;
    }
    ef_buf_t ids;
    ef_buf_init (&ids);
    ef_api_errors_init (&e);
    req.cmd = EF_CMD_DLQ_REPLAY;
    req.all = 1;
    if (root && s_body_ids (root, &ids, &req, &e)) {
        /* a list of letters, not a filter */
        req.all = 0;
        if (json_object_size (root) > 1)
            ef_api_errors_add (&e, "/event_ids",
                               "goes alone: not with stream, error, type, "
                               "from or to");
    } else if (root) {
        s_body_filter (root, "stream", &req.stream, &e);
        s_body_filter (root, "error", &req.error, &e);
        s_body_filter (root, "type", &req.type, &e);
        req.has_from =
            ef_api_json_time (root, "from", "/from", &req.from, &e) > 0;
        req.has_to = ef_api_json_time (root, "to", "/to", &req.to, &e) > 0;
    }
    const ef_reply_t *rep;
    int rc = ef_api_call (self, h, &e, &req, &rep);
    if (rc == 0)
        rc = s_replayed (h, rep);
    ef_buf_free (&ids);
    if (root)
        json_decref (root);
    return rc;
}

int
ef_api_dlq_delete (ef_bridge_t *self, ef_http_t *h)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    int rc = s_event_id (h, &req);
    if (rc)
        return rc;
    req.cmd = EF_CMD_DLQ_DELETE;
    if ((rc = ef_bridge_call (self, h, &req, &rep)))
        return rc;
    return ef_http_send (h, 204);
}

/*  POST /dlq/delete {event_ids}: 200 {"deleted": N, "not_found": [...]} */
int
ef_api_dlq_delete_ids (ef_bridge_t *self, ef_http_t *h)
{
    ef_request_t req = {0};
    ef_api_errors_t e;
    ef_buf_t ids;
    json_t *root = NULL;
    int rc = ef_api_body (self, h, &root);
    if (rc)
        return rc;
    ef_buf_init (&ids);
    ef_api_errors_init (&e);
    req.cmd = EF_CMD_DLQ_DELETE;
    if (!s_body_ids (root, &ids, &req, &e))
        ef_api_errors_add (&e, "/event_ids", "is required");
    const ef_reply_t *rep;
    if ((rc = ef_api_call (self, h, &e, &req, &rep)) == 0) {
        static const ef_api_member_t m[] = {{"deleted", "0"},
                                            {"not_found", "[]"}};
        ef_api_render_object (h, rep, m, sizeof m / sizeof *m);
        rc = ef_http_send (h, 200);
    }
    ef_buf_free (&ids);
    json_decref (root);
    return rc;
}

/* ---------------------------------------------------------------- workers */

int
ef_api_workers_list (ef_bridge_t *self, ef_http_t *h)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_WORKERS;
    int rc = ef_bridge_call (self, h, &req, &rep);
    if (rc)
        return rc;
    static const ef_api_member_t m[] = {
        {"workers", "[]"}, {"queued", "0"}, {"services", "[]"}};
    ef_api_render_object (h, rep, m, sizeof m / sizeof *m);
    return ef_http_send (h, 200);
}
