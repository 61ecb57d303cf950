/*  test_groups.c: unit tests of ef_groups, the consumer-group rules
    (DESIGN.md §6). The rules are pure functions over an ef_group_t, so
    they are driven here without a broker and with time passed in as
    now_ms: claims (empty stream, contiguous and disjoint ranges across
    members, a member's re-claim, expiry handing a lease to the next
    member), commits (inside a lease, out of order, behind the offset),
    seek, the member count, and the lease limit. The record's round trip
    through a temporary LMDB store (save, load, walk, reopen) closes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ef_groups.h"
#include "ef_store.h"
#include "u_store.h"
#include "eventflow/ef_error.h"

#define T0    1700000000000ull /* a wall clock ms */
#define LEASE 1000u            /* lease time of the tests, ms */

/* ---------------------------------------------------------------- helpers */

/*  A new group of stream 7 named "billing", created at T0. Large: on the
    heap, as the broker keeps it. */
static ef_group_t *
s_group (uint32_t lease_ms)
{
    ef_group_t *g = malloc (sizeof *g);
    assert_non_null (g);
    ef_groups_init (g, 7, ef_str ("billing"), T0, lease_ms);
    return g;
}

typedef struct {
    uint64_t from, to;
} range_t;

/*  A claim expected to succeed; its range. */
static range_t
s_claim (ef_group_t *g, const char *member, uint64_t head, uint32_t limit,
         uint64_t now)
{
    range_t r = {0, 0};
    int rc =
        ef_groups_claim (g, ef_str (member), head, limit, now, &r.from, &r.to);
    if (rc != 1)
        fail_msg ("claim by %s (head %llu, limit %u) answered %d", member,
                  (unsigned long long)head, limit, rc);
    return r;
}

/*  The lease whose range starts at from, or NULL. */
static const ef_lease_t *
s_lease_at (const ef_group_t *g, uint64_t from)
{
    for (uint32_t i = 0; i < g->nleases; i++)
        if (g->leases[i].from == from)
            return &g->leases[i];
    return NULL;
}

/* ---------------------------------------------------------------- names */

static void
test_group_names_are_1_to_128_of_the_safe_characters (void **state)
{
    (void)state;
    char long_name[130];
    memset (long_name, 'a', sizeof long_name);
    long_name[128] = 0;
    assert_true (ef_groups_name_valid (ef_str ("billing-v2.eu_1")));
    assert_true (ef_groups_name_valid (ef_str (long_name)));
    long_name[128] = 'a', long_name[129] = 0;
    assert_false (ef_groups_name_valid (ef_str (long_name)));
    assert_false (ef_groups_name_valid (ef_str ("")));
    assert_false (ef_groups_name_valid (EF_STR_NULL));
    assert_false (ef_groups_name_valid (ef_str ("a b")));
    assert_false (ef_groups_name_valid (ef_str ("a/b")));
    /* a URL path would read these as dot segments */
    assert_false (ef_groups_name_valid (ef_str (".")));
    assert_false (ef_groups_name_valid (ef_str ("..")));
    assert_true (ef_groups_name_valid (ef_str ("...")));
}

/* ---------------------------------------------------------------- claims */

static void
test_claim_on_an_empty_stream_leases_nothing (void **state)
{
    (void)state;
    ef_group_t *g = s_group (LEASE);
    uint64_t from = 99, to = 99;
    assert_int_equal (g->committed, 0);
    assert_int_equal (g->lease_ms, LEASE);
    assert_int_equal (g->created_at, T0);
    assert_int_equal (ef_groups_claim (g, ef_str ("a"), 0, 10, T0, &from, &to),
                      0);
    assert_int_equal (g->nleases, 0);
    /* nor when everything is committed */
    assert_int_equal (ef_groups_commit (g, EF_STR_NULL, 5), 0);
    assert_int_equal (ef_groups_claim (g, ef_str ("a"), 5, 10, T0, &from, &to),
                      0);
    assert_int_equal (g->nleases, 0);
    free (g);
}

static void
test_a_new_group_starts_at_the_beginning_with_the_default_lease (void **state)
{
    (void)state;
    ef_group_t *g = s_group (0);
    assert_int_equal (g->lease_ms, EF_LEASE_MS_DEFAULT);
    range_t r = s_claim (g, "a", 3, 100, T0);
    assert_int_equal (r.from, 1);
    assert_int_equal (r.to, 3);
    const ef_lease_t *l = s_lease_at (g, 1);
    assert_non_null (l);
    assert_string_equal (l->member, "a");
    assert_int_equal (l->expires_ms, T0 + EF_LEASE_MS_DEFAULT);
    assert_false (l->done);
    free (g);
}

