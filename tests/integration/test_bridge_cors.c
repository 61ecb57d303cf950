/*  Cross-origin requests (--cors-origins) against a real broker and real
    bridges, over HTTP:
    * a preflight (OPTIONS with Origin and Access-Control-Request-Method)
      from an allowed origin is 204 with the origin echoed, Vary: Origin,
      the methods the path serves, the request headers the API reads and
      a Max-Age; from any other origin it is a 403 problem with no CORS
      header (and so on a bridge with none configured, the default);
    * real answers to an allowed origin carry Access-Control-Allow-Origin,
      Vary: Origin and Access-Control-Expose-Headers (problems and the
      live feed too); to another origin, or on the default bridge, none;
    * "*" allows any origin (echoed); a plain OPTIONS is 204 with Allow;
    * a malformed list stops the bridge at start with a non-zero exit. */
#define _GNU_SOURCE
#include "harness.h"
#include "h_fixture.h"
#include "h_http.h"

#include <curl/curl.h>
#include <jansson.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define API     "/api/v1"
#define ALLOWED "http://app.test"

/* ---------------------------------------------------------------- fixture */

static char s_dir[256];
static h_broker_t s_broker;
static h_bridge_t s_bridge;  /* --cors-origins ALLOWED,https://b.test:8443 */
static h_bridge_t s_default; /* no --cors-origins */
static ef_client_t *s_native;
static char s_key[200]; /* admin "X-API-Key: …" */
static h_fixture_t s_fx = {
    .dir = s_dir,
    .broker = &s_broker,
    .native = &s_native,
    .bridge = &s_bridge,
    .bridge2 = &s_default,
    .admin_key = s_key,
    .broker_flags = (const char *const[]){"--durability", "os", NULL},
    .bridge_flags = (const char *const[]){
        "--cors-origins", ALLOWED ", https://b.test:8443", NULL}};

static int
group_setup (void **state)
{
    (void)state;
    return h_fixture_setup (&s_fx);
}

static int
group_teardown (void **state)
{
    (void)state;
    return h_fixture_teardown (&s_fx);
}

/* ---------------------------------------------------------------- helpers */

/*  One raw request (its headers after the request line, each ending in
    CRLF) to url: the whole answer, malloc'ed. */
static char *
s_raw (const char *url, const char *method, const char *path,
       const char *headers)
{
    int fd = h_http_raw_connect (url);
    assert_true (fd >= 0);
    char req[2048];
    int n = snprintf (req, sizeof req,
                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s"
                      "Connection: close\r\n\r\n",
                      method, path, headers);
    h_http_raw_send (fd, req, (size_t)n);
    char *resp = h_http_raw_read (fd, 10000);
    close (fd);
    assert_non_null (resp);
    return resp;
}

/*  The headers of a streamed answer (GET path with headers) that does
    not end: read until the blank line, then the connection closed. */
