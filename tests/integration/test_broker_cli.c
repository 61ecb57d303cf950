/*  The eventflow CLI against a real broker: output a script can parse,
    and exit codes it can rely on (0 ok, 1 refused, 2 usage or input,
    3 unavailable). */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static char s_dir[256];
static h_broker_t s_broker;

static int
group_setup (void **state)
{
    (void)state;
    if (h_tempdir (s_dir) || h_broker_start (&s_broker, s_dir, NULL))
        return -1;
    return 0;
}

static int
group_teardown (void **state)
{
    (void)state;
    h_broker_stop (&s_broker);
    h_rmrf (s_dir);
    return 0;
}

static int
s_lines (const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static int
s_run (const char *in, char **out, char **err, const char *const *args)
{
    return h_cli (&s_broker, in, out, err, args);
}

static void
test_streams_create_and_list (void **state)
{
    (void)state;
    char *out, *err;
    const char *create[] = {"streams", "create", "cli-orders", NULL};
    assert_int_equal (s_run (NULL, &out, &err, create), 0);
    free (out), free (err);
    assert_int_equal (s_run (NULL, &out, &err, create), 1); /* taken */
    free (out), free (err);
    const char *list[] = {"streams", "list", NULL};
    assert_int_equal (s_run (NULL, &out, &err, list), 0);
    assert_non_null (strstr (out, "cli-orders"));
    free (out), free (err);
}

static void
test_produce_argument_then_read_and_get (void **state)
{
    (void)state;
    char *out, *err;
    const char *create[] = {"streams", "create", "cli-a", NULL};
    assert_int_equal (s_run (NULL, &out, &err, create), 0);
    free (out), free (err);
    const char *produce[] = {"produce", "cli-a",         "{\"id\":1}",
                             "--type",  "order.created", NULL};
    assert_int_equal (s_run (NULL, &out, &err, produce), 0);
    assert_non_null (strstr (out, "\"status\":\"ACCEPTED\""));
    char id[37] = {0};
    const char *p = strstr (out, "\"event_id\":\"");
    assert_non_null (p);
    memcpy (id, p + 12, 36);
    free (out), free (err);

    const char *read[] = {"read", "cli-a", NULL};
    assert_int_equal (s_run (NULL, &out, &err, read), 0);
    assert_int_equal (s_lines (out), 1);
    assert_non_null (strstr (out, "\"payload\":{\"id\":1}")); /* raw JSON */
    assert_non_null (strstr (out, "\"type\":\"order.created\""));
    free (out), free (err);

    const char *get[] = {"get", id, NULL};
    assert_int_equal (s_run (NULL, &out, &err, get), 0);
    assert_non_null (strstr (out, id));
    /* the HTTP API's Event object (ef_event_json): id as well */
    char alias[48];
    snprintf (alias, sizeof alias, "\"id\":\"%s\"", id);
    assert_non_null (strstr (out, alias));
    assert_non_null (strstr (out, "\"api_key_id\":"));
    free (out), free (err);
    const char *missing[] = {"get", "01900000-0000-7000-8000-000000000000",
                             NULL};
    assert_int_equal (s_run (NULL, &out, &err, missing), 1);
    free (out), free (err);
}

static void
test_search_finds_events_by_payload (void **state)
{
    (void)state;
    char *out, *err;
    const char *create[] = {"streams", "create", "cli-search", NULL};
    assert_int_equal (s_run (NULL, &out, &err, create), 0);
    free (out), free (err);
    const char *in = "{\"customer\":{\"id\":\"c-1\"},\"total\":5}\n"
                     "{\"customer\":{\"id\":\"c-2\"},\"total\":50}\n"
                     "{\"customer\":{\"id\":\"c-1\"},\"total\":500}\n";
    const char *produce[] = {"produce", "cli-search", "--type", "t", NULL};
    assert_int_equal (s_run (in, &out, &err, produce), 0);
    free (out), free (err);
    const char *eq[] = {"search", "cli-search", "--where",
                        "/customer/id:eq:\"c-1\"", NULL};
    assert_int_equal (s_run (NULL, &out, &err, eq), 0);
    assert_int_equal (s_lines (out), 2);
    assert_non_null (strstr (out, "\"total\":500"));
    assert_null (strstr (out, "\"total\":50}"));
    free (out), free (err);
    const char *two[] = {"search",  "cli-search",
                         "--where", "/total:ge:50",
                         "--where", "/customer/id:eq:\"c-2\"",
                         NULL};
    assert_int_equal (s_run (NULL, &out, &err, two), 0);
    assert_int_equal (s_lines (out), 1);
    assert_non_null (strstr (out, "\"total\":50}"));
    free (out), free (err);
    const char *bad[] = {"search", "cli-search", "--where", "/total:gt:x",
                         NULL};
    assert_int_equal (s_run (NULL, &out, &err, bad), 1);
    assert_non_null (strstr (err, "where"));
    free (out), free (err);
    const char *none[] = {"search", "cli-search", NULL};
    assert_int_equal (s_run (NULL, &out, &err, none), 2);
    free (out), free (err);
}

static void
test_produce_lines_from_stdin_in_batches (void **state)
{
    (void)state;
    char *out, *err;
    const char *create[] = {"streams", "create", "cli-b", NULL};
    assert_int_equal (s_run (NULL, &out, &err, create), 0);
    free (out), free (err);
    const char *produce[] = {"produce", "cli-b", "--type", "t",
                             "--batch", "2",     NULL};
    assert_int_equal (
        s_run ("{\"n\":1}\n{\"n\":2}\n\n{\"n\":3}\n", &out, &err, produce), 0);
    assert_int_equal (s_lines (out), 3);
    free (out), free (err);
    const char *read[] = {"read", "cli-b", "--after", "1", NULL};
    assert_int_equal (s_run (NULL, &out, &err, read), 0);
    assert_int_equal (s_lines (out), 2);
    assert_non_null (strstr (out, "\"seq\":3"));
    free (out), free (err);
    const char *tail[] = {"tail", "cli-b", NULL};
    assert_int_equal (s_run (NULL, &out, &err, tail), 0);
    assert_int_equal (s_lines (out), 3);
    free (out), free (err);
}

static void
test_bad_json_line_is_named_and_exits_2 (void **state)
{
    (void)state;
    char *out, *err;
    const char *create[] = {"streams", "create", "cli-c", NULL};
    assert_int_equal (s_run (NULL, &out, &err, create), 0);
    free (out), free (err);
    const char *produce[] = {"produce", "cli-c", "--type", "t", NULL};
    assert_int_equal (
        s_run ("{\"ok\":1}\n{oops\n{\"ok\":2}\n", &out, &err, produce), 2);
    assert_non_null (strstr (err, "line 2"));
    free (out), free (err);
    const char *read[] = {"read", "cli-c", NULL};
    assert_int_equal (s_run (NULL, &out, &err, read), 0);
    assert_int_equal (s_lines (out), 1); /* the line before was sent */
    free (out), free (err);
}

static void
test_usage_errors_and_refusals_have_their_codes (void **state)
{
    (void)state;
    char *out, *err;
    const char *notype[] = {"produce", "cli-orders", "{}", NULL};
    assert_int_equal (s_run (NULL, &out, &err, notype), 2);
    free (out), free (err);
    const char *unknown[] = {"frobnicate", NULL};
    assert_int_equal (s_run (NULL, &out, &err, unknown), 2);
    free (out), free (err);
    const char *nostream[] = {"produce", "no-such-stream", "{}", "--type", "t",
                              NULL};
    assert_int_equal (s_run (NULL, &out, &err, nostream), 1);
    assert_true (strlen (err) > 0);
    free (out), free (err);
    const char *help[] = {"--help", NULL};
    assert_int_equal (s_run (NULL, &out, &err, help), 0);
    assert_non_null (strstr (out, "produce"));
    free (out), free (err);
}

static void
test_unreachable_broker_exits_3 (void **state)
{
    (void)state;
    char *out, *err;
    const char *args[] = {"--broker", "tcp://127.0.0.1:1", "--timeout",
                          "500",      "streams",           "list",
                          NULL};
    assert_int_equal (h_cli (NULL, NULL, &out, &err, args), 3);
    assert_true (strlen (err) > 0);
    free (out), free (err);
}

static void
test_bench_reports_figures (void **state)
{
    (void)state;
    char *out, *err;
    const char *bench[] = {"bench", "--events", "2000", "--producers",
                           "2",     "--batch",  "50",   NULL};
    assert_int_equal (s_run (NULL, &out, &err, bench), 0);
    assert_non_null (strstr (out, "events_per_s="));
    assert_non_null (strstr (out, "p99_ms="));
    assert_non_null (strstr (out, "errors=0"));
    free (out), free (err);
}

static void
test_consume_prints_commits_and_resumes (void **state)
{
    (void)state;
    char *out, *err;
    const char *create[] = {"streams", "create", "cli-consume", NULL};
    assert_int_equal (s_run (NULL, &out, &err, create), 0);
    free (out), free (err);
    const char *produce[] = {"produce", "cli-consume", "--type", "t", NULL};
    assert_int_equal (s_run ("{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n"
                             "{\"n\":5}\n",
                             &out, &err, produce),
                      0);
    free (out), free (err);

    /* three of five, committed every two and on exit */
    const char *consume3[] = {
        "consume", "cli-consume", "--group", "g", "--commit-every",
        "2",       "--max",       "3",       NULL};
    assert_int_equal (s_run (NULL, &out, &err, consume3), 0);
    assert_int_equal (s_lines (out), 3);
    assert_non_null (strstr (out, "\"seq\":1"));
    assert_non_null (strstr (out, "\"payload\":{\"n\":3}"));
    assert_null (strstr (out, "\"seq\":4"));
    free (out), free (err);
    const char *list[] = {"groups", "list", "cli-consume", NULL};
    assert_int_equal (s_run (NULL, &out, &err, list), 0);
    assert_non_null (strstr (out, "\"group\":\"g\""));
    assert_non_null (strstr (out, "\"lag\":2"));
    free (out), free (err);

    /* the next run starts after what was committed */
    const char *consume2[] = {"consume", "cli-consume", "--group", "g",
                              "--max",   "2",           NULL};
    assert_int_equal (s_run (NULL, &out, &err, consume2), 0);
    assert_int_equal (s_lines (out), 2);
    assert_non_null (strstr (out, "\"seq\":4"));
    assert_non_null (strstr (out, "\"seq\":5"));
    free (out), free (err);

    /* seek back, and it comes again */
    const char *seek[] = {"groups", "seek",     "cli-consume",
                          "g",      "earliest", NULL};
    assert_int_equal (s_run (NULL, &out, &err, seek), 0);
    free (out), free (err);
    const char *consume1[] = {"consume", "cli-consume", "--group", "g",
                              "--max",   "1",           NULL};
    assert_int_equal (s_run (NULL, &out, &err, consume1), 0);
    assert_int_equal (s_lines (out), 1);
    assert_non_null (strstr (out, "\"seq\":1"));
    free (out), free (err);

    /* no group: a usage error */
    const char *bad[] = {"consume", "cli-consume", NULL};
    assert_int_equal (s_run (NULL, &out, &err, bad), 2);
    free (out), free (err);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_streams_create_and_list),
        cmocka_unit_test (test_produce_argument_then_read_and_get),
        cmocka_unit_test (test_produce_lines_from_stdin_in_batches),
        cmocka_unit_test (test_bad_json_line_is_named_and_exits_2),
        cmocka_unit_test (test_usage_errors_and_refusals_have_their_codes),
        cmocka_unit_test (test_unreachable_broker_exits_3),
        cmocka_unit_test (test_bench_reports_figures),
        cmocka_unit_test (test_consume_prints_commits_and_resumes),
        cmocka_unit_test (test_search_finds_events_by_payload),
    };
    return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
