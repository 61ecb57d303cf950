/*  Retention per stream against a real broker (README.md, Retention):
    CREATE_STREAM / UPDATE_STREAM keep a stream's retention and GET_STREAM
    shows it; out-of-range limits are refused with their path; the
    writer's passes (every 20 ms here) delete from the head by count, by
    bytes and by age; with after_groups, never past the smallest
    committed offset (a stream without groups keeps everything); events
    whose processing is PENDING, or that are dead letters, stop the
    trimming. Absence of a deletion is observed after a later stream of
    the same pass was trimmed (a pass visits the streams with a retention
    in the order they were made, in one transaction). A pass is bounded
    whatever the tenants keep: at most 1000 deletions and 256 streams,
    read off the broker's debug log lines. */
#include "harness.h"
#include "eventflow/ef_error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#define WAIT_MS 10000

static h_broker_t s_broker;
static ef_client_t *s_admin;
static char s_dir[256];

static int
s_setup (void **state)
{
    (void)state;
    const char *extra[] = {"--retention-interval-ms", "20", "--log-level",
                           "debug", NULL};
    if (h_tempdir (s_dir) || h_broker_start (&s_broker, s_dir, extra))
        return -1;
    s_admin = h_client (&s_broker);
    return s_admin ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void)state;
    ef_client_destroy (&s_admin);
    h_broker_stop (&s_broker);
    h_rmrf (s_dir);
    return 0;
}

/*  CREATE_STREAM (update 0) or UPDATE_STREAM with a retention. */
static int
s_retention (int update, const char *name, uint64_t age, uint64_t bytes,
             uint64_t events, int after_groups)
{
    ef_request_t req;
    memset (&req, 0, sizeof req);
    req.cmd = update ? EF_CMD_UPDATE_STREAM : EF_CMD_CREATE_STREAM;
    if (update)
        req.stream = ef_str (name);
    else
        req.name = ef_str (name);
    req.has_retention = 1;
    req.ret_max_age_ms = age;
    req.ret_max_bytes = bytes;
    req.ret_max_events = events;
    req.ret_after_groups = after_groups;
    const ef_reply_t *rep;
    return ef_client_call (s_admin, &req, &rep);
}

static void
s_publish (const char *stream, uint32_t n)
{
    ef_event_in_t evs[50];
    ef_publish_result_t res[50];
    assert_true (n <= 50);
    for (uint32_t i = 0; i < n; i++) {
        memset (&evs[i], 0, sizeof evs[i]);
        evs[i].type = ef_str ("retention.test");
        evs[i].payload = ef_str ("{\"pad\":\"0123456789abcdef\"}");
    }
    assert_int_equal (ef_client_publish (s_admin, stream, evs, n, res), 0);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal (res[i].code, 0);
}

static ef_stream_info_t
s_get (const char *stream)
{
    ef_stream_info_t info;
    memset (&info, 0, sizeof info);
    if (ef_client_get_stream (s_admin, stream, &info))
        fail_msg ("GET_STREAM %s: %s", stream, ef_client_error (s_admin));
    return info;
}

typedef struct {
    const char *stream;
    uint64_t first_seq; /* wait until the head is at least here */
} s_head_t;

static int
s_head_at (void *arg)
{
    s_head_t *h = arg;
    return s_get (h->stream).first_seq >= h->first_seq;
}

/*  Wait until stream's first seq is at least first_seq. */
static void
s_wait_head (const char *stream, uint64_t first_seq)
{
    s_head_t h = {stream, first_seq};
    h_wait_until (s_head_at, &h, WAIT_MS);
    ef_stream_info_t info = s_get (stream);
    if (info.first_seq < first_seq)
        fail_msg ("%s: first_seq %llu, waited for %llu", stream,
                  (unsigned long long)info.first_seq,
                  (unsigned long long)first_seq);
}

