/*  ef_ratelimit.c: token buckets in an open-addressing table keyed by the
    API key id (see ef_ratelimit.h). Tokens are kept in millitokens so that
    the arithmetic stays integral. */
#include "ef_ratelimit.h"
#include "eventflow/ef_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_KEY_MAX 32

typedef struct {
    char key[S_KEY_MAX];
    uint64_t milli;   /* tokens × 1000 */
    uint64_t last_ms; /* last refill; 0 = free slot */
} s_bucket_t;

struct ef_ratelimit {
    s_bucket_t *slots;
    uint32_t cap; /* power of two */
};

ef_ratelimit_t *
ef_ratelimit_new (uint32_t capacity)
{
    ef_ratelimit_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cap = 64;
    while (self->cap < capacity)
        self->cap *= 2;
    self->slots = calloc (self->cap, sizeof *self->slots);
    if (!self->slots) {
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
    free ((*self_p)->slots);
    free (*self_p);
    *self_p = NULL;
}

static uint32_t
s_hash (const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/*  The key's bucket, or a new full one (replacing the most idle bucket of
    the probe window when the window is full). */
static s_bucket_t *
s_bucket (ef_ratelimit_t *self, const char *key, uint32_t burst, uint64_t now)
{
    uint32_t mask = self->cap - 1, h = s_hash (key);
    s_bucket_t *victim = NULL;
    for (uint32_t i = 0; i < 16; i++) {
        s_bucket_t *b = &self->slots[(h + i) & mask];
        if (b->last_ms && strcmp (b->key, key) == 0)
            return b;
        if (!b->last_ms) {
            victim = b;
            break;
        }
        if (!victim || b->last_ms < victim->last_ms)
            victim = b;
    }
    snprintf (victim->key, S_KEY_MAX, "%s", key);
    victim->milli = (uint64_t)burst * 1000;
    victim->last_ms = now ? now : 1;
    return victim;
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
