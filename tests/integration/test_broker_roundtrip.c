/*  The broker's commands end to end through libeventflow: streams, publish
    and read back, idempotency, get by id, listing with filters and pages,
    and the errors a user meets. */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

typedef struct {
    char dir[256];
    h_broker_t broker;
    ef_client_t *c;
} fixture_t;

static int
setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    if (h_tempdir (f->dir) || h_broker_start (&f->broker, f->dir, NULL))
        return -1;
    f->c = h_client (&f->broker);
    if (!f->c)
        return -1;
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *f = *state;
    ef_client_destroy (&f->c);
    h_broker_stop (&f->broker);
    h_rmrf (f->dir);
    free (f);
    return 0;
}

static ef_event_in_t
s_ev (const char *type, const char *payload)
{
    ef_event_in_t e = {0};
    e.type = ef_str (type);
    e.payload = ef_str (payload);
    return e;
}

typedef struct {
    int n;
    uint64_t seqs[256];
    char types[256][32];
    char payloads[256][64];
    char ids[256][40];
} collect_t;

static int
s_collect (void *arg, const ef_event_t *ev)
{
    collect_t *c = arg;
    if (c->n >= 256)
        return 1;
    c->seqs[c->n] = ev->seq;
    snprintf (c->types[c->n], 32, "%.*s", (int)ev->type.len, ev->type.ptr);
    snprintf (c->payloads[c->n], 64, "%.*s", (int)ev->payload.len,
              ev->payload.ptr);
    snprintf (c->ids[c->n], 40, "%.*s", (int)ev->event_id.len,
              ev->event_id.ptr);
    c->n++;
    return 0;
}

static void
test_create_stream_then_get_and_list (void **state)
{
    fixture_t *f = *state;
    ef_stream_info_t s;
    assert_int_equal (ef_client_create_stream (f->c, "orders", &s), 0);
    assert_int_equal (s.name.len, 6);
    char id[40];
    snprintf (id, sizeof id, "%.*s", (int)s.id.len, s.id.ptr);
    assert_int_equal (strlen (id), 36);
    assert_int_equal (ef_client_get_stream (f->c, "orders", &s), 0);
    assert_int_equal (s.events, 0);
    /* by id too */
    assert_int_equal (ef_client_get_stream (f->c, id, &s), 0);
    assert_true (ef_str_eq (s.name, "orders"));
}

static void
test_create_stream_rejects_taken_and_invalid_names (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (ef_client_create_stream (f->c, "dup", NULL), 0);
    assert_int_equal (ef_client_create_stream (f->c, "dup", NULL), EF_EEXISTS);
    assert_int_equal (ef_client_create_stream (f->c, "bad name", NULL),
                      EF_EINVAL);
    assert_int_equal (ef_client_create_stream (f->c, "", NULL), EF_EINVAL);
    char longname[200];
    memset (longname, 'a', 129);
    longname[129] = 0;
    assert_int_equal (ef_client_create_stream (f->c, longname, NULL),
                      EF_EINVAL);
    longname[128] = 0;
    assert_int_equal (ef_client_create_stream (f->c, longname, NULL), 0);
}

static void
test_publish_then_read_back_in_order (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (ef_client_create_stream (f->c, "s", NULL), 0);
    ef_event_in_t evs[3] = {s_ev ("a", "{\"n\":1}"), s_ev ("b", "[1,2,3]"),
                            s_ev ("c", "\"text\"")};
    ef_publish_result_t res[3];
    assert_int_equal (ef_client_publish (f->c, "s", evs, 3, res), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal (res[i].code, 0);
        assert_int_equal (res[i].seq, (uint64_t)i + 1);
        assert_false (res[i].duplicate);
        assert_int_equal (res[i].event_id.len, 36);
        assert_true (res[i].received_at > 0);
    }
    collect_t got = {0};
    uint64_t next, head;
    assert_int_equal (
        ef_client_read (f->c, "s", 0, 100, s_collect, &got, &next, &head), 0);
    assert_int_equal (got.n, 3);
    assert_int_equal (next, 3);
    assert_int_equal (head, 3);
    assert_string_equal (got.types[0], "a");
    assert_string_equal (got.payloads[1], "[1,2,3]");
    assert_string_equal (got.payloads[2], "\"text\"");
    /* after an offset, with a limit */
    memset (&got, 0, sizeof got);
    assert_int_equal (
        ef_client_read (f->c, "s", 1, 1, s_collect, &got, &next, &head), 0);
    assert_int_equal (got.n, 1);
    assert_int_equal (got.seqs[0], 2);
    assert_int_equal (next, 2);
    /* past the end: empty, next stays */
    memset (&got, 0, sizeof got);
    assert_int_equal (
        ef_client_read (f->c, "s", 3, 10, s_collect, &got, &next, &head), 0);
    assert_int_equal (got.n, 0);
    assert_int_equal (next, 3);
}

