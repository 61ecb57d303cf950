/*  u_store.h: what the unit tests that touch the disk share: a scratch
    directory under /tmp per test, and an LMDB store opened in it. */
#ifndef EF_U_STORE_H
#define EF_U_STORE_H

#include "ef_store.h"

#include <stdint.h>

/*  Make /tmp/ef_TAG.XXXXXX into dir (64 bytes). 0 or -1. */
int u_tmpdir (char *dir, const char *tag);
/*  Remove dir and all below it. */
void u_rmrf (const char *dir);

/*  A test's store: its directory, and the store once opened. */
typedef struct {
    char dir[64];
    ef_store_t *store;
} u_store_t;

/*  cmocka setup and teardown: *state gets a u_store_t with a fresh
    directory (not yet opened); teardown closes and removes it. */
int u_store_setup (void **state);
int u_store_teardown (void **state);
/*  (Re)open the store of fx->dir (map_size 0 keeps the default); fails
    the test when it cannot. */
void u_store_open (u_store_t *fx, uint64_t map_size, int fsync);

/*  A write transaction on s, begun; fails the test when it cannot. */
ef_store_txn_t *u_write_begin (ef_store_t *s);
/*  Commit *w (which becomes NULL); fails the test when it cannot. */
void u_write_commit (ef_store_txn_t **w);
/*  A read snapshot of s, begun; fails the test when it cannot. */
ef_store_txn_t *u_reader (ef_store_t *s);
/*  End and free *r (which becomes NULL). */
void u_reader_done (ef_store_txn_t **r);

#endif
