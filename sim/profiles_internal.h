/* Shared by profiles.c, composite.c and profile_json.c; not part of the store's contract. */
#ifndef SIM_PROFILES_INTERNAL_H
#define SIM_PROFILES_INTERNAL_H

#include "profiles.h"

struct sim_stored {
    int evse_id;
    struct sim_profile profile;
};

struct sim_profiles {
    struct sim_station_spec spec;
    int n;
    struct sim_stored items[SIM_PROFILES_MAX];
};

#endif
