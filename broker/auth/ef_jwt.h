/*  ef_jwt.h: EventFlow's access tokens, HS256 JSON Web Tokens (RFC 7519)
    under the rules of RFC 8725: the algorithm is fixed (the header is
    exactly {"alg":"HS256","typ":"at+jwt"} and the signing key's kid,
    never chosen by the token),
    typ and aud are set and checked, exp is required. The typ "at+jwt"
    keeps access tokens apart from anything else signed with the key;
    refresh tokens are opaque random strings, never JWTs. This module also
    owns the signing keys: their generation, their files in the data dir
    and their rotation (the key set, below).

    Thread-safety: every function is pure or works only on its arguments
    (and the file it is given); any thread may call any of them at once.
    There is no global state. Key bytes are the caller's to keep and wipe. */
#ifndef EF_JWT_H
#define EF_JWT_H

#include <stddef.h>
#include <stdint.h>

#define EF_JWT_KEY_LEN    32   /* HMAC-SHA-256 key, bytes */
#define EF_JWT_MAX_TOKEN  8192 /* longer tokens are refused unread */
#define EF_JWT_SKEW_S     60   /* how far iat may be in the future */
#define EF_JWT_MAX_SIGNED 1024 /* ef_jwt_sign never needs more than this */

/*  The claims of an access token. Strings are NUL-terminated; sub, org and
    fam hold printable ASCII without spaces (0x21-0x7e), role is one of
    "admin", "producer", "consumer". */
typedef struct {
    char sub[64];  /* user id, 1-63 chars */
    char org[64];  /* org id (as a string), 1-63 chars */
    char role[16]; /* admin | producer | consumer */
    char fam[64];  /* refresh-token family id, 0-63 chars ("" = none) */
    char kid[16];  /* the signing key's id, 0-15 chars of [0-9A-Za-z_-]
                      ("" = none: a token made before key rotation) */
    uint64_t iat;  /* issued at, seconds since the epoch */
    uint64_t exp;  /* expires at, seconds since the epoch */
} ef_jwt_claims_t;

/*  Sign claims c with key into out as a compact JWT, NUL-terminated. The
    header is {"alg":"HS256","typ":"at+jwt"}, with "kid" added when
    c->kid is not empty; the payload has sub, org,
    role, fam (only when not empty), aud "eventflow", iat and exp.
    key:    EF_JWT_KEY_LEN bytes.
    c:      the claims; iat and exp at most INT64_MAX.
    out:    receives the token; outlen its size in bytes. EF_JWT_MAX_SIGNED
            bytes are always enough for valid claims.
    Returns 0; EF_EINVAL when a claim breaks the rules above; EF_ETOOBIG
    when out is too small; EF_ENOMEM; EF_EINTERNAL (a bug). On failure out
    holds "" (when outlen > 0). Thread-safe. */
int ef_jwt_sign (const uint8_t key[EF_JWT_KEY_LEN], const ef_jwt_claims_t *c,
                 char *out, size_t outlen);

/*  Verify token (len bytes, not necessarily NUL-terminated) at time now_s
    (seconds since the epoch) and read its claims.
    Accepted only when all of these hold: len <= EF_JWT_MAX_TOKEN (checked
    before anything is read); three base64url segments without padding; the
    HMAC-SHA-256 of "header.payload" equals the signature (compared in
    constant time, checked before either JSON is parsed); the header is an
    object with exactly alg "HS256" and typ "at+jwt", optionally kid (a
    string of ef_jwt_claims_t's rules, returned in c->kid), and nothing
    else (so no alg "none", HS512, RS256, crit, jku...); the payload is an
    object without duplicate keys whose aud is "eventflow" or an array
    containing it, whose exp is an integer > now_s, whose iat is an
    integer at most EF_JWT_SKEW_S ahead of now_s, whose nbf, if present,
    is an integer at most EF_JWT_SKEW_S ahead of now_s, and whose sub,
    org, role (and fam, if present) are strings that follow the rules of
    ef_jwt_claims_t. Other payload members are ignored.
    key:    EF_JWT_KEY_LEN bytes.
    token:  may be NULL only when len is 0. Any bytes are safe.
    c:      filled on success only (left untouched on failure); may be
            NULL to check a token without reading it.
    why:    if not NULL, set to a static English reason on failure, meant
            for logs only, never for the peer.
    Returns 0; EF_EAUTH for every kind of bad token (one code, so a peer
    learns nothing about which check failed); EF_ENOMEM when the JSON
    parser ran out of memory (not the token's fault). Thread-safe. */