static void
test_claims_of_members_are_contiguous_and_disjoint (void **state)
{
    (void)state;
    ef_group_t *g = s_group (LEASE);
    const char *members[] = {"a", "b", "c", "d"};
    uint64_t next = 1;
    for (int i = 0; i < 4; i++) {
        range_t r = s_claim (g, members[i], 35, 10, T0 + (uint64_t)i);
        assert_int_equal (r.from, next); /* right after the previous one */
        assert_true (r.to >= r.from);
        assert_true (r.to - r.from + 1 <= 10);
        next = r.to + 1;
    }
    /* the last range stops at the head */
    assert_int_equal (next, 36);
    assert_int_equal (g->nleases, 4);
    /* nothing unleased is left for a fifth member */
    uint64_t from, to;
    assert_int_equal (
        ef_groups_claim (g, ef_str ("e"), 35, 10, T0 + 5, &from, &to), 0);
    /* a new event is: it goes to the fifth member, alone */
    range_t r = s_claim (g, "e", 36, 10, T0 + 6);
    assert_int_equal (r.from, 36);
    assert_int_equal (r.to, 36);
    free (g);
}

static void
test_a_members_reclaim_returns_its_own_open_lease (void **state)
{
    (void)state;
    ef_group_t *g = s_group (LEASE);
    range_t first = s_claim (g, "a", 10, 5, T0);
    assert_int_equal (first.from, 1);
    assert_int_equal (first.to, 5);
    /* the stream grew, time went by (within the lease): the same range */
    range_t again = s_claim (g, "a", 50, 5, T0 + LEASE - 1);
    assert_int_equal (again.from, 1);
    assert_int_equal (again.to, 5);
    assert_int_equal (g->nleases, 1);
    /* and the re-claim does not extend the lease */
    assert_int_equal (s_lease_at (g, 1)->expires_ms, T0 + LEASE);
    free (g);
}

static void
test_an_expired_lease_goes_to_the_next_member_with_a_new_expiry (void **state)
{
    (void)state;
    ef_group_t *g = s_group (LEASE);
    s_claim (g, "a", 100, 10, T0);       /* 1..10, until T0+1000 */
    s_claim (g, "b", 100, 10, T0 + 600); /* 11..20, until T0+1600 */
    /* just before a's lease ends, c gets a new range */
    range_t rc = s_claim (g, "c", 100, 10, T0 + LEASE - 1);
    assert_int_equal (rc.from, 21);
    /* at its end, a's range is d's, with d's own time */
    range_t rd = s_claim (g, "d", 100, 10, T0 + LEASE);
    assert_int_equal (rd.from, 1);
    assert_int_equal (rd.to, 10);
    const ef_lease_t *l = s_lease_at (g, 1);
    assert_string_equal (l->member, "d");
    assert_int_equal (l->expires_ms, T0 + 2 * LEASE);
    assert_int_equal (g->nleases, 3); /* handed over, not copied */
    /* a comes back: its range is gone; b's is still live, so a new one */
    range_t ra = s_claim (g, "a", 100, 10, T0 + LEASE + 1);
    assert_int_equal (ra.from, 31);
    /* once b's lease also ran out, the next fetch takes b's range, the
       lowest expired one, before anything new */
    range_t re = s_claim (g, "e", 100, 10, T0 + 1600);
    assert_int_equal (re.from, 11);
    assert_int_equal (re.to, 20);
    assert_string_equal (s_lease_at (g, 11)->member, "e");
    assert_int_equal (s_lease_at (g, 11)->expires_ms, T0 + 1600 + LEASE);
    free (g);
}

/*  A member whose connection is gone lets its open leases go at once:
    the next member's claim takes them, long before they would expire;
    its committed ranges and other members' leases stay as they were. */
