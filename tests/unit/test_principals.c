/*  test_principals.c: unit tests of ef_principals, who may do what, over
    a real LMDB store in a temporary directory: users (emails folded to
    lower case, taken once, bad ones refused), API keys (the secret shown
    once and never stored, verification in every way it can fail,
    revocation, one org never seeing another's key, stream scopes),
    CurveZMQ client keys (registered once, revoked, registered again),
    and refresh-token families (rotation, a replayed token revoking the
    whole family, a password change killing older families), and that
    all of it is still there after the store is reopened. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "ef_principals.h"
#include "ef_store.h"
#include "u_store.h"
#include "eventflow/ef_error.h"

#define T0 1700000000000ull

/* ---------------------------------------------------------------- helpers */

static uint32_t
s_org (ef_store_txn_t *txn, const char *name)
{
    ef_org_t org;
    assert_int_equal (ef_principals_org_create (txn, ef_str (name), T0, &org),
                      0);
    return org.num;
}

/*  Open fx's store (fsync or not), begin *txn and make the org "acme"
    in it; its number. */
static uint32_t
s_acme (u_store_t *fx, int fsync, ef_store_txn_t **txn)
{
    u_store_open (fx, 0, fsync);
    *txn = u_write_begin (fx->store);
    return s_org (*txn, "acme");
}

/*  The admin user ann@example.com of org, into *u. */
static void
s_ann (ef_store_txn_t *txn, uint32_t org, ef_user_t *u)
{
    assert_int_equal (ef_principals_user_create (txn, org,
                                                 ef_str ("ann@example.com"),
                                                 EF_ROLE_ADMIN, "h", T0, u),
                      0);
}

/*  A producer key of org (scoped to stream when not NULL); its whole
    text into secret (96 bytes), the record into *k. */
static void
s_apikey (ef_store_txn_t *txn, uint32_t org, const char *stream, ef_apikey_t *k,
          char *secret)
{
    memset (k, 0, sizeof *k);
    k->org = org;
    snprintf (k->name, sizeof k->name, "ingest");
    k->role = EF_ROLE_PRODUCER;
    if (stream) {
        snprintf (k->streams[0], sizeof k->streams[0], "%s", stream);
        k->nstreams = 1;
    }
    assert_int_equal (ef_principals_apikey_create (txn, k, T0, secret), 0);
}

/* ---------------------------------------------------------------- users */

static void
test_emails_are_taken_once_whatever_their_case (void **state)
{
    u_store_t *fx = *state;
    ef_store_txn_t *txn;
    uint32_t org = s_acme (fx, 0, &txn);
    ef_user_t u, found;
    assert_int_equal (ef_principals_user_create (txn, org,
                                                 ef_str ("Ann@Example.COM"),
                                                 EF_ROLE_ADMIN, "h", T0, &u),
                      0);
    assert_string_equal (u.email, "ann@example.com");
    assert_int_equal (
        ef_principals_user_create (txn, org, ef_str ("ann@example.com"),
                                   EF_ROLE_CONSUMER, "h", T0, &found),
        EF_EEXISTS);
    assert_int_equal (
        ef_principals_user_by_email (txn, ef_str ("ANN@example.com"), &found),
        0);
    assert_string_equal (found.id, u.id);
    assert_int_equal (found.role, EF_ROLE_ADMIN);
    assert_int_equal (
        ef_principals_user_by_email (txn, ef_str ("bob@example.com"), &found),
        EF_ENOTFOUND);
    u_write_commit (&txn);
}

static void
test_bad_emails_are_refused (void **state)
{
    u_store_t *fx = *state;
    ef_store_txn_t *txn;
    uint32_t org = s_acme (fx, 0, &txn);
    ef_user_t u;
    char longest[300];
    memset (longest, 'a', sizeof longest);
    memcpy (longest + 250, "@x.io", 6); /* 255 bytes */
    const char *bad[] = {
        "", "ann", "@example.com", "ann@", "an n@example.com", longest};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_false (ef_principals_email_valid (ef_str (bad[i])));
        assert_int_equal (ef_principals_user_create (txn, org, ef_str (bad[i]),
                                                     EF_ROLE_ADMIN, "h", T0,
                                                     &u),
                          EF_EINVAL);
    }
    assert_true (ef_principals_email_valid (ef_str ("ann@example.com")));
    ef_store_write_abort (&txn);
}

