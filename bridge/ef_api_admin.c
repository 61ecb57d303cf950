/*  ef_api_admin.c: the routes of identities and keys: /auth (register,
    login, refresh, logout, password), /users, /producers, /api-keys. Each parses its
    JSON body, makes one broker request, and renders the answer. */
#include "ef_api_common.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_proto.h"
#include "eventflow/ef_time.h"

#include <stdio.h>
#include <string.h>

/*  Send req; on success render `key` of the reply with status. */
static int
s_call_render (ef_bridge_t *self, ef_http_t *h, ef_request_t *req,
               const char *key, int status)
{
    const ef_reply_t *rep;
    int rc = ef_bridge_call (self, h, req, &rep);
    if (rc)
        return rc;
    if (!key)
        return ef_http_send (h, status);
    if (ef_api_render (h, rep, key))
        return ef_http_problem (h, EF_EINTERNAL, "malformed broker reply", NULL,
                                0);
    return ef_http_send (h, status);
}

/* ---------------------------------------------------------------- auth */

int
ef_api_register (ef_bridge_t *self, ef_http_t *h)
{
    json_t *root;
    int rc = ef_api_body (self, h, &root);
    if (rc)
        return rc;
    ef_api_errors_t e;
    ef_api_errors_init (&e);
    ef_request_t req = {0};
    req.cmd = EF_CMD_REGISTER;
    req.client_addr = ef_str (h->client_addr);
    req.email = ef_str (ef_api_string (root, "email", 1, &e));
    req.password = ef_str (ef_api_string (root, "password", 1, &e));
    req.org_name = ef_str (ef_api_string (root, "org_name", 1, &e));
    ef_api_check_email (&e, "/email", req.email.ptr);
    ef_api_check_password (&e, "/password", req.password.ptr);
    if (req.org_name.ptr && (req.org_name.len == 0 || req.org_name.len > 128))
        ef_api_errors_add (&e, "/org_name", "is 1 to 128 bytes");
    const ef_reply_t *rep;
    if ((rc = ef_api_call (self, h, &e, &req, &rep)) == 0) {
        static const ef_api_member_t m[] = {{"user", "null"}, {"org", "null"}};
        ef_api_render_object (h, rep, m, sizeof m / sizeof *m);
        rc = ef_http_send (h, 201);
    }
    json_decref (root);
    return rc;
}

/*  The token answer of login and refresh, as the broker gave it. */
static int
s_tokens (ef_bridge_t *self, ef_http_t *h, ef_request_t *req)
{
    const ef_reply_t *rep;
    int rc = ef_bridge_call (self, h, req, &rep);
    if (rc)
        return rc;
    ef_proto_reply_json (&h->out, rep);
    return ef_http_send (h, 200);
}

int
ef_api_login (ef_bridge_t *self, ef_http_t *h)
{
    json_t *root;
    int rc = ef_api_body (self, h, &root);
    if (rc)
        return rc;
    ef_api_errors_t e;
    ef_api_errors_init (&e);
    ef_request_t req = {0};
    req.cmd = EF_CMD_LOGIN;
    req.email = ef_str (ef_api_string (root, "email", 1, &e));
    req.password = ef_str (ef_api_string (root, "password", 1, &e));
    /* the broker holds back failed logins per client address too */
    req.client_addr = ef_str (h->client_addr);
    if (e.n)
        rc = ef_api_errors_send (h, &e);
    else {
        ef_api_errors_free (&e);
        /* a login is anonymous: a stale credential must not spoil it */
        h->api_key = h->jwt = EF_STR_NULL;
        rc = s_tokens (self, h, &req);
    }
    json_decref (root);
    return rc;
}