static void
test_a_released_members_open_leases_go_to_the_next_claim (void **state)
{
    (void)state;
    ef_group_t *g = s_group (LEASE);
    s_claim (g, "a", 100, 10, T0); /* 1..10 */
    s_claim (g, "b", 100, 10, T0); /* 11..20 */
    assert_int_equal (ef_groups_commit (g, ef_str ("a"), 10), 0);
    s_claim (g, "a", 100, 10, T0); /* 21..30, open */
    assert_int_equal (ef_groups_release (g, ef_str ("a")), 1);
    assert_int_equal (ef_groups_release (g, ef_str ("a")), 0); /* once */
    assert_int_equal (g->committed, 10);
    range_t rc = s_claim (g, "c", 100, 10, T0 + 1);
    assert_int_equal (rc.from, 21);
    assert_int_equal (rc.to, 30);
    assert_int_equal (s_lease_at (g, 21)->expires_ms, T0 + 1 + LEASE);
    /* b's lease is b's */
    assert_string_equal (s_lease_at (g, 11)->member, "b");
    assert_int_equal (ef_groups_release (g, ef_str ("nobody")), 0);
    free (g);
}

static void
test_a_member_whose_lease_expired_gets_it_back_when_first_to_fetch (void **st)
{
    (void)st;
    ef_group_t *g = s_group (LEASE);
    s_claim (g, "a", 100, 10, T0);
    range_t r = s_claim (g, "a", 100, 10, T0 + 5 * LEASE);
    assert_int_equal (r.from, 1);
    assert_int_equal (r.to, 10);
    assert_int_equal (s_lease_at (g, 1)->expires_ms, T0 + 6 * LEASE);
    assert_int_equal (g->nleases, 1);
    free (g);
}

/* ---------------------------------------------------------------- commits */

static void
test_commit_inside_a_lease_keeps_the_rest_leased_to_its_member (void **st)
{
    (void)st;
    ef_group_t *g = s_group (LEASE);
    s_claim (g, "a", 100, 10, T0); /* 1..10 */
    assert_int_equal (ef_groups_commit (g, ef_str ("a"), 4), 0);
    assert_int_equal (g->committed, 4);
    /* a's re-fetch: the rest of its lease, with the lease's own time */
    range_t r = s_claim (g, "a", 100, 10, T0 + 1);
    assert_int_equal (r.from, 5);
    assert_int_equal (r.to, 10);
    const ef_lease_t *l = s_lease_at (g, 5);
    assert_non_null (l);
    assert_string_equal (l->member, "a");
    assert_int_equal (l->expires_ms, T0 + LEASE);
    /* another member does not get any of it while it is live */
    range_t rb = s_claim (g, "b", 100, 10, T0 + 2);
    assert_int_equal (rb.from, 11);
    assert_int_equal (ef_groups_members (g, T0 + 3), 2);
    free (g);
}

static void
test_out_of_order_commits_move_the_offset_over_contiguous_ranges (void **st)
{
    (void)st;
    ef_group_t *g = s_group (LEASE);
    s_claim (g, "a", 30, 10, T0); /* 1..10 */
    s_claim (g, "b", 30, 10, T0); /* 11..20 */
    s_claim (g, "c", 30, 10, T0); /* 21..30 */
    /* c then b commit first: the offset waits for a */
    assert_int_equal (ef_groups_commit (g, ef_str ("c"), 30), 0);
    assert_int_equal (g->committed, 0);
    assert_int_equal (ef_groups_commit (g, ef_str ("b"), 20), 0);
    assert_int_equal (g->committed, 0);
    /* committed ranges are not leased again, even once their time is up */
    uint64_t from, to;
    assert_int_equal (
        ef_groups_claim (g, ef_str ("d"), 30, 10, T0 + 1, &from, &to), 0);
    /* a commits: the offset jumps past all three */
    assert_int_equal (ef_groups_commit (g, ef_str ("a"), 10), 0);
    assert_int_equal (g->committed, 30);
    assert_int_equal (g->nleases, 0);
    assert_int_equal (
        ef_groups_claim (g, ef_str ("d"), 30, 10, T0 + 10 * LEASE, &from, &to),
        0);
    free (g);
}

static void
test_a_done_range_behind_an_expired_lease_is_not_handed_out (void **st)
{
    (void)st;
    ef_group_t *g = s_group (LEASE);
    s_claim (g, "a", 20, 10, T0); /* 1..10 */
    s_claim (g, "b", 20, 10, T0); /* 11..20 */
    assert_int_equal (ef_groups_commit (g, ef_str ("b"), 20), 0);
    /* a never commits: after the lease time, c gets a's range, not b's */
    range_t r = s_claim (g, "c", 20, 10, T0 + LEASE);
    assert_int_equal (r.from, 1);
    assert_int_equal (r.to, 10);
    assert_int_equal (ef_groups_commit (g, ef_str ("c"), 10), 0);
    assert_int_equal (g->committed, 20);
    free (g);
}

