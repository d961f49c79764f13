/* The EV model: power = min(own limit at SoC, charger limit), taper, losses, stop at target. */
#include "check.h"
#include "ev.h"

static struct sim_ev_spec van(double taper_floor, double eff)
{
    struct sim_ev_spec s = {.id = "VAN", .id_token = "TOK", .capacity_wh = 50000, .max_power_w = 11000,
                            .taper_soc = 0.8, .taper_floor = taper_floor, .efficiency = eff};
    return s;
}

int main(void)
{
    struct sim_ev ev;
    struct sim_ev_spec s = van(0.1, 0.9);
    CHECK(sim_ev_init(&ev, &s, 0.2, 1.0) == 0, "init");
    /* 1 h at 11 kW below the knee: 11000 Wh from the grid, 9900 Wh into 50 kWh = +0.198 SoC. */
    CHECK_NEAR(sim_ev_charge(&ev, 20000, 3600), 11000, 1e-6, "EV's own 11 kW limit binds");
    CHECK_NEAR(ev.soc, 0.398, 1e-9, "SoC after 1 h with 90 % efficiency");
    CHECK_NEAR(ev.power_w, 11000, 1e-6, "reported power");
    /* Charger limit below the EV: 7 kW for 30 min = 3500 Wh. */
    CHECK_NEAR(sim_ev_charge(&ev, 7000, 1800), 3500, 1e-6, "charger limit 7 kW binds");
    CHECK_NEAR(sim_ev_charge(&ev, 0, 600), 0, 1e-12, "limit 0 draws nothing");
    /* Taper: at SoC 0.9, halfway from the knee (0.8) to full: 11000 x (1 - 0.5 x 0.9) = 6050 W. */
    ev.soc = 0.9;
    CHECK_NEAR(sim_ev_limit_w(&ev), 6050, 1e-9, "taper at 90 %");
    ev.soc = 0.8;
    CHECK_NEAR(sim_ev_limit_w(&ev), 11000, 1e-9, "full power at the knee");

    /* Stop at the target: 0.79 -> 0.80 of 50 kWh at 100 % efficiency is 500 Wh, whatever the time. */
    s = van(0.1, 1.0);
    sim_ev_init(&ev, &s, 0.79, 0.8);
    CHECK_NEAR(sim_ev_charge(&ev, 22000, 3600), 500, 1e-6, "stops exactly at target SoC");
    CHECK_NEAR(ev.soc, 0.8, 1e-12, "SoC at target");
    CHECK_NEAR(sim_ev_limit_w(&ev), 0, 1e-12, "no demand at target");
    CHECK_NEAR(sim_ev_energy_to_target_wh(&ev), 0, 1e-9, "nothing left to target");

    /* Taper to a floor of 0 follows x(t) = 1 - exp(-k t) with k = P eff / (C (1 - knee)):
     * k = 11000 / (50000 x 0.2) = 1.1 per hour, so after 1 h x = 1 - e^-1.1 = 0.66713, SoC = 0.8 + 0.2 x. */
    s = van(0.0, 1.0);
    sim_ev_init(&ev, &s, 0.8, 1.0);
    sim_ev_charge(&ev, 50000, 3600);
    CHECK_NEAR(ev.soc, 0.8 + 0.2 * (1 - exp(-1.1)), 2e-4, "taper integrates to the analytic curve");
    CHECK_NEAR(ev.grid_wh, 0.2 * (1 - exp(-1.1)) * 50000, 10, "grid energy matches the SoC gained");

    s = van(0.1, 0.9);
    s.capacity_wh = 0;
    CHECK(sim_ev_init(&ev, &s, 0.2, 1.0) == -1, "zero capacity refused");
    s = van(0.1, 1.5);
    CHECK(sim_ev_init(&ev, &s, 0.2, 1.0) == -1, "efficiency above 1 refused");
    return CHECK_DONE();
}
