/*  GET /api/v1/live against a real broker and a real bridge (run with
    --threads 16, --live-feeds 6, --live-feeds-per-key 2): the dashboard's
    Server-Sent Events, read from a raw socket as a browser's fetch reads
    them.
    * figures=1: a `figures` event every second with the org's figures
      of one second, one number per key.
    * stream=NAME: an event published after the feed opened comes as an
      `events` event {stream, events: [Event]} (the id: line its seq);
      type/source filters keep others out, and so do `where` predicates
      (the broker's READ judges them; with --search-scan 8 the feed moves
      on over READs that matched nothing); a bad predicate is 422 and an
      unknown stream a 404 before the stream starts.
    * a third feed of one key is 429 with Retry-After; the seventh in all
      is 429 too; the bridge meanwhile answers short requests.
    * a revoked API key's feed ends with `event: error` (AUTH), a deleted
      stream's with NOT_FOUND, and the connection closes.
    * a key over its rate limit loses a second's tick, not its feed.
    * a bridge stopping does not wait for its open feeds. */
#define _GNU_SOURCE
#include "harness.h"
#include "h_fixture.h"
#include "h_http.h"

#include <curl/curl.h>
#include <jansson.h>

#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#define API "/api/v1"

/* ---------------------------------------------------------------- fixture */

static char s_dir[256];
static h_broker_t s_broker;
static h_bridge_t s_bridge;
static ef_client_t *s_native;
static char s_admin[200]; /* "X-API-Key: …" (admin) */
static h_fixture_t s_fx = {
    .dir = s_dir,
    .broker = &s_broker,
    .native = &s_native,
    .bridge = &s_bridge,
    .admin_key = s_admin,
    .broker_flags =
        (const char *const[]){"--durability", "os", "--search-scan", "8", NULL},
    .bridge_flags = (const char *const[]){
        "--threads", "16", "--long-polls", "4", "--long-polls-per-key", "4",
        "--live-feeds", "6", "--live-feeds-per-key", "2", NULL}};

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

/* ---------------------------------------------------------------- a feed */

/*  An open feed: its socket and what was read past the last event. */
typedef struct {
    int fd;
    int status;
    char head[2048]; /* the answer's headers */
    char *buf;       /* the body read so far, not yet parsed */
    size_t len, cap;
    int chunked; /* the body comes in chunks (through a proxy) */
    char *raw;   /* chunked: bytes not yet decoded into buf */
    size_t rlen, rcap;
    int ended; /* chunked: the last chunk came */
} s_feed_t;

/*  Append n bytes to *p (length *len, capacity *cap), NUL-terminated. */
static void
s_append (char **p, size_t *len, size_t *cap, const char *b, size_t n)
{
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *p = realloc (*p, *cap);
    }
    memcpy (*p + *len, b, n);
    *len += n;
    (*p)[*len] = 0;
}

/*  Move the complete chunks of f->raw into f->buf; a chunk of size 0
    ends the feed. */
static void
s_dechunk (s_feed_t *f)
{
    size_t at = 0;
    while (!f->ended && f->raw) {
        char *eol = strstr (f->raw + at, "\r\n");
        if (!eol)
            break;
        size_t size = strtoul (f->raw + at, NULL, 16);
        size_t data = (size_t)(eol + 2 - f->raw);
        if (f->rlen < data + size + 2)
            break;
        if (size == 0)
            f->ended = 1;
        else
            s_append (&f->buf, &f->len, &f->cap, f->raw + data, size);
        at = data + size + 2;
    }
    if (f->raw) {
        memmove (f->raw, f->raw + at, f->rlen - at + 1);
        f->rlen -= at;
    }
}

/*  Read more into f (up to until, monotonic ms): 1, 0 when the time ran
    out, -1 when the bridge closed the connection (or, through a proxy,
    sent the last chunk). */
static int
s_fill (s_feed_t *f, long until)
{
    long left = until - h_http_ms_now ();
    if (left <= 0)
        return 0;
    if (f->ended)
        return -1;
    struct pollfd p = {f->fd, POLLIN, 0};
    if (poll (&p, 1, (int)left) <= 0)
        return 0;
    char in[4096];
    ssize_t n = recv (f->fd, in, sizeof in, 0);
    if (n <= 0)
        return -1;
    if (!f->chunked) {
        s_append (&f->buf, &f->len, &f->cap, in, (size_t)n);
        return 1;
    }
    s_append (&f->raw, &f->rlen, &f->rcap, in, (size_t)n);
    s_dechunk (f);
    return 1;
}

