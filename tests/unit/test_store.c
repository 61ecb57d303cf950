/*  test_store.c: unit tests of ef_store, the LMDB store. Each test opens a
    store in its own mkdtemp directory under /tmp and removes it at the
    end. Streams (create, find, foreign orgs, name order), the append-only
    log (gap-free seq, bounds, look-ups by id, walks both ways), durability
    across a close and reopen, rollback, and a full map are covered.
    fsync is off except where a test says otherwise: what is checked is
    what a reader of the store sees, not the disk's flush. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "ef_store.h"
#include "u_store.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_uuid.h"

#define NOW 1700000000000ull

typedef u_store_t fx_t;

/*  A stream committed in its own transaction. */
static ef_stream_rec_t
s_stream (fx_t *fx, uint32_t org, const char *name)
{
    ef_stream_rec_t s;
    ef_store_txn_t *w = u_write_begin (fx->store);
    assert_int_equal (ef_store_stream_create (w, org, ef_str (name), NOW, &s),
                      0);
    u_write_commit (&w);
    return s;
}

/*  A distinct id per (stream, seq). */
static ef_uuid_t
s_id (uint32_t num, uint64_t seq)
{
    ef_uuid_t u;
    memset (&u, 0, sizeof u);
    for (int i = 0; i < 4; i++)
        u.b[i] = (uint8_t)(num >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        u.b[8 + i] = (uint8_t)(seq >> (56 - 8 * i));
    u.b[6] = 0x70;
    return u;
}

static int
s_append (ef_store_txn_t *w, uint32_t num, uint64_t seq)
{
    char rec[48];
    int n = snprintf (rec, sizeof rec, "record %u/%llu", num,
                      (unsigned long long)seq);
    ef_uuid_t id = s_id (num, seq);
    return ef_store_event_append (w, num, seq, &id, rec, (size_t)n);
}

/*  Append seqs from..to to stream num in one committed transaction. */
static void
s_append_range (fx_t *fx, uint32_t num, uint64_t from, uint64_t to)
{
    ef_store_txn_t *w = u_write_begin (fx->store);
    for (uint64_t seq = from; seq <= to; seq++) {
        int rc = s_append (w, num, seq);
        if (rc)
            fail_msg ("append %u/%llu: %s", num, (unsigned long long)seq,
                      ef_error_name (rc));
    }
    u_write_commit (&w);
}

static void
s_assert_record (ef_store_txn_t *t, uint32_t num, uint64_t seq)
{
    char want[48];
    ef_str_t rec;
    snprintf (want, sizeof want, "record %u/%llu", num,
              (unsigned long long)seq);
    assert_int_equal (ef_store_event_get (t, num, seq, &rec), 0);
    assert_true (ef_str_eq (rec, want));
}

static void
s_assert_bounds (ef_store_txn_t *t, uint32_t num, uint64_t first, uint64_t last)
{
    uint64_t f = 99, l = 99;
    assert_int_equal (ef_store_stream_bounds (t, num, &f, &l), 0);
    if (f != first || l != last)
        fail_msg ("stream %u bounds %llu..%llu, expected %llu..%llu", num,
                  (unsigned long long)f, (unsigned long long)l,
                  (unsigned long long)first, (unsigned long long)last);
}

/*  Collects the seqs an event walk visits (and checks their records). */
typedef struct {
    ef_store_txn_t *txn;
    uint32_t num;
    uint64_t seqs[64];
    size_t n;
    size_t stop_after; /* 0 = never */
} s_walk_t;

static int
s_collect (void *arg, uint64_t seq, ef_str_t record)
{
    s_walk_t *w = arg;
    char want[48];
    snprintf (want, sizeof want, "record %u/%llu", w->num,
              (unsigned long long)seq);
    assert_true (ef_str_eq (record, want));
    assert_true (w->n < 64);
    w->seqs[w->n++] = seq;
    return w->stop_after && w->n >= w->stop_after;
}

/*  Walk stream num and compare the seqs visited with want[0..nwant). */
static void
s_assert_walk (ef_store_txn_t *t, uint32_t num, uint64_t from, int dir,
               size_t stop_after, const uint64_t *want, size_t nwant)
{
    s_walk_t w = {.txn = t, .num = num, .stop_after = stop_after};
    assert_int_equal (ef_store_event_each (t, num, from, dir, s_collect, &w),
                      0);
    if (w.n != nwant)
        fail_msg ("walk of %u from %llu dir %d visited %zu, expected %zu", num,
                  (unsigned long long)from, dir, w.n, nwant);
    for (size_t i = 0; i < nwant; i++)
        assert_int_equal (w.seqs[i], want[i]);
}

/* ---------------------------------------------------------------- streams */

static void
test_create_stream_then_find_by_name_and_by_id (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 0, 0);
    ef_stream_rec_t s, found;
    ef_store_txn_t *w = u_write_begin (fx->store);
    assert_int_equal (ef_store_stream_create (w, 1, ef_str ("orders"), NOW, &s),
                      0);
    assert_true (s.num > 0);
    assert_int_equal (s.org, 1);
    assert_string_equal (s.name, "orders");
    assert_true (s.created_at == NOW);
    ef_uuid_t u;
    assert_int_equal (ef_uuid_parse (s.id, strlen (s.id), &u), 0);
    assert_true (ef_uuid_v7_ms (&u) == NOW);
    /* visible inside its own transaction */
    assert_int_equal (ef_store_stream_find (w, 1, ef_str ("orders"), &found),
                      0);
    assert_int_equal (found.num, s.num);
    u_write_commit (&w);

    ef_store_txn_t *r = u_reader (fx->store);
    memset (&found, 0, sizeof found);
    assert_int_equal (ef_store_stream_find (r, 1, ef_str ("orders"), &found),
                      0);
    assert_memory_equal (&found, &s, sizeof s);
    memset (&found, 0, sizeof found);
    assert_int_equal (ef_store_stream_find (r, 1, ef_str (s.id), &found), 0);
    assert_memory_equal (&found, &s, sizeof s);
    memset (&found, 0, sizeof found);
    assert_int_equal (ef_store_stream_get (r, s.num, &found), 0);
    assert_memory_equal (&found, &s, sizeof s);
    assert_int_equal (ef_store_stream_get (r, s.num + 1, &found), EF_ENOTFOUND);
    assert_int_equal (ef_store_stream_find (r, 1, ef_str ("order"), &found),
                      EF_ENOTFOUND);
    u_reader_done (&r);
}

