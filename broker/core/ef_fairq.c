/*  ef_fairq.c: lanes in a ring of turns (see ef_fairq.h). A lane is in
    one of three places: the ring (items waiting, its turn to come), held
    (items, out of the turns) or spare (empty, for reuse). The ring and
    the held lanes are also on the live list, where a push finds its
    key's lane. Each lane's items sit in a circular array of max_per_lane
    slots, so a push allocates only for a lane never seen before. */
#include "ef_fairq.h"
#include "eventflow/ef_error.h"

#include <stdlib.h>

struct ef_fairq_lane {
    uint64_t key;
    ef_fairq_lane_t *next;             /* in the ring, or spare */
    ef_fairq_lane_t *live_prev, *live; /* on the live list */
    uint32_t head, n;                  /* items[head] is the oldest */
    void *items[];
};

struct ef_fairq {
    ef_fairq_lane_t *ring, *ring_tail; /* lanes waiting for their turn */
    ef_fairq_lane_t *live;             /* every lane that holds items */
    ef_fairq_lane_t *spare;            /* empty lanes to reuse */
    uint32_t count, max_total, max_per_lane;
    int closed;
};

ef_fairq_t *
ef_fairq_new (uint32_t max_total, uint32_t max_per_lane)
{
    ef_fairq_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->max_total = max_total ? max_total : 1;
    self->max_per_lane = max_per_lane ? max_per_lane : 1;
    return self;
}

static void
s_free_lanes (ef_fairq_lane_t *lane)
{
    while (lane) {
        ef_fairq_lane_t *next = lane->next;
        free (lane);
        lane = next;
    }
}

void
ef_fairq_destroy (ef_fairq_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_fairq_t *self = *self_p;
    while (self->live) {
        ef_fairq_lane_t *lane = self->live;
        self->live = lane->live;
        free (lane);
    }
    s_free_lanes (self->spare);
    free (self);
    *self_p = NULL;
}

static void
s_ring_push (ef_fairq_t *self, ef_fairq_lane_t *lane)
{
    lane->next = NULL;
    if (self->ring_tail)
        self->ring_tail->next = lane;
    else
        self->ring = lane;
    self->ring_tail = lane;
}

int
ef_fairq_push (ef_fairq_t *self, uint64_t key, void *item)
{
    ef_fairq_lane_t *lane = self->live;
    while (lane && lane->key != key)
        lane = lane->live;
    if (self->closed || self->count >= self->max_total ||
        (lane && lane->n >= self->max_per_lane))
        return EF_EUNAVAILABLE;
    if (!lane) {
        /* a new lane: its turn comes after the lanes waiting */
        if ((lane = self->spare))
            self->spare = lane->next;
        else if (!(lane = malloc (sizeof *lane +
                                  self->max_per_lane * sizeof (void *))))
            return EF_EUNAVAILABLE;
        lane->key = key;
        lane->head = lane->n = 0;
        lane->live_prev = NULL;
        lane->live = self->live;
        if (self->live)
            self->live->live_prev = lane;
        self->live = lane;
        s_ring_push (self, lane);
    }
    lane->items[(lane->head + lane->n++) % self->max_per_lane] = item;
    self->count++;
    return 0;
}

void *
ef_fairq_hold (ef_fairq_t *self, ef_fairq_lane_t **lane_p)
{
    ef_fairq_lane_t *lane = self->ring;
    if (!lane)
        return NULL;
    self->ring = lane->next;
    if (!self->ring)
        self->ring_tail = NULL;
    lane->next = NULL;
    *lane_p = lane;
    return lane->items[lane->head];
}

void
ef_fairq_release (ef_fairq_t *self, ef_fairq_lane_t *lane, int finished)
{
    if (finished) {
        lane->head = (lane->head + 1) % self->max_per_lane;
        lane->n--;
        self->count--;
    }
    if (lane->n) {
        s_ring_push (self, lane);
        return;
    }
    /* empty: off the live list, to the spares */
    if (lane->live_prev)
        lane->live_prev->live = lane->live;
    else
        self->live = lane->live;
    if (lane->live)
        lane->live->live_prev = lane->live_prev;
    lane->next = self->spare;
    self->spare = lane;
}

void *
ef_fairq_take (ef_fairq_t *self)
{
    ef_fairq_lane_t *lane;
    void *item = ef_fairq_hold (self, &lane);
    if (item)
        ef_fairq_release (self, lane, 1);
    return item;
}

uint32_t
ef_fairq_count (const ef_fairq_t *self)
{
    return self->count;
}

void
ef_fairq_close (ef_fairq_t *self)
{
    self->closed = 1;
}

int
ef_fairq_closed (const ef_fairq_t *self)
{
    return self->closed;
}
