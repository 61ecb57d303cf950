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

/* ---------------------------------------------------------------- states */

int
ef_process_state_get (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                      ef_state_t *st)
{
    ef_str_t v;
    memset (st, 0, sizeof *st);
    int rc = ef_store_state_get (txn, num, seq, &v);
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
    ef_buf_t b;
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
    int rc =
        b.oom ? EF_ENOMEM : ef_store_state_put (txn, num, seq, b.data, b.len);
    ef_buf_free (&b);
    return rc;
}

/* ---------------------------------------------------------------- history */

/*  Stored as [dropped, [attempt, ...]], each attempt [step, kind,
    service, started_at, duration_ms, outcome, error, routed_to,
    routed_id, worker] with nil for an unset string (histories stored
    before worker was kept have nine). */
static void
s_attempt_write (ef_buf_t *b, const ef_attempt_t *a)
{
    ef_mp_array (b, 10);
    ef_mp_uint (b, a->step);
    ef_mp_cstr (b, a->kind);
    ef_mp_xstr (b, a->service);
    ef_mp_uint (b, a->started_at);
    ef_mp_uint (b, a->duration_ms);
    ef_mp_cstr (b, a->outcome);
    ef_mp_xstr (b, a->error);
    ef_mp_xstr (b, a->routed_to);
    ef_mp_xstr (b, a->routed_id);
    ef_mp_xstr (b, a->worker);
}

/*  A string or nil into *s (unset for nil). */
static int
s_opt_str (ef_mpr_t *r, ef_str_t *s)
{
    *s = EF_STR_NULL;
    return ef_mpr_nil (r) ? 0 : ef_mpr_str (r, s);
}

static int
s_attempt_read (ef_mpr_t *r, ef_attempt_t *a, ef_str_t *kind, ef_str_t *outcome)
{
    uint32_t n;
    uint64_t step;
    memset (a, 0, sizeof *a);
    if (ef_mpr_array (r, &n) || n < 9 || ef_mpr_uint (r, &step) ||
        ef_mpr_str (r, kind) || s_opt_str (r, &a->service) ||
        ef_mpr_uint (r, &a->started_at) || ef_mpr_uint (r, &a->duration_ms) ||
        ef_mpr_str (r, outcome) || s_opt_str (r, &a->error) ||
        s_opt_str (r, &a->routed_to) || s_opt_str (r, &a->routed_id) ||
        (n > 9 && s_opt_str (r, &a->worker)))
        return EF_ESTORE;
    for (uint32_t i = 10; i < n; i++)
        if (ef_mpr_skip (r, 4))
            return EF_ESTORE;
    a->step = (uint32_t)step;
    return 0;
}

/*  The stored history's head: dropped and how many attempts follow. */
static int
s_history_head (ef_mpr_t *r, uint64_t *dropped, uint32_t *n)
{
    uint32_t two;
    if (ef_mpr_array (r, &two) || two < 2 || ef_mpr_uint (r, dropped) ||
        ef_mpr_array (r, n))
        return EF_ESTORE;
    return 0;
}

int
ef_process_history_add (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                        const ef_attempt_t *a)
{
    ef_str_t v;
    ef_mpr_t r;
    uint64_t dropped = 0;
    uint32_t n = 0;
    int rc = ef_store_history_get (txn, num, seq, &v);
    if (rc && rc != EF_ENOTFOUND)
        return rc;
    ef_mpr_init (&r, rc ? NULL : v.ptr, rc ? 0 : v.len);
    if (rc == 0 && s_history_head (&r, &dropped, &n))
        return EF_ESTORE;
    /* the oldest go, so that with a this makes EF_HISTORY_MAX */
    for (; n >= EF_HISTORY_MAX; n--, dropped++)
        if (ef_mpr_skip (&r, 4))
            return EF_ESTORE;
    ef_buf_t b;
    ef_buf_init (&b);
    ef_mp_array (&b, 2);
    ef_mp_uint (&b, dropped);
    ef_mp_array (&b, n + 1);
    if (n)
        ef_buf_append (&b, r.p, (size_t)(r.end - r.p));
    s_attempt_write (&b, a);
    rc =
        b.oom ? EF_ENOMEM : ef_store_history_put (txn, num, seq, b.data, b.len);
    ef_buf_free (&b);
    return rc;
}

