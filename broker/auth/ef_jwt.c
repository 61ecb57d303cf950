/*  ef_jwt.c: HS256 access tokens and their signing key (see ef_jwt.h).
    Signing builds the payload with jansson and base64url-encodes with
    libsodium. Verification checks the MAC before any JSON is parsed, so
    that only holders of the key can reach the parser, then checks the
    header and the claims one by one; every failure is EF_EAUTH with a
    static reason for the log. The key file is written to a temporary file
    and linked into place, so that nobody ever reads half a key; the key
    set's file, jwt.keys, is written likewise and renamed over the old. */
#define _GNU_SOURCE /* mkostemp */
#include "ef_jwt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "eventflow/ef_error.h"

#define S_B64         sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define S_MAC_LEN     crypto_auth_hmacsha256_BYTES
#define S_MAC_B64_LEN 43 /* base64url of 32 bytes, no padding */
#define S_AUDIENCE    "eventflow"
#define S_TYP         "at+jwt"
/*  The one header we sign and accept, kid left aside. */
#define S_HEADER     "{\"alg\":\"HS256\",\"typ\":\"" S_TYP "\"}"
#define S_HEADER_MAX 96 /* S_HEADER with a kid of 15 chars */
/*  The kid of dir/jwt.key, the key from before rotation. */
#define S_KID_FIRST "1"
static const char s_bad_signature[] = "bad signature";
/*  Room for any decoded segment of a token of EF_JWT_MAX_TOKEN bytes. */
#define S_SEGMENT_MAX (EF_JWT_MAX_TOKEN / 4 * 3 + 3)
/*  Room for the payload JSON of valid claims: three ids of 63 chars, each
    at most doubled by escaping, the role, two 19-digit numbers, the
    names and punctuation come to under 500 bytes. */
#define S_PAYLOAD_MAX 768

/* ---------------------------------------------------------------- claims */

/*  1 when s (a field of size bytes) is NUL-terminated within the field and
    holds min..size-1 chars of printable ASCII without spaces. */
static int
s_id_ok (const char *s, size_t size, size_t min)
{
    const char *nul = memchr (s, '\0', size);
    if (!nul || (size_t)(nul - s) < min)
        return 0;
    for (; s < nul; s++)
        if (*s < 0x21 || *s > 0x7e)
            return 0;
    return 1;
}

/*  1 when [s, s+n) is one of the three roles. */
static int
s_role_ok (const char *s, size_t n)
{
    static const char *const roles[] = {"admin", "producer", "consumer"};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (n == strlen (roles[i]) && memcmp (s, roles[i], n) == 0)
            return 1;
    return 0;
}

/*  1 when the field kid (16 bytes) holds 0-15 chars of [0-9A-Za-z_-]: no
    escaping in the header, nothing to confuse a file line. */
static int
s_kid_ok (const char *kid)
{
    const char *nul = memchr (kid, '\0', 16);
    if (!nul)
        return 0;
    for (; kid < nul; kid++) {
        unsigned char ch = (unsigned char)*kid;
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
            return 0;
    }
    return 1;
}

static int
s_claims_ok (const ef_jwt_claims_t *c)
{
    return s_id_ok (c->sub, sizeof c->sub, 1) &&
           s_id_ok (c->org, sizeof c->org, 1) &&
           s_id_ok (c->fam, sizeof c->fam, 0) && s_kid_ok (c->kid) &&
           memchr (c->role, '\0', sizeof c->role) &&
           s_role_ok (c->role, strlen (c->role)) && c->iat <= INT64_MAX &&
           c->exp <= INT64_MAX;
}

/* ---------------------------------------------------------------- sign */

