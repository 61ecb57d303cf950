/*  Security end to end against a real broker: CurveZMQ admission, the
    bootstrap admin, every command under every role, org isolation, API
    keys (scope, revocation, rate limits), JWTs (expired, tampered,
    alg:none, swapped with a refresh token, of a deleted user), refresh
    rotation and reuse, logout, and plain mode's loopback-only rule. */
#include "harness.h"
#include "ef_jwt.h"
#include "eventflow/ef_cert.h"
#include "eventflow/ef_time.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

static char s_dir[256];
static h_broker_t s_broker;
static ef_client_t *s_admin;   /* local admin key */
static ef_client_t *s_gateway; /* the gateway key: credentials per call */
static char s_admin_pw[64];
static char s_keys[3][128]; /* api keys: admin, producer, consumer */
static char s_event_id[40];

/* ---------------------------------------------------------------- helpers */

static int
s_call (ef_client_t *c, ef_request_t *req, const ef_reply_t **rep)
{
    const ef_reply_t *dummy;
    return ef_client_call (c, req, rep ? rep : &dummy);
}

/*  Create an API key of role in the admin's org; the secret into out. */
static void
s_apikey (const char *role, const char *stream, uint32_t rate, char *out,
          char *id_out)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_APIKEY_CREATE;
    req.name = ef_str (role);
    req.role = ef_str (role);
    if (stream) {
        req.streams[0] = ef_str (stream);
        req.n_streams = 1;
    }
    if (rate) {
        req.has_rate = 1;
        req.rate_per_second = rate;
        req.rate_burst = 1;
    }
    assert_int_equal (s_call (s_admin, &req, &rep), 0);
    h_reply_str (rep, "api_key", NULL, out, 128);
    if (id_out)
        h_reply_str (rep, "key", "id", id_out, 32);
    assert_int_equal (strlen (out), 85);
}

static int
s_login (const char *email, const char *pw, char *access, char *refresh)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_LOGIN;
    req.email = ef_str (email);
    req.password = ef_str (pw);
    int rc = s_call (s_gateway, &req, &rep);
    if (rc == 0) {
        h_reply_str (rep, "access_token", NULL, access, 1024);
        h_reply_str (rep, "refresh_token", NULL, refresh, 128);
    }
    return rc;
}

static int
s_as_key (const char *key, ef_request_t *req)
{
    req->auth_api_key = ef_str (key);
    return s_call (s_gateway, req, NULL);
}

static int
s_as_jwt (const char *jwt, ef_request_t *req)
{
    req->auth_jwt = ef_str (jwt);
    return s_call (s_gateway, req, NULL);
}

/* ---------------------------------------------------------------- setup */

