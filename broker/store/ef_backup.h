/*  ef_backup.h: a consistent copy of the running broker's store and keys
    into a directory of the broker's machine (BACKUP, protocol.md §4).
    One copy at a time runs on its own thread: LMDB's compacting copy
    under its own read transaction (ef_store_copy), so neither the reactor
    nor the writer waits for it, then the data dir's key files; all into
    DIR.tmp, renamed DIR when whole. The reactor starts it and reads its
    progress; nothing else touches it. */
#ifndef EF_BACKUP_H
#define EF_BACKUP_H

#include "ef_store.h"
#include "eventflow/ef_log.h"
#include "eventflow/ef_mp.h"

#include <stdint.h>

typedef struct ef_backup ef_backup_t;

/*  A backup runner for the open store whose key files are in data_dir
    (copied). NULL on OOM. */
ef_backup_t *ef_backup_new (ef_store_t *store, const char *data_dir,
                            ef_log_t *log);
/*  Waits for a running copy to end, then frees. Safe on NULL. */
void ef_backup_destroy (ef_backup_t **self_p);

/*  Start a backup into dir (absolute; missing or an empty directory; its
    parent writable by the broker's user, which makes dir.tmp there).
    Returns at once: 0 (the copy runs), EF_EINVAL (a relative or too long
    path, a parent the broker cannot write in), EF_ECONFLICT (a backup
    runs, dir is not empty, dir.tmp exists), with *why set (static, or
    self's own text until the next start). now_ms: its started_at. */
int ef_backup_start (ef_backup_t *self, const char *dir, size_t dir_len,
                     uint64_t now_ms, const char **why);

/*  The Backup map of protocol.md §4 (the running copy or the last one):
    {state, dir, started_at, finished_at, bytes, used_bytes, seconds,
    error}. */
void ef_backup_write (ef_backup_t *self, ef_buf_t *b);

#endif
