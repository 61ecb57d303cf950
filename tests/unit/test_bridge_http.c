/*  test_bridge_http.c: unit tests of the bridge's request handling that
    needs no network, from efbridge (the bridge built as a library). The
    civetweb calls an exchange makes are replaced at link time (--wrap)
    by a fake connection: a request (method, path, query, headers) the
    test writes, and the answer recorded (status, body, whether the
    connection is closed after it).
    An encoded dot segment, slash, backslash or NUL in a path is refused;
    the route table finds the row of a method and path with its
    parameters decoded, and tells a path served for another method (405)
    from no path at all (404); ambiguous framing (two Content-Lengths, a
    length not of digits, a transfer coding, white space before a colon)
    is answered 400 or 411 and the connection closed; a query number out
    of its range is refused, never capped; the credentials and request id
    are read from the headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "ef_api_common.h"
#include "ef_bridge_int.h"
#include "ef_http.h"

/* ---------------------------------------------------------------- fake civetweb */

typedef struct {
    struct mg_request_info ri;
    int status;     /* the answer's, 0 before it */
    int keep_alive; /* 0 once the bridge said to close */
    char out[16384];
    size_t out_len;
} s_conn_t;

const struct mg_request_info *
__wrap_mg_get_request_info (const struct mg_connection *conn)
{
    return &((const s_conn_t *)conn)->ri;
}

const char *
__wrap_mg_get_header (const struct mg_connection *conn, const char *name)
{
    const struct mg_request_info *ri = &((const s_conn_t *)conn)->ri;
    for (int i = 0; i < ri->num_headers; i++)
        if (strcasecmp (ri->http_headers[i].name, name) == 0)
            return ri->http_headers[i].value;
    return NULL;
}

int
__wrap_mg_write (struct mg_connection *conn, const void *buf, size_t len)
{
    s_conn_t *c = (s_conn_t *)conn;
    assert_true (c->out_len + len < sizeof c->out);
    memcpy (c->out + c->out_len, buf, len);
    c->out_len += len;
    c->out[c->out_len] = 0;
    /* the one-write answer starts with its status line */
    if (!c->status && len > 12 && memcmp (buf, "HTTP/1.1 ", 9) == 0)
        c->status = atoi ((const char *)buf + 9);
    return (int)len;
}

int
__wrap_mg_response_header_start (struct mg_connection *conn, int status)
{
    ((s_conn_t *)conn)->status = status;
    return 0;
}

int
__wrap_mg_response_header_add (struct mg_connection *conn, const char *header,
                               const char *value, int value_len)
{
    (void)conn, (void)header, (void)value, (void)value_len;
    return 0;
}

int
__wrap_mg_response_header_send (struct mg_connection *conn)
{
    (void)conn;
    return 0;
}

void
__wrap_mg_disable_connection_keep_alive (struct mg_connection *conn)
{
    ((s_conn_t *)conn)->keep_alive = 0;
}

const char *
__wrap_mg_get_response_code_text (const struct mg_connection *conn, int status)
{
    (void)conn, (void)status;
    return "Status";
}

/*  A request: headers as "Name: value" lines (NULL-terminated), kept in
    the test's buffer as civetweb keeps them in its request buffer. */
static s_conn_t *
s_conn (const char *method, const char *uri, const char *query,
        const char *const *headers, char *buf)
{
    s_conn_t *c = calloc (1, sizeof *c);
    assert_non_null (c);
    c->keep_alive = 1;
    c->ri.request_method = method;
    c->ri.local_uri = uri;
    c->ri.query_string = query;
    c->ri.http_version = "1.1";
    c->ri.content_length = -1;
    for (int i = 0; headers && headers[i]; i++) {
        const char *colon = strchr (headers[i], ':');
        assert_non_null (colon);
        size_t n = (size_t)(colon - headers[i]), len = strlen (headers[i]);
        memcpy (buf, headers[i], len + 1);
        /* civetweb ends the name with NULs over the colon and any white
           space before it; the value starts after the spaces */
        char *end = buf + n;
        while (end > buf && end[-1] == ' ')
            end--;
        memset (end, 0, (size_t)(buf + n + 1 - end));
        char *value = buf + n + 1;
        while (*value == ' ')
            value++;
        c->ri.http_headers[i].name = buf;
        c->ri.http_headers[i].value = value;
        c->ri.num_headers = i + 1;
        buf += len + 1;
    }
    return c;
}

