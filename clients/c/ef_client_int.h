/*  ef_client_int.h: private to libeventflow's client, not installed: what
    its blocking commands (ef_client_calls.c) need of the connection
    (ef_client.c) beyond the public ef_client.h. */
#ifndef EF_CLIENT_INT_H
#define EF_CLIENT_INT_H

#include "eventflow/ef_client.h"

/*  Describe the error code as message (ef_client_error); returns code. */
int ef_client_fail (ef_client_t *self, int code, const char *message);
/*  The timeout of a blocking call, ms. */
int ef_client_timeout (const ef_client_t *self);
/*  The reply to the last blocking call (valid until the next call). */
const ef_reply_t *ef_client_reply (const ef_client_t *self);
/*  Send req (its id and credential filled in as by ef_client_call)
    without waiting and without tracking it: a reply nobody awaits is
    dropped when it arrives. *losses is for ef_client_await. */
int ef_client_send_ahead (ef_client_t *self, ef_request_t *req,
                          uint64_t *losses);
/*  Wait for the reply to a request sent ahead (then ef_client_reply);
    EF_EUNAVAILABLE when the connection it went on was lost since. */
int ef_client_await (ef_client_t *self, uint64_t id, uint64_t losses);

#endif
