/*  test_proto_roundtrip.c: a round trip for every message type, built
    from the codec's own tables (clients/c/ef_proto_int.h), so that a key
    added to a table is covered without a new test. For each of the 44
    commands a request with every key of its view is encoded, decoded and
    compared field by field, then encoded again to the same bytes; each
    key a command requires is taken out in turn and the request is
    refused. Every reply value (Event, Stream, Result, stats, HELLO, User,
    ApiKey, ClientKey) is filled through its table, written, read back and
    compared the same way; a refused Result carries its errors array.
    The view of each command is checked against its request in
    schemas/protocol.md §4, so that the document and the codec agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eventflow/ef_error.h"
#include "eventflow/ef_mp.h"
#include "eventflow/ef_proto.h"
#include "ef_proto_int.h"

#define TP "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

#define AT(base, f, type)  ((type *)((char *)(base) + (f)->off))
#define AUX(base, f, type) ((type *)((char *)(base) + (f)->aux))

static char s_texts[64][48]; /* the strings the fills point at */
static int s_ntexts;

static ef_str_t
s_text (const char *key, int seed)
{
    char *t = s_texts[s_ntexts++ % 64];
    snprintf (t, sizeof s_texts[0], "%s-%d", key, seed);
    return ef_str (t);
}

/*  A value for one field that every check of the decoder takes. */
static void
s_fill_field (const ef_proto_field_t *f, void *base, int seed)
{
    switch (f->kind) {
    case EF_PF_STR:
        if (strcmp (f->key, "status") == 0)
            *AT (base, f, ef_str_t) = ef_str ("FAILED");
        else if (strcmp (f->key, "traceparent") == 0)
            *AT (base, f, ef_str_t) = ef_str (TP);
        else
            *AT (base, f, ef_str_t) = s_text (f->key, seed);
        break;
    case EF_PF_U64:
        *AT (base, f, uint64_t) = 1000u + (uint64_t)seed;
        break;
    case EF_PF_U32:
        *AT (base, f, uint32_t) = 1;
        break; /* in every range */
    case EF_PF_BOOL:
    case EF_PF_DUP:
        *AT (base, f, int) = 1;
        break;
    case EF_PF_STRS:
        AT (base, f, ef_str_t)[0] = s_text ("s0", seed);
        AT (base, f, ef_str_t)[1] = s_text ("s1", seed);
        *AUX (base, f, uint32_t) = 2;
        break;
    case EF_PF_LIST: {
        /* an array of two strings, as it travels */
        static const char two[] = "\x92\xa2l0\xa2l1";
        *AT (base, f, ef_str_t) = (ef_str_t){two, sizeof two - 1};
        *AUX (base, f, uint32_t) = 2;
        break;
    }
    case EF_PF_MAP:
        for (uint32_t i = 0; i < f->sub->n; i++)
            s_fill_field (&f->sub->f[i], base, seed + (int)i);
        break;
    default:
        break;
    }
    if (f->when == EF_PW_HAS)
        *AUX (base, f, int) = 1;
}

/*  The same value in a and b, for one field. */
static void
s_same_field (const ef_proto_field_t *f, const void *a, const void *b)
{
    switch (f->kind) {
    case EF_PF_STR: {
        ef_str_t x = *AT (a, f, const ef_str_t), y = *AT (b, f, const ef_str_t);
        if (ef_str_set (x) != ef_str_set (y) || x.len != y.len ||
            (x.len && memcmp (x.ptr, y.ptr, x.len)))
            fail_msg ("%s: '%.*s' came back as '%.*s'", f->key, (int)x.len,
                      x.ptr ? x.ptr : "", (int)y.len, y.ptr ? y.ptr : "");
        break;
    }
    case EF_PF_U64:
        assert_int_equal (*AT (a, f, const uint64_t),
                          *AT (b, f, const uint64_t));
        break;
    case EF_PF_U32:
        assert_int_equal (*AT (a, f, const uint32_t),
                          *AT (b, f, const uint32_t));
        break;
    case EF_PF_BOOL:
    case EF_PF_DUP:
        assert_int_equal (*AT (a, f, const int), *AT (b, f, const int));
        break;
    case EF_PF_STRS: {
        uint32_t n = *AUX (a, f, const uint32_t);
        assert_int_equal (n, *AUX (b, f, const uint32_t));
        for (uint32_t i = 0; i < n; i++) {
            ef_str_t x = AT (a, f, const ef_str_t)[i];
            ef_str_t y = AT (b, f, const ef_str_t)[i];
            assert_int_equal (x.len, y.len);
            assert_memory_equal (x.ptr, y.ptr, x.len);
        }
        break;
    }
    case EF_PF_LIST: {
        ef_str_t x = *AT (a, f, const ef_str_t), y = *AT (b, f, const ef_str_t);
        assert_int_equal (*AUX (a, f, const uint32_t),
                          *AUX (b, f, const uint32_t));
        assert_int_equal (x.len, y.len);
        assert_memory_equal (x.ptr, y.ptr, x.len);
        break;
    }
    case EF_PF_MAP:
        for (uint32_t i = 0; i < f->sub->n; i++)
            s_same_field (&f->sub->f[i], a, b);
        break;
    default:
        break;
    }
    if (f->when == EF_PW_HAS)
        assert_int_equal (*AUX (a, f, const int), *AUX (b, f, const int));
}

