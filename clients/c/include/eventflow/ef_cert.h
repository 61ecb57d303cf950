/*  ef_cert.h: CurveZMQ key pairs in files, as EventFlow's processes share
    them. A certificate file holds
        public-key = <40 characters of Z85>
        secret-key = <40 characters of Z85>     (absent in a .pub file)
    with '#' comments; files holding a secret are written mode 0600.
    Thread-safety: pure functions. */
#ifndef EF_CERT_H
#define EF_CERT_H

#ifdef __cplusplus
extern "C" {
#endif

#define EF_Z85_KEY_LEN 40

typedef struct {
    char public_key[EF_Z85_KEY_LEN + 1];
    char secret_key[EF_Z85_KEY_LEN + 1]; /* "" when only public */
} ef_cert_t;

/*  A new key pair. 0 or EF_EINTERNAL. */
int ef_cert_generate (ef_cert_t *cert);
/*  Read a certificate (or a public-key file). 0, EF_ENOTFOUND (no file),
    EF_EINVAL (malformed). */
int ef_cert_load (const char *path, ef_cert_t *cert);
/*  Write cert to path atomically: with its secret (mode 0600) or, with
    public_only, just the public key (mode 0644). 0 or EF_ESTORE. */
int ef_cert_save (const char *path, const ef_cert_t *cert, int public_only);

/*  The proof that a client key's holder binds it to an org, which
    CLIENTKEY_ADD requires (schemas/protocol.md §6.4):
        k     = crypto_box_beforenm (peer public key, own secret key)
        mac   = HMAC-SHA-256 (key k, "eventflow-clientkey-v1" || org_id)
        proof = mac as 64 lower-case hex digits
    The holder computes it with its secret key and the broker's public
    key; the broker recomputes it with its own secret key and the client's
    public key (the same k, by Diffie-Hellman), so only the holder of the
    client's secret key (or the broker) can make it, for this broker and
    this org only. Keys are Z85 (40 characters); org_id is the org's id as
    the broker shows it. out gets EF_CERT_PROOF_LEN + 1 bytes. 0 or
    EF_EINVAL (a malformed or weak key). */
#define EF_CERT_PROOF_LEN 64
int ef_cert_proof (const char *secret_z85, const char *peer_public_z85,
                   const char *org_id, char *out);

#ifdef __cplusplus
}
#endif
#endif
