/*  How the bridge reads where one HTTP request ends and the next begins,
    and which paths it serves. A request whose framing is ambiguous (two
    Content-Lengths, a malformed one, Content-Length with
    Transfer-Encoding, a transfer coding other than exactly chunked, white
    space before a header's colon) is answered 400 and its connection
    closed, so the bytes after it, a second request smuggled in its body,
    never run; a chunked body (no length to decide the limit from) is 411
    at once; well-framed pipelined requests on one connection all run.
    Paths with encoded dot segments or slashes are 400, and the stream
    names "." and ".." are refused over HTTP and over the native protocol
    alike. Raw sockets, since libcurl will not send these. */
#define _GNU_SOURCE
#include "harness.h"
#include "h_fixture.h"
#include "h_http.h"

#include <curl/curl.h>
#include <jansson.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define API "/api/v1"

typedef struct {
    char dir[256];
    h_broker_t broker;
    h_bridge_t bridge;
    ef_client_t *native;
    char admin_key[200]; /* "X-API-Key: efk_…" */
    char producer_key[200];
    h_fixture_t fx;
} fixture_t;

static int
setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    *state = f;
    f->fx = (h_fixture_t){.dir = f->dir,
                          .broker = &f->broker,
                          .native = &f->native,
                          .bridge = &f->bridge,
                          .admin_key = f->admin_key,
                          .producer_key = f->producer_key};
    return h_fixture_setup (&f->fx);
}

static int
teardown (void **state)
{
    fixture_t *f = *state;
    int rc = h_fixture_teardown (&f->fx);
    free (f);
    return rc;
}

static uint64_t
s_count (fixture_t *f, const char *stream)
{
    ef_stream_info_t si;
    assert_int_equal (ef_client_get_stream (f->native, stream, &si), 0);
    return si.events;
}

/*  The head of an ingest request to the default stream, up to (not
    including) the blank line, with the framing headers given. */
static void
s_head (fixture_t *f, char *out, size_t size, const char *framing)
{
    snprintf (out, size,
              "POST " API "/streams/default/events HTTP/1.1\r\n"
              "Host: 127.0.0.1\r\n%s\r\nContent-Type: application/json\r\n"
              "%s",
              f->producer_key, framing);
}

/* ---------------------------------------------------------------- tests */

static void
test_ambiguous_framing_is_400_and_closes_before_a_smuggled_request (
    void **state)
{
    fixture_t *f = *state;
    const char *event = "{\"type\":\"smuggled\",\"payload\":1}";
    char smuggled[1024];
    int slen = snprintf (smuggled, sizeof smuggled,
                         "POST " API "/streams/default/events HTTP/1.1\r\n"
                         "Host: 127.0.0.1\r\n%s\r\n"
                         "Content-Type: application/json\r\n"
                         "Content-Length: %zu\r\n\r\n%s",
                         f->producer_key, strlen (event), event);
    char cl[64];
    snprintf (cl, sizeof cl, "Content-Length: %d\r\n", slen);
    char two_cl[96], cl_te[128];
    snprintf (two_cl, sizeof two_cl, "Content-Length: 0\r\n%s", cl);
    snprintf (cl_te, sizeof cl_te, "%sTransfer-Encoding: chunked\r\n", cl);
    /* each head is followed by "0\r\n\r\n" (an empty chunked body to a
       reader that takes the chunked framing) and the smuggled request */
    struct {
        const char *name, *framing;
    } cases[] = {
        {"two Content-Lengths (0 and N)", two_cl},
        {"Content-Length with Transfer-Encoding", cl_te},
        {"Transfer-Encoding chunked, then identity",
         "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n"},
        {"Transfer-Encoding : chunked (space before the colon)",
         "Transfer-Encoding : chunked\r\n"},
        {"Transfer-Encoding: CHUNKED", "Transfer-Encoding: CHUNKED\r\n"},
        {"Content-Length: +0", "Content-Length: +0\r\n"},
        {"Content-Length: 5x", "Content-Length: 5x\r\n"},
    };
    char req[4096];
    uint64_t before = s_count (f, "default");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_head (f, req, sizeof req, cases[i].framing);
        size_t k = strlen (req);
        k += (size_t)snprintf (req + k, sizeof req - k, "\r\n0\r\n\r\n%s",
                               smuggled);
        int fd = h_http_raw_connect (f->bridge.direct);
        assert_true (fd >= 0);
        h_http_raw_send (fd, req, k);
        char *resp = h_http_raw_read (fd, 5000);
        int st = h_http_raw_status (resp);
        int closed = h_http_raw_closed (fd, 5000);
        fprintf (stderr, "  %s: %d, %s\n", cases[i].name, st,
                 closed ? "closed" : "left open");
        close (fd);
        if (st != 400 || !closed)
            fail_msg ("%s: expected 400 and the connection closed; got %d "
                      "(%s): %s",
                      cases[i].name, st, closed ? "closed" : "open", resp);
        free (resp);
    }
    assert_int_equal (s_count (f, "default"), before);
}

