/*
 * circuits.h - the depot's electrical tree and the grid phases a draw loads.
 *
 * A circuit is anything with its own breaker between the site's connection and the stations: the transformer,
 * a feeder, a sub-distribution board. Circuits form a tree (each names its parent; none: directly under the
 * site's connection); a station hangs off one circuit (or directly off the site) and its power counts in that
 * circuit and every circuit above it.
 *
 * Circuits and stations are numbered from 1 in these structs; 0 means "directly under the site", so a
 * zero-initialised station config stays valid (no circuit, rotation L1L2L3).
 *
 * Pure: no I/O. Thread: any; nothing shared.
 */
#ifndef SIM_CIRCUITS_H
#define SIM_CIRCUITS_H

#include "ev.h"
#include "profiles.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define SIM_CIRCUITS_MAX 64
/* limitA is converted with the nominal phase voltage of a European low-voltage grid (230 V phase to neutral),
 * not the station's voltageV: a breaker's rating belongs to the circuit, not to a charger on it. */
#define SIM_PHASE_VOLTAGE_V 230.0

struct sim_circuit {
    char id[SIM_ID_MAX + 1];
    int parent;          /* 1 + index of the parent circuit; 0: directly under the site's connection */
    bool per_phase;      /* limit_w bounds each grid phase's power, not the circuit's total */
    double limit_w;      /* total, or per phase when per_phase (limitA x SIM_PHASE_VOLTAGE_V) */
    double limit_a;      /* limitA as given (per phase); 0 when the file gave limitKw */
};

/*
 * The depot file's "circuits" array (NULL: none). Returns how many (0..SIM_CIRCUITS_MAX) with *out malloc'd
 * (caller frees; NULL when none), or -1 with err naming the key: a missing or duplicate id, an unknown parent, a
 * cycle, both or neither of limitKw / limitA, a limit <= 0, limitA with "perPhase": false.
 */
int sim_circuits_parse(const cJSON *arr, struct sim_circuit **out, char *err, size_t err_len);

/* 1 + index of the circuit with this id, or 0 when there is none. */
int sim_circuit_find(const struct sim_circuit *c, int n, const char *id);

/*
 * Phase rotation: how a station's L1, L2, L3 are wired to the grid's. "L2L3L1" is the station's L1 on the grid's
 * L2, its L2 on L3, its L3 on L1. A rotation is an index 0..5 into the six permutations; 0 is L1L2L3.
 */
int sim_rotation_parse(const char *s);                   /* -1 unless one of the six */
const char *sim_rotation_name(int rotation);
int sim_rotation_grid_phase(int rotation, int station_phase); /* station phase 0..2 -> grid phase 0..2 */

/* How many of a station's phases a draw loads: 1 on a 1-phase station or for an EV that charges on one phase
 * (ev_phases 1), else 3. DC counts as 3: its rectifier draws balanced from all three. */
int sim_draw_phases(const struct sim_station_spec *sp, int ev_phases);

/* What one EVSE's hardware gives an EV that charges on ev_phases (0: all the station has): a 1-phase EV on a
 * 3-phase AC EVSE gets one phase's maximum current, a third of the EVSE's power. */
double sim_evse_max_w_for(const struct sim_station_spec *sp, int ev_phases);

/* wh drawn on a station by an EV, per grid phase: on the grid phase the station's L1 is wired to when the draw
 * is single-phase, a third on each otherwise. */
void sim_phase_split(double wh, const struct sim_station_spec *sp, int ev_phases, int rotation, double out[3]);

#endif
