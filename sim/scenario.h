/*
 * scenario.h - what depotsim simulates: the depot file (stations) and the visits (EVs arriving and
 * leaving), from a scenario file or from ACN-Data sessions. Formats: examples/sim/README.md.
 * Loaders return NULL and fill err (caller's buffer) on any bad input, naming the field.
 * Ownership: the caller frees what a loader returns with the matching _free.
 */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include "circuits.h"
#include "ev.h"
#include "profiles.h"

#include <stddef.h>
#include <stdint.h>

#define SIM_STATIONS_MAX 20000
#define SIM_VISITS_MAX 100000

struct sim_station_cfg {
    char id[SIM_ID_MAX + 1];
    char password[65];
    char vendor[51], model[21], firmware[51];   /* BootNotification's string limits */
    double max_current_a;                       /* AC: per phase per EVSE */
    struct sim_station_spec spec;
    int circuit;                                /* 1 + index in the depot's circuits; 0: directly under the site */
    int rotation;                               /* phase rotation (circuits.h); 0: L1L2L3 */
};

struct sim_depot {
    double grid_limit_w;            /* the site's connection, for the report (0: none given) */
    int n;
    struct sim_station_cfg *stations;
    int ncircuits;                  /* the feeder tree (circuits.h); 0: stations hang off the site directly */
    struct sim_circuit *circuits;
};

struct sim_visit {
    char station[SIM_ID_MAX + 1];   /* "" : any station with a free EVSE */
    int evse;                       /* 0: any free EVSE */
    int64_t arrival_ms, departure_ms;
    int64_t requested_departure_ms; /* what the driver said (ISO 15118 departureTime); 0: the departure */
    double requested_wh;            /* energy the vehicle needs by departure, grid side */
    double arrival_soc;
    double target_soc;
    bool iso15118;                  /* reports its needs with NotifyEVChargingNeeds */
    struct sim_ev_spec ev;
};

struct sim_scenario {
    int64_t start_ms, end_ms;
    int n;
    struct sim_visit *visits;       /* sorted by arrival */
};

struct sim_depot *sim_depot_load(const char *path, char *err, size_t err_len);
struct sim_depot *sim_depot_parse(const char *json, char *err, size_t err_len);
void sim_depot_free(struct sim_depot *d);
/* A uniform depot for load tests: n stations "<prefix>NNNNN", 1 EVSE, 22 kW AC. */
struct sim_depot *sim_depot_uniform(int n, const char *prefix, const char *password);

struct sim_scenario *sim_scenario_load(const char *path, char *err, size_t err_len);
struct sim_scenario *sim_scenario_parse(const char *json, char *err, size_t err_len);
/*
 * ACN-Data sessions (array of {connectionTime, disconnectTime, kWhDelivered, userInputs[]}), only
 * those arriving in [from_ms, to_ms) (0, 0: all). EVs get default specs sized to what they request.
 */
struct sim_scenario *sim_scenario_load_acn(const char *path, int64_t from_ms, int64_t to_ms, char *err,
                                           size_t err_len);
struct sim_scenario *sim_scenario_parse_acn(const char *json, int64_t from_ms, int64_t to_ms, char *err,
                                            size_t err_len);
void sim_scenario_free(struct sim_scenario *s);

/* Reads a whole file (NUL-terminated, malloc'd) or NULL with err. */
char *sim_read_file(const char *path, size_t max_bytes, char *err, size_t err_len);

#endif
