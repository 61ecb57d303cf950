/*  ef_principals.c: records of orgs, users, keys and refresh families,
    kept by ef_store's principal functions (see ef_principals.h). Each record is a
    msgpack array; its decoder checks every field's type and size. */
#include "ef_principals.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_time.h"
#include "eventflow/ef_uuid.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

/* ---------------------------------------------------------------- roles */

const char *
ef_role_name (int role)
{
    switch (role) {
    case EF_ROLE_ADMIN:
        return "admin";
    case EF_ROLE_PRODUCER:
        return "producer";
    case EF_ROLE_CONSUMER:
        return "consumer";
    case EF_ROLE_GATEWAY:
        return "gateway";
    default:
        return "none";
    }
}

int
ef_role_parse (ef_str_t s)
{
    if (ef_str_eq (s, "admin"))
        return EF_ROLE_ADMIN;
    if (ef_str_eq (s, "producer"))
        return EF_ROLE_PRODUCER;
    if (ef_str_eq (s, "consumer"))
        return EF_ROLE_CONSUMER;
    return EF_ROLE_NONE;
}

int
ef_role_effective (int role)
{
    return role == EF_ROLE_ADMIN
               ? EF_ROLE_ADMIN | EF_ROLE_PRODUCER | EF_ROLE_CONSUMER
               : role;
}

/* ---------------------------------------------------------------- helpers */

/*  Copy a decoded string into a fixed field; EF_ESTORE if it does not fit
    (a record we did not write). */
static int
s_copy (char *dst, size_t size, ef_str_t s)
{
    if (!s.ptr || s.len >= size)
        return EF_ESTORE;
    memcpy (dst, s.ptr, s.len);
    dst[s.len] = 0;
    return 0;
}

static int
s_new_id (char *out)
{
    static __thread ef_uuid_gen_t gen; /* per thread: ids only need to be
                                          unique, not ordered globally */
    static __thread int ready;
    if (!ready) {
        ef_uuid_gen_init (&gen);
        ready = 1;
    }
    ef_uuid_t u;
    ef_uuid_gen_v7 (&gen, ef_time_now_ms (), &u);
    ef_uuid_format (&u, out);
    return 0;
}

/*  A random secret as 64 hex characters, and its hash (64 hex). */
static void
s_secret (char secret[EF_SECRET_HEX + 1])
{
    uint8_t raw[32];
    randombytes_buf (raw, sizeof raw);
    sodium_bin2hex (secret, EF_SECRET_HEX + 1, raw, sizeof raw);
}

static void
s_hash (const char *p, size_t n, char out[EF_SECRET_HEX + 1])
{
    uint8_t h[32];
    crypto_generichash (h, sizeof h, (const uint8_t *)p, n, NULL, 0);
    sodium_bin2hex (out, EF_SECRET_HEX + 1, h, sizeof h);
}

static int
s_hash_matches (const char *p, size_t n, const char *stored)
{
    char h[EF_SECRET_HEX + 1];
    s_hash (p, n, h);
    return strlen (stored) == EF_SECRET_HEX &&
           sodium_memcmp (h, stored, EF_SECRET_HEX) == 0;
}

/*  The store's answer to putting b, or EF_ENOMEM if b could not be
    built; b is freed. */
static int
s_put_done (ef_buf_t *b, int rc)
{
    int oom = b->oom;
    ef_buf_free (b);
    return oom ? EF_ENOMEM : rc;
}

/* ---------------------------------------------------------------- orgs */

int
ef_principals_org_create (ef_store_txn_t *txn, ef_str_t name, uint64_t now,
                          ef_org_t *out)
{
    if (name.len == 0 || name.len > EF_NAME_MAX)
        return EF_EINVAL;
    memset (out, 0, sizeof *out);
    int rc = ef_store_org_next (txn, &out->num);
    if (rc)
        return rc;
    s_new_id (out->id);
    memcpy (out->name, name.ptr, name.len);
    out->created_at = now;
    ef_buf_t b;
    ef_buf_init (&b);
    ef_mp_array (&b, 3);
    ef_mp_cstr (&b, out->id);
    ef_mp_cstr (&b, out->name);
    ef_mp_uint (&b, now);
    return s_put_done (
        &b, b.oom ? 0 : ef_store_org_put (txn, out->num, b.data, b.len, 1));
}

