/*  ef_batcher.c: the bridge's group commit (see ef_batcher.h). Waiters
    queue under a mutex; the sender takes the whole queue, groups it by
    credential and stream, sends one PUBLISH per group (at most 1000
    events each) asynchronously, waits for every answer, hands each waiter
    its slice of the results, and goes round again. */
#include "ef_batcher.h"
#include "eventflow/ef_client.h"
#include "eventflow/ef_error.h"

#include <pthread.h>
#include <errno.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_EVENTS 1000

typedef struct s_waiter {
    struct s_waiter *next;
    ef_str_t api_key, jwt, stream;
    const ef_event_in_t *events;
    uint32_t n;
    ef_batch_result_t *results;
    int status;
    char *why;
    uint64_t *retry_after_ms;
    sem_t done; /* posted once: a wake-up that takes no lock (the caller
                   may destroy it as soon as its wait returns) */
} s_waiter_t;

/*  One PUBLISH in flight: the waiters whose events it carries. */
typedef struct {
    ef_batcher_t *self;
    s_waiter_t *members[S_MAX_EVENTS];
    uint32_t nmembers;
    int busy; /* sent, its reply not yet handled */
} s_batch_t;

#define S_SLOTS 64 /* PUBLISH requests in flight at most */

struct ef_batcher {
    char *endpoint;
    ef_cert_t gateway;
    char server_key[41];
    int plain;
    int timeout_ms;
    ef_log_t *log;
    pthread_mutex_t mu;
    pthread_cond_t work;
    s_waiter_t *head, *tail;
    int stopping;
    pthread_t thread;
    int running;
    /* sender-thread state */
    ef_client_t *client;
    ef_event_in_t *scratch;
    s_batch_t *batches;
    uint32_t next_slot;
    uint32_t inflight; /* written by the sender thread only */
};

ef_batcher_t *
ef_batcher_new (const char *endpoint, const ef_cert_t *gateway,
                const char *server_key, int timeout_ms, ef_log_t *log)
{
    ef_batcher_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->endpoint = strdup (endpoint);
    self->scratch = calloc (S_MAX_EVENTS, sizeof *self->scratch);
    self->batches = calloc (S_SLOTS, sizeof *self->batches);
    if (!self->endpoint || !self->scratch || !self->batches) {
        ef_batcher_destroy (&self);
        return NULL;
    }
    if (gateway && server_key) {
        self->gateway = *gateway;
        snprintf (self->server_key, sizeof self->server_key, "%s", server_key);
    } else
        self->plain = 1;
    self->timeout_ms = timeout_ms;
    self->log = log;
    pthread_mutex_init (&self->mu, NULL);
    pthread_cond_init (&self->work, NULL);
    return self;
}

/* ---------------------------------------------------------------- sender */

static void
s_finish (ef_batcher_t *self, s_waiter_t *w, int status, const char *why)
{
    (void)self;
    if (status && why)
        snprintf (w->why, 160, "%s", why);
    w->status = status;
    sem_post (&w->done); /* the last touch: w may be gone after it */
}

static void
s_copy_result (ef_batch_result_t *dst, const ef_publish_result_t *r)
{
    /* fields one by one: a batch's results are 1000 of these, and the
       message bytes past its end need no clearing */
    dst->code = r->code;
    dst->duplicate = r->duplicate;
    dst->seq = r->seq;
    dst->received_at = r->received_at;
    dst->retry_after_ms = r->retry_after_ms;
    snprintf (dst->event_id, sizeof dst->event_id, "%.*s", (int)r->event_id.len,
              r->event_id.ptr ? r->event_id.ptr : "");
    size_t len = r->message.ptr ? r->message.len : 0;
    if (len >= sizeof dst->message) {
        /* too long: keep whole "path: reason" items of a schema verdict */
        len = sizeof dst->message - 1;
        while (r->code == EF_EVALIDATION && len > 1 &&
               memcmp (r->message.ptr + len - 1, "; ", 2) != 0)
            len--;
        if (len <= 1)
            len = sizeof dst->message - 1;
        else
            len--; /* before the "; " */
    }
    memcpy (dst->message, len ? r->message.ptr : "", len);
    dst->message[len] = 0;
    /* the failing paths as they came, {path, message} each */
    dst->n_errors = 0;
    ef_mpr_t at;
    uint32_t n = 0;
    size_t used = 0;
    ef_mpr_init (&at, r->errors.ptr, r->errors.len);
    if (!ef_str_set (r->errors) || ef_mpr_array (&at, &n))
        return;
    for (uint32_t i = 0; i < n; i++) {
        ef_field_error_t e;
        if (ef_proto_read_field_error (&at, &e) ||
            used + e.path.len + e.message.len + 2 > sizeof dst->errors)
            break;
        memcpy (dst->errors + used, e.path.ptr, e.path.len);
        used += e.path.len;
        dst->errors[used++] = 0;
        memcpy (dst->errors + used, e.message.ptr, e.message.len);
        used += e.message.len;
        dst->errors[used++] = 0;
        dst->n_errors++;
    }
}

