/*  Consumer groups end to end against a real broker (DESIGN.md §6): a new
    group reads from the beginning and gets the same events again until
    it commits; commits never go back (409) except by a seek (earliest,
    latest, an event, a time; it drops the members' leases); lag is exact;
    members get disjoint leases, their own lease again, and move the
    offset over contiguous committed ranges; concurrent members together
    receive every event exactly once; a long poll returns as soon as an
    event is published (to one woken member only); a consumer that
    dies without committing gets the events again; group state survives a
    kill -9, leases are let go by a restart; a fetch sent right behind a
    commit that is not answered yet sees it; hundreds of parked long polls wake by stream and expire on
    time; a fetch may commit the last page first (one round trip); push
    subscriptions respect credit; and roles hold (a producer
    may not fetch, a consumer may not publish). Lease expiry (30 s) is
    covered by tests/unit/test_groups.c with a driven clock. */
#define _GNU_SOURCE /* pthread_timedjoin_np */
#include "harness.h"
#include "eventflow/ef_cert.h"
#include "eventflow/ef_consumer.h"
#include "eventflow/ef_time.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>
#include <cmocka.h>

#define MAX_GOT 4096
#define WAIT_MS 20000 /* a deadline for what must happen, not a timing */

static char s_dir[256];
static h_broker_t s_broker;
static ef_client_t *s_admin;

/* ---------------------------------------------------------------- helpers */

typedef struct {
    char id[37];
    uint64_t seq;
    uint64_t received_at;
} pub_t;

/*  Publish n events to stream (in batches), their ids and seqs into out
    (may be NULL). */
static void
s_publish (ef_client_t *c, const char *stream, uint32_t n, pub_t *out)
{
    ef_event_in_t evs[100];
    ef_publish_result_t res[100];
    char payloads[100][32];
    for (uint32_t done = 0; done < n;) {
        uint32_t k = n - done > 100 ? 100 : n - done;
        for (uint32_t i = 0; i < k; i++) {
            memset (&evs[i], 0, sizeof evs[i]);
            snprintf (payloads[i], sizeof payloads[i], "{\"i\":%u}", done + i);
            evs[i].type = ef_str ("group.test");
            evs[i].payload = ef_str (payloads[i]);
        }
        assert_int_equal (ef_client_publish (c, stream, evs, k, res), 0);
        for (uint32_t i = 0; i < k; i++) {
            assert_int_equal (res[i].code, 0);
            if (out) {
                assert_int_equal (res[i].event_id.len, 36);
                memcpy (out[done + i].id, res[i].event_id.ptr, 36);
                out[done + i].id[36] = 0;
                out[done + i].seq = res[i].seq;
                out[done + i].received_at = res[i].received_at;
            }
        }
        done += k;
    }
}

static void
s_create (const char *stream)
{
    assert_int_equal (ef_client_create_stream (s_admin, stream, NULL), 0);
}

/*  What fetches returned, in order. */
typedef struct {
    uint32_t n;
    uint64_t seq[MAX_GOT];
    char id[MAX_GOT][37];
} got_t;

static got_t *
s_got (void)
{
    got_t *g = calloc (1, sizeof *g);
    assert_non_null (g);
    return g;
}

static int
s_collect (void *arg, const ef_event_t *ev)
{
    got_t *g = arg;
    if (g->n < MAX_GOT) {
        g->seq[g->n] = ev->seq;
        snprintf (g->id[g->n], sizeof g->id[0], "%.*s", (int)ev->event_id.len,
                  ev->event_id.ptr);
    }
    g->n++;
    return 0;
}

/*  One fetch into a fresh got; fails the test on an error. */
static void
s_fetch (ef_client_t *c, const char *stream, const char *group,
         const char *member, uint32_t limit, got_t *got, char *next)
{
    memset (got, 0, sizeof *got);
    int rc = ef_client_fetch (c, stream, group, member, limit, 0, s_collect,
                              got, next);
    if (rc)
        fail_msg ("fetch %s/%s/%s: %s", stream, group, member ? member : "-",
                  ef_client_error (c));
}

/*  The seqs of got are from..to, in order. */
static void
s_assert_range (const got_t *got, uint64_t from, uint64_t to)
{
    if (got->n != to - from + 1)
        fail_msg ("expected seqs %llu..%llu, got %u events (first %llu)",
                  (unsigned long long)from, (unsigned long long)to, got->n,
                  (unsigned long long)(got->n ? got->seq[0] : 0));
    for (uint32_t i = 0; i < got->n; i++)
        assert_int_equal (got->seq[i], from + i);
}

static void
s_commit (ef_client_t *c, const char *stream, const char *group,
          const char *member, const char *id, char *committed)
{
    int rc = ef_client_commit (c, stream, group, member, id, committed);
    if (rc)
        fail_msg ("commit %s/%s up to %s: %s", stream, group, id,
                  ef_client_error (c));
}

/*  A group as LIST_GROUPS shows it. */
typedef struct {
    int found;
    char committed[37]; /* "" for nil */
    uint64_t lag;
    uint64_t members;
} ginfo_t;

/*  The groups of stream from LIST_GROUPS; names (may be NULL) gets their
    names in the order listed. */
static ginfo_t
s_info (ef_client_t *c, const char *stream, const char *group,
        char (*names)[64], uint32_t *nnames)
{
    ginfo_t gi;
    memset (&gi, 0, sizeof gi);
    ef_request_t req;
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_LIST_GROUPS;
    req.stream = ef_str (stream);
    const ef_reply_t *rep;
    int rc = ef_client_call (c, &req, &rep);
    if (rc)
        fail_msg ("LIST_GROUPS %s: %s", stream, ef_client_error (c));
    ef_mpr_t r;
    uint32_t n;
    assert_int_equal (ef_proto_reply_find (rep, "groups", &r), 0);
    assert_int_equal (ef_mpr_array (&r, &n), 0);
    if (nnames)
        *nnames = n;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t m;
        ginfo_t one;
        ef_str_t name = EF_STR_NULL;
        memset (&one, 0, sizeof one);
        assert_int_equal (ef_mpr_map (&r, &m), 0);
        for (uint32_t j = 0; j < m; j++) {
            ef_str_t k, s;
            assert_int_equal (ef_mpr_str (&r, &k), 0);
            if (ef_str_eq (k, "group"))
                assert_int_equal (ef_mpr_str (&r, &name), 0);
            else if (ef_str_eq (k, "committed_offset")) {
                if (!ef_mpr_nil (&r)) {
                    assert_int_equal (ef_mpr_str (&r, &s), 0);
                    snprintf (one.committed, sizeof one.committed, "%.*s",
                              (int)s.len, s.ptr);
                }
            } else if (ef_str_eq (k, "lag"))
                assert_int_equal (ef_mpr_uint (&r, &one.lag), 0);
            else if (ef_str_eq (k, "members"))
                assert_int_equal (ef_mpr_uint (&r, &one.members), 0);
            else
                assert_int_equal (ef_mpr_skip (&r, 16), 0);
        }
        assert_non_null (name.ptr);
        if (names && i < 8)
            snprintf (names[i], 64, "%.*s", (int)name.len, name.ptr);
        if (group && ef_str_eq (name, group)) {
            gi = one;
            gi.found = 1;
        }
    }
    return gi;
}

static ginfo_t
s_group_info (ef_client_t *c, const char *stream, const char *group)
{
    return s_info (c, stream, group, NULL, NULL);
}

/*  Wait for thread t, at most ms; 0 when it ended. */
static int
s_join (pthread_t t, int ms)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L)
        ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    return pthread_timedjoin_np (t, NULL, &ts);
}

/* ---------------------------------------------------------------- setup */

static int
group_setup (void **state)
{
    (void)state;
    if (h_tempdir (s_dir) || h_broker_start (&s_broker, s_dir, NULL))
        return -1;
    s_admin = h_client (&s_broker);
    return s_admin ? 0 : -1;
}

