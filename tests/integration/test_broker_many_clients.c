/*  test_broker_many_clients.c: a broker started with a soft limit of
    1,024 open files serves 1,500 native connections at once (CurveZMQ,
    each answered a HELLO): it raises its own limit to the hard one. When
    they have all closed it gives the memory their buffers held back to
    the system (its "memory returned" log line) and its resident memory
    drops by at least half of what they took. The figures for 10,000
    connections, and their CPU, are tests/bench/many_clients.sh's. */
#include "harness.h"
#include "eventflow/ef_proto.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zmq.h>
#include <cmocka.h>

#define WAIT_MS 20000 /* a deadline for what must happen, not a timing */
#define N       1500  /* more than a soft limit of 1,024 descriptors */
#define PER_CTX 750   /* sockets per context (its default most: 1,023) */
#define NEEDED  (2 * N + 256) /* our descriptors: a socket takes two */

/*  The broker's resident memory in KB (0 when unreadable). */
static long
s_rss_kb (pid_t pid)
{
    char path[64], line[256];
    long kb = 0;
    snprintf (path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen (path, "r");
    while (f && fgets (line, sizeof line, f))
        if (sscanf (line, "VmRSS: %ld", &kb) == 1)
            break;
    if (f)
        fclose (f);
    return kb;
}

static void
test_serves_more_connections_than_its_soft_limit_and_returns_memory (
    void **state)
{
    (void)state;
    struct rlimit files, low;
    assert_int_equal (getrlimit (RLIMIT_NOFILE, &files), 0);
    if (files.rlim_max < NEEDED)
        fail_msg ("this test needs a hard limit of %d open files (ulimit -Hn "
                  "is %llu)",
                  NEEDED, (unsigned long long)files.rlim_max);
    /* the broker starts with 1,024, as under a default login shell */
    low = files;
    low.rlim_cur = 1024;
    assert_int_equal (setrlimit (RLIMIT_NOFILE, &low), 0);
    char dir[256];
    h_broker_t b;
    assert_int_equal (h_tempdir (dir), 0);
    int started = h_broker_start (&b, dir, NULL);
    files.rlim_cur = files.rlim_max;
    assert_int_equal (setrlimit (RLIMIT_NOFILE, &files), 0);
    assert_int_equal (started, 0);
    long rss0 = s_rss_kb (b.pid);

    ef_buf_t hello;
    ef_buf_init (&hello);
    ef_request_t req = {0};
    req.cmd = EF_CMD_HELLO;
    req.id = 1;
    assert_int_equal (ef_proto_encode_request (&hello, &req), 0);
    void *ctx[(N + PER_CTX - 1) / PER_CTX];
    static void *sock[N];
    static zmq_pollitem_t items[N];
    int zero = 0;
    for (int i = 0; i < N; i++) {
        if (i % PER_CTX == 0)
            assert_non_null (ctx[i / PER_CTX] = zmq_ctx_new ());
        sock[i] = zmq_socket (ctx[i / PER_CTX], ZMQ_DEALER);
        assert_non_null (sock[i]);
        zmq_setsockopt (sock[i], ZMQ_LINGER, &zero, sizeof zero);
        assert_int_equal (h_curve_socket (&b, sock[i]), 0);
        assert_int_equal (zmq_connect (sock[i], b.endpoint), 0);
        assert_int_equal (zmq_send (sock[i], hello.data, hello.len, 0),
                          (int)hello.len);
        items[i].socket = sock[i];
        items[i].events = ZMQ_POLLIN;
    }
    ef_buf_free (&hello);
    /* every one answered, all open at once */
    int left = N;
    char buf[4096];
    while (left > 0) {
        int n = zmq_poll (items, N, WAIT_MS);
        if (n <= 0)
            fail_msg ("%d of %d connections not answered within %d ms", left, N,
                      WAIT_MS);
        for (int i = 0; i < N; i++)
            if (items[i].revents & ZMQ_POLLIN) {
                int got = zmq_recv (sock[i], buf, sizeof buf, ZMQ_DONTWAIT);
                ef_reply_t rep;
                assert_true (got > 0);
                assert_int_equal (
                    ef_proto_decode_reply (buf, (size_t)got, &rep), 0);
                assert_true (rep.ok);
                items[i].events = 0;
                left--;
            }
    }
    long rss1 = s_rss_kb (b.pid);

    for (int i = 0; i < N; i++)
        zmq_close (sock[i]);
    for (size_t i = 0; i < sizeof ctx / sizeof ctx[0]; i++)
        zmq_ctx_term (ctx[i]);
    /* given back as they close, and last when none is left */
    assert_int_equal (h_log_wait (b.log_path,
                                  "\"memory returned\",\"connections\":0,", 1,
                                  WAIT_MS),
                      0);
    long rss2 = s_rss_kb (b.pid);
    /* the connections took memory, and at least half of it came back */
    assert_true (rss1 - rss0 > N * 10);
#ifndef __SANITIZE_ADDRESS__
    /* (under AddressSanitizer freed blocks wait in its quarantine, up to
       256 MB, and no trim returns them: the plain build checks this) */
    assert_true (rss1 - rss2 >= (rss1 - rss0) / 2);
#endif
    assert_int_equal (h_broker_stop (&b), 0);
    h_rmrf (dir);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (
            test_serves_more_connections_than_its_soft_limit_and_returns_memory),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
