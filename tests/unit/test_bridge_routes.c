/*  test_bridge_routes.c: the bridge's route table, read from efbridge
    (the bridge built as a library): every row is a handler or a complete
    pass-through (a command, one request field per path parameter, a
    reply key unless it answers 204), no method and path twice,
    --routes prints every row, and a last "{x+}" matches the rest of a
    path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ef_bridge_int.h"

static int
s_path_params (const char *path)
{
    int n = 0;
    for (const char *p = path; (p = strchr (p, '{')); p++)
        n++;
    return n;
}

static void
test_every_row_is_a_handler_or_a_whole_pass_through (void **state)
{
    (void)state;
    int passes = 0;
    assert_true (ef_bridge_nroutes > 0);
    for (int i = 0; i < ef_bridge_nroutes; i++) {
        const ef_route_t *r = &ef_bridge_routes[i];
        assert_non_null (r->method);
        assert_true (r->path[0] == '/');
        if (r->fn)
            continue;
        const ef_route_pass_t *p = &r->pass;
        passes++;
        assert_true (p->cmd != EF_CMD_NONE);
        assert_non_null (ef_cmd_name (p->cmd));
        int fields = 0;
        while (fields < EF_HTTP_MAX_PARAMS && p->params[fields])
            fields++;
        if (fields != s_path_params (r->path))
            fail_msg ("%s %s: %d fields for %d path parameters", r->method,
                      r->path, fields, s_path_params (r->path));
        for (int k = 0; k < fields; k++)
            assert_true (p->params[k] - 1 + sizeof (ef_str_t) <=
                         sizeof (ef_request_t));
        assert_true (p->status >= 200 && p->status < 300);
        assert_true ((p->key == NULL) == (p->status == 204));
        assert_true (!p->items || p->key);
    }
    assert_true (passes >= 5); /* users list/get/delete, key revokes */
}

static void
test_no_method_and_path_twice (void **state)
{
    (void)state;
    for (int i = 0; i < ef_bridge_nroutes; i++)
        for (int j = i + 1; j < ef_bridge_nroutes; j++)
            if (!strcmp (ef_bridge_routes[i].method,
                         ef_bridge_routes[j].method) &&
                !strcmp (ef_bridge_routes[i].path, ef_bridge_routes[j].path))
                fail_msg ("%s %s twice", ef_bridge_routes[i].method,
                          ef_bridge_routes[i].path);
}

static void
test_print_routes_lists_every_row (void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&text, &len);
    assert_non_null (f);
    ef_bridge_print_routes (f);
    fclose (f);
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    assert_int_equal (lines, ef_bridge_nroutes);
    assert_non_null (strstr (text, "DELETE /api/v1/api-keys/{key_id}\n"));
    assert_non_null (strstr (text, "GET /api/v1/users/{user_id}\n"));
    free (text);
}

/*  The route of method and path: its path and first parameter, or NULL
    (and whether another method is served there). */
static const char *
s_route (const char *method, const char *path, int *matched, const char **param)
{
    ef_http_t h;
    memset (&h, 0, sizeof h);
    int i = ef_bridge_route (method, path, &h, matched);
    *param = h.params[0];
    return i >= 0 ? ef_bridge_routes[i].path : NULL;
}

/*  A literal segment wins over a parameter: /dlq/reasons and /dlq/delete
    are never taken for the dead letter of an event named "reasons" or
    "delete", whatever the method; a real id still is. */
