/*  ef_api_live.c: GET /api/v1/live, the dashboard's live feed as
    Server-Sent Events (README "Live feed"): every second the newest
    whole second of the caller's figures (STATS) and a stream's
    new events (READ from the head on, with GET /events' filters, which
    the broker judges: a feed over a busy stream with a rare match moves
    on by READ's `next`, the last seq it examined, matched or not),
    a `: ping` comment in a second with nothing else to send (so a client
    that went is found out within two seconds, when a write fails, and
    its place is free again). A feed holds its civetweb
    worker as a long poll does, so it is admitted within its own limits
    (ef_bridge_feed_enter); every tick asks the broker again with the
    caller's credential, so a revoked key, an expired token or a deleted
    stream ends the feed with an `error` event. It ends too when the
    client goes (a write fails) or the bridge stops. */
#include "ef_api_common.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_proto.h"
#include "eventflow/ef_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_TICK_MS    1000 /* figures and the tail, once a second */
#define S_READ_LIMIT 100  /* events per READ (matching ones, with filters) */
#define S_READS      10   /* READs a tick at most: beyond, the tail lags */
#define S_EXAMINE                                                              \
    50000        /* events a tick examines at most (the broker's
                              work for one feed in a second) */
#define S_GONE 1 /* a write failed: the client is gone */

/*  What a feed follows. */
typedef struct {
    int figures;
    ef_str_t stream;       /* as named, then its id; unset: no tail */
    char name[260];        /* the stream's name, from GET_STREAM */
    char id[64];           /* and its id */
    ef_request_t read;     /* the tail's filters, for its READs (type,
                              source, status, where); none: any event */
    ef_api_filters_t text; /* their texts */
    uint64_t after;        /* the tail's cursor: the last seq examined */
    int64_t wrote_at;      /* monotonic ms of the last write */
} s_feed_t;

/*  One event of the stream on the wire: "event:", an optional "id:" and
    one "data:" line of compact JSON (a CR or LF in it can only be white
    space between tokens, and goes), then the blank line. 0 or S_GONE. */
static int
s_send (ef_http_t *h, s_feed_t *f, const char *event, uint64_t id,
        ef_buf_t *data)
{
    for (size_t i = 0; i < data->len; i++)
        if (data->data[i] == '\n' || data->data[i] == '\r')
            data->data[i] = ' ';
    ef_buf_t b;
    ef_buf_init (&b);
    ef_buf_printf (&b, "event: %s\n", event);
    if (id)
        ef_buf_printf (&b, "id: %llu\n", (unsigned long long)id);
    ef_buf_append (&b, "data: ", 6);
    ef_buf_append (&b, data->data, data->len);
    ef_buf_append (&b, "\n\n", 2);
    int rc = b.oom || ef_http_stream_write (h, b.data, b.len) ? S_GONE : 0;
    ef_buf_free (&b);
    f->wrote_at = ef_time_mono_ms ();
    return rc;
}

/*  The refusal that ends a feed: `event: error` with {error: {code,
    message}}, the code's name and the broker's words (or the code's). */
static void
s_send_error (ef_http_t *h, s_feed_t *f, int rc, const ef_reply_t *rep)
{
    if (rc == EF_ETIMEOUT)
        rc = EF_EUNAVAILABLE;
    ef_buf_t d;
    ef_buf_init (&d);
    const char *name = ef_error_name (rc);
    ef_buf_append (&d, "{\"error\":{\"code\":", 17);
    ef_json_quote (&d, name, strlen (name));
    ef_buf_append (&d, ",\"message\":", 11);
    if (rep && rc != EF_EUNAVAILABLE && ef_str_set (rep->err_message))
        ef_json_quote (&d, rep->err_message.ptr, rep->err_message.len);
    else {
        const char *text = ef_strerror (rc);
        ef_json_quote (&d, text, strlen (text));
    }
    ef_buf_append (&d, "}}", 2);
    s_send (h, f, "error", 0, &d);
    ef_buf_free (&d);
}

/*  A series' Figures of two seconds with one value per key: the first
    of each array, the last second that is over (the newest one is still
    counting). */
