/*  ef_admin.h: the identity and key commands: REGISTER, LOGIN, REFRESH,
    LOGOUT, WHOAMI, PASSWORD, users, API keys, CurveZMQ client keys. It
    keeps no state of its own; the object is its context: the reactor's
    store snapshot, where a reply is written, the authentication state
    (tokens, login throttle, quotas), the log, and whether CurveZMQ is on.
    A handler runs on the reactor with the snapshot begun; a password goes
    to the hasher (w->hash_op), then to the command's `_hashed` or
    `_verified` step; a write goes to the writer (w->apply).
    Thread-safety: handlers on the reactor; their ef_wapply_fn steps on
    the writer's thread, which reads the context too. */
#ifndef EF_ADMIN_H
#define EF_ADMIN_H

#include "ef_auth.h"
#include "ef_wreq.h"
#include "eventflow/ef_log.h"

typedef struct ef_admin ef_admin_t;

typedef struct {
    ef_store_txn_t *reader; /* the reactor's snapshot */
    ef_buf_t *out;          /* a handler's reply goes here */
    ef_auth_t *auth;
    ef_log_t *log;
    int curve; /* CurveZMQ is on: only the gateway says
                               client_addr */
} ef_admin_ctx_t;

/*  Over ctx (copied; what it points to is borrowed). Destroy it after the
    writer has stopped: its write steps use it. */
ef_admin_t *ef_admin_new (const ef_admin_ctx_t *ctx);
void ef_admin_destroy (ef_admin_t **self_p);

/*  The handlers: the reply into ctx->out, or the next stage set on w; an
    error code with *why naming the cause. */
int ef_admin_register (ef_admin_t *self, ef_wreq_t *w, const char **why);
int ef_admin_register_hashed (ef_admin_t *self, ef_wreq_t *w, const char **why);
int ef_admin_login (ef_admin_t *self, ef_wreq_t *w, const char **why);
int ef_admin_login_verified (ef_admin_t *self, ef_wreq_t *w, const char **why);
int ef_admin_refresh (ef_admin_t *self, ef_wreq_t *w, const char **why);
int ef_admin_logout (ef_admin_t *self, ef_wreq_t *w, const char **why);
int ef_admin_whoami (ef_admin_t *self, ef_wreq_t *w, const char **why);
int ef_admin_password (ef_admin_t *self, ef_wreq_t *w, const char **why);
int ef_admin_password_hashed (ef_admin_t *self, ef_wreq_t *w, const char **why);
int ef_admin_user_create (ef_admin_t *self, ef_wreq_t *w, const char **why);
int ef_admin_user_create_hashed (ef_admin_t *self, ef_wreq_t *w,
                                 const char **why);
int ef_admin_user_list (ef_admin_t *self, ef_wreq_t *w, const char **why);
int ef_admin_user_get (ef_admin_t *self, ef_wreq_t *w, const char **why);
int ef_admin_user_update (ef_admin_t *self, ef_wreq_t *w, const char **why);
int ef_admin_user_update_hashed (ef_admin_t *self, ef_wreq_t *w,
                                 const char **why);
int ef_admin_user_delete (ef_admin_t *self, ef_wreq_t *w, const char **why);
int ef_admin_apikey_create (ef_admin_t *self, ef_wreq_t *w, const char **why);
int ef_admin_apikey_list (ef_admin_t *self, ef_wreq_t *w, const char **why);
int ef_admin_apikey_revoke (ef_admin_t *self, ef_wreq_t *w, const char **why);
int ef_admin_clientkey_add (ef_admin_t *self, ef_wreq_t *w, const char **why);
int ef_admin_clientkey_list (ef_admin_t *self, ef_wreq_t *w, const char **why);
int ef_admin_clientkey_revoke (ef_admin_t *self, ef_wreq_t *w,
                               const char **why);

#endif
