/*  ef_config.h: configuration with one precedence everywhere:
    command-line flags > EVENTFLOW_* environment > config file > defaults.
    A program describes its options in a table; the loader fills values.
    Flags are "--name value" or "--name=value"; "--config FILE" names the
    file (also EVENTFLOW_CONFIG); the file holds "name = value" lines with
    '#' comments. Thread-safety: load once, then read from any thread. */
#ifndef EF_CONFIG_H
#define EF_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "eventflow/ef_log.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *name; /* flag and file key, e.g. "data-dir" */
    const char *env;  /* environment variable, e.g. "EVENTFLOW_DATA_DIR" */
    const char *def;  /* default value (may be NULL) */
    const char *help;
} ef_config_opt_t;

typedef struct ef_config ef_config_t;

/*  opts is terminated by an entry with name NULL, and must outlive the
    config. NULL on OOM. */
ef_config_t *ef_config_new (const ef_config_opt_t *opts);
void ef_config_destroy (ef_config_t **self_p);

/*  Apply file, environment and argv[first..argc). Stops at the first
    argument that is not a known flag (or after "--") and stores its index
    in *next. Returns 0, or EF_EINVAL with a message in err. */
int ef_config_load (ef_config_t *self, int argc, char **argv, int first,
                    int *next, char *err, size_t errlen);
/*  A server's start (eventflow-broker, eventflow-bridge): ef_config_load
    over argv[1..argc), refusing an argument left over and an unknown
    "log-level" (ef_log_level_parse), each with one line "program: why"
    on stderr; the level is set on log. 0, or 2: the exit status of a
    usage error. */
int ef_config_load_main (ef_config_t *self, const char *program, int argc,
                         char **argv, ef_log_t *log);
/*  Set a value by hand (highest precedence). 0 or EF_EINVAL/EF_ENOMEM. */
int ef_config_set (ef_config_t *self, const char *name, const char *value);
/*  The value of name (NULL when unset or unknown). Owned by the config. */
const char *ef_config_get (const ef_config_t *self, const char *name);
/*  The next item of a comma-separated list value at *p (as
    --cors-origins and --trusted-proxies take), the white space around it
    trimmed and empty items skipped; *p moves past it. Its length in *n,
    or NULL at the end of the list. */
const char *ef_config_list_next (const char **p, size_t *n);
/*  The value as an integer, accepting K/M/G (×1024) suffixes; def when
    unset; EF_EINVAL through *err (if not NULL) when not a number. */
int64_t ef_config_get_int (const ef_config_t *self, const char *name,
                           int64_t def, int *err);
/*  Print one line per option: flag, environment variable, default, help. */
void ef_config_usage (const ef_config_t *self, FILE *out);
/*  The option table rendered for a reader other than --help, from the
    defaults (never from loaded values: the output depends on the table
    only). format is "md" (a Markdown table: flag, environment, default,
    meaning, for the README's reference), "conf" (a config file for
    --config with every option commented out at its default and its help
    above it) or "env" (the same as EVENTFLOW_*=value lines, for systemd's
    EnvironmentFile=). program names the binary in the files' headers.
    0, or EF_EINVAL for an unknown format (nothing printed). */
int ef_config_print (const ef_config_t *self, const char *program,
                     const char *format, FILE *out);
/*  A server's "--print-options FORMAT" (or "--print-options=FORMAT"),
    looked for anywhere in argv before the configuration is loaded: the
    table goes to out (ef_config_print). -1 when argv has none (go on),
    else the exit status: 0, or 2 after one line "program: why" on stderr
    (no format, or an unknown one). EF_CONFIG_PRINT_USAGE is its --help
    line. */
int ef_config_print_main (const ef_config_t *self, const char *program,
                          int argc, char **argv, FILE *out);
#define EF_CONFIG_PRINT_USAGE                                                  \
    "  --print-options FMT  print every option as md (the README's "           \
    "reference),\n"                                                            \
    "                       conf (a config file) or env (an environment "      \
    "file)\n"

#ifdef __cplusplus
}
#endif
#endif
