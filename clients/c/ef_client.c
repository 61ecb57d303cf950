/*  ef_client.c: libeventflow's connection to a broker (see ef_client.h).
    One DEALER socket; requests carry increasing ids; a table of pending
    async requests indexed by id (a power-of-two ring that grows so that
    the live id span always fits) holds their callbacks and deadlines.

    ZeroMQ reconnects a DEALER silently underneath, and a new connection
    is a new peer to the broker, which forgets what was bound to the old
    one (subscriptions, worker attachments) and cannot answer requests
    sent on it. So a monitor of the socket (an inproc PAIR) reports
    disconnects and completed handshakes: a lost connection completes
    every request in flight with EF_EUNAVAILABLE at once, and each new
    connection counts a session, which is how the consumer and the worker
    learn that they must subscribe or attach again.
    Publishing and ef_client_call are here; the blocking commands built on
    ef_client_call (streams, events, groups, stats) are ef_client_calls.c. */
#include "eventflow/ef_client.h"
#include "ef_client_int.h"
#include "eventflow/ef_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <zmq.h>

#define S_DEFAULT_TIMEOUT   10000
#define S_DEFAULT_RECONNECT 5000
#define S_RECONNECT_MIN     100
#define S_RESULTS_MAX       EF_MAX_BATCH_DEFAULT

typedef struct {
    uint64_t id; /* 0 = free */
    int64_t deadline_ms;
    ef_publish_fn *cb;
    ef_commit_fn *commit_cb; /* a COMMIT's instead */
    void *arg;
} s_pending_t;

struct ef_client {
    char *endpoint;
    void *ctx;
    void *sock;
    void *monitor;     /* PAIR: the socket's connect/disconnect events */
    int link;          /* 1 while a connection to the broker is up */
    uint64_t sessions; /* connections completed so far */
    uint64_t losses;   /* connections lost so far */
    int assumed;       /* link set without the handshake's event (yet) */
    int heartbeat_ms;
    int reconnect_max_ms;
    int timeout_ms;
    uint32_t max_inflight;
    char *api_key;
    char *jwt;
    char curve_server[41], curve_public[41], curve_secret[41];
    ef_push_fn *push_fn;
    void *push_arg;
    uint64_t next_id;
    s_pending_t *pending;
    uint32_t pending_cap; /* power of two */
    uint32_t inflight;
    uint64_t oldest_id; /* lowest id that may still be pending */
    ef_buf_t out;
    zmq_msg_t reply; /* last reply to a blocking call, kept for its strings */
    int have_reply;
    ef_reply_t rep;
    ef_hello_t hello;
    ef_publish_result_t *results; /* scratch for async callbacks */
    char error[256];
};

static int
s_fail (ef_client_t *self, int code, const char *fmt, const char *detail)
{
    if (fmt)
        snprintf (self->error, sizeof self->error, fmt, detail ? detail : "");
    else
        snprintf (self->error, sizeof self->error, "%s", ef_strerror (code));
    return code;
}

ef_client_t *
ef_client_new (const char *endpoint)
{
    ef_client_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->endpoint = strdup (endpoint ? endpoint : "tcp://127.0.0.1:5555");
    self->pending_cap = 1024;
    self->pending = calloc (self->pending_cap, sizeof (s_pending_t));
    self->results = calloc (S_RESULTS_MAX, sizeof (ef_publish_result_t));
    if (!self->endpoint || !self->pending || !self->results) {
        ef_client_destroy (&self);
        return NULL;
    }
    self->timeout_ms = S_DEFAULT_TIMEOUT;
    self->heartbeat_ms = 0; /* the broker's pings only */
    self->reconnect_max_ms = S_DEFAULT_RECONNECT;
    self->max_inflight = 1024;
    self->next_id = 1;
    self->oldest_id = 1;
    ef_buf_init (&self->out);
    return self;
}

