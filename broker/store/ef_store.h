/*  ef_store.h: EventFlow's durable state, in EventFlow's own nouns.

    This header is the contract every store backend implements: today
    LMDB (ef_store_lmdb*.c), later PostgreSQL (DESIGN.md §4, §12). Nothing
    outside the store module knows the backend: no key layout, no cursor,
    no map, no reader slot. tests/unit/test_store_conformance.c is the
    suite any implementation must pass.

    What the store keeps
      streams        per org, by number, id and name, with schema/pipeline
      events         per stream an append-only log, ordered by a gap-free
                     seq from 1; each has an id (UUID) unique in its stream
      event states   the processing state of an event (num, seq)
      histories      the processing attempts of an event (num, seq)
      groups         per (stream, group name): offsets and leases
      jobs           the pipeline job schedule, ordered by (due, num, seq)
      dead letters   per (num, seq)
      principals     orgs, users (with their e-mail), API keys, client keys
                     (CurveZMQ public keys), refresh-token families
      figures        each org's and stream's stored bytes, streams and
                     events
    Event records, states, histories, groups, dead letters and principals
    are stored as bytes the owning module encodes (ef_proto, ef_process,
    ef_groups, ef_principals): the store needs only the keys each function
    names, and hands the bytes back unchanged.

    Transactions and threads
      * Any number of readers: one reader object per thread
        (ef_store_reader_new), begun and ended around each request. A
        reader sees one consistent snapshot from begin to end. A reader
        object is not to be shared between threads. A backend may bound
        how many reader objects exist at once (LMDB: 512); past it
        ef_store_reader_new answers NULL. Keep snapshots short: a long
        one holds back the space that later writes would reuse.
      * One writer: at most one write transaction is open on a store at a
        time (ef_store_write_begin answers EF_EINTERNAL to a second), it is
        used by one thread (the broker's writer thread), and between two
        of its write transactions nobody else changes the store. The
        broker relies on this: its writer caches each stream's head (the
        next seq) across transactions and passes it to
        ef_store_event_append. A backend shared by several brokers must
        give the same guarantee per store object (for instance a lock
        held for the length of a write transaction) or the cache must go.
      * Functions marked (write txn) need the write transaction; every
        other function takes either kind. Pointers into the store
        (ef_str_t results) are valid until the transaction ends; copy what
        must live longer.
      * A write transaction is all or nothing: on commit it is stored
        whole, on abort or a failed commit nothing of it is.

    Durability: when ef_store_write_commit returns 0 the transaction is on
    disk (fsync; "durable" means it survives a crash of the machine), or,
    after ef_store_set_sync (self, 0), handed to the operating system (it
    survives a crash of the process, not of the machine).

    Errors (eventflow/ef_error.h): 0 success; EF_ENOTFOUND; EF_EEXISTS;
    EF_EINVAL (a bad argument: empty or long name, a taken seq);
    EF_ENOMEM; EF_ESTORE_FULL (the size limit or the disk is full: the
    transaction is rolled back and nothing of it is stored; the store
    stays usable); EF_ESTORE (I/O error or corruption). After an
    unrecoverable failure (an I/O error of the store's file while the
    disk is not full, LMDB's panic) ef_store_broken() is 1, no write
    transaction begins any more, and the process should exit and be
    restarted. */
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
    uint32_t num; /* the store's number for it, never given twice */
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

/* ---------------------------------------------------------------- lifecycle */

/*  Create a store over directory dir (created if missing at open); not
    yet open. NULL when out of memory. The caller owns the result. */
ef_store_t *ef_store_new (const char *dir);
/*  Close and free, aborting an open write transaction. Readers must have
    been destroyed first. Safe on NULL; clears *self_p. */
void ef_store_destroy (ef_store_t **self_p);
/*  The most bytes the store may take on disk (default 64 GiB; LMDB: the
    map size, reserved as address space, the file grows as data is
    written). Past it writes answer EF_ESTORE_FULL. Before open. */
void ef_store_set_map_size (ef_store_t *self, uint64_t bytes);
uint64_t ef_store_map_size (const ef_store_t *self);
/*  1 = a commit returns once it is on disk (default), 0 = once the
    operating system has it. Before open. */