static int
group_setup (void **state)
{
    (void)state;
    if (h_tempdir (s_dir) || h_broker_start (&s_broker, s_dir, NULL))
        return -1;
    s_admin = h_client (&s_broker);
    char gw[512];
    snprintf (gw, sizeof gw, "%s/gateway.key", s_dir);
    s_gateway = h_client_new (&s_broker, gw);
    if (!s_admin || !s_gateway || ef_client_connect (s_gateway))
        return -1;
    /* the initial admin's password, from the file the broker wrote */
    char path[512], line[256];
    snprintf (path, sizeof path, "%s/initial-admin", s_dir);
    FILE *f = fopen (path, "r");
    if (!f)
        return -1;
    while (fgets (line, sizeof line, f))
        if (sscanf (line, "password = %63s", s_admin_pw) == 1)
            break;
    fclose (f);
    ef_stream_info_t si;
    if (ef_client_create_stream (s_admin, "orders", &si))
        return -1;
    ef_event_in_t ev = {0};
    ev.type = ef_str ("t");
    ev.payload = ef_str ("{}");
    ef_publish_result_t res;
    if (ef_client_publish (s_admin, "orders", &ev, 1, &res))
        return -1;
    snprintf (s_event_id, sizeof s_event_id, "%.*s", (int)res.event_id.len,
              res.event_id.ptr);
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

/* ---------------------------------------------------------------- tests */

static void
test_first_start_creates_an_admin_whose_password_file_is_private (void **st)
{
    (void)st;
    char path[512];
    struct stat sb;
    snprintf (path, sizeof path, "%s/initial-admin", s_dir);
    assert_int_equal (stat (path, &sb), 0);
    assert_int_equal (sb.st_mode & 0777, 0600);
    snprintf (path, sizeof path, "%s/broker.key", s_dir);
    assert_int_equal (stat (path, &sb), 0);
    assert_int_equal (sb.st_mode & 0777, 0600);
    assert_true (strlen (s_admin_pw) >= 12);
    char access[1024], refresh[128];
    assert_int_equal (
        s_login ("admin@eventflow.local", s_admin_pw, access, refresh), 0);
    ef_request_t req = {0};
    req.cmd = EF_CMD_WHOAMI;
    assert_int_equal (s_as_jwt (access, &req), 0);
    assert_int_equal (
        s_login ("admin@eventflow.local", "wrong-password", access, refresh),
        EF_EAUTH);
    assert_int_equal (
        s_login ("nobody@example.com", "whatever-pw", access, refresh),
        EF_EAUTH);
}

static void
test_unregistered_curve_key_is_refused_by_zap (void **st)
{
    (void)st;
    char path[512];
    ef_cert_t cert;
    snprintf (path, sizeof path, "%s.stranger.key", s_dir);
    assert_int_equal (ef_cert_generate (&cert), 0);
    assert_int_equal (ef_cert_save (path, &cert, 0), 0);
    ef_client_t *c = h_client_new (&s_broker, path);
    ef_client_set_timeout (c, 1000);
    assert_int_equal (ef_client_connect (c), EF_EUNAVAILABLE);
    ef_client_destroy (&c);

    /* registered, it gets in with its role; revoked, it is out again */
    ef_request_t req = {0};
    assert_int_equal (
        h_clientkey_add (&s_broker, s_admin, &cert, "consumer", NULL), 0);
    c = h_client_new (&s_broker, path);
    assert_int_equal (ef_client_connect (c), 0);
    assert_int_equal (ef_client_create_stream (c, "x", NULL), EF_EFORBIDDEN);
    assert_int_equal (
        ef_client_read (c, "orders", 0, 10, NULL, NULL, NULL, NULL), 0);
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_CLIENTKEY_REVOKE;
    req.public_key = ef_str (cert.public_key);
    assert_int_equal (s_call (s_admin, &req, NULL), 0);
    /* the open connection's next request is refused */
    assert_int_equal (ef_client_ping (c), EF_EAUTH);
    ef_client_destroy (&c);
    unlink (path);
}

/*  Each command, the roles that may run it. */
typedef struct {
    ef_cmd_t cmd;
    int admin, producer, consumer, anonymous;
} s_row_t;

static void
s_fill (ef_request_t *req, ef_cmd_t cmd)
{
    static ef_event_in_t ev;
    memset (req, 0, sizeof *req);
    memset (&ev, 0, sizeof ev);
    req->cmd = cmd;
    ev.type = ef_str ("t");
    ev.payload = ef_str ("1");
    switch (cmd) {
    case EF_CMD_CREATE_STREAM:
        req->name = ef_str ("matrix-tmp");
        break;
    case EF_CMD_GET_STREAM:
    case EF_CMD_READ:
    case EF_CMD_LIST_EVENTS:
        req->stream = ef_str ("orders");
        break;
    case EF_CMD_PUBLISH:
        req->stream = ef_str ("orders");
        req->events = &ev;
        req->n_events = 1;
        break;
    case EF_CMD_GET_EVENT:
        req->event_id = ef_str (s_event_id);
        break;
    case EF_CMD_UPDATE_STREAM:
    case EF_CMD_DELETE_STREAM:
        req->stream = ef_str ("matrix-none");
        break;
    case EF_CMD_USER_LIST:
    case EF_CMD_APIKEY_LIST:
    case EF_CMD_CLIENTKEY_LIST:
        break;
    case EF_CMD_USER_GET:
    case EF_CMD_USER_DELETE:
    case EF_CMD_USER_UPDATE:
        req->user_id = ef_str ("00000000-0000-7000-8000-000000000000");
        break;
    case EF_CMD_APIKEY_REVOKE:
        req->key_id = ef_str ("0000000000000000");
        break;
    case EF_CMD_CLIENTKEY_REVOKE:
        req->public_key = ef_str ("0000000000000000000000000000000000000000");
        break;
    default:
        break;
    }
}

static void
test_every_command_under_every_role (void **st)
{
    (void)st;
    /* 1 = allowed (any answer but AUTH/FORBIDDEN), 0 = refused */
    static const s_row_t rows[] = {
        {EF_CMD_PING, 1, 1, 1, 1},
        {EF_CMD_WHOAMI, 1, 1, 1, 0},
        {EF_CMD_CREATE_STREAM, 1, 0, 0, 0},
        {EF_CMD_LIST_STREAMS, 1, 1, 1, 0},
        {EF_CMD_GET_STREAM, 1, 1, 1, 0},
        {EF_CMD_PUBLISH, 1, 1, 0, 0},
        {EF_CMD_GET_EVENT, 1, 1, 1, 0},
        {EF_CMD_READ, 1, 1, 1, 0},
        {EF_CMD_LIST_EVENTS, 1, 1, 1, 0},
        /* the gateway's own call, for /metrics: broker-wide figures */
        {EF_CMD_STATS, 1, 1, 1, 1},
        {EF_CMD_UPDATE_STREAM, 1, 0, 0, 0},
        {EF_CMD_DELETE_STREAM, 1, 0, 0, 0},
        {EF_CMD_USER_LIST, 1, 0, 0, 0},
        {EF_CMD_USER_GET, 1, 0, 0, 0},
        {EF_CMD_USER_UPDATE, 1, 0, 0, 0},
        {EF_CMD_USER_DELETE, 1, 0, 0, 0},
        {EF_CMD_APIKEY_LIST, 1, 0, 0, 0},
        {EF_CMD_APIKEY_REVOKE, 1, 0, 0, 0},
        {EF_CMD_CLIENTKEY_LIST, 1, 0, 0, 0},
        {EF_CMD_CLIENTKEY_REVOKE, 1, 0, 0, 0},
    };
    s_apikey ("admin", NULL, 0, s_keys[0], NULL);
    s_apikey ("producer", NULL, 0, s_keys[1], NULL);
    s_apikey ("consumer", NULL, 0, s_keys[2], NULL);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const s_row_t *row = &rows[i];
        const int want[4] = {row->admin, row->producer, row->consumer,
                             row->anonymous};
        for (int who = 0; who < 4; who++) {
            ef_request_t req;
            s_fill (&req, row->cmd);
            int rc = who < 3 ? s_as_key (s_keys[who], &req)
                             : s_call (s_gateway, &req, NULL);
            int refused = rc == EF_EAUTH || rc == EF_EFORBIDDEN;
            if (refused == want[who])
                fail_msg ("%s as %s: got %s", ef_cmd_name (row->cmd),
                          (const char *[]){"admin", "producer", "consumer",
                                           "anonymous"}[who],
                          ef_error_name (rc));
            /* the anonymous are told to authenticate, the rest forbidden */
            if (refused)
                assert_int_equal (rc, who == 3 ? EF_EAUTH : EF_EFORBIDDEN);
        }
    }
}

