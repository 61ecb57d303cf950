/*  test_validator.c: unit tests of ef_validator, the pool that checks
    PUBLISH payloads against stream schemas off the reactor: refused items
    get the schema's failing paths or the budget's message, valid ones stay
    untouched; a request whose total budget is spent has its remaining
    items refused unchecked; an org with a long hostile batch gets a slice
    at a time, so another org's request that came after it is finished
    first; one org's requests finish in the order they came; stopping
    answers what waits as UNAVAILABLE at once. The requests
    are queued before the thread starts, so the order of the work is the
    one the pool chooses, not a race. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ef_mailbox.h"
#include "ef_schema.h"
#include "ef_validator.h"
#include "eventflow/ef_error.h"

#define HOSTILE "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\""

static ef_schema_t *
s_compile (const char *text)
{
    int err;
    char why[256];
    ef_schema_t *s =
        ef_schema_compile (text, strlen (text), &err, why, sizeof why);
    if (!s)
        fail_msg ("compile: %s", why);
    return s;
}

/*  A PUBLISH of n copies of payload for org, against (a reference to)
    schema. */
static ef_wreq_t *
s_request (uint32_t org, ef_schema_t *schema, const char *payload, uint32_t n)
{
    ef_wreq_t *w = calloc (1, sizeof *w);
    assert_non_null (w);
    w->org = org;
    w->req.cmd = EF_CMD_PUBLISH;
    w->req.n_events = n;
    w->results = calloc (n, sizeof *w->results);
    assert_non_null (w->results);
    ef_buf_init (&w->records);
    for (uint32_t i = 0; i < n; i++)
        w->results[i].payload = ef_str (payload);
    w->schema = ef_schema_ref (schema);
    return w;
}

static void
s_free (ef_wreq_t *w)
{
    ef_buf_free (&w->records);
    free (w->results);
    free (w);
}

/*  The next finished request (blocking). */
static ef_wreq_t *
s_next (ef_mailbox_t *done)
{
    ef_wreq_t *w = ef_mailbox_wait (done, 1);
    assert_non_null (w);
    assert_null (w->schema); /* the reference was dropped */
    return w;
}

static int
s_over_budget (const ef_wresult_t *r)
{
    return r->code == EF_EVALIDATION && r->err_msg &&
           strcmp (r->err_msg, EF_SCHEMA_BUDGET_MSG) == 0;
}

static void
test_items_get_their_verdicts (void **state)
{
    (void)state;
    ef_mailbox_t *done = ef_mailbox_new ();
    ef_validator_t *v = ef_validator_new (1, 4, 16, 10, 250, done);
    assert_non_null (v);
    ef_schema_t *schema = s_compile ("{\"type\":\"string\","
                                     "\"pattern\":\"^(a|aa)+$\"}");
    ef_wreq_t *w = s_request (1, schema, "\"aa\"", 4);
    w->results[1].payload = ef_str ("7");
    w->results[2].payload = ef_str (HOSTILE);
    w->results[3].code = EF_EINVAL; /* refused before: not checked */
    w->results[3].payload = ef_str (HOSTILE);
    assert_int_equal (ef_validator_submit (v, w), 0);
    assert_int_equal (ef_validator_start (v), 0);
    w = s_next (done);
    assert_int_equal (w->results[0].code, 0);
    assert_int_equal (w->results[1].code, EF_EVALIDATION);
    assert_true (w->results[1].msg_len > 0);
    assert_non_null (memmem (w->records.data + w->results[1].msg_off,
                             w->results[1].msg_len, "must be of type string",
                             22));
    assert_true (s_over_budget (&w->results[2]));
    assert_int_equal (w->results[3].code, EF_EINVAL);
    s_free (w);
    ef_schema_destroy (&schema);
    ef_validator_destroy (&v);
    ef_mailbox_destroy (&done);
}

static void
test_a_spent_request_budget_refuses_the_rest_unchecked (void **state)
{
    (void)state;
    ef_mailbox_t *done = ef_mailbox_new ();
    /* 1 ms per request: far less than 1000 hostile checks need */
    ef_validator_t *v = ef_validator_new (1, 4, 16, 1, 1, done);
    ef_schema_t *schema = s_compile ("{\"pattern\":\"^(a|aa)+$\"}");
    ef_wreq_t *w = s_request (1, schema, HOSTILE, 1000);
    w->results[999].payload = ef_str ("\"aa\""); /* valid, never reached */
    assert_int_equal (ef_validator_submit (v, w), 0);
    assert_int_equal (ef_validator_start (v), 0);
    w = s_next (done);
    for (uint32_t i = 0; i < 1000; i++)
        assert_true (s_over_budget (&w->results[i]));
    assert_true (w->check_ns < 1000 * 1000000LL); /* not 1000 full checks */
    s_free (w);
    ef_schema_destroy (&schema);
    ef_validator_destroy (&v);
    ef_mailbox_destroy (&done);
}

