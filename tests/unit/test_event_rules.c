/*  test_event_rules.c: unit tests of ef_event_rules, the one check of a
    published event's fields: each rule with its path, message and native
    text, every fault listed in order, the first one for the broker, and
    ef_proto_check_event answering with that first text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "eventflow/ef_error.h"
#include "eventflow/ef_event_rules.h"

static ef_event_in_t
s_valid (void)
{
    ef_event_in_t ev;
    memset (&ev, 0, sizeof ev);
    ev.type = ef_str ("order.created");
    ev.payload = ef_str ("{\"n\":1}");
    return ev;
}

static void
test_a_valid_event_has_no_fault (void **state)
{
    (void)state;
    ef_event_in_t ev = s_valid ();
    ev.event_id = ef_str ("0190f3a2-7c1e-7b3a-9d2f-4e5a6b7c8d9e");
    ev.source = ef_str ("shop");
    assert_null (ef_event_rules_check (&ev, 1024));
    assert_int_equal (ef_event_rules_each (&ev, 1024, NULL, NULL), 0);
    assert_int_equal (ef_proto_check_event (&ev, 1024), 0);
}

/*  A version is at least 1 when given; 0 not given is no version. */
static void
test_a_version_given_is_at_least_1 (void **state)
{
    (void)state;
    ef_event_in_t ev = s_valid ();
    assert_null (ef_event_rules_check (&ev, 1024));
    ev.version_given = 1;
    ev.version = 1;
    assert_null (ef_event_rules_check (&ev, 1024));
    ev.version = 0;
    assert_string_equal (ef_event_rules_check (&ev, 1024)->path, "version");
    /* first, as the broker's decode always refused it */
    ev.type = EF_STR_NULL;
    assert_int_equal (ef_event_rules_each (&ev, 1024, NULL, NULL), 2);
    assert_string_equal (ef_event_rules_check (&ev, 1024)->text,
                         "version must be at least 1");
}

static void
test_each_rule_its_path_message_and_text (void **state)
{
    (void)state;
    char longer[300];
    memset (longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    static const struct {
        int field;
        int code;
        const char *path, *message, *text;
    } cases[] = {
        {0, EF_EINVAL, "type", "is required", "type is required"},
        {1, EF_ETOOBIG, "type", "is longer than 256 bytes",
         "type is longer than 256 bytes"},
        {2, EF_EINVAL, "payload", "is required", "payload is required"},
        {3, EF_ETOOBIG, "payload", "is larger than the limit",
         "payload is larger than the limit"},
        {4, EF_ETOOBIG, "source", "is longer than 256 bytes",
         "source is longer than 256 bytes"},
        {5, EF_ETOOBIG, "context/trace_id", "is longer than 128 bytes",
         "context.trace_id is longer than 128 bytes"},
        {6, EF_ETOOBIG, "context/correlation_id", "is longer than 128 bytes",
         "context.correlation_id is longer than 128 bytes"},
        {7, EF_EINVAL, "context/request_id",
         "is 1 to 128 bytes of printable ASCII",
         "context.request_id is 1 to 128 bytes of printable ASCII"},
        {8, EF_EINVAL, "event_id", "is not a UUID", "event_id is not a UUID"},
        {9, EF_EINVAL, "payload", "is not a single JSON value",
         "payload is not a single JSON value"},
        {10, EF_EINVAL, "version", "must be at least 1",
         "version must be at least 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ef_event_in_t ev = s_valid ();
        switch (cases[i].field) {
        case 0:
            ev.type = ef_str ("");
            break;
        case 1:
            ev.type = ef_str (longer);
            break;
        case 2:
            ev.payload = EF_STR_NULL;
            break;
        case 3:
            ev.payload = ef_str ("[1,2,3,4,5,6,7,8,9]");
            break;
        case 4:
            ev.source = ef_str (longer);
            break;
        case 5:
            ev.trace_id = ef_str (longer);
            break;
        case 6:
            ev.correlation_id = ef_str (longer);
            break;
        case 7:
            ev.request_id = ef_str ("a\nb");
            break;
        case 8:
            ev.event_id = ef_str ("nope");
            break;
        case 9:
            ev.payload = ef_str ("{\"n\":");
            break;
        case 10:
            ev.version_given = 1; /* and 0 */
            break;
        }
        const ef_event_fault_t *f = ef_event_rules_check (&ev, 16);
        assert_non_null (f);
        assert_int_equal (f->code, cases[i].code);
        assert_string_equal (f->path, cases[i].path);
        assert_string_equal (f->message, cases[i].message);
        assert_string_equal (f->text, cases[i].text);
        /* the broker's decode refuses with the same text */
        assert_int_equal (ef_proto_check_event (&ev, 16), cases[i].code);
        assert_string_equal (ev.err_msg, cases[i].text);
    }
}

static void
s_collect (void *arg, const ef_event_fault_t *f)
{
    const char **paths = arg;
    while (*paths)
        paths++;
    *paths = f->path;
}

static void
test_every_fault_is_listed_in_order (void **state)
{
    (void)state;
    ef_event_in_t ev;
    memset (&ev, 0, sizeof ev);
    ev.event_id = ef_str ("nope");
    const char *paths[8] = {0};
    assert_int_equal (ef_event_rules_each (&ev, 16, s_collect, paths), 3);
    assert_string_equal (paths[0], "type");
    assert_string_equal (paths[1], "payload");
    assert_string_equal (paths[2], "event_id");
    assert_string_equal (ef_event_rules_check (&ev, 16)->path, "type");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_valid_event_has_no_fault),
        cmocka_unit_test (test_a_version_given_is_at_least_1),
        cmocka_unit_test (test_each_rule_its_path_message_and_text),
        cmocka_unit_test (test_every_fault_is_listed_in_order),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