void
ef_client_destroy (ef_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_client_t *self = *self_p;
    if (self->have_reply)
        zmq_msg_close (&self->reply);
    if (self->sock) {
        int zero = 0;
        zmq_setsockopt (self->sock, ZMQ_LINGER, &zero, sizeof zero);
        zmq_close (self->sock);
    }
    if (self->monitor) {
        int zero = 0;
        zmq_setsockopt (self->monitor, ZMQ_LINGER, &zero, sizeof zero);
        zmq_close (self->monitor);
    }
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    ef_buf_free (&self->out);
    free (self->endpoint);
    free (self->pending);
    free (self->results);
    free (self->api_key);
    free (self->jwt);
    sodium_memzero (self->curve_secret, sizeof self->curve_secret);
    free (self);
    *self_p = NULL;
}

void
ef_client_set_timeout (ef_client_t *self, int timeout_ms)
{
    self->timeout_ms = timeout_ms > 0 ? timeout_ms : S_DEFAULT_TIMEOUT;
}

void
ef_client_set_heartbeat (ef_client_t *self, int heartbeat_ms)
{
    self->heartbeat_ms = heartbeat_ms > 0 ? heartbeat_ms : 0;
}

void
ef_client_set_reconnect_max (ef_client_t *self, int max_ms)
{
    self->reconnect_max_ms =
        max_ms >= S_RECONNECT_MIN ? max_ms : S_RECONNECT_MIN;
}

int
ef_client_connected (const ef_client_t *self)
{
    return self->link;
}

uint64_t
ef_client_sessions (const ef_client_t *self)
{
    return self->sessions;
}

int
ef_client_heartbeat (const ef_client_t *self)
{
    return self->heartbeat_ms;
}

int
ef_client_reconnect_max (const ef_client_t *self)
{
    return self->reconnect_max_ms;
}

void
ef_client_set_max_inflight (ef_client_t *self, uint32_t n)
{
    self->max_inflight = n ? n : 1;
}

static void
s_set_str (char **slot, const char *v)
{
    free (*slot);
    *slot = v ? strdup (v) : NULL;
}

int
ef_client_set_curve (ef_client_t *self, const char *server_public,
                     const char *client_public, const char *client_secret)
{
    if (!server_public || !client_public || !client_secret ||
        strlen (server_public) != 40 || strlen (client_public) != 40 ||
        strlen (client_secret) != 40)
        return EF_EINVAL;
    memcpy (self->curve_server, server_public, 41);
    memcpy (self->curve_public, client_public, 41);
    memcpy (self->curve_secret, client_secret, 41);
    return 0;
}

void
ef_client_set_api_key (ef_client_t *self, const char *api_key)
{
    s_set_str (&self->api_key, api_key);
}

void
ef_client_set_jwt (ef_client_t *self, const char *jwt)
{
    s_set_str (&self->jwt, jwt);
}

const ef_hello_t *
ef_client_hello (const ef_client_t *self)
{
    return &self->hello;
}

const char *
ef_client_error (const ef_client_t *self)
{
    return self->error[0] ? self->error : "no error";
}

uint32_t
ef_client_inflight (const ef_client_t *self)
{
    return self->inflight;
}

/* ---------------------------------------------------------------- sending */

static void
s_request_init (ef_client_t *self, ef_request_t *req, ef_cmd_t cmd)
{
    memset (req, 0, sizeof *req);
    req->v = EF_PROTO_VERSION;
    req->id = self->next_id++;
    req->cmd = cmd;
    req->auth_api_key = ef_str (self->api_key);
    req->auth_jwt = ef_str (self->jwt);
}

/*  A caller's request made ours: version, a new id, our credential
    unless it carries its own. */
static void
s_request_fill (ef_client_t *self, ef_request_t *req)
{
    ef_request_t base;
    s_request_init (self, &base, req->cmd);
    req->v = base.v;
    req->id = base.id;
    if (!ef_str_set (req->auth_api_key) && !ef_str_set (req->auth_jwt)) {
        req->auth_api_key = base.auth_api_key;
        req->auth_jwt = base.auth_jwt;
    }
}

static void s_watch (ef_client_t *self);