static void
test_a_chunked_body_is_411_at_once_and_closes (void **state)
{
    fixture_t *f = *state;
    char req[2048];
    uint64_t before = s_count (f, "default");
    /* a chunk far over the body limit, and then nothing: the answer may
       not wait for the 4 GiB that will never come */
    s_head (f, req, sizeof req, "Transfer-Encoding: chunked\r\n");
    strcat (req, "\r\n100000000\r\n{\"type\":\"t\",");
    int fd = h_http_raw_connect (f->bridge.direct);
    assert_true (fd >= 0);
    h_http_raw_send (fd, req, strlen (req));
    char *resp = h_http_raw_read (fd, 5000);
    int st = h_http_raw_status (resp);
    assert_int_equal (st, 411);
    assert_true (h_http_raw_closed (fd, 5000));
    free (resp);
    close (fd);
    assert_int_equal (s_count (f, "default"), before);
    /* /metrics counts the answer under its own status, not as a 500 */
    h_resp_t m = {0};
    h_http (&m, f->bridge.url, "GET", "/metrics", NULL, NULL, NULL);
    assert_int_equal (m.status, 200);
    assert_non_null (m.body);
    assert_non_null (strstr (m.body, "code=\"411\"}"));
    h_http_free (&m);
}

static void
test_two_pipelined_requests_on_one_connection_both_run (void **state)
{
    fixture_t *f = *state;
    const char *event = "{\"type\":\"t\",\"payload\":1}";
    char one[1024], both[2048];
    /* the second asks to close, so that the end of the answers is the
       end of the stream */
    snprintf (one, sizeof one,
              "POST " API "/streams/default/events HTTP/1.1\r\n"
              "Host: 127.0.0.1\r\n%s\r\nContent-Type: application/json\r\n"
              "Content-Length: %zu\r\n%%s\r\n%s",
              f->producer_key, strlen (event), event);
    char first[1024], second[1024];
    snprintf (first, sizeof first, one, "");
    snprintf (second, sizeof second, one, "Connection: close\r\n");
    snprintf (both, sizeof both, "%s%s", first, second);
    uint64_t before = s_count (f, "default");
    int fd = h_http_raw_connect (f->bridge.direct);
    assert_true (fd >= 0);
    h_http_raw_send (fd, both, strlen (both));
    /* everything until the bridge closes */
    size_t len = 0;
    char all[16384];
    for (int reads = 0; reads < 100 && len + 1 < sizeof all; reads++) {
        char *part = h_http_raw_read (fd, 5000);
        size_t n = strlen (part);
        if (n > sizeof all - 1 - len)
            n = sizeof all - 1 - len;
        memcpy (all + len, part, n);
        len += n;
        free (part);
        if (n == 0)
            break;
    }
    all[len] = 0;
    close (fd);
    int answers = 0;
    for (const char *p = all; (p = strstr (p, "HTTP/1.1 202")); p++)
        answers++;
    if (answers != 2)
        fail_msg ("expected two 202 answers on one connection: %s", all);
    assert_int_equal (s_count (f, "default"), before + 2);
}

static void
test_encoded_dot_segments_and_slashes_in_a_path_are_400 (void **state)
{
    fixture_t *f = *state;
    h_resp_t r;
    static const char *paths[] = {
        API "/streams/%2e%2e/users", API "/streams/%2E%2E",
        API "/streams/.%2e",         API "/streams/%2e",
        API "/streams/a%2fb",        API "/streams/a%2Fb/events",
        API "/streams/a%5cb",        API "/streams/a%00b",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        h_http (&r, f->bridge.url, "GET", paths[i], f->admin_key, NULL, NULL);
        fprintf (stderr, "  GET %s: %ld\n", paths[i], r.status);
        H_EXPECT_PROBLEM (r, 400, "INVALID", NULL);
        h_http_free (&r);
    }
    /* an escape of an ordinary character is still served */
    h_http (&r, f->bridge.url, "GET", API "/streams/de%66ault", f->admin_key,
            NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "name", "default");
    h_http_free (&r);
}

static void
test_stream_names_dot_and_dot_dot_are_refused (void **state)
{
    fixture_t *f = *state;
    h_resp_t r;
    h_http (&r, f->bridge.url, "POST", API "/streams", f->admin_key,
            "{\"name\":\"..\"}", NULL);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "/name");
    h_http_free (&r);
    h_http (&r, f->bridge.url, "PATCH", API "/streams/default", f->admin_key,
            "{\"name\":\".\"}", NULL);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "/name");
    h_http_free (&r);
    /* the broker refuses them too, for native clients */
    assert_int_equal (ef_client_create_stream (f->native, ".", NULL),
                      EF_EINVAL);
    assert_int_equal (ef_client_create_stream (f->native, "..", NULL),
                      EF_EINVAL);
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_UPDATE_STREAM;
    req.stream = ef_str ("default");
    req.name = ef_str ("..");
    assert_int_equal (ef_client_call (f->native, &req, &rep), EF_EINVAL);
    /* names that merely hold dots are fine */
    assert_int_equal (ef_client_create_stream (f->native, "...", NULL), 0);
    assert_int_equal (ef_client_create_stream (f->native, "a..b", NULL), 0);
}

int
main (void)
{
    curl_global_init (CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (
            test_ambiguous_framing_is_400_and_closes_before_a_smuggled_request),
        cmocka_unit_test (test_a_chunked_body_is_411_at_once_and_closes),
        cmocka_unit_test (
            test_two_pipelined_requests_on_one_connection_both_run),
        cmocka_unit_test (
            test_encoded_dot_segments_and_slashes_in_a_path_are_400),
        cmocka_unit_test (test_stream_names_dot_and_dot_dot_are_refused),
    };
    int rc = cmocka_run_group_tests (tests, setup, teardown);
    curl_global_cleanup ();
    return rc;
}
