/*  ef_backup.c: BACKUP's copy (ef_backup.h). The reactor checks the
    path and makes DIR.tmp, so every refusal is in the reply; the copy
    thread then writes DIR.tmp/data.mdb with ef_store_copy (LMDB's
    compacting copy holds one read transaction while it runs: writers go
    on, but the pages they free cannot be reused until it ends, so the
    store's file grows by about what is written meanwhile), copies the
    key files byte for byte with their modes, syncs, and renames DIR.tmp
    to DIR. A copy that fails removes DIR.tmp. Progress is the size of
    DIR.tmp/data.mdb as it grows, against the store's used bytes. */
#include "ef_backup.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_file.h"
#include "eventflow/ef_time.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_DIR_MAX 1024 /* bytes of a backup's path */

/*  The data dir's files a backup holds: the broker's, the gateway's and
    the local admin's CurveZMQ keys and the JWT signing key (required),
    and the public halves (when there). initial-admin is not copied: it
    is the first start's note of a password that may have changed since,
    and a restored store does not need it. */
static const struct {
    const char *name;
    int required;
} s_key_files[] = {
    {"broker.key", 1},  {"broker.pub", 1}, {"gateway.key", 1},
    {"gateway.pub", 0}, {"admin.key", 1},  {"admin.pub", 0},
    {"jwt.key", 1},     {"jwt.keys", 0},
};

typedef enum { S_NONE, S_RUNNING, S_DONE, S_FAILED } s_state_t;
static const char *s_state_names[] = {"none", "running", "done", "failed"};

struct ef_backup {
    ef_store_t *store;
    ef_log_t *log;
    char *data_dir;
    pthread_mutex_t lock; /* guards what the thread and the reactor share */
    pthread_t thread;
    int joinable;
    s_state_t state;
    char dir[S_DIR_MAX + 1];
    char tmp[S_DIR_MAX + 8];
    uint64_t started_at, finished_at, bytes, used_bytes; /* wall clock */
    int64_t started_mono, finished_mono; /* elapsed: a step moves it not */
    char error[256];
    char why[S_DIR_MAX + 128]; /* a refusal's text, for the reactor */
};

