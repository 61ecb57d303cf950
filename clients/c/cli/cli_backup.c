/*  cli_backup.c: `eventflow admin`, the operator's commands about a
    broker's data dir. `admin backup DIR` asks the running broker for a
    copy of its store and keys into DIR on its own machine (BACKUP) and
    follows it with BACKUP_STATUS until it ends, printing its progress;
    `admin restore BACKUP DATA_DIR` is local and offline: it copies a
    backup's files into a new data dir and checks that LMDB opens the
    store there. `admin rotate-jwt-key` asks the broker for a new JWT
    signing key (ROTATE_JWT_KEY). */
#include "cli.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_file.h"
#include "eventflow/ef_proto.h"
#include "eventflow/ef_time.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char s_usage[] =
    "Usage: eventflow admin backup DIR\n"
    "       eventflow admin restore BACKUP DATA_DIR\n"
    "       eventflow admin rotate-jwt-key\n"
    "       eventflow admin gateway-key new|promote\n"
    "\n"
    "backup: the running broker copies its store (compacted, consistent:\n"
    "  every event acknowledged before the backup began) and its key files\n"
    "  into DIR, on the broker's machine, while it goes on serving. DIR is\n"
    "  absolute, missing or empty; the broker's user must be able to write\n"
    "  in its parent (it writes DIR.tmp there, renamed DIR when whole).\n"
    "  Only the local admin key of the data dir (admin.key) may ask; one\n"
    "  backup at a time. Progress goes to stderr, at most a line a second;\n"
    "  the final figures to stdout as JSON.\n"
    "restore: local and offline (the broker need not run): copies BACKUP's\n"
    "  files into DATA_DIR (missing or empty) and checks that the store\n"
    "  opens. Run it as the broker's user, then start the broker with\n"
    "  --data-dir DATA_DIR.\n"
    "rotate-jwt-key: the broker signs access tokens with a new key from now\n"
    "  on (its id, kid, is printed as JSON) and keeps the old key, in its\n"
    "  data dir, to verify the tokens it signed until they expire (15\n"
    "  minutes). Only the local admin key of the data dir may ask.\n"
    "gateway-key new: the broker writes a new gateway key pair,\n"
    "  gateway.next.key/.pub, in its data dir and admits both the current\n"
    "  and the next key as the gateway (also after a restart). Copy\n"
    "  gateway.next.key to each bridge, restart them one at a time with\n"
    "  --gateway-cert pointing at it, then:\n"
    "gateway-key promote: the next key becomes gateway.key/.pub and the old\n"
    "  one is refused from now on, also on open connections. Only the local\n"
    "  admin key of the data dir may ask.\n";

