/*  ef_dlq.c: the dead-letter queue's commands (DESIGN.md §5, §6). A dead
    letter is named by its event's id; it tells the stream, the step that
    failed, the attempts, the last error and when the failures were. Replay
    puts the event back at that step with its attempts reset; delete
    forgets the letter (the event stays FAILED); both take one letter, a
    list of them (in one transaction) or, for replay, every match of the
    filters. Reasons counts the letters by last error. Every walk reads
    the caller's org's streams only. */
#include "ef_dlq.h"
#include "ef_engine.h"
#include "ef_process.h"
#include "ef_query.h"
#include "ef_record.h"
#include "ef_slots.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_time.h"

#include <stdlib.h>
#include <string.h>

struct ef_dlq {
    ef_dlq_ctx_t x;
};

#define S_MAX_PAGE     EF_MAX_LIST /* the codec refuses more */
#define S_MAX_REPLAY   1000        /* dead letters replayed by one request */
#define S_REASONS_SCAN 100000      /* letters one DLQ_REASONS examines */
#define S_REASONS_KEPT 1024        /* distinct reasons it counts */
#define S_REASONS_MAX  100         /* reasons it answers */

/* ---------------------------------------------------------------- finding */

typedef struct {
    ef_store_txn_t *txn;
    uint32_t num;
    uint64_t seq;
} s_letter_t;

/*  Stop at the first event with that id that has a dead letter. */
static int
s_has_letter (void *arg, uint32_t num, uint64_t seq)
{
    s_letter_t *l = arg;
    ef_dead_t d;
    if (ef_process_dlq_get (l->txn, num, seq, &d))
        return 0;
    l->num = num;
    l->seq = seq;
    return 1;
}

/*  (num, seq) of the dead letter of event id, in org (the same id in
    another org is another event; in several streams of this org, the
    first stream holding a letter for it). */
static int
s_locate (ef_store_txn_t *txn, uint32_t org, ef_str_t event_id,
          ef_stream_rec_t *s, uint64_t *seq)
{
    ef_uuid_t id;
    s_letter_t l = {txn, 0, 0};
    if (ef_uuid_parse (event_id.ptr, event_id.len, &id) ||
        ef_store_event_each_at (txn, org, &id, s_has_letter, &l) ||
        ef_store_stream_get (txn, l.num, s))
        return EF_ENOTFOUND;
    *seq = l.seq;
    return 0;
}

/*  Visit the dead letters of stream (when not 0) or of every stream of
    org, stream by stream (by name), each by seq: only the org's letters
    are read. fn returns non-zero to stop. */
typedef struct {
    ef_store_txn_t *txn;
    ef_dead_fn *fn;
    void *arg;
    int stop, rc;
} s_walk_t;

static int
s_walk_letter (void *arg, const ef_dead_t *d)
{
    s_walk_t *k = arg;
    return k->stop = k->fn (k->arg, d);
}

static int
s_walk_stream (void *arg, const ef_stream_rec_t *s)
{
    s_walk_t *k = arg;
    k->rc = ef_process_dlq_each_stream (k->txn, s->num, s_walk_letter, k);
    return k->rc || k->stop;
}

static int
s_walk (ef_store_txn_t *txn, uint32_t org, uint32_t stream, ef_dead_fn *fn,
        void *arg)
{
    s_walk_t k = {txn, fn, arg, 0, 0};
    if (stream)
        return ef_process_dlq_each_stream (txn, stream, fn, arg);
    int rc = ef_store_stream_each (txn, org, s_walk_stream, &k);
    return rc ? rc : k.rc;
}

