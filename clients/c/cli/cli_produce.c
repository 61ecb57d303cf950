/*  cli_produce.c: `eventflow produce`, publishing one event given on the
    command line or one event per line of stdin. Lines are validated as
    JSON, gathered into batches and sent with ef_client_publish_async,
    several requests in flight. Requests sit in a ring of slots; each
    slot keeps the line numbers of its events and the result lines its
    reply produced, and slots are printed in the order they were sent, so
    the output lines follow the input lines whatever order the replies
    come in. All buffers are sized once or grow to their high-water mark:
    nothing is allocated per event.

    Every event gets its id (a UUIDv7) here, before it is first sent, and
    a slot keeps its events until they are answered: a request the broker
    did not answer (it stopped, restarted, or timed out) is sent again,
    with the same ids, after a pause that doubles, for up to --retry-for
    seconds, so an event stored by the first try is answered DUPLICATE
    and stored once. */
#include "cli.h"

#include "eventflow/ef_error.h"
#include "eventflow/ef_json.h"
#include "eventflow/ef_proto.h"
#include "eventflow/ef_time.h"
#include "eventflow/ef_uuid.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Requests in flight at once. */
#define S_INFLIGHT 16u
/* Bytes reserved in a request for everything but its events, and an
   upper bound of what an event adds besides its strings. */
#define S_REQUEST_OVERHEAD 1024u
#define S_EVENT_OVERHEAD   128u

/* Pause before the first retry of a request; it doubles up to
   --reconnect-max. */
#define S_RETRY_PAUSE_MS 100

typedef enum { S_FREE = 0, S_PENDING, S_RETRY, S_DONE } s_state_t;

typedef struct s_produce s_produce_t;

/*  One request: its events (payloads copied into arena, which may move
    while it grows, so events point into it only when sent), their ids
    and line numbers and, once answered, the output lines of its
    results. */
typedef struct {
    s_produce_t *owner;
    s_state_t state;
    uint32_t n;
    uint64_t bytes;
    ef_event_in_t *events;           /* [batch] */
    size_t *offsets;                 /* [batch], into arena */
    char (*ids)[EF_UUID_STRLEN + 1]; /* [batch] */
    ef_buf_t arena;
    uint64_t *lines;                 /* [batch] */
    uint32_t tries;                  /* sends so far */
    int64_t first_failure, retry_at; /* mono ms */
    ef_buf_t out;
} s_slot_t;

struct s_produce {
    ef_client_t *client;
    const char *stream;
    ef_str_t type, source, event_id;
    uint32_t batch;        /* events per request */
    uint64_t frame_budget; /* bytes of events per request */
    uint64_t max_payload;
    int timeout_ms;
    int retry_for_ms; /* how long an unanswered request is sent again */
    int retry_max_ms; /* the longest pause between two tries */
    ef_uuid_gen_t ids;

    /* the batch being gathered is that of slots[sent_reqs % S_INFLIGHT] */
    s_slot_t *slots; /* ring of S_INFLIGHT */
    uint64_t sent_reqs, printed_reqs;

    uint64_t sent, accepted, duplicates, rejected, unanswered;
    uint64_t retries, retried_duplicates;
    int retrying;    /* said on stderr that requests are sent again */
    int unavailable; /* the first EF_ETIMEOUT/EF_EUNAVAILABLE, or 0 */
    char unavailable_why[256];
    int write_error;
};

