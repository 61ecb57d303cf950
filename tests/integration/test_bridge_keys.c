/*  The gateway key replaced (README "Key rotation", the gateway key's
    procedure), with a real broker and bridges: stop the bridge and the
    broker, remove gateway.key and gateway.pub, start the broker (it
    makes a new pair), start the bridge on the data dir: it reaches the
    broker (/ready 200, /metrics through the broker), and a bridge that
    still holds the old key does not. */
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

int
main (void)
{
    curl_global_init (CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_gateway_key_stop_replace_start),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    curl_global_cleanup ();
    return rc;
}
