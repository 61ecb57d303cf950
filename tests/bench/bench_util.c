/*  bench_util.c: see bench_util.h. */
#include "bench_util.h"
#include "eventflow/ef_cert.h"

#include <stdio.h>

ef_client_t *
bench_connect (const char *dir, const char *endpoint, int timeout_ms)
{
    char path[512];
    ef_cert_t me, srv;
    snprintf (path, sizeof path, "%s/admin.key", dir);
    if (ef_cert_load (path, &me)) {
        fprintf (stderr, "cannot read %s\n", path);
        return NULL;
    }
    snprintf (path, sizeof path, "%s/broker.pub", dir);
    if (ef_cert_load (path, &srv)) {
        fprintf (stderr, "cannot read %s\n", path);
        return NULL;
    }
    ef_client_t *c = ef_client_new (endpoint);
    if (!c)
        return NULL;
    ef_client_set_curve (c, srv.public_key, me.public_key, me.secret_key);
    ef_client_set_timeout (c, timeout_ms);
    if (ef_client_connect (c)) {
        fprintf (stderr, "connect: %s\n", ef_client_error (c));
        ef_client_destroy (&c);
    }
    return c;
}
