/*  ef_file.h: small file operations the broker and the CLI share. */
#ifndef EF_FILE_H
#define EF_FILE_H

/*  Copy from_dir/name to to_dir/name (created, never overwritten), with
    the source's permission bits, and fsync the copy. 0, or -1 with errno
    (ENOENT when the source is missing, EEXIST when the target is there). */
int ef_file_copy (const char *from_dir, const char *to_dir, const char *name);

#endif
