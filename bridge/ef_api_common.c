/*  ef_api_common.c: request bodies, field errors, reply rendering (see
    ef_api_common.h). */
#include "ef_api_common.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_proto.h"

#include <stdio.h>
#include <string.h>

int
ef_api_check_json (ef_http_t *h)
{
    size_t at = 0;
    const char *why = NULL;
    if (ef_json_validate (h->body, h->body_len, EF_JSON_DEPTH, &at, &why)
        == 0)
        return 0;
    int line, col;
    char extra[64], detail[160];
    ef_json_position (h->body, h->body_len, at, &line, &col);
    if (why && strcmp (why, "nesting too deep") == 0) {
        /* well-formed, but deeper than the broker stores */
        snprintf (detail, sizeof detail,
                  "JSON nested deeper than %d levels (line %d, column %d)",
                  EF_JSON_DEPTH, line, col);
        return ef_http_problem (h, 422, "VALIDATION", detail,
                                ",\"errors\":[{\"path\":\"\",\"message\":"
                                "\"nested too deep\"}]",
                                0);
    }
    snprintf (extra, sizeof extra, ",\"line\":%d,\"column\":%d", line, col);
    snprintf (detail, sizeof detail, "malformed JSON at line %d, column %d: %s",
              line, col, why ? why : "syntax error");
    return ef_http_problem (h, 400, "MALFORMED_JSON", detail, extra, 0);
}

int
ef_api_body (ef_bridge_t *self, ef_http_t *h, json_t **root)
{
    int rc = ef_http_read_json (h, self->max_body);
    if (rc)
        return rc;
    if ((rc = ef_api_check_json (h)))
        return rc;
    json_error_t err;
    *root = json_loadb (h->body, h->body_len, JSON_DECODE_ANY, &err);
    if (!*root)
        return ef_http_problem (h, 400, "MALFORMED_JSON", err.text, NULL, 0);
    if (!json_is_object (*root)) {
        json_decref (*root);
        *root = NULL;
        return ef_http_problem (h, 422, "VALIDATION",
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
    int rc = ef_http_problem (h, 422, "VALIDATION",
                              "the request has invalid fields", extra.data, 0);
    ef_buf_free (&extra);
    ef_api_errors_free (e);
    return rc;
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
ef_api_render_items (ef_http_t *h, const ef_reply_t *rep, const char *key)
{
    ef_buf_append (&h->out, "{\"items\":", 9);
    if (ef_api_render (h, rep, key))
        ef_buf_append (&h->out, "[]", 2);
    ef_buf_append (&h->out, "}", 1);
    return 0;
}

int
ef_api_check_name (ef_api_errors_t *e, const char *path, const char *v)
{
    size_t n = v ? strlen (v) : 0;
    int ok = n >= 1 && n <= 128;
    for (size_t i = 0; ok && i < n; i++)
        ok = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z')
             || (v[i] >= '0' && v[i] <= '9') || v[i] == '.' || v[i] == '_'
             || v[i] == '-';
    if (v && !ok)
        ef_api_errors_add (e, path, "is 1 to 128 of [A-Za-z0-9._-]");
    return !v || ok;
}

int
ef_api_check_role (ef_api_errors_t *e, const char *path, const char *v)
{
    int ok = !v || !strcmp (v, "admin") || !strcmp (v, "producer")
             || !strcmp (v, "consumer");
    if (!ok)
        ef_api_errors_add (e, path, "is admin, producer or consumer");
    return ok;
}

int
ef_api_check_email (ef_api_errors_t *e, const char *path, const char *v)
{
    const char *at = v ? strchr (v, '@') : NULL;
    int ok = !v || (at && at != v && at[1] && !strchr (at + 1, '@')
                    && strlen (v) <= 254 && !strpbrk (v, " \t\r\n"));
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
