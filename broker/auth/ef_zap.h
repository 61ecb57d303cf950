/*  ef_zap.h: the ZAP handler (ZeroMQ RFC 27) that admits CurveZMQ peers.
    It answers libzmq's authentication requests on inproc://zeromq.zap.01
    from its own thread, asking a check function whether a client public
    key may connect; the check also names the peer (the ZAP User-Id,
    which the broker then reads from every frame with zmq_msg_gets, so the
    principal never comes from a field the peer wrote). A CURVE server
    without a handler would admit any key, so the broker starts this first
    and refuses to bind if it is not up.
    Thread-safety: new/start/destroy from one thread; the check function
    runs on the handler's thread. */
#ifndef EF_ZAP_H
#define EF_ZAP_H

#include <stdint.h>
#include "eventflow/ef_log.h"

/*  Decide on a client key: return 0 and write a User-Id (≤ 63 chars) to
    admit it, non-zero to refuse. */
typedef int (ef_zap_check_fn) (void *arg, const uint8_t pub[32],
                               char user_id[64]);

typedef struct ef_zap ef_zap_t;

ef_zap_t *ef_zap_new (void *zmq_ctx, ef_zap_check_fn *check, void *arg,
                      ef_log_t *log);
/*  Bind the handler socket and start its thread. 0, or EF_EINTERNAL when
    the endpoint cannot be bound (another handler?). */
int ef_zap_start (ef_zap_t *self);
/*  Stop the thread and close. Safe on NULL; clears *self_p. */
void ef_zap_destroy (ef_zap_t **self_p);

#endif
