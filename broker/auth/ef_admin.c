/*  ef_admin.c: the identity and key commands: registration, login,
    refresh and logout, users, API keys (producers are API keys created as
    such), CurveZMQ client keys. Checks happen on the reactor; password
    hashing on the hasher; every write inside the writer's transaction
    (the ef_wapply_fn functions below), whose reply is encoded there.
    The broker is seen through ef_admin_ctx_t only. */
#include "ef_admin.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_time.h"

#include <sodium.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

struct ef_admin {
    ef_admin_ctx_t x;
};

#define S_PASSWORD_MIN 8
#define S_PASSWORD_MAX 1024
#define S_ADDR_MAX     64 /* a client address, with its NUL */

/* ---------------------------------------------------------------- replies */

static void
s_write_user (ef_store_txn_t *txn, ef_buf_t *b, const ef_user_t *u)
{
    ef_org_t org;
    ef_user_info_t info = {0};
    info.id = ef_str (u->id);
    info.email = ef_str (u->email);
    info.role = ef_str (ef_role_name (u->role));
    info.org_id = ef_principals_org_get (txn, u->org, &org) == 0
                      ? ef_str (org.id)
                      : EF_STR_NULL;
    info.created_at = u->created_at;
    /* org is copied by ef_proto_write_user before it goes out of scope */
    ef_proto_write_user (b, &info);
}

/*  An ApiKey; its use (auth: the reactor's, NULL: none known, as on the
    writer's thread) from the broker's memory. */
static void
s_write_apikey (ef_buf_t *b, const ef_apikey_t *k, const ef_auth_t *auth)
{
    ef_apikey_info_t info = {0};
    info.id = ef_str (k->id);
    info.name = ef_str (k->name);
    info.role = ef_str (ef_role_name (k->role));
    info.producer = k->producer;
    info.n_streams = k->nstreams;
    for (uint32_t i = 0; i < k->nstreams; i++)
        info.streams[i] = ef_str (k->streams[i]);
    info.per_second = k->per_second;
    info.burst = k->burst;
    info.created_at = k->created_at;
    info.revoked_at = k->revoked_at;
    if (auth)
        ef_auth_key_use (auth, ef_str (k->id), ef_time_now_ms (),
                         &info.last_used_at, &info.requests_per_min);
    ef_proto_write_apikey (b, &info);
}

static void
s_write_clientkey (ef_buf_t *b, const ef_clientkey_t *k)
{
    ef_clientkey_info_t info = {0};
    info.public_key = ef_str (k->pub_z85);
    info.role = ef_str (ef_role_name (k->role));
    info.name = ef_str (k->name);
    info.created_at = k->created_at;
    info.revoked_at = k->revoked_at;
    ef_proto_write_clientkey (b, &info);
}

/*  The token reply of LOGIN and REFRESH. */
static int
s_write_tokens (ef_admin_t *self, ef_store_txn_t *txn, ef_wreq_t *w,
                const ef_user_t *user, const char *family, const char *refresh,
                uint64_t now)
{
    ef_org_t org;
    char access[EF_ACCESS_MAX];
    int rc = ef_principals_org_get (txn, user->org, &org);
    if (rc)
        return rc;
    if ((rc = ef_auth_access_token (self->x.auth, user, &org, family, now,
                                    access)))
        return rc == EF_ENOMEM ? rc : EF_EINTERNAL;
    ef_proto_reply_ok (&w->reply, w->req.id, 5);
    ef_mp_key (&w->reply, "access_token");
    ef_mp_cstr (&w->reply, access);
    ef_mp_key (&w->reply, "refresh_token");
    ef_mp_cstr (&w->reply, refresh);
    ef_mp_key (&w->reply, "expires_in");
    ef_mp_uint (&w->reply, EF_ACCESS_TTL_S);
    ef_mp_key (&w->reply, "token_type");
    ef_mp_cstr (&w->reply, "Bearer");
    ef_mp_key (&w->reply, "user");
    s_write_user (txn, &w->reply, user);
    sodium_memzero (access, sizeof access);
    return 0;
}

