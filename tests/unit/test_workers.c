/*  test_workers.c: unit tests of ef_workers, the workers attached to the
    broker, driven alone with a fake send that records which worker got
    which job (no socket, no writer: no worker is dropped here). Jobs go
    to the least-loaded worker of their service and org with room,
    oldest first; a job with no room waits in its service's queue until a
    worker answers one (DONE frees its room) and the next tick; only the
    worker that holds an attempt may answer it; WORKERS answers the
    caller's org's workers (with their ids) and services (with the
    attempts answered) only, and an org's workers name a bounded number
    of services. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ef_workers.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_json.h"

#define S_MAX 32

typedef struct {
    char to[S_MAX];      /* the worker (its one-letter peer id) */
    char job[S_MAX][16]; /* the job's body */
    int n;
    ef_buf_t out;
    ef_metrics_t *metrics;
    ef_workers_t *workers;
} fx_t;

static int
s_send (void *arg, zmq_msg_t *peer, const void *body, size_t len)
{
    fx_t *fx = arg;
    if (len < 4 || memcmp (body, "job-", 4))
        return 0; /* a heartbeat */
    assert_true (fx->n < S_MAX && len < sizeof fx->job[0]);
    fx->to[fx->n] = *(const char *)zmq_msg_data (peer);
    memcpy (fx->job[fx->n], body, len);
    fx->job[fx->n][len] = 0;
    fx->n++;
    return 0;
}

static int
s_setup (void **state)
{
    fx_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    ef_buf_init (&fx->out);
    fx->metrics = ef_metrics_new ();
    ef_workers_ctx_t ctx = {&fx->out, s_send, fx,          NULL,
                            NULL,     NULL,   fx->metrics, 0};
    fx->workers = ef_workers_new (&ctx);
    assert_non_null (fx->workers);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *fx = *state;
    ef_workers_destroy (&fx->workers);
    assert_null (fx->workers);
    ef_metrics_destroy (&fx->metrics);
    ef_buf_free (&fx->out);
    free (fx);
    return 0;
}

static uint32_t s_org = 1; /* the org of the requests s_req makes */

/*  A request from peer (one letter) of org s_org. */
static void
s_req (ef_wreq_t *w, ef_cmd_t cmd, char peer)
{
    memset (w, 0, sizeof *w);
    zmq_msg_init_size (&w->peer, 1);
    *(char *)zmq_msg_data (&w->peer) = peer;
    w->req.cmd = cmd;
    w->req.id = 1;
    w->org = s_org;
}

static void
s_ready (fx_t *fx, char peer, const char *service, uint32_t capacity)
{
    ef_wreq_t w;
    const char *why = NULL;
    s_req (&w, EF_CMD_READY, peer);
    w.req.service = ef_str (service);
    w.req.credit = capacity;
    ef_buf_reset (&fx->out);
    assert_int_equal (ef_workers_ready (fx->workers, &w, &why), 0);
    assert_true (fx->out.len > 0); /* the reply */
    zmq_msg_close (&w.peer);
}

/*  A job of service from the writer: its id "3.SEQ.1", its body job-SEQ. */
static void
s_job (fx_t *fx, const char *service, int seq)
{
    static char ids[S_MAX][16];
    ef_wreq_t *job = calloc (1, sizeof *job);
    assert_non_null (job);
    ef_buf_init (&job->reply);
    ef_buf_init (&job->records);
    snprintf (ids[seq], sizeof ids[seq], "3.%d.1", seq);
    char body[16];
    int n = snprintf (body, sizeof body, "job-%d", seq);
    ef_buf_append (&job->reply, body, (size_t)n);
    job->org = 1;
    job->req.name = ef_str (service);
    job->req.job_id = ef_str (ids[seq]);
    job->req.timeout = 60000;
    ef_workers_submit (fx->workers, job);
}

/*  DONE (or FAIL) of job seq from peer: whether the worker held it. */
static int
s_answer (fx_t *fx, char peer, int seq, ef_cmd_t cmd)
{
    ef_wreq_t w;
    const char *why = NULL;
    char id[16];
    snprintf (id, sizeof id, "3.%d.1", seq);
    s_req (&w, cmd, peer);
    w.req.reason = ef_str ("no");
    w.req.job_id = ef_str (id);
    assert_int_equal (ef_workers_answer (fx->workers, &w, &why), 0);
    zmq_msg_close (&w.peer);
    ef_buf_free (&w.records); /* the worker's id, for the writer */
    return w.apply != NULL;   /* held: the answer goes to the writer */
}

