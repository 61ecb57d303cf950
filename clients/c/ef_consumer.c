/*  ef_consumer.c: push subscriptions with credit (see ef_consumer.h). */
#include "eventflow/ef_consumer.h"
#include "eventflow/ef_time.h"

#include <stdlib.h>
#include <string.h>

struct ef_consumer {
    ef_client_t *client;
    char *stream, *group;
    uint64_t sub;          /* the SUBSCRIBE's request id */
    uint32_t window;       /* credit granted at once */
    uint32_t consumed;     /* delivered since the last grant */
    char last[40];         /* last delivered event id */
    char committed[40];
    ef_event_fn *fn;       /* during a poll */
    void *arg;
    int delivered;
    int stop;              /* fn asked to stop */
};

ef_consumer_t *
ef_consumer_new (ef_client_t *client, const char *stream, const char *group)
{
    ef_consumer_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->client = client;
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
    if (self->sub) {
        ef_request_t req = {0};
        req.cmd = EF_CMD_UNSUBSCRIBE;
        req.sub = self->sub;
        ef_client_call (self->client, &req, NULL);
        ef_client_set_push_handler (self->client, NULL, NULL);
    }
    free (self->stream);
    free (self->group);
    free (self);
    *self_p = NULL;
}

static void
s_on_push (void *arg, uint64_t sub, const ef_reply_t *rep)
{
    ef_consumer_t *self = arg;
    ef_mpr_t r;
    uint32_t n;
    if (sub != self->sub || ef_proto_reply_find (rep, "events", &r)
        || ef_mpr_array (&r, &n))
        return;
    for (uint32_t i = 0; i < n; i++) {
        ef_event_t ev;
        if (ef_proto_read_event (&r, &ev))
            return;
        self->consumed++; /* sent, so it used credit either way */
        if (self->stop)
            continue; /* not handed over: not to be committed either */
        if (ev.event_id.len < sizeof self->last) {
            memcpy (self->last, ev.event_id.ptr, ev.event_id.len);
            self->last[ev.event_id.len] = 0;
        }
        self->delivered++;
        if (self->fn && self->fn (self->arg, &ev))
            self->stop = 1;
    }
}

int
ef_consumer_start (ef_consumer_t *self, uint32_t credit)
{
    if (credit == 0 || credit > 100000)
        return EF_EINVAL;
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_SUBSCRIBE;
    req.stream = ef_str (self->stream);
    req.group = ef_str (self->group);
    req.credit = credit;
    ef_client_set_push_handler (self->client, s_on_push, self);
    int rc = ef_client_call (self->client, &req, &rep);
    if (rc)
        return rc;
    self->sub = req.id;
    self->window = credit;
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
    /* fn stays set after the poll: pushes that arrive during another call
       on the client (a commit, a credit grant) are delivered to it too.
       Other answers (a credit grant's) do not end the wait for events. */
    int64_t deadline = ef_time_mono_ms () + timeout_ms;
    int rc;
    do {
        int64_t left = deadline - ef_time_mono_ms ();
        rc = ef_client_poll (self->client, left > 0 ? (int) left : 0);
        if (rc < 0)
            return rc;
    } while (!self->delivered && ef_time_mono_ms () < deadline);
    /* grant again what was used, once a quarter of the window is, without
       waiting for the answer: the pipe never runs dry */
    if (self->consumed >= self->window / 4 || self->consumed >= 1000) {
        ef_request_t req = {0};
        req.cmd = EF_CMD_CREDIT;
        req.sub = self->sub;
        req.credit = self->consumed;
        self->consumed = 0;
        rc = ef_client_send (self->client, &req);
        if (rc)
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
