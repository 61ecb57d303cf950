/*  The dashboard as a real bridge serves it (bridge/ef_assets, README
    "Dashboard"), embedded at build time from bridge/www:
    * GET / and /index.html answer the page as HTML with the security
      headers (CSP without inline scripts, X-Frame-Options, nosniff,
      Referrer-Policy), an ETag and Cache-Control: no-cache; HEAD the
      same headers without the body.
    * an asset answers gzip'd only when the request accepts gzip (the
      same bytes once inflated), with Vary: Accept-Encoding and an ETag
      per representation; If-None-Match with its ETag answers 304.
    * an unknown asset is a 404 problem; a path with dot segments, plain
      or escaped, never reaches a file (404 or 400).
    * the whole dashboard (every file under bridge/www/src and the vendor
      files), gzip'd, is under 300 KB: the first load, which is a part of
      it, is too; and each file index.html references is served.
    * the answers are counted under their route in /metrics.
    * a JSON answer of 1 KiB or more (a list of streams) is gzip'd when
      the request accepts gzip, over HTTP/1.1 and 1.0: Content-Encoding,
      Vary: Accept-Encoding, a Content-Length of the gzip'd bytes, and
      the same bytes as the plain answer once inflated; without
      Accept-Encoding (or with gzip;q=0) it is plain; a small answer (an
      ingest's 202) is plain and says no Vary even when gzip is accepted. */
#define _GNU_SOURCE
#include "harness.h"
#include "h_fixture.h"
#include "h_http.h"

#include <curl/curl.h>
#include <ftw.h>
#include <jansson.h>
#include <zlib.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

/* ---------------------------------------------------------------- fixture */

static char s_dir[256];
static h_broker_t s_broker;
static h_bridge_t s_bridge;
static ef_client_t *s_native;
static char s_admin[200]; /* "X-API-Key: …" */
static h_fixture_t s_fx = {.dir = s_dir,
                           .broker = &s_broker,
                           .native = &s_native,
                           .bridge = &s_bridge,
                           .admin_key = s_admin};

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

/*  One raw request in HTTP/1.version (headers may be "" or "Name:
    value\r\n" lines; body may be NULL, else sent as JSON); the answer,
    headers and body, malloc'ed. The connection closes after it, so an
    answer without a body ends too. */
static char *
s_raw_ex (const char *method, const char *path, int version,
          const char *headers, const char *body)
{
    int fd = h_http_raw_connect (s_bridge.url);
    assert_true (fd >= 0);
    char req[4096];
    int n = snprintf (req, sizeof req,
                      "%s %s HTTP/1.%d\r\nHost: 127.0.0.1\r\n%s"
                      "Connection: close\r\n",
                      method, path, version, headers);
    if (body)
        n += snprintf (req + n, sizeof req - (size_t)n,
                       "Content-Type: application/json\r\n"
                       "Content-Length: %zu\r\n\r\n%s",
                       strlen (body), body);
    else
        n += snprintf (req + n, sizeof req - (size_t)n, "\r\n");
    assert_true ((size_t)n < sizeof req);
    h_http_raw_send (fd, req, (size_t)n);
    char *resp = h_http_raw_read (fd, 10000);
    close (fd);
    return resp;
}

/*  One raw GET/HEAD in HTTP/1.1, without a body. */
static char *
s_raw (const char *method, const char *path, const char *headers)
{
    return s_raw_ex (method, path, 1, headers, NULL);
}

/*  The value of header name in a raw answer, into out; 1 or 0. */
static int
s_header (const char *resp, const char *name, char *out, size_t size)
{
    const char *eoh = strstr (resp, "\r\n\r\n");
    char key[128];
    snprintf (key, sizeof key, "\r\n%s:", name);
    const char *p = strcasestr (resp, key);
    if (!p || !eoh || p > eoh)
        return 0;
    p += strlen (key);
    while (*p == ' ')
        p++;
    size_t n = strcspn (p, "\r");
    snprintf (out, size, "%.*s", (int)n, p);
    return 1;
}

