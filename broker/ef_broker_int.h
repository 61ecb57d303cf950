/*  ef_broker_int.h: the broker's insides, shared by the reactor
    (ef_broker.c) and the command handlers (ef_commands.c for streams and
    events, ef_admin.c for identities and keys). Not a public header. */
#ifndef EF_BROKER_INT_H
#define EF_BROKER_INT_H

#include "ef_auth.h"
#include "ef_broker.h"
#include "ef_hasher.h"
#include "ef_mailbox.h"
#include "ef_metrics.h"
#include "ef_query.h"
#include "ef_store.h"
#include "ef_wreq.h"
#include "ef_writer.h"
#include "ef_room.h"
#include "ef_validator.h"
#include "ef_zap.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_proto.h"
#include "eventflow/ef_uuid.h"

#define EF_PARK_BUCKETS 256 /* a power of two */

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
    ef_buf_t push;            /* a push frame being built (ef_consume.c) */
    int log_debug;            /* the log takes debug lines */
    ef_uuid_gen_t uuids;      /* event ids, increasing */
    int stopping;
    int writer_stopped;
    /* long-polling FETCHes, linked through next, in buckets by stream
       num (a publish looks at its stream's bucket only) */
    ef_wreq_t *parked[EF_PARK_BUCKETS];
    uint32_t nparked;
    int64_t park_due;      /* no parked fetch is due before this (mono ms) */
    struct ef_workers *workers; /* pipeline workers (ef_workers.c) */
    ef_room_t *room;            /* their room, told to the engine */
    struct ef_schema_cache *schemas; /* compiled stream schemas */
    char why[512];          /* a handler's message that is not static */
    struct ef_sub *subs[EF_PARK_BUCKETS]; /* push subscriptions, likewise */
    uint32_t nsubs;
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

enum {
    EF_CMDF_WRITES = 1, /* goes to the writer */
    EF_CMDF_ANON = 2,   /* needs no principal */
    EF_CMDF_STREAM = 4, /* names a stream: API key scope applies */
    EF_CMDF_GATEWAY = 8, /* the gateway may run it for itself (org 0: all) */
    EF_CMDF_PER_EVENT = 16 /* rate limits count its events, not itself */
};

typedef struct {
    ef_cmd_t cmd;
    ef_handler_fn *fn;
    int flags;
    int roles;            /* roles allowed (ef_role_effective is applied) */
    ef_handler_fn *after; /* after the hasher (may be NULL) */
    ef_wapply_fn *apply;  /* with fn NULL: a write that needs no checks
                             first, applied by the writer (ctx: broker) */
} ef_command_t;

/*  Run the command's handler, or hand a plain write to the writer. */
int ef_commands_handle (ef_broker_t *self, const ef_command_t *c,
                        ef_wreq_t *w, const char **why);

/*  The row of cmd, or NULL. */
const ef_command_t *ef_commands_find (ef_cmd_t cmd);
/*  Encode the reply of a PUBLISH or CREATE_STREAM back from the writer
    into self->out. */
void ef_commands_write_reply (ef_broker_t *self, ef_wreq_t *w);
/*  A PUBLISH back from its schema checks: count the rates of the items
    they let through. */
void ef_commands_checked (ef_broker_t *self, ef_wreq_t *w);
/*  Free the commands' caches (shutdown). */
void ef_commands_close (ef_broker_t *self);
/*  Grow w's per-item arrays to n. 0 or EF_ENOMEM. */
int ef_commands_reserve (ef_wreq_t *w, uint32_t n);

/*  Consumer groups (ef_consume.c). */
int ef_consume_fetch (ef_broker_t *self, ef_wreq_t *w, const char **why);
int ef_consume_commit (ef_broker_t *self, ef_wreq_t *w, const char **why);
int ef_consume_seek (ef_broker_t *self, ef_wreq_t *w, const char **why);
int ef_consume_list (ef_broker_t *self, ef_wreq_t *w, const char **why);
int ef_consume_subscribe (ef_broker_t *self, ef_wreq_t *w, const char **why);
int ef_consume_credit (ef_broker_t *self, ef_wreq_t *w, const char **why);
int ef_consume_unsubscribe (ef_broker_t *self, ef_wreq_t *w,
                            const char **why);
/*  New events in stream num: answer parked fetches, push to subscribers. */
void ef_consume_wake (ef_broker_t *self, uint32_t num);
/*  Stream num was deleted: its subscriptions end, and are told so. */
void ef_consume_stream_gone (ef_broker_t *self, uint32_t num);
/*  A FETCH back from the writer with nothing to give: park it (1) or not
    (0: answer it as it is). */
