/*
 * A simulated station across connections, without sockets: the test plays the CSMS, feeding frames to
 * sim_station_receive and reading what sim_station_next_out would write. OCPP 2.0.1 sends BootNotification
 * when a station boots (B01), so a station that was Accepted and only lost its connection goes on as Accepted:
 * offline TransactionEvents first (E12, offline=true, seqNo in order), profiles kept. A Reset (B11/B12), a
 * station never Accepted, or --reboot-on-reconnect boot; a SecurityError after a resume falls back to a boot.
 * The simulated clock runs at speed 60 from the scenario's start; sim_real_ms is this file's.
 */
#include "check.h"
#include "sim.h"

#include <stdlib.h>

static int64_t g_real = 1000000; /* monotonic ms, moved by the test */
int64_t sim_real_ms(void) { return g_real; }

static const char *DEPOT = "{\"gridLimitKw\": 30, \"stations\": [{\"id\": \"RECON01\", \"password\": \"pw-0001\","
                           " \"evses\": 2, \"ac\": {\"phases\": 3, \"maxCurrentA\": 32, \"voltageV\": 230},"
                           " \"rateUnits\": [\"A\", \"W\"], \"periodsPerSchedule\": 24, \"profileStackLevel\": 8,"
                           " \"vendor\": \"depotsim\", \"model\": \"sim-ac22\", \"firmware\": \"0.1.0\"}]}";
static const char *SCENARIO =
    "{\"start\": \"2026-11-26T18:00:00Z\", \"end\": \"2026-11-26T20:00:00Z\","
    " \"evDefaults\": {\"capacityKwh\": 60, \"maxPowerKw\": 11, \"taperSoc\": 0.8, \"taperFloor\": 0.1,"
    " \"efficiency\": 0.92}, \"visits\": [{\"ev\": \"VAN-01\", \"idToken\": \"VAN01\", \"station\": \"RECON01\","
    " \"evse\": 1, \"arrival\": \"2026-11-26T18:00:00Z\", \"departure\": \"2026-11-26T19:50:00Z\","
    " \"energyKwh\": 15, \"arrivalSoc\": 0.2}]}";

struct fixture {
    struct sim_depot *depot;
    struct sim_scenario *sc;
    struct sim_world w;
    struct sim_station st;
};

static void setup(struct fixture *f, bool reboot_on_reconnect)
{
    char err[256] = "";
    memset(f, 0, sizeof *f);
    f->depot = sim_depot_parse(DEPOT, err, sizeof err);
    f->sc = f->depot ? sim_scenario_parse(SCENARIO, err, sizeof err) : NULL;
    if (!f->sc) {
        printf("FAIL fixture: %s\n", err);
        exit(2);
    }
    f->w.depot = f->depot;
    f->w.scenario = f->sc;
    f->w.opt.speed = 60;
    f->w.opt.meter_interval_s = 300;
    f->w.opt.run_until_sim = f->sc->end_ms;
    f->w.opt.reboot_on_reconnect = reboot_on_reconnect;
    f->w.clock = (struct sim_clock){.sim_start_ms = f->sc->start_ms, .real_start_ms = g_real, .speed = 60};
    f->w.report = sim_report_new(f->sc->start_ms, f->sc->end_ms, 30000);
    f->w.nstations = 1;
    f->w.stations = &f->st;
    sim_station_init(&f->st, &f->w, 0, &f->depot->stations[0]);
}

static void teardown(struct fixture *f)
{
    sim_station_free(&f->st);
    sim_report_free(f->w.report);
    sim_scenario_free(f->sc);
    sim_depot_free(f->depot);
}

static const struct sim_counters *counters(struct fixture *f) { return sim_report_counters(f->w.report); }

/* The next frame the station writes, parsed; false when it has nothing to say. */
static bool next_frame(struct fixture *f, struct ocpp_frame *out)
{
    char *text = sim_station_next_out(&f->st);
    if (!text)
        return false;
    struct ocpp_fault fault;
    int rc = ocpp_frame_parse(text, strlen(text), out, &fault);
    free(text);
    return rc == 0;
}

static void feed(struct fixture *f, char *frame)
{
    sim_station_receive(&f->st, frame, strlen(frame), g_real);
    free(frame);
}

