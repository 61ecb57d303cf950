/*  ef_engine.c: the pipeline runner (see ef_engine.h). A job runs from the
    step its state records: filter, transform and route run at once; a
    worker step sends the event out and leaves the job due at its timeout.
    The payload the steps work on lives in the state's result between
    steps, so a worker's answer continues where the pipeline stopped. */
#include "ef_engine.h"
#include "ef_room.h"
#include "ef_pipeline.h"
#include "ef_process.h"
#include "ef_record.h"
#include "ef_routes.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_proto.h"
#include "eventflow/ef_time.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_BATCH    256
#define S_CACHE    64
#define S_MAX_JOBS 8192 /* worker jobs out at once */
#define S_JOB_ID   64   /* bytes of a job id, with its NUL */

typedef struct {
    uint32_t num;
    ef_pipeline_t *pipeline; /* NULL: the stream has none */
} s_cached_t;

struct ef_engine {
    ef_engine_append_fn *append;
    ef_engine_dispatch_fn *dispatch;
    void *arg;
    ef_room_t *room;
    int busy;               /* a job waited for room in this pass */
    uint32_t schema_ms;     /* CPU per filter check, and per pass in all */
    int64_t pass_schema_ns; /* spent by this pass's filter checks */
    ef_metrics_t *metrics;
    ef_series_t *series; /* per-second figures (may be NULL) */
    ef_log_t *log;
    size_t max_payload; /* documents of transforms, workers' results */
    uint32_t max_hops;  /* routes one event may go through */
    s_cached_t cache[S_CACHE];
    ef_uuid_gen_t uuids;
    ef_buf_t record;
};

void
ef_engine_set_room (ef_engine_t *self, ef_room_t *room)
{
    self->room = room;
}

void
ef_engine_set_series (ef_engine_t *self, ef_series_t *series)
{
    self->series = series;
}

/*  One event's pipeline ended now: its latency since arrival, both on
    the wall clock (the passes' now is the steady clock of deadlines). */
static void
s_latency (ef_engine_t *self, const ef_stream_rec_t *s, uint64_t received_at)
{
    uint64_t now = ef_time_now_ms ();
    uint64_t ms = now > received_at ? now - received_at : 0;
    ef_metrics_latency (self->metrics, ms);
    ef_series_latency (self->series, now / 1000, s->org, s->name,
                       strlen (s->name), ms);
}

void
ef_engine_set_schema_budget (ef_engine_t *self, uint32_t ms)
{
    self->schema_ms = ms;
}

ef_engine_t *
ef_engine_new (ef_engine_append_fn *append, ef_engine_dispatch_fn *dispatch,
               void *arg, ef_metrics_t *metrics, ef_log_t *log)
{
    ef_engine_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->append = append;
    self->dispatch = dispatch;
    self->arg = arg;
    self->metrics = metrics;
    self->log = log;
    self->max_payload = 1u << 20;
    self->max_hops = 8;
    ef_uuid_gen_init (&self->uuids);
    ef_buf_init (&self->record);
    return self;
}

void
ef_engine_set_limits (ef_engine_t *self, size_t max_payload, uint32_t max_hops)
{
    self->max_payload = max_payload;
    self->max_hops = max_hops;
}

void
ef_engine_forget (ef_engine_t *self, uint32_t num)
{
    for (int i = 0; i < S_CACHE; i++)
        if (self->cache[i].num == num) {
            ef_pipeline_destroy (&self->cache[i].pipeline);
            self->cache[i].num = 0;
        }
}

void
ef_engine_destroy (ef_engine_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_engine_t *self = *self_p;
    for (int i = 0; i < S_CACHE; i++)
        ef_pipeline_destroy (&self->cache[i].pipeline);
    ef_buf_free (&self->record);
    free (self);
    *self_p = NULL;
}

void
ef_engine_job_free (ef_wreq_t *job)
{
    if (!job)
        return;
    ef_buf_free (&job->reply);
    ef_buf_free (&job->records);
    free (job);
}

