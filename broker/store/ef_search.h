/*  ef_search.h: payload predicates of LIST_EVENTS (protocol.md). A
    predicate is the text `pointer:op[:value]`: an RFC 6901 JSON Pointer
    into the payload, an op (eq, contains, exists, lt, le, gt, ge) and,
    except for exists, a JSON value. All predicates of a search must hold
    (AND). eq compares JSON values; contains is a substring of a string
    value; lt/le/gt/ge compare numbers; exists holds when the pointer
    names a value (null included). */
#ifndef EF_SEARCH_H
#define EF_SEARCH_H

#include "eventflow/ef_proto.h"

#define EF_SEARCH_MAX 8 /* predicates in one search */

typedef struct ef_search ef_search_t;

/*  Parse n predicate texts. 0, or EF_EINVAL with *why naming the fault
    (a static string). *self_p is NULL when n is 0. */
int ef_search_new (ef_search_t **self_p, const ef_str_t *where, uint32_t n,
                   const char **why);
void ef_search_destroy (ef_search_t **self_p);

/*  1 when payload (JSON text) satisfies every predicate, else 0 (also
    when it is not JSON). */
int ef_search_match (const ef_search_t *self, ef_str_t payload);

#endif
