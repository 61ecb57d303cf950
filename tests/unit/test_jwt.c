/*  test_jwt.c: unit tests of ef_jwt, EventFlow's HS256 access tokens and
    their key file. Tokens the module signs verify to the same claims; the
    RFC 8725 attacks (alg none, another alg under a valid MAC, typ and aud
    confusion, crit) and every kind of damaged or hostile token are refused
    with EF_EAUTH; the reason given for the log shows which check fired.
    Hostile headers and payloads are signed with the test key by s_forge,
    so that they get past the MAC and reach the checks they aim at. Key
    file tests each work in their own mkdtemp directory under /tmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "ef_jwt.h"
#include "u_store.h"
#include "eventflow/ef_error.h"

#define NOW 1700000000ull
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

static const uint8_t s_key[EF_JWT_KEY_LEN] = {
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* ---------------------------------------------------------------- helpers */

static ef_jwt_claims_t
s_claims (void)
{
    ef_jwt_claims_t c;
    memset (&c, 0, sizeof c);
    strcpy (c.sub, "0190f1a2-7b3c-7def-8123-456789abcdef");
    strcpy (c.org, "42");
    strcpy (c.role, "producer");
    strcpy (c.fam, "fam-0001");
    c.iat = NOW;
    c.exp = NOW + 900;
    return c;
}

static void
s_sign (const ef_jwt_claims_t *c, char *out, size_t outlen)
{
    int rc = ef_jwt_sign (s_key, c, out, outlen);
    if (rc != 0)
        fail_msg ("sign: %d", rc);
}

/*  Write base64url of [p, p+n) at w; returns the end (on the NUL). */
static char *
s_b64 (char *w, const void *p, size_t n)
{
    sodium_bin2base64 (w, sodium_base64_ENCODED_LEN (n, B64), p, n, B64);
    return w + strlen (w);
}

/*  A token with any header and payload bytes, correctly signed with key:
    these reach the checks behind the MAC. out must hold 16 KiB. */
static void
s_forge_key (const uint8_t *key, const char *header, size_t hlen,
             const char *payload, size_t plen, char *out)
{
    char *w = s_b64 (out, header, hlen);
    *w++ = '.';
    w = s_b64 (w, payload, plen);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256 (mac, (unsigned char *)out, w - out, key);
    *w++ = '.';
    s_b64 (w, mac, sizeof mac);
}

static void
s_forge (const char *header, const char *payload, char *out)
{
    s_forge_key (s_key, header, strlen (header), payload, strlen (payload),
                 out);
}

#define HEADER "{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}"
/*  A valid payload at NOW, with room for one more member (or none). */
#define PAYLOAD_WITH(extra)                                                    \
    "{\"sub\":\"u1\",\"org\":\"42\",\"role\":\"admin\",\"aud\":\"eventflow\"," \
    "\"iat\":1700000000,\"exp\":1700000900" extra "}"

static char s_tok[16384];

/*  Assert that token is refused at now with EF_EAUTH, that the claims
    are left alone, and (if reason is not NULL) that the log reason is
    reason. */
static void
s_refused_at (const char *token, size_t len, uint64_t now, const char *reason)
{
    ef_jwt_claims_t c;
    memset (&c, 0x5a, sizeof c);
    const char *why = NULL;
    int rc = ef_jwt_verify (s_key, token, len, now, &c, &why);
    if (rc != EF_EAUTH)
        fail_msg ("expected EF_EAUTH, got %d for \"%.80s\"", rc,
                  token ? token : "(null)");
    assert_non_null (why);
    if (reason && strcmp (why, reason) != 0)
        fail_msg ("refused for \"%s\", expected \"%s\"", why, reason);
    for (size_t i = 0; i < sizeof c; i++)
        assert_int_equal (((unsigned char *)&c)[i], 0x5a);
}

static void
s_refused (const char *token, const char *reason)
{
    s_refused_at (token, strlen (token), NOW, reason);
}

static void
s_accepted (const char *token, ef_jwt_claims_t *c)
{
    const char *why = NULL;
    int rc = ef_jwt_verify (s_key, token, strlen (token), NOW, c, &why);
    if (rc != 0)
        fail_msg ("refused (%d): %s", rc, why ? why : "?");
    assert_null (why);
}

/* ---------------------------------------------------------------- sign */

static void
test_signed_token_verifies_to_the_same_claims (void **state)
{
    (void)state;
    ef_jwt_claims_t in = s_claims (), out;
    char tok[EF_JWT_MAX_SIGNED];
    s_sign (&in, tok, sizeof tok);
    assert_int_equal (strspn (tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                                   "opqrstuvwxyz0123456789-_."),
                      strlen (tok));
    s_accepted (tok, &out);
    assert_string_equal (out.sub, in.sub);
    assert_string_equal (out.org, in.org);
    assert_string_equal (out.role, in.role);
    assert_string_equal (out.fam, in.fam);
    assert_true (out.iat == in.iat);
    assert_true (out.exp == in.exp);
}

static void
test_header_is_exactly_hs256_at_jwt (void **state)
{
    (void)state;
    ef_jwt_claims_t in = s_claims ();
    char tok[EF_JWT_MAX_SIGNED], header[64];
    size_t n = 0;
    s_sign (&in, tok, sizeof tok);
    assert_int_equal (sodium_base642bin ((unsigned char *)header, sizeof header,
                                         tok, strchr (tok, '.') - tok, NULL, &n,
                                         NULL, B64),
                      0);
    header[n] = '\0';
    assert_string_equal (header, HEADER);
}

