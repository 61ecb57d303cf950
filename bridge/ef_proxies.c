/*  ef_proxies.c: trusted proxies and the client address behind them (see
    ef_proxies.h). Addresses compare as bytes in network order, IPv4 ones
    mapped into IPv6 (::ffff:a.b.c.d), so that one range test serves both
    families and an IPv4 client reached over an IPv6 socket matches. */
#include "ef_proxies.h"
#include "eventflow/ef_config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t net[16]; /* network order, IPv4 mapped */
    int bits;        /* prefix length over the 128 */
} s_range_t;

struct ef_proxies {
    size_t count;
    s_range_t *range;
};

/*  Parse the address of n bytes at s (no port, no brackets) into a;
    *v4 says whether it was an IPv4 one. 0 or -1. */
static int
s_addr (const char *s, size_t n, uint8_t a[16], int *v4)
{
    char text[INET6_ADDRSTRLEN];
    if (n == 0 || n >= sizeof text)
        return -1;
    memcpy (text, s, n);
    text[n] = 0;
    struct in_addr in4;
    if (inet_pton (AF_INET, text, &in4) == 1) {
        memset (a, 0, 10);
        a[10] = a[11] = 0xff;
        memcpy (a + 12, &in4, 4);
        *v4 = 1;
        return 0;
    }
    *v4 = 0;
    return inet_pton (AF_INET6, text, a) == 1 ? 0 : -1;
}

/*  1 if a is inside r. */
static int
s_inside (const s_range_t *r, const uint8_t a[16])
{
    int whole = r->bits / 8, rest = r->bits % 8;
    if (memcmp (r->net, a, (size_t)whole) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (r->net[whole] & mask) == (a[whole] & mask);
}

static int
s_trusted (const ef_proxies_t *self, const uint8_t a[16])
{
    for (size_t i = 0; i < self->count; i++)
        if (s_inside (&self->range[i], a))
            return 1;
    return 0;
}

ef_proxies_t *
ef_proxies_new (const char *list, char *why, size_t why_size)
{
    snprintf (why, why_size, "out of memory");
    ef_proxies_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    size_t n;
    for (const char *at = list, *p; (p = ef_config_list_next (&at, &n));) {
        s_range_t r = {{0}, 128};
        const char *slash = memchr (p, '/', n);
        size_t alen = slash ? (size_t)(slash - p) : n;
        int v4 = 0, ok = s_addr (p, alen, r.net, &v4) == 0;
        if (ok && slash) {
            char *end;
            long bits = strtol (slash + 1, &end, 10);
            ok = end == p + n && end > slash + 1 && bits >= 0 &&
                 bits <= (v4 ? 32 : 128);
            r.bits = (int)bits + (v4 ? 96 : 0);
        }
        if (!ok) {
            char shown[65];
            size_t k = 0;
            for (; k < n && k < 64; k++) /* quoted in a JSON log line */
                shown[k] =
                    p[k] > 0x20 && p[k] < 0x7f && p[k] != '"' && p[k] != '\\'
                        ? p[k]
                        : '?';
            shown[k] = 0;
            snprintf (why, why_size,
                      "not an address or CIDR range (10.0.0.0/8, ::1): "
                      "'%s'",
                      shown);
            ef_proxies_destroy (&self);
            return NULL;
        }
        s_range_t *grown =
            realloc (self->range, (self->count + 1) * sizeof *grown);
        if (!grown) {
            ef_proxies_destroy (&self);
            return NULL;
        }
        self->range = grown;
        self->range[self->count++] = r;
    }
    return self;
}

void
ef_proxies_destroy (ef_proxies_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->range);
    free (*self_p);
    *self_p = NULL;
}

void
ef_proxies_client (const ef_proxies_t *self, const char *remote,
                   const char *xff, char *out)
{
    snprintf (out, EF_PROXIES_ADDR_MAX, "%s", remote ? remote : "");
    uint8_t a[16];
    int v4;
    if (!self || !self->count || !xff || !remote ||
        s_addr (remote, strlen (remote), a, &v4) || !s_trusted (self, a))
        return;
    /* from the right: each entry was appended by the hop before it */
    size_t end = strlen (xff);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        size_t s = start, e = end;
        while (s < e && (xff[s] == ' ' || xff[s] == '\t'))
            s++;
        while (e > s && (xff[e - 1] == ' ' || xff[e - 1] == '\t'))
            e--;
        if (s_addr (xff + s, e - s, a, &v4))
            return; /* not an address: the last good one stands */
        snprintf (out, EF_PROXIES_ADDR_MAX, "%.*s", (int)(e - s), xff + s);
        if (!s_trusted (self, a))
            return;
        end = start > 0 ? start - 1 : 0;
    }
}
