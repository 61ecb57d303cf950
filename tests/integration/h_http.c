/*  h_http.c: the HTTP bridge tests' client and expectations (see
    h_http.h): libcurl for the requests, jansson to read the answers,
    cmocka's _assert_* so that a failure names the caller's line, and a
    plain socket for the raw requests. */
#define _GNU_SOURCE /* strcasestr */
#include "h_http.h"
#include "eventflow/ef_proto.h"

#include <curl/curl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

/* ---------------------------------------------------------------- request */

static size_t
s_on_body (char *p, size_t size, size_t n, void *arg)
{
    h_resp_t *r = arg;
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

/*  The value of header name in the header line (n bytes), trimmed, into
    out; out is left alone when the line is another header. */
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
    h_resp_t *r = arg;
    size_t len = size * n;
    s_header_value (p, len, "Content-Type", r->ctype, sizeof r->ctype);
    s_header_value (p, len, "X-Request-Id", r->request_id,
                    sizeof r->request_id);
    s_header_value (p, len, "Retry-After", r->retry_after,
                    sizeof r->retry_after);
    return len;
}

/*  curl shows the request headers going out to its debug function: the
    moment a waiting test may act. */
static int
s_on_debug (CURL *c, curl_infotype type, char *data, size_t size, void *arg)
{
    (void)c, (void)data, (void)size;
    h_http_sent_t *s = arg;
    if (type == CURLINFO_HEADER_OUT) {
        pthread_mutex_lock (&s->lock);
        s->sent = 1;
        pthread_cond_broadcast (&s->cond);
        pthread_mutex_unlock (&s->lock);
    }
    return 0;
}

