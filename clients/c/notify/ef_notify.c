/*  ef_notify.c: the service manager's notifications (ef_notify.h). The
    watchdog's pace is kept here, so that a loop calls ef_notify_tick on
    every turn and the socket sees one datagram per half interval. */
#include "ef_notify.h"

#include <stdlib.h>
#include <time.h>
#ifdef EF_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

struct ef_notify {
    uint64_t half_us; /* half the watchdog's interval; 0: no watchdog */
    uint64_t last_us; /* when WATCHDOG=1 was last sent (monotonic) */
    int sent;         /* one was sent */
};

static uint64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

ef_notify_t *
ef_notify_new (void)
{
    ef_notify_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
#ifdef EF_HAVE_SYSTEMD
    uint64_t usec = 0;
    if (sd_watchdog_enabled (0, &usec) > 0 && usec > 0)
        self->half_us = usec / 2;
#endif
    return self;
}

void
ef_notify_destroy (ef_notify_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

void
ef_notify_ready (ef_notify_t *self, const char *status)
{
    (void)self;
#ifdef EF_HAVE_SYSTEMD
    if (status)
        sd_notifyf (0, "READY=1\nSTATUS=%s", status);
    else
        sd_notify (0, "READY=1");
#else
    (void)status;
#endif
}

void
ef_notify_tick (ef_notify_t *self)
{
    if (!self || !self->half_us)
        return;
    uint64_t now = s_now_us ();
    if (self->sent && now - self->last_us < self->half_us)
        return;
#ifdef EF_HAVE_SYSTEMD
    sd_notify (0, "WATCHDOG=1");
#endif
    self->last_us = now;
    self->sent = 1;
}

void
ef_notify_stopping (ef_notify_t *self)
{
    (void)self;
#ifdef EF_HAVE_SYSTEMD
    sd_notify (0, "STOPPING=1");
#endif
}

int
ef_notify_tick_ms (const ef_notify_t *self)
{
    if (!self || !self->half_us)
        return -1;
    uint64_t ms = self->half_us / 1000u;
    return ms < 1 ? 1 : ms > 3600000u ? 3600000 : (int)ms;
}
