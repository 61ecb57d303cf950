/*  ef_consume.c: consumer groups over the protocol (DESIGN.md §6): FETCH
    (with long polling), COMMIT, SEEK, LIST_GROUPS, and native push with
    credit (SUBSCRIBE, CREDIT, UNSUBSCRIBE). The groups in use are held
    in memory (s_group_t): a FETCH, with or without a member, reads that
    and the reactor's snapshot and writes nothing (a member's lease is
    claimed in memory), so it waits for no sync and sees every COMMIT
    and SEEK that came before it; COMMIT and SEEK change the memory at
    once and store the group's record through the writer, answered once
    that is durable. A FETCH that finds nothing waits, parked in the
    reactor at no cost, until its stream gets events or its time is up.
    Each member is pinged over the connection it fetched on last; when
    that connection is gone (ZeroMQ drops a peer silent for the
    heartbeat timeout) its open leases are let go at once.
    The groups, the parked fetches, the subscriptions and the members
    are this module's own
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
/*  Consumer groups held in memory (each up to ~25 KB): beyond, a new one
    is refused until one is let go (no lease live, no save in flight). One
    unused for S_GROUP_IDLE_MS is forgotten: the store has all of it. */
#define S_MAX_GROUPS    2048
#define S_GROUP_IDLE_MS 60000
/*  One org may hold a quarter of them, as of subscriptions: a tenant
    keeping leases live in many groups must leave room for the others. */
#define S_MAX_GROUPS_ORG (S_MAX_GROUPS / 4)

/*  A consumer group as the broker knows it: its stored record and what
    the store does not have, or not yet: the leases, which are only
    stored along with a commit or a seek (a FETCH writes nothing), and
    the commits and seeks on their way through the writer. A FETCH reads
    this, so it sees every commit that came before it, durable or not. */
typedef struct s_group {
    struct s_group *next;
    uint32_t writes; /* saves in flight */
    int stale;       /* a save failed: dropped once none is in flight */
    int64_t used;    /* mono ms */
    uint64_t listed; /* the LIST_GROUPS that showed it last */
    uint32_t org;    /* the org of its stream */
    ef_group_t g;
} s_group_t;

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
    ef_buf_t push;                /* a push frame being built */
    s_group_t *groups[S_BUCKETS]; /* by stream num and name */
    uint32_t ngroups;
    int64_t groups_swept; /* mono ms */
    uint64_t lists;       /* LIST_GROUPS answered */
};

static void s_push (ef_consume_t *self, s_sub_t *sub);
static int s_commit_here (ef_consume_t *self, ef_wreq_t *w, s_group_t **out,
                          const char **why);

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

/* ---------------------------------------------------------------- groups */

static uint32_t
s_group_hash (uint32_t num, ef_str_t name)
{
    uint32_t h = 2166136261u ^ num;
    for (size_t i = 0; i < name.len; i++)
        h = (h ^ (unsigned char)name.ptr[i]) * 16777619u; /* FNV-1a */
    return h & (S_BUCKETS - 1);
}

static s_group_t *
s_group_find (ef_consume_t *self, uint32_t num, ef_str_t name)
{
    for (s_group_t *e = self->groups[s_group_hash (num, name)]; e; e = e->next)
        if (e->g.stream == num && strlen (e->g.name) == name.len &&
            memcmp (e->g.name, name.ptr, name.len) == 0)
            return e;
    return NULL;
}

/*  Does e hold a lease that has not run out? */
static int
s_group_live (const s_group_t *e, uint64_t now)
{
    for (uint32_t i = 0; i < e->g.nleases; i++)
        if (!e->g.leases[i].done && e->g.leases[i].expires_ms > now)
            return 1;
    return 0;
}

static void
s_group_drop (ef_consume_t *self, s_group_t *gone)
{
    s_group_t **pp =
        &self->groups[s_group_hash (gone->g.stream, ef_str (gone->g.name))];
    for (; *pp; pp = &(*pp)->next)
        if (*pp == gone) {
            *pp = gone->next;
            self->ngroups--;
            free (gone);
            return;
        }
}

