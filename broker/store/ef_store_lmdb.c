/*  ef_store_lmdb.c: the LMDB implementation of ef_store.h: the
    environment, transactions, the record access the other files share,
    the orgs' and streams' stored bytes (a ledger written once per
    commit) and streams (but their deletion, which drops events).
    Events and retention are in ef_store_lmdb_events.c, the keyed records
    (states, groups, jobs, DLQ, principals) in ef_store_lmdb_records.c;
    the layout of the databases is in ef_store_lmdb.h. The map is never MDB_WRITEMAP (a full disk must
    be an error, not SIGBUS), MDB_MAP_FULL and friends abort the
    transaction, and a failed commit is never aborted again (LMDB frees
    it). */
#include "ef_store_lmdb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

static const char *s_db_names[S_NDBS] = {
    "meta",         "streams",
    "stream_names", "stream_ids",
    "events",       "event_ids",
    "orgs",         "users",
    "user_emails",  "org_users",
    "api_keys",     "org_api_keys",
    "client_keys",  "refresh_families",
    "groups",       "event_states",
    "jobs",         "dlq",
    "histories",
};

/*  Below this much room for the broker on the store's file system, a
    failed write is taken for a full disk. */
#define S_DISK_FULL_BYTES (64ull << 20)

/*  1 if the file system of the data dir has (nearly) no room left for us.
    LMDB reports a short write as EIO, not ENOSPC ("which error code?" in
    its own source): a full disk looks like an I/O error until errno says
    so on a later write. */
static int
s_disk_full (const ef_store_t *self)
{
    struct statvfs fs;
    if (statvfs (self->dir, &fs))
        return 0;
    return (uint64_t)fs.f_bavail * fs.f_frsize < S_DISK_FULL_BYTES;
}

/*  The store failed for good: no more writes (ef_store_write_begin
    refuses them); the broker exits and its restart reads the store from
    disk. */
static void
s_broken (ef_store_t *self, int rc)
{
    if (self->broken)
        return;
    snprintf (self->broken_why, sizeof self->broken_why,
              "a write or sync of the store failed (%s); it is not retried: "
              "restart the broker to read the store from disk",
              mdb_strerror (rc));
    self->broken = 1;
}

/*  Map an LMDB return code to ours, noting a failure for good.
    EIO and ENOSPC come from a write or a sync of data.mdb (the commit
    cannot tell which). When the disk is full they are STORE_FULL and the
    store goes on: LMDB wrote no meta page for the failed transaction, so
    nothing refers to what it wrote, and the next transaction writes all
    its pages again before its own sync. Otherwise the store is broken:
    a failed fsync may have dropped pages the kernel still shows us
    (fsyncgate), so nothing written since the last good commit is
    trusted or retried. */
int
ef_store_lmdb_err (ef_store_t *self, int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
        return 0;
    case MDB_NOTFOUND:
        return EF_ENOTFOUND;
    case MDB_KEYEXIST:
        return EF_EEXISTS;
    case EIO: /* a short write (a full disk), a failed write or sync */
    case ENOSPC:
        if (s_disk_full (self))
            return EF_ESTORE_FULL;
        s_broken (self, rc);
        return EF_ESTORE;
    case MDB_MAP_FULL:
    case EDQUOT:
        return EF_ESTORE_FULL;
    case MDB_PANIC:
        s_broken (self, rc);
        return EF_ESTORE;
    default:
        return EF_ESTORE;
    }
}

ef_store_t *
ef_store_new (const char *dir)
{
    ef_store_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->dir = strdup (dir);
    self->writer = calloc (1, sizeof *self->writer);
    if (!self->dir || !self->writer) {
        ef_store_destroy (&self);
        return NULL;
    }
    self->writer->store = self;
    self->writer->write = 1;
    self->map_size = 64ull << 30;
    self->fsync = 1;
    return self;
}

