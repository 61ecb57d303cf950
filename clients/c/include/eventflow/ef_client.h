/*  ef_client.h: libeventflow, the C client of the EventFlow broker.

    A client owns one ZeroMQ DEALER connection to a broker and speaks the
    protocol of schemas/protocol.md. It is created, configured, then
    connected:

        ef_client_t *c = ef_client_new ("tcp://127.0.0.1:5555");
        ef_client_set_timeout (c, 5000);
        if (ef_client_connect (c)) { ... ef_client_error (c) ... }
        ef_event_in_t ev = {.type = ef_str ("order.created"),
                            .payload = ef_str ("{\"id\":1}")};
        ef_publish_result_t res;
        int rc = ef_client_publish (c, "orders", &ev, 1, &res);
        ef_client_destroy (&c);

    Two ways to publish: ef_client_publish blocks until the broker's
    commit returned (an ACCEPTED result is durable); ef_client_publish_async
    returns at once and calls a completion callback from ef_client_poll,
    ef_client_flush or any blocking call, with many requests in flight.

    Return codes are 0 or a negative EF_E* code (ef_error.h); the client
    never aborts. After an error, ef_client_error() describes it (the
    broker's message when the broker answered).

    Lifetimes: strings in results and events returned by a blocking call
    point into the reply and stay valid until the next call on the client.
    Inside a callback they are valid for the callback's duration only.

    Thread-safety: a client is not thread-safe. Use one client per thread
    (clients are cheap; each has its own connection). Callbacks run on the
    thread that called into the client. */
#ifndef EF_CLIENT_H
#define EF_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include "eventflow/ef_error.h"
#include "eventflow/ef_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ef_client ef_client_t;

/*  A client for endpoint (e.g. "tcp://127.0.0.1:5555"); not yet
    connected. NULL on OOM. */
ef_client_t *ef_client_new (const char *endpoint);
/*  Close the connection and free the client. Pending async requests are
    dropped without their callbacks. Safe on NULL; clears *self_p. */
void ef_client_destroy (ef_client_t **self_p);

/*  Timeout of each request in ms (default 10000). */
void ef_client_set_timeout (ef_client_t *self, int timeout_ms);
/*  Liveness (before connect): the broker pings each connection once per
    its --heartbeat-timeout, and ZeroMQ drops the connection when the
    broker then gives no sign of life for 1.5 times that. heartbeat_ms > 0
    adds pings of the client's own, every heartbeat_ms, answered within a
    fifth of it (the connection dropped within 1.2 heartbeat_ms of the
    broker going silent; each ping costs the broker an answer: keep it
    for a few clients); 0 (the default) sends none. ZeroMQ reconnects by
    itself, backing off from 100 ms to max_ms (default 5000) between
    attempts. */
void ef_client_set_heartbeat (ef_client_t *self, int heartbeat_ms);
void ef_client_set_reconnect_max (ef_client_t *self, int max_ms);
int ef_client_heartbeat (const ef_client_t *self);
int ef_client_reconnect_max (const ef_client_t *self);
/*  The connection as the client last saw it (updated by every call that
    waits on the broker). When a connection is lost, every request in
    flight completes at once with EF_EUNAVAILABLE (the events of a
    publish may or may not have been stored: retry with the same ids).
    ef_client_connected: 1 while a connection is up. ef_client_sessions:
    connections made so far; when it changes, the broker sees a new peer
    and has forgotten what belonged to the old connection (a
    subscription, a worker's attachment). */
int ef_client_connected (const ef_client_t *self);
uint64_t ef_client_sessions (const ef_client_t *self);

/*  How a consumer or a worker tells its program what happened to its
    link with the broker: up 0 when it lost it (the connection, or the
    broker ended the subscription), 1 when it is back; message says what
    and why, as one line of text (valid during the call). */
typedef void (ef_notify_fn) (void *arg, int up, const char *message);

/*  Most async requests in flight before publish_async waits (default
    1024). */
void ef_client_set_max_inflight (ef_client_t *self, uint32_t n);
/*  Credential forwarded with every request (copied): an API key or a JWT.
    NULL clears it. */
