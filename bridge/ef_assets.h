/*  ef_assets.h: the dashboard, served from the bridge's own handler (no
    document root: DESIGN.md §10). Its files (bridge/www/src, and uPlot
    from bridge/www/node_modules under vendor/) are embedded at build time
    by bridge/tools/ef_embed.c into a table of rows sorted by name, each
    with its bytes, their gzip and an ETag per representation; nothing is
    read from disk at run time, and only names in the table are served
    (no path reaches the file system). Answers carry the security headers
    of README "Dashboard" (a Content-Security-Policy without inline
    scripts, X-Frame-Options DENY, nosniff, no referrer), Cache-Control:
    no-cache with the ETag (If-None-Match: 304), and the gzip'd bytes when
    the request accepts gzip (Vary: Accept-Encoding).
    Thread-safety: the table is constant; the handlers run on any
    civetweb worker. */
#ifndef EF_ASSETS_H
#define EF_ASSETS_H

#include <stddef.h>
#include "ef_bridge_int.h"

/*  One embedded file. */
typedef struct {
    const char *name; /* under /assets/: "js/app.js" */
    const char *type; /* Content-Type */
    const unsigned char *raw;
    size_t raw_len;
    const unsigned char *gz; /* NULL when gzip would not be smaller */
    size_t gz_len;
    const char *etag;    /* quoted, of raw */
    const char *etag_gz; /* quoted, of gz */
} ef_asset_t;

/*  The table (generated: ef_assets_data.c in the build tree), sorted by
    name with strcmp. */
extern const ef_asset_t ef_assets_table[];
extern const unsigned ef_assets_count;

/*  The file called name (len bytes, no leading slash), or NULL. */
const ef_asset_t *ef_assets_find (const char *name, size_t len);

/*  The routes: GET and HEAD of / and /index.html (index.html), and of
    /assets/{path} (the file path, 404 as a problem when there is none). */
int ef_assets_index (ef_bridge_t *self, ef_http_t *h);
int ef_assets_get (ef_bridge_t *self, ef_http_t *h);

#endif
