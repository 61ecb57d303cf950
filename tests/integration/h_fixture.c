/*  h_fixture.c: the HTTP bridge tests' shared set-up and tear-down (see
    h_fixture.h). */
#include "h_fixture.h"
#include "h_http.h"
#include "h_nginx.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* nginx in front (EF_TEST_NGINX), one fixture per test program: one
   nginx over both bridges when they run alike, one each when not */
static h_nginx_t s_nginx[2];
static char s_tls[256];
static int s_proxied; /* requests nginx passed on, over the program */

/*  At exit of a program whose fixtures had nginx in front: some of its
    requests went through nginx (its access logs have them), or the
    nginx_* run proved nothing and fails. (A test of the bridge's own
    sockets talks to it directly; the program's other tests do not.) */
static void
s_proxied_check (void)
{
    if (s_proxied > 0)
        return;
    fprintf (stderr, "EF_TEST_NGINX: no request went through nginx\n");
    _exit (1);
}

/*  1 if the two NULL-terminated flag lists (either may be NULL) match. */
static int
s_same_flags (const char *const *a, const char *const *b)
{
    while (a && *a && b && *b && strcmp (*a, *b) == 0)
        a++, b++;
    return (!a || !*a) && (!b || !*b);
}

/*  Put the shipped nginx config in front of up1 and up2 and point their
    urls at it. */
static int
s_nginx_front (h_nginx_t *n, h_bridge_t *up1, h_bridge_t *up2)
{
    char cert[300], key[300];
    if (!s_tls[0] &&
        (h_tempdir (s_tls) || h_nginx_self_signed (s_tls, "eventflow")))
        return -1;
    snprintf (cert, sizeof cert, "%s/eventflow.crt", s_tls);
    snprintf (key, sizeof key, "%s/eventflow.key", s_tls);
    if (h_nginx_start (n, up1->direct, up2->direct, cert, key))
        return -1;
    static int checked;
    if (!checked++)
        atexit (s_proxied_check);
    snprintf (up1->url, sizeof up1->url, "%s", n->url);
    snprintf (up2->url, sizeof up2->url, "%s", n->url);
    return 0;
}

/*  nginx in front of f's bridges. */
static int
s_nginx_fronts (const h_fixture_t *f)
{
    if (!f->bridge2)
        return s_nginx_front (&s_nginx[0], f->bridge, f->bridge);
    if (s_same_flags (f->bridge_flags, f->bridge2_flags))
        return s_nginx_front (&s_nginx[0], f->bridge, f->bridge2);
    return s_nginx_front (&s_nginx[0], f->bridge, f->bridge) ||
           s_nginx_front (&s_nginx[1], f->bridge2, f->bridge2);
}

/*  The initial admin's email and password from dir/initial-admin. */
static int
s_initial_admin (const char *dir, char *email, char *pw)
{
    char path[512], line[256];
    snprintf (path, sizeof path, "%s/initial-admin", dir);
    FILE *f = fopen (path, "r");
    if (!f)
        return -1;
    while (fgets (line, sizeof line, f)) {
        if (email)
            sscanf (line, "email = %127s", email);
        if (pw)
            sscanf (line, "password = %127s", pw);
    }
    fclose (f);
    return pw && !pw[0] ? -1 : 0;
}

static int
s_setup (const h_fixture_t *f)
{
    signal (SIGPIPE, SIG_IGN);
    curl_global_init (CURL_GLOBAL_DEFAULT);
    if (h_tempdir (f->dir) ||
        h_broker_start (f->broker, f->dir, f->broker_flags))
        return -1;
    *f->native = h_client (f->broker);
    if (!*f->native)
        return -1;
    if ((f->admin_key && h_http_api_key (*f->native, "admin", f->admin_key)) ||
        (f->producer_key &&
         h_http_api_key (*f->native, "producer", f->producer_key)) ||
        (f->consumer_key &&
         h_http_api_key (*f->native, "consumer", f->consumer_key)))
        return -1;
    if ((f->admin_email || f->admin_pw) &&
        s_initial_admin (f->dir, f->admin_email, f->admin_pw))
        return -1;
    if (f->gateway) {
        char gw[512];
        snprintf (gw, sizeof gw, "%s/gateway.key", f->dir);
        *f->gateway = h_client_new (f->broker, gw);
        if (!*f->gateway || ef_client_connect (*f->gateway))
            return -1;
    }
    if (f->bridge && h_bridge_start (f->bridge, f->broker, f->bridge_flags))
        return -1;
    if (f->bridge2 && h_bridge_start (f->bridge2, f->broker, f->bridge2_flags))
        return -1;
    if (f->bridge && getenv ("EF_TEST_NGINX") && s_nginx_fronts (f))
        return -1;
    return 0;
}

static int
s_bridge_stop (h_bridge_t *g)
{
    if (!g || g->pid <= 0)
        return 0;
    int code = h_bridge_stop (g);
    if (code == 0)
        return 0;
    fprintf (stderr, "bridge exit code %d; log: %s\n", code, g->log_path);
    return -1;
}

int
h_fixture_setup (const h_fixture_t *f)
{
    if (s_setup (f) == 0)
        return 0;
    /* cmocka runs no teardown after a failed setup: stop what started */
    h_fixture_teardown (f);
    return -1;
}

int
h_fixture_teardown (const h_fixture_t *f)
{
    int rc = 0;
    for (int i = 0; i < 2; i++)
        if (s_nginx[i].pid > 0)
            s_proxied += h_nginx_log_count (&s_nginx[i], "upstream=");
    for (int i = 0; i < 2; i++)
        if (s_nginx[i].pid > 0 && h_nginx_stop (&s_nginx[i]) != 0) {
            fprintf (stderr, "nginx did not stop cleanly\n");
            rc = -1;
        }
    if (s_tls[0])
        h_rmrf (s_tls);
    s_tls[0] = 0;
    /* a bridge that crashed during the tests shows here */
    if (s_bridge_stop (f->bridge))
        rc = -1;
    if (s_bridge_stop (f->bridge2))
        rc = -1;
    if (f->gateway)
        ef_client_destroy (f->gateway);
    ef_client_destroy (f->native);
    if (f->broker->pid > 0)
        h_broker_stop (f->broker);
    if (rc == 0)
        h_rmrf (f->dir);
    curl_global_cleanup ();
    return rc;
}
