/*  main.c: eventflow-broker. Parses the configuration, builds the broker,
    serves until SIGINT/SIGTERM, tears down. */
#include "ef_broker.h"
#include "eventflow/ef_error.h"

#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void
s_usage (const ef_config_t *cfg)
{
    printf ("usage: eventflow-broker [options]\n\n"
            "The EventFlow broker: stores events durably in LMDB and serves\n"
            "producers and consumers over ZeroMQ. Options (flags override\n"
            "environment, which overrides the config file):\n\n");
    ef_config_usage (cfg, stdout);
    fputs (EF_CONFIG_PRINT_USAGE, stdout);
}

/*  Everything between the configuration's and the log's making and
    freeing (main), so that every way out frees them: the exit status. */
static int
s_run (ef_config_t *cfg, ef_log_t *log, int argc, char **argv)
{
    int printed =
        ef_config_print_main (cfg, "eventflow-broker", argc, argv, stdout);
    if (printed >= 0)
        return printed;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--help") || !strcmp (argv[i], "-h")) {
            s_usage (cfg);
            return 0;
        }
        if (!strcmp (argv[i], "--version")) {
            printf ("eventflow-broker %s\n", EF_VERSION);
            return 0;
        }
    }
    if (ef_config_load_main (cfg, "eventflow-broker", argc, argv, log))
        return 2;

    /* Signals are taken through a signalfd by the reactor: block them in
       every thread, before any thread starts. */
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &set, NULL);
    signal (SIGPIPE, SIG_IGN);

    ef_broker_t *broker = ef_broker_new (cfg, log);
    int rc = broker ? ef_broker_open (broker) : EF_ENOMEM;
    if (rc == 0)
        rc = ef_broker_run (broker);
    ef_broker_destroy (&broker);
    return rc == 0 ? 0 : 1;
}

int
main (int argc, char **argv)
{
    /* Large replies (pages of events) are allocated and freed all the time,
       and freed by ZeroMQ's I/O thread: keep them in the heap, and the heap
       from shrinking, rather than have every one mapped, faulted in and
       zeroed afresh by the kernel. */
    mallopt (M_MMAP_THRESHOLD, 32 << 20);
    mallopt (M_TRIM_THRESHOLD, 256 << 20);
    /* One malloc arena per core, not glibc's eight: a burst of readers
       spreads pages over a new arena per thread that contended, and what
       stays live in each (a few allocations per page) kept 10 MB or more
       after the readers died, past malloc_trim (tests/bench/readers.sh:
       +18% of idle with eight per core, +0-3% with one). */
    long cores = sysconf (_SC_NPROCESSORS_ONLN);
    mallopt (M_ARENA_MAX, cores < 2 ? 2 : (int)cores);
    /* one descriptor per native connection: up to the hard limit */
    struct rlimit files;
    if (getrlimit (RLIMIT_NOFILE, &files) == 0 &&
        files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit (RLIMIT_NOFILE, &files);
    }
    ef_config_t *cfg = ef_config_new (ef_broker_options);
    ef_log_t *log = ef_log_new ("broker", stderr);
    int rc = cfg && log ? s_run (cfg, log, argc, argv) : 1;
    ef_log_destroy (&log);
    ef_config_destroy (&cfg);
    return rc;
}
