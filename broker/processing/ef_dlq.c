/*  ef_dlq.c: the dead-letter queue's commands (DESIGN.md §5, §6). A dead
    letter is named by its event's id; it tells the stream, the step that
    failed, the attempts, the last error and when the failures were. Replay
    puts the event back at that step with its attempts reset; delete
    forgets the letter (the event stays FAILED). */
#include "ef_dlq.h"
#include "ef_engine.h"
#include "ef_process.h"
#include "ef_query.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_time.h"

#include <stdlib.h>
#include <string.h>

struct ef_dlq {
    ef_dlq_ctx_t x;
};

#define S_MAX_PAGE   EF_MAX_LIST /* the codec refuses more */
#define S_MAX_REPLAY 1000        /* dead letters replayed by one request */

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

/*  (num, seq) of the dead letter named by req.event_id, in the caller's
    org (the same id in another org is another event; in several streams
    of this org, the first stream holding a letter for it). */
static int
s_locate (ef_store_txn_t *txn, ef_wreq_t *w, ef_stream_rec_t *s, uint64_t *seq)
{
    ef_uuid_t id;
    s_letter_t l = {txn, 0, 0};
    if (ef_uuid_parse (w->req.event_id.ptr, w->req.event_id.len, &id) ||
        ef_store_event_each_at (txn, w->org, &id, s_has_letter, &l) ||
        ef_store_stream_get (txn, l.num, s))
        return EF_ENOTFOUND;
    *seq = l.seq;
    return 0;
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

typedef struct {
    ef_dlq_t *self;
    ef_wreq_t *w;
    uint32_t stream; /* 0: any */
    uint64_t skip;
    uint32_t limit, n;
    int more;
    ef_buf_t *tmp;
} s_list_t;

static int
s_match (ef_wreq_t *w, uint32_t stream, const ef_dead_t *d)
{
    if (stream && d->num != stream)
        return 0;
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
    return 1;
}

static int
s_list_one (void *arg, const ef_dead_t *d)
{
    s_list_t *l = arg;
    if (!s_match (l->w, l->stream, d))
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
    s_list_t l = {self,  w, stream, (uint64_t)(page - 1) * limit,
                  limit, 0, 0,      &tmp};
    int rc = ef_process_dlq_each (self->x.reader, w->org, s_list_one, &l);
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

int
ef_dlq_get (ef_dlq_t *self, ef_wreq_t *w, const char **why)
{
    ef_stream_rec_t s;
    uint64_t seq;
    ef_dead_t d;
    ef_str_t rec;
    if (s_locate (self->x.reader, w, &s, &seq) ||
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

typedef struct {
    ef_store_txn_t *txn;
    ef_wreq_t *w;
    uint32_t stream;
    ef_dead_t *found;
    uint32_t n, cap;
    int more; /* a match past cap */
} s_collect_t;

static int
s_collect (void *arg, const ef_dead_t *d)
{
    s_collect_t *c = arg;
    if (!s_match (c->w, c->stream, d))
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
    if (ef_str_set (w->req.event_id)) {
        ef_stream_rec_t s;
        uint64_t seq;
        if (s_locate (txn, w, &s, &seq) ||
            ef_engine_replay (engine, txn, s.num, seq, now)) {
            w->status = EF_ENOTFOUND;
            w->why = "no such dead letter";
            return 0;
        }
        replayed = 1;
    } else {
        /* every match of the filters, S_MAX_REPLAY at most per request
           (has_more says to ask again) */
        s_collect_t c = {txn, w, 0, NULL, 0, S_MAX_REPLAY, 0};
        if (s_stream_filter (txn, w, &c.stream)) {
            w->status = EF_ENOTFOUND;
            w->why = "no such stream";
            return 0;
        }
        if (!(c.found = malloc (S_MAX_REPLAY * sizeof *c.found)))
            return EF_ENOMEM;
        rc = ef_process_dlq_each (txn, w->org, s_collect, &c);
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
    if (!ef_str_set (w->req.event_id) && !w->req.all) {
        *why = "replay one (event_id) or all that match (all: true)";
        return EF_EINVAL;
    }
    w->apply = s_apply_replay;
    w->apply_ctx = self;
    return 0;
}

static int
s_apply_delete (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w, uint64_t now)
{
    (void)ctx;
    (void)now;
    ef_stream_rec_t s;
    uint64_t seq;
    if (s_locate (txn, w, &s, &seq) || ef_process_dlq_del (txn, s.num, seq)) {
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
    (void)why;
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
