/*  ef_broker.c: the reactor. One ROUTER socket, drained fully on each
    wake-up; every frame is decoded, checked and dispatched through one
    table (a row per command: handler and whether it writes). Reads are
    answered at once from a store snapshot; writes go to the group-commit
    writer and are answered when their commit returned. Errors are turned
    into replies in one place, s_answer_error. */
#include "ef_broker.h"
#include "ef_metrics.h"
#include "ef_query.h"
#include "ef_store.h"
#include "ef_writer.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_proto.h"
#include "eventflow/ef_time.h"
#include "eventflow/ef_uuid.h"

#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <zmq.h>

#define S_DEFAULT_ORG 1 /* until tenancy arrives, one org */
#define S_DRAIN_MAX   512

const ef_config_opt_t ef_broker_options[] = {
    {"data-dir", "EVENTFLOW_DATA_DIR", "./var/eventflow",
     "data directory (LMDB store, keys)"},
    {"endpoint", "EVENTFLOW_BROKER_ENDPOINT", "tcp://127.0.0.1:5555",
     "ZeroMQ endpoint to bind (tcp://HOST:PORT, PORT * = any; ipc://PATH)"},
    {"durability", "EVENTFLOW_DURABILITY", "fsync",
     "fsync = acknowledged means on disk; os = leave flushing to the OS"},
    {"map-size", "EVENTFLOW_MAP_SIZE", "64G",
     "largest size the store may grow to"},
    {"max-message", "EVENTFLOW_MAX_MESSAGE", "4M", "largest frame accepted"},
    {"max-batch", "EVENTFLOW_MAX_BATCH", "1000", "most events per PUBLISH"},
    {"max-payload", "EVENTFLOW_MAX_PAYLOAD", "1M", "largest event payload"},
    {"log-level", "EVENTFLOW_LOG_LEVEL", "info", "debug, info, warn, error"},
    {NULL, NULL, NULL, NULL},
};

struct ef_broker {
    const ef_config_t *cfg;
    ef_log_t *log;
    char endpoint[256];
    uint32_t max_message, max_batch, max_payload;
    void *ctx;
    void *router;
    int sigfd;
    ef_store_t *store;
    ef_store_txn_t *reader;
    ef_writer_t *writer;
    ef_query_t *query;
    ef_metrics_t *metrics;
    ef_wreq_t *pool;          /* free write requests */
    ef_event_in_t *scratch;   /* decode target, max_batch items */
    ef_buf_t out;             /* reply to the request in hand */
    ef_uuid_gen_t uuids;      /* event ids, increasing */
    int stopping;
};

typedef int (s_handler_fn) (ef_broker_t *self, ef_wreq_t *w, const char **why);

enum { S_WRITES = 1 };

typedef struct {
    ef_cmd_t cmd;
    s_handler_fn *fn;
    int flags;
} s_command_t;

/* ---------------------------------------------------------------- pool */

static ef_wreq_t *
s_wreq_get (ef_broker_t *self)
{
    ef_wreq_t *w = self->pool;
    if (w) {
        self->pool = w->next;
    } else {
        w = calloc (1, sizeof *w);
        if (!w)
            return NULL;
        ef_buf_init (&w->records);
    }
    w->next = NULL;
    w->status = 0;
    w->why = NULL;
    zmq_msg_init (&w->peer);
    zmq_msg_init (&w->frame);
    return w;
}

static void
s_wreq_put (ef_broker_t *self, ef_wreq_t *w)
{
    zmq_msg_close (&w->peer);
    zmq_msg_close (&w->frame);
    ef_buf_reset (&w->records);
    w->next = self->pool;
    self->pool = w;
}

static void
s_wreq_free (ef_wreq_t *w)
{
    ef_buf_free (&w->records);
    free (w->results);
    free (w);
}

static int
s_wreq_reserve (ef_wreq_t *w, uint32_t n)
{
    if (w->results_cap >= n)
        return 0;
    ef_wresult_t *res = realloc (w->results, n * sizeof *res);
    if (!res)
        return EF_ENOMEM;
    w->results = res;
    w->results_cap = n;
    return 0;
}

/* ---------------------------------------------------------------- replies */

