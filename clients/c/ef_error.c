/*  ef_error.c: the table of EventFlow error codes, their protocol names,
    their texts and their HTTP statuses: the only mapping of a code to
    anything. Row i holds code -i. */
#include "eventflow/ef_error.h"

#include <string.h>

_Static_assert(EF_ERROR_HTTP_MIN < EF_ERROR_MIN, "HTTP codes follow");

typedef struct {
    int code;
    const char *name;
    const char *text;
    int http;
} s_error_row_t;

static const s_error_row_t s_errors[] = {
    {EF_OK, "OK", "success", 200},
    {EF_EPROTO, "PROTO", "malformed message", 400},
    {EF_EUNKNOWN_CMD, "UNKNOWN_COMMAND", "unknown command", 400},
    {EF_EINVAL, "INVALID", "invalid argument", 400},
    {EF_ETOOBIG, "TOO_BIG", "too big", 413},
    {EF_ENOTFOUND, "NOT_FOUND", "not found", 404},
    {EF_EEXISTS, "EXISTS", "already exists", 409},
    {EF_ESTORE_FULL, "STORE_FULL", "store full", 507},
    {EF_ESTORE, "STORE_ERROR", "store error", 500},
    {EF_EVERSION, "VERSION", "unsupported protocol version", 400},
    {EF_ETIMEOUT, "TIMEOUT", "timed out", 408},
    {EF_EUNAVAILABLE, "UNAVAILABLE", "broker unavailable", 503},
    {EF_ENOMEM, "NO_MEMORY", "out of memory", 500},
    {EF_EAUTH, "AUTH", "authentication failed", 401},
    {EF_EFORBIDDEN, "FORBIDDEN", "forbidden", 403},
    {EF_ERATE, "RATE_LIMITED", "rate limited", 429},
    {EF_EVALIDATION, "VALIDATION", "validation failed", 422},
    {EF_ECONFLICT, "CONFLICT", "conflict", 409},
    {EF_EINTERNAL, "INTERNAL", "internal error", 500},
    {EF_EQUOTA, "QUOTA", "over the org's quota", 507},
    /* the bridge's own, about the HTTP request (never sent natively) */
    {EF_EMALFORMED_JSON, "MALFORMED_JSON", "the body is not JSON", 400},
    {EF_EMEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", "unsupported media type", 415},
    {EF_ELENGTH_REQUIRED, "LENGTH_REQUIRED", "length required", 411},
    {EF_EMETHOD, "METHOD_NOT_ALLOWED", "method not allowed", 405},
};
_Static_assert(sizeof s_errors / sizeof s_errors[0] == 1 - EF_ERROR_HTTP_MIN,
               "one row per code");

static const s_error_row_t *
s_row (int code)
{
    if (code > 0 || code < EF_ERROR_HTTP_MIN)
        return NULL;
    return &s_errors[-code];
}

const char *
ef_strerror (int code)
{
    const s_error_row_t *row = s_row (code);
    return row ? row->text : "unknown error";
}

const char *
ef_error_name (int code)
{
    const s_error_row_t *row = s_row (code);
    return row ? row->name : "UNKNOWN";
}

int
ef_error_from_name (const char *name, unsigned len)
{
    for (unsigned i = 0; i < sizeof s_errors / sizeof s_errors[0]; i++)
        if (strlen (s_errors[i].name) == len &&
            memcmp (s_errors[i].name, name, len) == 0)
            return s_errors[i].code;
    return EF_EINTERNAL;
}

int
ef_error_http_status (int code)
{
    const s_error_row_t *row = s_row (code);
    return row ? row->http : 500;
}