ef_backup_t *
ef_backup_new (ef_store_t *store, const char *data_dir, ef_log_t *log)
{
    ef_backup_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->data_dir = strdup (data_dir);
    if (!self->data_dir) {
        free (self);
        return NULL;
    }
    self->store = store;
    self->log = log;
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

void
ef_backup_destroy (ef_backup_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_backup_t *self = *self_p;
    if (self->joinable)
        pthread_join (self->thread, NULL);
    pthread_mutex_destroy (&self->lock);
    free (self->data_dir);
    free (self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- thread */

/*  fsync a directory (so a rename or a new entry in it is on disk). */
static int
s_sync_dir (const char *path)
{
    int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync (fd);
    close (fd);
    return rc;
}

/*  Remove tmp and what the copy put in it (files only: it makes no
    subdirectories). */
static void
s_remove_tmp (const char *tmp)
{
    DIR *d = opendir (tmp);
    if (d) {
        struct dirent *e;
        char path[PATH_MAX];
        while ((e = readdir (d)))
            if (strcmp (e->d_name, ".") && strcmp (e->d_name, "..")) {
                snprintf (path, sizeof path, "%s/%s", tmp, e->d_name);
                unlink (path);
            }
        closedir (d);
    }
    rmdir (tmp);
}

static uint64_t
s_file_size (const char *dir, const char *name)
{
    char path[PATH_MAX];
    struct stat st;
    snprintf (path, sizeof path, "%s/%s", dir, name);
    return stat (path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/*  The copy: data.mdb, the keys, the rename. Sets error on failure. */
static int
s_copy (ef_backup_t *self, char *error, size_t size)
{
    char path[PATH_MAX];
    const char *why = NULL;
    snprintf (path, sizeof path, "%s/data.mdb", self->tmp);
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf (error, size, "cannot create data.mdb: %s", strerror (errno));
        return EF_ESTORE;
    }
    int rc = ef_store_copy (self->store, fd, &why);
    if (rc)
        snprintf (error, size, "the store's copy failed: %s", why);
    else if (fsync (fd)) {
        snprintf (error, size, "cannot write data.mdb: %s", strerror (errno));
        rc = EF_ESTORE;
    }
    close (fd);
    for (size_t i = 0;
         rc == 0 && i < sizeof s_key_files / sizeof s_key_files[0]; i++)
        if (ef_file_copy (self->data_dir, self->tmp, s_key_files[i].name) &&
            (errno != ENOENT || s_key_files[i].required)) {
            snprintf (error, size, "cannot copy %s: %s", s_key_files[i].name,
                      strerror (errno));
            rc = EF_ESTORE;
        }
    if (rc == 0 && (s_sync_dir (self->tmp) || rename (self->tmp, self->dir))) {
        snprintf (error, size, "cannot rename dir.tmp to dir: %s",
                  strerror (errno));
        rc = EF_ESTORE;
    }
    if (rc == 0) {
        /* the new name on disk: sync the parent */
        char parent[PATH_MAX];
        snprintf (parent, sizeof parent, "%s", self->dir);
        char *slash = strrchr (parent, '/');
        if (slash == parent)
            slash[1] = '\0';
        else if (slash)
            *slash = '\0';
        s_sync_dir (parent);
    }
    return rc;
}

static void *
s_run (void *arg)
{
    ef_backup_t *self = arg;
    char error[512] = "";
    int rc = s_copy (self, error, sizeof error);
    if (rc)
        s_remove_tmp (self->tmp);
    uint64_t bytes = rc ? 0 : s_file_size (self->dir, "data.mdb");
    pthread_mutex_lock (&self->lock);
    self->finished_at = ef_time_now_ms ();
    self->finished_mono = ef_time_mono_ms ();
    self->bytes = bytes;
    self->state = rc ? S_FAILED : S_DONE;
    snprintf (self->error, sizeof self->error, "%s", error);
    uint64_t ms = (uint64_t)(self->finished_mono - self->started_mono);
    pthread_mutex_unlock (&self->lock);
    if (rc)
        ef_log_error (self->log, "backup failed",
                      "\"dir\":\"%s\",\"error\":\"%s\"", self->dir, error);
    else
        ef_log_info (self->log, "backup done",
                     "\"dir\":\"%s\",\"bytes\":%llu,\"ms\":%llu", self->dir,
                     (unsigned long long)bytes, (unsigned long long)ms);
    return NULL;
}

/* ---------------------------------------------------------------- reactor */

int
ef_backup_start (ef_backup_t *self, const char *dir, size_t dir_len,
                 uint64_t now_ms, const char **why)
{
    char path[S_DIR_MAX + 1];
    if (dir_len == 0 || dir_len > S_DIR_MAX || memchr (dir, '\0', dir_len)) {
        *why = "dir is an absolute path of 1 to 1024 bytes";
        return EF_EINVAL;
    }
    memcpy (path, dir, dir_len);
    path[dir_len] = '\0';
    while (dir_len > 1 && path[dir_len - 1] == '/')
        path[--dir_len] = '\0';
    if (path[0] != '/') {
        *why = "dir must be an absolute path on the broker's machine";
        return EF_EINVAL;
    }
    pthread_mutex_lock (&self->lock);
    s_state_t state = self->state;
    pthread_mutex_unlock (&self->lock);
    if (state == S_RUNNING) {
        *why = "a backup is running (BACKUP_STATUS tells its progress)";
        return EF_ECONFLICT;
    }
    struct stat st;
    if (stat (path, &st) == 0) {
        DIR *d = S_ISDIR (st.st_mode) ? opendir (path) : NULL;
        int empty = d != NULL;
        struct dirent *e;
        while (d && (e = readdir (d)))
            if (strcmp (e->d_name, ".") && strcmp (e->d_name, ".."))
                empty = 0;
        if (d)
            closedir (d);
        if (!empty) {
            *why = "dir exists and is not an empty directory";
            return EF_ECONFLICT;
        }
    }
    char tmp[sizeof self->tmp];
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    if (mkdir (tmp, 0700)) {
        int e = errno;
        snprintf (self->why, sizeof self->why,
                  e == EEXIST ? "%s exists (a backup cut short?): remove it"
                  : e == ENOENT
                      ? "%s: dir's parent directory does not exist"
                      : "cannot create %s: the broker's user needs write and "
                        "search permission on dir's parent directory (%s)",
                  tmp, strerror (e));
        *why = self->why;
        return e == EEXIST ? EF_ECONFLICT : EF_EINVAL;
    }
    if (self->joinable) {
        pthread_join (self->thread, NULL); /* the last one, ended */
        self->joinable = 0;
    }
    pthread_mutex_lock (&self->lock);
    self->state = S_RUNNING;
    memcpy (self->dir, path, dir_len + 1);
    memcpy (self->tmp, tmp, sizeof tmp);
    self->started_at = now_ms;
    self->started_mono = ef_time_mono_ms ();
    self->finished_at = 0;
    self->bytes = 0;
    self->used_bytes = ef_store_used_bytes (self->store);
    self->error[0] = '\0';
    pthread_mutex_unlock (&self->lock);
    if (pthread_create (&self->thread, NULL, s_run, self)) {
        rmdir (tmp);
        pthread_mutex_lock (&self->lock);
        self->state = S_FAILED;
        snprintf (self->error, sizeof self->error, "no thread for the copy");
        pthread_mutex_unlock (&self->lock);
        *why = "no thread for the copy";
        return EF_ENOMEM;
    }
    self->joinable = 1;
    ef_log_info (self->log, "backup started",
                 "\"dir\":\"%s\",\"used_bytes\":%llu", path,
                 (unsigned long long)self->used_bytes);
    return 0;
}

void
ef_backup_write (ef_backup_t *self, ef_buf_t *b)
{
    pthread_mutex_lock (&self->lock);
    s_state_t state = self->state;
    uint64_t bytes = self->bytes;
    if (state == S_RUNNING)
        bytes = s_file_size (self->tmp, "data.mdb");
    int64_t end = self->finished_at ? self->finished_mono : ef_time_mono_ms ();
    ef_mp_map (b, state == S_NONE ? 1 : state == S_FAILED ? 8 : 7);
    ef_mp_key (b, "state");
    ef_mp_cstr (b, s_state_names[state]);
    if (state != S_NONE) {
        ef_mp_key (b, "dir");
        ef_mp_cstr (b, self->dir);
        ef_mp_key (b, "started_at");
        ef_mp_uint (b, self->started_at);
        ef_mp_key (b, "finished_at");
        if (self->finished_at)
            ef_mp_uint (b, self->finished_at);
        else
            ef_mp_nil (b);
        ef_mp_key (b, "bytes");
        ef_mp_uint (b, bytes);
        ef_mp_key (b, "used_bytes");
        ef_mp_uint (b, self->used_bytes);
        ef_mp_key (b, "elapsed_ms");
        ef_mp_uint (b, (uint64_t)(end - self->started_mono));
        if (state == S_FAILED) {
            ef_mp_key (b, "error");
            ef_mp_cstr (b, self->error);
        }
    }
    pthread_mutex_unlock (&self->lock);
}
