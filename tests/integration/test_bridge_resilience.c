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
#define _GNU_SOURCE /* strcasestr */
#include "harness.h"
#include "eventflow/ef_proto.h"

#include <curl/curl.h>
#include <jansson.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <ctype.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#define API   "/api/v1"
#define READY API "/ready"

/* ---------------------------------------------------------------- HTTP */

typedef struct {
    char what[200]; /* "METHOD path", for messages */
    long status;    /* 0 when no answer came */
    char *body;     /* NUL-terminated (NULL when empty) */
    size_t len;
    char ctype[128];      /* Content-Type */
    char request_id[160]; /* X-Request-Id */
    char retry_after[32]; /* Retry-After */
    json_t *json;         /* the body parsed, or NULL */
} s_resp_t;

static size_t
s_on_body (char *p, size_t size, size_t n, void *arg)
{
    s_resp_t *r = arg;
    size_t add = size * n;
    char *nb = realloc (r->body, r->len + add + 1);
    if (!nb)
        return 0;
    memcpy (nb + r->len, p, add);
    r->len += add;
    nb[r->len] = 0;
    r->body = nb;
    return add;
}

static void
s_header_value (const char *line, size_t n, const char *name, char *out,
                size_t size)
{
    size_t k = strlen (name);
    if (n <= k || strncasecmp (line, name, k) || line[k] != ':')
        return;
    const char *v = line + k + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    snprintf (out, size, "%.*s", (int)(end - v), v);
}

static size_t
s_on_header (char *p, size_t size, size_t n, void *arg)
{
    s_resp_t *r = arg;
    size_t len = size * n;
    s_header_value (p, len, "Content-Type", r->ctype, sizeof r->ctype);
    s_header_value (p, len, "X-Request-Id", r->request_id,
                    sizeof r->request_id);
    s_header_value (p, len, "Retry-After", r->retry_after,
                    sizeof r->retry_after);
    return len;
}

/*  One request to base+path. cred is a header line ("X-API-Key: …",
    "Authorization: Bearer …") or NULL; body is sent as
    application/json unless extra (NULL-terminated header lines, may be
    NULL) has a Content-Type. */
static void
s_http_ex (s_resp_t *r, const char *base, const char *method, const char *path,
           const char *cred, const char *body, const char *const *extra,
           long timeout_ms)
{
    memset (r, 0, sizeof *r);
    snprintf (r->what, sizeof r->what, "%s %.180s", method, path);
    CURL *c = curl_easy_init ();
    assert_non_null (c);
    size_t ulen = strlen (base) + strlen (path) + 1;
    char *url = malloc (ulen);
    snprintf (url, ulen, "%s%s", base, path);
    struct curl_slist *h = NULL;
    int has_ctype = 0;
    for (int i = 0; extra && extra[i]; i++) {
        h = curl_slist_append (h, extra[i]);
        if (!strncasecmp (extra[i], "Content-Type:", 13))
            has_ctype = 1;
    }
    if (cred)
        h = curl_slist_append (h, cred);
    if (body && !has_ctype)
        h = curl_slist_append (h, "Content-Type: application/json");
    h = curl_slist_append (h, "Expect:");
    curl_easy_setopt (c, CURLOPT_URL, url);
    curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE, (long)strlen (body));
    } else if (!strcmp (method, "POST")) {
        curl_easy_setopt (c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE, 0L);
    }
    curl_easy_setopt (c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt (c, CURLOPT_HEADERDATA, r);
    CURLcode rc = curl_easy_perform (c);
    if (rc == CURLE_OK)
        curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &r->status);
    else
        fprintf (stderr, "  %s: %s\n", r->what, curl_easy_strerror (rc));
    curl_slist_free_all (h);
    curl_easy_cleanup (c);
    free (url);
    if (r->body)
        r->json = json_loads (r->body, JSON_DECODE_ANY, NULL);
}

static void
s_http (s_resp_t *r, const char *base, const char *method, const char *path,
        const char *cred, const char *body, const char *const *extra)
{
    s_http_ex (r, base, method, path, cred, body, extra, 10000);
}

static void
s_free (s_resp_t *r)
{
    free (r->body);
    if (r->json)
        json_decref (r->json);
    memset (r, 0, sizeof *r);
}

