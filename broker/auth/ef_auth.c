/*  ef_auth.c: keys, bootstrap, ZAP check, credential resolution, access
    tokens and rate limits (see ef_auth.h). */
#include "ef_auth.h"
#include "ef_hasher.h"
#include "ef_jwt.h"
#include "ef_keyuse.h"
#include "ef_principals.h"
#include "ef_ratelimit.h"
#include "ef_throttle.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_time.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>
#include <pthread.h>

#define S_LOGIN_DELAY_MAX_MS (15 * 60 * 1000) /* the longest hold-back */
#define S_KEYUSE_MAX         16384 /* API keys whose use is kept at once */

struct ef_auth {
    ef_store_t *store;
    const ef_config_t *cfg;
    ef_log_t *log;
    ef_store_txn_t *zap_reader; /* the ZAP thread's */
    ef_cert_t server;
    pthread_mutex_t gw_lock; /* the gateway keys: ZAP thread and reactor */
    uint8_t gateway_pub[32];
    uint8_t gateway_next[32]; /* admitted too, while has_next */
    int has_next;
    char operator_z85[41];  /* the local admin key's: the machine's operator */
    ef_jwt_keys_t jwt_keys; /* the signing key and the previous ones */
    char dir[4096];         /* the data dir, where jwt.keys lives */
    ef_ratelimit_t *rates;
    ef_keyuse_t *keyuse; /* API keys' recent use, in memory */
    ef_throttle_t *login_emails, *login_addrs;
    uint32_t default_per_second, default_burst;
    int allow_register;
    uint64_t quotas[EF_QUOTA_COUNT];
    char dummy_hash[160];
};

ef_auth_t *
ef_auth_new (ef_store_t *store, const ef_config_t *cfg, ef_log_t *log)
{
    ef_auth_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store;
    self->cfg = cfg;
    self->log = log;
    self->rates = ef_ratelimit_new (65536);
    self->keyuse = ef_keyuse_new (S_KEYUSE_MAX);
    pthread_mutex_init (&self->gw_lock, NULL);
    if (!self->rates || !self->keyuse) {
        ef_ratelimit_destroy (&self->rates);
        ef_keyuse_destroy (&self->keyuse);
        free (self);
        return NULL;
    }
    return self;
}

void
ef_auth_destroy (ef_auth_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_auth_t *self = *self_p;
    ef_store_reader_destroy (&self->zap_reader);
    ef_ratelimit_destroy (&self->rates);
    ef_keyuse_destroy (&self->keyuse);
    ef_throttle_destroy (&self->login_emails);
    ef_throttle_destroy (&self->login_addrs);
    ef_jwt_keys_wipe (&self->jwt_keys);
    sodium_memzero (&self->server, sizeof self->server);
    pthread_mutex_destroy (&self->gw_lock);
    free (self);
    *self_p = NULL;
}

const ef_cert_t *
ef_auth_server_cert (const ef_auth_t *self)
{
    return &self->server;
}

int
ef_auth_register_allowed (const ef_auth_t *self)
{
    return self->allow_register;
}

uint64_t
ef_auth_quota (const ef_auth_t *self, ef_quota_t which)
{
    return self->quotas[which];
}

const char *
ef_auth_dummy_hash (const ef_auth_t *self)
{
    return self->dummy_hash;
}

/* ---------------------------------------------------------------- keys */

/*  Load dir/name, or create a new certificate there (and its .pub). */
static int
s_cert (ef_auth_t *self, const char *dir, const char *name, ef_cert_t *cert,
        int *created)
{
    char path[4096], pub[4096];
    snprintf (path, sizeof path, "%s/%s.key", dir, name);
    snprintf (pub, sizeof pub, "%s/%s.pub", dir, name);
    int rc = ef_cert_load (path, cert);
    *created = 0;
    if (rc == EF_ENOTFOUND) {
        if ((rc = ef_cert_generate (cert)) == 0 &&
            (rc = ef_cert_save (path, cert, 0)) == 0)
            rc = ef_cert_save (pub, cert, 1);
        *created = rc == 0;
    }
    if (rc == 0 && !cert->secret_key[0])
        rc = EF_EINVAL;
    if (rc)
        ef_log_error (self->log, "cannot load or create a key",
                      "\"path\":\"%s\",\"error\":\"%s\"", path,
                      ef_error_name (rc));
    return rc;
}

