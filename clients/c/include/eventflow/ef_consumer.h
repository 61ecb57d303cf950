/*  ef_consumer.h: a native push consumer of a group. After
    ef_consumer_start the broker sends the group's events as they arrive,
    from the group's committed offset on, but never more than the credit
    the consumer has granted; ef_consumer_poll hands them to a callback
    and grants credit again as they are consumed. Delivery is
    at-least-once: commit what was handled (ef_consumer_commit), and a
    consumer that restarts gets what was not committed again.

        ef_consumer_t *k = ef_consumer_new (client, "orders", "billing");
        ef_consumer_start (k, 1000);
        while (running)
            ef_consumer_poll (k, 500, handle, NULL);   // events → handle
        ef_consumer_commit (k);

    A subscription lives on its connection. When the connection is lost
    (the broker stopped, restarted, or did not answer for the client's
    heartbeat time), or the broker ends the subscription, the consumer
    tells its notify callback, and the polls that follow subscribe again
    as soon as the broker answers (backing off up to the client's
    reconnect_max between tries), from the group's committed offset:
    events delivered but not committed come again.

    Thread-safety: as its client (one thread). The consumer owns the
    client's push handler while it exists. */
#ifndef EF_CONSUMER_H
#define EF_CONSUMER_H

#include "eventflow/ef_client.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ef_consumer ef_consumer_t;

/*  A consumer on client (borrowed; it must outlive the consumer). */
ef_consumer_t *ef_consumer_new (ef_client_t *client, const char *stream,
                                const char *group);
/*  Unsubscribe (best effort) and free. Safe on NULL. */
void ef_consumer_destroy (ef_consumer_t **self_p);
/*  Subscribe with a window of credit events (1–100000). 0 or an error. */
int ef_consumer_start (ef_consumer_t *self, uint32_t credit);
/*  Who hears of a lost and a renewed subscription (both may be NULL);
    called from inside ef_consumer_poll. */
void ef_consumer_set_notify (ef_consumer_t *self, ef_notify_fn *fn, void *arg);
/*  1 while subscribed, 0 while waiting to subscribe again. */
int ef_consumer_subscribed (const ef_consumer_t *self);
/*  Deliver pushed events to fn, waiting up to timeout_ms for the first.
    fn returns non-zero to stop: the poll returns after that event, and the
    events behind it are kept and handed over, in order, by the next poll
    (events are only ever handed over inside a poll). Returns the number
    delivered, or an error that ends the subscription for good (the
    broker refused it: say, EF_ENOTFOUND when the stream is gone; a lost
    connection is not one, see above). */
int ef_consumer_poll (ef_consumer_t *self, int timeout_ms, ef_event_fn *fn,
                      void *arg);
/*  The id of the last event delivered ("" when none yet). */
const char *ef_consumer_last (const ef_consumer_t *self);
/*  Commit up to the last event delivered. 0 when there is nothing new. */
int ef_consumer_commit (ef_consumer_t *self);

#ifdef __cplusplus
}
#endif
#endif