/*  GET /api/v1/live?query with the header line cred on a raw socket;
    waits for the answer's headers. f->status is its status (the body of
    a refusal stays in f->buf). */
static void
s_open (s_feed_t *f, const char *cred, const char *query)
{
    memset (f, 0, sizeof *f);
    f->fd = h_http_raw_connect (s_bridge.url);
    assert_true (f->fd >= 0);
    char req[2048];
    int n = snprintf (req, sizeof req,
                      "GET " API "/live?%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "%s\r\nAccept: text/event-stream\r\n\r\n",
                      query, cred);
    h_http_raw_send (f->fd, req, (size_t)n);
    long until = h_http_ms_now () + 10000;
    char *eoh;
    while (!f->buf || !(eoh = strstr (f->buf, "\r\n\r\n")))
        if (s_fill (f, until) != 1)
            fail_msg ("no answer to live?%s", query);
    size_t hl = (size_t)(eoh + 4 - f->buf);
    snprintf (f->head, sizeof f->head, "%.*s", (int)hl, f->buf);
    memmove (f->buf, eoh + 4, f->len - hl + 1);
    f->len -= hl;
    f->status = h_http_raw_status (f->head);
    /* the bridge ends a feed by closing; nginx in front sends chunks and
       keeps the connection */
    f->chunked = strcasestr (f->head, "\r\nTransfer-Encoding: chunked") != NULL;
    if (f->chunked) {
        s_append (&f->raw, &f->rlen, &f->rcap, f->buf, f->len);
        f->len = 0;
        f->buf[0] = 0;
        s_dechunk (f);
    }
}

/*  Close as a browser tab that goes away might: at once, with a reset,
    so the bridge's next write fails. */
static void
s_close (s_feed_t *f)
{
    if (f->fd >= 0) {
        struct linger now = {1, 0};
        setsockopt (f->fd, SOL_SOCKET, SO_LINGER, &now, sizeof now);
        close (f->fd);
    }
    free (f->buf);
    free (f->raw);
    memset (f, 0, sizeof *f);
    f->fd = -1;
}

/*  The next event of the feed within timeout_ms: its name (out, 32
    bytes), its id (0 when none) and its data parsed (owned by the
    caller). 1, 0 on timeout, -1 when the feed ended. Comment lines are
    skipped; a data line holds one JSON text. */
static int
s_next (s_feed_t *f, char *name, uint64_t *id, json_t **data, long timeout_ms)
{
    long until = h_http_ms_now () + timeout_ms;
    for (;;) {
        char *end = f->buf ? strstr (f->buf, "\n\n") : NULL;
        if (end) {
            *end = 0;
            char *ev = f->buf;
            name[0] = 0;
            *id = 0;
            *data = NULL;
            for (char *line = strtok (ev, "\n"); line;
                 line = strtok (NULL, "\n")) {
                if (strncmp (line, "event: ", 7) == 0)
                    snprintf (name, 32, "%s", line + 7);
                else if (strncmp (line, "id: ", 4) == 0)
                    *id = strtoull (line + 4, NULL, 10);
                else if (strncmp (line, "data: ", 6) == 0) {
                    json_error_t err;
                    *data = json_loads (line + 6, 0, &err);
                    if (!*data)
                        fail_msg ("a data line that is not JSON: %s", line);
                }
            }
            size_t used = (size_t)(end + 2 - f->buf);
            memmove (f->buf, end + 2, f->len - used + 1);
            f->len -= used;
            if (name[0] || *data)
                return 1;
            continue; /* a comment */
        }
        int rc = s_fill (f, until);
        if (rc != 1)
            return rc;
    }
}

/*  Read events until one named want comes (others are dropped): its data
    (owned), or NULL when none came within timeout_ms. */