/*  Forget the groups the store knows all of (no save in flight, no live
    lease) and that were not used for idle_ms, of org only when org is not
    0; how many. */
static uint32_t
s_group_sweep_org (ef_consume_t *self, int64_t idle_ms, uint32_t org)
{
    uint64_t now = ef_time_steady_ms ();
    int64_t mono = ef_time_mono_ms ();
    uint32_t n = 0;
    for (size_t b = 0; b < S_BUCKETS; b++)
        for (s_group_t *e = self->groups[b], *next; e; e = next) {
            next = e->next;
            if ((!org || e->org == org) && !e->writes &&
                mono - e->used >= idle_ms && !s_group_live (e, now)) {
                s_group_drop (self, e);
                n++;
            }
        }
    return n;
}

/*  The groups of org held in memory (a walk over all: only when a group
    is taken into memory). */
static uint32_t
s_org_groups (const ef_consume_t *self, uint32_t org)
{
    uint32_t n = 0;
    for (size_t b = 0; b < S_BUCKETS; b++)
        for (const s_group_t *e = self->groups[b]; e; e = e->next)
            n += e->org == org;
    return n;
}

/*  All orgs' groups not used for idle_ms. */
static uint32_t
s_group_sweep (ef_consume_t *self, int64_t idle_ms)
{
    return s_group_sweep_org (self, idle_ms, 0);
}

/*  The group num/name, from memory, else from txn (the reactor's
    snapshot: with no save in flight it has the whole record), else a new
    one at the beginning (*fresh set: not stored yet). Leases are never
    written on their own, so those of a stored record are another run's
    (the broker restarted) or ran out: they are let go, and the next
    fetching member takes them, as after an expiry. */
static int
s_group_take (ef_consume_t *self, ef_store_txn_t *txn, uint32_t org,
              uint32_t num, ef_str_t name, s_group_t **out, int *fresh,
              const char **why)
{
    s_group_t *e = s_group_find (self, num, name);
    if (fresh)
        *fresh = 0;
    if (e) {
        e->used = ef_time_mono_ms ();
        *out = e;
        return 0;
    }
    if (s_org_groups (self, org) >= S_MAX_GROUPS_ORG &&
        s_group_sweep_org (self, 0, org) == 0) {
        *why = "the org has as many consumer groups in use as it may on "
               "this broker";
        return EF_EQUOTA;
    }
    if (self->ngroups >= S_MAX_GROUPS && s_group_sweep (self, 0) == 0) {
        *why = "too many consumer groups in use on this broker";
        return EF_EUNAVAILABLE;
    }
    if (!(e = calloc (1, sizeof *e)))
        return EF_ENOMEM;
    int rc = ef_groups_load (txn, num, name, &e->g);
    if (rc == EF_ENOTFOUND) {
        ef_groups_init (&e->g, num, name, ef_time_now_ms (), 0);
        if (fresh)
            *fresh = 1;
        rc = 0;
    }
    if (rc) {
        free (e);
        return rc;
    }
    for (uint32_t i = 0; i < e->g.nleases; i++)
        if (!e->g.leases[i].done)
            e->g.leases[i].expires_ms = 0;
    e->used = ef_time_mono_ms ();
    e->org = org;
    s_group_t **bucket = &self->groups[s_group_hash (num, name)];
    e->next = *bucket;
    *bucket = e;
    self->ngroups++;
    *out = e;
    return 0;
}

/*  In the writer: store a group's record (w->records: its name, a NUL,
    the record) and answer with its committed offset, or, for a FETCH
    carrying the commit, with the page it read meanwhile (or let the
    reactor fetch now: ef_consume_park). */