int
ef_principals_org_get (ef_store_txn_t *txn, uint32_t num, ef_org_t *out)
{
    ef_str_t v, id, name;
    uint32_t n;
    int rc = ef_store_org_get (txn, num, &v);
    if (rc)
        return rc;
    ef_mpr_t r;
    ef_mpr_init (&r, v.ptr, v.len);
    memset (out, 0, sizeof *out);
    out->num = num;
    if (ef_mpr_array (&r, &n) || n < 3 || ef_mpr_str (&r, &id) ||
        ef_mpr_str (&r, &name) || ef_mpr_uint (&r, &out->created_at) ||
        s_copy (out->id, sizeof out->id, id) ||
        s_copy (out->name, sizeof out->name, name))
        return EF_ESTORE;
    return 0;
}

/* ---------------------------------------------------------------- users */

int
ef_principals_email_valid (ef_str_t email)
{
    if (!email.ptr || email.len < 3 || email.len > EF_EMAIL_MAX)
        return 0;
    const char *at = memchr (email.ptr, '@', email.len);
    if (!at || at == email.ptr || at == email.ptr + email.len - 1)
        return 0;
    for (uint32_t i = 0; i < email.len; i++) {
        unsigned char c = (unsigned char)email.ptr[i];
        if (c <= 0x20 || c == 0x7f || (c == '@' && email.ptr + i != at))
            return 0;
    }
    return 1;
}

static void
s_lower (char *dst, ef_str_t s)
{
    for (uint32_t i = 0; i < s.len; i++)
        dst[i] = (char)tolower ((unsigned char)s.ptr[i]);
    dst[s.len] = 0;
}

static int
s_user_encode_put (ef_store_txn_t *txn, const ef_user_t *u, int create)
{
    ef_buf_t b;
    ef_buf_init (&b);
    ef_mp_array (&b, 7);
    ef_mp_cstr (&b, u->id);
    ef_mp_uint (&b, u->org);
    ef_mp_cstr (&b, u->email);
    ef_mp_uint (&b, (uint64_t)u->role);
    ef_mp_cstr (&b, u->pwhash);
    ef_mp_uint (&b, u->created_at);
    ef_mp_uint (&b, u->tokens_after);
    return s_put_done (&b, b.oom
                               ? 0
                               : ef_store_user_put (txn, u->org, ef_str (u->id),
                                                    ef_str (u->email), b.data,
                                                    b.len, create));
}

static int
s_user_decode (ef_str_t v, ef_user_t *u)
{
    ef_mpr_t r;
    uint32_t n;
    uint64_t org, role;
    ef_str_t id, email, pw;
    memset (u, 0, sizeof *u);
    ef_mpr_init (&r, v.ptr, v.len);
    if (ef_mpr_array (&r, &n) || n < 6 || ef_mpr_str (&r, &id) ||
        ef_mpr_uint (&r, &org) || ef_mpr_str (&r, &email) ||
        ef_mpr_uint (&r, &role) || ef_mpr_str (&r, &pw) ||
        ef_mpr_uint (&r, &u->created_at) || s_copy (u->id, sizeof u->id, id) ||
        s_copy (u->email, sizeof u->email, email) ||
        s_copy (u->pwhash, sizeof u->pwhash, pw))
        return EF_ESTORE;
    /* records from before password changes revoked tokens have 6 */
    if (n >= 7 && ef_mpr_uint (&r, &u->tokens_after))
        return EF_ESTORE;
    u->org = (uint32_t)org;
    u->role = (int)role;
    return 0;
}

