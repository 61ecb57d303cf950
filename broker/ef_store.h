/*  ef_store.h: EventFlow's durable state, in EventFlow's own nouns.

    The store keeps streams, events (an append-only log per stream, ordered
    by a gap-free seq), the event-id index used for idempotency and look-up,
    and the per-stream head. Every LMDB call of the broker lives behind this
    interface (DESIGN.md §4), so that another backend can implement it.

    Transactions: one writer at a time (ef_store_write_begin/commit/abort,
    called from the writer thread only) and any number of readers, one
    ef_store_txn_t reader object per thread (ef_store_reader_new), which is
    begun and ended around each request. A commit is durable when it
    returns 0 (unless durability "os" was chosen).

    Errors: EF_ESTORE_FULL (map or disk full; the transaction was rolled
    back and nothing of it is stored), EF_ESTORE (I/O or corruption),
    EF_ENOTFOUND, EF_EEXISTS. EF_EPANIC-class failures (MDB_PANIC) are
    reported as EF_ESTORE and flagged by ef_store_broken(). */
#ifndef EF_STORE_H
#define EF_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "eventflow/ef_mp.h"
#include "eventflow/ef_uuid.h"

typedef struct ef_store ef_store_t;
typedef struct ef_store_txn ef_store_txn_t;

/*  A stream as stored. */
typedef struct {
    uint32_t num; /* internal number, key prefix of its events */
    uint32_t org;
    char id[EF_UUID_STRLEN + 1];
    char name[129];
    uint64_t created_at;
    /* its JSON Schema and pipeline (JSON texts; unset when none). When
       read from the store they point into it: valid until the
       transaction ends, and not to be kept past it. */
    ef_str_t schema;
    ef_str_t pipeline;
} ef_stream_rec_t;

/*  Create a store over directory dir (created if missing); not yet open. */
ef_store_t *ef_store_new (const char *dir);
/*  Close and free. Safe on NULL; clears *self_p. */
void ef_store_destroy (ef_store_t **self_p);
/*  Size of the memory map in bytes (default 64 GiB; the file grows as data
    is written, up to this). Before open. */
void ef_store_set_map_size (ef_store_t *self, uint64_t bytes);
/*  1 = fsync every commit (default), 0 = leave flushing to the OS. */
void ef_store_set_sync (ef_store_t *self, int fsync);
/*  Open (creating the databases on first use). 0, EF_ESTORE with *why. */
int ef_store_open (ef_store_t *self, const char **why);
/*  1 once the store hit an unrecoverable error (MDB_PANIC): the process
    should exit and be restarted. */
int ef_store_broken (const ef_store_t *self);
uint64_t ef_store_map_size (const ef_store_t *self);

/* ---------------------------------------------------------------- txns */

/*  A reader for the calling thread. NULL on failure. */
ef_store_txn_t *ef_store_reader_new (ef_store_t *self);
void ef_store_reader_destroy (ef_store_txn_t **txn_p);
/*  Take a snapshot / release it. Pointers returned under a snapshot are
    valid until ef_store_reader_end. */
int ef_store_reader_begin (ef_store_txn_t *txn);
void ef_store_reader_end (ef_store_txn_t *txn);

/*  The single write transaction (writer thread only). */
int ef_store_write_begin (ef_store_t *self, ef_store_txn_t **txn_p);
/*  Commit; *txn_p is cleared whether or not it succeeded. 0,
    EF_ESTORE_FULL or EF_ESTORE. */
int ef_store_write_commit (ef_store_txn_t **txn_p);
void ef_store_write_abort (ef_store_txn_t **txn_p);

/* ---------------------------------------------------------------- streams */

/*  Create stream name in org (write txn). EF_EEXISTS if taken. */
int ef_store_stream_create (ef_store_txn_t *txn, uint32_t org, ef_str_t name,
                            uint64_t now_ms, ef_stream_rec_t *out);
/*  Find a stream of org by its id or its name. EF_ENOTFOUND. */
int ef_store_stream_find (ef_store_txn_t *txn, uint32_t org, ef_str_t id_or_name,
                          ef_stream_rec_t *out);
/*  Get a stream by number. EF_ENOTFOUND. */
int ef_store_stream_get (ef_store_txn_t *txn, uint32_t num,
                         ef_stream_rec_t *out);
/*  Visit the streams of org in name order (org 0: every org's, by org);
    fn returns non-zero to stop. */
typedef int (ef_store_stream_fn) (void *arg, const ef_stream_rec_t *s);
int ef_store_stream_each (ef_store_txn_t *txn, uint32_t org,
                          ef_store_stream_fn *fn, void *arg);
/*  Set a stream's schema and pipeline (write txn; an unset value removes
    it). */
int ef_store_stream_configure (ef_store_txn_t *txn, uint32_t num,
                               ef_str_t schema, ef_str_t pipeline);
/*  Rename stream num of org (write txn). EF_EEXISTS if name is taken,
    EF_EINVAL for an empty or long name. */
int ef_store_stream_rename (ef_store_txn_t *txn, uint32_t num, ef_str_t name);
/*  The event id a stored record carries (for deleting its index entry). */
typedef int (ef_store_record_id_fn) (ef_str_t record, ef_uuid_t *id);
/*  Delete stream num with all its events (write txn; one transaction, so
    a very large stream makes a large commit). */
int ef_store_stream_delete (ef_store_txn_t *txn, uint32_t num,
                            ef_store_record_id_fn *id_of);

/*  First and last seq stored in a stream (0, 0 when empty). */
int ef_store_stream_bounds (ef_store_txn_t *txn, uint32_t num,
                            uint64_t *first, uint64_t *last);

/* ---------------------------------------------------------------- events */