/*  The value at a dotted path ("org.id", "items.0.id"), or NULL. */
static json_t *
s_j (json_t *j, const char *path)
{
    char key[128];
    while (j && *path) {
        size_t n = strcspn (path, ".");
        snprintf (key, sizeof key, "%.*s", (int)n, path);
        if (json_is_array (j) && isdigit ((unsigned char)key[0]))
            j = json_array_get (j, (size_t)atoi (key));
        else
            j = json_object_get (j, key);
        path += n + (path[n] == '.');
    }
    return j;
}

static const char *
s_jstr (json_t *j, const char *path)
{
    return json_string_value (s_j (j, path));
}

static void
s_expect_status (const s_resp_t *r, long want, const char *file, int line)
{
    if (r->status != want)
        fprintf (stderr, "  %s: expected %ld, got %ld: %.600s\n", r->what, want,
                 r->status, r->body ? r->body : "");
    _assert_int_equal ((LargestIntegralType)r->status,
                       (LargestIntegralType)want, file, line);
}
#define EXPECT_STATUS(r, want)                                                 \
    s_expect_status (&(r), (want), __FILE__, __LINE__)

/*  kind: 's' string, 'i' integer, 'o' object, 'a' array, 'b' boolean,
    '?' present (any type, null included). */
static void
s_has (const s_resp_t *r, json_t *j, const char *path, char kind,
       const char *file, int line)
{
    json_t *v = s_j (j, path);
    int ok = v && (kind == '?' || (kind == 's' && json_is_string (v)) ||
                   (kind == 'i' && json_is_integer (v)) ||
                   (kind == 'o' && json_is_object (v)) ||
                   (kind == 'a' && json_is_array (v)) ||
                   (kind == 'b' && json_is_boolean (v)));
    if (!ok)
        fprintf (stderr,
                 "  %s: field '%s' missing or not of kind '%c' in: "
                 "%.600s\n",
                 r->what, path, kind, r->body ? r->body : "(no body)");
    _assert_true (ok, path, file, line);
}
#define HAS(r, path, kind)                                                     \
    s_has (&(r), (r).json, path, kind, __FILE__, __LINE__)
#define HAS_IN(r, j, path, kind) s_has (&(r), j, path, kind, __FILE__, __LINE__)

static void
s_expect_str (const s_resp_t *r, json_t *j, const char *path, const char *want,
              const char *file, int line)
{
    const char *got = s_jstr (j, path);
    if (!got || strcmp (got, want))
        fprintf (stderr, "  %s: field '%s' is '%s', expected '%s'\n", r->what,
                 path, got ? got : "(missing)", want);
    _assert_string_equal (got ? got : "(missing)", want, file, line);
}
#define EXPECT_STR(r, path, want)                                              \
    s_expect_str (&(r), (r).json, path, want, __FILE__, __LINE__)
#define EXPECT_STR_IN(r, j, path, want)                                        \
    s_expect_str (&(r), j, path, want, __FILE__, __LINE__)

/*  An RFC 9457 problem with this status and code. */
static void
s_expect_problem (const s_resp_t *r, long status, const char *code,
                  const char *file, int line)
{
    s_expect_status (r, status, file, line);
    if (!strstr (r->ctype, "application/problem+json"))
        fprintf (stderr,
                 "  %s: Content-Type is '%s', expected "
                 "application/problem+json\n",
                 r->what, r->ctype);
    _assert_true (strstr (r->ctype, "application/problem+json") != NULL,
                  "problem content type", file, line);
    s_has (r, r->json, "type", 's', file, line);
    s_has (r, r->json, "title", 's', file, line);
    s_has (r, r->json, "status", 'i', file, line);
    s_has (r, r->json, "detail", 's', file, line);
    s_has (r, r->json, "code", 's', file, line);
    _assert_int_equal (
        (LargestIntegralType)json_integer_value (s_j (r->json, "status")),
        (LargestIntegralType)status, file, line);
    s_expect_str (r, r->json, "code", code, file, line);
}
#define EXPECT_PROBLEM(r, status, code)                                        \
    s_expect_problem (&(r), status, code, __FILE__, __LINE__)

/* ------------------------------------------------------------ raw socket */

static int
s_raw_connect (const char *url)
{
    const char *colon = strrchr (url, ':');
    int port = colon ? atoi (colon + 1) : 0;
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons ((uint16_t)port);
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (fd < 0 || connect (fd, (struct sockaddr *)&a, sizeof a)) {
        if (fd >= 0)
            close (fd);
        return -1;
    }
    return fd;
}