/*  Send body to peer. A peer that has gone, or whose queue is full, cannot
    be answered: that is counted and logged, never blocking the reactor. */
static void
s_send (ef_broker_t *self, zmq_msg_t *peer, const void *body, size_t len)
{
    zmq_msg_t id;
    zmq_msg_init (&id);
    zmq_msg_copy (&id, peer);
    if (zmq_msg_send (&id, self->router, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&id);
        ef_metrics_add (self->metrics, EF_M_UNROUTABLE, 1);
        ef_log_debug (self->log, "reply not routable", "\"errno\":%d", errno);
        return;
    }
    if (zmq_send (self->router, body, len, ZMQ_DONTWAIT) < 0)
        ef_metrics_add (self->metrics, EF_M_UNROUTABLE, 1);
}

static void
s_answer_error (ef_broker_t *self, ef_wreq_t *w, int code, const char *why)
{
    ef_buf_reset (&self->out);
    ef_proto_reply_error (&self->out, w->req.id, code, why, 0);
    s_send (self, &w->peer, self->out.data, self->out.len);
    if (code == EF_EPROTO)
        ef_metrics_add (self->metrics, EF_M_MALFORMED, 1);
    if (w->req.cmd == EF_CMD_PUBLISH)
        ef_metrics_add (self->metrics, EF_M_REJECTED,
                        w->req.n_events ? w->req.n_events : 1);
}

/* ---------------------------------------------------------------- handlers */

static int
s_hello (ef_broker_t *self, ef_wreq_t *w, const char **why)
{
    (void) why;
    ef_hello_t h = {ef_str ("eventflow-broker"), ef_str (EF_VERSION),
                    EF_PROTO_VERSION, self->max_message, self->max_batch,
                    self->max_payload, EF_MAX_READ};
    ef_proto_reply_ok (&self->out, w->req.id, 4);
    ef_proto_write_hello (&self->out, &h);
    return 0;
}

static int
s_ping (ef_broker_t *self, ef_wreq_t *w, const char **why)
{
    (void) why;
    ef_proto_reply_ok (&self->out, w->req.id, 1);
    ef_mp_key (&self->out, "now");
    ef_mp_uint (&self->out, ef_time_now_ms ());
    return 0;
}

static int
s_stats (ef_broker_t *self, ef_wreq_t *w, const char **why)
{
    (void) why;
    ef_stats_t st = {0};
    int rc = ef_store_figures (self->reader, &st.streams, &st.events,
                               &st.store_bytes);
    if (rc)
        return rc;
    st.map_size = ef_store_map_size (self->store);
    st.published = ef_metrics_get (self->metrics, EF_M_PUBLISHED);
    st.duplicates = ef_metrics_get (self->metrics, EF_M_DUPLICATES);
    st.rejected = ef_metrics_get (self->metrics, EF_M_REJECTED);
    st.malformed = ef_metrics_get (self->metrics, EF_M_MALFORMED);
    st.commits = ef_metrics_get (self->metrics, EF_M_COMMITS);
    st.requests = ef_metrics_get (self->metrics, EF_M_REQUESTS);
    ef_proto_reply_ok (&self->out, w->req.id, 1);
    ef_mp_key (&self->out, "stats");
    ef_proto_write_stats (&self->out, &st);
    return 0;
}

#define S_QUERY(name, fn)                                                      \
    static int name (ef_broker_t *self, ef_wreq_t *w, const char **why)       \
    {                                                                          \
        return fn (self->query, self->reader, w->org, &w->req, &self->out,    \
                   why);                                                       \
    }
S_QUERY (s_get_stream, ef_query_get_stream)
S_QUERY (s_list_streams, ef_query_list_streams)
S_QUERY (s_get_event, ef_query_get_event)
S_QUERY (s_read, ef_query_read)
S_QUERY (s_list_events, ef_query_list_events)

