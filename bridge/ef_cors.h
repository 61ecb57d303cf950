/*  ef_cors.h: the bridge's cross-origin policy (--cors-origins): which
    origins a page in a browser may call the bridge from, and the header
    values that say so on preflights and on real answers (the headers
    themselves are written by ef_http.c). With no origins configured (the
    default) no answer carries a CORS header: same origin only.
    Thread-safety: read-only after ef_cors_new; any thread may ask. */
#ifndef EF_CORS_H
#define EF_CORS_H

#include <stddef.h>

typedef struct ef_cors ef_cors_t;

/*  The request headers a page may send (preflight's
    Access-Control-Allow-Headers): the credentials, the body's type, and
    the ids the API reads. */
#define EF_CORS_ALLOW_HEADERS                                                  \
    "Authorization, Content-Type, X-API-Key, X-Request-Id, "                   \
    "X-Correlation-Id, traceparent"
/*  The answer headers a page may read beyond the safelisted ones. */
#define EF_CORS_EXPOSE_HEADERS "X-Request-Id, Retry-After"
/*  Seconds a browser may keep a preflight's answer. */
#define EF_CORS_MAX_AGE "600"
/*  Longest origin accepted in the list or echoed from a request. */
#define EF_CORS_ORIGIN_MAX 256

/*  The policy of list: NULL or "" (none: same origin only), "*" (any
    origin), or comma-separated exact origins ("https://app.example.com,
    http://localhost:3000": scheme://host[:port], no path). NULL when the
    list is malformed or memory is short, with the reason in why. */
ef_cors_t *ef_cors_new (const char *list, char *why, size_t why_size);
void ef_cors_destroy (ef_cors_t **self_p);

/*  The request's Origin (may be NULL) when the policy allows it, else
    NULL. The string returned is origin itself: it lives as long as the
    request. */
const char *ef_cors_allow (const ef_cors_t *self, const char *origin);

#endif
