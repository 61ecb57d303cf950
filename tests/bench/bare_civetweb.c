/*  bare_civetweb: the ceiling for HTTP ingest on this machine. A civetweb
    server, configured like eventflow-bridge (threads, keep-alive), whose
    one handler reads the body and answers 202 with a small JSON body,
    doing no work. Run by tests/bench/http.sh beside the bridge.
    usage: bare_civetweb HOST:PORT [THREADS] */
#include <civetweb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static int
s_handle (struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    char buf[65536];
    while (mg_read (conn, buf, sizeof buf) > 0)
        ;
    static const char body[] = "{\"event_id\":\"00000000-0000-7000-8000-"
                               "000000000000\",\"status\":\"ACCEPTED\"}";
    char len[16];
    snprintf (len, sizeof len, "%zu", sizeof body - 1);
    mg_response_header_start (conn, 202);
    mg_response_header_add (conn, "Content-Type", "application/json", -1);
    mg_response_header_add (conn, "Content-Length", len, -1);
    mg_response_header_send (conn);
    mg_write (conn, body, sizeof body - 1);
    return 202;
}

int
main (int argc, char **argv)
{
    if (argc < 2) {
        fprintf (stderr, "usage: bare_civetweb HOST:PORT [THREADS]\n");
        return 2;
    }
    const char *options[] = {"listening_ports",
                             argv[1],
                             "num_threads",
                             argc > 2 ? argv[2] : "128",
                             "enable_keep_alive",
                             "yes",
                             "keep_alive_timeout_ms",
                             "30000",
                             "tcp_nodelay",
                             "1",
                             NULL};
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &set, NULL);
    struct mg_callbacks cb;
    memset (&cb, 0, sizeof cb);
    mg_init_library (0);
    struct mg_context *ctx = mg_start (&cb, NULL, options);
    if (!ctx)
        return 1;
    mg_set_request_handler (ctx, "/", s_handle, NULL);
    fprintf (stderr, "{\"msg\":\"ready\",\"listen\":\"http://%s\"}\n", argv[1]);
    int sig;
    sigwait (&set, &sig);
    mg_stop (ctx);
    return 0;
}
