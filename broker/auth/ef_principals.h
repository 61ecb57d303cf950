/*  ef_principals.h: who may do what. Orgs, users, API keys (and the
    producers that are named API keys), CurveZMQ client keys and refresh
    token families, stored as small records through ef_store's principal
    functions. Secrets are never stored: API keys and refresh tokens keep a
    BLAKE2b hash of their secret part, users an argon2id hash of their
    password (made elsewhere, off the I/O thread). Every lookup that takes
    an org answers EF_ENOTFOUND for a record of another org.
    Thread-safety: functions take the caller's transaction; writes need
    the write transaction. */
#ifndef EF_PRINCIPALS_H
#define EF_PRINCIPALS_H

#include <stdint.h>
#include "eventflow/ef_mp.h"
#include "ef_store.h"

/*  Roles as bits, so that a command's allowed roles are a mask. */
typedef enum {
    EF_ROLE_NONE = 0,
    EF_ROLE_CONSUMER = 1,
    EF_ROLE_PRODUCER = 2,
    EF_ROLE_ADMIN = 4,
    EF_ROLE_GATEWAY = 8
} ef_role_t;

/*  "admin" etc. for a single role bit ("none" otherwise). */
const char *ef_role_name (int role);
/*  The role named s (admin, producer, consumer), or EF_ROLE_NONE. */
int ef_role_parse (ef_str_t s);
/*  The roles a role includes: admin is also producer and consumer. */
int ef_role_effective (int role);

#define EF_ID_LEN      36
#define EF_EMAIL_MAX   254
#define EF_NAME_MAX    128
#define EF_KEY_STREAMS 16
#define EF_SECRET_HEX  64

typedef struct {
    uint32_t num;
    char id[EF_ID_LEN + 1];
    char name[EF_NAME_MAX + 1];
    uint64_t created_at;
} ef_org_t;

typedef struct {
    char id[EF_ID_LEN + 1];
    uint32_t org;
    char email[EF_EMAIL_MAX + 1];
    int role;
    char pwhash[160]; /* crypto_pwhash_str output */
    uint64_t created_at;
    uint64_t tokens_after; /* ms: refresh families (and so the access
                              tokens) made at or before it are dead; set
                              by a password change */
} ef_user_t;

typedef struct {
    char id[24]; /* lookup id, public */
    uint32_t org;
    char name[EF_NAME_MAX + 1];
    int role;
    int producer; /* created as a producer (POST /producers) */
    char hash[EF_SECRET_HEX + 1];
    char streams[EF_KEY_STREAMS][EF_NAME_MAX + 1];
    uint32_t nstreams;          /* 0 = every stream of the org */
    uint32_t per_second, burst; /* 0 = the configured default */
    uint64_t created_at;
    uint64_t revoked_at; /* 0 = live */
} ef_apikey_t;

typedef struct {
    uint8_t pub[32];
    char pub_z85[41];
    uint32_t org;
    int role;
    char name[EF_NAME_MAX + 1];
    uint64_t created_at;
    uint64_t revoked_at;
} ef_clientkey_t;

typedef struct {
    char id[EF_ID_LEN + 1];
    char user[EF_ID_LEN + 1];
    uint32_t org;
    uint32_t generation;
    char hash[EF_SECRET_HEX + 1];
    uint64_t created_at;
    uint64_t revoked_at;
} ef_family_t;

/* ---------------------------------------------------------------- orgs */

int ef_principals_org_create (ef_store_txn_t *txn, ef_str_t name, uint64_t now,
                              ef_org_t *out);
int ef_principals_org_get (ef_store_txn_t *txn, uint32_t num, ef_org_t *out);

/* ---------------------------------------------------------------- users */

/*  A valid email (something@something, ≤ 254 bytes, no spaces). */
int ef_principals_email_valid (ef_str_t email);
/*  Create a user; the email is stored lower-cased. EF_EEXISTS if taken,
    EF_EINVAL for a bad email. */
int ef_principals_user_create (ef_store_txn_t *txn, uint32_t org,
                               ef_str_t email, int role, const char *pwhash,
                               uint64_t now, ef_user_t *out);
int ef_principals_user_get (ef_store_txn_t *txn, ef_str_t id, ef_user_t *out);
int ef_principals_user_by_email (ef_store_txn_t *txn, ef_str_t email,
                                 ef_user_t *out);
