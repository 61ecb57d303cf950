/*  ef_ratelimit.c: token buckets in an ef_slots table keyed by the API
    key id (see ef_ratelimit.h). Tokens are kept in millitokens so that
    the arithmetic stays integral. */
#include "ef_ratelimit.h"
#include "ef_slots.h"
#include "eventflow/ef_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_KEY_MAX 32

typedef struct {
    char key[S_KEY_MAX];
    uint64_t milli;   /* tokens × 1000 */
    uint64_t last_ms; /* last refill */
} s_bucket_t;

struct ef_ratelimit {
    ef_slots_t *slots;
};

static int
s_holds (const void *entry, const void *key, size_t len)
{
    const s_bucket_t *b = entry;
    return strlen (b->key) == len && memcmp (b->key, key, len) == 0;
}

static uint64_t
s_last_ms (const void *entry)
{
    return ((const s_bucket_t *)entry)->last_ms;
}

static const ef_slots_type_t s_type = {sizeof (s_bucket_t), s_holds, s_last_ms};

ef_ratelimit_t *
ef_ratelimit_new (uint32_t capacity)
{
    ef_ratelimit_t *self = calloc (1, sizeof *self);
    if (!self || !(self->slots = ef_slots_new (capacity, &s_type))) {
        free (self);
        return NULL;
    }
    return self;
}

void
ef_ratelimit_destroy (ef_ratelimit_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_slots_destroy (&(*self_p)->slots);
    free (*self_p);
    *self_p = NULL;
}

/*  The key's bucket, or a new full one (in place of the most idle bucket
    of the probe window when the window is full). */
static s_bucket_t *
s_bucket (ef_ratelimit_t *self, const char *key, uint32_t burst, uint64_t now)
{
    int made;
    s_bucket_t *b = ef_slots_make (self->slots, key, strlen (key), &made);
    if (made) {
        snprintf (b->key, S_KEY_MAX, "%s", key);
        b->milli = (uint64_t)burst * 1000;
        b->last_ms = now ? now : 1;
    }
    return b;
}

int
ef_ratelimit_take (ef_ratelimit_t *self, const char *key, uint32_t per_second,
                   uint32_t burst, uint64_t now_ms, uint64_t *retry_after_ms)
{
    if (per_second == 0)
        return 0;
    if (burst == 0)
        burst = 1;
    s_bucket_t *b = s_bucket (self, key, burst, now_ms);
    uint64_t cap = (uint64_t)burst * 1000;
    if (now_ms > b->last_ms) {
        /* per_second tokens a second = per_second millitokens a ms */
        uint64_t add = (now_ms - b->last_ms) * per_second;
        b->milli = b->milli + add > cap ? cap : b->milli + add;
        b->last_ms = now_ms;
    }
    if (b->milli >= 1000) {
        b->milli -= 1000;
        return 0;
    }
    uint64_t need = 1000 - b->milli;
    *retry_after_ms = (need + per_second - 1) / per_second;
    return EF_ERATE;
}