void ef_store_set_sync (ef_store_t *self, int fsync);
/*  The store format this code writes, and the newest it reads (README
    "Upgrades"). 1: the layout of ef_store_lmdb.h with the orgs' and
    streams' stored bytes and the dead letters counted. 2: events are
    written as compact records (ef_record.h); those of format 1 stay as
    they are and are served as before, so the upgrade from 1 only records
    the format (a broker of format 1 would misread the compact ones). A
    store with no format recorded (written before formats) is read as 1. */
#define EF_STORE_FORMAT 2u

/*  Open, creating what is missing on first use. A store of an older
    format (none recorded) is upgraded in place, in one write
    transaction, and records EF_STORE_FORMAT; one of a newer format is
    refused, untouched. 0, or EF_ESTORE / EF_ESTORE_FULL with *why (text
    that lives as long as self) saying what failed. */
int ef_store_open (ef_store_t *self, const char **why);
/*  The format the store recorded when it was opened: 0 when none (a
    store from before formats, or a new one, both now EF_STORE_FORMAT). */
uint32_t ef_store_format_found (const ef_store_t *self);
/*  1 once the store hit an unrecoverable error: exit and restart. From
    then on ef_store_write_begin answers EF_ESTORE. An I/O error (EIO,
    ENOSPC) of a write or a sync of the store is one, unless the disk is
    full (then it is EF_ESTORE_FULL and the store goes on). Any thread. */
int ef_store_broken (const ef_store_t *self);
/*  What broke the store ("" while it is not broken). Any thread. */
const char *ef_store_broken_why (const ef_store_t *self);
/*  Write a compacted copy of the open store to fd (LMDB's copy with
    MDB_CP_COMPACT: the live pages only, under its own read transaction,
    so writers go on; it blocks the calling thread until done). Any
    thread. 0, or EF_ESTORE with *why (static or LMDB's text). */
int ef_store_copy (ef_store_t *self, int fd, const char **why);
/*  The bytes up to the store's last page in use now: what a compacted
    copy begun now takes, less by the free pages. */
uint64_t ef_store_used_bytes (ef_store_t *self);

/* ---------------------------------------------------------------- txns */

/*  A reader for the calling thread (owned by the caller, destroyed with
    ef_store_reader_destroy). NULL on failure. */
ef_store_txn_t *ef_store_reader_new (ef_store_t *self);
void ef_store_reader_destroy (ef_store_txn_t **txn_p);
/*  Take a snapshot / release it. 0, EF_ESTORE. */
int ef_store_reader_begin (ef_store_txn_t *txn);
void ef_store_reader_end (ef_store_txn_t *txn);

/*  Begin the single write transaction (see "One writer" above); the store
    owns *txn_p. 0, EF_EINTERNAL if one is open, EF_ESTORE. */
int ef_store_write_begin (ef_store_t *self, ef_store_txn_t **txn_p);
/*  Commit; *txn_p is cleared whether or not it succeeded, and a failed
    commit stored nothing. 0, EF_ESTORE_FULL or EF_ESTORE. */
int ef_store_write_commit (ef_store_txn_t **txn_p);
/*  Roll back everything the transaction did. Safe on NULL. */
void ef_store_write_abort (ef_store_txn_t **txn_p);

/* ---------------------------------------------------------------- streams */

/*  Create stream name (1..128 bytes) in org (write txn); *out gets it,
    with a new number and id. EF_EEXISTS if the org has that name,
    EF_EINVAL for an empty or long name. */
int ef_store_stream_create (ef_store_txn_t *txn, uint32_t org, ef_str_t name,
                            uint64_t now_ms, ef_stream_rec_t *out);
/*  Find a stream of org by its id or its name. EF_ENOTFOUND (also for
    another org's stream). */
int ef_store_stream_find (ef_store_txn_t *txn, uint32_t org,
                          ef_str_t id_or_name, ef_stream_rec_t *out);
/*  Get a stream by number. EF_ENOTFOUND. */
int ef_store_stream_get (ef_store_txn_t *txn, uint32_t num,
                         ef_stream_rec_t *out);
/*  Visit the streams of org in name order (byte order; org 0: every
    org's, by org then name); fn returns non-zero to stop. */
typedef int (ef_store_stream_fn) (void *arg, const ef_stream_rec_t *s);
int ef_store_stream_each (ef_store_txn_t *txn, uint32_t org,
                          ef_store_stream_fn *fn, void *arg);
/*  Set a stream's schema and pipeline (write txn; an unset value removes
    it). The texts are copied. */
int ef_store_stream_configure (ef_store_txn_t *txn, uint32_t num,
                               ef_str_t schema, ef_str_t pipeline);
