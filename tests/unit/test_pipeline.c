/*  ef_pipeline: pipelines compile from their JSON (defaults, limits,
    clear refusals), and retry delays stay within the policy: exponential
    from base_ms, capped at max_ms, jittered within [delay/2, delay]; a
    transform's patch has few operations. */
#include "ef_pipeline.h"
#include "eventflow/ef_error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static ef_pipeline_t *
s_compile (const char *json, int *err, char *why)
{
    return ef_pipeline_compile (json, strlen (json), err, why, 256);
}

static void
test_compile_steps_and_defaults (void **state)
{
    (void)state;
    int err = 0;
    char why[256] = "";
    ef_pipeline_t *p =
        s_compile ("[{\"type\":\"filter\",\"schema\":{\"type\":\"object\"}},"
                   "{\"type\":\"transform\",\"patch\":[{\"op\":\"remove\","
                   "\"path\":\"/a\"}]},"
                   "{\"type\":\"route\",\"stream\":\"other\"},"
                   "{\"type\":\"worker\",\"service\":\"enrich\"}]",
                   &err, why);
    assert_non_null (p);
    assert_int_equal (p->n, 4);
    assert_int_equal (p->steps[0].kind, EF_STEP_FILTER);
    assert_int_equal (p->steps[1].kind, EF_STEP_TRANSFORM);
    assert_int_equal (p->steps[2].kind, EF_STEP_ROUTE);
    assert_string_equal (p->steps[2].target, "other");
    assert_int_equal (p->steps[3].kind, EF_STEP_WORKER);
    assert_string_equal (p->steps[3].target, "enrich");
    assert_int_equal (p->steps[3].max_attempts, 5);
    assert_int_equal (p->steps[3].timeout_ms, 30000);
    assert_int_equal (p->steps[3].base_ms, 100);
    assert_int_equal (p->steps[3].max_ms, 30000);
    ef_pipeline_destroy (&p);
    assert_null (p);
}

static void
test_compile_refusals (void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{}",
        "[]",
        "not json",
        "[{\"type\":\"sort\"}]",
        "[{}]",
        "[{\"type\":\"filter\"}]",
        "[{\"type\":\"filter\",\"schema\":{\"type\":7}}]",
        "[{\"type\":\"transform\",\"patch\":[{\"op\":\"jump\"}]}]",
        "[{\"type\":\"route\"}]",
        "[{\"type\":\"route\",\"stream\":\"\"}]",
        "[{\"type\":\"worker\"}]",
        "[{\"type\":\"worker\",\"service\":\"s\",\"max_attempts\":0}]",
        "[{\"type\":\"worker\",\"service\":\"s\",\"max_attempts\":101}]",
        "[{\"type\":\"worker\",\"service\":\"s\",\"timeout_ms\":5}]",
        "[{\"type\":\"worker\",\"service\":\"s\",\"backoff\":7}]",
        "[{\"type\":\"worker\",\"service\":\"s\",\"backoff\":{\"base_ms\":500,"
        "\"max_ms\":100}}]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int err = 0;
        char why[256] = "";
        ef_pipeline_t *p = s_compile (bad[i], &err, why);
        if (p)
            fail_msg ("compiled: %s", bad[i]);
        assert_int_equal (err, EF_EINVAL);
        assert_true (strlen (why) > 0);
    }
    /* more steps than the limit */
    char many[4096] = "[";
    for (int i = 0; i <= EF_PIPELINE_MAX_STEPS; i++)
        strcat (many, i ? ",{\"type\":\"route\",\"stream\":\"x\"}"
                        : "{\"type\":\"route\",\"stream\":\"x\"}");
    strcat (many, "]");
    int err = 0;
    char why[256];
    assert_null (s_compile (many, &err, why));
    assert_int_equal (err, EF_EINVAL);
}

/*  A transform's patch may have EF_PIPELINE_MAX_PATCH_OPS operations,
    not one more: the refusal names the step and the limit. */
static void
test_transform_patch_operations_are_capped (void **state)
{
    (void)state;
    for (int n = EF_PIPELINE_MAX_PATCH_OPS; n <= EF_PIPELINE_MAX_PATCH_OPS + 1;
         n++) {
        char text[8192] = "[{\"type\":\"route\",\"stream\":\"x\"},"
                          "{\"type\":\"transform\",\"patch\":[";
        for (int i = 0; i < n; i++)
            strcat (text,
                    i ? ",{\"op\":\"copy\",\"from\":\"\",\"path\":\"/a\"}"
                      : "{\"op\":\"copy\",\"from\":\"\",\"path\":\"/a\"}");
        strcat (text, "]}]");
        int err = 0;
        char why[256] = "";
        ef_pipeline_t *p = s_compile (text, &err, why);
        if (n == EF_PIPELINE_MAX_PATCH_OPS) {
            assert_non_null (p);
            ef_pipeline_destroy (&p);
            continue;
        }
        assert_null (p);
        assert_int_equal (err, EF_EINVAL);
        assert_string_equal (why, "step 1: transform: a patch has at most 64 "
                                  "operations");
    }
}

static void
test_backoff_within_bounds (void **state)
{
    (void)state;
    ef_step_t step = {.kind = EF_STEP_WORKER, .base_ms = 100, .max_ms = 5000};
    srand (7);
    for (uint32_t attempt = 2; attempt <= 20; attempt++) {
        /* the policy's delay: base · 2^(attempt-2), capped */
        uint64_t delay = 100;
        for (uint32_t a = 2; a < attempt && delay < 5000; a++)
            delay *= 2;
        if (delay > 5000)
            delay = 5000;
        uint64_t lo = UINT64_MAX, hi = 0;
        for (int i = 0; i < 20000; i++) {
            uint32_t rnd = (uint32_t)rand () ^ ((uint32_t)rand () << 16);
            uint64_t d = ef_pipeline_backoff (&step, attempt, rnd);
            assert_true (d >= delay / 2);
            assert_true (d <= delay);
            assert_true (d >= step.base_ms / 2 && d <= step.max_ms);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        /* jitter: the draws spread over the range, not one value */
        assert_true (hi - lo >= (delay - delay / 2) / 2);
    }
    /* the extremes of the random value reach the ends of the range */
    assert_int_equal (ef_pipeline_backoff (&step, 2, 0), 50);
    assert_int_equal (ef_pipeline_backoff (&step, 30, 2500), 5000);
    /* base == max: a constant delay, jittered */
    ef_step_t flat = {.kind = EF_STEP_WORKER, .base_ms = 1, .max_ms = 1};
    for (uint32_t r = 0; r < 100; r++) {
        uint64_t d = ef_pipeline_backoff (&flat, 5, r);
        assert_true (d <= 1);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_compile_steps_and_defaults),
        cmocka_unit_test (test_compile_refusals),
        cmocka_unit_test (test_transform_patch_operations_are_capped),
        cmocka_unit_test (test_backoff_within_bounds),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