int
ef_jwt_sign (const uint8_t key[EF_JWT_KEY_LEN], const ef_jwt_claims_t *c,
             char *out, size_t outlen)
{
    if (out && outlen)
        out[0] = '\0';
    if (!c || !s_claims_ok (c))
        return EF_EINVAL;

    /*  "s*" leaves fam out when NULL; the order of the members is the
        order given here (jansson keeps insertion order). */
    json_t *o = json_pack ("{s:s, s:s, s:s, s:s*, s:s, s:I, s:I}", "sub",
                           c->sub, "org", c->org, "role", c->role, "fam",
                           c->fam[0] ? c->fam : NULL, "aud", S_AUDIENCE, "iat",
                           (json_int_t)c->iat, "exp", (json_int_t)c->exp);
    if (!o)
        return EF_ENOMEM; /* the claims were checked: only memory is left */
    char payload[S_PAYLOAD_MAX];
    size_t plen = json_dumpb (o, payload, sizeof payload, JSON_COMPACT);
    json_decref (o);
    if (plen == 0)
        return EF_ENOMEM;
    if (plen > sizeof payload)
        return EF_EINTERNAL; /* S_PAYLOAD_MAX is wrong */

    char header[S_HEADER_MAX];
    if (c->kid[0])
        snprintf (header, sizeof header,
                  "{\"alg\":\"HS256\",\"typ\":\"" S_TYP "\",\"kid\":\"%s\"}",
                  c->kid);
    else
        memcpy (header, S_HEADER, sizeof S_HEADER);
    const size_t hlen = strlen (header);
    /*  The _ENCODED_LEN macros count the NUL, which here stands in for the
        dots and the final NUL. */
    size_t h64 = sodium_base64_ENCODED_LEN (hlen, S_B64);
    size_t p64 = sodium_base64_ENCODED_LEN (plen, S_B64);
    size_t s64 = sodium_base64_ENCODED_LEN (S_MAC_LEN, S_B64);
    if (!out || outlen < h64 + p64 + s64)
        return EF_ETOOBIG;

    char *w = out;
    sodium_bin2base64 (w, h64, (const unsigned char *)header, hlen, S_B64);
    w += h64 - 1;
    *w++ = '.';
    sodium_bin2base64 (w, p64, (const unsigned char *)payload, plen, S_B64);
    w += p64 - 1;

    unsigned char mac[S_MAC_LEN];
    crypto_auth_hmacsha256 (mac, (const unsigned char *)out,
                            (unsigned long long)(w - out), key);
    *w++ = '.';
    sodium_bin2base64 (w, s64, mac, sizeof mac, S_B64);
    return 0;
}

/* ---------------------------------------------------------------- verify */

/*  1 when [s, s+n) holds only base64url characters. libsodium 1.0.18 is
    not relied on for this: where char is signed it decodes every byte
    0x80-0xff as '_', which would give one signature many spellings. */
static int
s_b64url_chars_ok (const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
            return 0;
    }
    return 1;
}

/*  Decode base64url [s, s+n) into buf (S_SEGMENT_MAX bytes). Rejects empty
    segments, padding, any character outside the alphabet and non-zero
    trailing bits. Returns the decoded length, or 0 on failure. */
static size_t
s_unbase64 (unsigned char *buf, const char *s, size_t n)
{
    size_t len = 0;
    if (n == 0 || sodium_base642bin (buf, S_SEGMENT_MAX, s, n, NULL, &len, NULL,
                                     S_B64) != 0)
        return 0;
    return len;
}

/*  1 when v is the JSON string [s, s+n) exactly. */
static int
s_string_is (const json_t *v, const char *s, size_t n)
{
    return json_is_string (v) && json_string_length (v) == n &&
           memcmp (json_string_value (v), s, n) == 0;
}

/*  Parse [buf, buf+n) as one JSON object, refusing duplicate keys (a
    second "alg" or "exp" must not be able to hide behind the first).
    Returns the object, or NULL with *rc set. */
static json_t *
s_parse_object (const unsigned char *buf, size_t n, int *rc)
{
    json_error_t err;
    json_t *v = json_loadb ((const char *)buf, n, JSON_REJECT_DUPLICATES, &err);
    if (!v) {
        *rc = json_error_code (&err) == json_error_out_of_memory ? EF_ENOMEM
                                                                 : EF_EAUTH;
        return NULL;
    }
    if (!json_is_object (v)) {
        json_decref (v);
        *rc = EF_EAUTH;
        return NULL;
    }
    return v;
}

