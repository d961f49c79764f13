/*
 * api_web.c - the operator page on the API's port: its files from the table built into depotd (web.h), answered
 * on the paths no API route has, and GET /api/v1/me, the page's first call after sign-in (what to show).
 *
 * The files are public: the page holds no secret, everything it shows comes from /api/v1 with the operator's
 * token. They are revalidated on every load (no-cache) and the ETag makes that a 304, so a new depotd serves
 * its new page at once without a stale script in some browser's cache.
 *
 * Thread: the loop thread only.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "web.h"

/* The page loads only its own files and talks only to this origin: an injected script or style from anywhere
 * else is refused by the browser, and no other site may frame the page (clickjacking the dispatcher's buttons). */
static const char *const page_headers[][2] = {
    {"content-security-policy:",
     "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
     "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
    {"referrer-policy:", "no-referrer"},
    {"x-frame-options:", "DENY"},
};

bool api_web_headers(struct lws *wsi, unsigned char **p, unsigned char *end)
{
    for (size_t i = 0; i < sizeof page_headers / sizeof page_headers[0]; i++)
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)page_headers[i][0],
                                        (const unsigned char *)page_headers[i][1], (int)strlen(page_headers[i][1]),
                                        p, end))
            return false;
    return true;
}

/* If-None-Match (RFC 9110 13.1.2): "*", or a list of tags compared weakly (W/ ignored). A header too long to
 * copy matches nothing: the client gets the bytes, which is always correct. */
static bool none_match(struct api_req *r, const char *etag)
{
    char h[512];
    if (lws_hdr_copy(r->wsi, h, sizeof h, WSI_TOKEN_HTTP_IF_NONE_MATCH) <= 0) return false;
    size_t want = strlen(etag);
    for (char *s = h; *s;) {
        s += strspn(s, " \t,");
        size_t n = strcspn(s, ",");
        size_t m = n;
        while (m && (s[m - 1] == ' ' || s[m - 1] == '\t')) m--;
        char *tag = s;
        if (m >= 2 && strncmp(tag, "W/", 2) == 0) tag += 2, m -= 2;
        if ((m == 1 && tag[0] == '*') || (m == want && memcmp(tag, etag, want) == 0)) return true;
        s += n;
    }
    return false;
}

bool api_web_answer(struct api_req *r)
{
    const struct web_asset *w = web_find(r->path);
    if (!w) return false;
    r->page = true;
    if (r->method != API_GET && r->method != API_HEAD) {
        snprintf(r->allow, sizeof r->allow, "GET, HEAD");
        api_problem(r, 405, NULL, "%s is not allowed on %s (allowed: %s)", r->method_name, r->path, r->allow);
        return true;
    }
    r->cache_control = "no-cache";
    snprintf(r->etag, sizeof r->etag, "%s", w->etag);
    if (none_match(r, w->etag)) {
        api_reply_text(r, 304, w->content_type, "", 0);
        return true;
    }
    /* HEAD too: writeable() sends only the headers, whose Content-Length is then the one GET would have. */
    api_reply_text(r, 200, w->content_type, (const char *)w->data, w->len);
    return true;
}

void api_get_me(struct api *a, struct api_req *r, const cJSON *body)
{
    const struct api_token *t = r->token;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", t->name);
    cJSON_AddStringToObject(o, "role", api_role_name(t->role));
    if (t->fleet[0]) cJSON_AddStringToObject(o, "fleet", t->fleet);
    else cJSON_AddNullToObject(o, "fleet");
    cJSON_AddBoolToObject(o, "manage_tokens", t->manage_tokens);
    api_reply(r, 200, o);
}
