/*  ef_throttle.h: failed logins held back, per key (an email, a client
    address). A key may fail `free_fails` times in a row at no cost; each
    failure after that holds the key back for a delay that doubles with
    every further failure (base_ms, 2×base_ms, … up to max_ms). While a
    key is held back, nothing about it is checked: the caller answers
    RATE_LIMITED with the time left. A success clears the key; a key that
    has not failed for max_ms starts afresh. Keys are kept as 128-bit
    hashes in a fixed table that forgets its most idle entry when full,
    so its memory is bounded whatever a peer sends. State lives in the
    broker's memory (a restart forgets it), shared by every bridge.
    Thread-safety: one thread (the reactor). */
#ifndef EF_THROTTLE_H
#define EF_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct ef_throttle ef_throttle_t;

/*  A table of at most capacity keys. NULL on OOM. */
ef_throttle_t *ef_throttle_new (uint32_t capacity, uint32_t free_fails,
                                uint64_t base_ms, uint64_t max_ms);
void ef_throttle_destroy (ef_throttle_t **self_p);
/*  0 when key (len bytes; case as given) may try now, or EF_ERATE with
    *retry_after_ms set to the time left. */
int ef_throttle_check (ef_throttle_t *self, const char *key, size_t len,
                       uint64_t now_ms, uint64_t *retry_after_ms);
/*  Count a failure of key at now_ms. */
void ef_throttle_fail (ef_throttle_t *self, const char *key, size_t len,
                       uint64_t now_ms);
/*  Forget key's failures (a success). */
void ef_throttle_clear (ef_throttle_t *self, const char *key, size_t len);

#endif
