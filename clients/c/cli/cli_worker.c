/*  cli_worker.c: processing from the command line: `worker` runs a
    command for every job of a service (the event as JSON on its standard
    input; exit 0 → done with its standard output as the result, another
    exit → failed with its standard error as the reason), and `dlq` looks
    at and replays the dead-letter queue. */
#include "cli.h"

#include "eventflow/ef_error.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_time.h"
#include "eventflow/ef_worker.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_OUT_MAX  (1u << 20) /* what a command may print */
#define S_NO_RETRY 100        /* the exit code of a failure not to retry */

static const char s_worker_usage[] =
    "Usage: eventflow worker --service SERVICE --exec COMMAND [--capacity N]\n"
    "\n"
    "Attach as a worker of SERVICE and run COMMAND (with sh -c) for each\n"
    "job, one at a time: the event arrives as one JSON object on its\n"
    "standard input (its \"payload\" is what the pipeline's earlier steps\n"
    "left). Exit 0: done, and the standard output (JSON; other text is\n"
    "sent as a JSON string) is the result. Exit 100: failed, not to be\n"
    "retried. Any other exit: failed, retried with backoff; the standard\n"
    "error is the reason. Ctrl-C stops after the job in hand.\n"
    "\n"
    "Heartbeats go on while COMMAND runs: the step's timeout_ms alone\n"
    "decides how long a job may take. When the broker goes away, the\n"
    "worker says so on stderr, keeps waiting, and attaches again when the\n"
    "broker is back.\n";

typedef struct {
    const char *command;
    uint64_t done, failed;
    ef_buf_t io;
    char result[S_OUT_MAX + 1];
    char reason[4096];
} s_worker_t;

/*  Read what fd has into buf (at most max), until EOF. */
static size_t
s_read_all (int fd, char *buf, size_t max)
{
    size_t len = 0;
    for (;;) {
        ssize_t n = read (fd, buf + len, max - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == max) {
            char sink[4096];
            while (read (fd, sink, sizeof sink) > 0)
                ; /* the rest is dropped: the limit was passed */
            break;
        }
    }
    buf[len] = 0;
    return len;
}

