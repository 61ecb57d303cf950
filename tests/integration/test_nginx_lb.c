/*  nginx (Debian's, run unprivileged by the test: h_nginx.h) in front of
    two real bridges on one real broker, serving the shipped
    deploy/nginx/eventflow.conf with the test's ports:
    * the API through it: a stream created, events published (one, a
      batch, a known id answered DUPLICATE), listed, fetched and
      committed by a consumer group; both bridges served; X-Request-Id
      goes through both ways, and one nginx makes is the bridge's too.
    * a body of the bridge's --max-body passes, one byte more is 413.
    * HTTPS with a self-signed certificate for 127.0.0.1 and localhost:
      `curl --cacert CERT` gets /health and publishes; without the
      certificate curl refuses; the dashboard comes with the bridge's
      security headers and nginx's HSTS (on HTTPS only).
    * the live feed (Server-Sent Events) through it: a `figures` event
      and a published event arrive while the feed is open.
    * one bridge killed with kill -9 while four clients publish batches
      with their own event ids, retrying 503 and connection errors with
      the same ids: every event sent is stored, each exactly once, and
      the request the dead bridge held was answered with nginx's 503
      UNAVAILABLE problem (its 502; a POST is not retried by nginx). */
#define _GNU_SOURCE
#include "harness.h"
#include "h_fixture.h"
#include "h_http.h"
#include "h_nginx.h"

#include <curl/curl.h>
#include <jansson.h>

#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define API "/api/v1"

/* ---------------------------------------------------------------- fixture */

static char s_dir[256];
static h_broker_t s_broker;
static h_bridge_t s_bridge, s_bridge2;
static ef_client_t *s_native;
static char s_admin[200], s_producer[200], s_consumer[200];
static char s_admin_email[128], s_admin_pw[128];
/* the bridges believe nginx's X-Forwarded-For */
static const char *const s_behind[] = {"--trusted-proxies", "127.0.0.1", NULL};
static h_nginx_t s_nginx;
static char s_tls[256]; /* the self-signed certificate's directory */
static char s_cert[300], s_key[300];
static h_fixture_t s_fx = {
    .dir = s_dir,
    .broker = &s_broker,
    .native = &s_native,
    .bridge = &s_bridge,
    .bridge2 = &s_bridge2,
    .admin_key = s_admin,
    .producer_key = s_producer,
    .consumer_key = s_consumer,
    .admin_email = s_admin_email,
    .admin_pw = s_admin_pw,
    .broker_flags = (const char *const[]){"--durability", "os",
                                          "--login-free-failures", "3", NULL},
    .bridge_flags = s_behind,
    .bridge2_flags = s_behind};

static int
group_setup (void **state)
{
    (void)state;
    if (h_fixture_setup (&s_fx) || h_tempdir (s_tls) ||
        h_nginx_self_signed (s_tls, "eventflow"))
        return -1;
    snprintf (s_cert, sizeof s_cert, "%s/eventflow.crt", s_tls);
    snprintf (s_key, sizeof s_key, "%s/eventflow.key", s_tls);
    return h_nginx_start (&s_nginx, s_bridge.url, s_bridge2.url, s_cert, s_key);
}

static int
group_teardown (void **state)
{
    (void)state;
    int rc = 0;
    if (s_nginx.pid > 0 && h_nginx_stop (&s_nginx) != 0)
        rc = -1;
    if (s_tls[0])
        h_rmrf (s_tls);
    return h_fixture_teardown (&s_fx) || rc ? -1 : 0;
}

/*  POST /streams {"name": name} through nginx: 201. */
static void
s_stream (const char *name)
{
    h_resp_t r;
    char body[200];
    snprintf (body, sizeof body, "{\"name\":\"%s\"}", name);
    h_http (&r, s_nginx.url, "POST", API "/streams", s_admin, body, NULL);
    H_EXPECT_STATUS (r, 201);
    h_http_free (&r);
}

/*  The event id number i of series s. */
static void
s_event_id (char *out, unsigned s, unsigned i)
{
    snprintf (out, 37, "%08x-0000-4000-8000-%012x", s, i);
}

/* ---------------------------------------------------------------- the API */

