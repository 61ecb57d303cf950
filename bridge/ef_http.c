/*  ef_http.c: request parsing and response writing for the bridge (see
    ef_http.h). Responses use civetweb's header helpers, never hand-written
    status lines; a large JSON body is gzip'd here (zlib), once, for every
    route. */
#include "ef_http.h"
#include "ef_cors.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_time.h"
#include "eventflow/ef_uuid.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

static int
s_printable (const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= max || s[n] < 0x21 || s[n] > 0x7e)
            return 0;
    return n > 0;
}

void
ef_http_uuid (char out[EF_UUID_STRLEN + 1])
{
    /* one generator per worker thread: its random pool lasts */
    static __thread ef_uuid_gen_t gen;
    static __thread int ready;
    ef_uuid_t u;
    if (!ready) {
        ef_uuid_gen_init (&gen);
        ready = 1;
    }
    ef_uuid_gen_v7 (&gen, ef_time_now_ms (), &u);
    ef_uuid_format (&u, out);
}

void
ef_http_begin (ef_http_t *h, struct mg_connection *conn)
{
    memset (h, 0, sizeof *h);
    h->conn = conn;
    h->ri = mg_get_request_info (conn);
    h->route = -1;
    ef_buf_init (&h->out);
    const char *rid = mg_get_header (conn, "X-Request-Id");
    if (rid && s_printable (rid, 128))
        snprintf (h->request_id, sizeof h->request_id, "%s", rid);
    else
        ef_http_uuid (h->request_id);
    const char *key = mg_get_header (conn, "X-API-Key");
    if (key && *key)
        h->api_key = ef_str (key);
    const char *auth = mg_get_header (conn, "Authorization");
    if (auth && strncasecmp (auth, "Bearer ", 7) == 0) {
        const char *t = auth + 7;
        while (*t == ' ')
            t++;
        if (*t)
            h->jwt = ef_str (t);
    }
}

void
ef_http_end (ef_http_t *h)
{
    free (h->body);
    h->body = NULL;
    ef_buf_free (&h->out);
}

const char *
ef_http_header (const ef_http_t *h, const char *name)
{
    return mg_get_header (h->conn, name);
}

int
ef_http_query (const ef_http_t *h, const char *name, char *out, size_t size)
{
    const char *q = h->ri->query_string;
    if (!q)
        return 0;
    int n = mg_get_var (q, strlen (q), name, out, size);
    return n >= 0 ? 1 : n == -2 ? -1 : 0; /* -2: there, but too long */
}

int
ef_http_query_nth (const ef_http_t *h, const char *name, size_t nth, char *out,
                   size_t size)
{
    const char *q = h->ri->query_string;
    if (!q)
        return 0;
    int n = mg_get_var2 (q, strlen (q), name, out, size, nth);
    return n >= 0 ? 1 : n == -2 ? -1 : 0;
}

void
ef_http_printf (ef_http_t *h, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    ef_buf_vprintf (&h->out, fmt, ap);
    va_end (ap);
}

int
ef_http_accepts (const char *list, const char *item)
{
    if (!list)
        return 0;
    size_t want = strlen (item);
    int star = 0;
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn (p, ",; \t");
        const char *end = p + strcspn (p, ",");
        const char *q = memchr (p, ';', (size_t)(end - p));
        int zero = 0;
        if (q) { /* ";q=0", ";q=0.0", "; q=0.000" */
            q++;
            while (*q == ' ' || *q == '\t')
                q++;
            if ((*q == 'q' || *q == 'Q') && q[1] == '=') {
                q += 2;
                zero = *q == '0';
                for (q++; zero && q < end && *q != ' ' && *q != '\t'; q++)
                    zero = *q == '.' || *q == '0';
            }
        }
        if (n == want && strncasecmp (p, item, n) == 0)
            return !zero;
        if (n == 1 && *p == '*')
            star = !zero;
        p = end;
    }
    return star;
}


