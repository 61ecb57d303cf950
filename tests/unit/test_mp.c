/*  test_mp.c: unit tests of ef_mp (the growable buffer, the packing helpers
    and the bounded msgpack reader). The reader is the first thing a peer's
    bytes meet, so besides decoding every msgpack type it must refuse every
    header that is cut short or that claims more than the frame holds, and
    do so without allocating: malloc/calloc/realloc are wrapped at link time
    (see CMakeLists.txt) so that a test can count the library's calls, or
    make them fail. The hand-written packers are cross-checked byte for
    byte against msgpack-c's own packer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eventflow/ef_error.h"
#include "eventflow/ef_mp.h"

/* ---------------------------------------------------------------- heap calls
 */

static size_t s_heap_calls;
static int s_heap_fail; /* when set, every wrapped call returns NULL */

void *__real_malloc (size_t n);
void *__real_calloc (size_t n, size_t size);
void *__real_realloc (void *p, size_t n);

void *
__wrap_malloc (size_t n)
{
    s_heap_calls++;
    return s_heap_fail ? NULL : __real_malloc (n);
}

void *
__wrap_calloc (size_t n, size_t size)
{
    s_heap_calls++;
    return s_heap_fail ? NULL : __real_calloc (n, size);
}

void *
__wrap_realloc (void *p, size_t n)
{
    s_heap_calls++;
    return s_heap_fail ? NULL : __real_realloc (p, n);
}

/* ---------------------------------------------------------------- helpers */

#define BYTES(...)                                                             \
    ((const uint8_t[]){__VA_ARGS__}), sizeof ((const uint8_t[]){__VA_ARGS__})

/*  A value that must validate and be skipped whole, with peek giving type. */
static void
s_check_whole (const uint8_t *p, size_t n, ef_mp_type_t type)
{
    ef_mpr_t r;
    ef_mpr_init (&r, p, n);
    assert_int_equal (ef_mpr_peek (&r), type);
    assert_int_equal (ef_mp_validate (p, n, 16), 0);
    assert_int_equal (ef_mpr_skip (&r, 16), 0);
    assert_ptr_equal (r.p, p + n);
    assert_int_equal (ef_mpr_peek (&r), EF_MP_NONE);
}

/*  Bytes that must be refused as malformed by validate, skip and peek. */
static void
s_check_proto (const uint8_t *p, size_t n)
{
    ef_mpr_t r;
    ef_mpr_init (&r, p, n);
    assert_int_equal (ef_mp_validate (p, n, 16), EF_EPROTO);
    assert_int_equal (ef_mpr_skip (&r, 16), EF_EPROTO);
}

/* ---------------------------------------------------------------- types */

