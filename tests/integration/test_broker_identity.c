/*  Identity and tenancy against a real broker: failed logins held back
    per email and per client address, the password hasher shared fairly
    between orgs, password changes that end every session, client keys
    registered only with their holder's proof, and per-org quotas that
    refuse with QUOTA and change nothing. */
#include "harness.h"
#include "eventflow/ef_cert.h"
#include "eventflow/ef_error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>
#include <cmocka.h>

#define S_PW "right-password-1"

static char s_dir[256];
static h_broker_t s_broker;
static ef_client_t *s_admin;   /* local admin key, org "default" */
static ef_client_t *s_gateway; /* the gateway key: credentials per call */

/* ---------------------------------------------------------------- helpers */

static int
s_call (ef_client_t *c, ef_request_t *req, const ef_reply_t **rep)
{
    const ef_reply_t *dummy;
    return ef_client_call (c, req, rep ? rep : &dummy);
}

/*  LOGIN through the gateway (client_addr may be NULL); access and
    refresh (may be NULL) get the tokens, *retry_ms the wait when held
    back. The broker's code. */
static int
s_login (const char *email, const char *pw, const char *addr, char *access,
         char *refresh, uint64_t *retry_ms)
{
    ef_request_t req = {0};
    const ef_reply_t *rep = NULL;
    req.cmd = EF_CMD_LOGIN;
    req.email = ef_str (email);
    req.password = ef_str (pw);
    req.client_addr = ef_str (addr);
    int rc = s_call (s_gateway, &req, &rep);
    if (rc == 0 && access)
        h_reply_str (rep, "access_token", NULL, access, 1024);
    if (rc == 0 && refresh)
        h_reply_str (rep, "refresh_token", NULL, refresh, 128);
    if (retry_ms)
        *retry_ms = rc == EF_ERATE && rep ? rep->retry_after_ms : 0;
    return rc;
}

/*  A new org whose admin is email (password S_PW); its access token into
    access (may be NULL). */
static void
s_org (const char *email, char *access)
{
    ef_request_t req = {0};
    req.cmd = EF_CMD_REGISTER;
    req.email = ef_str (email);
    req.password = ef_str (S_PW);
    req.org_name = ef_str (email);
    assert_int_equal (s_call (s_gateway, &req, NULL), 0);
    if (access)
        assert_int_equal (s_login (email, S_PW, NULL, access, NULL, NULL), 0);
}

/*  req as the holder of access token jwt (through the gateway). */
static int
s_as (const char *jwt, ef_request_t *req, const ef_reply_t **rep)
{
    req->auth_jwt = ef_str (jwt);
    return s_call (s_gateway, req, rep);
}

static int
s_whoami (const char *jwt)
{
    ef_request_t req = {0};
    req.cmd = EF_CMD_WHOAMI;
    return s_as (jwt, &req, NULL);
}

static int
s_refresh (const char *token)
{
    ef_request_t req = {0};
    req.cmd = EF_CMD_REFRESH;
    req.refresh_token = ef_str (token);
    return s_call (s_gateway, &req, NULL);
}

/*  Wait for the time the broker asked for. Not synchronisation: the hold
    is a duration, and this is the client doing what RATE_LIMITED says. */
static void
s_wait_ms (uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep (&ts, NULL);
}

/* ---------------------------------------------------------------- setup */

static int
group_setup (void **state)
{
    (void)state;
    /* one hashing thread: the fairness test orders replies through it */
    const char *extra[] = {"--login-free-failures",
                           "3",
                           "--login-delay-ms",
                           "300",
                           "--hash-threads",
                           "1",
                           "--quota-streams",
                           "3",
                           "--quota-api-keys",
                           "2",
                           "--quota-users",
                           "3",
                           "--quota-pipeline-steps",
                           "2",
                           "--quota-stored-bytes",
                           "4000",
                           NULL};
    if (h_tempdir (s_dir) || h_broker_start (&s_broker, s_dir, extra))
        return -1;
    s_admin = h_client (&s_broker);
    char gw[512];
    snprintf (gw, sizeof gw, "%s/gateway.key", s_dir);
    s_gateway = h_client_new (&s_broker, gw);
    if (!s_admin || !s_gateway || ef_client_connect (s_gateway))
        return -1;
    return 0;
}

