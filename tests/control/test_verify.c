/* control.verify_composite through the seam (fake_port.h): what an answer to GetCompositeSchedule makes of a
 * station, in the order a real one sends things. A station answers depotd's question at once while its own CALLs
 * wait in its queue (one in flight at a time), so an answer can report the state after news depotd has not read
 * yet: a mismatch counts only when the station, asked again after its next CALL, still reports it. */
#include <stdlib.h>
#include <string.h>

#include "../store/check.h"
#include "fake_port.h"

#define ONE_VAN "{\"site_limit_kw\": 11, \"horizon_h\": 4, \"failsafe\": \"TxDefaultProfile\", " \
    "\"verify_composite\": true}"

static int newest_question(void)
{
    for (int i = F.n_sent - 1; i >= 0; i--)
        if (strcmp(F.sent[i].action, "GetCompositeSchedule") == 0) return i;
    return -1;
}

/* The station's answer to question q: the TxProfile it was sent (honest), or one flat limit in its unit. */
static cJSON *composite(int q, bool honest, double flat)
{
    int tx = last_sent(F.sent[q].station, "TxProfile", 1);
    const cJSON *sch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(profile(tx), "chargingSchedule"), 0);
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(sch, "startSchedule");
    const cJSON *unit = cJSON_GetObjectItemCaseSensitive(sch, "chargingRateUnit");
    cJSON *s = cJSON_CreateObject();
    cJSON_AddNumberToObject(s, "evseId", 1);
    cJSON_AddNumberToObject(s, "duration", 4 * 3600);
    cJSON_AddStringToObject(s, "scheduleStart", start->valuestring);
    cJSON_AddStringToObject(s, "chargingRateUnit", unit->valuestring);
    if (honest) {
        cJSON_AddItemToObject(s, "chargingSchedulePeriod",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(sch, "chargingSchedulePeriod"), true));
    } else {
        cJSON *periods = cJSON_AddArrayToObject(s, "chargingSchedulePeriod");
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "startPeriod", 0);
        cJSON_AddNumberToObject(p, "limit", flat);
        cJSON_AddItemToArray(periods, p);
    }
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "status", "Accepted");
    cJSON_AddItemToObject(r, "schedule", s);
    return r;
}

/* One station, one van charging under its TxProfile: the question about it is in flight (its index). */
static int van_charging(struct control **out)
{
    struct control *ctl = loop_new(1, ONE_VAN);
    *out = ctl;
    CHECK(ctl, "control built");
    if (!ctl) return -1;
    boot(ctl, 0, 1);
    settle_but(ctl, "GetCompositeSchedule");
    tx_event(ctl, 0, 1, "Started", "TOK-A");
    settle_but(ctl, "GetCompositeSchedule");
    int q = newest_question();
    CHECK(q >= 0 && last_sent(0, "TxProfile", 1) >= 0, "a TxProfile and a question about it (%d)", q);
    return q;
}

/* The station ended the session; its TransactionEvent Ended waits in its queue while its answer (no limit any
 * more: 0) goes at once. Nothing counts: the answer waits for the station's next CALL, which is that Ended. */
static void test_answer_overtakes_ended(void)
{
    struct control *ctl;
    int q = van_charging(&ctl);
    if (q < 0) return;
    answer_with(ctl, q, composite(q, false, 0));
    CHECK(events_of("composite_mismatch") == 0, "no mismatch on the first answer (%d)", events_of("composite_mismatch"));
    CHECK(sent_of("GetCompositeSchedule", q + 1) == 0, "not asked again at once: it would overtake the news too");
    tx_event(ctl, 0, 1, "Ended", "TOK-A");
    ctl_on_call(ctl, &stations[0]);
    settle_but(ctl, "GetCompositeSchedule");
    CHECK(events_of("composite_mismatch") == 0 && events_of("compensation") == 0,
          "the session ended: no mismatch, no compensation (%d, %d)", events_of("composite_mismatch"),
          events_of("compensation"));
    ctl_free(ctl);
}

/* A station that reports its hardware (22 kW) whatever it was sent (at most 11 kW): asked again after its next
 * CALL, it says the same, and the mismatch counts once. */
static void test_liar_counted_after_next_call(void)
{
    struct control *ctl;
    int q = van_charging(&ctl);
    if (q < 0) return;
    const char *unit = "W";
    const cJSON *sch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(profile(last_sent(0, "TxProfile", 1)),
                                                                           "chargingSchedule"), 0);
    unit = cJSON_GetObjectItemCaseSensitive(sch, "chargingRateUnit")->valuestring;
    double hw = strcmp(unit, "A") == 0 ? 32 : 22000;
    answer_with(ctl, q, composite(q, false, hw));
    CHECK(events_of("composite_mismatch") == 0, "the first answer does not count yet");
    cJSON *mv = cJSON_Parse("{\"evseId\": 1, \"meterValue\": [{\"timestamp\": \"2027-01-01T00:01:00Z\", "
                            "\"sampledValue\": [{\"value\": 100}]}]}");
    ctl_on_meter_values(ctl, &stations[0], mv);
    cJSON_Delete(mv);
    ctl_on_call(ctl, &stations[0]);
    int again = newest_question();
    CHECK(again > q, "asked again after the station's next CALL (%d after %d)", again, q);
    if (again <= q) {
        ctl_free(ctl);
        return;
    }
    ctl_on_call(ctl, &stations[0]);
    CHECK(newest_question() == again, "asked again once, not on every CALL");
    answer_with(ctl, again, composite(again, false, hw));
    CHECK(events_of("composite_mismatch") == 1, "the second answer counts: one mismatch (%d)",
          events_of("composite_mismatch"));
    CHECK(events_of("compensation") == 1, "and one compensation (%d)", events_of("compensation"));
    ctl_free(ctl);
}

/* An honest answer is no mismatch and is not asked again. */
static void test_honest(void)
{
    struct control *ctl;
    int q = van_charging(&ctl);
    if (q < 0) return;
    answer_with(ctl, q, composite(q, true, 0));
    ctl_on_call(ctl, &stations[0]);
    CHECK(events_of("composite_mismatch") == 0, "an honest answer is no mismatch");
    CHECK(sent_of("GetCompositeSchedule", q + 1) == 0, "and is not asked again");
    ctl_free(ctl);
}

int main(void)
{
    test_answer_overtakes_ended();
    test_liar_counted_after_next_call();
    test_honest();
    loop_free();
    return CHECK_DONE();
}