int
ef_process_history_each (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                         ef_attempt_fn *fn, void *arg, uint64_t *dropped)
{
    ef_str_t v;
    ef_mpr_t r;
    uint32_t n;
    char kind[16], outcome[16];
    *dropped = 0;
    int rc = ef_store_history_get (txn, num, seq, &v);
    if (rc)
        return rc == EF_ENOTFOUND ? 0 : rc;
    ef_mpr_init (&r, v.ptr, v.len);
    if (s_history_head (&r, dropped, &n))
        return EF_ESTORE;
    for (uint32_t i = 0; i < n; i++) {
        ef_attempt_t a;
        ef_str_t k, o;
        if (s_attempt_read (&r, &a, &k, &o))
            return EF_ESTORE;
        snprintf (kind, sizeof kind, "%.*s", (int)k.len, k.ptr);
        snprintf (outcome, sizeof outcome, "%.*s", (int)o.len, o.ptr);
        a.kind = kind;
        a.outcome = outcome;
        if (fn (arg, &a))
            break;
    }
    return 0;
}

/* ---------------------------------------------------------------- jobs */

int
ef_process_job_put (ef_store_txn_t *txn, uint64_t due, uint32_t num,
                    uint64_t seq)
{
    return ef_store_job_put (txn, due, num, seq);
}

int
ef_process_job_del (ef_store_txn_t *txn, uint64_t due, uint32_t num,
                    uint64_t seq)
{
    int rc = ef_store_job_del (txn, due, num, seq);
    return rc == EF_ENOTFOUND ? 0 : rc;
}

typedef struct {
    uint64_t now;
    ef_job_t *jobs;
    uint32_t max, n;
    uint64_t next;
} s_due_t;

static int
s_due (void *arg, uint64_t due, uint32_t num, uint64_t seq)
{
    s_due_t *d = arg;
    if (due > d->now || d->n == d->max) {
        d->next = due;
        return 1;
    }
    d->jobs[d->n++] = (ef_job_t){due, num, seq};
    return 0;
}

int
ef_process_jobs_due (ef_store_txn_t *txn, uint64_t now, ef_job_t *jobs,
                     uint32_t max, uint32_t *n, uint64_t *next)
{
    s_due_t d = {now, jobs, max, 0, 0};
    int rc = ef_store_job_each (txn, s_due, &d);
    *n = d.n;
    *next = d.next;
    return rc;
}

/* ---------------------------------------------------------------- dlq */

int
ef_process_dlq_put (ef_store_txn_t *txn, const ef_dead_t *d)
{
    ef_buf_t b;
    ef_buf_init (&b);
    ef_mp_array (&b, 6);
    ef_mp_uint (&b, d->org);
    ef_mp_uint (&b, d->step);
    ef_mp_uint (&b, d->attempts);
    ef_mp_cstr (&b, d->error);
    ef_mp_uint (&b, d->first_failure);
    ef_mp_uint (&b, d->last_failure);
    int rc = b.oom ? EF_ENOMEM
                   : ef_store_dlq_put (txn, d->num, d->seq, b.data, b.len);
    ef_buf_free (&b);
    return rc;
}

static int
s_dead_decode (uint32_t num, uint64_t seq, ef_str_t v, ef_dead_t *d)
{
    ef_mpr_t r;
    uint32_t n;
    uint64_t org, step, attempts;
    ef_str_t err;
    memset (d, 0, sizeof *d);
    d->num = num;
    d->seq = seq;
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
    ef_str_t v;
    int rc = ef_store_dlq_get (txn, num, seq, &v);
    return rc ? rc : s_dead_decode (num, seq, v, d);
}

int
ef_process_dlq_del (ef_store_txn_t *txn, uint32_t num, uint64_t seq)
{
    return ef_store_dlq_del (txn, num, seq);
}

typedef struct {
    uint32_t org;
    ef_dead_fn *fn;
    void *arg;
    uint64_t count;
} s_dlq_walk_t;

static int
s_dlq_visit (void *arg, uint32_t num, uint64_t seq, ef_str_t val)
{
    s_dlq_walk_t *w = arg;
    ef_dead_t d;
    if (s_dead_decode (num, seq, val, &d))
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
    return ef_store_dlq_each (txn, s_dlq_visit, &w);
}

int
ef_process_dlq_each_stream (ef_store_txn_t *txn, uint32_t num, ef_dead_fn *fn,
                            void *arg)
{
    s_dlq_walk_t w = {0, fn, arg, 0};
    return ef_store_dlq_each_stream (txn, num, s_dlq_visit, &w);
}

int
ef_process_dlq_count (ef_store_txn_t *txn, uint64_t *n)
{
    return ef_store_dlq_count (txn, n);
}

int
ef_process_dlq_size (ef_store_txn_t *txn, uint32_t org, uint32_t num,
                     uint64_t *n)
{
    return ef_store_dlq_size (txn, org, num, n);
}
