/*  ef_schema.h: EventFlow's JSON Schema validator (draft-07), used by the
    filter step of a stream's pipeline and wherever a payload is checked
    against a schema. A schema is compiled once from its JSON text into an
    immutable tree (keywords checked, regular expressions compiled with
    PCRE2, local $ref resolved to direct links), then any number of values
    are validated against it, from any number of threads at once.

    Supported: every draft-07 validation keyword (type, enum, const, the
    numeric, string, array and object keywords, allOf/anyOf/oneOf/not,
    if/then/else, dependencies), boolean schemas, definitions, $id (to name
    parts of the document) and $ref to any place in the same document
    (JSON Pointer fragments with ~0, ~1 and %-escapes, "#", plain-name
    fragments defined by $id). As draft-07 says, the siblings of $ref are
    ignored. "format", "title", "default" and other annotations are
    ignored. The draft-07 meta-schema (http://json-schema.org/draft-07/
    schema) is built in, so a schema may $ref it; any other reference to
    another document is refused: nothing is ever fetched.
    Regular expressions are PCRE2 in UTF mode, close to but not exactly
    ECMA-262 ($ matches only at the very end, \u is the JS escape, \d and
    \w are ASCII).
    Every validation runs under a work budget (ef_schema_budget_t): PCRE2's
    match, depth and heap limits on each match, a count of work units over
    the whole walk (subschemas applied, regex input, enum, required and
    properties scanned) and, when asked, a deadline on the thread's CPU
    clock. A value whose check exceeds any of them is refused with the one
    message EF_SCHEMA_BUDGET_MSG instead of being checked to the end, so a
    hostile schema or value (a backtracking pattern, a deep allOf over a
    big array) costs a bounded amount.
    multipleOf on non-integers uses a relative tolerance of 1e-12 on the
    quotient, so 0.0075 is a multiple of 0.0001 as users expect.

    Thread-safety: a compiled schema is never changed until its last
    reference is dropped; validation keeps its state on the caller's stack, so any
    threads may validate against one schema at once. There is no global
    state. */
#ifndef EF_SCHEMA_H
#define EF_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*  jansson's value type; include <jansson.h> to build one. */
struct json_t;

#define EF_SCHEMA_MAX_DEPTH      64  /* schema nesting refused beyond */
#define EF_SCHEMA_MAX_EVAL_DEPTH 256 /* schema x instance evaluation depth */
#define EF_SCHEMA_TEXT_MAX       256 /* path and message field sizes */

/*  Work units a validation may spend when its budget says 0: about a
    tenth of a second of CPU at worst. */
#define EF_SCHEMA_WORK_MAX 1000000
/*  The message of a value whose check ran out of budget. */
#define EF_SCHEMA_BUDGET_MSG "the schema check exceeded its budget"

typedef struct ef_schema ef_schema_t;

/*  What one validation may spend, and what it spent.
    work:     most work units (one per subschema applied to a value, one
              per enum value, required name or property compared, one per
              64 bytes given to a regular expression); 0 means
              EF_SCHEMA_WORK_MAX.
    cpu_until_ns: a deadline on the calling thread's CPU clock
              (CLOCK_THREAD_CPUTIME_ID, in ns), checked after every
              regular expression and every 1024 units; 0 for none.
    used:     out: the units spent.
    exceeded: out: 1 when the check gave up on the budget (the result is
              then EF_EVALIDATION with one entry, path "", message
              EF_SCHEMA_BUDGET_MSG), else 0. */
typedef struct {
    uint64_t work;
    int64_t cpu_until_ns;
    uint64_t used;
    int exceeded;
} ef_schema_budget_t;

/*  The calling thread's CPU clock in ns (for cpu_until_ns). */
int64_t ef_schema_cpu_now_ns (void);

/*  One reason a value is invalid.
    path:    JSON Pointer (RFC 6901) of the offending place in the value,
             "" for the value itself, e.g. "/items/2/price". For a
             missing required (or dependent) property it is the pointer
             the property would have, for a property refused by
             additionalProperties or propertyNames the property's own.
             Longer pointers are cut and end in "...".
    message: English text for people, e.g. "must be >= 0". Both fields are
             NUL-terminated UTF-8. */
typedef struct {
    char path[EF_SCHEMA_TEXT_MAX];
    char message[EF_SCHEMA_TEXT_MAX];
} ef_schema_error_t;

