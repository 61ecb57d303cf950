/*  test_query.c: unit tests of ef_query, the broker's read-side commands,
    over a real LMDB store in a temporary directory holding two orgs:
    org 1 with streams "orders" (5 events) and "audit" (2 later events),
    org 2 with its own "orders" (1 event). Each query's reply is decoded
    as a client would: READ pages by sequence with next and head,
    GET_EVENT finds an event by id, LIST_EVENTS merges an org's streams
    newest first with pages, GET_STREAM counts, and no query ever shows
    one org another org's stream or event. The events are stored in both
    forms (ef_record.h): odd seqs as stores of format 1 hold them, even
    ones compact; the same events in either form answer the same bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ef_query.h"
#include "ef_record.h"
#include "ef_store.h"
#include "u_store.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_uuid.h"

#define T0 1700000000000ull

typedef struct {
    u_store_t st; /* first: u_store_teardown frees it all */
    ef_query_t *q;
    ef_store_txn_t *r;
    ef_buf_t out;
    ef_reply_t rep;
    ef_stream_rec_t orders, audit, other;
    char ids[8][EF_UUID_STRLEN + 1]; /* orders 1..5, audit 1..2, other */
} fx_t;

/*  Append event seq of stream s, received at when, its payload naming
    it; its id into id. Odd seqs in the record form of format 1, even
    ones compact. */
static void
s_append (ef_store_txn_t *w, ef_uuid_gen_t *g, const ef_stream_rec_t *s,
          uint64_t seq, uint64_t when, char *id)
{
    ef_uuid_t u;
    char payload[200];
    ef_buf_t rec;
    ef_buf_init (&rec);
    ef_uuid_gen_v7 (g, when, &u);
    ef_uuid_format (&u, id);
    snprintf (payload, sizeof payload, "{\"at\":\"%s#%llu\"}", s->name,
              (unsigned long long)seq);
    ef_event_t e = {0};
    e.event_id = (ef_str_t){id, EF_UUID_STRLEN};
    e.type = ef_str ("t");
    e.version = 1;
    e.occurred_at = when;
    e.received_at = when;
    e.source = ef_str ("native");
    e.payload = ef_str (payload);
    if (seq % 2)
        ef_proto_write_event_record (&rec, &e);
    else
        ef_record_write (&rec, &e, &u);
    assert_int_equal (
        ef_store_event_append (w, s->num, seq, &u, rec.data, rec.len), 0);
    ef_buf_free (&rec);
}

static int
s_setup (void **state)
{
    if (u_store_setup (state))
        return -1;
    fx_t *fx = realloc (*state, sizeof *fx);
    if (!fx)
        return -1;
    memset ((char *)fx + sizeof (u_store_t), 0,
            sizeof *fx - sizeof (u_store_t));
    *state = fx;
    u_store_open (&fx->st, 0, 0);
    ef_uuid_gen_t g;
    ef_uuid_gen_init (&g);
    ef_store_txn_t *w = NULL;
    assert_int_equal (ef_store_write_begin (fx->st.store, &w), 0);
    assert_int_equal (
        ef_store_stream_create (w, 1, ef_str ("orders"), T0, &fx->orders), 0);
    assert_int_equal (
        ef_store_stream_create (w, 1, ef_str ("audit"), T0, &fx->audit), 0);
    assert_int_equal (
        ef_store_stream_create (w, 2, ef_str ("orders"), T0, &fx->other), 0);
    for (uint64_t seq = 1; seq <= 5; seq++)
        s_append (w, &g, &fx->orders, seq, T0 + seq, fx->ids[seq - 1]);
    s_append (w, &g, &fx->audit, 1, T0 + 10, fx->ids[5]);
    s_append (w, &g, &fx->audit, 2, T0 + 11, fx->ids[6]);
    s_append (w, &g, &fx->other, 1, T0 + 12, fx->ids[7]);
    assert_int_equal (ef_store_write_commit (&w), 0);
    fx->q = ef_query_new ();
    fx->r = ef_store_reader_new (fx->st.store);
    assert_non_null (fx->q);
    assert_non_null (fx->r);
    assert_int_equal (ef_store_reader_begin (fx->r), 0);
    ef_buf_init (&fx->out);
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *fx = *state;
    ef_buf_free (&fx->out);
    ef_store_reader_end (fx->r);
    ef_store_reader_destroy (&fx->r);
    ef_query_destroy (&fx->q);
    return u_store_teardown (state);
}