/* ---------------------------------------------------------------- requests */

static ef_event_in_t s_items[2];

/*  A request of cmd with every key of its view. */
static void
s_fill_request (ef_request_t *q, ef_cmd_t cmd)
{
    const ef_proto_table_t *t = &ef_proto_request_table;
    uint64_t takes = ef_proto_view_takes (cmd);
    memset (q, 0, sizeof *q);
    q->cmd = cmd;
    q->id = 7000 + (uint64_t)cmd;
    q->auth_jwt = ef_str ("a.b.c");
    for (uint32_t i = 0; i < t->n; i++) {
        const ef_proto_field_t *f = &t->f[i];
        if (!(takes >> i & 1))
            continue;
        if (f->kind != EF_PF_EVENTS) {
            s_fill_field (f, q, (int)i);
            continue;
        }
        memset (s_items, 0, sizeof s_items);
        s_items[0].type = ef_str ("order.created");
        s_items[0].payload = ef_str ("{\"a\":[1,2]}");
        s_items[0].source = ef_str ("shop");
        s_items[0].version = 3;
        s_items[0].occurred_at = 99;
        s_items[0].trace_id = ef_str ("tr");
        s_items[0].request_id = ef_str ("rq");
        s_items[1].type = ef_str ("t");
        s_items[1].payload = ef_str ("null");
        s_items[1].correlation_id = ef_str ("co");
        q->events = s_items;
        q->n_events = 2;
    }
}

static void
test_every_command_round_trips_every_key_of_its_view (void **state)
{
    (void)state;
    const ef_proto_table_t *t = &ef_proto_request_table;
    ef_buf_t b, b2;
    ef_buf_init (&b);
    ef_buf_init (&b2);
    for (int c = 1; c < EF_CMD_COUNT; c++) {
        ef_request_t q, d;
        ef_event_in_t ev[4];
        const char *why = NULL;
        s_fill_request (&q, (ef_cmd_t)c);
        ef_buf_reset (&b);
        assert_int_equal (ef_proto_encode_request (&b, &q), 0);
        int rc = ef_proto_decode_request (b.data, b.len, &d, ev, 4, &why);
        if (rc)
            fail_msg ("%s: %d %s", ef_cmd_name (q.cmd), rc, why ? why : "");
        assert_int_equal (d.cmd, c);
        assert_int_equal (d.id, q.id);
        assert_int_equal (d.auth_jwt.len, 5);
        for (uint32_t i = 0; i < t->n; i++)
            if (t->f[i].kind != EF_PF_EVENTS)
                s_same_field (&t->f[i], &q, &d);
        assert_int_equal (d.n_events, q.n_events);
        ef_buf_reset (&b2);
        assert_int_equal (ef_proto_encode_request (&b2, &d), 0);
        assert_int_equal (b2.len, b.len);
        assert_memory_equal (b2.data, b.data, b.len);
    }
    ef_buf_free (&b);
    ef_buf_free (&b2);
}

/*  Which keys a command cannot go without: each key of its view is left
    out in turn; the ones whose absence is refused must be named in the
    refusal. */
