/* The demand charge (control.demand, src/control_demand.c) through the loop's seam (fake_port.h): the billing
 * period's peak integrated from the stations' measured power, and what the plan does with it, by hand-computed
 * cases. Prices are flat (0.25), so without a demand charge the plan charges at once (the earliness tie-break). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../store/check.h"
#include "fake_port.h"

/* Two stations of one 22 kW EVSE, 44 kW; VAN-A and VAN-B need 20 kWh each by T0 + 4 h. */
#define VANS "\"site_limit_kw\": 44, \"horizon_h\": 6, \"departure_hedge_new_pct\": 0, \"vehicles\": [" \
    "{\"id\": \"VAN-A\", \"id_tokens\": [\"TOK-A\"]}, {\"id\": \"VAN-B\", \"id_tokens\": [\"TOK-B\"]}], \"needs\": [" \
    "{\"vehicle\": \"VAN-A\", \"departure\": \"2027-01-01T04:00:00Z\", \"energy_kwh\": 20}, " \
    "{\"vehicle\": \"VAN-B\", \"departure\": \"2027-01-01T04:00:00Z\", \"energy_kwh\": 20}]"

static void power(struct control *ctl, int st, double kw)
{
    char buf[400], ts[40];
    snprintf(buf, sizeof buf, "{\"evseId\": 1, \"meterValue\": [{\"timestamp\": \"%s\", \"sampledValue\": [{\"value\": %g, "
             "\"measurand\": \"Power.Active.Import\", \"unitOfMeasure\": {\"unit\": \"kW\"}}]}]}",
             ocpp_time_format(F.now, ts), kw);
    cJSON *p = cJSON_Parse(buf);
    ctl_on_meter_values(ctl, &stations[st], p);
    cJSON_Delete(p);
}

static struct control *two_vans(const char *extra)
{
    char cfg[1200];
    snprintf(cfg, sizeof cfg, "{" VANS "%s}", extra);
    struct control *ctl = loop_new(2, cfg);
    if (!ctl) return NULL;
    boot(ctl, 0, 1);
    boot(ctl, 1, 1);
    settle(ctl);
    tx_event(ctl, 0, 1, "Started", "TOK-A");
    tx_event(ctl, 1, 1, "Started", "TOK-B");
    settle(ctl);
    return ctl;
}

