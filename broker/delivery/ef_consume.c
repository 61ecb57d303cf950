/*  ef_consume.c: consumer groups over the protocol (DESIGN.md §6): FETCH
    (with long polling), COMMIT, SEEK, LIST_GROUPS, and native push with
    credit (SUBSCRIBE, CREDIT, UNSUBSCRIBE). A FETCH without a member and
    every push are read-only and served from the reactor's snapshot; a
    member's FETCH writes its lease, so it goes through the writer like
    COMMIT and SEEK. A FETCH that finds nothing waits, parked in the
    reactor at no cost, until its stream gets events or its time is up.
    Each member is pinged over the connection it fetched on last; when
    that connection is gone (ZeroMQ drops a peer silent for the
    heartbeat timeout) its open leases are let go at once.
    The parked fetches, the subscriptions and the members are this
    module's own
    (ef_consume_t); the broker is seen through ef_consume_ctx_t only. */
#include "ef_consume.h"
#include "ef_groups.h"
#include "ef_query.h"
#include "ef_record.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_time.h"

#include <stdlib.h>
#include <string.h>

#define S_MAX_FETCH   EF_MAX_FETCH   /* the codec refuses more */
#define S_MAX_TIMEOUT EF_MAX_WAIT_MS /* likewise */
#define S_MAX_SUBS    10000
/*  One org may hold a quarter of them: registration is open, and one
    tenant's subscriptions must not leave none for the others. */
#define S_MAX_SUBS_ORG (S_MAX_SUBS / 4)
#define S_PUSH_MAX     1000
#define S_BUCKETS      256  /* a power of two */
#define S_MAX_MEMBERS  4096 /* beyond: leases expire in their own time */
#define S_PING_MS      1000
/*  Subscriptions are pinged too, ten times less often than members: one
    whose connection went while it had no credit left would otherwise
    never be sent anything again, and would stay (and count against
    S_MAX_SUBS) for good. */
#define S_SUB_PINGS 10

/*  A group member and the connection it fetched over last (the newest
    wins: a member that reconnected is pinged on its new connection). */
typedef struct s_member {
    struct s_member *next;
    zmq_msg_t peer;
    uint32_t org;
    int64_t last_ping;
    /* stream, group and member names, each NUL-terminated */
    uint32_t stream_len, group_len, member_len;
    char names[];
} s_member_t;

typedef struct s_sub {
    struct s_sub *next;
    zmq_msg_t peer;
    uint64_t id; /* the SUBSCRIBE request's id: pushes carry it */
    uint32_t num;
    char stream_id[EF_UUID_STRLEN + 1];
    uint64_t position; /* last seq pushed */
    uint64_t credit;
    int64_t last_ping; /* mono ms */
    int slim;          /* slim pages (protocol.md, Event) */
    uint32_t org;
} s_sub_t;

struct ef_consume {
    ef_consume_ctx_t x;
    /* long-polling FETCHes, linked through next, in buckets by stream
       num (a publish looks at its stream's bucket only) */
    ef_wreq_t *parked[S_BUCKETS];
    uint32_t nparked;
    int64_t park_due;         /* no parked fetch is due before this (mono ms) */
    int closing;              /* park no more */
    s_sub_t *subs[S_BUCKETS]; /* push subscriptions, likewise */
    uint32_t nsubs;
    int64_t subs_pinged; /* when the subscriptions were looked at (mono) */
    s_member_t *members; /* the group members heard from */
    uint32_t nmembers;
    ef_buf_t push; /* a push frame being built */
};

static void s_push (ef_consume_t *self, s_sub_t *sub);
static int s_commit_in (ef_store_txn_t *txn, ef_wreq_t *w, uint32_t *num,
                        uint64_t *committed);

/* ---------------------------------------------------------------- helpers */

/*  The committed offset as an event id, or nil. */
static void
s_offset (ef_buf_t *b, ef_store_txn_t *txn, uint32_t num, uint64_t seq)
{
    char id[EF_UUID_STRLEN + 1];
    if (seq && ef_query_event_id (txn, num, seq, id) == 0)
        ef_mp_cstr (b, id);
    else
        ef_mp_nil (b);
}

/*  The FETCH reply to req for seqs from..to (none when from > to). */
static int
s_fetch_reply (ef_buf_t *b, ef_store_txn_t *txn, const ef_stream_rec_t *s,
               const ef_request_t *req, uint64_t committed, uint64_t from,
               uint64_t to)
{
    uint64_t last;
    /* the small keys first, so that a reader finds them without skipping
       the events (a stream has no gaps: from..to all exist) */
    ef_proto_reply_ok (b, req->id, req->slim ? 4 : 3);
    ef_mp_key (b, "next_offset");
    s_offset (b, txn, s->num, to >= from ? to : committed);
    ef_mp_key (b, "committed_offset");
    s_offset (b, txn, s->num, committed);
    if (req->slim) {
        ef_mp_key (b, "stream_id");
        ef_mp_cstr (b, s->id);
    }
    ef_mp_key (b, "events");
    return ef_query_write_range (b, txn, s->num, req->slim ? NULL : s->id, from,
                                 to, &last);
}

