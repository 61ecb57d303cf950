/*  ef_store_lmdb_records.c: the LMDB implementation of ef_store.h's keyed
    records: processing states, consumer groups, the job schedule, dead
    letters and the principals. The record bytes are the owning module's;
    this file makes their keys (layout in ef_store_lmdb.h). */
#include "ef_store_lmdb.h"

#include <errno.h>
#include <string.h>

/*  Ids of principals are short strings; anything longer is not one. */
#define S_ID_MAX 64

static void
s_at_key (uint8_t k[12], uint32_t num, uint64_t seq)
{
    s_be32 (k, num);
    s_be64 (k + 4, seq);
}

static int
s_get_str (ef_store_txn_t *txn, int db, const void *k, size_t klen,
           ef_str_t *out)
{
    MDB_val v;
    int rc = ef_store_lmdb_get (txn, db, k, klen, &v);
    if (rc == 0)
        *out = (ef_str_t){v.mv_data, (uint32_t)v.mv_size};
    return rc;
}

/*  org(4) id: the key of an org's index of its users or API keys. */
static size_t
s_org_id_key (uint8_t *k, uint32_t org, ef_str_t id)
{
    s_be32 (k, org);
    memcpy (k + 4, id.ptr, id.len);
    return 4 + id.len;
}

static int
s_id_ok (ef_str_t id)
{
    return id.ptr && id.len > 0 && id.len <= S_ID_MAX;
}

/* ---------------------------------------------------------------- states */

int
ef_store_state_get (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                    ef_str_t *state)
{
    uint8_t k[12];
    s_at_key (k, num, seq);
    return s_get_str (txn, S_STATES, k, sizeof k, state);
}

int
ef_store_state_put (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                    const void *state, size_t len)
{
    uint8_t k[12];
    s_at_key (k, num, seq);
    return ef_store_lmdb_put (txn, S_STATES, k, sizeof k, state, len, 0);
}

/* ---------------------------------------------------------------- history */

int
ef_store_history_get (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                      ef_str_t *history)
{
    uint8_t k[12];
    s_at_key (k, num, seq);
    return s_get_str (txn, S_HISTORY, k, sizeof k, history);
}

int
ef_store_history_put (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                      const void *history, size_t len)
{
    uint8_t k[12];
    s_at_key (k, num, seq);
    return ef_store_lmdb_put (txn, S_HISTORY, k, sizeof k, history, len, 0);
}

/* ---------------------------------------------------------------- groups */

#define S_GROUP_NAME_MAX 128

int
ef_store_group_get (ef_store_txn_t *txn, uint32_t stream, ef_str_t name,
                    ef_str_t *rec)
{
    uint8_t k[4 + S_GROUP_NAME_MAX];
    if (!name.ptr || name.len == 0 || name.len > S_GROUP_NAME_MAX)
        return EF_ENOTFOUND;
    return s_get_str (txn, S_GROUPS, k, s_org_id_key (k, stream, name), rec);
}

int
ef_store_group_put (ef_store_txn_t *txn, uint32_t stream, ef_str_t name,
                    const void *rec, size_t len)
{
    uint8_t k[4 + S_GROUP_NAME_MAX];
    if (!name.ptr || name.len == 0 || name.len > S_GROUP_NAME_MAX)
        return EF_EINVAL;
    return ef_store_lmdb_put (txn, S_GROUPS, k, s_org_id_key (k, stream, name),
                              rec, len, 0);
}

typedef struct {
    void *fn;
    void *arg;
} s_walk_t;

static int
s_group_visit (void *arg, const MDB_val *key, const MDB_val *val)
{
    s_walk_t *w = arg;
    ef_str_t name = {(const char *)key->mv_data + 4,
                     (uint32_t)key->mv_size - 4};
    ef_str_t rec = {val->mv_data, (uint32_t)val->mv_size};
    return ((ef_store_group_fn *)w->fn) (w->arg, name, rec);
}

int
ef_store_group_each (ef_store_txn_t *txn, uint32_t stream,
                     ef_store_group_fn *fn, void *arg)
{
    uint8_t p[4];
    s_walk_t w = {(void *)fn, arg};
    s_be32 (p, stream);
    return ef_store_lmdb_each (txn, S_GROUPS, p, 4, s_group_visit, &w);
}

