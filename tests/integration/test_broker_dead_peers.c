/*  Peers that vanish without a FIN, and peers that come back with the
    routing id they had (issue 14, item 4), against a real broker with
    --heartbeat-timeout 1000. A worker process holding a job, and a
    consumer group member process holding a lease, are stopped with
    SIGSTOP (their sockets stay open: nothing tells the broker); within
    the heartbeat timeout plus 1 s the job runs on another worker and the
    lease goes to another member (leases last 30 s here, so only the
    broker noticing the connection gone can do that). A member that is
    alive but idle keeps its lease. A subscriber stopped after its credit
    ran out loses its subscription (debug log "subscription dropped"),
    though the broker had nothing to push to it. A worker, a member and a producer
    that connect again with their routing id (ZMQ_ROUTING_ID) take their
    place over: the job the old connection held runs again on the new
    one, the member gets its own lease again, the producer's publish is
    answered on the new one and stored once; nothing is lost.
    Each run prints the detection times it measured ("figure: NAME MS");
    tests/chaos/dead_peers.sh repeats it, and with EF_DEAD_PEERS_DROP=1
    (as root) the peers vanish by iptables dropping their packets
    instead of SIGSTOP. */
#define _GNU_SOURCE
#include "harness.h"
#include "eventflow/ef_consumer.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_time.h"
#include "eventflow/ef_worker.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>
#include <cmocka.h>

#define WAIT_MS      20000 /* a deadline for what must happen, not a timing */
#define HEARTBEAT_MS 1000
#define BOUND_MS     (HEARTBEAT_MS + 1000) /* what issue 14 allows */

static char s_dir[256];
static h_broker_t s_broker;
static ef_client_t *s_admin;

/* ---------------------------------------------------------------- helpers */

static void
s_create (const char *name, const char *pipeline)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_CREATE_STREAM;
    req.name = ef_str (name);
    req.pipeline = ef_str (pipeline);
    assert_int_equal (ef_client_call (s_admin, &req, &rep), 0);
}

static uint64_t
s_pub (const char *stream, uint32_t n)
{
    ef_event_in_t ev = {.type = ef_str ("dead.test"),
                        .payload = ef_str ("{\"n\":1}")};
    ef_publish_result_t res;
    uint64_t seq = 0;
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal (ef_client_publish (s_admin, stream, &ev, 1, &res), 0);
        assert_int_equal (res.code, 0);
        seq = res.seq;
    }
    return seq;
}

static void
s_figure (const char *name, int64_t ms)
{
    printf ("figure: %s %lld\n", name, (long long)ms);
    fflush (stdout);
}

static int
s_count (void *arg, const ef_event_t *ev)
{
    (void)ev;
    (*(uint32_t *)arg)++;
    return 0;
}

/*  Events member gets from one fetch of group g on stream (leases). */
static uint32_t
s_fetch (ef_client_t *c, const char *stream, const char *member)
{
    uint32_t n = 0;
    if (ef_client_fetch (c, stream, "g", member, 10, 0, s_count, &n, NULL))
        return 0;
    return n;
}

/* ------------------------------------------------------- vanishing peers */

/*  How a peer vanishes: SIGSTOP (the default), or (EF_DEAD_PEERS_DROP=1,
    root) iptables dropping the packets of its connections to the broker,
    which is what a host that vanishes looks like from here. */
typedef struct {
    pid_t pid;
    int said;     /* what it says (a byte a step) comes on this pipe */
    int ports[4]; /* the peer's local ports to the broker (drop) */
    int nports;
} s_peer_t;

static int
s_drop_mode (void)
{
    const char *v = getenv ("EF_DEAD_PEERS_DROP");
    return v && *v == '1';
}

static int
s_broker_port (void)
{
    const char *colon = strrchr (s_broker.endpoint, ':');
    return colon ? atoi (colon + 1) : 0;
}

