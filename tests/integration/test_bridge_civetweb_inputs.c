/*  civetweb's published crash inputs replayed against a real bridge
    (DESIGN.md §10, issue 14 item 5). Debian's civetweb 1.15 has open
    advisories in three places; the requests below are written from what
    the advisories and their fix requests describe (not copied from any
    proof of concept):
    * the directory redirect of file serving (civetweb #1346, CVE-2025-
      55763): a request for a directory without its trailing slash is
      answered 301 with the URI url-encoded (up to three times longer)
      and the query string appended with strcat into a buffer sized for
      neither: long, encoding-heavy paths and long queries;
    * multipart and url-encoded form parsing, mg_handle_form_request
      (civetweb #1348: a NUL byte in the form loops forever; #1404: a
      preamble before the first boundary, over two requests on one
      connection, wraps a memmove length; #1411: an empty part directly
      followed by its boundary underflows a length, and a url-encoded
      body cut after a bare '%' loops at EOF);
    * WebSocket permessage-deflate (CVE-2026-29035, read_websocket): an
      upgrade offering the extension, then a compressed frame that
      inflates far beyond the frame.
    The bridge serves no files, never calls the form handler and has no
    WebSocket handler, so each must be harmless: an answer that is a 4xx
    (or the connection closed), never a redirect, a 101 or a 5xx; the
    bridge still running and serving a normal request after each; and,
    when it stops, a clean exit (h_fixture_teardown), also under the
    AddressSanitizer build (deploy/test.sh --sanitize). */
#define _GNU_SOURCE
#include "harness.h"
#include "h_fixture.h"
#include "h_http.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#define API      "/api/v1"
#define BOUNDARY "EfBoundary7"