static int
group_teardown (void **state)
{
    (void)state;
    ef_client_destroy (&s_admin);
    ef_client_destroy (&s_gateway);
    h_broker_stop (&s_broker);
    h_rmrf (s_dir);
    return 0;
}

/* ---------------------------------------------------------------- logins */

static void
test_failed_logins_are_held_back_longer_each_time (void **st)
{
    (void)st;
    uint64_t r1, r2;
    s_org ("held@example.com", NULL);
    s_org ("free@example.com", NULL);
    /* three free failures, the fourth holds the email back 300 ms */
    for (int i = 0; i < 4; i++)
        assert_int_equal (s_login ("held@example.com", "wrong-password", NULL,
                                   NULL, NULL, NULL),
                          EF_EAUTH);
    assert_int_equal (
        s_login ("held@example.com", "wrong-password", NULL, NULL, NULL, &r1),
        EF_ERATE);
    assert_true (r1 > 0 && r1 <= 300);
    /* while held back, the right password waits too (emails without case) */
    assert_int_equal (s_login ("HELD@example.com", S_PW, NULL, NULL, NULL, &r1),
                      EF_ERATE);
    /* another email is not held back */
    assert_int_equal (
        s_login ("free@example.com", S_PW, NULL, NULL, NULL, NULL), 0);
    /* one more failure after the hold: twice as long */
    s_wait_ms (r1);
    assert_int_equal (
        s_login ("held@example.com", "wrong-password", NULL, NULL, NULL, NULL),
        EF_EAUTH);
    assert_int_equal (s_login ("held@example.com", S_PW, NULL, NULL, NULL, &r2),
                      EF_ERATE);
    assert_true (r2 > 300 && r2 <= 600);
    /* once the time is up the right password gets in, and clears the count */
    s_wait_ms (r2);
    assert_int_equal (
        s_login ("held@example.com", S_PW, NULL, NULL, NULL, NULL), 0);
    assert_int_equal (
        s_login ("held@example.com", "wrong-password", NULL, NULL, NULL, NULL),
        EF_EAUTH);
}

static void
test_failed_logins_are_held_back_per_client_address (void **st)
{
    (void)st;
    char email[64];
    uint64_t r;
    s_org ("addr@example.com", NULL);
    /* an address gets four times the email's free failures (12), spread
       over emails that are never held back themselves */
    for (int i = 0; i < 13; i++) {
        snprintf (email, sizeof email, "guess%d@example.com", i);
        assert_int_equal (
            s_login (email, "wrong-password", "198.51.100.7", NULL, NULL, NULL),
            EF_EAUTH);
    }
    assert_int_equal (
        s_login ("addr@example.com", S_PW, "198.51.100.7", NULL, NULL, &r),
        EF_ERATE);
    assert_true (r > 0 && r <= 300);
    /* the same user from another address is not held back */
    assert_int_equal (
        s_login ("addr@example.com", S_PW, "198.51.100.8", NULL, NULL, NULL),
        0);
    /* only the gateway may say where a login comes from */
    ef_request_t req = {0};
    req.cmd = EF_CMD_LOGIN;
    req.email = ef_str ("addr@example.com");
    req.password = ef_str (S_PW);
    req.client_addr = ef_str ("203.0.113.1");
    assert_int_equal (s_call (s_admin, &req, NULL), EF_EINVAL);
}

/*  Decode one reply frame's id from a raw socket. */
static uint64_t
s_recv_id (void *sock)
{
    char buf[8192];
    int n = zmq_recv (sock, buf, sizeof buf, 0);
    assert_true (n > 0);
    ef_reply_t rep;
    assert_int_equal (ef_proto_decode_reply (buf, (size_t)n, &rep), 0);
    assert_int_equal (rep.code, 0);
    return rep.id;
}