/*  A NumericDate claim: a non-negative JSON integer. 0 with *out, or -1. */
static int
s_time_claim (const json_t *o, const char *name, uint64_t *out)
{
    const json_t *v = json_object_get (o, name);
    if (!json_is_integer (v) || json_integer_value (v) < 0)
        return -1;
    *out = (uint64_t)json_integer_value (v);
    return 0;
}

/*  Copy string claim name of o into field (size bytes) if it follows the
    rules of ef_jwt_claims_t. 0, or -1. */
static int
s_id_claim (const json_t *o, const char *name, char *field, size_t size,
            size_t min)
{
    const json_t *v = json_object_get (o, name);
    if (!json_is_string (v))
        return -1;
    size_t n = json_string_length (v);
    if (n < min || n >= size)
        return -1;
    memcpy (field, json_string_value (v), n + 1);
    return s_id_ok (field, size, min) ? 0 : -1;
}

static int
s_audience_ok (const json_t *aud)
{
    const size_t n = sizeof S_AUDIENCE - 1;
    if (s_string_is (aud, S_AUDIENCE, n))
        return 1;
    if (json_is_array (aud)) {
        size_t i;
        const json_t *v;
        json_array_foreach (aud, i,
                            v) if (s_string_is (v, S_AUDIENCE, n)) return 1;
    }
    return 0;
}

/*  1 when time t is not more than EF_JWT_SKEW_S ahead of now_s (written
    so that it cannot overflow). */
static int
s_not_ahead (uint64_t t, uint64_t now_s)
{
    return t <= now_s || t - now_s <= EF_JWT_SKEW_S;
}

/*  Check the claims of payload object o at now_s into *c. NULL, or the
    reason. */
static const char *
s_check_claims (const json_t *o, uint64_t now_s, ef_jwt_claims_t *c)
{
    if (!s_audience_ok (json_object_get (o, "aud")))
        return "aud is not eventflow";
    if (s_time_claim (o, "exp", &c->exp) != 0)
        return "exp missing or not a non-negative integer";
    if (c->exp <= now_s)
        return "expired";
    if (s_time_claim (o, "iat", &c->iat) != 0)
        return "iat missing or not a non-negative integer";
    if (!s_not_ahead (c->iat, now_s))
        return "iat in the future";
    if (json_object_get (o, "nbf")) {
        uint64_t nbf;
        if (s_time_claim (o, "nbf", &nbf) != 0)
            return "nbf not a non-negative integer";
        if (!s_not_ahead (nbf, now_s))
            return "not yet valid (nbf)";
    }
    if (s_id_claim (o, "sub", c->sub, sizeof c->sub, 1) != 0)
        return "sub missing or invalid";
    if (s_id_claim (o, "org", c->org, sizeof c->org, 1) != 0)
        return "org missing or invalid";
    const json_t *role = json_object_get (o, "role");
    if (!json_is_string (role) ||
        !s_role_ok (json_string_value (role), json_string_length (role)))
        return "role missing or invalid";
    strcpy (c->role, json_string_value (role)); /* fits: a known role */
    if (json_object_get (o, "fam") &&
        s_id_claim (o, "fam", c->fam, sizeof c->fam, 0) != 0)
        return "fam invalid";
    return NULL;
}

