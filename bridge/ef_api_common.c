/*  ef_api_common.c: what the route modules share (see ef_api_common.h):
    request bodies, field errors and the checks of names, roles, e-mails
    and passwords behind them, query numbers, texts and times, the
    events' filters (GET /events and the live feed read them one way),
    and the rendering of broker replies (events through ef_event_json). */
#include "ef_api_common.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_proto.h"
#include "eventflow/ef_time.h"

#include <stdio.h>
#include <string.h>

int
ef_api_check_json (ef_http_t *h)
{
    size_t at = 0;
    const char *why = NULL;
    if (ef_json_validate (h->body, h->body_len, EF_JSON_DEPTH, &at, &why) == 0)
        return 0;
    int line, col;
    char extra[64], detail[160];
    ef_json_position (h->body, h->body_len, at, &line, &col);
    if (why && strcmp (why, "nesting too deep") == 0) {
        /* well-formed, but deeper than the broker stores */
        snprintf (detail, sizeof detail,
                  "JSON nested deeper than %d levels (line %d, column %d)",
                  EF_JSON_DEPTH, line, col);
        return ef_http_problem (h, EF_EVALIDATION, detail,
                                ",\"errors\":[{\"path\":\"\",\"message\":"
                                "\"nested too deep\"}]",
                                0);
    }
    if (why &&
        (strcmp (why, "invalid UTF-8") == 0 || strstr (why, "surrogate"))) {
        /* well-formed but for text that is not Unicode: the field it is in */
        char path[256];
        ef_api_errors_t e;
        ef_json_fault_path (h->body, h->body_len, EF_JSON_DEPTH, path,
                            sizeof path);
        ef_api_errors_init (&e);
        ef_api_errors_add (&e, path, why);
        return ef_api_errors_send (h, &e);
    }
    snprintf (extra, sizeof extra, ",\"line\":%d,\"column\":%d", line, col);
    snprintf (detail, sizeof detail, "malformed JSON at line %d, column %d: %s",
              line, col, why ? why : "syntax error");
    return ef_http_problem (h, EF_EMALFORMED_JSON, detail, extra, 0);
}

int
ef_api_body (ef_bridge_t *self, ef_http_t *h, json_t **root)
{
    int rc = ef_http_read_json (h, ef_bridge_max_body (self));
    if (rc)
        return rc;
    if ((rc = ef_api_check_json (h)))
        return rc;
    json_error_t err;
    *root = json_loadb (h->body, h->body_len, JSON_DECODE_ANY, &err);
    if (!*root)
        return ef_http_problem (h, EF_EMALFORMED_JSON, err.text, NULL, 0);
    if (!json_is_object (*root)) {
        json_decref (*root);
        *root = NULL;
        return ef_http_problem (h, EF_EVALIDATION,
                                "the body must be a JSON object",
                                ",\"errors\":[{\"path\":\"\",\"message\":"
                                "\"must be an object\"}]",
                                0);
    }
    return 0;
}

void
ef_api_errors_init (ef_api_errors_t *e)
{
    ef_buf_init (&e->list);
    e->n = 0;
}

void
ef_api_errors_add (ef_api_errors_t *e, const char *path, const char *message)
{
    ef_buf_append (&e->list, e->n ? ",{\"path\":" : "{\"path\":", e->n ? 9 : 8);
    ef_json_quote (&e->list, path, strlen (path));
    ef_buf_append (&e->list, ",\"message\":", 11);
    ef_json_quote (&e->list, message, strlen (message));
    ef_buf_append (&e->list, "}", 1);
    e->n++;
}

void
ef_api_errors_free (ef_api_errors_t *e)
{
    ef_buf_free (&e->list);
}

int
ef_api_errors_send (ef_http_t *h, ef_api_errors_t *e)
{
    ef_buf_t extra;
    ef_buf_init (&extra);
    ef_buf_append (&extra, ",\"errors\":[", 11);
    ef_buf_append (&extra, e->list.data, e->list.len);
    ef_buf_append (&extra, "]", 2); /* with the NUL */
    int rc = ef_http_problem (h, EF_EVALIDATION,
                              "the request has invalid fields", extra.data, 0);
    ef_buf_free (&extra);
    ef_api_errors_free (e);
    return rc;
}

int
ef_api_call (ef_bridge_t *self, ef_http_t *h, ef_api_errors_t *e,
             ef_request_t *req, const ef_reply_t **rep)
{
    if (e->n)
        return ef_api_errors_send (h, e);
    ef_api_errors_free (e);
    return ef_bridge_call (self, h, req, rep);
}

const char *
ef_api_string (json_t *root, const char *key, int required, ef_api_errors_t *e)
{
    json_t *v = json_object_get (root, key);
    char path[64];
    snprintf (path, sizeof path, "/%s", key);
    if (!v || json_is_null (v)) {
        if (required)
            ef_api_errors_add (e, path, "is required");
        return NULL;
    }
    if (!json_is_string (v)) {
        ef_api_errors_add (e, path, "must be a string");
        return NULL;
    }
    return json_string_value (v);
}

