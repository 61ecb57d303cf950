/*  test_auth.c: unit tests of ef_auth, how the broker turns a request's
    credential into a principal, over a real LMDB store and data dir in a
    temporary directory (opened once for the group: ef_auth_open makes
    the keys and the default org, and hashes two passwords). An API key
    resolves to its org, role and scope; a revoked key or a wrong secret
    is refused. An access token resolves to its user; an expired,
    tampered or foreign-signed token, a refresh token presented as an
    access token, a token of a revoked family and one issued before a
    password change are refused. A registered client key resolves; a
    revoked or unknown one is refused. Registering a client key needs a
    proof that only its holder can make for this broker and org; the
    operator is the gateway or the data dir's local admin key. Every
    refusal is the one uniform EF_EAUTH. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ef_auth.h"
#include "ef_broker.h"
#include "ef_jwt.h"
#include "ef_principals.h"
#include "u_store.h"
#include "eventflow/ef_config.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_time.h"

typedef struct {
    u_store_t st; /* first: u_store_teardown frees it all */
    ef_config_t *cfg;
    ef_auth_t *auth;
    ef_store_txn_t *r;
    uint8_t jwt_key[EF_JWT_KEY_LEN];
    ef_org_t org;
    ef_user_t user;
    char live_key[96], revoked_key[96], scoped_key[96];
    ef_cert_t client, revoked_client, admin;
} fx_t;

static ef_store_txn_t *
s_begin (fx_t *fx)
{
    ef_store_txn_t *w;
    assert_int_equal (ef_store_write_begin (fx->st.store, &w), 0);
    return w;
}

static void
s_commit (ef_store_txn_t *w)
{
    assert_int_equal (ef_store_write_commit (&w), 0);
}

static void
s_apikey (ef_store_txn_t *w, fx_t *fx, const char *name, const char *stream,
          char *secret)
{
    ef_apikey_t k;
    memset (&k, 0, sizeof k);
    k.org = fx->org.num;
    snprintf (k.name, sizeof k.name, "%s", name);
    k.role = EF_ROLE_PRODUCER;
    if (stream) {
        snprintf (k.streams[0], sizeof k.streams[0], "%s", stream);
        k.nstreams = 1;
    }
    assert_int_equal (
        ef_principals_apikey_create (w, &k, ef_time_now_ms (), secret), 0);
}

static int
s_group_setup (void **state)
{
    u_store_setup (state);
    fx_t *fx = realloc (*state, sizeof *fx);
    assert_non_null (fx);
    memset ((char *)fx + sizeof fx->st, 0, sizeof *fx - sizeof fx->st);
    *state = fx;
    u_store_open (&fx->st, 0, 0);
    fx->cfg = ef_config_new (ef_broker_options);
    assert_non_null (fx->cfg);
    fx->auth = ef_auth_new (fx->st.store, fx->cfg, NULL);
    assert_non_null (fx->auth);
    assert_int_equal (ef_auth_open (fx->auth, fx->st.dir), 0);
    char path[128];
    snprintf (path, sizeof path, "%s/jwt.key", fx->st.dir);
    assert_int_equal (ef_jwt_key_load_or_create (path, fx->jwt_key), 0);
    snprintf (path, sizeof path, "%s/admin.key", fx->st.dir);
    assert_int_equal (ef_cert_load (path, &fx->admin), 0);

    uint64_t now = ef_time_now_ms ();
    ef_store_txn_t *w = s_begin (fx);
    assert_int_equal (ef_principals_org_get (w, 1, &fx->org), 0);
    assert_int_equal (
        ef_principals_user_create (w, fx->org.num, ef_str ("ann@example.com"),
                                   EF_ROLE_PRODUCER, "unused", now, &fx->user),
        0);
    s_apikey (w, fx, "live", NULL, fx->live_key);
    s_apikey (w, fx, "revoked", NULL, fx->revoked_key);
    s_apikey (w, fx, "scoped", "orders", fx->scoped_key);
    char id[17] = "";
    memcpy (id, fx->revoked_key + 4, 16);
    assert_int_equal (
        ef_principals_apikey_revoke (w, fx->org.num, ef_str (id), now), 0);
    ef_clientkey_t ck;
    assert_int_equal (ef_cert_generate (&fx->client), 0);
    assert_int_equal (ef_cert_generate (&fx->revoked_client), 0);
    assert_int_equal (ef_principals_clientkey_add (
                          w, ef_str (fx->client.public_key), fx->org.num,
                          EF_ROLE_CONSUMER, ef_str ("reader"), now, &ck),
                      0);
    assert_int_equal (
        ef_principals_clientkey_add (w, ef_str (fx->revoked_client.public_key),
                                     fx->org.num, EF_ROLE_CONSUMER,
                                     ef_str ("gone"), now, &ck),
        0);
    assert_int_equal (
        ef_principals_clientkey_revoke (
            w, fx->org.num, ef_str (fx->revoked_client.public_key), now),
        0);
    s_commit (w);
    fx->r = ef_store_reader_new (fx->st.store);
    assert_non_null (fx->r);
    return 0;
}

