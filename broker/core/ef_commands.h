/*  ef_commands.h: the command table: a row per command of the protocol
    with its handler, flags, the roles that may run it, the step after the
    password hasher, and two hooks: hold (the row's module may keep a
    request instead of its answer) and follow (what follows a success).
    The reactor (ef_broker.c) decodes, admits and runs rows; it names no
    command. Not a public header. */
#ifndef EF_COMMANDS_H
#define EF_COMMANDS_H

#include "ef_broker.h"
#include "ef_wreq.h"

/*  A handler runs on the reactor with the snapshot begun. It either
    encodes a whole reply into self->out (and returns 0), or prepares the
    request for the next stage: w->hash_op for the password hasher,
    w->apply for the writer (the row's EF_CMDF_WRITES covers PUBLISH and
    CREATE_STREAM; w->schema sends a PUBLISH to the schema checks
    first). It returns an error code for the dispatcher to answer,
    with *why naming the cause. */
typedef int (ef_handler_fn) (ef_broker_t *self, ef_wreq_t *w, const char **why);
/*  A request the reactor would answer now (from the handler, or back from
    the writer) with w->park set: 1 when the row's module keeps it
    instead (a FETCH that waits for events), 0 to answer it. */
typedef int (ef_hold_fn) (ef_broker_t *self, ef_wreq_t *w);
/*  What follows a command that succeeded: after its reply is sent, or,
    for a row whose reply is built from the writer's results
    (ef_commands_write_reply), before that reply is built. */
typedef void (ef_follow_fn) (ef_broker_t *self, ef_wreq_t *w);

enum {
    EF_CMDF_WRITES =
        1,            /* goes to the writer; reply by ef_commands_write_reply */
    EF_CMDF_ANON = 2, /* needs no principal */
    EF_CMDF_STREAM = 4,     /* names a stream: API key scope applies */
    EF_CMDF_GATEWAY = 8,    /* the gateway may run it for itself (org 0: all) */
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
/*  A request back from its schema checks: a PUBLISH counts the rates of
    the items they let through; a CHECK_STREAM writes its reply into
    self->out. */
void ef_commands_checked (ef_broker_t *self, ef_wreq_t *w);
/*  Grow w's per-item arrays to n. 0 or EF_ENOMEM. */
int ef_commands_reserve (ef_wreq_t *w, uint32_t n);

#endif
