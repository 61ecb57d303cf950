/*  ef_slots.c: the bounded open-addressing table (see ef_slots.h). The
    entries lie in one array of cap × size bytes; a parallel array of
    flags says which places are taken, so that an entry's own fields need
    not mark a free place. */
#include "ef_slots.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct ef_slots {
    const ef_slots_type_t *type;
    unsigned char *entries; /* cap × type->size bytes */
    unsigned char *taken;   /* cap flags */
    uint32_t cap;           /* a power of two */
    uint32_t n;             /* places taken */
};

ef_slots_t *
ef_slots_new (uint32_t capacity, const ef_slots_type_t *type)
{
    assert (type && type->size && type->holds && type->last_ms);
    ef_slots_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->type = type;
    self->cap = 64;
    while (self->cap < capacity)
        self->cap *= 2;
    self->entries = calloc (self->cap, type->size);
    self->taken = calloc (self->cap, 1);
    if (!self->entries || !self->taken)
        ef_slots_destroy (&self);
    return self;
}

void
ef_slots_destroy (ef_slots_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->entries);
    free ((*self_p)->taken);
    free (*self_p);
    *self_p = NULL;
}

uint32_t
ef_slots_hash (const void *key, size_t len)
{
    const uint8_t *p = key;
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static unsigned char *
s_entry (const ef_slots_t *self, uint32_t at)
{
    return self->entries + (size_t)at * self->type->size;
}

/*  The place of key in its window, or cap when it has none; *place (when
    not NULL) gets where a new key would go: the window's first free
    place, else that of its entry used longest ago. */
static uint32_t
s_probe (const ef_slots_t *self, const void *key, size_t len, uint32_t *place)
{
    const ef_slots_type_t *t = self->type;
    uint32_t mask = self->cap - 1, h = ef_slots_hash (key, len);
    uint32_t free_at = self->cap;
    for (uint32_t i = 0; i < EF_SLOTS_WINDOW; i++) {
        uint32_t at = (h + i) & mask;
        int taken = self->taken[at];
        if (taken && t->holds (s_entry (self, at), key, len))
            return at;
        if (free_at == self->cap ||
            (self->taken[free_at] &&
             (!taken || t->last_ms (s_entry (self, at)) <
                            t->last_ms (s_entry (self, free_at)))))
            free_at = at;
    }
    if (place)
        *place = free_at;
    return self->cap;
}

void *
ef_slots_find (const ef_slots_t *self, const void *key, size_t len)
{
    uint32_t at = s_probe (self, key, len, NULL);
    return at < self->cap ? s_entry (self, at) : NULL;
}

void *
ef_slots_make (ef_slots_t *self, const void *key, size_t len, int *made)
{
    uint32_t place, at = s_probe (self, key, len, &place);
    *made = at == self->cap;
    if (!*made)
        return s_entry (self, at);
    self->n += !self->taken[place];
    self->taken[place] = 1;
    memset (s_entry (self, place), 0, self->type->size);
    return s_entry (self, place);
}

void
ef_slots_remove (ef_slots_t *self, void *entry)
{
    size_t off = (size_t)((unsigned char *)entry - self->entries);
    uint32_t at = (uint32_t)(off / self->type->size);
    assert (off % self->type->size == 0 && at < self->cap && self->taken[at]);
    memset (entry, 0, self->type->size);
    self->taken[at] = 0;
    self->n--;
}

uint32_t
ef_slots_count (const ef_slots_t *self)
{
    return self->n;
}
