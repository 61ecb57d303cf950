/*  ef_json.h: the small amount of JSON that the hot paths need without a
    DOM: a strict RFC 8259 validator (one value, valid UTF-8, bounded
    nesting) that allocates nothing, and string quoting for writers.
    Thread-safety: pure functions. */
#ifndef EF_JSON_H
#define EF_JSON_H

#include <stddef.h>
#include "eventflow/ef_mp.h"

#ifdef __cplusplus
extern "C" {
#endif

/*  Check that [p, p+n) is exactly one JSON value (surrounding white space
    allowed) nested at most max_depth deep. Returns 0, or EF_EINVAL with
    *err_at (if not NULL) set to the byte offset of the fault and *why to a
    static description. */
int ef_json_validate (const char *p, size_t n, int max_depth, size_t *err_at,
                      const char **why);

/*  Append s as a quoted, escaped JSON string to b. */
void ef_json_quote (ef_buf_t *b, const char *s, size_t n);

#ifdef __cplusplus
}
#endif
#endif
