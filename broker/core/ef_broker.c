/*  ef_broker.c: the reactor. One ROUTER socket, drained fully on each
    wake-up; every frame is decoded, checked and dispatched through one
    table (ef_commands.h: a row per command with its handler, flags and
    hooks; the reactor names no command). It owns the modules the
    handlers run on, each created here over its narrow context. Reads are
    answered at once from a store snapshot; writes go to the group-commit
    writer and are answered when their commit returned. Errors are turned
    into replies in one place, s_answer_error. */
#include "ef_broker_int.h"
#include "ef_commands.h"
#include "ef_engine.h"
#include "ef_notify.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_time.h"

#include <errno.h>
#include <sodium.h>
#include <stddef.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <zmq.h>

#define S_DRAIN_MAX    512
#define S_ZEROCOPY_MIN 65536
/*  Series kept at once (org totals and streams): about 115 KB each. */
#define S_SERIES_MAX 256
/*  ZeroMQ I/O threads (each its own connections, their encryption and
    heartbeats): idle, a thread costs nothing. */
#define S_IO_THREADS 8
#ifdef ZMQ_ZAP_ENFORCE_DOMAIN
#define S_ZAP_ENFORCE_DOMAIN ZMQ_ZAP_ENFORCE_DOMAIN
#else
#define S_ZAP_ENFORCE_DOMAIN 93 /* zmq_draft.h */
#endif

const ef_config_opt_t ef_broker_options[] = {
    {"data-dir", "EVENTFLOW_DATA_DIR", "./var/eventflow",
     "data directory (LMDB store, keys)"},
    {"endpoint", "EVENTFLOW_BROKER_ENDPOINT", "tcp://127.0.0.1:5555",
     "ZeroMQ endpoint to bind (tcp://HOST:PORT, PORT * = any; ipc://PATH)"},
    {"durability", "EVENTFLOW_DURABILITY", "fsync",
     "fsync = acknowledged means on disk; os = leave flushing to the OS"},
    {"map-size", "EVENTFLOW_MAP_SIZE", "64G",
     "largest size the store may grow to (K, M, G suffixes)"},
    {"max-message", "EVENTFLOW_MAX_MESSAGE", "4M",
     "largest frame accepted; a larger one drops its connection"},
    {"max-batch", "EVENTFLOW_MAX_BATCH", "1000", "most events per PUBLISH"},
    {"max-payload", "EVENTFLOW_MAX_PAYLOAD", "1M", "largest event payload"},
    {"max-route-hops", "EVENTFLOW_MAX_ROUTE_HOPS", "8",
     "most routes one event goes through (then FAILED, to the DLQ)"},
    {"search-scan", "EVENTFLOW_SEARCH_SCAN", "50000",
     "most events one page of an event listing or search examines (then "
     "next_cursor)"},
    {"curve", "EVENTFLOW_CURVE", "on",
     "on = CurveZMQ with registered keys; off = plain (loopback/IPC only)"},
    {"allow-register", "EVENTFLOW_ALLOW_REGISTER", "true",
     "whether anyone may register a new org (REGISTER)"},
    {"rate-per-second", "EVENTFLOW_RATE_PER_SECOND", "0",
     "default requests/s per API key (0 = unlimited; a key may set its "
     "own)"},
    {"rate-burst", "EVENTFLOW_RATE_BURST", "0",
     "default burst per API key (0 = rate-per-second)"},
    {"hash-threads", "EVENTFLOW_HASH_THREADS", "0",
     "threads hashing passwords (argon2id, 64 MiB each); 0 = one per two "
     "cores beyond the first (at least one)"},
    {"login-free-failures", "EVENTFLOW_LOGIN_FREE_FAILURES", "5",
     "failed logins in a row per email before it is held back (a client "
     "address gets four times as many)"},
    {"login-delay-ms", "EVENTFLOW_LOGIN_DELAY_MS", "1000",
     "first hold-back after the free failures, doubling with each further "
     "failure up to 15 minutes"},
    {"quota-streams", "EVENTFLOW_QUOTA_STREAMS", "1000",
     "most streams per org (0 = no limit)"},
    {"quota-api-keys", "EVENTFLOW_QUOTA_API_KEYS", "1000",
     "most live API keys (producers included) per org (0 = no limit)"},
    {"quota-users", "EVENTFLOW_QUOTA_USERS", "1000",
     "most users per org (0 = no limit)"},
    {"quota-pipeline-steps", "EVENTFLOW_QUOTA_PIPELINE_STEPS", "16",
     "most steps in one stream's pipeline (0 = the hard limit, 16)"},
    {"quota-stored-bytes", "EVENTFLOW_QUOTA_STORED_BYTES", "10G",
     "most bytes of event records per org (0 = no limit)"},
    {"schema-threads", "EVENTFLOW_SCHEMA_THREADS", "2",
     "threads checking payloads against stream schemas (1 to 8)"},
    {"schema-budget-ms", "EVENTFLOW_SCHEMA_BUDGET_MS", "10",
     "CPU ms one event's schema check may take (also filter steps)"},
    {"schema-batch-budget-ms", "EVENTFLOW_SCHEMA_BATCH_BUDGET_MS", "250",
     "CPU ms the schema checks of one publish may take in all"},
    {"retention-interval-ms", "EVENTFLOW_RETENTION_INTERVAL_MS", "1000",
     "ms (10 to 3600000) between retention passes over the streams"},
    {"log-level", "EVENTFLOW_LOG_LEVEL", "info", "debug, info, warn, error"},
    {"worker-silence", "EVENTFLOW_WORKER_SILENCE", "3000",
     "MS (at least 1000) without a READY after which a worker is dropped "
     "and its jobs run again"},
    {"group-lease-ms", "EVENTFLOW_GROUP_LEASE_MS", "30000",
     "ms (1000 to 3600000) a consumer group member's lease lasts: a range it "
     "fetched and did not commit in time goes to another member"},
    {"heartbeat-timeout", "EVENTFLOW_HEARTBEAT_TIMEOUT", "10000",
     "ms (500 to 600000) between the broker's pings of each connection; "
     "one that answers nothing within a fifth of it (at most 500 ms) is "
     "dropped with its subscriptions"},
    {NULL, NULL, NULL, NULL},
};