static int
s_refuse (ef_wreq_t *w, int code, const char *why)
{
    w->status = code;
    w->why = why;
    return 0; /* a refusal, not a store failure: the group goes on */
}

/*  Queues the request's write: the writer calls apply in its txn. */
static int
s_write (ef_admin_t *self, ef_wreq_t *w, ef_wapply_fn *apply)
{
    w->apply = apply;
    w->apply_ctx = self;
    return 0;
}

/*  The end of a revoke or delete: rc from the store, "missing" the
    refusal for EF_ENOTFOUND, an empty ok reply on success. */
static int
s_done (ef_wreq_t *w, int rc, const char *missing)
{
    if (rc == EF_ENOTFOUND)
        return s_refuse (w, EF_ENOTFOUND, missing);
    if (rc)
        return rc;
    ef_proto_reply_ok (&w->reply, w->req.id, 0);
    return 0;
}

static int
s_password_ok (ef_str_t pw, const char **why)
{
    if (pw.len < S_PASSWORD_MIN || pw.len > S_PASSWORD_MAX) {
        *why = "passwords are 8 to 1024 bytes";
        return 0;
    }
    return 1;
}

/*  The address a request's password check counts against, into
    out[S_ADDR_MAX]: the HTTP client's as the gateway passes it
    (client_addr, which only the gateway may set), else the peer's own
    TCP address. "" for the gateway's requests without one: they would
    all share the bridge's address. 0 or EF_EINVAL. */
static int
s_client_addr (ef_admin_t *self, ef_wreq_t *w, char *out, const char **why)
{
    const char *peer = zmq_msg_gets (&w->frame, "User-Id");
    int gateway = ef_auth_is_gateway_peer (self->x.auth, peer);
    ef_str_t a = w->req.client_addr;
    out[0] = 0;
    if (ef_str_set (a)) {
        /* with curve off every local peer is trusted alike */
        if (self->x.curve && !gateway) {
            *why = "only the gateway may set client_addr";
            return EF_EINVAL;
        }
        if (a.len == 0 || a.len >= S_ADDR_MAX || memchr (a.ptr, 0, a.len)) {
            *why = "client_addr is 1 to 63 bytes";
            return EF_EINVAL;
        }
        memcpy (out, a.ptr, a.len);
        out[a.len] = 0;
        return 0;
    }
    const char *pa = gateway ? NULL : zmq_msg_gets (&w->frame, "Peer-Address");
    if (pa)
        snprintf (out, S_ADDR_MAX, "%s", pa);
    return 0;
}

/*  The hasher's queue for a request with no org yet: its address's. */
static uint64_t
s_addr_queue (const char *addr)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *addr; addr++)
        h = (h ^ (uint8_t)*addr) * 1099511628211ull;
    return h | (1ull << 63); /* never an org number */
}

/* ---------------------------------------------------------------- register */

static int
s_apply_register (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w, uint64_t now)
{
    (void)ctx;
    ef_user_t user;
    ef_org_t org;
    ef_stream_rec_t stream;
    /* checked first so that a refusal writes nothing */
    if (ef_principals_user_by_email (txn, w->req.email, &user) == 0)
        return s_refuse (w, EF_EEXISTS, "that email is registered");
    int rc = ef_principals_org_create (txn, w->req.org_name, now, &org);
    if (rc == 0)
        rc = ef_store_stream_create (txn, org.num, ef_str ("default"), now,
                                     &stream);
    if (rc == 0)
        rc = ef_principals_user_create (txn, org.num, w->req.email,
                                        EF_ROLE_ADMIN, w->pwhash, now, &user);
    if (rc)
        return rc;
    ef_proto_reply_ok (&w->reply, w->req.id, 2);
    ef_mp_key (&w->reply, "user");
    s_write_user (txn, &w->reply, &user);
    ef_mp_key (&w->reply, "org");
    ef_mp_map (&w->reply, 2);
    ef_mp_key (&w->reply, "id");
    ef_mp_cstr (&w->reply, org.id);
    ef_mp_key (&w->reply, "name");
    ef_mp_cstr (&w->reply, org.name);
    return 0;
}

