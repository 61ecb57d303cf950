/*  ef_retention.h: a stream's retention (schemas/protocol.md, Retention):
    the limits a request carries, checked and turned into the store's
    ef_retention_t, and shown in a Stream. */
#ifndef EF_RETENTION_H
#define EF_RETENTION_H

#include "ef_store.h"
#include "eventflow/ef_proto.h"

/*  The bounds of each limit. */
#define EF_RETENTION_MAX_AGE_MS UINT64_C (3153600000000) /* 100 years */
#define EF_RETENTION_MAX_BYTES  (UINT64_C (1) << 50)
#define EF_RETENTION_MAX_EVENTS ((UINT64_C (1) << 53) - 1)

/*  Check req's retention (when it has one): 0, or EF_EINVAL with *why
    and *at (a JSON Pointer: "/retention/max_age_ms", ...) set. */
int ef_retention_check (const ef_request_t *req, const char **why,
                        const char **at);
/*  req's retention as the store keeps it. */
void ef_retention_from_request (const ef_request_t *req, ef_retention_t *out);
/*  Stream num's retention into info (none: has_retention 0). */
void ef_retention_to_info (ef_store_txn_t *txn, uint32_t num,
                           ef_stream_info_t *info);

#endif