/*  The gzip'd JSON bodies' level. On GET /stats?seconds=3600 with 32
    busy streams (2.3 MB of JSON) 1 takes 16 ms for 475 KB, 6 takes 80 ms
    for 391 KB: a worker thread's time is worth more than the fifth. */
#define S_GZIP_LEVEL 1

/*  body (len bytes) gzip'd into a malloc'ed *out, which the caller frees:
    its length, or 0 (nothing allocated) when zlib has no memory or the
    gzip'd bytes would not be fewer. Memory: zlib's state (256 KiB at the
    default window) and len bytes, freed once the answer is out. */
static size_t
s_gzip (const char *body, size_t len, unsigned char **out)
{
    *out = NULL;
    if (len < 2 || len > UINT32_MAX)
        return 0;
    unsigned char *buf = malloc (len - 1);
    if (!buf)
        return 0;
    z_stream z;
    memset (&z, 0, sizeof z);
    if (deflateInit2 (&z, S_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8,
                      Z_DEFAULT_STRATEGY) != Z_OK) {
        free (buf);
        return 0;
    }
    z.next_in = (unsigned char *)body;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)(len - 1);
    /* the room is short of len: no end within it, not worth sending */
    int done = deflate (&z, Z_FINISH) == Z_STREAM_END;
    size_t n = z.total_out;
    deflateEnd (&z);
    if (!done) {
        free (buf);
        return 0;
    }
    *out = buf;
    return n;
}

