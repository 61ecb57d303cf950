/*  ef_event_json.c: a stored event as the JSON object of the HTTP API and
    the CLI (ef_event_json.h): strings quoted and escaped, times as RFC
    3339 strings, stored JSON (payload, result) copied as it is. */
#include "eventflow/ef_event_json.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void
s_lit (ef_buf_t *b, const char *s)
{
    ef_buf_append (b, s, strlen (s));
}

void
ef_event_json_str (ef_buf_t *b, ef_str_t s)
{
    if (ef_str_set (s))
        ef_json_quote (b, s.ptr, s.len);
    else
        s_lit (b, "null");
}

void
ef_event_json_time (ef_buf_t *b, uint64_t ms, int nullable)
{
    if (ms == 0 && nullable) {
        s_lit (b, "null");
        return;
    }
    char t[40];
    ef_time_format (ms, t, sizeof t);
    ef_json_quote (b, t, strlen (t));
}

static void
s_uint (ef_buf_t *b, uint64_t v)
{
    char n[24];
    int len = snprintf (n, sizeof n, "%" PRIu64, v);
    ef_buf_append (b, n, (size_t)len);
}

void
ef_event_json_raw (ef_buf_t *b, ef_str_t s, int flags)
{
    if (!ef_str_set (s)) {
        s_lit (b, "null");
        return;
    }
    if (ef_json_validate (s.ptr, s.len, EF_JSON_DEPTH, NULL, NULL) != 0) {
        ef_json_quote (b, s.ptr, s.len);
        return;
    }
    if (!(flags & EF_EVENT_JSON_LINE)) {
        ef_buf_append (b, s.ptr, s.len);
        return;
    }
    /* in valid JSON a CR or LF can only be white space between tokens */
    size_t start = 0;
    for (size_t i = 0; i < s.len; i++)
        if (s.ptr[i] == '\n' || s.ptr[i] == '\r') {
            ef_buf_append (b, s.ptr + start, i - start);
            ef_buf_append (b, " ", 1);
            start = i + 1;
        }
    ef_buf_append (b, s.ptr + start, s.len - start);
}

void
ef_event_json (ef_buf_t *b, const ef_event_t *ev, int flags)
{
    s_lit (b, "{\"id\":");
    ef_event_json_str (b, ev->event_id);
    s_lit (b, ",\"event_id\":");
    ef_event_json_str (b, ev->event_id);
    s_lit (b, ",\"stream_id\":");
    ef_event_json_str (b, ev->stream_id);
    s_lit (b, ",\"seq\":");
    s_uint (b, ev->seq);
    s_lit (b, ",\"type\":");
    ef_event_json_str (b, ev->type);
    s_lit (b, ",\"version\":");
    s_uint (b, ev->version);
    s_lit (b, ",\"occurred_at\":");
    ef_event_json_time (b, ev->occurred_at, 0);
    s_lit (b, ",\"received_at\":");
    ef_event_json_time (b, ev->received_at, 0);
    s_lit (b, ",\"source\":");
    ef_event_json_str (b, ev->source);
    s_lit (b, ",\"api_key_id\":");
    ef_event_json_str (b, ev->api_key_id);
    s_lit (b, ",\"context\":{\"trace_id\":");
    ef_event_json_str (b, ev->trace_id);
    s_lit (b, ",\"correlation_id\":");
    ef_event_json_str (b, ev->correlation_id);
    if (ef_str_set (ev->request_id)) { /* the publishing request's */
        s_lit (b, ",\"request_id\":");
        ef_event_json_str (b, ev->request_id);
    }
    s_lit (b, "},\"payload\":");
    ef_event_json_raw (b, ev->payload, flags);
    s_lit (b, ",\"status\":");
    ef_event_json_str (b, ev->status);
    s_lit (b, ",\"attempts\":");
    s_uint (b, ev->attempts);
    s_lit (b, ",\"last_error\":");
    ef_event_json_str (b, ev->last_error);
    s_lit (b, ",\"result\":");
    ef_event_json_raw (b, ev->result, flags);
    s_lit (b, ",\"processed_at\":");
    ef_event_json_time (b, ev->processed_at, 1);
    s_lit (b, "}");
}
