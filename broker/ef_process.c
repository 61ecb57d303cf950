/*  ef_process.c: processing states, jobs and dead letters as store
    records (see ef_process.h). */
#include "ef_process.h"
#include "eventflow/ef_error.h"

#include <stdio.h>
#include <string.h>

static const char *s_names[] = {"PENDING", "PROCESSED", "FILTERED", "FAILED"};

const char *
ef_status_name (int status)
{
    return status >= 0 && status <= 3 ? s_names[status] : "PENDING";
}

static void
s_be (uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t
s_rd (const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static void
s_key (uint8_t k[12], uint32_t num, uint64_t seq)
{
    s_be (k, num, 4);
    s_be (k + 4, seq, 8);
}

/* ---------------------------------------------------------------- states */

int
ef_process_state_get (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                      ef_state_t *st)
{
    uint8_t k[12];
    ef_str_t v;
    s_key (k, num, seq);
    memset (st, 0, sizeof *st);
    int rc = ef_store_rec_get (txn, EF_TABLE_STATES, k, 12, &v);
    return rc ? rc : ef_process_state_parse (v, st);
}

int
ef_process_state_parse (ef_str_t v, ef_state_t *st)
{
    ef_str_t err;
    ef_mpr_t r;
    uint32_t n;
    uint64_t status, attempts, step;
    memset (st, 0, sizeof *st);
    ef_mpr_init (&r, v.ptr, v.len);
    if (ef_mpr_array (&r, &n) || n < 8 || ef_mpr_uint (&r, &status) ||
        ef_mpr_uint (&r, &attempts) || ef_mpr_uint (&r, &step) ||
        ef_mpr_uint (&r, &st->job_due) || ef_mpr_uint (&r, &st->first_failure))
        return EF_ESTORE;
    if (!ef_mpr_nil (&r)) {
        if (ef_mpr_str (&r, &err))
            return EF_ESTORE;
        snprintf (st->last_error, sizeof st->last_error, "%.*s", (int)err.len,
                  err.ptr);
    }
    if (!ef_mpr_nil (&r) && ef_mpr_str (&r, &st->result))
        return EF_ESTORE;
    uint64_t inflight = 0, hops = 0;
    if (ef_mpr_uint (&r, &st->processed_at) ||
        (n > 8 && ef_mpr_uint (&r, &inflight)) ||
        (n > 9 && ef_mpr_uint (&r, &hops)) ||
        (n > 10 && ef_mpr_uint (&r, &st->dispatches)))
        return EF_ESTORE;
    st->hops = hops > UINT32_MAX ? UINT32_MAX : (uint32_t)hops;
    st->inflight = inflight != 0;
    st->status = (int)status;
    st->attempts = (uint32_t)attempts;
    st->step = (uint32_t)step;
    return 0;
}

int
ef_process_state_put (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                      const ef_state_t *st)
{
    uint8_t k[12];
    ef_buf_t b;
    s_key (k, num, seq);
    ef_buf_init (&b);
    ef_mp_array (&b, 11);
    ef_mp_uint (&b, (uint64_t)st->status);
    ef_mp_uint (&b, st->attempts);
    ef_mp_uint (&b, st->step);
    ef_mp_uint (&b, st->job_due);
    ef_mp_uint (&b, st->first_failure);
    if (st->last_error[0])
        ef_mp_cstr (&b, st->last_error);
    else
        ef_mp_nil (&b);
    ef_mp_xstr (&b, st->result);
    ef_mp_uint (&b, st->processed_at);
    ef_mp_uint (&b, (uint64_t)st->inflight);
    ef_mp_uint (&b, st->hops);
    ef_mp_uint (&b, st->dispatches);
    int rc = b.oom ? EF_ENOMEM
                   : ef_store_rec_put (txn, EF_TABLE_STATES, k, 12, b.data,
                                       b.len, 0);
    ef_buf_free (&b);
    return rc;
}

/* ---------------------------------------------------------------- jobs */

static void
s_job_key (uint8_t k[20], uint64_t due, uint32_t num, uint64_t seq)
{
    s_be (k, due, 8);
    s_be (k + 8, num, 4);
    s_be (k + 12, seq, 8);
}

int
ef_process_job_put (ef_store_txn_t *txn, uint64_t due, uint32_t num,
                    uint64_t seq)
{
    uint8_t k[20];
    s_job_key (k, due, num, seq);
    return ef_store_rec_put (txn, EF_TABLE_JOBS, k, 20, "", 0, 0);
}

int
ef_process_job_del (ef_store_txn_t *txn, uint64_t due, uint32_t num,
                    uint64_t seq)
{
    uint8_t k[20];
    s_job_key (k, due, num, seq);
    int rc = ef_store_rec_del (txn, EF_TABLE_JOBS, k, 20);
    return rc == EF_ENOTFOUND ? 0 : rc;
}

typedef struct {
    uint64_t now;
    ef_job_t *jobs;
    uint32_t max, n;
    uint64_t next;
} s_due_t;

static int
s_due (void *arg, ef_str_t key, ef_str_t val)
{
    (void)val;
    s_due_t *d = arg;
    if (key.len != 20)
        return 0;
    const uint8_t *k = (const uint8_t *)key.ptr;
    uint64_t due = s_rd (k, 8);
    if (due > d->now) {
        d->next = due;
        return 1;
    }
    if (d->n == d->max) {
        d->next = due;
        return 1;
    }
    d->jobs[d->n++] =
        (ef_job_t){due, (uint32_t)s_rd (k + 8, 4), s_rd (k + 12, 8)};
    return 0;
}

int
ef_process_jobs_due (ef_store_txn_t *txn, uint64_t now, ef_job_t *jobs,
                     uint32_t max, uint32_t *n, uint64_t *next)
{
    s_due_t d = {now, jobs, max, 0, 0};
    int rc = ef_store_rec_each (txn, EF_TABLE_JOBS, NULL, 0, s_due, &d);
    *n = d.n;
    *next = d.next;
    return rc;
}

/* ---------------------------------------------------------------- dlq */

int
ef_process_dlq_put (ef_store_txn_t *txn, const ef_dead_t *d)
{
    uint8_t k[12];
    ef_buf_t b;
    s_key (k, d->num, d->seq);
    ef_buf_init (&b);
    ef_mp_array (&b, 6);
    ef_mp_uint (&b, d->org);
    ef_mp_uint (&b, d->step);
    ef_mp_uint (&b, d->attempts);
    ef_mp_cstr (&b, d->error);
    ef_mp_uint (&b, d->first_failure);
    ef_mp_uint (&b, d->last_failure);
    int rc =
        b.oom ? EF_ENOMEM
              : ef_store_rec_put (txn, EF_TABLE_DLQ, k, 12, b.data, b.len, 0);
    ef_buf_free (&b);
    return rc;
}

static int
s_dead_decode (ef_str_t key, ef_str_t v, ef_dead_t *d)
{
    ef_mpr_t r;
    uint32_t n;
    uint64_t org, step, attempts;
    ef_str_t err;
    memset (d, 0, sizeof *d);
    if (key.len != 12)
        return EF_ESTORE;
    d->num = (uint32_t)s_rd ((const uint8_t *)key.ptr, 4);
    d->seq = s_rd ((const uint8_t *)key.ptr + 4, 8);
    ef_mpr_init (&r, v.ptr, v.len);
    if (ef_mpr_array (&r, &n) || n < 6 || ef_mpr_uint (&r, &org) ||
        ef_mpr_uint (&r, &step) || ef_mpr_uint (&r, &attempts) ||
        ef_mpr_str (&r, &err) || ef_mpr_uint (&r, &d->first_failure) ||
        ef_mpr_uint (&r, &d->last_failure))
        return EF_ESTORE;
    d->org = (uint32_t)org;
    d->step = (uint32_t)step;
    d->attempts = (uint32_t)attempts;
    snprintf (d->error, sizeof d->error, "%.*s", (int)err.len, err.ptr);
    return 0;
}

int
ef_process_dlq_get (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                    ef_dead_t *d)
{
    uint8_t k[12];
    ef_str_t v;
    s_key (k, num, seq);
    int rc = ef_store_rec_get (txn, EF_TABLE_DLQ, k, 12, &v);
    return rc ? rc : s_dead_decode ((ef_str_t){(const char *)k, 12}, v, d);
}

int
ef_process_dlq_del (ef_store_txn_t *txn, uint32_t num, uint64_t seq)
{
    uint8_t k[12];
    s_key (k, num, seq);
    return ef_store_rec_del (txn, EF_TABLE_DLQ, k, 12);
}

typedef struct {
    uint32_t org;
    ef_dead_fn *fn;
    void *arg;
    uint64_t count;
} s_dlq_walk_t;

static int
s_dlq_visit (void *arg, ef_str_t key, ef_str_t val)
{
    s_dlq_walk_t *w = arg;
    ef_dead_t d;
    if (s_dead_decode (key, val, &d))
        return 0;
    w->count++;
    if (w->org && d.org != w->org)
        return 0;
    return w->fn ? w->fn (w->arg, &d) : 0;
}

int
ef_process_dlq_each (ef_store_txn_t *txn, uint32_t org, ef_dead_fn *fn,
                     void *arg)
{
    s_dlq_walk_t w = {org, fn, arg, 0};
    return ef_store_rec_each (txn, EF_TABLE_DLQ, NULL, 0, s_dlq_visit, &w);
}

int
ef_process_dlq_count (ef_store_txn_t *txn, uint64_t *n)
{
    return ef_store_rec_count (txn, EF_TABLE_DLQ, n);
}