static int
s_sub_usage (int help)
{
    fputs (s_usage, help ? stdout : stderr);
    return help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

/* ---------------------------------------------------------------- backup */

typedef struct {
    ef_str_t state, dir, error;
    uint64_t started_at, bytes, used_bytes, elapsed_ms;
} s_backup_t;

/*  The reply's backup map. 0 or EF_EPROTO. */
static int
s_read_backup (const ef_reply_t *rep, s_backup_t *out)
{
    ef_mpr_t r = rep->body;
    memset (out, 0, sizeof *out);
    for (uint32_t i = 0; i < rep->nkeys; i++) {
        ef_str_t k;
        uint32_t n;
        if (ef_mpr_str (&r, &k))
            return EF_EPROTO;
        if (!ef_str_eq (k, "backup")) {
            if (ef_mpr_skip (&r, EF_MSGPACK_DEPTH))
                return EF_EPROTO;
            continue;
        }
        if (ef_mpr_map (&r, &n))
            return EF_EPROTO;
        for (uint32_t j = 0; j < n; j++) {
            int rc = ef_mpr_str (&r, &k);
            if (rc == 0 && ef_mpr_nil (&r))
                continue; /* finished_at while running */
            else if (rc == 0 && ef_str_eq (k, "state"))
                rc = ef_mpr_str (&r, &out->state);
            else if (rc == 0 && ef_str_eq (k, "dir"))
                rc = ef_mpr_str (&r, &out->dir);
            else if (rc == 0 && ef_str_eq (k, "error"))
                rc = ef_mpr_str (&r, &out->error);
            else if (rc == 0 && ef_str_eq (k, "started_at"))
                rc = ef_mpr_uint (&r, &out->started_at);
            else if (rc == 0 && ef_str_eq (k, "bytes"))
                rc = ef_mpr_uint (&r, &out->bytes);
            else if (rc == 0 && ef_str_eq (k, "used_bytes"))
                rc = ef_mpr_uint (&r, &out->used_bytes);
            else if (rc == 0 && ef_str_eq (k, "elapsed_ms"))
                rc = ef_mpr_uint (&r, &out->elapsed_ms);
            else if (rc == 0)
                rc = ef_mpr_skip (&r, EF_MSGPACK_DEPTH);
            if (rc)
                return EF_EPROTO;
        }
        return out->state.ptr ? 0 : EF_EPROTO;
    }
    return EF_EPROTO;
}

static double
s_mb (uint64_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

#define S_POLL_MS     200                 /* between two BACKUP_STATUS */
#define S_REPORT_MS   1000                /* a progress line at least this */
#define S_REPORT_SIZE (64u * 1024 * 1024) /* or every this many bytes */

static int
s_backup (const cli_t *cli, const char *dir)
{
    ef_client_t *client;
    int rc = cli_connect (cli, &client);
    if (rc)
        return rc;
    ef_request_t req = {0};
    req.cmd = EF_CMD_BACKUP;
    req.dir = ef_str (dir);
    const ef_reply_t *rep;
    s_backup_t b, first;
    rc = ef_client_call (client, &req, &rep);
    if (rc) {
        int code = cli_fail (client, rc, "admin backup");
        ef_client_destroy (&client);
        return code;
    }
    if (s_read_backup (rep, &first)) {
        ef_client_destroy (&client);
        cli_error ("admin backup: the broker's reply has no backup");
        return CLI_EXIT_REFUSED;
    }
    fprintf (stderr,
             "backup: into %s, about %.1f MB (the store's pages in use; "
             "began at broker time %llu ms)\n",
             dir, s_mb (first.used_bytes),
             (unsigned long long)first.started_at);
    int64_t last_ms = ef_time_mono_ms ();
    uint64_t last_bytes = 0;
    int code = CLI_EXIT_OK;
    for (;;) {
        struct timespec ts = {0, S_POLL_MS * 1000000L};
        nanosleep (&ts, NULL); /* the pace of the polling */
        ef_request_t st = {0};
        st.cmd = EF_CMD_BACKUP_STATUS;
        rc = ef_client_call (client, &st, &rep);
        if (rc) {
            code = cli_fail (client, rc, "admin backup: status");
            break;
        }
        if (s_read_backup (rep, &b) || b.started_at != first.started_at) {
            cli_error ("admin backup: the broker no longer knows this backup");
            code = CLI_EXIT_REFUSED;
            break;
        }
        int64_t now = ef_time_mono_ms ();
        if (ef_str_eq (b.state, "running")) {
            if (now - last_ms >= S_REPORT_MS ||
                b.bytes - last_bytes >= S_REPORT_SIZE) {
                fprintf (stderr, "backup: %.1f MB of about %.1f MB, %.1f s\n",
                         s_mb (b.bytes), s_mb (b.used_bytes),
                         (double)b.elapsed_ms / 1000.0);
                last_ms = now;
                last_bytes = b.bytes;
            }
            continue;
        }
        if (ef_str_eq (b.state, "done")) {
            fprintf (stderr, "backup: done: %s, %.1f MB in %.1f s\n", dir,
                     s_mb (b.bytes), (double)b.elapsed_ms / 1000.0);
            ef_buf_t out;
            ef_buf_init (&out);
            ef_proto_reply_json (&out, rep);
            ef_buf_append (&out, "\n", 1);
            if (cli_flush_buf (&out, stdout))
                code = CLI_EXIT_REFUSED;
            ef_buf_free (&out);
        } else {
            cli_error ("admin backup: failed: %.*s", (int)b.error.len,
                       b.error.ptr ? b.error.ptr : "");
            code = CLI_EXIT_REFUSED;
        }
        break;
    }
    ef_client_destroy (&client);
    return code;
}

/* ---------------------------------------------------------------- keys */

/*  A key command without arguments (ROTATE_JWT_KEY, GATEWAY_KEY_NEW,
    GATEWAY_KEY_PROMOTE); its reply as JSON on stdout. */
static int
s_key_command (const cli_t *cli, ef_cmd_t cmd, const char *what)
{
    ef_client_t *client;
    int rc = cli_connect (cli, &client);
    if (rc)
        return rc;
    ef_request_t req = {0};
    req.cmd = cmd;
    const ef_reply_t *rep;
    rc = ef_client_call (client, &req, &rep);
    int code = CLI_EXIT_OK;
    if (rc)
        code = cli_fail (client, rc, what);
    else {
        ef_buf_t out;
        ef_buf_init (&out);
        ef_proto_reply_json (&out, rep);
        ef_buf_append (&out, "\n", 1);
        if (cli_flush_buf (&out, stdout))
            code = CLI_EXIT_REFUSED;
        ef_buf_free (&out);
    }
    ef_client_destroy (&client);
    return code;
}

/* ---------------------------------------------------------------- restore */

/*  1 when path is missing or an empty directory; 0 otherwise. */
static int
s_dir_empty (const char *path, int *exists)
{
    struct stat st;
    *exists = stat (path, &st) == 0;
    if (!*exists)
        return 1;
    DIR *d = S_ISDIR (st.st_mode) ? opendir (path) : NULL;
    if (!d)
        return 0;
    struct dirent *e;
    int empty = 1;
    while ((e = readdir (d)))
        if (strcmp (e->d_name, ".") && strcmp (e->d_name, ".."))
            empty = 0;
    closedir (d);
    return empty;
}

/*  Open the store in dir read-only (no lock file) and look for the
    broker's meta database. 0, or -1 with why. */
static int
s_check_store (const char *dir, char *why, size_t size, size_t *entries)
{
    MDB_env *env;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    MDB_stat st;
    int rc = mdb_env_create (&env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (env, 64);
    if (rc == 0)
        rc = mdb_env_open (env, dir, MDB_RDONLY | MDB_NOLOCK, 0600);
    if (rc == 0)
        rc = mdb_txn_begin (env, NULL, MDB_RDONLY, &txn);
    if (rc == 0 && (rc = mdb_dbi_open (txn, "meta", 0, &dbi)) == MDB_NOTFOUND)
        snprintf (why, size, "it holds no EventFlow store (no meta)");
    else if (rc)
        snprintf (why, size, "LMDB cannot open it: %s", mdb_strerror (rc));
    *entries = 0;
    if (rc == 0 && mdb_stat (txn, dbi, &st) == 0)
        *entries = st.ms_entries;
    if (txn)
        mdb_txn_abort (txn);
    mdb_env_close (env);
    return rc ? -1 : 0;
}

static int
s_restore (const char *backup, const char *data_dir)
{
    char path[PATH_MAX], why[PATH_MAX + 128];
    struct stat st;
    snprintf (path, sizeof path, "%s/data.mdb", backup);
    if (stat (path, &st) || !S_ISREG (st.st_mode)) {
        cli_error ("admin restore: %s is not a backup (no data.mdb)", backup);
        return CLI_EXIT_USAGE;
    }
    int exists;
    if (!s_dir_empty (data_dir, &exists)) {
        cli_error ("admin restore: %s is not empty: restore only into a new "
                   "or empty directory",
                   data_dir);
        return CLI_EXIT_REFUSED;
    }
    if (!exists && mkdir (data_dir, 0700)) {
        cli_error ("admin restore: cannot create %s: %s", data_dir,
                   strerror (errno));
        return CLI_EXIT_REFUSED;
    }
    /* every file of the backup: data.mdb and the key files */
    DIR *d = opendir (backup);
    if (!d) {
        cli_error ("admin restore: cannot read %s: %s", backup,
                   strerror (errno));
        return CLI_EXIT_REFUSED;
    }
    struct dirent *e;
    int files = 0, failed = 0;
    while (!failed && (e = readdir (d))) {
        snprintf (path, sizeof path, "%s/%s", backup, e->d_name);
        if (stat (path, &st) || !S_ISREG (st.st_mode))
            continue;
        if (ef_file_copy (backup, data_dir, e->d_name)) {
            snprintf (why, sizeof why, "cannot copy %s: %s", e->d_name,
                      strerror (errno));
            failed = 1;
        } else
            files++;
    }
    closedir (d);
    size_t entries = 0;
    if (!failed && s_check_store (data_dir, why, sizeof why, &entries))
        failed = 1;
    if (failed) {
        /* leave DATA_DIR as it was: empty (or gone when we made it) */
        if ((d = opendir (data_dir))) {
            while ((e = readdir (d)))
                if (strcmp (e->d_name, ".") && strcmp (e->d_name, "..")) {
                    snprintf (path, sizeof path, "%s/%s", data_dir, e->d_name);
                    unlink (path);
                }
            closedir (d);
        }
        if (!exists)
            rmdir (data_dir);
        cli_error ("admin restore: %s: %s", data_dir, why);
        return CLI_EXIT_REFUSED;
    }
    printf ("restored %s into %s: %d files, the store opens (%zu meta "
            "entries); start the broker with --data-dir %s, as its user\n",
            backup, data_dir, files, entries, data_dir);
    return CLI_EXIT_OK;
}

int
cli_backup_run (const cli_t *cli, int argc, char **argv)
{
    cli_opt_t opts[] = {{NULL, 0, 0, NULL}};
    const char *pos[4];
    int npos = 0;
    int rc = cli_parse ("admin", opts, argc, argv, pos, 4, &npos);
    if (rc == CLI_HELP)
        return s_sub_usage (1);
    if (rc)
        return rc;
    if (npos == 2 && !strcmp (pos[0], "backup"))
        return s_backup (cli, pos[1]);
    if (npos == 3 && !strcmp (pos[0], "restore"))
        return s_restore (pos[1], pos[2]);
    if (npos == 1 && !strcmp (pos[0], "rotate-jwt-key"))
        return s_key_command (cli, EF_CMD_ROTATE_JWT_KEY,
                              "admin rotate-jwt-key");
    if (npos == 2 && !strcmp (pos[0], "gateway-key") && !strcmp (pos[1], "new"))
        return s_key_command (cli, EF_CMD_GATEWAY_KEY_NEW,
                              "admin gateway-key new");
    if (npos == 2 && !strcmp (pos[0], "gateway-key") &&
        !strcmp (pos[1], "promote"))
        return s_key_command (cli, EF_CMD_GATEWAY_KEY_PROMOTE,
                              "admin gateway-key promote");
    return s_sub_usage (0);
}