static void
s_usage (FILE *out)
{
    fputs ("Usage: eventflow produce STREAM [PAYLOAD] --type TYPE [OPTIONS]\n"
           "\n"
           "Publish events to STREAM. PAYLOAD is one JSON value; without "
           "it, stdin is\n"
           "read as one JSON document per line (empty lines are skipped) "
           "and sent in\n"
           "batches. Each line is checked first: a line that is not valid "
           "JSON stops\n"
           "the run with status 2 and its line number; the lines before it "
           "are still\n"
           "published, and how many were sent is reported.\n"
           "\n"
           "  --type TYPE       event type (required), 1-256 bytes\n"
           "  --source SOURCE   event source (default: the broker's, "
           "\"native\")\n"
           "  --event-id UUID   idempotency key (with PAYLOAD only): "
           "publishing the\n"
           "                    same id again answers DUPLICATE and "
           "stores nothing\n"
           "  --batch N         events per PUBLISH request (default 100, "
           "capped at\n"
           "                    the broker's max_batch)\n"
           "  --retry-for S     send a request the broker did not answer "
           "(stopped,\n"
           "                    restarted, timed out) again for up to S "
           "seconds\n"
           "                    (default 60; 0: never), with the same event "
           "ids:\n"
           "                    events the first try stored are answered "
           "DUPLICATE\n"
           "\n"
           "Output, one JSON line per event, in input order:\n"
           "  {\"event_id\":\"...\",\"seq\":N,\"status\":\"ACCEPTED\"} "
           "(or \"DUPLICATE\")\n"
           "  {\"line\":L,\"error\":{\"code\":\"NAME\",\"message\":\"...\"}} "
           "for an event not stored\n"
           "With stdin or --batch, a summary goes to stderr: 'produced N "
           "events\n"
           "(D duplicates, R rejected) in X s', where N counts every event "
           "sent;\n"
           "after retries it adds how many requests were sent again and how "
           "many of\n"
           "the duplicates an earlier try of this run had stored.\n"
           "\n",
           out);
    cli_usage_exit_codes (out);
    fputs ("  (status 1 here: at least one event was refused)\n"
           "\n"
           "Examples:\n"
           "  eventflow produce orders --type order.created "
           "'{\"id\":1,\"total\":9.5}'\n"
           "  eventflow produce orders --type order.created --event-id \\\n"
           "      0193a5e4-7c1f-7d2a-9b3e-4f5a6b7c8d9e '{\"id\":1}'\n"
           "  eventflow produce orders --type order.created < orders.jsonl\n"
           "  jq -c '.[]' orders.json \\\n"
           "      | eventflow produce orders --type order.created --batch "
           "500\n",
           out);
}

/* ------------------------------------------------------------ replies */

/*  The output line of an event that was not stored. */
static void
s_error_line (ef_buf_t *b, uint64_t line, int code, ef_str_t message)
{
    ef_buf_printf (b, "{\"line\":%" PRIu64 ",\"error\":{\"code\":", line);
    ef_json_quote (b, ef_error_name (code), strlen (ef_error_name (code)));
    ef_buf_append (b, ",\"message\":", 11);
    if (!ef_str_set (message) || message.len == 0)
        message = ef_str (ef_strerror (code));
    ef_json_quote (b, message.ptr, message.len);
    ef_buf_append (b, "}}\n", 3);
}

/*  Fail every event of slot with code (the request as a whole failed). */
static void
s_fail_slot (s_slot_t *slot, int code, const char *why)
{
    s_produce_t *self = slot->owner;
    if (cli_is_unavailable (code)) {
        self->unanswered += slot->n;
        if (!self->unavailable) {
            self->unavailable = code;
            snprintf (self->unavailable_why, sizeof self->unavailable_why, "%s",
                      why && *why ? why : ef_strerror (code));
        }
    } else {
        /* the whole request was refused (say, no such stream): say it
           once on stderr too, where a person looks first */
        if (self->rejected == 0)
            fprintf (stderr, "eventflow: %s\n",
                     why && *why ? why : ef_strerror (code));
        self->rejected += slot->n;
    }
    for (uint32_t i = 0; i < slot->n; i++)
        s_error_line (&slot->out, slot->lines[i], code, ef_str (why));
    slot->state = S_DONE;
}

/*  The request got no answer (code) or was refused as a whole: send it
    again later while --retry-for allows, else fail its events. */
static void
s_failed (s_slot_t *slot, int code, const char *why)
{
    s_produce_t *self = slot->owner;
    int64_t now = ef_time_mono_ms ();
    if (!slot->first_failure)
        slot->first_failure = now;
    if (!cli_is_unavailable (code) ||
        now - slot->first_failure >= self->retry_for_ms) {
        s_fail_slot (slot, code, why);
        return;
    }
    if (!self->retrying) {
        cli_error ("no answer from the broker (%s); sending again with the "
                   "same event ids for up to %d s",
                   why && *why ? why : ef_strerror (code),
                   self->retry_for_ms / 1000);
        self->retrying = 1;
    }
    int64_t pause = S_RETRY_PAUSE_MS;
    for (uint32_t i = 1; i < slot->tries && pause < self->retry_max_ms; i++)
        pause *= 2;
    if (pause > self->retry_max_ms)
        pause = self->retry_max_ms;
    slot->state = S_RETRY;
    slot->retry_at = now + pause;
}