/* What a lenient CSMS answers to each of the station's CALLs. */
static cJSON *answer_for(const char *action)
{
    const char *json = "{}";
    if (strcmp(action, "BootNotification") == 0)
        json = "{\"currentTime\": \"2026-11-26T18:00:00Z\", \"interval\": 60, \"status\": \"Accepted\"}";
    else if (strcmp(action, "Heartbeat") == 0)
        json = "{\"currentTime\": \"2026-11-26T18:00:00Z\"}";
    else if (strcmp(action, "Authorize") == 0)
        json = "{\"idTokenInfo\": {\"status\": \"Accepted\"}}";
    else if (strcmp(action, "NotifyEVChargingNeeds") == 0)
        json = "{\"status\": \"Accepted\"}";
    return cJSON_Parse(json);
}

/* Answers every CALL the station makes until it is quiet; records each CALL's action (and keeps the
 * TransactionEvents' payloads in tx[], at most max). Returns how many CALLs it answered. */
static int serve(struct fixture *f, char actions[][OCPP_ACTION_MAX + 1], int amax, cJSON **tx, int *ntx, int txmax)
{
    struct ocpp_frame fr;
    int n = 0;
    while (next_frame(f, &fr)) {
        if (fr.type == OCPP_CALL) {
            if (actions && n < amax)
                snprintf(actions[n], OCPP_ACTION_MAX + 1, "%s", fr.action);
            if (tx && strcmp(fr.action, "TransactionEvent") == 0 && *ntx < txmax)
                tx[(*ntx)++] = cJSON_Duplicate(fr.payload, 1);
            n++;
            cJSON *a = answer_for(fr.action);
            feed(f, ocpp_frame_result(fr.id, a));
            cJSON_Delete(a);
        }
        ocpp_frame_clear(&fr);
    }
    return n;
}

static int count_action(char actions[][OCPP_ACTION_MAX + 1], int n, const char *action)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += strcmp(actions[i], action) == 0;
    return k;
}

/* Connected, booted Accepted, VAN-01 plugged in on EVSE 1 and authorized; everything answered. */
static void boot_and_plug(struct fixture *f)
{
    sim_station_connected(&f->st, g_real);
    serve(f, NULL, 0, NULL, NULL, 0);
    sim_station_plug(&f->st, 1, 0, f->sc->start_ms, g_real);
    serve(f, NULL, 0, NULL, NULL, 0);
}

/* Disconnected; while away, 10 simulated minutes pass: two periodic meter values (every 5 min) are queued. */
static void drop_for_ten_minutes(struct fixture *f)
{
    sim_station_disconnected(&f->st, g_real);
    for (int i = 0; i < 10; i++) {
        g_real += 1000; /* a simulated minute at speed 60 */
        sim_station_step(&f->st, sim_clock_now(&f->w.clock, g_real), 60000, g_real);
    }
}

static bool is_offline(const cJSON *tx)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(tx, "offline"));
}

static int seq_no(const cJSON *tx) { return cJSON_GetObjectItemCaseSensitive(tx, "seqNo")->valueint; }

static void test_first_connection_boots_power_up(void)
{
    struct fixture f;
    setup(&f, false);
    sim_station_connected(&f.st, g_real);
    struct ocpp_frame fr;
    bool got = next_frame(&f, &fr);
    const cJSON *reason = got ? cJSON_GetObjectItemCaseSensitive(fr.payload, "reason") : NULL;
    CHECK(got && strcmp(fr.action, "BootNotification") == 0 && cJSON_IsString(reason) &&
              strcmp(reason->valuestring, "PowerUp") == 0,
          "a station never Accepted boots on its first connection (reason PowerUp)");
    if (got)
        ocpp_frame_clear(&fr);
    teardown(&f);
}

