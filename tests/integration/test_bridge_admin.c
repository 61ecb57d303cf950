/*  The bridge's identity and access routes end to end (DESIGN §5)
    against a real broker and a real bridge: the auth flows (register,
    login, refresh, reuse, logout), users, producers and API keys with
    their success statuses and body shapes, what a producer may not do, and
    the 422 problems of these routes. The streams, events, ingest, headers,
    error and metrics routes are in test_bridge_api.c. The API keys that a
    test only needs as a precondition are made over the native protocol, so
    that a broken route fails the test about that route and not every
    test. */
#include "harness.h"
#include "h_fixture.h"
#include "h_http.h"

#include <curl/curl.h>
#include <jansson.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cmocka.h>

#define API "/api/v1"

/* ---------------------------------------------------------------- fixture */

static char s_dir[256];
static h_broker_t s_broker;
static h_bridge_t s_bridge;   /* defaults */
static ef_client_t *s_native; /* the local admin key */
static char s_admin_email[128] = "admin@eventflow.local";
static char s_admin_pw[128];
/* header lines "X-API-Key: efk_…" */
static char s_admin_key[200], s_producer_key[200];

static h_fixture_t s_fx = {.dir = s_dir,
                           .broker = &s_broker,
                           .native = &s_native,
                           .bridge = &s_bridge,
                           .admin_key = s_admin_key,
                           .producer_key = s_producer_key,
                           .admin_email = s_admin_email,
                           .admin_pw = s_admin_pw};

/*  POST /auth/login; the HTTP status. access/refresh (may be NULL) get
    the tokens: 2048 and 256 bytes. */
static long
s_login (const char *email, const char *pw, char *access, char *refresh)
{
    h_resp_t r;
    json_t *b = json_pack ("{s:s, s:s}", "email", email, "password", pw);
    char *body = json_dumps (b, 0);
    h_http (&r, s_bridge.url, "POST", API "/auth/login", NULL, body, NULL);
    if (access)
        snprintf (access, 2048, "%s",
                  h_http_jstr (r.json, "access_token")
                      ? h_http_jstr (r.json, "access_token")
                      : "");
    if (refresh)
        snprintf (refresh, 256, "%s",
                  h_http_jstr (r.json, "refresh_token")
                      ? h_http_jstr (r.json, "refresh_token")
                      : "");
    long st = r.status;
    h_http_free (&r);
    free (body);
    json_decref (b);
    return st;
}

/*  POST one event; the response in r. */
static void
s_publish (h_resp_t *r, const char *stream, const char *cred, const char *body)
{
    h_http_publish (r, s_bridge.url, stream, cred, body);
}

static int
group_setup (void **state)
{
    (void)state;
    return h_fixture_setup (&s_fx);
}

static int
group_teardown (void **state)
{
    (void)state;
    return h_fixture_teardown (&s_fx);
}

/* ---------------------------------------------------------------- auth */

