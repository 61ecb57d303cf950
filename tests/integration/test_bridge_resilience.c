/*  The bridge under stress it must survive: two bridges on one broker
    answering alike (the bridge holds no state), the broker stopped and
    restarted on the same data dir and endpoint under a running bridge
    (503 problems meanwhile, recovery by itself), and hostile HTTP: a path
    of 4000 slashes, raw CR/LF/NUL in the request line, a body longer than
    its Content-Length, slow senders holding connections open, negative
    and overflowing Content-Lengths, a chunk size of ffffffffffffffff, a
    Range header on an API route, multipart/form-data to the ingest route,
    form-like query strings, and too many or too long headers. These are
    the published crash inputs for civetweb 1.15 that apply to a server
    with no document_root, no form handling and no websockets (civetweb
    issue #1346: the run of slashes, a heap overflow since 1.14; #1353:
    slow chunked reads; mongoose issue #4, its ancestor: a negative
    Content-Length; chunk-size and length overflows; its Range and form
    handling, which an API route must not reach). After each, the bridge
    process is alive and /health answers 200. */
#define _GNU_SOURCE
#include "harness.h"
#include "h_fixture.h"
#include "h_http.h"

#include <curl/curl.h>
#include <jansson.h>

#include <sys/socket.h>
#include <sys/stat.h>

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

#define API   "/api/v1"
#define READY API "/ready"

/* ---------------------------------------------------------------- fixture */

typedef struct {
    char dir[256];
    h_broker_t broker;
    h_bridge_t a, b; /* b only where two bridges are needed */
    ef_client_t *native;
    char admin_pw[128];
    char admin_key[200]; /* "X-API-Key: efk_…" */
    char producer_key[200];
    h_fixture_t fx;
} fixture_t;

static uint64_t
s_count (fixture_t *f, const char *stream)
{
    ef_stream_info_t si;
    assert_int_equal (ef_client_get_stream (f->native, stream, &si), 0);
    return si.events;
}

static int
s_setup (void **state, int two)
{
    fixture_t *f = calloc (1, sizeof *f);
    *state = f;
    f->fx = (h_fixture_t){.dir = f->dir,
                          .broker = &f->broker,
                          .native = &f->native,
                          .bridge = &f->a,
                          .bridge2 = two ? &f->b : NULL,
                          .admin_key = f->admin_key,
                          .producer_key = f->producer_key,
                          .admin_pw = f->admin_pw};
    return h_fixture_setup (&f->fx);
}

static int
setup_one (void **state)
{
    return s_setup (state, 0);
}

static int
setup_two (void **state)
{
    return s_setup (state, 1);
}

static int
teardown (void **state)
{
    fixture_t *f = *state;
    /* a bridge that crashed shows as -1 here (killed by a signal) */
    int rc = h_fixture_teardown (&f->fx);
    free (f);
    return rc;
}

/*  The bridge process is alive and /health answers 200 within 2 s. */
static void
s_still_serving (const h_bridge_t *g)
{
    h_resp_t r;
    if (kill (g->pid, 0) != 0)
        fail_msg ("the bridge process %d is gone; log: %s", (int)g->pid,
                  g->log_path);
    h_http_ex (&r, g->url, "GET", API "/health", NULL, NULL, NULL, 2000, NULL);
    H_EXPECT_STATUS (r, 200);
    h_http_free (&r);
}

/*  Send raw bytes on a new connection (then, if half_close, end the
    sending side); the status of the answer within 5 s, 0 for none. */
static int
s_raw_exchange (const h_bridge_t *g, const char *bytes, size_t n,
                int half_close, char **out)
{
    int fd = h_http_raw_connect (g->direct);
    assert_true (fd >= 0);
    h_http_raw_send (fd, bytes, n);
    if (half_close)
        shutdown (fd, SHUT_WR);
    char *resp = h_http_raw_read (fd, 5000);
    close (fd);
    int st = h_http_raw_status (resp);
    if (out)
        *out = resp;
    else
        free (resp);
    return st;
}