/*  Rename stream num (write txn). EF_EEXISTS if its org has the name,
    EF_EINVAL for an empty or long name. */
int ef_store_stream_rename (ef_store_txn_t *txn, uint32_t num, ef_str_t name);
/*  The event id a stored record carries (the store does not parse
    records). 0 or non-zero when the record has none. */
typedef int (ef_store_record_id_fn) (ef_str_t record, ef_uuid_t *id);
/*  Delete stream num with all its events and their ids (write txn; one
    transaction, so a very large stream makes a large commit). The org's
    stored bytes go down by the records' size. */
int ef_store_stream_delete (ef_store_txn_t *txn, uint32_t num,
                            ef_store_record_id_fn *id_of);
/*  First and last seq stored in a stream: (0, 0) when nothing was ever
    stored; after retention removed every event, (last + 1, last), so that
    last is still the stream's head. */
int ef_store_stream_bounds (ef_store_txn_t *txn, uint32_t num, uint64_t *first,
                            uint64_t *last);

/* ---------------------------------------------------------------- events */

/*  Append the event at seq with its id and its record bytes (write txn;
    the bytes are copied). seq must be the stream's last + 1: the single
    writer keeps each stream's head, and the store checks only that seq
    is not taken (EF_EINVAL), so that an append costs one insert. The
    caller checks idempotency first (ef_store_event_find_in). The org's
    stored bytes go up by len. EF_ESTORE_FULL, EF_ESTORE. */
int ef_store_event_append (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                           const ef_uuid_t *id, const void *record, size_t len);
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
/*  Get by id: where event id is stored in org, the first stream (by
    number) of org that has it. EF_ENOTFOUND. */
int ef_store_event_find (ef_store_txn_t *txn, uint32_t org, const ef_uuid_t *id,
                         uint32_t *num, uint64_t *seq);
/*  The record bytes of (num, seq). EF_ENOTFOUND. */
int ef_store_event_get (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                        ef_str_t *record);

/*  Read a range: visit events of stream num from seq `from` on, ascending
    (dir > 0) or descending (dir < 0, from included; from = UINT64_MAX for
    the last). fn returns non-zero to stop. */
typedef int (ef_store_event_fn) (void *arg, uint64_t seq, ef_str_t record);
int ef_store_event_each (ef_store_txn_t *txn, uint32_t num, uint64_t from,
                         int dir, ef_store_event_fn *fn, void *arg);
/*  Read a range with each event's processing state (state.len 0 when it
    has none; see ef_store_state_put), ascending from seq `from`. fn
    returns non-zero to stop. Cheaper than a state look-up per event. */
typedef int (ef_store_event_state_fn) (void *arg, uint64_t seq, ef_str_t record,
                                       ef_str_t state);
int ef_store_event_read (ef_store_txn_t *txn, uint32_t num, uint64_t from,
                         ef_store_event_state_fn *fn, void *arg);

/*  Figures for STATS: org's streams and events, and the bytes the whole
    store takes on disk. */
int ef_store_figures (ef_store_txn_t *txn, uint32_t org, uint64_t *streams,
                      uint64_t *events, uint64_t *bytes);
/*  The bytes of event records org has stored (kept up to date by
    appends, retention and stream deletes in the same transaction, so a
    write transaction sees its own changes). */
int ef_store_org_bytes (ef_store_txn_t *txn, uint32_t org, uint64_t *bytes);
/*  The bytes of event records stream num holds, kept the same way (a
    read of one counter, never a scan). */
int ef_store_stream_bytes (ef_store_txn_t *txn, uint32_t num, uint64_t *bytes);

/* ---------------------------------------------------------------- retention */

/*  Delete the events of stream num with seq <= upto, with their ids and
    processing states (write txn). The stream's head does not move: the
    next append still takes last + 1. Dead letters and jobs that refer to
    the events are the caller's to remove. *events and *bytes (either may
    be NULL) get how many events and record bytes were freed; the org's
    stored bytes go down by as much. 0, EF_ENOTFOUND (no such stream),
    EF_ESTORE_FULL, EF_ESTORE. */
int ef_store_event_trim (ef_store_txn_t *txn, uint32_t num, uint64_t upto,
                         ef_store_record_id_fn *id_of, uint64_t *events,
                         uint64_t *bytes);
/*  The time (ms) a stored record was received (the store does not parse
    records). 0 or non-zero when the record has none. */
