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
#include "ef_record.h"
#include "ef_retention.h"
#include "ef_schema.h"
#include "eventflow/ef_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static const char s_name_rule[] =
    "stream names are 1 to 128 of [A-Za-z0-9._-], not . or ..";

/*  A stream's schema (text, not empty) must compile before it is kept:
    0 with the compiled schema in *out when out is not NULL (the
    caller's), or the refusal with *why and w->why_at. */
static int
s_check_schema (ef_streams_t *self, ef_wreq_t *w, ef_str_t text,
                ef_schema_t **out, const char **why)
{
    int err = 0;
    char msg[256] = "";
    if (text.len > 262144) {
        *why = "a schema is at most 256 KiB";
        return EF_ETOOBIG;
    }
    ef_schema_t *sc =
        ef_schema_compile (text.ptr, text.len, &err, msg, sizeof msg);
    if (!sc) {
        snprintf (self->why, sizeof self->why, "invalid schema: %s", msg);
        *why = self->why;
        w->why_at = "/schema";
        return EF_EINVAL;
    }
    if (out)
        *out = sc;
    else
        ef_schema_destroy (&sc);
    return 0;
}

/*  The same for its pipeline (w->req.pipeline, set and not empty), within
    the org's pipeline steps quota. */
static int
s_check_pipeline (ef_streams_t *self, ef_wreq_t *w, const char **why)
{
    int err = 0;
    char msg[256] = "", at[32];
    if (w->req.pipeline.len > 262144) {
        *why = "a pipeline is at most 256 KiB";
        return EF_ETOOBIG;
    }
    ef_pipeline_t *p =
        ef_pipeline_compile_at (w->req.pipeline.ptr, w->req.pipeline.len, &err,
                                msg, sizeof msg, at, sizeof at);
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
    return 0;
}

/*  A stream's schema and pipeline must compile before they are kept. */
static int
s_check_config (ef_streams_t *self, ef_wreq_t *w, const char **why)
{
    int rc = ef_retention_check (&w->req, why, &w->why_at);
    if (rc == 0 && ef_str_set (w->req.schema) && w->req.schema.len)
        rc = s_check_schema (self, w, w->req.schema, NULL, why);
    if (rc == 0 && ef_str_set (w->req.pipeline) && w->req.pipeline.len)
        rc = s_check_pipeline (self, w, why);
    return rc;
}