/*  Begin an exchange of a request with headers. */
static s_conn_t *
s_begin (ef_http_t *h, const char *query, const char *const *headers, char *buf)
{
    s_conn_t *c = s_conn ("POST", "/api/v1/streams", query, headers, buf);
    ef_http_begin (h, (struct mg_connection *)c);
    return c;
}

/*  The framing check of a request with headers: its status (0: passed)
    and whether the connection stays open. */
static int
s_framing (const char *const *headers, int *keep_alive)
{
    char buf[1024];
    ef_http_t h;
    s_conn_t *c = s_begin (&h, NULL, headers, buf);
    int rc = ef_http_check_framing (&h);
    assert_int_equal (rc, c->status);
    if (rc)
        assert_non_null (strstr (c->out, "\"status\""));
    *keep_alive = c->keep_alive;
    ef_http_end (&h);
    free (c);
    return rc;
}

/* ---------------------------------------------------------------- paths */

static void
test_encoded_dot_segments_and_slashes_in_a_path_are_refused (void **state)
{
    (void)state;
    static const char *refused[] = {"/api/v1/streams/%2e%2e/events",
                                    "/api/v1/streams/%2E%2E",
                                    "/api/v1/streams/.%2e/x",
                                    "/api/v1/streams/%2e",
                                    "/api/v1/streams/a%2fb/events",
                                    "/api/v1/streams/a%2Fb",
                                    "/api/v1/streams/a%5cb",
                                    "/api/v1/streams/a%00b",
                                    NULL};
    static const char *served[] = {"/api/v1/streams/orders/events",
                                   "/api/v1/streams/my%20stream",
                                   "/api/v1/streams/..x",
                                   "/api/v1/streams/%2e%2e%2e",
                                   "/api/v1/streams/a%2eb",
                                   "/api/v1/streams/100%25",
                                   NULL};
    for (int i = 0; refused[i]; i++)
        if (ef_bridge_path_safe (refused[i]))
            fail_msg ("served: %s", refused[i]);
    for (int i = 0; served[i]; i++)
        if (!ef_bridge_path_safe (served[i]))
            fail_msg ("refused: %s", served[i]);
}

/* ---------------------------------------------------------------- routes */

static void
test_route_lookup_decodes_parameters_and_tells_405_from_404 (void **state)
{
    (void)state;
    ef_http_t h;
    int matched;
    memset (&h, 0, sizeof h);
    int r = ef_bridge_route ("GET",
                             "/api/v1/streams/my%20orders/consumer-groups/"
                             "billing/events",
                             &h, &matched);
    assert_true (r >= 0);
    assert_string_equal (ef_bridge_routes[r].path,
                         "/api/v1/streams/{stream_id}/consumer-groups/"
                         "{group}/events");
    assert_string_equal (h.params[0], "my orders");
    assert_string_equal (h.params[1], "billing");
    assert_null (h.params[2]);

    r = ef_bridge_route ("POST", "/api/v1/streams/orders/events", &h, &matched);
    assert_true (r >= 0);
    assert_non_null (ef_bridge_routes[r].fn);
    assert_string_equal (ef_bridge_routes[r].method, "POST");
    assert_string_equal (h.params[0], "orders");

    /* the path is served, not for this method: 405 */
    r = ef_bridge_route ("PUT", "/api/v1/streams/orders", &h, &matched);
    assert_int_equal (r, -1);
    assert_true (matched);
    /* no such path: 404; nor one with a trailing slash, an empty
       parameter, or a parameter that decodes to a slash */
    static const char *none[] = {"/api/v1/nothing",
                                 "/api/v1/streams/orders/",
                                 "/api/v1/streams//events",
                                 "/api/v1/streams/a%2fb/events",
                                 "",
                                 NULL};
    for (int i = 0; none[i]; i++) {
        r = ef_bridge_route ("POST", none[i], &h, &matched);
        if (r >= 0 || matched)
            fail_msg ("matched: %s", none[i]);
    }
}

/* ---------------------------------------------------------------- framing */