static void
s_expect_header (const char *resp, const char *name, const char *want)
{
    char v[1024];
    if (!s_header (resp, name, v, sizeof v)) {
        fprintf (stderr, "no %s in:\n%.600s\n", name, resp);
        fail ();
    }
    if (want && strcmp (v, want) != 0) {
        fprintf (stderr, "%s: '%s', wanted '%s'\n", name, v, want);
        fail ();
    }
}

/*  The body of a raw answer and its length (from Content-Length). */
static const char *
s_body (const char *resp, size_t *len)
{
    char v[32];
    const char *eoh = strstr (resp, "\r\n\r\n");
    assert_non_null (eoh);
    *len = s_header (resp, "Content-Length", v, sizeof v)
               ? strtoul (v, NULL, 10)
               : 0;
    return eoh + 4;
}

/*  gzip bytes inflated into out (cap bytes); their length, or -1 (also
    when the n bytes hold more than the one gzip member: a Content-Length
    that is too long). */
static long
s_gunzip (const char *in, size_t n, char *out, size_t cap)
{
    z_stream z;
    memset (&z, 0, sizeof z);
    if (inflateInit2 (&z, 31) != Z_OK)
        return -1;
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)n;
    z.next_out = (unsigned char *)out;
    z.avail_out = (uInt)cap;
    int rc = inflate (&z, Z_FINISH);
    long got = (long)z.total_out;
    int all = z.avail_in == 0;
    inflateEnd (&z);
    return rc == Z_STREAM_END && all ? got : -1;
}

static const char *const s_security[][2] = {
    {"Content-Security-Policy",
     "default-src 'self'; script-src 'self'; style-src 'self'; "
     "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
     "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"},
    {"X-Frame-Options", "DENY"},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"Cache-Control", "no-cache"},
    {"Vary", "Accept-Encoding"},
};

static void
s_expect_security (const char *resp)
{
    for (size_t i = 0; i < sizeof s_security / sizeof s_security[0]; i++)
        s_expect_header (resp, s_security[i][0], s_security[i][1]);
    s_expect_header (resp, "ETag", NULL);
}

/* ---------------------------------------------------------------- tests */

