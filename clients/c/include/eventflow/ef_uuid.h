/*  ef_uuid.h: UUIDs for event ids. Generation of UUIDv7 (RFC 9562: 48-bit
    Unix milliseconds, then a 12-bit counter that keeps ids from one
    generator strictly increasing within a millisecond, then random bits),
    parsing of any UUID in 8-4-4-4-12 hex form, and formatting; and the
    value of one hex digit, which the parser shares with the rest of the
    project (percent-decoding in the bridge and in schema refs).
    Thread-safety: a generator is used by one thread at a time. */
#ifndef EF_UUID_H
#define EF_UUID_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EF_UUID_STRLEN 36

typedef struct {
    uint8_t b[16];
} ef_uuid_t;

typedef struct {
    uint64_t last_ms;
    uint32_t counter;
    uint32_t pool_pos;  /* next unused byte of pool */
    uint8_t pool[1280]; /* random bytes, refilled 128 ids at a time */
} ef_uuid_gen_t;

/*  Initialise a generator. */
void ef_uuid_gen_init (ef_uuid_gen_t *g);
/*  Next UUIDv7 for time now_ms; strictly greater than the previous one
    from this generator. */
void ef_uuid_gen_v7 (ef_uuid_gen_t *g, uint64_t now_ms, ef_uuid_t *out);
/*  Parse 36 characters of 8-4-4-4-12 hex (either case). 0 or EF_EINVAL. */
int ef_uuid_parse (const char *s, size_t len, ef_uuid_t *out);
/*  Write 36 lowercase characters and a NUL into out[37]. */
void ef_uuid_format (const ef_uuid_t *u, char out[EF_UUID_STRLEN + 1]);
/*  The millisecond timestamp of a UUIDv7 (0 for other versions). */
uint64_t ef_uuid_v7_ms (const ef_uuid_t *u);
/*  The value of one hex digit, 0 to 15 (either case), or -1. */
int ef_hex_value (char c);

#ifdef __cplusplus
}
#endif
#endif