static int
s_refresh_token_call (ef_bridge_t *self, ef_http_t *h, ef_cmd_t cmd)
{
    json_t *root;
    int rc = ef_api_body (self, h, &root);
    if (rc)
        return rc;
    ef_api_errors_t e;
    ef_api_errors_init (&e);
    ef_request_t req = {0};
    req.cmd = cmd;
    req.refresh_token = ef_str (ef_api_string (root, "refresh_token", 1, &e));
    h->api_key = h->jwt = EF_STR_NULL;
    if (e.n)
        rc = ef_api_errors_send (h, &e);
    else {
        ef_api_errors_free (&e);
        rc = cmd == EF_CMD_REFRESH ? s_tokens (self, h, &req)
                                   : s_call_render (self, h, &req, NULL, 204);
    }
    json_decref (root);
    return rc;
}

int
ef_api_password (ef_bridge_t *self, ef_http_t *h)
{
    json_t *root;
    int rc = ef_api_body (self, h, &root);
    if (rc)
        return rc;
    ef_api_errors_t e;
    ef_api_errors_init (&e);
    ef_request_t req = {0};
    req.cmd = EF_CMD_PASSWORD;
    req.password = ef_str (ef_api_string (root, "current_password", 1, &e));
    req.new_password = ef_str (ef_api_string (root, "new_password", 1, &e));
    ef_api_check_password (&e, "/new_password", req.new_password.ptr);
    if (e.n)
        rc = ef_api_errors_send (h, &e);
    else {
        ef_api_errors_free (&e);
        rc = s_call_render (self, h, &req, NULL, 204);
    }
    json_decref (root);
    return rc;
}

int
ef_api_refresh (ef_bridge_t *self, ef_http_t *h)
{
    return s_refresh_token_call (self, h, EF_CMD_REFRESH);
}

int
ef_api_logout (ef_bridge_t *self, ef_http_t *h)
{
    return s_refresh_token_call (self, h, EF_CMD_LOGOUT);
}

/* ---------------------------------------------------------------- users */

static int
s_user_write (ef_bridge_t *self, ef_http_t *h, ef_cmd_t cmd)
{
    json_t *root;
    int rc = ef_api_body (self, h, &root);
    if (rc)
        return rc;
    ef_api_errors_t e;
    ef_api_errors_init (&e);
    ef_request_t req = {0};
    req.cmd = cmd;
    int create = cmd == EF_CMD_USER_CREATE;
    if (create)
        req.email = ef_str (ef_api_string (root, "email", 1, &e));
    else
        req.user_id = ef_str (h->params[0]);
    req.password = ef_str (ef_api_string (root, "password", create, &e));
    req.role = ef_str (ef_api_string (root, "role", create, &e));
    if (create)
        ef_api_check_email (&e, "/email", req.email.ptr);
    ef_api_check_password (&e, "/password", req.password.ptr);
    ef_api_check_role (&e, "/role", req.role.ptr);
    if (e.n)
        rc = ef_api_errors_send (h, &e);
    else {
        ef_api_errors_free (&e);
        rc = s_call_render (self, h, &req, "user", create ? 201 : 200);
    }
    json_decref (root);
    return rc;
}

int
ef_api_users_create (ef_bridge_t *self, ef_http_t *h)
{
    return s_user_write (self, h, EF_CMD_USER_CREATE);
}

int
ef_api_users_update (ef_bridge_t *self, ef_http_t *h)
{
    return s_user_write (self, h, EF_CMD_USER_UPDATE);
}

/* ---------------------------------------------------------------- keys */

/*  The members every key shows last: when it was revoked, its last use
    and its requests of the last minute (the broker's memory), and the
    closing brace. */
static void
s_key_tail_json (ef_http_t *h, const ef_apikey_info_t *k)
{
    char t[40];
    if (k->revoked_at)
        ef_http_printf (h, ",\"revoked_at\":\"%s\"",
                        ef_time_format (k->revoked_at, t, sizeof t));
    else
        ef_buf_append (&h->out, ",\"revoked_at\":null", 18);
    if (k->last_used_at)
        ef_http_printf (h, ",\"last_used_at\":\"%s\"",
                        ef_time_format (k->last_used_at, t, sizeof t));
    else
        ef_buf_append (&h->out, ",\"last_used_at\":null", 20);
    ef_http_printf (h, ",\"requests_per_min\":%llu}",
                    (unsigned long long)k->requests_per_min);
}

