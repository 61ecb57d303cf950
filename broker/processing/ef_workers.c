/*  ef_workers.c: workers, the DEALER peers that run pipeline worker steps
    (DESIGN.md §6), and their commands READY, DONE, FAIL, LEAVE and
    WORKERS (see ef_workers.h). A worker says READY (service, capacity)
    and says it again every second as its heartbeat; jobs go to the
    workers of their service with free capacity, oldest job first,
    least-loaded worker first; DONE and FAIL answers go to the writer,
    which decides what follows. A worker that falls silent for three
    seconds (--worker-silence), or whose connection is gone (our ping to
    it, every fifth of the heartbeat timeout, cannot be sent), is dropped
    and its jobs fail (retryably), so they run again on another worker.
    A worker that comes back on a new connection with the routing id it
    had (the ROUTER hands the id over) keeps its place, and the jobs the
    old connection held run again.
    The workers, the jobs each holds, the jobs waiting per service and
    each service's count of answered attempts are this module's own
    (ef_workers_t); the broker is seen through ef_workers_ctx_t only. A
    worker is named by the hex of its routing id (ef_workers_id).
    The dead-letter queue is ef_dlq.c. */
#include "ef_workers.h"
#include "ef_engine.h"
#include "ef_process.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_SILENT_MS    3000 /* default of --worker-silence */
#define S_PING_MS      1000
#define S_MAX_WORKERS  1024
#define S_MAX_SERVICES 256 /* services an org's workers may name at once */

typedef struct s_worker {
    struct s_worker *next;
    zmq_msg_t peer;
    char service[129];
    uint32_t org; /* jobs of this org only */
    uint32_t capacity, inflight;
    int64_t last_seen;
    int64_t last_ping; /* our heartbeat to it */
    int fd;            /* its connection's (ZMQ_SRCFD), or -1 */
} s_worker_t;

typedef struct s_out {
    struct s_out *next;
    char job_id[64]; /* the attempt's own */
    s_worker_t *worker;
    int64_t deadline;
} s_out_t;

/*  The jobs waiting for a worker of one service, oldest first, and the
    attempts its workers answered since the broker started. */
typedef struct s_service {
    struct s_service *next;
    uint32_t org;
    char name[129];
    ef_wreq_t *head, *tail;
    uint32_t queued;
    uint64_t done, failed; /* DONE; FAIL, timed out or the worker lost */
} s_service_t;

struct ef_workers {
    ef_workers_ctx_t x;
    s_worker_t *workers;
    uint32_t nworkers;
    s_out_t *out;          /* jobs a worker has */
    s_service_t *services; /* their queues */
    int64_t silent_ms;     /* a worker silent this long is dropped */
    int64_t ping_ms;       /* our heartbeat to each worker */
};

ef_workers_t *
ef_workers_new (const ef_workers_ctx_t *ctx)
{
    ef_workers_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->x = *ctx;
    self->silent_ms = ctx->silent_ms >= 1000 ? ctx->silent_ms : S_SILENT_MS;
    self->ping_ms = ctx->ping_ms ? ctx->ping_ms : S_PING_MS;
    return self;
}

size_t
ef_workers_id (const zmq_msg_t *peer, char *out)
{
    static const char hex[] = "0123456789abcdef";
    zmq_msg_t *m = (zmq_msg_t *)peer; /* (libzmq's getters take no const) */
    const uint8_t *p = zmq_msg_data (m);
    size_t n = zmq_msg_size (m);
    if (n > (EF_WORKERS_ID_SIZE - 1) / 2)
        n = (EF_WORKERS_ID_SIZE - 1) / 2;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = 0;
    return 2 * n;
}

static int
s_same_peer (zmq_msg_t *a, zmq_msg_t *b)
{
    return zmq_msg_size (a) == zmq_msg_size (b) &&
           memcmp (zmq_msg_data (a), zmq_msg_data (b), zmq_msg_size (a)) == 0;
}

