/*  bridge.c: fuzz target for the bridge's handling of one HTTP request
    (bridge/, library efbridge), in process and without a socket: the
    input is a request as a client writes it (request line, header lines,
    a blank line, the body), split as civetweb splits it, and given to
    ef_bridge_handle, the handler civetweb calls: framing checks, the
    path's safety, CORS, the route table with its parameters, the query,
    the body read against its Content-Length and parsed, the field checks
    of every route, and the answer (JSON or a problem, gzip'd when
    accepted). The bridge is a real one (ef_bridge_open on 127.0.0.1:0,
    --plain, a broker endpoint where none listens); the civetweb calls a
    request makes are answered by the fake connection below (linked with
    --wrap, as tests/unit/test_bridge_http.c does), and the broker is
    known down (ef_watch_up is 0), so every broker call is answered 503
    at once. Properties: every request gets one answer, with a status
    from 100 to 599 (what ef_bridge_handle returns is that status), a
    status line and the headers before any body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ef_bridge_int.h"
#include "eventflow/ef_config.h"
#include "eventflow/ef_log.h"
#include "fuzz.h"

#define S_HEADERS 64 /* civetweb's MG_MAX_HEADERS */

/* ---------------------------------------------------------------- fake civetweb */

typedef struct {
    struct mg_request_info ri;
    const char *body;
    size_t body_len, body_at;
    int status; /* the answer's, 0 before it */
    int answers;
    size_t out_len;
} s_conn_t;

const struct mg_request_info *
__wrap_mg_get_request_info (const struct mg_connection *conn)
{
    return &((const s_conn_t *)conn)->ri;
}

const char *
__wrap_mg_get_header (const struct mg_connection *conn, const char *name)
{
    const struct mg_request_info *ri = &((const s_conn_t *)conn)->ri;
    for (int i = 0; i < ri->num_headers; i++)
        if (strcasecmp (ri->http_headers[i].name, name) == 0)
            return ri->http_headers[i].value;
    return NULL;
}

int
__wrap_mg_read (struct mg_connection *conn, void *buf, size_t len)
{
    s_conn_t *c = (s_conn_t *)conn;
    size_t n = c->body_len - c->body_at;
    if (n > len)
        n = len;
    memcpy (buf, c->body + c->body_at, n);
    c->body_at += n;
    return (int)n;
}

int
__wrap_mg_write (struct mg_connection *conn, const void *buf, size_t len)
{
    s_conn_t *c = (s_conn_t *)conn;
    /* the one-write answer starts with its status line */
    if (!c->status && len > 12 && memcmp (buf, "HTTP/1.1 ", 9) == 0) {
        c->status = atoi ((const char *)buf + 9);
        c->answers++;
    }
    FZ_CHECK (c->status != 0); /* nothing before the status */
    c->out_len += len;
    return (int)len;
}

int
__wrap_mg_response_header_start (struct mg_connection *conn, int status)
{
    s_conn_t *c = (s_conn_t *)conn;
    c->status = status;
    c->answers++;
    return 0;
}

int
__wrap_mg_response_header_add (struct mg_connection *conn, const char *header,
                               const char *value, int value_len)
{
    FZ_CHECK (((s_conn_t *)conn)->status != 0);
    FZ_CHECK (header != NULL && value != NULL);
    FZ_CHECK (value_len < 0 || memchr (value, 0, (size_t)value_len) == NULL);
    return 0;
}

int
__wrap_mg_response_header_send (struct mg_connection *conn)
{
    FZ_CHECK (((s_conn_t *)conn)->status != 0);
    return 0;
}

void
__wrap_mg_disable_connection_keep_alive (struct mg_connection *conn)
{
    (void)conn;
}

const char *
__wrap_mg_get_response_code_text (const struct mg_connection *conn, int status)
{
    (void)conn, (void)status;
    return "Status";
}

/*  No worker thread of civetweb: no pooled broker connection either. */
void *
__wrap_mg_get_thread_pointer (const struct mg_connection *conn)
{
    (void)conn;
    return NULL;
}

/*  The broker is known to be down: every call is 503 at once. */
int
__wrap_ef_watch_up (const void *watch)
{
    (void)watch;
    return 0;
}

/* ---------------------------------------------------------------- the request */

/*  The next line of [*p, end) (without its CR LF or LF), NUL-terminated
    in place; NULL at the end. */