/*  Run the command with input; its exit code, or -1. */
static int
s_run (s_worker_t *w, const char *input, size_t len, size_t *out_len)
{
    int in[2], out[2], err[2];
    if (pipe (in) || pipe (out) || pipe (err))
        return -1;
    pid_t pid = fork ();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2 (in[0], 0), dup2 (out[1], 1), dup2 (err[1], 2);
        close (in[0]), close (in[1]), close (out[0]), close (out[1]);
        close (err[0]), close (err[1]);
        execl ("/bin/sh", "sh", "-c", w->command, (char *)NULL);
        _exit (127);
    }
    close (in[0]), close (out[1]), close (err[1]);
    /* the event is small: write it, then read both outputs */
    size_t off = 0;
    signal (SIGPIPE, SIG_IGN);
    while (off < len) {
        ssize_t n = write (in[1], input + off, len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    close (in[1]);
    *out_len = s_read_all (out[0], w->result, S_OUT_MAX);
    s_read_all (err[0], w->reason, sizeof w->reason - 1);
    close (out[0]), close (err[0]);
    int status;
    if (waitpid (pid, &status, 0) < 0)
        return -1;
    return WIFEXITED (status) ? WEXITSTATUS (status) : 128;
}

static void
s_on_job (void *arg, const ef_job_t *job, ef_job_outcome_t *out)
{
    s_worker_t *w = arg;
    ef_event_t ev = job->event;
    ev.payload = job->payload; /* what the steps before left */
    ef_buf_reset (&w->io);
    cli_json_event (&w->io, &ev);
    size_t rlen = 0;
    int code = s_run (w, w->io.data, w->io.len, &rlen);
    if (code == 0) {
        /* the result must be JSON: trailing space trimmed, text quoted */
        while (rlen &&
               (w->result[rlen - 1] == '\n' || w->result[rlen - 1] == ' ' ||
                w->result[rlen - 1] == '\r'))
            w->result[--rlen] = 0;
        if (rlen &&
            ef_json_validate (w->result, rlen, EF_JSON_DEPTH, NULL, NULL)) {
            ef_buf_reset (&w->io);
            ef_json_quote (&w->io, w->result, rlen);
            ef_buf_append (&w->io, "", 1);
            out->result = w->io.data;
        } else
            out->result = rlen ? w->result : NULL;
        w->done++;
        return;
    }
    out->ok = 0;
    out->retryable = code != S_NO_RETRY;
    size_t n = strlen (w->reason);
    while (n && (w->reason[n - 1] == '\n' || w->reason[n - 1] == ' '))
        w->reason[--n] = 0;
    if (!n)
        snprintf (w->reason, sizeof w->reason, "the command exited with %d",
                  code);
    out->reason = w->reason;
    w->failed++;
}

int
cli_worker_run (const cli_t *cli, int argc, char **argv)
{
    cli_opt_t opts[] = {{"service", 's', 1, NULL},
                        {"exec", 'e', 1, NULL},
                        {"capacity", 0, 1, NULL},
                        {NULL, 0, 0, NULL}};
    const char *pos[1];
    int npos = 0;
    int rc = cli_parse ("worker", opts, argc, argv, pos, 1, &npos);
    if (rc == CLI_HELP) {
        fputs (s_worker_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (rc)
        return rc;
    const char *service = cli_opt (opts, "service");
    const char *command = cli_opt (opts, "exec");
    uint64_t capacity = 1;
    if (!service || !command || npos)
        return cli_usage_error ("worker", "needs --service and --exec");
    if (cli_opt (opts, "capacity") &&
        cli_parse_u64 ("worker", "--capacity", cli_opt (opts, "capacity"), 1,
                       1000, &capacity))
        return CLI_EXIT_USAGE;
    ef_client_t *client;
    if ((rc = cli_connect (cli, &client)))
        return rc;
    s_worker_t *w = calloc (1, sizeof *w);
    ef_worker_t *wk = ef_worker_new (client, service, (uint32_t)capacity);
    int code = CLI_EXIT_OK;
    if (!w || !wk || (rc = ef_worker_start (wk))) {
        code = cli_fail (client, w && wk ? rc : EF_ENOMEM,
                         "cannot attach to %s", service);
        goto done;
    }
    w->command = command;
    ef_buf_init (&w->io);
    fprintf (stderr, "eventflow: worker of %s ready\n", service);
    cli_catch_signals ();
    int alive = 1;
    while (!cli_stopping ()) {
        rc = ef_worker_poll (wk, 500, s_on_job, w);
        if (rc < 0) {
            code = cli_fail (client, rc, "worker");
            break;
        }
        if (alive != ef_worker_broker_alive (wk)) {
            alive = !alive;
            fprintf (stderr, alive ? "eventflow: the broker is back\n"
                                   : "eventflow: the broker is not answering; "
                                     "waiting for it\n");
        }
    }
    ef_client_flush (client, 2000); /* the last answers out */
    fprintf (stderr, "eventflow: %llu done, %llu failed\n",
             (unsigned long long)w->done, (unsigned long long)w->failed);
    ef_buf_free (&w->io);
done:
    ef_worker_destroy (&wk);
    free (w);
    ef_client_destroy (&client);
    return code;
}

/* ---------------------------------------------------------------- dlq */

static const char s_dlq_usage[] =
    "Usage: eventflow dlq list [--stream S] [--error TEXT] [--type T] [--from "
    "T]\n"
    "                          [--to T] [--limit N] [--page N]\n"
    "       eventflow dlq reasons [--stream S] [--type T] [--from T] [--to T]\n"
    "       eventflow dlq show EVENT_ID\n"
    "       eventflow dlq replay EVENT_ID | --all [--stream S] [--error TEXT]\n"
    "                                          [--type T] [--from T] [--to T]\n"
    "       eventflow dlq delete EVENT_ID\n"
    "\n"
    "Events whose processing failed for good, with the step, the attempts\n"
    "and the last error. Reasons counts them by last error, most first.\n"
    "Replay runs them again from that step with the attempts reset; delete\n"
    "forgets the letter (the event stays FAILED). --error matches part of\n"
    "the last error; --type is the event's type (exact); --from/--to (RFC\n"
    "3339) bound the time of the last failure.\n";

int
cli_dlq_run (const cli_t *cli, int argc, char **argv)
{
    cli_opt_t opts[] = {
        {"stream", 0, 1, NULL}, {"error", 0, 1, NULL}, {"limit", 0, 1, NULL},
        {"page", 0, 1, NULL},   {"all", 0, 0, NULL},   {"from", 0, 1, NULL},
        {"to", 0, 1, NULL},     {"type", 0, 1, NULL},  {NULL, 0, 0, NULL}};
    const char *pos[3];
    int npos = 0;
    int rc = cli_parse ("dlq", opts, argc, argv, pos, 3, &npos);
    if (rc == CLI_HELP) {
        fputs (s_dlq_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (rc)
        return rc;
    ef_request_t req = {0};
    uint64_t v;
    req.stream = ef_str (cli_opt (opts, "stream"));
    req.error = ef_str (cli_opt (opts, "error"));
    req.type = ef_str (cli_opt (opts, "type"));
    /* --from/--to: RFC 3339 times bounding the last failure */
    const char *tf[2] = {cli_opt (opts, "from"), cli_opt (opts, "to")};
    if ((tf[0] && ef_time_parse (tf[0], strlen (tf[0]), &req.from)) ||
        (tf[1] && ef_time_parse (tf[1], strlen (tf[1]), &req.to)))
        return cli_usage_error ("dlq", "--from/--to take RFC 3339 times, "
                                       "like 2026-11-22T10:00:00Z");
    req.has_from = tf[0] != NULL;
    req.has_to = tf[1] != NULL;
    if (cli_opt (opts, "limit")) {
        if (cli_parse_u64 ("dlq", "--limit", cli_opt (opts, "limit"), 1, 100,
                           &v))
            return CLI_EXIT_USAGE;
        req.limit = (uint32_t)v;
    }
    if (cli_opt (opts, "page")) {
        if (cli_parse_u64 ("dlq", "--page", cli_opt (opts, "page"), 1, 1000000,
                           &v))
            return CLI_EXIT_USAGE;
        req.page = (uint32_t)v;
    }
    if (npos == 1 && !strcmp (pos[0], "list"))
        req.cmd = EF_CMD_DLQ_LIST;
    else if (npos == 1 && !strcmp (pos[0], "reasons"))
        req.cmd = EF_CMD_DLQ_REASONS;
    else if (npos == 2 && !strcmp (pos[0], "show"))
        req.cmd = EF_CMD_DLQ_GET, req.event_id = ef_str (pos[1]);
    else if (npos == 2 && !strcmp (pos[0], "delete"))
        req.cmd = EF_CMD_DLQ_DELETE, req.event_id = ef_str (pos[1]);
    else if (!strcmp (npos ? pos[0] : "", "replay") &&
             (npos == 2 || cli_opt (opts, "all"))) {
        req.cmd = EF_CMD_DLQ_REPLAY;
        if (npos == 2)
            req.event_id = ef_str (pos[1]);
        else
            req.all = 1;
    } else {
        fputs (s_dlq_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    char what[32];
    snprintf (what, sizeof what, "dlq %s", pos[0]);
    return cli_call_print (cli, &req, what);
}