static int
s_group_arg (ef_wreq_t *w, const char **why)
{
    if (!ef_groups_name_valid (w->req.group)) {
        *why = "group names are 1 to 128 of [A-Za-z0-9._-]";
        return EF_EINVAL;
    }
    if (ef_str_set (w->req.consumer_id) &&
        (w->req.consumer_id.len == 0 ||
         w->req.consumer_id.len > EF_MEMBER_MAX)) {
        *why = "consumer_id is 1 to 64 bytes";
        return EF_EINVAL;
    }
    return 0;
}

static int
s_stream (ef_store_txn_t *txn, ef_wreq_t *w, ef_stream_rec_t *s,
          const char **why)
{
    int rc = ef_store_stream_find (txn, w->org, w->req.stream, s);
    if (rc == EF_ENOTFOUND)
        *why = "no such stream";
    return rc;
}

/*  The group, or a new one at the beginning (not yet saved). */
static int
s_group (ef_store_txn_t *txn, uint32_t num, ef_str_t name, ef_group_t *g)
{
    int rc = ef_groups_load (txn, num, name, g);
    if (rc == EF_ENOTFOUND) {
        ef_groups_init (g, num, name, ef_time_now_ms (), 0);
        rc = 0;
    }
    return rc;
}

/* ---------------------------------------------------------------- fetch */

static uint32_t
s_limit (ef_wreq_t *w)
{
    uint32_t limit = w->req.limit ? w->req.limit : 100;
    return limit > S_MAX_FETCH ? S_MAX_FETCH : limit;
}

/*  A member's fetch, in the writer: lease, then answer. */
static int
s_apply_fetch (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w, uint64_t now)
{
    const ef_consume_t *self = ctx; /* its x is read-only after new */
    ef_stream_rec_t s;
    ef_group_t *g = malloc (sizeof *g);
    const char *why = NULL;
    uint64_t first, head, from = 0, to = 0;
    w->park = 0;
    if (!g)
        return EF_ENOMEM;
    int rc = s_stream (txn, w, &s, &why);
    if (rc == EF_ENOTFOUND) {
        free (g);
        w->status = rc, w->why = why;
        return 0;
    }
    if (rc == 0)
        rc = ef_store_stream_bounds (txn, s.num, &first, &head);
    if (rc == 0)
        rc = s_group (txn, s.num, w->req.group, g);
    /* what retention removed before the group read it is gone: a group
       with nothing in flight starts at the stream's first event, else its
       leases would cover no events and never be committed */
    if (rc == 0 && g->nleases == 0 && first > 0 && g->committed + 1 < first)
        g->committed = first - 1;
    int got = 0;
    if (rc == 0) {
        /* --group-lease-ms, for the leases claimed from now on */
        g->lease_ms = self->x.lease_ms ? self->x.lease_ms : EF_LEASE_MS_DEFAULT;
        got = ef_groups_claim (g, w->req.consumer_id, head, s_limit (w), now,
                               &from, &to);
        if (got < 0) {
            w->status = got, w->why = "the group has too many open leases";
            free (g);
            return 0;
        }
    }
    if (rc == 0 && got)
        rc = ef_groups_save (txn, g);
    if (rc == 0 && !got && w->req.timeout &&
        w->deadline_ms > ef_time_mono_ms ())
        w->park = 1; /* nothing yet: wait for events */
    if (rc == 0)
        rc = s_fetch_reply (&w->reply, txn, &s, &w->req, g->committed,
                            got ? from : 1, got ? to : 0);
    free (g);
    return rc;
}

/*  A fetch without a member: the events after the committed offset, read
    in txn, the reply into out; w->park when there is nothing yet and it
    may wait. */
static int
s_fetch_plain (ef_store_txn_t *txn, ef_wreq_t *w, ef_buf_t *out,
               const char **why)
{
    ef_stream_rec_t s;
    ef_group_t *g = malloc (sizeof *g);
    uint64_t first, head;
    int rc;
    if (!g)
        return EF_ENOMEM;
    if ((rc = s_stream (txn, w, &s, why)) == 0 &&
        (rc = ef_store_stream_bounds (txn, s.num, &first, &head)) == 0 &&
        (rc = s_group (txn, s.num, w->req.group, g)) == 0) {
        uint64_t from = g->committed + 1;
        uint64_t to = head;
        if (to >= from && to - from + 1 > s_limit (w))
            to = from + s_limit (w) - 1;
        w->park = from > head && w->req.timeout &&
                  w->deadline_ms > ef_time_mono_ms ();
        w->stream = s;
        rc = s_fetch_reply (out, txn, &s, &w->req, g->committed, from, to);
    }
    free (g);
    return rc;
}

