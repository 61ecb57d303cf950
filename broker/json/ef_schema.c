/*  ef_schema.c: the draft-07 JSON Schema validator's compiler (see
    ef_schema.h). Compiling walks the schema document once, keyword by
    keyword, turning every subschema into an s_node_t with its keywords
    checked and decoded (numbers as long double, patterns as PCRE2 code,
    keys as pointers into the jansson document, which the compiled schema
    keeps). A first pass notes every $id (ef_schema_ref.c); $refs met by
    the walk are queued and resolved after it, against the whole
    document, into direct links between nodes, so that validation never
    looks anything up. This file owns the walk, the node map, $ref
    resolution and the schema's life (compile, ref, destroy);
    ef_schema_ref.c holds URIs, JSON Pointer, the $id table and the
    meta-schema, ef_schema_check.c validates, ef_schema_json.c holds the
    JSON value helpers and ef_schema_int.h the structures they share. */
#define _GNU_SOURCE /* strndup */
#include "ef_schema.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ef_schema_int.h"
#include "eventflow/ef_error.h"

/*  PCRE2 limits per match: backtracking steps, backtracking depth and
    heap KiB. A pattern that needs more is taken for a hostile one: the
    value is refused as over budget. 100000 steps are about a millisecond;
    ordinary patterns over ordinary strings need a few hundred. */
#define S_MATCH_LIMIT 100000
#define S_DEPTH_LIMIT 10000
#define S_HEAP_LIMIT  8192

/* -------------------------------------------------------------- compile */

/*  Record the first compile error; returns NULL for the callers' tails. */
static void *
s_fail (s_cc_t *cc, int code, const char *fmt, ...)
{
    if (cc->err)
        return NULL;
    cc->err = code;
    if (cc->why && cc->why_len > 0) {
        char msg[512];
        va_list ap;
        va_start (ap, fmt);
        sc_vformat (msg, sizeof msg, fmt, ap);
        va_end (ap);
        /*  The location first, but never so long that it hides the
            reason: a long one keeps its last 96 bytes. */
        char where[EF_SCHEMA_TEXT_MAX];
        sc_path_copy (&cc->path, where);
        const char *w = where, *dots = "";
        if (strlen (where) > 100) {
            w = where + strlen (where) - 96;
            while (((unsigned char)*w & 0xC0) == 0x80)
                w++;
            dots = "...";
        }
        snprintf (cc->why, cc->why_len, "%s%s%s%s", dots, w,
                  where[0] ? ": " : "", msg);
        sc_utf8_trim (cc->why);
    }
    return NULL;
}

static void *
s_nomem (s_cc_t *cc)
{
    return s_fail (cc, EF_ENOMEM, "out of memory");
}

static size_t
s_ptr_hash (const json_t *j, size_t cap)
{
    return (size_t)sj_mix ((uint64_t)(uintptr_t)j) & (cap - 1);
}

static s_node_t *
s_map_get (const s_cc_t *cc, const json_t *j)
{
    if (cc->mcap == 0)
        return NULL;
    for (size_t i = s_ptr_hash (j, cc->mcap);; i = (i + 1) & (cc->mcap - 1)) {
        if (cc->mkeys[i] == j)
            return cc->mvals[i];
        if (!cc->mkeys[i])
            return NULL;
    }
}

static int
s_map_put (s_cc_t *cc, const json_t *j, s_node_t *node)
{
    if ((cc->mcount + 1) * 2 > cc->mcap) {
        size_t cap = cc->mcap ? cc->mcap * 2 : 64;
        const json_t **keys = calloc (cap, sizeof *keys);
        s_node_t **vals = calloc (cap, sizeof *vals);
        if (!keys || !vals) {
            free (keys);
            free (vals);
            return -1;
        }
        for (size_t k = 0; k < cc->mcap; k++) {
            if (!cc->mkeys[k])
                continue;
            size_t i = s_ptr_hash (cc->mkeys[k], cap);
            while (keys[i])
                i = (i + 1) & (cap - 1);
            keys[i] = cc->mkeys[k];
            vals[i] = cc->mvals[k];
        }
        free (cc->mkeys);
        free (cc->mvals);
        cc->mkeys = keys;
        cc->mvals = vals;
        cc->mcap = cap;
    }
    size_t i = s_ptr_hash (j, cc->mcap);
    while (cc->mkeys[i])
        i = (i + 1) & (cc->mcap - 1);
    cc->mkeys[i] = j;
    cc->mvals[i] = node;
    cc->mcount++;
    return 0;
}

