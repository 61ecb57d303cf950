/*  test_config.c: unit tests of ef_config: one precedence everywhere
    (defaults < file < EVENTFLOW_* environment < flags), both flag forms,
    where flag parsing stops, file errors, and integers with K/M/G
    suffixes. The environment variables used are this test's own; each
    test starts with them and EVENTFLOW_CONFIG unset, and config files are
    written to a fresh temporary file that is removed afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "eventflow/ef_config.h"
#include "eventflow/ef_error.h"

static const ef_config_opt_t s_opts[] = {
    {"data-dir", "EF_UNIT_DATA_DIR", "/var/lib/eventflow", "where data lives"},
    {"port", "EF_UNIT_PORT", "5555", "port to bind"},
    {"max-size", "EF_UNIT_MAX_SIZE", NULL, "a size"},
    {"mode", NULL, "fast", "no environment variable"},
    {NULL, NULL, NULL, NULL},
};

typedef struct {
    ef_config_t *cfg;
    char path[64]; /* temp config file, "" when none */
    char err[256];
} fx_t;

static void
s_clear_env (void)
{
    unsetenv ("EVENTFLOW_CONFIG");
    unsetenv ("EF_UNIT_DATA_DIR");
    unsetenv ("EF_UNIT_PORT");
    unsetenv ("EF_UNIT_MAX_SIZE");
}

static int
s_setup (void **state)
{
    fx_t *fx = calloc (1, sizeof *fx);
    if (!fx)
        return -1;
    s_clear_env ();
    fx->cfg = ef_config_new (s_opts);
    if (!fx->cfg)
        return -1;
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *fx = *state;
    ef_config_destroy (&fx->cfg);
    if (fx->path[0])
        unlink (fx->path);
    s_clear_env ();
    free (fx);
    return 0;
}

