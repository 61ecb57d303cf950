/*  Consumer groups over HTTP (DESIGN.md §5 and §6) against a real broker
    and a real bridge: the seed's consumption flow exactly as written (fetch,
    next_offset, POST offsets with {last_event_id}, the next fetch starts
    after it); a fetch without a commit gets the same events again; a commit
    behind the offset is 409 and changes nothing; seek in its four forms;
    the group list with exact lag; a long poll answered as soon as another
    thread publishes, and one that outlives the bridge's broker timeout;
    roles (a producer may not fetch); members with disjoint ranges; and the
    422s that name their paths. Events are published over the native
    protocol, so a broken ingest route does not fail these tests. */
#define _GNU_SOURCE
#include "harness.h"
#include "h_fixture.h"
#include "h_http.h"
#include "eventflow/ef_time.h"

#include <curl/curl.h>
#include <jansson.h>

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define API     "/api/v1"
#define MAX_PUB 1100

/* ---------------------------------------------------------------- fixture */

static char s_dir[256];
static h_broker_t s_broker;
static h_bridge_t s_bridge; /* defaults */
static h_bridge_t s_short;  /* --timeout 300: long polls must outlive it */
static ef_client_t *s_native;
/* header lines "X-API-Key: efk_…" */
static char s_consumer[200], s_producer[200];

static h_fixture_t s_fx = {.dir = s_dir,
                           .broker = &s_broker,
                           .native = &s_native,
                           .bridge = &s_bridge,
                           .bridge2 = &s_short,
                           .bridge2_flags =
                               (const char *const[]){"--timeout", "300", NULL},
                           .producer_key = s_producer,
                           .consumer_key = s_consumer};

static int
group_setup (void **state)
{
    (void)state;
    return h_fixture_setup (&s_fx);
}

static int
group_teardown (void **state)
{
    (void)state;
    return h_fixture_teardown (&s_fx);
}

/* ---------------------------------------------------------------- helpers */

typedef struct {
    char id[37];
    uint64_t received_at;
} s_pub_t;

/*  A native stream; its id into id (64 bytes, may be NULL). */
static void
s_stream (const char *name, char *id)
{
    ef_stream_info_t si;
    assert_int_equal (ef_client_create_stream (s_native, name, &si), 0);
    if (id)
        snprintf (id, 64, "%.*s", (int)si.id.len, si.id.ptr);
}

/*  Publish n events to stream with client c, in order; their ids and
    receive times into out (may be NULL). */
static void
s_publish_with (ef_client_t *c, const char *stream, uint32_t n, s_pub_t *out)
{
    ef_event_in_t evs[100];
    ef_publish_result_t res[100];
    char payloads[100][32];
    for (uint32_t done = 0; done < n;) {
        uint32_t k = n - done > 100 ? 100 : n - done;
        for (uint32_t i = 0; i < k; i++) {
            memset (&evs[i], 0, sizeof evs[i]);
            snprintf (payloads[i], sizeof payloads[i], "{\"i\":%u}", done + i);
            evs[i].type = ef_str ("group.http");
            evs[i].payload = ef_str (payloads[i]);
        }
        assert_int_equal (ef_client_publish (c, stream, evs, k, res), 0);
        for (uint32_t i = 0; i < k; i++) {
            assert_int_equal (res[i].code, 0);
            if (out) {
                assert_int_equal (res[i].event_id.len, 36);
                memcpy (out[done + i].id, res[i].event_id.ptr, 36);
                out[done + i].id[36] = 0;
                out[done + i].received_at = res[i].received_at;
            }
        }
        done += k;
    }
}

static void
s_publish (const char *stream, uint32_t n, s_pub_t *out)
{
    s_publish_with (s_native, stream, n, out);
}

/*  GET .../consumer-groups/{group}/events?query (query may be ""). */
static void
s_fetch_at (h_resp_t *r, const char *base, const char *cred, const char *stream,
            const char *group, const char *query, long timeout_ms,
            h_http_sent_t *sent)
{
    char path[600];
    snprintf (path, sizeof path,
              API "/streams/%s/consumer-groups/%s/events%s%s", stream, group,
              *query ? "?" : "", query);
    h_http_ex (r, base, "GET", path, cred, NULL, NULL, timeout_ms, sent);
}

