/*  power_loss.c: acknowledged events survive a power cut, not only a
    crash of the process. One recorded run, then many cuts:

    1. A real broker runs under the h_faults.c shim, which journals every
       write to data.mdb and every sync of it, with the monotonic time the
       call returned. A producer publishes for --seconds and notes, for
       every acknowledged event, its id, seq and the monotonic time the
       acknowledgement arrived. Then the broker is killed.
    2. For each of --cuts random points of the journal (taken from the
       load's start on), the file is rebuilt as a power cut there could
       have left it: every write followed by a completed sync before the
       cut is there (writes on an O_DSYNC descriptor are synced by
       themselves); every later write before the cut is there whole, not
       at all, or torn (a random subset of its 512-byte sectors), each
       independently; with --writeback-ms W, writes older than W at the
       cut are taken as written back by the kernel (the model for
       --durability os, where nothing is ever synced). With --flusher the
       unsynced writes are not each kept or not: the pages they left
       dirty go to the disk in offset order, as the kernel's flusher
       writes a file back, and the pass is cut at a random page (torn).
    3. The rebuilt file is opened with LMDB (read-only, in a child process
       so that a crash on a corrupt file is counted, not fatal) and every
       event acknowledged before the cut must be there, under its seq, with
       the stream's seqs gapless from 1. Sound because the shim's times
       never go back along the journal: an acknowledgement arrives after
       its commit's sync returned, so an event acknowledged before the cut
       time (the time of the first journal entry not taken) was synced by
       an entry before the cut.
    4. On --brokers of the cuts a real broker is started on the rebuilt
       file and must serve every event acknowledged before the cut, in
       order.
    5. Last, a crash of the process alone: every write of the journal
       kept (the kernel has them), every acknowledged event must be there.

    Prints its figures and a verdict. For fsync the verdict is PASS (exit
    0) when every cut opens, is gapless and loses nothing acknowledged,
    every sampled broker serves it, and the process crash loses nothing.
    For os it is MEASURED (exit 0 unless the process crash lost
    something): the cuts that lose acknowledged events, how many and how
    old, and the cuts that leave a store LMDB cannot open. Test-only code
    (the ctest integration_power_loss runs a quick one; tests/chaos/
    power_loss.sh the full 1,000). */
#define _GNU_SOURCE
#include "h_faults.h"
#include "harness.h"
#include "eventflow/ef_time.h"
#include "eventflow/ef_uuid.h"
#include "eventflow/ef_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <lmdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const char *durability;
    int cuts;
    double seconds;
    int brokers;
    uint64_t writeback_ms; /* 0: none */
    uint64_t rate;         /* events/s offered; 0: flat out */
    int flusher;           /* unsynced writes: a flusher's pass, cut */
    unsigned seed;
} s_opts_t;

typedef struct {
    ef_uuid_t id;
    uint64_t seq;
    uint64_t t_ns; /* when its acknowledgement arrived */
} s_ack_t;

typedef struct {
    s_ack_t *v;
    size_t n, cap;
    uint64_t errors;
} s_acks_t;

typedef struct {
    const h_faults_entry_t *e;
    const uint8_t *data;
} s_entry_t;

typedef struct {
    s_entry_t *v;
    size_t n;
    size_t writes, syncs, dsyncs;
} s_journal_t;

/*  What the check of one rebuilt file found. */
typedef struct {
    int opened;      /* 1 when LMDB opened it and every read went well */
    int mdb_rc;      /* else LMDB's error (0: the checker crashed) */
    uint64_t stored; /* events of the stream in the file */
    int gapless;     /* its seqs are 1..stored */
    uint64_t lost;   /* acknowledged before the cut, not there */
    size_t first_lost;
    uint64_t touched; /* a byte of every 512 of the records, summed: each
                         record was read */
} s_result_t;

/* ---------------------------------------------------------------- load */