static s_node_t *
s_node_new (s_cc_t *cc, const json_t *j)
{
    ef_schema_t *self = cc->self;
    if (sj_reserve ((void **)&self->nodes, &self->capnodes, self->nnodes,
                    sizeof *self->nodes))
        return s_nomem (cc);
    s_node_t *n = calloc (1, sizeof *n);
    if (!n)
        return s_nomem (cc);
    self->nodes[self->nnodes++] = n;
    n->boolean = -1;
    n->min_len = n->max_len = -1;
    n->min_items = n->max_items = -1;
    n->min_props = n->max_props = -1;
    if (s_map_put (cc, j, n))
        return s_nomem (cc);
    return n;
}

static s_node_t *s_compile (s_cc_t *cc, const json_t *j, const char *base,
                            int depth);
static int s_compile_keywords (s_cc_t *cc, const json_t *j, s_node_t *n,
                               const char *base, int depth);

/*  Compile the subschema at key of j (which must be there). */
static s_node_t *
s_sub (s_cc_t *cc, const json_t *j, const char *key, const char *base,
       int depth)
{
    size_t old = sc_path_push_key (&cc->path, key, strlen (key));
    s_node_t *n = s_compile (cc, json_object_get (j, key), base, depth + 1);
    sc_path_pop (&cc->path, old);
    return n;
}

/*  Compile a non-empty array of schemas (allOf, anyOf, oneOf; items). */
static int
s_sub_list (s_cc_t *cc, const json_t *arr, const char *key, const char *base,
            int depth, int allow_empty, s_list_t *out)
{
    size_t old = sc_path_push_key (&cc->path, key, strlen (key));
    if (!json_is_array (arr) || (!allow_empty && json_array_size (arr) == 0)) {
        s_fail (cc, EF_EINVAL, "must be a%s array of schemas",
                allow_empty ? "n" : " non-empty");
        return -1;
    }
    out->n = json_array_size (arr);
    out->v = calloc (out->n ? out->n : 1, sizeof *out->v);
    if (!out->v) {
        out->n = 0;
        s_nomem (cc);
        return -1;
    }
    for (size_t i = 0; i < out->n; i++) {
        size_t o2 = sc_path_push_index (&cc->path, i);
        out->v[i] = s_compile (cc, json_array_get (arr, i), base, depth + 1);
        sc_path_pop (&cc->path, o2);
        if (!out->v[i])
            return -1;
    }
    sc_path_pop (&cc->path, old);
    return 0;
}

/*  A non-negative integer keyword (1.0 counts as 1) into *out. */
static int
s_count_kw (s_cc_t *cc, const json_t *j, const char *key, long long *out)
{
    const json_t *v = json_object_get (j, key);
    if (!v)
        return 0;
    if (!sj_is_integral (v) || sj_num (v) < 0) {
        size_t old = sc_path_push_key (&cc->path, key, strlen (key));
        s_fail (cc, EF_EINVAL, "must be a non-negative integer");
        sc_path_pop (&cc->path, old);
        return -1;
    }
    long double d = sj_num (v);
    *out = d > (long double)LLONG_MAX ? LLONG_MAX : (long long)d;
    return 0;
}

/*  A number keyword: sets *out (the json) and *val, or fails. */
static int
s_number_kw (s_cc_t *cc, const json_t *j, const char *key, const json_t **out,
             long double *val, unsigned flag, unsigned *flags)
{
    const json_t *v = json_object_get (j, key);
    if (!v)
        return 0;
    if (!json_is_number (v)) {
        size_t old = sc_path_push_key (&cc->path, key, strlen (key));
        s_fail (cc, EF_EINVAL, "must be a number");
        sc_path_pop (&cc->path, old);
        return -1;
    }
    *out = v;
    if (val)
        *val = sj_num (v);
    *flags |= flag;
    return 0;
}

