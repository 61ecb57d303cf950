/*  test_proxies.c: the bridge's trusted proxies (--trusted-proxies) and
    the client address read behind them: X-Forwarded-For believed only
    from a trusted peer and only past trusted hops, from the right; CIDR
    ranges of both families; malformed lists refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ef_proxies.h"

static ef_proxies_t *
s_new (const char *list)
{
    char why[160];
    ef_proxies_t *p = ef_proxies_new (list, why, sizeof why);
    if (!p)
        fail_msg ("'%s' refused: %s", list ? list : "(none)", why);
    return p;
}

static const char *
s_client (const ef_proxies_t *p, const char *remote, const char *xff)
{
    static char out[EF_PROXIES_ADDR_MAX];
    ef_proxies_client (p, remote, xff, out);
    return out;
}

static void
test_without_trusted_proxies_the_peer_is_the_client (void **state)
{
    (void)state;
    ef_proxies_t *p = s_new (NULL);
    assert_string_equal (s_client (p, "127.0.0.1", "203.0.113.9"), "127.0.0.1");
    ef_proxies_destroy (&p);
    p = s_new ("");
    assert_string_equal (s_client (p, "10.1.2.3", "203.0.113.9"), "10.1.2.3");
    ef_proxies_destroy (&p);
}

static void
test_a_header_from_an_untrusted_peer_is_ignored (void **state)
{
    (void)state;
    ef_proxies_t *p = s_new ("127.0.0.1");
    /* a client that sends the header itself names itself nothing */
    assert_string_equal (s_client (p, "192.0.2.50", "203.0.113.9"),
                         "192.0.2.50");
    ef_proxies_destroy (&p);
}

static void
test_the_first_untrusted_hop_from_the_right_is_the_client (void **state)
{
    (void)state;
    ef_proxies_t *p = s_new (" 127.0.0.1 , 10.0.0.0/8,::1");
    assert_string_equal (s_client (p, "127.0.0.1", "203.0.113.9"),
                         "203.0.113.9");
    /* what the client wrote before nginx appended its peer is not believed */
    assert_string_equal (
        s_client (p, "127.0.0.1", "198.51.100.1, 203.0.113.9, 10.4.4.4"),
        "203.0.113.9");
    assert_string_equal (s_client (p, "::1", "2001:db8::7"), "2001:db8::7");
    /* every hop trusted: the leftmost stands */
    assert_string_equal (s_client (p, "127.0.0.1", "10.0.0.1, 10.0.0.2"),
                         "10.0.0.1");
    /* no header, or an empty one: the peer */
    assert_string_equal (s_client (p, "127.0.0.1", NULL), "127.0.0.1");
    assert_string_equal (s_client (p, "127.0.0.1", ""), "127.0.0.1");
    ef_proxies_destroy (&p);
}

static void
test_garbage_in_the_header_ends_the_walk (void **state)
{
    (void)state;
    ef_proxies_t *p = s_new ("127.0.0.1,10.0.0.0/8");
    assert_string_equal (s_client (p, "127.0.0.1", "not-an-ip"), "127.0.0.1");
    assert_string_equal (s_client (p, "127.0.0.1", "\"x\", 10.0.0.5"),
                         "10.0.0.5");
    assert_string_equal (s_client (p, "127.0.0.1", "203.0.113.9:443"),
                         "127.0.0.1");
    char longer[400];
    memset (longer, '1', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    assert_string_equal (s_client (p, "127.0.0.1", longer), "127.0.0.1");
    ef_proxies_destroy (&p);
}

static void
test_ranges_match_by_prefix_in_both_families (void **state)
{
    (void)state;
    ef_proxies_t *p = s_new ("172.16.0.0/12, fd00::/8, 192.0.2.1/32");
    assert_string_equal (s_client (p, "172.31.255.255", "203.0.113.1"),
                         "203.0.113.1");
    assert_string_equal (s_client (p, "172.32.0.1", "203.0.113.1"),
                         "172.32.0.1");
    assert_string_equal (s_client (p, "fd12::1", "203.0.113.2"), "203.0.113.2");
    assert_string_equal (s_client (p, "fe80::1", "203.0.113.2"), "fe80::1");
    assert_string_equal (s_client (p, "192.0.2.1", "203.0.113.3"),
                         "203.0.113.3");
    assert_string_equal (s_client (p, "192.0.2.2", "203.0.113.3"), "192.0.2.2");
    ef_proxies_destroy (&p);
    /* /0 trusts every peer of its family */
    p = s_new ("0.0.0.0/0");
    assert_string_equal (s_client (p, "8.8.8.8", "203.0.113.4"), "203.0.113.4");
    assert_string_equal (s_client (p, "2001:db8::1", "203.0.113.4"),
                         "2001:db8::1");
    ef_proxies_destroy (&p);
}

static void
test_malformed_lists_are_refused_with_a_reason (void **state)
{
    (void)state;
    const char *bad[] = {"localhost",   "10.0.0.0/33", "::1/129",
                         "10.0.0.0/",   "10.0.0.0/8x", "1.2.3.4, nope",
                         "10.0.0.0/-1", "\"quoted\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char why[160] = "";
        ef_proxies_t *p = ef_proxies_new (bad[i], why, sizeof why);
        if (p)
            fail_msg ("'%s' accepted", bad[i]);
        assert_non_null (strstr (why, "not an address"));
        assert_null (strchr (why, '"')); /* it goes into a JSON log line */
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_without_trusted_proxies_the_peer_is_the_client),
        cmocka_unit_test (test_a_header_from_an_untrusted_peer_is_ignored),
        cmocka_unit_test (
            test_the_first_untrusted_hop_from_the_right_is_the_client),
        cmocka_unit_test (test_garbage_in_the_header_ends_the_walk),
        cmocka_unit_test (test_ranges_match_by_prefix_in_both_families),
        cmocka_unit_test (test_malformed_lists_are_refused_with_a_reason),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
