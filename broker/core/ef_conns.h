/*  ef_conns.h: the broker's native connections, counted from its ROUTER
    socket's monitor (accepted, disconnected); after many of them closed
    the memory their buffers held is given back to the system (glibc
    keeps freed memory in its arenas otherwise: ZeroMQ's I/O threads
    allocate about 40 KB per connection).
    Thread-safety: the reactor's thread only. */
#ifndef EF_CONNS_H
#define EF_CONNS_H

#include "eventflow/ef_log.h"

#include <stdint.h>

typedef struct ef_conns ef_conns_t;

/*  Watch router's connections (before it binds); log is not owned. NULL
    when the monitor cannot be set up (the broker serves without it). */
ef_conns_t *ef_conns_new (void *ctx, void *router, ef_log_t *log);
/*  Safe on NULL; clears *self_p. Call before router is closed. */
void ef_conns_destroy (ef_conns_t **self_p);
/*  The socket to poll for ZMQ_POLLIN (NULL when self is). */
void *ef_conns_socket (ef_conns_t *self);
/*  Read what the monitor said; when at least 256 connections closed and
    no more than half of the most there were are left, give freed memory
    back (malloc_trim) and log "memory returned"; again when the last of
    them has closed. */
void ef_conns_drain (ef_conns_t *self);
/*  Call at every turn of the reactor: once no connection has closed for
    a second, what those that did held is given back (at most every 10 s):
    a few readers killed while pages were pushed to them, a producer gone
    after a burst. */
void ef_conns_tick (ef_conns_t *self);
/*  Connections open now. */
uint64_t ef_conns_count (const ef_conns_t *self);

#endif
