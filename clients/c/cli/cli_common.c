/*  cli_common.c: what the eventflow commands share: parsing of command
    options, error reporting with the exit codes scripts rely on,
    connecting a client from the global settings, and writing events and
    streams as JSON lines. It owns no state; everything is passed in. */
#include "cli.h"

#include "eventflow/ef_error.h"
#include "eventflow/ef_event_json.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_proto.h"
#include "eventflow/ef_time.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>

/* ---------------------------------------------------------- arguments */

static cli_opt_t *
s_find_long (cli_opt_t *opts, const char *name, size_t len)
{
    for (cli_opt_t *o = opts; o->name; o++)
        if (strlen (o->name) == len && strncmp (o->name, name, len) == 0)
            return o;
    return NULL;
}

static cli_opt_t *
s_find_letter (cli_opt_t *opts, char letter)
{
    for (cli_opt_t *o = opts; o->name; o++)
        if (o->letter && o->letter == letter)
            return o;
    return NULL;
}

static int
s_is_global (const char *name, size_t len)
{
    static const char *const globals[] = {"broker", "timeout", "api-key",
                                          "config", NULL};
    for (int i = 0; globals[i]; i++)
        if (strlen (globals[i]) == len && strncmp (globals[i], name, len) == 0)
            return 1;
    return 0;
}

/*  Is a an option (as opposed to a positional argument)? */
static int
s_looks_like_option (const char *a)
{
    if (a[0] != '-' || a[1] == 0)
        return 0;
    if (a[1] >= '0' && a[1] <= '9')
        return 0; /* a negative number, e.g. the JSON payload -1 */
    return 1;
}