void
ef_store_destroy (ef_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_store_t *self = *self_p;
    if (self->writer && self->writer->active)
        mdb_txn_abort (self->writer->txn);
    if (self->env)
        mdb_env_close (self->env);
    free (self->writer);
    free (self->org_of);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

void
ef_store_set_map_size (ef_store_t *self, uint64_t bytes)
{
    self->map_size = bytes;
}

void
ef_store_set_sync (ef_store_t *self, int fsync)
{
    self->fsync = fsync;
}

int
ef_store_broken (const ef_store_t *self)
{
    return self->broken;
}

const char *
ef_store_broken_why (const ef_store_t *self)
{
    return self->broken ? self->broken_why : "";
}

uint64_t
ef_store_map_size (const ef_store_t *self)
{
    return self->map_size;
}

int
ef_store_copy (ef_store_t *self, int fd, const char **why)
{
    if (!self->env) {
        *why = "the store is not open";
        return EF_ESTORE;
    }
    int rc = mdb_env_copyfd2 (self->env, fd, MDB_CP_COMPACT);
    if (rc) {
        *why = mdb_strerror (rc);
        return EF_ESTORE;
    }
    return 0;
}

uint64_t
ef_store_used_bytes (ef_store_t *self)
{
    MDB_envinfo info;
    MDB_stat st;
    if (!self->env || mdb_env_info (self->env, &info) ||
        mdb_env_stat (self->env, &st))
        return 0;
    return ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
}


/* ---------------------------------------------------------------- format */

/*  The store format in meta "format" (u32, big-endian), 0 when there is
    none: a store from before formats, or a new one. */
static int
s_format_read (ef_store_t *self, MDB_txn *txn, uint32_t *format)
{
    MDB_val key = {6, "format"}, val;
    int rc = mdb_get (txn, self->dbi[S_META], &key, &val);
    *format = 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return rc;
    /* a value this code cannot read is from no format it knows */
    *format = val.mv_size == 4 ? s_rd32 (val.mv_data) : UINT32_MAX;
    return 0;
}

/*  Bring a store of an older format (none: from before formats) to
    EF_STORE_FORMAT in one write txn: what format 1 keeps that older
    stores may lack (the orgs' and streams' stored bytes, the dead
    letters counted; each done only where its meta mark is missing), then
    the format. A crash before the commit leaves the store as it was. */
static int
s_upgrade (ef_store_t *self)
{
    if (self->format_found == EF_STORE_FORMAT)
        return 0;
    ef_store_txn_t *txn = NULL;
    int rc = ef_store_write_begin (self, &txn);
    if (rc)
        return rc;
    uint8_t v[4];
    s_be32 (v, EF_STORE_FORMAT);
    if ((rc = ef_store_lmdb_bytes_count (txn)) == 0 &&
        (rc = ef_store_lmdb_dlq_count (txn)) == 0)
        rc = ef_store_lmdb_put (txn, S_META, "format", 6, v, 4, 0);
    if (rc) {
        ef_store_write_abort (&txn);
        return rc;
    }
    return ef_store_write_commit (&txn);
}

int
ef_store_open (ef_store_t *self, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    /* like mkdir -p: the default ./var/eventflow has a parent to make */
    char path[4096];
    snprintf (path, sizeof path, "%s", self->dir);
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir (path, 0700);
            *p = '/';
        }
    if (mkdir (path, 0700) && errno != EEXIST) {
        *why = "cannot create the data directory";
        return EF_ESTORE;
    }
    int rc = mdb_env_create (&self->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (self->env, S_NDBS + 16);
    if (rc == 0)
        rc = mdb_env_set_mapsize (self->env, (size_t)self->map_size);
    if (rc == 0)
        rc = mdb_env_set_maxreaders (self->env, 512);
    unsigned flags = MDB_NOTLS | MDB_NORDAHEAD | (self->fsync ? 0 : MDB_NOSYNC);
    if (rc == 0)
        rc = mdb_env_open (self->env, self->dir, flags, 0600);
    if (rc) {
        *why = mdb_strerror (rc);
        return EF_ESTORE;
    }
    int dead = 0;
    mdb_reader_check (self->env, &dead); /* clear stale reader slots */
    MDB_txn *txn;
    if ((rc = mdb_txn_begin (self->env, NULL, 0, &txn))) {
        *why = mdb_strerror (rc);
        return ef_store_lmdb_err (self, rc);
    }
    /* the format first: a newer store is left as it is, not a database
       created in it */
    rc = mdb_dbi_open (txn, s_db_names[S_META], MDB_CREATE, &self->dbi[S_META]);
    if (rc == 0 && (rc = s_format_read (self, txn, &self->format_found)) == 0 &&
        self->format_found > EF_STORE_FORMAT) {
        mdb_txn_abort (txn);
        snprintf (self->why, sizeof self->why,
                  "data dir %s was written by store format %u; this broker "
                  "reads up to %u: upgrade the broker",
                  self->dir, self->format_found, EF_STORE_FORMAT);
        *why = self->why;
        return EF_ESTORE;
    }
    for (int i = 0; i < S_NDBS && rc == 0; i++)
        rc = mdb_dbi_open (txn, s_db_names[i], MDB_CREATE, &self->dbi[i]);
    if (rc) {
        mdb_txn_abort (txn);
        *why = mdb_strerror (rc);
        return ef_store_lmdb_err (self, rc);
    }
    if ((rc = mdb_txn_commit (txn))) {
        *why = mdb_strerror (rc);
        return ef_store_lmdb_err (self, rc);
    }
    if ((rc = s_upgrade (self))) {
        *why = "cannot upgrade the store to this broker's format (counting "
               "its stored bytes and dead letters)";
        return rc;
    }
    return 0;
}

uint32_t
ef_store_format_found (const ef_store_t *self)
{
    return self->format_found;
}

/* ---------------------------------------------------------------- txns */

ef_store_txn_t *
ef_store_reader_new (ef_store_t *self)
{
    ef_store_txn_t *txn = calloc (1, sizeof *txn);
    if (!txn)
        return NULL;
    txn->store = self;
    if (mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn->txn)) {
        free (txn);
        return NULL;
    }
    mdb_txn_reset (txn->txn);
    return txn;
}

