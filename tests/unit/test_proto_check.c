/*  test_proto_check.c: unit tests of ef_proto_check_event, the check of
    one PUBLISH item against the limits of protocol.md §4: type, payload
    (one JSON value, its size and depth), event id, context fields and
    source. The decoding around it is in test_proto.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eventflow/ef_error.h"
#include "eventflow/ef_mp.h"
#include "eventflow/ef_proto.h"

#include "u_proto.h"

#define T(f)                                                                   \
    cmocka_unit_test_setup_teardown (f, u_proto_setup, u_proto_teardown)

/* ---------------------------------------------------------------- checks */

static ef_event_in_t
s_good_event (void)
{
    ef_event_in_t ev = {.type = ef_str ("order.created"),
                        .payload = ef_str ("{\"a\":[1,2,{\"b\":null}]}")};
    return ev;
}

static void
test_check_event_accepts_a_complete_valid_event (void **state)
{
    (void)state;
    ef_event_in_t ev = s_good_event ();
    ev.event_id = ef_str ("0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B");
    ev.source = ef_str ("web");
    ev.trace_id = ef_str ("t");
    ev.correlation_id = ef_str ("c");
    assert_int_equal (ef_proto_check_event (&ev, EF_MAX_PAYLOAD_DEFAULT), 0);
    assert_int_equal (ev.err, 0);
}

static void
test_check_event_refuses_missing_or_empty_type (void **state)
{
    (void)state;
    ef_event_in_t ev = s_good_event ();
    ev.type = EF_STR_NULL;
    assert_int_equal (ef_proto_check_event (&ev, EF_MAX_PAYLOAD_DEFAULT),
                      EF_EINVAL);
    assert_int_equal (ev.err, EF_EINVAL);
    assert_non_null (ev.err_msg);
    ev = s_good_event ();
    ev.type = ef_str ("");
    assert_int_equal (ef_proto_check_event (&ev, EF_MAX_PAYLOAD_DEFAULT),
                      EF_EINVAL);
}

static void
test_check_event_refuses_type_of_257_bytes_and_takes_256 (void **state)
{
    (void)state;
    char type[258];
    memset (type, 't', sizeof type);
    type[257] = 0;
    ef_event_in_t ev = s_good_event ();
    ev.type = ef_str (type);
    assert_int_equal (ev.type.len, 257);
    assert_int_equal (ef_proto_check_event (&ev, EF_MAX_PAYLOAD_DEFAULT),
                      EF_ETOOBIG);
    ev = s_good_event ();
    type[256] = 0;
    ev.type = ef_str (type);
    assert_int_equal (ef_proto_check_event (&ev, EF_MAX_PAYLOAD_DEFAULT), 0);
}

static void
test_check_event_refuses_payload_that_is_not_one_json_value (void **state)
{
    (void)state;
    static const char *const bad[] = {"{\"a\":1,}", "",   "1 2",
                                      "{'a':1}",    "[1", "nul"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ef_event_in_t ev = s_good_event ();
        ev.payload = ef_str (bad[i]);
        assert_int_equal (ef_proto_check_event (&ev, EF_MAX_PAYLOAD_DEFAULT),
                          EF_EINVAL);
    }
    ef_event_in_t ev = s_good_event ();
    ev.payload = EF_STR_NULL;
    assert_int_equal (ef_proto_check_event (&ev, EF_MAX_PAYLOAD_DEFAULT),
                      EF_EINVAL);
}

static void
test_check_event_refuses_event_id_that_is_not_a_uuid (void **state)
{
    (void)state;
    static const char *const bad[] = {"not-a-uuid", "",
                                      "0190a1b2c3d47e5f8a9b0c1d2e3f4a5b",
                                      "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5g",
                                      "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ef_event_in_t ev = s_good_event ();
        ev.event_id = ef_str (bad[i]);
        assert_int_equal (ef_proto_check_event (&ev, EF_MAX_PAYLOAD_DEFAULT),
                          EF_EINVAL);
    }
}

static void
test_check_event_refuses_payload_over_the_max (void **state)
{
    (void)state;
    ef_event_in_t ev = s_good_event ();
    ev.payload = ef_str ("[1,2,3]"); /* 7 bytes */
    assert_int_equal (ef_proto_check_event (&ev, 6), EF_ETOOBIG);
    ev = s_good_event ();
    ev.payload = ef_str ("[1,2,3]");
    assert_int_equal (ef_proto_check_event (&ev, 7), 0);
}

static void
test_check_event_refuses_context_field_over_128_bytes (void **state)
{
    (void)state;
    char field[130];
    memset (field, 'c', sizeof field);
    field[129] = 0;
    ef_event_in_t ev = s_good_event ();
    ev.trace_id = ef_str (field);
    assert_int_equal (ef_proto_check_event (&ev, EF_MAX_PAYLOAD_DEFAULT),
                      EF_ETOOBIG);
    ev = s_good_event ();
    ev.correlation_id = ef_str (field);
    assert_int_equal (ef_proto_check_event (&ev, EF_MAX_PAYLOAD_DEFAULT),
                      EF_ETOOBIG);
    field[128] = 0;
    ev = s_good_event ();
    ev.trace_id = ef_str (field);
    ev.correlation_id = ef_str (field);
    assert_int_equal (ef_proto_check_event (&ev, EF_MAX_PAYLOAD_DEFAULT), 0);
}

static void
test_check_event_refuses_source_over_256_bytes (void **state)
{
    (void)state;
    char source[258];
    memset (source, 's', sizeof source);
    source[257] = 0;
    ef_event_in_t ev = s_good_event ();
    ev.source = ef_str (source);
    assert_int_equal (ef_proto_check_event (&ev, EF_MAX_PAYLOAD_DEFAULT),
                      EF_ETOOBIG);
}

static void
test_check_event_refuses_payload_nested_deeper_than_64 (void **state)
{
    (void)state;
    char deep[2 * 65 + 1];
    for (int i = 0; i < 65; i++) {
        deep[i] = '[';
        deep[65 + i] = ']';
    }
    deep[130] = 0;
    ef_event_in_t ev = s_good_event ();
    ev.payload = ef_str (deep);
    assert_int_equal (ef_proto_check_event (&ev, EF_MAX_PAYLOAD_DEFAULT),
                      EF_EINVAL);
    ev = s_good_event ();
    ev.payload = (ef_str_t){deep + 1, 128}; /* 64 deep */
    assert_int_equal (ef_proto_check_event (&ev, EF_MAX_PAYLOAD_DEFAULT), 0);
}


int
main (void)
{
    const struct CMUnitTest tests[] = {
        T (test_check_event_accepts_a_complete_valid_event),
        T (test_check_event_refuses_missing_or_empty_type),
        T (test_check_event_refuses_type_of_257_bytes_and_takes_256),
        T (test_check_event_refuses_payload_that_is_not_one_json_value),
        T (test_check_event_refuses_event_id_that_is_not_a_uuid),
        T (test_check_event_refuses_payload_over_the_max),
        T (test_check_event_refuses_context_field_over_128_bytes),
        T (test_check_event_refuses_source_over_256_bytes),
        T (test_check_event_refuses_payload_nested_deeper_than_64),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
