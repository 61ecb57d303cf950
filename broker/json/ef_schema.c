/*  ef_schema.c: the draft-07 JSON Schema validator (see ef_schema.h).
    Compiling walks the schema document once, keyword by keyword, turning
    every subschema into an s_node_t with its keywords checked and decoded
    (numbers as long double, patterns as PCRE2 code, keys as pointers into
    the jansson document, which the compiled schema keeps). A first pass
    notes every $id; $refs met by the walk are queued and resolved after
    it, against the whole document, into direct links between nodes, so
    that validation never looks anything up.
    This file compiles (and destroys); ef_schema_check.c validates,
    ef_schema_json.c holds the JSON value helpers both use and
    ef_schema_int.h the structures they share. URIs and JSON Pointer
    lookup, which only compiling needs, are here too. */
#define _GNU_SOURCE /* strndup */
#include "ef_schema.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ef_schema_int.h"
#include "eventflow/ef_error.h"

/*  The built-in meta-schema's URI (without the empty fragment). */
#define S_META_URI "http://json-schema.org/draft-07/schema"
/*  PCRE2 limits per match: backtracking steps, backtracking depth and
    heap KiB. A pattern that needs more is taken for a hostile one: the
    value is refused as over budget. 100000 steps are about a millisecond;
    ordinary patterns over ordinary strings need a few hundred. */
#define S_MATCH_LIMIT 100000
#define S_DEPTH_LIMIT 10000
#define S_HEAP_LIMIT  8192

/*  The draft-07 meta-schema, compact. */
static const char s_meta_text[] =
    "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"$id\":\"htt"
    "p://json-schema.org/draft-07/schema#\",\"title\":\"Core schema meta-sc"
    "hema\",\"definitions\":{\"schemaArray\":{\"type\":\"array\",\"minItems"
    "\":1,\"items\":{\"$ref\":\"#\"}},\"nonNegativeInteger\":{\"type\":\"int"
    "eger\",\"minimum\":0},\"nonNegativeIntegerDefault0\":{\"allOf\":[{\"$r"
    "ef\":\"#/definitions/nonNegativeInteger\"},{\"default\":0}]},\"simpleT"
    "ypes\":{\"enum\":[\"array\",\"boolean\",\"integer\",\"null\",\"number\""
    ",\"object\",\"string\"]},\"stringArray\":{\"type\":\"array\",\"items\":"
    "{\"type\":\"string\"},\"uniqueItems\":true,\"default\":[]}},\"type\":[\""
    "object\",\"boolean\"],\"properties\":{\"$id\":{\"type\":\"string\",\"for"
    "mat\":\"uri-reference\"},\"$schema\":{\"type\":\"string\",\"format\":\"u"
    "ri\"},\"$ref\":{\"type\":\"string\",\"format\":\"uri-reference\"},\"$com"
    "ment\":{\"type\":\"string\"},\"title\":{\"type\":\"string\"},\"descripti"
    "on\":{\"type\":\"string\"},\"default\":true,\"readOnly\":{\"type\":\"boo"
    "lean\",\"default\":false},\"examples\":{\"type\":\"array\",\"items\":tru"
    "e},\"multipleOf\":{\"type\":\"number\",\"exclusiveMinimum\":0},\"maximum"
    "\":{\"type\":\"number\"},\"exclusiveMaximum\":{\"type\":\"number\"},\"mi"
    "nimum\":{\"type\":\"number\"},\"exclusiveMinimum\":{\"type\":\"number\"}"
    ",\"maxLength\":{\"$ref\":\"#/definitions/nonNegativeInteger\"},\"minLen"
    "gth\":{\"$ref\":\"#/definitions/nonNegativeIntegerDefault0\"},\"patter"
    "n\":{\"type\":\"string\",\"format\":\"regex\"},\"additionalItems\":{\"$r"
    "ef\":\"#\"},\"items\":{\"anyOf\":[{\"$ref\":\"#\"},{\"$ref\":\"#/definit"
    "ions/schemaArray\"}],\"default\":true},\"maxItems\":{\"$ref\":\"#/defin"
    "itions/nonNegativeInteger\"},\"minItems\":{\"$ref\":\"#/definitions/non"
    "NegativeIntegerDefault0\"},\"uniqueItems\":{\"type\":\"boolean\",\"defau"
    "lt\":false},\"contains\":{\"$ref\":\"#\"},\"maxProperties\":{\"$ref\":\""
    "#/definitions/nonNegativeInteger\"},\"minProperties\":{\"$ref\":\"#/def"
    "initions/nonNegativeIntegerDefault0\"},\"required\":{\"$ref\":\"#/defin"
    "itions/stringArray\"},\"additionalProperties\":{\"$ref\":\"#\"},\"defin"
    "itions\":{\"type\":\"object\",\"additionalProperties\":{\"$ref\":\"#\"},"
    "\"default\":{}},\"properties\":{\"type\":\"object\",\"additionalPropertie"
    "s\":{\"$ref\":\"#\"},\"default\":{}},\"patternProperties\":{\"type\":\"ob"
    "ject\",\"additionalProperties\":{\"$ref\":\"#\"},\"propertyNames\":{\"fo"
    "rmat\":\"regex\"},\"default\":{}},\"dependencies\":{\"type\":\"object\","
    "\"additionalProperties\":{\"anyOf\":[{\"$ref\":\"#\"},{\"$ref\":\"#/defin"
    "itions/stringArray\"}]}},\"propertyNames\":{\"$ref\":\"#\"},\"const\":tr"
    "ue,\"enum\":{\"type\":\"array\",\"items\":true},\"type\":{\"anyOf\":[{\"$"
    "ref\":\"#/definitions/simpleTypes\"},{\"type\":\"array\",\"items\":{\"$r"
    "ef\":\"#/definitions/simpleTypes\"},\"minItems\":1,\"uniqueItems\":true}"
    "]},\"format\":{\"type\":\"string\"},\"contentMediaType\":{\"type\":\"stri"
    "ng\"},\"contentEncoding\":{\"type\":\"string\"},\"if\":{\"$ref\":\"#\"},\""
    "then\":{\"$ref\":\"#\"},\"else\":{\"$ref\":\"#\"},\"allOf\":{\"$ref\":\"#/"
    "definitions/schemaArray\"},\"anyOf\":{\"$ref\":\"#/definitions/schemaAr"
    "ray\"},\"oneOf\":{\"$ref\":\"#/definitions/schemaArray\"},\"not\":{\"$re"
    "f\":\"#\"}},\"default\":true}";