static void
test_retention_is_kept_shown_replaced_and_checked (void **state)
{
    (void)state;
    assert_int_equal (s_retention (0, "kept", 60000, 1 << 20, 100, 1), 0);
    ef_stream_info_t info = s_get ("kept");
    assert_true (info.has_retention);
    assert_int_equal (info.ret_max_age_ms, 60000);
    assert_int_equal (info.ret_max_bytes, 1 << 20);
    assert_int_equal (info.ret_max_events, 100);
    assert_int_equal (info.ret_after_groups, 1);
    /* an update replaces it whole */
    assert_int_equal (s_retention (1, "kept", 0, 0, 7, 0), 0);
    info = s_get ("kept");
    assert_true (info.has_retention);
    assert_int_equal (info.ret_max_age_ms, 0);
    assert_int_equal (info.ret_max_events, 7);
    assert_int_equal (info.ret_after_groups, 0);
    /* keep everything: removed */
    assert_int_equal (s_retention (1, "kept", 0, 0, 0, 0), 0);
    assert_false (s_get ("kept").has_retention);
    /* out of range: refused with the path, nothing made */
    assert_int_equal (s_retention (0, "bad", UINT64_C (1) << 60, 0, 0, 0),
                      EF_EINVAL);
    assert_non_null (strstr (ef_client_error (s_admin), "max_age_ms"));
    assert_int_equal (s_retention (1, "kept", 0, UINT64_C (1) << 51, 0, 0),
                      EF_EINVAL);
    assert_non_null (strstr (ef_client_error (s_admin), "max_bytes"));
    ef_stream_info_t none;
    assert_int_equal (ef_client_get_stream (s_admin, "bad", &none),
                      EF_ENOTFOUND);
}

static void
test_count_and_bytes_trim_the_head (void **state)
{
    (void)state;
    assert_int_equal (s_retention (0, "by-count", 0, 0, 10, 0), 0);
    s_publish ("by-count", 50);
    s_wait_head ("by-count", 41);
    ef_stream_info_t info = s_get ("by-count");
    assert_int_equal (info.first_seq, 41);
    assert_int_equal (info.last_seq, 50);
    assert_int_equal (info.events, 10);
    /* the head goes on: the next event is 51, and the oldest goes */
    s_publish ("by-count", 1);
    s_wait_head ("by-count", 42);
    assert_int_equal (s_get ("by-count").last_seq, 51);

    /* bytes: measure one event, keep about five */
    assert_int_equal (ef_client_create_stream (s_admin, "by-bytes", NULL), 0);
    s_publish ("by-bytes", 1);
    uint64_t one = s_get ("by-bytes").bytes;
    assert_true (one > 0);
    assert_int_equal (s_retention (1, "by-bytes", 0, 5 * one, 0, 0), 0);
    s_publish ("by-bytes", 29);
    s_wait_head ("by-bytes", 26);
    info = s_get ("by-bytes");
    assert_true (info.bytes <= 5 * one);
    assert_int_equal (info.events, 5);
    assert_int_equal (info.last_seq, 30);
}

static void
test_age_trims_what_is_older (void **state)
{
    (void)state;
    /* 1 ms: every event is old by the pass after the next millisecond */
    assert_int_equal (s_retention (0, "by-age", 1, 0, 0, 0), 0);
    s_publish ("by-age", 20);
    s_wait_head ("by-age", 21);
    ef_stream_info_t info = s_get ("by-age");
    assert_int_equal (info.events, 0);
    assert_int_equal (info.last_seq, 20);
    assert_int_equal (info.bytes, 0);
}

/*  The ids a fetch returned. */
typedef struct {
    uint32_t n;
    char id[20][37];
} s_ids_t;

static int
s_id (void *arg, const ef_event_t *ev)
{
    s_ids_t *ids = arg;
    if (ids->n < 20)
        snprintf (ids->id[ids->n++], 37, "%.*s", (int)ev->event_id.len,
                  ev->event_id.ptr);
    return 0;
}

static void
test_after_groups_never_passes_the_slowest_group (void **state)
{
    (void)state;
    /* a-queue (no group yet) and a-limited sort before a-zz, trimmed in
       the same passes */
    assert_int_equal (s_retention (0, "a-queue", 0, 0, 0, 1), 0);
    assert_int_equal (s_retention (0, "a-limited", 0, 0, 1, 1), 0);
    s_publish ("a-queue", 20);
    s_publish ("a-limited", 20);
    assert_int_equal (s_retention (0, "a-zz", 0, 0, 1, 0), 0);
    s_publish ("a-zz", 5);
    s_wait_head ("a-zz", 5);
    assert_int_equal (s_get ("a-queue").first_seq, 1);
    assert_int_equal (s_get ("a-limited").first_seq, 1);

    /* two groups: the slower one holds the head. Both fetch before
       either commits: a group that does not exist yet holds nothing, and
       a pass after the fast one's commit would trim past the slow one */
    const char *streams[] = {"a-queue", "a-limited"};
    for (int i = 0; i < 2; i++) {
        s_ids_t got[2] = {{0}};
        for (int g = 0; g < 2; g++) {
            const char *group = g ? "slow" : "fast";
            uint32_t n = g ? 5 : 15;
            if (ef_client_fetch (s_admin, streams[i], group, "m", n, 0, s_id,
                                 &got[g], NULL))
                fail_msg ("fetch: %s", ef_client_error (s_admin));
            assert_int_equal (got[g].n, n);
        }
        for (int g = 0; g < 2; g++) {
            char committed[37];
            if (ef_client_commit (s_admin, streams[i], g ? "slow" : "fast", "m",
                                  got[g].id[got[g].n - 1], committed))
                fail_msg ("commit: %s", ef_client_error (s_admin));
        }
    }
    s_wait_head ("a-queue", 6);
    s_wait_head ("a-limited", 6);
    assert_int_equal (s_get ("a-queue").first_seq, 6);
    assert_int_equal (s_get ("a-limited").first_seq, 6);
}

