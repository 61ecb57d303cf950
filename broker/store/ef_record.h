/*  ef_record.h: the stored form of an event's immutable part (its record:
    event_id, type, version, occurred_at, received_at, source, api_key_id,
    context, payload). Records are written compact, without field names
    and with the id as 16 bytes; replies carry the record as the 9 pairs
    of protocol.md's Event, which ef_record_write_pairs makes from either
    stored form:
      * compact (store format 2): the byte 0xc1 (never a msgpack value),
        a flags byte, the 16 bytes of the id, then msgpack values: type,
        and only where flags say so (else the value named after the flag)
          version         uint        EF_RECORD_F_VERSION    (else 1)
          occurred_at     uint        EF_RECORD_F_OCCURRED   (received_at)
          received_at     uint        EF_RECORD_F_RECEIVED   (the id's
                                                              UUIDv7 time)
          source          str or nil  EF_RECORD_F_SOURCE     ("native")
          api_key_id      str         EF_RECORD_F_API_KEY    (nil)
          trace_id        str         EF_RECORD_F_TRACE      (nil)
          correlation_id  str         EF_RECORD_F_CORRELATION (nil)
          request_id      str         EF_RECORD_F_REQUEST    (absent)
        and last the payload (str or nil);
      * pairs (stores of format 1): the 9 pairs as replies carry them,
        opening with the fixstr "event_id". Served as they are; never
        written any more.
    Thread-safety: none needed (no state). */
#ifndef EF_RECORD_H
#define EF_RECORD_H

#include "eventflow/ef_proto.h"
#include "eventflow/ef_uuid.h"

#define EF_RECORD_COMPACT 0xc1

#define EF_RECORD_F_VERSION     0x01
#define EF_RECORD_F_OCCURRED    0x02
#define EF_RECORD_F_RECEIVED    0x04
#define EF_RECORD_F_SOURCE      0x08
#define EF_RECORD_F_API_KEY     0x10
#define EF_RECORD_F_TRACE       0x20
#define EF_RECORD_F_CORRELATION 0x40
#define EF_RECORD_F_REQUEST     0x80

/*  Append the compact record of ev (event_id ignored: id is the event's
    id) to b. On a failed growth b->oom is set. */
void ef_record_write (ef_buf_t *b, const ef_event_t *ev, const ef_uuid_t *id);

/*  Read record (either form) into ev's record fields (the rest of ev is
    left as it is). Strings point into record, but a compact record's
    event_id, which is written into id_text (NULL: a compact record's
    event_id is left as it is, for readers that do not need it). 0, or
    EF_ESTORE when record is neither form. */
int ef_record_read (ef_str_t record, ef_event_t *ev,
                    char id_text[EF_UUID_STRLEN + 1]);

/*  Append record's 9 pairs as replies carry them: the same bytes as
    ef_proto_write_event_record of what ef_record_read reads. A compact
    record that does not parse appends the pairs of an empty event (the
    reply stays well-formed) and returns EF_ESTORE; else 0 (a failed
    growth sets out->oom). */
int ef_record_write_pairs (ef_buf_t *out, ef_str_t record);

/*  The event id of record into id: 0, or EF_EINVAL when it has none. */
int ef_record_id (ef_str_t record, ef_uuid_t *id);

/*  received_at of record, 0 when unreadable. */
uint64_t ef_record_received_at (ef_str_t record);

#endif