static int
s_raw_request (const h_bridge_t *g, const char *text)
{
    return s_raw_exchange (g, text, strlen (text), 0, NULL);
}

/* ---------------------------------------------------------------- tests */

static void
test_two_bridges_on_one_broker_give_the_same_answers (void **state)
{
    fixture_t *f = *state;
    h_resp_t r, r2;
    char id[128], path[300], body[512], access[2048], refresh[256];
    char bearer[2200], key[200];

    h_http (&r, f->a.url, "POST", API "/streams", f->admin_key,
            "{\"name\":\"shared\"}", NULL);
    H_EXPECT_STATUS (r, 201);
    snprintf (id, sizeof id, "%s", h_http_jstr (r.json, "id"));
    h_http_free (&r);
    h_http (&r, f->b.url, "GET", API "/streams/shared", f->admin_key, NULL,
            NULL);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "id", id);
    h_http_free (&r);

    /* an event published on B reads the same on A and B; A knows it is a
       duplicate */
    snprintf (body, sizeof body,
              "{\"type\":\"t\",\"event_id\":\"%08x-0000-4000-8000-"
              "000000000001\",\"payload\":{\"k\":[1,2,3]}}",
              (unsigned)getpid ());
    h_http (&r, f->b.url, "POST", API "/streams/shared/events", f->producer_key,
            body, NULL);
    H_EXPECT_STATUS (r, 202);
    snprintf (path, sizeof path, API "/events/%s",
              h_http_jstr (r.json, "event_id"));
    h_http_free (&r);
    h_http (&r, f->a.url, "GET", path, f->admin_key, NULL, NULL);
    h_http (&r2, f->b.url, "GET", path, f->admin_key, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STATUS (r2, 200);
    if (!json_equal (r.json, r2.json))
        fail_msg ("A and B disagree: %s vs %s", r.body, r2.body);
    h_http_free (&r);
    h_http_free (&r2);
    h_http (&r, f->a.url, "POST", API "/streams/shared/events", f->producer_key,
            body, NULL);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "status", "DUPLICATE");
    h_http_free (&r);

    h_http (&r, f->a.url, "GET", API "/streams/shared", f->admin_key, NULL,
            NULL);
    h_http (&r2, f->b.url, "GET", API "/streams/shared", f->admin_key, NULL,
            NULL);
    H_EXPECT_STATUS (r, 200);
    if (!json_equal (r.json, r2.json))
        fail_msg ("A and B disagree: %s vs %s", r.body, r2.body);
    h_http_free (&r);
    h_http_free (&r2);

    /* tokens from A work on B; a refresh rotated on B is reused on A */
    snprintf (body, sizeof body,
              "{\"email\":\"admin@eventflow.local\",\"password\":\"%s\"}",
              f->admin_pw);
    h_http (&r, f->a.url, "POST", API "/auth/login", NULL, body, NULL);
    H_EXPECT_STATUS (r, 200);
    snprintf (access, sizeof access, "%s",
              h_http_jstr (r.json, "access_token"));
    snprintf (refresh, sizeof refresh, "%s",
              h_http_jstr (r.json, "refresh_token"));
    h_http_free (&r);
    snprintf (bearer, sizeof bearer, "Authorization: Bearer %s", access);
    h_http (&r, f->b.url, "GET", API "/streams", bearer, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    h_http_free (&r);
    snprintf (body, sizeof body, "{\"refresh_token\":\"%s\"}", refresh);
    h_http (&r, f->b.url, "POST", API "/auth/refresh", NULL, body, NULL);
    H_EXPECT_STATUS (r, 200);
    h_http_free (&r);
    h_http (&r, f->a.url, "POST", API "/auth/refresh", NULL, body, NULL);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);

    /* a key made on A publishes on B */
    h_http (&r, f->a.url, "POST", API "/api-keys", f->admin_key,
            "{\"name\":\"via-a\",\"role\":\"producer\"}", NULL);
    H_EXPECT_STATUS (r, 201);
    snprintf (key, sizeof key, "X-API-Key: %s",
              h_http_jstr (r.json, "api_key"));
    h_http_free (&r);
    h_http (&r, f->b.url, "POST", API "/streams/shared/events", key,
            "{\"type\":\"t\",\"payload\":2}", NULL);
    H_EXPECT_STATUS (r, 202);
    h_http_free (&r);
    assert_int_equal (s_count (f, "shared"), 2);
}

