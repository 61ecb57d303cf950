/*  u_proto.h: what the ef_proto unit tests share: a frame buffer fixture,
    a check of a decoded string, and the msgpack pairs of a frame built by
    hand. */
#ifndef EF_U_PROTO_H
#define EF_U_PROTO_H

#include "eventflow/ef_mp.h"
#include "eventflow/ef_proto.h"

#include <stdint.h>

#define U_UUID_A "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

typedef struct {
    ef_buf_t b;   /* the frame; decoded slices point into it */
    ef_buf_t aux; /* a second buffer when a test needs one */
    ef_request_t req;
    ef_event_in_t events[8];
} u_proto_t;

/*  cmocka setup and teardown: *state gets a u_proto_t with empty buffers;
    teardown frees them. */
int u_proto_setup (void **state);
int u_proto_teardown (void **state);
/*  s equals want (NULL: s is unset); fails the test otherwise. */
void u_assert_str (ef_str_t s, const char *want);
/*  Append the pair k: v to b. */
void u_kstr (ef_buf_t *b, const char *k, const char *v);
void u_kuint (ef_buf_t *b, const char *k, uint64_t v);

#endif
