/*
 * certs.c - the depot CA signing a station's certificate (OCPP 2.0.1 A02/A03: SignCertificate, then
 * CertificateSigned). A station asks for its own certificate only: the CSR must carry a valid signature and its
 * subject CN must be the station id; the certificate is a client certificate (profile 3) for `station_cert_days`.
 * The CA files are read at each request, so a renewed CA needs no restart. Loop thread (an EC or RSA signature is
 * well under a millisecond; reading two small files too).
 */
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "depot.h"

static X509 *read_cert(const char *file)
{
    FILE *f = fopen(file, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f) fclose(f);
    return x;
}

static EVP_PKEY *read_key(const char *file)
{
    FILE *f = fopen(file, "r");
    EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f) fclose(f);
    return k;
}

static bool cn_is(X509_NAME *name, const char *station)
{
    char cn[128];
    int n = X509_NAME_get_text_by_NID(name, NID_commonName, cn, sizeof cn);
    return n > 0 && (size_t)n == strlen(cn) && strcmp(cn, station) == 0;
}

static int add_ext(X509 *cert, X509 *ca, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, ca, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = ext && X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* The certificate for req's subject and key, issued by ca with ca_key. */
static X509 *issue(X509_REQ *req, EVP_PKEY *req_key, X509 *ca, EVP_PKEY *ca_key, int days)
{
    X509 *cert = X509_new();
    BIGNUM *bn = BN_new();
    bool ok = cert && bn && X509_set_version(cert, 2) && BN_rand(bn, 120, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
              BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) && X509_set_issuer_name(cert, X509_get_subject_name(ca)) &&
              X509_set_subject_name(cert, X509_REQ_get_subject_name(req)) && X509_set_pubkey(cert, req_key) &&
              X509_gmtime_adj(X509_getm_notBefore(cert), -300) &&
              X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 86400) &&
              add_ext(cert, ca, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
              add_ext(cert, ca, NID_key_usage, "critical,digitalSignature,keyAgreement") == 0 &&
              add_ext(cert, ca, NID_ext_key_usage, "clientAuth") == 0 &&
              add_ext(cert, ca, NID_subject_key_identifier, "hash") == 0 &&
              add_ext(cert, ca, NID_authority_key_identifier, "keyid:always") == 0 &&
              X509_sign(cert, ca_key, EVP_sha256()) > 0;
    BN_free(bn);
    if (!ok) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

static char *chain_pem(X509 *leaf, X509 *ca)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *out = NULL;
    if (b && PEM_write_bio_X509(b, leaf) && PEM_write_bio_X509(b, ca)) {
        char *p;
        long n = BIO_get_mem_data(b, &p);
        out = malloc((size_t)n + 1);
        if (out) {
            memcpy(out, p, (size_t)n);
            out[n] = 0;
        }
    }
    BIO_free(b);
    return out;
}

char *depot_cert_sign(const struct config *cfg, const char *csr_pem, const char *station, char *why, size_t why_len)
{
    if (!cfg->station_ca_cert_file[0]) {
        snprintf(why, why_len, "no depot CA configured (station_ca_cert_file, station_ca_key_file)");
        return NULL;
    }
    char *out = NULL;
    X509 *ca = read_cert(cfg->station_ca_cert_file);
    EVP_PKEY *ca_key = read_key(cfg->station_ca_key_file);
    BIO *b = BIO_new_mem_buf(csr_pem, -1);
    X509_REQ *req = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
    EVP_PKEY *req_key = req ? X509_REQ_get0_pubkey(req) : NULL;
    X509 *cert = NULL;
    if (!ca || !ca_key || X509_check_private_key(ca, ca_key) != 1)
        snprintf(why, why_len, "the depot CA (station_ca_cert_file, station_ca_key_file) does not load or match");
    else if (!req || !req_key)
        snprintf(why, why_len, "csr: not a PEM certificate signing request");
    else if (X509_REQ_verify(req, req_key) != 1)
        snprintf(why, why_len, "csr: its signature does not verify");
    else if (!cn_is(X509_REQ_get_subject_name(req), station))
        snprintf(why, why_len, "csr: its subject CN is not the station id %s", station);
    else if (!(cert = issue(req, req_key, ca, ca_key, cfg->station_cert_days)))
        snprintf(why, why_len, "the depot CA could not sign it");
    else if (!(out = chain_pem(cert, ca)))
        snprintf(why, why_len, "out of memory");
    ERR_clear_error();
    X509_free(cert);
    X509_REQ_free(req);
    BIO_free(b);
    EVP_PKEY_free(ca_key);
    X509_free(ca);
    return out;
}
