/*  ef_validator.c: a pool of schema-check threads, one queue each, fed by
    org (see ef_validator.h). */
#include "ef_validator.h"
#include "ef_schema.h"
#include "eventflow/ef_error.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_THREADS 8
#define S_MAX_ERRORS  8 /* failing paths told per refused payload */

typedef struct {
    ef_validator_t *owner;
    ef_mailbox_t *in;
    pthread_t thread;
    int started;
} s_lane_t;

struct ef_validator {
    ef_mailbox_t *done;
    s_lane_t lanes[S_MAX_THREADS];
    uint32_t nlanes;
    uint32_t max_queue;
    uint32_t event_ms, request_ms;
};

/*  Refuse item res of w: the budget ran out. */
static void
s_over_budget (ef_wresult_t *res)
{
    res->code = EF_EVALIDATION;
    res->err_msg = EF_SCHEMA_BUDGET_MSG;
    res->msg_off = res->msg_len = 0;
}

/*  Every failing path of a payload, as "path: message; …" in records. */
static void
s_refuse (ef_wreq_t *w, ef_wresult_t *res, const ef_schema_error_t *errs,
          uint32_t n)
{
    res->code = EF_EVALIDATION;
    res->err_msg = "the payload does not match the stream's schema";
    res->msg_off = (uint32_t) w->records.len;
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            ef_buf_append (&w->records, "; ", 2);
        const char *path = errs[i].path[0] ? errs[i].path : "/";
        ef_buf_append (&w->records, path, strlen (path));
        ef_buf_append (&w->records, ": ", 2);
        ef_buf_append (&w->records, errs[i].message, strlen (errs[i].message));
    }
    res->msg_len = (uint32_t) w->records.len - res->msg_off;
}

void
ef_validator_check (ef_wreq_t *w, uint32_t event_ms, uint32_t request_ms)
{
    const int64_t ms = 1000000;
    int64_t start = ef_schema_cpu_now_ns ();
    int64_t request_end = request_ms ? start + request_ms * ms : 0;
    for (uint32_t i = 0; w->schema && i < w->req.n_events; i++) {
        ef_wresult_t *res = &w->results[i];
        if (res->code)
            continue;
        int64_t now = ef_schema_cpu_now_ns ();
        if (request_end && now >= request_end) {
            s_over_budget (res); /* the request's budget is spent */
            continue;
        }
        ef_schema_budget_t b = {0};
        if (event_ms)
            b.cpu_until_ns = now + event_ms * ms;
        if (request_end && (!b.cpu_until_ns || b.cpu_until_ns > request_end))
            b.cpu_until_ns = request_end;
        ef_schema_error_t errs[S_MAX_ERRORS];
        uint32_t n = 0;
        int rc = ef_schema_validate_budget (w->schema, res->payload.ptr,
                                            res->payload.len, &b, errs,
                                            S_MAX_ERRORS, &n);
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
    ef_schema_destroy (&w->schema);
}

static void *
s_run (void *arg)
{
    s_lane_t *lane = arg;
    ef_validator_t *self = lane->owner;
    ef_wreq_t *w;
    while ((w = ef_mailbox_wait (lane->in, 1))) {
        ef_validator_check (w, self->event_ms, self->request_ms);
        w->next = NULL;
        ef_mailbox_post (self->done, w);
    }
    return NULL;
}

ef_validator_t *
ef_validator_new (uint32_t threads, uint32_t max_queue, uint32_t event_ms,
                  uint32_t request_ms, ef_mailbox_t *done)
{
    ef_validator_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->done = done;
    self->nlanes = threads < 1 ? 1 : threads > S_MAX_THREADS ? S_MAX_THREADS
                                                             : threads;
    self->max_queue = max_queue ? max_queue : 1;
    self->event_ms = event_ms;
    self->request_ms = request_ms;
    for (uint32_t i = 0; i < self->nlanes; i++) {
        self->lanes[i].owner = self;
        if (!(self->lanes[i].in = ef_mailbox_new ())) {
            ef_validator_destroy (&self);
            return NULL;
        }
    }
    return self;
}

int
ef_validator_start (ef_validator_t *self)
{
    for (uint32_t i = 0; i < self->nlanes; i++) {
        s_lane_t *lane = &self->lanes[i];
        if (lane->started)
            continue;
        if (pthread_create (&lane->thread, NULL, s_run, lane))
            return EF_EINTERNAL;
        lane->started = 1;
    }
    return 0;
}

int
ef_validator_submit (ef_validator_t *self, ef_wreq_t *w)
{
    s_lane_t *lane = &self->lanes[w->org % self->nlanes];
    if (ef_mailbox_size (lane->in) >= self->max_queue)
        return EF_EUNAVAILABLE;
    w->next = NULL;
    ef_mailbox_post (lane->in, w);
    return 0;
}

void
ef_validator_destroy (ef_validator_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_validator_t *self = *self_p;
    for (uint32_t i = 0; i < self->nlanes; i++)
        if (self->lanes[i].in)
            ef_mailbox_close (self->lanes[i].in);
    for (uint32_t i = 0; i < self->nlanes; i++)
        if (self->lanes[i].started)
            pthread_join (self->lanes[i].thread, NULL);
    for (uint32_t i = 0; i < self->nlanes; i++)
        ef_mailbox_destroy (&self->lanes[i].in);
    free (self);
    *self_p = NULL;
}
