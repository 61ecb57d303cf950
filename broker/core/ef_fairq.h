/*  ef_fairq.h: a fair queue shared between orgs. Each org (any 64-bit
    key) with items waiting has a lane, oldest item first; the lanes take
    turns, one item per turn, so that one org's burst waits behind the
    others' turns instead of starving them. A lane holds at most
    max_per_lane items and the whole queue max_total.
    A taken item leaves its lane at once (ef_fairq_take); or it stays
    first in its lane, which sits out of the turns until it is released
    (ef_fairq_hold / ef_fairq_release), so that an org's items are worked
    one at a time.
    Thread-safety: none; the caller holds its own lock. */
#ifndef EF_FAIRQ_H
#define EF_FAIRQ_H

#include <stdint.h>

typedef struct ef_fairq ef_fairq_t;
typedef struct ef_fairq_lane ef_fairq_lane_t;

/*  NULL if out of memory; caps of 0 count as 1. */
ef_fairq_t *ef_fairq_new (uint32_t max_total, uint32_t max_per_lane);
/*  Frees the queue, not the items left in it. */
void ef_fairq_destroy (ef_fairq_t **self_p);
/*  Append item (not NULL) to key's lane (a new lane takes its turn after the lanes
    waiting). 0, or EF_EUNAVAILABLE when closed, the lane or the queue is
    full, or memory is short. */
int ef_fairq_push (ef_fairq_t *self, uint64_t key, void *item);
/*  The first item of the lane whose turn it is, taken out; the lane, if
    it holds more, goes to the back of the turns. NULL if none waits. */
void *ef_fairq_take (ef_fairq_t *self);
/*  The same item, left first in its lane and still counted; the lane
    sits out of the turns until ef_fairq_release. NULL if none waits. */
void *ef_fairq_hold (ef_fairq_t *self, ef_fairq_lane_t **lane);
/*  Give a held lane back: finished drops its first item; the lane, if it
    holds more, goes to the back of the turns. */
void ef_fairq_release (ef_fairq_t *self, ef_fairq_lane_t *lane, int finished);
/*  Items in the queue, held ones included. */
uint32_t ef_fairq_count (const ef_fairq_t *self);
/*  From now on every push is refused; what waits can still be taken. */
void ef_fairq_close (ef_fairq_t *self);
/*  1 once closed. */
int ef_fairq_closed (const ef_fairq_t *self);

#endif