int
ef_admin_register (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    ef_user_t user;
    if (!ef_auth_register_allowed (self->x.auth)) {
        *why = "registration is disabled on this broker";
        return EF_EFORBIDDEN;
    }
    if (!ef_principals_email_valid (w->req.email)) {
        *why = "email is not valid";
        return EF_EINVAL;
    }
    if (!s_password_ok (w->req.password, why))
        return EF_EINVAL;
    if (!ef_str_set (w->req.org_name) || w->req.org_name.len == 0 ||
        w->req.org_name.len > EF_NAME_MAX) {
        *why = "org_name is 1 to 128 bytes";
        return EF_EINVAL;
    }
    if (ef_principals_user_by_email (self->x.reader, w->req.email, &user) ==
        0) {
        *why = "that email is registered";
        return EF_EEXISTS;
    }
    char addr[S_ADDR_MAX];
    int rc = s_client_addr (self, w, addr, why);
    if (rc)
        return rc;
    w->hash_op = EF_HASH_MAKE;
    w->hash_queue = s_addr_queue (addr);
    return 0;
}

int
ef_admin_register_hashed (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    (void)why;
    return s_write (self, w, s_apply_register);
}

/* ---------------------------------------------------------------- login */

static int
s_apply_login (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w, uint64_t now)
{
    ef_admin_t *self = ctx;
    ef_user_t user;
    ef_family_t fam;
    char refresh[EF_REFRESH_TOKEN_MAX];
    /* deleted, or its password changed, since the password was checked? */
    if (ef_principals_user_get (txn, ef_str (w->user.id), &user) ||
        strcmp (user.pwhash, w->user.pwhash) != 0)
        return s_refuse (w, EF_EAUTH, "authentication failed");
    int rc = ef_principals_family_create (txn, &user, now, &fam, refresh);
    if (rc == 0)
        rc = s_write_tokens (self, txn, w, &user, fam.id, refresh, now);
    sodium_memzero (refresh, sizeof refresh);
    return rc;
}

int
ef_admin_login (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    char addr[S_ADDR_MAX];
    uint64_t wait = 0;
    int rc = s_client_addr (self, w, addr, why);
    if (rc)
        return rc;
    /* held back: not even checked, so a right password waits too */
    if (ef_auth_login_check (self->x.auth, w->req.email, addr,
                             (uint64_t)ef_time_mono_ms (), &wait)) {
        ef_buf_reset (self->x.out);
        ef_proto_reply_error (self->x.out, w->req.id, EF_ERATE,
                              "too many failed logins; retry later", wait);
        return EF_ERATE;
    }
    /* the same work whether or not the email exists */
    if (ef_principals_user_by_email (self->x.reader, w->req.email, &w->user))
        memset (&w->user, 0, sizeof w->user);
    snprintf (w->pwhash, sizeof w->pwhash, "%s",
              w->user.id[0] ? w->user.pwhash
                            : ef_auth_dummy_hash (self->x.auth));
    w->hash_op = EF_HASH_VERIFY;
    /* one org's burst waits in its own queue, not in front of others */
    w->hash_queue = w->user.id[0] ? w->user.org : s_addr_queue (addr);
    return 0;
}

int
ef_admin_login_verified (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    if (!w->pw_ok || !w->user.id[0]) {
        char addr[S_ADDR_MAX];
        if (s_client_addr (self, w, addr, why) == 0)
            ef_auth_login_failed (self->x.auth, w->req.email, addr,
                                  (uint64_t)ef_time_mono_ms ());
        ef_log_info (self->x.log, "authentication failed",
                     "\"credential\":\"password\",\"cause\":\"%s\","
                     "\"email\":\"%.*s\",\"request_id\":\"%.*s\"",
                     w->user.id[0] ? "wrong password" : "unknown email",
                     (int)w->req.email.len,
                     w->req.email.ptr ? w->req.email.ptr : "",
                     (int)w->req.request_id.len,
                     w->req.request_id.ptr ? w->req.request_id.ptr : "");
        *why = "authentication failed";
        return EF_EAUTH;
    }
    ef_auth_login_passed (self->x.auth, w->req.email);
    return s_write (self, w, s_apply_login);
}

