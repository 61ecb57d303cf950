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

/*  One pass of enforcement (write txn; now is the wall clock, ms): for
    each stream with a retention, delete from its head, oldest first, the
    events its limits let go (over max_events, over max_bytes, received
    more than max_age_ms before now; with after_groups and no limit,
    every event each group has committed), never past the smallest
    committed offset of its groups when after_groups (a stream without
    groups then keeps everything), and stopping at the first event whose
    processing has not ended (PENDING) or that is in the DLQ.
    A pass is bounded whatever the tenants hold: it looks at the streams
    with a retention from stream number *cursor on, at most max_streams
    of them, and deletes at most budget events. *cursor gets where the
    next pass starts (0 when the round of all streams is over), *freed how
    many events went, *examined how many streams were looked at, *more 1
    when a bound cut the pass short (call again soon). */
int ef_retention_pass (ef_store_txn_t *txn, uint64_t now, uint64_t budget,
                       uint32_t max_streams, uint32_t *cursor, uint64_t *freed,
                       uint32_t *examined, int *more);

#endif
