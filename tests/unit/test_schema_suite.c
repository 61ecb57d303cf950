/*  test_schema_suite.c: ef_schema against the official JSON Schema Test
    Suite, draft-07 (Debian package json-schema-test-suite, installed by
    deploy/setup.sh). Every .json file directly in the draft7 directory is
    one cmocka test, which fails when any of its cases does, except
    refRemote.json: its cases need an HTTP server for remote $refs, which
    ef_schema refuses by design. refRemote.json and the files under
    optional/ (bignum, ECMA-262 regex details, formats...) are run too,
    for information only. Each case is checked twice, through
    ef_schema_validate_json on the parsed value and through
    ef_schema_validate on its JSON text, and the two must agree. A table
    "file passed/total" is printed at the end.
    Usage: test_schema_suite [draft7-directory]; the default is the
    Debian path. A missing directory is a failure with a clear message. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "ef_schema.h"
#include "eventflow/ef_error.h"

#define DEFAULT_DIR "/usr/share/json-schema-test-suite/tests/draft7"
#define MAX_FILES   128

/*  One suite file and what came of it. */
typedef struct {
    char path[1024];
    char name[256]; /* relative to the draft7 directory */
    int required;
    int ran;
    unsigned passed, total;
} suite_file_t;

/*  Everything the tests share, owned by main. */
typedef struct {
    char dir[1024];
    int dir_ok;
    suite_file_t files[MAX_FILES];
    size_t nfiles;
} suite_t;

/* ---------------------------------------------------------------- helpers */

static int
s_cmp_names (const void *a, const void *b)
{
    return strcmp (((const suite_file_t *)a)->name,
                   ((const suite_file_t *)b)->name);
}

/*  Add the .json files of dir (relative name prefix rel) to the suite;
    recurse into subdirectories when recurse is set. */