/*  A FETCH carrying last_event_id: commit up to it, then fetch, in one
    transaction and one round trip (what NATS calls ack-next). The commit
    is done once: when the fetch waits and is woken, it runs as a plain
    fetch. */
static int
s_apply_commit_fetch (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w,
                      uint64_t now)
{
    uint32_t num = 0;
    uint64_t committed = 0;
    w->park = 0;
    int rc = s_commit_in (txn, w, &num, &committed);
    if (rc || w->status)
        return rc;
    w->req.last_event_id = EF_STR_NULL;
    if (ef_str_set (w->req.consumer_id))
        return s_apply_fetch (ctx, txn, w, now);
    const char *why = NULL;
    rc = s_fetch_plain (txn, w, &w->reply, &why);
    if (rc == EF_ENOTFOUND) {
        w->status = rc, w->why = why;
        return 0;
    }
    return rc;
}

/* ---------------------------------------------------------------- members */

static int
s_member_is (const s_member_t *m, const ef_wreq_t *w)
{
    const char *at = m->names;
    return m->org == w->org && m->stream_len == w->req.stream.len &&
           memcmp (at, w->req.stream.ptr, m->stream_len) == 0 &&
           m->group_len == w->req.group.len &&
           memcmp (at + m->stream_len + 1, w->req.group.ptr, m->group_len) ==
               0 &&
           m->member_len == w->req.consumer_id.len &&
           memcmp (at + m->stream_len + m->group_len + 2,
                   w->req.consumer_id.ptr, m->member_len) == 0;
}

/*  A member's fetch came over w->peer: watch that connection. */
static void
s_member_heard (ef_consume_t *self, ef_wreq_t *w)
{
    s_member_t *m = self->members;
    while (m && !s_member_is (m, w))
        m = m->next;
    if (!m) {
        if (self->nmembers >= S_MAX_MEMBERS)
            return;
        size_t n = (size_t)w->req.stream.len + w->req.group.len +
                   w->req.consumer_id.len + 3;
        if (!(m = calloc (1, sizeof *m + n)))
            return; /* unwatched: its leases expire in their own time */
        m->org = w->org;
        m->stream_len = w->req.stream.len;
        m->group_len = w->req.group.len;
        m->member_len = w->req.consumer_id.len;
        char *at = m->names;
        memcpy (at, w->req.stream.ptr, m->stream_len);
        at += m->stream_len + 1;
        memcpy (at, w->req.group.ptr, m->group_len);
        at += m->group_len + 1;
        memcpy (at, w->req.consumer_id.ptr, m->member_len);
        zmq_msg_init (&m->peer);
        m->last_ping = ef_time_mono_ms ();
        m->next = self->members;
        self->members = m;
        self->nmembers++;
    }
    zmq_msg_close (&m->peer);
    zmq_msg_init (&m->peer);
    zmq_msg_copy (&m->peer, &w->peer);
}

/*  In the writer: the member's open leases go, for the next fetch of
    another member. */
static int
s_apply_release (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w, uint64_t now)
{
    (void)ctx, (void)now;
    ef_stream_rec_t s;
    const char *why;
    ef_group_t *g = malloc (sizeof *g);
    if (!g)
        return EF_ENOMEM;
    int rc = s_stream (txn, w, &s, &why);
    if (rc == 0)
        rc = ef_groups_load (txn, s.num, w->req.group, g);
    if (rc == 0 && ef_groups_release (g, w->req.consumer_id))
        rc = ef_groups_save (txn, g);
    free (g);
    /* a stream or group gone since: nothing to let go */
    return rc == EF_ENOTFOUND ? 0 : rc;
}

/*  The member's connection is gone: an internal request (no peer to
    answer) lets its leases go. */
static void
s_member_gone (ef_consume_t *self, s_member_t *m)
{
    ef_wreq_t *w = self->x.writer ? calloc (1, sizeof *w) : NULL;
    if (!w)
        return; /* its leases expire in their own time */
    ef_buf_init (&w->reply);
    ef_buf_init (&w->records);
    size_t n = (size_t)m->stream_len + m->group_len + m->member_len + 3;
    ef_buf_append (&w->records, m->names, n);
    if (w->records.oom) {
        ef_buf_free (&w->records);
        free (w);
        return;
    }
    const char *at = w->records.data;
    w->internal = EF_WREQ_RELEASE;
    w->req.cmd = EF_CMD_FETCH;
    w->org = m->org;
    w->req.stream = (ef_str_t){at, m->stream_len};
    w->req.group = (ef_str_t){at + m->stream_len + 1, m->group_len};
    w->req.consumer_id =
        (ef_str_t){at + m->stream_len + m->group_len + 2, m->member_len};
    w->apply = s_apply_release;
    ef_writer_submit (self->x.writer, w);
}

