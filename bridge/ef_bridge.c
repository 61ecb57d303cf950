/*  ef_bridge.c: the bridge's server: civetweb setup (no document root, no
    forms, no WebSockets: DESIGN.md §10), the threads and the connections
    that hold them (a pool of broker connections leased per request, long
    polls admitted within limits, keep-alive given up when threads run
    short), the route table and its dispatcher, and per-route metrics. */
#define _GNU_SOURCE /* pthread_setattr_default_np */
#include "ef_assets.h"
#include "ef_bridge_int.h"
#include "ef_cors.h"
#include "ef_proxies.h"
#include "ef_polls.h"
#include "ef_watch.h"
#include "eventflow/ef_cert.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_time.h"
#include "eventflow/ef_uuid.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const ef_config_opt_t ef_bridge_options[] = {
    {"listen", "EVENTFLOW_HTTP_LISTEN", "127.0.0.1:8080",
     "HOST:PORT to serve HTTP on"},
    {"broker", "EVENTFLOW_BROKER_ENDPOINT", "tcp://127.0.0.1:5555",
     "the broker's ZeroMQ endpoint"},
    {"data-dir", "EVENTFLOW_DATA_DIR", "./var/eventflow",
     "a local broker's data dir: gateway.key and broker.pub come from it"},
    {"gateway-cert", "EVENTFLOW_GATEWAY_CERT", NULL,
     "the gateway's CurveZMQ certificate (default DATA/gateway.key)"},
    {"broker-key", "EVENTFLOW_BROKER_KEY", NULL,
     "the broker's public key file (default DATA/broker.pub)"},
    {"plain", "EVENTFLOW_PLAIN", NULL,
     "1 = talk to a broker started with --curve off"},
    {"max-body", "EVENTFLOW_MAX_BODY", "1M", "largest request body"},
    {"threads", "EVENTFLOW_HTTP_THREADS", "2048",
     "worker threads: an open connection holds one, idle or not"},
    {"timeout", "EVENTFLOW_BROKER_TIMEOUT", "5000",
     "ms to wait for the broker per request"},
    {"request-timeout", "EVENTFLOW_HTTP_REQUEST_TIMEOUT", "5000",
     "ms a client may take to send a request's headers (and its body)"},
    {"keep-alive-timeout", "EVENTFLOW_HTTP_KEEP_ALIVE_TIMEOUT", "5000",
     "ms an idle keep-alive connection is kept (none while threads run "
     "short)"},
    {"long-polls", "EVENTFLOW_HTTP_LONG_POLLS", "256",
     "long polls (fetches with a timeout) waiting at once, in all"},
    {"long-polls-per-key", "EVENTFLOW_HTTP_LONG_POLLS_PER_KEY", "8",
     "long polls waiting at once for one API key or token"},
    {"live-feeds", "EVENTFLOW_HTTP_LIVE_FEEDS", "64",
     "live feeds (GET /api/v1/live, Server-Sent Events) open at once, in "
     "all (at most half the threads)"},
    {"live-feeds-per-key", "EVENTFLOW_HTTP_LIVE_FEEDS_PER_KEY", "4",
     "live feeds open at once for one API key or token"},
    {"metrics-token", "EVENTFLOW_METRICS_TOKEN", NULL,
     "when set, /metrics needs Authorization: Bearer TOKEN and then also "
     "shows per-org series; without it /metrics is open on loopback only"},
    {"log-level", "EVENTFLOW_LOG_LEVEL", "info", "debug, info, warn, error"},
    {"cors-origins", "EVENTFLOW_HTTP_CORS_ORIGINS", NULL,
     "origins a browser page may call from: comma-separated exact origins "
     "(https://app.example.com), or *; unset = same origin only"},
    {"trusted-proxies", "EVENTFLOW_HTTP_TRUSTED_PROXIES", NULL,
     "proxies in front (nginx) whose X-Forwarded-For names the client: "
     "comma-separated addresses or CIDR ranges (127.0.0.1, 10.0.0.0/8); "
     "unset = the connection's address is the client's"},
    {NULL, NULL, NULL, NULL},
};

/*  A route's figures, counted as requests are answered. */
typedef struct {
    _Atomic uint64_t count[EF_BRIDGE_CODES];
    _Atomic uint64_t bucket[EF_BRIDGE_BUCKETS]; /* cumulative below */
    _Atomic uint64_t sum_us;
    _Atomic uint64_t total;
} s_stats_t;

struct ef_bridge {
    const ef_config_t *cfg;
    ef_log_t *log;
    struct mg_context *ctx;
    char listen[128];
    char broker[256];
    int plain;
    ef_cert_t gateway; /* our key pair */
    ef_cert_t server;  /* the broker's public key */
    size_t max_body;
    int timeout_ms;
    const char *metrics_token;
    int loopback_only;       /* every listening address is a loopback one */
    s_stats_t *stats;        /* one per route, and one for "no route" */
    ef_batcher_t *batcher;   /* ingest's group commit */
    ef_watch_t *watch;       /* is the broker there? */
    ef_polls_t *polls;       /* long polls waiting, per credential and all */
    ef_polls_t *feeds;       /* live feeds open, likewise */
    ef_cors_t *cors;         /* origins allowed across origins */
    ef_proxies_t *proxies;   /* whose X-Forwarded-For names the client */
    pthread_mutex_t stop_mu; /* the feeds wait on stop_cond between ticks */
    pthread_cond_t stop_cond;
    int stopping;            /* under stop_mu: the feeds end */
    int threads;             /* civetweb's workers: one per open connection */
    int reserve;             /* kept free for short requests */
    _Atomic int connections; /* open connections, each holding a worker */
    int request_timeout_ms;  /* to send the headers, and again the body */
#define EF_BRIDGE_POOL 64    /* idle broker connections kept */
    pthread_mutex_t pool_mu; /* broker connections between requests */
    ef_client_t *pool[EF_BRIDGE_POOL];
    uint32_t pooled;
};

/*  A pass-through row: method, path, command, the field of the path's
    parameter (0: none), the reply key, {"items": …} or not, status. */
/* clang-format off */
#define S_PASS(method, path, cmd, field, key, items, status) \
    {method, path, NULL, {cmd, {field}, key, items, status}}
/* clang-format on */

