/*  ef_log.c: JSON-lines records, one write per record (see ef_log.h). */
#include "eventflow/ef_log.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_time.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct ef_log {
    char *component;
    FILE *out;
    ef_log_level_t level;
};

static const char *s_level_names[] = {"debug", "info", "warn", "error"};

ef_log_t *
ef_log_new (const char *component, FILE *out)
{
    ef_log_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->component = strdup (component ? component : "eventflow");
    if (!self->component) {
        free (self);
        return NULL;
    }
    self->out = out ? out : stderr;
    self->level = EF_LOG_INFO;
    return self;
}

void
ef_log_destroy (ef_log_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->component);
    free (*self_p);
    *self_p = NULL;
}

void
ef_log_set_level (ef_log_t *self, ef_log_level_t level)
{
    self->level = level;
}

int
ef_log_level_parse (const char *name)
{
    for (int i = 0; i < 4; i++)
        if (name && strcmp (name, s_level_names[i]) == 0)
            return i;
    return -1;
}

void
ef_log_write (ef_log_t *self, ef_log_level_t level, const char *msg,
              const char *fields, ...)
{
    if (!self || level < self->level)
        return;
    char ts[32], line[4096];
    ef_time_format (ef_time_now_ms (), ts, sizeof ts);
    ef_buf_t b;
    ef_buf_init (&b);
    int n = snprintf (line, sizeof line,
                      "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"%s\","
                      "\"msg\":",
                      ts, s_level_names[level], self->component);
    ef_buf_append (&b, line, (size_t) n);
    ef_json_quote (&b, msg, strlen (msg));
    if (fields && *fields) {
        va_list ap;
        va_start (ap, fields);
        n = vsnprintf (line, sizeof line, fields, ap);
        va_end (ap);
        if (n > 0) {
            ef_buf_append (&b, ",", 1);
            ef_buf_append (&b, line,
                           (size_t) n < sizeof line ? (size_t) n
                                                    : sizeof line - 1);
        }
    }
    ef_buf_append (&b, "}\n", 2);
    if (!b.oom) {
        fwrite (b.data, 1, b.len, self->out);
        fflush (self->out);
    }
    ef_buf_free (&b);
}
