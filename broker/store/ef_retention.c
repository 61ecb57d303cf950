/*  ef_retention.c: a stream's retention (see ef_retention.h). */
#include "ef_retention.h"
#include "eventflow/ef_error.h"

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
