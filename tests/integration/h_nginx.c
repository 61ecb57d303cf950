/*  h_nginx.c: nginx in front of the test's bridges (see h_nginx.h). The
    shipped deploy/nginx/eventflow.conf is read, each string the test
    replaces is checked to occur exactly once (so the shipped file and
    the test cannot drift apart unnoticed), and a main config of the
    test's own (pid, logs, temporary paths, all under the prefix)
    includes the result. */
#define _GNU_SOURCE
#include "h_nginx.h"
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*  The whole file at path, NUL-terminated and malloc'ed, or NULL. */
static char *
s_slurp (const char *path)
{
    FILE *f = fopen (path, "r");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, len = 0, n;
    do {
        if (len + 4096 + 1 > cap) {
            cap = cap * 2 + 8192;
            buf = realloc (buf, cap);
        }
        n = fread (buf + len, 1, cap - len - 1, f);
        len += n;
    } while (n > 0);
    fclose (f);
    buf[len] = 0;
    return buf;
}

/*  Replace the one occurrence of from in *text by to: 0, or -1 (said on
    stderr) when from occurs not exactly once. */
static int
s_replace_once (char **text, const char *from, const char *to)
{
    char *at = strstr (*text, from);
    if (!at || strstr (at + 1, from)) {
        fprintf (stderr,
                 "h_nginx: deploy/nginx/eventflow.conf should hold \"%s\" "
                 "exactly once\n",
                 from);
        return -1;
    }
    size_t head = (size_t)(at - *text), fl = strlen (from), tl = strlen (to);
    size_t tail = strlen (at + fl);
    char *out = malloc (head + tl + tail + 1);
    memcpy (out, *text, head);
    memcpy (out + head, to, tl);
    memcpy (out + head + tl, at + fl, tail + 1);
    free (*text);
    *text = out;
    return 0;
}

static int
s_write (const char *path, const char *text)
{
    FILE *f = fopen (path, "w");
    if (!f)
        return -1;
    int rc = fputs (text, f) < 0 ? -1 : 0;
    return fclose (f) || rc ? -1 : 0;
}

