/*  A full disk, every time: with the store's writes cut short as a full
    disk cuts them (an LD_PRELOAD shim, h_diskfull.c, so no root and no
    small file system is needed), every publish is refused STORE_FULL —
    the first one too, which LMDB sees as an I/O error — nothing of them
    is stored, and once there is room again publishing works. */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static void
test_a_full_disk_is_store_full_from_the_first_refusal_on (void **state)
{
    (void)state;
    char dir[256], flag[300];
    h_broker_t b;
    assert_int_equal (h_tempdir (dir), 0);
    snprintf (flag, sizeof flag, "%s.full", dir);
    setenv ("EF_TEST_DISKFULL", flag, 1);
    setenv ("LD_PRELOAD", EF_DISKFULL_SHIM, 1);
    int started = h_broker_start (&b, dir, NULL);
    unsetenv ("LD_PRELOAD");
    assert_int_equal (started, 0);
    ef_client_t *c = h_client (&b);
    assert_non_null (c);
    assert_int_equal (ef_client_create_stream (c, "disk", NULL), 0);

    char payload[3000];
    memset (payload, 'x', sizeof payload);
    payload[0] = '"', payload[sizeof payload - 2] = '"';
    payload[sizeof payload - 1] = 0;
    ef_event_in_t evs[4];
    ef_publish_result_t res[4];
    for (int i = 0; i < 4; i++) {
        memset (&evs[i], 0, sizeof evs[i]);
        evs[i].type = ef_str ("big");
        evs[i].payload = ef_str (payload);
    }
    assert_int_equal (ef_client_publish (c, "disk", evs, 4, res), 0);

    FILE *fp = fopen (flag, "w"); /* the disk fills up */
    assert_non_null (fp);
    fclose (fp);
    for (int i = 0; i < 5; i++)
        assert_int_equal (ef_client_publish (c, "disk", evs, 4, res),
                          EF_ESTORE_FULL);
    ef_stream_info_t s;
    assert_int_equal (ef_client_get_stream (c, "disk", &s), 0);
    assert_int_equal (s.events, 4); /* nothing of them was stored */

    unlink (flag); /* room again */
    assert_int_equal (ef_client_publish (c, "disk", evs, 4, res), 0);
    assert_int_equal (res[0].seq, 5);
    assert_int_equal (ef_client_get_stream (c, "disk", &s), 0);
    assert_int_equal (s.events, 8);
    ef_client_destroy (&c);
    assert_int_equal (h_broker_stop (&b), 0);
    unsetenv ("EF_TEST_DISKFULL");
    h_rmrf (dir);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (
            test_a_full_disk_is_store_full_from_the_first_refusal_on),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
