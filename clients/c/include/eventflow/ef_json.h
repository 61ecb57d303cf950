/*  ef_json.h: the JSON that the hot paths need without a DOM: a strict
    RFC 8259 validator (one value, valid UTF-8, bounded nesting) that
    allocates nothing and can name its first fault's JSON Pointer and line
    and column; walking the members of an object and the elements of an
    array as raw slices; a value's kind and a string's unescaped text;
    msgpack written out as JSON; and string quoting for writers.
    Thread-safety: pure functions. */
#ifndef EF_JSON_H
#define EF_JSON_H

#include <stddef.h>
#include "eventflow/ef_mp.h"

#ifdef __cplusplus
extern "C" {
#endif

/*  Check that [p, p+n) is exactly one JSON value (surrounding white space
    allowed) nested at most max_depth deep, its strings valid UTF-8 (see
    ef_str_utf8_char) with no lone surrogate in a \u escape ("\ud800"
    alone; a high-low pair is one character). Returns 0, or EF_EINVAL with
    *err_at (if not NULL) set to the byte offset of the fault and *why to a
    static description. */
int ef_json_validate (const char *p, size_t n, int max_depth, size_t *err_at,
                      const char **why);
/*  Where ef_json_validate stopped in a text it refuses, as a JSON Pointer
    (RFC 6901; keys as they are written, escapes left in) of the innermost
    member or element it was in: "/0/type" for a bad string in the first
    item's type. At most 32 levels are named. Writes a NUL-terminated
    path of at most size - 1 bytes to out ("" for the top level) and
    returns 0, or EF_EINVAL when the text is valid. */
int ef_json_fault_path (const char *p, size_t n, int max_depth, char *out,
                        size_t size);

/*  Walking a document already checked by ef_json_validate, without a DOM:
    the raw text of each member or element is handed out as a slice, so a
    payload travels byte for byte as it came. */
typedef int (ef_json_member_fn) (void *arg, ef_str_t key, ef_str_t value);
typedef int (ef_json_element_fn) (void *arg, uint32_t index, ef_str_t value);
/*  Visit the members of the object in [p, p+n): key is the raw text
    between the quotes (escapes left in), value the raw value text. fn
    returns non-zero to stop. EF_EINVAL when the text is not an object. */
int ef_json_object_each (const char *p, size_t n, ef_json_member_fn *fn,
                         void *arg);
/*  Visit the elements of the array in [p, p+n). EF_EINVAL when not an
    array. */
int ef_json_array_each (const char *p, size_t n, ef_json_element_fn *fn,
                        void *arg);
/*  The kind of a raw value: 'o'bject, 'a'rray, 's'tring, 'n'umber,
    't'rue, 'f'alse, 'z' (null), or 0 for nothing. */
char ef_json_kind (ef_str_t value);
/*  Decode the string value (with its quotes) into out (NUL-terminated).
    The length, or -1 when it is not a string, does not fit, or holds a
    NUL. */
int ef_json_unescape (ef_str_t value, char *out, size_t size);
/*  Line and column (from 1) of byte offset at in [p, p+n). */
void ef_json_position (const char *p, size_t n, size_t at, int *line,
                       int *column);

/*  Append one msgpack value as JSON. With times set, an unsigned integer
    under a key ending in "_at" is written as an RFC 3339 string (the
    protocol's times are ms). Nesting deeper than EF_MSGPACK_DEPTH is
    written as null. */
void ef_json_from_mp (ef_buf_t *b, ef_mpr_t *r, int times);

/*  Append s as a quoted, escaped JSON string to b; a byte that is not
    part of valid UTF-8 becomes U+FFFD, so the result is always JSON. */
void ef_json_quote (ef_buf_t *b, const char *s, size_t n);

#ifdef __cplusplus
}
#endif
#endif
