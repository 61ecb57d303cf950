/*  jwt.c: fuzz target for the access-token parser (broker/auth/ef_jwt.c),
    with test_jwt.c's key and clock. The first byte says what the rest is:
    's': a header and a payload as JSON texts, one line each, which the
    target encodes and signs itself, so that the fuzzer reaches the JSON
    checks behind the signature; anything else: a token as it comes.
    Both go through ef_jwt_verify and a key set (ef_jwt_keys_verify).
    Properties: a token accepted once is accepted by the key set that
    holds its key, and the claims it gave sign into a token that verifies
    to the same claims. */
#include <string.h>

#include <sodium.h>

#include "ef_jwt.h"
#include "eventflow/ef_error.h"
#include "fuzz.h"

#define S_NOW 1700000000ull
#define S_B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

static const uint8_t s_key[EF_JWT_KEY_LEN] = {
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/*  header.payload.signature of the two JSON texts, signed with s_key. */
static size_t
s_forge (const char *header, size_t hlen, const char *payload, size_t plen,
         char *out, size_t size)
{
    if (sodium_base64_ENCODED_LEN (hlen, S_B64) +
            sodium_base64_ENCODED_LEN (plen, S_B64) + 64 >
        size)
        return 0;
    sodium_bin2base64 (out, size, (const unsigned char *)header, hlen, S_B64);
    size_t n = strlen (out);
    out[n++] = '.';
    sodium_bin2base64 (out + n, size - n, (const unsigned char *)payload, plen,
                       S_B64);
    n += strlen (out + n);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init (&st, s_key, sizeof s_key);
    crypto_auth_hmacsha256_update (&st, (const unsigned char *)out, n);
    crypto_auth_hmacsha256_final (&st, mac);
    out[n++] = '.';
    sodium_bin2base64 (out + n, size - n, mac, sizeof mac, S_B64);
    return n + strlen (out + n);
}

static void
s_verify (const char *token, size_t len)
{
    ef_jwt_claims_t c, d;
    memset (&c, 0, sizeof c);
    memset (&d, 0, sizeof d);
    const char *why = NULL;
    int rc = ef_jwt_verify (s_key, token, len, S_NOW, &c, &why);
    FZ_CHECK (rc == 0 || rc == EF_EAUTH || rc == EF_ENOMEM);
    FZ_CHECK (rc == 0 || why != NULL);
    /* a set with the key as "1" (no kid) and another key as "7" */
    static ef_jwt_keys_t ks;
    if (ks.n == 0) {
        ks.n = 2;
        strcpy (ks.k[0].kid, "7");
        memset (ks.k[0].key, 0x77, EF_JWT_KEY_LEN);
        ks.k[0].until = S_NOW + 60;
        strcpy (ks.k[1].kid, "1");
        memcpy (ks.k[1].key, s_key, EF_JWT_KEY_LEN);
    }
    int set_rc = ef_jwt_keys_verify (&ks, token, len, S_NOW, &d, &why);
    if (rc == 0 && (c.kid[0] == 0 || strcmp (c.kid, "1") == 0))
        FZ_CHECK (set_rc == 0 && memcmp (&c, &d, sizeof c) == 0);
    if (rc)
        return;
    char again[EF_JWT_MAX_SIGNED];
    FZ_CHECK (ef_jwt_sign (s_key, &c, again, sizeof again) == 0);
    ef_jwt_claims_t e;
    FZ_CHECK (ef_jwt_verify (s_key, again, strlen (again), S_NOW, &e, &why) ==
              0);
    FZ_CHECK (strcmp (e.sub, c.sub) == 0 && strcmp (e.org, c.org) == 0 &&
              strcmp (e.role, c.role) == 0 && strcmp (e.fam, c.fam) == 0 &&
              strcmp (e.kid, c.kid) == 0 && e.iat == c.iat && e.exp == c.exp);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static char token[3 * EF_JWT_MAX_TOKEN];
    if (sodium_init () < 0)
        abort ();
    if (size == 0)
        return 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    if (data[0] == 's') {
        const char *nl = memchr (p, '\n', n);
        if (!nl)
            return 0;
        size_t hlen = (size_t)(nl - p);
        size_t len =
            s_forge (p, hlen, nl + 1, n - hlen - 1, token, sizeof token);
        if (len)
            s_verify (token, len);
    } else
        s_verify (p, n);
    return 0;
}
