/*  ef_auth.h: how the broker knows who is asking. It owns the broker's
    keys in the data dir (its CurveZMQ key pair, the gateway's and the
    local admin's certificates, the JWT key), creates the first org and
    admin on an empty store, admits CurveZMQ peers (the ZAP check), turns
    each request's credential into a principal (ef_who_t), issues access
    tokens, applies per-key rate limits, keeps each API key's recent use
    and holds back failed logins. Failed authentication is one
    uniform EF_EAUTH whatever the cause.
    Thread-safety: ef_auth_zap_check runs on the ZAP thread with its own
    store reader; everything else on the reactor. */
#ifndef EF_AUTH_H
#define EF_AUTH_H

#include <stdint.h>
#include "eventflow/ef_cert.h"
#include "eventflow/ef_config.h"
#include "eventflow/ef_log.h"
#include "eventflow/ef_proto.h"
#include "ef_store.h"
#include "ef_wreq.h"

#define EF_ACCESS_TTL_S 900 /* access tokens live 15 minutes */
#define EF_ACCESS_MAX   1024

typedef struct ef_auth ef_auth_t;

ef_auth_t *ef_auth_new (ef_store_t *store, const ef_config_t *cfg,
                        ef_log_t *log);
void ef_auth_destroy (ef_auth_t **self_p);
/*  Load or create the key files in dir, and on an empty store create org
    "default" with its stream "default", an admin user with a random
    password (printed once, kept in dir/initial-admin, mode 0600) and the
    local admin's CurveZMQ key. Run before the writer starts: it writes
    with its own transaction. 0 or an error (logged). */
int ef_auth_open (ef_auth_t *self, const char *dir);
/*  The broker's CurveZMQ key pair. */
const ef_cert_t *ef_auth_server_cert (const ef_auth_t *self);

/*  May pub_z85 be registered as a client key of the org whose id is
    org_id? Not the broker's or the gateway's own key (EF_EFORBIDDEN),
    and only with proof (ef_cert_proof) that the registrant holds its
    secret key (EF_EINVAL when missing, EF_EFORBIDDEN when it does not
    hold). 0 when it may; *why says why not. */
int ef_auth_clientkey_check (const ef_auth_t *self, ef_str_t pub_z85,
                             const char *org_id, ef_str_t proof,
                             const char **why);

/*  ZAP: admit the gateway key and live registered client keys. */
int ef_auth_zap_check (void *self, const uint8_t pub[32], char user_id[64]);

/*  The principal of a request: from its credential (auth.api_key or
    auth.jwt) when it carries one, else from the peer's ZAP User-Id (a
    registered client key), else anonymous (who->role EF_ROLE_NONE).
    0, or EF_EAUTH for a credential that does not hold. */
int ef_auth_resolve (ef_auth_t *self, ef_store_txn_t *txn, const char *peer,
                     const ef_request_t *req, ef_who_t *who);
/*  Whether who sees broker-wide figures (every org's): the gateway acting
    for nobody (the bridge's /metrics) and the local admin key of the data
    dir (whoever holds it holds the store). 1 or 0. */
int ef_auth_is_operator (const ef_auth_t *self, const ef_who_t *who);
/*  Take a token from an API key's bucket. 0 or EF_ERATE with the wait. */
int ef_auth_rate (ef_auth_t *self, const ef_who_t *who, uint64_t now_ms,
                  uint64_t *retry_after_ms);
/*  An API key's use as this broker has seen it since it started, kept in
    its memory (ef_keyuse.h): the last request the key authenticated
    (*last_ms, 0 when none) and how many it authenticated in the 60 s up
    to now_ms (*per_min). */
void ef_auth_key_use (const ef_auth_t *self, ef_str_t key_id, uint64_t now_ms,
                      uint64_t *last_ms, uint64_t *per_min);
/*  A revoked key's use is forgotten. */
void ef_auth_key_forget (ef_auth_t *self, ef_str_t key_id);
/*  A signed access token for user in family, into out[EF_ACCESS_MAX]. */
int ef_auth_access_token (ef_auth_t *self, const ef_user_t *user,
                          const ef_org_t *org, const char *family,
                          uint64_t now_ms, char *out);
/*  Rotate the JWT signing key (ef_jwt.h, key set): a new key signs from
    now on, the previous one verifies for EF_ACCESS_TTL_S more (the
    longest life of an access token; refresh tokens are opaque strings in
    the store, not signed with it). kid (16 bytes) receives the new key's
    id. 0, EF_ECONFLICT (too many keys still verify), EF_ESTORE. */
int ef_auth_rotate_jwt_key (ef_auth_t *self, uint64_t now_ms, char kid[16]);
/*  The gateway key (GATEWAY_KEY_NEW/PROMOTE): a public key, raw or as a
    ZAP peer id ("gw:" and its Z85), is the current or the next one. */
int ef_auth_is_gateway_key (const ef_auth_t *self, const uint8_t pub[32]);
int ef_auth_is_gateway_peer (const ef_auth_t *self, const char *peer);
/*  Write gateway.next.key/.pub in the data dir and admit it beside the
    current key; its public key into pub_z85. 0, EF_ECONFLICT (one is
    pending already) or EF_ESTORE. */
int ef_auth_gateway_key_new (ef_auth_t *self, char pub_z85[41]);
/*  The next key becomes gateway.key/.pub; the old one is refused from now
    on. 0, EF_ENOTFOUND (none pending) or EF_ESTORE. */
int ef_auth_gateway_key_promote (ef_auth_t *self, char pub_z85[41]);
/*  Failed logins (ef_throttle.h): per email (lower-cased) and per client
    address, which gets four times as many free failures. check: 0, or
    EF_ERATE with the wait when either is held back. failed: count a
    failure of both. passed: clear the email (never the address: anyone
    with an account could clear it). addr may be "" (not known). */
int ef_auth_login_check (ef_auth_t *self, ef_str_t email, const char *addr,
                         uint64_t now_ms, uint64_t *retry_after_ms);
void ef_auth_login_failed (ef_auth_t *self, ef_str_t email, const char *addr,
                           uint64_t now_ms);
void ef_auth_login_passed (ef_auth_t *self, ef_str_t email);
/*  Per-org quotas (config quota-*), 0 = none. */
typedef enum {
    EF_QUOTA_STREAMS = 0,
    EF_QUOTA_API_KEYS,
    EF_QUOTA_USERS,
    EF_QUOTA_PIPELINE_STEPS,
    EF_QUOTA_STORED_BYTES,
    EF_QUOTA_COUNT
} ef_quota_t;
uint64_t ef_auth_quota (const ef_auth_t *self, ef_quota_t which);
/*  Whether open registration is allowed (config allow-register). */
int ef_auth_register_allowed (const ef_auth_t *self);
/*  A dummy argon2id hash to verify against when an email is unknown. */
const char *ef_auth_dummy_hash (const ef_auth_t *self);

#endif