static void
test_token_without_family_round_trips_with_empty_family (void **state)
{
    (void)state;
    ef_jwt_claims_t in = s_claims (), out;
    in.fam[0] = '\0';
    char tok[EF_JWT_MAX_SIGNED];
    s_sign (&in, tok, sizeof tok);
    memset (&out, 'x', sizeof out);
    s_accepted (tok, &out);
    assert_string_equal (out.fam, "");
    assert_string_equal (out.role, "producer");
}

static void
test_largest_claims_fit_max_signed_and_round_trip (void **state)
{
    (void)state;
    ef_jwt_claims_t in, out;
    memset (&in, 0, sizeof in);
    /*  Quotes and backslashes are escaped, so they make the longest JSON. */
    memset (in.sub, '"', sizeof in.sub - 1);
    memset (in.org, '\\', sizeof in.org - 1);
    memset (in.fam, '"', sizeof in.fam - 1);
    memset (in.kid, 'k', sizeof in.kid - 1); /* the longest kid too */
    strcpy (in.role, "consumer");
    in.iat = NOW;
    in.exp = INT64_MAX;
    char tok[EF_JWT_MAX_SIGNED];
    s_sign (&in, tok, sizeof tok);
    s_accepted (tok, &out);
    assert_memory_equal (&out, &in, sizeof in);
}

static void
test_sign_reports_a_buffer_one_byte_short (void **state)
{
    (void)state;
    ef_jwt_claims_t in = s_claims ();
    char tok[EF_JWT_MAX_SIGNED], small[EF_JWT_MAX_SIGNED];
    s_sign (&in, tok, sizeof tok);
    size_t need = strlen (tok) + 1;
    memset (small, 'x', sizeof small);
    assert_int_equal (ef_jwt_sign (s_key, &in, small, need - 1), EF_ETOOBIG);
    assert_string_equal (small, "");
    assert_int_equal (ef_jwt_sign (s_key, &in, small, need), 0);
    assert_string_equal (small, tok);
    assert_int_equal (ef_jwt_sign (s_key, &in, NULL, 0), EF_ETOOBIG);
}

static void
test_sign_refuses_claims_it_could_not_verify (void **state)
{
    (void)state;
    char tok[EF_JWT_MAX_SIGNED];
    ef_jwt_claims_t c;

    c = s_claims ();
    c.sub[0] = '\0';
    assert_int_equal (ef_jwt_sign (s_key, &c, tok, sizeof tok), EF_EINVAL);
    c = s_claims ();
    c.org[0] = '\0';
    assert_int_equal (ef_jwt_sign (s_key, &c, tok, sizeof tok), EF_EINVAL);
    c = s_claims ();
    strcpy (c.role, "root");
    assert_int_equal (ef_jwt_sign (s_key, &c, tok, sizeof tok), EF_EINVAL);
    c = s_claims ();
    memset (c.sub, 'a', sizeof c.sub); /* no NUL */
    assert_int_equal (ef_jwt_sign (s_key, &c, tok, sizeof tok), EF_EINVAL);
    c = s_claims ();
    strcpy (c.fam, "has space");
    assert_int_equal (ef_jwt_sign (s_key, &c, tok, sizeof tok), EF_EINVAL);
    c = s_claims ();
    c.sub[1] = (char)0xc3; /* not ASCII */
    assert_int_equal (ef_jwt_sign (s_key, &c, tok, sizeof tok), EF_EINVAL);
    c = s_claims ();
    c.exp = (uint64_t)INT64_MAX + 1;
    assert_int_equal (ef_jwt_sign (s_key, &c, tok, sizeof tok), EF_EINVAL);
    assert_int_equal (ef_jwt_sign (s_key, NULL, tok, sizeof tok), EF_EINVAL);
}

/* ---------------------------------------------------------------- time */

static void
test_expired_token_is_refused (void **state)
{
    (void)state;
    ef_jwt_claims_t in = s_claims ();
    char tok[EF_JWT_MAX_SIGNED];
    s_sign (&in, tok, sizeof tok);
    s_refused_at (tok, strlen (tok), in.exp + 1, "expired");
    s_refused_at (tok, strlen (tok), UINT64_MAX, "expired");
}

static void
test_token_is_refused_at_the_second_it_expires (void **state)
{
    (void)state;
    ef_jwt_claims_t in = s_claims (), out;
    char tok[EF_JWT_MAX_SIGNED];
    s_sign (&in, tok, sizeof tok);
    s_refused_at (tok, strlen (tok), in.exp, "expired");
    assert_int_equal (
        ef_jwt_verify (s_key, tok, strlen (tok), in.exp - 1, &out, NULL), 0);
}

static void
test_iat_more_than_a_minute_ahead_is_refused (void **state)
{
    (void)state;
    ef_jwt_claims_t in = s_claims (), out;
    char tok[EF_JWT_MAX_SIGNED];
    in.iat = NOW + 60;
    s_sign (&in, tok, sizeof tok);
    s_accepted (tok, &out); /* 60 s of clock skew is allowed */
    in.iat = NOW + 61;
    s_sign (&in, tok, sizeof tok);
    s_refused (tok, "iat in the future");
}

