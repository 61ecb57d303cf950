/*  ef_query.h: the broker's read-side commands. Each function answers one
    request from a store snapshot and encodes the whole reply (success or
    error) into out. They never write to the store, so the reactor runs
    them directly, concurrently with the writer's commits.
    Thread-safety: one txn per thread. */
#ifndef EF_QUERY_H
#define EF_QUERY_H

#include "eventflow/ef_proto.h"
#include "ef_store.h"

/*  Scratch a query may reuse between calls (one per reactor). */
typedef struct ef_query ef_query_t;

ef_query_t *ef_query_new (void);
void ef_query_destroy (ef_query_t **self_p);

/*  Events one LIST_EVENTS page (any listing) examines at most (the
    broker's search-scan); then it answers with next_cursor. */
#define EF_QUERY_SCAN 50000u
void ef_query_set_scan (ef_query_t *self, uint32_t scan);

/*  GET_STREAM, LIST_STREAMS, GET_EVENT, READ, LIST_EVENTS for org.
    Return 0 when a success reply was encoded, or the error code (nothing
    encoded; the caller answers the error, *why may name the cause). */
int ef_query_get_stream (ef_query_t *self, ef_store_txn_t *txn, uint32_t org,
                         const ef_request_t *req, ef_buf_t *out,
                         const char **why);
int ef_query_list_streams (ef_query_t *self, ef_store_txn_t *txn, uint32_t org,
                           const ef_request_t *req, ef_buf_t *out,
                           const char **why);
int ef_query_get_event (ef_query_t *self, ef_store_txn_t *txn, uint32_t org,
                        const ef_request_t *req, ef_buf_t *out,
                        const char **why);
/*  EVENT_HISTORY: the event's processing attempts (ef_process.h). */
int ef_query_event_history (ef_query_t *self, ef_store_txn_t *txn, uint32_t org,
                            const ef_request_t *req, ef_buf_t *out,
                            const char **why);
int ef_query_read (ef_query_t *self, ef_store_txn_t *txn, uint32_t org,
                   const ef_request_t *req, ef_buf_t *out, const char **why);
int ef_query_list_events (ef_query_t *self, ef_store_txn_t *txn, uint32_t org,
                          const ef_request_t *req, ef_buf_t *out,
                          const char **why);

/*  Write the stored event (stream num with its id, seq, record bytes) as
    a whole Event map, adding its processing state from txn. */
void ef_query_write_event (ef_buf_t *out, ef_store_txn_t *txn, uint32_t num,
                           const char *stream_id, uint64_t seq,
                           ef_str_t record);

/*  A stream as replies show it (protocol.md "Stream"): its record, event
    counts, stored bytes and newest event's time, from txn. The texts
    point into s and txn. */
void ef_query_stream_info (ef_store_txn_t *txn, const ef_stream_rec_t *s,
                           ef_stream_info_t *info);

/*  The processing history of event (num, seq) as EVENT_HISTORY's
    `history`: an array of Attempt maps, oldest first. 0 or an error. */
int ef_query_write_history (ef_buf_t *out, ef_store_txn_t *txn, uint32_t num,
                            uint64_t seq);

/*  The event id of (num, seq) into out[37]; 0, or EF_ENOTFOUND. */
int ef_query_event_id (ef_store_txn_t *txn, uint32_t num, uint64_t seq,
                       char *out);
/*  Append an array of the events from..to of stream (num, id). 0 or an
    error. *last gets the last seq written (from - 1 when none). A NULL
    stream_id writes a slim page (protocol.md, Event): the reply says the
    stream_id once, and the pass-through state is left out. */
int ef_query_write_range (ef_buf_t *out, ef_store_txn_t *txn, uint32_t num,
                          const char *stream_id, uint64_t from, uint64_t to,
                          uint64_t *last);

#endif
