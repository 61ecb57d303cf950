/*  ef_room.c: the services' room (see ef_room.h): a small table under a
    mutex. Services past the table's size are always open (the old
    behaviour: jobs wait in memory), which no real deployment reaches. */
#include "ef_room.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define S_SERVICES 256
#define S_SLACK    1024 /* jobs that may wait in memory beyond capacity */

typedef struct {
    uint32_t org;
    char name[129];
    uint32_t workers, capacity, queued;
} s_service_t;

struct ef_room {
    pthread_mutex_t lock;
    uint32_t n;
    s_service_t s[S_SERVICES];
};

ef_room_t *
ef_room_new (void)
{
    ef_room_t *self = calloc (1, sizeof *self);
    if (self)
        pthread_mutex_init (&self->lock, NULL);
    return self;
}

void
ef_room_destroy (ef_room_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pthread_mutex_destroy (&(*self_p)->lock);
    free (*self_p);
    *self_p = NULL;
}

static s_service_t *
s_find (ef_room_t *self, uint32_t org, const char *service)
{
    for (uint32_t i = 0; i < self->n; i++)
        if (self->s[i].org == org && strcmp (self->s[i].name, service) == 0)
            return &self->s[i];
    return NULL;
}

void
ef_room_set (ef_room_t *self, uint32_t org, const char *service,
             uint32_t workers, uint32_t capacity, uint32_t queued)
{
    pthread_mutex_lock (&self->lock);
    s_service_t *s = s_find (self, org, service);
    if (!s && self->n < S_SERVICES && strlen (service) < sizeof s->name) {
        s = &self->s[self->n++];
        s->org = org;
        strcpy (s->name, service);
    }
    if (s) {
        s->workers = workers;
        s->capacity = capacity;
        s->queued = queued;
    }
    pthread_mutex_unlock (&self->lock);
}

int
ef_room_open (ef_room_t *self, uint32_t org, const char *service)
{
    pthread_mutex_lock (&self->lock);
    const s_service_t *s = s_find (self, org, service);
    int open = !s ? (self->n == S_SERVICES ? EF_ROOM_OPEN : EF_ROOM_NONE)
               : !s->workers                                     ? EF_ROOM_NONE
               : s->queued < S_SLACK + 4 * (uint64_t)s->capacity ? EF_ROOM_OPEN
                                                                 : EF_ROOM_BUSY;
    pthread_mutex_unlock (&self->lock);
    return open;
}
