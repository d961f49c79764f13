/*
 * wsio.h - the text frames of one websocket connection as lws wants them handled (the drivers of conform and probe):
 * frames queued until LWS_CALLBACK_*_WRITEABLE, one lws_write per callback from a fresh LWS_PRE buffer, fragments
 * reassembled into whole messages; and the last frames both ways, kept as a failure's evidence.
 */
#ifndef SIM_WSIO_H
#define SIM_WSIO_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>

#define SIM_WSIO_OUT 64
#define SIM_WSIO_LOG 24

struct sim_wslog {
    char *line[SIM_WSIO_LOG];       /* "> frame" sent, "< frame" received, "! note"; oldest first */
    int n;
};
void sim_wslog_add(struct sim_wslog *l, char dir, const char *text, size_t len);
/* The lines, indented, into buf (always NUL-terminated). */
void sim_wslog_evidence(const struct sim_wslog *l, char *buf, size_t len);
void sim_wslog_clear(struct sim_wslog *l);

struct sim_wsio {
    char *out[SIM_WSIO_OUT];
    int nout;
    char *rx;
    size_t rx_len, rx_cap;
};
/* Queues frame (taken; dropped when the queue is full) and asks lws for a write (wsi may be NULL). */
void sim_wsio_push(struct sim_wsio *io, struct lws *wsi, char *frame);
/* RECEIVE: the fragment in; the whole message (NUL-terminated, owned by io until the next call) once the last
 * fragment came, else NULL. *too_big: it went beyond 1 MiB (the caller drops the connection). */
const char *sim_wsio_receive(struct sim_wsio *io, struct lws *wsi, const void *in, size_t len, size_t *msg_len,
                             bool *too_big);
/* WRITEABLE: writes the next frame (logged as sent); 0, or -1 when the connection should close. */
int sim_wsio_write(struct sim_wsio *io, struct lws *wsi, struct sim_wslog *log);
void sim_wsio_clear(struct sim_wsio *io);

#endif