static json_t *
s_until (s_feed_t *f, const char *want, uint64_t *id, long timeout_ms)
{
    long until = h_http_ms_now () + timeout_ms;
    char name[32];
    json_t *data;
    uint64_t i;
    while (s_next (f, name, &i, &data, until - h_http_ms_now ()) == 1) {
        if (strcmp (name, want) == 0) {
            if (id)
                *id = i;
            return data;
        }
        json_decref (data);
    }
    return NULL;
}

/* ---------------------------------------------------------------- helpers */

/*  h_wait_until's predicate: does the bridge's /metrics say no live feed
    is open? */
static int
s_no_feed (void *arg)
{
    (void)arg;
    h_resp_t r;
    h_http (&r, s_bridge.url, "GET", "/metrics", NULL, NULL, NULL);
    int none = r.body && strstr (r.body, "\neventflow_http_live_feeds 0\n");
    h_http_free (&r);
    return none;
}

/*  Each test starts with no feed open: the feeds of the one before have
    ended (the bridge finds a client gone at its next write). */
static int
s_setup (void **state)
{
    (void)state;
    return h_wait_until (s_no_feed, NULL, 10000);
}

static void
s_create (const char *stream)
{
    h_resp_t r;
    char body[200];
    snprintf (body, sizeof body, "{\"name\":\"%s\"}", stream);
    h_http (&r, s_bridge.url, "POST", API "/streams", s_admin, body, NULL);
    H_EXPECT_STATUS (r, 201);
    h_http_free (&r);
}

/*  POST body (an event or an array of them) to the stream. */
static void
s_post (const char *stream, const char *body)
{
    h_resp_t r;
    char path[300];
    snprintf (path, sizeof path, API "/streams/%s/events", stream);
    h_http (&r, s_bridge.url, "POST", path, s_admin, body, NULL);
    H_EXPECT_STATUS (r, 202);
    h_http_free (&r);
}

static void
s_publish (const char *stream, const char *id, const char *type,
           const char *source)
{
    char body[400];
    snprintf (body, sizeof body,
              "{\"type\":\"%s\",\"event_id\":\"%s\",\"source\":\"%s\","
              "\"payload\":{\"text\":\"two\\nlines\"}}",
              type, id, source);
    s_post (stream, body);
}

/*  A new consumer key: its header line in cred (200 bytes) and its id. */
static void
s_key (char *cred, char id[17])
{
    assert_int_equal (h_http_api_key (s_native, "consumer", cred), 0);
    memcpy (id, cred + strlen ("X-API-Key: efk_"), 16);
    id[16] = 0;
}

/* ---------------------------------------------------------------- tests */

static void
test_live_figures_every_second (void **state)
{
    (void)state;
    char cred[200], id[17];
    s_key (cred, id);
    s_feed_t f;
    s_open (&f, cred, "figures=1");
    assert_int_equal (f.status, 200);
    assert_non_null (
        strcasestr (f.head, "\r\nContent-Type: text/event-stream"));
    assert_non_null (strcasestr (f.head, "\r\nCache-Control: no-store"));
    long t0 = h_http_ms_now ();
    int64_t last = 0;
    for (int i = 0; i < 2; i++) {
        json_t *d = s_until (&f, "figures", NULL, 5000);
        assert_non_null (d);
        json_t *now = json_object_get (d, "now");
        assert_true (json_is_integer (now));
        assert_true (json_integer_value (now) > last);
        last = json_integer_value (now);
        json_t *total = json_object_get (d, "total");
        assert_true (json_is_integer (json_object_get (total, "ingested")));
        assert_true (json_is_integer (json_object_get (total, "rejected")));
        assert_true (json_is_integer (json_object_get (total, "worst_lag")));
        assert_true (json_is_object (json_object_get (d, "streams")));
        json_decref (d);
    }
    assert_true (h_http_ms_now () - t0 < 4000); /* about one a second */
    s_close (&f);
}