/*  Append the event at seq with its id and its record bytes (write txn).
    seq must be the stream's last + 1: the single writer keeps each
    stream's head, and the store checks only that seq is not taken
    (EF_EINVAL), to keep appends at one B-tree operation. EF_ESTORE_FULL,
    EF_ESTORE. */
int ef_store_event_append (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                           const ef_uuid_t *id, const void *record,
                           size_t len);
/*  The seq of event id in stream num. EF_ENOTFOUND. */
int ef_store_event_find_in (ef_store_txn_t *txn, uint32_t num,
                            const ef_uuid_t *id, uint64_t *seq);
/*  Called for each stream of an org that holds an event id: 1 stops. */
typedef int (ef_store_event_at_fn) (void *arg, uint32_t num, uint64_t seq);
/*  Visit the streams of org holding event id, by stream number. The same
    id in another org is another event, never visited. 0 when fn stopped
    the walk, EF_ENOTFOUND when it did not (or nothing matched),
    EF_ESTORE. */
int ef_store_event_each_at (ef_store_txn_t *txn, uint32_t org,
                            const ef_uuid_t *id, ef_store_event_at_fn *fn,
                            void *arg);
/*  Where event id is stored in org: the first stream (by number) of org
    that has it. EF_ENOTFOUND. */
int ef_store_event_find (ef_store_txn_t *txn, uint32_t org,
                         const ef_uuid_t *id, uint32_t *num, uint64_t *seq);
/*  The record bytes of (num, seq). EF_ENOTFOUND. */
int ef_store_event_get (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                        ef_str_t *record);

/*  Visit events of stream num from seq `from` on, ascending (dir > 0) or
    descending (dir < 0, from included; from = UINT64_MAX for the last).
    fn returns non-zero to stop. */
typedef int (ef_store_event_fn) (void *arg, uint64_t seq, ef_str_t record);
int ef_store_event_each (ef_store_txn_t *txn, uint32_t num, uint64_t from,
                         int dir, ef_store_event_fn *fn, void *arg);

/*  Figures for STATS: org's streams and events, and the bytes the whole
    store uses. */
int ef_store_figures (ef_store_txn_t *txn, uint32_t org, uint64_t *streams,
                      uint64_t *events, uint64_t *bytes);

/*  The bytes of event records org has stored (kept up to date by
    appends and stream deletes in the same transaction, persisted). */
int ef_store_org_bytes (ef_store_txn_t *txn, uint32_t org, uint64_t *bytes);

/* ---------------------------------------------------------------- records */

/*  Small keyed records: the principals (orgs, users, keys, token
    families) that ef_principals encodes. Keys are at most 511 bytes. */
typedef enum {
    EF_TABLE_ORGS = 0,     /* org num(4)              → org record */
    EF_TABLE_USERS,        /* user id                 → user record */
    EF_TABLE_USER_EMAILS,  /* email                   → user id */
    EF_TABLE_ORG_USERS,    /* org num(4) user id      → "" */
    EF_TABLE_API_KEYS,     /* key id                  → key record */
    EF_TABLE_ORG_API_KEYS, /* org num(4) key id       → "" */
    EF_TABLE_CLIENT_KEYS,  /* curve public key(32)    → client key record */
    EF_TABLE_FAMILIES,     /* refresh family id       → family record */
    EF_TABLE_GROUPS,       /* stream num(4) group     → group record */
    EF_TABLE_STATES,       /* num(4) seq(8)           → processing state */
    EF_TABLE_JOBS,         /* due_ms(8) num(4) seq(8) → pipeline job */
    EF_TABLE_DLQ,          /* num(4) seq(8)           → dead letter */
    EF_TABLE_COUNT
} ef_table_t;

/*  The value stored under key (valid until the txn ends). EF_ENOTFOUND. */
int ef_store_rec_get (ef_store_txn_t *txn, ef_table_t table, const void *key,
                      size_t klen, ef_str_t *val);
/*  Store val under key (write txn). With create, EF_EEXISTS if the key is
    taken. */
int ef_store_rec_put (ef_store_txn_t *txn, ef_table_t table, const void *key,
                      size_t klen, const void *val, size_t vlen, int create);
/*  Remove key (write txn). EF_ENOTFOUND. */
int ef_store_rec_del (ef_store_txn_t *txn, ef_table_t table, const void *key,
                      size_t klen);
/*  Visit the records whose keys start with prefix (all if plen is 0), in
    key order; fn returns non-zero to stop. */
/*  How many records the table holds (O(1)). */
int ef_store_rec_count (ef_store_txn_t *txn, ef_table_t table, uint64_t *n);
typedef int (ef_store_rec_fn) (void *arg, ef_str_t key, ef_str_t val);
int ef_store_rec_each (ef_store_txn_t *txn, ef_table_t table,
                       const void *prefix, size_t plen, ef_store_rec_fn *fn,
                       void *arg);
/*  An ordered walk over a table from a key on, for merging a table with
    another walk (one cursor, no search per record). Records are valid
    until the txn ends. */
typedef struct {
    void *cur;
    ef_str_t key, val;
    int at_end;
} ef_store_iter_t;
/*  Position it at the first record whose key is >= key. */
int ef_store_iter_open (ef_store_txn_t *txn, ef_table_t table, const void *key,
                        size_t klen, ef_store_iter_t *it);
/*  Move to the next record (it->at_end set past the last). */
void ef_store_iter_next (ef_store_iter_t *it);
void ef_store_iter_close (ef_store_iter_t *it);
/*  The next value of a named counter, from 1 (write txn). */
int ef_store_counter_next (ef_store_txn_t *txn, const char *name,
                           uint32_t *out);

#endif