typedef int (s_query_fn) (ef_query_t *, ef_store_txn_t *, uint32_t,
                          const ef_request_t *, ef_buf_t *, const char **);

/*  Run query fn for org; 0 with the reply decoded into fx->rep, or the
    error (with *why when it names one). */
static int
s_run (fx_t *fx, s_query_fn *fn, uint32_t org, const ef_request_t *req,
       const char **why)
{
    const char *w = NULL;
    ef_buf_reset (&fx->out);
    int rc = fn (fx->q, fx->r, org, req, &fx->out, &w);
    if (why)
        *why = w;
    if (rc)
        return rc;
    assert_int_equal (
        ef_proto_decode_reply (fx->out.data, fx->out.len, &fx->rep), 0);
    assert_true (fx->rep.ok);
    return 0;
}

static uint64_t
s_uint (fx_t *fx, const char *key)
{
    ef_mpr_t r;
    uint64_t v;
    assert_int_equal (ef_proto_reply_find (&fx->rep, key, &r), 0);
    assert_int_equal (ef_mpr_uint (&r, &v), 0);
    return v;
}

/*  The payloads of the event array at key, joined by spaces, into out. */
static void
s_payloads (fx_t *fx, const char *key, char *out, size_t size)
{
    ef_mpr_t r;
    uint32_t n;
    out[0] = 0;
    assert_int_equal (ef_proto_reply_find (&fx->rep, key, &r), 0);
    assert_int_equal (ef_mpr_array (&r, &n), 0);
    for (uint32_t i = 0; i < n; i++) {
        ef_event_t e;
        assert_int_equal (ef_proto_read_event (&r, &e), 0);
        size_t len = strlen (out);
        snprintf (out + len, size - len, "%s%.*s", i ? " " : "",
                  (int)e.payload.len, e.payload.ptr);
    }
}

/* ---------------------------------------------------------------- read */

static void
test_read_pages_by_sequence_with_next_and_head (void **state)
{
    fx_t *fx = *state;
    char got[512];
    ef_request_t req = {0};
    req.stream = ef_str ("orders");
    req.limit = 2;
    assert_int_equal (s_run (fx, ef_query_read, 1, &req, NULL), 0);
    s_payloads (fx, "events", got, sizeof got);
    assert_string_equal (got, "{\"at\":\"orders#1\"} {\"at\":\"orders#2\"}");
    assert_int_equal (s_uint (fx, "next"), 2);
    assert_int_equal (s_uint (fx, "head"), 5);
    /* from next on */
    req.after = 4;
    assert_int_equal (s_run (fx, ef_query_read, 1, &req, NULL), 0);
    s_payloads (fx, "events", got, sizeof got);
    assert_string_equal (got, "{\"at\":\"orders#5\"}");
    assert_int_equal (s_uint (fx, "next"), 5);
    /* past the head: nothing, and next stays where the reader is */
    req.after = 5;
    assert_int_equal (s_run (fx, ef_query_read, 1, &req, NULL), 0);
    s_payloads (fx, "events", got, sizeof got);
    assert_string_equal (got, "");
    assert_int_equal (s_uint (fx, "next"), 5);
    /* by the stream's id as well as its name */
    req.stream = ef_str (fx->orders.id);
    req.after = 0;
    req.limit = 0; /* the default page holds all five */
    assert_int_equal (s_run (fx, ef_query_read, 1, &req, NULL), 0);
    assert_int_equal (s_uint (fx, "next"), 5);
}

