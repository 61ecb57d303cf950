/*  cli_read.c: the commands that print stored events as JSON lines:
    `read` (a range of a stream, paged with READ's `next`), `tail` (the
    last events, then with -f new ones as they arrive) and `get` (one
    event by id); and `history`, an event's processing attempts as a
    table (or the broker's answer as JSON). Each event is written as soon as it is visited, so
    memory stays flat however long the stream. The only process-wide
    state of the client lives here: the flag that SIGINT/SIGTERM set to
    end `tail -f` cleanly. */
#include "cli.h"

#include "eventflow/ef_error.h"
#include "eventflow/ef_proto.h"
#include "eventflow/ef_time.h"
#include "eventflow/ef_uuid.h"

#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <time.h>

/* Events asked for per READ when paging. */
#define S_PAGE 1000u
/* How long `tail -f` sleeps when it found nothing new. */
#define S_POLL_MS 50
/* Events `tail` shows before following. */
#define S_TAIL_LAST 10u


/*  What the READ visitor needs. */
typedef struct {
    ef_buf_t out;
    uint64_t seen;   /* events printed by the current page */
    int write_error; /* stdout failed */
    int follow;      /* broker unavailable: say nothing, set lost */
    int lost;        /* the last read failed for want of the broker */
} s_reader_t;

static int
s_on_event (void *arg, const ef_event_t *ev)
{
    s_reader_t *self = arg;
    cli_json_event (&self->out, ev);
    self->seen++;
    if (cli_flush_buf (&self->out, stdout)) {
        self->write_error = 1;
        return 1;
    }
    return 0;
}

/*  Print the events of stream after *after, in pages, until the head the
    broker reports is reached or limit events (0: no limit) were printed.
    *after ends at the last seq printed. 0, or an exit code after
    printing the error. */
static int
s_read_range (ef_client_t *client, s_reader_t *reader, const char *stream,
              uint64_t *after, uint64_t limit)
{
    uint64_t printed = 0;
    while (!cli_stopping ()) {
        uint64_t want = S_PAGE;
        if (limit && limit - printed < want)
            want = limit - printed;
        uint64_t next = *after, head = 0;
        reader->seen = 0;
        int rc = ef_client_read (client, stream, *after, (uint32_t)want,
                                 s_on_event, reader, &next, &head);
        if (cli_stopping ())
            return 0;
        if (reader->write_error) {
            cli_error ("cannot write the output");
            return CLI_EXIT_REFUSED;
        }
        if (rc == EF_ENOTFOUND) {
            cli_error ("no stream '%s'", stream);
            return CLI_EXIT_REFUSED;
        }
        if (rc && reader->follow && cli_is_unavailable (rc)) {
            reader->lost = 1; /* the caller waits for the broker */
            return CLI_EXIT_UNAVAILABLE;
        }
        if (rc)
            return cli_fail (client, rc, "cannot read stream '%s'", stream);
        printed += reader->seen;
        if (reader->seen == 0 || next <= *after)
            break; /* nothing more: caught up */
        *after = next;
        if ((limit && printed >= limit) || next >= head)
            break;
    }
    return 0;
}

/* ---------------------------------------------------------------- read */

static void
s_read_usage (FILE *out)
{
    fputs ("Usage: eventflow read STREAM [--after SEQ] [--limit N]\n"
           "\n"
           "Print the events of STREAM (name or id) with seq > SEQ as JSON "
           "lines, in\n"
           "order: every key of an event, payload and result embedded as "
           "JSON,\n"
           "times as RFC 3339 strings, null for what is unset.\n"
           "\n"
           "  --after SEQ   start after this seq (default 0: from the "
           "beginning)\n"
           "  --limit N     print at most N events (default 0: everything "
           "up to the\n"
           "                stream's head, fetched in pages of 1000)\n"
           "\n",
           out);
    cli_usage_exit_codes (out);
    fputs ("\n"
           "Examples:\n"
           "  eventflow read orders\n"
           "  eventflow read orders --after 100 --limit 10\n"
           "  eventflow read orders | jq -c .payload\n",
           out);
}