static int
s_group_teardown (void **state)
{
    fx_t *fx = *state;
    ef_store_reader_destroy (&fx->r);
    ef_auth_destroy (&fx->auth);
    ef_config_destroy (&fx->cfg);
    return u_store_teardown (state);
}

/*  Resolve a request carrying api_key or jwt (either may be NULL) from
    peer (the ZAP User-Id, may be NULL). */
static int
s_resolve (fx_t *fx, const char *peer, const char *api_key, const char *jwt,
           ef_who_t *who)
{
    ef_request_t req;
    memset (&req, 0, sizeof req);
    if (api_key)
        req.auth_api_key = ef_str (api_key);
    if (jwt)
        req.auth_jwt = ef_str (jwt);
    assert_int_equal (ef_store_reader_begin (fx->r), 0);
    int rc = ef_auth_resolve (fx->auth, fx->r, peer, &req, who);
    ef_store_reader_end (fx->r);
    return rc;
}

/*  A token for fx->user signed with key, issued at iat, living ttl s. */
static void
s_token (fx_t *fx, const uint8_t *key, uint64_t iat, uint64_t ttl,
         const char *fam, char *out)
{
    ef_jwt_claims_t c;
    memset (&c, 0, sizeof c);
    snprintf (c.sub, sizeof c.sub, "%s", fx->user.id);
    snprintf (c.org, sizeof c.org, "%s", fx->org.id);
    snprintf (c.role, sizeof c.role, "producer");
    snprintf (c.fam, sizeof c.fam, "%s", fam ? fam : "");
    c.iat = iat;
    c.exp = iat + ttl;
    assert_int_equal (ef_jwt_sign (key, &c, out, EF_ACCESS_MAX), 0);
}

/* ---------------------------------------------------------------- api keys */

static void
test_api_key_resolves_to_its_org_role_and_scope (void **state)
{
    fx_t *fx = *state;
    ef_who_t who;
    assert_int_equal (s_resolve (fx, NULL, fx->live_key, NULL, &who), 0);
    assert_int_equal (who.kind, EF_WHO_API_KEY);
    assert_int_equal (who.org, fx->org.num);
    assert_int_equal (who.role, EF_ROLE_PRODUCER);
    assert_memory_equal (who.id, fx->live_key + 4, 16);
    assert_true (ef_principals_apikey_allows (&who.key, "anything", ""));

    assert_int_equal (s_resolve (fx, NULL, fx->scoped_key, NULL, &who), 0);
    assert_int_equal (who.kind, EF_WHO_API_KEY);
    assert_true (ef_principals_apikey_allows (&who.key, "orders", ""));
    assert_false (ef_principals_apikey_allows (&who.key, "audit", ""));
}

static void
test_revoked_api_key_or_wrong_secret_is_refused (void **state)
{
    fx_t *fx = *state;
    ef_who_t who;
    assert_int_equal (s_resolve (fx, NULL, fx->revoked_key, NULL, &who),
                      EF_EAUTH);
    char wrong[96];
    snprintf (wrong, sizeof wrong, "%s", fx->live_key);
    size_t n = strlen (wrong);
    wrong[n - 1] = wrong[n - 1] == 'a' ? 'b' : 'a';
    assert_int_equal (s_resolve (fx, NULL, wrong, NULL, &who), EF_EAUTH);
    assert_int_equal (s_resolve (fx, NULL, "efk_nonsense", NULL, &who),
                      EF_EAUTH);
    /* a bad key is not passed over for the peer's client key */
    char peer[64];
    snprintf (peer, sizeof peer, "ck:%s", fx->client.public_key);
    assert_int_equal (s_resolve (fx, peer, wrong, NULL, &who), EF_EAUTH);
}