static void
test_create_duplicate_name_is_exists_but_other_org_may_use_it (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 0, 0);
    ef_stream_rec_t a, b, c;
    ef_store_txn_t *w = u_write_begin (fx->store);
    assert_int_equal (ef_store_stream_create (w, 1, ef_str ("orders"), NOW, &a),
                      0);
    assert_int_equal (ef_store_stream_create (w, 1, ef_str ("orders"), NOW, &b),
                      EF_EEXISTS);
    u_write_commit (&w);
    w = u_write_begin (fx->store);
    assert_int_equal (ef_store_stream_create (w, 1, ef_str ("orders"), NOW, &b),
                      EF_EEXISTS);
    assert_int_equal (ef_store_stream_create (w, 2, ef_str ("orders"), NOW, &c),
                      0);
    u_write_commit (&w);
    assert_true (c.num != a.num);
    assert_string_not_equal (c.id, a.id);
    ef_store_txn_t *r = u_reader (fx->store);
    ef_stream_rec_t f;
    assert_int_equal (ef_store_stream_find (r, 2, ef_str ("orders"), &f), 0);
    assert_int_equal (f.num, c.num);
    assert_int_equal (ef_store_stream_find (r, 1, ef_str ("orders"), &f), 0);
    assert_int_equal (f.num, a.num);
    u_reader_done (&r);
}

static void
test_find_stream_of_another_org_is_not_found (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 0, 0);
    ef_stream_rec_t s = s_stream (fx, 1, "private"), f;
    ef_store_txn_t *r = u_reader (fx->store);
    assert_int_equal (ef_store_stream_find (r, 2, ef_str ("private"), &f),
                      EF_ENOTFOUND);
    assert_int_equal (ef_store_stream_find (r, 2, ef_str (s.id), &f),
                      EF_ENOTFOUND);
    assert_int_equal (ef_store_stream_find (r, 1, ef_str (s.id), &f), 0);
    u_reader_done (&r);
}

static void
test_create_stream_refuses_empty_and_overlong_names (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 0, 0);
    char name[130];
    memset (name, 'n', sizeof name);
    name[129] = 0;
    ef_stream_rec_t s;
    ef_store_txn_t *w = u_write_begin (fx->store);
    assert_int_equal (ef_store_stream_create (w, 1, ef_str (""), NOW, &s),
                      EF_EINVAL);
    assert_int_equal (ef_store_stream_create (w, 1, ef_str (name), NOW, &s),
                      EF_EINVAL);
    name[128] = 0;
    assert_int_equal (ef_store_stream_create (w, 1, ef_str (name), NOW, &s), 0);
    u_write_commit (&w);
    ef_store_txn_t *r = u_reader (fx->store);
    ef_stream_rec_t f;
    assert_int_equal (ef_store_stream_find (r, 1, ef_str (name), &f), 0);
    assert_string_equal (f.name, name);
    u_reader_done (&r);
}