/*  A group that first fetches after retention removed the stream's
    first events starts at the first one left (it got pages of nothing,
    leases over removed events that could never be committed). */
static void
test_a_new_group_starts_at_the_first_event_left (void **state)
{
    (void)state;
    assert_int_equal (s_retention (0, "b-trimmed", 0, 0, 5, 0), 0);
    s_publish ("b-trimmed", 20);
    s_wait_head ("b-trimmed", 16);
    s_ids_t got = {0};
    if (ef_client_fetch (s_admin, "b-trimmed", "late", "m", 10, 0, s_id, &got,
                         NULL))
        fail_msg ("fetch: %s", ef_client_error (s_admin));
    assert_int_equal (got.n, 5);
    char committed[37];
    if (ef_client_commit (s_admin, "b-trimmed", "late", "m", got.id[4],
                          committed))
        fail_msg ("commit: %s", ef_client_error (s_admin));
}

static void
test_pending_events_stop_the_trimming (void **state)
{
    (void)state;
    /* a worker step with no worker: every event stays PENDING */
    ef_request_t req;
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_CREATE_STREAM;
    req.name = ef_str ("p-pending");
    req.pipeline = ef_str ("[{\"type\":\"worker\",\"service\":\"nobody\"}]");
    req.has_retention = 1;
    req.ret_max_events = 1;
    const ef_reply_t *rep;
    assert_int_equal (ef_client_call (s_admin, &req, &rep), 0);
    s_publish ("p-pending", 5);
    assert_int_equal (s_retention (0, "p-zz", 0, 0, 1, 0), 0);
    s_publish ("p-zz", 5);
    s_wait_head ("p-zz", 5);
    ef_stream_info_t info = s_get ("p-pending");
    assert_int_equal (info.first_seq, 1);
    assert_int_equal (info.events, 5);
}

/*  DLQ_GET of an event: 1 when it is a dead letter, 0 when not found. */
static int
s_is_dead (void *arg)
{
    ef_request_t req;
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_DLQ_GET;
    req.event_id = ef_str (arg);
    const ef_reply_t *rep;
    int rc = ef_client_call (s_admin, &req, &rep);
    return rc == 0 ? 1 : rc == EF_ENOTFOUND ? 0 : -1;
}