/*  Encode and send req; waits up to the timeout for room to send. */
static int
s_send (ef_client_t *self, const ef_request_t *req)
{
    if (!self->sock)
        return s_fail (self, EF_EUNAVAILABLE, "not connected", NULL);
    /* a loss the monitor told of while the socket sat idle belongs to the
       past: read it now, or it would fail the request about to go out */
    s_watch (self);
    ef_buf_reset (&self->out);
    int rc = ef_proto_encode_request (&self->out, req);
    if (rc || self->out.oom)
        return s_fail (self, rc ? rc : EF_ENOMEM, NULL, NULL);
    int64_t deadline = ef_time_mono_ms () + self->timeout_ms;
    for (;;) {
        if (zmq_send (self->sock, self->out.data, self->out.len,
                      ZMQ_DONTWAIT) >= 0)
            return 0;
        if (errno != EAGAIN)
            return s_fail (self, EF_EUNAVAILABLE, "send failed: %s",
                           zmq_strerror (errno));
        int64_t left = deadline - ef_time_mono_ms ();
        if (left <= 0)
            return s_fail (self, EF_EUNAVAILABLE, "broker unavailable at %s",
                           self->endpoint);
        zmq_pollitem_t item = {self->sock, 0, ZMQ_POLLOUT, 0};
        zmq_poll (&item, 1, left);
    }
}

/* ---------------------------------------------------------------- pending */

static int
s_pending_grow (ef_client_t *self)
{
    uint32_t cap = self->pending_cap * 2;
    s_pending_t *p = calloc (cap, sizeof *p);
    if (!p)
        return EF_ENOMEM;
    for (uint32_t i = 0; i < self->pending_cap; i++)
        if (self->pending[i].id)
            p[self->pending[i].id & (cap - 1)] = self->pending[i];
    free (self->pending);
    self->pending = p;
    self->pending_cap = cap;
    return 0;
}

static s_pending_t *
s_pending_find (ef_client_t *self, uint64_t id)
{
    s_pending_t *p = &self->pending[id & (self->pending_cap - 1)];
    return p->id == id ? p : NULL;
}

/*  Advance oldest_id past completed requests. */
static void
s_pending_trim (ef_client_t *self)
{
    while (self->oldest_id < self->next_id &&
           !s_pending_find (self, self->oldest_id))
        self->oldest_id++;
    if (self->inflight == 0)
        self->oldest_id = self->next_id;
}

static void
s_complete (ef_client_t *self, s_pending_t *p, int status,
            const ef_reply_t *rep)
{
    ef_publish_fn *cb = p->cb;
    ef_commit_fn *commit_cb = p->commit_cb;
    void *arg = p->arg;
    uint32_t n = 0;
    p->id = 0;
    self->inflight--;
    if (commit_cb) {
        commit_cb (arg, status);
        return;
    }
    if (status == 0 && rep) {
        ef_mpr_t r;
        uint32_t count;
        if (ef_proto_reply_find (rep, "results", &r) ||
            ef_mpr_array (&r, &count) || count > S_RESULTS_MAX)
            status = EF_EPROTO;
        for (uint32_t i = 0; status == 0 && i < count; i++)
            if (ef_proto_read_result (&r, &self->results[i]))
                status = EF_EPROTO;
        n = status == 0 ? count : 0;
    }
    if (cb)
        cb (arg, status, self->results, n);
}

static void
s_expire (ef_client_t *self)
{
    if (self->inflight == 0)
        return;
    int64_t now = ef_time_mono_ms ();
    for (uint64_t id = self->oldest_id; id < self->next_id; id++) {
        s_pending_t *p = s_pending_find (self, id);
        if (p && p->deadline_ms <= now) {
            snprintf (self->error, sizeof self->error,
                      "no reply from %s within %d ms", self->endpoint,
                      self->timeout_ms);
            s_complete (self, p, EF_ETIMEOUT, NULL);
        }
    }
    s_pending_trim (self);
}

/* ---------------------------------------------------------------- link */

