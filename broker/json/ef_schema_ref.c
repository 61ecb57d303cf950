/*  ef_schema_ref.c: what the JSON Schema compiler (ef_schema.c) needs to
    resolve references: URIs (RFC 3986 parsing and resolution,
    percent-decoding), JSON Pointer lookup with the base URI it passes
    through, the table of the document's $ids noted before the walk, and
    the built-in draft-07 meta-schema. It never compiles: resolving a
    $ref into a node is the compiler's. Declared in ef_schema_int.h with
    the sr_ prefix. */
#define _GNU_SOURCE /* strndup */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ef_schema_int.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_uuid.h"

/*  The built-in meta-schema's URI (without the empty fragment). */
#define S_META_URI "http://json-schema.org/draft-07/schema"

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

int
sr_is_meta (const char *uri, size_t n)
{
    return n == strlen (S_META_URI) && memcmp (uri, S_META_URI, n) == 0;
}

json_t *
sr_meta_document (void)
{
    json_error_t jerr;
    return json_loads (s_meta_text, 0, &jerr);
}

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
char *
sr_uri_resolve (const char *base, const char *ref)
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

/*  Percent-decode s[0..n) in place; returns the new length. */
size_t
sr_percent_decode (char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = ef_hex_value (s[i + 1])) >= 0 &&
            (lo = ef_hex_value (s[i + 2])) >= 0) {
            s[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else
            s[o++] = s[i];
    }
    return o;
}

/*  The URI an $id names, resolved against base, without an empty
    fragment ("x#" names x). NULL when out of memory. */
char *
sr_id_uri (const char *base, const char *id)
{
    char *uri = sr_uri_resolve (base, id);
    char *hash = uri ? strchr (uri, '#') : NULL;
    if (hash && hash[1] == '\0')
        *hash = '\0';
    return uri;
}

/*  Follow JSON Pointer ptr[0..n) (decoded, starting with "/" or empty)
    from doc. NULL when it leads nowhere. *base (malloc, the base URI at
    doc) follows the $ids of the objects passed through on the way (not
    doc's own, nor the target's); *nomem is set when memory ran out. */
const json_t *
sr_pointer_get (const json_t *doc, const char *ptr, size_t n, char **base,
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
            char *uri = sr_id_uri (*base, json_string_value (id));
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


int
sr_add_id (s_cc_t *cc, char *uri, const json_t *j)
{
    for (size_t i = 0; i < cc->nids; i++)
        if (strcmp (cc->ids[i].uri, uri) == 0) {
            free (uri); /* the first one met names it */
            return 0;
        }
    if (sj_reserve ((void **)&cc->ids, &cc->capids, cc->nids,
                    sizeof *cc->ids)) {
        free (uri);
        return -1;
    }
    cc->ids[cc->nids].uri = uri;
    cc->ids[cc->nids].json = j;
    cc->nids++;
    return 0;
}

const s_id_t *
sr_find_id (const s_cc_t *cc, const char *uri, size_t n)
{
    for (size_t i = 0; i < cc->nids; i++)
        if (strlen (cc->ids[i].uri) == n &&
            memcmp (cc->ids[i].uri, uri, n) == 0)
            return &cc->ids[i];
    return NULL;
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
int
sr_collect_ids (s_cc_t *cc, const json_t *j, const char *base, int depth)
{
    if (!json_is_object (j) || depth > EF_SCHEMA_MAX_DEPTH)
        return 0; /* compiling reports what is wrong with it */
    char *own = NULL;
    const json_t *id = json_object_get (j, "$id");
    if (json_is_string (id) && !json_object_get (j, "$ref")) {
        char *uri = sr_id_uri (base, json_string_value (id));
        if (!uri)
            return -1;
        if (!strchr (uri, '#') && !(base = own = strdup (uri))) {
            free (uri);
            return -1;
        }
        if (sr_add_id (cc, uri, j)) {
            free (own);
            return -1;
        }
    }
    int rc = 0;
    for (size_t k = 0; !rc && k < sizeof s_kw_schema / sizeof *s_kw_schema; k++)
        rc = sr_collect_ids (cc, json_object_get (j, s_kw_schema[k]), base,
                             depth + 1);
    for (size_t k = 0; !rc && k < sizeof s_kw_array / sizeof *s_kw_array; k++) {
        const json_t *a = json_object_get (j, s_kw_array[k]);
        for (size_t i = 0; !rc && json_is_array (a) && i < json_array_size (a);
             i++)
            rc = sr_collect_ids (cc, json_array_get (a, i), base, depth + 1);
    }
    for (size_t k = 0; !rc && k < sizeof s_kw_map / sizeof *s_kw_map; k++) {
        const json_t *m = json_object_get (j, s_kw_map[k]);
        const char *key;
        json_t *v;
        if (!json_is_object (m))
            continue;
        json_object_foreach ((json_t *)m, key, v)
        {
            if ((rc = sr_collect_ids (cc, v, base, depth + 1)) != 0)
                break;
        }
    }
    free (own);
    return rc;
}