/*  Write text to a new temporary file whose path goes to fx->path. */
static const char *
s_file (fx_t *fx, const char *text)
{
    strcpy (fx->path, "/tmp/ef_config_test.XXXXXX");
    int fd = mkstemp (fx->path);
    assert_true (fd >= 0);
    FILE *f = fdopen (fd, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
    return fx->path;
}

static int
s_load (fx_t *fx, int argc, char **argv, int *next)
{
    fx->err[0] = 0;
    return ef_config_load (fx->cfg, argc, argv, 1, next, fx->err,
                           sizeof fx->err);
}

static void
test_defaults_apply_when_nothing_else_is_given (void **state)
{
    fx_t *fx = *state;
    char *argv[] = {"prog", NULL};
    int next = -1;
    assert_int_equal (s_load (fx, 1, argv, &next), 0);
    assert_int_equal (next, 1);
    assert_string_equal (ef_config_get (fx->cfg, "data-dir"),
                         "/var/lib/eventflow");
    assert_string_equal (ef_config_get (fx->cfg, "port"), "5555");
    assert_null (ef_config_get (fx->cfg, "max-size")); /* no default */
    assert_null (ef_config_get (fx->cfg, "no-such-option"));
}

static void
test_file_overrides_default (void **state)
{
    fx_t *fx = *state;
    const char *path = s_file (fx, "# a comment\n\n"
                                   "port = 6000   # trailing comment\n"
                                   "  data-dir=/srv/ef  \n");
    char *argv[] = {"prog", "--config", (char *)path, NULL};
    int next = -1;
    assert_int_equal (s_load (fx, 3, argv, &next), 0);
    assert_int_equal (next, 3);
    assert_string_equal (ef_config_get (fx->cfg, "port"), "6000");
    assert_string_equal (ef_config_get (fx->cfg, "data-dir"), "/srv/ef");
    assert_string_equal (ef_config_get (fx->cfg, "mode"), "fast");
}

static void
test_env_overrides_file_and_flag_overrides_env (void **state)
{
    fx_t *fx = *state;
    const char *path = s_file (fx, "port = 6000\ndata-dir = /from/file\n"
                                   "max-size = 1K\n");
    setenv ("EVENTFLOW_CONFIG", path, 1); /* the file named by environment */
    setenv ("EF_UNIT_PORT", "7000", 1);
    setenv ("EF_UNIT_DATA_DIR", "/from/env", 1);
    char *argv[] = {"prog", "--port", "8000", NULL};
    assert_int_equal (s_load (fx, 3, argv, NULL), 0);
    assert_string_equal (ef_config_get (fx->cfg, "port"), "8000"); /* flag */
    assert_string_equal (ef_config_get (fx->cfg, "data-dir"),
                         "/from/env");                               /* env */
    assert_string_equal (ef_config_get (fx->cfg, "max-size"), "1K"); /* file */
    assert_string_equal (ef_config_get (fx->cfg, "mode"), "fast"); /* default */
}

static void
test_config_flag_overrides_config_environment (void **state)
{
    fx_t *fx = *state;
    const char *path = s_file (fx, "port = 6001\n");
    setenv ("EVENTFLOW_CONFIG", "/nonexistent/eventflow.conf", 1);
    char *argv[] = {"prog", NULL, NULL};
    char arg[96];
    snprintf (arg, sizeof arg, "--config=%s", path);
    argv[1] = arg;
    assert_int_equal (s_load (fx, 2, argv, NULL), 0);
    assert_string_equal (ef_config_get (fx->cfg, "port"), "6001");
}

static void
test_flag_takes_both_equals_and_separate_value_forms (void **state)
{
    fx_t *fx = *state;
    char *argv[] = {"prog", "--port=9000", "--data-dir", "/d", "--mode=", NULL};
    int next = -1;
    assert_int_equal (s_load (fx, 5, argv, &next), 0);
    assert_int_equal (next, 5);
    assert_string_equal (ef_config_get (fx->cfg, "port"), "9000");
    assert_string_equal (ef_config_get (fx->cfg, "data-dir"), "/d");
    assert_string_equal (ef_config_get (fx->cfg, "mode"), ""); /* empty value */
}

static void
test_next_index_stops_at_first_non_flag (void **state)
{
    fx_t *fx = *state;
    char *argv[] = {"prog", "--port", "1", "produce", "--data-dir", "/x", NULL};
    int next = -1;
    assert_int_equal (s_load (fx, 6, argv, &next), 0);
    assert_int_equal (next, 3);
    assert_string_equal (ef_config_get (fx->cfg, "port"), "1");
    /* flags after the command are the command's, not ours */
    assert_string_equal (ef_config_get (fx->cfg, "data-dir"),
                         "/var/lib/eventflow");
}

static void
test_next_index_stops_at_unknown_flag_and_after_double_dash (void **state)
{
    fx_t *fx = *state;
    char *argv[] = {"prog", "--port=2", "--verbose", "--mode", "x", NULL};
    int next = -1;
    assert_int_equal (s_load (fx, 5, argv, &next), 0);
    assert_int_equal (next, 2);
    assert_string_equal (ef_config_get (fx->cfg, "port"), "2");
    assert_string_equal (ef_config_get (fx->cfg, "mode"), "fast");

    char *argv2[] = {"prog", "--port=3", "--", "--mode", "x", NULL};
    assert_int_equal (s_load (fx, 5, argv2, &next), 0);
    assert_int_equal (next, 3);
    assert_string_equal (ef_config_get (fx->cfg, "port"), "3");
    assert_string_equal (ef_config_get (fx->cfg, "mode"), "fast");
}

static void
test_flag_without_its_value_is_an_error (void **state)
{
    fx_t *fx = *state;
    char *argv[] = {"prog", "--port", NULL};
    assert_int_equal (s_load (fx, 2, argv, NULL), EF_EINVAL);
    assert_non_null (strstr (fx->err, "port"));
}

static void
test_unknown_file_key_is_an_error_naming_it (void **state)
{
    fx_t *fx = *state;
    const char *path = s_file (fx, "port = 1\nprot = 2\n");
    char *argv[] = {"prog", "--config", (char *)path, NULL};
    assert_int_equal (s_load (fx, 3, argv, NULL), EF_EINVAL);
    assert_non_null (strstr (fx->err, "prot"));
    assert_non_null (strstr (fx->err, ":2"));
}

static void
test_file_line_without_equals_or_missing_file_is_an_error (void **state)
{
    fx_t *fx = *state;
    const char *path = s_file (fx, "port 1\n");
    char *argv[] = {"prog", "--config", (char *)path, NULL};
    assert_int_equal (s_load (fx, 3, argv, NULL), EF_EINVAL);
    assert_true (fx->err[0] != 0);

    char *argv2[] = {"prog", "--config", "/nonexistent/dir/ef.conf", NULL};
    assert_int_equal (s_load (fx, 3, argv2, NULL), EF_EINVAL);
    assert_non_null (strstr (fx->err, "/nonexistent/dir/ef.conf"));
}

static void
test_set_by_hand_wins_and_unknown_name_is_refused (void **state)
{
    fx_t *fx = *state;
    assert_int_equal (ef_config_set (fx->cfg, "port", "1234"), 0);
    assert_string_equal (ef_config_get (fx->cfg, "port"), "1234");
    assert_int_equal (ef_config_set (fx->cfg, "nope", "1"), EF_EINVAL);
    /* a prefix of a name is not that name */
    assert_int_equal (ef_config_set (fx->cfg, "por", "1"), EF_EINVAL);
}

static void
test_get_int_reads_suffixes_and_refuses_garbage (void **state)
{
    fx_t *fx = *state;
    static const struct {
        const char *v;
        int64_t want;
    } ok[] = {
        {"123", 123},    {"-5", -5},         {"0", 0},
        {"64K", 65536},  {"64k", 65536},     {"2M", 2097152},
        {"3m", 3145728}, {"1G", 1073741824}, {"4g", 4294967296LL},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int err = 99;
        assert_int_equal (ef_config_set (fx->cfg, "max-size", ok[i].v), 0);
        int64_t got = ef_config_get_int (fx->cfg, "max-size", -1, &err);
        if (got != ok[i].want || err != 0)
            fail_msg ("%s gave %lld (err %d)", ok[i].v, (long long)got, err);
    }
    static const char *const bad[] = {
        "abc", "12Q", "1KB", "1.5G", "1 ", "0x10", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int err = 0;
        assert_int_equal (ef_config_set (fx->cfg, "max-size", bad[i]), 0);
        int64_t got = ef_config_get_int (fx->cfg, "max-size", 77, &err);
        if (err != EF_EINVAL || got != 77)
            fail_msg ("\"%s\" gave %lld (err %d)", bad[i], (long long)got, err);
    }
    /* unset or empty: the default, no error */
    int err = 99;
    assert_int_equal (ef_config_get_int (fx->cfg, "unknown", 42, &err), 42);
    assert_int_equal (err, 0);
    assert_int_equal (ef_config_set (fx->cfg, "max-size", ""), 0);
    assert_int_equal (ef_config_get_int (fx->cfg, "max-size", 43, NULL), 43);
}

static void
test_usage_lists_every_option_with_its_env_and_default (void **state)
{
    fx_t *fx = *state;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    assert_non_null (out);
    ef_config_usage (fx->cfg, out);
    fclose (out);
    assert_non_null (strstr (text, "--data-dir"));
    assert_non_null (strstr (text, "EF_UNIT_DATA_DIR"));
    assert_non_null (strstr (text, "/var/lib/eventflow"));
    assert_non_null (strstr (text, "--max-size"));
    assert_non_null (strstr (text, "--config"));
    free (text);
}

static void
test_get_int_refuses_a_bare_suffix (void **state)
{
    fx_t *fx = *state;
    static const char *const bare[] = {"K", "M", "g"};
    for (size_t i = 0; i < sizeof bare / sizeof bare[0]; i++) {
        int err = 0;
        assert_int_equal (ef_config_set (fx->cfg, "max-size", bare[i]), 0);
        int64_t got = ef_config_get_int (fx->cfg, "max-size", 77, &err);
        if (err != EF_EINVAL || got != 77)
            fail_msg ("\"%s\" gave %lld (err %d)", bare[i], (long long)got,
                      err);
    }
}

/*  What ef_config_print writes for format, as a string to free. */
static char *
s_print (const ef_config_t *cfg, const char *format)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    assert_non_null (out);
    assert_int_equal (ef_config_print (cfg, "prog", format, out), 0);
    fclose (out);
    return text;
}

