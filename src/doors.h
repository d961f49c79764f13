/*
 * doors.h - who may try a password, decided before any hashing, and how refusals are told.
 *
 * A station id, and separately a network address, that keeps failing to log in waits before its next try
 * counts: after DOORS_FREE_TRIES (per station) or DOORS_FREE_TRIES_ADDR (per address, which NAT may share)
 * failures in a row each further failure doubles the wait, from 1 s up to DOORS_MAX_WAIT_MS. A success clears
 * both. Refusals are folded: past DOORS_LOG_BURST events per key (station or address, and reason) in a
 * DOORS_LOG_EVERY_MS window, the rest are only counted, and the next event logged says how many.
 *
 * Pure logic on the caller's clock (tests/store/test_doors.c), bounded memory (DOORS_SLOTS entries, the oldest
 * forgotten first). Loop thread only.
 */
#ifndef DEPOTD_DOORS_H
#define DEPOTD_DOORS_H

#include <stdbool.h>
#include <stdint.h>

#define DOORS_FREE_TRIES 3
#define DOORS_FREE_TRIES_ADDR 20
#define DOORS_MAX_WAIT_MS 300000
#define DOORS_LOG_EVERY_MS 60000
#define DOORS_LOG_BURST 5
#define DOORS_SLOTS 8192

struct doors;

struct doors *doors_new(void);
void doors_free(struct doors *d);

/* Milliseconds until station (may be NULL) from addr may try a password again; 0: now. */
int64_t doors_wait_ms(struct doors *d, const char *station, const char *addr, int64_t now_ms);
void doors_failed(struct doors *d, const char *station, const char *addr, int64_t now_ms);
void doors_succeeded(struct doors *d, const char *station, const char *addr);

/* Whether a refusal under key is to be logged as an event now. When it is, *folded is the number of refusals
 * under key that were not logged since the last one. */
bool doors_log_refusal(struct doors *d, const char *key, int64_t now_ms, int *folded);

#endif