static int
s_write_secret_file (const char *path, const char *text)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return EF_ESTORE;
    size_t len = strlen (text);
    int ok = write (fd, text, len) == (ssize_t)len && fsync (fd) == 0;
    close (fd);
    return ok ? 0 : EF_ESTORE;
}

/*  First start on an empty store: org "default", its stream, an admin
    user with a random password, and the local admin key. */
static int
s_bootstrap (ef_auth_t *self, const char *dir, const ef_cert_t *admin_cert)
{
    ef_store_txn_t *txn;
    ef_org_t org;
    int rc = ef_store_write_begin (self->store, &txn);
    if (rc)
        return rc;
    if (ef_principals_org_get (txn, 1, &org) == 0) {
        ef_store_write_abort (&txn); /* not the first start */
        return 0;
    }
    uint64_t now = ef_time_now_ms ();
    uint8_t raw[12];
    char password[32], pwhash[160];
    randombytes_buf (raw, sizeof raw);
    sodium_bin2base64 (password, sizeof password, raw, sizeof raw,
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    ef_user_t admin;
    ef_stream_rec_t stream;
    ef_clientkey_t ck;
    const char *email = "admin@eventflow.local";
    rc = ef_hasher_hash (password, strlen (password), pwhash);
    if (rc == 0)
        rc = ef_principals_org_create (txn, ef_str ("default"), now, &org);
    if (rc == 0) {
        rc = ef_store_stream_create (txn, org.num, ef_str ("default"), now,
                                     &stream);
        if (rc == EF_EEXISTS) /* a store from before orgs existed */
            rc = 0;
    }
    if (rc == 0)
        rc = ef_principals_user_create (txn, org.num, ef_str (email),
                                        EF_ROLE_ADMIN, pwhash, now, &admin);
    if (rc == 0)
        rc = ef_principals_clientkey_add (txn, ef_str (admin_cert->public_key),
                                          org.num, EF_ROLE_ADMIN,
                                          ef_str ("local admin"), now, &ck);
    if (rc) {
        ef_store_write_abort (&txn);
        return rc;
    }
    if ((rc = ef_store_write_commit (&txn)))
        return rc;
    char path[4096], text[512];
    snprintf (path, sizeof path, "%s/initial-admin", dir);
    snprintf (text, sizeof text, "email = %s\npassword = %s\n", email,
              password);
    if (s_write_secret_file (path, text))
        ef_log_warn (self->log, "cannot write the initial admin file",
                     "\"path\":\"%s\"", path);
    /* printed once, for the person who started the broker */
    fprintf (stdout,
             "EventFlow: created org \"default\" and its admin.\n"
             "  email:    %s\n  password: %s\n"
             "  (also in %s, readable by this user only)\n",
             email, password, path);
    fflush (stdout);
    ef_log_info (self->log, "created the default org and its admin",
                 "\"email\":\"%s\",\"password_file\":\"%s\"", email, path);
    sodium_memzero (password, sizeof password);
    return 0;
}

static int s_gateway_next_load (ef_auth_t *self);

int
ef_auth_open (ef_auth_t *self, const char *dir)
{
    ef_cert_t gateway, admin;
    int created;
    int err;
    self->default_per_second =
        (uint32_t)ef_config_get_int (self->cfg, "rate-per-second", 0, &err);
    self->default_burst =
        (uint32_t)ef_config_get_int (self->cfg, "rate-burst", 0, &err);
    int64_t free_fails =
        ef_config_get_int (self->cfg, "login-free-failures", 0, &err);
    int64_t delay = ef_config_get_int (self->cfg, "login-delay-ms", 0, &err);
    if (free_fails < 0 || free_fails > 1000 || delay < 1 ||
        delay > S_LOGIN_DELAY_MAX_MS) {
        ef_log_error (self->log, "invalid configuration value",
                      "\"option\":\"login-free-failures/login-delay-ms\"");
        return EF_EINVAL;
    }
    self->login_emails = ef_throttle_new (
        65536, (uint32_t)free_fails, (uint64_t)delay, S_LOGIN_DELAY_MAX_MS);
    self->login_addrs = ef_throttle_new (65536, 4 * (uint32_t)free_fails,
                                         (uint64_t)delay, S_LOGIN_DELAY_MAX_MS);
    if (!self->login_emails || !self->login_addrs)
        return EF_ENOMEM;
    static const char *quota_opts[EF_QUOTA_COUNT] = {
        "quota-streams", "quota-api-keys", "quota-users",
        "quota-pipeline-steps", "quota-stored-bytes"};
    for (int i = 0; i < EF_QUOTA_COUNT; i++) {
        int64_t q = ef_config_get_int (self->cfg, quota_opts[i], 0, &err);
        if (err || q < 0) {
            ef_log_error (self->log, "invalid configuration value",
                          "\"option\":\"%s\"", quota_opts[i]);
            return EF_EINVAL;
        }
        self->quotas[i] = (uint64_t)q;
    }
    const char *reg = ef_config_get (self->cfg, "allow-register");
    self->allow_register = reg && (!strcmp (reg, "true") ||
                                   !strcmp (reg, "1") || !strcmp (reg, "yes"));
    if (s_cert (self, dir, "broker", &self->server, &created) ||
        s_cert (self, dir, "gateway", &gateway, &created) ||
        s_cert (self, dir, "admin", &admin, &created))
        return EF_ESTORE;
    zmq_z85_decode (self->gateway_pub, gateway.public_key);
    sodium_memzero (&gateway, sizeof gateway);
    snprintf (self->dir, sizeof self->dir, "%s", dir);
    if (s_gateway_next_load (self))
        return EF_ESTORE;
    int krc = ef_jwt_keys_load (&self->jwt_keys, dir, ef_time_now_ms () / 1000);
    if (krc) {
        ef_log_error (self->log, "cannot load or create the JWT keys",
                      "\"dir\":\"%s\",\"error\":\"%s\"", dir,
                      ef_error_name (krc));
        return EF_ESTORE;
    }
    /* verified against when an email is unknown, to take the same time */
    if (ef_hasher_hash ("no such user", 12, self->dummy_hash))
        return EF_ENOMEM;
    int rc = s_bootstrap (self, dir, &admin);
    snprintf (self->operator_z85, sizeof self->operator_z85, "%s",
              admin.public_key);
    sodium_memzero (&admin, sizeof admin);
    if (rc) {
        ef_log_error (self->log, "cannot create the default org",
                      "\"error\":\"%s\"", ef_error_name (rc));
        return rc;
    }
    self->zap_reader = ef_store_reader_new (self->store);
    return self->zap_reader ? 0 : EF_ENOMEM;
}

/* ---------------------------------------------------------------- client keys */

int
ef_auth_clientkey_check (const ef_auth_t *self, ef_str_t pub_z85,
                         const char *org_id, ef_str_t proof, const char **why)
{
    char pub[EF_Z85_KEY_LEN + 1], want[EF_CERT_PROOF_LEN + 1];
    uint8_t raw[32];
    if (pub_z85.len != EF_Z85_KEY_LEN) {
        *why = "public_key is 40 characters of Z85";
        return EF_EINVAL;
    }
    memcpy (pub, pub_z85.ptr, EF_Z85_KEY_LEN);
    pub[EF_Z85_KEY_LEN] = 0;
    if (!zmq_z85_decode (raw, pub)) {
        *why = "public_key is not a Z85 key";
        return EF_EINVAL;
    }
    if (ef_auth_is_gateway_key (self, raw) ||
        strcmp (pub, self->server.public_key) == 0) {
        *why = "the broker's and the gateway's keys cannot be registered";
        return EF_EFORBIDDEN;
    }
    if (!ef_str_set (proof) || proof.len == 0) {
        *why = "proof is required: see eventflow keys proof";
        return EF_EINVAL;
    }
    if (ef_cert_proof (self->server.secret_key, pub, org_id, want) ||
        proof.len != EF_CERT_PROOF_LEN ||
        sodium_memcmp (proof.ptr, want, EF_CERT_PROOF_LEN) != 0) {
        *why = "the proof does not hold for this key, org and broker";
        return EF_EFORBIDDEN;
    }
    return 0;
}

/* ---------------------------------------------------------------- gateway keys */

/*  The pending next gateway key, dir/gateway.next.pub, if there is one
    (GATEWAY_KEY_NEW wrote it before a restart). 0 or EF_ESTORE. */
static int
s_gateway_next_load (ef_auth_t *self)
{
    char path[4200];
    ef_cert_t next;
    snprintf (path, sizeof path, "%s/gateway.next.pub", self->dir);
    int rc = ef_cert_load (path, &next);
    if (rc == EF_ENOTFOUND)
        return 0;
    if (rc == 0 && !zmq_z85_decode (self->gateway_next, next.public_key))
        rc = EF_EINVAL;
    sodium_memzero (&next, sizeof next);
    if (rc) {
        ef_log_error (self->log, "cannot load the next gateway key",
                      "\"path\":\"%s\",\"error\":\"%s\"", path,
                      ef_error_name (rc));
        return EF_ESTORE;
    }
    self->has_next = 1;
    ef_log_info (self->log, "the next gateway key is admitted too",
                 "\"path\":\"%s\"", path);
    return 0;
}

int
ef_auth_is_gateway_key (const ef_auth_t *self, const uint8_t pub[32])
{
    pthread_mutex_t *lock = (pthread_mutex_t *)&self->gw_lock;
    pthread_mutex_lock (lock);
    int yes =
        sodium_memcmp (pub, self->gateway_pub, 32) == 0 ||
        (self->has_next && sodium_memcmp (pub, self->gateway_next, 32) == 0);
    pthread_mutex_unlock (lock);
    return yes;
}

int
ef_auth_is_gateway_peer (const ef_auth_t *self, const char *peer)
{
    uint8_t pub[32];
    return peer && strncmp (peer, "gw:", 3) == 0 &&
           strlen (peer + 3) == EF_Z85_KEY_LEN &&
           zmq_z85_decode (pub, peer + 3) && ef_auth_is_gateway_key (self, pub);
}

/*  Make dir's directory entries durable after a rename. */
static int
s_sync_dir (const char *dir)
{
    int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return EF_ESTORE;
    int rc = fsync (fd) == 0 ? 0 : EF_ESTORE;
    close (fd);
    return rc;
}

int
ef_auth_gateway_key_new (ef_auth_t *self, char pub_z85[41])
{
    char key[4200], pub[4200];
    ef_cert_t next;
    if (self->has_next)
        return EF_ECONFLICT;
    snprintf (key, sizeof key, "%s/gateway.next.key", self->dir);
    snprintf (pub, sizeof pub, "%s/gateway.next.pub", self->dir);
    /* each file is written to a temporary name and renamed (ef_cert_save);
       the .pub last: it is what a restart reads */
    int rc = ef_cert_generate (&next);
    if (rc == 0)
        rc = ef_cert_save (key, &next, 0);
    if (rc == 0)
        rc = ef_cert_save (pub, &next, 1);
    if (rc == 0)
        rc = s_sync_dir (self->dir);
    if (rc == 0) {
        snprintf (pub_z85, 41, "%s", next.public_key);
        pthread_mutex_lock (&self->gw_lock);
        zmq_z85_decode (self->gateway_next, next.public_key);
        self->has_next = 1;
        pthread_mutex_unlock (&self->gw_lock);
        ef_log_info (self->log, "new gateway key: both are admitted",
                     "\"path\":\"%s\"", key);
    } else {
        unlink (pub);
        ef_log_error (self->log, "cannot write the next gateway key",
                      "\"path\":\"%s\",\"error\":\"%s\"", key,
                      ef_error_name (rc));
        rc = EF_ESTORE;
    }
    sodium_memzero (&next, sizeof next);
    return rc;
}

int
ef_auth_gateway_key_promote (ef_auth_t *self, char pub_z85[41])
{
    char key[4200], pub[4200], next_key[4200], next_pub[4200];
    if (!self->has_next)
        return EF_ENOTFOUND;
    snprintf (key, sizeof key, "%s/gateway.key", self->dir);
    snprintf (pub, sizeof pub, "%s/gateway.pub", self->dir);
    snprintf (next_key, sizeof next_key, "%s/gateway.next.key", self->dir);
    snprintf (next_pub, sizeof next_pub, "%s/gateway.next.pub", self->dir);
    /* the key first: after a crash between the renames gateway.key is the
       new one and the left-over gateway.next.pub names that same key */
    if (rename (next_key, key) || rename (next_pub, pub) ||
        s_sync_dir (self->dir)) {
        ef_log_error (self->log, "cannot promote the next gateway key",
                      "\"path\":\"%s\",\"errno\":%d", next_key, errno);
        return EF_ESTORE;
    }
    pthread_mutex_lock (&self->gw_lock);
    memcpy (self->gateway_pub, self->gateway_next, 32);
    sodium_memzero (self->gateway_next, 32);
    self->has_next = 0;
    zmq_z85_encode (pub_z85, self->gateway_pub, 32);
    pthread_mutex_unlock (&self->gw_lock);
    ef_log_info (self->log, "gateway key promoted: the old one is refused",
                 "\"path\":\"%s\"", key);
    return 0;
}

/* ---------------------------------------------------------------- ZAP */

int
ef_auth_zap_check (void *arg, const uint8_t pub[32], char user_id[64])
{
    ef_auth_t *self = arg;
    if (ef_auth_is_gateway_key (self, pub)) {
        /* the key in the id: a promote retires it on open connections */
        memcpy (user_id, "gw:", 3);
        zmq_z85_encode (user_id + 3, pub, 32);
        return 0;
    }
    ef_clientkey_t k;
    int rc = ef_store_reader_begin (self->zap_reader);
    if (rc == 0) {
        rc = ef_principals_clientkey_get (self->zap_reader, pub, &k);
        ef_store_reader_end (self->zap_reader);
    }
    if (rc)
        return -1;
    snprintf (user_id, 64, "ck:%s", k.pub_z85);
    return 0;
}

/* ---------------------------------------------------------------- resolve */

/*  Every refused credential is logged with its cause at info (the answer
    stays the one uniform AUTH); id is what the credential claims to be,
    when it says. */
static int
s_refused (ef_auth_t *self, const ef_request_t *req, const char *credential,
           const char *cause, const char *id)
{
    ef_log_info (self->log, "authentication failed",
                 "\"credential\":\"%s\",\"cause\":\"%s\",\"claimed_id\":\"%s\","
                 "\"request_id\":\"%.*s\"",
                 credential, cause ? cause : "refused", id ? id : "",
                 (int)req->request_id.len,
                 req->request_id.ptr ? req->request_id.ptr : "");
    return EF_EAUTH;
}

static int
s_from_jwt (ef_auth_t *self, ef_store_txn_t *txn, const ef_request_t *req,
            ef_who_t *who)
{
    ef_jwt_claims_t c;
    ef_user_t user;
    ef_family_t fam;
    const char *why = NULL;
    ef_str_t token = req->auth_jwt;
    if (ef_jwt_keys_verify (&self->jwt_keys, token.ptr, token.len,
                            ef_time_now_ms () / 1000, &c, &why))
        return s_refused (self, req, "jwt", why, NULL);
    /* deleted users, logged-out families and everything issued before a
       password change lose their tokens at once */
    if (ef_principals_user_get (txn, ef_str (c.sub), &user))
        return s_refused (self, req, "jwt", "the token's user is gone", c.sub);
    if (c.fam[0] && (ef_principals_family_get (txn, ef_str (c.fam), &fam) ||
                     !ef_principals_family_live (&fam, &user)))
        return s_refused (self, req, "jwt",
                          "the token's family is revoked or ended by a "
                          "password change",
                          c.sub);
    if (!c.fam[0] && c.iat * 1000 <= user.tokens_after)
        return s_refused (self, req, "jwt", "issued before a password change",
                          c.sub);
    who->kind = EF_WHO_USER;
    who->org = user.org;
    who->role = user.role; /* the role now, not when the token was made */
    snprintf (who->id, sizeof who->id, "%s", user.id);
    snprintf (who->family, sizeof who->family, "%s", c.fam);
    return 0;
}

int
ef_auth_resolve (ef_auth_t *self, ef_store_txn_t *txn, const char *peer,
                 const ef_request_t *req, ef_who_t *who)
{
    memset (who, 0, sizeof *who);
    if (ef_str_set (req->auth_api_key)) {
        const char *why;
        if (ef_principals_apikey_verify (txn, req->auth_api_key, &who->key,
                                         &why)) {
            char id[17] = "";
            if (req->auth_api_key.len > 20)
                memcpy (id, req->auth_api_key.ptr + 4, 16);
            return s_refused (self, req, "api_key", why, id);
        }
        who->kind = EF_WHO_API_KEY;
        who->org = who->key.org;
        who->role = who->key.role;
        snprintf (who->id, sizeof who->id, "%s", who->key.id);
        ef_keyuse_note (self->keyuse, ef_str (who->key.id), ef_time_now_ms ());
        return 0;
    }
    if (ef_str_set (req->auth_jwt))
        return s_from_jwt (self, txn, req, who);
    if (peer && strncmp (peer, "ck:", 3) == 0) {
        uint8_t pub[32];
        ef_clientkey_t k;
        /* looked up again on every request: a revocation takes effect on
           the next one, not at the next connection */
        if (strlen (peer + 3) != 40 || !zmq_z85_decode (pub, peer + 3) ||
            ef_principals_clientkey_get (txn, pub, &k))
            return s_refused (self, req, "client_key",
                              "client key not registered", peer + 3);
        who->kind = EF_WHO_CLIENT_KEY;
        who->org = k.org;
        who->role = k.role;
        snprintf (who->id, sizeof who->id, "%s", k.pub_z85);
        return 0;
    }
    return 0; /* anonymous: gateway without a user credential, or plain */
}

int
ef_auth_is_operator (const ef_auth_t *self, const ef_who_t *who)
{
    return who->kind == EF_WHO_GATEWAY ||
           (who->kind == EF_WHO_CLIENT_KEY && self->operator_z85[0] &&
            strcmp (who->id, self->operator_z85) == 0);
}

int
ef_auth_rate (ef_auth_t *self, const ef_who_t *who, uint64_t now_ms,
              uint64_t *retry_after_ms)
{
    if (who->kind != EF_WHO_API_KEY)
        return 0;
    uint32_t ps =
        who->key.per_second ? who->key.per_second : self->default_per_second;
    uint32_t burst = who->key.burst ? who->key.burst : self->default_burst;
    if (burst == 0)
        burst = ps;
    return ef_ratelimit_take (self->rates, who->key.id, ps, burst, now_ms,
                              retry_after_ms);
}

void
ef_auth_key_use (const ef_auth_t *self, ef_str_t key_id, uint64_t now_ms,
                 uint64_t *last_ms, uint64_t *per_min)
{
    ef_keyuse_get (self->keyuse, key_id, now_ms, last_ms, per_min);
}

void
ef_auth_key_forget (ef_auth_t *self, ef_str_t key_id)
{
    ef_keyuse_forget (self->keyuse, key_id);
}

int
ef_auth_access_token (ef_auth_t *self, const ef_user_t *user,
                      const ef_org_t *org, const char *family, uint64_t now_ms,
                      char *out)
{
    ef_jwt_claims_t c;
    memset (&c, 0, sizeof c);
    snprintf (c.sub, sizeof c.sub, "%s", user->id);
    snprintf (c.org, sizeof c.org, "%s", org->id);
    snprintf (c.role, sizeof c.role, "%s", ef_role_name (user->role));
    snprintf (c.fam, sizeof c.fam, "%s", family ? family : "");
    c.iat = now_ms / 1000;
    c.exp = c.iat + EF_ACCESS_TTL_S;
    return ef_jwt_keys_sign (&self->jwt_keys, &c, out, EF_ACCESS_MAX);
}

int
ef_auth_rotate_jwt_key (ef_auth_t *self, uint64_t now_ms, char kid[16])
{
    int rc = ef_jwt_keys_rotate (&self->jwt_keys, self->dir, now_ms / 1000,
                                 EF_ACCESS_TTL_S, kid);
    if (rc)
        ef_log_error (self->log, "cannot rotate the JWT key",
                      "\"error\":\"%s\"", ef_error_name (rc));
    else
        ef_log_info (self->log, "JWT key rotated", "\"kid\":\"%s\"", kid);
    return rc;
}

/* ---------------------------------------------------------------- logins */

/*  The throttle key of an email: lower-cased, as emails compare. */
static size_t
s_email_key (ef_str_t email, char *out)
{
    size_t n = email.ptr && email.len <= EF_EMAIL_MAX ? email.len : 0;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower ((unsigned char)email.ptr[i]);
    return n;
}

int
ef_auth_login_check (ef_auth_t *self, ef_str_t email, const char *addr,
                     uint64_t now_ms, uint64_t *retry_after_ms)
{
    char key[EF_EMAIL_MAX];
    size_t n = s_email_key (email, key);
    uint64_t a = 0, b = 0;
    int held = ef_throttle_check (self->login_emails, key, n, now_ms, &a);
    if (addr[0])
        held |= ef_throttle_check (self->login_addrs, addr, strlen (addr),
                                   now_ms, &b);
    if (!held)
        return 0;
    *retry_after_ms = a > b ? a : b;
    return EF_ERATE;
}

void
ef_auth_login_failed (ef_auth_t *self, ef_str_t email, const char *addr,
                      uint64_t now_ms)
{
    char key[EF_EMAIL_MAX];
    size_t n = s_email_key (email, key);
    ef_throttle_fail (self->login_emails, key, n, now_ms);
    if (addr[0])
        ef_throttle_fail (self->login_addrs, addr, strlen (addr), now_ms);
}

void
ef_auth_login_passed (ef_auth_t *self, ef_str_t email)
{
    char key[EF_EMAIL_MAX];
    ef_throttle_clear (self->login_emails, key, s_email_key (email, key));
}
