/*  Backups (protocol.md BACKUP, README "Backups"), with real brokers:
    * a broker backs up its store while a publisher keeps publishing;
      `eventflow admin restore` makes a new data dir of it, a second
      broker starts there and serves every event acknowledged before the
      backup began, the consumer group's committed offset and the dead
      letter made before it, with the same keys;
    * a second BACKUP while one runs is CONFLICT; an org's admin (a
      self-registered org's, and the default org's admin user) is
      FORBIDDEN: only the local admin key of the data dir may;
    * the CLI's backup prints its progress and the result; a relative
      dir, a non-empty dir and a restore into a non-empty data dir are
      refused. */
#define _GNU_SOURCE
#include "harness.h"

#include "eventflow/ef_time.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define S_PW      "correct horse battery"
#define S_PRELOAD 3000 /* events before the backup: a copy that takes a while */
#define S_MAX     200000

/*  What the publisher saw acknowledged: each event's id and the time its
    ack came back. */
typedef struct {
    char id[37];
    uint64_t acked_ms;
} s_ack_t;

typedef struct {
    const h_broker_t *broker;
    s_ack_t *acks;
    volatile int n; /* acks recorded (written by the publisher only) */
    volatile int stop;
    int failed;
} s_pub_t;

static void
s_pad (char *payload, size_t size, int i)
{
    char pad[1001];
    memset (pad, 'x', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    snprintf (payload, size, "{\"i\":%d,\"pad\":\"%s\"}", i, pad);
}

/*  Publish batches of 10 to "default" until told to stop. */
static void *
s_publisher (void *arg)
{
    s_pub_t *p = arg;
    ef_client_t *c = h_client (p->broker);
    if (!c) {
        p->failed = 1;
        return NULL;
    }
    static char payloads[10][1100];
    ef_event_in_t ev[10];
    ef_publish_result_t res[10];
    while (!p->stop && p->n + 10 <= S_MAX) {
        memset (ev, 0, sizeof ev);
        for (int i = 0; i < 10; i++) {
            s_pad (payloads[i], sizeof payloads[i], p->n + i);
            ev[i].type = ef_str ("bk");
            ev[i].payload = ef_str (payloads[i]);
        }
        if (ef_client_publish (c, "default", ev, 10, res)) {
            p->failed = 1;
            break;
        }
        uint64_t now = ef_time_now_ms ();
        int n = p->n;
        for (int i = 0; i < 10; i++) {
            if (res[i].code) {
                p->failed = 1;
                continue;
            }
            snprintf (p->acks[n].id, sizeof p->acks[n].id, "%.*s",
                      (int)res[i].event_id.len, res[i].event_id.ptr);
            p->acks[n++].acked_ms = now;
        }
        __atomic_store_n (&p->n, n, __ATOMIC_RELEASE);
    }
    ef_client_destroy (&c);
    return NULL;
}

static int
s_published (void *arg)
{
    s_pub_t *p = arg;
    return p->failed ? -1 : __atomic_load_n (&p->n, __ATOMIC_ACQUIRE) >= 50;
}

/*  A reply's JSON text into out (size bytes). */
static void
s_json (const ef_reply_t *rep, char *out, size_t size)
{
    ef_buf_t b;
    ef_buf_init (&b);
    ef_proto_reply_json (&b, rep);
    snprintf (out, size, "%.*s", (int)b.len, (const char *)b.data);
    ef_buf_free (&b);
}

/*  cmd on c (with jwt when not NULL); its JSON into out. The code. */
static int
s_call (ef_client_t *c, ef_cmd_t cmd, const char *dir, const char *stream,
        const char *jwt, char *out, size_t size)
{
    ef_request_t req = {0};
    const ef_reply_t *rep = NULL;
    req.cmd = cmd;
    req.dir = ef_str (dir);
    req.stream = ef_str (stream);
    req.auth_jwt = ef_str (jwt);
    int rc = ef_client_call (c, &req, &rep);
    if (out) {
        out[0] = '\0';
        if (rc == 0)
            s_json (rep, out, size);
        else
            snprintf (out, size, "%s", ef_client_error (c));
    }
    return rc;
}

typedef struct {
    ef_client_t *c;
    char text[4096];
} s_status_t;

static int
s_backup_ended (void *arg)
{
    s_status_t *s = arg;
    if (s_call (s->c, EF_CMD_BACKUP_STATUS, NULL, NULL, NULL, s->text,
                sizeof s->text))
        return -1;
    return strstr (s->text, "\"state\":\"running\"") == NULL;
}

typedef struct {
    ef_client_t *c;
    const char *id;
} s_dlq_t;

static int
s_dead (void *arg)
{
    s_dlq_t *d = arg;
    char text[8192];
    if (s_call (d->c, EF_CMD_DLQ_LIST, NULL, "dl", NULL, text, sizeof text))
        return -1;
    return strstr (text, d->id) != NULL;
}

/*  "started_at": an RFC 3339 time in the JSON: back to ms. */
static uint64_t
s_started_at (const char *json)
{
    const char *at = strstr (json, "\"started_at\":\"");
    assert_non_null (at);
    struct tm tm = {0};
    int ms = 0;
    assert_non_null (strptime (at + 14, "%Y-%m-%dT%H:%M:%S", &tm));
    const char *dot = strchr (at + 14, '.');
    if (dot)
        ms = atoi (dot + 1);
    return (uint64_t)timegm (&tm) * 1000 + (uint64_t)ms;
}

static int
s_cmp_id (const void *a, const void *b)
{
    return strcmp (a, b);
}

typedef struct {
    char (*ids)[37];
    int n, cap;
} s_ids_t;

static int
s_collect (void *arg, const ef_event_t *ev)
{
    s_ids_t *s = arg;
    if (s->n < s->cap)
        snprintf (s->ids[s->n++], 37, "%.*s", (int)ev->event_id.len,
                  ev->event_id.ptr);
    return 0;
}

static char *
s_read_file (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    char *text = calloc (1, 4096);
    fread (text, 1, 4095, f);
    fclose (f);
    return text;
}

static void
test_backup_while_publishing_then_restore_and_serve (void **state)
{
    (void)state;
    char dir[256], scratch[256], backup[300], other[300], restored[300];
    char text[8192];
    assert_int_equal (h_tempdir (dir), 0);
    assert_int_equal (h_tempdir (scratch), 0);
    snprintf (backup, sizeof backup, "%s/backup", scratch);
    snprintf (other, sizeof other, "%s/other", scratch);
    snprintf (restored, sizeof restored, "%s/restored", scratch);
    h_broker_t a;
    const char *const flags[] = {"--durability", "os", "--allow-register",
                                 "true", NULL};
    assert_int_equal (h_broker_start (&a, dir, flags), 0);
    ef_client_t *admin = h_client (&a);
    assert_non_null (admin);

    /* a dead letter: a transform whose test fails */
    ef_request_t req = {0};
    req.cmd = EF_CMD_CREATE_STREAM;
    req.name = ef_str ("dl");
    req.pipeline = ef_str ("[{\"type\":\"transform\",\"patch\":[{\"op\":"
                           "\"test\",\"path\":\"/x\",\"value\":1}]}]");
    assert_int_equal (ef_client_call (admin, &req, NULL), 0);
    ef_event_in_t one = {0};
    ef_publish_result_t res[100];
    one.type = ef_str ("t");
    one.payload = ef_str ("{\"x\":2}");
    assert_int_equal (ef_client_publish (admin, "dl", &one, 1, res), 0);
    assert_int_equal (res[0].code, 0);
    char dead_id[37];
    snprintf (dead_id, sizeof dead_id, "%.*s", (int)res[0].event_id.len,
              res[0].event_id.ptr);
    s_dlq_t d = {admin, dead_id};
    assert_int_equal (h_wait_until (s_dead, &d, 10000), 0);

    /* events before, and a group's committed offset */
    s_pub_t p = {.broker = &a};
    p.acks = calloc (S_MAX + S_PRELOAD, sizeof *p.acks);
    assert_non_null (p.acks);
    static char payloads[100][1100];
    ef_event_in_t ev[100];
    for (int b = 0; b < S_PRELOAD / 100; b++) {
        memset (ev, 0, sizeof ev);
        for (int i = 0; i < 100; i++) {
            s_pad (payloads[i], sizeof payloads[i], b * 100 + i);
            ev[i].type = ef_str ("pre");
            ev[i].payload = ef_str (payloads[i]);
        }
        assert_int_equal (ef_client_publish (admin, "default", ev, 100, res),
                          0);
    }
    char committed[37] = "";
    assert_int_equal (ef_client_fetch (admin, "default", "g", NULL, 10, 0, NULL,
                                       NULL, committed),
                      0);
    assert_int_equal (strlen (committed), 36);
    assert_int_equal (
        ef_client_commit (admin, "default", "g", NULL, committed, NULL), 0);

    /* the backup, while the publisher publishes */
    pthread_t th;
    assert_int_equal (pthread_create (&th, NULL, s_publisher, &p), 0);
    assert_int_equal (h_wait_until (s_published, &p, 10000), 0);
    ef_request_t bk = {0};
    bk.cmd = EF_CMD_BACKUP;
    bk.dir = ef_str (backup);
    assert_int_equal (ef_client_send (admin, &bk), 0);
    /* right behind it, on the same connection: one at a time */
    assert_int_equal (
        s_call (admin, EF_CMD_BACKUP, other, NULL, NULL, text, sizeof text),
        EF_ECONFLICT);
    assert_non_null (strstr (text, "a backup is running"));
    s_status_t st = {admin, ""};
    assert_int_equal (h_wait_until (s_backup_ended, &st, 60000), 0);
    p.stop = 1;
    pthread_join (th, NULL);
    assert_false (p.failed);
    assert_non_null (strstr (st.text, "\"state\":\"done\""));
    uint64_t started_at = s_started_at (st.text);
    int before = 0, by = 0; /* acked before the ms it began; up to it */
    for (int i = 0; i < p.n; i++) {
        before += p.acks[i].acked_ms < started_at;
        by += p.acks[i].acked_ms <= started_at;
    }
    print_message ("backup: %s; publisher acks %d before, %d after it began\n",
                   st.text, before, p.n - before);
    assert_true (by >= 50); /* the BACKUP was sent after 50 acks */

    /* who may not */
    assert_int_equal (s_call (admin, EF_CMD_BACKUP, "relative/dir", NULL, NULL,
                              text, sizeof text),
                      EF_EINVAL);
    assert_int_equal (
        s_call (admin, EF_CMD_BACKUP, backup, NULL, NULL, text, sizeof text),
        EF_ECONFLICT);
    assert_non_null (strstr (text, "not an empty directory"));
    req = (ef_request_t){0};
    req.cmd = EF_CMD_REGISTER;
    req.email = ef_str ("owner@self.example");
    req.password = ef_str (S_PW);
    req.org_name = ef_str ("self");
    assert_int_equal (ef_client_call (admin, &req, NULL), 0);
    char jwt[1024];
    const ef_reply_t *rep;
    req = (ef_request_t){0};
    req.cmd = EF_CMD_LOGIN;
    req.email = ef_str ("owner@self.example");
    req.password = ef_str (S_PW);
    assert_int_equal (ef_client_call (admin, &req, &rep), 0);
    h_reply_str (rep, "access_token", NULL, jwt, sizeof jwt);
    assert_int_equal (
        s_call (admin, EF_CMD_BACKUP, other, NULL, jwt, text, sizeof text),
        EF_EFORBIDDEN);
    assert_int_equal (s_call (admin, EF_CMD_BACKUP_STATUS, NULL, NULL, jwt,
                              text, sizeof text),
                      EF_EFORBIDDEN);
    /* the default org's admin user is an admin, not the operator */
    char path[300], pw[128] = "";
    snprintf (path, sizeof path, "%s/initial-admin", dir);
    char *ia = s_read_file (path);
    assert_non_null (ia);
    const char *at = strstr (ia, "password = ");
    assert_non_null (at);
    sscanf (at + 11, "%127s", pw);
    free (ia);
    req = (ef_request_t){0};
    req.cmd = EF_CMD_LOGIN;
    req.email = ef_str ("admin@eventflow.local");
    req.password = ef_str (pw);
    assert_int_equal (ef_client_call (admin, &req, &rep), 0);
    h_reply_str (rep, "access_token", NULL, jwt, sizeof jwt);
    assert_int_equal (
        s_call (admin, EF_CMD_BACKUP, other, NULL, jwt, text, sizeof text),
        EF_EFORBIDDEN);

    /* restore: never into a data dir that holds something */
    char *out = NULL, *err = NULL;
    assert_int_equal (
        h_cli (NULL, NULL, &out, &err,
               (const char *const[]){"admin", "restore", backup, dir, NULL}),
        1);
    assert_non_null (strstr (err, "is not empty"));
    free (out);
    free (err);
    assert_int_equal (h_cli (NULL, NULL, &out, &err,
                             (const char *const[]){"admin", "restore", backup,
                                                   restored, NULL}),
                      0);
    assert_non_null (strstr (out, "the store opens"));
    free (out);
    free (err);

    /* a second broker on the restored dir: its keys, its events */
    h_broker_t b2;
    assert_int_equal (h_broker_start (&b2, restored, flags), 0);
    ef_client_t *c2 = h_client (&b2);
    assert_non_null (c2);
    s_ids_t got = {0};
    got.cap = S_PRELOAD + p.n + 10;
    got.ids = calloc ((size_t)got.cap, sizeof *got.ids);
    assert_non_null (got.ids);
    uint64_t after_seq = 0, next = 0, head = 0;
    do {
        assert_int_equal (ef_client_read (c2, "default", after_seq, 10000,
                                          s_collect, &got, &next, &head),
                          0);
        if (next == after_seq)
            break;
        after_seq = next;
    } while (next < head);
    assert_true (got.n >= S_PRELOAD + before);
    qsort (got.ids, (size_t)got.n, sizeof *got.ids, s_cmp_id);
    for (int i = 0; i < p.n; i++)
        if (p.acks[i].acked_ms < started_at &&
            !bsearch (p.acks[i].id, got.ids, (size_t)got.n, sizeof *got.ids,
                      s_cmp_id))
            fail_msg ("event %s acknowledged at %llu, before the backup "
                      "began (%llu), is not in it",
                      p.acks[i].id, (unsigned long long)p.acks[i].acked_ms,
                      (unsigned long long)started_at);
    assert_int_equal (s_call (c2, EF_CMD_LIST_GROUPS, NULL, "default", NULL,
                              text, sizeof text),
                      0);
    assert_non_null (strstr (text, committed));
    s_dlq_t d2 = {c2, dead_id};
    assert_int_equal (s_dead (&d2), 1);

    free (got.ids);
    free (p.acks);
    ef_client_destroy (&c2);
    ef_client_destroy (&admin);
    assert_int_equal (h_broker_stop (&b2), 0);
    assert_int_equal (h_broker_stop (&a), 0);
    h_rmrf (dir);
    h_rmrf (scratch);
}

static void
test_the_cli_backs_up_with_progress_and_refuses_bad_dirs (void **state)
{
    (void)state;
    char dir[256], scratch[256], backup[300];
    assert_int_equal (h_tempdir (dir), 0);
    assert_int_equal (h_tempdir (scratch), 0);
    snprintf (backup, sizeof backup, "%s/cli-backup", scratch);
    h_broker_t a;
    assert_int_equal (h_broker_start (&a, dir, NULL), 0);
    char *out = NULL, *err = NULL;
    assert_int_equal (
        h_cli (&a, NULL, &out, &err,
               (const char *const[]){"admin", "backup", backup, NULL}),
        0);
    assert_non_null (strstr (out, "\"state\":\"done\""));
    assert_non_null (strstr (err, "backup: done: "));
    free (out);
    free (err);
    /* the same dir again: not empty */
    assert_int_equal (
        h_cli (&a, NULL, &out, &err,
               (const char *const[]){"admin", "backup", backup, NULL}),
        1);
    assert_non_null (strstr (err, "not an empty directory"));
    free (out);
    free (err);
    assert_int_equal (
        h_cli (&a, NULL, &out, &err,
               (const char *const[]){"admin", "backup", "rel/dir", NULL}),
        1);
    assert_non_null (strstr (err, "absolute path"));
    free (out);
    free (err);
    assert_int_equal (h_broker_stop (&a), 0);
    h_rmrf (dir);
    h_rmrf (scratch);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_backup_while_publishing_then_restore_and_serve),
        cmocka_unit_test (
            test_the_cli_backs_up_with_progress_and_refuses_bad_dirs),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