/*  The heartbeat push (protocol.md §2): sent to find out whether a
    connection still stands; 0 when it went. */
static int
s_ping (ef_consume_t *self, zmq_msg_t *peer)
{
    static const uint8_t ping[] = {0x84, 0xa2, 'i',  'd', 0x00, 0xa2, 'o',
                                   'k',  0xc3, 0xa4, 'p', 'u',  's',  'h',
                                   0xc3, 0xa9, 'h',  'e', 'a',  'r',  't',
                                   'b',  'e',  'a',  't', 0xc3};
    ef_buf_reset (&self->push);
    ef_buf_append (&self->push, ping, sizeof ping);
    return self->push.oom || self->x.send (self->x.arg, peer, &self->push) == 0;
}

static void s_sub_remove (ef_consume_t *self, s_sub_t *gone);

void
ef_consume_tick (ef_consume_t *self)
{
    int64_t now = ef_time_mono_ms ();
    int64_t every = self->x.ping_ms ? self->x.ping_ms : S_PING_MS;
    for (s_member_t **pp = &self->members; *pp;) {
        s_member_t *m = *pp;
        if (now - m->last_ping < every) {
            pp = &m->next;
            continue;
        }
        m->last_ping = now;
        if (s_ping (self, &m->peer)) {
            pp = &m->next;
            continue;
        }
        *pp = m->next; /* its connection is gone */
        self->nmembers--;
        s_member_gone (self, m);
        zmq_msg_close (&m->peer);
        free (m);
    }
    /* each subscription at most every sub_every, all of them looked at
       twice as often (not at every turn of the reactor) */
    int64_t sub_every = every * S_SUB_PINGS;
    if (now - self->subs_pinged < sub_every / 2)
        return;
    self->subs_pinged = now;
    for (size_t b = 0; b < S_BUCKETS; b++)
        for (s_sub_t *sub = self->subs[b], *next; sub; sub = next) {
            next = sub->next; /* s_sub_remove frees sub */
            if (now - sub->last_ping < sub_every)
                continue;
            sub->last_ping = now;
            if (s_ping (self, &sub->peer))
                continue;
            ef_log_debug (self->x.log, "subscription dropped",
                          "\"stream_id\":\"%s\",\"sub\":%llu,\"why\":"
                          "\"its connection is gone\"",
                          sub->stream_id, (unsigned long long)sub->id);
            s_sub_remove (self, sub);
        }
}

uint32_t
ef_consume_members (const ef_consume_t *self)
{
    return self->nmembers;
}

int
ef_consume_fetch (ef_consume_t *self, ef_wreq_t *w, const char **why)
{
    int rc = s_group_arg (w, why);
    if (rc)
        return rc;
    if (!w->deadline_ms) /* set once, not again when woken */
        w->deadline_ms =
            ef_time_mono_ms () +
            (w->req.timeout > S_MAX_TIMEOUT ? S_MAX_TIMEOUT : w->req.timeout);
    w->apply_ctx = self;
    /* a member's own connection only: one of the bridge's (ZAP id
       "gw:...") carries many HTTP consumers and says nothing of any one */
    const char *via = zmq_msg_gets (&w->frame, "User-Id");
    if (ef_str_set (w->req.consumer_id) &&
        !(via && strncmp (via, "gw:", 3) == 0))
        s_member_heard (self, w);
    if (ef_str_set (w->req.last_event_id))
        w->apply = s_apply_commit_fetch; /* commit first, in the writer */
    else if (ef_str_set (w->req.consumer_id))
        w->apply = s_apply_fetch; /* a member's fetch writes its lease */
    else /* no member: read after the committed offset, from the snapshot */
        return s_fetch_plain (self->x.reader, w, self->x.out, why);
    return 0;
}

int
ef_consume_park (ef_consume_t *self, ef_wreq_t *w)
{
    if (!w->park || self->closing)
        return 0;
    ef_stream_rec_t s;
    const char *why;
    if (w->req.cmd == EF_CMD_FETCH && w->stream.num == 0) {
        /* a member's fetch: which stream it waits on */
        if (ef_store_reader_begin (self->x.reader))
            return 0;
        int rc = s_stream (self->x.reader, w, &s, &why);
        ef_store_reader_end (self->x.reader);
        if (rc)
            return 0;
        w->stream = s;
    }
    w->apply = NULL;
    ef_wreq_t **bucket = &self->parked[w->stream.num & (S_BUCKETS - 1)];
    w->next = *bucket;
    *bucket = w;
    if (!self->nparked++ || w->deadline_ms < self->park_due)
        self->park_due = w->deadline_ms;
    return 1;
}

