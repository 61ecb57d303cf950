/*  Observability end to end, against a real broker and real bridges:
    /metrics as a Prometheus server reads it (promtool, and well-formed
    histograms), who may see which figures (/metrics and STATS keep each
    org's names and figures to that org and the operator), the logs under
    hostile input (every line one JSON record with no forged member), and
    the request and authentication-failure log lines. */
#define _GNU_SOURCE
#include "harness.h"
#include "h_fixture.h"
#include "h_http.h"
#include "eventflow/ef_proto.h"

#include <curl/curl.h>
#include <jansson.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#define API   "/api/v1"
#define TOKEN "operator-s3cret"

/* ---------------------------------------------------------------- fixture */

static char s_dir[256];
static h_broker_t s_broker;
static h_bridge_t s_open;    /* loopback, no metrics token */
static h_bridge_t s_guarded; /* loopback, --metrics-token */
static ef_client_t *s_admin; /* the local admin key: the operator */
static char s_producer_key[200], s_consumer_key[200];

static h_fixture_t s_fx = {
    .dir = s_dir,
    .broker = &s_broker,
    .native = &s_admin,
    .bridge = &s_open,
    .bridge2 = &s_guarded,
    .bridge2_flags = (const char *const[]){"--metrics-token", TOKEN, NULL},
    .producer_key = s_producer_key,
    .consumer_key = s_consumer_key};
static char s_org_b[1200]; /* "Authorization: Bearer …" of another org */

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

/*  Org B (once): registered over HTTP, with stream "secretA" whose group
    "payroll-export" has committed an offset. */
static void
s_org_b_with_a_group (void)
{
    if (s_org_b[0])
        return;
    h_resp_t r;
    h_http (&r, s_open.url, "POST", API "/auth/register", NULL,
            "{\"email\":\"b@example.com\",\"password\":\"b-password-1\","
            "\"org_name\":\"org-b\"}",
            NULL);
    H_EXPECT_STATUS (r, 201);
    h_http_free (&r);
    h_http (&r, s_open.url, "POST", API "/auth/login", NULL,
            "{\"email\":\"b@example.com\",\"password\":\"b-password-1\"}",
            NULL);
    H_EXPECT_STATUS (r, 200);
    snprintf (s_org_b, sizeof s_org_b, "Authorization: Bearer %s",
              h_http_jstr (r.json, "access_token"));
    h_http_free (&r);
    h_http (&r, s_open.url, "POST", API "/streams", s_org_b,
            "{\"name\":\"secretA\"}", NULL);
    H_EXPECT_STATUS (r, 201);
    h_http_free (&r);
    h_http_publish (&r, s_open.url, "secretA", s_org_b,
                    "{\"type\":\"salary\",\"payload\":{}}");
    H_EXPECT_STATUS (r, 202);
    char body[200];
    snprintf (body, sizeof body, "{\"last_event_id\":\"%s\"}",
              h_http_jstr (r.json, "event_id"));
    h_http_free (&r);
    h_http (&r, s_open.url, "POST",
            API "/streams/secretA/consumer-groups/payroll-export/offsets",
            s_org_b, body, NULL);
    H_EXPECT_STATUS (r, 200);
    h_http_free (&r);
}

/* ---------------------------------------------------------------- logs */

typedef int (s_match_fn) (json_t *rec, const void *arg);

/*  The records of the log at path that match, each line checked on the
    way: one JSON object, no member twice. */