static void
test_another_org_sees_nothing_of_this_one (void **st)
{
    (void)st;
    ef_request_t req = {0};
    req.cmd = EF_CMD_REGISTER;
    req.email = ef_str ("eve@example.com");
    req.password = ef_str ("correct horse battery");
    req.org_name = ef_str ("eve-corp");
    assert_int_equal (s_call (s_gateway, &req, NULL), 0);
    /* the same email again: taken */
    assert_int_equal (s_call (s_gateway, &req, NULL), EF_EEXISTS);
    char access[1024], refresh[128];
    assert_int_equal (
        s_login ("eve@example.com", "correct horse battery", access, refresh),
        0);
    /* her org has its own "default" stream, not ours */
    s_fill (&req, EF_CMD_GET_STREAM);
    assert_int_equal (s_as_jwt (access, &req), EF_ENOTFOUND);
    s_fill (&req, EF_CMD_READ);
    assert_int_equal (s_as_jwt (access, &req), EF_ENOTFOUND);
    s_fill (&req, EF_CMD_GET_EVENT);
    assert_int_equal (s_as_jwt (access, &req), EF_ENOTFOUND);
    s_fill (&req, EF_CMD_PUBLISH);
    assert_int_equal (s_as_jwt (access, &req), EF_ENOTFOUND);
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_GET_STREAM;
    req.stream = ef_str ("default");
    assert_int_equal (s_as_jwt (access, &req), 0);
    /* our users are not hers to see */
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_LOGIN;
    const ef_reply_t *rep;
    char admin_id[64];
    req.email = ef_str ("admin@eventflow.local");
    req.password = ef_str (s_admin_pw);
    assert_int_equal (s_call (s_gateway, &req, &rep), 0);
    h_reply_str (rep, "user", "id", admin_id, sizeof admin_id);
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_USER_GET;
    req.user_id = ef_str (admin_id);
    assert_int_equal (s_as_jwt (access, &req), EF_ENOTFOUND);
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_USER_GET;
    req.user_id = ef_str (admin_id);
    assert_int_equal (s_call (s_admin, &req, NULL), 0);
}

