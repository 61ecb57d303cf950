/*  ef_keyuse.c: API keys' recent use (see ef_keyuse.h) in an ef_slots
    table keyed by the key id: a new key takes a free place of its window
    or that of the key there used longest ago; a forgotten key's place is
    free again. */
#include "ef_keyuse.h"
#include "ef_slots.h"

#include <stdlib.h>
#include <string.h>

#define S_KEY_MAX 64 /* key ids are shorter (ef_who_t.id) */
#define S_SECONDS 60 /* the ring: requests per second, the last minute */

typedef struct {
    char key[S_KEY_MAX];
    uint8_t len;
    uint64_t last_ms; /* the last request */
    uint64_t sec;     /* the newest second counted in the ring */
    uint32_t count[S_SECONDS];
} s_entry_t;

struct ef_keyuse {
    ef_slots_t *slots;
};

static int
s_holds (const void *entry, const void *key, size_t len)
{
    const s_entry_t *e = entry;
    return e->len == len && memcmp (e->key, key, len) == 0;
}

static uint64_t
s_last_ms (const void *entry)
{
    return ((const s_entry_t *)entry)->last_ms;
}

static const ef_slots_type_t s_type = {sizeof (s_entry_t), s_holds, s_last_ms};

ef_keyuse_t *
ef_keyuse_new (uint32_t capacity)
{
    ef_keyuse_t *self = calloc (1, sizeof *self);
    if (!self || !(self->slots = ef_slots_new (capacity, &s_type))) {
        free (self);
        return NULL;
    }
    return self;
}

void
ef_keyuse_destroy (ef_keyuse_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_slots_destroy (&(*self_p)->slots);
    free (*self_p);
    *self_p = NULL;
}

/*  Whether key can be a key id, and so be kept. */
static int
s_key_id (ef_str_t key)
{
    return ef_str_set (key) && key.len > 0 && key.len < S_KEY_MAX;
}

/*  key's entry, or NULL. */
static s_entry_t *
s_find (const ef_keyuse_t *self, ef_str_t key)
{
    if (!s_key_id (key))
        return NULL;
    return ef_slots_find (self->slots, key.ptr, key.len);
}

/*  key's entry, made when it has none (NULL: not a key id). */
static s_entry_t *
s_entry (ef_keyuse_t *self, ef_str_t key)
{
    if (!s_key_id (key))
        return NULL;
    int made;
    s_entry_t *e = ef_slots_make (self->slots, key.ptr, key.len, &made);
    if (made) {
        memcpy (e->key, key.ptr, key.len);
        e->len = (uint8_t)key.len;
    }
    return e;
}

void
ef_keyuse_note (ef_keyuse_t *self, ef_str_t key, uint64_t now_ms)
{
    s_entry_t *e = s_entry (self, key);
    if (!e)
        return;
    uint64_t sec = now_ms / 1000;
    if (sec > e->sec) {
        /* the seconds since the newest counted start at 0 */
        uint64_t gap = sec - e->sec;
        for (uint64_t s = 1; s <= gap && s <= S_SECONDS; s++)
            e->count[(e->sec + s) % S_SECONDS] = 0;
        e->sec = sec;
    }
    e->count[e->sec % S_SECONDS]++; /* (a clock gone back: the newest) */
    if (now_ms > e->last_ms)
        e->last_ms = now_ms;
}

void
ef_keyuse_get (const ef_keyuse_t *self, ef_str_t key, uint64_t now_ms,
               uint64_t *last_ms, uint64_t *per_min)
{
    const s_entry_t *e = s_find (self, key);
    *last_ms = e ? e->last_ms : 0;
    *per_min = 0;
    if (!e)
        return;
    /* the counted seconds within the minute up to now: from
       max (now, e->sec) - 59 to e->sec */
    uint64_t now = now_ms / 1000, top = now > e->sec ? now : e->sec;
    uint64_t from = top >= S_SECONDS - 1 ? top - (S_SECONDS - 1) : 0;
    for (uint64_t s = from; s <= e->sec; s++)
        *per_min += e->count[s % S_SECONDS];
}

void
ef_keyuse_forget (ef_keyuse_t *self, ef_str_t key)
{
    s_entry_t *e = s_find (self, key);
    if (e)
        ef_slots_remove (self->slots, e);
}

uint32_t
ef_keyuse_count (const ef_keyuse_t *self)
{
    return ef_slots_count (self->slots);
}