static pcre2_code *
s_regex (s_cc_t *cc, const json_t *src, const char *key, int is_key)
{
    int code;
    PCRE2_SIZE off;
    const char *s = is_key ? key : json_string_value (src);
    size_t n = is_key ? strlen (key) : json_string_length (src);
    /*  ECMA-262 behaviour where PCRE2 has a switch for it: "$" only at the
        end, \u as in JavaScript. */
    pcre2_code *re = pcre2_compile (
        (PCRE2_SPTR)s, n, PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX,
        &code, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        if (pcre2_get_error_message (code, msg, sizeof msg) < 0)
            strcpy ((char *)msg, "unknown error");
        if (code == PCRE2_ERROR_NOMEMORY)
            s_nomem (cc);
        else
            s_fail (cc, EF_EINVAL,
                    "invalid regular expression at offset %zu: %s", (size_t)off,
                    (const char *)msg);
    }
    return re;
}

/*  "type": one name or a non-empty array of names. */
static int
s_compile_type (s_cc_t *cc, const json_t *t, unsigned *out)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"null", S_T_NULL},      {"boolean", S_T_BOOLEAN},
                 {"object", S_T_OBJECT},  {"array", S_T_ARRAY},
                 {"number", S_T_NUMBER},  {"string", S_T_STRING},
                 {"integer", S_T_INTEGER}};
    size_t n = json_is_array (t) ? json_array_size (t) : 1;
    size_t old = sc_path_push_key (&cc->path, "type", 4);
    if (!json_is_string (t) && (!json_is_array (t) || n == 0)) {
        s_fail (cc, EF_EINVAL, "must be a type name or an array of them");
        return -1;
    }
    *out = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_is_array (t) ? json_array_get (t, i) : t;
        unsigned bit = 0;
        for (size_t k = 0; json_is_string (e) && k < 7; k++)
            if (strcmp (json_string_value (e), names[k].name) == 0)
                bit = names[k].bit;
        if (!bit) {
            s_fail (cc, EF_EINVAL, "unknown type %s%s%s",
                    json_is_string (e) ? "\"" : "",
                    json_is_string (e) ? json_string_value (e)
                                       : "(not a string)",
                    json_is_string (e) ? "\"" : "");
            return -1;
        }
        *out |= bit;
    }
    sc_path_pop (&cc->path, old);
    return 0;
}

static int
s_compile_numeric (s_cc_t *cc, const json_t *j, s_node_t *n)
{
    if (s_number_kw (cc, j, "minimum", &n->minimum, &n->min_v, S_N_MIN,
                     &n->nflags) ||
        s_number_kw (cc, j, "maximum", &n->maximum, &n->max_v, S_N_MAX,
                     &n->nflags) ||
        s_number_kw (cc, j, "exclusiveMinimum", &n->xminimum, &n->xmin_v,
                     S_N_XMIN, &n->nflags) ||
        s_number_kw (cc, j, "exclusiveMaximum", &n->xmaximum, &n->xmax_v,
                     S_N_XMAX, &n->nflags) ||
        s_number_kw (cc, j, "multipleOf", &n->multiple_of, NULL, S_N_MULT,
                     &n->nflags))
        return -1;
    if ((n->nflags & S_N_MULT) && !(sj_num (n->multiple_of) > 0)) {
        size_t old = sc_path_push_key (&cc->path, "multipleOf", 10);
        s_fail (cc, EF_EINVAL, "must be greater than 0");
        sc_path_pop (&cc->path, old);
        return -1;
    }
    return 0;
}

static int
s_compile_string (s_cc_t *cc, const json_t *j, s_node_t *n)
{
    if (s_count_kw (cc, j, "minLength", &n->min_len) ||
        s_count_kw (cc, j, "maxLength", &n->max_len))
        return -1;
    const json_t *p = json_object_get (j, "pattern");
    if (p) {
        size_t old = sc_path_push_key (&cc->path, "pattern", 7);
        if (!json_is_string (p)) {
            s_fail (cc, EF_EINVAL, "must be a string");
            return -1;
        }
        n->pattern = s_regex (cc, p, NULL, 0);
        if (!n->pattern)
            return -1;
        n->pattern_src = p;
        sc_path_pop (&cc->path, old);
    }
    return 0;
}

