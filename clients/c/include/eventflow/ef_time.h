/*  ef_time.h: clocks. Wall-clock milliseconds for event times, monotonic
    time for timeouts and latency, and the steady clock for deadlines that
    are stored (retry due times, lease expiries). Thread-safe. */
#ifndef EF_TIME_H
#define EF_TIME_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*  Milliseconds since the Unix epoch. */
uint64_t ef_time_now_ms (void);
/*  Monotonic nanoseconds (arbitrary origin). */
uint64_t ef_time_mono_ns (void);
/*  Monotonic milliseconds. */
int64_t ef_time_mono_ms (void);
/*  Steady milliseconds since the Unix epoch: the wall clock at the
    process's first call, plus the monotonic time since. It never jumps
    when the wall clock is stepped (NTP, an operator), yet it reads as an
    epoch time, so deadlines written to disk still mean something after a
    restart (where it starts again from the wall clock). After a step it
    differs from ef_time_now_ms by the step until the process restarts. */
uint64_t ef_time_steady_ms (void);
/*  Format ms as RFC 3339 UTC with milliseconds ("2026-11-22T15:09:11.123Z")
    into out (at least 25 bytes). Returns out. */
char *ef_time_format (uint64_t ms, char *out, size_t size);
/*  Parse RFC 3339 ("2026-11-22T15:09:11Z", fractional seconds and a
    numeric offset allowed) into ms. 0 or EF_EINVAL. */
int ef_time_parse (const char *s, size_t n, uint64_t *ms);

#ifdef __cplusplus
}
#endif
#endif