/*  The Date header's value, formatted once a second per thread. */
static const char *
s_date (void)
{
    static __thread time_t at;
    static __thread char text[40];
    time_t now = time (NULL);
    if (now != at) {
        struct tm tm;
        gmtime_r (&now, &tm);
        strftime (text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        at = now;
    }
    return text;
}

/*  The CORS headers of an answer to an allowed origin (ef_cors.h), added
    to a header civetweb is building. */
static void
s_cors_headers (ef_http_t *h)
{
    if (!h->cors_origin)
        return;
    mg_response_header_add (h->conn, "Access-Control-Allow-Origin",
                            h->cors_origin, -1);
    mg_response_header_add (h->conn, "Vary", "Origin", -1);
    mg_response_header_add (h->conn, "Access-Control-Expose-Headers",
                            EF_CORS_EXPOSE_HEADERS, -1);
}

/*  Status, the standard headers, then body (gzip'd when json says it is
    JSON and EF_HTTP_GZIP_MIN allows). The usual answer (HTTP/1.1, the
    connection kept) goes out in one write: civetweb's header calls send
    each line on its own, a packet apiece with TCP_NODELAY. */
static int
s_respond (ef_http_t *h, int status, const char *type, const char *body,
           size_t len, int retry_after, int json)
{
    char num[32];
    h->status = status;
    /* a large JSON body: its representation depends on Accept-Encoding */
    int vary = json && status != 204 && len >= EF_HTTP_GZIP_MIN;
    unsigned char *gz = NULL;
    size_t gz_len = 0;
    if (vary &&
        ef_http_accepts (mg_get_header (h->conn, "Accept-Encoding"), "gzip"))
        gz_len = s_gzip (body, len, &gz);
    if (gz_len) {
        body = (const char *)gz;
        len = gz_len;
    }
    const struct mg_request_info *ri = mg_get_request_info (h->conn);
    if (!h->close && ri && ri->http_version &&
        strcmp (ri->http_version, "1.1") == 0) {
        char head[1024];
        int n = snprintf (head, sizeof head,
                          "HTTP/1.1 %d %s\r\nX-Request-Id: %s\r\n"
                          "Cache-Control: no-store\r\nDate: %s\r\n",
                          status, mg_get_response_code_text (h->conn, status),
                          h->request_id, s_date ());
        if (retry_after > 0 && n > 0 && (size_t)n < sizeof head)
            n += snprintf (head + n, sizeof head - (size_t)n,
                           "Retry-After: %d\r\n", retry_after);
        if (h->cors_origin && n > 0 && (size_t)n < sizeof head)
            n += snprintf (head + n, sizeof head - (size_t)n,
                           "Access-Control-Allow-Origin: %s\r\n"
                           "Vary: Origin\r\n"
                           "Access-Control-Expose-Headers: %s\r\n",
                           h->cors_origin, EF_CORS_EXPOSE_HEADERS);
        if (vary && n > 0 && (size_t)n < sizeof head)
            n += snprintf (head + n, sizeof head - (size_t)n,
                           "Vary: Accept-Encoding\r\n%s",
                           gz_len ? "Content-Encoding: gzip\r\n" : "");
        if (status != 204 && n > 0 && (size_t)n < sizeof head)
            n += snprintf (head + n, sizeof head - (size_t)n,
                           "Content-Type: %s\r\nContent-Length: %zu\r\n", type,
                           len);
        if (n > 0 && (size_t)n + 2 < sizeof head) {
            memcpy (head + n, "\r\n", 2);
            n += 2;
            if (status == 204 || !len)
                mg_write (h->conn, head, (size_t)n);
            else if ((size_t)n + len <= 16384) {
                char one[16384];
                memcpy (one, head, (size_t)n);
                memcpy (one + n, body, len);
                mg_write (h->conn, one, (size_t)n + len);
            } else {
                mg_write (h->conn, head, (size_t)n);
                mg_write (h->conn, body, len);
            }
            free (gz);
            return status;
        }
    }
    mg_response_header_start (h->conn, status);
    if (h->close)
        mg_response_header_add (h->conn, "Connection", "close", -1);
    mg_response_header_add (h->conn, "X-Request-Id", h->request_id, -1);
    mg_response_header_add (h->conn, "Cache-Control", "no-store", -1);
    if (retry_after > 0) {
        snprintf (num, sizeof num, "%d", retry_after);
        mg_response_header_add (h->conn, "Retry-After", num, -1);
    }
    s_cors_headers (h);
    if (vary)
        mg_response_header_add (h->conn, "Vary", "Accept-Encoding", -1);
    if (gz_len)
        mg_response_header_add (h->conn, "Content-Encoding", "gzip", -1);
    if (status != 204) {
        mg_response_header_add (h->conn, "Content-Type", type, -1);
        snprintf (num, sizeof num, "%zu", len);
        mg_response_header_add (h->conn, "Content-Length", num, -1);
    }
    mg_response_header_send (h->conn);
    if (status != 204 && len)
        mg_write (h->conn, body, len);
    free (gz);
    return status;
}

int
ef_http_send (ef_http_t *h, int status)
{
    if (h->out.oom)
        return ef_http_problem (h, EF_ENOMEM, "out of memory", NULL, 0);
    return s_respond (h, status, "application/json", h->out.data, h->out.len, 0,
                      1);
}

int
ef_http_send_text (ef_http_t *h, const char *type)
{
    return s_respond (h, 200, type, h->out.data, h->out.len, 0, 0);
}

static const char *
s_title (int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 507:
        return "Insufficient Storage";
    default:
        return "Internal Server Error";
    }
}

/*  The (decoded) request path as a quoted URI reference for "instance":
    every byte that may not stand in a path is percent-encoded again. */
static void
s_quote_uri (ef_buf_t *b, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    ef_buf_t u;
    ef_buf_init (&u);
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || strchr ("-._~/!$&'()*+,;=:@", *p))
            ef_buf_append (&u, (const char *)p, 1);
        else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            ef_buf_append (&u, e, 3);
        }
    }
    ef_json_quote (b, u.data ? u.data : "", u.len);
    ef_buf_free (&u);
}