static int
s_compile_array (s_cc_t *cc, const json_t *j, s_node_t *n, const char *base,
                 int depth)
{
    const json_t *items = json_object_get (j, "items");
    if (items && json_is_array (items)) {
        n->items_is_list = 1;
        if (s_sub_list (cc, items, "items", base, depth, 1, &n->items_v))
            return -1;
    } else if (items && !(n->items = s_sub (cc, j, "items", base, depth)))
        return -1;
    if (json_object_get (j, "additionalItems") &&
        !(n->additional_items = s_sub (cc, j, "additionalItems", base, depth)))
        return -1;
    if (json_object_get (j, "contains") &&
        !(n->contains = s_sub (cc, j, "contains", base, depth)))
        return -1;
    if (s_count_kw (cc, j, "minItems", &n->min_items) ||
        s_count_kw (cc, j, "maxItems", &n->max_items))
        return -1;
    const json_t *u = json_object_get (j, "uniqueItems");
    if (u) {
        if (!json_is_boolean (u)) {
            size_t old = sc_path_push_key (&cc->path, "uniqueItems", 11);
            s_fail (cc, EF_EINVAL, "must be a boolean");
            sc_path_pop (&cc->path, old);
            return -1;
        }
        n->unique = json_is_true (u);
    }
    return 0;
}

/*  "properties", "patternProperties", "definitions": objects of schemas.
    Fills props or pprops (when not NULL). */
static int
s_compile_schema_map (s_cc_t *cc, const json_t *j, const char *kw,
                      const char *base, int depth, s_prop_t **props,
                      s_pprop_t **pprops, size_t *count)
{
    const json_t *m = json_object_get (j, kw);
    if (!m)
        return 0;
    size_t old = sc_path_push_key (&cc->path, kw, strlen (kw));
    if (!json_is_object (m)) {
        s_fail (cc, EF_EINVAL, "must be an object");
        return -1;
    }
    size_t n = json_object_size (m);
    if (props && !(*props = calloc (n ? n : 1, sizeof **props))) {
        s_nomem (cc);
        return -1;
    }
    if (pprops && !(*pprops = calloc (n ? n : 1, sizeof **pprops))) {
        s_nomem (cc);
        return -1;
    }
    const char *key;
    size_t klen;
    json_t *v;
    size_t i = 0;
    json_object_keylen_foreach ((json_t *)m, key, klen, v)
    {
        size_t o2 = sc_path_push_key (&cc->path, key, klen);
        s_node_t *node = NULL;
        if (pprops) {
            /*  Regex source is the key: a NUL inside cannot be given to
                PCRE2 through a C string, so refuse it. */
            if (memchr (key, '\0', klen)) {
                s_fail (cc, EF_EINVAL, "pattern contains a NUL character");
                return -1;
            }
            pcre2_code *re = s_regex (cc, NULL, key, 1);
            if (!re)
                return -1;
            (*pprops)[i].re = re;
            (*count)++; /* counted now so that destroy frees re */
        }
        node = s_compile (cc, v, base, depth + 1);
        if (!node)
            return -1;
        if (props) {
            (*props)[i].key = key;
            (*props)[i].len = klen;
            (*props)[i].node = node;
            (*count)++;
        }
        if (pprops)
            (*pprops)[i].node = node;
        i++;
        sc_path_pop (&cc->path, o2);
    }
    sc_path_pop (&cc->path, old);
    return 0;
}

static int
s_compile_object (s_cc_t *cc, const json_t *j, s_node_t *n, const char *base,
                  int depth)
{
    size_t unused = 0;
    if (s_compile_schema_map (cc, j, "properties", base, depth, &n->props, NULL,
                              &n->nprops) ||
        s_compile_schema_map (cc, j, "patternProperties", base, depth, NULL,
                              &n->pprops, &n->npprops) ||
        s_compile_schema_map (cc, j, "definitions", base, depth, NULL, NULL,
                              &unused))
        return -1;
    n->props_json = json_object_get (j, "properties");
    if (json_object_get (j, "additionalProperties") &&
        !(n->additional_props =
              s_sub (cc, j, "additionalProperties", base, depth)))
        return -1;
    if (json_object_get (j, "propertyNames") &&
        !(n->property_names = s_sub (cc, j, "propertyNames", base, depth)))
        return -1;
    if (s_count_kw (cc, j, "minProperties", &n->min_props) ||
        s_count_kw (cc, j, "maxProperties", &n->max_props))
        return -1;
    const json_t *req = json_object_get (j, "required");
    if (req) {
        size_t old = sc_path_push_key (&cc->path, "required", 8);
        int ok = json_is_array (req);
        for (size_t i = 0; ok && i < json_array_size (req); i++)
            ok = json_is_string (json_array_get (req, i));
        if (!ok) {
            s_fail (cc, EF_EINVAL, "must be an array of strings");
            return -1;
        }
        n->required = req;
        sc_path_pop (&cc->path, old);
    }
    const json_t *deps = json_object_get (j, "dependencies");
    if (deps) {
        size_t old = sc_path_push_key (&cc->path, "dependencies", 12);
        if (!json_is_object (deps)) {
            s_fail (cc, EF_EINVAL, "must be an object");
            return -1;
        }
        size_t cnt = json_object_size (deps);
        n->deps = calloc (cnt ? cnt : 1, sizeof *n->deps);
        if (!n->deps) {
            s_nomem (cc);
            return -1;
        }
        const char *key;
        size_t klen;
        json_t *v;
        json_object_keylen_foreach ((json_t *)deps, key, klen, v)
        {
            s_dep_t *d = &n->deps[n->ndeps++];
            d->key = key;
            d->len = klen;
            size_t o2 = sc_path_push_key (&cc->path, key, klen);
            if (json_is_array (v)) {
                for (size_t i = 0; i < json_array_size (v); i++)
                    if (!json_is_string (json_array_get (v, i))) {
                        s_fail (cc, EF_EINVAL,
                                "must be a schema or an array of strings");
                        return -1;
                    }
                d->names = v;
            } else if (!(d->node = s_compile (cc, v, base, depth + 1)))
                return -1;
            sc_path_pop (&cc->path, o2);
        }
        sc_path_pop (&cc->path, old);
    }
    return 0;
}