static void
s_on_ack (void *arg, int status, const ef_publish_result_t *res, uint32_t n)
{
    s_acks_t *a = arg;
    uint64_t now = ef_time_mono_ns ();
    if (status) {
        a->errors++;
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (res[i].code) {
            a->errors++;
            continue;
        }
        if (a->n == a->cap) {
            a->cap = a->cap ? a->cap * 2 : 65536;
            a->v = realloc (a->v, a->cap * sizeof *a->v);
        }
        s_ack_t *k = &a->v[a->n++];
        ef_uuid_parse (res[i].event_id.ptr, res[i].event_id.len, &k->id);
        k->seq = res[i].seq;
        k->t_ns = now;
    }
}

static int
s_by_time (const void *a, const void *b)
{
    const s_ack_t *x = a, *y = b;
    return x->t_ns < y->t_ns ? -1 : x->t_ns > y->t_ns;
}

/*  Publish batches of 10 for `seconds`, 16 requests in flight, at most
    rate events a second (0: as fast as the broker takes them). */
static int
s_load (ef_client_t *c, double seconds, uint64_t rate, s_acks_t *acks)
{
    char payload[200];
    ef_event_in_t evs[10];
    memset (payload, 'p', sizeof payload);
    payload[0] = '"', payload[sizeof payload - 2] = '"';
    payload[sizeof payload - 1] = 0;
    for (int i = 0; i < 10; i++) {
        memset (&evs[i], 0, sizeof evs[i]);
        evs[i].type = ef_str ("power");
        evs[i].payload = ef_str (payload);
    }
    ef_client_set_max_inflight (c, 16);
    uint64_t start = ef_time_mono_ns (), sent = 0;
    uint64_t end = start + (uint64_t)(seconds * 1e9);
    for (uint64_t now = start; now < end; now = ef_time_mono_ns ()) {
        if (rate && sent * 1000000000ull > rate * (now - start)) {
            ef_client_poll (c, 1); /* ahead of the rate: take replies */
            continue;
        }
        if (ef_client_publish_async (c, "power", evs, 10, s_on_ack, acks))
            return -1;
        sent += 10;
    }
    return ef_client_flush (c, 20000);
}

/* ---------------------------------------------------------------- journal */

static int
s_journal_read (const char *path, s_journal_t *j, const uint8_t **map,
                size_t *size)
{
    int fd = open (path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat (fd, &st) || st.st_size == 0)
        return -1;
    *size = (size_t)st.st_size;
    *map = mmap (NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0);
    close (fd);
    if (*map == MAP_FAILED)
        return -1;
    size_t cap = 1 << 16, pos = 0;
    j->v = malloc (cap * sizeof *j->v);
    while (pos + sizeof (h_faults_entry_t) <= *size) {
        const h_faults_entry_t *e = (const void *)(*map + pos);
        if (pos + sizeof *e + e->len > *size)
            break; /* the last entry, cut short by the kill */
        if (j->n == cap)
            j->v = realloc (j->v, (cap *= 2) * sizeof *j->v);
        j->v[j->n++] = (s_entry_t){e, *map + pos + sizeof *e};
        j->writes += e->kind == H_FAULTS_WRITE;
        j->syncs += e->kind == H_FAULTS_SYNC;
        j->dsyncs += e->kind == H_FAULTS_DSYNC_WRITE;
        pos += sizeof *e + e->len;
    }
    return 0;
}

/*  The index of the first entry at byte position >= at. */
static size_t
s_entry_at (const s_journal_t *j, const uint8_t *map, size_t at)
{
    size_t i = 0;
    while (i < j->n && (size_t)((const uint8_t *)j->v[i].e - map) < at)
        i++;
    return i;
}

/* ---------------------------------------------------------------- image */

/*  The bytes a write replaced, to put back after the check. */
typedef struct {
    uint64_t off;
    uint32_t len;
    uint8_t *old;
} s_undo_t;

typedef struct {
    int fd;
    uint64_t size; /* before the unsynced writes */
    s_undo_t *undo;
    size_t nundo, capundo;
} s_image_t;

static void
s_apply (s_image_t *img, uint64_t off, const uint8_t *p, uint32_t len,
         int keep_undo)
{
    if (keep_undo) {
        if (img->nundo == img->capundo) {
            img->capundo = img->capundo ? img->capundo * 2 : 64;
            img->undo = realloc (img->undo, img->capundo * sizeof *img->undo);
        }
        s_undo_t *u = &img->undo[img->nundo++];
        u->off = off, u->len = len, u->old = malloc (len);
        ssize_t n = pread (img->fd, u->old, len, (off_t)off);
        u->len = n > 0 ? (uint32_t)n : 0;
    }
    if (pwrite (img->fd, p, len, (off_t)off) != (ssize_t)len)
        abort ();
}