typedef struct {
    char names[8][129];
    size_t n, stop_after;
} s_names_t;

static int
s_collect_name (void *arg, const ef_stream_rec_t *s)
{
    s_names_t *l = arg;
    assert_true (l->n < 8);
    strcpy (l->names[l->n++], s->name);
    return l->stop_after && l->n >= l->stop_after;
}

static void
test_stream_each_visits_the_org_streams_in_name_order (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 0, 0);
    s_stream (fx, 1, "zeta");
    s_stream (fx, 2, "beta");
    s_stream (fx, 1, "alpha");
    s_stream (fx, 1, "mid");
    s_stream (fx, 1, "alpha2");
    s_stream (fx, 0x100, "other");
    ef_store_txn_t *r = u_reader (fx->store);
    s_names_t l = {0};
    assert_int_equal (ef_store_stream_each (r, 1, s_collect_name, &l), 0);
    assert_int_equal (l.n, 4);
    assert_string_equal (l.names[0], "alpha");
    assert_string_equal (l.names[1], "alpha2");
    assert_string_equal (l.names[2], "mid");
    assert_string_equal (l.names[3], "zeta");
    memset (&l, 0, sizeof l);
    l.stop_after = 2;
    assert_int_equal (ef_store_stream_each (r, 1, s_collect_name, &l), 0);
    assert_int_equal (l.n, 2);
    memset (&l, 0, sizeof l);
    assert_int_equal (ef_store_stream_each (r, 2, s_collect_name, &l), 0);
    assert_int_equal (l.n, 1);
    assert_string_equal (l.names[0], "beta");
    memset (&l, 0, sizeof l);
    assert_int_equal (ef_store_stream_each (r, 3, s_collect_name, &l), 0);
    assert_int_equal (l.n, 0);
    u_reader_done (&r);
}

/* ---------------------------------------------------------------- events */

static void
test_append_seq_1_to_n_then_bounds_are_1_and_n (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 0, 0);
    ef_stream_rec_t s = s_stream (fx, 1, "log");
    ef_store_txn_t *r = u_reader (fx->store);
    s_assert_bounds (r, s.num, 0, 0); /* empty */
    u_reader_done (&r);

    ef_store_txn_t *w = u_write_begin (fx->store);
    for (uint64_t seq = 1; seq <= 100; seq++)
        assert_int_equal (s_append (w, s.num, seq), 0);
    s_assert_bounds (w, s.num, 1, 100); /* the writer sees its own appends */
    u_write_commit (&w);

    r = u_reader (fx->store);
    s_assert_bounds (r, s.num, 1, 100);
    for (uint64_t seq = 1; seq <= 100; seq++)
        s_assert_record (r, s.num, seq);
    ef_str_t rec;
    assert_int_equal (ef_store_event_get (r, s.num, 101, &rec), EF_ENOTFOUND);
    assert_int_equal (ef_store_event_get (r, s.num, 0, &rec), EF_ENOTFOUND);
    u_reader_done (&r);
}

static void
test_append_out_of_order_seq_is_invalid (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 0, 0);
    ef_stream_rec_t s = s_stream (fx, 1, "log");
    s_append_range (fx, s.num, 1, 3);
    ef_store_txn_t *w = u_write_begin (fx->store);
    assert_int_equal (s_append (w, s.num, 3), EF_EINVAL); /* again */
    assert_int_equal (s_append (w, s.num, 2), EF_EINVAL); /* behind */
    assert_int_equal (s_append (w, s.num, 1), EF_EINVAL);
    assert_int_equal (s_append (w, s.num, 4), 0); /* next is fine */
    u_write_commit (&w);
    ef_store_txn_t *r = u_reader (fx->store);
    s_assert_bounds (r, s.num, 1, 4);
    s_assert_record (r, s.num, 2); /* not overwritten */
    u_reader_done (&r);
}