int
h_http_sent_wait (h_http_sent_t *s)
{
    struct timespec until;
    clock_gettime (CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    int rc = 0;
    pthread_mutex_lock (&s->lock);
    while (!s->sent && rc == 0)
        if (pthread_cond_timedwait (&s->cond, &s->lock, &until) == ETIMEDOUT)
            rc = -1;
    pthread_mutex_unlock (&s->lock);
    return rc;
}

/*  The opt-in recorder: with EF_HTTP_RECORD naming a file, every answer
    is appended to it as one JSON line {method, path, status,
    content_type, body (the JSON, or the text)}, for the contract check
    (tests/contract/check_responses.mjs). One write per line, O_APPEND:
    test programs running side by side do not mix their lines. */
static void
s_record (const h_resp_t *r, const char *method, const char *path)
{
    const char *file = getenv ("EF_HTTP_RECORD");
    if (!file || !*file || r->status == 0)
        return;
    json_t *body = r->json   ? json_incref (r->json)
                   : r->body ? json_stringn (r->body, r->len)
                             : json_null ();
    json_t *rec =
        json_pack ("{s:s, s:s, s:i, s:s, s:o}", "method", method, "path", path,
                   "status", (json_int_t)r->status, "content_type", r->ctype,
                   "body", body ? body : json_null ());
    char *line =
        rec ? json_dumps (rec, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    int fd = open (file, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (line && fd >= 0) {
        size_t n = strlen (line);
        line[n] = '\n'; /* in place of the NUL: one write with its end */
        if (write (fd, line, n + 1) != (ssize_t)(n + 1))
            fprintf (stderr, "  could not record %s %s in %s\n", method, path,
                     file);
    }
    if (fd >= 0)
        close (fd);
    free (line);
    json_decref (rec);
}

void
h_http_ex (h_resp_t *r, const char *base, const char *method, const char *path,
           const char *cred, const char *body, const char *const *extra,
           long timeout_ms, h_http_sent_t *sent)
{
    memset (r, 0, sizeof *r);
    snprintf (r->what, sizeof r->what, "%s %.280s", method, path);
    CURL *c = curl_easy_init ();
    assert_non_null (c);
    size_t ulen = strlen (base) + strlen (path) + 1;
    char *url = malloc (ulen);
    assert_non_null (url);
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
    if (sent) {
        curl_easy_setopt (c, CURLOPT_DEBUGFUNCTION, s_on_debug);
        curl_easy_setopt (c, CURLOPT_DEBUGDATA, sent);
        curl_easy_setopt (c, CURLOPT_VERBOSE, 1L);
    }
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
    s_record (r, method, path);
}

void
h_http (h_resp_t *r, const char *base, const char *method, const char *path,
        const char *cred, const char *body, const char *const *extra)
{
    h_http_ex (r, base, method, path, cred, body, extra, 10000, NULL);
}

void
h_http_free (h_resp_t *r)
{
    free (r->body);
    if (r->json)
        json_decref (r->json);
    memset (r, 0, sizeof *r);
}

/* ---------------------------------------------------------------- JSON */

json_t *
h_http_j (json_t *j, const char *path)
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

const char *
h_http_jstr (json_t *j, const char *path)
{
    return json_string_value (h_http_j (j, path));
}

int
h_http_has_error (json_t *errors, const char *path, const char *text)
{
    size_t i;
    json_t *e;
    json_array_foreach (errors, i, e)
    {
        const char *p = json_string_value (json_object_get (e, "path"));
        const char *m = json_string_value (json_object_get (e, "message"));
        if (p && !strcmp (p, path) && m && (!text || strstr (m, text)))
            return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- expect */

void
h_http_expect_status (const h_resp_t *r, long want, const char *file, int line)
{
    if (r->status != want)
        fprintf (stderr, "  %s: expected %ld, got %ld: %.600s\n", r->what, want,
                 r->status, r->body ? r->body : "");
    _assert_int_equal ((LargestIntegralType)r->status,
                       (LargestIntegralType)want, file, line);
}

void
h_http_has (const h_resp_t *r, json_t *j, const char *path, char kind,
            const char *file, int line)
{
    json_t *v = h_http_j (j, path);
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

void
h_http_expect_str (const h_resp_t *r, json_t *j, const char *path,
                   const char *want, const char *file, int line)
{
    json_t *v = h_http_j (j, path);
    if (!want) {
        if (!json_is_null (v))
            fprintf (stderr, "  %s: '%s' should be null in %.600s\n", r->what,
                     path, r->body ? r->body : "");
        _assert_true (json_is_null (v), path, file, line);
        return;
    }
    const char *got = json_string_value (v);
    if (!got || strcmp (got, want))
        fprintf (stderr, "  %s: '%s' is '%s', expected '%s' in %.600s\n",
                 r->what, path, got ? got : "(not a string)", want,
                 r->body ? r->body : "");
    _assert_string_equal (got ? got : "(not a string)", want, file, line);
}

void
h_http_expect_problem (const h_resp_t *r, long status, const char *code,
                       const char *path, const char *file, int line)
{
    h_http_expect_status (r, status, file, line);
    if (!strstr (r->ctype, "application/problem+json"))
        fprintf (stderr,
                 "  %s: Content-Type is '%s', expected "
                 "application/problem+json\n",
                 r->what, r->ctype);
    _assert_true (strstr (r->ctype, "application/problem+json") != NULL,
                  "problem content type", file, line);
    h_http_has (r, r->json, "type", 's', file, line);
    h_http_has (r, r->json, "title", 's', file, line);
    h_http_has (r, r->json, "status", 'i', file, line);
    h_http_has (r, r->json, "detail", 's', file, line);
    h_http_has (r, r->json, "code", 's', file, line);
    _assert_int_equal (
        (LargestIntegralType)json_integer_value (h_http_j (r->json, "status")),
        (LargestIntegralType)status, file, line);
    h_http_expect_str (r, r->json, "code", code, file, line);
    if (!path)
        return;
    int found = h_http_has_error (h_http_j (r->json, "errors"), path, NULL);
    if (!found)
        fprintf (stderr, "  %s: errors[] does not name '%s': %.600s\n", r->what,
                 path, r->body ? r->body : "");
    _assert_true (found, path, file, line);
}

int
h_http_array_has (json_t *arr, const char *key, const char *val)
{
    size_t i;
    json_t *it;
    json_array_foreach (arr, i, it)
    {
        const char *s = json_string_value (json_object_get (it, key));
        if (s && !strcmp (s, val))
            return 1;
    }
    return 0;
}

void
h_http_publish (h_resp_t *r, const char *base, const char *stream,
                const char *cred, const char *body)
{
    char path[300];
    snprintf (path, sizeof path, "/api/v1/streams/%s/events", stream);
    h_http (r, base, "POST", path, cred, body, NULL);
}

int
h_http_is_422_naming (const h_resp_t *r, const char *field)
{
    const char *code = h_http_jstr (r->json, "code");
    if (r->status != 422 || !strstr (r->ctype, "application/problem+json") ||
        !code || strcmp (code, "VALIDATION")) {
        fprintf (stderr,
                 "  %s: expected a 422 VALIDATION problem, got %ld: "
                 "%.300s\n",
                 r->what, r->status, r->body ? r->body : "");
        return 0;
    }
    size_t k;
    json_t *e;
    json_array_foreach (h_http_j (r->json, "errors"), k, e)
    {
        const char *p = json_string_value (json_object_get (e, "path"));
        while (p && (*p == '/' || *p == '$' || *p == '.' || *p == '?'))
            p++;
        if (p && !strncmp (p, field, strlen (field)) &&
            json_is_string (json_object_get (e, "message")))
            return 1;
    }
    fprintf (stderr, "  %s: errors[] does not name %s: %.300s\n", r->what,
             field, r->body ? r->body : "");
    return 0;
}

/* ---------------------------------------------------------------- keys */

int
h_http_api_key (ef_client_t *c, const char *role, char *out)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    ef_mpr_t r;
    ef_str_t key = EF_STR_NULL;
    req.cmd = EF_CMD_APIKEY_CREATE;
    req.name = ef_str (role);
    req.role = ef_str (role);
    if (ef_client_call (c, &req, &rep) ||
        ef_proto_reply_find (rep, "api_key", &r) || ef_mpr_str (&r, &key) ||
        !key.len)
        return -1;
    snprintf (out, 200, "X-API-Key: %.*s", (int)key.len, key.ptr);
    return 0;
}

/* ---------------------------------------------------------------- raw */

long
h_http_ms_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int
h_http_raw_connect (const char *url)
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

void
h_http_raw_send (int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send (fd, p, n, MSG_NOSIGNAL);
        if (k <= 0)
            return;
        p += k;
        n -= (size_t)k;
    }
}

char *
h_http_raw_read (int fd, long timeout_ms)
{
    size_t cap = 65536, len = 0;
    char *buf = calloc (1, cap);
    long until = h_http_ms_now () + timeout_ms;
    for (;;) {
        const char *eoh = strstr (buf, "\r\n\r\n");
        if (eoh) {
            const char *cl = strcasestr (buf, "\r\nContent-Length:");
            size_t want = cl && cl < eoh ? strtoul (cl + 17, NULL, 10) : 0;
            if (len >= (size_t)(eoh + 4 - buf) + want)
                break;
        }
        long left = until - h_http_ms_now ();
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

int
h_http_raw_status (const char *resp)
{
    int st = 0;
    if (sscanf (resp, "HTTP/1.%*d %d", &st) != 1)
        return 0;
    return st;
}

int
h_http_raw_closed (int fd, long timeout_ms)
{
    char c;
    struct pollfd p = {fd, POLLIN, 0};
    if (poll (&p, 1, (int)timeout_ms) <= 0)
        return 0;
    ssize_t n = recv (fd, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

int
h_http_new_org (const char *base, const char *email, const char *org_name,
                char *jwt, size_t jwt_size, char *cred, size_t cred_size)
{
    char body[512];
    h_resp_t r;
    snprintf (body, sizeof body,
              "{\"email\":\"%s\",\"password\":\"b-password-1\","
              "\"org_name\":\"%s\"}",
              email, org_name);
    h_http (&r, base, "POST", "/api/v1/auth/register", NULL, body, NULL);
    long st = r.status;
    h_http_free (&r);
    snprintf (body, sizeof body,
              "{\"email\":\"%s\",\"password\":\"b-password-1\"}", email);
    h_http (&r, base, "POST", "/api/v1/auth/login", NULL, body, NULL);
    const char *tok = h_http_jstr (r.json, "access_token");
    if (st != 201 || r.status != 200 || !tok) {
        h_http_free (&r);
        return -1;
    }
    if (jwt)
        snprintf (jwt, jwt_size, "%s", tok);
    snprintf (cred, cred_size, "Authorization: Bearer %s", tok);
    h_http_free (&r);
    return 0;
}
