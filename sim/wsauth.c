#include "wsauth.h"

#include <stdio.h>

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
