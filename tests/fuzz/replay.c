/*  replay.c: the main of a fuzz target in the normal build (no libFuzzer):
    every file under the directories and files named on the command line
    is given to LLVMFuzzerTestOneInput once, in name order, so the ctest
    fuzz_replay_<target> runs the committed corpus (seeds and the inputs
    of past findings) on every build, with or without sanitizers. A crash
    or a broken FZ_CHECK aborts the test; otherwise it prints how many
    inputs ran. An empty corpus fails: it would test nothing. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int
s_run_file (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        fprintf (stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *data = malloc (cap);
    size_t got;
    while (data && (got = fread (data + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *more = realloc (data, cap *= 2);
            if (!more)
                free (data);
            data = more;
        }
    }
    fclose (f);
    if (!data) {
        fprintf (stderr, "replay: out of memory for %s\n", path);
        return -1;
    }
    /* an exact copy, so that a read past the end is caught by ASan */
    uint8_t *input = malloc (len ? len : 1);
    if (!input) {
        free (data);
        return -1;
    }
    memcpy (input, data, len);
    free (data);
    LLVMFuzzerTestOneInput (input, len);
    free (input);
    return 0;
}

static int
s_by_name (const void *a, const void *b)
{
    return strcmp (*(char *const *)a, *(char *const *)b);
}

static int
s_run (const char *path, int *count)
{
    struct stat st;
    if (stat (path, &st)) {
        fprintf (stderr, "replay: no such corpus: %s\n", path);
        return -1;
    }
    if (!S_ISDIR (st.st_mode)) {
        if (s_run_file (path))
            return -1;
        (*count)++;
        return 0;
    }
    struct dirent **names;
    int n = scandir (path, &names, NULL, NULL);
    if (n < 0)
        return -1;
    char **paths = calloc ((size_t)n + 1, sizeof *paths);
    int k = 0, rc = 0;
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.' && paths) {
            size_t len = strlen (path) + strlen (names[i]->d_name) + 2;
            paths[k] = malloc (len);
            if (paths[k])
                snprintf (paths[k++], len, "%s/%s", path, names[i]->d_name);
        }
        free (names[i]);
    }
    free (names);
    if (!paths)
        return -1;
    qsort (paths, (size_t)k, sizeof *paths, s_by_name);
    for (int i = 0; i < k; i++) {
        if (rc == 0)
            rc = s_run (paths[i], count);
        free (paths[i]);
    }
    free (paths);
    return rc;
}

int
main (int argc, char **argv)
{
    int count = 0;
    for (int i = 1; i < argc; i++)
        if (s_run (argv[i], &count))
            return 1;
    if (count == 0) {
        fprintf (stderr, "replay: no inputs\n");
        return 1;
    }
    printf ("replay: %d inputs ran\n", count);
    return 0;
}
