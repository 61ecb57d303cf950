/*  ef_publish.c: PUBLISH on the reactor's side (DESIGN.md §3). Everything
    about a batch that needs no store write and no schema happens here:
    item checks, event ids, enrichment and the records themselves; the
    schema checks (ef_validator) and the writer do the rest, and the
    reply is built here from the writer's results. The broker is seen
    through ef_publish_ctx_t only; the event id generator is this
    module's own. */
#include "ef_publish.h"
#include "ef_record.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_time.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct ef_publish {
    ef_publish_ctx_t x;
    ef_uuid_gen_t uuids; /* event ids, increasing */
};

ef_publish_t *
ef_publish_new (const ef_publish_ctx_t *ctx)
{
    ef_publish_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->x = *ctx;
    ef_uuid_gen_init (&self->uuids);
    return self;
}

void
ef_publish_destroy (ef_publish_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

static int
s_reserve (ef_wreq_t *w, uint32_t n)
{
    if (w->results_cap >= n)
        return 0;
    ef_wresult_t *res = realloc (w->results, n * sizeof *res);
    if (!res)
        return EF_ENOMEM;
    w->results = res;
    w->results_cap = n;
    return 0;
}

/*  An API key's rate counts events: one token per item not refused. */
static void
s_rate_item (ef_publish_t *self, ef_wreq_t *w, ef_wresult_t *res, int64_t mono)
{
    if (res->code == 0 &&
        ef_auth_rate (self->x.auth, &w->who, mono, &res->retry_after_ms)) {
        res->code = EF_ERATE;
        res->err_msg = "rate limit reached";
    }
}

void
ef_publish_checked (ef_publish_t *self, ef_wreq_t *w)
{
    int64_t mono = ef_time_mono_ms ();
    for (uint32_t i = 0; i < w->req.n_events; i++)
        s_rate_item (self, w, &w->results[i], mono);
}

/*  Everything about a PUBLISH that needs no store write and no schema
    happens here, on the reactor thread: item checks, ids, enrichment and
    the records themselves. With a schema, w->schema sends the request to
    the schema checks (ef_validator: they may take a while, and never on
    the reactor) and rates are counted when it is back
    (ef_publish_checked). The writer then only assigns seqs and
    appends. */
int
ef_publish (ef_publish_t *self, ef_wreq_t *w, const char **why)
{
    int rc = ef_store_stream_find (self->x.reader, w->org, w->req.stream,
                                   &w->stream);
    if (rc) {
        *why = rc == EF_ENOTFOUND ? "no such stream" : NULL;
        return rc;
    }
    if (s_reserve (w, w->req.n_events))
        return EF_ENOMEM;
    uint64_t now = ef_time_now_ms ();
    int64_t mono = ef_time_mono_ms ();
    w->quota = ef_auth_quota (self->x.auth, EF_QUOTA_STORED_BYTES);
    char trace[33];
    ef_schema_t *schema =
        ef_schema_cache_get (self->x.schemas, w->stream.num, w->stream.schema);
    /* the stream's texts point into this snapshot: not to be kept */
    w->stream.schema = w->stream.pipeline = EF_STR_NULL;
    ef_buf_reset (&w->records);
    for (uint32_t i = 0; i < w->req.n_events; i++) {
        ef_event_in_t *ev = &self->x.scratch[i];
        ef_wresult_t *res = &w->results[i];
        memset (res, 0, offsetof (ef_wresult_t, event_id));
        res->retry_after_ms = 0;
        res->code = ef_proto_check_event (ev, self->x.max_payload);
        res->err_msg = ev->err_msg;
        res->msg_off = res->msg_len = 0;
        res->errs_off = res->errs_len = 0;
        res->payload = ev->payload;
        if (!schema)
            s_rate_item (self, w, res, mono);
        if (res->code)
            continue;
        if (ef_str_set (ev->event_id)) {
            ef_uuid_parse (ev->event_id.ptr, ev->event_id.len, &res->id);
            res->id_given = 1;
        } else
            ef_uuid_gen_v7 (&self->uuids, now, &res->id);
        ef_uuid_format (&res->id, res->event_id);
        res->received_at = now;
        ef_event_t e = {0};
        e.event_id = (ef_str_t){res->event_id, EF_UUID_STRLEN};
        e.type = ev->type;
        e.version = ev->version ? ev->version : 1;
        e.occurred_at = ev->occurred_at ? ev->occurred_at : now;
        e.received_at = now;
        e.source = ef_str_set (ev->source) ? ev->source : ef_str ("native");
        e.api_key_id =
            w->who.kind == EF_WHO_API_KEY ? ef_str (w->who.id) : EF_STR_NULL;
        e.trace_id = ev->trace_id;
        e.correlation_id = ev->correlation_id;
        e.request_id =
            ef_str_set (ev->request_id) ? ev->request_id : w->req.request_id;
        if (!ef_str_set (e.trace_id) && ef_str_set (w->req.traceparent)) {
            /* the request's trace, when the event names none */
            ef_proto_traceparent (w->req.traceparent, trace);
            e.trace_id = (ef_str_t){trace, 32};
        }
        e.payload = ev->payload;
        if (self->x.log_debug && ef_str_set (e.request_id))
            ef_log_debug (self->x.log, "event",
                          "\"event_id\":\"%s\","
                          "\"request_id\":\"%.*s\"",
                          res->event_id, (int)e.request_id.len,
                          e.request_id.ptr);
        res->rec_off = (uint32_t)w->records.len;
        ef_record_write (&w->records, &e, &res->id);
        res->rec_len = (uint32_t)(w->records.len - res->rec_off);
    }
    if (w->records.oom)
        return EF_ENOMEM;
    if (schema)
        w->schema = ef_schema_ref (schema);
    return 0;
}

void
ef_publish_write_reply (ef_publish_t *self, ef_wreq_t *w)
{
    ef_buf_t *out = self->x.out;
    uint64_t accepted = 0, dups = 0, rejected = 0;
    ef_proto_reply_ok (out, w->req.id, 1);
    ef_mp_key (out, "results");
    ef_mp_array (out, w->req.n_events);
    for (uint32_t i = 0; i < w->req.n_events; i++) {
        const ef_wresult_t *res = &w->results[i];
        ef_publish_result_t r = {0};
        r.code = res->code;
        r.index = i;
        if (res->code) {
            r.message =
                res->msg_len
                    ? (ef_str_t){w->records.data + res->msg_off, res->msg_len}
                    : ef_str (res->err_msg);
            r.retry_after_ms = res->retry_after_ms;
            if (res->errs_len)
                r.errors =
                    (ef_str_t){w->records.data + res->errs_off, res->errs_len};
            rejected++;
        } else {
            r.event_id = (ef_str_t){res->event_id, EF_UUID_STRLEN};
            r.seq = res->seq;
            r.received_at = res->received_at;
            r.duplicate = res->duplicate;
            dups += res->duplicate;
            accepted += !res->duplicate;
        }
        ef_proto_write_result (out, &r);
    }
    ef_metrics_add (self->x.metrics, EF_M_PUBLISHED, accepted);
    ef_metrics_add (self->x.metrics, EF_M_DUPLICATES, dups);
    ef_metrics_add (self->x.metrics, EF_M_REJECTED, rejected);
    /* the per-second figures under the stream's name (the request may
       have named it by its id) */
    uint64_t n[EF_SERIES_COUNTERS] = {0};
    n[EF_SERIES_INGESTED] = accepted;
    n[EF_SERIES_DUPLICATES] = dups;
    n[EF_SERIES_REJECTED] = rejected;
    ef_series_add (self->x.series, ef_time_now_ms () / 1000, w->org,
                   w->stream.name, strlen (w->stream.name), n);
}