static void
test_dashboard_index_is_html_with_security_headers (void **state)
{
    (void)state;
    const char *paths[] = {"/", "/index.html"};
    for (size_t i = 0; i < 2; i++) {
        char *resp = s_raw ("GET", paths[i], "");
        assert_int_equal (h_http_raw_status (resp), 200);
        s_expect_header (resp, "Content-Type", "text/html; charset=utf-8");
        s_expect_security (resp);
        assert_null (strcasestr (resp, "\r\nContent-Encoding:"));
        size_t len;
        const char *body = s_body (resp, &len);
        assert_true (len > 0);
        assert_int_equal (strlen (body), len);
        assert_non_null (strstr (body, "<!doctype html>"));
        assert_non_null (strstr (body, "/assets/js/app.js"));
        free (resp);
    }
    /* HEAD: the same headers, no body */
    char *resp = s_raw ("HEAD", "/", "");
    assert_int_equal (h_http_raw_status (resp), 200);
    s_expect_security (resp);
    s_expect_header (resp, "Content-Type", "text/html; charset=utf-8");
    assert_string_equal (strstr (resp, "\r\n\r\n"), "\r\n\r\n");
    free (resp);
    /* and through curl, for the contract check */
    h_resp_t r;
    h_http (&r, s_bridge.url, "GET", "/", NULL, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_string_equal (r.ctype, "text/html; charset=utf-8");
    h_http_free (&r);
}

static void
test_dashboard_asset_gzip_only_when_accepted (void **state)
{
    (void)state;
    const char *path = "/assets/vendor/uPlot.iife.min.js";
    char *plain = s_raw ("GET", path, "");
    char *gz = s_raw ("GET", path, "Accept-Encoding: br, gzip;q=0.8\r\n");
    char *refused = s_raw ("GET", path, "Accept-Encoding: gzip;q=0, br\r\n");
    assert_int_equal (h_http_raw_status (plain), 200);
    assert_int_equal (h_http_raw_status (gz), 200);
    assert_int_equal (h_http_raw_status (refused), 200);
    s_expect_security (plain);
    s_expect_security (gz);
    s_expect_header (plain, "Content-Type", "text/javascript; charset=utf-8");
    s_expect_header (gz, "Content-Type", "text/javascript; charset=utf-8");
    s_expect_header (gz, "Content-Encoding", "gzip");
    assert_null (strcasestr (plain, "\r\nContent-Encoding:"));
    assert_null (strcasestr (refused, "\r\nContent-Encoding:"));
    size_t plen, glen;
    const char *pb = s_body (plain, &plen);
    const char *gb = s_body (gz, &glen);
    assert_true (glen > 0 && glen < plen);
    assert_true ((unsigned char)gb[0] == 0x1f && (unsigned char)gb[1] == 0x8b);
    char *out = malloc (plen + 1);
    assert_int_equal (s_gunzip (gb, glen, out, plen + 1), (long)plen);
    assert_memory_equal (out, pb, plen);
    assert_non_null (memmem (pb, plen, "uPlot", 5));
    free (out);
    /* one ETag per representation */
    char e1[128], e2[128];
    assert_true (s_header (plain, "ETag", e1, sizeof e1));
    assert_true (s_header (gz, "ETag", e2, sizeof e2));
    assert_true (e1[0] == '"' && e2[0] == '"');
    assert_string_not_equal (e1, e2);
    free (plain);
    free (gz);
    free (refused);

    /* the style sheet too, through curl (recorded) */
    h_resp_t r;
    h_http (&r, s_bridge.url, "GET", "/assets/app.css", NULL, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_string_equal (r.ctype, "text/css; charset=utf-8");
    h_http_free (&r);
}

static void
test_dashboard_etag_answers_304 (void **state)
{
    (void)state;
    const char *enc[] = {"", "Accept-Encoding: gzip\r\n"};
    for (size_t i = 0; i < 2; i++) {
        char *resp = s_raw ("GET", "/assets/vendor/uPlot.min.css", enc[i]);
        char etag[128], cond[300];
        assert_true (s_header (resp, "ETag", etag, sizeof etag));
        free (resp);
        snprintf (cond, sizeof cond, "%sIf-None-Match: \"nope\", %s\r\n",
                  enc[i], etag);
        resp = s_raw ("GET", "/assets/vendor/uPlot.min.css", cond);
        assert_int_equal (h_http_raw_status (resp), 304);
        s_expect_header (resp, "ETag", etag);
        s_expect_header (resp, "Cache-Control", "no-cache");
        assert_string_equal (strstr (resp, "\r\n\r\n"), "\r\n\r\n");
        free (resp);
    }
    /* another tag: the file */
    char *resp = s_raw ("GET", "/", "If-None-Match: \"0000000000000000\"\r\n");
    assert_int_equal (h_http_raw_status (resp), 200);
    free (resp);
}

static void
test_dashboard_unknown_and_dotted_paths_404 (void **state)
{
    (void)state;
    h_resp_t r;
    const char *missing[] = {"/assets/nope.js", "/assets/js/",
                             "/assets/",        "/assets/js",
                             "/index.htm",      "/assets/JS/app.js"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        h_http (&r, s_bridge.url, "GET", missing[i], NULL, NULL, NULL);
        H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
        h_http_free (&r);
    }
    /* HEAD of a missing file: the status, no body */
    char *resp = s_raw ("HEAD", "/assets/nope.js", "");
    assert_int_equal (h_http_raw_status (resp), 404);
    assert_string_equal (strstr (resp, "\r\n\r\n"), "\r\n\r\n");
    free (resp);
    /* dot segments: civetweb removes the plain ones before any handler,
       so these climb out of /assets/ to paths no route serves */
    const char *dotted[] = {"/assets/../../etc/passwd",
                            "/assets/../bridge/ef_assets.c",
                            "/assets/js/../../../CMakeLists.txt"};
    for (size_t i = 0; i < sizeof dotted / sizeof dotted[0]; i++) {
        h_http (&r, s_bridge.url, "GET", dotted[i], NULL, NULL, NULL);
        /* the first and the last climb above the root: nginx in front
           (the nginx_* runs) refuses that itself, 400 INVALID in the
           shipped config */
        if (i != 1 && r.status == 400)
            H_EXPECT_PROBLEM (r, 400, "INVALID", NULL);
        else
            H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
        h_http_free (&r);
    }
    /* escaped dots and slashes are refused before any route is looked at */
    const char *escaped[] = {"/assets/%2e%2e/%2e%2e/etc/passwd",
                             "/assets/js%2f..%2f..%2fCMakeLists.txt",
                             "/assets/..%5capp.css"};
    for (size_t i = 0; i < sizeof escaped / sizeof escaped[0]; i++) {
        h_http (&r, s_bridge.url, "GET", escaped[i], NULL, NULL, NULL);
        assert_true (r.status == 400 || r.status == 404);
        assert_string_equal (r.ctype, "application/problem+json");
        h_http_free (&r);
    }
}

/*  The gzip'd size of every file under bridge/www/src as served. */
static long s_total;
static int s_files;

static int
s_add_file (const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)f;
    if (flag != FTW_F)
        return 0;
    const char *rel = path + strlen (EF_WWW_SRC) + 1;
    if (rel[0] == '.' || strstr (rel, "/."))
        return 0; /* editors' hidden files are not embedded */
    char url[1024];
    snprintf (url, sizeof url, "/assets/%s", rel);
    char *resp = s_raw ("GET", url, "Accept-Encoding: gzip\r\n");
    if (h_http_raw_status (resp) != 200) {
        fprintf (stderr, "%s is not served: %.200s\n", url, resp);
        free (resp);
        return -1;
    }
    size_t len;
    s_body (resp, &len);
    s_total += (long)len;
    s_files++;
    free (resp);
    return 0;
}

static void
test_dashboard_first_load_under_300_kb (void **state)
{
    (void)state;
    s_total = 0;
    s_files = 0;
    assert_int_equal (nftw (EF_WWW_SRC, s_add_file, 16, FTW_PHYS), 0);
    assert_true (s_files >= 3);
    /* the vendor files, and what index.html references is served */
    char *index = s_raw ("GET", "/", "");
    size_t ilen;
    const char *body = s_body (index, &ilen);
    int refs = 0;
    for (const char *p = body; (p = strstr (p, "=\"/")) != NULL; p += 3) {
        if (strncmp (p - 3, "src", 3) != 0 && strncmp (p - 4, "href", 4) != 0)
            continue;
        char url[512];
        snprintf (url, sizeof url, "%.*s", (int)strcspn (p + 2, "\""), p + 2);
        char *resp = s_raw ("GET", url, "Accept-Encoding: gzip\r\n");
        if (h_http_raw_status (resp) != 200)
            fprintf (stderr, "index.html references %s: %.100s\n", url, resp);
        assert_int_equal (h_http_raw_status (resp), 200);
        if (strncmp (url, "/assets/vendor/", 15) == 0) {
            size_t len;
            s_body (resp, &len);
            s_total += (long)len;
        }
        refs++;
        free (resp);
    }
    free (index);
    assert_true (refs >= 4);
    fprintf (stderr, "  the dashboard, gzip'd: %ld bytes in %d files\n",
             s_total, s_files + 2);
    assert_true (s_total < 300 * 1024);
}

static void
test_dashboard_counted_under_its_routes (void **state)
{
    (void)state;
    free (s_raw ("GET", "/assets/js/app.js", ""));
    free (s_raw ("GET", "/assets/nope/deeper/still.js", ""));
    h_resp_t r;
    h_http (&r, s_bridge.url, "GET", "/metrics", NULL, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_non_null (strstr (r.body,
                             "eventflow_http_requests_total{route=\"GET "
                             "/assets/{path+}\",code=\"200\"}"));
    assert_non_null (strstr (r.body,
                             "eventflow_http_requests_total{route=\"GET "
                             "/assets/{path+}\",code=\"404\"}"));
    assert_non_null (strstr (
        r.body, "eventflow_http_requests_total{route=\"GET /\",code=\"200\"}"));
    assert_null (strstr (r.body, "still.js"));
    h_http_free (&r);
}

static void
test_json_gzip_when_accepted (void **state)
{
    (void)state;
    /* enough streams for a list of streams over 1 KiB */
    for (int i = 0; i < 12; i++) {
        char body[128];
        snprintf (body, sizeof body, "{\"name\":\"gzip-list-%02d\"}", i);
        h_resp_t r;
        h_http (&r, s_bridge.url, "POST", "/api/v1/streams", s_admin, body,
                NULL);
        H_EXPECT_STATUS (r, 201);
        h_http_free (&r);
    }
    char cred[256], gzip[300], refuse[300];
    snprintf (cred, sizeof cred, "%s\r\n", s_admin);
    snprintf (gzip, sizeof gzip, "%sAccept-Encoding: br, gzip;q=0.5\r\n", cred);
    snprintf (refuse, sizeof refuse, "%sAccept-Encoding: gzip;q=0, br\r\n",
              cred);
    const char *path = "/api/v1/streams";
    char *plain = s_raw ("GET", path, cred);
    char *gz = s_raw ("GET", path, gzip);
    char *gz10 = s_raw_ex ("GET", path, 0, gzip, NULL);
    char *refused = s_raw ("GET", path, refuse);
    char *answers[] = {plain, gz, gz10, refused};
    for (int i = 0; i < 4; i++) {
        assert_int_equal (h_http_raw_status (answers[i]), 200);
        s_expect_header (answers[i], "Content-Type", "application/json");
        s_expect_header (answers[i], "Vary", "Accept-Encoding");
    }
    assert_null (strcasestr (plain, "\r\nContent-Encoding:"));
    assert_null (strcasestr (refused, "\r\nContent-Encoding:"));
    size_t plen, rlen;
    const char *pb = s_body (plain, &plen);
    const char *rb = s_body (refused, &rlen);
    assert_true (plen >= 1024);
    assert_non_null (memmem (pb, plen, "gzip-list-11", 12));
    assert_int_equal (rlen, plen);
    assert_memory_equal (rb, pb, plen);
    char *out = malloc (plen + 1);
    for (int i = 1; i <= 2; i++) { /* HTTP/1.1 and HTTP/1.0 */
        s_expect_header (answers[i], "Content-Encoding", "gzip");
        size_t glen;
        const char *gb = s_body (answers[i], &glen);
        assert_true (glen > 0 && glen < plen);
        assert_true ((unsigned char)gb[0] == 0x1f &&
                     (unsigned char)gb[1] == 0x8b);
        /* Content-Length is the gzip'd bytes' count: one whole member */
        assert_int_equal (s_gunzip (gb, glen, out, plen + 1), (long)plen);
        assert_memory_equal (out, pb, plen);
    }
    fprintf (stderr, "  GET /streams: %zu bytes, gzip'd %zu\n", plen,
             (size_t)strtoul (strcasestr (gz, "\r\nContent-Length:") + 17, NULL,
                              10));
    free (out);
    for (int i = 0; i < 4; i++)
        free (answers[i]);
}

static void
test_json_small_answer_plain (void **state)
{
    (void)state;
    char headers[300];
    snprintf (headers, sizeof headers, "%s\r\nAccept-Encoding: gzip\r\n",
              s_admin);
    char *resp = s_raw_ex ("POST", "/api/v1/streams/default/events", 1, headers,
                           "{\"type\":\"small\",\"payload\":{\"n\":1}}");
    assert_int_equal (h_http_raw_status (resp), 202);
    s_expect_header (resp, "Content-Type", "application/json");
    assert_null (strcasestr (resp, "\r\nContent-Encoding:"));
    assert_null (strcasestr (resp, "\r\nVary:"));
    size_t len;
    const char *body = s_body (resp, &len);
    assert_true (len > 0 && len < 1024);
    assert_int_equal (body[0], '{');
    free (resp);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_dashboard_index_is_html_with_security_headers),
        cmocka_unit_test (test_dashboard_asset_gzip_only_when_accepted),
        cmocka_unit_test (test_dashboard_etag_answers_304),
        cmocka_unit_test (test_dashboard_unknown_and_dotted_paths_404),
        cmocka_unit_test (test_dashboard_first_load_under_300_kb),
        cmocka_unit_test (test_dashboard_counted_under_its_routes),
        cmocka_unit_test (test_json_gzip_when_accepted),
        cmocka_unit_test (test_json_small_answer_plain),
    };
    return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
