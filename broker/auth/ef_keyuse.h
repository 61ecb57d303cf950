/*  ef_keyuse.h: how API keys are being used, in the broker's memory only:
    for each key the last time a request it authenticated came in, and how
    many such requests came in the last 60 seconds (one count per second,
    in a ring). Nothing of it is stored, so a restart starts from nothing,
    and the request path never writes to the store for it. A table of at
    most `capacity` keys: a new key takes a free place in its probe
    window, or the place of the key there that was used longest ago; a
    revoked key's entry is forgotten.
    Thread-safety: one thread (the reactor). */
#ifndef EF_KEYUSE_H
#define EF_KEYUSE_H

#include <stdint.h>
#include "eventflow/ef_mp.h"

typedef struct ef_keyuse ef_keyuse_t;

/*  A table for at most capacity keys (rounded up to a power of two, at
    least 64). NULL when out of memory. */
ef_keyuse_t *ef_keyuse_new (uint32_t capacity);
void ef_keyuse_destroy (ef_keyuse_t **self_p);

/*  A request authenticated by key (its id) at now_ms (wall clock). */
void ef_keyuse_note (ef_keyuse_t *self, ef_str_t key, uint64_t now_ms);
/*  key's last use (*last_ms, 0 when none is known) and the requests it
    authenticated in the 60 seconds up to now_ms (*per_min). */
void ef_keyuse_get (const ef_keyuse_t *self, ef_str_t key, uint64_t now_ms,
                    uint64_t *last_ms, uint64_t *per_min);
/*  Forget key (revoked): its place is free again. */
void ef_keyuse_forget (ef_keyuse_t *self, ef_str_t key);
/*  How many keys the table holds (for tests). */
uint32_t ef_keyuse_count (const ef_keyuse_t *self);

#endif