/*  The stream's compiled pipeline (NULL: none, or it does not compile). */
static ef_pipeline_t *
s_pipeline (ef_engine_t *self, ef_store_txn_t *txn, uint32_t num,
            ef_stream_rec_t *s)
{
    if (ef_store_stream_get (txn, num, s))
        return NULL;
    for (int i = 0; i < S_CACHE; i++)
        if (self->cache[i].num == num)
            return self->cache[i].pipeline;
    if (!ef_str_set (s->pipeline))
        return NULL;
    int err;
    char why[256];
    ef_pipeline_t *p = ef_pipeline_compile (s->pipeline.ptr, s->pipeline.len,
                                            &err, why, sizeof why);
    int slot = (int)(num % S_CACHE);
    ef_pipeline_destroy (&self->cache[slot].pipeline);
    self->cache[slot].num = num;
    self->cache[slot].pipeline = p;
    return p;
}

/*  A new event's state: PENDING, its job due now; hops: the routes
    that brought it. */
static int
s_enqueue (ef_store_txn_t *txn, uint32_t num, uint64_t seq, uint64_t now,
           uint32_t hops)
{
    ef_state_t st;
    memset (&st, 0, sizeof st);
    st.status = EF_STATUS_PENDING;
    st.job_due = now;
    st.hops = hops;
    int rc = ef_process_state_put (txn, num, seq, &st);
    return rc ? rc : ef_process_job_put (txn, now, num, seq);
}

int
ef_engine_enqueue (ef_engine_t *self, ef_store_txn_t *txn, uint32_t num,
                   uint64_t seq, uint64_t now)
{
    (void)self;
    return s_enqueue (txn, num, seq, now, 0);
}

/* ---------------------------------------------------------------- steps */

/*  The end of a job: a final state, its job gone. */
static int
s_finish (ef_store_txn_t *txn, uint32_t num, uint64_t seq, ef_state_t *st,
          int status, ef_str_t result, uint64_t now)
{
    int rc = ef_process_job_del (txn, st->job_due, num, seq);
    if (rc)
        return rc;
    st->status = status;
    st->job_due = 0;
    st->result = result;
    st->processed_at = now;
    return ef_process_state_put (txn, num, seq, st);
}

/*  Add what step st->step did to the event's history: started at
    started, over at now; worker: who ran it (ef_workers_id), if known. */
static int
s_history (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
           const ef_state_t *st, const ef_step_t *step, const char *outcome,
           const char *error, uint64_t started, uint64_t now,
           const char *routed_to, const char *routed_id, ef_str_t worker)
{
    ef_attempt_t a;
    memset (&a, 0, sizeof a);
    a.step = st->step;
    a.kind = step ? ef_step_kind_name (step->kind) : "event";
    if (step && step->kind == EF_STEP_WORKER)
        a.service = ef_str (step->target);
    a.started_at = started;
    a.duration_ms = now > started ? now - started : 0;
    a.outcome = outcome;
    a.error = error && error[0] ? ef_str (error) : EF_STR_NULL;
    a.routed_to = routed_to ? ef_str (routed_to) : EF_STR_NULL;
    a.routed_id = routed_id ? ef_str (routed_id) : EF_STR_NULL;
    a.worker = worker;
    return ef_process_history_add (txn, num, seq, &a);
}

/*  A worker attempt's start: its job was due at its timeout. */
static uint64_t
s_started (const ef_state_t *st, const ef_step_t *step)
{
    return st->job_due > step->timeout_ms ? st->job_due - step->timeout_ms
                                          : st->job_due;
}

static int
s_dead (ef_engine_t *self, ef_store_txn_t *txn, const ef_stream_rec_t *s,
        uint64_t seq, ef_state_t *st, const char *error, uint64_t now)
{
    ef_dead_t d;
    memset (&d, 0, sizeof d);
    d.num = s->num;
    d.seq = seq;
    d.org = s->org;
    d.step = st->step;
    d.attempts = st->attempts;
    snprintf (d.error, sizeof d.error, "%s", error);
    d.first_failure = st->first_failure ? st->first_failure : now;
    d.last_failure = now;
    snprintf (st->last_error, sizeof st->last_error, "%s", error);
    int rc = ef_process_dlq_put (txn, &d);
    if (rc == 0)
        rc = s_finish (txn, s->num, seq, st, EF_STATUS_FAILED, st->result, now);
    ef_metrics_add (self->metrics, EF_M_DEAD, 1);
    return rc;
}