static void
s_raw_send (int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send (fd, p, n, MSG_NOSIGNAL);
        if (k <= 0)
            return;
        p += k;
        n -= (size_t)k;
    }
}

static long
s_ms_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/*  Read one response (headers and Content-Length bytes of body), until
    the peer closes, or until timeout_ms passed. Malloc'ed, maybe "". */
static char *
s_raw_read (int fd, long timeout_ms)
{
    size_t cap = 65536, len = 0;
    char *buf = calloc (1, cap);
    long until = s_ms_now () + timeout_ms;
    for (;;) {
        const char *eoh = strstr (buf, "\r\n\r\n");
        if (eoh) {
            const char *cl = strcasestr (buf, "\r\nContent-Length:");
            size_t want = cl && cl < eoh ? strtoul (cl + 17, NULL, 10) : 0;
            if (len >= (size_t)(eoh + 4 - buf) + want)
                break;
        }
        long left = until - s_ms_now ();
        if (left <= 0)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll (&p, 1, (int)left) <= 0)
            break;
        if (len + 1 >= cap) {
            buf = realloc (buf, cap * 2);
            memset (buf + cap, 0, cap);
            cap *= 2;
        }
        ssize_t n = recv (fd, buf + len, cap - len - 1, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = 0;
    }
    return buf;
}

static int
s_raw_status (const char *resp)
{
    int st = 0;
    if (sscanf (resp, "HTTP/1.%*d %d", &st) != 1)
        return 0;
    return st;
}

/* ---------------------------------------------------------------- fixture */

typedef struct {
    char dir[256];
    h_broker_t broker;
    h_bridge_t a, b; /* b only where two bridges are needed */
    ef_client_t *native;
    char admin_pw[128];
    char admin_key[200]; /* "X-API-Key: efk_…" */
    char producer_key[200];
} fixture_t;

static void
s_reply_str (const ef_reply_t *rep, const char *key, char *out, size_t size)
{
    ef_mpr_t r;
    ef_str_t s = EF_STR_NULL;
    out[0] = 0;
    if (ef_proto_reply_find (rep, key, &r) == 0)
        ef_mpr_str (&r, &s);
    snprintf (out, size, "%.*s", (int)s.len, s.ptr ? s.ptr : "");
}

static int
s_native_key (ef_client_t *c, const char *role, char *out)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    char key[160];
    req.cmd = EF_CMD_APIKEY_CREATE;
    req.name = ef_str (role);
    req.role = ef_str (role);
    if (ef_client_call (c, &req, &rep))
        return -1;
    s_reply_str (rep, "api_key", key, sizeof key);
    snprintf (out, 200, "X-API-Key: %s", key);
    return key[0] ? 0 : -1;
}

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
    signal (SIGPIPE, SIG_IGN);
    fixture_t *f = calloc (1, sizeof *f);
    *state = f;
    if (h_tempdir (f->dir) || h_broker_start (&f->broker, f->dir, NULL))
        return -1;
    f->native = h_client (&f->broker);
    if (!f->native || s_native_key (f->native, "admin", f->admin_key) ||
        s_native_key (f->native, "producer", f->producer_key))
        return -1;
    char path[512], line[256];
    snprintf (path, sizeof path, "%s/initial-admin", f->dir);
    FILE *fp = fopen (path, "r");
    if (!fp)
        return -1;
    while (fgets (line, sizeof line, fp))
        sscanf (line, "password = %127s", f->admin_pw);
    fclose (fp);
    if (h_bridge_start (&f->a, &f->broker, NULL))
        return -1;
    if (two && h_bridge_start (&f->b, &f->broker, NULL))
        return -1;
    return 0;
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
    int rc = 0;
    /* a bridge that crashed shows as -1 here (killed by a signal) */
    if (f->a.pid > 0 && h_bridge_stop (&f->a) != 0) {
        fprintf (stderr, "bridge did not exit cleanly; log: %s\n",
                 f->a.log_path);
        rc = -1;
    }
    if (f->b.pid > 0 && h_bridge_stop (&f->b) != 0) {
        fprintf (stderr, "bridge did not exit cleanly; log: %s\n",
                 f->b.log_path);
        rc = -1;
    }
    ef_client_destroy (&f->native);
    if (f->broker.pid > 0)
        h_broker_stop (&f->broker);
    if (rc == 0)
        h_rmrf (f->dir);
    free (f);
    return rc;
}

