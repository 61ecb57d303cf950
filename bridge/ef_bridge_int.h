/*  ef_bridge_int.h: what the bridge's route modules share: the bridge's
    settings and parts through functions (the object itself is private
    to ef_bridge.c), the broker call, and the route table's types. Not
    public. */
#ifndef EF_BRIDGE_INT_H
#define EF_BRIDGE_INT_H

#include <stddef.h>
#include <stdint.h>
#include "ef_batcher.h"
#include "ef_bridge.h"
#include "ef_http.h"
#include "eventflow/ef_client.h"

typedef int (ef_route_fn) (ef_bridge_t *self, ef_http_t *h);

/*  A route is a handler, or a pass-through: one broker command whose
    request takes the path parameters in order into the named fields, and
    whose answer is reply[key] (as {"items": reply[key]} with items set;
    no body when key is NULL) with status. */
typedef struct {
    ef_cmd_t cmd;
    size_t params[EF_HTTP_MAX_PARAMS]; /* EF_ROUTE_FIELD()s; 0 ends */
    const char *key;
    int items;
    int status;
} ef_route_pass_t;
/*  A path parameter's field of ef_request_t, as ef_route_pass_t holds it. */
#define EF_ROUTE_FIELD(f) (offsetof (ef_request_t, f) + 1)

typedef struct {
    const char *method;
    const char *path; /* segments; "{x}" matches one, a last "{x+}" the
                         rest (slashes too) */
    ef_route_fn *fn;  /* NULL: the pass-through pass */
    ef_route_pass_t pass;
} ef_route_t;

#define EF_BRIDGE_CODES   20 /* statuses the metrics tell apart */
#define EF_BRIDGE_BUCKETS 12

/*  A route's request figures, as read at one moment (the bridge keeps
    them private and counts them as it answers). */
typedef struct {
    uint64_t count[EF_BRIDGE_CODES];    /* by ef_bridge_codes */
    uint64_t bucket[EF_BRIDGE_BUCKETS]; /* cumulative below ef_bridge_buckets */
    uint64_t sum_us;
    uint64_t total;
} ef_route_stats_t;

/*  The largest request body accepted (413 beyond). */
size_t ef_bridge_max_body (const ef_bridge_t *self);
/*  Who may read /metrics (README "Metrics"): 1 the holder of the metrics
    token, 0 anyone else when it is open (no token, loopback only), -1 no
    one else. */
int ef_bridge_metrics_access (const ef_bridge_t *self, const ef_http_t *h);
/*  The figures of route i of ef_bridge_routes (i == ef_bridge_nroutes:
    the requests that matched no route) into *out. */
void ef_bridge_route_stats (const ef_bridge_t *self, int i,
                            ef_route_stats_t *out);
/*  Ingest n events into stream through the group commit (ef_batcher.h),
    with h's credential: EF_EUNAVAILABLE at once while the broker is known
    to be down, and a broker found away (EF_EUNAVAILABLE, EF_ETIMEOUT) is
    reported to the watch. As ef_batcher_publish otherwise. */
int ef_bridge_publish (ef_bridge_t *self, ef_http_t *h, ef_str_t stream,
                       const ef_event_in_t *events, uint32_t n,
                       ef_batch_result_t *results, char *why,
                       uint64_t *retry_after_ms);

/*  One broker request for the exchange h, with h's credential. 0 and
    *rep, or the HTTP status already answered as a problem (503 when the
    broker cannot be reached: the thread's connection is then rebuilt on
    the next request; 503 at once while the broker is known to be down,
    ef_watch.h). */
int ef_bridge_call (ef_bridge_t *self, ef_http_t *h, ef_request_t *req,
                    const ef_reply_t **rep);
/*  ef_bridge_call for a request the broker may hold on purpose (a long
    poll of extra_ms): the broker timeout is extended by extra_ms for this
    one call. A long poll is admitted only within the limits (ef_polls.h:
    429 beyond the credential's, 503 beyond the total) and while threads
    are not short (503). */
int ef_bridge_call_wait (ef_bridge_t *self, ef_http_t *h, ef_request_t *req,
                         const ef_reply_t **rep, int extra_ms);
/*  The same without answering: 0 or the EventFlow error code. */
int ef_bridge_try (ef_bridge_t *self, ef_http_t *h, ef_request_t *req,
                   const ef_reply_t **rep);
/*  Admit one live feed (GET /api/v1/live) of h's credential: at most
    --live-feeds-per-key for one credential and --live-feeds in all
    (429 with Retry-After beyond either), and none while threads run
    short (503). 0 and *ticket (for ef_bridge_feed_leave), or the status
    already answered. */
int ef_bridge_feed_enter (ef_bridge_t *self, ef_http_t *h, uint64_t *ticket);
/*  The feed of ticket has ended. */
void ef_bridge_feed_leave (ef_bridge_t *self, uint64_t ticket);
/*  The live feeds open now (for /metrics). */
uint32_t ef_bridge_feeds_open (ef_bridge_t *self);
/*  A feed's pause between ticks: ms, cut short when the bridge stops.
    1 when it is stopping (the feed ends), else 0. */
