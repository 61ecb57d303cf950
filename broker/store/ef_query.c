/*  ef_query.c: read-side commands over a store snapshot (see ef_query.h).
    An Event map is the head (stream_id, seq), the stored record's pairs
    (ef_record_write_pairs) and the state. */
#include "ef_query.h"
#include "ef_process.h"
#include "ef_record.h"
#include "ef_retention.h"
#include "ef_search.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_uuid.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_MERGE 4096 /* streams merged by one LIST_EVENTS */

typedef struct {
    uint32_t num;
    char id[EF_UUID_STRLEN + 1];
    uint64_t seq; /* current position, 0 = exhausted */
    ef_str_t rec;
    uint64_t received_at;
} s_cursor_t;

struct ef_query {
    ef_buf_t tmp;
    s_cursor_t *cursors;
    uint32_t ncursors;
    uint32_t scan; /* events one search page examines at most */
};

ef_query_t *
ef_query_new (void)
{
    ef_query_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    ef_buf_init (&self->tmp);
    self->scan = EF_QUERY_SCAN;
    self->cursors = calloc (S_MAX_MERGE, sizeof (s_cursor_t));
    if (!self->cursors) {
        free (self);
        return NULL;
    }
    return self;
}

void
ef_query_set_scan (ef_query_t *self, uint32_t scan)
{
    self->scan = scan ? scan : 1;
}

void
ef_query_destroy (ef_query_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_buf_free (&(*self_p)->tmp);
    free ((*self_p)->cursors);
    free (*self_p);
    *self_p = NULL;
}

/*  The state an event shows: ps when it has one (a stream with a
    pipeline), else the pass-through state of a stream without one:
    PROCESSED when stored. */
static void
s_write_state (ef_buf_t *out, const ef_state_t *ps, ef_str_t record)
{
    ef_event_t st = {0};
    if (ps) {
        st.status = ef_str (ef_status_name (ps->status));
        st.attempts = ps->attempts;
        st.last_error =
            ps->last_error[0] ? ef_str (ps->last_error) : EF_STR_NULL;
        st.result = ps->status == EF_STATUS_PENDING ? EF_STR_NULL : ps->result;
        st.processed_at = ps->processed_at;
    } else {
        st.status = ef_str ("PROCESSED");
        st.processed_at = ef_record_received_at (record);
    }
    ef_proto_write_event_state (out, &st);
}

void
ef_query_write_event (ef_buf_t *out, ef_store_txn_t *txn, uint32_t num,
                      const char *stream_id, uint64_t seq, ef_str_t record)
{
    ef_state_t ps;
    int has = txn && ef_process_state_get (txn, num, seq, &ps) == 0;
    ef_proto_write_event_head (out, ef_str (stream_id), seq);
    ef_record_write_pairs (out, record);
    s_write_state (out, has ? &ps : NULL, record);
}

static int
s_find_stream (ef_store_txn_t *txn, uint32_t org, ef_str_t name,
               ef_stream_rec_t *s, const char **why)
{
    int rc = ef_store_stream_find (txn, org, name, s);
    if (rc == EF_ENOTFOUND)
        *why = "no such stream";
    return rc;
}

void
ef_query_stream_info (ef_store_txn_t *txn, const ef_stream_rec_t *s,
                      ef_stream_info_t *info)
{
    memset (info, 0, sizeof *info);
    info->id = ef_str (s->id);
    info->name = ef_str (s->name);
    info->created_at = s->created_at;
    info->schema = s->schema;
    info->pipeline = s->pipeline;
    ef_store_stream_bounds (txn, s->num, &info->first_seq, &info->last_seq);
    info->events = info->last_seq ? info->last_seq - info->first_seq + 1 : 0;
    ef_store_stream_bytes (txn, s->num, &info->bytes);
    ef_retention_to_info (txn, s->num, info);
    /* the newest event's time: one read of its record */
    ef_str_t rec;
    if (info->events &&
        ef_store_event_get (txn, s->num, info->last_seq, &rec) == 0)
        info->last_event_at = ef_record_received_at (rec);
}

