/*  ef_schema_check.c: validation against a compiled schema (see
    ef_schema.h; the structures are in ef_schema_int.h). One recursive
    function over nodes and values; its context (error list, instance path,
    depth, PCRE2 match data) lives on the caller's stack, so a compiled
    schema is safe to share between threads. Speculative evaluations
    (anyOf, oneOf, not, contains, if) run "quiet": they stop at the first
    failure and record nothing. Also holds the JSON Pointer paths and
    message formatting that compiling shares (sc_ prefix). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ef_schema_int.h"
#include "eventflow/ef_error.h"

/*  Array sizes up to which uniqueItems compares all pairs. */
#define S_UNIQUE_PAIRWISE 16
/*  Work units between two looks at the CPU clock (a system call). */
#define S_CLOCK_EVERY 1024

/* ---------------------------------------------------------------- paths */

static void
s_path_putc (s_path_t *p, char c)
{
    if (p->len < sizeof p->buf - 1)
        p->buf[p->len] = c;
    p->len++;
}

/*  Append "/" and key, escaped (RFC 6901); returns the length to pop to. */
size_t
sc_path_push_key (s_path_t *p, const char *key, size_t klen)
{
    size_t old = p->len;
    s_path_putc (p, '/');
    for (size_t i = 0; i < klen; i++) {
        if (key[i] == '~') {
            s_path_putc (p, '~');
            s_path_putc (p, '0');
        } else if (key[i] == '/') {
            s_path_putc (p, '~');
            s_path_putc (p, '1');
        } else
            s_path_putc (p, key[i]);
    }
    return old;
}

size_t
sc_path_push_index (s_path_t *p, size_t i)
{
    char num[24];
    int n = snprintf (num, sizeof num, "%zu", i);
    size_t old = p->len;
    s_path_putc (p, '/');
    for (int k = 0; k < n; k++)
        s_path_putc (p, num[k]);
    return old;
}

void
sc_path_pop (s_path_t *p, size_t old)
{
    p->len = old;
}

/*  Cut NUL-terminated s before a last UTF-8 character that is not
    complete (left so by a cut made without looking at characters). */
void
sc_utf8_trim (char *s)
{
    size_t n = strlen (s), k = n;
    while (k > 0 && n - k < 4 && ((unsigned char)s[k - 1] & 0xC0) == 0x80)
        k--;
    if (k == 0)
        return;
    unsigned char lead = (unsigned char)s[k - 1];
    size_t need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    if (k - 1 + need > n)
        s[k - 1] = '\0';
}

/*  Copy p into out[EF_SCHEMA_TEXT_MAX], ending in "..." when cut. */
void
sc_path_copy (const s_path_t *p, char *out)
{
    if (p->len < EF_SCHEMA_TEXT_MAX) {
        memcpy (out, p->buf, p->len);
        out[p->len] = '\0';
        return;
    }
    memcpy (out, p->buf, EF_SCHEMA_TEXT_MAX - 4);
    out[EF_SCHEMA_TEXT_MAX - 4] = '\0';
    sc_utf8_trim (out);
    strcat (out, "...");
}

/*  vsnprintf into out[size], never leaving half a UTF-8 character. */
void
sc_vformat (char *out, size_t size, const char *fmt, va_list ap)
{
    if (size == 0)
        return;
    int n = vsnprintf (out, size, fmt, ap);
    if (n >= 0 && (size_t)n >= size)
        sc_utf8_trim (out);
}

/* ------------------------------------------------------------ validate */

/*  Record an error at the current path, unless quiet or the list is full. */
static void
s_error (s_vc_t *vc, int quiet, const char *fmt, ...)
{
    if (quiet || vc->n >= vc->max)
        return;
    ef_schema_error_t *e = &vc->errors[vc->n++];
    sc_path_copy (&vc->path, e->path);
    va_list ap;
    va_start (ap, fmt);
    sc_vformat (e->message, sizeof e->message, fmt, ap);
    va_end (ap);
}

/*  Give up on the whole value (too deep, out of memory, regex limits):
    the value counts as invalid whatever called us, so the reason is
    recorded even inside a quiet evaluation. */
