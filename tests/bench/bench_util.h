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

#endif
