/*  cli.h: private to the eventflow command-line client. It declares what
    the command modules share: the global settings every command receives
    (cli_t), the exit codes scripts rely on, a small argument parser for
    command options, the connect and error-reporting helpers, and the JSON
    writers for events and streams. One entry point per command; each
    cli_*.c file owns the commands named after it. Nothing here is
    process-wide state: settings travel in a cli_t passed by main. */
#ifndef EF_CLI_H
#define EF_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "eventflow/ef_client.h"
#include "eventflow/ef_mp.h"

/*  Exit codes, documented in `eventflow --help`. */
#define CLI_EXIT_OK          0 /* success */
#define CLI_EXIT_REFUSED     1 /* the broker refused something */
#define CLI_EXIT_USAGE       2 /* bad flags, arguments or input */
#define CLI_EXIT_UNAVAILABLE 3 /* broker unreachable or timed out */

/*  cli_parse result when --help or -h was given. */
#define CLI_HELP (-1)

/*  Settings from the global options; strings are owned by main's config
    and outlive every command. */
typedef struct {
    const char *endpoint;
    int timeout_ms;
    int heartbeat_ms;     /* the connection counts as lost after this */
    int reconnect_max_ms; /* longest wait between reconnects */
    const char *api_key;  /* NULL when not set */
    const char *token;    /* an access token (JWT), NULL when not set */
    int curve;            /* connect with CurveZMQ */
    char server_key[41];  /* the broker's public key (Z85) */
    char public_key[41];  /* this client's key pair (Z85) */
    char secret_key[41];
} cli_t;

/*  One option of a command. The caller fills name, letter and
    takes_value; cli_parse fills value ("" for a flag that was given,
    NULL when absent). */
typedef struct {
    const char *name; /* long name without "--"; NULL ends a table */
    char letter;      /* short name ("-f"), 0 for none */
    int takes_value;
    const char *value;
} cli_opt_t;

/* ---------------------------------------------------------- commands */

/*  Each takes argv[0] = the command's name and returns an exit code. */
int cli_streams_run (const cli_t *cli, int argc, char **argv);
int cli_streams_stats (const cli_t *cli, int argc, char **argv);
int cli_produce_run (const cli_t *cli, int argc, char **argv);
int cli_read_run (const cli_t *cli, int argc, char **argv);
int cli_read_tail (const cli_t *cli, int argc, char **argv);
int cli_read_get (const cli_t *cli, int argc, char **argv);
int cli_read_history (const cli_t *cli, int argc, char **argv);
int cli_read_search (const cli_t *cli, int argc, char **argv);
int cli_bench_run (const cli_t *cli, int argc, char **argv);
int cli_keys_run (const cli_t *cli, int argc, char **argv);
int cli_apikeys_run (const cli_t *cli, int argc, char **argv);
int cli_users_run (const cli_t *cli, int argc, char **argv);
int cli_login_run (const cli_t *cli, int argc, char **argv);
int cli_whoami_run (const cli_t *cli, int argc, char **argv);
int cli_consume_run (const cli_t *cli, int argc, char **argv);
int cli_groups_run (const cli_t *cli, int argc, char **argv);
int cli_worker_run (const cli_t *cli, int argc, char **argv);
int cli_dlq_run (const cli_t *cli, int argc, char **argv);
int cli_backup_run (const cli_t *cli, int argc, char **argv);

/* ------------------------------------------------- arguments, errors */

/*  Parse argv[1..argc) of command cmd against opts. Options and
    positional arguments may be mixed; "--" ends the options; "-" and
    arguments that start with "-" and a digit are positional (a negative
    number is valid JSON). Positional arguments go to pos (at most
    max_pos; their count in *npos). Returns 0, CLI_HELP, or
    CLI_EXIT_USAGE after printing what is wrong. */
int cli_parse (const char *cmd, cli_opt_t *opts, int argc, char **argv,
               const char **pos, int max_pos, int *npos);
/*  The value of option name in a parsed table (NULL when absent). */
const char *cli_opt (const cli_opt_t *opts, const char *name);
/*  Parse the decimal value of --flag into *out within [min, max].
    0, or CLI_EXIT_USAGE after printing what is wrong. */
int cli_parse_u64 (const char *cmd, const char *flag, const char *s,
                   uint64_t min, uint64_t max, uint64_t *out);

/*  Print "eventflow: <message>" on stderr. */
void cli_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/*  Print a usage error and the hint to run `eventflow CMD --help';
    returns CLI_EXIT_USAGE. */
int cli_usage_error (const char *cmd, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
/*  The exit code for a library return code: 0 for 0, 3 for
    EF_ETIMEOUT/EF_EUNAVAILABLE, 1 otherwise. */
int cli_exit_code (int rc);
/*  1 if rc means the broker could not be reached or did not answer. */
int cli_is_unavailable (int rc);
/*  Print "eventflow: <what>: <why>" where why is the client's last error
    (or ef_strerror(rc) without a client); returns cli_exit_code(rc). */
int cli_fail (const ef_client_t *client, int rc, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/*  The exit-status paragraph shared by every --help. */
void cli_usage_exit_codes (FILE *out);

/*  SIGINT/SIGTERM set a flag instead of ending the process (for the
    commands that run until stopped); cli_stopping reads it. */
void cli_catch_signals (void);
int cli_stopping (void);

/*  Print a consumer's or worker's news of its link with the broker on
    stderr (an ef_notify_fn; arg unused). */
void cli_notify (void *arg, int up, const char *message);
/*  Apply the global settings (timeout, heartbeat, credential, CurveZMQ
    keys) to a new client. */
void cli_configure (const cli_t *cli, ef_client_t *client);
/*  Create a client from the global settings and connect it. Returns 0
    with *out set (the caller destroys it), or an exit code after
    printing the error. */
int cli_connect (const cli_t *cli, ef_client_t **out);
/*  The broker's limits from HELLO, or the protocol defaults where the
    broker sent none. */
uint64_t cli_max_batch (const ef_client_t *client);
uint64_t cli_max_payload (const ef_client_t *client);
uint64_t cli_max_message (const ef_client_t *client);

/* ----------------------------------------------------------- JSON out */

/*  s as a JSON string, or null when unset. */
void cli_json_str (ef_buf_t *b, ef_str_t s);
/*  s as raw JSON text (made one line), or null when unset; text that is
    not valid JSON is written as a string rather than break the line. */
void cli_json_raw (ef_buf_t *b, ef_str_t s);
/*  ms as an RFC 3339 string; null when ms is 0 and nullable. */
void cli_json_time (ef_buf_t *b, uint64_t ms, int nullable);
/*  An event as one line: ef_event_json's object (the HTTP API's Event)
    and a newline. */
void cli_json_event (ef_buf_t *b, const ef_event_t *ev);
/*  A stream as one JSON object and a newline. */
void cli_json_stream (ef_buf_t *b, const ef_stream_info_t *s);
/*  Write b to out and empty it. 0, or -1 when b ran out of memory or
    the write failed. */
int cli_flush_buf (ef_buf_t *b, FILE *out);
/*  Connect, send req, and print the reply's keys (but id and ok) as one
    JSON object line; on a refusal say "<what>: why". The exit code. */
int cli_call_print (const cli_t *cli, ef_request_t *req, const char *what);

#endif