/*  The bridge process is alive and /health answers 200 within 2 s. */
static void
s_still_serving (const h_bridge_t *g)
{
    s_resp_t r;
    if (kill (g->pid, 0) != 0)
        fail_msg ("the bridge process %d is gone; log: %s", (int)g->pid,
                  g->log_path);
    s_http_ex (&r, g->url, "GET", API "/health", NULL, NULL, NULL, 2000);
    EXPECT_STATUS (r, 200);
    s_free (&r);
}

/*  Send raw bytes on a new connection (then, if half_close, end the
    sending side); the status of the answer within 5 s, 0 for none. */
static int
s_raw_exchange (const h_bridge_t *g, const char *bytes, size_t n,
                int half_close, char **out)
{
    int fd = s_raw_connect (g->url);
    assert_true (fd >= 0);
    s_raw_send (fd, bytes, n);
    if (half_close)
        shutdown (fd, SHUT_WR);
    char *resp = s_raw_read (fd, 5000);
    close (fd);
    int st = s_raw_status (resp);
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
    s_resp_t r, r2;
    char id[128], path[300], body[512], access[2048], refresh[256];
    char bearer[2200], key[200];

    s_http (&r, f->a.url, "POST", API "/streams", f->admin_key,
            "{\"name\":\"shared\"}", NULL);
    EXPECT_STATUS (r, 201);
    snprintf (id, sizeof id, "%s", s_jstr (r.json, "id"));
    s_free (&r);
    s_http (&r, f->b.url, "GET", API "/streams/shared", f->admin_key, NULL,
            NULL);
    EXPECT_STATUS (r, 200);
    EXPECT_STR (r, "id", id);
    s_free (&r);

    /* an event published on B reads the same on A and B; A knows it is a
       duplicate */
    snprintf (body, sizeof body,
              "{\"type\":\"t\",\"event_id\":\"%08x-0000-4000-8000-"
              "000000000001\",\"payload\":{\"k\":[1,2,3]}}",
              (unsigned)getpid ());
    s_http (&r, f->b.url, "POST", API "/streams/shared/events", f->producer_key,
            body, NULL);
    EXPECT_STATUS (r, 202);
    snprintf (path, sizeof path, API "/events/%s", s_jstr (r.json, "event_id"));
    s_free (&r);
    s_http (&r, f->a.url, "GET", path, f->admin_key, NULL, NULL);
    s_http (&r2, f->b.url, "GET", path, f->admin_key, NULL, NULL);
    EXPECT_STATUS (r, 200);
    EXPECT_STATUS (r2, 200);
    if (!json_equal (r.json, r2.json))
        fail_msg ("A and B disagree: %s vs %s", r.body, r2.body);
    s_free (&r);
    s_free (&r2);
    s_http (&r, f->a.url, "POST", API "/streams/shared/events", f->producer_key,
            body, NULL);
    EXPECT_STATUS (r, 200);
    EXPECT_STR (r, "status", "DUPLICATE");
    s_free (&r);

    s_http (&r, f->a.url, "GET", API "/streams/shared", f->admin_key, NULL,
            NULL);
    s_http (&r2, f->b.url, "GET", API "/streams/shared", f->admin_key, NULL,
            NULL);
    EXPECT_STATUS (r, 200);
    if (!json_equal (r.json, r2.json))
        fail_msg ("A and B disagree: %s vs %s", r.body, r2.body);
    s_free (&r);
    s_free (&r2);

    /* tokens from A work on B; a refresh rotated on B is reused on A */
    snprintf (body, sizeof body,
              "{\"email\":\"admin@eventflow.local\",\"password\":\"%s\"}",
              f->admin_pw);
    s_http (&r, f->a.url, "POST", API "/auth/login", NULL, body, NULL);
    EXPECT_STATUS (r, 200);
    snprintf (access, sizeof access, "%s", s_jstr (r.json, "access_token"));
    snprintf (refresh, sizeof refresh, "%s", s_jstr (r.json, "refresh_token"));
    s_free (&r);
    snprintf (bearer, sizeof bearer, "Authorization: Bearer %s", access);
    s_http (&r, f->b.url, "GET", API "/streams", bearer, NULL, NULL);
    EXPECT_STATUS (r, 200);
    s_free (&r);
    snprintf (body, sizeof body, "{\"refresh_token\":\"%s\"}", refresh);
    s_http (&r, f->b.url, "POST", API "/auth/refresh", NULL, body, NULL);
    EXPECT_STATUS (r, 200);
    s_free (&r);
    s_http (&r, f->a.url, "POST", API "/auth/refresh", NULL, body, NULL);
    EXPECT_PROBLEM (r, 401, "AUTH");
    s_free (&r);

    /* a key made on A publishes on B */
    s_http (&r, f->a.url, "POST", API "/api-keys", f->admin_key,
            "{\"name\":\"via-a\",\"role\":\"producer\"}", NULL);
    EXPECT_STATUS (r, 201);
    snprintf (key, sizeof key, "X-API-Key: %s", s_jstr (r.json, "api_key"));
    s_free (&r);
    s_http (&r, f->b.url, "POST", API "/streams/shared/events", key,
            "{\"type\":\"t\",\"payload\":2}", NULL);
    EXPECT_STATUS (r, 202);
    s_free (&r);
    assert_int_equal (s_count (f, "shared"), 2);
}