/* ------------------------------------------------------------------ URIs */

/*  A URI reference cut into its RFC 3986 parts; absent parts have s NULL. */
typedef struct {
    const char *s;
    size_t n;
} s_span_t;

typedef struct {
    s_span_t scheme, auth, path, query, frag;
} s_uri_t;

static void
s_uri_parse (const char *u, s_uri_t *o)
{
    memset (o, 0, sizeof *o);
    const char *p = u;
    /*  A scheme is letters, digits, + - . after a letter, then ':'. */
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
        const char *q = p;
        while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
               (*q >= '0' && *q <= '9') || *q == '+' || *q == '-' || *q == '.')
            q++;
        if (*q == ':') {
            o->scheme.s = p;
            o->scheme.n = (size_t)(q - p);
            p = q + 1;
        }
    }
    if (p[0] == '/' && p[1] == '/') {
        p += 2;
        o->auth.s = p;
        o->auth.n = strcspn (p, "/?#");
        p += o->auth.n;
    }
    o->path.s = p;
    o->path.n = strcspn (p, "?#");
    p += o->path.n;
    if (*p == '?') {
        p++;
        o->query.s = p;
        o->query.n = strcspn (p, "#");
        p += o->query.n;
    }
    if (*p == '#') {
        p++;
        o->frag.s = p;
        o->frag.n = strlen (p);
    }
}

/*  RFC 3986 5.2.4: remove "." and ".." segments of in[0..n) (changed on
    the way) into out (at least n + 1 bytes); returns the length written. */
static size_t
s_remove_dots (char *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    while (i < n) {
        size_t rest = n - i;
        char *p = in + i;
        if (rest >= 3 && memcmp (p, "../", 3) == 0)
            i += 3;
        else if (rest >= 2 && memcmp (p, "./", 2) == 0)
            i += 2;
        else if (rest >= 3 && memcmp (p, "/./", 3) == 0)
            i += 2;
        else if (rest == 2 && memcmp (p, "/.", 2) == 0) {
            p[1] = '/';
            i += 1;
        } else if ((rest >= 4 && memcmp (p, "/../", 4) == 0) ||
                   (rest == 3 && memcmp (p, "/..", 3) == 0)) {
            if (rest == 3) {
                p[2] = '/';
                i += 2;
            } else
                i += 3;
            /*  Drop the last segment written, with its "/". */
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
        } else if ((rest == 1 && p[0] == '.') ||
                   (rest == 2 && memcmp (p, "..", 2) == 0))
            i = n;
        else {
            /*  Move the first segment, with its leading "/" if any. */
            if (in[i] == '/')
                out[o++] = in[i++];
            while (i < n && in[i] != '/')
                out[o++] = in[i++];
        }
    }
    out[o] = '\0';
    return o;
}