static void
test_one_orgs_login_burst_does_not_starve_another (void **st)
{
    (void)st;
    s_org ("burst@example.com", NULL);
    s_org ("calm@example.com", NULL);
    void *ctx = zmq_ctx_new ();
    void *sock = zmq_socket (ctx, ZMQ_DEALER);
    int linger = 0, tmo = 20000;
    zmq_setsockopt (sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (sock, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
    assert_int_equal (h_curve_socket (&s_broker, sock), 0);
    assert_int_equal (zmq_connect (sock, s_broker.endpoint), 0);
    /* org A's burst of 8 logins, then one of org B, back to back */
    for (uint64_t id = 1; id <= 9; id++) {
        ef_request_t req = {0};
        ef_buf_t b;
        ef_buf_init (&b);
        req.v = EF_PROTO_VERSION;
        req.id = id == 9 ? 100 : id;
        req.cmd = EF_CMD_LOGIN;
        req.email = ef_str (id == 9 ? "calm@example.com" : "burst@example.com");
        req.password = ef_str (S_PW);
        assert_int_equal (ef_proto_encode_request (&b, &req), 0);
        assert_int_equal (zmq_send (sock, b.data, b.len, 0), (int)b.len);
        ef_buf_free (&b);
    }
    /* one hashing thread serving the orgs in turn: B's login comes after
       at most the one of A's in hand and the next of A's, not after all 8 */
    int at = -1;
    for (int i = 0; i < 9; i++)
        if (s_recv_id (sock) == 100)
            at = i;
    assert_true (at >= 0 && at <= 2);
    zmq_close (sock);
    zmq_ctx_term (ctx);
}

/* ---------------------------------------------------------------- passwords */

static void
test_a_password_change_by_the_admin_ends_every_session (void **st)
{
    (void)st;
    char admin[1024], a1[1024], a2[1024], r1[128], r2[128], id[64];
    s_org ("boss@example.com", admin);
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_USER_CREATE;
    req.email = ef_str ("staff@example.com");
    req.password = ef_str (S_PW);
    req.role = ef_str ("consumer");
    assert_int_equal (s_as (admin, &req, &rep), 0);
    h_reply_str (rep, "user", "id", id, sizeof id);
    /* two sessions */
    assert_int_equal (s_login ("staff@example.com", S_PW, NULL, a1, r1, NULL),
                      0);
    assert_int_equal (s_login ("staff@example.com", S_PW, NULL, a2, r2, NULL),
                      0);
    assert_int_equal (s_whoami (a1), 0);
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_USER_UPDATE;
    req.user_id = ef_str (id);
    req.password = ef_str ("new-password-2");
    assert_int_equal (s_as (admin, &req, NULL), 0);
    /* every token from before answers AUTH */
    assert_int_equal (s_whoami (a1), EF_EAUTH);
    assert_int_equal (s_whoami (a2), EF_EAUTH);
    assert_int_equal (s_refresh (r1), EF_EAUTH);
    assert_int_equal (s_refresh (r2), EF_EAUTH);
    /* the admin's own session is another user's: untouched */
    assert_int_equal (s_whoami (admin), 0);
    /* the old password is gone, the new one works */
    assert_int_equal (
        s_login ("staff@example.com", S_PW, NULL, NULL, NULL, NULL), EF_EAUTH);
    assert_int_equal (
        s_login ("staff@example.com", "new-password-2", NULL, a1, r1, NULL), 0);
    assert_int_equal (s_whoami (a1), 0);
    assert_int_equal (s_refresh (r1), 0);
}

static void
test_a_users_own_password_change_ends_every_session (void **st)
{
    (void)st;
    char a1[1024], a2[1024], r1[128], r2[128];
    s_org ("self@example.com", a1);
    assert_int_equal (s_login ("self@example.com", S_PW, NULL, a2, r2, NULL),
                      0);
    assert_int_equal (s_login ("self@example.com", S_PW, NULL, a1, r1, NULL),
                      0);
    ef_request_t req = {0};
    /* the current password must hold */
    req.cmd = EF_CMD_PASSWORD;
    req.password = ef_str ("not-the-password");
    req.new_password = ef_str ("new-password-3");
    assert_int_equal (s_as (a1, &req, NULL), EF_EAUTH);
    assert_int_equal (s_whoami (a1), 0);
    /* too short a new one is refused */
    req.password = ef_str (S_PW);
    req.new_password = ef_str ("short");
    assert_int_equal (s_as (a1, &req, NULL), EF_EINVAL);
    req.new_password = ef_str ("new-password-3");
    assert_int_equal (s_as (a1, &req, NULL), 0);
    /* this session and the other one are over */
    assert_int_equal (s_whoami (a1), EF_EAUTH);
    assert_int_equal (s_whoami (a2), EF_EAUTH);
    assert_int_equal (s_refresh (r1), EF_EAUTH);
    assert_int_equal (s_refresh (r2), EF_EAUTH);
    assert_int_equal (
        s_login ("self@example.com", S_PW, NULL, NULL, NULL, NULL), EF_EAUTH);
    assert_int_equal (
        s_login ("self@example.com", "new-password-3", NULL, a1, NULL, NULL),
        0);
    assert_int_equal (s_whoami (a1), 0);
    /* only a user has a password to change */
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_PASSWORD;
    req.password = ef_str (S_PW);
    req.new_password = ef_str ("new-password-4");
    assert_int_equal (s_call (s_admin, &req, NULL), EF_EFORBIDDEN);
}

/* ---------------------------------------------------------------- client keys */

static void
test_a_client_key_is_registered_only_with_its_holders_proof (void **st)
{
    (void)st;
    char b_admin[1024], path[512], b_org[64], a_org[64], pub[512];
    char proof[EF_CERT_PROOF_LEN + 1], other[EF_CERT_PROOF_LEN + 1];
    ef_cert_t key, stranger, server, gateway;
    ef_request_t req = {0};
    const ef_reply_t *rep;
    s_org ("squatter@example.com", b_admin);
    req.cmd = EF_CMD_WHOAMI;
    assert_int_equal (s_as (b_admin, &req, &rep), 0);
    h_reply_str (rep, "principal", "org_id", b_org, sizeof b_org);
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_WHOAMI;
    assert_int_equal (s_call (s_admin, &req, &rep), 0);
    h_reply_str (rep, "principal", "org_id", a_org, sizeof a_org);
    snprintf (pub, sizeof pub, "%s/broker.pub", s_dir);
    assert_int_equal (ef_cert_load (pub, &server), 0);
    snprintf (pub, sizeof pub, "%s/gateway.pub", s_dir);
    assert_int_equal (ef_cert_load (pub, &gateway), 0);
    assert_int_equal (ef_cert_generate (&key), 0);
    assert_int_equal (ef_cert_generate (&stranger), 0);

    /* org B knows A's public key and even A's proof (for org A) */
    assert_int_equal (
        ef_cert_proof (key.secret_key, server.public_key, a_org, proof), 0);
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_CLIENTKEY_ADD;
    req.public_key = ef_str (key.public_key);
    req.role = ef_str ("producer");
    assert_int_equal (s_as (b_admin, &req, NULL), EF_EINVAL); /* no proof */
    req.proof = ef_str (proof);
    assert_int_equal (s_as (b_admin, &req, NULL), EF_EFORBIDDEN);
    /* a proof for org B made with another key's secret does not hold */
    assert_int_equal (
        ef_cert_proof (stranger.secret_key, server.public_key, b_org, other),
        0);
    req.proof = ef_str (other);
    assert_int_equal (s_as (b_admin, &req, NULL), EF_EFORBIDDEN);
    /* the broker's and the gateway's own keys, never */
    req.public_key = ef_str (server.public_key);
    assert_int_equal (s_as (b_admin, &req, NULL), EF_EFORBIDDEN);
    req.public_key = ef_str (gateway.public_key);
    assert_int_equal (s_as (b_admin, &req, NULL), EF_EFORBIDDEN);
    assert_int_equal (s_call (s_admin, &req, NULL), EF_EFORBIDDEN);

    /* A registers its key with its proof; the peer publishes into A */
    assert_int_equal (
        h_clientkey_add (&s_broker, s_admin, &key, "producer", "a-peer"), 0);
    snprintf (path, sizeof path, "%s.peer.key", s_dir);
    assert_int_equal (ef_cert_save (path, &key, 0), 0);
    ef_client_t *peer = h_client_new (&s_broker, path);
    assert_int_equal (ef_client_connect (peer), 0);
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_WHOAMI;
    assert_int_equal (s_call (peer, &req, &rep), 0);
    char org[64];
    h_reply_str (rep, "principal", "org_id", org, sizeof org);
    assert_string_equal (org, a_org);
    ef_event_in_t ev = {0};
    ev.type = ef_str ("from-a-peer");
    ev.payload = ef_str ("{}");
    ef_publish_result_t res;
    assert_int_equal (ef_client_publish (peer, "default", &ev, 1, &res), 0);
    assert_int_equal (res.code, 0);
    ef_client_destroy (&peer);
    unlink (path);
}

/*  The string value of "key":"…" in a line of JSON, into out. */
static void
s_json_field (const char *json, const char *key, char *out, size_t size)
{
    char pat[64];
    snprintf (pat, sizeof pat, "\"%s\":\"", key);
    const char *p = json ? strstr (json, pat) : NULL;
    assert_non_null (p);
    p += strlen (pat);
    size_t n = strcspn (p, "\"");
    assert_true (n < size);
    memcpy (out, p, n);
    out[n] = 0;
}

static void
test_the_cli_makes_the_proof_and_sends_it (void **st)
{
    (void)st;
    char *out, *err, org[64], pub[64], proof[80], cert[512], bkey[512];
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_WHOAMI;
    assert_int_equal (s_call (s_admin, &req, &rep), 0);
    h_reply_str (rep, "principal", "org_id", org, sizeof org);
    snprintf (cert, sizeof cert, "%s/cli-peer.key", s_dir);
    snprintf (bkey, sizeof bkey, "%s/broker.pub", s_dir);
    const char *gen[] = {"keys", "gen", "--out", cert, "--org", org, NULL};
    assert_int_equal (h_cli (&s_broker, NULL, &out, &err, gen), 0);
    s_json_field (out, "public_key", pub, sizeof pub);
    s_json_field (out, "proof", proof, sizeof proof);
    free (out), free (err);
    /* keys proof says the same of the certificate */
    const char *again[] = {"keys", "proof", "--org", org, cert, NULL};
    assert_int_equal (h_cli (&s_broker, NULL, &out, &err, again), 0);
    assert_non_null (strstr (out, proof));
    free (out), free (err);
    /* without the proof the CLI does not even ask */
    const char *bare[] = {"keys", "add", "--role", "producer", pub, NULL};
    assert_int_equal (h_cli (&s_broker, NULL, &out, &err, bare), 2);
    free (out), free (err);
    const char *add[] = {"keys",    "add", "--role", "producer",
                         "--proof", proof, pub,      NULL};
    assert_int_equal (h_cli (&s_broker, NULL, &out, &err, add), 0);
    free (out), free (err);
    const char *produce[] = {"--cert",  cert, "--broker-key", bkey,  "produce",
                             "default", "{}", "--type",       "cli", NULL};
    assert_int_equal (h_cli (&s_broker, NULL, &out, &err, produce), 0);
    free (out), free (err);
}

/* ---------------------------------------------------------------- quotas */

static int
s_create_stream (const char *jwt, const char *name, const char *pipeline)
{
    ef_request_t req = {0};
    req.cmd = EF_CMD_CREATE_STREAM;
    req.name = ef_str (name);
    req.pipeline = ef_str (pipeline);
    return s_as (jwt, &req, NULL);
}

/*  How many items the reply's array at key holds. */
static uint32_t
s_count (const char *jwt, ef_cmd_t cmd, const char *key)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = cmd;
    assert_int_equal (s_as (jwt, &req, &rep), 0);
    ef_mpr_t r = rep->body;
    for (uint32_t i = 0; i < rep->nkeys; i++) {
        ef_str_t k;
        uint32_t n;
        assert_int_equal (ef_mpr_str (&r, &k), 0);
        if (ef_str_eq (k, key) && ef_mpr_array (&r, &n) == 0)
            return n;
        ef_mpr_skip (&r, EF_MSGPACK_DEPTH);
    }
    fail_msg ("no %s in the reply", key);
    return 0;
}

static int
s_apikey (const char *jwt, const char *name, char *id)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_APIKEY_CREATE;
    req.name = ef_str (name);
    int rc = s_as (jwt, &req, &rep);
    if (rc == 0 && id)
        h_reply_str (rep, "key", "id", id, 32);
    return rc;
}

