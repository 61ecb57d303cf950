/*  A stream's configuration checked before anything is stored, against a
    real broker: CREATE_STREAM and UPDATE_STREAM refuse pipelines whose
    routes would loop, naming the cycle, and name the path of what they
    refuse; CHECK_STREAM, the dry run, answers the same verdicts by path
    (and a payload's against the schema) and stores nothing. (Processing
    itself: test_broker_processing.c.) */
#define _GNU_SOURCE
#include "harness.h"
#include "eventflow/ef_error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static char s_dir[256];
static h_broker_t s_broker;
static ef_client_t *s_admin;

/* ---------------------------------------------------------------- helpers */

static int
s_create (const char *name, const char *schema, const char *pipeline)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_CREATE_STREAM;
    req.name = ef_str (name);
    req.schema = ef_str (schema);
    req.pipeline = ef_str (pipeline);
    return ef_client_call (s_admin, &req, &rep);
}

/* ----------------------------------------------------------------- routes */

/*  The CREATE_STREAM or UPDATE_STREAM in req: its error code, and its
    message in msg (256 bytes). */
static int
s_call_msg (ef_request_t *req, char *msg)
{
    const ef_reply_t *rep;
    int rc = ef_client_call (s_admin, req, &rep);
    snprintf (msg, 256, "%s", rc ? ef_client_error (s_admin) : "");
    return rc;
}

/*  A pipeline whose routes would loop is refused at CREATE_STREAM and
    UPDATE_STREAM, naming the cycle: a stream routing to itself, A → B →
    A, a longer ring, and a rename that closes one; nothing of a refused
    request is kept. */
static void
test_route_cycles_are_refused (void **state)
{
    (void)state;
    char msg[256];
    ef_request_t req = {0};
    req.cmd = EF_CMD_CREATE_STREAM;
    req.name = ef_str ("loop");
    req.pipeline = ef_str ("[{\"type\":\"route\",\"stream\":\"loop\"}]");
    assert_int_equal (s_call_msg (&req, msg), EF_EINVAL);
    assert_non_null (strstr (msg, "route cycle: loop -> loop"));
    ef_stream_info_t si;
    assert_int_equal (ef_client_get_stream (s_admin, "loop", &si),
                      EF_ENOTFOUND);

    /* ra → rb: fine while rb does not exist, or routes nowhere */
    assert_int_equal (
        s_create ("ra", NULL, "[{\"type\":\"route\",\"stream\":\"rb\"}]"), 0);
    req.name = ef_str ("rb");
    req.pipeline = ef_str ("[{\"type\":\"filter\",\"schema\":{}},"
                           "{\"type\":\"route\",\"stream\":\"ra\"}]");
    assert_int_equal (s_call_msg (&req, msg), EF_EINVAL);
    assert_non_null (strstr (msg, "route cycle: rb -> ra -> rb"));
    assert_int_equal (ef_client_get_stream (s_admin, "rb", &si), EF_ENOTFOUND);
    assert_int_equal (s_create ("rb", NULL, NULL), 0);
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_UPDATE_STREAM;
    req.stream = ef_str ("rb");
    req.pipeline = ef_str ("[{\"type\":\"route\",\"stream\":\"rc\"}]");
    assert_int_equal (s_call_msg (&req, msg), 0); /* rc does not exist */
    /* rc → ra closes ra → rb → rc → ra */
    assert_int_equal (
        s_create ("rc", NULL, "[{\"type\":\"route\",\"stream\":\"ra\"}]"),
        EF_EINVAL);
    assert_non_null (strstr (ef_client_error (s_admin),
                             "route cycle: rc -> ra -> rb -> rc"));
    /* a stream named otherwise, renamed to rc: the same cycle */
    assert_int_equal (
        s_create ("rx", NULL, "[{\"type\":\"route\",\"stream\":\"ra\"}]"), 0);
    req.stream = ef_str ("rx");
    req.name = ef_str ("rc");
    req.pipeline = EF_STR_NULL;
    assert_int_equal (s_call_msg (&req, msg), EF_EINVAL);
    assert_non_null (strstr (msg, "route cycle: rc -> ra -> rb -> rc"));
    assert_int_equal (ef_client_get_stream (s_admin, "rx", &si), 0);
    assert_int_equal (ef_client_get_stream (s_admin, "rc", &si), EF_ENOTFOUND);
    /* an update that keeps the name but routes back is refused too */
    req.stream = ef_str ("rb");
    req.name = EF_STR_NULL;
    req.pipeline = ef_str ("[{\"type\":\"route\",\"stream\":\"ra\"}]");
    assert_int_equal (s_call_msg (&req, msg), EF_EINVAL);
    assert_non_null (strstr (msg, "route cycle: rb -> ra -> rb"));
    /* and rb still routes to rc, as before */
    assert_int_equal (ef_client_get_stream (s_admin, "rb", &si), 0);
    snprintf (msg, 256, "%.*s", (int)si.pipeline.len,
              si.pipeline.ptr ? si.pipeline.ptr : "");
    assert_non_null (strstr (msg, "\"rc\""));
}

