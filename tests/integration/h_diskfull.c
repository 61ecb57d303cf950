/*  h_diskfull.c: an LD_PRELOAD shim for tests that makes a disk look full
    to a real eventflow-broker, without root or a small file system. While
    the file named by EF_TEST_DISKFULL exists, writes to the store's
    data.mdb beyond its two meta pages come back short (as write(2) does
    on a full disk, which LMDB reports as EIO), and statvfs reports no
    room. Test-only code; nothing else of the broker is touched. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static int
s_full (void)
{
    const char *flag = getenv ("EF_TEST_DISKFULL");
    return flag && access (flag, F_OK) == 0;
}

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

/*  A write of n bytes at off that a full disk cuts short: what it returns. */
static int
s_cut (int fd, off_t off, size_t n, ssize_t *ret)
{
    if (n < 2 || off < 2 * 4096 || !s_full () || !s_data_file (fd))
        return 0;
    *ret = (ssize_t)(n / 2);
    return 1;
}

ssize_t
pwrite (int fd, const void *p, size_t n, off_t off)
{
    static ssize_t (*real) (int, const void *, size_t, off_t);
    ssize_t ret;
    if (!real)
        real = (ssize_t (*) (int, const void *, size_t, off_t))dlsym (RTLD_NEXT,
                                                                      "pwrite");
    if (s_cut (fd, off, n, &ret))
        return ret;
    return real (fd, p, n, off);
}

ssize_t
writev (int fd, const struct iovec *iov, int cnt)
{
    static ssize_t (*real) (int, const struct iovec *, int);
    ssize_t ret;
    size_t n = 0;
    if (!real)
        real = (ssize_t (*) (int, const struct iovec *, int))dlsym (RTLD_NEXT,
                                                                    "writev");
    for (int i = 0; i < cnt; i++)
        n += iov[i].iov_len;
    if (s_cut (fd, lseek (fd, 0, SEEK_CUR), n, &ret))
        return ret;
    return real (fd, iov, cnt);
}

int
statvfs (const char *path, struct statvfs *st)
{
    static int (*real) (const char *, struct statvfs *);
    if (!real)
        real = (int (*) (const char *, struct statvfs *))dlsym (RTLD_NEXT,
                                                                "statvfs");
    int rc = real (path, st);
    if (rc == 0 && s_full ())
        st->f_bavail = st->f_bfree = 0;
    return rc;
}