static void
test_login_returns_tokens_and_the_user (void **st)
{
    (void)st;
    h_resp_t r;
    char body[512], bearer[2200];
    snprintf (body, sizeof body, "{\"email\":\"%s\",\"password\":\"%s\"}",
              s_admin_email, s_admin_pw);
    h_http (&r, s_bridge.url, "POST", API "/auth/login", NULL, body, NULL);
    H_EXPECT_STATUS (r, 200);
    H_HAS (r, "access_token", 's');
    H_HAS (r, "refresh_token", 's');
    H_HAS (r, "expires_in", 'i');
    assert_true (json_integer_value (h_http_j (r.json, "expires_in")) > 0);
    H_HAS (r, "token_type", 's');
    assert_int_equal (strcasecmp (h_http_jstr (r.json, "token_type"), "Bearer"),
                      0);
    H_HAS (r, "user", 'o');
    H_HAS (r, "user.id", 's');
    H_HAS (r, "user.role", 's');
    H_HAS (r, "user.org_id", 's');
    H_HAS (r, "user.created_at", '?');
    H_EXPECT_STR (r, "user.email", s_admin_email);
    H_EXPECT_STR (r, "user.role", "admin");
    snprintf (bearer, sizeof bearer, "Authorization: Bearer %s",
              h_http_jstr (r.json, "access_token"));
    h_http_free (&r);

    /* the access token works as a credential, for reading and ingest */
    h_http (&r, s_bridge.url, "GET", API "/streams", bearer, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    h_http_free (&r);
    s_publish (&r, "default", bearer, "{\"type\":\"jwt.ok\",\"payload\":{}}");
    H_EXPECT_STATUS (r, 202);
    h_http_free (&r);
}

static void
test_login_with_a_wrong_password_is_401 (void **st)
{
    (void)st;
    h_resp_t r;
    char body[512];
    snprintf (body, sizeof body,
              "{\"email\":\"%s\",\"password\":\"not-the-password\"}",
              s_admin_email);
    h_http (&r, s_bridge.url, "POST", API "/auth/login", NULL, body, NULL);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "POST", API "/auth/login", NULL,
            "{\"email\":\"nobody@example.com\",\"password\":\"whatever1\"}",
            NULL);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
}

static void
test_register_creates_an_org_whose_user_is_its_admin (void **st)
{
    (void)st;
    h_resp_t r;
    char email[128], body[512], access[2048], bearer[2200];
    snprintf (email, sizeof email, "second-%d@example.com", (int)getpid ());
    snprintf (body, sizeof body,
              "{\"email\":\"%s\",\"password\":\"second-password\","
              "\"org_name\":\"Second Org\"}",
              email);
    h_http (&r, s_bridge.url, "POST", API "/auth/register", NULL, body, NULL);
    H_EXPECT_STATUS (r, 201);
    H_HAS (r, "user", 'o');
    H_HAS (r, "user.id", 's');
    H_HAS (r, "user.org_id", 's');
    H_HAS (r, "user.created_at", '?');
    H_EXPECT_STR (r, "user.email", email);
    H_EXPECT_STR (r, "user.role", "admin");
    H_HAS (r, "org.id", 's');
    H_EXPECT_STR (r, "org.name", "Second Org");
    assert_string_equal (h_http_jstr (r.json, "org.id"),
                         h_http_jstr (r.json, "user.org_id"));
    h_http_free (&r);

    /* the new admin logs in and finds the org's default stream */
    assert_int_equal (s_login (email, "second-password", access, NULL), 200);
    snprintf (bearer, sizeof bearer, "Authorization: Bearer %s", access);
    h_http (&r, s_bridge.url, "GET", API "/streams/default", bearer, NULL,
            NULL);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "name", "default");
    h_http_free (&r);

    /* a taken email */
    h_http (&r, s_bridge.url, "POST", API "/auth/register", NULL, body, NULL);
    H_EXPECT_PROBLEM (r, 409, "EXISTS", NULL);
    h_http_free (&r);
}

static void
test_register_with_a_short_password_is_refused (void **st)
{
    (void)st;
    h_resp_t r;
    h_http (&r, s_bridge.url, "POST", API "/auth/register", NULL,
            "{\"email\":\"short@example.com\",\"password\":\"1234567\","
            "\"org_name\":\"Short\"}",
            NULL);
    /* the contract gives 8..1024 bytes; a validation failure is 422 */
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", NULL);
    h_http_free (&r);
    assert_int_equal (s_login ("short@example.com", "1234567", NULL, NULL),
                      401);
}

