/*  The gateway key replaced (README "Key rotation", the gateway key's
    procedure), with a real broker and bridges: stop the bridge and the
    broker, remove gateway.key and gateway.pub, start the broker (it
    makes a new pair), start the bridge on the data dir: it reaches the
    broker (/ready 200, /metrics through the broker), and a bridge that
    still holds the old key does not.
    The gateway key rotated with an overlap (`eventflow admin gateway-key
    new|promote`): between new and promote a bridge with the old key and
    one with the next key both work, also across a broker restart; after
    promote the old-key bridge is refused (unready) on its open
    connection and the next-key one still works; an org's admin may not
    rotate (FORBIDDEN). */
#define _GNU_SOURCE
#include "harness.h"
#include "h_http.h"

#include <curl/curl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

/*  Copy from into to (a key file); 0 or -1. */
static int
s_copy (const char *from, const char *to)
{
    char buf[4096];
    FILE *in = fopen (from, "rb");
    if (!in)
        return -1;
    size_t n = fread (buf, 1, sizeof buf, in);
    fclose (in);
    FILE *out = fopen (to, "wb");
    if (!out)
        return -1;
    int rc = fwrite (buf, 1, n, out) == n ? 0 : -1;
    return fclose (out) == 0 ? rc : -1;
}

static long s_status_want;

/*  The bridge's /ready answers s_status_want. */
static int
s_ready_is (void *arg)
{
    const h_bridge_t *g = arg;
    h_resp_t r = {0};
    h_http_ex (&r, g->url, "GET", "/ready", NULL, NULL, NULL, 2000, NULL);
    long st = r.status;
    h_http_free (&r);
    return st == s_status_want;
}

static void
test_gateway_key_stop_replace_start (void **state)
{
    (void)state;
    char dir[256], scratch[256], key[300], pub[300], old[300];
    assert_int_equal (h_tempdir (dir), 0);
    assert_int_equal (h_tempdir (scratch), 0);
    snprintf (key, sizeof key, "%s/gateway.key", dir);
    snprintf (pub, sizeof pub, "%s/gateway.pub", dir);
    snprintf (old, sizeof old, "%s/old-gateway.key", scratch);
    h_broker_t b;
    h_bridge_t g;
    h_resp_t r = {0};
    assert_int_equal (h_broker_start (&b, dir, NULL), 0);
    assert_int_equal (h_bridge_start (&g, &b, NULL), 0);
    s_status_want = 200;
    assert_int_equal (h_wait_until (s_ready_is, &g, 10000), 0);
    assert_int_equal (s_copy (key, old), 0);

    /* the procedure: stop, replace, start */
    assert_int_equal (h_bridge_stop (&g), 0);
    assert_int_equal (h_broker_stop (&b), 0);
    assert_int_equal (unlink (key), 0);
    assert_int_equal (unlink (pub), 0);
    assert_int_equal (h_broker_start (&b, dir, NULL), 0);
    assert_int_equal (h_bridge_start (&g, &b, NULL), 0);
    assert_int_equal (h_wait_until (s_ready_is, &g, 10000), 0);
    h_http (&r, g.url, "GET", "/metrics", NULL, NULL, NULL);
    assert_int_equal (r.status, 200);
    h_http_free (&r);

    /* the old key no longer opens the broker */
    h_bridge_t stale;
    const char *const flags[] = {"--gateway-cert", old, NULL};
    assert_int_equal (h_bridge_start (&stale, &b, flags), 0);
    s_status_want = 503;
    assert_int_equal (h_wait_until (s_ready_is, &stale, 10000), 0);

    assert_int_equal (h_bridge_stop (&stale), 0);
    assert_int_equal (h_bridge_stop (&g), 0);
    assert_int_equal (h_broker_stop (&b), 0);
    h_rmrf (dir);
    h_rmrf (scratch);
}

/*  /ready is 200 and /metrics answers 200 through the broker. */
static void
s_works (h_bridge_t *g)
{
    h_resp_t r = {0};
    s_status_want = 200;
    assert_int_equal (h_wait_until (s_ready_is, g, 10000), 0);
    h_http (&r, g->url, "GET", "/metrics", NULL, NULL, NULL);
    assert_int_equal (r.status, 200);
    h_http_free (&r);
}