/*  READ with filters answers only the events that pass them, oldest
    first; next is the last event examined, so a poller moves on over a
    scan that matched nothing. */
static void
test_read_filters_and_moves_next_over_what_it_examined (void **state)
{
    fx_t *fx = *state;
    char got[512];
    const char *why = NULL;
    ef_request_t req = {0};
    req.stream = ef_str ("orders");
    req.where[0] = ef_str ("/at:contains:\"#\"");
    req.where[1] = ef_str ("/at:eq:\"orders#4\"");
    req.n_where = 2;
    assert_int_equal (s_run (fx, ef_query_read, 1, &req, NULL), 0);
    s_payloads (fx, "events", got, sizeof got);
    assert_string_equal (got, "{\"at\":\"orders#4\"}");
    assert_int_equal (s_uint (fx, "next"), 5); /* all five examined */
    assert_int_equal (s_uint (fx, "head"), 5);
    /* at most limit matches: next is the last one returned */
    req.where[1] = ef_str ("/at:exists");
    req.limit = 2;
    req.after = 1;
    assert_int_equal (s_run (fx, ef_query_read, 1, &req, NULL), 0);
    s_payloads (fx, "events", got, sizeof got);
    assert_string_equal (got, "{\"at\":\"orders#2\"} {\"at\":\"orders#3\"}");
    assert_int_equal (s_uint (fx, "next"), 3);
    /* at most search-scan examined: nothing matched, next moved on */
    ef_query_set_scan (fx->q, 2);
    req.where[1] = ef_str ("/at:eq:\"orders#5\"");
    req.limit = 0;
    req.after = 0;
    assert_int_equal (s_run (fx, ef_query_read, 1, &req, NULL), 0);
    s_payloads (fx, "events", got, sizeof got);
    assert_string_equal (got, "");
    assert_int_equal (s_uint (fx, "next"), 2);
    req.after = 4;
    assert_int_equal (s_run (fx, ef_query_read, 1, &req, NULL), 0);
    s_payloads (fx, "events", got, sizeof got);
    assert_string_equal (got, "{\"at\":\"orders#5\"}");
    assert_int_equal (s_uint (fx, "next"), 5);
    ef_query_set_scan (fx->q, EF_QUERY_SCAN);
    /* type, source and status are LIST_EVENTS' filters */
    req.n_where = 0;
    req.after = 0;
    req.type = ef_str ("other");
    assert_int_equal (s_run (fx, ef_query_read, 1, &req, NULL), 0);
    s_payloads (fx, "events", got, sizeof got);
    assert_string_equal (got, "");
    assert_int_equal (s_uint (fx, "next"), 5);
    req.type = ef_str ("t");
    req.source = ef_str ("native");
    req.status = ef_str ("PROCESSED");
    req.limit = 1;
    assert_int_equal (s_run (fx, ef_query_read, 1, &req, NULL), 0);
    s_payloads (fx, "events", got, sizeof got);
    assert_string_equal (got, "{\"at\":\"orders#1\"}");
    req.status = ef_str ("FAILED");
    assert_int_equal (s_run (fx, ef_query_read, 1, &req, NULL), 0);
    s_payloads (fx, "events", got, sizeof got);
    assert_string_equal (got, "");
    /* a bad predicate is INVALID, as for LIST_EVENTS */
    req.status = EF_STR_NULL;
    req.where[0] = ef_str ("nopointer");
    req.n_where = 1;
    assert_int_equal (s_run (fx, ef_query_read, 1, &req, &why), EF_EINVAL);
    assert_non_null (why);
}