static void
test_refresh_rotates_and_reuse_revokes_the_family (void **st)
{
    (void)st;
    h_resp_t r;
    char r1[256], r2[256], body[512], bearer[2200];
    assert_int_equal (s_login (s_admin_email, s_admin_pw, NULL, r1), 200);
    snprintf (body, sizeof body, "{\"refresh_token\":\"%s\"}", r1);
    h_http (&r, s_bridge.url, "POST", API "/auth/refresh", NULL, body, NULL);
    H_EXPECT_STATUS (r, 200);
    H_HAS (r, "access_token", 's');
    H_HAS (r, "refresh_token", 's');
    H_HAS (r, "expires_in", 'i');
    H_HAS (r, "token_type", 's');
    H_HAS (r, "user", 'o');
    snprintf (r2, sizeof r2, "%s", h_http_jstr (r.json, "refresh_token"));
    snprintf (bearer, sizeof bearer, "Authorization: Bearer %s",
              h_http_jstr (r.json, "access_token"));
    assert_string_not_equal (r1, r2);
    h_http_free (&r);

    /* the rotated-out token again: refused, and the family is revoked */
    h_http (&r, s_bridge.url, "POST", API "/auth/refresh", NULL, body, NULL);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
    snprintf (body, sizeof body, "{\"refresh_token\":\"%s\"}", r2);
    h_http (&r, s_bridge.url, "POST", API "/auth/refresh", NULL, body, NULL);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", API "/streams", bearer, NULL, NULL);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
}

static void
test_logout_answers_204_and_the_refresh_token_stops_working (void **st)
{
    (void)st;
    h_resp_t r;
    char access[2048], refresh[256], body[512], bearer[2200];
    assert_int_equal (s_login (s_admin_email, s_admin_pw, access, refresh),
                      200);
    snprintf (bearer, sizeof bearer, "Authorization: Bearer %s", access);
    snprintf (body, sizeof body, "{\"refresh_token\":\"%s\"}", refresh);
    /* the refresh token is the credential: no other is needed */
    h_http (&r, s_bridge.url, "POST", API "/auth/logout", NULL, body, NULL);
    H_EXPECT_STATUS (r, 204);
    assert_int_equal (r.len, 0);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "POST", API "/auth/refresh", NULL, body, NULL);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
    /* the family's access token goes with it (protocol §6.4) */
    h_http (&r, s_bridge.url, "GET", API "/streams", bearer, NULL, NULL);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
}

/* ---------------------------------------------------------------- admin */

static void
s_expect_user (const h_resp_t *r, json_t *u)
{
    H_HAS_IN (*r, u, "id", 's');
    H_HAS_IN (*r, u, "email", 's');
    H_HAS_IN (*r, u, "role", 's');
    H_HAS_IN (*r, u, "org_id", 's');
    H_HAS_IN (*r, u, "created_at", '?');
}

static void
test_users_are_created_listed_updated_and_deleted_by_an_admin (void **st)
{
    (void)st;
    h_resp_t r;
    char email[128], body[512], id[128], path[300];
    h_http (&r, s_bridge.url, "GET", API "/users", s_admin_key, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    H_HAS (r, "items", 'a');
    assert_true (
        h_http_array_has (h_http_j (r.json, "items"), "email", s_admin_email));
    s_expect_user (&r, h_http_j (r.json, "items.0"));
    h_http_free (&r);

    snprintf (email, sizeof email, "user-%d@example.com", (int)getpid ());
    snprintf (body, sizeof body,
              "{\"email\":\"%s\",\"password\":\"user-password-1\","
              "\"role\":\"producer\"}",
              email);
    h_http (&r, s_bridge.url, "POST", API "/users", s_admin_key, body, NULL);
    H_EXPECT_STATUS (r, 201);
    s_expect_user (&r, r.json);
    H_EXPECT_STR (r, "email", email);
    H_EXPECT_STR (r, "role", "producer");
    snprintf (id, sizeof id, "%s", h_http_jstr (r.json, "id"));
    h_http_free (&r);

    snprintf (path, sizeof path, API "/users/%s", id);
    h_http (&r, s_bridge.url, "GET", path, s_admin_key, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    s_expect_user (&r, r.json);
    H_EXPECT_STR (r, "email", email);
    h_http_free (&r);

    h_http (&r, s_bridge.url, "PATCH", path, s_admin_key,
            "{\"role\":\"consumer\"}", NULL);
    H_EXPECT_STATUS (r, 200);
    H_EXPECT_STR (r, "role", "consumer");
    h_http_free (&r);
    h_http (&r, s_bridge.url, "PATCH", path, s_admin_key,
            "{\"password\":\"user-password-2\"}", NULL);
    H_EXPECT_STATUS (r, 200);
    s_expect_user (&r, r.json);
    h_http_free (&r);
    assert_int_equal (s_login (email, "user-password-2", NULL, NULL), 200);
    assert_int_equal (s_login (email, "user-password-1", NULL, NULL), 401);

    h_http (&r, s_bridge.url, "DELETE", path, s_admin_key, NULL, NULL);
    H_EXPECT_STATUS (r, 204);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "GET", path, s_admin_key, NULL, NULL);
    H_EXPECT_PROBLEM (r, 404, "NOT_FOUND", NULL);
    h_http_free (&r);
    assert_int_equal (s_login (email, "user-password-2", NULL, NULL), 401);
}

static void
test_admin_routes_are_forbidden_to_a_producer (void **st)
{
    (void)st;
    h_resp_t r;
    h_http (&r, s_bridge.url, "GET", API "/users", s_producer_key, NULL, NULL);
    H_EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "POST", API "/streams", s_producer_key,
            "{\"name\":\"not-allowed\"}", NULL);
    H_EXPECT_PROBLEM (r, 403, "FORBIDDEN", NULL);
    h_http_free (&r);
}

