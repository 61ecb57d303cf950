/*  Stream processing over HTTP (DESIGN.md §5, §6) against a real broker,
    a real bridge and real `eventflow worker` processes: a stream created
    with a JSON Schema and a pipeline; a payload the schema refuses is 422
    with each failing path (single and in a batch) and nothing of it is
    stored; a schema or pipeline the broker cannot compile is 422 naming
    the member; a worker that fails without retry leaves the event FAILED
    with its attempts and error, in the dead-letter queue (list with its
    filters, one letter), while GET /workers lists it; replayed with a
    worker that succeeds, the event ends PROCESSED with the worker's JSON
    result; a deleted letter is gone (204, then 404); and the DLQ and the
    workers are for admins only. */
#define _GNU_SOURCE
#include "harness.h"
#include "eventflow/ef_proto.h"
#include "eventflow/ef_time.h"

#include <curl/curl.h>
#include <jansson.h>

#include <ctype.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define API     "/api/v1"
#define WAIT_MS 20000 /* a deadline for what must happen, not a timing */

/* ---------------------------------------------------------------- HTTP */

typedef struct {
    char what[300]; /* "METHOD path", for messages */
    long status;    /* 0 when no answer came */
    char *body;     /* NUL-terminated (NULL when empty) */
    size_t len;
    char ctype[128];
    json_t *json; /* the body parsed, or NULL */
} s_resp_t;

static size_t
s_on_body (char *p, size_t size, size_t n, void *arg)
{
    s_resp_t *r = arg;
    size_t add = size * n;
    char *nb = realloc (r->body, r->len + add + 1);
    if (!nb)
        return 0;
    memcpy (nb + r->len, p, add);
    r->len += add;
    nb[r->len] = 0;
    r->body = nb;
    return add;
}

static size_t
s_on_header (char *p, size_t size, size_t n, void *arg)
{
    s_resp_t *r = arg;
    size_t len = size * n;
    if (len > 13 && !strncasecmp (p, "Content-Type:", 13)) {
        const char *v = p + 13, *end = p + len;
        while (v < end && *v == ' ')
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n'))
            end--;
        snprintf (r->ctype, sizeof r->ctype, "%.*s", (int)(end - v), v);
    }
    return len;
}

static char s_base[256]; /* the bridge's URL */

/*  One request to the bridge with the header line cred (may be NULL) and
    a JSON body (may be NULL). */
static void
s_http (s_resp_t *r, const char *method, const char *path, const char *cred,
        const char *body)
{
    memset (r, 0, sizeof *r);
    snprintf (r->what, sizeof r->what, "%s %.280s", method, path);
    CURL *c = curl_easy_init ();
    assert_non_null (c);
    char url[1024];
    snprintf (url, sizeof url, "%s%s", s_base, path);
    struct curl_slist *h = NULL;
    if (cred)
        h = curl_slist_append (h, cred);
    if (body)
        h = curl_slist_append (h, "Content-Type: application/json");
    h = curl_slist_append (h, "Expect:");
    curl_easy_setopt (c, CURLOPT_URL, url);
    curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE, (long)strlen (body));
    }
    curl_easy_setopt (c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt (c, CURLOPT_HEADERDATA, r);
    CURLcode rc = curl_easy_perform (c);
    if (rc == CURLE_OK)
        curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &r->status);
    else
        fprintf (stderr, "  %s: %s\n", r->what, curl_easy_strerror (rc));
    curl_slist_free_all (h);
    curl_easy_cleanup (c);
    if (r->body)
        r->json = json_loads (r->body, JSON_DECODE_ANY, NULL);
}

static void
s_free (s_resp_t *r)
{
    free (r->body);
    if (r->json)
        json_decref (r->json);
    memset (r, 0, sizeof *r);
}

/*  The value at a dotted path ("items.0.event_id"), or NULL. */
static json_t *
s_j (json_t *j, const char *path)
{
    char key[128];
    while (j && *path) {
        size_t n = strcspn (path, ".");
        snprintf (key, sizeof key, "%.*s", (int)n, path);
        if (json_is_array (j) && isdigit ((unsigned char)key[0]))
            j = json_array_get (j, (size_t)atoi (key));
        else
            j = json_object_get (j, key);
        path += n + (path[n] == '.');
    }
    return j;
}

