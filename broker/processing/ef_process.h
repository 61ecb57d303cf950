/*  ef_process.h: the records of processing, in the store: each event's
    processing state (status, attempts, last error, result), its history
    (every step's attempt and its outcome, the newest EF_HISTORY_MAX), the pipeline
    jobs ordered by when they are due (so scheduled retries survive a
    restart), and the dead-letter queue.
    Thread-safety: functions take the caller's transaction. */
#ifndef EF_PROCESS_H
#define EF_PROCESS_H

#include <stdint.h>
#include "eventflow/ef_mp.h"
#include "ef_store.h"

typedef enum {
    EF_STATUS_PENDING = 0,
    EF_STATUS_PROCESSED,
    EF_STATUS_FILTERED,
    EF_STATUS_FAILED
} ef_status_t;

/*  "PENDING" etc. */
const char *ef_status_name (int status);

#define EF_ERROR_TEXT 256

typedef struct {
    int status;
    uint32_t attempts; /* of the current step */
    uint32_t step;     /* the step the job is at */
    int inflight;      /* a worker has the job (its due is the timeout) */
    uint64_t job_due;  /* the job's key, while there is one (0: none) */
    uint64_t first_failure;
    char last_error[EF_ERROR_TEXT];
    ef_str_t result; /* JSON text: the payload as the steps left it */
    uint64_t processed_at;
    uint32_t hops;       /* routes that led to this event (0: published) */
    uint64_t dispatches; /* worker attempts handed out, ever: the current
                            one's number is in its job id */
} ef_state_t;

/*  The state of (num, seq); EF_ENOTFOUND when it has none (events of
    streams without a pipeline). Strings point into the store (valid
    until the transaction ends). */
int ef_process_state_get (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                          ef_state_t *st);
/*  Read a stored state value (as ef_process_state_get does). */
int ef_process_state_parse (ef_str_t v, ef_state_t *st);
int ef_process_state_put (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                          const ef_state_t *st);

/*  History: one entry per step attempt, oldest first. Strings are the
    caller's when adding, point into the store when read. */
#define EF_HISTORY_MAX 32

typedef struct {
    uint32_t step;       /* the step's index in the pipeline */
    const char *kind;    /* "filter", "transform", "route", "worker" */
    ef_str_t service;    /* a worker step's service (unset otherwise) */
    uint64_t started_at; /* ms */
    uint64_t duration_ms;
    const char *outcome; /* "done", "failed", "timed_out", "filtered",
                             "routed", "route_failed", "patch_failed",
                             "not_json", "dead" */
    ef_str_t error;      /* unset: none */
    ef_str_t routed_to;  /* a route's stream id and the copy's event id */
    ef_str_t routed_id;
    ef_str_t worker; /* a worker step's worker (ef_workers_id), if known */
} ef_attempt_t;

/*  Add attempt a to the history of (num, seq) (write txn); past
    EF_HISTORY_MAX the oldest go, counted as dropped. */
int ef_process_history_add (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                            const ef_attempt_t *a);
/*  Visit the history of (num, seq), oldest first; *dropped gets how many
    older attempts are no longer kept. 0 with none visited when it has no
    history; fn returns non-zero to stop. */
typedef int (ef_attempt_fn) (void *arg, const ef_attempt_t *a);
int ef_process_history_each (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                             ef_attempt_fn *fn, void *arg, uint64_t *dropped);

/*  Jobs: (due, num, seq) → nothing more (the state holds the rest). */
int ef_process_job_put (ef_store_txn_t *txn, uint64_t due, uint32_t num,
                        uint64_t seq);
int ef_process_job_del (ef_store_txn_t *txn, uint64_t due, uint32_t num,
                        uint64_t seq);
typedef struct {
    uint64_t due;
    uint32_t num;
    uint64_t seq;
} ef_job_t;
/*  Up to max jobs due at now or before, earliest first; *n gets how many,
    *next the due time of the first later job (0 when none). */
int ef_process_jobs_due (ef_store_txn_t *txn, uint64_t now, ef_job_t *jobs,
                         uint32_t max, uint32_t *n, uint64_t *next);

/*  Dead letters. */
typedef struct {
    uint32_t num;
    uint64_t seq;
    uint32_t org;
    uint32_t step;
    uint32_t attempts;
    char error[EF_ERROR_TEXT];
    uint64_t first_failure;
    uint64_t last_failure;
} ef_dead_t;

int ef_process_dlq_put (ef_store_txn_t *txn, const ef_dead_t *d);
int ef_process_dlq_get (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                        ef_dead_t *d);
int ef_process_dlq_del (ef_store_txn_t *txn, uint32_t num, uint64_t seq);
typedef int (ef_dead_fn) (void *arg, const ef_dead_t *d);
/*  Every dead letter of org (0: all), in (stream, seq) order. */
int ef_process_dlq_each (ef_store_txn_t *txn, uint32_t org, ef_dead_fn *fn,
                         void *arg);
/*  Every dead letter of stream num, in seq order. */
int ef_process_dlq_each_stream (ef_store_txn_t *txn, uint32_t num,
                                ef_dead_fn *fn, void *arg);
/*  How many dead letters there are (all orgs). */
int ef_process_dlq_count (ef_store_txn_t *txn, uint64_t *n);
/*  How many dead letters stream num holds, or org when num is 0 (no
    walk: ef_store_dlq_size). */
int ef_process_dlq_size (ef_store_txn_t *txn, uint32_t org, uint32_t num,
                         uint64_t *n);

#endif
