/*  ef_proxies.h: which client a request comes from when the bridge runs
    behind proxies (--trusted-proxies): the connection's address, unless
    that address is a trusted proxy, in which case X-Forwarded-For is read
    from the right, past every trusted proxy, to the first address that is
    not one. A client cannot name itself anything by sending the header
    directly: the header is read only from a trusted proxy, and only the
    part that trusted proxies appended is believed. The client address is
    what the broker holds failed logins back by and what the request log
    names. Thread-safety: read-only after ef_proxies_new; any thread may
    ask. */
#ifndef EF_PROXIES_H
#define EF_PROXIES_H

#include <stddef.h>

typedef struct ef_proxies ef_proxies_t;

/*  Longest client address written (an IPv6 address with its text). */
#define EF_PROXIES_ADDR_MAX 64

/*  The trusted proxies of list: NULL or "" (none: the connection's
    address is the client's), or comma-separated IPv4 or IPv6 addresses or
    CIDR ranges ("127.0.0.1, 10.0.0.0/8, ::1"). NULL when the list is
    malformed or memory is short, with the reason in why. */
ef_proxies_t *ef_proxies_new (const char *list, char *why, size_t why_size);
void ef_proxies_destroy (ef_proxies_t **self_p);

/*  The client's address of a request from remote (the connection's
    address, as civetweb gives it) carrying the X-Forwarded-For value xff
    (NULL when absent), into out (EF_PROXIES_ADDR_MAX bytes). An entry of
    the header that is not an address ends the walk: the last address
    before it, from the right, is the client. */
void ef_proxies_client (const ef_proxies_t *self, const char *remote,
                        const char *xff, char *out);

#endif
