/*  ef_patch.h: JSON Patch (RFC 6902) over JSON Pointer (RFC 6901). A patch
    document is compiled once into an immutable ef_patch_t, which checks
    its shape (an array of at most EF_PATCH_MAX_OPS operations, each with a
    known "op", a "path" that is a JSON Pointer, "from" and "value" where
    the op needs them) and decodes every pointer into its reference tokens.
    A compiled patch is then applied to any number of documents, from any
    number of threads at once. Application is atomic: it works on a private
    copy of the document, so a patch that fails at its last operation
    leaves nothing behind, and the caller's input is never touched.

    Limits, all from jansson, which holds the documents: integers must fit
    in 64 bits and reals in a double (else the text is not accepted as
    JSON); object member names cannot contain U+0000 (string values can);
    a document nests at most EF_PATCH_MAX_DEPTH arrays and objects, the
    depth jansson's parser accepts, so every result can be parsed again.

    Thread-safety: ef_patch_compile and ef_patch_destroy work only on their
    arguments; ef_patch_apply and ef_patch_apply_json only read the patch,
    so any number of threads may apply one patch at once (it must not be
    destroyed meanwhile). There is no global state. */
#ifndef EF_PATCH_H
#define EF_PATCH_H

#include <stddef.h>

#include <jansson.h>

#define EF_PATCH_MAX_OPS   1000 /* operations in one patch document */
#define EF_PATCH_MAX_DEPTH 2048 /* nesting of a document, as jansson parses */
/*  A patch applied under a bound max may copy, measure and compare at
    most this many times max bytes in all (see ef_patch_apply_json). */
#define EF_PATCH_WORK_FACTOR 4

typedef struct ef_patch ef_patch_t;

/*  Compile a JSON Patch document.
    text:    the patch as JSON text, len bytes (not necessarily
             NUL-terminated); may be NULL only when len is 0.
    err:     if not NULL, receives 0 on success or the error code.
    why:     if not NULL and why_len > 0, receives a NUL-terminated English
             reason on failure (truncated to fit), "" on success.
    The document must be a JSON array of at most EF_PATCH_MAX_OPS objects
    without duplicate member names (RFC 6902 A.13), each with a string "op"
    among add, remove, replace, move, copy, test; a string "path"; a string
    "from" for move and copy; a "value" (any JSON) for add, replace and
    test. Members an op does not use are ignored (A.11). "path" and "from"
    must be JSON Pointers: "" or "/" followed by reference tokens in which
    every "~" is followed by "0" or "1", and no token may contain U+0000.
    Returns a new patch, owned by the caller (ef_patch_destroy), or NULL
    with EF_EINVAL when the text is not JSON or not a valid patch, or
    EF_ENOMEM. Thread-safe. */
ef_patch_t *ef_patch_compile (const char *text, size_t len, int *err, char *why,
                              size_t why_len);

/*  Destroy a patch and set *self_p to NULL. Safe when self_p or *self_p is
    NULL. No thread may be applying the patch. */
void ef_patch_destroy (ef_patch_t **self_p);

/*  Apply a patch to a document given as JSON text.
    self:    the patch (read only).
    doc:     the document as JSON text (any JSON value at the root), len
             bytes, not necessarily NUL-terminated; may be NULL only when
             len is 0. When a member name appears twice, the last one wins.
    max:     as for ef_patch_apply_json: the bound on every document on
             the way and on the patch's work; SIZE_MAX for none.
    out:     on success, receives a new compact JSON text of the result,
             NUL-terminated, owned by the caller (free it with free());
             on failure, receives NULL. Numbers are written with 17
             significant digits, so that every double reads back the same.
    out_len: if not NULL, receives the length of *out (0 on failure).
    why:     as for ef_patch_compile.
    The operations run in order on a private copy, each on the result of
    the one before, exactly as RFC 6902 section 4 says.
    Returns 0; EF_EINVAL when doc is not JSON; EF_ECONFLICT when an
    operation cannot be carried out: a "test" whose value is not equal
    (deep equality, numbers by value so 1 equals 1.0, member order
    ignored), a path that does not exist for remove, replace or test or a
    "from" that does not exist for move or copy, an array index out of
    range or not an index ("-" names no element, so it serves only as the
    path of add, move and copy, where it appends; leading zeros are not
    allowed), a path through a string, number, boolean or null, moving a
    value into one of its own children, removing the root; EF_ETOOBIG
    when the result would nest deeper than EF_PATCH_MAX_DEPTH or go past
    max (see ef_patch_apply_json); EF_ENOMEM.
    On any failure the document is unchanged and nothing is returned.
    Thread-safe. */
int ef_patch_apply (const ef_patch_t *self, const char *doc, size_t len,
                    size_t max, char **out, size_t *out_len, char *why,
                    size_t why_len);

/*  Apply a patch to a jansson value, as ef_patch_apply does to text,
    keeping the document within max bytes.
    self:    the patch (read only).
    doc:     the document; not modified (the patch is applied to a deep
             copy). It must not be modified by another thread meanwhile.
    max:     the most bytes the document may take, as compact JSON text
             with 17-digit reals (how the broker writes it), before, after
             and between operations; SIZE_MAX for no bound. Each operation
             works out the size it leads to before it copies or adds
             anything, so a patch that would exceed max (k copies of the
             root double it k times) fails without building the large
             document. Under a bound the patch also has a work budget:
             the bytes its operations copy, measure and compare (a copy
             of v costs 3 times v's size: measured, its depth, copied; a
             move 2; a remove or test 1; replace the old value and the
             new) add up to at most EF_PATCH_WORK_FACTOR × max, else
             EF_ETOOBIG. A document within max can still be copied aside
             and removed again once per operation; the budget keeps that
             to a few times what one event may carry.
    err:     if not NULL, receives 0 on success or the error code.
    why:     as for ef_patch_compile.
    Returns the patched copy, a new reference owned by the caller
    (json_decref), or NULL with EF_EINVAL (doc is NULL), EF_ECONFLICT,
    EF_ETOOBIG (doc or the result nests deeper than EF_PATCH_MAX_DEPTH,
    doc or a document on the way is larger than max, or the work budget
    is spent) or EF_ENOMEM, with
    the same meanings as for ef_patch_apply. Thread-safe. */
json_t *ef_patch_apply_json (const ef_patch_t *self, const json_t *doc,
                             size_t max, int *err, char *why, size_t why_len);

/*  How many operations the patch has. */
size_t ef_patch_ops (const ef_patch_t *self);

#endif