static int
group_teardown (void **state)
{
    (void)state;
    ef_client_destroy (&s_admin);
    int rc = h_broker_stop (&s_broker);
    h_rmrf (s_dir);
    return rc == 0 ? 0 : -1; /* a clean exit, or the group fails */
}

/* ---------------------------------------------------------------- commit */

static void
test_a_new_group_reads_from_the_beginning_again_until_it_commits (void **st)
{
    (void)st;
    pub_t ev[5];
    char next[37], committed[37];
    got_t *got = s_got ();
    s_create ("begin");
    /* an empty stream: nothing, and nothing committed */
    s_fetch (s_admin, "begin", "g", NULL, 10, got, next);
    assert_int_equal (got->n, 0);
    assert_string_equal (next, "");
    s_publish (s_admin, "begin", 5, ev);

    s_fetch (s_admin, "begin", "g", NULL, 3, got, next);
    s_assert_range (got, 1, 3);
    assert_string_equal (got->id[0], ev[0].id);
    assert_string_equal (next, ev[2].id); /* the last event returned */
    /* not committed: the same events again */
    s_fetch (s_admin, "begin", "g", NULL, 3, got, next);
    s_assert_range (got, 1, 3);
    assert_string_equal (next, ev[2].id);

    s_commit (s_admin, "begin", "g", NULL, next, committed);
    assert_string_equal (committed, ev[2].id);
    s_fetch (s_admin, "begin", "g", NULL, 100, got, next);
    s_assert_range (got, 4, 5);
    assert_string_equal (next, ev[4].id);
    s_commit (s_admin, "begin", "g", NULL, next, committed);
    /* all read: an empty list whose next_offset is the committed offset */
    s_fetch (s_admin, "begin", "g", NULL, 100, got, next);
    assert_int_equal (got->n, 0);
    assert_string_equal (next, ev[4].id);
    /* another group has its own offset, from the beginning */
    s_fetch (s_admin, "begin", "other", NULL, 100, got, next);
    s_assert_range (got, 1, 5);
    free (got);
}

static void
test_commit_behind_the_offset_conflicts_and_changes_nothing (void **st)
{
    (void)st;
    pub_t ev[6];
    char next[37], committed[37];
    got_t *got = s_got ();
    s_create ("behind");
    s_publish (s_admin, "behind", 6, ev);
    s_commit (s_admin, "behind", "g", NULL, ev[3].id, committed);
    assert_string_equal (committed, ev[3].id);

    assert_int_equal (
        ef_client_commit (s_admin, "behind", "g", NULL, ev[1].id, committed),
        EF_ECONFLICT);
    ginfo_t gi = s_group_info (s_admin, "behind", "g");
    assert_true (gi.found);
    assert_string_equal (gi.committed, ev[3].id);
    assert_int_equal (gi.lag, 2);
    /* the committed offset again is fine */
    s_commit (s_admin, "behind", "g", NULL, ev[3].id, committed);
    assert_string_equal (committed, ev[3].id);
    /* an id that is not an event of the stream */
    assert_int_equal (ef_client_commit (s_admin, "behind", "g", NULL,
                                        "01890000-0000-7000-8000-000000000000",
                                        committed),
                      EF_ENOTFOUND);
    s_fetch (s_admin, "behind", "g", NULL, 100, got, next);
    s_assert_range (got, 5, 6);
    free (got);
}

static void
test_lag_is_the_exact_number_of_uncommitted_events (void **st)
{
    (void)st;
    pub_t ev[15];
    char committed[37];
    s_create ("lag");
    s_publish (s_admin, "lag", 10, ev);
    s_commit (s_admin, "lag", "billing", NULL, ev[3].id, committed);
    s_commit (s_admin, "lag", "audit", NULL, ev[8].id, committed);
    ginfo_t gi = s_group_info (s_admin, "lag", "billing");
    assert_true (gi.found);
    assert_string_equal (gi.committed, ev[3].id);
    assert_int_equal (gi.lag, 6);
    assert_int_equal (gi.members, 0);
    s_publish (s_admin, "lag", 5, ev + 10);
    assert_int_equal (s_group_info (s_admin, "lag", "billing").lag, 11);
    assert_int_equal (s_group_info (s_admin, "lag", "audit").lag, 6);
    s_commit (s_admin, "lag", "billing", NULL, ev[14].id, committed);
    gi = s_group_info (s_admin, "lag", "billing");
    assert_int_equal (gi.lag, 0);
    assert_string_equal (gi.committed, ev[14].id);
    /* both groups listed, in name order, and only this stream's */
    char names[8][64];
    uint32_t n;
    s_info (s_admin, "lag", NULL, names, &n);
    assert_int_equal (n, 2);
    assert_string_equal (names[0], "audit");
    assert_string_equal (names[1], "billing");
    assert_false (s_group_info (s_admin, "behind", "billing").found);
}

/* ---------------------------------------------------------------- seek */

static void
test_seek_to_earliest_latest_an_event_and_a_time (void **st)
{
    (void)st;
    pub_t ev[10], other[1];
    char next[37], committed[37];
    got_t *got = s_got ();
    s_create ("seek");
    s_create ("seek-other");
    /* one publish each, so that received_at grows along the stream */
    for (int i = 0; i < 10; i++)
        s_publish (s_admin, "seek", 1, ev + i);
    s_publish (s_admin, "seek-other", 1, other);
    s_commit (s_admin, "seek", "g", NULL, ev[5].id, committed);

    /* latest: nothing to fetch, no lag */
    assert_int_equal (
        ef_client_seek (s_admin, "seek", "g", "latest", 0, committed), 0);
    assert_string_equal (committed, ev[9].id);
    s_fetch (s_admin, "seek", "g", NULL, 100, got, next);
    assert_int_equal (got->n, 0);
    assert_int_equal (s_group_info (s_admin, "seek", "g").lag, 0);

    /* earliest: back to the beginning (the one way back) */
    assert_int_equal (
        ef_client_seek (s_admin, "seek", "g", "earliest", 0, committed), 0);
    assert_string_equal (committed, "");
    s_fetch (s_admin, "seek", "g", NULL, 100, got, next);
    s_assert_range (got, 1, 10);
    assert_int_equal (s_group_info (s_admin, "seek", "g").lag, 10);

    /* an event: it is the next one fetched */
    assert_int_equal (
        ef_client_seek (s_admin, "seek", "g", ev[3].id, 0, committed), 0);
    assert_string_equal (committed, ev[2].id);
    s_fetch (s_admin, "seek", "g", NULL, 2, got, next);
    s_assert_range (got, 4, 5);
    assert_string_equal (got->id[0], ev[3].id);

    /* a time: the first event received at or after it */
    for (int k = 0; k < 10; k++) {
        uint64_t ts = ev[k].received_at;
        uint64_t want = 0;
        for (int i = 0; i < 10 && !want; i++)
            if (ev[i].received_at >= ts)
                want = ev[i].seq;
        assert_int_equal (
            ef_client_seek (s_admin, "seek", "g", NULL, ts, committed), 0);
        s_fetch (s_admin, "seek", "g", NULL, 1, got, next);
        assert_int_equal (got->n, 1);
        assert_int_equal (got->seq[0], want);
    }
    assert_int_equal (ef_client_seek (s_admin, "seek", "g", NULL,
                                      ev[9].received_at + 1, committed),
                      0);
    s_fetch (s_admin, "seek", "g", NULL, 100, got, next);
    assert_int_equal (got->n, 0);
    assert_int_equal (ef_client_seek (s_admin, "seek", "g", NULL, 1, committed),
                      0);
    s_fetch (s_admin, "seek", "g", NULL, 100, got, next);
    s_assert_range (got, 1, 10);

    /* an event of another stream is not a position of this one */
    assert_int_equal (
        ef_client_seek (s_admin, "seek", "g", other[0].id, 0, committed),
        EF_ENOTFOUND);
    assert_int_equal (
        ef_client_seek (s_admin, "seek", "g", "yesterday", 0, committed),
        EF_EINVAL);
    s_fetch (s_admin, "seek", "g", NULL, 100, got, next);
    s_assert_range (got, 1, 10);
    free (got);
}