int
ef_jwt_verify (const uint8_t key[EF_JWT_KEY_LEN], const char *token, size_t len,
               uint64_t now_s, ef_jwt_claims_t *c, const char **why)
{
    const char *reason = NULL;
    int rc = EF_EAUTH;
    json_t *header = NULL, *payload = NULL;
    unsigned char buf[S_SEGMENT_MAX];
    unsigned char sig[S_MAC_LEN], mac[S_MAC_LEN];
    ef_jwt_claims_t got;
    memset (&got, 0, sizeof got);

    if (!token || len == 0) {
        reason = "empty token";
        goto done;
    }
    if (len > EF_JWT_MAX_TOKEN) {
        reason = "token too long";
        goto done;
    }
    /*  Exactly two dots: header.payload.signature. */
    const char *end = token + len;
    const char *dot1 = memchr (token, '.', len);
    const char *dot2 = dot1 ? memchr (dot1 + 1, '.', end - dot1 - 1) : NULL;
    if (!dot2 || memchr (dot2 + 1, '.', end - dot2 - 1)) {
        reason = "not three segments";
        goto done;
    }
    if (dot1 == token || dot2 == dot1 + 1 || dot2 + 1 == end) {
        reason = "empty segment";
        goto done;
    }
    if (!s_b64url_chars_ok (token, dot1 - token) ||
        !s_b64url_chars_ok (dot1 + 1, dot2 - dot1 - 1) ||
        !s_b64url_chars_ok (dot2 + 1, end - dot2 - 1)) {
        reason = "not base64url";
        goto done;
    }

    /*  The MAC first: nothing the peer wrote is parsed unless it was
        signed with our key. */
    size_t siglen = 0;
    if (end - (dot2 + 1) != S_MAC_B64_LEN ||
        sodium_base642bin (sig, sizeof sig, dot2 + 1, S_MAC_B64_LEN, NULL,
                           &siglen, NULL, S_B64) != 0 ||
        siglen != sizeof sig) {
        reason = "malformed signature";
        goto done;
    }
    crypto_auth_hmacsha256 (mac, (const unsigned char *)token,
                            (unsigned long long)(dot2 - token), key);
    if (sodium_memcmp (mac, sig, sizeof mac) != 0) {
        reason = s_bad_signature;
        goto done;
    }

    /*  The header: exactly {"alg":"HS256","typ":"at+jwt"}, in any order
        and spacing, with at most a kid more. */
    size_t n = s_unbase64 (buf, token, dot1 - token);
    if (n == 0) {
        reason = "header is not base64url";
        goto done;
    }
    header = s_parse_object (buf, n, &rc);
    if (!header) {
        reason = "header is not a JSON object";
        goto done;
    }
    rc = EF_EAUTH;
    if (!s_string_is (json_object_get (header, "alg"), "HS256", 5)) {
        reason = "alg is not HS256";
        goto done;
    }
    if (!s_string_is (json_object_get (header, "typ"), S_TYP,
                      sizeof S_TYP - 1)) {
        reason = "typ is not at+jwt";
        goto done;
    }
    const json_t *kid = json_object_get (header, "kid");
    if (kid) {
        if (!json_is_string (kid) ||
            json_string_length (kid) >= sizeof got.kid) {
            reason = "kid invalid";
            goto done;
        }
        memcpy (got.kid, json_string_value (kid), json_string_length (kid) + 1);
        if (!s_kid_ok (got.kid)) {
            reason = "kid invalid";
            goto done;
        }
    }
    if (json_object_size (header) != (kid ? 3u : 2u)) {
        reason = "unexpected header parameter";
        goto done;
    }

    n = s_unbase64 (buf, dot1 + 1, dot2 - dot1 - 1);
    if (n == 0) {
        reason = "payload is not base64url";
        goto done;
    }
    payload = s_parse_object (buf, n, &rc);
    if (!payload) {
        reason = "payload is not a JSON object";
        goto done;
    }
    rc = EF_EAUTH;
    reason = s_check_claims (payload, now_s, &got);
    if (!reason) {
        if (c)
            *c = got;
        rc = 0;
    }

done:
    /*  The right MAC for the peer's bytes is a credential: wipe it. */
    sodium_memzero (mac, sizeof mac);
    json_decref (header);
    json_decref (payload);
    if (rc == EF_ENOMEM)
        reason = "out of memory";
    if (why)
        *why = rc ? reason : NULL;
    return rc;
}

/* ---------------------------------------------------------------- key */

void
ef_jwt_key_generate (uint8_t key[EF_JWT_KEY_LEN])
{
    randombytes_buf (key, EF_JWT_KEY_LEN);
}

/*  Read the key file. 0, EF_ENOTFOUND (no such file), EF_EINVAL (not a
    regular file of the right size), EF_ESTORE. */