static void
test_no_query_shows_another_orgs_stream (void **state)
{
    fx_t *fx = *state;
    char got[512];
    ef_request_t req = {0};
    /* org 2's "orders" is its own */
    req.stream = ef_str ("orders");
    assert_int_equal (s_run (fx, ef_query_read, 2, &req, NULL), 0);
    s_payloads (fx, "events", got, sizeof got);
    assert_string_equal (got, "{\"at\":\"orders#1\"}");
    assert_int_equal (s_uint (fx, "head"), 1);
    /* org 1's stream by its id, asked by org 2: not found */
    req.stream = ef_str (fx->audit.id);
    assert_int_equal (s_run (fx, ef_query_read, 2, &req, NULL), EF_ENOTFOUND);
    assert_int_equal (s_run (fx, ef_query_get_stream, 2, &req, NULL),
                      EF_ENOTFOUND);
    req.stream = ef_str ("audit");
    assert_int_equal (s_run (fx, ef_query_list_events, 2, &req, NULL),
                      EF_ENOTFOUND);
    /* nor its events by id */
    memset (&req, 0, sizeof req);
    req.event_id = ef_str (fx->ids[5]);
    assert_int_equal (s_run (fx, ef_query_get_event, 2, &req, NULL),
                      EF_ENOTFOUND);
}

/* ---------------------------------------------------------------- events */

static void
test_get_event_finds_an_event_by_id (void **state)
{
    fx_t *fx = *state;
    const char *why = NULL;
    ef_request_t req = {0};
    ef_mpr_t r;
    ef_event_t e;
    req.event_id = ef_str (fx->ids[2]);
    assert_int_equal (s_run (fx, ef_query_get_event, 1, &req, NULL), 0);
    assert_int_equal (ef_proto_reply_find (&fx->rep, "event", &r), 0);
    assert_int_equal (ef_proto_read_event (&r, &e), 0);
    assert_true (ef_str_eq (e.event_id, fx->ids[2]));
    assert_true (ef_str_eq (e.stream_id, fx->orders.id));
    assert_int_equal (e.seq, 3);
    assert_true (ef_str_eq (e.payload, "{\"at\":\"orders#3\"}"));
    /* in a named stream: the right one finds it, another does not */
    req.stream = ef_str ("orders");
    assert_int_equal (s_run (fx, ef_query_get_event, 1, &req, NULL), 0);
    req.stream = ef_str ("audit");
    assert_int_equal (s_run (fx, ef_query_get_event, 1, &req, &why),
                      EF_ENOTFOUND);
    /* not a UUID: invalid, and the reason says so */
    memset (&req, 0, sizeof req);
    req.event_id = ef_str ("not-a-uuid");
    assert_int_equal (s_run (fx, ef_query_get_event, 1, &req, &why), EF_EINVAL);
    assert_non_null (why);
    assert_non_null (strstr (why, "UUID"));
}

static void
test_list_events_merges_an_orgs_streams_newest_first (void **state)
{
    fx_t *fx = *state;
    char got[512];
    ef_mpr_t r;
    int more;
    ef_request_t req = {0};
    req.limit = 3;
    assert_int_equal (s_run (fx, ef_query_list_events, 1, &req, NULL), 0);
    s_payloads (fx, "items", got, sizeof got);
    assert_string_equal (got, "{\"at\":\"audit#2\"} {\"at\":\"audit#1\"} "
                              "{\"at\":\"orders#5\"}");
    assert_int_equal (ef_proto_reply_find (&fx->rep, "has_more", &r), 0);
    assert_int_equal (ef_mpr_bool (&r, &more), 0);
    assert_true (more);
    /* the last page: the oldest, and no more (org 2's event is not here) */
    req.page = 3;
    assert_int_equal (s_run (fx, ef_query_list_events, 1, &req, NULL), 0);
    s_payloads (fx, "items", got, sizeof got);
    assert_string_equal (got, "{\"at\":\"orders#1\"}");
    assert_int_equal (ef_proto_reply_find (&fx->rep, "has_more", &r), 0);
    assert_int_equal (ef_mpr_bool (&r, &more), 0);
    assert_false (more);
    /* one stream only */
    req.page = 1;
    req.stream = ef_str ("audit");
    assert_int_equal (s_run (fx, ef_query_list_events, 1, &req, NULL), 0);
    s_payloads (fx, "items", got, sizeof got);
    assert_string_equal (got, "{\"at\":\"audit#2\"} {\"at\":\"audit#1\"}");
    /* a page beyond any sense is refused, not walked */
    req.page = 2000000;
    assert_int_equal (s_run (fx, ef_query_list_events, 1, &req, NULL),
                      EF_EINVAL);
}