static void
s_on_reply (void *arg, int status, const ef_publish_result_t *results,
            uint32_t n)
{
    s_batch_t *b = arg;
    ef_batcher_t *self = b->self;
    const char *why = ef_client_error (self->client);
    uint32_t at = 0;
    b->busy = 0;
    self->inflight--;
    for (uint32_t i = 0; i < b->nmembers; i++) {
        s_waiter_t *w = b->members[i];
        /* w lives on its caller's stack: nothing of it may be touched once
           s_finish has woken the caller */
        uint32_t wn = w->n;
        if (status == 0 && at + wn <= n) {
            for (uint32_t k = 0; k < wn; k++)
                s_copy_result (&w->results[k], &results[at + k]);
            s_finish (self, w, 0, NULL);
        } else
            s_finish (self, w, status ? status : EF_EPROTO, why);
        at += wn;
    }
}

static int
s_same (ef_str_t a, ef_str_t b)
{
    return a.len == b.len &&
           (a.len == 0 ||
            (a.ptr && b.ptr && memcmp (a.ptr, b.ptr, a.len) == 0)) &&
           (!a.ptr) == (!b.ptr);
}

static int
s_connect (ef_batcher_t *self)
{
    if (self->client)
        return 0;
    self->client = ef_client_new (self->endpoint);
    if (!self->client)
        return EF_ENOMEM;
    ef_client_set_timeout (self->client, self->timeout_ms);
    ef_client_set_max_inflight (self->client, 1024);
    if (!self->plain)
        ef_client_set_curve (self->client, self->server_key,
                             self->gateway.public_key,
                             self->gateway.secret_key);
    int rc = ef_client_connect (self->client);
    if (rc)
        ef_client_destroy (&self->client);
    return rc;
}

/*  Handle the replies that came, waiting up to timeout_ms for one. When
    the connection is in trouble, every request in flight is completed
    (answered, or timed out) and a fresh connection serves what follows. */
static void
s_poll (ef_batcher_t *self, int timeout_ms)
{
    if (ef_client_poll (self->client, timeout_ms) >= 0)
        return;
    if (ef_client_flush (self->client, self->timeout_ms + 1000) ||
        ef_client_inflight (self->client)) {
        ef_client_destroy (&self->client);
        /* what the connection took with it is answered here */
        for (uint32_t i = 0; i < S_SLOTS; i++) {
            s_batch_t *b = &self->batches[i];
            if (!b->busy)
                continue;
            for (uint32_t k = 0; k < b->nmembers; k++)
                s_finish (self, b->members[k], EF_EUNAVAILABLE,
                          "no answer from the broker");
            b->busy = 0;
            self->inflight--;
        }
    }
}

/*  Send the waiters in list, grouped, without waiting for the answers:
    the next list goes out while the broker commits this one, so commits
    follow each other with no round trip between them. */