/* ---------------------------------------------------------------- members */

static void
test_members_get_disjoint_leases_and_their_own_again (void **st)
{
    (void)st;
    pub_t ev[30];
    char next[37], committed[37], next_a[37], next_b[37], next_c[37];
    got_t *got = s_got ();
    s_create ("members");
    s_publish (s_admin, "members", 30, ev);

    s_fetch (s_admin, "members", "g", "a", 10, got, next_a);
    s_assert_range (got, 1, 10);
    assert_string_equal (next_a, ev[9].id);
    s_fetch (s_admin, "members", "g", "b", 10, got, next_b);
    s_assert_range (got, 11, 20);
    s_fetch (s_admin, "members", "g", "c", 10, got, next_c);
    s_assert_range (got, 21, 30);
    /* a's re-fetch: its own open lease */
    s_fetch (s_admin, "members", "g", "a", 10, got, next);
    s_assert_range (got, 1, 10);
    assert_string_equal (next, ev[9].id);
    /* everything is leased: nothing for d */
    s_fetch (s_admin, "members", "g", "d", 10, got, next);
    assert_int_equal (got->n, 0);
    ginfo_t gi = s_group_info (s_admin, "members", "g");
    assert_int_equal (gi.members, 3);
    assert_int_equal (gi.lag, 30);

    /* b commits first: the offset waits for a */
    s_commit (s_admin, "members", "g", "b", next_b, committed);
    assert_string_equal (committed, "");
    gi = s_group_info (s_admin, "members", "g");
    assert_string_equal (gi.committed, "");
    assert_int_equal (gi.lag, 30);
    assert_int_equal (gi.members, 2);
    /* b's acknowledged range is not handed out again */
    s_fetch (s_admin, "members", "g", "b", 10, got, next);
    assert_int_equal (got->n, 0);
    /* a commits: the offset jumps past both */
    s_commit (s_admin, "members", "g", "a", next_a, committed);
    assert_string_equal (committed, ev[19].id);
    gi = s_group_info (s_admin, "members", "g");
    assert_string_equal (gi.committed, ev[19].id);
    assert_int_equal (gi.lag, 10);
    assert_int_equal (gi.members, 1);
    /* c commits part of its lease: the rest stays c's */
    s_commit (s_admin, "members", "g", "c", ev[24].id, committed);
    assert_string_equal (committed, ev[24].id);
    s_fetch (s_admin, "members", "g", "d", 10, got, next);
    assert_int_equal (got->n, 0);
    s_fetch (s_admin, "members", "g", "c", 10, got, next);
    s_assert_range (got, 26, 30);
    s_commit (s_admin, "members", "g", "c", next, committed);
    gi = s_group_info (s_admin, "members", "g");
    assert_string_equal (gi.committed, ev[29].id);
    assert_int_equal (gi.lag, 0);
    assert_int_equal (gi.members, 0);
    /* a commit behind, by a member, is refused too */
    assert_int_equal (
        ef_client_commit (s_admin, "members", "g", "a", ev[9].id, committed),
        EF_ECONFLICT);
    free (got);
}

static void
test_seek_drops_the_members_leases (void **st)
{
    (void)st;
    pub_t ev[20];
    char committed[37];
    got_t *got = s_got ();
    s_create ("seek-members");
    s_publish (s_admin, "seek-members", 20, ev);
    s_fetch (s_admin, "seek-members", "g", "b", 10, got, NULL);
    s_assert_range (got, 1, 10);
    s_fetch (s_admin, "seek-members", "g", "a", 10, got, NULL);
    s_assert_range (got, 11, 20);
    assert_int_equal (s_group_info (s_admin, "seek-members", "g").members, 2);
    assert_int_equal (
        ef_client_seek (s_admin, "seek-members", "g", "earliest", 0, committed),
        0);
    assert_int_equal (s_group_info (s_admin, "seek-members", "g").members, 0);
    /* a's old lease is gone: it gets the first range now */
    s_fetch (s_admin, "seek-members", "g", "a", 10, got, NULL);
    s_assert_range (got, 1, 10);
    s_fetch (s_admin, "seek-members", "g", "b", 10, got, NULL);
    s_assert_range (got, 11, 20);
    free (got);
}

typedef struct {
    const h_broker_t *b;
    const char *stream;
    const char *group;
    char member[24];
    int commit; /* commit each fetch, until nothing comes */
    pthread_barrier_t *start;
    got_t *got;
    got_t *again; /* without commit: the re-fetch */
    int rc;
    char err[256];
} member_t;

static void *
s_member (void *arg)
{
    member_t *m = arg;
    ef_client_t *c = h_client (m->b);
    pthread_barrier_wait (m->start);
    if (!c) {
        m->rc = -1;
        snprintf (m->err, sizeof m->err, "no client");
        return NULL;
    }
    char next[37];
    for (;;) {
        uint32_t before = m->got->n;
        m->rc = ef_client_fetch (c, m->stream, m->group, m->member, 7, 0,
                                 s_collect, m->got, next);
        if (m->rc || m->got->n == before)
            break;
        if (!m->commit) {
            m->rc = ef_client_fetch (c, m->stream, m->group, m->member, 7, 0,
                                     s_collect, m->again, next);
            break;
        }
        m->rc =
            ef_client_commit (c, m->stream, m->group, m->member, next, NULL);
        if (m->rc)
            break;
    }
    if (m->rc)
        snprintf (m->err, sizeof m->err, "%s: %s", m->member,
                  ef_client_error (c));
    ef_client_destroy (&c);
    return NULL;
}

/*  n members fetch stream concurrently (commit: until it is drained). */
static void
s_run_members (const char *stream, int n, int commit, member_t *m)
{
    pthread_t t[4];
    static pthread_barrier_t start;
    pthread_barrier_init (&start, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        memset (&m[i], 0, sizeof m[i]);
        m[i].b = &s_broker;
        m[i].stream = stream;
        m[i].group = "g";
        snprintf (m[i].member, sizeof m[i].member, "member-%d", i);
        m[i].commit = commit;
        m[i].start = &start;
        m[i].got = s_got ();
        m[i].again = s_got ();
        assert_int_equal (pthread_create (&t[i], NULL, s_member, &m[i]), 0);
    }
    for (int i = 0; i < n; i++)
        assert_int_equal (s_join (t[i], 60000), 0);
    pthread_barrier_destroy (&start);
    for (int i = 0; i < n; i++)
        if (m[i].rc)
            fail_msg ("member %d: %s", i, m[i].err);
}

/*  Every seq 1..total was received by exactly one member. */
static void
s_assert_each_once (member_t *m, int n, uint64_t total)
{
    uint8_t *seen = calloc (total + 1, 1);
    assert_non_null (seen);
    for (int i = 0; i < n; i++)
        for (uint32_t j = 0; j < m[i].got->n; j++) {
            uint64_t s = m[i].got->seq[j];
            if (s < 1 || s > total)
                fail_msg ("%s got seq %llu of %llu", m[i].member,
                          (unsigned long long)s, (unsigned long long)total);
            if (seen[s])
                fail_msg ("seq %llu went to two members (%s among them)",
                          (unsigned long long)s, m[i].member);
            seen[s] = 1;
        }
    for (uint64_t s = 1; s <= total; s++)
        if (!seen[s])
            fail_msg ("seq %llu went to no member", (unsigned long long)s);
    free (seen);
}

static void
s_free_members (member_t *m, int n)
{
    for (int i = 0; i < n; i++) {
        free (m[i].got);
        free (m[i].again);
    }
}

