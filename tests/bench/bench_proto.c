/*  bench_proto: the codec alone, in ns per event: encode and decode a
    PUBLISH of 100 events (the broker's ingest path), write and read a
    page of 100 Events (replay), write 100 Results (the PUBLISH reply).
    No broker, no socket: what a change of ef_proto costs, without the
    noise of fsync and the network. Each figure is the best of ROUNDS.
    A benchmark tool, run on purpose.
    usage: bench_proto [ROUNDS] */
#include "eventflow/ef_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_N     100 /* events per message */
#define S_LOOPS 20000

static double
s_now (void)
{
    struct timespec t;
    clock_gettime (CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int
main (int argc, char **argv)
{
    int rounds = argc > 1 ? atoi (argv[1]) : 5;
    static ef_event_in_t in[S_N], out[S_N];
    char payload[201];
    memset (payload, 'x', 200);
    payload[0] = payload[199] = '"';
    payload[200] = 0;
    for (int i = 0; i < S_N; i++) {
        in[i].type = ef_str ("order.created");
        in[i].payload = ef_str (payload);
        in[i].source = ef_str ("bench");
    }
    ef_request_t q = {0}, d;
    q.cmd = EF_CMD_PUBLISH;
    q.id = 1;
    q.stream = ef_str ("batched");
    q.auth_api_key = ef_str ("efk_0123456789abcdef");
    q.events = in;
    q.n_events = S_N;
    ef_event_t ev = {0}, back;
    ev.event_id = ef_str ("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
    ev.stream_id = ef_str ("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c");
    ev.type = ef_str ("order.created");
    ev.payload = ef_str (payload);
    ev.status = ef_str ("PENDING");
    ev.source = ef_str ("native");
    ev.seq = ev.received_at = ev.occurred_at = ev.version = 1;
    ef_publish_result_t res = {0};
    res.event_id = ev.event_id;
    res.seq = 3;
    res.received_at = 4;
    ef_buf_t req, page;
    ef_buf_init (&req);
    ef_buf_init (&page);
    const char *names[5] = {"encode_publish", "decode_publish", "write_event",
                            "read_event", "write_result"};
    double best[5] = {1e9, 1e9, 1e9, 1e9, 1e9};
    size_t sink = 0;
    for (int round = 0; round < rounds; round++) {
        double t[6];
        t[0] = s_now ();
        for (int k = 0; k < S_LOOPS; k++) {
            ef_buf_reset (&req);
            ef_proto_encode_request (&req, &q);
        }
        t[1] = s_now ();
        for (int k = 0; k < S_LOOPS; k++) {
            ef_proto_decode_request (req.data, req.len, &d, out, S_N, NULL);
            sink += d.n_events;
        }
        t[2] = s_now ();
        for (int k = 0; k < S_LOOPS; k++) {
            ef_buf_reset (&page);
            for (int i = 0; i < S_N; i++)
                ef_proto_write_event (&page, &ev);
        }
        t[3] = s_now ();
        for (int k = 0; k < S_LOOPS; k++) {
            ef_mpr_t m;
            ef_mpr_init (&m, page.data, page.len);
            for (int i = 0; i < S_N; i++)
                ef_proto_read_event (&m, &back);
            sink += back.seq;
        }
        t[4] = s_now ();
        for (int k = 0; k < S_LOOPS; k++) {
            ef_buf_reset (&page);
            for (int i = 0; i < S_N; i++)
                ef_proto_write_result (&page, &res);
        }
        t[5] = s_now ();
        for (int i = 0; i < 5; i++) {
            double ns = (t[i + 1] - t[i]) / S_LOOPS / S_N * 1e9;
            if (ns < best[i])
                best[i] = ns;
        }
    }
    for (int i = 0; i < 5; i++)
        printf ("%s_ns_per_event=%.1f\n", names[i], best[i]);
    ef_buf_free (&req);
    ef_buf_free (&page);
    return sink == 0; /* keeps the loops */
}