/*  An API key as the HTTP API shows it: rate becomes rate_limit. */
static void
s_key_json (ef_http_t *h, ef_mpr_t *r, const char *secret_key, ef_str_t secret)
{
    ef_apikey_info_t k;
    char t[40];
    if (ef_proto_read_apikey (r, &k)) {
        ef_buf_append (&h->out, "null", 4);
        return;
    }
    ef_buf_append (&h->out, "{\"id\":", 6);
    ef_json_quote (&h->out, k.id.ptr, k.id.len);
    if (secret_key) {
        ef_http_printf (h, ",\"%s\":", secret_key);
        ef_json_quote (&h->out, secret.ptr, secret.len);
    }
    ef_buf_append (&h->out, ",\"name\":", 8);
    ef_json_quote (&h->out, k.name.ptr, k.name.len);
    ef_buf_append (&h->out, ",\"role\":", 8);
    ef_json_quote (&h->out, k.role.ptr, k.role.len);
    ef_buf_append (&h->out, ",\"streams\":[", 12);
    for (uint32_t i = 0; i < k.n_streams; i++) {
        if (i)
            ef_buf_append (&h->out, ",", 1);
        ef_json_quote (&h->out, k.streams[i].ptr, k.streams[i].len);
    }
    ef_http_printf (h, "],\"rate_limit\":");
    if (k.per_second)
        ef_http_printf (h, "{\"per_second\":%llu,\"burst\":%llu}",
                        (unsigned long long)k.per_second,
                        (unsigned long long)(k.burst ? k.burst : k.per_second));
    else
        ef_buf_append (&h->out, "null", 4);
    ef_http_printf (h, ",\"created_at\":\"%s\"",
                    ef_time_format (k.created_at, t, sizeof t));
    s_key_tail_json (h, &k);
}