static void
test_scalars_decode_with_their_values (void **state)
{
    (void)state;
    ef_mpr_t r;
    uint64_t u;
    int64_t i;
    int b;

    ef_mpr_init (&r, BYTES (0xc0));
    assert_int_equal (ef_mpr_peek (&r), EF_MP_NIL);
    assert_int_equal (ef_mpr_nil (&r), 1);
    assert_int_equal (ef_mpr_peek (&r), EF_MP_NONE);

    ef_mpr_init (&r, BYTES (0xc3, 0xc2));
    assert_int_equal (ef_mpr_bool (&r, &b), 0);
    assert_int_equal (b, 1);
    assert_int_equal (ef_mpr_bool (&r, &b), 0);
    assert_int_equal (b, 0);

    /* every unsigned width */
    ef_mpr_init (&r, BYTES (0x7f, 0xcc, 0xff, 0xcd, 0x12, 0x34, 0xce, 0x12,
                            0x34, 0x56, 0x78, 0xcf, 0xff, 0xff, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0xff));
    assert_int_equal (ef_mpr_uint (&r, &u), 0);
    assert_int_equal (u, 0x7f);
    assert_int_equal (ef_mpr_uint (&r, &u), 0);
    assert_int_equal (u, 0xff);
    assert_int_equal (ef_mpr_uint (&r, &u), 0);
    assert_int_equal (u, 0x1234);
    assert_int_equal (ef_mpr_uint (&r, &u), 0);
    assert_int_equal (u, 0x12345678);
    assert_int_equal (ef_mpr_uint (&r, &u), 0);
    assert_true (u == UINT64_MAX);
    assert_int_equal (ef_mpr_peek (&r), EF_MP_NONE);

    /* every signed width, negative values */
    ef_mpr_init (&r, BYTES (0xff, 0xe0, 0xd0, 0x80, 0xd1, 0x80, 0x00, 0xd2,
                            0x80, 0x00, 0x00, 0x00, 0xd3, 0x80, 0x00, 0x00,
                            0x00, 0x00, 0x00, 0x00, 0x00));
    assert_int_equal (ef_mpr_peek (&r), EF_MP_INT);
    assert_int_equal (ef_mpr_int (&r, &i), 0);
    assert_true (i == -1);
    assert_int_equal (ef_mpr_int (&r, &i), 0);
    assert_true (i == -32);
    assert_int_equal (ef_mpr_int (&r, &i), 0);
    assert_true (i == -128);
    assert_int_equal (ef_mpr_int (&r, &i), 0);
    assert_true (i == -32768);
    assert_int_equal (ef_mpr_int (&r, &i), 0);
    assert_true (i == INT32_MIN);
    assert_int_equal (ef_mpr_int (&r, &i), 0);
    assert_true (i == INT64_MIN);

    /* a signed encoding of a non-negative value reads as a uint */
    ef_mpr_init (&r, BYTES (0xd0, 0x05, 0xd3, 0, 0, 0, 0, 0, 0, 0x01, 0x00));
    assert_int_equal (ef_mpr_peek (&r), EF_MP_UINT);
    assert_int_equal (ef_mpr_uint (&r, &u), 0);
    assert_int_equal (u, 5);
    assert_int_equal (ef_mpr_uint (&r, &u), 0);
    assert_int_equal (u, 256);

    /* floats: typed, sized, skippable */
    s_check_whole (BYTES (0xca, 0x3f, 0x80, 0x00, 0x00), EF_MP_FLOAT);
    s_check_whole (BYTES (0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0), EF_MP_FLOAT);
}

