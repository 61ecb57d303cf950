/*  ef_writer.h: the group-commit writer. One thread owns the store's write
    transaction. The reactor submits decoded write requests (PUBLISH,
    CREATE_STREAM); the writer takes everything queued, applies it in one
    transaction, commits, and hands the requests back with their outcome
    (the reactor encodes the replies).
    Requests that arrive while a commit is in flight form the next
    transaction. A reply exists only after its commit returned, so an
    ACCEPTED result is durable. When a group transaction fails (map full,
    I/O error), each of its requests is retried alone, so one request's
    failure is answered to that request only and nothing is half-written.

    Thread-safety: submit/collect/fd are called from the reactor thread;
    everything else from the thread that owns the writer. */
#ifndef EF_WRITER_H
#define EF_WRITER_H

#include <stdint.h>
#include <zmq.h>
#include "eventflow/ef_log.h"
#include "eventflow/ef_proto.h"
#include "ef_metrics.h"
#include "ef_store.h"

/*  One PUBLISH item. The reactor fills id, the record and code (an item
    it refused); the writer fills seq and duplicate (and received_at of the
    original for a duplicate). */
typedef struct {
    int code;             /* the item's own error, 0 if none */
    const char *err_msg;  /* static text for code */
    int id_given;         /* the producer chose the id: check idempotency */
    ef_uuid_t id;
    char event_id[EF_UUID_STRLEN + 1];
    uint32_t rec_off, rec_len; /* the record, in the request's records */
    int duplicate;
    uint64_t seq;
    uint64_t received_at;
} ef_wresult_t;

/*  A write request: owned by the reactor, lent to the writer between
    submit and collect. The request's strings point into frame. */
typedef struct ef_wreq ef_wreq_t;
struct ef_wreq {
    ef_wreq_t *next;
    zmq_msg_t peer;  /* routing id */
    zmq_msg_t frame; /* request body */
    ef_request_t req;
    uint32_t org;
    ef_stream_rec_t stream; /* PUBLISH: resolved by the reactor;
                               CREATE_STREAM: filled by the writer */
    ef_wresult_t *results;  /* PUBLISH: one per item, capacity results_cap */
    uint32_t results_cap;
    ef_buf_t records;       /* PUBLISH: the items' records, back to back */
    int status;             /* whole-request error, 0 if none */
    const char *why;        /* static text for status */
};

typedef struct ef_writer ef_writer_t;

ef_writer_t *ef_writer_new (ef_store_t *store, ef_metrics_t *metrics,
                            ef_log_t *log);
/*  Start the thread. 0 or EF_ENOMEM/EF_EINTERNAL. */
int ef_writer_start (ef_writer_t *self);
/*  Queue a request (ownership passes until collected). */
void ef_writer_submit (ef_writer_t *self, ef_wreq_t *wreq);
/*  Take the finished requests (replies encoded), oldest first; NULL if
    none. Also clears the readiness of ef_writer_fd. */
ef_wreq_t *ef_writer_collect (ef_writer_t *self);
/*  A file descriptor readable when finished requests wait. */
int ef_writer_fd (const ef_writer_t *self);
/*  Requests submitted and not yet collected. */
uint32_t ef_writer_pending (const ef_writer_t *self);
/*  Finish every submitted request, then stop the thread. */
void ef_writer_stop (ef_writer_t *self);
/*  Stop if running, then free. Safe on NULL; clears *self_p. */
void ef_writer_destroy (ef_writer_t **self_p);

#endif