static void
s_scan (suite_t *suite, const char *dir, const char *rel, int required,
        int recurse)
{
    DIR *d = opendir (dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir (d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
        char name[256];
        snprintf (name, sizeof name, "%s%s", rel, e->d_name);
        struct stat st;
        if (stat (path, &st) != 0)
            continue;
        if (S_ISDIR (st.st_mode)) {
            if (recurse) {
                char sub[300];
                snprintf (sub, sizeof sub, "%s/", name);
                s_scan (suite, path, sub, 0, 1);
            }
            continue;
        }
        size_t n = strlen (e->d_name);
        if (n < 6 || strcmp (e->d_name + n - 5, ".json") != 0)
            continue;
        if (suite->nfiles == MAX_FILES)
            break;
        suite_file_t *f = &suite->files[suite->nfiles++];
        memset (f, 0, sizeof *f);
        snprintf (f->path, sizeof f->path, "%s", path);
        snprintf (f->name, sizeof f->name, "%s", name);
        f->required = required && strcmp (e->d_name, "refRemote.json") != 0;
    }
    closedir (d);
}

/*  Run every case of one file; count and, when loud, print failures. */
static void
s_run_file (suite_file_t *f, int loud)
{
    json_error_t jerr;
    json_t *groups = json_load_file (f->path, JSON_ALLOW_NUL, &jerr);
    f->ran = 1;
    if (!json_is_array (groups)) {
        print_error ("%s: cannot read: %s\n", f->name, jerr.text);
        f->total = 1;
        json_decref (groups);
        return;
    }
    size_t gi;
    json_t *group;
    json_array_foreach (groups, gi, group)
    {
        const char *gdesc =
            json_string_value (json_object_get (group, "description"));
        json_t *tests = json_object_get (group, "tests");
        char *text = json_dumps (json_object_get (group, "schema"),
                                 JSON_ENCODE_ANY | JSON_COMPACT);
        assert_non_null (text);
        int err = 0;
        char why[256];
        ef_schema_t *schema =
            ef_schema_compile (text, strlen (text), &err, why, sizeof why);
        free (text);
        size_t ti;
        json_t *test;
        json_array_foreach (tests, ti, test)
        {
            const char *tdesc =
                json_string_value (json_object_get (test, "description"));
            json_t *data = json_object_get (test, "data");
            int want = json_is_true (json_object_get (test, "valid"));
            f->total++;
            if (!schema) {
                if (loud)
                    print_error ("FAIL %s: %s / %s: schema refused (%d): %s\n",
                                 f->name, gdesc, tdesc, err, why);
                continue;
            }
            ef_schema_error_t errors[8];
            uint32_t nerrors = 0;
            int rc =
                ef_schema_validate_json (schema, data, errors, 8, &nerrors);
            char *dtext = json_dumps (data, JSON_ENCODE_ANY | JSON_COMPACT);
            assert_non_null (dtext);
            int rc2 = ef_schema_validate (schema, dtext, strlen (dtext), NULL,
                                          0, NULL);
            int got = rc == 0;
            int sound = (rc == 0 || rc == EF_EVALIDATION) && rc2 == rc &&
                        (rc == 0 ? nerrors == 0 : nerrors > 0);
            if (got == want && sound)
                f->passed++;
            else if (loud)
                print_error ("FAIL %s: %s / %s: expected %s, got %d (text "
                             "%d)%s%s%s data=%.200s\n",
                             f->name, gdesc, tdesc, want ? "valid" : "invalid",
                             rc, rc2, nerrors ? " [" : "",
                             nerrors ? errors[0].message : "",
                             nerrors ? "]" : "", dtext);
            free (dtext);
        }
        ef_schema_destroy (&schema);
    }
    json_decref (groups);
}

/* ------------------------------------------------------------------ tests */

static void
test_suite_directory_is_installed (void **state)
{
    suite_t *suite = *state;
    if (!suite->dir_ok)
        fail_msg ("JSON Schema Test Suite not found at %s: install the "
                  "Debian package json-schema-test-suite (deploy/setup.sh "
                  "does) or pass the suite's tests/draft7 directory as the "
                  "first argument",
                  suite->dir);
    size_t required = 0;
    for (size_t i = 0; i < suite->nfiles; i++)
        required += (size_t)suite->files[i].required;
    if (required == 0)
        fail_msg ("no draft-07 test files in %s", suite->dir);
}

/*  One required file: every case passes. */
static void
test_required_file_passes (void **state)
{
    suite_file_t *f = *state;
    s_run_file (f, 1);
    if (f->passed != f->total)
        fail_msg ("%s: %u of %u cases pass", f->name, f->passed, f->total);
}

/*  The informational files: run, print, never fail. */
static void
test_optional_files_for_information (void **state)
{
    suite_t *suite = *state;
    for (size_t i = 0; i < suite->nfiles; i++)
        if (!suite->files[i].required)
            s_run_file (&suite->files[i], 0);
}

static void
s_print_table (const suite_t *suite)
{
    unsigned rp = 0, rt = 0, op = 0, ot = 0;
    printf ("\n%-44s %s\n", "draft-07 file", "passed/total");
    for (size_t i = 0; i < suite->nfiles; i++) {
        const suite_file_t *f = &suite->files[i];
        if (!f->ran)
            continue;
        printf ("%-44s %u/%u%s\n", f->name, f->passed, f->total,
                f->required ? "" : "  (information only)");
        if (f->required)
            rp += f->passed, rt += f->total;
        else
            op += f->passed, ot += f->total;
    }
    printf ("%-44s %u/%u\n", "required, total", rp, rt);
    printf ("%-44s %u/%u\n\n", "information only, total", op, ot);
}

int
main (int argc, char **argv)
{
    suite_t *suite = calloc (1, sizeof *suite);
    if (!suite)
        return 1;
    snprintf (suite->dir, sizeof suite->dir, "%s",
              argc > 1 ? argv[1] : DEFAULT_DIR);
    struct stat st;
    suite->dir_ok = stat (suite->dir, &st) == 0 && S_ISDIR (st.st_mode);
    if (suite->dir_ok) {
        s_scan (suite, suite->dir, "", 1, 0);
        char opt[1100];
        snprintf (opt, sizeof opt, "%s/optional", suite->dir);
        s_scan (suite, opt, "optional/", 0, 1);
        qsort (suite->files, suite->nfiles, sizeof suite->files[0],
               s_cmp_names);
    }
    /*  One cmocka test per required file, named after it. */
    struct CMUnitTest *tests = calloc (suite->nfiles + 2, sizeof *tests);
    if (!tests)
        return 1;
    size_t n = 0;
    tests[n++] =
        (struct CMUnitTest){.name = "test_suite_directory_is_installed",
                            .test_func = test_suite_directory_is_installed,
                            .initial_state = suite};
    for (size_t i = 0; i < suite->nfiles; i++)
        if (suite->files[i].required)
            tests[n++] =
                (struct CMUnitTest){.name = suite->files[i].name,
                                    .test_func = test_required_file_passes,
                                    .initial_state = &suite->files[i]};
    if (suite->dir_ok)
        tests[n++] = (struct CMUnitTest){
            .name = "test_optional_files_for_information",
            .test_func = test_optional_files_for_information,
            .initial_state = suite};
    int failed = _cmocka_run_group_tests ("schema_suite", tests, n, NULL, NULL);
    s_print_table (suite);
    free (tests);
    free (suite);
    return failed;
}