int
ef_query_get_stream (ef_query_t *self, ef_store_txn_t *txn, uint32_t org,
                     const ef_request_t *req, ef_buf_t *out, const char **why)
{
    (void)self;
    ef_stream_rec_t s;
    ef_stream_info_t info;
    int rc = s_find_stream (txn, org, req->stream, &s, why);
    if (rc)
        return rc;
    ef_query_stream_info (txn, &s, &info);
    ef_proto_reply_ok (out, req->id, 1);
    ef_mp_key (out, "stream");
    ef_proto_write_stream (out, &info);
    return 0;
}

typedef struct {
    ef_store_txn_t *txn;
    ef_buf_t *tmp;
    uint32_t n;
} s_list_t;

static int
s_list_stream (void *arg, const ef_stream_rec_t *s)
{
    s_list_t *l = arg;
    ef_stream_info_t info;
    ef_query_stream_info (l->txn, s, &info);
    ef_proto_write_stream (l->tmp, &info);
    l->n++;
    return 0;
}

int
ef_query_list_streams (ef_query_t *self, ef_store_txn_t *txn, uint32_t org,
                       const ef_request_t *req, ef_buf_t *out, const char **why)
{
    (void)why;
    ef_buf_reset (&self->tmp);
    s_list_t l = {txn, &self->tmp, 0};
    int rc = ef_store_stream_each (txn, org, s_list_stream, &l);
    if (rc)
        return rc;
    ef_proto_reply_ok (out, req->id, 1);
    ef_mp_key (out, "streams");
    ef_mp_array (out, l.n);
    ef_buf_append (out, self->tmp.data, self->tmp.len);
    return self->tmp.oom ? EF_ENOMEM : 0;
}

/*  Where req's event_id is in org: its stream and seq (with stream,
    there; else the first stream of org that has it). */
static int
s_find_event (ef_store_txn_t *txn, uint32_t org, const ef_request_t *req,
              ef_stream_rec_t *s, uint64_t *seq, const char **why)
{
    ef_uuid_t id;
    uint32_t num;
    int rc;
    if (ef_uuid_parse (req->event_id.ptr, req->event_id.len, &id)) {
        *why = "event_id is not a UUID";
        return EF_EINVAL;
    }
    if (ef_str_set (req->stream)) {
        if ((rc = s_find_stream (txn, org, req->stream, s, why)))
            return rc;
        rc = ef_store_event_find_in (txn, s->num, &id, seq);
    } else {
        /* ids resolve in the caller's org: another org's event with the
           same id is another event; in several streams of this org, the
           first stream (by creation) answers */
        rc = ef_store_event_find (txn, org, &id, &num, seq);
        if (rc == 0)
            rc = ef_store_stream_get (txn, num, s);
    }
    if (rc == EF_ENOTFOUND)
        *why = "no such event";
    return rc;
}

int
ef_query_get_event (ef_query_t *self, ef_store_txn_t *txn, uint32_t org,
                    const ef_request_t *req, ef_buf_t *out, const char **why)
{
    (void)self;
    ef_stream_rec_t s;
    uint64_t seq;
    ef_str_t rec;
    int rc = s_find_event (txn, org, req, &s, &seq, why);
    if (rc == 0)
        rc = ef_store_event_get (txn, s.num, seq, &rec);
    if (rc == EF_ENOTFOUND)
        *why = "no such event";
    if (rc)
        return rc;
    ef_proto_reply_ok (out, req->id, 1);
    ef_mp_key (out, "event");
    ef_query_write_event (out, txn, s.num, s.id, seq, rec);
    return 0;
}

