/*  ef_event_rules.h: the rules one published event must meet (protocol.md
    §4 PUBLISH and §5 limits), written once with one set of messages: the
    broker's PUBLISH decode (ef_proto_check_event) refuses an item with
    the first fault's text, the bridge's ingest lists every fault under
    its JSON Pointer. What each front end parses itself (JSON or msgpack
    types, a version's range, occurred_at) is checked by that parser; that
    a version given is at least 1 is a rule here (ef_event_in_t's
    version_given, set by both parsers).
    Thread-safety: pure functions; faults are static. */
#ifndef EF_EVENT_RULES_H
#define EF_EVENT_RULES_H

#include <stdint.h>
#include "eventflow/ef_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

/*  One broken rule. */
typedef struct {
    int code;            /* EF_EINVAL or EF_ETOOBIG */
    const char *path;    /* the field as a relative JSON Pointer: "type",
                            "context/trace_id" */
    const char *message; /* what is wrong with it: "is required" */
    const char *text;    /* both, for a native reply: "type is required" */
} ef_event_fault_t;

typedef void (ef_event_fault_fn) (void *arg, const ef_event_fault_t *fault);

/*  Check ev against every rule, payload at most max_payload bytes; call
    fn for each fault, in the order of the rules. Returns the number of
    faults (0: valid). */
int ef_event_rules_each (const ef_event_in_t *ev, uint32_t max_payload,
                         ef_event_fault_fn *fn, void *arg);
/*  ef_event_rules_each without the payload's JSON check, for a caller
    whose payload is a value of a JSON text it has validated already (the
    bridge's ingest): the costly pass is not run twice. */
int ef_event_rules_fields (const ef_event_in_t *ev, uint32_t max_payload,
                           ef_event_fault_fn *fn, void *arg);

/*  The first fault of ev, or NULL when it is valid. */
const ef_event_fault_t *ef_event_rules_check (const ef_event_in_t *ev,
                                              uint32_t max_payload);

#ifdef __cplusplus
}
#endif
#endif