static void s_room_sync (ef_workers_t *self);
static s_service_t *s_service (struct ef_workers *ws, uint32_t org,
                               const char *name, size_t len);

/*  One attempt of worker w's service ended: done or failed. */
static void
s_counted (ef_workers_t *self, const s_worker_t *w, int done)
{
    s_service_t *sv = s_service (self, w->org, w->service, strlen (w->service));
    if (sv && done)
        sv->done++;
    else if (sv)
        sv->failed++;
}

/*  An answer for attempt job_id, which worker had, to the writer: a new
    internal request. */
static void s_outcome_to_writer (ef_workers_t *self, const char *job_id, int ok,
                                 const char *error, s_worker_t *worker);

/*  The jobs worker w holds fail now (why), to run again. */
static void
s_fail_jobs (ef_workers_t *self, s_worker_t *w, const char *why)
{
    for (s_out_t **pp = &self->out; *pp;) {
        s_out_t *o = *pp;
        if (o->worker == w) {
            *pp = o->next;
            s_counted (self, w, 0);
            s_outcome_to_writer (self, o->job_id, 0, why, w);
            if (w->inflight)
                w->inflight--;
            free (o);
        } else
            pp = &o->next;
    }
}

static void
s_drop_worker (ef_workers_t *self, s_worker_t *gone, const char *why)
{
    ef_workers_t *ws = self;
    s_fail_jobs (self, gone, why); /* to run again elsewhere */
    for (s_worker_t **pp = &ws->workers; *pp; pp = &(*pp)->next)
        if (*pp == gone) {
            *pp = gone->next;
            break;
        }
    ws->nworkers--;
    zmq_msg_close (&gone->peer);
    ef_log_info (self->x.log, "worker gone",
                 "\"service\":\"%s\",\"why\":\"%s\"", gone->service, why);
    free (gone);
    s_room_sync (self);
}

/*  Tell the engine what each service can take now (ef_room.h). */
static void
s_room_sync (ef_workers_t *self)
{
    ef_workers_t *ws = self;
    if (!self->x.room)
        return;
    for (s_service_t *sv = ws->services; sv; sv = sv->next) {
        uint32_t n = 0, capacity = 0;
        for (s_worker_t *w = ws->workers; w; w = w->next)
            if (w->org == sv->org && strcmp (w->service, sv->name) == 0)
                n++, capacity += w->capacity;
        ef_room_set (self->x.room, sv->org, sv->name, n, capacity, sv->queued);
    }
}

/*  The service's queue, made when first needed (NULL: no memory). */
static s_service_t *
s_service (struct ef_workers *ws, uint32_t org, const char *name, size_t len)
{
    s_service_t *sv;
    for (sv = ws->services; sv; sv = sv->next)
        if (sv->org == org && strlen (sv->name) == len &&
            memcmp (sv->name, name, len) == 0)
            return sv;
    if (len >= sizeof sv->name || !(sv = calloc (1, sizeof *sv)))
        return NULL;
    sv->org = org;
    memcpy (sv->name, name, len);
    sv->next = ws->services;
    ws->services = sv;
    return sv;
}

/*  The least-loaded worker of service with room, or NULL. */
static s_worker_t *
s_worker_for (struct ef_workers *ws, uint32_t org, const char *service)
{
    s_worker_t *best = NULL;
    for (s_worker_t *w = ws->workers; w; w = w->next)
        if (w->inflight < w->capacity && w->org == org &&
            strcmp (w->service, service) == 0 &&
            (!best || w->inflight < best->inflight))
            best = w;
    return best;
}