static void
s_undo (s_image_t *img)
{
    while (img->nundo) {
        s_undo_t *u = &img->undo[--img->nundo];
        if (u->len && pwrite (img->fd, u->old, u->len, (off_t)u->off) < 0)
            abort ();
        free (u->old);
    }
    if (ftruncate (img->fd, (off_t)img->size))
        abort ();
}

/*  A write that no sync covered: whole, not at all, or some of its
    512-byte sectors. */
static int
s_apply_unsynced (s_image_t *img, const s_entry_t *x)
{
    int how = rand () % 3;
    if (how == 0)
        return how;
    if (how == 1) {
        s_apply (img, x->e->off, x->data, x->e->len, 1);
        return how;
    }
    for (uint32_t at = 0; at < x->e->len; at += 512) {
        uint32_t n = x->e->len - at < 512 ? x->e->len - at : 512;
        if (rand () & 1)
            s_apply (img, x->e->off + at, x->data + at, n, 1);
    }
    return how;
}

/*  A page of a write: where, which write (journal order), its bytes. */
typedef struct {
    uint64_t off;
    size_t order;
    const uint8_t *data;
    uint32_t len;
} s_page_t;

static int
s_by_offset (const void *a, const void *b)
{
    const s_page_t *x = a, *y = b;
    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/*  The kernel's flusher cut in the middle of a pass: the 4 KiB pages the
    writes v[from..to) left dirty, as the page cache holds them at the cut,
    go to the disk in offset order; the first k of them got there, the
    next one torn (a random subset of its sectors), the rest not.
    counts: dropped, whole, torn pages. */
static void
s_apply_flusher (s_image_t *img, const s_journal_t *j, size_t from, size_t to,
                 size_t counts[3])
{
    size_t n = 0, cap = 0;
    s_page_t *pg = NULL;
    for (size_t x = from; x < to; x++) {
        const s_entry_t *w = &j->v[x];
        if (w->e->kind != H_FAULTS_WRITE)
            continue;
        for (uint32_t at = 0; at < w->e->len; at += 4096) {
            if (n == cap)
                pg = realloc (pg, (cap = cap ? cap * 2 : 256) * sizeof *pg);
            uint32_t len = w->e->len - at < 4096 ? w->e->len - at : 4096;
            pg[n++] = (s_page_t){w->e->off + at, x, w->data + at, len};
        }
    }
    qsort (pg, n, sizeof *pg, s_by_offset);
    size_t m = 0; /* the latest content of each page */
    for (size_t i = 0; i < n; i++) {
        if (m && pg[m - 1].off == pg[i].off)
            m--;
        pg[m++] = pg[i];
    }
    size_t k = m ? (size_t)rand () % (m + 1) : 0;
    for (size_t i = 0; i < k; i++)
        s_apply (img, pg[i].off, pg[i].data, pg[i].len, 1);
    if (k < m) {
        for (uint32_t at = 0; at < pg[k].len; at += 512)
            if (rand () & 1)
                s_apply (img, pg[k].off + at, pg[k].data + at,
                         pg[k].len - at < 512 ? pg[k].len - at : 512, 1);
        counts[2]++;
    }
    counts[1] += k;
    counts[0] += m - k - (k < m);
    free (pg);
}

/* ---------------------------------------------------------------- check */

/*  Open path with LMDB and look for the acknowledged acks[0..n). In a
    child: a corrupt file may crash LMDB. */
static void
s_check_child (const char *path, const char *stream_id, const s_ack_t *acks,
               size_t n, s_result_t *r)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi ids, events, event_ids;
    MDB_cursor *cur;
    alarm (20);
    memset (r, 0, sizeof *r);
    int rc = mdb_env_create (&env);
    if (!rc)
        rc = mdb_env_set_maxdbs (env, 64);
    if (!rc)
        rc = mdb_env_open (
            env, path, MDB_RDONLY | MDB_NOLOCK | MDB_NOSUBDIR | MDB_NORDAHEAD,
            0600);
    if (!rc)
        rc = mdb_txn_begin (env, NULL, MDB_RDONLY, &txn);
    if (!rc)
        rc = mdb_dbi_open (txn, "stream_ids", 0, &ids);
    if (!rc)
        rc = mdb_dbi_open (txn, "events", 0, &events);
    if (!rc)
        rc = mdb_dbi_open (txn, "event_ids", 0, &event_ids);
    MDB_val key = {36, (void *)stream_id}, val;
    if (!rc)
        rc = mdb_get (txn, ids, &key, &val);
    if (rc || val.mv_size != 4) {
        r->mdb_rc = rc ? rc : MDB_CORRUPTED;
        return;
    }
    uint8_t num[4], k[20];
    memcpy (num, val.mv_data, 4);
    /* the stream's events: seqs 1, 2, ... and each record read whole */
    uint64_t expect = 1, sum = 0;
    r->gapless = 1;
    key = (MDB_val){4, num};
    rc = mdb_cursor_open (txn, events, &cur);
    if (!rc)
        rc = mdb_cursor_get (cur, &key, &val, MDB_SET_RANGE);
    while (rc == 0 && key.mv_size == 12 && memcmp (key.mv_data, num, 4) == 0) {
        const uint8_t *p = key.mv_data;
        uint64_t seq = 0;
        for (int i = 4; i < 12; i++)
            seq = seq << 8 | p[i];
        if (seq != expect)
            r->gapless = 0;
        expect = seq + 1;
        for (size_t i = 0; i < val.mv_size; i += 512)
            sum += ((const uint8_t *)val.mv_data)[i];
        r->stored++;
        rc = mdb_cursor_get (cur, &key, &val, MDB_NEXT);
    }
    if (rc && rc != MDB_NOTFOUND) {
        r->mdb_rc = rc;
        return;
    }
    /* every acknowledged event under its seq */
    for (size_t i = 0; i < n; i++) {
        memcpy (k, acks[i].id.b, 16);
        memcpy (k + 16, num, 4);
        key = (MDB_val){20, k};
        rc = mdb_get (txn, event_ids, &key, &val);
        uint64_t seq = 0;
        for (size_t b = 0; rc == 0 && b < val.mv_size && b < 8; b++)
            seq = seq << 8 | ((const uint8_t *)val.mv_data)[b];
        if (rc || seq != acks[i].seq || seq > r->stored) {
            if (!r->lost)
                r->first_lost = i;
            r->lost++;
        }
    }
    r->opened = 1;
    r->touched = sum;
}

