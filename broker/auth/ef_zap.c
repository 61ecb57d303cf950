/*  ef_zap.c: a ZAP 1.0 handler thread (see ef_zap.h). Only the CURVE
    mechanism is admitted; requests for any other mechanism or with a
    malformed envelope are refused. */
#include "ef_zap.h"
#include "eventflow/ef_error.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_FRAMES 7 /* version, id, domain, address, identity, mechanism, key */

struct ef_zap {
    void *ctx;
    void *sock;
    ef_zap_check_fn *check;
    void *arg;
    ef_log_t *log;
    pthread_t thread;
    int running;
    atomic_int stop;
};

ef_zap_t *
ef_zap_new (void *zmq_ctx, ef_zap_check_fn *check, void *arg, ef_log_t *log)
{
    ef_zap_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->ctx = zmq_ctx;
    self->check = check;
    self->arg = arg;
    self->log = log;
    return self;
}

static void
s_reply (void *sock, zmq_msg_t *id, const char *code, const char *text,
         const char *user)
{
    zmq_send (sock, "1.0", 3, ZMQ_SNDMORE);
    zmq_send (sock, zmq_msg_data (id), zmq_msg_size (id), ZMQ_SNDMORE);
    zmq_send (sock, code, strlen (code), ZMQ_SNDMORE);
    zmq_send (sock, text, strlen (text), ZMQ_SNDMORE);
    zmq_send (sock, user, strlen (user), ZMQ_SNDMORE);
    zmq_send (sock, "", 0, 0);
}

static void
s_handle (ef_zap_t *self)
{
    zmq_msg_t f[S_FRAMES + 1];
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init (&m);
        if (zmq_msg_recv (&m, self->sock, 0) < 0) {
            zmq_msg_close (&m);
            break;
        }
        more = zmq_msg_more (&m);
        if (n < S_FRAMES + 1)
            f[n++] = m;
        else
            zmq_msg_close (&m);
    }
    if (n < 2) {
        /* a REP socket must answer whatever it received */
        zmq_msg_t empty;
        zmq_msg_init (&empty);
        s_reply (self->sock, &empty, "500", "malformed request", "");
        zmq_msg_close (&empty);
    } else {
        char user[64] = "";
        int ok = n == S_FRAMES && zmq_msg_size (&f[0]) == 3 &&
                 memcmp (zmq_msg_data (&f[0]), "1.0", 3) == 0 &&
                 zmq_msg_size (&f[5]) == 5 &&
                 memcmp (zmq_msg_data (&f[5]), "CURVE", 5) == 0 &&
                 zmq_msg_size (&f[6]) == 32 &&
                 self->check (self->arg, zmq_msg_data (&f[6]), user) == 0;
        if (ok)
            s_reply (self->sock, &f[1], "200", "OK", user);
        else {
            s_reply (self->sock, &f[1], "400", "not admitted", "");
            char key[41] = "";
            if (n == S_FRAMES && zmq_msg_size (&f[6]) == 32)
                zmq_z85_encode (key, zmq_msg_data (&f[6]), 32);
            ef_log_info (self->log, "authentication failed",
                         "\"credential\":\"curve\",\"cause\":\"%s\","
                         "\"claimed_id\":\"%s\"",
                         key[0] ? "client key not registered"
                                : "not a CURVE handshake",
                         key);
        }
    }
    for (int i = 0; i < n; i++)
        zmq_msg_close (&f[i]);
}

static void *
s_run (void *arg)
{
    ef_zap_t *self = arg;
    zmq_pollitem_t item = {self->sock, 0, ZMQ_POLLIN, 0};
    while (!atomic_load (&self->stop)) {
        int rc = zmq_poll (&item, 1, 200);
        if (rc > 0 && (item.revents & ZMQ_POLLIN))
            s_handle (self);
        else if (rc < 0 && zmq_errno () == ETERM)
            break;
    }
    return NULL;
}

int
ef_zap_start (ef_zap_t *self)
{
    self->sock = zmq_socket (self->ctx, ZMQ_REP);
    if (!self->sock)
        return EF_EINTERNAL;
    int zero = 0;
    zmq_setsockopt (self->sock, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind (self->sock, "inproc://zeromq.zap.01")) {
        zmq_close (self->sock);
        self->sock = NULL;
        return EF_EINTERNAL;
    }
    if (pthread_create (&self->thread, NULL, s_run, self)) {
        zmq_close (self->sock);
        self->sock = NULL;
        return EF_EINTERNAL;
    }
    self->running = 1;
    return 0;
}

void
ef_zap_destroy (ef_zap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_zap_t *self = *self_p;
    if (self->running) {
        atomic_store (&self->stop, 1);
        pthread_join (self->thread, NULL);
    }
    if (self->sock)
        zmq_close (self->sock);
    free (self);
    *self_p = NULL;
}
