/*  bench_zmq: the ceiling replay is read against (DESIGN.md §11), run on
    purpose by tests/bench/race.sh:
      probe  the frames a running broker really sends one consumer of a
             stream of stored events: a READ page (limit 10000) and a push
             (credit 1000): bytes per frame and events in it
      bare   bare ZeroMQ moving frames of SIZE bytes from a ROUTER to a
             DEALER over tcp on loopback, as fast as the pair can, with
             CurveZMQ or plain; frames/s, and events/s when each frame
             stands for EVENTS events (what probe found)
    usage: bench_zmq probe DATA_DIR ENDPOINT STREAM
           bench_zmq bare SIZE FRAMES EVENTS curve|plain
    probe connects like the other tools (EF_BENCH_CURVE=off: plain). */
#include "bench_util.h"
#include "eventflow/ef_client.h"
#include "eventflow/ef_time.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* ----------------------------------------------------------------- probe */

typedef struct {
    size_t bytes;
    uint32_t events;
} s_frame_t;

/*  Bytes of a reply frame past its header, and its events array's size. */
static void
s_measure (const ef_reply_t *rep, s_frame_t *f)
{
    ef_mpr_t r;
    f->bytes = (size_t)(rep->body.end - rep->body.p);
    if (ef_proto_reply_find (rep, "events", &r) == 0)
        ef_mpr_array (&r, &f->events);
}

static void
s_on_push (void *arg, uint64_t sub, const ef_reply_t *rep)
{
    s_frame_t *f = arg;
    (void)sub;
    if (rep->ok && !f->events)
        s_measure (rep, f);
}

static int
s_probe (const char *dir, const char *endpoint, const char *stream)
{
    ef_client_t *c = bench_connect (dir, endpoint, 30000);
    if (!c)
        return 1;
    const ef_reply_t *rep;
    s_frame_t read = {0}, push = {0};
    ef_request_t req = {0};
    req.cmd = EF_CMD_READ;
    req.stream = ef_str (stream);
    req.after = 0;
    req.limit = 10000;
    if (ef_client_call (c, &req, &rep)) {
        fprintf (stderr, "probe: READ: %s\n", ef_client_error (c));
        return 1;
    }
    s_measure (rep, &read);

    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_SUBSCRIBE;
    req.stream = ef_str (stream);
    req.group = ef_str ("probe");
    req.credit = 1000;
    ef_client_set_push_handler (c, s_on_push, &push);
    if (ef_client_call (c, &req, &rep)) {
        fprintf (stderr, "probe: SUBSCRIBE: %s\n", ef_client_error (c));
        return 1;
    }
    int64_t end = ef_time_mono_ms () + 10000;
    while (!push.events && ef_time_mono_ms () < end)
        ef_client_poll (c, 100);
    printf ("read_frame_bytes=%zu read_frame_events=%u push_frame_bytes=%zu "
            "push_frame_events=%u\n",
            read.bytes, read.events, push.bytes, push.events);
    ef_client_destroy (&c);
    return read.events && push.events ? 0 : 1;
}

/* ------------------------------------------------------------------ bare */

typedef struct {
    size_t size;
    uint64_t frames;
    int curve;
    char public_key[41], secret_key[41];
    char endpoint[64];
    pthread_mutex_t lock;
    pthread_cond_t bound;
} s_bare_t;

static void
s_check (int rc, const char *what)
{
    if (rc == -1) {
        fprintf (stderr, "bench_zmq: %s: %s\n", what,
                 zmq_strerror (zmq_errno ()));
        exit (1);
    }
}

/*  At most this many frames queued each way, as a push window of some
    tens of thousands of events would allow. */
static void
s_hwm (void *sock)
{
    int hwm = 32;
    s_check (zmq_setsockopt (sock, ZMQ_SNDHWM, &hwm, sizeof hwm), "sndhwm");
    s_check (zmq_setsockopt (sock, ZMQ_RCVHWM, &hwm, sizeof hwm), "rcvhwm");
}

/*  The sending side, on its own context (its own I/O thread), as the
    broker is a process of its own. */