static void
test_broker_restart_bridge_answers_503_then_recovers_by_itself (void **state)
{
    fixture_t *f = *state;
    h_resp_t r;
    char endpoint[256];
    snprintf (endpoint, sizeof endpoint, "%s", f->broker.endpoint);
    h_http (&r, f->a.url, "GET", READY, NULL, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    h_http_free (&r);

    ef_client_destroy (&f->native);
    assert_int_equal (h_broker_stop (&f->broker), 0);

    long t0 = h_http_ms_now ();
    h_http (&r, f->a.url, "GET", READY, NULL, NULL, NULL);
    H_EXPECT_STATUS (r, 503);
    h_http_free (&r);
    long t1 = h_http_ms_now ();
    h_http (&r, f->a.url, "GET", API "/streams", f->admin_key, NULL, NULL);
    H_EXPECT_PROBLEM (r, 503, "UNAVAILABLE", NULL);
    h_http_free (&r);
    fprintf (stderr,
             "  broker down: /ready 503 in %ld ms, /streams 503 in "
             "%ld ms\n",
             t1 - t0, h_http_ms_now () - t1);
    h_http (&r, f->a.url, "POST", API "/streams/default/events",
            f->producer_key, "{\"type\":\"t\",\"payload\":1}", NULL);
    H_EXPECT_PROBLEM (r, 503, "UNAVAILABLE", NULL);
    h_http_free (&r);
    s_still_serving (&f->a);

    /* the same data dir and endpoint; the bridge reconnects by itself */
    const char *extra[] = {"--endpoint", endpoint, NULL};
    assert_int_equal (h_broker_start (&f->broker, f->dir, extra), 0);
    assert_string_equal (f->broker.endpoint, endpoint);
    long restarted = h_http_ms_now (), until = restarted + 10000;
    long status = 0;
    while (h_http_ms_now () < until) {
        h_http_ex (&r, f->a.url, "GET", READY, NULL, NULL, NULL, 2000, NULL);
        status = r.status;
        h_http_free (&r);
        if (status == 200)
            break;
    }
    fprintf (stderr, "  broker back: /ready %ld after %ld ms\n", status,
             h_http_ms_now () - restarted);
    if (status != 200)
        fail_msg ("the bridge was not ready 10 s after the broker restarted "
                  "(last /ready: %ld)",
                  status);
    h_http (&r, f->a.url, "GET", API "/streams/default", f->admin_key, NULL,
            NULL);
    H_EXPECT_STATUS (r, 200);
    h_http_free (&r);
    h_http (&r, f->a.url, "POST", API "/streams/default/events",
            f->producer_key, "{\"type\":\"t\",\"payload\":1}", NULL);
    H_EXPECT_STATUS (r, 202);
    h_http_free (&r);
    f->native = h_client (&f->broker);
    assert_non_null (f->native);
    assert_int_equal (s_count (f, "default"), 1);
}

static void
test_a_path_of_4000_slashes_leaves_the_bridge_serving (void **state)
{
    fixture_t *f = *state;
    size_t n = 4000;
    char *req = malloc (n + 200);
    strcpy (req, "GET ");
    memset (req + 4, '/', n);
    strcpy (req + 4 + n, " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    int st = s_raw_request (&f->a, req);
    fprintf (stderr, "  GET of 4000 slashes: %d\n", st);
    s_still_serving (&f->a);
    strcpy (req, "GET " API);
    memset (req + 4 + strlen (API), '/', n);
    strcpy (req + 4 + strlen (API) + n,
            "health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    st = s_raw_request (&f->a, req);
    fprintf (stderr, "  GET /api/v1 + 4000 slashes + health: %d\n", st);
    s_still_serving (&f->a);
    free (req);
}

static void
test_raw_cr_lf_and_nul_in_the_uri_leave_the_bridge_serving (void **state)
{
    fixture_t *f = *state;
    static const char *reqs[] = {
        "GET " API "/he\r\nalth HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        "GET " API "/he\ralth HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        "GET " API "/he\nalth HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        "GET " API "/streams\r\n/x HTTP/1.1\r\nX-API-Key: x\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        int st = s_raw_request (&f->a, reqs[i]);
        fprintf (stderr, "  request line with a raw CR/LF (#%zu): %d\n", i, st);
        assert_true (st != 200);
        s_still_serving (&f->a);
    }
    static const char nul[] = "GET " API "/health\0/../x HTTP/1.1\r\n"
                              "Host: 127.0.0.1\r\n\r\n";
    int st = s_raw_exchange (&f->a, nul, sizeof nul - 1, 0, NULL);
    fprintf (stderr, "  request line with a NUL: %d\n", st);
    s_still_serving (&f->a);
}

static void
test_a_body_longer_than_its_content_length_leaves_the_bridge_serving (
    void **state)
{
    fixture_t *f = *state;
    const char *body = "{\"type\":\"t\",\"payload\":1}";
    size_t junk = 4000;
    char *req = malloc (1024 + junk);
    int k = snprintf (req, 1024,
                      "POST " API "/streams/default/events HTTP/1.1\r\n"
                      "Host: 127.0.0.1\r\n%s\r\n"
                      "Content-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n%s",
                      f->producer_key, strlen (body), body);
    memset (req + k, 'Z', junk);
    memcpy (req + k + junk, "\r\n\r\n", 4);
    char *resp;
    int st = s_raw_exchange (&f->a, req, (size_t)k + junk + 4, 1, &resp);
    fprintf (stderr, "  body longer than Content-Length: %d\n", st);
    /* the declared body is one good event; the rest is not another */
    assert_int_equal (st, 202);
    free (resp);
    free (req);
    s_still_serving (&f->a);
    assert_int_equal (s_count (f, "default"), 1);
}

static void
test_a_slow_sender_does_not_delay_health (void **state)
{
    fixture_t *f = *state;
    int line = h_http_raw_connect (f->a.direct),
        body = h_http_raw_connect (f->a.direct);
    assert_true (line >= 0 && body >= 0);
    h_http_raw_send (line, "GET " API "/hea", strlen ("GET " API "/hea"));
    char req[512];
    snprintf (req, sizeof req,
              "POST " API "/streams/default/events HTTP/1.1\r\n"
              "Host: 127.0.0.1\r\n%s\r\nContent-Type: application/json\r\n"
              "Content-Length: 100\r\n\r\n{\"type\":",
              f->producer_key);
    h_http_raw_send (body, req, strlen (req));
    long t0 = h_http_ms_now ();
    s_still_serving (&f->a); /* within 2 s */
    fprintf (stderr, "  /health beside 2 slow senders: %ld ms\n",
             h_http_ms_now () - t0);
    close (line);
    close (body);
    s_still_serving (&f->a);
}

static void
test_twenty_slow_connections_do_not_stop_health (void **state)
{
    fixture_t *f = *state;
    int fds[20];
    char req[512];
    snprintf (req, sizeof req,
              "POST " API "/streams/default/events HTTP/1.1\r\n"
              "Host: 127.0.0.1\r\n%s\r\nContent-Type: application/json\r\n"
              "Content-Length: 1000\r\n\r\n{\"type\":",
              f->producer_key);
    for (int i = 0; i < 20; i++) {
        fds[i] = h_http_raw_connect (f->a.direct);
        assert_true (fds[i] >= 0);
        /* half a request line, headers without their end, half a body */
        const char *part = i % 3 == 0   ? "GET " API "/he"
                           : i % 3 == 1 ? "GET " API "/health HTTP/1.1\r\n"
                                          "Host: x\r\n"
                                        : req;
        h_http_raw_send (fds[i], part, strlen (part));
    }
    long t0 = h_http_ms_now ();
    h_resp_t r;
    h_http (&r, f->a.url, "GET", API "/health", NULL, NULL, NULL);
    long took = h_http_ms_now () - t0;
    fprintf (stderr, "  /health beside 20 slow connections: %ld ms\n", took);
    H_EXPECT_STATUS (r, 200);
    h_http_free (&r);
    for (int i = 0; i < 20; i++)
        close (fds[i]);
    s_still_serving (&f->a);
}

static void
test_negative_and_overflowing_content_lengths_are_refused (void **state)
{
    fixture_t *f = *state;
    static const char *lengths[] = {"-1",
                                    "-268435455700",
                                    "-9223372036854775808",
                                    "99999999999999999999999999999999",
                                    "18446744073709551617",
                                    "1e3",
                                    "12abc",
                                    "0x10"};
    char req[1024];
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        snprintf (req, sizeof req,
                  "POST " API "/streams/default/events HTTP/1.1\r\n"
                  "Host: 127.0.0.1\r\n%s\r\nContent-Type: application/json\r\n"
                  "Content-Length: %s\r\n\r\n{\"type\":\"t\",\"payload\":1}",
                  f->producer_key, lengths[i]);
        int st = s_raw_request (&f->a, req);
        fprintf (stderr, "  POST with Content-Length: %s -> %d\n", lengths[i],
                 st);
        if (st < 400 || st > 499)
            fail_msg ("Content-Length: %s answered %d, expected a 4xx",
                      lengths[i], st);
        s_still_serving (&f->a);
    }
    /* the mongoose-era input: a GET with a huge negative length */
    int st = s_raw_request (&f->a, "GET " API "/health HTTP/1.0\r\n"
                                   "Content-Length: -268435455700\r\n\r\n");
    fprintf (stderr, "  GET with Content-Length -268435455700 -> %d\n", st);
    s_still_serving (&f->a);
    assert_int_equal (s_count (f, "default"), 0);
}

static void
test_a_bogus_chunk_size_is_refused (void **state)
{
    fixture_t *f = *state;
    static const char *sizes[] = {"ffffffffffffffff", "-1", "7fffffffffffffff",
                                  "100000000", "zz"};
    char req[1024];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int k = snprintf (req, sizeof req,
                          "POST " API "/streams/default/events HTTP/1.1\r\n"
                          "Host: 127.0.0.1\r\n%s\r\n"
                          "Content-Type: application/json\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n"
                          "%s\r\n{\"type\":\"t\",\"payload\":1}\r\n0\r\n\r\n",
                          f->producer_key, sizes[i]);
        int st = s_raw_exchange (&f->a, req, (size_t)k, 1, NULL);
        fprintf (stderr, "  chunk size %s -> %d\n", sizes[i], st);
        if (st != 0 && (st < 400 || st > 499))
            fail_msg ("chunk size %s answered %d", sizes[i], st);
        s_still_serving (&f->a);
    }
    assert_int_equal (s_count (f, "default"), 0);
}

static void
test_a_range_header_on_an_api_route_is_ignored (void **state)
{
    fixture_t *f = *state;
    h_resp_t r;
    static const char *ranges[] = {
        "Range: bytes=0-0,-1,99999999999999999999-",
        "Range: bytes=-99999999999999999999", "Range: bytes=5-1",
        "Range: bytes=0-1,1-2,2-3,3-4,4-5,5-6,6-7,7-8"};
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        const char *hdr[] = {ranges[i], NULL};
        h_http (&r, f->a.url, "GET", API "/streams", f->admin_key, NULL, hdr);
        H_EXPECT_STATUS (r, 200);
        assert_true (json_is_array (h_http_j (r.json, "items")));
        h_http_free (&r);
        h_http (&r, f->a.url, "GET", API "/health", NULL, NULL, hdr);
        H_EXPECT_STATUS (r, 200);
        h_http_free (&r);
        s_still_serving (&f->a);
    }
}

