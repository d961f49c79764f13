/* wsauth.h - how every depotsim websocket client (run, load, conform) proves itself: the OCPP security profile 1
 * header (HTTP Basic), and TLS for wss:// (profile 2: depotd's certificate checked against --ca; profile 3: a
 * client certificate, --cert and --key). */
#ifndef SIM_WSAUTH_H
#define SIM_WSAUTH_H

#include <libwebsockets.h>
#include <stdbool.h>

struct sim_tls {
    bool on;                  /* the URL was wss:// */
    char ca[512];             /* PEM CA(s) the CSMS certificate must chain to; "": the system's */
    char cert[512], key[512]; /* client certificate and key (profile 3); "": none */
};

/* getopt_long codes of --ca, --cert, --key, shared by the commands. */
enum { SIM_OPT_CA = 1001, SIM_OPT_CERT, SIM_OPT_KEY };
#define SIM_TLS_OPTIONS {"ca", 1, 0, SIM_OPT_CA}, {"cert", 1, 0, SIM_OPT_CERT}, {"key", 1, 0, SIM_OPT_KEY}
/* Takes one of those options into tls; false if c is not one of them. */
bool sim_tls_option(int c, const char *arg, struct sim_tls *tls);
/* After parsing: --cert and --key go together, and only with wss://. Returns 0, or -1 with a message on stderr. */
int sim_tls_check(const struct sim_tls *tls);
/* Sets the context's client TLS files (call before lws_create_context), and a connection's TLS flag. */
void sim_tls_context(struct lws_context_creation_info *info, const struct sim_tls *tls);
void sim_tls_connect(struct lws_client_connect_info *i, const struct sim_tls *tls);

/* In LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER (in, len as given there): adds
 * "Authorization: Basic base64(id:password)". No header when password is empty. Returns 0, or -1 if it does
 * not fit (the callback then returns -1 and lws drops the connection). */
int sim_ws_basic_auth(struct lws *wsi, const char *id, const char *password, void *in, size_t len);

#endif
