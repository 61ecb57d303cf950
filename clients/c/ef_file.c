/*  ef_file.c: small file operations the broker and the CLI share (see
    ef_file.h): the copy that backup and restore both make of a data
    dir's files. */
#include "eventflow/ef_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int
ef_file_copy (const char *from_dir, const char *to_dir, const char *name)
{
    char from[PATH_MAX], to[PATH_MAX], buf[65536];
    struct stat st;
    snprintf (from, sizeof from, "%s/%s", from_dir, name);
    snprintf (to, sizeof to, "%s/%s", to_dir, name);
    int in = open (from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -1;
    if (fstat (in, &st)) {
        close (in);
        return -1;
    }
    int out =
        open (to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0777);
    if (out < 0) {
        close (in);
        return -1;
    }
    ssize_t n;
    int rc = 0;
    while ((n = read (in, buf, sizeof buf)) > 0)
        if (write (out, buf, (size_t)n) != n) {
            rc = -1;
            break;
        }
    if (n < 0 || fsync (out))
        rc = -1;
    int saved = errno;
    close (in);
    close (out);
    errno = saved;
    return rc;
}