/* ---------------------------------------------------------------- api keys */

static void
test_an_api_key_verifies_and_its_secret_is_not_stored (void **state)
{
    u_store_t *fx = *state;
    ef_store_txn_t *txn;
    uint32_t org = s_acme (fx, 0, &txn);
    ef_apikey_t k, got;
    char secret[96];
    const char *why = NULL;
    s_apikey (txn, org, NULL, &k, secret);
    /* "efk_<id>_<secret>" */
    assert_memory_equal (secret, "efk_", 4);
    assert_memory_equal (secret + 4, k.id, strlen (k.id));
    const char *part = secret + 4 + strlen (k.id) + 1;
    assert_int_equal (strlen (part), EF_SECRET_HEX);
    /* what is stored is a hash, not the secret */
    assert_string_not_equal (k.hash, part);
    u_write_commit (&txn);

    txn = u_write_begin (fx->store);
    assert_int_equal (
        ef_principals_apikey_verify (txn, ef_str (secret), &got, &why), 0);
    assert_string_equal (got.id, k.id);
    assert_int_equal (got.org, org);
    assert_int_equal (got.role, EF_ROLE_PRODUCER);
    assert_null (strstr (got.hash, part));
    /* one character of the secret changed; cut short; unknown id; junk */
    char wrong[96];
    snprintf (wrong, sizeof wrong, "%s", secret);
    wrong[strlen (wrong) - 1] = wrong[strlen (wrong) - 1] == '0' ? '1' : '0';
    const char *bad[] = {wrong, "efk_", "efk_0000000000000000_00", "",
                         "Bearer x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        why = NULL;
        assert_int_equal (
            ef_principals_apikey_verify (txn, ef_str (bad[i]), &got, &why),
            EF_EAUTH);
        assert_non_null (why);
    }
    snprintf (wrong, sizeof wrong, "%.*s", (int)strlen (secret) - 1, secret);
    assert_int_equal (
        ef_principals_apikey_verify (txn, ef_str (wrong), &got, &why),
        EF_EAUTH);
    u_write_commit (&txn);
}

static void
test_a_revoked_key_no_longer_verifies_but_stays_listed (void **state)
{
    u_store_t *fx = *state;
    ef_store_txn_t *txn;
    uint32_t org = s_acme (fx, 0, &txn);
    ef_apikey_t k, got;
    char secret[96];
    const char *why;
    s_apikey (txn, org, NULL, &k, secret);
    assert_int_equal (
        ef_principals_apikey_revoke (txn, org, ef_str (k.id), T0 + 5), 0);
    assert_int_equal (
        ef_principals_apikey_verify (txn, ef_str (secret), &got, &why),
        EF_EAUTH);
    assert_int_equal (ef_principals_apikey_get (txn, org, ef_str (k.id), &got),
                      0);
    assert_int_equal (got.revoked_at, T0 + 5);
    u_write_commit (&txn);
}

static int
s_count_key (void *arg, const ef_apikey_t *k)
{
    (void)k;
    (*(int *)arg)++;
    return 0;
}

static void
test_an_org_never_sees_another_orgs_key (void **state)
{
    u_store_t *fx = *state;
    u_store_open (fx, 0, 0);
    ef_store_txn_t *txn = u_write_begin (fx->store);
    uint32_t a = s_org (txn, "a"), b = s_org (txn, "b");
    ef_apikey_t k, got;
    char secret[96];
    s_apikey (txn, a, NULL, &k, secret);
    assert_int_equal (ef_principals_apikey_get (txn, a, ef_str (k.id), &got),
                      0);
    assert_int_equal (ef_principals_apikey_get (txn, b, ef_str (k.id), &got),
                      EF_ENOTFOUND);
    assert_int_equal (ef_principals_apikey_revoke (txn, b, ef_str (k.id), T0),
                      EF_ENOTFOUND);
    int na = 0, nb = 0;
    assert_int_equal (ef_principals_apikey_each (txn, a, s_count_key, &na), 0);
    assert_int_equal (ef_principals_apikey_each (txn, b, s_count_key, &nb), 0);
    assert_int_equal (na, 1);
    assert_int_equal (nb, 0);
    /* still live for its own org: b's revoke changed nothing */
    const char *why;
    assert_int_equal (
        ef_principals_apikey_verify (txn, ef_str (secret), &got, &why), 0);
    u_write_commit (&txn);
}

