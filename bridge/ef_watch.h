/*  ef_watch.h: the bridge's knowledge of whether its broker is there, so
    that a request during an outage is answered 503 at once instead of
    waiting out the broker timeout. A thread of its own holds one DEALER
    to the broker with a ZeroMQ socket monitor: the broker is known down
    on a disconnect or a refused connect (the monitor's events), on a PING
    left unanswered (one a second while up), or when a caller reports a
    request that timed out; it is known up again on the first PING
    answered after a completed handshake (probed every 100 ms meanwhile).
    Until the first event says otherwise the broker is taken to be up.
    Thread-safety: ef_watch_up and ef_watch_report from any thread; the
    rest from the thread that owns the watch. */
#ifndef EF_WATCH_H
#define EF_WATCH_H

#include "eventflow/ef_cert.h"
#include "eventflow/ef_log.h"

typedef struct ef_watch ef_watch_t;

/*  A watch of endpoint with the gateway's keys (server_key NULL: plain);
    a PING unanswered for ping_timeout_ms (the bridge's broker timeout)
    means down. NULL when out of memory. */
ef_watch_t *ef_watch_new (const char *endpoint, const ef_cert_t *gateway,
                          const char *server_key, int ping_timeout_ms,
                          ef_log_t *log);
/*  Connect and start watching. 0 or an EF_E* code. */
int ef_watch_start (ef_watch_t *self);
/*  Stop the thread and free. Safe on NULL. */
void ef_watch_destroy (ef_watch_t **self_p);

/*  1 unless the broker is known to be down. */
int ef_watch_up (const ef_watch_t *self);
/*  A request to the broker went unanswered in time: take the broker for
    down until a PING says otherwise (sent at once). */
void ef_watch_report (ef_watch_t *self);

#endif
