/*  ef_mp.c: the growable buffer with its msgpack writers, the bounded
    msgpack reader and whole-frame validation (see ef_mp.h). The reader
    implements the msgpack format spec directly so that no declared length
    is ever used to allocate. */
#include "eventflow/ef_mp.h"
#include "eventflow/ef_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int (ef_str_eq) (ef_str_t s, const char *c)
{
    return ef_str_eq_n (s, c, strlen (c));
}

ef_str_t
ef_str (const char *c)
{
    ef_str_t s = {c, c ? (uint32_t)strlen (c) : 0};
    return s;
}

size_t
ef_str_utf8_char (const void *p, size_t n)
{
    const uint8_t *q = p;
    if (n == 0)
        return 0;
    uint8_t c = q[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) /* c0, c1: overlong two-byte forms */
        len = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((q[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (q[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

int
ef_str_utf8 (ef_str_t s)
{
    if (s.len == 0) /* an unset string's ptr is NULL: NULL + 0 is UB */
        return 1;
    const uint8_t *p = (const uint8_t *)s.ptr, *end = p + s.len;
    while (p < end) {
        if (*p < 0x80) { /* ASCII, most of any text: no call */
            p++;
            continue;
        }
        size_t n = ef_str_utf8_char (p, (size_t)(end - p));
        if (!n)
            return 0;
        p += n;
    }
    return 1;
}

/* ---------------------------------------------------------------- buffer */

static int
s_buf_write (void *data, const char *p, size_t n)
{
    return ef_buf_append ((ef_buf_t *)data, p, n) == 0 ? 0 : -1;
}

void
ef_buf_init (ef_buf_t *b)
{
    memset (b, 0, sizeof *b);
    msgpack_packer_init (&b->pk, b, s_buf_write);
}

void
ef_buf_free (ef_buf_t *b)
{
    free (b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

void
ef_buf_reset (ef_buf_t *b)
{
    b->len = 0;
    b->oom = 0;
}

int
ef_buf_reserve (ef_buf_t *b, size_t n)
{
    if (b->cap - b->len >= n)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n)
        cap *= 2;
    char *data = realloc (b->data, cap);
    if (!data) {
        b->oom = 1;
        return EF_ENOMEM;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

int
ef_buf_append (ef_buf_t *b, const void *p, size_t n)
{
    if (n == 0)
        return 0; /* p may be NULL then: memcpy must not see it */
    if (ef_buf_reserve (b, n))
        return EF_ENOMEM;
    memcpy (b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int
ef_buf_vprintf (ef_buf_t *b, const char *fmt, va_list ap)
{
    va_list again;
    va_copy (again, ap);
    int n = vsnprintf (NULL, 0, fmt, ap);
    int rc = n < 0 ? EF_EINVAL : ef_buf_reserve (b, (size_t)n + 1);
    if (rc == 0) {
        vsnprintf (b->data + b->len, (size_t)n + 1, fmt, again);
        b->len += (size_t)n;
    }
    va_end (again);
    return rc;
}

int
ef_buf_printf (ef_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    int rc = ef_buf_vprintf (b, fmt, ap);
    va_end (ap);
    return rc;
}

/*  The packers write straight into the buffer, one reservation per value:
    the encoding hot path of every reply and record. They produce the same
    bytes as msgpack-c's packer (the unit tests cross-check). */
static uint8_t *
s_room (ef_buf_t *b, size_t n)
{
    if (b->cap - b->len < n && ef_buf_reserve (b, n))
        return NULL;
    return (uint8_t *)b->data + b->len;
}

static size_t
s_put_be (uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
    return (size_t)n;
}

/*  A header: tag byte, then len in n bytes. */
static size_t
s_head_tag (uint8_t *p, uint8_t tag, uint64_t len, int n)
{
    p[0] = tag;
    return 1 + s_put_be (p + 1, len, n);
}

void
ef_mp_str (ef_buf_t *b, const char *p, size_t n)
{
    uint8_t *q = s_room (b, n + 5);
    if (!q)
        return;
    size_t h;
    if (n < 32)
        q[0] = (uint8_t)(0xa0 | n), h = 1;
    else if (n < 256)
        h = s_head_tag (q, 0xd9, n, 1);
    else if (n < 65536)
        h = s_head_tag (q, 0xda, n, 2);
    else
        h = s_head_tag (q, 0xdb, n, 4);
    memcpy (q + h, p, n);
    b->len += h + n;
}

void
ef_mp_cstr (ef_buf_t *b, const char *s)
{
    if (s)
        ef_mp_str (b, s, strlen (s));
    else
        ef_mp_nil (b);
}

void
ef_mp_xstr (ef_buf_t *b, ef_str_t s)
{
    if (s.ptr)
        ef_mp_str (b, s.ptr, s.len);
    else
        ef_mp_nil (b);
}

void (ef_mp_key) (ef_buf_t *b, const char *key)
{
    ef_mp_str (b, key, strlen (key));
}

void
ef_mp_uint (ef_buf_t *b, uint64_t v)
{
    uint8_t *q = s_room (b, 9);
    if (!q)
        return;
    if (v < 128)
        q[0] = (uint8_t)v, b->len += 1;
    else if (v < 256)
        b->len += s_head_tag (q, 0xcc, v, 1);
    else if (v < 65536)
        b->len += s_head_tag (q, 0xcd, v, 2);
    else if (v <= UINT32_MAX)
        b->len += s_head_tag (q, 0xce, v, 4);
    else
        b->len += s_head_tag (q, 0xcf, v, 8);
}

void
ef_mp_int (ef_buf_t *b, int64_t v)
{
    if (v >= 0) {
        ef_mp_uint (b, (uint64_t)v);
        return;
    }
    uint8_t *q = s_room (b, 9);
    if (!q)
        return;
    if (v >= -32)
        q[0] = (uint8_t)(int8_t)v, b->len += 1;
    else if (v >= INT8_MIN)
        b->len += s_head_tag (q, 0xd0, (uint64_t)v, 1);
    else if (v >= INT16_MIN)
        b->len += s_head_tag (q, 0xd1, (uint64_t)v, 2);
    else if (v >= INT32_MIN)
        b->len += s_head_tag (q, 0xd2, (uint64_t)v, 4);
    else
        b->len += s_head_tag (q, 0xd3, (uint64_t)v, 8);
}

static void
s_byte (ef_buf_t *b, uint8_t c)
{
    uint8_t *q = s_room (b, 1);
    if (q) {
        q[0] = c;
        b->len++;
    }
}

void
ef_mp_bool (ef_buf_t *b, int v)
{
    s_byte (b, v ? 0xc3 : 0xc2);
}

void
ef_mp_nil (ef_buf_t *b)
{
    s_byte (b, 0xc0);
}

static void
s_container (ef_buf_t *b, uint32_t n, uint8_t fix, uint8_t t16, uint8_t t32)
{
    uint8_t *q = s_room (b, 5);
    if (!q)
        return;
    if (n < 16)
        q[0] = (uint8_t)(fix | n), b->len += 1;
    else if (n < 65536)
        b->len += s_head_tag (q, t16, n, 2);
    else
        b->len += s_head_tag (q, t32, n, 4);
}

void
ef_mp_map (ef_buf_t *b, uint32_t n)
{
    s_container (b, n, 0x80, 0xde, 0xdf);
}

void
ef_mp_array (ef_buf_t *b, uint32_t n)
{
    s_container (b, n, 0x90, 0xdc, 0xdd);
}

/* ---------------------------------------------------------------- reader */

void
ef_mpr_init (ef_mpr_t *r, const void *p, size_t n)
{
    r->p = (const uint8_t *)p;
    r->end = r->p + n;
}

static uint64_t
s_be (const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/*  Decode the header at r->p: its type, the header's size, and for
    containers/strings the declared count or length. Returns 0, or
    EF_EPROTO when the header itself is cut short or is 0xc1. */
typedef struct {
    ef_mp_type_t type;
    size_t hdr;   /* bytes of header */
    uint64_t len; /* str/bin/ext body bytes, or array/map element count */
    uint64_t u;   /* uint value / bool */
    int64_t i;    /* negative int value */
} s_head_t;

static int
s_head (const ef_mpr_t *r, s_head_t *h)
{
    size_t avail = (size_t)(r->end - r->p);
    h->len = 0;
    h->u = 0;
    h->i = 0;
    if (avail == 0) {
        h->type = EF_MP_NONE;
        return EF_EPROTO;
    }
    uint8_t c = r->p[0];
    const uint8_t *q = r->p + 1;
    size_t need = 1;
#define NEED(n)                                                                \
    do {                                                                       \
        need = 1 + (n);                                                        \
        if (avail < need)                                                      \
            goto cut;                                                          \
    } while (0)
    if (c <= 0x7f) {
        h->type = EF_MP_UINT, h->u = c;
    } else if (c >= 0xe0) {
        h->type = EF_MP_INT, h->i = (int8_t)c;
    } else if ((c & 0xf0) == 0x80) {
        h->type = EF_MP_MAP, h->len = c & 0x0f;
    } else if ((c & 0xf0) == 0x90) {
        h->type = EF_MP_ARRAY, h->len = c & 0x0f;
    } else if ((c & 0xe0) == 0xa0) {
        h->type = EF_MP_STR, h->len = c & 0x1f;
    } else {
        switch (c) {
        case 0xc0:
            h->type = EF_MP_NIL;
            break;
        case 0xc2:
            h->type = EF_MP_BOOL, h->u = 0;
            break;
        case 0xc3:
            h->type = EF_MP_BOOL, h->u = 1;
            break;
        case 0xc4:
            NEED (1);
            h->type = EF_MP_BIN, h->len = q[0];
            break;
        case 0xc5:
            NEED (2);
            h->type = EF_MP_BIN, h->len = s_be (q, 2);
            break;
        case 0xc6:
            NEED (4);
            h->type = EF_MP_BIN, h->len = s_be (q, 4);
            break;
        case 0xc7:
            NEED (2);
            h->type = EF_MP_EXT, h->len = q[0];
            break;
        case 0xc8:
            NEED (3);
            h->type = EF_MP_EXT, h->len = s_be (q, 2);
            break;
        case 0xc9:
            NEED (5);
            h->type = EF_MP_EXT, h->len = s_be (q, 4);
            break;
        case 0xca:
            NEED (4);
            h->type = EF_MP_FLOAT;
            break;
        case 0xcb:
            NEED (8);
            h->type = EF_MP_FLOAT;
            break;
        case 0xcc:
            NEED (1);
            h->type = EF_MP_UINT, h->u = q[0];
            break;
        case 0xcd:
            NEED (2);
            h->type = EF_MP_UINT, h->u = s_be (q, 2);
            break;
        case 0xce:
            NEED (4);
            h->type = EF_MP_UINT, h->u = s_be (q, 4);
            break;
        case 0xcf:
            NEED (8);
            h->type = EF_MP_UINT, h->u = s_be (q, 8);
            break;
        case 0xd0:
            NEED (1);
            h->i = (int8_t)q[0];
            goto sint;
        case 0xd1:
            NEED (2);
            h->i = (int16_t)s_be (q, 2);
            goto sint;
        case 0xd2:
            NEED (4);
            h->i = (int32_t)s_be (q, 4);
            goto sint;
        case 0xd3:
            NEED (8);
            h->i = (int64_t)s_be (q, 8);
            goto sint;
        case 0xd4:
            NEED (1);
            h->type = EF_MP_EXT, h->len = 1;
            break;
        case 0xd5:
            NEED (1);
            h->type = EF_MP_EXT, h->len = 2;
            break;
        case 0xd6:
            NEED (1);
            h->type = EF_MP_EXT, h->len = 4;
            break;
        case 0xd7:
            NEED (1);
            h->type = EF_MP_EXT, h->len = 8;
            break;
        case 0xd8:
            NEED (1);
            h->type = EF_MP_EXT, h->len = 16;
            break;
        case 0xd9:
            NEED (1);
            h->type = EF_MP_STR, h->len = q[0];
            break;
        case 0xda:
            NEED (2);
            h->type = EF_MP_STR, h->len = s_be (q, 2);
            break;
        case 0xdb:
            NEED (4);
            h->type = EF_MP_STR, h->len = s_be (q, 4);
            break;
        case 0xdc:
            NEED (2);
            h->type = EF_MP_ARRAY, h->len = s_be (q, 2);
            break;
        case 0xdd:
            NEED (4);
            h->type = EF_MP_ARRAY, h->len = s_be (q, 4);
            break;
        case 0xde:
            NEED (2);
            h->type = EF_MP_MAP, h->len = s_be (q, 2);
            break;
        case 0xdf:
            NEED (4);
            h->type = EF_MP_MAP, h->len = s_be (q, 4);
            break;
        default:
            h->type = EF_MP_BAD;
            return EF_EPROTO; /* 0xc1 */
        }
    }
#undef NEED
    h->hdr = need;
    /* A body or element count may never exceed what remains: each element
       takes at least one byte, each map entry two. */
    size_t rest = avail - need;
    if (h->type == EF_MP_STR || h->type == EF_MP_BIN)
        return h->len <= rest ? 0 : EF_EPROTO;
    if (h->type == EF_MP_EXT) /* the header includes the type byte */
        return h->len <= rest ? 0 : EF_EPROTO;
    if (h->type == EF_MP_ARRAY)
        return h->len <= rest ? 0 : EF_EPROTO;
    if (h->type == EF_MP_MAP)
        return h->len <= rest / 2 ? 0 : EF_EPROTO;
    return 0;
sint:
    h->hdr = need;
    if (h->i >= 0)
        h->type = EF_MP_UINT, h->u = (uint64_t)h->i;
    else
        h->type = EF_MP_INT;
    return 0;
cut:
    h->type = EF_MP_BAD;
    return EF_EPROTO;
}

ef_mp_type_t
ef_mpr_peek (const ef_mpr_t *r)
{
    s_head_t h;
    if (s_head (r, &h))
        return h.type == EF_MP_NONE ? EF_MP_NONE : EF_MP_BAD;
    return h.type;
}

static int
s_expect (ef_mpr_t *r, ef_mp_type_t type, s_head_t *h)
{
    int rc = s_head (r, h);
    if (rc)
        return rc;
    if (h->type != type)
        return EF_EINVAL;
    r->p += h->hdr;
    return 0;
}

/*  The fast paths below take the one-byte forms the codec writes most
    (fixmap, fixstr, str8, positive fixint, uint64) without the general
    header decoder; anything else, and every error, goes the long way. */

int
ef_mpr_map (ef_mpr_t *r, uint32_t *n)
{
    if (r->p < r->end && (r->p[0] & 0xf0) == 0x80 &&
        (size_t)(r->end - r->p - 1) / 2 >= (r->p[0] & 0x0fu)) {
        *n = r->p[0] & 0x0fu;
        r->p++;
        return 0;
    }
    s_head_t h;
    int rc = s_expect (r, EF_MP_MAP, &h);
    if (rc == 0)
        *n = (uint32_t)h.len;
    return rc;
}

int
ef_mpr_array (ef_mpr_t *r, uint32_t *n)
{
    s_head_t h;
    int rc = s_expect (r, EF_MP_ARRAY, &h);
    if (rc == 0)
        *n = (uint32_t)h.len;
    return rc;
}

int
ef_mpr_str (ef_mpr_t *r, ef_str_t *s)
{
    size_t avail = (size_t)(r->end - r->p);
    if (avail && (r->p[0] & 0xe0) == 0xa0 && avail - 1 >= (r->p[0] & 0x1fu)) {
        s->len = r->p[0] & 0x1fu;
        s->ptr = (const char *)r->p + 1;
        r->p += 1 + s->len;
        return 0;
    }
    if (avail >= 2 && r->p[0] == 0xd9 && avail - 2 >= r->p[1]) {
        s->len = r->p[1];
        s->ptr = (const char *)r->p + 2;
        r->p += 2 + s->len;
        return 0;
    }
    s_head_t h;
    int rc = s_expect (r, EF_MP_STR, &h);
    if (rc == 0) {
        s->ptr = (const char *)r->p;
        s->len = (uint32_t)h.len;
        r->p += h.len;
    }
    return rc;
}

int
ef_mpr_uint (ef_mpr_t *r, uint64_t *v)
{
    if (r->p < r->end && r->p[0] <= 0x7f) {
        *v = *r->p++;
        return 0;
    }
    if (r->end - r->p >= 9 && r->p[0] == 0xcf) {
        *v = s_be (r->p + 1, 8);
        r->p += 9;
        return 0;
    }
    s_head_t h;
    int rc = s_expect (r, EF_MP_UINT, &h);
    if (rc == 0)
        *v = h.u;
    return rc;
}

int
ef_mpr_int (ef_mpr_t *r, int64_t *v)
{
    s_head_t h;
    int rc = s_head (r, &h);
    if (rc)
        return rc;
    if (h.type == EF_MP_INT)
        *v = h.i;
    else if (h.type == EF_MP_UINT && h.u <= INT64_MAX)
        *v = (int64_t)h.u;
    else
        return EF_EINVAL;
    r->p += h.hdr;
    return 0;
}

int
ef_mpr_bool (ef_mpr_t *r, int *v)
{
    s_head_t h;
    int rc = s_expect (r, EF_MP_BOOL, &h);
    if (rc == 0)
        *v = (int)h.u;
    return rc;
}

int
ef_mpr_nil (ef_mpr_t *r)
{
    if (r->p < r->end && r->p[0] == 0xc0) {
        r->p++;
        return 1;
    }
    return 0;
}

int
ef_mpr_skip (ef_mpr_t *r, int max_depth)
{
    size_t avail = (size_t)(r->end - r->p);
    if (avail) {
        uint8_t c = r->p[0];
        if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) {
            r->p++;
            return 0;
        }
        if ((c & 0xe0) == 0xa0 && avail - 1 >= (c & 0x1fu)) {
            r->p += 1 + (c & 0x1fu);
            return 0;
        }
        if (c == 0xd9 && avail >= 2 && avail - 2 >= r->p[1]) {
            r->p += 2 + r->p[1];
            return 0;
        }
        if (c >= 0xcc && c <= 0xcf) { /* uint 8..64 */
            size_t n = (size_t)2 + ((1u << (c - 0xcc)) - 1);
            if (avail >= n) {
                r->p += n;
                return 0;
            }
        }
    }
    s_head_t h;
    int rc = s_head (r, &h);
    if (rc)
        return rc;
    r->p += h.hdr;
    switch (h.type) {
    case EF_MP_STR:
    case EF_MP_BIN:
    case EF_MP_EXT:
        r->p += h.len;
        return 0;
    case EF_MP_FLOAT:
        return 0; /* header size covers the body */
    case EF_MP_ARRAY:
    case EF_MP_MAP: {
        if (max_depth <= 0)
            return EF_EPROTO;
        uint64_t n = h.type == EF_MP_MAP ? h.len * 2 : h.len;
        for (uint64_t i = 0; i < n; i++)
            if ((rc = ef_mpr_skip (r, max_depth - 1)))
                return rc;
        return 0;
    }
    default:
        return 0;
    }
}

int
ef_mp_validate (const void *p, size_t n, int max_depth)
{
    ef_mpr_t r;
    ef_mpr_init (&r, p, n);
    if (ef_mpr_skip (&r, max_depth))
        return EF_EPROTO;
    return r.p == r.end ? 0 : EF_EPROTO;
}