/*  The next_cursor of the last reply into out ("" when nil). */
static void
s_next_cursor (fx_t *fx, char *out, size_t size)
{
    ef_mpr_t r;
    ef_str_t c;
    out[0] = 0;
    assert_int_equal (ef_proto_reply_find (&fx->rep, "next_cursor", &r), 0);
    if (ef_mpr_nil (&r))
        return;
    assert_int_equal (ef_mpr_str (&r, &c), 0);
    snprintf (out, size, "%.*s", (int)c.len, c.ptr);
}

/*  Follow req by next_cursor from its first page to the end: the
    payloads of all pages joined into all; the pages. */
static int
s_follow (fx_t *fx, ef_request_t req, char *all, size_t size)
{
    char got[512], cursor[72];
    int pages = 0;
    all[0] = 0;
    do {
        assert_int_equal (s_run (fx, ef_query_list_events, 1, &req, NULL), 0);
        s_payloads (fx, "items", got, sizeof got);
        if (got[0])
            snprintf (all + strlen (all), size - strlen (all), "%s%s",
                      all[0] ? " " : "", got);
        s_next_cursor (fx, cursor, sizeof cursor);
        req.cursor = ef_str (cursor);
        req.page = 0;
        pages++;
    } while (cursor[0] && pages < 10);
    return pages;
}

static void
test_every_listing_pages_by_cursor_within_the_scan_bound (void **state)
{
    fx_t *fx = *state;
    char all[1024];
    const char *why = NULL;
    ef_mpr_t r;
    int more;
    ef_request_t req = {0};
    static const char *every = "{\"at\":\"audit#2\"} {\"at\":\"audit#1\"} "
                               "{\"at\":\"orders#5\"} {\"at\":\"orders#4\"} "
                               "{\"at\":\"orders#3\"} {\"at\":\"orders#2\"} "
                               "{\"at\":\"orders#1\"}";
    /* plain: the limit ends a page, next_cursor goes on, nil at the end */
    req.limit = 3;
    assert_int_equal (s_follow (fx, req, all, sizeof all), 3);
    assert_string_equal (all, every);
    assert_int_equal (ef_proto_reply_find (&fx->rep, "has_more", &r), 0);
    assert_int_equal (ef_mpr_bool (&r, &more), 0);
    assert_false (more);
    /* or the scan bound does, for a plain listing too */
    ef_query_set_scan (fx->q, 2);
    assert_int_equal (s_follow (fx, req, all, sizeof all), 4);
    assert_string_equal (all, every);
    /* a type that matches nothing examines 2 a page, not the org */
    req.type = ef_str ("none");
    assert_int_equal (s_follow (fx, req, all, sizeof all), 4);
    assert_string_equal (all, "");
    assert_int_equal (s_run (fx, ef_query_list_events, 1, &req, NULL), 0);
    assert_int_equal (ef_proto_reply_find (&fx->rep, "has_more", &r), 0);
    assert_int_equal (ef_mpr_bool (&r, &more), 0);
    assert_true (more);
    /* `to` starts the walk at its time: audit (later) is not examined,
       and the cursor keeps the filters */
    req.type = ef_str ("t");
    req.has_to = 1;
    req.to = T0 + 4;
    req.limit = 1;
    assert_int_equal (s_follow (fx, req, all, sizeof all), 4);
    assert_string_equal (all, "{\"at\":\"orders#4\"} {\"at\":\"orders#3\"} "
                              "{\"at\":\"orders#2\"} {\"at\":\"orders#1\"}");
    /* page N skips within the bound; a page whose skip alone reaches it
       is refused, telling to page by cursor */
    memset (&req, 0, sizeof req);
    ef_query_set_scan (fx->q, 4);
    req.limit = 2;
    req.page = 2;
    assert_int_equal (s_follow (fx, req, all, sizeof all), 3);
    assert_string_equal (all, "{\"at\":\"orders#5\"} {\"at\":\"orders#4\"} "
                              "{\"at\":\"orders#3\"} {\"at\":\"orders#2\"} "
                              "{\"at\":\"orders#1\"}");
    req.page = 3;
    assert_int_equal (s_run (fx, ef_query_list_events, 1, &req, &why),
                      EF_EINVAL);
    assert_non_null (why);
    assert_non_null (strstr (why, "cursor"));
    ef_query_set_scan (fx->q, EF_QUERY_SCAN);
}