static void
s_fetch (h_resp_t *r, const char *stream, const char *group, const char *query)
{
    s_fetch_at (r, s_bridge.url, s_consumer, stream, group, query, 10000, NULL);
}

/*  POST .../consumer-groups/{group}/{what} with body, as cred. */
static void
s_post_as (h_resp_t *r, const char *cred, const char *stream, const char *group,
           const char *what, const char *body)
{
    char path[600];
    snprintf (path, sizeof path, API "/streams/%s/consumer-groups/%s/%s",
              stream, group, what);
    h_http (r, s_bridge.url, "POST", path, cred, body, NULL);
}

static void
s_post (h_resp_t *r, const char *stream, const char *group, const char *what,
        const char *body)
{
    s_post_as (r, s_consumer, stream, group, what, body);
}

/*  POST offsets {"last_event_id": id}; expects 200 with committed_offset
    equal to want (NULL: null). */
static void
s_commit_ok (const char *stream, const char *group, const char *member,
             const char *id, const char *want)
{
    h_resp_t r;
    char body[200];
    if (member)
        snprintf (body, sizeof body,
                  "{\"last_event_id\":\"%s\",\"consumer_id\":\"%s\"}", id,
                  member);
    else
        snprintf (body, sizeof body, "{\"last_event_id\":\"%s\"}", id);
    s_post (&r, stream, group, "offsets", body);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "committed_offset", want);
    h_http_free (&r);
}

/*  POST seek with body; expects 200 with committed_offset want. */
static void
s_seek_ok (const char *stream, const char *group, const char *body,
           const char *want)
{
    h_resp_t r;
    s_post (&r, stream, group, "seek", body);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "committed_offset", want);
    h_http_free (&r);
}

/*  The fetch answered 200 with exactly the events pub[from..to) in order
    (none when from == to) and next_offset want (NULL: null). */
static void
s_expect_events (const h_resp_t *r, const s_pub_t *pub, uint32_t from,
                 uint32_t to, const char *want, const char *file, int line)
{
    h_http_expect_status (r, 200, file, line);
    json_t *evs = h_http_j (r->json, "events");
    _assert_true (json_is_array (evs), "events is an array", file, line);
    if (json_array_size (evs) != to - from)
        fprintf (stderr, "  %s: %zu events, expected %u: %.400s\n", r->what,
                 json_array_size (evs), to - from, r->body);
    _assert_int_equal (json_array_size (evs), to - from, file, line);
    for (uint32_t i = from; i < to; i++) {
        const char *id = json_string_value (
            json_object_get (json_array_get (evs, i - from), "event_id"));
        if (!id || strcmp (id, pub[i].id))
            fprintf (stderr, "  %s: events[%u] is %s, expected %s\n", r->what,
                     i - from, id ? id : "(none)", pub[i].id);
        _assert_string_equal (id ? id : "(none)", pub[i].id, file, line);
    }
    h_http_expect_str (r, r->json, "next_offset", want, file, line);
}
#define EXPECT_EVENTS(r, pub, from, to, want)                                  \
    s_expect_events (&(r), pub, from, to, want, __FILE__, __LINE__)

/*  The list entry of group in r, or NULL. */
static json_t *
s_group_item (const h_resp_t *r, const char *group)
{
    size_t i;
    json_t *it;
    json_array_foreach (h_http_j (r->json, "items"), i, it)
    {
        const char *g = json_string_value (json_object_get (it, "group"));
        if (g && !strcmp (g, group))
            return it;
    }
    return NULL;
}

/*  The group's lag and members in the list; its committed offset is want
    (NULL: null). */