/* ---------------------------------------------------------------- pool */

/*  Requests are kept for reuse with their buffers, as many as
    S_POOL_MAX and only buffers up to S_POOL_KEEP bytes: a burst of large
    publishes (a thousand events each, hundreds in flight) would
    otherwise hold its hundreds of MB for good. */
#define S_POOL_MAX  1024
#define S_POOL_KEEP (64u << 10)

static ef_wreq_t *
s_wreq_get (ef_broker_t *self)
{
    ef_wreq_t *w = self->pool;
    if (w) {
        self->pool = w->next;
        self->pooled--;
    } else {
        w = calloc (1, sizeof *w);
        if (!w)
            return NULL;
        ef_buf_init (&w->records);
        ef_buf_init (&w->reply);
    }
    w->next = NULL;
    w->status = 0;
    w->why = NULL;
    w->why_at = NULL;
    w->apply = NULL;
    w->apply_ctx = NULL;
    w->hash_op = 0;
    w->hash_queue = 0;
    w->quota = 0;
    w->pw_ok = 0;
    w->pwhash[0] = 0;
    w->park = 0;
    w->group = NULL;
    w->refetch = 0;
    w->group_page = 0;
    w->deadline_ms = 0;
    w->stream.num = 0;
    w->schema = NULL;
    w->checking = 0;
    zmq_msg_init (&w->peer);
    zmq_msg_init (&w->frame);
    return w;
}

static void s_wreq_free (ef_wreq_t *w);

static void
s_wreq_put (ef_broker_t *self, ef_wreq_t *w)
{
    if (w->group && self->consume)
        ef_consume_finished (self->consume, w);
    zmq_msg_close (&w->peer);
    zmq_msg_close (&w->frame);
    sodium_memzero (w->pwhash, sizeof w->pwhash);
    ef_schema_destroy (&w->schema); /* refused before its checks */
    if (self->pooled >= S_POOL_MAX) {
        s_wreq_free (w);
        return;
    }
    if (w->records.cap > S_POOL_KEEP)
        ef_buf_free (&w->records);
    else
        ef_buf_reset (&w->records);
    if (w->reply.cap > S_POOL_KEEP)
        ef_buf_free (&w->reply);
    else
        ef_buf_reset (&w->reply);
    if (w->results_cap * sizeof *w->results > S_POOL_KEEP) {
        free (w->results);
        w->results = NULL;
        w->results_cap = 0;
    }
    w->next = self->pool;
    self->pool = w;
    self->pooled++;
}

static void
s_wreq_free (ef_wreq_t *w)
{
    ef_buf_free (&w->records);
    ef_buf_free (&w->reply);
    free (w->results);
    free (w);
}

/* ---------------------------------------------------------------- replies */

/*  The routing frame for peer; 0, or -1 (counted) when it cannot go. */
static int
s_send_peer (ef_broker_t *self, zmq_msg_t *peer)
{
    zmq_msg_t id;
    zmq_msg_init (&id);
    zmq_msg_copy (&id, peer);
    if (zmq_msg_send (&id, self->router, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&id);
        ef_metrics_add (self->metrics, EF_M_UNROUTABLE, 1);
        ef_log_debug (self->log, "reply not routable", "\"errno\":%d", errno);
        return -1;
    }
    return 0;
}

/*  Send a reply; 0, or -1 when the peer is gone. */
static int
s_send_body (ef_broker_t *self, zmq_msg_t *peer, const void *body, size_t len)
{
    if (s_send_peer (self, peer))
        return -1;
    if (zmq_send (self->router, body, len, ZMQ_DONTWAIT) < 0) {
        ef_metrics_add (self->metrics, EF_M_UNROUTABLE, 1);
        return -1;
    }
    return 0;
}

static void
s_free_body (void *data, void *hint)
{
    (void)hint;
    free (data);
}

/*  Send b's contents as a reply. From S_ZEROCOPY_MIN bytes on the storage
    itself goes to ZeroMQ (no copy) and b gets new storage of the same
    capacity; smaller replies are copied. 0, or -1 when the peer is gone. */
static int
s_send_buf (ef_broker_t *self, zmq_msg_t *peer, ef_buf_t *b)
{
    if (b->len < S_ZEROCOPY_MIN || b->oom)
        return s_send_body (self, peer, b->data, b->len);
    if (s_send_peer (self, peer))
        return -1;
    zmq_msg_t body;
    size_t cap = b->cap;
    if (zmq_msg_init_data (&body, b->data, b->len, s_free_body, NULL)) {
        /* no message (and nothing to close): the routing frame is gone
           already, so the body follows it as a copy */
        if (zmq_send (self->router, b->data, b->len, ZMQ_DONTWAIT) < 0) {
            ef_metrics_add (self->metrics, EF_M_UNROUTABLE, 1);
            return -1;
        }
        return 0;
    }
    /* the storage is ZeroMQ's now (its I/O thread frees it once sent) */
    b->data = NULL;
    b->len = b->cap = 0;
    ef_buf_reserve (b, cap);
    if (zmq_msg_send (&body, self->router, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&body);
        ef_metrics_add (self->metrics, EF_M_UNROUTABLE, 1);
        return -1;
    }
    return 0;
}

