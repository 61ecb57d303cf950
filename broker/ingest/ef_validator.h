/*  ef_validator.h: the schema checks of PUBLISH, off the reactor. A
    stream's JSON Schema may be hostile (a backtracking pattern, a deep
    allOf over a big array), so its checks run on a small pool of threads
    and under budgets: each event gets event_ms of CPU and a bounded
    amount of work (ef_schema_budget_t), each request request_ms in all;
    an event whose check runs out, and every event of a request after its
    total ran out, is refused with EF_SCHEMA_BUDGET_MSG.
    The pool is shared fairly between orgs: a thread works on a request
    for one slice (about event_ms of CPU) and then turns to the next org
    that waits, round robin, so one org's batches delay another org's
    checks by a slice per thread, not by whole batches. An org's requests
    are checked one at a time, in the order they came (a producer's
    batches to a stream keep their order). The reactor never waits for
    any of it.
    A request comes with w->schema (a reference, dropped here) and for
    each item still unrefused (code 0) its payload in results[i].payload;
    it goes back to the done mailbox with the refused items' code,
    err_msg and (for a payload the schema refuses) the failing paths as
    text in w->records (msg_off, msg_len) and as a msgpack array of
    {path, message} (errs_off, errs_len).
    Thread-safety: submit from the reactor; results go to the done
    mailbox. */
#ifndef EF_VALIDATOR_H
#define EF_VALIDATOR_H

#include <stdint.h>
#include "ef_mailbox.h"
#include "ef_wreq.h"

typedef struct ef_validator ef_validator_t;

/*  threads workers (1 to 8); at most per_org requests waiting for one org
    and max_queue in all; event_ms of CPU per event, request_ms per
    request. NULL when out of memory. */
ef_validator_t *ef_validator_new (uint32_t threads, uint32_t per_org,
                                  uint32_t max_queue, uint32_t event_ms,
                                  uint32_t request_ms, ef_mailbox_t *done);
int ef_validator_start (ef_validator_t *self);
/*  Queue a request behind its org's (w->org). 0, or EF_EUNAVAILABLE when
    that org or the whole pool has too many waiting (the request stays
    the caller's). */
int ef_validator_submit (ef_validator_t *self, ef_wreq_t *w);
/*  Stop: the slices in hand finish; every request still waiting goes to
    the done mailbox unchecked, with status EF_EUNAVAILABLE ("the broker
    is stopping"). Then the threads end and all is freed. Safe on NULL. */
void ef_validator_destroy (ef_validator_t **self_p);

#endif