static void
test_int_reader_takes_uints_up_to_int64_max_only (void **state)
{
    (void)state;
    ef_mpr_t r;
    int64_t i;
    ef_mpr_init (&r,
                 BYTES (0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
    assert_int_equal (ef_mpr_int (&r, &i), 0);
    assert_true (i == INT64_MAX);
    ef_mpr_init (&r, BYTES (0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0));
    assert_int_equal (ef_mpr_int (&r, &i), EF_EINVAL);
    assert_int_equal (r.end - r.p, 9); /* nothing consumed */
}

static void
test_strings_of_every_width_decode_as_slices (void **state)
{
    (void)state;
    ef_mpr_t r;
    ef_str_t s;

    ef_mpr_init (&r, BYTES (0xa3, 'a', 'b', 'c', 0xa0));
    assert_int_equal (ef_mpr_str (&r, &s), 0);
    assert_int_equal (s.len, 3);
    assert_memory_equal (s.ptr, "abc", 3);
    assert_int_equal (ef_mpr_str (&r, &s), 0);
    assert_non_null (s.ptr); /* an empty string is set */
    assert_int_equal (s.len, 0);

    ef_mpr_init (&r, BYTES (0xd9, 2, 'h', 'i', 0xda, 0, 2, 'y', 'o', 0xdb, 0, 0,
                            0, 1, 'z'));
    assert_int_equal (ef_mpr_str (&r, &s), 0);
    assert_true (ef_str_eq (s, "hi"));
    assert_int_equal (ef_mpr_str (&r, &s), 0);
    assert_true (ef_str_eq (s, "yo"));
    assert_int_equal (ef_mpr_str (&r, &s), 0);
    assert_true (ef_str_eq (s, "z"));
    assert_int_equal (ef_mpr_peek (&r), EF_MP_NONE);

    /* a 300-byte str16 and str32 */
    uint8_t big[5 + 300];
    big[0] = 0xdb, big[1] = 0, big[2] = 0, big[3] = 0x01, big[4] = 0x2c;
    memset (big + 5, 'x', 300);
    ef_mpr_init (&r, big, sizeof big);
    assert_int_equal (ef_mpr_str (&r, &s), 0);
    assert_int_equal (s.len, 300);
    assert_ptr_equal (s.ptr, (const char *)big + 5);
}

static void
test_bin_of_every_width_is_typed_and_skipped (void **state)
{
    (void)state;
    s_check_whole (BYTES (0xc4, 2, 0xde, 0xad), EF_MP_BIN);
    s_check_whole (BYTES (0xc5, 0, 1, 0xff), EF_MP_BIN);
    s_check_whole (BYTES (0xc6, 0, 0, 0, 3, 1, 2, 3), EF_MP_BIN);
    s_check_whole (BYTES (0xc4, 0), EF_MP_BIN);
    /* a bin is not a str */
    ef_mpr_t r;
    ef_str_t s;
    ef_mpr_init (&r, BYTES (0xc4, 1, 'a'));
    assert_int_equal (ef_mpr_str (&r, &s), EF_EINVAL);
}

static void
test_arrays_and_maps_of_every_width_give_their_counts (void **state)
{
    (void)state;
    ef_mpr_t r;
    uint32_t n;

    ef_mpr_init (&r, BYTES (0x92, 0x01, 0x02));
    assert_int_equal (ef_mpr_array (&r, &n), 0);
    assert_int_equal (n, 2);
    ef_mpr_init (&r, BYTES (0xdc, 0x00, 0x03, 1, 2, 3));
    assert_int_equal (ef_mpr_array (&r, &n), 0);
    assert_int_equal (n, 3);
    ef_mpr_init (&r, BYTES (0xdd, 0, 0, 0, 1, 0xc0));
    assert_int_equal (ef_mpr_array (&r, &n), 0);
    assert_int_equal (n, 1);

    ef_mpr_init (&r, BYTES (0x81, 0xa1, 'k', 0x01));
    assert_int_equal (ef_mpr_map (&r, &n), 0);
    assert_int_equal (n, 1);
    ef_mpr_init (&r, BYTES (0xde, 0, 1, 0x01, 0x02));
    assert_int_equal (ef_mpr_map (&r, &n), 0);
    assert_int_equal (n, 1);
    ef_mpr_init (&r, BYTES (0xdf, 0, 0, 0, 2, 1, 2, 3, 4));
    assert_int_equal (ef_mpr_map (&r, &n), 0);
    assert_int_equal (n, 2);

    s_check_whole (BYTES (0x90), EF_MP_ARRAY);
    s_check_whole (BYTES (0x80), EF_MP_MAP);
    s_check_whole (
        BYTES (0x82, 0xa1, 'a', 0x92, 1, 0x81, 2, 3, 0xa1, 'b', 0xc0),
        EF_MP_MAP);
}

static void
test_ext_types_of_every_width_are_skipped_exactly (void **state)
{
    (void)state;
    s_check_whole (BYTES (0xd4, 0x01, 0xaa), EF_MP_EXT);
    s_check_whole (BYTES (0xd5, 0x01, 1, 2), EF_MP_EXT);
    s_check_whole (BYTES (0xd6, 0xff, 1, 2, 3, 4), EF_MP_EXT); /* timestamp32 */
    s_check_whole (BYTES (0xd7, 0x01, 1, 2, 3, 4, 5, 6, 7, 8), EF_MP_EXT);
    s_check_whole (BYTES (0xd8, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                          14, 15, 16),
                   EF_MP_EXT);
    s_check_whole (BYTES (0xc7, 0, 0x05), EF_MP_EXT); /* ext8, empty body */
    s_check_whole (BYTES (0xc7, 3, 0x05, 1, 2, 3), EF_MP_EXT);
    s_check_whole (BYTES (0xc8, 0, 2, 0x05, 1, 2), EF_MP_EXT);
    s_check_whole (BYTES (0xc9, 0, 0, 0, 1, 0x05, 0xc1), EF_MP_EXT);

    /* In a sequence, each skip lands exactly on the next value: the ext
       bodies hold bytes that would be wrong as headers (0xc1, 0xdd). */
    const uint8_t seq[] = {0x98, 0xd4, 0x01, 0xc1, 0xd5, 0x01, 0xdd, 0xdd, 0xc7,
                           2,    0x01, 0xc1, 0xc1, 0xc8, 0,    1,    0x01, 0xdd,
                           0xc9, 0,    0,    0,    1,    0x01, 0xc1, 0xd6, 0x01,
                           0xc1, 0xc1, 0xc1, 0xc1, 0x07, 0xa1, 'x'};
    ef_mpr_t r;
    uint32_t n;
    uint64_t u;
    ef_mpr_init (&r, seq, sizeof seq);
    assert_int_equal (ef_mpr_array (&r, &n), 0);
    assert_int_equal (n, 8);
    for (int k = 0; k < 6; k++) {
        assert_int_equal (ef_mpr_peek (&r), EF_MP_EXT);
        assert_int_equal (ef_mpr_skip (&r, 16), 0);
    }
    assert_int_equal (ef_mpr_uint (&r, &u), 0);
    assert_int_equal (u, 7);
    assert_int_equal (ef_mpr_peek (&r), EF_MP_STR);
    assert_int_equal (ef_mp_validate (seq, sizeof seq, 16), 0);
}

/* ---------------------------------------------------------------- refusals */

static void
test_headers_cut_short_are_proto (void **state)
{
    (void)state;
    /* each header byte that needs more bytes, given one byte too few */
    static const struct {
        uint8_t b[9];
        size_t n;
    } cut[] = {
        {{0xcc}, 1},          {{0xcd, 0}, 2},
        {{0xce, 0, 0, 0}, 4}, {{0xcf, 0, 0, 0, 0, 0, 0, 0}, 8},
        {{0xd0}, 1},          {{0xd1, 0}, 2},
        {{0xd2, 0, 0}, 3},    {{0xd3, 0, 0, 0, 0}, 5},
        {{0xca, 0, 0, 0}, 4}, {{0xcb, 0, 0, 0, 0, 0, 0, 0}, 8},
        {{0xc4}, 1},          {{0xc5, 0}, 2},
        {{0xc6, 0, 0, 0}, 4}, {{0xc7, 0}, 2},
        {{0xc8, 0, 0}, 3},    {{0xc9, 0, 0, 0, 0}, 5},
        {{0xd4}, 1},          {{0xd5}, 1},
        {{0xd6}, 1},          {{0xd7}, 1},
        {{0xd8}, 1},          {{0xd9}, 1},
        {{0xda, 0}, 2},       {{0xdb, 0, 0, 0}, 4},
        {{0xdc, 0}, 2},       {{0xdd, 0, 0, 0}, 4},
        {{0xde, 0}, 2},       {{0xdf, 0, 0, 0}, 4},
    };
    for (size_t k = 0; k < sizeof cut / sizeof cut[0]; k++) {
        ef_mpr_t r;
        uint64_t u;
        ef_mpr_init (&r, cut[k].b, cut[k].n);
        assert_int_equal (ef_mpr_peek (&r), EF_MP_BAD);
        assert_int_equal (ef_mpr_uint (&r, &u), EF_EPROTO);
        assert_ptr_equal (r.p, cut[k].b); /* nothing consumed */
        s_check_proto (cut[k].b, cut[k].n);
    }
    /* nothing at all is not a value either */
    s_check_proto ((const uint8_t *)"", 0);
}

static void
test_bodies_cut_short_are_proto (void **state)
{
    (void)state;
    ef_mpr_t r;
    ef_str_t s;
    uint32_t n;

    s_check_proto (BYTES (0xa4, 'a', 'b'));            /* fixstr 4, has 2 */
    s_check_proto (BYTES (0xd9, 3, 'a', 'b'));         /* str8 */
    s_check_proto (BYTES (0xda, 0, 3, 'a'));           /* str16 */
    s_check_proto (BYTES (0xdb, 0, 0, 1, 0, 'a'));     /* str32 claims 256 */
    s_check_proto (BYTES (0xc4, 5, 1, 2));             /* bin8 */
    s_check_proto (BYTES (0xc5, 0, 9, 1));             /* bin16 */
    s_check_proto (BYTES (0xc6, 0, 0, 0, 2, 1));       /* bin32 */
    s_check_proto (BYTES (0xd6, 0x01, 1, 2, 3));       /* fixext4, has 3 */
    s_check_proto (BYTES (0xd8, 0x01, 1));             /* fixext16 */
    s_check_proto (BYTES (0xc7, 5, 0x01, 1, 2));       /* ext8 */
    s_check_proto (BYTES (0xc8, 0, 5, 0x01, 1));       /* ext16 */
    s_check_proto (BYTES (0xc9, 0, 0, 0, 5, 0x01, 1)); /* ext32 */
    s_check_proto (BYTES (0x93, 0x01, 0x02));          /* array of 3, has 2 */
    s_check_proto (BYTES (0x92, 0x01, 0xa2, 'x'));     /* last element cut */
    s_check_proto (BYTES (0x81, 0xa1, 'k'));           /* map value missing */

    /* the typed reads refuse them too, before handing out a slice */
    ef_mpr_init (&r, BYTES (0xa4, 'a', 'b'));
    assert_int_equal (ef_mpr_str (&r, &s), EF_EPROTO);
    ef_mpr_init (&r, BYTES (0x93, 0x01, 0x02));
    assert_int_equal (ef_mpr_array (&r, &n), EF_EPROTO);
}

static void
test_validate_rejects_array_header_claiming_4g_items_without_allocating (
    void **state)
{
    (void)state;
    static const uint8_t frame[] = {0xdd, 0xff, 0x00, 0x00, 0x00};
    ef_mpr_t r;
    uint32_t n = 0;
    s_heap_calls = 0;
    assert_int_equal (ef_mp_validate (frame, sizeof frame, 16), EF_EPROTO);
    ef_mpr_init (&r, frame, sizeof frame);
    assert_int_equal (ef_mpr_array (&r, &n), EF_EPROTO);
    assert_int_equal (n, 0);
    assert_int_equal (ef_mpr_peek (&r), EF_MP_BAD);
    assert_int_equal (s_heap_calls, 0);
}

static void
test_map_claiming_more_pairs_than_bytes_is_proto (void **state)
{
    (void)state;
    ef_mpr_t r;
    uint32_t n;
    /* map32 of 65536 pairs in a 9-byte frame */
    s_heap_calls = 0;
    s_check_proto (BYTES (0xdf, 0x00, 0x01, 0x00, 0x00, 1, 2, 3, 4));
    /* a fixmap of 3 pairs needs at least 6 bytes; 5 are there */
    s_check_proto (BYTES (0x83, 1, 2, 3, 4, 5));
    ef_mpr_init (&r, BYTES (0x83, 1, 2, 3, 4, 5));
    assert_int_equal (ef_mpr_map (&r, &n), EF_EPROTO);
    ef_mpr_init (&r, BYTES (0xde, 0xff, 0xff, 1, 2));
    assert_int_equal (ef_mpr_map (&r, &n), EF_EPROTO);
    assert_int_equal (s_heap_calls, 0);
}

/*  depth nested one-element arrays around a 0x01. */
static size_t
s_nest (uint8_t *out, int depth, uint8_t container)
{
    size_t n = 0;
    for (int d = 0; d < depth; d++) {
        out[n++] = container;
        if (container == 0x81)
            out[n++] = 0x00; /* key */
    }
    out[n++] = 0x01;
    return n;
}

static void
test_nesting_deeper_than_the_limit_is_rejected (void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t n = s_nest (buf, 16, 0x91);
    assert_int_equal (ef_mp_validate (buf, n, 16), 0);
    n = s_nest (buf, 17, 0x91);
    assert_int_equal (ef_mp_validate (buf, n, 16), EF_EPROTO);
    n = s_nest (buf, 16, 0x81);
    assert_int_equal (ef_mp_validate (buf, n, 16), 0);
    n = s_nest (buf, 17, 0x81);
    assert_int_equal (ef_mp_validate (buf, n, 16), EF_EPROTO);
    /* a scalar has depth 0; an empty container still counts as one level */
    assert_int_equal (ef_mp_validate (BYTES (0x01), 0), 0);
    assert_int_equal (ef_mp_validate (BYTES (0x90), 0), EF_EPROTO);
    /* a deep frame does not exhaust the stack: 100 000 levels, limit 16 */
    size_t deep_n = 100000;
    uint8_t *deep = malloc (deep_n + 1);
    assert_non_null (deep);
    memset (deep, 0x91, deep_n);
    deep[deep_n] = 0x01;
    assert_int_equal (ef_mp_validate (deep, deep_n + 1, 16), EF_EPROTO);
    free (deep);
}

static void
test_byte_0xc1_is_rejected_wherever_it_appears (void **state)
{
    (void)state;
    ef_mpr_t r;
    ef_mpr_init (&r, BYTES (0xc1));
    assert_int_equal (ef_mpr_peek (&r), EF_MP_BAD);
    s_check_proto (BYTES (0xc1));
    s_check_proto (BYTES (0x92, 0x01, 0xc1));
    s_check_proto (BYTES (0x81, 0xc1, 0x01));
    s_check_proto (BYTES (0x81, 0xa1, 'k', 0xc1));
}

static void
test_trailing_bytes_after_one_value_are_rejected (void **state)
{
    (void)state;
    assert_int_equal (ef_mp_validate (BYTES (0x01, 0x02), 16), EF_EPROTO);
    assert_int_equal (ef_mp_validate (BYTES (0x90, 0x00), 16), EF_EPROTO);
    assert_int_equal (ef_mp_validate (BYTES (0x81, 0xa1, 'k', 0x01, 0xc0), 16),
                      EF_EPROTO);
    assert_int_equal (ef_mp_validate (BYTES (0x81, 0xa1, 'k', 0x01), 16), 0);
}

static void
test_typed_read_of_the_wrong_type_consumes_nothing (void **state)
{
    (void)state;
    ef_mpr_t r;
    ef_str_t s;
    uint64_t u;
    uint32_t n;
    int b;
    ef_mpr_init (&r, BYTES (0x05));
    assert_int_equal (ef_mpr_str (&r, &s), EF_EINVAL);
    assert_int_equal (ef_mpr_map (&r, &n), EF_EINVAL);
    assert_int_equal (ef_mpr_array (&r, &n), EF_EINVAL);
    assert_int_equal (ef_mpr_bool (&r, &b), EF_EINVAL);
    assert_int_equal (ef_mpr_nil (&r), 0);
    assert_int_equal (ef_mpr_uint (&r, &u), 0);
    assert_int_equal (u, 5);
    ef_mpr_init (&r, BYTES (0xff));
    assert_int_equal (ef_mpr_uint (&r, &u), EF_EINVAL); /* negative */
    assert_int_equal (r.end - r.p, 1);
}

/* ---------------------------------------------------------------- writing */

static void
test_packed_values_read_back_through_the_reader (void **state)
{
    (void)state;
    ef_buf_t b;
    ef_buf_init (&b);
    assert_int_equal (b.len, 0);
    ef_mp_map (&b, 7);
    ef_mp_key (&b, "s");
    ef_mp_str (&b, "hello", 5);
    ef_mp_key (&b, "c");
    ef_mp_cstr (&b, NULL); /* nil */
    ef_mp_key (&b, "x");
    ef_mp_xstr (&b, EF_STR_NULL); /* nil */
    ef_mp_key (&b, "u");
    ef_mp_uint (&b, UINT64_MAX);
    ef_mp_key (&b, "i");
    ef_mp_int (&b, -42);
    ef_mp_key (&b, "b");
    ef_mp_bool (&b, 1);
    ef_mp_key (&b, "a");
    ef_mp_array (&b, 2);
    ef_mp_nil (&b);
    ef_mp_xstr (&b, ef_str ("")); /* set but empty: a str, not nil */
    assert_int_equal (b.oom, 0);
    assert_int_equal (ef_mp_validate (b.data, b.len, 16), 0);

    ef_mpr_t r;
    ef_str_t k, s;
    uint32_t n;
    uint64_t u;
    int64_t i;
    int v;
    ef_mpr_init (&r, b.data, b.len);
    assert_int_equal (ef_mpr_map (&r, &n), 0);
    assert_int_equal (n, 7);
    assert_int_equal (ef_mpr_str (&r, &k), 0);
    assert_true (ef_str_eq (k, "s"));
    assert_int_equal (ef_mpr_str (&r, &s), 0);
    assert_true (ef_str_eq (s, "hello"));
    assert_int_equal (ef_mpr_skip (&r, 1), 0);
    assert_int_equal (ef_mpr_nil (&r), 1);
    assert_int_equal (ef_mpr_skip (&r, 1), 0);
    assert_int_equal (ef_mpr_nil (&r), 1);
    assert_int_equal (ef_mpr_skip (&r, 1), 0);
    assert_int_equal (ef_mpr_uint (&r, &u), 0);
    assert_true (u == UINT64_MAX);
    assert_int_equal (ef_mpr_skip (&r, 1), 0);
    assert_int_equal (ef_mpr_int (&r, &i), 0);
    assert_true (i == -42);
    assert_int_equal (ef_mpr_skip (&r, 1), 0);
    assert_int_equal (ef_mpr_bool (&r, &v), 0);
    assert_int_equal (v, 1);
    assert_int_equal (ef_mpr_skip (&r, 1), 0);
    assert_int_equal (ef_mpr_array (&r, &n), 0);
    assert_int_equal (n, 2);
    assert_int_equal (ef_mpr_nil (&r), 1);
    assert_int_equal (ef_mpr_str (&r, &s), 0);
    assert_int_equal (s.len, 0);
    assert_int_equal (ef_mpr_peek (&r), EF_MP_NONE);
    ef_buf_free (&b);
    assert_null (b.data);
}

static void
test_buffer_grows_keeps_contents_and_resets (void **state)
{
    (void)state;
    ef_buf_t b;
    ef_buf_init (&b);
    char chunk[1000];
    for (int k = 0; k < 300; k++) {
        memset (chunk, 'a' + k % 26, sizeof chunk);
        assert_int_equal (ef_buf_append (&b, chunk, sizeof chunk), 0);
    }
    assert_int_equal (b.len, 300000);
    assert_true (b.cap >= b.len);
    for (int k = 0; k < 300; k++)
        assert_int_equal (b.data[k * 1000 + 999], 'a' + k % 26);
    size_t cap = b.cap;
    ef_buf_reset (&b);
    assert_int_equal (b.len, 0);
    assert_int_equal (b.cap, cap); /* storage kept */
    assert_int_equal (ef_buf_reserve (&b, cap), 0);
    assert_int_equal (b.cap, cap);
    ef_buf_free (&b);
    ef_buf_free (&b); /* freeing twice is harmless */
}

/*  The bytes msgpack-c's packer writes for the same value. */
typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} s_ref_t;

static void
s_ref_init (s_ref_t *ref)
{
    msgpack_sbuffer_init (&ref->sb);
    msgpack_packer_init (&ref->pk, &ref->sb, msgpack_sbuffer_write);
}

static void
s_assert_same_bytes (ef_buf_t *b, s_ref_t *ref, const char *what)
{
    assert_int_equal (b->oom, 0);
    if (b->len != ref->sb.size || memcmp (b->data, ref->sb.data, b->len) != 0)
        fail_msg (
            "%s: %zu bytes, msgpack-c wrote %zu (first byte %02x vs %02x)",
            what, b->len, ref->sb.size, b->len ? (uint8_t)b->data[0] : 0,
            ref->sb.size ? (uint8_t)ref->sb.data[0] : 0);
    ef_buf_reset (b);
    msgpack_sbuffer_clear (&ref->sb);
}

static void
test_packers_write_the_same_bytes_as_msgpack_c (void **state)
{
    (void)state;
    ef_buf_t b;
    s_ref_t ref;
    ef_buf_init (&b);
    s_ref_init (&ref);

    static const uint64_t uints[] = {0,          1,          127,       128,
                                     255,        256,        65535,     65536,
                                     UINT32_MAX, 1ull << 32, UINT64_MAX};
    for (size_t i = 0; i < sizeof uints / sizeof uints[0]; i++) {
        ef_mp_uint (&b, uints[i]);
        msgpack_pack_uint64 (&ref.pk, uints[i]);
        s_assert_same_bytes (&b, &ref, "uint");
    }
    static const int64_t ints[] = {
        0,        5,    INT64_MAX, -1,     -32,       -33,
        -128,     -129, -32768,    -32769, INT32_MIN, (int64_t)INT32_MIN - 1,
        INT64_MIN};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        ef_mp_int (&b, ints[i]);
        msgpack_pack_int64 (&ref.pk, ints[i]);
        s_assert_same_bytes (&b, &ref, "int");
    }
    static const size_t lens[] = {0, 1, 31, 32, 255, 256, 65535, 65536, 70000};
    char *text = malloc (70000);
    assert_non_null (text);
    memset (text, 'q', 70000);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        ef_mp_str (&b, text, lens[i]);
        msgpack_pack_str_with_body (&ref.pk, text, lens[i]);
        s_assert_same_bytes (&b, &ref, "str");
    }
    free (text);
    ef_mp_cstr (&b, "key");
    msgpack_pack_str_with_body (&ref.pk, "key", 3);
    s_assert_same_bytes (&b, &ref, "cstr");
    ef_mp_key (&b, "a_longer_key_of_more_than_31_bytes");
    msgpack_pack_str_with_body (&ref.pk, "a_longer_key_of_more_than_31_bytes",
                                34);
    s_assert_same_bytes (&b, &ref, "key");
    ef_mp_cstr (&b, NULL);
    ef_mp_xstr (&b, EF_STR_NULL);
    ef_mp_nil (&b);
    msgpack_pack_nil (&ref.pk);
    msgpack_pack_nil (&ref.pk);
    msgpack_pack_nil (&ref.pk);
    s_assert_same_bytes (&b, &ref, "nil");
    ef_mp_bool (&b, 1);
    ef_mp_bool (&b, 0);
    ef_mp_bool (&b, 7); /* any non-zero is true */
    msgpack_pack_true (&ref.pk);
    msgpack_pack_false (&ref.pk);
    msgpack_pack_true (&ref.pk);
    s_assert_same_bytes (&b, &ref, "bool");
    static const uint32_t counts[] = {0, 1, 15, 16, 65535, 65536, UINT32_MAX};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        ef_mp_array (&b, counts[i]);
        msgpack_pack_array (&ref.pk, counts[i]);
        s_assert_same_bytes (&b, &ref, "array");
        ef_mp_map (&b, counts[i]);
        msgpack_pack_map (&ref.pk, counts[i]);
        s_assert_same_bytes (&b, &ref, "map");
    }
    msgpack_sbuffer_destroy (&ref.sb);
    ef_buf_free (&b);
}

