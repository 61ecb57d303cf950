/*  u_store.c: see u_store.h. */
#define _GNU_SOURCE /* nftw */
#include "u_store.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>

#include <cmocka.h>

int
u_tmpdir (char *dir, const char *tag)
{
    snprintf (dir, 64, "/tmp/ef_%.32s.XXXXXX", tag);
    return mkdtemp (dir) ? 0 : -1;
}

static int
s_rm_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove (path);
}

void
u_rmrf (const char *dir)
{
    nftw (dir, s_rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int
u_store_setup (void **state)
{
    u_store_t *fx = calloc (1, sizeof *fx);
    if (!fx || u_tmpdir (fx->dir, "store_test")) {
        free (fx);
        return -1;
    }
    *state = fx;
    return 0;
}

int
u_store_teardown (void **state)
{
    u_store_t *fx = *state;
    ef_store_destroy (&fx->store);
    u_rmrf (fx->dir);
    free (fx);
    return 0;
}

void
u_store_open (u_store_t *fx, uint64_t map_size, int fsync)
{
    const char *why = NULL;
    ef_store_destroy (&fx->store);
    fx->store = ef_store_new (fx->dir);
    assert_non_null (fx->store);
    if (map_size)
        ef_store_set_map_size (fx->store, map_size);
    ef_store_set_sync (fx->store, fsync);
    if (ef_store_open (fx->store, &why))
        fail_msg ("open %s: %s", fx->dir, why ? why : "?");
}

ef_store_txn_t *
u_write_begin (ef_store_t *s)
{
    ef_store_txn_t *w = NULL;
    assert_int_equal (ef_store_write_begin (s, &w), 0);
    assert_non_null (w);
    return w;
}

void
u_write_commit (ef_store_txn_t **w)
{
    assert_int_equal (ef_store_write_commit (w), 0);
    assert_null (*w);
}

ef_store_txn_t *
u_reader (ef_store_t *s)
{
    ef_store_txn_t *r = ef_store_reader_new (s);
    assert_non_null (r);
    assert_int_equal (ef_store_reader_begin (r), 0);
    return r;
}

void
u_reader_done (ef_store_txn_t **r)
{
    ef_store_reader_end (*r);
    ef_store_reader_destroy (r);
    assert_null (*r);
}
