/*  ef_patch.c: JSON Patch (RFC 6902) and JSON Pointer (RFC 6901), see
    ef_patch.h. Compiling parses the patch with jansson, checks every
    operation and decodes each pointer once into its reference tokens, so
    that applying never looks at pointer syntax again. Applying deep-copies
    the document (or parses it, which yields a private copy too), runs the
    operations in place on that copy and throws it away on the first
    failure, which makes the whole patch atomic. Values held by the patch
    are only ever read (deep-copied into the document, or compared), so
    one patch can be applied by many threads at once. */
#include "ef_patch.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eventflow/ef_error.h"

typedef enum { S_ADD, S_REMOVE, S_REPLACE, S_MOVE, S_COPY, S_TEST } s_kind_t;

static const char *const s_kind_names[] = {"add",  "remove", "replace",
                                           "move", "copy",   "test"};

/*  One reference token, decoded (~1 and ~0 undone). It never holds U+0000
    (refused at compile, as jansson refuses it in member names), so s[len]
    is its only NUL and s can go to jansson's NUL-terminated member calls,
    which unlike the *n variants exist in 2.11, the project's minimum. */
typedef struct {
    const char *s;
    size_t len;
} s_token_t;

/*  A decoded JSON Pointer. text is the pointer as written, for messages;
    the tokens point into buf. */
typedef struct {
    char *text;
    char *buf;
    s_token_t *tok;
    size_t ntok;
} s_ptr_t;

typedef struct {
    s_kind_t kind;
    s_ptr_t path;
    s_ptr_t from;  /* move and copy only */
    json_t *value; /* add, replace and test only; never modified */
    size_t depth;  /* nesting of value */
    size_t size;   /* bytes of value as compact text */
} s_op_t;

struct ef_patch {
    s_op_t *ops;
    size_t nops;
};

/* ---------------------------------------------------------------- helpers */

static size_t s_size (const json_t *v, size_t cap);

static void
s_say (char *why, size_t why_len, const char *fmt, ...)
{
    if (!why || why_len == 0)
        return;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (why, why_len, fmt, ap);
    va_end (ap);
}

/*  Nesting of v: 0 for a scalar, 1 + the deepest member for an array or
    object. Stops counting past cap, so the recursion is never deeper than
    cap + 1 whatever v holds. */
static size_t
s_depth (const json_t *v, size_t cap)
{
    size_t max = 0;
    if (cap == 0)
        return json_is_array (v) || json_is_object (v) ? 1 : 0;
    if (json_is_array (v)) {
        for (size_t i = 0; i < json_array_size (v) && max < cap; i++) {
            size_t d = s_depth (json_array_get (v, i), cap - 1);
            if (d > max)
                max = d;
        }
        return max + 1;
    }
    if (json_is_object (v)) {
        const char *key;
        json_t *m;
        /*  json_object_foreach wants a non-const object; it only reads. */
        json_object_foreach ((json_t *)v, key, m)
        {
            size_t d = s_depth (m, cap - 1);
            if (d > max)
                max = d;
            if (max >= cap)
                break;
        }
        return max + 1;
    }
    return 0;
}

/*  RFC 6902 section 4.6: the real value of an integer and a real compared
    exactly. A real outside the range of json_int_t, or with a fraction,
    equals no integer. */
static int
s_int_equals_real (json_int_t i, double r)
{
    /*  -2^63 and 2^63 are exact doubles; the cast is defined in between. */
    if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0))
        return 0;
    if (r != (double)(json_int_t)r)
        return 0;
    return (json_int_t)r == i;
}

/*  Deep equality as RFC 6902 section 4.6 defines it. Recursion is bounded
    by the depth of the values, which the callers keep within
    EF_PATCH_MAX_DEPTH. */