/*  A failed attempt of the worker step: again later, or dead. */
static int
s_failed (ef_engine_t *self, ef_store_txn_t *txn, const ef_stream_rec_t *s,
          uint64_t seq, ef_state_t *st, const ef_step_t *step,
          const char *outcome, const char *error, int retryable, uint64_t now,
          ef_str_t worker)
{
    int rc = s_history (txn, s->num, seq, st, step, outcome, error,
                        s_started (st, step), now, NULL, NULL, worker);
    if (rc)
        return rc;
    st->inflight = 0;
    if (!st->first_failure)
        st->first_failure = now;
    snprintf (st->last_error, sizeof st->last_error, "%s", error);
    if (!retryable || st->attempts >= step->max_attempts)
        return s_dead (self, txn, s, seq, st, error, now);
    uint64_t due = now + ef_pipeline_backoff (step, st->attempts + 1,
                                              randombytes_random ());
    rc = ef_process_job_del (txn, st->job_due, s->num, seq);
    if (rc == 0)
        rc = ef_process_job_put (txn, due, s->num, seq);
    st->job_due = due;
    ef_metrics_add (self->metrics, EF_M_RETRIES, 1);
    return rc ? rc : ef_process_state_put (txn, s->num, seq, st);
}

/*  Append the payload to the route's stream (same org), one hop further
    than the event st is the state of: EF_EINVAL with why set when the
    event has come through max_hops routes already (streams changed since
    their pipelines were checked for cycles may still loop), or when the
    stream is not there. to_id and ids get the stream's id and the copy's. */
static int
s_route (ef_engine_t *self, ef_store_txn_t *txn, const ef_stream_rec_t *from,
         const ef_state_t *st, const ef_step_t *step, const ef_event_t *ev,
         const char *payload, uint64_t now, char *why, size_t why_len,
         char to_id[EF_UUID_STRLEN + 1], char ids[EF_UUID_STRLEN + 1])
{
    ef_stream_rec_t to;
    if (st->hops >= self->max_hops) {
        snprintf (why, why_len,
                  "route hop limit: the event came through %u routes "
                  "(max_route_hops %u)",
                  st->hops, self->max_hops);
        return EF_EINVAL;
    }
    int rc = ef_store_stream_find (txn, from->org, ef_str (step->target), &to);
    if (rc) {
        snprintf (why, why_len, "the route's stream does not exist");
        return rc == EF_ENOTFOUND ? EF_EINVAL : rc;
    }
    ef_uuid_t id;
    memcpy (to_id, to.id, EF_UUID_STRLEN + 1);
    /* an event's time is the wall clock's, like a published one's (now is
       the steady clock of the deadlines) */
    uint64_t wall = ef_time_now_ms ();
    ef_uuid_gen_v7 (&self->uuids, wall, &id);
    ef_uuid_format (&id, ids);
    ef_event_t e = {0};
    e.event_id = (ef_str_t){ids, EF_UUID_STRLEN};
    e.type = ev->type;
    e.version = ev->version;
    e.occurred_at = ev->occurred_at;
    e.received_at = wall;
    e.source = ef_str ("route");
    e.trace_id = ev->trace_id;
    e.correlation_id = ev->event_id; /* where it came from */
    e.payload = ef_str (payload);
    ef_buf_reset (&self->record);
    ef_record_write (&self->record, &e, &id);
    if (self->record.oom)
        return EF_ENOMEM;
    uint64_t seq;
    rc = self->append (self->arg, txn, to.num, &id, self->record.data,
                       self->record.len, &seq);
    if (rc == 0 && ef_str_set (to.pipeline))
        rc = s_enqueue (txn, to.num, seq, now, st->hops + 1);
    if (rc == 0)
        ef_metrics_add (self->metrics, EF_M_PUBLISHED, 1);
    return rc;
}

/*  No worker of the step's service can take the job now: it waits in the
    store, its attempts untouched, and is looked at again later — soon for
    a fresh event, at most every 10 s for one that has waited long. */