int
cli_read_run (const cli_t *cli, int argc, char **argv)
{
    cli_opt_t opts[] = {
        {"after", 0, 1, NULL}, {"limit", 0, 1, NULL}, {NULL, 0, 0, NULL}};
    const char *pos[1];
    int npos;
    int rc = cli_parse ("read", opts, argc, argv, pos, 1, &npos);
    if (rc == CLI_HELP) {
        s_read_usage (stdout);
        return CLI_EXIT_OK;
    }
    if (rc)
        return rc;
    if (npos < 1)
        return cli_usage_error ("read", "missing the STREAM to read");
    uint64_t after = 0, limit = 0;
    const char *v;
    if ((v = cli_opt (opts, "after")) &&
        (rc = cli_parse_u64 ("read", "--after", v, 0, UINT64_MAX, &after)))
        return rc;
    if ((v = cli_opt (opts, "limit")) &&
        (rc = cli_parse_u64 ("read", "--limit", v, 0, UINT64_MAX, &limit)))
        return rc;

    ef_client_t *client;
    if ((rc = cli_connect (cli, &client)))
        return rc;
    s_reader_t reader = {0};
    ef_buf_init (&reader.out);
    rc = s_read_range (client, &reader, pos[0], &after, limit);
    ef_buf_free (&reader.out);
    ef_client_destroy (&client);
    return rc;
}

/* ---------------------------------------------------------------- tail */

static void
s_tail_usage (FILE *out)
{
    fputs ("Usage: eventflow tail STREAM [-f|--follow] [--from-start]\n"
           "\n"
           "Print the last 10 events of STREAM as JSON lines (the format of "
           "'read').\n"
           "\n"
           "  -f, --follow    then keep printing new events as they arrive, "
           "until\n"
           "                  interrupted (Ctrl-C or SIGTERM end it with "
           "status 0)\n"
           "  --from-start    print every event of the stream, not only the "
           "last 10\n"
           "\n"
           "Following, a broker that goes away (stopped, restarted, or silent "
           "for\n"
           "--heartbeat ms) is said on stderr and waited for; printing goes "
           "on after\n"
           "the last event printed.\n"
           "\n",
           out);
    cli_usage_exit_codes (out);
    fputs ("\n"
           "Examples:\n"
           "  eventflow tail orders\n"
           "  eventflow tail orders -f\n"
           "  eventflow tail orders --from-start -f | jq -c .payload\n",
           out);
}

static void
s_sleep_ms (int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    /* A signal cuts the sleep short; the caller checks cli_stopping (). */
    nanosleep (&ts, NULL);
}

/*  The broker went away while following: say so, and wait until it
    answers again (each PING waits for the connection up to the timeout;
    between failed ones, a pause from 100 ms doubling up to
    --reconnect-max). 0, or 1 when interrupted. */
static int
s_wait_broker (const cli_t *cli, ef_client_t *client, const char *stream,
               uint64_t after)
{
    cli_error ("lost the broker at %s while following %s: %s; reading on "
               "after seq %" PRIu64 " when it answers",
               cli->endpoint, stream, ef_client_error (client), after);
    int pause = 100;
    while (!cli_stopping ()) {
        if (ef_client_ping (client) == 0) {
            cli_error ("the broker answers again; following %s after seq "
                       "%" PRIu64,
                       stream, after);
            return 0;
        }
        s_sleep_ms (pause);
        pause = pause * 2 < cli->reconnect_max_ms ? pause * 2
                                                  : cli->reconnect_max_ms;
    }
    return 1;
}

int
cli_read_tail (const cli_t *cli, int argc, char **argv)
{
    cli_opt_t opts[] = {{"follow", 'f', 0, NULL},
                        {"from-start", 0, 0, NULL},
                        {NULL, 0, 0, NULL}};
    const char *pos[1];
    int npos;
    int rc = cli_parse ("tail", opts, argc, argv, pos, 1, &npos);
    if (rc == CLI_HELP) {
        s_tail_usage (stdout);
        return CLI_EXIT_OK;
    }
    if (rc)
        return rc;
    if (npos < 1)
        return cli_usage_error ("tail", "missing the STREAM to tail");
    int follow = cli_opt (opts, "follow") != NULL;
    int from_start = cli_opt (opts, "from-start") != NULL;
    const char *stream = pos[0];

    if (follow)
        cli_catch_signals ();
    ef_client_t *client;
    if ((rc = cli_connect (cli, &client)))
        return cli_stopping () ? CLI_EXIT_OK : rc;
    s_reader_t reader = {0};
    ef_buf_init (&reader.out);

    uint64_t after = 0;
    if (!from_start) {
        ef_stream_info_t info;
        int err = ef_client_get_stream (client, stream, &info);
        if (cli_stopping ())
            goto done;
        if (err == EF_ENOTFOUND) {
            cli_error ("no stream '%s'", stream);
            rc = CLI_EXIT_REFUSED;
            goto done;
        }
        if (err) {
            rc = cli_fail (client, err, "cannot get stream '%s'", stream);
            goto done;
        }
        /* seq is gap-free from 1, so the last ten are the ten below it. */
        after = info.last_seq > S_TAIL_LAST ? info.last_seq - S_TAIL_LAST : 0;
    }
    rc = s_read_range (client, &reader, stream, &after, 0);
    fflush (stdout);
    /* following, a broker that goes away is waited for, and the reading
       goes on after the last seq printed */
    reader.follow = follow;
    while (rc == 0 && follow && !cli_stopping ()) {
        uint64_t before = after;
        rc = s_read_range (client, &reader, stream, &after, 0);
        if (after != before)
            fflush (stdout);
        if (rc && reader.lost) {
            reader.lost = 0;
            if (s_wait_broker (cli, client, stream, after))
                break;
            rc = 0;
        } else if (after == before && rc == 0 && !cli_stopping ())
            s_sleep_ms (S_POLL_MS);
    }
done:
    if (cli_stopping ())
        rc = CLI_EXIT_OK; /* interrupted on purpose: a clean end */
    ef_buf_free (&reader.out);
    ef_client_destroy (&client);
    return rc;
}

