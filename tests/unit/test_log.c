/*  Unit tests of ef_log: every record is one line of one JSON object
    whatever bytes its values hold, and the values come through whole
    (escaped, never interpreted). */
#include "eventflow/ef_log.h"

#include <jansson.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/*  The one record that writing produced, parsed (caller decrefs). */
static json_t *
s_record (FILE *f)
{
    fflush (f);
    rewind (f);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline (&line, &cap, f);
    assert_true (n > 0);
    assert_int_equal (line[n - 1], '\n');
    assert_int_equal (getline (&line, &cap, f), -1); /* one line only */
    json_error_t e;
    json_t *rec = json_loads (line, JSON_REJECT_DUPLICATES, &e);
    if (!rec)
        fail_msg ("not JSON (%s): %s", e.text, line);
    free (line);
    return rec;
}

static void
test_hostile_strings_stay_inside_their_fields (void **state)
{
    (void)state;
    static const char *values[] = {
        "x\",\"level\":\"error\",\"msg\":\"forged",
        "line\n{\"msg\":\"forged\"}\r\n",
        "ctl \x01\x1b[2J\x7f tab\t back\\slash",
        "%s%n%d%%",
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        FILE *f = tmpfile ();
        ef_log_t *log = ef_log_new ("broker", f);
        ef_log_info (log, values[i], "\"service\":\"%s\",\"n\":%d", values[i],
                     7);
        json_t *rec = s_record (f);
        assert_string_equal (json_string_value (json_object_get (rec, "msg")),
                             values[i]);
        assert_string_equal (
            json_string_value (json_object_get (rec, "service")), values[i]);
        assert_string_equal (json_string_value (json_object_get (rec, "level")),
                             "info");
        assert_int_equal (json_integer_value (json_object_get (rec, "n")), 7);
        json_decref (rec);
        ef_log_destroy (&log);
        fclose (f);
    }
}

static void
test_invalid_utf8_becomes_replacement_characters (void **state)
{
    (void)state;
    FILE *f = tmpfile ();
    ef_log_t *log = ef_log_new ("bridge", f);
    ef_log_warn (log, "m", "\"v\":\"%s\",\"w\":\"%.*s\"", "a\xff\xc0\xafz", 3,
                 "\xe2\x82\xac\xe2"); /* a euro sign, then a cut one */
    json_t *rec = s_record (f);
    assert_string_equal (json_string_value (json_object_get (rec, "v")),
                         "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz");
    assert_string_equal (json_string_value (json_object_get (rec, "w")),
                         "\xe2\x82\xac");
    json_decref (rec);
    ef_log_destroy (&log);
    fclose (f);
}

static void
test_numbers_and_long_values (void **state)
{
    (void)state;
    FILE *f = tmpfile ();
    ef_log_t *log = ef_log_new ("broker", f);
    char big[5000];
    memset (big, '"', sizeof big - 1);
    big[sizeof big - 1] = 0;
    ef_log_error (log, "m",
                  "\"a\":%u,\"b\":%lld,\"c\":%zu,\"d\":%.3f,\"e\":%llu,"
                  "\"big\":\"%s\",\"pct\":\"100%%\",\"p\":%p,\"f\":%.*f",
                  42u, -5LL, (size_t)9, 1.5, 123456789012ULL, big, (void *)f, 2,
                  2.25);
    json_t *rec = s_record (f);
    assert_int_equal (json_integer_value (json_object_get (rec, "a")), 42);
    assert_int_equal (json_integer_value (json_object_get (rec, "b")), -5);
    assert_int_equal (json_integer_value (json_object_get (rec, "c")), 9);
    assert_true (json_real_value (json_object_get (rec, "d")) == 1.5);
    assert_int_equal (json_integer_value (json_object_get (rec, "e")),
                      123456789012LL);
    /* cut at 1 KiB of input, still one string */
    assert_int_equal (strlen (json_string_value (json_object_get (rec, "big"))),
                      1024);
    assert_string_equal (json_string_value (json_object_get (rec, "pct")),
                         "100%");
    assert_true (json_is_null (json_object_get (rec, "p")));
    assert_true (json_real_value (json_object_get (rec, "f")) == 2.25);
    json_decref (rec);
    ef_log_destroy (&log);
    fclose (f);
}

static void
test_below_the_level_nothing_is_written (void **state)
{
    (void)state;
    FILE *f = tmpfile ();
    ef_log_t *log = ef_log_new ("broker", f);
    ef_log_set_level (log, EF_LOG_WARN);
    ef_log_info (log, "quiet", NULL);
    assert_int_equal (ftell (f), 0);
    ef_log_destroy (&log);
    fclose (f);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_hostile_strings_stay_inside_their_fields),
        cmocka_unit_test (test_invalid_utf8_becomes_replacement_characters),
        cmocka_unit_test (test_numbers_and_long_values),
        cmocka_unit_test (test_below_the_level_nothing_is_written),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