/*  The CREATE_STREAM in req is refused EF_EINVAL with one error at path
    (protocol.md §2, the error's errors) whose message is the reply's. */
static void
s_refused_at (ef_request_t *req, const char *path)
{
    const ef_reply_t *rep = NULL;
    assert_int_equal (ef_client_call (s_admin, req, &rep), EF_EINVAL);
    assert_non_null (rep);
    assert_true (ef_str_set (rep->err_errors));
    ef_mpr_t r;
    uint32_t n = 0;
    ef_mpr_init (&r, rep->err_errors.ptr, rep->err_errors.len);
    assert_int_equal (ef_mpr_array (&r, &n), 0);
    assert_int_equal (n, 1);
    ef_field_error_t e;
    assert_int_equal (ef_proto_read_field_error (&r, &e), 0);
    assert_true (ef_str_eq (e.path, path));
    assert_int_equal (e.message.len, rep->err_message.len);
    assert_memory_equal (e.message.ptr, rep->err_message.ptr, e.message.len);
}

/*  A refused schema, pipeline, step patch or route cycle names its place
    in the request: the error's errors array holds {path, message}. */
static void
test_stream_refusals_name_their_path (void **state)
{
    (void)state;
    ef_request_t req = {0};
    req.cmd = EF_CMD_CREATE_STREAM;
    req.name = ef_str ("pathed");
    req.schema = ef_str ("{\"type\":7}");
    s_refused_at (&req, "/schema");
    req.schema = EF_STR_NULL;
    req.pipeline = ef_str ("[{\"type\":\"nope\"}]");
    s_refused_at (&req, "/pipeline");
    req.pipeline = ef_str ("[{\"type\":\"filter\",\"schema\":{}},"
                           "{\"type\":\"transform\",\"patch\":[{\"op\":1}]}]");
    s_refused_at (&req, "/pipeline/1/patch");
    req.pipeline = ef_str ("[{\"type\":\"route\",\"stream\":\"pathed\"}]");
    s_refused_at (&req, "/pipeline");
    ef_stream_info_t si;
    assert_int_equal (ef_client_get_stream (s_admin, "pathed", &si),
                      EF_ENOTFOUND);
}

/* ---------------------------------------------------------------- check */

/*  CHECK_STREAM's verdict: valid, and its errors as "path=message"
    lines in out (1024 bytes). */
static int
s_check (const char *name, const char *schema, const char *pipeline,
         const char *payload, char *out)
{
    ef_request_t req = {0};
    const ef_reply_t *rep;
    req.cmd = EF_CMD_CHECK_STREAM;
    req.name = ef_str (name);
    req.schema = ef_str (schema);
    req.pipeline = ef_str (pipeline);
    req.payload = ef_str (payload);
    assert_int_equal (ef_client_call (s_admin, &req, &rep), 0);
    ef_mpr_t r;
    int valid = -1;
    uint32_t n = 0;
    assert_int_equal (ef_proto_reply_find (rep, "valid", &r), 0);
    assert_int_equal (ef_mpr_bool (&r, &valid), 0);
    assert_int_equal (ef_proto_reply_find (rep, "errors", &r), 0);
    assert_int_equal (ef_mpr_array (&r, &n), 0);
    out[0] = 0;
    for (uint32_t i = 0; i < n; i++) {
        ef_field_error_t e;
        assert_int_equal (ef_proto_read_field_error (&r, &e), 0);
        size_t len = strlen (out);
        snprintf (out + len, 1024 - len, "%.*s=%.*s\n", (int)e.path.len,
                  e.path.ptr, (int)e.message.len, e.message.ptr);
    }
    assert_int_equal (valid, n == 0);
    return valid;
}

/*  CHECK_STREAM compiles a schema and a pipeline as CREATE_STREAM and
    UPDATE_STREAM would, routes included (name: the stream being edited),
    checks a payload against the schema, answers every error by path,
    and stores nothing. */
