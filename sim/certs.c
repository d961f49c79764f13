/*
 * certs.c - a simulated station's own certificate (OCPP 2.0.1 A02/A03): on a TriggerMessage
 * SignChargingStationCertificate it makes an EC P-256 key and a CSR whose subject CN is its station id, sends
 * SignCertificate, and takes the chain of CertificateSigned when its first certificate is for that key.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static char *bio_text(BIO *b)
{
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *out = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (out) {
        memcpy(out, p, (size_t)n);
        out[n] = 0;
    }
    return out;
}

char *sim_cert_csr(struct sim_station *st)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509_REQ *req = X509_REQ_new();
    X509_NAME *name = X509_NAME_new();
    BIO *kb = BIO_new(BIO_s_mem()), *rb = BIO_new(BIO_s_mem());
    char *csr = NULL;
    if (key && req && name && kb && rb &&
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)st->cfg->id, -1, -1, 0) &&
        X509_REQ_set_subject_name(req, name) && X509_REQ_set_pubkey(req, key) && X509_REQ_sign(req, key, EVP_sha256()) &&
        PEM_write_bio_X509_REQ(rb, req) && PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL)) {
        csr = bio_text(rb);
        free(st->cert_key_pem);
        st->cert_key_pem = bio_text(kb);
    }
    BIO_free(kb);
    BIO_free(rb);
    X509_NAME_free(name);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    return csr;
}

bool sim_cert_install(struct sim_station *st, const char *chain)
{
    if (!st->cert_key_pem || !chain) return false;
    BIO *cb = BIO_new_mem_buf(chain, -1), *kb = BIO_new_mem_buf(st->cert_key_pem, -1);
    X509 *leaf = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    EVP_PKEY *key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    bool ok = leaf && key && X509_check_private_key(leaf, key) == 1;
    if (ok) {
        free(st->cert_chain_pem);
        st->cert_chain_pem = strdup(chain);
    }
    X509_free(leaf);
    EVP_PKEY_free(key);
    BIO_free(cb);
    BIO_free(kb);
    return ok && st->cert_chain_pem;
}
