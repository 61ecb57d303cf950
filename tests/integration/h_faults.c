/*  h_faults.c: an LD_PRELOAD shim for tests that watches and breaks the
    store's file, data.mdb, under a real eventflow-broker. Test-only code.

    Recording (EF_FAULTS_JOURNAL=path): every completed write to data.mdb
    (pwrite, pwrite64, pwritev, writev, write: offset, bytes) and every
    completed sync of it (fdatasync, fsync; a write on a descriptor opened
    O_DSYNC/O_SYNC is a write that is synced by itself) is appended to the
    journal, in the order the calls returned, each with the CLOCK_MONOTONIC
    time it returned at (taken under the journal's lock, so times never go
    back along the journal). A power-loss checker rebuilds the file as of
    any point of it (tests/chaos/power_loss.c, h_faults.h).

    Injection (EF_FAULTS_CALL=fdatasync|fsync|pwrite|pwritev|writev|write,
    EF_FAULTS_ERRNO=EIO|ENOSPC, EF_FAULTS_TRIGGER=path): while the trigger
    file exists, that call on data.mdb fails with that errno and does
    nothing (a failed write writes nothing, a failed sync syncs nothing),
    and each injection is counted in the file trigger.count. */
#define _GNU_SOURCE
#include "h_faults.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static int s_journal = -1;

/*  1 if fd is the store's data file. */
static int
s_data_file (int fd)
{
    char link[64], path[512];
    snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink (link, path, sizeof path - 1);
    if (n <= 0)
        return 0;
    path[n] = 0;
    return n >= 9 && strcmp (path + n - 9, "/data.mdb") == 0;
}

/*  Whole writes through the raw system call (never through this shim). */
static void
s_raw_writev (int fd, struct iovec *iov, int cnt)
{
    while (cnt > 0) {
        ssize_t n = syscall (SYS_writev, fd, iov, cnt);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        while (cnt > 0 && (size_t)n >= iov->iov_len)
            n -= (ssize_t)iov->iov_len, iov++, cnt--;
        if (cnt > 0)
            iov->iov_base = (char *)iov->iov_base + n, iov->iov_len -= n;
    }
}