static void
test_append_of_a_taken_seq_is_invalid (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 0, 0);
    ef_stream_rec_t s = s_stream (fx, 1, "log");
    s_append_range (fx, s.num, 1, 2);
    /* the single writer keeps the head; the store refuses to overwrite */
    ef_store_txn_t *w = u_write_begin (fx->store);
    assert_int_equal (s_append (w, s.num, 2), EF_EINVAL);
    assert_int_equal (s_append (w, s.num, 1), EF_EINVAL);
    ef_store_write_abort (&w);
    ef_store_txn_t *r = u_reader (fx->store);
    s_assert_bounds (r, s.num, 1, 2);
    u_reader_done (&r);
}

static void
test_append_to_older_stream_after_newer_stream_has_events (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 0, 0);
    ef_stream_rec_t a = s_stream (fx, 1, "a");
    ef_stream_rec_t b = s_stream (fx, 1, "b");
    assert_true (a.num < b.num);
    s_append_range (fx, b.num, 1, 1);
    /* publishing to a, the older stream, must still work */
    ef_store_txn_t *w = u_write_begin (fx->store);
    int rc = s_append (w, a.num, 1);
    if (rc) {
        ef_store_write_abort (&w);
        fail_msg ("append a/1 after b/1: %s, expected OK", ef_error_name (rc));
    }
    assert_int_equal (s_append (w, b.num, 2), 0); /* interleaved in one txn */
    assert_int_equal (s_append (w, a.num, 2), 0);
    u_write_commit (&w);
    ef_store_txn_t *r = u_reader (fx->store);
    s_assert_bounds (r, a.num, 1, 2);
    s_assert_bounds (r, b.num, 1, 2);
    u_reader_done (&r);
}

static void
test_event_find_in_and_event_find_locate_ids (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 0, 0);
    ef_stream_rec_t a = s_stream (fx, 1, "a");
    ef_stream_rec_t b = s_stream (fx, 1, "b");
    s_append_range (fx, a.num, 1, 3);
    /* b holds one id of its own and, at seq 2, the id of a's seq 2 */
    ef_store_txn_t *w = u_write_begin (fx->store);
    assert_int_equal (s_append (w, b.num, 1), 0);
    ef_uuid_t shared = s_id (a.num, 2);
    assert_int_equal (ef_store_event_append (w, b.num, 2, &shared, "x", 1), 0);
    u_write_commit (&w);

    ef_store_txn_t *r = u_reader (fx->store);
    uint64_t seq = 0;
    uint32_t num = 0;
    ef_uuid_t id = s_id (a.num, 3);
    assert_int_equal (ef_store_event_find_in (r, a.num, &id, &seq), 0);
    assert_int_equal (seq, 3);
    assert_int_equal (ef_store_event_find_in (r, b.num, &id, &seq),
                      EF_ENOTFOUND);
    assert_int_equal (ef_store_event_find_in (r, b.num, &shared, &seq), 0);
    assert_int_equal (seq, 2);
    assert_int_equal (ef_store_event_find_in (r, a.num, &shared, &seq), 0);
    assert_int_equal (seq, 2);

    /* without a stream: the first stream of the org by number that has it */
    assert_int_equal (ef_store_event_find (r, 1, &shared, &num, &seq), 0);
    assert_int_equal (num, a.num);
    assert_int_equal (seq, 2);
    id = s_id (b.num, 1);
    assert_int_equal (ef_store_event_find (r, 1, &id, &num, &seq), 0);
    assert_int_equal (num, b.num);
    assert_int_equal (seq, 1);
    id = s_id (99, 99);
    assert_int_equal (ef_store_event_find (r, 1, &id, &num, &seq),
                      EF_ENOTFOUND);
    assert_int_equal (ef_store_event_find_in (r, a.num, &id, &seq),
                      EF_ENOTFOUND);
    u_reader_done (&r);
}

/*  The same client-chosen id in two orgs is two events: a look-up by id
    finds the caller's, whichever org stored it first. */
static void
test_event_find_resolves_ids_in_the_callers_org (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 0, 0);
    ef_stream_rec_t other = s_stream (fx, 2, "theirs"); /* older, lower num */
    ef_stream_rec_t mine = s_stream (fx, 1, "mine");
    ef_uuid_t id = s_id (77, 7);
    ef_store_txn_t *w = u_write_begin (fx->store);
    assert_int_equal (ef_store_event_append (w, other.num, 1, &id, "x", 1), 0);
    assert_int_equal (s_append (w, mine.num, 1), 0);
    assert_int_equal (ef_store_event_append (w, mine.num, 2, &id, "y", 1), 0);
    u_write_commit (&w);

    ef_store_txn_t *r = u_reader (fx->store);
    uint32_t num = 0;
    uint64_t seq = 0;
    assert_int_equal (ef_store_event_find (r, 1, &id, &num, &seq), 0);
    assert_int_equal (num, mine.num);
    assert_int_equal (seq, 2);
    assert_int_equal (ef_store_event_find (r, 2, &id, &num, &seq), 0);
    assert_int_equal (num, other.num);
    assert_int_equal (seq, 1);
    assert_int_equal (ef_store_event_find (r, 3, &id, &num, &seq),
                      EF_ENOTFOUND);
    u_reader_done (&r);
}

