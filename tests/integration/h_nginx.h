/*  h_nginx.h: a real nginx (Debian's) in front of bridges, run the way the
    tests run everything: an unprivileged process of the test's own, with
    its prefix, main config, pid file, logs and temporary files under a
    temporary directory, listening on 127.0.0.1 only (never the system's
    service). What it serves is the shipped deploy/nginx/eventflow.conf
    itself, with the test's ports, log directory and certificate put in
    place of the shipped ones. Test-only code. */
#ifndef EF_TEST_H_NGINX_H
#define EF_TEST_H_NGINX_H

#include <sys/types.h>

typedef struct {
    pid_t pid;
    char dir[256];        /* its prefix: configs, logs, temp files, pid */
    char url[64];         /* "http://127.0.0.1:PORT" */
    char tls_url[64];     /* "https://127.0.0.1:PORT" */
    char access_log[300]; /* the shipped access_log line's file */
    char error_log[300];
} h_nginx_t;

/*  Start nginx (`-p DIR -c FILE -g 'daemon off;'`) on the shipped config
    with its two upstream servers replaced by up1 and up2 ("127.0.0.1:PORT"
    each, or "http://127.0.0.1:PORT": the scheme is dropped), its listen
    lines by free loopback ports, and its certificate and key by cert and
    key (files readable by the test). When the test runs as root, nginx
    runs as nobody. Waits until it accepts connections on both ports.
    0, or -1 (why, on stderr; a shipped string the test looks for and
    does not find is named). */
int h_nginx_start (h_nginx_t *n, const char *up1, const char *up2,
                   const char *cert, const char *key);

/*  SIGTERM, wait, remove its directory (kept with EF_TEST_KEEP). The
    exit code, or -1. */
int h_nginx_stop (h_nginx_t *n);

/*  How many lines of its access log contain text. */
int h_nginx_log_count (const h_nginx_t *n, const char *text);

/*  A self-signed certificate for 127.0.0.1 and localhost (in its subject
    alternative names) made with the openssl command into dir/name.crt and
    dir/name.key. 0 or -1. */
int h_nginx_self_signed (const char *dir, const char *name);

#endif