int
ef_api_render (ef_http_t *h, const ef_reply_t *rep, const char *key)
{
    ef_mpr_t r;
    if (ef_proto_reply_find (rep, key, &r))
        return -1;
    ef_json_from_mp (&h->out, &r, 1);
    return 0;
}

int
ef_api_pass (ef_bridge_t *self, ef_http_t *h, const ef_route_pass_t *p)
{
    ef_request_t req = {0};
    req.cmd = p->cmd;
    for (int i = 0; i < EF_HTTP_MAX_PARAMS && p->params[i] && h->params[i]; i++)
        *(ef_str_t *)((char *)&req + p->params[i] - 1) = ef_str (h->params[i]);
    const ef_reply_t *rep;
    int rc = ef_bridge_call (self, h, &req, &rep);
    if (rc)
        return rc;
    if (p->key && p->items)
        ef_api_render_items (h, rep, p->key);
    else if (p->key && ef_api_render (h, rep, p->key))
        return ef_http_problem (h, EF_EINTERNAL, "malformed broker reply", NULL,
                                0);
    return ef_http_send (h, p->status);
}

void
ef_api_render_or (ef_http_t *h, const ef_reply_t *rep, const char *key,
                  const char *dflt)
{
    if (ef_api_render (h, rep, key))
        ef_buf_append (&h->out, dflt, strlen (dflt));
}

void
ef_api_render_object (ef_http_t *h, const ef_reply_t *rep,
                      const ef_api_member_t *m, size_t n)
{
    char sep = '{';
    for (size_t i = 0; i < n; i++) {
        ef_mpr_t r;
        if (!m[i].dflt && ef_proto_reply_find (rep, m[i].key, &r))
            continue;
        ef_http_printf (h, "%c\"%s\":", sep, m[i].name ? m[i].name : m[i].key);
        ef_api_render_or (h, rep, m[i].key, m[i].dflt);
        sep = ',';
    }
    ef_buf_append (&h->out, sep == '{' ? "{}" : "}", sep == '{' ? 2 : 1);
}

int
ef_api_render_items (ef_http_t *h, const ef_reply_t *rep, const char *key)
{
    const ef_api_member_t items = {key, "[]", "items"};
    ef_api_render_object (h, rep, &items, 1);
    return 0;
}

/* ---------------------------------------------------------------- query */

int
ef_api_decimal (const char *s, size_t len, uint64_t *out)
{
    uint64_t n = 0;
    if (len == 0 || len > 15)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        n = n * 10 + (uint64_t)(s[i] - '0');
    }
    *out = n;
    return 0;
}

int
ef_api_query_uint (ef_http_t *h, const char *name, uint32_t min, uint32_t max,
                   uint32_t *out, ef_api_errors_t *e)
{
    char v[32], path[40];
    uint64_t n;
    if (!ef_http_query (h, name, v, sizeof v))
        return 0;
    snprintf (path, sizeof path, "?%s", name);
    if (ef_api_decimal (v, strlen (v), &n) || n < min || n > max) {
        /* out of range is refused, never clamped (protocol.md §1) */
        char msg[64];
        snprintf (msg, sizeof msg, "must be a whole number from %u to %u", min,
                  max);
        ef_api_errors_add (e, path, msg);
        return -1;
    }
    *out = (uint32_t)n;
    return 1;
}

void
ef_api_query_text (ef_http_t *h, const char *name, char *out, size_t size,
                   ef_str_t *dst, ef_api_errors_t *e)
{
    char path[40];
    int q = ef_http_query (h, name, out, size);
    snprintf (path, sizeof path, "?%s", name);
    if (q > 0 && *out && !ef_str_utf8 (ef_str (out)))
        ef_api_errors_add (e, path, "is not valid UTF-8");
    else if (q > 0 && *out)
        *dst = ef_str (out);
    else if (q < 0)
        ef_api_errors_add (e, path, "is too long");
}

void
ef_api_query_filters (ef_http_t *h, ef_api_filters_t *f, ef_request_t *req,
                      ef_api_errors_t *e)
{
    for (size_t i = 0; i <= EF_API_WHERE; i++) {
        int q =
            ef_http_query_nth (h, "where", i, f->where[i], sizeof f->where[i]);
        if (q == 0)
            break;
        if (i == EF_API_WHERE)
            ef_api_errors_add (e, "?where", "at most 8 predicates");
        else if (q < 0)
            ef_api_errors_add (e, "?where", "is too long");
        else if (!ef_str_utf8 (ef_str (f->where[i])))
            ef_api_errors_add (e, "?where", "is not valid UTF-8");
        else
            req->where[req->n_where++] = ef_str (f->where[i]);
    }
    ef_api_query_text (h, "type", f->type, sizeof f->type, &req->type, e);
    ef_api_query_text (h, "source", f->source, sizeof f->source, &req->source,
                       e);
    if (ef_http_query (h, "status", f->status, sizeof f->status) != 0) {
        req->status = ef_str (f->status);
        if (ef_proto_event_status (req->status) < 0)
            ef_api_errors_add (e, "?status",
                               "is PENDING, PROCESSED, FILTERED or FAILED");
    }
}