static const char *
s_jstr (json_t *j, const char *path)
{
    return json_string_value (s_j (j, path));
}

static void
s_expect_status (const s_resp_t *r, long want, const char *file, int line)
{
    if (r->status != want)
        fprintf (stderr, "  %s: expected %ld, got %ld: %.600s\n", r->what, want,
                 r->status, r->body ? r->body : "");
    _assert_int_equal ((LargestIntegralType)r->status,
                       (LargestIntegralType)want, file, line);
}
#define EXPECT_STATUS(r, want)                                                 \
    s_expect_status (&(r), (want), __FILE__, __LINE__)

static void
s_expect_str (const s_resp_t *r, const char *path, const char *want,
              const char *file, int line)
{
    const char *got = json_string_value (s_j (r->json, path));
    if (!got || strcmp (got, want))
        fprintf (stderr, "  %s: '%s' is '%s', expected '%s' in %.600s\n",
                 r->what, path, got ? got : "(not a string)", want,
                 r->body ? r->body : "");
    _assert_string_equal (got ? got : "(not a string)", want, file, line);
}
#define EXPECT_STR(r, path, want)                                              \
    s_expect_str (&(r), path, want, __FILE__, __LINE__)

/*  The errors array has an entry at path whose message contains text
    (text may be NULL). */
static int
s_has_error (json_t *errors, const char *path, const char *text)
{
    size_t i;
    json_t *e;
    json_array_foreach (errors, i, e)
    {
        const char *p = json_string_value (json_object_get (e, "path"));
        const char *m = json_string_value (json_object_get (e, "message"));
        if (p && !strcmp (p, path) && m && (!text || strstr (m, text)))
            return 1;
    }
    return 0;
}

/*  An RFC 9457 problem with this status and code; for 422, errors[] also
    names path (when path is not NULL). */
static void
s_expect_problem (const s_resp_t *r, long status, const char *code,
                  const char *path, const char *file, int line)
{
    s_expect_status (r, status, file, line);
    _assert_true (strstr (r->ctype, "application/problem+json") != NULL,
                  "problem content type", file, line);
    s_expect_str (r, "code", code, file, line);
    if (!path)
        return;
    int found = s_has_error (s_j (r->json, "errors"), path, NULL);
    if (!found)
        fprintf (stderr, "  %s: errors[] does not name '%s': %.600s\n", r->what,
                 path, r->body ? r->body : "");
    _assert_true (found, path, file, line);
}
#define EXPECT_PROBLEM(r, status, code, path)                                  \
    s_expect_problem (&(r), status, code, path, __FILE__, __LINE__)

/* ---------------------------------------------------------------- fixture */

static char s_dir[256];
static h_broker_t s_broker;
static h_bridge_t s_bridge;
static ef_client_t *s_native;
/* header lines "X-API-Key: efk_…" */
static char s_admin[200], s_producer[200], s_consumer[200];

/*  A native API key of role as an X-API-Key header line (200 bytes). */
static int
s_native_key (const char *role, char *out)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    ef_mpr_t r;
    ef_str_t key = EF_STR_NULL;
    req.cmd = EF_CMD_APIKEY_CREATE;
    req.name = ef_str (role);
    req.role = ef_str (role);
    if (ef_client_call (s_native, &req, &rep) ||
        ef_proto_reply_find (rep, "api_key", &r) || ef_mpr_str (&r, &key) ||
        !key.len)
        return -1;
    snprintf (out, 200, "X-API-Key: %.*s", (int)key.len, key.ptr);
    return 0;
}

static int
group_setup (void **state)
{
    (void)state;
    signal (SIGPIPE, SIG_IGN);
    curl_global_init (CURL_GLOBAL_DEFAULT);
    if (h_tempdir (s_dir) || h_broker_start (&s_broker, s_dir, NULL))
        return -1;
    s_native = h_client (&s_broker);
    if (!s_native || s_native_key ("admin", s_admin) ||
        s_native_key ("producer", s_producer) ||
        s_native_key ("consumer", s_consumer))
        return -1;
    if (h_bridge_start (&s_bridge, &s_broker, NULL))
        return -1;
    snprintf (s_base, sizeof s_base, "%s", s_bridge.url);
    return 0;
}

