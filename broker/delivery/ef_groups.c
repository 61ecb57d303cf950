/*  ef_groups.c: the consumer-group rules and their record (see
    ef_groups.h). A record is a msgpack array [committed, lease_ms,
    created_at, [[member, from, to, expires_ms, done], …]]. */
#include "ef_groups.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_proto.h"

#include <stdlib.h>
#include <string.h>

int
ef_groups_name_valid (ef_str_t name)
{
    return ef_proto_name_valid (name);
}

void
ef_groups_init (ef_group_t *g, uint32_t stream, ef_str_t name, uint64_t now_ms,
                uint32_t lease_ms)
{
    memset (g, 0, sizeof *g);
    g->stream = stream;
    memcpy (g->name, name.ptr,
            name.len < EF_GROUP_NAME_MAX ? name.len : EF_GROUP_NAME_MAX);
    g->lease_ms = lease_ms ? lease_ms : EF_LEASE_MS_DEFAULT;
    g->created_at = now_ms;
}

static int
s_is (const ef_lease_t *l, ef_str_t member)
{
    return strlen (l->member) == member.len &&
           memcmp (l->member, member.ptr, member.len) == 0;
}

static void
s_remove (ef_group_t *g, uint32_t i)
{
    g->leases[i] = g->leases[--g->nleases];
}

static int
s_by_from (const void *a, const void *b)
{
    const ef_lease_t *x = a, *y = b;
    return x->from < y->from ? -1 : x->from > y->from;
}

/*  Drop what the committed offset covers, then move the offset over done
    leases that start right after it. */
static void
s_compact (ef_group_t *g)
{
    for (uint32_t i = 0; i < g->nleases;) {
        ef_lease_t *l = &g->leases[i];
        if (l->to <= g->committed)
            s_remove (g, i);
        else {
            if (l->from <= g->committed)
                l->from = g->committed + 1;
            i++;
        }
    }
    qsort (g->leases, g->nleases, sizeof g->leases[0], s_by_from);
    while (g->nleases && g->leases[0].done &&
           g->leases[0].from == g->committed + 1) {
        g->committed = g->leases[0].to;
        memmove (g->leases, g->leases + 1,
                 (g->nleases - 1) * sizeof g->leases[0]);
        g->nleases--;
    }
}

int
ef_groups_claim (ef_group_t *g, ef_str_t member, uint64_t head, uint32_t limit,
                 uint64_t now_ms, uint64_t *from, uint64_t *to)
{
    ef_lease_t *expired = NULL;
    uint64_t top = g->committed;
    if (limit == 0)
        limit = 1;
    for (uint32_t i = 0; i < g->nleases; i++) {
        ef_lease_t *l = &g->leases[i];
        if (l->to > top)
            top = l->to;
        if (l->done)
            continue;
        if (s_is (l, member) && l->expires_ms > now_ms) {
            *from = l->from, *to = l->to; /* its own open lease, again */
            return 1;
        }
        if (l->expires_ms <= now_ms && (!expired || l->from < expired->from))
            expired = l;
    }
    if (expired) {
        /* a lease its member did not commit in time: this member's now */
        memset (expired->member, 0, sizeof expired->member);
        memcpy (expired->member, member.ptr, member.len);
        expired->expires_ms = now_ms + g->lease_ms;
        *from = expired->from, *to = expired->to;
        return 1;
    }
    if (top >= head)
        return 0;
    if (g->nleases == EF_GROUP_MAX_LEASES)
        return EF_ECONFLICT;
    ef_lease_t *l = &g->leases[g->nleases++];
    memset (l, 0, sizeof *l);
    memcpy (l->member, member.ptr, member.len);
    l->from = top + 1;
    l->to = head - l->from + 1 > limit ? l->from + limit - 1 : head;
    l->expires_ms = now_ms + g->lease_ms;
    *from = l->from, *to = l->to;
    return 1;
}

int
ef_groups_release (ef_group_t *g, ef_str_t member)
{
    int any = 0;
    for (uint32_t i = 0; i < g->nleases; i++) {
        ef_lease_t *l = &g->leases[i];
        if (!l->done && s_is (l, member) && l->expires_ms) {
            l->expires_ms = 0; /* expired for any now */
            any = 1;
        }
    }
    return any;
}

int
ef_groups_commit (ef_group_t *g, ef_str_t member, uint64_t seq)
{
    if (seq < g->committed)
        return EF_ECONFLICT;
    if (seq == g->committed)
        return 0;
    ef_lease_t *hit = NULL;
    for (uint32_t i = 0; i < g->nleases; i++) {
        ef_lease_t *l = &g->leases[i];
        if (l->from <= seq && seq <= l->to) {
            if (l->done)
                return 0; /* inside a range committed already: nothing new */
            if (!hit || (member.len && s_is (l, member)))
                hit = l;
        }
    }
    if (!hit || !member.len) {
        /* no lease holds it (a group read without members): the offset
           itself moves */
        g->committed = seq;
    } else if (seq == hit->to) {
        hit->done = 1;
    } else if (g->nleases < EF_GROUP_MAX_LEASES) {
        /* the rest of the lease stays open for its member */
        ef_lease_t *rest = &g->leases[g->nleases++];
        *rest = *hit;
        rest->from = seq + 1;
        rest->done = 0;
        hit->to = seq;
        hit->done = 1;
    } else if (hit->from == g->committed + 1) {
        /* no room to split: the committed part is the offset's own */
        g->committed = seq;
        hit->from = seq + 1;
    } else
        return EF_ECONFLICT; /* no room to remember it: commit again later */
    s_compact (g);
    return 0;
}