static void test_config(void)
{
    static const char *bad[] = {
        "{\"site_limit_kw\": 22, \"demand\": {}}",
        "{\"site_limit_kw\": 22, \"demand\": {\"price_per_kw\": -1}}",
        "{\"site_limit_kw\": 22, \"demand\": {\"price_per_kw\": 10, \"billing_day\": 29}}",
        "{\"site_limit_kw\": 22, \"demand\": {\"price_per_kw\": 10, \"interval_min\": 7}}",
        "{\"site_limit_kw\": 22, \"demand\": {\"price_per_kw\": 10, \"peak\": 3}}",
        "{\"site_limit_kw\": 22, \"demand\": 10}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK(!loop_new(1, bad[i]), "refused: %s", bad[i]);
    struct control *ctl = loop_new(1, "{\"site_limit_kw\": 22, \"demand\": {\"price_per_kw\": 12.5, \"billing_day\": 15}}");
    CHECK(ctl && ctl->cfg.demand_on && ctl->cfg.demand_price_per_kw == 12.5 && ctl->cfg.demand_billing_day == 15 &&
              ctl->cfg.demand_interval_min == 15, "parsed, interval 15 min by default");
    /* Billing day 15 in UTC: 2027-01-01 is in the period that began 2026-12-15 00:00. */
    int64_t want;
    ocpp_time_parse("2026-12-15T00:00:00Z", &want);
    CHECK(ctl && ctl_demand_period_start(ctl, T0) == want, "the period of 1 January began on 15 December");
    ocpp_time_parse("2027-01-15T00:00:00Z", &want);
    CHECK(ctl && ctl_demand_period_start(ctl, want) == want && ctl_demand_period_start(ctl, want - 1) < want,
          "a new period at local midnight of the 15th");
    ctl_free(ctl);
}

/* Without a demand charge both vans charge at once: 44 kW in the first slot. With 10 per kW, the 41.2 kWh they are
 * planned (20 kWh each + the 3 % energy margin) spread over the 3 h 50 min before the departure margin: at least
 * 41.2 / 3.833 = 10.75 kW, and the LP takes no more than it must. */
static void test_spreads(void)
{
    struct control *ctl = two_vans("");
    CHECK(ctl && ctl->plan, "planned without a demand charge");
    double flat = ctl && ctl->plan ? ctl_plan_peak_kw(ctl->plan) : -1;
    CHECK(fabs(flat - 44) < 0.01, "both vans at once: a 44 kW peak (%.3f)", flat);
    ctl_free(ctl);
    ctl = two_vans(", \"demand\": {\"price_per_kw\": 10}");
    CHECK(ctl && ctl->plan, "planned with a demand charge");
    double spread = ctl && ctl->plan ? ctl_plan_peak_kw(ctl->plan) : -1;
    CHECK(spread >= 10.74 && spread <= 11.0, "spread out: a peak of 10.75 kW, not 44 (%.3f)", spread);
    ctl_free(ctl);
}

/* The peak is the highest 15-minute mean of the measured power: 10 kW for 10 min then 20 kW for 5 min is a
 * mean of 13.333 kW over [T0, T0 + 15); 20 kW for 5 min then 0 is 6.667 over the next. Below it, the LP pays
 * nothing for a kW: the next plan charges at up to 13.333 kW at once. */
static void test_peak(void)
{
    struct control *ctl = two_vans(", \"demand\": {\"price_per_kw\": 10}");
    CHECK(ctl, "control built");
    if (!ctl) return;
    int before = events_of("demand_peak");
    power(ctl, 0, 10);
    F.now += 10 * 60000;
    power(ctl, 0, 20);
    F.now += 10 * 60000;
    power(ctl, 0, 0);
    double peak = ctl_demand_peak_kw(ctl, F.now);
    CHECK(fabs(peak - 40.0 / 3) < 1e-6, "the first interval's mean: 13.333 kW (%.6f)", peak);
    CHECK(ctl->demand.peak_at_ms == T0, "at its start");
    CHECK(events_of("demand_peak") == before + 1, "one demand_peak event");
    F.now += 11 * 60000; /* past T0 + 30: the second interval (6.667) closes, no new peak */
    power(ctl, 0, 0);
    CHECK(fabs(ctl_demand_peak_kw(ctl, F.now) - 40.0 / 3) < 1e-6 && events_of("demand_peak") == before + 1,
          "a lower interval changes nothing");
    ctl_replan(ctl, "test");
    settle(ctl);
    double plan_peak = ctl->plan ? ctl_plan_peak_kw(ctl->plan) : -1;
    CHECK(fabs(plan_peak - 40.0 / 3) < 0.05, "the plan uses the peak already paid for: %.3f kW", plan_peak);
    cJSON *j = ctl_demand_json(ctl, plan_peak);
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "peak_kw")) == 13.333 &&
              cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "peak_at")),
          "the API's demand: peak 13.333 kW, with its interval");
    cJSON_Delete(j);
    /* A new billing period (1 February, billing day 1): the peak starts from nothing. */
    int64_t feb;
    ocpp_time_parse("2027-02-01T00:00:00Z", &feb);
    CHECK(ctl_demand_peak_kw(ctl, feb) == 0, "none in February yet");
    ctl_free(ctl);
}

/* After a restart, the last demand_peak of this billing period is the peak; one of the last period is not. */
static void test_restore(void)
{
    struct control *ctl = loop_new(1, "{\"site_limit_kw\": 22, \"demand\": {\"price_per_kw\": 10}}");
    CHECK(ctl, "control built");
    if (!ctl) return;
    ctl_demand_restore(ctl, "{\"period_start\": \"2026-12-01T00:00:00.000Z\", \"interval_start\": "
                            "\"2026-12-20T10:00:00.000Z\", \"peak_kw\": 30}");
    CHECK(ctl_demand_peak_kw(ctl, F.now) == 0, "December's peak does not count in January");
    ctl_demand_restore(ctl, "{\"period_start\": \"2027-01-01T00:00:00.000Z\", \"interval_start\": "
                            "\"2027-01-01T00:00:00.000Z\", \"peak_kw\": 12.5}");
    CHECK(ctl_demand_peak_kw(ctl, F.now) == 12.5, "January's does (%.3f)", ctl_demand_peak_kw(ctl, F.now));
    ctl_demand_restore(ctl, "{\"peak_kw\": \"x\"}");
    CHECK(ctl_demand_peak_kw(ctl, F.now) == 12.5, "a bad event changes nothing");
    ctl_free(ctl);
}

int main(void)
{
    test_config();
    test_spreads();
    test_peak();
    test_restore();
    loop_free();
    return CHECK_DONE();
}
