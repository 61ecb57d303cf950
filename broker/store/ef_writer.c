/*  ef_writer.c: the group-commit writer thread (see ef_writer.h). */
#include "ef_writer.h"
#include "ef_engine.h"
#include "ef_record.h"
#include "ef_retention.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_time.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct ef_writer {
    ef_store_t *store;
    ef_metrics_t *metrics;
    ef_log_t *log;
    pthread_t thread;
    int running;
    ef_mailbox_t *in;   /* submitted */
    ef_mailbox_t *done; /* finished (not ours) */
    /* writer-thread state */
    uint64_t *heads; /* heads[num] = last seq + 1, 0 = not loaded */
    uint32_t heads_cap;
    ef_engine_t *engine;
    uint64_t next_due; /* when the engine has jobs due (0: none known) */
    uint64_t retention_every, retention_due; /* ms; 0: no retention */
    uint32_t retention_cursor; /* the stream the next pass starts from */
};

static int s_engine_append (void *arg, ef_store_txn_t *txn, uint32_t num,
                            const ef_uuid_t *id, const void *record, size_t len,
                            uint64_t *seq);
static void s_engine_dispatch (void *arg, ef_wreq_t *job);

ef_writer_t *
ef_writer_new (ef_store_t *store, ef_mailbox_t *done, ef_metrics_t *metrics,
               ef_log_t *log)
{
    ef_writer_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store;
    self->done = done;
    self->metrics = metrics;
    self->log = log;
    self->in = ef_mailbox_new ();
    self->engine =
        ef_engine_new (s_engine_append, s_engine_dispatch, self, metrics, log);
    if (!self->in || !self->engine) {
        ef_writer_destroy (&self);
        return NULL;
    }
    self->next_due = 1; /* look for jobs left from before a restart */
    return self;
}

void
ef_writer_set_retention (ef_writer_t *self, uint64_t interval_ms)
{
    self->retention_every = interval_ms;
    self->retention_due = interval_ms ? ef_time_steady_ms () + interval_ms : 0;
}

void
ef_writer_wake_engine (ef_writer_t *self, uint64_t at)
{
    if (!self->next_due || at < self->next_due)
        self->next_due = at;
}

struct ef_engine *
ef_writer_engine (ef_writer_t *self)
{
    return self->engine;
}

int
ef_writer_check_routes (ef_writer_t *self, ef_store_txn_t *txn, ef_wreq_t *w,
                        uint32_t num, ef_str_t name)
{
    char why[512];
    int rc = ef_engine_check_routes (self->engine, txn, w->org, num, name,
                                     w->req.pipeline, why, sizeof why);
    if (rc != EF_EINVAL)
        return rc;
    /* the text lives in the request (records: unused by these commands),
       as another request of the batch may be refused meanwhile */
    ef_buf_reset (&w->records);
    ef_buf_append (&w->records, "invalid pipeline: ", 18);
    ef_buf_append (&w->records, why, strlen (why) + 1);
    w->status = EF_EINVAL;
    w->why = w->records.oom ? "invalid pipeline: route cycle" : w->records.data;
    w->why_at = "/pipeline";
    return 0;
}

void
ef_writer_submit (ef_writer_t *self, ef_wreq_t *wreq)
{
    wreq->next = NULL;
    ef_mailbox_post (self->in, wreq);
}

/* ---------------------------------------------------------------- heads */

static void
s_heads_forget (ef_writer_t *self)
{
    if (self->heads)
        memset (self->heads, 0, self->heads_cap * sizeof *self->heads);
}

void
ef_writer_forget_stream (ef_writer_t *self, uint32_t num)
{
    if (num < self->heads_cap)
        self->heads[num] = 0;
}

/*  The last seq of stream num, loading it into the cache on first use. */
static int
s_head (ef_writer_t *self, ef_store_txn_t *txn, uint32_t num, uint64_t **slot)
{
    if (num >= self->heads_cap) {
        uint32_t cap = self->heads_cap ? self->heads_cap : 64;
        while (cap <= num)
            cap *= 2;
        uint64_t *h = realloc (self->heads, cap * sizeof *h);
        if (!h)
            return EF_ENOMEM;
        memset (h + self->heads_cap, 0, (cap - self->heads_cap) * sizeof *h);
        self->heads = h;
        self->heads_cap = cap;
    }
    if (self->heads[num] == 0) {
        uint64_t first, last;
        int rc = ef_store_stream_bounds (txn, num, &first, &last);
        if (rc)
            return rc;
        self->heads[num] = last + 1;
    }
    *slot = &self->heads[num];
    return 0;
}

