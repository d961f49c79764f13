/*
 * web.c - finding the operator page's files in the table scripts/embed_web.py generates.
 */
#include <string.h>

#include "web.h"

const struct web_asset *web_find(const char *path)
{
    if (!path || path[0] != '/') return NULL;
    size_t n = strcspn(path, "?");
    /* Only listed paths are ever found, so this is belt and braces: no name with ".." is listed, and a request
     * that carries one is someone probing for files, not the page asking for its own. */
    const char *dots = strstr(path, "..");
    if (dots && (size_t)(dots - path) < n) return NULL;
    if (n == 1) {
        path = "/index.html";
        n = strlen(path);
    }
    for (size_t i = 0; i < web_n_assets; i++)
        if (strlen(web_assets[i].path) == n && memcmp(web_assets[i].path, path, n) == 0) return &web_assets[i];
    return NULL;
}