static void
test_failed_growth_sets_oom_and_writes_nothing (void **state)
{
    (void)state;
    ef_buf_t b;
    ef_buf_init (&b);
    s_heap_fail = 1;
    ef_mp_uint (&b, 300);
    ef_mp_str (&b, "abc", 3);
    ef_mp_map (&b, 1);
    ef_mp_nil (&b);
    assert_int_equal (b.len, 0);
    assert_int_equal (b.oom, 1);
    assert_int_equal (ef_buf_append (&b, "x", 1), EF_ENOMEM);
    assert_int_equal (ef_buf_reserve (&b, 1), EF_ENOMEM);
    s_heap_fail = 0;

    /* the buffer recovers once memory is back */
    ef_buf_reset (&b);
    assert_int_equal (b.oom, 0);
    char chunk[200];
    memset (chunk, 'k', sizeof chunk);
    assert_int_equal (ef_buf_append (&b, chunk, sizeof chunk), 0);
    size_t cap = b.cap;
    /* a growth that fails keeps what was there */
    s_heap_fail = 1;
    assert_int_equal (ef_buf_append (&b, chunk, cap), EF_ENOMEM);
    ef_mp_str (&b, chunk, cap);
    s_heap_fail = 0;
    assert_int_equal (b.oom, 1);
    assert_int_equal (b.len, sizeof chunk);
    assert_int_equal (b.cap, cap);
    assert_int_equal (b.data[sizeof chunk - 1], 'k');
    ef_buf_free (&b);
}

