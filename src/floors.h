/*
 * floors.h - which idle EVSEs keep a fail-safe floor when the floors of all of them do not fit under the site
 * limit beside the sessions (README "The guarantee"). Pure: no depot state, no clock; the planner (control_floors.c)
 * feeds it and tests/control/test_floors.c checks it by hand-computed cases.
 *
 * A floor is room kept in the fail-safe for a car that plugs in while depotd is down (the least it can charge
 * with). At a tight limit they cannot all be kept: active sessions come first, and the floors get what the
 * sessions cannot use, or at least reserve_pct of the limit, whichever is more.
 */
#ifndef DEPOTD_FLOORS_H
#define DEPOTD_FLOORS_H

#include <stdbool.h>

struct floor_ask {
    int station;       /* its station's index: asks of one station are consecutive, in EVSE order */
    double w;          /* the floor it would keep */
    bool had;          /* it kept one in the plan before: kept first, so floors do not hop between EVSEs */
    bool granted;      /* out */
};

/* Watts the floors may take: all of them when they fit beside what the sessions could take at most (demand_w)
 * under what is left of the limit (limit_w minus committed_w, the reservations nobody can move); else
 * reserve_pct of limit_w, never more than is left. */
double floors_budget(double limit_w, double committed_w, double demand_w, double floors_w, double reserve_pct);

/* Grants asks until budget_w is spent, in this order: those that had a floor, then one EVSE per station in
 * station order, then a second per station, and so on; an ask that does not fit is skipped. whole_station:
 * a station's asks are granted all or none (a TxDefaultProfile is one value for all its EVSEs), stations that
 * had floors first, then the smaller. Returns the watts granted. */
double floors_grant(struct floor_ask *a, int n, double budget_w, bool whole_station);

#endif
