/*  The bridge's threads under connections that hold them: civetweb gives
    every open connection a worker thread, so connections that send
    nothing, headers sent a line at a time and long polls must never take
    them all. With more such connections open than the 128 threads the
    bridge once had, /health and another key's ingest are answered while
    the attack is held; one credential's long polls beyond its cap are
    429 with Retry-After at once while another key's poll is served; and
    when threads run short an answer closes its connection instead of
    leaving it idle on a thread. */
#define _GNU_SOURCE
#include "harness.h"
#include "h_fixture.h"
#include "h_http.h"

#include <curl/curl.h>
#include <jansson.h>

#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

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

#define API "/api/v1"

/*  The answers must come before this: less than the header timeout, so
    no freed thread explains them. */
#define S_DEADLINE_MS 3000
#define S_IDLE        150 /* connections that send nothing */
#define S_SLOW        60  /* half a request's headers, then nothing */
#define S_POLLS       12  /* long polls from one key (its cap is 8) */
#define S_PER_KEY     8

typedef struct {
    char dir[256];
    h_broker_t broker;
    h_bridge_t bridge;
    ef_client_t *native;
    char key_a[200]; /* the attacker's */
    char key_b[200]; /* someone else's producer */
    char key_c[200]; /* and consumer */
    int fds[S_IDLE + S_SLOW + S_POLLS];
    int nfds;
    h_fixture_t fx;
} fixture_t;

static int
s_setup (void **state, const char *const *extra)
{
    signal (SIGPIPE, SIG_IGN);
    struct rlimit files;
    if (getrlimit (RLIMIT_NOFILE, &files) == 0) {
        files.rlim_cur = files.rlim_max;
        setrlimit (RLIMIT_NOFILE, &files);
    }
    fixture_t *f = calloc (1, sizeof *f);
    *state = f;
    f->fx = (h_fixture_t){.dir = f->dir,
                          .broker = &f->broker,
                          .native = &f->native,
                          .bridge = &f->bridge,
                          .bridge_flags = extra,
                          .admin_key = f->key_a,
                          .producer_key = f->key_b,
                          .consumer_key = f->key_c};
    if (h_fixture_setup (&f->fx))
        return -1;
    return ef_client_create_stream (f->native, "quiet", NULL) ? -1 : 0;
}

static int
setup (void **state)
{
    return s_setup (state, NULL);
}

static int
setup_few_threads (void **state)
{
    const char *extra[] = {"--threads", "64", "--long-polls", "8", NULL};
    return s_setup (state, extra);
}

static int
teardown (void **state)
{
    fixture_t *f = *state;
    /* wake any long poll still waiting, so the bridge stops at once */
    ef_event_in_t ev = {0};
    ef_publish_result_t res;
    ev.type = ef_str ("wake");
    ev.payload = ef_str ("1");
    if (f->native)
        ef_client_publish (f->native, "quiet", &ev, 1, &res);
    for (int i = 0; i < f->nfds; i++)
        close (f->fds[i]);
    int rc = h_fixture_teardown (&f->fx);
    free (f);
    return rc;
}

/*  A new raw connection kept by the fixture, with text sent on it. */
static int
s_open (fixture_t *f, const char *text)
{
    int fd = h_http_raw_connect (f->bridge.direct);
    assert_true (fd >= 0);
    if (text)
        h_http_raw_send (fd, text, strlen (text));
    f->fds[f->nfds++] = fd;
    return fd;
}

/*  A long poll on the quiet stream (nothing comes) by cred. */
static void
s_long_poll (char *out, size_t size, const char *cred, long timeout_ms)
{
    snprintf (out, size,
              "GET " API "/streams/quiet/consumer-groups/g/events?timeout=%ld "
              "HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n\r\n",
              timeout_ms, cred);
}

/*  Wait until want of the n connections in fds have answered (or the
    deadline); each answer's status into st[] (0: none). How many did. */
static int
s_answers (const int *fds, int n, int want, int *st, char **texts)
{
    int got = 0;
    long until = h_http_ms_now () + S_DEADLINE_MS;
    for (int i = 0; i < n; i++)
        st[i] = 0;
    while (got < want) {
        struct pollfd p[64];
        for (int i = 0; i < n; i++)
            p[i] = (struct pollfd){st[i] ? -1 : fds[i], POLLIN, 0};
        long left = until - h_http_ms_now ();
        if (left <= 0 || poll (p, (nfds_t)n, (int)left) <= 0)
            break;
        for (int i = 0; i < n; i++)
            if (p[i].revents) {
                char *resp = h_http_raw_read (fds[i], S_DEADLINE_MS);
                st[i] = h_http_raw_status (resp);
                if (!st[i])
                    st[i] = -1; /* closed without an answer */
                if (texts)
                    texts[i] = resp;
                else
                    free (resp);
                got++;
            }
    }
    return got;
}