/* ----------------------------------------------------------------- get */

static void
s_get_usage (FILE *out)
{
    fputs ("Usage: eventflow get EVENT_ID [--stream STREAM]\n"
           "\n"
           "Print the event with id EVENT_ID (a UUID) as one JSON object "
           "(the format\n"
           "of 'read'). Exit status 1 when there is no such event.\n"
           "\n"
           "  --stream STREAM   look only in this stream (name or id)\n"
           "\n",
           out);
    cli_usage_exit_codes (out);
    fputs ("\n"
           "Examples:\n"
           "  eventflow get 0193a5e4-7c1f-7d2a-9b3e-4f5a6b7c8d9e\n"
           "  eventflow get 0193a5e4-7c1f-7d2a-9b3e-4f5a6b7c8d9e --stream "
           "orders \\\n"
           "      | jq .status\n",
           out);
}

int
cli_read_get (const cli_t *cli, int argc, char **argv)
{
    cli_opt_t opts[] = {{"stream", 0, 1, NULL}, {NULL, 0, 0, NULL}};
    const char *pos[1];
    int npos;
    int rc = cli_parse ("get", opts, argc, argv, pos, 1, &npos);
    if (rc == CLI_HELP) {
        s_get_usage (stdout);
        return CLI_EXIT_OK;
    }
    if (rc)
        return rc;
    if (npos < 1)
        return cli_usage_error ("get", "missing the EVENT_ID");
    ef_uuid_t uuid;
    if (ef_uuid_parse (pos[0], strlen (pos[0]), &uuid))
        return cli_usage_error ("get",
                                "'%s' is not an event id (a UUID such as "
                                "0193a5e4-7c1f-7d2a-9b3e-4f5a6b7c8d9e)",
                                pos[0]);
    const char *stream = cli_opt (opts, "stream");

    ef_client_t *client;
    if ((rc = cli_connect (cli, &client)))
        return rc;
    ef_event_t ev;
    int err = ef_client_get_event (client, pos[0], stream, &ev);
    if (err == EF_ENOTFOUND) {
        cli_error ("event %s not found%s%s", pos[0],
                   stream ? " in stream " : "", stream ? stream : "");
        rc = CLI_EXIT_REFUSED;
    } else if (err)
        rc = cli_fail (client, err, "cannot get event %s", pos[0]);
    else {
        ef_buf_t b;
        ef_buf_init (&b);
        cli_json_event (&b, &ev);
        rc = cli_flush_buf (&b, stdout) ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
        ef_buf_free (&b);
    }
    ef_client_destroy (&client);
    return rc;
}

/* ---------------------------------------------------------------- history */

static void
s_history_usage (FILE *out)
{
    fputs ("Usage: eventflow history EVENT_ID [--stream STREAM] [--json]\n"
           "\n"
           "Print what each step of its stream's pipeline did to the event "
           "with id\n"
           "EVENT_ID, one row per attempt, oldest first: the step, its kind "
           "and\n"
           "service, when it started, how long it took (ms), its outcome, "
           "the worker\n"
           "that answered (as 'GET /workers' names it) and the error. Exit "
           "status 1\n"
           "when there is no such event.\n"
           "\n"
           "  --stream STREAM   look only in this stream (name or id)\n"
           "  --json            print the broker's answer as one JSON object\n"
           "\n",
           out);
    cli_usage_exit_codes (out);
}