int
ef_http_problem (ef_http_t *h, int code, const char *detail, const char *extra,
                 int retry_after)
{
    int status = ef_error_http_status (code);
    const char *name = ef_error_name (code);
    if (!detail || !*detail)
        detail = ef_strerror (code);
    ef_buf_t b;
    ef_buf_init (&b);
    char head[256];
    int n =
        snprintf (head, sizeof head,
                  "{\"type\":\"about:blank\",\"title\":\"%s\",\"status\":%d,"
                  "\"code\":",
                  s_title (status), status);
    ef_buf_append (&b, head, (size_t)n);
    ef_json_quote (&b, name, strlen (name));
    ef_buf_append (&b, ",\"detail\":", 10);
    ef_json_quote (&b, detail, strlen (detail));
    ef_buf_append (&b, ",\"instance\":", 12);
    s_quote_uri (&b, h->ri->local_uri ? h->ri->local_uri : "/");
    ef_buf_append (&b, ",\"request_id\":", 14);
    ef_json_quote (&b, h->request_id, strlen (h->request_id));
    if (extra)
        ef_buf_append (&b, extra, strlen (extra));
    ef_buf_append (&b, "}", 1);
    int rc = s_respond (h, status, "application/problem+json", b.data, b.len,
                        retry_after, 1);
    ef_buf_free (&b);
    return rc;
}

/*  A header's name was followed by white space before its colon: civetweb
    drops that space, writing NULs over it and over the colon, so between
    the name's end and its value lie two NULs or more instead of one. The
    gap is only looked at where it is short, as it is in the request
    buffer both point into. */
static int
s_space_before_colon (const struct mg_header *hd)
{
    const char *end = hd->name + strlen (hd->name);
    if (!hd->value || hd->value <= end || hd->value - end > 64)
        return 0;
    int nuls = 0;
    for (const char *p = end; p < hd->value; p++)
        nuls += *p == 0;
    return nuls > 1;
}

/*  1*DIGIT, then optional white space, at most 18 digits (no wrap). */
static int
s_length_valid (const char *v)
{
    size_t n = 0;
    while (v[n] >= '0' && v[n] <= '9')
        n++;
    if (n == 0 || n > 18)
        return 0;
    while (v[n] == ' ' || v[n] == '\t')
        n++;
    return v[n] == 0;
}

int
ef_http_check_framing (ef_http_t *h)
{
    int lengths = 0, codings = 0;
    for (int i = 0; i < h->ri->num_headers; i++) {
        const struct mg_header *hd = &h->ri->http_headers[i];
        if (!hd->name)
            continue;
        if (s_space_before_colon (hd))
            return ef_http_refuse_close (h, EF_EINVAL,
                                         "white space before a header's colon");
        if (strcasecmp (hd->name, "Content-Length") == 0) {
            if (++lengths > 1)
                return ef_http_refuse_close (h, EF_EINVAL,
                                             "more than one Content-Length");
            if (!hd->value || !s_length_valid (hd->value))
                return ef_http_refuse_close (
                    h, EF_EINVAL, "Content-Length is not a decimal number");
        } else if (strcasecmp (hd->name, "Transfer-Encoding") == 0)
            codings++;
    }
    if (codings && lengths)
        /* how requests are smuggled past a proxy that reads the other */
        return ef_http_refuse_close (
            h, EF_EINVAL, "Content-Length and Transfer-Encoding together");
    if (codings > 1)
        return ef_http_refuse_close (h, EF_EINVAL,
                                     "more than one Transfer-Encoding");
    if (codings) {
        const char *te = mg_get_header (h->conn, "Transfer-Encoding");
        if (!te || strcmp (te, "chunked") != 0)
            return ef_http_refuse_close (
                h, EF_EINVAL, "a transfer coding other than chunked");
        /* a chunk's size is read inside civetweb's mg_read, which then
           blocks for the whole chunk: the limit could not be decided
           before the body is read */
        return ef_http_refuse_close (h, EF_ELENGTH_REQUIRED,
                                     "send the body with a Content-Length");
    }
    return 0;
}

