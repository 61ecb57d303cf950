/*  ef_client_calls.c: libeventflow's blocking commands (see
    ef_client.h): PING, STATS, the streams (create, get, list), the
    events (get, read, list) and the consumer groups (fetch, commit, seek).
    Each builds its request, makes one ef_client_call and reads the reply
    into the caller's values; a reply that does not read is EF_EPROTO.
    The connection itself is ef_client.c's. */
#include "ef_client_int.h"

#include <string.h>

int
ef_client_ping (ef_client_t *self)
{
    ef_request_t req = {.cmd = EF_CMD_PING};
    return ef_client_call (self, &req, NULL);
}

static int
s_stream_reply (ef_client_t *self, ef_stream_info_t *out)
{
    ef_mpr_t r;
    if (ef_proto_reply_find (ef_client_reply (self), "stream", &r) ||
        ef_proto_read_stream (&r, out))
        return ef_client_fail (self, EF_EPROTO, "malformed stream in reply");
    return 0;
}

int
ef_client_create_stream (ef_client_t *self, const char *name,
                         ef_stream_info_t *out)
{
    ef_request_t req = {.cmd = EF_CMD_CREATE_STREAM};
    req.name = ef_str (name);
    int rc = ef_client_call (self, &req, NULL);
    return rc ? rc : (out ? s_stream_reply (self, out) : 0);
}

int
ef_client_get_stream (ef_client_t *self, const char *stream,
                      ef_stream_info_t *out)
{
    ef_request_t req = {.cmd = EF_CMD_GET_STREAM};
    req.stream = ef_str (stream);
    int rc = ef_client_call (self, &req, NULL);
    return rc ? rc : s_stream_reply (self, out);
}

int
ef_client_list_streams (ef_client_t *self, ef_stream_fn *fn, void *arg)
{
    ef_request_t req = {.cmd = EF_CMD_LIST_STREAMS};
    int rc = ef_client_call (self, &req, NULL);
    if (rc)
        return rc;
    ef_mpr_t r;
    uint32_t n;
    if (ef_proto_reply_find (ef_client_reply (self), "streams", &r) ||
        ef_mpr_array (&r, &n))
        return ef_client_fail (self, EF_EPROTO, "malformed LIST_STREAMS reply");
    for (uint32_t i = 0; i < n; i++) {
        ef_stream_info_t s;
        if (ef_proto_read_stream (&r, &s))
            return ef_client_fail (self, EF_EPROTO, "malformed stream");
        if (fn (arg, &s))
            break;
    }
    return 0;
}

/*  The stream_id a page of events says once (a slim page), or none. */
static ef_str_t
s_page_stream (ef_client_t *self)
{
    ef_mpr_t r;
    ef_str_t id;
    if (ef_proto_reply_find (ef_client_reply (self), "stream_id", &r) ||
        ef_mpr_str (&r, &id))
        return EF_STR_NULL;
    return id;
}

/*  Walk the array at key, calling fn for each event. */
static int
s_each_event (ef_client_t *self, const char *key, ef_event_fn *fn, void *arg)
{
    ef_mpr_t r;
    uint32_t n;
    ef_str_t stream_id = s_page_stream (self);
    if (ef_proto_reply_find (ef_client_reply (self), key, &r) ||
        ef_mpr_array (&r, &n))
        return ef_client_fail (self, EF_EPROTO, "malformed event list");
    for (uint32_t i = 0; i < n; i++) {
        ef_event_t ev;
        if (ef_proto_read_page_event (&r, stream_id, &ev))
            return ef_client_fail (self, EF_EPROTO, "malformed event");
        if (fn && fn (arg, &ev))
            break;
    }
    return 0;
}

static uint64_t
s_reply_uint (ef_client_t *self, const char *key)
{
    ef_mpr_t r;
    uint64_t v = 0;
    if (ef_proto_reply_find (ef_client_reply (self), key, &r) == 0)
        ef_mpr_uint (&r, &v);
    return v;
}

int
ef_client_get_event (ef_client_t *self, const char *event_id,
                     const char *stream, ef_event_t *out)
{
    ef_request_t req = {.cmd = EF_CMD_GET_EVENT};
    req.event_id = ef_str (event_id);
    req.stream = ef_str (stream);
    int rc = ef_client_call (self, &req, NULL);
    if (rc)
        return rc;
    ef_mpr_t r;
    if (ef_proto_reply_find (ef_client_reply (self), "event", &r) ||
        ef_proto_read_event (&r, out))
        return ef_client_fail (self, EF_EPROTO, "malformed event in reply");
    return 0;
}