/* ---------------------------------------------------------------- jobs */

static void
s_job_key (uint8_t k[20], uint64_t due, uint32_t num, uint64_t seq)
{
    s_be64 (k, due);
    s_be32 (k + 8, num);
    s_be64 (k + 12, seq);
}

int
ef_store_job_put (ef_store_txn_t *txn, uint64_t due_ms, uint32_t num,
                  uint64_t seq)
{
    uint8_t k[20];
    s_job_key (k, due_ms, num, seq);
    return ef_store_lmdb_put (txn, S_JOBS, k, sizeof k, "", 0, 0);
}

int
ef_store_job_del (ef_store_txn_t *txn, uint64_t due_ms, uint32_t num,
                  uint64_t seq)
{
    uint8_t k[20];
    s_job_key (k, due_ms, num, seq);
    return ef_store_lmdb_del (txn, S_JOBS, k, sizeof k);
}

static int
s_job_visit (void *arg, const MDB_val *key, const MDB_val *val)
{
    (void)val;
    s_walk_t *w = arg;
    const uint8_t *k = key->mv_data;
    if (key->mv_size != 20)
        return 0;
    return ((ef_store_job_fn *)w->fn) (w->arg, s_rd64 (k), s_rd32 (k + 8),
                                       s_rd64 (k + 12));
}

int
ef_store_job_each (ef_store_txn_t *txn, ef_store_job_fn *fn, void *arg)
{
    s_walk_t w = {(void *)fn, arg};
    return ef_store_lmdb_each (txn, S_JOBS, NULL, 0, s_job_visit, &w);
}

/* ---------------------------------------------------------------- dlq */

/*  The dead letters of each org and stream are counted in meta ("dlq_org"
    org(4), "dlq_stream" num(4), u64) by the writes below, so that their
    sizes cost one read, never a walk of the queue. */

static size_t
s_dlq_count_key (uint8_t *k, int org, uint32_t id)
{
    size_t n = org ? 7 : 10;
    memcpy (k, org ? "dlq_org" : "dlq_stream", n);
    s_be32 (k + n, id);
    return n + 4;
}

static uint64_t
s_dlq_count_get (ef_store_txn_t *txn, int org, uint32_t id)
{
    uint8_t k[14];
    MDB_val v;
    size_t klen = s_dlq_count_key (k, org, id);
    if (ef_store_lmdb_get (txn, S_META, k, klen, &v) || v.mv_size != 8)
        return 0;
    return s_rd64 (v.mv_data);
}

static int
s_dlq_count_add (ef_store_txn_t *txn, int org, uint32_t id, int64_t delta)
{
    uint8_t k[14], v[8];
    size_t klen = s_dlq_count_key (k, org, id);
    int64_t n = (int64_t)s_dlq_count_get (txn, org, id) + delta;
    if (n <= 0) {
        int rc = ef_store_lmdb_del (txn, S_META, k, klen);
        return rc == EF_ENOTFOUND ? 0 : rc;
    }
    s_be64 (v, (uint64_t)n);
    return ef_store_lmdb_put (txn, S_META, k, klen, v, sizeof v, 0);
}

/*  One letter more or less in stream num and its org (a stream with no
    record has no org to count in). */
static int
s_dlq_counted (ef_store_txn_t *txn, uint32_t num, int64_t delta)
{
    uint32_t org;
    int rc = ef_store_lmdb_org_of (txn, num, &org);
    if (rc == 0)
        rc = s_dlq_count_add (txn, 1, org, delta);
    if (rc == 0 || rc == EF_ENOTFOUND)
        rc = s_dlq_count_add (txn, 0, num, delta);
    return rc;
}

int
ef_store_dlq_put (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                  const void *rec, size_t len)
{
    uint8_t k[12];
    MDB_val old;
    s_at_key (k, num, seq);
    int rc = ef_store_lmdb_get (txn, S_DLQ, k, sizeof k, &old);
    int fresh = rc == EF_ENOTFOUND;
    if (rc && !fresh)
        return rc;
    if ((rc = ef_store_lmdb_put (txn, S_DLQ, k, sizeof k, rec, len, 0)))
        return rc;
    return fresh ? s_dlq_counted (txn, num, 1) : 0;
}