typedef struct {
    uint64_t n, last, stop_at;
    int in_order;
} s_seqs_t;

static int
s_seq (void *arg, const ef_event_t *ev)
{
    s_seqs_t *s = arg;
    /* slim pages on the wire, whole events here */
    s->in_order &= ev->seq == s->last + 1 && ev->stream_id.len == 36 &&
                   ef_str_eq (ev->status, "PROCESSED") &&
                   ev->processed_at == ev->received_at && ev->received_at;
    s->last = ev->seq;
    return ++s->n == s->stop_at;
}

/*  A READ of more than a thousand goes as several on the wire: the
    reader sees one page all the same, and a reader that stops is where
    it stopped. */
static void
test_a_large_read_is_one_page_in_order (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (ef_client_create_stream (f->c, "big", NULL), 0);
    static ef_event_in_t evs[500];
    static ef_publish_result_t res[500];
    for (int i = 0; i < 500; i++)
        evs[i] = s_ev ("t", "1");
    for (int b = 0; b < 7; b++) /* 3500 events */
        assert_int_equal (ef_client_publish (f->c, "big", evs, 500, res), 0);
    s_seqs_t s = {0, 0, 0, 1};
    uint64_t next, head;
    assert_int_equal (
        ef_client_read (f->c, "big", 0, 3200, s_seq, &s, &next, &head), 0);
    assert_int_equal (s.n, 3200);
    assert_true (s.in_order);
    assert_int_equal (next, 3200);
    assert_int_equal (head, 3500);
    s = (s_seqs_t){0, 3200, 0, 1};
    assert_int_equal (
        ef_client_read (f->c, "big", 3200, 10000, s_seq, &s, &next, &head), 0);
    assert_int_equal (s.n, 300);
    assert_true (s.in_order);
    assert_int_equal (next, 3500);
    /* the reader stops in the third thousand */
    s = (s_seqs_t){0, 10, 2500, 1};
    assert_int_equal (
        ef_client_read (f->c, "big", 10, 5000, s_seq, &s, &next, &head), 0);
    assert_int_equal (s.n, 2500);
    assert_true (s.in_order);
    assert_int_equal (next, 2510);
    /* and the client goes on answering in order after parts it left */
    s = (s_seqs_t){0, 0, 0, 1};
    assert_int_equal (
        ef_client_read (f->c, "big", 0, 5, s_seq, &s, &next, &head), 0);
    assert_int_equal (s.n, 5);
    assert_int_equal (next, 5);
}

