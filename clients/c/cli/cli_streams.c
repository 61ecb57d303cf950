/*  cli_streams.c: the commands about the broker's catalogue rather than
    its events: `streams list|create|get` and `stats`. Each is one
    blocking request; results are printed as a table for people or as
    JSON for scripts. */
#include "cli.h"

#include "eventflow/ef_error.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_proto.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void
s_usage (FILE *out)
{
    fputs (
        "Usage: eventflow streams list [--json]\n"
        "       eventflow streams create NAME [--schema S] [--pipeline P]\n"
        "                [RETENTION]\n"
        "       eventflow streams update NAME [--rename NEW] [--schema S] "
        "[--pipeline P]\n"
        "                [RETENTION]\n"
        "       eventflow streams get NAME\n"
        "\n"
        "  list     a table of the streams: name, id, events, last_seq\n"
        "           --json   one JSON object per line instead\n"
        "  create   create stream NAME ([A-Za-z0-9._-], 1-128 "
        "characters) and\n"
        "           print it as JSON; exit 1 if it exists already\n"
        "  get      print stream NAME (or id) as one JSON object\n"
        "  update   rename a stream or change its schema or pipeline\n"
        "\n"
        "  --schema S     a JSON Schema (draft-07) every payload must match:\n"
        "                 a file name, or the JSON itself; \"\" removes it\n"
        "  --pipeline P   the processing steps (a JSON array: filter,\n"
        "                 transform, route, worker): a file or the JSON;\n"
        "                 \"\" removes it\n"
        "  RETENTION      what the broker deletes from the stream's head in\n"
        "                 the background (0 or absent: no limit of that\n"
        "                 kind); on update the flags given replace the\n"
        "                 retention whole, all 0 removes it:\n"
        "    --retention-age MS       events received more than MS ago\n"
        "    --retention-bytes N      the oldest while it holds more bytes\n"
        "    --retention-events N     the oldest while it holds more events\n"
        "    --retention-after-groups never an event a consumer group has\n"
        "                             not committed (alone: what all\n"
        "                             groups committed)\n"
        "\n",
        out);
    cli_usage_exit_codes (out);
    fputs ("\n"
           "Examples:\n"
           "  eventflow streams create orders\n"
           "  eventflow streams list\n"
           "  eventflow streams list --json | jq -r .name\n"
           "  eventflow streams get orders\n"
           "  eventflow streams create orders --schema order.schema.json\n"
           "  eventflow streams update orders --pipeline "
           "'[{\"type\":\"worker\",\"service\":\"bill\"}]'\n"
           "  eventflow streams update orders --retention-events 1000000\n",
           out);
}

/*  Parse a subcommand's options, printing its help when asked. Returns 0
    to go on, or the exit code to return (with *done set). */
static int
s_parse (const char *cmd, cli_opt_t *opts, int argc, char **argv,
         const char **pos, int max_pos, int *npos, int *done)
{
    int rc = cli_parse (cmd, opts, argc, argv, pos, max_pos, npos);
    *done = rc != 0;
    if (rc == CLI_HELP) {
        s_usage (stdout);
        return CLI_EXIT_OK;
    }
    return rc;
}

/* ---------------------------------------------------------------- list */

typedef struct {
    char *name, *id;
    uint64_t events, last_seq;
} s_row_t;

typedef struct {
    s_row_t *rows;
    size_t n, cap;
    int json;
    ef_buf_t out;
    int failed; /* out of memory while collecting */
} s_list_t;

static char *
s_dup (ef_str_t s)
{
    char *c = malloc ((size_t)s.len + 1);
    if (c) {
        if (s.len)
            memcpy (c, s.ptr, s.len);
        c[s.len] = 0;
    }
    return c;
}

static int
s_on_stream (void *arg, const ef_stream_info_t *s)
{
    s_list_t *self = arg;
    if (self->json) {
        cli_json_stream (&self->out, s);
        return cli_flush_buf (&self->out, stdout) ? 1 : 0;
    }
    /* The table's columns are sized after every row is known, and the
       strings live only for this call: keep copies. */
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 32;
        s_row_t *rows = realloc (self->rows, cap * sizeof *rows);
        if (!rows) {
            self->failed = 1;
            return 1;
        }
        self->rows = rows;
        self->cap = cap;
    }
    s_row_t *r = &self->rows[self->n];
    r->name = s_dup (s->name);
    r->id = s_dup (s->id);
    r->events = s->events;
    r->last_seq = s->last_seq;
    if (!r->name || !r->id) {
        free (r->name);
        free (r->id);
        self->failed = 1;
        return 1;
    }
    self->n++;
    return 0;
}