int
ef_store_dlq_get (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                  ef_str_t *rec)
{
    uint8_t k[12];
    s_at_key (k, num, seq);
    return s_get_str (txn, S_DLQ, k, sizeof k, rec);
}

int
ef_store_dlq_del (ef_store_txn_t *txn, uint32_t num, uint64_t seq)
{
    uint8_t k[12];
    s_at_key (k, num, seq);
    int rc = ef_store_lmdb_del (txn, S_DLQ, k, sizeof k);
    return rc ? rc : s_dlq_counted (txn, num, -1);
}

static int
s_dlq_visit (void *arg, const MDB_val *key, const MDB_val *val)
{
    s_walk_t *w = arg;
    const uint8_t *k = key->mv_data;
    if (key->mv_size != 12)
        return 0;
    ef_str_t rec = {val->mv_data, (uint32_t)val->mv_size};
    return ((ef_store_dlq_fn *)w->fn) (w->arg, s_rd32 (k), s_rd64 (k + 4), rec);
}

int
ef_store_dlq_each (ef_store_txn_t *txn, ef_store_dlq_fn *fn, void *arg)
{
    s_walk_t w = {(void *)fn, arg};
    return ef_store_lmdb_each (txn, S_DLQ, NULL, 0, s_dlq_visit, &w);
}

int
ef_store_dlq_each_stream (ef_store_txn_t *txn, uint32_t num,
                          ef_store_dlq_fn *fn, void *arg)
{
    s_walk_t w = {(void *)fn, arg};
    uint8_t k[4];
    s_be32 (k, num);
    return ef_store_lmdb_each (txn, S_DLQ, k, sizeof k, s_dlq_visit, &w);
}

int
ef_store_dlq_count (ef_store_txn_t *txn, uint64_t *n)
{
    MDB_stat st;
    int rc = mdb_stat (txn->txn, txn->store->dbi[S_DLQ], &st);
    *n = rc ? 0 : st.ms_entries;
    return rc ? ef_store_lmdb_err (txn->store, rc) : 0;
}

int
ef_store_dlq_size (ef_store_txn_t *txn, uint32_t org, uint32_t num, uint64_t *n)
{
    *n = num ? s_dlq_count_get (txn, 0, num) : s_dlq_count_get (txn, 1, org);
    return 0;
}

int
ef_store_lmdb_dlq_drop (ef_store_txn_t *txn, uint32_t num, uint32_t org)
{
    MDB_cursor *cur;
    uint8_t k[4];
    int64_t n = 0;
    s_be32 (k, num);
    int rc = mdb_cursor_open (txn->txn, txn->store->dbi[S_DLQ], &cur);
    if (rc)
        return ef_store_lmdb_err (txn->store, rc);
    for (;;) {
        /* from the prefix again each time: a deleted record leaves the
           cursor on no record */
        MDB_val key = {sizeof k, k}, val;
        rc = mdb_cursor_get (cur, &key, &val, MDB_SET_RANGE);
        if (rc || key.mv_size < 4 || memcmp (key.mv_data, k, 4) != 0 ||
            (rc = mdb_cursor_del (cur, 0)))
            break;
        n++;
    }
    mdb_cursor_close (cur);
    if (rc && rc != MDB_NOTFOUND)
        return ef_store_lmdb_err (txn->store, rc);
    if ((rc = s_dlq_count_add (txn, 1, org, -n)))
        return rc;
    return s_dlq_count_add (txn, 0, num, -n);
}

/*  A store from before dead letters were counted: count them (one walk
    of the queue, in the write txn of the store's upgrade). A letter of a
    stream that is gone is dropped: no one can list, replay or delete it
    any more. */