int
ef_principals_user_create (ef_store_txn_t *txn, uint32_t org, ef_str_t email,
                           int role, const char *pwhash, uint64_t now,
                           ef_user_t *out)
{
    if (!ef_principals_email_valid (email))
        return EF_EINVAL;
    if (strlen (pwhash) >= sizeof out->pwhash)
        return EF_EINVAL;
    memset (out, 0, sizeof *out);
    s_lower (out->email, email);
    s_new_id (out->id);
    out->org = org;
    out->role = role;
    snprintf (out->pwhash, sizeof out->pwhash, "%s", pwhash);
    out->created_at = now;
    return s_user_encode_put (txn, out, 1); /* EF_EEXISTS: email taken */
}

int
ef_principals_user_get (ef_store_txn_t *txn, ef_str_t id, ef_user_t *out)
{
    ef_str_t v;
    int rc = ef_store_user_get (txn, id, &v);
    return rc ? rc : s_user_decode (v, out);
}

int
ef_principals_user_by_email (ef_store_txn_t *txn, ef_str_t email,
                             ef_user_t *out)
{
    char lower[EF_EMAIL_MAX + 1];
    ef_str_t id;
    if (!email.ptr || email.len > EF_EMAIL_MAX)
        return EF_ENOTFOUND;
    s_lower (lower, email);
    int rc = ef_store_user_by_email (txn, (ef_str_t){lower, email.len}, &id);
    return rc ? rc : ef_principals_user_get (txn, id, out);
}

int
ef_principals_user_put (ef_store_txn_t *txn, const ef_user_t *u)
{
    return s_user_encode_put (txn, u, 0);
}

int
ef_principals_user_delete (ef_store_txn_t *txn, const ef_user_t *u)
{
    return ef_store_user_delete (txn, u->org, ef_str (u->id),
                                 ef_str (u->email));
}

typedef struct {
    ef_store_txn_t *txn;
    void *fn;
    void *arg;
    uint32_t org;
    int err;
} s_walk_t;

static int
s_user_visit (void *arg, ef_str_t id)
{
    s_walk_t *w = arg;
    ef_user_t u;
    if ((w->err = ef_principals_user_get (w->txn, id, &u)))
        return 1;
    return ((ef_user_fn *)w->fn) (w->arg, &u);
}

int
ef_principals_user_each (ef_store_txn_t *txn, uint32_t org, ef_user_fn *fn,
                         void *arg)
{
    s_walk_t w = {txn, (void *)fn, arg, org, 0};
    int rc = ef_store_user_each (txn, org, s_user_visit, &w);
    return rc ? rc : w.err;
}

/* ---------------------------------------------------------------- api keys */

static int
s_apikey_put (ef_store_txn_t *txn, const ef_apikey_t *k, int create)
{
    ef_buf_t b;
    ef_buf_init (&b);
    ef_mp_array (&b, 11);
    ef_mp_cstr (&b, k->id);
    ef_mp_uint (&b, k->org);
    ef_mp_cstr (&b, k->name);
    ef_mp_uint (&b, (uint64_t)k->role);
    ef_mp_uint (&b, (uint64_t)k->producer);
    ef_mp_cstr (&b, k->hash);
    ef_mp_array (&b, k->nstreams);
    for (uint32_t i = 0; i < k->nstreams; i++)
        ef_mp_cstr (&b, k->streams[i]);
    ef_mp_uint (&b, k->per_second);
    ef_mp_uint (&b, k->burst);
    ef_mp_uint (&b, k->created_at);
    ef_mp_uint (&b, k->revoked_at);
    return s_put_done (&b,
                       b.oom ? 0
                             : ef_store_apikey_put (txn, k->org, ef_str (k->id),
                                                    b.data, b.len, create));
}

