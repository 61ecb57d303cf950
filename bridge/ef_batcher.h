/*  ef_batcher.h: group commit at the bridge. HTTP ingest requests from
    all worker threads meet here; one sender thread turns everything that
    arrived while its last batch was in flight into one PUBLISH per
    (credential, stream), so a hundred concurrent HTTP producers cost the
    broker a few requests, not a hundred round trips. Each HTTP request
    still gets its own results: one per event it sent, in order.
    Thread-safety: ef_batcher_publish from any thread (it blocks the
    caller until its events are answered). */
#ifndef EF_BATCHER_H
#define EF_BATCHER_H

#include <stdint.h>
#include "eventflow/ef_cert.h"
#include "eventflow/ef_log.h"
#include "eventflow/ef_proto.h"

/*  One event's outcome, owned by the caller. */
typedef struct {
    int code; /* 0, or the item's error */
    int duplicate;
    uint64_t seq;
    uint64_t received_at;
    uint64_t retry_after_ms;
    char event_id[40];
    char message[1024]; /* a schema verdict is cut between two errors */
    uint32_t n_errors;  /* VALIDATION: its failing paths, in errors as */
    char errors[2048];  /* "path\0message\0" each, the whole ones that fit */
} ef_batch_result_t;

typedef struct ef_batcher ef_batcher_t;

/*  A batcher publishing to endpoint with the gateway's keys (server_key
    NULL: plain). timeout_ms bounds each request. */
ef_batcher_t *ef_batcher_new (const char *endpoint, const ef_cert_t *gateway,
                              const char *server_key, int timeout_ms,
                              ef_log_t *log);
int ef_batcher_start (ef_batcher_t *self);
void ef_batcher_destroy (ef_batcher_t **self_p);

/*  Publish n events (their strings must stay valid until it returns) to
    stream with one credential. Blocks. Returns 0 with results[n] filled,
    or the error of the whole request (EF_EUNAVAILABLE when the broker is
    unreachable, or the broker's error, its text in *why, up to 160). */
int ef_batcher_publish (ef_batcher_t *self, ef_str_t api_key, ef_str_t jwt,
                        ef_str_t stream, const ef_event_in_t *events,
                        uint32_t n, ef_batch_result_t *results, char *why,
                        uint64_t *retry_after_ms);

#endif