int
ef_store_lmdb_dlq_count (ef_store_txn_t *txn)
{
    ef_store_t *self = txn->store;
    MDB_cursor *cur;
    MDB_val key = {11, "dlq_counted"}, val;
    if (mdb_get (txn->txn, self->dbi[S_META], &key, &val) == 0)
        return 0;
    int rc = mdb_cursor_open (txn->txn, self->dbi[S_DLQ], &cur);
    if (rc)
        return ef_store_lmdb_err (self, rc);
    int err = 0;
    rc = mdb_cursor_get (cur, &key, &val, MDB_FIRST);
    while (rc == 0 && !err) {
        uint32_t num = key.mv_size == 12 ? s_rd32 (key.mv_data) : 0, org;
        if (num && (err = ef_store_lmdb_org_of (txn, num, &org)) == 0)
            err = s_dlq_counted (txn, num, 1);
        else if (num && err == EF_ENOTFOUND) {
            /* the cursor stands on the next record after the delete */
            if ((err = ef_store_lmdb_err (self, mdb_cursor_del (cur, 0))))
                break;
            rc = mdb_cursor_get (cur, &key, &val, MDB_GET_CURRENT);
            if (rc == EINVAL)
                rc = MDB_NOTFOUND;
            continue;
        }
        rc = mdb_cursor_get (cur, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close (cur);
    if (!err && rc != MDB_NOTFOUND)
        err = ef_store_lmdb_err (self, rc);
    if (!err)
        err = ef_store_lmdb_put (txn, S_META, "dlq_counted", 11, "1", 1, 0);
    return err;
}

/* ---------------------------------------------------------------- orgs */

int
ef_store_org_next (ef_store_txn_t *txn, uint32_t *num)
{
    MDB_val v;
    uint32_t n = 1;
    int rc = ef_store_lmdb_get (txn, S_META, "next_org", 8, &v);
    if (rc == 0 && v.mv_size == 4)
        n = s_rd32 (v.mv_data);
    else if (rc && rc != EF_ENOTFOUND)
        return rc;
    uint8_t nb[4];
    s_be32 (nb, n + 1);
    rc = ef_store_lmdb_put (txn, S_META, "next_org", 8, nb, 4, 0);
    if (rc == 0)
        *num = n;
    return rc;
}

int
ef_store_org_put (ef_store_txn_t *txn, uint32_t num, const void *rec,
                  size_t len, int create)
{
    uint8_t k[4];
    s_be32 (k, num);
    return ef_store_lmdb_put (txn, S_ORGS, k, 4, rec, len,
                              create ? MDB_NOOVERWRITE : 0);
}

int
ef_store_org_get (ef_store_txn_t *txn, uint32_t num, ef_str_t *rec)
{
    uint8_t k[4];
    s_be32 (k, num);
    return s_get_str (txn, S_ORGS, k, 4, rec);
}

/* ---------------------------------------------------------------- users */

#define S_EMAIL_MAX 511 /* LMDB's key limit; the caller's is lower */

int
ef_store_user_put (ef_store_txn_t *txn, uint32_t org, ef_str_t id,
                   ef_str_t email, const void *rec, size_t len, int create)
{
    if (!s_id_ok (id))
        return EF_EINVAL;
    int rc;
    if (create) {
        uint8_t ok[4 + S_ID_MAX];
        if (!email.ptr || email.len == 0 || email.len > S_EMAIL_MAX)
            return EF_EINVAL;
        rc = ef_store_lmdb_put (txn, S_USER_EMAILS, email.ptr, email.len,
                                id.ptr, id.len, MDB_NOOVERWRITE);
        if (rc) /* EF_EEXISTS: the email is taken */
            return rc;
        if ((rc = ef_store_lmdb_put (txn, S_ORG_USERS, ok,
                                     s_org_id_key (ok, org, id), "", 0, 0)))
            return rc;
    }
    return ef_store_lmdb_put (txn, S_USERS, id.ptr, id.len, rec, len, 0);
}

int
ef_store_user_get (ef_store_txn_t *txn, ef_str_t id, ef_str_t *rec)
{
    if (!s_id_ok (id))
        return EF_ENOTFOUND;
    return s_get_str (txn, S_USERS, id.ptr, id.len, rec);
}

int
ef_store_user_by_email (ef_store_txn_t *txn, ef_str_t email, ef_str_t *id)
{
    if (!email.ptr || email.len == 0 || email.len > S_EMAIL_MAX)
        return EF_ENOTFOUND;
    return s_get_str (txn, S_USER_EMAILS, email.ptr, email.len, id);
}

int
ef_store_user_delete (ef_store_txn_t *txn, uint32_t org, ef_str_t id,
                      ef_str_t email)
{
    uint8_t ok[4 + S_ID_MAX];
    if (!s_id_ok (id) || !email.ptr || email.len == 0 ||
        email.len > S_EMAIL_MAX)
        return EF_ENOTFOUND;
    int rc = ef_store_lmdb_del (txn, S_USERS, id.ptr, id.len);
    if (rc == 0)
        rc = ef_store_lmdb_del (txn, S_USER_EMAILS, email.ptr, email.len);
    if (rc == 0)
        rc = ef_store_lmdb_del (txn, S_ORG_USERS, ok,
                                s_org_id_key (ok, org, id));
    return rc;
}

static int
s_id_visit (void *arg, const MDB_val *key, const MDB_val *val)
{
    (void)val;
    s_walk_t *w = arg;
    ef_str_t id = {(const char *)key->mv_data + 4, (uint32_t)key->mv_size - 4};
    return ((ef_store_id_fn *)w->fn) (w->arg, id);
}

int
ef_store_user_each (ef_store_txn_t *txn, uint32_t org, ef_store_id_fn *fn,
                    void *arg)
{
    uint8_t p[4];
    s_walk_t w = {(void *)fn, arg};
    s_be32 (p, org);
    return ef_store_lmdb_each (txn, S_ORG_USERS, p, 4, s_id_visit, &w);
}

/* ---------------------------------------------------------------- api keys */

int
ef_store_apikey_put (ef_store_txn_t *txn, uint32_t org, ef_str_t id,
                     const void *rec, size_t len, int create)
{
    uint8_t ok[4 + S_ID_MAX];
    if (!s_id_ok (id))
        return EF_EINVAL;
    int rc = ef_store_lmdb_put (txn, S_API_KEYS, id.ptr, id.len, rec, len,
                                create ? MDB_NOOVERWRITE : 0);
    if (rc == 0 && create)
        rc = ef_store_lmdb_put (txn, S_ORG_API_KEYS, ok,
                                s_org_id_key (ok, org, id), "", 0, 0);
    return rc;
}

int
ef_store_apikey_get (ef_store_txn_t *txn, ef_str_t id, ef_str_t *rec)
{
    if (!s_id_ok (id))
        return EF_ENOTFOUND;
    return s_get_str (txn, S_API_KEYS, id.ptr, id.len, rec);
}

int
ef_store_apikey_each (ef_store_txn_t *txn, uint32_t org, ef_store_id_fn *fn,
                      void *arg)
{
    uint8_t p[4];
    s_walk_t w = {(void *)fn, arg};
    s_be32 (p, org);
    return ef_store_lmdb_each (txn, S_ORG_API_KEYS, p, 4, s_id_visit, &w);
}

/* ------------------------------------------------------------- client keys */

int
ef_store_clientkey_put (ef_store_txn_t *txn, const uint8_t pub[32],
                        const void *rec, size_t len, int create)
{
    return ef_store_lmdb_put (txn, S_CLIENT_KEYS, pub, 32, rec, len,
                              create ? MDB_NOOVERWRITE : 0);
}

int
ef_store_clientkey_get (ef_store_txn_t *txn, const uint8_t pub[32],
                        ef_str_t *rec)
{
    return s_get_str (txn, S_CLIENT_KEYS, pub, 32, rec);
}

static int
s_clientkey_visit (void *arg, const MDB_val *key, const MDB_val *val)
{
    s_walk_t *w = arg;
    if (key->mv_size != 32)
        return 0;
    ef_str_t rec = {val->mv_data, (uint32_t)val->mv_size};
    return ((ef_store_clientkey_fn *)w->fn) (w->arg, key->mv_data, rec);
}

int
ef_store_clientkey_each (ef_store_txn_t *txn, ef_store_clientkey_fn *fn,
                         void *arg)
{
    s_walk_t w = {(void *)fn, arg};
    return ef_store_lmdb_each (txn, S_CLIENT_KEYS, NULL, 0, s_clientkey_visit,
                               &w);
}

/* ---------------------------------------------------------------- families */

int
ef_store_family_put (ef_store_txn_t *txn, ef_str_t id, const void *rec,
                     size_t len)
{
    if (!s_id_ok (id))
        return EF_EINVAL;
    return ef_store_lmdb_put (txn, S_FAMILIES, id.ptr, id.len, rec, len, 0);
}

int
ef_store_family_get (ef_store_txn_t *txn, ef_str_t id, ef_str_t *rec)
{
    if (!s_id_ok (id))
        return EF_ENOTFOUND;
    return s_get_str (txn, S_FAMILIES, id.ptr, id.len, rec);
}
