/*  Stream processing over HTTP (DESIGN.md §5, §6) against a real broker,
    a real bridge and real `eventflow worker` processes: a stream created
    with a JSON Schema and a pipeline; a payload the schema refuses is 422
    with each failing path (single and in a batch) and nothing of it is
    stored; a schema or pipeline the broker cannot compile is 422 naming
    the member (a route cycle names it, a patch too long names its step's
    patch); a worker that fails without retry leaves the event FAILED
    with its attempts and error, in the dead-letter queue (list with its
    filters, one letter), while GET /workers lists it; replayed with a
    worker that succeeds, the event ends PROCESSED with the worker's JSON
    result; a deleted letter is gone (204, then 404); and the DLQ and the
    workers are for admins only. */
#define _GNU_SOURCE
#include "harness.h"
#include "h_fixture.h"
#include "h_http.h"
#include "eventflow/ef_time.h"

#include <curl/curl.h>
#include <jansson.h>

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>
#include <cmocka.h>

#define API     "/api/v1"
#define WAIT_MS 20000 /* a deadline for what must happen, not a timing */

/* ---------------------------------------------------------------- fixture */

static char s_dir[256];
static h_broker_t s_broker;
static h_bridge_t s_bridge;
static ef_client_t *s_native;
/* header lines "X-API-Key: efk_…" */
static char s_admin[200], s_producer[200], s_consumer[200];

static h_fixture_t s_fx = {.dir = s_dir,
                           .broker = &s_broker,
                           .native = &s_native,
                           .bridge = &s_bridge,
                           .admin_key = s_admin,
                           .producer_key = s_producer,
                           .consumer_key = s_consumer};

/*  One request to the bridge with the header line cred (may be NULL) and
    a JSON body (may be NULL). */
static void
s_http (h_resp_t *r, const char *method, const char *path, const char *cred,
        const char *body)
{
    h_http (r, s_bridge.url, method, path, cred, body, NULL);
}

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

/*  POST /streams with body as admin; expects want. */
static void
s_create_stream (const char *body, long want)
{
    h_resp_t r;
    s_http (&r, "POST", API "/streams", s_admin, body);
    H_EXPECT_STATUS (r, want);
    h_http_free (&r);
}

/*  The number of events stored in stream (GET /streams/{id}). */
static long long
s_stored (const char *stream)
{
    h_resp_t r;
    char path[300];
    snprintf (path, sizeof path, API "/streams/%s", stream);
    s_http (&r, "GET", path, s_admin, NULL);
    H_EXPECT_STATUS (r, 200);
    long long n = json_integer_value (h_http_j (r.json, "events"));
    h_http_free (&r);
    return n;
}

/*  Publish one payload over HTTP; its event_id into id (40 bytes). */
static void
s_publish (const char *stream, const char *payload, char *id)
{
    h_resp_t r;
    char path[300], body[600];
    snprintf (path, sizeof path, API "/streams/%s/events", stream);
    snprintf (body, sizeof body, "{\"type\":\"proc.http\",\"payload\":%s}",
              payload);
    s_http (&r, "POST", path, s_producer, body);
    H_EXPECT_STATUS (r, 202);
    snprintf (id, 40, "%s", h_http_jstr (r.json, "event_id"));
    h_http_free (&r);
}

typedef struct {
    const char *path, *want;
    h_resp_t *r; /* the last answer */
    int have;    /* r holds one */
} s_status_watch_t;

/*  h_wait_until: GET path answers status want. */
static int
s_status_is (void *arg)
{
    s_status_watch_t *w = arg;
    if (w->have)
        h_http_free (w->r);
    s_http (w->r, "GET", w->path, s_consumer, NULL);
    w->have = 1;
    H_EXPECT_STATUS (*w->r, 200);
    const char *st = h_http_jstr (w->r->json, "status");
    return st && !strcmp (st, w->want);
}

/*  GET /events/{id} until its status is want; the answer (caller frees). */
static void
s_wait_status (h_resp_t *r, const char *id, const char *want)
{
    char path[200];
    snprintf (path, sizeof path, API "/events/%s", id);
    s_status_watch_t w = {path, want, r, 0};
    if (h_wait_until (s_status_is, &w, WAIT_MS))
        fail_msg ("event %s: %s, wanted %s", id, r->body, want);
}

/*  The number of attached workers of service (GET /workers). */
static int
s_workers_of (const char *service)
{
    h_resp_t r;
    s_http (&r, "GET", API "/workers", s_admin, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_true (json_is_array (h_http_j (r.json, "workers")));
    assert_true (json_is_integer (h_http_j (r.json, "queued")));
    size_t i;
    json_t *w;
    int n = 0;
    json_array_foreach (h_http_j (r.json, "workers"), i, w)
    {
        const char *s = json_string_value (json_object_get (w, "service"));
        if (s && !strcmp (s, service)) {
            assert_true (json_is_integer (json_object_get (w, "capacity")));
            assert_true (json_is_integer (json_object_get (w, "in_flight")));
            /* its id: the lowercase hex of its routing id */
            const char *id = json_string_value (json_object_get (w, "id"));
            assert_non_null (id);
            assert_true (*id && strspn (id, "0123456789abcdef") == strlen (id));
            n++;
        }
    }
    h_http_free (&r);
    return n;
}

typedef struct {
    const char *service;
    int want, n;
} s_workers_watch_t;

static int
s_workers_are (void *arg)
{
    s_workers_watch_t *w = arg;
    return (w->n = s_workers_of (w->service)) == w->want;
}

/*  GET /workers: service's figure key in "services" (-1: not listed). */
static json_int_t
s_service_figure (const char *service, const char *key)
{
    h_resp_t r;
    json_int_t v = -1;
    s_http (&r, "GET", API "/workers", s_admin, NULL);
    H_EXPECT_STATUS (r, 200);
    size_t i;
    json_t *sv;
    json_array_foreach (h_http_j (r.json, "services"), i, sv)
    {
        const char *s = json_string_value (json_object_get (sv, "service"));
        if (s && !strcmp (s, service))
            v = json_integer_value (json_object_get (sv, key));
    }
    h_http_free (&r);
    return v;
}

/*  Wait until GET /workers lists `want` workers of service. */
static void
s_wait_workers (const char *service, int want)
{
    s_workers_watch_t w = {service, want, 0};
    if (h_wait_until (s_workers_are, &w, WAIT_MS))
        fail_msg ("%d workers of %s, wanted %d", w.n, service, want);
}

/*  `eventflow worker --service service --exec command`, a child process
    attached to the broker; its pid once GET /workers lists it. */
static pid_t
s_worker_start (const char *service, const char *command)
{
    int before = s_workers_of (service);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        setenv ("EVENTFLOW_BROKER_ENDPOINT", s_broker.endpoint, 1);
        int devnull = open ("/dev/null", O_WRONLY);
        dup2 (devnull, 1);
        dup2 (devnull, 2);
        execl (h_bin ("eventflow"), "eventflow", "--data-dir", s_broker.dir,
               "worker", "--service", service, "--exec", command, (char *)NULL);
        _exit (127);
    }
    s_wait_workers (service, before + 1);
    return pid;
}

