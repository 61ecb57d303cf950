/*  ef_routes.h: the route graph of one org's streams, to refuse a pipeline
    whose route steps form a cycle (a stream routing to itself, A → B → A,
    or longer), which would turn one published event into events without
    end. The caller adds every stream of the org with its compiled
    pipeline, the stream being created or changed first and as it will
    be, then asks whether a cycle passes through that stream: the graph
    had none before, so a new cycle must pass through what changed. A
    route names its stream by name or by id; a route to a stream that
    does not exist is no edge (yet: creating that stream later is checked
    then).
    Thread-safety: one thread at a time per graph. */
#ifndef EF_ROUTES_H
#define EF_ROUTES_H

#include <stddef.h>
#include "eventflow/ef_mp.h"
#include "ef_pipeline.h"

typedef struct ef_routes ef_routes_t;

/*  An empty graph, or NULL (no memory). Owned by the caller. */
ef_routes_t *ef_routes_new (void);
/*  Free the graph; safe on NULL; clears *self_p. */
void ef_routes_destroy (ef_routes_t **self_p);

/*  Add stream name (and id, may be unset) with the route steps of its
    pipeline (NULL: none). A stream whose name is already in the graph
    is ignored, so the first one added stands for its name. The pipeline
    is only read during the call. 0 or EF_ENOMEM. */
int ef_routes_add (ef_routes_t *self, ef_str_t name, ef_str_t id,
                   const ef_pipeline_t *pipeline);

/*  Whether a cycle of routes passes through stream start (a name added
    before). 0 when none; EF_EINVAL with why = "route cycle: a -> b -> a"
    (the streams' names, from start back to it; truncated to why_len) when
    there is one; EF_ENOMEM. */
int ef_routes_check (ef_routes_t *self, ef_str_t start, char *why,
                     size_t why_len);

#endif
