/*  ef_worker.h: a pipeline worker (DESIGN.md §6). It attaches to the
    broker under a service name with a capacity (jobs it runs at once);
    the broker sends it jobs of worker steps: the event, and the payload
    as the earlier steps left it. For each job the handler says done (with
    an optional JSON result, which becomes the payload of the steps that
    follow and the event's result) or failed (with a reason; retryable
    failures run again later with backoff, others go straight to the
    dead-letter queue). No answer within the step's timeout counts as a
    failure, and so does the worker's disconnect. Heartbeats go both ways
    every second: the broker drops a worker silent for three seconds (its
    jobs run elsewhere), and ef_worker_broker_alive tells whether the
    broker is heard. ef_worker_destroy says LEAVE to the broker.

        ef_worker_t *wk = ef_worker_new (client, "enrich", 4);
        ef_worker_start (wk);
        while (running)
            ef_worker_poll (wk, 500, handle, NULL);

    A handler may run as long as the step's timeout_ms allows: while it
    runs, a thread of the worker's holds the client and goes on saying
    READY, so the broker never takes a busy worker for a dead one. The
    handler must not use the worker's client (it is the keeper's until
    the handler returns). When the connection is lost (the broker
    stopped or restarted), the worker keeps polling: it attaches again
    by itself as soon as a connection is back; answers that could not be
    sent are runs the broker counts as failed and runs again.

    Thread-safety: as its client (one thread; the keeper thread is the
    worker's own business). The worker owns the client's push handler
    while it exists: a client is a worker or a consumer, not both. */
#ifndef EF_WORKER_H
#define EF_WORKER_H

#include "eventflow/ef_client.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    ef_str_t job_id;
    ef_str_t service;
    uint32_t attempt;     /* 1 for the first */
    ef_str_t payload;     /* JSON text: what this step works on */
    ef_event_t event;     /* the stored event */
    ef_str_t request_id;  /* the publishing request's id, when it had one */
    ef_str_t traceparent; /* W3C, parent: the event, when it has a trace */
} ef_job_t;

typedef struct {
    int ok;             /* 1 done, 0 failed */
    const char *result; /* done: JSON text or NULL */
    const char *reason; /* failed: why */
    int retryable;      /* failed: may it run again (default 1) */
} ef_job_outcome_t;

/*  Handle one job and fill out (which starts as done, no result). */
typedef void (ef_job_fn) (void *arg, const ef_job_t *job,
                          ef_job_outcome_t *out);

typedef struct ef_worker ef_worker_t;

ef_worker_t *ef_worker_new (ef_client_t *client, const char *service,
                            uint32_t capacity);
void ef_worker_destroy (ef_worker_t **self_p);
/*  Attach (READY). 0 or an error. */
int ef_worker_start (ef_worker_t *self);
/*  Wait up to timeout_ms for jobs, run fn on each and answer them; says
    READY again every second as a heartbeat (also while fn runs). The
    number of jobs handled, or an error (a lost connection is not one). */
int ef_worker_poll (ef_worker_t *self, int timeout_ms, ef_job_fn *fn,
                    void *arg);

/*  Whether the broker's heartbeat (every second) came within the last
    three seconds. While it is silent the worker keeps saying READY, so it
    is attached again as soon as the broker is back. */
int ef_worker_broker_alive (const ef_worker_t *self);

#ifdef __cplusplus
}
#endif
#endif