int ef_bridge_feed_wait (ef_bridge_t *self, int ms);
/*  Answer the error rc of a broker call (rep may be NULL). */
int ef_bridge_call_error (ef_http_t *h, int rc, const ef_reply_t *rep);
/*  Answer an EventFlow error code as a problem. */
int ef_bridge_error (ef_http_t *h, int code, const char *detail,
                     uint64_t retry_after_ms);

/*  Answer 422 VALIDATION with one error at path. */
int ef_bridge_invalid (ef_http_t *h, const char *path, const char *text);

/*  A pass-through route (ef_route_t.pass): the broker call and its
    answer. */
int ef_api_pass (ef_bridge_t *self, ef_http_t *h, const ef_route_pass_t *p);

/*  The routes (ef_api_*.c). */
int ef_api_register (ef_bridge_t *self, ef_http_t *h);
int ef_api_login (ef_bridge_t *self, ef_http_t *h);
int ef_api_refresh (ef_bridge_t *self, ef_http_t *h);
int ef_api_logout (ef_bridge_t *self, ef_http_t *h);
int ef_api_password (ef_bridge_t *self, ef_http_t *h);
int ef_api_users_create (ef_bridge_t *self, ef_http_t *h);
int ef_api_users_update (ef_bridge_t *self, ef_http_t *h);
int ef_api_producers_create (ef_bridge_t *self, ef_http_t *h);
int ef_api_producers_list (ef_bridge_t *self, ef_http_t *h);
int ef_api_keys_create (ef_bridge_t *self, ef_http_t *h);
int ef_api_keys_list (ef_bridge_t *self, ef_http_t *h);
int ef_api_streams_create (ef_bridge_t *self, ef_http_t *h);
int ef_api_streams_list (ef_bridge_t *self, ef_http_t *h);
int ef_api_streams_get (ef_bridge_t *self, ef_http_t *h);
int ef_api_streams_update (ef_bridge_t *self, ef_http_t *h);
int ef_api_streams_delete (ef_bridge_t *self, ef_http_t *h);
int ef_api_streams_check (ef_bridge_t *self, ef_http_t *h);
int ef_api_ingest (ef_bridge_t *self, ef_http_t *h);
int ef_api_ingest_seed (ef_bridge_t *self, ef_http_t *h);
int ef_api_events_get (ef_bridge_t *self, ef_http_t *h);
int ef_api_events_history (ef_bridge_t *self, ef_http_t *h);
int ef_api_events_list (ef_bridge_t *self, ef_http_t *h);
int ef_api_stream_events_list (ef_bridge_t *self, ef_http_t *h);
int ef_api_groups_fetch (ef_bridge_t *self, ef_http_t *h);
int ef_api_groups_commit (ef_bridge_t *self, ef_http_t *h);
int ef_api_groups_seek (ef_bridge_t *self, ef_http_t *h);
int ef_api_groups_list (ef_bridge_t *self, ef_http_t *h);
int ef_api_dlq_list (ef_bridge_t *self, ef_http_t *h);
int ef_api_dlq_get (ef_bridge_t *self, ef_http_t *h);
int ef_api_dlq_replay (ef_bridge_t *self, ef_http_t *h);
int ef_api_dlq_replay_all (ef_bridge_t *self, ef_http_t *h);
int ef_api_dlq_delete (ef_bridge_t *self, ef_http_t *h);
int ef_api_dlq_delete_ids (ef_bridge_t *self, ef_http_t *h);
int ef_api_dlq_reasons (ef_bridge_t *self, ef_http_t *h);
int ef_api_workers_list (ef_bridge_t *self, ef_http_t *h);
int ef_api_stats (ef_bridge_t *self, ef_http_t *h);
int ef_api_live (ef_bridge_t *self, ef_http_t *h);
int ef_api_health (ef_bridge_t *self, ef_http_t *h);
int ef_api_ready (ef_bridge_t *self, ef_http_t *h);
int ef_api_metrics (ef_bridge_t *self, ef_http_t *h);

/*  The route table (ef_bridge.c), for metrics labels. */
extern const ef_route_t ef_bridge_routes[];
extern const int ef_bridge_nroutes;
/*  The row of the route table serving method on path (the path as sent,
    not decoded), its parameters decoded into h->params; -1 when none.
    *path_matched says whether some row has that path (another method:
    405, not 404). A parameter may not decode to one holding a slash. */
int ef_bridge_route (const char *method, const char *path, ef_http_t *h,
                     int *path_matched);
/*  The path as sent (civetweb is told not to decode it, and removes only
    the dot segments written as such): no segment may decode to "." or
    "..", and no escape may stand for a slash, a backslash or a NUL, or a
    route would match what the client did not write. 1 when safe. */
int ef_bridge_path_safe (const char *path);
/*  civetweb's handler of every request (cbdata: the bridge): framing,
    route, handler, metrics and the request's log line. Beyond civetweb,
    tests/fuzz/bridge.c calls it with a connection of its own. */
int ef_bridge_handle (struct mg_connection *conn, void *cbdata);
/*  The status codes the metrics count, and the histogram bounds (s). */
extern const int ef_bridge_codes[EF_BRIDGE_CODES];
extern const double ef_bridge_buckets[EF_BRIDGE_BUCKETS];

#endif
