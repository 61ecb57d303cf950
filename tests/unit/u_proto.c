/*  u_proto.c: the shared fixture of the ef_proto unit tests (u_proto.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "u_proto.h"

int
u_proto_setup (void **state)
{
    u_proto_t *fx = calloc (1, sizeof *fx);
    if (!fx)
        return -1;
    ef_buf_init (&fx->b);
    ef_buf_init (&fx->aux);
    *state = fx;
    return 0;
}

int
u_proto_teardown (void **state)
{
    u_proto_t *fx = *state;
    ef_buf_free (&fx->b);
    ef_buf_free (&fx->aux);
    free (fx);
    return 0;
}

void
u_assert_str (ef_str_t s, const char *want)
{
    if (!want) {
        assert_false (ef_str_set (s));
        return;
    }
    assert_true (ef_str_set (s));
    assert_int_equal (s.len, strlen (want));
    if (s.len)
        assert_memory_equal (s.ptr, want, s.len);
}

void
u_kstr (ef_buf_t *b, const char *k, const char *v)
{
    ef_mp_key (b, k);
    ef_mp_cstr (b, v);
}

void
u_kuint (ef_buf_t *b, const char *k, uint64_t v)
{
    ef_mp_key (b, k);
    ef_mp_uint (b, v);
}
