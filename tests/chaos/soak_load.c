/*  soak_load.c: the producers of tests/chaos/soak.sh. One process
    publishes batches at a steady rate to one stream, natively
    (libeventflow, CurveZMQ as the data dir's admin) or over HTTP (a
    bridge, an API key, a JSON array per request), giving every event its
    own id (UUIDv7). A batch that got no answer, or any answer but every
    item ACCEPTED or DUPLICATE (a broker restart: timeouts, 503), is sent
    again with the same ids until it is, so each event is stored once.

    usage: soak_load native DATA_DIR ENDPOINT STREAM RATE BATCH OUT
           soak_load http URL API_KEY STREAM RATE BATCH OUT

    RATE is events per second, BATCH events per request. OUT.acked gets
    the id of every acknowledged event, one a line, after its answer;
    OUT.lat one line per acknowledged request: "unix_ms latency_us tries"
    (latency of the attempt that was answered). SIGTERM stops after the
    batch in hand is acknowledged (or 60 s of trying): what was written
    to OUT.acked is acknowledged, and nothing else is. */
#include "bench_util.h"
#include "eventflow/ef_time.h"
#include "eventflow/ef_uuid.h"

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_MAX_BATCH 100

static volatile sig_atomic_t s_stop;

static void
s_on_signal (int sig)
{
    (void)sig;
    s_stop = 1;
}

static void
s_sleep_ms (uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep (&ts, NULL);
}

typedef struct {
    const char *mode, *stream, *out;
    double rate;
    uint32_t batch;
    /* native */
    const char *dir, *endpoint;
    ef_client_t *client;
    /* http */
    const char *url, *api_key;
    CURL *curl;
    char *body; /* the response */
    size_t blen;
} s_load_t;

static size_t
s_on_body (char *p, size_t size, size_t n, void *arg)
{
    s_load_t *l = arg;
    size_t len = size * n;
    char *b = realloc (l->body, l->blen + len + 1);
    if (!b)
        return 0;
    memcpy (b + l->blen, p, len);
    l->blen += len;
    b[l->blen] = 0;
    l->body = b;
    return len;
}

/*  One native attempt: 0 when every item is ACCEPTED or DUPLICATE. */
static int
s_native_try (s_load_t *l, char ids[][EF_UUID_STRLEN + 1], char **payloads,
              uint32_t n, uint32_t *dups)
{
    if (!l->client) {
        l->client = bench_connect (l->dir, l->endpoint, 5000);
        if (!l->client)
            return -1;
    }
    ef_event_in_t ev[S_MAX_BATCH];
    ef_publish_result_t res[S_MAX_BATCH];
    for (uint32_t i = 0; i < n; i++) {
        memset (&ev[i], 0, sizeof ev[i]);
        ev[i].type = ef_str ("soak.native");
        ev[i].event_id = ef_str (ids[i]);
        ev[i].payload = ef_str (payloads[i]);
    }
    if (ef_client_publish (l->client, l->stream, ev, n, res)) {
        /* a new connection for the next try (the broker may be a new
           process by then) */
        ef_client_destroy (&l->client);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (res[i].code)
            return -1;
        *dups += res[i].duplicate ? 1 : 0;
    }
    return 0;
}

/*  One HTTP attempt: 0 when answered 202/200 with every item ACCEPTED or
    DUPLICATE. */
