/*  ef_store_lmdb_events.c: the LMDB implementation of ef_store.h's
    events (append, look-ups by id, range reads) and retention (trimming
    a stream, and deleting a stream with all its events). Events are
    appended with MDB_APPEND where they can be; every byte appended or
    dropped is told to the orgs' ledger in ef_store_lmdb.c. */
#include "ef_store_lmdb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- events */

int
ef_store_event_append (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                       const ef_uuid_t *id, const void *record, size_t len)
{
    uint8_t k[12], ik[20], sv[8];
    s_be32 (k, num);
    s_be64 (k + 4, seq);
    /* MDB_APPEND is only valid past the last key of the whole table, which
       is the newest stream's: other streams take a normal insert. */
    int rc = ef_store_lmdb_put (txn, S_EVENTS, k, 12, record, len, MDB_APPEND);
    if (rc == EF_EEXISTS)
        rc = ef_store_lmdb_put (txn, S_EVENTS, k, 12, record, len,
                                MDB_NOOVERWRITE);
    if (rc == EF_EEXISTS)
        return EF_EINVAL; /* that seq is taken: the caller's head is wrong */
    uint32_t org;
    if (rc || (rc = ef_store_lmdb_org_of (txn, num, &org)) ||
        (rc = ef_store_lmdb_bytes_add (txn, org, num, (int64_t)len)))
        return rc;
    memcpy (ik, id->b, 16);
    s_be32 (ik + 16, num);
    s_be64 (sv, seq);
    return ef_store_lmdb_put (txn, S_EVENT_IDS, ik, 20, sv, 8, 0);
}

int
ef_store_event_find_in (ef_store_txn_t *txn, uint32_t num, const ef_uuid_t *id,
                        uint64_t *seq)
{
    uint8_t ik[20];
    MDB_val v;
    memcpy (ik, id->b, 16);
    s_be32 (ik + 16, num);
    int rc = ef_store_lmdb_get (txn, S_EVENT_IDS, ik, 20, &v);
    if (rc)
        return rc;
    if (v.mv_size != 8)
        return EF_ESTORE;
    *seq = s_rd64 (v.mv_data);
    return 0;
}

/*  The index is keyed (id, stream num) and holds ids of every org: one
    org's ids must not hide another's, so the walk goes over every stream
    that holds id and keeps the caller's org's. */
int
ef_store_event_each_at (ef_store_txn_t *txn, uint32_t org, const ef_uuid_t *id,
                        ef_store_event_at_fn *fn, void *arg)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open (txn->txn, txn->store->dbi[S_EVENT_IDS], &cur);
    if (rc)
        return ef_store_lmdb_err (txn->store, rc);
    uint8_t ik[20] = {0};
    memcpy (ik, id->b, 16);
    MDB_val key = {20, ik}, val;
    rc = mdb_cursor_get (cur, &key, &val, MDB_SET_RANGE);
    int out = EF_ENOTFOUND;
    while (rc == 0 && key.mv_size == 20 &&
           memcmp (key.mv_data, id->b, 16) == 0) {
        uint32_t num = s_rd32 ((uint8_t *)key.mv_data + 16);
        ef_stream_rec_t s;
        int e =
            val.mv_size == 8 ? ef_store_stream_get (txn, num, &s) : EF_ESTORE;
        if (e && e != EF_ENOTFOUND) {
            out = e;
            break;
        }
        if (e == 0 && s.org == org && fn (arg, num, s_rd64 (val.mv_data))) {
            out = 0;
            break;
        }
        rc = mdb_cursor_get (cur, &key, &val, MDB_NEXT);
    }
    if (rc && rc != MDB_NOTFOUND)
        out = ef_store_lmdb_err (txn->store, rc);
    mdb_cursor_close (cur);
    return out;
}

typedef struct {
    uint32_t num;
    uint64_t seq;
} s_at_t;

static int
s_first_at (void *arg, uint32_t num, uint64_t seq)
{
    s_at_t *at = arg;
    at->num = num;
    at->seq = seq;
    return 1;
}