static int
s_apply_refresh (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w, uint64_t now)
{
    ef_admin_t *self = ctx;
    ef_family_t fam;
    ef_user_t user;
    char refresh[EF_REFRESH_TOKEN_MAX];
    int rc = ef_principals_family_rotate (txn, w->req.refresh_token, now, &fam,
                                          refresh);
    if (rc == EF_EAUTH) { /* a reuse was written down: commit it */
        ef_log_info (
            self->x.log, "authentication failed",
            "\"credential\":\"refresh_token\",\"cause\":\"unknown, "
            "expired or reused refresh token\",\"request_id\":\"%.*s\"",
            (int)w->req.request_id.len,
            w->req.request_id.ptr ? w->req.request_id.ptr : "");
        return s_refuse (w, EF_EAUTH, "authentication failed");
    }
    if (rc)
        return rc;
    if (ef_principals_user_get (txn, ef_str (fam.user), &user))
        return s_refuse (w, EF_EAUTH, "authentication failed");
    rc = s_write_tokens (self, txn, w, &user, fam.id, refresh, now);
    sodium_memzero (refresh, sizeof refresh);
    return rc;
}

int
ef_admin_refresh (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    (void)why;
    return s_write (self, w, s_apply_refresh);
}


static int
s_apply_logout (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w, uint64_t now)
{
    ef_admin_t *self = ctx;
    int rc = ef_principals_family_revoke (txn, w->req.refresh_token, now);
    if (rc == EF_EAUTH) {
        ef_log_info (self->x.log, "authentication failed",
                     "\"credential\":\"refresh_token\",\"cause\":\"unknown "
                     "refresh token (logout)\",\"request_id\":\"%.*s\"",
                     (int)w->req.request_id.len,
                     w->req.request_id.ptr ? w->req.request_id.ptr : "");
        return s_refuse (w, EF_EAUTH, "authentication failed");
    }
    if (rc)
        return rc;
    ef_proto_reply_ok (&w->reply, w->req.id, 0);
    return 0;
}

int
ef_admin_logout (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    (void)why;
    return s_write (self, w, s_apply_logout);
}


int
ef_admin_whoami (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    (void)why;
    static const char *kinds[] = {"none", "api_key", "user", "client_key"};
    ef_org_t org;
    int have_org =
        ef_principals_org_get (self->x.reader, w->who.org, &org) == 0;
    ef_proto_reply_ok (self->x.out, w->req.id, 1);
    ef_mp_key (self->x.out, "principal");
    ef_mp_map (self->x.out, 4);
    ef_mp_key (self->x.out, "kind");
    ef_mp_cstr (self->x.out, kinds[w->who.kind]);
    ef_mp_key (self->x.out, "id");
    ef_mp_cstr (self->x.out, w->who.id);
    ef_mp_key (self->x.out, "org_id");
    ef_mp_cstr (self->x.out, have_org ? org.id : NULL);
    ef_mp_key (self->x.out, "role");
    ef_mp_cstr (self->x.out, ef_role_name (w->who.role));
    return 0;
}

/* ---------------------------------------------------------------- password */

static int
s_apply_password (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w, uint64_t now)
{
    (void)ctx;
    ef_user_t u;
    int rc = ef_principals_user_get (txn, ef_str (w->user.id), &u);
    if (rc == EF_ENOTFOUND)
        return s_refuse (w, EF_EAUTH, "authentication failed");
    if (rc)
        return rc;
    /* w->user holds the hash the current password was checked against */
    if (strcmp (u.pwhash, w->user.pwhash) != 0)
        return s_refuse (w, EF_ECONFLICT,
                         "the password changed meanwhile; try again");
    snprintf (u.pwhash, sizeof u.pwhash, "%s", w->pwhash);
    u.tokens_after = now; /* every session, this one too, ends here */
    if ((rc = ef_principals_user_put (txn, &u)))
        return rc;
    ef_proto_reply_ok (&w->reply, w->req.id, 0);
    return 0;
}

