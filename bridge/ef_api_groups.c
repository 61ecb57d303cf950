/*  ef_api_groups.c: consumer groups over HTTP (DESIGN.md §5 and §6): the
    fetch (with members and long polling), the offset commit, the seek, and
    the list of a stream's groups with their lag. The broker owns offsets,
    leases and the waiting; this module checks what the request says (the
    group name, the query numbers, the seek target) so that a 422 names the
    failing path, gives a long poll the time it asked for, and renders the
    answers. */
#include "ef_api_common.h"
#include "eventflow/ef_proto.h"
#include "eventflow/ef_time.h"
#include "eventflow/ef_uuid.h"

#include <string.h>

#define S_LIMIT_DEFAULT 100
#define S_WAIT_MAX_MS   30000 /* the longest long poll a request may ask */
#define S_MEMBER_MAX    64    /* bytes of a consumer_id, as the broker */

/* ---------------------------------------------------------------- helpers */

/*  A query parameter decoded into out: its length, -1 when absent, -2
    when longer than out holds (ef_http_query would take that for absent,
    and a member that silently became "no member" would read the wrong
    range). */
static int
s_query (const ef_http_t *h, const char *name, char *out, size_t size)
{
    const char *q = h->ri->query_string;
    if (!q)
        return -1;
    int n = mg_get_var (q, strlen (q), name, out, size);
    return n >= 0 ? n : n == -1 ? -1 : -2;
}

/*  A consumer_id of len bytes (NUL bytes would cut it short). */
static void
s_check_member (ef_api_errors_t *e, const char *path, const char *v, size_t len)
{
    if (len == 0 || len > S_MEMBER_MAX || memchr (v, 0, len))
        ef_api_errors_add (e, path, "is 1 to 64 bytes");
}

/*  200 {"committed_offset": …}, the answer of commit and seek. */
static int
s_committed (ef_http_t *h, const ef_reply_t *rep)
{
    static const ef_api_member_t m[] = {{"committed_offset", "null"}};
    ef_api_render_object (h, rep, m, sizeof m / sizeof *m);
    return ef_http_send (h, 200);
}

/* ---------------------------------------------------------------- fetch */

int
ef_api_groups_fetch (ef_bridge_t *self, ef_http_t *h)
{
    ef_request_t req = {0};
    ef_api_errors_t e;
    char member[S_MEMBER_MAX + 1];
    uint32_t limit = S_LIMIT_DEFAULT, wait_ms = 0;
    ef_api_errors_init (&e);
    ef_api_check_name (&e, "group", h->params[1]);
    ef_api_query_uint (h, "limit", 1, EF_MAX_FETCH, &limit, &e);
    ef_api_query_uint (h, "timeout", 0, S_WAIT_MAX_MS, &wait_ms, &e);
    int m = s_query (h, "consumer_id", member, sizeof member);
    if (m >= 0)
        s_check_member (&e, "?consumer_id", member, (size_t)m);
    else if (m == -2)
        ef_api_errors_add (&e, "?consumer_id", "is 1 to 64 bytes");
    if (e.n)
        return ef_api_errors_send (h, &e);
    ef_api_errors_free (&e);
    req.cmd = EF_CMD_FETCH;
    req.stream = ef_str (h->params[0]);
    req.group = ef_str (h->params[1]);
    if (m > 0)
        req.consumer_id = (ef_str_t){member, (uint32_t)m};
    req.limit = limit;
    req.timeout = wait_ms;
    const ef_reply_t *rep;
    /* the broker holds an empty fetch up to wait_ms on purpose */
    int rc = ef_bridge_call_wait (self, h, &req, &rep, (int)wait_ms);
    if (rc)
        return rc;
    ef_buf_append (&h->out, "{\"events\":", 10);
    if (ef_api_render_events (h, rep, "events"))
        return ef_http_problem (h, EF_EINTERNAL, "malformed reply", NULL, 0);
    /* the offsets, event ids or nil, as JSON strings or null */
    ef_buf_append (&h->out, ",\"next_offset\":", 15);
    ef_api_render_or (h, rep, "next_offset", "null");
    ef_buf_append (&h->out, ",\"committed_offset\":", 20);
    ef_api_render_or (h, rep, "committed_offset", "null");
    ef_buf_append (&h->out, "}", 1);
    return ef_http_send (h, 200);
}

/* ---------------------------------------------------------------- commit */