static int
s_valid_stream_name (ef_str_t name)
{
    if (name.len == 0 || name.len > EF_MAX_STREAM_NAME)
        return 0;
    for (uint32_t i = 0; i < name.len; i++) {
        char c = name.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int
s_create_stream (ef_broker_t *self, ef_wreq_t *w, const char **why)
{
    (void) self;
    if (!s_valid_stream_name (w->req.name)) {
        *why = "stream names are 1 to 128 of [A-Za-z0-9._-]";
        return EF_EINVAL;
    }
    return 0;
}

/*  Everything about a PUBLISH that needs no store write happens here, on
    the reactor thread: item checks, ids, enrichment and the records
    themselves. The writer then only assigns seqs and appends. */
static int
s_publish (ef_broker_t *self, ef_wreq_t *w, const char **why)
{
    int rc = ef_store_stream_find (self->reader, w->org, w->req.stream,
                                   &w->stream);
    if (rc) {
        *why = rc == EF_ENOTFOUND ? "no such stream" : NULL;
        return rc;
    }
    if (s_wreq_reserve (w, w->req.n_events))
        return EF_ENOMEM;
    uint64_t now = ef_time_now_ms ();
    ef_buf_reset (&w->records);
    for (uint32_t i = 0; i < w->req.n_events; i++) {
        ef_event_in_t *ev = &self->scratch[i];
        ef_wresult_t *res = &w->results[i];
        memset (res, 0, offsetof (ef_wresult_t, event_id));
        res->code = ef_proto_check_event (ev, self->max_payload);
        res->err_msg = ev->err_msg;
        if (res->code)
            continue;
        if (ef_str_set (ev->event_id)) {
            ef_uuid_parse (ev->event_id.ptr, ev->event_id.len, &res->id);
            res->id_given = 1;
        } else
            ef_uuid_gen_v7 (&self->uuids, now, &res->id);
        ef_uuid_format (&res->id, res->event_id);
        res->received_at = now;
        ef_event_t e = {0};
        e.event_id = (ef_str_t){res->event_id, EF_UUID_STRLEN};
        e.type = ev->type;
        e.version = ev->version ? ev->version : 1;
        e.occurred_at = ev->occurred_at ? ev->occurred_at : now;
        e.received_at = now;
        e.source = ef_str_set (ev->source) ? ev->source : ef_str ("native");
        e.api_key_id = EF_STR_NULL;
        e.trace_id = ev->trace_id;
        e.correlation_id = ev->correlation_id;
        e.payload = ev->payload;
        res->rec_off = (uint32_t) w->records.len;
        ef_proto_write_event_record (&w->records, &e);
        res->rec_len = (uint32_t) (w->records.len - res->rec_off);
    }
    return w->records.oom ? EF_ENOMEM : 0;
}

static const s_command_t s_commands[] = {
    {EF_CMD_HELLO, s_hello, 0},
    {EF_CMD_PING, s_ping, 0},
    {EF_CMD_CREATE_STREAM, s_create_stream, S_WRITES},
    {EF_CMD_LIST_STREAMS, s_list_streams, 0},
    {EF_CMD_GET_STREAM, s_get_stream, 0},
    {EF_CMD_PUBLISH, s_publish, S_WRITES},
    {EF_CMD_GET_EVENT, s_get_event, 0},
    {EF_CMD_READ, s_read, 0},
    {EF_CMD_LIST_EVENTS, s_list_events, 0},
    {EF_CMD_STATS, s_stats, 0},
};

static const s_command_t *
s_command (ef_cmd_t cmd)
{
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        if (s_commands[i].cmd == cmd)
            return &s_commands[i];
    return NULL;
}

/* ---------------------------------------------------------------- dispatch */

/*  Decode, check and run one request. Takes ownership of w. */
static void
s_dispatch (ef_broker_t *self, ef_wreq_t *w)
{
    const char *why = NULL;
    ef_metrics_add (self->metrics, EF_M_REQUESTS, 1);
    int rc = ef_proto_decode_request (zmq_msg_data (&w->frame),
                                      zmq_msg_size (&w->frame), &w->req,
                                      self->scratch, self->max_batch, &why);
    const s_command_t *c = rc ? NULL : s_command (w->req.cmd);
    if (!rc && !c)
        rc = EF_EUNKNOWN_CMD;
    if (rc) {
        s_answer_error (self, w, rc, why);
        s_wreq_put (self, w);
        return;
    }
    w->org = S_DEFAULT_ORG;
    ef_buf_reset (&self->out);
    if ((rc = ef_store_reader_begin (self->reader)) == 0) {
        rc = c->fn (self, w, &why);
        ef_store_reader_end (self->reader);
    }
    if (rc) {
        s_answer_error (self, w, rc, why);
        s_wreq_put (self, w);
    } else if (c->flags & S_WRITES) {
        ef_writer_submit (self->writer, w);
    } else {
        s_send (self, &w->peer, self->out.data, self->out.len);
        s_wreq_put (self, w);
    }
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
        s_answer_error (self, w, EF_EPROTO,
                        "a request is exactly one frame");
        s_wreq_put (self, w);
        return 1;
    }
    s_dispatch (self, w);
    return 1;
}

/*  The reply to a write the writer has finished. */
static void
s_encode_write_reply (ef_broker_t *self, ef_wreq_t *w)
{
    ef_buf_t *out = &self->out;
    ef_buf_reset (out);
    if (w->status) {
        ef_proto_reply_error (out, w->req.id, w->status, w->why, 0);
        if (w->req.cmd == EF_CMD_PUBLISH)
            ef_metrics_add (self->metrics, EF_M_REJECTED, w->req.n_events);
        return;
    }
    if (w->req.cmd == EF_CMD_CREATE_STREAM) {
        ef_stream_info_t s = {ef_str (w->stream.id), ef_str (w->stream.name),
                              w->stream.created_at, 0, 0, 0};
        ef_proto_reply_ok (out, w->req.id, 1);
        ef_mp_key (out, "stream");
        ef_proto_write_stream (out, &s);
        return;
    }
    uint64_t accepted = 0, dups = 0, rejected = 0;
    ef_proto_reply_ok (out, w->req.id, 1);
    ef_mp_key (out, "results");
    ef_mp_array (out, w->req.n_events);
    for (uint32_t i = 0; i < w->req.n_events; i++) {
        const ef_wresult_t *res = &w->results[i];
        ef_publish_result_t r = {0};
        r.code = res->code;
        r.index = i;
        if (res->code) {
            r.message = ef_str (res->err_msg);
            rejected++;
        } else {
            r.event_id = (ef_str_t){res->event_id, EF_UUID_STRLEN};
            r.seq = res->seq;
            r.received_at = res->received_at;
            r.duplicate = res->duplicate;
            dups += res->duplicate;
            accepted += !res->duplicate;
        }
        ef_proto_write_result (out, &r);
    }
    ef_metrics_add (self->metrics, EF_M_PUBLISHED, accepted);
    ef_metrics_add (self->metrics, EF_M_DUPLICATES, dups);
    ef_metrics_add (self->metrics, EF_M_REJECTED, rejected);
}

static void
s_send_finished (ef_broker_t *self)
{
    ef_wreq_t *w = ef_writer_collect (self->writer);
    while (w) {
        ef_wreq_t *next = w->next;
        s_encode_write_reply (self, w);
        s_send (self, &w->peer, self->out.data, self->out.len);
        s_wreq_put (self, w);
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
    ef_uuid_gen_init (&self->uuids);
    self->metrics = ef_metrics_new ();
    self->query = ef_query_new ();
    if (!self->metrics || !self->query) {
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
    *out = (uint32_t) v;
    return 0;
}

int
ef_broker_open (ef_broker_t *self)
{
    const char *dir = ef_config_get (self->cfg, "data-dir");
    const char *durability = ef_config_get (self->cfg, "durability");
    int err;
    int64_t map_size = ef_config_get_int (self->cfg, "map-size", 0, &err);
    if (err || map_size < (1 << 20)) {
        ef_log_error (self->log, "invalid configuration value",
                      "\"option\":\"map-size\"");
        return EF_EINVAL;
    }
    if (s_config_uint (self, "max-message", 1024, 1u << 30, &self->max_message)
        || s_config_uint (self, "max-batch", 1, 100000, &self->max_batch)
        || s_config_uint (self, "max-payload", 16, 1u << 30,
                          &self->max_payload))
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
    ef_store_set_map_size (self->store, (uint64_t) map_size);
    ef_store_set_sync (self->store, strcmp (durability, "fsync") == 0);
    const char *why = NULL;
    int rc = ef_store_open (self->store, &why);
    if (rc) {
        ef_log_error (self->log, "cannot open the store",
                      "\"dir\":\"%s\",\"why\":\"%s\"", dir, why ? why : "");
        return rc;
    }
    self->reader = ef_store_reader_new (self->store);
    self->writer = ef_writer_new (self->store, self->metrics, self->log);
    if (!self->reader || !self->writer)
        return EF_ENOMEM;

    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGTERM);
    self->sigfd = signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);

    self->ctx = zmq_ctx_new ();
    self->router = self->ctx ? zmq_socket (self->ctx, ZMQ_ROUTER) : NULL;
    if (!self->router)
        return EF_ENOMEM;
    int one = 1, hwm = 1000000, ivl = 1000, ttl = 5000, linger = 2000;
    int64_t maxmsg = self->max_message;
    zmq_setsockopt (self->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    zmq_setsockopt (self->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt (self->router, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (self->router, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (self->router, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt (self->router, ZMQ_HEARTBEAT_TIMEOUT, &ttl, sizeof ttl);
    zmq_setsockopt (self->router, ZMQ_LINGER, &linger, sizeof linger);
    const char *endpoint = ef_config_get (self->cfg, "endpoint");
    if (zmq_bind (self->router, endpoint)) {
        ef_log_error (self->log, "cannot bind",
                      "\"endpoint\":\"%s\",\"why\":\"%s\"", endpoint,
                      zmq_strerror (errno));
        return EF_EINVAL;
    }
    size_t len = sizeof self->endpoint;
    zmq_getsockopt (self->router, ZMQ_LAST_ENDPOINT, self->endpoint, &len);
    if ((rc = ef_writer_start (self->writer)))
        return rc;
    ef_log_info (self->log, "ready",
                 "\"endpoint\":\"%s\",\"data_dir\":\"%s\",\"durability\":"
                 "\"%s\",\"version\":\"%s\"",
                 self->endpoint, dir, durability, EF_VERSION);
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
    zmq_pollitem_t items[3] = {
        {self->router, 0, ZMQ_POLLIN, 0},
        {NULL, ef_writer_fd (self->writer), ZMQ_POLLIN, 0},
        {NULL, self->sigfd, ZMQ_POLLIN, 0},
    };
    int nitems = self->sigfd >= 0 ? 3 : 2;
    while (!self->stopping) {
        if (zmq_poll (items, nitems, 1000) < 0 && errno != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN)
            for (int i = 0; i < S_DRAIN_MAX && s_recv (self); i++)
                ;
        s_send_finished (self);
        if (nitems == 3 && (items[2].revents & ZMQ_POLLIN)) {
            struct signalfd_siginfo si;
            if (read (self->sigfd, &si, sizeof si) == sizeof si)
                ef_log_info (self->log, "stopping", "\"signal\":%u",
                             si.ssi_signo);
            self->stopping = 1;
        }
        if (ef_store_broken (self->store)) {
            ef_log_error (self->log, "store is broken; exiting", NULL);
            return EF_ESTORE;
        }
    }
    /* finish what was accepted: commit, then answer */
    ef_writer_stop (self->writer);
    s_send_finished (self);
    ef_log_info (self->log, "stopped", "\"published\":%llu",
                 (unsigned long long) ef_metrics_get (self->metrics,
                                                      EF_M_PUBLISHED));
    return 0;
}

void
ef_broker_destroy (ef_broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_broker_t *self = *self_p;
    ef_writer_destroy (&self->writer);
    if (self->router)
        zmq_close (self->router);
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    while (self->pool) {
        ef_wreq_t *next = self->pool->next;
        s_wreq_free (self->pool);
        self->pool = next;
    }
    ef_store_reader_destroy (&self->reader);
    ef_store_destroy (&self->store);
    ef_query_destroy (&self->query);
    ef_metrics_destroy (&self->metrics);
    ef_buf_free (&self->out);
    free (self->scratch);
    if (self->sigfd >= 0)
        close (self->sigfd);
    free (self);
    *self_p = NULL;
}
