/*  bench_login: a login burst against a broker, the way the HTTP bridge
    sends them (the gateway's CurveZMQ key, LOGIN per request): C clients
    log in as fast as they can for S seconds and the rate is printed. A
    benchmark tool, run on purpose by tests/bench/login.sh.
    usage: bench_login DATA_DIR ENDPOINT EMAIL PASSWORD [CLIENTS] [SECONDS] */
#include "eventflow/ef_cert.h"
#include "eventflow/ef_client.h"
#include "eventflow/ef_time.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    const char *dir, *endpoint, *email, *password;
    int seconds;
    uint64_t ok, failed;
} s_job_t;

static void *
s_run (void *arg)
{
    s_job_t *j = arg;
    char path[512];
    ef_cert_t gw, server;
    snprintf (path, sizeof path, "%s/gateway.key", j->dir);
    if (ef_cert_load (path, &gw))
        return NULL;
    snprintf (path, sizeof path, "%s/broker.pub", j->dir);
    if (ef_cert_load (path, &server))
        return NULL;
    ef_client_t *c = ef_client_new (j->endpoint);
    ef_client_set_curve (c, server.public_key, gw.public_key, gw.secret_key);
    ef_client_set_timeout (c, 30000);
    if (ef_client_connect (c)) {
        fprintf (stderr, "connect: %s\n", ef_client_error (c));
        ef_client_destroy (&c);
        return NULL;
    }
    int64_t end = ef_time_mono_ms () + j->seconds * 1000;
    while (ef_time_mono_ms () < end) {
        ef_request_t req = {0};
        req.cmd = EF_CMD_LOGIN;
        req.email = ef_str (j->email);
        req.password = ef_str (j->password);
        if (ef_client_call (c, &req, NULL) == 0)
            j->ok++;
        else
            j->failed++;
    }
    ef_client_destroy (&c);
    return NULL;
}

int
main (int argc, char **argv)
{
    if (argc < 5) {
        fprintf (stderr, "usage: bench_login DATA_DIR ENDPOINT EMAIL PASSWORD "
                         "[CLIENTS] [SECONDS]\n");
        return 2;
    }
    int clients = argc > 5 ? atoi (argv[5]) : 4;
    int seconds = argc > 6 ? atoi (argv[6]) : 5;
    if (clients < 1 || clients > 64 || seconds < 1)
        return 2;
    s_job_t jobs[64];
    pthread_t t[64];
    int64_t start = ef_time_mono_ms ();
    for (int i = 0; i < clients; i++) {
        jobs[i] = (s_job_t){argv[1], argv[2], argv[3], argv[4], seconds, 0, 0};
        pthread_create (&t[i], NULL, s_run, &jobs[i]);
    }
    uint64_t ok = 0, failed = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join (t[i], NULL);
        ok += jobs[i].ok;
        failed += jobs[i].failed;
    }
    double secs = (ef_time_mono_ms () - start) / 1000.0;
    printf (
        "logins_per_s=%.1f logins=%llu failed=%llu clients=%d seconds=%.1f\n",
        ok / secs, (unsigned long long)ok, (unsigned long long)failed, clients,
        secs);
    return failed ? 1 : 0;
}