static int
s_user (const char *jwt, const char *email)
{
    ef_request_t req = {0};
    req.cmd = EF_CMD_USER_CREATE;
    req.email = ef_str (email);
    req.password = ef_str (S_PW);
    req.role = ef_str ("consumer");
    return s_as (jwt, &req, NULL);
}

static void
test_counted_quotas_refuse_with_quota_and_change_nothing (void **st)
{
    (void)st;
    char jwt[1024], key_id[32];
    s_org ("quota@example.com", jwt);
    /* streams: "default" and two more; a fourth is refused */
    assert_int_equal (s_create_stream (jwt, "s2", NULL), 0);
    assert_int_equal (s_create_stream (jwt, "s3", NULL), 0);
    assert_int_equal (s_create_stream (jwt, "s4", NULL), EF_EQUOTA);
    assert_int_equal (s_count (jwt, EF_CMD_LIST_STREAMS, "streams"), 3);
    ef_request_t req = {0};
    req.cmd = EF_CMD_DELETE_STREAM;
    req.stream = ef_str ("s3");
    assert_int_equal (s_as (jwt, &req, NULL), 0);
    assert_int_equal (s_create_stream (jwt, "s4", NULL), 0);

    /* pipeline steps: three are over the quota of two */
    static const char step[] = "{\"type\":\"transform\",\"patch\":[]}";
    char three[256], two[256];
    snprintf (three, sizeof three, "[%s,%s,%s]", step, step, step);
    snprintf (two, sizeof two, "[%s,%s]", step, step);
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_UPDATE_STREAM;
    req.stream = ef_str ("s2");
    req.pipeline = ef_str (three);
    assert_int_equal (s_as (jwt, &req, NULL), EF_EQUOTA);
    memset (&req, 0, sizeof req);
    const ef_reply_t *rep;
    char pipeline[256];
    req.cmd = EF_CMD_GET_STREAM;
    req.stream = ef_str ("s2");
    assert_int_equal (s_as (jwt, &req, &rep), 0);
    h_reply_str (rep, "stream", "pipeline", pipeline, sizeof pipeline);
    assert_string_equal (pipeline, "");
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_UPDATE_STREAM;
    req.stream = ef_str ("s2");
    req.pipeline = ef_str (two);
    assert_int_equal (s_as (jwt, &req, NULL), 0);

    /* API keys: two live ones; a revoked one no longer counts */
    assert_int_equal (s_apikey (jwt, "k1", key_id), 0);
    assert_int_equal (s_apikey (jwt, "k2", NULL), 0);
    assert_int_equal (s_apikey (jwt, "k3", NULL), EF_EQUOTA);
    assert_int_equal (s_count (jwt, EF_CMD_APIKEY_LIST, "keys"), 2);
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_APIKEY_REVOKE;
    req.key_id = ef_str (key_id);
    assert_int_equal (s_as (jwt, &req, NULL), 0);
    assert_int_equal (s_apikey (jwt, "k3", NULL), 0);

    /* users: the admin and two more */
    assert_int_equal (s_user (jwt, "q1@example.com"), 0);
    assert_int_equal (s_user (jwt, "q2@example.com"), 0);
    assert_int_equal (s_user (jwt, "q3@example.com"), EF_EQUOTA);
    assert_int_equal (s_count (jwt, EF_CMD_USER_LIST, "users"), 3);
    assert_int_equal (s_login ("q3@example.com", S_PW, NULL, NULL, NULL, NULL),
                      EF_EAUTH);
}

