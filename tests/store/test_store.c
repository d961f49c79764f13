/*
 * The store: events are appended in batches and committed by the writer; projections follow the events;
 * TransactionEvent is idempotent on (transactionId, seqNo) and tolerant of offline replays out of order; the
 * projections rebuilt from the log alone equal the live ones; the log refuses UPDATE and DELETE.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "store.h"

static char dir[] = "/tmp/depotd-store-XXXXXX";
static char db_path[256];

static void wait_settled(store *st, uint64_t ticket)
{
    for (int i = 0; i < 500 && store_settled(st) < ticket; i++) usleep(2000);
}

static uint64_t frame_in(store *st, const char *station, const char *action, const char *id, const char *payload)
{
    char frame[4096];
    snprintf(frame, sizeof frame, "[2,\"%s\",\"%s\",%s]", id, action, payload);
    struct store_event ev = {.time_ms = 1764000000000, .type = STORE_EV_OCPP_IN, .station = station, .msg_type = 2,
                             .action = action, .message_id = id, .status = "ok", .data = frame};
    return store_append(st, &ev);
}

static uint64_t reply_out(store *st, const char *station, const char *action, const char *id, const char *payload)
{
    char frame[1024];
    snprintf(frame, sizeof frame, "[3,\"%s\",%s]", id, payload);
    struct store_event ev = {.time_ms = 1764000000001, .type = STORE_EV_OCPP_OUT, .station = station, .msg_type = 3,
                             .action = action, .message_id = id, .status = "ok", .data = frame};
    return store_append(st, &ev);
}

static char *query(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    sqlite3_stmt *s;
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(1, cap);
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        snprintf(out, cap, "ERROR %s", sqlite3_errmsg(db));
        sqlite3_close(db);
        return out;
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(s); i++) {
            const char *t = (const char *)sqlite3_column_text(s, i);
            len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "|" : "", t ? t : "NULL");
            if (len >= cap - 1) break;
        }
        if (len < cap - 1) out[len++] = '\n';
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
}

static bool query_is(const char *sql, const char *want)
{
    char *got = query(db_path, sql);
    bool ok = strcmp(got, want) == 0;
    if (!ok) printf("     got:  %s     want: %s\n", got, want);
    free(got);
    return ok;
}

/* EXPLAIN QUERY PLAN of a query whose parameters are bound to NULL: the plan's lines, one per row. */
static char *query_plan(const char *sql)
{
    char q[1024];
    snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql);
    char *rows = query(db_path, q);
    return rows;
}

static void plan_event(store *st, int64_t recorded_ms, const char *data)
{
    struct store_event ev = {.time_ms = recorded_ms, .type = "plan", .data = data};
    store_append(st, &ev);
}

