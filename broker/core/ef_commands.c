/*  ef_commands.c: the table of every command (ef_commands.h): its
    handler, flags, roles and hooks. Most commands run on the broker's
    module of their kind (ef_streams, ef_publish, ef_consume, ef_workers,
    ef_dlq, ef_admin; the reads on ef_query); the few that are the
    broker's own (HELLO, PING, STATS) are here. The dispatcher
    (ef_broker.c) checks frame, principal and role before any handler
    here runs. */
#include "ef_broker_int.h"
#include "ef_commands.h"
#include "ef_groups.h"
#include "ef_process.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_time.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- handlers */

static int
s_hello (ef_broker_t *self, ef_wreq_t *w, const char **why)
{
    (void)why;
    ef_hello_t h = {ef_str ("eventflow-broker"),
                    ef_str (EF_VERSION),
                    EF_PROTO_VERSION,
                    self->max_message,
                    self->max_batch,
                    self->max_payload,
                    EF_MAX_READ};
    ef_proto_reply_ok (&self->out, w->req.id, 4);
    ef_proto_write_hello (&self->out, &h);
    return 0;
}

static int
s_ping (ef_broker_t *self, ef_wreq_t *w, const char **why)
{
    (void)why;
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
    uint64_t worst, stream_worst; /* the largest lags, of all and of stream */
    ef_series_t *series; /* when set, each stream's worst lag goes there */
    uint32_t org;
    uint64_t now; /* seconds */
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
    uint64_t lag = l->head > g->committed ? l->head - g->committed : 0;
    ef_mp_uint (l->tmp, lag);
    if (lag > l->stream_worst)
        l->stream_worst = lag;
    if (lag > l->worst)
        l->worst = lag;
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
    l->stream_worst = 0;
    ef_groups_each (l->txn, s->num, s_group_lag, l);
    ef_series_gauge (l->series, l->now, l->org, s->name, strlen (s->name),
                     EF_SERIES_LAG, l->stream_worst);
    if (l->series) {
        /* counted by the DLQ's writes: one read, no walk */
        uint64_t dlq = 0;
        ef_process_dlq_size (l->txn, l->org, s->num, &dlq);
        ef_series_gauge (l->series, l->now, l->org, s->name, strlen (s->name),
                         EF_SERIES_DLQ, dlq);
    }
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
    ef_mp_uint (b, ef_workers_count (self->workers));
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

/*  One series of STATS' "series" map: an array of per-second figures
    per key (protocol.md §6). */
static void
s_series_write (ef_buf_t *b, const ef_series_point_t *p, uint32_t n)
{
    static const char *const counts[EF_SERIES_COUNTERS] = {
        [EF_SERIES_INGESTED] = "ingested",
        [EF_SERIES_REJECTED] = "rejected",
        [EF_SERIES_DUPLICATES] = "duplicates"};
    ef_mp_map (b, EF_SERIES_COUNTERS + 5);
    for (int c = 0; c < EF_SERIES_COUNTERS; c++) {
        ef_mp_key (b, counts[c]);
        ef_mp_array (b, n);
        for (uint32_t i = 0; i < n; i++)
            ef_mp_uint (b, p[i].count[c]);
    }
    ef_mp_key (b, "latency_p50_ms");
    ef_mp_array (b, n);
    for (uint32_t i = 0; i < n; i++)
        ef_mp_uint (b, p[i].p50_ms);
    ef_mp_key (b, "latency_p99_ms");
    ef_mp_array (b, n);
    for (uint32_t i = 0; i < n; i++)
        ef_mp_uint (b, p[i].p99_ms);
    ef_mp_key (b, "worst_lag");
    ef_mp_array (b, n);
    for (uint32_t i = 0; i < n; i++)
        ef_mp_uint (b, p[i].gauge[EF_SERIES_LAG]);
    ef_mp_key (b, "dlq_size");
    ef_mp_array (b, n);
    for (uint32_t i = 0; i < n; i++)
        ef_mp_uint (b, p[i].gauge[EF_SERIES_DLQ]);
    ef_mp_key (b, "workers");
    ef_mp_array (b, n);
    for (uint32_t i = 0; i < n; i++)
        ef_mp_uint (b, p[i].gauge[EF_SERIES_WORKERS]);
}

/*  STATS' "series": the caller's org's per-second figures over the last
    seconds, in total and per stream (only stream when the request names
    one, none with total_only; at most S_SERIES_STREAMS streams). */
#define S_SERIES_STREAMS 32
typedef char s_name_t[EF_SERIES_MAX_NAME + 1];
static void
s_series_reply (ef_broker_t *self, ef_wreq_t *w, uint64_t now,
                ef_series_point_t *p, s_name_t *names)
{
    uint32_t n = w->req.seconds;
    uint32_t k = 0;
    if (w->req.stream.ptr) {
        if (w->req.stream.len <= EF_SERIES_MAX_NAME) {
            memcpy (names[0], w->req.stream.ptr, w->req.stream.len);
            names[0][w->req.stream.len] = '\0';
            k = 1;
        }
    } else if (!w->req.total_only)
        k = ef_series_streams (self->series, now, w->org, names,
                               S_SERIES_STREAMS);
    if (k > S_SERIES_STREAMS)
        k = S_SERIES_STREAMS;
    ef_buf_t *b = &self->out;
    ef_mp_key (b, "series");
    ef_mp_map (b, 4);
    ef_mp_key (b, "now");
    ef_mp_uint (b, now);
    ef_mp_key (b, "seconds");
    ef_mp_uint (b, n);
    ef_mp_key (b, "total");
    ef_series_read (self->series, now, w->org, NULL, 0, n, p);
    s_series_write (b, p, n);
    ef_mp_key (b, "streams");
    uint32_t m = 0;
    for (uint32_t i = 0; i < k; i++)
        m += ef_series_read (self->series, now, w->org, names[i],
                             strlen (names[i]), 1, p) == 0;
    ef_mp_map (b, m);
    for (uint32_t i = 0; i < k; i++)
        if (ef_series_read (self->series, now, w->org, names[i],
                            strlen (names[i]), n, p) == 0) {
            ef_mp_cstr (b, names[i]);
            s_series_write (b, p, n);
        }
}

/*  STATS: the operator (ef_auth_is_operator) gets the broker's figures
    and every org's lags; anyone else only the figures of their own org
    (streams, events, lags), never the broker-wide counters. */
static int
s_stats (ef_broker_t *self, ef_wreq_t *w, const char **why)
{
    ef_stats_t st = {0};
    /* the series are an org's: the bare gateway key has none */
    if (w->req.has_seconds && w->who.kind == EF_WHO_GATEWAY) {
        *why = "STATS with seconds needs a credential";
        return EF_EAUTH;
    }
    if (w->req.total_only && (!w->req.has_seconds || w->req.stream.ptr)) {
        *why = "total_only goes with seconds and without stream";
        return EF_EINVAL;
    }
    int rc = ef_store_figures (self->reader, w->org, &st.streams, &st.events,
                               &st.store_bytes);
    if (rc)
        return rc;
    int operator= ef_auth_is_operator (self->auth, &w->who);
    int with_series = w->req.has_seconds;
    /* the series' room, taken before any of the reply is written */
    ef_series_point_t *p = NULL;
    s_name_t *names = NULL;
    if (with_series) {
        p = malloc (w->req.seconds * sizeof *p);
        names = malloc (S_SERIES_STREAMS * sizeof *names);
        if (!p || !names) {
            free (p);
            free (names);
            return EF_ENOMEM;
        }
    }
    if (!operator) {
        ef_proto_reply_ok (&self->out, w->req.id, 2 + with_series);
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
        ef_proto_reply_ok (&self->out, w->req.id, 3 + with_series);
        ef_mp_key (&self->out, "stats");
        ef_proto_write_stats (&self->out, &st);
        s_processing_stats (self);
    }
    /* every group's lag, for eventflow_consumer_lag{stream,group} */
    ef_buf_t tmp;
    ef_buf_init (&tmp);
    uint64_t now = ef_time_now_ms () / 1000;
    s_lags_t l = {.txn = self->reader, .tmp = &tmp, .org = w->org, .now = now};
    /* a reader of the series samples its org's worst lags */
    if (with_series)
        l.series = self->series;
    rc = ef_store_stream_each (self->reader, w->org, s_stream_lags, &l);
    ef_mp_key (&self->out, "lags");
    ef_mp_array (&self->out, rc ? 0 : l.n);
    if (rc == 0)
        ef_buf_append (&self->out, tmp.data, tmp.len);
    ef_buf_free (&tmp);
    if (with_series) {
        uint64_t dlq = 0;
        ef_process_dlq_size (self->reader, w->org, 0, &dlq);
        ef_series_gauge (self->series, now, w->org, NULL, 0, EF_SERIES_LAG,
                         l.worst);
        ef_series_gauge (self->series, now, w->org, NULL, 0, EF_SERIES_DLQ,
                         dlq);
        ef_series_gauge (self->series, now, w->org, NULL, 0, EF_SERIES_WORKERS,
                         ef_workers_count_org (self->workers, w->org));
        s_series_reply (self, w, now, p, names);
    }
    free (p);
    free (names);
    return 0;
}

#define S_QUERY(name, fn)                                                      \
    static int name (ef_broker_t *self, ef_wreq_t *w, const char **why)        \
    {                                                                          \
        return fn (self->query, self->reader, w->org, &w->req, &self->out,     \
                   why);                                                       \
    }
S_QUERY (s_get_stream, ef_query_get_stream)
S_QUERY (s_list_streams, ef_query_list_streams)
S_QUERY (s_get_event, ef_query_get_event)
S_QUERY (s_event_history, ef_query_event_history)
S_QUERY (s_read, ef_query_read)
S_QUERY (s_list_events, ef_query_list_events)


/* ---------------------------------------------------------------- modules */

/*  A module's handler, run on the broker's object of that module. */
#define S_ON(module, fn)                                                       \
    static int s_##fn (ef_broker_t *self, ef_wreq_t *w, const char **why)      \
    {                                                                          \
        return fn (self->module, w, why);                                      \
    }

S_ON (streams, ef_streams_create)
S_ON (streams, ef_streams_update)
S_ON (streams, ef_streams_delete)
S_ON (streams, ef_streams_check)
S_ON (publish, ef_publish)
S_ON (consume, ef_consume_fetch)
S_ON (consume, ef_consume_commit)
S_ON (consume, ef_consume_seek)
S_ON (consume, ef_consume_list)
S_ON (consume, ef_consume_subscribe)
S_ON (consume, ef_consume_credit)
S_ON (consume, ef_consume_unsubscribe)
S_ON (workers, ef_workers_ready)
S_ON (workers, ef_workers_answer)
S_ON (workers, ef_workers_leave)
S_ON (workers, ef_workers_list)
S_ON (dlq, ef_dlq_list)
S_ON (dlq, ef_dlq_get)
S_ON (dlq, ef_dlq_replay)
S_ON (dlq, ef_dlq_delete)
S_ON (dlq, ef_dlq_reasons)
S_ON (admin, ef_admin_register)
S_ON (admin, ef_admin_register_hashed)
S_ON (admin, ef_admin_login)
S_ON (admin, ef_admin_login_verified)
S_ON (admin, ef_admin_refresh)
S_ON (admin, ef_admin_logout)
S_ON (admin, ef_admin_whoami)
S_ON (admin, ef_admin_password)
S_ON (admin, ef_admin_password_hashed)
S_ON (admin, ef_admin_user_create)
S_ON (admin, ef_admin_user_create_hashed)
S_ON (admin, ef_admin_user_list)
S_ON (admin, ef_admin_user_get)
S_ON (admin, ef_admin_user_update)
S_ON (admin, ef_admin_user_update_hashed)
S_ON (admin, ef_admin_user_delete)
S_ON (admin, ef_admin_apikey_create)
S_ON (admin, ef_admin_apikey_list)
S_ON (admin, ef_admin_apikey_revoke)
S_ON (admin, ef_admin_clientkey_add)
S_ON (admin, ef_admin_clientkey_list)
S_ON (admin, ef_admin_clientkey_revoke)

/*  A FETCH with nothing yet waits for its stream's events. */
static int
s_park (ef_broker_t *self, ef_wreq_t *w)
{
    /* (at shutdown the consumers are gone: the fetch is answered as is) */
    return self->consume ? ef_consume_park (self->consume, w) : 0;
}

/*  Events arrived (PUBLISH), or credit or a subscription is new
    (SUBSCRIBE, CREDIT): parked fetches and subscribers of the stream get
    what is due. At shutdown the consumers and workers are gone before the
    last commits are answered: the follow-ups then have no one to tell. */
static void
s_wake (ef_broker_t *self, ef_wreq_t *w)
{
    if (self->consume)
        ef_consume_wake (self->consume, w->stream.num);
}

/*  A worker is ready: jobs may go to it. */
static void
s_pump (ef_broker_t *self, ef_wreq_t *w)
{
    (void)w;
    if (self->workers)
        ef_workers_tick (self->workers);
}

/*  An API key is revoked: its use kept in memory goes with it. */
static void
s_key_gone (ef_broker_t *self, ef_wreq_t *w)
{
    ef_auth_key_forget (self->auth, w->req.key_id);
}

/*  A stream is gone: its subscriptions end. */
static void
s_stream_gone (ef_broker_t *self, ef_wreq_t *w)
{
    if (w->stream.num && self->consume)
        ef_consume_stream_gone (self->consume, w->stream.num);
}

/*  BACKUP, BACKUP_STATUS and ROTATE_JWT_KEY: the operator's alone, and
    only by the local admin key of the data dir (a backup holds every org
    and the broker's keys; the JWT key signs every user's tokens): never
    the gateway, nor an org's admin. */
static int
s_operator_only (ef_broker_t *self, ef_wreq_t *w, const char **why)
{
    if (w->who.kind == EF_WHO_CLIENT_KEY &&
        ef_auth_is_operator (self->auth, &w->who))
        return 0;
    *why = "only the local admin key of the broker's data dir (admin.key) "
           "may run backups and rotate keys";
    return EF_EFORBIDDEN;
}

static int
s_backup (ef_broker_t *self, ef_wreq_t *w, const char **why)
{
    int rc = s_operator_only (self, w, why);
    if (rc == 0)
        rc = ef_backup_start (self->backup, w->req.dir.ptr, w->req.dir.len,
                              ef_time_now_ms (), why);
    if (rc)
        return rc;
    ef_proto_reply_ok (&self->out, w->req.id, 1);
    ef_mp_key (&self->out, "backup");
    ef_backup_write (self->backup, &self->out);
    return 0;
}

static int
s_backup_status (ef_broker_t *self, ef_wreq_t *w, const char **why)
{
    int rc = s_operator_only (self, w, why);
    if (rc)
        return rc;
    ef_proto_reply_ok (&self->out, w->req.id, 1);
    ef_mp_key (&self->out, "backup");
    ef_backup_write (self->backup, &self->out);
    return 0;
}

/*  ROTATE_JWT_KEY: a new JWT signing key; the old one verifies until its
    tokens have expired (ef_auth_rotate_jwt_key). */
static int
s_rotate_jwt_key (ef_broker_t *self, ef_wreq_t *w, const char **why)
{
    char kid[16];
    int rc = s_operator_only (self, w, why);
    if (rc == 0 &&
        (rc = ef_auth_rotate_jwt_key (self->auth, ef_time_now_ms (), kid)))
        *why = rc == EF_ECONFLICT
                   ? "too many JWT keys still verify tokens: try again when "
                     "the oldest expires (15 minutes after its rotation)"
                   : "cannot write jwt.keys in the data dir (see the log)";
    if (rc)
        return rc;
    ef_proto_reply_ok (&self->out, w->req.id, 2);
    ef_mp_key (&self->out, "kid");
    ef_mp_cstr (&self->out, kid);
    ef_mp_key (&self->out, "previous_valid_s");
    ef_mp_uint (&self->out, EF_ACCESS_TTL_S);
    return 0;
}

/*  GATEWAY_KEY_NEW and GATEWAY_KEY_PROMOTE: the gateway key rotated with
    an overlap (ef_auth_gateway_key_new/promote); the reply names the
    public key now admitted as next, or now current. */
static int
s_gateway_key (ef_broker_t *self, ef_wreq_t *w, const char **why)
{
    char pub[41];
    int promote = w->req.cmd == EF_CMD_GATEWAY_KEY_PROMOTE;
    int rc = s_operator_only (self, w, why);
    if (rc == 0)
        rc = promote ? ef_auth_gateway_key_promote (self->auth, pub)
                     : ef_auth_gateway_key_new (self->auth, pub);
    if (rc == EF_ECONFLICT)
        *why = "a next gateway key is pending already: promote it first";
    else if (rc == EF_ENOTFOUND)
        *why = "no next gateway key: run GATEWAY_KEY_NEW first";
    else if (rc == EF_ESTORE)
        *why = "cannot write the gateway key files in the data dir (see "
               "the log)";
    if (rc)
        return rc;
    ef_proto_reply_ok (&self->out, w->req.id, 2);
    ef_mp_key (&self->out, "public_key");
    ef_mp_cstr (&self->out, pub);
    ef_mp_key (&self->out, "path");
    ef_mp_cstr (&self->out, promote ? "gateway.key" : "gateway.next.key");
    return 0;
}

/* ---------------------------------------------------------------- table */

#define ALL      (EF_ROLE_ADMIN | EF_ROLE_PRODUCER | EF_ROLE_CONSUMER)
#define ADMIN    EF_ROLE_ADMIN
#define PRODUCER EF_ROLE_PRODUCER
#define CONSUMER EF_ROLE_CONSUMER
#define STREAM   EF_CMDF_STREAM

/*  The command × role table (schemas/protocol.md §6 prints it): handler,
    flags, roles, the step after the password hasher, and the hooks. */
static const ef_command_t s_commands[] = {
    /* cmd, handler, flags, roles, after hashing, hold, follow */
    {EF_CMD_HELLO, s_hello, EF_CMDF_ANON, ALL, NULL, NULL, NULL},
    {EF_CMD_PING, s_ping, EF_CMDF_ANON, ALL, NULL, NULL, NULL},
    {EF_CMD_CREATE_STREAM, s_ef_streams_create, EF_CMDF_WRITES, ADMIN, NULL,
     NULL, NULL},
    {EF_CMD_LIST_STREAMS, s_list_streams, 0, ALL, NULL, NULL, NULL},
    {EF_CMD_GET_STREAM, s_get_stream, STREAM, ALL, NULL, NULL, NULL},
    {EF_CMD_PUBLISH, s_ef_publish, EF_CMDF_WRITES | STREAM | EF_CMDF_PER_EVENT,
     PRODUCER, NULL, NULL, s_wake},
    {EF_CMD_GET_EVENT, s_get_event, STREAM, ALL, NULL, NULL, NULL},
    {EF_CMD_EVENT_HISTORY, s_event_history, STREAM, ALL, NULL, NULL, NULL},
    {EF_CMD_READ, s_read, STREAM, ALL, NULL, NULL, NULL},
    {EF_CMD_LIST_EVENTS, s_list_events, STREAM, ALL, NULL, NULL, NULL},
    {EF_CMD_STATS, s_stats, EF_CMDF_GATEWAY, ALL, NULL, NULL, NULL},
    {EF_CMD_UPDATE_STREAM, s_ef_streams_update, STREAM, ADMIN, NULL, NULL,
     NULL},
    {EF_CMD_DELETE_STREAM, s_ef_streams_delete, STREAM, ADMIN, NULL, NULL,
     s_stream_gone},
    {EF_CMD_CHECK_STREAM, s_ef_streams_check, 0, ADMIN, NULL, NULL, NULL},
    {EF_CMD_FETCH, s_ef_consume_fetch, STREAM, CONSUMER, NULL, s_park, NULL},
    {EF_CMD_COMMIT, s_ef_consume_commit, STREAM, CONSUMER, NULL, NULL, NULL},
    {EF_CMD_SEEK, s_ef_consume_seek, STREAM, CONSUMER, NULL, NULL, NULL},
    {EF_CMD_LIST_GROUPS, s_ef_consume_list, STREAM, ALL, NULL, NULL, NULL},
    {EF_CMD_SUBSCRIBE, s_ef_consume_subscribe, STREAM, CONSUMER, NULL, NULL,
     s_wake},
    {EF_CMD_CREDIT, s_ef_consume_credit, 0, CONSUMER, NULL, NULL, s_wake},
    {EF_CMD_UNSUBSCRIBE, s_ef_consume_unsubscribe, 0, CONSUMER, NULL, NULL,
     NULL},
    {EF_CMD_READY, s_ef_workers_ready, 0, CONSUMER, NULL, NULL, s_pump},
    {EF_CMD_DONE, s_ef_workers_answer, EF_CMDF_ID_REPLY, CONSUMER, NULL, NULL,
     NULL},
    {EF_CMD_FAIL, s_ef_workers_answer, EF_CMDF_ID_REPLY, CONSUMER, NULL, NULL,
     NULL},
    {EF_CMD_LEAVE, s_ef_workers_leave, 0, CONSUMER, NULL, NULL, NULL},
    {EF_CMD_WORKERS, s_ef_workers_list, 0, ADMIN, NULL, NULL, NULL},
    {EF_CMD_DLQ_LIST, s_ef_dlq_list, 0, ADMIN, NULL, NULL, NULL},
    {EF_CMD_DLQ_GET, s_ef_dlq_get, 0, ADMIN, NULL, NULL, NULL},
    {EF_CMD_DLQ_REPLAY, s_ef_dlq_replay, 0, ADMIN, NULL, NULL, NULL},
    {EF_CMD_DLQ_DELETE, s_ef_dlq_delete, 0, ADMIN, NULL, NULL, NULL},
    {EF_CMD_DLQ_REASONS, s_ef_dlq_reasons, 0, ADMIN, NULL, NULL, NULL},
    {EF_CMD_REGISTER, s_ef_admin_register, EF_CMDF_ANON, ALL,
     s_ef_admin_register_hashed, NULL, NULL},
    {EF_CMD_LOGIN, s_ef_admin_login, EF_CMDF_ANON, ALL,
     s_ef_admin_login_verified, NULL, NULL},
    {EF_CMD_REFRESH, s_ef_admin_refresh, EF_CMDF_ANON, ALL, NULL, NULL, NULL},
    {EF_CMD_LOGOUT, s_ef_admin_logout, EF_CMDF_ANON, ALL, NULL, NULL, NULL},
    {EF_CMD_WHOAMI, s_ef_admin_whoami, 0, ALL, NULL, NULL, NULL},
    {EF_CMD_PASSWORD, s_ef_admin_password, 0, ALL, s_ef_admin_password_hashed,
     NULL, NULL},
    {EF_CMD_USER_CREATE, s_ef_admin_user_create, 0, ADMIN,
     s_ef_admin_user_create_hashed, NULL, NULL},
    {EF_CMD_USER_LIST, s_ef_admin_user_list, 0, ADMIN, NULL, NULL, NULL},
    {EF_CMD_USER_GET, s_ef_admin_user_get, 0, ADMIN, NULL, NULL, NULL},
    {EF_CMD_USER_UPDATE, s_ef_admin_user_update, 0, ADMIN,
     s_ef_admin_user_update_hashed, NULL, NULL},
    {EF_CMD_USER_DELETE, s_ef_admin_user_delete, 0, ADMIN, NULL, NULL, NULL},
    {EF_CMD_APIKEY_CREATE, s_ef_admin_apikey_create, 0, ADMIN, NULL, NULL,
     NULL},
    {EF_CMD_APIKEY_LIST, s_ef_admin_apikey_list, 0, ADMIN, NULL, NULL, NULL},
    {EF_CMD_APIKEY_REVOKE, s_ef_admin_apikey_revoke, 0, ADMIN, NULL, NULL,
     s_key_gone},
    {EF_CMD_CLIENTKEY_ADD, s_ef_admin_clientkey_add, 0, ADMIN, NULL, NULL,
     NULL},
    {EF_CMD_CLIENTKEY_LIST, s_ef_admin_clientkey_list, 0, ADMIN, NULL, NULL,
     NULL},
    {EF_CMD_CLIENTKEY_REVOKE, s_ef_admin_clientkey_revoke, 0, ADMIN, NULL, NULL,
     NULL},
    {EF_CMD_BACKUP, s_backup, 0, ADMIN, NULL, NULL, NULL},
    {EF_CMD_BACKUP_STATUS, s_backup_status, 0, ADMIN, NULL, NULL, NULL},
    {EF_CMD_ROTATE_JWT_KEY, s_rotate_jwt_key, 0, ADMIN, NULL, NULL, NULL},
    {EF_CMD_GATEWAY_KEY_NEW, s_gateway_key, 0, ADMIN, NULL, NULL, NULL},
    {EF_CMD_GATEWAY_KEY_PROMOTE, s_gateway_key, 0, ADMIN, NULL, NULL, NULL},
};

const ef_command_t *
ef_commands_find (ef_cmd_t cmd)
{
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        if (s_commands[i].cmd == cmd)
            return &s_commands[i];
    return NULL;
}

void
ef_commands_checked (ef_broker_t *self, ef_wreq_t *w)
{
    if (w->req.cmd == EF_CMD_CHECK_STREAM)
        ef_streams_checked (self->streams, w);
    else
        ef_publish_checked (self->publish, w);
}

void
ef_commands_write_reply (ef_broker_t *self, ef_wreq_t *w)
{
    ef_buf_reset (&self->out);
    if (w->status) {
        ef_proto_reply_error (&self->out, w->req.id, w->status, w->why, 0);
        if (w->req.cmd == EF_CMD_PUBLISH)
            ef_metrics_add (self->metrics, EF_M_REJECTED, w->req.n_events);
    } else if (w->req.cmd == EF_CMD_CREATE_STREAM)
        ef_streams_write_created (self->streams, w);
    else
        ef_publish_write_reply (self->publish, w);
}