static int
s_wait (ef_store_txn_t *txn, uint32_t num, uint64_t seq, ef_state_t *st,
        const ef_step_t *step, uint64_t received_at, uint64_t now)
{
    uint64_t age = now > received_at ? now - received_at : 0;
    uint64_t wait = age / 8 < 1000 ? 1000 : age / 8 > 10000 ? 10000 : age / 8;
    int rc = ef_process_job_del (txn, st->job_due, num, seq);
    if (rc == 0)
        rc = ef_process_job_put (txn, now + wait, num, seq);
    st->job_due = now + wait;
    snprintf (st->last_error, sizeof st->last_error,
              "waiting for a worker of %s", step->target);
    return rc ? rc : ef_process_state_put (txn, num, seq, st);
}

/*  Give the event to a worker of the step's service. */
static int
s_dispatch (ef_engine_t *self, ef_store_txn_t *txn, const ef_stream_rec_t *s,
            uint64_t seq, ef_state_t *st, const ef_step_t *step,
            ef_str_t record, const char *payload, uint64_t now)
{
    ef_wreq_t *job = calloc (1, sizeof *job);
    if (!job)
        return EF_ENOMEM;
    ef_buf_init (&job->reply);
    ef_buf_init (&job->records);
    job->internal = EF_WREQ_JOB;
    job->org = s->org; /* for workers of this org only */
    job->stream.num = s->num;
    memcpy (job->stream.id, s->id, sizeof job->stream.id);
    job->req.after = seq;
    job->req.timeout = step->timeout_ms;
    ef_buf_append (&job->records, step->target, strlen (step->target) + 1);
    /* the frame a worker gets: the event, its payload as the steps left
       it, and the job id to answer with: this attempt's own (stream
       number, seq and the attempt's number), so that an answer for an
       attempt that timed out is told from the live one's */
    char jid[S_JOB_ID];
    st->dispatches++;
    snprintf (jid, sizeof jid, "%u.%llu.%llu", s->num, (unsigned long long)seq,
              (unsigned long long)st->dispatches);
    ef_buf_append (&job->records, jid, strlen (jid) + 1);
    ef_proto_reply_ok (&job->reply, 0, 2);
    ef_mp_key (&job->reply, "push");
    ef_mp_bool (&job->reply, 1);
    /* the publishing request's id and trace go with the job (protocol.md
       "Processing"): the trace with the event as its parent span */
    ef_event_t ev = {0};
    char tp[56] = "", id[EF_UUID_STRLEN + 1];
    ef_record_read (record, &ev, id);
    if (ev.trace_id.len == 32 && ev.event_id.len == 36)
        snprintf (tp, sizeof tp, "00-%.32s-%.4s%.12s-01", ev.trace_id.ptr,
                  ev.event_id.ptr + 19, ev.event_id.ptr + 24);
    if (tp[0] && ef_proto_traceparent (ef_str (tp), NULL))
        tp[0] = 0;
    ef_mp_key (&job->reply, "job");
    ef_mp_map (&job->reply, 5 + !!ef_str_set (ev.request_id) + !!tp[0]);
    if (ef_str_set (ev.request_id)) {
        ef_mp_key (&job->reply, "request_id");
        ef_mp_xstr (&job->reply, ev.request_id);
    }
    if (tp[0]) {
        ef_mp_key (&job->reply, "traceparent");
        ef_mp_cstr (&job->reply, tp);
    }
    ef_mp_key (&job->reply, "job_id");
    ef_mp_cstr (&job->reply, jid);
    ef_mp_key (&job->reply, "service");
    ef_mp_cstr (&job->reply, step->target);
    ef_mp_key (&job->reply, "attempt");
    ef_mp_uint (&job->reply, st->attempts + 1);
    ef_mp_key (&job->reply, "payload");
    ef_mp_cstr (&job->reply, payload);
    ef_mp_key (&job->reply, "event");
    ef_proto_write_event_head (&job->reply, ef_str (s->id), seq);
    ef_record_write_pairs (&job->reply, record);
    ef_event_t state = {0};
    state.status = ef_str ("PENDING");
    state.attempts = st->attempts;
    ef_proto_write_event_state (&job->reply, &state);
    if (job->reply.oom || job->records.oom) {
        ef_engine_job_free (job);
        return EF_ENOMEM;
    }
    /* the service and the job id, in records (it does not move now) */
    job->req.name = ef_str (job->records.data);
    job->req.job_id = ef_str (job->records.data + job->req.name.len + 1);
    /* due again at the timeout: if no answer comes (or the broker stops),
       the attempt counts as failed then */
    uint64_t due = now + step->timeout_ms;
    int rc = ef_process_job_del (txn, st->job_due, s->num, seq);
    if (rc == 0)
        rc = ef_process_job_put (txn, due, s->num, seq);
    st->job_due = due;
    st->attempts++;
    st->inflight = 1;
    if (rc == 0)
        rc = ef_process_state_put (txn, s->num, seq, st);
    if (rc) {
        ef_engine_job_free (job);
        return rc;
    }
    self->dispatch (self->arg, job);
    return 0;
}