static void test_drop_resumes_accepted_without_boot(void)
{
    struct fixture f;
    setup(&f, false);
    boot_and_plug(&f);
    int q_before = f.st.offline_n;
    drop_for_ten_minutes(&f);
    CHECK(f.st.offline_n == q_before + 2, "two meter-value TransactionEvents queued while away (%d)",
          f.st.offline_n - q_before);
    sim_station_connected(&f.st, g_real);
    CHECK(f.st.session && ocpp_session_boot_state(f.st.session) == OCPP_BOOT_ACCEPTED && f.st.booted,
          "the new connection's session starts Accepted");
    char actions[32][OCPP_ACTION_MAX + 1];
    cJSON *tx[8];
    int ntx = 0;
    int n = serve(&f, actions, 32, tx, &ntx, 8);
    CHECK(count_action(actions, n, "BootNotification") == 0, "no BootNotification after a drop (%d CALLs)", n);
    CHECK(n >= 2 && strcmp(actions[0], "TransactionEvent") == 0 && strcmp(actions[1], "TransactionEvent") == 0,
          "the offline TransactionEvents go first (%s, %s)", n > 0 ? actions[0] : "-", n > 1 ? actions[1] : "-");
    CHECK(ntx == 2 && is_offline(tx[0]) && is_offline(tx[1]) && seq_no(tx[1]) == seq_no(tx[0]) + 1,
          "both offline=true, seqNo in order (%d, %d)", ntx > 0 ? seq_no(tx[0]) : -1, ntx > 1 ? seq_no(tx[1]) : -1);
    CHECK(count_action(actions, n, "StatusNotification") == 2, "then each EVSE's status (B04)");
    CHECK(counters(&f)->resumed == 1 && counters(&f)->replayed == 2 && counters(&f)->callerrors_in == 0,
          "counted: resumed %llu, replayed %llu", (unsigned long long)counters(&f)->resumed,
          (unsigned long long)counters(&f)->replayed);
    for (int i = 0; i < ntx; i++)
        cJSON_Delete(tx[i]);
    /* Heartbeats and meter values go on, live: a simulated hour later (the heartbeat interval, 60 s at speed 60). */
    g_real += 60000;
    sim_station_step(&f.st, sim_clock_now(&f.w.clock, g_real), 3600000, g_real);
    ntx = 0;
    n = serve(&f, actions, 32, tx, &ntx, 8);
    CHECK(count_action(actions, n, "Heartbeat") == 1 && ntx == 1 && !is_offline(tx[0]),
          "afterwards: a heartbeat and a live meter value (%d CALLs)", n);
    for (int i = 0; i < ntx; i++)
        cJSON_Delete(tx[i]);
    teardown(&f);
}

static void test_profiles_survive_a_drop(void)
{
    struct fixture f;
    setup(&f, false);
    boot_and_plug(&f);
    cJSON *p = cJSON_Parse("{\"evseId\": 0, \"chargingProfile\": {\"id\": 7, \"stackLevel\": 0,"
                           " \"chargingProfilePurpose\": \"ChargingStationMaxProfile\", \"chargingProfileKind\":"
                           " \"Absolute\", \"chargingSchedule\": [{\"id\": 1, \"startSchedule\":"
                           " \"2026-11-26T00:00:00Z\", \"chargingRateUnit\": \"W\", \"chargingSchedulePeriod\":"
                           " [{\"startPeriod\": 0, \"limit\": 11000}]}]}}");
    feed(&f, ocpp_frame_call("csms-1", "SetChargingProfile", p));
    cJSON_Delete(p);
    struct ocpp_frame fr;
    bool got = next_frame(&f, &fr);
    const cJSON *status = got ? cJSON_GetObjectItemCaseSensitive(fr.payload, "status") : NULL;
    CHECK(got && fr.type == OCPP_CALLRESULT && cJSON_IsString(status) && strcmp(status->valuestring, "Accepted") == 0,
          "ChargingStationMaxProfile 11 kW accepted");
    if (got)
        ocpp_frame_clear(&fr);
    drop_for_ten_minutes(&f);
    sim_station_connected(&f.st, g_real);
    serve(&f, NULL, 0, NULL, NULL, 0);
    int64_t t = sim_clock_now(&f.w.clock, g_real);
    CHECK_NEAR(sim_profiles_limit_w(f.st.profiles, 0, t, f.st.tx), 11000, 1e-6,
               "the station cap is still in force after the reconnect (no reboot)");
    teardown(&f);
}

static void test_reboot_on_reconnect_boots(void)
{
    struct fixture f;
    setup(&f, true);
    boot_and_plug(&f);
    drop_for_ten_minutes(&f);
    sim_station_connected(&f.st, g_real);
    char actions[32][OCPP_ACTION_MAX + 1];
    cJSON *tx[8];
    int ntx = 0;
    int n = serve(&f, actions, 32, tx, &ntx, 8);
    CHECK(n >= 3 && strcmp(actions[0], "BootNotification") == 0 && strcmp(actions[1], "TransactionEvent") == 0,
          "--reboot-on-reconnect: BootNotification first, then the offline events (%s)", n ? actions[0] : "-");
    CHECK(ntx == 2 && is_offline(tx[0]) && seq_no(tx[1]) == seq_no(tx[0]) + 1 && counters(&f)->resumed == 0,
          "offline events replayed in order after the boot, nothing counted as resumed");
    for (int i = 0; i < ntx; i++)
        cJSON_Delete(tx[i]);
    teardown(&f);
}

