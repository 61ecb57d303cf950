/*  test_record.c: unit tests of ef_record, the stored form of an event's
    record. A compact record turns back into the very bytes the codec
    writes for the event (ef_proto_write_event_record, which is also the
    form stores of format 1 hold), over events with every optional field
    present or not and strings and numbers across msgpack's size steps; a
    record of format 1 is read and served as it is; a 200-byte event is
    stored in little more than its payload and id; a cut or damaged
    record is refused, never read past its end, and served as an empty
    event's pairs (the reply stays well-formed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ef_record.h"
#include "eventflow/ef_error.h"
#include "eventflow/ef_uuid.h"

static uint64_t s_rng = 0x9e3779b97f4a7c15ull;

static uint64_t
s_next (void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

/*  Lengths on both sides of msgpack's str headers (fixstr, str 8, 16). */
static const uint32_t s_lens[] = {0, 1, 6, 31, 32, 255, 256, 300, 70000};

/*  A string of one of s_lens' lengths from pool, or unset. */
static ef_str_t
s_str (const char *pool, int may_unset)
{
    uint64_t r = s_next ();
    if (may_unset && r % 3 == 0)
        return EF_STR_NULL;
    uint32_t n = s_lens[(r >> 8) % (sizeof s_lens / sizeof s_lens[0])];
    return (ef_str_t){pool + (r >> 32) % 16, n};
}

/*  Numbers on both sides of msgpack's uint sizes. */
static uint64_t
s_num (void)
{
    static const uint64_t v[] = {
        0,         1,     2,     127,           128,           255,
        256,       65535, 65536, 4294967295ull, 4294967296ull, 1700000000000ull,
        UINT64_MAX};
    return v[s_next () % (sizeof v / sizeof v[0])];
}

/*  Both forms of ev (with id): the codec's pairs and the compact record. */
static void
s_both (const ef_event_t *ev, const ef_uuid_t *id, ef_buf_t *pairs,
        ef_buf_t *compact)
{
    ef_buf_reset (pairs);
    ef_buf_reset (compact);
    ef_proto_write_event_record (pairs, ev);
    ef_record_write (compact, ev, id);
    assert_false (pairs->oom || compact->oom);
}

static void
test_compact_records_give_back_the_codecs_bytes (void **state)
{
    (void)state;
    static char pool[70100];
    memset (pool, 'p', sizeof pool);
    for (size_t i = 0; i < sizeof pool; i += 7)
        pool[i] = (char)('a' + i % 26);
    ef_buf_t pairs, compact, out;
    ef_buf_init (&pairs);
    ef_buf_init (&compact);
    ef_buf_init (&out);
    ef_uuid_gen_t g;
    ef_uuid_gen_init (&g);
    for (int i = 0; i < 5000; i++) {
        ef_uuid_t id;
        char text[EF_UUID_STRLEN + 1], back_text[EF_UUID_STRLEN + 1];
        uint64_t ms = s_next () % 2 ? 1700000000000ull + (uint64_t)i : s_num ();
        if (s_next () % 4 == 0) /* a client's id, not a UUIDv7 */
            for (int k = 0; k < 16; k++)
                id.b[k] = (uint8_t)s_next ();
        else
            ef_uuid_gen_v7 (&g, ms % (1ull << 48), &id);
        ef_uuid_format (&id, text);
        ef_event_t ev = {0};
        ev.event_id = (ef_str_t){text, EF_UUID_STRLEN};
        ev.type = s_str (pool, 1);
        ev.version = s_next () % 2 ? 1 : (uint32_t)s_num ();
        /* mostly the id's time, as the broker's own ids carry it */
        ev.received_at = s_next () % 2 ? ef_uuid_v7_ms (&id) : s_num ();
        ev.occurred_at = s_next () % 2 ? ev.received_at : s_num ();
        ev.source = s_next () % 2 ? ef_str ("native") : s_str (pool, 1);
        ev.api_key_id = s_str (pool, 1);
        ev.trace_id = s_str (pool, 1);
        ev.correlation_id = s_str (pool, 1);
        ev.request_id = s_str (pool, 1);
        ev.payload = s_str (pool, 1);
        s_both (&ev, &id, &pairs, &compact);

        ef_buf_reset (&out);
        assert_int_equal (
            ef_record_write_pairs (
                &out, (ef_str_t){compact.data, (uint32_t)compact.len}),
            0);
        assert_int_equal (out.len, pairs.len);
        assert_memory_equal (out.data, pairs.data, pairs.len);

        ef_event_t back = {0};
        ef_str_t rec = {compact.data, (uint32_t)compact.len};
        assert_int_equal (ef_record_read (rec, &back, back_text), 0);
        ef_buf_reset (&out);
        ef_proto_write_event_record (&out, &back);
        assert_int_equal (out.len, pairs.len);
        assert_memory_equal (out.data, pairs.data, pairs.len);

        /* without the id's text (readers that do not need it) */
        ef_event_t quick = {0};
        assert_int_equal (ef_record_read (rec, &quick, NULL), 0);
        assert_null (quick.event_id.ptr);
        assert_true (quick.payload.ptr == back.payload.ptr &&
                     quick.payload.len == back.payload.len);

        ef_uuid_t got;
        assert_int_equal (ef_record_id (rec, &got), 0);
        assert_memory_equal (got.b, id.b, 16);
        assert_true (ef_record_received_at (rec) == ev.received_at);
    }
    ef_buf_free (&pairs);
    ef_buf_free (&compact);
    ef_buf_free (&out);
}

/*  The event tests/bench/flat.sh stores: type "bench", a 200-byte
    payload, the broker's own id and times, nothing else. */