static void
test_event_each_walks_ascending_and_descending (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 0, 0);
    ef_stream_rec_t a = s_stream (fx, 1, "a");
    ef_stream_rec_t b = s_stream (fx, 1, "b");
    ef_stream_rec_t c = s_stream (fx, 1, "c"); /* stays empty */
    s_append_range (fx, a.num, 1, 10);
    s_append_range (fx, b.num, 1, 5);
    ef_store_txn_t *r = u_reader (fx->store);

    static const uint64_t up[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    static const uint64_t down[] = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
    s_assert_walk (r, a.num, 0, 1, 0, up, 10);
    s_assert_walk (r, a.num, 1, 1, 0, up, 10);
    s_assert_walk (r, a.num, 4, 1, 0, up + 3, 7);
    s_assert_walk (r, a.num, 4, 1, 2, up + 3, 2); /* stopped by fn */
    s_assert_walk (r, a.num, 11, 1, 0, NULL, 0);
    s_assert_walk (r, a.num, UINT64_MAX, -1, 0, down, 10);
    s_assert_walk (r, a.num, 10, -1, 0, down, 10);
    s_assert_walk (r, a.num, 7, -1, 0, down + 3, 7); /* from included */
    s_assert_walk (r, a.num, 50, -1, 3, down, 3);
    s_assert_walk (r, a.num, 0, -1, 0, NULL, 0);
    /* the last stream in the table, and an empty one after it */
    s_assert_walk (r, b.num, UINT64_MAX, -1, 0, down + 5, 5);
    s_assert_walk (r, b.num, 0, 1, 0, up, 5);
    s_assert_walk (r, c.num, 0, 1, 0, NULL, 0);
    s_assert_walk (r, c.num, UINT64_MAX, -1, 0, NULL, 0);
    u_reader_done (&r);
}

static void
test_reader_keeps_its_snapshot_until_it_ends (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 0, 0);
    ef_stream_rec_t s = s_stream (fx, 1, "log");
    s_append_range (fx, s.num, 1, 2);
    ef_store_txn_t *r = u_reader (fx->store);
    s_assert_bounds (r, s.num, 1, 2);
    s_append_range (fx, s.num, 3, 5);
    s_assert_bounds (r, s.num, 1, 2); /* still the old snapshot */
    ef_store_reader_end (r);
    assert_int_equal (ef_store_reader_begin (r), 0);
    s_assert_bounds (r, s.num, 1, 5);
    u_reader_done (&r);
}

static void
test_second_write_begin_is_refused_while_one_is_open (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 0, 0);
    ef_store_txn_t *w = u_write_begin (fx->store), *w2 = NULL;
    assert_int_equal (ef_store_write_begin (fx->store, &w2), EF_EINTERNAL);
    assert_null (w2);
    ef_store_write_abort (&w);
    assert_null (w);
    ef_store_write_abort (&w); /* harmless on NULL */
    w = u_write_begin (fx->store);
    ef_store_write_abort (&w);
}

/* ---------------------------------------------------------------- lifetime */