static void
test_print_md_has_a_row_per_option_and_escapes_bars (void **state)
{
    (void)state;
    static const ef_config_opt_t opts[] = {
        {"a-b", "EF_UNIT_A_B", "x|y", "one | two"},
        {"no-env", NULL, NULL, "help"},
        {NULL, NULL, NULL, NULL},
    };
    ef_config_t *cfg = ef_config_new (opts);
    assert_non_null (cfg);
    char *md = s_print (cfg, "md");
    assert_string_equal (md,
                         "| flag | environment | default | meaning |\n"
                         "|---|---|---|---|\n"
                         "| `--a-b` | `EF_UNIT_A_B` | `x\\|y` | one \\| two |\n"
                         "| `--no-env` |  | unset | help |\n"
                         "| `--config FILE` | `EVENTFLOW_CONFIG` | unset | "
                         "read options from FILE (name = value lines, '#' "
                         "comments) |\n");
    free (md);
    ef_config_destroy (&cfg);
}

static void
test_print_conf_uncommented_loads_back_every_default (void **state)
{
    fx_t *fx = *state;
    char *conf = s_print (fx->cfg, "conf");
    /* every option is there, commented out: as it is, the file sets
       nothing; with each "#name =" line uncommented, the defaults */
    assert_non_null (strstr (conf, "\n# where data lives\n"
                                   "#data-dir = /var/lib/eventflow\n"));
    assert_non_null (strstr (conf, "\n#max-size =\n"));
    for (char *line = conf; line && *line; line = strchr (line, '\n')) {
        if (*line == '\n')
            line++;
        char *end = strchr (line, '\n'), *eq = strstr (line, " =");
        if (line[0] == '#' && line[1] >= 'a' && line[1] <= 'z' && eq &&
            (!end || eq < end))
            line[0] = ' ';
    }
    const char *path = s_file (fx, conf);
    free (conf);
    ef_config_t *back = ef_config_new (s_opts);
    assert_non_null (back);
    char *argv[] = {"prog", "--config", (char *)path, NULL};
    int next = -1;
    assert_int_equal (
        ef_config_load (back, 3, argv, 1, &next, fx->err, sizeof fx->err), 0);
    for (const ef_config_opt_t *o = s_opts; o->name; o++)
        assert_string_equal (ef_config_get (back, o->name),
                             o->def ? o->def : "");
    ef_config_destroy (&back);
}

