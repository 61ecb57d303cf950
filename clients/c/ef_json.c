/*  ef_json.c: JSON without a DOM (see ef_json.h): the strict,
    non-allocating validator (a recursive-descent recogniser bounded by
    max_depth) and the JSON Pointer of its first fault, walking an
    object's members or an array's elements, a value's kind and a string's
    unescaping, line and column of an offset, msgpack rendered as JSON,
    and the string quoter. */
#include "eventflow/ef_json.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_time.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define S_TRACK 32 /* levels of a fault's path that ef_json_fault_path names */

typedef struct {
    const unsigned char *p, *start, *end;
    int depth;
    const char *why;
    /* only for ef_json_fault_path: where in the document the walk is */
    int track, level;
    struct {
        const unsigned char *key; /* NULL in an array */
        size_t len;
        uint32_t index;
    } at[S_TRACK];
} s_json_t;

static void
s_ws (s_json_t *j)
{
    while (j->p < j->end &&
           (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int
s_fail (s_json_t *j, const char *why)
{
    j->why = why;
    return -1;
}

static int
s_lit (s_json_t *j, const char *w, size_t n)
{
    if ((size_t)(j->end - j->p) < n)
        return s_fail (j, "unexpected end of input");
    for (size_t i = 0; i < n; i++)
        if (j->p[i] != (unsigned char)w[i])
            return s_fail (j, "invalid literal");
    j->p += n;
    return 0;
}

static int
s_utf8 (s_json_t *j)
{
    /* one multi-byte sequence starting at j->p (lead byte >= 0x80) */
    size_t n = ef_str_utf8_char (j->p, (size_t)(j->end - j->p));
    if (!n)
        return s_fail (j, "invalid UTF-8");
    j->p += n;
    return 0;
}

static int s_hex4 (const char *p); /* the 4 hex digits at p, or -1 */

/*  A \u escape at j->p: a surrogate must come as a high-low pair (one
    escape each), since a lone one is no character and cannot be written
    as UTF-8 (strict decoders refuse what it would turn into). */
static int
s_escape_u (s_json_t *j)
{
    if (j->end - j->p < 6)
        return s_fail (j, "unterminated string");
    long v = s_hex4 ((const char *)j->p + 2);
    if (v < 0)
        return s_fail (j, "invalid \\u escape");
    if (v >= 0xdc00 && v <= 0xdfff)
        return s_fail (j, "lone surrogate in a \\u escape");
    if (v >= 0xd800 && v <= 0xdbff) {
        long lo = j->end - j->p >= 12 && j->p[6] == '\\' && j->p[7] == 'u'
                      ? s_hex4 ((const char *)j->p + 8)
                      : -1;
        if (lo < 0xdc00 || lo > 0xdfff)
            return s_fail (j, "lone surrogate in a \\u escape");
        j->p += 6;
    }
    j->p += 6;
    return 0;
}

/*  Bytes that stand for themselves inside a string: printable ASCII but
    the quote and the backslash. Runs of them are skipped in a tight loop,
    which is most of any payload. */
static const unsigned char s_plain[256] = {
#define R4(x)  x, x, x, x
#define R16(x) R4 (x), R4 (x), R4 (x), R4 (x)
    R16 (0), R16 (0), /* 0x00-0x1f control */
    1,       1,       0,      R4 (1),
    R4 (1),  R4 (1),  1, /* 0x20-0x2f, '"' */
    R16 (1), R16 (1),    /* 0x30-0x4f */
    R4 (1),  R4 (1),  R4 (1), 0,
    1,       1,       1, /* 0x50-0x5f, backslash */
    R16 (1), R16 (1),    /* 0x60-0x7f */
#undef R16
#undef R4
};

static int
s_string (s_json_t *j)
{
    j->p++; /* opening quote */
    while (j->p < j->end) {
        while (j->p < j->end && s_plain[*j->p])
            j->p++;
        if (j->p >= j->end)
            break;
        unsigned c = *j->p;
        if (c == '"') {
            j->p++;
            return 0;
        }
        if (c < 0x20)
            return s_fail (j, "control character in string");
        if (c == '\\') {
            if (j->end - j->p < 2)
                break;
            unsigned e = j->p[1];
            if (e == 'u') {
                if (s_escape_u (j))
                    return -1;
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' ||
                       e == 'f' || e == 'n' || e == 'r' || e == 't') {
                j->p += 2;
            } else {
                return s_fail (j, "invalid escape");
            }
        } else if (c >= 0x80) {
            if (s_utf8 (j))
                return -1;
        } else {
            j->p++;
        }
    }
    return s_fail (j, "unterminated string");
}

static int
s_digits (s_json_t *j)
{
    const unsigned char *s = j->p;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
        j->p++;
    return j->p > s ? 0 : s_fail (j, "invalid number");
}

static int
s_number (s_json_t *j)
{
    if (*j->p == '-')
        j->p++;
    if (j->p < j->end && *j->p == '0')
        j->p++;
    else if (s_digits (j))
        return -1;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (s_digits (j))
            return -1;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (s_digits (j))
            return -1;
    }
    return 0;
}

static int s_value (s_json_t *j);

static int
s_container (s_json_t *j, unsigned char close)
{
    if (j->depth-- <= 0)
        return s_fail (j, "nesting too deep");
    j->p++;
    s_ws (j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        j->depth++;
        return 0;
    }
    /* a level of the path, when a fault's path is wanted; left as it is
       on a fault, so that the path names where the walk stopped */
    int lv = j->track ? j->level++ : S_TRACK;
    if (lv < S_TRACK) {
        j->at[lv].key = NULL;
        j->at[lv].len = 0;
        j->at[lv].index = 0;
    }
    for (uint32_t index = 0;; index++) {
        if (close == '}') {
            s_ws (j);
            if (j->p >= j->end || *j->p != '"')
                return s_fail (j, "expected object key");
            const unsigned char *key = j->p + 1;
            if (s_string (j))
                return -1;
            if (lv < S_TRACK) {
                j->at[lv].key = key;
                j->at[lv].len = (size_t)(j->p - 1 - key);
            }
            s_ws (j);
            if (j->p >= j->end || *j->p != ':')
                return s_fail (j, "expected ':'");
            j->p++;
        } else if (lv < S_TRACK)
            j->at[lv].index = index;
        if (s_value (j))
            return -1;
        s_ws (j);
        if (j->p >= j->end)
            return s_fail (j, "unexpected end of input");
        if (*j->p == ',') {
            j->p++;
            continue;
        }
        if (*j->p == close) {
            j->p++;
            j->depth++;
            if (j->track)
                j->level--;
            return 0;
        }
        return s_fail (j, close == '}' ? "expected ',' or '}'"
                                       : "expected ',' or ']'");
    }
}

static int
s_value (s_json_t *j)
{
    s_ws (j);
    if (j->p >= j->end)
        return s_fail (j, "unexpected end of input");
    switch (*j->p) {
    case '{':
        return s_container (j, '}');
    case '[':
        return s_container (j, ']');
    case '"':
        return s_string (j);
    case 't':
        return s_lit (j, "true", 4);
    case 'f':
        return s_lit (j, "false", 5);
    case 'n':
        return s_lit (j, "null", 4);
    default:
        if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
            return s_number (j);
        return s_fail (j, "unexpected character");
    }
}

/*  A walk over p[0..n), at most max_depth deep; track: keep the path
    (ef_json_fault_path). */
static s_json_t
s_json (const char *p, size_t n, int max_depth, int track)
{
    s_json_t j = {0};
    j.p = j.start = (const unsigned char *)p;
    j.end = j.p + n;
    j.depth = max_depth;
    j.track = track;
    return j;
}

int
ef_json_validate (const char *p, size_t n, int max_depth, size_t *err_at,
                  const char **why)
{
    s_json_t j = s_json (p, n, max_depth, 0);
    if (s_value (&j) == 0) {
        s_ws (&j);
        if (j.p == j.end)
            return 0;
        j.why = "trailing characters after the value";
    }
    if (err_at)
        *err_at = (size_t)(j.p - j.start);
    if (why)
        *why = j.why;
    return EF_EINVAL;
}

int
ef_json_fault_path (const char *p, size_t n, int max_depth, char *out,
                    size_t size)
{
    s_json_t j = s_json (p, n, max_depth, 1);
    if (size == 0)
        return EF_EINVAL;
    out[0] = 0;
    if (s_value (&j) == 0) {
        /* a value followed by more than white space is refused, at the
           top level (as ef_json_validate refuses it) */
        s_ws (&j);
        return j.p == j.end ? EF_EINVAL : 0;
    }
    size_t o = 0;
    for (int i = 0; i < j.level && i < S_TRACK && o + 1 < size; i++) {
        out[o++] = '/';
        if (!j.at[i].key) {
            int w = snprintf (out + o, size - o, "%u", j.at[i].index);
            o = w < 0 || (size_t)w >= size - o ? size - 1 : o + (size_t)w;
            continue;
        }
        /* the key's raw text, in JSON Pointer's escapes (RFC 6901) */
        for (size_t k = 0; k < j.at[i].len && o + 1 < size; k++) {
            unsigned char c = j.at[i].key[k];
            if ((c == '~' || c == '/') && o + 2 < size) {
                out[o++] = '~';
                out[o++] = c == '~' ? '0' : '1';
            } else if (c != '~' && c != '/')
                out[o++] = (char)c;
        }
    }
    out[o < size ? o : size - 1] = 0;
    return 0;
}

void
ef_json_quote (ef_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (ef_buf_reserve (b, n + 2))
        return;
    b->data[b->len++] = '"';
    size_t run = 0; /* bytes copied verbatim, flushed in one append */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        int u = c >= 0x80 ? (int)ef_str_utf8_char (s + i, n - i) : 0;
        if (u) {
            run += (size_t)u;
            i += (size_t)u - 1;
            continue;
        }
        ef_buf_append (b, s + i - run, run);
        run = 0;
        char esc[7] = {'\\', 0};
        size_t en = 2;
        if (c >= 0x80) {
            /* not UTF-8: JSON text must be, so the byte is replaced */
            ef_buf_append (b, "\\ufffd", 6);
            continue;
        }
        static const char from[] = "\"\\\n\r\t\b\f", to[] = "\"\\nrtbf";
        const char *f = memchr (from, c, sizeof from - 1);
        if (f)
            esc[1] = to[f - from];
        else {
            esc[1] = 'u', esc[2] = '0', esc[3] = '0';
            esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
            en = 6;
        }
        ef_buf_append (b, esc, en);
    }
    ef_buf_append (b, s + n - run, run);
    ef_buf_append (b, "\"", 1);
}

/* ---------------------------------------------------------------- walking */

static const char *
s_skip_ws (const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/*  Past one valid value starting at p. */
static const char *
s_skip_value (const char *p, const char *end)
{
    if (p >= end)
        return p;
    if (*p == '"') {
        for (p++; p < end && *p != '"'; p++)
            if (*p == '\\')
                p++;
        return p < end ? p + 1 : end;
    }
    if (*p == '{' || *p == '[') {
        int depth = 0;
        for (; p < end; p++) {
            if (*p == '"') {
                p = s_skip_value (p, end) - 1;
                continue;
            }
            if (*p == '{' || *p == '[')
                depth++;
            else if ((*p == '}' || *p == ']') && --depth == 0)
                return p + 1;
        }
        return end;
    }
    while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' &&
           *p != '\t' && *p != '\n' && *p != '\r')
        p++;
    return p;
}

int
ef_json_object_each (const char *p, size_t n, ef_json_member_fn *fn, void *arg)
{
    const char *end = p + n;
    p = s_skip_ws (p, end);
    if (p >= end || *p != '{')
        return EF_EINVAL;
    p = s_skip_ws (p + 1, end);
    while (p < end && *p == '"') {
        const char *k = p + 1, *ke = s_skip_value (p, end) - 1;
        p = s_skip_ws (ke + 1, end);
        if (p >= end || *p != ':')
            return EF_EINVAL;
        p = s_skip_ws (p + 1, end);
        const char *v = p;
        p = s_skip_value (p, end);
        ef_str_t key = {k, (uint32_t)(ke - k)};
        ef_str_t val = {v, (uint32_t)(p - v)};
        if (fn (arg, key, val))
            return 0;
        p = s_skip_ws (p, end);
        if (p < end && *p == ',')
            p = s_skip_ws (p + 1, end);
    }
    return 0;
}

int
ef_json_array_each (const char *p, size_t n, ef_json_element_fn *fn, void *arg)
{
    const char *end = p + n;
    uint32_t i = 0;
    p = s_skip_ws (p, end);
    if (p >= end || *p != '[')
        return EF_EINVAL;
    p = s_skip_ws (p + 1, end);
    while (p < end && *p != ']') {
        const char *v = p;
        p = s_skip_value (p, end);
        ef_str_t val = {v, (uint32_t)(p - v)};
        if (fn (arg, i++, val))
            return 0;
        p = s_skip_ws (p, end);
        if (p < end && *p == ',')
            p = s_skip_ws (p + 1, end);
    }
    return 0;
}

char
ef_json_kind (ef_str_t v)
{
    if (!v.ptr || v.len == 0)
        return 0;
    switch (v.ptr[0]) {
    case '{':
        return 'o';
    case '[':
        return 'a';
    case '"':
        return 's';
    case 't':
        return 't';
    case 'f':
        return 'f';
    case 'n':
        return 'z';
    default:
        return 'n';
    }
}

static int
s_hex4 (const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

int
ef_json_unescape (ef_str_t v, char *out, size_t size)
{
    if (ef_json_kind (v) != 's' || v.len < 2 || size == 0)
        return -1;
    const char *p = v.ptr + 1, *end = v.ptr + v.len - 1;
    size_t o = 0;
    while (p < end) {
        uint32_t cp;
        if (*p != '\\') {
            if (o + 1 >= size)
                return -1;
            out[o++] = *p++;
            continue;
        }
        if (p + 1 >= end)
            return -1;
        char e = p[1];
        p += 2;
        switch (e) {
        case 'n':
            cp = '\n';
            break;
        case 't':
            cp = '\t';
            break;
        case 'r':
            cp = '\r';
            break;
        case 'b':
            cp = '\b';
            break;
        case 'f':
            cp = '\f';
            break;
        case 'u': {
            if (end - p < 4)
                return -1;
            int h = s_hex4 (p);
            if (h < 0)
                return -1;
            p += 4;
            cp = (uint32_t)h;
            if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 6 && p[0] == '\\' &&
                p[1] == 'u') {
                int lo = s_hex4 (p + 2);
                if (lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) +
                         ((uint32_t)lo - 0xdc00);
                    p += 6;
                }
            }
            break;
        }
        default:
            cp = (uint32_t)(unsigned char)e;
            break;
        }
        char enc[4];
        size_t k;
        if (cp == 0)
            return -1;
        if (cp < 0x80)
            enc[0] = (char)cp, k = 1;
        else if (cp < 0x800)
            enc[0] = (char)(0xc0 | cp >> 6),
            enc[1] = (char)(0x80 | (cp & 0x3f)), k = 2;
        else if (cp < 0x10000)
            enc[0] = (char)(0xe0 | cp >> 12),
            enc[1] = (char)(0x80 | ((cp >> 6) & 0x3f)),
            enc[2] = (char)(0x80 | (cp & 0x3f)), k = 3;
        else
            enc[0] = (char)(0xf0 | cp >> 18),
            enc[1] = (char)(0x80 | ((cp >> 12) & 0x3f)),
            enc[2] = (char)(0x80 | ((cp >> 6) & 0x3f)),
            enc[3] = (char)(0x80 | (cp & 0x3f)), k = 4;
        if (o + k >= size)
            return -1;
        memcpy (out + o, enc, k);
        o += k;
    }
    out[o] = 0;
    return (int)o;
}

