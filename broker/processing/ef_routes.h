/*  ef_routes.h: the route graph of one org's streams, to refuse a pipeline
    whose route steps form a cycle (a stream routing to itself, A → B → A,
    or longer), which would turn one published event into events without
    end; and routes that fan out so far that one event would make more
    than EF_ROUTES_MAX_FANOUT routed events. The caller adds every stream
    of the org with its compiled pipeline, the stream being created or
    changed first and as it will be, then checks that stream: the graph
    was fine before, so a new cycle must pass through what changed, and
    only counts of that stream and of those routing to it can have grown.
    A route names its stream by name or by id; a route to a stream that
    does not exist is no edge (yet: creating that stream is checked then).
    Thread-safety: one thread at a time per graph. */
#ifndef EF_ROUTES_H
#define EF_ROUTES_H

#include <stddef.h>
#include "eventflow/ef_mp.h"
#include "ef_pipeline.h"

/*  The most events that routes may append for one event: a stream with
    16 route steps to streams with 16 each would make 272 from one
    published event, one level more 4,368. */
#define EF_ROUTES_MAX_FANOUT 1000

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
    before), or the routes now let one event in start, or in a stream whose
    routes lead to it, lead to more than EF_ROUTES_MAX_FANOUT routed
    events. 0 when neither; EF_EINVAL with why = "route cycle: a -> b ->
    a" (the streams' names, from start back to it) or "route fan-out: one
    event in a would lead to more than 1000 routed events" (truncated to
    why_len); EF_ENOMEM. */
int ef_routes_check (ef_routes_t *self, ef_str_t start, char *why,
                     size_t why_len);

#endif