static void
test_broker_restart_bridge_answers_503_then_recovers_by_itself (void **state)
{
    fixture_t *f = *state;
    s_resp_t r;
    char endpoint[256];
    snprintf (endpoint, sizeof endpoint, "%s", f->broker.endpoint);
    s_http (&r, f->a.url, "GET", READY, NULL, NULL, NULL);
    EXPECT_STATUS (r, 200);
    s_free (&r);

    ef_client_destroy (&f->native);
    assert_int_equal (h_broker_stop (&f->broker), 0);

    long t0 = s_ms_now ();
    s_http (&r, f->a.url, "GET", READY, NULL, NULL, NULL);
    EXPECT_STATUS (r, 503);
    s_free (&r);
    long t1 = s_ms_now ();
    s_http (&r, f->a.url, "GET", API "/streams", f->admin_key, NULL, NULL);
    EXPECT_PROBLEM (r, 503, "UNAVAILABLE");
    s_free (&r);
    fprintf (stderr,
             "  broker down: /ready 503 in %ld ms, /streams 503 in "
             "%ld ms\n",
             t1 - t0, s_ms_now () - t1);
    s_http (&r, f->a.url, "POST", API "/streams/default/events",
            f->producer_key, "{\"type\":\"t\",\"payload\":1}", NULL);
    EXPECT_PROBLEM (r, 503, "UNAVAILABLE");
    s_free (&r);
    s_still_serving (&f->a);

    /* the same data dir and endpoint; the bridge reconnects by itself */
    const char *extra[] = {"--endpoint", endpoint, NULL};
    assert_int_equal (h_broker_start (&f->broker, f->dir, extra), 0);
    assert_string_equal (f->broker.endpoint, endpoint);
    long restarted = s_ms_now (), until = restarted + 10000;
    long status = 0;
    while (s_ms_now () < until) {
        s_http_ex (&r, f->a.url, "GET", READY, NULL, NULL, NULL, 2000);
        status = r.status;
        s_free (&r);
        if (status == 200)
            break;
    }
    fprintf (stderr, "  broker back: /ready %ld after %ld ms\n", status,
             s_ms_now () - restarted);
    if (status != 200)
        fail_msg ("the bridge was not ready 10 s after the broker restarted "
                  "(last /ready: %ld)",
                  status);
    s_http (&r, f->a.url, "GET", API "/streams/default", f->admin_key, NULL,
            NULL);
    EXPECT_STATUS (r, 200);
    s_free (&r);
    s_http (&r, f->a.url, "POST", API "/streams/default/events",
            f->producer_key, "{\"type\":\"t\",\"payload\":1}", NULL);
    EXPECT_STATUS (r, 202);
    s_free (&r);
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
    int line = s_raw_connect (f->a.url), body = s_raw_connect (f->a.url);
    assert_true (line >= 0 && body >= 0);
    s_raw_send (line, "GET " API "/hea", strlen ("GET " API "/hea"));
    char req[512];
    snprintf (req, sizeof req,
              "POST " API "/streams/default/events HTTP/1.1\r\n"
              "Host: 127.0.0.1\r\n%s\r\nContent-Type: application/json\r\n"
              "Content-Length: 100\r\n\r\n{\"type\":",
              f->producer_key);
    s_raw_send (body, req, strlen (req));
    long t0 = s_ms_now ();
    s_still_serving (&f->a); /* within 2 s */
    fprintf (stderr, "  /health beside 2 slow senders: %ld ms\n",
             s_ms_now () - t0);
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
        fds[i] = s_raw_connect (f->a.url);
        assert_true (fds[i] >= 0);
        /* half a request line, headers without their end, half a body */
        const char *part = i % 3 == 0   ? "GET " API "/he"
                           : i % 3 == 1 ? "GET " API "/health HTTP/1.1\r\n"
                                          "Host: x\r\n"
                                        : req;
        s_raw_send (fds[i], part, strlen (part));
    }
    long t0 = s_ms_now ();
    s_resp_t r;
    s_http (&r, f->a.url, "GET", API "/health", NULL, NULL, NULL);
    long took = s_ms_now () - t0;
    fprintf (stderr, "  /health beside 20 slow connections: %ld ms\n", took);
    EXPECT_STATUS (r, 200);
    s_free (&r);
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
    s_resp_t r;
    static const char *ranges[] = {
        "Range: bytes=0-0,-1,99999999999999999999-",
        "Range: bytes=-99999999999999999999", "Range: bytes=5-1",
        "Range: bytes=0-1,1-2,2-3,3-4,4-5,5-6,6-7,7-8"};
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        const char *hdr[] = {ranges[i], NULL};
        s_http (&r, f->a.url, "GET", API "/streams", f->admin_key, NULL, hdr);
        EXPECT_STATUS (r, 200);
        assert_true (json_is_array (s_j (r.json, "items")));
        s_free (&r);
        s_http (&r, f->a.url, "GET", API "/health", NULL, NULL, hdr);
        EXPECT_STATUS (r, 200);
        s_free (&r);
        s_still_serving (&f->a);
    }
}