static void
test_time_claims_must_be_non_negative_integers (void **state)
{
    (void)state;
    static const char *const payloads[] = {
        "{\"sub\":\"u\",\"org\":\"1\",\"role\":\"admin\",\"aud\":\"eventflow\","
        "\"iat\":1700000000}", /* no exp */
        "{\"sub\":\"u\",\"org\":\"1\",\"role\":\"admin\",\"aud\":\"eventflow\","
        "\"iat\":1700000000,\"exp\":\"1700000900\"}",
        "{\"sub\":\"u\",\"org\":\"1\",\"role\":\"admin\",\"aud\":\"eventflow\","
        "\"iat\":1700000000,\"exp\":1700000900.0}",
        "{\"sub\":\"u\",\"org\":\"1\",\"role\":\"admin\",\"aud\":\"eventflow\","
        "\"iat\":1700000000,\"exp\":1e300}",
        "{\"sub\":\"u\",\"org\":\"1\",\"role\":\"admin\",\"aud\":\"eventflow\","
        "\"iat\":1700000000,\"exp\":-1}",
        "{\"sub\":\"u\",\"org\":\"1\",\"role\":\"admin\",\"aud\":\"eventflow\","
        "\"iat\":1700000000,\"exp\":null}",
        "{\"sub\":\"u\",\"org\":\"1\",\"role\":\"admin\",\"aud\":\"eventflow\","
        "\"exp\":1700000900}", /* no iat */
        "{\"sub\":\"u\",\"org\":\"1\",\"role\":\"admin\",\"aud\":\"eventflow\","
        "\"iat\":-5,\"exp\":1700000900}",
        /*  bigger than any integer: a parse error, not a wrap-around */
        "{\"sub\":\"u\",\"org\":\"1\",\"role\":\"admin\",\"aud\":\"eventflow\","
        "\"iat\":1700000000,\"exp\":99999999999999999999999999999999}",
        PAYLOAD_WITH (",\"nbf\":1700000061"),
        PAYLOAD_WITH (",\"nbf\":\"soon\""),
    };
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
        s_forge (HEADER, payloads[i], s_tok);
        s_refused (s_tok, NULL);
    }
    ef_jwt_claims_t out;
    s_forge (HEADER, PAYLOAD_WITH (",\"nbf\":1700000000"), s_tok);
    s_accepted (s_tok, &out);
}

/* ---------------------------------------------------------------- MAC */

static void
test_tampered_payload_is_refused (void **state)
{
    (void)state;
    ef_jwt_claims_t in = s_claims ();
    char tok[EF_JWT_MAX_SIGNED];
    s_sign (&in, tok, sizeof tok);
    char *dot1 = strchr (tok, '.'), *dot2 = strchr (dot1 + 1, '.');
    char *mid = dot1 + (dot2 - dot1) / 2;
    *mid = *mid == 'A' ? 'B' : 'A';
    s_refused (tok, "bad signature");
}

static void
test_tampered_signature_is_refused (void **state)
{
    (void)state;
    ef_jwt_claims_t in = s_claims ();
    char tok[EF_JWT_MAX_SIGNED];
    s_sign (&in, tok, sizeof tok);
    char *sig = strrchr (tok, '.') + 1;
    sig[5] = sig[5] == 'A' ? 'B' : 'A';
    s_refused (tok, "bad signature");
    /*  The last char carries 4 bits of padding that must be zero: a
        second spelling of the same MAC is not accepted either. */
    s_sign (&in, tok, sizeof tok);
    char *last = tok + strlen (tok) - 1;
    const char *abc =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int v = (int)(strchr (abc, *last) - abc);
    *last = abc[v ^ 1];
    s_refused (tok, "malformed signature");
    /*  Dropped and added characters. */
    s_sign (&in, tok, sizeof tok);
    tok[strlen (tok) - 1] = '\0';
    s_refused (tok, "malformed signature");
    s_sign (&in, tok, sizeof tok);
    strcat (tok, "A");
    s_refused (tok, "malformed signature");
}

static void
test_every_single_byte_change_is_refused (void **state)
{
    (void)state;
    ef_jwt_claims_t in = s_claims ();
    char tok[EF_JWT_MAX_SIGNED], bad[EF_JWT_MAX_SIGNED];
    static const char subst[] = {'A', 'Q', 'g', 'w', '-',  '_',       '.',
                                 '=', '+', '/', ' ', '\0', (char)0xff};
    s_sign (&in, tok, sizeof tok);
    size_t n = strlen (tok);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < sizeof subst; j++) {
            if (tok[i] == subst[j])
                continue;
            memcpy (bad, tok, n);
            bad[i] = subst[j];
            s_refused_at (bad, n, NOW, NULL);
        }
}

static void
test_token_signed_with_another_key_is_refused (void **state)
{
    (void)state;
    uint8_t other[EF_JWT_KEY_LEN];
    memcpy (other, s_key, sizeof other);
    other[31] ^= 1;
    ef_jwt_claims_t in = s_claims ();
    char tok[EF_JWT_MAX_SIGNED];
    assert_int_equal (ef_jwt_sign (other, &in, tok, sizeof tok), 0);
    s_refused (tok, "bad signature");
}

static void
test_token_need_not_be_nul_terminated (void **state)
{
    (void)state;
    ef_jwt_claims_t in = s_claims (), out;
    char tok[EF_JWT_MAX_SIGNED + 8];
    s_sign (&in, tok, EF_JWT_MAX_SIGNED);
    size_t n = strlen (tok);
    memcpy (tok + n, ".AAAA", 6); /* what follows len is not read */
    assert_int_equal (ef_jwt_verify (s_key, tok, n, NOW, &out, NULL), 0);
    assert_string_equal (out.sub, in.sub);
    /*  NULL claims: check only. */
    assert_int_equal (ef_jwt_verify (s_key, tok, n, NOW, NULL, NULL), 0);
}

/* ---------------------------------------------------------------- header */