int
ef_api_groups_commit (ef_bridge_t *self, ef_http_t *h)
{
    json_t *root;
    ef_request_t req = {0};
    ef_api_errors_t e;
    ef_uuid_t u;
    int rc = ef_api_body (self, h, &root);
    if (rc)
        return rc;
    ef_api_errors_init (&e);
    ef_api_check_name (&e, "group", h->params[1]);
    const char *last = ef_api_string (root, "last_event_id", 1, &e);
    const char *member = ef_api_string (root, "consumer_id", 0, &e);
    if (last && ef_uuid_parse (last, strlen (last), &u))
        ef_api_errors_add (&e, "/last_event_id", "must be an event id (UUID)");
    if (member)
        s_check_member (
            &e, "/consumer_id", member,
            json_string_length (json_object_get (root, "consumer_id")));
    if (e.n) {
        json_decref (root);
        return ef_api_errors_send (h, &e);
    }
    ef_api_errors_free (&e);
    req.cmd = EF_CMD_COMMIT;
    req.stream = ef_str (h->params[0]);
    req.group = ef_str (h->params[1]);
    req.last_event_id = ef_str (last);
    req.consumer_id = ef_str (member);
    const ef_reply_t *rep;
    rc = ef_bridge_call (self, h, &req, &rep);
    if (rc == 0)
        rc = s_committed (h, rep);
    json_decref (root);
    return rc;
}

/* ---------------------------------------------------------------- seek */

/*  {"timestamp": ms or RFC 3339} into req; an error at /to/timestamp
    otherwise. */
static void
s_seek_time (json_t *to, ef_request_t *req, ef_api_errors_t *e)
{
    json_t *ts = json_object_get (to, "timestamp");
    uint64_t ms;
    if (!ts || json_is_null (ts)) {
        ef_api_errors_add (e, "/to/timestamp", "is required");
        return;
    }
    if (json_is_integer (ts) && json_integer_value (ts) >= 0)
        ms = (uint64_t)json_integer_value (ts);
    else if (!json_is_string (ts) ||
             ef_time_parse (json_string_value (ts), json_string_length (ts),
                            &ms)) {
        ef_api_errors_add (e, "/to/timestamp",
                           "must be epoch ms or an RFC 3339 time");
        return;
    }
    req->timestamp = ms;
    req->has_timestamp = 1;
}

int
ef_api_groups_seek (ef_bridge_t *self, ef_http_t *h)
{
    static const char what[] =
        "is \"earliest\", \"latest\", an event id or {\"timestamp\": ...}";
    json_t *root;
    ef_request_t req = {0};
    ef_api_errors_t e;
    ef_uuid_t u;
    int rc = ef_api_body (self, h, &root);
    if (rc)
        return rc;
    ef_api_errors_init (&e);
    ef_api_check_name (&e, "group", h->params[1]);
    json_t *to = json_object_get (root, "to");
    if (!to || json_is_null (to))
        ef_api_errors_add (&e, "/to", "is required");
    else if (json_is_object (to))
        s_seek_time (to, &req, &e);
    else if (!json_is_string (to))
        ef_api_errors_add (&e, "/to", what);
    else {
        const char *v = json_string_value (to);
        size_t n = json_string_length (to);
        if (strlen (v) == n &&
            (!strcmp (v, "earliest") || !strcmp (v, "latest") ||
             ef_uuid_parse (v, n, &u) == 0))
            req.position = ef_str (v);
        else
            ef_api_errors_add (&e, "/to", what);
    }
    if (e.n) {
        json_decref (root);
        return ef_api_errors_send (h, &e);
    }
    ef_api_errors_free (&e);
    req.cmd = EF_CMD_SEEK;
    req.stream = ef_str (h->params[0]);
    req.group = ef_str (h->params[1]);
    const ef_reply_t *rep;
    rc = ef_bridge_call (self, h, &req, &rep);
    if (rc == 0)
        rc = s_committed (h, rep);
    json_decref (root);
    return rc;
}

/* ---------------------------------------------------------------- list */

int
ef_api_groups_list (ef_bridge_t *self, ef_http_t *h)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_LIST_GROUPS;
    req.stream = ef_str (h->params[0]);
    int rc = ef_bridge_call (self, h, &req, &rep);
    if (rc)
        return rc;
    ef_api_render_items (h, rep, "groups");
    return ef_http_send (h, 200);
}