static void
s_print_table (const s_list_t *self)
{
    int wn = 4, wi = 2;
    for (size_t i = 0; i < self->n; i++) {
        int ln = (int)strlen (self->rows[i].name);
        int li = (int)strlen (self->rows[i].id);
        wn = ln > wn ? ln : wn;
        wi = li > wi ? li : wi;
    }
    printf ("%-*s  %-*s  %12s  %12s\n", wn, "NAME", wi, "ID", "EVENTS",
            "LAST_SEQ");
    for (size_t i = 0; i < self->n; i++) {
        const s_row_t *r = &self->rows[i];
        printf ("%-*s  %-*s  %12" PRIu64 "  %12" PRIu64 "\n", wn, r->name, wi,
                r->id, r->events, r->last_seq);
    }
}

static int
s_list (const cli_t *cli, int argc, char **argv)
{
    cli_opt_t opts[] = {{"json", 0, 0, NULL}, {NULL, 0, 0, NULL}};
    const char *pos[1];
    int npos, done;
    int rc = s_parse ("streams list", opts, argc, argv, pos, 0, &npos, &done);
    if (done)
        return rc;

    ef_client_t *client;
    if ((rc = cli_connect (cli, &client)))
        return rc;
    s_list_t self = {.json = cli_opt (opts, "json") != NULL};
    ef_buf_init (&self.out);
    int err = ef_client_list_streams (client, s_on_stream, &self);
    if (err)
        rc = cli_fail (client, err, "cannot list streams");
    else if (self.failed) {
        cli_error ("cannot list streams: %s", ef_strerror (EF_ENOMEM));
        rc = CLI_EXIT_REFUSED;
    } else if (!self.json)
        s_print_table (&self);
    for (size_t i = 0; i < self.n; i++) {
        free (self.rows[i].name);
        free (self.rows[i].id);
    }
    free (self.rows);
    ef_buf_free (&self.out);
    ef_client_destroy (&client);
    return rc;
}

/* -------------------------------------------------------- create, get */

static int
s_valid_name (const char *name)
{
    return ef_proto_name_valid (ef_str (name));
}

static int
s_print_stream (const ef_stream_info_t *s)
{
    ef_buf_t b;
    ef_buf_init (&b);
    cli_json_stream (&b, s);
    int rc = cli_flush_buf (&b, stdout) ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
    ef_buf_free (&b);
    return rc;
}

/*  A --schema/--pipeline value: the JSON itself, or a file holding it
    (read into *buf), or "" (remove). 0, or a usage error printed. */
static int
s_json_arg (const char *cmd, const char *opt, const char *v, char **buf,
            ef_str_t *out)
{
    *out = EF_STR_NULL;
    if (!v)
        return 0;
    const char *text = v;
    size_t n = strlen (v);
    if (n && !strchr ("{[", v[0]) && strcmp (v, "true") &&
        strcmp (v, "false")) {
        FILE *f = fopen (v, "rb");
        if (!f)
            return cli_usage_error (cmd, "%s: cannot read '%s'", opt, v);
        size_t cap = 1u << 20; /* a schema or pipeline is not bigger */
        *buf = malloc (cap + 1);
        n = *buf ? fread (*buf, 1, cap + 1, f) : 0;
        fclose (f);
        if (!*buf || n > cap)
            return cli_usage_error (cmd, "%s: '%s' is over 1 MiB", opt, v);
        (*buf)[n] = 0;
        text = *buf;
    }
    if (n && ef_json_validate (text, n, EF_JSON_DEPTH, NULL, NULL))
        return cli_usage_error (cmd, "%s is not JSON", opt);
    *out = (ef_str_t){text, (uint32_t)n};
    if (n == 0)
        out->ptr = ""; /* set and empty: remove */
    return 0;
}

/*  The --retention-* flags into req (any given: a whole retention; the
    broker checks the upper bounds). 0 or the usage exit code. */
