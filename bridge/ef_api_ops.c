/*  ef_api_ops.c: the operational routes: /health (the bridge is up),
    /ready (and can reach its broker), /metrics (Prometheus text: the
    bridge's request counters and latency, and the broker's figures; the
    per-org series only for the holder of the metrics token), and
    /api/v1/stats (the caller's org's per-second figures, last hour). */
#include "ef_api_common.h"
#include "eventflow/ef_proto.h"

#include <stdio.h>
#include <string.h>

int
ef_api_health (ef_bridge_t *self, ef_http_t *h)
{
    (void)self;
    ef_buf_append (&h->out, "{\"status\":\"ok\"}", 15);
    return ef_http_send (h, 200);
}

int
ef_api_ready (ef_bridge_t *self, ef_http_t *h)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_PING;
    h->api_key = h->jwt = EF_STR_NULL;
    int rc = ef_bridge_call (self, h, &req, &rep);
    if (rc)
        return rc; /* 503, answered */
    ef_buf_append (&h->out, "{\"status\":\"ready\"}", 18);
    return ef_http_send (h, 200);
}

/*  One eventflow_consumer_lag line from a {stream, group, lag} map. Names
    are [A-Za-z0-9._-], so they need no escaping as label values. */
static void
s_lag_line (ef_buf_t *b, ef_mpr_t *r)
{
    uint32_t n;
    ef_str_t stream = EF_STR_NULL, group = EF_STR_NULL;
    uint64_t lag = 0;
    if (ef_mpr_map (r, &n))
        return;
    for (uint32_t i = 0; i < n; i++) {
        ef_str_t k;
        if (ef_mpr_str (r, &k))
            return;
        if (ef_str_eq (k, "stream"))
            ef_mpr_str (r, &stream);
        else if (ef_str_eq (k, "group"))
            ef_mpr_str (r, &group);
        else if (ef_str_eq (k, "lag"))
            ef_mpr_uint (r, &lag);
        else
            ef_mpr_skip (r, EF_MSGPACK_DEPTH);
    }
    char line[400];
    int len =
        snprintf (line, sizeof line,
                  "eventflow_consumer_lag{stream=\"%.*s\",group=\"%.*s\"} "
                  "%llu\n",
                  (int)stream.len, stream.ptr ? stream.ptr : "", (int)group.len,
                  group.ptr ? group.ptr : "", (unsigned long long)lag);
    if (len > 0 && (size_t)len < sizeof line)
        ef_buf_append (b, line, (size_t)len);
}

/*  The broker's "processing" map of STATS (protocol.md §6) as
    eventflow_retries_total, eventflow_dlq_size, eventflow_workers and the
    eventflow_processing_seconds histogram. */
static void
s_processing_lines (ef_http_t *h, ef_mpr_t *r)
{
    uint64_t retries = 0, dead = 0, done = 0, dlq = 0, workers = 0, count = 0,
             sum = 0;
    ef_buf_t hist;
    ef_buf_init (&hist);
    uint32_t n;
    if (ef_mpr_map (r, &n))
        return;
    for (uint32_t i = 0; i < n; i++) {
        ef_str_t k;
        uint64_t *v = NULL;
        if (ef_mpr_str (r, &k))
            break;
        if (ef_str_eq (k, "retries"))
            v = &retries;
        else if (ef_str_eq (k, "dead"))
            v = &dead;
        else if (ef_str_eq (k, "jobs_done"))
            v = &done;
        else if (ef_str_eq (k, "dlq_size"))
            v = &dlq;
        else if (ef_str_eq (k, "workers"))
            v = &workers;
        else if (ef_str_eq (k, "latency_count"))
            v = &count;
        else if (ef_str_eq (k, "latency_sum_ms"))
            v = &sum;
        if (v) {
            if (ef_mpr_uint (r, v))
                break;
            continue;
        }
        uint32_t nb, two;
        if (!ef_str_eq (k, "latency_buckets") || ef_mpr_array (r, &nb)) {
            if (ef_mpr_skip (r, EF_MSGPACK_DEPTH))
                break;
            continue;
        }
        for (uint32_t j = 0; j < nb; j++) {
            uint64_t le = 0, c = 0;
            int inf = 0;
            if (ef_mpr_array (r, &two) || two != 2)
                break;
            if (ef_mpr_nil (r))
                inf = 1;
            else if (ef_mpr_uint (r, &le))
                break;
            if (ef_mpr_uint (r, &c))
                break;
            char line[128];
            int len =
                inf ? snprintf (line, sizeof line,
                                "eventflow_processing_seconds_bucket"
                                "{le=\"+Inf\"} %llu\n",
                                (unsigned long long)c)
                    : snprintf (line, sizeof line,
                                "eventflow_processing_seconds_bucket"
                                "{le=\"%g\"} %llu\n",
                                (double)le / 1000.0, (unsigned long long)c);
            if (len > 0 && (size_t)len < sizeof line)
                ef_buf_append (&hist, line, (size_t)len);
        }
    }
    ef_http_printf (
        h,
        "# HELP eventflow_retries_total Worker attempts scheduled again.\n"
        "# TYPE eventflow_retries_total counter\n"
        "eventflow_retries_total %llu\n"
        "# HELP eventflow_dead_letters_total Events sent to the dead-letter "
        "queue.\n# TYPE eventflow_dead_letters_total counter\n"
        "eventflow_dead_letters_total %llu\n"
        "# HELP eventflow_jobs_done_total Worker jobs answered done.\n"
        "# TYPE eventflow_jobs_done_total counter\n"
        "eventflow_jobs_done_total %llu\n"
        "# HELP eventflow_dlq_size Dead letters waiting.\n"
        "# TYPE eventflow_dlq_size gauge\n"
        "eventflow_dlq_size %llu\n"
        "# HELP eventflow_workers Workers attached.\n"
        "# TYPE eventflow_workers gauge\n"
        "eventflow_workers %llu\n"
        "# HELP eventflow_processing_seconds From an event's arrival to the "
        "end of its pipeline.\n# TYPE eventflow_processing_seconds histogram\n",
        (unsigned long long)retries, (unsigned long long)dead,
        (unsigned long long)done, (unsigned long long)dlq,
        (unsigned long long)workers);
    ef_buf_append (&h->out, hist.data, hist.len);
    ef_http_printf (h,
                    "eventflow_processing_seconds_sum %.3f\n"
                    "eventflow_processing_seconds_count %llu\n",
                    (double)sum / 1000.0, (unsigned long long)count);
    ef_buf_free (&hist);
}