int
ef_http_read_json (ef_http_t *h, size_t max)
{
    const char *type = mg_get_header (h->conn, "Content-Type");
    if (!type || strncasecmp (type, "application/json", 16) != 0 ||
        (type[16] && type[16] != ';' && type[16] != ' '))
        return ef_http_problem (h, EF_EMEDIA_TYPE,
                                "send the body as application/json", NULL, 0);
    /* decided from Content-Length before a byte of the body is read (the
       framing was checked: a length of digits, no transfer coding) */
    long long declared = h->ri->content_length;
    if (declared > (long long)max) {
        char detail[128];
        snprintf (detail, sizeof detail,
                  "the body is %lld bytes; the limit is %zu", declared, max);
        return ef_http_refuse_close (h, EF_ETOOBIG, detail);
    }
    size_t cap = declared > 0 ? (size_t)declared : 0;
    h->body = malloc (cap + 1);
    if (!h->body)
        return ef_http_problem (h, EF_EUNAVAILABLE, "out of memory", NULL, 1);
    size_t got = 0;
    /* civetweb bounds each read, not the whole: a body sent a byte at a
       time would hold this thread for ever. It may take the request
       timeout and a second more per 16 KiB. */
    int64_t by = h->read_by ? h->read_by + (int64_t)(cap / 16) : 0;
    while (got < cap) {
        if (by && ef_time_mono_ms () > by)
            return ef_http_refuse_close (h, EF_ETIMEOUT,
                                         "the body did not come in time");
        int n = mg_read (h->conn, h->body + got, cap - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got < cap)
        return ef_http_refuse_close (h, EF_EINVAL,
                                     "the body is shorter than its "
                                     "Content-Length");
    h->body[got] = 0;
    h->body_len = got;
    return 0;
}

int
ef_http_refuse_close (ef_http_t *h, int code, const char *detail)
{
    /* civetweb keeps a connection open past a body it can skip; only its
       must_close flag ends it */
    h->close = 1;
    mg_disable_connection_keep_alive (h->conn);
    return ef_http_problem (h, code, detail, NULL, 0);
}

void
ef_http_stream_begin (ef_http_t *h, const char *type)
{
    h->close = 1;
    h->status = 200;
    mg_disable_connection_keep_alive (h->conn);
    mg_response_header_start (h->conn, 200);
    mg_response_header_add (h->conn, "Connection", "close", -1);
    mg_response_header_add (h->conn, "X-Request-Id", h->request_id, -1);
    mg_response_header_add (h->conn, "Cache-Control", "no-store", -1);
    mg_response_header_add (h->conn, "X-Accel-Buffering", "no", -1);
    s_cors_headers (h);
    mg_response_header_add (h->conn, "Content-Type", type, -1);
    mg_response_header_send (h->conn);
}

int
ef_http_stream_write (ef_http_t *h, const void *p, size_t n)
{
    return mg_write (h->conn, p, n) == (int)n ? 0 : -1;
}

int
ef_http_options (ef_http_t *h, const char *methods, int preflight)
{
    h->status = 204;
    mg_response_header_start (h->conn, 204);
    if (h->close)
        mg_response_header_add (h->conn, "Connection", "close", -1);
    mg_response_header_add (h->conn, "X-Request-Id", h->request_id, -1);
    mg_response_header_add (h->conn, "Cache-Control", "no-store", -1);
    s_cors_headers (h);
    if (preflight) {
        mg_response_header_add (h->conn, "Access-Control-Allow-Methods",
                                methods, -1);
        mg_response_header_add (h->conn, "Access-Control-Allow-Headers",
                                EF_CORS_ALLOW_HEADERS, -1);
        mg_response_header_add (h->conn, "Access-Control-Max-Age",
                                EF_CORS_MAX_AGE, -1);
    } else
        mg_response_header_add (h->conn, "Allow", methods, -1);
    mg_response_header_send (h->conn);
    return 204;
}
