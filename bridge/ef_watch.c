/*  ef_watch.c: whether the broker is there (see ef_watch.h). One thread
    polls three things: the socket monitor's events, the PING replies, and
    a pipe by which callers wake it (a report, or the stop). */
#define _GNU_SOURCE /* pipe2 */
#include "ef_watch.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_proto.h"
#include "eventflow/ef_time.h"

#include <zmq.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_PING_UP_MS   1000 /* a PING a second while the broker is up */
#define S_PING_DOWN_MS 100  /* and ten while it is away */

/*  What the monitor reports: a handshake done (up, once a PING is
    answered) or a connection lost or refused (down). */
#define S_EVENTS                                                               \
    (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |                  \
     ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |        \
     ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

struct ef_watch {
    char *endpoint;
    ef_cert_t gateway;
    char server_key[41];
    int plain;
    int ping_timeout_ms;
    ef_log_t *log;
    _Atomic int up;
    _Atomic int stopping;
    int wake[2]; /* callers write a byte: look again */
    void *ctx;
    pthread_t thread;
    int running;
};

ef_watch_t *
ef_watch_new (const char *endpoint, const ef_cert_t *gateway,
              const char *server_key, int ping_timeout_ms, ef_log_t *log)
{
    ef_watch_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->wake[0] = self->wake[1] = -1;
    self->endpoint = strdup (endpoint);
    if (!self->endpoint || pipe2 (self->wake, O_NONBLOCK | O_CLOEXEC)) {
        ef_watch_destroy (&self);
        return NULL;
    }
    if (gateway && server_key) {
        self->gateway = *gateway;
        snprintf (self->server_key, sizeof self->server_key, "%s", server_key);
    } else
        self->plain = 1;
    self->ping_timeout_ms = ping_timeout_ms;
    self->log = log;
    atomic_init (&self->up, 1);
    return self;
}

/*  Record the verdict; say so in the log when it changes. */
static void
s_set (ef_watch_t *self, int up, const char *why)
{
    if (atomic_exchange (&self->up, up) == up)
        return;
    if (up)
        ef_log_info (self->log, "broker reachable", "\"broker\":\"%s\"",
                     self->endpoint);
    else
        ef_log_warn (self->log, "broker unreachable",
                     "\"broker\":\"%s\",\"why\":\"%s\"", self->endpoint, why);
}

int
ef_watch_up (const ef_watch_t *self)
{
    return atomic_load_explicit (&self->up, memory_order_relaxed);
}

void
ef_watch_report (ef_watch_t *self)
{
    s_set (self, 0, "a request went unanswered");
    ssize_t n = write (self->wake[1], "r", 1);
    (void)n; /* a full pipe has a wake-up in it already */
}

/* ---------------------------------------------------------------- thread */

typedef struct {
    void *sock, *mon;
    uint64_t next_id;
    uint64_t waiting; /* id of the PING in flight, 0 for none */
    int64_t sent_at;
    int64_t next_ping;
    int linked; /* a handshake done, no disconnect since */
    ef_buf_t out;
} s_state_t;

static void
s_ping (ef_watch_t *self, s_state_t *s, int64_t now)
{
    ef_request_t req;
    memset (&req, 0, sizeof req);
    req.v = EF_PROTO_VERSION;
    req.id = s->next_id++;
    req.cmd = EF_CMD_PING;
    ef_buf_reset (&s->out);
    if (ef_proto_encode_request (&s->out, &req) || s->out.oom)
        return;
    if (zmq_send (s->sock, s->out.data, s->out.len, ZMQ_DONTWAIT) < 0)
        return; /* no connection to send on: the monitor will tell */
    s->waiting = req.id;
    s->sent_at = now;
    s->next_ping = now + (ef_watch_up (self) ? S_PING_UP_MS : S_PING_DOWN_MS);
}

/*  One monitor event: two frames, [event u16, value u32] and the address. */
static void
s_on_event (ef_watch_t *self, s_state_t *s)
{
    zmq_msg_t m;
    zmq_msg_init (&m);
    if (zmq_msg_recv (&m, s->mon, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&m);
        return;
    }
    uint16_t event = 0;
    if (zmq_msg_size (&m) >= 2)
        memcpy (&event, zmq_msg_data (&m), 2);
    while (zmq_msg_more (&m) && zmq_msg_recv (&m, s->mon, 0) >= 0)
        ;
    zmq_msg_close (&m);
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        s->linked = 1;
        s->next_ping = 0; /* ask at once */
        return;
    }
    s->linked = 0;
    s->waiting = 0;
    s_set (self, 0,
           event == ZMQ_EVENT_DISCONNECTED            ? "disconnected"
           : event == ZMQ_EVENT_CONNECT_RETRIED       ? "connection refused"
           : event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ? "handshake refused"
                                                      : "handshake failed");
}