/*  The local ports of pid's TCP connections to the broker (from ss). */
static void
s_peer_ports (s_peer_t *p)
{
    char cmd[128], line[512], want[32];
    snprintf (cmd, sizeof cmd, "ss -Htnp state established 2>/dev/null");
    snprintf (want, sizeof want, "pid=%d,", (int)p->pid);
    /* (a forked child shares the parent's sockets: those are not its) */
    char parent[32];
    snprintf (parent, sizeof parent, "pid=%d,", (int)getpid ());
    FILE *f = popen (cmd, "r");
    assert_non_null (f);
    p->nports = 0;
    while (fgets (line, sizeof line, f)) {
        int lport, rport;
        char local[64], remote[64];
        if (!strstr (line, want) || strstr (line, parent) ||
            sscanf (line, "%*d %*d %63s %63s", local, remote) != 2)
            continue;
        char *lc = strrchr (local, ':'), *rc = strrchr (remote, ':');
        if (!lc || !rc)
            continue;
        lport = atoi (lc + 1), rport = atoi (rc + 1);
        if (rport == s_broker_port () && p->nports < 4)
            p->ports[p->nports++] = lport;
    }
    pclose (f);
    assert_true (p->nports > 0);
}

static void
s_iptables (const char *op, int port)
{
    char cmd[200];
    snprintf (cmd, sizeof cmd,
              "iptables -%s INPUT -i lo -p tcp --sport %d -j DROP && "
              "iptables -%s INPUT -i lo -p tcp --dport %d -j DROP",
              op, port, op, port);
    assert_int_equal (system (cmd), 0);
}

/*  Make the peer vanish: its monotonic time then. */
static int64_t
s_vanish (s_peer_t *p)
{
    if (s_drop_mode ()) {
        s_peer_ports (p);
        int64_t t = ef_time_mono_ms ();
        for (int i = 0; i < p->nports; i++)
            s_iptables ("I", p->ports[i]);
        return t;
    }
    int64_t t = ef_time_mono_ms ();
    assert_int_equal (kill (p->pid, SIGSTOP), 0);
    return t;
}

static void
s_peer_end (s_peer_t *p)
{
    kill (p->pid, SIGKILL);
    waitpid (p->pid, NULL, 0);
    close (p->said);
    if (s_drop_mode ())
        for (int i = 0; i < p->nports; i++)
            s_iptables ("D", p->ports[i]);
}

/*  Fork a peer running fn (a new client of its own: nothing of the
    parent's ZeroMQ is touched), which writes a byte to the pipe at each
    step the test waits for (s_peer_said), and in the end never answers
    again. */
typedef void (s_child_fn) (int out);

static s_peer_t
s_peer_start (s_child_fn *fn)
{
    int fds[2];
    assert_int_equal (pipe (fds), 0);
    s_peer_t p = {0};
    p.pid = fork ();
    assert_true (p.pid >= 0);
    if (p.pid == 0) {
        close (fds[0]);
        fn (fds[1]);
        _exit (1);
    }
    close (fds[1]);
    p.said = fds[0];
    return p;
}

/*  Wait for the peer's next step: it wrote byte c (a peer that died
    closes the pipe: the read fails). */
static void
s_peer_said (s_peer_t *p, char c)
{
    char got = 0;
    assert_int_equal (read (p->said, &got, 1), 1);
    assert_int_equal (got, c);
}

/*  A member "a" that leases what there is and then idles. */
static void
s_member_child (int out)
{
    ef_client_t *c = h_client (&s_broker);
    uint32_t n = c ? s_fetch (c, "leases", "a") : 0;
    if (write (out, "m", 1) != 1 || n == 0)
        _exit (1);
    for (;;)
        pause ();
}

/*  A subscriber with a credit of one that takes the event pushed to it
    and then never asks for more: the broker has nothing to send it. */
static int
s_take_and_idle (void *arg, const ef_event_t *ev)
{
    (void)ev;
    if (write (*(int *)arg, "e", 1) != 1)
        _exit (1);
    for (;;)
        pause ();
    return 0;
}

static void
s_subscriber_child (int out)
{
    ef_client_t *c = h_client (&s_broker);
    ef_consumer_t *k = c ? ef_consumer_new (c, "subs", "idle") : NULL;
    if (!k || ef_consumer_start (k, 1))
        _exit (1);
    for (;;)
        ef_consumer_poll (k, 1000, s_take_and_idle, &out);
}

/*  A worker that holds the first job it gets (its keeper goes on saying
    READY while the handler runs). */
static int s_child_out;

static void
s_hold_job (void *arg, const ef_job_t *job, ef_job_outcome_t *out)
{
    (void)arg, (void)job, (void)out;
    if (write (s_child_out, "j", 1) != 1)
        _exit (1);
    for (;;)
        pause ();
}