/*  Publish n events of a 1000-byte payload into stream as jwt. */
static int
s_publish_big (const char *jwt, const char *stream, uint32_t n)
{
    static char payload[1003];
    ef_event_in_t ev[4];
    ef_publish_result_t res[4];
    memset (payload, 'x', sizeof payload - 1);
    payload[0] = payload[sizeof payload - 2] = '"';
    memset (ev, 0, sizeof ev);
    for (uint32_t i = 0; i < n; i++) {
        ev[i].type = ef_str ("big");
        ev[i].payload = ef_str (payload);
    }
    ef_request_t req = {0};
    req.cmd = EF_CMD_PUBLISH;
    req.stream = ef_str (stream);
    req.events = ev;
    req.n_events = n;
    (void)res;
    return s_as (jwt, &req, NULL);
}

static uint64_t
s_events (const char *jwt, const char *stream)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_GET_STREAM;
    req.stream = ef_str (stream);
    assert_int_equal (s_as (jwt, &req, &rep), 0);
    ef_mpr_t r = rep->body;
    ef_stream_info_t info;
    for (uint32_t i = 0; i < rep->nkeys; i++) {
        ef_str_t k;
        assert_int_equal (ef_mpr_str (&r, &k), 0);
        if (ef_str_eq (k, "stream")) {
            assert_int_equal (ef_proto_read_stream (&r, &info), 0);
            return info.events;
        }
        ef_mpr_skip (&r, EF_MSGPACK_DEPTH);
    }
    fail_msg ("no stream in the reply");
    return 0;
}