void
ef_groups_seek (ef_group_t *g, uint64_t committed)
{
    g->committed = committed;
    g->nleases = 0;
}

uint32_t
ef_groups_members (const ef_group_t *g, uint64_t now_ms)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < g->nleases; i++) {
        const ef_lease_t *l = &g->leases[i];
        if (l->done || l->expires_ms <= now_ms)
            continue;
        int seen = 0;
        for (uint32_t j = 0; j < i && !seen; j++)
            seen = !g->leases[j].done && g->leases[j].expires_ms > now_ms &&
                   strcmp (g->leases[j].member, l->member) == 0;
        n += !seen;
    }
    return n;
}

/* ---------------------------------------------------------------- store */

static int
s_decode (ef_str_t v, uint32_t stream, ef_str_t name, ef_group_t *g)
{
    ef_mpr_t r;
    uint32_t n, nl;
    uint64_t lease_ms;
    ef_groups_init (g, stream, name, 0, 0);
    ef_mpr_init (&r, v.ptr, v.len);
    if (ef_mpr_array (&r, &n) || n < 4 || ef_mpr_uint (&r, &g->committed) ||
        ef_mpr_uint (&r, &lease_ms) || ef_mpr_uint (&r, &g->created_at) ||
        ef_mpr_array (&r, &nl) || nl > EF_GROUP_MAX_LEASES)
        return EF_ESTORE;
    g->lease_ms = (uint32_t)lease_ms;
    for (uint32_t i = 0; i < nl; i++) {
        ef_lease_t *l = &g->leases[i];
        uint32_t m;
        uint64_t done;
        ef_str_t member;
        if (ef_mpr_array (&r, &m) || m < 5 || ef_mpr_str (&r, &member) ||
            member.len > EF_MEMBER_MAX || ef_mpr_uint (&r, &l->from) ||
            ef_mpr_uint (&r, &l->to) || ef_mpr_uint (&r, &l->expires_ms) ||
            ef_mpr_uint (&r, &done))
            return EF_ESTORE;
        memcpy (l->member, member.ptr, member.len);
        l->done = (int)done;
    }
    g->nleases = nl;
    return 0;
}

int
ef_groups_load (ef_store_txn_t *txn, uint32_t stream, ef_str_t name,
                ef_group_t *g)
{
    ef_str_t v;
    if (!ef_groups_name_valid (name))
        return EF_ENOTFOUND;
    int rc = ef_store_group_get (txn, stream, name, &v);
    return rc ? rc : s_decode (v, stream, name, g);
}

int
ef_groups_save (ef_store_txn_t *txn, const ef_group_t *g)
{
    ef_buf_t b;
    ef_buf_init (&b);
    int rc = ef_groups_encode (g, &b);
    if (rc == 0)
        rc = ef_store_group_put (txn, g->stream, ef_str (g->name), b.data,
                                 b.len);
    ef_buf_free (&b);
    return rc;
}

int
ef_groups_encode (const ef_group_t *g, ef_buf_t *b)
{
    ef_mp_array (b, 4);
    ef_mp_uint (b, g->committed);
    ef_mp_uint (b, g->lease_ms);
    ef_mp_uint (b, g->created_at);
    ef_mp_array (b, g->nleases);
    for (uint32_t i = 0; i < g->nleases; i++) {
        const ef_lease_t *l = &g->leases[i];
        ef_mp_array (b, 5);
        ef_mp_cstr (b, l->member);
        ef_mp_uint (b, l->from);
        ef_mp_uint (b, l->to);
        ef_mp_uint (b, l->expires_ms);
        ef_mp_uint (b, (uint64_t)l->done);
    }
    return b->oom ? EF_ENOMEM : 0;
}

typedef struct {
    uint32_t stream;
    ef_groups_fn *fn;
    void *arg;
    int err;
} s_walk_t;

static int
s_visit (void *arg, ef_str_t name, ef_str_t val)
{
    s_walk_t *w = arg;
    ef_group_t *g = malloc (sizeof *g); /* large: not on the stack */
    if (!g) {
        w->err = EF_ENOMEM;
        return 1;
    }
    int stop = 1;
    if ((w->err = s_decode (val, w->stream, name, g)) == 0)
        stop = w->fn (w->arg, g);
    free (g);
    return stop || w->err;
}

int
ef_groups_each (ef_store_txn_t *txn, uint32_t stream, ef_groups_fn *fn,
                void *arg)
{
    s_walk_t w = {stream, fn, arg, 0};
    int rc = ef_store_group_each (txn, stream, s_visit, &w);
    return rc ? rc : w.err;
}
