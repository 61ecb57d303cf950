/*  ef_error.h: EventFlow's one error scheme. 0 is success; every EventFlow
    error is a negative, named code. The same codes travel in protocol ERROR
    replies (schemas/protocol.md §3) and map to HTTP statuses through
    ef_error_http_status(), the one table that does so: the bridge answers
    every problem by its code, and takes the status and the name from
    here. */
#ifndef EF_ERROR_H
#define EF_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#define EF_OK           0
#define EF_EPROTO       -1  /* malformed frame */
#define EF_EUNKNOWN_CMD -2  /* unknown command */
#define EF_EINVAL       -3  /* missing, mistyped or out-of-range field */
#define EF_ETOOBIG      -4  /* over a size limit */
#define EF_ENOTFOUND    -5  /* no such stream/event (in the caller's org) */
#define EF_EEXISTS      -6  /* name already taken */
#define EF_ESTORE_FULL  -7  /* map or disk full; nothing written */
#define EF_ESTORE       -8  /* store failure; nothing written */
#define EF_EVERSION     -9  /* unsupported protocol version */
#define EF_ETIMEOUT     -10 /* no reply in time (client side) */
#define EF_EUNAVAILABLE -11 /* broker unreachable or shutting down */
#define EF_ENOMEM       -12 /* allocation failed */
#define EF_EAUTH        -13 /* credential missing or invalid */
#define EF_EFORBIDDEN   -14 /* role may not do this */
#define EF_ERATE        -15 /* rate limited */
#define EF_EVALIDATION  -16 /* payload fails the stream's schema */
#define EF_ECONFLICT    -17 /* conflicts with current state */
#define EF_EINTERNAL    -18 /* a bug */
#define EF_EQUOTA       -19 /* over a per-org quota; nothing changed */
#define EF_ERROR_MIN    -19 /* the last code that travels natively */
/*  Codes of the HTTP bridge only: answers about the HTTP request itself,
    never sent in a native ERROR reply (protocol.md §3). */
#define EF_EMALFORMED_JSON  -20 /* the body is not JSON */
#define EF_EMEDIA_TYPE      -21 /* the body is not application/json */
#define EF_ELENGTH_REQUIRED -22 /* a body without a Content-Length */
#define EF_EMETHOD          -23 /* the path does not serve that method */
#define EF_ERROR_HTTP_MIN   -23

/*  Human-readable text for any code (never NULL, static storage). */
const char *ef_strerror (int code);

/*  The stable protocol name of a code ("PROTO", "NOT_FOUND", ...), or
    "UNKNOWN" for a code outside the table. Static storage. */
const char *ef_error_name (int code);

/*  The code for a protocol name, or EF_EINTERNAL when unknown. */
int ef_error_from_name (const char *name, unsigned len);

/*  The HTTP status an error maps to (200 for EF_OK, 500 for a code
    outside the table). */
int ef_error_http_status (int code);

#ifdef __cplusplus
}
#endif
#endif