void
ef_consume_wake (ef_consume_t *self, uint32_t num)
{
    size_t b = num & (S_BUCKETS - 1);
    ef_wreq_t **pp = &self->parked[b], *woken = NULL;
    while (*pp) {
        ef_wreq_t *w = *pp;
        if (w->stream.num == num) {
            *pp = w->next;
            w->next = woken;
            woken = w;
            self->nparked--;
        } else
            pp = &w->next;
    }
    /* redispatching may park some again: they were taken out first */
    while (woken) {
        ef_wreq_t *w = woken;
        woken = w->next;
        w->next = NULL;
        w->park = 0;
        self->x.rerun (self->x.arg, w);
    }
    /* and the subscribers of that stream */
    for (s_sub_t *sub = self->subs[b], *next; sub; sub = next) {
        next = sub->next; /* s_push may drop sub */
        if (sub->num == num && sub->credit)
            s_push (self, sub);
    }
}

/*  Take the parked fetches due by now out of their buckets (every one
    with all set); the earliest deadline left becomes park_due. */
static ef_wreq_t *
s_take_due (ef_consume_t *self, int64_t now, int all)
{
    ef_wreq_t *due = NULL;
    int64_t next = 0;
    for (size_t b = 0; b < S_BUCKETS; b++)
        for (ef_wreq_t **pp = &self->parked[b]; *pp;) {
            ef_wreq_t *w = *pp;
            if (all || w->deadline_ms <= now) {
                *pp = w->next;
                w->next = due;
                due = w;
                self->nparked--;
            } else {
                if (!next || w->deadline_ms < next)
                    next = w->deadline_ms;
                pp = &w->next;
            }
        }
    self->park_due = next;
    return due;
}

/*  Answer the taken fetches now, with whatever there is. */
static void
s_answer_due (ef_consume_t *self, ef_wreq_t *due)
{
    while (due) {
        ef_wreq_t *w = due;
        due = w->next;
        w->next = NULL;
        w->req.timeout = 0;
        self->x.rerun (self->x.arg, w);
    }
}

int
ef_consume_expire (ef_consume_t *self, int max_ms)
{
    if (!self->nparked)
        return max_ms;
    int64_t now = ef_time_mono_ms ();
    /* park_due may be early (the fetch it was for was woken since): then
       the walk finds nothing due and moves it on */
    if (self->park_due <= now)
        s_answer_due (self, s_take_due (self, now, 0));
    if (!self->nparked)
        return max_ms;
    int64_t left = self->park_due - now;
    return left < max_ms ? (int)(left < 0 ? 0 : left) : max_ms;
}

void
ef_consume_expire_all (ef_consume_t *self)
{
    self->closing = 1;
    s_answer_due (self, s_take_due (self, 0, 1));
}

/* ---------------------------------------------------------------- commit */

/*  Commit up to w's last_event_id in txn; a refusal is w->status.
 *num and *committed get the stream and the offset after it. */
static int
s_commit_in (ef_store_txn_t *txn, ef_wreq_t *w, uint32_t *num,
             uint64_t *committed)
{
    ef_stream_rec_t s;
    ef_uuid_t id;
    uint64_t seq;
    const char *why = NULL;
    int rc = s_stream (txn, w, &s, &why);
    if (rc == EF_ENOTFOUND) {
        w->status = rc, w->why = why;
        return 0;
    }
    if (rc)
        return rc;
    if (ef_uuid_parse (w->req.last_event_id.ptr, w->req.last_event_id.len,
                       &id) ||
        ef_store_event_find_in (txn, s.num, &id, &seq)) {
        w->status = EF_ENOTFOUND;
        w->why = "last_event_id is not an event of this stream";
        return 0;
    }
    ef_group_t *g = malloc (sizeof *g);
    if (!g)
        return EF_ENOMEM;
    rc = s_group (txn, s.num, w->req.group, g);
    if (rc == 0) {
        ef_str_t member =
            ef_str_set (w->req.consumer_id) ? w->req.consumer_id : EF_STR_NULL;
        if (ef_groups_commit (g, member, seq)) {
            w->status = EF_ECONFLICT;
            w->why = "that is behind the committed offset; offsets only move "
                     "back by a seek";
        } else
            rc = ef_groups_save (txn, g);
    }
    *num = s.num;
    *committed = g->committed;
    free (g);
    return rc;
}

static int
s_apply_commit (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w, uint64_t now)
{
    (void)ctx;
    (void)now;
    uint32_t num = 0;
    uint64_t committed = 0;
    int rc = s_commit_in (txn, w, &num, &committed);
    if (rc == 0 && !w->status) {
        ef_proto_reply_ok (&w->reply, w->req.id, 1);
        ef_mp_key (&w->reply, "committed_offset");
        s_offset (&w->reply, txn, num, committed);
    }
    return rc;
}

int
ef_consume_commit (ef_consume_t *self, ef_wreq_t *w, const char **why)
{
    (void)self;
    int rc = s_group_arg (w, why);
    if (rc)
        return rc;
    w->apply = s_apply_commit;
    return 0;
}

