/*  bench_records: what the stored form of events costs replay, measured
    in the broker's query code (ef_query_write_range over a real LMDB store
    in a temporary directory; no network, so the figure is the broker's
    own work per event, which CurveZMQ and the client add to in
    tests/bench/consume.sh). The same N events (default 1000000: type
    "bench", a 200-byte payload, the broker's own id and times, as
    tests/bench/flat.sh stores them) go into one stream in the form of
    store format 1 (the reply's pairs, copied as they are) and into
    another compact (format 2, ef_record.h: turned back into the pairs).
    Each stream is read ROUNDS times (default 5) in slim READ pages of
    10000, the two alternating; prints per form the bytes a record takes,
    the best and median ns per event, and compact/pairs (bar: at most
    1.05, replay kept within a few percent).
    usage: bench_records [N [ROUNDS]] */
#include "ef_query.h"
#include "ef_record.h"
#include "ef_store.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_uuid.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
s_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int
s_cmp (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/*  n events into pairs and compact, the same in both; the bytes of one
    record of each form into len[2]. */
static void
s_fill (ef_store_t *st, const ef_stream_rec_t *s, uint64_t n, size_t len[2])
{
    ef_uuid_gen_t g;
    ef_uuid_gen_init (&g);
    ef_buf_t rec;
    ef_buf_init (&rec);
    char payload[201];
    memset (payload, 'x', 200);
    memcpy (payload, "{\"d\":\"", 6);
    memcpy (payload + 198, "\"}", 3);
    uint64_t t0 = 1700000000000ull;
    for (uint64_t seq = 1; seq <= n;) {
        ef_store_txn_t *w = NULL;
        if (ef_store_write_begin (st, &w))
            exit (1);
        for (int k = 0; k < 10000 && seq <= n; k++, seq++) {
            ef_uuid_t u;
            char id[EF_UUID_STRLEN + 1];
            ef_uuid_gen_v7 (&g, t0 + seq / 100, &u);
            ef_uuid_format (&u, id);
            ef_event_t e = {0};
            e.event_id = (ef_str_t){id, EF_UUID_STRLEN};
            e.type = ef_str ("bench");
            e.version = 1;
            e.occurred_at = e.received_at = ef_uuid_v7_ms (&u);
            e.source = ef_str ("native");
            e.payload = (ef_str_t){payload, 200};
            for (int form = 0; form < 2; form++) {
                ef_buf_reset (&rec);
                if (form == 0)
                    ef_proto_write_event_record (&rec, &e);
                else
                    ef_record_write (&rec, &e, &u);
                len[form] = rec.len;
                if (ef_store_event_append (w, s[form].num, seq, &u, rec.data,
                                           rec.len))
                    exit (1);
            }
        }
        if (ef_store_write_commit (&w))
            exit (1);
    }
    ef_buf_free (&rec);
}

/*  ns per event of one read of stream num in slim pages of 10000. */
static double
s_read (ef_store_t *st, uint32_t num, uint64_t n, ef_buf_t *out)
{
    ef_store_txn_t *r = ef_store_reader_new (st);
    double t = s_ns ();
    for (uint64_t from = 1; from <= n; from += 10000) {
        uint64_t to = from + 9999 < n ? from + 9999 : n, last;
        ef_store_reader_begin (r);
        ef_buf_reset (out);
        if (ef_query_write_range (out, r, num, NULL, from, to, &last) ||
            last != to)
            exit (1);
        ef_store_reader_end (r);
    }
    t = (s_ns () - t) / (double)n;
    ef_store_reader_destroy (&r);
    return t;
}

int
main (int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull (argv[1], NULL, 10) : 1000000;
    int rounds = argc > 2 ? atoi (argv[2]) : 5;
    if (n < 1 || rounds < 1 || rounds > 100)
        return 1;
    char dir[] = "/tmp/ef-bench-records-XXXXXX";
    if (!mkdtemp (dir))
        return 1;
    ef_store_t *st = ef_store_new (dir);
    const char *why = NULL;
    ef_store_set_sync (st, 0);
    if (ef_store_open (st, &why)) {
        fprintf (stderr, "open: %s\n", why);
        return 1;
    }
    ef_store_txn_t *w = NULL;
    ef_stream_rec_t s[2];
    if (ef_store_write_begin (st, &w) ||
        ef_store_stream_create (w, 1, ef_str ("pairs"), 1, &s[0]) ||
        ef_store_stream_create (w, 1, ef_str ("compact"), 1, &s[1]) ||
        ef_store_write_commit (&w))
        return 1;
    size_t len[2];
    s_fill (st, s, n, len);
    ef_buf_t out;
    ef_buf_init (&out);
    double t[2][100];
    for (int i = 0; i < rounds; i++)
        for (int form = 0; form < 2; form++)
            t[form][i] = s_read (st, s[form].num, n, &out);
    static const char *names[] = {"pairs (format 1)", "compact (format 2)"};
    double med[2];
    for (int form = 0; form < 2; form++) {
        qsort (t[form], (size_t)rounds, sizeof t[form][0], s_cmp);
        med[form] = t[form][rounds / 2];
        printf ("records %-18s record_bytes=%zu best_ns_per_event=%.1f "
                "median_ns_per_event=%.1f\n",
                names[form], len[form], t[form][0], med[form]);
    }
    double ratio = med[1] / med[0];
    printf ("records events=%" PRIu64 " rounds=%d compact/pairs=%.3f "
            "(bar <= 1.05) %s\n",
            n, rounds, ratio, ratio <= 1.05 ? "PASS" : "FAIL");
    ef_buf_free (&out);
    ef_store_destroy (&st);
    char cmd[300];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system (cmd) != 0;
}