/*  Send a reply to peer. A peer that has gone, or whose queue is full,
    cannot be answered: that is counted and logged, never blocking the
    reactor. An empty buffer is no reply: nothing is sent. */
static void
s_send (ef_broker_t *self, zmq_msg_t *peer, ef_buf_t *b)
{
    if (b->len)
        s_send_buf (self, peer, b);
}

/*  How the modules send (their contexts say arg, the broker). */
static int
s_module_send_buf (void *arg, zmq_msg_t *peer, ef_buf_t *b)
{
    return s_send_buf (arg, peer, b);
}

static int
s_module_send (void *arg, zmq_msg_t *peer, const void *body, size_t len)
{
    return s_send_body (arg, peer, body, len);
}

/*  0 for a request that wants no reply at all, success or error: a row
    with EF_CMDF_ID_REPLY sent with id 0 (DONE and FAIL: protocol.md,
    Processing). */
static int
s_answered (const ef_wreq_t *w)
{
    const ef_command_t *c = ef_commands_find (w->req.cmd);
    return w->req.id || !c || !(c->flags & EF_CMDF_ID_REPLY);
}

static void
s_answer_error (ef_broker_t *self, ef_wreq_t *w, int code, const char *why)
{
    ef_log_debug (self->log, "refused",
                  "\"cmd\":\"%s\",\"error\":\"%s\",\"why\":\"%.*s\","
                  "\"request_id\":\"%.*s\"",
                  ef_cmd_name (w->req.cmd) ? ef_cmd_name (w->req.cmd) : "?",
                  ef_error_name (code), why ? 120 : 0, why ? why : "",
                  (int)w->req.request_id.len,
                  w->req.request_id.ptr ? w->req.request_id.ptr : "");
    ef_buf_reset (&self->out);
    if (s_answered (w) && w->why_at && why)
        ef_proto_reply_error_at (&self->out, w->req.id, code, why, w->why_at);
    else if (s_answered (w))
        ef_proto_reply_error (&self->out, w->req.id, code, why, 0);
    s_send (self, &w->peer, &self->out);
    if (code == EF_EPROTO)
        ef_metrics_add (self->metrics, EF_M_MALFORMED, 1);
    const ef_command_t *c = ef_commands_find (w->req.cmd);
    if (c && (c->flags & EF_CMDF_PER_EVENT))
        ef_metrics_add (self->metrics, EF_M_REJECTED,
                        w->req.n_events ? w->req.n_events : 1);
}

/* ---------------------------------------------------------------- dispatch */

/*  Where a request goes once its handler (or the hasher, or the schema
    checks) is done with it: to the hasher, to the schema checks, to the
    writer, or answered now. */
static void
s_route (ef_broker_t *self, ef_wreq_t *w, const ef_command_t *c)
{
    int writes = w->apply || (c && (c->flags & EF_CMDF_WRITES));
    if ((w->hash_op && !self->hasher) || (w->schema && !self->validator) ||
        (writes && self->writer_stopped)) {
        s_answer_error (self, w, EF_EUNAVAILABLE, "the broker is stopping");
        s_wreq_put (self, w);
    } else if (w->schema) {
        w->checking = 1;
        if (ef_validator_submit (self->validator, w) == 0)
            return;
        w->checking = 0;
        s_answer_error (self, w, EF_EUNAVAILABLE,
                        "too many schema checks waiting; retry shortly");
        s_wreq_put (self, w);
    } else if (w->hash_op) {
        if (ef_hasher_submit (self->hasher, w) == 0)
            return;
        w->hash_op = 0;
        s_answer_error (self, w, EF_EUNAVAILABLE,
                        "too many password checks at once; retry shortly");
        s_wreq_put (self, w);
    } else if (writes) {
        ef_writer_submit (self->writer, w);
    } else if (w->park && c && c->hold && c->hold (self, w)) {
        /* kept by its module (a FETCH waits for events, or its deadline) */
    } else {
        if (s_answered (w))
            s_send (self, &w->peer, &self->out);
        if (c && c->follow)
            c->follow (self, w); /* what is due now that it is answered */
        s_wreq_put (self, w);
    }
}

/*  Run a request's command again (a parked FETCH woken or due): the
    consume module's rerun (its context's arg is the broker). */
static void
s_rerun (void *arg, ef_wreq_t *w)
{
    ef_broker_t *self = arg;
    const ef_command_t *c = ef_commands_find (w->req.cmd);
    const char *why = NULL;
    int rc = EF_EINTERNAL;
    ef_buf_reset (&self->out);
    w->park = 0;
    if (c && (rc = ef_store_reader_begin (self->reader)) == 0) {
        rc = c->fn (self, w, &why);
        ef_store_reader_end (self->reader);
    }
    if (rc) {
        s_answer_error (self, w, rc, why);
        s_wreq_put (self, w);
    } else
        s_route (self, w, c);
}

/*  Who sent w, may they run c, and within their rate? 0 or the error to
    answer. */
