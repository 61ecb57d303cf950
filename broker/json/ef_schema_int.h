/*  ef_schema_int.h: private to the JSON Schema validator, not installed.
    The compiled-schema structures (nodes, the schema, compile and
    validation state) and the helpers shared between compiling
    (ef_schema.c, ef_schema_ref.c) and validating (ef_schema_check.c):
    JSON value helpers (sj_*, ef_schema_json.c), JSON Pointer paths and
    message text (sc_*, ef_schema_check.c), and URIs, JSON Pointer, the
    $id table and the meta-schema (sr_*, ef_schema_ref.c). */
#ifndef EF_SCHEMA_INT_H
#define EF_SCHEMA_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <jansson.h>
#include <pcre2.h>

#include "ef_schema.h"

/*  Type bits of the "type" keyword and of values. */
#define S_T_NULL    0x01
#define S_T_BOOLEAN 0x02
#define S_T_OBJECT  0x04
#define S_T_ARRAY   0x08
#define S_T_NUMBER  0x10
#define S_T_STRING  0x20
#define S_T_INTEGER 0x40

/*  Which numeric keywords a node has. */
#define S_N_MIN  0x01
#define S_N_MAX  0x02
#define S_N_XMIN 0x04
#define S_N_XMAX 0x08
#define S_N_MULT 0x10

/* ------------------------------------------------------------ structures */

typedef struct s_node s_node_t;

typedef struct {
    s_node_t **v;
    size_t n;
} s_list_t;

/*  A member of "properties". key points into the schema document. */
typedef struct {
    const char *key;
    size_t len;
    s_node_t *node;
} s_prop_t;

/*  A member of "patternProperties". */
typedef struct {
    pcre2_code *re;
    s_node_t *node;
} s_pprop_t;

/*  A member of "dependencies": names (an array of strings) or node. */
typedef struct {
    const char *key;
    size_t len;
    const json_t *names;
    s_node_t *node;
} s_dep_t;

/*  One compiled subschema. Everything it points to is owned by the
    schema: nodes by ef_schema.nodes, json values by ef_schema.docs. */
struct s_node {
    int boolean;    /* 1 true, 0 false, -1 an object schema */
    int has_ref;    /* "$ref": only ref counts */
    s_node_t *ref;  /* its target, after resolution */
    int ref_mark;   /* ref-cycle check: 0 new, 1 on path, 2 done */
    unsigned types; /* S_T_* bits, 0 = no "type" */
    const json_t *enum_vals;
    const json_t *const_val;
    /* numbers */
    unsigned nflags;
    const json_t *minimum, *maximum, *xminimum, *xmaximum, *multiple_of;
    long double min_v, max_v, xmin_v, xmax_v;
    /* strings; -1 = absent */
    long long min_len, max_len;
    pcre2_code *pattern;
    const json_t *pattern_src;
    /* arrays */
    s_node_t *items;   /* "items" as one schema */
    s_list_t items_v;  /* "items" as an array */
    int items_is_list; /* which of the two */
    s_node_t *additional_items;
    s_node_t *contains;
    long long min_items, max_items;
    int unique;
    /* objects */
    const json_t *props_json; /* "properties", to know what is "additional" */
    s_prop_t *props;
    size_t nprops;
    s_pprop_t *pprops;
    size_t npprops;
    s_node_t *additional_props;
    s_node_t *property_names;
    const json_t *required;
    s_dep_t *deps;
    size_t ndeps;
    long long min_props, max_props;
    /* logic */
    s_list_t all_of, any_of, one_of;
    s_node_t *not_, *if_, *then_, *else_;
};

struct ef_schema {
    s_node_t *root;
    s_node_t **nodes; /* every node, for destroy */
    size_t nnodes, capnodes;
    json_t *docs[2]; /* the schema's document and, if used, the meta-schema */
    pcre2_match_context *mctx;
    int refs; /* references (atomic): the last one frees */
};

/*  A JSON Pointer being built; len may pass the buffer, whose text then
    stops at the buffer's end. */
typedef struct {
    char buf[EF_SCHEMA_TEXT_MAX];
    size_t len;
} s_path_t;

/*  A document part named by $id (or the document itself, named ""). */
typedef struct {
    char *uri;
    const json_t *json;
} s_id_t;

