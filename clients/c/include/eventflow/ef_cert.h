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

#ifdef __cplusplus
}
#endif
#endif
