/*
 * api.h - depotd's HTTP JSON API for dispatchers, operators and integrators, with /metrics (Prometheus text),
 * /healthz and /readyz, served by libwebsockets on its own port (config `api_port`) of the loop's lws context.
 * The routes are documented in schemas/openapi.json; examples/api.md walks through them with curl.
 *
 * Threads: everything here runs on the loop thread. Reads of the SQLite projections run on the API's reader
 * thread (its own read-only connection), whose results come back through depot_post(), so a slow query never
 * delays a station's message.
 */
#ifndef DEPOTD_API_H
#define DEPOTD_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct depot;
struct ocpp_event;

/* Reads api_* from the config (errors name the key), starts the reader thread and listens on api_port.
 * Call once the lws context exists (after depot_server_start). api_port -1: does nothing and returns 0.
 * Returns 0, or -1 with err. */
int api_start(struct depot *d, char *err, size_t err_len);
/* Stops the reader thread and frees the API's state; requests still open are then closed by lws with the
 * context. Call before depot_server_stop (the context must still exist). Safe when the API never started. */
void api_stop(struct depot *d);

/* CALLs the API sends to stations (POST /stations/{id}/commands) carry a cookie with the top bit set, so
 * they never collide with the control loop's cookies (which count up from 1). server.c hands every answer,
 * error, timeout or close of such a CALL to api_on_answer() instead of control_on_answer(). */
#define API_CALL_TAG ((uintptr_t)1 << (sizeof(uintptr_t) * 8 - 1))
/* ... and a password rotation's SetVariables (api_password.c) carries this bit too. */
#define API_CALL_PASSWORD ((uintptr_t)1 << (sizeof(uintptr_t) * 8 - 2))
static inline bool api_owns_call(const void *user) { return ((uintptr_t)user & API_CALL_TAG) != 0; }
void api_on_answer(struct depot *d, const struct ocpp_event *ev);

#endif