static void
test_concurrent_members_never_share_a_live_lease (void **st)
{
    (void)st;
    static member_t m[4]; /* outlives threads left running by a failure */
    for (int n = 2; n <= 4; n++) {
        char stream[32];
        snprintf (stream, sizeof stream, "leases-%d", n);
        s_create (stream);
        s_publish (s_admin, stream, (uint32_t)(7 * n), NULL);
        s_run_members (stream, n, 0, m);
        /* one fetch each, concurrently: disjoint ranges covering all */
        s_assert_each_once (m, n, 7 * (uint64_t)n);
        for (int i = 0; i < n; i++) {
            /* and each member's re-fetch was its own lease again */
            assert_int_equal (m[i].again->n, m[i].got->n);
            for (uint32_t j = 0; j < m[i].got->n; j++)
                assert_int_equal (m[i].again->seq[j], m[i].got->seq[j]);
        }
        assert_int_equal (s_group_info (s_admin, stream, "g").members,
                          (uint64_t)n);
        s_free_members (m, n);
    }
}

static void
test_concurrent_members_together_receive_every_event_once (void **st)
{
    (void)st;
    static member_t m[4]; /* outlives threads left running by a failure */
    pub_t last[1];
    s_create ("drain");
    s_publish (s_admin, "drain", 299, NULL);
    s_publish (s_admin, "drain", 1, last);
    s_run_members ("drain", 4, 1, m);
    s_assert_each_once (m, 4, 300);
    ginfo_t gi = s_group_info (s_admin, "drain", "g");
    assert_string_equal (gi.committed, last[0].id);
    assert_int_equal (gi.lag, 0);
    assert_int_equal (gi.members, 0);
    s_free_members (m, 4);
}

/* ---------------------------------------------------------------- long poll */

typedef struct {
    const h_broker_t *b;
    const char *stream;
    const char *member;
    int timeout_ms;
    pthread_barrier_t *start;
    got_t *got;
    int rc;
    int64_t elapsed_ms;
    int order;      /* 1 for the first poller to return, 2 for the next… */
    ef_client_t *c; /* kept until all returned: a member whose connection
                       is gone lets its leases go */
} poller_t;

static int s_returned; /* pollers returned so far */

static void *
s_poller (void *arg)
{
    poller_t *p = arg;
    ef_client_t *c = h_client (p->b);
    pthread_barrier_wait (p->start); /* connected */
    pthread_barrier_wait (p->start); /* go */
    if (!c) {
        p->rc = -1;
        return NULL;
    }
    int64_t t0 = ef_time_mono_ms ();
    p->rc = ef_client_fetch (c, p->stream, "g", p->member, 10, p->timeout_ms,
                             s_collect, p->got, NULL);
    p->elapsed_ms = ef_time_mono_ms () - t0;
    p->order = __atomic_add_fetch (&s_returned, 1, __ATOMIC_SEQ_CST);
    p->c = c;
    return NULL;
}

static uint64_t
s_requests (void)
{
    ef_stats_t stats;
    assert_int_equal (ef_client_stats (s_admin, &stats), 0);
    return stats.requests;
}

/*  n threads long-poll stream (one each, as members[i]) with timeout_ms;
    once all their fetches are in flight, one event is published (into
    *ev); the threads are joined. p (n entries, on the heap: left alone if
    the test fails while they run) gets what each saw; *published the
    time of the publish. */
static void
s_long_poll (const char *stream, const char *const *members, int n,
             int timeout_ms, poller_t *p, pub_t *ev, int64_t *published)
{
    pthread_t t[4];
    pthread_barrier_t *start = malloc (sizeof *start);
    assert_non_null (start);
    s_create (stream);
    pthread_barrier_init (start, NULL, (unsigned)n + 1);
    for (int i = 0; i < n; i++) {
        memset (&p[i], 0, sizeof p[i]);
        p[i].b = &s_broker;
        p[i].stream = stream;
        p[i].member = members[i];
        p[i].timeout_ms = timeout_ms;
        p[i].start = start;
        p[i].got = s_got ();
        assert_int_equal (pthread_create (&t[i], NULL, s_poller, &p[i]), 0);
    }
    /* the fetches are in flight once the broker counted n requests more
       than this thread's own STATS calls since the pollers connected */
    pthread_barrier_wait (start);
    uint64_t base = s_requests ();
    pthread_barrier_wait (start);
    if (h_wait_requests (s_admin, base, (uint64_t)n, 5000))
        fail_msg ("the fetches never reached the broker (requests %llu, "
                  "now %llu)",
                  (unsigned long long)base, (unsigned long long)s_requests ());
    *published = ef_time_mono_ms ();
    s_publish (s_admin, stream, 1, ev);
    for (int i = 0; i < n; i++)
        assert_int_equal (s_join (t[i], 20000), 0);
    for (int i = 0; i < n; i++)
        ef_client_destroy (&p[i].c);
    pthread_barrier_destroy (start);
    free (start);
    for (int i = 0; i < n; i++)
        assert_int_equal (p[i].rc, 0);
}

/*  A fetch waiting on an empty stream returns with the event published
    while it waits, well before its timeout. */
static void
s_long_poll_one (const char *stream, const char *member)
{
    poller_t *p = calloc (1, sizeof *p);
    pub_t ev[1];
    int64_t published;
    assert_non_null (p);
    s_long_poll (stream, &member, 1, 10000, p, ev, &published);
    int64_t returned = ef_time_mono_ms ();
    assert_int_equal (p->got->n, 1);
    assert_string_equal (p->got->id[0], ev[0].id);
    if (p->elapsed_ms >= 5000 || returned - published >= 5000)
        fail_msg ("the long poll took %lld ms (%lld after the publish)",
                  (long long)p->elapsed_ms, (long long)(returned - published));
    free (p->got);
    free (p);
}

static void
test_long_poll_returns_promptly_when_an_event_is_published (void **st)
{
    (void)st;
    s_long_poll_one ("poll", NULL);
}

static void
test_a_members_long_poll_returns_promptly_when_an_event_is_published (void **st)
{
    (void)st;
    s_long_poll_one ("poll-member", "m1");
    /* and the event is that member's lease */
    got_t *got = s_got ();
    s_fetch (s_admin, "poll-member", "g", "m2", 10, got, NULL);
    assert_int_equal (got->n, 0);
    s_fetch (s_admin, "poll-member", "g", "m1", 10, got, NULL);
    s_assert_range (got, 1, 1);
    free (got);
}

static void
test_members_woken_by_one_event_do_not_both_receive_it (void **st)
{
    (void)st;
    const char *members[] = {"m1", "m2"};
    poller_t *p = calloc (2, sizeof *p);
    pub_t ev[1];
    int64_t published;
    assert_non_null (p);
    s_long_poll ("poll-two", members, 2, 2000, p, ev, &published);
    assert_int_equal (p[0].got->n + p[1].got->n, 1);
    int winner = p[0].got->n ? 0 : 1;
    assert_string_equal (p[winner].got->id[0], ev[0].id);
    /* the event woke the member that got it: it returned first, while
       the other went on waiting */
    if (p[winner].order >= p[1 - winner].order)
        fail_msg ("the member with the event returned after the other "
                  "(%lld ms, the other %lld ms)",
                  (long long)p[winner].elapsed_ms,
                  (long long)p[1 - winner].elapsed_ms);
    /* the other answered empty at its time and not before: a lower bound
       (the broker's clock starts after ours), which load cannot break */
    if (p[1 - winner].elapsed_ms < 1900)
        fail_msg ("the member without the event answered after %lld ms of "
                  "2000",
                  (long long)p[1 - winner].elapsed_ms);
    for (int i = 0; i < 2; i++)
        free (p[i].got);
    free (p);
}

static void
test_long_poll_with_nothing_published_answers_an_empty_list_in_time (void **st)
{
    (void)st;
    got_t *got = s_got ();
    char next[37];
    s_create ("quiet");
    const char *members[] = {NULL, "m1"};
    for (int i = 0; i < 2; i++) {
        memset (got, 0, sizeof *got);
        int64_t t0 = ef_time_mono_ms ();
        assert_int_equal (ef_client_fetch (s_admin, "quiet", "g", members[i],
                                           10, 300, s_collect, got, next),
                          0);
        int64_t took = ef_time_mono_ms () - t0;
        assert_int_equal (got->n, 0);
        assert_string_equal (next, "");
        if (took < 250 || took > 5000)
            fail_msg ("a 300 ms long poll answered after %lld ms",
                      (long long)took);
    }
    free (got);
}