static void
test_revoked_and_scoped_api_keys (void **st)
{
    (void)st;
    char key[128], id[32];
    s_apikey ("producer", "orders", 0, key, id);
    ef_request_t req;
    s_fill (&req, EF_CMD_PUBLISH);
    assert_int_equal (s_as_key (key, &req), 0);
    /* scope: another stream is forbidden */
    ef_client_create_stream (s_admin, "other", NULL);
    s_fill (&req, EF_CMD_PUBLISH);
    req.stream = ef_str ("other");
    assert_int_equal (s_as_key (key, &req), EF_EFORBIDDEN);
    /* revoked: the next request fails */
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_APIKEY_REVOKE;
    req.key_id = ef_str (id);
    assert_int_equal (s_call (s_admin, &req, NULL), 0);
    s_fill (&req, EF_CMD_PUBLISH);
    assert_int_equal (s_as_key (key, &req), EF_EAUTH);
    /* a tampered secret */
    char bad[128];
    snprintf (bad, sizeof bad, "%s", s_keys[1]);
    bad[strlen (bad) - 1] ^= 1;
    s_fill (&req, EF_CMD_PING);
    assert_int_equal (s_as_key (bad, &req), EF_EAUTH);
}

/*  A token signed with the broker's own key, for the cases that need a
    valid signature (expired) or none at all. */
static void
s_forge (const char *sub, uint64_t iat, uint64_t exp, char *out)
{
    uint8_t key[EF_JWT_KEY_LEN];
    char path[512];
    snprintf (path, sizeof path, "%s/jwt.key", s_dir);
    assert_int_equal (ef_jwt_key_load_or_create (path, key), 0);
    ef_jwt_claims_t c = {0};
    snprintf (c.sub, sizeof c.sub, "%s", sub);
    snprintf (c.org, sizeof c.org, "org");
    snprintf (c.role, sizeof c.role, "admin");
    c.iat = iat;
    c.exp = exp;
    assert_int_equal (ef_jwt_sign (key, &c, out, 1024), 0);
}

static void
test_bad_tokens_get_one_uniform_error (void **st)
{
    (void)st;
    char access[1024], refresh[128], forged[1024], admin_id[64];
    assert_int_equal (
        s_login ("admin@eventflow.local", s_admin_pw, access, refresh), 0);
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_WHOAMI;
    req.auth_jwt = ef_str (access);
    assert_int_equal (s_call (s_gateway, &req, &rep), 0);
    h_reply_str (rep, "principal", "id", admin_id, sizeof admin_id);

    uint64_t now = ef_time_now_ms () / 1000;
    const char *bad[6];
    char expired[1024], tampered[1024], none[512];
    s_forge (admin_id, now - 2000, now - 1000, expired);
    snprintf (tampered, sizeof tampered, "%s", access);
    char *dot = strchr (tampered, '.');
    dot[3] = dot[3] == 'A' ? 'B' : 'A';
    /* {"alg":"none","typ":"at+jwt"} . the real payload . no signature */
    const char *payload = strchr (access, '.') + 1;
    int plen = (int)(strchr (payload, '.') - payload);
    snprintf (none, sizeof none,
              "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.%.*s.", plen, payload);
    s_forge (admin_id, now, now + 600, forged); /* valid, for contrast */
    bad[0] = expired;
    bad[1] = tampered;
    bad[2] = none;
    bad[3] = refresh; /* a refresh token where an access token belongs */
    bad[4] = "not.a.jwt";
    bad[5] = "";
    char first_msg[256] = "";
    for (int i = 0; i < 6; i++) {
        memset (&req, 0, sizeof req);
        req.cmd = EF_CMD_STATS;
        req.auth_jwt = ef_str (bad[i]);
        int rc = s_call (s_gateway, &req, &rep);
        if (i == 5) {
            /* an empty credential is no credential: anonymous */
            assert_int_equal (rc, EF_EAUTH);
            continue;
        }
        if (rc != EF_EAUTH)
            fail_msg ("bad token %d accepted (%s)", i, ef_error_name (rc));
        char msg[256];
        snprintf (msg, sizeof msg, "%.*s", (int)rep->err_message.len,
                  rep->err_message.ptr);
        if (!first_msg[0])
            memcpy (first_msg, msg, sizeof msg);
        assert_string_equal (msg, first_msg); /* says nothing of the cause */
    }
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_STATS;
    req.auth_jwt = ef_str (forged);
    assert_int_equal (s_call (s_gateway, &req, NULL), 0);
}