static void
test_a_multipart_body_to_ingest_is_415 (void **state)
{
    fixture_t *f = *state;
    h_resp_t r;
    char marker[300];
    snprintf (marker, sizeof marker, "%s/../ef-multipart-%d", f->dir,
              (int)getpid ());
    char body[1024];
    snprintf (body, sizeof body,
              "--xyz\r\nContent-Disposition: form-data; name=\"file\"; "
              "filename=\"%s\"\r\nContent-Type: application/json\r\n\r\n"
              "{\"type\":\"t\",\"payload\":1}\r\n--xyz--\r\n",
              marker);
    const char *hdr[] = {"Content-Type: multipart/form-data; boundary=xyz",
                         NULL};
    h_http (&r, f->a.url, "POST", API "/streams/default/events",
            f->producer_key, body, hdr);
    H_EXPECT_PROBLEM (r, 415, "UNSUPPORTED_MEDIA_TYPE", NULL);
    h_http_free (&r);
    h_http (&r, f->a.url, "POST", API "/events", f->producer_key, body, hdr);
    H_EXPECT_PROBLEM (r, 415, "UNSUPPORTED_MEDIA_TYPE", NULL);
    h_http_free (&r);
    struct stat sb;
    assert_int_not_equal (stat (marker, &sb), 0);
    s_still_serving (&f->a);
    assert_int_equal (s_count (f, "default"), 0);
}

