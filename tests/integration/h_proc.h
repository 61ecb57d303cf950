/*  h_proc.h: a CLI process that runs alongside a test (consume, tail -f,
    worker, produce from a pipe): its stdin is a pipe the test writes,
    and its stdout and stderr are gathered by threads, so that the test
    waits on the lines it expects (never on sleeps). Test-only code. */
#ifndef EF_TEST_H_PROC_H
#define EF_TEST_H_PROC_H

#include <stddef.h>
#include <sys/types.h>
#include "harness.h"

typedef struct h_proc h_proc_t;

/*  Start `bin/eventflow ARGS...` against broker b (its endpoint and data
    dir in the environment, as h_cli does) with env (NULL-terminated
    "NAME=value" list, may be NULL) added. NULL on failure. */
h_proc_t *h_proc_start (const h_broker_t *b, const char *const *env,
                        const char *const *args);
/*  Write text to its stdin; 0 or -1. */
int h_proc_write (h_proc_t *p, const char *text);
/*  Close its stdin (end of input). */
void h_proc_close_stdin (h_proc_t *p);
/*  Wait up to timeout_ms until its stdout (err 0) or stderr (err 1)
    holds text at least n times. 0, or -1 when the time ran out (what
    it printed goes to the test's stderr). */
int h_proc_wait (h_proc_t *p, int err, const char *text, int n, int timeout_ms);
/*  How many times text occurs in its stdout (err 0) or stderr (err 1). */
int h_proc_count (h_proc_t *p, int err, const char *text);
/*  Its process id (to stop and continue it, or look at its sockets). */
pid_t h_proc_pid (const h_proc_t *p);
/*  Send sig (if not 0), wait up to timeout_ms for the exit, then SIGKILL.
    The exit code (128 + signal when killed by one), and frees p. */
int h_proc_end (h_proc_t **p_p, int sig, int timeout_ms);

#endif