/* ---------------------------------------------------------------- seek */

/*  The first seq received at or after ts (head + 1 when none), by binary
    search: received_at only grows along a stream. */
static uint64_t
s_seq_at (ef_store_txn_t *txn, uint32_t num, uint64_t first, uint64_t last,
          uint64_t ts)
{
    uint64_t lo = first, hi = last + 1;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        ef_str_t rec;
        if (ef_store_event_get (txn, num, mid, &rec) ||
            ef_record_received_at (rec) < ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int
s_apply_seek (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w, uint64_t now)
{
    (void)ctx;
    (void)now;
    ef_stream_rec_t s;
    const char *why = NULL;
    uint64_t first, last, committed;
    int rc = s_stream (txn, w, &s, &why);
    if (rc == EF_ENOTFOUND) {
        w->status = rc, w->why = why;
        return 0;
    }
    if (rc || (rc = ef_store_stream_bounds (txn, s.num, &first, &last)))
        return rc;
    if (first == 0)
        first = 1;
    if (w->req.has_timestamp)
        committed = s_seq_at (txn, s.num, first, last, w->req.timestamp) - 1;
    else if (ef_str_eq (w->req.position, "earliest"))
        committed = first - 1;
    else if (ef_str_eq (w->req.position, "latest"))
        committed = last;
    else {
        ef_uuid_t id;
        uint64_t seq;
        if (ef_uuid_parse (w->req.position.ptr, w->req.position.len, &id) ||
            ef_store_event_find_in (txn, s.num, &id, &seq)) {
            w->status = EF_ENOTFOUND;
            w->why = "no such event in this stream";
            return 0;
        }
        committed = seq - 1; /* that event is the next one fetched */
    }
    ef_group_t *g = malloc (sizeof *g);
    if (!g)
        return EF_ENOMEM;
    rc = s_group (txn, s.num, w->req.group, g);
    if (rc == 0) {
        ef_groups_seek (g, committed);
        rc = ef_groups_save (txn, g);
    }
    if (rc == 0) {
        ef_proto_reply_ok (&w->reply, w->req.id, 1);
        ef_mp_key (&w->reply, "committed_offset");
        s_offset (&w->reply, txn, s.num, committed);
    }
    free (g);
    return rc;
}

int
ef_consume_seek (ef_consume_t *self, ef_wreq_t *w, const char **why)
{
    (void)self;
    int rc = s_group_arg (w, why);
    if (rc)
        return rc;
    if (!w->req.has_timestamp && !ef_str_eq (w->req.position, "earliest") &&
        !ef_str_eq (w->req.position, "latest") &&
        w->req.position.len != EF_UUID_STRLEN) {
        *why = "seek to earliest, latest, an event id or a timestamp";
        return EF_EINVAL;
    }
    w->apply = s_apply_seek;
    return 0;
}

/* ---------------------------------------------------------------- list */

typedef struct {
    ef_consume_t *self;
    ef_buf_t *tmp;
    uint32_t num;
    uint64_t head;
    uint32_t n;
} s_list_t;

/*  The live leases of g at now (not committed, not expired), at most
    S_LIST_LEASES: [{consumer_id, from_seq, to_seq, expires_in_ms}]. */
#define S_LIST_LEASES 100
static void
s_list_leases (ef_buf_t *b, const ef_group_t *g, uint64_t now)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < g->nleases; i++)
        n += !g->leases[i].done && g->leases[i].expires_ms > now;
    ef_mp_array (b, n < S_LIST_LEASES ? n : S_LIST_LEASES);
    n = 0;
    for (uint32_t i = 0; i < g->nleases && n < S_LIST_LEASES; i++) {
        const ef_lease_t *l = &g->leases[i];
        if (l->done || l->expires_ms <= now)
            continue;
        ef_mp_map (b, 4);
        ef_mp_key (b, "consumer_id");
        ef_mp_cstr (b, l->member);
        ef_mp_key (b, "from_seq");
        ef_mp_uint (b, l->from);
        ef_mp_key (b, "to_seq");
        ef_mp_uint (b, l->to);
        ef_mp_key (b, "expires_in_ms");
        ef_mp_uint (b, l->expires_ms - now);
        n++;
    }
}

static int
s_list_group (void *arg, const ef_group_t *g)
{
    s_list_t *l = arg;
    uint64_t now = ef_time_steady_ms (); /* leases expire on it */
    ef_mp_map (l->tmp, 5);
    ef_mp_key (l->tmp, "group");
    ef_mp_cstr (l->tmp, g->name);
    ef_mp_key (l->tmp, "committed_offset");
    s_offset (l->tmp, l->self->x.reader, l->num, g->committed);
    ef_mp_key (l->tmp, "lag");
    ef_mp_uint (l->tmp, l->head > g->committed ? l->head - g->committed : 0);
    ef_mp_key (l->tmp, "members");
    ef_mp_uint (l->tmp, ef_groups_members (g, now));
    ef_mp_key (l->tmp, "members_detail");
    s_list_leases (l->tmp, g, now);
    l->n++;
    return 0;
}

