/*  h_http.h: what the HTTP bridge tests share: one request to a bridge with
    libcurl (the answer's status, body, headers and parsed JSON in an
    h_resp_t), dotted-path access to that JSON, the cmocka expectations
    about it (status, members, RFC 9457 problems), and a raw TCP client for
    requests libcurl will not send. Test-only code: the expectations fail
    the running cmocka test; nothing here is thread-safe unless it says
    so. */
#ifndef EF_TEST_H_HTTP_H
#define EF_TEST_H_HTTP_H

#include "eventflow/ef_client.h"

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>

typedef struct {
    char what[300]; /* "METHOD path", for messages */
    long status;    /* 0 when no answer came */
    char *body;     /* NUL-terminated (NULL when empty); owned */
    size_t len;
    char ctype[128];      /* Content-Type */
    char request_id[160]; /* X-Request-Id */
    char retry_after[32]; /* Retry-After */
    json_t *json;         /* the body parsed, or NULL; owned */
} h_resp_t;

/*  Told (under lock, with a broadcast on cond) when a request has left
    curl, its headers out: for a test that acts while a long poll waits.
    Initialise with H_HTTP_SENT_INIT; safe to share between threads. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int sent;
} h_http_sent_t;
#define H_HTTP_SENT_INIT                                                       \
    {                                                                          \
        PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0                 \
    }

/*  Block until the request watched by s is out, 20 s at most (a request
    that failed before it left must not hang the test). 0, or -1 when the
    time ran out. Thread-safe. */
int h_http_sent_wait (h_http_sent_t *s);

/*  One request to base+path ("http://127.0.0.1:PORT" + "/api/v1/…", sent
    as is, dot segments included) into r, which the caller later passes to
    h_http_free. cred is a header line ("X-API-Key: …", "Authorization:
    Bearer …") or NULL; body (may be NULL) is sent as application/json
    unless extra (NULL-terminated header lines, may be NULL) has a
    Content-Type; a POST without body sends Content-Length: 0. Times out
    after timeout_ms; sent (may be NULL) is told when the request is out.
    A transport failure leaves r->status 0 and says why on stderr. Needs
    curl_global_init. With EF_HTTP_RECORD set to a file name, the answer
    is also appended there as one JSON line (method, path, status,
    content_type, body) for the contract check. */
void h_http_ex (h_resp_t *r, const char *base, const char *method,
                const char *path, const char *cred, const char *body,
                const char *const *extra, long timeout_ms, h_http_sent_t *sent);
/*  h_http_ex with a 10 s timeout and nothing told. */
void h_http (h_resp_t *r, const char *base, const char *method,
             const char *path, const char *cred, const char *body,
             const char *const *extra);
/*  Free what r holds and zero it. */
void h_http_free (h_resp_t *r);

/*  The value at a dotted path in j ("org.id", "items.0.id"; a number
    indexes an array), or NULL. Borrowed from j. */
json_t *h_http_j (json_t *j, const char *path);
/*  The string at path, or NULL when missing or not a string. */
const char *h_http_jstr (json_t *j, const char *path);

/*  Does the errors array (RFC 9457 errors[]: {path, message}) hold an
    entry at path whose message contains text (text NULL: any message)?
    1 or 0. */
int h_http_has_error (json_t *errors, const char *path, const char *text);

/*  Does the array arr hold an object whose member key is the string
    val? 1 or 0. */
int h_http_array_has (json_t *arr, const char *key, const char *val);

/*  POST body (may be NULL) to base + "/api/v1/streams/" stream
    "/events" with the header line cred (may be NULL); the answer in r. */
void h_http_publish (h_resp_t *r, const char *base, const char *stream,
                     const char *cred, const char *body);

/*  Soft check, for loops over cases: is r a 422 VALIDATION problem whose
    errors[] has an entry with a message at field or a path under it
    (leading "/", "$", "." or "?" ignored)? 1, or 0 after saying on stderr
    what differs, so that one run lists every failing case. */
int h_http_is_422_naming (const h_resp_t *r, const char *field);

/*  The expectations. Each fails the running test at file:line, after
    saying on stderr which request and what body. */

/*  r answered with status want. */
void h_http_expect_status (const h_resp_t *r, long want, const char *file,
                           int line);
#define H_EXPECT_STATUS(r, want)                                               \
    h_http_expect_status (&(r), (want), __FILE__, __LINE__)

/*  j (r's JSON or a part of it) has path of kind: 's' string, 'i'
    integer, 'o' object, 'a' array, 'b' boolean, '?' present (any type,
    null included). */
void h_http_has (const h_resp_t *r, json_t *j, const char *path, char kind,
                 const char *file, int line);
#define H_HAS(r, path, kind)                                                   \
    h_http_has (&(r), (r).json, path, kind, __FILE__, __LINE__)
#define H_HAS_IN(r, j, path, kind)                                             \
    h_http_has (&(r), j, path, kind, __FILE__, __LINE__)

/*  The string at path in j equals want; want NULL: the value is JSON
    null. */
void h_http_expect_str (const h_resp_t *r, json_t *j, const char *path,
                        const char *want, const char *file, int line);
#define H_EXPECT_STR(r, path, want)                                            \
    h_http_expect_str (&(r), (r).json, path, want, __FILE__, __LINE__)
#define H_EXPECT_STR_IN(r, j, path, want)                                      \
    h_http_expect_str (&(r), j, path, want, __FILE__, __LINE__)

/*  An RFC 9457 problem: status, Content-Type application/problem+json,
    the members type, title, status, detail and code, the status member
    equal to status and code equal to code; when path is not NULL,
    errors[] also has an entry at path with a message. */
void h_http_expect_problem (const h_resp_t *r, long status, const char *code,
                            const char *path, const char *file, int line);
#define H_EXPECT_PROBLEM(r, status, code, path)                                \
    h_http_expect_problem (&(r), status, code, path, __FILE__, __LINE__)

/*  A new API key of role (named after it), made over the native
    protocol with c, as an "X-API-Key: efk_…" header line in out (200
    bytes): the credential a test then hands to h_http. 0 or -1. */
int h_http_api_key (ef_client_t *c, const char *role, char *out);

/*  A new org registered over HTTP at base (POST /auth/register with
    email, password "b-password-1" and org_name), its admin logged in: the
    access token in jwt (jwt_size bytes, may be NULL) and an
    "Authorization: Bearer …" header line in cred (cred_size bytes). 0 or
    -1. */
int h_http_new_org (const char *base, const char *email, const char *org_name,
                    char *jwt, size_t jwt_size, char *cred, size_t cred_size);

/*  The monotonic clock in milliseconds, for deadlines and timings. */
long h_http_ms_now (void);

/*  Raw HTTP over TCP, for what libcurl will not send: a connected socket
    to the port of url ("http://127.0.0.1:PORT") on loopback, or -1. */
int h_http_raw_connect (const char *url);
/*  Send all n bytes (stops quietly when the peer closed). */
void h_http_raw_send (int fd, const char *p, size_t n);
/*  Read one response (headers and Content-Length bytes of body), until
    the peer closes or timeout_ms passed. Malloc'ed (caller frees), maybe
    "". */
char *h_http_raw_read (int fd, long timeout_ms);
/*  The status code of a raw response, or 0 when it is not one. */
int h_http_raw_status (const char *resp);
/*  Did the peer close the connection (a read returns 0, or the reset a
    close with unread bytes sends) within timeout_ms, with no byte more
    before it? 1 or 0. */
int h_http_raw_closed (int fd, long timeout_ms);

#endif