/*  Kill the worker and wait until the broker has dropped it. */
static void
s_worker_stop (pid_t pid, const char *service)
{
    kill (pid, SIGKILL);
    waitpid (pid, NULL, 0);
    s_wait_workers (service, 0);
}

/*  GET /dlq?query as admin (query may be ""). */
static void
s_dlq_list (h_resp_t *r, const char *query)
{
    char path[600];
    snprintf (path, sizeof path, API "/dlq%s%s", *query ? "?" : "", query);
    s_http (r, "GET", path, s_admin, NULL);
}

/*  GET /dlq?query answers 200 with n items; the first is event id (when
    n > 0 and id is not NULL). */
static void
s_expect_dlq (const char *query, size_t n, const char *id, const char *file,
              int line)
{
    h_resp_t r;
    s_dlq_list (&r, query);
    h_http_expect_status (&r, 200, file, line);
    json_t *items = h_http_j (r.json, "items");
    if (json_array_size (items) != n)
        fprintf (stderr, "  %s: %zu items, expected %zu: %.600s\n", r.what,
                 json_array_size (items), n, r.body);
    _assert_int_equal (json_array_size (items), n, file, line);
    _assert_true (json_is_boolean (h_http_j (r.json, "has_more")), "has_more",
                  file, line);
    if (n && id)
        h_http_expect_str (&r, r.json, "items.0.event_id", id, file, line);
    h_http_free (&r);
}
#define EXPECT_DLQ(query, n, id) s_expect_dlq (query, n, id, __FILE__, __LINE__)

/* ---------------------------------------------------------------- tests */

#define ORDER_SCHEMA                                                           \
    "{\"type\":\"object\",\"required\":[\"amount\",\"sku\"],"                  \
    "\"properties\":{\"amount\":{\"type\":\"number\",\"minimum\":0},"          \
    "\"sku\":{\"type\":\"string\"}}}"

static void
test_a_stream_is_created_and_changed_with_a_schema_and_a_pipeline (void **state)
{
    (void)state;
    h_resp_t r;
    /* white space and number spelling travel as sent, compacted */
    s_http (&r, "POST", API "/streams", s_admin,
            "{\"name\":\"orders\",\n \"schema\": " ORDER_SCHEMA ",\n"
            " \"pipeline\": [ {\"type\": \"transform\", \"patch\": "
            "[{\"op\":\"add\",\"path\":\"/seen\",\"value\":0.1}]} ]}");
    H_EXPECT_STATUS (r, 201);
    H_EXPECT_STR (r, "name", "orders");
    h_http_free (&r);
    /* GET shows them as JSON values, as sent */
    s_http (&r, "GET", API "/streams/orders", s_consumer, NULL);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "schema.properties.amount.type", "number");
    H_EXPECT_STR (r, "pipeline.0.type", "transform");
    assert_true (json_is_real (h_http_j (r.json, "pipeline.0.patch.0.value")));
    h_http_free (&r);

    /* the pipeline runs: a valid event ends PROCESSED */
    char id[40];
    s_publish ("orders", "{\"amount\":5,\"sku\":\"A-1\"}", id);
    s_wait_status (&r, id, "PROCESSED");
    h_http_free (&r);

    /* PATCH replaces the pipeline, keeps the schema, null removes */
    s_http (&r, "PATCH", API "/streams/orders", s_admin,
            "{\"pipeline\":[{\"type\":\"filter\",\"schema\":"
            "{\"properties\":{\"amount\":{\"minimum\":10}}}}]}");
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "name", "orders");
    h_http_free (&r);
    s_publish ("orders", "{\"amount\":5,\"sku\":\"A-2\"}", id);
    s_wait_status (&r, id, "FILTERED");
    h_http_free (&r);
    s_http (&r, "PATCH", API "/streams/orders", s_admin, "{\"pipeline\":null}");
    H_EXPECT_STATUS (r, 200);
    assert_true (json_is_null (h_http_j (r.json, "pipeline")));
    H_EXPECT_STR (r, "schema.type", "object");
    h_http_free (&r);
    s_publish ("orders", "{\"amount\":5,\"sku\":\"A-3\"}", id);
    s_wait_status (&r, id, "PROCESSED");
    h_http_free (&r);

    /* a boolean schema is a schema too */
    s_create_stream ("{\"name\":\"anything\",\"schema\":true}", 201);
}