static void
test_hostile_query_strings_leave_the_bridge_serving (void **state)
{
    fixture_t *f = *state;
    h_resp_t r;
    size_t n = 8000;
    char *path = malloc (n + 64);
    strcpy (path, API "/events?");
    size_t k = strlen (path);
    for (size_t i = 0; i < n; i += 2)
        path[k++] = '&', path[k++] = '=';
    path[k] = 0;
    static const char *others[] = {
        API "/events?page=99999999999999999999999",
        API "/events?limit=-1",
        API "/events?stream=%",
        API "/events?stream=%00x",
        API "/events?stream=%zz&type=%",
        API "/events?from=-1&to=18446744073709551616",
        API "/events?page=0",
    };
    h_http (&r, f->a.url, "GET", path, f->admin_key, NULL, NULL);
    fprintf (stderr, "  GET /events?&=&=… (8000): %ld\n", r.status);
    assert_true (r.status >= 200 && r.status < 500);
    h_http_free (&r);
    s_still_serving (&f->a);
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        h_http (&r, f->a.url, "GET", others[i], f->admin_key, NULL, NULL);
        fprintf (stderr, "  GET %s: %ld\n", others[i], r.status);
        if (r.status < 200 || r.status >= 500)
            fail_msg ("GET %s answered %ld: %s", others[i], r.status,
                      r.body ? r.body : "");
        h_http_free (&r);
        s_still_serving (&f->a);
    }
    free (path);
}

