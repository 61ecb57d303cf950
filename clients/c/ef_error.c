/*  ef_error.c: the table of EventFlow error codes, their protocol names,
    their texts and their HTTP statuses. */
#include "eventflow/ef_error.h"

#include <string.h>

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
    {EF_ETIMEOUT, "TIMEOUT", "timed out", 504},
    {EF_EUNAVAILABLE, "UNAVAILABLE", "broker unavailable", 503},
    {EF_ENOMEM, "NO_MEMORY", "out of memory", 500},
    {EF_EAUTH, "AUTH", "authentication failed", 401},
    {EF_EFORBIDDEN, "FORBIDDEN", "forbidden", 403},
    {EF_ERATE, "RATE_LIMITED", "rate limited", 429},
    {EF_EVALIDATION, "VALIDATION", "validation failed", 422},
    {EF_ECONFLICT, "CONFLICT", "conflict", 409},
    {EF_EINTERNAL, "INTERNAL", "internal error", 500},
    {EF_EQUOTA, "QUOTA", "over the org's quota", 507},
};

static const s_error_row_t *
s_row (int code)
{
    if (code > 0 || code < EF_ERROR_MIN)
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
        if (strlen (s_errors[i].name) == len
            && memcmp (s_errors[i].name, name, len) == 0)
            return s_errors[i].code;
    return EF_EINTERNAL;
}

int
ef_error_http_status (int code)
{
    const s_error_row_t *row = s_row (code);
    return row ? row->http : 500;
}
