/*  ef_broker.h: the broker object: the ROUTER socket and its reactor, the
    command table, and the parts it owns (store, writer, hasher, schema
    checks, queries, metrics, and the command modules: streams, publish,
    consume, workers, DLQ, admin). Created from a loaded configuration,
    opened, run until a signal, then destroyed.
    Thread-safety: all calls from one thread. */
#ifndef EF_BROKER_H
#define EF_BROKER_H

#include "eventflow/ef_config.h"
#include "eventflow/ef_log.h"

typedef struct ef_broker ef_broker_t;

/*  The broker's configuration options (for ef_config_new). */
extern const ef_config_opt_t ef_broker_options[];

/*  A broker over cfg and log (both borrowed; they must outlive it). */
ef_broker_t *ef_broker_new (const ef_config_t *cfg, ef_log_t *log);
/*  Open the store, bind the socket, start the writer. 0 or an EF_E* code
    (logged with its cause). */
int ef_broker_open (ef_broker_t *self);
/*  The endpoint actually bound (after open). */
const char *ef_broker_endpoint (const ef_broker_t *self);
/*  Serve until SIGINT/SIGTERM (which must be blocked in every thread by
    the caller before open), then finish the writes in hand, answer them,
    and return 0; or return an error if the store broke. */
int ef_broker_run (ef_broker_t *self);
void ef_broker_destroy (ef_broker_t **self_p);

#endif