static void
test_too_many_or_too_long_headers_leave_the_bridge_serving (void **state)
{
    fixture_t *f = *state;
    size_t cap = 64 * 1024;
    char *req = malloc (cap);
    size_t k = (size_t)snprintf (req, cap, "GET " API "/health HTTP/1.1\r\n");
    for (int i = 0; i < 300; i++)
        k += (size_t)snprintf (req + k, cap - k, "X-H-%d: v\r\n", i);
    k += (size_t)snprintf (req + k, cap - k, "\r\n");
    int st = s_raw_exchange (&f->a, req, k, 0, NULL);
    fprintf (stderr, "  300 headers: %d\n", st);
    s_still_serving (&f->a);

    k = (size_t)snprintf (req, cap, "GET " API "/health HTTP/1.1\r\nX-Big: ");
    memset (req + k, 'b', 40000);
    k += 40000;
    k += (size_t)snprintf (req + k, cap - k, "\r\n\r\n");
    st = s_raw_exchange (&f->a, req, k, 0, NULL);
    fprintf (stderr, "  a 40000-byte header: %d\n", st);
    s_still_serving (&f->a);
    free (req);
}

/*  Both Content-Length and Transfer-Encoding: the way requests are
    smuggled past a load balancer. RFC 9112 §6.3: the server may refuse
    it, and must close the connection after answering it. */
