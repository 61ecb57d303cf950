/*  ef_routes.c: route cycles (see ef_routes.h). Streams are nodes, route
    steps edges; a depth-first walk from the changed stream, with an
    explicit stack (an org may have many streams), finds a way back to it
    or proves there is none. A node whose walk ended without reaching the
    start cannot reach it later either, so each node is walked once. */
#include "ef_routes.h"
#include "eventflow/ef_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char name[129];
    char id[64];
    char (*targets)[129]; /* route steps' streams, as written */
    uint32_t ntargets;
    uint32_t *edges; /* the targets that are nodes: their indexes */
    uint32_t nedges;
    int seen;
    uint64_t total; /* routed events one event here leads to (capped) */
    int reaches;    /* whether its routes lead to the start */
} s_node_t;

struct ef_routes {
    s_node_t *nodes;
    uint32_t n, cap;
};

ef_routes_t *
ef_routes_new (void)
{
    return calloc (1, sizeof (ef_routes_t));
}

void
ef_routes_destroy (ef_routes_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_routes_t *self = *self_p;
    for (uint32_t i = 0; i < self->n; i++) {
        free (self->nodes[i].targets);
        free (self->nodes[i].edges);
    }
    free (self->nodes);
    free (self);
    *self_p = NULL;
}

static int
s_copy (char *out, size_t size, ef_str_t s)
{
    if (!ef_str_set (s) || s.len >= size)
        return -1;
    memcpy (out, s.ptr, s.len);
    out[s.len] = 0;
    return 0;
}

/*  The node named (or with the id) s; -1 when none. */
static int64_t
s_find (const ef_routes_t *self, const char *s)
{
    for (uint32_t i = 0; i < self->n; i++)
        if (!strcmp (self->nodes[i].name, s) ||
            (self->nodes[i].id[0] && !strcmp (self->nodes[i].id, s)))
            return i;
    return -1;
}

int
ef_routes_add (ef_routes_t *self, ef_str_t name, ef_str_t id,
               const ef_pipeline_t *pipeline)
{
    s_node_t node;
    memset (&node, 0, sizeof node);
    if (s_copy (node.name, sizeof node.name, name))
        return 0; /* no stream has such a name */
    if (ef_str_set (id))
        s_copy (node.id, sizeof node.id, id);
    for (uint32_t i = 0; i < self->n; i++)
        if (!strcmp (self->nodes[i].name, node.name))
            return 0;
    if (self->n == self->cap) {
        uint32_t cap = self->cap ? self->cap * 2 : 16;
        s_node_t *nodes = realloc (self->nodes, cap * sizeof *nodes);
        if (!nodes)
            return EF_ENOMEM;
        self->nodes = nodes;
        self->cap = cap;
    }
    uint32_t routes = 0;
    for (uint32_t i = 0; pipeline && i < pipeline->n; i++)
        routes += pipeline->steps[i].kind == EF_STEP_ROUTE;
    if (routes) {
        node.targets = calloc (routes, sizeof *node.targets);
        node.edges = calloc (routes, sizeof *node.edges);
        if (!node.targets || !node.edges) {
            free (node.targets);
            free (node.edges);
            return EF_ENOMEM;
        }
        for (uint32_t i = 0; i < pipeline->n; i++)
            if (pipeline->steps[i].kind == EF_STEP_ROUTE)
                memcpy (node.targets[node.ntargets++],
                        pipeline->steps[i].target,
                        sizeof pipeline->steps[i].target);
    }
    self->nodes[self->n++] = node;
    return 0;
}

/*  Append the text to why (what fits). */
static void
s_say (char *why, size_t why_len, size_t *at, const char *text)
{
    if (!why || *at + 1 >= why_len)
        return;
    int n = snprintf (why + *at, why_len - *at, "%s", text);
    if (n > 0)
        *at += (size_t)n < why_len - *at ? (size_t)n : why_len - *at - 1;
}

/*  With no cycle through from: how many routed events one event leads
    to, for from and every stream whose routes lead to it (the counts
    that the change may have raised), in one post-order walk of the whole
    graph; a cycle elsewhere (stored before cycles were refused) counts
    its closing edge once. EF_EINVAL with why when a count passes
    EF_ROUTES_MAX_FANOUT. stack and next have room for every node. */
