/*  bench_search: the time of one page of LIST_EVENTS over one stream of
    N events (default 1000000), measured in the broker's query code
    (ef_query over a real LMDB store in a temporary directory; no
    network). Every 1000th event is of type "order.refunded", the others
    "order.created".
    Listings: a plain one at page 1, 100 and 1000 (limit 20 and 100, each
    asked 20 times) and followed 20 pages deep; a type filter matching 1
    in 1000 and one matching nothing. Payload searches: a selective
    string eq (1 in 1000 matches, the raw-text prefilter helps), a
    numeric compare (1 in 500, every event parsed) and two that match
    nothing (each page stops at the scan bound). A listing is followed by
    its next_cursor when the reply has one, else by page+1 while has_more,
    up to 40 pages. Prints p50, p99 and max per page in ms.
    usage: bench_search [N [SCAN]]   (SCAN: events examined a page) */
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
#include <unistd.h>

static double
s_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
s_cmp (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void
s_fill (ef_store_t *st, ef_stream_rec_t *s, uint64_t n)
{
    ef_uuid_gen_t g;
    ef_uuid_gen_init (&g);
    ef_buf_t rec;
    ef_buf_init (&rec);
    uint64_t t0 = 1700000000000ull;
    for (uint64_t seq = 1; seq <= n;) {
        ef_store_txn_t *w = NULL;
        if (ef_store_write_begin (st, &w))
            exit (1);
        for (int k = 0; k < 10000 && seq <= n; k++, seq++) {
            ef_uuid_t u;
            char id[EF_UUID_STRLEN + 1], payload[160];
            ef_uuid_gen_v7 (&g, t0 + seq, &u);
            ef_uuid_format (&u, id);
            snprintf (payload, sizeof payload,
                      "{\"customer\":{\"id\":\"c-%" PRIu64
                      "\"},\"total\":%" PRIu64 ",\"item\":\"sku-%" PRIu64 "\"}",
                      seq % 1000, seq % 500, seq);
            ef_event_t e = {0};
            e.event_id = (ef_str_t){id, EF_UUID_STRLEN};
            e.type = ef_str (seq % 1000 ? "order.created" : "order.refunded");
            e.version = 1;
            e.occurred_at = e.received_at = t0 + seq;
            e.source = ef_str ("native");
            e.payload = ef_str (payload);
            ef_buf_reset (&rec);
            ef_record_write (&rec, &e, &u);
            if (ef_store_event_append (w, s->num, seq, &u, rec.data, rec.len))
                exit (1);
        }
        if (ef_store_write_commit (&w))
            exit (1);
    }
    ef_buf_free (&rec);
}

/*  Pages of req: `pages` requests, each following the last reply (by
    next_cursor, else page+1 while has_more) when follow, else the same
    request again; stops early when nothing is left. */
static void
s_pages (ef_query_t *q, ef_store_t *st, const char *name, ef_request_t req,
         int pages, int follow)
{
    ef_store_txn_t *r = ef_store_reader_new (st);
    ef_buf_t out;
    ef_buf_init (&out);
    req.cmd = EF_CMD_LIST_EVENTS;
    req.stream = ef_str ("orders");
    double times[40];
    int done = 0;
    char cursor[80] = "";
    uint64_t found = 0;
    if (pages > 40)
        pages = 40;
    while (done < pages) {
        ef_store_reader_begin (r);
        ef_buf_reset (&out);
        const char *why = NULL;
        double t = s_ms ();
        int rc = ef_query_list_events (q, r, 1, &req, &out, &why);
        times[done++] = s_ms () - t;
        ef_store_reader_end (r);
        if (rc) {
            printf ("%-34s refused: %s\n", name, why ? why : "error");
            done = 0;
            break;
        }
        ef_reply_t rep;
        ef_mpr_t m;
        ef_str_t c;
        uint32_t n = 0;
        int more = 0;
        ef_proto_decode_reply (out.data, out.len, &rep);
        if (ef_proto_reply_find (&rep, "items", &m) == 0)
            ef_mpr_array (&m, &n);
        found += n;
        if (ef_proto_reply_find (&rep, "has_more", &m) == 0)
            ef_mpr_bool (&m, &more);
        if (!follow)
            continue;
        cursor[0] = 0;
        if (ef_proto_reply_find (&rep, "next_cursor", &m) == 0 &&
            !ef_mpr_nil (&m) && ef_mpr_str (&m, &c) == 0)
            snprintf (cursor, sizeof cursor, "%.*s", (int)c.len, c.ptr);
        if (cursor[0])
            req.cursor = ef_str (cursor);
        else if (more)
            req.page = (req.page ? req.page : 1) + 1;
        else
            break;
    }
    if (done == 0)
        goto out;
    qsort (times, done, sizeof times[0], s_cmp);
    printf ("%-34s pages %2d  found %5" PRIu64
            "  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n",
            name, done, found, times[done / 2],
            times[(done * 99) / 100 < done ? (done * 99) / 100 : done - 1],
            times[done - 1]);
out:
    ef_buf_free (&out);
    ef_store_reader_destroy (&r);
}

static void
s_search (ef_query_t *q, ef_store_t *st, const char *name, const char *where)
{
    ef_request_t req = {0};
    req.where[0] = ef_str (where);
    req.n_where = 1;
    s_pages (q, st, name, req, 40, 1);
}

/*  A listing by its filters: page `page` asked 20 times, and (page 1)
    followed 20 pages deep. */
static void
s_listing (ef_query_t *q, ef_store_t *st, const char *what, const char *type,
           uint32_t limit, uint32_t page)
{
    char name[80];
    ef_request_t req = {0};
    req.type = type ? ef_str (type) : EF_STR_NULL;
    req.limit = limit;
    req.page = page;
    snprintf (name, sizeof name, "%s limit %u page %u", what, limit, page);
    s_pages (q, st, name, req, 20, 0);
    if (page == 1) {
        snprintf (name, sizeof name, "%s limit %u, 20 next", what, limit);
        s_pages (q, st, name, req, 20, 1);
    }
}

int
main (int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull (argv[1], NULL, 10) : 1000000;
    uint32_t scan =
        argc > 2 ? (uint32_t)strtoul (argv[2], NULL, 10) : EF_QUERY_SCAN;
    char dir[] = "/tmp/ef-bench-search-XXXXXX";
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
    ef_stream_rec_t s;
    if (ef_store_write_begin (st, &w) ||
        ef_store_stream_create (w, 1, ef_str ("orders"), 1, &s) ||
        ef_store_write_commit (&w))
        return 1;
    double t = s_ms ();
    s_fill (st, &s, n);
    printf ("%" PRIu64 " events stored in %.1f s; scan bound %u\n", n,
            (s_ms () - t) / 1e3, scan);
    ef_query_t *q = ef_query_new ();
    ef_query_set_scan (q, scan);
    for (uint32_t limit = 20; limit <= 100; limit += 80) {
        s_listing (q, st, "plain", NULL, limit, 1);
        s_listing (q, st, "plain", NULL, limit, 100);
        s_listing (q, st, "plain", NULL, limit, 1000);
    }
    s_listing (q, st, "type 1/1000", "order.refunded", 20, 1);
    s_listing (q, st, "type none", "order.none", 20, 1);
    s_search (q, st, "eq \"c-7\" (1/1000)", "/customer/id:eq:\"c-7\"");
    s_search (q, st, "gt 498 (1/500, no prefilter)", "/total:gt:498");
    s_search (q, st, "eq \"none\" (no match)", "/customer/id:eq:\"none\"");
    s_search (q, st, "exists /nope (no match)", "/nope:exists");
    ef_query_destroy (&q);
    ef_store_destroy (&st);
    char cmd[300];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system (cmd) != 0;
}
