/*
 * The projections: tables derived from the event log by store_project(), the one function used live (by the
 * writer thread, in the same transaction as the event) and by store_rebuild_projections(). Anything here must
 * depend only on the event and on the projections built from earlier events, so a rebuild gives the same rows.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ocpp.h"
#include "store_internal.h"

const char *const store_projection_schema =
    "CREATE TABLE IF NOT EXISTS stations ("
    "  id TEXT PRIMARY KEY, connected INTEGER NOT NULL DEFAULT 0, boot_status TEXT, registry_boot TEXT,"
    "  password_hash TEXT, vendor TEXT, model TEXT, serial_number TEXT, firmware_version TEXT, boot_reason TEXT,"
    "  last_boot_ms INTEGER, connected_ms INTEGER, disconnected_ms INTEGER, last_seen_ms INTEGER);"
    "CREATE TABLE IF NOT EXISTS connectors ("
    "  station TEXT NOT NULL, evse_id INTEGER NOT NULL, connector_id INTEGER NOT NULL, status TEXT,"
    "  updated_ms INTEGER, PRIMARY KEY(station, evse_id, connector_id));"
    "CREATE TABLE IF NOT EXISTS transactions ("
    "  station TEXT NOT NULL, id TEXT NOT NULL, evse_id INTEGER, connector_id INTEGER, id_token TEXT,"
    "  id_token_type TEXT, started_ms INTEGER, ended_ms INTEGER, last_event_ms INTEGER, charging_state TEXT,"
    "  stopped_reason TEXT, energy_first_wh REAL, energy_first_ms INTEGER, energy_last_wh REAL,"
    "  energy_last_ms INTEGER, seq_max INTEGER, events INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY(station, id));"
    "CREATE TABLE IF NOT EXISTS transaction_events ("
    "  station TEXT NOT NULL, transaction_id TEXT NOT NULL, seq_no INTEGER NOT NULL, event_type TEXT,"
    "  time_ms INTEGER, offline INTEGER, trigger_reason TEXT, event_seq INTEGER,"
    "  PRIMARY KEY(station, transaction_id, seq_no));"
    "CREATE TABLE IF NOT EXISTS meter_values ("
    "  event_seq INTEGER NOT NULL, idx INTEGER NOT NULL, station TEXT, evse_id INTEGER, transaction_id TEXT,"
    "  time_ms INTEGER, measurand TEXT, phase TEXT, location TEXT, context TEXT, value REAL, unit TEXT,"
    "  PRIMARY KEY(event_seq, idx));"
    "CREATE INDEX IF NOT EXISTS meter_values_tx ON meter_values(station, transaction_id, time_ms);"
    "CREATE TABLE IF NOT EXISTS ev_needs ("
    "  station TEXT NOT NULL, evse_id INTEGER NOT NULL, updated_ms INTEGER, departure_ms INTEGER,"
    "  energy_wh REAL, requested_transfer TEXT, ev_max_current_a REAL, ev_max_voltage_v REAL,"
    "  ev_max_power_w REAL, state_of_charge REAL, payload TEXT, PRIMARY KEY(station, evse_id));"
    "CREATE TABLE IF NOT EXISTS capabilities ("
    "  station TEXT NOT NULL, component TEXT NOT NULL, component_instance TEXT NOT NULL DEFAULT '',"
    "  evse_id INTEGER NOT NULL DEFAULT 0, variable TEXT NOT NULL, variable_instance TEXT NOT NULL DEFAULT '',"
    "  attribute_type TEXT NOT NULL DEFAULT 'Actual', value TEXT, status TEXT, updated_ms INTEGER,"
    "  PRIMARY KEY(station, component, component_instance, evse_id, variable, variable_instance,"
    "              attribute_type));"
    "CREATE TABLE IF NOT EXISTS charging_limits ("
    "  station TEXT NOT NULL, evse_id INTEGER NOT NULL, source TEXT NOT NULL, grid_critical INTEGER,"
    "  updated_ms INTEGER, cleared INTEGER NOT NULL DEFAULT 0, payload TEXT,"
    "  PRIMARY KEY(station, evse_id, source));"
    "CREATE TABLE IF NOT EXISTS reported_profiles ("
    "  station TEXT NOT NULL, evse_id INTEGER NOT NULL, source TEXT NOT NULL, profile_id INTEGER NOT NULL,"
    "  request_id INTEGER, purpose TEXT, stack_level INTEGER, updated_ms INTEGER, profile TEXT,"
    "  PRIMARY KEY(station, evse_id, source, profile_id));"
    "CREATE TABLE IF NOT EXISTS prices ("
    "  provider TEXT NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, price REAL NOT NULL,"
    "  fetched_ms INTEGER NOT NULL, PRIMARY KEY(provider, start_ms));";

const char *const store_projection_tables[] = {"stations",   "connectors",   "transactions",    "transaction_events",
                                               "meter_values", "ev_needs", "capabilities", "charging_limits",
                                               "reported_profiles", "prices", NULL};

/* Binds "?" parameters from a format: s = string (NULL ok), i = int64, d = double (NaN -> NULL), n = null. */
/* A number a station sent, as an integer: 0 when it is none (NaN) or beyond int64 (a cast would be undefined). */
static int64_t as_i64(double x) { return isfinite(x) && fabs(x) < 9e18 ? (int64_t)x : 0; }