/*  A READ of more than S_READ_PART events goes as parts of that many,
    up to S_READ_AHEAD of them in flight beyond the one being walked: the
    broker serves and encrypts the next parts while this one crosses and
    is read, and frames of a few hundred KB stay in the caches where one
    of several MB would not (tests/bench/consume.sh). The wire is the
    same: each part is a READ. */
#define S_READ_PART  1000
#define S_READ_AHEAD 2

typedef struct {
    ef_event_fn *fn;
    void *arg;
    uint64_t last;  /* the last seq walked */
    uint32_t left;  /* events still wanted */
    uint32_t count; /* events in the page */
    int stop;       /* fn asked to stop */
} s_read_t;

/*  Walk the page in the last reply: the events after rd->last (parts
    asked for ahead may overlap where retention moved the stream's start),
    while wanted. */
static int
s_read_walk (ef_client_t *self, s_read_t *rd)
{
    ef_mpr_t r;
    uint32_t n;
    ef_str_t stream_id = s_page_stream (self);
    if (ef_proto_reply_find (ef_client_reply (self), "events", &r) ||
        ef_mpr_array (&r, &n))
        return ef_client_fail (self, EF_EPROTO, "malformed event list");
    rd->count = n;
    for (uint32_t i = 0; i < n && rd->left && !rd->stop; i++) {
        ef_event_t ev;
        if (ef_proto_read_page_event (&r, stream_id, &ev))
            return ef_client_fail (self, EF_EPROTO, "malformed event");
        if (ev.seq <= rd->last)
            continue;
        rd->last = ev.seq;
        rd->left--;
        if (rd->fn && rd->fn (rd->arg, &ev))
            rd->stop = 1;
    }
    return 0;
}

int
ef_client_read (ef_client_t *self, const char *stream, uint64_t after,
                uint32_t limit, ef_event_fn *fn, void *arg, uint64_t *next,
                uint64_t *head)
{
    ef_request_t req = {.cmd = EF_CMD_READ};
    req.stream = ef_str (stream);
    req.after = after;
    req.slim = 1;
    req.limit =
        limit > S_READ_PART && limit <= EF_MAX_READ ? S_READ_PART : limit;
    int rc = ef_client_call (self, &req, NULL);
    if (rc)
        return rc;
    s_read_t rd = {fn, arg, after, limit ? limit : UINT32_MAX, 0, 0};
    uint64_t ids[S_READ_AHEAD], losses = 0;
    uint32_t inflight = 0, asked = req.limit;
    /* a stream has no gaps: the parts after the first start where it
       ended, one part apart */
    uint64_t at = s_reply_uint (self, "next"), h = s_reply_uint (self, "head");
    for (;;) {
        while (asked < limit && inflight < S_READ_AHEAD && at < h) {
            ef_request_t part = {.cmd = EF_CMD_READ};
            part.stream = req.stream;
            part.after = at;
            part.limit = req.limit;
            part.slim = 1;
            uint64_t now_lost;
            if (ef_client_send_ahead (self, &part, &now_lost))
                break; /* asked for when it is wanted, or never */
            if (inflight && now_lost != losses)
                break; /* the connection changed: await fails soon */
            losses = now_lost;
            ids[inflight++] = part.id;
            at += req.limit;
            asked += req.limit;
        }
        if ((rc = s_read_walk (self, &rd)))
            return rc;
        if (rd.stop || !rd.left || !inflight)
            break;
        rc = ef_client_await (self, ids[0], losses);
        if (rc)
            return rc; /* the parts still in flight are dropped as they come */
        memmove (ids, ids + 1, --inflight * sizeof ids[0]);
        h = s_reply_uint (self, "head");
    }
    if (next)
        *next = rd.last;
    if (head)
        *head = h;
    return 0;
}

int
ef_client_list_events (ef_client_t *self, const ef_request_t *query,
                       ef_event_fn *fn, void *arg, int *has_more)
{
    ef_request_t req = {.cmd = EF_CMD_LIST_EVENTS};
    req.stream = query->stream;
    req.type = query->type;
    req.source = query->source;
    req.status = query->status;
    req.from = query->from;
    req.has_from = query->has_from;
    req.to = query->to;
    req.has_to = query->has_to;
    req.page = query->page;
    req.limit = query->limit;
    req.cursor = query->cursor;
    req.n_where = query->n_where < 16 ? query->n_where : 16;
    memcpy (req.where, query->where, req.n_where * sizeof req.where[0]);
    int rc = ef_client_call (self, &req, NULL);
    if (rc == 0)
        rc = s_each_event (self, "items", fn, arg);
    if (rc == 0 && has_more) {
        ef_mpr_t r;
        *has_more = 0;
        if (ef_proto_reply_find (ef_client_reply (self), "has_more", &r) == 0)
            ef_mpr_bool (&r, has_more);
    }
    return rc;
}

