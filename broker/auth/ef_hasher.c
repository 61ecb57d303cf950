/*  ef_hasher.c: a pool of argon2id workers fed from fair queues served
    round-robin (see ef_hasher.h). */
#include "ef_hasher.h"
#include "eventflow/ef_error.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define S_MAX_THREADS 8

/*  One fair queue: the requests of one org (or address), oldest first. */
typedef struct s_queue {
    struct s_queue *next; /* in the ring of non-empty queues, or free */
    uint64_t key;
    ef_wreq_t *head, *tail;
    uint32_t n;
} s_queue_t;

struct ef_hasher {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    s_queue_t *ring, *ring_tail; /* non-empty queues, served in turn */
    s_queue_t *spare;            /* empty queues to reuse */
    uint32_t queued;
    int closed;
    ef_mailbox_t *done;
    pthread_t threads[S_MAX_THREADS];
    uint32_t nthreads, started;
    uint32_t max_queue, max_per_queue;
};

int
ef_hasher_hash (const char *password, size_t len, char *out)
{
    return crypto_pwhash_str (out, password, len,
                              crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE)
               ? EF_ENOMEM
               : 0;
}

static void
s_work (ef_wreq_t *w)
{
    const char *pw = w->req.password.ptr ? w->req.password.ptr : "";
    size_t len = w->req.password.len;
    if (w->hash_op == EF_HASH_MAKE) {
        if (ef_hasher_hash (pw, len, w->pwhash)) {
            w->status = EF_ENOMEM;
            w->why = "cannot hash the password now";
        }
    } else if (w->hash_op == EF_HASH_VERIFY) {
        /* a missing user is verified against a dummy hash all the same,
           so that timing does not tell which emails exist */
        w->pw_ok =
            w->pwhash[0] && crypto_pwhash_str_verify (w->pwhash, pw, len) == 0;
    } else if (w->hash_op == EF_HASH_CHANGE) {
        w->pw_ok =
            w->pwhash[0] && crypto_pwhash_str_verify (w->pwhash, pw, len) == 0;
        if (w->pw_ok && ef_hasher_hash (w->req.new_password.ptr,
                                        w->req.new_password.len, w->pwhash)) {
            w->status = EF_ENOMEM;
            w->why = "cannot hash the password now";
        }
    }
}

/*  The next request to hash, from the queue whose turn it is (that
    queue then goes to the back of the ring). NULL once closed and empty.
    Blocks. */
static ef_wreq_t *
s_next (ef_hasher_t *self)
{
    pthread_mutex_lock (&self->lock);
    while (!self->ring && !self->closed)
        pthread_cond_wait (&self->ready, &self->lock);
    ef_wreq_t *w = NULL;
    s_queue_t *q = self->ring;
    if (q) {
        w = q->head;
        q->head = w->next;
        q->n--;
        self->queued--;
        self->ring = q->next;
        if (!self->ring)
            self->ring_tail = NULL;
        q->next = NULL;
        if (q->n) { /* its next request waits for the others' turns */
            if (self->ring_tail)
                self->ring_tail->next = q;
            else
                self->ring = q;
            self->ring_tail = q;
        } else {
            q->tail = NULL;
            q->next = self->spare;
            self->spare = q;
        }
    }
    pthread_mutex_unlock (&self->lock);
    if (w)
        w->next = NULL;
    return w;
}

static void *
s_run (void *arg)
{
    ef_hasher_t *self = arg;
    ef_wreq_t *w;
    /* hashing yields the CPU to ingest: a login burst slows logins, not
       publishing (Linux applies nice per thread) */
    if (setpriority (PRIO_PROCESS, (id_t)syscall (SYS_gettid), 10)) {
        /* not permitted: hashing runs at normal priority */
    }
    while ((w = s_next (self))) {
        s_work (w);
        w->next = NULL;
        ef_mailbox_post (self->done, w);
    }
    return NULL;
}

ef_hasher_t *
ef_hasher_new (uint32_t threads, uint32_t max_queue, ef_mailbox_t *done)
{
    ef_hasher_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->ready, NULL);
    self->done = done;
    self->nthreads = threads < 1               ? 1
                     : threads > S_MAX_THREADS ? S_MAX_THREADS
                                               : threads;
    self->max_queue = max_queue ? max_queue : 1;
    self->max_per_queue = self->max_queue / 8 < 4 ? 4 : self->max_queue / 8;
    return self;
}

int
ef_hasher_start (ef_hasher_t *self)
{
    for (; self->started < self->nthreads; self->started++)
        if (pthread_create (&self->threads[self->started], NULL, s_run, self))
            return EF_EINTERNAL;
    return 0;
}

int
ef_hasher_submit (ef_hasher_t *self, ef_wreq_t *w)
{
    int rc = 0;
    pthread_mutex_lock (&self->lock);
    s_queue_t *q = self->ring;
    while (q && q->key != w->hash_queue)
        q = q->next;
    if (self->closed || self->queued >= self->max_queue ||
        (q && q->n >= self->max_per_queue))
        rc = EF_EUNAVAILABLE;
    else if (!q) {
        /* a new turn at the back of the ring */
        if ((q = self->spare))
            self->spare = q->next;
        else if (!(q = calloc (1, sizeof *q)))
            rc = EF_EUNAVAILABLE;
        if (q) {
            q->key = w->hash_queue;
            q->head = q->tail = NULL;
            q->n = 0;
            q->next = NULL;
            if (self->ring_tail)
                self->ring_tail->next = q;
            else
                self->ring = q;
            self->ring_tail = q;
        }
    }
    if (rc == 0) {
        w->next = NULL;
        if (q->tail)
            q->tail->next = w;
        else
            q->head = w;
        q->tail = w;
        q->n++;
        self->queued++;
        pthread_cond_signal (&self->ready);
    }
    pthread_mutex_unlock (&self->lock);
    return rc;
}

static void
s_free_queues (s_queue_t *q)
{
    while (q) {
        s_queue_t *next = q->next;
        free (q);
        q = next;
    }
}

void
ef_hasher_destroy (ef_hasher_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_hasher_t *self = *self_p;
    /* the threads finish what is queued, then stop */
    pthread_mutex_lock (&self->lock);
    self->closed = 1;
    pthread_cond_broadcast (&self->ready);
    pthread_mutex_unlock (&self->lock);
    for (uint32_t i = 0; i < self->started; i++)
        pthread_join (self->threads[i], NULL);
    s_free_queues (self->ring); /* empty unless never started */
    s_free_queues (self->spare);
    pthread_mutex_destroy (&self->lock);
    pthread_cond_destroy (&self->ready);
    free (self);
    *self_p = NULL;
}