static void
test_every_command_refuses_a_request_missing_a_required_key (void **state)
{
    (void)state;
    const ef_proto_table_t *t = &ef_proto_request_table;
    ef_buf_t b;
    ef_buf_init (&b);
    int refusals = 0;
    for (int c = 1; c < EF_CMD_COUNT; c++) {
        uint64_t takes = ef_proto_view_takes ((ef_cmd_t)c);
        for (uint32_t i = 0; i < t->n; i++) {
            if (!(takes >> i & 1))
                continue;
            ef_request_t q, d;
            ef_event_in_t ev[4];
            const char *why = NULL;
            s_fill_request (&q, (ef_cmd_t)c);
            const ef_proto_field_t *f = &t->f[i];
            if (f->kind == EF_PF_EVENTS) {
                q.events = NULL;
                q.n_events = 0;
                q.cmd = EF_CMD_PING; /* encoded without events */
                ef_buf_reset (&b);
                assert_int_equal (ef_proto_encode_request (&b, &q), 0);
                /* the same frame, as the command: rewrite cmd */
                q.cmd = (ef_cmd_t)c;
            } else {
                memset (AT (&q, f, char), 0,
                        f->kind == EF_PF_STR || f->kind == EF_PF_LIST
                            ? sizeof (ef_str_t)
                        : f->kind == EF_PF_U64  ? sizeof (uint64_t)
                        : f->kind == EF_PF_STRS ? 0
                                                : sizeof (uint32_t));
                if (f->when == EF_PW_HAS)
                    *AUX (&q, f, int) = 0;
                if (f->kind == EF_PF_STRS || f->kind == EF_PF_LIST)
                    *AUX (&q, f, uint32_t) = 0;
                ef_buf_reset (&b);
                assert_int_equal (ef_proto_encode_request (&b, &q), 0);
            }
            if (f->kind == EF_PF_EVENTS)
                continue; /* PUBLISH without events: test_proto covers it */
            int rc = ef_proto_decode_request (b.data, b.len, &d, ev, 4, &why);
            if (rc == 0)
                continue; /* an optional key */
            assert_int_equal (rc, EF_EINVAL);
            assert_non_null (why);
            if (!strstr (why, f->key))
                fail_msg ("%s without %s: refused as '%s'", ef_cmd_name (c),
                          f->key, why);
            refusals++;
        }
    }
    assert_true (refusals >= 30); /* every required key of every command */
    ef_buf_free (&b);
}

/* ---------------------------------------------------------------- replies */

static void
test_every_reply_value_round_trips_through_its_table (void **state)
{
    (void)state;
    ef_buf_t b, b2;
    ef_buf_init (&b);
    ef_buf_init (&b2);
    for (size_t i = 0; i < ef_proto_nrecords; i++) {
        const ef_proto_record_t *rec = &ef_proto_records[i];
        char *v = calloc (1, rec->size), *w = calloc (1, rec->size);
        assert_non_null (v);
        assert_non_null (w);
        for (uint32_t j = 0; j < rec->table->n; j++)
            s_fill_field (&rec->table->f[j], v, (int)j);
        ef_buf_reset (&b);
        rec->write (&b, v);
        ef_mpr_t r;
        ef_mpr_init (&r, b.data, b.len);
        if (rec->read (&r, w))
            fail_msg ("%s does not read back", rec->name);
        assert_true (r.p == r.end); /* all of it read */
        for (uint32_t j = 0; j < rec->table->n; j++)
            s_same_field (&rec->table->f[j], v, w);
        ef_buf_reset (&b2);
        rec->write (&b2, w);
        assert_int_equal (b2.len, b.len);
        assert_memory_equal (b2.data, b.data, b.len);
        free (v);
        free (w);
    }
    ef_buf_free (&b);
    ef_buf_free (&b2);
}

static void
test_a_refused_result_carries_its_field_errors (void **state)
{
    (void)state;
    ef_buf_t errs, b;
    ef_buf_init (&errs);
    ef_buf_init (&b);
    ef_mp_array (&errs, 2);
    ef_proto_write_field_error (&errs, "/a; b", "must be a number");
    ef_proto_write_field_error (&errs, "", "must be an object");
    ef_publish_result_t r = {0}, back;
    r.code = EF_EVALIDATION;
    r.index = 4;
    r.message = ef_str ("/a; b: must be a number; /: must be an object");
    r.errors = (ef_str_t){errs.data, (uint32_t)errs.len};
    ef_proto_write_result (&b, &r);
    ef_mpr_t m;
    ef_mpr_init (&m, b.data, b.len);
    assert_int_equal (ef_proto_read_result (&m, &back), 0);
    assert_int_equal (back.code, EF_EVALIDATION);
    assert_int_equal (back.index, 4);
    assert_true (ef_str_eq_n (back.message, r.message.ptr, r.message.len));
    assert_int_equal (back.errors.len, errs.len);
    ef_mpr_t at;
    uint32_t n;
    ef_field_error_t e;
    ef_mpr_init (&at, back.errors.ptr, back.errors.len);
    assert_int_equal (ef_mpr_array (&at, &n), 0);
    assert_int_equal (n, 2);
    assert_int_equal (ef_proto_read_field_error (&at, &e), 0);
    assert_true (ef_str_eq (e.path, "/a; b"));
    assert_true (ef_str_eq (e.message, "must be a number"));
    assert_int_equal (ef_proto_read_field_error (&at, &e), 0);
    assert_true (ef_str_eq (e.path, ""));
    /* an error reply has none: the reader leaves them unset */
    ef_buf_reset (&b);
    ef_proto_reply_error (&b, 9, EF_EINVAL, "limit is 1 to 100", 0);
    ef_reply_t rep;
    assert_int_equal (ef_proto_decode_reply (b.data, b.len, &rep), 0);
    assert_false (ef_str_set (rep.err_errors));
    assert_int_equal (rep.code, EF_EINVAL);
    ef_buf_free (&errs);
    ef_buf_free (&b);
}

