/*  ef_schema_cache.h: the streams' compiled schemas, kept while a stream's
    schema text stays the same, so that a PUBLISH compiles its stream's
    schema once and not per request. A fixed number of slots, one per
    stream num modulo their count; a stream whose text changed (or that
    shares the slot) is compiled again.
    Thread-safety: one thread (the reactor). */
#ifndef EF_SCHEMA_CACHE_H
#define EF_SCHEMA_CACHE_H

#include "ef_schema.h"
#include "eventflow/ef_mp.h"

#include <stdint.h>

typedef struct ef_schema_cache ef_schema_cache_t;

ef_schema_cache_t *ef_schema_cache_new (void);
void ef_schema_cache_destroy (ef_schema_cache_t **self_p);

/*  The compiled schema of stream num whose schema text is text; NULL when
    the text is empty or unset, or does not compile (the stream's
    configuration was checked when it was set). The cache owns it: valid
    until the next call. */
ef_schema_t *ef_schema_cache_get (ef_schema_cache_t *self, uint32_t num,
                                  ef_str_t text);

/*  How many times a schema was compiled (a hit compiles nothing). */
uint64_t ef_schema_cache_compiles (const ef_schema_cache_t *self);

#endif