static int
s_attempt (void *arg, const ef_attempt_t *a)
{
    ef_buf_t *b = arg;
    ef_mp_map (b, 10);
    ef_mp_key (b, "step");
    ef_mp_uint (b, a->step);
    ef_mp_key (b, "kind");
    ef_mp_cstr (b, a->kind);
    ef_mp_key (b, "service");
    ef_mp_xstr (b, a->service);
    ef_mp_key (b, "started_at");
    ef_mp_uint (b, a->started_at);
    ef_mp_key (b, "duration_ms");
    ef_mp_uint (b, a->duration_ms);
    ef_mp_key (b, "outcome");
    ef_mp_cstr (b, a->outcome);
    ef_mp_key (b, "error");
    ef_mp_xstr (b, a->error);
    ef_mp_key (b, "routed_stream_id");
    ef_mp_xstr (b, a->routed_to);
    ef_mp_key (b, "routed_event_id");
    ef_mp_xstr (b, a->routed_id);
    ef_mp_key (b, "worker");
    ef_mp_xstr (b, a->worker);
    return 0;
}

/*  How many attempts a history holds (to size the array). */
static int
s_attempt_count (void *arg, const ef_attempt_t *a)
{
    (void)a;
    (*(uint32_t *)arg)++;
    return 0;
}

int
ef_query_write_history (ef_buf_t *out, ef_store_txn_t *txn, uint32_t num,
                        uint64_t seq)
{
    uint64_t dropped;
    uint32_t n = 0;
    int rc =
        ef_process_history_each (txn, num, seq, s_attempt_count, &n, &dropped);
    if (rc)
        return rc;
    ef_mp_array (out, n);
    return ef_process_history_each (txn, num, seq, s_attempt, out, &dropped);
}

int
ef_query_event_history (ef_query_t *self, ef_store_txn_t *txn, uint32_t org,
                        const ef_request_t *req, ef_buf_t *out,
                        const char **why)
{
    (void)self;
    ef_stream_rec_t s;
    uint64_t seq, dropped;
    uint32_t n = 0;
    ef_state_t st;
    int rc = s_find_event (txn, org, req, &s, &seq, why);
    if (rc)
        return rc;
    int has_state = ef_process_state_get (txn, s.num, seq, &st) == 0;
    if ((rc = ef_process_history_each (txn, s.num, seq, s_attempt_count, &n,
                                       &dropped)))
        return rc;
    ef_proto_reply_ok (out, req->id, 5);
    ef_mp_key (out, "event_id");
    ef_mp_xstr (out, req->event_id);
    ef_mp_key (out, "stream_id");
    ef_mp_cstr (out, s.id);
    ef_mp_key (out, "status");
    ef_mp_cstr (out, has_state ? ef_status_name (st.status) : "PROCESSED");
    ef_mp_key (out, "dropped");
    ef_mp_uint (out, dropped);
    ef_mp_key (out, "history");
    return ef_query_write_history (out, txn, s.num, seq);
}

static int s_read_filtered (ef_query_t *self, ef_store_txn_t *txn,
                            const ef_stream_rec_t *s, const ef_request_t *req,
                            uint64_t from, uint64_t head, uint32_t limit,
                            ef_buf_t *out, const char **why);

int
ef_query_read (ef_query_t *self, ef_store_txn_t *txn, uint32_t org,
               const ef_request_t *req, ef_buf_t *out, const char **why)
{
    ef_stream_rec_t s;
    int rc = s_find_stream (txn, org, req->stream, &s, why);
    if (rc)
        return rc;
    uint32_t limit = req->limit ? req->limit : 100;
    if (limit > EF_MAX_READ)
        limit = EF_MAX_READ;
    uint64_t first, head, last;
    if ((rc = ef_store_stream_bounds (txn, s.num, &first, &head)))
        return rc;
    uint64_t from = req->after < UINT64_MAX ? req->after + 1 : UINT64_MAX;
    if (from < first)
        from = first;
    if (ef_str_set (req->type) || ef_str_set (req->source) ||
        ef_str_set (req->status) || req->n_where)
        return s_read_filtered (self, txn, &s, req, from, head, limit, out,
                                why);
    uint64_t to = head;
    if (to >= from && to - from >= limit)
        to = from + limit - 1;
    /* the small keys first: a reader finds them without skipping events
       (a stream has no gaps: from..to all exist) */
    ef_proto_reply_ok (out, req->id, req->slim ? 4 : 3);
    ef_mp_key (out, "next");
    ef_mp_uint (out, to >= from ? to : req->after);
    ef_mp_key (out, "head");
    ef_mp_uint (out, head);
    if (req->slim) {
        ef_mp_key (out, "stream_id");
        ef_mp_cstr (out, s.id);
    }
    ef_mp_key (out, "events");
    rc = ef_query_write_range (out, txn, s.num, req->slim ? NULL : s.id, from,
                               to, &last);
    return rc ? rc : out->oom ? EF_ENOMEM : 0;
}

