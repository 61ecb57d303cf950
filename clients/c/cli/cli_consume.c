/*  cli_consume.c: reading a stream as a consumer group: `consume` (native
    push with credit, printing events as JSON lines and committing as it
    goes) and `groups` (list a stream's groups with their lag; seek a
    group). */
#include "cli.h"

#include "eventflow/ef_consumer.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_proto.h"
#include "eventflow/ef_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_consume_usage[] =
    "Usage: eventflow consume STREAM --group GROUP [--commit-every N]\n"
    "                         [--credit N] [--max N]\n"
    "\n"
    "Receive the group's events as they arrive (pushed by the broker, at\n"
    "most --credit at a time, default 1000), print them as JSON lines, and\n"
    "commit every --commit-every events (default 100) and on exit. Starts\n"
    "after the group's committed offset; a new group starts at the\n"
    "beginning. Ctrl-C commits what was printed and stops. --max stops\n"
    "after N events.\n"
    "\n"
    "When the connection to the broker is lost (it stopped, restarted, or\n"
    "gave no sign of life for --heartbeat ms) or the broker ends the\n"
    "subscription, consume says so on stderr and subscribes again as soon\n"
    "as the broker answers, from the committed offset: events printed\n"
    "since the last commit may be printed again.\n";

typedef struct {
    ef_buf_t out;
    uint64_t seen, since_commit, max;
    int write_error;
} s_consume_t;

static int
s_on_event (void *arg, const ef_event_t *ev)
{
    s_consume_t *c = arg;
    cli_json_event (&c->out, ev);
    c->seen++;
    c->since_commit++;
    return c->max && c->seen >= c->max;
}

int
cli_consume_run (const cli_t *cli, int argc, char **argv)
{
    cli_opt_t opts[] = {{"group", 'g', 1, NULL},
                        {"commit-every", 0, 1, NULL},
                        {"credit", 0, 1, NULL},
                        {"max", 0, 1, NULL},
                        {NULL, 0, 0, NULL}};
    const char *pos[2];
    int npos = 0;
    int rc = cli_parse ("consume", opts, argc, argv, pos, 2, &npos);
    if (rc == CLI_HELP) {
        fputs (s_consume_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (rc)
        return rc;
    const char *group = cli_opt (opts, "group");
    if (npos != 1 || !group)
        return cli_usage_error ("consume", "needs STREAM and --group");
    uint64_t every = 100, credit = 1000, max = 0;
    if ((cli_opt (opts, "commit-every") &&
         cli_parse_u64 ("consume", "--commit-every",
                        cli_opt (opts, "commit-every"), 1, 1000000, &every)) ||
        (cli_opt (opts, "credit") &&
         cli_parse_u64 ("consume", "--credit", cli_opt (opts, "credit"), 1,
                        100000, &credit)) ||
        (cli_opt (opts, "max") &&
         cli_parse_u64 ("consume", "--max", cli_opt (opts, "max"), 1,
                        UINT64_MAX, &max)))
        return CLI_EXIT_USAGE;
    ef_client_t *client;
    if ((rc = cli_connect (cli, &client)))
        return rc;
    ef_consumer_t *k = ef_consumer_new (client, pos[0], group);
    s_consume_t c = {{0}, 0, 0, max, 0};
    ef_buf_init (&c.out);
    int code = CLI_EXIT_OK;
    if (!k || (rc = ef_consumer_start (k, (uint32_t)credit))) {
        code = cli_fail (client, k ? rc : EF_ENOMEM, "cannot subscribe to %s",
                         pos[0]);
        goto done;
    }
    ef_consumer_set_notify (k, cli_notify, NULL);
    cli_catch_signals ();
    while (!cli_stopping () && !(max && c.seen >= max)) {
        rc = ef_consumer_poll (k, 200, s_on_event, &c);
        if (rc < 0) {
            code = cli_fail (client, rc, "consume %s", pos[0]);
            break;
        }
        /* what arrived goes out at once, also into a pipe */
        if (cli_flush_buf (&c.out, stdout) || (rc > 0 && fflush (stdout))) {
            code = CLI_EXIT_REFUSED;
            break;
        }
        if (c.since_commit >= every && ef_consumer_subscribed (k)) {
            /* a commit the broker could not take is tried again later */
            rc = ef_consumer_commit (k);
            if (rc && !cli_is_unavailable (rc)) {
                code = cli_fail (client, rc, "commit");
                break;
            }
            if (rc == 0)
                c.since_commit = 0;
        }
    }
    /* what was printed is committed */
    if (code == CLI_EXIT_OK && (rc = ef_consumer_commit (k)))
        code = cli_fail (client, rc,
                         "commit (the events printed since the "
                         "last commit will come again)");
done:
    ef_consumer_destroy (&k);
    ef_client_destroy (&client);
    ef_buf_free (&c.out);
    return code;
}

static const char s_groups_usage[] =
    "Usage: eventflow groups list STREAM\n"
    "       eventflow groups seek STREAM GROUP earliest|latest|EVENT_ID\n"
    "       eventflow groups seek STREAM GROUP --timestamp RFC3339\n"
    "\n"
    "  list   the stream's consumer groups: committed offset, lag (events\n"
    "         behind the head) and live members, as JSON\n"
    "  seek   move a group: the given event (or the first at or after the\n"
    "         time) is the next one it gets\n";

int
cli_groups_run (const cli_t *cli, int argc, char **argv)
{
    cli_opt_t opts[] = {{"timestamp", 0, 1, NULL}, {NULL, 0, 0, NULL}};
    const char *pos[4];
    int npos = 0;
    int rc = cli_parse ("groups", opts, argc, argv, pos, 4, &npos);
    if (rc == CLI_HELP) {
        fputs (s_groups_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (rc)
        return rc;
    ef_request_t req = {0};
    if (npos == 2 && !strcmp (pos[0], "list")) {
        req.cmd = EF_CMD_LIST_GROUPS;
        req.stream = ef_str (pos[1]);
    } else if ((npos == 4 || (npos == 3 && cli_opt (opts, "timestamp"))) &&
               !strcmp (pos[0], "seek")) {
        req.cmd = EF_CMD_SEEK;
        req.stream = ef_str (pos[1]);
        req.group = ef_str (pos[2]);
        const char *ts = cli_opt (opts, "timestamp");
        if (ts) {
            if (ef_time_parse (ts, strlen (ts), &req.timestamp))
                return cli_usage_error ("groups", "--timestamp wants RFC 3339");
            req.has_timestamp = 1;
        } else
            req.position = ef_str (pos[3]);
    } else {
        fputs (s_groups_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    char what[32];
    snprintf (what, sizeof what, "groups %s", pos[0]);
    return cli_call_print (cli, &req, what);
}