static void
test_a_payload_the_schema_refuses_is_422_with_each_path_and_not_stored (
    void **state)
{
    (void)state;
    s_create_stream ("{\"name\":\"strict\",\"schema\":" ORDER_SCHEMA "}", 201);
    h_resp_t r;
    s_http (&r, "POST", API "/streams/strict/events", s_producer,
            "{\"type\":\"order\",\"payload\":{\"amount\":\"x\"}}");
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "/payload/amount");
    assert_true (
        h_http_has_error (h_http_j (r.json, "errors"), "/payload/sku", NULL));
    assert_int_equal (json_array_size (h_http_j (r.json, "errors")), 2);
    h_http_free (&r);
    /* the payload itself: its path is /payload */
    s_http (&r, "POST", API "/streams/strict/events", s_producer,
            "{\"type\":\"order\",\"payload\":[1]}");
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "/payload");
    h_http_free (&r);
    assert_int_equal (s_stored ("strict"), 0);

    /* a batch: the valid item is stored, the refused one lists its paths */
    s_http (&r, "POST", API "/streams/strict/events", s_producer,
            "[{\"type\":\"order\",\"payload\":{\"amount\":1,\"sku\":\"B\"}},"
            " {\"type\":\"order\",\"payload\":{\"amount\":-1,\"sku\":\"C\"}}]");
    H_EXPECT_STATUS (r, 202);
    H_EXPECT_STR (r, "results.0.status", "ACCEPTED");
    H_EXPECT_STR (r, "results.1.error.code", "VALIDATION");
    assert_int_equal (json_integer_value (h_http_j (r.json, "results.1.index")),
                      1);
    assert_true (h_http_has_error (h_http_j (r.json, "results.1.errors"),
                                   "/1/payload/amount", NULL));
    assert_null (h_http_j (r.json, "results.0.errors"));
    h_http_free (&r);
    assert_int_equal (s_stored ("strict"), 1);
}

/*  A schema error travels as {path, message} (the result's errors array),
    not as text to split: a property named "a; b" comes through as one
    error at /payload/a; b, alone and in a batch. */
static void
test_a_schema_error_at_a_path_with_a_semicolon_is_one_error (void **state)
{
    (void)state;
    s_create_stream ("{\"name\":\"semi\",\"schema\":{\"properties\":"
                     "{\"a; b\":{\"type\":\"number\"}}}}",
                     201);
    h_resp_t r;
    s_http (&r, "POST", API "/streams/semi/events", s_producer,
            "{\"type\":\"t\",\"payload\":{\"a; b\":\"x\"}}");
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "/payload/a; b");
    assert_int_equal (json_array_size (h_http_j (r.json, "errors")), 1);
    h_http_free (&r);
    s_http (&r, "POST", API "/streams/semi/events", s_producer,
            "[{\"type\":\"t\",\"payload\":{\"a; b\":1}},"
            " {\"type\":\"t\",\"payload\":{\"a; b\":\"x\"}}]");
    H_EXPECT_STATUS (r, 202);
    H_EXPECT_STR (r, "results.0.status", "ACCEPTED");
    json_t *errors = h_http_j (r.json, "results.1.errors");
    assert_int_equal (json_array_size (errors), 1);
    assert_true (h_http_has_error (errors, "/1/payload/a; b", NULL));
    h_http_free (&r);
}

/*  Route cycles over HTTP: a stream routing to itself, and a PATCH that
    would close a ring, are 422 at /pipeline naming the cycle, and nothing
    of them is kept; a transform with more than 64 operations is 422 at
    /pipeline/N/patch. */
static void
test_route_cycles_and_long_patches_are_422 (void **state)
{
    (void)state;
    h_resp_t r;
    s_http (&r, "POST", API "/streams", s_admin,
            "{\"name\":\"selfish\",\"pipeline\":[{\"type\":\"route\","
            "\"stream\":\"selfish\"}]}");
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "/pipeline");
    assert_true (h_http_has_error (h_http_j (r.json, "errors"), "/pipeline",
                                   "route cycle: selfish -> selfish"));
    h_http_free (&r);
    s_http (&r, "GET", API "/streams/selfish", s_admin, NULL);
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);

    s_create_stream ("{\"name\":\"ping\",\"pipeline\":[{\"type\":\"route\","
                     "\"stream\":\"pong\"}]}",
                     201);
    s_create_stream ("{\"name\":\"pong\"}", 201);
    s_http (&r, "PATCH", API "/streams/pong", s_admin,
            "{\"pipeline\":[{\"type\":\"route\",\"stream\":\"ping\"}]}");
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "/pipeline");
    assert_true (h_http_has_error (h_http_j (r.json, "errors"), "/pipeline",
                                   "route cycle: pong -> ping -> pong"));
    h_http_free (&r);
    s_http (&r, "GET", API "/streams/pong", s_admin, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_true (json_is_null (h_http_j (r.json, "pipeline")));
    h_http_free (&r);

    char body[8192] = "{\"name\":\"long\",\"pipeline\":[{\"type\":\"filter\","
                      "\"schema\":{}},{\"type\":\"transform\",\"patch\":[";
    for (int i = 0; i < 65; i++)
        strcat (body, i ? ",{\"op\":\"remove\",\"path\":\"/a\"}"
                        : "{\"op\":\"remove\",\"path\":\"/a\"}");
    strcat (body, "]}]}");
    s_http (&r, "POST", API "/streams", s_admin, body);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "/pipeline/1/patch");
    assert_true (h_http_has_error (h_http_j (r.json, "errors"),
                                   "/pipeline/1/patch", "at most 64"));
    h_http_free (&r);
}

