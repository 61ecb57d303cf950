/*  main.c: eventflow-bridge. Parses the configuration, starts the HTTP
    server, waits for SIGINT/SIGTERM, stops. */
#define _GNU_SOURCE /* pthread_setattr_default_np */
#include "ef_bridge.h"
#include "ef_notify.h"
#include "eventflow/ef_error.h"

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/*  Everything between the configuration's and the log's making and
    freeing (main), so that every way out frees them: the exit status. */
static int
s_run (ef_config_t *cfg, ef_log_t *log, int argc, char **argv)
{
    int printed =
        ef_config_print_main (cfg, "eventflow-bridge", argc, argv, stdout);
    if (printed >= 0)
        return printed;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--help") || !strcmp (argv[i], "-h")) {
            printf ("usage: eventflow-bridge [options]\n\n"
                    "The EventFlow HTTP/JSON bridge. Options (flags override "
                    "environment,\nwhich overrides the config file):\n\n");
            ef_config_usage (cfg, stdout);
            fputs (EF_CONFIG_PRINT_USAGE, stdout);
            printf (
                "  --list-routes        print the routes served and exit\n");
            return 0;
        }
        if (!strcmp (argv[i], "--list-routes")) {
            ef_bridge_print_routes (stdout);
            return 0;
        }
        if (!strcmp (argv[i], "--version")) {
            printf ("eventflow-bridge %s\n", EF_VERSION);
            return 0;
        }
    }
    if (ef_config_load_main (cfg, "eventflow-bridge", argc, argv, log))
        return 2;

    /* a worker thread and a descriptor per open connection: thousands of
       each. The threads' stacks need not be 8 MiB each, and the open
       files may go to the hard limit. */
    pthread_attr_t attr;
    if (pthread_attr_init (&attr) == 0) {
        pthread_attr_setstacksize (&attr, 512 * 1024);
        pthread_setattr_default_np (&attr);
        pthread_attr_destroy (&attr);
    }
    struct rlimit files;
    if (getrlimit (RLIMIT_NOFILE, &files) == 0 &&
        files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit (RLIMIT_NOFILE, &files);
    }

    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &set, NULL);
    signal (SIGPIPE, SIG_IGN);

    ef_bridge_t *bridge = ef_bridge_new (cfg, log);
    int rc = bridge ? ef_bridge_open (bridge) : EF_ENOMEM;
    if (rc == 0) {
        /* systemd (Type=notify): ready once listening; the watchdog is fed
           while this thread waits for the signal to stop */
        ef_notify_t *notify = ef_notify_new ();
        int tick_ms = ef_notify_tick_ms (notify);
        ef_notify_ready (notify, "serving");
        int sig = -1;
        while (sig < 0) {
            ef_notify_tick (notify);
            if (tick_ms < 0) {
                if (sigwait (&set, &sig))
                    sig = -1;
                continue;
            }
            struct timespec wait = {tick_ms / 1000,
                                    (long)(tick_ms % 1000) * 1000000L};
            sig = sigtimedwait (&set, NULL, &wait);
        }
        ef_notify_stopping (notify);
        ef_notify_destroy (&notify);
        ef_log_info (log, "stopping", "\"signal\":%d", sig);
    }
    ef_bridge_destroy (&bridge);
    return rc == 0 ? 0 : 1;
}

int
main (int argc, char **argv)
{
    ef_config_t *cfg = ef_config_new (ef_bridge_options);
    ef_log_t *log = ef_log_new ("bridge", stderr);
    int rc = cfg && log ? s_run (cfg, log, argc, argv) : 1;
    ef_log_destroy (&log);
    ef_config_destroy (&cfg);
    return rc;
}
