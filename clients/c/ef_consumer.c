/*  ef_consumer.c: push subscriptions with credit (see ef_consumer.h).
    A subscription lives on one connection: when the client reports a
    lost or a new connection, or the broker pushes the subscription's
    end, the consumer says so, and subscribes again (from the committed
    offset) as soon as the broker answers, backing off between tries. */
#include "eventflow/ef_consumer.h"
#include "eventflow/ef_time.h"
#include "eventflow/ef_uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_BACKOFF_MIN 100

struct ef_consumer {
    ef_client_t *client;
    char *stream, *group;
    uint64_t sub;      /* the SUBSCRIBE's request id */
    uint32_t window;   /* credit granted at once */
    uint32_t consumed; /* handed over since the last grant */
    char last[40];     /* last delivered event id */
    char committed[40];
    ef_event_fn *fn; /* during a poll */
    void *arg;
    int delivered;
    int polling; /* inside ef_consumer_poll */
    int stop;    /* fn asked to stop */
    /* events pushed but not handed over yet (fn asked to stop in the
       middle of a frame, or they came behind such events): their msgpack,
       back to back, delivered first by the next poll. Credit is granted
       for events handed over, so this holds at most a window. */
    ef_buf_t held;
    char held_stream[EF_UUID_STRLEN + 1]; /* the stream_id of their pages */
    size_t held_at;                       /* read position in held */
    uint32_t held_n;                      /* events left in held */
    /* staying subscribed */
    int started;      /* ef_consumer_start succeeded: keep it so */
    uint64_t session; /* the client's session the subscription lives on */
    int ended;        /* the broker pushed the subscription's end */
    int end_code;
    char end_why[200];
    int64_t retry_at; /* when to subscribe again (mono ms) */
    int backoff_ms;
    ef_notify_fn *notify;
    void *notify_arg;
};

ef_consumer_t *
ef_consumer_new (ef_client_t *client, const char *stream, const char *group)
{
    ef_consumer_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->client = client;
    ef_buf_init (&self->held);
    self->stream = strdup (stream);
    self->group = strdup (group);
    if (!self->stream || !self->group) {
        ef_consumer_destroy (&self);
        return NULL;
    }
    return self;
}

void
ef_consumer_destroy (ef_consumer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_consumer_t *self = *self_p;
    if (self->sub && ef_client_connected (self->client)) {
        ef_request_t req = {0};
        req.cmd = EF_CMD_UNSUBSCRIBE;
        req.sub = self->sub;
        ef_client_call (self->client, &req, NULL);
    }
    if (self->started)
        ef_client_set_push_handler (self->client, NULL, NULL);
    ef_buf_free (&self->held); /* not committed: they come again */
    free (self->stream);
    free (self->group);
    free (self);
    *self_p = NULL;
}

/*  Hand ev to the callback. */
static void
s_deliver (ef_consumer_t *self, const ef_event_t *ev)
{
    if (ev->event_id.len < sizeof self->last) {
        memcpy (self->last, ev->event_id.ptr, ev->event_id.len);
        self->last[ev->event_id.len] = 0;
    }
    self->consumed++;
    self->delivered++;
    if (self->fn && self->fn (self->arg, ev))
        self->stop = 1;
}

static void
s_on_push (void *arg, uint64_t sub, const ef_reply_t *rep)
{
    ef_consumer_t *self = arg;
    ef_mpr_t r;
    uint32_t n;
    if (sub != self->sub || !self->sub)
        return; /* an older subscription's */
    if (!rep->ok) {
        /* the broker ended the subscription; the poll says so */
        self->ended = 1;
        self->end_code = rep->code;
        snprintf (self->end_why, sizeof self->end_why, "%.*s",
                  (int)rep->err_message.len,
                  rep->err_message.ptr ? rep->err_message.ptr : "");
        return;
    }
    /* a slim page says its stream_id once (the subscription's stream: the
       same for every page) */
    ef_str_t stream_id = EF_STR_NULL;
    if (ef_proto_reply_find (rep, "stream_id", &r) == 0 &&
        ef_mpr_str (&r, &stream_id) == 0 &&
        stream_id.len < sizeof self->held_stream) {
        memcpy (self->held_stream, stream_id.ptr, stream_id.len);
        self->held_stream[stream_id.len] = 0;
    }
    if (ef_proto_reply_find (rep, "events", &r) || ef_mpr_array (&r, &n))
        return;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = r.p;
        ef_event_t ev;
        if (ef_proto_read_page_event (&r, stream_id, &ev))
            return;
        if (!self->polling || self->stop || self->held_n) {
            /* kept, in order, for the next poll */
            if (ef_buf_append (&self->held, at, (size_t)(r.p - at)) == 0)
                self->held_n++;
            continue;
        }
        s_deliver (self, &ev);
    }
}

/*  Hand over held events until fn asks to stop. */
static void
s_drain (ef_consumer_t *self)
{
    ef_mpr_t r;
    ef_mpr_init (&r, self->held.data + self->held_at,
                 self->held.len - self->held_at);
    while (self->held_n && !self->stop) {
        ef_event_t ev;
        if (ef_proto_read_page_event (&r, ef_str (self->held_stream), &ev)) {
            self->held_n = 0; /* cannot happen: they were read once */
            break;
        }
        self->held_n--;
        s_deliver (self, &ev);
    }
    self->held_at = (size_t)((const char *)r.p - self->held.data);
    if (!self->held_n) {
        ef_buf_reset (&self->held);
        self->held_at = 0;
    }
}

/*  SUBSCRIBE with the whole window: pushes start after the group's
    committed offset. */