static void
s_expect_group (const char *stream, const char *group, const char *want,
                json_int_t lag, json_int_t members)
{
    h_resp_t r;
    char path[300];
    snprintf (path, sizeof path, API "/streams/%s/consumer-groups", stream);
    h_http (&r, s_bridge.url, "GET", path, s_consumer, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    json_t *it = s_group_item (&r, group);
    if (!it)
        fprintf (stderr, "  no group '%s' in %.600s\n", group, r.body);
    assert_non_null (it);
    json_t *c = json_object_get (it, "committed_offset");
    if (want) {
        assert_true (json_is_string (c));
        assert_string_equal (json_string_value (c), want);
    } else
        assert_true (json_is_null (c));
    json_t *l = json_object_get (it, "lag"),
           *m = json_object_get (it, "members");
    assert_true (json_is_integer (l) && json_is_integer (m));
    if (json_integer_value (l) != lag)
        fprintf (stderr, "  group '%s': lag %lld, expected %lld\n", group,
                 (long long)json_integer_value (l), (long long)lag);
    assert_int_equal (json_integer_value (l), lag);
    assert_int_equal (json_integer_value (m), members);
    h_http_free (&r);
}

/* ---------------------------------------------------------------- tests */

/*  The seed's Flow 3 and its offset management, step by step. */
static void
test_seed_flow_fetch_commit_and_the_next_fetch_starts_after (void **st)
{
    (void)st;
    char id[64];
    s_pub_t pub[5];
    h_resp_t r;
    s_stream ("g-seed", id);
    /* before any event and any commit: nothing, and no offset */
    s_fetch (&r, id, "billing", "");
    EXPECT_EVENTS (r, pub, 0, 0, NULL);
    h_http_free (&r);
    s_publish ("g-seed", 5, pub);

    /* 1-4. no offset yet: from the beginning, in order, next_offset the
       last event returned; the stream addressed by its id */
    s_fetch (&r, id, "billing", "limit=3");
    EXPECT_EVENTS (r, pub, 0, 3, pub[2].id);
    /* each event is the API's one event object */
    json_t *ev = h_http_j (r.json, "events.0");
    assert_string_equal (h_http_jstr (ev, "stream_id"), id);
    assert_string_equal (h_http_jstr (ev, "id"), pub[0].id);
    assert_string_equal (h_http_jstr (ev, "type"), "group.http");
    assert_int_equal (json_integer_value (h_http_j (ev, "payload.i")), 0);
    assert_true (json_is_integer (h_http_j (ev, "seq")));
    assert_true (json_is_integer (h_http_j (ev, "version")));
    assert_non_null (h_http_jstr (ev, "received_at"));
    assert_non_null (h_http_jstr (ev, "status"));
    assert_true (json_is_object (h_http_j (ev, "context")));
    assert_true (json_is_integer (h_http_j (ev, "attempts")));
    char next[64];
    snprintf (next, sizeof next, "%s", h_http_jstr (r.json, "next_offset"));
    h_http_free (&r);

    /* 5. commit with the body the seed gives: { "last_event_id": "uuid" } */
    char body[128];
    snprintf (body, sizeof body, "{ \"last_event_id\": \"%s\" }", next);
    s_post (&r, id, "billing", "offsets", body);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "committed_offset", pub[2].id);
    h_http_free (&r);

    /* the next poll starts after the committed event */
    s_fetch (&r, id, "billing", "");
    EXPECT_EVENTS (r, pub, 3, 5, pub[4].id);
    h_http_free (&r);
    s_commit_ok (id, "billing", NULL, pub[4].id, pub[4].id);
    /* all consumed: empty, next_offset is the committed offset */
    s_fetch (&r, "g-seed", "billing", "");
    EXPECT_EVENTS (r, pub, 5, 5, pub[4].id);
    h_http_free (&r);
}

static void
test_a_fetch_without_a_commit_returns_the_same_events (void **st)
{
    (void)st;
    s_pub_t pub[4];
    h_resp_t r;
    s_stream ("g-again", NULL);
    s_publish ("g-again", 4, pub);
    for (int i = 0; i < 3; i++) {
        s_fetch (&r, "g-again", "g", "limit=2");
        EXPECT_EVENTS (r, pub, 0, 2, pub[1].id);
        h_http_free (&r);
    }
    s_commit_ok ("g-again", "g", NULL, pub[0].id, pub[0].id);
    s_fetch (&r, "g-again", "g", "limit=2");
    EXPECT_EVENTS (r, pub, 1, 3, pub[2].id);
    h_http_free (&r);
    /* another group is not moved by this one's commit */
    s_fetch (&r, "g-again", "other", "");
    EXPECT_EVENTS (r, pub, 0, 4, pub[3].id);
    h_http_free (&r);
}