/*  Compile a schema from its JSON text.
    text:    len bytes of JSON (need not be NUL-terminated): an object or a
             boolean. Its size is the caller's to cap; compile time and
             memory are linear in it.
    err:     if not NULL, receives 0 on success or the error code.
    why:     if not NULL, receives a NUL-terminated English reason on
             failure (cut to why_len bytes), naming the schema location,
             e.g. "/properties/sku/pattern: invalid regular expression at
             offset 3: missing closing parenthesis". "" on success.
    Returns the compiled schema, owned by the caller (ef_schema_destroy),
    or NULL with *err set to:
      EF_EINVAL  the text is not JSON (or has duplicate keys); the schema
                 or a subschema is not an object or a boolean; a keyword
                 has the wrong type or range (e.g. "minLength": -1,
                 "multipleOf": 0, "type": "int"); a pattern is not a valid
                 regular expression; a $ref cannot be resolved in the
                 document ("unresolvable $ref"), points to another
                 document ("remote $ref is not supported"), or only loops
                 through other $refs; nesting is deeper than
                 EF_SCHEMA_MAX_DEPTH.
      EF_ENOMEM  out of memory.
    Thread-safe. */
ef_schema_t *ef_schema_compile (const char *text, size_t len, int *err,
                                char *why, size_t why_len);

/*  Another reference to self (returned), for a thread that validates
    against it while its owner may drop its own. Thread-safe. */
ef_schema_t *ef_schema_ref (ef_schema_t *self);

/*  Drop a reference and set *self_p to NULL; the last one frees the
    schema. Safe on NULL and on a pointer to NULL. No validation may be
    running on the reference dropped. Thread-safe. */
void ef_schema_destroy (ef_schema_t **self_p);

/*  Validate a value, given as JSON text, against a compiled schema.
    self:    the schema.
    json:    len bytes of JSON text, any JSON value. Objects with duplicate
             keys are refused as not JSON (a validator and a consumer must
             not see different values); "\u0000" in strings is accepted.
    errors:  caller-owned room for max entries; may be NULL when max is 0
             (then validation stops at the first failure: the fastest way
             to ask only "valid or not").
    nerrors: if not NULL, receives the number of entries written (<= max).
    Every failing place is listed, not only the first, until max entries
    are written (the rest are not counted). Failures inside anyOf, oneOf,
    not, contains and the condition of if are summed up by one entry for
    the keyword at the value's path; a name refused by propertyNames by
    one entry at the property's path.
    Returns 0 when the value is valid; EF_EVALIDATION when it is not (at
    least one entry when max > 0); EF_EINVAL when the text is not JSON
    (one entry with the parser's message when max > 0) or self is NULL;
    EF_ENOMEM when memory ran out (the value is not known to be valid).
    A value that needs an evaluation deeper than EF_SCHEMA_MAX_EVAL_DEPTH
    (deep nesting against a recursive schema, or a schema that recurses
    without consuming the value) is invalid, with an entry saying so.
    The budget is the default one (EF_SCHEMA_WORK_MAX units, no CPU
    deadline).
    Thread-safe; self is only read. */
int ef_schema_validate (const ef_schema_t *self, const char *json, size_t len,
                        ef_schema_error_t *errors, uint32_t max,
                        uint32_t *nerrors);

/*  ef_schema_validate under budget (see ef_schema_budget_t; NULL: the
    default one), which also receives what was spent. */
int ef_schema_validate_budget (const ef_schema_t *self, const char *json,
                               size_t len, ef_schema_budget_t *budget,
                               ef_schema_error_t *errors, uint32_t max,
                               uint32_t *nerrors);

/*  The same for a value already parsed by jansson (read only, never
    kept). Returns 0, EF_EVALIDATION, EF_ENOMEM, or EF_EINVAL when self
    or value is NULL. Thread-safe as long as no thread changes value. */
int ef_schema_validate_json (const ef_schema_t *self,
                             const struct json_t *value,
                             ef_schema_error_t *errors, uint32_t max,
                             uint32_t *nerrors);
/*  ef_schema_validate_json under budget (NULL: the default one). */
int ef_schema_validate_json_budget (const ef_schema_t *self,
                                    const struct json_t *value,
                                    ef_schema_budget_t *budget,
                                    ef_schema_error_t *errors, uint32_t max,
                                    uint32_t *nerrors);

#ifdef __cplusplus
}
#endif
#endif