/* ---------------------------------------------------------------- JWT */

static void
test_access_token_resolves_to_its_user (void **state)
{
    fx_t *fx = *state;
    char tok[EF_ACCESS_MAX];
    assert_int_equal (ef_auth_access_token (fx->auth, &fx->user, &fx->org, "",
                                            ef_time_now_ms (), tok),
                      0);
    ef_who_t who;
    assert_int_equal (s_resolve (fx, NULL, NULL, tok, &who), 0);
    assert_int_equal (who.kind, EF_WHO_USER);
    assert_int_equal (who.org, fx->org.num);
    assert_int_equal (who.role, EF_ROLE_PRODUCER);
    assert_string_equal (who.id, fx->user.id);
}

static void
test_expired_tampered_or_foreign_token_is_refused (void **state)
{
    fx_t *fx = *state;
    uint64_t now_s = ef_time_now_ms () / 1000;
    char tok[EF_ACCESS_MAX];
    ef_who_t who;
    /* expired a second ago */
    s_token (fx, fx->jwt_key, now_s - EF_ACCESS_TTL_S - 1, EF_ACCESS_TTL_S,
             NULL, tok);
    assert_int_equal (s_resolve (fx, NULL, NULL, tok, &who), EF_EAUTH);
    /* tampered: one character of the payload changed */
    s_token (fx, fx->jwt_key, now_s, EF_ACCESS_TTL_S, NULL, tok);
    assert_int_equal (s_resolve (fx, NULL, NULL, tok, &who), 0);
    char *payload = strchr (tok, '.') + 1;
    payload[3] = payload[3] == 'A' ? 'B' : 'A';
    assert_int_equal (s_resolve (fx, NULL, NULL, tok, &who), EF_EAUTH);
    /* signed with another key */
    uint8_t other[EF_JWT_KEY_LEN];
    ef_jwt_key_generate (other);
    s_token (fx, other, now_s, EF_ACCESS_TTL_S, NULL, tok);
    assert_int_equal (s_resolve (fx, NULL, NULL, tok, &who), EF_EAUTH);
}

static void
test_refresh_token_used_as_access_token_is_refused (void **state)
{
    fx_t *fx = *state;
    ef_family_t fam;
    char refresh[EF_REFRESH_TOKEN_MAX];
    ef_store_txn_t *w = s_begin (fx);
    assert_int_equal (ef_principals_family_create (
                          w, &fx->user, ef_time_now_ms (), &fam, refresh),
                      0);
    s_commit (w);
    ef_who_t who;
    assert_int_equal (s_resolve (fx, NULL, NULL, refresh, &who), EF_EAUTH);
}

static void
test_token_of_a_revoked_family_is_refused (void **state)
{
    fx_t *fx = *state;
    ef_family_t fam;
    char refresh[EF_REFRESH_TOKEN_MAX], tok[EF_ACCESS_MAX];
    uint64_t now = ef_time_now_ms ();
    ef_store_txn_t *w = s_begin (fx);
    assert_int_equal (
        ef_principals_family_create (w, &fx->user, now, &fam, refresh), 0);
    s_commit (w);
    assert_int_equal (
        ef_auth_access_token (fx->auth, &fx->user, &fx->org, fam.id, now, tok),
        0);
    ef_who_t who;
    assert_int_equal (s_resolve (fx, NULL, NULL, tok, &who), 0);
    assert_string_equal (who.family, fam.id);
    w = s_begin (fx); /* logout */
    assert_int_equal (
        ef_principals_family_revoke (w, ef_str (refresh), now + 1), 0);
    s_commit (w);
    assert_int_equal (s_resolve (fx, NULL, NULL, tok, &who), EF_EAUTH);
}