static void
test_a_schema_or_pipeline_the_broker_refuses_is_422_naming_it (void **state)
{
    (void)state;
    h_resp_t r;
    s_http (&r, "POST", API "/streams", s_admin,
            "{\"name\":\"bad1\",\"schema\":{\"type\":\"int\"}}");
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "/schema");
    h_http_free (&r);
    s_http (&r, "POST", API "/streams", s_admin,
            "{\"name\":\"bad2\",\"pipeline\":[{\"type\":\"teleport\"}]}");
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "/pipeline");
    h_http_free (&r);
    /* the wrong JSON types are refused before the broker is asked */
    s_http (&r, "POST", API "/streams", s_admin,
            "{\"name\":\"bad3\",\"schema\":\"object\","
            "\"pipeline\":{\"type\":\"worker\"}}");
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "/schema");
    assert_true (
        h_http_has_error (h_http_j (r.json, "errors"), "/pipeline", NULL));
    h_http_free (&r);
    s_create_stream ("{\"name\":\"good\"}", 201);
    s_http (&r, "PATCH", API "/streams/good", s_admin,
            "{\"schema\":{\"minLength\":-1}}");
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "/schema");
    h_http_free (&r);
    /* nothing was created */
    for (int i = 1; i <= 3; i++) {
        char path[100];
        snprintf (path, sizeof path, API "/streams/bad%d", i);
        s_http (&r, "GET", path, s_admin, NULL);
        H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
        h_http_free (&r);
    }
}

static void
test_a_failing_worker_sends_the_event_to_the_dlq_and_replay_processes_it (
    void **state)
{
    (void)state;
    s_create_stream ("{\"name\":\"jobs\",\"pipeline\":[{\"type\":\"worker\","
                     "\"service\":\"payments\",\"max_attempts\":3,"
                     "\"backoff\":{\"base_ms\":10,\"max_ms\":20}}]}",
                     201);
    pid_t bad = s_worker_start ("payments", "exit 100");
    char e1[40], e2[40], e3[40];
    s_publish ("jobs", "{\"n\":1}", e1);
    s_publish ("jobs", "{\"n\":2}", e2);
    s_publish ("jobs", "{\"n\":3}", e3);
    h_resp_t r;
    const char *ids[] = {e1, e2, e3};
    for (int i = 0; i < 3; i++) {
        s_wait_status (&r, ids[i], "FAILED");
        /* not retried: exit 100 is a failure not to retry */
        assert_int_equal (json_integer_value (h_http_j (r.json, "attempts")),
                          1);
        H_EXPECT_STR (r, "last_error", "the command exited with 100");
        assert_true (json_is_null (h_http_j (r.json, "result")));
        h_http_free (&r);
    }
    assert_int_equal (s_workers_of ("payments"), 1);
    /* the service's figures: its worker, what it answered */
    assert_int_equal (s_service_figure ("payments", "workers"), 1);
    assert_int_equal (s_service_figure ("payments", "capacity"), 1);
    assert_int_equal (s_service_figure ("payments", "queued"), 0);
    assert_int_equal (s_service_figure ("payments", "failed"), 3);
    assert_int_equal (s_service_figure ("payments", "done"), 0);

    /* the queue, with its filters */
    EXPECT_DLQ ("stream=jobs", 3, NULL);
    EXPECT_DLQ ("stream=jobs&limit=2", 2, NULL);
    EXPECT_DLQ ("stream=jobs&limit=2&page=2", 1, NULL);
    EXPECT_DLQ ("stream=jobs&error=exited%20with%20100", 3, NULL);
    EXPECT_DLQ ("stream=jobs&error=no%20such%20text", 0, NULL);
    EXPECT_DLQ ("stream=jobs&from=2000-01-01T00:00:00Z&to=4000000000000", 3,
                NULL);
    EXPECT_DLQ ("stream=jobs&from=4000000000000", 0, NULL);
    EXPECT_DLQ ("stream=jobs&to=2000-01-01T00:00:00Z", 0, NULL);
    s_dlq_list (&r, "stream=jobs&limit=1");
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "items.0.stream", "jobs");
    H_EXPECT_STR (r, "items.0.last_error", "the command exited with 100");
    assert_int_equal (
        json_integer_value (h_http_j (r.json, "items.0.attempts")), 1);
    assert_non_null (h_http_jstr (r.json, "items.0.first_failure_at"));
    assert_non_null (h_http_jstr (r.json, "items.0.last_failure_at"));
    assert_true (json_is_true (h_http_j (r.json, "has_more")));
    h_http_free (&r);
    s_dlq_list (&r, "stream=no-such-stream");
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
    s_dlq_list (&r, "from=yesterday&limit=0");
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "?from");
    assert_true (
        h_http_has_error (h_http_j (r.json, "errors"), "?limit", NULL));
    h_http_free (&r);

    /* the processing figures in /metrics */
    s_http (&r, "GET", API "/metrics", NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_non_null (r.body);
    static const char *const lines[] = {
        "eventflow_dlq_size 3\n",
        "eventflow_workers ",
        "eventflow_retries_total ",
        "eventflow_dead_letters_total ",
        "eventflow_processing_seconds_bucket{le=\"+Inf\"} ",
        "eventflow_processing_seconds_count "};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        if (!strstr (r.body, lines[i]))
            fail_msg ("no '%s' in /metrics", lines[i]);
    h_http_free (&r);

    /* one letter with its event */
    char path[200];
    snprintf (path, sizeof path, API "/dlq/%s", e1);
    s_http (&r, "GET", path, s_admin, NULL);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "dead.event_id", e1);
    H_EXPECT_STR (r, "event.event_id", e1);
    H_EXPECT_STR (r, "event.status", "FAILED");
    assert_int_equal (json_integer_value (h_http_j (r.json, "event.payload.n")),
                      1);
    /* and its attempt (one: not retried), by the worker that failed it */
    assert_int_equal (json_array_size (h_http_j (r.json, "history")), 1);
    H_EXPECT_STR (r, "history.0.outcome", "failed");
    H_EXPECT_STR (r, "history.0.error", "the command exited with 100");
    assert_non_null (h_http_jstr (r.json, "history.0.worker"));
    assert_non_null (h_http_jstr (r.json, "history.0.started_at"));
    h_http_free (&r);
    s_http (&r, "GET", API "/dlq/not-a-uuid", s_admin, NULL);
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);

    /* deleted: 204, then gone; the event stays FAILED */
    snprintf (path, sizeof path, API "/dlq/%s", e3);
    s_http (&r, "DELETE", path, s_admin, NULL);
    H_EXPECT_STATUS (r, 204);
    h_http_free (&r);
    s_http (&r, "DELETE", path, s_admin, NULL);
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
    s_http (&r, "GET", path, s_admin, NULL);
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
    s_wait_status (&r, e3, "FAILED");
    h_http_free (&r);
    EXPECT_DLQ ("stream=jobs", 2, NULL);

    /* replayed with a worker that succeeds: PROCESSED with its result */
    s_worker_stop (bad, "payments");
    pid_t good = s_worker_start ("payments", "echo {\\\"ok\\\":true}");
    snprintf (path, sizeof path, API "/dlq/%s/replay", e1);
    s_http (&r, "POST", path, s_admin, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_integer_value (h_http_j (r.json, "replayed")), 1);
    h_http_free (&r);
    s_wait_status (&r, e1, "PROCESSED");
    assert_true (json_is_true (h_http_j (r.json, "result.ok")));
    assert_int_equal (json_integer_value (h_http_j (r.json, "attempts")), 1);
    assert_non_null (h_http_jstr (r.json, "processed_at"));
    h_http_free (&r);
    EXPECT_DLQ ("stream=jobs", 1, e2);

    /* its history: the failed attempt, then the replayed one */
    snprintf (path, sizeof path, API "/events/%s/history", e1);
    s_http (&r, "GET", path, s_consumer, NULL);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "status", "PROCESSED");
    H_EXPECT_STR (r, "history.0.kind", "worker");
    H_EXPECT_STR (r, "history.0.service", "payments");
    H_EXPECT_STR (r, "history.0.outcome", "failed");
    H_EXPECT_STR (r, "history.0.error", "the command exited with 100");
    H_EXPECT_STR (r, "history.1.outcome", "done");
    assert_true (json_is_null (h_http_j (r.json, "history.1.error")));
    assert_null (h_http_j (r.json, "history.2"));
    assert_int_equal (json_integer_value (h_http_j (r.json, "dropped")), 0);
    h_http_free (&r);
    s_http (&r, "GET", API "/events/not-a-uuid/history", s_consumer, NULL);
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);

    /* replay of every match of the filters */
    s_http (&r, "POST", API "/dlq/replay", s_admin, "{\"from\":\"soon\"}");
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "/from");
    h_http_free (&r);
    s_http (&r, "POST", API "/dlq/replay", s_admin,
            "{\"stream\":\"jobs\",\"error\":\"no such text\"}");
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_integer_value (h_http_j (r.json, "replayed")), 0);
    h_http_free (&r);
    s_http (&r, "POST", API "/dlq/replay", s_admin,
            "{\"stream\":\"jobs\",\"error\":\"exited with 100\","
            "\"from\":\"2000-01-01T00:00:00Z\"}");
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_integer_value (h_http_j (r.json, "replayed")), 1);
    h_http_free (&r);
    s_wait_status (&r, e2, "PROCESSED");
    assert_true (json_is_true (h_http_j (r.json, "result.ok")));
    h_http_free (&r);
    EXPECT_DLQ ("stream=jobs", 0, NULL);
    s_worker_stop (good, "payments");
    /* counted since the broker started, workers come and go */
    assert_int_equal (s_service_figure ("payments", "done"), 2);
    assert_int_equal (s_service_figure ("payments", "failed"), 3);
    assert_int_equal (s_service_figure ("payments", "workers"), 0);
}