static void
test_stored_bytes_quota_refuses_a_whole_publish (void **st)
{
    (void)st;
    char jwt[1024], other[1024];
    s_org ("bytes@example.com", jwt);
    s_org ("bytes-other@example.com", other);
    assert_int_equal (s_create_stream (jwt, "side", NULL), 0);
    /* about 1.1 kB a record: three fit in 4000 bytes, a batch of two
       more does not, and none of it is stored */
    assert_int_equal (s_publish_big (jwt, "default", 2), 0);
    assert_int_equal (s_publish_big (jwt, "side", 1), 0);
    assert_int_equal (s_publish_big (jwt, "default", 2), EF_EQUOTA);
    assert_int_equal (s_events (jwt, "default"), 2);
    assert_int_equal (s_publish_big (jwt, "side", 1), EF_EQUOTA);
    assert_int_equal (s_events (jwt, "side"), 1);
    /* another org is not held by this one's bytes */
    assert_int_equal (s_publish_big (other, "default", 3), 0);
    /* deleting a stream gives its bytes back */
    ef_request_t req = {0};
    req.cmd = EF_CMD_DELETE_STREAM;
    req.stream = ef_str ("side");
    assert_int_equal (s_as (jwt, &req, NULL), 0);
    assert_int_equal (s_publish_big (jwt, "default", 1), 0);
    assert_int_equal (s_events (jwt, "default"), 3);
    assert_int_equal (s_publish_big (jwt, "default", 1), EF_EQUOTA);
}