static void
test_refresh_rotates_and_reuse_revokes_the_family (void **st)
{
    (void)st;
    char access[1024], refresh1[128], refresh2[128], refresh3[128];
    assert_int_equal (
        s_login ("admin@eventflow.local", s_admin_pw, access, refresh1), 0);
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_REFRESH;
    req.refresh_token = ef_str (refresh1);
    assert_int_equal (s_call (s_gateway, &req, &rep), 0);
    h_reply_str (rep, "refresh_token", NULL, refresh2, sizeof refresh2);
    h_reply_str (rep, "access_token", NULL, access, sizeof access);
    assert_string_not_equal (refresh1, refresh2);
    /* the old one again: reuse, the whole family goes */
    req.refresh_token = ef_str (refresh1);
    assert_int_equal (s_call (s_gateway, &req, NULL), EF_EAUTH);
    req.refresh_token = ef_str (refresh2);
    assert_int_equal (s_call (s_gateway, &req, NULL), EF_EAUTH);
    /* and its access tokens with it */
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_STATS;
    assert_int_equal (s_as_jwt (access, &req), EF_EAUTH);

    /* logout revokes a family too */
    assert_int_equal (
        s_login ("admin@eventflow.local", s_admin_pw, access, refresh3), 0);
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_LOGOUT;
    req.refresh_token = ef_str (refresh3);
    assert_int_equal (s_call (s_gateway, &req, NULL), 0);
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_REFRESH;
    req.refresh_token = ef_str (refresh3);
    assert_int_equal (s_call (s_gateway, &req, NULL), EF_EAUTH);
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_STATS;
    assert_int_equal (s_as_jwt (access, &req), EF_EAUTH);
}

static void
test_users_roles_and_deleted_users (void **st)
{
    (void)st;
    ef_request_t req = {0};
    const ef_reply_t *rep;
    char id[64], access[1024], refresh[128];
    req.cmd = EF_CMD_USER_CREATE;
    req.email = ef_str ("Carol@Example.com");
    req.password = ef_str ("carols password");
    req.role = ef_str ("consumer");
    assert_int_equal (s_call (s_admin, &req, &rep), 0);
    h_reply_str (rep, "user", "id", id, sizeof id);
    assert_int_equal (s_call (s_admin, &req, NULL), EF_EEXISTS);
    /* emails are matched without case */
    assert_int_equal (
        s_login ("carol@example.com", "carols password", access, refresh), 0);
    s_fill (&req, EF_CMD_PUBLISH);
    assert_int_equal (s_as_jwt (access, &req), EF_EFORBIDDEN);
    /* promoted: the same token may publish now */
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_USER_UPDATE;
    req.user_id = ef_str (id);
    req.role = ef_str ("producer");
    assert_int_equal (s_call (s_admin, &req, NULL), 0);
    s_fill (&req, EF_CMD_PUBLISH);
    assert_int_equal (s_as_jwt (access, &req), 0);
    /* deleted: the token dies with the user */
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_USER_DELETE;
    req.user_id = ef_str (id);
    assert_int_equal (s_call (s_admin, &req, NULL), 0);
    s_fill (&req, EF_CMD_PING);
    assert_int_equal (s_as_jwt (access, &req), EF_EAUTH);
    assert_int_equal (
        s_login ("carol@example.com", "carols password", access, refresh),
        EF_EAUTH);
}