/*  Attempts count per worker step; the last worker step's stay, so a
    processed event tells how many tries its worker needed. */
static void
s_next_step_attempts (const ef_pipeline_t *p, ef_state_t *st)
{
    for (uint32_t i = st->step; p && i < p->n; i++)
        if (p->steps[i].kind == EF_STEP_WORKER) {
            st->attempts = 0;
            st->first_failure = 0;
            return;
        }
}

/*  Run (num, seq) from its state's step on. value: the payload the steps
    work on (owned; consumed). */
static int
s_run_steps (ef_engine_t *self, ef_store_txn_t *txn, uint32_t num, uint64_t seq,
             ef_state_t *st, json_t *value, uint64_t now)
{
    ef_stream_rec_t s;
    ef_pipeline_t *p = s_pipeline (self, txn, num, &s);
    ef_str_t record;
    ef_event_t ev = {0};
    int rc = ef_store_event_get (txn, num, seq, &record);
    if (rc) {
        json_decref (value);
        /* the event went (its stream deleted): so does its job */
        return ef_process_job_del (txn, st->job_due, num, seq);
    }
    char id[EF_UUID_STRLEN + 1];
    ef_record_read (record, &ev, id);
    if (!value) {
        json_error_t jerr;
        ef_str_t from = ef_str_set (st->result) ? st->result : ev.payload;
        value = json_loadb (from.ptr, from.len, JSON_DECODE_ANY, &jerr);
        if (!value) {
            rc = s_history (txn, num, seq, st, NULL, "not_json",
                            "the payload is not JSON", now, now, NULL, NULL,
                            EF_STR_NULL);
            return rc ? rc
                      : s_dead (self, txn, &s, seq, st,
                                "the payload is not JSON", now);
        }
    }
    int changed = ef_str_set (st->result);
    char *text = NULL;
    rc = 0;
    while (rc == 0 && p && st->step < p->n) {
        const ef_step_t *step = &p->steps[st->step];
        free (text);
        text = json_dumps (value, JSON_COMPACT | JSON_ENCODE_ANY |
                                      JSON_REAL_PRECISION (17));
        if (!text) {
            rc = EF_ENOMEM;
            break;
        }
        if (step->kind == EF_STEP_FILTER) {
            /* the writer waits for this check: it gets the same budget
               as a published event's, and over it the event FAILS */
            ef_schema_budget_t b = {0};
            int64_t t0 = self->schema_ms ? ef_schema_cpu_now_ns () : 0;
            if (self->schema_ms)
                b.cpu_until_ns = t0 + (int64_t)self->schema_ms * 1000000;
            int bad = ef_schema_validate_json_budget (step->schema, value, &b,
                                                      NULL, 0, NULL);
            if (self->schema_ms)
                self->pass_schema_ns += ef_schema_cpu_now_ns () - t0;
            rc = s_history (txn, num, seq, st, step,
                            bad && b.exceeded ? "failed"
                            : bad             ? "filtered"
                                              : "done",
                            bad && b.exceeded ? EF_SCHEMA_BUDGET_MSG : NULL,
                            now, now, NULL, NULL, EF_STR_NULL);
            if (rc)
                break;
            if (bad && b.exceeded) {
                rc = s_dead (self, txn, &s, seq, st, EF_SCHEMA_BUDGET_MSG, now);
                goto done;
            }
            if (bad) {
                rc = s_finish (txn, num, seq, st, EF_STATUS_FILTERED,
                               EF_STR_NULL, now);
                s_latency (self, &s, ev.received_at);
                goto done;
            }
        } else if (step->kind == EF_STEP_TRANSFORM) {
            int err;
            char why[256];
            json_t *next = ef_patch_apply_json (
                step->patch, value, self->max_payload, &err, why, sizeof why);
            rc = s_history (txn, num, seq, st, step,
                            next ? "done" : "patch_failed", next ? NULL : why,
                            now, now, NULL, NULL, EF_STR_NULL);
            if (rc || !next) {
                json_decref (next);
                if (rc == 0)
                    rc = s_dead (self, txn, &s, seq, st, why, now);
                goto done;
            }
            json_decref (value);
            value = next;
            changed = 1;
        } else if (step->kind == EF_STEP_ROUTE) {
            char why[EF_ERROR_TEXT], to_id[EF_UUID_STRLEN + 1];
            char copy_id[EF_UUID_STRLEN + 1];
            int e = s_route (self, txn, &s, st, step, &ev, text, now, why,
                             sizeof why, to_id, copy_id);
            if (e == EF_EINVAL) {
                rc = s_history (txn, num, seq, st, step, "route_failed", why,
                                now, now, NULL, NULL, EF_STR_NULL);
                if (rc == 0)
                    rc = s_dead (self, txn, &s, seq, st, why, now);
                goto done;
            }
            if ((rc = e))
                break;
            if ((rc = s_history (txn, num, seq, st, step, "routed", NULL, now,
                                 now, to_id, copy_id, EF_STR_NULL)))
                break;
        } else { /* worker: out, and back through ef_engine_outcome */
            if (changed) {
                st->result = ef_str (text); /* what the worker gets */
            }
            int room = self->room
                           ? ef_room_open (self->room, s.org, step->target)
                           : EF_ROOM_OPEN;
            if (room == EF_ROOM_NONE)
                rc = s_wait (txn, num, seq, st, step, ev.received_at, now);
            else if (room == EF_ROOM_BUSY) {
                /* its job stays due: the next pass, in a moment */
                self->busy = 1;
                rc = ef_process_state_put (txn, num, seq, st);
            } else
                rc = s_dispatch (self, txn, &s, seq, st, step, record, text,
                                 now);
            goto done;
        }
        st->step++;
        s_next_step_attempts (p, st);
    }
    if (rc == 0) {
        free (text);
        text = changed ? json_dumps (value, JSON_COMPACT | JSON_ENCODE_ANY |
                                                JSON_REAL_PRECISION (17))
                       : NULL;
        rc = s_finish (txn, num, seq, st, EF_STATUS_PROCESSED,
                       text ? ef_str (text) : EF_STR_NULL, now);
        s_latency (self, &s, ev.received_at);
    }
done:
    free (text);
    json_decref (value);
    return rc;
}

