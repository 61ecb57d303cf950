/*  ef_proto_int.h: the field tables of the codec, shared by its three
    files (ef_proto.c: the table walkers and the value rules;
    ef_proto_req.c: requests; ef_proto_reply.c: replies and the values
    they carry). Each message and record is described once, as a table of
    its keys in wire order: the writer walks the table to write it, the
    reader looks keys up in the same table to read it. Not installed. */
#ifndef EF_PROTO_INT_H
#define EF_PROTO_INT_H

#include <stddef.h>
#include <stdint.h>
#include "eventflow/ef_proto.h"

/*  What a field holds, at its offset in the struct it describes. */
typedef enum {
    EF_PF_STR,    /* ef_str_t; unset travels as nil */
    EF_PF_U64,    /* uint64_t */
    EF_PF_U32,    /* uint32_t */
    EF_PF_BOOL,   /* int */
    EF_PF_MAP,    /* a nested map of sub's fields (offsets in the same
                     struct) */
    EF_PF_STRS,   /* ef_str_t[16]; its uint32_t count at aux */
    EF_PF_EVENTS, /* PUBLISH items (ef_proto_req.c writes and reads them) */
    EF_PF_DUP,    /* a result's status: int duplicate, "DUPLICATE" or
                     "ACCEPTED" */
    EF_PF_LIST    /* ef_str_t: the msgpack bytes of an array of up to
                     EF_MAX_IDS strings, kept as they travel; its
                     uint32_t count at aux (requests only) */
} ef_pf_kind_t;

/*  When the writer writes a field. */
typedef enum {
    EF_PW_ALWAYS, /* always */
    EF_PW_SET,    /* when set: a string with a pointer, a number or bool
                     not 0, a list not empty, a map with a field to write */
    EF_PW_HAS,    /* when the int at aux is not 0 (the reader sets it) */
    EF_PW_VIEW    /* when the request's command lists it as always sent */
} ef_pw_t;

#define EF_PF_NIL  1 /* reader: nil is the value unset (0) */
#define EF_PF_NILZ 2 /* writer: 0 travels as nil */
#define EF_PF_SEEN                                                             \
    4                 /* reader: the uint64_t at aux becomes 1 when the key
                         is there */
#define EF_PF_TEXT 8  /* request reader: the string must be valid UTF-8 */
#define EF_PF_MIN1 16 /* request reader: a number given is at least 1 */
#define EF_PF_GIVEN                                                            \
    32 /* request reader: the int at aux becomes 1 when a value (not nil)
          is given */

typedef struct ef_proto_table ef_proto_table_t;

typedef struct {
    const char *key;
    uint8_t klen;
    uint8_t kind;  /* ef_pf_kind_t */
    uint8_t when;  /* ef_pw_t */
    uint8_t flags; /* EF_PF_* */
    uint16_t off;
    uint16_t aux; /* EF_PW_HAS: its int flag; EF_PF_STRS, EF_PF_LIST: its
                     count;
                     EF_PF_SEEN: its uint64_t; EF_PF_GIVEN: its int */
    const ef_proto_table_t *sub; /* EF_PF_MAP */
    const char *bad; /* PUBLISH item: the refusal of a value that breaks
                        EF_PF_TEXT or EF_PF_MIN1 */
} ef_proto_field_t;

struct ef_proto_table {
    const ef_proto_field_t *f;
    uint32_t n;
};

#define EF_PFX(st, k, kind, when, flags, m, aux, sub, bad)                     \
    {                                                                          \
        k, sizeof k - 1, EF_PF_##kind, EF_PW_##when, flags, offsetof (st, m),  \
            aux, sub, bad                                                      \
    }
#define EF_PF(st, k, kind, when, flags, m, aux, sub)                           \
    EF_PFX (st, k, kind, when, flags, m, aux, sub, NULL)