static void
test_a_multipart_body_to_ingest_is_415 (void **state)
{
    fixture_t *f = *state;
    s_resp_t r;
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
    s_http (&r, f->a.url, "POST", API "/streams/default/events",
            f->producer_key, body, hdr);
    EXPECT_PROBLEM (r, 415, "UNSUPPORTED_MEDIA_TYPE");
    s_free (&r);
    s_http (&r, f->a.url, "POST", API "/events", f->producer_key, body, hdr);
    EXPECT_PROBLEM (r, 415, "UNSUPPORTED_MEDIA_TYPE");
    s_free (&r);
    struct stat sb;
    assert_int_not_equal (stat (marker, &sb), 0);
    s_still_serving (&f->a);
    assert_int_equal (s_count (f, "default"), 0);
}

static void
test_hostile_query_strings_leave_the_bridge_serving (void **state)
{
    fixture_t *f = *state;
    s_resp_t r;
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
    s_http (&r, f->a.url, "GET", path, f->admin_key, NULL, NULL);
    fprintf (stderr, "  GET /events?&=&=… (8000): %ld\n", r.status);
    assert_true (r.status >= 200 && r.status < 500);
    s_free (&r);
    s_still_serving (&f->a);
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        s_http (&r, f->a.url, "GET", others[i], f->admin_key, NULL, NULL);
        fprintf (stderr, "  GET %s: %ld\n", others[i], r.status);
        if (r.status < 200 || r.status >= 500)
            fail_msg ("GET %s answered %ld: %s", others[i], r.status,
                      r.body ? r.body : "");
        s_free (&r);
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
    int fd = s_raw_connect (f->a.url);
    assert_true (fd >= 0);
    s_raw_send (fd, req, (size_t)k);
    char *resp = s_raw_read (fd, 5000);
    int st = s_raw_status (resp);
    fprintf (stderr, "  Content-Length with Transfer-Encoding: %d\n", st);
    free (resp);
    if (st != 400) {
        /* answered: then the connection must be closed */
        const char *next = "GET " API "/health HTTP/1.1\r\nHost: x\r\n\r\n";
        s_raw_send (fd, next, strlen (next));
        resp = s_raw_read (fd, 2000);
        int again = s_raw_status (resp);
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