static void
test_alg_none_is_refused (void **state)
{
    (void)state;
    char *w = s_b64 (s_tok, "{\"alg\":\"none\",\"typ\":\"at+jwt\"}", 29);
    *w++ = '.';
    w = s_b64 (w, PAYLOAD_WITH (""), strlen (PAYLOAD_WITH ("")));
    strcpy (w, ".");
    s_refused (s_tok, "empty segment");
    /*  Not even with a signature: the algorithm is not the token's to
        choose. */
    s_forge ("{\"alg\":\"none\",\"typ\":\"at+jwt\"}", PAYLOAD_WITH (""), s_tok);
    s_refused (s_tok, "alg is not HS256");
}

static void
test_other_algs_are_refused_even_under_a_valid_hs256_mac (void **state)
{
    (void)state;
    static const char *const headers[] = {
        "{\"alg\":\"HS512\",\"typ\":\"at+jwt\"}",
        "{\"alg\":\"RS256\",\"typ\":\"at+jwt\"}",
        "{\"alg\":\"hs256\",\"typ\":\"at+jwt\"}",
        "{\"alg\":\"HS256 \",\"typ\":\"at+jwt\"}",
        "{\"alg\":[\"HS256\"],\"typ\":\"at+jwt\"}",
        "{\"typ\":\"at+jwt\"}",
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        s_forge (headers[i], PAYLOAD_WITH (""), s_tok);
        s_refused (s_tok, "alg is not HS256");
    }
}

static void
test_typ_other_than_at_jwt_is_refused (void **state)
{
    (void)state;
    static const char *const headers[] = {
        "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS256\",\"typ\":\"refresh\"}",
        "{\"alg\":\"HS256\",\"typ\":\"AT+JWT\"}",
        "{\"alg\":\"HS256\",\"typ\":null}",
        "{\"alg\":\"HS256\"}", /* missing */
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        s_forge (headers[i], PAYLOAD_WITH (""), s_tok);
        s_refused (s_tok, "typ is not at+jwt");
    }
}

static void
test_header_with_crit_or_other_parameters_is_refused (void **state)
{
    (void)state;
    static const char *const headers[] = {
        "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"crit\":[\"exp\"]}",
        "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"x5u\":\"http://x\"}",
        "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"jku\":\"http://x\"}",
        "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"1\",\"jku\":\"x\"}",
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        s_forge (headers[i], PAYLOAD_WITH (""), s_tok);
        s_refused (s_tok, "unexpected header parameter");
    }
    /*  Duplicate members cannot smuggle a second alg or typ. */
    s_forge ("{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"alg\":\"none\"}",
             PAYLOAD_WITH (""), s_tok);
    s_refused (s_tok, "header is not a JSON object");
    /*  Member order and white space do not matter. */
    ef_jwt_claims_t out;
    s_forge (" { \"typ\" : \"at+jwt\" , \"alg\" : \"HS256\" } ",
             PAYLOAD_WITH (""), s_tok);
    s_accepted (s_tok, &out);
}

/*  A kid is the one header parameter allowed beside alg and typ: it comes
    back in the claims; a kid that is not a short id is refused. */
static void
test_kid_is_returned_and_checked (void **state)
{
    (void)state;
    ef_jwt_claims_t out;
    s_forge ("{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"7\"}",
             PAYLOAD_WITH (""), s_tok);
    s_accepted (s_tok, &out);
    assert_string_equal (out.kid, "7");
    static const char *const bad[] = {
        "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":7}",
        "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"a/b\"}",
        "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"0123456789abcdef\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_forge (bad[i], PAYLOAD_WITH (""), s_tok);
        s_refused (s_tok, "kid invalid");
    }
    /*  Signed with a kid, verified to the same kid. */
    ef_jwt_claims_t in = s_claims ();
    strcpy (in.kid, "42");
    char tok[EF_JWT_MAX_SIGNED];
    s_sign (&in, tok, sizeof tok);
    s_accepted (tok, &out);
    assert_string_equal (out.kid, "42");
    strcpy (in.kid, "no spaces");
    assert_int_equal (ef_jwt_sign (s_key, &in, tok, sizeof tok), EF_EINVAL);
}

/* ---------------------------------------------------------------- claims */

static void
test_wrong_or_missing_aud_is_refused (void **state)
{
    (void)state;
    static const char *const auds[] = {"\"aud\":\"other\"",
                                       "\"aud\":\"eventflow2\"",
                                       "\"aud\":\"EVENTFLOW\"",
                                       "\"aud\":[\"other\"]",
                                       "\"aud\":[]",
                                       "\"aud\":null",
                                       "\"aud\":[[\"eventflow\"]]",
                                       "\"aud\":{\"eventflow\":1}",
                                       "\"aud\":\"eventflow\\u0000\"",
                                       "\"x\":1"};
    char payload[256];
    for (size_t i = 0; i < sizeof auds / sizeof auds[0]; i++) {
        snprintf (payload, sizeof payload,
                  "{\"sub\":\"u1\",\"org\":\"42\",\"role\":\"admin\",%s,"
                  "\"iat\":1700000000,\"exp\":1700000900}",
                  auds[i]);
        s_forge (HEADER, payload, s_tok);
        s_refused (s_tok, NULL);
    }
}