static void
test_rate_limit_holds_the_configured_rate (void **st)
{
    (void)st;
    char key[128];
    const uint32_t rate = 50;
    s_apikey ("consumer", NULL, rate, key, NULL);
    ef_request_t req;
    int64_t start = ef_time_mono_ms (), end = start + 3000;
    uint32_t ok = 0, limited = 0, bad_wait = 0;
    while (ef_time_mono_ms () < end) {
        s_fill (&req, EF_CMD_PING);
        const ef_reply_t *rep;
        req.auth_api_key = ef_str (key);
        int rc = s_call (s_gateway, &req, &rep);
        if (rc == 0)
            ok++;
        else if (rc == EF_ERATE) {
            limited++;
            if (rep->retry_after_ms == 0 ||
                rep->retry_after_ms > 1000 / rate + 1)
                bad_wait++;
        } else
            fail_msg ("unexpected %s", ef_error_name (rc));
    }
    double secs = (ef_time_mono_ms () - start) / 1000.0;
    double expect = rate * secs + 1; /* burst 1, starting full */
    print_message ("rate limit: %u allowed in %.2f s (expected %.0f), %u "
                   "limited\n",
                   ok, secs, expect, limited);
    assert_true (ok >= expect * 0.9 && ok <= expect * 1.1);
    assert_true (limited > 0);
    assert_int_equal (bad_wait, 0);
}

static void
test_plain_is_refused_on_a_non_loopback_address (void **st)
{
    (void)st;
    char dir[256];
    assert_int_equal (h_tempdir (dir), 0);
    pid_t pid = fork ();
    if (pid == 0) {
        int devnull = open ("/dev/null", 1);
        dup2 (devnull, 2);
        dup2 (devnull, 1);
        execl (h_bin ("eventflow-broker"), "eventflow-broker", "--data-dir",
               dir, "--curve", "off", "--endpoint", "tcp://0.0.0.0:*",
               (char *)NULL);
        _exit (127);
    }
    int status;
    waitpid (pid, &status, 0);
    assert_true (WIFEXITED (status));
    assert_int_not_equal (WEXITSTATUS (status), 0);
    h_rmrf (dir);

    /* on loopback it runs, and every request needs a credential */
    h_broker_t b;
    const char *extra[] = {"--curve", "off", NULL};
    assert_int_equal (h_tempdir (dir), 0);
    assert_int_equal (h_broker_start (&b, dir, extra), 0);
    ef_client_t *c = h_client_new (&b, "");
    assert_int_equal (ef_client_connect (c), 0);
    assert_int_equal (ef_client_stats (c, &(ef_stats_t){0}), EF_EAUTH);
    char file[512], line[256], pw[64] = "";
    snprintf (file, sizeof file, "%s/initial-admin", dir);
    FILE *f = fopen (file, "r");
    while (f && fgets (line, sizeof line, f))
        sscanf (line, "password = %63s", pw);
    if (f)
        fclose (f);
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_LOGIN;
    req.email = ef_str ("admin@eventflow.local");
    req.password = ef_str (pw);
    assert_int_equal (ef_client_call (c, &req, &rep), 0);
    char access[1024];
    h_reply_str (rep, "access_token", NULL, access, sizeof access);
    ef_client_set_jwt (c, access);
    assert_int_equal (ef_client_create_stream (c, "plain", NULL), 0);
    ef_client_destroy (&c);
    assert_int_equal (h_broker_stop (&b), 0);
    h_rmrf (dir);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (
            test_first_start_creates_an_admin_whose_password_file_is_private),
        cmocka_unit_test (test_unregistered_curve_key_is_refused_by_zap),
        cmocka_unit_test (test_every_command_under_every_role),
        cmocka_unit_test (test_another_org_sees_nothing_of_this_one),
        cmocka_unit_test (test_revoked_and_scoped_api_keys),
        cmocka_unit_test (test_bad_tokens_get_one_uniform_error),
        cmocka_unit_test (test_refresh_rotates_and_reuse_revokes_the_family),
        cmocka_unit_test (test_users_roles_and_deleted_users),
        cmocka_unit_test (test_rate_limit_holds_the_configured_rate),
        cmocka_unit_test (test_plain_is_refused_on_a_non_loopback_address),
    };
    return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