/*  eventflow admin gateway-key SUB as the operator; its output has want. */
static void
s_gateway_key (const h_broker_t *b, const char *sub, const char *want)
{
    char *out = NULL, *err = NULL;
    assert_int_equal (
        h_cli (b, NULL, &out, &err,
               (const char *const[]){"admin", "gateway-key", sub, NULL}),
        0);
    assert_non_null (strstr (out, want));
    free (out);
    free (err);
}

static void
test_gateway_key_new_then_promote (void **state)
{
    (void)state;
    char dir[256], next[300], pub[300];
    assert_int_equal (h_tempdir (dir), 0);
    snprintf (next, sizeof next, "%s/gateway.next.key", dir);
    snprintf (pub, sizeof pub, "%s/gateway.next.pub", dir);
    const char *const bflags[] = {"--allow-register", "true", NULL};
    h_broker_t b;
    h_bridge_t old, fresh;
    assert_int_equal (h_broker_start (&b, dir, bflags), 0);
    assert_int_equal (h_bridge_start (&old, &b, NULL), 0);
    s_works (&old);

    /* an org's admin is not the operator */
    ef_client_t *c = h_client (&b);
    assert_non_null (c);
    ef_request_t req = {0};
    const ef_reply_t *rep;
    char token[1024];
    req.cmd = EF_CMD_REGISTER;
    req.email = ef_str ("owner@gw.example");
    req.password = ef_str ("correct horse battery");
    req.org_name = ef_str ("gw");
    assert_int_equal (ef_client_call (c, &req, NULL), 0);
    req = (ef_request_t){0};
    req.cmd = EF_CMD_LOGIN;
    req.email = ef_str ("owner@gw.example");
    req.password = ef_str ("correct horse battery");
    assert_int_equal (ef_client_call (c, &req, &rep), 0);
    h_reply_str (rep, "access_token", NULL, token, sizeof token);
    req = (ef_request_t){0};
    req.cmd = EF_CMD_GATEWAY_KEY_NEW;
    req.auth_jwt = ef_str (token);
    assert_int_equal (ef_client_call (c, &req, NULL), EF_EFORBIDDEN);
    req.cmd = EF_CMD_GATEWAY_KEY_PROMOTE;
    assert_int_equal (ef_client_call (c, &req, NULL), EF_EFORBIDDEN);
    ef_client_destroy (&c);
    assert_int_equal (access (next, F_OK), -1);

    /* promote before new: nothing pending */
    char *out = NULL, *err = NULL;
    assert_int_not_equal (
        h_cli (&b, NULL, &out, &err,
               (const char *const[]){"admin", "gateway-key", "promote", NULL}),
        0);
    free (out);
    free (err);

    /* new: both keys are the gateway */
    s_gateway_key (&b, "new", "gateway.next.key");
    assert_int_equal (access (next, F_OK), 0);
    assert_int_equal (access (pub, F_OK), 0);
    const char *const nflags[] = {"--gateway-cert", next, NULL};
    assert_int_equal (h_bridge_start (&fresh, &b, nflags), 0);
    s_works (&fresh);
    s_works (&old);

    /* a restart in between keeps both admitted */
    assert_int_equal (h_bridge_stop (&fresh), 0);
    assert_int_equal (h_bridge_stop (&old), 0);
    assert_int_equal (h_broker_stop (&b), 0);
    assert_int_equal (h_broker_start (&b, dir, bflags), 0);
    assert_int_equal (h_bridge_start (&old, &b, NULL), 0);
    assert_int_equal (h_bridge_start (&fresh, &b, nflags), 0);
    s_works (&old);
    s_works (&fresh);

    /* promote: the old key's open connection is refused as the gateway */
    s_gateway_key (&b, "promote", "\"path\":\"gateway.key\"");
    assert_int_equal (access (next, F_OK), -1);
    assert_int_equal (access (pub, F_OK), -1);
    s_status_want = 503;
    assert_int_equal (h_wait_until (s_ready_is, &old, 10000), 0);
    s_works (&fresh);

    assert_int_equal (h_bridge_stop (&old), 0);
    assert_int_equal (h_bridge_stop (&fresh), 0);
    assert_int_equal (h_broker_stop (&b), 0);
    h_rmrf (dir);
}

int
main (void)
{
    curl_global_init (CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_gateway_key_stop_replace_start),
        cmocka_unit_test (test_gateway_key_new_then_promote),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    curl_global_cleanup ();
    return rc;
}