static void
test_aud_array_containing_eventflow_is_accepted (void **state)
{
    (void)state;
    ef_jwt_claims_t out;
    s_forge (HEADER,
             "{\"sub\":\"u1\",\"org\":\"42\",\"role\":\"consumer\","
             "\"aud\":[\"billing\",7,\"eventflow\"],"
             "\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"x\"}",
             s_tok);
    s_accepted (s_tok, &out);
    assert_string_equal (out.sub, "u1");
    assert_string_equal (out.org, "42");
    assert_string_equal (out.role, "consumer");
    assert_string_equal (out.fam, "");
}

static void
test_identity_claims_must_fit_their_fields (void **state)
{
    (void)state;
    char long_sub[80], payload[512];
    memset (long_sub, 'a', 64);
    long_sub[64] = '\0';
    static const char *const subs[] = {
        "\"sub\":\"\"",      "\"sub\":12",          "\"sub\":null",
        "\"sub\":\"a b\"",   "\"sub\":\"\\u00e9\"", "\"sub\":\"a\\nb\"",
        "\"foo\":\"no sub\""};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        snprintf (payload, sizeof payload,
                  "{%s,\"org\":\"42\",\"role\":\"admin\",\"aud\":"
                  "\"eventflow\",\"iat\":1700000000,\"exp\":1700000900}",
                  subs[i]);
        s_forge (HEADER, payload, s_tok);
        s_refused (s_tok, "sub missing or invalid");
    }
    snprintf (payload, sizeof payload,
              "{\"sub\":\"%s\",\"org\":\"42\",\"role\":\"admin\",\"aud\":"
              "\"eventflow\",\"iat\":1700000000,\"exp\":1700000900}",
              long_sub);
    s_forge (HEADER, payload, s_tok);
    s_refused (s_tok, "sub missing or invalid");
    long_sub[63] = '\0'; /* 63 chars fit */
    snprintf (payload, sizeof payload,
              "{\"sub\":\"%s\",\"org\":\"42\",\"role\":\"admin\",\"aud\":"
              "\"eventflow\",\"iat\":1700000000,\"exp\":1700000900}",
              long_sub);
    s_forge (HEADER, payload, s_tok);
    ef_jwt_claims_t out;
    s_accepted (s_tok, &out);
    assert_string_equal (out.sub, long_sub);

    s_forge (HEADER,
             "{\"sub\":\"u\",\"org\":42,\"role\":\"admin\",\"aud\":"
             "\"eventflow\",\"iat\":1700000000,\"exp\":1700000900}",
             s_tok);
    s_refused (s_tok, "org missing or invalid");
    static const char *const roles[] = {"\"root\"", "\"Admin\"", "\"\"",
                                        "\"administrator\"", "1"};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        snprintf (payload, sizeof payload,
                  "{\"sub\":\"u\",\"org\":\"1\",\"role\":%s,\"aud\":"
                  "\"eventflow\",\"iat\":1700000000,\"exp\":1700000900}",
                  roles[i]);
        s_forge (HEADER, payload, s_tok);
        s_refused (s_tok, "role missing or invalid");
    }
    /*  A NUL inside a string stops the parser (no JSON_ALLOW_NUL). */
    s_forge (HEADER,
             "{\"sub\":\"a\\u0000b\",\"org\":\"42\",\"role\":\"admin\","
             "\"aud\":\"eventflow\",\"iat\":1700000000,\"exp\":1700000900}",
             s_tok);
    s_refused (s_tok, "payload is not a JSON object");
    s_forge (HEADER, PAYLOAD_WITH (",\"fam\":7"), s_tok);
    s_refused (s_tok, "fam invalid");
    /*  A second exp after the first is a parse error, not "last wins". */
    s_forge (HEADER, PAYLOAD_WITH (",\"exp\":99999999999"), s_tok);
    s_refused (s_tok, "payload is not a JSON object");
}

/* ---------------------------------------------------------------- garbage */

static void
test_garbage_is_refused_without_harm (void **state)
{
    (void)state;
    static const char *const tokens[] = {
        "",        "a",      "a.b",    "a.b.c",          "a.b.c.d",
        "...",     "..",     ".",      "a..c",           ".b.c",
        "a.b.",    "a=.b.c", "a.b.c=", "\x01.\x02.\x03", "Bearer a.b.c",
        "a b.c.d",
    };
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++)
        s_refused (tokens[i], NULL);
    s_refused_at (NULL, 0, NOW, "empty token");
    s_refused_at (NULL, 100, NOW, "empty token");

    /*  10 KB of 'a', and a well-formed token just over the limit. */
    char *big = malloc (10241);
    assert_non_null (big);
    memset (big, 'a', 10240);
    big[10240] = '\0';
    s_refused (big, "token too long");
    free (big);
    char pad[EF_JWT_MAX_TOKEN];
    memset (pad, ' ', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    char *payload = malloc (strlen (pad) + 128);
    assert_non_null (payload);
    sprintf (payload, PAYLOAD_WITH ("%s"), pad);
    s_forge (HEADER, payload, s_tok);
    free (payload);
    assert_true (strlen (s_tok) > EF_JWT_MAX_TOKEN);
    s_refused (s_tok, "token too long");

    /*  Characters outside base64url, under a valid MAC. */
    ef_jwt_claims_t in = s_claims ();
    char tok[EF_JWT_MAX_SIGNED];
    s_sign (&in, tok, sizeof tok);
    char *dot1 = strchr (tok, '.'), *dot2 = strchr (dot1 + 1, '.');
    char bad[EF_JWT_MAX_SIGNED + 64];
    int n = snprintf (bad, sizeof bad, "%.*s*.%.*s", (int)(dot1 - tok), tok,
                      (int)(dot2 - dot1 - 1), dot1 + 1);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256 (mac, (unsigned char *)bad, n, s_key);
    bad[n] = '.';
    s_b64 (bad + n + 1, mac, sizeof mac);
    s_refused (bad, "not base64url");
    /*  Bytes 0x80-0xff, which libsodium 1.0.18 decodes as '_' where char
        is signed: a signature with a '_' in it must not get a second
        spelling. About one signature in two has a '_'. */
    char *us = NULL;
    for (int i = 0; !us && i < 1000; i++, in.iat--) {
        s_sign (&in, tok, sizeof tok);
        us = strchr (strrchr (tok, '.'), '_');
    }
    assert_non_null (us);
    for (int b = 0x80; b <= 0xff; b++) {
        *us = (char)b;
        s_refused (tok, "not base64url");
    }
}