static void
test_token_issued_before_a_password_change_is_refused (void **state)
{
    fx_t *fx = *state;
    uint64_t now = ef_time_now_ms ();
    uint64_t now_s = now / 1000;
    ef_family_t fam;
    char refresh[EF_REFRESH_TOKEN_MAX], old[EF_ACCESS_MAX],
        old_fam[EF_ACCESS_MAX], fresh[EF_ACCESS_MAX];
    ef_store_txn_t *w = s_begin (fx);
    assert_int_equal (
        ef_principals_family_create (w, &fx->user, now - 10000, &fam, refresh),
        0);
    s_commit (w);
    s_token (fx, fx->jwt_key, now_s - 10, EF_ACCESS_TTL_S, NULL, old);
    s_token (fx, fx->jwt_key, now_s - 10, EF_ACCESS_TTL_S, fam.id, old_fam);
    ef_who_t who;
    assert_int_equal (s_resolve (fx, NULL, NULL, old, &who), 0);
    assert_int_equal (s_resolve (fx, NULL, NULL, old_fam, &who), 0);

    /* the password changes five seconds ago */
    ef_user_t u;
    w = s_begin (fx);
    assert_int_equal (ef_principals_user_get (w, ef_str (fx->user.id), &u), 0);
    u.tokens_after = now - 5000;
    assert_int_equal (ef_principals_user_put (w, &u), 0);
    s_commit (w);
    assert_int_equal (s_resolve (fx, NULL, NULL, old, &who), EF_EAUTH);
    assert_int_equal (s_resolve (fx, NULL, NULL, old_fam, &who), EF_EAUTH);
    /* one made since holds */
    s_token (fx, fx->jwt_key, now_s, EF_ACCESS_TTL_S, NULL, fresh);
    assert_int_equal (s_resolve (fx, NULL, NULL, fresh, &who), 0);
    assert_int_equal (who.kind, EF_WHO_USER);
}

/* ---------------------------------------------------------------- client keys */

static void
test_registered_client_key_resolves_and_a_revoked_one_is_refused (void **state)
{
    fx_t *fx = *state;
    char peer[64];
    ef_who_t who;
    snprintf (peer, sizeof peer, "ck:%s", fx->client.public_key);
    assert_int_equal (s_resolve (fx, peer, NULL, NULL, &who), 0);
    assert_int_equal (who.kind, EF_WHO_CLIENT_KEY);
    assert_int_equal (who.org, fx->org.num);
    assert_int_equal (who.role, EF_ROLE_CONSUMER);
    assert_string_equal (who.id, fx->client.public_key);

    snprintf (peer, sizeof peer, "ck:%s", fx->revoked_client.public_key);
    assert_int_equal (s_resolve (fx, peer, NULL, NULL, &who), EF_EAUTH);
    ef_cert_t unknown;
    assert_int_equal (ef_cert_generate (&unknown), 0);
    snprintf (peer, sizeof peer, "ck:%s", unknown.public_key);
    assert_int_equal (s_resolve (fx, peer, NULL, NULL, &who), EF_EAUTH);
    assert_int_equal (s_resolve (fx, "ck:short", NULL, NULL, &who), EF_EAUTH);
}

static void
test_request_without_credential_is_anonymous (void **state)
{
    fx_t *fx = *state;
    ef_who_t who;
    assert_int_equal (s_resolve (fx, NULL, NULL, NULL, &who), 0);
    assert_int_equal (who.kind, EF_WHO_NONE);
    assert_int_equal (who.role, EF_ROLE_NONE);
    assert_int_equal (s_resolve (fx, "gw", NULL, NULL, &who), 0);
    assert_int_equal (who.role, EF_ROLE_NONE);
}

