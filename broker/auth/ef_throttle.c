/*  ef_throttle.c: failure counts in an ef_slots table keyed by a BLAKE2b
    hash of the key (see ef_throttle.h). */
#include "ef_throttle.h"
#include "ef_slots.h"
#include "eventflow/ef_error.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t hash[16];
    uint32_t fails;    /* in a row */
    uint64_t last_ms;  /* last failure */
    uint64_t until_ms; /* held back until then */
} s_entry_t;

struct ef_throttle {
    ef_slots_t *slots;
    uint32_t free_fails;
    uint64_t base_ms, max_ms;
};

static int
s_holds (const void *entry, const void *key, size_t len)
{
    const s_entry_t *e = entry;
    return len == sizeof e->hash && memcmp (e->hash, key, len) == 0;
}

static uint64_t
s_last_ms (const void *entry)
{
    return ((const s_entry_t *)entry)->last_ms;
}

static const ef_slots_type_t s_type = {sizeof (s_entry_t), s_holds, s_last_ms};

ef_throttle_t *
ef_throttle_new (uint32_t capacity, uint32_t free_fails, uint64_t base_ms,
                 uint64_t max_ms)
{
    ef_throttle_t *self = calloc (1, sizeof *self);
    if (!self || !(self->slots = ef_slots_new (capacity, &s_type))) {
        free (self);
        return NULL;
    }
    self->free_fails = free_fails;
    self->base_ms = base_ms ? base_ms : 1;
    self->max_ms = max_ms < self->base_ms ? self->base_ms : max_ms;
    return self;
}

void
ef_throttle_destroy (ef_throttle_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_slots_destroy (&(*self_p)->slots);
    free (*self_p);
    *self_p = NULL;
}

/*  key's entry; with make, a new one (in place of the most idle entry of
    its probe window when the window is full) when the key has none.
    NULL when absent. */
static s_entry_t *
s_entry (ef_throttle_t *self, const char *key, size_t len, int make)
{
    uint8_t h[16];
    crypto_generichash (h, sizeof h, (const unsigned char *)key, len, NULL, 0);
    if (!make)
        return ef_slots_find (self->slots, h, sizeof h);
    int made;
    s_entry_t *e = ef_slots_make (self->slots, h, sizeof h, &made);
    if (made)
        memcpy (e->hash, h, sizeof h);
    return e;
}

int
ef_throttle_check (ef_throttle_t *self, const char *key, size_t len,
                   uint64_t now_ms, uint64_t *retry_after_ms)
{
    s_entry_t *e = s_entry (self, key, len, 0);
    if (!e || e->until_ms <= now_ms)
        return 0;
    *retry_after_ms = e->until_ms - now_ms;
    return EF_ERATE;
}

void
ef_throttle_fail (ef_throttle_t *self, const char *key, size_t len,
                  uint64_t now_ms)
{
    s_entry_t *e = s_entry (self, key, len, 1);
    if (e->last_ms && now_ms - e->last_ms > self->max_ms)
        e->fails = 0; /* quiet for long enough: start afresh */
    e->last_ms = now_ms ? now_ms : 1;
    if (++e->fails <= self->free_fails)
        return;
    uint32_t doublings = e->fails - self->free_fails - 1;
    uint64_t delay =
        doublings >= 32 ? self->max_ms : self->base_ms << doublings;
    if (delay > self->max_ms)
        delay = self->max_ms;
    e->until_ms = now_ms + delay;
}

void
ef_throttle_clear (ef_throttle_t *self, const char *key, size_t len)
{
    s_entry_t *e = s_entry (self, key, len, 0);
    if (e)
        ef_slots_remove (self->slots, e);
}