static void
test_a_commit_behind_the_offset_is_409_and_changes_nothing (void **st)
{
    (void)st;
    s_pub_t pub[5];
    h_resp_t r;
    char body[128];
    s_stream ("g-behind", NULL);
    s_publish ("g-behind", 5, pub);
    s_commit_ok ("g-behind", "g", NULL, pub[3].id, pub[3].id);
    snprintf (body, sizeof body, "{\"last_event_id\":\"%s\"}", pub[1].id);
    s_post (&r, "g-behind", "g", "offsets", body);
    H_EXPECT_PROBLEM (r, 409, "CONFLICT", NULL);
    h_http_free (&r);
    s_fetch (&r, "g-behind", "g", "");
    EXPECT_EVENTS (r, pub, 4, 5, pub[4].id);
    h_http_free (&r);
    /* the same offset again is no move backwards */
    s_commit_ok ("g-behind", "g", NULL, pub[3].id, pub[3].id);
    /* an event that is not in this stream: 404 */
    s_post (&r, "g-behind", "g", "offsets",
            "{\"last_event_id\":\"00000000-0000-4000-8000-000000000000\"}");
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
    s_expect_group ("g-behind", "g", pub[3].id, 1, 0);
}

static void
test_seek_earliest_latest_to_an_event_and_to_a_time (void **st)
{
    (void)st;
    s_pub_t pub[8];
    h_resp_t r;
    char body[200], t[40];
    s_stream ("g-seek", NULL);
    s_publish ("g-seek", 6, pub);
    s_commit_ok ("g-seek", "g", NULL, pub[5].id, pub[5].id);

    /* earliest: everything again, and nothing committed */
    s_seek_ok ("g-seek", "g", "{\"to\":\"earliest\"}", NULL);
    s_fetch (&r, "g-seek", "g", "");
    EXPECT_EVENTS (r, pub, 0, 6, pub[5].id);
    h_http_free (&r);

    /* an event: it is the next one fetched */
    snprintf (body, sizeof body, "{\"to\":\"%s\"}", pub[2].id);
    s_seek_ok ("g-seek", "g", body, pub[1].id);
    s_fetch (&r, "g-seek", "g", "");
    EXPECT_EVENTS (r, pub, 2, 6, pub[5].id);
    h_http_free (&r);

    /* latest: only what is published from now on */
    s_seek_ok ("g-seek", "g", "{\"to\":\"latest\"}", pub[5].id);
    s_fetch (&r, "g-seek", "g", "");
    EXPECT_EVENTS (r, pub, 6, 6, pub[5].id);
    h_http_free (&r);
    s_publish ("g-seek", 2, pub + 6);
    s_fetch (&r, "g-seek", "g", "");
    EXPECT_EVENTS (r, pub, 6, 8, pub[7].id);
    h_http_free (&r);

    /* a time, in epoch ms and as RFC 3339: the first event received at or
       after it is the next one fetched (events of the same millisecond
       count from the first of them) */
    uint64_t ts = pub[4].received_at;
    uint32_t first = 0;
    while (pub[first].received_at < ts)
        first++;
    snprintf (body, sizeof body, "{\"to\":{\"timestamp\":%llu}}",
              (unsigned long long)ts);
    s_seek_ok ("g-seek", "g", body, first ? pub[first - 1].id : NULL);
    s_fetch (&r, "g-seek", "g", "");
    EXPECT_EVENTS (r, pub, first, 8, pub[7].id);
    h_http_free (&r);
    s_commit_ok ("g-seek", "g", NULL, pub[7].id, pub[7].id);
    snprintf (body, sizeof body, "{\"to\":{\"timestamp\":\"%s\"}}",
              ef_time_format (ts, t, sizeof t));
    s_seek_ok ("g-seek", "g", body, first ? pub[first - 1].id : NULL);
    s_fetch (&r, "g-seek", "g", "");
    EXPECT_EVENTS (r, pub, first, 8, pub[7].id);
    h_http_free (&r);
    /* a time before every event is the beginning */
    s_seek_ok ("g-seek", "g", "{\"to\":{\"timestamp\":0}}", NULL);
    s_fetch (&r, "g-seek", "g", "limit=1");
    EXPECT_EVENTS (r, pub, 0, 1, pub[0].id);
    h_http_free (&r);

    /* an event id of no event in this stream: 404 */
    s_post (&r, "g-seek", "g", "seek",
            "{\"to\":\"00000000-0000-4000-8000-000000000000\"}");
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
    /* anything else: 422 naming the path */
    static const struct {
        const char *body, *path;
    } bad[] = {
        {"{}", "/to"},
        {"{\"to\":\"middle\"}", "/to"},
        {"{\"to\":5}", "/to"},
        {"{\"to\":[\"earliest\"]}", "/to"},
        {"{\"to\":{}}", "/to/timestamp"},
        {"{\"to\":{\"timestamp\":\"yesterday\"}}", "/to/timestamp"},
        {"{\"to\":{\"timestamp\":-5}}", "/to/timestamp"},
        {"{\"to\":{\"timestamp\":1.5}}", "/to/timestamp"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_post (&r, "g-seek", "g", "seek", bad[i].body);
        H_EXPECT_PROBLEM (r, 422, "VALIDATION", bad[i].path);
        h_http_free (&r);
    }
    /* and nothing moved */
    s_fetch (&r, "g-seek", "g", "limit=1");
    EXPECT_EVENTS (r, pub, 0, 1, pub[0].id);
    h_http_free (&r);
}

static void
test_the_group_list_has_exact_lag_after_publishes_and_commits (void **st)
{
    (void)st;
    s_pub_t pub[15];
    h_resp_t r;
    s_stream ("g-lag", NULL);
    /* no group yet */
    h_http (&r, s_bridge.url, "GET", API "/streams/g-lag/consumer-groups",
            s_consumer, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_true (json_is_array (h_http_j (r.json, "items")));
    assert_int_equal (json_array_size (h_http_j (r.json, "items")), 0);
    h_http_free (&r);

    s_publish ("g-lag", 10, pub);
    s_fetch (&r, "g-lag", "one", "limit=4");
    EXPECT_EVENTS (r, pub, 0, 4, pub[3].id);
    h_http_free (&r);
    s_commit_ok ("g-lag", "one", NULL, pub[3].id, pub[3].id);
    s_seek_ok ("g-lag", "two", "{\"to\":\"earliest\"}", NULL);
    s_expect_group ("g-lag", "one", pub[3].id, 6, 0);
    s_expect_group ("g-lag", "two", NULL, 10, 0);

    s_publish ("g-lag", 5, pub + 10);
    s_expect_group ("g-lag", "one", pub[3].id, 11, 0);
    s_expect_group ("g-lag", "two", NULL, 15, 0);
    s_commit_ok ("g-lag", "two", NULL, pub[14].id, pub[14].id);
    s_commit_ok ("g-lag", "one", NULL, pub[9].id, pub[9].id);
    s_expect_group ("g-lag", "one", pub[9].id, 5, 0);
    s_expect_group ("g-lag", "two", pub[14].id, 0, 0);

    /* every role may list; a producer too */
    h_http (&r, s_bridge.url, "GET", API "/streams/g-lag/consumer-groups",
            s_producer, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_array_size (h_http_j (r.json, "items")), 2);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", API "/streams/nope/consumer-groups",
            s_consumer, NULL, NULL);
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
}

typedef struct {
    const char *stream;
    h_http_sent_t *sent;
    s_pub_t pub;
} s_publisher_t;

/*  Once the long poll is out, publish one event on a connection of its
    own (a client is not shared between threads). */
static void *
s_publisher (void *arg)
{
    s_publisher_t *p = arg;
    ef_client_t *c = h_client (&s_broker);
    h_http_sent_wait (p->sent);
    if (c)
        s_publish_with (c, p->stream, 1, &p->pub);
    ef_client_destroy (&c);
    return NULL;
}

static void
test_a_long_poll_is_answered_as_soon_as_another_thread_publishes (void **st)
{
    (void)st;
    s_pub_t pub[2];
    h_resp_t r;
    s_stream ("g-poll", NULL);
    s_publish ("g-poll", 1, pub);
    s_commit_ok ("g-poll", "g", NULL, pub[0].id, pub[0].id);

    h_http_sent_t sent = H_HTTP_SENT_INIT;
    s_publisher_t p = {"g-poll", &sent, {{0}, 0}};
    pthread_t th;
    assert_int_equal (pthread_create (&th, NULL, s_publisher, &p), 0);
    long t0 = h_http_ms_now ();
    s_fetch_at (&r, s_bridge.url, s_consumer, "g-poll", "g", "timeout=10000",
                20000, &sent);
    long took = h_http_ms_now () - t0;
    pthread_join (th, NULL);
    assert_int_equal (strlen (p.pub.id), 36);
    pub[1] = p.pub;
    EXPECT_EVENTS (r, pub, 1, 2, pub[1].id);
    h_http_free (&r);
    if (took >= 3000)
        fprintf (stderr, "  the long poll took %ld ms\n", took);
    assert_true (took < 3000); /* not the 10 s timeout */
}

static void
test_a_long_poll_outlives_the_bridges_broker_timeout (void **st)
{
    (void)st;
    h_resp_t r;
    s_stream ("g-wait", NULL);
    /* s_short waits 300 ms for the broker; this poll asks 1200 */
    long t0 = h_http_ms_now ();
    s_fetch_at (&r, s_short.url, s_consumer, "g-wait", "g", "timeout=1200",
                10000, NULL);
    long took = h_http_ms_now () - t0;
    EXPECT_EVENTS (r, NULL, 0, 0, NULL);
    h_http_free (&r);
    if (took < 1100 || took > 5000)
        fprintf (stderr, "  the empty long poll took %ld ms\n", took);
    assert_true (took >= 1100 && took < 5000);
    /* and the connection's own timeout is back: a plain call still works */
    s_fetch_at (&r, s_short.url, s_consumer, "g-wait", "g", "", 10000, NULL);
    EXPECT_EVENTS (r, NULL, 0, 0, NULL);
    h_http_free (&r);
}

static void
test_a_producer_key_gets_403_on_fetch_commit_and_seek (void **st)
{
    (void)st;
    s_pub_t pub[1];
    h_resp_t r;
    char body[128];
    s_stream ("g-roles", NULL);
    s_publish ("g-roles", 1, pub);
    s_fetch_at (&r, s_bridge.url, s_producer, "g-roles", "g", "", 10000, NULL);
    H_EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
    h_http_free (&r);
    snprintf (body, sizeof body, "{\"last_event_id\":\"%s\"}", pub[0].id);
    s_post_as (&r, s_producer, "g-roles", "g", "offsets", body);
    H_EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
    h_http_free (&r);
    s_post_as (&r, s_producer, "g-roles", "g", "seek", "{\"to\":\"latest\"}");
    H_EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
    h_http_free (&r);
    /* no credential at all: 401 */
    s_fetch_at (&r, s_bridge.url, NULL, "g-roles", "g", "", 10000, NULL);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
    /* the consumer reads it, untouched by the refused commit */
    s_fetch (&r, "g-roles", "g", "");
    EXPECT_EVENTS (r, pub, 0, 1, pub[0].id);
    h_http_free (&r);
}

/*  The group's members_detail in the list (caller frees r). */
static json_t *
s_leases (h_resp_t *r, const char *stream, const char *group)
{
    char path[300];
    snprintf (path, sizeof path, API "/streams/%s/consumer-groups", stream);
    h_http (r, s_bridge.url, "GET", path, s_consumer, NULL, NULL);
    H_EXPECT_STATUS (*r, 200);
    json_t *it = s_group_item (r, group);
    assert_non_null (it);
    json_t *d = json_object_get (it, "members_detail");
    assert_true (json_is_array (d));
    return d;
}

/*  Lease i of d is member's, from..to, expiring within the lease time. */
static void
s_expect_lease (json_t *d, size_t i, const char *member, json_int_t from,
                json_int_t to)
{
    json_t *l = json_array_get (d, i);
    assert_non_null (l);
    assert_string_equal (json_string_value (json_object_get (l, "consumer_id")),
                         member);
    assert_int_equal (json_integer_value (json_object_get (l, "from_seq")),
                      from);
    assert_int_equal (json_integer_value (json_object_get (l, "to_seq")), to);
    json_int_t left = json_integer_value (json_object_get (l, "expires_in_ms"));
    assert_true (left > 0 && left <= 30000);
}

static void
test_two_members_get_disjoint_ranges (void **st)
{
    (void)st;
    s_pub_t pub[10];
    h_resp_t r;
    s_stream ("g-members", NULL);
    s_publish ("g-members", 10, pub);
    s_fetch (&r, "g-members", "g", "consumer_id=a&limit=4");
    EXPECT_EVENTS (r, pub, 0, 4, pub[3].id);
    h_http_free (&r);
    s_fetch (&r, "g-members", "g", "consumer_id=b&limit=4");
    EXPECT_EVENTS (r, pub, 4, 8, pub[7].id);
    h_http_free (&r);
    /* a member's re-fetch is its open lease */
    s_fetch (&r, "g-members", "g", "consumer_id=a&limit=4");
    EXPECT_EVENTS (r, pub, 0, 4, pub[3].id);
    h_http_free (&r);
    s_expect_group ("g-members", "g", NULL, 10, 2);
    /* the members' leases, each with its range and time left */
    json_t *d = s_leases (&r, "g-members", "g");
    assert_int_equal (json_array_size (d), 2);
    int a_first = !strcmp (json_string_value (json_object_get (
                               json_array_get (d, 0), "consumer_id")),
                           "a");
    s_expect_lease (d, a_first ? 0 : 1, "a", 1, 4);
    s_expect_lease (d, a_first ? 1 : 0, "b", 5, 8);
    h_http_free (&r);
    /* b's commit is remembered, but the offset waits for a's range */
    s_commit_ok ("g-members", "g", "b", pub[7].id, NULL);
    d = s_leases (&r, "g-members", "g");
    assert_int_equal (json_array_size (d), 1); /* b's is committed */
    s_expect_lease (d, 0, "a", 1, 4);
    h_http_free (&r);
    s_commit_ok ("g-members", "g", "a", pub[3].id, pub[7].id);
    s_expect_group ("g-members", "g", pub[7].id, 2, 0);
    d = s_leases (&r, "g-members", "g");
    assert_int_equal (json_array_size (d), 0);
    h_http_free (&r);
    /* what is left goes to whoever asks */
    s_fetch (&r, "g-members", "g", "consumer_id=b&limit=4");
    EXPECT_EVENTS (r, pub, 8, 10, pub[9].id);
    h_http_free (&r);
    s_fetch (&r, "g-members", "g", "consumer_id=a&limit=4");
    EXPECT_EVENTS (r, pub, 10, 10, pub[7].id);
    h_http_free (&r);
}

/*  A group's list item names at most 100 leases (members counts them
    all). */
static void
test_the_leases_listed_are_at_most_100 (void **st)
{
    (void)st;
    s_pub_t pub[101];
    h_resp_t r;
    s_stream ("g-many", NULL);
    s_publish ("g-many", 101, pub);
    for (int i = 0; i < 101; i++) {
        char q[64];
        snprintf (q, sizeof q, "consumer_id=m%d&limit=1", i);
        s_fetch (&r, "g-many", "g", q);
        H_EXPECT_STATUS (r, 200);
        h_http_free (&r);
    }
    s_expect_group ("g-many", "g", NULL, 101, 101);
    json_t *d = s_leases (&r, "g-many", "g");
    assert_int_equal (json_array_size (d), 100);
    h_http_free (&r);
}

static void
test_limit_is_1_to_1000_and_never_capped (void **st)
{
    (void)st;
    static s_pub_t pub[MAX_PUB];
    h_resp_t r;
    s_stream ("g-cap", NULL);
    s_publish ("g-cap", 1001, pub);
    s_fetch (&r, "g-cap", "g", "limit=5000"); /* refused, not capped */
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "?limit");
    h_http_free (&r);
    s_fetch (&r, "g-cap", "g", "limit=1000");
    EXPECT_EVENTS (r, pub, 0, 1000, pub[999].id);
    h_http_free (&r);
    s_fetch (&r, "g-cap", "g", ""); /* 100 by default */
    EXPECT_EVENTS (r, pub, 0, 100, pub[99].id);
    h_http_free (&r);
}