static void
test_stored_bytes_are_counted_across_a_restart (void **st)
{
    (void)st;
    char dir[256];
    h_broker_t b;
    const char *extra[] = {"--quota-stored-bytes", "2500", NULL};
    static char payload[1003];
    memset (payload, 'x', sizeof payload - 1);
    payload[0] = payload[sizeof payload - 2] = '"';
    ef_event_in_t ev = {0};
    ev.type = ef_str ("big");
    ev.payload = ef_str (payload);
    ef_publish_result_t res;
    assert_int_equal (h_tempdir (dir), 0);
    assert_int_equal (h_broker_start (&b, dir, extra), 0);
    ef_client_t *c = h_client (&b);
    assert_non_null (c);
    assert_int_equal (ef_client_publish (c, "default", &ev, 1, &res), 0);
    assert_int_equal (ef_client_publish (c, "default", &ev, 1, &res), 0);
    ef_client_destroy (&c);
    assert_int_equal (h_broker_stop (&b), 0);
    assert_int_equal (h_broker_start (&b, dir, extra), 0);
    c = h_client (&b);
    assert_non_null (c);
    assert_int_equal (ef_client_publish (c, "default", &ev, 1, &res),
                      EF_EQUOTA);
    ef_client_destroy (&c);
    assert_int_equal (h_broker_stop (&b), 0);
    h_rmrf (dir);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_failed_logins_are_held_back_longer_each_time),
        cmocka_unit_test (test_failed_logins_are_held_back_per_client_address),
        cmocka_unit_test (test_one_orgs_login_burst_does_not_starve_another),
        cmocka_unit_test (
            test_a_password_change_by_the_admin_ends_every_session),
        cmocka_unit_test (test_a_users_own_password_change_ends_every_session),
        cmocka_unit_test (
            test_a_client_key_is_registered_only_with_its_holders_proof),
        cmocka_unit_test (test_the_cli_makes_the_proof_and_sends_it),
        cmocka_unit_test (
            test_counted_quotas_refuse_with_quota_and_change_nothing),
        cmocka_unit_test (test_stored_bytes_quota_refuses_a_whole_publish),
        cmocka_unit_test (test_stored_bytes_are_counted_across_a_restart),
    };
    return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