int
ef_client_search_events (ef_client_t *self, const ef_request_t *query,
                         ef_event_fn *fn, void *arg,
                         char next_cursor[EF_CURSOR_MAX])
{
    int rc = ef_client_list_events (self, query, fn, arg, NULL);
    ef_mpr_t r;
    ef_str_t c;
    next_cursor[0] = 0;
    if (rc == 0 &&
        ef_proto_reply_find (ef_client_reply (self), "next_cursor", &r) == 0 &&
        !ef_mpr_nil (&r) && ef_mpr_str (&r, &c) == 0 && c.len < EF_CURSOR_MAX) {
        memcpy (next_cursor, c.ptr, c.len);
        next_cursor[c.len] = 0;
    }
    return rc;
}

int
ef_client_stats (ef_client_t *self, ef_stats_t *out)
{
    ef_request_t req = {.cmd = EF_CMD_STATS};
    int rc = ef_client_call (self, &req, NULL);
    if (rc)
        return rc;
    ef_mpr_t r;
    if (ef_proto_reply_find (ef_client_reply (self), "stats", &r) ||
        ef_proto_read_stats (&r, out))
        return ef_client_fail (self, EF_EPROTO, "malformed STATS reply");
    return 0;
}


static void
s_reply_id (ef_client_t *self, const char *key, char *out)
{
    ef_mpr_t r;
    ef_str_t s = EF_STR_NULL;
    if (!out)
        return;
    out[0] = 0;
    if (ef_proto_reply_find (ef_client_reply (self), key, &r) == 0 &&
        !ef_mpr_nil (&r) && ef_mpr_str (&r, &s) == 0 && s.len <= 36) {
        memcpy (out, s.ptr, s.len);
        out[s.len] = 0;
    }
}

int
ef_client_fetch (ef_client_t *self, const char *stream, const char *group,
                 const char *consumer_id, uint32_t limit, int timeout_ms,
                 ef_event_fn *fn, void *arg, char *next_offset)
{
    return ef_client_commit_fetch (self, stream, group, consumer_id, NULL,
                                   limit, timeout_ms, fn, arg, next_offset);
}

int
ef_client_commit_fetch (ef_client_t *self, const char *stream,
                        const char *group, const char *consumer_id,
                        const char *commit_id, uint32_t limit, int timeout_ms,
                        ef_event_fn *fn, void *arg, char *next_offset)
{
    ef_request_t req = {.cmd = EF_CMD_FETCH};
    req.stream = ef_str (stream);
    req.group = ef_str (group);
    req.consumer_id = ef_str (consumer_id);
    req.last_event_id = ef_str (commit_id);
    req.limit = limit;
    req.slim = 1;
    req.timeout = timeout_ms > 0 ? (uint32_t)timeout_ms : 0;
    /* a long poll may take its whole timeout: wait for it and then some */
    int saved = ef_client_timeout (self);
    if (timeout_ms > 0)
        ef_client_set_timeout (self, saved + timeout_ms);
    int rc = ef_client_call (self, &req, NULL);
    ef_client_set_timeout (self, saved);
    if (rc == 0)
        rc = s_each_event (self, "events", fn, arg);
    if (rc == 0)
        s_reply_id (self, "next_offset", next_offset);
    return rc;
}

int
ef_client_commit (ef_client_t *self, const char *stream, const char *group,
                  const char *consumer_id, const char *event_id,
                  char *committed)
{
    ef_request_t req = {.cmd = EF_CMD_COMMIT};
    req.stream = ef_str (stream);
    req.group = ef_str (group);
    req.consumer_id = ef_str (consumer_id);
    req.last_event_id = ef_str (event_id);
    int rc = ef_client_call (self, &req, NULL);
    if (rc == 0)
        s_reply_id (self, "committed_offset", committed);
    return rc;
}

int
ef_client_seek (ef_client_t *self, const char *stream, const char *group,
                const char *position, uint64_t timestamp_ms, char *committed)
{
    ef_request_t req = {.cmd = EF_CMD_SEEK};
    req.stream = ef_str (stream);
    req.group = ef_str (group);
    req.position = ef_str (position);
    if (!position) {
        req.timestamp = timestamp_ms;
        req.has_timestamp = 1;
    }
    int rc = ef_client_call (self, &req, NULL);
    if (rc == 0)
        s_reply_id (self, "committed_offset", committed);
    return rc;
}