static void
s_write_dead (ef_buf_t *b, ef_store_txn_t *txn, const ef_dead_t *d)
{
    char id[EF_UUID_STRLEN + 1] = "";
    ef_stream_rec_t s;
    int have = ef_store_stream_get (txn, d->num, &s) == 0;
    ef_query_event_id (txn, d->num, d->seq, id);
    ef_mp_map (b, 9);
    ef_mp_key (b, "event_id");
    ef_mp_cstr (b, id);
    ef_mp_key (b, "stream_id");
    ef_mp_cstr (b, have ? s.id : NULL);
    ef_mp_key (b, "stream");
    ef_mp_cstr (b, have ? s.name : NULL);
    ef_mp_key (b, "seq");
    ef_mp_uint (b, d->seq);
    ef_mp_key (b, "step");
    ef_mp_uint (b, d->step);
    ef_mp_key (b, "attempts");
    ef_mp_uint (b, d->attempts);
    ef_mp_key (b, "last_error");
    ef_mp_cstr (b, d->error);
    ef_mp_key (b, "first_failure_at");
    ef_mp_uint (b, d->first_failure);
    ef_mp_key (b, "last_failure_at");
    ef_mp_uint (b, d->last_failure);
}

/*  1 if the letter's event has the type (exact). */
static int
s_type_is (ef_store_txn_t *txn, const ef_dead_t *d, ef_str_t type)
{
    ef_str_t rec;
    ef_event_t ev = {0};
    if (ef_store_event_get (txn, d->num, d->seq, &rec))
        return 0;
    return ef_record_read (rec, &ev, NULL) == 0 && ev.type.len == type.len &&
           memcmp (ev.type.ptr, type.ptr, type.len) == 0;
}

/*  1 if d meets the request's filters: error (substring of last_error),
    from and to (bounds of last_failure_at), type (the event's, exact).
    The stream is the walk's. */
static int
s_match (ef_store_txn_t *txn, ef_wreq_t *w, const ef_dead_t *d)
{
    if (w->req.has_from && d->last_failure < w->req.from)
        return 0;
    if (w->req.has_to && d->last_failure > w->req.to)
        return 0;
    if (ef_str_set (w->req.error) && w->req.error.len) {
        size_t n = w->req.error.len, m = strlen (d->error);
        int found = 0;
        for (size_t i = 0; !found && i + n <= m; i++)
            found = memcmp (d->error + i, w->req.error.ptr, n) == 0;
        if (!found)
            return 0;
    }
    if (ef_str_set (w->req.type) && !s_type_is (txn, d, w->req.type))
        return 0;
    return 1;
}

/*  The stream filter, if any: 0 and *num (0 for none), or NOT_FOUND. */
static int
s_stream_filter (ef_store_txn_t *txn, ef_wreq_t *w, uint32_t *num)
{
    ef_stream_rec_t s;
    *num = 0;
    if (!ef_str_set (w->req.stream))
        return 0;
    int rc = ef_store_stream_find (txn, w->org, w->req.stream, &s);
    if (rc == 0)
        *num = s.num;
    return rc;
}

/* ---------------------------------------------------------------- list */

typedef struct {
    ef_dlq_t *self;
    ef_wreq_t *w;
    uint64_t skip;
    uint32_t limit, n;
    int more;
    ef_buf_t *tmp;
} s_list_t;

static int
s_list_one (void *arg, const ef_dead_t *d)
{
    s_list_t *l = arg;
    if (!s_match (l->self->x.reader, l->w, d))
        return 0;
    if (l->skip) {
        l->skip--;
        return 0;
    }
    if (l->n == l->limit) {
        l->more = 1;
        return 1;
    }
    s_write_dead (l->tmp, l->self->x.reader, d);
    l->n++;
    return 0;
}

int
ef_dlq_list (ef_dlq_t *self, ef_wreq_t *w, const char **why)
{
    uint32_t stream;
    if (s_stream_filter (self->x.reader, w, &stream)) {
        *why = "no such stream";
        return EF_ENOTFOUND;
    }
    uint32_t limit = w->req.limit ? w->req.limit : 20;
    uint32_t page = w->req.page ? w->req.page : 1;
    if (limit > S_MAX_PAGE)
        limit = S_MAX_PAGE;
    ef_buf_t tmp;
    ef_buf_init (&tmp);
    s_list_t l = {self, w, (uint64_t)(page - 1) * limit, limit, 0, 0, &tmp};
    int rc = s_walk (self->x.reader, w->org, stream, s_list_one, &l);
    if (rc == 0) {
        ef_proto_reply_ok (self->x.out, w->req.id, 4);
        ef_mp_key (self->x.out, "page");
        ef_mp_uint (self->x.out, page);
        ef_mp_key (self->x.out, "limit");
        ef_mp_uint (self->x.out, limit);
        ef_mp_key (self->x.out, "has_more");
        ef_mp_bool (self->x.out, l.more);
        ef_mp_key (self->x.out, "items");
        ef_mp_array (self->x.out, l.n);
        ef_buf_append (self->x.out, tmp.data, tmp.len);
    }
    ef_buf_free (&tmp);
    return rc;
}