static int
s_compile_logic (s_cc_t *cc, const json_t *j, s_node_t *n, const char *base,
                 int depth)
{
    const json_t *v;
    if ((v = json_object_get (j, "allOf")) &&
        s_sub_list (cc, v, "allOf", base, depth, 0, &n->all_of))
        return -1;
    if ((v = json_object_get (j, "anyOf")) &&
        s_sub_list (cc, v, "anyOf", base, depth, 0, &n->any_of))
        return -1;
    if ((v = json_object_get (j, "oneOf")) &&
        s_sub_list (cc, v, "oneOf", base, depth, 0, &n->one_of))
        return -1;
    if (json_object_get (j, "not") &&
        !(n->not_ = s_sub (cc, j, "not", base, depth)))
        return -1;
    if (json_object_get (j, "if") &&
        !(n->if_ = s_sub (cc, j, "if", base, depth)))
        return -1;
    if (json_object_get (j, "then") &&
        !(n->then_ = s_sub (cc, j, "then", base, depth)))
        return -1;
    if (json_object_get (j, "else") &&
        !(n->else_ = s_sub (cc, j, "else", base, depth)))
        return -1;
    return 0;
}

/*  Compile the schema j, met where the base URI is base. Returns its node
    (the same one when j was compiled before) or NULL after s_fail. */
static s_node_t *
s_compile (s_cc_t *cc, const json_t *j, const char *base, int depth)
{
    if (depth > EF_SCHEMA_MAX_DEPTH)
        return s_fail (cc, EF_EINVAL, "schema nested deeper than %d levels",
                       EF_SCHEMA_MAX_DEPTH);
    s_node_t *n = s_map_get (cc, j);
    if (n)
        return n;
    if (!json_is_object (j) && !json_is_boolean (j))
        return s_fail (cc, EF_EINVAL,
                       "a schema must be an object or a boolean");
    if (!(n = s_node_new (cc, j)))
        return NULL;
    if (json_is_boolean (j)) {
        n->boolean = json_is_true (j);
        return n;
    }
    const json_t *v = json_object_get (j, "$ref");
    if (v) {
        /*  draft-07: every sibling of $ref is ignored, $id included. */
        if (!json_is_string (v)) {
            size_t old = sc_path_push_key (&cc->path, "$ref", 4);
            s_fail (cc, EF_EINVAL, "must be a string");
            sc_path_pop (&cc->path, old);
            return NULL;
        }
        if (sj_reserve ((void **)&cc->pend, &cc->cappend, cc->npend,
                        sizeof *cc->pend))
            return s_nomem (cc);
        char *uri = sr_uri_resolve (base, json_string_value (v));
        if (!uri)
            return s_nomem (cc);
        cc->pend[cc->npend].node = n;
        cc->pend[cc->npend].uri = uri;
        cc->pend[cc->npend].where = cc->path;
        cc->npend++;
        n->has_ref = 1;
        return n;
    }
    /*  $id: the base for the $refs below (ids were noted before the
        walk, by sr_collect_ids). */
    char *own = NULL;
    if ((v = json_object_get (j, "$id"))) {
        if (!json_is_string (v)) {
            size_t old = sc_path_push_key (&cc->path, "$id", 3);
            s_fail (cc, EF_EINVAL, "must be a string");
            sc_path_pop (&cc->path, old);
            return NULL;
        }
        if (!(own = sr_id_uri (base, json_string_value (v))))
            return s_nomem (cc);
        if (strchr (own, '#')) {
            free (own); /* a plain name: the base stays */
            own = NULL;
        } else
            base = own;
    }
    int rc = s_compile_keywords (cc, j, n, base, depth);
    free (own);
    return rc ? NULL : n;
}