/*  One Attempt map of the reply, by its keys. */
typedef struct {
    uint64_t step, started_at, duration_ms;
    ef_str_t kind, service, outcome, error, worker;
} s_attempt_t;

static int
s_attempt_read (ef_mpr_t *r, s_attempt_t *a)
{
    uint32_t n;
    memset (a, 0, sizeof *a);
    if (ef_mpr_map (r, &n))
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        ef_str_t k;
        if (ef_mpr_str (r, &k))
            return -1;
        uint64_t *u = ef_str_eq (k, "step")          ? &a->step
                      : ef_str_eq (k, "started_at")  ? &a->started_at
                      : ef_str_eq (k, "duration_ms") ? &a->duration_ms
                                                     : NULL;
        ef_str_t *s = ef_str_eq (k, "kind")      ? &a->kind
                      : ef_str_eq (k, "service") ? &a->service
                      : ef_str_eq (k, "outcome") ? &a->outcome
                      : ef_str_eq (k, "error")   ? &a->error
                      : ef_str_eq (k, "worker")  ? &a->worker
                                                 : NULL;
        int rc = ef_mpr_peek (r) == EF_MP_NIL ? ef_mpr_skip (r, 1)
                 : u                          ? ef_mpr_uint (r, u)
                 : s                          ? ef_mpr_str (r, s)
                     : ef_mpr_skip (r, EF_MSGPACK_DEPTH);
        if (rc)
            return -1;
    }
    return 0;
}

/*  s, or "-" when unset, as printf's "%.*s" arguments. */
#define S_CELL(s)                                                              \
    (ef_str_set (s) ? (int)(s).len : 1), (ef_str_set (s) ? (s).ptr : "-")

/*  The history reply as a table on out. 0, or -1 when it is malformed. */
static int
s_history_table (const ef_reply_t *rep, FILE *out)
{
    ef_mpr_t r;
    ef_str_t status = EF_STR_NULL;
    uint64_t dropped = 0;
    uint32_t n;
    if (ef_proto_reply_find (rep, "status", &r) == 0)
        ef_mpr_str (&r, &status);
    if (ef_proto_reply_find (rep, "dropped", &r) == 0)
        ef_mpr_uint (&r, &dropped);
    if (ef_proto_reply_find (rep, "history", &r) || ef_mpr_array (&r, &n))
        return -1;
    fprintf (out, "status %.*s, %u attempt%s", S_CELL (status), n,
             n == 1 ? "" : "s");
    if (dropped)
        fprintf (out, " (%" PRIu64 " older ones not kept)", dropped);
    fputs ("\n", out);
    if (n)
        fprintf (out, "%-4s  %-9s  %-12s  %-24s  %8s  %-12s  %-10s  %s\n",
                 "STEP", "KIND", "SERVICE", "STARTED", "MS", "OUTCOME",
                 "WORKER", "ERROR");
    for (uint32_t i = 0; i < n; i++) {
        s_attempt_t a;
        char t[40];
        if (s_attempt_read (&r, &a))
            return -1;
        fprintf (out,
                 "%-4" PRIu64 "  %-9.*s  %-12.*s  %-24s  %8" PRIu64
                 "  %-12.*s  %-10.*s  %.*s\n",
                 a.step, S_CELL (a.kind), S_CELL (a.service),
                 ef_time_format (a.started_at, t, sizeof t), a.duration_ms,
                 S_CELL (a.outcome), S_CELL (a.worker), S_CELL (a.error));
    }
    return 0;
}

int
cli_read_history (const cli_t *cli, int argc, char **argv)
{
    cli_opt_t opts[] = {
        {"stream", 0, 1, NULL}, {"json", 0, 0, NULL}, {NULL, 0, 0, NULL}};
    const char *pos[1];
    int npos;
    int rc = cli_parse ("history", opts, argc, argv, pos, 1, &npos);
    if (rc == CLI_HELP) {
        s_history_usage (stdout);
        return CLI_EXIT_OK;
    }
    if (rc)
        return rc;
    if (npos < 1)
        return cli_usage_error ("history", "missing the EVENT_ID");
    ef_uuid_t uuid;
    if (ef_uuid_parse (pos[0], strlen (pos[0]), &uuid))
        return cli_usage_error ("history", "'%s' is not an event id (a UUID)",
                                pos[0]);
    ef_request_t req = {.cmd = EF_CMD_EVENT_HISTORY};
    req.event_id = ef_str (pos[0]);
    req.stream = ef_str (cli_opt (opts, "stream"));
    if (cli_opt (opts, "json"))
        return cli_call_print (cli, &req, "cannot get the history");
    ef_client_t *client;
    if ((rc = cli_connect (cli, &client)))
        return rc;
    const ef_reply_t *rep;
    int err = ef_client_call (client, &req, &rep);
    if (err == EF_ENOTFOUND) {
        cli_error ("event %s not found", pos[0]);
        rc = CLI_EXIT_REFUSED;
    } else if (err)
        rc = cli_fail (client, err, "cannot get the history of %s", pos[0]);
    else if (s_history_table (rep, stdout)) {
        cli_error ("malformed reply");
        rc = CLI_EXIT_REFUSED;
    }
    ef_client_destroy (&client);
    return rc;
}