static int
s_equal (const json_t *a, const json_t *b)
{
    if (json_is_number (a) && json_is_number (b)) {
        if (json_is_integer (a) && json_is_integer (b))
            return json_integer_value (a) == json_integer_value (b);
        if (json_is_real (a) && json_is_real (b))
            return json_real_value (a) == json_real_value (b);
        if (json_is_integer (a))
            return s_int_equals_real (json_integer_value (a),
                                      json_real_value (b));
        return s_int_equals_real (json_integer_value (b), json_real_value (a));
    }
    if (json_typeof (a) != json_typeof (b))
        return 0;
    switch (json_typeof (a)) {
    case JSON_STRING:
        return json_string_length (a) == json_string_length (b) &&
               memcmp (json_string_value (a), json_string_value (b),
                       json_string_length (a)) == 0;
    case JSON_ARRAY:
        if (json_array_size (a) != json_array_size (b))
            return 0;
        for (size_t i = 0; i < json_array_size (a); i++)
            if (!s_equal (json_array_get (a, i), json_array_get (b, i)))
                return 0;
        return 1;
    case JSON_OBJECT: {
        if (json_object_size (a) != json_object_size (b))
            return 0;
        const char *key;
        json_t *m;
        json_object_foreach ((json_t *)a, key, m)
        {
            /*  Member names never hold U+0000 in jansson, so key is the
                whole name. */
            json_t *n = json_object_get (b, key);
            if (!n || !s_equal (m, n))
                return 0;
        }
        return 1;
    }
    default: /* true, false, null */
        return 1;
    }
}

/* ---------------------------------------------------------------- compile */

/*  Decode pointer text (len bytes) into p. Returns 0, EF_EINVAL with a
    reason, or EF_ENOMEM. */
static int
s_ptr_parse (s_ptr_t *p, const char *text, size_t len, const char *what,
             size_t opi, char *why, size_t why_len)
{
    memset (p, 0, sizeof *p);
    if (len > 0 && text[0] != '/') {
        s_say (why, why_len,
               "patch[%zu]: \"%s\" is not a JSON Pointer (must be \"\" or "
               "start with \"/\")",
               opi, what);
        return EF_EINVAL;
    }
    if (memchr (text, '\0', len)) {
        s_say (why, why_len, "patch[%zu]: \"%s\" contains U+0000", opi, what);
        return EF_EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '/')
            p->ntok++;
        else if (text[i] == '~' &&
                 (i + 1 == len || (text[i + 1] != '0' && text[i + 1] != '1'))) {
            s_say (why, why_len,
                   "patch[%zu]: \"%s\" has a \"~\" not followed by 0 or 1", opi,
                   what);
            return EF_EINVAL;
        }
    }
    p->text = malloc (len + 1);
    /*  Each token loses its "/" and gains a NUL: len + 1 bytes suffice. */
    p->buf = malloc (len + 1);
    p->tok = malloc ((p->ntok ? p->ntok : 1) * sizeof *p->tok);
    if (!p->text || !p->buf || !p->tok) {
        s_say (why, why_len, "out of memory");
        return EF_ENOMEM;
    }
    memcpy (p->text, text, len);
    p->text[len] = '\0';

    /*  One pass left to right undoes "~1" and "~0" as RFC 6901 section 4
        orders: "~01" becomes "~1", never "/". */
    char *w = p->buf;
    size_t t = 0;
    for (size_t i = 0; i < len;) {
        assert (text[i] == '/');
        i++;
        p->tok[t].s = w;
        while (i < len && text[i] != '/') {
            if (text[i] == '~') {
                *w++ = text[i + 1] == '0' ? '~' : '/';
                i += 2;
            } else
                *w++ = text[i++];
        }
        p->tok[t].len = (size_t)(w - p->tok[t].s);
        *w++ = '\0';
        t++;
    }
    return 0;
}

static void
s_ptr_free (s_ptr_t *p)
{
    free (p->text);
    free (p->buf);
    free (p->tok);
}

/*  The string member name of o as (s, len), or EF_EINVAL with a reason. */
static int
s_string_member (json_t *o, const char *name, size_t opi, const char **s,
                 size_t *len, char *why, size_t why_len)
{
    json_t *v = json_object_get (o, name);
    if (!v) {
        s_say (why, why_len, "patch[%zu]: \"%s\" is missing", opi, name);
        return EF_EINVAL;
    }
    if (!json_is_string (v)) {
        s_say (why, why_len, "patch[%zu]: \"%s\" is not a string", opi, name);
        return EF_EINVAL;
    }
    *s = json_string_value (v);
    *len = json_string_length (v);
    return 0;
}