static int
s_http_try (s_load_t *l, char ids[][EF_UUID_STRLEN + 1], char **payloads,
            uint32_t n, uint32_t *dups)
{
    char url[512], hdr[256];
    snprintf (url, sizeof url, "%s/api/v1/streams/%s/events", l->url,
              l->stream);
    snprintf (hdr, sizeof hdr, "X-API-Key: %s", l->api_key);
    json_t *arr = json_array ();
    for (uint32_t i = 0; i < n; i++)
        json_array_append_new (
            arr,
            json_pack ("{s:s, s:s, s:o}", "type", "soak.http", "event_id",
                       ids[i], "payload", json_loads (payloads[i], 0, NULL)));
    char *req = json_dumps (arr, JSON_COMPACT);
    json_decref (arr);
    struct curl_slist *h = NULL;
    h = curl_slist_append (h, hdr);
    h = curl_slist_append (h, "Content-Type: application/json");
    free (l->body);
    l->body = NULL;
    l->blen = 0;
    curl_easy_setopt (l->curl, CURLOPT_URL, url);
    curl_easy_setopt (l->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt (l->curl, CURLOPT_POSTFIELDS, req);
    curl_easy_setopt (l->curl, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (l->curl, CURLOPT_WRITEDATA, l);
    curl_easy_setopt (l->curl, CURLOPT_TIMEOUT_MS, 10000L);
    CURLcode cc = curl_easy_perform (l->curl);
    long status = 0;
    curl_easy_getinfo (l->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all (h);
    free (req);
    if (cc != CURLE_OK || (status != 200 && status != 202) || !l->body)
        return -1;
    json_t *doc = json_loads (l->body, 0, NULL);
    json_t *results = doc ? json_object_get (doc, "results") : NULL;
    int rc = json_is_array (results) && json_array_size (results) == n ? 0 : -1;
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        const char *st = json_string_value (
            json_object_get (json_array_get (results, i), "status"));
        if (st && strcmp (st, "DUPLICATE") == 0)
            (*dups)++;
        else if (!st || strcmp (st, "ACCEPTED") != 0)
            rc = -1;
    }
    json_decref (doc);
    return rc;
}

int
main (int argc, char **argv)
{
    if (argc != 8 || (strcmp (argv[1], "native") && strcmp (argv[1], "http"))) {
        fprintf (stderr, "usage: soak_load native DATA_DIR ENDPOINT STREAM "
                         "RATE BATCH OUT\n"
                         "       soak_load http URL API_KEY STREAM RATE "
                         "BATCH OUT\n");
        return 2;
    }
    s_load_t l = {0};
    l.mode = argv[1];
    int native = strcmp (l.mode, "native") == 0;
    if (native) {
        l.dir = argv[2];
        l.endpoint = argv[3];
    } else {
        l.url = argv[2];
        l.api_key = argv[3];
        curl_global_init (CURL_GLOBAL_DEFAULT);
        l.curl = curl_easy_init ();
    }
    l.stream = argv[4];
    l.rate = atof (argv[5]);
    l.batch = (uint32_t)atoi (argv[6]);
    l.out = argv[7];
    if (l.rate <= 0 || l.batch < 1 || l.batch > S_MAX_BATCH) {
        fprintf (stderr, "soak_load: RATE > 0, BATCH 1..%d\n", S_MAX_BATCH);
        return 2;
    }
    char path[1024];
    snprintf (path, sizeof path, "%s.acked", l.out);
    FILE *acked = fopen (path, "a");
    snprintf (path, sizeof path, "%s.lat", l.out);
    FILE *lat = fopen (path, "a");
    if (!acked || !lat) {
        fprintf (stderr, "soak_load: cannot write %s.*\n", l.out);
        return 2;
    }
    struct sigaction sa = {0};
    sa.sa_handler = s_on_signal;
    sigaction (SIGTERM, &sa, NULL);
    sigaction (SIGINT, &sa, NULL);

    ef_uuid_gen_t gen;
    ef_uuid_gen_init (&gen);
    char ids[S_MAX_BATCH][EF_UUID_STRLEN + 1];
    char *payloads[S_MAX_BATCH];
    for (uint32_t i = 0; i < l.batch; i++)
        payloads[i] = malloc (512);
    double period_ms = 1000.0 * l.batch / l.rate;
    uint64_t next = ef_time_steady_ms ();
    uint64_t seq = 0, total = 0, dup_total = 0, retried = 0;
    while (!s_stop) {
        uint64_t now = ef_time_steady_ms ();
        if (now < next) {
            s_sleep_ms (next - now > 100 ? 100 : next - now);
            continue;
        }
        for (uint32_t i = 0; i < l.batch; i++) {
            ef_uuid_t u;
            ef_uuid_gen_v7 (&gen, ef_time_now_ms (), &u);
            ef_uuid_format (&u, ids[i]);
            snprintf (payloads[i], 512,
                      "{\"producer\":\"%s\",\"n\":%llu,\"pad\":\"%.120s\"}",
                      l.out, (unsigned long long)seq++,
                      "0123456789abcdef0123456789abcdef0123456789abcdef"
                      "0123456789abcdef0123456789abcdef0123456789abcdef"
                      "0123456789abcdef0123456789abcdef");
        }
        /* the same ids until acknowledged */
        uint32_t tries = 0, dups = 0;
        uint64_t stop_at = 0;
        for (;;) {
            tries++;
            dups = 0;
            uint64_t t0 = ef_time_mono_ns ();
            int rc = native ? s_native_try (&l, ids, payloads, l.batch, &dups)
                            : s_http_try (&l, ids, payloads, l.batch, &dups);
            uint64_t us = (ef_time_mono_ns () - t0) / 1000;
            if (rc == 0) {
                for (uint32_t i = 0; i < l.batch; i++)
                    fprintf (acked, "%s\n", ids[i]);
                fflush (acked);
                fprintf (lat, "%llu %llu %u\n",
                         (unsigned long long)ef_time_now_ms (),
                         (unsigned long long)us, tries);
                fflush (lat);
                break;
            }
            if (s_stop && !stop_at)
                stop_at = ef_time_steady_ms () + 60000;
            if (stop_at && ef_time_steady_ms () > stop_at) {
                fprintf (stderr,
                         "soak_load %s: stopping with a batch "
                         "unacknowledged\n",
                         l.out);
                goto done;
            }
            s_sleep_ms (200);
        }
        total += l.batch;
        dup_total += dups;
        retried += tries > 1;
        next += (uint64_t)period_ms;
        /* after an outage, go on at the rate, not in a burst */
        if (ef_time_steady_ms () > next + 1000)
            next = ef_time_steady_ms ();
    }
done:
    fprintf (stderr,
             "soak_load %s: %llu events acknowledged (%llu of them "
             "DUPLICATE on a retry), %llu batches retried\n",
             l.out, (unsigned long long)total, (unsigned long long)dup_total,
             (unsigned long long)retried);
    fclose (acked);
    fclose (lat);
    for (uint32_t i = 0; i < l.batch; i++)
        free (payloads[i]);
    if (l.client)
        ef_client_destroy (&l.client);
    if (l.curl)
        curl_easy_cleanup (l.curl);
    free (l.body);
    return 0;
}