static void *
s_server (void *arg)
{
    s_bare_t *b = arg;
    void *ctx = zmq_ctx_new ();
    void *sock = zmq_socket (ctx, ZMQ_ROUTER);
    s_hwm (sock);
    /* at the high-water mark wait for room, where a ROUTER would drop */
    int mandatory = 1;
    s_check (zmq_setsockopt (sock, ZMQ_ROUTER_MANDATORY, &mandatory,
                             sizeof mandatory),
             "router_mandatory");
    if (b->curve) {
        int on = 1;
        s_check (zmq_setsockopt (sock, ZMQ_CURVE_SERVER, &on, sizeof on),
                 "curve_server");
        s_check (zmq_setsockopt (sock, ZMQ_CURVE_SECRETKEY, b->secret_key, 40),
                 "curve_secretkey");
    }
    s_check (zmq_bind (sock, "tcp://127.0.0.1:*"), "bind");
    pthread_mutex_lock (&b->lock);
    size_t len = sizeof b->endpoint;
    zmq_getsockopt (sock, ZMQ_LAST_ENDPOINT, b->endpoint, &len);
    pthread_cond_signal (&b->bound);
    pthread_mutex_unlock (&b->lock);

    char peer[256], go[16];
    int plen = zmq_recv (sock, peer, sizeof peer, 0);
    s_check (plen, "recv peer");
    s_check (zmq_recv (sock, go, sizeof go, 0), "recv go");
    char *frame = malloc (b->size);
    for (size_t i = 0; i < b->size; i++)
        frame[i] = (char)(i * 131);
    for (uint64_t i = 0; i < b->frames; i++) {
        s_check (zmq_send (sock, peer, (size_t)plen, ZMQ_SNDMORE), "send peer");
        s_check (zmq_send (sock, frame, b->size, 0), "send");
    }
    /* the client says when it has them all: only then may we close */
    s_check (zmq_recv (sock, peer, sizeof peer, 0), "recv peer");
    s_check (zmq_recv (sock, go, sizeof go, 0), "recv done");
    free (frame);
    zmq_close (sock);
    zmq_ctx_term (ctx);
    return NULL;
}

static int
s_bare (size_t size, uint64_t frames, uint64_t events, int curve)
{
    s_bare_t b = {.size = size, .frames = frames, .curve = curve};
    pthread_mutex_init (&b.lock, NULL);
    pthread_cond_init (&b.bound, NULL);
    char client_pub[41], client_sec[41];
    if (curve && (zmq_curve_keypair (b.public_key, b.secret_key) ||
                  zmq_curve_keypair (client_pub, client_sec))) {
        fprintf (stderr, "bench_zmq: libzmq without CurveZMQ\n");
        return 1;
    }
    pthread_t t;
    pthread_mutex_lock (&b.lock);
    pthread_create (&t, NULL, s_server, &b);
    while (!b.endpoint[0])
        pthread_cond_wait (&b.bound, &b.lock);
    pthread_mutex_unlock (&b.lock);

    void *ctx = zmq_ctx_new ();
    void *sock = zmq_socket (ctx, ZMQ_DEALER);
    s_hwm (sock);
    if (curve) {
        s_check (zmq_setsockopt (sock, ZMQ_CURVE_SERVERKEY, b.public_key, 40),
                 "curve_serverkey");
        s_check (zmq_setsockopt (sock, ZMQ_CURVE_PUBLICKEY, client_pub, 40),
                 "curve_publickey");
        s_check (zmq_setsockopt (sock, ZMQ_CURVE_SECRETKEY, client_sec, 40),
                 "curve_secretkey");
    }
    s_check (zmq_connect (sock, b.endpoint), "connect");
    uint64_t t0 = ef_time_mono_ns ();
    s_check (zmq_send (sock, "go", 2, 0), "send go");
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    uint64_t bytes = 0;
    for (uint64_t i = 0; i < frames; i++) {
        s_check (zmq_msg_recv (&msg, sock, 0), "recv");
        bytes += zmq_msg_size (&msg);
    }
    double secs = (ef_time_mono_ns () - t0) / 1e9;
    zmq_msg_close (&msg);
    s_check (zmq_send (sock, "done", 4, 0), "send done");
    pthread_join (t, NULL);
    zmq_close (sock);
    zmq_ctx_term (ctx);
    printf ("bare_zmq_%s frame_bytes=%zu frames_per_s=%.0f MB_per_s=%.0f "
            "events_per_s=%.0f\n",
            curve ? "curve" : "plain", size, frames / secs, bytes / secs / 1e6,
            frames * (double)events / secs);
    return 0;
}

int
main (int argc, char **argv)
{
    if (argc == 5 && !strcmp (argv[1], "probe"))
        return s_probe (argv[2], argv[3], argv[4]);
    if (argc == 6 && !strcmp (argv[1], "bare"))
        return s_bare (
            strtoull (argv[2], NULL, 10), strtoull (argv[3], NULL, 10),
            strtoull (argv[4], NULL, 10), !strcmp (argv[5], "curve"));
    fprintf (stderr, "usage: bench_zmq probe DATA_DIR ENDPOINT STREAM\n"
                     "       bench_zmq bare SIZE FRAMES EVENTS curve|plain\n");
    return 2;
}