int ef_jwt_verify (const uint8_t key[EF_JWT_KEY_LEN], const char *token,
                   size_t len, uint64_t now_s, ef_jwt_claims_t *c,
                   const char **why);

/*  Fill key with EF_JWT_KEY_LEN random bytes (libsodium randombytes_buf,
    which cannot fail). Thread-safe. */
void ef_jwt_key_generate (uint8_t key[EF_JWT_KEY_LEN]);

/*  Load the signing key from path, or create it when path does not exist:
    a fresh key is written to a temporary file beside path (mode 0600),
    flushed, and then linked into place without replacing a file that
    appeared meanwhile (in which case that file's key is loaded instead),
    and the directory is flushed. The directory must exist.
    path:   the key file, EF_JWT_KEY_LEN raw bytes.
    key:    receives the key (untouched on failure).
    Returns 0; EF_EINVAL when path exists but is not a regular file of
    exactly EF_JWT_KEY_LEN bytes; EF_ESTORE on any I/O failure
    (permissions, missing directory, full disk...). Thread-safe, and safe
    against another process creating the same file at the same time. */
int ef_jwt_key_load_or_create (const char *path, uint8_t key[EF_JWT_KEY_LEN]);

/*  The set of signing keys (key rotation): the current key, which signs,
    and the previous ones, which still verify until the tokens they signed
    have expired. Kept in dir/jwt.keys, one key a line: "KID HEX UNTIL",
    UNTIL 0 for the current key (the last line), else the second after
    which the key verifies nothing and is dropped. Before the first
    rotation there is no jwt.keys: the set is dir/jwt.key alone, with kid
    "1"; it is also the only key that verifies tokens without a kid (made
    before rotation existed). jwt.keys is replaced atomically (temporary
    file, fsync, rename, directory fsync).
    Thread-safety: none; one owner (the broker's reactor). */
#define EF_JWT_KEYS_MAX 8 /* keys at once: rotations within a token life */

typedef struct {
    char kid[16];
    uint8_t key[EF_JWT_KEY_LEN];
    uint64_t until; /* 0: current */
} ef_jwt_keyent_t;

typedef struct {
    ef_jwt_keyent_t k[EF_JWT_KEYS_MAX]; /* k[n-1] is the current key */
    size_t n;
} ef_jwt_keys_t;

/*  Load the set from dir (jwt.keys, else jwt.key, created when missing),
    leaving out keys whose until has passed at now_s. 0, EF_EINVAL (a
    malformed file), EF_ESTORE. */
int ef_jwt_keys_load (ef_jwt_keys_t *ks, const char *dir, uint64_t now_s);
/*  Make a fresh key current; the current one verifies until now_s +
    keep_s (the longest life of a token), expired keys are dropped; the
    set is written to dir/jwt.keys before it changes in memory. kid (16
    bytes) receives the new key's id. 0, EF_ECONFLICT (EF_JWT_KEYS_MAX
    keys still verify: try again when the oldest expires), EF_ESTORE
    (nothing changed). */
int ef_jwt_keys_rotate (ef_jwt_keys_t *ks, const char *dir, uint64_t now_s,
                        uint64_t keep_s, char kid[16]);
/*  Sign c with the current key (c->kid is set to its id). As ef_jwt_sign. */
int ef_jwt_keys_sign (const ef_jwt_keys_t *ks, ef_jwt_claims_t *c, char *out,
                      size_t outlen);
/*  Verify token with the key it names (its kid; no kid: kid "1"), if that
    key is in the set and still verifies at now_s. As ef_jwt_verify. */
int ef_jwt_keys_verify (const ef_jwt_keys_t *ks, const char *token, size_t len,
                        uint64_t now_s, ef_jwt_claims_t *c, const char **why);
/*  Wipe the keys. */
void ef_jwt_keys_wipe (ef_jwt_keys_t *ks);

#endif
