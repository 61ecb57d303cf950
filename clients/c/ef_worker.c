/*  ef_worker.c: pipeline workers over libeventflow (see ef_worker.h). Job
    frames arrive as pushes; each is copied aside in the push handler and
    run after, so that the answers are sent outside the receive path.

    A handler may take far longer than the broker lets a worker be silent,
    so while one runs, the worker's keeper thread holds the client and
    goes on saying READY. The client is handed over, never shared: the
    handler's thread gives it to the keeper before the handler and takes
    it back after (a mutex and a condition make the hand-over a full
    memory barrier, which is all ZeroMQ asks to move a socket between
    threads), and a byte on a pipe tells the keeper to give it back. */
#include "eventflow/ef_worker.h"
#include "eventflow/ef_time.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_HEARTBEAT_MS 1000
#define S_SILENT_MS    3000 /* no heartbeat from the broker for this long */
#define S_KEEP_TICK_MS 100  /* how often the keeper looks at the client */

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
    uint64_t session;   /* the client's session last attached on */
    int started;
    /* the keeper */
    int keeper_up;
    pthread_t keeper;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int keeping; /* the keeper holds the client */
    int quit;
    int wake[2]; /* a byte here: give the client back */
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
    if (self->keeper_up) {
        pthread_mutex_lock (&self->mu);
        self->quit = 1;
        pthread_cond_broadcast (&self->cv);
        pthread_mutex_unlock (&self->mu);
        pthread_join (self->keeper, NULL);
        pthread_mutex_destroy (&self->mu);
        pthread_cond_destroy (&self->cv);
        close (self->wake[0]);
        close (self->wake[1]);
    }
    ef_client_set_push_handler (self->client, NULL, NULL);
    if (self->started && ef_client_connected (self->client)) {
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
    (void)sub;
    ef_worker_t *self = arg;
    ef_mpr_t r;
    self->last_heard = ef_time_mono_ms ();
    if (ef_proto_reply_find (rep, "job", &r))
        return; /* the broker's heartbeat */
    size_t len = (size_t)(r.end - r.p);
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

/*  READY when a second has passed, or at once on a new connection (the
    broker forgot this worker with the old one). Not while there is no
    connection: READY then could only wait; the next one goes when it is
    back. A READY that cannot go is tried again a second later. */
static void
s_heartbeat (ef_worker_t *self)
{
    uint64_t session = ef_client_sessions (self->client);
    if (!ef_client_connected (self->client) ||
        (session == self->session &&
         ef_time_mono_ms () - self->last_ready < S_HEARTBEAT_MS))
        return;
    self->session = session;
    s_ready (self);
}

/*  The keeper's thread: while it holds the client, heartbeats go on and
    what arrives is read (jobs are queued, the broker's heartbeats
    counted). */
static void *
s_keeper_main (void *arg)
{
    ef_worker_t *self = arg;
    pthread_mutex_lock (&self->mu);
    for (;;) {
        while (!self->keeping && !self->quit)
            pthread_cond_wait (&self->cv, &self->mu);
        if (self->quit)
            break;
        pthread_mutex_unlock (&self->mu);
        for (;;) {
            s_heartbeat (self);
            ef_client_poll (self->client, 0);
            struct pollfd pfd = {self->wake[0], POLLIN, 0};
            if (poll (&pfd, 1, S_KEEP_TICK_MS) > 0) {
                char byte;
                if (read (self->wake[0], &byte, 1) == 1)
                    break;
            }
        }
        pthread_mutex_lock (&self->mu);
        self->keeping = 0;
        pthread_cond_broadcast (&self->cv);
    }
    pthread_mutex_unlock (&self->mu);
    return NULL;
}

static int
s_keeper_start (ef_worker_t *self)
{
    if (self->keeper_up)
        return 0;
    if (pipe (self->wake))
        return EF_ENOMEM;
    pthread_mutex_init (&self->mu, NULL);
    pthread_cond_init (&self->cv, NULL);
    if (pthread_create (&self->keeper, NULL, s_keeper_main, self)) {
        pthread_mutex_destroy (&self->mu);
        pthread_cond_destroy (&self->cv);
        close (self->wake[0]);
        close (self->wake[1]);
        return EF_ENOMEM;
    }
    self->keeper_up = 1;
    return 0;
}

/*  Give the client to the keeper. */
static void
s_keep (ef_worker_t *self)
{
    pthread_mutex_lock (&self->mu);
    self->keeping = 1;
    pthread_cond_broadcast (&self->cv);
    pthread_mutex_unlock (&self->mu);
}

/*  Take it back. */
static void
s_unkeep (ef_worker_t *self)
{
    ssize_t n;
    do
        n = write (self->wake[1], "", 1);
    while (n < 0 && errno == EINTR);
    pthread_mutex_lock (&self->mu);
    while (self->keeping)
        pthread_cond_wait (&self->cv, &self->mu);
    pthread_mutex_unlock (&self->mu);
}

int
ef_worker_start (ef_worker_t *self)
{
    int rc = s_keeper_start (self);
    if (rc)
        return rc;
    ef_client_set_push_handler (self->client, s_on_push, self);
    ef_request_t req = {0};
    req.cmd = EF_CMD_READY;
    req.service = ef_str (self->service);
    req.credit = self->capacity;
    self->last_ready = self->last_heard = ef_time_mono_ms ();
    self->session = ef_client_sessions (self->client);
    rc = ef_client_call (self->client, &req, NULL);
    self->started = rc == 0;
    return rc;
}

int
ef_worker_broker_alive (const ef_worker_t *self)
{
    return ef_client_connected (self->client) &&
           ef_time_mono_ms () - self->last_heard < S_SILENT_MS;
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
            job->attempt = (uint32_t)u;
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
    s_heartbeat (self);
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
            s_keep (self); /* heartbeats go on while fn runs */
            fn (arg, &job, &out);
            s_unkeep (self);
            ef_request_t req = {0};
            req.cmd = out.ok ? EF_CMD_DONE : EF_CMD_FAIL;
            req.job_id = job.job_id;
            req.result = ef_str (out.ok ? out.result : NULL);
            req.reason =
                ef_str (out.ok ? NULL : (out.reason ? out.reason : "failed"));
            if (!out.ok) {
                req.has_retryable = 1;
                req.retryable = out.retryable;
            }
            /* Without a connection the answer cannot go: the broker
               counts the job as failed with the connection and runs it
               again. */
            int rc = ef_client_connected (self->client)
                         ? ef_client_send (self->client, &req)
                         : EF_EUNAVAILABLE;
            if (rc && rc != EF_EUNAVAILABLE && rc != EF_ETIMEOUT) {
                free (j);
                return rc;
            }
            handled++;
        }
        free (j);
    }
    return handled;
}