static void
test_live_tail_sees_a_new_event (void **state)
{
    (void)state;
    char cred[200], id17[17];
    s_key (cred, id17);
    s_create ("live-a");
    s_publish ("live-a", "00000000-0000-4000-8000-0000000000a0", "old", "s");
    s_feed_t f;
    s_open (&f, cred, "stream=live-a");
    assert_int_equal (f.status, 200);
    /* open: the feed starts at the head, so only what comes now */
    s_publish ("live-a", "00000000-0000-4000-8000-0000000000a1", "new", "s");
    uint64_t id = 0;
    json_t *d = s_until (&f, "events", &id, 5000);
    assert_non_null (d);
    assert_string_equal (h_http_jstr (d, "stream"), "live-a");
    json_t *evs = json_object_get (d, "events");
    assert_int_equal (json_array_size (evs), 1);
    assert_string_equal (h_http_jstr (d, "events.0.event_id"),
                         "00000000-0000-4000-8000-0000000000a1");
    assert_string_equal (h_http_jstr (d, "events.0.payload.text"),
                         "two\nlines");
    assert_int_equal (id, 2); /* its seq */
    json_decref (d);
    s_close (&f);

    /* after=0: from the start */
    s_open (&f, cred, "stream=live-a&after=0");
    assert_int_equal (f.status, 200);
    d = s_until (&f, "events", &id, 5000);
    assert_non_null (d);
    assert_int_equal (json_array_size (json_object_get (d, "events")), 2);
    json_decref (d);

    /* the stream deleted: the feed says so and ends */
    h_resp_t r;
    h_http (&r, s_bridge.url, "DELETE", API "/streams/live-a", s_admin, NULL,
            NULL);
    H_EXPECT_STATUS (r, 204);
    h_http_free (&r);
    d = s_until (&f, "error", NULL, 5000);
    assert_non_null (d);
    assert_string_equal (h_http_jstr (d, "error.code"), "NOT_FOUND");
    json_decref (d);
    char name[32];
    assert_int_equal (s_next (&f, name, &id, &d, 5000), -1);
    s_close (&f);
}

static void
test_live_tail_filters (void **state)
{
    (void)state;
    char cred[200], id[17];
    s_key (cred, id);
    s_create ("live-f");
    s_feed_t f;
    s_open (&f, cred, "stream=live-f&type=keep&source=web");
    assert_int_equal (f.status, 200);
    s_publish ("live-f", "00000000-0000-4000-8000-0000000000f1", "drop", "web");
    s_publish ("live-f", "00000000-0000-4000-8000-0000000000f2", "keep", "cli");
    s_publish ("live-f", "00000000-0000-4000-8000-0000000000f3", "keep", "web");
    json_t *d = s_until (&f, "events", NULL, 5000);
    assert_non_null (d);
    json_t *evs = json_object_get (d, "events");
    assert_int_equal (json_array_size (evs), 1);
    assert_string_equal (h_http_jstr (d, "events.0.event_id"),
                         "00000000-0000-4000-8000-0000000000f3");
    json_decref (d);
    s_close (&f);

    /* refusals before the stream starts are ordinary answers */
    h_resp_t r;
    h_http (&r, s_bridge.url, "GET", API "/live?stream=live-f&status=DONE",
            cred, NULL, NULL);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "?status");
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", API "/live", cred, NULL, NULL);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", NULL);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", API "/live?stream=no-such", cred, NULL,
            NULL);
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", API "/live?figures=1", NULL, NULL, NULL);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
}