static void
s_bench_event (ef_event_t *ev, ef_uuid_t *id, char *text, const char *payload)
{
    ef_uuid_gen_t g;
    ef_uuid_gen_init (&g);
    ef_uuid_gen_v7 (&g, 1700000000000ull, id);
    ef_uuid_format (id, text);
    memset (ev, 0, sizeof *ev);
    ev->event_id = (ef_str_t){text, EF_UUID_STRLEN};
    ev->type = ef_str ("bench");
    ev->version = 1;
    ev->occurred_at = ev->received_at = 1700000000000ull;
    ev->source = ef_str ("native");
    ev->payload = (ef_str_t){payload, 200};
}

static void
test_a_compact_record_is_its_payload_and_id_and_little_more (void **state)
{
    (void)state;
    char payload[200], text[EF_UUID_STRLEN + 1];
    memset (payload, 'x', sizeof payload);
    ef_event_t ev;
    ef_uuid_t id;
    s_bench_event (&ev, &id, text, payload);
    ef_buf_t pairs, compact;
    ef_buf_init (&pairs);
    ef_buf_init (&compact);
    s_both (&ev, &id, &pairs, &compact);
    /* marker, flags, id, "bench" and the payload's str 8 header: 16 to a
       4 KiB LMDB page (a node of 8 + 12 + 226 bytes and its pointer) */
    assert_int_equal (compact.len, 2 + 16 + 6 + 2 + 200);
    assert_true (pairs.len > compact.len + 140);
    ef_buf_free (&pairs);
    ef_buf_free (&compact);
}

static void
test_a_record_of_format_1_is_read_and_served_as_stored (void **state)
{
    (void)state;
    char payload[200], text[EF_UUID_STRLEN + 1], back_text[EF_UUID_STRLEN + 1];
    memset (payload, 'x', sizeof payload);
    ef_event_t ev;
    ef_uuid_t id, got;
    s_bench_event (&ev, &id, text, payload);
    ev.request_id = ef_str ("req-1");
    ef_buf_t old, out;
    ef_buf_init (&old);
    ef_buf_init (&out);
    ef_proto_write_event_record (&old, &ev);
    ef_str_t rec = {old.data, (uint32_t)old.len};
    assert_int_equal (ef_record_write_pairs (&out, rec), 0);
    assert_int_equal (out.len, old.len);
    assert_memory_equal (out.data, old.data, old.len);
    ef_event_t back = {0};
    assert_int_equal (ef_record_read (rec, &back, back_text), 0);
    assert_int_equal (back.event_id.len, EF_UUID_STRLEN);
    assert_memory_equal (back.event_id.ptr, text, EF_UUID_STRLEN);
    assert_int_equal (back.payload.len, 200);
    assert_true (back.received_at == 1700000000000ull);
    assert_int_equal (back.request_id.len, 5);
    assert_int_equal (ef_record_id (rec, &got), 0);
    assert_memory_equal (got.b, id.b, 16);
    assert_true (ef_record_received_at (rec) == 1700000000000ull);
    ef_buf_free (&old);
    ef_buf_free (&out);
}

static void
test_a_cut_or_damaged_record_is_refused (void **state)
{
    (void)state;
    char payload[200], text[EF_UUID_STRLEN + 1], back_text[EF_UUID_STRLEN + 1];
    memset (payload, 'x', sizeof payload);
    ef_event_t ev;
    ef_uuid_t id;
    s_bench_event (&ev, &id, text, payload);
    ev.api_key_id = ef_str ("key-1");
    ev.occurred_at = 5;
    ef_buf_t compact, out;
    ef_buf_init (&compact);
    ef_buf_init (&out);
    ef_record_write (&compact, &ev, &id);
    ef_buf_t empty;
    ef_buf_init (&empty);
    ef_event_t none = {0};
    ef_proto_write_event_record (&empty, &none);
    /* every cut: each on its own heap block, so a read past it shows */
    for (size_t n = 1; n < compact.len; n++) {
        char *cut = malloc (n);
        memcpy (cut, compact.data, n);
        ef_event_t back = {0};
        ef_str_t rec = {cut, (uint32_t)n};
        assert_int_equal (ef_record_read (rec, &back, back_text), EF_ESTORE);
        ef_buf_reset (&out);
        assert_int_equal (ef_record_write_pairs (&out, rec), EF_ESTORE);
        assert_int_equal (out.len, empty.len); /* the reply stays whole */
        assert_memory_equal (out.data, empty.data, empty.len);
        free (cut);
    }
    /* a byte after the payload, and a flagged string that is nil */
    ef_buf_append (&compact, "", 1);
    ef_event_t back = {0};
    assert_int_equal (
        ef_record_read ((ef_str_t){compact.data, (uint32_t)compact.len}, &back,
                        back_text),
        EF_ESTORE);
    ef_buf_reset (&compact);
    ev.api_key_id = EF_STR_NULL;
    ev.occurred_at = ev.received_at;
    ef_record_write (&compact, &ev, &id);
    compact.data[1] |= EF_RECORD_F_TRACE; /* flagged, but nothing stored */
    assert_int_equal (
        ef_record_read ((ef_str_t){compact.data, (uint32_t)compact.len}, &back,
                        back_text),
        EF_ESTORE);
    ef_buf_free (&compact);
    ef_buf_free (&out);
    ef_buf_free (&empty);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_compact_records_give_back_the_codecs_bytes),
        cmocka_unit_test (
            test_a_compact_record_is_its_payload_and_id_and_little_more),
        cmocka_unit_test (
            test_a_record_of_format_1_is_read_and_served_as_stored),
        cmocka_unit_test (test_a_cut_or_damaged_record_is_refused),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