int
ef_api_search_refused (ef_http_t *h, int rc, const ef_reply_t *rep)
{
    static const char *const params[] = {"where", "cursor", "page"};
    ef_str_t msg = rep ? rep->err_message : EF_STR_NULL;
    const char *param = NULL;
    for (size_t i = 0; rc == EF_EINVAL && !param && i < 3; i++)
        if (msg.len >= strlen (params[i]) &&
            memcmp (msg.ptr, params[i], strlen (params[i])) == 0)
            param = params[i];
    if (!param)
        return 0;
    char text[256], path[16];
    ef_api_errors_t e;
    snprintf (text, sizeof text, "%.*s", (int)msg.len, msg.ptr);
    snprintf (path, sizeof path, "?%s", param);
    ef_api_errors_init (&e);
    ef_api_errors_add (&e, path, text);
    return ef_api_errors_send (h, &e);
}

int
ef_api_query_time (ef_http_t *h, const char *name, uint64_t *ms,
                   ef_api_errors_t *e)
{
    char v[64], path[40];
    int q = ef_http_query (h, name, v, sizeof v);
    if (q == 0)
        return 0;
    if (q > 0 && (ef_api_decimal (v, strlen (v), ms) == 0 ||
                  ef_time_parse (v, strlen (v), ms) == 0))
        return 1;
    snprintf (path, sizeof path, "?%s", name);
    ef_api_errors_add (e, path, "must be RFC 3339 or epoch ms");
    return -1;
}

int
ef_api_json_time (json_t *root, const char *key, const char *path, uint64_t *ms,
                  ef_api_errors_t *e)
{
    json_t *v = json_object_get (root, key);
    if (!v || json_is_null (v))
        return 0;
    if (json_is_integer (v) && json_integer_value (v) >= 0) {
        *ms = (uint64_t)json_integer_value (v);
        return 1;
    }
    const char *s = json_string_value (v);
    if (s && ef_time_parse (s, strlen (s), ms) == 0)
        return 1;
    ef_api_errors_add (e, path, "must be RFC 3339 or epoch ms");
    return -1;
}

void
ef_api_errors_schema (ef_api_errors_t *e, const char *prefix,
                      const char *errors, uint32_t n, const char *message)
{
    char path[300];
    if (n == 0)
        ef_api_errors_add (e, prefix, message);
    for (uint32_t i = 0; i < n; i++) {
        const char *msg = errors + strlen (errors) + 1;
        snprintf (path, sizeof path, "%s%s", prefix, errors);
        ef_api_errors_add (e, path, msg);
        errors = msg + strlen (msg) + 1;
    }
}

/* ---------------------------------------------------------------- events */

int
ef_api_render_events (ef_http_t *h, const ef_reply_t *rep, const char *key)
{
    ef_mpr_t r;
    uint32_t n = 0;
    int rc = 0;
    if (ef_proto_reply_find (rep, key, &r) || ef_mpr_array (&r, &n))
        n = 0;
    ef_buf_append (&h->out, "[", 1);
    for (uint32_t i = 0; i < n; i++) {
        ef_event_t ev;
        if (ef_proto_read_event (&r, &ev)) {
            rc = -1;
            break;
        }
        if (i)
            ef_buf_append (&h->out, ",", 1);
        ef_event_json (&h->out, &ev, 0);
    }
    ef_buf_append (&h->out, "]", 1);
    return rc;
}

/* ---------------------------------------------------------------- checks */

int
ef_api_check_name (ef_api_errors_t *e, const char *path, const char *v)
{
    int ok = !v || ef_proto_name_valid (ef_str (v));
    if (!ok)
        ef_api_errors_add (e, path,
                           "is 1 to 128 of [A-Za-z0-9._-], not . or ..");
    return ok;
}

int
ef_api_check_role (ef_api_errors_t *e, const char *path, const char *v)
{
    int ok = !v || !strcmp (v, "admin") || !strcmp (v, "producer") ||
             !strcmp (v, "consumer");
    if (!ok)
        ef_api_errors_add (e, path, "is admin, producer or consumer");
    return ok;
}

int
ef_api_check_email (ef_api_errors_t *e, const char *path, const char *v)
{
    const char *at = v ? strchr (v, '@') : NULL;
    int ok = !v || (at && at != v && at[1] && !strchr (at + 1, '@') &&
                    strlen (v) <= 254 && !strpbrk (v, " \t\r\n"));
    if (!ok)
        ef_api_errors_add (e, path, "is not an email address");
    return ok;
}

int
ef_api_check_password (ef_api_errors_t *e, const char *path, const char *v)
{
    int ok = !v || (strlen (v) >= 8 && strlen (v) <= 1024);
    if (!ok)
        ef_api_errors_add (e, path, "is 8 to 1024 bytes");
    return ok;
}