static int
s_done (fx_t *fx, char peer, int seq)
{
    return s_answer (fx, peer, seq, EF_CMD_DONE);
}

/*  WORKERS of org as JSON, into json (size bytes). */
static void
s_list (fx_t *fx, uint32_t org, char *json, size_t size)
{
    ef_wreq_t w;
    const char *why = NULL;
    uint32_t was = s_org;
    s_org = org;
    s_req (&w, EF_CMD_WORKERS, 'Q');
    s_org = was;
    ef_buf_reset (&fx->out);
    assert_int_equal (ef_workers_list (fx->workers, &w, &why), 0);
    zmq_msg_close (&w.peer);
    ef_reply_t rep;
    assert_int_equal (ef_proto_decode_reply (fx->out.data, fx->out.len, &rep),
                      0);
    ef_buf_t b;
    ef_buf_init (&b);
    ef_mpr_t r;
    assert_int_equal (ef_proto_reply_find (&rep, "workers", &r), 0);
    ef_buf_append (&b, "workers=", 8);
    ef_json_from_mp (&b, &r, 0);
    assert_int_equal (ef_proto_reply_find (&rep, "services", &r), 0);
    ef_buf_append (&b, " services=", 10);
    ef_json_from_mp (&b, &r, 0);
    assert_true (b.len < size);
    /* a time, not a figure to compare: each seen_ms_ago becomes "N" */
    size_t n = 0;
    for (size_t i = 0; i < b.len; i++) {
        json[n++] = b.data[i];
        if (n >= 14 && !memcmp (json + n - 14, "\"seen_ms_ago\":", 14)) {
            json[n++] = 'N';
            while (i + 1 < b.len && b.data[i + 1] >= '0' &&
                   b.data[i + 1] <= '9')
                i++;
        }
    }
    json[n] = 0;
    ef_buf_free (&b);
}

static int
s_count (const fx_t *fx, char peer)
{
    int n = 0;
    for (int i = 0; i < fx->n; i++)
        n += fx->to[i] == peer;
    return n;
}

static void
test_least_loaded_first (void **state)
{
    fx_t *fx = *state;
    s_ready (fx, 'A', "resize", 3);
    s_ready (fx, 'B', "resize", 3);
    s_ready (fx, 'C', "thumbs", 5); /* another service: never gets one */
    assert_int_equal (ef_workers_count (fx->workers), 3);
    for (int seq = 1; seq <= 4; seq++)
        s_job (fx, "resize", seq);
    /* each job to the one with fewer in flight: 2 and 2, never 3 and 1 */
    assert_int_equal (fx->n, 4);
    assert_int_equal (s_count (fx, 'A'), 2);
    assert_int_equal (s_count (fx, 'B'), 2);
    assert_int_equal (s_count (fx, 'C'), 0);
    assert_string_equal (fx->job[0], "job-1"); /* in order of arrival */
    assert_string_equal (fx->job[3], "job-4");
    /* B answers one of its jobs: the next goes to B, now the lighter */
    int b_job = fx->to[0] == 'B' ? 1 : 2;
    assert_true (s_done (fx, 'B', b_job));
    assert_int_equal (ef_metrics_get (fx->metrics, EF_M_JOBS_DONE), 1);
    s_job (fx, "resize", 5);
    assert_int_equal (fx->n, 5);
    assert_int_equal (fx->to[4], 'B');
}