static void
test_close_and_reopen_keeps_everything_and_order (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 0, 1); /* fsync on, as in production */
    ef_stream_rec_t a = s_stream (fx, 1, "alpha");
    ef_stream_rec_t b = s_stream (fx, 1, "beta");
    s_append_range (fx, a.num, 1, 30);
    s_append_range (fx, a.num, 31, 50);
    s_append_range (fx, b.num, 1, 3);

    u_store_open (fx, 0, 1); /* destroy, then open the same directory */
    ef_store_txn_t *r = u_reader (fx->store);
    ef_stream_rec_t f;
    assert_int_equal (ef_store_stream_find (r, 1, ef_str ("alpha"), &f), 0);
    assert_memory_equal (&f, &a, sizeof f);
    assert_int_equal (ef_store_stream_find (r, 1, ef_str (b.id), &f), 0);
    assert_memory_equal (&f, &b, sizeof f);
    s_assert_bounds (r, a.num, 1, 50);
    s_assert_bounds (r, b.num, 1, 3);
    uint64_t up[50];
    for (int i = 0; i < 50; i++)
        up[i] = (uint64_t)i + 1;
    s_assert_walk (r, a.num, 0, 1, 0, up, 50);
    s_assert_walk (r, b.num, 0, 1, 0, up, 3);
    uint64_t seq;
    ef_uuid_t id = s_id (a.num, 42);
    assert_int_equal (ef_store_event_find_in (r, a.num, &id, &seq), 0);
    assert_int_equal (seq, 42);
    u_reader_done (&r);

    /* and the log goes on where it stopped; new streams get new numbers */
    s_append_range (fx, b.num, 4, 4);
    ef_stream_rec_t c = s_stream (fx, 1, "gamma");
    assert_true (c.num != a.num && c.num != b.num);
    r = u_reader (fx->store);
    s_assert_bounds (r, b.num, 1, 4);
    u_reader_done (&r);
}

static void
test_abort_leaves_nothing (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 0, 0);
    ef_stream_rec_t s;
    ef_store_txn_t *w = u_write_begin (fx->store);
    assert_int_equal (ef_store_stream_create (w, 1, ef_str ("ghost"), NOW, &s),
                      0);
    assert_int_equal (s_append (w, s.num, 1), 0);
    assert_int_equal (s_append (w, s.num, 2), 0);
    ef_store_write_abort (&w);
    assert_null (w);

    ef_store_txn_t *r = u_reader (fx->store);
    ef_stream_rec_t f;
    uint64_t streams = 9, events = 9, bytes = 0, seq;
    uint32_t num;
    ef_uuid_t id = s_id (s.num, 1);
    assert_int_equal (ef_store_stream_find (r, 1, ef_str ("ghost"), &f),
                      EF_ENOTFOUND);
    assert_int_equal (ef_store_stream_find (r, 1, ef_str (s.id), &f),
                      EF_ENOTFOUND);
    assert_int_equal (ef_store_event_find (r, 1, &id, &num, &seq),
                      EF_ENOTFOUND);
    s_assert_bounds (r, s.num, 0, 0);
    assert_int_equal (ef_store_figures (r, 1, &streams, &events, &bytes), 0);
    assert_int_equal (streams, 0);
    assert_int_equal (events, 0);
    u_reader_done (&r);

    /* an aborted append to a committed stream leaves its log as it was */
    ef_stream_rec_t t = s_stream (fx, 1, "real");
    s_append_range (fx, t.num, 1, 2);
    w = u_write_begin (fx->store);
    assert_int_equal (s_append (w, t.num, 3), 0);
    ef_store_write_abort (&w);
    r = u_reader (fx->store);
    s_assert_bounds (r, t.num, 1, 2);
    id = s_id (t.num, 3);
    assert_int_equal (ef_store_event_find_in (r, t.num, &id, &seq),
                      EF_ENOTFOUND);
    u_reader_done (&r);
}

static void
test_full_map_reports_store_full_and_keeps_earlier_events (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 1u << 20, 0);
    assert_int_equal (ef_store_map_size (fx->store), 1u << 20);
    ef_stream_rec_t s = s_stream (fx, 1, "big");
    char rec[1024];
    uint64_t committed = 0;
    int rc = 0;
    for (uint64_t seq = 1; seq <= 100000 && rc == 0; seq++) {
        ef_store_txn_t *w = u_write_begin (fx->store);
        ef_uuid_t id = s_id (s.num, seq);
        memset (rec, (int)(seq & 0xff), sizeof rec);
        memcpy (rec, &seq, sizeof seq);
        rc = ef_store_event_append (w, s.num, seq, &id, rec, sizeof rec);
        if (rc) {
            ef_store_write_abort (&w);
            break;
        }
        rc = ef_store_write_commit (&w);
        assert_null (w);
        if (rc == 0)
            committed = seq;
    }
    assert_int_equal (rc, EF_ESTORE_FULL);
    assert_true (committed > 10);
    assert_int_equal (ef_store_broken (fx->store), 0);

    /* everything committed before is intact and readable */
    ef_store_txn_t *r = u_reader (fx->store);
    s_assert_bounds (r, s.num, 1, committed);
    for (uint64_t seq = 1; seq <= committed; seq++) {
        ef_str_t got;
        uint64_t head;
        assert_int_equal (ef_store_event_get (r, s.num, seq, &got), 0);
        assert_int_equal (got.len, sizeof rec);
        memcpy (&head, got.ptr, sizeof head);
        assert_true (head == seq);
        assert_int_equal ((uint8_t)got.ptr[sizeof rec - 1], seq & 0xff);
    }
    uint64_t streams, events, bytes;
    assert_int_equal (ef_store_figures (r, 1, &streams, &events, &bytes), 0);
    assert_int_equal (streams, 1);
    assert_true (events == committed);
    assert_true (bytes <= (1u << 20));
    u_reader_done (&r);

    /* the writer is usable again: a failed write left no open txn behind */
    ef_store_txn_t *w = u_write_begin (fx->store);
    ef_store_write_abort (&w);
}

