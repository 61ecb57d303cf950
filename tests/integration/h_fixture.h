/*  h_fixture.h: the set-up every HTTP bridge test shares, written once: a
    temporary data dir, a real broker on it, the local admin's native
    client, API keys for the roles a test needs, the initial admin's
    credentials, a gateway client, and one or two real bridges; and the
    tear-down that stops them and reports a bridge that did not exit
    cleanly. The test file keeps its own variables; the fixture says
    where each part goes. Test-only code. */
#ifndef EF_TEST_H_FIXTURE_H
#define EF_TEST_H_FIXTURE_H

#include "harness.h"

typedef struct {
    /* where the parts go (the test's own variables); NULL: not wanted */
    char *dir;            /* [256]; required */
    h_broker_t *broker;   /* required */
    ef_client_t **native; /* the local admin's client; required */
    h_bridge_t *bridge;   /* the first bridge */
    h_bridge_t *bridge2;  /* a second bridge on the same broker */
    char *admin_key;      /* [200] "X-API-Key: efk_…" lines, made in */
    char *producer_key;   /* this order with the native client */
    char *consumer_key;
    char *admin_email;     /* [128] from the broker's initial-admin file */
    char *admin_pw;        /* [128] */
    ef_client_t **gateway; /* connected with dir/gateway.key */
    /* how (read by h_fixture_setup only) */
    const char *const *broker_flags; /* NULL-terminated, may be NULL */
    const char *const *bridge_flags;
    const char *const *bridge2_flags;
} h_fixture_t;

/*  Start what f asks for (and ignore SIGPIPE, init libcurl). 0, or -1
    (the test group should fail; what had started is stopped again,
    since cmocka calls no teardown after a failed setup).

    With EF_TEST_NGINX set in the environment (ctest's nginx_* runs of
    the bridge tests), the shipped deploy/nginx/eventflow.conf is put in
    front of the bridges (h_nginx.h: the first bridge and the second, or
    the first twice) and each bridge's url becomes nginx's: every request
    the test makes through url goes through nginx. A bridge's own address
    stays in its direct field, for what tests the bridge's own sockets
    (framing, slow clients). */
int h_fixture_setup (const h_fixture_t *f);

/*  Stop the bridges that run (a non-zero exit is reported with its log
    path), close the clients, stop the broker, remove the dir (kept when
    a bridge failed, to read the logs). 0, or -1 when a bridge did not
    exit cleanly. */
int h_fixture_teardown (const h_fixture_t *f);

#endif