typedef int (ef_store_record_time_fn) (ef_str_t record, uint64_t *ms);
/*  Delete the events of stream num received before before_ms, as
    ef_store_event_trim does: from the oldest on, up to the first event
    received at or after before_ms (events are stored in the order they
    were received). */
int ef_store_event_trim_before (ef_store_txn_t *txn, uint32_t num,
                                uint64_t before_ms,
                                ef_store_record_id_fn *id_of,
                                ef_store_record_time_fn *time_of,
                                uint64_t *events, uint64_t *bytes);

/*  A stream's retention: how much of its head may be deleted in the
    background (0 = no limit of that kind; all 0 and after_groups 0 = keep
    everything). */
typedef struct {
    uint64_t max_age_ms;
    uint64_t max_bytes;
    uint64_t max_events;
    int after_groups; /* never past the smallest committed group offset */
} ef_retention_t;
/*  Stream num's retention. EF_ENOTFOUND when it has none. */
int ef_store_retention_get (ef_store_txn_t *txn, uint32_t num,
                            ef_retention_t *out);
/*  Set it (write txn); NULL or a retention that keeps everything removes
    it. It goes with its stream. */
int ef_store_retention_put (ef_store_txn_t *txn, uint32_t num,
                            const ef_retention_t *r);
/*  The first stream from stream number from on (in number order) that has
    a retention: its number and retention. EF_ENOTFOUND when none is left.
    (Retention's background pass walks the streams with one a slice at a
    time, never the whole list of streams.) */
int ef_store_retention_next (ef_store_txn_t *txn, uint32_t from, uint32_t *num,
                             ef_retention_t *out);

/* ---------------------------------------------------------------- states */

/*  An event's processing state (bytes ef_process encodes). EF_ENOTFOUND
    when it has none. */
int ef_store_state_get (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                        ef_str_t *state);
/*  Set it, replacing the one before (write txn). */
int ef_store_state_put (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                        const void *state, size_t len);

/* ---------------------------------------------------------------- history */

/*  An event's processing history: its attempts, as bytes ef_process
    encodes (and bounds). It goes with its event (retention, stream
    delete). EF_ENOTFOUND when it has none. */
int ef_store_history_get (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                          ef_str_t *history);
/*  Set it, replacing the one before (write txn). */
int ef_store_history_put (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                          const void *history, size_t len);

/* ---------------------------------------------------------------- groups */

/*  The consumer group `name` (1..128 bytes) of stream: its committed
    offset and open leases, as bytes ef_groups encodes. EF_ENOTFOUND. */
int ef_store_group_get (ef_store_txn_t *txn, uint32_t stream, ef_str_t name,
                        ef_str_t *rec);
/*  Create or replace it (write txn). EF_EINVAL for a bad name length. */
int ef_store_group_put (ef_store_txn_t *txn, uint32_t stream, ef_str_t name,
                        const void *rec, size_t len);
/*  Visit the groups of stream in name order (byte order). */
typedef int (ef_store_group_fn) (void *arg, ef_str_t name, ef_str_t rec);
int ef_store_group_each (ef_store_txn_t *txn, uint32_t stream,
                         ef_store_group_fn *fn, void *arg);

/* ---------------------------------------------------------------- jobs */

/*  Schedule the pipeline job of event (num, seq) at due_ms (write txn).
    One event may have several entries at different times. */
int ef_store_job_put (ef_store_txn_t *txn, uint64_t due_ms, uint32_t num,
                      uint64_t seq);
/*  Remove that entry (write txn). EF_ENOTFOUND. */
int ef_store_job_del (ef_store_txn_t *txn, uint64_t due_ms, uint32_t num,
                      uint64_t seq);
/*  Visit the schedule in (due_ms, num, seq) order, soonest first; fn
    returns non-zero to stop (at the first job not yet due, say). */
typedef int (ef_store_job_fn) (void *arg, uint64_t due_ms, uint32_t num,
                               uint64_t seq);
int ef_store_job_each (ef_store_txn_t *txn, ef_store_job_fn *fn, void *arg);

/* ---------------------------------------------------------------- dlq */

/*  The dead letter of event (num, seq), as bytes ef_process encodes:
    create or replace (write txn), get (EF_ENOTFOUND), delete (write txn;
    EF_ENOTFOUND). */