static void
test_ambiguous_framing_is_refused_and_the_connection_closed (void **state)
{
    (void)state;
    int open;
    const char *ok[] = {"Content-Type: application/json", "Content-Length: 12",
                        NULL};
    assert_int_equal (s_framing (ok, &open), 0);
    assert_true (open);
    const char *two[] = {"Content-Length: 12", "content-length: 12", NULL};
    assert_int_equal (s_framing (two, &open), 400);
    assert_false (open);
    const char *hex[] = {"Content-Length: 0x10", NULL};
    assert_int_equal (s_framing (hex, &open), 400);
    assert_false (open);
    const char *sign[] = {"Content-Length: +5", NULL};
    assert_int_equal (s_framing (sign, &open), 400);
    const char *huge[] = {"Content-Length: 9999999999999999999", NULL};
    assert_int_equal (s_framing (huge, &open), 400);
    const char *both[] = {"Content-Length: 5", "Transfer-Encoding: chunked",
                          NULL};
    assert_int_equal (s_framing (both, &open), 400);
    assert_false (open);
    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    assert_int_equal (s_framing (chunked, &open), 411);
    assert_false (open);
    const char *gzip[] = {"Transfer-Encoding: gzip", NULL};
    assert_int_equal (s_framing (gzip, &open), 400);
    const char *space[] = {"Content-Length : 5", NULL};
    assert_int_equal (s_framing (space, &open), 400);
    assert_false (open);
}

/* ---------------------------------------------------------------- query */

static void
test_query_number_out_of_range_is_refused_not_capped (void **state)
{
    (void)state;
    static const struct {
        const char *query;
        int rc;
        uint32_t value;
    } cases[] = {
        {"limit=1", 1, 1},
        {"limit=1000", 1, 1000},
        {"x=1&limit=20", 1, 20},
        {"other=5", 0, 0},
        {NULL, 0, 0},
        {"limit=0", -1, 0},
        {"limit=1001", -1, 0},
        {"limit=-1", -1, 0},
        {"limit=1e3", -1, 0},
        {"limit=", -1, 0},
        {"limit=%2B5", -1, 0},
        {"limit=99999999999999999999", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[8];
        ef_http_t h;
        ef_api_errors_t e;
        ef_api_errors_init (&e);
        s_conn_t *c = s_begin (&h, cases[i].query, NULL, buf);
        uint32_t v = 0;
        int rc = ef_api_query_uint (&h, "limit", 1, 1000, &v, &e);
        if (rc != cases[i].rc)
            fail_msg ("%s: %d, not %d", cases[i].query, rc, cases[i].rc);
        if (rc == 1)
            assert_int_equal (v, cases[i].value);
        if (rc < 0) {
            /* answered 422 with the parameter's path and its range */
            assert_int_equal (ef_api_errors_send (&h, &e), 422);
            assert_int_equal (c->status, 422);
            assert_non_null (strstr (c->out, "?limit"));
            assert_non_null (strstr (c->out, "from 1 to 1000"));
        } else
            ef_api_errors_free (&e);
        ef_http_end (&h);
        free (c);
    }
}

/* ---------------------------------------------------------------- credentials */

static void
test_credentials_and_request_id_are_read_from_the_headers (void **state)
{
    (void)state;
    char buf[512];
    ef_http_t h;
    const char *given[] = {"X-Request-Id: req-42",
                           "Authorization: bearer   tok.en.x",
                           "X-API-Key: efk_abc", NULL};
    s_conn_t *c = s_begin (&h, NULL, given, buf);
    assert_string_equal (h.request_id, "req-42");
    assert_true (ef_str_eq (h.jwt, "tok.en.x"));
    assert_true (ef_str_eq (h.api_key, "efk_abc"));
    ef_http_end (&h);
    free (c);
    /* a request id that is not printable is replaced by a new one; a
       Basic header is no token */
    const char *odd[] = {"X-Request-Id: a\tb", "Authorization: Basic Zm9v",
                         NULL};
    c = s_begin (&h, NULL, odd, buf);
    assert_int_equal (strlen (h.request_id), 36);
    assert_false (ef_str_set (h.jwt));
    assert_false (ef_str_set (h.api_key));
    /* and it is the one the answer carries */
    assert_int_equal (ef_http_send (&h, 200), 200);
    assert_non_null (strstr (c->out, h.request_id));
    ef_http_end (&h);
    free (c);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (
            test_encoded_dot_segments_and_slashes_in_a_path_are_refused),
        cmocka_unit_test (
            test_route_lookup_decodes_parameters_and_tells_405_from_404),
        cmocka_unit_test (
            test_ambiguous_framing_is_refused_and_the_connection_closed),
        cmocka_unit_test (test_query_number_out_of_range_is_refused_not_capped),
        cmocka_unit_test (
            test_credentials_and_request_id_are_read_from_the_headers),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