/* ---------------------------------------------------------------- failure */

/*  h_wait_until: group "m" of "dies" has one member with a live lease
    (worker-2: worker-1's was let go). */
static int
s_no_lease_of_worker_1 (void *arg)
{
    (void)arg;
    return s_group_info (s_admin, "dies", "m").members == 1;
}

static void
test_a_consumer_that_dies_without_committing_gets_the_events_again (void **st)
{
    (void)st;
    pub_t ev[20];
    got_t *got = s_got ();
    got_t *first = s_got ();
    s_create ("dies");
    s_publish (s_admin, "dies", 20, ev);

    /* a group read without members */
    ef_client_t *c = h_client (&s_broker);
    assert_non_null (c);
    s_fetch (c, "dies", "g", NULL, 5, first, NULL);
    s_assert_range (first, 1, 5);
    ef_client_destroy (&c);
    c = h_client (&s_broker);
    assert_non_null (c);
    s_fetch (c, "dies", "g", NULL, 5, got, NULL);
    s_assert_range (got, 1, 5);
    for (int i = 0; i < 5; i++)
        assert_string_equal (got->id[i], first->id[i]);
    ef_client_destroy (&c);

    /* a member: while its connection lives, its lease is its own; once
       the connection is gone (the broker pings members), the lease goes
       to the next member that fetches: the same events again */
    c = h_client (&s_broker);
    assert_non_null (c);
    s_fetch (c, "dies", "m", "worker-1", 5, first, NULL);
    s_assert_range (first, 1, 5);
    ef_client_t *other = h_client (&s_broker);
    assert_non_null (other);
    s_fetch (other, "dies", "m", "worker-2", 5, got, NULL);
    s_assert_range (got, 6, 10); /* the lease is live: not to another */
    ef_client_destroy (&c);
    assert_int_equal (h_wait_until (s_no_lease_of_worker_1, NULL, 20000), 0);
    s_fetch (other, "dies", "m", "worker-3", 5, got, NULL);
    s_assert_range (got, 1, 5);
    for (int i = 0; i < 5; i++)
        assert_string_equal (got->id[i], first->id[i]);
    ef_client_destroy (&other);
    free (first);
    free (got);
}

static void
test_group_state_survives_a_kill9 (void **st)
{
    (void)st;
    char dir[256], committed[37];
    h_broker_t b;
    pub_t ev[20];
    got_t *got = s_got ();
    assert_int_equal (h_tempdir (dir), 0);
    assert_int_equal (h_broker_start (&b, dir, NULL), 0);
    ef_client_t *c = h_client (&b);
    assert_non_null (c);
    assert_int_equal (ef_client_create_stream (c, "crash", NULL), 0);
    s_publish (c, "crash", 20, ev);
    s_commit (c, "crash", "g", NULL, ev[11].id, committed);
    s_fetch (c, "crash", "m", "m1", 3, got, NULL); /* 1..3, not committed */
    s_assert_range (got, 1, 3);
    s_fetch (c, "crash", "m", "m2", 3, got, NULL); /* 4..6, committed */
    s_commit (c, "crash", "m", "m2", got->id[2], committed);
    ginfo_t before = s_group_info (c, "crash", "g");
    assert_int_equal (before.lag, 8);
    ef_client_destroy (&c);

    h_broker_kill9 (&b);
    assert_int_equal (h_broker_start (&b, dir, NULL), 0);
    c = h_client (&b);
    assert_non_null (c);
    ginfo_t after = s_group_info (c, "crash", "g");
    assert_true (after.found);
    assert_string_equal (after.committed, ev[11].id);
    assert_int_equal (after.lag, 8);
    s_fetch (c, "crash", "g", NULL, 100, got, NULL);
    s_assert_range (got, 13, 20);
    /* the members' state too: m2's acknowledged range stays; m1's lease
       was let go by the restart, and m1 takes it again */
    after = s_group_info (c, "crash", "m");
    assert_string_equal (after.committed, "");
    assert_int_equal (after.lag, 20);
    assert_int_equal (after.members, 0);
    s_fetch (c, "crash", "m", "m1", 3, got, NULL);
    s_assert_range (got, 1, 3);
    s_fetch (c, "crash", "m", "m3", 3, got, NULL);
    s_assert_range (got, 7, 9);
    ef_client_destroy (&c);
    assert_int_equal (h_broker_stop (&b), 0);
    h_rmrf (dir);
    free (got);
}

/*  Leases live in the broker's memory: a restart lets them go. The
    range a member held (stored along with another member's commit) goes
    at once to the next member that fetches, as after an expiry; a range
    leased after the last commit was never stored and is leased again in
    its turn; committed ranges stay committed. */
static void
test_leases_are_let_go_by_a_restart (void **st)
{
    (void)st;
    char dir[256], committed[37];
    h_broker_t b;
    got_t *got = s_got ();
    assert_int_equal (h_tempdir (dir), 0);
    assert_int_equal (h_broker_start (&b, dir, NULL), 0);
    ef_client_t *c = h_client (&b);
    assert_non_null (c);
    assert_int_equal (ef_client_create_stream (c, "restart", NULL), 0);
    s_publish (c, "restart", 12, NULL);
    s_fetch (c, "restart", "m", "m1", 3, got, NULL);
    s_assert_range (got, 1, 3);
    s_fetch (c, "restart", "m", "m2", 3, got, NULL);
    s_assert_range (got, 4, 6);
    s_commit (c, "restart", "m", "m2", got->id[2], committed);
    s_fetch (c, "restart", "m", "m4", 3, got, NULL); /* never stored */
    s_assert_range (got, 7, 9);
    assert_int_equal (s_group_info (c, "restart", "m").members, 2);
    ef_client_destroy (&c);

    assert_int_equal (h_broker_stop (&b), 0);
    assert_int_equal (h_broker_start (&b, dir, NULL), 0);
    c = h_client (&b);
    assert_non_null (c);
    ginfo_t gi = s_group_info (c, "restart", "m");
    assert_true (gi.found);
    assert_int_equal (gi.members, 0);
    /* not m1's any more: the first member to fetch gets it, at once */
    s_fetch (c, "restart", "m", "m3", 3, got, NULL);
    s_assert_range (got, 1, 3);
    s_fetch (c, "restart", "m", "m5", 3, got, NULL);
    s_assert_range (got, 7, 9);
    s_fetch (c, "restart", "m", "m1", 3, got, NULL);
    s_assert_range (got, 10, 12);
    assert_int_equal (s_group_info (c, "restart", "m").members, 3);
    ef_client_destroy (&c);
    assert_int_equal (h_broker_stop (&b), 0);
    h_rmrf (dir);
    free (got);
}

static void
s_commit_status (void *arg, int status)
{
    *(int *)arg = status;
}

/*  A consumer sends each page's commit without waiting for its answer
    (which comes once the commit is durable) and fetches the next page
    right behind it: the fetch sees the commit, with or without a member.
    Once answered, the commits are durable (they survive a kill -9). */
