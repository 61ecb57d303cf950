/*  h_faults.h: the journal that the h_faults.c shim writes (see there)
    and the power-loss checker reads: a sequence of entries, each a header
    followed, for writes, by the len bytes written. Test-only code. */
#ifndef EF_TEST_H_FAULTS_H
#define EF_TEST_H_FAULTS_H

#include <stdint.h>

enum {
    H_FAULTS_WRITE = 1,       /* len bytes at off, in the page cache only */
    H_FAULTS_SYNC = 2,        /* fdatasync/fsync returned 0: every write
                                 before it is on disk */
    H_FAULTS_DSYNC_WRITE = 3, /* a write on an O_DSYNC descriptor: on disk
                                 when it returned */
};

typedef struct {
    uint32_t kind;
    uint32_t len;  /* bytes that follow (writes) */
    uint64_t off;  /* file offset (writes) */
    uint64_t t_ns; /* CLOCK_MONOTONIC when the call returned */
} h_faults_entry_t;

#endif