static int
s_op_compile (s_op_t *op, json_t *o, size_t opi, char *why, size_t why_len)
{
    if (!json_is_object (o)) {
        s_say (why, why_len, "patch[%zu]: an operation must be an object", opi);
        return EF_EINVAL;
    }
    const char *s;
    size_t len;
    int rc = s_string_member (o, "op", opi, &s, &len, why, why_len);
    if (rc)
        return rc;
    size_t k;
    for (k = 0; k < sizeof s_kind_names / sizeof s_kind_names[0]; k++)
        if (len == strlen (s_kind_names[k]) &&
            memcmp (s, s_kind_names[k], len) == 0)
            break;
    if (k == sizeof s_kind_names / sizeof s_kind_names[0]) {
        s_say (why, why_len, "patch[%zu]: unknown op \"%.*s\"", opi,
               (int)(len > 32 ? 32 : len), s);
        return EF_EINVAL;
    }
    op->kind = (s_kind_t)k;

    rc = s_string_member (o, "path", opi, &s, &len, why, why_len);
    if (rc == 0)
        rc = s_ptr_parse (&op->path, s, len, "path", opi, why, why_len);
    if (rc)
        return rc;

    if (op->kind == S_MOVE || op->kind == S_COPY) {
        rc = s_string_member (o, "from", opi, &s, &len, why, why_len);
        if (rc == 0)
            rc = s_ptr_parse (&op->from, s, len, "from", opi, why, why_len);
        if (rc)
            return rc;
    }
    if (op->kind == S_ADD || op->kind == S_REPLACE || op->kind == S_TEST) {
        json_t *v = json_object_get (o, "value");
        if (!v) {
            s_say (why, why_len, "patch[%zu]: \"value\" is missing", opi);
            return EF_EINVAL;
        }
        /*  The patch keeps its own reference; nothing ever modifies it. */
        op->value = json_incref (v);
        op->depth = s_depth (v, EF_PATCH_MAX_DEPTH);
        op->size = s_size (v, SIZE_MAX);
    }
    return 0;
}

