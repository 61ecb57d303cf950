/*  ef_mailbox.h: how requests move between the broker's threads. A
    mailbox is a queue of ef_wreq_t (linked through ->next) with a
    condition variable for threads that block on it and an eventfd for the
    reactor, which polls it with its socket.
    Thread-safety: every function may be called from any thread. */
#ifndef EF_MAILBOX_H
#define EF_MAILBOX_H

#include <stdint.h>
#include "ef_wreq.h"

typedef struct ef_mailbox ef_mailbox_t;

ef_mailbox_t *ef_mailbox_new (void);
void ef_mailbox_destroy (ef_mailbox_t **self_p);
/*  Append a list of requests (ownership passes to the mailbox). */
void ef_mailbox_post (ef_mailbox_t *self, ef_wreq_t *list);
/*  Take everything waiting, oldest first, without blocking (NULL if
    nothing); clears the readiness of the fd. */
ef_wreq_t *ef_mailbox_take (ef_mailbox_t *self);
/*  Block until something waits or the mailbox is closed; take at most max
    requests (0 = all). NULL only once closed and empty. */
ef_wreq_t *ef_mailbox_wait (ef_mailbox_t *self, uint32_t max);
/*  The same, giving up after timeout_ms (NULL then too; -1 waits as long
    as it takes). */
ef_wreq_t *ef_mailbox_wait_for (ef_mailbox_t *self, uint32_t max,
                                int64_t timeout_ms);
/*  1 once closed. */
int ef_mailbox_closed (ef_mailbox_t *self);
/*  Close: waiters wake, take what is left, then get NULL. */
void ef_mailbox_close (ef_mailbox_t *self);
/*  Readable while requests wait (for poll). */
int ef_mailbox_fd (const ef_mailbox_t *self);
/*  Requests waiting now. */
uint32_t ef_mailbox_size (ef_mailbox_t *self);

#endif