static void
test_search_pages_by_cursor_over_a_bounded_scan (void **state)
{
    fx_t *fx = *state;
    char got[512], all[1024] = "", cursor[72];
    ef_request_t req = {0};
    req.where[0] = ef_str ("/at:contains:\"orders\"");
    req.n_where = 1;
    /* two events examined a page: audit#2, audit#1 first (no match),
       then the orders two by two, then done */
    ef_query_set_scan (fx->q, 2);
    int pages = 0;
    do {
        assert_int_equal (s_run (fx, ef_query_list_events, 1, &req, NULL), 0);
        s_payloads (fx, "items", got, sizeof got);
        if (pages == 0)
            assert_string_equal (got, "");
        if (got[0])
            snprintf (all + strlen (all), sizeof all - strlen (all), "%s%s",
                      all[0] ? " " : "", got);
        s_next_cursor (fx, cursor, sizeof cursor);
        req.cursor = ef_str (cursor);
        pages++;
    } while (cursor[0] && pages < 10);
    assert_int_equal (pages, 4);
    assert_string_equal (all, "{\"at\":\"orders#5\"} {\"at\":\"orders#4\"} "
                              "{\"at\":\"orders#3\"} {\"at\":\"orders#2\"} "
                              "{\"at\":\"orders#1\"}");
    /* the limit also stops a page, with a cursor to the next match */
    ef_query_set_scan (fx->q, EF_QUERY_SCAN);
    req.cursor = EF_STR_NULL;
    req.limit = 2;
    assert_int_equal (s_run (fx, ef_query_list_events, 1, &req, NULL), 0);
    s_payloads (fx, "items", got, sizeof got);
    assert_string_equal (got, "{\"at\":\"orders#5\"} {\"at\":\"orders#4\"}");
    s_next_cursor (fx, cursor, sizeof cursor);
    req.cursor = ef_str (cursor);
    assert_int_equal (s_run (fx, ef_query_list_events, 1, &req, NULL), 0);
    s_payloads (fx, "items", got, sizeof got);
    assert_string_equal (got, "{\"at\":\"orders#3\"} {\"at\":\"orders#2\"}");
    /* one stream, eq; a bad cursor or predicate is refused */
    req.limit = 0;
    req.cursor = EF_STR_NULL;
    req.stream = ef_str ("orders");
    req.where[0] = ef_str ("/at:eq:\"orders#3\"");
    assert_int_equal (s_run (fx, ef_query_list_events, 1, &req, NULL), 0);
    s_payloads (fx, "items", got, sizeof got);
    assert_string_equal (got, "{\"at\":\"orders#3\"}");
    s_next_cursor (fx, cursor, sizeof cursor);
    assert_string_equal (cursor, "");
    const char *why = NULL;
    req.cursor = ef_str ("nope");
    assert_int_equal (s_run (fx, ef_query_list_events, 1, &req, &why),
                      EF_EINVAL);
    req.cursor = EF_STR_NULL;
    req.where[0] = ef_str ("/at:eq:orders");
    assert_int_equal (s_run (fx, ef_query_list_events, 1, &req, &why),
                      EF_EINVAL);
    assert_non_null (strstr (why, "where"));
}