static void
test_commit_behind_the_offset_conflicts_and_changes_nothing (void **st)
{
    (void)st;
    ef_group_t *g = s_group (LEASE);
    s_claim (g, "a", 40, 10, T0); /* 1..10 */
    assert_int_equal (ef_groups_commit (g, ef_str ("a"), 10), 0);
    s_claim (g, "a", 40, 10, T0); /* 11..20 */
    s_claim (g, "b", 40, 10, T0); /* 21..30 */
    ef_group_t *before = malloc (sizeof *before);
    assert_non_null (before);
    memcpy (before, g, sizeof *g);
    assert_int_equal (ef_groups_commit (g, ef_str ("a"), 9), EF_ECONFLICT);
    assert_int_equal (ef_groups_commit (g, EF_STR_NULL, 1), EF_ECONFLICT);
    assert_int_equal (g->committed, 10);
    assert_memory_equal (g, before, sizeof *g);
    /* committing the committed offset again is fine, and a no-op */
    assert_int_equal (ef_groups_commit (g, ef_str ("a"), 10), 0);
    assert_int_equal (ef_groups_commit (g, EF_STR_NULL, 10), 0);
    assert_memory_equal (g, before, sizeof *g);
    free (before);
    free (g);
}

static void
test_commit_without_a_member_moves_the_offset_itself (void **st)
{
    (void)st;
    ef_group_t *g = s_group (LEASE);
    assert_int_equal (ef_groups_commit (g, EF_STR_NULL, 7), 0);
    assert_int_equal (g->committed, 7);
    range_t r = s_claim (g, "a", 9, 10, T0);
    assert_int_equal (r.from, 8);
    assert_int_equal (r.to, 9);
    /* a commit of the whole group covers the member's lease too */
    assert_int_equal (ef_groups_commit (g, EF_STR_NULL, 9), 0);
    assert_int_equal (g->committed, 9);
    assert_int_equal (g->nleases, 0);
    free (g);
}

/* ---------------------------------------------------------------- seek */

static void
test_seek_sets_the_offset_and_drops_every_lease (void **st)
{
    (void)st;
    ef_group_t *g = s_group (LEASE);
    s_claim (g, "a", 50, 10, T0);
    s_claim (g, "b", 50, 10, T0);
    assert_int_equal (ef_groups_commit (g, ef_str ("a"), 10), 0);
    assert_int_equal (ef_groups_commit (g, ef_str ("b"), 15), 0);
    assert_int_equal (g->committed, 15);
    /* back: the only way an offset moves backwards */
    ef_groups_seek (g, 3);
    assert_int_equal (g->committed, 3);
    assert_int_equal (g->nleases, 0);
    assert_int_equal (ef_groups_members (g, T0), 0);
    /* b's live lease is gone: the next fetch, by anyone, starts at 4 */
    range_t r = s_claim (g, "c", 50, 10, T0 + 1);
    assert_int_equal (r.from, 4);
    assert_int_equal (r.to, 13);
    /* forward, past leases */
    ef_groups_seek (g, 40);
    assert_int_equal (g->nleases, 0);
    r = s_claim (g, "c", 50, 10, T0 + 2);
    assert_int_equal (r.from, 41);
    /* and to the very beginning */
    ef_groups_seek (g, 0);
    r = s_claim (g, "b", 50, 10, T0 + 3);
    assert_int_equal (r.from, 1);
    free (g);
}

/* ---------------------------------------------------------------- members */

static void
test_members_counts_only_members_with_a_live_lease (void **st)
{
    (void)st;
    ef_group_t *g = s_group (LEASE);
    assert_int_equal (ef_groups_members (g, T0), 0);
    s_claim (g, "a", 100, 10, T0);       /* until T0+1000 */
    s_claim (g, "b", 100, 10, T0 + 200); /* until T0+1200 */
    s_claim (g, "c", 100, 10, T0 + 400); /* until T0+1400 */
    assert_int_equal (ef_groups_members (g, T0 + 500), 3);
    /* a committed range is not a live lease */
    assert_int_equal (ef_groups_commit (g, ef_str ("b"), 20), 0);
    assert_int_equal (ef_groups_members (g, T0 + 500), 2);
    /* nor is an expired one */
    assert_int_equal (ef_groups_members (g, T0 + LEASE), 1);
    assert_int_equal (ef_groups_members (g, T0 + 1400), 0);
    /* an expired range handed over counts for its new holder only */
    range_t r = s_claim (g, "d", 100, 10, T0 + 2000);
    assert_int_equal (r.from, 1);
    assert_int_equal (ef_groups_members (g, T0 + 2001), 1);
    /* a split lease is still one member */
    assert_int_equal (ef_groups_commit (g, ef_str ("d"), 5), 0);
    assert_int_equal (ef_groups_members (g, T0 + 2001), 1);
    free (g);
}

