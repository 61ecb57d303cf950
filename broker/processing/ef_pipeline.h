/*  ef_pipeline.h: a stream's processing pipeline (DESIGN.md §6), compiled
    from its JSON description:
        [{"type":"filter","schema":{…}},
         {"type":"transform","patch":[…RFC 6902…]},
         {"type":"route","stream":"other"},
         {"type":"worker","service":"enrich","max_attempts":5,
          "backoff":{"base_ms":100,"max_ms":10000},"timeout_ms":30000}]
    Steps run in order on the event's payload after it is durable: a filter
    that does not match ends it FILTERED; a transform changes the payload
    the next steps see (the stored event stays as it was; the outcome is
    the event's result); a route appends the payload to another stream of
    the org; a worker step hands it to a worker attached under a service
    name, with retries and a dead-letter queue.
    A transform's patch has at most EF_PIPELINE_MAX_PATCH_OPS operations,
    and the documents it makes are bounded by the broker's max_payload
    (ef_patch_apply_json). Compile errors name the step: "step N: …".
    Thread-safety: immutable once compiled. */
#ifndef EF_PIPELINE_H
#define EF_PIPELINE_H

#include <stdint.h>
#include <stddef.h>
#include "ef_patch.h"
#include "ef_schema.h"

#define EF_PIPELINE_MAX_STEPS     16
#define EF_PIPELINE_MAX_PATCH_OPS 64 /* operations of a transform's patch */

typedef enum {
    EF_STEP_FILTER,
    EF_STEP_TRANSFORM,
    EF_STEP_ROUTE,
    EF_STEP_WORKER
} ef_step_kind_t;

/*  "filter", "transform", "route", "worker": a step's type as pipelines
    name it. */
const char *ef_step_kind_name (int kind);

typedef struct {
    ef_step_kind_t kind;
    ef_schema_t *schema; /* filter */
    ef_patch_t *patch;   /* transform */
    char target[129];    /* route: stream name; worker: service name */
    uint32_t max_attempts;
    uint32_t base_ms, max_ms;
    uint32_t timeout_ms;
} ef_step_t;

typedef struct {
    ef_step_t steps[EF_PIPELINE_MAX_STEPS];
    uint32_t n;
} ef_pipeline_t;

/*  Compile a pipeline. NULL with a message in why when it is not a valid
    one (EF_EINVAL through *err; EF_ENOMEM). */
ef_pipeline_t *ef_pipeline_compile (const char *json, size_t len, int *err,
                                    char *why, size_t why_len);
/*  The same, and at gets where in the pipeline the fault is, as a JSON
    Pointer: "/N/patch" for step N's patch, "" for the pipeline as a
    whole or another fault of a step. */
ef_pipeline_t *ef_pipeline_compile_at (const char *json, size_t len, int *err,
                                       char *why, size_t why_len, char *at,
                                       size_t at_len);
void ef_pipeline_destroy (ef_pipeline_t **self_p);

/*  The delay before attempt number `attempt` (2, 3, …) of a worker step:
    exponential from base_ms, capped at max_ms, with full jitter in
    [delay/2, delay]. rnd is a random 32-bit value. */
uint64_t ef_pipeline_backoff (const ef_step_t *step, uint32_t attempt,
                              uint32_t rnd);

#endif
