/*  ef_keyuse.c: API keys' recent use (see ef_keyuse.h) in an
    open-addressing table keyed by the key id. A look-up scans the whole
    probe window (a forgotten key leaves a hole, not a tombstone), so a
    key is found wherever in its window it was placed. */
#include "ef_keyuse.h"

#include <stdlib.h>
#include <string.h>

#define S_KEY_MAX 64 /* key ids are shorter (ef_who_t.id) */
#define S_WINDOW  16 /* places probed per key */
#define S_SECONDS 60 /* the ring: requests per second, the last minute */

typedef struct {
    char key[S_KEY_MAX];
    uint8_t len;      /* 0: a free place */
    uint64_t last_ms; /* the last request */
    uint64_t sec;     /* the newest second counted in the ring */
    uint32_t count[S_SECONDS];
} s_entry_t;

struct ef_keyuse {
    s_entry_t *slots;
    uint32_t cap; /* power of two */
    uint32_t n;
};

ef_keyuse_t *
ef_keyuse_new (uint32_t capacity)
{
    ef_keyuse_t *self = calloc (1, sizeof *self);
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
ef_keyuse_destroy (ef_keyuse_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->slots);
    free (*self_p);
    *self_p = NULL;
}

static uint32_t
s_hash (ef_str_t s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (uint32_t i = 0; i < s.len; i++)
        h = (h ^ (uint8_t)s.ptr[i]) * 16777619u;
    return h;
}

/*  key's entry, or NULL; *place (when not NULL) gets where a new one
    would go: a free place of its window, else that of the window's
    longest unused key. */
static s_entry_t *
s_find (const ef_keyuse_t *self, ef_str_t key, s_entry_t **place)
{
    if (!ef_str_set (key) || key.len == 0 || key.len >= S_KEY_MAX)
        return NULL;
    uint32_t mask = self->cap - 1, h = s_hash (key);
    s_entry_t *free_at = NULL;
    for (uint32_t i = 0; i < S_WINDOW; i++) {
        s_entry_t *e = &self->slots[(h + i) & mask];
        if (e->len == key.len && memcmp (e->key, key.ptr, key.len) == 0)
            return e;
        if (!free_at ||
            (free_at->len && (!e->len || e->last_ms < free_at->last_ms)))
            free_at = e;
    }
    if (place)
        *place = free_at;
    return NULL;
}

/*  key's entry, made when it has none (NULL: not a key id). */
static s_entry_t *
s_entry (ef_keyuse_t *self, ef_str_t key)
{
    s_entry_t *place = NULL, *e = s_find (self, key, &place);
    if (e || !place)
        return e;
    self->n += place->len == 0;
    memset (place, 0, sizeof *place);
    memcpy (place->key, key.ptr, key.len);
    place->len = (uint8_t)key.len;
    return place;
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
    const s_entry_t *e = s_find (self, key, NULL);
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
    s_entry_t *e = s_find (self, key, NULL);
    if (e) {
        memset (e, 0, sizeof *e);
        self->n--;
    }
}

uint32_t
ef_keyuse_count (const ef_keyuse_t *self)
{
    return self->n;
}
