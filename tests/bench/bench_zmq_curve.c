/*  bench_zmq_curve: bare ZeroMQ, the limit replay is measured against
    (DESIGN.md §11): a ROUTER thread sends FRAMES frames of BYTES bytes to
    one DEALER thread over TCP on loopback, each side with its own context
    of one I/O thread (as the broker's connection and a client's are), with
    CurveZMQ or plain. Prints frames/s and bytes/s; events/s follow from
    the replay's bytes per event.
    usage: bench_zmq_curve BYTES FRAMES [curve|off] */
#include <zmq.h>

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t s_bytes;
static long s_frames;
static int s_curve;
static char s_endpoint[256];
static char s_server_pub[41], s_server_sec[41];
static pthread_mutex_t s_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t s_ready = PTHREAD_COND_INITIALIZER;

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
s_server (void *arg)
{
    (void)arg;
    void *ctx = zmq_ctx_new ();
    void *s = zmq_socket (ctx, ZMQ_ROUTER);
    int one = 1, hwm = 1000000;
    zmq_setsockopt (s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (s_curve) {
        zmq_setsockopt (s, ZMQ_CURVE_SERVER, &one, sizeof one);
        zmq_setsockopt (s, ZMQ_CURVE_SECRETKEY, s_server_sec, 40);
    }
    zmq_bind (s, "tcp://127.0.0.1:*");
    size_t len = sizeof s_endpoint;
    pthread_mutex_lock (&s_mu);
    zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, s_endpoint, &len);
    pthread_cond_signal (&s_ready);
    pthread_mutex_unlock (&s_mu);
    char *body = malloc (s_bytes);
    memset (body, 'x', s_bytes);
    zmq_msg_t id;
    zmq_msg_init (&id);
    zmq_msg_recv (&id, s, 0); /* the client's "go" */
    zmq_recv (s, body, 1, 0);
    for (long i = 0; i < s_frames; i++) {
        zmq_msg_t copy;
        zmq_msg_init (&copy);
        zmq_msg_copy (&copy, &id);
        zmq_msg_send (&copy, s, ZMQ_SNDMORE);
        zmq_send (s, body, s_bytes, 0);
    }
    zmq_recv (s, body, 1, 0); /* the client's "done" (after its routing id) */
    zmq_recv (s, body, 1, 0);
    zmq_msg_close (&id);
    free (body);
    zmq_close (s);
    zmq_ctx_term (ctx);
    return NULL;
}

int
main (int argc, char **argv)
{
    if (argc < 3) {
        fprintf (stderr, "usage: bench_zmq_curve BYTES FRAMES [curve|off]\n");
        return 2;
    }
    /* as the broker and bench_consume do: large frames stay in the heap
       (an mmap per frame costs a page fault per 4 KiB) */
    mallopt (M_MMAP_THRESHOLD, 32 << 20);
    mallopt (M_TRIM_THRESHOLD, 256 << 20);
    s_bytes = strtoull (argv[1], NULL, 10);
    s_frames = atol (argv[2]);
    s_curve = argc < 4 || strcmp (argv[3], "off") != 0;
    char pub[41], sec[41];
    zmq_curve_keypair (s_server_pub, s_server_sec);
    zmq_curve_keypair (pub, sec);
    pthread_t t;
    pthread_mutex_lock (&s_mu);
    pthread_create (&t, NULL, s_server, NULL);
    while (!s_endpoint[0])
        pthread_cond_wait (&s_ready, &s_mu);
    pthread_mutex_unlock (&s_mu);

    void *ctx = zmq_ctx_new ();
    void *c = zmq_socket (ctx, ZMQ_DEALER);
    int hwm = 1000000;
    zmq_setsockopt (c, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (s_curve) {
        zmq_setsockopt (c, ZMQ_CURVE_SERVERKEY, s_server_pub, 40);
        zmq_setsockopt (c, ZMQ_CURVE_PUBLICKEY, pub, 40);
        zmq_setsockopt (c, ZMQ_CURVE_SECRETKEY, sec, 40);
    }
    zmq_connect (c, s_endpoint);
    zmq_send (c, "g", 1, 0);
    zmq_msg_t m;
    zmq_msg_init (&m);
    double t0 = 0;
    size_t total = 0;
    for (long i = 0; i < s_frames; i++) {
        if (zmq_msg_recv (&m, c, 0) < 0)
            return 1;
        if (i == 0)
            t0 =
                s_now (); /* from the first frame: the handshake is not counted */
        total += zmq_msg_size (&m);
    }
    double secs = s_now () - t0;
    zmq_msg_close (&m);
    zmq_send (c, "d", 1, 0);
    pthread_join (t, NULL);
    zmq_close (c);
    zmq_ctx_term (ctx);
    /* the first frame started the clock: the rest are counted */
    printf ("zmq_%s_frames_per_s=%.0f bytes_per_s=%.0f frame_bytes=%zu "
            "frames=%ld\n",
            s_curve ? "curve" : "plain", (s_frames - 1) / secs,
            (double)(total - s_bytes) / secs, s_bytes, s_frames);
    return 0;
}
