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
#include "ef_mailbox.h"
#include "ef_metrics.h"
#include "ef_store.h"
#include "ef_wreq.h"

typedef struct ef_writer ef_writer_t;

/*  A writer that posts finished requests (their outcome in status and
    results, or reply for custom writes) to done. */
ef_writer_t *ef_writer_new (ef_store_t *store, ef_mailbox_t *done,
                            ef_metrics_t *metrics, ef_log_t *log);
/*  Start the thread. 0 or EF_ENOMEM/EF_EINTERNAL. */
int ef_writer_start (ef_writer_t *self);
/*  Queue a request (ownership passes until it is posted to done). */
void ef_writer_submit (ef_writer_t *self, ef_wreq_t *wreq);
/*  The pipeline engine the writer runs (for apply functions: writer
    thread only). */
struct ef_engine *ef_writer_engine (ef_writer_t *self);
/*  CREATE_STREAM and UPDATE_STREAM of stream num (0: a new one) under
    name, with w's pipeline: when the org's routes would then form a
    cycle, w is refused (status EF_EINVAL, why "invalid pipeline: route
    cycle: a -> b -> a", kept in w; why_at "/pipeline") and 0 returned; else 0, or a store
    error (writer thread). */
int ef_writer_check_routes (ef_writer_t *self, ef_store_txn_t *txn,
                            ef_wreq_t *w, uint32_t num, ef_str_t name);
/*  Run retention (ef_retention_pass) every interval_ms between write
    groups, in transactions of at most 1000 deletions (sooner again while
    there is more). 0 = never (the default). Before start. */
void ef_writer_set_retention (ef_writer_t *self, uint64_t interval_ms);
/*  Jobs are due at `at` (writer thread: from an apply function). */
void ef_writer_wake_engine (ef_writer_t *self, uint64_t at);
/*  Drop the cached head of a deleted stream (writer thread: from an apply
    function). */
void ef_writer_forget_stream (ef_writer_t *self, uint32_t num);
/*  Finish every submitted request, then stop the thread. */
void ef_writer_stop (ef_writer_t *self);
/*  Stop if running, then free. Safe on NULL; clears *self_p. */
void ef_writer_destroy (ef_writer_t **self_p);

#endif
