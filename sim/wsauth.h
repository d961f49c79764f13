/* wsauth.h - the OCPP security profile 1 header every depotsim websocket client sends (run, load, conform). */
#ifndef SIM_WSAUTH_H
#define SIM_WSAUTH_H

#include <libwebsockets.h>

/* In LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER (in, len as given there): adds
 * "Authorization: Basic base64(id:password)". No header when password is empty. Returns 0, or -1 if it does
 * not fit (the callback then returns -1 and lws drops the connection). */
int sim_ws_basic_auth(struct lws *wsi, const char *id, const char *password, void *in, size_t len);

#endif