/* ---------------------------------------------------------------- listing */

typedef struct {
    ef_query_t *q;
    ef_store_txn_t *txn;
    int err;
} s_collect_t;

static int
s_collect_stream (void *arg, const ef_stream_rec_t *s)
{
    s_collect_t *c = arg;
    if (c->q->ncursors >= S_MAX_MERGE)
        return 1;
    s_cursor_t *cur = &c->q->cursors[c->q->ncursors++];
    memset (cur, 0, sizeof *cur);
    cur->num = s->num;
    memcpy (cur->id, s->id, sizeof cur->id);
    uint64_t first;
    c->err = ef_store_stream_bounds (c->txn, s->num, &first, &cur->seq);
    return c->err;
}

/*  Load the record at the cursor's seq (0 = exhausted). */
static int
s_cursor_load (ef_store_txn_t *txn, s_cursor_t *cur)
{
    if (cur->seq == 0)
        return 0;
    int rc = ef_store_event_get (txn, cur->num, cur->seq, &cur->rec);
    if (rc == EF_ENOTFOUND) {
        cur->seq = 0;
        return 0;
    }
    if (rc)
        return rc;
    cur->received_at = ef_record_received_at (cur->rec);
    return 0;
}

/*  Whether the event at cur passes req's filters (type, source, status,
    and with timed its from/to) and search's predicates: the one copy of
    the rule, for LIST_EVENTS and READ. */
static int
s_matches (const ef_request_t *req, const ef_search_t *search,
           ef_store_txn_t *txn, const s_cursor_t *cur, int timed)
{
    ef_str_t record = cur->rec;
    uint64_t received_at = cur->received_at;
    if (timed && req->has_from && received_at < req->from)
        return 0;
    if (timed && req->has_to && received_at > req->to)
        return 0;
    if (ef_str_set (req->status)) {
        /* the event's processing state (none kept: PROCESSED on ingest) */
        ef_state_t ps;
        const char *st =
            ef_process_state_get (txn, cur->num, cur->seq, &ps) == 0
                ? ef_status_name (ps.status)
                : "PROCESSED";
        if (!ef_str_eq (req->status, st))
            return 0;
    }
    if (!ef_str_set (req->type) && !ef_str_set (req->source) && !search)
        return 1;
    ef_event_t ev = {0};
    if (ef_record_read (record, &ev, NULL))
        return 0;
    if (ef_str_set (req->type) &&
        (ev.type.len != req->type.len ||
         memcmp (ev.type.ptr, req->type.ptr, ev.type.len)))
        return 0;
    if (ef_str_set (req->source) &&
        (ev.source.len != req->source.len ||
         memcmp (ev.source.ptr, req->source.ptr, ev.source.len)))
        return 0;
    return ef_search_match (search, ev.payload);
}

/*  READ with filters (LIST_EVENTS' own, but from/to): the events after
    `from` that pass them, oldest first, at most limit, examining at most
    self->scan events; `next` is the seq of the last event examined, so
    that a caller polling with it moves on when nothing matched. */