/*  The connection is gone: no answer to what was sent on it can come. */
static void
s_fail_inflight (ef_client_t *self)
{
    for (uint64_t id = self->oldest_id; id < self->next_id; id++) {
        s_pending_t *p = s_pending_find (self, id);
        if (p)
            s_complete (self, p, EF_EUNAVAILABLE, NULL);
    }
    s_pending_trim (self);
}

/*  Read the monitor's events: a completed handshake is a new session, a
    disconnect of a live connection a loss. */
static void
s_watch (ef_client_t *self)
{
    while (self->monitor) {
        zmq_msg_t ev;
        zmq_msg_init (&ev);
        if (zmq_msg_recv (&ev, self->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&ev);
            return;
        }
        uint16_t event = 0;
        if (zmq_msg_size (&ev) >= sizeof event)
            memcpy (&event, zmq_msg_data (&ev), sizeof event);
        int more = zmq_msg_more (&ev);
        zmq_msg_close (&ev);
        while (more) { /* the endpoint's frame */
            zmq_msg_init (&ev);
            more =
                zmq_msg_recv (&ev, self->monitor, 0) >= 0 && zmq_msg_more (&ev);
            zmq_msg_close (&ev);
        }
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            self->link = 1;
            if (self->assumed)
                self->assumed = 0; /* counted already */
            else
                self->sessions++;
        } else if (event == ZMQ_EVENT_DISCONNECTED && self->link) {
            self->link = 0;
            self->losses++;
            snprintf (self->error, sizeof self->error,
                      "the connection to the broker at %s was lost",
                      self->endpoint);
            s_fail_inflight (self);
        }
    }
}

/* ---------------------------------------------------------------- receiving */

/*  A push frame says so right after id and ok; other replies are not
    walked past their first keys to find out. */
static int
s_is_push (const ef_reply_t *rep)
{
    ef_mpr_t r = rep->body;
    for (uint32_t i = 0; i < rep->nkeys && i < 3; i++) {
        ef_str_t k;
        int v = 0;
        if (ef_mpr_str (&r, &k))
            return 0;
        if (ef_str_eq (k, "push"))
            return ef_mpr_bool (&r, &v) == 0 && v;
        if (!ef_str_eq (k, "id") && !ef_str_eq (k, "ok"))
            return 0;
        ef_mpr_skip (&r, EF_MSGPACK_DEPTH);
    }
    return 0;
}

/*  Receive one frame (waiting up to timeout_ms) and dispatch it: an async
    reply runs its callback; a reply to want_id is kept in self->reply.
    Returns 1 if want_id's reply arrived, 0 if something else (or nothing)
    happened, or an error. */
static int
s_recv_one (ef_client_t *self, uint64_t want_id, int timeout_ms, int *completed)
{
    if (timeout_ms > 0) { /* else: read what is there, if anything */
        zmq_pollitem_t items[2] = {{self->sock, 0, ZMQ_POLLIN, 0},
                                   {self->monitor, 0, ZMQ_POLLIN, 0}};
        int ready = zmq_poll (items, self->monitor ? 2 : 1, timeout_ms);
        if (ready > 0 && (items[1].revents & ZMQ_POLLIN))
            s_watch (self);
        if (ready <= 0 || !(items[0].revents & ZMQ_POLLIN))
            return 0;
    }
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    if (zmq_msg_recv (&msg, self->sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&msg);
        return 0;
    }
    ef_reply_t rep;
    if (ef_proto_decode_reply (zmq_msg_data (&msg), zmq_msg_size (&msg),
                               &rep)) {
        zmq_msg_close (&msg);
        return 0; /* not ours to understand: a broken frame is dropped */
    }
    if (s_is_push (&rep)) {
        /* events a subscription pushed, or its end: not a reply to
           anything */
        if (self->push_fn)
            self->push_fn (self->push_arg, rep.id, &rep);
        zmq_msg_close (&msg);
        return 0;
    }
    if (want_id && rep.id == want_id) {
        if (self->have_reply)
            zmq_msg_close (&self->reply);
        zmq_msg_init (&self->reply);
        zmq_msg_move (&self->reply, &msg);
        self->have_reply = 1;
        /* re-decode so that rep's pointers refer to the kept frame */
        ef_proto_decode_reply (zmq_msg_data (&self->reply),
                               zmq_msg_size (&self->reply), &self->rep);
        zmq_msg_close (&msg);
        return 1;
    }
    s_pending_t *p = s_pending_find (self, rep.id);
    if (p) {
        if (rep.code && rep.err_message.ptr)
            snprintf (self->error, sizeof self->error, "%.*s",
                      (int)rep.err_message.len, rep.err_message.ptr);
        s_complete (self, p, rep.code, &rep);
        s_pending_trim (self);
        if (completed)
            (*completed)++;
    }
    zmq_msg_close (&msg);
    return 0;
}

