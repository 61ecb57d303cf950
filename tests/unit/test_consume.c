/*  test_consume.c: unit tests of ef_consume's parked FETCHes, driven alone
    with a fake context (no socket, no broker): a rerun that records the
    requests it is given, a send that records frames. Parking is refused
    for a request that did not ask for it and once the module closes;
    waking a stream reruns its fetches only, oldest first, and not those
    of another stream in the same bucket; expiry reruns what is due (with
    timeout 0, so it answers what there is) and says how long until the
    next is; a CREDIT or UNSUBSCRIBE for a subscription nobody has is
    NOT_FOUND. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ef_consume.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_time.h"

#define S_MAX 16

typedef struct {
    ef_wreq_t *rerun[S_MAX];
    int nrerun;
    int nsent;
    ef_buf_t out;
    ef_consume_t *consume;
} fx_t;

static void
s_rerun (void *arg, ef_wreq_t *w)
{
    fx_t *fx = arg;
    assert_true (fx->nrerun < S_MAX);
    fx->rerun[fx->nrerun++] = w;
}

static int
s_send (void *arg, zmq_msg_t *peer, ef_buf_t *b)
{
    (void)peer;
    (void)b;
    ((fx_t *)arg)->nsent++;
    return 0;
}

static int
s_setup (void **state)
{
    fx_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    ef_buf_init (&fx->out);
    ef_consume_ctx_t ctx = {NULL, &fx->out, s_send, s_rerun, fx};
    fx->consume = ef_consume_new (&ctx);
    assert_non_null (fx->consume);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *fx = *state;
    ef_consume_destroy (&fx->consume);
    assert_null (fx->consume);
    ef_buf_free (&fx->out);
    free (fx);
    return 0;
}

/*  A FETCH of stream num that found nothing and may wait until deadline
    (mono ms). */
static ef_wreq_t *
s_fetch (uint32_t num, int64_t deadline)
{
    ef_wreq_t *w = calloc (1, sizeof *w);
    assert_non_null (w);
    w->req.cmd = EF_CMD_FETCH;
    w->req.timeout = 30000;
    w->stream.num = num;
    w->deadline_ms = deadline;
    w->park = 1;
    return w;
}

static void
test_park_needs_asking (void **state)
{
    fx_t *fx = *state;
    ef_wreq_t *w = s_fetch (5, ef_time_mono_ms () + 60000);
    w->park = 0; /* it found events: answered now */
    assert_int_equal (ef_consume_park (fx->consume, w), 0);
    assert_int_equal (ef_consume_parked (fx->consume), 0);
    /* nothing parked: expiry waits as long as it is allowed */
    assert_int_equal (ef_consume_expire (fx->consume, 250), 250);
    free (w);
}

static void
test_wake_reruns_its_stream_oldest_first (void **state)
{
    fx_t *fx = *state;
    int64_t later = ef_time_mono_ms () + 60000;
    ef_wreq_t *a = s_fetch (5, later), *b = s_fetch (5, later);
    ef_wreq_t *other = s_fetch (5 + 256, later); /* the same bucket */
    ef_wreq_t *c = s_fetch (6, later);
    assert_int_equal (ef_consume_park (fx->consume, a), 1);
    assert_int_equal (ef_consume_park (fx->consume, other), 1);
    assert_int_equal (ef_consume_park (fx->consume, b), 1);
    assert_int_equal (ef_consume_park (fx->consume, c), 1);
    assert_int_equal (ef_consume_parked (fx->consume), 4);

    ef_consume_wake (fx->consume, 5);
    assert_int_equal (fx->nrerun, 2);
    assert_ptr_equal (fx->rerun[0], a);
    assert_ptr_equal (fx->rerun[1], b);
    assert_int_equal (a->park, 0);            /* a rerun decides afresh */
    assert_int_equal (a->req.timeout, 30000); /* still may wait */
    assert_int_equal (ef_consume_parked (fx->consume), 2);

    ef_consume_wake (fx->consume, 7); /* nobody waits on it */
    assert_int_equal (fx->nrerun, 2);

    /* shutdown: the rest is answered now, and nothing parks again */
    ef_consume_expire_all (fx->consume);
    assert_int_equal (fx->nrerun, 4);
    assert_int_equal (ef_consume_parked (fx->consume), 0);
    assert_int_equal (other->req.timeout, 0);
    assert_int_equal (c->req.timeout, 0);
    c->park = 1;
    assert_int_equal (ef_consume_park (fx->consume, c), 0);
    free (a), free (b), free (c), free (other);
}

static void
test_expire_reruns_what_is_due (void **state)
{
    fx_t *fx = *state;
    int64_t now = ef_time_mono_ms ();
    ef_wreq_t *due = s_fetch (5, now - 1);
    ef_wreq_t *soon = s_fetch (6, now + 100);
    ef_wreq_t *late = s_fetch (5, now + 60000);
    assert_int_equal (ef_consume_park (fx->consume, late), 1);
    assert_int_equal (ef_consume_park (fx->consume, due), 1);
    assert_int_equal (ef_consume_park (fx->consume, soon), 1);

    int wait = ef_consume_expire (fx->consume, 250);
    assert_int_equal (fx->nrerun, 1);
    assert_ptr_equal (fx->rerun[0], due);
    assert_int_equal (due->req.timeout, 0); /* answers what there is */
    /* the next is due in at most 100 ms: the reactor wakes for it */
    assert_true (wait >= 0 && wait <= 100);
    assert_int_equal (ef_consume_parked (fx->consume), 2);

    /* a wake takes `late` out early; expiry still finds `soon` alone */
    ef_consume_wake (fx->consume, 5);
    assert_int_equal (fx->nrerun, 2);
    assert_ptr_equal (fx->rerun[1], late);
    soon->deadline_ms = now - 1; /* as if its time had come */
    ef_consume_expire_all (fx->consume);
    assert_int_equal (fx->nrerun, 3);
    assert_ptr_equal (fx->rerun[2], soon);
    assert_int_equal (fx->nsent, 0); /* nothing was sent by the module */
    free (due), free (soon), free (late);
}

static void
test_unknown_subscription (void **state)
{
    fx_t *fx = *state;
    ef_wreq_t w;
    memset (&w, 0, sizeof w);
    zmq_msg_init_size (&w.peer, 1);
    memcpy (zmq_msg_data (&w.peer), "A", 1);
    w.req.cmd = EF_CMD_CREDIT;
    w.req.sub = 42;
    w.req.credit = 10;
    const char *why = NULL;
    assert_int_equal (ef_consume_credit (fx->consume, &w, &why), EF_ENOTFOUND);
    assert_string_equal (why, "no such subscription");
    why = NULL;
    w.req.cmd = EF_CMD_UNSUBSCRIBE;
    assert_int_equal (ef_consume_unsubscribe (fx->consume, &w, &why),
                      EF_ENOTFOUND);
    assert_non_null (why);
    assert_int_equal (ef_consume_subscriptions (fx->consume), 0);
    assert_int_equal (fx->out.len, 0); /* no reply written */
    zmq_msg_close (&w.peer);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_park_needs_asking, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (
            test_wake_reruns_its_stream_oldest_first, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_expire_reruns_what_is_due,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_unknown_subscription, s_setup,
                                         s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
