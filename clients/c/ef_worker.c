/*  ef_worker.c: pipeline workers over libeventflow (see ef_worker.h). Job
    frames arrive as pushes; each is copied aside in the push handler and
    run after, so that the answers are sent outside the receive path. */
#include "eventflow/ef_worker.h"
#include "eventflow/ef_time.h"

#include <stdlib.h>
#include <string.h>

#define S_HEARTBEAT_MS 1000
#define S_SILENT_MS    3000 /* no heartbeat from the broker for this long */

typedef struct s_job {
    struct s_job *next;
    size_t len;
    char body[]; /* the frame's map entries after id and ok */
} s_job_t;

struct ef_worker {
    ef_client_t *client;
    char *service;
    uint32_t capacity;
    s_job_t *head, *tail;
    int64_t last_ready;
    int64_t last_heard; /* the broker's last heartbeat or job */
    int started;
};

ef_worker_t *
ef_worker_new (ef_client_t *client, const char *service, uint32_t capacity)
{
    ef_worker_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->client = client;
    self->service = strdup (service);
    self->capacity = capacity ? capacity : 1;
    if (!self->service) {
        free (self);
        return NULL;
    }
    return self;
}

void
ef_worker_destroy (ef_worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_worker_t *self = *self_p;
    ef_client_set_push_handler (self->client, NULL, NULL);
    if (self->started) {
        /* say goodbye, so the broker stops sending jobs at once; what
           this worker was given and did not answer runs elsewhere */
        ef_request_t req = {0};
        req.cmd = EF_CMD_LEAVE;
        req.service = ef_str (self->service);
        if (ef_client_send (self->client, &req) == 0)
            ef_client_flush (self->client, 1000);
    }
    while (self->head) {
        s_job_t *next = self->head->next;
        free (self->head);
        self->head = next;
    }
    free (self->service);
    free (self);
    *self_p = NULL;
}

/*  A push with a "job": copied aside (the frame goes when this returns). */
static void
s_on_push (void *arg, uint64_t sub, const ef_reply_t *rep)
{
    (void) sub;
    ef_worker_t *self = arg;
    ef_mpr_t r;
    self->last_heard = ef_time_mono_ms ();
    if (ef_proto_reply_find (rep, "job", &r))
        return; /* the broker's heartbeat */
    size_t len = (size_t) (r.end - r.p);
    s_job_t *job = malloc (sizeof *job + len);
    if (!job)
        return;
    memcpy (job->body, r.p, len);
    job->len = len;
    job->next = NULL;
    if (self->tail)
        self->tail->next = job;
    else
        self->head = job;
    self->tail = job;
}

static int
s_ready (ef_worker_t *self)
{
    ef_request_t req = {0};
    req.cmd = EF_CMD_READY;
    req.service = ef_str (self->service);
    req.credit = self->capacity;
    self->last_ready = ef_time_mono_ms ();
    return ef_client_send (self->client, &req);
}

int
ef_worker_start (ef_worker_t *self)
{
    ef_client_set_push_handler (self->client, s_on_push, self);
    ef_request_t req = {0};
    req.cmd = EF_CMD_READY;
    req.service = ef_str (self->service);
    req.credit = self->capacity;
    self->last_ready = self->last_heard = ef_time_mono_ms ();
    int rc = ef_client_call (self->client, &req, NULL);
    self->started = rc == 0;
    return rc;
}

int
ef_worker_broker_alive (const ef_worker_t *self)
{
    return ef_time_mono_ms () - self->last_heard < S_SILENT_MS;
}

/*  Read a job map (the "job" value). */
static int
s_parse (const s_job_t *j, ef_job_t *job)
{
    ef_mpr_t r;
    uint32_t n;
    memset (job, 0, sizeof *job);
    ef_mpr_init (&r, j->body, j->len);
    if (ef_mpr_map (&r, &n))
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        ef_str_t k;
        uint64_t u;
        int rc;
        if (ef_mpr_str (&r, &k))
            return -1;
        if (ef_str_eq (k, "job_id"))
            rc = ef_mpr_str (&r, &job->job_id);
        else if (ef_str_eq (k, "service"))
            rc = ef_mpr_str (&r, &job->service);
        else if (ef_str_eq (k, "payload"))
            rc = ef_mpr_str (&r, &job->payload);
        else if (ef_str_eq (k, "request_id"))
            rc = ef_mpr_str (&r, &job->request_id);
        else if (ef_str_eq (k, "traceparent"))
            rc = ef_mpr_str (&r, &job->traceparent);
        else if (ef_str_eq (k, "attempt")) {
            rc = ef_mpr_uint (&r, &u);
            job->attempt = (uint32_t) u;
        } else if (ef_str_eq (k, "event"))
            rc = ef_proto_read_event (&r, &job->event);
        else
            rc = ef_mpr_skip (&r, EF_MSGPACK_DEPTH);
        if (rc)
            return -1;
    }
    return job->job_id.ptr ? 0 : -1;
}

int
ef_worker_poll (ef_worker_t *self, int timeout_ms, ef_job_fn *fn, void *arg)
{
    if (ef_time_mono_ms () - self->last_ready >= S_HEARTBEAT_MS) {
        int rc = s_ready (self);
        if (rc)
            return rc;
    }
    if (!self->head) {
        int wait = timeout_ms < S_HEARTBEAT_MS ? timeout_ms : S_HEARTBEAT_MS;
        int rc = ef_client_poll (self->client, wait);
        if (rc < 0)
            return rc;
    }
    int handled = 0;
    while (self->head) {
        s_job_t *j = self->head;
        self->head = j->next;
        if (!self->head)
            self->tail = NULL;
        ef_job_t job;
        if (s_parse (j, &job) == 0) {
            ef_job_outcome_t out = {1, NULL, NULL, 1};
            fn (arg, &job, &out);
            ef_request_t req = {0};
            req.cmd = out.ok ? EF_CMD_DONE : EF_CMD_FAIL;
            req.job_id = job.job_id;
            req.result = ef_str (out.ok ? out.result : NULL);
            req.reason = ef_str (out.ok ? NULL
                                        : (out.reason ? out.reason : "failed"));
            if (!out.ok) {
                req.has_retryable = 1;
                req.retryable = out.retryable;
            }
            int rc = ef_client_send (self->client, &req);
            if (rc) {
                free (j);
                return rc;
            }
            handled++;
        }
        free (j);
    }
    return handled;
}
