/*  The store's format version (README "Upgrades"), with a real broker on
    copies of tests/fixtures/store-v1, a store written by a broker from
    before formats (tests/fixtures/make_store_v1.sh):
    * the new broker opens it, records its format (once: a second start
      writes nothing) and serves every event, the group's committed
      offset and the dead letter it held, and stores new events after
      them (compact records, format 2) beside the old ones, the same
      event answered the same whichever form holds it;
    * a store whose format is newer than the broker's is refused at start
      with a message naming the data dir and both formats and a non-zero
      exit, and is left as it was. */
#define _GNU_SOURCE
#include "harness.h"

#include <fcntl.h>
#include <lmdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define ORDERS(i) "00000000-0000-7000-8000-00000000000" #i
#define LETTER    "00000000-0000-7000-8000-0000000000b1"

/*  A copy of the fixture in a new temp dir (out[256]); the secret keys
    back to 0600 (git keeps no modes). */
static void
s_copy_fixture (char *out)
{
    static const char *files[] = {"data.mdb",    "admin.key",  "admin.pub",
                                  "broker.key",  "broker.pub", "gateway.key",
                                  "gateway.pub", "jwt.key",    "initial-admin"};
    assert_int_equal (h_tempdir (out), 0);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char from[512], to[512];
        snprintf (from, sizeof from, "%s/%s", EF_STORE_V1, files[i]);
        snprintf (to, sizeof to, "%s/%s", out, files[i]);
        int in = open (from, O_RDONLY);
        int o = open (to, O_WRONLY | O_CREAT | O_TRUNC,
                      strstr (files[i], ".pub") ? 0644 : 0600);
        assert_true (in >= 0 && o >= 0);
        char buf[65536];
        ssize_t n;
        while ((n = read (in, buf, sizeof buf)) > 0)
            assert_int_equal (write (o, buf, (size_t)n), n);
        close (in);
        close (o);
    }
}

/*  meta "format" of the store in dir, with LMDB itself (the broker
    stopped): the value, 0 when absent. With set (not 0), write it
    instead. */
static uint32_t
s_format (const char *dir, uint32_t set)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val key = {6, "format"}, val;
    uint32_t v = 0;
    assert_int_equal (mdb_env_create (&env), 0);
    mdb_env_set_maxdbs (env, 64);
    mdb_env_set_mapsize (env, 64u << 20);
    assert_int_equal (mdb_env_open (env, dir, 0, 0600), 0);
    assert_int_equal (mdb_txn_begin (env, NULL, set ? 0 : MDB_RDONLY, &txn), 0);
    assert_int_equal (mdb_dbi_open (txn, "meta", 0, &dbi), 0);
    if (set) {
        uint8_t b[4] = {set >> 24, set >> 16, set >> 8, set};
        val.mv_size = 4;
        val.mv_data = b;
        assert_int_equal (mdb_put (txn, dbi, &key, &val, 0), 0);
        assert_int_equal (mdb_txn_commit (txn), 0);
        v = set;
    } else {
        if (mdb_get (txn, dbi, &key, &val) == 0) {
            assert_int_equal (val.mv_size, 4);
            const uint8_t *b = val.mv_data;
            v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
                (uint32_t)b[2] << 8 | b[3];
        }
        mdb_txn_abort (txn);
    }
    mdb_env_close (env);
    return v;
}

/*  `eventflow ARGS` against b: its exit code 0 and its stdout (freed by
    the caller). */
static char *
s_cli (const h_broker_t *b, const char *const *args)
{
    char *out = NULL, *err = NULL;
    int rc = h_cli (b, NULL, &out, &err, args);
    if (rc != 0)
        fprintf (stderr, "eventflow %s %s: exit %d: %s\n", args[0],
                 args[1] ? args[1] : "", rc, err ? err : "");
    assert_int_equal (rc, 0);
    free (err);
    return out;
}