/*  Give queued jobs to workers with room: per service, oldest first. */
static void
s_pump (ef_workers_t *self)
{
    ef_workers_t *ws = self;
    for (s_service_t *sv = ws->services; sv; sv = sv->next) {
        s_worker_t *best;
        while (sv->head && (best = s_worker_for (ws, sv->org, sv->name))) {
            ef_wreq_t *job = sv->head;
            s_out_t *o = calloc (1, sizeof *o);
            if (!o)
                return;
            snprintf (o->job_id, sizeof o->job_id, "%.*s",
                      (int)job->req.job_id.len, job->req.job_id.ptr);
            o->worker = best;
            o->deadline = ef_time_mono_ms () + job->req.timeout;
            if (self->x.send (self->x.arg, &best->peer, job->reply.data,
                              job->reply.len)) {
                /* the job stays first in line; the worker goes */
                free (o);
                s_drop_worker (self, best, "cannot reach the worker");
                continue;
            }
            sv->head = job->next;
            if (!sv->head)
                sv->tail = NULL;
            sv->queued--;
            best->inflight++;
            o->next = ws->out;
            ws->out = o;
            ef_engine_job_free (job);
        }
    }
    s_room_sync (self);
}

void
ef_workers_submit (ef_workers_t *self, ef_wreq_t *job)
{
    ef_workers_t *ws = self;
    s_service_t *sv =
        s_service (ws, job->org, job->req.name.ptr, job->req.name.len);
    if (!sv) {
        /* no memory: the job's timeout brings it back */
        ef_engine_job_free (job);
        return;
    }
    job->next = NULL;
    if (sv->tail)
        sv->tail->next = job;
    else
        sv->head = job;
    sv->tail = job;
    sv->queued++;
    s_pump (self);
}

void
ef_workers_tick (ef_workers_t *self)
{
    ef_workers_t *ws = self;
    int64_t now = ef_time_mono_ms ();
    /* jobs past their time free their worker's room; the writer counts
       the attempt as failed when the job falls due */
    for (s_out_t **pp = &ws->out; *pp;) {
        s_out_t *o = *pp;
        if (o->deadline <= now) {
            *pp = o->next;
            if (o->worker)
                s_counted (self, o->worker, 0);
            if (o->worker && o->worker->inflight)
                o->worker->inflight--;
            free (o);
        } else
            pp = &o->next;
    }
    /* our heartbeat, so a worker can tell a silent broker */
    static const uint8_t ping[] = {0x84, 0xa2, 'i',  'd', 0x00, 0xa2, 'o',
                                   'k',  0xc3, 0xa4, 'p', 'u',  's',  'h',
                                   0xc3, 0xa9, 'h',  'e', 'a',  'r',  't',
                                   'b',  'e',  'a',  't', 0xc3};
    for (s_worker_t *w = ws->workers, *next; w; w = next) {
        next = w->next;
        if (now - w->last_seen > ws->silent_ms)
            s_drop_worker (self, w, "the worker stopped answering");
        else if (now - w->last_ping >= ws->ping_ms) {
            w->last_ping = now;
            if (self->x.send (self->x.arg, &w->peer, ping, sizeof ping))
                s_drop_worker (self, w, "the worker's connection is gone");
        }
    }
    s_pump (self);
}