typedef struct {
    const ef_request_t *req;
    const ef_search_t *search;
    ef_store_txn_t *txn;
    s_cursor_t cur; /* the event in hand, as s_matches takes it */
    ef_buf_t *out;
    uint32_t limit, n, scan, scanned;
    uint64_t last; /* the last seq examined */
} s_tail_t;

static int
s_tail_event (void *arg, uint64_t seq, ef_str_t record, ef_str_t state)
{
    s_tail_t *t = arg;
    if (t->scanned == t->scan)
        return 1;
    t->scanned++;
    t->last = seq;
    t->cur.seq = seq;
    t->cur.rec = record;
    if (!s_matches (t->req, t->search, t->txn, &t->cur, 0))
        return 0;
    ef_state_t st;
    int has = state.len && ef_process_state_parse (state, &st) == 0;
    ef_proto_write_event_head (t->out, ef_str (t->cur.id), seq);
    ef_record_write_pairs (t->out, record);
    s_write_state (t->out, has ? &st : NULL, record);
    return ++t->n == t->limit;
}

static int
s_read_filtered (ef_query_t *self, ef_store_txn_t *txn,
                 const ef_stream_rec_t *s, const ef_request_t *req,
                 uint64_t from, uint64_t head, uint32_t limit, ef_buf_t *out,
                 const char **why)
{
    ef_search_t *search;
    int rc = ef_search_new (&search, req->where, req->n_where, why);
    if (rc)
        return rc;
    s_tail_t t = {req,   search, txn,        {0}, &self->tmp,
                  limit, 0,      self->scan, 0,   req->after};
    t.cur.num = s->num;
    memcpy (t.cur.id, s->id, sizeof t.cur.id);
    ef_buf_reset (&self->tmp);
    if (from <= head)
        rc = ef_store_event_read (txn, s->num, from, s_tail_event, &t);
    ef_search_destroy (&search);
    if (rc)
        return rc;
    if (self->tmp.oom)
        return EF_ENOMEM;
    ef_proto_reply_ok (out, req->id, 3);
    ef_mp_key (out, "next");
    ef_mp_uint (out, t.last);
    ef_mp_key (out, "head");
    ef_mp_uint (out, head);
    ef_mp_key (out, "events");
    ef_mp_array (out, t.n);
    ef_buf_append (out, self->tmp.data, self->tmp.len);
    return out->oom ? EF_ENOMEM : 0;
}

/*  Search cursors: the merge order is received_at descending, then stream
    num ascending, then seq descending; a cursor is the key of the next
    event to examine, "<received_at>.<num>.<seq>". */
static int
s_cursor_parse (ef_str_t text, uint64_t key[3])
{
    char buf[72];
    if (text.len >= sizeof buf)
        return -1;
    memcpy (buf, text.ptr, text.len);
    buf[text.len] = 0;
    int used = 0;
    if (sscanf (buf, "%" SCNu64 ".%" SCNu64 ".%" SCNu64 "%n", &key[0], &key[1],
                &key[2], &used) != 3 ||
        (size_t)used != text.len || key[1] > UINT32_MAX || key[2] == 0)
        return -1;
    return 0;
}

/*  1 when the event (received_at, num, seq) is at or after key in the
    merge order, i.e. not yet examined. */
static int
s_at_or_after (uint64_t ra, uint32_t num, uint64_t seq, const uint64_t key[3])
{
    if (ra != key[0])
        return ra < key[0];
    if (num != key[1])
        return num > key[1];
    return seq <= key[2];
}

/*  Place cur at its newest event not yet examined by the search that
    stopped at key (received_at grows with seq in a stream: a bisection). */
