/*  ef_polls.h: admission of the long polls the bridge holds (group
    fetches with a timeout): at most per_credential of them at once for
    one credential (the next is refused with a rate error, HTTP 429) and
    at most total in all (the next is refused as unavailable, HTTP 503),
    so that waiting requests never take the threads short requests need.
    Credentials are told apart by a keyed hash (SipHash, with a key made
    at start), so no client can aim its count at another's.
    Thread-safety: every function but new/destroy from any thread. */
#ifndef EF_POLLS_H
#define EF_POLLS_H

#include <stdint.h>
#include "eventflow/ef_mp.h"

typedef struct ef_polls ef_polls_t;

/*  Limits as above (each at least 1). NULL when out of memory. */
ef_polls_t *ef_polls_new (uint32_t total, uint32_t per_credential);
void ef_polls_destroy (ef_polls_t **self_p);

/*  Admit one long poll for credential (may be empty: one shared count).
    0 and *ticket (hand it to ef_polls_leave), EF_ERATE when the
    credential has per_credential waiting, EF_EUNAVAILABLE when total are
    waiting. */
int ef_polls_enter (ef_polls_t *self, ef_str_t credential, uint64_t *ticket);
/*  The long poll of ticket has ended. */
void ef_polls_leave (ef_polls_t *self, uint64_t ticket);
/*  How many are admitted now, in all. */
uint32_t ef_polls_count (ef_polls_t *self);

#endif