static void test_never_accepted_boots_again(void)
{
    struct fixture f;
    setup(&f, false);
    sim_station_connected(&f.st, g_real);
    struct ocpp_frame fr;
    if (next_frame(&f, &fr)) {
        cJSON *a = cJSON_Parse("{\"currentTime\": \"2026-11-26T18:00:00Z\", \"interval\": 30, \"status\": \"Pending\"}");
        feed(&f, ocpp_frame_result(fr.id, a));
        cJSON_Delete(a);
        ocpp_frame_clear(&fr);
    }
    sim_station_disconnected(&f.st, g_real);
    sim_station_connected(&f.st, g_real);
    bool got = next_frame(&f, &fr);
    CHECK(got && strcmp(fr.action, "BootNotification") == 0, "a station left Pending boots on its next connection");
    if (got)
        ocpp_frame_clear(&fr);
    teardown(&f);
}

static void test_reset_reboots_with_its_reason(void)
{
    struct fixture f;
    setup(&f, false);
    boot_and_plug(&f);
    cJSON *p = cJSON_Parse("{\"type\": \"Immediate\"}");
    feed(&f, ocpp_frame_call("csms-2", "Reset", p));
    cJSON_Delete(p);
    serve(&f, NULL, 0, NULL, NULL, 0); /* the answer and the Ended event */
    sim_station_disconnected(&f.st, g_real);
    sim_station_connected(&f.st, g_real);
    struct ocpp_frame fr;
    bool got = next_frame(&f, &fr);
    const cJSON *reason = got ? cJSON_GetObjectItemCaseSensitive(fr.payload, "reason") : NULL;
    CHECK(got && strcmp(fr.action, "BootNotification") == 0 && cJSON_IsString(reason) &&
              strcmp(reason->valuestring, "RemoteReset") == 0,
          "after a Reset the station boots (B11/B12) with reason RemoteReset");
    if (got)
        ocpp_frame_clear(&fr);
    teardown(&f);
}

/* A CSMS that lost the registration refuses the resumed station: it boots, once, and loses no event. */
static void test_security_error_falls_back_to_boot(void)
{
    struct fixture f;
    setup(&f, false);
    boot_and_plug(&f);
    drop_for_ten_minutes(&f);
    sim_station_connected(&f.st, g_real);
    struct ocpp_frame fr;
    bool got = next_frame(&f, &fr);
    CHECK(got && strcmp(fr.action, "TransactionEvent") == 0, "resumed: the first offline event goes out");
    int first_seq = got ? seq_no(fr.payload) : -1;
    if (got) {
        feed(&f, ocpp_frame_error(fr.id, OCPP_E_SECURITY_ERROR, "station not accepted (boot state None)", NULL));
        ocpp_frame_clear(&fr);
    }
    char actions[32][OCPP_ACTION_MAX + 1];
    cJSON *tx[8];
    int ntx = 0;
    int n = serve(&f, actions, 32, tx, &ntx, 8);
    CHECK(n >= 3 && strcmp(actions[0], "BootNotification") == 0, "the station boots next (%s)", n ? actions[0] : "-");
    CHECK(ntx == 2 && seq_no(tx[0]) == first_seq && seq_no(tx[1]) == first_seq + 1 && is_offline(tx[0]) &&
              is_offline(tx[1]),
          "after the boot both offline events, the refused one first, in seqNo order");
    CHECK(counters(&f)->resume_refused == 1 && counters(&f)->callerrors_in == 1 && counters(&f)->replayed == 2,
          "counted once: resume refused %llu, CALLERRORs in %llu (the session's own refusals are not), replayed %llu",
          (unsigned long long)counters(&f)->resume_refused, (unsigned long long)counters(&f)->callerrors_in,
          (unsigned long long)counters(&f)->replayed);
    for (int i = 0; i < ntx; i++)
        cJSON_Delete(tx[i]);
    /* Booted on this connection now: a later SecurityError is the CSMS's verdict, not a reason to boot again. */
    sim_station_send_heartbeat(&f.st);
    if (next_frame(&f, &fr)) {
        feed(&f, ocpp_frame_error(fr.id, OCPP_E_SECURITY_ERROR, "no", NULL));
        ocpp_frame_clear(&fr);
    }
    got = next_frame(&f, &fr);
    CHECK(!got && counters(&f)->resume_refused == 1 && f.st.booted, "no second boot on the same connection");
    if (got)
        ocpp_frame_clear(&fr);
    teardown(&f);
}