/*  The keywords of object schema j into n. */
static int
s_compile_keywords (s_cc_t *cc, const json_t *j, s_node_t *n, const char *base,
                    int depth)
{
    const json_t *v;
    if ((v = json_object_get (j, "type")) && s_compile_type (cc, v, &n->types))
        return -1;
    if ((v = json_object_get (j, "enum"))) {
        if (!json_is_array (v)) {
            size_t old = sc_path_push_key (&cc->path, "enum", 4);
            s_fail (cc, EF_EINVAL, "must be an array");
            sc_path_pop (&cc->path, old);
            return -1;
        }
        n->enum_vals = v;
    }
    n->const_val = json_object_get (j, "const");
    if (s_compile_numeric (cc, j, n) || s_compile_string (cc, j, n) ||
        s_compile_array (cc, j, n, base, depth) ||
        s_compile_object (cc, j, n, base, depth) ||
        s_compile_logic (cc, j, n, base, depth))
        return -1;
    return 0;
}

/*  Parse and walk the built-in meta-schema (once). */

/*  Parse and walk the built-in meta-schema (once). */
static int
s_load_meta (s_cc_t *cc)
{
    ef_schema_t *self = cc->self;
    self->docs[1] = sr_meta_document ();
    if (!self->docs[1]) {
        s_nomem (cc); /* the text is ours and valid: only memory can fail */
        return -1;
    }
    s_path_t saved = cc->path;
    cc->path.len = 0;
    if (sr_collect_ids (cc, self->docs[1], "", 0)) {
        s_nomem (cc);
        return -1;
    }
    s_node_t *n = s_compile (cc, self->docs[1], "", 0);
    cc->path = saved;
    return n ? 0 : -1;
}

/*  Resolve every queued $ref. Resolving can compile parts of the
    document that the walk did not reach (a $ref may point anywhere), and
    those can queue more $refs, so the queue is read until it stays put. */
static int
s_resolve_refs (s_cc_t *cc)
{
    for (size_t i = 0; i < cc->npend; i++) {
        const char *uri = cc->pend[i].uri;
        const char *hash = strchr (uri, '#');
        size_t docn = hash ? (size_t)(hash - uri) : strlen (uri);
        cc->path = cc->pend[i].where;
        sc_path_push_key (&cc->path, "$ref", 4);
        const s_id_t *doc = sr_find_id (cc, uri, docn);
        if (!doc && sr_is_meta (uri, docn) && !cc->self->docs[1]) {
            if (s_load_meta (cc))
                return -1;
            doc = sr_find_id (cc, uri, docn);
        }
        char *frag = strdup (hash ? hash + 1 : "");
        char *base = strndup (uri, docn);
        if (!frag || !base) {
            free (frag);
            free (base);
            s_nomem (cc);
            return -1;
        }
        size_t fragn = sr_percent_decode (frag, strlen (frag));
        const json_t *target = NULL;
        int nomem = 0;
        if (fragn > 0 && frag[0] != '/') {
            /*  A plain name, defined by an $id "#name". */
            const s_id_t *named = sr_find_id (cc, uri, strlen (uri));
            target = named ? named->json : NULL;
        } else if (doc)
            target = sr_pointer_get (doc->json, frag, fragn, &base, &nomem);
        free (frag);
        s_node_t *node = NULL;
        if (nomem)
            s_nomem (cc);
        else if (!target && !doc && docn > 0)
            s_fail (cc, EF_EINVAL, "remote $ref is not supported: \"%s\"", uri);
        else if (!target)
            s_fail (cc, EF_EINVAL, "unresolvable $ref \"%s\"", uri);
        else
            node = s_compile (cc, target, base, 0);
        free (base);
        if (!node)
            return -1;
        cc->pend[i].node->ref = node;
    }
    return 0;
}

