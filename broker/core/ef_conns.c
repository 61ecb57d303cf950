/*  ef_conns.c: see ef_conns.h. The monitor's events come over an inproc
    PAIR as two frames: 6 bytes (event, value) and the endpoint. */
#include "ef_conns.h"
#include "eventflow/ef_time.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/*  Closed connections that make a trim worth its pause (a few ms for a
    heap of hundreds of MB). */
#define S_TRIM_DROP 256
/*  Fewer closed: what their buffers held (pages pushed to a reader that
    died, its requests) is given back once no connection has closed for
    S_TRIM_QUIET_MS, at most every S_TRIM_EVERY_MS. */
#define S_TRIM_QUIET_MS 1000
#define S_TRIM_EVERY_MS 10000

struct ef_conns {
    void *pair;
    ef_log_t *log;
    uint64_t open;                 /* accepted and not yet disconnected */
    uint64_t peak;                 /* the most open since the last trim */
    int pending;                   /* trimmed while they were still closing */
    uint64_t closed;               /* since the last trim */
    int64_t closed_at, trimmed_at; /* ms, monotonic */
};

ef_conns_t *
ef_conns_new (void *ctx, void *router, ef_log_t *log)
{
    ef_conns_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->log = log;
    char addr[64];
    snprintf (addr, sizeof addr, "inproc://ef-conns-%p", (void *)self);
    /* unlimited on our side: libzmq's monitor sends blocking, from the
       I/O threads, and must never wait for the reactor */
    int unlimited = 0;
    if (zmq_socket_monitor (router, addr,
                            ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) ||
        !(self->pair = zmq_socket (ctx, ZMQ_PAIR)) ||
        zmq_setsockopt (self->pair, ZMQ_RCVHWM, &unlimited, sizeof unlimited) ||
        zmq_connect (self->pair, addr)) {
        if (self->pair)
            zmq_close (self->pair);
        free (self);
        return NULL;
    }
    return self;
}

void
ef_conns_destroy (ef_conns_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_conns_t *self = *self_p;
    int zero = 0;
    zmq_setsockopt (self->pair, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close (self->pair);
    free (self);
    *self_p = NULL;
}

void *
ef_conns_socket (ef_conns_t *self)
{
    return self ? self->pair : NULL;
}

uint64_t
ef_conns_count (const ef_conns_t *self)
{
    return self ? self->open : 0;
}

static void
s_trim (ef_conns_t *self, const char *why)
{
    self->pending = self->open > 0;
    malloc_trim (0);
    ef_log_info (self->log, "memory returned",
                 "\"connections\":%llu,\"were\":%llu,\"closed\":%llu,"
                 "\"why\":\"%s\"",
                 (unsigned long long)self->open, (unsigned long long)self->peak,
                 (unsigned long long)self->closed, why);
    self->peak = self->open;
    self->closed = 0;
    self->trimmed_at = ef_time_mono_ms ();
}

void
ef_conns_drain (ef_conns_t *self)
{
    if (!self)
        return;
    for (;;) {
        zmq_msg_t head;
        zmq_msg_init (&head);
        if (zmq_msg_recv (&head, self->pair, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&head);
            break;
        }
        uint16_t event = 0;
        if (zmq_msg_size (&head) >= 6)
            memcpy (&event, zmq_msg_data (&head), sizeof event);
        while (zmq_msg_more (&head)) { /* the endpoint */
            zmq_msg_close (&head);
            zmq_msg_init (&head);
            if (zmq_msg_recv (&head, self->pair, 0) < 0)
                break;
        }
        zmq_msg_close (&head);
        if (event == ZMQ_EVENT_ACCEPTED && ++self->open > self->peak)
            self->peak = self->open;
        else if (event == ZMQ_EVENT_DISCONNECTED && self->open) {
            self->open--;
            self->closed++;
            self->closed_at = ef_time_mono_ms ();
        }
    }
    /* once when half are gone, again as they go on closing, and last
       when none is left */
    int due =
        self->peak - self->open >= S_TRIM_DROP && self->open <= self->peak / 2;
    if (due || (self->pending && self->open == 0))
        s_trim (self, "many closed");
}

void
ef_conns_tick (ef_conns_t *self)
{
    if (!self || !self->closed)
        return;
    int64_t now = ef_time_mono_ms ();
    if (now - self->closed_at >= S_TRIM_QUIET_MS &&
        now - self->trimmed_at >= S_TRIM_EVERY_MS)
        s_trim (self, "closed");
}