/* A simulated minute (a real second at speed 60) on the station, its CALLs answered; the TransactionEvents it sent. */
static int one_minute(struct fixture *f, cJSON **tx, int max)
{
    int ntx = 0;
    g_real += 1000;
    sim_station_step(&f->st, sim_clock_now(&f->w.clock, g_real), 60000, g_real);
    serve(f, NULL, 0, tx, &ntx, max);
    return ntx;
}

/* E02: when the EV stops at its target the station says so at once (TransactionEvent, ChargingStateChanged,
 * SuspendedEV) with the meter reading, not at the next periodic meter value; once, not at every step after. */
static void test_ev_stop_told_at_once(void)
{
    struct fixture f;
    setup(&f, false);
    boot_and_plug(&f);
    int told = 0, periodic_after = 0;
    double told_wh = -1;
    for (int i = 0; i < 240 && told_wh < 0; i++) { /* at most 4 simulated hours, a minute a step */
        cJSON *tx[8];
        int ntx = one_minute(&f, tx, 8);
        for (int k = 0; k < ntx; k++) {
            const cJSON *why = cJSON_GetObjectItemCaseSensitive(tx[k], "triggerReason");
            const cJSON *ti = cJSON_GetObjectItemCaseSensitive(tx[k], "transactionInfo");
            const cJSON *state = cJSON_GetObjectItemCaseSensitive(ti, "chargingState");
            if (strcmp(why->valuestring, "ChargingStateChanged") == 0) {
                told++;
                if (cJSON_IsString(state) && strcmp(state->valuestring, "SuspendedEV") == 0)
                    told_wh = f.st.evse[1].register_wh;
            }
            cJSON_Delete(tx[k]);
        }
    }
    CHECK(told == 1 && told_wh >= 15000 * 0.99, "one ChargingStateChanged (SuspendedEV) when the EV reached its 15 kWh "
          "(%d, at %.0f Wh)", told, told_wh);
    for (int i = 0; i < 20; i++) { /* 20 minutes more: periodic meter values only */
        cJSON *tx[8];
        int ntx = one_minute(&f, tx, 8);
        for (int k = 0; k < ntx; k++) {
            const cJSON *why = cJSON_GetObjectItemCaseSensitive(tx[k], "triggerReason");
            periodic_after += strcmp(why->valuestring, "MeterValuePeriodic") == 0;
            told += strcmp(why->valuestring, "ChargingStateChanged") == 0;
            cJSON_Delete(tx[k]);
        }
    }
    CHECK(told == 1 && periodic_after == 4, "then nothing more but the periodic meter values (%d told, %d periodic)",
          told, periodic_after);
    teardown(&f);
}

/* One step of simulated time is charged piece by piece: a limit that drops to 0 halfway through the step, and an
 * EV that leaves halfway through another, each give what was drawn before (charged at the limit of the step's
 * last instant, both gave 0). */
static void plug(struct fixture *f)
{
    const struct sim_visit *v = &f->sc->visits[0];
    f->st.evse[1].visit = 0;
    f->st.evse[1].charging = true;
    sim_ev_init(&f->st.evse[1].ev, &v->ev, v->arrival_soc, v->target_soc);
}