static void
test_a_fetch_right_behind_an_unanswered_commit_sees_it (void **st)
{
    (void)st;
    char dir[256], next[37];
    h_broker_t b;
    pub_t ev[30];
    got_t *got = s_got ();
    int status[6];
    assert_int_equal (h_tempdir (dir), 0);
    assert_int_equal (h_broker_start (&b, dir, NULL), 0);
    ef_client_t *c = h_client (&b);
    assert_non_null (c);
    assert_int_equal (ef_client_create_stream (c, "behind", NULL), 0);
    s_publish (c, "behind", 30, ev);
    const char *member[2] = {NULL, "m1"};
    const char *group[2] = {"plain", "members"};
    for (int m = 0; m < 2; m++) {
        for (int page = 0; page < 3; page++) {
            s_fetch (c, "behind", group[m], member[m], 10, got, next);
            s_assert_range (got, page * 10 + 1, page * 10 + 10);
            status[m * 3 + page] = 1; /* not answered yet */
            assert_int_equal (
                ef_client_commit_async (c, "behind", group[m], member[m], next,
                                        s_commit_status, &status[m * 3 + page]),
                0);
        }
        s_fetch (c, "behind", group[m], member[m], 10, got, next);
        assert_int_equal (got->n, 0); /* all 30 committed */
    }
    assert_int_equal (ef_client_flush (c, WAIT_MS), 0);
    for (int i = 0; i < 6; i++)
        assert_int_equal (status[i], 0);
    ef_client_destroy (&c);

    h_broker_kill9 (&b);
    assert_int_equal (h_broker_start (&b, dir, NULL), 0);
    c = h_client (&b);
    assert_non_null (c);
    for (int m = 0; m < 2; m++) {
        ginfo_t gi = s_group_info (c, "behind", group[m]);
        assert_string_equal (gi.committed, ev[29].id);
        assert_int_equal (gi.lag, 0);
    }
    ef_client_destroy (&c);
    assert_int_equal (h_broker_stop (&b), 0);
    h_rmrf (dir);
    free (got);
}

/*  Many parked long polls at once, from one raw connection: 3 streams ×
    100 groups. A publish to one stream answers exactly its 100 with the
    event; the others stay parked and answer empty at their timeout. */
