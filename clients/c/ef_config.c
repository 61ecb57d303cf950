/*  ef_config.c: option tables loaded from defaults, a file, the
    environment and flags, in that order, each overriding the last; the
    servers' shared start (load, stray arguments, log level); and every
    rendering of a table (--help, the README's reference, the example
    config and environment files), so that an option is described once,
    in its table row. */
#include "eventflow/ef_config.h"
#include "eventflow/ef_error.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ef_config {
    const ef_config_opt_t *opts;
    size_t n;
    char **values;
};

ef_config_t *
ef_config_new (const ef_config_opt_t *opts)
{
    ef_config_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->opts = opts;
    while (opts[self->n].name)
        self->n++;
    self->values = calloc (self->n + 1, sizeof (char *));
    if (!self->values) {
        free (self);
        return NULL;
    }
    for (size_t i = 0; i < self->n; i++)
        if (opts[i].def && ef_config_set (self, opts[i].name, opts[i].def)) {
            ef_config_destroy (&self);
            return NULL;
        }
    return self;
}

void
ef_config_destroy (ef_config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_config_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++)
        free (self->values[i]);
    free (self->values);
    free (self);
    *self_p = NULL;
}

static int
s_index (const ef_config_t *self, const char *name, size_t len)
{
    for (size_t i = 0; i < self->n; i++)
        if (strlen (self->opts[i].name) == len &&
            strncmp (self->opts[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

int
ef_config_set (ef_config_t *self, const char *name, const char *value)
{
    int i = s_index (self, name, strlen (name));
    if (i < 0)
        return EF_EINVAL;
    char *copy = strdup (value);
    if (!copy)
        return EF_ENOMEM;
    free (self->values[i]);
    self->values[i] = copy;
    return 0;
}

const char *
ef_config_list_next (const char **p, size_t *n)
{
    const char *s = *p ? *p : "";
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        if (!*s) {
            *p = s;
            *n = 0;
            return NULL;
        }
        size_t len = strcspn (s, ",");
        *p = s + len;
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        if (len) {
            *n = len;
            return s;
        }
        s = *p;
    }
}

const char *
ef_config_get (const ef_config_t *self, const char *name)
{
    int i = s_index (self, name, strlen (name));
    return i < 0 ? NULL : self->values[i];
}

int64_t
ef_config_get_int (const ef_config_t *self, const char *name, int64_t def,
                   int *err)
{
    const char *v = ef_config_get (self, name);
    if (err)
        *err = 0;
    if (!v || !*v)
        return def;
    char *end;
    errno = 0;
    long long n = strtoll (v, &end, 10);
    int64_t mul = 1;
    int digits = end != v;
    if (*end == 'k' || *end == 'K')
        mul = 1024, end++;
    else if (*end == 'm' || *end == 'M')
        mul = 1024 * 1024, end++;
    else if (*end == 'g' || *end == 'G')
        mul = 1024LL * 1024 * 1024, end++;
    if (errno || !digits || *end || (n > 0 && n > INT64_MAX / mul) ||
        (n < 0 && n < INT64_MIN / mul)) {
        if (err)
            *err = EF_EINVAL;
        return def;
    }
    return (int64_t)n * mul;
}

static char *
s_trim (char *s)
{
    while (isspace ((unsigned char)*s))
        s++;
    char *e = s + strlen (s);
    while (e > s && isspace ((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

static int
s_load_file (ef_config_t *self, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen (path, "r");
    if (!f) {
        snprintf (err, errlen, "cannot open config file %s: %s", path,
                  strerror (errno));
        return EF_EINVAL;
    }
    char line[4096];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets (line, sizeof line, f)) {
        lineno++;
        char *hash = strchr (line, '#');
        if (hash)
            *hash = 0;
        char *s = s_trim (line);
        if (!*s)
            continue;
        char *eq = strchr (s, '=');
        if (!eq) {
            snprintf (err, errlen, "%s:%d: expected 'name = value'", path,
                      lineno);
            rc = EF_EINVAL;
            break;
        }
        *eq = 0;
        char *key = s_trim (s), *val = s_trim (eq + 1);
        if (ef_config_set (self, key, val)) {
            snprintf (err, errlen, "%s:%d: unknown option '%s'", path, lineno,
                      key);
            rc = EF_EINVAL;
        }
    }
    fclose (f);
    return rc;
}

int
ef_config_load (ef_config_t *self, int argc, char **argv, int first, int *next,
                char *err, size_t errlen)
{
    /* First pass: find where flags end and which config file to read. */
    const char *file = getenv ("EVENTFLOW_CONFIG");
    int end = first;
    while (end < argc) {
        const char *a = argv[end];
        if (strcmp (a, "--") == 0)
            break;
        if (strncmp (a, "--", 2) != 0)
            break;
        const char *name = a + 2, *eq = strchr (name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen (name);
        int is_config = len == 6 && strncmp (name, "config", 6) == 0;
        if (!is_config && s_index (self, name, len) < 0)
            break;
        const char *val = eq ? eq + 1 : NULL;
        if (!val) {
            if (end + 1 >= argc) {
                snprintf (err, errlen, "option --%.*s needs a value", (int)len,
                          name);
                return EF_EINVAL;
            }
            val = argv[++end];
        }
        if (is_config)
            file = val;
        end++;
    }
    if (file && *file) {
        int rc = s_load_file (self, file, err, errlen);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < self->n; i++) {
        const char *v = self->opts[i].env ? getenv (self->opts[i].env) : NULL;
        if (v && ef_config_set (self, self->opts[i].name, v))
            return EF_ENOMEM;
    }
    for (int i = first; i < end; i++) {
        const char *name = argv[i] + 2, *eq = strchr (name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen (name);
        const char *val = eq ? eq + 1 : argv[++i];
        if (len == 6 && strncmp (name, "config", 6) == 0)
            continue;
        char key[128];
        snprintf (key, sizeof key, "%.*s", (int)len, name);
        if (ef_config_set (self, key, val))
            return EF_ENOMEM;
    }
    if (end < argc && strcmp (argv[end], "--") == 0)
        end++;
    if (next)
        *next = end;
    return 0;
}

/*  --config is the loader's own option, not a row of any table: described
    here once for every rendering. */
static const ef_config_opt_t s_config_opt = {
    "config", "EVENTFLOW_CONFIG", NULL,
    "read options from FILE (name = value lines, '#' comments)"};

void
ef_config_usage (const ef_config_t *self, FILE *out)
{
    for (size_t i = 0; i < self->n; i++) {
        const ef_config_opt_t *o = &self->opts[i];
        fprintf (out, "  --%-18s %s\n", o->name, o->help ? o->help : "");
        if (o->env || o->def)
            fprintf (out, "  %-20s (env %s%s%s)\n", "", o->env ? o->env : "-",
                     o->def ? ", default " : "", o->def ? o->def : "");
    }
    fprintf (out, "  --%-18s %s\n  %-20s (env %s)\n", "config FILE",
             s_config_opt.help, "", s_config_opt.env);
}

/* ---------------------------------------------------------------- print */

/*  text into a Markdown table cell: '|' would end the cell. */
static void
s_md_cell (FILE *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '|')
            fputc ('\\', out);
        fputc (*p, out);
    }
}

static void
s_md_row (FILE *out, const ef_config_opt_t *o, const char *flag)
{
    fprintf (out, "| `%s` | ", flag);
    if (o->env)
        fprintf (out, "`%s`", o->env);
    fputs (" | ", out);
    if (o->def) {
        fputc ('`', out);
        s_md_cell (out, o->def);
        fputc ('`', out);
    } else {
        fputs ("unset", out);
    }
    fputs (" | ", out);
    s_md_cell (out, o->help ? o->help : "");
    fputs (" |\n", out);
}

/*  text as '#' comment lines of at most 76 columns, broken at spaces. */
static void
s_comment (FILE *out, const char *text)
{
    const int width = 74;
    while (*text) {
        int len = (int)strlen (text);
        if (len > width) {
            len = width;
            while (len > 0 && text[len] != ' ')
                len--;
            if (len == 0) /* one word longer than a line */
                len = (int)strcspn (text, " ");
        }
        fprintf (out, "# %.*s\n", len, text);
        text += len;
        while (*text == ' ')
            text++;
    }
}

int
ef_config_print (const ef_config_t *self, const char *program,
                 const char *format, FILE *out)
{
    int md = strcmp (format, "md") == 0, conf = strcmp (format, "conf") == 0,
        env = strcmp (format, "env") == 0;
    if (!md && !conf && !env)
        return EF_EINVAL;
    if (md) {
        fputs ("| flag | environment | default | meaning |\n"
               "|---|---|---|---|\n",
               out);
        for (size_t i = 0; i < self->n; i++) {
            char flag[160];
            snprintf (flag, sizeof flag, "--%s", self->opts[i].name);
            s_md_row (out, &self->opts[i], flag);
        }
        s_md_row (out, &s_config_opt, "--config FILE");
        return 0;
    }
    fprintf (out,
             "# %s: every option, commented out at its default.\n"
             "# Made by `%s --print-options %s` (deploy/gen-options.sh):\n"
             "# edit the option table in the code, not this file.\n",
             program, program, format);
    if (conf)
        fprintf (out,
                 "# Use: %s --config FILE, or EVENTFLOW_CONFIG=FILE.\n"
                 "# 'name = value' lines; the environment overrides the\n"
                 "# file, and flags override both.\n",
                 program);
    else
        fputs ("# Use: systemd's EnvironmentFile=FILE, or `set -a; . FILE`.\n"
               "# Flags override the environment, which overrides a config\n"
               "# file (EVENTFLOW_CONFIG).\n",
               out);
    for (size_t i = 0; i < self->n; i++) {
        const ef_config_opt_t *o = &self->opts[i];
        if (env && !o->env)
            continue; /* only a flag or a file can set it */
        fputc ('\n', out);
        s_comment (out, o->help ? o->help : "");
        if (conf)
            fprintf (out, "#%s =%s%s\n", o->name, o->def ? " " : "",
                     o->def ? o->def : "");
        else
            fprintf (out, "#%s=%s\n", o->env, o->def ? o->def : "");
    }
    return 0;
}

int
ef_config_print_main (const ef_config_t *self, const char *program, int argc,
                      char **argv, FILE *out)
{
    static const char flag[] = "--print-options";
    for (int i = 1; i < argc; i++) {
        const char *format = NULL;
        if (strcmp (argv[i], flag) == 0)
            format = i + 1 < argc ? argv[i + 1] : "";
        else if (strncmp (argv[i], flag, sizeof flag - 1) == 0 &&
                 argv[i][sizeof flag - 1] == '=')
            format = argv[i] + sizeof flag;
        else
            continue;
        if (ef_config_print (self, program, format, out)) {
            fprintf (stderr, "%s: --print-options takes md, conf or env\n",
                     program);
            return 2;
        }
        return 0;
    }
    return -1;
}

int
ef_config_load_main (ef_config_t *self, const char *program, int argc,
                     char **argv, ef_log_t *log)
{
    char err[512];
    int next;
    if (ef_config_load (self, argc, argv, 1, &next, err, sizeof err)) {
        fprintf (stderr, "%s: %s\n", program, err);
        return 2;
    }
    if (next < argc) {
        fprintf (stderr, "%s: unknown argument '%s' (see --help)\n", program,
                 argv[next]);
        return 2;
    }
    int level = ef_log_level_parse (ef_config_get (self, "log-level"));
    if (level < 0) {
        fprintf (stderr, "%s: bad --log-level\n", program);
        return 2;
    }
    ef_log_set_level (log, (ef_log_level_t)level);
    return 0;
}
