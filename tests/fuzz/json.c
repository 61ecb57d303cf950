/*  json.c: fuzz target for the JSON code without a DOM (ef_json.c): the
    validator, the walker, a value's kind and a string's unescaping, and
    quoting. Properties: the validator and the fault path agree on
    whether a text is JSON, and a refused text's fault lies inside it;
    every member and element the walker hands out of a valid text is
    itself valid JSON with a kind, and its strings unescape; quoting any
    bytes gives valid JSON. */
#include <string.h>

#include "eventflow/ef_error.h"
#include "eventflow/ef_json.h"
#include "fuzz.h"

#define S_DEPTH 64

static void s_value (ef_str_t value, int depth);

static int
s_member (void *arg, ef_str_t key, ef_str_t value)
{
    int depth = *(int *)arg;
    /* the key is the text between its quotes */
    ef_str_t quoted = {key.ptr - 1, key.len + 2};
    char text[256];
    FZ_CHECK (quoted.ptr[0] == '"' && quoted.ptr[quoted.len - 1] == '"');
    ef_json_unescape (quoted, text, sizeof text);
    s_value (value, depth + 1);
    return 0;
}

static int
s_element (void *arg, uint32_t index, ef_str_t value)
{
    (void)index;
    s_value (value, *(int *)arg + 1);
    return 0;
}

static void
s_value (ef_str_t value, int depth)
{
    FZ_CHECK (depth <= S_DEPTH);
    FZ_CHECK (ef_json_validate (value.ptr, value.len, S_DEPTH, NULL, NULL) ==
              0);
    char kind = ef_json_kind (value);
    FZ_CHECK (kind != 0);
    if (kind == 'o')
        FZ_CHECK (
            ef_json_object_each (value.ptr, value.len, s_member, &depth) == 0);
    else if (kind == 'a')
        FZ_CHECK (
            ef_json_array_each (value.ptr, value.len, s_element, &depth) == 0);
    else if (kind == 's') {
        char text[512];
        ef_json_unescape (value, text, sizeof text);
    }
}

static int
s_space (char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    size_t at = 0;
    const char *why = NULL;
    int rc = ef_json_validate (p, size, S_DEPTH, &at, &why);
    char path[128];
    int fault = ef_json_fault_path (p, size, S_DEPTH, path, sizeof path);
    FZ_CHECK ((rc == 0) == (fault == EF_EINVAL));
    if (rc) {
        FZ_CHECK (rc == EF_EINVAL && why != NULL && at <= size);
        FZ_CHECK (strlen (path) < sizeof path);
        int line, column;
        ef_json_position (p, size, at, &line, &column);
        FZ_CHECK (line >= 1 && column >= 1);
    } else {
        /* the walker takes the value without its surrounding space */
        size_t b = 0, e = size;
        while (b < e && s_space (p[b]))
            b++;
        while (e > b && s_space (p[e - 1]))
            e--;
        s_value ((ef_str_t){p + b, e - b}, 0);
    }
    ef_buf_t q;
    ef_buf_init (&q);
    ef_json_quote (&q, p, size);
    FZ_CHECK (ef_json_validate (q.data, q.len, 1, NULL, NULL) == 0);
    ef_buf_free (&q);
    return 0;
}