/*  Resolve reference ref against base (RFC 3986 5.2.2). Returns a new
    string (malloc) or NULL when out of memory. */
static char *
s_uri_resolve (const char *base, const char *ref)
{
    s_uri_t b, r;
    s_uri_parse (base, &b);
    s_uri_parse (ref, &r);
    size_t cap = strlen (base) + strlen (ref) + 8;
    char *out = malloc (cap);
    char *merged = malloc (cap);
    char *dots = malloc (cap);
    if (!out || !merged || !dots) {
        free (out);
        free (merged);
        free (dots);
        return NULL;
    }
    const s_span_t *scheme, *auth, *query;
    const char *path;
    size_t pathn;
    if (r.scheme.s) {
        scheme = &r.scheme, auth = &r.auth, query = &r.query;
        memcpy (merged, r.path.s, r.path.n);
        pathn = s_remove_dots (merged, r.path.n, dots);
        path = dots;
    } else {
        scheme = &b.scheme;
        if (r.auth.s) {
            auth = &r.auth, query = &r.query;
            memcpy (merged, r.path.s, r.path.n);
            pathn = s_remove_dots (merged, r.path.n, dots);
            path = dots;
        } else {
            auth = &b.auth;
            if (r.path.n == 0) {
                path = b.path.s, pathn = b.path.n;
                query = r.query.s ? &r.query : &b.query;
            } else {
                query = &r.query;
                size_t m = 0;
                if (r.path.s[0] == '/') {
                    memcpy (merged, r.path.s, r.path.n);
                    m = r.path.n;
                } else {
                    if (b.auth.s && b.path.n == 0)
                        merged[m++] = '/';
                    else {
                        size_t k = b.path.n;
                        while (k > 0 && b.path.s[k - 1] != '/')
                            k--;
                        memcpy (merged, b.path.s, k);
                        m = k;
                    }
                    memcpy (merged + m, r.path.s, r.path.n);
                    m += r.path.n;
                }
                pathn = s_remove_dots (merged, m, dots);
                path = dots;
            }
        }
    }
    size_t o = 0;
    if (scheme->s) {
        memcpy (out + o, scheme->s, scheme->n);
        o += scheme->n;
        out[o++] = ':';
    }
    if (auth->s) {
        out[o++] = '/', out[o++] = '/';
        memcpy (out + o, auth->s, auth->n);
        o += auth->n;
    }
    memmove (out + o, path, pathn);
    o += pathn;
    if (query->s) {
        out[o++] = '?';
        memcpy (out + o, query->s, query->n);
        o += query->n;
    }
    if (r.frag.s) {
        out[o++] = '#';
        memcpy (out + o, r.frag.s, r.frag.n);
        o += r.frag.n;
    }
    out[o] = '\0';
    free (merged);
    free (dots);
    return out;
}

static int
s_hexval (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*  Percent-decode s[0..n) in place; returns the new length. */
static size_t
s_percent_decode (char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = s_hexval (s[i + 1])) >= 0 &&
            (lo = s_hexval (s[i + 2])) >= 0) {
            s[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else
            s[o++] = s[i];
    }
    return o;
}

static char *s_id_uri (const char *base, const char *id);

/*  Follow JSON Pointer ptr[0..n) (decoded, starting with "/" or empty)
    from doc. NULL when it leads nowhere. *base (malloc, the base URI at
    doc) follows the $ids of the objects passed through on the way (not
    doc's own, nor the target's); *nomem is set when memory ran out. */
