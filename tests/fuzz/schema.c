/*  schema.c: fuzz target for the JSON Schema engine (broker/json/
    ef_schema*.c): the input is a schema's text, a NUL byte and a value's
    text (no NUL: the schema is checked against its own text). The schema
    is compiled, and the value validated as text and as a jansson value,
    asking for the errors and for the verdict alone, under a small work
    budget (a hostile schema must stay cheap). Properties: the three ways
    agree on valid or not whenever none ran out of budget, and an invalid
    value comes with at least one error. */
#include <string.h>

#include <jansson.h>

#include "ef_schema.h"
#include "eventflow/ef_error.h"
#include "fuzz.h"

#define S_WORK 20000

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr (text, 0, size);
    size_t slen = nul ? (size_t)(nul - text) : size;
    const char *value = nul ? nul + 1 : text;
    size_t vlen = nul ? size - slen - 1 : size;
    int err = -1;
    char why[256];
    ef_schema_t *s = ef_schema_compile (text, slen, &err, why, sizeof why);
    FZ_CHECK ((s != NULL) == (err == 0));
    if (!s)
        return 0;
    ef_schema_error_t errors[8];
    uint32_t n = 0;
    ef_schema_budget_t b1 = {S_WORK, 0, 0, 0}, b2 = {S_WORK, 0, 0, 0},
                       b3 = {S_WORK, 0, 0, 0};
    int listed = ef_schema_validate_budget (s, value, vlen, &b1, errors, 8, &n);
    FZ_CHECK (listed == 0 || n >= 1);
    int verdict =
        ef_schema_validate_budget (s, value, vlen, &b2, NULL, 0, NULL);
    if (!b1.exceeded && !b2.exceeded && listed != EF_ENOMEM &&
        verdict != EF_ENOMEM)
        FZ_CHECK (listed == verdict);
    json_error_t je;
    json_t *j = json_loadb (
        value, vlen, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
        &je);
    if (j) {
        int parsed = ef_schema_validate_json_budget (s, j, &b3, NULL, 0, NULL);
        if (!b2.exceeded && !b3.exceeded && verdict != EF_EINVAL &&
            parsed != EF_ENOMEM && verdict != EF_ENOMEM)
            FZ_CHECK (parsed == verdict);
        json_decref (j);
    }
    ef_schema_t *again = ef_schema_ref (s);
    ef_schema_destroy (&s);
    ef_schema_destroy (&again);
    FZ_CHECK (again == NULL);
    return 0;
}