static void
test_str_helpers_compare_whole_strings (void **state)
{
    (void)state;
    ef_str_t s = ef_str ("abc");
    assert_true (ef_str_set (s));
    assert_true (ef_str_eq (s, "abc"));
    assert_false (ef_str_eq (s, "ab"));
    assert_false (ef_str_eq (s, "abcd"));
    ef_str_t prefix = {"abcdef", 3};
    assert_true (ef_str_eq (prefix, "abc"));
    assert_false (ef_str_set (ef_str (NULL)));
    assert_false (ef_str_eq (EF_STR_NULL, ""));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_scalars_decode_with_their_values),
        cmocka_unit_test (test_int_reader_takes_uints_up_to_int64_max_only),
        cmocka_unit_test (test_strings_of_every_width_decode_as_slices),
        cmocka_unit_test (test_bin_of_every_width_is_typed_and_skipped),
        cmocka_unit_test (
            test_arrays_and_maps_of_every_width_give_their_counts),
        cmocka_unit_test (test_ext_types_of_every_width_are_skipped_exactly),
        cmocka_unit_test (test_headers_cut_short_are_proto),
        cmocka_unit_test (test_bodies_cut_short_are_proto),
        cmocka_unit_test (
            test_validate_rejects_array_header_claiming_4g_items_without_allocating),
        cmocka_unit_test (test_map_claiming_more_pairs_than_bytes_is_proto),
        cmocka_unit_test (test_nesting_deeper_than_the_limit_is_rejected),
        cmocka_unit_test (test_byte_0xc1_is_rejected_wherever_it_appears),
        cmocka_unit_test (test_trailing_bytes_after_one_value_are_rejected),
        cmocka_unit_test (test_typed_read_of_the_wrong_type_consumes_nothing),
        cmocka_unit_test (test_packed_values_read_back_through_the_reader),
        cmocka_unit_test (test_buffer_grows_keeps_contents_and_resets),
        cmocka_unit_test (test_packers_write_the_same_bytes_as_msgpack_c),
        cmocka_unit_test (test_failed_growth_sets_oom_and_writes_nothing),
        cmocka_unit_test (test_str_helpers_compare_whole_strings),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
