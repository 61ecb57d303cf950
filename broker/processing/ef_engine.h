/*  ef_engine.h: runs the pipelines (ef_pipeline.h) of stored events, in
    the writer's thread and transactions: every event of a stream with a
    pipeline gets a job when it is stored (in the same transaction, so
    nothing is lost in a crash); due jobs run their steps; a worker step
    hands the event to the reactor for a worker and waits for its answer
    (the job stays due at the end of the step's timeout, so that a broker
    restart retries it); failures retry with backoff and jitter until
    max_attempts, then go to the dead-letter queue.
    Thread-safety: the writer's thread only. */
#ifndef EF_ENGINE_H
#define EF_ENGINE_H

#include <stdint.h>
#include "eventflow/ef_log.h"
#include "eventflow/ef_uuid.h"
#include "ef_metrics.h"
#include "ef_series.h"
#include "ef_store.h"
#include "ef_wreq.h"

typedef struct ef_engine ef_engine_t;

/*  The writer's append (its head cache): store record as the next event
    of stream num; *seq gets its seq. */
typedef int (ef_engine_append_fn) (void *arg, ef_store_txn_t *txn, uint32_t num,
                                   const ef_uuid_t *id, const void *record,
                                   size_t len, uint64_t *seq);
/*  Hand a worker job (a request flagged EF_WREQ_JOB, malloc'ed; the
    receiver frees it with ef_engine_job_free) to the reactor; its
    req.job_id is the attempt's id, which its answer must carry. */
typedef void (ef_engine_dispatch_fn) (void *arg, ef_wreq_t *job);

ef_engine_t *ef_engine_new (ef_engine_append_fn *append,
                            ef_engine_dispatch_fn *dispatch, void *arg,
                            ef_metrics_t *metrics, ef_log_t *log);
void ef_engine_destroy (ef_engine_t **self_p);

/*  A new event of a stream with a pipeline: state PENDING, job due now. */
int ef_engine_enqueue (ef_engine_t *self, ef_store_txn_t *txn, uint32_t num,
                       uint64_t seq, uint64_t now);
/*  Run the jobs due at now (at most a batch); *next gets when the next
    job is due (0: none). */
int ef_engine_run (ef_engine_t *self, ef_store_txn_t *txn, uint64_t now,
                   uint64_t *next);
/*  A worker's answer for the attempt job_id (as the job carried it): ok
    with result (JSON text, may be unset), or a failure with its reason
    (retryable or not); worker: the worker's id (ef_workers_id; unset:
    not known), kept in the attempt's history. An answer for an attempt
    that is not the event's current one (it timed out, or was answered)
    changes nothing. A result larger than max_payload makes the event
    FAILED, in the dead-letter queue. */
int ef_engine_outcome (ef_engine_t *self, ef_store_txn_t *txn, ef_str_t job_id,
                       int ok, ef_str_t result, ef_str_t error, int retryable,
                       ef_str_t worker, uint64_t now);
/*  A job id's parts: "NUM.SEQ.ATTEMPT" (stream number, seq, and the
    number of the attempt among all of the event's). 0 or EF_EINVAL. */
int ef_engine_job_id (ef_str_t id, uint32_t *num, uint64_t *seq,
                      uint64_t *attempt);
/*  Whether the org's streams' routes would form a cycle through stream
    num (0: one being created), or fan out too far (ef_routes.h), once it
    has the name and pipeline given (pipeline: JSON text; unset: the
    stream's own; empty: none). 0 when not; EF_EINVAL with why = "route
    cycle: a -> b -> a" or "route fan-out: …"; a store error. Reads
    only. With self NULL the pipelines are compiled anew rather than
    taken from the engine's cache, so any thread may check (CHECK_STREAM,
    on the reactor's snapshot). */
int ef_engine_check_routes (ef_engine_t *self, ef_store_txn_t *txn,
                            uint32_t org, uint32_t num, ef_str_t name,
                            ef_str_t pipeline, char *why, size_t why_len);
/*  Documents made by transforms and workers' results are at most
    max_payload bytes (default 1 MiB); one event goes through at most
    max_hops routes (default 8), then FAILED. */
void ef_engine_set_limits (ef_engine_t *self, size_t max_payload,
                           uint32_t max_hops);
/*  Replay a dead letter: attempts reset, PENDING, its job due now. */
int ef_engine_replay (ef_engine_t *self, ef_store_txn_t *txn, uint32_t num,
                      uint64_t seq, uint64_t now);
/*  A stream's pipeline changed or the stream went: compile it again. */
void ef_engine_forget (ef_engine_t *self, uint32_t num);
/*  Ask room before handing a worker job out (NULL: never wait). */
struct ef_room;
void ef_engine_set_room (ef_engine_t *self, struct ef_room *room);
/*  The CPU ms one filter step's schema check may take (0: only the
    schema's own work budget); over it the event is FAILED, in the DLQ
    with EF_SCHEMA_BUDGET_MSG. A pass stops taking jobs once its filter
    checks spent as much in all (the rest stay due for the next pass), so
    the writer turns back to waiting publishes. */
void ef_engine_set_schema_budget (ef_engine_t *self, uint32_t ms);
/*  Count each processing latency in series too, per org and stream
    (NULL: only in the metrics). Before the writer starts. */
void ef_engine_set_series (ef_engine_t *self, ef_series_t *series);

/*  Free a dispatched job. */
void ef_engine_job_free (ef_wreq_t *job);

#endif