static const json_t *
s_pointer_get (const json_t *doc, const char *ptr, size_t n, char **base,
               int *nomem)
{
    const json_t *at = doc;
    size_t i = 0;
    char *tok = malloc (n + 1);
    if (!tok) {
        *nomem = 1;
        return NULL;
    }
    while (at && i < n) {
        if (ptr[i] != '/') {
            at = NULL;
            break;
        }
        const json_t *id = json_object_get (at, "$id");
        if (at != doc && json_is_string (id) && !json_object_get (at, "$ref")) {
            char *uri = s_id_uri (*base, json_string_value (id));
            if (!uri) {
                *nomem = 1;
                at = NULL;
                break;
            }
            if (strchr (uri, '#'))
                free (uri);
            else {
                free (*base);
                *base = uri;
            }
        }
        i++;
        size_t t = 0;
        while (i < n && ptr[i] != '/') {
            if (ptr[i] == '~' && i + 1 < n && ptr[i + 1] == '0')
                tok[t++] = '~', i += 2;
            else if (ptr[i] == '~' && i + 1 < n && ptr[i + 1] == '1')
                tok[t++] = '/', i += 2;
            else if (ptr[i] == '~') {
                at = NULL; /* a bad escape */
                break;
            } else
                tok[t++] = ptr[i++];
        }
        if (!at)
            break;
        if (json_is_object (at))
            at = json_object_getn (at, tok, t);
        else if (json_is_array (at)) {
            /*  Decimal without leading zeros, within the array. */
            size_t idx = 0;
            int ok = t > 0 && (t == 1 || tok[0] != '0');
            for (size_t k = 0; ok && k < t; k++) {
                if (tok[k] < '0' || tok[k] > '9' || idx > SIZE_MAX / 16)
                    ok = 0;
                else
                    idx = idx * 10 + (size_t)(tok[k] - '0');
            }
            at = ok ? json_array_get (at, idx) : NULL;
        } else
            at = NULL;
    }
    free (tok);
    return at;
}

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

/*  Grow *v (of *cap elements of size) to hold n + 1. */
static int
s_reserve (void **v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 8;
    void *nv = realloc (*v, c * size);
    if (!nv)
        return -1;
    *v = nv;
    *cap = c;
    return 0;
}