int
ef_engine_run (ef_engine_t *self, ef_store_txn_t *txn, uint64_t now,
               uint64_t *next)
{
    ef_job_t jobs[S_BATCH];
    uint32_t n;
    self->busy = 0;
    self->pass_schema_ns = 0;
    int rc = ef_process_jobs_due (txn, now, jobs, S_BATCH, &n, next);
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        /* filter checks are the writer's time, which every org's publishes
           wait for: a pass spends one event's budget on them at most, the
           rest stay due and the next pass (after the waiting writes) takes
           them */
        if (self->schema_ms &&
            self->pass_schema_ns >= (int64_t)self->schema_ms * 1000000)
            break;
        ef_state_t st;
        if (ef_process_state_get (txn, jobs[i].num, jobs[i].seq, &st) ||
            st.job_due != jobs[i].due) {
            /* a stale key (its state moved on): drop it */
            rc =
                ef_process_job_del (txn, jobs[i].due, jobs[i].num, jobs[i].seq);
            continue;
        }
        ef_stream_rec_t s;
        ef_pipeline_t *p = s_pipeline (self, txn, jobs[i].num, &s);
        if (p && st.step < p->n && p->steps[st.step].kind == EF_STEP_WORKER &&
            st.inflight) {
            /* due while a worker had it: the attempt timed out */
            rc = s_failed (self, txn, &s, jobs[i].seq, &st, &p->steps[st.step],
                           "timed_out", "no answer from a worker in time", 1,
                           now, EF_STR_NULL);
            if (rc || st.status == EF_STATUS_FAILED || st.job_due > now)
                continue;
        }
        if (p && st.step < p->n && p->steps[st.step].kind == EF_STEP_WORKER &&
            self->room &&
            ef_room_open (self->room, s.org, p->steps[st.step].target) ==
                EF_ROOM_BUSY) {
            self->busy = 1; /* its workers have enough: later, as it is */
            continue;
        }
        rc = s_run_steps (self, txn, jobs[i].num, jobs[i].seq, &st, NULL, now);
    }
    /* the steps above moved jobs: when is the first one due now? */
    uint32_t none;
    if (rc == 0)
        rc = ef_process_jobs_due (txn, 0, jobs, 0, &none, next);
    if (rc == 0 && self->busy && *next && *next < now + 5)
        *next = now + 5; /* workers busy: look again in 5 ms, not at once */
    return rc;
}