static int
s_log_count (const char *path, s_match_fn *match, const void *arg)
{
    FILE *f = fopen (path, "r");
    assert_non_null (f);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int count = 0;
    while ((n = getline (&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n')
            break; /* still being written */
        json_error_t e;
        json_t *rec = json_loads (line, JSON_REJECT_DUPLICATES, &e);
        if (!json_is_object (rec))
            fail_msg ("%s: not one JSON record (%s): %s", path, e.text, line);
        const char *msg = json_string_value (json_object_get (rec, "msg"));
        if (msg && strstr (msg, "forged"))
            fail_msg ("%s: a forged record: %s", path, line);
        count += match (rec, arg);
        json_decref (rec);
    }
    free (line);
    fclose (f);
    return count;
}

/*  Wait (5 s at most) until the log at path holds want matching records
    (the processes write their logs after they answer); the count. */
typedef struct {
    const char *path;
    s_match_fn *match;
    const void *arg;
    int want, n;
} s_log_watch_t;

static int
s_log_reached (void *arg)
{
    s_log_watch_t *w = arg;
    w->n = s_log_count (w->path, w->match, w->arg);
    return w->n >= w->want;
}

static int
s_log_wait (const char *path, s_match_fn *match, const void *arg, int want)
{
    s_log_watch_t w = {path, match, arg, want, 0};
    h_wait_until (s_log_reached, &w, 5000);
    return w.n;
}

/*  A record whose member key is the string val: {key, val}. */
typedef struct {
    const char *key, *val;
} s_kv_t;

static int
s_has_kv (json_t *rec, const void *arg)
{
    const s_kv_t *kv = arg;
    const char *v = json_string_value (json_object_get (rec, kv->key));
    return v && strcmp (v, kv->val) == 0;
}

/* ---------------------------------------------------------------- metrics */

/*  The body of GET /metrics on g with cred (may be NULL), answered 200. */
static char *
s_metrics (const h_bridge_t *g, const char *cred)
{
    h_resp_t r;
    h_http (&r, g->url, "GET", "/metrics", cred, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    char *body = strdup (r.body ? r.body : "");
    h_http_free (&r);
    return body;
}

/*  Check every histogram series of name in text (one per label set
    before le): bounds ascending, counts cumulative, a last +Inf bucket
    equal to _count. The number of series. */
static int
s_check_histogram (const char *text, const char *name)
{
    char bucket[128], count[128];
    snprintf (bucket, sizeof bucket, "%s_bucket{", name);
    snprintf (count, sizeof count, "%s_count", name);
    int series = 0, buckets = 0, inf = 0;
    double last_le = -1;
    unsigned long long last_n = 0, inf_n = 0;
    char labels[400] = "";
    for (const char *p = text; *p;
         p = strchr (p, '\n') ? strchr (p, '\n') + 1 : p + strlen (p)) {
        const char *eol = strchr (p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen (p);
        char line[600];
        snprintf (line, sizeof line, "%.*s", (int)len, p);
        if (!strncmp (line, bucket, strlen (bucket))) {
            char *le = strstr (line, "le=\"");
            assert_non_null (le);
            char these[400];
            snprintf (these, sizeof these, "%.*s",
                      (int)(le - line - strlen (bucket)),
                      line + strlen (bucket));
            if (strcmp (these, labels)) { /* a new series */
                assert_int_equal (buckets == 0 || inf, 1);
                snprintf (labels, sizeof labels, "%s", these);
                buckets = inf = 0;
                last_le = -1;
                last_n = 0;
            }
            assert_false (inf); /* nothing after +Inf */
            unsigned long long n = strtoull (strstr (le, "} ") + 2, NULL, 10);
            if (!strncmp (le, "le=\"+Inf\"", 9))
                inf = 1, inf_n = n;
            else {
                double b = strtod (le + 4, NULL);
                if (b <= last_le)
                    fail_msg ("%s: bucket %g after %g", name, b, last_le);
                last_le = b;
            }
            if (n < last_n)
                fail_msg ("%s{%s}: counts not cumulative: %s", name, labels,
                          line);
            last_n = n;
            buckets++;
        } else if (!strncmp (line, count, strlen (count))) {
            if (!inf || buckets < 2)
                fail_msg ("%s: %d buckets, +Inf %s, before: %s", name, buckets,
                          inf ? "present" : "missing", line);
            unsigned long long n = strtoull (strrchr (line, ' ') + 1, NULL, 10);
            if (n != inf_n)
                fail_msg ("%s: +Inf %llu but _count %llu", name, inf_n, n);
            series++;
            labels[0] = 0;
            buckets = inf = 0;
        }
    }
    return series;
}

static void
test_metrics_pass_promtool_and_histograms_are_whole (void **state)
{
    (void)state;
    /* something to count: an event through (no pipeline: processed at
       once) and some requests */
    h_resp_t r;
    h_http_publish (&r, s_open.url, "default", s_producer_key,
                    "{\"type\":\"t\",\"payload\":{}}");
    H_EXPECT_STATUS (r, 202);
    h_http_free (&r);
    char *text = s_metrics (&s_open, NULL);
    char path[300];
    snprintf (path, sizeof path, "%s.metrics.txt", s_dir);
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
    /* the Prometheus project's own parser and linter */
    char cmd[700];
    snprintf (cmd, sizeof cmd, "promtool check metrics < '%s' >&2", path);
    if (system (cmd) != 0)
        fail_msg ("promtool check metrics refused %s", path);
    assert_int_equal (s_check_histogram (text, "eventflow_processing_seconds"),
                      1);
    assert_true (s_check_histogram (text, "eventflow_http_request_seconds") >=
                 1);
    free (text);
}

static void
test_open_metrics_name_no_org_and_the_token_holder_sees_all (void **state)
{
    (void)state;
    s_org_b_with_a_group ();
    char *text = s_metrics (&s_open, NULL);
    if (strstr (text, "secretA") || strstr (text, "payroll-export"))
        fail_msg ("open /metrics names another org's stream or group");
    assert_non_null (strstr (text, "eventflow_events_ingested_total"));
    free (text);
    /* with a token, the token alone opens it, and shows every series */
    h_resp_t r;
    h_http (&r, s_guarded.url, "GET", "/metrics", NULL, NULL, NULL);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
    h_http (&r, s_guarded.url, "GET", "/metrics", s_org_b, NULL, NULL);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
    text = s_metrics (&s_guarded, "Authorization: Bearer " TOKEN);
    assert_non_null (strstr (text, "eventflow_consumer_lag{stream=\"secretA\","
                                   "group=\"payroll-export\"} 0"));
    free (text);
}

/*  A free TCP port (bound on loopback, read, released). */
static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    assert_true (fd >= 0);
    assert_int_equal (bind (fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal (getsockname (fd, (struct sockaddr *)&a, &len), 0);
    close (fd);
    return ntohs (a.sin_port);
}

static void
test_metrics_beyond_loopback_need_a_token (void **state)
{
    (void)state;
    /* listening on every address (reached here over loopback only) */
    char listen_at[64];
    snprintf (listen_at, sizeof listen_at, "0.0.0.0:%d", s_free_port ());
    const char *extra[] = {"--listen", listen_at, NULL};
    h_bridge_t g;
    assert_int_equal (h_bridge_start (&g, &s_broker, extra), 0);
    char url[128];
    snprintf (url, sizeof url, "http://127.0.0.1:%s",
              strchr (listen_at, ':') + 1);
    h_resp_t r;
    h_http (&r, url, "GET", "/metrics", NULL, NULL, NULL);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
    h_http (&r, url, "GET", "/health", NULL, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    h_http_free (&r);
    assert_int_equal (h_bridge_stop (&g), 0);
    s_kv_t warned = {"msg", "/metrics answers 401 on a bridge that listens "
                            "beyond loopback until a --metrics-token is set"};
    assert_int_equal (s_log_count (g.log_path, s_has_kv, &warned), 1);
}

/*  STATS with the api key cred (NULL: as the local admin key itself). */
static const ef_reply_t *
s_stats_as (const char *cred)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_STATS;
    if (cred)
        req.auth_api_key = ef_str (cred + strlen ("X-API-Key: "));
    assert_int_equal (ef_client_call (s_admin, &req, &rep), 0);
    return rep;
}

static void
test_stats_of_an_org_caller_hold_only_its_figures (void **state)
{
    (void)state;
    s_org_b_with_a_group ();
    ef_mpr_t r;
    const ef_reply_t *rep = s_stats_as (s_consumer_key);
    assert_int_not_equal (ef_proto_reply_find (rep, "processing", &r), 0);
    assert_int_equal (ef_proto_reply_find (rep, "stats", &r), 0);
    ef_stats_t st;
    assert_int_equal (ef_proto_read_stats (&r, &st), 0);
    assert_false (st.broker_wide);
    assert_int_equal (st.published, 0);
    assert_true (st.streams >= 1);
    /* its org's lags only: org B's group is not among them */
    assert_int_equal (ef_proto_reply_find (rep, "lags", &r), 0);
    assert_null (memmem (r.p, (size_t)(r.end - r.p), "secretA", 7));
    /* the operator's key still sees the broker's counters */
    rep = s_stats_as (NULL);
    assert_int_equal (ef_proto_reply_find (rep, "processing", &r), 0);
    assert_int_equal (ef_proto_reply_find (rep, "stats", &r), 0);
    assert_int_equal (ef_proto_read_stats (&r, &st), 0);
    assert_true (st.broker_wide);
    assert_true (st.published >= 1);
}

/* ---------------------------------------------------------------- logs */

/*  Hostile bytes for every field a peer can put into a log line: quotes
    that would end the string and forge members, newlines that would
    forge records, control characters, invalid UTF-8. */
static const char s_forge[] =
    "x\",\"level\":\"error\",\"component\":\"broker\",\"msg\":\"forged";

static void
test_hostile_values_stay_inside_their_log_fields (void **state)
{
    (void)state;
    /* an X-Request-Id that would close its string */
    char rid[200];
    snprintf (rid, sizeof rid, "X-Request-Id: %s", s_forge);
    const char *hdr[] = {rid, NULL};
    h_resp_t r;
    h_http (&r, s_open.url, "GET", "/health", NULL, NULL, hdr);
    H_EXPECT_STATUS (r, 200);
    h_http_free (&r);
    /* an API key whose id part closes its string */
    char key[200];
    snprintf (key, sizeof key, "X-API-Key: efk_\"},\"msg\":\"forged_%064d", 0);
    h_http (&r, s_open.url, "GET", API "/streams", key, NULL, NULL);
    H_EXPECT_STATUS (r, 401);
    h_http_free (&r);
    /* a stream name with quotes and a newline, in the path */
    h_http_publish (&r, s_open.url, "x%22%2C%22msg%22%3A%22forged%0A",
                    s_producer_key, "{\"type\":\"t\",\"payload\":{}}");
    assert_true (r.status >= 400);
    h_http_free (&r);
    /* emails with quotes, a newline, control characters, invalid UTF-8 */
    const char *emails[] = {
        "a\\\",\\\"msg\\\":\\\"forged@example.com",
        "b\\n{\\\"msg\\\":\\\"forged\\\"}@example.com",
        "c\\u0001\\u001b[31m\\u007f@example.com",
    };
    for (size_t i = 0; i < sizeof emails / sizeof emails[0]; i++) {
        char body[300];
        snprintf (body, sizeof body,
                  "{\"email\":\"%s\",\"password\":\"whatever-1\"}", emails[i]);
        h_http (&r, s_open.url, "POST", API "/auth/login", NULL, body, NULL);
        H_EXPECT_STATUS (r, 401);
        h_http_free (&r);
    }
    ef_request_t req = {0};
    req.cmd = EF_CMD_LOGIN;
    static const char raw[] = "d\xff\xfe\xc0\xaf\"forged@example.com";
    req.email = (ef_str_t){raw, sizeof raw - 1};
    req.password = ef_str ("whatever-1");
    /* refused by the codec: text fields must be UTF-8 */
    assert_int_equal (ef_client_call (s_admin, &req, NULL), EF_EINVAL);
    /* a worker whose service name would close its string */
    ef_client_t *w = h_client (&s_broker);
    assert_non_null (w);
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_READY;
    req.service = ef_str (s_forge);
    assert_int_equal (ef_client_call (w, &req, NULL), 0);
    ef_client_destroy (&w);

    /* every record parses, none forged, and each value came through whole */
    s_kv_t rid_kv = {"request_id", s_forge};
    assert_int_equal (s_log_wait (s_open.log_path, s_has_kv, &rid_kv, 1), 1);
    s_kv_t svc = {"service", s_forge};
    assert_int_equal (s_log_wait (s_broker.log_path, s_has_kv, &svc, 1), 1);
    s_kv_t claimed = {"claimed_id", "\"},\"msg\":\"forged"};
    assert_int_equal (s_log_wait (s_broker.log_path, s_has_kv, &claimed, 1), 1);
    s_kv_t email = {"email", "b\n{\"msg\":\"forged\"}@example.com"};
    assert_int_equal (s_log_wait (s_broker.log_path, s_has_kv, &email, 1), 1);
    s_kv_t ctl = {"email", "c\x01\x1b[31m\x7f@example.com"};
    assert_int_equal (s_log_wait (s_broker.log_path, s_has_kv, &ctl, 1), 1);
    /* (bytes that are not UTF-8 never reach a log line here: the codec
       refuses them; unit_log checks that the writer would replace them) */
}

/*  A "request" record of the bridge for request id arg. */
static int
s_request_line (json_t *rec, const void *arg)
{
    const char *msg = json_string_value (json_object_get (rec, "msg"));
    const char *rid = json_string_value (json_object_get (rec, "request_id"));
    return msg && !strcmp (msg, "request") && rid && !strcmp (rid, arg);
}

/*  The one request record for request id rid, after checking it names
    method, route, status, duration and principal. Borrowed until the
    next call. */
static json_t *
s_request_record (const char *rid, const char *method, const char *route,
                  int status, const char *principal_prefix)
{
    assert_int_equal (s_log_wait (s_open.log_path, s_request_line, rid, 1), 1);
    static json_t *found;
    if (found)
        json_decref (found);
    found = NULL;
    FILE *f = fopen (s_open.log_path, "r");
    char *line = NULL;
    size_t cap = 0;
    while (!found && getline (&line, &cap, f) > 0) {
        json_t *rec = json_loads (line, 0, NULL);
        if (rec && s_request_line (rec, rid))
            found = rec;
        else
            json_decref (rec);
    }
    free (line);
    fclose (f);
    assert_non_null (found);
    assert_string_equal (json_string_value (json_object_get (found, "level")),
                         "info");
    assert_string_equal (json_string_value (json_object_get (found, "method")),
                         method);
    assert_string_equal (json_string_value (json_object_get (found, "route")),
                         route);
    assert_int_equal (json_integer_value (json_object_get (found, "status")),
                      status);
    assert_true (json_is_number (json_object_get (found, "duration_ms")));
    const char *who = json_string_value (json_object_get (found, "principal"));
    assert_non_null (who);
    if (*principal_prefix)
        assert_int_equal (
            strncmp (who, principal_prefix, strlen (principal_prefix)), 0);
    else /* none, refused, or never shown to the broker */
        assert_string_equal (who, "");
    return found;
}

static void
test_each_request_logged_once_and_auth_failures_with_cause (void **state)
{
    (void)state;
    s_org_b_with_a_group ();
    h_resp_t r;
    const char *h1[] = {"X-Request-Id: req-log-1", NULL};
    h_http (&r, s_open.url, "POST", API "/streams/default/events",
            s_producer_key, "{\"type\":\"t\",\"payload\":{}}", h1);
    H_EXPECT_STATUS (r, 202);
    h_http_free (&r);
    s_request_record ("req-log-1", "POST", "/api/v1/streams/{stream_id}/events",
                      202, "api_key:");
    const char *h2[] = {"X-Request-Id: req-log-2", NULL};
    h_http (&r, s_open.url, "GET", API "/streams/secretA", s_org_b, NULL, h2);
    H_EXPECT_STATUS (r, 200);
    h_http_free (&r);
    s_request_record ("req-log-2", "GET", "/api/v1/streams/{stream_id}", 200,
                      "user:");
    const char *h3[] = {"X-Request-Id: req-log-3", NULL};
    h_http (&r, s_open.url, "GET", "/no/such/route", NULL, NULL, h3);
    H_EXPECT_STATUS (r, 404);
    h_http_free (&r);
    s_request_record ("req-log-3", "GET", "none", 404, "");

    /* a key the broker never saw (the body was refused first) names no
       one */
    char unseen[200];
    snprintf (unseen, sizeof unseen, "X-API-Key: efk_0123456789abcdef_%064d",
              0);
    const char *h5[] = {"X-Request-Id: req-log-5", NULL};
    h_http (&r, s_open.url, "POST", API "/streams/default/events", unseen, "{",
            h5);
    H_EXPECT_STATUS (r, 400);
    h_http_free (&r);
    s_request_record ("req-log-5", "POST", "/api/v1/streams/{stream_id}/events",
                      400, "");

    /* a revoked key: the answer says nothing of why, the log does */
    char key[200];
    assert_int_equal (h_http_api_key (s_admin, "producer", key), 0);
    ef_request_t req = {0};
    char id[17];
    snprintf (id, sizeof id, "%.16s", key + strlen ("X-API-Key: efk_"));
    req.cmd = EF_CMD_APIKEY_REVOKE;
    req.key_id = ef_str (id);
    assert_int_equal (ef_client_call (s_admin, &req, NULL), 0);
    const char *h4[] = {"X-Request-Id: req-log-4", NULL};
    h_http (&r, s_open.url, "GET", API "/streams", key, NULL, h4);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    assert_null (strstr (r.body, "revoked"));
    h_http_free (&r);
    s_request_record ("req-log-4", "GET", "/api/v1/streams", 401, "");
    s_kv_t cause = {"cause", "revoked API key"};
    assert_int_equal (s_log_wait (s_broker.log_path, s_has_kv, &cause, 1), 1);
    /* and the broker's line carries the request id the bridge was given */
    s_kv_t cause_rid = {"request_id", "req-log-4"};
    assert_int_equal (s_log_wait (s_broker.log_path, s_has_kv, &cause_rid, 1),
                      1);
    /* a wrong password, the same */
    const char *h6[] = {"X-Request-Id: req-log-6", NULL};
    h_http (&r, s_open.url, "POST", API "/auth/login", NULL,
            "{\"email\":\"b@example.com\",\"password\":\"not-it-at-all\"}", h6);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    assert_null (strstr (r.body, "password"));
    h_http_free (&r);
    s_kv_t wrong = {"cause", "wrong password"};
    assert_int_equal (s_log_wait (s_broker.log_path, s_has_kv, &wrong, 1), 1);
    s_kv_t wrong_rid = {"request_id", "req-log-6"};
    assert_int_equal (s_log_wait (s_broker.log_path, s_has_kv, &wrong_rid, 1),
                      1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_metrics_pass_promtool_and_histograms_are_whole),
        cmocka_unit_test (
            test_open_metrics_name_no_org_and_the_token_holder_sees_all),
        cmocka_unit_test (test_metrics_beyond_loopback_need_a_token),
        cmocka_unit_test (test_stats_of_an_org_caller_hold_only_its_figures),
        cmocka_unit_test (test_hostile_values_stay_inside_their_log_fields),
        cmocka_unit_test (
            test_each_request_logged_once_and_auth_failures_with_cause),
    };
    return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
