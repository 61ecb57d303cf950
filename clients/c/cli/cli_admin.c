/*  cli_admin.c: the commands about who may do what: `keys` (CurveZMQ
    client keys of native peers), `apikeys` (API keys, for HTTP producers
    and consumers), `users`, `login` and `whoami`. Each is one request;
    the broker's answer is printed as one JSON object. */
#include "cli.h"

#include "eventflow/ef_cert.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_proto.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- output */

/*  A password: --password, else EVENTFLOW_PASSWORD, else one line of
    standard input. NULL when none. */
static const char *
s_password (const char *flag, char *buf, size_t size)
{
    if (flag && *flag)
        return flag;
    const char *env = getenv ("EVENTFLOW_PASSWORD");
    if (env && *env)
        return env;
    if (isatty (0))
        fputs ("password: ", stderr);
    if (!fgets (buf, (int)size, stdin))
        return NULL;
    buf[strcspn (buf, "\r\n")] = 0;
    return *buf ? buf : NULL;
}

static int
s_sub_usage (const char *text, int help)
{
    fputs (text, help ? stdout : stderr);
    return help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

/* ---------------------------------------------------------------- keys */

static const char s_keys_usage[] =
    "Usage: eventflow keys gen [--out FILE] [--org ORG_ID]\n"
    "       eventflow keys proof --org ORG_ID CERTFILE\n"
    "       eventflow keys add --role ROLE --proof PROOF [--org ORG] "
    "[--name NAME] PUBKEY\n"
    "       eventflow keys list\n"
    "       eventflow keys revoke PUBKEY\n"
    "\n"
    "Native peers (producers, consumers, workers) connect with CurveZMQ:\n"
    "  gen      make a key pair; with --out, write the certificate to FILE\n"
    "           (mode 0600) and FILE.pub; print the public key. With --org,\n"
    "           also print the key's proof for that org (and write it to\n"
    "           FILE.proof)\n"
    "  proof    print the proof that the holder of CERTFILE's secret key\n"
    "           registers it in org ORG_ID (the org_id `eventflow whoami`\n"
    "           shows), for the broker whose key --broker-key names\n"
    "  add      register a public key (40 characters of Z85) for ROLE\n"
    "           (admin, producer, consumer) in your org, with its holder's\n"
    "           proof: a public key alone claims nothing\n"
    "  list     the registered keys of your org\n"
    "  revoke   refuse that key from its next request on\n"
    "Use a certificate with: eventflow --cert FILE --broker-key "
    "BROKER.pub ...\n";

/*  Print (and with out, write to out.proof) the proof of cert for org. */
static int
s_keys_proof (const cli_t *cli, const ef_cert_t *cert, const char *org,
              const char *out)
{
    char proof[EF_CERT_PROOF_LEN + 1];
    if (!cli->server_key[0]) {
        cli_error ("a proof is made for one broker: give --broker-key");
        return CLI_EXIT_USAGE;
    }
    if (strlen (org) > 64 || strpbrk (org, "\"\\") ||
        ef_cert_proof (cert->secret_key, cli->server_key, org, proof)) {
        cli_error ("cannot make a proof with this key and org");
        return CLI_EXIT_USAGE;
    }
    if (out) {
        char path[4096];
        snprintf (path, sizeof path, "%s.proof", out);
        FILE *f = fopen (path, "w");
        int ok = f && fprintf (f, "%s\n", proof) > 0;
        if (f && fclose (f))
            ok = 0;
        if (!ok) {
            cli_error ("cannot write %s", path);
            return CLI_EXIT_REFUSED;
        }
    }
    printf ("{\"public_key\":\"%s\",\"org\":\"%s\",\"proof\":\"%s\"%s%s%s}\n",
            cert->public_key, org, proof, out ? ",\"certificate\":\"" : "",
            out ? out : "", out ? "\"" : "");
    return CLI_EXIT_OK;
}

int
cli_keys_run (const cli_t *cli, int argc, char **argv)
{
    cli_opt_t opts[] = {{"out", 0, 1, NULL},   {"role", 0, 1, NULL},
                        {"org", 0, 1, NULL},   {"name", 0, 1, NULL},
                        {"proof", 0, 1, NULL}, {NULL, 0, 0, NULL}};
    const char *pos[3];
    int npos = 0;
    int rc = cli_parse ("keys", opts, argc, argv, pos, 3, &npos);
    if (rc == CLI_HELP)
        return s_sub_usage (s_keys_usage, 1);
    if (rc)
        return rc;
    if (npos < 1)
        return s_sub_usage (s_keys_usage, 0);
    ef_request_t req = {0};
    const char *org = cli_opt (opts, "org");
    if (!strcmp (pos[0], "gen") && npos == 1) {
        ef_cert_t cert;
        if (ef_cert_generate (&cert)) {
            cli_error ("cannot generate a key pair");
            return CLI_EXIT_REFUSED;
        }
        const char *out = cli_opt (opts, "out");
        if (out) {
            char pub[4096];
            snprintf (pub, sizeof pub, "%s.pub", out);
            if (ef_cert_save (out, &cert, 0) || ef_cert_save (pub, &cert, 1)) {
                cli_error ("cannot write %s", out);
                return CLI_EXIT_REFUSED;
            }
        }
        if (org)
            return s_keys_proof (cli, &cert, org, out);
        printf ("{\"public_key\":\"%s\"%s%s%s}\n", cert.public_key,
                out ? ",\"certificate\":\"" : "", out ? out : "",
                out ? "\"" : "");
        return CLI_EXIT_OK;
    }
    if (!strcmp (pos[0], "proof") && npos == 2) {
        ef_cert_t cert;
        if (!org)
            return cli_usage_error ("keys", "proof needs --org");
        if (ef_cert_load (pos[1], &cert) || !cert.secret_key[0]) {
            cli_error ("%s is not a certificate with a secret key", pos[1]);
            return CLI_EXIT_USAGE;
        }
        return s_keys_proof (cli, &cert, org, NULL);
    }
    if (!strcmp (pos[0], "add") && npos == 2) {
        req.cmd = EF_CMD_CLIENTKEY_ADD;
        req.public_key = ef_str (pos[1]);
        req.role = ef_str (cli_opt (opts, "role"));
        req.org = ef_str (org);
        req.name = ef_str (cli_opt (opts, "name"));
        req.proof = ef_str (cli_opt (opts, "proof"));
        if (!ef_str_set (req.role))
            return cli_usage_error ("keys", "add needs --role");
        if (!ef_str_set (req.proof))
            return cli_usage_error ("keys", "add needs --proof (eventflow "
                                            "keys proof, where the key is)");
    } else if (!strcmp (pos[0], "list") && npos == 1)
        req.cmd = EF_CMD_CLIENTKEY_LIST;
    else if (!strcmp (pos[0], "revoke") && npos == 2) {
        req.cmd = EF_CMD_CLIENTKEY_REVOKE;
        req.public_key = ef_str (pos[1]);
    } else
        return s_sub_usage (s_keys_usage, 0);
    return cli_call_print (cli, &req, "keys");
}

/* ---------------------------------------------------------------- apikeys */

static const char s_apikeys_usage[] =
    "Usage: eventflow apikeys create NAME [--role ROLE] [--producer]\n"
    "                 [--streams S1,S2,...] [--rate PER_SECOND] "
    "[--burst N]\n"
    "       eventflow apikeys list [--producers]\n"
    "       eventflow apikeys revoke KEY_ID\n"
    "\n"
    "API keys authenticate HTTP producers and consumers (X-API-Key).\n"
    "The key is printed once, at creation; only its hash is kept.\n"
    "  --role       producer (default), consumer or admin\n"
    "  --streams    limit the key to these streams\n"
    "  --rate/--burst  its token bucket (requests/s, capacity)\n";

int
cli_apikeys_run (const cli_t *cli, int argc, char **argv)
{
    cli_opt_t opts[] = {{"role", 0, 1, NULL},      {"producer", 0, 0, NULL},
                        {"producers", 0, 0, NULL}, {"streams", 0, 1, NULL},
                        {"rate", 0, 1, NULL},      {"burst", 0, 1, NULL},
                        {NULL, 0, 0, NULL}};
    const char *pos[3];
    int npos = 0;
    int rc = cli_parse ("apikeys", opts, argc, argv, pos, 3, &npos);
    if (rc == CLI_HELP)
        return s_sub_usage (s_apikeys_usage, 1);
    if (rc)
        return rc;
    if (npos < 1)
        return s_sub_usage (s_apikeys_usage, 0);
    ef_request_t req = {0};
    char streams[16 * 130];
    if (!strcmp (pos[0], "create") && npos == 2) {
        req.cmd = EF_CMD_APIKEY_CREATE;
        req.name = ef_str (pos[1]);
        req.role = ef_str (cli_opt (opts, "role"));
        if (cli_opt (opts, "producer"))
            req.has_producer = 1, req.producer = 1;
        const char *list = cli_opt (opts, "streams");
        if (list) {
            snprintf (streams, sizeof streams, "%s", list);
            for (char *tok = strtok (streams, ","); tok && req.n_streams < 16;
                 tok = strtok (NULL, ","))
                req.streams[req.n_streams++] = ef_str (tok);
        }
        const char *rate = cli_opt (opts, "rate");
        if (rate) {
            uint64_t ps, burst = 0;
            if (cli_parse_u64 ("apikeys", "--rate", rate, 1, UINT32_MAX, &ps))
                return CLI_EXIT_USAGE;
            const char *b = cli_opt (opts, "burst");
            if (b &&
                cli_parse_u64 ("apikeys", "--burst", b, 1, UINT32_MAX, &burst))
                return CLI_EXIT_USAGE;
            req.has_rate = 1;
            req.rate_per_second = (uint32_t)ps;
            req.rate_burst = (uint32_t)burst;
        }
    } else if (!strcmp (pos[0], "list") && npos == 1) {
        req.cmd = EF_CMD_APIKEY_LIST;
        if (cli_opt (opts, "producers"))
            req.has_producer = 1, req.producer = 1;
    } else if (!strcmp (pos[0], "revoke") && npos == 2) {
        req.cmd = EF_CMD_APIKEY_REVOKE;
        req.key_id = ef_str (pos[1]);
    } else
        return s_sub_usage (s_apikeys_usage, 0);
    return cli_call_print (cli, &req, "apikeys");
}

/* ---------------------------------------------------------------- users */

static const char s_users_usage[] =
    "Usage: eventflow users list\n"
    "       eventflow users create EMAIL --role ROLE [--password PW]\n"
    "       eventflow users update USER_ID [--role ROLE] [--password PW]\n"
    "       eventflow users delete USER_ID\n"
    "\n"
    "Passwords come from --password, EVENTFLOW_PASSWORD or a line of\n"
    "standard input. Roles: admin, producer, consumer.\n";

int
cli_users_run (const cli_t *cli, int argc, char **argv)
{
    cli_opt_t opts[] = {
        {"role", 0, 1, NULL}, {"password", 0, 1, NULL}, {NULL, 0, 0, NULL}};
    const char *pos[3];
    int npos = 0;
    char buf[1100];
    int rc = cli_parse ("users", opts, argc, argv, pos, 3, &npos);
    if (rc == CLI_HELP)
        return s_sub_usage (s_users_usage, 1);
    if (rc)
        return rc;
    if (npos < 1)
        return s_sub_usage (s_users_usage, 0);
    ef_request_t req = {0};
    req.role = ef_str (cli_opt (opts, "role"));
    if (!strcmp (pos[0], "list") && npos == 1)
        req.cmd = EF_CMD_USER_LIST;
    else if (!strcmp (pos[0], "create") && npos == 2) {
        req.cmd = EF_CMD_USER_CREATE;
        req.email = ef_str (pos[1]);
        if (!ef_str_set (req.role))
            return cli_usage_error ("users", "create needs --role");
        const char *pw =
            s_password (cli_opt (opts, "password"), buf, sizeof buf);
        if (!pw)
            return cli_usage_error ("users", "create needs a password");
        req.password = ef_str (pw);
    } else if (!strcmp (pos[0], "update") && npos == 2) {
        req.cmd = EF_CMD_USER_UPDATE;
        req.user_id = ef_str (pos[1]);
        req.password = ef_str (cli_opt (opts, "password"));
    } else if (!strcmp (pos[0], "delete") && npos == 2) {
        req.cmd = EF_CMD_USER_DELETE;
        req.user_id = ef_str (pos[1]);
    } else
        return s_sub_usage (s_users_usage, 0);
    return cli_call_print (cli, &req, "users");
}

/* ---------------------------------------------------------------- login */

int
cli_login_run (const cli_t *cli, int argc, char **argv)
{
    cli_opt_t opts[] = {{"password", 0, 1, NULL}, {NULL, 0, 0, NULL}};
    const char *pos[2];
    int npos = 0;
    char buf[1100];
    static const char usage[] =
        "Usage: eventflow login EMAIL [--password PW]\n"
        "Prints {access_token, refresh_token, expires_in, ...}. Use the\n"
        "access token with --token (or EVENTFLOW_TOKEN).\n";
    int rc = cli_parse ("login", opts, argc, argv, pos, 2, &npos);
    if (rc == CLI_HELP)
        return s_sub_usage (usage, 1);
    if (rc)
        return rc;
    if (npos != 1)
        return s_sub_usage (usage, 0);
    const char *pw = s_password (cli_opt (opts, "password"), buf, sizeof buf);
    if (!pw)
        return cli_usage_error ("login", "no password given");
    ef_request_t req = {0};
    req.cmd = EF_CMD_LOGIN;
    req.email = ef_str (pos[0]);
    req.password = ef_str (pw);
    return cli_call_print (cli, &req, "login");
}

int
cli_whoami_run (const cli_t *cli, int argc, char **argv)
{
    cli_opt_t opts[] = {{NULL, 0, 0, NULL}};
    const char *pos[1];
    int npos = 0;
    int rc = cli_parse ("whoami", opts, argc, argv, pos, 1, &npos);
    if (rc == CLI_HELP)
        return s_sub_usage ("Usage: eventflow whoami\n", 1);
    if (rc)
        return rc;
    ef_request_t req = {0};
    req.cmd = EF_CMD_WHOAMI;
    return cli_call_print (cli, &req, "whoami");
}