/*  A $ref waiting for the end of the walk. */
typedef struct {
    s_node_t *node;
    char *uri;      /* resolved against the base where it was met */
    s_path_t where; /* of the schema with the $ref, for messages */
} s_pending_t;

/*  Compile-time state. */
typedef struct {
    ef_schema_t *self;
    s_id_t *ids;
    size_t nids, capids;
    s_pending_t *pend;
    size_t npend, cappend;
    const json_t **mkeys; /* open-addressing map: schema json -> node */
    s_node_t **mvals;
    size_t mcap, mcount;
    s_path_t path; /* of the schema location being compiled */
    int err;
    char *why;
    size_t why_len;
} s_cc_t;

/*  Validation state, on the caller's stack. */
typedef struct {
    const ef_schema_t *self;
    ef_schema_error_t *errors;
    uint32_t max, n;
    s_path_t path; /* of the value being validated */
    int depth;
    int aborted; /* evaluation gave up: the value is invalid */
    int rc;      /* EF_ENOMEM when it gave up for lack of memory */
    pcre2_match_data *md;
    uint64_t work, work_max; /* units spent, and allowed */
    uint64_t next_clock;     /* look at the CPU clock when work passes it */
    int64_t cpu_until_ns;    /* 0: no CPU deadline */
    int exceeded;            /* gave up on the budget */
} s_vc_t;

/* ----------------------------------- JSON values (ef_schema_json.c) */

long double sj_num (const json_t *v);
/*  Shortest text for a JSON number, for messages. */
void sj_num_text (const json_t *v, char *out, size_t size);
int sj_is_integral (const json_t *v);
/*  The S_T_* bits that value v has. */
unsigned sj_type_of (const json_t *v);
const char *sj_type_name (unsigned bit);
const char *sj_value_type_name (const json_t *v);
int sj_multiple_of (const json_t *v, const json_t *m);
/*  1 equal, 0 not, -1 nested deeper than the value-depth limit. */
int sj_equal (const json_t *a, const json_t *b, int depth);
uint64_t sj_mix (uint64_t h);
/*  Agrees with sj_equal: equal values hash alike. */
uint64_t sj_hash (const json_t *v, int depth);
/*  Grow *v (of *cap elements of size) to hold n + 1; -1 out of memory. */
int sj_reserve (void **v, size_t *cap, size_t n, size_t size);

/* ----------------------------------- paths, text (ef_schema_check.c) */

/*  The sc_path_push_* return the length to pop back to. */
size_t sc_path_push_key (s_path_t *p, const char *key, size_t klen);
size_t sc_path_push_index (s_path_t *p, size_t i);
void sc_path_pop (s_path_t *p, size_t old);
/*  p into out[EF_SCHEMA_TEXT_MAX], ending in "..." when cut. */
void sc_path_copy (const s_path_t *p, char *out);
void sc_utf8_trim (char *s);
void sc_vformat (char *out, size_t size, const char *fmt, va_list ap);

/* ----------------------- URIs, JSON Pointer, $id (ef_schema_ref.c) */

/*  ref resolved against base (RFC 3986); NULL when out of memory. */
char *sr_uri_resolve (const char *base, const char *ref);
/*  The URI an $id names, resolved against base, without an empty
    fragment; NULL when out of memory. */
char *sr_id_uri (const char *base, const char *id);
/*  Percent-decode s[0..n) in place; returns the new length. */
size_t sr_percent_decode (char *s, size_t n);
/*  Follow JSON Pointer ptr[0..n) (decoded) from doc; NULL when it leads
    nowhere. *base (malloc) follows the $ids passed on the way; *nomem is
    set when memory ran out. */
const json_t *sr_pointer_get (const json_t *doc, const char *ptr, size_t n,
                              char **base, int *nomem);
/*  Name j by uri (taken; the first one met keeps a name); -1 no memory. */
int sr_add_id (s_cc_t *cc, char *uri, const json_t *j);
/*  The part named by uri[0..n), or NULL. */
const s_id_t *sr_find_id (const s_cc_t *cc, const char *uri, size_t n);
/*  Note every $id under j before the walk; -1 when out of memory. */
int sr_collect_ids (s_cc_t *cc, const json_t *j, const char *base, int depth);
/*  Whether uri[0..n) names the built-in draft-07 meta-schema. */
int sr_is_meta (const char *uri, size_t n);
/*  The meta-schema's document (the caller's reference); NULL no memory. */
json_t *sr_meta_document (void);

#endif
