/* wsio.c - see wsio.h. */
#include "wsio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_WSIO_MAX_MSG (1 << 20)

void sim_wslog_add(struct sim_wslog *l, char dir, const char *text, size_t len)
{
    if (l->n == SIM_WSIO_LOG) {
        free(l->line[0]);
        memmove(l->line, l->line + 1, (SIM_WSIO_LOG - 1) * sizeof *l->line);
        l->n--;
    }
    size_t keep = len > 600 ? 600 : len;
    char *s = malloc(keep + 8);
    if (!s)
        return;
    snprintf(s, keep + 8, "%c %.*s%s", dir, (int)keep, text, len > keep ? "..." : "");
    l->line[l->n++] = s;
}

void sim_wslog_evidence(const struct sim_wslog *l, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < l->n && n + 1 < len; i++) {
        int w = snprintf(buf + n, len - n, "      %s\n", l->line[i]);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

void sim_wslog_clear(struct sim_wslog *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->line[i]);
    l->n = 0;
}

void sim_wsio_push(struct sim_wsio *io, struct lws *wsi, char *frame)
{
    if (!frame)
        return;
    if (io->nout == SIM_WSIO_OUT) {
        free(frame);
        return;
    }
    io->out[io->nout++] = frame;
    if (wsi)
        lws_callback_on_writable(wsi);
}

const char *sim_wsio_receive(struct sim_wsio *io, struct lws *wsi, const void *in, size_t len, size_t *msg_len,
                             bool *too_big)
{
    *too_big = false;
    if (io->rx_len + len + 1 > io->rx_cap) {
        size_t cap = (io->rx_len + len + 1) * 2;
        char *n = cap <= 2 * SIM_WSIO_MAX_MSG ? realloc(io->rx, cap) : NULL;
        if (!n) {
            *too_big = true;
            return NULL;
        }
        io->rx = n;
        io->rx_cap = cap;
    }
    memcpy(io->rx + io->rx_len, in, len);
    io->rx_len += len;
    if (!lws_is_final_fragment(wsi))
        return NULL;
    io->rx[io->rx_len] = '\0';
    *msg_len = io->rx_len;
    io->rx_len = 0;
    return io->rx;
}

int sim_wsio_write(struct sim_wsio *io, struct lws *wsi, struct sim_wslog *log)
{
    if (!io->nout)
        return 0;
    char *f = io->out[0];
    memmove(io->out, io->out + 1, (size_t)--io->nout * sizeof *io->out);
    size_t n = strlen(f);
    unsigned char *b = malloc(LWS_PRE + n);
    if (!b) {
        free(f);
        return -1;
    }
    memcpy(b + LWS_PRE, f, n);
    if (log)
        sim_wslog_add(log, '>', f, n);
    free(f);
    int rc = lws_write(wsi, b + LWS_PRE, n, LWS_WRITE_TEXT);
    free(b);
    if (rc < (int)n)
        return -1;
    if (io->nout)
        lws_callback_on_writable(wsi);
    return 0;
}

void sim_wsio_clear(struct sim_wsio *io)
{
    for (int i = 0; i < io->nout; i++)
        free(io->out[i]);
    io->nout = 0;
    free(io->rx);
    io->rx = NULL;
    io->rx_len = io->rx_cap = 0;
}