int
ef_admin_password (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    if (w->who.kind != EF_WHO_USER ||
        ef_principals_user_get (self->x.reader, ef_str (w->who.id), &w->user)) {
        *why = "only a signed-in user changes a password";
        return EF_EFORBIDDEN;
    }
    if (!s_password_ok (w->req.new_password, why))
        return EF_EINVAL;
    if (w->req.password.len > S_PASSWORD_MAX) {
        *why = "passwords are 8 to 1024 bytes";
        return EF_EINVAL;
    }
    /* a wrong current password counts as a failed login of this email */
    uint64_t wait = 0;
    if (ef_auth_login_check (self->x.auth, ef_str (w->user.email), "",
                             (uint64_t)ef_time_mono_ms (), &wait)) {
        ef_buf_reset (self->x.out);
        ef_proto_reply_error (self->x.out, w->req.id, EF_ERATE,
                              "too many failed logins; retry later", wait);
        return EF_ERATE;
    }
    snprintf (w->pwhash, sizeof w->pwhash, "%s", w->user.pwhash);
    w->hash_op = EF_HASH_CHANGE;
    w->hash_queue = w->org;
    return 0;
}

int
ef_admin_password_hashed (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    if (!w->pw_ok) {
        ef_auth_login_failed (self->x.auth, ef_str (w->user.email), "",
                              (uint64_t)ef_time_mono_ms ());
        *why = "authentication failed";
        return EF_EAUTH;
    }
    return s_write (self, w, s_apply_password);
}

/* ---------------------------------------------------------------- quotas */

static int
s_count_user (void *arg, const ef_user_t *u)
{
    (void)u;
    (*(uint64_t *)arg)++;
    return 0;
}

static int
s_count_live_key (void *arg, const ef_apikey_t *k)
{
    *(uint64_t *)arg += !k->revoked_at;
    return 0;
}

/*  Inside the write txn, so that requests of one group count each other:
    1 when org already has quota `which` of users or live API keys. */
static int
s_over_quota (ef_admin_t *self, ef_store_txn_t *txn, uint32_t org,
              ef_quota_t which, int *over)
{
    uint64_t q = ef_auth_quota (self->x.auth, which), n = 0;
    int rc = 0;
    *over = 0;
    if (!q)
        return 0;
    if (which == EF_QUOTA_USERS)
        rc = ef_principals_user_each (txn, org, s_count_user, &n);
    else
        rc = ef_principals_apikey_each (txn, org, s_count_live_key, &n);
    *over = rc == 0 && n >= q;
    return rc;
}

/* ---------------------------------------------------------------- users */

static int
s_apply_user_create (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w, uint64_t now)
{
    ef_user_t user;
    int over;
    int rc = s_over_quota (ctx, txn, w->org, EF_QUOTA_USERS, &over);
    if (rc)
        return rc;
    if (over)
        return s_refuse (w, EF_EQUOTA, "the org's users quota is reached");
    rc = ef_principals_user_create (txn, w->org, w->req.email,
                                    ef_role_parse (w->req.role), w->pwhash, now,
                                    &user);
    if (rc == EF_EEXISTS)
        return s_refuse (w, EF_EEXISTS, "that email is registered");
    if (rc)
        return rc;
    ef_proto_reply_ok (&w->reply, w->req.id, 1);
    ef_mp_key (&w->reply, "user");
    s_write_user (txn, &w->reply, &user);
    return 0;
}

int
ef_admin_user_create (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    ef_user_t user;
    if (!ef_principals_email_valid (w->req.email)) {
        *why = "email is not valid";
        return EF_EINVAL;
    }
    if (!s_password_ok (w->req.password, why))
        return EF_EINVAL;
    if (ef_role_parse (w->req.role) == EF_ROLE_NONE) {
        *why = "role is admin, producer or consumer";
        return EF_EINVAL;
    }
    if (ef_principals_user_by_email (self->x.reader, w->req.email, &user) ==
        0) {
        *why = "that email is registered";
        return EF_EEXISTS;
    }
    w->hash_op = EF_HASH_MAKE;
    w->hash_queue = w->org;
    return 0;
}