static int
s_key_create (ef_bridge_t *self, ef_http_t *h, int producer)
{
    json_t *root;
    int rc = ef_api_body (self, h, &root);
    if (rc)
        return rc;
    ef_api_errors_t e;
    ef_api_errors_init (&e);
    ef_request_t req = {0};
    req.cmd = EF_CMD_APIKEY_CREATE;
    req.name = ef_str (ef_api_string (root, "name", 1, &e));
    if (producer) {
        req.has_producer = req.producer = 1;
        req.role = ef_str ("producer");
    } else {
        req.role = ef_str (ef_api_string (root, "role", 1, &e));
        ef_api_check_role (&e, "/role", req.role.ptr);
        json_t *streams = json_object_get (root, "streams");
        if (streams && !json_is_null (streams)) {
            size_t i;
            json_t *s;
            if (!json_is_array (streams) || json_array_size (streams) > 16)
                ef_api_errors_add (&e, "/streams",
                                   "must be an array of at most 16 names");
            else
                json_array_foreach (streams, i, s)
                {
                    if (!json_is_string (s))
                        ef_api_errors_add (&e, "/streams", "names are strings");
                    else if (ef_api_check_name (&e, "/streams",
                                                json_string_value (s)))
                        req.streams[req.n_streams++] =
                            ef_str (json_string_value (s));
                }
        }
        json_t *rl = json_object_get (root, "rate_limit");
        if (rl && !json_is_null (rl)) {
            json_t *ps = json_object_get (rl, "per_second");
            json_t *b = json_object_get (rl, "burst");
            if (!json_is_object (rl) || !json_is_integer (ps) ||
                json_integer_value (ps) < 1 ||
                json_integer_value (ps) > 1000000000 ||
                (b && (!json_is_integer (b) || json_integer_value (b) < 1 ||
                       json_integer_value (b) > 1000000000)))
                ef_api_errors_add (&e, "/rate_limit",
                                   "needs per_second (and optionally burst) "
                                   "as positive integers");
            else {
                req.has_rate = 1;
                req.rate_per_second = (uint32_t)json_integer_value (ps);
                req.rate_burst = b ? (uint32_t)json_integer_value (b) : 0;
            }
        }
    }
    if (e.n) {
        rc = ef_api_errors_send (h, &e);
        json_decref (root);
        return rc;
    }
    ef_api_errors_free (&e);
    const ef_reply_t *rep;
    rc = ef_bridge_try (self, h, &req, &rep);
    if (rc == EF_EINVAL && req.n_streams)
        /* the one field the broker checks against its store */
        rc = ef_bridge_invalid (h, "/streams",
                                "streams must name streams of this org");
    else if (rc)
        rc = ef_bridge_call_error (h, rc, rep);
    if (rc == 0) {
        ef_mpr_t r, s;
        ef_str_t secret = EF_STR_NULL;
        if (ef_proto_reply_find (rep, "api_key", &s) == 0)
            ef_mpr_str (&s, &secret);
        if (ef_proto_reply_find (rep, "key", &r))
            rc = ef_http_problem (h, EF_EINTERNAL, "malformed reply", NULL, 0);
        else if (producer) {
            ef_apikey_info_t k;
            ef_proto_read_apikey (&r, &k);
            ef_buf_append (&h->out, "{\"id\":", 6);
            ef_json_quote (&h->out, k.id.ptr, k.id.len);
            ef_buf_append (&h->out, ",\"name\":", 8);
            ef_json_quote (&h->out, k.name.ptr, k.name.len);
            ef_buf_append (&h->out, ",\"api_key\":", 11);
            ef_json_quote (&h->out, secret.ptr, secret.len);
            ef_buf_append (&h->out, "}", 1);
            rc = ef_http_send (h, 201);
        } else {
            s_key_json (h, &r, "api_key", secret);
            rc = ef_http_send (h, 201);
        }
    }
    json_decref (root);
    return rc;
}

static int
s_key_list (ef_bridge_t *self, ef_http_t *h, int producers)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_APIKEY_LIST;
    if (producers)
        req.has_producer = req.producer = 1;
    int rc = ef_bridge_call (self, h, &req, &rep);
    if (rc)
        return rc;
    ef_mpr_t r;
    uint32_t n = 0;
    if (ef_proto_reply_find (rep, "keys", &r) || ef_mpr_array (&r, &n))
        n = 0;
    ef_buf_append (&h->out, "{\"items\":[", 10);
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            ef_buf_append (&h->out, ",", 1);
        if (producers) {
            ef_apikey_info_t k;
            char t[40];
            ef_proto_read_apikey (&r, &k);
            ef_buf_append (&h->out, "{\"id\":", 6);
            ef_json_quote (&h->out, k.id.ptr, k.id.len);
            ef_buf_append (&h->out, ",\"name\":", 8);
            ef_json_quote (&h->out, k.name.ptr, k.name.len);
            ef_http_printf (h, ",\"created_at\":\"%s\"",
                            ef_time_format (k.created_at, t, sizeof t));
            s_key_tail_json (h, &k);
        } else
            s_key_json (h, &r, NULL, EF_STR_NULL);
    }
    ef_buf_append (&h->out, "]}", 2);
    return ef_http_send (h, 200);
}

int
ef_api_producers_create (ef_bridge_t *self, ef_http_t *h)
{
    return s_key_create (self, h, 1);
}

int
ef_api_producers_list (ef_bridge_t *self, ef_http_t *h)
{
    return s_key_list (self, h, 1);
}

int
ef_api_keys_create (ef_bridge_t *self, ef_http_t *h)
{
    return s_key_create (self, h, 0);
}

int
ef_api_keys_list (ef_bridge_t *self, ef_http_t *h)
{
    return s_key_list (self, h, 0);
}