static void
s_check (const char *path, const char *stream_id, const s_ack_t *acks, size_t n,
         s_result_t *r)
{
    int fds[2];
    memset (r, 0, sizeof *r);
    if (pipe (fds))
        abort ();
    pid_t pid = fork ();
    if (pid < 0) {
        perror ("power_loss: fork");
        exit (1);
    }
    if (pid == 0) {
        close (fds[0]);
        s_result_t mine;
        s_check_child (path, stream_id, acks, n, &mine);
        ssize_t w = write (fds[1], &mine, sizeof mine);
        _exit (w == sizeof mine ? 0 : 1);
    }
    close (fds[1]);
    ssize_t got = read (fds[0], r, sizeof *r);
    close (fds[0]);
    int status;
    waitpid (pid, &status, 0);
    if (got != sizeof *r)
        memset (r, 0, sizeof *r); /* crashed: not opened, rc 0 */
}

/* ---------------------------------------------------------------- broker */

typedef struct {
    const s_ack_t *acks;
    size_t n;
    uint64_t expect, bad;
    char (*ids)[37];
    uint64_t cap;
} s_serve_t;

static int
s_on_event (void *arg, const ef_event_t *ev)
{
    s_serve_t *s = arg;
    if (ev->seq != s->expect)
        s->bad++;
    s->expect = ev->seq + 1;
    if (ev->seq < s->cap && ev->event_id.len == 36) {
        memcpy (s->ids[ev->seq], ev->event_id.ptr, 36);
        s->ids[ev->seq][36] = 0;
    }
    return 0;
}