ef_patch_t *
ef_patch_compile (const char *text, size_t len, int *err, char *why,
                  size_t why_len)
{
    assert (text || len == 0);
    int rc = 0;
    ef_patch_t *self = NULL;
    json_t *root = NULL;
    s_say (why, why_len, "");

    json_error_t jerr;
    root = json_loadb (
        text ? text : "", len,
        JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!root) {
        rc = json_error_code (&jerr) == json_error_out_of_memory ? EF_ENOMEM
                                                                 : EF_EINVAL;
        s_say (why, why_len, "patch is not JSON: %s (line %d, column %d)",
               jerr.text, jerr.line, jerr.column);
        goto done;
    }
    if (!json_is_array (root)) {
        rc = EF_EINVAL;
        s_say (why, why_len, "patch is not a JSON array");
        goto done;
    }
    size_t n = json_array_size (root);
    if (n > EF_PATCH_MAX_OPS) {
        rc = EF_EINVAL;
        s_say (why, why_len, "patch has %zu operations, more than %d", n,
               EF_PATCH_MAX_OPS);
        goto done;
    }
    self = calloc (1, sizeof *self);
    if (self)
        self->ops = calloc (n ? n : 1, sizeof *self->ops);
    if (!self || !self->ops) {
        rc = EF_ENOMEM;
        s_say (why, why_len, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        /*  Counted before compiling, so that destroy frees what a failed
            op allocated. */
        self->nops = i + 1;
        rc = s_op_compile (&self->ops[i], json_array_get (root, i), i, why,
                           why_len);
    }
done:
    json_decref (root);
    if (rc)
        ef_patch_destroy (&self);
    if (err)
        *err = rc;
    return self;
}

void
ef_patch_destroy (ef_patch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_patch_t *self = *self_p;
    for (size_t i = 0; i < self->nops; i++) {
        s_ptr_free (&self->ops[i].path);
        s_ptr_free (&self->ops[i].from);
        json_decref (self->ops[i].value);
    }
    free (self->ops);
    free (self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- apply */

/*  What the operation being applied reports failures with. */
typedef struct {
    const s_op_t *op;
    size_t opi;
    char *why;
    size_t why_len;
    size_t max;   /* the most the document may take as compact text */
    size_t *size; /* what it takes now (kept only when max is bounded) */
    size_t *work; /* bytes copied, measured and compared so far */
} s_ctx_t;

static int
s_fail (const s_ctx_t *c, int rc, const s_ptr_t *p, const char *fmt, ...)
{
    if (!c->why || c->why_len == 0)
        return rc;
    char detail[256];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (detail, sizeof detail, fmt, ap);
    va_end (ap);
    s_say (c->why, c->why_len, "patch[%zu] %s %s \"%.200s\": %s", c->opi,
           s_kind_names[c->op->kind], p == &c->op->from ? "from" : "at",
           p->text, detail);
    return rc;
}

/*  Where a pointer leads: its parent container and the slot in it. */
typedef struct {
    json_t *parent;       /* NULL when the pointer is "" (the root) */
    const s_token_t *key; /* the last token, for an object parent */
    size_t index;         /* for an array parent; == size when appending */
    json_t *value;        /* what is there now; NULL when nothing is */
} s_slot_t;

/*  The array index a token spells (RFC 6901 section 4: "0" or digits
    without a leading zero). Returns 1 and sets *i (SIZE_MAX when too big
    for size_t, which no array reaches), or 0 when t is not an index. */
static int
s_index (const s_token_t *t, size_t *i)
{
    if (t->len == 0 || (t->len > 1 && t->s[0] == '0'))
        return 0;
    size_t v = 0;
    for (size_t k = 0; k < t->len; k++) {
        if (t->s[k] < '0' || t->s[k] > '9')
            return 0;
        unsigned d = (unsigned)(t->s[k] - '0');
        v = v > (SIZE_MAX - d) / 10 ? SIZE_MAX : v * 10 + d;
    }
    *i = v;
    return 1;
}

/*  Report that slot s (whose parent exists) holds nothing. */
static int
s_missing (const s_ctx_t *c, const s_ptr_t *p, const s_slot_t *s)
{
    if (json_is_object (s->parent))
        return s_fail (c, EF_ECONFLICT, p, "member \"%.64s\" does not exist",
                       s->key->s);
    if (s->key->len == 1 && s->key->s[0] == '-')
        return s_fail (c, EF_ECONFLICT, p, "\"-\" names no existing element");
    return s_fail (c, EF_ECONFLICT, p,
                   "array index %zu is out of range (size %zu)", s->index,
                   json_array_size (s->parent));
}

/*  Find where p leads in root. Every container on the way must exist; the
    last token may name nothing yet (s->value NULL), but must be a valid
    member name or an index (or "-", meaning one past the end) no greater
    than the array's size. Returns 0 or EF_ECONFLICT with a reason. */
static int
s_resolve (const s_ctx_t *c, json_t *root, const s_ptr_t *p, s_slot_t *s)
{
    memset (s, 0, sizeof *s);
    s->value = root;
    for (size_t t = 0; t < p->ntok; t++) {
        const s_token_t *tok = &p->tok[t];
        json_t *cur = s->value;
        if (!cur)
            return s_missing (c, p, s);
        s->parent = cur;
        s->key = tok;
        if (json_is_object (cur))
            s->value = json_object_get (cur, tok->s);
        else if (json_is_array (cur)) {
            size_t size = json_array_size (cur);
            if (tok->len == 1 && tok->s[0] == '-')
                s->index = size;
            else if (!s_index (tok, &s->index))
                return s_fail (c, EF_ECONFLICT, p,
                               "\"%.64s\" is not an array index", tok->s);
            else if (s->index > size)
                return s_fail (c, EF_ECONFLICT, p,
                               "array index %.64s is out of range (size %zu)",
                               tok->s, size);
            s->value = s->index < size ? json_array_get (cur, s->index) : NULL;
        } else
            return s_fail (c, EF_ECONFLICT, p,
                           "cannot look up \"%.64s\" in a %s", tok->s,
                           json_is_string (cur)   ? "string"
                           : json_is_number (cur) ? "number"
                                                  : "literal");
    }
    return 0;
}

/*  Like s_resolve, but the location must hold a value. */
static int
s_resolve_existing (const s_ctx_t *c, json_t *root, const s_ptr_t *p,
                    s_slot_t *s)
{
    int rc = s_resolve (c, root, p, s);
    if (rc || s->value)
        return rc;
    return s_missing (c, p, s);
}

/*  Refuse a value of nesting depth at p when the result would nest deeper
    than jansson parses (see ef_patch.h). */
static int
s_check_depth (const s_ctx_t *c, const s_ptr_t *p, size_t depth)
{
    if (p->ntok + depth <= EF_PATCH_MAX_DEPTH)
        return 0;
    return s_fail (c, EF_ETOOBIG, p, "the result would nest deeper than %d",
                   EF_PATCH_MAX_DEPTH);
}

/* ---------------------------------------------------------------- size */

/*  The document's size is kept as the exact length of its compact text,
    as the broker writes it (json_dumps with JSON_COMPACT | JSON_ENCODE_ANY
    | JSON_REAL_PRECISION (17)), and updated by every operation before the
    value it adds is made: so a patch that would grow a document past its
    bound fails without ever building the large document. */

/*  The bytes of string s (len bytes) as jansson writes it: quotes; " \
    and \b \f \n \r \t as two-byte escapes; other controls as \u00XX. */
static size_t
s_string_size (const char *s, size_t len)
{
    size_t n = len + 2;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\' || ch == '\b' || ch == '\f' || ch == '\n' ||
            ch == '\r' || ch == '\t')
            n += 1;
        else if (ch < 0x20)
            n += 5;
    }
    return n;
}

/*  The bytes of a real as jansson writes it with 17 digits: "%.17g", with
    ".0" added when that has neither "." nor "e", and the exponent's "+"
    and leading zeros dropped. */
static size_t
s_real_size (double r)
{
    char b[64];
    int n = snprintf (b, sizeof b, "%.17g", r);
    if (n <= 0 || (size_t)n >= sizeof b)
        return 32;
    const char *e = strchr (b, 'e');
    if (!e)
        return (size_t)n + (strchr (b, '.') ? 0 : 2);
    const char *d = e + 1;
    size_t drop = 0;
    if (*d == '+')
        d++, drop++;
    else if (*d == '-')
        d++;
    while (*d == '0' && d[1])
        d++, drop++;
    return (size_t)n - drop;
}

/*  Add to *n the bytes of v as compact JSON text; stops once *n passes
    cap, so a large value costs no more than cap to measure. Recursion is
    bounded by the nesting of v, which callers keep within
    EF_PATCH_MAX_DEPTH. */
static void
s_size_add (const json_t *v, size_t cap, size_t *n)
{
    char b[32];
    switch (json_typeof (v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *m;
        size_t i = 0;
        *n += 2;
        json_object_foreach ((json_t *)v, key, m)
        {
            if (*n > cap)
                return;
            *n += s_string_size (key, strlen (key)) + 1 + (i++ ? 1 : 0);
            s_size_add (m, cap, n);
        }
        return;
    }
    case JSON_ARRAY:
        *n += 2;
        for (size_t i = 0; i < json_array_size (v) && *n <= cap; i++) {
            *n += i ? 1 : 0;
            s_size_add (json_array_get (v, i), cap, n);
        }
        return;
    case JSON_STRING:
        *n += s_string_size (json_string_value (v), json_string_length (v));
        return;
    case JSON_INTEGER:
        *n += (size_t)snprintf (b, sizeof b, "%" JSON_INTEGER_FORMAT,
                                json_integer_value (v));
        return;
    case JSON_REAL:
        *n += s_real_size (json_real_value (v));
        return;
    case JSON_FALSE:
        *n += 5;
        return;
    default: /* true, null */
        *n += 4;
        return;
    }
}

/*  The bytes of v as compact text, or more than cap when that is more. */
static size_t
s_size (const json_t *v, size_t cap)
{
    size_t n = 0;
    s_size_add (v, cap, &n);
    return n;
}

static size_t
s_members (const json_t *v)
{
    return json_is_object (v) ? json_object_size (v) : json_array_size (v);
}

/*  The bytes a member of vsize bytes takes at slot s when its container
    holds others besides it: its name and colon in an object, and one
    comma. */
static size_t
s_member_size (const s_slot_t *s, size_t vsize, size_t others)
{
    return vsize + (others ? 1 : 0) +
           (json_is_object (s->parent)
                ? s_string_size (s->key->s, s->key->len) + 1
                : 0);
}

/*  The document once a value of vsize bytes is at slot s, in place of
    what is there when replace is set, else beside it: refused with
    EF_ETOOBIG over c->max, else its size recorded. */
static int
s_grow (const s_ctx_t *c, const s_ptr_t *p, const s_slot_t *s, size_t vsize,
        int replace)
{
    if (c->max == SIZE_MAX)
        return 0;
    size_t size = *c->size;
    if (!s->parent)
        size = vsize;
    else if (replace && s->value) {
        size_t old = s_size (s->value, c->max);
        size = (old < size ? size - old : 0) + vsize;
    } else
        size += s_member_size (s, vsize, s_members (s->parent));
    if (vsize > c->max || size > c->max)
        return s_fail (c, EF_ETOOBIG, p, "the result would exceed %zu bytes",
                       c->max);
    *c->size = size;
    return 0;
}

/*  The document without the value at slot s (about to be detached). */
static void
s_shrink (const s_ctx_t *c, const s_slot_t *s, size_t vsize)
{
    if (c->max == SIZE_MAX)
        return;
    size_t gone = s_member_size (s, vsize, s_members (s->parent) - 1);
    *c->size = gone < *c->size ? *c->size - gone : 0;
}

/*  The size of the value at slot s, when sizes are kept (else 0). */
static size_t
s_value_size (const s_ctx_t *c, const json_t *v)
{
    return c->max == SIZE_MAX ? 0 : s_size (v, c->max);
}

/*  Count bytes of work (values copied, measured or compared) against the
    patch's budget, EF_PATCH_WORK_FACTOR × max: EF_ETOOBIG once it is
    spent. The document stays within max, but an operation may copy all
    of it: without the budget, copying the root aside and removing it
    again, over and over, costs the operations times max. */
static int
s_spend (const s_ctx_t *c, const s_ptr_t *p, size_t bytes)
{
    if (c->max == SIZE_MAX)
        return 0;
    size_t budget = c->max > SIZE_MAX / EF_PATCH_WORK_FACTOR
                        ? SIZE_MAX
                        : c->max * EF_PATCH_WORK_FACTOR;
    if (bytes > budget - *c->work)
        return s_fail (c, EF_ETOOBIG, p,
                       "the patch would copy or compare more than %zu bytes "
                       "(%d times the most a document may take)",
                       budget, EF_PATCH_WORK_FACTOR);
    *c->work += bytes;
    return 0;
}

/* ---------------------------------------------------------------- operations */

/*  RFC 6902 section 4.1, first half: find where a value of nesting depth
    and vsize bytes goes at p (replacing the root, inserting into an array
    or setting an object member), and check that it may. */
static int
s_place (const s_ctx_t *c, json_t *root, const s_ptr_t *p, size_t depth,
         size_t vsize, s_slot_t *s)
{
    int rc = s_resolve (c, root, p, s);
    if (rc == 0)
        rc = s_check_depth (c, p, depth);
    if (rc == 0) /* an array insert shifts; an object member is replaced */
        rc = s_grow (c, p, s, vsize, s->parent && json_is_object (s->parent));
    return rc;
}

/*  Second half: put value (a reference we own, always consumed) at s. */
static int
s_put (const s_ctx_t *c, json_t **root, const s_ptr_t *p, const s_slot_t *s,
       json_t *value)
{
    int rc;
    if (!s->parent) {
        json_decref (*root);
        *root = value;
        return 0;
    }
    if (json_is_object (s->parent))
        rc = json_object_set_new_nocheck (s->parent, s->key->s, value);
    else
        rc = json_array_insert_new (s->parent, s->index, value);
    return rc ? s_fail (c, EF_ENOMEM, p, "out of memory") : 0;
}

/*  Take the value at slot s out of the document. s->parent is not NULL. */
static void
s_detach (const s_slot_t *s)
{
    if (json_is_object (s->parent))
        json_object_del (s->parent, s->key->s);
    else
        json_array_remove (s->parent, s->index);
}

/*  1 when the first n tokens of a and b are the same. */
static int
s_same_tokens (const s_ptr_t *a, const s_ptr_t *b, size_t n)
{
    for (size_t t = 0; t < n; t++)
        if (a->tok[t].len != b->tok[t].len ||
            memcmp (a->tok[t].s, b->tok[t].s, a->tok[t].len) != 0)
            return 0;
    return 1;
}

/*  1 when a is a proper prefix of b, token by token. */
static int
s_proper_prefix (const s_ptr_t *a, const s_ptr_t *b)
{
    return a->ntok < b->ntok && s_same_tokens (a, b, a->ntok);
}

static int
s_ptr_equal (const s_ptr_t *a, const s_ptr_t *b)
{
    return a->ntok == b->ntok && s_same_tokens (a, b, a->ntok);
}

static int
s_apply_op (const s_ctx_t *c, json_t **root)
{
    const s_op_t *op = c->op;
    s_slot_t s, to;
    json_t *v;
    size_t vsize;
    int rc;
    switch (op->kind) {
    case S_ADD:
        if ((rc = s_spend (c, &op->path, op->size)) ||
            (rc = s_place (c, *root, &op->path, op->depth, op->size, &to)))
            return rc;
        if (!(v = json_deep_copy (op->value)))
            return s_fail (c, EF_ENOMEM, &op->path, "out of memory");
        return s_put (c, root, &op->path, &to, v);

    case S_REMOVE:
        if ((rc = s_resolve_existing (c, *root, &op->path, &s)))
            return rc;
        if (!s.parent)
            return s_fail (c, EF_ECONFLICT, &op->path,
                           "cannot remove the whole document");
        vsize = s_value_size (c, s.value);
        if ((rc = s_spend (c, &op->path, vsize)))
            return rc;
        s_shrink (c, &s, vsize);
        s_detach (&s);
        return 0;

    case S_REPLACE:
        if ((rc = s_resolve_existing (c, *root, &op->path, &s)) ||
            (rc = s_check_depth (c, &op->path, op->depth)) ||
            (rc = s_spend (c, &op->path,
                           s_value_size (c, s.value) + op->size)) ||
            (rc = s_grow (c, &op->path, &s, op->size, 1)))
            return rc;
        if (!(v = json_deep_copy (op->value)))
            return s_fail (c, EF_ENOMEM, &op->path, "out of memory");
        if (!s.parent) {
            json_decref (*root);
            *root = v;
            return 0;
        }
        if (json_is_object (s.parent))
            rc = json_object_set_new_nocheck (s.parent, s.key->s, v);
        else
            rc = json_array_set_new (s.parent, s.index, v);
        return rc ? s_fail (c, EF_ENOMEM, &op->path, "out of memory") : 0;

    case S_MOVE:
        if ((rc = s_resolve_existing (c, *root, &op->from, &s)))
            return rc;
        if (s_proper_prefix (&op->from, &op->path))
            return s_fail (c, EF_ECONFLICT, &op->from,
                           "cannot move a value into one of its children");
        if (s_ptr_equal (&op->from, &op->path))
            return 0; /* removing and adding back would change nothing */
        /*  RFC 6902 section 4.4: a remove at from, then an add at path
            evaluated on the document without the value. */
        vsize = s_value_size (c, s.value);
        if ((rc = s_spend (c, &op->from, 2 * vsize))) /* measure, depth */
            return rc;
        v = json_incref (s.value);
        if (s.parent) {
            s_shrink (c, &s, vsize);
            s_detach (&s);
        } else if (c->max != SIZE_MAX)
            *c->size = 0;
        if ((rc = s_place (c, *root, &op->path, s_depth (v, EF_PATCH_MAX_DEPTH),
                           vsize, &to))) {
            json_decref (v);
            return rc;
        }
        return s_put (c, root, &op->path, &to, v);

    case S_COPY:
        if ((rc = s_resolve_existing (c, *root, &op->from, &s)))
            return rc;
        /*  Measured and placed before the copy is made: a copy that
            would make the document too large, or the patch's work too
            much, is never built. */
        vsize = s_value_size (c, s.value);
        if ((rc = s_spend (c, &op->from, 3 * vsize)) || /* size, depth, copy */
            (rc = s_place (c, *root, &op->path,
                           s_depth (s.value, EF_PATCH_MAX_DEPTH), vsize, &to)))
            return rc;
        if (!(v = json_deep_copy (s.value)))
            return s_fail (c, EF_ENOMEM, &op->path, "out of memory");
        return s_put (c, root, &op->path, &to, v);

    case S_TEST:
        if ((rc = s_resolve_existing (c, *root, &op->path, &s)) ||
            (rc = s_spend (c, &op->path, op->size)))
            return rc;
        if (!s_equal (s.value, op->value))
            return s_fail (c, EF_ECONFLICT, &op->path,
                           "the value differs from the one tested for");
        return 0;
    }
    return s_fail (c, EF_EINTERNAL, &op->path, "unknown op kind");
}

/*  Check a document before a patch runs on it: it nests at most
    EF_PATCH_MAX_DEPTH (json_deep_copy recurses) and, when max is bounded,
    takes at most max bytes, which *size receives. 0 or EF_ETOOBIG. */
static int
s_check_doc (const json_t *doc, size_t max, size_t *size, char *why,
             size_t why_len)
{
    *size = 0;
    if (s_depth (doc, EF_PATCH_MAX_DEPTH) > EF_PATCH_MAX_DEPTH) {
        s_say (why, why_len, "document nests deeper than %d",
               EF_PATCH_MAX_DEPTH);
        return EF_ETOOBIG;
    }
    if (max != SIZE_MAX && (*size = s_size (doc, max)) > max) {
        s_say (why, why_len, "document is larger than %zu bytes", max);
        return EF_ETOOBIG;
    }
    return 0;
}

/*  Run every operation on *root, a document we own of size bytes (when
    max is bounded), within max and the work budget. On failure *root may
    be half patched; the caller throws it away. */
static int
s_apply_all (const ef_patch_t *self, json_t **root, size_t max, size_t size,
             char *why, size_t why_len)
{
    size_t work = 0;
    for (size_t i = 0; i < self->nops; i++) {
        s_ctx_t c = {&self->ops[i], i, why, why_len, max, &size, &work};
        int rc = s_apply_op (&c, root);
        if (rc)
            return rc;
    }
    return 0;
}

int
ef_patch_apply (const ef_patch_t *self, const char *doc, size_t len, size_t max,
                char **out, size_t *out_len, char *why, size_t why_len)
{
    assert (self && out && (doc || len == 0));
    *out = NULL;
    if (out_len)
        *out_len = 0;
    s_say (why, why_len, "");

    json_error_t jerr;
    json_t *root = json_loadb (doc ? doc : "", len,
                               JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!root) {
        s_say (why, why_len, "document is not JSON: %s (line %d, column %d)",
               jerr.text, jerr.line, jerr.column);
        return json_error_code (&jerr) == json_error_out_of_memory ? EF_ENOMEM
                                                                   : EF_EINVAL;
    }
    size_t size;
    int rc = s_check_doc (root, max, &size, why, why_len);
    if (rc == 0)
        rc = s_apply_all (self, &root, max, size, why, why_len);
    if (rc == 0) {
        *out = json_dumps (root, JSON_COMPACT | JSON_ENCODE_ANY |
                                     JSON_REAL_PRECISION (17));
        if (!*out) {
            rc = EF_ENOMEM;
            s_say (why, why_len, "out of memory");
        } else if (out_len)
            *out_len = strlen (*out);
    }
    json_decref (root);
    return rc;
}

json_t *
ef_patch_apply_json (const ef_patch_t *self, const json_t *doc, size_t max,
                     int *err, char *why, size_t why_len)
{
    assert (self);
    int rc = 0;
    json_t *root = NULL;
    size_t size = 0;
    s_say (why, why_len, "");
    if (!doc) {
        rc = EF_EINVAL;
        s_say (why, why_len, "no document");
    } else if ((rc = s_check_doc (doc, max, &size, why, why_len)))
        ;
    else if (!(root = json_deep_copy (doc))) {
        rc = EF_ENOMEM;
        s_say (why, why_len, "out of memory");
    } else if ((rc = s_apply_all (self, &root, max, size, why, why_len))) {
        json_decref (root);
        root = NULL;
    }
    if (err)
        *err = rc;
    return root;
}

size_t
ef_patch_ops (const ef_patch_t *self)
{
    return self->nops;
}
