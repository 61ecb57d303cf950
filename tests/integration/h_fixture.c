/*  h_fixture.c: the HTTP bridge tests' shared set-up and tear-down (see
    h_fixture.h). */
#include "h_fixture.h"
#include "h_http.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

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

int
h_fixture_setup (const h_fixture_t *f)
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
h_fixture_teardown (const h_fixture_t *f)
{
    /* a bridge that crashed during the tests shows here */
    int rc = s_bridge_stop (f->bridge);
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