static void
test_search_never_matches_another_orgs_events (void **state)
{
    fx_t *fx = *state;
    char got[512];
    ef_request_t req = {0};
    /* org 2's only event is orders#1; org 1's audit is not seen */
    req.where[0] = ef_str ("/at:exists");
    req.n_where = 1;
    assert_int_equal (s_run (fx, ef_query_list_events, 2, &req, NULL), 0);
    s_payloads (fx, "items", got, sizeof got);
    assert_string_equal (got, "{\"at\":\"orders#1\"}");
    req.where[0] = ef_str ("/at:contains:\"audit\"");
    assert_int_equal (s_run (fx, ef_query_list_events, 2, &req, NULL), 0);
    s_payloads (fx, "items", got, sizeof got);
    assert_string_equal (got, "");
    /* nor does org 1 find org 2's event (its own orders#1 only) */
    req.where[0] = ef_str ("/at:eq:\"orders#1\"");
    assert_int_equal (s_run (fx, ef_query_list_events, 1, &req, NULL), 0);
    s_payloads (fx, "items", got, sizeof got);
    assert_string_equal (got, "{\"at\":\"orders#1\"}");
    ef_mpr_t r;
    uint32_t n;
    ef_event_t e;
    assert_int_equal (ef_proto_reply_find (&fx->rep, "items", &r), 0);
    assert_int_equal (ef_mpr_array (&r, &n), 0);
    assert_int_equal (ef_proto_read_event (&r, &e), 0);
    assert_true (ef_str_eq (e.stream_id, fx->orders.id));
}

/* ---------------------------------------------------------------- streams */

static void
test_get_stream_counts_its_events (void **state)
{
    fx_t *fx = *state;
    ef_request_t req = {0};
    ef_mpr_t r;
    ef_stream_info_t si;
    req.stream = ef_str ("orders");
    assert_int_equal (s_run (fx, ef_query_get_stream, 1, &req, NULL), 0);
    assert_int_equal (ef_proto_reply_find (&fx->rep, "stream", &r), 0);
    assert_int_equal (ef_proto_read_stream (&r, &si), 0);
    assert_true (ef_str_eq (si.id, fx->orders.id));
    assert_true (ef_str_eq (si.name, "orders"));
    assert_int_equal (si.events, 5);
    assert_int_equal (si.first_seq, 1);
    assert_int_equal (si.last_seq, 5);
    /* its stored bytes and its newest event's time, from the store */
    uint64_t bytes = 0;
    assert_int_equal (ef_store_stream_bytes (fx->r, fx->orders.num, &bytes), 0);
    assert_true (bytes > 5 * 40);
    assert_int_equal (si.bytes, bytes);
    assert_int_equal (si.last_event_at, T0 + 5);
    req.stream = ef_str ("audit");
    assert_int_equal (s_run (fx, ef_query_list_streams, 1, &req, NULL), 0);
    assert_int_equal (ef_proto_reply_find (&fx->rep, "streams", &r), 0);
    uint32_t n;
    assert_int_equal (ef_mpr_array (&r, &n), 0);
    assert_int_equal (n, 2);
    assert_int_equal (ef_proto_read_stream (&r, &si), 0); /* audit */
    assert_true (ef_str_eq (si.name, "audit"));
    assert_int_equal (si.last_event_at, T0 + 11);
    assert_true (si.bytes > 0 && si.bytes < bytes);
    req.stream = ef_str ("missing");
    assert_int_equal (s_run (fx, ef_query_get_stream, 1, &req, NULL),
                      EF_ENOTFOUND);
}

/* ---------------------------------------------------------------- forms */

/*  The same events stored in a stream of each form (with every optional
    field and without) answer the same bytes: a page of READ, slim or
    whole, and each event alone. */
