/*  bench_disk: the disk's own synchronous write latency, the limit the
    broker's fsync delivery latency is read against (DESIGN.md §11). In
    DIR (the directory the broker's data dir lives in) it preallocates a
    file, then writes N blocks of 8 KiB one after the other, each
    followed by fdatasync, and prints the distribution of write+fdatasync
    in ms. The file is overwritten in place (as LMDB rewrites pages of a
    file that has already grown), so no sync pays for a size change.
    usage: bench_disk DIR [N]   (default 2000) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_BLOCK 8192
#define S_SPAN  (64u << 20) /* writes wrap within 64 MiB */

static uint64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int
s_cmp (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
    if (argc < 2) {
        fprintf (stderr, "usage: bench_disk DIR [N]\n");
        return 2;
    }
    uint64_t n = argc > 2 ? strtoull (argv[2], NULL, 10) : 2000;
    if (n == 0)
        n = 1;
    char path[4096];
    snprintf (path, sizeof path, "%s/bench_disk.%d", argv[1], (int)getpid ());
    int fd = open (path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        perror (path);
        return 1;
    }
    unlink (path); /* gone when we are, whatever happens */
    static char block[S_BLOCK];
    memset (block, 0xa5, sizeof block);
    /* written through once and synced: the blocks exist on disk */
    for (uint64_t off = 0; off < S_SPAN; off += S_BLOCK)
        if (pwrite (fd, block, S_BLOCK, (off_t)off) != S_BLOCK) {
            perror ("pwrite");
            return 1;
        }
    if (fsync (fd)) {
        perror ("fsync");
        return 1;
    }
    uint64_t *lat = malloc (n * sizeof *lat);
    if (!lat)
        return 1;
    uint64_t t_all = s_now_ns ();
    for (uint64_t i = 0; i < n; i++) {
        off_t off = (off_t)((i * S_BLOCK) % S_SPAN);
        block[i % S_BLOCK] ^= 1; /* not the same bytes twice */
        uint64_t t0 = s_now_ns ();
        if (pwrite (fd, block, S_BLOCK, off) != S_BLOCK || fdatasync (fd)) {
            perror ("write+fdatasync");
            return 1;
        }
        lat[i] = s_now_ns () - t0;
    }
    double secs = (s_now_ns () - t_all) / 1e9;
    qsort (lat, n, sizeof *lat, s_cmp);
    printf (
        "disk_write_fdatasync_8k_p50_ms=%.3f disk_write_fdatasync_8k_p99_ms="
        "%.3f disk_write_fdatasync_8k_max_ms=%.3f syncs_per_s=%.0f n=%llu\n",
        lat[n / 2] / 1e6, lat[n * 99 / 100] / 1e6, lat[n - 1] / 1e6, n / secs,
        (unsigned long long)n);
    free (lat);
    close (fd);
    return 0;
}