static char *
s_line (char **p, char *end)
{
    if (*p >= end)
        return NULL;
    char *line = *p, *nl = memchr (line, '\n', (size_t)(end - line));
    char *stop = nl ? nl : end;
    *p = nl ? nl + 1 : end;
    if (stop > line && stop[-1] == '\r')
        stop--;
    *stop = 0;
    return line;
}

/*  Split buf (len bytes, one spare byte after them) into c as civetweb
    does: the request line's method, path and query; each header's name
    ends with NULs over any white space before the colon and the colon,
    its value begins after the spaces; the body is what follows the
    blank line. 0, or -1 when there is no request line (civetweb answers
    400 itself). */
static int
s_parse (char *buf, size_t len, s_conn_t *c)
{
    char *p = buf, *end = buf + len;
    char *line = s_line (&p, end);
    if (!line)
        return -1;
    char *sp = strchr (line, ' ');
    if (!sp || sp == line)
        return -1;
    *sp = 0;
    char *uri = sp + 1, *sp2 = strchr (uri, ' ');
    if (!sp2 || *uri != '/')
        return -1;
    *sp2 = 0;
    char *q = strchr (uri, '?');
    if (q)
        *q++ = 0;
    c->ri.request_method = line;
    c->ri.local_uri = uri;
    c->ri.request_uri = uri;
    c->ri.query_string = q;
    c->ri.http_version = "1.1";
    c->ri.content_length = -1;
    while ((line = s_line (&p, end)) && *line) {
        char *colon = strchr (line, ':');
        if (!colon || colon == line || c->ri.num_headers == S_HEADERS)
            return -1;
        char *e = colon;
        while (e > line && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        memset (e, 0, (size_t)(colon + 1 - e));
        char *value = colon + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        struct mg_header *hd = &c->ri.http_headers[c->ri.num_headers++];
        hd->name = line;
        hd->value = value;
        if (strcasecmp (line, "Content-Length") == 0)
            c->ri.content_length = strtoll (value, NULL, 10);
    }
    c->body = p;
    c->body_len = (size_t)(end - p);
    return 0;
}

/* ---------------------------------------------------------------- the bridge */

static ef_bridge_t *
s_bridge (void)
{
    static ef_bridge_t *bridge;
    if (bridge)
        return bridge;
    static const char *const settings[][2] = {
        {"listen", "127.0.0.1:0"},
        {"broker", "tcp://127.0.0.1:9"},
        {"plain", "1"},
        {"max-body", "64K"},
        {"threads", "8"},
        {"timeout", "100"},
        {"long-polls", "4"},
        {"long-polls-per-key", "2"},
        {"live-feeds", "4"},
        {"live-feeds-per-key", "2"},
        {"metrics-token", "fuzz-metrics"},
        {"cors-origins", "https://app.example, http://localhost:3000"},
    };
    ef_config_t *cfg = ef_config_new (ef_bridge_options);
    FZ_CHECK (cfg != NULL);
    for (size_t i = 0; i < sizeof settings / sizeof *settings; i++)
        FZ_CHECK (ef_config_set (cfg, settings[i][0], settings[i][1]) == 0);
    FILE *null = fopen ("/dev/null", "w");
    FZ_CHECK (null != NULL);
    ef_log_t *log = ef_log_new ("bridge", null);
    FZ_CHECK (log != NULL);
    bridge = ef_bridge_new (cfg, log);
    FZ_CHECK (bridge != NULL);
    FZ_CHECK (ef_bridge_open (bridge) == 0);
    return bridge; /* kept for the process's life */
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    ef_bridge_t *bridge = s_bridge ();
    char *buf = malloc (size + 1);
    FZ_CHECK (buf != NULL);
    memcpy (buf, data, size);
    buf[size] = 0;
    s_conn_t c;
    memset (&c, 0, sizeof c);
    if (s_parse (buf, size, &c) == 0) {
        int status = ef_bridge_handle ((struct mg_connection *)&c, bridge);
        FZ_CHECK (c.answers == 1);
        FZ_CHECK (status == c.status && status >= 100 && status <= 599);
        if (getenv ("EF_FUZZ_VERBOSE")) /* what each input was answered */
            fprintf (stderr, "%d %s %s\n", status, c.ri.request_method,
                     c.ri.local_uri);
    }
    free (buf);
    return 0;
}