static void
test_live_tail_where (void **state)
{
    (void)state;
    char cred[200], id17[17];
    s_key (cred, id17);
    s_create ("live-w");
    /* a busy stream with a rare match: 40 events that do not match
       (seq 1-40), read from the start; the broker examines 8 a READ */
    char body[4096];
    size_t len = 0;
    for (int i = 1; i <= 40; i++)
        len += (size_t)snprintf (body + len, sizeof body - len,
                                 "%s{\"type\":\"t\",\"payload\":{\"n\":%d}}",
                                 i == 1 ? "[" : ",", i);
    snprintf (body + len, sizeof body - len, "]");
    s_post ("live-w", body);
    s_feed_t f;
    s_open (&f, cred,
            "stream=live-w&after=0&where=%2Fn%3Age%3A100"
            "&where=%2Fn%3Alt%3A1000");
    assert_int_equal (f.status, 200);
    s_post ("live-w", "{\"type\":\"t\",\"payload\":{\"n\":500}}");  /* 41 */
    s_post ("live-w", "{\"type\":\"t\",\"payload\":{\"n\":5000}}"); /* 42 */
    s_post ("live-w", "{\"type\":\"t\",\"payload\":{\"n\":7}}");    /* 43 */
    s_post ("live-w", "{\"type\":\"t\",\"payload\":{\"n\":100}}");  /* 44 */
    /* only 41 and 44 come, in one batch or two, each batch's id the seq
       examined up to */
    int64_t seen[2];
    size_t got = 0;
    while (got < 2) {
        uint64_t id = 0;
        json_t *d = s_until (&f, "events", &id, 5000);
        assert_non_null (d);
        json_t *evs = json_object_get (d, "events"), *ev;
        size_t i;
        json_array_foreach (evs, i, ev)
        {
            assert_true (got < 2);
            seen[got] = json_integer_value (json_object_get (ev, "seq"));
            assert_true ((uint64_t)seen[got] <= id);
            got++;
        }
        json_decref (d);
    }
    assert_int_equal (seen[0], 41);
    assert_int_equal (seen[1], 44);
    s_close (&f);

    /* a bad predicate, too many, or one without a stream: 422 before the
       stream starts */
    h_resp_t r;
    h_http (&r, s_bridge.url, "GET",
            API "/live?stream=live-w&where=%2Fn%3Abogus%3A1", cred, NULL, NULL);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "?where");
    h_http_free (&r);
    char query[400];
    len = (size_t)snprintf (query, sizeof query, API "/live?stream=live-w");
    for (int i = 0; i < 9; i++)
        len += (size_t)snprintf (query + len, sizeof query - len,
                                 "&where=%%2Fn%%3Aexists");
    h_http (&r, s_bridge.url, "GET", query, cred, NULL, NULL);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "?where");
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", API "/live?figures=1&where=%2Fn%3Aexists",
            cred, NULL, NULL);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "?stream");
    h_http_free (&r);
}

/*  h_wait_until's predicate: is a feed of the credential arg admitted? */
static int
s_admitted (void *arg)
{
    s_feed_t f;
    s_open (&f, arg, "figures=1");
    int status = f.status;
    s_close (&f);
    return status == 200;
}

static void
test_live_limits_and_short_requests_still_answered (void **state)
{
    (void)state;
    char cred[3][200], id[17];
    s_feed_t f[7];
    for (int k = 0; k < 3; k++)
        s_key (cred[k], id);
    /* two feeds per key */
    s_open (&f[0], cred[0], "figures=1");
    s_open (&f[1], cred[0], "figures=1");
    assert_int_equal (f[0].status, 200);
    assert_int_equal (f[1].status, 200);
    h_resp_t r;
    h_http (&r, s_bridge.url, "GET", API "/live?figures=1", cred[0], NULL,
            NULL);
    H_EXPECT_PROBLEM (r, 429, "RATE_LIMITED", NULL);
    assert_true (atoi (r.retry_after) >= 1);
    h_http_free (&r);
    /* six in all */
    s_open (&f[2], cred[1], "figures=1");
    s_open (&f[3], cred[1], "figures=1");
    s_open (&f[4], cred[2], "figures=1");
    s_open (&f[5], s_admin, "figures=1");
    for (int i = 2; i < 6; i++)
        assert_int_equal (f[i].status, 200);
    s_open (&f[6], cred[2], "figures=1");
    assert_int_equal (f[6].status, 429);
    assert_non_null (strcasestr (f[6].head, "\r\nRetry-After:"));
    s_close (&f[6]);
    /* the bridge still answers short requests, at once */
    for (int i = 0; i < 8; i++) {
        long t0 = h_http_ms_now ();
        h_http (&r, s_bridge.url, "GET", "/health", NULL, NULL, NULL);
        H_EXPECT_STATUS (r, 200);
        h_http_free (&r);
        h_http (&r, s_bridge.url, "GET", API "/streams", s_admin, NULL, NULL);
        H_EXPECT_STATUS (r, 200);
        h_http_free (&r);
        assert_true (h_http_ms_now () - t0 < 2000);
    }
    /* each feed still gets its figures */
    for (int i = 0; i < 6; i++) {
        json_t *d = s_until (&f[i], "figures", NULL, 5000);
        assert_non_null (d);
        json_decref (d);
    }
    /* a feed whose client went gives its place back (the bridge finds
       out at its next writes) */
    s_close (&f[0]);
    assert_int_equal (h_wait_until (s_admitted, cred[0], 10000), 0);
    for (int i = 1; i < 6; i++)
        s_close (&f[i]);
}

