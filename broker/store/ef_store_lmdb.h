/*  ef_store_lmdb.h: what the files of the LMDB store share (private to
    ef_store_lmdb*.c; everyone else includes ef_store.h only).

    One environment, named databases, all with big-endian binary keys so
    that LMDB's order is the order ef_store.h promises:
      meta              "next_stream", "next_org" → u32;
                        "format" → u32 (EF_STORE_FORMAT; none: before
                        formats, read as 1; older formats are
                        upgraded at open);
                        "org_bytes" org(4) → u64; "trim" num(4) → u64;
                        "stream_bytes" num(4) → u64
                        "dlq_org" org(4), "dlq_stream" num(4) → u64
      streams           num(4)                → msgpack [org, id, name, ...]
      stream_names      org(4) name           → num(4)
      stream_ids        id(36)                → num(4)
      events            num(4) seq(8)         → record (ef_record.h)
      event_ids         uuid(16) num(4)       → seq(8)
      event_states      num(4) seq(8)         → processing state
      histories         num(4) seq(8)         → processing attempts
      groups            stream num(4) name    → group record
      jobs              due_ms(8) num(4) seq(8) → ""
      dlq               num(4) seq(8)         → dead letter
      orgs              org num(4)            → org record
      users             user id               → user record
      user_emails       email                 → user id
      org_users         org num(4) user id    → ""
      api_keys          key id                → key record
      org_api_keys      org num(4) key id     → ""
      client_keys       curve public key(32)  → client key record
      refresh_families  family id             → family record
    The single writer of ef_store.h is LMDB's own: one write txn at a time
    per environment (its lock file serialises processes too). */
#ifndef EF_STORE_LMDB_H
#define EF_STORE_LMDB_H

#include "ef_store.h"
#include "eventflow/ef_error.h"

#include <lmdb.h>
#include <stdint.h>

enum {
    S_META,
    S_STREAMS,
    S_STREAM_NAMES,
    S_STREAM_IDS,
    S_EVENTS,
    S_EVENT_IDS,
    S_ORGS,
    S_USERS,
    S_USER_EMAILS,
    S_ORG_USERS,
    S_API_KEYS,
    S_ORG_API_KEYS,
    S_CLIENT_KEYS,
    S_FAMILIES,
    S_GROUPS,
    S_STATES,
    S_JOBS,
    S_DLQ,
    S_HISTORY,
    S_NDBS
};

struct ef_store {
    char *dir;
    MDB_env *env;
    MDB_dbi dbi[S_NDBS];
    uint64_t map_size;
    int fsync;
    _Atomic int broken;          /* set by the writer, read by the reactor */
    char broken_why[256];        /* written before broken is set */
    struct ef_store_txn *writer; /* the one write txn object */
    uint32_t *org_of;            /* the writer's cache: stream num → org */
    uint32_t org_of_cap;
    uint32_t format_found; /* meta "format" at open; 0: none */
    char why[512];         /* ef_store_open's reason, when formatted */
};

#define S_PEND                                                                 \
    32 /* orgs and streams whose stored bytes one write txn
                     changes at once */

struct ef_store_txn {
    ef_store_t *store;
    MDB_txn *txn;
    int write;
    int active;
    /* the write txn's changes to orgs' stored bytes, written at commit */
    struct {
        int stream; /* 0: id is an org, 1: a stream's num */
        uint32_t id;
        int64_t delta;
    } pend[S_PEND];
    uint32_t npend;
};

static inline void
s_be32 (uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static inline void
s_be64 (uint8_t *p, uint64_t v)
{
    s_be32 (p, (uint32_t)(v >> 32));
    s_be32 (p + 4, (uint32_t)v);
}

static inline uint32_t
s_rd32 (const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static inline uint64_t
s_rd64 (const uint8_t *p)
{
    return (uint64_t)s_rd32 (p) << 32 | s_rd32 (p + 4);
}

/*  An LMDB return code as ours (noting a panic). */
int ef_store_lmdb_err (ef_store_t *self, int rc);
/*  Get, put (with mdb_put flags), delete one key of database db. */
int ef_store_lmdb_get (ef_store_txn_t *t, int db, const void *k, size_t klen,
                       MDB_val *val);
int ef_store_lmdb_put (ef_store_txn_t *t, int db, const void *k, size_t klen,
                       const void *v, size_t vlen, unsigned flags);
int ef_store_lmdb_del (ef_store_txn_t *t, int db, const void *k, size_t klen);
/*  Visit the records of db whose keys start with prefix (all if plen is
    0), in key order; fn returns non-zero to stop. */
typedef int (ef_store_lmdb_fn) (void *arg, const MDB_val *key,
                                const MDB_val *val);
int ef_store_lmdb_each (ef_store_txn_t *t, int db, const void *prefix,
                        size_t plen, ef_store_lmdb_fn *fn, void *arg);

/*  Orgs' and streams' stored bytes (ef_store_lmdb.c): add to the write
    txn's pending change of org and of its stream num, write the pending
    changes (at commit), drop a deleted stream's count, forget the stream
    → org cache (after a failed txn), the org of a stream, and count
    every org's and stream's bytes once on a store from before they were
    kept. */
int ef_store_lmdb_bytes_add (ef_store_txn_t *txn, uint32_t org, uint32_t num,
                             int64_t delta);
int ef_store_lmdb_bytes_drop_stream (ef_store_txn_t *txn, uint32_t num);
int ef_store_lmdb_bytes_flush (ef_store_txn_t *txn);
void ef_store_lmdb_bytes_forget (ef_store_t *self);
int ef_store_lmdb_org_of (ef_store_txn_t *txn, uint32_t num, uint32_t *org);
int ef_store_lmdb_bytes_count (ef_store_txn_t *txn);

/*  Dead letters (ef_store_lmdb_records.c): drop every letter of stream
    num of org (its deletion), and count each org's and stream's letters
    in a store from before they were counted, in the upgrade's write txn
    (letters of streams that are gone are dropped then). */
int ef_store_lmdb_dlq_drop (ef_store_txn_t *txn, uint32_t num, uint32_t org);
int ef_store_lmdb_dlq_count (ef_store_txn_t *txn);

#endif