static void
s_send (ef_batcher_t *self, s_waiter_t *list)
{
    if (s_connect (self)) {
        while (list) {
            s_waiter_t *next = list->next;
            s_finish (self, list, EF_EUNAVAILABLE, "broker unreachable");
            list = next;
        }
        return;
    }
    while (list) {
        /* the first waiter's group: everyone with its credential and stream,
           up to the batch limit, in a free slot */
        s_waiter_t *lead = list, **pp = &list;
        s_batch_t *b = &self->batches[self->next_slot % S_SLOTS];
        while (b->busy && self->client)
            s_poll (self, 10);
        if (!self->client) { /* lost while waiting: the rest fails */
            while (list) {
                s_waiter_t *next = list->next;
                s_finish (self, list, EF_EUNAVAILABLE, "broker unreachable");
                list = next;
            }
            return;
        }
        self->next_slot++;
        uint32_t nev = 0;
        b->self = self;
        b->nmembers = 0;
        while (*pp) {
            s_waiter_t *w = *pp;
            if (s_same (w->api_key, lead->api_key) &&
                s_same (w->jwt, lead->jwt) &&
                s_same (w->stream, lead->stream) &&
                nev + w->n <= S_MAX_EVENTS && b->nmembers < S_MAX_EVENTS) {
                memcpy (self->scratch + nev, w->events,
                        w->n * sizeof *w->events);
                nev += w->n;
                b->members[b->nmembers++] = w;
                *pp = w->next;
            } else
                pp = &w->next;
        }
        char stream[260];
        snprintf (stream, sizeof stream, "%.*s", (int)lead->stream.len,
                  lead->stream.ptr);
        /* the credential goes with this request only */
        char key[256] = "", jwt[2048] = "";
        if (lead->api_key.ptr)
            snprintf (key, sizeof key, "%.*s", (int)lead->api_key.len,
                      lead->api_key.ptr);
        if (lead->jwt.ptr)
            snprintf (jwt, sizeof jwt, "%.*s", (int)lead->jwt.len,
                      lead->jwt.ptr);
        ef_client_set_api_key (self->client, key[0] ? key : NULL);
        ef_client_set_jwt (self->client, jwt[0] ? jwt : NULL);
        b->busy = 1;
        self->inflight++;
        int rc = ef_client_publish_async (self->client, stream, self->scratch,
                                          nev, s_on_reply, b);
        if (rc)
            s_on_reply (b, rc, NULL, 0);
    }
}

static void *
s_run (void *arg)
{
    ef_batcher_t *self = arg;
    for (;;) {
        pthread_mutex_lock (&self->mu);
        while (!self->head && !self->stopping && !self->inflight)
            pthread_cond_wait (&self->work, &self->mu);
        s_waiter_t *list = self->head;
        self->head = self->tail = NULL;
        int stop = self->stopping && !list && !self->inflight;
        pthread_mutex_unlock (&self->mu);
        if (stop)
            break;
        if (list)
            s_send (self, list);
        /* replies; new callers are looked at again within a millisecond */
        if (self->inflight && self->client)
            s_poll (self, 1);
    }
    ef_client_destroy (&self->client);
    return NULL;
}

int
ef_batcher_start (ef_batcher_t *self)
{
    if (pthread_create (&self->thread, NULL, s_run, self))
        return EF_EINTERNAL;
    self->running = 1;
    return 0;
}

void
ef_batcher_destroy (ef_batcher_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_batcher_t *self = *self_p;
    if (self->running) {
        pthread_mutex_lock (&self->mu);
        self->stopping = 1;
        pthread_cond_signal (&self->work);
        pthread_mutex_unlock (&self->mu);
        pthread_join (self->thread, NULL);
    }
    pthread_mutex_destroy (&self->mu);
    pthread_cond_destroy (&self->work);
    free (self->endpoint);
    free (self->scratch);
    free (self->batches);
    free (self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- callers */

int
ef_batcher_publish (ef_batcher_t *self, ef_str_t api_key, ef_str_t jwt,
                    ef_str_t stream, const ef_event_in_t *events, uint32_t n,
                    ef_batch_result_t *results, char *why,
                    uint64_t *retry_after_ms)
{
    s_waiter_t w;
    memset (&w, 0, sizeof w);
    w.api_key = api_key;
    w.jwt = jwt;
    w.stream = stream;
    w.events = events;
    w.n = n;
    w.results = results;
    w.why = why;
    w.retry_after_ms = retry_after_ms;
    why[0] = 0;
    sem_init (&w.done, 0, 0);
    pthread_mutex_lock (&self->mu);
    int was_empty = !self->head;
    if (self->tail)
        self->tail->next = &w;
    else
        self->head = &w;
    self->tail = &w;
    pthread_mutex_unlock (&self->mu);
    /* after the unlock, so the sender does not wake into a held lock; it
       waits only on an empty list, so only the first of a list wakes it */
    if (was_empty)
        pthread_cond_signal (&self->work);
    while (sem_wait (&w.done) != 0 && errno == EINTR)
        ;
    sem_destroy (&w.done);
    return w.status;
}
