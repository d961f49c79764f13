/*
 * tls.c - the wss:// OCPP listener (security profiles 2 and 3): one lws vhost with OpenSSL, TLS 1.2 and 1.3
 * only, the whitepaper's cipher suites, client certificates checked per station, certificates reloaded in
 * place on SIGHUP; and the same versions, suites and reload for the JSON API's https listener. Loop thread only.
 *
 * Every TLS client is asked for a certificate but none is required at the TLS layer: a profile-2 station has
 * none, and which profile applies is known only from the station id in the URL. The verdict of the chain check
 * is kept by OpenSSL (SSL_get_verify_result) and judged in the handshake filter (depot_tls_check_client).
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "depot.h"
#include "log.h"

static void ssl_error(char *err, size_t err_len, const char *what, const char *file)
{
    char buf[200] = "";
    unsigned long e = ERR_get_error();
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    snprintf(err, err_len, "%s %s: %s", what, file, buf[0] ? buf : strerror(errno));
}

/* Accepts every chain at the TLS layer; OpenSSL still records the first failure for SSL_get_verify_result. */
static int keep_verdict(int preverify_ok, X509_STORE_CTX *x509)
{
    (void)preverify_ok;
    (void)x509;
    return 1;
}

/* Loads a certificate chain, its key and (ca, may be "") client CAs into ctx; nothing changes unless all of them
 * load and match. keys names the config keys for the messages ("tls" or "api_tls"). */
static int load_into(SSL_CTX *ctx, const char *cert, const char *key, const char *ca, const char *keys, char *err,
                     size_t err_len)
{
    SSL_CTX *probe = SSL_CTX_new(TLS_server_method());
    if (!probe) {
        ssl_error(err, err_len, "cannot create a TLS context for", cert);
        return -1;
    }
    int rc = -1;
    X509_STORE *cas = NULL;
    STACK_OF(X509_NAME) *names = NULL;
    char what[64];
    snprintf(what, sizeof what, "%s_cert_file: cannot load", keys);
    if (SSL_CTX_use_certificate_chain_file(probe, cert) != 1) {
        ssl_error(err, err_len, what, cert);
        goto out;
    }
    snprintf(what, sizeof what, "%s_key_file: cannot load", keys);
    if (SSL_CTX_use_PrivateKey_file(probe, key, SSL_FILETYPE_PEM) != 1) {
        ssl_error(err, err_len, what, key);
        goto out;
    }
    if (SSL_CTX_check_private_key(probe) != 1) {
        snprintf(err, err_len, "%s_key_file: %s is not the key of %s", keys, key, cert);
        goto out;
    }
    if (ca[0]) {
        cas = X509_STORE_new();
        names = SSL_load_client_CA_file(ca);
        if (!cas || X509_STORE_load_file(cas, ca) != 1 || !names) {
            ssl_error(err, err_len, "tls_ca_file: cannot load", ca);
            goto out;
        }
    }
    /* Loaded twice, the second time into the live context: a failure here is not expected any more. */
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 || SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        ssl_error(err, err_len, "cannot apply", cert);
        goto out;
    }
    if (cas) {
        SSL_CTX_set_cert_store(ctx, cas); /* frees the old store */
        SSL_CTX_set_client_CA_list(ctx, names);
        cas = NULL;
        names = NULL;
    }
    rc = 0;
out:
    X509_STORE_free(cas);
    if (names) sk_X509_NAME_pop_free(names, X509_NAME_free);
    SSL_CTX_free(probe);
    return rc;
}

int depot_tls_setup_ctx(struct depot *d, void *ssl_ctx, bool api)
{
    SSL_CTX *ctx = ssl_ctx;
    /* OCPP 2.0.1 security whitepaper: TLS 1.2 or above, and no suite without authentication or AEAD. */
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_set_cipher_list(ctx, d->cfg.tls_ciphers) != 1) {
        log_error("tls", NULL, "tls_ciphers: OpenSSL knows none of \"%s\"", d->cfg.tls_ciphers);
        return -1;
    }
    char err[300];
    if (api) {
        if (load_into(ctx, d->cfg.api_tls_cert_file, d->cfg.api_tls_key_file, "", "api_tls", err, sizeof err)) {
            log_error("tls", NULL, "%s", err);
            return -1;
        }
        d->api_tls_ctx = ctx;
        return 0;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, keep_verdict);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"depotd", 6);
    if (load_into(ctx, d->cfg.tls_cert_file, d->cfg.tls_key_file, d->cfg.tls_ca_file, "tls", err, sizeof err)) {
        log_error("tls", NULL, "%s", err);
        return -1;
    }
    d->tls_ctx = ctx;
    return 0;
}

