/*  ef_room.h: which worker services can take jobs now. The reactor knows
    the workers and sets each service's figures; the writer's engine asks
    before it hands a job out, and lets the job wait in the store (not
    counting an attempt) while no worker of its service is attached or
    while enough jobs already wait in memory for one. That keeps memory
    bounded by the workers' capacity, not by the backlog.
    Thread-safety: all functions (one mutex). */
#ifndef EF_ROOM_H
#define EF_ROOM_H

#include <stdint.h>

typedef struct ef_room ef_room_t;

ef_room_t *ef_room_new (void);
void ef_room_destroy (ef_room_t **self_p);

/*  The service's (of an org: workers serve their own org only) workers, their total capacity, and the jobs handed out
    to the reactor that no worker has yet. */
void ef_room_set (ef_room_t *self, uint32_t org, const char *service,
                  uint32_t workers, uint32_t capacity, uint32_t queued);

/*  Whether a job of service may be handed out now: EF_ROOM_OPEN; not
    while no worker of it is attached (EF_ROOM_NONE: wait long), nor while
    enough jobs wait in memory for its workers (EF_ROOM_BUSY: soon). */
enum { EF_ROOM_NONE = 0, EF_ROOM_OPEN = 1, EF_ROOM_BUSY = 2 };
int ef_room_open (ef_room_t *self, uint32_t org, const char *service);

#endif