/*  Refuse $refs that only lead to other $refs in a circle: they could
    never be evaluated. Iterative, marking each chain once. */
static int
s_check_ref_cycles (s_cc_t *cc)
{
    ef_schema_t *self = cc->self;
    for (size_t i = 0; i < self->nnodes; i++) {
        s_node_t *n = self->nodes[i];
        if (n->ref_mark)
            continue;
        s_node_t *at = n;
        while (at && at->has_ref && at->ref_mark == 0) {
            at->ref_mark = 1;
            at = at->ref;
        }
        if (at && at->ref_mark == 1) {
            cc->path.len = 0;
            return s_fail (cc, EF_EINVAL, "circular $ref"), -1;
        }
        for (at = n; at && at->ref_mark == 1; at = at->ref)
            at->ref_mark = 2;
        n->ref_mark = 2;
    }
    return 0;
}

static void
s_node_free (s_node_t *n)
{
    pcre2_code_free (n->pattern);
    for (size_t i = 0; i < n->npprops; i++)
        pcre2_code_free (n->pprops[i].re);
    free (n->pprops);
    free (n->props);
    free (n->deps);
    free (n->items_v.v);
    free (n->all_of.v);
    free (n->any_of.v);
    free (n->one_of.v);
    free (n);
}

ef_schema_t *
ef_schema_ref (ef_schema_t *self)
{
    if (self)
        __atomic_add_fetch (&self->refs, 1, __ATOMIC_RELAXED);
    return self;
}

void
ef_schema_destroy (ef_schema_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_schema_t *self = *self_p;
    *self_p = NULL;
    if (__atomic_sub_fetch (&self->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    for (size_t i = 0; i < self->nnodes; i++)
        s_node_free (self->nodes[i]);
    free (self->nodes);
    json_decref (self->docs[0]);
    json_decref (self->docs[1]);
    pcre2_match_context_free (self->mctx);
    free (self);
}

ef_schema_t *
ef_schema_compile (const char *text, size_t len, int *err, char *why,
                   size_t why_len)
{
    s_cc_t cc;
    memset (&cc, 0, sizeof cc);
    cc.why = why;
    cc.why_len = why_len;
    if (why && why_len)
        why[0] = '\0';
    ef_schema_t *self = NULL;
    if (!text)
        s_fail (&cc, EF_EINVAL, "no schema text");
    else if (!(self = calloc (1, sizeof *self)))
        s_nomem (&cc);
    else
        self->refs = 1;
    cc.self = self;
    if (!cc.err) {
        json_error_t jerr;
        self->docs[0] = json_loadb (
            text, len,
            JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
        if (!self->docs[0])
            s_fail (&cc, EF_EINVAL,
                    "schema is not JSON: %s (line %d, column %d)", jerr.text,
                    jerr.line, jerr.column);
    }
    if (!cc.err) {
        char *root_uri = strdup ("");
        if (!root_uri || sr_add_id (&cc, root_uri, self->docs[0]))
            s_nomem (&cc);
    }
    if (!cc.err && sr_collect_ids (&cc, self->docs[0], "", 0))
        s_nomem (&cc);
    if (!cc.err)
        self->root = s_compile (&cc, self->docs[0], "", 0);
    if (!cc.err)
        s_resolve_refs (&cc);
    if (!cc.err)
        s_check_ref_cycles (&cc);
    if (!cc.err) {
        self->mctx = pcre2_match_context_create (NULL);
        if (!self->mctx)
            s_nomem (&cc);
        else {
            pcre2_set_match_limit (self->mctx, S_MATCH_LIMIT);
            pcre2_set_depth_limit (self->mctx, S_DEPTH_LIMIT);
            pcre2_set_heap_limit (self->mctx, S_HEAP_LIMIT);
        }
    }
    for (size_t i = 0; i < cc.nids; i++)
        free (cc.ids[i].uri);
    free (cc.ids);
    for (size_t i = 0; i < cc.npend; i++)
        free (cc.pend[i].uri);
    free (cc.pend);
    free (cc.mkeys);
    free (cc.mvals);
    if (err)
        *err = cc.err;
    if (cc.err) {
        ef_schema_destroy (&self);
        return NULL;
    }
    return self;
}