static void
test_event_fields_are_enriched_and_kept (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (ef_client_create_stream (f->c, "meta", NULL), 0);
    ef_event_in_t e = s_ev ("user.signup", "{\"u\":\"ann\"}");
    e.version = 3;
    e.occurred_at = 1700000000123ull;
    e.source = ef_str ("web");
    e.trace_id = ef_str ("4bf92f3577b34da6a3ce929d0e0e4736");
    e.correlation_id = ef_str ("corr-1");
    ef_publish_result_t r;
    assert_int_equal (ef_client_publish (f->c, "meta", &e, 1, &r), 0);
    char id[40];
    snprintf (id, sizeof id, "%.*s", (int)r.event_id.len, r.event_id.ptr);
    ef_event_t ev;
    assert_int_equal (ef_client_get_event (f->c, id, NULL, &ev), 0);
    assert_true (ef_str_eq (ev.type, "user.signup"));
    assert_int_equal (ev.version, 3);
    assert_int_equal (ev.occurred_at, 1700000000123ull);
    assert_true (ev.received_at >= ev.occurred_at);
    assert_true (ef_str_eq (ev.source, "web"));
    assert_true (ef_str_eq (ev.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736"));
    assert_true (ef_str_eq (ev.correlation_id, "corr-1"));
    assert_true (ef_str_eq (ev.status, "PROCESSED"));
    assert_int_equal (ev.seq, 1);

    /* defaults: version 1, occurred_at = received_at, source native */
    e = s_ev ("t", "1");
    assert_int_equal (ef_client_publish (f->c, "meta", &e, 1, &r), 0);
    snprintf (id, sizeof id, "%.*s", (int)r.event_id.len, r.event_id.ptr);
    assert_int_equal (ef_client_get_event (f->c, id, "meta", &ev), 0);
    assert_int_equal (ev.version, 1);
    assert_int_equal (ev.occurred_at, ev.received_at);
    assert_true (ef_str_eq (ev.source, "native"));
    assert_int_equal (id[14], '7'); /* a generated id is a UUIDv7 */
}

static void
test_duplicate_event_id_is_stored_once (void **state)
{
    fixture_t *f = *state;
    const char *id = "6f1c1c3e-8a41-4c5e-9b7d-2f0e5d6c7b8a";
    assert_int_equal (ef_client_create_stream (f->c, "idem", NULL), 0);
    ef_event_in_t e = s_ev ("t", "{\"v\":1}");
    e.event_id = ef_str (id);
    ef_publish_result_t r1, r2;
    assert_int_equal (ef_client_publish (f->c, "idem", &e, 1, &r1), 0);
    assert_false (r1.duplicate);
    e.payload = ef_str ("{\"v\":2}");
    assert_int_equal (ef_client_publish (f->c, "idem", &e, 1, &r2), 0);
    assert_true (r2.duplicate);
    assert_int_equal (r2.seq, r1.seq);
    assert_int_equal (r2.received_at, r1.received_at);
    assert_true (ef_str_eq (r2.event_id, id));
    /* a duplicate inside one batch too */
    ef_event_in_t batch[2] = {e, e};
    ef_publish_result_t rb[2];
    batch[0].event_id = ef_str ("11111111-2222-4333-8444-555555555555");
    batch[1].event_id = batch[0].event_id;
    assert_int_equal (ef_client_publish (f->c, "idem", batch, 2, rb), 0);
    assert_false (rb[0].duplicate);
    assert_true (rb[1].duplicate);
    assert_int_equal (rb[0].seq, rb[1].seq);
    ef_stream_info_t s;
    assert_int_equal (ef_client_get_stream (f->c, "idem", &s), 0);
    assert_int_equal (s.events, 2);
    ef_event_t ev;
    assert_int_equal (ef_client_get_event (f->c, id, NULL, &ev), 0);
    assert_true (ef_str_eq (ev.payload, "{\"v\":1}"));
}

static void
test_batch_with_invalid_items_stores_only_valid_ones (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (ef_client_create_stream (f->c, "mixed", NULL), 0);
    ef_event_in_t evs[4] = {s_ev ("ok", "{}"), s_ev ("bad", "{nope"),
                            s_ev ("", "{}"), s_ev ("ok2", "null")};
    ef_publish_result_t res[4];
    assert_int_equal (ef_client_publish (f->c, "mixed", evs, 4, res), 0);
    assert_int_equal (res[0].code, 0);
    assert_int_equal (res[1].code, EF_EINVAL);
    assert_int_equal (res[1].index, 1);
    assert_true (res[1].message.len > 0);
    assert_int_equal (res[2].code, EF_EINVAL);
    assert_int_equal (res[3].code, 0);
    assert_int_equal (res[3].seq, 2); /* no gap for the refused items */
    ef_stream_info_t s;
    assert_int_equal (ef_client_get_stream (f->c, "mixed", &s), 0);
    assert_int_equal (s.events, 2);
}

static void
test_unknown_stream_and_event_answer_not_found (void **state)
{
    fixture_t *f = *state;
    ef_event_in_t e = s_ev ("t", "{}");
    ef_publish_result_t r;
    assert_int_equal (ef_client_publish (f->c, "nope", &e, 1, &r),
                      EF_ENOTFOUND);
    ef_stream_info_t s;
    assert_int_equal (ef_client_get_stream (f->c, "nope", &s), EF_ENOTFOUND);
    ef_event_t ev;
    assert_int_equal (
        ef_client_get_event (f->c, "01900000-0000-7000-8000-000000000000", NULL,
                             &ev),
        EF_ENOTFOUND);
    assert_int_equal (ef_client_get_event (f->c, "not-a-uuid", NULL, &ev),
                      EF_EINVAL);
    assert_int_equal (
        ef_client_read (f->c, "nope", 0, 10, NULL, NULL, NULL, NULL),
        EF_ENOTFOUND);
}

static void
test_list_events_filters_and_pages_newest_first (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (ef_client_create_stream (f->c, "la", NULL), 0);
    assert_int_equal (ef_client_create_stream (f->c, "lb", NULL), 0);
    ef_publish_result_t r;
    for (int i = 0; i < 5; i++) {
        ef_event_in_t e = s_ev (i % 2 ? "odd" : "even", "{}");
        e.source = ef_str (i < 3 ? "early" : "late");
        assert_int_equal (ef_client_publish (f->c, "la", &e, 1, &r), 0);
        e = s_ev ("other", "{}");
        assert_int_equal (ef_client_publish (f->c, "lb", &e, 1, &r), 0);
    }
    ef_request_t q = {0};
    collect_t got = {0};
    int more;
    q.stream = ef_str ("la");
    assert_int_equal (ef_client_list_events (f->c, &q, s_collect, &got, &more),
                      0);
    assert_int_equal (got.n, 5);
    assert_false (more);
    assert_int_equal (got.seqs[0], 5); /* newest first */
    assert_int_equal (got.seqs[4], 1);

    memset (&got, 0, sizeof got);
    q.type = ef_str ("odd");
    assert_int_equal (ef_client_list_events (f->c, &q, s_collect, &got, &more),
                      0);
    assert_int_equal (got.n, 2);
    assert_int_equal (got.seqs[0], 4);
    assert_int_equal (got.seqs[1], 2);

    memset (&got, 0, sizeof got);
    q.type = EF_STR_NULL;
    q.source = ef_str ("late");
    assert_int_equal (ef_client_list_events (f->c, &q, s_collect, &got, &more),
                      0);
    assert_int_equal (got.n, 2);

    /* paging */
    memset (&got, 0, sizeof got);
    q.source = EF_STR_NULL;
    q.limit = 2;
    q.page = 2;
    assert_int_equal (ef_client_list_events (f->c, &q, s_collect, &got, &more),
                      0);
    assert_int_equal (got.n, 2);
    assert_int_equal (got.seqs[0], 3);
    assert_true (more);
    q.page = 3;
    memset (&got, 0, sizeof got);
    assert_int_equal (ef_client_list_events (f->c, &q, s_collect, &got, &more),
                      0);
    assert_int_equal (got.n, 1);
    assert_false (more);

    /* all streams merged */
    memset (&q, 0, sizeof q);
    memset (&got, 0, sizeof got);
    q.limit = 100;
    assert_int_equal (ef_client_list_events (f->c, &q, s_collect, &got, &more),
                      0);
    assert_int_equal (got.n, 10);

    /* a time window that holds nothing */
    memset (&got, 0, sizeof got);
    q.has_to = 1;
    q.to = 1000;
    assert_int_equal (ef_client_list_events (f->c, &q, s_collect, &got, &more),
                      0);
    assert_int_equal (got.n, 0);
}

static void
test_stats_count_streams_and_events (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (ef_client_create_stream (f->c, "st", NULL), 0);
    ef_event_in_t e = s_ev ("t", "{}");
    ef_publish_result_t r;
    assert_int_equal (ef_client_publish (f->c, "st", &e, 1, &r), 0);
    assert_int_equal (ef_client_publish (f->c, "st", &e, 1, &r), 0);
    ef_stats_t st;
    assert_int_equal (ef_client_stats (f->c, &st), 0);
    assert_int_equal (st.streams, 2); /* and the org's "default" */
    assert_int_equal (st.events, 2);
    assert_int_equal (st.published, 2);
    assert_true (st.store_bytes > 0);
    assert_true (st.commits >= 2);
    assert_int_equal (ef_client_ping (f->c), 0);
    const ef_hello_t *h = ef_client_hello (f->c);
    assert_int_equal (h->protocol, 1);
    assert_int_equal (h->max_batch, 1000);
}

static void
test_events_survive_a_clean_restart (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (ef_client_create_stream (f->c, "keep", NULL), 0);
    ef_event_in_t e = s_ev ("t", "{\"k\":1}");
    ef_publish_result_t r;
    assert_int_equal (ef_client_publish (f->c, "keep", &e, 1, &r), 0);
    ef_client_destroy (&f->c);
    assert_int_equal (h_broker_stop (&f->broker), 0);
    assert_int_equal (h_broker_start (&f->broker, f->dir, NULL), 0);
    f->c = h_client (&f->broker);
    assert_non_null (f->c);
    assert_int_equal (ef_client_publish (f->c, "keep", &e, 1, &r), 0);
    assert_int_equal (r.seq, 2);
    collect_t got = {0};
    assert_int_equal (
        ef_client_read (f->c, "keep", 0, 10, s_collect, &got, NULL, NULL), 0);
    assert_int_equal (got.n, 2);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_create_stream_then_get_and_list,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (
            test_create_stream_rejects_taken_and_invalid_names, setup,
            teardown),
        cmocka_unit_test_setup_teardown (test_a_large_read_is_one_page_in_order,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_publish_then_read_back_in_order,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (
            test_event_fields_are_enriched_and_kept, setup, teardown),
        cmocka_unit_test_setup_teardown (test_duplicate_event_id_is_stored_once,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (
            test_batch_with_invalid_items_stores_only_valid_ones, setup,
            teardown),
        cmocka_unit_test_setup_teardown (
            test_unknown_stream_and_event_answer_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown (
            test_list_events_filters_and_pages_newest_first, setup, teardown),
        cmocka_unit_test_setup_teardown (test_stats_count_streams_and_events,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_events_survive_a_clean_restart,
                                         setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