/*  Every reply waiting: any answer to a PING shows the broker serving. */
static void
s_on_replies (ef_watch_t *self, s_state_t *s)
{
    zmq_msg_t m;
    zmq_msg_init (&m);
    while (zmq_msg_recv (&m, s->sock, ZMQ_DONTWAIT) >= 0) {
        ef_reply_t rep;
        if (ef_proto_decode_reply (zmq_msg_data (&m), zmq_msg_size (&m),
                                   &rep) == 0 &&
            rep.id && rep.id < s->next_id) {
            if (rep.id == s->waiting)
                s->waiting = 0;
            s_set (self, 1, NULL);
        }
    }
    zmq_msg_close (&m);
}

static void *
s_run (void *arg)
{
    ef_watch_t *self = arg;
    s_state_t s;
    memset (&s, 0, sizeof s);
    s.next_id = 1;
    ef_buf_init (&s.out);
    s.sock = zmq_socket (self->ctx, ZMQ_DEALER);
    s.mon = zmq_socket (self->ctx, ZMQ_PAIR);
    char mon_ep[64];
    snprintf (mon_ep, sizeof mon_ep, "inproc://ef-watch-%p", (void *)self);
    int zero = 0, one = 1, ivl = S_PING_DOWN_MS;
    if (s.sock && s.mon) {
        zmq_setsockopt (s.sock, ZMQ_LINGER, &zero, sizeof zero);
        zmq_setsockopt (s.sock, ZMQ_IMMEDIATE, &one, sizeof one);
        zmq_setsockopt (s.sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
        zmq_setsockopt (s.mon, ZMQ_LINGER, &zero, sizeof zero);
        if (!self->plain) {
            zmq_setsockopt (s.sock, ZMQ_CURVE_SERVERKEY, self->server_key, 40);
            zmq_setsockopt (s.sock, ZMQ_CURVE_PUBLICKEY,
                            self->gateway.public_key, 40);
            zmq_setsockopt (s.sock, ZMQ_CURVE_SECRETKEY,
                            self->gateway.secret_key, 40);
        }
    }
    if (!s.sock || !s.mon || zmq_socket_monitor (s.sock, mon_ep, S_EVENTS) ||
        zmq_connect (s.mon, mon_ep) || zmq_connect (s.sock, self->endpoint)) {
        ef_log_error (self->log, "cannot watch the broker", "\"why\":\"%s\"",
                      zmq_strerror (errno));
        goto done;
    }
    while (!atomic_load (&self->stopping)) {
        int64_t now = ef_time_mono_ms ();
        if (s.waiting && now - s.sent_at >= self->ping_timeout_ms) {
            s.waiting = 0;
            s_set (self, 0, "no answer to a ping");
        }
        if (s.linked && !s.waiting && now >= s.next_ping)
            s_ping (self, &s, now);
        /* sleep until the next thing due: a PING, or its deadline */
        int64_t due = now + S_PING_UP_MS;
        if (s.linked && !s.waiting && s.next_ping < due)
            due = s.next_ping;
        if (s.waiting && s.sent_at + self->ping_timeout_ms < due)
            due = s.sent_at + self->ping_timeout_ms;
        zmq_pollitem_t items[3] = {{s.mon, 0, ZMQ_POLLIN, 0},
                                   {s.sock, 0, ZMQ_POLLIN, 0},
                                   {NULL, self->wake[0], ZMQ_POLLIN, 0}};
        long wait = due > now ? (long)(due - now) : 0;
        if (zmq_poll (items, 3, wait) < 0 && errno != EINTR)
            break;
        if (items[2].revents & ZMQ_POLLIN) {
            char drain[64];
            while (read (self->wake[0], drain, sizeof drain) > 0)
                ;
            if (!ef_watch_up (self) && !s.waiting)
                s.next_ping = 0; /* a report: ask the broker at once */
        }
        if (items[0].revents & ZMQ_POLLIN)
            s_on_event (self, &s);
        if (items[1].revents & ZMQ_POLLIN)
            s_on_replies (self, &s);
    }
done:
    if (s.sock)
        zmq_socket_monitor (s.sock, NULL, 0);
    if (s.mon)
        zmq_close (s.mon);
    if (s.sock)
        zmq_close (s.sock);
    ef_buf_free (&s.out);
    return NULL;
}

int
ef_watch_start (ef_watch_t *self)
{
    self->ctx = zmq_ctx_new ();
    if (!self->ctx)
        return EF_ENOMEM;
    if (pthread_create (&self->thread, NULL, s_run, self))
        return EF_EINTERNAL;
    self->running = 1;
    return 0;
}

void
ef_watch_destroy (ef_watch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_watch_t *self = *self_p;
    if (self->running) {
        atomic_store (&self->stopping, 1);
        ssize_t n = write (self->wake[1], "s", 1);
        (void)n;
        pthread_join (self->thread, NULL);
    }
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    if (self->wake[0] >= 0)
        close (self->wake[0]);
    if (self->wake[1] >= 0)
        close (self->wake[1]);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}