static int
group_teardown (void **state)
{
    (void)state;
    int a = h_bridge_stop (&s_bridge);
    if (a != 0)
        fprintf (stderr, "bridge exit code: %d (log in %s)\n", a,
                 s_bridge.log_path);
    ef_client_destroy (&s_native);
    h_broker_stop (&s_broker);
    h_rmrf (s_dir);
    curl_global_cleanup ();
    return a == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- helpers */

/*  POST /streams with body as admin; expects want. */
static void
s_create_stream (const char *body, long want)
{
    s_resp_t r;
    s_http (&r, "POST", API "/streams", s_admin, body);
    EXPECT_STATUS (r, want);
    s_free (&r);
}

/*  The number of events stored in stream (GET /streams/{id}). */
static long long
s_stored (const char *stream)
{
    s_resp_t r;
    char path[300];
    snprintf (path, sizeof path, API "/streams/%s", stream);
    s_http (&r, "GET", path, s_admin, NULL);
    EXPECT_STATUS (r, 200);
    long long n = json_integer_value (s_j (r.json, "events"));
    s_free (&r);
    return n;
}

/*  Publish one payload over HTTP; its event_id into id (40 bytes). */
static void
s_publish (const char *stream, const char *payload, char *id)
{
    s_resp_t r;
    char path[300], body[600];
    snprintf (path, sizeof path, API "/streams/%s/events", stream);
    snprintf (body, sizeof body, "{\"type\":\"proc.http\",\"payload\":%s}",
              payload);
    s_http (&r, "POST", path, s_producer, body);
    EXPECT_STATUS (r, 202);
    snprintf (id, 40, "%s", s_jstr (r.json, "event_id"));
    s_free (&r);
}

/*  GET /events/{id} until its status is want; the answer (caller frees). */
static void
s_wait_status (s_resp_t *r, const char *id, const char *want)
{
    char path[200];
    snprintf (path, sizeof path, API "/events/%s", id);
    int64_t until = ef_time_mono_ms () + WAIT_MS;
    for (;;) {
        s_http (r, "GET", path, s_consumer, NULL);
        EXPECT_STATUS (*r, 200);
        const char *st = s_jstr (r->json, "status");
        if (st && !strcmp (st, want))
            return;
        if (ef_time_mono_ms () > until)
            fail_msg ("event %s: %s, wanted %s", id, r->body, want);
        s_free (r);
        usleep (20 * 1000);
    }
}

/*  The number of attached workers of service (GET /workers). */
static int
s_workers_of (const char *service)
{
    s_resp_t r;
    s_http (&r, "GET", API "/workers", s_admin, NULL);
    EXPECT_STATUS (r, 200);
    assert_true (json_is_array (s_j (r.json, "workers")));
    assert_true (json_is_integer (s_j (r.json, "queued")));
    size_t i;
    json_t *w;
    int n = 0;
    json_array_foreach (s_j (r.json, "workers"), i, w)
    {
        const char *s = json_string_value (json_object_get (w, "service"));
        if (s && !strcmp (s, service)) {
            assert_true (json_is_integer (json_object_get (w, "capacity")));
            assert_true (json_is_integer (json_object_get (w, "in_flight")));
            n++;
        }
    }
    s_free (&r);
    return n;
}

/*  Wait until GET /workers lists `want` workers of service. */
static void
s_wait_workers (const char *service, int want)
{
    int64_t until = ef_time_mono_ms () + WAIT_MS;
    int n;
    while ((n = s_workers_of (service)) != want) {
        if (ef_time_mono_ms () > until)
            fail_msg ("%d workers of %s, wanted %d", n, service, want);
        usleep (20 * 1000);
    }
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
s_dlq_list (s_resp_t *r, const char *query)
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
    s_resp_t r;
    s_dlq_list (&r, query);
    s_expect_status (&r, 200, file, line);
    json_t *items = s_j (r.json, "items");
    if (json_array_size (items) != n)
        fprintf (stderr, "  %s: %zu items, expected %zu: %.600s\n", r.what,
                 json_array_size (items), n, r.body);
    _assert_int_equal (json_array_size (items), n, file, line);
    _assert_true (json_is_boolean (s_j (r.json, "has_more")), "has_more", file,
                  line);
    if (n && id)
        s_expect_str (&r, "items.0.event_id", id, file, line);
    s_free (&r);
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
    s_resp_t r;
    /* white space and number spelling travel as sent, compacted */
    s_http (&r, "POST", API "/streams", s_admin,
            "{\"name\":\"orders\",\n \"schema\": " ORDER_SCHEMA ",\n"
            " \"pipeline\": [ {\"type\": \"transform\", \"patch\": "
            "[{\"op\":\"add\",\"path\":\"/seen\",\"value\":0.1}]} ]}");
    EXPECT_STATUS (r, 201);
    EXPECT_STR (r, "name", "orders");
    s_free (&r);
    /* GET shows them as JSON values, as sent */
    s_http (&r, "GET", API "/streams/orders", s_consumer, NULL);
    EXPECT_STATUS (r, 200);
    EXPECT_STR (r, "schema.properties.amount.type", "number");
    EXPECT_STR (r, "pipeline.0.type", "transform");
    assert_true (json_is_real (s_j (r.json, "pipeline.0.patch.0.value")));
    s_free (&r);

    /* the pipeline runs: a valid event ends PROCESSED */
    char id[40];
    s_publish ("orders", "{\"amount\":5,\"sku\":\"A-1\"}", id);
    s_wait_status (&r, id, "PROCESSED");
    s_free (&r);

    /* PATCH replaces the pipeline, keeps the schema, null removes */
    s_http (&r, "PATCH", API "/streams/orders", s_admin,
            "{\"pipeline\":[{\"type\":\"filter\",\"schema\":"
            "{\"properties\":{\"amount\":{\"minimum\":10}}}}]}");
    EXPECT_STATUS (r, 200);
    EXPECT_STR (r, "name", "orders");
    s_free (&r);
    s_publish ("orders", "{\"amount\":5,\"sku\":\"A-2\"}", id);
    s_wait_status (&r, id, "FILTERED");
    s_free (&r);
    s_http (&r, "PATCH", API "/streams/orders", s_admin, "{\"pipeline\":null}");
    EXPECT_STATUS (r, 200);
    assert_true (json_is_null (s_j (r.json, "pipeline")));
    EXPECT_STR (r, "schema.type", "object");
    s_free (&r);
    s_publish ("orders", "{\"amount\":5,\"sku\":\"A-3\"}", id);
    s_wait_status (&r, id, "PROCESSED");
    s_free (&r);

    /* a boolean schema is a schema too */
    s_create_stream ("{\"name\":\"anything\",\"schema\":true}", 201);
}

static void
test_a_payload_the_schema_refuses_is_422_with_each_path_and_not_stored (
    void **state)
{
    (void)state;
    s_create_stream ("{\"name\":\"strict\",\"schema\":" ORDER_SCHEMA "}", 201);
    s_resp_t r;
    s_http (&r, "POST", API "/streams/strict/events", s_producer,
            "{\"type\":\"order\",\"payload\":{\"amount\":\"x\"}}");
    EXPECT_PROBLEM (r, 422, "VALIDATION", "/payload/amount");
    assert_true (s_has_error (s_j (r.json, "errors"), "/payload/sku", NULL));
    assert_int_equal (json_array_size (s_j (r.json, "errors")), 2);
    s_free (&r);
    /* the payload itself: its path is /payload */
    s_http (&r, "POST", API "/streams/strict/events", s_producer,
            "{\"type\":\"order\",\"payload\":[1]}");
    EXPECT_PROBLEM (r, 422, "VALIDATION", "/payload");
    s_free (&r);
    assert_int_equal (s_stored ("strict"), 0);

    /* a batch: the valid item is stored, the refused one lists its paths */
    s_http (&r, "POST", API "/streams/strict/events", s_producer,
            "[{\"type\":\"order\",\"payload\":{\"amount\":1,\"sku\":\"B\"}},"
            " {\"type\":\"order\",\"payload\":{\"amount\":-1,\"sku\":\"C\"}}]");
    EXPECT_STATUS (r, 202);
    EXPECT_STR (r, "results.0.status", "ACCEPTED");
    EXPECT_STR (r, "results.1.error.code", "VALIDATION");
    assert_int_equal (json_integer_value (s_j (r.json, "results.1.index")), 1);
    assert_true (s_has_error (s_j (r.json, "results.1.errors"),
                              "/1/payload/amount", NULL));
    assert_null (s_j (r.json, "results.0.errors"));
    s_free (&r);
    assert_int_equal (s_stored ("strict"), 1);
}

static void
test_a_schema_or_pipeline_the_broker_refuses_is_422_naming_it (void **state)
{
    (void)state;
    s_resp_t r;
    s_http (&r, "POST", API "/streams", s_admin,
            "{\"name\":\"bad1\",\"schema\":{\"type\":\"int\"}}");
    EXPECT_PROBLEM (r, 422, "VALIDATION", "/schema");
    s_free (&r);
    s_http (&r, "POST", API "/streams", s_admin,
            "{\"name\":\"bad2\",\"pipeline\":[{\"type\":\"teleport\"}]}");
    EXPECT_PROBLEM (r, 422, "VALIDATION", "/pipeline");
    s_free (&r);
    /* the wrong JSON types are refused before the broker is asked */
    s_http (&r, "POST", API "/streams", s_admin,
            "{\"name\":\"bad3\",\"schema\":\"object\","
            "\"pipeline\":{\"type\":\"worker\"}}");
    EXPECT_PROBLEM (r, 422, "VALIDATION", "/schema");
    assert_true (s_has_error (s_j (r.json, "errors"), "/pipeline", NULL));
    s_free (&r);
    s_create_stream ("{\"name\":\"good\"}", 201);
    s_http (&r, "PATCH", API "/streams/good", s_admin,
            "{\"schema\":{\"minLength\":-1}}");
    EXPECT_PROBLEM (r, 422, "VALIDATION", "/schema");
    s_free (&r);
    /* nothing was created */
    for (int i = 1; i <= 3; i++) {
        char path[100];
        snprintf (path, sizeof path, API "/streams/bad%d", i);
        s_http (&r, "GET", path, s_admin, NULL);
        EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
        s_free (&r);
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
    s_resp_t r;
    const char *ids[] = {e1, e2, e3};
    for (int i = 0; i < 3; i++) {
        s_wait_status (&r, ids[i], "FAILED");
        /* not retried: exit 100 is a failure not to retry */
        assert_int_equal (json_integer_value (s_j (r.json, "attempts")), 1);
        EXPECT_STR (r, "last_error", "the command exited with 100");
        assert_true (json_is_null (s_j (r.json, "result")));
        s_free (&r);
    }
    assert_int_equal (s_workers_of ("payments"), 1);

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
    EXPECT_STATUS (r, 200);
    EXPECT_STR (r, "items.0.stream", "jobs");
    EXPECT_STR (r, "items.0.last_error", "the command exited with 100");
    assert_int_equal (json_integer_value (s_j (r.json, "items.0.attempts")), 1);
    assert_non_null (s_jstr (r.json, "items.0.first_failure_at"));
    assert_non_null (s_jstr (r.json, "items.0.last_failure_at"));
    assert_true (json_is_true (s_j (r.json, "has_more")));
    s_free (&r);
    s_dlq_list (&r, "stream=no-such-stream");
    EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    s_free (&r);
    s_dlq_list (&r, "from=yesterday&limit=0");
    EXPECT_PROBLEM (r, 422, "VALIDATION", "?from");
    assert_true (s_has_error (s_j (r.json, "errors"), "?limit", NULL));
    s_free (&r);

    /* the processing figures in /metrics */
    s_http (&r, "GET", API "/metrics", NULL, NULL);
    EXPECT_STATUS (r, 200);
    assert_non_null (r.body);
    static const char *const lines[] = {
        "eventflow_dlq_size 3\n", "eventflow_workers ",
        "eventflow_retries_total ", "eventflow_dead_letters_total ",
        "eventflow_processing_seconds_bucket{le=\"+Inf\"} ",
        "eventflow_processing_seconds_count "};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        if (!strstr (r.body, lines[i]))
            fail_msg ("no '%s' in /metrics", lines[i]);
    s_free (&r);

    /* one letter with its event */
    char path[200];
    snprintf (path, sizeof path, API "/dlq/%s", e1);
    s_http (&r, "GET", path, s_admin, NULL);
    EXPECT_STATUS (r, 200);
    EXPECT_STR (r, "dead.event_id", e1);
    EXPECT_STR (r, "event.event_id", e1);
    EXPECT_STR (r, "event.status", "FAILED");
    assert_int_equal (json_integer_value (s_j (r.json, "event.payload.n")), 1);
    s_free (&r);
    s_http (&r, "GET", API "/dlq/not-a-uuid", s_admin, NULL);
    EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    s_free (&r);

    /* deleted: 204, then gone; the event stays FAILED */
    snprintf (path, sizeof path, API "/dlq/%s", e3);
    s_http (&r, "DELETE", path, s_admin, NULL);
    EXPECT_STATUS (r, 204);
    s_free (&r);
    s_http (&r, "DELETE", path, s_admin, NULL);
    EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    s_free (&r);
    s_http (&r, "GET", path, s_admin, NULL);
    EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    s_free (&r);
    s_wait_status (&r, e3, "FAILED");
    s_free (&r);
    EXPECT_DLQ ("stream=jobs", 2, NULL);

    /* replayed with a worker that succeeds: PROCESSED with its result */
    s_worker_stop (bad, "payments");
    pid_t good = s_worker_start ("payments", "echo {\\\"ok\\\":true}");
    snprintf (path, sizeof path, API "/dlq/%s/replay", e1);
    s_http (&r, "POST", path, s_admin, NULL);
    EXPECT_STATUS (r, 200);
    assert_int_equal (json_integer_value (s_j (r.json, "replayed")), 1);
    s_free (&r);
    s_wait_status (&r, e1, "PROCESSED");
    assert_true (json_is_true (s_j (r.json, "result.ok")));
    assert_int_equal (json_integer_value (s_j (r.json, "attempts")), 1);
    assert_non_null (s_jstr (r.json, "processed_at"));
    s_free (&r);
    EXPECT_DLQ ("stream=jobs", 1, e2);

    /* replay of every match of the filters */
    s_http (&r, "POST", API "/dlq/replay", s_admin, "{\"from\":\"soon\"}");
    EXPECT_PROBLEM (r, 422, "VALIDATION", "/from");
    s_free (&r);
    s_http (&r, "POST", API "/dlq/replay", s_admin,
            "{\"stream\":\"jobs\",\"error\":\"no such text\"}");
    EXPECT_STATUS (r, 200);
    assert_int_equal (json_integer_value (s_j (r.json, "replayed")), 0);
    s_free (&r);
    s_http (&r, "POST", API "/dlq/replay", s_admin,
            "{\"stream\":\"jobs\",\"error\":\"exited with 100\","
            "\"from\":\"2000-01-01T00:00:00Z\"}");
    EXPECT_STATUS (r, 200);
    assert_int_equal (json_integer_value (s_j (r.json, "replayed")), 1);
    s_free (&r);
    s_wait_status (&r, e2, "PROCESSED");
    assert_true (json_is_true (s_j (r.json, "result.ok")));
    s_free (&r);
    EXPECT_DLQ ("stream=jobs", 0, NULL);
    s_worker_stop (good, "payments");
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
    s_resp_t r;
    for (int i = 0; i < 2; i++) {
        s_http (&r, "GET", API "/dlq", creds[i], NULL);
        EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
        s_free (&r);
        s_http (&r, "GET", one, creds[i], NULL);
        EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
        s_free (&r);
        s_http (&r, "POST", replay, creds[i], NULL);
        EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
        s_free (&r);
        s_http (&r, "POST", API "/dlq/replay", creds[i], "{}");
        EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
        s_free (&r);
        s_http (&r, "DELETE", one, creds[i], NULL);
        EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
        s_free (&r);
        s_http (&r, "GET", API "/workers", creds[i], NULL);
        EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
        s_free (&r);
    }
    s_http (&r, "GET", API "/dlq", NULL, NULL);
    EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    s_free (&r);
    /* the admin: an unknown letter is 404 */
    s_http (&r, "GET", one, s_admin, NULL);
    EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    s_free (&r);
    s_http (&r, "POST", replay, s_admin, NULL);
    EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    s_free (&r);
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
            test_a_schema_or_pipeline_the_broker_refuses_is_422_naming_it),
        cmocka_unit_test (
            test_a_failing_worker_sends_the_event_to_the_dlq_and_replay_processes_it),
        cmocka_unit_test (test_the_dlq_and_the_workers_are_for_admins),
    };
    return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