static void
test_signed_non_json_and_non_objects_are_refused (void **state)
{
    (void)state;
    static const char *const payloads[] = {"not json",
                                           "",
                                           "[\"sub\",\"u1\"]",
                                           "\"eventflow\"",
                                           "42",
                                           "null",
                                           "{\"sub\":\"u1\"",
                                           "{\"sub\":\"u1\"} trailing",
                                           "{\"sub\":\"\xff\"}"};
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
        s_forge (HEADER, payloads[i], s_tok);
        s_refused (s_tok, NULL);
    }
    s_forge ("[\"HS256\",\"at+jwt\"]", PAYLOAD_WITH (""), s_tok);
    s_refused (s_tok, "header is not a JSON object");
    /*  A NUL inside the decoded JSON. */
    s_forge_key (s_key, HEADER, strlen (HEADER), PAYLOAD_WITH (""),
                 strlen (PAYLOAD_WITH ("")) + 1, s_tok);
    s_refused (s_tok, "payload is not a JSON object");

    /*  Deep nesting, as deep as the size limit allows. */
    char nested[6000];
    size_t d = 0;
    d += sprintf (nested, "{\"x\":");
    while (d < 5 + 2950)
        nested[d++] = '[';
    while (d < 5 + 2 * 2950)
        nested[d++] = ']';
    nested[d] = '\0';
    strcat (nested, "}");
    s_forge (HEADER, nested, s_tok);
    assert_true (strlen (s_tok) <= EF_JWT_MAX_TOKEN);
    s_refused (s_tok, NULL);
    /*  Deep nesting in a header that is otherwise right. */
    char hdr[6000];
    snprintf (hdr, sizeof hdr, "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"x\":");
    d = strlen (hdr);
    size_t d0 = d;
    while (d < d0 + 2400)
        hdr[d++] = '[';
    while (d < d0 + 4800)
        hdr[d++] = ']';
    hdr[d] = '\0';
    strcat (hdr, "}");
    s_forge (hdr, PAYLOAD_WITH (""), s_tok);
    s_refused (s_tok, NULL);
}

/* ---------------------------------------------------------------- key */

typedef struct {
    char dir[64];
    char path[128];
} fx_t;

static int
s_setup (void **state)
{
    fx_t *fx = calloc (1, sizeof *fx);
    if (!fx || u_tmpdir (fx->dir, "jwt_test")) {
        free (fx);
        return -1;
    }
    snprintf (fx->path, sizeof fx->path, "%s/jwt.key", fx->dir);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *fx = *state;
    u_rmrf (fx->dir);
    free (fx);
    return 0;
}

/*  Entries of dir other than . and .. */
static int
s_count_entries (const char *dir)
{
    DIR *d = opendir (dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir (d)))
        if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
            n++;
    closedir (d);
    return n;
}

static void
test_key_file_is_created_0600_and_reloads_the_same_key (void **state)
{
    fx_t *fx = *state;
    uint8_t k1[EF_JWT_KEY_LEN], k2[EF_JWT_KEY_LEN], zero[EF_JWT_KEY_LEN] = {0};
    mode_t old = umask (0);
    int rc = ef_jwt_key_load_or_create (fx->path, k1);
    umask (old);
    assert_int_equal (rc, 0);
    assert_memory_not_equal (k1, zero, sizeof zero);
    struct stat st;
    assert_int_equal (stat (fx->path, &st), 0);
    assert_true (S_ISREG (st.st_mode));
    assert_int_equal (st.st_mode & 07777, 0600);
    assert_int_equal (st.st_size, EF_JWT_KEY_LEN);
    assert_int_equal (s_count_entries (fx->dir), 1); /* no temp file left */

    assert_int_equal (ef_jwt_key_load_or_create (fx->path, k2), 0);
    assert_memory_equal (k1, k2, sizeof k1);

    /*  Tokens signed before a restart verify after it. */
    ef_jwt_claims_t in = s_claims (), out;
    char tok[EF_JWT_MAX_SIGNED];
    assert_int_equal (ef_jwt_sign (k1, &in, tok, sizeof tok), 0);
    assert_int_equal (ef_jwt_verify (k2, tok, strlen (tok), NOW, &out, NULL),
                      0);
}

static void
test_two_generated_keys_differ (void **state)
{
    (void)state;
    uint8_t a[EF_JWT_KEY_LEN], b[EF_JWT_KEY_LEN];
    ef_jwt_key_generate (a);
    ef_jwt_key_generate (b);
    assert_memory_not_equal (a, b, sizeof a);
}