static void
test_figures_count_streams_and_events (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 0, 0);
    ef_stream_rec_t a = s_stream (fx, 1, "a");
    s_stream (fx, 2, "b"); /* another org, empty */
    ef_stream_rec_t c = s_stream (fx, 1, "c");
    ef_store_txn_t *r = u_reader (fx->store);
    uint64_t streams = 0, events = 9, bytes = 0;
    /* an org's figures: its own streams only */
    assert_int_equal (ef_store_figures (r, 1, &streams, &events, &bytes), 0);
    assert_int_equal (streams, 2);
    assert_int_equal (events, 0);
    assert_int_equal (ef_store_figures (r, 2, &streams, &events, &bytes), 0);
    assert_int_equal (streams, 1);
    u_reader_done (&r);

    s_append_range (fx, a.num, 1, 5);
    s_append_range (fx, c.num, 1, 7);
    r = u_reader (fx->store);
    uint64_t before = bytes;
    assert_int_equal (ef_store_figures (r, 1, &streams, &events, &bytes), 0);
    assert_int_equal (streams, 2);
    assert_int_equal (events, 12);
    assert_true (bytes > 0);
    assert_true (bytes >= before);
    assert_true (bytes <= ef_store_map_size (fx->store));
    u_reader_done (&r);
}

static uint64_t
s_org_bytes (fx_t *fx, uint32_t org)
{
    uint64_t n = 0;
    ef_store_txn_t *r = u_reader (fx->store);
    assert_int_equal (ef_store_org_bytes (r, org, &n), 0);
    u_reader_done (&r);
    return n;
}

/*  The bytes of records from..to of stream num, as s_append makes them. */
static uint64_t
s_record_bytes (uint32_t num, uint64_t from, uint64_t to)
{
    uint64_t n = 0;
    char rec[48];
    for (uint64_t seq = from; seq <= to; seq++)
        n += (uint64_t)snprintf (rec, sizeof rec, "record %u/%llu", num,
                                 (unsigned long long)seq);
    return n;
}

static int
s_record_id (ef_str_t record, ef_uuid_t *id)
{
    (void)record;
    memset (id, 0, sizeof *id);
    return EF_EINVAL; /* the ids stay: not what this test looks at */
}

static void
test_org_bytes_count_each_orgs_records_and_survive_a_reopen (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 0, 0);
    ef_stream_rec_t a1 = s_stream (fx, 1, "a1"), a2 = s_stream (fx, 1, "a2");
    ef_stream_rec_t b = s_stream (fx, 2, "b");
    s_append_range (fx, a1.num, 1, 20);
    s_append_range (fx, a2.num, 1, 5);
    s_append_range (fx, b.num, 1, 7);
    uint64_t want_a =
        s_record_bytes (a1.num, 1, 20) + s_record_bytes (a2.num, 1, 5);
    assert_int_equal (s_org_bytes (fx, 1), want_a);
    assert_int_equal (s_org_bytes (fx, 2), s_record_bytes (b.num, 1, 7));
    /* the writer sees its own appends; an abort takes them back */
    ef_store_txn_t *w = u_write_begin (fx->store);
    assert_int_equal (s_append (w, a1.num, 21), 0);
    uint64_t n;
    assert_int_equal (ef_store_org_bytes (w, 1, &n), 0);
    assert_int_equal (n, want_a + s_record_bytes (a1.num, 21, 21));
    ef_store_write_abort (&w);
    assert_int_equal (s_org_bytes (fx, 1), want_a);
    /* a deleted stream gives its bytes back */
    w = u_write_begin (fx->store);
    assert_int_equal (ef_store_stream_delete (w, a2.num, s_record_id), 0);
    u_write_commit (&w);
    want_a -= s_record_bytes (a2.num, 1, 5);
    assert_int_equal (s_org_bytes (fx, 1), want_a);
    ef_store_destroy (&fx->store);
    u_store_open (fx, 0, 0);
    assert_int_equal (s_org_bytes (fx, 1), want_a);
    assert_int_equal (s_org_bytes (fx, 2), s_record_bytes (b.num, 1, 7));
}