int ef_store_dlq_put (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                      const void *rec, size_t len);
int ef_store_dlq_get (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                      ef_str_t *rec);
int ef_store_dlq_del (ef_store_txn_t *txn, uint32_t num, uint64_t seq);
/*  Visit every dead letter in (num, seq) order; fn returns non-zero to
    stop. */
typedef int (ef_store_dlq_fn) (void *arg, uint32_t num, uint64_t seq,
                               ef_str_t rec);
int ef_store_dlq_each (ef_store_txn_t *txn, ef_store_dlq_fn *fn, void *arg);
/*  Visit the dead letters of stream num in seq order. */
int ef_store_dlq_each_stream (ef_store_txn_t *txn, uint32_t num,
                              ef_store_dlq_fn *fn, void *arg);
/*  How many dead letters the store holds (cheap). */
int ef_store_dlq_count (ef_store_txn_t *txn, uint64_t *n);
/*  How many dead letters stream num holds, or org when num is 0: counted
    by put and delete, so cheap (no walk). A deleted stream's letters go
    with it. */
int ef_store_dlq_size (ef_store_txn_t *txn, uint32_t org, uint32_t num,
                       uint64_t *n);

/* ---------------------------------------------------------------- principals */

/*  Records of orgs, users, keys and refresh families are bytes that
    ef_principals encodes; ids are its strings (at most 64 bytes). */

/*  A new org number, from 1, never given twice (write txn). */
int ef_store_org_next (ef_store_txn_t *txn, uint32_t *num);
/*  Store org num's record (write txn); with create, EF_EEXISTS if it
    exists. */
int ef_store_org_put (ef_store_txn_t *txn, uint32_t num, const void *rec,
                      size_t len, int create);
int ef_store_org_get (ef_store_txn_t *txn, uint32_t num, ef_str_t *rec);

/*  Store user id of org (write txn). With create, the user's e-mail
    (already in the case it is to be found by) is claimed first:
    EF_EEXISTS if any user has it, and nothing is stored. Without create
    the record is replaced (the e-mail and org do not change). */
int ef_store_user_put (ef_store_txn_t *txn, uint32_t org, ef_str_t id,
                       ef_str_t email, const void *rec, size_t len, int create);
int ef_store_user_get (ef_store_txn_t *txn, ef_str_t id, ef_str_t *rec);
/*  The id of the user with that e-mail. EF_ENOTFOUND. */
int ef_store_user_by_email (ef_store_txn_t *txn, ef_str_t email, ef_str_t *id);
/*  Remove user id of org with its e-mail (write txn). EF_ENOTFOUND. */
int ef_store_user_delete (ef_store_txn_t *txn, uint32_t org, ef_str_t id,
                          ef_str_t email);
/*  Visit the ids of org's users (or API keys) in id order. */
typedef int (ef_store_id_fn) (void *arg, ef_str_t id);
int ef_store_user_each (ef_store_txn_t *txn, uint32_t org, ef_store_id_fn *fn,
                        void *arg);

/*  Store API key id of org (write txn); with create, EF_EEXISTS if the id
    is taken, else the record is replaced. Keys are never deleted (a
    revoked key says so in its record). */
int ef_store_apikey_put (ef_store_txn_t *txn, uint32_t org, ef_str_t id,
                         const void *rec, size_t len, int create);
int ef_store_apikey_get (ef_store_txn_t *txn, ef_str_t id, ef_str_t *rec);
int ef_store_apikey_each (ef_store_txn_t *txn, uint32_t org, ef_store_id_fn *fn,
                          void *arg);

/*  Store the client key with CurveZMQ public key pub (write txn); with
    create, EF_EEXISTS if it is registered. */
int ef_store_clientkey_put (ef_store_txn_t *txn, const uint8_t pub[32],
                            const void *rec, size_t len, int create);
int ef_store_clientkey_get (ef_store_txn_t *txn, const uint8_t pub[32],
                            ef_str_t *rec);
/*  Visit every client key, in public key order. */
typedef int (ef_store_clientkey_fn) (void *arg, const uint8_t pub[32],
                                     ef_str_t rec);
int ef_store_clientkey_each (ef_store_txn_t *txn, ef_store_clientkey_fn *fn,
                             void *arg);

/*  Create or replace refresh-token family id (write txn); get it. */
int ef_store_family_put (ef_store_txn_t *txn, ef_str_t id, const void *rec,
                         size_t len);
int ef_store_family_get (ef_store_txn_t *txn, ef_str_t id, ef_str_t *rec);

#endif
