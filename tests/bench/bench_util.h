/*  bench_util.h: what the native benchmark tools share. */
#ifndef EF_BENCH_UTIL_H
#define EF_BENCH_UTIL_H

#include "eventflow/ef_client.h"

/*  A client connected to endpoint as the local admin (dir/admin.key,
    dir/broker.pub, CurveZMQ), with a request timeout; NULL (said on
    stderr) when it cannot connect. With EF_BENCH_CURVE=off in the
    environment it connects plain (a broker run with --curve off) and
    carries the admin's access token, logged in once per process with
    the password in dir/initial-admin. */
ef_client_t *bench_connect (const char *dir, const char *endpoint,
                            int timeout_ms);

/*  Publish total events to stream at rate a second, one per request,
    each with its send time (ef_time_mono_ns, in decimal) as payload: the
    latency benchmarks' producer. It sleeps to each send time (a spinning
    producer would take one of the machine's cores from the broker) and
    waits for the acknowledgements at the end. 0, or -1 when a publish
    could not be sent. */
int bench_publish_paced (ef_client_t *c, const char *stream, const char *type,
                         uint64_t rate, uint64_t total);

#endif