static int
s_apikey_decode (ef_str_t v, ef_apikey_t *k)
{
    ef_mpr_t r;
    uint32_t n, ns;
    uint64_t org, role, producer, ps, burst;
    ef_str_t id, name, hash;
    memset (k, 0, sizeof *k);
    ef_mpr_init (&r, v.ptr, v.len);
    if (ef_mpr_array (&r, &n) || n < 11 || ef_mpr_str (&r, &id) ||
        ef_mpr_uint (&r, &org) || ef_mpr_str (&r, &name) ||
        ef_mpr_uint (&r, &role) || ef_mpr_uint (&r, &producer) ||
        ef_mpr_str (&r, &hash) || ef_mpr_array (&r, &ns) ||
        ns > EF_KEY_STREAMS || s_copy (k->id, sizeof k->id, id) ||
        s_copy (k->name, sizeof k->name, name) ||
        s_copy (k->hash, sizeof k->hash, hash))
        return EF_ESTORE;
    for (uint32_t i = 0; i < ns; i++) {
        ef_str_t s;
        if (ef_mpr_str (&r, &s) || s_copy (k->streams[i], EF_NAME_MAX + 1, s))
            return EF_ESTORE;
    }
    if (ef_mpr_uint (&r, &ps) || ef_mpr_uint (&r, &burst) ||
        ef_mpr_uint (&r, &k->created_at) || ef_mpr_uint (&r, &k->revoked_at))
        return EF_ESTORE;
    k->nstreams = ns;
    k->org = (uint32_t)org;
    k->role = (int)role;
    k->producer = (int)producer;
    k->per_second = (uint32_t)ps;
    k->burst = (uint32_t)burst;
    return 0;
}

int
ef_principals_apikey_create (ef_store_txn_t *txn, ef_apikey_t *key,
                             uint64_t now, char *secret_out)
{
    /* lookup id: 16 hex characters of randomness */
    uint8_t raw[8];
    char secret[EF_SECRET_HEX + 1];
    randombytes_buf (raw, sizeof raw);
    sodium_bin2hex (key->id, sizeof key->id, raw, sizeof raw);
    s_secret (secret);
    s_hash (secret, EF_SECRET_HEX, key->hash);
    key->created_at = now;
    key->revoked_at = 0;
    int rc = s_apikey_put (txn, key, 1);
    if (rc)
        return rc;
    sprintf (secret_out, "efk_%s_%s", key->id, secret);
    sodium_memzero (secret, sizeof secret);
    return 0;
}

int
ef_principals_apikey_get (ef_store_txn_t *txn, uint32_t org, ef_str_t id,
                          ef_apikey_t *out)
{
    ef_str_t v;
    int rc = ef_store_apikey_get (txn, id, &v);
    if (rc == 0)
        rc = s_apikey_decode (v, out);
    if (rc == 0 && out->org != org)
        rc = EF_ENOTFOUND;
    return rc;
}

int
ef_principals_apikey_verify (ef_store_txn_t *txn, ef_str_t presented,
                             ef_apikey_t *out, const char **why)
{
    /* efk_<16 hex id>_<64 hex secret> */
    *why = "malformed API key";
    if (!presented.ptr || presented.len != 4 + 16 + 1 + EF_SECRET_HEX ||
        memcmp (presented.ptr, "efk_", 4) != 0 || presented.ptr[20] != '_')
        return EF_EAUTH;
    ef_str_t id = {presented.ptr + 4, 16};
    ef_str_t v;
    *why = "unknown API key";
    if (ef_store_apikey_get (txn, id, &v) || s_apikey_decode (v, out))
        return EF_EAUTH;
    *why = "wrong API key secret";
    if (!s_hash_matches (presented.ptr + 21, EF_SECRET_HEX, out->hash))
        return EF_EAUTH;
    *why = "revoked API key";
    if (out->revoked_at)
        return EF_EAUTH;
    *why = NULL;
    return 0;
}

int
ef_principals_apikey_revoke (ef_store_txn_t *txn, uint32_t org, ef_str_t id,
                             uint64_t now)
{
    ef_apikey_t k;
    int rc = ef_principals_apikey_get (txn, org, id, &k);
    if (rc)
        return rc;
    if (!k.revoked_at)
        k.revoked_at = now;
    return s_apikey_put (txn, &k, 0);
}