static int
s_cursor_resume (ef_store_txn_t *txn, s_cursor_t *cur, const uint64_t key[3])
{
    uint64_t first, head;
    int rc = ef_store_stream_bounds (txn, cur->num, &first, &head);
    if (rc || head == 0) {
        cur->seq = 0;
        return rc;
    }
    uint64_t lo = first, hi = head, found = 0; /* largest seq at or after */
    while (lo <= hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        ef_str_t rec;
        if ((rc = ef_store_event_get (txn, cur->num, mid, &rec)))
            return rc == EF_ENOTFOUND ? (cur->seq = 0, 0) : rc;
        if (s_at_or_after (ef_record_received_at (rec), cur->num, mid, key)) {
            found = mid;
            lo = mid + 1;
        } else {
            if (mid == 0)
                break;
            hi = mid - 1;
        }
    }
    cur->seq = found;
    return 0;
}

/*  LIST_EVENTS, every listing (plain, filtered, searched) one walk: newest
    first, it examines at most self->scan events a page and, when it
    stopped before the end (the limit reached, or the scan bound), answers
    next_cursor, the key of the next event to examine; `cursor` starts
    there. `page` N skips (N-1)·limit matches within that same bound, and
    a page whose skip alone reaches the bound is refused: deep pages go by
    cursor. `to` starts the walk at its time, as a cursor would. */
static int
s_list_events (ef_query_t *self, ef_store_txn_t *txn, uint32_t org,
               const ef_request_t *req, const ef_search_t *search,
               ef_buf_t *out, const char **why)
{
    uint64_t key[3] = {req->to, 0, UINT64_MAX};
    int resume = req->has_to;
    uint32_t scanned = 0;
    char next[72] = "";
    if (ef_str_set (req->cursor) && s_cursor_parse (req->cursor, key)) {
        *why = "cursor is not a cursor of this listing";
        return EF_EINVAL;
    }
    if (ef_str_set (req->cursor) && req->page > 1) {
        *why = "page and cursor do not go together";
        return EF_EINVAL;
    }
    resume |= ef_str_set (req->cursor);
    uint32_t limit = req->limit ? req->limit : 20;
    uint32_t page = req->page ? req->page : 1;
    if (limit > EF_MAX_LIST)
        limit = EF_MAX_LIST;
    if (page > 1000000) {
        *why = "page is out of range";
        return EF_EINVAL;
    }
    if ((uint64_t)(page - 1) * limit >= self->scan) {
        *why = "page reaches past the events a page examines "
               "(search-scan): page on by cursor (next_cursor)";
        return EF_EINVAL;
    }
    int rc = 0;
    self->ncursors = 0;
    s_collect_t c = {self, txn, 0};
    if (ef_str_set (req->stream)) {
        ef_stream_rec_t s;
        if ((rc = s_find_stream (txn, org, req->stream, &s, why)))
            return rc;
        s_collect_stream (&c, &s);
    } else
        rc = ef_store_stream_each (txn, org, s_collect_stream, &c);
    if (rc || c.err)
        return rc ? rc : c.err;
    for (uint32_t i = 0; i < self->ncursors; i++) {
        if (resume && (rc = s_cursor_resume (txn, &self->cursors[i], key)))
            return rc;
        if ((rc = s_cursor_load (txn, &self->cursors[i])))
            return rc;
    }

    uint64_t skip = (uint64_t)(page - 1) * limit;
    uint32_t n = 0;
    ef_buf_reset (&self->tmp);
    for (;;) {
        /* newest remaining event across the cursors */
        s_cursor_t *best = NULL;
        for (uint32_t i = 0; i < self->ncursors; i++) {
            s_cursor_t *cur = &self->cursors[i];
            if (cur->seq && (!best || cur->received_at > best->received_at ||
                             (cur->received_at == best->received_at &&
                              cur->num < best->num)))
                best = cur;
        }
        if (!best)
            break;
        /* newest first: nothing older than `from` can match any more */
        if (req->has_from && best->received_at < req->from)
            break;
        if (scanned == self->scan) {
            snprintf (next, sizeof next, "%" PRIu64 ".%u.%" PRIu64,
                      best->received_at, best->num, best->seq);
            break;
        }
        scanned++;
        if (s_matches (req, search, txn, best, 1)) {
            if (skip)
                skip--;
            else if (n == limit) {
                snprintf (next, sizeof next, "%" PRIu64 ".%u.%" PRIu64,
                          best->received_at, best->num, best->seq);
                break;
            } else {
                ef_query_write_event (&self->tmp, txn, best->num, best->id,
                                      best->seq, best->rec);
                n++;
            }
        }
        best->seq--;
        if ((rc = s_cursor_load (txn, best)))
            return rc;
    }
    if (self->tmp.oom)
        return EF_ENOMEM;
    ef_proto_reply_ok (out, req->id, 5);
    ef_mp_key (out, "items");
    ef_mp_array (out, n);
    ef_buf_append (out, self->tmp.data, self->tmp.len);
    ef_mp_key (out, "page");
    ef_mp_uint (out, page);
    ef_mp_key (out, "limit");
    ef_mp_uint (out, limit);
    ef_mp_key (out, "has_more");
    ef_mp_bool (out, next[0] != 0);
    ef_mp_key (out, "next_cursor");
    if (next[0])
        ef_mp_cstr (out, next);
    else
        ef_mp_nil (out);
    return 0;
}