static void
test_bad_names_numbers_and_bodies_are_422_with_their_paths (void **st)
{
    (void)st;
    h_resp_t r;
    char long_member[80];
    memset (long_member, 'm', 65);
    long_member[65] = 0;
    s_stream ("g-bad", NULL);
    static const struct {
        const char *group, *query, *path;
    } bad[] = {
        {"bad%20name", "", "group"},
        {"g", "limit=0", "?limit"},
        {"g", "limit=ten", "?limit"},
        {"g", "limit=-1", "?limit"},
        {"g", "timeout=soon", "?timeout"},
        {"g", "limit=1001", "?limit"},
        {"g", "timeout=30001", "?timeout"},
        {"g", "consumer_id=", "?consumer_id"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_fetch (&r, "g-bad", bad[i].group, bad[i].query);
        H_EXPECT_PROBLEM (r, 422, "VALIDATION", bad[i].path);
        h_http_free (&r);
    }
    char q[128];
    snprintf (q, sizeof q, "consumer_id=%s", long_member);
    s_fetch (&r, "g-bad", "g", q);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "?consumer_id");
    h_http_free (&r);
    /* 129 characters is one too many for a group name */
    char group[140];
    memset (group, 'g', 129);
    group[129] = 0;
    s_fetch (&r, "g-bad", group, "");
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "group");
    h_http_free (&r);
    s_post (&r, "g-bad", "bad!", "seek", "{\"to\":\"earliest\"}");
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "group");
    h_http_free (&r);

    static const struct {
        const char *body, *path;
    } commits[] = {
        {"{}", "/last_event_id"},
        {"{\"last_event_id\":42}", "/last_event_id"},
        {"{\"last_event_id\":\"not-an-id\"}", "/last_event_id"},
        {"{\"last_event_id\":\"00000000-0000-4000-8000-000000000000\","
         "\"consumer_id\":\"\"}",
         "/consumer_id"},
    };
    for (size_t i = 0; i < sizeof commits / sizeof commits[0]; i++) {
        s_post (&r, "g-bad", "g", "offsets", commits[i].body);
        H_EXPECT_PROBLEM (r, 422, "VALIDATION", commits[i].path);
        h_http_free (&r);
    }
    s_post (&r, "g-bad", "g", "offsets", "{\"last_event_id\":");
    H_EXPECT_PROBLEM (r, 400, "MALFORMED_JSON", NULL);
    h_http_free (&r);
    /* an unknown stream */
    s_fetch (&r, "no-such-stream", "g", "");
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
    s_post (&r, "no-such-stream", "g", "seek", "{\"to\":\"earliest\"}");
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (
            test_seed_flow_fetch_commit_and_the_next_fetch_starts_after),
        cmocka_unit_test (
            test_a_fetch_without_a_commit_returns_the_same_events),
        cmocka_unit_test (
            test_a_commit_behind_the_offset_is_409_and_changes_nothing),
        cmocka_unit_test (test_seek_earliest_latest_to_an_event_and_to_a_time),
        cmocka_unit_test (
            test_the_group_list_has_exact_lag_after_publishes_and_commits),
        cmocka_unit_test (
            test_a_long_poll_is_answered_as_soon_as_another_thread_publishes),
        cmocka_unit_test (test_a_long_poll_outlives_the_bridges_broker_timeout),
        cmocka_unit_test (
            test_a_producer_key_gets_403_on_fetch_commit_and_seek),
        cmocka_unit_test (test_two_members_get_disjoint_ranges),
        cmocka_unit_test (test_the_leases_listed_are_at_most_100),
        cmocka_unit_test (test_limit_is_1_to_1000_and_never_capped),
        cmocka_unit_test (
            test_bad_names_numbers_and_bodies_are_422_with_their_paths),
    };
    return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