static int
s_apikey_visit (void *arg, ef_str_t id)
{
    s_walk_t *w = arg;
    ef_apikey_t k;
    if ((w->err = ef_principals_apikey_get (w->txn, w->org, id, &k)))
        return 1;
    return ((ef_apikey_fn *)w->fn) (w->arg, &k);
}

int
ef_principals_apikey_each (ef_store_txn_t *txn, uint32_t org, ef_apikey_fn *fn,
                           void *arg)
{
    s_walk_t w = {txn, (void *)fn, arg, org, 0};
    int rc = ef_store_apikey_each (txn, org, s_apikey_visit, &w);
    return rc ? rc : w.err;
}

int
ef_principals_apikey_allows (const ef_apikey_t *k, const char *stream_name,
                             const char *stream_id)
{
    if (k->nstreams == 0)
        return 1;
    for (uint32_t i = 0; i < k->nstreams; i++)
        if (strcmp (k->streams[i], stream_name) == 0 ||
            strcmp (k->streams[i], stream_id) == 0)
            return 1;
    return 0;
}

/* ---------------------------------------------------------------- client keys */

static int
s_clientkey_put (ef_store_txn_t *txn, const ef_clientkey_t *k, int create)
{
    ef_buf_t b;
    ef_buf_init (&b);
    ef_mp_array (&b, 5);
    ef_mp_uint (&b, k->org);
    ef_mp_uint (&b, (uint64_t)k->role);
    ef_mp_cstr (&b, k->name);
    ef_mp_uint (&b, k->created_at);
    ef_mp_uint (&b, k->revoked_at);
    return s_put_done (&b, b.oom ? 0
                                 : ef_store_clientkey_put (txn, k->pub, b.data,
                                                           b.len, create));
}

static int
s_clientkey_decode (const uint8_t *pub, ef_str_t v, ef_clientkey_t *k)
{
    ef_mpr_t r;
    uint32_t n;
    uint64_t org, role;
    ef_str_t name;
    memset (k, 0, sizeof *k);
    memcpy (k->pub, pub, 32);
    zmq_z85_encode (k->pub_z85, k->pub, 32);
    ef_mpr_init (&r, v.ptr, v.len);
    if (ef_mpr_array (&r, &n) || n < 5 || ef_mpr_uint (&r, &org) ||
        ef_mpr_uint (&r, &role) || ef_mpr_str (&r, &name) ||
        ef_mpr_uint (&r, &k->created_at) || ef_mpr_uint (&r, &k->revoked_at) ||
        s_copy (k->name, sizeof k->name, name))
        return EF_ESTORE;
    k->org = (uint32_t)org;
    k->role = (int)role;
    return 0;
}

static int
s_z85_key (ef_str_t z85, uint8_t pub[32])
{
    char buf[41];
    if (!z85.ptr || z85.len != 40)
        return EF_EINVAL;
    memcpy (buf, z85.ptr, 40);
    buf[40] = 0;
    return zmq_z85_decode (pub, buf) ? 0 : EF_EINVAL;
}

int
ef_principals_clientkey_add (ef_store_txn_t *txn, ef_str_t pub_z85,
                             uint32_t org, int role, ef_str_t name,
                             uint64_t now, ef_clientkey_t *out)
{
    memset (out, 0, sizeof *out);
    if (s_z85_key (pub_z85, out->pub) || name.len > EF_NAME_MAX)
        return EF_EINVAL;
    memcpy (out->pub_z85, pub_z85.ptr, 40);
    out->org = org;
    out->role = role;
    if (name.ptr)
        memcpy (out->name, name.ptr, name.len);
    out->created_at = now;
    /* a revoked key may be registered again */
    ef_str_t v;
    ef_clientkey_t old;
    if (ef_store_clientkey_get (txn, out->pub, &v) == 0 &&
        s_clientkey_decode (out->pub, v, &old) == 0 && !old.revoked_at)
        return EF_EEXISTS;
    return s_clientkey_put (txn, out, 0);
}

