/*  harness.c: test-only helpers for the integration tests (see
    harness.h). The broker's stderr is read by a thread that copies it to
    a log file and signals when the "ready" line names the endpoint. The
    same thread checks that every line is one JSON log record (so the
    whole suite checks the log writer's escaping): a malformed line fails
    the test that stops that process. */
#include "harness.h"
#include "eventflow/ef_cert.h"

#include <jansson.h>
#include <zmq.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/inotify.h>
#include <poll.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

const char *
h_bin (const char *name)
{
    static char path[512];
    snprintf (path, sizeof path, "%s/%s", EF_BIN_DIR, name);
    return path;
}

int
h_tempdir (char *out)
{
    snprintf (out, 256, "/tmp/ef-test-XXXXXX");
    return mkdtemp (out) ? 0 : -1;
}

void
h_rmrf (const char *path)
{
    char cmd[600];
    if (!path || strncmp (path, "/tmp/", 5) != 0)
        return; /* never outside /tmp */
    if (getenv ("EF_TEST_KEEP")) {
        fprintf (stderr, "kept %s (EF_TEST_KEEP)\n", path);
        return;
    }
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system (cmd) != 0) {
        /* best effort */
    }
}

typedef struct {
    int fd;
    FILE *log;
    char path[300];    /* of the log, for messages */
    const char *field; /* "\"endpoint\":\"" or "\"listen\":\"" */
    char *value;       /* where the ready line's field goes (256 bytes) */
    pid_t pid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int ready;
    int done;
    int bad; /* lines that are not one well-formed JSON log record */
} s_reader_t;

/*  The readers of the processes started and not yet reaped, by pid. */
#define S_READERS 64
static s_reader_t *s_readers[S_READERS];
static pthread_mutex_t s_readers_mu = PTHREAD_MUTEX_INITIALIZER;

/*  Is line one log record: a JSON object (no member twice) with string
    ts, level (debug, info, warn, error), component and msg? */
static int
s_log_record_ok (const char *line)
{
    json_error_t e;
    json_t *j = json_loads (line, JSON_REJECT_DUPLICATES, &e);
    const char *level = json_string_value (json_object_get (j, "level"));
    int ok = json_is_object (j) && json_is_string (json_object_get (j, "ts")) &&
             json_is_string (json_object_get (j, "component")) &&
             json_is_string (json_object_get (j, "msg")) && level &&
             (!strcmp (level, "debug") || !strcmp (level, "info") ||
              !strcmp (level, "warn") || !strcmp (level, "error"));
    json_decref (j);
    return ok;
}