static int
s_key_load (const char *path, uint8_t key[EF_JWT_KEY_LEN])
{
    /*  O_NONBLOCK: a FIFO at path must not hang the broker; it is then
        refused as not a regular file. */
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? EF_ENOTFOUND : EF_ESTORE;
    struct stat st;
    int rc = 0;
    if (fstat (fd, &st) != 0)
        rc = EF_ESTORE;
    else if (!S_ISREG (st.st_mode) || st.st_size != EF_JWT_KEY_LEN)
        rc = EF_EINVAL;
    uint8_t buf[EF_JWT_KEY_LEN];
    size_t got = 0;
    while (rc == 0 && got < sizeof buf) {
        ssize_t r = read (fd, buf + got, sizeof buf - got);
        if (r > 0)
            got += (size_t)r;
        else if (r == 0)
            rc = EF_EINVAL; /* shrank since fstat */
        else if (errno != EINTR)
            rc = EF_ESTORE;
    }
    close (fd);
    if (rc == 0)
        memcpy (key, buf, sizeof buf);
    sodium_memzero (buf, sizeof buf);
    return rc;
}

/*  Flush the directory that holds path, so that a new name in it lasts. */
static int
s_sync_dir (const char *path)
{
    const char *slash = strrchr (path, '/');
    char *dir = slash == path ? strdup ("/")
                : slash       ? strndup (path, slash - path)
                              : strdup (".");
    if (!dir)
        return -1;
    int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free (dir);
    if (fd < 0)
        return -1;
    int r = fsync (fd);
    close (fd);
    return r;
}

/*  Write key to a fresh file at path. 0, EF_EEXISTS (path appeared
    meanwhile; left alone), EF_ESTORE. */