/*  GET coll lists the item id without the secret of its key (an
    "X-API-Key: …" header line), then DELETE coll/id answers 204. */
static void
s_expect_listed_then_delete (const char *coll, const char *id, const char *key)
{
    h_resp_t r;
    char path[300];
    h_http (&r, s_bridge.url, "GET", coll, s_admin_key, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    H_HAS (r, "items", 'a');
    assert_true (h_http_array_has (h_http_j (r.json, "items"), "id", id));
    assert_null (strstr (r.body, key + 11)); /* the secret is shown once */
    h_http_free (&r);

    snprintf (path, sizeof path, "%s/%s", coll, id);
    h_http (&r, s_bridge.url, "DELETE", path, s_admin_key, NULL, NULL);
    H_EXPECT_STATUS (r, 204);
    h_http_free (&r);
}

static void
test_producers_are_created_listed_and_deleted_and_their_key_stops (void **st)
{
    (void)st;
    h_resp_t r;
    char id[128], key[300];
    h_http (&r, s_bridge.url, "POST", API "/producers", s_admin_key,
            "{\"name\":\"checkout-service\"}", NULL);
    H_EXPECT_STATUS (r, 201);
    H_HAS (r, "id", 's');
    H_EXPECT_STR (r, "name", "checkout-service");
    H_HAS (r, "api_key", 's');
    assert_int_equal (strncmp (h_http_jstr (r.json, "api_key"), "efk_", 4), 0);
    snprintf (id, sizeof id, "%s", h_http_jstr (r.json, "id"));
    snprintf (key, sizeof key, "X-API-Key: %s",
              h_http_jstr (r.json, "api_key"));
    h_http_free (&r);

    s_publish (&r, "default", key, "{\"type\":\"p.ok\",\"payload\":1}");
    H_EXPECT_STATUS (r, 202);
    h_http_free (&r);

    s_expect_listed_then_delete (API "/producers", id, key);
    s_publish (&r, "default", key, "{\"type\":\"p.gone\",\"payload\":1}");
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
}

static void
test_api_keys_are_created_listed_and_deleted (void **st)
{
    (void)st;
    h_resp_t r;
    char id[128], key[300];
    h_http (&r, s_bridge.url, "POST", API "/api-keys", s_admin_key,
            "{\"name\":\"reader\",\"role\":\"consumer\","
            "\"streams\":[\"default\"],"
            "\"rate_limit\":{\"per_second\":50,\"burst\":100}}",
            NULL);
    H_EXPECT_STATUS (r, 201);
    H_HAS (r, "id", 's');
    H_HAS (r, "api_key", 's');
    assert_int_equal (strncmp (h_http_jstr (r.json, "api_key"), "efk_", 4), 0);
    H_EXPECT_STR (r, "name", "reader");
    H_EXPECT_STR (r, "role", "consumer");
    H_HAS (r, "streams", 'a');
    assert_int_equal (json_array_size (h_http_j (r.json, "streams")), 1);
    H_HAS (r, "rate_limit", 'o');
    H_HAS (r, "rate_limit.per_second", 'i');
    H_HAS (r, "rate_limit.burst", 'i');
    assert_int_equal (
        json_integer_value (h_http_j (r.json, "rate_limit.per_second")), 50);
    assert_int_equal (
        json_integer_value (h_http_j (r.json, "rate_limit.burst")), 100);
    H_HAS (r, "created_at", '?');
    snprintf (id, sizeof id, "%s", h_http_jstr (r.json, "id"));
    snprintf (key, sizeof key, "X-API-Key: %s",
              h_http_jstr (r.json, "api_key"));
    h_http_free (&r);

    h_http (&r, s_bridge.url, "GET", API "/streams/default", key, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    h_http_free (&r);

    s_expect_listed_then_delete (API "/api-keys", id, key);
    h_http (&r, s_bridge.url, "GET", API "/streams/default", key, NULL, NULL);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
}

/*  The item of coll (GET, as the admin) whose id is id, into r (the
    caller frees r); NULL when not listed. */
static json_t *
s_listed (h_resp_t *r, const char *coll, const char *id)
{
    h_http (r, s_bridge.url, "GET", coll, s_admin_key, NULL, NULL);
    H_EXPECT_STATUS (*r, 200);
    json_t *it, *items = h_http_j (r->json, "items");
    size_t i;
    json_array_foreach (items, i, it)
    {
        const char *v = h_http_jstr (it, "id");
        if (v && !strcmp (v, id))
            return it;
    }
    return NULL;
}

/*  A key's last use and its requests of the last minute, from the
    broker's memory: none before its first request, counted as it
    authenticates requests (with no write to the store: the broker's
    commit count does not move), and forgotten when it is revoked. */
static void
test_api_keys_show_their_last_use_and_rate (void **st)
{
    (void)st;
    h_resp_t r;
    char id[128], key[300];
    h_http (&r, s_bridge.url, "POST", API "/api-keys", s_admin_key,
            "{\"name\":\"user\",\"role\":\"consumer\"}", NULL);
    H_EXPECT_STATUS (r, 201);
    assert_true (json_is_null (h_http_j (r.json, "last_used_at")));
    assert_int_equal (
        json_integer_value (h_http_j (r.json, "requests_per_min")), 0);
    snprintf (id, sizeof id, "%s", h_http_jstr (r.json, "id"));
    snprintf (key, sizeof key, "X-API-Key: %s",
              h_http_jstr (r.json, "api_key"));
    h_http_free (&r);
    json_t *k = s_listed (&r, API "/api-keys", id);
    assert_non_null (k);
    assert_true (json_is_null (h_http_j (k, "last_used_at")));
    assert_int_equal (json_integer_value (h_http_j (k, "requests_per_min")), 0);
    h_http_free (&r);

    ef_client_t *op = h_client (&s_broker); /* the operator: commits */
    assert_non_null (op);
    ef_stats_t before, after;
    assert_int_equal (ef_client_stats (op, &before), 0);
    for (int i = 0; i < 5; i++) {
        h_http (&r, s_bridge.url, "GET", API "/streams/default", key, NULL,
                NULL);
        H_EXPECT_STATUS (r, 200);
        h_http_free (&r);
    }
    assert_int_equal (ef_client_stats (op, &after), 0);
    assert_int_equal (after.commits, before.commits);
    ef_client_destroy (&op);
    k = s_listed (&r, API "/api-keys", id);
    assert_non_null (k);
    assert_non_null (h_http_jstr (k, "last_used_at"));
    assert_int_equal (json_integer_value (h_http_j (k, "requests_per_min")), 5);
    h_http_free (&r);

    char path[300];
    snprintf (path, sizeof path, API "/api-keys/%s", id);
    h_http (&r, s_bridge.url, "DELETE", path, s_admin_key, NULL, NULL);
    H_EXPECT_STATUS (r, 204);
    h_http_free (&r);
    k = s_listed (&r, API "/api-keys", id);
    assert_non_null (k); /* listed, revoked, its use forgotten */
    assert_non_null (h_http_jstr (k, "revoked_at"));
    assert_true (json_is_null (h_http_j (k, "last_used_at")));
    assert_int_equal (json_integer_value (h_http_j (k, "requests_per_min")), 0);
    h_http_free (&r);

    /* producers show the same */
    h_http (&r, s_bridge.url, "POST", API "/producers", s_admin_key,
            "{\"name\":\"busy\"}", NULL);
    H_EXPECT_STATUS (r, 201);
    snprintf (id, sizeof id, "%s", h_http_jstr (r.json, "id"));
    snprintf (key, sizeof key, "X-API-Key: %s",
              h_http_jstr (r.json, "api_key"));
    h_http_free (&r);
    s_publish (&r, "default", key, "{\"type\":\"p.ok\",\"payload\":1}");
    H_EXPECT_STATUS (r, 202);
    h_http_free (&r);
    k = s_listed (&r, API "/producers", id);
    assert_non_null (k);
    assert_non_null (h_http_jstr (k, "last_used_at"));
    assert_int_equal (json_integer_value (h_http_j (k, "requests_per_min")), 1);
    h_http_free (&r);
}

/*  Every 422 of the admin and auth routes lists its failing paths, like
    the ingest route's. */
static void
test_every_422_lists_its_failing_paths (void **st)
{
    (void)st;
    static const struct {
        const char *path, *body, *field;
    } cases[] = {
        {API "/auth/register",
         "{\"email\":\"not-an-email\",\"password\":\"password-1\","
         "\"org_name\":\"X\"}",
         "email"},
        {API "/auth/register",
         "{\"email\":\"shortpw@example.com\",\"password\":\"1234567\","
         "\"org_name\":\"X\"}",
         "password"},
        {API "/users",
         "{\"email\":\"role@example.com\",\"password\":\"password-1\","
         "\"role\":\"root\"}",
         "role"},
        {API "/api-keys", "{\"name\":\"k\",\"role\":\"root\"}", "role"},
        {API "/api-keys",
         "{\"name\":\"k\",\"role\":\"producer\",\"streams\":[\"nope\"]}",
         "streams"},
        {API "/producers", "{}", "name"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        h_resp_t r;
        h_http (&r, s_bridge.url, "POST", cases[i].path, s_admin_key,
                cases[i].body, NULL);
        bad += !h_http_is_422_naming (&r, cases[i].field);
        h_http_free (&r);
    }
    if (bad)
        fail_msg ("%d of %zu cases are not 422 problems listing the path", bad,
                  sizeof cases / sizeof cases[0]);
}

/*  POST /auth/register for email with password pw; the status. */
static long
s_register (const char *email, const char *pw)
{
    h_resp_t r;
    char body[512];
    snprintf (body, sizeof body,
              "{\"email\":\"%s\",\"password\":\"%s\",\"org_name\":\"%s\"}",
              email, pw, email);
    h_http (&r, s_bridge.url, "POST", API "/auth/register", NULL, body, NULL);
    long st = r.status;
    h_http_free (&r);
    return st;
}

/*  POST /auth/login expecting 429: its Retry-After in seconds. */
static long
s_login_held (const char *email, const char *pw)
{
    h_resp_t r;
    char body[512];
    snprintf (body, sizeof body, "{\"email\":\"%s\",\"password\":\"%s\"}",
              email, pw);
    h_http (&r, s_bridge.url, "POST", API "/auth/login", NULL, body, NULL);
    H_EXPECT_PROBLEM (r, 429, "RATE_LIMITED", NULL);
    long secs = atol (r.retry_after);
    h_http_free (&r);
    return secs;
}

static void
test_failed_logins_answer_429_with_retry_after (void **st)
{
    (void)st;
    assert_int_equal (s_register ("held@example.com", "right-password"), 201);
    /* five free failures; the sixth holds the email back a second */
    for (int i = 0; i < 6; i++)
        assert_int_equal (
            s_login ("held@example.com", "wrong-password", NULL, NULL), 401);
    /* even the right password waits (the growth of the wait is tested
       natively, with a shorter delay, in test_broker_identity.c) */
    assert_int_equal (s_login_held ("held@example.com", "right-password"), 1);
    /* the admin, from the same address, is not held back */
    assert_int_equal (s_login (s_admin_email, s_admin_pw, NULL, NULL), 200);
}

static void
test_a_password_change_over_http_ends_every_session (void **st)
{
    (void)st;
    char access[2048], refresh[256], bearer[2200], body[400];
    h_resp_t r;
    assert_int_equal (s_register ("change@example.com", "right-password"), 201);
    assert_int_equal (
        s_login ("change@example.com", "right-password", access, refresh), 200);
    snprintf (bearer, sizeof bearer, "Authorization: Bearer %s", access);
    h_http (&r, s_bridge.url, "POST", API "/auth/password", bearer,
            "{\"current_password\":\"not-it-at-all\","
            "\"new_password\":\"new-password-1\"}",
            NULL);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
    h_http (&r, s_bridge.url, "POST", API "/auth/password", bearer,
            "{\"current_password\":\"right-password\","
            "\"new_password\":\"short\"}",
            NULL);
    H_EXPECT_PROBLEM (r, 422, "VALIDATION", "/new_password");
    h_http_free (&r);
    h_http (&r, s_bridge.url, "POST", API "/auth/password", bearer,
            "{\"current_password\":\"right-password\","
            "\"new_password\":\"new-password-1\"}",
            NULL);
    H_EXPECT_STATUS (r, 204);
    h_http_free (&r);
    /* the old access and refresh tokens are over */
    h_http (&r, s_bridge.url, "GET", API "/streams", bearer, NULL, NULL);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
    snprintf (body, sizeof body, "{\"refresh_token\":\"%s\"}", refresh);
    h_http (&r, s_bridge.url, "POST", API "/auth/refresh", NULL, body, NULL);
    H_EXPECT_PROBLEM (r, 401, "AUTH", NULL);
    h_http_free (&r);
    /* a fresh login with the new password works */
    assert_int_equal (
        s_login ("change@example.com", "right-password", NULL, NULL), 401);
    assert_int_equal (
        s_login ("change@example.com", "new-password-1", access, NULL), 200);
    snprintf (bearer, sizeof bearer, "Authorization: Bearer %s", access);
    h_http (&r, s_bridge.url, "GET", API "/streams", bearer, NULL, NULL);
    H_EXPECT_STATUS (r, 200);
    h_http_free (&r);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_login_returns_tokens_and_the_user),
        cmocka_unit_test (test_login_with_a_wrong_password_is_401),
        cmocka_unit_test (test_register_creates_an_org_whose_user_is_its_admin),
        cmocka_unit_test (test_register_with_a_short_password_is_refused),
        cmocka_unit_test (test_refresh_rotates_and_reuse_revokes_the_family),
        cmocka_unit_test (
            test_logout_answers_204_and_the_refresh_token_stops_working),
        cmocka_unit_test (
            test_users_are_created_listed_updated_and_deleted_by_an_admin),
        cmocka_unit_test (test_admin_routes_are_forbidden_to_a_producer),
        cmocka_unit_test (
            test_producers_are_created_listed_and_deleted_and_their_key_stops),
        cmocka_unit_test (test_api_keys_show_their_last_use_and_rate),
        cmocka_unit_test (test_api_keys_are_created_listed_and_deleted),
        cmocka_unit_test (test_every_422_lists_its_failing_paths),
        cmocka_unit_test (test_failed_logins_answer_429_with_retry_after),
        cmocka_unit_test (test_a_password_change_over_http_ends_every_session),
    };
    return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