void ef_client_set_api_key (ef_client_t *self, const char *api_key);
void ef_client_set_jwt (ef_client_t *self, const char *jwt);

/*  Use CurveZMQ (the broker's default): the broker's public key and this
    client's key pair, each 40 characters of Z85 (see ef_cert.h). The
    client's public key must be registered with the broker. Before
    connect. 0 or EF_EINVAL. */
int ef_client_set_curve (ef_client_t *self, const char *server_public,
                         const char *client_public, const char *client_secret);

/*  Connect and exchange HELLO. 0, EF_EUNAVAILABLE (no answer within the
    timeout), EF_EINVAL (the endpoint is not a valid ZeroMQ endpoint), or
    another error the broker answered. */
int ef_client_connect (ef_client_t *self);
/*  The broker's HELLO answer (valid after connect). */
const ef_hello_t *ef_client_hello (const ef_client_t *self);
/*  Text describing the last error (never NULL). */
const char *ef_client_error (const ef_client_t *self);

/*  Publish n events to stream and wait for the commit. results (n entries)
    receives one result per event: code 0 (ACCEPTED, or duplicate set for
    DUPLICATE) or the item's error. Returns 0 when the request was
    answered (items may still have failed: check results), or the error
    of the whole request. */
int ef_client_publish (ef_client_t *self, const char *stream,
                       const ef_event_in_t *events, uint32_t n,
                       ef_publish_result_t *results);

/*  Completion of an async publish: status is 0 or the request's error
    (EF_ETIMEOUT when no reply came in time: the events may or may not
    have been stored, and a retry with the same event ids is safe);
    results/n are the per-event results when status is 0. When status is
    an error, ef_client_error() already describes it. */
typedef void (ef_publish_fn) (void *arg, int status,
                              const ef_publish_result_t *results, uint32_t n);

/*  Send a publish and return at once; cb (may be NULL) runs when the reply
    arrives or the request times out. The events are encoded before the
    call returns, so the caller may reuse them. Waits for room when
    max_inflight requests are pending. When it returns an error the request
    was not sent and cb is never called. */
int ef_client_publish_async (ef_client_t *self, const char *stream,
                             const ef_event_in_t *events, uint32_t n,
                             ef_publish_fn *cb, void *arg);
/*  Handle replies that have arrived, waiting up to timeout_ms for the
    first, and complete (with EF_ETIMEOUT) requests whose time ran out.
    Returns how many requests completed by a reply (0 when none arrived in
    time), or EF_EUNAVAILABLE when not connected. */
int ef_client_poll (ef_client_t *self, int timeout_ms);
/*  Wait until no async request is in flight (or timeout_ms passed:
    EF_ETIMEOUT). */
int ef_client_flush (ef_client_t *self, int timeout_ms);
/*  Async requests in flight. */
uint32_t ef_client_inflight (const ef_client_t *self);

int ef_client_ping (ef_client_t *self);
int ef_client_create_stream (ef_client_t *self, const char *name,
                             ef_stream_info_t *out);
int ef_client_get_stream (ef_client_t *self, const char *stream,
                          ef_stream_info_t *out);

/*  Visitors: return 0 to go on, non-zero to stop. */
typedef int (ef_stream_fn) (void *arg, const ef_stream_info_t *s);
typedef int (ef_event_fn) (void *arg, const ef_event_t *ev);

int ef_client_list_streams (ef_client_t *self, ef_stream_fn *fn, void *arg);
/*  Get one event by id (stream may be NULL). */
int ef_client_get_event (ef_client_t *self, const char *event_id,
                         const char *stream, ef_event_t *out);
/*  Events of stream with seq > after, at most limit, in order. *next gets
    the last seq returned (after when none), *head the stream's last seq
    (either may be NULL). */
int ef_client_read (ef_client_t *self, const char *stream, uint64_t after,
                    uint32_t limit, ef_event_fn *fn, void *arg, uint64_t *next,
                    uint64_t *head);
/*  LIST_EVENTS with the filters set in query (stream, type, source,
    status, from/to, page, limit; the other fields are ignored), newest
    first. *has_more (may be NULL) tells whether another page exists. */