/* Statements are prepared once per connection and thread: a projection runs for every frame, and preparing its
 * statement each time was ~6 % of depotd's CPU per Heartbeat. Keyed by the SQL text's address (callers pass
 * literals); past the table's size a statement is prepared for the one use. store_project_done() finalizes. */
#define STMT_CACHE 48
static _Thread_local struct cached_stmt {
    sqlite3 *db;
    const char *sql;
    sqlite3_stmt *st;
} g_stmts[STMT_CACHE];

static sqlite3_stmt *prepared(sqlite3 *db, const char *sql, bool *cached)
{
    struct cached_stmt *free_slot = NULL;
    for (int i = 0; i < STMT_CACHE; i++) {
        if (g_stmts[i].db == db && g_stmts[i].sql == sql) {
            *cached = true;
            return g_stmts[i].st;
        }
        if (!g_stmts[i].db && !free_slot) free_slot = &g_stmts[i];
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(db, sql, -1, free_slot ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL) != SQLITE_OK)
        return NULL;
    *cached = free_slot != NULL;
    if (free_slot) *free_slot = (struct cached_stmt){db, sql, st};
    return st;
}

void store_project_done(sqlite3 *db)
{
    for (int i = 0; i < STMT_CACHE; i++) {
        if (g_stmts[i].db != db) continue;
        sqlite3_finalize(g_stmts[i].st);
        g_stmts[i] = (struct cached_stmt){0};
    }
}

static int run(sqlite3 *db, const char *sql, const char *fmt, ...)
{
    bool cached;
    sqlite3_stmt *st = prepared(db, sql, &cached);
    if (!st) return -1;
    va_list ap;
    va_start(ap, fmt);
    for (int i = 0; fmt[i]; i++) {
        int col = i + 1;
        switch (fmt[i]) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (s) sqlite3_bind_text(st, col, s, -1, SQLITE_TRANSIENT);
            else sqlite3_bind_null(st, col);
            break;
        }
        case 'i': sqlite3_bind_int64(st, col, va_arg(ap, int64_t)); break;
        case 'd': {
            double d = va_arg(ap, double);
            if (isnan(d)) sqlite3_bind_null(st, col);
            else sqlite3_bind_double(st, col, d);
            break;
        }
        default: sqlite3_bind_null(st, col); break;
        }
    }
    va_end(ap);
    int rc = sqlite3_step(st);
    if (cached) sqlite3_reset(st), sqlite3_clear_bindings(st);
    else sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

