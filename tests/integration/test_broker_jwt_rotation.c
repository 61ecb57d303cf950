/*  JWT signing key rotation (protocol.md ROTATE_JWT_KEY, README "Key
    rotation"), with a real broker:
    * every access token names its key (kid "1" before any rotation);
    * `eventflow admin rotate-jwt-key` (the local admin key) makes key
      "2" current: the access token issued before still works, the
      refresh token issued before gives a token with kid "2";
    * an org's admin may not rotate (FORBIDDEN);
    * a restart keeps both keys (jwt.keys); a key no longer in jwt.keys
      (as when it has outlived its tokens) refuses its tokens. */
#define _GNU_SOURCE
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#define S_PW "correct horse battery"

/*  The kid in token's header into kid (16 bytes); "" when none. */
static void
s_kid (const char *token, char *kid)
{
    char header[256];
    size_t n = 0;
    const char *dot = strchr (token, '.');
    kid[0] = '\0';
    assert_non_null (dot);
    assert_int_equal (
        sodium_base642bin ((unsigned char *)header, sizeof header - 1, token,
                           (size_t)(dot - token), NULL, &n, NULL,
                           sodium_base64_VARIANT_URLSAFE_NO_PADDING),
        0);
    header[n] = '\0';
    const char *at = strstr (header, "\"kid\":\"");
    if (at)
        sscanf (at + 7, "%15[^\"]", kid);
}

/*  cmd with jwt (may be NULL) and refresh (may be NULL); the reply's
    access_token into access (when not NULL). The code. */
static int
s_call (ef_client_t *c, ef_cmd_t cmd, const char *jwt, const char *refresh,
        char *access)
{
    ef_request_t req = {0};
    const ef_reply_t *rep = NULL;
    req.cmd = cmd;
    req.auth_jwt = ef_str (jwt);
    req.refresh_token = ef_str (refresh);
    int rc = ef_client_call (c, &req, &rep);
    if (rc == 0 && access)
        h_reply_str (rep, "access_token", NULL, access, 1024);
    return rc;
}

static void
test_rotation_keeps_old_tokens_and_survives_a_restart (void **state)
{
    (void)state;
    char dir[256], path[300], kid[16];
    char access0[1024], refresh0[256], access1[1024];
    assert_int_equal (h_tempdir (dir), 0);
    const char *const flags[] = {"--durability", "os", "--allow-register",
                                 "true", NULL};
    h_broker_t b;
    assert_int_equal (h_broker_start (&b, dir, flags), 0);
    ef_client_t *admin = h_client (&b);
    assert_non_null (admin);

    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_REGISTER;
    req.email = ef_str ("owner@rot.example");
    req.password = ef_str (S_PW);
    req.org_name = ef_str ("rot");
    assert_int_equal (ef_client_call (admin, &req, NULL), 0);
    req = (ef_request_t){0};
    req.cmd = EF_CMD_LOGIN;
    req.email = ef_str ("owner@rot.example");
    req.password = ef_str (S_PW);
    assert_int_equal (ef_client_call (admin, &req, &rep), 0);
    h_reply_str (rep, "access_token", NULL, access0, sizeof access0);
    h_reply_str (rep, "refresh_token", NULL, refresh0, sizeof refresh0);
    s_kid (access0, kid);
    assert_string_equal (kid, "1");

    /* an org's admin is not the operator */
    assert_int_equal (
        s_call (admin, EF_CMD_ROTATE_JWT_KEY, access0, NULL, NULL),
        EF_EFORBIDDEN);

    char *out = NULL, *err = NULL;
    assert_int_equal (
        h_cli (&b, NULL, &out, &err,
               (const char *const[]){"admin", "rotate-jwt-key", NULL}),
        0);
    assert_non_null (strstr (out, "\"kid\":\"2\""));
    free (out);
    free (err);

    /* the token from before still works; its refresh token gives kid 2 */
    assert_int_equal (s_call (admin, EF_CMD_WHOAMI, access0, NULL, NULL), 0);
    assert_int_equal (s_call (admin, EF_CMD_REFRESH, NULL, refresh0, access1),
                      0);
    s_kid (access1, kid);
    assert_string_equal (kid, "2");
    assert_int_equal (s_call (admin, EF_CMD_WHOAMI, access1, NULL, NULL), 0);

    /* a restart keeps both keys */
    ef_client_destroy (&admin);
    assert_int_equal (h_broker_stop (&b), 0);
    assert_int_equal (h_broker_start (&b, dir, flags), 0);
    admin = h_client (&b);
    assert_non_null (admin);
    assert_int_equal (s_call (admin, EF_CMD_WHOAMI, access0, NULL, NULL), 0);
    assert_int_equal (s_call (admin, EF_CMD_WHOAMI, access1, NULL, NULL), 0);

    /* a key gone from jwt.keys (as when its tokens have expired and a
       rotation dropped it) verifies nothing: keep only the current line */
    ef_client_destroy (&admin);
    assert_int_equal (h_broker_stop (&b), 0);
    snprintf (path, sizeof path, "%s/jwt.keys", dir);
    FILE *f = fopen (path, "r");
    assert_non_null (f);
    char line[256], last[256] = "";
    while (fgets (line, sizeof line, f))
        memcpy (last, line, sizeof line);
    fclose (f);
    assert_int_equal (strncmp (last, "2 ", 2), 0);
    f = fopen (path, "w");
    assert_non_null (f);
    fputs (last, f);
    fclose (f);
    assert_int_equal (h_broker_start (&b, dir, flags), 0);
    admin = h_client (&b);
    assert_non_null (admin);
    assert_int_equal (s_call (admin, EF_CMD_WHOAMI, access0, NULL, NULL),
                      EF_EAUTH);
    assert_int_equal (s_call (admin, EF_CMD_WHOAMI, access1, NULL, NULL), 0);

    ef_client_destroy (&admin);
    assert_int_equal (h_broker_stop (&b), 0);
    h_rmrf (dir);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (
            test_rotation_keeps_old_tokens_and_survives_a_restart),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