static void
s_abort (s_vc_t *vc, int rc, const char *fmt, ...)
{
    if (vc->aborted)
        return;
    vc->aborted = 1;
    vc->rc = rc;
    if (vc->n >= vc->max)
        return;
    ef_schema_error_t *e = &vc->errors[vc->n++];
    sc_path_copy (&vc->path, e->path);
    va_list ap;
    va_start (ap, fmt);
    sc_vformat (e->message, sizeof e->message, fmt, ap);
    va_end (ap);
}

int64_t
ef_schema_cpu_now_ns (void)
{
    struct timespec ts;
    if (clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts))
        return 0;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*  Give up on the budget: the whole value is refused with one entry. */
static void
s_exceeded (s_vc_t *vc)
{
    if (vc->aborted)
        return;
    vc->exceeded = 1;
    vc->path.len = 0;
    vc->path.buf[0] = '\0';
    s_abort (vc, EF_EVALIDATION, "%s", EF_SCHEMA_BUDGET_MSG);
}

/*  Spend units of work; 0 when the budget is gone (after s_exceeded).
    clock: look at the CPU clock now, whatever was spent. */
static int
s_spend (s_vc_t *vc, uint64_t units, int clock)
{
    vc->work += units;
    if (vc->work > vc->work_max) {
        s_exceeded (vc);
        return 0;
    }
    if (vc->cpu_until_ns && (clock || vc->work >= vc->next_clock)) {
        vc->next_clock = vc->work + S_CLOCK_EVERY;
        if (ef_schema_cpu_now_ns () > vc->cpu_until_ns) {
            s_exceeded (vc);
            return 0;
        }
    }
    return 1;
}

/*  After a failure: 1 when the caller should stop at once (nothing more
    will be recorded, or the evaluation is over). */
static int
s_stop (const s_vc_t *vc, int quiet)
{
    return quiet || vc->aborted || vc->n >= vc->max;
}

/*  The min/max keywords on a count (characters, items, properties): 1
    when within, 0 when not (errors reported), -1 to stop at once. */
static int
s_check_count (s_vc_t *vc, int quiet, size_t count, long long min,
               long long max, const char *what_fmt_min,
               const char *what_fmt_max, const char *one, const char *many)
{
    int ok = 1;
    if (min >= 0 && count < (unsigned long long)min) {
        ok = 0;
        s_error (vc, quiet, what_fmt_min, min, min == 1 ? one : many);
        if (s_stop (vc, quiet))
            return -1;
    }
    if (max >= 0 && count > (unsigned long long)max) {
        ok = 0;
        s_error (vc, quiet, what_fmt_max, max, max == 1 ? one : many);
        if (s_stop (vc, quiet))
            return -1;
    }
    return ok;
}

static int s_validate (s_vc_t *vc, const s_node_t *n, const json_t *v,
                       int quiet);

/*  s_validate on a member (key) or an item (index) of the current value. */
static int
s_validate_key (s_vc_t *vc, const s_node_t *n, const json_t *v, const char *key,
                size_t klen, int quiet)
{
    size_t old = sc_path_push_key (&vc->path, key, klen);
    int ok = s_validate (vc, n, v, quiet);
    sc_path_pop (&vc->path, old);
    return ok;
}

static int
s_validate_index (s_vc_t *vc, const s_node_t *n, const json_t *v, size_t i,
                  int quiet)
{
    size_t old = sc_path_push_index (&vc->path, i);
    int ok = s_validate (vc, n, v, quiet);
    sc_path_pop (&vc->path, old);
    return ok;
}

/*  1 match, 0 no match, -1 after s_abort. */
static int
s_match (s_vc_t *vc, const pcre2_code *re, const char *s, size_t n)
{
    if (!vc->md && !(vc->md = pcre2_match_data_create (1, NULL))) {
        s_abort (vc, EF_ENOMEM, "out of memory");
        return -1;
    }
    int rc = pcre2_match (re, (PCRE2_SPTR)s, n, 0, 0, vc->md, vc->self->mctx);
    /* a match's cost is unknown until it is over: the clock tells */
    if (!s_spend (vc, 1 + n / 64, 1))
        return -1;
    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
        rc == PCRE2_ERROR_HEAPLIMIT)
        s_exceeded (vc);
    else if (rc == PCRE2_ERROR_NOMEMORY)
        s_abort (vc, EF_ENOMEM, "out of memory");
    else
        s_abort (vc, EF_EVALIDATION,
                 "regular expression could not be evaluated (error %d)", rc);
    return -1;
}

