/*  ef_cert.c: CurveZMQ certificate files (see ef_cert.h). */
#include "eventflow/ef_cert.h"
#include "eventflow/ef_error.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

int
ef_cert_generate (ef_cert_t *cert)
{
    memset (cert, 0, sizeof *cert);
    return zmq_curve_keypair (cert->public_key, cert->secret_key) ? EF_EINTERNAL
                                                                  : 0;
}

static int
s_key (const char *v, char *out)
{
    uint8_t raw[32];
    char buf[EF_Z85_KEY_LEN + 1];
    size_t n = strcspn (v, " \t\r\n");
    if (n != EF_Z85_KEY_LEN)
        return EF_EINVAL;
    memcpy (buf, v, n);
    buf[n] = 0;
    if (!zmq_z85_decode (raw, buf))
        return EF_EINVAL;
    memcpy (out, buf, n + 1);
    return 0;
}

int
ef_cert_load (const char *path, ef_cert_t *cert)
{
    memset (cert, 0, sizeof *cert);
    FILE *f = fopen (path, "r");
    if (!f)
        return errno == ENOENT ? EF_ENOTFOUND : EF_EINVAL;
    char line[256];
    int rc = 0;
    while (rc == 0 && fgets (line, sizeof line, f)) {
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '#' || *s == '\n' || *s == 0)
            continue;
        char *eq = strchr (s, '=');
        if (!eq) {
            rc = EF_EINVAL;
            break;
        }
        char *v = eq + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (strncmp (s, "public-key", 10) == 0)
            rc = s_key (v, cert->public_key);
        else if (strncmp (s, "secret-key", 10) == 0)
            rc = s_key (v, cert->secret_key);
        else
            rc = EF_EINVAL;
    }
    fclose (f);
    if (rc == 0 && !cert->public_key[0])
        rc = EF_EINVAL;
    return rc;
}

int
ef_cert_save (const char *path, const ef_cert_t *cert, int public_only)
{
    char tmp[4096];
    snprintf (tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid ());
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                   public_only ? 0644 : 0600);
    if (fd < 0)
        return EF_ESTORE;
    FILE *f = fdopen (fd, "w");
    if (!f) {
        close (fd);
        return EF_ESTORE;
    }
    fprintf (f, "# EventFlow CurveZMQ %s\npublic-key = %s\n",
             public_only ? "public key" : "certificate (keep it secret)",
             cert->public_key);
    if (!public_only)
        fprintf (f, "secret-key = %s\n", cert->secret_key);
    int bad = fflush (f) != 0 || fsync (fd) != 0;
    bad |= fclose (f) != 0;
    if (bad || rename (tmp, path)) {
        unlink (tmp);
        return EF_ESTORE;
    }
    return 0;
}

int
ef_cert_proof (const char *secret_z85, const char *peer_public_z85,
               const char *org_id, char *out)
{
    static const char tag[] = "eventflow-clientkey-v1";
    uint8_t sk[32], pk[32], k[crypto_box_BEFORENMBYTES];
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    out[0] = 0;
    if (!secret_z85 || !peer_public_z85 || !org_id ||
        strlen (secret_z85) != EF_Z85_KEY_LEN ||
        strlen (peer_public_z85) != EF_Z85_KEY_LEN ||
        !zmq_z85_decode (sk, secret_z85) ||
        !zmq_z85_decode (pk, peer_public_z85))
        return EF_EINVAL;
    /* fails for a low-order public key, whose shared secret is all zero */
    int rc = crypto_box_beforenm (k, pk, sk);
    sodium_memzero (sk, sizeof sk);
    if (rc)
        return EF_EINVAL;
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init (&st, k, sizeof k);
    crypto_auth_hmacsha256_update (&st, (const uint8_t *)tag, sizeof tag - 1);
    crypto_auth_hmacsha256_update (&st, (const uint8_t *)org_id,
                                   strlen (org_id));
    crypto_auth_hmacsha256_final (&st, mac);
    sodium_memzero (k, sizeof k);
    sodium_bin2hex (out, EF_CERT_PROOF_LEN + 1, mac, sizeof mac);
    return 0;
}
