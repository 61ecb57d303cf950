/*  ef_http.h: one HTTP exchange of the bridge, over civetweb: the request
    (method, path parameters, query, headers, credentials, a body read
    within limits) and the response (JSON, RFC 9457 problems, headers).
    Every response goes through ef_http_send, so status, X-Request-Id and
    the metrics are handled in one place; a JSON body of 1 KiB or more
    goes gzip'd to a client that accepts it (EF_HTTP_GZIP_MIN).
    Thread-safety: an exchange belongs to the civetweb worker thread that
    serves it. */
#ifndef EF_HTTP_H
#define EF_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <civetweb.h>
#include "eventflow/ef_mp.h"
#include "eventflow/ef_uuid.h"

#define EF_HTTP_MAX_PARAMS 3

typedef struct {
    struct mg_connection *conn;
    const struct mg_request_info *ri;
    const char *params[EF_HTTP_MAX_PARAMS]; /* path parameters, decoded */
    char param_buf[3 * 260];
    char request_id[130];
    ef_str_t api_key; /* X-API-Key */
    ef_str_t jwt;     /* Authorization: Bearer */
    char *body;       /* owned; NUL-terminated */
    size_t body_len;
    ef_buf_t out;      /* the response body being built */
    int status;        /* sent status, for the metrics */
    int route;         /* index of the matched route, -1 none */
    int close;         /* answer with Connection: close */
    int authenticated; /* the broker accepted the credential (for the log) */
    int64_t read_by;   /* monotonic ms by which a body must have begun to
                         come (0: no bound); ef_http_read_json */
    const char *cors_origin; /* an allowed Origin (ef_cors_allow): every
                                answer carries the CORS headers; NULL none */
    char client_addr[64];    /* the client's address (ef_proxies_client) */
} ef_http_t;

/*  Start an exchange: request id (echoed or generated), credentials. */
void ef_http_begin (ef_http_t *h, struct mg_connection *conn);
/*  Release what the exchange holds. */
void ef_http_end (ef_http_t *h);

/*  A new UUIDv7 (request ids, event ids) from the calling thread's own
    generator. */
void ef_http_uuid (char out[EF_UUID_STRLEN + 1]);

/*  A request header (NULL when absent). */
const char *ef_http_header (const ef_http_t *h, const char *name);
/*  A decoded query parameter into out; 1 when present, 0 when absent,
    -1 when present but longer than size allows. */
int ef_http_query (const ef_http_t *h, const char *name, char *out,
                   size_t size);
/*  The same for the nth (from 0) occurrence of a repeated parameter. */
int ef_http_query_nth (const ef_http_t *h, const char *name, size_t nth,
                       char *out, size_t size);

/*  Check the request's framing before anything else reads it (RFC 9112
    §6): at most one Content-Length, of digits only; no Transfer-Encoding
    (a body needs a Content-Length, so that its limit is decided before a
    byte of it is read: 411); no white space between a header's name and
    its colon. 0, or the status already answered (400, 411), after which
    the connection is closed with nothing more of it read. */
int ef_http_check_framing (ef_http_t *h);

/*  Read a JSON body of at most max bytes into h->body. Checks the
    Content-Type (application/json) and the Content-Length before reading;
    a body still short at h->read_by plus a second per 16 KiB is 408
    (closing). Returns 0, or the
    HTTP status already answered (400, 408, 413, 415). */
int ef_http_read_json (ef_http_t *h, size_t max);

/*  A JSON body (ef_http_send, ef_http_problem) of at least this many
    bytes is sent gzip'd (Content-Encoding: gzip) when the request's
    Accept-Encoding accepts gzip and the gzip'd bytes are fewer; every
    such answer says Vary: Accept-Encoding. A smaller body (an ingest's
    202) is sent as it is, at no cost. */
#define EF_HTTP_GZIP_MIN 1024

/*  Whether list, a header of comma-separated items with optional ";q="
    weights (Accept-Encoding), accepts item (case-insensitive): named
    with a q that is not zero, or matched by "*" with one. list may be
    NULL (nothing accepted). */
int ef_http_accepts (const char *list, const char *item);

/*  Send status with h->out as a JSON body (or no body for 204), gzip'd
    as EF_HTTP_GZIP_MIN says. Returns status. */
int ef_http_send (ef_http_t *h, int status);
/*  Send an RFC 9457 problem for the EventFlow error code: its status and
    its stable name ("NOT_FOUND") come from the one error table
    (ef_error.h), detail is the human text (the code's own text when NULL
    or empty); extra (may be NULL) is appended raw inside the object
    (",\"errors\":[…]"). retry_after (> 0) adds Retry-After. Returns the
    status. */
int ef_http_problem (ef_http_t *h, int code, const char *detail,
                     const char *extra, int retry_after);
/*  Send a problem and close the connection after it: nothing the peer
    sent after this request is read as another one. */
int ef_http_refuse_close (ef_http_t *h, int code, const char *detail);
/*  Send text (Prometheus exposition) with status 200. */
int ef_http_send_text (ef_http_t *h, const char *type);

/*  Begin an answer of unknown length (Server-Sent Events): 200 with
    type, Cache-Control: no-store, X-Accel-Buffering: no (a proxy passes
    each part on at once), X-Request-Id and no Content-Length; the
    connection closes when the exchange ends, which ends the answer. */
void ef_http_stream_begin (ef_http_t *h, const char *type);
/*  Send n bytes of a streamed answer: 0, or -1 when the client is gone
    (or reads too slowly to take them within civetweb's timeout). */
int ef_http_stream_write (ef_http_t *h, const void *p, size_t n);

/*  Answer OPTIONS on a path that serves methods (", "-separated): a
    CORS preflight (preflight != 0, from an allowed origin: h->cors_origin
    set) is 204 with Access-Control-Allow-Methods, -Allow-Headers and
    -Max-Age (ef_cors.h); a plain OPTIONS is 204 with Allow. Returns 204. */
int ef_http_options (ef_http_t *h, const char *methods, int preflight);

/*  printf into h->out. */
void ef_http_printf (ef_http_t *h, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#endif