static void
test_records_of_either_form_answer_the_same_bytes (void **state)
{
    fx_t *fx = *state;
    ef_stream_rec_t pairs, compact;
    ef_store_txn_t *w = NULL;
    ef_uuid_gen_t g;
    ef_uuid_gen_init (&g);
    ef_buf_t rec;
    ef_buf_init (&rec);
    ef_store_reader_end (fx->r);
    assert_int_equal (ef_store_write_begin (fx->st.store, &w), 0);
    assert_int_equal (
        ef_store_stream_create (w, 3, ef_str ("pairs"), T0, &pairs), 0);
    assert_int_equal (
        ef_store_stream_create (w, 3, ef_str ("compact"), T0, &compact), 0);
    for (uint64_t seq = 1; seq <= 4; seq++) {
        ef_uuid_t u;
        char id[EF_UUID_STRLEN + 1];
        ef_uuid_gen_v7 (&g, T0 + seq, &u);
        ef_uuid_format (&u, id);
        ef_event_t e = {0};
        e.event_id = (ef_str_t){id, EF_UUID_STRLEN};
        e.type = ef_str ("order.created");
        e.version = (uint32_t)seq;
        e.received_at = T0 + 100 * seq;
        e.occurred_at = seq == 3 ? e.received_at : T0;
        e.source = ef_str (seq == 2 ? "route" : "native");
        e.payload = ef_str ("{\"n\":[1,2,3]}");
        if (seq % 2 == 0) {
            e.api_key_id = ef_str ("key-7");
            e.trace_id = ef_str ("4bf92f3577b34da6a3ce929d0e0e4736");
            e.correlation_id = ef_str ("order-42");
            e.request_id = ef_str ("req-9");
        }
        ef_buf_reset (&rec);
        ef_proto_write_event_record (&rec, &e);
        assert_int_equal (
            ef_store_event_append (w, pairs.num, seq, &u, rec.data, rec.len),
            0);
        ef_buf_reset (&rec);
        ef_record_write (&rec, &e, &u);
        assert_int_equal (
            ef_store_event_append (w, compact.num, seq, &u, rec.data, rec.len),
            0);
    }
    assert_int_equal (ef_store_write_commit (&w), 0);
    ef_buf_free (&rec);
    assert_int_equal (ef_store_reader_begin (fx->r), 0);

    ef_buf_t a, b;
    ef_buf_init (&a);
    ef_buf_init (&b);
    uint64_t last;
    for (int slim = 0; slim <= 1; slim++) {
        ef_buf_reset (&a);
        ef_buf_reset (&b);
        assert_int_equal (ef_query_write_range (&a, fx->r, pairs.num,
                                                slim ? NULL : "s", 1, 4, &last),
                          0);
        assert_int_equal (ef_query_write_range (&b, fx->r, compact.num,
                                                slim ? NULL : "s", 1, 4, &last),
                          0);
        assert_int_equal (last, 4);
        assert_int_equal (a.len, b.len);
        assert_memory_equal (a.data, b.data, a.len);
    }
    for (uint64_t seq = 1; seq <= 4; seq++) {
        ef_str_t ra, rb;
        ef_buf_reset (&a);
        ef_buf_reset (&b);
        assert_int_equal (ef_store_event_get (fx->r, pairs.num, seq, &ra), 0);
        assert_int_equal (ef_store_event_get (fx->r, compact.num, seq, &rb), 0);
        assert_true (rb.len < ra.len);
        ef_query_write_event (&a, fx->r, pairs.num, "s", seq, ra);
        ef_query_write_event (&b, fx->r, compact.num, "s", seq, rb);
        assert_int_equal (a.len, b.len);
        assert_memory_equal (a.data, b.data, a.len);
    }
    ef_buf_free (&a);
    ef_buf_free (&b);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        T (test_read_pages_by_sequence_with_next_and_head),
        T (test_read_filters_and_moves_next_over_what_it_examined),
        T (test_no_query_shows_another_orgs_stream),
        T (test_get_event_finds_an_event_by_id),
        T (test_list_events_merges_an_orgs_streams_newest_first),
        T (test_get_stream_counts_its_events),
        T (test_search_pages_by_cursor_over_a_bounded_scan),
        T (test_every_listing_pages_by_cursor_within_the_scan_bound),
        T (test_search_never_matches_another_orgs_events),
        T (test_records_of_either_form_answer_the_same_bytes),
#undef T
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