static void
s_on_reply (void *arg, int status, const ef_publish_result_t *results,
            uint32_t n)
{
    s_slot_t *slot = arg;
    s_produce_t *self = slot->owner;
    if (slot->state != S_PENDING)
        return; /* already settled (see s_send) */
    if (status == 0 && n != slot->n) {
        /* One result per event, or none of them is trusted. */
        char why[128];
        snprintf (why, sizeof why,
                  "the reply has %" PRIu32 " results for %" PRIu32 " events", n,
                  slot->n);
        s_fail_slot (slot, EF_EPROTO, why);
        return;
    }
    if (status) {
        /* The client's last error is this request's: the broker's message
           or the timeout's. */
        s_failed (slot, status, ef_client_error (self->client));
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        const ef_publish_result_t *r = &results[i];
        if (r->code) {
            self->rejected++;
            s_error_line (&slot->out, slot->lines[i], r->code, r->message);
            continue;
        }
        if (r->duplicate)
            self->duplicates++, self->retried_duplicates += slot->tries > 1;
        else
            self->accepted++;
        ef_buf_append (&slot->out, "{\"event_id\":", 12);
        cli_json_str (&slot->out, r->event_id);
        ef_buf_printf (&slot->out, ",\"seq\":%" PRIu64 ",\"status\":\"%s\"}\n",
                       r->seq, r->duplicate ? "DUPLICATE" : "ACCEPTED");
    }
    slot->state = S_DONE;
}

/*  Print answered requests in the order they were sent. */
static void
s_drain (s_produce_t *self)
{
    while (self->printed_reqs < self->sent_reqs) {
        s_slot_t *slot = &self->slots[self->printed_reqs % S_INFLIGHT];
        if (slot->state != S_DONE)
            break;
        if (cli_flush_buf (&slot->out, stdout))
            self->write_error = 1;
        slot->state = S_FREE;
        slot->n = 0;
        slot->bytes = 0;
        slot->tries = 0;
        slot->first_failure = 0;
        ef_buf_reset (&slot->arena);
        self->printed_reqs++;
    }
}

/*  Settle every request still in flight with code: the client will be
    destroyed without calling them back. */
static void
s_abandon (s_produce_t *self, int code, const char *why)
{
    for (uint64_t r = self->printed_reqs; r < self->sent_reqs; r++) {
        s_slot_t *slot = &self->slots[r % S_INFLIGHT];
        if (slot->state == S_PENDING || slot->state == S_RETRY)
            s_fail_slot (slot, code, why);
    }
    s_drain (self);
}

/*  The slot whose batch is being gathered. */
static s_slot_t *
s_cur (s_produce_t *self)
{
    return &self->slots[self->sent_reqs % S_INFLIGHT];
}

/*  Send slot's events (again, when it is a retry). */
static void
s_publish (s_slot_t *slot)
{
    s_produce_t *self = slot->owner;
    for (uint32_t i = 0; i < slot->n; i++)
        slot->events[i].payload.ptr = slot->arena.data + slot->offsets[i];
    slot->state = S_PENDING;
    slot->tries++;
    if (slot->tries > 1)
        self->retries++;
    int rc = ef_client_publish_async (self->client, self->stream, slot->events,
                                      slot->n, s_on_reply, slot);
    /* A request that could not be sent is settled here unless the
       library already called back for it. */
    if (rc && slot->state == S_PENDING)
        s_failed (slot, rc, ef_client_error (self->client));
}