static void
test_wrong_size_key_file_is_einval_and_left_alone (void **state)
{
    fx_t *fx = *state;
    uint8_t key[EF_JWT_KEY_LEN];
    static const size_t sizes[] = {0, 1, EF_JWT_KEY_LEN - 1, EF_JWT_KEY_LEN + 1,
                                   4096};
    static char junk[4096];
    memset (junk, 'k', sizeof junk);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        FILE *f = fopen (fx->path, "wb");
        assert_non_null (f);
        assert_int_equal (fwrite (junk, 1, sizes[i], f), sizes[i]);
        fclose (f);
        memset (key, 0x77, sizeof key);
        assert_int_equal (ef_jwt_key_load_or_create (fx->path, key), EF_EINVAL);
        for (size_t j = 0; j < sizeof key; j++)
            assert_int_equal (key[j], 0x77);
        struct stat st;
        assert_int_equal (stat (fx->path, &st), 0);
        assert_int_equal (st.st_size, (off_t)sizes[i]);
    }
    /*  A directory where the key should be. */
    assert_int_equal (unlink (fx->path), 0);
    assert_int_equal (mkdir (fx->path, 0700), 0);
    assert_int_equal (ef_jwt_key_load_or_create (fx->path, key), EF_EINVAL);
    /*  A FIFO, which must not block the caller. */
    assert_int_equal (rmdir (fx->path), 0);
    assert_int_equal (mkfifo (fx->path, 0600), 0);
    assert_int_equal (ef_jwt_key_load_or_create (fx->path, key), EF_EINVAL);
}

static void
test_key_in_a_missing_directory_is_estore (void **state)
{
    fx_t *fx = *state;
    char path[192];
    uint8_t key[EF_JWT_KEY_LEN];
    snprintf (path, sizeof path, "%s/nope/jwt.key", fx->dir);
    assert_int_equal (ef_jwt_key_load_or_create (path, key), EF_ESTORE);
    assert_int_equal (ef_jwt_key_load_or_create ("", key), EF_ESTORE);
}

/* ---------------------------------------------------------------- key set */

static void
s_set_sign (const ef_jwt_keys_t *ks, uint64_t iat, char *tok)
{
    ef_jwt_claims_t c = s_claims ();
    c.iat = iat;
    c.exp = iat + 900;
    assert_int_equal (ef_jwt_keys_sign (ks, &c, tok, EF_JWT_MAX_SIGNED), 0);
}

static int
s_set_verify (const ef_jwt_keys_t *ks, const char *tok, uint64_t now,
              const char **why)
{
    ef_jwt_claims_t out;
    return ef_jwt_keys_verify (ks, tok, strlen (tok), now, &out, why);
}

/*  Before any rotation the set is jwt.key with kid "1"; a token without a
    kid (made before rotation existed) verifies with it only. Rotation
    makes a new current key that new tokens name; tokens of the old key
    verify until keep_s has passed, then that key is gone and its tokens
    are refused; a restart (reload from the directory) keeps the set. */
static void
test_key_set_rotation (void **state)
{
    fx_t *fx = *state;
    ef_jwt_keys_t ks, again;
    char legacy[EF_JWT_MAX_SIGNED], t1[EF_JWT_MAX_SIGNED];
    char t2[EF_JWT_MAX_SIGNED], kid[16];
    const char *why = NULL;
    assert_int_equal (ef_jwt_keys_load (&ks, fx->dir, NOW), 0);
    assert_int_equal (ks.n, 1);
    assert_string_equal (ks.k[0].kid, "1");

    /*  A kid-less token signed with jwt.key, as before this change. */
    uint8_t old[EF_JWT_KEY_LEN];
    assert_int_equal (ef_jwt_key_load_or_create (fx->path, old), 0);
    ef_jwt_claims_t c = s_claims ();
    assert_int_equal (ef_jwt_sign (old, &c, legacy, sizeof legacy), 0);
    assert_int_equal (s_set_verify (&ks, legacy, NOW, NULL), 0);
    s_set_sign (&ks, NOW, t1);
    ef_jwt_claims_t out;
    assert_int_equal (
        ef_jwt_keys_verify (&ks, t1, strlen (t1), NOW, &out, NULL), 0);
    assert_string_equal (out.kid, "1");

    assert_int_equal (ef_jwt_keys_rotate (&ks, fx->dir, NOW + 10, 900, kid), 0);
    assert_string_equal (kid, "2");
    s_set_sign (&ks, NOW + 10, t2);
    assert_int_equal (
        ef_jwt_keys_verify (&ks, t2, strlen (t2), NOW + 10, &out, NULL), 0);
    assert_string_equal (out.kid, "2");
    /*  The old key's tokens, with and without kid, still verify. */
    assert_int_equal (s_set_verify (&ks, legacy, NOW + 20, NULL), 0);
    assert_int_equal (s_set_verify (&ks, t1, NOW + 20, NULL), 0);

    /*  A restart keeps both keys. */
    assert_int_equal (ef_jwt_keys_load (&again, fx->dir, NOW + 20), 0);
    assert_int_equal (again.n, 2);
    assert_int_equal (s_set_verify (&again, t1, NOW + 20, NULL), 0);
    assert_int_equal (s_set_verify (&again, t2, NOW + 20, NULL), 0);
    assert_int_equal (s_set_verify (&again, legacy, NOW + 20, NULL), 0);

    /*  A token naming the other key's kid is refused even with a valid
        MAC: the kid must name the key that signed it. */
    ef_jwt_claims_t lie = s_claims ();
    char forged[EF_JWT_MAX_SIGNED];
    strcpy (lie.kid, "2");
    assert_int_equal (ef_jwt_sign (old, &lie, forged, sizeof forged), 0);
    assert_int_equal (s_set_verify (&ks, forged, NOW + 20, &why), EF_EAUTH);
    assert_string_equal (why, "kid does not name the key that signed it");

    /*  Once the old key has outlived its tokens, a rotation removes it:
        a token signed with it (were one still unexpired) is refused. */
    c = s_claims ();
    c.iat = NOW + 900;
    c.exp = NOW + 5000;
    strcpy (c.kid, "1");
    char late[EF_JWT_MAX_SIGNED];
    assert_int_equal (ef_jwt_sign (old, &c, late, sizeof late), 0);
    assert_int_equal (s_set_verify (&ks, late, NOW + 905, NULL), 0);
    assert_int_equal (ef_jwt_keys_rotate (&ks, fx->dir, NOW + 1000, 900, kid),
                      0);
    assert_string_equal (kid, "3");
    assert_int_equal (ks.n, 2);
    assert_int_equal (s_set_verify (&ks, late, NOW + 1000, &why), EF_EAUTH);
    assert_string_equal (why,
                         "signed by no key of the set (unknown or removed)");
    assert_int_equal (ef_jwt_keys_load (&again, fx->dir, NOW + 1000), 0);
    assert_int_equal (again.n, 2);
    assert_int_equal (s_set_verify (&again, late, NOW + 1000, NULL), EF_EAUTH);
    s_set_sign (&ks, NOW + 1000, t2);
    assert_int_equal (s_set_verify (&again, t2, NOW + 1000, NULL), 0);
    /*  No temporary file is left: jwt.key and jwt.keys. */
    assert_int_equal (s_count_entries (fx->dir), 2);
    ef_jwt_keys_wipe (&ks);
    ef_jwt_keys_wipe (&again);
}

