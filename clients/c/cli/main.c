/*  main.c: the eventflow command-line client's entry point. It loads the
    global options (flags > EVENTFLOW_* environment > config file >
    defaults) through ef_config, answers --help and --version, and hands
    the rest of the line to the command named by the first argument that
    is not a global option. The commands live in cli_*.c. */
#include "cli.h"
#include "eventflow/ef_cert.h"

#include "eventflow/ef_config.h"
#include "eventflow/ef_error.h"

#include <limits.h>
#include <string.h>

#ifndef EF_VERSION
#define EF_VERSION "unknown"
#endif

static const ef_config_opt_t s_options[] = {
    {"broker", "EVENTFLOW_BROKER_ENDPOINT", "tcp://127.0.0.1:5555",
     "broker ENDPOINT (tcp://HOST:PORT or ipc://PATH)"},
    {"timeout", "EVENTFLOW_TIMEOUT", "10000",
     "MS to wait for each answer of the broker"},
    {"heartbeat", "EVENTFLOW_HEARTBEAT", "5000",
     "MS without a sign of the broker after which the connection counts as "
     "lost (consume, tail -f and worker then say so and reconnect)"},
    {"reconnect-max", "EVENTFLOW_RECONNECT_MAX", "5000",
     "most MS between two tries to reconnect (from 100, doubling)"},
    {"api-key", "EVENTFLOW_API_KEY", NULL, "KEY sent with every request"},
    {"token", "EVENTFLOW_TOKEN", NULL,
     "access token (from `eventflow login`) sent with every request"},
    {"data-dir", "EVENTFLOW_DATA_DIR", "./var/eventflow",
     "a local broker's data dir: its admin.key and broker.pub are used "
     "when --cert/--broker-key are not given"},
    {"cert", "EVENTFLOW_CERT", NULL,
     "this client's CurveZMQ certificate file (from `eventflow keys gen`)"},
    {"broker-key", "EVENTFLOW_BROKER_KEY", NULL,
     "the broker's public key: Z85 text or a file (broker.pub)"},
    {"plain", "EVENTFLOW_PLAIN", NULL,
     "1 = connect without CurveZMQ (a broker started with --curve off)"},
    {NULL, NULL, NULL, NULL}};

typedef int (s_command_fn) (const cli_t *cli, int argc, char **argv);

typedef struct {
    const char *name;
    s_command_fn *run;
    const char *synopsis;
    const char *summary;
} s_command_t;

static const s_command_t s_commands[] = {
    {"streams", cli_streams_run, "streams list|create|get",
     "list, create or show streams"},
    {"produce", cli_produce_run, "produce STREAM [PAYLOAD]",
     "publish events (PAYLOAD, or JSON lines on stdin)"},
    {"read", cli_read_run, "read STREAM",
     "print a stream's events as JSON lines"},
    {"tail", cli_read_tail, "tail STREAM [-f]",
     "print the last 10 events; -f follows new ones"},
    {"get", cli_read_get, "get EVENT_ID", "print one event"},
    {"history", cli_read_history, "history EVENT_ID",
     "print an event's processing attempts as a table"},
    {"search", cli_read_search, "search [STREAM] --where P",
     "print the events whose payload matches (JSON Pointer predicates)"},
    {"stats", cli_streams_stats, "stats", "print the broker's figures"},
    {"consume", cli_consume_run, "consume STREAM --group G",
     "receive a group's events as they arrive"},
    {"groups", cli_groups_run, "groups list|seek",
     "consumer groups: lag, seek"},
    {"worker", cli_worker_run, "worker --service S --exec CMD",
     "run CMD for every job of a pipeline's worker step"},
    {"dlq", cli_dlq_run, "dlq list|show|replay|delete",
     "the dead-letter queue"},
    {"keys", cli_keys_run, "keys gen|add|list|revoke",
     "CurveZMQ client keys (native peers)"},
    {"apikeys", cli_apikeys_run, "apikeys create|list|revoke",
     "API keys (HTTP producers and consumers)"},
    {"users", cli_users_run, "users list|create|update|delete",
     "users of your org"},
    {"login", cli_login_run, "login EMAIL", "get access and refresh tokens"},
    {"whoami", cli_whoami_run, "whoami", "who the broker thinks you are"},
    {"bench", cli_bench_run, "bench",
     "measure publish throughput and ack latency"},
    {"admin", cli_backup_run, "admin backup|restore|rotate-jwt-key|gateway-key",
     "back up a running broker's store and keys; restore a backup; "
     "rotate the JWT signing key"},
    {NULL, NULL, NULL, NULL}};