/*  Who may read /metrics (README "Metrics"): with a metrics token, only
    its holder, who also sees the per-org series (consumer lag by stream
    and group); without one, anyone when the bridge listens on loopback
    only, and no one otherwise (open metrics on a public port would tell
    every caller how busy the other orgs are). The broker-wide figures
    carry no org's names. */
int
ef_api_metrics (ef_bridge_t *self, ef_http_t *h)
{
    int access = ef_bridge_metrics_access (self, h);
    int operator= access == 1;
    if (access < 0)
        return ef_http_problem (h, EF_EAUTH, "authentication failed", NULL, 0);
    /* the broker's figures, asked as the gateway itself */
    ef_request_t req = {0};
    const ef_reply_t *rep;
    ef_stats_t st = {0};
    int up = 0;
    req.cmd = EF_CMD_STATS;
    h->api_key = h->jwt = EF_STR_NULL;
    /* metrics matter most when the broker is down: then only the
       bridge's own figures are shown, with eventflow_broker_up 0 */
    ef_buf_t lags;
    ef_buf_init (&lags);
    ef_mpr_t proc; /* in the reply, which stays until the next call */
    int have_proc = 0;
    if (ef_bridge_try (self, h, &req, &rep) == 0) {
        ef_mpr_t r;
        uint32_t n;
        have_proc = ef_proto_reply_find (rep, "processing", &proc) == 0;
        up = ef_proto_reply_find (rep, "stats", &r) == 0 &&
             ef_proto_read_stats (&r, &st) == 0;
        if (up && operator&& ef_proto_reply_find (rep, "lags", &r) == 0 &&
            ef_mpr_array (&r, &n) == 0)
            for (uint32_t i = 0; i < n; i++)
                s_lag_line (&lags, &r);
    }
    ef_http_printf (h,
                    "# HELP eventflow_broker_up Whether the bridge reached the "
                    "broker.\n# TYPE eventflow_broker_up gauge\n"
                    "eventflow_broker_up %d\n",
                    up);
    if (up) {
        ef_http_printf (
            h,
            "# HELP eventflow_events_ingested_total Events stored.\n"
            "# TYPE eventflow_events_ingested_total counter\n"
            "eventflow_events_ingested_total %llu\n"
            "# HELP eventflow_events_rejected_total Events refused.\n"
            "# TYPE eventflow_events_rejected_total counter\n"
            "eventflow_events_rejected_total %llu\n"
            "# HELP eventflow_events_duplicate_total Duplicates answered.\n"
            "# TYPE eventflow_events_duplicate_total counter\n"
            "eventflow_events_duplicate_total %llu\n"
            "# HELP eventflow_store_bytes Bytes the store uses.\n"
            "# TYPE eventflow_store_bytes gauge\n"
            "eventflow_store_bytes %llu\n"
            "# HELP eventflow_store_map_size_bytes Largest size the store may "
            "grow to (--map-size).\n"
            "# TYPE eventflow_store_map_size_bytes gauge\n"
            "eventflow_store_map_size_bytes %llu\n"
            "# HELP eventflow_streams Streams in the store.\n"
            "# TYPE eventflow_streams gauge\n"
            "eventflow_streams %llu\n"
            "# HELP eventflow_events_stored Events in the store.\n"
            "# TYPE eventflow_events_stored gauge\n"
            "eventflow_events_stored %llu\n",
            (unsigned long long)st.published, (unsigned long long)st.rejected,
            (unsigned long long)st.duplicates,
            (unsigned long long)st.store_bytes, (unsigned long long)st.map_size,
            (unsigned long long)st.streams, (unsigned long long)st.events);
    }
    if (up && have_proc)
        s_processing_lines (h, &proc);
    if (lags.len) {
        ef_http_printf (h, "# HELP eventflow_consumer_lag Events a consumer "
                           "group is behind its stream's head.\n"
                           "# TYPE eventflow_consumer_lag gauge\n");
        ef_buf_append (&h->out, lags.data, lags.len);
    }
    ef_buf_free (&lags);
    ef_http_printf (h,
                    "# HELP eventflow_http_live_feeds Live feeds (GET "
                    "/api/v1/live) open.\n# TYPE eventflow_http_live_feeds "
                    "gauge\neventflow_http_live_feeds %u\n",
                    ef_bridge_feeds_open (self));
    ef_http_printf (h, "# HELP eventflow_http_requests_total HTTP requests "
                       "answered.\n# TYPE eventflow_http_requests_total "
                       "counter\n");
    for (int i = 0; i <= ef_bridge_nroutes; i++) {
        ef_route_stats_t s;
        ef_bridge_route_stats (self, i, &s);
        char route[160];
        if (i < ef_bridge_nroutes)
            snprintf (route, sizeof route, "%s %s", ef_bridge_routes[i].method,
                      ef_bridge_routes[i].path);
        else
            snprintf (route, sizeof route, "none");
        for (int c = 0; c < EF_BRIDGE_CODES; c++) {
            uint64_t n = s.count[c];
            if (n)
                ef_http_printf (h,
                                "eventflow_http_requests_total{route=\"%s\","
                                "code=\"%d\"} %llu\n",
                                route, ef_bridge_codes[c],
                                (unsigned long long)n);
        }
    }
    ef_http_printf (h, "# HELP eventflow_http_request_seconds Time to answer "
                       "HTTP requests.\n# TYPE eventflow_http_request_seconds "
                       "histogram\n");
    for (int i = 0; i < ef_bridge_nroutes; i++) {
        ef_route_stats_t s;
        ef_bridge_route_stats (self, i, &s);
        uint64_t total = s.total;
        if (!total)
            continue;
        char route[160];
        snprintf (route, sizeof route, "%s %s", ef_bridge_routes[i].method,
                  ef_bridge_routes[i].path);
        for (int b = 0; b < EF_BRIDGE_BUCKETS; b++)
            ef_http_printf (
                h,
                "eventflow_http_request_seconds_bucket{route=\"%s\","
                "le=\"%g\"} %llu\n",
                route, ef_bridge_buckets[b], (unsigned long long)s.bucket[b]);
        ef_http_printf (
            h,
            "eventflow_http_request_seconds_bucket{route=\"%s\","
            "le=\"+Inf\"} %llu\n"
            "eventflow_http_request_seconds_sum{route=\"%s\"} %.6f\n"
            "eventflow_http_request_seconds_count{route=\"%s\"} "
            "%llu\n",
            route, (unsigned long long)total, route, s.sum_us / 1e6, route,
            (unsigned long long)total);
    }
    return ef_http_send_text (h, "text/plain; version=0.0.4");
}