static int
s_figures1 (ef_buf_t *b, ef_mpr_t *r)
{
    uint32_t n, m;
    if (ef_mpr_map (r, &n))
        return -1;
    ef_buf_append (b, "{", 1);
    for (uint32_t i = 0; i < n; i++) {
        ef_str_t k;
        if (ef_mpr_str (r, &k))
            return -1;
        ef_buf_append (b, i ? "," : "", i ? 1 : 0);
        ef_json_quote (b, k.ptr, k.len);
        ef_buf_append (b, ":", 1);
        if (ef_mpr_peek (r) != EF_MP_ARRAY) {
            ef_json_from_mp (b, r, 0);
            continue;
        }
        if (ef_mpr_array (r, &m))
            return -1;
        if (m == 0)
            ef_buf_append (b, "0", 1);
        for (uint32_t j = 0; j < m; j++) {
            if (j == 0)
                ef_json_from_mp (b, r, 0);
            else if (ef_mpr_skip (r, EF_MSGPACK_DEPTH))
                return -1;
        }
    }
    ef_buf_append (b, "}", 1);
    return 0;
}

/*  STATS' series of two seconds as the first one's {now, total:
    Figures1, streams: {name: Figures1}}. */
static int
s_figures (ef_buf_t *b, const ef_reply_t *rep)
{
    ef_mpr_t r;
    uint32_t n, m;
    if (ef_proto_reply_find (rep, "series", &r) || ef_mpr_map (&r, &n))
        return -1;
    int first = 1;
    ef_buf_append (b, "{", 1);
    for (uint32_t i = 0; i < n; i++) {
        ef_str_t k;
        if (ef_mpr_str (&r, &k))
            return -1;
        if (ef_str_eq (k, "seconds")) {
            ef_mpr_skip (&r, EF_MSGPACK_DEPTH);
            continue;
        }
        ef_buf_append (b, first ? "" : ",", first ? 0 : 1);
        first = 0;
        ef_json_quote (b, k.ptr, k.len);
        ef_buf_append (b, ":", 1);
        uint64_t now;
        if (ef_str_eq (k, "now") && ef_mpr_uint (&r, &now) == 0) {
            ef_buf_printf (b, "%llu", (unsigned long long)(now - 1));
        } else if (ef_str_eq (k, "total")) {
            if (s_figures1 (b, &r))
                return -1;
        } else if (ef_str_eq (k, "streams") && ef_mpr_map (&r, &m) == 0) {
            ef_buf_append (b, "{", 1);
            for (uint32_t j = 0; j < m; j++) {
                ef_str_t name;
                if (ef_mpr_str (&r, &name))
                    return -1;
                ef_buf_append (b, j ? "," : "", j ? 1 : 0);
                ef_json_quote (b, name.ptr, name.len);
                ef_buf_append (b, ":", 1);
                if (s_figures1 (b, &r))
                    return -1;
            }
            ef_buf_append (b, "}", 1);
        } else
            ef_json_from_mp (b, &r, 0);
    }
    ef_buf_append (b, "}", 1);
    return b->oom ? -1 : 0;
}

/*  The caller's figures of the last whole second: 0 (sent, or nothing to send
    when send is 0), S_GONE, or the broker's refusal (an EF_E* code; *rep
    for its words). */
static int
s_tick_figures (ef_bridge_t *self, ef_http_t *h, s_feed_t *f, int send,
                const ef_reply_t **rep)
{
    ef_request_t req = {0};
    req.cmd = EF_CMD_STATS;
    req.seconds = 2;
    req.has_seconds = 1;
    int rc = ef_bridge_try (self, h, &req, rep);
    if (rc || !send)
        return rc;
    ef_buf_t d;
    ef_buf_init (&d);
    if (s_figures (&d, *rep)) {
        ef_buf_free (&d);
        return EF_EPROTO;
    }
    rc = s_send (h, f, "figures", 0, &d);
    ef_buf_free (&d);
    return rc;
}

