/*
 * departures.h - how well the depot's vehicles keep the departures depotd is told, learned from the sessions that
 * ended. Pure: no depot state, no clock; control feeds it each ended session and asks it for the hedge
 * (control.departure_hedge_pct's learned floor). tests/control/test_departures.c checks it by hand-computed cases.
 *
 * A dispatcher's or a driver's departure is a promise the vehicle may not keep: on the ACN depot's data, half the
 * drivers left before a fifth of the stay they gave. A plan that trusts such departures waits for the cheap hours
 * and the vehicle is gone before they come. One that plans every session to be done a share of its stay early
 * (the hedge) gives up part of the saving where departures are kept, so the hedge is what the depot's own
 * history asks for: the stay that all but DEPARTURES_EARLY_SHARE of the recent vehicles were still there at.
 * Until it has seen enough sessions the caller says what to assume (depotd: the most, so a new depot is never
 * worse than charging at once while it learns).
 */
#ifndef DEPOTD_DEPARTURES_H
#define DEPOTD_DEPARTURES_H

#include <stdbool.h>
#include <stdint.h>

#define DEPARTURES_KEEP 64          /* the last sessions remembered */
#define DEPARTURES_MIN_SEEN 8       /* fewer ended sessions: nothing learned yet, no hedge */
#define DEPARTURES_EARLY_SHARE 0.25 /* the share of vehicles the hedge lets leave before it */
#define DEPARTURES_MIN_STAY_MS (15 * 60 * 1000) /* a shorter stay told says little of how it is kept */

struct departures {
    float kept[DEPARTURES_KEEP]; /* per session: the share of the stay it was told that it stayed, in [0, 1] */
    int n, next;
};

/* A session that ended at ended_ms, which had started at started_ms and was told it would leave at told_ms. Only
 * told departures count (not a default dwell, not "charge to full"): the caller decides that. Stays told shorter
 * than DEPARTURES_MIN_STAY_MS are ignored (false). */
bool departures_add(struct departures *d, int64_t started_ms, int64_t told_ms, int64_t ended_ms);

/* The hedge the history asks for, in percent of a session's stay: 100 x (1 - the DEPARTURES_EARLY_SHARE
 * quantile of the shares kept), at most max_pct; new_pct until DEPARTURES_MIN_SEEN sessions were seen. */
double departures_hedge_pct(const struct departures *d, double max_pct, double new_pct);

#endif