/* ---------------------------------------------------------------- search */

static void
s_search_usage (FILE *out)
{
    fputs ("Usage: eventflow search [STREAM] --where PREDICATE... "
           "[--type T] [--limit N]\n"
           "\n"
           "Print the events (of STREAM, else of every stream of the org) "
           "whose\n"
           "payload satisfies every PREDICATE, newest first, as JSON lines "
           "(the\n"
           "format of 'read'). A PREDICATE is POINTER:OP[:VALUE]: a JSON "
           "Pointer,\n"
           "an op (eq, contains, exists, lt, le, gt, ge) and the value as "
           "JSON.\n"
           "The broker examines a bounded number of events a page; the "
           "search\n"
           "goes on page after page until done.\n"
           "\n"
           "  --where P   a predicate (repeat it, at most 8; all must hold)\n"
           "  --type T    only events of type T\n"
           "  --limit N   stop after N events (default: all)\n"
           "\n",
           out);
    cli_usage_exit_codes (out);
    fputs ("\n"
           "Examples:\n"
           "  eventflow search orders --where '/customer/id:eq:\"c-1\"'\n"
           "  eventflow search --where /total:ge:100 --where /note:exists\n",
           out);
}

int
cli_read_search (const cli_t *cli, int argc, char **argv)
{
    cli_opt_t opts[] = {{"where", 0, 1, NULL},
                        {"type", 0, 1, NULL},
                        {"limit", 0, 1, NULL},
                        {NULL, 0, 0, NULL}};
    const char *pos[1];
    int npos;
    int rc = cli_parse ("search", opts, argc, argv, pos, 1, &npos);
    if (rc == CLI_HELP) {
        s_search_usage (stdout);
        return CLI_EXIT_OK;
    }
    if (rc)
        return rc;
    ef_request_t q = {0};
    /* --where repeats: cli_parse keeps the last, so gather them here */
    for (int i = 1; i < argc; i++) {
        const char *w = NULL;
        if (!strcmp (argv[i], "--"))
            break;
        if (!strcmp (argv[i], "--where") && i + 1 < argc)
            w = argv[++i];
        else if (!strncmp (argv[i], "--where=", 8))
            w = argv[i] + 8;
        if (w && q.n_where == 8)
            return cli_usage_error ("search", "at most 8 --where");
        if (w)
            q.where[q.n_where++] = ef_str (w);
    }
    if (q.n_where == 0)
        return cli_usage_error ("search", "missing --where");
    uint64_t limit = 0;
    const char *v;
    if ((v = cli_opt (opts, "limit")) &&
        (rc = cli_parse_u64 ("search", "--limit", v, 1, UINT64_MAX, &limit)))
        return rc;
    if (npos)
        q.stream = ef_str (pos[0]);
    if ((v = cli_opt (opts, "type")))
        q.type = ef_str (v);

    ef_client_t *client;
    if ((rc = cli_connect (cli, &client)))
        return rc;
    s_reader_t reader = {0};
    ef_buf_init (&reader.out);
    char cursor[EF_CURSOR_MAX] = "";
    uint64_t printed = 0;
    rc = CLI_EXIT_OK;
    do {
        q.cursor = cursor[0] ? ef_str (cursor) : EF_STR_NULL;
        q.limit = limit && limit - printed < EF_MAX_LIST
                      ? (uint32_t)(limit - printed)
                      : EF_MAX_LIST;
        reader.seen = 0;
        int err =
            ef_client_search_events (client, &q, s_on_event, &reader, cursor);
        if (reader.write_error) {
            rc = CLI_EXIT_REFUSED;
            break;
        }
        if (err) {
            rc = cli_fail (client, err, "cannot search events");
            break;
        }
        printed += reader.seen;
    } while (cursor[0] && !cli_stopping () && (!limit || printed < limit));
    ef_buf_free (&reader.out);
    ef_client_destroy (&client);
    return rc;
}