static int
s_admit (ef_broker_t *self, ef_wreq_t *w, const ef_command_t *c,
         const char **why)
{
    const char *peer = zmq_msg_gets (&w->frame, "User-Id");
    if (peer && strncmp (peer, "gw:", 3) == 0 &&
        !ef_auth_is_gateway_peer (self->auth, peer)) {
        /* admitted before GATEWAY_KEY_PROMOTE retired its key: the
           bridge reconnects, and the ZAP handler refuses it */
        *why = "this gateway key was retired: connect with the current one";
        return EF_EUNAVAILABLE;
    }
    int rc = ef_auth_resolve (self->auth, self->reader, peer, &w->req, &w->who);
    if (rc) {
        *why = "authentication failed";
        return EF_EAUTH;
    }
    w->org = w->who.org;
    if (w->who.role == EF_ROLE_NONE) {
        if (c->flags & EF_CMDF_ANON)
            return 0;
        if ((c->flags & EF_CMDF_GATEWAY) &&
            ef_auth_is_gateway_peer (self->auth, peer)) {
            w->who.kind = EF_WHO_GATEWAY; /* broker-wide, org 0 */
            return 0;
        }
        *why = "authentication failed"; /* the same for every cause */
        ef_log_info (self->log, "authentication failed",
                     "\"credential\":\"none\",\"cause\":\"no credential\","
                     "\"command\":\"%s\",\"request_id\":\"%.*s\"",
                     ef_cmd_name (w->req.cmd) ? ef_cmd_name (w->req.cmd) : "?",
                     (int)w->req.request_id.len,
                     w->req.request_id.ptr ? w->req.request_id.ptr : "");
        return EF_EAUTH;
    }
    if (!(ef_role_effective (w->who.role) & c->roles)) {
        *why = "your role may not do this";
        return EF_EFORBIDDEN;
    }
    if ((c->flags & EF_CMDF_STREAM) && w->who.kind == EF_WHO_API_KEY &&
        w->who.key.nstreams) {
        /* a key scoped to streams may only name one of them */
        ef_stream_rec_t s;
        if (!ef_str_set (w->req.stream)) {
            *why = "this key is limited to named streams";
            return EF_EFORBIDDEN;
        }
        if (ef_store_stream_find (self->reader, w->org, w->req.stream, &s) ==
                0 &&
            !ef_principals_apikey_allows (&w->who.key, s.name, s.id)) {
            *why = "this key may not use that stream";
            return EF_EFORBIDDEN;
        }
    }
    uint64_t wait = 0;
    if (!(c->flags & EF_CMDF_PER_EVENT) &&
        ef_auth_rate (self->auth, &w->who, ef_time_mono_ms (), &wait)) {
        ef_buf_reset (&self->out);
        ef_proto_reply_error (&self->out, w->req.id, EF_ERATE,
                              "rate limit reached", wait);
        return EF_ERATE;
    }
    return 0;
}

/*  Decode, check and run one request. Takes ownership of w. */
static void
s_dispatch (ef_broker_t *self, ef_wreq_t *w)
{
    const char *why = NULL;
    ef_metrics_add (self->metrics, EF_M_REQUESTS, 1);
    int rc = ef_proto_decode_request (zmq_msg_data (&w->frame),
                                      zmq_msg_size (&w->frame), &w->req,
                                      self->scratch, self->max_batch, &why);
    const ef_command_t *c = rc ? NULL : ef_commands_find (w->req.cmd);
    if (!rc && !c)
        rc = EF_EUNKNOWN_CMD;
    if (rc) {
        s_answer_error (self, w, rc, why);
        s_wreq_put (self, w);
        return;
    }
    if (self->log_debug && ef_str_set (w->req.request_id))
        ef_log_debug (self->log, "request",
                      "\"cmd\":\"%s\",\"request_id\":\"%.*s\"",
                      ef_cmd_name (w->req.cmd), (int)w->req.request_id.len,
                      w->req.request_id.ptr);
    ef_buf_reset (&self->out);
    if ((rc = ef_store_reader_begin (self->reader)) == 0) {
        rc = s_admit (self, w, c, &why);
        if (rc == 0)
            rc = c->fn (self, w, &why);
        ef_store_reader_end (self->reader);
    }
    if (rc == EF_ERATE) {
        /* the reply, with its retry_after_ms, is already in out */
        if (s_answered (w))
            s_send (self, &w->peer, &self->out);
        ef_metrics_add (self->metrics, EF_M_REJECTED,
                        (c->flags & EF_CMDF_PER_EVENT) ? w->req.n_events : 0);
        s_wreq_put (self, w);
    } else if (rc) {
        s_answer_error (self, w, rc, why);
        s_wreq_put (self, w);
    } else
        s_route (self, w, c);
}

/*  Receive one message from the router into a request. 1 if one was
    taken, 0 if none is waiting. */
static int
s_recv (ef_broker_t *self)
{
    ef_wreq_t *w = s_wreq_get (self);
    if (!w)
        return 0; /* out of memory: leave it queued in ZeroMQ */
    if (zmq_msg_recv (&w->peer, self->router, ZMQ_DONTWAIT) < 0) {
        s_wreq_put (self, w);
        return 0;
    }
    int more = zmq_msg_more (&w->peer);
    int frames = 0;
    while (more) {
        zmq_msg_t *m = frames == 0 ? &w->frame : NULL;
        zmq_msg_t extra;
        if (!m) {
            zmq_msg_init (&extra);
            m = &extra;
        }
        if (zmq_msg_recv (m, self->router, 0) < 0)
            break;
        more = zmq_msg_more (m);
        if (m == &extra)
            zmq_msg_close (&extra);
        frames++;
    }
    if (frames != 1) {
        memset (&w->req, 0, sizeof w->req);
        s_answer_error (self, w, EF_EPROTO, "a request is exactly one frame");
        s_wreq_put (self, w);
        return 1;
    }
    s_dispatch (self, w);
    return 1;
}