/*  1/0 for sj_equal, with the value-depth limit turned into an abort. */
static int
s_equal_vc (s_vc_t *vc, const json_t *a, const json_t *b)
{
    int e = sj_equal (a, b, 0);
    if (e < 0) {
        s_abort (vc, EF_EVALIDATION, "value nested too deeply to compare");
        return 0;
    }
    return e;
}

static int
s_check_type (s_vc_t *vc, const s_node_t *n, const json_t *v, int quiet)
{
    if (n->types & sj_type_of (v))
        return 1;
    if (!quiet) {
        char want[96] = "";
        for (unsigned bit = 1; bit <= S_T_INTEGER; bit <<= 1)
            if (n->types & bit) {
                if (want[0])
                    strcat (want, " or ");
                strcat (want, sj_type_name (bit));
            }
        s_error (vc, quiet, "must be of type %s, not %s", want,
                 sj_value_type_name (v));
    }
    return 0;
}

static int
s_check_number (s_vc_t *vc, const s_node_t *n, const json_t *v, int quiet)
{
    int ok = 1;
    long double x = sj_num (v);
    char num[40];
    struct {
        unsigned flag;
        int good;
        const json_t *limit;
        const char *fmt;
    } checks[] = {
        {S_N_MIN, x >= n->min_v, n->minimum, "must be >= %s"},
        {S_N_MAX, x <= n->max_v, n->maximum, "must be <= %s"},
        {S_N_XMIN, x > n->xmin_v, n->xminimum, "must be > %s"},
        {S_N_XMAX, x < n->xmax_v, n->xmaximum, "must be < %s"},
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        if (!(n->nflags & checks[i].flag) || checks[i].good)
            continue;
        ok = 0;
        if (!quiet) {
            sj_num_text (checks[i].limit, num, sizeof num);
            s_error (vc, quiet, checks[i].fmt, num);
        }
        if (s_stop (vc, quiet))
            return 0;
    }
    if ((n->nflags & S_N_MULT) && !sj_multiple_of (v, n->multiple_of)) {
        ok = 0;
        if (!quiet) {
            sj_num_text (n->multiple_of, num, sizeof num);
            s_error (vc, quiet, "must be a multiple of %s", num);
        }
    }
    return ok;
}

/*  Unicode code points in UTF-8 text (jansson strings are valid UTF-8). */
static size_t
s_utf8_length (const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += ((unsigned char)s[i] & 0xC0) != 0x80;
    return count;
}

static int
s_check_string (s_vc_t *vc, const s_node_t *n, const json_t *v, int quiet)
{
    int ok = 1;
    const char *s = json_string_value (v);
    size_t len = json_string_length (v);
    if (n->min_len >= 0 || n->max_len >= 0) {
        if (!s_spend (vc, len / 64, 0))
            return 0;
        int c =
            s_check_count (vc, quiet, s_utf8_length (s, len), n->min_len,
                           n->max_len, "must be at least %lld character%s long",
                           "must be at most %lld character%s long", "", "s");
        if (c < 0)
            return 0;
        ok &= c;
    }
    if (n->pattern) {
        int m = s_match (vc, n->pattern, s, len);
        if (m < 0)
            return 0;
        if (!m) {
            ok = 0;
            s_error (vc, quiet, "must match the pattern \"%.200s\"",
                     json_string_value (n->pattern_src));
        }
    }
    return ok;
}

typedef struct {
    uint64_t hash;
    size_t index;
} s_hashed_t;