static s_node_t *
s_node_new (s_cc_t *cc, const json_t *j)
{
    ef_schema_t *self = cc->self;
    if (s_reserve ((void **)&self->nodes, &self->capnodes, self->nnodes,
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

static int
s_add_id (s_cc_t *cc, char *uri, const json_t *j)
{
    for (size_t i = 0; i < cc->nids; i++)
        if (strcmp (cc->ids[i].uri, uri) == 0) {
            free (uri); /* the first one met names it */
            return 0;
        }
    if (s_reserve ((void **)&cc->ids, &cc->capids, cc->nids, sizeof *cc->ids)) {
        free (uri);
        return -1;
    }
    cc->ids[cc->nids].uri = uri;
    cc->ids[cc->nids].json = j;
    cc->nids++;
    return 0;
}

static const s_id_t *
s_find_id (const s_cc_t *cc, const char *uri, size_t n)
{
    for (size_t i = 0; i < cc->nids; i++)
        if (strlen (cc->ids[i].uri) == n &&
            memcmp (cc->ids[i].uri, uri, n) == 0)
            return &cc->ids[i];
    return NULL;
}

static s_node_t *s_compile (s_cc_t *cc, const json_t *j, const char *base,
                            int depth);
static int s_compile_keywords (s_cc_t *cc, const json_t *j, s_node_t *n,
                               const char *base, int depth);

/*  The URI an $id names, resolved against base, without an empty
    fragment ("x#" names x). NULL when out of memory. */
static char *
s_id_uri (const char *base, const char *id)
{
    char *uri = s_uri_resolve (base, id);
    char *hash = uri ? strchr (uri, '#') : NULL;
    if (hash && hash[1] == '\0')
        *hash = '\0';
    return uri;
}

/*  Keywords whose value is a schema, an array of schemas, or an object
    whose member values are schemas. Only these are looked into for $id:
    an $id inside an unknown keyword or an enum is just data. */
static const char *const s_kw_schema[] = {"additionalItems",
                                          "additionalProperties",
                                          "contains",
                                          "if",
                                          "then",
                                          "else",
                                          "not",
                                          "propertyNames",
                                          "items"};
static const char *const s_kw_array[] = {"allOf", "anyOf", "oneOf", "items"};
static const char *const s_kw_map[] = {"properties", "patternProperties",
                                       "definitions", "dependencies"};

/*  Note every $id of the document under j (met where the base is base)
    before anything is compiled, so that a $ref can name a part that is
    compiled later or only reachable through the $ref itself. The $id of
    a schema with a $ref is ignored (draft-07), but its other keywords are
    still looked into, as other implementations do. -1 when out of
    memory. */
static int
s_collect_ids (s_cc_t *cc, const json_t *j, const char *base, int depth)
{
    if (!json_is_object (j) || depth > EF_SCHEMA_MAX_DEPTH)
        return 0; /* s_compile reports what is wrong with it */
    char *own = NULL;
    const json_t *id = json_object_get (j, "$id");
    if (json_is_string (id) && !json_object_get (j, "$ref")) {
        char *uri = s_id_uri (base, json_string_value (id));
        if (!uri)
            return -1;
        if (!strchr (uri, '#') && !(base = own = strdup (uri))) {
            free (uri);
            return -1;
        }
        if (s_add_id (cc, uri, j)) {
            free (own);
            return -1;
        }
    }
    int rc = 0;
    for (size_t k = 0; !rc && k < sizeof s_kw_schema / sizeof *s_kw_schema; k++)
        rc = s_collect_ids (cc, json_object_get (j, s_kw_schema[k]), base,
                            depth + 1);
    for (size_t k = 0; !rc && k < sizeof s_kw_array / sizeof *s_kw_array; k++) {
        const json_t *a = json_object_get (j, s_kw_array[k]);
        for (size_t i = 0; !rc && json_is_array (a) && i < json_array_size (a);
             i++)
            rc = s_collect_ids (cc, json_array_get (a, i), base, depth + 1);
    }
    for (size_t k = 0; !rc && k < sizeof s_kw_map / sizeof *s_kw_map; k++) {
        const json_t *m = json_object_get (j, s_kw_map[k]);
        const char *key;
        json_t *v;
        if (!json_is_object (m))
            continue;
        json_object_foreach ((json_t *)m, key, v)
        {
            if ((rc = s_collect_ids (cc, v, base, depth + 1)) != 0)
                break;
        }
    }
    free (own);
    return rc;
}

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
        if (s_reserve ((void **)&cc->pend, &cc->cappend, cc->npend,
                       sizeof *cc->pend))
            return s_nomem (cc);
        char *uri = s_uri_resolve (base, json_string_value (v));
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
        walk, by s_collect_ids). */
    char *own = NULL;
    if ((v = json_object_get (j, "$id"))) {
        if (!json_is_string (v)) {
            size_t old = sc_path_push_key (&cc->path, "$id", 3);
            s_fail (cc, EF_EINVAL, "must be a string");
            sc_path_pop (&cc->path, old);
            return NULL;
        }
        if (!(own = s_id_uri (base, json_string_value (v))))
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
static int
s_load_meta (s_cc_t *cc)
{
    ef_schema_t *self = cc->self;
    json_error_t jerr;
    self->docs[1] = json_loads (s_meta_text, 0, &jerr);
    if (!self->docs[1]) {
        s_nomem (cc); /* the text is ours and valid: only memory can fail */
        return -1;
    }
    s_path_t saved = cc->path;
    cc->path.len = 0;
    if (s_collect_ids (cc, self->docs[1], "", 0)) {
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
        const s_id_t *doc = s_find_id (cc, uri, docn);
        if (!doc && docn == strlen (S_META_URI) &&
            memcmp (uri, S_META_URI, docn) == 0 && !cc->self->docs[1]) {
            if (s_load_meta (cc))
                return -1;
            doc = s_find_id (cc, uri, docn);
        }
        char *frag = strdup (hash ? hash + 1 : "");
        char *base = strndup (uri, docn);
        if (!frag || !base) {
            free (frag);
            free (base);
            s_nomem (cc);
            return -1;
        }
        size_t fragn = s_percent_decode (frag, strlen (frag));
        const json_t *target = NULL;
        int nomem = 0;
        if (fragn > 0 && frag[0] != '/') {
            /*  A plain name, defined by an $id "#name". */
            const s_id_t *named = s_find_id (cc, uri, strlen (uri));
            target = named ? named->json : NULL;
        } else if (doc)
            target = s_pointer_get (doc->json, frag, fragn, &base, &nomem);
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
        if (!root_uri || s_add_id (&cc, root_uri, self->docs[0]))
            s_nomem (&cc);
    }
    if (!cc.err && s_collect_ids (&cc, self->docs[0], "", 0))
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