static void
test_print_env_names_each_variable_and_unknown_format_is_refused (void **state)
{
    fx_t *fx = *state;
    char *env = s_print (fx->cfg, "env");
    assert_non_null (strstr (env, "\n#EF_UNIT_DATA_DIR=/var/lib/eventflow\n"));
    assert_non_null (strstr (env, "\n#EF_UNIT_MAX_SIZE=\n"));
    assert_null (strstr (env, "fast")); /* "mode" has no variable */
    free (env);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    assert_non_null (out);
    assert_int_equal (ef_config_print (fx->cfg, "prog", "yaml", out),
                      EF_EINVAL);
    fclose (out);
    assert_int_equal (len, 0);
    free (text);
    char *argv[] = {"prog", "--port", "1", "--print-options=md", NULL};
    out = open_memstream (&text, &len);
    assert_int_equal (ef_config_print_main (fx->cfg, "prog", 4, argv, out), 0);
    fclose (out);
    assert_non_null (strstr (text, "| `--port` | `EF_UNIT_PORT` | `5555` |"));
    free (text);
    char *none[] = {"prog", "--port", "1", NULL};
    assert_int_equal (ef_config_print_main (fx->cfg, "prog", 3, none, stdout),
                      -1);
    char *bad[] = {"prog", "--print-options", NULL};
    assert_int_equal (ef_config_print_main (fx->cfg, "prog", 2, bad, stdout),
                      2);
}

/*  Last on purpose: the suffix multiplication overflows int64_t, which
    the sanitizer build reports as undefined behaviour and stops on. */
static void
test_get_int_refuses_a_suffixed_value_that_overflows (void **state)
{
    fx_t *fx = *state;
    int err = 0;
    assert_int_equal (ef_config_set (fx->cfg, "max-size", "9007199254740993G"),
                      0);
    int64_t got = ef_config_get_int (fx->cfg, "max-size", 77, &err);
    assert_int_equal (err, EF_EINVAL);
    assert_true (got == 77);
}

/*  A list value's items: trimmed, empty ones skipped, the end said. */
static void
test_list_items_are_trimmed_and_empty_ones_skipped (void **state)
{
    (void)state;
    const char *at = " a, b c ,,\t,  dd ,", *p;
    const char *want[] = {"a", "b c", "dd"};
    size_t n, k = 0;
    while ((p = ef_config_list_next (&at, &n))) {
        assert_true (k < 3);
        assert_int_equal (n, strlen (want[k]));
        assert_memory_equal (p, want[k], n);
        k++;
    }
    assert_int_equal (k, 3);
    assert_int_equal (n, 0);
    assert_null (ef_config_list_next (&at, &n)); /* stays at the end */
    at = NULL;
    assert_null (ef_config_list_next (&at, &n));
    at = " , ,";
    assert_null (ef_config_list_next (&at, &n));
}

#define T(f) cmocka_unit_test_setup_teardown (f, s_setup, s_teardown)

int
main (void)
{
    const struct CMUnitTest tests[] = {
        T (test_defaults_apply_when_nothing_else_is_given),
        T (test_list_items_are_trimmed_and_empty_ones_skipped),
        T (test_file_overrides_default),
        T (test_env_overrides_file_and_flag_overrides_env),
        T (test_config_flag_overrides_config_environment),
        T (test_flag_takes_both_equals_and_separate_value_forms),
        T (test_next_index_stops_at_first_non_flag),
        T (test_next_index_stops_at_unknown_flag_and_after_double_dash),
        T (test_flag_without_its_value_is_an_error),
        T (test_unknown_file_key_is_an_error_naming_it),
        T (test_file_line_without_equals_or_missing_file_is_an_error),
        T (test_set_by_hand_wins_and_unknown_name_is_refused),
        T (test_get_int_reads_suffixes_and_refuses_garbage),
        T (test_usage_lists_every_option_with_its_env_and_default),
        T (test_get_int_refuses_a_bare_suffix),
        T (test_print_md_has_a_row_per_option_and_escapes_bars),
        T (test_print_conf_uncommented_loads_back_every_default),
        T (test_print_env_names_each_variable_and_unknown_format_is_refused),
        T (test_get_int_refuses_a_suffixed_value_that_overflows),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
