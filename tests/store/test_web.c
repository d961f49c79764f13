/* web_find over the table built from web/meson.build's list: what the page's paths find, what they never find,
 * and that the table is whole (every asset has bytes, a type and a tag that follows its bytes). */
#include <stdbool.h>
#include <string.h>

#include "check.h"
#include "web.h"

int main(void)
{
    const struct web_asset *index = web_find("/index.html");
    CHECK(index != NULL, "/index.html is built in");
    CHECK(web_find("/") == index, "/ is /index.html");
    CHECK(index && strcmp(index->content_type, "text/html; charset=utf-8") == 0, "served as HTML");
    CHECK(web_find("/?token=x") == index && web_find("/index.html?v=2") == index, "a query string is ignored");
    const struct web_asset *app = web_find("/js/app.js");
    CHECK(app && strcmp(app->content_type, "text/javascript; charset=utf-8") == 0, "/js/app.js is JavaScript");
    CHECK(web_find("/vendor/uplot.js") && web_find("/vendor/uplot.css"), "uPlot is vendored in");

    static const char *const never[] = {
        "", "index.html", "/index", "/index.html/", "/INDEX.HTML", "/nope.html", "/js", "/js/", "/js/../index.html",
        "/../index.html", "/..", "/js/app.js/..", "/meson.build", "/api/v1/me", "//index.html", NULL,
    };
    for (int i = 0; never[i]; i++) CHECK(web_find(never[i]) == NULL, "\"%s\" is not found", never[i]);
    CHECK(web_find(NULL) == NULL, "NULL is not found");
    CHECK(web_find("/index.html?a=..") == index, "\"..\" in the query is not the path's");

    CHECK(web_n_assets >= 12, "%zu assets", web_n_assets);
    for (size_t i = 0; i < web_n_assets; i++) {
        const struct web_asset *w = &web_assets[i];
        CHECK(web_find(w->path) == w, "%s finds itself", w->path);
        CHECK(w->len > 0 && w->data, "%s has %zu bytes", w->path, w->len);
        CHECK(w->content_type && w->content_type[0], "%s has a type (%s)", w->path, w->content_type);
        size_t n = strlen(w->etag);
        CHECK(n == 22 && w->etag[0] == '"' && w->etag[n - 1] == '"', "%s: a quoted strong tag %s", w->path, w->etag);
        /* The tag is of the bytes: two files tell apart exactly when their bytes do (while the page is being
         * written several files are the same placeholder, and then share their tag, as they should). */
        for (size_t j = 0; j < i; j++) {
            const struct web_asset *v = &web_assets[j];
            bool same = v->len == w->len && memcmp(v->data, w->data, w->len) == 0;
            CHECK(same == (strcmp(v->etag, w->etag) == 0), "%s and %s: %s bytes, %s tags", v->path, w->path,
                  same ? "same" : "different", strcmp(v->etag, w->etag) == 0 ? "same" : "different");
            CHECK(strcmp(v->path, w->path) != 0, "%s is listed once", w->path);
        }
    }
    return CHECK_DONE();
}