void
ef_workers_destroy (ef_workers_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_workers_t *ws = *self_p;
    while (ws->workers) {
        s_worker_t *next = ws->workers->next;
        zmq_msg_close (&ws->workers->peer);
        free (ws->workers);
        ws->workers = next;
    }
    while (ws->out) {
        s_out_t *next = ws->out->next;
        free (ws->out);
        ws->out = next;
    }
    while (ws->services) {
        s_service_t *sv = ws->services;
        while (sv->head) {
            ef_wreq_t *next = sv->head->next;
            ef_engine_job_free (sv->head);
            sv->head = next;
        }
        ws->services = sv->next;
        free (sv);
    }
    free (ws);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- commands */

/*  Workers attached to sv. */
static uint32_t
s_attached (const ef_workers_t *self, const s_service_t *sv)
{
    uint32_t n = 0;
    for (const s_worker_t *k = self->workers; k; k = k->next)
        n += k->org == sv->org && strcmp (k->service, sv->name) == 0;
    return n;
}

/*  Room for a worker of service in org: its service is known, or the
    org has fewer than S_MAX_SERVICES, or one of them can be forgotten
    (no worker, no job waiting: its counts go with it). 0, or -1 when
    there is none. Bounds what one org's workers can make the broker
    remember. */
static int
s_service_room (ef_workers_t *self, uint32_t org, ef_str_t service)
{
    uint32_t n = 0;
    s_service_t **idle = NULL;
    for (s_service_t **pp = &self->services; *pp; pp = &(*pp)->next) {
        s_service_t *sv = *pp;
        if (sv->org != org)
            continue;
        if (ef_str_eq (service, sv->name))
            return 0;
        n++;
        if (!sv->head && !s_attached (self, sv))
            idle = pp;
    }
    if (n < S_MAX_SERVICES)
        return 0;
    if (!idle)
        return -1;
    s_service_t *gone = *idle;
    *idle = gone->next;
    free (gone);
    return 0;
}

int
ef_workers_ready (ef_workers_t *self, ef_wreq_t *w, const char **why)
{
    ef_workers_t *ws = self;
    if (w->req.service.len == 0 || w->req.service.len > 128) {
        *why = "service is 1 to 128 bytes";
        return EF_EINVAL;
    }
    s_worker_t *found = NULL;
    for (s_worker_t *k = ws->workers; k && !found; k = k->next)
        if (s_same_peer (&k->peer, &w->peer) && k->org == w->org &&
            ef_str_eq (w->req.service, k->service))
            found = k;
    if (!found) {
        if (ws->nworkers >= S_MAX_WORKERS) {
            *why = "too many workers on this broker";
            return EF_EUNAVAILABLE;
        }
        if (s_service_room (self, w->org, w->req.service)) {
            *why = "too many services of this org have workers";
            return EF_EUNAVAILABLE;
        }
        found = calloc (1, sizeof *found);
        if (!found)
            return EF_ENOMEM;
        zmq_msg_init (&found->peer);
        zmq_msg_copy (&found->peer, &w->peer);
        memcpy (found->service, w->req.service.ptr, w->req.service.len);
        found->org = w->org;
        found->fd = -1;
        found->next = ws->workers;
        ws->workers = found;
        ws->nworkers++;
        ef_log_info (self->x.log, "worker ready", "\"service\":\"%s\"",
                     found->service);
    }
    /* the connection it came on: a new one with the same routing id (the
       old one was handed over) means the jobs sent to the old one are
       lost with it, so they run again */
    int fd = zmq_msg_get (&w->frame, ZMQ_SRCFD);
    if (found->fd >= 0 && fd >= 0 && fd != found->fd)
        s_fail_jobs (self, found, "the worker connected again");
    found->fd = fd;
    found->capacity = w->req.credit ? w->req.credit : 1;
    s_service (ws, found->org, found->service, strlen (found->service));
    s_room_sync (self); /* the engine may hand out jobs of it now */
    found->last_seen = ef_time_mono_ms ();
    ef_proto_reply_ok (self->x.out, w->req.id, 0);
    /* after the reply, ef_workers_tick gives jobs to it */
    return 0;
}

/*  LEAVE: a worker going away on purpose; its jobs run elsewhere. */
int
ef_workers_leave (ef_workers_t *self, ef_wreq_t *w, const char **why)
{
    (void)why;
    ef_workers_t *ws = self;
    for (s_worker_t *k = ws->workers; k; k = k->next)
        if (s_same_peer (&k->peer, &w->peer) && k->org == w->org &&
            ef_str_eq (w->req.service, k->service)) {
            s_drop_worker (self, k, "the worker left");
            break;
        }
    ef_proto_reply_ok (self->x.out, w->req.id, 0);
    return 0;
}

/*  An answer in the writer's transaction. The worker's id is the first
    text of w->records (ef_workers_id, put there on the reactor). */
static int
s_apply_outcome (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w, uint64_t now)
{
    ef_writer_t *writer = ctx; /* the writer's own thread */
    int ok = w->req.cmd == EF_CMD_DONE;
    ef_str_t worker = w->records.len ? ef_str (w->records.data) : EF_STR_NULL;
    int rc = ef_engine_outcome (ef_writer_engine (writer), txn, w->req.job_id,
                                ok, w->req.result, w->req.reason,
                                w->req.has_retryable ? w->req.retryable : 1,
                                worker, now);
    /* what follows (the next steps, or a retry) is the engine's next pass */
    ef_writer_wake_engine (writer, now);
    if (rc == 0 && w->req.id)
        ef_proto_reply_ok (&w->reply, w->req.id, 0);
    return rc;
}

/*  DONE and FAIL: the worker's room back, the answer to the writer. */
int
ef_workers_answer (ef_workers_t *self, ef_wreq_t *w, const char **why)
{
    ef_workers_t *ws = self;
    uint32_t num;
    uint64_t seq, attempt;
    if (ef_engine_job_id (w->req.job_id, &num, &seq, &attempt)) {
        *why = "job_id is not one of this broker's";
        return EF_EINVAL;
    }
    if (ef_str_set (w->req.result) &&
        ef_json_validate (w->req.result.ptr, w->req.result.len, EF_JSON_DEPTH,
                          NULL, NULL)) {
        *why = "result must be JSON";
        return EF_EINVAL;
    }
    /* only the worker that holds the attempt may answer it; an answer for
       an attempt no longer held (timed out, or a later attempt of the
       same event, maybe on this very worker) changes nothing */
    int held = 0;
    for (s_out_t **pp = &ws->out; *pp; pp = &(*pp)->next)
        if (ef_str_eq (w->req.job_id, (*pp)->job_id) && (*pp)->worker &&
            s_same_peer (&(*pp)->worker->peer, &w->peer) &&
            (*pp)->worker->org == w->org) {
            s_out_t *o = *pp;
            *pp = o->next;
            if (o->worker->inflight)
                o->worker->inflight--;
            s_counted (self, o->worker, w->req.cmd == EF_CMD_DONE);
            free (o);
            held = 1;
            break;
        }
    for (s_worker_t *k = ws->workers; k; k = k->next)
        if (s_same_peer (&k->peer, &w->peer))
            k->last_seen = ef_time_mono_ms ();
    if (!held) {
        ef_proto_reply_ok (self->x.out, w->req.id, 0);
        return 0;
    }
    if (w->req.cmd == EF_CMD_DONE)
        ef_metrics_add (self->x.metrics, EF_M_JOBS_DONE, 1);
    char id[EF_WORKERS_ID_SIZE];
    size_t n = ef_workers_id (&w->peer, id);
    ef_buf_reset (&w->records);
    ef_buf_append (&w->records, id, n + 1);
    if (w->records.oom)
        ef_buf_reset (&w->records); /* the attempt without its worker */
    w->apply = s_apply_outcome;
    w->apply_ctx = self->x.writer;
    return 0;
}

static void
s_outcome_to_writer (ef_workers_t *self, const char *job_id, int ok,
                     const char *error, s_worker_t *worker)
{
    /* an internal request with no peer to answer: its reply is dropped */
    ef_wreq_t *w = calloc (1, sizeof *w);
    if (!w)
        return;
    ef_buf_init (&w->reply);
    ef_buf_init (&w->records);
    w->internal = EF_WREQ_OUTCOME;
    w->req.cmd = ok ? EF_CMD_DONE : EF_CMD_FAIL;
    /* the worker's id, the job id and the reason live in its records
       buffer (the id first, as s_apply_outcome reads it) */
    char id[EF_WORKERS_ID_SIZE];
    size_t k = ef_workers_id (&worker->peer, id) + 1;
    int n = (int)strlen (job_id);
    ef_buf_append (&w->records, id, k);
    ef_buf_append (&w->records, job_id, (size_t)n + 1);
    ef_buf_append (&w->records, error, strlen (error) + 1);
    if (w->records.oom) {
        ef_engine_job_free (w);
        return;
    }
    w->req.job_id = (ef_str_t){w->records.data + k, (uint32_t)n};
    w->req.reason = ef_str (w->records.data + k + n + 1);
    w->req.has_retryable = 1;
    w->req.retryable = 1;
    w->apply = s_apply_outcome;
    w->apply_ctx = self->x.writer;
    ef_writer_submit (self->x.writer, w);
}

/*  WORKERS: the caller's org's workers and services only. */
int
ef_workers_list (ef_workers_t *self, ef_wreq_t *w, const char **why)
{
    (void)why;
    ef_workers_t *ws = self;
    uint32_t n = 0, queued = 0, nsv = 0;
    int64_t now = ef_time_mono_ms ();
    char id[EF_WORKERS_ID_SIZE];
    for (s_worker_t *k = ws->workers; k; k = k->next)
        n += k->org == w->org;
    for (s_service_t *sv = ws->services; sv; sv = sv->next) {
        queued += sv->org == w->org ? sv->queued : 0;
        nsv += sv->org == w->org;
    }
    ef_proto_reply_ok (self->x.out, w->req.id, 3);
    ef_mp_key (self->x.out, "workers");
    ef_mp_array (self->x.out, n);
    for (s_worker_t *k = ws->workers; k; k = k->next) {
        if (k->org != w->org)
            continue; /* another org's */
        ef_mp_map (self->x.out, 5);
        ef_mp_key (self->x.out, "id");
        ef_workers_id (&k->peer, id);
        ef_mp_cstr (self->x.out, id);
        ef_mp_key (self->x.out, "service");
        ef_mp_cstr (self->x.out, k->service);
        ef_mp_key (self->x.out, "capacity");
        ef_mp_uint (self->x.out, k->capacity);
        ef_mp_key (self->x.out, "in_flight");
        ef_mp_uint (self->x.out, k->inflight);
        ef_mp_key (self->x.out, "seen_ms_ago");
        ef_mp_uint (self->x.out, (uint64_t)(now - k->last_seen));
    }
    ef_mp_key (self->x.out, "queued");
    ef_mp_uint (self->x.out, queued);
    ef_mp_key (self->x.out, "services");
    ef_mp_array (self->x.out, nsv);
    for (s_service_t *sv = ws->services; sv; sv = sv->next) {
        if (sv->org != w->org)
            continue;
        uint32_t workers = 0, capacity = 0, inflight = 0;
        for (s_worker_t *k = ws->workers; k; k = k->next)
            if (k->org == sv->org && strcmp (k->service, sv->name) == 0)
                workers++, capacity += k->capacity, inflight += k->inflight;
        ef_mp_map (self->x.out, 7);
        ef_mp_key (self->x.out, "service");
        ef_mp_cstr (self->x.out, sv->name);
        ef_mp_key (self->x.out, "workers");
        ef_mp_uint (self->x.out, workers);
        ef_mp_key (self->x.out, "capacity");
        ef_mp_uint (self->x.out, capacity);
        ef_mp_key (self->x.out, "in_flight");
        ef_mp_uint (self->x.out, inflight);
        ef_mp_key (self->x.out, "queued");
        ef_mp_uint (self->x.out, sv->queued);
        ef_mp_key (self->x.out, "done");
        ef_mp_uint (self->x.out, sv->done);
        ef_mp_key (self->x.out, "failed");
        ef_mp_uint (self->x.out, sv->failed);
    }
    return 0;
}

uint32_t
ef_workers_count (const ef_workers_t *self)
{
    return self->nworkers;
}

uint32_t
ef_workers_count_org (const ef_workers_t *self, uint32_t org)
{
    uint32_t n = 0;
    for (const s_worker_t *k = self ? self->workers : NULL; k; k = k->next)
        n += k->org == org;
    return n;
}