const ef_route_t ef_bridge_routes[] = {
    {"POST", "/api/v1/auth/register", ef_api_register},
    {"POST", "/api/v1/auth/login", ef_api_login},
    {"POST", "/api/v1/auth/refresh", ef_api_refresh},
    {"POST", "/api/v1/auth/logout", ef_api_logout},
    {"POST", "/api/v1/auth/password", ef_api_password},
    S_PASS ("GET", "/api/v1/users", EF_CMD_USER_LIST, 0, "users", 1, 200),
    {"POST", "/api/v1/users", ef_api_users_create},
    S_PASS ("GET", "/api/v1/users/{user_id}", EF_CMD_USER_GET,
            EF_ROUTE_FIELD (user_id), "user", 0, 200),
    {"PATCH", "/api/v1/users/{user_id}", ef_api_users_update},
    S_PASS ("DELETE", "/api/v1/users/{user_id}", EF_CMD_USER_DELETE,
            EF_ROUTE_FIELD (user_id), NULL, 0, 204),
    {"POST", "/api/v1/producers", ef_api_producers_create},
    {"GET", "/api/v1/producers", ef_api_producers_list},
    S_PASS ("DELETE", "/api/v1/producers/{producer_id}", EF_CMD_APIKEY_REVOKE,
            EF_ROUTE_FIELD (key_id), NULL, 0, 204),
    {"POST", "/api/v1/api-keys", ef_api_keys_create},
    {"GET", "/api/v1/api-keys", ef_api_keys_list},
    S_PASS ("DELETE", "/api/v1/api-keys/{key_id}", EF_CMD_APIKEY_REVOKE,
            EF_ROUTE_FIELD (key_id), NULL, 0, 204),
    {"POST", "/api/v1/streams", ef_api_streams_create},
    /* (a literal path: a stream named "check" is still GET/PATCH/DELETE
       /streams/check, and POST there is never /streams/{stream_id}) */
    {"POST", "/api/v1/streams/check", ef_api_streams_check},
    {"GET", "/api/v1/streams", ef_api_streams_list},
    {"GET", "/api/v1/streams/{stream_id}", ef_api_streams_get},
    {"PATCH", "/api/v1/streams/{stream_id}", ef_api_streams_update},
    {"DELETE", "/api/v1/streams/{stream_id}", ef_api_streams_delete},
    {"POST", "/api/v1/streams/{stream_id}/events", ef_api_ingest},
    {"POST", "/api/v1/events", ef_api_ingest_seed},
    {"GET", "/api/v1/events/{event_id}", ef_api_events_get},
    {"GET", "/api/v1/events/{event_id}/history", ef_api_events_history},
    {"GET", "/api/v1/events", ef_api_events_list},
    {"GET", "/api/v1/streams/{stream_id}/events", ef_api_stream_events_list},
    {"GET", "/api/v1/streams/{stream_id}/consumer-groups", ef_api_groups_list},
    {"GET", "/api/v1/streams/{stream_id}/consumer-groups/{group}/events",
     ef_api_groups_fetch},
    {"POST", "/api/v1/streams/{stream_id}/consumer-groups/{group}/offsets",
     ef_api_groups_commit},
    {"POST", "/api/v1/streams/{stream_id}/consumer-groups/{group}/seek",
     ef_api_groups_seek},
    {"GET", "/api/v1/dlq", ef_api_dlq_list},
    {"POST", "/api/v1/dlq/replay", ef_api_dlq_replay_all},
    {"GET", "/api/v1/dlq/reasons", ef_api_dlq_reasons},
    {"POST", "/api/v1/dlq/delete", ef_api_dlq_delete_ids},
    {"GET", "/api/v1/dlq/{event_id}", ef_api_dlq_get},
    {"POST", "/api/v1/dlq/{event_id}/replay", ef_api_dlq_replay},
    {"DELETE", "/api/v1/dlq/{event_id}", ef_api_dlq_delete},
    {"GET", "/api/v1/workers", ef_api_workers_list},
    {"GET", "/api/v1/stats", ef_api_stats},
    {"GET", "/api/v1/live", ef_api_live},
    {"GET", "/health", ef_api_health},
    {"GET", "/api/v1/health", ef_api_health},
    {"GET", "/ready", ef_api_ready},
    {"GET", "/api/v1/ready", ef_api_ready},
    {"GET", "/metrics", ef_api_metrics},
    {"GET", "/api/v1/metrics", ef_api_metrics},
    {"GET", "/", ef_assets_index},
    {"HEAD", "/", ef_assets_index},
    {"GET", "/index.html", ef_assets_index},
    {"HEAD", "/index.html", ef_assets_index},
    {"GET", "/assets/{path+}", ef_assets_get},
    {"HEAD", "/assets/{path+}", ef_assets_get},
};
const int ef_bridge_nroutes =
    sizeof ef_bridge_routes / sizeof ef_bridge_routes[0];

const int ef_bridge_codes[EF_BRIDGE_CODES] = {
    200, 201, 202, 204, 400, 401, 403, 404, 405, 408,
    409, 411, 413, 415, 422, 429, 503, 504, 507, 500 /* 500: all else */
};
const double ef_bridge_buckets[EF_BRIDGE_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5};

void
ef_bridge_print_routes (FILE *out)
{
    for (int i = 0; i < ef_bridge_nroutes; i++)
        fprintf (out, "%s %s\n", ef_bridge_routes[i].method,
                 ef_bridge_routes[i].path);
}

/* ---------------------------------------------------------------- threads */

#define S_CONNECT_MS 1000 /* a broker that does not say HELLO by then is away */

/*  A worker thread's state: the broker connection leased for the request
    it is serving. Connections are pooled, not owned by threads: with a
    thread per open HTTP connection there are thousands of threads, and
    only as many broker connections as requests at the broker at once. */
typedef struct {
    ef_client_t *client; /* NULL between requests */
} s_thread_t;

static void *
s_init_thread (const struct mg_context *ctx, int type)
{
    (void)ctx;
    return type == 1 ? calloc (1, sizeof (s_thread_t)) : NULL;
}

static void
s_exit_thread (const struct mg_context *ctx, int type, void *ptr)
{
    (void)ctx;
    (void)type;
    s_thread_t *t = ptr;
    if (t) {
        ef_client_destroy (&t->client);
        free (t);
    }
}