static int
s_retention_args (const char *cmd, const cli_opt_t *opts, ef_request_t *req)
{
    static const char *const flags[] = {"retention-age", "retention-bytes",
                                        "retention-events"};
    uint64_t *at[] = {&req->ret_max_age_ms, &req->ret_max_bytes,
                      &req->ret_max_events};
    for (int i = 0; i < 3; i++) {
        const char *v = cli_opt (opts, flags[i]);
        char flag[40];
        snprintf (flag, sizeof flag, "--%s", flags[i]);
        if (v && cli_parse_u64 (cmd, flag, v, 0, UINT64_MAX, at[i]))
            return CLI_EXIT_USAGE;
        req->has_retention |= v != NULL;
    }
    if (cli_opt (opts, "retention-after-groups"))
        req->has_retention = req->ret_after_groups = 1;
    return 0;
}

/*  create with a schema or pipeline, and update: one request. */
static int
s_configure (const cli_t *cli, int argc, char **argv, int create)
{
    const char *cmd = create ? "streams create" : "streams update";
    cli_opt_t opts[] = {{"schema", 0, 1, NULL},
                        {"pipeline", 0, 1, NULL},
                        {"rename", 0, 1, NULL},
                        {"retention-age", 0, 1, NULL},
                        {"retention-bytes", 0, 1, NULL},
                        {"retention-events", 0, 1, NULL},
                        {"retention-after-groups", 0, 0, NULL},
                        {NULL, 0, 0, NULL}};
    const char *pos[1];
    int npos, done;
    int rc = s_parse (cmd, opts, argc, argv, pos, 1, &npos, &done);
    if (done)
        return rc;
    if (npos < 1)
        return cli_usage_error (cmd, "missing the stream's NAME");
    const char *rename = cli_opt (opts, "rename");
    if (create && rename)
        return cli_usage_error (cmd, "--rename is for streams update");
    if ((create && !s_valid_name (pos[0])) ||
        (rename && !s_valid_name (rename)))
        return cli_usage_error (cmd,
                                "'%s' is not a valid stream name (1-128 "
                                "characters of A-Z a-z 0-9 . _ -, not . "
                                "or ..)",
                                rename && create == 0 ? rename : pos[0]);
    char *sbuf = NULL, *pbuf = NULL;
    ef_request_t req = {0};
    req.cmd = create ? EF_CMD_CREATE_STREAM : EF_CMD_UPDATE_STREAM;
    if (create)
        req.name = ef_str (pos[0]);
    else
        req.stream = ef_str (pos[0]), req.name = ef_str (rename);
    if ((rc = s_json_arg (cmd, "--schema", cli_opt (opts, "schema"), &sbuf,
                          &req.schema)) ||
        (rc = s_json_arg (cmd, "--pipeline", cli_opt (opts, "pipeline"), &pbuf,
                          &req.pipeline))) {
        free (sbuf), free (pbuf);
        return rc;
    }
    if ((rc = s_retention_args (cmd, opts, &req))) {
        free (sbuf), free (pbuf);
        return rc;
    }
    if (create && (req.schema.ptr && !req.schema.len))
        req.schema = EF_STR_NULL;
    if (create && (req.pipeline.ptr && !req.pipeline.len))
        req.pipeline = EF_STR_NULL;
    ef_client_t *client;
    if ((rc = cli_connect (cli, &client))) {
        free (sbuf), free (pbuf);
        return rc;
    }
    const ef_reply_t *rep;
    ef_stream_info_t s;
    ef_mpr_t r;
    int err = ef_client_call (client, &req, &rep);
    if (err == EF_EEXISTS && create) {
        cli_error ("stream '%s' exists already", pos[0]);
        rc = CLI_EXIT_REFUSED;
    } else if (err == EF_ENOTFOUND) {
        cli_error ("no stream '%s'", pos[0]);
        rc = CLI_EXIT_REFUSED;
    } else if (err)
        rc = cli_fail (client, err, "cannot %s stream '%s'",
                       create ? "create" : "update", pos[0]);
    else if (ef_proto_reply_find (rep, "stream", &r) ||
             ef_proto_read_stream (&r, &s))
        rc = cli_fail (client, EF_EPROTO, "%s", cmd);
    else
        rc = s_print_stream (&s);
    ef_client_destroy (&client);
    free (sbuf), free (pbuf);
    return rc;
}

