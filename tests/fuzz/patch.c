/*  patch.c: fuzz target for JSON Patch (broker/json/ef_patch.c): the
    input is a patch's text, a NUL byte and a document's text (no NUL: the
    document is {}). The patch is compiled and applied, under one size
    bound (and so one work budget), to the text and, when jansson reads
    the document, to the parsed value. Properties: the value given to
    ef_patch_apply_json is left as it was; its result is within the bound;
    when both ways succeed they give equal values. */
#include <string.h>

#include <jansson.h>

#include "ef_patch.h"
#include "eventflow/ef_error.h"
#include "fuzz.h"

#define S_MAX (64 * 1024)

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr (text, 0, size);
    size_t plen = nul ? (size_t)(nul - text) : size;
    const char *doc = nul ? nul + 1 : "{}";
    size_t dlen = nul ? size - plen - 1 : 2;
    int err = -1;
    char why[256];
    ef_patch_t *p = ef_patch_compile (text, plen, &err, why, sizeof why);
    FZ_CHECK ((p != NULL) == (err == 0));
    if (!p)
        return 0;
    json_error_t je;
    json_t *in = json_loadb (doc, dlen, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!in) {
        ef_patch_destroy (&p);
        return 0;
    }
    json_t *before = json_deep_copy (in);
    int jerr = -1;
    json_t *res = ef_patch_apply_json (p, in, S_MAX, &jerr, why, sizeof why);
    FZ_CHECK ((res != NULL) == (jerr == 0));
    FZ_CHECK (json_equal (in, before));
    if (res) {
        char *dumped = json_dumps (res, JSON_COMPACT | JSON_ENCODE_ANY |
                                            JSON_REAL_PRECISION (17));
        FZ_CHECK (dumped != NULL);
        FZ_CHECK (strlen (dumped) <= S_MAX);
        free (dumped);
    }
    char *out = NULL;
    size_t out_len = 0;
    int rc =
        ef_patch_apply (p, doc, dlen, S_MAX, &out, &out_len, why, sizeof why);
    FZ_CHECK ((rc == 0) == (out != NULL));
    if (rc == 0) {
        json_t *got =
            json_loadb (out, out_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        FZ_CHECK (got != NULL);
        if (res)
            FZ_CHECK (json_equal (got, res));
        json_decref (got);
    }
    free (out);
    json_decref (res);
    json_decref (before);
    json_decref (in);
    FZ_CHECK (ef_patch_ops (p) >= 1 || plen > 0);
    ef_patch_destroy (&p);
    return 0;
}