static void
test_live_revoked_key_ends_with_error (void **state)
{
    (void)state;
    char cred[200], id[17], path[100];
    s_key (cred, id);
    s_feed_t f;
    s_open (&f, cred, "figures=1");
    assert_int_equal (f.status, 200);
    json_t *d = s_until (&f, "figures", NULL, 5000);
    assert_non_null (d);
    json_decref (d);
    h_resp_t r;
    snprintf (path, sizeof path, API "/api-keys/%s", id);
    h_http (&r, s_bridge.url, "DELETE", path, s_admin, NULL, NULL);
    H_EXPECT_STATUS (r, 204);
    h_http_free (&r);
    d = s_until (&f, "error", NULL, 5000);
    assert_non_null (d);
    assert_string_equal (h_http_jstr (d, "error.code"), "AUTH");
    assert_non_null (h_http_jstr (d, "error.message"));
    json_decref (d);
    /* and then the end */
    char name[32];
    uint64_t i;
    assert_int_equal (s_next (&f, name, &i, &d, 5000), -1);
    s_close (&f);
}

static void
test_live_rate_limited_key_skips_seconds (void **state)
{
    (void)state;
    /* a key allowed one request a second (two at once: the feed's opening
       checks): each tick's second request (the tail's READ after the
       figures) is refused, and the feed goes on */
    h_resp_t r;
    h_http (&r, s_bridge.url, "POST", API "/api-keys", s_admin,
            "{\"name\":\"slow\",\"role\":\"consumer\",\"rate_limit\":"
            "{\"per_second\":1,\"burst\":2}}",
            NULL);
    H_EXPECT_STATUS (r, 201);
    char cred[200];
    snprintf (cred, sizeof cred, "X-API-Key: %s",
              h_http_jstr (r.json, "api_key"));
    h_http_free (&r);
    s_create ("live-r");
    s_feed_t f;
    s_open (&f, cred, "figures=1&stream=live-r");
    assert_int_equal (f.status, 200);
    for (int i = 0; i < 2; i++) {
        char name[32];
        uint64_t id;
        json_t *d = NULL;
        assert_int_equal (s_next (&f, name, &id, &d, 5000), 1);
        assert_string_equal (name, "figures");
        json_decref (d);
    }
    s_close (&f);
}

static void
test_live_bridge_stops_without_waiting_for_feeds (void **state)
{
    (void)state;
    h_bridge_t g;
    assert_int_equal (h_bridge_start (&g, &s_broker, NULL), 0);
    s_feed_t f;
    char url[256];
    snprintf (url, sizeof url, "%s", s_bridge.url);
    snprintf (s_bridge.url, sizeof s_bridge.url, "%s", g.url);
    s_open (&f, s_admin, "figures=1");
    snprintf (s_bridge.url, sizeof s_bridge.url, "%s", url);
    assert_int_equal (f.status, 200);
    json_t *d = s_until (&f, "figures", NULL, 5000);
    assert_non_null (d);
    json_decref (d);
    long t0 = h_http_ms_now ();
    assert_int_equal (h_bridge_stop (&g), 0);
    assert_true (h_http_ms_now () - t0 < 3000);
    char name[32];
    uint64_t i;
    while (s_next (&f, name, &i, &d, 5000) == 1)
        json_decref (d);
    s_close (&f);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup (test_live_figures_every_second, s_setup),
        cmocka_unit_test_setup (test_live_tail_sees_a_new_event, s_setup),
        cmocka_unit_test_setup (test_live_tail_filters, s_setup),
        cmocka_unit_test_setup (test_live_tail_where, s_setup),
        cmocka_unit_test_setup (
            test_live_limits_and_short_requests_still_answered, s_setup),
        cmocka_unit_test_setup (test_live_revoked_key_ends_with_error, s_setup),
        cmocka_unit_test_setup (test_live_rate_limited_key_skips_seconds,
                                s_setup),
        cmocka_unit_test_setup (
            test_live_bridge_stops_without_waiting_for_feeds, s_setup),
    };
    return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