static int
s_subscribe (ef_consumer_t *self)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_SUBSCRIBE;
    req.stream = ef_str (self->stream);
    req.group = ef_str (self->group);
    req.credit = self->window;
    req.slim = 1;
    ef_client_set_push_handler (self->client, s_on_push, self);
    int rc = ef_client_call (self->client, &req, &rep);
    if (rc)
        return rc;
    self->sub = req.id;
    self->session = ef_client_sessions (self->client);
    self->consumed = 0;
    self->ended = 0;
    return 0;
}

int
ef_consumer_start (ef_consumer_t *self, uint32_t credit)
{
    if (credit == 0 || credit > 100000)
        return EF_EINVAL;
    self->window = credit;
    int rc = s_subscribe (self);
    self->started = rc == 0;
    return rc;
}

void
ef_consumer_set_notify (ef_consumer_t *self, ef_notify_fn *fn, void *arg)
{
    self->notify = fn;
    self->notify_arg = arg;
}

int
ef_consumer_subscribed (const ef_consumer_t *self)
{
    return self->sub != 0;
}

/*  Failures that pass: the broker away, busy or restarting. */
static int
s_transient (int rc)
{
    return rc == EF_EUNAVAILABLE || rc == EF_ETIMEOUT || rc == EF_ERATE;
}

static void
s_say (ef_consumer_t *self, int up, const char *fmt, const char *why)
{
    char line[512];
    snprintf (line, sizeof line, fmt, self->stream, self->group, why);
    if (self->notify)
        self->notify (self->notify_arg, up, line);
}

/*  The subscription is gone: what was pushed and not handed over comes
    again with the next one. */
static void
s_lost (ef_consumer_t *self, const char *why)
{
    self->sub = 0;
    self->consumed = 0;
    self->held_n = 0;
    self->held_at = 0;
    ef_buf_reset (&self->held);
    self->backoff_ms = S_BACKOFF_MIN;
    self->retry_at = ef_time_mono_ms ();
    s_say (self, 0,
           "lost the subscription to %s (group %s): %s; subscribing again "
           "when the broker answers",
           why);
}

/*  Notice a lost subscription; subscribe again when it is time. 0, or
    the error that ends the subscription for good. */
static int
s_keep (ef_consumer_t *self)
{
    if (!self->started)
        return 0;
    if (self->sub && self->ended) {
        if (!s_transient (self->end_code)) {
            s_say (self, 0,
                   "the broker ended the subscription to %s "
                   "(group %s) for good: %s",
                   self->end_why);
            self->sub = 0;
            self->started = 0;
            return self->end_code ? self->end_code : EF_EINTERNAL;
        }
        s_lost (self, self->end_why[0] ? self->end_why : "the broker ended it");
    }
    if (self->sub && (!ef_client_connected (self->client) ||
                      ef_client_sessions (self->client) != self->session))
        s_lost (self, "the connection to the broker was lost");
    if (self->sub || !ef_client_connected (self->client) ||
        ef_time_mono_ms () < self->retry_at)
        return 0;
    int rc = s_subscribe (self);
    if (rc == 0) {
        s_say (self, 1,
               "subscribed again to %s (group %s)%s, after the committed "
               "offset: what was not committed comes again",
               "");
        return 0;
    }
    if (!s_transient (rc))
        return rc;
    int max = ef_client_reconnect_max (self->client);
    self->retry_at = ef_time_mono_ms () + self->backoff_ms;
    self->backoff_ms = self->backoff_ms * 2 < max ? self->backoff_ms * 2 : max;
    return 0;
}

int
ef_consumer_poll (ef_consumer_t *self, int timeout_ms, ef_event_fn *fn,
                  void *arg)
{
    self->fn = fn;
    self->arg = arg;
    self->delivered = 0;
    self->stop = 0;
    /* Events are handed over only here: pushes that arrive during another
       call on the client (a commit) are held for the next poll. Other
       answers (a credit grant's) do not end the wait for events. */
    int64_t deadline = ef_time_mono_ms () + timeout_ms;
    int rc;
    self->polling = 1;
    s_drain (self); /* what an earlier poll kept, first */
    do {
        if ((rc = s_keep (self))) {
            self->polling = 0;
            return rc;
        }
        int64_t now = ef_time_mono_ms ();
        int64_t left = self->delivered ? 0 : deadline - now;
        if (!self->sub && ef_client_connected (self->client) &&
            self->retry_at - now < left)
            left = self->retry_at - now; /* the next try */
        rc = ef_client_poll (self->client, left <= 0 ? 0 : (int)left);
        if (rc < 0) {
            self->polling = 0;
            return rc;
        }
        s_drain (self);
    } while (!self->delivered && !self->stop && ef_time_mono_ms () < deadline);
    self->polling = 0;
    if ((rc = s_keep (self)))
        return rc;
    /* grant again what was used, once a quarter of the window is, without
       waiting for the answer: the pipe never runs dry */
    if (self->sub && self->consumed &&
        (self->consumed >= self->window / 4 || self->consumed >= 1000)) {
        ef_request_t req = {0};
        req.cmd = EF_CMD_CREDIT;
        req.sub = self->sub;
        req.credit = self->consumed;
        self->consumed = 0;
        rc = ef_client_send (self->client, &req);
        if (rc && s_transient (rc))
            s_lost (self, ef_client_error (self->client));
        else if (rc)
            return rc;
    }
    return self->delivered;
}

const char *
ef_consumer_last (const ef_consumer_t *self)
{
    return self->last;
}

int
ef_consumer_commit (ef_consumer_t *self)
{
    if (!self->last[0] || strcmp (self->last, self->committed) == 0)
        return 0;
    int rc = ef_client_commit (self->client, self->stream, self->group, NULL,
                               self->last, NULL);
    if (rc == 0)
        memcpy (self->committed, self->last, sizeof self->committed);
    return rc;
}