/*  Publish one event of type with payload {} over HTTP; its id into id. */
static void
s_publish_typed (const char *stream, const char *type, char *id)
{
    h_resp_t r;
    char path[300], body[300];
    snprintf (path, sizeof path, API "/streams/%s/events", stream);
    snprintf (body, sizeof body, "{\"type\":\"%s\",\"payload\":{}}", type);
    s_http (&r, "POST", path, s_producer, body);
    H_EXPECT_STATUS (r, 202);
    snprintf (id, 40, "%s", h_http_jstr (r.json, "event_id"));
    h_http_free (&r);
}

/*  GET /dlq/reasons?query: 200, n reasons; the answer (caller frees). */
static void
s_reasons (h_resp_t *r, const char *query, size_t n)
{
    char path[300];
    snprintf (path, sizeof path, API "/dlq/reasons?%s", query);
    s_http (r, "GET", path, s_admin, NULL);
    H_EXPECT_STATUS (*r, 200);
    assert_true (json_is_false (h_http_j (r->json, "truncated")));
    if (json_array_size (h_http_j (r->json, "items")) != n)
        fail_msg ("%s: wanted %zu reasons", r->body, n);
}

/*  Dead letters triaged: filtered by the event's type, counted by reason
    (most first), replayed and deleted by a list of ids in one request
    (ids with no letter named in not_found), replayed by type. */
