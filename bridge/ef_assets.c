/*  ef_assets.c: the dashboard's files over HTTP (see ef_assets.h): the
    look-up in the embedded table, the choice of representation (gzip or
    not), the conditional request and the headers. */
#include "ef_assets.h"
#include "eventflow/ef_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  What the dashboard may load: its own files only, no inline script or
    style, no framing, no plugins (README "Dashboard"). */
static const char s_csp[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const ef_asset_t *
ef_assets_find (const char *name, size_t len)
{
    unsigned lo = 0, hi = ef_assets_count;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        const char *k = ef_assets_table[mid].name;
        int c = strncmp (k, name, len);
        if (c == 0 && k[len])
            c = 1; /* k is longer: after name */
        if (c == 0)
            return &ef_assets_table[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/*  Whether If-None-Match names one of the asset's tags (weak comparison,
    RFC 9110 §13.1.2: a W/ prefix is ignored; "*" matches any). */
static int
s_not_modified (const char *inm, const ef_asset_t *a)
{
    if (!inm)
        return 0;
    for (const char *p = inm; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (*p != '"')
            return 0; /* not a list of entity tags */
        const char *close = strchr (p + 1, '"');
        if (!close)
            return 0;
        size_t n = (size_t)(close - p + 1);
        if ((strlen (a->etag) == n && memcmp (a->etag, p, n) == 0) ||
            (strlen (a->etag_gz) == n && memcmp (a->etag_gz, p, n) == 0))
            return 1;
        p = close + 1;
    }
    return 0;
}

static int
s_serve (ef_http_t *h, const ef_asset_t *a)
{
    int gz = a->gz &&
             ef_http_accepts (ef_http_header (h, "Accept-Encoding"), "gzip");
    const char *etag = gz ? a->etag_gz : a->etag;
    int status =
        s_not_modified (ef_http_header (h, "If-None-Match"), a) ? 304 : 200;
    int head = strcmp (h->ri->request_method, "HEAD") == 0;
    size_t len = gz ? a->gz_len : a->raw_len;
    struct mg_connection *c = h->conn;
    char num[32];
    h->status = status;
    mg_response_header_start (c, status);
    if (h->close)
        mg_response_header_add (c, "Connection", "close", -1);
    mg_response_header_add (c, "X-Request-Id", h->request_id, -1);
    mg_response_header_add (c, "ETag", etag, -1);
    mg_response_header_add (c, "Cache-Control", "no-cache", -1);
    mg_response_header_add (c, "Vary", "Accept-Encoding", -1);
    mg_response_header_add (c, "Content-Security-Policy", s_csp, -1);
    mg_response_header_add (c, "X-Frame-Options", "DENY", -1);
    mg_response_header_add (c, "X-Content-Type-Options", "nosniff", -1);
    mg_response_header_add (c, "Referrer-Policy", "no-referrer", -1);
    if (status == 200) {
        mg_response_header_add (c, "Content-Type", a->type, -1);
        if (gz)
            mg_response_header_add (c, "Content-Encoding", "gzip", -1);
        snprintf (num, sizeof num, "%zu", len);
        mg_response_header_add (c, "Content-Length", num, -1);
    }
    mg_response_header_send (c);
    if (status == 200 && !head && len)
        mg_write (c, gz ? a->gz : a->raw, len);
    return status;
}

int
ef_assets_index (ef_bridge_t *self, ef_http_t *h)
{
    (void)self;
    const ef_asset_t *a = ef_assets_find ("index.html", 10);
    if (!a) /* the build embeds it: bridge/CMakeLists.txt */
        return ef_http_problem (h, EF_ENOTFOUND, "no dashboard", NULL, 0);
    return s_serve (h, a);
}

int
ef_assets_get (ef_bridge_t *self, ef_http_t *h)
{
    (void)self;
    const char *name = h->params[0];
    const ef_asset_t *a = name ? ef_assets_find (name, strlen (name)) : NULL;
    if (a)
        return s_serve (h, a);
    if (strcmp (h->ri->request_method, "HEAD") != 0)
        return ef_http_problem (h, EF_ENOTFOUND, "no such file", NULL, 0);
    /* HEAD: the problem's headers without its body */
    h->status = 404;
    mg_response_header_start (h->conn, 404);
    mg_response_header_add (h->conn, "X-Request-Id", h->request_id, -1);
    mg_response_header_add (h->conn, "Cache-Control", "no-store", -1);
    mg_response_header_add (h->conn, "Content-Type", "application/problem+json",
                            -1);
    mg_response_header_send (h->conn);
    return 404;
}