/* ---------------------------------------------------------------- apply */

/*  Apply one PUBLISH inside txn: the reactor prepared every record, so
    this is only idempotency checks, seq assignment and appends. Item
    outcomes go to w->results; the return value is a store failure that
    dooms the whole transaction. */
static int
s_apply_publish (ef_writer_t *self, ef_store_txn_t *txn, ef_wreq_t *w)
{
    uint64_t *head;
    ef_stream_rec_t s;
    int rc = s_head (self, txn, w->stream.num, &head);
    if (rc == 0)
        rc = ef_store_stream_get (txn, w->stream.num, &s);
    if (rc)
        return rc;
    /* the stream as this transaction sees it: a pipeline means jobs */
    int pipelined = ef_str_set (s.pipeline);
    uint64_t now = ef_time_steady_ms (); /* when its first job is due */
    if (w->quota) {
        /* all or nothing: items that turn out duplicates count too */
        uint64_t stored, adding = 0;
        for (uint32_t i = 0; i < w->req.n_events; i++)
            adding += w->results[i].code ? 0 : w->results[i].rec_len;
        if ((rc = ef_store_org_bytes (txn, s.org, &stored)))
            return rc;
        if (stored + adding > w->quota) {
            w->status = EF_EQUOTA;
            w->why = "the org's stored bytes quota is reached; nothing was "
                     "written";
            return 0;
        }
    }
    for (uint32_t i = 0; i < w->req.n_events; i++) {
        ef_wresult_t *res = &w->results[i];
        if (res->code)
            continue;
        res->duplicate = 0;
        if (res->id_given) {
            uint64_t seq;
            rc = ef_store_event_find_in (txn, w->stream.num, &res->id, &seq);
            if (rc == 0) {
                /* idempotent: answer with the original seq and time */
                ef_str_t rec;
                res->duplicate = 1;
                res->seq = seq;
                res->received_at =
                    ef_store_event_get (txn, w->stream.num, seq, &rec) == 0
                        ? ef_record_received_at (rec)
                        : 0;
                continue;
            }
            if (rc != EF_ENOTFOUND)
                return rc;
        }
        rc = ef_store_event_append (txn, w->stream.num, *head, &res->id,
                                    w->records.data + res->rec_off,
                                    res->rec_len);
        if (rc)
            return rc;
        res->seq = (*head)++;
        if (pipelined) {
            if ((rc = ef_engine_enqueue (self->engine, txn, w->stream.num,
                                         res->seq, now)))
                return rc;
            self->next_due = now;
        }
    }
    return 0;
}

static int
s_count_stream (void *arg, const ef_stream_rec_t *s)
{
    (void)s;
    (*(uint64_t *)arg)++;
    return 0;
}

static int
s_apply (ef_writer_t *self, ef_store_txn_t *txn, ef_wreq_t *w, uint64_t now)
{
    if (w->apply) {
        w->status = 0; /* a retried request starts afresh */
        ef_buf_reset (&w->reply);
        return w->apply (w->apply_ctx, txn, w, now);
    }
    if (w->req.cmd == EF_CMD_PUBLISH)
        return s_apply_publish (self, txn, w);
    if (w->req.cmd == EF_CMD_CREATE_STREAM) {
        w->status = 0; /* a retried request starts afresh */
        uint64_t n = 0;
        int rc = w->quota
                     ? ef_store_stream_each (txn, w->org, s_count_stream, &n)
                     : 0;
        if (rc)
            return rc;
        if (w->quota && n >= w->quota) {
            w->status = EF_EQUOTA;
            w->why = "the org's streams quota is reached";
            return 0;
        }
        ef_stream_rec_t taken;
        rc = ef_store_stream_find (txn, w->org, w->req.name, &taken);
        if (rc == EF_ENOTFOUND) /* (a taken name is refused below) */
            rc = ef_writer_check_routes (self, txn, w, 0, w->req.name);
        if (rc)
            return rc;
        if (w->status)
            return 0; /* the routes would loop: nothing is made */
        rc = ef_store_stream_create (txn, w->org, w->req.name, now, &w->stream);
        if (rc == EF_EEXISTS || rc == EF_EINVAL) {
            w->status = rc;
            w->why = rc == EF_EEXISTS ? "a stream with that name exists"
                                      : "invalid stream name";
            return 0;
        }
        if (rc == 0 &&
            (ef_str_set (w->req.schema) || ef_str_set (w->req.pipeline)))
            rc = ef_store_stream_configure (txn, w->stream.num, w->req.schema,
                                            w->req.pipeline);
        if (rc == 0 && w->req.has_retention) {
            ef_retention_t r;
            ef_retention_from_request (&w->req, &r);
            rc = ef_store_retention_put (txn, w->stream.num, &r);
        }
        /* the texts point into the request: not to be read after it */
        w->stream.schema = w->stream.pipeline = EF_STR_NULL;
        return rc;
    }
    w->status = EF_EINTERNAL;
    return 0;
}