static void
test_dead_letters_by_type_by_reason_and_by_a_list_of_ids (void **state)
{
    (void)state;
    s_create_stream ("{\"name\":\"triage\",\"pipeline\":[{\"type\":\"worker\","
                     "\"service\":\"triage\",\"max_attempts\":1}]}",
                     201);
    pid_t bad = s_worker_start (
        "triage", "if grep -q t.alpha; then echo alpha broke >&2; "
                  "else echo beta broke >&2; fi; exit 100");
    char a[3][40], b[2][40];
    for (int i = 0; i < 3; i++)
        s_publish_typed ("triage", "t.alpha", a[i]);
    for (int i = 0; i < 2; i++)
        s_publish_typed ("triage", "t.beta", b[i]);
    h_resp_t r;
    for (int i = 0; i < 3; i++) {
        s_wait_status (&r, a[i], "FAILED");
        h_http_free (&r);
    }
    for (int i = 0; i < 2; i++) {
        s_wait_status (&r, b[i], "FAILED");
        h_http_free (&r);
    }
    s_worker_stop (bad, "triage");

    /* by type, exact */
    EXPECT_DLQ ("stream=triage&type=t.alpha", 3, NULL);
    EXPECT_DLQ ("stream=triage&type=t.beta", 2, NULL);
    EXPECT_DLQ ("type=t.beta", 2, NULL);
    EXPECT_DLQ ("stream=triage&type=t", 0, NULL);

    /* by reason, most first */
    s_reasons (&r, "stream=triage", 2);
    H_EXPECT_STR (r, "items.0.reason", "alpha broke");
    assert_int_equal (json_integer_value (h_http_j (r.json, "items.0.count")),
                      3);
    assert_non_null (h_http_jstr (r.json, "items.0.last_failure_at"));
    H_EXPECT_STR (r, "items.1.reason", "beta broke");
    assert_int_equal (json_integer_value (h_http_j (r.json, "items.1.count")),
                      2);
    h_http_free (&r);
    s_reasons (&r, "stream=triage&type=t.beta", 1);
    H_EXPECT_STR (r, "items.0.reason", "beta broke");
    h_http_free (&r);
    s_reasons (&r, "stream=triage&to=2000-01-01T00:00:00Z", 0);
    h_http_free (&r);
    s_http (&r, "GET", API "/dlq/reasons?stream=no-such-stream", s_admin, NULL);
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
    s_http (&r, "GET", API "/dlq/reasons?from=soon", s_admin, NULL);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "?from");
    h_http_free (&r);

    /* deleted by a list: one request, the ids with no letter named */
    char body[600];
    snprintf (body, sizeof body,
              "{\"event_ids\":[\"%s\",\"not-a-uuid\",\"%s\"]}", b[0], b[0]);
    s_http (&r, "POST", API "/dlq/delete", s_admin, body);
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_integer_value (h_http_j (r.json, "deleted")), 1);
    assert_int_equal (json_array_size (h_http_j (r.json, "not_found")), 2);
    H_EXPECT_STR (r, "not_found.0", "not-a-uuid");
    H_EXPECT_STR (r, "not_found.1", b[0]);
    h_http_free (&r);
    EXPECT_DLQ ("stream=triage&type=t.beta", 1, b[1]);
    static const char *const refused[][2] = {
        {"{}", "/event_ids"},
        {"{\"event_ids\":[]}", "/event_ids"},
        {"{\"event_ids\":\"x\"}", "/event_ids"},
        {"{\"event_ids\":[1]}", "/event_ids/0"}};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        s_http (&r, "POST", API "/dlq/delete", s_admin, refused[i][0]);
        H_EXPECT_PROBLEM (r, 422, "VALIDATION", refused[i][1]);
        h_http_free (&r);
    }
    /* more than 1000 ids */
    size_t cap = 1001 * 8 + 32;
    char *many = malloc (cap);
    assert_non_null (many);
    size_t len = (size_t)snprintf (many, cap, "{\"event_ids\":[");
    for (int i = 0; i < 1001; i++)
        len += (size_t)snprintf (many + len, cap - len, "%s\"x%d\"",
                                 i ? "," : "", i % 10);
    snprintf (many + len, cap - len, "]}");
    s_http (&r, "POST", API "/dlq/delete", s_admin, many);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "/event_ids");
    h_http_free (&r);
    free (many);

    /* replayed by a list, with a worker that succeeds */
    pid_t good = s_worker_start ("triage", "echo {\\\"ok\\\":true}");
    snprintf (body, sizeof body,
              "{\"event_ids\":[\"%s\",\"%s\","
              "\"0190f3a2-7c1e-7b3a-9d2f-4e5a6b7c8d9e\"]}",
              a[0], a[1]);
    s_http (&r, "POST", API "/dlq/replay", s_admin, body);
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_integer_value (h_http_j (r.json, "replayed")), 2);
    H_EXPECT_STR (r, "not_found.0", "0190f3a2-7c1e-7b3a-9d2f-4e5a6b7c8d9e");
    h_http_free (&r);
    for (int i = 0; i < 2; i++) {
        s_wait_status (&r, a[i], "PROCESSED");
        h_http_free (&r);
    }
    snprintf (body, sizeof body,
              "{\"event_ids\":[\"%s\"],\"stream\":\"triage\"}", a[2]);
    s_http (&r, "POST", API "/dlq/replay", s_admin, body);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "/event_ids");
    h_http_free (&r);

    /* replayed by type */
    s_http (&r, "POST", API "/dlq/replay", s_admin,
            "{\"stream\":\"triage\",\"type\":\"t.beta\"}");
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_integer_value (h_http_j (r.json, "replayed")), 1);
    h_http_free (&r);
    s_wait_status (&r, b[1], "PROCESSED");
    h_http_free (&r);
    s_reasons (&r, "stream=triage", 1);
    H_EXPECT_STR (r, "items.0.reason", "alpha broke");
    assert_int_equal (json_integer_value (h_http_j (r.json, "items.0.count")),
                      1);
    h_http_free (&r);
    s_worker_stop (good, "triage");
}