static void
test_dead_lettered_events_stop_the_trimming (void **state)
{
    (void)state;
    /* a transform whose test fails for {"x":2}: a dead letter, no worker */
    ef_request_t req;
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_CREATE_STREAM;
    req.name = ef_str ("d-dead");
    req.pipeline = ef_str ("[{\"type\":\"transform\",\"patch\":[{\"op\":"
                           "\"test\",\"path\":\"/x\",\"value\":1}]}]");
    req.has_retention = 1;
    req.ret_max_events = 1;
    const ef_reply_t *rep;
    assert_int_equal (ef_client_call (s_admin, &req, &rep), 0);
    ef_event_in_t ev[6];
    ef_publish_result_t res[6];
    memset (ev, 0, sizeof ev);
    for (int i = 0; i < 6; i++) {
        ev[i].type = ef_str ("retention.test");
        ev[i].payload = ef_str (i ? "{\"x\":1}" : "{\"x\":2}");
    }
    assert_int_equal (ef_client_publish (s_admin, "d-dead", ev, 1, res), 0);
    assert_int_equal (res[0].code, 0);
    char dead_id[37];
    snprintf (dead_id, sizeof dead_id, "%.*s", (int)res[0].event_id.len,
              res[0].event_id.ptr);
    assert_int_equal (h_wait_until (s_is_dead, dead_id, WAIT_MS), 0);
    /* five that pass the test follow it: four too many */
    assert_int_equal (ef_client_publish (s_admin, "d-dead", ev + 1, 5, res), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal (res[i].code, 0);
    /* a later stream of the same pass trimmed: d-dead was visited */
    assert_int_equal (s_retention (0, "d-zz", 0, 0, 1, 0), 0);
    s_publish ("d-zz", 5);
    s_wait_head ("d-zz", 5);
    ef_stream_info_t info = s_get ("d-dead");
    assert_int_equal (info.first_seq, 1);
    assert_int_equal (info.events, 6);

    /* out of the queue (the event stays FAILED): the head moves on */
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_DLQ_DELETE;
    req.event_id = ef_str (dead_id);
    assert_int_equal (ef_client_call (s_admin, &req, &rep), 0);
    s_wait_head ("d-dead", 6);
    info = s_get ("d-dead");
    assert_int_equal (info.first_seq, 6);
    assert_int_equal (info.events, 1);
}

static long long
s_data_size (void)
{
    char path[400];
    struct stat st;
    snprintf (path, sizeof path, "%s/data.mdb", s_dir);
    return stat (path, &st) ? -1 : (long long)st.st_size;
}

/*  Space is reused: under steady publish into a stream that keeps 100
    events, data.mdb stops growing once the first deletions are done. */
static void
test_freed_space_is_reused (void **state)
{
    (void)state;
    assert_int_equal (s_retention (0, "steady", 0, 0, 100, 0), 0);
    long long at10 = 0, at60 = 0;
    for (uint64_t round = 1; round <= 60; round++) {
        s_publish ("steady", 50);
        if (round > 2)
            s_wait_head ("steady", round * 50 - 99);
        if (round == 10)
            at10 = s_data_size ();
    }
    at60 = s_data_size ();
    ef_stream_info_t info = s_get ("steady");
    assert_int_equal (info.events, 100);
    long long appended = (long long)(info.bytes / info.events) * 2500;
    print_message ("retention: data.mdb %lld bytes after 500 events, %lld "
                   "after 3000 (100 kept; the 2500 between hold %lld bytes "
                   "of records)\n",
                   at10, at60, appended);
    assert_true (at10 > 0);
    /* without reuse it would grow by about the records appended (more,
       with their ids); a page or two of tree growth is allowed (compact
       records make appended / 20 less than a page) */
    assert_true (at60 - at10 <= 2 * 4096 + appended / 20);

    /* a stream delete frees its pages the same way: 1000 events into a
       new stream after deleting one of 1000 leave the file as it was */
    assert_int_equal (ef_client_create_stream (s_admin, "gone", NULL), 0);
    for (int i = 0; i < 20; i++)
        s_publish ("gone", 50);
    long long full = s_data_size ();
    ef_request_t req;
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_DELETE_STREAM;
    req.stream = ef_str ("gone");
    const ef_reply_t *rep;
    assert_int_equal (ef_client_call (s_admin, &req, &rep), 0);
    assert_int_equal (ef_client_create_stream (s_admin, "after", NULL), 0);
    for (int i = 0; i < 20; i++)
        s_publish ("after", 50);
    long long again = s_data_size ();
    print_message ("retention: data.mdb %lld bytes with a stream of 1000, "
                   "%lld after deleting it and storing 1000 in another\n",
                   full, again);
    /* measured here: +20 KiB, against +100 KiB for the first 1000
       (compact records; +240 KiB before them) */
    assert_true (again - full <= (full - at60) / 3);
}

/*  The CLI's --retention-* flags: create with some, update replaces. */
static void
test_cli_sets_and_shows_retention (void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    const char *create[] = {
        "streams", "create",          "cli-kept", "--retention-events",
        "12",      "--retention-age", "60000",    NULL};
    if (h_cli (&s_broker, NULL, &out, &err, create) != 0)
        fail_msg ("streams create: %s %s", out, err);
    assert_non_null (strstr (out, "\"retention\":{\"max_age_ms\":60000,"
                                  "\"max_bytes\":0,\"max_events\":12,"
                                  "\"after_groups\":false}"));
    free (out), free (err);
    const char *update[] = {"streams", "update", "cli-kept",
                            "--retention-after-groups", NULL};
    if (h_cli (&s_broker, NULL, &out, &err, update) != 0)
        fail_msg ("streams update: %s %s", out, err);
    free (out), free (err);
    ef_stream_info_t info = s_get ("cli-kept");
    assert_true (info.has_retention);
    assert_int_equal (info.ret_max_events, 0);
    assert_int_equal (info.ret_after_groups, 1);
    const char *bad[] = {"streams",           "update", "cli-kept",
                         "--retention-bytes", "lots",   NULL};
    assert_int_not_equal (h_cli (&s_broker, NULL, &out, &err, bad), 0);
    free (out), free (err);
}

/*  The broker's "retention pass" debug lines so far: how many, the most
    events and streams one had, how many deleted exactly 1000 and how many
    events in all. */
typedef struct {
    int passes, full;
    unsigned long long most_events, most_streams, events;
} s_passes_t;

static s_passes_t
s_passes (void)
{
    s_passes_t p = {0};
    FILE *f = fopen (s_broker.log_path, "r");
    assert_non_null (f);
    char line[1024];
    while (fgets (line, sizeof line, f)) {
        if (!strstr (line, "\"retention pass\""))
            continue;
        const char *e = strstr (line, "\"events\":");
        const char *s = strstr (line, "\"streams\":");
        assert_non_null (e);
        assert_non_null (s);
        unsigned long long ev = strtoull (e + 9, NULL, 10),
                           st = strtoull (s + 10, NULL, 10);
        p.passes++;
        p.full += ev == 1000;
        p.events += ev;
        if (ev > p.most_events)
            p.most_events = ev;
        if (st > p.most_streams)
            p.most_streams = st;
    }
    fclose (f);
    return p;
}

static int
s_a_full_slice (void *arg)
{
    (void)arg;
    return s_passes ().most_streams >= 256;
}

static void
test_a_pass_deletes_1000_events_and_sees_256_streams (void **state)
{
    (void)state;
    /* 2500 events, then a retention that lets 2490 go: never more than
       1000 in one pass (one transaction), the rest in the next passes */
    assert_int_equal (s_retention (0, "z-bulk", 0, 0, 0, 1), 0);
    for (int i = 0; i < 50; i++)
        s_publish ("z-bulk", 50);
    s_passes_t before = s_passes ();
    assert_int_equal (s_retention (1, "z-bulk", 0, 0, 10, 0), 0);
    s_wait_head ("z-bulk", 2491);
    s_passes_t after = s_passes ();
    fprintf (stderr,
             "retention: %d passes deleted %llu events, at most %llu in one; "
             "%d deleted exactly 1000\n",
             after.passes - before.passes, after.events - before.events,
             after.most_events, after.full - before.full);
    assert_true (after.most_events <= 1000);
    assert_true (after.full - before.full >= 2);
    assert_int_equal (s_get ("z-bulk").events, 10);

    /* 300 streams with a retention: a pass looks at 256 of them at most,
       the next pass goes on where it stopped */
    for (int i = 0; i < 300; i++) {
        char name[32];
        snprintf (name, sizeof name, "z-many-%03d", i);
        assert_int_equal (s_retention (0, name, 0, 0, 1000000, 0), 0);
    }
    assert_int_equal (h_wait_until (s_a_full_slice, NULL, WAIT_MS), 0);
    after = s_passes ();
    fprintf (stderr, "retention: at most %llu streams in one pass\n",
             after.most_streams);
    assert_int_equal (after.most_streams, 256);
    /* and the streams past the slice are still reached: the last one
       made is trimmed */
    s_publish ("z-many-299", 3);
    assert_int_equal (s_retention (1, "z-many-299", 0, 0, 1, 0), 0);
    s_wait_head ("z-many-299", 3);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_retention_is_kept_shown_replaced_and_checked),
        cmocka_unit_test (test_count_and_bytes_trim_the_head),
        cmocka_unit_test (test_age_trims_what_is_older),
        cmocka_unit_test (test_after_groups_never_passes_the_slowest_group),
        cmocka_unit_test (test_a_new_group_starts_at_the_first_event_left),
        cmocka_unit_test (test_pending_events_stop_the_trimming),
        cmocka_unit_test (test_dead_lettered_events_stop_the_trimming),
        cmocka_unit_test (test_cli_sets_and_shows_retention),
        cmocka_unit_test (test_freed_space_is_reused),
        cmocka_unit_test (test_a_pass_deletes_1000_events_and_sees_256_streams),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