void
ef_json_position (const char *p, size_t n, size_t at, int *line, int *column)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < at && i < n; i++) {
        if (p[i] == '\n')
            l++, c = 1;
        else
            c++;
    }
    *line = l;
    *column = c;
}

/* ---------------------------------------------------------------- from msgpack */

static void
s_from_mp (ef_buf_t *b, ef_mpr_t *r, int times, int depth, int is_time)
{
    ef_str_t s;
    uint64_t u;
    int64_t i;
    int v;
    uint32_t n;
    char num[32];
    if (depth > 16) {
        ef_mpr_skip (r, 32);
        ef_buf_append (b, "null", 4);
    } else if (ef_mpr_nil (r))
        ef_buf_append (b, "null", 4);
    else if (ef_mpr_str (r, &s) == 0)
        ef_json_quote (b, s.ptr, s.len);
    else if (ef_mpr_uint (r, &u) == 0) {
        if (is_time) {
            ef_buf_append (b, "\"", 1);
            ef_time_format (u, num, sizeof num);
            ef_buf_append (b, num, strlen (num));
            ef_buf_append (b, "\"", 1);
        } else
            ef_buf_append (b, num,
                           (size_t)snprintf (num, sizeof num, "%llu",
                                             (unsigned long long)u));
    } else if (ef_mpr_int (r, &i) == 0)
        ef_buf_append (
            b, num, (size_t)snprintf (num, sizeof num, "%lld", (long long)i));
    else if (ef_mpr_bool (r, &v) == 0)
        ef_buf_append (b, v ? "true" : "false", v ? 4 : 5);
    else if (ef_mpr_array (r, &n) == 0) {
        ef_buf_append (b, "[", 1);
        for (uint32_t k = 0; k < n; k++) {
            if (k)
                ef_buf_append (b, ",", 1);
            s_from_mp (b, r, times, depth + 1, 0);
        }
        ef_buf_append (b, "]", 1);
    } else if (ef_mpr_map (r, &n) == 0) {
        ef_buf_append (b, "{", 1);
        for (uint32_t k = 0; k < n; k++) {
            ef_str_t key = EF_STR_NULL;
            if (k)
                ef_buf_append (b, ",", 1);
            if (ef_mpr_str (r, &key) == 0)
                ef_json_quote (b, key.ptr, key.len);
            else {
                ef_buf_append (b, "\"\"", 2); /* only strings key JSON */
                ef_mpr_skip (r, 32);
            }
            ef_buf_append (b, ":", 1);
            int t = times && key.len > 3 &&
                    memcmp (key.ptr + key.len - 3, "_at", 3) == 0;
            s_from_mp (b, r, times, depth + 1, t);
        }
        ef_buf_append (b, "}", 1);
    } else {
        ef_mpr_skip (r, 32);
        ef_buf_append (b, "null", 4);
    }
}

void
ef_json_from_mp (ef_buf_t *b, ef_mpr_t *r, int times)
{
    s_from_mp (b, r, times, 0, 0);
}