int
ef_consume_list (ef_consume_t *self, ef_wreq_t *w, const char **why)
{
    ef_stream_rec_t s;
    uint64_t first, head;
    int rc = s_stream (self->x.reader, w, &s, why);
    if (rc ||
        (rc = ef_store_stream_bounds (self->x.reader, s.num, &first, &head)))
        return rc;
    ef_buf_t tmp;
    ef_buf_init (&tmp);
    s_list_t l = {self, &tmp, s.num, head, 0};
    rc = ef_groups_each (self->x.reader, s.num, s_list_group, &l);
    if (rc == 0) {
        ef_proto_reply_ok (self->x.out, w->req.id, 1);
        ef_mp_key (self->x.out, "groups");
        ef_mp_array (self->x.out, l.n);
        ef_buf_append (self->x.out, tmp.data, tmp.len);
    }
    ef_buf_free (&tmp);
    return rc;
}

/* ---------------------------------------------------------------- push */

static void
s_sub_free (s_sub_t *sub)
{
    zmq_msg_close (&sub->peer);
    free (sub);
}

static void
s_sub_remove (ef_consume_t *self, s_sub_t *gone)
{
    size_t b = gone->num & (S_BUCKETS - 1);
    for (s_sub_t **pp = &self->subs[b]; *pp; pp = &(*pp)->next)
        if (*pp == gone) {
            *pp = gone->next;
            self->nsubs--;
            s_sub_free (gone);
            return;
        }
}

/*  Send what the subscriber has credit for. */
static void
s_push (ef_consume_t *self, s_sub_t *sub)
{
    ef_buf_t *b = &self->push;
    if (ef_store_reader_begin (self->x.reader))
        return;
    for (;;) {
        uint64_t first, head, last;
        if (!sub->credit ||
            ef_store_stream_bounds (self->x.reader, sub->num, &first, &head) ||
            head <= sub->position)
            break;
        uint64_t n = head - sub->position;
        if (n > sub->credit)
            n = sub->credit;
        if (n > S_PUSH_MAX)
            n = S_PUSH_MAX;
        ef_buf_reset (b);
        ef_proto_reply_ok (b, sub->id, sub->slim ? 4 : 3);
        ef_mp_key (b, "push");
        ef_mp_bool (b, 1);
        ef_mp_key (b, "next_offset");
        s_offset (b, self->x.reader, sub->num, sub->position + n);
        if (sub->slim) {
            ef_mp_key (b, "stream_id");
            ef_mp_cstr (b, sub->stream_id);
        }
        ef_mp_key (b, "events");
        if (ef_query_write_range (
                b, self->x.reader, sub->num, sub->slim ? NULL : sub->stream_id,
                sub->position + 1, sub->position + n, &last) ||
            last != sub->position + n)
            break;
        if (b->oom || self->x.send (self->x.arg, &sub->peer, b)) {
            ef_store_reader_end (self->x.reader);
            s_sub_remove (self, sub); /* the peer is gone */
            return;
        }
        sub->credit -= last - sub->position;
        sub->position = last;
    }
    ef_store_reader_end (self->x.reader);
}

static s_sub_t *
s_sub_find (ef_consume_t *self, zmq_msg_t *peer, uint64_t id)
{
    for (size_t b = 0; b < S_BUCKETS; b++)
        for (s_sub_t *s = self->subs[b]; s; s = s->next)
            if (s->id == id && zmq_msg_size (&s->peer) == zmq_msg_size (peer) &&
                memcmp (zmq_msg_data (&s->peer), zmq_msg_data (peer),
                        zmq_msg_size (peer)) == 0)
                return s;
    return NULL;
}

/*  The subscriptions org holds (a walk over all: subscribing is rare
    next to what a subscription then receives). */
static uint32_t
s_org_subs (const ef_consume_t *self, uint32_t org)
{
    uint32_t n = 0;
    for (size_t b = 0; b < S_BUCKETS; b++)
        for (const s_sub_t *sub = self->subs[b]; sub; sub = sub->next)
            n += sub->org == org;
    return n;
}