static void
s_worker_child (int out)
{
    s_child_out = out;
    ef_client_t *c = h_client (&s_broker);
    ef_worker_t *wk = c ? ef_worker_new (c, "hold", 1) : NULL;
    if (!wk || ef_worker_start (wk) || write (out, "r", 1) != 1)
        _exit (1);
    for (;;)
        if (ef_worker_poll (wk, 500, s_hold_job, NULL) < 0)
            _exit (1);
}

/* ---------------------------------------------------- the other worker */

typedef struct {
    int64_t got_at; /* atomic: when its first job came (mono ms) */
} wk_t;

static void
s_take_job (void *arg, const ef_job_t *job, ef_job_outcome_t *out)
{
    (void)job, (void)out;
    wk_t *w = arg;
    int64_t zero = 0, now = ef_time_mono_ms ();
    __atomic_compare_exchange_n (&w->got_at, &zero, now, 0, __ATOMIC_SEQ_CST,
                                 __ATOMIC_SEQ_CST);
}

static int
s_flag (void *arg)
{
    return *(volatile int *)arg != 0;
}

static int
s_got_job (void *arg)
{
    return __atomic_load_n (&((wk_t *)arg)->got_at, __ATOMIC_SEQ_CST) != 0;
}

/*  h_wait_until: the broker counts n workers (STATS processing.workers). */
static uint64_t
s_workers (void)
{
    ef_request_t req = {.cmd = EF_CMD_STATS};
    const ef_reply_t *rep;
    ef_mpr_t r;
    uint32_t n;
    assert_int_equal (ef_client_call (s_admin, &req, &rep), 0);
    assert_int_equal (ef_proto_reply_find (rep, "processing", &r), 0);
    assert_int_equal (ef_mpr_map (&r, &n), 0);
    for (uint32_t i = 0; i < n; i++) {
        ef_str_t k;
        uint64_t v;
        assert_int_equal (ef_mpr_str (&r, &k), 0);
        if (ef_str_eq (k, "workers")) {
            assert_int_equal (ef_mpr_uint (&r, &v), 0);
            return v;
        }
        assert_int_equal (ef_mpr_skip (&r, EF_MSGPACK_DEPTH), 0);
    }
    fail_msg ("no workers in STATS");
    return 0;
}

static int
s_workers_are (void *arg)
{
    return s_workers () == *(uint64_t *)arg;
}

/* ----------------------------------------------------------------- setup */

static int
s_setup (void **state)
{
    (void)state;
    const char *extra[] = {"--heartbeat-timeout", "1000", "--log-level",
                           "debug", NULL};
    if (h_tempdir (s_dir) || h_broker_start (&s_broker, s_dir, extra))
        return -1;
    s_admin = h_client (&s_broker);
    return s_admin ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void)state;
    ef_client_destroy (&s_admin);
    int rc = h_broker_stop (&s_broker);
    h_rmrf (s_dir);
    return rc == 0 ? 0 : -1;
}

/* ----------------------------------------------------------------- tests */

/*  A worker process stopped while it holds a job: the job runs on the
    other worker within the heartbeat timeout plus 1 s (the step's own
    timeout is a minute, the broker's silence limit 3 s). */
static void
test_a_vanished_workers_job_goes_to_another (void **state)
{
    (void)state;
    s_create ("held", "[{\"type\":\"worker\",\"service\":\"hold\","
                      "\"max_attempts\":5,\"timeout_ms\":60000,"
                      "\"backoff\":{\"base_ms\":10,\"max_ms\":10}}]");
    s_peer_t child = s_peer_start (s_worker_child);
    s_peer_said (&child, 'r');
    /* the job reaches the child before the other worker exists */
    s_pub ("held", 1);
    s_peer_said (&child, 'j');
    wk_t w = {0};
    h_worker_t hw = {&s_broker, "hold", s_take_job, &w};
    assert_int_equal (h_worker_start (&hw), 0);
    assert_int_equal (h_wait_until (s_flag, (void *)&hw.ready, WAIT_MS), 0);
    uint64_t two = 2;
    assert_int_equal (h_wait_until (s_workers_are, &two, WAIT_MS), 0);

    int64_t gone = s_vanish (&child);
    int rc = h_wait_until (s_got_job, &w, WAIT_MS);
    int64_t took = w.got_at - gone;
    h_worker_stop (&hw);
    s_peer_end (&child);
    assert_int_equal (rc, 0);
    s_figure ("worker_detected_ms", took);
    if (took > BOUND_MS)
        fail_msg ("the job came to the other worker %lld ms after its worker "
                  "vanished; the bound is %d",
                  (long long)took, BOUND_MS);
}

