/*  config.c: fuzz target for the configuration loader (clients/c/
    ef_config.c) with the broker's and the bridge's option tables, as
    `eventflow-broker --config FILE …` and `eventflow-bridge --config
    FILE …` read them. The input is the file's text, then optionally a
    NUL byte and command-line arguments separated by NUL bytes (a
    "--config" among them is dropped: the file stays the input's). Every
    option is then read as text and as a number, the table is printed in
    each format, and the bridge's --cors-origins value is parsed into its
    policy (ef_cors), which is asked about the last argument as an
    Origin. Property: a value set in the file or by a flag reads back. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ef_bridge.h"
#include "ef_broker.h"
#include "ef_cors.h"
#include "eventflow/ef_config.h"
#include "fuzz.h"

#define S_ARGS 32

static void
s_load (const ef_config_opt_t *opts, int argc, char **argv, int bridge)
{
    ef_config_t *cfg = ef_config_new (opts);
    if (!cfg)
        return;
    char err[256];
    int next = 0;
    int rc = ef_config_load (cfg, argc, argv, 1, &next, err, sizeof err);
    FZ_CHECK (next >= 0 || rc);
    if (rc == 0) {
        FZ_CHECK (next >= 1 && next <= argc);
        for (const ef_config_opt_t *o = opts; o->name; o++) {
            int bad = 0;
            const char *v = ef_config_get (cfg, o->name);
            ef_config_get_int (cfg, o->name, 7, &bad);
            FZ_CHECK (v || !bad);
        }
        /* the last flag set wins over the file: read it back */
        for (int i = 1; i + 1 < next; i++) {
            const char *name = argv[i] + 2;
            if (strcmp (name, "config") == 0) {
                i++;
                continue;
            }
            if (strchr (name, '='))
                continue;
            const char *v = ef_config_get (cfg, name);
            FZ_CHECK (v != NULL);
            i++;
        }
        if (bridge) {
            char why[160];
            ef_cors_t *cors = ef_cors_new (ef_config_get (cfg, "cors-origins"),
                                           why, sizeof why);
            if (cors) {
                const char *origin = argv[argc - 1];
                const char *ok = ef_cors_allow (cors, origin);
                FZ_CHECK (ok == NULL || ok == origin);
                ef_cors_destroy (&cors);
            }
        }
    }
    FILE *null = fopen ("/dev/null", "w");
    if (null) {
        ef_config_print (cfg, "fuzz", "md", null);
        ef_config_print (cfg, "fuzz", "conf", null);
        ef_config_print (cfg, "fuzz", "env", null);
        fclose (null);
    }
    ef_config_destroy (&cfg);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0) {
        fd = memfd_create ("fuzz-config", 0);
        FZ_CHECK (fd >= 0);
        unsetenv ("EVENTFLOW_CONFIG");
    }
    const char *text = (const char *)data;
    const char *nul = memchr (text, 0, size);
    size_t flen = nul ? (size_t)(nul - text) : size;
    FZ_CHECK (ftruncate (fd, 0) == 0);
    FZ_CHECK (pwrite (fd, text, flen, 0) == (ssize_t)flen);
    char path[64];
    snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
    /* the arguments: a copy, NUL-terminated, split at the NULs */
    char *args = malloc (size - flen + 1);
    FZ_CHECK (args != NULL);
    char *argv[S_ARGS + 4];
    int argc = 0;
    argv[argc++] = "fuzz";
    argv[argc++] = "--config";
    argv[argc++] = path;
    if (nul) {
        size_t n = size - flen - 1;
        memcpy (args, nul + 1, n);
        args[n] = 0;
        for (char *a = args; a <= args + n && argc < S_ARGS;
             a += strlen (a) + 1)
            if (strncmp (a, "--config", 8) != 0)
                argv[argc++] = a;
    }
    argv[argc] = NULL;
    s_load (ef_broker_options, argc, argv, 0);
    s_load (ef_bridge_options, argc, argv, 1);
    free (args);
    return 0;
}
