/*  ef_publish.h: PUBLISH on the reactor's side: item checks, event ids,
    enrichment and the records, before the schema checks and the writer;
    the rates of the items a schema let through; the reply from the
    writer's results. The object owns the event id generator (v7,
    increasing); it sees the broker through its context: the snapshot, the
    decoded batch, the schema cache, the authentication state (rates,
    quotas), where the reply goes, the log and the metrics.
    Thread-safety: the reactor's thread only. */
#ifndef EF_PUBLISH_H
#define EF_PUBLISH_H

#include "ef_auth.h"
#include "ef_metrics.h"
#include "ef_schema_cache.h"
#include "ef_series.h"
#include "ef_wreq.h"
#include "eventflow/ef_log.h"
#include "eventflow/ef_uuid.h"

typedef struct ef_publish ef_publish_t;

typedef struct {
    ef_store_txn_t *reader; /* the reactor's snapshot */
    ef_buf_t *out;          /* the reply goes here */
    ef_event_in_t *scratch; /* the decoded items of the request in hand */
    uint32_t max_payload;
    ef_schema_cache_t *schemas;
    ef_auth_t *auth;
    ef_log_t *log;
    int log_debug; /* the log takes debug lines */
    ef_metrics_t *metrics;
    ef_series_t *series; /* per-second figures per org and stream */
} ef_publish_ctx_t;

ef_publish_t *ef_publish_new (const ef_publish_ctx_t *ctx);
void ef_publish_destroy (ef_publish_t **self_p);

/*  The handler: the batch's records into w, and w->schema when its
    stream has one; an error code with *why naming the cause. */
int ef_publish (ef_publish_t *self, ef_wreq_t *w, const char **why);
/*  A PUBLISH back from its schema checks: count the rates of the items
    they let through. */
void ef_publish_checked (ef_publish_t *self, ef_wreq_t *w);
/*  The reply from the writer's results, into ctx->out (counted in the
    metrics). */
void ef_publish_write_reply (ef_publish_t *self, ef_wreq_t *w);

#endif
