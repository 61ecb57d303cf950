/*  bench_many.c: the many-clients benchmark's parts (tests/bench/
    many_clients.sh runs them). Each mode is one kind of client:

      native DIR ENDPOINT N   N idle native connections, CurveZMQ with the
                              admin's key and libeventflow's heartbeat
                              options, each answered a HELLO; held until
                              stdin closes, then closed
      http HOST PORT N        N idle HTTP/1.1 keep-alive connections, each
                              answered one GET /health; held likewise
      load DIR ENDPOINT S R   one libeventflow producer publishing one event
                              at a time, R a second for S seconds: the
                              latency of each acknowledged publish
      httplat HOST PORT N     N GET /health, each on a new connection: the
                              time from connect to the whole answer

    "held N" (stdout) says the connections are up; the latency modes print
    one line "p50_ms P p99_ms P n N errors E". */
#define _GNU_SOURCE
#include "bench_util.h"
#include "eventflow/ef_cert.h"
#include "eventflow/ef_proto.h"
#include "eventflow/ef_time.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

/*  Sockets per ZeroMQ context (each with its own I/O thread): below the
    context's default ZMQ_MAX_SOCKETS (1023). */
#define S_PER_CTX 1000
#define S_BATCH   250

static double
s_now_ms (void)
{
    struct timespec t;
    clock_gettime (CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int
s_cmp (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void
s_print_lat (double *ms, int n, int errors)
{
    qsort (ms, (size_t)n, sizeof *ms, s_cmp);
    printf ("p50_ms %.3f p99_ms %.3f n %d errors %d\n", n ? ms[n / 2] : 0.0,
            n ? ms[(int)(n * 0.99)] : 0.0, n, errors);
}

/*  Wait until stdin closes (the script says when to let go). */
static void
s_hold (int n)
{
    printf ("held %d\n", n);
    fflush (stdout);
    char buf[256];
    while (read (0, buf, sizeof buf) > 0)
        ;
}

static void
s_files (void)
{
    struct rlimit files;
    if (getrlimit (RLIMIT_NOFILE, &files) == 0) {
        files.rlim_cur = files.rlim_max;
        setrlimit (RLIMIT_NOFILE, &files);
    }
}

/* ---------------------------------------------------------------- native */

static int
s_native (const char *dir, const char *endpoint, int n)
{
    char path[512];
    ef_cert_t me, srv;
    snprintf (path, sizeof path, "%s/admin.key", dir);
    int rc = ef_cert_load (path, &me);
    snprintf (path, sizeof path, "%s/broker.pub", dir);
    if (rc || ef_cert_load (path, &srv)) {
        fprintf (stderr, "bench_many: cannot read the keys in %s\n", dir);
        return 1;
    }
    int nctx = (n + S_PER_CTX - 1) / S_PER_CTX;
    void **ctx = calloc ((size_t)nctx, sizeof *ctx);
    void **sock = calloc ((size_t)n, sizeof *sock);
    zmq_pollitem_t *items = calloc ((size_t)n, sizeof *items);
    char *answered = calloc ((size_t)n, 1);
    ef_buf_t hello;
    ef_buf_init (&hello);
    ef_request_t req = {0};
    req.cmd = EF_CMD_HELLO;
    req.id = 1;
    req.client = ef_str ("bench_many");
    if (!ctx || !sock || !items || !answered ||
        ef_proto_encode_request (&hello, &req))
        return 1;
    /* libeventflow's options (ef_client_connect); its pings of its own
       (ef_client_set_heartbeat, off by default) with EF_BENCH_HEARTBEAT=MS
       (before: every 1000 ms, 5000 to answer) */
    int ivl = 0, ttl = 0, zero = 0, hwm = 100000;
    const char *hb = getenv ("EF_BENCH_HEARTBEAT");
    if (hb && atoi (hb) > 0) {
        ivl = atoi (hb);
        ttl = getenv ("EF_BENCH_HEARTBEAT_ANSWER")
                  ? atoi (getenv ("EF_BENCH_HEARTBEAT_ANSWER"))
                  : ivl / 5;
    }
    /* opened S_BATCH at a time, each batch answered before the next
       (one poll over every socket at once would be slow) */
    char buf[4096];
    for (int first = 0; first < n; first += S_BATCH) {
        int last = first + S_BATCH < n ? first + S_BATCH : n;
        for (int i = first; i < last; i++) {
            if (i % S_PER_CTX == 0)
                ctx[i / S_PER_CTX] = zmq_ctx_new ();
            void *s = zmq_socket (ctx[i / S_PER_CTX], ZMQ_DEALER);
            if (!s) {
                fprintf (stderr, "bench_many: socket %d: %s\n", i,
                         zmq_strerror (errno));
                return 1;
            }
            zmq_setsockopt (s, ZMQ_SNDHWM, &hwm, sizeof hwm);
            zmq_setsockopt (s, ZMQ_RCVHWM, &hwm, sizeof hwm);
            zmq_setsockopt (s, ZMQ_LINGER, &zero, sizeof zero);
            if (ivl > 0) {
                zmq_setsockopt (s, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl);
                zmq_setsockopt (s, ZMQ_HEARTBEAT_TIMEOUT, &ttl, sizeof ttl);
            }
            zmq_setsockopt (s, ZMQ_CURVE_SERVERKEY, srv.public_key, 40);
            zmq_setsockopt (s, ZMQ_CURVE_PUBLICKEY, me.public_key, 40);
            zmq_setsockopt (s, ZMQ_CURVE_SECRETKEY, me.secret_key, 40);
            if (zmq_connect (s, endpoint) ||
                zmq_send (s, hello.data, hello.len, 0) != (int)hello.len) {
                fprintf (stderr, "bench_many: connect %d: %s\n", i,
                         zmq_strerror (errno));
                return 1;
            }
            sock[i] = s;
            items[i].socket = s;
            items[i].events = ZMQ_POLLIN;
        }
        /* each answered: its Curve handshake done, its HELLO seen */
        int left = last - first;
        double until = s_now_ms () + 60000;
        while (left > 0 && s_now_ms () < until) {
            if (zmq_poll (items + first, last - first, 1000) < 0)
                break;
            for (int i = first; i < last; i++)
                if ((items[i].revents & ZMQ_POLLIN) &&
                    zmq_recv (sock[i], buf, sizeof buf, ZMQ_DONTWAIT) >= 0 &&
                    !answered[i]) {
                    answered[i] = 1;
                    items[i].events = 0;
                    left--;
                }
        }
        if (left) {
            fprintf (stderr,
                     "bench_many: %d of %d connections not answered "
                     "within 60 s\n",
                     left, last - first);
            return 1;
        }
    }
    s_hold (n);
    for (int i = 0; i < n; i++)
        zmq_close (sock[i]);
    for (int i = 0; i < nctx; i++)
        zmq_ctx_term (ctx[i]);
    ef_buf_free (&hello);
    free (ctx);
    free (sock);
    free (items);
    free (answered);
    return 0;
}

/* ---------------------------------------------------------------- http */

static int
s_tcp (const char *host, int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons ((uint16_t)port);
    inet_pton (AF_INET, host, &a.sin_addr);
    if (fd < 0 || connect (fd, (struct sockaddr *)&a, sizeof a)) {
        if (fd >= 0)
            close (fd);
        return -1;
    }
    int one = 1;
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/*  Send a GET /health on fd and read its whole answer: 0, or -1. */
static int
s_get (int fd, int keep)
{
    char req[128], buf[8192];
    int len = snprintf (req, sizeof req,
                        "GET /health HTTP/1.1\r\nHost: x\r\nConnection: %s"
                        "\r\n\r\n",
                        keep ? "keep-alive" : "close");
    if (write (fd, req, (size_t)len) != len)
        return -1;
    size_t have = 0;
    for (;;) {
        ssize_t r = read (fd, buf + have, sizeof buf - 1 - have);
        if (r <= 0)
            return keep || have == 0 ? -1 : 0;
        have += (size_t)r;
        buf[have] = 0;
        char *end = strstr (buf, "\r\n\r\n");
        const char *cl = strcasestr (buf, "content-length:");
        if (end && cl && strncmp (buf, "HTTP/1.1 200", 12) == 0 &&
            have >= (size_t)(end + 4 - buf) + (size_t)atol (cl + 15))
            return 0;
        if (end && strncmp (buf, "HTTP/1.1 200", 12) != 0)
            return -1;
        if (have >= sizeof buf - 1)
            return -1;
    }
}

static int
s_http (const char *host, int port, int n)
{
    int *fds = calloc ((size_t)n, sizeof *fds);
    if (!fds)
        return 1;
    for (int i = 0; i < n; i++) {
        fds[i] = s_tcp (host, port);
        if (fds[i] < 0 || s_get (fds[i], 1)) {
            fprintf (stderr,
                     "bench_many: keep-alive connection %d to %s:%d failed\n",
                     i, host, port);
            return 1;
        }
    }
    s_hold (n);
    /* how many the server closed meanwhile (an idle keep-alive's time) */
    int gone = 0;
    for (int i = 0; i < n; i++) {
        char c;
        if (recv (fds[i], &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
            gone++;
        close (fds[i]);
    }
    printf ("closed by the server %d of %d\n", gone, n);
    free (fds);
    return 0;
}

static int
s_httplat (const char *host, int port, int n)
{
    double *ms = calloc ((size_t)n, sizeof *ms);
    int got = 0, errors = 0;
    for (int i = 0; i < n; i++) {
        double t0 = s_now_ms ();
        int fd = s_tcp (host, port);
        if (fd >= 0 && s_get (fd, 0) == 0)
            ms[got++] = s_now_ms () - t0;
        else
            errors++;
        if (fd >= 0)
            close (fd);
        usleep (10000);
    }
    s_print_lat (ms, got, errors);
    free (ms);
    return 0;
}

/* ---------------------------------------------------------------- load */

static int
s_load (const char *dir, const char *endpoint, int seconds, int rate)
{
    ef_client_t *c = bench_connect (dir, endpoint, 10000);
    if (!c)
        return 1;
    int n = seconds * rate, got = 0, errors = 0;
    double *ms = calloc ((size_t)n, sizeof *ms);
    double start = s_now_ms (), gap = 1000.0 / rate;
    for (int i = 0; i < n; i++) {
        double due = start + i * gap, now = s_now_ms ();
        if (due > now)
            usleep ((useconds_t)((due - now) * 1000));
        ef_event_in_t ev = {.type = ef_str ("bench.many"),
                            .payload = ef_str ("{\"n\":1,\"text\":\"steady "
                                               "light load\"}")};
        ef_publish_result_t res;
        double t0 = s_now_ms ();
        if (ef_client_publish (c, "many", &ev, 1, &res) == 0 && res.code == 0)
            ms[got++] = s_now_ms () - t0;
        else
            errors++;
    }
    s_print_lat (ms, got, errors);
    free (ms);
    ef_client_destroy (&c);
    return 0;
}

int
main (int argc, char **argv)
{
    s_files ();
    if (argc == 5 && !strcmp (argv[1], "native"))
        return s_native (argv[2], argv[3], atoi (argv[4]));
    if (argc == 5 && !strcmp (argv[1], "http"))
        return s_http (argv[2], atoi (argv[3]), atoi (argv[4]));
    if (argc == 5 && !strcmp (argv[1], "httplat"))
        return s_httplat (argv[2], atoi (argv[3]), atoi (argv[4]));
    if (argc == 6 && !strcmp (argv[1], "load"))
        return s_load (argv[2], argv[3], atoi (argv[4]), atoi (argv[5]));
    fprintf (stderr, "usage: bench_many native DIR ENDPOINT N | http HOST "
                     "PORT N | httplat HOST PORT N | load DIR ENDPOINT "
                     "SECONDS RATE\n");
    return 2;
}