static void
test_orgs_take_turns_and_each_keeps_its_order (void **state)
{
    (void)state;
    ef_mailbox_t *done = ef_mailbox_new ();
    ef_validator_t *v = ef_validator_new (1, 4, 16, 2, 250, done);
    ef_schema_t *schema = s_compile ("{\"pattern\":\"^(a|aa)+$\"}");
    /* org 1: a long hostile batch, then a small one; org 2: a small one */
    ef_wreq_t *a1 = s_request (1, schema, HOSTILE, 1000);
    ef_wreq_t *a2 = s_request (1, schema, "\"a\"", 1);
    ef_wreq_t *b = s_request (2, schema, "\"aa\"", 1);
    assert_int_equal (ef_validator_submit (v, a1), 0);
    assert_int_equal (ef_validator_submit (v, a2), 0);
    assert_int_equal (ef_validator_submit (v, b), 0);
    assert_int_equal (ef_validator_start (v), 0);
    /* org 2 is done after one slice of org 1's batch, org 1's small
       request only after its batch */
    ef_wreq_t *first = s_next (done), *second = s_next (done),
              *third = s_next (done);
    assert_ptr_equal (first, b);
    assert_ptr_equal (second, a1);
    assert_ptr_equal (third, a2);
    assert_int_equal (b->results[0].code, 0);
    assert_int_equal (a2->results[0].code, 0);
    s_free (a1);
    s_free (a2);
    s_free (b);
    ef_schema_destroy (&schema);
    ef_validator_destroy (&v);
    ef_mailbox_destroy (&done);
}

static void
test_queues_are_bounded_per_org_and_in_all (void **state)
{
    (void)state;
    ef_mailbox_t *done = ef_mailbox_new ();
    ef_validator_t *v = ef_validator_new (1, 2, 3, 10, 250, done);
    ef_schema_t *schema = s_compile ("true");
    ef_wreq_t *w[5];
    for (int i = 0; i < 5; i++)
        w[i] = s_request (i < 3 ? 1 : 2 + (uint32_t)i, schema, "1", 1);
    assert_int_equal (ef_validator_submit (v, w[0]), 0);
    assert_int_equal (ef_validator_submit (v, w[1]), 0);
    assert_int_equal (ef_validator_submit (v, w[2]), EF_EUNAVAILABLE);
    assert_int_equal (ef_validator_submit (v, w[3]), 0);
    assert_int_equal (ef_validator_submit (v, w[4]), EF_EUNAVAILABLE);
    assert_int_equal (ef_validator_start (v), 0);
    for (int i = 0; i < 3; i++)
        s_next (done);
    for (int i = 0; i < 5; i++) {
        ef_schema_destroy (&w[i]->schema); /* the refused ones' */
        s_free (w[i]);
    }
    ef_schema_destroy (&schema);
    ef_validator_destroy (&v);
    ef_mailbox_destroy (&done);
}

static void
test_stopping_answers_what_waits_unchecked (void **state)
{
    (void)state;
    ef_mailbox_t *done = ef_mailbox_new ();
    ef_validator_t *v = ef_validator_new (1, 4, 16, 10, 60000, done);
    ef_schema_t *schema = s_compile ("{\"pattern\":\"^(a|aa)+$\"}");
    ef_wreq_t *a1 = s_request (1, schema, HOSTILE, 1000);
    ef_wreq_t *a2 = s_request (1, schema, "\"a\"", 1);
    assert_int_equal (ef_validator_submit (v, a1), 0);
    assert_int_equal (ef_validator_submit (v, a2), 0);
    assert_int_equal (ef_validator_start (v), 0);
    /* a minute of budget, but the stop does not wait for it: once the
       threads are gone, both requests are back, in order */
    ef_validator_destroy (&v);
    ef_wreq_t *w = ef_mailbox_take (done);
    assert_ptr_equal (w, a1);
    assert_ptr_equal (w->next, a2);
    assert_null (a2->next);
    assert_int_equal (a1->status, EF_EUNAVAILABLE);
    assert_int_equal (a2->status, EF_EUNAVAILABLE);
    ef_schema_destroy (&a1->schema);
    ef_schema_destroy (&a2->schema);
    s_free (a1);
    s_free (a2);
    ef_schema_destroy (&schema);
    ef_mailbox_destroy (&done);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_items_get_their_verdicts),
        cmocka_unit_test (
            test_a_spent_request_budget_refuses_the_rest_unchecked),
        cmocka_unit_test (test_orgs_take_turns_and_each_keeps_its_order),
        cmocka_unit_test (test_queues_are_bounded_per_org_and_in_all),
        cmocka_unit_test (test_stopping_answers_what_waits_unchecked),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