static char *
s_raw_head (const char *url, const char *path, const char *headers)
{
    int fd = h_http_raw_connect (url);
    assert_true (fd >= 0);
    struct timeval tv = {10, 0};
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[2048];
    int n = snprintf (req, sizeof req,
                      "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", path,
                      headers);
    h_http_raw_send (fd, req, (size_t)n);
    char *buf = calloc (1, 8192);
    assert_non_null (buf);
    size_t len = 0;
    while (!strstr (buf, "\r\n\r\n") && len < 8191) {
        ssize_t got = recv (fd, buf + len, 8191 - len, 0);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close (fd);
    return buf;
}

/*  The value of header name in a raw answer (up to its CR) in out, or ""
    when absent; 1 when present. */
static int
s_header (const char *resp, const char *name, char *out, size_t size)
{
    size_t len = strlen (name);
    const char *end = strstr (resp, "\r\n\r\n");
    out[0] = 0;
    for (const char *p = strstr (resp, "\r\n"); p && (!end || p < end);
         p = strstr (p + 2, "\r\n")) {
        if (strncasecmp (p + 2, name, len) == 0 && p[2 + len] == ':') {
            const char *v = p + 3 + len;
            while (*v == ' ')
                v++;
            snprintf (out, size, "%.*s", (int)strcspn (v, "\r"), v);
            return 1;
        }
    }
    return 0;
}

static void
s_expect_header (const char *resp, const char *name, const char *want)
{
    char v[512];
    if (!s_header (resp, name, v, sizeof v) || strcmp (v, want) != 0) {
        fprintf (stderr, "%s: want '%s', got '%s' in:\n%s\n", name, want, v,
                 resp);
        fail ();
    }
}

/*  No Access-Control-* header at all in the answer. */
static void
s_expect_no_cors (const char *resp)
{
    const char *end = strstr (resp, "\r\n\r\n");
    const char *at = strcasestr (resp, "\r\nAccess-Control-");
    if (at && (!end || at < end)) {
        fprintf (stderr, "unexpected CORS header in:\n%s\n", resp);
        fail ();
    }
}

#define PREFLIGHT(origin, method)                                              \
    "Origin: " origin "\r\nAccess-Control-Request-Method: " method "\r\n"      \
    "Access-Control-Request-Headers: x-api-key, content-type\r\n"

/* ---------------------------------------------------------------- tests */

static void
test_cors_preflight_from_an_allowed_origin (void **state)
{
    (void)state;
    char *r = s_raw (s_bridge.url, "OPTIONS", API "/streams/orders/events",
                     PREFLIGHT (ALLOWED, "POST"));
    assert_int_equal (h_http_raw_status (r), 204);
    s_expect_header (r, "Access-Control-Allow-Origin", ALLOWED);
    s_expect_header (r, "Vary", "Origin");
    s_expect_header (r, "Access-Control-Allow-Methods", "POST, GET");
    s_expect_header (r, "Access-Control-Allow-Headers",
                     "Authorization, Content-Type, X-API-Key, X-Request-Id, "
                     "X-Correlation-Id, traceparent");
    s_expect_header (r, "Access-Control-Max-Age", "600");
    free (r);
    /* the second origin of the list, on a path with other methods */
    r = s_raw (s_bridge.url, "OPTIONS", API "/streams/orders",
               PREFLIGHT ("https://b.test:8443", "DELETE"));
    assert_int_equal (h_http_raw_status (r), 204);
    s_expect_header (r, "Access-Control-Allow-Origin", "https://b.test:8443");
    s_expect_header (r, "Access-Control-Allow-Methods", "GET, PATCH, DELETE");
    free (r);
    /* a path no route has: 404, still readable by the allowed page */
    r = s_raw (s_bridge.url, "OPTIONS", API "/nowhere",
               PREFLIGHT (ALLOWED, "GET"));
    assert_int_equal (h_http_raw_status (r), 404);
    s_expect_header (r, "Access-Control-Allow-Origin", ALLOWED);
    free (r);
}

static void
test_cors_preflight_from_another_origin_is_403 (void **state)
{
    (void)state;
    const char *others[] = {PREFLIGHT ("http://evil.test", "POST"),
                            /* exact: no prefix, no other scheme or port */
                            PREFLIGHT ("http://app.test.evil.test", "POST"),
                            PREFLIGHT ("https://app.test", "POST"),
                            PREFLIGHT ("https://b.test", "POST"),
                            PREFLIGHT ("null", "POST")};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        char *r = s_raw (s_bridge.url, "OPTIONS", API "/streams", others[i]);
        assert_int_equal (h_http_raw_status (r), 403);
        assert_non_null (strstr (r, "application/problem+json"));
        assert_non_null (strstr (r, "\"code\":\"FORBIDDEN\""));
        s_expect_no_cors (r);
        free (r);
    }
    /* the default bridge allows no other origin */
    char *r = s_raw (s_default.url, "OPTIONS", API "/streams",
                     PREFLIGHT (ALLOWED, "POST"));
    assert_int_equal (h_http_raw_status (r), 403);
    s_expect_no_cors (r);
    free (r);
}

static void
test_cors_real_answers_carry_the_headers_for_an_allowed_origin (void **state)
{
    (void)state;
    char headers[400];
    snprintf (headers, sizeof headers, "Origin: " ALLOWED "\r\n%s\r\n", s_key);
    const char *paths[] = {"/health", API "/streams", API "/events/nope"};
    for (size_t i = 0; i < 3; i++) {
        char *r = s_raw (s_bridge.url, "GET", paths[i], headers);
        assert_true (h_http_raw_status (r) == 200 ||
                     h_http_raw_status (r) == 404);
        s_expect_header (r, "Access-Control-Allow-Origin", ALLOWED);
        s_expect_header (r, "Vary", "Origin");
        s_expect_header (r, "Access-Control-Expose-Headers",
                         "X-Request-Id, Retry-After");
        free (r);
    }
    /* an unauthenticated problem too: the page must read the 401 */
    char *r =
        s_raw (s_bridge.url, "GET", API "/streams", "Origin: " ALLOWED "\r\n");
    assert_int_equal (h_http_raw_status (r), 401);
    s_expect_header (r, "Access-Control-Allow-Origin", ALLOWED);
    free (r);
    /* the live feed (Server-Sent Events) as well */
    char live[400];
    snprintf (live, sizeof live,
              "Origin: " ALLOWED "\r\nAccept: text/event-stream\r\n%s\r\n",
              s_key);
    r = s_raw_head (s_bridge.url, API "/live?figures=1", live);
    assert_int_equal (h_http_raw_status (r), 200);
    assert_non_null (strstr (r, "text/event-stream"));
    s_expect_header (r, "Access-Control-Allow-Origin", ALLOWED);
    s_expect_header (r, "Vary", "Origin");
    free (r);
    /* and the recorded answer of the contract check */
    h_resp_t hr;
    h_http (&hr, s_bridge.url, "GET", "/health", NULL, NULL,
            (const char *const[]){"Origin: " ALLOWED, NULL});
    H_EXPECT_STATUS (hr, 200);
    h_http_free (&hr);
}