static void
test_the_api_passes_through_nginx_to_both_bridges (void **st)
{
    (void)st;
    h_resp_t r;
    char id[40], body[600], path[300];
    s_stream ("lb-orders");

    /* one event with its id: 202; the same id again: 200 DUPLICATE */
    s_event_id (id, 0x1b, 1);
    snprintf (body, sizeof body,
              "{\"event_id\":\"%s\",\"type\":\"lb.t\",\"payload\":{\"i\":1}}",
              id);
    h_http_publish (&r, s_nginx.url, "lb-orders", s_producer, body);
    H_EXPECT_STATUS (r, 202);
    H_EXPECT_STR (r, "status", "ACCEPTED");
    h_http_free (&r);
    h_http_publish (&r, s_nginx.url, "lb-orders", s_producer, body);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "status", "DUPLICATE");
    h_http_free (&r);

    /* a batch */
    h_http_publish (&r, s_nginx.url, "lb-orders", s_producer,
                    "[{\"type\":\"lb.t\",\"payload\":{\"i\":2}},"
                    "{\"type\":\"lb.t\",\"payload\":{\"i\":3}},"
                    "{\"type\":\"lb.t\",\"payload\":{\"i\":4}}]");
    H_EXPECT_STATUS (r, 202);
    assert_int_equal (json_array_size (h_http_j (r.json, "results")), 3);
    h_http_free (&r);

    /* listed */
    h_http (&r, s_nginx.url, "GET", API "/events?stream=lb-orders&limit=10",
            s_consumer, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_array_size (h_http_j (r.json, "items")), 4);
    h_http_free (&r);

    /* a consumer group fetches all four and commits the last */
    h_http (&r, s_nginx.url, "GET",
            API "/streams/lb-orders/consumer-groups/lb/events?limit=10",
            s_consumer, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_array_size (h_http_j (r.json, "events")), 4);
    snprintf (body, sizeof body, "{\"last_event_id\":\"%s\"}",
              h_http_jstr (r.json, "next_offset"));
    h_http_free (&r);
    snprintf (path, sizeof path,
              API "/streams/lb-orders/consumer-groups/lb/offsets");
    h_http (&r, s_nginx.url, "POST", path, s_consumer, body, NULL);
    H_EXPECT_STATUS (r, 200);
    h_http_free (&r);
    h_http (&r, s_nginx.url, "GET",
            API "/streams/lb-orders/consumer-groups/lb/events?limit=10",
            s_consumer, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (json_array_size (h_http_j (r.json, "events")), 0);
    h_http_free (&r);

    /* the client's request id reaches the bridge and comes back, and is
       in nginx's log line */
    h_http (&r, s_nginx.url, "GET", "/health", NULL, NULL,
            (const char *const[]){"X-Request-Id: lb-rid-1", NULL});
    H_EXPECT_STATUS (r, 200);
    assert_string_equal (r.request_id, "lb-rid-1");
    h_http_free (&r);
    /* (nginx writes its log line after the answer has gone) */
    assert_int_equal (
        h_log_wait (s_nginx.access_log, "request_id=lb-rid-1", 1, 10000), 0);
    /* without one, nginx makes it, and the bridge answers with that one */
    h_http (&r, s_nginx.url, "GET", "/health", NULL, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    assert_int_equal (strlen (r.request_id), 32);
    char want[200];
    snprintf (want, sizeof want, "request_id=%s", r.request_id);
    h_http_free (&r);
    assert_int_equal (h_log_wait (s_nginx.access_log, want, 1, 10000), 0);

    /* both bridges served */
    char up[sizeof s_bridge.url + 16]; /* "upstream=" + host:port + "/" */
    assert_true (snprintf (up, sizeof up, "upstream=%s/", s_bridge.url + 7) <
                 (int)sizeof up);
    assert_true (h_nginx_log_count (&s_nginx, up) > 0);
    assert_true (snprintf (up, sizeof up, "upstream=%s/", s_bridge2.url + 7) <
                 (int)sizeof up);
    assert_true (h_nginx_log_count (&s_nginx, up) > 0);
}

/*  client_max_body_size is the bridge's --max-body (1M): a body of that
    size reaches a bridge, one byte more is refused by nginx. */
static void
test_the_body_limit_is_the_bridges (void **st)
{
    (void)st;
    size_t max = 1024 * 1024;
    char *body = malloc (max + 2);
    const char *ev = "{\"type\":\"lb.big\",\"payload\":{}}";
    memset (body, ' ', max + 1);
    memcpy (body, ev, strlen (ev));
    body[max] = 0;
    h_resp_t r;
    h_http_publish (&r, s_nginx.url, "lb-orders", s_producer, body);
    H_EXPECT_STATUS (r, 202);
    h_http_free (&r);
    body[max] = ' ';
    body[max + 1] = 0;
    h_http_publish (&r, s_nginx.url, "lb-orders", s_producer, body);
    /* nginx's refusal (the limits are equal), in the API's shape: the
       shipped error_page; its detail is nginx's, not the bridge's */
    H_EXPECT_PROBLEM (r, 413, "TOO_BIG", NULL);
    assert_string_equal (h_http_jstr (r.json, "detail"),
                         "request body over the limit");
    h_http_free (&r);
    free (body);
}

/* ---------------------------------------------------------------- SSE */

/*  Read from fd into buf (cap bytes, NUL-terminated, *len so far) until
    text is in it, up to timeout_ms. 0, or -1. */
static int
s_read_until (int fd, char *buf, size_t cap, size_t *len, const char *text,
              long timeout_ms)
{
    long until = h_http_ms_now () + timeout_ms;
    while (!strstr (buf, text)) {
        long left = until - h_http_ms_now ();
        struct pollfd p = {fd, POLLIN, 0};
        if (left <= 0 || poll (&p, 1, (int)left) <= 0)
            return -1;
        if (*len + 1 >= cap) { /* keep the last half: text is short */
            memmove (buf, buf + cap / 2, *len - cap / 2 + 1);
            *len -= cap / 2;
        }
        ssize_t n = recv (fd, buf + *len, cap - *len - 1, 0);
        if (n <= 0)
            return -1;
        *len += (size_t)n;
        buf[*len] = 0;
    }
    return 0;
}

static void
test_the_live_feed_passes_through_nginx (void **st)
{
    (void)st;
    s_stream ("lb-live");
    int fd = h_http_raw_connect (s_nginx.url);
    assert_true (fd >= 0);
    char req[600];
    int n = snprintf (req, sizeof req,
                      "GET " API "/live?figures=1&stream=lb-live HTTP/1.1\r\n"
                      "Host: 127.0.0.1\r\n%s\r\n"
                      "Accept: text/event-stream\r\n\r\n",
                      s_admin);
    h_http_raw_send (fd, req, (size_t)n);
    static char buf[65536];
    size_t len = 0;
    buf[0] = 0;
    assert_int_equal (
        s_read_until (fd, buf, sizeof buf, &len, "\r\n\r\n", 10000), 0);
    assert_int_equal (h_http_raw_status (buf), 200);
    assert_non_null (strcasestr (buf, "text/event-stream"));
    /* a second's figures come through as they are sent */
    assert_int_equal (
        s_read_until (fd, buf, sizeof buf, &len, "event: figures", 10000), 0);

    /* an event published now arrives on the open feed */
    char id[40], body[300];
    s_event_id (id, 0x5e, 1);
    snprintf (body, sizeof body,
              "{\"event_id\":\"%s\",\"type\":\"lb.live\",\"payload\":{}}", id);
    h_resp_t r;
    h_http_publish (&r, s_nginx.url, "lb-live", s_producer, body);
    H_EXPECT_STATUS (r, 202);
    h_http_free (&r);
    assert_int_equal (s_read_until (fd, buf, sizeof buf, &len, id, 10000), 0);
    close (fd);
}

/* ---------------------------------------------------------------- TLS */

/*  Run the curl command with args (a shell word list) and the headers and
    body it printed; its exit code in *code. Malloc'ed, "" at least. */
static char *
s_curl (int *code, const char *args)
{
    char cmd[2048];
    snprintf (cmd, sizeof cmd, "curl -sS -D - --max-time 10 %s 2>&1", args);
    FILE *p = popen (cmd, "r");
    size_t cap = 65536, len = 0, n;
    char *out = malloc (cap);
    while (p && len + 1 < cap &&
           (n = fread (out + len, 1, cap - len - 1, p)) > 0)
        len += n;
    out[len] = 0;
    int status = p ? pclose (p) : -1;
    *code = WIFEXITED (status) ? WEXITSTATUS (status) : -1;
    return out;
}

static void
test_https_with_the_certificate_serves_the_api_and_the_dashboard (void **st)
{
    (void)st;
    char args[1500];
    int code;
    const char *port = strrchr (s_nginx.tls_url, ':') + 1;

    /* curl --cacert CERT https://127.0.0.1:PORT/health (and by name) */
    snprintf (args, sizeof args, "--cacert '%s' '%s/health'", s_cert,
              s_nginx.tls_url);
    char *out = s_curl (&code, args);
    assert_int_equal (code, 0);
    assert_int_equal (h_http_raw_status (out), 200);
    assert_non_null (strcasestr (out, "\nStrict-Transport-Security: max-age="));
    free (out);
    snprintf (args, sizeof args,
              "--cacert '%s' --resolve localhost:%s:127.0.0.1 "
              "'https://localhost:%s/health'",
              s_cert, port, port);
    out = s_curl (&code, args);
    assert_int_equal (code, 0);
    assert_int_equal (h_http_raw_status (out), 200);
    free (out);
    /* without the certificate, curl refuses the server (60: unknown CA) */
    snprintf (args, sizeof args, "'%s/health'", s_nginx.tls_url);
    out = s_curl (&code, args);
    assert_int_equal (code, 60);
    free (out);

    /* an API call: a publish over HTTPS */
    char id[40];
    s_event_id (id, 0x715, 1);
    snprintf (args, sizeof args,
              "--cacert '%s' -H '%s' -H 'Content-Type: application/json' "
              "--data '{\"event_id\":\"%s\",\"type\":\"lb.tls\","
              "\"payload\":{}}' '%s" API "/streams/lb-orders/events'",
              s_cert, s_producer, id, s_nginx.tls_url);
    out = s_curl (&code, args);
    assert_int_equal (code, 0);
    assert_int_equal (h_http_raw_status (out), 202);
    assert_non_null (strstr (out, id));
    free (out);

    /* the dashboard with the bridge's security headers, and nginx's HSTS */
    snprintf (args, sizeof args, "--cacert '%s' '%s/'", s_cert,
              s_nginx.tls_url);
    out = s_curl (&code, args);
    assert_int_equal (code, 0);
    assert_int_equal (h_http_raw_status (out), 200);
    const char *want[] = {"\nContent-Security-Policy: ",
                          "\nX-Frame-Options: DENY",
                          "\nX-Content-Type-Options: nosniff",
                          "\nReferrer-Policy: no-referrer",
                          "\nStrict-Transport-Security: max-age=",
                          NULL};
    for (int i = 0; want[i]; i++)
        if (!strcasestr (out, want[i]))
            fail_msg ("no \"%s\" in the answer to GET /:\n%.2000s", want[i] + 1,
                      out);
    free (out);

    /* plain HTTP: no HSTS (a browser would ignore it there) */
    snprintf (args, sizeof args, "'%s/health'", s_nginx.url);
    out = s_curl (&code, args);
    assert_int_equal (code, 0);
    assert_null (strcasestr (out, "Strict-Transport-Security"));
    free (out);
}

/* ---------------------------------------------------------------- kill -9 */

#define S_BATCH   4
#define S_BATCHES 40
#define S_THREADS 4

typedef struct {
    unsigned series;
    pthread_mutex_t *mu;
    int *acked;   /* events answered ACCEPTED or DUPLICATE, all threads */
    int accepted; /* this thread's */
    int duplicate;
    int no_bridge;   /* nginx's 503: no bridge answered (its 502) */
    int unavailable; /* a bridge's 503 */
    int unreachable; /* no answer */
    char error[300]; /* what went wrong, or "" */
} s_publisher_t;

/*  Publish S_BATCHES batches of S_BATCH events with the client's own
    ids through nginx; a 503 (nginx's or a bridge's) or no answer is
    retried with the same body (the same ids). */
static void *
s_publish_all (void *arg)
{
    s_publisher_t *p = arg;
    for (unsigned b = 0; b < S_BATCHES && !p->error[0]; b++) {
        char body[S_BATCH * 160] = "[";
        for (unsigned k = 0; k < S_BATCH; k++) {
            char id[40];
            s_event_id (id, p->series, b * S_BATCH + k);
            snprintf (body + strlen (body), sizeof body - strlen (body),
                      "%s{\"event_id\":\"%s\",\"type\":\"lb.kill\","
                      "\"payload\":{\"b\":%u}}",
                      k ? "," : "", id, b);
        }
        strcat (body, "]");
        for (int attempt = 0;; attempt++) {
            h_resp_t r;
            /* 3 s: a request the stopped bridge had read before it
               stopped stays unanswered until the kill; an answer taking
               longer under load is retried, and answered DUPLICATE */
            h_http_ex (&r, s_nginx.url, "POST", API "/streams/lb-kill/events",
                       s_producer, body, NULL, 3000, NULL);
            long status = r.status;
            if (status == 202) {
                json_t *res = h_http_j (r.json, "results");
                for (size_t k = 0; k < json_array_size (res); k++) {
                    const char *s =
                        h_http_jstr (json_array_get (res, k), "status");
                    if (s && !strcmp (s, "ACCEPTED"))
                        p->accepted++;
                    else if (s && !strcmp (s, "DUPLICATE"))
                        p->duplicate++;
                }
                if (json_array_size (res) != S_BATCH)
                    snprintf (p->error, sizeof p->error, "202 with %zu results",
                              json_array_size (res));
            }
            const char *detail =
                status == 503 ? h_http_jstr (r.json, "detail") : NULL;
            int nginx_own =
                detail && !strcmp (detail, "no bridge answered; retry");
            h_http_free (&r);
            if (status == 202) {
                pthread_mutex_lock (p->mu);
                *p->acked += S_BATCH;
                pthread_mutex_unlock (p->mu);
                break;
            }
            if (nginx_own)
                p->no_bridge++;
            else if (status == 503)
                p->unavailable++;
            else if (status == 0)
                p->unreachable++;
            else {
                snprintf (p->error, sizeof p->error, "batch %u: status %ld", b,
                          status);
                break;
            }
            if (attempt == 100) {
                snprintf (p->error, sizeof p->error, "batch %u: 100 retries",
                          b);
                break;
            }
        }
    }
    return NULL;
}

typedef struct {
    pthread_mutex_t *mu;
    int *acked;
    int want;
} s_acked_t;

static int
s_acked (void *arg)
{
    s_acked_t *a = arg;
    pthread_mutex_lock (a->mu);
    int ok = *a->acked >= a->want;
    pthread_mutex_unlock (a->mu);
    return ok;
}

/*  Has a connection to 127.0.0.1:port bytes its owner has not read (a
    request that reached a stopped bridge)? From /proc/net/tcp. */
static int
s_unread_at (void *arg)
{
    int port = *(int *)arg;
    FILE *f = fopen ("/proc/net/tcp", "r");
    char line[512];
    int found = 0;
    while (f && !found && fgets (line, sizeof line, f)) {
        unsigned lport, state;
        unsigned long tx, rx;
        if (sscanf (line, " %*d: %*x:%x %*x:%*x %x %lx:%lx", &lport, &state,
                    &tx, &rx) == 4)
            found = (int)lport == port && state == 1 && rx > 0;
    }
    if (f)
        fclose (f);
    return found;
}

static void
test_a_bridge_killed_mid_run_costs_no_event (void **st)
{
    (void)st;
    s_stream ("lb-kill");
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    int acked = 0;
    s_publisher_t pub[S_THREADS];
    pthread_t t[S_THREADS];
    for (int i = 0; i < S_THREADS; i++) {
        memset (&pub[i], 0, sizeof pub[i]);
        pub[i].series = 0x7000 + (unsigned)i;
        pub[i].mu = &mu;
        pub[i].acked = &acked;
        pthread_create (&t[i], NULL, s_publish_all, &pub[i]);
    }
    /* mid-run: stop the first bridge, wait until a request nginx sent it
       waits unread on its socket, then kill it */
    s_acked_t a = {&mu, &acked, S_THREADS * S_BATCHES * S_BATCH / 4};
    assert_int_equal (h_wait_until (s_acked, &a, 30000), 0);
    int port = atoi (strrchr (s_bridge.url, ':') + 1);
    kill (s_bridge.pid, SIGSTOP);
    int held = h_wait_until (s_unread_at, &port, 20000);
    h_bridge_kill9 (&s_bridge);
    for (int i = 0; i < S_THREADS; i++)
        pthread_join (t[i], NULL);
    assert_int_equal (held, 0);

    int stored = 0, no_bridge = 0;
    for (int i = 0; i < S_THREADS; i++) {
        fprintf (stderr,
                 "publisher %d: %d accepted, %d duplicate, %d nginx 503, "
                 "%d bridge 503, "
                 "%d unanswered%s%s\n",
                 i, pub[i].accepted, pub[i].duplicate, pub[i].no_bridge,
                 pub[i].unavailable, pub[i].unreachable,
                 pub[i].error[0] ? "; " : "", pub[i].error);
        assert_string_equal (pub[i].error, "");
        stored += pub[i].accepted + pub[i].duplicate;
        no_bridge += pub[i].no_bridge;
    }
    assert_int_equal (stored, S_THREADS * S_BATCHES * S_BATCH);
    /* the request the dead bridge held came back as nginx's 503 (its 502
       in the API's shape), not retried */
    assert_true (no_bridge >= 1);

    /* every event sent is in the stream exactly once: a consumer group
       reads all of it from the bridge that lives */
    h_resp_t r;
    h_http (&r, s_bridge2.url, "GET",
            API "/streams/lb-kill/consumer-groups/check/events?limit=1000",
            s_consumer, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    json_t *evs = h_http_j (r.json, "events");
    assert_int_equal (json_array_size (evs), S_THREADS * S_BATCHES * S_BATCH);
    for (int i = 0; i < S_THREADS; i++)
        for (unsigned e = 0; e < S_BATCHES * S_BATCH; e++) {
            char id[40];
            s_event_id (id, pub[i].series, e);
            int seen = 0;
            for (size_t k = 0; k < json_array_size (evs); k++)
                seen += !strcmp (
                    h_http_jstr (json_array_get (evs, k), "id") ?: "", id);
            if (seen != 1)
                fail_msg ("event %s stored %d times", id, seen);
        }
    h_http_free (&r);
}

/*  h_wait_until's predicate: has either bridge logged a request from the
    client at arg? */
static int
s_client_logged (void *arg)
{
    char text[128];
    snprintf (text, sizeof text, "\"client\":\"%s\"", (const char *)arg);
    return h_log_wait (s_bridge.log_path, text, 1, 0) == 0 ||
           h_log_wait (s_bridge2.log_path, text, 1, 0) == 0;
}

/*  POST /auth/login through nginx as a client at addr (the
    X-Forwarded-For the client sends; nginx appends its own peer): the
    status. */
static long
s_login_from (const char *addr, const char *email, const char *pw)
{
    h_resp_t r;
    char body[512], xff[128];
    snprintf (body, sizeof body, "{\"email\":\"%s\",\"password\":\"%s\"}",
              email, pw);
    snprintf (xff, sizeof xff, "X-Forwarded-For: %s", addr);
    h_http (&r, s_nginx.url, "POST", API "/auth/login", xff, body, NULL);
    long st = r.status;
    h_http_free (&r);
    return st;
}

static void
test_failed_logins_are_held_back_per_client_behind_nginx (void **st)
{
    (void)st;
    /* 13 failures from one client over emails never held back themselves
       (an address gets 4 × --login-free-failures: 12): that client waits,
       even with the right password; another client behind the same
       nginx does not (before --trusted-proxies both were 127.0.0.1) */
    for (int i = 0; i < 13; i++) {
        char email[64];
        snprintf (email, sizeof email, "guess%d@example.com", i);
        assert_int_equal (
            s_login_from ("198.51.100.7", email, "wrong-password"), 401);
    }
    assert_int_equal (s_login_from ("198.51.100.7", s_admin_email, s_admin_pw),
                      429);
    assert_int_equal (s_login_from ("198.51.100.8", s_admin_email, s_admin_pw),
                      200);
    /* the bridge that answered logs the client nginx named */
    assert_int_equal (h_wait_until (s_client_logged, "198.51.100.8", 5000), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_the_api_passes_through_nginx_to_both_bridges),
        cmocka_unit_test (test_the_body_limit_is_the_bridges),
        cmocka_unit_test (test_the_live_feed_passes_through_nginx),
        cmocka_unit_test (
            test_https_with_the_certificate_serves_the_api_and_the_dashboard),
        /* last: it kills the first bridge */
        cmocka_unit_test (test_a_bridge_killed_mid_run_costs_no_event),
        cmocka_unit_test (
            test_failed_logins_are_held_back_per_client_behind_nginx),
    };
    return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
