/*  ef_validator.c: a pool of schema-check threads shared round robin
    between orgs (see ef_validator.h). Each org with work waiting has a
    lane in a fair queue (ef_fairq.h); a thread holds the lane whose turn
    it is, checks a slice of its first request, and gives the lane back,
    to wait for its next turn (or to go when it is empty). */
#include "ef_validator.h"
#include "ef_fairq.h"
#include "ef_schema.h"
#include "eventflow/ef_error.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_THREADS 8
#define S_MAX_ERRORS  8 /* failing paths told per refused payload */
#define S_MS          1000000LL

struct ef_validator {
    ef_mailbox_t *done;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ef_fairq_t *queue; /* requests queued or in hand, by org */
    pthread_t threads[S_MAX_THREADS];
    uint32_t nthreads, started;
    int64_t event_ns, request_ns;
};

/* ---------------------------------------------------------------- checks */

/*  Refuse an item: the budget ran out. */
static void
s_over_budget (ef_wresult_t *res)
{
    res->code = EF_EVALIDATION;
    res->err_msg = EF_SCHEMA_BUDGET_MSG;
    res->msg_off = res->msg_len = 0;
    res->errs_off = res->errs_len = 0;
}

/*  Every failing path of a payload, in records: as "path: message; …"
    (the message, for clients that read only it) and as the array of
    {path, message} that travels in the result's errors. */
static void
s_refuse (ef_wreq_t *w, ef_wresult_t *res, const ef_schema_error_t *errs,
          uint32_t n)
{
    res->code = EF_EVALIDATION;
    res->err_msg = "the payload does not match the stream's schema";
    res->msg_off = (uint32_t)w->records.len;
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            ef_buf_append (&w->records, "; ", 2);
        const char *path = errs[i].path[0] ? errs[i].path : "/";
        ef_buf_append (&w->records, path, strlen (path));
        ef_buf_append (&w->records, ": ", 2);
        ef_buf_append (&w->records, errs[i].message, strlen (errs[i].message));
    }
    res->msg_len = (uint32_t)w->records.len - res->msg_off;
    res->errs_off = (uint32_t)w->records.len;
    ef_mp_array (&w->records, n);
    for (uint32_t i = 0; i < n; i++)
        ef_proto_write_field_error (&w->records, errs[i].path, errs[i].message);
    res->errs_len = (uint32_t)w->records.len - res->errs_off;
}

/*  Check w's items from w->check_next on, until they are all done (1) or
    this slice has spent event_ns (0: to be continued). The request's CPU
    so far is in w->check_ns; once it passes request_ns, the items left
    are refused unchecked. */
static int
s_slice (ef_validator_t *self, ef_wreq_t *w)
{
    int64_t start = ef_schema_cpu_now_ns (), now = start;
    int64_t request_end = start + (self->request_ns - w->check_ns);
    for (; w->schema && w->check_next < w->req.n_events; w->check_next++) {
        ef_wresult_t *res = &w->results[w->check_next];
        if (res->code)
            continue;
        if (now >= request_end) {
            s_over_budget (res); /* the request's budget is spent */
            continue;
        }
        if (now - start >= self->event_ns)
            break; /* the slice is over: other orgs' turn */
        ef_schema_budget_t b = {0};
        b.cpu_until_ns = now + self->event_ns;
        if (b.cpu_until_ns > request_end)
            b.cpu_until_ns = request_end;
        ef_schema_error_t errs[S_MAX_ERRORS];
        uint32_t n = 0;
        int rc = ef_schema_validate_budget (w->schema, res->payload.ptr,
                                            res->payload.len, &b, errs,
                                            S_MAX_ERRORS, &n);
        now = ef_schema_cpu_now_ns ();
        if (rc == 0)
            continue;
        if (b.exceeded)
            s_over_budget (res);
        else if (rc == EF_ENOMEM) {
            res->code = EF_ENOMEM;
            res->err_msg = "out of memory while checking the schema";
        } else
            s_refuse (w, res, errs, n);
    }
    w->check_ns += now - start;
    if (w->schema && w->check_next < w->req.n_events)
        return 0;
    ef_schema_destroy (&w->schema);
    return 1;
}

/* ---------------------------------------------------------------- queues */

static void *
s_run (void *arg)
{
    ef_validator_t *self = arg;
    pthread_mutex_lock (&self->mu);
    for (;;) {
        ef_fairq_lane_t *lane;
        ef_wreq_t *w = ef_fairq_hold (self->queue, &lane);
        if (!w) {
            if (ef_fairq_closed (self->queue) && !ef_fairq_count (self->queue))
                break;
            pthread_cond_wait (&self->cv, &self->mu);
            continue;
        }
        int finished;
        if (ef_fairq_closed (self->queue)) {
            /* stopping: what waits is answered now, not checked */
            w->status = EF_EUNAVAILABLE;
            w->why = "the broker is stopping";
            finished = 1;
        } else {
            /* the lane is this thread's until it is released */
            pthread_mutex_unlock (&self->mu);
            finished = s_slice (self, w);
            pthread_mutex_lock (&self->mu);
        }
        ef_fairq_release (self->queue, lane, finished);
        if (finished) {
            w->next = NULL;
            ef_mailbox_post (self->done, w);
        }
        if (ef_fairq_closed (self->queue) && !ef_fairq_count (self->queue))
            pthread_cond_broadcast (&self->cv);
    }
    pthread_mutex_unlock (&self->mu);
    return NULL;
}

/* ---------------------------------------------------------------- api */

ef_validator_t *
ef_validator_new (uint32_t threads, uint32_t per_org, uint32_t max_queue,
                  uint32_t event_ms, uint32_t request_ms, ef_mailbox_t *done)
{
    ef_validator_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->done = done;
    self->nthreads = threads < 1               ? 1
                     : threads > S_MAX_THREADS ? S_MAX_THREADS
                                               : threads;
    self->event_ns = (event_ms ? event_ms : 1) * S_MS;
    self->request_ns = (request_ms ? request_ms : 1) * S_MS;
    self->queue = ef_fairq_new (max_queue, per_org);
    if (!self->queue) {
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->mu, NULL);
    pthread_cond_init (&self->cv, NULL);
    return self;
}

int
ef_validator_start (ef_validator_t *self)
{
    for (; self->started < self->nthreads; self->started++)
        if (pthread_create (&self->threads[self->started], NULL, s_run, self))
            return EF_EINTERNAL;
    return 0;
}

int
ef_validator_submit (ef_validator_t *self, ef_wreq_t *w)
{
    pthread_mutex_lock (&self->mu);
    w->next = NULL;
    w->check_next = 0;
    w->check_ns = 0;
    int rc = ef_fairq_push (self->queue, w->org, w);
    if (rc == 0)
        pthread_cond_signal (&self->cv);
    pthread_mutex_unlock (&self->mu);
    return rc;
}

void
ef_validator_destroy (ef_validator_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_validator_t *self = *self_p;
    pthread_mutex_lock (&self->mu);
    ef_fairq_close (self->queue);
    pthread_cond_broadcast (&self->cv);
    pthread_mutex_unlock (&self->mu);
    for (uint32_t i = 0; i < self->started; i++)
        pthread_join (self->threads[i], NULL);
    pthread_mutex_destroy (&self->mu);
    pthread_cond_destroy (&self->cv);
    ef_fairq_destroy (&self->queue);
    free (self);
    *self_p = NULL;
}