static void
test_a_literal_segment_is_never_an_id (void **state)
{
    (void)state;
    int matched;
    const char *param, *r;
    r = s_route ("GET", "/api/v1/dlq/reasons", &matched, &param);
    assert_string_equal (r, "/api/v1/dlq/reasons");
    assert_null (param);
    r = s_route ("POST", "/api/v1/dlq/delete", &matched, &param);
    assert_string_equal (r, "/api/v1/dlq/delete");
    r = s_route ("POST", "/api/v1/dlq/replay", &matched, &param);
    assert_string_equal (r, "/api/v1/dlq/replay");
    /* another method on those paths: 405, not a letter's 404 */
    const char *other[][2] = {{"DELETE", "/api/v1/dlq/reasons"},
                              {"GET", "/api/v1/dlq/delete"},
                              {"DELETE", "/api/v1/dlq/delete"},
                              {"GET", "/api/v1/dlq/replay"},
                              {"POST", "/api/v1/dlq/reasons"}};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        matched = 0;
        r = s_route (other[i][0], other[i][1], &matched, &param);
        if (r)
            fail_msg ("%s %s went to %s", other[i][0], other[i][1], r);
        assert_true (matched);
    }
    const char *id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    char path[80];
    snprintf (path, sizeof path, "/api/v1/dlq/%s", id);
    r = s_route ("GET", path, &matched, &param);
    assert_string_equal (r, "/api/v1/dlq/{event_id}");
    assert_string_equal (param, id);
    r = s_route ("DELETE", path, &matched, &param);
    assert_string_equal (r, "/api/v1/dlq/{event_id}");
    snprintf (path, sizeof path, "/api/v1/dlq/%s/replay", id);
    r = s_route ("POST", path, &matched, &param);
    assert_string_equal (r, "/api/v1/dlq/{event_id}/replay");
    assert_string_equal (param, id);
    r = s_route ("GET", "/api/v1/streams/orders/consumer-groups", &matched,
                 &param);
    assert_string_equal (r, "/api/v1/streams/{stream_id}/consumer-groups");
    assert_string_equal (param, "orders");
}

/*  A last "{x+}" takes the rest of the path, slashes and all; a "{x}"
    still takes one segment. */
static void
test_a_rest_parameter_takes_the_rest_of_the_path (void **state)
{
    (void)state;
    ef_http_t h;
    int matched;
    memset (&h, 0, sizeof h);
    int i = ef_bridge_route ("GET", "/assets/js/pages/dlq.js", &h, &matched);
    assert_true (i >= 0);
    assert_string_equal (ef_bridge_routes[i].path, "/assets/{path+}");
    assert_string_equal (h.params[0], "js/pages/dlq.js");
    i = ef_bridge_route ("HEAD", "/assets/app.css", &h, &matched);
    assert_true (i >= 0);
    assert_string_equal (h.params[0], "app.css");
    assert_int_equal (ef_bridge_route ("GET", "/assets/", &h, &matched), -1);
    assert_int_equal (ef_bridge_route ("POST", "/assets/a.js", &h, &matched),
                      -1);
    assert_true (matched); /* 405, not 404 */
    assert_int_equal (
        ef_bridge_route ("GET", "/api/v1/users/a/b", &h, &matched), -1);
}

/*  POST /streams/check is the dry run, never a stream's route; the other
    methods on that path still address a stream named "check". */
static void
test_streams_check_is_its_own_route (void **state)
{
    (void)state;
    static ef_http_t h;
    int matched = 0;
    int i = ef_bridge_route ("POST", "/api/v1/streams/check", &h, &matched);
    assert_true (i >= 0);
    assert_true (ef_bridge_routes[i].fn == ef_api_streams_check);
    i = ef_bridge_route ("GET", "/api/v1/streams/check", &h, &matched);
    assert_true (i >= 0);
    assert_true (ef_bridge_routes[i].fn == ef_api_streams_get);
    assert_string_equal (h.params[0], "check");
    i = ef_bridge_route ("DELETE", "/api/v1/streams/check", &h, &matched);
    assert_true (i >= 0);
    assert_true (ef_bridge_routes[i].fn == ef_api_streams_delete);
    i = ef_bridge_route ("POST", "/api/v1/streams/check/events", &h, &matched);
    assert_true (i >= 0);
    assert_true (ef_bridge_routes[i].fn == ef_api_ingest);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_row_is_a_handler_or_a_whole_pass_through),
        cmocka_unit_test (test_no_method_and_path_twice),
        cmocka_unit_test (test_print_routes_lists_every_row),
        cmocka_unit_test (test_a_literal_segment_is_never_an_id),
        cmocka_unit_test (test_a_rest_parameter_takes_the_rest_of_the_path),
        cmocka_unit_test (test_streams_check_is_its_own_route),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
