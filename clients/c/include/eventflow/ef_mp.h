/*  ef_mp.h: msgpack primitives for the wire codec. A growable byte buffer
    (ef_buf_t) that msgpack-c's packer writes into, and a bounded,
    zero-copy, zero-allocation reader (ef_mpr_t) that never trusts a
    declared length: every str/bin/array/map/ext header is checked against
    the bytes that remain before anything is read (DESIGN.md §10).
    Thread-safety: values are plain data; use one per thread. */
#ifndef EF_MP_H
#define EF_MP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <msgpack.h>

#ifdef __cplusplus
extern "C" {
#endif

/*  A non-owning slice of bytes (usually into a received frame). */
typedef struct {
    const char *ptr;
    uint32_t len;
} ef_str_t;

#define EF_STR_NULL ((ef_str_t){NULL, 0})
/*  1 if s is set (ptr non-NULL; an empty string is set). */
#define ef_str_set(s) ((s).ptr != NULL)
/*  1 if s equals the n bytes at c. */
static inline int
ef_str_eq_n (ef_str_t s, const char *c, size_t n)
{
    return s.ptr && s.len == n && memcmp (s.ptr, c, n) == 0;
}
/*  1 if s equals the NUL-terminated c (inline, so that a literal's length
    is known when compiling: key matching in the decoders is a length
    compare, then at most one memcmp). */
int ef_str_eq (ef_str_t s, const char *c);
#define ef_str_eq(s, c) ef_str_eq_n ((s), (c), strlen (c))
/*  ef_str_t for a NUL-terminated string (NULL gives EF_STR_NULL). */
ef_str_t ef_str (const char *c);
/*  The bytes of the one UTF-8 character at p (1 to 4), or 0 when the n
    bytes there do not start a valid one: a stray continuation byte, a
    sequence cut short, an overlong form, a surrogate (U+D800 to U+DFFF,
    ED A0 80 and the like) or a code point past U+10FFFF. The one UTF-8
    rule of the code base (protocol.md §1). */
size_t ef_str_utf8_char (const void *p, size_t n);
/*  1 if s is valid UTF-8 throughout (an unset or empty s is). */
int ef_str_utf8 (ef_str_t s);

/*  Growable buffer. data is owned by the buffer. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
    int oom; /* set when a growth failed; the contents are then truncated */
    msgpack_packer pk;
} ef_buf_t;

/*  Prepare b (empty) with its packer bound. Does not allocate. A buffer
    must not be copied by value after this (its packer points at it). */
void ef_buf_init (ef_buf_t *b);
/*  Free b's storage; b may be re-initialised afterwards. */
void ef_buf_free (ef_buf_t *b);
/*  Empty b, keeping its storage. */
void ef_buf_reset (ef_buf_t *b);
/*  Append n bytes; returns 0 or EF_ENOMEM (and sets b->oom). */
int ef_buf_append (ef_buf_t *b, const void *p, size_t n);
/*  Ensure room for n more bytes; 0 or EF_ENOMEM. */
int ef_buf_reserve (ef_buf_t *b, size_t n);
/*  Append printf's text; on EF_ENOMEM b->oom is set and nothing is
    appended. */
int ef_buf_printf (ef_buf_t *b, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
int ef_buf_vprintf (ef_buf_t *b, const char *fmt, va_list ap)
    __attribute__ ((format (printf, 2, 0)));

/*  Packers (the bytes are those msgpack-c's packer writes; a failed
    growth sets b->oom and writes nothing). b->pk remains bound for callers
    that want msgpack-c's own packer. */
void ef_mp_str (ef_buf_t *b, const char *p, size_t n);
void ef_mp_cstr (ef_buf_t *b, const char *s);  /* NULL packs nil */
void ef_mp_xstr (ef_buf_t *b, ef_str_t s);     /* unset packs nil */
void ef_mp_key (ef_buf_t *b, const char *key); /* a non-NULL string */
#define ef_mp_key(b, key) ef_mp_str ((b), (key), strlen (key))
void ef_mp_uint (ef_buf_t *b, uint64_t v);
void ef_mp_int (ef_buf_t *b, int64_t v);
void ef_mp_bool (ef_buf_t *b, int v);
void ef_mp_nil (ef_buf_t *b);
void ef_mp_map (ef_buf_t *b, uint32_t n);
void ef_mp_array (ef_buf_t *b, uint32_t n);

/*  Bounded reader. */
typedef struct {
    const uint8_t *p;
    const uint8_t *end;
} ef_mpr_t;

typedef enum {
    EF_MP_NONE = 0, /* end of input */
    EF_MP_NIL,
    EF_MP_BOOL,
    EF_MP_UINT,
    EF_MP_INT, /* negative */
    EF_MP_FLOAT,
    EF_MP_STR,
    EF_MP_BIN,
    EF_MP_ARRAY,
    EF_MP_MAP,
    EF_MP_EXT,
    EF_MP_BAD /* 0xc1, or a header cut short */
} ef_mp_type_t;

void ef_mpr_init (ef_mpr_t *r, const void *p, size_t n);
/*  Type of the next value, without consuming it. */
ef_mp_type_t ef_mpr_peek (const ef_mpr_t *r);
/*  Typed reads: 0 on success, EF_EINVAL on a type mismatch (nothing
    consumed), EF_EPROTO when the input is cut short or lies about a
    length. Strings are returned as slices into the input. */
int ef_mpr_map (ef_mpr_t *r, uint32_t *n);
int ef_mpr_array (ef_mpr_t *r, uint32_t *n);
int ef_mpr_str (ef_mpr_t *r, ef_str_t *s);
int ef_mpr_uint (ef_mpr_t *r, uint64_t *v);
int ef_mpr_int (ef_mpr_t *r, int64_t *v);
int ef_mpr_bool (ef_mpr_t *r, int *v);
/*  1 and consumed if the next value is nil, else 0. */
int ef_mpr_nil (ef_mpr_t *r);
/*  Skip one whole value (any type), at most max_depth nested. */
int ef_mpr_skip (ef_mpr_t *r, int max_depth);
/*  Check that [p, p+n) holds exactly one well-formed value nested at most
    max_depth deep, with every declared length inside the input.
    0 or EF_EPROTO. Allocates nothing. */
int ef_mp_validate (const void *p, size_t n, int max_depth);

#ifdef __cplusplus
}
#endif
#endif