/* ---------------------------------------------------------------- limits */

static void
test_too_many_open_leases_conflicts (void **st)
{
    (void)st;
    ef_group_t *g = s_group (LEASE);
    char name[16];
    for (int i = 0; i < EF_GROUP_MAX_LEASES; i++) {
        snprintf (name, sizeof name, "m%d", i);
        range_t r = s_claim (g, name, 100000, 1, T0);
        assert_int_equal (r.from, (uint64_t)i + 1);
        assert_int_equal (r.to, (uint64_t)i + 1);
    }
    assert_int_equal (g->nleases, EF_GROUP_MAX_LEASES);
    uint64_t from = 0, to = 0;
    assert_int_equal (
        ef_groups_claim (g, ef_str ("late"), 100000, 1, T0, &from, &to),
        EF_ECONFLICT);
    assert_int_equal (g->nleases, EF_GROUP_MAX_LEASES);
    /* members that hold a lease still get theirs */
    range_t r = s_claim (g, "m7", 100000, 1, T0);
    assert_int_equal (r.from, 8);
    /* and once a lease expired, the late member gets that one */
    r = s_claim (g, "late", 100000, 1, T0 + LEASE);
    assert_int_equal (r.from, 1);
    /* committing the first ones makes room again */
    assert_int_equal (ef_groups_commit (g, EF_STR_NULL, 10), 0);
    assert_int_equal (g->nleases, EF_GROUP_MAX_LEASES - 10);
    r = s_claim (g, "new", 100000, 1, T0);
    assert_int_equal (r.from, EF_GROUP_MAX_LEASES + 1);
    free (g);
}

/*  A commit inside a lease while the group is at its lease limit: the rest
    of that lease must still reach a member, and the offset must still be
    able to reach the head once everything is committed. */
static void
test_commit_inside_a_lease_at_the_limit_keeps_the_rest_deliverable (void **st)
{
    (void)st;
    ef_group_t *g = s_group (LEASE);
    const uint64_t head = 2 * EF_GROUP_MAX_LEASES;
    char name[16];
    for (int i = 0; i < EF_GROUP_MAX_LEASES; i++) {
        snprintf (name, sizeof name, "m%d", i);
        range_t r = s_claim (g, name, head, 2, T0);
        assert_int_equal (r.from, 2 * (uint64_t)i + 1);
    }
    assert_int_equal (g->nleases, EF_GROUP_MAX_LEASES);
    /* m0 handled event 1 of its 1..2 */
    assert_int_equal (ef_groups_commit (g, ef_str ("m0"), 1), 0);
    assert_int_equal (g->committed, 1);
    /* its re-fetch: event 2, the rest of its lease */
    range_t r = s_claim (g, "m0", head, 2, T0 + 1);
    assert_int_equal (r.from, 2);
    assert_int_equal (r.to, 2);
    /* everyone commits what it holds: the offset reaches the head */
    assert_int_equal (ef_groups_commit (g, ef_str ("m0"), 2), 0);
    for (int i = 1; i < EF_GROUP_MAX_LEASES; i++) {
        snprintf (name, sizeof name, "m%d", i);
        assert_int_equal (
            ef_groups_commit (g, ef_str (name), 2 * (uint64_t)i + 2), 0);
    }
    assert_int_equal (g->committed, head);
    free (g);
}

/*  A member that committed its whole range, then (a retry, a late
    duplicate) commits an earlier point of it: what it acknowledged stays
    acknowledged, like a commit behind the committed offset changes
    nothing. */