void
ef_store_reader_destroy (ef_store_txn_t **txn_p)
{
    if (!txn_p || !*txn_p)
        return;
    mdb_txn_abort ((*txn_p)->txn);
    free (*txn_p);
    *txn_p = NULL;
}

int
ef_store_reader_begin (ef_store_txn_t *txn)
{
    int rc = mdb_txn_renew (txn->txn);
    txn->active = rc == 0;
    return ef_store_lmdb_err (txn->store, rc);
}

void
ef_store_reader_end (ef_store_txn_t *txn)
{
    if (txn->active)
        mdb_txn_reset (txn->txn);
    txn->active = 0;
}

int
ef_store_write_begin (ef_store_t *self, ef_store_txn_t **txn_p)
{
    ef_store_txn_t *w = self->writer;
    if (w->active)
        return EF_EINTERNAL;
    if (self->broken)
        return EF_ESTORE;
    int rc = mdb_txn_begin (self->env, NULL, 0, &w->txn);
    if (rc)
        return ef_store_lmdb_err (self, rc);
    w->active = 1;
    *txn_p = w;
    return 0;
}


int
ef_store_write_commit (ef_store_txn_t **txn_p)
{
    ef_store_txn_t *w = *txn_p;
    *txn_p = NULL;
    int rc = ef_store_lmdb_bytes_flush (w);
    if (rc) {
        mdb_txn_abort (w->txn);
        w->active = 0;
        w->txn = NULL;
        ef_store_lmdb_bytes_forget (w->store);
        return rc;
    }
    rc = mdb_txn_commit (w->txn); /* frees the txn even on failure */
    if (rc)
        ef_store_lmdb_bytes_forget (w->store);
    w->active = 0;
    w->txn = NULL;
    return ef_store_lmdb_err (w->store, rc);
}

void
ef_store_write_abort (ef_store_txn_t **txn_p)
{
    ef_store_txn_t *w = *txn_p;
    *txn_p = NULL;
    if (w && w->active) {
        mdb_txn_abort (w->txn);
        w->active = 0;
        w->txn = NULL;
        w->npend = 0;
        ef_store_lmdb_bytes_forget (w->store);
    }
}