/*  A data dir from before streams' stored bytes were kept (the ledger's
    stream keys, their marker and the store format removed behind the
    store's back): the first open (its upgrade) counts them once from the
    records. */
static void
test_stream_bytes_are_counted_once_on_a_store_from_before (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 0, 0);
    ef_stream_rec_t a = s_stream (fx, 1, "a"), b = s_stream (fx, 2, "b");
    s_append_range (fx, a.num, 1, 12);
    s_append_range (fx, b.num, 1, 3);
    ef_store_destroy (&fx->store);

    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta;
    assert_int_equal (mdb_env_create (&env), 0);
    assert_int_equal (mdb_env_set_maxdbs (env, 64), 0);
    assert_int_equal (mdb_env_set_mapsize (env, 1u << 26), 0);
    assert_int_equal (mdb_env_open (env, fx->dir, 0, 0600), 0);
    assert_int_equal (mdb_txn_begin (env, NULL, 0, &txn), 0);
    assert_int_equal (mdb_dbi_open (txn, "meta", 0, &meta), 0);
    MDB_val k = {18, "stream_bytes_kept"};
    assert_int_equal (mdb_del (txn, meta, &k, NULL), 0);
    k = (MDB_val){6, "format"}; /* and from before store formats */
    assert_int_equal (mdb_del (txn, meta, &k, NULL), 0);
    uint32_t nums[2] = {a.num, b.num};
    for (int i = 0; i < 2; i++) {
        uint8_t key[16] = "stream_bytes";
        key[12] = (uint8_t)(nums[i] >> 24), key[13] = (uint8_t)(nums[i] >> 16);
        key[14] = (uint8_t)(nums[i] >> 8), key[15] = (uint8_t)nums[i];
        k = (MDB_val){16, key};
        assert_int_equal (mdb_del (txn, meta, &k, NULL), 0);
    }
    assert_int_equal (mdb_txn_commit (txn), 0);
    mdb_env_close (env);

    u_store_open (fx, 0, 0);
    ef_store_txn_t *r = u_reader (fx->store);
    uint64_t n;
    assert_int_equal (ef_store_stream_bytes (r, a.num, &n), 0);
    assert_int_equal (n, s_record_bytes (a.num, 1, 12));
    assert_int_equal (ef_store_stream_bytes (r, b.num, &n), 0);
    assert_int_equal (n, s_record_bytes (b.num, 1, 3));
    u_reader_done (&r);
    /* and only once: the orgs' bytes were not counted twice */
    assert_int_equal (s_org_bytes (fx, 1), s_record_bytes (a.num, 1, 12));
    ef_store_destroy (&fx->store);
    u_store_open (fx, 0, 0);
    assert_int_equal (s_org_bytes (fx, 2), s_record_bytes (b.num, 1, 3));
}

#define T(f)                                                                   \
    cmocka_unit_test_setup_teardown (f, u_store_setup, u_store_teardown)

int
main (void)
{
    const struct CMUnitTest tests[] = {
        T (test_create_stream_then_find_by_name_and_by_id),
        T (test_create_duplicate_name_is_exists_but_other_org_may_use_it),
        T (test_find_stream_of_another_org_is_not_found),
        T (test_event_find_resolves_ids_in_the_callers_org),
        T (test_create_stream_refuses_empty_and_overlong_names),
        T (test_stream_each_visits_the_org_streams_in_name_order),
        T (test_append_seq_1_to_n_then_bounds_are_1_and_n),
        T (test_append_out_of_order_seq_is_invalid),
        T (test_append_of_a_taken_seq_is_invalid),
        T (test_append_to_older_stream_after_newer_stream_has_events),
        T (test_event_find_in_and_event_find_locate_ids),
        T (test_event_each_walks_ascending_and_descending),
        T (test_reader_keeps_its_snapshot_until_it_ends),
        T (test_second_write_begin_is_refused_while_one_is_open),
        T (test_close_and_reopen_keeps_everything_and_order),
        T (test_abort_leaves_nothing),
        T (test_full_map_reports_store_full_and_keeps_earlier_events),
        T (test_figures_count_streams_and_events),
        T (test_org_bytes_count_each_orgs_records_and_survive_a_reopen),
        T (test_stream_bytes_are_counted_once_on_a_store_from_before),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