int
ef_engine_job_id (ef_str_t id, uint32_t *num, uint64_t *seq, uint64_t *attempt)
{
    char buf[S_JOB_ID], tail;
    unsigned long n;
    unsigned long long s, a;
    if (!ef_str_set (id) || id.len == 0 || id.len >= sizeof buf)
        return EF_EINVAL;
    memcpy (buf, id.ptr, id.len);
    buf[id.len] = 0;
    if (sscanf (buf, "%lu.%llu.%llu%c", &n, &s, &a, &tail) != 3 ||
        n > UINT32_MAX)
        return EF_EINVAL;
    *num = (uint32_t)n;
    *seq = s;
    *attempt = a;
    return 0;
}

int
ef_engine_outcome (ef_engine_t *self, ef_store_txn_t *txn, ef_str_t job_id,
                   int ok, ef_str_t result, ef_str_t error, int retryable,
                   ef_str_t worker, uint64_t now)
{
    ef_state_t st;
    ef_stream_rec_t s;
    uint32_t num;
    uint64_t seq, attempt;
    if (ef_engine_job_id (job_id, &num, &seq, &attempt))
        return 0; /* no job of ours */
    int rc = ef_process_state_get (txn, num, seq, &st);
    if (rc)
        return rc == EF_ENOTFOUND ? 0 : rc; /* nothing waits for it */
    ef_pipeline_t *p = s_pipeline (self, txn, num, &s);
    if (st.status != EF_STATUS_PENDING || !p || st.step >= p->n ||
        p->steps[st.step].kind != EF_STEP_WORKER || !st.inflight ||
        st.dispatches != attempt)
        return 0; /* late, stale or duplicate answer: already decided */
    if (ok && ef_str_set (result) && result.len > self->max_payload) {
        char why[EF_ERROR_TEXT];
        snprintf (why, sizeof why,
                  "the worker's result is %u bytes, more than max_payload "
                  "(%zu)",
                  result.len, self->max_payload);
        rc = s_history (txn, num, seq, &st, &p->steps[st.step], "failed", why,
                        s_started (&st, &p->steps[st.step]), now, NULL, NULL,
                        worker);
        st.inflight = 0;
        return rc ? rc : s_dead (self, txn, &s, seq, &st, why, now);
    }
    if (!ok) {
        char why[EF_ERROR_TEXT];
        snprintf (why, sizeof why, "%.*s", (int)error.len,
                  error.ptr ? error.ptr : "failed");
        return s_failed (self, txn, &s, seq, &st, &p->steps[st.step], "failed",
                         why, retryable, now, worker);
    }
    /* the worker's result, when it gave one, is the payload of the steps
       that follow (and the event's result); else they see what it saw,
       which s_run_steps loads */
    if ((rc = s_history (txn, num, seq, &st, &p->steps[st.step], "done", NULL,
                         s_started (&st, &p->steps[st.step]), now, NULL, NULL,
                         worker)))
        return rc;
    json_t *value = NULL;
    if (ef_str_set (result)) {
        json_error_t jerr;
        value = json_loadb (result.ptr, result.len, JSON_DECODE_ANY, &jerr);
        if (value)
            st.result = result;
    }
    st.step++;
    s_next_step_attempts (p, &st);
    st.inflight = 0;
    st.first_failure = 0;
    st.last_error[0] = 0;
    /* the job is due now for the steps that follow */
    rc = ef_process_job_del (txn, st.job_due, num, seq);
    if (rc == 0)
        rc = ef_process_job_put (txn, now, num, seq);
    st.job_due = now;
    if (rc) {
        json_decref (value);
        return rc;
    }
    return s_run_steps (self, txn, num, seq, &st, value, now);
}