/* ---------------------------------------------------------------- reasons */

typedef struct {
    const char *reason; /* into the letter copies below */
    uint64_t count, last;
} s_reason_t;

/*  Dead letters counted by last_error: an open-addressing table of
    S_REASONS_KEPT reasons (twice as many slots), over at most
    S_REASONS_SCAN letters. */
typedef struct {
    ef_store_txn_t *txn;
    ef_wreq_t *w;
    s_reason_t *r;
    char (*text)[EF_ERROR_TEXT];
    int32_t *slot;
    uint32_t n, scanned;
    int truncated;
} s_reasons_t;

#define S_REASON_SLOTS (2 * S_REASONS_KEPT)

static int
s_reason_one (void *arg, const ef_dead_t *d)
{
    s_reasons_t *c = arg;
    if (c->scanned == S_REASONS_SCAN) {
        c->truncated = 1;
        return 1;
    }
    c->scanned++;
    if (!s_match (c->txn, c->w, d))
        return 0;
    uint32_t i =
        ef_slots_hash (d->error, strlen (d->error)) & (S_REASON_SLOTS - 1);
    while (c->slot[i] >= 0 && strcmp (c->r[c->slot[i]].reason, d->error))
        i = (i + 1) & (S_REASON_SLOTS - 1);
    if (c->slot[i] < 0) {
        if (c->n == S_REASONS_KEPT) {
            c->truncated = 1; /* a reason past those it can count */
            return 0;
        }
        memcpy (c->text[c->n], d->error, sizeof c->text[c->n]);
        c->r[c->n] = (s_reason_t){c->text[c->n], 0, 0};
        c->slot[i] = (int32_t)c->n++;
    }
    s_reason_t *r = &c->r[c->slot[i]];
    r->count++;
    if (d->last_failure > r->last)
        r->last = d->last_failure;
    return 0;
}

/*  Most letters first; of as many, the latest failure first. */
static int
s_reason_cmp (const void *a, const void *b)
{
    const s_reason_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    if (x->last != y->last)
        return x->last < y->last ? 1 : -1;
    return strcmp (x->reason, y->reason);
}

int
ef_dlq_reasons (ef_dlq_t *self, ef_wreq_t *w, const char **why)
{
    uint32_t stream;
    if (s_stream_filter (self->x.reader, w, &stream)) {
        *why = "no such stream";
        return EF_ENOTFOUND;
    }
    s_reasons_t c = {self->x.reader, w, NULL, NULL, NULL, 0, 0, 0};
    c.r = malloc (S_REASONS_KEPT * sizeof *c.r);
    c.text = malloc (S_REASONS_KEPT * sizeof *c.text);
    c.slot = malloc (S_REASON_SLOTS * sizeof *c.slot);
    int rc = c.r && c.text && c.slot ? 0 : EF_ENOMEM;
    if (rc == 0) {
        memset (c.slot, 0xff, S_REASON_SLOTS * sizeof *c.slot);
        rc = s_walk (self->x.reader, w->org, stream, s_reason_one, &c);
    }
    if (rc == 0) {
        qsort (c.r, c.n, sizeof *c.r, s_reason_cmp);
        uint32_t n = c.n < S_REASONS_MAX ? c.n : S_REASONS_MAX;
        ef_buf_t *b = self->x.out;
        ef_proto_reply_ok (b, w->req.id, 2);
        ef_mp_key (b, "items");
        ef_mp_array (b, n);
        for (uint32_t i = 0; i < n; i++) {
            ef_mp_map (b, 3);
            ef_mp_key (b, "reason");
            ef_mp_cstr (b, c.r[i].reason);
            ef_mp_key (b, "count");
            ef_mp_uint (b, c.r[i].count);
            ef_mp_key (b, "last_failure_at");
            ef_mp_uint (b, c.r[i].last);
        }
        ef_mp_key (b, "truncated");
        ef_mp_bool (b, c.truncated || c.n > S_REASONS_MAX);
    }
    free (c.r);
    free (c.text);
    free (c.slot);
    return rc;
}