/* ---------------------------------------------------------------- batches */

/*  Apply list in one transaction. 0, or the store error that failed it
    (the transaction is then rolled back and the head cache forgotten). */
static int
s_commit_list (ef_writer_t *self, ef_wreq_t *list, ef_wreq_t *stop)
{
    ef_store_txn_t *txn;
    int rc = ef_store_write_begin (self->store, &txn);
    if (rc)
        return rc;
    /* deadlines (leases, retries) are set and judged on the steady clock,
       so a step of the wall clock moves none of them */
    uint64_t now = ef_time_steady_ms ();
    for (ef_wreq_t *w = list; w != stop && rc == 0; w = w->next)
        rc = s_apply (self, txn, w, now);
    if (rc)
        ef_store_write_abort (&txn);
    else
        rc = ef_store_write_commit (&txn);
    if (rc) {
        s_heads_forget (self);
        ef_metrics_add (self->metrics, EF_M_COMMIT_ERRORS, 1);
    } else
        ef_metrics_add (self->metrics, EF_M_COMMITS, 1);
    return rc;
}

/*  What a failed transaction is answered with: full or out of memory say
    so; anything else is the store failing. */
static int
s_public_error (int rc)
{
    return rc == EF_ESTORE_FULL || rc == EF_ENOMEM ? rc : EF_ESTORE;
}

static void
s_process (ef_writer_t *self, ef_wreq_t *list)
{
    int rc = s_commit_list (self, list, NULL);
    if (rc && ef_store_broken (self->store)) {
        /* a write or sync failed: nothing is retried, nothing more is
           written; the broker exits (ef_broker.c) */
        for (ef_wreq_t *w = list; w; w = w->next) {
            w->status = EF_ESTORE;
            w->why = "the store failed; the broker stops: retry after its "
                     "restart";
        }
        ef_log_error (self->log, "write failed; the store is broken",
                      "\"error\":\"%s\",\"why\":\"%s\"", ef_error_name (rc),
                      ef_store_broken_why (self->store));
    } else if (rc && list->next) {
        /* the group failed: give each request its own chance */
        ef_log_warn (self->log, "group commit failed; retrying one by one",
                     "\"error\":\"%s\"", ef_error_name (rc));
        for (ef_wreq_t *w = list; w; w = w->next) {
            int one = s_commit_list (self, w, w->next);
            if (one) {
                w->status = s_public_error (one);
                w->why = one == EF_ESTORE_FULL
                             ? "the store is full; nothing was written"
                             : "the store failed; nothing was written";
            }
        }
    } else if (rc) {
        list->status = s_public_error (rc);
        list->why = rc == EF_ESTORE_FULL
                        ? "the store is full; nothing was written"
                        : "the store failed; nothing was written";
    }
    if (rc && !ef_store_broken (self->store))
        ef_log_error (self->log, "write failed", "\"error\":\"%s\"",
                      ef_error_name (rc));

    ef_mailbox_post (self->done, list);
}

/*  A group is cut after this many bytes of records (at least one request
    each): LMDB keeps the pages a transaction dirtied for its next ones
    and never gives them back, so the largest transaction sets the
    broker's memory for good; and a group that size is committed in a
    few ms, so that those behind it wait no longer than that. */
#define S_GROUP_BYTES (8u << 20)

