/*  ef_streams.h: the commands that shape streams: CREATE_STREAM,
    UPDATE_STREAM and DELETE_STREAM. It keeps no state between requests;
    the object is its context: the authentication state (quotas), the
    writer (route checks, what the engine and the writer forget of a
    stream), and where a reply is written.
    Thread-safety: handlers on the reactor; their write steps on the
    writer's thread. CHECK_STREAM only reads (the reactor's snapshot). */
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
    ef_store_txn_t *reader; /* the reactor's snapshot (CHECK_STREAM) */
    uint32_t max_payload;   /* CHECK_STREAM's payload, as PUBLISH's */
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

/*  CHECK_STREAM (protocol.md): compile the request's schema and pipeline
    with the functions CREATE_STREAM and UPDATE_STREAM use, check the
    routes on the reactor's snapshot (name: the stream being edited), and
    a payload with PUBLISH's rules. Nothing is stored. The reply
    {valid, errors} goes into ctx->out, or, when a payload is to be
    checked against a schema, w->schema sends the request to the schema
    checks first and ef_streams_checked writes it. An error code only
    for a failure that is not the request's (store, memory). */
int ef_streams_check (ef_streams_t *self, ef_wreq_t *w, const char **why);
/*  A CHECK_STREAM back from its payload's schema check: the reply, with
    the schema's failing paths under /payload, into ctx->out. */
void ef_streams_checked (ef_streams_t *self, ef_wreq_t *w);

#endif