/*  A connection to the broker for this request: the thread's lease, one
    from the pool, or a new one. */
static int
s_client (ef_bridge_t *self, s_thread_t *t)
{
    if (t->client)
        return 0;
    pthread_mutex_lock (&self->pool_mu);
    if (self->pooled)
        t->client = self->pool[--self->pooled];
    pthread_mutex_unlock (&self->pool_mu);
    if (t->client)
        return 0;
    t->client = ef_client_new (self->broker);
    if (!t->client)
        return EF_ENOMEM;
    ef_client_set_timeout (t->client, S_CONNECT_MS);
    ef_client_set_max_inflight (t->client, 1);
    if (!self->plain)
        ef_client_set_curve (t->client, self->server.public_key,
                             self->gateway.public_key,
                             self->gateway.secret_key);
    int rc = ef_client_connect (t->client);
    if (rc) {
        ef_log_debug (self->log, "broker not reachable", "\"why\":\"%s\"",
                      ef_client_error (t->client));
        ef_client_destroy (&t->client);
        return rc;
    }
    ef_client_set_timeout (t->client, self->timeout_ms);
    return 0;
}

/*  The request is done with its lease (its reply has been rendered). */
static void
s_release (ef_bridge_t *self, s_thread_t *t)
{
    if (!t || !t->client)
        return;
    pthread_mutex_lock (&self->pool_mu);
    if (self->pooled < EF_BRIDGE_POOL) {
        self->pool[self->pooled++] = t->client;
        t->client = NULL;
    }
    pthread_mutex_unlock (&self->pool_mu);
    ef_client_destroy (&t->client); /* beyond what the pool keeps */
}

int
ef_bridge_error (ef_http_t *h, int code, const char *detail,
                 uint64_t retry_after_ms)
{
    /* what a broker call's failure is to the HTTP client (protocol.md §3):
       a broker that did not answer is unavailable, and a field the broker
       refuses is a field of the body; every status and name then comes
       from the error table */
    if (code == EF_EUNAVAILABLE || code == EF_ETIMEOUT)
        return ef_http_problem (h, EF_EUNAVAILABLE,
                                "the broker is not reachable; retry shortly",
                                NULL, 1);
    const char *text = detail && *detail ? detail : ef_strerror (code);
    if (code == EF_EINVAL)
        return ef_bridge_invalid (h, "", text);
    int retry = 0;
    if (code == EF_ERATE) {
        retry = (int)((retry_after_ms + 999) / 1000);
        if (retry < 1)
            retry = 1;
    }
    return ef_http_problem (h, code, text, NULL, retry);
}

int
ef_bridge_invalid (ef_http_t *h, const char *path, const char *text)
{
    static const char head[] = ",\"errors\":[{\"path\":";
    ef_buf_t extra;
    ef_buf_init (&extra);
    ef_buf_append (&extra, head, strlen (head));
    ef_json_quote (&extra, path, strlen (path));
    ef_buf_append (&extra, ",\"message\":", 11);
    ef_json_quote (&extra, text, strlen (text));
    ef_buf_append (&extra, "}]", 3); /* with the NUL */
    int rc = ef_http_problem (h, EF_EVALIDATION, text, extra.data, 0);
    ef_buf_free (&extra);
    return rc;
}

/*  One broker call on the thread's connection, allowed extra_ms more than
    the bridge's timeout (a long poll the broker holds on purpose). */
static int
s_try (ef_bridge_t *self, ef_http_t *h, ef_request_t *req,
       const ef_reply_t **rep, int extra_ms)
{
    s_thread_t *t = mg_get_thread_pointer (h->conn);
    *rep = NULL;
    if (!t)
        return EF_EINTERNAL;
    if (!ef_watch_up (self->watch))
        return EF_EUNAVAILABLE; /* known down: no need to wait to learn it */
    int rc = s_client (self, t);
    if (rc) {
        ef_watch_report (self->watch);
        return EF_EUNAVAILABLE;
    }
    if (ef_str_set (h->api_key))
        req->auth_api_key = h->api_key;
    else if (ef_str_set (h->jwt))
        req->auth_jwt = h->jwt;
    /* one id from the HTTP request to the broker's logs, the stored event
       and the worker's job; the trace likewise (a malformed one is not
       forwarded: W3C says to ignore it) */
    req->request_id = ef_str (h->request_id);
    if (!ef_proto_request_id_ok (req->request_id))
        req->request_id = EF_STR_NULL;
    const char *tp = mg_get_header (h->conn, "traceparent");
    if (tp && ef_proto_traceparent (ef_str (tp), NULL) == 0)
        req->traceparent = ef_str (tp);
    if (extra_ms > 0)
        ef_client_set_timeout (t->client, self->timeout_ms + extra_ms);
    rc = ef_client_call (t->client, req, rep);
    if (rc == EF_EUNAVAILABLE || rc == EF_ETIMEOUT || rc == EF_EPROTO) {
        /* replies to this connection may still come: start afresh */
        ef_client_destroy (&t->client);
        if (rc != EF_EPROTO)
            ef_watch_report (self->watch);
        return EF_EUNAVAILABLE;
    }
    if (rc != EF_EAUTH &&
        (ef_str_set (req->auth_api_key) || ef_str_set (req->auth_jwt)))
        h->authenticated = 1;
    if (extra_ms > 0) /* *rep lives in the client, untouched by this */
        ef_client_set_timeout (t->client, self->timeout_ms);
    return rc;
}

int
ef_bridge_try (ef_bridge_t *self, ef_http_t *h, ef_request_t *req,
               const ef_reply_t **rep)
{
    return s_try (self, h, req, rep, 0);
}

/*  422 from a refusal's errors array (protocol.md §2): each {path,
    message} as it came; -1 when the array is not one. */