static void
test_the_dlq_and_the_workers_are_for_admins (void **state)
{
    (void)state;
    const char *creds[] = {s_producer, s_consumer};
    static const char *id = "0190f3a2-7c1e-7b3a-9d2f-4e5a6b7c8d9e";
    char one[100], replay[120];
    snprintf (one, sizeof one, API "/dlq/%s", id);
    snprintf (replay, sizeof replay, API "/dlq/%s/replay", id);
    h_resp_t r;
    for (int i = 0; i < 2; i++) {
        s_http (&r, "GET", API "/dlq", creds[i], NULL);
        H_EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
        h_http_free (&r);
        s_http (&r, "GET", one, creds[i], NULL);
        H_EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
        h_http_free (&r);
        s_http (&r, "POST", replay, creds[i], NULL);
        H_EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
        h_http_free (&r);
        s_http (&r, "POST", API "/dlq/replay", creds[i], "{}");
        H_EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
        h_http_free (&r);
        s_http (&r, "DELETE", one, creds[i], NULL);
        H_EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
        h_http_free (&r);
        s_http (&r, "GET", API "/workers", creds[i], NULL);
        H_EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
        h_http_free (&r);
        s_http (&r, "GET", API "/dlq/reasons", creds[i], NULL);
        H_EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
        h_http_free (&r);
        s_http (&r, "POST", API "/dlq/delete", creds[i],
                "{\"event_ids\":[\"x\"]}");
        H_EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
        h_http_free (&r);
    }
    s_http (&r, "GET", API "/dlq", NULL, NULL);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
    /* the admin: an unknown letter is 404 */
    s_http (&r, "GET", one, s_admin, NULL);
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
    s_http (&r, "POST", replay, s_admin, NULL);
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
}

/* ---------------------------------------------------------------- tracing */

#define E2E_RID   "e2e-req-7f3a"
#define E2E_TRACE "4bf92f3577b34da6a3ce929d0e0e4736"

/*  The whole of a file, NUL-terminated (caller frees), or NULL. */
static char *
s_slurp (const char *path)
{
    FILE *fp = fopen (path, "r");
    if (!fp)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[4096];
    while ((n = fread (chunk, 1, sizeof chunk, fp)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            buf = realloc (buf, cap);
        }
        memcpy (buf + len, chunk, n);
        len += n;
    }
    fclose (fp);
    if (buf)
        buf[len] = 0;
    return buf;
}

/*  The string at key of the map at r, into out ("" when missing). */
static void
s_map_str (ef_mpr_t r, const char *key, char *out, size_t size)
{
    uint32_t n;
    ef_str_t k, v;
    out[0] = 0;
    if (ef_mpr_map (&r, &n))
        return;
    for (uint32_t i = 0; i < n; i++) {
        if (ef_mpr_str (&r, &k))
            return;
        if (ef_str_eq (k, key) && ef_mpr_str (&r, &v) == 0) {
            snprintf (out, size, "%.*s", (int)v.len, v.ptr);
            return;
        }
        if (ef_mpr_skip (&r, EF_MSGPACK_DEPTH))
            return;
    }
}

/*  The value at key of the map at r, or a reader at nothing. */
static ef_mpr_t
s_map_at (ef_mpr_t r, const char *key)
{
    uint32_t n;
    ef_str_t k;
    ef_mpr_t none = {0};
    if (ef_mpr_map (&r, &n))
        return none;
    for (uint32_t i = 0; i < n; i++) {
        if (ef_mpr_str (&r, &k))
            return none;
        if (ef_str_eq (k, key))
            return r;
        if (ef_mpr_skip (&r, EF_MSGPACK_DEPTH))
            return none;
    }
    return none;
}