/*  Detach what follows the first S_GROUP_BYTES of list; the rest. */
static ef_wreq_t *
s_cut (ef_wreq_t *list)
{
    size_t bytes = 0;
    for (ef_wreq_t *w = list; w->next; w = w->next) {
        bytes += w->records.len;
        if (bytes + w->next->records.len > S_GROUP_BYTES) {
            ef_wreq_t *rest = w->next;
            w->next = NULL;
            return rest;
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- engine */

static int
s_engine_append (void *arg, ef_store_txn_t *txn, uint32_t num,
                 const ef_uuid_t *id, const void *record, size_t len,
                 uint64_t *seq)
{
    ef_writer_t *self = arg;
    uint64_t *head;
    int rc = s_head (self, txn, num, &head);
    if (rc == 0)
        rc = ef_store_event_append (txn, num, *head, id, record, len);
    if (rc == 0)
        *seq = (*head)++;
    return rc;
}

static void
s_engine_dispatch (void *arg, ef_wreq_t *job)
{
    ef_writer_t *self = arg;
    job->next = NULL;
    ef_mailbox_post (self->done, job);
}

/*  Run the jobs that are due, in a transaction of their own. */
static void
s_engine_pass (ef_writer_t *self)
{
    uint64_t now = ef_time_steady_ms ();
    if (!self->next_due || self->next_due > now)
        return;
    ef_store_txn_t *txn;
    uint64_t next = 0;
    if (ef_store_write_begin (self->store, &txn))
        return;
    int rc = ef_engine_run (self->engine, txn, now, &next);
    if (rc) {
        ef_store_write_abort (&txn);
        s_heads_forget (self);
        /* jobs posted by this pass stand: the worker's answer finds the
           state as it was and is judged again */
        ef_log_error (self->log, "processing pass failed", "\"error\":\"%s\"",
                      ef_error_name (rc));
        self->next_due = now + 1000;
        return;
    }
    if ((rc = ef_store_write_commit (&txn))) {
        s_heads_forget (self);
        self->next_due = now + 1000;
        return;
    }
    self->next_due = next;
}

/*  Delete what the streams' retentions let go, at most S_RETENTION_BATCH
    events of at most S_RETENTION_STREAMS streams in one transaction, so
    that ingest waits for one small commit at most however many streams
    the tenants keep; again right after the next group while there is
    more. */
#define S_RETENTION_BATCH   1000
#define S_RETENTION_STREAMS 256

static void
s_retention_pass (ef_writer_t *self)
{
    uint64_t now = ef_time_steady_ms ();
    if (!self->retention_due || self->retention_due > now)
        return;
    ef_store_txn_t *txn;
    uint64_t freed = 0;
    uint32_t examined = 0, cursor = self->retention_cursor;
    int more = 0;
    self->retention_due = now + self->retention_every;
    if (ef_store_write_begin (self->store, &txn))
        return;
    /* when it runs is steady; an event's age is against the wall clock,
       like its time */
    int rc = ef_retention_pass (txn, ef_time_now_ms (), S_RETENTION_BATCH,
                                S_RETENTION_STREAMS, &cursor, &freed, &examined,
                                &more);
    if (rc == 0 && freed)
        rc = ef_store_write_commit (&txn);
    else
        ef_store_write_abort (&txn);
    if (rc) {
        ef_log_error (self->log, "retention pass failed", "\"error\":\"%s\"",
                      ef_error_name (rc));
        return;
    }
    self->retention_cursor = cursor; /* kept only once committed */
    if (freed || examined)
        ef_log_debug (self->log, "retention pass",
                      "\"streams\":%u,\"events\":%llu,\"more\":%s", examined,
                      (unsigned long long)freed, more ? "true" : "false");
    if (more)
        self->retention_due = now;
}

static void *
s_run (void *arg)
{
    ef_writer_t *self = arg;
    for (;;) {
        /* everything that arrived while the last commit ran is one group;
           between groups, due pipeline jobs run */
        int64_t wait = -1;
        uint64_t due = self->next_due;
        if (self->retention_due && (!due || self->retention_due < due))
            due = self->retention_due;
        if (due) {
            int64_t left = (int64_t)due - (int64_t)ef_time_steady_ms ();
            wait = left < 0 ? 0 : left;
        }
        ef_wreq_t *list = ef_mailbox_wait_for (self->in, 0, wait);
        if (!list && ef_mailbox_closed (self->in))
            break;
        while (list) {
            ef_wreq_t *rest = s_cut (list);
            s_process (self, list);
            list = rest;
        }
        s_engine_pass (self);
        s_retention_pass (self);
    }
    return NULL;
}

int
ef_writer_start (ef_writer_t *self)
{
    if (pthread_create (&self->thread, NULL, s_run, self))
        return EF_EINTERNAL;
    self->running = 1;
    return 0;
}

void
ef_writer_stop (ef_writer_t *self)
{
    if (!self->running)
        return;
    ef_mailbox_close (self->in);
    pthread_join (self->thread, NULL);
    self->running = 0;
}

void
ef_writer_destroy (ef_writer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_writer_t *self = *self_p;
    ef_writer_stop (self);
    ef_mailbox_destroy (&self->in);
    ef_engine_destroy (&self->engine);
    free (self->heads);
    free (self);
    *self_p = NULL;
}