int
ef_consume_subscribe (ef_consume_t *self, ef_wreq_t *w, const char **why)
{
    ef_stream_rec_t s;
    int rc = s_group_arg (w, why);
    if (rc || (rc = s_stream (self->x.reader, w, &s, why)))
        return rc;
    if (self->nsubs >= S_MAX_SUBS) {
        *why = "too many subscriptions on this broker";
        return EF_EUNAVAILABLE;
    }
    if (s_org_subs (self, w->org) >= S_MAX_SUBS_ORG) {
        *why = "the org holds as many subscriptions as it may on this broker";
        return EF_EQUOTA;
    }
    ef_group_t *g = malloc (sizeof *g);
    s_sub_t *sub = calloc (1, sizeof *sub);
    if (!g || !sub || (rc = s_group (self->x.reader, s.num, w->req.group, g))) {
        free (g);
        free (sub);
        return rc ? rc : EF_ENOMEM;
    }
    zmq_msg_init (&sub->peer);
    zmq_msg_copy (&sub->peer, &w->peer);
    sub->id = w->req.id;
    sub->num = s.num;
    memcpy (sub->stream_id, s.id, sizeof sub->stream_id);
    sub->position = g->committed;
    sub->credit = w->req.credit;
    sub->last_ping = ef_time_mono_ms ();
    sub->slim = w->req.slim;
    sub->org = w->org;
    s_sub_t **bucket = &self->subs[s.num & (S_BUCKETS - 1)];
    sub->next = *bucket;
    *bucket = sub;
    self->nsubs++;
    ef_proto_reply_ok (self->x.out, w->req.id, 2);
    ef_mp_key (self->x.out, "sub");
    ef_mp_uint (self->x.out, sub->id);
    ef_mp_key (self->x.out, "committed_offset");
    s_offset (self->x.out, self->x.reader, s.num, g->committed);
    free (g);
    w->stream = s; /* the backlog follows the reply (ef_consume_wake) */
    return 0;
}

int
ef_consume_credit (ef_consume_t *self, ef_wreq_t *w, const char **why)
{
    s_sub_t *sub = s_sub_find (self, &w->peer, w->req.sub);
    if (!sub) {
        *why = "no such subscription";
        return EF_ENOTFOUND;
    }
    sub->credit += w->req.credit;
    ef_proto_reply_ok (self->x.out, w->req.id, 0);
    w->stream.num = sub->num; /* pushed after the reply (ef_consume_wake) */
    return 0;
}

int
ef_consume_unsubscribe (ef_consume_t *self, ef_wreq_t *w, const char **why)
{
    s_sub_t *sub = s_sub_find (self, &w->peer, w->req.sub);
    if (!sub) {
        *why = "no such subscription";
        return EF_ENOTFOUND;
    }
    s_sub_remove (self, sub);
    ef_proto_reply_ok (self->x.out, w->req.id, 0);
    return 0;
}

/*  Tell the subscriber that its subscription ends, and why: a push
    {id: sub, ok: false, push: true, error} (protocol.md, SUBSCRIBE).
    Best effort: a peer that is gone or full cannot be told. */
static void
s_sub_end (ef_consume_t *self, s_sub_t *sub, int code, const char *why)
{
    ef_buf_t *b = &self->push;
    ef_buf_reset (b);
    ef_mp_map (b, 4);
    ef_mp_key (b, "id");
    ef_mp_uint (b, sub->id);
    ef_mp_key (b, "ok");
    ef_mp_bool (b, 0);
    ef_mp_key (b, "push");
    ef_mp_bool (b, 1);
    ef_mp_key (b, "error");
    ef_mp_map (b, 3);
    ef_mp_key (b, "code");
    ef_mp_int (b, code);
    ef_mp_key (b, "name");
    ef_mp_cstr (b, ef_error_name (code));
    ef_mp_key (b, "message");
    ef_mp_cstr (b, why);
    if (!b->oom)
        self->x.send (self->x.arg, &sub->peer, b);
}

void
ef_consume_stream_gone (ef_consume_t *self, uint32_t num)
{
    for (s_sub_t *sub = self->subs[num & (S_BUCKETS - 1)], *next; sub;
         sub = next) {
        next = sub->next;
        if (sub->num == num) {
            s_sub_end (self, sub, EF_ENOTFOUND, "the stream was deleted");
            s_sub_remove (self, sub);
        }
    }
}

ef_consume_t *
ef_consume_new (const ef_consume_ctx_t *ctx)
{
    ef_consume_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->x = *ctx;
    ef_buf_init (&self->push);
    return self;
}

void
ef_consume_destroy (ef_consume_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_consume_t *self = *self_p;
    for (size_t b = 0; b < S_BUCKETS; b++)
        while (self->subs[b]) {
            s_sub_t *next = self->subs[b]->next;
            s_sub_end (self, self->subs[b], EF_EUNAVAILABLE,
                       "the broker is shutting down");
            s_sub_free (self->subs[b]);
            self->subs[b] = next;
        }
    while (self->members) {
        s_member_t *next = self->members->next;
        zmq_msg_close (&self->members->peer);
        free (self->members);
        self->members = next;
    }
    ef_buf_free (&self->push);
    free (self);
    *self_p = NULL;
}

uint32_t
ef_consume_parked (const ef_consume_t *self)
{
    return self->nparked;
}

uint32_t
ef_consume_subscriptions (const ef_consume_t *self)
{
    return self->nsubs;
}