static int
s_b_gets (void *arg)
{
    (void)arg;
    return s_fetch (s_admin, "leases", "b") > 0;
}

/*  A member process stopped while it holds a lease (30 s): another
    member gets the lease within the heartbeat timeout plus 1 s. While
    the member lived, idle for longer than that, its lease held. */
static void
test_a_vanished_members_lease_goes_to_another (void **state)
{
    (void)state;
    s_create ("leases", NULL);
    s_pub ("leases", 3);
    s_peer_t child = s_peer_start (s_member_child);
    s_peer_said (&child, 'm');
    /* alive and idle past the bound: its lease holds */
    assert_int_equal (h_wait_until (s_b_gets, NULL, BOUND_MS + 500), -1);

    int64_t gone = s_vanish (&child);
    int rc = h_wait_until (s_b_gets, NULL, WAIT_MS);
    int64_t took = ef_time_mono_ms () - gone;
    s_peer_end (&child);
    assert_int_equal (rc, 0);
    s_figure ("member_detected_ms", took);
    if (took > BOUND_MS)
        fail_msg ("the lease went to another member %lld ms after its member "
                  "vanished; the bound is %d",
                  (long long)took, BOUND_MS);
}

/*  A subscriber process that vanished after its credit ran out (the
    broker had nothing more to send it): its subscription is dropped all
    the same, once the broker's ping to it fails. */
static void
test_a_vanished_subscribers_subscription_is_dropped (void **state)
{
    (void)state;
    s_create ("subs", NULL);
    s_pub ("subs", 3);
    s_peer_t child = s_peer_start (s_subscriber_child);
    s_peer_said (&child, 'e');
    s_vanish (&child);
    int rc =
        h_log_wait (s_broker.log_path, "\"subscription dropped\"", 1, WAIT_MS);
    s_peer_end (&child);
    assert_int_equal (rc, 0);
}

/* ------------------------------------------------------ reused routing id */

/*  A raw DEALER with routing id rid that does not reconnect by itself
    (the broker closing it when the new one takes over is final); with
    handshaken, returned once its CurveZMQ handshake is done, so that a
    connection made after it is the newer one at the broker too (the
    broker's I/O threads finish handshakes in any order). */