static void
test_cors_real_answers_to_other_origins_carry_none (void **state)
{
    (void)state;
    char headers[400];
    snprintf (headers, sizeof headers, "Origin: http://evil.test\r\n%s\r\n",
              s_key);
    char *r = s_raw (s_bridge.url, "GET", API "/streams", headers);
    assert_int_equal (h_http_raw_status (r), 200);
    s_expect_no_cors (r);
    free (r);
    snprintf (headers, sizeof headers, "Origin: " ALLOWED "\r\n%s\r\n", s_key);
    r = s_raw (s_default.url, "GET", API "/streams", headers);
    assert_int_equal (h_http_raw_status (r), 200);
    s_expect_no_cors (r);
    assert_null (strcasestr (r, "Vary: Origin"));
    free (r);
}

static void
test_cors_plain_options_answers_allow (void **state)
{
    (void)state;
    char *r = s_raw (s_default.url, "OPTIONS", API "/streams", "");
    assert_int_equal (h_http_raw_status (r), 204);
    s_expect_header (r, "Allow", "POST, GET");
    s_expect_no_cors (r);
    free (r);
}

static void
test_cors_star_allows_any_origin (void **state)
{
    (void)state;
    h_bridge_t any;
    assert_int_equal (
        h_bridge_start (&any, &s_broker,
                        (const char *const[]){"--cors-origins", "*", NULL}),
        0);
    char *r = s_raw (any.url, "OPTIONS", API "/dlq/x/replay",
                     PREFLIGHT ("https://anyone.example", "POST"));
    assert_int_equal (h_http_raw_status (r), 204);
    s_expect_header (r, "Access-Control-Allow-Origin",
                     "https://anyone.example");
    s_expect_header (r, "Access-Control-Allow-Methods", "POST");
    free (r);
    /* what is not an origin is never echoed */
    r = s_raw (any.url, "GET", "/health", "Origin: not an origin\r\n");
    s_expect_no_cors (r);
    free (r);
    assert_int_equal (h_bridge_stop (&any), 0);
}

static void
test_cors_a_malformed_list_stops_the_bridge (void **state)
{
    (void)state;
    const char *bad[] = {"http://app.test/", "app.test", "*, http://a.test",
                         "http://a b.test"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pid_t pid = fork ();
        assert_true (pid >= 0);
        if (pid == 0) {
            int devnull = open ("/dev/null", O_WRONLY);
            dup2 (devnull, 2);
            execl (h_bin ("eventflow-bridge"), "eventflow-bridge", "--listen",
                   "127.0.0.1:0", "--plain", "1", "--broker", s_broker.endpoint,
                   "--cors-origins", bad[i], (char *)NULL);
            _exit (127);
        }
        int status;
        assert_int_equal (waitpid (pid, &status, 0), pid);
        assert_true (WIFEXITED (status));
        assert_int_not_equal (WEXITSTATUS (status), 0);
        assert_int_not_equal (WEXITSTATUS (status), 127);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_cors_preflight_from_an_allowed_origin),
        cmocka_unit_test (test_cors_preflight_from_another_origin_is_403),
        cmocka_unit_test (
            test_cors_real_answers_carry_the_headers_for_an_allowed_origin),
        cmocka_unit_test (test_cors_real_answers_to_other_origins_carry_none),
        cmocka_unit_test (test_cors_plain_options_answers_allow),
        cmocka_unit_test (test_cors_star_allows_any_origin),
        cmocka_unit_test (test_cors_a_malformed_list_stops_the_bridge),
    };
    return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
