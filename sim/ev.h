/*
 * ev.h - a simulated electric vehicle: battery, state of charge, a charging curve that tapers near
 * full, charging losses. Pure; time steps are given by the caller in simulated seconds.
 * Units: W (grid side, what the charger meters), Wh, SoC as a fraction 0..1.
 */
#ifndef SIM_EV_H
#define SIM_EV_H

#include <stdbool.h>

#define SIM_ID_MAX 36           /* IdToken.idToken and identifiers: at most 36 characters */

struct sim_ev_spec {
    char id[SIM_ID_MAX + 1];        /* the vehicle's name in reports */
    char id_token[SIM_ID_MAX + 1];  /* what it authorizes with */
    double capacity_wh;             /* usable battery */
    double max_power_w;             /* what its on-board charger (AC) or battery (DC) accepts, grid side */
    double taper_soc;               /* above this SoC the power falls linearly ... */
    double taper_floor;             /* ... down to this fraction of max_power_w at 100 % */
    double efficiency;              /* battery energy / grid energy, 0 < e <= 1 */
    int phases;                     /* AC phases its on-board charger uses: 1 or 3; 0: all the station has */
};

struct sim_ev {
    struct sim_ev_spec spec;
    double soc;                 /* now */
    double target_soc;          /* the EV stops drawing here (1.0: full) */
    double grid_wh;             /* energy drawn from the charger so far */
    double power_w;             /* what it drew in the last step */
};

/* Returns 0, or -1 when capacity or power are not positive or a fraction is out of range (the scenario
 * loader fills defaults: taper 0.8, floor 0.1, efficiency 0.92). */
int sim_ev_init(struct sim_ev *ev, const struct sim_ev_spec *spec, double soc, double target_soc);

/* What the EV itself accepts at its current SoC, W. 0 once at its target. */
double sim_ev_limit_w(const struct sim_ev *ev);

/*
 * Charge for dt_s simulated seconds under the charger's limit (the composite schedule), in substeps
 * short enough that the taper is followed. Returns the grid energy drawn in this call, Wh.
 * The power drawn is min(EV's own limit at its SoC, limit_w) at every substep.
 */
double sim_ev_charge(struct sim_ev *ev, double limit_w, double dt_s);

/* Grid energy still needed to reach target_soc, Wh. */
double sim_ev_energy_to_target_wh(const struct sim_ev *ev);

/* Grid energy the EV would still lack at departure even drawing max_power_w (its own maximum, capped by the
 * EVSE; taper ignored) for all of the seconds_left, Wh; 0 when it can still make it. "Late" when > 0. */
double sim_ev_shortfall_wh(const struct sim_ev *ev, double max_power_w, double seconds_left);

#endif
