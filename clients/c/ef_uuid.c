/*  ef_uuid.c: UUIDv7 generation, parsing and formatting, and hex digits
    (see ef_uuid.h). */
#include "eventflow/ef_uuid.h"
#include "eventflow/ef_error.h"

#include <sodium.h>
#include <string.h>

void
ef_uuid_gen_init (ef_uuid_gen_t *g)
{
    g->last_ms = 0;
    g->counter = 0;
    g->pool_pos = sizeof g->pool;
}

void
ef_uuid_gen_v7 (ef_uuid_gen_t *g, uint64_t now_ms, ef_uuid_t *out)
{
    /*  RFC 9562 §6.2 method 1: rand_a is a counter seeded randomly at each
        new millisecond (with its top bit clear, leaving room to count);
        when it overflows, the timestamp is advanced by one. */
    /* one getrandom() per 128 ids rather than per id */
    if (g->pool_pos + 10 > sizeof g->pool) {
        randombytes_buf (g->pool, sizeof g->pool);
        g->pool_pos = 0;
    }
    const uint8_t *rnd = g->pool + g->pool_pos;
    g->pool_pos += 10;
    if (now_ms > g->last_ms) {
        g->last_ms = now_ms;
        g->counter = ((uint32_t)rnd[8] << 8 | rnd[9]) & 0x7ff;
    } else if (++g->counter > 0xfff) {
        g->last_ms++;
        g->counter = 0;
    }
    uint64_t ms = g->last_ms;
    for (int i = 0; i < 6; i++)
        out->b[i] = (uint8_t)(ms >> (40 - 8 * i));
    out->b[6] = (uint8_t)(0x70 | (g->counter >> 8));
    out->b[7] = (uint8_t)(g->counter & 0xff);
    memcpy (out->b + 8, rnd, 8);
    out->b[8] = (uint8_t)(0x80 | (out->b[8] & 0x3f));
}

int
ef_hex_value (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
ef_uuid_parse (const char *s, size_t len, ef_uuid_t *out)
{
    if (len != EF_UUID_STRLEN)
        return EF_EINVAL;
    int j = 0;
    for (size_t i = 0; i < len;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return EF_EINVAL;
            i++;
            continue;
        }
        int hi = ef_hex_value (s[i]), lo = ef_hex_value (s[i + 1]);
        if (hi < 0 || lo < 0)
            return EF_EINVAL;
        out->b[j++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return 0;
}

void
ef_uuid_format (const ef_uuid_t *u, char out[EF_UUID_STRLEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[u->b[i] >> 4];
        *p++ = hex[u->b[i] & 15];
    }
    *p = 0;
}

uint64_t
ef_uuid_v7_ms (const ef_uuid_t *u)
{
    if ((u->b[6] >> 4) != 7)
        return 0;
    uint64_t ms = 0;
    for (int i = 0; i < 6; i++)
        ms = (ms << 8) | u->b[i];
    return ms;
}
