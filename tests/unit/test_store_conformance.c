/*  test_store_conformance.c: the suite every ef_store.h backend must
    pass. It uses the interface only (no key layout, no backend type):
    append batches and idempotency look-ups, range reads, get by id within
    an org, the single writer and snapshots, group offsets and leases, the
    job schedule, processing states, the DLQ, principals, orgs' stored
    bytes, retention, a full store with nothing half-written, and a reopen
    that keeps everything. A backend plugs in with one row of s_backends:
    its name and a function that opens (or reopens) a store over a
    scratch directory. Each test runs once per backend, on its own
    directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ef_store.h"
#include "u_store.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_uuid.h"

#define NOW 1700000000000ull

/* ---------------------------------------------------------------- backends */

/*  Open a store over dir with at most max_bytes (0: the backend's
    default), no fsync. NULL when it cannot (why says what failed). */
typedef ef_store_t *(s_open_fn)(const char *dir, uint64_t max_bytes,
                                const char **why);

typedef struct {
    const char *name;
    s_open_fn *open;
    /* 1 if max_bytes is honoured (the full-store test needs it) */
    int bounded;
} s_backend_t;

static ef_store_t *
s_open_lmdb (const char *dir, uint64_t max_bytes, const char **why)
{
    ef_store_t *s = ef_store_new (dir);
    if (!s)
        return NULL;
    if (max_bytes)
        ef_store_set_map_size (s, max_bytes);
    ef_store_set_sync (s, 0);
    if (ef_store_open (s, why))
        ef_store_destroy (&s);
    return s;
}

static const s_backend_t s_backends[] = {
    {"lmdb", s_open_lmdb, 1},
};

/* ---------------------------------------------------------------- fixture */

typedef struct {
    const s_backend_t *be;
    char dir[64];
    ef_store_t *store;
} fx_t;

static void
s_open (fx_t *fx, uint64_t max_bytes)
{
    const char *why = "?";
    ef_store_destroy (&fx->store);
    fx->store = fx->be->open (fx->dir, max_bytes, &why);
    if (!fx->store)
        fail_msg ("%s: open %s: %s", fx->be->name, fx->dir, why);
}

