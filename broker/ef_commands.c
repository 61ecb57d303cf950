/*  ef_commands.c: the stream and event commands of the broker and the
    table of every command: its handler, whether it writes, and the roles
    that may run it. The dispatcher (ef_broker.c) checks frame, principal
    and role before any handler here runs. */
#include "ef_broker_int.h"
#include "ef_process.h"
#include "ef_engine.h"
#include "ef_groups.h"
#include "ef_pipeline.h"
#include "ef_schema.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_time.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
ef_commands_reserve (ef_wreq_t *w, uint32_t n)
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

typedef struct {
    ef_store_txn_t *txn;
    ef_buf_t *tmp;
    uint32_t n;
    const ef_stream_rec_t *stream;
    uint64_t head;
} s_lags_t;

static int
s_group_lag (void *arg, const ef_group_t *g)
{
    s_lags_t *l = arg;
    ef_mp_map (l->tmp, 3);
    ef_mp_key (l->tmp, "stream");
    ef_mp_cstr (l->tmp, l->stream->name);
    ef_mp_key (l->tmp, "group");
    ef_mp_cstr (l->tmp, g->name);
    ef_mp_key (l->tmp, "lag");
    ef_mp_uint (l->tmp, l->head > g->committed ? l->head - g->committed : 0);
    l->n++;
    return l->n >= 10000; /* bounded: /metrics is not a database */
}

static int
s_stream_lags (void *arg, const ef_stream_rec_t *s)
{
    s_lags_t *l = arg;
    uint64_t first;
    if (ef_store_stream_bounds (l->txn, s->num, &first, &l->head))
        return 0;
    l->stream = s;
    ef_groups_each (l->txn, s->num, s_group_lag, l);
    return l->n >= 10000;
}

/*  STATS' "processing" map: retries, dead letters, workers and the
    processing latency histogram (protocol.md §6). */
static void
s_processing_stats (ef_broker_t *self)
{
    uint64_t dlq = 0, buckets[EF_M_LATENCY_BUCKETS + 1], count, sum;
    ef_process_dlq_count (self->reader, &dlq);
    ef_metrics_latency_get (self->metrics, buckets, &count, &sum);
    ef_buf_t *b = &self->out;
    ef_mp_key (b, "processing");
    ef_mp_map (b, 8);
    ef_mp_key (b, "retries");
    ef_mp_uint (b, ef_metrics_get (self->metrics, EF_M_RETRIES));
    ef_mp_key (b, "dead");
    ef_mp_uint (b, ef_metrics_get (self->metrics, EF_M_DEAD));
    ef_mp_key (b, "jobs_done");
    ef_mp_uint (b, ef_metrics_get (self->metrics, EF_M_JOBS_DONE));
    ef_mp_key (b, "dlq_size");
    ef_mp_uint (b, dlq);
    ef_mp_key (b, "workers");
    ef_mp_uint (b, ef_workers_count (self));
    ef_mp_key (b, "latency_count");
    ef_mp_uint (b, count);
    ef_mp_key (b, "latency_sum_ms");
    ef_mp_uint (b, sum);
    ef_mp_key (b, "latency_buckets"); /* cumulative; [le_ms, count] */
    ef_mp_array (b, EF_M_LATENCY_BUCKETS + 1);
    for (uint32_t i = 0; i <= EF_M_LATENCY_BUCKETS; i++) {
        ef_mp_array (b, 2);
        if (i < EF_M_LATENCY_BUCKETS)
            ef_mp_uint (b, ef_metrics_latency_le_ms[i]);
        else
            ef_mp_nil (b);
        ef_mp_uint (b, buckets[i]);
    }
}

/*  STATS: the operator (ef_auth_is_operator) gets the broker's figures
    and every org's lags; anyone else only the figures of their own org
    (streams, events, lags), never the broker-wide counters. */