/*  GET /api/v1/stats: the caller's org's per-second figures over the last
    seconds (default 3600), in total and per stream (or only ?stream; or
    none with ?streams=none, the default being streams=active), as kept
    by the broker (STATS with seconds and total_only, protocol.md §6). */
int
ef_api_stats (ef_bridge_t *self, ef_http_t *h)
{
    ef_request_t req = {0};
    ef_api_errors_t e;
    char stream[260];
    ef_api_errors_init (&e);
    req.cmd = EF_CMD_STATS;
    req.seconds = 3600;
    req.has_seconds = 1;
    ef_api_query_uint (h, "seconds", 1, 3600, &req.seconds, &e);
    ef_api_query_text (h, "stream", stream, sizeof stream, &req.stream, &e);
    char which[16];
    int q = ef_http_query (h, "streams", which, sizeof which);
    if (q > 0 && strcmp (which, "none") == 0)
        req.total_only = 1;
    else if (q != 0 && (q < 0 || strcmp (which, "active") != 0))
        ef_api_errors_add (&e, "?streams", "is none or active");
    if (req.total_only && req.stream.ptr)
        ef_api_errors_add (&e, "?streams",
                           "streams=none asks for no stream's figures: "
                           "not with stream");
    const ef_reply_t *rep;
    int rc = ef_api_call (self, h, &e, &req, &rep);
    if (rc)
        return rc;
    if (ef_api_render (h, rep, "series"))
        return ef_http_problem (h, EF_EPROTO, "malformed STATS reply", NULL, 0);
    return ef_http_send (h, 200);
}