static void
test_an_earlier_commit_inside_a_committed_range_does_not_reopen_it (void **st)
{
    (void)st;
    ef_group_t *g = s_group (LEASE);
    s_claim (g, "a", 20, 10, T0); /* 1..10 */
    s_claim (g, "b", 20, 10, T0); /* 11..20 */
    assert_int_equal (ef_groups_commit (g, ef_str ("b"), 20), 0);
    assert_int_equal (ef_groups_commit (g, ef_str ("b"), 15), 0);
    /* 16..20 is not leased to b again */
    uint64_t from = 0, to = 0;
    int rc = ef_groups_claim (g, ef_str ("b"), 20, 10, T0 + 1, &from, &to);
    if (rc == 1)
        fail_msg ("b's acknowledged events %llu..%llu were leased again",
                  (unsigned long long)from, (unsigned long long)to);
    assert_int_equal (rc, 0);
    /* and a's commit takes the offset to the head */
    assert_int_equal (ef_groups_commit (g, ef_str ("a"), 10), 0);
    assert_int_equal (g->committed, 20);
    free (g);
}

/* ---------------------------------------------------------------- store */

typedef u_store_t fx_t;

static void
s_assert_same_group (const ef_group_t *a, const ef_group_t *b)
{
    assert_int_equal (a->stream, b->stream);
    assert_string_equal (a->name, b->name);
    assert_int_equal (a->committed, b->committed);
    assert_int_equal (a->lease_ms, b->lease_ms);
    assert_int_equal (a->created_at, b->created_at);
    assert_int_equal (a->nleases, b->nleases);
    for (uint32_t i = 0; i < a->nleases; i++) {
        assert_string_equal (a->leases[i].member, b->leases[i].member);
        assert_int_equal (a->leases[i].from, b->leases[i].from);
        assert_int_equal (a->leases[i].to, b->leases[i].to);
        assert_int_equal (a->leases[i].expires_ms, b->leases[i].expires_ms);
        assert_int_equal (a->leases[i].done, b->leases[i].done);
    }
}

typedef struct {
    char names[8][EF_GROUP_NAME_MAX + 1];
    uint64_t committed[8];
    int n;
} walk_t;

static int
s_walk (void *arg, const ef_group_t *g)
{
    walk_t *w = arg;
    if (w->n < 8) {
        strcpy (w->names[w->n], g->name);
        w->committed[w->n] = g->committed;
    }
    w->n++;
    return 0;
}

static void
test_a_group_survives_save_load_and_reopen (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 64u << 20, 0);
    ef_group_t *g = s_group (2500);
    ef_group_t *back = malloc (sizeof *back);
    assert_non_null (back);
    /* leases of every kind: open, committed out of order, split */
    s_claim (g, "a", 100, 10, T0); /* 1..10 */
    char longest[EF_MEMBER_MAX + 1];
    memset (longest, 'm', EF_MEMBER_MAX);
    longest[EF_MEMBER_MAX] = 0;
    s_claim (g, longest, 100, 10, T0 + 1); /* 11..20 */
    s_claim (g, "c", 100, 10, T0 + 2);     /* 21..30 */
    assert_int_equal (ef_groups_commit (g, ef_str ("c"), 25), 0);
    assert_int_equal (g->nleases, 4);

    ef_store_txn_t *w = NULL;
    assert_int_equal (ef_store_write_begin (fx->store, &w), 0);
    assert_int_equal (ef_groups_load (w, 7, ef_str ("billing"), back),
                      EF_ENOTFOUND);
    assert_int_equal (ef_groups_save (w, g), 0);
    assert_int_equal (ef_groups_load (w, 7, ef_str ("billing"), back), 0);
    s_assert_same_group (back, g);
    assert_int_equal (ef_store_write_commit (&w), 0);

    /* after a close and reopen, the same */
    u_store_open (fx, 64u << 20, 0);
    ef_store_txn_t *r = ef_store_reader_new (fx->store);
    assert_non_null (r);
    assert_int_equal (ef_store_reader_begin (r), 0);
    memset (back, 0, sizeof *back);
    assert_int_equal (ef_groups_load (r, 7, ef_str ("billing"), back), 0);
    s_assert_same_group (back, g);
    /* other names and streams are not it */
    assert_int_equal (ef_groups_load (r, 8, ef_str ("billing"), back),
                      EF_ENOTFOUND);
    assert_int_equal (ef_groups_load (r, 7, ef_str ("billin"), back),
                      EF_ENOTFOUND);
    assert_int_equal (ef_groups_load (r, 7, ef_str ("bad name"), back),
                      EF_ENOTFOUND);
    ef_store_reader_end (r);
    ef_store_reader_destroy (&r);

    /* the rules go on from the loaded state: a's commit moves the offset
       over its range, the other member's still open lease stops it */
    assert_int_equal (ef_groups_commit (back, ef_str ("a"), 10), 0);
    assert_int_equal (back->committed, 10);
    free (back);
    free (g);
}