static int
s_count (const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr (p, needle)); p++)
        n++;
    return n;
}

static void
test_an_older_store_is_served_and_upgraded_once (void **state)
{
    (void)state;
    char dir[256];
    s_copy_fixture (dir);
    assert_int_equal (s_format (dir, 0), 0); /* from before formats */
    h_broker_t b;
    const char *const flags[] = {"--durability", "os", NULL};
    assert_int_equal (h_broker_start (&b, dir, flags), 0);
    assert_int_equal (
        h_log_wait (b.log_path, "\"msg\":\"store format written\"", 1, 5000),
        0);
    char *out = s_cli (&b, (const char *const[]){"read", "orders", NULL});
    assert_int_equal (s_count (out, "\"event_id\""), 3);
    assert_non_null (strstr (out, ORDERS (1)));
    assert_non_null (strstr (out, ORDERS (2)));
    assert_non_null (strstr (out, ORDERS (3)));
    assert_non_null (strstr (out, "\"payload\":{\"n\":3}"));
    free (out);
    out = s_cli (&b, (const char *const[]){"get", ORDERS (2), NULL});
    assert_non_null (strstr (out, "\"type\":\"order.created\""));
    free (out);
    out = s_cli (&b, (const char *const[]){"groups", "list", "orders", NULL});
    assert_non_null (strstr (out, "\"billing\""));
    assert_non_null (strstr (out, ORDERS (2)));
    assert_non_null (strstr (out, "\"lag\":1"));
    free (out);
    out = s_cli (&b,
                 (const char *const[]){"dlq", "list", "--stream", "bad", NULL});
    assert_int_equal (s_count (out, LETTER), 1);
    free (out);
    out = s_cli (&b, (const char *const[]){"produce", "orders", "{\"n\":4}",
                                           "--type", "order.created", NULL});
    assert_non_null (strstr (out, "\"seq\":4"));
    free (out);
    assert_int_equal (h_broker_stop (&b), 0);
    assert_int_equal (s_format (dir, 0), 2);

    /* a second start (its log appended to the first's) finds format 2:
       nothing to write */
    assert_int_equal (h_broker_start (&b, dir, flags), 0);
    out = s_cli (&b, (const char *const[]){"read", "orders", NULL});
    assert_int_equal (s_count (out, "\"event_id\""), 4);
    /* three records of format 1 and a compact one, read alike */
    assert_int_equal (s_count (out, "\"type\":\"order.created\""), 4);
    assert_int_equal (s_count (out, "\"status\":\"PROCESSED\""), 4);
    assert_non_null (strstr (out, "\"payload\":{\"n\":4}"));
    free (out);
    assert_int_equal (h_broker_stop (&b), 0);
    assert_int_not_equal (
        h_log_wait (b.log_path, "\"msg\":\"store format written\"", 2, 0), 0);
    h_rmrf (dir);
}

static void
test_a_newer_store_is_refused (void **state)
{
    (void)state;
    char dir[256], log[300], sock[300];
    s_copy_fixture (dir);
    s_format (dir, 3);
    snprintf (log, sizeof log, "%s.log", dir);
    snprintf (sock, sizeof sock, "ipc://%s/broker.sock", dir);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        int fd = open (log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2 (fd, 2);
        execl (h_bin ("eventflow-broker"), "eventflow-broker", "--data-dir",
               dir, "--endpoint", sock, (char *)NULL);
        _exit (127);
    }
    int status;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 1);
    char want[512];
    snprintf (want, sizeof want,
              "data dir %s was written by store format 3; this broker reads "
              "up to 2: upgrade the broker",
              dir);
    assert_int_equal (h_log_wait (log, want, 1, 0), 0);
    assert_int_equal (s_format (dir, 0), 3); /* left as it was */
    unlink (log);
    h_rmrf (dir);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_an_older_store_is_served_and_upgraded_once),
        cmocka_unit_test (test_a_newer_store_is_refused),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
