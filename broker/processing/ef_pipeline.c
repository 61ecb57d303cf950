/*  ef_pipeline.c: compiling pipelines (see ef_pipeline.h). */
#include "ef_pipeline.h"
#include "eventflow/ef_error.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
s_fail (int *err, char *why, size_t why_len, const char *fmt, unsigned i,
        const char *detail)
{
    if (err)
        *err = EF_EINVAL;
    if (why)
        snprintf (why, why_len, fmt, i, detail ? detail : "");
    return -1;
}

static int
s_uint (json_t *o, const char *key, uint32_t def, uint32_t min, uint32_t max,
        uint32_t *out)
{
    json_t *v = json_object_get (o, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (!json_is_integer (v) || json_integer_value (v) < min ||
        json_integer_value (v) > max)
        return -1;
    *out = (uint32_t)json_integer_value (v);
    return 0;
}

static int
s_name_ok (const char *s)
{
    size_t n = strlen (s);
    if (n == 0 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' ||
              s[i] == '-'))
            return 0;
    return 1;
}

/*  One step; -1 with why set on a fault, and at when it is in the
    step's patch. */
static int
s_step (json_t *o, unsigned i, ef_step_t *step, int *err, char *why,
        size_t why_len, char *at, size_t at_len)
{
    const char *type = json_string_value (json_object_get (o, "type"));
    char sub[256];
    int e = 0;
    if (!json_is_object (o) || !type)
        return s_fail (err, why, why_len, "step %u: needs a \"type\"%s", i,
                       NULL);
    if (!strcmp (type, "filter")) {
        json_t *schema = json_object_get (o, "schema");
        char *text =
            schema ? json_dumps (schema, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        step->kind = EF_STEP_FILTER;
        step->schema =
            text ? ef_schema_compile (text, strlen (text), &e, sub, sizeof sub)
                 : NULL;
        free (text);
        if (!step->schema)
            return s_fail (err, why, why_len, "step %u: filter: %s", i,
                           schema ? sub : "needs a \"schema\"");
    } else if (!strcmp (type, "transform")) {
        json_t *patch = json_object_get (o, "patch");
        char *text =
            patch ? json_dumps (patch, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        step->kind = EF_STEP_TRANSFORM;
        step->patch =
            text ? ef_patch_compile (text, strlen (text), &e, sub, sizeof sub)
                 : NULL;
        free (text);
        if (at && (!step->patch ||
                   ef_patch_ops (step->patch) > EF_PIPELINE_MAX_PATCH_OPS))
            snprintf (at, at_len, "/%u/patch", i);
        if (!step->patch)
            return s_fail (err, why, why_len, "step %u: transform: %s", i,
                           patch ? sub : "needs a \"patch\"");
        if (ef_patch_ops (step->patch) > EF_PIPELINE_MAX_PATCH_OPS) {
            /* each operation may copy a whole document: few of them */
            snprintf (sub, sizeof sub, "a patch has at most %d operations",
                      EF_PIPELINE_MAX_PATCH_OPS);
            return s_fail (err, why, why_len, "step %u: transform: %s", i, sub);
        }
    } else if (!strcmp (type, "route")) {
        const char *stream = json_string_value (json_object_get (o, "stream"));
        step->kind = EF_STEP_ROUTE;
        if (!stream || !s_name_ok (stream))
            return s_fail (err, why, why_len,
                           "step %u: route: needs a \"stream\" name%s", i,
                           NULL);
        snprintf (step->target, sizeof step->target, "%s", stream);
    } else if (!strcmp (type, "worker")) {
        const char *service =
            json_string_value (json_object_get (o, "service"));
        json_t *backoff = json_object_get (o, "backoff");
        step->kind = EF_STEP_WORKER;
        if (!service || !s_name_ok (service))
            return s_fail (err, why, why_len,
                           "step %u: worker: needs a \"service\" name%s", i,
                           NULL);
        snprintf (step->target, sizeof step->target, "%s", service);
        if (s_uint (o, "max_attempts", 5, 1, 100, &step->max_attempts) ||
            s_uint (o, "timeout_ms", 30000, 100, 3600000, &step->timeout_ms) ||
            (backoff && !json_is_object (backoff)))
            return s_fail (err, why, why_len,
                           "step %u: worker: max_attempts 1–100, timeout_ms "
                           "100–3600000%s",
                           i, NULL);
        json_t *b = backoff ? backoff : json_object ();
        int bad = s_uint (b, "base_ms", 100, 1, 3600000, &step->base_ms) ||
                  s_uint (b, "max_ms", 30000, 1, 86400000, &step->max_ms);
        if (!backoff)
            json_decref (b);
        if (bad || step->max_ms < step->base_ms)
            return s_fail (err, why, why_len,
                           "step %u: backoff needs 1 ≤ base_ms ≤ max_ms%s", i,
                           NULL);
    } else
        return s_fail (err, why, why_len,
                       "step %u: type is filter, transform, route or "
                       "worker%s",
                       i, NULL);
    return 0;
}

ef_pipeline_t *
ef_pipeline_compile (const char *json, size_t len, int *err, char *why,
                     size_t why_len)
{
    return ef_pipeline_compile_at (json, len, err, why, why_len, NULL, 0);
}

ef_pipeline_t *
ef_pipeline_compile_at (const char *json, size_t len, int *err, char *why,
                        size_t why_len, char *at, size_t at_len)
{
    if (at && at_len)
        *at = 0;
    json_error_t jerr;
    json_t *root = json_loadb (json, len, 0, &jerr);
    ef_pipeline_t *self = calloc (1, sizeof *self);
    if (!self) {
        json_decref (root);
        if (err)
            *err = EF_ENOMEM;
        return NULL;
    }
    if (!json_is_array (root) || json_array_size (root) == 0 ||
        json_array_size (root) > EF_PIPELINE_MAX_STEPS) {
        s_fail (err, why, why_len, "a pipeline is an array of 1 to %u steps%s",
                EF_PIPELINE_MAX_STEPS, NULL);
        json_decref (root);
        ef_pipeline_destroy (&self);
        return NULL;
    }
    size_t i;
    json_t *o;
    json_array_foreach (root, i, o)
    {
        if (s_step (o, (unsigned)i, &self->steps[i], err, why, why_len, at,
                    at_len)) {
            self->n = (uint32_t)i + 1; /* so that destroy frees the step */
            json_decref (root);
            ef_pipeline_destroy (&self);
            return NULL;
        }
    }
    self->n = (uint32_t)json_array_size (root);
    json_decref (root);
    return self;
}

const char *
ef_step_kind_name (int kind)
{
    static const char *names[] = {"filter", "transform", "route", "worker"};
    return kind >= 0 && kind <= EF_STEP_WORKER ? names[kind] : "?";
}

void
ef_pipeline_destroy (ef_pipeline_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_pipeline_t *self = *self_p;
    for (uint32_t i = 0; i < self->n; i++) {
        ef_schema_destroy (&self->steps[i].schema);
        ef_patch_destroy (&self->steps[i].patch);
    }
    free (self);
    *self_p = NULL;
}

uint64_t
ef_pipeline_backoff (const ef_step_t *step, uint32_t attempt, uint32_t rnd)
{
    uint64_t delay = step->base_ms;
    for (uint32_t a = 2; a < attempt && delay < step->max_ms; a++)
        delay *= 2;
    if (delay > step->max_ms)
        delay = step->max_ms;
    uint64_t half = delay / 2;
    return half + (delay - half ? rnd % (delay - half + 1) : 0);
}
