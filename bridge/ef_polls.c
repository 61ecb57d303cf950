/*  ef_polls.c: long-poll admission (see ef_polls.h). One slot per
    credential with polls waiting, in an array of `total` slots (there can
    be no more distinct credentials waiting than polls), scanned under a
    mutex: admission is not on any hot path. */
#include "ef_polls.h"
#include "eventflow/ef_error.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t hash;
    uint32_t count; /* 0: free */
} s_slot_t;

struct ef_polls {
    pthread_mutex_t mu;
    uint32_t total, per_credential, waiting;
    s_slot_t *slots; /* total of them */
    unsigned char key[crypto_shorthash_KEYBYTES];
};

ef_polls_t *
ef_polls_new (uint32_t total, uint32_t per_credential)
{
    if (total < 1 || per_credential < 1 || sodium_init () < 0)
        return NULL;
    ef_polls_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->slots = calloc (total, sizeof *self->slots);
    if (!self->slots) {
        free (self);
        return NULL;
    }
    self->total = total;
    self->per_credential = per_credential;
    crypto_shorthash_keygen (self->key);
    pthread_mutex_init (&self->mu, NULL);
    return self;
}

void
ef_polls_destroy (ef_polls_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ef_polls_t *self = *self_p;
    pthread_mutex_destroy (&self->mu);
    free (self->slots);
    free (self);
    *self_p = NULL;
}

int
ef_polls_enter (ef_polls_t *self, ef_str_t credential, uint64_t *ticket)
{
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash (
        out, (const unsigned char *)(credential.ptr ? credential.ptr : ""),
        credential.ptr ? credential.len : 0, self->key);
    uint64_t hash;
    memcpy (&hash, out, sizeof hash);
    int rc = 0;
    pthread_mutex_lock (&self->mu);
    s_slot_t *mine = NULL, *free_slot = NULL;
    for (uint32_t i = 0; i < self->total && !mine; i++) {
        s_slot_t *s = &self->slots[i];
        if (s->count && s->hash == hash)
            mine = s;
        else if (!s->count && !free_slot)
            free_slot = s;
    }
    if (mine && mine->count >= self->per_credential)
        rc = EF_ERATE;
    else if (self->waiting >= self->total || (!mine && !free_slot))
        rc = EF_EUNAVAILABLE;
    else {
        if (!mine) {
            mine = free_slot;
            mine->hash = hash;
        }
        mine->count++;
        self->waiting++;
        *ticket = hash;
    }
    pthread_mutex_unlock (&self->mu);
    return rc;
}

void
ef_polls_leave (ef_polls_t *self, uint64_t ticket)
{
    pthread_mutex_lock (&self->mu);
    for (uint32_t i = 0; i < self->total; i++) {
        s_slot_t *s = &self->slots[i];
        if (s->count && s->hash == ticket) {
            s->count--;
            self->waiting--;
            break;
        }
    }
    pthread_mutex_unlock (&self->mu);
}

uint32_t
ef_polls_count (ef_polls_t *self)
{
    pthread_mutex_lock (&self->mu);
    uint32_t n = self->waiting;
    pthread_mutex_unlock (&self->mu);
    return n;
}
