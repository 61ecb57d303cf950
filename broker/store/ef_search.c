/*  ef_search.c: payload predicates (see ef_search.h). The payload is
    parsed with jansson once per candidate event; a cheap test on the raw
    text comes first: a string a predicate needs (eq "…", contains) that
    does not occur in a payload without escapes cannot match, so most
    events of a selective search are turned away without a parse. */
#define _GNU_SOURCE
#include "ef_search.h"
#include "eventflow/ef_error.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef enum { S_EQ, S_CONTAINS, S_EXISTS, S_LT, S_LE, S_GT, S_GE } s_op_t;

static const char *s_op_names[] = {"eq", "contains", "exists", "lt",
                                   "le", "gt",       "ge"};

typedef struct {
    char *pointer; /* NUL-terminated copy */
    s_op_t op;
    json_t *value;      /* NULL for exists */
    const char *needle; /* a string the raw payload must hold, or NULL */
    size_t needle_len;
} s_pred_t;

struct ef_search {
    s_pred_t preds[EF_SEARCH_MAX];
    uint32_t n;
};

/*  RFC 6901: "" or '/'-separated tokens where '~' is followed by 0 or 1. */
static int
s_pointer_valid (const char *p, size_t len)
{
    if (len && p[0] != '/')
        return 0;
    for (size_t i = 0; i < len; i++)
        if (p[i] == '~' &&
            (i + 1 == len || (p[i + 1] != '0' && p[i + 1] != '1')))
            return 0;
    return 1;
}

/*  The needle: a string with nothing JSON would escape, so it occurs as
    is in any payload written without escapes. */
static void
s_set_needle (s_pred_t *p)
{
    if (!p->value || !json_is_string (p->value))
        return;
    const char *s = json_string_value (p->value);
    size_t n = json_string_length (p->value);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\' ||
            s[i] == '/')
            return;
    p->needle = s;
    p->needle_len = n;
}

static int
s_parse_one (s_pred_t *p, ef_str_t text, const char **why)
{
    /* the op is the first ":op" followed by ':' or the end */
    for (size_t i = 0; i < text.len; i++) {
        if (text.ptr[i] != ':')
            continue;
        for (int o = 0; o <= S_GE; o++) {
            size_t ol = strlen (s_op_names[o]);
            size_t end = i + 1 + ol;
            if (end > text.len ||
                memcmp (text.ptr + i + 1, s_op_names[o], ol) ||
                (end < text.len && text.ptr[end] != ':'))
                continue;
            if (!s_pointer_valid (text.ptr, i)) {
                *why = "where: the pointer is not a JSON Pointer (RFC 6901)";
                return EF_EINVAL;
            }
            p->op = (s_op_t)o;
            if (o == S_EXISTS) {
                if (end != text.len) {
                    *why = "where: exists takes no value";
                    return EF_EINVAL;
                }
            } else {
                if (end == text.len) {
                    *why = "where: the op needs a value";
                    return EF_EINVAL;
                }
                p->value = json_loadb (text.ptr + end + 1, text.len - end - 1,
                                       JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
                if (!p->value) {
                    *why = "where: the value is not JSON";
                    return EF_EINVAL;
                }
                if (o == S_CONTAINS && !json_is_string (p->value)) {
                    *why = "where: contains takes a string";
                    return EF_EINVAL;
                }
                if (o >= S_LT && !json_is_number (p->value)) {
                    *why = "where: lt, le, gt and ge take a number";
                    return EF_EINVAL;
                }
            }
            p->pointer = strndup (text.ptr, i);
            if (!p->pointer)
                return EF_ENOMEM;
            s_set_needle (p);
            return 0;
        }
    }
    *why = "where: expected pointer:op[:value], op one of eq, contains, "
           "exists, lt, le, gt, ge";
    return EF_EINVAL;
}

int
ef_search_new (ef_search_t **self_p, const ef_str_t *where, uint32_t n,
               const char **why)
{
    *self_p = NULL;
    if (n == 0)
        return 0;
    if (n > EF_SEARCH_MAX) {
        *why = "where: at most 8 predicates";
        return EF_EINVAL;
    }
    ef_search_t *self = calloc (1, sizeof *self);
    if (!self)
        return EF_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        int rc = s_parse_one (&self->preds[i], where[i], why);
        self->n++;
        if (rc) {
            ef_search_destroy (&self);
            return rc;
        }
    }
    *self_p = self;
    return 0;
}

void
ef_search_destroy (ef_search_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    for (uint32_t i = 0; i < (*self_p)->n; i++) {
        free ((*self_p)->preds[i].pointer);
        json_decref ((*self_p)->preds[i].value);
    }
    free (*self_p);
    *self_p = NULL;
}

/*  The value the pointer names in root, or NULL. */
static json_t *
s_resolve (json_t *root, const char *pointer)
{
    json_t *at = root;
    const char *p = pointer;
    char token[256];
    while (at && *p == '/') {
        p++;
        size_t n = 0;
        while (*p && *p != '/') {
            char c = *p++;
            if (c == '~')
                c = *p++ == '0' ? '~' : '/';
            if (n + 1 >= sizeof token)
                return NULL;
            token[n++] = c;
        }
        token[n] = 0;
        if (json_is_object (at))
            at = json_object_getn (at, token, n);
        else if (json_is_array (at)) {
            char *end;
            if (n == 0 || (n > 1 && token[0] == '0') || token[0] < '0' ||
                token[0] > '9')
                return NULL;
            unsigned long ix = strtoul (token, &end, 10);
            at = *end ? NULL : json_array_get (at, ix);
        } else
            return NULL;
    }
    return at;
}

static int
s_holds (const s_pred_t *p, json_t *v)
{
    if (!v)
        return 0;
    switch (p->op) {
    case S_EXISTS:
        return 1;
    case S_EQ:
        return json_equal (v, p->value);
    case S_CONTAINS:
        return json_is_string (v) &&
               memmem (json_string_value (v), json_string_length (v),
                       json_string_value (p->value),
                       json_string_length (p->value)) != NULL;
    default:
        break;
    }
    if (!json_is_number (v))
        return 0;
    double a = json_number_value (v), b = json_number_value (p->value);
    switch (p->op) {
    case S_LT:
        return a < b;
    case S_LE:
        return a <= b;
    case S_GT:
        return a > b;
    default:
        return a >= b;
    }
}

int
ef_search_match (const ef_search_t *self, ef_str_t payload)
{
    if (!self)
        return 1;
    if (!memchr (payload.ptr, '\\', payload.len))
        for (uint32_t i = 0; i < self->n; i++)
            if (self->preds[i].needle &&
                !memmem (payload.ptr, payload.len, self->preds[i].needle,
                         self->preds[i].needle_len))
                return 0;
    json_t *root = json_loadb (payload.ptr, payload.len,
                               JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!root)
        return 0;
    int ok = 1;
    for (uint32_t i = 0; ok && i < self->n; i++)
        ok =
            s_holds (&self->preds[i], s_resolve (root, self->preds[i].pointer));
    json_decref (root);
    return ok;
}