/* ---------------------------------------------------------------- access */

int
ef_store_lmdb_get (ef_store_txn_t *t, int db, const void *k, size_t klen,
                   MDB_val *val)
{
    MDB_val key = {klen, (void *)k};
    return ef_store_lmdb_err (t->store,
                              mdb_get (t->txn, t->store->dbi[db], &key, val));
}

int
ef_store_lmdb_put (ef_store_txn_t *t, int db, const void *k, size_t klen,
                   const void *v, size_t vlen, unsigned flags)
{
    MDB_val key = {klen, (void *)k}, val = {vlen, (void *)v};
    return ef_store_lmdb_err (
        t->store, mdb_put (t->txn, t->store->dbi[db], &key, &val, flags));
}

int
ef_store_lmdb_del (ef_store_txn_t *t, int db, const void *k, size_t klen)
{
    MDB_val key = {klen, (void *)k};
    return ef_store_lmdb_err (t->store,
                              mdb_del (t->txn, t->store->dbi[db], &key, NULL));
}

int
ef_store_lmdb_each (ef_store_txn_t *t, int db, const void *prefix, size_t plen,
                    ef_store_lmdb_fn *fn, void *arg)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open (t->txn, t->store->dbi[db], &cur);
    if (rc)
        return ef_store_lmdb_err (t->store, rc);
    MDB_val key = {plen, (void *)prefix}, val;
    rc = mdb_cursor_get (cur, &key, &val, plen ? MDB_SET_RANGE : MDB_FIRST);
    while (rc == 0) {
        if (plen &&
            (key.mv_size < plen || memcmp (key.mv_data, prefix, plen) != 0))
            break;
        if (fn (arg, &key, &val))
            break;
        rc = mdb_cursor_get (cur, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close (cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : ef_store_lmdb_err (t->store, rc);
}

/* ---------------------------------------------------------------- org bytes */

/*  Each org's stored bytes (the sum of its event records) live in meta
    under "org_bytes" + org(4), and each stream's under "stream_bytes" +
    num(4), as big-endian u64s. Appends and deletes add to the write
    txn's pending changes, written once at commit, so a group of a
    thousand appends costs one read and one write per org and stream. */

static size_t
s_ledger_key (uint8_t *k, int stream, uint32_t id)
{
    const char *name = stream ? "stream_bytes" : "org_bytes";
    size_t n = strlen (name);
    memcpy (k, name, n);
    s_be32 (k + n, id);
    return n + 4;
}

static uint64_t
s_bytes_stored (ef_store_txn_t *txn, int stream, uint32_t id)
{
    uint8_t k[16];
    MDB_val key = {s_ledger_key (k, stream, id), k}, v;
    if (mdb_get (txn->txn, txn->store->dbi[S_META], &key, &v) || v.mv_size != 8)
        return 0;
    return s_rd64 (v.mv_data);
}

int
ef_store_lmdb_bytes_flush (ef_store_txn_t *txn)
{
    for (uint32_t i = 0; i < txn->npend; i++) {
        uint8_t k[16], v[8];
        int64_t now = (int64_t)s_bytes_stored (txn, txn->pend[i].stream,
                                               txn->pend[i].id) +
                      txn->pend[i].delta;
        size_t klen = s_ledger_key (k, txn->pend[i].stream, txn->pend[i].id);
        s_be64 (v, now < 0 ? 0 : (uint64_t)now);
        int rc = ef_store_lmdb_put (txn, S_META, k, klen, v, sizeof v, 0);
        if (rc)
            return rc;
    }
    txn->npend = 0;
    return 0;
}

/*  Add delta to the pending change of an org's (stream 0) or a stream's
    (stream 1) bytes. */
static int
s_pend_add (ef_store_txn_t *txn, int stream, uint32_t id, int64_t delta)
{
    uint32_t i = 0;
    while (i < txn->npend &&
           (txn->pend[i].id != id || txn->pend[i].stream != stream))
        i++;
    if (i == S_PEND) {
        int rc = ef_store_lmdb_bytes_flush (txn);
        if (rc)
            return rc;
        i = 0;
    }
    if (i == txn->npend) {
        txn->pend[i].stream = stream;
        txn->pend[i].id = id;
        txn->pend[i].delta = 0;
        txn->npend++;
    }
    txn->pend[i].delta += delta;
    return 0;
}

int
ef_store_lmdb_bytes_add (ef_store_txn_t *txn, uint32_t org, uint32_t num,
                         int64_t delta)
{
    int rc = s_pend_add (txn, 0, org, delta);
    return rc ? rc : s_pend_add (txn, 1, num, delta);
}

int
ef_store_lmdb_bytes_drop_stream (ef_store_txn_t *txn, uint32_t num)
{
    for (uint32_t i = 0; i < txn->npend;)
        if (txn->pend[i].stream && txn->pend[i].id == num)
            txn->pend[i] = txn->pend[--txn->npend];
        else
            i++;
    uint8_t k[16];
    int rc = ef_store_lmdb_del (txn, S_META, k, s_ledger_key (k, 1, num));
    if (rc == EF_ENOTFOUND)
        return 0;
    return rc;
}

/*  A stream's org never changes and a stream number is never given
    again once committed; a failed write txn may have made streams that
    do not exist, so the cache is forgotten with it. */
void
ef_store_lmdb_bytes_forget (ef_store_t *self)
{
    if (self->org_of)
        memset (self->org_of, 0, self->org_of_cap * sizeof *self->org_of);
}

int
ef_store_lmdb_org_of (ef_store_txn_t *txn, uint32_t num, uint32_t *org)
{
    ef_store_t *self = txn->store;
    if (num >= self->org_of_cap) {
        uint32_t cap = self->org_of_cap ? self->org_of_cap : 64;
        while (cap <= num)
            cap *= 2;
        uint32_t *o = realloc (self->org_of, cap * sizeof *o);
        if (!o)
            return EF_ENOMEM;
        memset (o + self->org_of_cap, 0, (cap - self->org_of_cap) * sizeof *o);
        self->org_of = o;
        self->org_of_cap = cap;
    }
    if (!self->org_of[num]) {
        ef_stream_rec_t s;
        int rc = ef_store_stream_get (txn, num, &s);
        if (rc)
            return rc;
        self->org_of[num] = s.org;
    }
    *org = self->org_of[num];
    return 0;
}

/*  A store from before orgs' (or streams') stored bytes were kept:
    count them, by reading every event record, in the write txn of the
    upgrade (s_upgrade), which keeps them from then on. */
int
ef_store_lmdb_bytes_count (ef_store_txn_t *txn)
{
    ef_store_t *self = txn->store;
    MDB_cursor *cur;
    MDB_val key = {15, "org_bytes_kept"}, val;
    MDB_val skey = {18, "stream_bytes_kept"};
    int orgs = mdb_get (txn->txn, self->dbi[S_META], &key, &val) != 0;
    int streams = mdb_get (txn->txn, self->dbi[S_META], &skey, &val) != 0;
    if (!orgs && !streams)
        return 0;
    int rc = mdb_cursor_open (txn->txn, self->dbi[S_EVENTS], &cur);
    if (rc)
        return ef_store_lmdb_err (self, rc);
    int err = 0;
    uint32_t org;
    rc = mdb_cursor_get (cur, &key, &val, MDB_FIRST);
    while (rc == 0 && !err) {
        uint32_t num = key.mv_size == 12 ? s_rd32 (key.mv_data) : 0;
        if (num && (err = ef_store_lmdb_org_of (txn, num, &org)) == 0) {
            if (orgs)
                err = s_pend_add (txn, 0, org, (int64_t)val.mv_size);
            if (!err && streams)
                err = s_pend_add (txn, 1, num, (int64_t)val.mv_size);
        }
        if (err == EF_ENOTFOUND) /* events of a stream that is gone */
            err = 0;
        rc = mdb_cursor_get (cur, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close (cur);
    if (!err && rc != MDB_NOTFOUND)
        err = ef_store_lmdb_err (self, rc);
    if (!err && orgs)
        err = ef_store_lmdb_put (txn, S_META, "org_bytes_kept", 15, "1", 1, 0);
    if (!err && streams)
        err = ef_store_lmdb_put (txn, S_META, skey.mv_data, skey.mv_size, "1",
                                 1, 0);
    return err;
}

/*  What the ledger holds for an org or a stream, with the write txn's
    pending change. */
static uint64_t
s_bytes_now (ef_store_txn_t *txn, int stream, uint32_t id)
{
    int64_t n = (int64_t)s_bytes_stored (txn, stream, id);
    for (uint32_t i = 0; txn->write && i < txn->npend; i++)
        if (txn->pend[i].stream == stream && txn->pend[i].id == id)
            n += txn->pend[i].delta;
    return n < 0 ? 0 : (uint64_t)n;
}

int
ef_store_org_bytes (ef_store_txn_t *txn, uint32_t org, uint64_t *bytes)
{
    *bytes = s_bytes_now (txn, 0, org);
    return 0;
}

int
ef_store_stream_bytes (ef_store_txn_t *txn, uint32_t num, uint64_t *bytes)
{
    *bytes = s_bytes_now (txn, 1, num);
    return 0;
}

/* ---------------------------------------------------------------- streams */

static int
s_stream_decode (const MDB_val *v, uint32_t num, ef_stream_rec_t *out)
{
    ef_mpr_t r;
    uint32_t n;
    uint64_t org;
    ef_str_t id, name;
    memset (out, 0, sizeof *out);
    ef_mpr_init (&r, v->mv_data, v->mv_size);
    if (ef_mpr_array (&r, &n) || n < 4 || ef_mpr_uint (&r, &org) ||
        ef_mpr_str (&r, &id) || ef_mpr_str (&r, &name) ||
        ef_mpr_uint (&r, &out->created_at) || id.len > EF_UUID_STRLEN ||
        name.len >= sizeof out->name)
        return EF_ESTORE;
    out->num = num;
    out->org = (uint32_t)org;
    memcpy (out->id, id.ptr, id.len);
    memcpy (out->name, name.ptr, name.len);
    /* schema and pipeline came later: records may not have them */
    if (n >= 6 && ((!ef_mpr_nil (&r) && ef_mpr_str (&r, &out->schema)) ||
                   (!ef_mpr_nil (&r) && ef_mpr_str (&r, &out->pipeline))))
        return EF_ESTORE;
    return 0;
}

int
ef_store_stream_get (ef_store_txn_t *txn, uint32_t num, ef_stream_rec_t *out)
{
    uint8_t k[4];
    MDB_val v;
    s_be32 (k, num);
    int rc = ef_store_lmdb_get (txn, S_STREAMS, k, 4, &v);
    return rc ? rc : s_stream_decode (&v, num, out);
}

int
ef_store_stream_find (ef_store_txn_t *txn, uint32_t org, ef_str_t id_or_name,
                      ef_stream_rec_t *out)
{
    MDB_val v;
    int rc = EF_ENOTFOUND;
    if (id_or_name.len == EF_UUID_STRLEN)
        rc = ef_store_lmdb_get (txn, S_STREAM_IDS, id_or_name.ptr,
                                id_or_name.len, &v);
    if (rc == EF_ENOTFOUND && id_or_name.len <= 128) {
        uint8_t k[4 + 128];
        s_be32 (k, org);
        memcpy (k + 4, id_or_name.ptr, id_or_name.len);
        rc = ef_store_lmdb_get (txn, S_STREAM_NAMES, k, 4 + id_or_name.len, &v);
    }
    if (rc)
        return rc;
    if (v.mv_size != 4)
        return EF_ESTORE;
    rc = ef_store_stream_get (txn, s_rd32 (v.mv_data), out);
    if (rc == 0 && out->org != org)
        return EF_ENOTFOUND; /* a foreign stream answers as a missing one */
    return rc;
}

static int s_stream_put (ef_store_txn_t *txn, const ef_stream_rec_t *rec);

int
ef_store_stream_create (ef_store_txn_t *txn, uint32_t org, ef_str_t name,
                        uint64_t now_ms, ef_stream_rec_t *out)
{
    if (name.len == 0 || name.len > 128)
        return EF_EINVAL;
    uint8_t nk[4 + 128];
    MDB_val v;
    s_be32 (nk, org);
    memcpy (nk + 4, name.ptr, name.len);
    int rc = ef_store_lmdb_get (txn, S_STREAM_NAMES, nk, 4 + name.len, &v);
    if (rc == 0)
        return EF_EEXISTS;
    if (rc != EF_ENOTFOUND)
        return rc;
    uint32_t num = 1;
    if ((rc = ef_store_lmdb_get (txn, S_META, "next_stream", 11, &v)) == 0 &&
        v.mv_size == 4)
        num = s_rd32 (v.mv_data);
    else if (rc != EF_ENOTFOUND)
        return rc;
    uint8_t nb[4];
    s_be32 (nb, num + 1);
    if ((rc = ef_store_lmdb_put (txn, S_META, "next_stream", 11, nb, 4, 0)))
        return rc;

    memset (out, 0, sizeof *out);
    out->num = num;
    out->org = org;
    out->created_at = now_ms;
    memcpy (out->name, name.ptr, name.len);
    ef_uuid_gen_t gen;
    ef_uuid_t u;
    ef_uuid_gen_init (&gen);
    ef_uuid_gen_v7 (&gen, now_ms, &u);
    ef_uuid_format (&u, out->id);

    s_be32 (nb, num);
    rc = s_stream_put (txn, out);
    if (rc == 0)
        rc =
            ef_store_lmdb_put (txn, S_STREAM_NAMES, nk, 4 + name.len, nb, 4, 0);
    if (rc == 0)
        rc = ef_store_lmdb_put (txn, S_STREAM_IDS, out->id, EF_UUID_STRLEN, nb,
                                4, 0);
    return rc;
}

static int
s_stream_put (ef_store_txn_t *txn, const ef_stream_rec_t *rec)
{
    ef_buf_t b;
    uint8_t nb[4];
    ef_buf_init (&b);
    ef_mp_array (&b, 6);
    ef_mp_uint (&b, rec->org);
    ef_mp_cstr (&b, rec->id);
    ef_mp_cstr (&b, rec->name);
    ef_mp_uint (&b, rec->created_at);
    ef_mp_xstr (&b, rec->schema);
    ef_mp_xstr (&b, rec->pipeline);
    s_be32 (nb, rec->num);
    int rc = b.oom
                 ? EF_ENOMEM
                 : ef_store_lmdb_put (txn, S_STREAMS, nb, 4, b.data, b.len, 0);
    ef_buf_free (&b);
    return rc;
}

int
ef_store_stream_configure (ef_store_txn_t *txn, uint32_t num, ef_str_t schema,
                           ef_str_t pipeline)
{
    ef_stream_rec_t rec;
    int rc = ef_store_stream_get (txn, num, &rec);
    if (rc)
        return rc;
    /* the new texts are the caller's; the record is rewritten whole */
    rec.schema = schema;
    rec.pipeline = pipeline;
    return s_stream_put (txn, &rec);
}

int
ef_store_stream_rename (ef_store_txn_t *txn, uint32_t num, ef_str_t name)
{
    ef_stream_rec_t rec;
    MDB_val v;
    uint8_t nk[4 + 128], ok[4 + 128], nb[4];
    if (name.len == 0 || name.len > 128)
        return EF_EINVAL;
    int rc = ef_store_stream_get (txn, num, &rec);
    if (rc)
        return rc;
    s_be32 (nk, rec.org);
    memcpy (nk + 4, name.ptr, name.len);
    if (ef_store_lmdb_get (txn, S_STREAM_NAMES, nk, 4 + name.len, &v) == 0)
        return strlen (rec.name) == name.len &&
                       memcmp (rec.name, name.ptr, name.len) == 0
                   ? 0
                   : EF_EEXISTS;
    s_be32 (ok, rec.org);
    memcpy (ok + 4, rec.name, strlen (rec.name));
    if ((rc = ef_store_lmdb_del (txn, S_STREAM_NAMES, ok,
                                 4 + strlen (rec.name))))
        return rc;
    s_be32 (nb, num);
    if ((rc = ef_store_lmdb_put (txn, S_STREAM_NAMES, nk, 4 + name.len, nb, 4,
                                 0)))
        return rc;
    memset (rec.name, 0, sizeof rec.name);
    memcpy (rec.name, name.ptr, name.len);
    return s_stream_put (txn, &rec);
}

int
ef_store_stream_each (ef_store_txn_t *txn, uint32_t org, ef_store_stream_fn *fn,
                      void *arg)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open (txn->txn, txn->store->dbi[S_STREAM_NAMES], &cur);
    if (rc)
        return ef_store_lmdb_err (txn->store, rc);
    /* org 0: every org's streams (for the broker-wide figures) */
    uint8_t k[4];
    size_t plen = org ? 4 : 0;
    s_be32 (k, org);
    MDB_val key = {plen, k}, val;
    rc = mdb_cursor_get (cur, &key, &val, plen ? MDB_SET_RANGE : MDB_FIRST);
    while (rc == 0) {
        if (key.mv_size < 4 || memcmp (key.mv_data, k, plen) != 0 ||
            val.mv_size != 4)
            break;
        ef_stream_rec_t s;
        int err = ef_store_stream_get (txn, s_rd32 (val.mv_data), &s);
        if (err) {
            mdb_cursor_close (cur);
            return err;
        }
        if (fn (arg, &s))
            break;
        rc = mdb_cursor_get (cur, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close (cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0
                                         : ef_store_lmdb_err (txn->store, rc);
}

int
ef_store_stream_bounds (ef_store_txn_t *txn, uint32_t num, uint64_t *first,
                        uint64_t *last)
{
    MDB_cursor *cur;
    *first = *last = 0;
    int rc = mdb_cursor_open (txn->txn, txn->store->dbi[S_EVENTS], &cur);
    if (rc)
        return ef_store_lmdb_err (txn->store, rc);
    uint8_t k[12];
    s_be32 (k, num);
    s_be64 (k + 4, 0);
    MDB_val key = {12, k}, val;
    rc = mdb_cursor_get (cur, &key, &val, MDB_SET_RANGE);
    if (rc == 0 && key.mv_size == 12 && s_rd32 (key.mv_data) == num) {
        *first = s_rd64 ((uint8_t *)key.mv_data + 4);
        /* the last key of this stream: position past it, step back */
        s_be32 (k, num + 1);
        key.mv_size = 4;
        key.mv_data = k;
        rc = mdb_cursor_get (cur, &key, &val, MDB_SET_RANGE);
        if (rc == 0)
            rc = mdb_cursor_get (cur, &key, &val, MDB_PREV);
        else if (rc == MDB_NOTFOUND)
            rc = mdb_cursor_get (cur, &key, &val, MDB_LAST);
        if (rc == 0 && key.mv_size == 12 && s_rd32 (key.mv_data) == num)
            *last = s_rd64 ((uint8_t *)key.mv_data + 4);
    } else if (rc == 0 || rc == MDB_NOTFOUND) {
        /* empty: retention may have removed everything, the head stays */
        uint8_t tk[8];
        MDB_val v;
        memcpy (tk, "trim", 4);
        s_be32 (tk + 4, num);
        int e = ef_store_lmdb_get (txn, S_META, tk, sizeof tk, &v);
        if (e == 0 && v.mv_size == 8) {
            *last = s_rd64 (v.mv_data);
            *first = *last + 1;
        } else if (e && e != EF_ENOTFOUND) {
            mdb_cursor_close (cur);
            return e;
        }
    }
    mdb_cursor_close (cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0
                                         : ef_store_lmdb_err (txn->store, rc);
}