static void
test_client_key_registration_needs_the_holders_proof (void **state)
{
    fx_t *fx = *state;
    const ef_cert_t *server = ef_auth_server_cert (fx->auth);
    ef_cert_t k;
    char proof[EF_CERT_PROOF_LEN + 1], other_org[EF_CERT_PROOF_LEN + 1],
        forged[EF_CERT_PROOF_LEN + 1];
    const char *why = NULL;
    assert_int_equal (ef_cert_generate (&k), 0);
    assert_int_equal (
        ef_cert_proof (k.secret_key, server->public_key, fx->org.id, proof), 0);
    assert_int_equal (ef_auth_clientkey_check (fx->auth, ef_str (k.public_key),
                                               fx->org.id, ef_str (proof),
                                               &why),
                      0);
    /* no proof, or not one of 64 characters */
    assert_int_equal (ef_auth_clientkey_check (fx->auth, ef_str (k.public_key),
                                               fx->org.id, EF_STR_NULL, &why),
                      EF_EINVAL);
    assert_non_null (why);
    /* a proof for another org does not hold for this one */
    assert_int_equal (ef_cert_proof (k.secret_key, server->public_key,
                                     "another-org", other_org),
                      0);
    assert_int_equal (ef_auth_clientkey_check (fx->auth, ef_str (k.public_key),
                                               fx->org.id, ef_str (other_org),
                                               &why),
                      EF_EFORBIDDEN);
    /* made by someone who does not hold k's secret */
    assert_int_equal (ef_cert_proof (fx->client.secret_key, server->public_key,
                                     fx->org.id, forged),
                      0);
    assert_int_equal (ef_auth_clientkey_check (fx->auth, ef_str (k.public_key),
                                               fx->org.id, ef_str (forged),
                                               &why),
                      EF_EFORBIDDEN);
    /* the broker's own key is never a client's */
    assert_int_equal (
        ef_auth_clientkey_check (fx->auth, ef_str (server->public_key),
                                 fx->org.id, ef_str (proof), &why),
        EF_EFORBIDDEN);
    /* not a key */
    assert_int_equal (ef_auth_clientkey_check (fx->auth, ef_str ("short"),
                                               fx->org.id, ef_str (proof),
                                               &why),
                      EF_EINVAL);
}

static void
test_operator_is_the_gateway_or_the_local_admin_key (void **state)
{
    fx_t *fx = *state;
    ef_who_t who;
    memset (&who, 0, sizeof who);
    who.kind = EF_WHO_GATEWAY;
    assert_true (ef_auth_is_operator (fx->auth, &who));
    /* the admin key of the data dir, as the broker resolves it */
    char peer[64];
    snprintf (peer, sizeof peer, "ck:%s", fx->admin.public_key);
    assert_int_equal (s_resolve (fx, peer, NULL, NULL, &who), 0);
    assert_int_equal (who.role, EF_ROLE_ADMIN);
    assert_true (ef_auth_is_operator (fx->auth, &who));
    /* an org's own client key, even an admin's API key, is not */
    snprintf (peer, sizeof peer, "ck:%s", fx->client.public_key);
    assert_int_equal (s_resolve (fx, peer, NULL, NULL, &who), 0);
    assert_false (ef_auth_is_operator (fx->auth, &who));
    assert_int_equal (s_resolve (fx, NULL, fx->live_key, NULL, &who), 0);
    assert_false (ef_auth_is_operator (fx->auth, &who));
    assert_int_equal (s_resolve (fx, NULL, NULL, NULL, &who), 0);
    assert_false (ef_auth_is_operator (fx->auth, &who));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_api_key_resolves_to_its_org_role_and_scope),
        cmocka_unit_test (test_revoked_api_key_or_wrong_secret_is_refused),
        cmocka_unit_test (test_access_token_resolves_to_its_user),
        cmocka_unit_test (test_expired_tampered_or_foreign_token_is_refused),
        cmocka_unit_test (test_refresh_token_used_as_access_token_is_refused),
        cmocka_unit_test (test_token_of_a_revoked_family_is_refused),
        cmocka_unit_test (
            test_token_issued_before_a_password_change_is_refused),
        cmocka_unit_test (
            test_registered_client_key_resolves_and_a_revoked_one_is_refused),
        cmocka_unit_test (test_request_without_credential_is_anonymous),
        cmocka_unit_test (test_client_key_registration_needs_the_holders_proof),
        cmocka_unit_test (test_operator_is_the_gateway_or_the_local_admin_key),
    };
    return cmocka_run_group_tests (tests, s_group_setup, s_group_teardown);
}