int
ef_admin_user_create_hashed (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    (void)why;
    return s_write (self, w, s_apply_user_create);
}

/*  A list reply built in a scratch buffer by an each-walk. */
typedef struct {
    ef_store_txn_t *txn;
    ef_buf_t tmp;
    uint32_t n;
    int only_producers;    /* API keys: skip the others */
    const ef_auth_t *auth; /* API keys: their use */
} s_list_t;

static int
s_list_user (void *arg, const ef_user_t *u)
{
    s_list_t *l = arg;
    s_write_user (l->txn, &l->tmp, u);
    l->n++;
    return 0;
}

/*  Reply {key: [items]} from the list, rc the walk's result (no reply
    when it failed). */
static int
s_reply_list (ef_admin_t *self, ef_wreq_t *w, const char *key, s_list_t *l,
              int rc)
{
    if (rc == 0) {
        ef_proto_reply_ok (self->x.out, w->req.id, 1);
        ef_mp_key (self->x.out, key);
        ef_mp_array (self->x.out, l->n);
        ef_buf_append (self->x.out, l->tmp.data, l->tmp.len);
    }
    ef_buf_free (&l->tmp);
    return rc;
}

int
ef_admin_user_list (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    (void)why;
    s_list_t l = {self->x.reader};
    ef_buf_init (&l.tmp);
    int rc = ef_principals_user_each (self->x.reader, w->org, s_list_user, &l);
    return s_reply_list (self, w, "users", &l, rc);
}

/*  A user of the caller's org by id (another org's answers NOT_FOUND). */
static int
s_find_user (ef_store_txn_t *txn, ef_wreq_t *w, ef_user_t *u)
{
    int rc = ef_principals_user_get (txn, w->req.user_id, u);
    if (rc == 0 && u->org != w->org)
        rc = EF_ENOTFOUND;
    return rc;
}

int
ef_admin_user_get (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    ef_user_t u;
    int rc = s_find_user (self->x.reader, w, &u);
    if (rc) {
        *why = "no such user";
        return rc;
    }
    ef_proto_reply_ok (self->x.out, w->req.id, 1);
    ef_mp_key (self->x.out, "user");
    s_write_user (self->x.reader, self->x.out, &u);
    return 0;
}

static int
s_apply_user_update (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w, uint64_t now)
{
    (void)ctx;
    ef_user_t u;
    int rc = s_find_user (txn, w, &u);
    if (rc == EF_ENOTFOUND)
        return s_refuse (w, EF_ENOTFOUND, "no such user");
    if (rc)
        return rc;
    if (ef_str_set (w->req.role))
        u.role = ef_role_parse (w->req.role);
    if (w->pwhash[0]) {
        /* a new password ends every session made with the old one */
        snprintf (u.pwhash, sizeof u.pwhash, "%s", w->pwhash);
        u.tokens_after = now;
    }
    if ((rc = ef_principals_user_put (txn, &u)))
        return rc;
    ef_proto_reply_ok (&w->reply, w->req.id, 1);
    ef_mp_key (&w->reply, "user");
    s_write_user (txn, &w->reply, &u);
    return 0;
}

int
ef_admin_user_update (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    ef_user_t u;
    if (ef_str_set (w->req.role) &&
        ef_role_parse (w->req.role) == EF_ROLE_NONE) {
        *why = "role is admin, producer or consumer";
        return EF_EINVAL;
    }
    if (s_find_user (self->x.reader, w, &u)) {
        *why = "no such user";
        return EF_ENOTFOUND;
    }
    if (ef_str_set (w->req.password)) {
        if (!s_password_ok (w->req.password, why))
            return EF_EINVAL;
        w->hash_op = EF_HASH_MAKE;
        w->hash_queue = w->org;
        return 0;
    }
    return s_write (self, w, s_apply_user_update);
}

