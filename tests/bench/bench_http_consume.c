/*  bench_http_consume: HTTP fetch+commit throughput through the bridge,
    run on purpose by tests/bench/http_consume.sh: one consumer (one
    keep-alive connection) fetches pages of LIMIT events of a consumer
    group and commits each page's next_offset, until N events were read.
    usage: bench_http_consume URL TOKEN STREAM N LIMIT */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    char *p;
    size_t len, cap;
} s_buf_t;

static size_t
s_on_body (char *p, size_t size, size_t n, void *arg)
{
    s_buf_t *b = arg;
    size_t add = size * n;
    if (b->len + add + 1 > b->cap) {
        b->cap = (b->len + add + 1) * 2;
        b->p = realloc (b->p, b->cap);
        if (!b->p)
            return 0;
    }
    memcpy (b->p + b->len, p, add);
    b->len += add;
    b->p[b->len] = 0;
    return add;
}

/*  Events in a page and its next_offset, without parsing the page: every
    event has one "seq" key; next_offset comes before the events. */
static size_t
s_scan (const char *page, char *next, size_t cap)
{
    size_t k = 0;
    const char *p = strstr (page, "\"next_offset\":\"");
    next[0] = 0;
    if (p) {
        p += strlen ("\"next_offset\":\"");
        const char *q = strchr (p, '"');
        if (q && (size_t)(q - p) < cap) {
            memcpy (next, p, (size_t)(q - p));
            next[q - p] = 0;
        }
    }
    for (p = page; (p = strstr (p, "\"seq\":")); p++)
        k++;
    return k;
}

static double
s_now (void)
{
    struct timespec t;
    clock_gettime (CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int
main (int argc, char **argv)
{
    if (argc < 6) {
        fprintf (stderr, "usage: bench_http_consume URL TOKEN STREAM N LIMIT "
                         "[full|scan]\n");
        return 2;
    }
    const char *url = argv[1], *stream = argv[3];
    long n = atol (argv[4]), limit = atol (argv[5]);
    int full = argc > 6 && strcmp (argv[6], "full") == 0;
    char auth[2048], fetch[1024], commit[1024], body[256];
    snprintf (auth, sizeof auth, "Authorization: Bearer %s", argv[2]);
    snprintf (fetch, sizeof fetch,
              "%s/streams/%s/consumer-groups/bench/events?limit=%ld", url,
              stream, limit);
    snprintf (commit, sizeof commit,
              "%s/streams/%s/consumer-groups/bench/offsets", url, stream);
    curl_global_init (CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init ();
    struct curl_slist *h = curl_slist_append (NULL, auth);
    h = curl_slist_append (h, "Content-Type: application/json");
    s_buf_t b = {0};
    curl_easy_setopt (c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (c, CURLOPT_WRITEDATA, &b);
    long got = 0, pages = 0;
    double t0 = s_now ();
    while (got < n) {
        b.len = 0;
        curl_easy_setopt (c, CURLOPT_URL, fetch);
        curl_easy_setopt (c, CURLOPT_HTTPGET, 1L);
        long code = 0;
        if (curl_easy_perform (c) != CURLE_OK ||
            (curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &code),
             code != 200)) {
            fprintf (stderr, "fetch: HTTP %ld %s\n", code, b.p ? b.p : "");
            return 1;
        }
        char next[64] = "";
        size_t k;
        if (full) {
            json_error_t e;
            json_t *j = json_loadb (b.p, b.len, 0, &e);
            k = json_array_size (json_object_get (j, "events"));
            const char *v =
                json_string_value (json_object_get (j, "next_offset"));
            snprintf (next, sizeof next, "%s", v ? v : "");
            json_decref (j);
        } else
            k = s_scan (b.p, next, sizeof next);
        if (!k || !next[0]) {
            fprintf (stderr, "fetch: no events after %ld\n", got);
            return 1;
        }
        snprintf (body, sizeof body, "{\"last_event_id\":\"%s\"}", next);
        b.len = 0;
        curl_easy_setopt (c, CURLOPT_URL, commit);
        curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
        if (curl_easy_perform (c) != CURLE_OK ||
            (curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &code),
             code != 200)) {
            fprintf (stderr, "commit: HTTP %ld %s\n", code, b.p ? b.p : "");
            return 1;
        }
        got += (long)k;
        pages++;
    }
    double secs = s_now () - t0;
    printf ("http fetch+commit  %8.0f events/s  (%ld events, %ld pages of %ld, "
            "%.0f pages/s, %s)\n",
            got / secs, got, pages, limit, pages / secs,
            full ? "each page parsed with jansson"
                 : "pages scanned, not parsed");
    curl_slist_free_all (h);
    curl_easy_cleanup (c);
    free (b.p);
    return 0;
}
