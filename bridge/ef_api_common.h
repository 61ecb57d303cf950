/*  ef_api_common.h: helpers the route modules share: a JSON request body
    read, checked (line and column of a fault) and parsed; a list of field
    errors for 422 answers; and rendering parts of a broker reply as JSON.
    Not public. */
#ifndef EF_API_COMMON_H
#define EF_API_COMMON_H

#include <jansson.h>
#include "ef_bridge_int.h"

/*  Read and parse the body as a JSON object into *root (caller decrefs).
    0, or the status already answered (400 with line/column, 413, 415,
    422 when not an object). */
int ef_api_body (ef_bridge_t *self, ef_http_t *h, json_t **root);
/*  Check the body as JSON without parsing it: 0 or the 400 answered. */
int ef_api_check_json (ef_http_t *h);

/*  Field errors collected for one 422 answer. */
typedef struct {
    ef_buf_t list; /* ",{...}" items */
    int n;
} ef_api_errors_t;

void ef_api_errors_init (ef_api_errors_t *e);
void ef_api_errors_add (ef_api_errors_t *e, const char *path,
                        const char *message);
/*  Answer 422 with the errors (and free them). */
int ef_api_errors_send (ef_http_t *h, ef_api_errors_t *e);
void ef_api_errors_free (ef_api_errors_t *e);

/*  A string member of root: NULL when absent; when present but not a
    string, an error is added. */
const char *ef_api_string (json_t *root, const char *key, int required,
                           ef_api_errors_t *e);

/*  Field checks that give a 422 its path before the broker is asked:
    each adds an error (and returns 0) when value is set and wrong. */
int ef_api_check_name (ef_api_errors_t *e, const char *path, const char *v);
int ef_api_check_role (ef_api_errors_t *e, const char *path, const char *v);
int ef_api_check_email (ef_api_errors_t *e, const char *path, const char *v);
int ef_api_check_password (ef_api_errors_t *e, const char *path,
                           const char *v);

/*  Write reply[key] as JSON (times as RFC 3339) into h->out; 0 or -1 when
    the key is missing. */
int ef_api_render (ef_http_t *h, const ef_reply_t *rep, const char *key);
/*  {"items": reply[key]} */
int ef_api_render_items (ef_http_t *h, const ef_reply_t *rep, const char *key);

#endif