int
ef_query_list_events (ef_query_t *self, ef_store_txn_t *txn, uint32_t org,
                      const ef_request_t *req, ef_buf_t *out, const char **why)
{
    ef_search_t *search;
    int rc = ef_search_new (&search, req->where, req->n_where, why);
    if (rc)
        return rc;
    rc = s_list_events (self, txn, org, req, search, out, why);
    ef_search_destroy (&search);
    return rc;
}

int
ef_query_event_id (ef_store_txn_t *txn, uint32_t num, uint64_t seq, char *out)
{
    ef_str_t rec;
    ef_uuid_t id;
    int rc = ef_store_event_get (txn, num, seq, &rec);
    if (rc)
        return rc;
    if (ef_record_id (rec, &id))
        return EF_ESTORE;
    ef_uuid_format (&id, out);
    return 0;
}

/*  A page of events straight into the reply, each with its processing
    state, read together (ef_store_event_read). */
typedef struct {
    ef_buf_t *out;
    const char *stream_id;
    uint64_t to;
    uint32_t n;
    uint64_t last;
} s_range_t;

static int
s_range_event (void *arg, uint64_t seq, ef_str_t record, ef_str_t state)
{
    s_range_t *r = arg;
    if (seq > r->to)
        return 1;
    ef_state_t st;
    int has = state.len && ef_process_state_parse (state, &st) == 0;
    if (!r->stream_id) {
        /* 11 bytes of head and ~70 of state fewer per event: replay is
           bound by what crosses (CurveZMQ encrypts every byte) */
        ef_proto_write_event_slim_head (r->out, seq, has);
        ef_record_write_pairs (r->out, record);
        if (has)
            s_write_state (r->out, &st, record);
    } else {
        ef_proto_write_event_head (r->out, ef_str (r->stream_id), seq);
        ef_record_write_pairs (r->out, record);
        s_write_state (r->out, has ? &st : NULL, record);
    }
    r->n++;
    r->last = seq;
    return seq == r->to;
}

int
ef_query_write_range (ef_buf_t *out, ef_store_txn_t *txn, uint32_t num,
                      const char *stream_id, uint64_t from, uint64_t to,
                      uint64_t *last)
{
    /* an array32 header, its count filled in at the end */
    size_t at = out->len;
    uint8_t head[5] = {0xdd, 0, 0, 0, 0};
    ef_buf_append (out, head, sizeof head);
    s_range_t r = {out, stream_id, to, 0, from - 1};
    int rc = 0;
    if (from <= to)
        rc = ef_store_event_read (txn, num, from, s_range_event, &r);
    *last = r.last;
    if (rc == 0 && out->oom)
        rc = EF_ENOMEM;
    if (rc == 0)
        for (int i = 0; i < 4; i++)
            out->data[at + 1 + i] = (char)(r.n >> (24 - 8 * i));
    return rc;
}