/*  Wait for the reply to the request id sent on the connection that was
    up when losses counted what it counts (in self->rep). */
static int
s_await (ef_client_t *self, uint64_t id, uint64_t losses)
{
    int rc;
    int64_t deadline = ef_time_mono_ms () + self->timeout_ms;
    for (;;) {
        if (self->losses != losses) /* the answer cannot come now */
            return s_fail (self, EF_EUNAVAILABLE,
                           "the connection to the broker at %s was lost",
                           self->endpoint);
        int64_t left = deadline - ef_time_mono_ms ();
        if (left <= 0)
            return s_fail (self, EF_ETIMEOUT, "no reply from %s in time",
                           self->endpoint);
        rc = s_recv_one (self, id, (int)left, NULL);
        s_expire (self);
        if (rc == 1)
            break;
    }
    if (self->rep.code) {
        if (self->rep.err_message.ptr)
            snprintf (self->error, sizeof self->error, "%.*s",
                      (int)self->rep.err_message.len,
                      self->rep.err_message.ptr);
        else
            s_fail (self, self->rep.code, NULL, NULL);
        return self->rep.code;
    }
    self->error[0] = 0;
    return 0;
}

/*  Send req and wait for its reply (in self->rep). */
static int
s_call (ef_client_t *self, const ef_request_t *req)
{
    /* losses counted after the send: a loss it read was of the past */
    int rc = s_send (self, req);
    return rc ? rc : s_await (self, req->id, self->losses);
}