int
cli_parse (const char *cmd, cli_opt_t *opts, int argc, char **argv,
           const char **pos, int max_pos, int *npos)
{
    *npos = 0;
    for (cli_opt_t *o = opts; o->name; o++)
        o->value = NULL;
    /* --help wins over anything else on the line. */
    for (int i = 1; i < argc && strcmp (argv[i], "--") != 0; i++)
        if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
            return CLI_HELP;

    int only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && strcmp (a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (only_pos || !s_looks_like_option (a)) {
            if (*npos >= max_pos)
                return cli_usage_error (cmd, "unexpected argument '%s'", a);
            pos[(*npos)++] = a;
            continue;
        }
        cli_opt_t *o;
        const char *value = NULL;
        char shown[64];
        if (a[1] == '-') {
            const char *name = a + 2, *eq = strchr (name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen (name);
            o = s_find_long (opts, name, len);
            if (!o) {
                if (s_is_global (name, len))
                    return cli_usage_error (
                        cmd,
                        "--%.*s is a global option: put it before the "
                        "command (eventflow --%.*s ... %s ...)",
                        (int)len, name, (int)len, name, cmd);
                return cli_usage_error (cmd, "unknown option '%s'", a);
            }
            if (eq) {
                if (!o->takes_value)
                    return cli_usage_error (cmd, "--%s takes no value",
                                            o->name);
                value = eq + 1;
            }
            snprintf (shown, sizeof shown, "--%s", o->name);
        } else {
            if (a[2] != 0 || !(o = s_find_letter (opts, a[1])))
                return cli_usage_error (cmd, "unknown option '%s'", a);
            snprintf (shown, sizeof shown, "-%c", a[1]);
        }
        if (o->takes_value && !value) {
            if (i + 1 >= argc)
                return cli_usage_error (cmd, "%s needs a value", shown);
            value = argv[++i];
        }
        o->value = o->takes_value ? value : "";
    }
    return 0;
}

const char *
cli_opt (const cli_opt_t *opts, const char *name)
{
    for (const cli_opt_t *o = opts; o->name; o++)
        if (strcmp (o->name, name) == 0)
            return o->value;
    return NULL;
}

int
cli_parse_u64 (const char *cmd, const char *flag, const char *s, uint64_t min,
               uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull (s, &end, 10);
    if (*s < '0' || *s > '9' || *end || errno == ERANGE)
        return cli_usage_error (cmd, "%s wants a whole number, not '%s'", flag,
                                s);
    if (v < min || v > max)
        return cli_usage_error (
            cmd, "%s must be between %" PRIu64 " and %" PRIu64 " (got %s)",
            flag, min, max, s);
    *out = v;
    return 0;
}

/* ------------------------------------------------------------- errors */

void
cli_error (const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    fprintf (stderr, "eventflow: %s\n", msg);
}

int
cli_usage_error (const char *cmd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    if (cmd) {
        fprintf (stderr, "eventflow: %s: %s\n", cmd, msg);
        fprintf (stderr, "Try 'eventflow %s --help' for more information.\n",
                 cmd);
    } else {
        fprintf (stderr, "eventflow: %s\n", msg);
        fprintf (stderr, "Try 'eventflow --help' for more information.\n");
    }
    return CLI_EXIT_USAGE;
}

int
cli_is_unavailable (int rc)
{
    return rc == EF_ETIMEOUT || rc == EF_EUNAVAILABLE;
}

int
cli_exit_code (int rc)
{
    if (rc == 0)
        return CLI_EXIT_OK;
    return cli_is_unavailable (rc) ? CLI_EXIT_UNAVAILABLE : CLI_EXIT_REFUSED;
}

int
cli_fail (const ef_client_t *client, int rc, const char *fmt, ...)
{
    char what[1024];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (what, sizeof what, fmt, ap);
    va_end (ap);
    const char *why = client ? ef_client_error (client) : NULL;
    if (!why || !*why)
        why = ef_strerror (rc);
    fprintf (stderr, "eventflow: %s: %s\n", what, why);
    return cli_exit_code (rc);
}

void
cli_usage_exit_codes (FILE *out)
{
    fputs ("Exit status:\n"
           "  0  success\n"
           "  1  the broker refused something (an error reply, or some "
           "events of a batch)\n"
           "  2  usage error: bad options or arguments, or bad input "
           "(such as a stdin\n"
           "     line that is not valid JSON; the line number is reported)\n"
           "  3  the broker is unavailable or did not answer in time\n",
           out);
}

/* ------------------------------------------------------------- client */

void
cli_notify (void *arg, int up, const char *message)
{
    (void)arg;
    (void)up;
    cli_error ("%s", message);
}

void
cli_configure (const cli_t *cli, ef_client_t *c)
{
    ef_client_set_timeout (c, cli->timeout_ms);
    ef_client_set_heartbeat (c, cli->heartbeat_ms);
    ef_client_set_reconnect_max (c, cli->reconnect_max_ms);
    if (cli->api_key)
        ef_client_set_api_key (c, cli->api_key);
    if (cli->token)
        ef_client_set_jwt (c, cli->token);
    if (cli->curve)
        ef_client_set_curve (c, cli->server_key, cli->public_key,
                             cli->secret_key);
}

int
cli_connect (const cli_t *cli, ef_client_t **out)
{
    *out = NULL;
    ef_client_t *c = ef_client_new (cli->endpoint);
    if (!c) {
        cli_error ("cannot create a client: %s", ef_strerror (EF_ENOMEM));
        return CLI_EXIT_REFUSED;
    }
    cli_configure (cli, c);
    int rc = ef_client_connect (c);
    if (rc) {
        int code = cli_fail (c, rc, "cannot connect to %s", cli->endpoint);
        /* EF_EINVAL here is a malformed endpoint: the user's mistake. */
        if (rc == EF_EINVAL)
            code = CLI_EXIT_USAGE;
        ef_client_destroy (&c);
        return code;
    }
    *out = c;
    return 0;
}

uint64_t
cli_max_batch (const ef_client_t *client)
{
    const ef_hello_t *h = ef_client_hello (client);
    return h && h->max_batch ? h->max_batch : EF_MAX_BATCH_DEFAULT;
}

uint64_t
cli_max_payload (const ef_client_t *client)
{
    const ef_hello_t *h = ef_client_hello (client);
    return h && h->max_payload ? h->max_payload : EF_MAX_PAYLOAD_DEFAULT;
}

uint64_t
cli_max_message (const ef_client_t *client)
{
    const ef_hello_t *h = ef_client_hello (client);
    return h && h->max_message ? h->max_message : EF_MAX_MESSAGE_DEFAULT;
}

/* --------------------------------------------------------------- JSON */

static void
s_lit (ef_buf_t *b, const char *s)
{
    ef_buf_append (b, s, strlen (s));
}

void
cli_json_str (ef_buf_t *b, ef_str_t s)
{
    ef_event_json_str (b, s);
}

void
cli_json_raw (ef_buf_t *b, ef_str_t s)
{
    ef_event_json_raw (b, s, EF_EVENT_JSON_LINE);
}

void
cli_json_time (ef_buf_t *b, uint64_t ms, int nullable)
{
    ef_event_json_time (b, ms, nullable);
}

void
cli_json_event (ef_buf_t *b, const ef_event_t *ev)
{
    ef_event_json (b, ev, EF_EVENT_JSON_LINE);
    s_lit (b, "\n");
}

void
cli_json_stream (ef_buf_t *b, const ef_stream_info_t *s)
{
    s_lit (b, "{\"id\":");
    cli_json_str (b, s->id);
    s_lit (b, ",\"name\":");
    cli_json_str (b, s->name);
    s_lit (b, ",\"created_at\":");
    cli_json_time (b, s->created_at, 1);
    ef_buf_printf (b,
                   ",\"events\":%" PRIu64 ",\"first_seq\":%" PRIu64
                   ",\"last_seq\":%" PRIu64,
                   s->events, s->first_seq, s->last_seq);
    if (ef_str_set (s->schema)) {
        s_lit (b, ",\"schema\":");
        cli_json_raw (b, s->schema);
    }
    if (ef_str_set (s->pipeline)) {
        s_lit (b, ",\"pipeline\":");
        cli_json_raw (b, s->pipeline);
    }
    if (s->has_retention)
        ef_buf_printf (b,
                       ",\"retention\":{\"max_age_ms\":%" PRIu64
                       ",\"max_bytes\":%" PRIu64 ",\"max_events\":%" PRIu64
                       ",\"after_groups\":%s}",
                       s->ret_max_age_ms, s->ret_max_bytes, s->ret_max_events,
                       s->ret_after_groups ? "true" : "false");
    s_lit (b, "}\n");
}

int
cli_flush_buf (ef_buf_t *b, FILE *out)
{
    int rc = 0;
    if (b->oom) {
        cli_error ("out of memory while formatting output");
        rc = -1;
    } else if (b->len && fwrite (b->data, 1, b->len, out) != b->len)
        rc = -1;
    ef_buf_reset (b);
    return rc;
}

/* ---------------------------------------------------------------- signals */

/*  The one process-wide flag of the CLI: a signal handler can set nothing
    else. */
static volatile sig_atomic_t s_stop;

static void
s_on_signal (int sig)
{
    (void)sig;
    s_stop = 1;
}

void
cli_catch_signals (void)
{
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset (&sa.sa_mask);
    /* No SA_RESTART: a blocking wait should return so the loop can end. */
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
}

int
cli_stopping (void)
{
    return s_stop;
}

int
cli_call_print (const cli_t *cli, ef_request_t *req, const char *what)
{
    ef_client_t *client;
    int rc = cli_connect (cli, &client);
    if (rc)
        return rc;
    const ef_reply_t *rep;
    rc = ef_client_call (client, req, &rep);
    int code = CLI_EXIT_OK;
    if (rc)
        code = cli_fail (client, rc, "%s", what);
    else {
        ef_buf_t b;
        ef_buf_init (&b);
        ef_proto_reply_json (&b, rep);
        ef_buf_append (&b, "\n", 1);
        if (cli_flush_buf (&b, stdout))
            code = CLI_EXIT_REFUSED;
        ef_buf_free (&b);
    }
    ef_client_destroy (&client);
    return code;
}