/*  Send again the requests whose pause is over. */
static void
s_retry_due (s_produce_t *self)
{
    int64_t now = ef_time_mono_ms ();
    for (uint64_t r = self->printed_reqs; r < self->sent_reqs; r++) {
        s_slot_t *slot = &self->slots[r % S_INFLIGHT];
        if (slot->state == S_RETRY && slot->retry_at <= now)
            s_publish (slot);
    }
}

/*  Wait a little for answers, send what is due again, print what is
    answered. The library's error when polling cannot go on. */
static int
s_step (s_produce_t *self, int wait_ms)
{
    int rc = ef_client_poll (self->client, wait_ms);
    if (rc < 0 && rc != EF_ETIMEOUT)
        return rc;
    s_retry_due (self);
    s_drain (self);
    return 0;
}

/*  Wait until the next slot of the ring is free. 0, or the error that
    made waiting pointless (requests then abandoned). */
static int
s_wait_slot (s_produce_t *self)
{
    /* The library times requests out itself, and retries end after
       --retry-for; this deadline only guards against a reply that never
       comes and a timeout that never fires. */
    int64_t guard = self->timeout_ms + self->retry_for_ms + 5000;
    int64_t deadline = ef_time_mono_ms () + guard;
    while (self->sent_reqs - self->printed_reqs >= S_INFLIGHT) {
        uint64_t before = self->printed_reqs;
        int rc = s_step (self, 100);
        if (rc) {
            s_abandon (self, rc, ef_client_error (self->client));
            return rc;
        }
        if (self->printed_reqs != before)
            deadline = ef_time_mono_ms () + guard;
        else if (ef_time_mono_ms () > deadline) {
            s_abandon (self, EF_ETIMEOUT, "no answer from the broker");
            return EF_ETIMEOUT;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ sending */

/*  Send the gathered batch (if any) in the current slot. */
static void
s_send (s_produce_t *self)
{
    s_slot_t *slot = s_cur (self);
    if (slot->n == 0)
        return;
    self->sent_reqs++;
    self->sent += slot->n;
    s_publish (slot);
    s_drain (self);
}

/*  Add one validated payload (line number line) to the batch, sending
    first when it would not fit, and after when the batch is full. Its id
    is made here, once: a retry sends the same. 0, or an error that stops
    the run (the payload was then not added). */
static int
s_add (s_produce_t *self, const char *payload, size_t len, uint64_t line)
{
    /* Once the broker stopped answering for good, more requests would
       only wait out their timeouts too. */
    if (self->unavailable)
        return self->unavailable;
    uint64_t cost = len + self->type.len + self->source.len + S_EVENT_OVERHEAD;
    s_slot_t *slot = s_cur (self);
    if (slot->n > 0 && slot->bytes + cost > self->frame_budget)
        s_send (self);
    if (s_cur (self)->n == 0) {
        int rc = s_wait_slot (self);
        if (rc)
            return rc;
    }
    slot = s_cur (self);
    if (ef_buf_append (&slot->arena, payload, len))
        return EF_ENOMEM;
    ef_event_in_t *ev = &slot->events[slot->n];
    memset (ev, 0, sizeof *ev);
    ev->type = self->type;
    ev->source = self->source;
    if (ef_str_set (self->event_id))
        ev->event_id = self->event_id;
    else {
        ef_uuid_t id;
        ef_uuid_gen_v7 (&self->ids, ef_time_now_ms (), &id);
        ef_uuid_format (&id, slot->ids[slot->n]);
        ev->event_id = ef_str (slot->ids[slot->n]);
    }
    ev->payload.len = (uint32_t)len;
    slot->offsets[slot->n] = slot->arena.len - len;
    slot->lines[slot->n] = line;
    slot->n++;
    slot->bytes += cost;
    if (slot->n == self->batch)
        s_send (self);
    return 0;
}

/*  Send what is gathered and wait for every answer (retries included).
    With the broker unavailable for good, the gathered events are not
    sent. */
static void
s_finish (s_produce_t *self)
{
    s_slot_t *slot = s_cur (self);
    if (self->unavailable) {
        slot->n = 0;
        slot->bytes = 0;
        ef_buf_reset (&slot->arena);
    }
    s_send (self);
    int64_t guard = self->timeout_ms + self->retry_for_ms + 5000;
    int64_t deadline = ef_time_mono_ms () + guard;
    while (self->sent_reqs != self->printed_reqs) {
        uint64_t before = self->printed_reqs;
        int rc = s_step (self, 100);
        if (rc) {
            s_abandon (self, rc, ef_client_error (self->client));
            return;
        }
        if (self->printed_reqs != before)
            deadline = ef_time_mono_ms () + guard;
        else if (ef_time_mono_ms () > deadline) {
            s_abandon (self, EF_ETIMEOUT, "no answer from the broker");
            return;
        }
    }
}

/* -------------------------------------------------------------- input */

static int
s_blank (const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            return 0;
    return 1;
}

/*  Check a payload; 0 or CLI_EXIT_USAGE after saying what is wrong
    (where names the line or the argument). */
static int
s_check_payload (const char *p, size_t n, uint64_t max_payload,
                 const char *where)
{
    size_t at = 0;
    const char *why = NULL;
    if (ef_json_validate (p, n, EF_JSON_DEPTH, &at, &why)) {
        cli_error ("%s is not valid JSON: %s at byte %zu", where,
                   why ? why : "invalid", at + 1);
        return CLI_EXIT_USAGE;
    }
    if (n > max_payload) {
        cli_error ("%s is %zu bytes, over the broker's max_payload of "
                   "%" PRIu64,
                   where, n, max_payload);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/*  stdin, split into lines over one buffer that grows to the longest
    line: no allocation per line. */
typedef struct {
    int fd;
    char *buf;
    size_t cap, start, end;
    int eof;
} s_lines_t;

static int
s_readable (int fd, int timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    return poll (&pfd, 1, timeout_ms) != 0; /* errors: let read() tell */
}

/*  stdin has nothing for now: send the partial batch rather than hold it
    back, and print answers while waiting, so that a slow writer (a
    person, `tail -f`) sees each event published as soon as it is
    written. */
static void
s_idle (s_produce_t *self, int fd)
{
    if (self->unavailable)
        return;
    if (s_cur (self)->n)
        s_send (self);
    fflush (stdout);
    while (self->printed_reqs < self->sent_reqs && !s_readable (fd, 0)) {
        uint64_t before = self->printed_reqs;
        if (s_step (self, 20))
            break;
        if (self->printed_reqs != before)
            fflush (stdout);
    }
}

/*  The next line (without its end of line) in *line and *n. 1, 0 at the end
    of input, or -1 on a read error. */
static int
s_next_line (s_lines_t *in, s_produce_t *self, const char **line, size_t *n)
{
    for (;;) {
        char *nl = in->end > in->start
                       ? memchr (in->buf + in->start, '\n', in->end - in->start)
                       : NULL;
        if (nl || (in->eof && in->start < in->end)) {
            size_t stop = nl ? (size_t)(nl - in->buf) : in->end;
            *line = in->buf + in->start;
            *n = stop - in->start;
            in->start = nl ? stop + 1 : stop;
            return 1;
        }
        if (in->eof)
            return 0;
        if (in->start > 0) {
            memmove (in->buf, in->buf + in->start, in->end - in->start);
            in->end -= in->start;
            in->start = 0;
        }
        if (in->end == in->cap) {
            size_t cap = in->cap ? in->cap * 2 : 64 * 1024;
            char *buf = realloc (in->buf, cap);
            if (!buf)
                return -1;
            in->buf = buf;
            in->cap = cap;
        }
        if (!s_readable (in->fd, 0))
            s_idle (self, in->fd);
        ssize_t got = read (in->fd, in->buf + in->end, in->cap - in->end);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        if (got == 0)
            in->eof = 1;
        in->end += (size_t)got;
    }
}

/*  Publish stdin's lines. 0, CLI_EXIT_USAGE (a bad line: the lines
    before it are sent), or the exit code of a library error that stopped
    the run (reported here). */
static int
s_from_stdin (s_produce_t *self)
{
    s_lines_t in = {.fd = STDIN_FILENO};
    const char *line;
    size_t n;
    uint64_t lineno = 0;
    int got, rc = 0;
    while ((got = s_next_line (&in, self, &line, &n)) == 1) {
        lineno++;
        if (n && line[n - 1] == '\r')
            n--;
        if (s_blank (line, n))
            continue;
        char where[48];
        snprintf (where, sizeof where, "line %" PRIu64, lineno);
        if (s_check_payload (line, n, self->max_payload, where)) {
            s_finish (self);
            cli_error ("stopped at line %" PRIu64 "; %" PRIu64
                       " events before it were sent",
                       lineno, self->sent);
            rc = CLI_EXIT_USAGE;
            break;
        }
        if ((rc = s_add (self, line, n, lineno))) {
            /* Events still gathered when the run stopped are not sent. */
            uint64_t first = s_cur (self)->n ? s_cur (self)->lines[0] : lineno;
            if (cli_is_unavailable (rc))
                cli_error ("stopped at line %" PRIu64
                           ": the broker does not answer; line %" PRIu64
                           " and those after it were not sent",
                           lineno, first);
            else
                cli_error ("stopped at line %" PRIu64 ": %s", lineno,
                           ef_strerror (rc));
            rc = cli_exit_code (rc);
            break;
        }
    }
    if (got < 0) {
        cli_error ("cannot read stdin after line %" PRIu64 ": %s", lineno,
                   strerror (errno));
        rc = CLI_EXIT_USAGE;
    }
    free (in.buf);
    return rc;
}

/* ---------------------------------------------------------- lifecycle */

static int
s_setup (s_produce_t *self, uint32_t batch)
{
    self->batch = batch;
    ef_uuid_gen_init (&self->ids);
    self->slots = calloc (S_INFLIGHT, sizeof *self->slots);
    if (!self->slots)
        return EF_ENOMEM;
    for (uint32_t i = 0; i < S_INFLIGHT; i++) {
        s_slot_t *slot = &self->slots[i];
        slot->owner = self;
        ef_buf_init (&slot->out);
        ef_buf_init (&slot->arena);
        slot->lines = calloc (batch, sizeof (uint64_t));
        slot->events = calloc (batch, sizeof *slot->events);
        slot->offsets = calloc (batch, sizeof *slot->offsets);
        slot->ids = calloc (batch, sizeof *slot->ids);
        if (!slot->lines || !slot->events || !slot->offsets || !slot->ids)
            return EF_ENOMEM;
    }
    return 0;
}

static void
s_teardown (s_produce_t *self)
{
    if (self->slots)
        for (uint32_t i = 0; i < S_INFLIGHT; i++) {
            s_slot_t *slot = &self->slots[i];
            free (slot->lines);
            free (slot->events);
            free (slot->offsets);
            free (slot->ids);
            ef_buf_free (&slot->arena);
            ef_buf_free (&slot->out);
        }
    free (self->slots);
}

int
cli_produce_run (const cli_t *cli, int argc, char **argv)
{
    cli_opt_t opts[] = {{"type", 0, 1, NULL},      {"source", 0, 1, NULL},
                        {"event-id", 0, 1, NULL},  {"batch", 0, 1, NULL},
                        {"retry-for", 0, 1, NULL}, {NULL, 0, 0, NULL}};
    const char *pos[2];
    int npos;
    int rc = cli_parse ("produce", opts, argc, argv, pos, 2, &npos);
    if (rc == CLI_HELP) {
        s_usage (stdout);
        return CLI_EXIT_OK;
    }
    if (rc)
        return rc;
    if (npos < 1)
        return cli_usage_error ("produce", "missing the STREAM to publish to");
    const char *type = cli_opt (opts, "type");
    const char *source = cli_opt (opts, "source");
    const char *event_id = cli_opt (opts, "event-id");
    const char *batch_arg = cli_opt (opts, "batch");
    const char *payload = npos > 1 ? pos[1] : NULL;
    if (!type)
        return cli_usage_error ("produce", "--type is required");
    if (!*type || strlen (type) > EF_MAX_TYPE)
        return cli_usage_error ("produce", "--type must be 1-%u bytes",
                                EF_MAX_TYPE);
    if (source && strlen (source) > EF_MAX_SOURCE)
        return cli_usage_error ("produce", "--source must be at most %u bytes",
                                EF_MAX_SOURCE);
    ef_uuid_t uuid;
    if (event_id && !payload)
        return cli_usage_error ("produce",
                                "--event-id names a single event: give the "
                                "PAYLOAD as an argument");
    if (event_id && ef_uuid_parse (event_id, strlen (event_id), &uuid))
        return cli_usage_error ("produce",
                                "--event-id '%s' is not a UUID "
                                "(8-4-4-4-12 hex digits)",
                                event_id);
    uint64_t batch = 100, retry_for = 60;
    if (batch_arg && (rc = cli_parse_u64 ("produce", "--batch", batch_arg, 1,
                                          EF_MAX_BATCH_DEFAULT, &batch)))
        return rc;
    if (cli_opt (opts, "retry-for") &&
        (rc =
             cli_parse_u64 ("produce", "--retry-for",
                            cli_opt (opts, "retry-for"), 0, 86400, &retry_for)))
        return rc;
    /* The argument is checked before connecting: a typo costs no
       round trip. Its size is checked again against the broker's limit. */
    if (payload &&
        s_check_payload (payload, strlen (payload), UINT64_MAX, "PAYLOAD"))
        return CLI_EXIT_USAGE;
    if (!payload && isatty (STDIN_FILENO))
        fputs ("eventflow: reading one JSON document per line from stdin "
               "(Ctrl-D ends)\n",
               stderr);

    ef_client_t *client;
    if ((rc = cli_connect (cli, &client)))
        return rc;
    ef_client_set_max_inflight (client, S_INFLIGHT);
    s_produce_t self = {.client = client,
                        .stream = pos[0],
                        .type = ef_str (type),
                        .source = ef_str (source),
                        .event_id = ef_str (event_id),
                        .max_payload = cli_max_payload (client),
                        .timeout_ms = cli->timeout_ms,
                        .retry_for_ms = (int)retry_for * 1000,
                        .retry_max_ms = cli->reconnect_max_ms};
    if (batch > cli_max_batch (client))
        batch = cli_max_batch (client);
    uint64_t max_message = cli_max_message (client);
    self.frame_budget = max_message > 2 * S_REQUEST_OVERHEAD
                            ? max_message - S_REQUEST_OVERHEAD
                            : max_message / 2;
    uint64_t t0 = ef_time_mono_ns ();
    int stopped = 0; /* exit code of a run cut short, or 0 */
    int err = s_setup (&self, (uint32_t)batch);
    if (err)
        stopped = cli_fail (NULL, err, "cannot prepare the batches");
    else if (payload) {
        stopped = s_check_payload (payload, strlen (payload), self.max_payload,
                                   "PAYLOAD");
        if (!stopped && (err = s_add (&self, payload, strlen (payload), 1)))
            stopped = cli_fail (self.client, err, "cannot publish");
    } else
        stopped = s_from_stdin (&self);
    s_finish (&self);
    double secs = (double)(ef_time_mono_ns () - t0) / 1e9;

    if (!payload || batch_arg || self.retries)
        fprintf (stderr,
                 "produced %" PRIu64 " events (%" PRIu64 " duplicates, %" PRIu64
                 " rejected) in %.3f s\n",
                 self.sent, self.duplicates, self.rejected, secs);
    if (self.retries)
        cli_error ("%" PRIu64 " requests were sent again; %" PRIu64
                   " of the duplicates had been stored by an earlier try",
                   self.retries, self.retried_duplicates);
    if (self.unavailable)
        cli_error ("%" PRIu64 " events got no answer from %s: %s",
                   self.unanswered, cli->endpoint, self.unavailable_why);

    if (stopped == CLI_EXIT_USAGE)
        rc = CLI_EXIT_USAGE;
    else if (self.unavailable || stopped == CLI_EXIT_UNAVAILABLE)
        rc = CLI_EXIT_UNAVAILABLE;
    else if (stopped || self.rejected || self.write_error)
        rc = CLI_EXIT_REFUSED;
    else
        rc = CLI_EXIT_OK;
    if (self.write_error)
        cli_error ("cannot write the output");
    s_teardown (&self);
    ef_client_destroy (&client);
    return rc;
}
