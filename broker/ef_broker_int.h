/*  ef_broker_int.h: what the reactor (ef_broker.c) and the command table
    (ef_commands.c) share: the broker's fields, and the row of the table.
    The modules the broker owns (ef_consume, ef_workers, ef_dlq, ef_admin,
    ef_schema_cache) do not include it: each sees only the context it was
    created with. Not a public header. */
#ifndef EF_BROKER_INT_H
#define EF_BROKER_INT_H

#include "ef_admin.h"
#include "ef_auth.h"
#include "ef_broker.h"
#include "ef_consume.h"
#include "ef_dlq.h"
#include "ef_hasher.h"
#include "ef_mailbox.h"
#include "ef_metrics.h"
#include "ef_query.h"
#include "ef_room.h"
#include "ef_schema_cache.h"
#include "ef_store.h"
#include "ef_validator.h"
#include "ef_workers.h"
#include "ef_wreq.h"
#include "ef_writer.h"
#include "ef_zap.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_proto.h"
#include "eventflow/ef_uuid.h"

struct ef_broker {
    const ef_config_t *cfg;
    ef_log_t *log;
    char endpoint[256];
    uint32_t max_message, max_batch, max_payload;
    int curve;                /* CurveZMQ on the socket */
    void *ctx;
    void *router;
    int sigfd;
    ef_store_t *store;
    ef_store_txn_t *reader;   /* the reactor's snapshot */
    ef_auth_t *auth;
    ef_zap_t *zap;
    ef_mailbox_t *done;       /* requests back from the writer and hasher */
    ef_writer_t *writer;
    ef_hasher_t *hasher;
    ef_validator_t *validator; /* PUBLISH's schema checks */
    ef_query_t *query;
    ef_metrics_t *metrics;
    ef_wreq_t *pool;          /* free requests */
    ef_event_in_t *scratch;   /* decode target, max_batch items */
    ef_buf_t out;             /* reply to the request in hand */
    int log_debug;            /* the log takes debug lines */
    ef_uuid_gen_t uuids;      /* event ids, increasing */
    int stopping;
    int writer_stopped;
    ef_room_t *room;             /* the workers' room, told to the engine */
    ef_schema_cache_t *schemas;  /* compiled stream schemas */
    ef_consume_t *consume;       /* parked fetches, push subscriptions */
    ef_workers_t *workers;       /* pipeline workers */
    ef_dlq_t *dlq;
    ef_admin_t *admin;
    char why[512];          /* a handler's message that is not static */
};

/*  A handler runs on the reactor with the snapshot begun. It either
    encodes a whole reply into self->out (and returns 0), or prepares the
    request for the next stage: w->hash_op for the password hasher,
    w->apply for the writer (the row's EF_CMDF_WRITES covers PUBLISH and
    CREATE_STREAM; w->schema sends a PUBLISH to the schema checks
    first). It returns an error code for the dispatcher to answer,
    with *why naming the cause. */
typedef int (ef_handler_fn) (ef_broker_t *self, ef_wreq_t *w,
                             const char **why);
/*  A request the reactor would answer now (from the handler, or back from
    the writer) with w->park set: 1 when the row's module keeps it
    instead (a FETCH that waits for events), 0 to answer it. */
typedef int (ef_hold_fn) (ef_broker_t *self, ef_wreq_t *w);
/*  What follows a command that succeeded: after its reply is sent, or,
    for a row whose reply is built from the writer's results
    (ef_commands_write_reply), before that reply is built. */
typedef void (ef_follow_fn) (ef_broker_t *self, ef_wreq_t *w);

enum {
    EF_CMDF_WRITES = 1, /* goes to the writer; reply by ef_commands_write_reply */
    EF_CMDF_ANON = 2,   /* needs no principal */
    EF_CMDF_STREAM = 4, /* names a stream: API key scope applies */
    EF_CMDF_GATEWAY = 8, /* the gateway may run it for itself (org 0: all) */
    EF_CMDF_PER_EVENT = 16, /* rate limits and refusals count its events */
    EF_CMDF_ID_REPLY = 32   /* answered only when it has an id, errors too */
};

typedef struct {
    ef_cmd_t cmd;
    ef_handler_fn *fn;
    int flags;
    int roles;            /* roles allowed (ef_role_effective is applied) */
    ef_handler_fn *after; /* after the hasher (may be NULL) */
    ef_hold_fn *hold;     /* may keep an unanswered request (may be NULL) */
    ef_follow_fn *follow; /* after success (may be NULL) */
} ef_command_t;

/*  The row of cmd, or NULL. */
const ef_command_t *ef_commands_find (ef_cmd_t cmd);
/*  Encode the reply of an EF_CMDF_WRITES command back from the writer
    into self->out. */
void ef_commands_write_reply (ef_broker_t *self, ef_wreq_t *w);
/*  A PUBLISH back from its schema checks: count the rates of the items
    they let through. */
void ef_commands_checked (ef_broker_t *self, ef_wreq_t *w);
/*  Grow w's per-item arrays to n. 0 or EF_ENOMEM. */
int ef_commands_reserve (ef_wreq_t *w, uint32_t n);

#endif