int depot_tls_start(struct depot *d, const struct lws_protocols *protocols, char *err, size_t err_len)
{
    if (!d->cfg.tls_cert_file[0]) return 0;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = d->cfg.tls_port;
    info.iface = strcmp(d->cfg.listen_address, "0.0.0.0") == 0 ? NULL : d->cfg.listen_address;
    info.protocols = protocols;
    info.vhost_name = "depotd-tls";
    info.retry_and_idle_policy = &depot_no_validity;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_VALIDATE_UTF8;
    /* lws loads these first (and fails the vhost if they do not load); depot_tls_setup_ctx then sets the rest. */
    info.ssl_cert_filepath = d->cfg.tls_cert_file;
    info.ssl_private_key_filepath = d->cfg.tls_key_file;
    info.ka_time = 60;
    info.ka_probes = 3;
    info.ka_interval = 10;
    d->tls_vhost = lws_create_vhost(d->lws, &info);
    if (!d->tls_vhost || !d->tls_ctx) {
        snprintf(err, err_len, "cannot open the TLS listener on %s:%d (tls_cert_file, tls_key_file, tls_ca_file, "
                 "tls_ciphers: see the log above)", d->cfg.listen_address, d->cfg.tls_port);
        return -1;
    }
    log_info("ocpp", NULL, "listening (TLS) on %s:%d%s{stationId} (wss://, security profiles 2 and 3)",
             d->cfg.listen_address, lws_get_vhost_listen_port(d->tls_vhost), d->cfg.ocpp_path);
    return 0;
}

int depot_tls_reload(struct depot *d, char *err, size_t err_len)
{
    if (!d->tls_ctx && !d->api_tls_ctx) {
        snprintf(err, err_len, "no TLS listener");
        return -1;
    }
    /* SSL objects of open connections hold their own reference to the old certificate: nothing is dropped. */
    if (d->tls_ctx && load_into(d->tls_ctx, d->cfg.tls_cert_file, d->cfg.tls_key_file, d->cfg.tls_ca_file, "tls", err,
                                err_len))
        return -1;
    if (d->api_tls_ctx && load_into(d->api_tls_ctx, d->cfg.api_tls_cert_file, d->cfg.api_tls_key_file, "", "api_tls",
                                    err, err_len))
        return -1;
    return 0;
}

/* The subject CN of cert into out; -1 if it has none. */
static int common_name(X509 *cert, char *out, size_t out_len)
{
    X509_NAME *name = X509_get_subject_name(cert);
    int i = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
    if (i < 0) return -1;
    ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    const unsigned char *p = ASN1_STRING_get0_data(s);
    int n = ASN1_STRING_length(s);
    if (!p || n <= 0 || (size_t)n >= out_len || memchr(p, 0, (size_t)n)) return -1;
    memcpy(out, p, (size_t)n);
    out[n] = 0;
    return 0;
}

int depot_tls_check_client(struct lws *wsi, const char *station, char *why, size_t why_len)
{
    SSL *ssl = lws_get_ssl(wsi);
    X509 *cert = ssl ? SSL_get1_peer_certificate(ssl) : NULL;
    if (!cert) {
        snprintf(why, why_len, "security profile 3: no client certificate");
        return -1;
    }
    int rc = -1;
    long verdict = SSL_get_verify_result(ssl);
    char cn[128];
    if (verdict != X509_V_OK)
        snprintf(why, why_len, "security profile 3: client certificate not accepted: %s",
                 X509_verify_cert_error_string(verdict));
    else if (common_name(cert, cn, sizeof cn))
        snprintf(why, why_len, "security profile 3: client certificate without a subject CN");
    else if (strcmp(cn, station) != 0)
        snprintf(why, why_len, "security profile 3: client certificate issued to \"%.60s\", not to this station", cn);
    else
        rc = 0;
    X509_free(cert);
    return rc;
}