int
ef_admin_user_update_hashed (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    (void)why;
    return s_write (self, w, s_apply_user_update);
}

static int
s_apply_user_delete (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w, uint64_t now)
{
    (void)ctx;
    (void)now;
    ef_user_t u;
    int rc = s_find_user (txn, w, &u);
    if (rc == EF_ENOTFOUND)
        return s_refuse (w, EF_ENOTFOUND, "no such user");
    if (rc || (rc = ef_principals_user_delete (txn, &u)))
        return rc;
    ef_proto_reply_ok (&w->reply, w->req.id, 0);
    return 0;
}

int
ef_admin_user_delete (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    (void)why;
    return s_write (self, w, s_apply_user_delete);
}


/* ---------------------------------------------------------------- api keys */

static int
s_apply_apikey_create (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w,
                       uint64_t now)
{
    ef_apikey_t k;
    char secret[128];
    int over;
    int rc = s_over_quota (ctx, txn, w->org, EF_QUOTA_API_KEYS, &over);
    if (rc)
        return rc;
    if (over)
        return s_refuse (w, EF_EQUOTA, "the org's API keys quota is reached");
    memset (&k, 0, sizeof k);
    k.org = w->org;
    memcpy (k.name, w->req.name.ptr, w->req.name.len);
    k.producer = w->req.has_producer && w->req.producer;
    k.role = ef_str_set (w->req.role) ? ef_role_parse (w->req.role)
                                      : EF_ROLE_PRODUCER;
    k.nstreams = w->req.n_streams;
    for (uint32_t i = 0; i < k.nstreams; i++)
        memcpy (k.streams[i], w->req.streams[i].ptr, w->req.streams[i].len);
    if (w->req.has_rate) {
        k.per_second = w->req.rate_per_second;
        k.burst = w->req.rate_burst;
    }
    rc = ef_principals_apikey_create (txn, &k, now, secret);
    if (rc)
        return rc;
    ef_proto_reply_ok (&w->reply, w->req.id, 2);
    ef_mp_key (&w->reply, "key");
    s_write_apikey (&w->reply, &k, NULL);
    ef_mp_key (&w->reply, "api_key");
    ef_mp_cstr (&w->reply, secret);
    sodium_memzero (secret, sizeof secret);
    return 0;
}

int
ef_admin_apikey_create (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    if (w->req.name.len == 0 || w->req.name.len > EF_NAME_MAX) {
        *why = "name is 1 to 128 bytes";
        return EF_EINVAL;
    }
    if (ef_str_set (w->req.role) &&
        ef_role_parse (w->req.role) == EF_ROLE_NONE) {
        *why = "role is admin, producer or consumer";
        return EF_EINVAL;
    }
    for (uint32_t i = 0; i < w->req.n_streams; i++) {
        ef_stream_rec_t s;
        if (ef_store_stream_find (self->x.reader, w->org, w->req.streams[i],
                                  &s)) {
            *why = "streams must name streams of this org";
            return EF_EINVAL;
        }
        /* keep the name, whichever of id or name was given */
        w->req.streams[i] = (ef_str_t){NULL, 0};
        ef_buf_append (&w->records, s.name, strlen (s.name) + 1);
    }
    /* the names now live in records, NUL-separated */
    const char *p = w->records.data;
    for (uint32_t i = 0; i < w->req.n_streams; i++) {
        w->req.streams[i] = ef_str (p);
        p += strlen (p) + 1;
    }
    if (w->records.oom)
        return EF_ENOMEM;
    if (w->req.has_rate && w->req.rate_per_second == 0) {
        *why = "rate.per_second must be at least 1";
        return EF_EINVAL;
    }
    return s_write (self, w, s_apply_apikey_create);
}

static int
s_list_apikey (void *arg, const ef_apikey_t *k)
{
    s_list_t *l = arg;
    if (l->only_producers && !k->producer)
        return 0;
    s_write_apikey (&l->tmp, k, l->auth);
    l->n++;
    return 0;
}