static int
s_fanout (ef_routes_t *self, uint32_t from, uint32_t *stack, uint32_t *next,
          char *why, size_t why_len)
{
    for (uint32_t i = 0; i < self->n; i++) {
        self->nodes[i].seen = 0; /* 1: on the path, 2: counted */
        self->nodes[i].total = 0;
        self->nodes[i].reaches = 0;
    }
    for (uint32_t root = 0; root < self->n; root++) {
        if (self->nodes[root].seen)
            continue;
        uint32_t depth = 1;
        stack[0] = root;
        next[0] = 0;
        self->nodes[root].seen = 1;
        while (depth) {
            s_node_t *nd = &self->nodes[stack[depth - 1]];
            if (next[depth - 1] == nd->nedges) {
                nd->seen = 2;
                depth--;
                continue;
            }
            uint32_t to = nd->edges[next[depth - 1]++];
            s_node_t *t = &self->nodes[to];
            if (t->seen == 0) {
                t->seen = 1;
                stack[depth] = to;
                next[depth] = 0;
                depth++;
                next[depth - 2]--; /* this edge again, once t is counted */
                continue;
            }
            uint64_t add = 1 + (t->seen == 2 ? t->total : 0);
            nd->total += add;
            if (nd->total > EF_ROUTES_MAX_FANOUT)
                nd->total = EF_ROUTES_MAX_FANOUT + 1;
            nd->reaches |= to == from || (t->seen == 2 && t->reaches);
        }
    }
    for (uint32_t i = 0; i < self->n; i++) {
        const s_node_t *nd = &self->nodes[i];
        if ((i == from || nd->reaches) && nd->total > EF_ROUTES_MAX_FANOUT) {
            if (why && why_len)
                snprintf (why, why_len,
                          "route fan-out: one event in %s would lead to more "
                          "than %d routed events",
                          nd->name, EF_ROUTES_MAX_FANOUT);
            return EF_EINVAL;
        }
    }
    return 0;
}

int
ef_routes_check (ef_routes_t *self, ef_str_t start, char *why, size_t why_len)
{
    char name[129];
    if (s_copy (name, sizeof name, start))
        return 0;
    int64_t from = s_find (self, name);
    if (from < 0)
        return 0;
    /* resolve the targets once: edges between nodes */
    for (uint32_t i = 0; i < self->n; i++) {
        s_node_t *nd = &self->nodes[i];
        nd->nedges = 0;
        nd->seen = 0;
        for (uint32_t t = 0; t < nd->ntargets; t++) {
            int64_t to = s_find (self, nd->targets[t]);
            if (to >= 0)
                nd->edges[nd->nedges++] = (uint32_t)to;
        }
    }
    /* the walk: stack[k] is a node on the path, next[k] its next edge */
    uint32_t *stack = calloc (self->n, sizeof *stack);
    uint32_t *next = calloc (self->n, sizeof *next);
    if (!stack || !next) {
        free (stack);
        free (next);
        return EF_ENOMEM;
    }
    uint32_t depth = 1;
    int found = 0;
    stack[0] = (uint32_t)from;
    self->nodes[from].seen = 1;
    while (depth && !found) {
        s_node_t *nd = &self->nodes[stack[depth - 1]];
        if (next[depth - 1] == nd->nedges) {
            depth--; /* every way from here explored */
            continue;
        }
        uint32_t to = nd->edges[next[depth - 1]++];
        if (to == (uint32_t)from)
            found = 1;
        else if (!self->nodes[to].seen) {
            self->nodes[to].seen = 1;
            stack[depth] = to;
            next[depth] = 0;
            depth++;
        }
    }
    if (found) {
        size_t at = 0;
        s_say (why, why_len, &at, "route cycle: ");
        for (uint32_t k = 0; k < depth; k++) {
            s_say (why, why_len, &at, self->nodes[stack[k]].name);
            s_say (why, why_len, &at, " -> ");
        }
        s_say (why, why_len, &at, self->nodes[from].name);
    }
    int rc = found ? EF_EINVAL
                   : s_fanout (self, (uint32_t)from, stack, next, why, why_len);
    free (stack);
    free (next);
    return rc;
}
