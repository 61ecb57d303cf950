/*  ef_groups.h: consumer groups (DESIGN.md §6). A group is a committed
    offset in one stream (a seq; 0 = nothing committed) and the leases of
    its members: each fetch by a member leases the next unleased range to
    it; its re-fetch returns its open lease; a lease not committed in time
    goes to the next member that fetches; committed ranges that touch the
    committed offset move it on. Offsets never go back except by a seek.
    The state is one record per group in the store (so it survives
    restarts and could be shared by several brokers; the broker keeps
    the leases in memory and lets go those of a record it loads:
    ef_consume.c); the functions that change it are pure, so the rules
    are tested alone.
    Thread-safety: load/save take the caller's transaction. */
#ifndef EF_GROUPS_H
#define EF_GROUPS_H

#include <stdint.h>
#include "eventflow/ef_mp.h"
#include "ef_store.h"

#define EF_GROUP_NAME_MAX   128
#define EF_MEMBER_MAX       64
#define EF_GROUP_MAX_LEASES 256
#define EF_LEASE_MS_DEFAULT 30000

typedef struct {
    char member[EF_MEMBER_MAX + 1];
    uint64_t from, to;   /* seqs, inclusive */
    uint64_t expires_ms; /* monotonic wall clock ms */
    int done;            /* committed, waiting for what is before it */
} ef_lease_t;

typedef struct {
    uint32_t stream;
    char name[EF_GROUP_NAME_MAX + 1];
    uint64_t committed; /* seq; 0 = none */
    uint32_t lease_ms;
    uint64_t created_at;
    ef_lease_t leases[EF_GROUP_MAX_LEASES];
    uint32_t nleases;
} ef_group_t;

/*  1 if name is a valid group name (ef_proto_name_valid). */
int ef_groups_name_valid (ef_str_t name);
/*  A new group at the beginning of the stream. */
void ef_groups_init (ef_group_t *g, uint32_t stream, ef_str_t name,
                     uint64_t now_ms, uint32_t lease_ms);

/*  Lease a range of at most limit events (seqs up to head) to member at
    now_ms: its open lease again, else an expired lease of another member,
    else the next unleased range. 1 with the range in *from and *to, 0 when there is
    nothing to lease, EF_ECONFLICT when the group holds too many leases. */
int ef_groups_claim (ef_group_t *g, ef_str_t member, uint64_t head,
                     uint32_t limit, uint64_t now_ms, uint64_t *from,
                     uint64_t *to);
/*  Commit everything up to seq (by member, or with an empty member for a
    group read without members). 0 (also for a seq inside a range already
    committed), or EF_ECONFLICT when seq is behind the committed offset, or
    when the group has no room left to remember a commit that does not
    touch the offset (nothing changes; commit again later). */
int ef_groups_commit (ef_group_t *g, ef_str_t member, uint64_t seq);
/*  Let every open lease of member go (its connection is gone): another
    member's next claim takes them. 1 if any was let go, else 0. */
int ef_groups_release (ef_group_t *g, ef_str_t member);
/*  Set the committed offset (a seek) and drop every lease. */
void ef_groups_seek (ef_group_t *g, uint64_t committed);
/*  Members with a live lease at now_ms. */
uint32_t ef_groups_members (const ef_group_t *g, uint64_t now_ms);

/*  Store: load (EF_ENOTFOUND for a group never used), save, visit the
    groups of a stream in name order, delete all of a stream's groups. */
int ef_groups_load (ef_store_txn_t *txn, uint32_t stream, ef_str_t name,
                    ef_group_t *g);
int ef_groups_save (ef_store_txn_t *txn, const ef_group_t *g);
/*  g's record appended to b (what save stores). 0 or EF_ENOMEM. */
int ef_groups_encode (const ef_group_t *g, ef_buf_t *b);
typedef int (ef_groups_fn) (void *arg, const ef_group_t *g);
int ef_groups_each (ef_store_txn_t *txn, uint32_t stream, ef_groups_fn *fn,
                    void *arg);

#endif