int ef_client_list_events (ef_client_t *self, const ef_request_t *query,
                           ef_event_fn *fn, void *arg, int *has_more);
/*  LIST_EVENTS paged by cursor, a search (query's where) or not: query's
    where and cursor too (protocol.md LIST_EVENTS). next_cursor gets the
    reply's next_cursor, "" when the listing is done: give it as
    query->cursor for the next page. */
#define EF_CURSOR_MAX 80
int ef_client_search_events (ef_client_t *self, const ef_request_t *query,
                             ef_event_fn *fn, void *arg,
                             char next_cursor[EF_CURSOR_MAX]);
int ef_client_stats (ef_client_t *self, ef_stats_t *out);

/* ---------------------------------------------------------------- groups */

/*  Fetch up to limit events of stream for group (after its committed
    offset; with consumer_id, the member's lease), waiting up to
    timeout_ms for events when there are none (long poll; 0 = answer at
    once). next_offset (37 bytes, may be NULL) gets the id to commit ("" when
    nothing came and nothing is committed). */
int ef_client_fetch (ef_client_t *self, const char *stream, const char *group,
                     const char *consumer_id, uint32_t limit, int timeout_ms,
                     ef_event_fn *fn, void *arg, char *next_offset);
/*  Commit everything up to commit_id (NULL: nothing), then fetch as
    ef_client_fetch does, in one request and one broker transaction: a
    consumer's loop needs one round trip per page instead of two. A refused
    commit (EF_ECONFLICT, EF_ENOTFOUND) fetches nothing. */
int ef_client_commit_fetch (ef_client_t *self, const char *stream,
                            const char *group, const char *consumer_id,
                            const char *commit_id, uint32_t limit,
                            int timeout_ms, ef_event_fn *fn, void *arg,
                            char *next_offset);
/*  Commit everything up to event_id. EF_ECONFLICT when behind the
    committed offset. committed (37 bytes, may be NULL) gets the group's
    committed offset. */
int ef_client_commit (ef_client_t *self, const char *stream, const char *group,
                      const char *consumer_id, const char *event_id,
                      char *committed);
/*  Completion of an async commit: status 0 (the commit is durable) or
    its error (ef_client_error() describes it; EF_ETIMEOUT: it may or may
    not have been made, and committing again is safe). */
typedef void (ef_commit_fn) (void *arg, int status);
/*  Send a COMMIT and return at once, as ef_client_publish_async does; cb
    (may be NULL) runs when its answer comes, once the commit is durable,
    or when it times out. A fetch the broker receives after the commit
    (one sent after this call, on this client) sees it without waiting
    for that answer: a consumer's loop commits a page and fetches the
    next one without waiting for the store's sync. ef_client_flush waits
    for the answers. */
int ef_client_commit_async (ef_client_t *self, const char *stream,
                            const char *group, const char *consumer_id,
                            const char *event_id, ef_commit_fn *cb, void *arg);
/*  Seek the group: position "earliest", "latest" or an event id, or (when
    position is NULL) the first event received at or after timestamp_ms. */
int ef_client_seek (ef_client_t *self, const char *stream, const char *group,
                    const char *position, uint64_t timestamp_ms,
                    char *committed);

/*  Pushed frames of a subscription (see ef_consumer.h): events (rep->ok),
    or the subscription's end (rep->code and rep->err_message say why). */
typedef void (ef_push_fn) (void *arg, uint64_t sub, const ef_reply_t *rep);
/*  Who handles pushes arriving on this connection (one handler). */
void ef_client_set_push_handler (ef_client_t *self, ef_push_fn *fn, void *arg);

/*  Send any command without waiting for its answer (it is read and
    dropped by a later poll; an error shows in ef_client_error). */
int ef_client_send (ef_client_t *self, ef_request_t *req);

/*  Any command: req's cmd and fields are sent (v, id and the credential
    are filled in); *rep (may be NULL) points at the decoded reply, valid
    until the next call. Returns 0 or the reply's error. */
int ef_client_call (ef_client_t *self, ef_request_t *req,
                    const ef_reply_t **rep);

#ifdef __cplusplus
}
#endif
#endif