int ef_consume_park (ef_broker_t *self, ef_wreq_t *w);
/*  Answer parked fetches whose time is up; the ms until the next one is
    due (or max_ms). Looks at them only when one is due. */
int ef_consume_expire (ef_broker_t *self, int max_ms);
/*  Answer every parked fetch now, with what there is (shutdown). */
void ef_consume_expire_all (ef_broker_t *self);
/*  Drop everything (shutdown). */
void ef_consume_close (ef_broker_t *self);
/*  Send a reply; 0, or -1 when the peer is gone. (ef_broker.c) */
int ef_broker_send (ef_broker_t *self, zmq_msg_t *peer, const void *body,
                    size_t len);
/*  Send b's contents as a reply. From EF_ZEROCOPY_MIN bytes on the storage
    itself goes to ZeroMQ (no copy) and b gets new storage of the same
    capacity; smaller replies are copied. 0, or -1 when the peer is gone. */
#define EF_ZEROCOPY_MIN 65536
int ef_broker_send_buf (ef_broker_t *self, zmq_msg_t *peer, ef_buf_t *b);
/*  Run a request's command again (a woken parked FETCH). (ef_broker.c) */
void ef_broker_redispatch (ef_broker_t *self, ef_wreq_t *w);

/*  Workers (ef_workers.c). */
int ef_workers_ready (ef_broker_t *self, ef_wreq_t *w, const char **why);
int ef_workers_answer (ef_broker_t *self, ef_wreq_t *w, const char **why);
int ef_workers_leave (ef_broker_t *self, ef_wreq_t *w, const char **why);
int ef_workers_list (ef_broker_t *self, ef_wreq_t *w, const char **why);
/*  A job from the writer: to a worker now, or queued. */
void ef_workers_submit (ef_broker_t *self, ef_wreq_t *job);
/*  Timeouts and silent workers (each reactor turn). */
void ef_workers_tick (ef_broker_t *self);
void ef_workers_close (ef_broker_t *self);
uint32_t ef_workers_count (const ef_broker_t *self);

/*  Dead letters (ef_dlq.c). */
int ef_dlq_list (ef_broker_t *self, ef_wreq_t *w, const char **why);
int ef_dlq_get (ef_broker_t *self, ef_wreq_t *w, const char **why);
int ef_dlq_replay (ef_broker_t *self, ef_wreq_t *w, const char **why);
int ef_dlq_apply_delete (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w,
                         uint64_t now);

/*  The identity and key commands (ef_admin.c). */
int ef_admin_register (ef_broker_t *self, ef_wreq_t *w, const char **why);
int ef_admin_register_hashed (ef_broker_t *self, ef_wreq_t *w,
                              const char **why);
int ef_admin_login (ef_broker_t *self, ef_wreq_t *w, const char **why);
int ef_admin_login_verified (ef_broker_t *self, ef_wreq_t *w,
                             const char **why);
int ef_admin_apply_refresh (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w,
                            uint64_t now);
int ef_admin_apply_logout (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w,
                           uint64_t now);
int ef_admin_whoami (ef_broker_t *self, ef_wreq_t *w, const char **why);
int ef_admin_password (ef_broker_t *self, ef_wreq_t *w, const char **why);
int ef_admin_password_hashed (ef_broker_t *self, ef_wreq_t *w,
                              const char **why);
int ef_admin_user_create (ef_broker_t *self, ef_wreq_t *w, const char **why);
int ef_admin_user_create_hashed (ef_broker_t *self, ef_wreq_t *w,
                                 const char **why);
int ef_admin_user_list (ef_broker_t *self, ef_wreq_t *w, const char **why);
int ef_admin_user_get (ef_broker_t *self, ef_wreq_t *w, const char **why);
int ef_admin_user_update (ef_broker_t *self, ef_wreq_t *w, const char **why);
int ef_admin_user_update_hashed (ef_broker_t *self, ef_wreq_t *w,
                                 const char **why);
int ef_admin_apply_user_delete (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w,
                                uint64_t now);
int ef_admin_apikey_create (ef_broker_t *self, ef_wreq_t *w,
                            const char **why);
int ef_admin_apikey_list (ef_broker_t *self, ef_wreq_t *w, const char **why);
int ef_admin_apply_apikey_revoke (void *ctx, ef_store_txn_t *txn,
                                  ef_wreq_t *w, uint64_t now);
int ef_admin_clientkey_add (ef_broker_t *self, ef_wreq_t *w,
                            const char **why);
int ef_admin_clientkey_list (ef_broker_t *self, ef_wreq_t *w,
                             const char **why);
int ef_admin_apply_clientkey_revoke (void *ctx, ef_store_txn_t *txn,
                                     ef_wreq_t *w, uint64_t now);

#endif
