/*  harness.h: what the integration tests share: temporary directories,
    starting and stopping real eventflow-broker processes (waiting on their
    "ready" log line, never on sleeps), running the CLI, and connecting
    clients. Test-only code. */
#ifndef EF_TEST_HARNESS_H
#define EF_TEST_HARNESS_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include "eventflow/ef_cert.h"
#include "eventflow/ef_client.h"
#include "eventflow/ef_worker.h"

typedef struct {
    pid_t pid;
    char dir[256];      /* data dir */
    char endpoint[256]; /* as bound */
    char log_path[300]; /* broker's stderr */
    int exit_status;    /* after stop: waitpid status */
} h_broker_t;

/*  A fresh temporary directory (mkdtemp) in out[256]; 0 or -1. */
int h_tempdir (char *out);
/*  rm -rf path (kept when EF_TEST_KEEP is set, to look at logs). */
void h_rmrf (const char *path);

/*  Start a broker on data dir `dir` (created if missing) with a free
    loopback port and the extra flags (NULL-terminated, may be NULL).
    Waits up to 20 s for its ready line. 0 or -1. */
int h_broker_start (h_broker_t *b, const char *dir, const char *const *extra);
/*  SIGTERM and wait; returns the exit code (or -1). */
int h_broker_stop (h_broker_t *b);
/*  SIGKILL and wait. */
void h_broker_kill9 (h_broker_t *b);

typedef struct {
    pid_t pid;
    char url[256];      /* where the test sends its requests */
    char direct[256];   /* the bridge itself, "http://127.0.0.1:PORT", from
                           its ready line; url is the same unless the HTTP
                           fixture put nginx in front (EF_TEST_NGINX) */
    char log_path[300]; /* the bridge's stderr */
} h_bridge_t;

/*  Start an eventflow-bridge for broker b on a free loopback port (with
    b's data dir for its keys, and the extra flags); waits for its ready
    line. 0 or -1. */
int h_bridge_start (h_bridge_t *g, const h_broker_t *b,
                    const char *const *extra);
/*  SIGTERM and wait; the exit code or -1. */
int h_bridge_stop (h_bridge_t *g);

/*  SIGKILL and wait (a crash); g->pid is 0 after. */
void h_bridge_kill9 (h_bridge_t *g);
/*  A TCP port on 127.0.0.1 that was free a moment ago (bound, read,
    released): for a process the tests start that cannot take port 0. */
int h_free_port (void);

/*  Wait (on inotify, up to timeout_ms) until the log at path holds at
    least count lines containing text. 0, or -1 on timeout. */
int h_log_wait (const char *path, const char *text, int count, long timeout_ms);

/*  What h_wait_until polls: 1 when what the test waits for has happened,
    0 when not yet, -1 when it never will (stop waiting). It looks at a
    real event source: a reply, a counter from STATS, a log line, a
    socket, a flag another thread sets. */
typedef int (h_pred_fn) (void *arg);

/*  The one way the tests wait: poll pred (arg) until it says 1 or the
    deadline (ms from now) passes. The pause between polls (1 ms growing
    to 20 ms) paces the polling; it never stands in for the event. 0 when
    pred held, -1 when it gave up or the time ran out. To check that
    something does NOT happen within a bound, assert -1. */
int h_wait_until (h_pred_fn *pred, void *arg, long deadline_ms);

/*  Wait until the broker's request counter (STATS on admin) has grown
    by n beyond base, not counting the STATS calls this makes itself:
    the n requests sent since base have reached the broker (a parked
    long poll counts when it parks). base from h_requests. 0 or -1. */
uint64_t h_requests (ef_client_t *admin);
int h_wait_requests (ef_client_t *admin, uint64_t base, uint64_t n,
                     long deadline_ms);

/*  A connected client using the broker's local admin certificate
    (dir/admin.key, dir/broker.pub), or NULL (the test should fail). */
ef_client_t *h_client (const h_broker_t *b);
/*  A client with CurveZMQ keys from cert_path (NULL: the local admin's),
    or plain when cert_path is "" — not yet connected. */
ef_client_t *h_client_new (const h_broker_t *b, const char *cert_path);
/*  The string at key of rep (with sub: at key.sub of the map there) into
    out (size bytes); "" when missing. */
void h_reply_str (const ef_reply_t *rep, const char *key, const char *sub,
                  char *out, size_t size);
/*  Register cert's public key for role (name may be NULL) in the org of
    the admin client, with its holder's proof (ef_cert_proof against b's
    broker.pub and the org id WHOAMI tells). 0 or the broker's error. */
int h_clientkey_add (const h_broker_t *b, ef_client_t *admin,
                     const ef_cert_t *cert, const char *role, const char *name);
/*  Set a raw ZeroMQ socket's CurveZMQ options for the local admin. */
int h_curve_socket (const h_broker_t *b, void *sock);

/*  Run `bin/eventflow ARGS...` with EVENTFLOW_BROKER_ENDPOINT set to the
    broker's endpoint (b may be NULL), feeding stdin_text (may be NULL).
    stdout and stderr are captured into malloc'ed strings (caller frees).
    Returns the exit code, or -1. */
int h_cli (const h_broker_t *b, const char *stdin_text, char **out, char **err,
           const char *const *args);

/*  Path of a built binary (EF_BIN_DIR/name) in a static buffer. */
const char *h_bin (const char *name);
/*  The child's side of h_cli and h_proc_start, after fork: the pipes'
    read end of in and write ends of o and e become its 0, 1 and 2 (all
    six descriptors closed), the broker's endpoint and data dir (when b),
    EVENTFLOW_TIMEOUT=3000 and env ("NAME=value" strings, NULL-terminated,
    may be NULL) its environment, then eventflow runs with args. */
void h_cli_exec (const h_broker_t *b, const char *const *env,
                 const char *const *args, int in[2], int o[2], int e[2])
    __attribute__ ((noreturn));

/*  Register a user of a new org (email, org) through c and log in: the
    access token in jwt (size bytes). Asserts each step. */
void h_new_org (ef_client_t *c, char *jwt, size_t size, const char *email,
                const char *org);

/*  A worker of service on a thread of the test, as a worker process would
    run one: its own client of broker, ef_worker started, each job handled
    by fn (arg). ready becomes 1 once it has started, -1 when it could
    not; the test may wait on it. */
typedef struct {
    const h_broker_t *broker;
    const char *service;
    ef_job_fn *fn;
    void *arg;
    volatile int stop, ready;
    pthread_t thread;
} h_worker_t;
/*  Start w's thread. 0 or -1. */
int h_worker_start (h_worker_t *w);
/*  Ask it to stop and join it (within one 100 ms poll). */
void h_worker_stop (h_worker_t *w);

#endif