typedef struct {
    char dir[256];
    h_broker_t broker;
    h_bridge_t bridge;
    ef_client_t *native;
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

/* ---------------------------------------------------------------- helpers */

/*  A growing byte buffer (requests hold NUL bytes: lengths, not C
    strings). */
typedef struct {
    char *p;
    size_t n, cap;
} s_bytes_t;

static void
s_put (s_bytes_t *b, const void *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc (b->p, b->cap);
        assert_non_null (b->p);
    }
    memcpy (b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void
s_puts (s_bytes_t *b, const char *s)
{
    s_put (b, s, strlen (s));
}

static void
s_repeat (s_bytes_t *b, const char *s, int times)
{
    for (int i = 0; i < times; i++)
        s_puts (b, s);
}

/*  A POST to path with the producer's key, a Content-Type and body. */
static void
s_post (s_bytes_t *b, fixture_t *f, const char *path, const char *type,
        const void *body, size_t n)
{
    char head[1024];
    snprintf (head, sizeof head,
              "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n"
              "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
              path, f->producer_key, type, n);
    s_puts (b, head);
    s_put (b, body, n);
}

/*  The bridge process is alive, and serves /health. */
static void
s_still_serving (fixture_t *f, const char *after)
{
    if (kill (f->bridge.pid, 0) != 0)
        fail_msg ("the bridge is gone after %s", after);
    h_resp_t r;
    h_http (&r, f->bridge.url, "GET", "/health", NULL, NULL, NULL);
    if (r.status != 200)
        fail_msg ("after %s, /health answered %ld", after, r.status);
    h_http_free (&r);
}

/*  What an input must get: a 4xx, or the connection closed without an
    answer. Never a redirect (file serving), a 101 (WebSocket) or a 5xx
    (a handler that broke). */
static void
s_assert_harmless (const char *name, int status, int closed)
{
    fprintf (stderr, "  %s: %d%s\n", name, status, closed ? ", closed" : "");
    if (status == 0 ? !closed : (status < 400 || status > 499))
        fail_msg ("%s: answered %d%s; a 4xx or a close was wanted", name,
                  status, closed ? " (then closed)" : "");
}

/*  Send b on a new connection (then half-close it when eof), read the
    answer, and check it and the bridge. */
static void
s_replay (fixture_t *f, const char *name, const s_bytes_t *b, int eof)
{
    int fd = h_http_raw_connect (f->bridge.url);
    assert_true (fd >= 0);
    h_http_raw_send (fd, b->p, b->n);
    if (eof)
        shutdown (fd, SHUT_WR);
    char *resp = h_http_raw_read (fd, 5000);
    int status = h_http_raw_status (resp);
    int closed = status ? 0 : h_http_raw_closed (fd, 5000);
    close (fd);
    free (resp);
    s_assert_harmless (name, status, closed);
    s_still_serving (f, name);
}

/* ------------------------------------------- file serving: dir redirect */

static void
test_directory_redirect_inputs (void **state)
{
    fixture_t *f = *state;
    /* the paths a file server would take for directories, without the
       trailing slash, each with a query far longer than the path */
    const char *dirs[] = {"/assets", "/api", API, API "/streams", NULL};
    for (int i = 0; dirs[i]; i++) {
        s_bytes_t b = {0};
        s_puts (&b, "GET ");
        s_puts (&b, dirs[i]);
        s_puts (&b, "?");
        s_repeat (&b, "q=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&", 300); /* 10 KB */
        s_puts (&b, " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        char name[128];
        snprintf (name, sizeof name, "GET %s?<10 KB query>", dirs[i]);
        s_replay (f, name, &b, 0);
        free (b.p);
    }
    /* a path whose url-encoding triples it (every byte escaped), near the
       request size limit, with a query */
    s_bytes_t b = {0};
    s_puts (&b, "GET /assets/");
    s_repeat (&b, "%25%22%3C%3E%5C%5E%60%7B%7D%7C", 150); /* 4.5 KB */
    s_puts (&b, "?");
    s_repeat (&b, "%20%20%20%20%20%20%20%20", 400);
    s_puts (&b, " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    s_replay (f, "GET /assets/<escaped bytes>?<escaped query>", &b, 0);
    free (b.p);
    /* deep directories of one-letter names (the 3x growth of '/': %2f,
       restored in place) and a query */
    b = (s_bytes_t){0};
    s_puts (&b, "GET ");
    s_repeat (&b, "/a", 3000);
    s_puts (&b, "?x=");
    s_repeat (&b, "y", 6000);
    s_puts (&b, " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    s_replay (f, "GET /a/a/.../a?<6 KB query>", &b, 0);
    free (b.p);
}

/* ------------------------------------------------------- form parsing */

/*  A multipart part: headers, blank line, body. */
static void
s_part (s_bytes_t *b, const char *name, const void *body, size_t n)
{
    s_puts (b, "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"");
    s_puts (b, name);
    s_puts (b, "\"\r\n\r\n");
    s_put (b, body, n);
}

static void
test_form_parsing_inputs (void **state)
{
    fixture_t *f = *state;
    const char *multipart = "multipart/form-data; boundary=" BOUNDARY;
    const char *urlenc = "application/x-www-form-urlencoded";
    const char *paths[] = {API "/streams/default/events", API "/auth/login",
                           NULL};
    for (int i = 0; paths[i]; i++) {
        char name[160];
        s_bytes_t body = {0}, b = {0};

        /* #1411: an empty part directly followed by its boundary (no
           CRLF between): the boundary search matches the CRLF of the
           header/body separator, before the body */
        s_puts (&body, "--" BOUNDARY "\r\nContent-Disposition: form-data; "
                       "name=\"event\"\r\n\r\n--" BOUNDARY "--\r\n");
        s_post (&b, f, paths[i], multipart, body.p, body.n);
        snprintf (name, sizeof name, "%s: empty part, boundary at once",
                  paths[i]);
        s_replay (f, name, &b, 0);
        free (body.p), free (b.p);
        body = (s_bytes_t){0}, b = (s_bytes_t){0};

        /* #1348: a NUL byte inside the form data (multipart and
           url-encoded) */
        s_part (&body, "event", "{\"type\":\"a\0b\"}", 14);
        s_puts (&body, "\r\n--" BOUNDARY "--\r\n");
        s_post (&b, f, paths[i], multipart, body.p, body.n);
        s_post (&b, f, paths[i], urlenc, "a=b\0c&d=\0", 9);
        snprintf (name, sizeof name, "%s: NUL bytes in forms", paths[i]);
        s_replay (f, name, &b, 0);
        free (body.p), free (b.p);
        body = (s_bytes_t){0}, b = (s_bytes_t){0};

        /* #1404: a long preamble before the first boundary (RFC 2046
           allows one), a boundary split over the end of the parser's
           8 KB window, twice on one connection */
        s_repeat (&body, "preamble preamble preamble preamble\r\n", 215);
        s_puts (&body, "\r\n--" BOUNDARY);
        s_repeat (&body, "-", 40);
        s_puts (&body, "\r\n");
        s_part (&body, "event", "x", 1);
        s_puts (&body, "\r\n--" BOUNDARY "--\r\n");
        s_post (&b, f, paths[i], multipart, body.p, body.n);
        s_post (&b, f, paths[i], multipart, body.p, body.n);
        snprintf (name, sizeof name, "%s: preamble, twice", paths[i]);
        s_replay (f, name, &b, 0);
        free (body.p), free (b.p);
        b = (s_bytes_t){0};

        /* #1411: a url-encoded body that ends in a bare '%', and the
           client's side closed (EOF with bytes the parser cannot take) */
        s_post (&b, f, paths[i], urlenc, "a=%", 3);
        snprintf (name, sizeof name, "%s: url-encoded body ending in %%",
                  paths[i]);
        s_replay (f, name, &b, 1);
        free (b.p);
    }
}

/* ------------------------------------------ WebSocket permessage-deflate */

/*  A raw deflate stream (RFC 7692: no zlib header) of n bytes of 'A',
    without its final empty block's tail, as a compressed message is. */
static s_bytes_t
s_deflated (size_t n)
{
    s_bytes_t out = {0};
    char *in = malloc (n);
    assert_non_null (in);
    memset (in, 'A', n);
    z_stream z = {0};
    assert_int_equal (
        deflateInit2 (&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
    out.cap = deflateBound (&z, n) + 16;
    out.p = malloc (out.cap);
    assert_non_null (out.p);
    z.next_in = (Bytef *)in, z.avail_in = (uInt)n;
    z.next_out = (Bytef *)out.p, z.avail_out = (uInt)out.cap;
    assert_int_equal (deflate (&z, Z_SYNC_FLUSH), Z_OK);
    out.n = out.cap - z.avail_out;
    deflateEnd (&z);
    free (in);
    if (out.n >= 4) /* the 00 00 ff ff the receiver puts back */
        out.n -= 4;
    return out;
}

/*  A client's frame: FIN, RSV1 (compressed), binary; masked. */
static void
s_ws_frame (s_bytes_t *b, const s_bytes_t *payload)
{
    uint8_t head[14];
    size_t k = 0;
    head[k++] = 0x80 | 0x40 | 0x02;
    if (payload->n < 126) {
        head[k++] = 0x80 | (uint8_t)payload->n;
    } else if (payload->n < 65536) {
        head[k++] = 0x80 | 126;
        head[k++] = (uint8_t)(payload->n >> 8);
        head[k++] = (uint8_t)payload->n;
    } else {
        head[k++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            head[k++] = (uint8_t)((uint64_t)payload->n >> (8 * i));
    }
    const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    memcpy (head + k, mask, 4);
    k += 4;
    s_put (b, head, k);
    for (size_t i = 0; i < payload->n; i++) {
        uint8_t c = (uint8_t)payload->p[i] ^ mask[i % 4];
        s_put (b, &c, 1);
    }
}

static void
test_websocket_deflate_inputs (void **state)
{
    fixture_t *f = *state;
    s_bytes_t bomb = s_deflated (64u << 20); /* 64 MiB of 'A', ~65 KB */
    const char *paths[] = {"/", API "/live", API "/streams", "/ws", NULL};
    for (int i = 0; paths[i]; i++) {
        s_bytes_t b = {0};
        char head[1024];
        snprintf (head, sizeof head,
                  "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\n"
                  "Sec-WebSocket-Extensions: permessage-deflate; "
                  "client_max_window_bits; server_max_window_bits=8\r\n"
                  "\r\n",
                  paths[i]);
        s_puts (&b, head);
        char name[160];
        snprintf (name, sizeof name, "GET %s, Upgrade: websocket, deflate",
                  paths[i]);
        /* the upgrade alone: refused, not 101 (civetweb itself answers
           a request for a WebSocket it has no handler for: a bare
           "Error 404: Not Found" text, then it closes) */
        s_bytes_t frame = {0};
        s_ws_frame (&frame, &bomb);
        int fd = h_http_raw_connect (f->bridge.url);
        assert_true (fd >= 0);
        h_http_raw_send (fd, b.p, b.n);
        char *resp = h_http_raw_read (fd, 5000);
        int status = h_http_raw_status (resp);
        if (strncmp (resp, "HTTP/1.1 101", 12) == 0)
            fail_msg ("%s: the bridge switched protocols", name);
        free (resp);
        int closed = status ? 0 : h_http_raw_closed (fd, 5000);
        s_assert_harmless (name, status, closed);
        if (!closed) {
            /* then the compressed frame on the same connection: no HTTP
               request, so 4xx or a close */
            h_http_raw_send (fd, frame.p, frame.n);
            resp = h_http_raw_read (fd, 5000);
            status = h_http_raw_status (resp);
            closed = status ? 0 : h_http_raw_closed (fd, 5000);
            free (resp);
            snprintf (name, sizeof name, "%s, then the frame", paths[i]);
            s_assert_harmless (name, status, closed);
        }
        close (fd);
        s_still_serving (f, name);
        /* and both at once, as a client that took the upgrade for
           granted sends them */
        s_put (&b, frame.p, frame.n);
        snprintf (name, sizeof name, "%s, with the frame at once", paths[i]);
        s_replay (f, name, &b, 0);
        free (b.p), free (frame.p);
    }
    free (bomb.p);
}

int
main (void)
{
    signal (SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_directory_redirect_inputs),
        cmocka_unit_test (test_form_parsing_inputs),
        cmocka_unit_test (test_websocket_deflate_inputs),
    };
    return cmocka_run_group_tests (tests, setup, teardown);
}