#define EF_PT(arr)                                                             \
    {                                                                          \
        arr, sizeof arr / sizeof arr[0]                                        \
    }

/*  The field of t named k, or NULL. */
const ef_proto_field_t *ef_proto_field_find (const ef_proto_table_t *t,
                                             ef_str_t k);
/*  The fields of t that are written. */
uint32_t ef_proto_fields_count (const ef_proto_table_t *t, const void *base);
/*  1 if f is written (EF_PW_VIEW counts as not: the caller decides).
    Inline: the writers ask it of every field. */
static inline int
ef_proto_field_present (const ef_proto_field_t *f, const void *base)
{
    const char *at = (const char *)base + f->off;
    switch (f->when) {
    case EF_PW_ALWAYS:
        return 1;
    case EF_PW_HAS:
        return *(const int *)((const char *)base + f->aux) != 0;
    case EF_PW_VIEW:
        return 0;
    default:
        break;
    }
    switch (f->kind) {
    case EF_PF_STR:
        return ((const ef_str_t *)at)->ptr != NULL;
    case EF_PF_U64:
        return *(const uint64_t *)at != 0;
    case EF_PF_U32:
        return *(const uint32_t *)at != 0;
    case EF_PF_BOOL:
        return *(const int *)at != 0;
    case EF_PF_MAP:
        return ef_proto_fields_count (f->sub, base) != 0;
    case EF_PF_STRS:
    case EF_PF_LIST:
        return *(const uint32_t *)((const char *)base + f->aux) != 0;
    default:
        return 0;
    }
}

/*  One field's key and value. */
void ef_proto_field_write (ef_buf_t *b, const ef_proto_field_t *f,
                           const void *base);
/*  The present fields of t as pairs (no map header). */
void ef_proto_fields_write (ef_buf_t *b, const ef_proto_table_t *t,
                            const void *base);
/*  A map of the present fields of t. */
void ef_proto_record_write (ef_buf_t *b, const ef_proto_table_t *t,
                            const void *base);

/*  For keys not in the table: returns 1 when it read the value (its
    result in *rc), 0 to have it skipped. */
typedef int (ef_proto_extra_fn) (ef_mpr_t *r, ef_str_t key, void *base,
                                 int *rc);
/*  Read one value by f's kind into base (replies: numbers as uint, a
    32-bit one cut to its low bits, nil only where EF_PF_NIL). */
int ef_proto_field_read (ef_mpr_t *r, const ef_proto_field_t *f, void *base);
/*  Read n pairs through t; unknown keys go to extra (may be NULL), else
    are skipped. 0, EF_EINVAL (a mistyped value) or EF_EPROTO. */
int ef_proto_fields_read (ef_mpr_t *r, uint32_t n, const ef_proto_table_t *t,
                          void *base, ef_proto_extra_fn *extra);
/*  A map through t. */
int ef_proto_record_read (ef_mpr_t *r, const ef_proto_table_t *t, void *base,
                          ef_proto_extra_fn *extra);

/*  An optional string: nil leaves it unset. */
int ef_proto_opt_str (ef_mpr_t *r, ef_str_t *s);

/*  For the tests, which walk the tables to build every message: the
    request's keys, each command's view (the keys it takes; every command
    also takes request_id and traceparent), and the values of replies with
    their writer and reader. */
extern const ef_proto_table_t ef_proto_request_table;
uint64_t ef_proto_view_takes (ef_cmd_t cmd);

typedef struct {
    const char *name;
    const ef_proto_table_t *table;
    size_t size; /* of the struct */
    void (*write) (ef_buf_t *b, const void *v);
    int (*read) (ef_mpr_t *r, void *v);
} ef_proto_record_t;
extern const ef_proto_record_t ef_proto_records[];
extern const size_t ef_proto_nrecords;

/*  Mark a PUBLISH item refused: its first fault is kept. */
void ef_proto_item_fail (ef_event_in_t *ev, int code, const char *msg);

#endif
