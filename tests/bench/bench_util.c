/*  bench_util.c: see bench_util.h. */
#include "bench_util.h"
#include "eventflow/ef_cert.h"
#include "eventflow/ef_time.h"

#include <pthread.h>
#include <sys/prctl.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static char s_jwt[2048]; /* the admin's access token, plain mode */

/*  Log in as the bootstrap admin (dir/initial-admin) once per process. */
static int
s_login (ef_client_t *c, const char *dir)
{
    char file[512], line[256], pw[128] = "";
    snprintf (file, sizeof file, "%s/initial-admin", dir);
    FILE *f = fopen (file, "r");
    while (f && fgets (line, sizeof line, f))
        sscanf (line, "password = %127s", pw);
    if (f)
        fclose (f);
    ef_request_t req = {0};
    const ef_reply_t *rep;
    ef_mpr_t r;
    ef_str_t tok;
    req.cmd = EF_CMD_LOGIN;
    req.email = ef_str ("admin@eventflow.local");
    req.password = ef_str (pw);
    if (!pw[0] || ef_client_call (c, &req, &rep) ||
        ef_proto_reply_find (rep, "access_token", &r) ||
        ef_mpr_str (&r, &tok) || tok.len >= sizeof s_jwt) {
        fprintf (stderr, "cannot log in as the admin of %s\n", dir);
        return -1;
    }
    memcpy (s_jwt, tok.ptr, tok.len);
    s_jwt[tok.len] = 0;
    return 0;
}

ef_client_t *
bench_connect (const char *dir, const char *endpoint, int timeout_ms)
{
    const char *curve = getenv ("EF_BENCH_CURVE");
    int plain = curve && strcmp (curve, "off") == 0;
    char path[512];
    ef_cert_t me, srv;
    ef_client_t *c = ef_client_new (endpoint);
    if (!c)
        return NULL;
    ef_client_set_timeout (c, timeout_ms);
    if (!plain) {
        snprintf (path, sizeof path, "%s/admin.key", dir);
        if (ef_cert_load (path, &me)) {
            fprintf (stderr, "cannot read %s\n", path);
            ef_client_destroy (&c);
            return NULL;
        }
        snprintf (path, sizeof path, "%s/broker.pub", dir);
        if (ef_cert_load (path, &srv)) {
            fprintf (stderr, "cannot read %s\n", path);
            ef_client_destroy (&c);
            return NULL;
        }
        ef_client_set_curve (c, srv.public_key, me.public_key, me.secret_key);
    }
    if (ef_client_connect (c)) {
        fprintf (stderr, "connect: %s\n", ef_client_error (c));
        ef_client_destroy (&c);
        return NULL;
    }
    if (plain) {
        pthread_mutex_lock (&s_lock);
        int rc = s_jwt[0] ? 0 : s_login (c, dir);
        pthread_mutex_unlock (&s_lock);
        if (rc) {
            ef_client_destroy (&c);
            return NULL;
        }
        ef_client_set_jwt (c, s_jwt);
    }
    return c;
}

int
bench_publish_paced (ef_client_t *c, const char *stream, const char *type,
                     uint64_t rate, uint64_t total)
{
    prctl (PR_SET_TIMERSLACK, 1UL); /* wake on time, not up to 50 µs late */
    ef_client_set_max_inflight (c, 10000);
    char payload[32];
    uint64_t t0 = ef_time_mono_ns ();
    for (uint64_t i = 0; i < total; i++) {
        uint64_t due = t0 + i * 1000000000ull / rate;
        uint64_t now = ef_time_mono_ns ();
        if (now < due) {
            struct timespec ts = {(time_t)((due - now) / 1000000000ull),
                                  (long)((due - now) % 1000000000ull)};
            nanosleep (&ts, NULL);
        }
        ef_client_poll (c, 0); /* take the acks in */
        ef_event_in_t ev = {0};
        snprintf (payload, sizeof payload, "%llu",
                  (unsigned long long)ef_time_mono_ns ());
        ev.type = ef_str (type);
        ev.payload = ef_str (payload);
        if (ef_client_publish_async (c, stream, &ev, 1, NULL, NULL))
            return -1;
    }
    ef_client_flush (c, 30000);
    return 0;
}