static void
s_usage (const ef_config_t *config, FILE *out)
{
    fputs ("Usage: eventflow [GLOBAL OPTIONS] COMMAND [ARGS]\n"
           "\n"
           "Talk to an EventFlow broker: manage streams, publish and read "
           "events,\nmeasure throughput.\n"
           "\n"
           "Commands:\n",
           out);
    for (const s_command_t *c = s_commands; c->name; c++)
        fprintf (out, "  %-26s %s\n", c->synopsis, c->summary);
    fputs ("\n"
           "Global options (flags > environment > config file > "
           "defaults):\n",
           out);
    ef_config_usage (config, out);
    fputs ("  --help, -h           this help ('eventflow COMMAND --help': "
           "a command's)\n"
           "  --version            print the version and exit\n"
           "\n",
           out);
    cli_usage_exit_codes (out);
    fputs ("\n"
           "Examples:\n"
           "  eventflow streams create orders\n"
           "  eventflow produce orders --type order.created "
           "'{\"id\":1,\"total\":9.5}'\n"
           "  cat orders.jsonl | eventflow produce orders --type "
           "order.created\n"
           "  eventflow read orders --after 100 --limit 10\n"
           "  eventflow --broker tcp://10.0.0.5:5555 tail orders -f\n"
           "  EVENTFLOW_TIMEOUT=2000 eventflow stats\n"
           "  eventflow bench --events 1000000 --producers 8 --batch 100\n",
           out);
}

static const s_command_t *
s_find (const char *name)
{
    for (const s_command_t *c = s_commands; c->name; c++)
        if (strcmp (c->name, name) == 0)
            return c;
    return NULL;
}

/*  `eventflow help [COMMAND]`. */
static int
s_help (const ef_config_t *config, const cli_t *cli, int argc, char **argv)
{
    if (argc < 2) {
        s_usage (config, stdout);
        return CLI_EXIT_OK;
    }
    const s_command_t *c = s_find (argv[1]);
    if (!c)
        return cli_usage_error (NULL, "unknown command '%s'", argv[1]);
    char *help_argv[] = {argv[1], "--help", NULL};
    return c->run (cli, 2, help_argv);
}

/*  CurveZMQ keys: --cert and --broker-key, else a local broker's
    admin.key and broker.pub in --data-dir; plain when neither is there
    (or with --plain 1). 0 or CLI_EXIT_USAGE. */
static int
s_curve_settings (const ef_config_t *config, cli_t *cli)
{
    const char *plain = ef_config_get (config, "plain");
    const char *cert = ef_config_get (config, "cert");
    const char *bkey = ef_config_get (config, "broker-key");
    const char *dir = ef_config_get (config, "data-dir");
    char path[4096];
    ef_cert_t c, server;
    cli->curve = 0;
    if (plain && (!strcmp (plain, "1") || !strcmp (plain, "true")))
        return 0;
    int explicit_cert = cert && *cert;
    if (!explicit_cert) {
        snprintf (path, sizeof path, "%s/admin.key", dir ? dir : ".");
        cert = path;
    }
    int rc = ef_cert_load (cert, &c);
    if (rc) {
        if (explicit_cert)
            return cli_usage_error (NULL, "cannot read the certificate %s",
                                    cert);
        return 0; /* no local broker here: plain, with a credential */
    }
    if (!c.secret_key[0])
        return cli_usage_error (NULL, "%s holds no secret key", cert);
    if (bkey && strlen (bkey) == EF_Z85_KEY_LEN && !strchr (bkey, '/'))
        snprintf (server.public_key, sizeof server.public_key, "%s", bkey);
    else {
        char bpath[4096];
        if (!bkey || !*bkey) {
            snprintf (bpath, sizeof bpath, "%s/broker.pub", dir ? dir : ".");
            bkey = bpath;
        }
        if (ef_cert_load (bkey, &server))
            return cli_usage_error (NULL,
                                    "cannot read the broker's public key %s "
                                    "(give --broker-key)",
                                    bkey);
    }
    memcpy (cli->server_key, server.public_key, 41);
    memcpy (cli->public_key, c.public_key, 41);
    memcpy (cli->secret_key, c.secret_key, 41);
    cli->curve = 1;
    return 0;
}

