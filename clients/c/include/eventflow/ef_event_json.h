/*  ef_event_json.h: the one rendering of a stored event as JSON, the
    object schemas/openapi.yaml calls Event: what the bridge answers and
    what the CLI prints, so both show the same members with the same
    meaning (event_id and its alias id, stream_id, seq, type, version,
    occurred_at, received_at, source, api_key_id, context, payload,
    status, attempts, last_error, result, processed_at).
    Thread-safety: pure function of its arguments. */
#ifndef EF_EVENT_JSON_H
#define EF_EVENT_JSON_H

#include "eventflow/ef_mp.h"
#include "eventflow/ef_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

/*  Render on one line: the CR and LF that stand between the tokens of a
    stored payload or result become spaces (the value is the same), so
    that each event is one line of output. */
#define EF_EVENT_JSON_LINE 1

/*  Append ev as one JSON object (no trailing newline) to b. A payload or
    result that is not valid JSON (the broker checks them, so not
    expected) is written as a JSON string, so that the output is always
    JSON. flags: 0 or EF_EVENT_JSON_LINE. */
void ef_event_json (ef_buf_t *b, const ef_event_t *ev, int flags);

/*  Append stored JSON text (a payload, a result, a stream's schema) as a
    value: null when unset, a JSON string when it is not valid JSON, else
    as it is (one line with EF_EVENT_JSON_LINE). */
void ef_event_json_raw (ef_buf_t *b, ef_str_t text, int flags);
/*  Append s quoted, or null when unset. */
void ef_event_json_str (ef_buf_t *b, ef_str_t s);
/*  Append a time in ms as an RFC 3339 string; 0 is null when nullable. */
void ef_event_json_time (ef_buf_t *b, uint64_t ms, int nullable);

#ifdef __cplusplus
}
#endif
#endif