/*  Rewrite a user's record (role, password hash). */
int ef_principals_user_put (ef_store_txn_t *txn, const ef_user_t *u);
int ef_principals_user_delete (ef_store_txn_t *txn, const ef_user_t *u);
typedef int (ef_user_fn) (void *arg, const ef_user_t *u);
int ef_principals_user_each (ef_store_txn_t *txn, uint32_t org, ef_user_fn *fn,
                             void *arg);

/* ---------------------------------------------------------------- api keys */

/*  Create key (org, name, role, producer, streams, rates filled in by the
    caller; id, hash and created_at filled here). The whole key to show
    once, "efk_<id>_<secret>", is written to secret_out (at least 96
    bytes). */
int ef_principals_apikey_create (ef_store_txn_t *txn, ef_apikey_t *key,
                                 uint64_t now, char *secret_out);
/*  Get a key of org by id. EF_ENOTFOUND (also for another org's key). */
int ef_principals_apikey_get (ef_store_txn_t *txn, uint32_t org, ef_str_t id,
                              ef_apikey_t *out);
/*  Check a presented key: 0 and *out for a live key whose secret matches
    (compared in constant time), EF_EAUTH for anything else with the cause
    in *why (static text, for the log only). */
int ef_principals_apikey_verify (ef_store_txn_t *txn, ef_str_t presented,
                                 ef_apikey_t *out, const char **why);
/*  Revoke (it stays listed, marked). EF_ENOTFOUND. */
int ef_principals_apikey_revoke (ef_store_txn_t *txn, uint32_t org, ef_str_t id,
                                 uint64_t now);
typedef int (ef_apikey_fn) (void *arg, const ef_apikey_t *k);
int ef_principals_apikey_each (ef_store_txn_t *txn, uint32_t org,
                               ef_apikey_fn *fn, void *arg);
/*  1 if the key may use stream (by name or id). */
int ef_principals_apikey_allows (const ef_apikey_t *k, const char *stream_name,
                                 const char *stream_id);

/* ---------------------------------------------------------------- client keys */

/*  Register a CurveZMQ public key (z85, 40 chars) for org and role.
    EF_EINVAL for a bad key, EF_EEXISTS if registered. */
int ef_principals_clientkey_add (ef_store_txn_t *txn, ef_str_t pub_z85,
                                 uint32_t org, int role, ef_str_t name,
                                 uint64_t now, ef_clientkey_t *out);
/*  Look up a live key by its raw 32 bytes. EF_ENOTFOUND when unknown or
    revoked. */
int ef_principals_clientkey_get (ef_store_txn_t *txn, const uint8_t pub[32],
                                 ef_clientkey_t *out);
int ef_principals_clientkey_revoke (ef_store_txn_t *txn, uint32_t org,
                                    ef_str_t pub_z85, uint64_t now);
typedef int (ef_clientkey_fn) (void *arg, const ef_clientkey_t *k);
int ef_principals_clientkey_each (ef_store_txn_t *txn, uint32_t org,
                                  ef_clientkey_fn *fn, void *arg);

/* ---------------------------------------------------------------- refresh */

#define EF_REFRESH_TOKEN_MAX 128

/*  Start a refresh family for user; its first token goes to token_out
    (EF_REFRESH_TOKEN_MAX bytes). */
int ef_principals_family_create (ef_store_txn_t *txn, const ef_user_t *user,
                                 uint64_t now, ef_family_t *out,
                                 char *token_out);
/*  Rotate: a presented token that is its family's current one gets a new
    token (token_out) and *out; an older token of a live family revokes
    the whole family (reuse detected). A family made before its user's
    last password change (or of a deleted user) is refused. EF_EAUTH for every refusal; after a
    reuse the revocation is written, so the caller must commit. */
int ef_principals_family_rotate (ef_store_txn_t *txn, ef_str_t presented,
                                 uint64_t now, ef_family_t *out,
                                 char *token_out);
/*  Revoke the family of a presented token (logout). EF_EAUTH if the token
    is not one of a live family's. */
int ef_principals_family_revoke (ef_store_txn_t *txn, ef_str_t presented,
                                 uint64_t now);
/*  Whether family f (of user u) may still be used: not revoked, and
    made after the user's last password change. */
int ef_principals_family_live (const ef_family_t *f, const ef_user_t *u);
/*  A family by id; EF_ENOTFOUND. */
int ef_principals_family_get (ef_store_txn_t *txn, ef_str_t id,
                              ef_family_t *out);

#endif
