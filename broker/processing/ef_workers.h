/*  ef_workers.h: the workers attached to this broker, DEALER peers that
    run pipeline worker steps (DESIGN.md §6), and their commands (READY,
    DONE, FAIL, LEAVE, WORKERS). The object owns the workers, the jobs each
    holds and the jobs waiting per service; a job goes to the least-loaded
    worker of its service with room, oldest job first. It sees the broker
    through its context only: where a reply is written, how a frame is
    sent to a peer, the writer that takes the answers, the room the engine
    reads, the log and the metrics.
    Thread-safety: the reactor's thread only. */
#ifndef EF_WORKERS_H
#define EF_WORKERS_H

#include "ef_metrics.h"
#include "ef_room.h"
#include "ef_wreq.h"
#include "ef_writer.h"
#include "eventflow/ef_log.h"

typedef struct ef_workers ef_workers_t;

/*  Send len bytes to peer. 0, or -1 when the peer is gone. */
typedef int (ef_workers_send_fn) (void *arg, zmq_msg_t *peer, const void *body,
                                  size_t len);

typedef struct {
    ef_buf_t *out; /* a handler's reply goes here */
    ef_workers_send_fn *send;
    void *arg;           /* for send */
    ef_writer_t *writer; /* answers and lost jobs go to it */
    ef_room_t *room;     /* told what each service can take (or NULL) */
    ef_log_t *log;
    ef_metrics_t *metrics;
    int64_t silent_ms; /* a worker silent this long is dropped
                                   (under 1000: the default, 3000) */
    uint32_t ping_ms;  /* our heartbeat to each worker (0: 1000); a
                          worker it cannot reach is dropped */
} ef_workers_ctx_t;

/*  None attached yet, over ctx (copied; what it points to is borrowed). */
ef_workers_t *ef_workers_new (const ef_workers_ctx_t *ctx);
/*  Forget every worker; queued jobs are freed (the engine runs them again
    when they fall due). Before the writer stops. */
void ef_workers_destroy (ef_workers_t **self_p);

/*  The handlers: the reply into ctx->out, or w->apply for the writer (an
    answer the engine must hear); an error code with *why naming the
    cause. After READY's reply, ef_workers_tick gives jobs to it. */
int ef_workers_ready (ef_workers_t *self, ef_wreq_t *w, const char **why);
int ef_workers_answer (ef_workers_t *self, ef_wreq_t *w, const char **why);
int ef_workers_leave (ef_workers_t *self, ef_wreq_t *w, const char **why);
int ef_workers_list (ef_workers_t *self, ef_wreq_t *w, const char **why);

/*  A job from the writer (EF_WREQ_JOB): to a worker now, or queued. */
void ef_workers_submit (ef_workers_t *self, ef_wreq_t *job);
/*  Timeouts, heartbeats, silent workers, and queued jobs to workers with
    room (each reactor turn). */
void ef_workers_tick (ef_workers_t *self);
/*  How many workers are attached: all, or of org. */
uint32_t ef_workers_count (const ef_workers_t *self);
uint32_t ef_workers_count_org (const ef_workers_t *self, uint32_t org);

/*  A worker's id as the broker shows it (WORKERS' `id`, a history
    Attempt's `worker`): the lowercase hex of its ZeroMQ routing id
    (peer, at most 255 bytes), NUL-terminated, into out, which has room
    for EF_WORKERS_ID_SIZE bytes. Returns its length. The one place the
    id is formatted. Thread-safe: reads peer only. */
#define EF_WORKERS_ID_SIZE (2 * 255 + 1)
size_t ef_workers_id (const zmq_msg_t *peer, char *out);

#endif