/*  A request back from the hasher continues with its command's `after`
    step; one back from the writer is answered. */
static void
s_finish (ef_broker_t *self, ef_wreq_t *w)
{
    if (w->group && self->consume)
        ef_consume_finished (self->consume, w);
    if (w->internal == EF_WREQ_JOB) {
        if (self->workers) /* to a worker, or queued for one */
            ef_workers_submit (self->workers, w);
        else
            ef_engine_job_free (w); /* stopping: it falls due again */
        return;
    }
    if (w->internal == EF_WREQ_OUTCOME || w->internal == EF_WREQ_GROUP) {
        ef_engine_job_free (w); /* nobody to answer */
        return;
    }
    if (w->checking) {
        /* a PUBLISH back from its schema checks: on to the writer */
        w->checking = 0;
        if (w->status) {
            s_answer_error (self, w, w->status, w->why);
            s_wreq_put (self, w);
            return;
        }
        ef_commands_checked (self, w);
        s_route (self, w, ef_commands_find (w->req.cmd));
        return;
    }
    if (w->hash_op) {
        const ef_command_t *c = ef_commands_find (w->req.cmd);
        const char *why = w->why;
        int rc = w->status;
        w->hash_op = 0;
        ef_buf_reset (&self->out);
        if (rc == 0 && c && c->after &&
            (rc = ef_store_reader_begin (self->reader)) == 0) {
            rc = c->after (self, w, &why);
            ef_store_reader_end (self->reader);
        }
        if (rc) {
            s_answer_error (self, w, rc, why);
            s_wreq_put (self, w);
        } else
            s_route (self, w, NULL);
        return;
    }
    const ef_command_t *c = ef_commands_find (w->req.cmd);
    if (w->status) {
        s_answer_error (self, w, w->status, w->why);
    } else if (w->apply) {
        if (w->park && c && c->hold && c->hold (self, w))
            return; /* a member's FETCH with nothing yet: it waits */
        if (s_answered (w))
            s_send (self, &w->peer, &w->reply);
        if (c && c->follow)
            c->follow (self, w);
    } else {
        /* consumers waiting on the stream get the events before the
           producer gets its ack: delivery latency is what they wait for
           (following uses self->out, so it comes before the reply is
           built) */
        if (c && c->follow)
            c->follow (self, w);
        ef_commands_write_reply (self, w);
        s_send (self, &w->peer, &self->out);
    }
    s_wreq_put (self, w);
}

static void
s_send_finished (ef_broker_t *self)
{
    ef_wreq_t *w = ef_mailbox_take (self->done);
    while (w) {
        ef_wreq_t *next = w->next;
        w->next = NULL;
        s_finish (self, w);
        w = next;
    }
}

/* ---------------------------------------------------------------- lifecycle */

ef_broker_t *
ef_broker_new (const ef_config_t *cfg, ef_log_t *log)
{
    ef_broker_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->log = log;
    self->sigfd = -1;
    ef_buf_init (&self->out);
    self->metrics = ef_metrics_new ();
    self->series = ef_series_new (EF_SERIES_MAX_SECONDS, S_SERIES_MAX);
    self->query = ef_query_new ();
    self->schemas = ef_schema_cache_new ();
    if (!self->metrics || !self->series || !self->query || !self->schemas) {
        ef_broker_destroy (&self);
        return NULL;
    }
    return self;
}

static int
s_config_uint (ef_broker_t *self, const char *name, uint32_t min, uint32_t max,
               uint32_t *out)
{
    int err;
    int64_t v = ef_config_get_int (self->cfg, name, 0, &err);
    if (err || v < min || v > max) {
        ef_log_error (self->log, "invalid configuration value",
                      "\"option\":\"%s\"", name);
        return EF_EINVAL;
    }
    *out = (uint32_t)v;
    return 0;
}

/*  1 if endpoint is only reachable from this machine. */
static int
s_local_endpoint (const char *endpoint)
{
    return strncmp (endpoint, "ipc://", 6) == 0 ||
           strncmp (endpoint, "inproc://", 9) == 0 ||
           strncmp (endpoint, "tcp://127.", 10) == 0 ||
           strncmp (endpoint, "tcp://localhost:", 16) == 0 ||
           strncmp (endpoint, "tcp://[::1]:", 12) == 0;
}

