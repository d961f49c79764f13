/* One HTTP(S) request with hard limits: TLS verified, connect and total timeouts, a low-speed floor against a
 * slow-drip body, a body size cap enforced while receiving, and a classification of every way it can fail.
 * curl_global_init() is the program's job (it is not thread-safe); this file never calls it. */
#include "internal.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sink {
    char *buf;
    size_t len, cap, max;
    bool over;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *userp)
{
    struct sink *s = userp;
    size_t n = size * nmemb;
    if (n > s->max - s->len) { /* stop as soon as the cap is crossed, not after buffering the rest */
        s->over = true;
        return 0;
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 16384;
        while (cap < s->len + n + 1)
            cap *= 2;
        if (cap > s->max + 1)
            cap = s->max + 1;
        char *b = realloc(s->buf, cap);
        if (!b)
            return 0;
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return n;
}

static int set_fail(struct tariff_fetch_result *res, enum tariff_outcome o, const char *fmt, const char *detail)
{
    res->outcome = o;
    snprintf(res->error, sizeof res->error, fmt, detail);
    return -1;
}

/* Polled by libcurl during a transfer (about once a second while idle): lets a stopping program end a fetch
 * that hangs instead of waiting out its timeout. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    const atomic_int *cancel = arg;
    return cancel && atomic_load(cancel) ? 1 : 0;
}

/* Everything the request needs: limits, TLS checks, redirects that never downgrade, the body's cap. */
static void set_options(CURL *h, const struct tariff_http_cfg *cfg, const struct tariff_http_req *rq, long budget_ms,
                        struct sink *sink, char *errbuf, struct curl_slist *hdrs)
{
    bool https = strncmp(rq->url, "https://", 8) == 0;
    curl_easy_setopt(h, CURLOPT_URL, rq->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* worker thread: no SIGALRM for DNS timeouts */
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http,https"); /* never downgrade */
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms < budget_ms ? cfg->connect_timeout_ms
                                                                                          : budget_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, budget_ms);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, cfg->low_speed_bps);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, cfg->low_speed_time_s);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cfg->max_body); /* early refusal by Content-Length */
    curl_easy_setopt(h, CURLOPT_USERAGENT, cfg->user_agent);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (cfg->ca_file[0])
        curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* decoded bytes count against the cap: no zip bombs */
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (rq->cancel) {
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)rq->cancel);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    if (rq->post)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->post);
}

/* What curl's result says about the transport: 0 when it went through, else -1 with res filled. */
static int transport_verdict(CURLcode cc, const char *errbuf, bool over, struct tariff_fetch_result *res)
{
    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(cc);
    switch (cc) {
    case CURLE_OK:
        return 0;
    case CURLE_OPERATION_TIMEDOUT:
        set_fail(res, TARIFF_ERR_TIMEOUT, "timed out: %s", why);
        return -1;
    case CURLE_FILESIZE_EXCEEDED:
        set_fail(res, TARIFF_ERR_TOO_LARGE, "%s", "response larger than http.max_body_bytes");
        return -1;
    case CURLE_WRITE_ERROR:
        set_fail(res, over ? TARIFF_ERR_TOO_LARGE : TARIFF_ERR_TRANSPORT, "%s",
                 over ? "response larger than http.max_body_bytes" : "out of memory");
        return -1;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
        set_fail(res, TARIFF_ERR_TRANSPORT, "TLS: %s", why);
        return -1;
    case CURLE_PARTIAL_FILE:
        set_fail(res, TARIFF_ERR_TRANSPORT, "truncated body: %s", why);
        return -1;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        set_fail(res, TARIFF_ERR_CONFIG, "bad URL: %s", why);
        return -1;
    default:
        set_fail(res, TARIFF_ERR_TRANSPORT, "transport: %s", why);
        return -1;
    }
}

/* The HTTP status's verdict: 0 for a 2xx, else -1 with res filled (and Retry-After kept for 429 and 503). */
static int http_verdict(struct tariff_fetch_result *res, curl_off_t retry_s)
{
    long st = res->http_status;
    char code[16];
    snprintf(code, sizeof code, "%ld", st);
    if (st == 429 || st == 503)
        res->retry_after_ms = (int64_t)retry_s * 1000;
    if (st == 429)
        return set_fail(res, TARIFF_ERR_RATE_LIMITED, "HTTP %s (rate limited)", code);
    if (st >= 500)
        return set_fail(res, TARIFF_ERR_HTTP, "HTTP %s from provider", code);
    if (st >= 400)
        return set_fail(res, TARIFF_ERR_CONFIG, "HTTP %s: check the token, area or URL in the config", code);
    if (st < 200 || st >= 300)
        return set_fail(res, TARIFF_ERR_TRANSPORT, "unexpected HTTP %s", code);
    return 0;
}

int tariff_http(const struct tariff_http_cfg *cfg, const struct tariff_http_req *rq, long budget_ms, char **body,
                size_t *len, struct tariff_fetch_result *res)
{
    struct sink sink = {.max = cfg->max_body};
    struct curl_slist *hdrs = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    int rc = -1;
    *body = NULL;
    *len = 0;
    res->duration_ms = 0;
    CURL *h = curl_easy_init();
    if (!h)
        return set_fail(res, TARIFF_ERR_TRANSPORT, "%s", "curl_easy_init failed");
    for (const char *const *hp = rq->headers; hp && *hp; hp++) {
        struct curl_slist *n = curl_slist_append(hdrs, *hp);
        if (!n)
            goto done;
        hdrs = n;
    }
    set_options(h, cfg, rq, budget_ms, &sink, errbuf, hdrs);
    CURLcode cc = curl_easy_perform(h);
    curl_off_t total_us = 0, retry_s = 0;
    curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &total_us);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->http_status);
    curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_s);
    res->duration_ms = (int64_t)(total_us / 1000);
    if (transport_verdict(cc, errbuf, sink.over, res))
        goto done;
    if (!http_verdict(res, retry_s)) {
        if (!sink.buf && !(sink.buf = calloc(1, 1)))
            goto done;
        *body = sink.buf;
        *len = sink.len;
        sink.buf = NULL;
        rc = 0;
    }
done:
    free(sink.buf);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return rc;
}