static char *plans_at(const char *at, int limit)
{
    sqlite3 *db;
    sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL);
    sqlite3_stmt *s;
    char *out = calloc(1, 1024);
    size_t len = 0;
    if (sqlite3_prepare_v2(db, STORE_SQL_PLANS_AT, -1, &s, NULL) != SQLITE_OK) {
        snprintf(out, 1024, "ERROR %s", sqlite3_errmsg(db));
        sqlite3_close(db);
        return out;
    }
    sqlite3_bind_text(s, 1, at, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, limit);
    while (sqlite3_step(s) == SQLITE_ROW && len < 1000)
        len += (size_t)snprintf(out + len, 1024 - len, "%lld ", (long long)sqlite3_column_int64(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
}

#define TX(type, seq, ts, extra)                                                                              \
    "{\"eventType\":\"" type "\",\"timestamp\":\"" ts "\",\"triggerReason\":\"Authorized\",\"seqNo\":" #seq     \
    ",\"transactionInfo\":{\"transactionId\":\"T1\"" extra "},\"evse\":{\"id\":1,\"connectorId\":1}"

static const char *const projection_tables[][2] = {
    {"stations", "id"},
    {"connectors", "station, evse_id, connector_id"},
    {"transactions", "station, id"},
    {"transaction_events", "station, transaction_id, seq_no"},
    {"meter_values", "event_seq, idx"},
    {"ev_needs", "station, evse_id"},
    {"capabilities", "station, component, variable"},
    {"charging_limits", "station, evse_id, source"},
    {"prices", "provider, start_ms"},
};

int main(void)
{
    if (!mkdtemp(dir)) return 1;
    snprintf(db_path, sizeof db_path, "%s/t.db", dir);
    char err[256] = "";
    store *st = store_open(db_path, NULL, NULL, err, sizeof err);
    CHECK(st != NULL, "store_open creates and migrates a new database %s", err);
    if (!st) return 1;

    struct store_event c = {.time_ms = 1764000000000, .type = STORE_EV_CONNECT, .station = "CS1", .data = "{}"};
    store_append(st, &c);
    frame_in(st, "CS1", "BootNotification", "b1",
             "{\"reason\":\"PowerUp\",\"chargingStation\":{\"model\":\"M\",\"vendorName\":\"V\"}}");
    reply_out(st, "CS1", "BootNotification", "b1",
              "{\"currentTime\":\"2025-11-24T16:00:00Z\",\"interval\":300,\"status\":\"Accepted\"}");
    frame_in(st, "CS1", "StatusNotification", "s1",
             "{\"timestamp\":\"2025-11-24T16:00:05Z\",\"connectorStatus\":\"Occupied\",\"evseId\":1,\"connectorId\":1}");
    /* an older status replayed later must not win */
    frame_in(st, "CS1", "StatusNotification", "s0",
             "{\"timestamp\":\"2025-11-24T15:00:00Z\",\"connectorStatus\":\"Available\",\"evseId\":1,\"connectorId\":1}");
    frame_in(st, "CS1", "TransactionEvent", "t1",
             TX("Started", 0, "2025-11-24T16:01:00Z", ",\"chargingState\":\"Charging\"")
             ",\"idToken\":{\"idToken\":\"VAN-1\",\"type\":\"ISO14443\"},\"meterValue\":[{\"timestamp\":"
             "\"2025-11-24T16:01:00Z\",\"sampledValue\":[{\"value\":1000}]}]}");
    /* the same seqNo again: a retransmission, changes nothing */
    frame_in(st, "CS1", "TransactionEvent", "t1b",
             TX("Started", 0, "2025-11-24T16:01:00Z", ",\"chargingState\":\"Charging\"")
             ",\"meterValue\":[{\"timestamp\":\"2025-11-24T16:01:00Z\",\"sampledValue\":[{\"value\":1000}]}]}");
    /* Ended arrives before an Updated that was queued offline with an earlier timestamp */
    frame_in(st, "CS1", "TransactionEvent", "t3",
             TX("Ended", 2, "2025-11-24T18:00:00Z", ",\"stoppedReason\":\"EVDisconnected\",\"chargingState\":\"Idle\"")
             ",\"meterValue\":[{\"timestamp\":\"2025-11-24T18:00:00Z\",\"sampledValue\":[{\"value\":21.5,"
             "\"unitOfMeasure\":{\"unit\":\"kWh\"}}]}]}");
    uint64_t t = frame_in(st, "CS1", "TransactionEvent", "t2",
                          TX("Updated", 1, "2025-11-24T17:00:00Z", ",\"chargingState\":\"SuspendedEV\"")
                          ",\"offline\":true,\"meterValue\":[{\"timestamp\":\"2025-11-24T17:00:00Z\","
                          "\"sampledValue\":[{\"value\":11000},{\"value\":7.2,\"measurand\":\"Power.Active.Import\","
                          "\"unitOfMeasure\":{\"unit\":\"kW\"}}]}]}");
    frame_in(st, "CS1", "NotifyEVChargingNeeds", "n1",
             "{\"evseId\":1,\"chargingNeeds\":{\"requestedEnergyTransfer\":\"AC_three_phase\",\"departureTime\":"
             "\"2025-11-25T06:00:00Z\",\"acChargingParameters\":{\"energyAmount\":40000,\"evMinCurrent\":6,"
             "\"evMaxCurrent\":32,\"evMaxVoltage\":400}}}");
    struct store_event prices = {.time_ms = 1764000000003, .type = STORE_EV_PRICES,
                                 .data = "{\"provider\":\"be\",\"outcome\":\"ok\",\"prices\":"
                                         "[[1764000000000,1764003600000,0.21],[1764003600000,1764007200000,-0.02]]}"};
    store_append(st, &prices);
    struct store_event prices2 = {.time_ms = 1764000000004, .type = STORE_EV_PRICES,
                                  .data = "{\"provider\":\"be\",\"outcome\":\"ok\",\"prices\":"
                                          "[[1764003600000,1764007200000,0.05]]}"};
    store_append(st, &prices2);
    struct store_event refused = {.time_ms = 1764000000002, .type = STORE_EV_OCPP_IN, .station = "CS1",
                                  .msg_type = 2, .action = "TransactionEvent", .message_id = "bad",
                                  .status = "OccurrenceConstraintViolation",
                                  .data = "[2,\"bad\",\"TransactionEvent\",{\"transactionInfo\":{\"transactionId\":\"T9\"}}]"};
    t = store_append(st, &refused);
    CHECK(store_ticket_state(st, t) == STORE_PENDING, "appended events are pending until flushed and committed");
    store_flush(st);
    wait_settled(st, t);
    CHECK(store_ticket_state(st, t) == STORE_DURABLE, "the batch is durable after the writer committed it");

    CHECK(query_is("SELECT count(*) FROM events", "13\n"), "every event is in the log, the refused frame too");
    CHECK(query_is("SELECT price FROM prices ORDER BY start_ms", "0.21\n0.05\n"),
          "prices: a newer fetch overwrites the same interval, negative prices are kept until then");
    CHECK(query_is("SELECT boot_status, vendor, model, connected FROM stations", "Accepted|V|M|1\n"),
          "stations: boot status from depotd's answer, identity from the BootNotification");
    CHECK(query_is("SELECT status FROM connectors", "Occupied\n"), "connectors: an older status does not overwrite");
    CHECK(query_is("SELECT count(*) FROM transaction_events", "3\n"),
          "TransactionEvent is idempotent on (transactionId, seqNo)");
    CHECK(query_is("SELECT id_token, ended_ms IS NOT NULL, stopped_reason, charging_state, energy_first_wh,"
                   " energy_last_wh FROM transactions",
                   "VAN-1|1|EVDisconnected|Idle|1000.0|21500.0\n"),
          "a late offline Updated does not reopen the ended transaction nor change its latest state");
    CHECK(query_is("SELECT count(*) FROM meter_values WHERE transaction_id='T1'", "4\n"),
          "meter values of every accepted event, none of the repeat");
    CHECK(query_is("SELECT energy_wh, ev_max_current_a, departure_ms FROM ev_needs",
                   "40000.0|32.0|1764050400000\n"),
          "NotifyEVChargingNeeds is kept for the planner");
    CHECK(query_is("SELECT count(*) FROM transactions WHERE id='T9'", "0\n"),
          "a refused frame changes no projection");
    CHECK(store_count_active_transactions(st) == 0, "no transaction is active after Ended");

    /* append-only */
    {
        sqlite3 *db;
        sqlite3_open(db_path, &db);
        char *msg = NULL;
        int rc = sqlite3_exec(db, "UPDATE events SET data='x' WHERE seq=1", NULL, NULL, &msg);
        CHECK(rc != SQLITE_OK && msg && strstr(msg, "append-only"), "UPDATE on the event log is refused");
        sqlite3_free(msg);
        msg = NULL;
        rc = sqlite3_exec(db, "DELETE FROM events", NULL, NULL, &msg);
        CHECK(rc != SQLITE_OK, "DELETE on the event log is refused");
        sqlite3_free(msg);
        sqlite3_close(db);
    }
    CHECK(store_close(st) == 0, "store_close reports no failed commit");

    /* rebuild from the log alone equals the live projections */
    char *live[9], *rebuilt[9];
    for (int i = 0; i < 9; i++) {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY %s", projection_tables[i][0], projection_tables[i][1]);
        live[i] = query(db_path, sql);
    }
    CHECK(store_rebuild_projections(db_path, err, sizeof err) == 0, "rebuild succeeds %s", err);
    for (int i = 0; i < 9; i++) {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY %s", projection_tables[i][0], projection_tables[i][1]);
        rebuilt[i] = query(db_path, sql);
        CHECK(strcmp(live[i], rebuilt[i]) == 0 && strncmp(live[i], "ERROR", 5) != 0,
              "rebuilt %s equals the live one (%zu bytes)", projection_tables[i][0], strlen(live[i]));
        free(live[i]);
        free(rebuilt[i]);
    }

    /* reopen: the schema is not migrated twice, the data is there */
    st = store_open(db_path, NULL, NULL, err, sizeof err);
    CHECK(st != NULL, "reopening an existing database works %s", err);
    CHECK(st && store_count_active_transactions(st) == 0, "state survives the reopen");
    store_close(st);

    /* Schema 4: the log by type. The start-up replay of api events and GET /plan?at= use their indexes (on a
     * 1e5-event log the replay went from a scan of the whole file to 0.4 ms; see store.c). */
    st = store_open(db_path, NULL, NULL, err, sizeof err);
    CHECK(query_is("PRAGMA user_version", "5\n"), "the database is at schema version 5");
    char *qp = query_plan(STORE_SQL_API_EVENTS);
    CHECK(strstr(qp, "USING INDEX events_type") && !strstr(qp, "SCAN events") && !strstr(qp, "TEMP B-TREE"),
          "the api-event replay reads index events_type, no scan, no sort: %s", qp);
    free(qp);
    qp = query_plan(STORE_SQL_API_EVENTS_SINCE);
    CHECK(strstr(qp, "USING INDEX events_type") && !strstr(qp, "SCAN events") && !strstr(qp, "TEMP B-TREE"),
          "the Idempotency-Key reload reads index events_type, no scan, no sort: %s", qp);
    free(qp);
    qp = query_plan(STORE_SQL_PLANS_AT);
    CHECK(strstr(qp, "USING INDEX events_plan_start") && !strstr(qp, "SCAN events") && !strstr(qp, "TEMP B-TREE"),
          "plans by planning-clock start read index events_plan_start, no scan, no sort: %s", qp);
    free(qp);
    /* Plans recorded on the real clock out of the order of their (simulated) starts, and a malformed one. */
    plan_event(st, 1764000000000, "{\"plan\":1,\"start\":\"2025-06-01T08:00:00.000Z\"}");
    plan_event(st, 1764000001000, "{\"plan\":2,\"start\":\"2025-06-01T10:00:00.000Z\"}");
    plan_event(st, 1764000002000, "not json");
    plan_event(st, 1764000003000, "{\"plan\":3,\"start\":\"2025-06-01T09:00:00.000Z\"}");
    uint64_t tk = 0;
    {
        struct store_event api_ev = {.time_ms = 1764000004000, .type = "api", .data = "{}"};
        tk = store_append(st, &api_ev);
    }
    store_flush(st);
    wait_settled(st, tk);
    CHECK(store_ticket_state(st, tk) == STORE_DURABLE, "a malformed plan record does not fail the insert");
    char *got = plans_at("2025-06-01T09:30:00.000Z", 5);
    CHECK(strcmp(got, "17 14 ") == 0, "plans at 09:30 by start: plan 3 (09:00) then plan 1 (08:00): %s", got);
    free(got);
    got = plans_at("2025-06-01T07:59:59.999Z", 5);
    CHECK(strcmp(got, "") == 0, "no plan started before 08:00: '%s'", got);
    free(got);
    /* More failed batches than the old 64-entry ring held: each is still known to have failed, and the good
     * ones between them to be durable. A NULL type breaks the insert (NOT NULL): that batch alone fails. */
    uint64_t bad[100], good[100];
    for (int i = 0; i < 100; i++) {
        struct store_event broken = {.time_ms = 1764000005000, .type = NULL, .data = "{}"};
        struct store_event fine = {.time_ms = 1764000005000, .type = "api", .data = "{}"};
        bad[i] = store_append(st, &broken);
        store_flush(st);
        good[i] = store_append(st, &fine);
        store_flush(st);
        wait_settled(st, good[i]); /* one batch per commit, so the failures stay apart */
    }
    int bad_failed = 0, good_durable = 0;
    for (int i = 0; i < 100; i++) {
        bad_failed += store_ticket_state(st, bad[i]) == STORE_FAILED;
        good_durable += store_ticket_state(st, good[i]) == STORE_DURABLE;
    }
    CHECK(bad_failed == 100 && good_durable == 100,
          "100 failed batches all read failed (%d) and the 100 good ones between them durable (%d)", bad_failed,
          good_durable);
    CHECK(store_ticket_state(st, STORE_TICKET_LOST) == STORE_FAILED,
          "STORE_TICKET_LOST (an event store_append could not take) reads failed at once");
    store_close(st);

    /* An existing schema-3 database (the same tables without the two indexes) is migrated in place. */
    {
        sqlite3 *db;
        sqlite3_open(db_path, &db);
        int rc = sqlite3_exec(db, "DROP INDEX events_type; DROP INDEX events_plan_start; PRAGMA user_version = 3",
                              NULL, NULL, NULL);
        sqlite3_close(db);
        CHECK(rc == SQLITE_OK && query_is("PRAGMA user_version", "3\n"), "made a schema-3 database");
    }
    st = store_open(db_path, NULL, NULL, err, sizeof err);
    CHECK(st != NULL && query_is("PRAGMA user_version", "5\n"), "a schema-3 database is migrated to 5 %s", err);
    CHECK(query_is("SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ('events_type',"
                   " 'events_plan_start') ORDER BY name", "events_plan_start\nevents_type\n"),
          "the migration made both indexes (over a log holding a malformed plan record)");
    got = plans_at("2025-06-01T12:00:00.000Z", 1);
    CHECK(strcmp(got, "15 ") == 0, "after the migration the newest start wins: plan 2: %s", got);
    free(got);
    store_close(st);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) return 1;
    return CHECK_DONE();
}
