/*  ef_notify.h: a server's word to its service manager (systemd's
    Type=notify): READY=1 once it serves, WATCHDOG=1 from its loop while it
    is alive, STOPPING=1 when it begins to stop. Through libsystemd's
    sd_notify when built with EF_SYSTEMD (the default); every call is a
    no-op when NOTIFY_SOCKET is unset, or when built without it. Not
    installed: the broker and the bridge link it, libeventflow does not.
    Thread-safety: one notifier per loop; call it from that loop only. */
#ifndef EF_NOTIFY_H
#define EF_NOTIFY_H

#include <stdint.h>

typedef struct ef_notify ef_notify_t;

/*  A notifier for this process. It reads the watchdog's interval from
    WATCHDOG_USEC (and WATCHDOG_PID, when set, must be this process).
    NULL on OOM. */
ef_notify_t *ef_notify_new (void);
/*  Safe on NULL; clears the caller's pointer. */
void ef_notify_destroy (ef_notify_t **self_p);

/*  READY=1, with status as the unit's STATUS= text (may be NULL). */
void ef_notify_ready (ef_notify_t *self, const char *status);
/*  WATCHDOG=1 when half the watchdog's interval has passed since the last
    one (or none was sent); nothing when no watchdog is asked for. Call it
    on every turn of the loop: it is cheap. */
void ef_notify_tick (ef_notify_t *self);
/*  STOPPING=1. */
void ef_notify_stopping (ef_notify_t *self);
/*  The longest a loop may wait between ticks, in ms (half the watchdog's
    interval), or -1 when no watchdog is asked for. */
int ef_notify_tick_ms (const ef_notify_t *self);

#endif
