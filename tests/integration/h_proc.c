/*  h_proc.c: CLI processes beside a test (see h_proc.h). One thread per
    output stream appends to a buffer under a mutex and signals a
    condition, on which h_proc_wait waits with a deadline. */
#define _GNU_SOURCE /* pipe2 */
#include "h_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    h_proc_t *owner;
    int fd;
    char *text;
    size_t len, cap;
    pthread_t thread;
} s_out_t;

struct h_proc {
    pid_t pid;
    int in; /* its stdin, -1 once closed */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    s_out_t out[2];
    int eofs; /* output streams at their end: the process is gone */
};

static void *
s_gather (void *arg)
{
    s_out_t *o = arg;
    char buf[4096];
    ssize_t n;
    while ((n = read (o->fd, buf, sizeof buf)) > 0 ||
           (n < 0 && errno == EINTR)) {
        if (n < 0)
            continue;
        pthread_mutex_lock (&o->owner->mu);
        if (o->len + (size_t)n + 1 > o->cap) {
            size_t cap = (o->len + (size_t)n + 1) * 2;
            char *t = realloc (o->text, cap);
            if (t)
                o->text = t, o->cap = cap;
        }
        if (o->len + (size_t)n + 1 <= o->cap) {
            memcpy (o->text + o->len, buf, (size_t)n);
            o->len += (size_t)n;
            o->text[o->len] = 0;
        }
        pthread_cond_broadcast (&o->owner->cv);
        pthread_mutex_unlock (&o->owner->mu);
    }
    pthread_mutex_lock (&o->owner->mu);
    o->owner->eofs++;
    pthread_cond_broadcast (&o->owner->cv);
    pthread_mutex_unlock (&o->owner->mu);
    close (o->fd);
    return NULL;
}

h_proc_t *
h_proc_start (const h_broker_t *b, const char *const *env,
              const char *const *args)
{
    /* close-on-exec: no other child (a broker restarted meanwhile) may
       hold its stdin open; dup2 makes the child's own 0, 1, 2 plain */
    int in[2], o[2], e[2];
    if (pipe2 (in, O_CLOEXEC) || pipe2 (o, O_CLOEXEC) || pipe2 (e, O_CLOEXEC))
        return NULL;
    signal (SIGPIPE, SIG_IGN);
    h_proc_t *p = calloc (1, sizeof *p);
    pthread_mutex_init (&p->mu, NULL);
    pthread_cond_init (&p->cv, NULL);
    p->pid = fork ();
    if (p->pid == 0)
        h_cli_exec (b, env, args, in, o, e);
    close (in[0]), close (o[1]), close (e[1]);
    p->in = in[1];
    p->out[0] = (s_out_t){p, o[0], NULL, 0, 0, 0};
    p->out[1] = (s_out_t){p, e[0], NULL, 0, 0, 0};
    pthread_create (&p->out[0].thread, NULL, s_gather, &p->out[0]);
    pthread_create (&p->out[1].thread, NULL, s_gather, &p->out[1]);
    return p;
}

int
h_proc_write (h_proc_t *p, const char *text)
{
    size_t len = strlen (text), off = 0;
    while (off < len) {
        ssize_t n = write (p->in, text + off, len - off);
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

void
h_proc_close_stdin (h_proc_t *p)
{
    if (p->in >= 0)
        close (p->in);
    p->in = -1;
}

static int
s_count (const char *s, const char *text)
{
    int n = 0;
    size_t len = strlen (text);
    for (const char *at = s ? strstr (s, text) : NULL; at;
         at = strstr (at + len, text))
        n++;
    return n;
}

int
h_proc_count (h_proc_t *p, int err, const char *text)
{
    pthread_mutex_lock (&p->mu);
    int n = s_count (p->out[err ? 1 : 0].text, text);
    pthread_mutex_unlock (&p->mu);
    return n;
}

int
h_proc_wait (h_proc_t *p, int err, const char *text, int n, int timeout_ms)
{
    struct timespec until;
    clock_gettime (CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L)
        until.tv_sec++, until.tv_nsec -= 1000000000L;
    int rc = 0;
    pthread_mutex_lock (&p->mu);
    while (s_count (p->out[err ? 1 : 0].text, text) < n)
        if (pthread_cond_timedwait (&p->cv, &p->mu, &until) == ETIMEDOUT) {
            rc = -1;
            break;
        }
    if (rc)
        fprintf (stderr,
                 "waited %d ms for %d x '%s' on %s; stdout:\n%s\nstderr:\n%s\n",
                 timeout_ms, n, text, err ? "stderr" : "stdout",
                 p->out[0].text ? p->out[0].text : "",
                 p->out[1].text ? p->out[1].text : "");
    pthread_mutex_unlock (&p->mu);
    return rc;
}

int
h_proc_end (h_proc_t **p_p, int sig, int timeout_ms)
{
    h_proc_t *p = *p_p;
    int status = 0, code = -1;
    h_proc_close_stdin (p);
    if (sig)
        kill (p->pid, sig);
    /* its outputs end when it exits */
    struct timespec until;
    clock_gettime (CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000 + 1;
    pthread_mutex_lock (&p->mu);
    while (p->eofs < 2)
        if (pthread_cond_timedwait (&p->cv, &p->mu, &until) == ETIMEDOUT)
            break;
    int gone = p->eofs == 2;
    pthread_mutex_unlock (&p->mu);
    if (!gone)
        kill (p->pid, SIGKILL);
    waitpid (p->pid, &status, 0);
    if (WIFEXITED (status))
        code = WEXITSTATUS (status);
    else if (WIFSIGNALED (status))
        code = 128 + WTERMSIG (status);
    pthread_join (p->out[0].thread, NULL);
    pthread_join (p->out[1].thread, NULL);
    free (p->out[0].text);
    free (p->out[1].text);
    pthread_mutex_destroy (&p->mu);
    pthread_cond_destroy (&p->cv);
    free (p);
    *p_p = NULL;
    return code;
}

pid_t
h_proc_pid (const h_proc_t *p)
{
    return p->pid;
}
