/*  ef_log.c: JSON-lines records, one write per record (see ef_log.h).
    The writer builds every record itself from the caller's fields format:
    the format's literal text is the program's own, and every value that
    comes in through a conversion is rendered here, strings escaped as
    JSON (quotes, backslashes, control characters, invalid UTF-8), so no
    value can end a string early and forge a member or a record. */
#include "eventflow/ef_log.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_time.h"

#include <stdarg.h>
#include <sys/types.h>
#include <stdlib.h>
#include <string.h>

/*  A string value is cut at this many bytes (the record stays one line of
    bounded size whatever a peer sent). */
#define S_MAX_VALUE 1024

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

/*  s (n bytes, at most S_MAX_VALUE of them) escaped as the inside of a JSON
    string: ef_json_quote's rendering without its quotes. */
static void
s_put_str (ef_buf_t *b, const char *s, size_t n)
{
    if (!s)
        s = "", n = 0;
    if (n > S_MAX_VALUE)
        n = S_MAX_VALUE;
    size_t at = b->len;
    ef_json_quote (b, s, n);
    if (b->oom || b->len < at + 2)
        return;
    memmove (b->data + at, b->data + at + 1, b->len - at - 2);
    b->len -= 2;
}

/*  One numeric conversion: spec is "%" flags width precision length conv
    (no '*'), rendered with the argument its length and conversion call
    for; a pointer is rendered as null. */
static void
s_put_number (ef_buf_t *b, const char *spec, size_t len, va_list *ap)
{
    char fmt[32], out[64];
    int n = -1;
    if (len >= sizeof fmt)
        return;
    memcpy (fmt, spec, len);
    fmt[len] = 0;
    char conv = spec[len - 1];
    int longs = 0, size = 0;
    for (size_t i = 1; i + 1 < len; i++) {
        if (spec[i] == 'l')
            longs++;
        else if (spec[i] == 'z')
            size = 1;
    }
    if (strchr ("fFgGeEaA", conv))
        n = snprintf (out, sizeof out, fmt, va_arg (*ap, double));
    else if (conv == 'p') {
        (void)va_arg (*ap, void *);
        n = snprintf (out, sizeof out, "null");
    } else if (conv == 'd' || conv == 'i') {
        if (size)
            n = snprintf (out, sizeof out, fmt, va_arg (*ap, ssize_t));
        else if (longs >= 2)
            n = snprintf (out, sizeof out, fmt, va_arg (*ap, long long));
        else if (longs == 1)
            n = snprintf (out, sizeof out, fmt, va_arg (*ap, long));
        else
            n = snprintf (out, sizeof out, fmt, va_arg (*ap, int));
    } else if (conv == 'u' || conv == 'x' || conv == 'X' || conv == 'o') {
        if (size)
            n = snprintf (out, sizeof out, fmt, va_arg (*ap, size_t));
        else if (longs >= 2)
            n = snprintf (out, sizeof out, fmt,
                          va_arg (*ap, unsigned long long));
        else if (longs == 1)
            n = snprintf (out, sizeof out, fmt, va_arg (*ap, unsigned long));
        else
            n = snprintf (out, sizeof out, fmt, va_arg (*ap, unsigned));
    }
    if (n > 0)
        ef_buf_append (b, out,
                       (size_t)n < sizeof out ? (size_t)n : sizeof out - 1);
}

/*  The fields format with its arguments, every string escaped. */
static void
s_put_fields (ef_buf_t *b, const char *f, va_list *ap)
{
    while (*f) {
        const char *pct = strchr (f, '%');
        if (!pct) {
            ef_buf_append (b, f, strlen (f));
            return;
        }
        ef_buf_append (b, f, (size_t)(pct - f));
        const char *p = pct + 1;
        if (*p == '%') {
            ef_buf_append (b, "%", 1);
            f = p + 1;
            continue;
        }
        int star = 0, prec = -1;
        while (*p && strchr ("-+ #0", *p))
            p++;
        while (*p >= '0' && *p <= '9')
            p++;
        if (*p == '.') {
            p++;
            if (*p == '*')
                star = 1, p++;
            else {
                prec = 0;
                while (*p >= '0' && *p <= '9')
                    prec = prec * 10 + (*p++ - '0');
            }
        }
        while (*p && strchr ("hlqjzt", *p))
            p++;
        if (!*p)
            return; /* a format cut short: nothing more is safe to read */
        if (star)
            prec = va_arg (*ap, int);
        if (*p == 's') {
            const char *s = va_arg (*ap, const char *);
            size_t n =
                s ? (prec >= 0 ? strnlen (s, (size_t)prec) : strlen (s)) : 0;
            s_put_str (b, s, n);
        } else if (*p == 'c') {
            char c = (char)va_arg (*ap, int);
            s_put_str (b, &c, 1);
        } else if (!star)
            s_put_number (b, pct, (size_t)(p + 1 - pct), ap);
        else {
            /* "%.*d": the precision written out */
            char spec[32];
            const char *dot = strchr (pct, '*') - 1;
            int k =
                snprintf (spec, sizeof spec, "%.*s%d%.*s", (int)(dot + 1 - pct),
                          pct, prec, (int)(p - dot - 1), dot + 2);
            if (k > 0 && (size_t)k < sizeof spec)
                s_put_number (b, spec, (size_t)k, ap);
        }
        f = p + 1;
    }
}

void
ef_log_write (ef_log_t *self, ef_log_level_t level, const char *msg,
              const char *fields, ...)
{
    if (!self || level < self->level)
        return;
    char ts[32];
    ef_time_format (ef_time_now_ms (), ts, sizeof ts);
    ef_buf_t b;
    ef_buf_init (&b);
    ef_buf_append (&b, "{\"ts\":\"", 7);
    s_put_str (&b, ts, strlen (ts));
    ef_buf_append (&b, "\",\"level\":\"", 11);
    s_put_str (&b, s_level_names[level], strlen (s_level_names[level]));
    ef_buf_append (&b, "\",\"component\":\"", 15);
    s_put_str (&b, self->component, strlen (self->component));
    ef_buf_append (&b, "\",\"msg\":\"", 9);
    s_put_str (&b, msg ? msg : "", msg ? strlen (msg) : 0);
    ef_buf_append (&b, "\"", 1);
    if (fields && *fields) {
        va_list ap;
        va_start (ap, fields);
        ef_buf_append (&b, ",", 1);
        s_put_fields (&b, fields, &ap);
        va_end (ap);
    }
    ef_buf_append (&b, "}\n", 2);
    if (!b.oom) {
        fwrite (b.data, 1, b.len, self->out);
        fflush (self->out);
    }
    ef_buf_free (&b);
}