static int
s_invalid_errors (ef_http_t *h, const ef_reply_t *rep)
{
    ef_mpr_t r;
    uint32_t n = 0;
    ef_mpr_init (&r, rep->err_errors.ptr, rep->err_errors.len);
    if (ef_mpr_array (&r, &n) || n == 0)
        return -1;
    ef_buf_t extra;
    ef_buf_init (&extra);
    ef_buf_append (&extra, ",\"errors\":[", 11);
    for (uint32_t i = 0; i < n; i++) {
        ef_field_error_t e;
        if (ef_proto_read_field_error (&r, &e)) {
            ef_buf_free (&extra);
            return -1;
        }
        ef_buf_append (&extra, i ? ",{\"path\":" : "{\"path\":", i ? 9 : 8);
        ef_json_quote (&extra, e.path.ptr, e.path.len);
        ef_buf_append (&extra, ",\"message\":", 11);
        ef_json_quote (&extra, e.message.ptr, e.message.len);
        ef_buf_append (&extra, "}", 1);
    }
    ef_buf_append (&extra, "]", 2); /* with the NUL */
    char text[512];
    snprintf (text, sizeof text, "%.*s", (int)rep->err_message.len,
              rep->err_message.ptr ? rep->err_message.ptr : "");
    int rc =
        ef_http_problem (h, EF_EVALIDATION,
                         *text ? text : ef_strerror (EF_EINVAL), extra.data, 0);
    ef_buf_free (&extra);
    return rc;
}

int
ef_bridge_call_error (ef_http_t *h, int rc, const ef_reply_t *rep)
{
    if (rc == EF_EUNAVAILABLE || rc == EF_EINTERNAL || !rep)
        return ef_bridge_error (h, rc, NULL, 0);
    if (rc == EF_EINVAL && ef_str_set (rep->err_errors)) {
        int sent = s_invalid_errors (h, rep);
        if (sent != -1)
            return sent;
    }
    char detail[256];
    snprintf (detail, sizeof detail, "%.*s", (int)rep->err_message.len,
              rep->err_message.ptr ? rep->err_message.ptr : "");
    return ef_bridge_error (h, rc, detail, rep->retry_after_ms);
}

int
ef_bridge_call (ef_bridge_t *self, ef_http_t *h, ef_request_t *req,
                const ef_reply_t **rep)
{
    *rep = NULL;
    int rc = ef_bridge_try (self, h, req, rep);
    return rc ? ef_bridge_call_error (h, rc, *rep) : 0;
}

#define S_FEED_RETRY_S 5 /* a feed ends when its client goes: not soon */

/*  Free workers: those not held by an open connection. */
static int
s_free_threads (ef_bridge_t *self)
{
    return self->threads -
           atomic_load_explicit (&self->connections, memory_order_relaxed);
}

int
ef_bridge_call_wait (ef_bridge_t *self, ef_http_t *h, ef_request_t *req,
                     const ef_reply_t **rep, int extra_ms)
{
    *rep = NULL;
    if (extra_ms <= 0 || !ef_watch_up (self->watch))
        return ef_bridge_call (self, h, req, rep);
    uint64_t ticket;
    int rc = ef_polls_enter (
        self->polls, ef_str_set (h->api_key) ? h->api_key : h->jwt, &ticket);
    if (rc == EF_ERATE)
        return ef_http_problem (h, EF_ERATE,
                                "this credential has as many long polls "
                                "waiting as it may; retry when one ends",
                                NULL, 1);
    if (rc == 0 && s_free_threads (self) < self->reserve) {
        ef_polls_leave (self->polls, ticket);
        rc = EF_EUNAVAILABLE;
    }
    if (rc)
        return ef_http_problem (h, EF_EUNAVAILABLE,
                                "too many long polls waiting; retry shortly",
                                NULL, 1);
    rc = s_try (self, h, req, rep, extra_ms);
    ef_polls_leave (self->polls, ticket);
    return rc ? ef_bridge_call_error (h, rc, *rep) : 0;
}

int
ef_bridge_feed_enter (ef_bridge_t *self, ef_http_t *h, uint64_t *ticket)
{
    int rc = ef_polls_enter (
        self->feeds, ef_str_set (h->api_key) ? h->api_key : h->jwt, ticket);
    if (rc == EF_ERATE)
        return ef_http_problem (h, EF_ERATE,
                                "this credential has as many live feeds open "
                                "as it may; retry when one ends",
                                NULL, S_FEED_RETRY_S);
    if (rc)
        return ef_http_problem (h, EF_ERATE,
                                "the bridge has as many live feeds open as it "
                                "may; retry later",
                                NULL, S_FEED_RETRY_S);
    if (s_free_threads (self) < self->reserve) {
        ef_polls_leave (self->feeds, *ticket);
        return ef_http_problem (h, EF_EUNAVAILABLE,
                                "the bridge is short of threads; retry shortly",
                                NULL, 1);
    }
    return 0;
}

void
ef_bridge_feed_leave (ef_bridge_t *self, uint64_t ticket)
{
    ef_polls_leave (self->feeds, ticket);
}

uint32_t
ef_bridge_feeds_open (ef_bridge_t *self)
{
    return ef_polls_count (self->feeds);
}

