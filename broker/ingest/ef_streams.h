/*  ef_streams.h: the commands that shape streams: CREATE_STREAM,
    UPDATE_STREAM and DELETE_STREAM. It keeps no state between requests;
    the object is its context: the authentication state (quotas), the
    writer (route checks, what the engine and the writer forget of a
    stream), and where a reply is written.
    Thread-safety: handlers on the reactor; their write steps on the
    writer's thread. */
#ifndef EF_STREAMS_H
#define EF_STREAMS_H

#include "ef_auth.h"
#include "ef_wreq.h"
#include "ef_writer.h"

typedef struct ef_streams ef_streams_t;

typedef struct {
    ef_buf_t *out; /* a reply built on the reactor goes here */
    ef_auth_t *auth;
    ef_writer_t *writer;
} ef_streams_ctx_t;

/*  Over ctx (copied; what it points to is borrowed). Destroy it after the
    writer has stopped: its write steps use it. */
ef_streams_t *ef_streams_new (const ef_streams_ctx_t *ctx);
void ef_streams_destroy (ef_streams_t **self_p);

/*  The handlers: the next stage set on w (CREATE_STREAM is written by the
    writer itself; UPDATE and DELETE through w->apply); an error code
    with *why naming the cause. A deleted stream is left in w->stream. */
int ef_streams_create (ef_streams_t *self, ef_wreq_t *w, const char **why);
int ef_streams_update (ef_streams_t *self, ef_wreq_t *w, const char **why);
int ef_streams_delete (ef_streams_t *self, ef_wreq_t *w, const char **why);
/*  CREATE_STREAM's reply, once the writer made it, into ctx->out. */
void ef_streams_write_created (ef_streams_t *self, ef_wreq_t *w);

#endif