static void
test_a_scoped_key_allows_its_streams_only (void **state)
{
    u_store_t *fx = *state;
    ef_store_txn_t *txn;
    uint32_t org = s_acme (fx, 0, &txn);
    ef_apikey_t scoped, all;
    char secret[96];
    s_apikey (txn, org, "orders", &scoped, secret);
    s_apikey (txn, org, NULL, &all, secret);
    assert_true (ef_principals_apikey_allows (&scoped, "orders", "id-1"));
    assert_false (ef_principals_apikey_allows (&scoped, "payments", "id-2"));
    assert_true (ef_principals_apikey_allows (&all, "payments", "id-2"));
    u_write_commit (&txn);
}

/* ---------------------------------------------------------------- client keys */

static void
test_a_client_key_is_registered_once_and_again_after_revocation (void **st)
{
    u_store_t *fx = *st;
    ef_store_txn_t *txn;
    uint32_t org = s_acme (fx, 0, &txn);
    ef_clientkey_t ck, got;
    /* not Z85, too short */
    assert_int_equal (ef_principals_clientkey_add (txn, ef_str ("short"), org,
                                                   EF_ROLE_PRODUCER,
                                                   ef_str ("n"), T0, &ck),
                      EF_EINVAL);
    /* a real Z85 key (the ZeroMQ reference vector) */
    const char *pub = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
    assert_int_equal (ef_principals_clientkey_add (txn, ef_str (pub), org,
                                                   EF_ROLE_PRODUCER,
                                                   ef_str ("sensor"), T0, &ck),
                      0);
    assert_int_equal (ef_principals_clientkey_add (txn, ef_str (pub), org,
                                                   EF_ROLE_ADMIN,
                                                   ef_str ("again"), T0, &got),
                      EF_EEXISTS);
    assert_int_equal (ef_principals_clientkey_get (txn, ck.pub, &got), 0);
    assert_int_equal (got.org, org);
    assert_int_equal (got.role, EF_ROLE_PRODUCER);
    assert_string_equal (got.name, "sensor");
    assert_int_equal (
        ef_principals_clientkey_revoke (txn, org, ef_str (pub), T0 + 1), 0);
    assert_int_equal (ef_principals_clientkey_get (txn, ck.pub, &got),
                      EF_ENOTFOUND);
    assert_int_equal (
        ef_principals_clientkey_add (txn, ef_str (pub), org, EF_ROLE_CONSUMER,
                                     ef_str ("back"), T0 + 2, &ck),
        0);
    assert_int_equal (ef_principals_clientkey_get (txn, ck.pub, &got), 0);
    assert_int_equal (got.role, EF_ROLE_CONSUMER);
    u_write_commit (&txn);
}

/* ---------------------------------------------------------------- refresh */

static void
test_a_replayed_refresh_token_revokes_its_family (void **state)
{
    u_store_t *fx = *state;
    ef_store_txn_t *txn;
    uint32_t org = s_acme (fx, 0, &txn);
    ef_user_t u;
    ef_family_t f;
    char t1[EF_REFRESH_TOKEN_MAX], t2[EF_REFRESH_TOKEN_MAX],
        t3[EF_REFRESH_TOKEN_MAX];
    s_ann (txn, org, &u);
    assert_int_equal (ef_principals_family_create (txn, &u, T0, &f, t1), 0);
    /* rotation: the current token gets a new one */
    assert_int_equal (
        ef_principals_family_rotate (txn, ef_str (t1), T0 + 1, &f, t2), 0);
    assert_string_not_equal (t1, t2);
    /* t1 again: a replay; the family is revoked and the revocation is
       written for the caller to commit */
    assert_int_equal (
        ef_principals_family_rotate (txn, ef_str (t1), T0 + 2, &f, t3),
        EF_EAUTH);
    u_write_commit (&txn);
    txn = u_write_begin (fx->store);
    /* the legitimate holder's t2 is dead too */
    assert_int_equal (
        ef_principals_family_rotate (txn, ef_str (t2), T0 + 3, &f, t3),
        EF_EAUTH);
    assert_int_equal (ef_principals_family_revoke (txn, ef_str (t2), T0 + 3),
                      EF_EAUTH);
    ef_store_write_abort (&txn);
}