static int
s_key_create (const char *path, const uint8_t key[EF_JWT_KEY_LEN])
{
    size_t n = strlen (path);
    char *tmp = malloc (n + sizeof ".tmp.XXXXXX");
    if (!tmp)
        return EF_ESTORE;
    memcpy (tmp, path, n);
    memcpy (tmp + n, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    int fd = mkostemp (tmp, O_CLOEXEC);
    if (fd < 0) {
        free (tmp);
        return EF_ESTORE;
    }
    int rc = 0;
    size_t put = 0;
    /*  mkostemp already uses 0600 less the umask; make it exactly 0600. */
    if (fchmod (fd, S_IRUSR | S_IWUSR) != 0)
        rc = EF_ESTORE;
    while (rc == 0 && put < EF_JWT_KEY_LEN) {
        ssize_t w = write (fd, key + put, EF_JWT_KEY_LEN - put);
        if (w > 0)
            put += (size_t)w;
        else if (w < 0 && errno != EINTR)
            rc = EF_ESTORE;
    }
    if (rc == 0 && fsync (fd) != 0)
        rc = EF_ESTORE;
    if (close (fd) != 0 && rc == 0)
        rc = EF_ESTORE;

    /*  link() rather than rename(): if another process created the key
        between our look and now, keep its key instead of replacing it
        (its tokens may be out already). Only where the file system has no
        hard links do we fall back to rename(). */
    int renamed = 0;
    if (rc == 0 && link (tmp, path) != 0) {
        if (errno == EEXIST)
            rc = EF_EEXISTS;
        else if (errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP ||
                 errno == EMLINK || errno == ENOSYS) {
            if (rename (tmp, path) == 0)
                renamed = 1;
            else
                rc = EF_ESTORE;
        } else
            rc = EF_ESTORE;
    }
    if (!renamed)
        unlink (tmp);
    free (tmp);
    if (rc == 0 && s_sync_dir (path) != 0)
        rc = EF_ESTORE;
    return rc;
}

int
ef_jwt_key_load_or_create (const char *path, uint8_t key[EF_JWT_KEY_LEN])
{
    if (!path || !*path)
        return EF_ESTORE;
    int rc = s_key_load (path, key);
    if (rc != EF_ENOTFOUND)
        return rc;

    uint8_t fresh[EF_JWT_KEY_LEN];
    ef_jwt_key_generate (fresh);
    rc = s_key_create (path, fresh);
    if (rc == 0)
        memcpy (key, fresh, sizeof fresh);
    else if (rc == EF_EEXISTS) {
        rc = s_key_load (path, key); /* the other creator's key */
        if (rc == EF_ENOTFOUND)
            rc = EF_ESTORE;
    }
    sodium_memzero (fresh, sizeof fresh);
    return rc;
}

/* ---------------------------------------------------------------- key set */

#define S_KEYS_FILE "jwt.keys"
#define S_KEYS_LINE 128 /* "KID HEX UNTIL\n" is under 100 bytes */

/*  Parse one line of jwt.keys into e. 0, or -1. */
static int
s_keys_parse (const char *line, ef_jwt_keyent_t *e)
{
    char kid[17], hex[2 * EF_JWT_KEY_LEN + 2];
    unsigned long long until;
    size_t bin = 0;
    if (sscanf (line, "%16s %65s %llu", kid, hex, &until) != 3 ||
        strlen (kid) >= sizeof e->kid || kid[0] == '\0' ||
        strlen (hex) != 2 * EF_JWT_KEY_LEN)
        return -1;
    memcpy (e->kid, kid, strlen (kid) + 1);
    if (!s_kid_ok (e->kid) ||
        sodium_hex2bin (e->key, sizeof e->key, hex, strlen (hex), NULL, &bin,
                        NULL) != 0 ||
        bin != EF_JWT_KEY_LEN)
        return -1;
    sodium_memzero (hex, sizeof hex);
    e->until = (uint64_t)until;
    return 0;
}

/*  Drop the keys that no longer verify at now_s (never the current). */
static void
s_keys_prune (ef_jwt_keys_t *ks, uint64_t now_s)
{
    size_t w = 0;
    for (size_t i = 0; i < ks->n; i++)
        if (ks->k[i].until == 0 || ks->k[i].until > now_s)
            ks->k[w++] = ks->k[i];
    for (size_t i = w; i < ks->n; i++)
        sodium_memzero (&ks->k[i], sizeof ks->k[i]);
    ks->n = w;
}

int
ef_jwt_keys_load (ef_jwt_keys_t *ks, const char *dir, uint64_t now_s)
{
    char path[4096];
    memset (ks, 0, sizeof *ks);
    snprintf (path, sizeof path, "%s/" S_KEYS_FILE, dir);
    FILE *f = fopen (path, "re");
    if (!f) {
        if (errno != ENOENT)
            return EF_ESTORE;
        snprintf (path, sizeof path, "%s/jwt.key", dir);
        int rc = ef_jwt_key_load_or_create (path, ks->k[0].key);
        if (rc == 0) {
            strcpy (ks->k[0].kid, S_KID_FIRST);
            ks->n = 1;
        }
        return rc;
    }
    char line[S_KEYS_LINE];
    int rc = 0;
    while (rc == 0 && fgets (line, sizeof line, f)) {
        if (ks->n == EF_JWT_KEYS_MAX || !strchr (line, '\n') ||
            s_keys_parse (line, &ks->k[ks->n]) != 0)
            rc = EF_EINVAL;
        else
            ks->n++;
    }
    if (rc == 0 && ferror (f))
        rc = EF_ESTORE;
    fclose (f);
    sodium_memzero (line, sizeof line);
    /*  Exactly one current key, the last. */
    if (rc == 0 && (ks->n == 0 || ks->k[ks->n - 1].until != 0))
        rc = EF_EINVAL;
    for (size_t i = 0; rc == 0 && i + 1 < ks->n; i++)
        if (ks->k[i].until == 0)
            rc = EF_EINVAL;
    if (rc)
        ef_jwt_keys_wipe (ks);
    else
        s_keys_prune (ks, now_s);
    return rc;
}

/*  Write ks to dir/jwt.keys atomically. 0 or EF_ESTORE. */
static int
s_keys_save (const ef_jwt_keys_t *ks, const char *dir)
{
    char path[4096], tmp[4096 + 16];
    snprintf (path, sizeof path, "%s/" S_KEYS_FILE, dir);
    snprintf (tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    int fd = mkostemp (tmp, O_CLOEXEC);
    if (fd < 0)
        return EF_ESTORE;
    int rc = fchmod (fd, S_IRUSR | S_IWUSR) == 0 ? 0 : EF_ESTORE;
    char buf[EF_JWT_KEYS_MAX * S_KEYS_LINE];
    size_t len = 0;
    for (size_t i = 0; i < ks->n; i++) {
        char hex[2 * EF_JWT_KEY_LEN + 1];
        sodium_bin2hex (hex, sizeof hex, ks->k[i].key, EF_JWT_KEY_LEN);
        len += (size_t)snprintf (buf + len, sizeof buf - len, "%s %s %llu\n",
                                 ks->k[i].kid, hex,
                                 (unsigned long long)ks->k[i].until);
        sodium_memzero (hex, sizeof hex);
    }
    size_t put = 0;
    while (rc == 0 && put < len) {
        ssize_t w = write (fd, buf + put, len - put);
        if (w > 0)
            put += (size_t)w;
        else if (w < 0 && errno != EINTR)
            rc = EF_ESTORE;
    }
    sodium_memzero (buf, sizeof buf);
    if (rc == 0 && fsync (fd) != 0)
        rc = EF_ESTORE;
    if (close (fd) != 0 && rc == 0)
        rc = EF_ESTORE;
    if (rc == 0 && rename (tmp, path) != 0)
        rc = EF_ESTORE;
    if (rc)
        unlink (tmp);
    else if (s_sync_dir (path) != 0)
        rc = EF_ESTORE;
    return rc;
}

int
ef_jwt_keys_rotate (ef_jwt_keys_t *ks, const char *dir, uint64_t now_s,
                    uint64_t keep_s, char kid[16])
{
    ef_jwt_keys_t next = *ks;
    s_keys_prune (&next, now_s);
    if (next.n == 0 || next.n == EF_JWT_KEYS_MAX) {
        int full = next.n != 0;
        ef_jwt_keys_wipe (&next);
        return full ? EF_ECONFLICT : EF_EINTERNAL;
    }
    /*  The new id: one more than the greatest numeric id in the set. */
    unsigned long long top = 0;
    for (size_t i = 0; i < next.n; i++) {
        unsigned long long v = strtoull (next.k[i].kid, NULL, 10);
        top = v > top ? v : top;
    }
    next.k[next.n - 1].until = now_s + keep_s;
    ef_jwt_keyent_t *e = &next.k[next.n++];
    snprintf (e->kid, sizeof e->kid, "%llu", top + 1);
    ef_jwt_key_generate (e->key);
    e->until = 0;
    int rc = s_keys_save (&next, dir);
    if (rc == 0) {
        ef_jwt_keys_wipe (ks);
        *ks = next;
        memcpy (kid, e->kid, sizeof e->kid);
    }
    sodium_memzero (&next, sizeof next);
    return rc;
}

int
ef_jwt_keys_sign (const ef_jwt_keys_t *ks, ef_jwt_claims_t *c, char *out,
                  size_t outlen)
{
    if (ks->n == 0)
        return EF_EINTERNAL;
    const ef_jwt_keyent_t *cur = &ks->k[ks->n - 1];
    memcpy (c->kid, cur->kid, sizeof c->kid);
    return ef_jwt_sign (cur->key, c, out, outlen);
}

int
ef_jwt_keys_verify (const ef_jwt_keys_t *ks, const char *token, size_t len,
                    uint64_t now_s, ef_jwt_claims_t *c, const char **why)
{
    const char *reason = "signed by no key of the set (unknown or removed)";
    int rc = EF_EAUTH;
    ef_jwt_claims_t got;
    /*  Each key's MAC in turn (a handful): nothing the peer wrote is
        parsed before a MAC holds, so the kid is checked after it. */
    for (size_t i = 0; i < ks->n; i++) {
        const ef_jwt_keyent_t *e = &ks->k[i];
        if (e->until != 0 && e->until <= now_s)
            continue;
        const char *r = NULL;
        rc = ef_jwt_verify (e->key, token, len, now_s, &got, &r);
        if (rc != 0 && r == s_bad_signature) {
            rc = EF_EAUTH;
            continue;
        }
        reason = r;
        if (rc == 0 && strcmp (got.kid[0] ? got.kid : S_KID_FIRST, e->kid)) {
            rc = EF_EAUTH;
            reason = "kid does not name the key that signed it";
        }
        break;
    }
    if (rc == 0 && c)
        *c = got;
    if (why)
        *why = rc ? reason : NULL;
    sodium_memzero (&got, sizeof got);
    return rc;
}

void
ef_jwt_keys_wipe (ef_jwt_keys_t *ks)
{
    sodium_memzero (ks, sizeof *ks);
}
