/*  ef_dlq.h: the dead-letter queue's commands (DESIGN.md §5, §6):
    DLQ_LIST, DLQ_GET, DLQ_REPLAY, DLQ_DELETE, DLQ_REASONS. It keeps no state of its
    own; the object is its context: the reactor's store snapshot, where a
    reply is written, and the writer whose engine a replay wakes.
    Thread-safety: handlers on the reactor; their write steps on the
    writer's thread. */
#ifndef EF_DLQ_H
#define EF_DLQ_H

#include "ef_wreq.h"
#include "ef_writer.h"

typedef struct ef_dlq ef_dlq_t;

typedef struct {
    ef_store_txn_t *reader; /* the reactor's snapshot */
    ef_buf_t *out;          /* a handler's reply goes here */
    ef_writer_t *writer;
} ef_dlq_ctx_t;

/*  Over ctx (copied; what it points to is borrowed). Destroy it after the
    writer has stopped: its write steps use it. */
ef_dlq_t *ef_dlq_new (const ef_dlq_ctx_t *ctx);
void ef_dlq_destroy (ef_dlq_t **self_p);

/*  The handlers: the reply into ctx->out, or w->apply for the writer; an
    error code with *why naming the cause. */
int ef_dlq_list (ef_dlq_t *self, ef_wreq_t *w, const char **why);
int ef_dlq_get (ef_dlq_t *self, ef_wreq_t *w, const char **why);
int ef_dlq_replay (ef_dlq_t *self, ef_wreq_t *w, const char **why);
int ef_dlq_delete (ef_dlq_t *self, ef_wreq_t *w, const char **why);
int ef_dlq_reasons (ef_dlq_t *self, ef_wreq_t *w, const char **why);

#endif