/*  Does something accept connections on 127.0.0.1:port? */
static int
s_accepts (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons ((uint16_t)port);
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    int ok = fd >= 0 && connect (fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close (fd);
    return ok;
}

typedef struct {
    pid_t pid;
    int port, tls_port;
    int exited;
} s_ready_t;

/*  h_wait_until's predicate: both ports accept (1), nginx exited (-1). */
static int
s_ready (void *arg)
{
    s_ready_t *r = arg;
    int status;
    if (waitpid (r->pid, &status, WNOHANG) == r->pid) {
        r->exited = 1;
        return -1;
    }
    return s_accepts (r->port) && (!r->tls_port || s_accepts (r->tls_port));
}

/*  Root runs nginx as nobody: everything under its prefix becomes
    nobody's. */
static void
s_give (const char *path, const struct passwd *pw)
{
    if (pw && chown (path, pw->pw_uid, pw->pw_gid)) {
        /* nginx says what it cannot read */
    }
}

/*  The shipped config made the test's: 0 or -1. */
static int
s_config (h_nginx_t *n, const char *up1, const char *up2, const char *cert,
          const char *key, int port, int tls_port)
{
    char *text = s_slurp (EF_DEPLOY_DIR "/nginx/eventflow.conf");
    if (!text) {
        fprintf (stderr, "h_nginx: cannot read %s\n",
                 EF_DEPLOY_DIR "/nginx/eventflow.conf");
        return -1;
    }
    char listen[64], tls_listen[64], logs[300];
    snprintf (listen, sizeof listen, "listen 127.0.0.1:%d;", port);
    snprintf (tls_listen, sizeof tls_listen, "listen 127.0.0.1:%d ssl;",
              tls_port);
    snprintf (logs, sizeof logs, "%s/", n->dir);
    int rc = s_replace_once (&text, "127.0.0.1:8081 ", up1) ||
             s_replace_once (&text, "127.0.0.1:8082 ", up2) ||
             s_replace_once (&text, "listen 80;", listen) ||
             s_replace_once (&text, "/var/log/nginx/", logs);
    if (!rc && cert)
        rc = s_replace_once (&text, "listen 443 ssl;", tls_listen) ||
             s_replace_once (&text, "/etc/eventflow/tls/eventflow.crt", cert) ||
             s_replace_once (&text, "/etc/eventflow/tls/eventflow.key", key);
    char path[400];
    snprintf (path, sizeof path, "%s/eventflow.conf", n->dir);
    if (!rc)
        rc = s_write (path, text);
    free (text);
    if (rc)
        return -1;

    /* the main config: everything nginx writes stays under the prefix */
    char main_conf[4096];
    snprintf (main_conf, sizeof main_conf,
              "worker_processes 1;\n"
              "pid %1$s/nginx.pid;\n"
              "error_log %1$s/error.log info;\n"
              "events { worker_connections 256; }\n"
              "http {\n"
              "    client_body_temp_path %1$s/body;\n"
              "    proxy_temp_path %1$s/proxy;\n"
              "    fastcgi_temp_path %1$s/fastcgi;\n"
              "    uwsgi_temp_path %1$s/uwsgi;\n"
              "    scgi_temp_path %1$s/scgi;\n"
              "    access_log off;\n"
              "    include %1$s/eventflow.conf;\n"
              "}\n",
              n->dir);
    snprintf (path, sizeof path, "%s/nginx.conf", n->dir);
    return s_write (path, main_conf);
}

/*  "http://127.0.0.1:P" or "127.0.0.1:P" as "127.0.0.1:P " (the trailing
    space keeps the shipped line's parameters). */
static void
s_upstream (char *out, size_t size, const char *url)
{
    const char *hp = strstr (url, "://");
    snprintf (out, size, "%s ", hp ? hp + 3 : url);
}

int
h_nginx_start (h_nginx_t *n, const char *up1, const char *up2, const char *cert,
               const char *key)
{
    memset (n, 0, sizeof *n);
    if (h_tempdir (n->dir))
        return -1;
    struct passwd *pw = geteuid () == 0 ? getpwnam ("nobody") : NULL;
    s_give (n->dir, pw);
    /* the certificate and key go under the prefix, nginx's own */
    char tls_crt[300], tls_key[300];
    snprintf (tls_crt, sizeof tls_crt, "%s/tls.crt", n->dir);
    snprintf (tls_key, sizeof tls_key, "%s/tls.key", n->dir);
    if (cert) {
        char *c = s_slurp (cert), *k = s_slurp (key);
        int rc = !c || !k || s_write (tls_crt, c) || s_write (tls_key, k);
        free (c);
        free (k);
        if (rc)
            return -1;
        s_give (tls_crt, pw);
        s_give (tls_key, pw);
        cert = tls_crt;
        key = tls_key;
    }
    char u1[80], u2[80];
    s_upstream (u1, sizeof u1, up1);
    s_upstream (u2, sizeof u2, up2);
    snprintf (n->access_log, sizeof n->access_log, "%s/eventflow.access.log",
              n->dir);
    snprintf (n->error_log, sizeof n->error_log, "%s/error.log", n->dir);

    /* a port free a moment ago may be taken when nginx binds: then nginx
       exits, and another pair is tried */
    for (int attempt = 0; attempt < 5; attempt++) {
        s_ready_t r = {0};
        r.port = h_free_port ();
        r.tls_port = cert ? h_free_port () : 0;
        if (r.port <= 0 || (cert && r.tls_port <= 0) ||
            s_config (n, u1, u2, cert, key, r.port, r.tls_port))
            return -1;
        char conf[400], out[400];
        snprintf (conf, sizeof conf, "%s/nginx.conf", n->dir);
        snprintf (out, sizeof out, "%s/stderr.log", n->dir);
        pid_t pid = fork ();
        if (pid == 0) {
            int fd = open (out, O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) {
                dup2 (fd, 1);
                dup2 (fd, 2);
                close (fd);
            }
            if (pw && (setgroups (0, NULL) || setgid (pw->pw_gid) ||
                       setuid (pw->pw_uid)))
                _exit (126);
            execl (EF_NGINX, EF_NGINX, "-p", n->dir, "-c", conf, "-e",
                   n->error_log, "-g", "daemon off;", (char *)NULL);
            _exit (127);
        }
        if (pid < 0)
            return -1;
        r.pid = pid;
        if (h_wait_until (s_ready, &r, 20000) == 0) {
            n->pid = pid;
            snprintf (n->url, sizeof n->url, "http://127.0.0.1:%d", r.port);
            if (cert)
                snprintf (n->tls_url, sizeof n->tls_url, "https://127.0.0.1:%d",
                          r.tls_port);
            return 0;
        }
        if (!r.exited) {
            kill (pid, SIGKILL);
            waitpid (pid, NULL, 0);
        }
        char *said = s_slurp (out);
        fprintf (stderr, "h_nginx: %s did not start (attempt %d): %s\n",
                 EF_NGINX, attempt + 1, said ? said : "");
        free (said);
        char *err = s_slurp (n->error_log);
        if (err && strstr (err, "emerg") && !strstr (err, "Address already"))
            attempt = 5; /* a config it refuses: another port will not do */
        free (err);
    }
    return -1;
}

int
h_nginx_stop (h_nginx_t *n)
{
    int status = 0;
    if (n->pid <= 0)
        return -1;
    kill (n->pid, SIGTERM);
    waitpid (n->pid, &status, 0);
    n->pid = 0;
    h_rmrf (n->dir);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

int
h_nginx_log_count (const h_nginx_t *n, const char *text)
{
    FILE *fp = fopen (n->access_log, "r");
    char line[4096];
    int count = 0;
    while (fp && fgets (line, sizeof line, fp))
        count += strstr (line, text) != NULL;
    if (fp)
        fclose (fp);
    return count;
}

int
h_nginx_self_signed (const char *dir, const char *name)
{
    char cmd[1200];
    snprintf (cmd, sizeof cmd,
              "openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
              "-subj /CN=localhost "
              "-addext subjectAltName=IP:127.0.0.1,DNS:localhost "
              "-keyout '%1$s/%2$s.key' -out '%1$s/%2$s.crt' 2>'%1$s/%2$s.log'",
              dir, name);
    return system (cmd) == 0 ? 0 : -1;
}