static int
s_apply_save (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w, uint64_t now)
{
    (void)ctx, (void)now;
    ef_stream_rec_t s;
    ef_str_t name = ef_str (w->records.data);
    size_t end = w->group_page ? w->group_page : w->records.len;
    int rc = ef_store_stream_get (txn, w->stream.num, &s);
    if (rc == EF_ENOTFOUND) {
        w->status = rc, w->why = "no such stream";
        return 0;
    }
    if (rc == 0)
        rc = ef_store_group_put (txn, w->stream.num, name,
                                 w->records.data + name.len + 1,
                                 end - name.len - 1);
    if (rc || w->internal)
        return rc;
    if (w->refetch) {
        /* the page read meanwhile, else an empty one: the fetch runs
           again in the reactor (ef_consume_park), but not at shutdown */
        w->park = 1;
        if (w->group_page)
            ef_buf_append (&w->reply, w->records.data + w->group_page,
                           w->records.len - w->group_page);
        else
            rc =
                s_fetch_reply (&w->reply, txn, &s, &w->req, w->group_seq, 1, 0);
        return rc ? rc : w->reply.oom ? EF_ENOMEM : 0;
    }
    ef_proto_reply_ok (&w->reply, w->req.id, 1);
    ef_mp_key (&w->reply, "committed_offset");
    s_offset (&w->reply, txn, w->stream.num, w->group_seq);
    return 0;
}

/*  w saves e as it is now; its answer comes once that is durable. */
static int
s_group_save (ef_wreq_t *w, s_group_t *e)
{
    ef_buf_reset (&w->records);
    ef_buf_append (&w->records, e->g.name, strlen (e->g.name) + 1);
    int rc = ef_groups_encode (&e->g, &w->records);
    if (rc || w->records.oom)
        return EF_ENOMEM;
    w->stream.num = e->g.stream;
    w->group_seq = e->g.committed;
    w->group = e;
    w->apply = s_apply_save;
    e->writes++;
    return 0;
}

/*  A group first used by a member's fetch: its record is stored (by an
    internal request that answers nobody), so that it is listed, lags
    and holds retention back from now on. */
static void
s_group_create (ef_consume_t *self, s_group_t *e)
{
    ef_wreq_t *w = self->x.writer ? calloc (1, sizeof *w) : NULL;
    if (!w)
        return; /* stored at its first commit */
    ef_buf_init (&w->reply);
    ef_buf_init (&w->records);
    if (s_group_save (w, e)) {
        ef_buf_free (&w->records);
        free (w);
        return;
    }
    w->internal = EF_WREQ_GROUP;
    ef_writer_submit (self->x.writer, w);
}

void
ef_consume_finished (ef_consume_t *self, ef_wreq_t *w)
{
    s_group_t *e = w->group;
    if (!e)
        return;
    w->group = NULL;
    e->writes--;
    /* a save that failed leaves memory ahead of the store: once no other
       is in flight, the store's record is the group again */
    if (w->status)
        e->stale = 1;
    if (e->stale && !e->writes)
        s_group_drop (self, e);
}

/* ---------------------------------------------------------------- fetch */

static uint32_t
s_limit (ef_wreq_t *w)
{
    uint32_t limit = w->req.limit ? w->req.limit : 100;
    return limit > S_MAX_FETCH ? S_MAX_FETCH : limit;
}

/*  A FETCH, in the reactor, read from its snapshot txn (what it holds
    is durable), the reply into out: without a member, the events after
    the committed offset; a member's, its lease (claimed in memory: no
    write). w->park when there is nothing yet and it may wait. */
