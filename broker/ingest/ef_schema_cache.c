/*  ef_schema_cache.c: compiled stream schemas in a fixed table of slots,
    each remembering the stream and a hash of the text it was compiled
    from. A PUBLISH asks for its stream's schema; a slot that holds
    another stream or another text is compiled again. */
#include "ef_schema_cache.h"

#include <stdlib.h>

#define S_SLOTS 64

struct ef_schema_cache {
    struct {
        uint32_t num;
        uint64_t hash;
        ef_schema_t *schema;
    } slot[S_SLOTS];
    uint64_t compiles;
};

ef_schema_cache_t *
ef_schema_cache_new (void)
{
    return calloc (1, sizeof (ef_schema_cache_t));
}

void
ef_schema_cache_destroy (ef_schema_cache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_schema_cache_t *self = *self_p;
    for (int i = 0; i < S_SLOTS; i++)
        ef_schema_destroy (&self->slot[i].schema);
    free (self);
    *self_p = NULL;
}

static uint64_t
s_hash (ef_str_t s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (uint32_t i = 0; i < s.len; i++)
        h = (h ^ (uint8_t)s.ptr[i]) * 1099511628211ull;
    return h ^ s.len;
}

ef_schema_t *
ef_schema_cache_get (ef_schema_cache_t *self, uint32_t num, ef_str_t text)
{
    if (!ef_str_set (text) || text.len == 0)
        return NULL;
    uint64_t h = s_hash (text);
    int i = (int)(num % S_SLOTS);
    if (self->slot[i].num == num && self->slot[i].hash == h)
        return self->slot[i].schema;
    int err;
    char msg[64];
    ef_schema_destroy (&self->slot[i].schema);
    self->slot[i].num = num;
    self->slot[i].hash = h;
    self->slot[i].schema =
        ef_schema_compile (text.ptr, text.len, &err, msg, sizeof msg);
    self->compiles++;
    return self->slot[i].schema;
}

uint64_t
ef_schema_cache_compiles (const ef_schema_cache_t *self)
{
    return self->compiles;
}
