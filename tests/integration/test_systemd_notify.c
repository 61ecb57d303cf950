/*  systemd's Type=notify, seen from the service manager's side: the test
    binds a unix datagram socket, hands it to a real broker and a real
    bridge as NOTIFY_SOCKET with a 100 ms watchdog (WATCHDOG_USEC), and
    reads what they say: READY=1 once they serve, WATCHDOG=1 again and
    again while they run, STOPPING=1 on SIGTERM, then a clean exit. Every
    wait is on the socket (poll), never a sleep. */
#include "harness.h"

#include <poll.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#define WAIT_MS 20000

typedef struct {
    char dir[256];
    char sock_path[300];
    int fd; /* the manager's end: bound, read by the test */
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    if (!f || h_tempdir (f->dir))
        return -1;
    snprintf (f->sock_path, sizeof f->sock_path, "%s/notify.sock", f->dir);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen (f->sock_path) >= sizeof a.sun_path)
        return -1;
    memcpy (a.sun_path, f->sock_path, strlen (f->sock_path) + 1);
    f->fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (f->fd < 0 || bind (f->fd, (struct sockaddr *)&a, sizeof a))
        return -1;
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    close (f->fd);
    h_rmrf (f->dir);
    free (f);
    return 0;
}

/*  The environment systemd gives a Type=notify service with WatchdogSec=,
    for the process started next; s_manager_off takes it back. */
static void
s_manager_on (const fixture_t *f)
{
    setenv ("NOTIFY_SOCKET", f->sock_path, 1);
    setenv ("WATCHDOG_USEC", "100000", 1);
    unsetenv ("WATCHDOG_PID");
}

static void
s_manager_off (void)
{
    unsetenv ("NOTIFY_SOCKET");
    unsetenv ("WATCHDOG_USEC");
}

/*  The next datagram into buf (NUL-terminated), waiting up to timeout_ms.
    0, or -1 when none came. */
static int
s_next (const fixture_t *f, char *buf, size_t size, int timeout_ms)
{
    struct pollfd p = {.fd = f->fd, .events = POLLIN};
    if (poll (&p, 1, timeout_ms) != 1)
        return -1;
    ssize_t n = recv (f->fd, buf, size - 1, 0);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return 0;
}

/*  Read datagrams until one holds line (a whole line of it); how many
    datagrams came before it into *before (may be NULL). 0 or -1. */
static int
s_wait_for (const fixture_t *f, const char *line, int *before)
{
    char buf[4096];
    int seen = 0;
    while (s_next (f, buf, sizeof buf, WAIT_MS) == 0) {
        for (char *tok = strtok (buf, "\n"); tok; tok = strtok (NULL, "\n"))
            if (!strcmp (tok, line)) {
                if (before)
                    *before = seen;
                return 0;
            }
        seen++;
    }
    fprintf (stderr, "no %s on the notify socket\n", line);
    return -1;
}

/*  READY=1 first, then the watchdog fed twice (its pace is half of 100 ms). */
static void
s_expect_serving (const fixture_t *f)
{
    int before = -1;
    assert_int_equal (s_wait_for (f, "READY=1", &before), 0);
    assert_int_equal (before, 0);
    assert_int_equal (s_wait_for (f, "WATCHDOG=1", NULL), 0);
    assert_int_equal (s_wait_for (f, "WATCHDOG=1", NULL), 0);
}

static void
test_broker_says_ready_feeds_the_watchdog_and_says_stopping (void **state)
{
    fixture_t *f = *state;
    char data[300];
    snprintf (data, sizeof data, "%s/data", f->dir);
    h_broker_t b;
    s_manager_on (f);
    int rc = h_broker_start (&b, data, NULL);
    s_manager_off ();
    assert_int_equal (rc, 0);
    s_expect_serving (f);
    kill (b.pid, SIGTERM);
    assert_int_equal (s_wait_for (f, "STOPPING=1", NULL), 0);
    assert_int_equal (h_broker_stop (&b), 0);
}

static void
test_bridge_says_ready_feeds_the_watchdog_and_says_stopping (void **state)
{
    fixture_t *f = *state;
    char data[300];
    snprintf (data, sizeof data, "%s/data", f->dir);
    h_broker_t b;
    h_bridge_t g;
    assert_int_equal (h_broker_start (&b, data, NULL), 0);
    s_manager_on (f);
    int rc = h_bridge_start (&g, &b, NULL);
    s_manager_off ();
    assert_int_equal (rc, 0);
    s_expect_serving (f);
    kill (g.pid, SIGTERM);
    assert_int_equal (s_wait_for (f, "STOPPING=1", NULL), 0);
    assert_int_equal (h_bridge_stop (&g), 0);
    assert_int_equal (h_broker_stop (&b), 0);
}

/*  Without NOTIFY_SOCKET nothing is sent, and the broker serves as ever. */
static void
test_without_a_manager_nothing_is_sent (void **state)
{
    fixture_t *f = *state;
    char data[300], buf[256];
    snprintf (data, sizeof data, "%s/data", f->dir);
    h_broker_t b;
    s_manager_off ();
    assert_int_equal (h_broker_start (&b, data, NULL), 0);
    ef_client_t *c = h_client (&b);
    assert_non_null (c);
    ef_client_destroy (&c);
    assert_int_equal (h_broker_stop (&b), 0);
    assert_int_equal (s_next (f, buf, sizeof buf, 0), -1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (
            test_broker_says_ready_feeds_the_watchdog_and_says_stopping,
            s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_bridge_says_ready_feeds_the_watchdog_and_says_stopping,
            s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_without_a_manager_nothing_is_sent,
                                         s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
