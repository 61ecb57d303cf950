/*  ef_bridge.h: eventflow-bridge, the HTTP/JSON face of the broker. A
    civetweb server whose handlers turn each request into one broker
    request over a DEALER leased to the worker thread for that request
    (ZeroMQ sockets are not thread-safe; connections are pooled, since
    civetweb has a thread per open HTTP connection), with the gateway's
    CurveZMQ key and the caller's credential forwarded: the broker
    decides. It keeps no state, so any number of bridges can serve one
    broker.
    Thread-safety: new/open/destroy from one thread; handlers run on
    civetweb's workers. */
#ifndef EF_BRIDGE_H
#define EF_BRIDGE_H

#include <stdio.h>
#include "eventflow/ef_config.h"
#include "eventflow/ef_log.h"

typedef struct ef_bridge ef_bridge_t;

extern const ef_config_opt_t ef_bridge_options[];

ef_bridge_t *ef_bridge_new (const ef_config_t *cfg, ef_log_t *log);
/*  Load keys, start listening. 0 or an EF_E* code (logged). */
int ef_bridge_open (ef_bridge_t *self);
/*  Stop serving (waits for the handlers in flight) and free. */
void ef_bridge_destroy (ef_bridge_t **self_p);
/*  Print "METHOD PATH" for every route served. */
void ef_bridge_print_routes (FILE *out);

#endif