static const char *str(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static double num(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(it) ? it->valuedouble : NAN;
}

static const cJSON *obj(const cJSON *o, const char *key) { return cJSON_GetObjectItemCaseSensitive(o, key); }

static int64_t time_of(const cJSON *o, const char *key, int64_t fallback)
{
    const char *t = str(o, key);
    int64_t ms;
    return t && ocpp_time_parse(t, &ms) == 0 ? ms : fallback;
}

/* The payload of a frame: element 3 of a CALL, element 2 of a CALLRESULT. */
static const cJSON *frame_payload(const cJSON *frame, int msg_type)
{
    return cJSON_GetArrayItem(frame, msg_type == 2 ? 3 : 2);
}

static int project_boot(sqlite3 *db, int64_t seq, const struct store_event *ev, const cJSON *p)
{
    (void)seq;
    const cJSON *cs = obj(p, "chargingStation");
    return run(db,
               "INSERT INTO stations(id, vendor, model, serial_number, firmware_version, boot_reason, last_boot_ms,"
               " last_seen_ms) VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET vendor=excluded.vendor,"
               " model=excluded.model, serial_number=excluded.serial_number,"
               " firmware_version=excluded.firmware_version, boot_reason=excluded.boot_reason,"
               " last_boot_ms=excluded.last_boot_ms, last_seen_ms=excluded.last_seen_ms",
               "ssssssii", ev->station, str(cs, "vendorName"), str(cs, "model"), str(cs, "serialNumber"),
               str(cs, "firmwareVersion"), str(p, "reason"), (int64_t)ev->time_ms, (int64_t)ev->time_ms);
}

static int project_status(sqlite3 *db, int64_t seq, const struct store_event *ev, const cJSON *p)
{
    (void)seq;
    int64_t t = time_of(p, "timestamp", ev->time_ms);
    /* A status older than the one we have (an offline station replaying) must not overwrite the newer one. */
    return run(db,
               "INSERT INTO connectors(station, evse_id, connector_id, status, updated_ms) VALUES(?,?,?,?,?)"
               " ON CONFLICT(station, evse_id, connector_id) DO UPDATE SET status=excluded.status,"
               " updated_ms=excluded.updated_ms WHERE excluded.updated_ms >= connectors.updated_ms",
               "siisi", ev->station, as_i64(num(p, "evseId")), as_i64(num(p, "connectorId")),
               str(p, "connectorStatus"), t);
}

/* Energy.Active.Import.Register in Wh, or NaN. */
static double energy_wh(const cJSON *sv)
{
    const char *measurand = str(sv, "measurand");
    if (measurand && strcmp(measurand, "Energy.Active.Import.Register") != 0) return NAN;
    const char *phase = str(sv, "phase");
    if (phase) return NAN; /* the total, not a per-phase register */
    const char *loc = str(sv, "location");
    if (loc && strcmp(loc, "Outlet") != 0) return NAN;
    double v = num(sv, "value");
    const cJSON *u = obj(sv, "unitOfMeasure");
    const char *unit = str(u, "unit");
    double mult = num(u, "multiplier");
    if (!isnan(mult)) v *= pow(10.0, mult);
    if (unit && strcmp(unit, "kWh") == 0) v *= 1000.0;
    else if (unit && strcmp(unit, "Wh") != 0) return NAN;
    return isfinite(v) && fabs(v) <= 1e12 ? v : NAN; /* 10^multiplier overflows easily: not a reading */
}

static int project_meter_values(sqlite3 *db, int64_t seq, const struct store_event *ev, const cJSON *mvs,
                                int64_t evse_id, const char *tx_id, double *last_wh, int64_t *last_ms,
                                double *first_wh, int64_t *first_ms)
{
    int idx = 0;
    const cJSON *mv;
    cJSON_ArrayForEach(mv, mvs) {
        int64_t t = time_of(mv, "timestamp", ev->time_ms);
        const cJSON *sv;
        cJSON_ArrayForEach(sv, obj(mv, "sampledValue")) {
            const cJSON *u = obj(sv, "unitOfMeasure");
            const char *measurand = str(sv, "measurand");
            if (run(db,
                    "INSERT OR IGNORE INTO meter_values(event_seq, idx, station, evse_id, transaction_id, time_ms,"
                    " measurand, phase, location, context, value, unit) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
                    "iisisissssds", seq, (int64_t)idx++, ev->station, evse_id, tx_id, t,
                    measurand ? measurand : "Energy.Active.Import.Register", str(sv, "phase"), str(sv, "location"),
                    str(sv, "context"), num(sv, "value"), u ? str(u, "unit") : NULL))
                return -1;
            double wh = energy_wh(sv);
            if (!isnan(wh) && last_wh) {
                if (*last_ms < 0 || t >= *last_ms) *last_wh = wh, *last_ms = t;
                if (*first_ms < 0 || t < *first_ms) *first_wh = wh, *first_ms = t;
            }
        }
    }
    return 0;
}

/*
 * TransactionEvent. Idempotent on (transactionId, seqNo): a repeat changes nothing. Events may come out of
 * order (offline=true replays): the transaction's fields follow the event with the latest timestamp, its start
 * is the earliest timestamp seen, and an Ended closes it whenever it arrives.
 */
static int project_transaction(sqlite3 *db, int64_t seq, const struct store_event *ev, const cJSON *p)
{
    const cJSON *info = obj(p, "transactionInfo");
    const char *tx = str(info, "transactionId");
    if (!tx) return 0;
    int64_t t = time_of(p, "timestamp", ev->time_ms);
    const char *type = str(p, "eventType");
    const cJSON *offline = obj(p, "offline");
    if (run(db,
            "INSERT OR IGNORE INTO transaction_events(station, transaction_id, seq_no, event_type, time_ms,"
            " offline, trigger_reason, event_seq) VALUES(?,?,?,?,?,?,?,?)",
            "ssisiisi", ev->station, tx, as_i64(num(p, "seqNo")), type, t, (int64_t)cJSON_IsTrue(offline),
            str(p, "triggerReason"), seq))
        return -1;
    if (sqlite3_changes(db) == 0) return 0; /* a repeat of (transactionId, seqNo) */

    const cJSON *evse = obj(p, "evse");
    double evse_id = evse ? num(evse, "id") : NAN, conn_id = evse ? num(evse, "connectorId") : NAN;
    const cJSON *tok = obj(p, "idToken");
    double last_wh = NAN, first_wh = NAN;
    int64_t last_ms = -1, first_ms = -1;
    if (project_meter_values(db, seq, ev, obj(p, "meterValue"), isnan(evse_id) ? -1 : (int64_t)evse_id, tx,
                             &last_wh, &last_ms, &first_wh, &first_ms))
        return -1;
    bool ended = type && strcmp(type, "Ended") == 0;
    if (run(db,
            "INSERT INTO transactions(station, id, evse_id, connector_id, id_token, id_token_type, started_ms,"
            " last_event_ms, charging_state, seq_max, events) VALUES(?,?,?,?,?,?,?,?,?,?,1)"
            " ON CONFLICT(station, id) DO UPDATE SET"
            " evse_id = coalesce(transactions.evse_id, excluded.evse_id),"
            " connector_id = coalesce(transactions.connector_id, excluded.connector_id),"
            " id_token = coalesce(excluded.id_token, transactions.id_token),"
            " id_token_type = coalesce(excluded.id_token_type, transactions.id_token_type),"
            " started_ms = min(transactions.started_ms, excluded.started_ms),"
            " charging_state = CASE WHEN excluded.last_event_ms >= transactions.last_event_ms"
            "   THEN coalesce(excluded.charging_state, transactions.charging_state)"
            "   ELSE transactions.charging_state END,"
            " last_event_ms = max(transactions.last_event_ms, excluded.last_event_ms),"
            " seq_max = max(transactions.seq_max, excluded.seq_max),"
            " events = transactions.events + 1",
            "ssddssiisi", ev->station, tx, evse_id, conn_id, tok ? str(tok, "idToken") : NULL,
            tok ? str(tok, "type") : NULL, t, t, str(info, "chargingState"), as_i64(num(p, "seqNo"))))
        return -1;
    if (ended &&
        run(db, "UPDATE transactions SET ended_ms = ?, stopped_reason = coalesce(?, stopped_reason)"
                " WHERE station = ? AND id = ?",
            "isss", t, str(info, "stoppedReason"), ev->station, tx))
        return -1;
    if (!isnan(last_wh) &&
        run(db, "UPDATE transactions SET energy_last_wh = ?, energy_last_ms = ? WHERE station = ? AND id = ?"
                " AND (energy_last_ms IS NULL OR energy_last_ms <= ?)",
            "dissi", last_wh, last_ms, ev->station, tx, last_ms))
        return -1;
    if (!isnan(first_wh) &&
        run(db, "UPDATE transactions SET energy_first_wh = ?, energy_first_ms = ? WHERE station = ? AND id = ?"
                " AND (energy_first_ms IS NULL OR energy_first_ms > ?)",
            "dissi", first_wh, first_ms, ev->station, tx, first_ms))
        return -1;
    return 0;
}

static int project_needs(sqlite3 *db, int64_t seq, const struct store_event *ev, const cJSON *p)
{
    (void)seq;
    const cJSON *needs = obj(p, "chargingNeeds");
    const cJSON *ac = obj(needs, "acChargingParameters"), *dc = obj(needs, "dcChargingParameters");
    const cJSON *params = ac ? ac : dc;
    int64_t departure = time_of(needs, "departureTime", -1);
    char *json = cJSON_PrintUnformatted(p);
    int rc = run(db,
               "INSERT OR REPLACE INTO ev_needs(station, evse_id, updated_ms, departure_ms, energy_wh,"
               " requested_transfer, ev_max_current_a, ev_max_voltage_v, ev_max_power_w, state_of_charge, payload)"
               " VALUES(?,?,?,?,?,?,?,?,?,?,?)",
               "siiidsdddds", ev->station, as_i64(num(p, "evseId")), (int64_t)ev->time_ms,
               departure < 0 ? (int64_t)0 : departure, num(params, "energyAmount"), str(needs, "requestedEnergyTransfer"),
               num(params, "evMaxCurrent"), num(params, "evMaxVoltage"), dc ? num(dc, "evMaxPower") : NAN,
               dc ? num(dc, "stateOfCharge") : NAN, json);
    cJSON_free(json);
    return rc;
}

static int put_variable(sqlite3 *db, const struct store_event *ev, const cJSON *comp, const cJSON *var,
                        const char *type, const char *value, const char *status)
{
    const cJSON *evse = obj(comp, "evse");
    const char *ci = str(comp, "instance"), *vi = str(var, "instance");
    return run(db,
               "INSERT OR REPLACE INTO capabilities(station, component, component_instance, evse_id, variable,"
               " variable_instance, attribute_type, value, status, updated_ms) VALUES(?,?,?,?,?,?,?,?,?,?)",
               "sssisssssi", ev->station, str(comp, "name"), ci ? ci : "", evse ? as_i64(num(evse, "id")) : 0,
               str(var, "name"), vi ? vi : "", type ? type : "Actual", value, status, (int64_t)ev->time_ms);
}

/* NotifyReport (B07/B08, after GetBaseReport or GetReport): each part's variables into the station's device model,
 * beside what GetVariables read (status "Reported"). */
static int project_report(sqlite3 *db, int64_t seq, const struct store_event *ev, const cJSON *p)
{
    (void)seq;
    const cJSON *r, *at;
    cJSON_ArrayForEach(r, obj(p, "reportData")) {
        const cJSON *comp = obj(r, "component"), *var = obj(r, "variable");
        if (!str(comp, "name") || !str(var, "name")) continue;
        cJSON_ArrayForEach(at, obj(r, "variableAttribute"))
            if (put_variable(db, ev, comp, var, str(at, "type"), str(at, "value"), "Reported")) return -1;
    }
    return 0;
}

static int project_variables(sqlite3 *db, int64_t seq, const struct store_event *ev, const cJSON *p)
{
    (void)seq;
    const cJSON *r;
    cJSON_ArrayForEach(r, obj(p, "getVariableResult")) {
        if (put_variable(db, ev, obj(r, "component"), obj(r, "variable"), str(r, "attributeType"),
                         str(r, "attributeValue"), str(r, "attributeStatus")))
            return -1;
    }
    return 0;
}

/* NotifyChargingLimit or ClearedChargingLimit (by the action's name), kept with its payload. */
static int project_limit(sqlite3 *db, int64_t seq, const struct store_event *ev, const cJSON *p)
{
    (void)seq;
    bool cleared = ev->action[0] == 'C';
    const cJSON *lim = obj(p, "chargingLimit");
    const char *source = cleared ? str(p, "chargingLimitSource") : str(lim, "chargingLimitSource");
    double evse = num(p, "evseId");
    char *json = cJSON_PrintUnformatted(p);
    int rc = run(db,
                 "INSERT OR REPLACE INTO charging_limits(station, evse_id, source, grid_critical, updated_ms, cleared,"
                 " payload) VALUES(?,?,?,?,?,?,?)",
                 "sisiiis", ev->station, isnan(evse) ? (int64_t)0 : (int64_t)evse, source ? source : "Other",
                 (int64_t)cJSON_IsTrue(obj(lim, "isGridCritical")), (int64_t)ev->time_ms, (int64_t)cleared, json);
    cJSON_free(json);
    return rc;
}

/* ReportChargingProfiles (K09, after GetChargingProfiles): what the station holds, as its last report says (the
 * rows of an earlier request go when a new one reports; one request's parts share its requestId). */
static int project_profiles(sqlite3 *db, int64_t seq, const struct store_event *ev, const cJSON *p)
{
    (void)seq;
    int64_t req = as_i64(num(p, "requestId")), evse = as_i64(num(p, "evseId"));
    const char *source = str(p, "chargingLimitSource");
    if (run(db, "DELETE FROM reported_profiles WHERE station = ? AND request_id <> ?", "si", ev->station, req))
        return -1;
    const cJSON *cp;
    cJSON_ArrayForEach(cp, obj(p, "chargingProfile")) {
        char *json = cJSON_PrintUnformatted(cp);
        int rc = run(db,
                     "INSERT OR REPLACE INTO reported_profiles(station, evse_id, source, profile_id, request_id, purpose,"
                     " stack_level, updated_ms, profile) VALUES(?,?,?,?,?,?,?,?,?)",
                     "sisiisiis", ev->station, evse, source ? source : "CSO", as_i64(num(cp, "id")), req,
                     str(cp, "chargingProfilePurpose"), as_i64(num(cp, "stackLevel")), (int64_t)ev->time_ms, json);
        cJSON_free(json);
        if (rc) return -1;
    }
    return 0;
}

static const char SQL_LAST_SEEN[] = "UPDATE stations SET last_seen_ms = ? WHERE id = ?";

/* MeterValues (whose projection TransactionEvent shares) and the boot's answer, in the table's signature. */
static int on_meter_values(sqlite3 *db, int64_t seq, const struct store_event *ev, const cJSON *p)
{
    return project_meter_values(db, seq, ev, obj(p, "meterValue"), as_i64(num(p, "evseId")), NULL, NULL, NULL, NULL,
                                NULL);
}

static int on_boot_answer(sqlite3 *db, int64_t seq, const struct store_event *ev, const cJSON *p)
{
    (void)seq;
    return run(db, "UPDATE stations SET boot_status = ? WHERE id = ?", "ss", str(p, "status"), ev->station);
}

/* The frames that change a projection; every other one (Heartbeat, Authorize, most answers) is not parsed, and a
 * station's CALL of any kind moves its last_seen_ms. in: received from the station; msg_type 2 CALL, 3 its answer. */
static const struct projector {
    bool in;
    int msg_type;
    const char *action;
    int (*fn)(sqlite3 *db, int64_t seq, const struct store_event *ev, const cJSON *p);
} projectors[] = {
    {true, 2, "BootNotification", project_boot},
    {true, 2, "StatusNotification", project_status},
    {true, 2, "TransactionEvent", project_transaction},
    {true, 2, "MeterValues", on_meter_values},
    {true, 2, "NotifyEVChargingNeeds", project_needs},
    {true, 2, "NotifyReport", project_report},
    {true, 2, "ReportChargingProfiles", project_profiles},
    {true, 2, "NotifyChargingLimit", project_limit},
    {true, 2, "ClearedChargingLimit", project_limit},
    {true, 3, "GetVariables", project_variables},
    {false, 3, "BootNotification", on_boot_answer},
};

static int project_frame(sqlite3 *db, int64_t seq, const struct store_event *ev)
{
    /* Only what was accepted changes the projections: refused frames stay in the log for the record. */
    if (!ev->status || strcmp(ev->status, "ok") != 0 || !ev->action || !ev->data) return 0;
    bool in = strcmp(ev->type, STORE_EV_OCPP_IN) == 0;
    const struct projector *pr = NULL;
    for (size_t i = 0; i < sizeof projectors / sizeof projectors[0] && !pr; i++)
        if (projectors[i].in == in && projectors[i].msg_type == ev->msg_type &&
            strcmp(projectors[i].action, ev->action) == 0)
            pr = &projectors[i];
    int rc = 0;
    if (pr) {
        cJSON *frame = cJSON_Parse(ev->data);
        if (!frame) return 0;
        rc = pr->fn(db, seq, ev, frame_payload(frame, ev->msg_type));
        cJSON_Delete(frame);
    }
    if (!rc && in && ev->msg_type == 2) rc = run(db, SQL_LAST_SEEN, "is", (int64_t)ev->time_ms, ev->station);
    return rc;
}

int store_project(sqlite3 *db, int64_t seq, const struct store_event *ev)
{
    if (!ev->type) return 0;
    if (strcmp(ev->type, STORE_EV_OCPP_IN) == 0 || strcmp(ev->type, STORE_EV_OCPP_OUT) == 0)
        return project_frame(db, seq, ev);
    if (strcmp(ev->type, STORE_EV_CONNECT) == 0)
        return run(db,
                   "INSERT INTO stations(id, connected, connected_ms, last_seen_ms) VALUES(?,1,?,?)"
                   " ON CONFLICT(id) DO UPDATE SET connected=1, connected_ms=excluded.connected_ms,"
                   " last_seen_ms=excluded.last_seen_ms",
                   "sii", ev->station, (int64_t)ev->time_ms, (int64_t)ev->time_ms);
    if (strcmp(ev->type, STORE_EV_DISCONNECT) == 0)
        return run(db, "UPDATE stations SET connected=0, disconnected_ms=? WHERE id=?", "is", (int64_t)ev->time_ms,
                   ev->station);
    if (strcmp(ev->type, STORE_EV_START) == 0)
        /* After a restart no station is connected until it connects again. */
        return run(db, "UPDATE stations SET connected=0 WHERE connected=1", "");
    if (strcmp(ev->type, STORE_EV_PRICES) == 0) {
        /* A newer fetch overwrites what an older one said of the same interval. */
        cJSON *d = cJSON_Parse(ev->data ? ev->data : "{}");
        const char *provider = str(d, "provider");
        const cJSON *row;
        int rc = 0;
        cJSON_ArrayForEach(row, obj(d, "prices")) {
            if (rc || !provider || cJSON_GetArraySize(row) != 3) continue;
            rc = run(db, "INSERT OR REPLACE INTO prices(provider, start_ms, end_ms, price, fetched_ms)"
                         " VALUES(?,?,?,?,?)",
                     "siidi", provider, (int64_t)cJSON_GetArrayItem(row, 0)->valuedouble,
                     (int64_t)cJSON_GetArrayItem(row, 1)->valuedouble, cJSON_GetArrayItem(row, 2)->valuedouble,
                     (int64_t)ev->time_ms);
        }
        cJSON_Delete(d);
        return rc;
    }
    if (strcmp(ev->type, STORE_EV_REGISTRY) == 0) {
        cJSON *d = cJSON_Parse(ev->data ? ev->data : "{}");
        int rc = run(db,
                     "INSERT INTO stations(id, registry_boot, password_hash) VALUES(?,?,?) ON CONFLICT(id) DO UPDATE"
                     " SET registry_boot=coalesce(excluded.registry_boot, registry_boot),"
                     " password_hash=coalesce(excluded.password_hash, password_hash)",
                     "sss", ev->station, str(d, "boot"), str(d, "password_hash"));
        cJSON_Delete(d);
        return rc;
    }
    return 0;
}