int
ef_admin_apikey_list (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    (void)why;
    s_list_t l = {self->x.reader};
    ef_buf_init (&l.tmp);
    l.only_producers = w->req.has_producer && w->req.producer;
    l.auth = self->x.auth;
    int rc =
        ef_principals_apikey_each (self->x.reader, w->org, s_list_apikey, &l);
    return s_reply_list (self, w, "keys", &l, rc);
}

static int
s_apply_apikey_revoke (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w,
                       uint64_t now)
{
    (void)ctx;
    return s_done (
        w, ef_principals_apikey_revoke (txn, w->org, w->req.key_id, now),
        "no such key");
}

int
ef_admin_apikey_revoke (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    (void)why;
    return s_write (self, w, s_apply_apikey_revoke);
}


/* ---------------------------------------------------------------- client keys */

static int
s_apply_clientkey_add (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w,
                       uint64_t now)
{
    (void)ctx;
    ef_clientkey_t k;
    int rc = ef_principals_clientkey_add (txn, w->req.public_key, w->org,
                                          ef_role_parse (w->req.role),
                                          w->req.name, now, &k);
    if (rc == EF_EEXISTS)
        return s_refuse (w, EF_EEXISTS, "that key is registered");
    if (rc == EF_EINVAL)
        return s_refuse (w, EF_EINVAL, "public_key is not a Z85 key");
    if (rc)
        return rc;
    ef_proto_reply_ok (&w->reply, w->req.id, 1);
    ef_mp_key (&w->reply, "client_key");
    s_write_clientkey (&w->reply, &k);
    return 0;
}

int
ef_admin_clientkey_add (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    if (w->req.public_key.len != EF_Z85_KEY_LEN) {
        *why = "public_key is 40 characters of Z85";
        return EF_EINVAL;
    }
    if (ef_role_parse (w->req.role) == EF_ROLE_NONE) {
        *why = "role is admin, producer or consumer";
        return EF_EINVAL;
    }
    if (ef_str_set (w->req.name) && w->req.name.len > EF_NAME_MAX) {
        *why = "name is at most 128 bytes";
        return EF_EINVAL;
    }
    /* an admin registers keys in its own org only */
    ef_org_t org;
    if (ef_principals_org_get (self->x.reader, w->org, &org) ||
        (ef_str_set (w->req.org) && !ef_str_eq (w->req.org, org.id) &&
         !ef_str_eq (w->req.org, org.name))) {
        *why = "no such org";
        return EF_ENOTFOUND;
    }
    /* a public key alone claims nothing: its holder proves it for this org */
    int rc = ef_auth_clientkey_check (self->x.auth, w->req.public_key, org.id,
                                      w->req.proof, why);
    if (rc)
        return rc;
    return s_write (self, w, s_apply_clientkey_add);
}

static int
s_list_clientkey (void *arg, const ef_clientkey_t *k)
{
    s_list_t *l = arg;
    s_write_clientkey (&l->tmp, k);
    l->n++;
    return 0;
}

int
ef_admin_clientkey_list (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    (void)why;
    s_list_t l = {self->x.reader};
    ef_buf_init (&l.tmp);
    int rc = ef_principals_clientkey_each (self->x.reader, w->org,
                                           s_list_clientkey, &l);
    return s_reply_list (self, w, "client_keys", &l, rc);
}

static int
s_apply_clientkey_revoke (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w,
                          uint64_t now)
{
    (void)ctx;
    return s_done (
        w, ef_principals_clientkey_revoke (txn, w->org, w->req.public_key, now),
        "no such key");
}

int
ef_admin_clientkey_revoke (ef_admin_t *self, ef_wreq_t *w, const char **why)
{
    (void)why;
    return s_write (self, w, s_apply_clientkey_revoke);
}


ef_admin_t *
ef_admin_new (const ef_admin_ctx_t *ctx)
{
    ef_admin_t *self = calloc (1, sizeof *self);
    if (self)
        self->x = *ctx;
    return self;
}

void
ef_admin_destroy (ef_admin_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}
