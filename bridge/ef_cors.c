/*  ef_cors.c: the cross-origin policy (see ef_cors.h): the configured
    origins, parsed and checked once at start, and the one test each
    request's Origin goes through. Origins compare exactly, byte for byte,
    as browsers send them (lower-case scheme and host, no default port). */
#include "ef_cors.h"
#include "eventflow/ef_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ef_cors {
    int any;       /* "*": every origin */
    size_t count;  /* origins in the list */
    char **origin; /* each NUL-terminated */
};

/*  An origin as a browser serialises it: scheme "://" host [":" port],
    printable, no path, no white space, not too long. */
static int
s_origin_ok (const char *s, size_t n)
{
    if (n == 0 || n > EF_CORS_ORIGIN_MAX)
        return 0;
    size_t i = 0;
    while (i < n && ((s[i] >= 'a' && s[i] <= 'z') ||
                     (i > 0 && ((s[i] >= '0' && s[i] <= '9') || s[i] == '+' ||
                                s[i] == '-' || s[i] == '.'))))
        i++;
    if (i == 0 || n - i < 4 || memcmp (s + i, "://", 3) != 0)
        return 0;
    for (i += 3; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '/' || s[i] == ',')
            return 0;
    return 1;
}

ef_cors_t *
ef_cors_new (const char *list, char *why, size_t why_size)
{
    snprintf (why, why_size, "out of memory");
    ef_cors_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (!list)
        return self;
    size_t n;
    for (const char *at = list, *p; (p = ef_config_list_next (&at, &n));) {
        if (n == 1 && *p == '*')
            self->any = 1;
        else if (!s_origin_ok (p, n)) {
            snprintf (why, why_size,
                      "not an origin (scheme://host[:port], no path): "
                      "'%.*s'",
                      (int)(n > 64 ? 64 : n), p);
            ef_cors_destroy (&self);
            return NULL;
        } else {
            char **grown =
                realloc (self->origin, (self->count + 1) * sizeof *grown);
            char *copy = grown ? strndup (p, n) : NULL;
            if (grown)
                self->origin = grown;
            if (!copy) {
                ef_cors_destroy (&self);
                return NULL;
            }
            self->origin[self->count++] = copy;
        }
    }
    if (self->any && self->count) {
        snprintf (why, why_size, "'*' stands alone, without other origins");
        ef_cors_destroy (&self);
        return NULL;
    }
    return self;
}

void
ef_cors_destroy (ef_cors_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_cors_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        free (self->origin[i]);
    free (self->origin);
    free (self);
    *self_p = NULL;
}

const char *
ef_cors_allow (const ef_cors_t *self, const char *origin)
{
    if (!self || !origin || (!self->any && !self->count))
        return NULL;
    size_t n = strlen (origin);
    /* echoed into an answer header: only what an origin can be */
    if (!s_origin_ok (origin, n))
        return NULL;
    if (self->any)
        return origin;
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->origin[i], origin) == 0)
            return origin;
    return NULL;
}
