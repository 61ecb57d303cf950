/*  ef_hasher.h: password hashing off the I/O thread. argon2id costs tens
    of milliseconds and 64 MiB per hash, so a small pool of threads does
    it, a bounded queue in front of them: a login burst waits here (or is
    refused as busy) while the reactor goes on publishing.
    The queue is fair: each request names its queue (w->hash_queue: the
    org, or the client address when there is no org yet), the threads
    serve the non-empty queues round-robin, and no queue holds more than
    an eighth of the whole (at least 4). One org's burst therefore delays
    another org's login by about one hash per thread, not by the burst.
    A request's hash_op says what to do with the password in req:
    EF_HASH_MAKE fills pwhash, EF_HASH_VERIFY sets pw_ok against pwhash.
    Thread-safety: submit from the reactor; results go to the done
    mailbox. */
#ifndef EF_HASHER_H
#define EF_HASHER_H

#include <stdint.h>
#include "ef_mailbox.h"
#include "ef_wreq.h"

typedef struct ef_hasher ef_hasher_t;

/*  threads workers, at most max_queue requests waiting. */
ef_hasher_t *ef_hasher_new (uint32_t threads, uint32_t max_queue,
                            ef_mailbox_t *done);
int ef_hasher_start (ef_hasher_t *self);
/*  Queue a request on its queue w->hash_queue. 0, or EF_EUNAVAILABLE
    when the hasher or that queue is full (the request stays the
    caller's). */
int ef_hasher_submit (ef_hasher_t *self, ef_wreq_t *w);
/*  Finish the queued work, stop the threads, free. Safe on NULL. */
void ef_hasher_destroy (ef_hasher_t **self_p);

/*  The hash of a password (crypto_pwhash_str, argon2id, interactive
    limits) into out[160]. 0 or EF_ENOMEM. Blocking and slow: never on the
    reactor. */
int ef_hasher_hash (const char *password, size_t len, char *out);

#endif