/*  At most EF_JWT_KEYS_MAX keys verify at once; a damaged jwt.keys is
    refused, not half read. */
static void
test_key_set_limits_and_damage (void **state)
{
    fx_t *fx = *state;
    ef_jwt_keys_t ks;
    char kid[16], path[192];
    assert_int_equal (ef_jwt_keys_load (&ks, fx->dir, NOW), 0);
    for (int i = 1; i < EF_JWT_KEYS_MAX; i++)
        assert_int_equal (ef_jwt_keys_rotate (&ks, fx->dir, NOW, 900, kid), 0);
    assert_int_equal (ef_jwt_keys_rotate (&ks, fx->dir, NOW, 900, kid),
                      EF_ECONFLICT);
    assert_int_equal (ks.n, EF_JWT_KEYS_MAX);
    assert_int_equal (ef_jwt_keys_rotate (&ks, fx->dir, NOW + 901, 900, kid),
                      0);
    snprintf (path, sizeof path, "%s/jwt.keys", fx->dir);
    static const char *const bad[] = {
        "",
        "1 00 0\n",
        "1 0000000000000000000000000000000000000000000000000000000000000000 "
        "5\n",
        "1 0000000000000000000000000000000000000000000000000000000000000000 0",
        "x/y 0000000000000000000000000000000000000000000000000000000000000000 "
        "0\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen (path, "w");
        assert_non_null (f);
        fputs (bad[i], f);
        fclose (f);
        assert_int_equal (ef_jwt_keys_load (&ks, fx->dir, NOW), EF_EINVAL);
    }
    ef_jwt_keys_wipe (&ks);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_signed_token_verifies_to_the_same_claims),
        cmocka_unit_test (test_header_is_exactly_hs256_at_jwt),
        cmocka_unit_test (
            test_token_without_family_round_trips_with_empty_family),
        cmocka_unit_test (test_largest_claims_fit_max_signed_and_round_trip),
        cmocka_unit_test (test_sign_reports_a_buffer_one_byte_short),
        cmocka_unit_test (test_sign_refuses_claims_it_could_not_verify),
        cmocka_unit_test (test_expired_token_is_refused),
        cmocka_unit_test (test_token_is_refused_at_the_second_it_expires),
        cmocka_unit_test (test_iat_more_than_a_minute_ahead_is_refused),
        cmocka_unit_test (test_time_claims_must_be_non_negative_integers),
        cmocka_unit_test (test_tampered_payload_is_refused),
        cmocka_unit_test (test_tampered_signature_is_refused),
        cmocka_unit_test (test_every_single_byte_change_is_refused),
        cmocka_unit_test (test_token_signed_with_another_key_is_refused),
        cmocka_unit_test (test_token_need_not_be_nul_terminated),
        cmocka_unit_test (test_alg_none_is_refused),
        cmocka_unit_test (
            test_other_algs_are_refused_even_under_a_valid_hs256_mac),
        cmocka_unit_test (test_typ_other_than_at_jwt_is_refused),
        cmocka_unit_test (test_header_with_crit_or_other_parameters_is_refused),
        cmocka_unit_test (test_kid_is_returned_and_checked),
        cmocka_unit_test (test_wrong_or_missing_aud_is_refused),
        cmocka_unit_test (test_aud_array_containing_eventflow_is_accepted),
        cmocka_unit_test (test_identity_claims_must_fit_their_fields),
        cmocka_unit_test (test_garbage_is_refused_without_harm),
        cmocka_unit_test (test_signed_non_json_and_non_objects_are_refused),
        cmocka_unit_test (test_two_generated_keys_differ),
        cmocka_unit_test_setup_teardown (
            test_key_file_is_created_0600_and_reloads_the_same_key, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown (
            test_wrong_size_key_file_is_einval_and_left_alone, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown (
            test_key_in_a_missing_directory_is_estore, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_key_set_rotation, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_key_set_limits_and_damage,
                                         s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