static void
test_check_stream_answers_errors_by_path_and_stores_nothing (void **state)
{
    (void)state;
    char got[1024];
    ef_stream_info_t si;
    const char *obj = "{\"type\":\"object\",\"required\":[\"a\"],"
                      "\"properties\":{\"a\":{\"type\":\"integer\"}}}";
    /* all good: nothing made */
    assert_true (s_check ("ck-new", obj,
                          "[{\"type\":\"filter\",\"schema\":{}}]", "{\"a\":1}",
                          got));
    assert_string_equal (got, "");
    assert_int_equal (ef_client_get_stream (s_admin, "ck-new", &si),
                      EF_ENOTFOUND);
    /* a name, a schema and a pipeline at fault: each at its place */
    assert_false (s_check ("no/slash", "{\"type\":7}",
                           "[{\"type\":\"filter\",\"schema\":{}},"
                           "{\"type\":\"transform\",\"patch\":[{\"op\":1}]}]",
                           NULL, got));
    assert_non_null (strstr (got, "/name=stream names are"));
    assert_non_null (strstr (got, "/schema=invalid schema: "));
    assert_non_null (
        strstr (got, "/pipeline/1/patch=invalid pipeline: step 1: transform"));
    assert_false (s_check (NULL, NULL, "[{\"type\":\"nope\"}]", NULL, got));
    assert_non_null (strstr (got, "/pipeline=invalid pipeline: "));
    /* routes: a new stream routing to itself, and as UPDATE_STREAM would
       see an existing one (by name or id) */
    assert_false (s_check ("ck-loop", NULL,
                           "[{\"type\":\"route\",\"stream\":\"ck-loop\"}]",
                           NULL, got));
    assert_string_equal (got, "/pipeline=invalid pipeline: route cycle: "
                              "ck-loop -> ck-loop\n");
    assert_int_equal (
        s_create ("ck-a", NULL, "[{\"type\":\"route\",\"stream\":\"ck-b\"}]"),
        0);
    const char *to_a = "[{\"type\":\"route\",\"stream\":\"ck-a\"}]";
    assert_false (s_check ("ck-b", NULL, to_a, NULL, got));
    assert_string_equal (got, "/pipeline=invalid pipeline: route cycle: "
                              "ck-b -> ck-a -> ck-b\n");
    assert_int_equal (s_create ("ck-b", NULL, NULL), 0);
    assert_int_equal (ef_client_get_stream (s_admin, "ck-b", &si), 0);
    char id[64];
    snprintf (id, sizeof id, "%.*s", (int)si.id.len, si.id.ptr);
    assert_false (s_check (id, NULL, to_a, NULL, got));
    assert_string_equal (got, "/pipeline=invalid pipeline: route cycle: "
                              "ck-b -> ck-a -> ck-b\n");
    assert_true (s_check ("ck-c", NULL, to_a, NULL, got)); /* no cycle */
    /* fan-out: d <- c (16 routes) <- b2 (16 routes) is fine (272 routed
       events from one in b2); 16 more routes to b2 are not */
    char fan[2048];
    assert_int_equal (s_create ("ck-d", NULL, NULL), 0);
    const char *chain[][2] = {{"ck-c2", "ck-d"}, {"ck-b2", "ck-c2"}};
    for (int k = 0; k < 3; k++) {
        const char *to = k < 2 ? chain[k][1] : "ck-b2";
        strcpy (fan, "[");
        for (int i = 0; i < 16; i++)
            snprintf (fan + strlen (fan), sizeof fan - strlen (fan),
                      "%s{\"type\":\"route\",\"stream\":\"%s\"}", i ? "," : "",
                      to);
        strcat (fan, "]");
        if (k < 2)
            assert_int_equal (s_create (chain[k][0], NULL, fan), 0);
    }
    assert_false (s_check ("ck-top", NULL, fan, NULL, got));
    assert_string_equal (got, "/pipeline=invalid pipeline: route fan-out: one "
                              "event in ck-top would lead to more than 1000 "
                              "routed events\n");
    assert_false (s_check (NULL, NULL, fan, NULL, got)); /* a new one */
    assert_non_null (strstr (got, "route fan-out"));
    /* and nothing changed: ck-b has no pipeline */
    assert_int_equal (ef_client_get_stream (s_admin, "ck-b", &si), 0);
    assert_false (ef_str_set (si.pipeline));
    /* payloads: PUBLISH's rules, then the schema's paths under /payload */
    assert_false (s_check (NULL, obj, NULL, "{\"a\":", got));
    assert_string_equal (got, "/payload=payload is not a single JSON value\n");
    assert_false (s_check (NULL, obj, NULL, "{\"a\":\"x\"}", got));
    assert_non_null (strstr (got, "/payload/a="));
    assert_false (s_check (NULL, obj, NULL, "[]", got));
    assert_non_null (strstr (got, "/payload="));
    /* without a schema in the request, the named stream's */
    assert_int_equal (s_create ("ck-typed", obj, NULL), 0);
    assert_false (s_check ("ck-typed", NULL, NULL, "{\"a\":true}", got));
    assert_non_null (strstr (got, "/payload/a="));
    assert_true (s_check ("ck-typed", NULL, NULL, "{\"a\":2}", got));
    /* a check over its budget says so, as PUBLISH does */
    char hostile[4096] = "{\"allOf\":[";
    for (int i = 0; i < 50; i++)
        strcat (hostile, i ? ",{\"pattern\":\"^(a|aa)+$\"}"
                           : "{\"pattern\":\"^(a|aa)+$\"}");
    strcat (hostile, "]}");
    assert_false (s_check (NULL, hostile, NULL,
                           "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\"",
                           got));
    assert_string_equal (got,
                         "/payload=the schema check exceeded its budget\n");
    /* a payload over max_payload is refused before any check */
    static char big[(1 << 20) + 16];
    memset (big, ' ', sizeof big - 1);
    big[0] = '1';
    assert_false (s_check (NULL, NULL, NULL, big, got));
    assert_string_equal (got, "/payload=payload is larger than the limit\n");
    /* names resolve in the caller's org only */
    static char jwt[1024];
    h_new_org (s_admin, jwt, sizeof jwt, "carl-check@example.com", "carl-corp");
    ef_client_t *c = h_client (&s_broker);
    assert_non_null (c);
    ef_client_set_jwt (c, jwt);
    ef_request_t req = {0};
    req.cmd = EF_CMD_CHECK_STREAM;
    req.name = ef_str ("ck-typed"); /* another org's: a new stream there */
    req.payload = ef_str ("{\"a\":true}");
    const ef_reply_t *rep;
    assert_int_equal (ef_client_call (c, &req, &rep), 0);
    ef_mpr_t r;
    int valid = 0;
    assert_int_equal (ef_proto_reply_find (rep, "valid", &r), 0);
    assert_int_equal (ef_mpr_bool (&r, &valid), 0);
    assert_true (valid);
    ef_client_destroy (&c);
    /* and admins only: a producer's key is refused */
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_APIKEY_CREATE;
    req.name = ef_str ("ck-producer");
    req.role = ef_str ("producer");
    assert_int_equal (ef_client_call (s_admin, &req, &rep), 0);
    char key[256];
    h_reply_str (rep, "api_key", NULL, key, sizeof key);
    c = h_client (&s_broker);
    assert_non_null (c);
    ef_client_set_api_key (c, key);
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_CHECK_STREAM;
    req.payload = ef_str ("1");
    assert_int_equal (ef_client_call (c, &req, &rep), EF_EFORBIDDEN);
    ef_client_destroy (&c);
    /* an admin key limited to streams checks only those, or new ones */
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_APIKEY_CREATE;
    req.name = ef_str ("ck-scoped");
    req.role = ef_str ("admin");
    req.streams[0] = ef_str ("default");
    req.n_streams = 1;
    assert_int_equal (ef_client_call (s_admin, &req, &rep), 0);
    h_reply_str (rep, "api_key", NULL, key, sizeof key);
    c = h_client (&s_broker);
    assert_non_null (c);
    ef_client_set_api_key (c, key);
    memset (&req, 0, sizeof req);
    req.cmd = EF_CMD_CHECK_STREAM;
    req.payload = ef_str ("{\"a\":2}");
    req.name = ef_str ("ck-typed");
    assert_int_equal (ef_client_call (c, &req, &rep), EF_EFORBIDDEN);
    req.name = ef_str ("default");
    assert_int_equal (ef_client_call (c, &req, &rep), 0);
    req.name = ef_str ("ck-not-yet");
    assert_int_equal (ef_client_call (c, &req, &rep), 0);
    ef_client_destroy (&c);
}

static int
s_setup (void **state)
{
    (void)state;
    if (h_tempdir (s_dir) || h_broker_start (&s_broker, s_dir, NULL))
        return -1;
    s_admin = h_client (&s_broker);
    return s_admin ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void)state;
    ef_client_destroy (&s_admin);
    h_broker_stop (&s_broker);
    h_rmrf (s_dir);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_route_cycles_are_refused),
        cmocka_unit_test (test_stream_refusals_name_their_path),
        cmocka_unit_test (
            test_check_stream_answers_errors_by_path_and_stores_nothing),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
