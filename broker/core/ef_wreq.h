/*  ef_wreq.h: a request in flight through the broker's stages. The reactor
    receives and checks it; some requests then visit the password hasher,
    some the writer; every request comes back to the reactor to be
    answered. Its strings point into `frame`, which it owns.
    Thread-safety: one stage at a time owns a request (handed over through
    ef_mailbox). */
#ifndef EF_WREQ_H
#define EF_WREQ_H

#include <stdint.h>
#include <zmq.h>
#include "eventflow/ef_proto.h"
#include "ef_principals.h"
#include "ef_store.h"

/*  One PUBLISH item. The reactor fills id, the record and code (an item
    it refused); the schema checks (ef_validator) refuse more; the writer fills seq and duplicate (and received_at of the
    original for a duplicate). */
typedef struct {
    int code;            /* the item's own error, 0 if none */
    const char *err_msg; /* static text for code */
    int id_given;        /* the producer chose the id: check idempotency */
    ef_uuid_t id;
    char event_id[EF_UUID_STRLEN + 1];
    uint32_t rec_off, rec_len; /* the record, in the request's records */
    int duplicate;
    uint64_t seq;
    uint64_t received_at;
    uint64_t retry_after_ms;     /* code EF_ERATE */
    uint32_t msg_off, msg_len;   /* code EF_EVALIDATION: its text in records */
    uint32_t errs_off, errs_len; /* and its failing paths, a msgpack array
                                    of {path, message} in records */
    ef_str_t payload;            /* to check against the schema (in frame) */
} ef_wresult_t;

/*  Who sent a request, as the broker established it. */
typedef struct {
    int kind; /* EF_WHO_* */
    uint32_t org;
    int role;        /* one EF_ROLE_* bit; EF_ROLE_NONE for anonymous */
    char id[64];     /* api key id, user id or client key (z85) */
    char family[64]; /* JWT: its refresh family */
    ef_apikey_t key; /* EF_WHO_API_KEY: scope and rate */
} ef_who_t;

enum {
    EF_WHO_NONE = 0,
    EF_WHO_API_KEY,
    EF_WHO_USER,
    EF_WHO_CLIENT_KEY,
    EF_WHO_GATEWAY /* the bridge itself, acting for nobody */
};

typedef struct ef_wreq ef_wreq_t;

/*  A write other than PUBLISH/CREATE_STREAM: runs inside the writer's
    transaction, sets w->status for a refusal, encodes its success reply
    into w->reply, and returns only store failures (which abort). */
typedef int (ef_wapply_fn) (void *ctx, ef_store_txn_t *txn, ef_wreq_t *w,
                            uint64_t now);

/*  Kinds of internal requests. A job carries, in reply, the whole JOB
    frame for a worker; in stream the event's stream; in req.after its
    seq, req.name its service, req.job_id the attempt's id (both in
    records), req.timeout the step's timeout. A group write saves a new
    consumer group's first record (group, stream.num and records as for
    a COMMIT). Outcomes and group writes answer nobody. */
enum { EF_WREQ_JOB = 1, EF_WREQ_OUTCOME = 2, EF_WREQ_GROUP = 3 };

/*  What the password hasher does to a request. EF_HASH_CHANGE verifies
    req.password against pwhash and, when it holds, replaces pwhash with
    the hash of req.new_password. */
enum { EF_HASH_NONE = 0, EF_HASH_MAKE, EF_HASH_VERIFY, EF_HASH_CHANGE };

struct ef_wreq {
    ef_wreq_t *next;
    zmq_msg_t peer;  /* routing id */
    zmq_msg_t frame; /* request body */
    ef_request_t req;
    ef_who_t who;
    uint32_t org;           /* the org the request acts in */
    ef_stream_rec_t stream; /* PUBLISH: resolved by the reactor;
                               CREATE_STREAM: filled by the writer */
    ef_wresult_t *results;  /* PUBLISH: one per item, capacity results_cap */
    uint32_t results_cap;
    ef_buf_t records;    /* PUBLISH: the items' records, back to back */
    ef_wapply_fn *apply; /* other writes */
    void *apply_ctx;
    ef_buf_t reply;      /* their reply */
    int hash_op;         /* EF_HASH_*: the hasher's task */
    uint64_t hash_queue; /* the hasher's fair queue (ef_hasher.h) */
    char pwhash[160];    /* made, or to verify against */
    int pw_ok;           /* verify's outcome */
    ef_user_t user;      /* LOGIN: the user found */
    int internal;        /* EF_WREQ_JOB: a worker job, not a request */
    int park;            /* FETCH found nothing: wait for events */
    /* COMMIT, SEEK, a FETCH carrying a commit, and EF_WREQ_GROUP: the
       consumer group (ef_consume's) whose record it saves (NULL: none);
       its records hold the group's name, a NUL, the record, and for a
       FETCH carrying a commit the page it read meanwhile (if it did) */
    void *group;
    uint64_t group_seq;  /* the committed seq it answers with */
    int refetch;         /* a FETCH carrying a commit: fetch once durable */
    uint32_t group_page; /* where that page starts in records (0: none) */
    int64_t deadline_ms; /* a parked FETCH answers empty then */
    uint64_t quota;      /* PUBLISH: the org's stored-bytes quota;
                               CREATE_STREAM: its streams quota (0: none) */
    struct ef_schema *schema; /* PUBLISH: a reference for the schema
                                 checks (ef_validator), NULL otherwise */
    int checking;             /* PUBLISH: with the schema checks */
    uint32_t check_next;      /* the next item they check */
    int64_t check_ns;         /* the CPU they spent on it so far */
    uint32_t check_errors;    /* CHECK_STREAM: {path, message} maps in
                                 reply so far */
    int status;               /* whole-request error, 0 if none */
    const char *why;          /* static text for status */
    const char *why_at;       /* the JSON Pointer into the request that
                                 why is about ("/pipeline/0/patch"), sent
                                 as the error's errors; NULL if none */
};

#endif
