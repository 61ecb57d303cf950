/*  ef_retention.c: a stream's retention (see ef_retention.h). */
#include "ef_retention.h"
#include "ef_groups.h"
#include "ef_process.h"
#include "ef_record.h"
#include "eventflow/ef_error.h"

#include <stdlib.h>

int
ef_retention_check (const ef_request_t *req, const char **why, const char **at)
{
    if (!req->has_retention)
        return 0;
    if (req->ret_max_age_ms > EF_RETENTION_MAX_AGE_MS) {
        *why = "max_age_ms is 0 (no limit) to 3153600000000 (100 years)";
        *at = "/retention/max_age_ms";
        return EF_EINVAL;
    }
    if (req->ret_max_bytes > EF_RETENTION_MAX_BYTES) {
        *why = "max_bytes is 0 (no limit) to 2^50";
        *at = "/retention/max_bytes";
        return EF_EINVAL;
    }
    if (req->ret_max_events > EF_RETENTION_MAX_EVENTS) {
        *why = "max_events is 0 (no limit) to 2^53 - 1";
        *at = "/retention/max_events";
        return EF_EINVAL;
    }
    return 0;
}

void
ef_retention_from_request (const ef_request_t *req, ef_retention_t *out)
{
    out->max_age_ms = req->ret_max_age_ms;
    out->max_bytes = req->ret_max_bytes;
    out->max_events = req->ret_max_events;
    out->after_groups = req->ret_after_groups ? 1 : 0;
}

void
ef_retention_to_info (ef_store_txn_t *txn, uint32_t num, ef_stream_info_t *info)
{
    ef_retention_t r;
    info->has_retention = ef_store_retention_get (txn, num, &r) == 0;
    if (!info->has_retention)
        return;
    info->ret_max_age_ms = r.max_age_ms;
    info->ret_max_bytes = r.max_bytes;
    info->ret_max_events = r.max_events;
    info->ret_after_groups = r.after_groups;
}

/* ---------------------------------------------------------------- pass */

/*  The streams with a retention, collected before any is trimmed. */
static int
s_min_committed (void *arg, const ef_group_t *g)
{
    uint64_t *min = arg;
    if (g->committed < *min)
        *min = g->committed;
    return 0;
}

/*  The walk from the head of one stream: where trimming may go up to. */
typedef struct {
    ef_store_txn_t *txn;
    uint32_t num;
    ef_retention_t r;
    uint64_t now, cap, budget;
    uint64_t events, bytes; /* what the stream holds past what goes */
    uint64_t upto, n;       /* the last seq that goes, how many */
} s_walk_t;

static int
s_walk (void *arg, uint64_t seq, ef_str_t record, ef_str_t state)
{
    s_walk_t *w = arg;
    if (seq > w->cap || w->n >= w->budget)
        return 1;
    int limits = w->r.max_age_ms || w->r.max_bytes || w->r.max_events;
    int over = !limits; /* after_groups alone: what is committed goes */
    if (w->r.max_events && w->events > w->r.max_events)
        over = 1;
    if (w->r.max_bytes && w->bytes > w->r.max_bytes)
        over = 1;
    if (w->r.max_age_ms) {
        uint64_t at = ef_record_received_at (record);
        if (at && at + w->r.max_age_ms < w->now)
            over = 1;
    }
    if (!over)
        return 1;
    /* processing not ended, or a dead letter: kept, and so is what
       follows (the head moves in order) */
    ef_state_t st;
    if (state.len && ef_process_state_parse (state, &st) == 0 &&
        st.status == EF_STATUS_PENDING)
        return 1;
    ef_str_t dead;
    if (ef_store_dlq_get (w->txn, w->num, seq, &dead) == 0)
        return 1;
    w->upto = seq;
    w->n++;
    w->events--;
    w->bytes = w->bytes > record.len ? w->bytes - record.len : 0;
    return 0;
}

static int
s_stream_pass (ef_store_txn_t *txn, uint32_t num, const ef_retention_t *r,
               uint64_t now, uint64_t budget, uint64_t *freed)
{
    s_walk_t w = {
        .txn = txn, .num = num, .r = *r, .now = now, .budget = budget};
    uint64_t first, last;
    *freed = 0;
    int rc = ef_store_stream_bounds (txn, num, &first, &last);
    if (rc == 0)
        rc = ef_store_stream_bytes (txn, num, &w.bytes);
    if (rc || last < first || last == 0)
        return rc;
    w.events = last - first + 1;
    w.cap = UINT64_MAX;
    if (w.r.after_groups &&
        (rc = ef_groups_each (txn, num, s_min_committed, &w.cap)))
        return rc;
    if (w.r.after_groups && w.cap == UINT64_MAX)
        return 0; /* no group yet: nothing is known to be consumed */
    if ((rc = ef_store_event_read (txn, num, first, s_walk, &w)) || !w.n)
        return rc;
    return ef_store_event_trim (txn, num, w.upto, ef_record_id, freed, NULL);
}

int
ef_retention_pass (ef_store_txn_t *txn, uint64_t now, uint64_t budget,
                   uint32_t max_streams, uint32_t *cursor, uint64_t *freed,
                   uint32_t *examined, int *more)
{
    uint32_t num = *cursor;
    *freed = 0;
    *examined = 0;
    *more = 0;
    while (*examined < max_streams) {
        ef_retention_t r;
        int rc = ef_store_retention_next (txn, num, &num, &r);
        if (rc == EF_ENOTFOUND) {
            *cursor = 0; /* the round is over */
            return 0;
        }
        if (rc)
            return rc;
        (*examined)++;
        uint64_t n = 0;
        if ((rc = s_stream_pass (txn, num, &r, now, budget - *freed, &n)))
            return rc;
        *freed += n;
        if (*freed >= budget) {
            *cursor = num; /* this stream may have more */
            *more = 1;
            return 0;
        }
        if (num == UINT32_MAX) {
            *cursor = 0;
            return 0;
        }
        num++;
    }
    *cursor = num;
    *more = 1;
    return 0;
}