int
ef_streams_create (ef_streams_t *self, ef_wreq_t *w, const char **why)
{
    if (!ef_proto_name_valid (w->req.name)) {
        *why = s_name_rule;
        return EF_EINVAL;
    }
    w->quota = ef_auth_quota (self->x.auth, EF_QUOTA_STREAMS);
    return s_check_config (self, w, why);
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
    if (rc == 0 && w->req.has_retention) {
        ef_retention_t r;
        ef_retention_from_request (&w->req, &r);
        rc = ef_store_retention_put (txn, s.num, &r);
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
        *why = s_name_rule;
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
        rc = ef_store_stream_delete (txn, s.num, ef_record_id);
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
    ef_retention_t r;
    ef_retention_from_request (&w->req, &r);
    if (r.max_age_ms || r.max_bytes || r.max_events || r.after_groups) {
        s.has_retention = 1;
        s.ret_max_age_ms = r.max_age_ms;
        s.ret_max_bytes = r.max_bytes;
        s.ret_max_events = r.max_events;
        s.ret_after_groups = r.after_groups;
    }
    ef_proto_reply_ok (out, w->req.id, 1);
    ef_mp_key (out, "stream");
    ef_proto_write_stream (out, &s);
}

/* ---------------------------------------------------------------- check */

/*  One of CHECK_STREAM's errors, kept in w->reply until all are known. */
static void
s_check_error (ef_wreq_t *w, const char *path, const char *message)
{
    ef_proto_write_field_error (&w->reply, path, message);
    w->check_errors++;
}

/*  CHECK_STREAM's reply, into ctx->out. */
static void
s_check_reply (ef_streams_t *self, ef_wreq_t *w)
{
    ef_buf_t *out = self->x.out;
    ef_buf_reset (out);
    ef_proto_reply_ok (out, w->req.id, 2);
    ef_mp_key (out, "valid");
    ef_mp_bool (out, w->check_errors == 0);
    ef_mp_key (out, "errors");
    ef_mp_array (out, w->check_errors);
    ef_buf_append (out, w->reply.data, w->reply.len);
}

/*  The route check of CREATE_STREAM / UPDATE_STREAM on the reactor's
    snapshot (no engine: the pipelines are compiled anew), for stream s
    (num 0: a new one named name) with the request's pipeline. */
static int
s_check_routes (ef_streams_t *self, ef_wreq_t *w, const ef_stream_rec_t *s,
                ef_str_t name)
{
    char why[480]; /* with "invalid pipeline: ", in self->why */
    int rc = ef_engine_check_routes (NULL, self->x.reader, w->org, s->num,
                                     s->num ? ef_str (s->name) : name,
                                     w->req.pipeline, why, sizeof why);
    if (rc == EF_EINVAL) {
        snprintf (self->why, sizeof self->why, "invalid pipeline: %s", why);
        s_check_error (w, "/pipeline", self->why);
        rc = 0;
    }
    return rc;
}

int
ef_streams_check (ef_streams_t *self, ef_wreq_t *w, const char **why)
{
    ef_stream_rec_t s;
    ef_schema_t *schema = NULL;
    const char *msg = NULL;
    int rc = 0;
    memset (&s, 0, sizeof s); /* num 0: a stream to be created */
    ef_buf_reset (&w->reply);
    w->check_errors = 0;
    /* a name says which stream is being edited (or the new one's name) */
    ef_str_t name = w->req.name;
    if (ef_str_set (name) && !ef_proto_name_valid (name)) {
        s_check_error (w, "/name", s_name_rule);
        name = EF_STR_NULL;
    } else if (ef_str_set (name)) {
        rc = ef_store_stream_find (self->x.reader, w->org, name, &s);
        if (rc == EF_ENOTFOUND)
            memset (&s, 0, sizeof s), rc = 0;
        if (rc)
            return rc;
        /* a key limited to streams edits only those (its schema is read) */
        if (s.num && w->who.kind == EF_WHO_API_KEY && w->who.key.nstreams &&
            !ef_principals_apikey_allows (&w->who.key, s.name, s.id)) {
            *why = "this key may not use that stream";
            return EF_EFORBIDDEN;
        }
    }
    /* the schema: the request's, else the named stream's, which a
       payload is then checked against */
    ef_str_t text = ef_str_set (w->req.schema) ? w->req.schema : s.schema;
    if (ef_str_set (text) && text.len &&
        s_check_schema (self, w, text,
                        ef_str_set (w->req.payload) ? &schema : NULL, &msg))
        s_check_error (w, "/schema", msg);
    if (ef_str_set (w->req.pipeline) && w->req.pipeline.len) {
        if (s_check_pipeline (self, w, &msg))
            s_check_error (w, w->why_at ? w->why_at : "/pipeline", msg);
        /* without a name, a new stream that nothing routes to yet: only
           its fan-out can be too much */
        else
            rc = s_check_routes (self, w, &s,
                                 ef_str_set (name) ? name : ef_str ("(new)"));
    }
    w->why_at = NULL;
    if (rc) {
        ef_schema_destroy (&schema);
        return rc; /* the store's or memory's failure, not the request's */
    }
    if (ef_str_set (w->req.payload)) {
        /* PUBLISH's rules for a payload (size, one JSON value, depth) */
        ef_event_in_t ev;
        memset (&ev, 0, sizeof ev);
        ev.type = ef_str ("check");
        ev.payload = w->req.payload;
        if (ef_proto_check_event (&ev, self->x.max_payload))
            s_check_error (w, "/payload", ev.err_msg);
        else if (schema) {
            /* then the schema checks, off the reactor and under PUBLISH's
               budget, as the request's one item (ef_streams_checked) */
            if (w->results_cap < 1) {
                ef_wresult_t *res = realloc (w->results, sizeof *res);
                if (!res) {
                    ef_schema_destroy (&schema);
                    return EF_ENOMEM;
                }
                w->results = res;
                w->results_cap = 1;
            }
            memset (w->results, 0, sizeof *w->results);
            w->results[0].payload = w->req.payload;
            w->req.n_events = 1;
            w->schema = schema;
            schema = NULL;
        }
    }
    ef_schema_destroy (&schema);
    if (!w->schema)
        s_check_reply (self, w);
    return 0;
}

void
ef_streams_checked (ef_streams_t *self, ef_wreq_t *w)
{
    const ef_wresult_t *res = &w->results[0];
    ef_mpr_t r;
    uint32_t n = 0;
    ef_mpr_init (&r, w->records.data + res->errs_off, res->errs_len);
    if (res->code && res->errs_len && ef_mpr_array (&r, &n) == 0) {
        /* the schema's paths into the payload, under /payload */
        for (uint32_t i = 0; i < n; i++) {
            ef_field_error_t e;
            char path[EF_SCHEMA_TEXT_MAX + 16];
            if (ef_proto_read_field_error (&r, &e))
                break;
            int k = snprintf (path, sizeof path, "/payload%.*s",
                              (int)e.path.len, e.path.ptr);
            ef_mp_map (&w->reply, 2);
            ef_mp_key (&w->reply, "path");
            ef_mp_str (&w->reply, path,
                       k < (int)sizeof path ? (size_t)k : sizeof path - 1);
            ef_mp_key (&w->reply, "message");
            ef_mp_str (&w->reply, e.message.ptr, e.message.len);
            w->check_errors++;
        }
    } else if (res->code)
        s_check_error (w, "/payload", res->err_msg);
    w->req.n_events = 0;
    s_check_reply (self, w);
}
