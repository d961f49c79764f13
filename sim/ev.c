#include "ev.h"

#include <string.h>

/* Substep: at 350 kW into a 50 kWh pack SoC moves 0.2 % per second, so one second keeps the taper
 * error far below what a meter shows. */
#define SUBSTEP_S 1.0

int sim_ev_init(struct sim_ev *ev, const struct sim_ev_spec *spec, double soc, double target_soc)
{
    memset(ev, 0, sizeof *ev);
    ev->spec = *spec;
    struct sim_ev_spec *s = &ev->spec;
    if (s->capacity_wh <= 0 || s->max_power_w <= 0 || s->taper_soc <= 0 || s->taper_soc > 1 ||
        s->taper_floor < 0 || s->taper_floor > 1 || s->efficiency <= 0 || s->efficiency > 1 || soc < 0 ||
        soc > 1 || target_soc <= 0 || target_soc > 1)
        return -1;
    ev->soc = soc;
    ev->target_soc = target_soc;
    return 0;
}

double sim_ev_limit_w(const struct sim_ev *ev)
{
    const struct sim_ev_spec *s = &ev->spec;
    if (ev->soc >= ev->target_soc || ev->soc >= 1.0)
        return 0;
    if (ev->soc <= s->taper_soc || s->taper_soc >= 1.0)
        return s->max_power_w;
    double x = (ev->soc - s->taper_soc) / (1.0 - s->taper_soc); /* 0 at the knee, 1 at full */
    return s->max_power_w * (1.0 - x * (1.0 - s->taper_floor));
}

double sim_ev_charge(struct sim_ev *ev, double limit_w, double dt_s)
{
    double drawn = 0, total_s = dt_s;
    if (limit_w < 0)
        limit_w = 0;
    ev->power_w = 0;
    while (dt_s > 1e-9) {
        double h = dt_s < SUBSTEP_S ? dt_s : SUBSTEP_S;
        double own = sim_ev_limit_w(ev);
        double p = own < limit_w ? own : limit_w;
        if (p <= 0)
            break;
        double wh = p * h / 3600.0;
        /* Do not overshoot the target within a substep. */
        double room = (ev->target_soc - ev->soc) * ev->spec.capacity_wh / ev->spec.efficiency;
        if (wh > room) {
            wh = room;
            ev->soc = ev->target_soc;
        } else {
            ev->soc += wh * ev->spec.efficiency / ev->spec.capacity_wh;
        }
        drawn += wh;
        dt_s -= h;
    }
    /* The average over the step, as a meter integrating over it would report. */
    ev->power_w = total_s > 0 ? drawn * 3600.0 / total_s : 0;
    ev->grid_wh += drawn;
    return drawn;
}

double sim_ev_energy_to_target_wh(const struct sim_ev *ev)
{
    double d = (ev->target_soc - ev->soc) * ev->spec.capacity_wh / ev->spec.efficiency;
    return d > 0 ? d : 0;
}

double sim_ev_shortfall_wh(const struct sim_ev *ev, double max_power_w, double seconds_left)
{
    double can = (max_power_w > 0 ? max_power_w : 0) * (seconds_left > 0 ? seconds_left : 0) / 3600.0;
    double lack = sim_ev_energy_to_target_wh(ev) - can;
    /* A watt-hour of slack: a plan that meets the need exactly must not flicker into "late" on rounding. */
    return lack > 1.0 ? lack : 0;
}