int
ef_store_event_find (ef_store_txn_t *txn, uint32_t org, const ef_uuid_t *id,
                     uint32_t *num, uint64_t *seq)
{
    s_at_t at;
    int rc = ef_store_event_each_at (txn, org, id, s_first_at, &at);
    if (rc == 0) {
        *num = at.num;
        *seq = at.seq;
    }
    return rc;
}

int
ef_store_event_get (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                    ef_str_t *record)
{
    uint8_t k[12];
    MDB_val v;
    s_be32 (k, num);
    s_be64 (k + 4, seq);
    int rc = ef_store_lmdb_get (txn, S_EVENTS, k, 12, &v);
    if (rc == 0) {
        record->ptr = v.mv_data;
        record->len = (uint32_t)v.mv_size;
    }
    return rc;
}

int
ef_store_event_each (ef_store_txn_t *txn, uint32_t num, uint64_t from, int dir,
                     ef_store_event_fn *fn, void *arg)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open (txn->txn, txn->store->dbi[S_EVENTS], &cur);
    if (rc)
        return ef_store_lmdb_err (txn->store, rc);
    uint8_t k[12];
    MDB_val key = {12, k}, val;
    if (dir > 0) {
        s_be32 (k, num);
        s_be64 (k + 4, from);
        rc = mdb_cursor_get (cur, &key, &val, MDB_SET_RANGE);
    } else {
        /* the greatest key <= (num, from) */
        s_be32 (k, num);
        s_be64 (k + 4, from);
        rc = mdb_cursor_get (cur, &key, &val, MDB_SET_RANGE);
        if (rc == MDB_NOTFOUND)
            rc = mdb_cursor_get (cur, &key, &val, MDB_LAST);
        else if (rc == 0 && (key.mv_size != 12 || memcmp (key.mv_data, k, 12)))
            rc = mdb_cursor_get (cur, &key, &val, MDB_PREV);
    }
    while (rc == 0) {
        if (key.mv_size != 12 || s_rd32 (key.mv_data) != num)
            break;
        ef_str_t rec = {val.mv_data, (uint32_t)val.mv_size};
        if (dir > 0) {
            /* the next nodes of an appended page lie just below this one:
               ask for them now, so that reading them does not wait on
               memory (a prefetch never faults) */
            const char *p = val.mv_data;
            for (int i = 1; i <= 16; i++)
                __builtin_prefetch (p - 64 * i);
        }
        if (fn (arg, s_rd64 ((uint8_t *)key.mv_data + 4), rec))
            break;
        rc = mdb_cursor_get (cur, &key, &val, dir > 0 ? MDB_NEXT : MDB_PREV);
    }
    mdb_cursor_close (cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0
                                         : ef_store_lmdb_err (txn->store, rc);
}

typedef struct {
    ef_store_txn_t *txn;
    uint64_t streams, events;
    int err;
} s_figures_t;

static int
s_count_stream (void *arg, const ef_stream_rec_t *s)
{
    s_figures_t *f = arg;
    uint64_t first, last;
    f->streams++;
    f->err = ef_store_stream_bounds (f->txn, s->num, &first, &last);
    if (last)
        f->events += last - first + 1;
    return f->err;
}

int
ef_store_figures (ef_store_txn_t *txn, uint32_t org, uint64_t *streams,
                  uint64_t *events, uint64_t *bytes)
{
    s_figures_t f = {txn, 0, 0, 0};
    int rc = ef_store_stream_each (txn, org, s_count_stream, &f);
    if (rc == 0)
        rc = f.err;
    MDB_envinfo info;
    MDB_stat st;
    mdb_env_info (txn->store->env, &info);
    mdb_env_stat (txn->store->env, &st);
    *streams = f.streams;
    *events = f.events;
    *bytes = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
    return rc;
}


/*  The walk over the processing states beside a walk over the events:
    one cursor each, so a stream without states costs one seek. */