/* ---------------------------------------------------------------- get */

int
ef_dlq_get (ef_dlq_t *self, ef_wreq_t *w, const char **why)
{
    ef_stream_rec_t s;
    uint64_t seq;
    ef_dead_t d;
    ef_str_t rec;
    if (s_locate (self->x.reader, w->org, w->req.event_id, &s, &seq) ||
        ef_process_dlq_get (self->x.reader, s.num, seq, &d) ||
        ef_store_event_get (self->x.reader, s.num, seq, &rec)) {
        *why = "no such dead letter";
        return EF_ENOTFOUND;
    }
    ef_proto_reply_ok (self->x.out, w->req.id, 3);
    ef_mp_key (self->x.out, "dead");
    s_write_dead (self->x.out, self->x.reader, &d);
    ef_mp_key (self->x.out, "event");
    ef_query_write_event (self->x.out, self->x.reader, s.num, s.id, seq, rec);
    /* what each attempt did, as EVENT_HISTORY tells it */
    ef_mp_key (self->x.out, "history");
    return ef_query_write_history (self->x.out, self->x.reader, s.num, seq);
}

/* ---------------------------------------------------------------- by ids */

/*  Replay (or delete) each letter named in event_ids, in the caller's
    write transaction; the ids with no letter (any more) are kept in
    not_found, in the order given. 0 or a store error (the transaction
    then fails whole). */
typedef int (s_by_id_fn) (ef_engine_t *engine, ef_store_txn_t *txn,
                          uint32_t num, uint64_t seq, uint64_t now);

static int
s_replay_one (ef_engine_t *engine, ef_store_txn_t *txn, uint32_t num,
              uint64_t seq, uint64_t now)
{
    return ef_engine_replay (engine, txn, num, seq, now);
}

static int
s_delete_one (ef_engine_t *engine, ef_store_txn_t *txn, uint32_t num,
              uint64_t seq, uint64_t now)
{
    (void)engine;
    (void)now;
    return ef_process_dlq_del (txn, num, seq);
}

static int
s_by_ids (ef_dlq_t *self, ef_store_txn_t *txn, ef_wreq_t *w, uint64_t now,
          s_by_id_fn *fn, const char *done_key)
{
    ef_engine_t *engine = ef_writer_engine (self->x.writer);
    ef_buf_t missing;
    ef_mpr_t r;
    uint32_t n, done = 0, nmissing = 0;
    int rc = 0;
    ef_buf_init (&missing);
    ef_mpr_init (&r, w->req.event_ids.ptr, w->req.event_ids.len);
    if (ef_mpr_array (&r, &n))
        n = 0; /* checked by the decoder */
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        ef_str_t id;
        ef_stream_rec_t s;
        uint64_t seq;
        if (ef_mpr_str (&r, &id))
            break;
        if (s_locate (txn, w->org, id, &s, &seq)) {
            ef_mp_xstr (&missing, id);
            nmissing++;
        } else if ((rc = fn (engine, txn, s.num, seq, now)) == 0)
            done++;
    }
    if (rc == 0 && missing.oom)
        rc = EF_ENOMEM;
    if (rc == 0) {
        ef_proto_reply_ok (&w->reply, w->req.id, 2);
        ef_mp_key (&w->reply, done_key);
        ef_mp_uint (&w->reply, done);
        ef_mp_key (&w->reply, "not_found");
        ef_mp_array (&w->reply, nmissing);
        ef_buf_append (&w->reply, missing.data, missing.len);
    }
    ef_buf_free (&missing);
    return rc;
}

/* ---------------------------------------------------------------- replay */

typedef struct {
    ef_store_txn_t *txn;
    ef_wreq_t *w;
    ef_dead_t *found;
    uint32_t n, cap;
    int more; /* a match past cap */
} s_collect_t;

