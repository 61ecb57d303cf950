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

#endif
