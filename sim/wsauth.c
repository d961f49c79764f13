#include "wsauth.h"

#include <stdio.h>
#include <string.h>

bool sim_tls_option(int c, const char *arg, struct sim_tls *tls)
{
    char *dst = c == SIM_OPT_CA ? tls->ca : c == SIM_OPT_CERT ? tls->cert : c == SIM_OPT_KEY ? tls->key : NULL;
    if (!dst)
        return false;
    snprintf(dst, sizeof tls->ca, "%s", arg);
    return true;
}

int sim_tls_check(const struct sim_tls *tls)
{
    if (!tls->cert[0] != !tls->key[0]) {
        fprintf(stderr, "depotsim: --cert and --key go together\n");
        return -1;
    }
    if (!tls->on && (tls->ca[0] || tls->cert[0])) {
        fprintf(stderr, "depotsim: --ca, --cert and --key need a wss:// URL\n");
        return -1;
    }
    return 0;
}

void sim_tls_context(struct lws_context_creation_info *info, const struct sim_tls *tls)
{
    if (!tls->on)
        return;
    info->options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    if (tls->ca[0])
        info->client_ssl_ca_filepath = tls->ca;
    if (tls->cert[0]) {
        info->client_ssl_cert_filepath = tls->cert;
        info->client_ssl_private_key_filepath = tls->key;
    }
}

void sim_tls_connect(struct lws_client_connect_info *i, const struct sim_tls *tls)
{
    /* The CSMS certificate is checked: its chain against --ca and its name against the URL's host. */
    if (tls->on)
        i->ssl_connection = LCCSCF_USE_SSL;
}

int sim_ws_basic_auth(struct lws *wsi, const char *id, const char *password, void *in, size_t len)
{
    if (!password || !password[0])
        return 0;
    char cred[160], b64[240], hdr[260];
    int n = snprintf(cred, sizeof cred, "%s:%s", id, password);
    if (n < 0 || (size_t)n >= sizeof cred || lws_b64_encode_string(cred, n, b64, sizeof b64) < 0)
        return -1;
    int hl = snprintf(hdr, sizeof hdr, "Basic %s", b64);
    unsigned char **p = (unsigned char **)in, *end = (*p) + len;
    return lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, (unsigned char *)hdr, hl, p, end) ? -1 : 0;
}