static void
test_many_parked_long_polls_wake_by_stream_and_expire_on_time (void **st)
{
    (void)st;
    const char *streams[3] = {"park-a", "park-b", "park-c"};
    pub_t ev[1];
    for (int i = 0; i < 3; i++)
        s_create (streams[i]);
    void *ctx = zmq_ctx_new ();
    void *sock = zmq_socket (ctx, ZMQ_DEALER);
    assert_int_equal (h_curve_socket (&s_broker, sock), 0);
    assert_int_equal (zmq_connect (sock, s_broker.endpoint), 0);
    ef_buf_t b;
    ef_buf_init (&b);
    char group[32];
    uint64_t base = s_requests ();
    /* before any is sent: the broker counts each timeout from later */
    int64_t t0 = ef_time_mono_ms ();
    for (uint64_t id = 1; id <= 300; id++) {
        ef_request_t req = {0};
        snprintf (group, sizeof group, "g%llu", (unsigned long long)id);
        req.v = EF_PROTO_VERSION;
        req.id = id;
        req.cmd = EF_CMD_FETCH;
        req.stream = ef_str (streams[(id - 1) / 100]);
        req.group = ef_str (group);
        req.limit = 10;
        req.timeout = id <= 100 || id > 200 ? 1500 : 20000;
        ef_buf_reset (&b);
        assert_int_equal (ef_proto_encode_request (&b, &req), 0);
        assert_int_equal (zmq_send (sock, b.data, b.len, 0), (int)b.len);
    }
    /* all parked once the broker counted the 300 */
    assert_int_equal (h_wait_requests (s_admin, base, 300, 10000), 0);
    s_publish (s_admin, "park-b", 1, ev);
    int with_event = 0, empty = 0, timeout = 5000;
    zmq_setsockopt (sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    for (int i = 0; i < 300; i++) {
        zmq_msg_t m;
        zmq_msg_init (&m);
        assert_true (zmq_msg_recv (&m, sock, 0) >= 0);
        ef_reply_t rep;
        ef_mpr_t r;
        uint32_t n;
        assert_int_equal (
            ef_proto_decode_reply (zmq_msg_data (&m), zmq_msg_size (&m), &rep),
            0);
        assert_true (rep.ok);
        assert_int_equal (ef_proto_reply_find (&rep, "events", &r), 0);
        assert_int_equal (ef_mpr_array (&r, &n), 0);
        if (rep.id > 100 && rep.id <= 200) {
            /* park-b's, woken by its event, long before their 20 s */
            assert_int_equal (n, 1);
            ef_event_t e;
            assert_int_equal (ef_proto_read_event (&r, &e), 0);
            assert_true (ef_str_eq (e.event_id, ev[0].id));
            with_event++;
        } else {
            /* the others, at their 1.5 s, and not before (a lower bound
               from before the send, which load cannot break) */
            assert_int_equal (n, 0);
            assert_true (ef_time_mono_ms () - t0 >= 1300);
            empty++;
        }
        zmq_msg_close (&m);
    }
    assert_int_equal (with_event, 100);
    assert_int_equal (empty, 200);
    ef_buf_free (&b);
    zmq_close (sock);
    zmq_ctx_term (ctx);
}

/*  One commit-then-fetch into a fresh got; returns the client's code. */
static int
s_commit_fetch (ef_client_t *c, const char *stream, const char *member,
                const char *commit, uint32_t limit, int timeout_ms, got_t *got,
                char *next)
{
    memset (got, 0, sizeof *got);
    return ef_client_commit_fetch (c, stream, "g", member, commit, limit,
                                   timeout_ms, s_collect, got, next);
}

typedef struct {
    const char *commit;
    got_t *got;
    int rc;
} s_cf_t;

static void *
s_commit_fetch_long (void *arg)
{
    s_cf_t *a = arg;
    ef_client_t *c = h_client (&s_broker);
    a->rc = c ? s_commit_fetch (c, "ack-next", NULL, a->commit, 10, 10000,
                                a->got, NULL)
              : -1;
    ef_client_destroy (&c);
    return NULL;
}

typedef struct {
    const char *stream;
    const char *id;
} s_committed_t;

/*  h_wait_until: group g of a->stream has committed a->id. */
static int
s_committed (void *arg)
{
    s_committed_t *a = arg;
    ginfo_t gi = s_group_info (s_admin, a->stream, "g");
    return strcmp (gi.committed, a->id) == 0;
}

static void
test_commit_then_fetch_in_one_request (void **st)
{
    (void)st;
    pub_t ev[12];
    got_t *got = s_got ();
    char next[37];
    s_create ("ack-next");
    s_publish (s_admin, "ack-next", 10, ev);

    /* nothing to commit yet: a plain fetch */
    assert_int_equal (
        s_commit_fetch (s_admin, "ack-next", NULL, NULL, 4, 0, got, next), 0);
    s_assert_range (got, 1, 4);
    /* commit the page, get the next one, in one request */
    assert_int_equal (
        s_commit_fetch (s_admin, "ack-next", NULL, next, 4, 0, got, next), 0);
    s_assert_range (got, 5, 8);
    ginfo_t gi = s_group_info (s_admin, "ack-next", "g");
    assert_string_equal (gi.committed, ev[3].id);
    assert_int_equal (gi.lag, 6);
    /* a refused commit fetches nothing and changes nothing */
    assert_int_equal (
        s_commit_fetch (s_admin, "ack-next", NULL, ev[1].id, 4, 0, got, NULL),
        EF_ECONFLICT);
    assert_int_equal (got->n, 0);
    assert_int_equal (s_commit_fetch (s_admin, "ack-next", NULL,
                                      "00000000-0000-7000-8000-000000000000", 4,
                                      0, got, NULL),
                      EF_ENOTFOUND);
    assert_int_equal (got->n, 0);
    gi = s_group_info (s_admin, "ack-next", "g");
    assert_string_equal (gi.committed, ev[3].id);
    assert_int_equal (
        s_commit_fetch (s_admin, "ack-next", NULL, next, 4, 0, got, next), 0);
    s_assert_range (got, 9, 10);

    /* the last page's commit with a long poll: it waits, and a publish
       answers it with the new event (the commit is not made twice) */
    s_cf_t a = {ev[9].id, got, -1};
    pthread_t t;
    assert_int_equal (pthread_create (&t, NULL, s_commit_fetch_long, &a), 0);
    /* the commit and the park are one request: once the commit shows,
       the fetch waits (and cannot have returned: nothing is published) */
    s_committed_t cw = {"ack-next", ev[9].id};
    assert_int_equal (h_wait_until (s_committed, &cw, 10000), 0);
    assert_int_equal (pthread_tryjoin_np (t, NULL), EBUSY);
    gi = s_group_info (s_admin, "ack-next", "g");
    assert_string_equal (gi.committed, ev[9].id); /* committed while waiting */
    s_publish (s_admin, "ack-next", 1, ev + 10);
    pthread_join (t, NULL);
    assert_int_equal (a.rc, 0);
    s_assert_range (got, 11, 11);
    assert_string_equal (got->id[0], ev[10].id);

    /* a member commits its lease and gets the next one */
    s_publish (s_admin, "ack-next", 1, ev + 11);
    assert_int_equal (
        s_commit_fetch (s_admin, "ack-next", "m1", NULL, 1, 0, got, next), 0);
    s_assert_range (got, 11, 11);
    assert_int_equal (
        s_commit_fetch (s_admin, "ack-next", "m1", next, 1, 0, got, next), 0);
    s_assert_range (got, 12, 12);
    gi = s_group_info (s_admin, "ack-next", "g");
    assert_string_equal (gi.committed, ev[10].id);
    free (got);
}

/* ---------------------------------------------------------------- push */

static void
s_poll_until (ef_consumer_t *k, got_t *got, uint32_t n)
{
    int64_t deadline = ef_time_mono_ms () + 10000;
    while (got->n < n) {
        int rc = ef_consumer_poll (k, 500, s_collect, got);
        if (rc < 0)
            fail_msg ("consumer poll: %s", ef_strerror (rc));
        if (ef_time_mono_ms () > deadline)
            fail_msg ("%u of %u pushed events arrived", got->n, n);
    }
    assert_int_equal (got->n, n);
}

static void
test_push_respects_credit_and_delivers_everything_in_order (void **st)
{
    (void)st;
    pub_t ev[28];
    got_t *got = s_got ();
    got_t *fetched = s_got ();
    s_create ("push");
    s_publish (s_admin, "push", 25, ev);

    ef_client_t *c = h_client (&s_broker);
    assert_non_null (c);
    ef_consumer_t *k = ef_consumer_new (c, "push", "g");
    assert_non_null (k);
    assert_int_equal (ef_consumer_start (k, 10), 0);
    /* no more than the credit before more is granted */
    int rc = ef_consumer_poll (k, 5000, s_collect, got);
    assert_true (rc > 0);
    if (got->n > 10)
        fail_msg ("%u events pushed on a credit of 10", got->n);
    s_poll_until (k, got, 25);
    for (uint32_t i = 0; i < 25; i++)
        assert_int_equal (got->seq[i], i + 1);
    assert_string_equal (ef_consumer_last (k), ev[24].id);
    assert_int_equal (ef_consumer_commit (k), 0);
    ginfo_t gi = s_group_info (s_admin, "push", "g");
    assert_string_equal (gi.committed, ev[24].id);
    assert_int_equal (gi.lag, 0);

    /* events published later arrive too */
    s_publish (s_admin, "push", 3, ev + 25);
    s_poll_until (k, got, 28);
    for (uint32_t i = 25; i < 28; i++)
        assert_string_equal (got->id[i], ev[i].id);
    /* a FETCH of the group starts after what the consumer committed */
    s_fetch (s_admin, "push", "g", NULL, 100, fetched, NULL);
    s_assert_range (fetched, 26, 28);

    /* a new subscription starts at the committed offset */
    ef_consumer_destroy (&k);
    k = ef_consumer_new (c, "push", "g");
    assert_non_null (k);
    assert_int_equal (ef_consumer_start (k, 100), 0);
    memset (got, 0, sizeof *got);
    s_poll_until (k, got, 3);
    assert_int_equal (got->seq[0], 26);
    ef_consumer_destroy (&k);
    ef_client_destroy (&c);
    free (fetched);
    free (got);
}

/*  One org may hold a quarter of the broker's 10,000 subscriptions; the
    next is refused with QUOTA, and another org still subscribes. (The
    org filling its share is a new one: subscriptions outlive their
    connection until the broker's next ping to it.) */
static void
test_one_org_holds_at_most_a_quarter_of_the_subscriptions (void **st)
{
    (void)st;
    static char jwt[1024];
    h_new_org (s_admin, jwt, sizeof jwt, "quota-subs@example.com", "subs-corp");
    ef_client_t *o = h_client (&s_broker);
    assert_non_null (o);
    ef_client_set_jwt (o, jwt);
    ef_client_set_max_inflight (o, 3000);
    const ef_reply_t *rep;
    ef_request_t mk = {0};
    mk.cmd = EF_CMD_CREATE_STREAM;
    mk.name = ef_str ("subs-quota");
    assert_int_equal (ef_client_call (o, &mk, &rep), 0);
    ef_request_t req = {0};
    req.cmd = EF_CMD_SUBSCRIBE;
    req.stream = ef_str ("subs-quota");
    req.group = ef_str ("q");
    req.credit = 1;
    for (int i = 0; i < 2500; i++)
        assert_int_equal (ef_client_send (o, &req), 0);
    assert_int_equal (ef_client_flush (o, WAIT_MS), 0);
    assert_int_equal (ef_client_call (o, &req, &rep), EF_EQUOTA);
    ef_client_destroy (&o);

    /* the others' subscriptions are not counted against theirs (a new
       request: the client filled in its own token in that one) */
    s_create ("subs-quota");
    ef_client_t *c = h_client (&s_broker);
    assert_non_null (c);
    ef_request_t ours = {0};
    ours.cmd = EF_CMD_SUBSCRIBE;
    ours.stream = ef_str ("subs-quota");
    ours.group = ef_str ("q");
    ours.credit = 1;
    assert_int_equal (ef_client_call (c, &ours, &rep), 0);
    ef_client_destroy (&c);
}

/*  Groups are held in the broker's memory while a member's lease is live
    (FETCH writes nothing): one org may hold a quarter of the broker's
    2,048 at once; a FETCH that would take another is refused with QUOTA
    (nothing is leased), and another org still fetches in a new group. */
static void
test_one_org_holds_at_most_a_quarter_of_the_groups_in_memory (void **st)
{
    (void)st;
    static char jwt[1024];
    h_new_org (s_admin, jwt, sizeof jwt, "quota-groups@example.com",
               "groups-corp");
    ef_client_t *o = h_client (&s_broker);
    assert_non_null (o);
    ef_client_set_jwt (o, jwt);
    ef_client_set_max_inflight (o, 1000);
    assert_int_equal (ef_client_create_stream (o, "groups-quota", NULL), 0);
    pub_t ev[1];
    s_publish (o, "groups-quota", 1, ev);
    ef_request_t req = {0};
    req.cmd = EF_CMD_FETCH;
    req.stream = ef_str ("groups-quota");
    req.consumer_id = ef_str ("m");
    char name[32];
    for (int i = 0; i < 512; i++) {
        snprintf (name, sizeof name, "g%d", i);
        req.group = ef_str (name);
        assert_int_equal (ef_client_send (o, &req), 0);
    }
    assert_int_equal (ef_client_flush (o, WAIT_MS), 0);
    const ef_reply_t *rep;
    req.group = ef_str ("one-too-many");
    assert_int_equal (ef_client_call (o, &req, &rep), EF_EQUOTA);
    assert_non_null (strstr (ef_client_error (o), "consumer groups"));
    /* one of its own, already in memory, still fetches */
    req.group = ef_str ("g7");
    assert_int_equal (ef_client_call (o, &req, &rep), 0);
    ef_client_destroy (&o);

    s_create ("groups-quota");
    ef_client_t *c = h_client (&s_broker);
    assert_non_null (c);
    ef_request_t ours = {0};
    ours.cmd = EF_CMD_FETCH;
    ours.stream = ef_str ("groups-quota");
    ours.group = ef_str ("another-org");
    ours.consumer_id = ef_str ("m");
    assert_int_equal (ef_client_call (c, &ours, &rep), 0);
    ef_client_destroy (&c);
}

/*  s_collect, asking to stop after every 7th event. */
static int
s_collect_stop7 (void *arg, const ef_event_t *ev)
{
    got_t *g = arg;
    s_collect (g, ev);
    return g->n % 7 == 0;
}

static void
test_push_stopped_mid_frame_hands_the_rest_over_next_time (void **st)
{
    (void)st;
    pub_t ev[30];
    got_t *got = s_got ();
    s_create ("push-stop");
    s_publish (s_admin, "push-stop", 30, ev);

    ef_client_t *c = h_client (&s_broker);
    assert_non_null (c);
    ef_consumer_t *k = ef_consumer_new (c, "push-stop", "g");
    assert_non_null (k);
    /* one frame can carry all 30; the callback stops after every 7th,
       and every poll commits what it was handed */
    assert_int_equal (ef_consumer_start (k, 100), 0);
    int64_t deadline = ef_time_mono_ms () + 10000;
    while (got->n < 30 && ef_time_mono_ms () < deadline) {
        uint32_t before = got->n;
        int rc = ef_consumer_poll (k, 500, s_collect_stop7, got);
        assert_true (rc >= 0);
        assert_int_equal ((uint32_t)rc, got->n - before);
        assert_true (rc <= 7);
        if (rc) {
            assert_string_equal (ef_consumer_last (k), got->id[got->n - 1]);
            assert_int_equal (ef_consumer_commit (k), 0);
        }
    }
    /* nothing skipped, nothing twice, in order */
    assert_int_equal (got->n, 30);
    for (uint32_t i = 0; i < 30; i++)
        assert_string_equal (got->id[i], ev[i].id);
    ginfo_t gi = s_group_info (s_admin, "push-stop", "g");
    assert_string_equal (gi.committed, ev[29].id);
    assert_int_equal (gi.lag, 0);
    ef_consumer_destroy (&k);
    ef_client_destroy (&c);
    free (got);
}

/* ---------------------------------------------------------------- roles */

/*  A client whose CurveZMQ key is registered with role; its key file is
    written to path. */
static ef_client_t *
s_client_with_role (const char *role, char *path)
{
    ef_cert_t cert;
    snprintf (path, 512, "%s/%s.key", s_dir, role);
    assert_int_equal (ef_cert_generate (&cert), 0);
    assert_int_equal (ef_cert_save (path, &cert, 0), 0);
    assert_int_equal (h_clientkey_add (&s_broker, s_admin, &cert, role, role),
                      0);
    ef_client_t *c = h_client_new (&s_broker, path);
    assert_non_null (c);
    assert_int_equal (ef_client_connect (c), 0);
    return c;
}

static void
test_a_producer_may_not_fetch_and_a_consumer_may_not_publish (void **st)
{
    (void)st;
    char ppath[512], cpath[512], next[37], committed[37];
    pub_t ev[3];
    got_t *got = s_got ();
    s_create ("roles");
    s_publish (s_admin, "roles", 3, ev);
    ef_client_t *producer = s_client_with_role ("producer", ppath);
    ef_client_t *consumer = s_client_with_role ("consumer", cpath);

    assert_int_equal (ef_client_fetch (producer, "roles", "g", NULL, 10, 0,
                                       s_collect, got, next),
                      EF_EFORBIDDEN);
    assert_int_equal (ef_client_fetch (producer, "roles", "g", "p1", 10, 0,
                                       s_collect, got, next),
                      EF_EFORBIDDEN);
    assert_int_equal (got->n, 0);
    assert_int_equal (
        ef_client_commit (producer, "roles", "g", NULL, ev[2].id, committed),
        EF_EFORBIDDEN);
    assert_int_equal (
        ef_client_seek (producer, "roles", "g", "latest", 0, committed),
        EF_EFORBIDDEN);
    assert_false (s_group_info (s_admin, "roles", "g").found);
    s_publish (producer, "roles", 1, NULL); /* it may publish */

    s_fetch (consumer, "roles", "g", NULL, 10, got, next);
    s_assert_range (got, 1, 4);
    s_commit (consumer, "roles", "g", NULL, next, committed);
    assert_string_equal (committed, next);
    assert_int_equal (s_group_info (consumer, "roles", "g").lag, 0);
    ef_event_in_t in;
    ef_publish_result_t res;
    memset (&in, 0, sizeof in);
    in.type = ef_str ("t");
    in.payload = ef_str ("{}");
    assert_int_equal (ef_client_publish (consumer, "roles", &in, 1, &res),
                      EF_EFORBIDDEN);
    assert_int_equal (s_group_info (s_admin, "roles", "g").lag, 0);

    ef_client_destroy (&producer);
    ef_client_destroy (&consumer);
    unlink (ppath);
    unlink (cpath);
    free (got);
}

/* ---------------------------------------------------------------- input */

static void
test_fetch_refuses_bad_group_names_and_unknown_streams (void **st)
{
    (void)st;
    got_t *got = s_got ();
    char next[37], longest[80];
    memset (longest, 'x', 65);
    longest[65] = 0;
    s_create ("input");
    assert_int_equal (ef_client_fetch (s_admin, "input", "a b", NULL, 10, 0,
                                       s_collect, got, next),
                      EF_EINVAL);
    assert_int_equal (ef_client_fetch (s_admin, "input", "", NULL, 10, 0,
                                       s_collect, got, next),
                      EF_EINVAL);
    assert_int_equal (ef_client_fetch (s_admin, "input", "g", longest, 10, 0,
                                       s_collect, got, next),
                      EF_EINVAL);
    assert_int_equal (ef_client_fetch (s_admin, "no-such-stream", "g", NULL, 10,
                                       0, s_collect, got, next),
                      EF_ENOTFOUND);
    assert_int_equal (ef_client_fetch (s_admin, "no-such-stream", "g", "m1", 10,
                                       0, s_collect, got, next),
                      EF_ENOTFOUND);
    free (got);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (
            test_a_new_group_reads_from_the_beginning_again_until_it_commits),
        cmocka_unit_test (
            test_commit_behind_the_offset_conflicts_and_changes_nothing),
        cmocka_unit_test (test_lag_is_the_exact_number_of_uncommitted_events),
        cmocka_unit_test (test_seek_to_earliest_latest_an_event_and_a_time),
        cmocka_unit_test (test_members_get_disjoint_leases_and_their_own_again),
        cmocka_unit_test (test_seek_drops_the_members_leases),
        cmocka_unit_test (test_concurrent_members_never_share_a_live_lease),
        cmocka_unit_test (
            test_concurrent_members_together_receive_every_event_once),
        cmocka_unit_test (
            test_long_poll_returns_promptly_when_an_event_is_published),
        cmocka_unit_test (
            test_a_members_long_poll_returns_promptly_when_an_event_is_published),
        cmocka_unit_test (
            test_members_woken_by_one_event_do_not_both_receive_it),
        cmocka_unit_test (
            test_long_poll_with_nothing_published_answers_an_empty_list_in_time),
        cmocka_unit_test (
            test_a_consumer_that_dies_without_committing_gets_the_events_again),
        cmocka_unit_test (test_group_state_survives_a_kill9),
        cmocka_unit_test (test_leases_are_let_go_by_a_restart),
        cmocka_unit_test (
            test_a_fetch_right_behind_an_unanswered_commit_sees_it),
        cmocka_unit_test (
            test_push_respects_credit_and_delivers_everything_in_order),
        cmocka_unit_test (
            test_one_org_holds_at_most_a_quarter_of_the_subscriptions),
        cmocka_unit_test (
            test_one_org_holds_at_most_a_quarter_of_the_groups_in_memory),
        cmocka_unit_test (
            test_push_stopped_mid_frame_hands_the_rest_over_next_time),
        cmocka_unit_test (
            test_many_parked_long_polls_wake_by_stream_and_expire_on_time),
        cmocka_unit_test (test_commit_then_fetch_in_one_request),
        cmocka_unit_test (
            test_a_producer_may_not_fetch_and_a_consumer_may_not_publish),
        cmocka_unit_test (
            test_fetch_refuses_bad_group_names_and_unknown_streams),
    };
    return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