/*  An error reply about one place in the request (a stream's bad
    pipeline step) carries [{path, message}] under its error's errors. */
static void
test_an_error_reply_carries_its_path (void **state)
{
    (void)state;
    ef_buf_t b;
    ef_buf_init (&b);
    ef_proto_reply_error_at (&b, 7, EF_EINVAL,
                             "invalid pipeline: step 1: transform: bad",
                             "/pipeline/1/patch");
    ef_reply_t rep;
    assert_int_equal (ef_proto_decode_reply (b.data, b.len, &rep), 0);
    assert_int_equal (rep.id, 7);
    assert_false (rep.ok);
    assert_int_equal (rep.code, EF_EINVAL);
    assert_true (ef_str_eq (rep.err_name, "INVALID"));
    assert_true (ef_str_eq (rep.err_message,
                            "invalid pipeline: step 1: transform: bad"));
    assert_true (ef_str_set (rep.err_errors));
    ef_mpr_t at;
    uint32_t n;
    ef_field_error_t e;
    ef_mpr_init (&at, rep.err_errors.ptr, rep.err_errors.len);
    assert_int_equal (ef_mpr_array (&at, &n), 0);
    assert_int_equal (n, 1);
    assert_int_equal (ef_proto_read_field_error (&at, &e), 0);
    assert_true (ef_str_eq (e.path, "/pipeline/1/patch"));
    assert_true (
        ef_str_eq (e.message, "invalid pipeline: step 1: transform: bad"));
    ef_buf_free (&b);
}

/* ---------------------------------------------------------------- document */

/*  The request text of cmd in protocol.md: from where it is named
    ("### CMD", "CMD —", "| CMD |") to its reply. */
static const char *
s_doc_request (const char *doc, const char *name, size_t *len)
{
    char mark[3][48];
    snprintf (mark[0], sizeof mark[0], "### %s\n", name);
    snprintf (mark[1], sizeof mark[1], "%s —", name);
    snprintf (mark[2], sizeof mark[2], "| %s |", name);
    for (int m = 0; m < 3; m++) {
        const char *at = strstr (doc, mark[m]);
        if (!at)
            continue;
        const char *end = at + strlen (mark[m]);
        size_t n = 0;
        while (end[n] && n < 400 && strncmp (end + n, "→", 3) &&
               strncmp (end + n, "Reply", 5) && strncmp (end + n, "` |", 3))
            n++;
        *len = n;
        return end;
    }
    return NULL;
}

/*  1 if key is a key in the n bytes of text (not part of a longer word). */
static int
s_names_key (const char *text, size_t n, const char *key)
{
    size_t k = strlen (key);
    for (size_t i = 0; i + k <= n; i++) {
        if (memcmp (text + i, key, k))
            continue;
        char before = i ? text[i - 1] : ' ';
        char after = i + k < n ? text[i + k] : ' ';
        if (strchr ("{ `\n", before) && strchr ("?:,} (\n", after))
            return 1;
    }
    return 0;
}

static void
test_each_view_agrees_with_the_request_in_protocol_md (void **state)
{
    (void)state;
    FILE *f = fopen (EF_PROTOCOL_MD, "rb");
    assert_non_null (f);
    static char doc[1 << 18];
    size_t n = fread (doc, 1, sizeof doc - 1, f);
    fclose (f);
    doc[n] = 0;
    const ef_proto_table_t *t = &ef_proto_request_table;
    for (int c = 1; c < EF_CMD_COUNT; c++) {
        const char *name = ef_cmd_name ((ef_cmd_t)c);
        uint64_t takes = ef_proto_view_takes ((ef_cmd_t)c);
        size_t len = 0;
        const char *text = s_doc_request (doc, name, &len);
        if (!text && takes == ef_proto_view_takes (EF_CMD_PING))
            continue; /* a command without keys of its own */
        if (!text)
            fail_msg ("protocol.md does not describe %s", name);
        for (uint32_t i = 0; i < t->n; i++) {
            const char *key = t->f[i].key;
            if (!(takes >> i & 1) || strcmp (key, "request_id") == 0 ||
                strcmp (key, "traceparent") == 0)
                continue; /* §2: every command's */
            if (!s_names_key (text, len, key))
                fail_msg ("%s takes %s, which protocol.md does not list: "
                          "%.*s",
                          name, key, (int)len, text);
        }
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_command_round_trips_every_key_of_its_view),
        cmocka_unit_test (
            test_every_command_refuses_a_request_missing_a_required_key),
        cmocka_unit_test (test_every_reply_value_round_trips_through_its_table),
        cmocka_unit_test (test_a_refused_result_carries_its_field_errors),
        cmocka_unit_test (test_an_error_reply_carries_its_path),
        cmocka_unit_test (
            test_each_view_agrees_with_the_request_in_protocol_md),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