static int
s_stats (ef_broker_t *self, ef_wreq_t *w, const char **why)
{
    (void) why;
    ef_stats_t st = {0};
    int rc = ef_store_figures (self->reader, w->org, &st.streams, &st.events,
                               &st.store_bytes);
    if (rc)
        return rc;
    int operator = ef_auth_is_operator (self->auth, &w->who);
    if (!operator) {
        ef_proto_reply_ok (&self->out, w->req.id, 2);
        ef_mp_key (&self->out, "stats");
        ef_mp_map (&self->out, 2);
        ef_mp_key (&self->out, "streams");
        ef_mp_uint (&self->out, st.streams);
        ef_mp_key (&self->out, "events");
        ef_mp_uint (&self->out, st.events);
    }
    st.map_size = ef_store_map_size (self->store);
    st.published = ef_metrics_get (self->metrics, EF_M_PUBLISHED);
    st.duplicates = ef_metrics_get (self->metrics, EF_M_DUPLICATES);
    st.rejected = ef_metrics_get (self->metrics, EF_M_REJECTED);
    st.malformed = ef_metrics_get (self->metrics, EF_M_MALFORMED);
    st.commits = ef_metrics_get (self->metrics, EF_M_COMMITS);
    st.requests = ef_metrics_get (self->metrics, EF_M_REQUESTS);
    if (operator) {
        ef_proto_reply_ok (&self->out, w->req.id, 3);
        ef_mp_key (&self->out, "stats");
        ef_proto_write_stats (&self->out, &st);
        s_processing_stats (self);
    }
    /* every group's lag, for eventflow_consumer_lag{stream,group} */
    ef_buf_t tmp;
    ef_buf_init (&tmp);
    s_lags_t l = {self->reader, &tmp, 0, NULL, 0};
    rc = ef_store_stream_each (self->reader, w->org, s_stream_lags, &l);
    ef_mp_key (&self->out, "lags");
    ef_mp_array (&self->out, rc ? 0 : l.n);
    if (rc == 0)
        ef_buf_append (&self->out, tmp.data, tmp.len);
    ef_buf_free (&tmp);
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


/*  A stream's schema and pipeline must compile before they are kept. */
static int
s_check_config (ef_broker_t *self, ef_wreq_t *w, const char **why)
{
    int err = 0;
    char msg[256] = "";
    if (ef_str_set (w->req.schema) && w->req.schema.len) {
        if (w->req.schema.len > 262144) {
            *why = "a schema is at most 256 KiB";
            return EF_ETOOBIG;
        }
        ef_schema_t *sc = ef_schema_compile (w->req.schema.ptr,
                                             w->req.schema.len, &err, msg,
                                             sizeof msg);
        if (!sc) {
            snprintf (self->why, sizeof self->why, "invalid schema: %s", msg);
            *why = self->why;
            return EF_EINVAL;
        }
        ef_schema_destroy (&sc);
    }
    if (ef_str_set (w->req.pipeline) && w->req.pipeline.len) {
        if (w->req.pipeline.len > 262144) {
            *why = "a pipeline is at most 256 KiB";
            return EF_ETOOBIG;
        }
        ef_pipeline_t *p = ef_pipeline_compile (w->req.pipeline.ptr,
                                                w->req.pipeline.len, &err, msg,
                                                sizeof msg);
        if (!p) {
            snprintf (self->why, sizeof self->why, "invalid pipeline: %s", msg);
            *why = self->why;
            return EF_EINVAL;
        }
        uint64_t steps = ef_auth_quota (self->auth, EF_QUOTA_PIPELINE_STEPS);
        uint32_t n = p->n;
        ef_pipeline_destroy (&p);
        if (steps && n > steps) {
            snprintf (self->why, sizeof self->why,
                      "the org's quota is %llu pipeline steps per stream",
                      (unsigned long long) steps);
            *why = self->why;
            return EF_EQUOTA;
        }
    }
    return 0;
}

static int
s_create_stream (ef_broker_t *self, ef_wreq_t *w, const char **why)
{
    if (!ef_proto_name_valid (w->req.name)) {
        *why = "stream names are 1 to 128 of [A-Za-z0-9._-], not . or ..";
        return EF_EINVAL;
    }
    w->quota = ef_auth_quota (self->auth, EF_QUOTA_STREAMS);
    return s_check_config (self, w, why);
}

/* ---------------------------------------------------------------- schemas */

#define S_SCHEMAS 64

/*  Compiled stream schemas, kept while their text stays the same. */
struct ef_schema_cache {
    struct {
        uint32_t num;
        uint64_t hash;
        ef_schema_t *schema;
    } slot[S_SCHEMAS];
};

static uint64_t
s_hash (ef_str_t s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (uint32_t i = 0; i < s.len; i++)
        h = (h ^ (uint8_t) s.ptr[i]) * 1099511628211ull;
    return h ^ s.len;
}

/*  The stream's compiled schema (NULL when it has none). */
static ef_schema_t *
s_schema (ef_broker_t *self, const ef_stream_rec_t *s)
{
    if (!ef_str_set (s->schema) || s->schema.len == 0)
        return NULL;
    if (!self->schemas && !(self->schemas = calloc (1, sizeof *self->schemas)))
        return NULL;
    uint64_t h = s_hash (s->schema);
    int i = (int) (s->num % S_SCHEMAS);
    if (self->schemas->slot[i].num == s->num && self->schemas->slot[i].hash == h)
        return self->schemas->slot[i].schema;
    int err;
    char msg[64];
    ef_schema_destroy (&self->schemas->slot[i].schema);
    self->schemas->slot[i].num = s->num;
    self->schemas->slot[i].hash = h;
    self->schemas->slot[i].schema = ef_schema_compile (
        s->schema.ptr, s->schema.len, &err, msg, sizeof msg);
    return self->schemas->slot[i].schema;
}

void
ef_commands_close (ef_broker_t *self)
{
    if (!self->schemas)
        return;
    for (int i = 0; i < S_SCHEMAS; i++)
        ef_schema_destroy (&self->schemas->slot[i].schema);
    free (self->schemas);
    self->schemas = NULL;
}

/*  An API key's rate counts events: one token per item not refused. */
static void
s_rate_item (ef_broker_t *self, ef_wreq_t *w, ef_wresult_t *res, int64_t mono)
{
    if (res->code == 0
        && ef_auth_rate (self->auth, &w->who, mono, &res->retry_after_ms)) {
        res->code = EF_ERATE;
        res->err_msg = "rate limit reached";
    }
}

void
ef_commands_checked (ef_broker_t *self, ef_wreq_t *w)
{
    int64_t mono = ef_time_mono_ms ();
    for (uint32_t i = 0; i < w->req.n_events; i++)
        s_rate_item (self, w, &w->results[i], mono);
}

/*  Everything about a PUBLISH that needs no store write and no schema
    happens here, on the reactor thread: item checks, ids, enrichment and
    the records themselves. With a schema, w->schema sends the request to
    the schema checks (ef_validator: they may take a while, and never on
    the reactor) and rates are counted when it is back
    (ef_commands_checked). The writer then only assigns seqs and
    appends. */
static int
s_publish (ef_broker_t *self, ef_wreq_t *w, const char **why)
{
    int rc = ef_store_stream_find (self->reader, w->org, w->req.stream,
                                   &w->stream);
    if (rc) {
        *why = rc == EF_ENOTFOUND ? "no such stream" : NULL;
        return rc;
    }
    if (ef_commands_reserve (w, w->req.n_events))
        return EF_ENOMEM;
    uint64_t now = ef_time_now_ms ();
    int64_t mono = ef_time_mono_ms ();
    w->quota = ef_auth_quota (self->auth, EF_QUOTA_STORED_BYTES);
    char trace[33];
    ef_schema_t *schema = s_schema (self, &w->stream);
    /* the stream's texts point into this snapshot: not to be kept */
    w->stream.schema = w->stream.pipeline = EF_STR_NULL;
    ef_buf_reset (&w->records);
    for (uint32_t i = 0; i < w->req.n_events; i++) {
        ef_event_in_t *ev = &self->scratch[i];
        ef_wresult_t *res = &w->results[i];
        memset (res, 0, offsetof (ef_wresult_t, event_id));
        res->retry_after_ms = 0;
        res->code = ef_proto_check_event (ev, self->max_payload);
        res->err_msg = ev->err_msg;
        res->msg_off = res->msg_len = 0;
        res->errs_off = res->errs_len = 0;
        res->payload = ev->payload;
        if (!schema)
            s_rate_item (self, w, res, mono);
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
        e.api_key_id = w->who.kind == EF_WHO_API_KEY ? ef_str (w->who.id)
                                                     : EF_STR_NULL;
        e.trace_id = ev->trace_id;
        e.correlation_id = ev->correlation_id;
        e.request_id = ef_str_set (ev->request_id) ? ev->request_id
                                                   : w->req.request_id;
        if (!ef_str_set (e.trace_id) && ef_str_set (w->req.traceparent)) {
            /* the request's trace, when the event names none */
            ef_proto_traceparent (w->req.traceparent, trace);
            e.trace_id = (ef_str_t){trace, 32};
        }
        e.payload = ev->payload;
        if (self->log_debug && ef_str_set (e.request_id))
            ef_log_debug (self->log, "event", "\"event_id\":\"%s\","
                          "\"request_id\":\"%.*s\"", res->event_id,
                          (int) e.request_id.len, e.request_id.ptr);
        res->rec_off = (uint32_t) w->records.len;
        ef_proto_write_event_record (&w->records, &e);
        res->rec_len = (uint32_t) (w->records.len - res->rec_off);
    }
    if (w->records.oom)
        return EF_ENOMEM;
    if (schema)
        w->schema = ef_schema_ref (schema);
    return 0;
}

/*  The id a stored record carries. */
static int
s_record_id (ef_str_t record, ef_uuid_t *id)
{
    ef_event_t ev = {0};
    ef_mpr_t r;
    ef_mpr_init (&r, record.ptr, record.len);
    if (ef_proto_read_event_kv (&r, EF_EVENT_RECORD_KEYS, &ev)
        || !ev.event_id.ptr)
        return EF_EINVAL;
    return ef_uuid_parse (ev.event_id.ptr, ev.event_id.len, id);
}

static int
s_apply_update_stream (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w,
                       uint64_t now)
{
    (void) now;
    ef_stream_rec_t s;
    int rc = ef_store_stream_find (txn, w->org, w->req.stream, &s);
    if (rc == EF_ENOTFOUND) {
        w->status = rc, w->why = "no such stream";
        return 0;
    }
    /* first: would the routes loop with the new name or pipeline? (a
       name another stream has is refused by the rename) */
    ef_stream_rec_t other;
    if (rc == 0 && (ef_str_set (w->req.name) || ef_str_set (w->req.pipeline))
        && (!ef_str_set (w->req.name)
            || ef_store_stream_find (txn, w->org, w->req.name, &other)
                   == EF_ENOTFOUND
            || other.num == s.num)) {
        rc = ef_writer_check_routes (((ef_broker_t *) ctx)->writer, txn, w,
                                     s.num,
                                     ef_str_set (w->req.name) ? w->req.name
                                                              : ef_str (s.name));
        if (rc || w->status)
            return rc;
    }
    if (rc == 0 && ef_str_set (w->req.name))
        rc = ef_store_stream_rename (txn, s.num, w->req.name);
    if (rc == 0 && (ef_str_set (w->req.schema) || ef_str_set (w->req.pipeline))) {
        /* given: set (an empty text removes); not given: kept */
        ef_stream_rec_t cur;
        if ((rc = ef_store_stream_get (txn, s.num, &cur)) == 0) {
            ef_buf_t keep;
            ef_buf_init (&keep);
            ef_str_t sc = w->req.schema, pl = w->req.pipeline;
            if (!ef_str_set (sc) && ef_str_set (cur.schema)) {
                ef_buf_append (&keep, cur.schema.ptr, cur.schema.len);
                sc = (ef_str_t){NULL, cur.schema.len};
            }
            size_t at = keep.len;
            if (!ef_str_set (pl) && ef_str_set (cur.pipeline)) {
                ef_buf_append (&keep, cur.pipeline.ptr, cur.pipeline.len);
                pl = (ef_str_t){NULL, cur.pipeline.len};
            }
            if (!sc.ptr && sc.len)
                sc.ptr = keep.data;
            if (!pl.ptr && pl.len)
                pl.ptr = keep.data + at;
            if (sc.ptr && sc.len == 0)
                sc = EF_STR_NULL;
            if (pl.ptr && pl.len == 0)
                pl = EF_STR_NULL;
            rc = keep.oom ? EF_ENOMEM
                          : ef_store_stream_configure (txn, s.num, sc, pl);
            ef_buf_free (&keep);
            ef_engine_forget (ef_writer_engine (((ef_broker_t *) ctx)->writer),
                              s.num);
        }
    }
    if (rc == EF_EEXISTS) {
        w->status = rc, w->why = "a stream with that name exists";
        return 0;
    }
    if (rc == 0)
        rc = ef_store_stream_get (txn, s.num, &s);
    if (rc)
        return rc;
    ef_stream_info_t info = {ef_str (s.id), ef_str (s.name), s.created_at,
                             0, 0, 0, s.schema, s.pipeline};
    ef_store_stream_bounds (txn, s.num, &info.first_seq, &info.last_seq);
    info.events = info.last_seq ? info.last_seq - info.first_seq + 1 : 0;
    ef_proto_reply_ok (&w->reply, w->req.id, 1);
    ef_mp_key (&w->reply, "stream");
    ef_proto_write_stream (&w->reply, &info);
    return 0;
}

static int
s_update_stream (ef_broker_t *self, ef_wreq_t *w, const char **why)
{
    if (ef_str_set (w->req.name) && !ef_proto_name_valid (w->req.name)) {
        *why = "stream names are 1 to 128 of [A-Za-z0-9._-], not . or ..";
        return EF_EINVAL;
    }
    int rc = s_check_config (self, w, why);
    if (rc)
        return rc;
    w->apply = s_apply_update_stream;
    w->apply_ctx = self;
    return 0;
}

static int
s_apply_delete_stream (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w,
                       uint64_t now)
{
    ef_broker_t *self = ctx;
    (void) now;
    ef_stream_rec_t s;
    int rc = ef_store_stream_find (txn, w->org, w->req.stream, &s);
    if (rc == EF_ENOTFOUND) {
        w->status = rc, w->why = "no such stream";
        return 0;
    }
    if (rc == 0)
        rc = ef_store_stream_delete (txn, s.num, s_record_id);
    if (rc)
        return rc;
    ef_writer_forget_stream (self->writer, s.num);
    ef_engine_forget (ef_writer_engine (self->writer), s.num);
    w->stream = s; /* its subscriptions end when this is answered */
    ef_proto_reply_ok (&w->reply, w->req.id, 0);
    return 0;
}


#define ALL (EF_ROLE_ADMIN | EF_ROLE_PRODUCER | EF_ROLE_CONSUMER)
#define ADMIN EF_ROLE_ADMIN
#define PRODUCER EF_ROLE_PRODUCER
#define CONSUMER EF_ROLE_CONSUMER

/*  The command × role table (schemas/protocol.md §6 prints it). */
static const ef_command_t s_commands[] = {
    {EF_CMD_HELLO, s_hello, EF_CMDF_ANON, ALL, NULL},
    {EF_CMD_PING, s_ping, EF_CMDF_ANON, ALL, NULL},
    {EF_CMD_CREATE_STREAM, s_create_stream, EF_CMDF_WRITES, ADMIN, NULL},
    {EF_CMD_LIST_STREAMS, s_list_streams, 0, ALL, NULL},
    {EF_CMD_GET_STREAM, s_get_stream, EF_CMDF_STREAM, ALL, NULL},
    {EF_CMD_PUBLISH, s_publish,
     EF_CMDF_WRITES | EF_CMDF_STREAM | EF_CMDF_PER_EVENT, PRODUCER, NULL},
    {EF_CMD_GET_EVENT, s_get_event, EF_CMDF_STREAM, ALL, NULL},
    {EF_CMD_READ, s_read, EF_CMDF_STREAM, ALL, NULL},
    {EF_CMD_LIST_EVENTS, s_list_events, EF_CMDF_STREAM, ALL, NULL},
    {EF_CMD_STATS, s_stats, EF_CMDF_GATEWAY, ALL, NULL},
    {EF_CMD_UPDATE_STREAM, s_update_stream, EF_CMDF_STREAM, ADMIN, NULL},
    {EF_CMD_FETCH, ef_consume_fetch, EF_CMDF_STREAM, CONSUMER, NULL},
    {EF_CMD_COMMIT, ef_consume_commit, EF_CMDF_STREAM, CONSUMER, NULL},
    {EF_CMD_SEEK, ef_consume_seek, EF_CMDF_STREAM, CONSUMER, NULL},
    {EF_CMD_LIST_GROUPS, ef_consume_list, EF_CMDF_STREAM, ALL, NULL},
    {EF_CMD_SUBSCRIBE, ef_consume_subscribe, EF_CMDF_STREAM, CONSUMER, NULL},
    {EF_CMD_CREDIT, ef_consume_credit, 0, CONSUMER, NULL},
    {EF_CMD_UNSUBSCRIBE, ef_consume_unsubscribe, 0, CONSUMER, NULL},
    {EF_CMD_READY, ef_workers_ready, 0, CONSUMER, NULL},
    {EF_CMD_DONE, ef_workers_answer, 0, CONSUMER, NULL},
    {EF_CMD_FAIL, ef_workers_answer, 0, CONSUMER, NULL},
    {EF_CMD_LEAVE, ef_workers_leave, 0, CONSUMER, NULL},
    {EF_CMD_WORKERS, ef_workers_list, 0, ADMIN, NULL},
    {EF_CMD_DLQ_LIST, ef_dlq_list, 0, ADMIN, NULL},
    {EF_CMD_DLQ_GET, ef_dlq_get, 0, ADMIN, NULL},
    {EF_CMD_DLQ_REPLAY, ef_dlq_replay, 0, ADMIN, NULL},
    {EF_CMD_DLQ_DELETE, NULL, 0, ADMIN, NULL, ef_dlq_apply_delete},
    {EF_CMD_DELETE_STREAM, NULL, EF_CMDF_STREAM, ADMIN, NULL,
     s_apply_delete_stream},
    {EF_CMD_REGISTER, ef_admin_register, EF_CMDF_ANON, ALL,
     ef_admin_register_hashed},
    {EF_CMD_LOGIN, ef_admin_login, EF_CMDF_ANON, ALL, ef_admin_login_verified},
    {EF_CMD_REFRESH, NULL, EF_CMDF_ANON, ALL, NULL, ef_admin_apply_refresh},
    {EF_CMD_LOGOUT, NULL, EF_CMDF_ANON, ALL, NULL, ef_admin_apply_logout},
    {EF_CMD_WHOAMI, ef_admin_whoami, 0, ALL, NULL},
    {EF_CMD_PASSWORD, ef_admin_password, 0, ALL, ef_admin_password_hashed},
    {EF_CMD_USER_CREATE, ef_admin_user_create, 0, ADMIN,
     ef_admin_user_create_hashed},
    {EF_CMD_USER_LIST, ef_admin_user_list, 0, ADMIN, NULL},
    {EF_CMD_USER_GET, ef_admin_user_get, 0, ADMIN, NULL},
    {EF_CMD_USER_UPDATE, ef_admin_user_update, 0, ADMIN,
     ef_admin_user_update_hashed},
    {EF_CMD_USER_DELETE, NULL, 0, ADMIN, NULL, ef_admin_apply_user_delete},
    {EF_CMD_APIKEY_CREATE, ef_admin_apikey_create, 0, ADMIN, NULL},
    {EF_CMD_APIKEY_LIST, ef_admin_apikey_list, 0, ADMIN, NULL},
    {EF_CMD_APIKEY_REVOKE, NULL, 0, ADMIN, NULL,
     ef_admin_apply_apikey_revoke},
    {EF_CMD_CLIENTKEY_ADD, ef_admin_clientkey_add, 0, ADMIN, NULL},
    {EF_CMD_CLIENTKEY_LIST, ef_admin_clientkey_list, 0, ADMIN, NULL},
    {EF_CMD_CLIENTKEY_REVOKE, NULL, 0, ADMIN, NULL,
     ef_admin_apply_clientkey_revoke},
};

int
ef_commands_handle (ef_broker_t *self, const ef_command_t *c, ef_wreq_t *w,
                    const char **why)
{
    if (c->fn)
        return c->fn (self, w, why);
    w->apply = c->apply;
    w->apply_ctx = self;
    return 0;
}

const ef_command_t *
ef_commands_find (ef_cmd_t cmd)
{
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        if (s_commands[i].cmd == cmd)
            return &s_commands[i];
    return NULL;
}

void
ef_commands_write_reply (ef_broker_t *self, ef_wreq_t *w)
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
                              w->stream.created_at, 0, 0, 0, w->req.schema,
                              w->req.pipeline};
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
            r.message = res->msg_len ? (ef_str_t){w->records.data + res->msg_off,
                                                  res->msg_len}
                                     : ef_str (res->err_msg);
            r.retry_after_ms = res->retry_after_ms;
            if (res->errs_len)
                r.errors = (ef_str_t){w->records.data + res->errs_off,
                                      res->errs_len};
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

