/*  ef_broker_int.h: the broker's fields, shared by the reactor
    (ef_broker.c) and the command table (ef_commands.c), which answers
    HELLO, PING, STATS and the reads (through ef_query) on them and hands
    every other command to the broker's module of its kind. The modules
    (ef_streams, ef_publish, ef_consume, ef_workers, ef_dlq, ef_admin,
    ef_schema_cache) do not include it: each sees only the context it was
    created with. Not a public header. */
#ifndef EF_BROKER_INT_H
#define EF_BROKER_INT_H

#include "ef_admin.h"
#include "ef_auth.h"
#include "ef_backup.h"
#include "ef_broker.h"
#include "ef_consume.h"
#include "ef_dlq.h"
#include "ef_publish.h"
#include "ef_streams.h"
#include "ef_hasher.h"
#include "ef_mailbox.h"
#include "ef_metrics.h"
#include "ef_series.h"
#include "ef_query.h"
#include "ef_room.h"
#include "ef_schema_cache.h"
#include "ef_store.h"
#include "ef_validator.h"
#include "ef_workers.h"
#include "ef_wreq.h"
#include "ef_conns.h"
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
    uint32_t ping_ms; /* workers and group members: a fifth of the ZMTP
                         heartbeat timeout, at most 500 */
    int curve;        /* CurveZMQ on the socket */
    void *ctx;
    void *router;
    int sigfd;
    ef_conns_t *conns; /* the router's connections (may be NULL) */
    ef_store_t *store;
    ef_store_txn_t *reader; /* the reactor's snapshot */
    ef_auth_t *auth;
    ef_zap_t *zap;
    ef_mailbox_t *done; /* requests back from the writer and hasher */
    ef_writer_t *writer;
    ef_hasher_t *hasher;
    ef_validator_t *validator; /* PUBLISH's schema checks */
    ef_query_t *query;
    ef_metrics_t *metrics;
    ef_series_t *series;    /* per-second figures over the last hour */
    ef_wreq_t *pool;        /* free requests */
    uint32_t pooled;        /* how many */
    ef_event_in_t *scratch; /* decode target, max_batch items */
    ef_buf_t out;           /* reply to the request in hand */
    int log_debug;          /* the log takes debug lines */
    int stopping;
    int writer_stopped;
    ef_room_t *room;            /* the workers' room, told to the engine */
    ef_schema_cache_t *schemas; /* compiled stream schemas */
    ef_consume_t *consume;      /* parked fetches, push subscriptions */
    ef_workers_t *workers;      /* pipeline workers */
    ef_dlq_t *dlq;
    ef_admin_t *admin;
    ef_streams_t *streams;
    ef_publish_t *publish;
    ef_backup_t *backup; /* BACKUP: one copy at a time, on its thread */
    char why[512];       /* a handler's message that is not static */
};

#endif
