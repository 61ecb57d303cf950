/*  ef_mailbox.c: a mutex-protected list, a condition variable and an
    eventfd (see ef_mailbox.h). */
#include "ef_mailbox.h"

#include <pthread.h>
#include <time.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct ef_mailbox {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ef_wreq_t *head, *tail;
    uint32_t size;
    int closed;
    int efd;
};

ef_mailbox_t *
ef_mailbox_new (void)
{
    ef_mailbox_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->efd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (self->efd < 0) {
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->mu, NULL);
    /* timed waits count on the monotonic clock: a step of the wall clock
       neither ends them early nor stretches them */
    pthread_condattr_t ca;
    pthread_condattr_init (&ca);
    pthread_condattr_setclock (&ca, CLOCK_MONOTONIC);
    pthread_cond_init (&self->cv, &ca);
    pthread_condattr_destroy (&ca);
    return self;
}

void
ef_mailbox_destroy (ef_mailbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_mailbox_t *self = *self_p;
    close (self->efd);
    pthread_mutex_destroy (&self->mu);
    pthread_cond_destroy (&self->cv);
    free (self);
    *self_p = NULL;
}

void
ef_mailbox_post (ef_mailbox_t *self, ef_wreq_t *list)
{
    if (!list)
        return;
    ef_wreq_t *tail = list;
    uint32_t n = 1;
    while (tail->next)
        tail = tail->next, n++;
    pthread_mutex_lock (&self->mu);
    if (self->tail)
        self->tail->next = list;
    else
        self->head = list;
    self->tail = tail;
    self->size += n;
    pthread_cond_signal (&self->cv);
    pthread_mutex_unlock (&self->mu);
    uint64_t one = 1;
    if (write (self->efd, &one, sizeof one) < 0) {
        /* the counter saturating only means the fd stays readable */
    }
}

/*  Detach up to max requests (0 = all); the lock is held. */
static ef_wreq_t *
s_detach (ef_mailbox_t *self, uint32_t max)
{
    ef_wreq_t *list = self->head;
    if (!list)
        return NULL;
    if (max == 0 || max >= self->size) {
        self->head = self->tail = NULL;
        self->size = 0;
        return list;
    }
    ef_wreq_t *last = list;
    for (uint32_t i = 1; i < max; i++)
        last = last->next;
    self->head = last->next;
    last->next = NULL;
    self->size -= max;
    return list;
}

ef_wreq_t *
ef_mailbox_take (ef_mailbox_t *self)
{
    uint64_t n;
    if (read (self->efd, &n, sizeof n) < 0) {
        /* nothing signalled: look anyway, a post may be under way */
    }
    pthread_mutex_lock (&self->mu);
    ef_wreq_t *list = s_detach (self, 0);
    pthread_mutex_unlock (&self->mu);
    return list;
}

ef_wreq_t *
ef_mailbox_wait (ef_mailbox_t *self, uint32_t max)
{
    pthread_mutex_lock (&self->mu);
    while (!self->head && !self->closed)
        pthread_cond_wait (&self->cv, &self->mu);
    ef_wreq_t *list = s_detach (self, max);
    if (self->head) /* others may take the rest */
        pthread_cond_signal (&self->cv);
    pthread_mutex_unlock (&self->mu);
    return list;
}

ef_wreq_t *
ef_mailbox_wait_for (ef_mailbox_t *self, uint32_t max, int64_t timeout_ms)
{
    if (timeout_ms < 0)
        return ef_mailbox_wait (self, max);
    struct timespec until;
    clock_gettime (CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock (&self->mu);
    while (!self->head && !self->closed)
        if (pthread_cond_timedwait (&self->cv, &self->mu, &until))
            break;
    ef_wreq_t *list = s_detach (self, max);
    pthread_mutex_unlock (&self->mu);
    return list;
}

int
ef_mailbox_closed (ef_mailbox_t *self)
{
    pthread_mutex_lock (&self->mu);
    int closed = self->closed;
    pthread_mutex_unlock (&self->mu);
    return closed;
}

void
ef_mailbox_close (ef_mailbox_t *self)
{
    pthread_mutex_lock (&self->mu);
    self->closed = 1;
    pthread_cond_broadcast (&self->cv);
    pthread_mutex_unlock (&self->mu);
}

int
ef_mailbox_fd (const ef_mailbox_t *self)
{
    return self->efd;
}

uint32_t
ef_mailbox_size (ef_mailbox_t *self)
{
    pthread_mutex_lock (&self->mu);
    uint32_t n = self->size;
    pthread_mutex_unlock (&self->mu);
    return n;
}