int
ef_bridge_feed_wait (ef_bridge_t *self, int ms)
{
    struct timespec until;
    clock_gettime (CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock (&self->stop_mu);
    while (!self->stopping &&
           pthread_cond_timedwait (&self->stop_cond, &self->stop_mu, &until) !=
               ETIMEDOUT)
        ;
    int stopping = self->stopping;
    pthread_mutex_unlock (&self->stop_mu);
    return stopping;
}

/* ---------------------------------------------------------------- routing */

/*  Match path against pattern, collecting up to three parameters (a
    "{x}" segment matches one segment, a last "{x+}" the rest). */
static int
s_match (const char *pattern, const char *path, ef_http_t *h)
{
    int np = 0;
    size_t used = 0;
    while (*pattern && *path) {
        if (*pattern != '/' || *path != '/')
            return 0;
        pattern++, path++;
        const char *pe = strchr (pattern, '/'), *se = strchr (path, '/');
        size_t plen = pe ? (size_t)(pe - pattern) : strlen (pattern);
        size_t slen = se ? (size_t)(se - path) : strlen (path);
        /* "{name+}" ends a pattern and takes the rest of the path, its
           slashes included */
        int rest =
            pattern[0] == '{' && plen > 2 && pattern[plen - 2] == '+' && !pe;
        if (rest)
            slen = strlen (path);
        if (pattern[0] == '{') {
            if (slen == 0 || slen > 256 || np == EF_HTTP_MAX_PARAMS)
                return 0;
            char *dst = h->param_buf + used;
            int n = mg_url_decode (path, (int)slen, dst, 258, 0);
            if (n <= 0 || (!rest && memchr (dst, '/', (size_t)n)))
                return 0;
            h->params[np++] = dst;
            used += (size_t)n + 1;
        } else if (plen != slen || memcmp (pattern, path, plen) != 0)
            return 0;
        pattern += plen;
        path += slen;
    }
    return *pattern == 0 && *path == 0;
}

typedef struct {
    char *out;
    size_t size;
    int found;
} s_sub_t;

static int
s_sub (void *arg, ef_str_t key, ef_str_t value)
{
    s_sub_t *f = arg;
    if (key.len == 3 && memcmp (key.ptr, "sub", 3) == 0)
        f->found = ef_json_unescape (value, f->out, f->size) > 0;
    return f->found;
}

int
ef_bridge_path_safe (const char *path)
{
    const char *seg = path;
    for (const char *p = path;; p++) {
        if (*p == '/' || *p == 0) {
            size_t n = (size_t)(p - seg);
            if (n >= 3 && n <= 6 && memchr (seg, '%', n)) {
                char dec[8];
                int k = mg_url_decode (seg, (int)n, dec, sizeof dec, 0);
                if (k > 0 && (!strcmp (dec, ".") || !strcmp (dec, "..")))
                    return 0;
            }
            if (*p == 0)
                return 1;
            seg = p + 1;
        } else if (*p == '%') {
            int hi = ef_hex_value (p[1]),
                lo = hi < 0 ? -1 : ef_hex_value (p[2]);
            int c = lo < 0 ? -1 : hi * 16 + lo;
            if (c == '/' || c == '\\' || c == 0)
                return 0;
        }
    }
}

/*  Path parameters of a route pattern. */
static int
s_params (const char *pattern)
{
    int n = 0;
    for (; *pattern; pattern++)
        n += *pattern == '{';
    return n;
}

/*  Of the routes of this method whose pattern matches path, the one with
    the fewest parameters: a literal segment wins over a parameter, so
    POST /dlq/delete is never the letter "delete" of /dlq/{event_id}; other
    methods on a literal path still reach the parameter's routes (GET
    /streams/check is the stream named "check"). path_matched: some route
    of any method matches (405 rather than 404). */
int
ef_bridge_route (const char *method, const char *path, ef_http_t *h,
                 int *path_matched)
{
    int best = -1, fewest = EF_HTTP_MAX_PARAMS + 1;
    *path_matched = 0;
    for (int i = 0; i < ef_bridge_nroutes; i++) {
        int np = s_params (ef_bridge_routes[i].path);
        int same = strcmp (ef_bridge_routes[i].method, method) == 0;
        if (*path_matched && (!same || np >= fewest))
            continue;
        memset (h->params, 0, sizeof h->params);
        if (!s_match (ef_bridge_routes[i].path, path, h))
            continue;
        *path_matched = 1;
        if (same && np < fewest) {
            best = i;
            fewest = np;
        }
    }
    /* the winner's parameters again (a later match overwrote them) */
    memset (h->params, 0, sizeof h->params);
    if (best >= 0)
        s_match (ef_bridge_routes[best].path, path, h);
    return best;
}

/*  Whether the ", "-separated list holds method m. */
static int
s_listed (const char *list, const char *m)
{
    size_t len = strlen (m);
    for (const char *p = list; *p;) {
        size_t n = strcspn (p, ",");
        if (n == len && memcmp (p, m, len) == 0)
            return 1;
        p += n;
        p += strspn (p, ", ");
    }
    return 0;
}

/*  The methods the routes serve on path, ", "-separated, into out ("" when
    no route has the path). */
static void
s_methods (const char *path, char *out, size_t size)
{
    ef_http_t scratch; /* s_match's parameters, not kept */
    size_t n = 0;
    out[0] = 0;
    for (int i = 0; i < ef_bridge_nroutes; i++) {
        const char *m = ef_bridge_routes[i].method;
        if (n + strlen (m) + 3 > size || s_listed (out, m) ||
            !s_match (ef_bridge_routes[i].path, path, &scratch))
            continue;
        n += (size_t)snprintf (out + n, size - n, "%s%s", n ? ", " : "", m);
    }
}

/*  OPTIONS is answered here, not by civetweb (whose own preflight answer
    allowed every origin): a CORS preflight (Origin and
    Access-Control-Request-Method) from an origin --cors-origins allows is
    204 with what the path serves; from any other origin 403, with no CORS
    header; a plain OPTIONS is 204 with Allow. */
static int
s_options (ef_http_t *h, const char *path)
{
    char methods[64];
    s_methods (path, methods, sizeof methods);
    int preflight = ef_http_header (h, "Origin") &&
                    ef_http_header (h, "Access-Control-Request-Method");
    if (preflight && !h->cors_origin)
        return ef_http_problem (h, EF_EFORBIDDEN,
                                "this origin may not call the API from a "
                                "browser (the bridge's --cors-origins)",
                                NULL, 0);
    if (!*methods)
        return ef_http_problem (h, EF_ENOTFOUND, "no such route", NULL, 0);
    return ef_http_options (h, methods, preflight);
}

static int
s_code_index (int status)
{
    for (int i = 0; i < EF_BRIDGE_CODES - 1; i++)
        if (ef_bridge_codes[i] == status)
            return i;
    return EF_BRIDGE_CODES - 1;
}

static void
s_count (ef_bridge_t *self, int route, int status, uint64_t ns)
{
    s_stats_t *st = &self->stats[route < 0 ? ef_bridge_nroutes : route];
    double secs = ns / 1e9;
    atomic_fetch_add_explicit (&st->count[s_code_index (status)], 1,
                               memory_order_relaxed);
    for (int i = 0; i < EF_BRIDGE_BUCKETS; i++)
        if (secs <= ef_bridge_buckets[i])
            atomic_fetch_add_explicit (&st->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit (&st->sum_us, ns / 1000, memory_order_relaxed);
    atomic_fetch_add_explicit (&st->total, 1, memory_order_relaxed);
}

size_t
ef_bridge_max_body (const ef_bridge_t *self)
{
    return self->max_body;
}

int
ef_bridge_metrics_access (const ef_bridge_t *self, const ef_http_t *h)
{
    if (self->metrics_token && h->jwt.ptr &&
        strlen (self->metrics_token) == h->jwt.len &&
        sodium_memcmp (self->metrics_token, h->jwt.ptr, h->jwt.len) == 0)
        return 1;
    return self->metrics_token || !self->loopback_only ? -1 : 0;
}

void
ef_bridge_route_stats (const ef_bridge_t *self, int i, ef_route_stats_t *out)
{
    s_stats_t *st = &self->stats[i];
    for (int c = 0; c < EF_BRIDGE_CODES; c++)
        out->count[c] = atomic_load (&st->count[c]);
    for (int b = 0; b < EF_BRIDGE_BUCKETS; b++)
        out->bucket[b] = atomic_load (&st->bucket[b]);
    out->sum_us = atomic_load (&st->sum_us);
    out->total = atomic_load (&st->total);
}

int
ef_bridge_publish (ef_bridge_t *self, ef_http_t *h, ef_str_t stream,
                   const ef_event_in_t *events, uint32_t n,
                   ef_batch_result_t *results, char *why,
                   uint64_t *retry_after_ms)
{
    if (!ef_watch_up (self->watch))
        return EF_EUNAVAILABLE; /* known down: answered at once */
    int rc = ef_batcher_publish (self->batcher, h->api_key,
                                 h->api_key.ptr ? EF_STR_NULL : h->jwt, stream,
                                 events, n, results, why, retry_after_ms);
    if (rc == EF_EUNAVAILABLE || rc == EF_ETIMEOUT)
        ef_watch_report (self->watch);
    return rc;
}

/*  Who made the request, for its log line: "api_key:ID" or "user:ID" as
    the credential names it, once the broker accepted it; "" when there
    was none, it was refused, or the request never reached the broker. A
    token's subject is read without checking its signature: the broker
    checked it. */
static void
s_principal (const ef_http_t *h, char *out, size_t size)
{
    out[0] = 0;
    if (!h->authenticated || h->status == 401)
        return;
    if (ef_str_set (h->api_key) && h->api_key.len > 20 &&
        memcmp (h->api_key.ptr, "efk_", 4) == 0) {
        snprintf (out, size, "api_key:%.16s", h->api_key.ptr + 4);
        return;
    }
    if (!ef_str_set (h->jwt))
        return;
    const char *dot = memchr (h->jwt.ptr, '.', h->jwt.len);
    const char *end =
        dot ? memchr (dot + 1, '.', h->jwt.len - (size_t)(dot + 1 - h->jwt.ptr))
            : NULL;
    unsigned char claims[1024];
    size_t n;
    if (!end ||
        sodium_base642bin (claims, sizeof claims, dot + 1,
                           (size_t)(end - dot - 1), NULL, &n, NULL,
                           sodium_base64_VARIANT_URLSAFE_NO_PADDING) ||
        ef_json_validate ((const char *)claims, n, 4, NULL, NULL))
        return;
    char sub[128];
    s_sub_t f = {sub, sizeof sub, 0};
    ef_json_object_each ((const char *)claims, n, s_sub, &f);
    if (f.found)
        snprintf (out, size, "user:%s", sub);
}

static int
s_handle (struct mg_connection *conn, void *cbdata)
{
    ef_bridge_t *self = cbdata;
    uint64_t start = ef_time_mono_ns ();
    ef_http_t h;
    ef_http_begin (&h, conn);
    h.read_by = ef_time_mono_ms () + self->request_timeout_ms;
    if (s_free_threads (self) < self->reserve) {
        /* threads run short: this connection is not kept idle after its
           answer, its worker goes back to new connections */
        h.close = 1;
        mg_disable_connection_keep_alive (conn);
    }
    const char *path = h.ri->local_uri ? h.ri->local_uri : "";
    h.cors_origin = ef_cors_allow (self->cors, ef_http_header (&h, "Origin"));
    ef_proxies_client (self->proxies, h.ri->remote_addr,
                       ef_http_header (&h, "X-Forwarded-For"), h.client_addr);
    int path_matched;
    h.route = ef_bridge_route (h.ri->request_method, path, &h, &path_matched);
    if (ef_http_check_framing (&h))
        ; /* answered, and the connection closes */
    else if (!ef_bridge_path_safe (path))
        ef_http_problem (&h, EF_EINVAL,
                         "encoded slashes and dot segments are not served in "
                         "a path",
                         NULL, 0);
    else if (h.route < 0 && strcmp (h.ri->request_method, "OPTIONS") == 0)
        s_options (&h, path);
    else if (h.route >= 0 && ef_bridge_routes[h.route].fn)
        ef_bridge_routes[h.route].fn (self, &h);
    else if (h.route >= 0)
        ef_api_pass (self, &h, &ef_bridge_routes[h.route].pass);
    else if (path_matched)
        ef_http_problem (&h, EF_EMETHOD,
                         "that method is not served on this path", NULL, 0);
    else
        ef_http_problem (&h, EF_ENOTFOUND, "no such route", NULL, 0);
    uint64_t took = ef_time_mono_ns () - start;
    s_count (self, h.route, h.status, took);
    char principal[160];
    s_principal (&h, principal, sizeof principal);
    ef_log_info (self->log, "request",
                 "\"method\":\"%s\",\"route\":\"%s\",\"status\":%d,"
                 "\"duration_ms\":%.3f,\"principal\":\"%s\","
                 "\"client\":\"%s\",\"request_id\":\"%s\"",
                 h.ri->request_method,
                 h.route >= 0 ? ef_bridge_routes[h.route].path : "none",
                 h.status, took / 1e6, principal, h.client_addr, h.request_id);
    int status = h.status;
    s_release (self, mg_get_thread_pointer (conn));
    ef_http_end (&h);
    return status ? status : 500;
}

/*  A worker took a connection, which it holds until it closes. */
static int
s_connection_open (const struct mg_connection *conn, void **data)
{
    ef_bridge_t *self = mg_get_user_data (mg_get_context (conn));
    *data = NULL;
    atomic_fetch_add_explicit (&self->connections, 1, memory_order_relaxed);
    return 0;
}

static void
s_connection_close (const struct mg_connection *conn)
{
    ef_bridge_t *self = mg_get_user_data (mg_get_context (conn));
    atomic_fetch_sub_explicit (&self->connections, 1, memory_order_relaxed);
}

static int
s_log_message (const struct mg_connection *conn, const char *message)
{
    /* civetweb's own complaints (bad requests it refused before any
       handler ran) are the peer's doing: counted, not printed */
    (void)conn;
    (void)message;
    return 1;
}

/* ---------------------------------------------------------------- lifecycle */

#define S_PR_FUTEX_HASH           78 /* <linux/prctl.h> of Linux 6.16 */
#define S_PR_FUTEX_HASH_SET_SLOTS 1

/*  The process, fitted to a thread and a descriptor per open connection,
    before civetweb starts its workers. */
static void
s_fit_process (int threads)
{
    /* stacks of 512 KiB, not 8 MiB: the handlers need little */
    pthread_attr_t attr;
    if (pthread_attr_init (&attr) == 0) {
        pthread_attr_setstacksize (&attr, 512 * 1024);
        pthread_setattr_default_np (&attr);
        pthread_attr_destroy (&attr);
    }
    /* Linux 6.16 on gives a process a private futex table of 16 slots.
       civetweb's idle workers all wait on one condition, and every futex
       that shares its slot walks past them all (a fifth of ingest
       throughput at 2048 threads): a table sized to the threads. Where
       the kernel has no such table the call fails and changes nothing. */
    unsigned long slots = 16;
    while (slots < 4ul * (unsigned long)threads && slots < 65536)
        slots <<= 1;
    prctl (S_PR_FUTEX_HASH, S_PR_FUTEX_HASH_SET_SLOTS, slots, 0, 0);
    /* a descriptor per connection: up to the hard limit */
    struct rlimit files;
    if (getrlimit (RLIMIT_NOFILE, &files) == 0 &&
        files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit (RLIMIT_NOFILE, &files);
    }
}

ef_bridge_t *
ef_bridge_new (const ef_config_t *cfg, ef_log_t *log)
{
    ef_bridge_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->log = log;
    self->stats = calloc ((size_t)ef_bridge_nroutes + 1, sizeof *self->stats);
    if (!self->stats) {
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->pool_mu, NULL);
    pthread_mutex_init (&self->stop_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init (&ca);
    pthread_condattr_setclock (&ca, CLOCK_MONOTONIC);
    pthread_cond_init (&self->stop_cond, &ca);
    pthread_condattr_destroy (&ca);
    return self;
}

static int
s_keys (ef_bridge_t *self)
{
    const char *plain = ef_config_get (self->cfg, "plain");
    self->plain = plain && (!strcmp (plain, "1") || !strcmp (plain, "true"));
    if (self->plain)
        return 0;
    const char *dir = ef_config_get (self->cfg, "data-dir");
    const char *cert = ef_config_get (self->cfg, "gateway-cert");
    const char *pub = ef_config_get (self->cfg, "broker-key");
    char cpath[4096], ppath[4096];
    snprintf (cpath, sizeof cpath, "%s", cert ? cert : "");
    snprintf (ppath, sizeof ppath, "%s", pub ? pub : "");
    if (!cert)
        snprintf (cpath, sizeof cpath, "%s/gateway.key", dir);
    if (!pub)
        snprintf (ppath, sizeof ppath, "%s/broker.pub", dir);
    if (ef_cert_load (cpath, &self->gateway) || !self->gateway.secret_key[0] ||
        ef_cert_load (ppath, &self->server)) {
        ef_log_error (self->log,
                      "cannot load the gateway certificate or the broker's "
                      "public key (start the broker once to create them, or "
                      "give --gateway-cert and --broker-key)",
                      "\"gateway_cert\":\"%s\",\"broker_key\":\"%s\"", cpath,
                      ppath);
        return EF_EINVAL;
    }
    return 0;
}

/*  Whether every address of a civetweb listening_ports list ("PORT",
    "HOST:PORT", "[V6]:PORT", comma-separated, with an optional s or r
    suffix) is a loopback one. A bare port listens everywhere. */
static int
s_loopback_only (const char *ports)
{
    char list[128];
    snprintf (list, sizeof list, "%s", ports);
    char *save = NULL;
    for (char *p = strtok_r (list, ",", &save); p;
         p = strtok_r (NULL, ",", &save)) {
        while (*p == ' ')
            p++;
        char *colon = strrchr (p, ':');
        if (!colon)
            return 0;
        *colon = 0;
        struct in_addr a4;
        if (!strcmp (p, "[::1]") || !strcmp (p, "localhost"))
            continue;
        if (inet_pton (AF_INET, p, &a4) == 1 &&
            (ntohl (a4.s_addr) >> 24) == 127)
            continue;
        return 0;
    }
    return 1;
}

int
ef_bridge_open (ef_bridge_t *self)
{
    int err;
    int64_t max_body = ef_config_get_int (self->cfg, "max-body", 0, &err);
    if (err || max_body < 64 || max_body > (1 << 30)) {
        ef_log_error (self->log, "invalid --max-body", NULL);
        return EF_EINVAL;
    }
    self->max_body = (size_t)max_body;
    int64_t timeout = ef_config_get_int (self->cfg, "timeout", 0, &err);
    if (err || timeout < 10 || timeout > 600000) {
        ef_log_error (self->log, "invalid --timeout", NULL);
        return EF_EINVAL;
    }
    self->timeout_ms = (int)timeout;
    int64_t threads = ef_config_get_int (self->cfg, "threads", 0, &err);
    if (err || threads < 8 || threads > 60000) {
        ef_log_error (self->log, "invalid --threads (8 to 60000)", NULL);
        return EF_EINVAL;
    }
    int64_t rto = ef_config_get_int (self->cfg, "request-timeout", 0, &err);
    int bad = err || rto < 100 || rto > 600000;
    int64_t kato = ef_config_get_int (self->cfg, "keep-alive-timeout", 0, &err);
    bad |= err || kato < 0 || kato > 600000;
    int64_t polls = ef_config_get_int (self->cfg, "long-polls", 0, &err);
    bad |= err || polls < 1 || polls > threads / 2;
    int64_t per_key =
        ef_config_get_int (self->cfg, "long-polls-per-key", 0, &err);
    bad |= err || per_key < 1 || per_key > polls;
    int64_t feeds = ef_config_get_int (self->cfg, "live-feeds", 0, &err);
    bad |= err || feeds < 1 || feeds > 60000;
    int64_t feeds_per_key =
        ef_config_get_int (self->cfg, "live-feeds-per-key", 0, &err);
    bad |= err || feeds_per_key < 1 || feeds_per_key > feeds;
    if (bad) {
        ef_log_error (self->log,
                      "invalid --request-timeout, --keep-alive-timeout, "
                      "--long-polls (at most half the threads), "
                      "--long-polls-per-key (at most --long-polls), "
                      "--live-feeds or --live-feeds-per-key (at most "
                      "--live-feeds)",
                      NULL);
        return EF_EINVAL;
    }
    /* feeds never hold more than half the threads (their default suits
       the default threads, and a bridge run with fewer still starts) */
    if (feeds > threads / 2)
        feeds = threads / 2;
    if (feeds_per_key > feeds)
        feeds_per_key = feeds;
    self->threads = (int)threads;
    self->reserve = self->threads / 8; /* never all to long polls or idlers */
    self->request_timeout_ms = (int)rto;
    self->polls = ef_polls_new ((uint32_t)polls, (uint32_t)per_key);
    self->feeds = ef_polls_new ((uint32_t)feeds, (uint32_t)feeds_per_key);
    if (!self->polls || !self->feeds)
        return EF_ENOMEM;
    char why[160];
    self->cors = ef_cors_new (ef_config_get (self->cfg, "cors-origins"), why,
                              sizeof why);
    if (!self->cors) {
        ef_log_error (self->log, "invalid --cors-origins", "\"why\":\"%s\"",
                      why);
        return EF_EINVAL;
    }
    self->proxies = ef_proxies_new (
        ef_config_get (self->cfg, "trusted-proxies"), why, sizeof why);
    if (!self->proxies) {
        ef_log_error (self->log, "invalid --trusted-proxies", "\"why\":\"%s\"",
                      why);
        return EF_EINVAL;
    }
    self->metrics_token = ef_config_get (self->cfg, "metrics-token");
    if (self->metrics_token && !*self->metrics_token)
        self->metrics_token = NULL;
    snprintf (self->broker, sizeof self->broker, "%s",
              ef_config_get (self->cfg, "broker"));
    snprintf (self->listen, sizeof self->listen, "%s",
              ef_config_get (self->cfg, "listen"));
    self->loopback_only = s_loopback_only (self->listen);
    if (!self->metrics_token && !self->loopback_only)
        ef_log_warn (self->log,
                     "/metrics answers 401 on a bridge that listens beyond "
                     "loopback until a --metrics-token is set",
                     "\"listen\":\"%s\"", self->listen);
    int rc = s_keys (self);
    if (rc)
        return rc;
    self->batcher =
        ef_batcher_new (self->broker, &self->gateway,
                        self->plain ? NULL : self->server.public_key,
                        self->timeout_ms, self->log);
    if (!self->batcher || ef_batcher_start (self->batcher))
        return EF_ENOMEM;
    self->watch = ef_watch_new (self->broker, &self->gateway,
                                self->plain ? NULL : self->server.public_key,
                                self->timeout_ms, self->log);
    if (!self->watch || ef_watch_start (self->watch))
        return EF_ENOMEM;
    char nthreads[16], rto_text[16], kato_text[16];
    snprintf (nthreads, sizeof nthreads, "%d", self->threads);
    snprintf (rto_text, sizeof rto_text, "%d", self->request_timeout_ms);
    snprintf (kato_text, sizeof kato_text, "%d", (int)kato);
    /* no document_root (no file serving), no forms, no websockets;
       request_timeout_ms bounds the time to send the headers from the
       moment a worker takes the connection */
    const char *options[] = {"listening_ports",
                             self->listen,
                             "num_threads",
                             nthreads,
                             "request_timeout_ms",
                             rto_text,
                             "keep_alive_timeout_ms",
                             kato_text,
                             "enable_keep_alive",
                             "yes",
                             "listen_backlog",
                             "1024",
                             "connection_queue",
                             "256",
                             "decode_url", /* s_path_safe sees the path */
                             "no",
                             "max_request_size",
                             "16384",
                             "tcp_nodelay",
                             "1",
                             "access_control_allow_methods", /* s_options */
                             "",
                             "access_control_allow_origin",
                             "",
                             NULL};
    struct mg_callbacks cb;
    memset (&cb, 0, sizeof cb);
    cb.init_thread = s_init_thread;
    cb.exit_thread = s_exit_thread;
    cb.log_message = s_log_message;
    cb.init_connection = s_connection_open;
    cb.connection_close = s_connection_close;
    s_fit_process (self->threads);
    mg_init_library (0);
    self->ctx = mg_start (&cb, self, options);
    if (!self->ctx) {
        ef_log_error (self->log, "cannot listen", "\"listen\":\"%s\"",
                      self->listen);
        return EF_EINVAL;
    }
    mg_set_request_handler (self->ctx, "/", s_handle, self);
    ef_log_info (self->log, "ready",
                 "\"listen\":\"http://%s\",\"broker\":\"%s\",\"curve\":%s,"
                 "\"version\":\"%s\"",
                 self->listen, self->broker, self->plain ? "false" : "true",
                 EF_VERSION);
    return 0;
}

void
ef_bridge_destroy (ef_bridge_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_bridge_t *self = *self_p;
    if (self->ctx) {
        /* the live feeds end at once, their threads free for mg_stop */
        pthread_mutex_lock (&self->stop_mu);
        self->stopping = 1;
        pthread_cond_broadcast (&self->stop_cond);
        pthread_mutex_unlock (&self->stop_mu);
        mg_stop (self->ctx);
        mg_exit_library ();
    }
    ef_batcher_destroy (&self->batcher);
    ef_watch_destroy (&self->watch);
    ef_polls_destroy (&self->polls);
    ef_polls_destroy (&self->feeds);
    ef_cors_destroy (&self->cors);
    ef_proxies_destroy (&self->proxies);
    for (uint32_t i = 0; i < self->pooled; i++)
        ef_client_destroy (&self->pool[i]);
    pthread_mutex_destroy (&self->pool_mu);
    pthread_mutex_destroy (&self->stop_mu);
    pthread_cond_destroy (&self->stop_cond);
    free (self->stats);
    free (self);
    *self_p = NULL;
}
