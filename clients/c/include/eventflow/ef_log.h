/*  ef_log.h: JSON-lines logging. Each record is one line on the log's
    stream: {"ts":"…","level":"info","component":"broker","msg":"…",…fields}.
    A log object carries its component and level; nothing is global.
    Thread-safety: ef_log_write may be called from any thread (each record
    is written with one stdio call, which locks the stream). */
#ifndef EF_LOG_H
#define EF_LOG_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    EF_LOG_DEBUG = 0,
    EF_LOG_INFO,
    EF_LOG_WARN,
    EF_LOG_ERROR
} ef_log_level_t;

typedef struct ef_log ef_log_t;

/*  A log for component writing to out (stderr when NULL). NULL on OOM. */
ef_log_t *ef_log_new (const char *component, FILE *out);
void ef_log_destroy (ef_log_t **self_p);
void ef_log_set_level (ef_log_t *self, ef_log_level_t level);
/*  "debug", "info", "warn", "error" → level; -1 when unknown. */
int ef_log_level_parse (const char *name);
/*  Write a record if level is enabled. fields, when not NULL, is a printf
    format producing further JSON members without braces, for example
    "\"stream\":\"%s\",\"n\":%u". The writer renders every value itself:
    a %s or %c value is escaped as the inside of a JSON string (quotes,
    backslashes, control characters; invalid UTF-8 becomes U+FFFD; cut at
    1 KiB), so %s always stands between quotes in the format, whatever
    bytes a peer sent; numbers take d i u x o with h l ll z, and f g e a
    (a precision may be .*); %p is written as null.
    msg is escaped the same way. A NULL self writes nothing. */
void ef_log_write (ef_log_t *self, ef_log_level_t level, const char *msg,
                   const char *fields, ...)
    __attribute__ ((format (printf, 4, 5)));

#define ef_log_debug(l, ...) ef_log_write ((l), EF_LOG_DEBUG, __VA_ARGS__)
#define ef_log_info(l, ...)  ef_log_write ((l), EF_LOG_INFO, __VA_ARGS__)
#define ef_log_warn(l, ...)  ef_log_write ((l), EF_LOG_WARN, __VA_ARGS__)
#define ef_log_error(l, ...) ef_log_write ((l), EF_LOG_ERROR, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