static int
s_hashed_cmp (const void *a, const void *b)
{
    const s_hashed_t *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/*  1 when the items of array v are unique; else 0 with *i < *k the
    indexes of two equal items (or after s_abort). Small arrays compare
    all pairs; larger ones sort by hash first, so that a long array costs
    n log n and not n squared. */
static int
s_unique (s_vc_t *vc, const json_t *v, size_t *i, size_t *k)
{
    size_t n = json_array_size (v);
    if (!s_spend (vc, n, 0))
        return 0;
    if (n <= S_UNIQUE_PAIRWISE) {
        for (*i = 0; *i < n; (*i)++)
            for (*k = *i + 1; *k < n; (*k)++)
                if (s_equal_vc (vc, json_array_get (v, *i),
                                json_array_get (v, *k)) ||
                    vc->aborted)
                    return 0;
        return 1;
    }
    s_hashed_t *h = malloc (n * sizeof *h);
    if (!h) {
        s_abort (vc, EF_ENOMEM, "out of memory");
        return 0;
    }
    for (size_t x = 0; x < n; x++) {
        h[x].hash = sj_hash (json_array_get (v, x), 0);
        h[x].index = x;
    }
    qsort (h, n, sizeof *h, s_hashed_cmp);
    int unique = 1;
    for (size_t a = 0; unique && a < n; a++)
        for (size_t b = a + 1; unique && b < n && h[b].hash == h[a].hash; b++)
            if (s_equal_vc (vc, json_array_get (v, h[a].index),
                            json_array_get (v, h[b].index)) ||
                vc->aborted) {
                unique = 0;
                *i = h[a].index;
                *k = h[b].index;
            }
    free (h);
    return unique;
}

static int
s_check_array (s_vc_t *vc, const s_node_t *n, const json_t *v, int quiet)
{
    int ok = 1;
    size_t size = json_array_size (v);
    if (n->items_is_list) {
        for (size_t i = 0; i < size; i++) {
            const s_node_t *sub =
                i < n->items_v.n ? n->items_v.v[i] : n->additional_items;
            if (!sub)
                break;
            const json_t *item = json_array_get (v, i);
            if (i >= n->items_v.n && sub->boolean == 0) {
                size_t old = sc_path_push_index (&vc->path, i);
                s_error (vc, quiet, "additional item is not allowed");
                sc_path_pop (&vc->path, old);
                ok = 0;
            } else if (!s_validate_index (vc, sub, item, i, quiet))
                ok = 0;
            if (!ok && s_stop (vc, quiet))
                return 0;
        }
    } else if (n->items) {
        for (size_t i = 0; i < size; i++)
            if (!s_validate_index (vc, n->items, json_array_get (v, i), i,
                                   quiet)) {
                ok = 0;
                if (s_stop (vc, quiet))
                    return 0;
            }
    }
    if (n->contains) {
        int found = 0;
        for (size_t i = 0; !found && i < size && !vc->aborted; i++)
            found =
                s_validate_index (vc, n->contains, json_array_get (v, i), i, 1);
        if (vc->aborted)
            return 0;
        if (!found) {
            ok = 0;
            s_error (vc, quiet,
                     "must contain at least one item that matches contains");
            if (s_stop (vc, quiet))
                return 0;
        }
    }
    int c = s_check_count (vc, quiet, size, n->min_items, n->max_items,
                           "must have at least %lld item%s",
                           "must have at most %lld item%s", "", "s");
    if (c < 0)
        return 0;
    ok &= c;
    size_t a = 0, b = 0;
    if (n->unique && !s_unique (vc, v, &a, &b)) {
        ok = 0;
        if (!vc->aborted)
            s_error (vc, quiet,
                     "must not contain equal items (items %zu and %zu are "
                     "equal)",
                     a, b);
    }
    return ok;
}

/*  1 when key is one of "properties" or matches a "patternProperties"
    pattern (validating it against those patterns' schemas); 0 when it is
    "additional". Sets *ok to 0 when a pattern's schema fails. -1 after
    s_abort. */
static int
s_check_pattern_props (s_vc_t *vc, const s_node_t *n, const char *key,
                       size_t klen, const json_t *m, int quiet, int *ok)
{
    int known = n->props_json && json_object_getn (n->props_json, key, klen);
    for (size_t p = 0; p < n->npprops; p++) {
        int hit = s_match (vc, n->pprops[p].re, key, klen);
        if (hit < 0)
            return -1;
        if (!hit)
            continue;
        known = 1;
        if (!s_validate_key (vc, n->pprops[p].node, m, key, klen, quiet)) {
            *ok = 0;
            if (s_stop (vc, quiet))
                return known;
        }
    }
    return known;
}

static int
s_check_object (s_vc_t *vc, const s_node_t *n, const json_t *v, int quiet)
{
    int ok = 1;
    if (!s_spend (vc,
                  n->nprops +
                      (n->required ? json_array_size (n->required) : 0) +
                      n->ndeps,
                  0))
        return 0;
    for (size_t p = 0; p < n->nprops; p++) {
        const json_t *m =
            json_object_getn (v, n->props[p].key, n->props[p].len);
        if (m && !s_validate_key (vc, n->props[p].node, m, n->props[p].key,
                                  n->props[p].len, quiet)) {
            ok = 0;
            if (s_stop (vc, quiet))
                return 0;
        }
    }
    if (n->npprops || n->additional_props || n->property_names) {
        const char *key;
        size_t klen;
        json_t *m;
        json_object_keylen_foreach ((json_t *)v, key, klen, m)
        {
            if (n->npprops || n->additional_props) {
                int known =
                    s_check_pattern_props (vc, n, key, klen, m, quiet, &ok);
                if (known < 0 || (!ok && s_stop (vc, quiet)))
                    return 0;
                const s_node_t *add = n->additional_props;
                if (!known && add && add->boolean == 0) {
                    size_t old = sc_path_push_key (&vc->path, key, klen);
                    s_error (vc, quiet,
                             "additional property \"%.*s\" is not allowed",
                             (int)(klen > 120 ? 120 : klen), key);
                    sc_path_pop (&vc->path, old);
                    ok = 0;
                } else if (!known && add &&
                           !s_validate_key (vc, add, m, key, klen, quiet))
                    ok = 0;
                if (!ok && s_stop (vc, quiet))
                    return 0;
            }
            if (n->property_names && n->property_names->boolean != 1) {
                json_t *name = json_stringn_nocheck (key, klen);
                if (!name) {
                    s_abort (vc, EF_ENOMEM, "out of memory");
                    return 0;
                }
                size_t old = sc_path_push_key (&vc->path, key, klen);
                int good = s_validate (vc, n->property_names, name, 1);
                if (!good)
                    s_error (vc, quiet,
                             "property name \"%.*s\" does not match "
                             "propertyNames",
                             (int)(klen > 120 ? 120 : klen), key);
                sc_path_pop (&vc->path, old);
                json_decref (name);
                if (!good) {
                    ok = 0;
                    if (s_stop (vc, quiet))
                        return 0;
                }
            }
        }
    }
    size_t count = json_object_size (v);
    int c = s_check_count (vc, quiet, count, n->min_props, n->max_props,
                           "must have at least %lld propert%s",
                           "must have at most %lld propert%s", "y", "ies");
    if (c < 0)
        return 0;
    ok &= c;
    for (size_t r = 0; n->required && r < json_array_size (n->required); r++) {
        const json_t *name = json_array_get (n->required, r);
        const char *key = json_string_value (name);
        size_t klen = json_string_length (name);
        if (json_object_getn (v, key, klen))
            continue;
        ok = 0;
        size_t old = sc_path_push_key (&vc->path, key, klen);
        s_error (vc, quiet, "required property \"%.*s\" is missing",
                 (int)(klen > 120 ? 120 : klen), key);
        sc_path_pop (&vc->path, old);
        if (s_stop (vc, quiet))
            return 0;
    }
    for (size_t d = 0; d < n->ndeps; d++) {
        const s_dep_t *dep = &n->deps[d];
        if (!json_object_getn (v, dep->key, dep->len))
            continue;
        if (dep->node) {
            if (!s_validate (vc, dep->node, v, quiet)) {
                ok = 0;
                if (s_stop (vc, quiet))
                    return 0;
            }
            continue;
        }
        if (!s_spend (vc, json_array_size (dep->names), 0))
            return 0;
        for (size_t r = 0; r < json_array_size (dep->names); r++) {
            const json_t *name = json_array_get (dep->names, r);
            const char *key = json_string_value (name);
            size_t klen = json_string_length (name);
            if (json_object_getn (v, key, klen))
                continue;
            ok = 0;
            size_t old = sc_path_push_key (&vc->path, key, klen);
            s_error (vc, quiet,
                     "property \"%.*s\" is required when \"%.*s\" is present",
                     (int)(klen > 100 ? 100 : klen), key,
                     (int)(dep->len > 100 ? 100 : dep->len), dep->key);
            sc_path_pop (&vc->path, old);
            if (s_stop (vc, quiet))
                return 0;
        }
    }
    return ok;
}

static int
s_check_logic (s_vc_t *vc, const s_node_t *n, const json_t *v, int quiet)
{
    int ok = 1;
    for (size_t i = 0; i < n->all_of.n; i++)
        if (!s_validate (vc, n->all_of.v[i], v, quiet)) {
            ok = 0;
            if (s_stop (vc, quiet))
                return 0;
        }
    if (n->any_of.n) {
        int any = 0;
        for (size_t i = 0; !any && i < n->any_of.n && !vc->aborted; i++)
            any = s_validate (vc, n->any_of.v[i], v, 1);
        if (vc->aborted)
            return 0;
        if (!any) {
            ok = 0;
            s_error (vc, quiet, "must match at least one schema of anyOf");
            if (s_stop (vc, quiet))
                return 0;
        }
    }
    if (n->one_of.n) {
        size_t matched = 0;
        for (size_t i = 0; matched < 2 && i < n->one_of.n && !vc->aborted; i++)
            matched += (size_t)s_validate (vc, n->one_of.v[i], v, 1);
        if (vc->aborted)
            return 0;
        if (matched != 1) {
            ok = 0;
            s_error (vc, quiet,
                     "must match exactly one schema of oneOf, "
                     "matches %s",
                     matched ? "more than one" : "none");
            if (s_stop (vc, quiet))
                return 0;
        }
    }
    if (n->not_ && (s_validate (vc, n->not_, v, 1) || vc->aborted)) {
        ok = 0;
        if (!vc->aborted)
            s_error (vc, quiet, "must not match the schema of not");
        if (s_stop (vc, quiet))
            return 0;
    }
    if (n->if_ && (n->then_ || n->else_)) {
        int cond = s_validate (vc, n->if_, v, 1);
        const s_node_t *branch = cond ? n->then_ : n->else_;
        if (vc->aborted)
            return 0;
        if (branch && !s_validate (vc, branch, v, quiet))
            ok = 0;
    }
    return ok;
}

static int
s_check_node (s_vc_t *vc, const s_node_t *n, const json_t *v, int quiet)
{
    if (n->has_ref)
        return s_validate (vc, n->ref, v, quiet);
    if (n->boolean == 1)
        return 1;
    if (n->boolean == 0) {
        s_error (vc, quiet, "no value is allowed here");
        return 0;
    }
    int ok = 1;
    if (n->types && !s_check_type (vc, n, v, quiet)) {
        ok = 0;
        if (s_stop (vc, quiet))
            return 0;
    }
    if (n->enum_vals) {
        if (!s_spend (vc, json_array_size (n->enum_vals), 0))
            return 0;
        int found = 0;
        for (size_t i = 0; !found && i < json_array_size (n->enum_vals); i++)
            found = s_equal_vc (vc, v, json_array_get (n->enum_vals, i));
        if (!found) {
            ok = 0;
            s_error (vc, quiet, "must be one of the values of enum");
            if (s_stop (vc, quiet))
                return 0;
        }
    }
    if (n->const_val && !s_equal_vc (vc, v, n->const_val)) {
        ok = 0;
        s_error (vc, quiet, "must be equal to the value of const");
        if (s_stop (vc, quiet))
            return 0;
    }
    int good = 1;
    switch (json_typeof (v)) {
    case JSON_INTEGER:
    case JSON_REAL:
        good = n->nflags ? s_check_number (vc, n, v, quiet) : 1;
        break;
    case JSON_STRING:
        good = s_check_string (vc, n, v, quiet);
        break;
    case JSON_ARRAY:
        good = s_check_array (vc, n, v, quiet);
        break;
    case JSON_OBJECT:
        good = s_check_object (vc, n, v, quiet);
        break;
    default:
        break;
    }
    if (!good) {
        ok = 0;
        if (s_stop (vc, quiet))
            return 0;
    }
    if (!s_check_logic (vc, n, v, quiet))
        ok = 0;
    return ok && !vc->aborted;
}

/*  1 when v is valid against n; 0 when not (errors recorded unless
    quiet). Each call is one level of evaluation depth. */
static int
s_validate (s_vc_t *vc, const s_node_t *n, const json_t *v, int quiet)
{
    if (vc->aborted)
        return 0;
    if (vc->depth >= EF_SCHEMA_MAX_EVAL_DEPTH) {
        s_abort (vc, EF_EVALIDATION,
                 "nested too deeply to validate (more than %d levels)",
                 EF_SCHEMA_MAX_EVAL_DEPTH);
        return 0;
    }
    if (!s_spend (vc, 1, 0))
        return 0;
    vc->depth++;
    int ok = s_check_node (vc, n, v, quiet);
    vc->depth--;
    return ok && !vc->aborted;
}

int
ef_schema_validate_json_budget (const ef_schema_t *self,
                                const struct json_t *value,
                                ef_schema_budget_t *budget,
                                ef_schema_error_t *errors, uint32_t max,
                                uint32_t *nerrors)
{
    if (nerrors)
        *nerrors = 0;
    if (budget) {
        budget->used = 0;
        budget->exceeded = 0;
    }
    if (!self || !value)
        return EF_EINVAL;
    s_vc_t vc;
    memset (&vc, 0, sizeof vc);
    vc.self = self;
    vc.errors = errors;
    vc.max = errors ? max : 0;
    vc.work_max = budget && budget->work ? budget->work : EF_SCHEMA_WORK_MAX;
    vc.cpu_until_ns = budget ? budget->cpu_until_ns : 0;
    vc.next_clock = S_CLOCK_EVERY;
    /*  With nowhere to put errors, evaluate quietly: stop at the first. */
    int ok = s_validate (&vc, self->root, value, vc.max == 0);
    pcre2_match_data_free (vc.md);
    if (nerrors)
        *nerrors = vc.n;
    if (budget) {
        budget->used = vc.work;
        budget->exceeded = vc.exceeded;
    }
    if (vc.aborted && vc.rc == EF_ENOMEM)
        return EF_ENOMEM;
    return ok ? 0 : EF_EVALIDATION;
}

int
ef_schema_validate_json (const ef_schema_t *self, const struct json_t *value,
                         ef_schema_error_t *errors, uint32_t max,
                         uint32_t *nerrors)
{
    return ef_schema_validate_json_budget (self, value, NULL, errors, max,
                                           nerrors);
}

int
ef_schema_validate_budget (const ef_schema_t *self, const char *json,
                           size_t len, ef_schema_budget_t *budget,
                           ef_schema_error_t *errors, uint32_t max,
                           uint32_t *nerrors)
{
    if (nerrors)
        *nerrors = 0;
    if (budget) {
        budget->used = 0;
        budget->exceeded = 0;
    }
    if (!self || (!json && len > 0))
        return EF_EINVAL;
    json_error_t jerr;
    json_t *value = json_loadb (
        json ? json : "", len,
        JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!value) {
        if (errors && max > 0) {
            errors[0].path[0] = '\0';
            snprintf (errors[0].message, sizeof errors[0].message,
                      "not JSON: %s (line %d, column %d)", jerr.text, jerr.line,
                      jerr.column);
            sc_utf8_trim (errors[0].message);
            if (nerrors)
                *nerrors = 1;
        }
        return EF_EINVAL;
    }
    int rc = ef_schema_validate_json_budget (self, value, budget, errors, max,
                                             nerrors);
    json_decref (value);
    return rc;
}

int
ef_schema_validate (const ef_schema_t *self, const char *json, size_t len,
                    ef_schema_error_t *errors, uint32_t max, uint32_t *nerrors)
{
    return ef_schema_validate_budget (self, json, len, NULL, errors, max,
                                      nerrors);
}