static int
s_get (const cli_t *cli, int argc, char **argv)
{
    const char *cmd = "streams get";
    cli_opt_t opts[] = {{NULL, 0, 0, NULL}};
    const char *pos[1];
    int npos, done;
    int rc = s_parse (cmd, opts, argc, argv, pos, 1, &npos, &done);
    if (done)
        return rc;
    if (npos < 1)
        return cli_usage_error (cmd, "missing the stream's NAME");
    ef_client_t *client;
    if ((rc = cli_connect (cli, &client)))
        return rc;
    ef_stream_info_t s;
    int err = ef_client_get_stream (client, pos[0], &s);
    if (err == EF_ENOTFOUND) {
        cli_error ("no stream '%s'", pos[0]);
        rc = CLI_EXIT_REFUSED;
    } else if (err)
        rc = cli_fail (client, err, "cannot get stream '%s'", pos[0]);
    else
        rc = s_print_stream (&s);
    ef_client_destroy (&client);
    return rc;
}

int
cli_streams_run (const cli_t *cli, int argc, char **argv)
{
    if (argc < 2) {
        s_usage (stderr);
        return CLI_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp (sub, "--help") == 0 || strcmp (sub, "-h") == 0 ||
        strcmp (sub, "help") == 0) {
        s_usage (stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp (sub, "list") == 0 || strcmp (sub, "ls") == 0)
        return s_list (cli, argc - 1, argv + 1);
    if (strcmp (sub, "create") == 0)
        return s_configure (cli, argc - 1, argv + 1, 1);
    if (strcmp (sub, "update") == 0)
        return s_configure (cli, argc - 1, argv + 1, 0);
    if (strcmp (sub, "get") == 0 || strcmp (sub, "show") == 0)
        return s_get (cli, argc - 1, argv + 1);
    return cli_usage_error ("streams", "unknown subcommand '%s'", sub);
}

/* ---------------------------------------------------------------- stats */

static void
s_stats_usage (FILE *out)
{
    fputs ("Usage: eventflow stats\n"
           "\n"
           "Print the broker's STATS figures as one JSON object: streams, "
           "events,\n"
           "store_bytes, map_size and counters since start (published, "
           "duplicates,\n"
           "rejected, malformed, commits, requests). Only the local admin "
           "key of the\n"
           "data dir gets the broker-wide figures; any other caller gets "
           "its org's\n"
           "streams and events.\n"
           "\n",
           out);
    cli_usage_exit_codes (out);
    fputs ("\n"
           "Examples:\n"
           "  eventflow stats\n"
           "  eventflow stats | jq .counters.published\n",
           out);
}

int
cli_streams_stats (const cli_t *cli, int argc, char **argv)
{
    cli_opt_t opts[] = {{NULL, 0, 0, NULL}};
    const char *pos[1];
    int npos;
    int rc = cli_parse ("stats", opts, argc, argv, pos, 0, &npos);
    if (rc == CLI_HELP) {
        s_stats_usage (stdout);
        return CLI_EXIT_OK;
    }
    if (rc)
        return rc;

    ef_client_t *client;
    if ((rc = cli_connect (cli, &client)))
        return rc;
    ef_stats_t s;
    int err = ef_client_stats (client, &s);
    if (err)
        rc = cli_fail (client, err, "cannot get the broker's stats");
    else if (!s.broker_wide) /* an org's caller: its own figures only */
        printf ("{\"streams\":%" PRIu64 ",\"events\":%" PRIu64 "}\n", s.streams,
                s.events);
    else
        printf ("{\"streams\":%" PRIu64 ",\"events\":%" PRIu64
                ",\"store_bytes\":%" PRIu64 ",\"map_size\":%" PRIu64
                ",\"counters\":{\"published\":%" PRIu64
                ",\"duplicates\":%" PRIu64 ",\"rejected\":%" PRIu64
                ",\"malformed\":%" PRIu64 ",\"commits\":%" PRIu64
                ",\"requests\":%" PRIu64 "}}\n",
                s.streams, s.events, s.store_bytes, s.map_size, s.published,
                s.duplicates, s.rejected, s.malformed, s.commits, s.requests);
    ef_client_destroy (&client);
    return rc;
}