static void *
s_dealer_made (void *ctx, const char *rid, int handshaken)
{
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    int timeout = WAIT_MS, zero = 0, never = -1;
    zmq_setsockopt (s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt (s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (s, ZMQ_RECONNECT_IVL, &never, sizeof never);
    zmq_setsockopt (s, ZMQ_ROUTING_ID, rid, strlen (rid));
    assert_int_equal (h_curve_socket (&s_broker, s), 0);
    void *mon = NULL;
    if (handshaken) {
        char addr[64];
        snprintf (addr, sizeof addr, "inproc://dead-peers-%p", s);
        assert_int_equal (
            zmq_socket_monitor (s, addr, ZMQ_EVENT_HANDSHAKE_SUCCEEDED), 0);
        mon = zmq_socket (ctx, ZMQ_PAIR);
        zmq_setsockopt (mon, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
        assert_int_equal (zmq_connect (mon, addr), 0);
    }
    assert_int_equal (zmq_connect (s, s_broker.endpoint), 0);
    if (mon) {
        char ev[64];
        assert_true (zmq_recv (mon, ev, sizeof ev, 0) >= 6); /* the event */
        assert_true (zmq_recv (mon, ev, sizeof ev, 0) >= 0); /* its endpoint */
        zmq_close (mon);
    }
    return s;
}

static void *
s_dealer (void *ctx, const char *rid)
{
    return s_dealer_made (ctx, rid, 0);
}

static void
s_send (void *s, const ef_request_t *req)
{
    ef_buf_t b;
    ef_buf_init (&b);
    assert_int_equal (ef_proto_encode_request (&b, req), 0);
    assert_int_equal (zmq_send (s, b.data, b.len, 0), (int)b.len);
    ef_buf_free (&b);
}

/*  The next frame on s that is the reply to id (id 0: a job push), its
    bytes in buf; heartbeats and other pushes are skipped. */
static ef_reply_t
s_recv (void *s, uint64_t id, char *buf, size_t size)
{
    ef_reply_t rep;
    ef_mpr_t job;
    for (;;) {
        int n = zmq_recv (s, buf, size, 0);
        if (n <= 0)
            fail_msg ("no frame for id %llu within %d ms",
                      (unsigned long long)id, WAIT_MS);
        assert_int_equal (ef_proto_decode_reply (buf, (size_t)n, &rep), 0);
        int is_job = ef_proto_reply_find (&rep, "job", &job) == 0;
        if (id ? rep.id == id && !is_job : is_job)
            return rep;
    }
}

/*  The job_id of a job push. */
static void
s_job_id (const ef_reply_t *rep, char *out, size_t size)
{
    ef_mpr_t job;
    uint32_t n;
    out[0] = 0;
    assert_int_equal (ef_proto_reply_find (rep, "job", &job), 0);
    assert_int_equal (ef_mpr_map (&job, &n), 0);
    for (uint32_t i = 0; i < n; i++) {
        ef_str_t k, v;
        assert_int_equal (ef_mpr_str (&job, &k), 0);
        if (ef_str_eq (k, "job_id")) {
            assert_int_equal (ef_mpr_str (&job, &v), 0);
            snprintf (out, size, "%.*s", (int)v.len, v.ptr);
            return;
        }
        assert_int_equal (ef_mpr_skip (&job, EF_MSGPACK_DEPTH), 0);
    }
}

static int
s_status (void *arg, const ef_event_t *ev)
{
    snprintf (arg, 16, "%.*s", (int)ev->status.len,
              ev->status.ptr ? ev->status.ptr : "");
    return 1;
}

/*  h_wait_until: the event at seq of "reused" is PROCESSED. */
static int
s_processed (void *arg)
{
    char status[16] = "";
    if (ef_client_read (s_admin, "reused", *(uint64_t *)arg - 1, 1, s_status,
                        status, NULL, NULL))
        return -1;
    return strcmp (status, "PROCESSED") == 0;
}

/*  A worker connects again with its routing id while the old connection
    still holds a job: the new connection takes the id over (READY is
    answered) and the job runs again on it (not after the step's minute
    of timeout); answered there, the event is processed. */
static void
test_a_worker_back_with_its_routing_id_gets_its_job_again (void **state)
{
    (void)state;
    char buf[65536], first[64], again[64];
    s_create ("reused", "[{\"type\":\"worker\",\"service\":\"reuse\","
                        "\"max_attempts\":5,\"timeout_ms\":60000,"
                        "\"backoff\":{\"base_ms\":10,\"max_ms\":10}}]");
    void *ctx = zmq_ctx_new ();
    void *old = s_dealer (ctx, "worker-7");
    ef_request_t ready = {0};
    ready.cmd = EF_CMD_READY;
    ready.id = 1;
    ready.service = ef_str ("reuse");
    s_send (old, &ready);
    s_recv (old, 1, buf, sizeof buf);
    uint64_t seq = s_pub ("reused", 1);
    ef_reply_t rep = s_recv (old, 0, buf, sizeof buf);
    s_job_id (&rep, first, sizeof first);

    void *fresh = s_dealer (ctx, "worker-7");
    ready.id = 2;
    s_send (fresh, &ready);
    s_recv (fresh, 2, buf, sizeof buf); /* the id is the new one's */
    rep = s_recv (fresh, 0, buf, sizeof buf);
    s_job_id (&rep, again, sizeof again);
    assert_string_not_equal (first, again); /* the next attempt */

    ef_request_t done = {0};
    done.cmd = EF_CMD_DONE;
    done.id = 3;
    done.job_id = ef_str (again);
    s_send (fresh, &done);
    s_recv (fresh, 3, buf, sizeof buf);
    assert_int_equal (h_wait_until (s_processed, &seq, WAIT_MS), 0);
    zmq_close (old);
    zmq_close (fresh);
    zmq_ctx_term (ctx);
}

/*  A group member connects again with its routing id: its fetch there
    gets its own open lease again, and its commit there moves the offset
    over all of it: nothing leased to the old connection is lost. */
static void
test_a_member_back_with_its_routing_id_keeps_its_lease (void **state)
{
    (void)state;
    char buf[65536];
    s_create ("rejoin", NULL);
    s_pub ("rejoin", 3);
    void *ctx = zmq_ctx_new ();
    void *old = s_dealer (ctx, "member-7");
    ef_request_t fetch = {0};
    fetch.v = EF_PROTO_VERSION;
    fetch.cmd = EF_CMD_FETCH;
    fetch.id = 1;
    fetch.stream = ef_str ("rejoin");
    fetch.group = ef_str ("g");
    fetch.consumer_id = ef_str ("m");
    fetch.limit = 10;
    s_send (old, &fetch);
    ef_reply_t rep = s_recv (old, 1, buf, sizeof buf);
    assert_true (rep.ok);

    void *fresh = s_dealer (ctx, "member-7");
    fetch.id = 2;
    s_send (fresh, &fetch);
    rep = s_recv (fresh, 2, buf, sizeof buf);
    assert_true (rep.ok);
    ef_mpr_t r;
    uint32_t n;
    assert_int_equal (ef_proto_reply_find (&rep, "events", &r), 0);
    assert_int_equal (ef_mpr_array (&r, &n), 0);
    assert_int_equal (n, 3); /* its own lease again, all of it */
    char next[40] = "";
    assert_int_equal (ef_proto_reply_find (&rep, "next_offset", &r), 0);
    ef_str_t id;
    assert_int_equal (ef_mpr_str (&r, &id), 0);
    snprintf (next, sizeof next, "%.*s", (int)id.len, id.ptr);

    ef_request_t commit = fetch;
    commit.cmd = EF_CMD_COMMIT;
    commit.id = 3;
    commit.last_event_id = ef_str (next);
    s_send (fresh, &commit);
    rep = s_recv (fresh, 3, buf, sizeof buf);
    assert_true (rep.ok);
    /* nothing is left for anyone */
    assert_int_equal (s_fetch (s_admin, "rejoin", "other"), 0);
    zmq_close (old);
    zmq_close (fresh);
    zmq_ctx_term (ctx);
}

/*  A producer connects again with its routing id while its publish on
    the old connection may still be answered there: it publishes the same
    event (its own id) again on the new one, which is answered (the id is
    the new connection's now), and the event is stored once. */
static void
test_a_producer_back_with_its_routing_id_loses_nothing (void **state)
{
    (void)state;
    char buf[65536];
    s_create ("again", NULL);
    ef_event_in_t ev = {.type = ef_str ("dead.test"),
                        .payload = ef_str ("{\"n\":1}"),
                        .event_id =
                            ef_str ("01890a5d-ac96-774b-bcce-b302099a8057")};
    ef_request_t pub = {0};
    pub.v = EF_PROTO_VERSION;
    pub.cmd = EF_CMD_PUBLISH;
    pub.id = 1;
    pub.stream = ef_str ("again");
    pub.events = &ev;
    pub.n_events = 1;
    void *ctx = zmq_ctx_new ();
    void *old = s_dealer_made (ctx, "producer-7", 1);
    s_send (old, &pub); /* its answer is not waited for */
    void *fresh = s_dealer (ctx, "producer-7");
    pub.id = 2;
    s_send (fresh, &pub);
    ef_reply_t rep = s_recv (fresh, 2, buf, sizeof buf);
    assert_true (rep.ok);
    ef_stream_info_t si;
    assert_int_equal (ef_client_get_stream (s_admin, "again", &si), 0);
    assert_int_equal (si.events, 1);
    zmq_close (old);
    zmq_close (fresh);
    zmq_ctx_term (ctx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_vanished_workers_job_goes_to_another),
        cmocka_unit_test (test_a_vanished_members_lease_goes_to_another),
        cmocka_unit_test (test_a_vanished_subscribers_subscription_is_dropped),
        cmocka_unit_test (
            test_a_worker_back_with_its_routing_id_gets_its_job_again),
        cmocka_unit_test (
            test_a_member_back_with_its_routing_id_keeps_its_lease),
        cmocka_unit_test (
            test_a_producer_back_with_its_routing_id_loses_nothing),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
