/*
 * control_meter.c - what a station's meterValue[] says, read once for the model (control_model.c): the totals only,
 * in W and Wh, the current and how many phases carry it, and the EV's SoC, bounded. Pure: no state, no clock. Loop thread (like its callers).
 */
#include <math.h>
#include <string.h>

#include "control_internal.h"

#define CTL_READING_MAX 1e12 /* Wh or W: anything beyond is a broken reading */

void ctl_read_meter(const cJSON *meter_values, struct ctl_reading *r)
{
    memset(r, 0, sizeof *r);
    const cJSON *mv;
    cJSON_ArrayForEach(mv, meter_values) {
        const cJSON *ts = cJSON_GetObjectItemCaseSensitive(mv, "timestamp");
        int64_t tms = 0;
        if (cJSON_IsString(ts)) ocpp_time_parse(ts->valuestring, &tms);
        const cJSON *sv;
        cJSON_ArrayForEach(sv, cJSON_GetObjectItemCaseSensitive(mv, "sampledValue")) {
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(sv, "measurand");
            const cJSON *ph = cJSON_GetObjectItemCaseSensitive(sv, "phase");
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(sv, "value");
            if (!cJSON_IsNumber(v)) continue;
            const char *meas = cJSON_IsString(m) ? m->valuestring : "Energy.Active.Import.Register";
            /* Per-phase values: the totals are enough, but the currents say on how many phases the car draws. */
            if (ph && !(strcmp(meas, "Current.Import") == 0 && cJSON_IsString(ph) && ph->valuestring[0] == 'L' &&
                        strchr("123", ph->valuestring[1]) && ph->valuestring[2] == 0))
                continue;
            const cJSON *uom = cJSON_GetObjectItemCaseSensitive(sv, "unitOfMeasure");
            const cJSON *unit = cJSON_GetObjectItemCaseSensitive(uom, "unit");
            const cJSON *mul = cJSON_GetObjectItemCaseSensitive(uom, "multiplier");
            double x = v->valuedouble * (cJSON_IsNumber(mul) ? pow(10.0, mul->valueint) : 1.0);
            if (cJSON_IsString(unit) && (strcmp(unit->valuestring, "kWh") == 0 || strcmp(unit->valuestring, "kW") == 0))
                x *= 1000.0;
            /* A station's numbers are bounded before they reach a reservation: an infinite or absurd reading
             * (10^multiplier overflows easily) would squeeze every other EVSE to nothing. */
            if (!isfinite(x) || fabs(x) > CTL_READING_MAX) continue;
            if (strcmp(meas, "Energy.Active.Import.Register") == 0) {
                r->wh = x;
                r->has_wh = true;
                if (tms) r->t = tms;
            } else if (strcmp(meas, "Power.Active.Import") == 0) {
                r->w = x;
                r->has_w = true;
                if (tms) r->t = tms;
            } else if (strcmp(meas, "Current.Import") == 0 && x >= 0) {
                if (ph) r->phases_drawing += x > 1.0, r->amps = fmax(r->amps, x);
                else r->amps = x;
            } else if (strcmp(meas, "SoC") == 0 && x >= 0 && x <= 100) {
                r->soc_pct = x; /* unit Percent (OCPP 2.0.1 measurand SoC) */
                r->has_soc = true;
            }
        }
    }
}
