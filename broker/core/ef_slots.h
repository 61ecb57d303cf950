/*  ef_slots.h: a bounded open-addressing table for per-key state the
    broker keeps in memory only: API keys' recent use (ef_keyuse),
    rate-limit buckets (ef_ratelimit) and failed logins (ef_throttle).
    Each place holds one entry of the caller's own type; the caller tells
    the table, through an ef_slots_type_t, whether an entry holds a key
    and when it was last used, and the table owns which places are taken.
    A key's FNV-1a hash picks a window of EF_SLOTS_WINDOW places. A
    look-up scans the whole window (a removed entry leaves a hole, not a
    tombstone), so a key is found wherever in its window it was placed.
    A new key takes the first free place of its window, else the place of
    the window's entry used longest ago: the memory is fixed when the
    table is made, whatever a peer sends.
    Thread-safety: none; a table belongs to one thread (the reactor). */
#ifndef EF_SLOTS_H
#define EF_SLOTS_H

#include <stddef.h>
#include <stdint.h>

/*  Places probed per key. */
#define EF_SLOTS_WINDOW 16

typedef struct ef_slots ef_slots_t;

/*  What the table knows of its entries. */
typedef struct {
    size_t size; /* bytes per entry */
    /*  Whether entry (in a taken place) holds key (len bytes). */
    int (*holds) (const void *entry, const void *key, size_t len);
    /*  When entry was last used: the least is given up first. */
    uint64_t (*last_ms) (const void *entry);
} ef_slots_type_t;

/*  A table of capacity places (rounded up to a power of two, at least
    64), all free, for entries as type says (type must outlive the
    table). NULL when out of memory. */
ef_slots_t *ef_slots_new (uint32_t capacity, const ef_slots_type_t *type);
/*  Frees the table and its entries; safe on NULL, clears *self_p. */
void ef_slots_destroy (ef_slots_t **self_p);

/*  key's entry (owned by the table), or NULL when it holds none. */
void *ef_slots_find (const ef_slots_t *self, const void *key, size_t len);
/*  key's entry; when it has none, a place for it, zeroed, and *made set
    to 1 (else 0): the first free place of its window, else the place of
    the window's entry used longest ago, which is forgotten. The caller
    writes the key into the entry. Never NULL. */
void *ef_slots_make (ef_slots_t *self, const void *key, size_t len, int *made);
/*  Free entry's place (entry as find or make returned it). */
void ef_slots_remove (ef_slots_t *self, void *entry);
/*  How many places are taken. */
uint32_t ef_slots_count (const ef_slots_t *self);
/*  The FNV-1a hash of len bytes at key: where a key's window starts. For
    the broker's other small hash tables too. */
uint32_t ef_slots_hash (const void *key, size_t len);

#endif