static void
test_queued_until_room (void **state)
{
    fx_t *fx = *state;
    s_ready (fx, 'A', "resize", 1);
    s_job (fx, "resize", 1);
    s_job (fx, "resize", 2); /* no room: waits */
    s_job (fx, "resize", 3);
    assert_int_equal (fx->n, 1);
    assert_string_equal (fx->job[0], "job-1");
    ef_workers_tick (fx->workers);
    assert_int_equal (fx->n, 1); /* still no room */
    /* an answer for an attempt A does not hold changes nothing */
    assert_false (s_done (fx, 'A', 2));
    assert_false (s_done (fx, 'Z', 1)); /* nor one from another peer */
    ef_workers_tick (fx->workers);
    assert_int_equal (fx->n, 1);
    /* A's answer frees its room: the oldest waiting job goes next */
    assert_true (s_done (fx, 'A', 1));
    ef_workers_tick (fx->workers);
    assert_int_equal (fx->n, 2);
    assert_string_equal (fx->job[1], "job-2");
    assert_false (s_done (fx, 'A', 1)); /* answered already */
}

/*  Each org sees its own workers, named by the hex of their routing id,
    and its own services with what they can take and what their workers
    answered; another org's are never listed. */
static void
test_workers_lists_the_callers_org_only_with_ids_and_services (void **state)
{
    fx_t *fx = *state;
    char json[1024];
    s_ready (fx, 'A', "resize", 3);
    s_org = 2;
    s_ready (fx, 'B', "resize", 1);
    s_org = 1;
    for (int seq = 1; seq <= 3; seq++)
        s_job (fx, "resize", seq);
    assert_true (s_done (fx, 'A', 1));
    assert_true (s_answer (fx, 'A', 2, EF_CMD_FAIL));
    s_list (fx, 1, json, sizeof json);
    assert_string_equal (
        json, "workers=[{\"id\":\"41\",\"service\":\"resize\","
              "\"capacity\":3,\"in_flight\":1,\"seen_ms_ago\":N}] "
              "services=[{\"service\":\"resize\",\"workers\":1,"
              "\"capacity\":3,\"in_flight\":1,\"queued\":0,\"done\":1,"
              "\"failed\":1}]");
    s_list (fx, 2, json, sizeof json);
    assert_string_equal (
        json, "workers=[{\"id\":\"42\",\"service\":\"resize\","
              "\"capacity\":1,\"in_flight\":0,\"seen_ms_ago\":N}] "
              "services=[{\"service\":\"resize\",\"workers\":1,"
              "\"capacity\":1,\"in_flight\":0,\"queued\":0,\"done\":0,"
              "\"failed\":0}]");
    s_list (fx, 3, json, sizeof json);
    assert_string_equal (json, "workers=[] services=[]");

    char id[EF_WORKERS_ID_SIZE];
    zmq_msg_t peer;
    zmq_msg_init_size (&peer, 5);
    memcpy (zmq_msg_data (&peer), "\x00\x80\x00\x41\xff", 5);
    assert_int_equal (ef_workers_id (&peer, id), 10);
    assert_string_equal (id, "00800041ff");
    zmq_msg_close (&peer);
}

/*  An org's workers name at most 256 services at once: a new one takes
    the place of one with no worker and no job waiting, and is refused
    when there is none. */
static void
test_an_orgs_workers_name_a_bounded_number_of_services (void **state)
{
    fx_t *fx = *state;
    char name[32];
    ef_wreq_t w;
    const char *why = NULL;
    for (int i = 0; i < 256; i++) {
        snprintf (name, sizeof name, "svc-%d", i);
        s_ready (fx, 'A', name, 1);
    }
    s_req (&w, EF_CMD_READY, 'B');
    w.req.service = ef_str ("one-more");
    assert_int_equal (ef_workers_ready (fx->workers, &w, &why),
                      EF_EUNAVAILABLE);
    assert_non_null (why);
    zmq_msg_close (&w.peer);
    /* another org has its own room */
    s_org = 2;
    s_ready (fx, 'B', "one-more", 1);
    s_org = 1;
    /* a service whose worker left can be forgotten */
    s_req (&w, EF_CMD_LEAVE, 'A');
    w.req.service = ef_str ("svc-7");
    assert_int_equal (ef_workers_leave (fx->workers, &w, &why), 0);
    zmq_msg_close (&w.peer);
    s_ready (fx, 'B', "one-more", 1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_least_loaded_first, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_queued_until_room, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (
            test_workers_lists_the_callers_org_only_with_ids_and_services,
            s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_an_orgs_workers_name_a_bounded_number_of_services, s_setup,
            s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
