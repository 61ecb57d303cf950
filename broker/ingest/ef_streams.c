/*  ef_streams.c: the commands that shape streams: CREATE_STREAM,
    UPDATE_STREAM (rename, schema, pipeline) and DELETE_STREAM. A stream's
    schema and pipeline must compile, within the org's quota, before they
    are kept; the writes happen in the writer's transaction, which also
    checks that routes do not loop and makes the engine forget what it
    compiled of a changed or deleted stream. The broker is seen through
    ef_streams_ctx_t only. */
#include "ef_streams.h"
#include "ef_engine.h"
#include "ef_pipeline.h"
#include "ef_query.h"
#include "ef_schema.h"
#include "eventflow/ef_error.h"

#include <stdio.h>
#include <stdlib.h>

struct ef_streams {
    ef_streams_ctx_t x;
    char why[512]; /* a refusal's message that is not static */
    char at[64];   /* and the JSON Pointer it is about */
};

ef_streams_t *
ef_streams_new (const ef_streams_ctx_t *ctx)
{
    ef_streams_t *self = calloc (1, sizeof *self);
    if (self)
        self->x = *ctx;
    return self;
}

void
ef_streams_destroy (ef_streams_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

/*  A stream's schema and pipeline must compile before they are kept. */
static int
s_check_config (ef_streams_t *self, ef_wreq_t *w, const char **why)
{
    int err = 0;
    char msg[256] = "";
    if (ef_str_set (w->req.schema) && w->req.schema.len) {
        if (w->req.schema.len > 262144) {
            *why = "a schema is at most 256 KiB";
            return EF_ETOOBIG;
        }
        ef_schema_t *sc = ef_schema_compile (
            w->req.schema.ptr, w->req.schema.len, &err, msg, sizeof msg);
        if (!sc) {
            snprintf (self->why, sizeof self->why, "invalid schema: %s", msg);
            *why = self->why;
            w->why_at = "/schema";
            return EF_EINVAL;
        }
        ef_schema_destroy (&sc);
    }
    if (ef_str_set (w->req.pipeline) && w->req.pipeline.len) {
        if (w->req.pipeline.len > 262144) {
            *why = "a pipeline is at most 256 KiB";
            return EF_ETOOBIG;
        }
        char at[32];
        ef_pipeline_t *p =
            ef_pipeline_compile_at (w->req.pipeline.ptr, w->req.pipeline.len,
                                    &err, msg, sizeof msg, at, sizeof at);
        if (!p) {
            snprintf (self->why, sizeof self->why, "invalid pipeline: %s", msg);
            *why = self->why;
            snprintf (self->at, sizeof self->at, "/pipeline%s", at);
            w->why_at = self->at;
            return EF_EINVAL;
        }
        uint64_t steps = ef_auth_quota (self->x.auth, EF_QUOTA_PIPELINE_STEPS);
        uint32_t n = p->n;
        ef_pipeline_destroy (&p);
        if (steps && n > steps) {
            snprintf (self->why, sizeof self->why,
                      "the org's quota is %llu pipeline steps per stream",
                      (unsigned long long)steps);
            *why = self->why;
            return EF_EQUOTA;
        }
    }
    return 0;
}

int
ef_streams_create (ef_streams_t *self, ef_wreq_t *w, const char **why)
{
    if (!ef_proto_name_valid (w->req.name)) {
        *why = "stream names are 1 to 128 of [A-Za-z0-9._-], not . or ..";
        return EF_EINVAL;
    }
    w->quota = ef_auth_quota (self->x.auth, EF_QUOTA_STREAMS);
    return s_check_config (self, w, why);
}

/*  The id a stored record carries. */
static int
s_record_id (ef_str_t record, ef_uuid_t *id)
{
    ef_event_t ev = {0};
    ef_mpr_t r;
    ef_mpr_init (&r, record.ptr, record.len);
    if (ef_proto_read_event_kv (&r, EF_EVENT_RECORD_KEYS, &ev) ||
        !ev.event_id.ptr)
        return EF_EINVAL;
    return ef_uuid_parse (ev.event_id.ptr, ev.event_id.len, id);
}

static int
s_apply_update_stream (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w,
                       uint64_t now)
{
    (void)now;
    ef_stream_rec_t s;
    int rc = ef_store_stream_find (txn, w->org, w->req.stream, &s);
    if (rc == EF_ENOTFOUND) {
        w->status = rc, w->why = "no such stream";
        return 0;
    }
    /* first: would the routes loop with the new name or pipeline? (a
       name another stream has is refused by the rename) */
    ef_stream_rec_t other;
    if (rc == 0 && (ef_str_set (w->req.name) || ef_str_set (w->req.pipeline)) &&
        (!ef_str_set (w->req.name) ||
         ef_store_stream_find (txn, w->org, w->req.name, &other) ==
             EF_ENOTFOUND ||
         other.num == s.num)) {
        rc = ef_writer_check_routes (
            ((ef_streams_t *)ctx)->x.writer, txn, w, s.num,
            ef_str_set (w->req.name) ? w->req.name : ef_str (s.name));
        if (rc || w->status)
            return rc;
    }
    if (rc == 0 && ef_str_set (w->req.name))
        rc = ef_store_stream_rename (txn, s.num, w->req.name);
    if (rc == 0 &&
        (ef_str_set (w->req.schema) || ef_str_set (w->req.pipeline))) {
        /* given: set (an empty text removes); not given: kept */
        ef_stream_rec_t cur;
        if ((rc = ef_store_stream_get (txn, s.num, &cur)) == 0) {
            ef_buf_t keep;
            ef_buf_init (&keep);
            ef_str_t sc = w->req.schema, pl = w->req.pipeline;
            if (!ef_str_set (sc) && ef_str_set (cur.schema)) {
                ef_buf_append (&keep, cur.schema.ptr, cur.schema.len);
                sc = (ef_str_t){NULL, cur.schema.len};
            }
            size_t at = keep.len;
            if (!ef_str_set (pl) && ef_str_set (cur.pipeline)) {
                ef_buf_append (&keep, cur.pipeline.ptr, cur.pipeline.len);
                pl = (ef_str_t){NULL, cur.pipeline.len};
            }
            if (!sc.ptr && sc.len)
                sc.ptr = keep.data;
            if (!pl.ptr && pl.len)
                pl.ptr = keep.data + at;
            if (sc.ptr && sc.len == 0)
                sc = EF_STR_NULL;
            if (pl.ptr && pl.len == 0)
                pl = EF_STR_NULL;
            rc = keep.oom ? EF_ENOMEM
                          : ef_store_stream_configure (txn, s.num, sc, pl);
            ef_buf_free (&keep);
            ef_engine_forget (
                ef_writer_engine (((ef_streams_t *)ctx)->x.writer), s.num);
        }
    }
    if (rc == EF_EEXISTS) {
        w->status = rc, w->why = "a stream with that name exists";
        return 0;
    }
    if (rc == 0)
        rc = ef_store_stream_get (txn, s.num, &s);
    if (rc)
        return rc;
    ef_stream_info_t info;
    ef_query_stream_info (txn, &s, &info);
    ef_proto_reply_ok (&w->reply, w->req.id, 1);
    ef_mp_key (&w->reply, "stream");
    ef_proto_write_stream (&w->reply, &info);
    return 0;
}

int
ef_streams_update (ef_streams_t *self, ef_wreq_t *w, const char **why)
{
    if (ef_str_set (w->req.name) && !ef_proto_name_valid (w->req.name)) {
        *why = "stream names are 1 to 128 of [A-Za-z0-9._-], not . or ..";
        return EF_EINVAL;
    }
    int rc = s_check_config (self, w, why);
    if (rc)
        return rc;
    w->apply = s_apply_update_stream;
    w->apply_ctx = self;
    return 0;
}

static int
s_apply_delete_stream (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w,
                       uint64_t now)
{
    ef_streams_t *self = ctx;
    (void)now;
    ef_stream_rec_t s;
    int rc = ef_store_stream_find (txn, w->org, w->req.stream, &s);
    if (rc == EF_ENOTFOUND) {
        w->status = rc, w->why = "no such stream";
        return 0;
    }
    if (rc == 0)
        rc = ef_store_stream_delete (txn, s.num, s_record_id);
    if (rc)
        return rc;
    ef_writer_forget_stream (self->x.writer, s.num);
    ef_engine_forget (ef_writer_engine (self->x.writer), s.num);
    w->stream = s; /* its subscriptions end when this is answered */
    ef_proto_reply_ok (&w->reply, w->req.id, 0);
    return 0;
}

int
ef_streams_delete (ef_streams_t *self, ef_wreq_t *w, const char **why)
{
    (void)why;
    w->apply = s_apply_delete_stream;
    w->apply_ctx = self;
    return 0;
}

void
ef_streams_write_created (ef_streams_t *self, ef_wreq_t *w)
{
    ef_buf_t *out = self->x.out;
    ef_stream_info_t s = {ef_str (w->stream.id),
                          ef_str (w->stream.name),
                          w->stream.created_at,
                          0,
                          0,
                          0,
                          w->req.schema,
                          w->req.pipeline};
    ef_proto_reply_ok (out, w->req.id, 1);
    ef_mp_key (out, "stream");
    ef_proto_write_stream (out, &s);
}