/*  CurveZMQ with the ZAP handler up, or plain on a local endpoint only. */
static int
s_security (ef_broker_t *self, const char *endpoint)
{
    const char *curve = ef_config_get (self->cfg, "curve");
    if (curve && strcmp (curve, "off") == 0) {
        if (!s_local_endpoint (endpoint)) {
            ef_log_error (self->log,
                          "refusing plain (curve off) on a non-local "
                          "endpoint; use CurveZMQ or bind to 127.0.0.1/IPC",
                          "\"endpoint\":\"%s\"", endpoint);
            return EF_EINVAL;
        }
        ef_log_warn (self->log,
                     "CurveZMQ is off: peers are not authenticated by key; "
                     "every request must carry a credential",
                     "\"endpoint\":\"%s\"", endpoint);
        return 0;
    }
    if (curve && strcmp (curve, "on") != 0) {
        ef_log_error (self->log, "curve must be on or off", NULL);
        return EF_EINVAL;
    }
    /* a CURVE server without a ZAP handler admits any key: the handler
       must be up first */
    self->zap =
        ef_zap_new (self->ctx, ef_auth_zap_check, self->auth, self->log);
    if (!self->zap || ef_zap_start (self->zap)) {
        ef_log_error (self->log,
                      "cannot start the ZAP handler; refusing to "
                      "serve CurveZMQ without it",
                      NULL);
        return EF_EINTERNAL;
    }
    const ef_cert_t *cert = ef_auth_server_cert (self->auth);
    int one = 1;
    /* ZMQ_ZAP_ENFORCE_DOMAIN is a draft option in libzmq 4.3's headers;
       the library accepts it when built with drafts. Without it, the ZAP
       handler we just started still decides every CURVE handshake. */
    if (zmq_setsockopt (self->router, S_ZAP_ENFORCE_DOMAIN, &one, sizeof one))
        ef_log_warn (self->log,
                     "this libzmq has no ZAP_ENFORCE_DOMAIN; "
                     "relying on the running ZAP handler",
                     NULL);
    if (zmq_setsockopt (self->router, ZMQ_ZAP_DOMAIN, "eventflow", 9) ||
        zmq_setsockopt (self->router, ZMQ_CURVE_SERVER, &one, sizeof one) ||
        zmq_setsockopt (self->router, ZMQ_CURVE_SECRETKEY, cert->secret_key,
                        EF_Z85_KEY_LEN)) {
        ef_log_error (self->log, "cannot enable CurveZMQ", "\"why\":\"%s\"",
                      zmq_strerror (errno));
        return EF_EINTERNAL;
    }
    self->curve = 1;
    return 0;
}

/*  The modules the commands run on, each over its own narrow context. */
static int
s_modules (ef_broker_t *self)
{
    int err;
    ef_consume_ctx_t cx = {self->reader, &self->out,    s_module_send_buf,
                           s_rerun,      self,          0,
                           self->writer, self->ping_ms, self->log};
    if (s_config_uint (self, "group-lease-ms", 1000, 3600000, &cx.lease_ms))
        return EF_EINVAL;
    ef_workers_ctx_t wx = {
        &self->out, s_module_send, self,          self->writer,
        self->room, self->log,     self->metrics, 0};
    wx.silent_ms = ef_config_get_int (self->cfg, "worker-silence", 0, &err);
    if (err)
        wx.silent_ms = 0; /* the default */
    wx.ping_ms = self->ping_ms;
    ef_dlq_ctx_t dx = {self->reader, &self->out, self->writer};
    ef_admin_ctx_t ax = {self->reader, &self->out, self->auth, self->log,
                         self->curve};
    ef_streams_ctx_t sx = {&self->out, self->auth, self->writer, self->reader,
                           self->max_payload};
    ef_publish_ctx_t px = {self->reader,      &self->out,      self->scratch,
                           self->max_payload, self->schemas,   self->auth,
                           self->log,         self->log_debug, self->metrics,
                           self->series};
    self->streams = ef_streams_new (&sx);
    self->publish = ef_publish_new (&px);
    self->consume = ef_consume_new (&cx);
    self->workers = ef_workers_new (&wx);
    self->dlq = ef_dlq_new (&dx);
    self->admin = ef_admin_new (&ax);
    if (!self->consume || !self->workers || !self->dlq || !self->admin ||
        !self->streams || !self->publish)
        return EF_ENOMEM;
    return 0;
}

