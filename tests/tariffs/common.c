#include "common.h"

#include <curl/curl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int t_failures, t_checks;

int t_done(void)
{
    printf("# %d checks, %d failed\n", t_checks, t_failures);
    return t_failures ? 1 : 0;
}

int64_t t_utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm) * 1000;
}

int t_load_be(const char *path, struct be_row *rows, int max)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[128];
    int n = 0;
    while (fgets(line, sizeof line, f) && n < max) {
        char *c = strchr(line, ',');
        if (!c || line[0] == 't')
            continue;
        *c = '\0';
        snprintf(rows[n].time, sizeof rows[n].time, "%.23s", line);
        rows[n++].price = strtod(c + 1, NULL);
    }
    fclose(f);
    return n;
}

int t_be_day(const struct be_row *rows, int n, const char *day, double *out, int max)
{
    int k = 0;
    for (int i = 0; i < n && k < max; i++)
        if (strncmp(rows[i].time, day, 9) == 0)
            out[k++] = rows[i].price;
    return k;
}

char *t_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long l = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)l + 1);
    if (b && fread(b, 1, (size_t)l, f) != (size_t)l) {
        free(b);
        b = NULL;
    }
    if (b) {
        b[l] = '\0';
        *len = (size_t)l;
    }
    fclose(f);
    return b;
}

int t_server_start(struct t_server *s, const char *script, const char *cert, const char *key, const char *ca)
{
    int fd[2];
    memset(s, 0, sizeof *s);
    snprintf(s->scheme, sizeof s->scheme, "%s", cert ? "https" : "http");
    snprintf(s->ca, sizeof s->ca, "%s", ca ? ca : "");
    if (pipe(fd) < 0)
        return -1;
    s->pid = fork();
    if (s->pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        if (cert)
            execl("/usr/bin/python3", "python3", script, "serve", "--cert", cert, "--key", key, (char *)NULL);
        else
            execl("/usr/bin/python3", "python3", script, "serve", (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    char buf[64] = "";
    size_t k = 0;
    struct pollfd p = {fd[0], POLLIN, 0};
    /* bounded: the server prints its port within a second; give it 15 on a loaded machine */
    for (int tries = 0; tries < 150 && !strchr(buf, '\n'); tries++) {
        if (poll(&p, 1, 100) > 0) {
            ssize_t r = read(fd[0], buf + k, sizeof buf - 1 - k);
            if (r <= 0)
                break;
            k += (size_t)r;
            buf[k] = '\0';
        }
    }
    close(fd[0]);
    if (sscanf(buf, "PORT %d", &s->port) != 1) {
        t_server_stop(s);
        return -1;
    }
    return 0;
}

void t_server_stop(struct t_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}

struct buf { char *p; size_t n; };
static size_t collect(char *d, size_t sz, size_t nm, void *u)
{
    struct buf *b = u;
    char *np = realloc(b->p, b->n + sz * nm + 1);
    if (!np)
        return 0;
    b->p = np;
    memcpy(b->p + b->n, d, sz * nm);
    b->n += sz * nm;
    b->p[b->n] = '\0';
    return sz * nm;
}

static char *control(const struct t_server *s, const char *path, const char *post)
{
    char url[256];
    struct buf b = {0};
    snprintf(url, sizeof url, "%s://127.0.0.1:%d%s", s->scheme, s->port, path);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    if (s->ca[0])
        curl_easy_setopt(h, CURLOPT_CAINFO, s->ca);
    if (post)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    CURLcode rc = curl_easy_perform(h);
    long st = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK || st != 200) {
        free(b.p);
        return NULL;
    }
    return b.p ? b.p : calloc(1, 1);
}

int t_server_routes(const struct t_server *s, const char *json)
{
    char *r = control(s, "/_control/routes", json);
    free(r);
    return r ? 0 : -1;
}

char *t_server_requests(const struct t_server *s) { return control(s, "/_control/requests", NULL); }