static void
test_content_length_with_transfer_encoding_is_refused_or_closes (void **state)
{
    fixture_t *f = *state;
    const char *body = "{\"type\":\"t\",\"payload\":1}";
    char req[1024];
    int k = snprintf (req, sizeof req,
                      "POST " API "/streams/default/events HTTP/1.1\r\n"
                      "Host: 127.0.0.1\r\n%s\r\n"
                      "Content-Type: application/json\r\n"
                      "Content-Length: 5\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"
                      "%zx\r\n%s\r\n0\r\n\r\n",
                      f->producer_key, strlen (body), body);
    int fd = h_http_raw_connect (f->a.direct);
    assert_true (fd >= 0);
    h_http_raw_send (fd, req, (size_t)k);
    char *resp = h_http_raw_read (fd, 5000);
    int st = h_http_raw_status (resp);
    fprintf (stderr, "  Content-Length with Transfer-Encoding: %d\n", st);
    free (resp);
    if (st != 400) {
        /* answered: then the connection must be closed */
        const char *next = "GET " API "/health HTTP/1.1\r\nHost: x\r\n\r\n";
        h_http_raw_send (fd, next, strlen (next));
        resp = h_http_raw_read (fd, 2000);
        int again = h_http_raw_status (resp);
        free (resp);
        if (again != 0)
            fail_msg ("the connection stayed open after a request with both "
                      "Content-Length and Transfer-Encoding (answered %d, "
                      "then %d)",
                      st, again);
    }
    close (fd);
    s_still_serving (&f->a);
}

int
main (void)
{
    curl_global_init (CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (
            test_two_bridges_on_one_broker_give_the_same_answers, setup_two,
            teardown),
        cmocka_unit_test_setup_teardown (
            test_broker_restart_bridge_answers_503_then_recovers_by_itself,
            setup_one, teardown),
        cmocka_unit_test_setup_teardown (
            test_a_path_of_4000_slashes_leaves_the_bridge_serving, setup_one,
            teardown),
        cmocka_unit_test_setup_teardown (
            test_raw_cr_lf_and_nul_in_the_uri_leave_the_bridge_serving,
            setup_one, teardown),
        cmocka_unit_test_setup_teardown (
            test_a_body_longer_than_its_content_length_leaves_the_bridge_serving,
            setup_one, teardown),
        cmocka_unit_test_setup_teardown (
            test_a_slow_sender_does_not_delay_health, setup_one, teardown),
        cmocka_unit_test_setup_teardown (
            test_twenty_slow_connections_do_not_stop_health, setup_one,
            teardown),
        cmocka_unit_test_setup_teardown (
            test_negative_and_overflowing_content_lengths_are_refused,
            setup_one, teardown),
        cmocka_unit_test_setup_teardown (test_a_bogus_chunk_size_is_refused,
                                         setup_one, teardown),
        cmocka_unit_test_setup_teardown (
            test_content_length_with_transfer_encoding_is_refused_or_closes,
            setup_one, teardown),
        cmocka_unit_test_setup_teardown (
            test_a_range_header_on_an_api_route_is_ignored, setup_one,
            teardown),
        cmocka_unit_test_setup_teardown (test_a_multipart_body_to_ingest_is_415,
                                         setup_one, teardown),
        cmocka_unit_test_setup_teardown (
            test_hostile_query_strings_leave_the_bridge_serving, setup_one,
            teardown),
        cmocka_unit_test_setup_teardown (
            test_too_many_or_too_long_headers_leave_the_bridge_serving,
            setup_one, teardown),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    curl_global_cleanup ();
    return rc;
}