int
ef_principals_clientkey_get (ef_store_txn_t *txn, const uint8_t pub[32],
                             ef_clientkey_t *out)
{
    ef_str_t v;
    int rc = ef_store_clientkey_get (txn, pub, &v);
    if (rc == 0)
        rc = s_clientkey_decode (pub, v, out);
    if (rc == 0 && out->revoked_at)
        rc = EF_ENOTFOUND;
    return rc;
}

int
ef_principals_clientkey_revoke (ef_store_txn_t *txn, uint32_t org,
                                ef_str_t pub_z85, uint64_t now)
{
    uint8_t pub[32];
    ef_clientkey_t k;
    if (s_z85_key (pub_z85, pub))
        return EF_ENOTFOUND;
    int rc = ef_principals_clientkey_get (txn, pub, &k);
    if (rc == 0 && k.org != org)
        rc = EF_ENOTFOUND;
    if (rc)
        return rc;
    k.revoked_at = now;
    return s_clientkey_put (txn, &k, 0);
}

static int
s_clientkey_visit (void *arg, const uint8_t pub[32], ef_str_t val)
{
    s_walk_t *w = arg;
    ef_clientkey_t k;
    if (s_clientkey_decode (pub, val, &k))
        return 0;
    if (k.org != w->org)
        return 0;
    return ((ef_clientkey_fn *)w->fn) (w->arg, &k);
}

int
ef_principals_clientkey_each (ef_store_txn_t *txn, uint32_t org,
                              ef_clientkey_fn *fn, void *arg)
{
    s_walk_t w = {txn, (void *)fn, arg, org, 0};
    return ef_store_clientkey_each (txn, s_clientkey_visit, &w);
}

/* ---------------------------------------------------------------- refresh */

static int
s_family_put (ef_store_txn_t *txn, const ef_family_t *f)
{
    ef_buf_t b;
    ef_buf_init (&b);
    ef_mp_array (&b, 6);
    ef_mp_cstr (&b, f->user);
    ef_mp_uint (&b, f->org);
    ef_mp_uint (&b, f->generation);
    ef_mp_cstr (&b, f->hash);
    ef_mp_uint (&b, f->created_at);
    ef_mp_uint (&b, f->revoked_at);
    return s_put_done (
        &b,
        b.oom ? 0 : ef_store_family_put (txn, ef_str (f->id), b.data, b.len));
}

int
ef_principals_family_get (ef_store_txn_t *txn, ef_str_t id, ef_family_t *f)
{
    ef_str_t v, user, hash;
    ef_mpr_t r;
    uint32_t n;
    uint64_t org, gen;
    if (id.len != EF_ID_LEN)
        return EF_ENOTFOUND;
    int rc = ef_store_family_get (txn, id, &v);
    if (rc)
        return rc;
    memset (f, 0, sizeof *f);
    memcpy (f->id, id.ptr, EF_ID_LEN);
    ef_mpr_init (&r, v.ptr, v.len);
    if (ef_mpr_array (&r, &n) || n < 6 || ef_mpr_str (&r, &user) ||
        ef_mpr_uint (&r, &org) || ef_mpr_uint (&r, &gen) ||
        ef_mpr_str (&r, &hash) || ef_mpr_uint (&r, &f->created_at) ||
        ef_mpr_uint (&r, &f->revoked_at) ||
        s_copy (f->user, sizeof f->user, user) ||
        s_copy (f->hash, sizeof f->hash, hash))
        return EF_ESTORE;
    f->org = (uint32_t)org;
    f->generation = (uint32_t)gen;
    return 0;
}

/*  Token: "efr_<family id>.<generation>.<64 hex secret>". The hash kept
    covers the generation and the secret. */
