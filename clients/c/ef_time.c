/*  ef_time.c: wall and monotonic clocks, RFC 3339 formatting/parsing. */
#include "eventflow/ef_time.h"
#include "eventflow/ef_error.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

uint64_t
ef_time_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
ef_time_mono_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int64_t
ef_time_mono_ms (void)
{
    return (int64_t)(ef_time_mono_ns () / 1000000);
}

/*  The steady clock's origin: set once, read-only after (not mutable
    state shared between objects: every reader sees the same two values). */
static pthread_once_t s_origin_once = PTHREAD_ONCE_INIT;
static uint64_t s_origin_wall;
static int64_t s_origin_mono;

static void
s_origin_set (void)
{
    s_origin_mono = ef_time_mono_ms ();
    s_origin_wall = ef_time_now_ms ();
}

uint64_t
ef_time_steady_ms (void)
{
    pthread_once (&s_origin_once, s_origin_set);
    return s_origin_wall + (uint64_t)(ef_time_mono_ms () - s_origin_mono);
}

char *
ef_time_format (uint64_t ms, char *out, size_t size)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r (&secs, &tm);
    snprintf (out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
              tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
    return out;
}

static int
s_num (const char *s, size_t n, size_t *i, int digits, int *v)
{
    *v = 0;
    for (int k = 0; k < digits; k++, (*i)++) {
        if (*i >= n || s[*i] < '0' || s[*i] > '9')
            return -1;
        *v = *v * 10 + (s[*i] - '0');
    }
    return 0;
}

int
ef_time_parse (const char *s, size_t n, uint64_t *ms)
{
    size_t i = 0;
    int y, mo, d, h, mi, se, frac = 0;
    if (s_num (s, n, &i, 4, &y) || i >= n || s[i++] != '-' ||
        s_num (s, n, &i, 2, &mo) || i >= n || s[i++] != '-' ||
        s_num (s, n, &i, 2, &d) || i >= n ||
        (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
        return EF_EINVAL;
    i++;
    if (s_num (s, n, &i, 2, &h) || i >= n || s[i++] != ':' ||
        s_num (s, n, &i, 2, &mi) || i >= n || s[i++] != ':' ||
        s_num (s, n, &i, 2, &se))
        return EF_EINVAL;
    if (i < n && s[i] == '.') {
        i++;
        int scale = 100, any = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            frac += (s[i] - '0') * scale;
            scale /= 10;
            i++, any = 1;
        }
        if (!any)
            return EF_EINVAL;
    }
    long off = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z'))
        i++;
    else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i++] == '-' ? -1 : 1, oh, om;
        if (s_num (s, n, &i, 2, &oh) || i >= n || s[i++] != ':' ||
            s_num (s, n, &i, 2, &om))
            return EF_EINVAL;
        if (oh > 23 || om > 59)
            return EF_EINVAL;
        off = sign * (oh * 3600L + om * 60L);
    } else
        return EF_EINVAL;
    if (i != n || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        se > 60 || y < 1970)
        return EF_EINVAL;
    static const int mdays[12] = {31, 29, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
        return EF_EINVAL;
    struct tm tm = {0};
    tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
    tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = se;
    time_t t = timegm (&tm);
    if (t == (time_t)-1 || t - off < 0)
        return EF_EINVAL;
    *ms = (uint64_t)(t - off) * 1000 + (uint64_t)frac;
    return 0;
}