typedef struct {
    pid_t pid;
    const char *log;
} s_spawned_t;

/*  1 when the broker logged that it is ready, -1 when it exited. */
static int
s_ready (void *arg)
{
    s_spawned_t *p = arg;
    int status;
    if (waitpid (p->pid, &status, WNOHANG) == p->pid) {
        p->pid = 0;
        return -1;
    }
    return h_log_wait (p->log, "\"msg\":\"ready\"", 1, 0) == 0;
}

/*  Start a broker on b->dir at b->endpoint (ipc), its stderr to
    b->log_path: not through h_broker_start, whose log check fails the
    program at the first line that is not JSON (LMDB's assertions on a
    corrupt store are such lines, and --durability os leaves those). */
static int
s_spawn (h_broker_t *b, const char *dur)
{
    pid_t pid = fork ();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open (b->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0)
            dup2 (fd, 2);
        execl (h_bin ("eventflow-broker"), "eventflow-broker", "--data-dir",
               b->dir, "--endpoint", b->endpoint, "--durability", dur,
               "--log-level", "info", (char *)NULL);
        _exit (127);
    }
    s_spawned_t p = {pid, b->log_path};
    b->pid = pid;
    if (h_wait_until (s_ready, &p, 20000) == 0)
        return 0;
    if (p.pid) {
        kill (pid, SIGKILL);
        waitpid (pid, NULL, 0);
    }
    b->pid = 0;
    return -1;
}

static void
s_stop (h_broker_t *b)
{
    if (b->pid <= 0)
        return;
    kill (b->pid, SIGTERM);
    waitpid (b->pid, NULL, 0);
    b->pid = 0;
}

/*  A real broker on the file img_dir/data.mdb (with the keys of the
    recorded run's data dir): 0 when it starts and serves acks[0..n) in
    order under their seqs. */
static int
s_broker_serves (const char *data_dir, const char *img_dir, const char *dur,
                 const s_ack_t *acks, size_t n, uint64_t max_seq)
{
    char dir[256], sub[256];
    h_broker_t b;
    if (h_tempdir (dir))
        return -1;
    snprintf (sub, sizeof sub, "%.200s/data", dir);
    mkdir (sub, 0700);
    DIR *d = opendir (data_dir);
    struct dirent *de;
    while (d && (de = readdir (d)))
        if (de->d_type == DT_REG && strcmp (de->d_name, "data.mdb") &&
            strcmp (de->d_name, "lock.mdb"))
            ef_file_copy (data_dir, sub, de->d_name);
    if (d)
        closedir (d);
    ef_file_copy (img_dir, sub, "data.mdb");
    memset (&b, 0, sizeof b);
    snprintf (b.dir, sizeof b.dir, "%s", sub);
    snprintf (b.endpoint, sizeof b.endpoint, "ipc://%.200s/broker.sock", dir);
    snprintf (b.log_path, sizeof b.log_path, "%.200s/broker.log", dir);
    int rc = -1;
    if (s_spawn (&b, dur) == 0) {
        ef_client_t *c = h_client (&b);
        if (c)
            ef_client_set_timeout (c, 5000);
        s_serve_t s = {acks, n, 1, 0, NULL, max_seq + 1};
        s.ids = calloc (s.cap, sizeof *s.ids);
        uint64_t after = 0, next, head = 0;
        int r = c ? 0 : -1;
        while (r == 0) {
            r = ef_client_read (c, "power", after, 1000, s_on_event, &s, &next,
                                &head);
            if (r || next == after || next >= head)
                break;
            after = next;
        }
        rc = r;
        for (size_t i = 0; rc == 0 && i < n; i++) {
            char want[EF_UUID_STRLEN + 1];
            ef_uuid_format (&acks[i].id, want);
            if (acks[i].seq >= s.cap || strcmp (s.ids[acks[i].seq], want))
                rc = -1;
        }
        if (s.bad)
            rc = -1;
        free (s.ids);
        ef_client_destroy (&c);
        s_stop (&b);
    }
    h_rmrf (dir);
    return rc;
}

/* ---------------------------------------------------------------- main */