static int
s_setup (void **state)
{
    fx_t *fx = calloc (1, sizeof *fx);
    if (!fx)
        return -1;
    fx->be = *state; /* the prestate: the backend */
    if (u_tmpdir (fx->dir, "conformance")) {
        free (fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *fx = *state;
    ef_store_destroy (&fx->store);
    u_rmrf (fx->dir);
    free (fx);
    return 0;
}

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

/*  A test record: the event's id, the time it was received, a filler. The
    store does not parse records; the callbacks below do, for it. */
typedef struct {
    ef_uuid_t id;
    uint64_t at;
    char fill[40];
} s_rec_t;

static ef_uuid_t
s_id (uint32_t tag, uint64_t seq)
{
    ef_uuid_t u;
    memset (&u, 0, sizeof u);
    memcpy (u.b, &tag, sizeof tag);
    memcpy (u.b + 8, &seq, sizeof seq);
    return u;
}

static int
s_id_of (ef_str_t record, ef_uuid_t *id)
{
    if (record.len != sizeof (s_rec_t))
        return -1;
    memcpy (id, record.ptr, sizeof *id);
    return 0;
}

static int
s_time_of (ef_str_t record, uint64_t *ms)
{
    if (record.len != sizeof (s_rec_t))
        return -1;
    memcpy (ms, record.ptr + offsetof (s_rec_t, at), sizeof *ms);
    return 0;
}

/*  Append seq to stream s, its id made of (tag, seq), received at. */
static void
s_append (ef_store_txn_t *w, uint32_t num, uint32_t tag, uint64_t seq,
          uint64_t at)
{
    s_rec_t rec;
    memset (&rec, (int)(seq & 0x7f), sizeof rec);
    rec.id = s_id (tag, seq);
    rec.at = at;
    assert_int_equal (
        ef_store_event_append (w, num, seq, &rec.id, &rec, sizeof rec), 0);
}

static void
s_assert_bounds (ef_store_txn_t *t, uint32_t num, uint64_t first, uint64_t last)
{
    uint64_t f, l;
    assert_int_equal (ef_store_stream_bounds (t, num, &f, &l), 0);
    assert_int_equal (f, first);
    assert_int_equal (l, last);
}

typedef struct {
    uint64_t seqs[256];
    uint32_t n;
    uint32_t with_state;
    uint32_t stop_at;
} s_seen_t;

static int
s_see (void *arg, uint64_t seq, ef_str_t record)
{
    s_seen_t *s = arg;
    assert_int_equal (record.len, sizeof (s_rec_t));
    s->seqs[s->n++] = seq;
    return s->n == s->stop_at;
}

static int
s_see_state (void *arg, uint64_t seq, ef_str_t record, ef_str_t state)
{
    s_seen_t *s = arg;
    if (state.len) {
        char want[32];
        snprintf (want, sizeof want, "state %llu", (unsigned long long)seq);
        assert_int_equal (state.len, strlen (want));
        assert_memory_equal (state.ptr, want, state.len);
        s->with_state++;
    }
    return s_see (arg, seq, record);
}

/* ---------------------------------------------------------------- events */

static void
test_append_batch_then_read_range_both_ways (void **state)
{
    fx_t *fx = *state;
    s_open (fx, 0);
    ef_stream_rec_t a = s_stream (fx, 1, "a");
    ef_stream_rec_t b = s_stream (fx, 1, "b");
    /* one write transaction holds a batch over two streams */
    ef_store_txn_t *w = u_write_begin (fx->store);
    for (uint64_t seq = 1; seq <= 100; seq++) {
        s_append (w, a.num, 1, seq, NOW + seq);
        if (seq <= 10)
            s_append (w, b.num, 2, seq, NOW + seq);
    }
    for (uint64_t seq = 20; seq <= 30; seq += 5) {
        char st[32];
        snprintf (st, sizeof st, "state %llu", (unsigned long long)seq);
        assert_int_equal (ef_store_state_put (w, a.num, seq, st, strlen (st)),
                          0);
    }
    u_write_commit (&w);

    ef_store_txn_t *r = u_reader (fx->store);
    s_assert_bounds (r, a.num, 1, 100);
    s_assert_bounds (r, b.num, 1, 10);
    s_seen_t up = {.stop_at = 0};
    assert_int_equal (ef_store_event_each (r, a.num, 1, 1, s_see, &up), 0);
    assert_int_equal (up.n, 100);
    for (uint32_t i = 0; i < up.n; i++)
        assert_int_equal (up.seqs[i], i + 1);
    s_seen_t down = {.stop_at = 5};
    assert_int_equal (
        ef_store_event_each (r, a.num, UINT64_MAX, -1, s_see, &down), 0);
    assert_int_equal (down.n, 5);
    assert_int_equal (down.seqs[0], 100);
    assert_int_equal (down.seqs[4], 96);
    s_seen_t mid = {.stop_at = 0};
    assert_int_equal (ef_store_event_each (r, b.num, 7, -1, s_see, &mid), 0);
    assert_int_equal (mid.n, 7); /* 7 down to 1, nothing of stream a */
    s_seen_t with = {.stop_at = 0};
    assert_int_equal (ef_store_event_read (r, a.num, 21, s_see_state, &with),
                      0);
    assert_int_equal (with.n, 80);
    assert_int_equal (with.seqs[0], 21);
    assert_int_equal (with.with_state, 2); /* 25 and 30 */
    ef_str_t rec, st;
    assert_int_equal (ef_store_event_get (r, a.num, 42, &rec), 0);
    assert_int_equal (rec.len, sizeof (s_rec_t));
    assert_int_equal (ef_store_event_get (r, a.num, 101, &rec), EF_ENOTFOUND);
    assert_int_equal (ef_store_state_get (r, a.num, 25, &st), 0);
    assert_int_equal (ef_store_state_get (r, a.num, 26, &st), EF_ENOTFOUND);
    u_reader_done (&r);
}

static void
test_idempotency_look_up_and_a_taken_seq (void **state)
{
    fx_t *fx = *state;
    s_open (fx, 0);
    ef_stream_rec_t a = s_stream (fx, 1, "a");
    ef_stream_rec_t b = s_stream (fx, 1, "b");
    ef_store_txn_t *w = u_write_begin (fx->store);
    s_append (w, a.num, 7, 1, NOW);
    s_append (w, a.num, 7, 2, NOW);
    /* the same id is another event in another stream */
    s_rec_t rec = {.id = s_id (7, 2), .at = NOW};
    assert_int_equal (
        ef_store_event_append (w, b.num, 1, &rec.id, &rec, sizeof rec), 0);
    /* a seq already taken is refused and the writer may go on */
    rec.id = s_id (7, 99);
    assert_int_equal (
        ef_store_event_append (w, a.num, 2, &rec.id, &rec, sizeof rec),
        EF_EINVAL);
    uint64_t seq = 0;
    /* the write txn sees what it appended (the writer checks before) */
    ef_uuid_t id = s_id (7, 2);
    assert_int_equal (ef_store_event_find_in (w, a.num, &id, &seq), 0);
    assert_int_equal (seq, 2);
    u_write_commit (&w);

    ef_store_txn_t *r = u_reader (fx->store);
    assert_int_equal (ef_store_event_find_in (r, b.num, &id, &seq), 0);
    assert_int_equal (seq, 1);
    id = s_id (7, 99);
    assert_int_equal (ef_store_event_find_in (r, a.num, &id, &seq),
                      EF_ENOTFOUND);
    s_assert_bounds (r, a.num, 1, 2);
    u_reader_done (&r);
}

static void
test_get_by_id_stays_within_the_org (void **state)
{
    fx_t *fx = *state;
    s_open (fx, 0);
    ef_stream_rec_t theirs = s_stream (fx, 2, "theirs");
    ef_stream_rec_t mine = s_stream (fx, 1, "mine");
    ef_store_txn_t *w = u_write_begin (fx->store);
    s_append (w, theirs.num, 5, 1, NOW);
    s_append (w, mine.num, 5, 1, NOW); /* the same id, another org */
    s_append (w, mine.num, 6, 2, NOW);
    u_write_commit (&w);

    ef_store_txn_t *r = u_reader (fx->store);
    ef_uuid_t id = s_id (5, 1);
    uint32_t num = 0;
    uint64_t seq = 0;
    assert_int_equal (ef_store_event_find (r, 1, &id, &num, &seq), 0);
    assert_int_equal (num, mine.num);
    assert_int_equal (ef_store_event_find (r, 2, &id, &num, &seq), 0);
    assert_int_equal (num, theirs.num);
    assert_int_equal (ef_store_event_find (r, 3, &id, &num, &seq),
                      EF_ENOTFOUND);
    id = s_id (6, 2);
    assert_int_equal (ef_store_event_find (r, 2, &id, &num, &seq),
                      EF_ENOTFOUND);
    /* a foreign stream answers as a missing one, by name and by id */
    ef_stream_rec_t f;
    assert_int_equal (ef_store_stream_find (r, 1, ef_str ("theirs"), &f),
                      EF_ENOTFOUND);
    assert_int_equal (ef_store_stream_find (r, 1, ef_str (theirs.id), &f),
                      EF_ENOTFOUND);
    assert_int_equal (ef_store_stream_find (r, 2, ef_str (theirs.id), &f), 0);
    assert_int_equal (f.num, theirs.num);
    u_reader_done (&r);
}

static void
test_one_writer_and_readers_keep_their_snapshot (void **state)
{
    fx_t *fx = *state;
    s_open (fx, 0);
    ef_stream_rec_t s = s_stream (fx, 1, "log");
    ef_store_txn_t *r = u_reader (fx->store);
    ef_store_txn_t *w = u_write_begin (fx->store), *w2 = NULL;
    assert_int_equal (ef_store_write_begin (fx->store, &w2), EF_EINTERNAL);
    s_append (w, s.num, 1, 1, NOW);
    u_write_commit (&w);
    s_assert_bounds (r, s.num, 0, 0); /* the snapshot before the commit */
    ef_store_reader_end (r);
    assert_int_equal (ef_store_reader_begin (r), 0);
    s_assert_bounds (r, s.num, 1, 1);
    u_reader_done (&r);

    /* an abort leaves nothing, and the writer is free again */
    w = u_write_begin (fx->store);
    s_append (w, s.num, 1, 2, NOW);
    assert_int_equal (ef_store_group_put (w, s.num, ef_str ("g"), "x", 1), 0);
    ef_store_write_abort (&w);
    assert_null (w);
    r = u_reader (fx->store);
    s_assert_bounds (r, s.num, 1, 1);
    ef_str_t v;
    assert_int_equal (ef_store_group_get (r, s.num, ef_str ("g"), &v),
                      EF_ENOTFOUND);
    u_reader_done (&r);
}

/* ---------------------------------------------------------------- groups */

typedef struct {
    char names[8][16];
    uint32_t n;
} s_names_t;

static int
s_group_name (void *arg, ef_str_t name, ef_str_t rec)
{
    s_names_t *s = arg;
    assert_true (rec.len > 0);
    snprintf (s->names[s->n++], 16, "%.*s", (int)name.len, name.ptr);
    return 0;
}

static void
test_group_offsets_and_leases_per_stream (void **state)
{
    fx_t *fx = *state;
    s_open (fx, 0);
    ef_stream_rec_t a = s_stream (fx, 1, "a");
    ef_stream_rec_t b = s_stream (fx, 1, "b");
    ef_store_txn_t *w = u_write_begin (fx->store);
    assert_int_equal (ef_store_group_put (w, a.num, ef_str ("zeta"), "z1", 2),
                      0);
    assert_int_equal (ef_store_group_put (w, a.num, ef_str ("alpha"), "a1", 2),
                      0);
    assert_int_equal (ef_store_group_put (w, b.num, ef_str ("alpha"), "b1", 2),
                      0);
    /* a commit of the offset replaces the group's record */
    assert_int_equal (ef_store_group_put (w, a.num, ef_str ("zeta"), "z22", 3),
                      0);
    assert_int_equal (ef_store_group_put (w, a.num, ef_str (""), "x", 1),
                      EF_EINVAL);
    u_write_commit (&w);

    ef_store_txn_t *r = u_reader (fx->store);
    ef_str_t v;
    assert_int_equal (ef_store_group_get (r, a.num, ef_str ("zeta"), &v), 0);
    assert_int_equal (v.len, 3);
    assert_memory_equal (v.ptr, "z22", 3);
    assert_int_equal (ef_store_group_get (r, b.num, ef_str ("zeta"), &v),
                      EF_ENOTFOUND);
    s_names_t s = {.n = 0};
    assert_int_equal (ef_store_group_each (r, a.num, s_group_name, &s), 0);
    assert_int_equal (s.n, 2);
    assert_string_equal (s.names[0], "alpha");
    assert_string_equal (s.names[1], "zeta");
    u_reader_done (&r);
}

/* ---------------------------------------------------------------- jobs */

typedef struct {
    uint64_t due[8], seq[8];
    uint32_t num[8];
    uint32_t n;
    uint64_t now;
} s_jobs_t;

static int
s_job (void *arg, uint64_t due, uint32_t num, uint64_t seq)
{
    s_jobs_t *j = arg;
    if (due > j->now)
        return 1;
    j->due[j->n] = due, j->num[j->n] = num, j->seq[j->n] = seq;
    j->n++;
    return 0;
}

static void
test_job_schedule_is_ordered_by_due_time_then_event (void **state)
{
    fx_t *fx = *state;
    s_open (fx, 0);
    ef_store_txn_t *w = u_write_begin (fx->store);
    assert_int_equal (ef_store_job_put (w, NOW + 300, 1, 1), 0);
    assert_int_equal (ef_store_job_put (w, NOW + 100, 2, 9), 0);
    assert_int_equal (ef_store_job_put (w, NOW + 100, 1, 300), 0);
    assert_int_equal (ef_store_job_put (w, NOW + 100, 1, 4), 0);
    assert_int_equal (ef_store_job_put (w, (uint64_t)1 << 40, 1, 2), 0);
    u_write_commit (&w);

    ef_store_txn_t *r = u_reader (fx->store);
    s_jobs_t j = {.n = 0, .now = NOW + 200};
    assert_int_equal (ef_store_job_each (r, s_job, &j), 0);
    assert_int_equal (j.n, 4); /* stopped at the first job not yet due */
    assert_int_equal (j.due[0], (uint64_t)1 << 40); /* 2^40 < NOW */
    assert_int_equal (j.num[1], 1), assert_int_equal (j.seq[1], 4);
    assert_int_equal (j.num[2], 1), assert_int_equal (j.seq[2], 300);
    assert_int_equal (j.num[3], 2), assert_int_equal (j.seq[3], 9);
    j = (s_jobs_t){.n = 0, .now = UINT64_MAX};
    assert_int_equal (ef_store_job_each (r, s_job, &j), 0);
    assert_int_equal (j.n, 5);
    assert_int_equal (j.due[4], NOW + 300);
    u_reader_done (&r);

    w = u_write_begin (fx->store);
    assert_int_equal (ef_store_job_del (w, NOW + 100, 1, 300), 0);
    assert_int_equal (ef_store_job_del (w, NOW + 100, 1, 300), EF_ENOTFOUND);
    assert_int_equal (ef_store_job_del (w, NOW + 999, 1, 1), EF_ENOTFOUND);
    u_write_commit (&w);
    r = u_reader (fx->store);
    j = (s_jobs_t){.n = 0, .now = UINT64_MAX};
    assert_int_equal (ef_store_job_each (r, s_job, &j), 0);
    assert_int_equal (j.n, 4);
    u_reader_done (&r);
}

/* ---------------------------------------------------------------- dlq */

typedef struct {
    uint32_t num[8];
    uint64_t seq[8];
    uint32_t n;
} s_dead_t;

static int
s_dead (void *arg, uint32_t num, uint64_t seq, ef_str_t rec)
{
    s_dead_t *d = arg;
    assert_true (rec.len > 0);
    d->num[d->n] = num, d->seq[d->n] = seq;
    d->n++;
    return 0;
}

static void
test_dead_letters_put_get_walk_count_delete (void **state)
{
    fx_t *fx = *state;
    s_open (fx, 0);
    ef_store_txn_t *w = u_write_begin (fx->store);
    assert_int_equal (ef_store_dlq_put (w, 2, 1, "two", 3), 0);
    assert_int_equal (ef_store_dlq_put (w, 1, 300, "one-300", 7), 0);
    assert_int_equal (ef_store_dlq_put (w, 1, 5, "one-5", 5), 0);
    assert_int_equal (ef_store_dlq_put (w, 1, 5, "one-5b", 6), 0); /* again */
    u_write_commit (&w);

    ef_store_txn_t *r = u_reader (fx->store);
    uint64_t n = 0;
    assert_int_equal (ef_store_dlq_count (r, &n), 0);
    assert_int_equal (n, 3);
    ef_str_t v;
    assert_int_equal (ef_store_dlq_get (r, 1, 5, &v), 0);
    assert_int_equal (v.len, 6);
    assert_int_equal (ef_store_dlq_get (r, 1, 6, &v), EF_ENOTFOUND);
    s_dead_t d = {.n = 0};
    assert_int_equal (ef_store_dlq_each (r, s_dead, &d), 0);
    assert_int_equal (d.n, 3);
    assert_int_equal (d.num[0], 1), assert_int_equal (d.seq[0], 5);
    assert_int_equal (d.num[1], 1), assert_int_equal (d.seq[1], 300);
    assert_int_equal (d.num[2], 2), assert_int_equal (d.seq[2], 1);
    u_reader_done (&r);

    w = u_write_begin (fx->store);
    assert_int_equal (ef_store_dlq_del (w, 1, 300), 0);
    assert_int_equal (ef_store_dlq_del (w, 1, 300), EF_ENOTFOUND);
    u_write_commit (&w);
    r = u_reader (fx->store);
    assert_int_equal (ef_store_dlq_count (r, &n), 0);
    assert_int_equal (n, 2);
    u_reader_done (&r);
}

static uint64_t
s_dlq_size (fx_t *fx, uint32_t org, uint32_t num)
{
    uint64_t n = 99;
    ef_store_txn_t *r = u_reader (fx->store);
    assert_int_equal (ef_store_dlq_size (r, org, num, &n), 0);
    u_reader_done (&r);
    return n;
}

/*  Each org's and stream's dead letters are counted by put and delete
    (a put over a letter is no new one), a walk of one stream sees only
    its letters, a deleted stream's letters go with it, and the counts
    survive a reopen. */
static void
test_dead_letters_are_counted_per_org_and_stream_and_go_with_their_stream (
    void **state)
{
    fx_t *fx = *state;
    s_open (fx, 0);
    ef_stream_rec_t a = s_stream (fx, 1, "a"), b = s_stream (fx, 1, "b");
    ef_stream_rec_t c = s_stream (fx, 2, "c");
    ef_store_txn_t *w = u_write_begin (fx->store);
    for (uint64_t seq = 1; seq <= 3; seq++)
        assert_int_equal (ef_store_dlq_put (w, a.num, seq, "x", 1), 0);
    assert_int_equal (ef_store_dlq_put (w, a.num, 2, "again", 5), 0);
    assert_int_equal (ef_store_dlq_put (w, b.num, 9, "y", 1), 0);
    assert_int_equal (ef_store_dlq_put (w, c.num, 1, "z", 1), 0);
    u_write_commit (&w);
    assert_int_equal (s_dlq_size (fx, 1, 0), 4);
    assert_int_equal (s_dlq_size (fx, 1, a.num), 3);
    assert_int_equal (s_dlq_size (fx, 1, b.num), 1);
    assert_int_equal (s_dlq_size (fx, 2, 0), 1);
    assert_int_equal (s_dlq_size (fx, 3, 0), 0);
    ef_store_txn_t *r = u_reader (fx->store);
    s_dead_t d = {.n = 0};
    assert_int_equal (ef_store_dlq_each_stream (r, b.num, s_dead, &d), 0);
    assert_int_equal (d.n, 1);
    assert_int_equal (d.seq[0], 9);
    u_reader_done (&r);

    w = u_write_begin (fx->store);
    assert_int_equal (ef_store_dlq_del (w, a.num, 1), 0);
    assert_int_equal (ef_store_dlq_del (w, a.num, 1), EF_ENOTFOUND);
    assert_int_equal (ef_store_stream_delete (w, b.num, s_id_of), 0);
    u_write_commit (&w);
    assert_int_equal (s_dlq_size (fx, 1, 0), 2);
    assert_int_equal (s_dlq_size (fx, 1, a.num), 2);
    assert_int_equal (s_dlq_size (fx, 1, b.num), 0);
    r = u_reader (fx->store);
    uint64_t all = 0;
    assert_int_equal (ef_store_dlq_count (r, &all), 0);
    assert_int_equal (all, 3); /* b's letter went with b */
    u_reader_done (&r);

    s_open (fx, 0);
    assert_int_equal (s_dlq_size (fx, 1, 0), 2);
    assert_int_equal (s_dlq_size (fx, 2, c.num), 1);
}

/* ---------------------------------------------------------------- principals */

typedef struct {
    char ids[8][40];
    uint32_t n;
} s_ids_t;

static int
s_id_seen (void *arg, ef_str_t id)
{
    s_ids_t *s = arg;
    snprintf (s->ids[s->n++], 40, "%.*s", (int)id.len, id.ptr);
    return 0;
}

static int
s_clientkey_seen (void *arg, const uint8_t pub[32], ef_str_t rec)
{
    s_ids_t *s = arg;
    snprintf (s->ids[s->n++], 40, "%02x:%.*s", pub[0], (int)rec.len, rec.ptr);
    return 0;
}

static void
test_principals_orgs_users_keys_and_families (void **state)
{
    fx_t *fx = *state;
    s_open (fx, 0);
    ef_store_txn_t *w = u_write_begin (fx->store);
    uint32_t o1 = 0, o2 = 0;
    assert_int_equal (ef_store_org_next (w, &o1), 0);
    assert_int_equal (ef_store_org_next (w, &o2), 0);
    assert_true (o1 >= 1);
    assert_int_not_equal (o1, o2);
    assert_int_equal (ef_store_org_put (w, o1, "org1", 4, 1), 0);
    assert_int_equal (ef_store_org_put (w, o1, "again", 5, 1), EF_EEXISTS);
    assert_int_equal (ef_store_org_put (w, o2, "org2", 4, 1), 0);

    /* users: an e-mail belongs to one user across the system */
    assert_int_equal (
        ef_store_user_put (w, o1, ef_str ("u-b"), ef_str ("b@x.io"), "B", 1, 1),
        0);
    assert_int_equal (
        ef_store_user_put (w, o1, ef_str ("u-a"), ef_str ("a@x.io"), "A", 1, 1),
        0);
    assert_int_equal (
        ef_store_user_put (w, o2, ef_str ("u-c"), ef_str ("a@x.io"), "C", 1, 1),
        EF_EEXISTS);
    assert_int_equal (ef_store_user_put (w, o1, ef_str ("u-a"),
                                         ef_str ("a@x.io"), "A2", 2, 0),
                      0);

    /* API keys: indexed per org */
    assert_int_equal (ef_store_apikey_put (w, o1, ef_str ("k1"), "K1", 2, 1),
                      0);
    assert_int_equal (ef_store_apikey_put (w, o1, ef_str ("k1"), "K9", 2, 1),
                      EF_EEXISTS);
    assert_int_equal (ef_store_apikey_put (w, o2, ef_str ("k2"), "K2", 2, 1),
                      0);
    assert_int_equal (ef_store_apikey_put (w, o1, ef_str ("k1"), "K1r", 3, 0),
                      0); /* revoked: the record says so */

    uint8_t pub1[32], pub2[32];
    memset (pub1, 0x11, sizeof pub1);
    memset (pub2, 0x22, sizeof pub2);
    assert_int_equal (ef_store_clientkey_put (w, pub2, "two", 3, 1), 0);
    assert_int_equal (ef_store_clientkey_put (w, pub1, "one", 3, 1), 0);
    assert_int_equal (ef_store_clientkey_put (w, pub1, "dup", 3, 1),
                      EF_EEXISTS);

    assert_int_equal (ef_store_family_put (w, ef_str ("f1"), "gen1", 4), 0);
    assert_int_equal (ef_store_family_put (w, ef_str ("f1"), "gen2", 4), 0);
    u_write_commit (&w);

    ef_store_txn_t *r = u_reader (fx->store);
    ef_str_t v;
    assert_int_equal (ef_store_org_get (r, o1, &v), 0);
    assert_memory_equal (v.ptr, "org1", 4);
    assert_int_equal (ef_store_org_get (r, o2 + 100, &v), EF_ENOTFOUND);
    assert_int_equal (ef_store_user_by_email (r, ef_str ("a@x.io"), &v), 0);
    assert_int_equal (v.len, 3);
    assert_memory_equal (v.ptr, "u-a", 3);
    assert_int_equal (ef_store_user_get (r, ef_str ("u-a"), &v), 0);
    assert_int_equal (v.len, 2); /* replaced */
    /* the refused user left nothing behind */
    assert_int_equal (ef_store_user_get (r, ef_str ("u-c"), &v), EF_ENOTFOUND);
    s_ids_t ids = {.n = 0};
    assert_int_equal (ef_store_user_each (r, o1, s_id_seen, &ids), 0);
    assert_int_equal (ids.n, 2);
    assert_string_equal (ids.ids[0], "u-a");
    assert_string_equal (ids.ids[1], "u-b");
    ids.n = 0;
    assert_int_equal (ef_store_user_each (r, o2, s_id_seen, &ids), 0);
    assert_int_equal (ids.n, 0);
    ids.n = 0;
    assert_int_equal (ef_store_apikey_each (r, o1, s_id_seen, &ids), 0);
    assert_int_equal (ids.n, 1);
    assert_string_equal (ids.ids[0], "k1");
    assert_int_equal (ef_store_apikey_get (r, ef_str ("k1"), &v), 0);
    assert_int_equal (v.len, 3);
    assert_int_equal (ef_store_apikey_get (r, ef_str ("k3"), &v), EF_ENOTFOUND);
    ids.n = 0;
    assert_int_equal (ef_store_clientkey_each (r, s_clientkey_seen, &ids), 0);
    assert_int_equal (ids.n, 2);
    assert_string_equal (ids.ids[0], "11:one");
    assert_string_equal (ids.ids[1], "22:two");
    assert_int_equal (ef_store_clientkey_get (r, pub2, &v), 0);
    assert_memory_equal (v.ptr, "two", 3);
    assert_int_equal (ef_store_family_get (r, ef_str ("f1"), &v), 0);
    assert_memory_equal (v.ptr, "gen2", 4);
    assert_int_equal (ef_store_family_get (r, ef_str ("f2"), &v), EF_ENOTFOUND);
    u_reader_done (&r);

    /* a deleted user's e-mail is free again */
    w = u_write_begin (fx->store);
    assert_int_equal (
        ef_store_user_delete (w, o1, ef_str ("u-a"), ef_str ("a@x.io")), 0);
    assert_int_equal (ef_store_user_by_email (w, ef_str ("a@x.io"), &v),
                      EF_ENOTFOUND);
    assert_int_equal (
        ef_store_user_put (w, o2, ef_str ("u-c"), ef_str ("a@x.io"), "C", 1, 1),
        0);
    u_write_commit (&w);
    r = u_reader (fx->store);
    ids.n = 0;
    assert_int_equal (ef_store_user_each (r, o1, s_id_seen, &ids), 0);
    assert_int_equal (ids.n, 1);
    assert_string_equal (ids.ids[0], "u-b");
    u_reader_done (&r);
}

/* ---------------------------------------------------------------- bytes */

static uint64_t
s_org_bytes (ef_store_txn_t *t, uint32_t org)
{
    uint64_t n = 0;
    assert_int_equal (ef_store_org_bytes (t, org, &n), 0);
    return n;
}

static uint64_t
s_stream_bytes (ef_store_txn_t *t, uint32_t num)
{
    uint64_t n = 0;
    assert_int_equal (ef_store_stream_bytes (t, num, &n), 0);
    return n;
}

/*  Each stream's stored bytes are kept like its org's: appends add,
    trims give back, a delete drops the count, and the write txn sees its
    own changes; more streams in one txn than the ledger holds at once
    are still counted right. */
static void
test_stream_stored_bytes_follow_appends_trims_and_deletes (void **state)
{
    fx_t *fx = *state;
    s_open (fx, 0);
    ef_stream_rec_t st[40];
    for (int i = 0; i < 40; i++) {
        char name[16];
        snprintf (name, sizeof name, "s%d", i);
        st[i] = s_stream (fx, 1 + i % 2, name);
    }
    ef_store_txn_t *w = u_write_begin (fx->store);
    for (int i = 0; i < 40; i++)
        for (uint64_t seq = 1; seq <= (uint64_t)i + 1; seq++)
            s_append (w, st[i].num, (uint32_t)i + 1, seq, NOW);
    assert_int_equal (s_stream_bytes (w, st[3].num), 4 * sizeof (s_rec_t));
    u_write_commit (&w);

    ef_store_txn_t *r = u_reader (fx->store);
    for (int i = 0; i < 40; i++)
        assert_int_equal (s_stream_bytes (r, st[i].num),
                          (i + 1) * sizeof (s_rec_t));
    u_reader_done (&r);

    w = u_write_begin (fx->store);
    uint64_t n = 0, freed = 0;
    assert_int_equal (
        ef_store_event_trim (w, st[9].num, 4, s_id_of, &n, &freed), 0);
    assert_int_equal (ef_store_stream_delete (w, st[5].num, s_id_of), 0);
    assert_int_equal (s_stream_bytes (w, st[9].num), 6 * sizeof (s_rec_t));
    assert_int_equal (s_stream_bytes (w, st[5].num), 0);
    u_write_commit (&w);

    s_open (fx, 0); /* and it is kept */
    r = u_reader (fx->store);
    assert_int_equal (s_stream_bytes (r, st[9].num), 6 * sizeof (s_rec_t));
    assert_int_equal (s_stream_bytes (r, st[5].num), 0);
    assert_int_equal (s_stream_bytes (r, st[39].num), 40 * sizeof (s_rec_t));
    assert_int_equal (s_org_bytes (r, 1), 400 * sizeof (s_rec_t));
    assert_int_equal (s_org_bytes (r, 2), (420 - 4 - 6) * sizeof (s_rec_t));
    u_reader_done (&r);
}

static void
test_org_stored_bytes_follow_appends_trims_and_deletes (void **state)
{
    fx_t *fx = *state;
    s_open (fx, 0);
    ef_stream_rec_t a = s_stream (fx, 1, "a"), a2 = s_stream (fx, 1, "a2");
    ef_stream_rec_t b = s_stream (fx, 2, "b");
    ef_store_txn_t *w = u_write_begin (fx->store);
    for (uint64_t seq = 1; seq <= 10; seq++) {
        s_append (w, a.num, 1, seq, NOW);
        s_append (w, a2.num, 2, seq, NOW);
    }
    s_append (w, b.num, 3, 1, NOW);
    /* the write txn sees its own appends */
    assert_int_equal (s_org_bytes (w, 1), 20 * sizeof (s_rec_t));
    u_write_commit (&w);

    ef_store_txn_t *r = u_reader (fx->store);
    assert_int_equal (s_org_bytes (r, 1), 20 * sizeof (s_rec_t));
    assert_int_equal (s_org_bytes (r, 2), sizeof (s_rec_t));
    assert_int_equal (s_org_bytes (r, 3), 0);
    uint64_t streams, events, bytes;
    assert_int_equal (ef_store_figures (r, 1, &streams, &events, &bytes), 0);
    assert_int_equal (streams, 2);
    assert_int_equal (events, 20);
    assert_true (bytes > 0);
    u_reader_done (&r);

    w = u_write_begin (fx->store);
    uint64_t n = 0, freed = 0;
    assert_int_equal (ef_store_event_trim (w, a.num, 4, s_id_of, &n, &freed),
                      0);
    assert_int_equal (n, 4);
    assert_int_equal (freed, 4 * sizeof (s_rec_t));
    assert_int_equal (ef_store_stream_delete (w, a2.num, s_id_of), 0);
    u_write_commit (&w);

    s_open (fx, 0); /* and it is kept */
    r = u_reader (fx->store);
    assert_int_equal (s_org_bytes (r, 1), 6 * sizeof (s_rec_t));
    assert_int_equal (s_org_bytes (r, 2), sizeof (s_rec_t));
    assert_int_equal (ef_store_figures (r, 1, &streams, &events, &bytes), 0);
    assert_int_equal (streams, 1);
    assert_int_equal (events, 6);
    ef_uuid_t id = s_id (2, 3);
    uint32_t num;
    uint64_t seq;
    assert_int_equal (ef_store_event_find (r, 1, &id, &num, &seq),
                      EF_ENOTFOUND);
    u_reader_done (&r);
}

/* ---------------------------------------------------------------- retention */

static void
test_trim_up_to_a_seq_removes_events_ids_and_states_but_keeps_the_head (
    void **state)
{
    fx_t *fx = *state;
    s_open (fx, 0);
    ef_stream_rec_t s = s_stream (fx, 1, "log");
    ef_stream_rec_t other = s_stream (fx, 1, "other");
    ef_store_txn_t *w = u_write_begin (fx->store);
    for (uint64_t seq = 1; seq <= 10; seq++) {
        s_append (w, s.num, 1, seq, NOW);
        s_append (w, other.num, 2, seq, NOW);
        assert_int_equal (ef_store_state_put (w, s.num, seq, "st", 2), 0);
    }
    u_write_commit (&w);

    w = u_write_begin (fx->store);
    uint64_t n = 0, freed = 0;
    assert_int_equal (ef_store_event_trim (w, s.num, 4, s_id_of, &n, &freed),
                      0);
    assert_int_equal (n, 4);
    assert_int_equal (freed, 4 * sizeof (s_rec_t));
    /* again: nothing left to free */
    assert_int_equal (ef_store_event_trim (w, s.num, 4, s_id_of, &n, &freed),
                      0);
    assert_int_equal (n, 0);
    assert_int_equal (freed, 0);
    assert_int_equal (ef_store_event_trim (w, 9999, 4, s_id_of, &n, &freed),
                      EF_ENOTFOUND);
    u_write_commit (&w);

    ef_store_txn_t *r = u_reader (fx->store);
    s_assert_bounds (r, s.num, 5, 10);
    s_assert_bounds (r, other.num, 1, 10); /* another stream is untouched */
    ef_str_t v;
    uint64_t seq;
    ef_uuid_t id = s_id (1, 4);
    assert_int_equal (ef_store_event_get (r, s.num, 4, &v), EF_ENOTFOUND);
    assert_int_equal (ef_store_event_find_in (r, s.num, &id, &seq),
                      EF_ENOTFOUND);
    assert_int_equal (ef_store_state_get (r, s.num, 4, &v), EF_ENOTFOUND);
    assert_int_equal (ef_store_state_get (r, s.num, 5, &v), 0);
    id = s_id (1, 5);
    assert_int_equal (ef_store_event_find_in (r, s.num, &id, &seq), 0);
    s_seen_t seen = {.stop_at = 0};
    assert_int_equal (ef_store_event_each (r, s.num, 1, 1, s_see, &seen), 0);
    assert_int_equal (seen.n, 6);
    assert_int_equal (seen.seqs[0], 5);
    u_reader_done (&r);

    /* trimming everything keeps the head: bounds (last + 1, last), the
       next append is last + 1, also after a reopen */
    w = u_write_begin (fx->store);
    assert_int_equal (
        ef_store_event_trim (w, s.num, UINT64_MAX, s_id_of, &n, NULL), 0);
    assert_int_equal (n, 6);
    u_write_commit (&w);
    s_open (fx, 0);
    r = u_reader (fx->store);
    s_assert_bounds (r, s.num, 11, 10);
    u_reader_done (&r);
    w = u_write_begin (fx->store);
    s_append (w, s.num, 1, 11, NOW);
    u_write_commit (&w);
    r = u_reader (fx->store);
    s_assert_bounds (r, s.num, 11, 11);
    u_reader_done (&r);
}

/*  A stream's retention is kept, replaced, removed by a keep-everything
    one, and goes with its stream. */
static void
test_retention_is_kept_replaced_and_goes_with_its_stream (void **state)
{
    fx_t *fx = *state;
    s_open (fx, 0);
    ef_stream_rec_t s = s_stream (fx, 1, "log");
    ef_retention_t r = {0};
    ef_store_txn_t *w = u_write_begin (fx->store);
    assert_int_equal (ef_store_retention_get (w, s.num, &r), EF_ENOTFOUND);
    ef_retention_t set = {.max_age_ms = 60000,
                          .max_bytes = 1 << 20,
                          .max_events = 5,
                          .after_groups = 1};
    assert_int_equal (ef_store_retention_put (w, s.num, &set), 0);
    u_write_commit (&w);
    s_open (fx, 0);
    ef_store_txn_t *rd = u_reader (fx->store);
    assert_int_equal (ef_store_retention_get (rd, s.num, &r), 0);
    assert_int_equal (r.max_age_ms, 60000);
    assert_int_equal (r.max_bytes, 1 << 20);
    assert_int_equal (r.max_events, 5);
    assert_int_equal (r.after_groups, 1);
    u_reader_done (&rd);
    w = u_write_begin (fx->store);
    ef_retention_t none = {0};
    assert_int_equal (ef_store_retention_put (w, s.num, &none), 0);
    assert_int_equal (ef_store_retention_get (w, s.num, &r), EF_ENOTFOUND);
    assert_int_equal (ef_store_retention_put (w, s.num, &set), 0);
    assert_int_equal (ef_store_stream_delete (w, s.num, s_id_of), 0);
    assert_int_equal (ef_store_retention_get (w, s.num, &r), EF_ENOTFOUND);
    u_write_commit (&w);
}

/*  The streams with a retention, walked in number order from any
    number: the ones without are passed over. */
static void
test_retention_next_walks_the_streams_that_have_one (void **state)
{
    fx_t *fx = *state;
    s_open (fx, 0);
    ef_stream_rec_t a = s_stream (fx, 1, "a"), none = s_stream (fx, 2, "none"),
                    b = s_stream (fx, 3, "b");
    ef_retention_t ra = {.max_events = 1}, rb = {.after_groups = 1}, r;
    ef_store_txn_t *w = u_write_begin (fx->store);
    assert_int_equal (ef_store_retention_put (w, a.num, &ra), 0);
    assert_int_equal (ef_store_retention_put (w, b.num, &rb), 0);
    u_write_commit (&w);
    ef_store_txn_t *rd = u_reader (fx->store);
    uint32_t num = 0;
    assert_int_equal (ef_store_retention_next (rd, 0, &num, &r), 0);
    assert_int_equal (num, a.num);
    assert_int_equal (r.max_events, 1);
    assert_true (none.num > a.num && none.num < b.num);
    assert_int_equal (ef_store_retention_next (rd, a.num + 1, &num, &r), 0);
    assert_int_equal (num, b.num);
    assert_int_equal (r.after_groups, 1);
    assert_int_equal (ef_store_retention_next (rd, b.num, &num, &r), 0);
    assert_int_equal (num, b.num);
    assert_int_equal (ef_store_retention_next (rd, b.num + 1, &num, &r),
                      EF_ENOTFOUND);
    assert_int_equal (ef_store_retention_next (rd, UINT32_MAX, &num, &r),
                      EF_ENOTFOUND);
    u_reader_done (&rd);
}

/*  An event's history is kept beside it, replaced whole, and goes with
    the event: by retention and with its stream. */
static void
test_history_goes_with_its_event (void **state)
{
    fx_t *fx = *state;
    s_open (fx, 0);
    ef_stream_rec_t s = s_stream (fx, 1, "log");
    ef_stream_rec_t gone = s_stream (fx, 1, "gone");
    ef_store_txn_t *w = u_write_begin (fx->store);
    for (uint64_t seq = 1; seq <= 3; seq++) {
        s_append (w, s.num, 1, seq, NOW);
        s_append (w, gone.num, 2, seq, NOW);
        assert_int_equal (ef_store_history_put (w, s.num, seq, "h1", 2), 0);
        assert_int_equal (ef_store_history_put (w, gone.num, seq, "h", 1), 0);
    }
    assert_int_equal (ef_store_history_put (w, s.num, 3, "h-two", 5), 0);
    u_write_commit (&w);

    ef_store_txn_t *r = u_reader (fx->store);
    ef_str_t v;
    assert_int_equal (ef_store_history_get (r, s.num, 3, &v), 0);
    assert_int_equal (v.len, 5);
    assert_memory_equal (v.ptr, "h-two", 5);
    assert_int_equal (ef_store_history_get (r, s.num, 4, &v), EF_ENOTFOUND);
    u_reader_done (&r);

    w = u_write_begin (fx->store);
    uint64_t n = 0;
    assert_int_equal (ef_store_event_trim (w, s.num, 1, s_id_of, &n, NULL), 0);
    assert_int_equal (n, 1);
    assert_int_equal (ef_store_stream_delete (w, gone.num, s_id_of), 0);
    u_write_commit (&w);

    s_open (fx, 0);
    r = u_reader (fx->store);
    assert_int_equal (ef_store_history_get (r, s.num, 1, &v), EF_ENOTFOUND);
    assert_int_equal (ef_store_history_get (r, s.num, 2, &v), 0);
    assert_memory_equal (v.ptr, "h1", 2);
    for (uint64_t seq = 1; seq <= 3; seq++)
        assert_int_equal (ef_store_history_get (r, gone.num, seq, &v),
                          EF_ENOTFOUND);
    u_reader_done (&r);
}

static void
test_trim_before_a_time_stops_at_the_first_newer_event (void **state)
{
    fx_t *fx = *state;
    s_open (fx, 0);
    ef_stream_rec_t s = s_stream (fx, 1, "log");
    ef_store_txn_t *w = u_write_begin (fx->store);
    for (uint64_t seq = 1; seq <= 10; seq++)
        s_append (w, s.num, 1, seq, NOW + seq * 1000);
    u_write_commit (&w);

    w = u_write_begin (fx->store);
    uint64_t n = 0, freed = 0;
    /* received before NOW + 3500: seqs 1..3 */
    assert_int_equal (ef_store_event_trim_before (w, s.num, NOW + 3500, s_id_of,
                                                  s_time_of, &n, &freed),
                      0);
    assert_int_equal (n, 3);
    assert_int_equal (freed, 3 * sizeof (s_rec_t));
    assert_int_equal (s_org_bytes (w, 1), 7 * sizeof (s_rec_t));
    u_write_commit (&w);
    ef_store_txn_t *r = u_reader (fx->store);
    s_assert_bounds (r, s.num, 4, 10);
    u_reader_done (&r);
}

/* ---------------------------------------------------------------- full */

static void
test_a_full_store_answers_store_full_with_nothing_half_written (void **state)
{
    fx_t *fx = *state;
    if (!fx->be->bounded)
        skip ();
    s_open (fx, 1u << 20);
    ef_stream_rec_t s = s_stream (fx, 1, "big");
    char rec[1024];
    uint64_t committed = 0, batch = 0;
    int rc = 0;
    /* batches of 8 events, a group commit and a dead letter each */
    while (rc == 0 && batch < 10000) {
        batch++;
        ef_store_txn_t *w = u_write_begin (fx->store);
        for (uint64_t i = 1; i <= 8 && rc == 0; i++) {
            uint64_t seq = committed + i;
            ef_uuid_t id = s_id (1, seq);
            memset (rec, (int)(seq & 0xff), sizeof rec);
            memcpy (rec, &id, sizeof id);
            rc = ef_store_event_append (w, s.num, seq, &id, rec, sizeof rec);
        }
        char name[32];
        snprintf (name, sizeof name, "g%llu", (unsigned long long)batch);
        if (rc == 0)
            rc = ef_store_group_put (w, s.num, ef_str (name), "o", 1);
        if (rc == 0)
            rc = ef_store_dlq_put (w, s.num, committed + 1, "dead", 4);
        if (rc) {
            ef_store_write_abort (&w);
            break;
        }
        rc = ef_store_write_commit (&w);
        assert_null (w);
        if (rc == 0)
            committed += 8;
    }
    assert_int_equal (rc, EF_ESTORE_FULL);
    assert_true (committed >= 16);
    assert_int_equal (ef_store_broken (fx->store), 0);

    /* the failed batch left nothing; every committed one is whole */
    ef_store_txn_t *r = u_reader (fx->store);
    s_assert_bounds (r, s.num, 1, committed);
    ef_str_t v;
    char name[32];
    snprintf (name, sizeof name, "g%llu", (unsigned long long)batch);
    assert_int_equal (ef_store_group_get (r, s.num, ef_str (name), &v),
                      EF_ENOTFOUND);
    snprintf (name, sizeof name, "g%llu", (unsigned long long)batch - 1);
    assert_int_equal (ef_store_group_get (r, s.num, ef_str (name), &v), 0);
    assert_int_equal (ef_store_dlq_get (r, s.num, committed + 1, &v),
                      EF_ENOTFOUND);
    assert_int_equal (ef_store_event_get (r, s.num, committed + 1, &v),
                      EF_ENOTFOUND);
    ef_uuid_t id = s_id (1, committed + 1);
    uint64_t seq;
    assert_int_equal (ef_store_event_find_in (r, s.num, &id, &seq),
                      EF_ENOTFOUND);
    for (uint64_t q = 1; q <= committed; q++) {
        assert_int_equal (ef_store_event_get (r, s.num, q, &v), 0);
        assert_int_equal (v.len, sizeof rec);
        assert_int_equal ((uint8_t)v.ptr[sizeof rec - 1], q & 0xff);
    }
    assert_int_equal (s_org_bytes (r, 1), committed * sizeof rec);
    u_reader_done (&r);

    /* room made by retention is usable again */
    ef_store_txn_t *w = u_write_begin (fx->store);
    assert_int_equal (
        ef_store_event_trim (w, s.num, committed / 2, s_id_of, NULL, NULL), 0);
    u_write_commit (&w);
    w = u_write_begin (fx->store);
    id = s_id (1, committed + 1);
    assert_int_equal (
        ef_store_event_append (w, s.num, committed + 1, &id, rec, sizeof rec),
        0);
    u_write_commit (&w);
}

/* ---------------------------------------------------------------- reopen */

static void
test_reopen_keeps_everything (void **state)
{
    fx_t *fx = *state;
    s_open (fx, 0);
    ef_stream_rec_t s = s_stream (fx, 1, "kept");
    ef_store_txn_t *w = u_write_begin (fx->store);
    uint32_t org;
    assert_int_equal (ef_store_org_next (w, &org), 0);
    assert_int_equal (ef_store_org_put (w, org, "org", 3, 1), 0);
    for (uint64_t seq = 1; seq <= 5; seq++)
        s_append (w, s.num, 4, seq, NOW);
    assert_int_equal (
        ef_store_stream_configure (w, s.num, ef_str ("{}"), ef_str ("[]")), 0);
    assert_int_equal (ef_store_state_put (w, s.num, 2, "st", 2), 0);
    assert_int_equal (ef_store_group_put (w, s.num, ef_str ("g"), "grp", 3), 0);
    assert_int_equal (ef_store_job_put (w, NOW, s.num, 3), 0);
    assert_int_equal (ef_store_dlq_put (w, s.num, 4, "dl", 2), 0);
    assert_int_equal (
        ef_store_user_put (w, org, ef_str ("u"), ef_str ("u@x.io"), "U", 1, 1),
        0);
    assert_int_equal (ef_store_apikey_put (w, org, ef_str ("k"), "K", 1, 1), 0);
    uint8_t pub[32];
    memset (pub, 7, sizeof pub);
    assert_int_equal (ef_store_clientkey_put (w, pub, "C", 1, 1), 0);
    assert_int_equal (ef_store_family_put (w, ef_str ("f"), "F", 1), 0);
    u_write_commit (&w);

    ef_store_destroy (&fx->store);
    assert_null (fx->store);
    s_open (fx, 0);

    ef_store_txn_t *r = u_reader (fx->store);
    ef_stream_rec_t f;
    ef_str_t v;
    assert_int_equal (ef_store_stream_find (r, 1, ef_str ("kept"), &f), 0);
    assert_int_equal (f.num, s.num);
    assert_string_equal (f.id, s.id);
    assert_int_equal (f.schema.len, 2);
    assert_int_equal (f.pipeline.len, 2);
    s_assert_bounds (r, s.num, 1, 5);
    ef_uuid_t id = s_id (4, 5);
    uint64_t seq;
    assert_int_equal (ef_store_event_find_in (r, s.num, &id, &seq), 0);
    assert_int_equal (seq, 5);
    assert_int_equal (ef_store_state_get (r, s.num, 2, &v), 0);
    assert_int_equal (ef_store_group_get (r, s.num, ef_str ("g"), &v), 0);
    assert_int_equal (v.len, 3);
    s_jobs_t j = {.n = 0, .now = UINT64_MAX};
    assert_int_equal (ef_store_job_each (r, s_job, &j), 0);
    assert_int_equal (j.n, 1);
    assert_int_equal (j.seq[0], 3);
    assert_int_equal (ef_store_dlq_get (r, s.num, 4, &v), 0);
    assert_int_equal (ef_store_org_get (r, org, &v), 0);
    assert_int_equal (ef_store_user_by_email (r, ef_str ("u@x.io"), &v), 0);
    assert_int_equal (ef_store_apikey_get (r, ef_str ("k"), &v), 0);
    assert_int_equal (ef_store_clientkey_get (r, pub, &v), 0);
    assert_int_equal (ef_store_family_get (r, ef_str ("f"), &v), 0);
    assert_int_equal (s_org_bytes (r, 1), 5 * sizeof (s_rec_t));
    u_reader_done (&r);

    /* numbers are never given twice, also across a reopen */
    w = u_write_begin (fx->store);
    uint32_t next;
    assert_int_equal (ef_store_org_next (w, &next), 0);
    assert_true (next > org);
    ef_stream_rec_t t;
    assert_int_equal (ef_store_stream_create (w, 1, ef_str ("new"), NOW, &t),
                      0);
    assert_true (t.num > s.num);
    u_write_commit (&w);
}

#define T(f, be)                                                               \
    cmocka_unit_test_prestate_setup_teardown (f, s_setup, s_teardown,          \
                                              (void *)(be))

int
main (void)
{
    int failed = 0;
    for (size_t i = 0; i < sizeof s_backends / sizeof s_backends[0]; i++) {
        const s_backend_t *be = &s_backends[i];
        const struct CMUnitTest tests[] = {
            T (test_append_batch_then_read_range_both_ways, be),
            T (test_idempotency_look_up_and_a_taken_seq, be),
            T (test_get_by_id_stays_within_the_org, be),
            T (test_one_writer_and_readers_keep_their_snapshot, be),
            T (test_group_offsets_and_leases_per_stream, be),
            T (test_job_schedule_is_ordered_by_due_time_then_event, be),
            T (test_dead_letters_put_get_walk_count_delete, be),
            T (test_dead_letters_are_counted_per_org_and_stream_and_go_with_their_stream,
               be),
            T (test_principals_orgs_users_keys_and_families, be),
            T (test_org_stored_bytes_follow_appends_trims_and_deletes, be),
            T (test_stream_stored_bytes_follow_appends_trims_and_deletes, be),
            T (test_trim_up_to_a_seq_removes_events_ids_and_states_but_keeps_the_head,
               be),
            T (test_trim_before_a_time_stops_at_the_first_newer_event, be),
            T (test_history_goes_with_its_event, be),
            T (test_retention_is_kept_replaced_and_goes_with_its_stream, be),
            T (test_retention_next_walks_the_streams_that_have_one, be),
            T (test_a_full_store_answers_store_full_with_nothing_half_written,
               be),
            T (test_reopen_keeps_everything, be),
        };
        failed += _cmocka_run_group_tests (
            be->name, tests, sizeof tests / sizeof tests[0], NULL, NULL);
    }
    return failed;
}
