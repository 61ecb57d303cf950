/*  ef_hasher.c: a pool of argon2id workers fed from fair queues served
    round-robin (see ef_hasher.h). */
#include "ef_hasher.h"
#include "ef_fairq.h"
#include "eventflow/ef_error.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define S_MAX_THREADS 8

struct ef_hasher {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    ef_fairq_t *queue; /* the requests waiting, by w->hash_queue */
    ef_mailbox_t *done;
    pthread_t threads[S_MAX_THREADS];
    uint32_t nthreads, started;
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

/*  The next request to hash, from the queue whose turn it is. NULL once
    closed and empty. Blocks. */
static ef_wreq_t *
s_next (ef_hasher_t *self)
{
    pthread_mutex_lock (&self->lock);
    while (!ef_fairq_count (self->queue) && !ef_fairq_closed (self->queue))
        pthread_cond_wait (&self->ready, &self->lock);
    ef_wreq_t *w = ef_fairq_take (self->queue);
    pthread_mutex_unlock (&self->lock);
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
    max_queue = max_queue ? max_queue : 1;
    self->queue =
        ef_fairq_new (max_queue, max_queue / 8 < 4 ? 4 : max_queue / 8);
    if (!self->queue) {
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->ready, NULL);
    self->done = done;
    self->nthreads = threads < 1               ? 1
                     : threads > S_MAX_THREADS ? S_MAX_THREADS
                                               : threads;
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
    pthread_mutex_lock (&self->lock);
    int rc = ef_fairq_push (self->queue, w->hash_queue, w);
    if (rc == 0) {
        w->next = NULL;
        pthread_cond_signal (&self->ready);
    }
    pthread_mutex_unlock (&self->lock);
    return rc;
}

void
ef_hasher_destroy (ef_hasher_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_hasher_t *self = *self_p;
    /* the threads finish what is queued, then stop */
    pthread_mutex_lock (&self->lock);
    ef_fairq_close (self->queue);
    pthread_cond_broadcast (&self->ready);
    pthread_mutex_unlock (&self->lock);
    for (uint32_t i = 0; i < self->started; i++)
        pthread_join (self->threads[i], NULL);
    ef_fairq_destroy (&self->queue); /* empty unless never started */
    pthread_mutex_destroy (&self->lock);
    pthread_cond_destroy (&self->ready);
    free (self);
    *self_p = NULL;
}