static void
s_family_token (ef_family_t *f, char *token_out)
{
    char secret[EF_SECRET_HEX + 1], material[16 + EF_SECRET_HEX];
    s_secret (secret);
    int n =
        snprintf (material, sizeof material, "%u.%s", f->generation, secret);
    s_hash (material, (size_t)n, f->hash);
    snprintf (token_out, EF_REFRESH_TOKEN_MAX, "efr_%s.%s", f->id, material);
    sodium_memzero (secret, sizeof secret);
    sodium_memzero (material, sizeof material);
}

int
ef_principals_family_create (ef_store_txn_t *txn, const ef_user_t *user,
                             uint64_t now, ef_family_t *out, char *token_out)
{
    memset (out, 0, sizeof *out);
    s_new_id (out->id);
    memcpy (out->user, user->id, sizeof out->user);
    out->org = user->org;
    out->generation = 1;
    out->created_at = now;
    s_family_token (out, token_out);
    return s_family_put (txn, out);
}

/*  Split a presented token into family id, generation and the hashed
    part. EF_EAUTH when malformed. */
static int
s_parse_refresh (ef_str_t t, ef_str_t *fam, uint32_t *gen, ef_str_t *material)
{
    if (!t.ptr || t.len < 4 + EF_ID_LEN + 3 || t.len >= EF_REFRESH_TOKEN_MAX ||
        memcmp (t.ptr, "efr_", 4) != 0 || t.ptr[4 + EF_ID_LEN] != '.')
        return EF_EAUTH;
    fam->ptr = t.ptr + 4;
    fam->len = EF_ID_LEN;
    material->ptr = t.ptr + 5 + EF_ID_LEN;
    material->len = t.len - 5 - EF_ID_LEN;
    uint64_t g = 0;
    uint32_t i = 0;
    for (; i < material->len && material->ptr[i] != '.'; i++) {
        if (material->ptr[i] < '0' || material->ptr[i] > '9' || i > 9)
            return EF_EAUTH;
        g = g * 10 + (uint64_t)(material->ptr[i] - '0');
    }
    if (i == 0 || i >= material->len || g > UINT32_MAX)
        return EF_EAUTH;
    *gen = (uint32_t)g;
    return 0;
}

int
ef_principals_family_live (const ef_family_t *f, const ef_user_t *u)
{
    return !f->revoked_at && f->created_at > u->tokens_after;
}

int
ef_principals_family_rotate (ef_store_txn_t *txn, ef_str_t presented,
                             uint64_t now, ef_family_t *out, char *token_out)
{
    ef_str_t fam, material;
    uint32_t gen;
    ef_user_t user;
    if (s_parse_refresh (presented, &fam, &gen, &material) ||
        ef_principals_family_get (txn, fam, out) ||
        ef_principals_user_get (txn, ef_str (out->user), &user) ||
        !ef_principals_family_live (out, &user))
        return EF_EAUTH;
    if (gen == out->generation &&
        s_hash_matches (material.ptr, material.len, out->hash)) {
        out->generation++;
        s_family_token (out, token_out);
        int rc = s_family_put (txn, out);
        return rc ? rc : 0;
    }
    if (gen < out->generation) {
        /* a token that was already used: someone replays it. The family
           is revoked, for its legitimate holder too. */
        out->revoked_at = now;
        int rc = s_family_put (txn, out);
        return rc ? rc : EF_EAUTH;
    }
    return EF_EAUTH;
}

int
ef_principals_family_revoke (ef_store_txn_t *txn, ef_str_t presented,
                             uint64_t now)
{
    ef_str_t fam, material;
    uint32_t gen;
    ef_family_t f;
    if (s_parse_refresh (presented, &fam, &gen, &material) ||
        ef_principals_family_get (txn, fam, &f) || f.revoked_at ||
        gen != f.generation ||
        !s_hash_matches (material.ptr, material.len, f.hash))
        return EF_EAUTH;
    f.revoked_at = now;
    return s_family_put (txn, &f);
}