static int
s_fetch_here (ef_consume_t *self, ef_store_txn_t *txn, ef_wreq_t *w,
              ef_buf_t *out, const char **why)
{
    ef_stream_rec_t s;
    uint64_t first, head, from = 0, to = 0;
    ef_group_t *own = NULL;
    const ef_group_t *g;
    int got, rc;
    if ((rc = s_stream (txn, w, &s, why)) ||
        (rc = ef_store_stream_bounds (txn, s.num, &first, &head)))
        return rc;
    if (ef_str_set (w->req.consumer_id)) {
        s_group_t *e;
        int fresh;
        if ((rc = s_group_take (self, txn, w->org, s.num, w->req.group, &e,
                                &fresh, why)))
            return rc;
        /* what retention removed before the group read it is gone: a
           group with nothing in flight starts at the stream's first
           event, else its leases would cover no events and never be
           committed */
        if (e->g.nleases == 0 && first > 0 && e->g.committed + 1 < first)
            e->g.committed = first - 1;
        /* --group-lease-ms, for the leases claimed from now on */
        e->g.lease_ms =
            self->x.lease_ms ? self->x.lease_ms : EF_LEASE_MS_DEFAULT;
        got = ef_groups_claim (&e->g, w->req.consumer_id, head, s_limit (w),
                               ef_time_steady_ms (), &from, &to);
        if (got < 0) {
            *why = "the group has too many open leases";
            return got;
        }
        if (fresh)
            s_group_create (self, e);
        g = &e->g;
    } else {
        s_group_t *e = s_group_find (self, s.num, w->req.group);
        if (e)
            g = &e->g;
        else {
            if (!(own = malloc (sizeof *own)))
                return EF_ENOMEM;
            rc = ef_groups_load (txn, s.num, w->req.group, own);
            if (rc == EF_ENOTFOUND)
                ef_groups_init (own, s.num, w->req.group, 0, 0);
            else if (rc) {
                free (own);
                return rc;
            }
            g = own;
        }
        from = g->committed + 1;
        to = head;
        if (to >= from && to - from + 1 > s_limit (w))
            to = from + s_limit (w) - 1;
        got = to >= from;
    }
    w->park = !got && w->req.timeout && w->deadline_ms > ef_time_mono_ms ();
    w->stream = s;
    w->stream.schema = w->stream.pipeline = EF_STR_NULL; /* txn's memory */
    rc = s_fetch_reply (out, txn, &s, &w->req, g->committed, got ? from : 1,
                        got ? to : 0);
    free (own);
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

/*  The member's connection is gone: its open leases go, for the next
    fetch of another member (in memory: leases are never stored alone). */
static void
s_member_gone (ef_consume_t *self, s_member_t *m)
{
    ef_stream_rec_t s;
    const char *at = m->names;
    ef_str_t stream = {at, m->stream_len};
    ef_str_t group = {at + m->stream_len + 1, m->group_len};
    ef_str_t member = {at + m->stream_len + m->group_len + 2, m->member_len};
    if (ef_store_reader_begin (self->x.reader))
        return; /* its leases expire in their own time */
    int rc = ef_store_stream_find (self->x.reader, m->org, stream, &s);
    ef_store_reader_end (self->x.reader);
    s_group_t *e = rc ? NULL : s_group_find (self, s.num, group);
    if (e)
        ef_groups_release (&e->g, member);
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
    if (now - self->groups_swept >= S_GROUP_IDLE_MS / 4) {
        self->groups_swept = now;
        s_group_sweep (self, S_GROUP_IDLE_MS);
    }
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
    if (ef_str_set (w->req.last_event_id)) {
        /* commit first; the fetch follows once that is durable */
        s_group_t *e;
        if ((rc = s_commit_here (self, w, &e, why)))
            return rc;
        if ((rc = s_group_save (w, e)))
            return rc;
        w->refetch = 1;
        /* the page is read now, while the commit is synced, and goes
           once that is durable; one that would wait for events is
           fetched again then */
        ef_buf_t *page = self->x.out;
        ef_buf_reset (page);
        if (s_fetch_here (self, self->x.reader, w, page, why) == 0 &&
            !w->park && !page->oom) {
            w->group_page = (uint32_t)w->records.len;
            ef_buf_append (&w->records, page->data, page->len);
            if (w->records.oom)
                return EF_ENOMEM;
        }
        w->park = 0;
        ef_buf_reset (page);
        return 0;
    }
    return s_fetch_here (self, self->x.reader, w, self->x.out, why);
}

int
ef_consume_park (ef_consume_t *self, ef_wreq_t *w)
{
    if (w->refetch) {
        /* its commit is durable: the page read meanwhile goes now, or the
           fetch runs, as if it came alone */
        w->refetch = 0;
        w->park = 0;
        if (w->group_page)
            return 0; /* answered with the page (s_apply_save) */
        w->apply = NULL;
        w->req.last_event_id = EF_STR_NULL;
        ef_buf_reset (&w->reply);
        self->x.rerun (self->x.arg, w);
        return 1;
    }
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

/*  Commit up to w's last_event_id in the group's memory (its events are
    in the reactor's snapshot: they were fetched). The group in *out, to
    be saved (s_group_save), or the refusal. */
static int
s_commit_here (ef_consume_t *self, ef_wreq_t *w, s_group_t **out,
               const char **why)
{
    ef_store_txn_t *txn = self->x.reader;
    ef_stream_rec_t s;
    ef_uuid_t id;
    uint64_t seq;
    s_group_t *e;
    int rc = s_stream (txn, w, &s, why);
    if (rc)
        return rc;
    if (ef_uuid_parse (w->req.last_event_id.ptr, w->req.last_event_id.len,
                       &id) ||
        ef_store_event_find_in (txn, s.num, &id, &seq)) {
        *why = "last_event_id is not an event of this stream";
        return EF_ENOTFOUND;
    }
    if ((rc = s_group_take (self, txn, w->org, s.num, w->req.group, &e, NULL,
                            why)))
        return rc;
    ef_str_t member =
        ef_str_set (w->req.consumer_id) ? w->req.consumer_id : EF_STR_NULL;
    if (ef_groups_commit (&e->g, member, seq)) {
        *why = "that is behind the committed offset; offsets only move "
               "back by a seek";
        return EF_ECONFLICT;
    }
    *out = e;
    return 0;
}

int
ef_consume_commit (ef_consume_t *self, ef_wreq_t *w, const char **why)
{
    s_group_t *e;
    int rc = s_group_arg (w, why);
    if (rc || (rc = s_commit_here (self, w, &e, why)))
        return rc;
    /* saved even when nothing moved: the answer says it is durable, and
       that waits for the saves before it */
    return s_group_save (w, e);
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

int
ef_consume_seek (ef_consume_t *self, ef_wreq_t *w, const char **why)
{
    ef_store_txn_t *txn = self->x.reader;
    ef_stream_rec_t s;
    uint64_t first, last, committed;
    s_group_t *e;
    int rc = s_group_arg (w, why);
    if (rc)
        return rc;
    if (!w->req.has_timestamp && !ef_str_eq (w->req.position, "earliest") &&
        !ef_str_eq (w->req.position, "latest") &&
        w->req.position.len != EF_UUID_STRLEN) {
        *why = "seek to earliest, latest, an event id or a timestamp";
        return EF_EINVAL;
    }
    if ((rc = s_stream (txn, w, &s, why)) ||
        (rc = ef_store_stream_bounds (txn, s.num, &first, &last)))
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
            *why = "no such event in this stream";
            return EF_ENOTFOUND;
        }
        committed = seq - 1; /* that event is the next one fetched */
    }
    if ((rc = s_group_take (self, txn, w->org, s.num, w->req.group, &e, NULL,
                            why)))
        return rc;
    ef_groups_seek (&e->g, committed);
    return s_group_save (w, e);
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
    s_group_t *e = s_group_find (l->self, l->num, ef_str (g->name));
    if (e) {
        if (e->listed == l->self->lists)
            return 0; /* shown already */
        e->listed = l->self->lists;
        g = &e->g; /* with its leases and what is not stored yet */
    } else
        now = UINT64_MAX; /* not in memory: none of its leases is live */
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
    self->lists++;
    rc = ef_groups_each (self->x.reader, s.num, s_list_group, &l);
    /* and those whose first record is on its way */
    for (size_t b = 0; b < S_BUCKETS && rc == 0; b++)
        for (s_group_t *e = self->groups[b]; e; e = e->next)
            if (e->g.stream == s.num && e->listed != self->lists)
                s_list_group (&l, &e->g);
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
    s_group_t *e = s_group_find (self, s.num, w->req.group);
    if (g && e)
        *g = e->g; /* with the commits not stored yet */
    else if (g && (rc = ef_groups_load (self->x.reader, s.num, w->req.group,
                                        g)) == EF_ENOTFOUND) {
        ef_groups_init (g, s.num, w->req.group, 0, 0);
        rc = 0;
    }
    if (!g || !sub || rc) {
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
    for (size_t b = 0; b < S_BUCKETS; b++)
        while (self->groups[b]) {
            s_group_t *next = self->groups[b]->next;
            free (self->groups[b]);
            self->groups[b] = next;
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