/*  Append one entry (and the bytes of a write) to the journal, if any. */
static void
s_record (int kind, uint64_t off, const struct iovec *data, int cnt, size_t len)
{
    const char *path = getenv ("EF_FAULTS_JOURNAL");
    if (!path)
        return;
    int saved = errno;
    pthread_mutex_lock (&s_lock);
    if (s_journal < 0)
        s_journal =
            (int)syscall (SYS_openat, AT_FDCWD, path,
                          O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (s_journal >= 0) {
        struct timespec ts;
        clock_gettime (CLOCK_MONOTONIC, &ts);
        h_faults_entry_t e = {.kind = (uint32_t)kind,
                              .len = (uint32_t)len,
                              .off = off,
                              .t_ns = (uint64_t)ts.tv_sec * 1000000000ull +
                                      (uint64_t)ts.tv_nsec};
        struct iovec iov[1026];
        int n = 0;
        iov[n++] = (struct iovec){&e, sizeof e};
        /* the bytes written: the first len bytes of data */
        for (int i = 0; i < cnt && len && n < 1026; i++) {
            size_t take = data[i].iov_len < len ? data[i].iov_len : len;
            iov[n++] = (struct iovec){data[i].iov_base, take};
            len -= take;
        }
        s_raw_writev (s_journal, iov, n);
    }
    pthread_mutex_unlock (&s_lock);
    errno = saved;
}

/*  1 when call `name` on fd is to fail now (errno set). */
static int
s_inject (const char *name, int fd)
{
    const char *call = getenv ("EF_FAULTS_CALL");
    const char *trigger = getenv ("EF_FAULTS_TRIGGER");
    if (!call || !trigger || strcmp (call, name) ||
        access (trigger, F_OK) != 0 || !s_data_file (fd))
        return 0;
    const char *e = getenv ("EF_FAULTS_ERRNO");
    char count[600];
    snprintf (count, sizeof count, "%s.count", trigger);
    int cfd = (int)syscall (SYS_openat, AT_FDCWD, count,
                            O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (cfd >= 0) {
        struct iovec one = {"x", 1};
        s_raw_writev (cfd, &one, 1);
        close (cfd);
    }
    errno = e && strcmp (e, "ENOSPC") == 0 ? ENOSPC : EIO;
    return 1;
}

/*  1 when fd's writes go to the journal. */
static int
s_watched (int fd)
{
    return getenv ("EF_FAULTS_JOURNAL") && s_data_file (fd);
}

/*  The file offset of fd (for write and writev), errno kept. */
static uint64_t
s_offset (int fd)
{
    int saved = errno;
    off_t off = lseek (fd, 0, SEEK_CUR);
    errno = saved;
    return off < 0 ? 0 : (uint64_t)off;
}

/*  What a completed write of n bytes at off on a watched fd is for the
    journal. */
static void
s_wrote (int fd, uint64_t off, const struct iovec *iov, int cnt, ssize_t n)
{
    if (n <= 0)
        return;
    int fl = fcntl (fd, F_GETFL);
    int synced = fl >= 0 && (fl & (O_DSYNC | O_SYNC));
    s_record (synced ? H_FAULTS_DSYNC_WRITE : H_FAULTS_WRITE, off, iov, cnt,
              (size_t)n);
}

typedef ssize_t (s_pwrite_fn) (int, const void *, size_t, off_t);
typedef ssize_t (s_pwritev_fn) (int, const struct iovec *, int, off_t);
typedef ssize_t (s_writev_fn) (int, const struct iovec *, int);
typedef ssize_t (s_write_fn) (int, const void *, size_t);
typedef int (s_sync_fn) (int);

/*  The libc function that name is (declares `real`). */
#define S_REAL(name, type)                                                     \
    static type *real;                                                         \
    if (!real)                                                                 \
        real = (type *)dlsym (RTLD_NEXT, name);

ssize_t
pwrite (int fd, const void *p, size_t n, off_t off)
{
    S_REAL ("pwrite", s_pwrite_fn);
    if (s_inject ("pwrite", fd))
        return -1;
    ssize_t r = real (fd, p, n, off);
    struct iovec iov = {(void *)p, n};
    if (s_watched (fd))
        s_wrote (fd, (uint64_t)off, &iov, 1, r);
    return r;
}

ssize_t
pwrite64 (int fd, const void *p, size_t n, off_t off)
{
    S_REAL ("pwrite64", s_pwrite_fn);
    if (s_inject ("pwrite", fd))
        return -1;
    ssize_t r = real (fd, p, n, off);
    struct iovec iov = {(void *)p, n};
    if (s_watched (fd))
        s_wrote (fd, (uint64_t)off, &iov, 1, r);
    return r;
}

ssize_t
pwritev (int fd, const struct iovec *iov, int cnt, off_t off)
{
    S_REAL ("pwritev", s_pwritev_fn);
    if (s_inject ("pwritev", fd))
        return -1;
    ssize_t r = real (fd, iov, cnt, off);
    if (s_watched (fd))
        s_wrote (fd, (uint64_t)off, iov, cnt, r);
    return r;
}

ssize_t
writev (int fd, const struct iovec *iov, int cnt)
{
    S_REAL ("writev", s_writev_fn);
    if (s_inject ("writev", fd))
        return -1;
    int watched = s_watched (fd);
    uint64_t off = watched ? s_offset (fd) : 0;
    ssize_t r = real (fd, iov, cnt);
    if (watched)
        s_wrote (fd, off, iov, cnt, r);
    return r;
}

ssize_t
write (int fd, const void *p, size_t n)
{
    S_REAL ("write", s_write_fn);
    if (s_inject ("write", fd))
        return -1;
    int watched = s_watched (fd);
    uint64_t off = watched ? s_offset (fd) : 0;
    ssize_t r = real (fd, p, n);
    struct iovec iov = {(void *)p, n};
    if (watched)
        s_wrote (fd, off, &iov, 1, r);
    return r;
}

int
fdatasync (int fd)
{
    S_REAL ("fdatasync", s_sync_fn);
    if (s_inject ("fdatasync", fd))
        return -1;
    int r = real (fd);
    if (r == 0 && s_watched (fd))
        s_record (H_FAULTS_SYNC, 0, NULL, 0, 0);
    return r;
}

int
fsync (int fd)
{
    S_REAL ("fsync", s_sync_fn);
    if (s_inject ("fsync", fd))
        return -1;
    int r = real (fd);
    if (r == 0 && s_watched (fd))
        s_record (H_FAULTS_SYNC, 0, NULL, 0, 0);
    return r;
}