static int
s_cmp_size (const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static void
s_usage (void)
{
    fprintf (stderr, "usage: power_loss [--durability fsync|os] [--cuts N] "
                     "[--seconds S] [--rate EVENTS_PER_S] [--brokers K] "
                     "[--writeback-ms W] [--flusher] [--seed N]\n");
    exit (2);
}

int
main (int argc, char **argv)
{
    s_opts_t o = {"fsync", 50, 2.0, 5, 0, 0, 0, (unsigned)time (NULL)};
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--flusher")) {
            o.flusher = 1;
            continue;
        }
        if (i + 1 >= argc)
            s_usage ();
        if (!strcmp (argv[i], "--durability"))
            o.durability = argv[++i];
        else if (!strcmp (argv[i], "--cuts"))
            o.cuts = atoi (argv[++i]);
        else if (!strcmp (argv[i], "--seconds"))
            o.seconds = atof (argv[++i]);
        else if (!strcmp (argv[i], "--brokers"))
            o.brokers = atoi (argv[++i]);
        else if (!strcmp (argv[i], "--writeback-ms"))
            o.writeback_ms = strtoull (argv[++i], NULL, 10);
        else if (!strcmp (argv[i], "--rate"))
            o.rate = strtoull (argv[++i], NULL, 10);
        else if (!strcmp (argv[i], "--seed"))
            o.seed = (unsigned)strtoul (argv[++i], NULL, 10);
        else
            s_usage ();
    }
    if (o.cuts < 1 || o.seconds <= 0)
        s_usage ();
    srand (o.seed);
    signal (SIGPIPE, SIG_IGN);

    /* 1. the recorded run */
    char dir[256], data[300], journal[300], img_dir[300], img[320];
    if (h_tempdir (dir))
        return 1;
    snprintf (data, sizeof data, "%s/data", dir);
    snprintf (journal, sizeof journal, "%s/journal", dir);
    snprintf (img_dir, sizeof img_dir, "%s/image", dir);
    snprintf (img, sizeof img, "%s/data.mdb", img_dir);
    mkdir (img_dir, 0700);
    setenv ("EF_FAULTS_JOURNAL", journal, 1);
    setenv ("LD_PRELOAD", EF_FAULTS_SHIM, 1);
    const char *extra[] = {"--durability", o.durability, NULL};
    h_broker_t b;
    int started = h_broker_start (&b, data, extra);
    unsetenv ("LD_PRELOAD");
    unsetenv ("EF_FAULTS_JOURNAL");
    if (started) {
        fprintf (stderr, "power_loss: the broker did not start\n");
        return 1;
    }
    ef_client_t *c = h_client (&b);
    ef_stream_info_t si;
    if (!c || ef_client_create_stream (c, "power", &si)) {
        fprintf (stderr, "power_loss: cannot create the stream\n");
        return 1;
    }
    char stream_id[37];
    snprintf (stream_id, sizeof stream_id, "%.*s", (int)si.id.len, si.id.ptr);
    struct stat st;
    size_t load_from = stat (journal, &st) == 0 ? (size_t)st.st_size : 0;
    s_acks_t acks = {0};
    uint64_t t0 = ef_time_mono_ns ();
    int loaded = s_load (c, o.seconds, o.rate, &acks);
    uint64_t t_end = ef_time_mono_ns ();
    ef_client_destroy (&c);
    h_broker_kill9 (&b);
    if (loaded || acks.n == 0) {
        fprintf (stderr, "power_loss: the load failed (%llu errors)\n",
                 (unsigned long long)acks.errors);
        return 1;
    }
    qsort (acks.v, acks.n, sizeof *acks.v, s_by_time);
    char rate_text[64] = "flat out";
    if (o.rate)
        snprintf (rate_text, sizeof rate_text, "%llu events/s",
                  (unsigned long long)o.rate);

    s_journal_t j = {0};
    const uint8_t *map;
    size_t jsize;
    if (s_journal_read (journal, &j, &map, &jsize)) {
        fprintf (stderr, "power_loss: no journal\n");
        return 1;
    }
    size_t k0 = s_entry_at (&j, map, load_from);
    printf ("power loss, --durability %s: one recorded run of %.1f s "
            "(offered: %s): %zu events acknowledged (%llu refused), data.mdb "
            "journal %zu "
            "entries (%zu writes, %zu fdatasync/fsync, %zu O_DSYNC writes), "
            "%.1f MB; %zu entries under load\n",
            o.durability, (double)(t_end - t0) / 1e9, rate_text, acks.n,
            (unsigned long long)acks.errors, j.n, j.writes, j.syncs, j.dsyncs,
            (double)jsize / 1e6, j.n - k0);

    /* the highest seq acknowledged by each point of the acks */
    uint64_t *seq_max = malloc (acks.n * sizeof *seq_max);
    for (size_t i = 0; i < acks.n; i++)
        seq_max[i] = i && seq_max[i - 1] > acks.v[i].seq ? seq_max[i - 1]
                                                         : acks.v[i].seq;

    /* 2-4. the cuts, in journal order */
    uint64_t t_check = ef_time_mono_ns ();
    size_t *cuts = malloc ((size_t)o.cuts * sizeof *cuts);
    for (int i = 0; i < o.cuts; i++)
        cuts[i] = k0 + (size_t)rand () % (j.n - k0 + 1);
    qsort (cuts, (size_t)o.cuts, sizeof *cuts, s_cmp_size);
    s_image_t im = {0};
    im.fd = open (img, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (im.fd < 0)
        return 1;
    size_t applied = 0, scan = 0, last_sync = 0, older = 0;
    int opened = 0, lossless = 0, crashed = 0, gapless = 0;
    int sampled = 0, served = 0, inflight = 0, beyond = 0;
    size_t unsynced[3] = {0, 0, 0}; /* dropped, whole, torn */
    uint64_t lost_max = 0, lost_total = 0, lost_age_max_ns = 0;
    uint64_t expected_total = 0;
    int every = o.brokers > 0 ? (o.cuts + o.brokers - 1) / o.brokers : 0;
    for (int ci = 0; ci < o.cuts; ci++) {
        size_t p = cuts[ci];
        uint64_t t_cut = p < j.n ? j.v[p].e->t_ns : t_end;
        /* what is on disk for sure: up to the last sync before the cut,
           and (writeback model) what is older than W */
        for (; scan < p; scan++)
            if (j.v[scan].e->kind == H_FAULTS_SYNC)
                last_sync = scan + 1;
        size_t sure = last_sync;
        if (o.writeback_ms) {
            uint64_t horizon = o.writeback_ms * 1000000ull;
            while (older < p && j.v[older].e->t_ns + horizon < t_cut)
                older++;
            if (older > sure)
                sure = older;
        }
        for (; applied < sure; applied++)
            if (j.v[applied].e->kind != H_FAULTS_SYNC)
                s_apply (&im, j.v[applied].e->off, j.v[applied].data,
                         j.v[applied].e->len, 0);
        struct stat ist;
        fstat (im.fd, &ist);
        im.size = (uint64_t)ist.st_size;
        for (size_t x = applied; x < p; x++) {
            if (j.v[x].e->kind == H_FAULTS_DSYNC_WRITE)
                s_apply (&im, j.v[x].e->off, j.v[x].data, j.v[x].e->len, 1);
            else if (j.v[x].e->kind == H_FAULTS_WRITE && !o.flusher)
                unsynced[s_apply_unsynced (&im, &j.v[x])]++;
        }
        if (o.flusher)
            s_apply_flusher (&im, &j, applied, p, unsynced);
        inflight += applied < p;
        /* the events acknowledged before the cut */
        size_t lo = 0, hi = acks.n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (acks.v[mid].t_ns < t_cut)
                lo = mid + 1;
            else
                hi = mid;
        }
        size_t n = lo;
        expected_total += n;
        s_result_t r;
        s_check (img, stream_id, acks.v, n, &r);
        uint64_t acked_max = n ? seq_max[n - 1] : 0;
        if (r.opened) {
            opened++;
            beyond += r.stored > acked_max;
            gapless += r.gapless;
            if (r.lost == 0)
                lossless++;
            if (r.lost > lost_max)
                lost_max = r.lost;
            lost_total += r.lost;
            if (r.lost && t_cut - acks.v[r.first_lost].t_ns > lost_age_max_ns)
                lost_age_max_ns = t_cut - acks.v[r.first_lost].t_ns;
        } else {
            crashed += r.mdb_rc == 0;
            if (getenv ("EF_POWER_LOSS_VERBOSE"))
                fprintf (stderr, "cut %zu: %s\n", p,
                         r.mdb_rc ? mdb_strerror (r.mdb_rc) : "crashed");
        }
        if (every && ci % every == 0 && r.opened) {
            sampled++;
            if (s_broker_serves (data, img_dir, o.durability, acks.v,
                                 r.lost ? 0 : n, acked_max + r.stored) == 0)
                served++;
            else
                fprintf (stderr, "cut %zu: the broker did not serve it\n", p);
        }
        s_undo (&im);
    }
    /* a crash of the process alone: the kernel keeps every write */
    for (; applied < j.n; applied++)
        if (j.v[applied].e->kind != H_FAULTS_SYNC)
            s_apply (&im, j.v[applied].e->off, j.v[applied].data,
                     j.v[applied].e->len, 0);
    s_result_t crash;
    s_check (img, stream_id, acks.v, acks.n, &crash);
    int crash_ok = crash.opened && crash.gapless && crash.lost == 0;
    close (im.fd);

    /* fsync promises every acknowledged event; os promises nothing
       across a power cut, and what it loses is measured */
    int fsync = strcmp (o.durability, "os") != 0;
    int pass = opened == o.cuts && lossless == o.cuts && gapless == o.cuts &&
               served == sampled;
    printf ("cuts: %d (seed %u), %zu acknowledged events expected in all; "
            "the store opened at %d, was gapless at %d, lost nothing "
            "acknowledged at %d",
            o.cuts, o.seed, (size_t)expected_total, opened, gapless, lossless);
    if (o.writeback_ms)
        printf (" (writeback model: written back after %llu ms)",
                (unsigned long long)o.writeback_ms);
    printf ("\n");
    printf ("between the last sync and the cut: writes at %d cuts (%s: %zu "
            "dropped, %zu kept whole, %zu torn); events committed but not "
            "yet acknowledged at the cut were there at %d\n",
            inflight,
            o.flusher ? "pages, in a flusher's pass in offset order"
                      : "writes, each on its own",
            unsynced[0], unsynced[1], unsynced[2], beyond);
    if (opened < o.cuts)
        printf ("unopenable: %d cuts (%d crashed the reader)\n",
                o.cuts - opened, crashed);
    if (lost_total)
        printf ("lost: %llu acknowledged events in all, at most %llu at one "
                "cut, the oldest acknowledged %.1f ms before its cut\n",
                (unsigned long long)lost_total, (unsigned long long)lost_max,
                (double)lost_age_max_ns / 1e6);
    printf ("real broker on %d cuts: %d started and served what they should "
            "(every event acknowledged before the cut, in order; at cuts "
            "that lost events: only that they start and serve)\n",
            sampled, served);
    printf ("checked %d cuts in %.1f s\n", o.cuts,
            (double)(ef_time_mono_ns () - t_check) / 1e9);
    printf ("process crash (every write kept by the kernel, none synced "
            "more): the store %s, %llu events, %llu of the %zu acknowledged "
            "lost\n",
            crash.opened ? (crash.gapless ? "opened, gapless" : "opened, GAPS")
                         : "DID NOT OPEN",
            (unsigned long long)crash.stored, (unsigned long long)crash.lost,
            acks.n);
    pass = pass && crash_ok;
    if (fsync)
        printf ("verdict: %s\n", pass ? "PASS" : "FAIL");
    else if (!crash_ok)
        printf ("verdict: FAIL (a crash of the process alone lost "
                "acknowledged events)\n");
    else
        printf ("verdict: MEASURED (--durability os promises nothing across "
                "a power cut; the figures above are what it lost)\n");
    munmap ((void *)map, jsize);
    free (j.v);
    free (cuts);
    free (acks.v);
    free (seq_max);
    free (im.undo);
    h_rmrf (dir);
    return pass || (!fsync && crash_ok) ? 0 : 1;
}