static void default_profile_in(struct fixture *f, const char *unit, const char *periods)
{
    char json[512];
    snprintf(json, sizeof json, "{\"id\":7,\"stackLevel\":0,\"chargingProfilePurpose\":\"TxDefaultProfile\","
             "\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":[{\"id\":1,\"startSchedule\":"
             "\"2026-11-26T18:00:00Z\",\"chargingRateUnit\":\"%s\",\"chargingSchedulePeriod\":[%s]}]}", unit,
             periods);
    cJSON *j = cJSON_Parse(json);
    struct sim_profile p;
    char err[128] = "";
    struct sim_reject why;
    CHECK(j && sim_profile_from_json(j, &p, err, sizeof err) == 0 && sim_profiles_set(f->st.profiles, 0, &p, f->st.tx,
                                                                                      &why) == 0,
          "TxDefaultProfile set (%s)", err);
    cJSON_Delete(j);
}

static void default_profile(struct fixture *f, const char *periods)
{
    default_profile_in(f, "W", periods);
}

/* What a station draws lands on the grid phases and circuits of the report: a 1-phase van on a station wired L2L3L1
 * under a feeder limited to 3 kW per phase, at 16 A: 16 x 230 = 3680 W (not 16 x 3 x 230), all on the grid's L2, in
 * the feeder, above its limit every minute by 0.68 kW. */
static void test_charge_by_phase_and_circuit(void)
{
    struct fixture f;
    setup(&f, false);
    struct sim_circuit *c = calloc(1, sizeof *c);
    *c = (struct sim_circuit){.id = "F1", .per_phase = true, .limit_w = 3000};
    f.depot->circuits = c; /* freed with the depot */
    f.depot->ncircuits = 1;
    f.depot->stations[0].circuit = 1;
    f.depot->stations[0].rotation = sim_rotation_parse("L2L3L1");
    f.sc->visits[0].ev.phases = 1;
    CHECK(sim_report_set_circuits(f.w.report, c, 1) == 0, "report with the feeder");
    plug(&f);
    default_profile_in(&f, "A", "{\"startPeriod\":0,\"limit\":16}");
    int64_t t0 = f.sc->start_ms;
    f.st.charged_until = t0;
    sim_station_charge(&f.st, t0 + 10 * 60000);
    CHECK_NEAR(f.st.evse[1].register_wh, 3680.0 * 10 / 60, 0.5, "16 A on one phase: 3680 W for 10 minutes");
    struct sim_circuit_summary s;
    sim_report_circuit_summary(f.w.report, 0, &s);
    CHECK_NEAR(s.phase_max_kw[1], 3.68, 1e-6, "on the grid's L2");
    CHECK(s.phase_max_kw[0] == 0 && s.phase_max_kw[2] == 0, "nothing on L1, L3");
    CHECK(s.minutes_above == 10, "the feeder above its 3 kW a phase for the 10 minutes (%d)", s.minutes_above);
    CHECK_NEAR(s.worst_exceed_kw, 0.68, 1e-6, "by 0.68 kW");
    teardown(&f);
}

static void test_step_charged_piece_by_piece(void)
{
    struct fixture f;
    setup(&f, false);
    plug(&f);
    default_profile(&f, "{\"startPeriod\":0,\"limit\":11000},{\"startPeriod\":300,\"limit\":0}");
    int64_t t0 = f.sc->start_ms;
    f.st.charged_until = t0;
    sim_station_charge(&f.st, t0 + 10 * 60000);
    CHECK_NEAR(f.st.evse[1].register_wh, 11000.0 * 5 / 60, 0.5, "a limit that drops mid-step: 5 of 10 minutes at 11 kW");
    teardown(&f);

    setup(&f, false);
    plug(&f);
    default_profile(&f, "{\"startPeriod\":0,\"limit\":11000}");
    int64_t dep = f.sc->visits[0].departure_ms;
    f.st.charged_until = dep - 5 * 60000;
    sim_station_charge(&f.st, dep + 5 * 60000);
    CHECK_NEAR(f.st.evse[1].register_wh, 11000.0 * 5 / 60, 0.5, "an EV that leaves mid-step: charged until it leaves");
    teardown(&f);

    /* A profile that arrives at 18:05 with a period from 18:00 (backdated, as depotd does for skewed clocks) does not
     * reach back: the EVs were charged up to its arrival under the limits then in force. */
    setup(&f, false);
    plug(&f);
    default_profile(&f, "{\"startPeriod\":0,\"limit\":11000}");
    f.st.charged_until = t0;
    sim_station_charge(&f.st, t0 + 5 * 60000);
    default_profile(&f, "{\"startPeriod\":0,\"limit\":0}");
    sim_station_charge(&f.st, t0 + 10 * 60000);
    CHECK_NEAR(f.st.evse[1].register_wh, 11000.0 * 5 / 60, 0.5, "a new limit applies from its arrival, not before");
    teardown(&f);
}

int main(void)
{
    test_step_charged_piece_by_piece();
    test_charge_by_phase_and_circuit();
    test_ev_stop_told_at_once();
    test_first_connection_boots_power_up();
    test_drop_resumes_accepted_without_boot();
    test_profiles_survive_a_drop();
    test_reboot_on_reconnect_boots();
    test_never_accepted_boots_again();
    test_reset_reboots_with_its_reason();
    test_security_error_falls_back_to_boot();
    return CHECK_DONE();
}