static void
test_groups_of_a_stream_are_walked_in_name_order (void **state)
{
    fx_t *fx = *state;
    u_store_open (fx, 64u << 20, 0);
    const char *names[] = {"zeta", "alpha", "mid", "alpha2"};
    ef_store_txn_t *w = NULL;
    assert_int_equal (ef_store_write_begin (fx->store, &w), 0);
    for (int i = 0; i < 4; i++) {
        ef_group_t *g = s_group (LEASE);
        ef_groups_init (g, 7, ef_str (names[i]), T0, LEASE);
        assert_int_equal (ef_groups_commit (g, EF_STR_NULL, (uint64_t)i + 1),
                          0);
        assert_int_equal (ef_groups_save (w, g), 0);
        /* the same name on the neighbouring streams */
        g->stream = 6;
        assert_int_equal (ef_groups_save (w, g), 0);
        g->stream = 8;
        assert_int_equal (ef_groups_save (w, g), 0);
        free (g);
    }
    assert_int_equal (ef_store_write_commit (&w), 0);

    ef_store_txn_t *r = ef_store_reader_new (fx->store);
    assert_non_null (r);
    assert_int_equal (ef_store_reader_begin (r), 0);
    walk_t walk;
    memset (&walk, 0, sizeof walk);
    assert_int_equal (ef_groups_each (r, 7, s_walk, &walk), 0);
    assert_int_equal (walk.n, 4);
    assert_string_equal (walk.names[0], "alpha");
    assert_string_equal (walk.names[1], "alpha2");
    assert_string_equal (walk.names[2], "mid");
    assert_string_equal (walk.names[3], "zeta");
    assert_int_equal (walk.committed[0], 2);
    assert_int_equal (walk.committed[1], 4);
    assert_int_equal (walk.committed[2], 3);
    assert_int_equal (walk.committed[3], 1);
    memset (&walk, 0, sizeof walk);
    assert_int_equal (ef_groups_each (r, 9, s_walk, &walk), 0);
    assert_int_equal (walk.n, 0);
    ef_store_reader_end (r);
    ef_store_reader_destroy (&r);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_group_names_are_1_to_128_of_the_safe_characters),
        cmocka_unit_test (test_claim_on_an_empty_stream_leases_nothing),
        cmocka_unit_test (
            test_a_new_group_starts_at_the_beginning_with_the_default_lease),
        cmocka_unit_test (test_claims_of_members_are_contiguous_and_disjoint),
        cmocka_unit_test (
            test_a_released_members_open_leases_go_to_the_next_claim),
        cmocka_unit_test (test_a_members_reclaim_returns_its_own_open_lease),
        cmocka_unit_test (
            test_an_expired_lease_goes_to_the_next_member_with_a_new_expiry),
        cmocka_unit_test (
            test_a_member_whose_lease_expired_gets_it_back_when_first_to_fetch),
        cmocka_unit_test (
            test_commit_inside_a_lease_keeps_the_rest_leased_to_its_member),
        cmocka_unit_test (
            test_out_of_order_commits_move_the_offset_over_contiguous_ranges),
        cmocka_unit_test (
            test_a_done_range_behind_an_expired_lease_is_not_handed_out),
        cmocka_unit_test (
            test_commit_behind_the_offset_conflicts_and_changes_nothing),
        cmocka_unit_test (test_commit_without_a_member_moves_the_offset_itself),
        cmocka_unit_test (test_seek_sets_the_offset_and_drops_every_lease),
        cmocka_unit_test (test_members_counts_only_members_with_a_live_lease),
        cmocka_unit_test (test_too_many_open_leases_conflicts),
        cmocka_unit_test (
            test_commit_inside_a_lease_at_the_limit_keeps_the_rest_deliverable),
        cmocka_unit_test (
            test_an_earlier_commit_inside_a_committed_range_does_not_reopen_it),
        cmocka_unit_test_setup_teardown (
            test_a_group_survives_save_load_and_reopen, u_store_setup,
            u_store_teardown),
        cmocka_unit_test_setup_teardown (
            test_groups_of_a_stream_are_walked_in_name_order, u_store_setup,
            u_store_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