/* ---------------------------------------------------------------- tests */

static void
test_held_connections_leave_health_and_another_keys_ingest_served (void **state)
{
    fixture_t *f = *state;
    char req[512];
    for (int i = 0; i < S_IDLE; i++)
        s_open (f, NULL);
    for (int i = 0; i < S_SLOW; i++)
        s_open (f, "GET " API "/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "X-Slow: 1\r\n");
    s_long_poll (req, sizeof req, f->key_a, 15000);
    for (int i = 0; i < S_POLLS; i++)
        s_open (f, req);
    fprintf (stderr, "  holding %d connections\n", f->nfds);

    /* while all of them are held */
    h_resp_t r;
    long t0 = h_http_ms_now ();
    h_http_ex (&r, f->bridge.url, "GET", "/health", NULL, NULL, NULL,
               S_DEADLINE_MS, NULL);
    H_EXPECT_STATUS (r, 200);
    h_http_free (&r);
    long t1 = h_http_ms_now ();
    h_http_ex (&r, f->bridge.url, "POST", API "/streams/default/events",
               f->key_b, "{\"type\":\"t\",\"payload\":1}", NULL, S_DEADLINE_MS,
               NULL);
    H_EXPECT_STATUS (r, 202);
    h_http_free (&r);
    fprintf (stderr, "  /health in %ld ms, another key's ingest in %ld ms\n",
             t1 - t0, h_http_ms_now () - t1);
}

static void
test_long_polls_beyond_a_keys_cap_are_429_with_retry_after (void **state)
{
    fixture_t *f = *state;
    char req[512];
    int fds[S_POLLS], st[S_POLLS];
    char *texts[S_POLLS] = {0};
    s_long_poll (req, sizeof req, f->key_a, 15000);
    for (int i = 0; i < S_POLLS; i++)
        fds[i] = s_open (f, req);
    /* the polls past the cap are answered at once; the rest wait */
    int answered = s_answers (fds, S_POLLS, S_POLLS - S_PER_KEY, st, texts);
    assert_int_equal (answered, S_POLLS - S_PER_KEY);
    for (int i = 0; i < S_POLLS; i++) {
        if (!st[i])
            continue;
        if (st[i] != 429 || !strcasestr (texts[i], "\r\nRetry-After: "))
            fail_msg ("a long poll past the cap answered %d: %s", st[i],
                      texts[i]);
        free (texts[i]);
    }
    /* another key is not held to the first one's cap */
    h_resp_t r;
    h_http_ex (&r, f->bridge.url, "GET",
               API "/streams/quiet/consumer-groups/g/events?timeout=1",
               f->key_c, NULL, NULL, S_DEADLINE_MS, NULL);
    H_EXPECT_STATUS (r, 200);
    h_http_free (&r);
}

static void
test_when_threads_run_short_an_answer_closes_its_connection (void **state)
{
    fixture_t *f = *state;
    static const char health[] =
        "GET " API "/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    /* threads to spare: the connection is kept */
    int fd = s_open (f, health);
    char *resp = h_http_raw_read (fd, S_DEADLINE_MS);
    assert_int_equal (h_http_raw_status (resp), 200);
    assert_null (strcasestr (resp, "Connection: close"));
    free (resp);
    /* 60 of the 64 threads held by silent connections */
    for (int i = 0; i < 59; i++)
        s_open (f, NULL);
    fd = s_open (f, health);
    resp = h_http_raw_read (fd, S_DEADLINE_MS);
    assert_int_equal (h_http_raw_status (resp), 200);
    if (!strcasestr (resp, "Connection: close"))
        fail_msg ("threads short, yet the answer kept its connection: %s",
                  resp);
    free (resp);
    assert_true (h_http_raw_closed (fd, S_DEADLINE_MS));
}

int
main (void)
{
    curl_global_init (CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (
            test_held_connections_leave_health_and_another_keys_ingest_served,
            setup, teardown),
        cmocka_unit_test_setup_teardown (
            test_long_polls_beyond_a_keys_cap_are_429_with_retry_after, setup,
            teardown),
        cmocka_unit_test_setup_teardown (
            test_when_threads_run_short_an_answer_closes_its_connection,
            setup_few_threads, teardown),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    curl_global_cleanup ();
    return rc;
}