static int
s_collect (void *arg, const ef_dead_t *d)
{
    s_collect_t *c = arg;
    if (!s_match (c->txn, c->w, d))
        return 0;
    if (c->n == c->cap) {
        c->more = 1;
        return 1;
    }
    c->found[c->n++] = *d;
    return 0;
}

static int
s_apply_replay (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w, uint64_t now)
{
    ef_dlq_t *self = ctx;
    ef_engine_t *engine = ef_writer_engine (self->x.writer);
    uint32_t replayed = 0;
    int rc = 0, more = 0;
    if (w->req.n_event_ids) {
        rc = s_by_ids (self, txn, w, now, s_replay_one, "replayed");
        if (rc == 0)
            ef_writer_wake_engine (self->x.writer, now);
        return rc;
    }
    if (ef_str_set (w->req.event_id)) {
        ef_stream_rec_t s;
        uint64_t seq;
        if (s_locate (txn, w->org, w->req.event_id, &s, &seq) ||
            ef_engine_replay (engine, txn, s.num, seq, now)) {
            w->status = EF_ENOTFOUND;
            w->why = "no such dead letter";
            return 0;
        }
        replayed = 1;
    } else {
        /* every match of the filters, S_MAX_REPLAY at most per request
           (has_more says to ask again) */
        uint32_t stream;
        s_collect_t c = {txn, w, NULL, 0, S_MAX_REPLAY, 0};
        if (s_stream_filter (txn, w, &stream)) {
            w->status = EF_ENOTFOUND;
            w->why = "no such stream";
            return 0;
        }
        if (!(c.found = malloc (S_MAX_REPLAY * sizeof *c.found)))
            return EF_ENOMEM;
        rc = s_walk (txn, w->org, stream, s_collect, &c);
        for (uint32_t i = 0; rc == 0 && i < c.n; i++)
            if ((rc = ef_engine_replay (engine, txn, c.found[i].num,
                                        c.found[i].seq, now)) == 0)
                replayed++;
        free (c.found);
        more = c.more;
    }
    if (rc)
        return rc;
    ef_writer_wake_engine (self->x.writer, now);
    ef_proto_reply_ok (&w->reply, w->req.id, 2);
    ef_mp_key (&w->reply, "replayed");
    ef_mp_uint (&w->reply, replayed);
    ef_mp_key (&w->reply, "has_more");
    ef_mp_bool (&w->reply, more);
    return 0;
}

int
ef_dlq_replay (ef_dlq_t *self, ef_wreq_t *w, const char **why)
{
    int ids = w->req.n_event_ids != 0;
    int one = ef_str_set (w->req.event_id);
    if (ids + one + !!w->req.all != 1) {
        *why = "replay one (event_id), several (event_ids) or all that "
               "match (all: true)";
        return EF_EINVAL;
    }
    w->apply = s_apply_replay;
    w->apply_ctx = self;
    return 0;
}

/* ---------------------------------------------------------------- delete */

static int
s_apply_delete (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w, uint64_t now)
{
    ef_dlq_t *self = ctx;
    ef_stream_rec_t s;
    uint64_t seq;
    if (w->req.n_event_ids)
        return s_by_ids (self, txn, w, now, s_delete_one, "deleted");
    if (s_locate (txn, w->org, w->req.event_id, &s, &seq) ||
        ef_process_dlq_del (txn, s.num, seq)) {
        w->status = EF_ENOTFOUND;
        w->why = "no such dead letter";
        return 0;
    }
    ef_proto_reply_ok (&w->reply, w->req.id, 0);
    return 0;
}

int
ef_dlq_delete (ef_dlq_t *self, ef_wreq_t *w, const char **why)
{
    if (w->req.n_event_ids && ef_str_set (w->req.event_id)) {
        *why = "delete one (event_id) or several (event_ids)";
        return EF_EINVAL;
    }
    w->apply = s_apply_delete;
    w->apply_ctx = self;
    return 0;
}

ef_dlq_t *
ef_dlq_new (const ef_dlq_ctx_t *ctx)
{
    ef_dlq_t *self = calloc (1, sizeof *self);
    if (self)
        self->x = *ctx;
    return self;
}

void
ef_dlq_destroy (ef_dlq_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}