int
ef_broker_open (ef_broker_t *self)
{
    const char *dir = ef_config_get (self->cfg, "data-dir");
    const char *durability = ef_config_get (self->cfg, "durability");
    const char *level = ef_config_get (self->cfg, "log-level");
    self->log_debug = level && strcmp (level, "debug") == 0;
    int err;
    uint32_t max_hops;
    int64_t map_size = ef_config_get_int (self->cfg, "map-size", 0, &err);
    if (err || map_size < (1 << 20)) {
        ef_log_error (self->log, "invalid configuration value",
                      "\"option\":\"map-size\"");
        return EF_EINVAL;
    }
    if (s_config_uint (self, "max-message", 1024, 1u << 30,
                       &self->max_message) ||
        s_config_uint (self, "max-batch", 1, 100000, &self->max_batch) ||
        s_config_uint (self, "max-payload", 16, 1u << 30, &self->max_payload) ||
        s_config_uint (self, "max-route-hops", 0, 1000, &max_hops))
        return EF_EINVAL;
    uint32_t scan;
    if (s_config_uint (self, "search-scan", 1, 100000000, &scan))
        return EF_EINVAL;
    ef_query_set_scan (self->query, scan);
    uint32_t vthreads, event_ms, batch_ms, heartbeat_ms, retention_ms;
    if (s_config_uint (self, "retention-interval-ms", 10, 3600000,
                       &retention_ms))
        return EF_EINVAL;
    if (s_config_uint (self, "heartbeat-timeout", 500, 600000, &heartbeat_ms))
        return EF_EINVAL;
    /* workers and group members are pinged often enough that a
       connection ZeroMQ dropped is noticed within a fifth of the timeout,
       at most half a second (a send to it fails): its jobs and leases go
       to others. ZeroMQ's answer time is the same (below): a vanished
       peer's jobs and leases move within the timeout plus 1 s. */
    self->ping_ms = heartbeat_ms / 5 < 500 ? heartbeat_ms / 5 : 500;
    if (s_config_uint (self, "schema-threads", 1, 8, &vthreads) ||
        s_config_uint (self, "schema-budget-ms", 1, 60000, &event_ms) ||
        s_config_uint (self, "schema-batch-budget-ms", 1, 600000, &batch_ms))
        return EF_EINVAL;
    if (strcmp (durability, "fsync") && strcmp (durability, "os")) {
        ef_log_error (self->log, "durability must be fsync or os", NULL);
        return EF_EINVAL;
    }
    self->scratch = calloc (self->max_batch, sizeof *self->scratch);
    if (!self->scratch)
        return EF_ENOMEM;

    self->store = ef_store_new (dir);
    if (!self->store)
        return EF_ENOMEM;
    ef_store_set_map_size (self->store, (uint64_t)map_size);
    ef_store_set_sync (self->store, strcmp (durability, "fsync") == 0);
    const char *why = NULL;
    int rc = ef_store_open (self->store, &why);
    if (rc) {
        ef_log_error (self->log, "cannot open the store",
                      "\"dir\":\"%s\",\"why\":\"%s\"", dir, why ? why : "");
        return rc;
    }
    if (ef_store_format_found (self->store) != EF_STORE_FORMAT)
        ef_log_info (self->log, "store format written",
                     "\"dir\":\"%s\",\"found\":%u,\"format\":%u", dir,
                     ef_store_format_found (self->store), EF_STORE_FORMAT);
    self->reader = ef_store_reader_new (self->store);
    self->auth = ef_auth_new (self->store, self->cfg, self->log);
    self->done = ef_mailbox_new ();
    if (!self->reader || !self->auth || !self->done)
        return EF_ENOMEM;
    if ((rc = ef_auth_open (self->auth, dir)))
        return rc;
    self->backup = ef_backup_new (self->store, dir, self->log);
    if (!self->backup)
        return EF_ENOMEM;
    int64_t threads = ef_config_get_int (self->cfg, "hash-threads", 0, &err);
    if (err || threads <= 0) {
        /* argon2id is memory-hard: two at once on two cores cut ingest by
           more than half (tests/bench/login.sh), one keeps it at ~90% */
        long cores = sysconf (_SC_NPROCESSORS_ONLN);
        threads = cores > 1 ? (cores - 1) / 2 : 1;
        if (threads < 1)
            threads = 1;
        err = 0;
    }
    self->writer =
        ef_writer_new (self->store, self->done, self->metrics, self->log);
    self->room = ef_room_new ();
    if (self->writer && self->room) {
        ef_engine_set_room (ef_writer_engine (self->writer), self->room);
        ef_engine_set_series (ef_writer_engine (self->writer), self->series);
        ef_engine_set_limits (ef_writer_engine (self->writer),
                              self->max_payload, max_hops);
        ef_writer_set_retention (self->writer, retention_ms);
    }
    self->hasher = ef_hasher_new (err ? 2 : (uint32_t)threads, 256, self->done);
    /* each request waiting holds its frame: 16 per org, 256 in all */
    self->validator =
        ef_validator_new (vthreads, 16, 256, event_ms, batch_ms, self->done);
    if (!self->writer || !self->hasher || !self->room || !self->validator)
        return EF_ENOMEM;
    ef_engine_set_schema_budget (ef_writer_engine (self->writer), event_ms);
    if ((rc = ef_hasher_start (self->hasher)) ||
        (rc = ef_validator_start (self->validator)))
        return rc;

    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGTERM);
    self->sigfd = signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);

    self->ctx = zmq_ctx_new ();
    /* connections are spread over the I/O threads, and each thread's
       timer walk (above) covers its own connections only */
    if (self->ctx)
        zmq_ctx_set (self->ctx, ZMQ_IO_THREADS, S_IO_THREADS);
    self->router = self->ctx ? zmq_socket (self->ctx, ZMQ_ROUTER) : NULL;
    if (!self->router)
        return EF_ENOMEM;
    /* ZMTP heartbeats: a peer silent for heartbeat-timeout (a stopped
       process, a dead link) is disconnected, and what was sent to it
       (pushes) fails, which ends its subscriptions. One ping per timeout,
       answered (or any other frame) within a fifth of it, at most half a
       second: a peer that vanished is dropped within the timeout plus
       that. libzmq finds the timer it cancels at each answer by walking
       its I/O thread's timers, and a short answer time keeps that walk
       short.
       Each ping and its answer wake an I/O thread: 10,000 idle
       connections cost the broker about 5% of a core at a 5 s timeout and
       half that at the default 10 s (tests/bench/many_clients.sh). The
       pings carry a TTL of 1.5 timeouts: a client that sends no pings of
       its own (libeventflow) drops a broker silent that long. */
    int ttl = (int)heartbeat_ms * 3 / 2, ivl = (int)heartbeat_ms;
    int answer = (int)self->ping_ms;
    int one = 1, hwm = 1000000, linger = 2000;
    int64_t maxmsg = self->max_message;
    zmq_setsockopt (self->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    /* a peer that connects again with the routing id it had (ZMQ_ROUTING_ID)
       takes it over: the newest connection wins, the old one is closed
       (without it the newcomer would be refused and go unanswered) */
    zmq_setsockopt (self->router, ZMQ_ROUTER_HANDOVER, &one, sizeof one);
    zmq_setsockopt (self->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt (self->router, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (self->router, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (self->router, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt (self->router, ZMQ_HEARTBEAT_TIMEOUT, &answer,
                    sizeof answer);
    zmq_setsockopt (self->router, ZMQ_HEARTBEAT_TTL, &ttl, sizeof ttl);
    zmq_setsockopt (self->router, ZMQ_LINGER, &linger, sizeof linger);
    /* counted, so that memory is given back after many closed */
    self->conns = ef_conns_new (self->ctx, self->router, self->log);
    const char *endpoint = ef_config_get (self->cfg, "endpoint");
    if ((rc = s_security (self, endpoint)))
        return rc;
    if (zmq_bind (self->router, endpoint)) {
        ef_log_error (self->log, "cannot bind",
                      "\"endpoint\":\"%s\",\"why\":\"%s\"", endpoint,
                      zmq_strerror (errno));
        return EF_EINVAL;
    }
    size_t len = sizeof self->endpoint;
    zmq_getsockopt (self->router, ZMQ_LAST_ENDPOINT, self->endpoint, &len);
    if ((rc = s_modules (self)))
        return rc;
    if ((rc = ef_writer_start (self->writer)))
        return rc;
    ef_log_info (self->log, "ready",
                 "\"endpoint\":\"%s\",\"data_dir\":\"%s\",\"durability\":"
                 "\"%s\",\"curve\":%s,\"version\":\"%s\"",
                 self->endpoint, dir, durability,
                 self->curve ? "true" : "false", EF_VERSION);
    return 0;
}

const char *
ef_broker_endpoint (const ef_broker_t *self)
{
    return self->endpoint;
}

int
ef_broker_run (ef_broker_t *self)
{
    zmq_pollitem_t items[4] = {
        {self->router, 0, ZMQ_POLLIN, 0},
        {NULL, ef_mailbox_fd (self->done), ZMQ_POLLIN, 0},
        {ef_conns_socket (self->conns), self->conns ? 0 : -1, ZMQ_POLLIN, 0},
        {NULL, self->sigfd, ZMQ_POLLIN, 0},
    };
    int nitems = self->sigfd >= 0 ? 4 : 3;
    /* systemd (Type=notify): ready once bound, the watchdog fed from the
       reactor's turns, so a reactor that hangs is restarted */
    ef_notify_t *notify = ef_notify_new ();
    int tick_ms = ef_notify_tick_ms (notify);
    ef_notify_ready (notify, "serving");
    while (!self->stopping) {
        ef_notify_tick (notify);
        ef_workers_tick (self->workers);
        ef_consume_tick (self->consume);
        int wait = ef_consume_expire (self->consume, 250);
        if (tick_ms >= 0 && wait > tick_ms)
            wait = tick_ms;
        if (zmq_poll (items, nitems, wait < 0 ? 0 : wait) < 0 && errno != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN)
            for (int i = 0; i < S_DRAIN_MAX && s_recv (self); i++)
                ;
        s_send_finished (self);
        if (items[2].revents & ZMQ_POLLIN)
            ef_conns_drain (self->conns);
        ef_conns_tick (self->conns);
        if (nitems == 4 && (items[3].revents & ZMQ_POLLIN)) {
            struct signalfd_siginfo si;
            if (read (self->sigfd, &si, sizeof si) == sizeof si)
                ef_log_info (self->log, "stopping", "\"signal\":%u",
                             si.ssi_signo);
            self->stopping = 1;
        }
        if (ef_store_broken (self->store)) {
            ef_log_error (self->log, "store is broken; exiting",
                          "\"why\":\"%s\"", ef_store_broken_why (self->store));
            /* what the writer holds is refused (no write begins on a
               broken store) and answered before the exit */
            ef_writer_stop (self->writer);
            self->writer_stopped = 1;
            s_send_finished (self);
            ef_notify_destroy (&notify);
            return EF_ESTORE;
        }
    }
    ef_notify_stopping (notify);
    ef_notify_destroy (&notify);
    /* finish what was accepted: hash, commit, then answer; requests that
       would start new work now are answered UNAVAILABLE */
    ef_consume_expire_all (self->consume);
    ef_consume_destroy (&self->consume);
    ef_workers_destroy (&self->workers);
    ef_hasher_destroy (&self->hasher);
    ef_validator_destroy (&self->validator);
    s_send_finished (self);
    ef_writer_stop (self->writer);
    self->writer_stopped = 1;
    s_send_finished (self);
    ef_log_info (
        self->log, "stopped", "\"published\":%llu",
        (unsigned long long)ef_metrics_get (self->metrics, EF_M_PUBLISHED));
    return 0;
}

void
ef_broker_destroy (ef_broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_broker_t *self = *self_p;
    ef_backup_destroy (&self->backup); /* waits for a running copy */
    ef_hasher_destroy (&self->hasher);
    ef_validator_destroy (&self->validator);
    ef_consume_destroy (&self->consume); /* not run: nothing parked */
    ef_workers_destroy (&self->workers);
    ef_writer_destroy (&self->writer);
    ef_dlq_destroy (&self->dlq);
    ef_admin_destroy (&self->admin);
    ef_streams_destroy (&self->streams);
    ef_publish_destroy (&self->publish);
    ef_room_destroy (&self->room);
    ef_schema_cache_destroy (&self->schemas);
    ef_conns_destroy (&self->conns);
    if (self->router)
        zmq_close (self->router);
    ef_zap_destroy (&self->zap);
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    while (self->pool) {
        ef_wreq_t *next = self->pool->next;
        s_wreq_free (self->pool);
        self->pool = next;
    }
    ef_store_reader_destroy (&self->reader);
    ef_auth_destroy (&self->auth);
    ef_mailbox_destroy (&self->done);
    ef_store_destroy (&self->store);
    ef_query_destroy (&self->query);
    ef_metrics_destroy (&self->metrics);
    ef_series_destroy (&self->series);
    ef_buf_free (&self->out);
    free (self->scratch);
    if (self->sigfd >= 0)
        close (self->sigfd);
    free (self);
    *self_p = NULL;
}