static void
test_a_password_change_kills_older_families (void **state)
{
    u_store_t *fx = *state;
    ef_store_txn_t *txn;
    uint32_t org = s_acme (fx, 0, &txn);
    ef_user_t u;
    ef_family_t f, later;
    char t1[EF_REFRESH_TOKEN_MAX], t2[EF_REFRESH_TOKEN_MAX],
        t3[EF_REFRESH_TOKEN_MAX];
    s_ann (txn, org, &u);
    assert_int_equal (ef_principals_family_create (txn, &u, T0, &f, t1), 0);
    assert_true (ef_principals_family_live (&f, &u));
    u.tokens_after = T0 + 10; /* the password changed */
    assert_int_equal (ef_principals_user_put (txn, &u), 0);
    assert_false (ef_principals_family_live (&f, &u));
    assert_int_equal (
        ef_principals_family_rotate (txn, ef_str (t1), T0 + 11, &f, t3),
        EF_EAUTH);
    /* a family made after the change is fine */
    assert_int_equal (
        ef_principals_family_create (txn, &u, T0 + 20, &later, t2), 0);
    assert_int_equal (
        ef_principals_family_rotate (txn, ef_str (t2), T0 + 21, &later, t3), 0);
    /* logout: the current token revokes its family */
    assert_int_equal (ef_principals_family_revoke (txn, ef_str (t3), T0 + 22),
                      0);
    assert_int_equal (
        ef_principals_family_rotate (txn, ef_str (t3), T0 + 23, &later, t2),
        EF_EAUTH);
    u_write_commit (&txn);
}

/* ---------------------------------------------------------------- reopen */

static void
test_principals_survive_a_reopen (void **state)
{
    u_store_t *fx = *state;
    ef_store_txn_t *txn;
    uint32_t org = s_acme (fx, 1, &txn);
    ef_user_t u, got;
    ef_apikey_t k, kg;
    char secret[96];
    const char *why;
    s_ann (txn, org, &u);
    s_apikey (txn, org, NULL, &k, secret);
    u_write_commit (&txn);
    u_store_open (fx, 0, 1);
    ef_store_txn_t *r = u_reader (fx->store);
    assert_int_equal (
        ef_principals_user_by_email (r, ef_str ("ann@example.com"), &got), 0);
    assert_string_equal (got.id, u.id);
    assert_int_equal (
        ef_principals_apikey_verify (r, ef_str (secret), &kg, &why), 0);
    assert_string_equal (kg.id, k.id);
    ef_org_t o;
    assert_int_equal (ef_principals_org_get (r, org, &o), 0);
    assert_string_equal (o.name, "acme");
    u_reader_done (&r);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    const struct CMUnitTest tests[] = {
#define T(name)                                                                \
    cmocka_unit_test_setup_teardown (name, u_store_setup, u_store_teardown)
        T (test_emails_are_taken_once_whatever_their_case),
        T (test_bad_emails_are_refused),
        T (test_an_api_key_verifies_and_its_secret_is_not_stored),
        T (test_a_revoked_key_no_longer_verifies_but_stays_listed),
        T (test_an_org_never_sees_another_orgs_key),
        T (test_a_scoped_key_allows_its_streams_only),
        T (test_a_client_key_is_registered_once_and_again_after_revocation),
        T (test_a_replayed_refresh_token_revokes_its_family),
        T (test_a_password_change_kills_older_families),
        T (test_principals_survive_a_reopen),
#undef T
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
