/*  ef_event_rules.c: the rules of a published event, each with its one
    message (ef_event_rules.h), in the order the broker has always checked
    them: version (as it was read), type, payload, source, context,
    event_id, then the payload's JSON. */
#include "eventflow/ef_event_rules.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_uuid.h"

#include <stddef.h>

#define S_FAULT(code, path, name, message)                                     \
    {                                                                          \
        code, path, message, name " " message                                  \
    }

static const ef_event_fault_t s_version =
    S_FAULT (EF_EINVAL, "version", "version", "must be at least 1");
static const ef_event_fault_t s_type_missing =
    S_FAULT (EF_EINVAL, "type", "type", "is required");
static const ef_event_fault_t s_type_long =
    S_FAULT (EF_ETOOBIG, "type", "type", "is longer than 256 bytes");
static const ef_event_fault_t s_payload_missing =
    S_FAULT (EF_EINVAL, "payload", "payload", "is required");
static const ef_event_fault_t s_payload_big =
    S_FAULT (EF_ETOOBIG, "payload", "payload", "is larger than the limit");
static const ef_event_fault_t s_payload_json =
    S_FAULT (EF_EINVAL, "payload", "payload", "is not a single JSON value");
static const ef_event_fault_t s_source_long =
    S_FAULT (EF_ETOOBIG, "source", "source", "is longer than 256 bytes");
static const ef_event_fault_t s_trace_long =
    S_FAULT (EF_ETOOBIG, "context/trace_id", "context.trace_id",
             "is longer than 128 bytes");
static const ef_event_fault_t s_correlation_long =
    S_FAULT (EF_ETOOBIG, "context/correlation_id", "context.correlation_id",
             "is longer than 128 bytes");
static const ef_event_fault_t s_request_id =
    S_FAULT (EF_EINVAL, "context/request_id", "context.request_id",
             "is 1 to 128 bytes of printable ASCII");
static const ef_event_fault_t s_event_id =
    S_FAULT (EF_EINVAL, "event_id", "event_id", "is not a UUID");

_Static_assert(EF_MAX_TYPE == 256 && EF_MAX_SOURCE == 256 &&
                   EF_MAX_CONTEXT_FIELD == 128,
               "the messages name the limits");

static int
s_each (const ef_event_in_t *ev, uint32_t max_payload, ef_event_fault_fn *fn,
        void *arg, int check_json)
{
    int n = 0;
#define S_BROKEN(f) (fn ? fn (arg, &(f)) : (void)0, n++)
    if (ev->version_given && ev->version < 1)
        S_BROKEN (s_version);
    if (!ef_str_set (ev->type) || ev->type.len == 0)
        S_BROKEN (s_type_missing);
    else if (ev->type.len > EF_MAX_TYPE)
        S_BROKEN (s_type_long);
    int payload = 0;
    if (!ef_str_set (ev->payload))
        S_BROKEN (s_payload_missing);
    else if (ev->payload.len > max_payload)
        S_BROKEN (s_payload_big);
    else
        payload = 1;
    if (ef_str_set (ev->source) && ev->source.len > EF_MAX_SOURCE)
        S_BROKEN (s_source_long);
    if (ef_str_set (ev->trace_id) && ev->trace_id.len > EF_MAX_CONTEXT_FIELD)
        S_BROKEN (s_trace_long);
    if (ef_str_set (ev->correlation_id) &&
        ev->correlation_id.len > EF_MAX_CONTEXT_FIELD)
        S_BROKEN (s_correlation_long);
    if (ef_str_set (ev->request_id) && !ef_proto_request_id_ok (ev->request_id))
        S_BROKEN (s_request_id);
    ef_uuid_t u;
    if (ef_str_set (ev->event_id) &&
        ef_uuid_parse (ev->event_id.ptr, ev->event_id.len, &u))
        S_BROKEN (s_event_id);
    /* the costly one last, and only for an item otherwise whole */
    if (check_json && n == 0 && payload &&
        ef_json_validate (ev->payload.ptr, ev->payload.len, EF_JSON_DEPTH, NULL,
                          NULL))
        S_BROKEN (s_payload_json);
#undef S_BROKEN
    return n;
}

int
ef_event_rules_each (const ef_event_in_t *ev, uint32_t max_payload,
                     ef_event_fault_fn *fn, void *arg)
{
    return s_each (ev, max_payload, fn, arg, 1);
}

int
ef_event_rules_fields (const ef_event_in_t *ev, uint32_t max_payload,
                       ef_event_fault_fn *fn, void *arg)
{
    return s_each (ev, max_payload, fn, arg, 0);
}

static void
s_first (void *arg, const ef_event_fault_t *fault)
{
    const ef_event_fault_t **first = arg;
    if (!*first)
        *first = fault;
}

const ef_event_fault_t *
ef_event_rules_check (const ef_event_in_t *ev, uint32_t max_payload)
{
    const ef_event_fault_t *first = NULL;
    ef_event_rules_each (ev, max_payload, s_first, &first);
    return first;
}