static void *
s_read_stderr (void *arg)
{
    s_reader_t *r = arg;
    FILE *in = fdopen (r->fd, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (in && (n = getline (&line, &cap, in)) > 0) {
        fputs (line, r->log);
        fflush (r->log);
        /* a last line cut short by a kill -9 is not the writer's fault */
        if (line[n - 1] == '\n' && !s_log_record_ok (line)) {
            fprintf (stderr, "harness: not a JSON log record in %s: %.400s",
                     r->path, line);
            r->bad++;
        }
        const char *ep = strstr (line, r->field);
        if (!r->ready && strstr (line, "\"msg\":\"ready\"") && ep) {
            ep += strlen (r->field);
            const char *end = strchr (ep, '"');
            pthread_mutex_lock (&r->mu);
            if (end && (size_t)(end - ep) < 256) {
                memcpy (r->value, ep, (size_t)(end - ep));
                r->value[end - ep] = 0;
                r->ready = 1;
            }
            pthread_cond_broadcast (&r->cv);
            pthread_mutex_unlock (&r->mu);
        }
    }
    free (line);
    if (in)
        fclose (in);
    fclose (r->log);
    pthread_mutex_lock (&r->mu);
    r->done = 1;
    pthread_cond_broadcast (&r->cv);
    pthread_mutex_unlock (&r->mu);
    return NULL;
}

/*  After pid was waited for: wait for its reader to reach the end of the
    log, forget it, and fail the running test if a line was malformed. */
static void
s_reap (pid_t pid)
{
    s_reader_t *r = NULL;
    pthread_mutex_lock (&s_readers_mu);
    for (int i = 0; i < S_READERS; i++)
        if (s_readers[i] && s_readers[i]->pid == pid) {
            r = s_readers[i];
            s_readers[i] = NULL;
            break;
        }
    pthread_mutex_unlock (&s_readers_mu);
    if (!r)
        return;
    pthread_mutex_lock (&r->mu);
    while (!r->done)
        pthread_cond_wait (&r->cv, &r->mu);
    pthread_mutex_unlock (&r->mu);
    int bad = r->bad;
    char path[300];
    snprintf (path, sizeof path, "%s", r->path);
    pthread_mutex_destroy (&r->mu);
    pthread_cond_destroy (&r->cv);
    free (r);
    if (bad)
        fail_msg ("%d lines of %s are not JSON log records", bad, path);
}

/*  Start argv[0] with stderr copied to log_path; wait up to 20 s for its
    ready line and copy its field into value. The pid, or -1. */
static pid_t
s_spawn (const char **argv, const char *log_path, const char *field,
         char *value)
{
    int fds[2];
    if (pipe (fds))
        return -1;
    s_reader_t *r = calloc (1, sizeof *r);
    r->log = fopen (log_path, "a");
    if (!r->log) {
        free (r);
        return -1;
    }
    r->fd = fds[0];
    snprintf (r->path, sizeof r->path, "%s", log_path);
    r->field = field;
    r->value = value;
    pthread_mutex_init (&r->mu, NULL);
    pthread_cond_init (&r->cv, NULL);

    pid_t pid = fork ();
    if (pid == 0) {
        int devnull = open ("/dev/null", O_WRONLY);
        dup2 (devnull, 1); /* the broker prints its first password there */
        dup2 (fds[1], 2);
        close (fds[0]);
        close (fds[1]);
        execv (argv[0], (char *const *)argv);
        _exit (127);
    }
    close (fds[1]);
    if (pid < 0)
        return -1;
    r->pid = pid;
    pthread_mutex_lock (&s_readers_mu);
    for (int i = 0; i < S_READERS; i++)
        if (!s_readers[i]) {
            s_readers[i] = r;
            break;
        }
    pthread_mutex_unlock (&s_readers_mu);
    pthread_t t;
    pthread_create (&t, NULL, s_read_stderr, r);
    pthread_detach (t);

    struct timespec until;
    clock_gettime (CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock (&r->mu);
    while (!r->ready && !r->done)
        if (pthread_cond_timedwait (&r->cv, &r->mu, &until) == ETIMEDOUT)
            break;
    int ok = r->ready;
    pthread_mutex_unlock (&r->mu);
    if (!ok) {
        fprintf (stderr, "%s did not become ready; log: %s\n", argv[0],
                 log_path);
        int status;
        kill (pid, SIGKILL);
        waitpid (pid, &status, 0);
        s_reap (pid);
        return -1;
    }
    return pid;
}

int
h_broker_start (h_broker_t *b, const char *dir, const char *const *extra)
{
    const char *argv[64];
    int argc = 0;
    char bin[512];
    snprintf (b->dir, sizeof b->dir, "%s", dir);
    snprintf (b->log_path, sizeof b->log_path, "%s.broker.log", dir);
    snprintf (bin, sizeof bin, "%s", h_bin ("eventflow-broker"));
    b->endpoint[0] = 0;
    argv[argc++] = bin;
    argv[argc++] = "--data-dir";
    argv[argc++] = b->dir;
    argv[argc++] = "--endpoint";
    argv[argc++] = "tcp://127.0.0.1:*";
    argv[argc++] = "--log-level";
    argv[argc++] = "info";
    for (int i = 0; extra && extra[i] && argc < 62; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    b->pid = s_spawn (argv, b->log_path, "\"endpoint\":\"", b->endpoint);
    return b->pid > 0 ? 0 : -1;
}

/*  A free TCP port on 127.0.0.1 (bound, read, released). */
static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (fd < 0 || bind (fd, (struct sockaddr *)&a, sizeof a) ||
        getsockname (fd, (struct sockaddr *)&a, &len)) {
        if (fd >= 0)
            close (fd);
        return -1;
    }
    close (fd);
    return ntohs (a.sin_port);
}

int
h_bridge_start (h_bridge_t *g, const h_broker_t *b, const char *const *extra)
{
    const char *argv[64];
    int argc = 0;
    char bin[512], listen_at[64];
    for (int attempt = 0; attempt < 5; attempt++) {
        int port = s_free_port ();
        if (port <= 0)
            return -1;
        snprintf (listen_at, sizeof listen_at, "127.0.0.1:%d", port);
        snprintf (g->log_path, sizeof g->log_path, "%s.bridge-%d.log", b->dir,
                  port);
        snprintf (bin, sizeof bin, "%s", h_bin ("eventflow-bridge"));
        argc = 0;
        argv[argc++] = bin;
        argv[argc++] = "--listen";
        argv[argc++] = listen_at;
        argv[argc++] = "--broker";
        argv[argc++] = b->endpoint;
        argv[argc++] = "--data-dir";
        argv[argc++] = b->dir;
        for (int i = 0; extra && extra[i] && argc < 62; i++)
            argv[argc++] = extra[i];
        argv[argc] = NULL;
        g->pid = s_spawn (argv, g->log_path, "\"listen\":\"", g->url);
        if (g->pid > 0) {
            snprintf (g->direct, sizeof g->direct, "%s", g->url);
            return 0;
        }
    }
    return -1;
}

int
h_bridge_stop (h_bridge_t *g)
{
    int status = 0;
    if (g->pid <= 0)
        return -1;
    kill (g->pid, SIGTERM);
    waitpid (g->pid, &status, 0);
    s_reap (g->pid);
    g->pid = 0;
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

/*  Lines of the file at path that contain text. */
static int
s_log_count (const char *path, const char *text)
{
    FILE *fp = fopen (path, "r");
    char line[8192];
    int n = 0;
    while (fp && fgets (line, sizeof line, fp))
        n += strstr (line, text) != NULL;
    if (fp)
        fclose (fp);
    return n;
}

int
h_log_wait (const char *path, const char *text, int count, long timeout_ms)
{
    int fd = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
    if (fd < 0 || inotify_add_watch (fd, path, IN_MODIFY) < 0) {
        if (fd >= 0)
            close (fd);
        return -1;
    }
    struct timespec t0, now;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    int rc = -1;
    for (;;) {
        /* the watch is in place before the look: no write is missed */
        if (s_log_count (path, text) >= count) {
            rc = 0;
            break;
        }
        clock_gettime (CLOCK_MONOTONIC, &now);
        long left = timeout_ms - ((now.tv_sec - t0.tv_sec) * 1000L +
                                  (now.tv_nsec - t0.tv_nsec) / 1000000L);
        struct pollfd p = {fd, POLLIN, 0};
        if (left <= 0 || poll (&p, 1, (int)left) <= 0)
            break;
        char buf[4096];
        while (read (fd, buf, sizeof buf) > 0)
            ;
    }
    close (fd);
    return rc;
}

int
h_broker_stop (h_broker_t *b)
{
    int status = 0;
    if (b->pid <= 0)
        return -1;
    kill (b->pid, SIGTERM);
    waitpid (b->pid, &status, 0);
    s_reap (b->pid);
    b->pid = 0;
    b->exit_status = status;
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

void
h_broker_kill9 (h_broker_t *b)
{
    int status;
    if (b->pid <= 0)
        return;
    kill (b->pid, SIGKILL);
    waitpid (b->pid, &status, 0);
    s_reap (b->pid);
    b->pid = 0;
    b->exit_status = status;
}

ef_client_t *
h_client_new (const h_broker_t *b, const char *cert_path)
{
    ef_client_t *c = ef_client_new (b->endpoint);
    if (!c)
        return NULL;
    ef_client_set_timeout (c, 10000);
    if (cert_path && !*cert_path)
        return c; /* plain */
    char path[512], pub[512];
    ef_cert_t cert, server;
    snprintf (path, sizeof path, "%s/admin.key", b->dir);
    snprintf (pub, sizeof pub, "%s/broker.pub", b->dir);
    if (ef_cert_load (cert_path ? cert_path : path, &cert) ||
        ef_cert_load (pub, &server) ||
        ef_client_set_curve (c, server.public_key, cert.public_key,
                             cert.secret_key)) {
        fprintf (stderr, "cannot load the keys for %s\n", b->dir);
        ef_client_destroy (&c);
    }
    return c;
}

int
h_curve_socket (const h_broker_t *b, void *sock)
{
    char path[512], pub[512];
    ef_cert_t cert, server;
    snprintf (path, sizeof path, "%s/admin.key", b->dir);
    snprintf (pub, sizeof pub, "%s/broker.pub", b->dir);
    if (ef_cert_load (path, &cert) || ef_cert_load (pub, &server))
        return -1;
    return zmq_setsockopt (sock, ZMQ_CURVE_SERVERKEY, server.public_key, 40) ||
           zmq_setsockopt (sock, ZMQ_CURVE_PUBLICKEY, cert.public_key, 40) ||
           zmq_setsockopt (sock, ZMQ_CURVE_SECRETKEY, cert.secret_key, 40);
}

int
h_clientkey_add (const h_broker_t *b, ef_client_t *admin, const ef_cert_t *cert,
                 const char *role, const char *name)
{
    char pub[512], org[64], proof[EF_CERT_PROOF_LEN + 1];
    ef_cert_t server;
    ef_request_t req;
    const ef_reply_t *rep;
    snprintf (pub, sizeof pub, "%s/broker.pub", b->dir);
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_WHOAMI;
    int rc = ef_cert_load (pub, &server);
    if (rc || (rc = ef_client_call (admin, &req, &rep)))
        return rc;
    h_reply_str (rep, "principal", "org_id", org, sizeof org);
    if ((rc = ef_cert_proof (cert->secret_key, server.public_key, org, proof)))
        return rc;
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_CLIENTKEY_ADD;
    req.public_key = ef_str (cert->public_key);
    req.role = ef_str (role);
    req.name = ef_str (name);
    req.proof = ef_str (proof);
    return ef_client_call (admin, &req, NULL);
}

void
h_bridge_kill9 (h_bridge_t *g)
{
    int status;
    if (g->pid <= 0)
        return;
    kill (g->pid, SIGKILL);
    waitpid (g->pid, &status, 0);
    s_reap (g->pid);
    g->pid = 0;
}

int
h_free_port (void)
{
    return s_free_port ();
}

ef_client_t *
h_client (const h_broker_t *b)
{
    ef_client_t *c = h_client_new (b, NULL);
    if (!c)
        return NULL;
    if (ef_client_connect (c)) {
        fprintf (stderr, "connect: %s\n", ef_client_error (c));
        ef_client_destroy (&c);
    }
    return c;
}

static char *
s_slurp (int fd)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc (cap);
    ssize_t n;
    while ((n = read (fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (cap - len < 2)
            buf = realloc (buf, cap *= 2);
    }
    buf[len] = 0;
    return buf;
}

typedef struct {
    int fd;
    char *text;
} s_slurp_t;

static void *
s_slurp_thread (void *arg)
{
    s_slurp_t *s = arg;
    s->text = s_slurp (s->fd);
    return NULL;
}

typedef struct {
    int fd;
    const char *text;
} s_feed_t;

static void *
s_feed_thread (void *arg)
{
    s_feed_t *f = arg;
    size_t len = f->text ? strlen (f->text) : 0, off = 0;
    while (off < len) {
        ssize_t n = write (f->fd, f->text + off, len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    close (f->fd);
    return NULL;
}

void
h_cli_exec (const h_broker_t *b, const char *const *env,
            const char *const *args, int in[2], int o[2], int e[2])
{
    const char *argv[64];
    int argc = 0;
    char bin[512];
    snprintf (bin, sizeof bin, "%s", h_bin ("eventflow"));
    argv[argc++] = bin;
    for (int i = 0; args[i] && argc < 63; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    if (b) {
        setenv ("EVENTFLOW_BROKER_ENDPOINT", b->endpoint, 1);
        setenv ("EVENTFLOW_DATA_DIR", b->dir, 1);
    }
    setenv ("EVENTFLOW_TIMEOUT", "3000", 1);
    for (int i = 0; env && env[i]; i++)
        putenv ((char *)env[i]);
    dup2 (in[0], 0);
    dup2 (o[1], 1);
    dup2 (e[1], 2);
    close (in[0]), close (in[1]), close (o[0]), close (o[1]);
    close (e[0]), close (e[1]);
    execv (bin, (char *const *)argv);
    _exit (127);
}

int
h_cli (const h_broker_t *b, const char *stdin_text, char **out, char **err,
       const char *const *args)
{
    int in[2], o[2], e[2];
    if (pipe (in) || pipe (o) || pipe (e))
        return -1;
    signal (SIGPIPE, SIG_IGN);
    pid_t pid = fork ();
    if (pid == 0)
        h_cli_exec (b, NULL, args, in, o, e);
    close (in[0]), close (o[1]), close (e[1]);
    s_feed_t feed = {in[1], stdin_text};
    s_slurp_t so = {o[0], NULL}, se = {e[0], NULL};
    pthread_t tf, to, te;
    pthread_create (&tf, NULL, s_feed_thread, &feed);
    pthread_create (&to, NULL, s_slurp_thread, &so);
    pthread_create (&te, NULL, s_slurp_thread, &se);
    pthread_join (tf, NULL);
    pthread_join (to, NULL);
    pthread_join (te, NULL);
    close (o[0]), close (e[0]);
    int status;
    waitpid (pid, &status, 0);
    if (out)
        *out = so.text;
    else
        free (so.text);
    if (err)
        *err = se.text;
    else
        free (se.text);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

void
h_reply_str (const ef_reply_t *rep, const char *key, const char *sub, char *out,
             size_t size)
{
    ef_mpr_t r;
    ef_str_t s = EF_STR_NULL;
    out[0] = 0;
    if (ef_proto_reply_find (rep, key, &r))
        return;
    if (sub) {
        uint32_t n;
        if (ef_mpr_map (&r, &n))
            return;
        for (uint32_t i = 0; i < n; i++) {
            ef_str_t k;
            ef_mpr_str (&r, &k);
            if (ef_str_eq (k, sub)) {
                ef_mpr_str (&r, &s);
                break;
            }
            ef_mpr_skip (&r, 16);
        }
    } else
        ef_mpr_str (&r, &s);
    snprintf (out, size, "%.*s", (int)s.len, s.ptr ? s.ptr : "");
}

int
h_wait_until (h_pred_fn *pred, void *arg, long deadline_ms)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    int64_t until =
        (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 + deadline_ms;
    int pause_ms = 1;
    for (;;) {
        int rc = pred (arg);
        if (rc)
            return rc > 0 ? 0 : -1;
        clock_gettime (CLOCK_MONOTONIC, &now);
        int64_t left =
            until - ((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
        if (left <= 0)
            return -1;
        poll (NULL, 0, (int)(pause_ms < left ? pause_ms : left));
        if (pause_ms < 20)
            pause_ms *= 2;
    }
}

uint64_t
h_requests (ef_client_t *admin)
{
    ef_stats_t stats;
    if (ef_client_stats (admin, &stats))
        return 0;
    return stats.requests;
}

typedef struct {
    ef_client_t *admin;
    uint64_t target; /* base + n; grows by one per STATS of ours */
} s_req_wait_t;

static int
s_requests_reached (void *arg)
{
    s_req_wait_t *w = arg;
    ef_stats_t stats;
    if (ef_client_stats (w->admin, &stats))
        return -1;
    w->target++; /* this STATS counted too */
    return stats.requests >= w->target;
}

int
h_wait_requests (ef_client_t *admin, uint64_t base, uint64_t n,
                 long deadline_ms)
{
    s_req_wait_t w = {admin, base + n};
    return h_wait_until (s_requests_reached, &w, deadline_ms);
}

/*  Register a user of a new org and log in (h_new_org). */
void
h_new_org (ef_client_t *c, char *jwt, size_t size, const char *email,
           const char *org)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_REGISTER;
    req.email = ef_str (email);
    req.password = ef_str ("correct horse battery");
    req.org_name = ef_str (org);
    assert_int_equal (ef_client_call (c, &req, &rep), 0);
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_LOGIN;
    req.email = ef_str (email);
    req.password = ef_str ("correct horse battery");
    assert_int_equal (ef_client_call (c, &req, &rep), 0);
    ef_mpr_t r;
    ef_str_t tok;
    assert_int_equal (ef_proto_reply_find (rep, "access_token", &r), 0);
    assert_int_equal (ef_mpr_str (&r, &tok), 0);
    assert_true (tok.len < size);
    memcpy (jwt, tok.ptr, tok.len);
    jwt[tok.len] = 0;
}

static void *
s_worker_main (void *arg)
{
    h_worker_t *w = arg;
    ef_client_t *c = h_client (w->broker);
    ef_worker_t *wk = c ? ef_worker_new (c, w->service, 1) : NULL;
    if (!wk || ef_worker_start (wk)) {
        w->ready = -1;
        goto done;
    }
    w->ready = 1;
    while (!w->stop)
        if (ef_worker_poll (wk, 100, w->fn, w->arg) < 0)
            break;
done:
    ef_worker_destroy (&wk);
    ef_client_destroy (&c);
    return NULL;
}

int
h_worker_start (h_worker_t *w)
{
    w->stop = 0;
    w->ready = 0;
    return pthread_create (&w->thread, NULL, s_worker_main, w) ? -1 : 0;
}

void
h_worker_stop (h_worker_t *w)
{
    w->stop = 1;
    pthread_join (w->thread, NULL);
}