/*  Fill cli from the loaded options; 0 or CLI_EXIT_USAGE. */
static int
s_settings (const ef_config_t *config, cli_t *cli)
{
    cli->endpoint = ef_config_get (config, "broker");
    if (!cli->endpoint || !*cli->endpoint)
        return cli_usage_error (NULL, "--broker must name an endpoint");
    int err;
    int64_t t = ef_config_get_int (config, "timeout", 10000, &err);
    if (err || t < 1 || t > INT_MAX)
        return cli_usage_error (
            NULL, "--timeout wants milliseconds between 1 and %d, not '%s'",
            INT_MAX, ef_config_get (config, "timeout"));
    cli->timeout_ms = (int)t;
    t = ef_config_get_int (config, "heartbeat", 5000, &err);
    if (err || t < 100 || t > 3600000)
        return cli_usage_error (
            NULL,
            "--heartbeat wants milliseconds between 100 and 3600000, "
            "not '%s'",
            ef_config_get (config, "heartbeat"));
    cli->heartbeat_ms = (int)t;
    t = ef_config_get_int (config, "reconnect-max", 5000, &err);
    if (err || t < 100 || t > 3600000)
        return cli_usage_error (
            NULL,
            "--reconnect-max wants milliseconds between 100 and "
            "3600000, not '%s'",
            ef_config_get (config, "reconnect-max"));
    cli->reconnect_max_ms = (int)t;
    cli->api_key = ef_config_get (config, "api-key");
    if (cli->api_key && !*cli->api_key)
        cli->api_key = NULL;
    cli->token = ef_config_get (config, "token");
    if (cli->token && !*cli->token)
        cli->token = NULL;
    return s_curve_settings (config, cli);
}

/*  Everything main does between creating and destroying the config. */
static int
s_run (ef_config_t *config, int argc, char **argv)
{
    int next = argc;
    char err[256];
    if (ef_config_load (config, argc, argv, 1, &next, err, sizeof err))
        return cli_usage_error (NULL, "%s", err);
    if (next >= argc) {
        s_usage (config, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[next];
    if (strcmp (name, "--help") == 0 || strcmp (name, "-h") == 0) {
        s_usage (config, stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp (name, "--version") == 0 || strcmp (name, "-V") == 0) {
        printf ("eventflow %s\n", EF_VERSION);
        return CLI_EXIT_OK;
    }
    if (name[0] == '-')
        return cli_usage_error (NULL, "unknown global option '%s'", name);
    cli_t cli;
    int rc = s_settings (config, &cli);
    if (rc)
        return rc;
    if (strcmp (name, "help") == 0)
        return s_help (config, &cli, argc - next, argv + next);
    const s_command_t *c = s_find (name);
    if (!c)
        return cli_usage_error (NULL, "unknown command '%s'", name);
    return c->run (&cli, argc - next, argv + next);
}

int
main (int argc, char **argv)
{
    ef_config_t *config = ef_config_new (s_options);
    if (!config) {
        cli_error ("%s", ef_strerror (EF_ENOMEM));
        return CLI_EXIT_REFUSED;
    }
    int rc = s_run (config, argc, argv);
    /* Output that never reached its reader is a failure a script must
       see, even when the broker answered everything. */
    if (fflush (stdout) != 0 && rc == CLI_EXIT_OK) {
        cli_error ("cannot write the output");
        rc = CLI_EXIT_REFUSED;
    }
    ef_config_destroy (&config);
    return rc;
}