int
ef_engine_replay (ef_engine_t *self, ef_store_txn_t *txn, uint32_t num,
                  uint64_t seq, uint64_t now)
{
    ef_dead_t d;
    ef_state_t st;
    int rc = ef_process_dlq_get (txn, num, seq, &d);
    if (rc)
        return rc;
    if ((rc = ef_process_dlq_del (txn, num, seq)))
        return rc;
    if (ef_process_state_get (txn, num, seq, &st))
        memset (&st, 0, sizeof st);
    /* from the step that failed, attempts reset */
    st.status = EF_STATUS_PENDING;
    st.step = d.step;
    st.attempts = 0;
    st.inflight = 0;
    st.first_failure = 0;
    st.last_error[0] = 0;
    st.processed_at = 0;
    st.job_due = now;
    rc = ef_process_state_put (txn, num, seq, &st);
    (void)self;
    return rc ? rc : ef_process_job_put (txn, now, num, seq);
}

/* ---------------------------------------------------------------- routes */

typedef struct {
    ef_engine_t *self;
    ef_store_txn_t *txn;
    ef_routes_t *routes;
    uint32_t skip; /* the stream being changed: added as it will be */
    int rc;
} s_graph_t;

/*  Stream num's compiled pipeline: the engine's (cached), or without an
    engine compiled anew into *own (the caller destroys it), as a thread
    other than the writer's must. */
static ef_pipeline_t *
s_pipeline_of (ef_engine_t *self, ef_store_txn_t *txn, uint32_t num,
               ef_stream_rec_t *s, ef_pipeline_t **own)
{
    if (self)
        return s_pipeline (self, txn, num, s);
    if (ef_store_stream_get (txn, num, s) || !ef_str_set (s->pipeline))
        return NULL;
    int err;
    char why[256];
    *own = ef_pipeline_compile (s->pipeline.ptr, s->pipeline.len, &err, why,
                                sizeof why);
    return *own;
}

static int
s_graph_add (void *arg, const ef_stream_rec_t *s)
{
    s_graph_t *g = arg;
    if (s->num == g->skip)
        return 0;
    ef_stream_rec_t cur;
    ef_pipeline_t *own = NULL;
    ef_pipeline_t *p = s_pipeline_of (g->self, g->txn, s->num, &cur, &own);
    g->rc = ef_routes_add (g->routes, ef_str (s->name), ef_str (s->id), p);
    ef_pipeline_destroy (&own);
    return g->rc ? 1 : 0;
}

int
ef_engine_check_routes (ef_engine_t *self, ef_store_txn_t *txn, uint32_t org,
                        uint32_t num, ef_str_t name, ef_str_t pipeline,
                        char *why, size_t why_len)
{
    ef_stream_rec_t s;
    ef_pipeline_t *own = NULL, *p = NULL;
    char id[sizeof s.id] = "";
    if (num && ef_store_stream_get (txn, num, &s) == 0) {
        snprintf (id, sizeof id, "%s", s.id);
        if (!ef_str_set (pipeline))
            p = s_pipeline_of (self, txn, num, &s, &own);
    }
    if (ef_str_set (pipeline) && pipeline.len) {
        int err;
        char sub[256];
        p = own = ef_pipeline_compile (pipeline.ptr, pipeline.len, &err, sub,
                                       sizeof sub);
    }
    /* (a stream without routes closes no cycle, but as a route's target
       it may add to the fan-out of the streams routing to it) */
    s_graph_t g = {self, txn, ef_routes_new (), num, 0};
    int rc =
        g.routes ? ef_routes_add (g.routes, name, ef_str (id), p) : EF_ENOMEM;
    if (rc == 0)
        rc = ef_store_stream_each (txn, org, s_graph_add, &g);
    if (rc == 0)
        rc = g.rc;
    if (rc == 0)
        rc = ef_routes_check (g.routes, name, why, why_len);
    ef_routes_destroy (&g.routes);
    ef_pipeline_destroy (&own);
    return rc;
}