int
ef_client_connect (ef_client_t *self)
{
    if (!self->ctx && !(self->ctx = zmq_ctx_new ()))
        return s_fail (self, EF_ENOMEM, "cannot create a ZeroMQ context", NULL);
    if (!self->sock) {
        self->sock = zmq_socket (self->ctx, ZMQ_DEALER);
        if (!self->sock)
            return s_fail (self, EF_ENOMEM, "cannot create a socket", NULL);
        /* The broker pings every connection with a TTL (1.5 times its
           --heartbeat-timeout): ZeroMQ drops the connection when the
           broker then stays silent that long. Pings of our own only when
           asked for: the broker answers each, and with thousands of
           clients those answers would be most of its idle work
           (tests/bench/many_clients.sh). Reconnects back off from 100 ms
           to reconnect_max. */
        int hwm = 100000, one = 1, zero = 0;
        int ivl = self->heartbeat_ms, answer = self->heartbeat_ms / 5;
        int rmin = S_RECONNECT_MIN, rmax = self->reconnect_max_ms;
        zmq_setsockopt (self->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt (self->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
        zmq_setsockopt (self->sock, ZMQ_IMMEDIATE, &one, sizeof one);
        zmq_setsockopt (self->sock, ZMQ_LINGER, &zero, sizeof zero);
        if (ivl > 0) {
            zmq_setsockopt (self->sock, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl);
            zmq_setsockopt (self->sock, ZMQ_HEARTBEAT_TIMEOUT, &answer,
                            sizeof answer);
        }
        zmq_setsockopt (self->sock, ZMQ_RECONNECT_IVL, &rmin, sizeof rmin);
        zmq_setsockopt (self->sock, ZMQ_RECONNECT_IVL_MAX, &rmax, sizeof rmax);
        char addr[64];
        snprintf (addr, sizeof addr, "inproc://ef-client-%p", (void *)self);
        if (zmq_socket_monitor (self->sock, addr,
                                ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                                    ZMQ_EVENT_DISCONNECTED) == 0 &&
            (self->monitor = zmq_socket (self->ctx, ZMQ_PAIR)) &&
            zmq_connect (self->monitor, addr)) {
            zmq_close (self->monitor);
            self->monitor = NULL;
        }
        if (self->curve_server[0] &&
            (zmq_setsockopt (self->sock, ZMQ_CURVE_SERVERKEY,
                             self->curve_server, 40) ||
             zmq_setsockopt (self->sock, ZMQ_CURVE_PUBLICKEY,
                             self->curve_public, 40) ||
             zmq_setsockopt (self->sock, ZMQ_CURVE_SECRETKEY,
                             self->curve_secret, 40))) {
            int rc = s_fail (self, EF_EINVAL, "bad CurveZMQ keys%s", "");
            zmq_close (self->sock);
            self->sock = NULL;
            return rc;
        }
        if (zmq_connect (self->sock, self->endpoint)) {
            int rc =
                s_fail (self, EF_EINVAL, "bad endpoint '%s'", self->endpoint);
            zmq_close (self->sock);
            self->sock = NULL;
            return rc;
        }
    }
    ef_request_t req;
    s_request_init (self, &req, EF_CMD_HELLO);
    req.client = ef_str ("libeventflow/" EF_VERSION);
    int rc = s_call (self, &req);
    if (rc == EF_ETIMEOUT || rc == EF_EUNAVAILABLE)
        return s_fail (self, EF_EUNAVAILABLE, "no broker answering at %s",
                       self->endpoint);
    if (rc)
        return rc;
    if (ef_proto_read_hello (&self->rep, &self->hello))
        return s_fail (self, EF_EPROTO, "malformed HELLO reply", NULL);
    /* the handshake's event was posted before the answer could come */
    zmq_pollitem_t item = {self->monitor, 0, ZMQ_POLLIN, 0};
    if (self->monitor && !self->link && zmq_poll (&item, 1, 1000) > 0)
        s_watch (self);
    if (!self->link) {
        /* no monitor, or its event is late: the answer proves the link */
        self->link = 1;
        self->sessions++;
        self->assumed = self->monitor != NULL;
    }
    return 0;
}

/* ---------------------------------------------------------------- publish */

static void
s_publish_request (ef_client_t *self, ef_request_t *req, const char *stream,
                   const ef_event_in_t *events, uint32_t n)
{
    s_request_init (self, req, EF_CMD_PUBLISH);
    req->stream = ef_str (stream);
    req->events = (ef_event_in_t *)events;
    req->n_events = n;
}

int
ef_client_publish (ef_client_t *self, const char *stream,
                   const ef_event_in_t *events, uint32_t n,
                   ef_publish_result_t *results)
{
    ef_request_t req;
    s_publish_request (self, &req, stream, events, n);
    int rc = s_call (self, &req);
    if (rc)
        return rc;
    ef_mpr_t r;
    uint32_t count;
    if (ef_proto_reply_find (&self->rep, "results", &r) ||
        ef_mpr_array (&r, &count) || count != n)
        return s_fail (self, EF_EPROTO, "malformed PUBLISH reply", NULL);
    for (uint32_t i = 0; i < n; i++)
        if (ef_proto_read_result (&r, &results[i]))
            return s_fail (self, EF_EPROTO, "malformed PUBLISH result", NULL);
    return 0;
}

int
ef_client_poll (ef_client_t *self, int timeout_ms)
{
    if (!self->sock)
        return s_fail (self, EF_EUNAVAILABLE, "not connected", NULL);
    int completed = 0;
    s_recv_one (self, 0, timeout_ms, &completed);
    /* then drain whatever else has arrived, without waiting */
    for (int i = 0; i < 10000; i++) {
        int events = 0;
        size_t len = sizeof events;
        zmq_getsockopt (self->sock, ZMQ_EVENTS, &events, &len);
        if (!(events & ZMQ_POLLIN))
            break;
        s_recv_one (self, 0, 0, &completed);
    }
    s_watch (self);
    s_expire (self);
    return completed;
}

/*  Send req without waiting; cb (may be NULL) runs when it is answered. */
static int
s_send_async (ef_client_t *self, ef_request_t *req, ef_publish_fn *cb,
              void *arg)
{
    while (req->id - self->oldest_id >= self->pending_cap)
        if (s_pending_grow (self))
            return s_fail (self, EF_ENOMEM, NULL, NULL);
    int rc = s_send (self, req);
    if (rc)
        return rc;
    s_pending_t *p = &self->pending[req->id & (self->pending_cap - 1)];
    p->id = req->id;
    p->deadline_ms = ef_time_mono_ms () + self->timeout_ms;
    p->cb = cb;
    p->commit_cb = NULL;
    p->arg = arg;
    self->inflight++;
    return 0;
}

static int
s_wait_room (ef_client_t *self)
{
    while (self->inflight >= self->max_inflight) {
        int rc = ef_client_poll (self, self->timeout_ms);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int
ef_client_publish_async (ef_client_t *self, const char *stream,
                         const ef_event_in_t *events, uint32_t n,
                         ef_publish_fn *cb, void *arg)
{
    int rc = s_wait_room (self);
    if (rc)
        return rc;
    ef_request_t req;
    s_publish_request (self, &req, stream, events, n);
    return s_send_async (self, &req, cb, arg);
}

int
ef_client_commit_async (ef_client_t *self, const char *stream,
                        const char *group, const char *consumer_id,
                        const char *event_id, ef_commit_fn *cb, void *arg)
{
    int rc = s_wait_room (self);
    if (rc)
        return rc;
    ef_request_t req = {.cmd = EF_CMD_COMMIT};
    req.stream = ef_str (stream);
    req.group = ef_str (group);
    req.consumer_id = ef_str (consumer_id);
    req.last_event_id = ef_str (event_id);
    s_request_fill (self, &req);
    if ((rc = s_send_async (self, &req, NULL, NULL)))
        return rc;
    s_pending_t *p = s_pending_find (self, req.id);
    p->commit_cb = cb;
    p->arg = arg;
    return 0;
}

int
ef_client_send (ef_client_t *self, ef_request_t *req)
{
    int rc = s_wait_room (self);
    if (rc)
        return rc;
    s_request_fill (self, req);
    return s_send_async (self, req, NULL, NULL);
}

int
ef_client_flush (ef_client_t *self, int timeout_ms)
{
    int64_t deadline = ef_time_mono_ms () + timeout_ms;
    while (self->inflight) {
        int64_t left = deadline - ef_time_mono_ms ();
        if (left <= 0)
            return s_fail (self, EF_ETIMEOUT, "requests still in flight", NULL);
        int rc = ef_client_poll (self, (int)(left < 100 ? left : 100));
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- calls */

int
ef_client_call (ef_client_t *self, ef_request_t *req, const ef_reply_t **rep)
{
    s_request_fill (self, req);
    int rc = s_call (self, req);
    if (rep)
        *rep = &self->rep;
    return rc;
}

int
ef_client_send_ahead (ef_client_t *self, ef_request_t *req, uint64_t *losses)
{
    s_request_fill (self, req);
    int rc = s_send (self, req);
    *losses = self->losses;
    return rc;
}

int
ef_client_await (ef_client_t *self, uint64_t id, uint64_t losses)
{
    return s_await (self, id, losses);
}

void
ef_client_set_push_handler (ef_client_t *self, ef_push_fn *fn, void *arg)
{
    self->push_fn = fn;
    self->push_arg = arg;
}

int
ef_client_fail (ef_client_t *self, int code, const char *message)
{
    return s_fail (self, code, "%s", message);
}

int
ef_client_timeout (const ef_client_t *self)
{
    return self->timeout_ms;
}

const ef_reply_t *
ef_client_reply (const ef_client_t *self)
{
    return &self->rep;
}
