/*  ef_consume.h: consumer groups over the protocol (DESIGN.md §6): FETCH
    with long polling, COMMIT, SEEK, LIST_GROUPS, and native push with
    credit (SUBSCRIBE, CREDIT, UNSUBSCRIBE). The object owns what lives
    between requests: the consumer groups in use (their leases live only
    here: a restart lets them go; commits and seeks are stored), the
    parked FETCHes and the push subscriptions, both in buckets by stream,
    and the connection each group member fetched over last: a member
    whose connection is gone (ZMTP heartbeats) gives its leases up at
    once, not when they expire. It sees the broker only through its context: the
    reactor's store snapshot, the buffer a reply is written into, how to
    send a frame to a peer, and how to run a request again.
    Thread-safety: the reactor's thread only. */
#ifndef EF_CONSUME_H
#define EF_CONSUME_H

#include "ef_wreq.h"
#include "ef_writer.h"
#include "eventflow/ef_mp.h"

typedef struct ef_consume ef_consume_t;

/*  Send b's contents to peer (b may get new storage). 0, or -1 when the
    peer is gone. */
typedef int (ef_consume_send_fn) (void *arg, zmq_msg_t *peer, ef_buf_t *b);
/*  Run a request's command again, as if it had just arrived (a woken or
    expired FETCH); it is answered or parked again. */
typedef void (ef_consume_rerun_fn) (void *arg, ef_wreq_t *w);

typedef struct {
    ef_store_txn_t *reader; /* the reactor's snapshot (not begun) */
    ef_buf_t *out;          /* a handler's reply goes here */
    ef_consume_send_fn *send;
    ef_consume_rerun_fn *rerun;
    void *arg;           /* for send and rerun */
    uint32_t lease_ms;   /* a member's lease (0: EF_LEASE_MS_DEFAULT) */
    ef_writer_t *writer; /* where groups' records are stored */
    uint32_t ping_ms;    /* how often members are pinged (0: 1000);
                            subscriptions: ten times less often */
    ef_log_t *log;       /* may be NULL */
} ef_consume_ctx_t;

/*  An empty one over ctx (copied; what it points to is borrowed). */
ef_consume_t *ef_consume_new (const ef_consume_ctx_t *ctx);
/*  Tell every subscriber that the broker is going, and free everything.
    Parked fetches must have been answered (ef_consume_expire_all). */
void ef_consume_destroy (ef_consume_t **self_p);

/*  The handlers: the reply into ctx->out, or w->apply for the writer; an
    error code with *why naming the cause. SUBSCRIBE and CREDIT leave
    w->stream.num for ef_consume_wake once their reply is sent (the
    backlog follows the reply). */
int ef_consume_fetch (ef_consume_t *self, ef_wreq_t *w, const char **why);
int ef_consume_commit (ef_consume_t *self, ef_wreq_t *w, const char **why);
int ef_consume_seek (ef_consume_t *self, ef_wreq_t *w, const char **why);
int ef_consume_list (ef_consume_t *self, ef_wreq_t *w, const char **why);
int ef_consume_subscribe (ef_consume_t *self, ef_wreq_t *w, const char **why);
int ef_consume_credit (ef_consume_t *self, ef_wreq_t *w, const char **why);
int ef_consume_unsubscribe (ef_consume_t *self, ef_wreq_t *w, const char **why);

/*  w is back from the writer, or done with: a save of its consumer
    group (COMMIT, SEEK, a FETCH carrying a commit) is no longer in
    flight. Any request (the others are not counted). */
void ef_consume_finished (ef_consume_t *self, ef_wreq_t *w);
/*  A FETCH with nothing to give (w->park set by its handler or by the
    writer): keep it (1) until its stream gets events or w->deadline_ms
    passes, or not (0: answer it as it is). */
int ef_consume_park (ef_consume_t *self, ef_wreq_t *w);
/*  New events in stream num: run its parked fetches again, push to its
    subscribers. */
void ef_consume_wake (ef_consume_t *self, uint32_t num);
/*  Stream num was deleted: its subscriptions end, and are told so. */
void ef_consume_stream_gone (ef_consume_t *self, uint32_t num);
/*  Run again the parked fetches whose time is up (with timeout 0, so they
    answer what there is); the ms until the next one is due, or max_ms.
    Looks at them only when one is due. */
int ef_consume_expire (ef_consume_t *self, int max_ms);
/*  Ping the group members whose time has come (every ping_ms): a member
    whose connection is gone has its open leases let go (a write), so
    another member gets them at its next fetch. */
void ef_consume_tick (ef_consume_t *self);
/*  Answer every parked fetch now, and park no more (shutdown). */
void ef_consume_expire_all (ef_consume_t *self);
/*  How many fetches are parked, how many subscriptions are open. */
uint32_t ef_consume_parked (const ef_consume_t *self);
uint32_t ef_consume_subscriptions (const ef_consume_t *self);
/*  How many group members (connections) are watched. */
uint32_t ef_consume_members (const ef_consume_t *self);

#endif