/*  The stream's events after the cursor that pass the filters (the
    broker's READ judges them), at most S_READS reads of S_READ_LIMIT and
    S_EXAMINE events examined in a tick, each read's events as one `events` event {stream, events: [Event, …]}
    with READ's `next` as its id. The cursor moves to `next` after every
    read, also one that matched nothing, so the events it examined are
    not examined again. Returns as s_tick_figures. */
static int
s_tick_tail (ef_bridge_t *self, ef_http_t *h, s_feed_t *f,
             const ef_reply_t **rep)
{
    uint64_t examined = 0;
    for (int i = 0; i < S_READS && examined < S_EXAMINE; i++) {
        ef_request_t req = f->read;
        req.cmd = EF_CMD_READ;
        req.stream = f->stream;
        req.after = f->after;
        req.limit = S_READ_LIMIT;
        int rc = ef_bridge_try (self, h, &req, rep);
        if (rc)
            return rc;
        ef_mpr_t r, nx, hd;
        uint32_t n;
        uint64_t next = f->after, head = 0;
        if (ef_proto_reply_find (*rep, "next", &nx) ||
            ef_mpr_uint (&nx, &next) ||
            ef_proto_reply_find (*rep, "head", &hd) ||
            ef_mpr_uint (&hd, &head) ||
            ef_proto_reply_find (*rep, "events", &r) || ef_mpr_array (&r, &n))
            return EF_EPROTO;
        ef_buf_t d;
        ef_buf_init (&d);
        ef_buf_append (&d, "{\"stream\":", 10);
        ef_json_quote (&d, f->name, strlen (f->name));
        ef_buf_append (&d, ",\"events\":[", 11);
        for (uint32_t j = 0; j < n; j++) {
            ef_event_t ev;
            if (ef_proto_read_event (&r, &ev)) {
                ef_buf_free (&d);
                return EF_EPROTO;
            }
            if (j)
                ef_buf_append (&d, ",", 1);
            ef_event_json (&d, &ev, EF_EVENT_JSON_LINE);
        }
        ef_buf_append (&d, "]}", 2);
        rc = n ? s_send (h, f, "events", next, &d) : 0;
        ef_buf_free (&d);
        if (rc)
            return rc;
        if (next <= f->after || next >= head) {
            f->after = next > f->after ? next : f->after;
            return 0; /* caught up */
        }
        examined += next - f->after;
        f->after = next;
    }
    return 0;
}

/*  The stream the tail follows, by id or name: its name and head (the
    cursor, unless ?after gave one); with `where`, the predicates judged
    by the broker before the feed starts: a READ of one event past the
    head (only what came since; nothing of it is kept, the first tick
    reads it again). 0 or the broker's refusal. */
static int
s_open_tail (ef_bridge_t *self, ef_http_t *h, s_feed_t *f, int have_after,
             const ef_reply_t **rep)
{
    ef_request_t req = {0};
    req.cmd = EF_CMD_GET_STREAM;
    req.stream = f->stream;
    int rc = ef_bridge_try (self, h, &req, rep);
    if (rc)
        return rc;
    ef_mpr_t r;
    uint32_t n;
    uint64_t head = 0;
    if (ef_proto_reply_find (*rep, "stream", &r) || ef_mpr_map (&r, &n))
        return EF_EPROTO;
    for (uint32_t i = 0; i < n; i++) {
        ef_str_t k, v;
        if (ef_mpr_str (&r, &k))
            return EF_EPROTO;
        if (ef_str_eq (k, "name") && ef_mpr_str (&r, &v) == 0)
            snprintf (f->name, sizeof f->name, "%.*s", (int)v.len, v.ptr);
        else if (ef_str_eq (k, "id") && ef_mpr_str (&r, &v) == 0)
            snprintf (f->id, sizeof f->id, "%.*s", (int)v.len, v.ptr);
        else if (ef_str_eq (k, "last_seq") && ef_mpr_uint (&r, &head) == 0)
            ;
        else if (ef_mpr_skip (&r, EF_MSGPACK_DEPTH))
            return EF_EPROTO;
    }
    if (!have_after)
        f->after = head;
    /* by its id from here on: a rename does not end the tail */
    if (f->id[0])
        f->stream = ef_str (f->id);
    if (f->read.n_where == 0)
        return 0;
    req = f->read;
    req.cmd = EF_CMD_READ;
    req.stream = f->stream;
    req.after = head;
    req.limit = 1;
    return ef_bridge_try (self, h, &req, rep);
}