static void
test_one_request_id_goes_from_the_bridge_through_the_broker_to_a_worker (
    void **state)
{
    (void)state;
    char dir[256], producer[200], buf[65536], got[128];
    h_broker_t b;
    h_bridge_t g;
    const char *debug[] = {"--log-level", "debug", NULL};
    assert_int_equal (h_tempdir (dir), 0);
    assert_int_equal (h_broker_start (&b, dir, debug), 0);
    ef_client_t *c = h_client (&b);
    assert_non_null (c);
    assert_int_equal (h_http_api_key (c, "producer", producer), 0);
    ef_request_t cs = {0};
    cs.cmd = EF_CMD_CREATE_STREAM;
    cs.name = ef_str ("traced");
    cs.pipeline = ef_str ("[{\"type\":\"worker\",\"service\":\"tracer\"}]");
    assert_int_equal (ef_client_call (c, &cs, NULL), 0);
    assert_int_equal (h_bridge_start (&g, &b, debug), 0);

    /* a worker, speaking the protocol itself */
    void *ctx = zmq_ctx_new ();
    void *w = zmq_socket (ctx, ZMQ_DEALER);
    int timeout = WAIT_MS, zero = 0;
    zmq_setsockopt (w, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt (w, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal (h_curve_socket (&b, w), 0);
    assert_int_equal (zmq_connect (w, b.endpoint), 0);
    ef_buf_t out;
    ef_buf_init (&out);
    ef_request_t ready = {0};
    ready.cmd = EF_CMD_READY;
    ready.id = 1;
    ready.service = ef_str ("tracer");
    assert_int_equal (ef_proto_encode_request (&out, &ready), 0);
    zmq_send (w, out.data, out.len, 0);
    ef_reply_t rep;
    int n = zmq_recv (w, buf, sizeof buf, 0);
    assert_true (n > 0);
    assert_int_equal (ef_proto_decode_reply (buf, (size_t)n, &rep), 0);
    assert_true (rep.ok);

    const char *headers[] = {
        "X-Request-Id: " E2E_RID,
        "traceparent: 00-" E2E_TRACE "-00f067aa0ba902b7-01", NULL};
    h_resp_t r;
    h_http (&r, g.url, "POST", API "/streams/traced/events", producer,
            "{\"type\":\"traced\",\"payload\":{\"n\":1}}", headers);
    H_EXPECT_STATUS (r, 202);
    char id[40];
    snprintf (id, sizeof id, "%s", h_http_jstr (r.json, "event_id"));
    h_http_free (&r);

    /* the job carries the request's id and a trace whose parent is the
       event; the event's context names the request */
    ef_mpr_t job = {0};
    for (;;) {
        n = zmq_recv (w, buf, sizeof buf, 0);
        assert_true (n > 0);
        assert_int_equal (ef_proto_decode_reply (buf, (size_t)n, &rep), 0);
        if (ef_proto_reply_find (&rep, "job", &job) == 0)
            break;
    }
    s_map_str (job, "request_id", got, sizeof got);
    assert_string_equal (got, E2E_RID);
    s_map_str (job, "traceparent", got, sizeof got);
    assert_int_equal (strncmp (got, "00-" E2E_TRACE "-", 36), 0);
    assert_int_equal (strlen (got), 55);
    ef_mpr_t ctxm = s_map_at (s_map_at (job, "event"), "context");
    assert_non_null (ctxm.p);
    s_map_str (ctxm, "request_id", got, sizeof got);
    assert_string_equal (got, E2E_RID);
    s_map_str (ctxm, "trace_id", got, sizeof got);
    assert_string_equal (got, E2E_TRACE);
    char job_id[64];
    s_map_str (job, "job_id", job_id, sizeof job_id);
    ef_buf_reset (&out);
    ef_request_t done = {0};
    done.cmd = EF_CMD_DONE;
    done.id = 2;
    done.job_id = ef_str (job_id);
    assert_int_equal (ef_proto_encode_request (&out, &done), 0);
    zmq_send (w, out.data, out.len, 0);
    ef_buf_free (&out);

    /* over HTTP too */
    char path[200];
    snprintf (path, sizeof path, API "/events/%s", id);
    h_http (&r, g.url, "GET", path, producer, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "context.request_id", E2E_RID);
    h_http_free (&r);

    /* and in both logs */
    char *blog = s_slurp (b.log_path), *glog = s_slurp (g.log_path);
    assert_non_null (blog);
    assert_non_null (glog);
    assert_non_null (strstr (blog, "\"request_id\":\"" E2E_RID "\""));
    assert_non_null (strstr (glog, E2E_RID));
    free (blog);
    free (glog);

    zmq_close (w);
    zmq_ctx_term (ctx);
    ef_client_destroy (&c);
    assert_int_equal (h_bridge_stop (&g), 0);
    h_broker_stop (&b);
    h_rmrf (dir);
}

/*  Text that is not Unicode and numbers out of range are 422 naming
    where they are, never stored or capped. */
static void
test_text_not_unicode_and_numbers_out_of_range_are_422_naming_them (
    void **state)
{
    (void)state;
    static const struct {
        const char *body, *path;
    } bad[] = {
        {"{\"type\":\"\\ud800\",\"payload\":{}}", "/type"},
        {"{\"type\":\"t\",\"payload\":{\"a\":\"\\udc00x\"}}", "/payload/a"},
        {"[{\"type\":\"t\",\"payload\":1},{\"type\":\"t\",\"source\":"
         "\"\xed\xa0\x80\",\"payload\":1}]",
         "/1/source"},
        {"{\"type\":\"t\",\"payload\":1,\"context\":{\"trace_id\":\"\xc0\xaf\"}"
         "}",
         "/context/trace_id"},
    };
    s_create_stream ("{\"name\":\"unicode\"}", 201);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h_resp_t r;
        s_http (&r, "POST", API "/streams/unicode/events", s_producer,
                bad[i].body);
        H_EXPECT_PROBLEM (r, 422, "VALIDATION", bad[i].path);
        h_http_free (&r);
    }
    assert_int_equal (s_stored ("unicode"), 0);
    static const struct {
        const char *path, *field;
    } range[] = {
        {API "/events?limit=101", "?limit"},
        {API "/events?limit=0", "?limit"},
        {API "/events?page=1000001", "?page"},
        {API "/events?status=DONE", "?status"},
        {API "/dlq?limit=101", "?limit"},
        {API "/events?type=caf%C0%AF", "?type"},
        {API "/dlq?error=%ED%A0%80", "?error"},
    };
    for (size_t i = 0; i < sizeof range / sizeof range[0]; i++) {
        h_resp_t r;
        s_http (&r, "GET", range[i].path, s_admin, NULL);
        H_EXPECT_PROBLEM (r, 422, "VALIDATION", range[i].field);
        h_http_free (&r);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (
            test_a_stream_is_created_and_changed_with_a_schema_and_a_pipeline),
        cmocka_unit_test (
            test_a_payload_the_schema_refuses_is_422_with_each_path_and_not_stored),
        cmocka_unit_test (
            test_a_schema_error_at_a_path_with_a_semicolon_is_one_error),
        cmocka_unit_test (
            test_a_schema_or_pipeline_the_broker_refuses_is_422_naming_it),
        cmocka_unit_test (test_route_cycles_and_long_patches_are_422),
        cmocka_unit_test (
            test_a_failing_worker_sends_the_event_to_the_dlq_and_replay_processes_it),
        cmocka_unit_test (
            test_dead_letters_by_type_by_reason_and_by_a_list_of_ids),
        cmocka_unit_test (test_the_dlq_and_the_workers_are_for_admins),
        cmocka_unit_test (
            test_one_request_id_goes_from_the_bridge_through_the_broker_to_a_worker),
        cmocka_unit_test (
            test_text_not_unicode_and_numbers_out_of_range_are_422_naming_them),
    };
    return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
