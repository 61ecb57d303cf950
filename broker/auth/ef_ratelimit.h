/*  ef_ratelimit.h: token buckets, one per API key: capacity `burst`,
    starting full, refilled at `per_second`; each request takes one token.
    Buckets live in memory (a restart refills them), in a table that
    forgets the longest-idle bucket when full.
    Thread-safety: one thread (the reactor). */
#ifndef EF_RATELIMIT_H
#define EF_RATELIMIT_H

#include <stdint.h>

typedef struct ef_ratelimit ef_ratelimit_t;

/*  A limiter holding at most capacity buckets. NULL on OOM. */
ef_ratelimit_t *ef_ratelimit_new (uint32_t capacity);
void ef_ratelimit_destroy (ef_ratelimit_t **self_p);
/*  Take one token from key's bucket at now_ms. 0, or EF_ERATE with
    *retry_after_ms set to when the next token is due. per_second 0 means
    no limit. */
int ef_ratelimit_take (ef_ratelimit_t *self, const char *key,
                       uint32_t per_second, uint32_t burst, uint64_t now_ms,
                       uint64_t *retry_after_ms);

#endif