int
ef_api_live (ef_bridge_t *self, ef_http_t *h)
{
    s_feed_t f;
    ef_api_errors_t e;
    char figures[8], stream[260], after[32];
    memset (&f, 0, sizeof f);
    ef_api_errors_init (&e);
    int q = ef_http_query (h, "figures", figures, sizeof figures);
    if (q && strcmp (figures, "1") != 0 && strcmp (figures, "0") != 0)
        ef_api_errors_add (&e, "?figures", "is 1 or 0");
    f.figures = q > 0 && strcmp (figures, "1") == 0;
    ef_api_query_text (h, "stream", stream, sizeof stream, &f.stream, &e);
    ef_api_query_filters (h, &f.text, &f.read, &e);
    int have_after = ef_http_query (h, "after", after, sizeof after);
    if (have_after &&
        (have_after < 0 || ef_api_decimal (after, strlen (after), &f.after)))
        ef_api_errors_add (&e, "?after", "is a seq: a whole number");
    if (!ef_str_set (f.stream) &&
        (ef_str_set (f.read.type) || ef_str_set (f.read.source) ||
         ef_str_set (f.read.status) || f.read.n_where || have_after))
        ef_api_errors_add (&e, "?stream", "is needed for the tail's filters");
    if (!f.figures && !ef_str_set (f.stream))
        ef_api_errors_add (&e, "?figures",
                           "give figures=1, stream=NAME, or both");
    if (e.n)
        return ef_api_errors_send (h, &e);
    ef_api_errors_free (&e);

    uint64_t ticket;
    int rc = ef_bridge_feed_enter (self, h, &ticket);
    if (rc)
        return rc;
    /* before the stream starts, a refusal is an ordinary answer */
    const ef_reply_t *rep = NULL;
    rc = ef_str_set (f.stream) ? s_open_tail (self, h, &f, have_after > 0, &rep)
                               : 0;
    if (rc == 0 && f.figures) /* a key limited to streams may not see them */
        rc = s_tick_figures (self, h, &f, 0, &rep);
    if (rc) {
        ef_bridge_feed_leave (self, ticket);
        int refused = ef_api_search_refused (h, rc, rep);
        return refused ? refused : ef_bridge_call_error (h, rc, rep);
    }
    ef_http_stream_begin (h, "text/event-stream");
    ef_buf_t open;
    ef_buf_init (&open);
    ef_buf_printf (&open, ": live feed %s\n\n", h->request_id);
    rc = ef_http_stream_write (h, open.data, open.len) ? S_GONE : 0;
    ef_buf_free (&open);
    f.wrote_at = ef_time_mono_ms ();
    int64_t next = f.wrote_at;
    while (rc == 0) {
        int64_t now = ef_time_mono_ms ();
        if (next > now && ef_bridge_feed_wait (self, (int)(next - now)))
            break; /* the bridge is stopping */
        next += S_TICK_MS;
        if (next <= ef_time_mono_ms ())
            next = ef_time_mono_ms () + S_TICK_MS; /* behind: no burst */
        rep = NULL;
        int64_t tick = ef_time_mono_ms ();
        if (f.figures)
            rc = s_tick_figures (self, h, &f, 1, &rep);
        if ((rc == 0 || rc == EF_ERATE) && ef_str_set (f.stream))
            rc = s_tick_tail (self, h, &f, &rep);
        if (rc == EF_ERATE)
            rc = 0; /* the key's rate limit: this second is skipped (the
                       tail's cursor stays), the feed goes on */
        if (rc == 0 && f.wrote_at < tick) {
            rc = ef_http_stream_write (h, ": ping\n\n", 8) ? S_GONE : 0;
            f.wrote_at = ef_time_mono_ms ();
        }
        if (rc < 0) /* the broker's refusal: said, then the end */
            s_send_error (h, &f, rc, rep);
    }
    ef_bridge_feed_leave (self, ticket);
    return 200;
}