int
ef_store_event_read (ef_store_txn_t *txn, uint32_t num, uint64_t from,
                     ef_store_event_state_fn *fn, void *arg)
{
    MDB_cursor *ev, *st;
    int rc = mdb_cursor_open (txn->txn, txn->store->dbi[S_EVENTS], &ev);
    if (rc)
        return ef_store_lmdb_err (txn->store, rc);
    if ((rc = mdb_cursor_open (txn->txn, txn->store->dbi[S_STATES], &st))) {
        mdb_cursor_close (ev);
        return ef_store_lmdb_err (txn->store, rc);
    }
    uint8_t k[12], sk[12];
    s_be32 (k, num);
    s_be64 (k + 4, from);
    memcpy (sk, k, sizeof sk);
    MDB_val key = {12, k}, val, skey = {12, sk}, sval;
    int src = mdb_cursor_get (st, &skey, &sval, MDB_SET_RANGE);
    rc = mdb_cursor_get (ev, &key, &val, MDB_SET_RANGE);
    while (rc == 0 && key.mv_size == 12 && s_rd32 (key.mv_data) == num) {
        uint64_t seq = s_rd64 ((uint8_t *)key.mv_data + 4);
        /* the state walk catches up with seq (states are sparse) */
        while (src == 0 && skey.mv_size == 12 &&
               memcmp (skey.mv_data, key.mv_data, 12) < 0)
            src = mdb_cursor_get (st, &skey, &sval, MDB_NEXT);
        ef_str_t state = {NULL, 0};
        if (src == 0 && skey.mv_size == 12 &&
            memcmp (skey.mv_data, key.mv_data, 12) == 0)
            state = (ef_str_t){sval.mv_data, (uint32_t)sval.mv_size};
        ef_str_t rec = {val.mv_data, (uint32_t)val.mv_size};
        if (fn (arg, seq, rec, state))
            break;
        rc = mdb_cursor_get (ev, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close (st);
    mdb_cursor_close (ev);
    return rc == 0 || rc == MDB_NOTFOUND ? 0
                                         : ef_store_lmdb_err (txn->store, rc);
}

/* ---------------------------------------------------------------- retention */

static int
s_drop_one (ef_store_txn_t *txn, uint32_t num, uint64_t seq, MDB_val *val,
            ef_store_record_id_fn *id_of)
{
    ef_uuid_t id;
    ef_str_t r = {val->mv_data, (uint32_t)val->mv_size};
    uint8_t k[20];
    int rc;
    if (id_of && id_of (r, &id) == 0) {
        memcpy (k, id.b, 16);
        s_be32 (k + 16, num);
        rc = ef_store_lmdb_del (txn, S_EVENT_IDS, k, 20);
        if (rc && rc != EF_ENOTFOUND)
            return rc;
    }
    s_be32 (k, num);
    s_be64 (k + 4, seq);
    rc = ef_store_lmdb_del (txn, S_STATES, k, 12);
    if (rc && rc != EF_ENOTFOUND)
        return rc;
    rc = ef_store_lmdb_del (txn, S_HISTORY, k, 12);
    return rc == EF_ENOTFOUND ? 0 : rc;
}

/*  Delete the events of stream num (of org) with seq <= upto and received
    before before_ms (time_of NULL: any time), oldest first, with their
    ids, states and histories; count what was freed (either pointer may be NULL). */
static int
s_events_drop (ef_store_txn_t *txn, uint32_t num, uint32_t org, uint64_t upto,
               uint64_t before_ms, ef_store_record_id_fn *id_of,
               ef_store_record_time_fn *time_of, uint64_t *events,
               uint64_t *bytes)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open (txn->txn, txn->store->dbi[S_EVENTS], &cur);
    if (rc)
        return ef_store_lmdb_err (txn->store, rc);
    uint8_t k[12];
    s_be32 (k, num);
    s_be64 (k + 4, 0);
    MDB_val key = {12, k}, val;
    uint64_t n = 0, freed = 0, last = 0;
    int err = 0;
    rc = mdb_cursor_get (cur, &key, &val, MDB_SET_RANGE);
    while (rc == 0 && key.mv_size == 12 && s_rd32 (key.mv_data) == num) {
        uint64_t seq = s_rd64 ((uint8_t *)key.mv_data + 4), ms;
        if (seq > upto)
            break;
        /* a record without a time is not known to be old: keep it */
        if (time_of &&
            (time_of ((ef_str_t){val.mv_data, (uint32_t)val.mv_size}, &ms) ||
             ms >= before_ms))
            break;
        if ((err = s_drop_one (txn, num, seq, &val, id_of)))
            break;
        freed += val.mv_size;
        if ((rc = mdb_cursor_del (cur, 0)))
            break;
        n++;
        last = seq;
        /* the cursor now stands on the next record, if any */
        rc = mdb_cursor_get (cur, &key, &val, MDB_GET_CURRENT);
        if (rc == EINVAL || rc == MDB_NOTFOUND) {
            s_be64 (k + 4, seq + 1);
            key.mv_size = 12;
            key.mv_data = k;
            rc = mdb_cursor_get (cur, &key, &val, MDB_SET_RANGE);
        }
    }
    mdb_cursor_close (cur);
    if (!err && rc && rc != MDB_NOTFOUND)
        err = ef_store_lmdb_err (txn->store, rc);
    if (!err && n)
        err = ef_store_lmdb_bytes_add (txn, org, num, -(int64_t)freed);
    if (!err && n) {
        /* the head survives the stream's emptying (ef_store_stream_bounds) */
        uint8_t tk[8], tv[8];
        memcpy (tk, "trim", 4);
        s_be32 (tk + 4, num);
        s_be64 (tv, last);
        err = ef_store_lmdb_put (txn, S_META, tk, sizeof tk, tv, sizeof tv, 0);
    }
    if (events)
        *events = err ? 0 : n;
    if (bytes)
        *bytes = err ? 0 : freed;
    return err;
}

int
ef_store_event_trim (ef_store_txn_t *txn, uint32_t num, uint64_t upto,
                     ef_store_record_id_fn *id_of, uint64_t *events,
                     uint64_t *bytes)
{
    ef_stream_rec_t s;
    int rc = ef_store_stream_get (txn, num, &s);
    if (rc)
        return rc;
    return s_events_drop (txn, num, s.org, upto, UINT64_MAX, id_of, NULL,
                          events, bytes);
}

int
ef_store_event_trim_before (ef_store_txn_t *txn, uint32_t num,
                            uint64_t before_ms, ef_store_record_id_fn *id_of,
                            ef_store_record_time_fn *time_of, uint64_t *events,
                            uint64_t *bytes)
{
    ef_stream_rec_t s;
    int rc = ef_store_stream_get (txn, num, &s);
    if (rc)
        return rc;
    return s_events_drop (txn, num, s.org, UINT64_MAX, before_ms, id_of,
                          time_of, events, bytes);
}

/*  A retention record's value into out. */
static int
s_retention_parse (const MDB_val *val, ef_retention_t *out)
{
    if (val->mv_size != 25)
        return EF_ESTORE;
    const uint8_t *v = val->mv_data;
    out->max_age_ms = s_rd64 (v);
    out->max_bytes = s_rd64 (v + 8);
    out->max_events = s_rd64 (v + 16);
    out->after_groups = v[24] & 1;
    return 0;
}

/*  A retention is kept in the meta table under "retn" + num: max_age_ms,
    max_bytes, max_events (8 bytes each, big-endian) and a flags byte. */
int
ef_store_retention_get (ef_store_txn_t *txn, uint32_t num, ef_retention_t *out)
{
    uint8_t k[8];
    memcpy (k, "retn", 4);
    s_be32 (k + 4, num);
    MDB_val key = {sizeof k, k}, val;
    int rc = mdb_get (txn->txn, txn->store->dbi[S_META], &key, &val);
    if (rc)
        return rc == MDB_NOTFOUND ? EF_ENOTFOUND
                                  : ef_store_lmdb_err (txn->store, rc);
    return s_retention_parse (&val, out);
}

int
ef_store_retention_next (ef_store_txn_t *txn, uint32_t from, uint32_t *num,
                         ef_retention_t *out)
{
    uint8_t k[8];
    memcpy (k, "retn", 4);
    s_be32 (k + 4, from);
    MDB_cursor *cur;
    int rc = mdb_cursor_open (txn->txn, txn->store->dbi[S_META], &cur);
    if (rc)
        return ef_store_lmdb_err (txn->store, rc);
    MDB_val key = {sizeof k, k}, val;
    rc = mdb_cursor_get (cur, &key, &val, MDB_SET_RANGE);
    if (rc == 0 && key.mv_size == sizeof k &&
        memcmp (key.mv_data, "retn", 4) == 0) {
        const uint8_t *kb = key.mv_data;
        *num = (uint32_t)kb[4] << 24 | (uint32_t)kb[5] << 16 |
               (uint32_t)kb[6] << 8 | kb[7];
        rc = s_retention_parse (&val, out);
    } else if (rc == 0 || rc == MDB_NOTFOUND)
        rc = EF_ENOTFOUND;
    else
        rc = ef_store_lmdb_err (txn->store, rc);
    mdb_cursor_close (cur);
    return rc;
}

int
ef_store_retention_put (ef_store_txn_t *txn, uint32_t num,
                        const ef_retention_t *r)
{
    uint8_t k[8], v[25];
    memcpy (k, "retn", 4);
    s_be32 (k + 4, num);
    if (!r || (!r->max_age_ms && !r->max_bytes && !r->max_events &&
               !r->after_groups)) {
        int rc = ef_store_lmdb_del (txn, S_META, k, sizeof k);
        return rc == EF_ENOTFOUND ? 0 : rc;
    }
    s_be64 (v, r->max_age_ms);
    s_be64 (v + 8, r->max_bytes);
    s_be64 (v + 16, r->max_events);
    v[24] = r->after_groups ? 1 : 0;
    return ef_store_lmdb_put (txn, S_META, k, sizeof k, v, sizeof v, 0);
}

/*  A stream goes with all its events, their ids, states and histories, its
    dead letters, its trim mark, its bytes, its names and its record. */
int
ef_store_stream_delete (ef_store_txn_t *txn, uint32_t num,
                        ef_store_record_id_fn *id_of)
{
    ef_stream_rec_t rec;
    int rc = ef_store_stream_get (txn, num, &rec);
    if (rc)
        return rc;
    if ((rc = s_events_drop (txn, num, rec.org, UINT64_MAX, UINT64_MAX, id_of,
                             NULL, NULL, NULL)) ||
        (rc = ef_store_lmdb_bytes_drop_stream (txn, num)) ||
        (rc = ef_store_lmdb_dlq_drop (txn, num, rec.org)))
        return rc;
    uint8_t tk[8];
    memcpy (tk, "trim", 4);
    s_be32 (tk + 4, num);
    rc = ef_store_lmdb_del (txn, S_META, tk, sizeof tk);
    if ((rc && rc != EF_ENOTFOUND) ||
        (rc = ef_store_retention_put (txn, num, NULL)))
        return rc;
    uint8_t nk[4 + 128], nb[4];
    s_be32 (nk, rec.org);
    memcpy (nk + 4, rec.name, strlen (rec.name));
    s_be32 (nb, num);
    if ((rc = ef_store_lmdb_del (txn, S_STREAM_NAMES, nk,
                                 4 + strlen (rec.name))) ||
        (rc = ef_store_lmdb_del (txn, S_STREAM_IDS, rec.id, strlen (rec.id))))
        return rc;
    return ef_store_lmdb_del (txn, S_STREAMS, nb, 4);
}
