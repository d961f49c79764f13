/*
 * control_circuits.c - the depot's feeder tree (config control.circuits and control.phase_rotation): named
 * circuits under the site's connection, each with its breaker's limit (kW in total, or per phase in kW or A),
 * nested by parent, with stations and EVSEs attached, and which grid phase each station's L1 is wired to. The
 * plan keeps every circuit and phase under its limit in every slot (the optimizer's circuits), and the fail-safe
 * floors are kept per circuit (control_floors.c), so the tree holds while depotd is down too.
 * Main thread at start (parse), loop thread after.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_internal.h"
#include "floors.h"

static const char *const ROTATIONS[6] = {"L1L2L3", "L2L3L1", "L3L1L2", "L1L3L2", "L3L2L1", "L2L1L3"};

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

/* "CS001" (the station) or "CS001/2" (its EVSE 2). */
static int parse_target(const char *s, char *station, size_t station_len, int *evse)
{
    const char *slash = strrchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    *evse = 0;
    if (n == 0 || n >= station_len) return -1;
    if (slash) {
        char *end;
        long e = strtol(slash + 1, &end, 10);
        if (*end || e < 1 || e > CTL_EVSE_MAX) return -1;
        *evse = (int)e;
    }
    memcpy(station, s, n);
    station[n] = 0;
    return 0;
}

int ctl_circuit_find(const struct ctl_config *cfg, const char *id)
{
    for (int c = 0; c < cfg->n_circuits; c++)
        if (strcmp(cfg->circuits[c].id, id) == 0) return c;
    return -1;
}

static int add_attach(struct ctl_config *cfg, const char *target, int circuit, char *err, size_t len)
{
    struct ctl_attach a = {.circuit = circuit};
    if (parse_target(target, a.station, sizeof a.station, &a.evse))
        return fail(err, len, "control.circuits[%s].stations: \"%s\" is not a station id or STATION/EVSE",
                    cfg->circuits[circuit].id, target);
    for (int i = 0; i < cfg->n_attach; i++) {
        const struct ctl_attach *o = &cfg->attach[i];
        if (strcmp(o->station, a.station) == 0 && (o->evse == 0 || a.evse == 0 || o->evse == a.evse)) {
            char both[160];
            snprintf(both, sizeof both, "%s and %s", cfg->circuits[o->circuit].id, cfg->circuits[circuit].id);
            return fail(err, len, "control.circuits: station %s is on two circuits (%s)", target, both);
        }
    }
    struct ctl_attach *na = realloc(cfg->attach, ((size_t)cfg->n_attach + 1) * sizeof *na);
    if (!na) return fail(err, len, "out of memory");
    cfg->attach = na;
    cfg->attach[cfg->n_attach++] = a;
    return 0;
}

static int parse_one(struct ctl_config *cfg, const cJSON *o, int c, const char **parents, char *err, size_t len)
{
    static const char *const keys[] = {"id", "parent", "limit_kw", "limit_a", "per_phase", "stations", NULL};
    struct ctl_circuit *ci = &cfg->circuits[c];
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id"), *it;
    if (!cJSON_IsString(id) || !id->valuestring[0] || strlen(id->valuestring) >= sizeof ci->id)
        return fail(err, len, "control.circuits[]: needs an \"id\" of 1 to 47 characters");
    snprintf(ci->id, sizeof ci->id, "%s", id->valuestring);
    if (ctl_circuit_find(cfg, ci->id) >= 0) return fail(err, len, "control.circuits: id \"%s\" twice", ci->id);
    cJSON_ArrayForEach(it, o) {
        bool known = it->string[0] == '_';
        for (int k = 0; keys[k] && !known; k++) known = strcmp(it->string, keys[k]) == 0;
        if (!known) return fail(err, len, "control.circuits[%s].%s: unknown key", ci->id, it->string);
    }
    const cJSON *kw = cJSON_GetObjectItemCaseSensitive(o, "limit_kw"), *amps = cJSON_GetObjectItemCaseSensitive(o, "limit_a");
    const cJSON *pp = cJSON_GetObjectItemCaseSensitive(o, "per_phase"), *parent = cJSON_GetObjectItemCaseSensitive(o, "parent");
    if (!kw == !amps) return fail(err, len, "control.circuits[%s]: give limit_kw or limit_a (one)", ci->id);
    const cJSON *lim = kw ? kw : amps;
    if (!cJSON_IsNumber(lim) || lim->valuedouble < 0 || lim->valuedouble > 1e6)
        return fail(err, len, "control.circuits[%s].%s: must be a number in [0, 1e6]", ci->id, kw ? "limit_kw" : "limit_a");
    if (pp && !cJSON_IsBool(pp)) return fail(err, len, "control.circuits[%s].per_phase: true or false", ci->id);
    /* A breaker rated in A trips on any one phase's current. */
    ci->per_phase = amps || cJSON_IsTrue(pp);
    ci->limit_kw = kw ? kw->valuedouble : amps->valuedouble * cfg->nominal_voltage_v / 1000.0;
    if (parent && (!cJSON_IsString(parent) || !parent->valuestring[0]))
        return fail(err, len, "control.circuits[%s].parent: must be another circuit's id", ci->id);
    parents[c] = parent ? parent->valuestring : NULL;
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "stations");
    if (st && !cJSON_IsArray(st)) return fail(err, len, "control.circuits[%s].stations: must be an array", ci->id);
    cJSON_ArrayForEach(it, st) {
        if (!cJSON_IsString(it)) return fail(err, len, "control.circuits[%s].stations: strings only", ci->id);
        if (add_attach(cfg, it->valuestring, c, err, len)) return -1;
    }
    cfg->n_circuits = c + 1;
    return 0;
}

/* Parents before children (the optimizer's order): a circuit's depth first, stable within one depth. */
static int order_tree(struct ctl_config *cfg, const char **parents, char *err, size_t len)
{
    int n = cfg->n_circuits, *par = malloc(((size_t)n + 1) * sizeof *par), *depth = calloc((size_t)n + 1, sizeof *depth);
    if (!par || !depth) {
        free(par), free(depth);
        return fail(err, len, "out of memory");
    }
    int rc = 0;
    for (int c = 0; c < n && !rc; c++) {
        par[c] = parents[c] ? ctl_circuit_find(cfg, parents[c]) : -1;
        if (parents[c] && par[c] < 0)
            rc = fail(err, len, "control.circuits[%s].parent: no circuit \"%s\"", cfg->circuits[c].id, parents[c]);
    }
    for (int c = 0; c < n && !rc; c++) {
        int steps = 0;
        for (int p = par[c]; p >= 0; p = par[p])
            if (++steps > n) {
                rc = fail(err, len, "control.circuits[%s].parent: a cycle (a circuit is its own ancestor)",
                          cfg->circuits[c].id);
                break;
            }
        depth[c] = steps;
    }
    struct ctl_circuit *sorted = rc ? NULL : malloc((size_t)n * sizeof *sorted);
    int *new_of = rc ? NULL : malloc((size_t)n * sizeof *new_of);
    if (!rc && (!sorted || !new_of)) rc = fail(err, len, "out of memory");
    if (!rc) {
        int k = 0;
        for (int d = 0; d <= n; d++)
            for (int c = 0; c < n; c++)
                if (depth[c] == d) new_of[c] = k, sorted[k++] = cfg->circuits[c];
        for (int c = 0; c < n; c++) sorted[new_of[c]].parent = par[c] < 0 ? -1 : new_of[par[c]];
        for (int i = 0; i < cfg->n_attach; i++) cfg->attach[i].circuit = new_of[cfg->attach[i].circuit];
        memcpy(cfg->circuits, sorted, (size_t)n * sizeof *sorted);
    }
    free(sorted), free(new_of), free(par), free(depth);
    return rc;
}

static int parse_rotation(struct ctl_config *cfg, const cJSON *rot, char *err, size_t len)
{
    if (!cJSON_IsObject(rot))
        return fail(err, len, "control.phase_rotation: an object {\"STATION\" or \"STATION/EVSE\": \"L2L3L1\", ...}");
    cfg->rotations = calloc((size_t)cJSON_GetArraySize(rot) + 1, sizeof *cfg->rotations);
    if (!cfg->rotations) return fail(err, len, "out of memory");
    const cJSON *it;
    cJSON_ArrayForEach(it, rot) {
        if (it->string[0] == '_') continue;
        struct ctl_rotation *r = &cfg->rotations[cfg->n_rotations];
        if (parse_target(it->string, r->station, sizeof r->station, &r->evse))
            return fail(err, len, "control.phase_rotation.%s: not a station id or STATION/EVSE", it->string);
        r->rotation = -1;
        for (int k = 0; k < 6 && cJSON_IsString(it); k++)
            if (strcmp(it->valuestring, ROTATIONS[k]) == 0) r->rotation = k;
        if (r->rotation < 0)
            return fail(err, len, "control.phase_rotation.%s: one of L1L2L3, L2L3L1, L3L1L2, L1L3L2, L3L2L1, L2L1L3 "
                        "(the grid phases the station's L1, L2, L3 are wired to)", it->string);
        cfg->n_rotations++;
    }
    return 0;
}

int ctl_circuits_parse(struct ctl_config *cfg, const cJSON *circuits, const cJSON *rotation, char *err, size_t len)
{
    if (rotation && parse_rotation(cfg, rotation, err, len)) return -1;
    if (!circuits) return 0;
    int n = cJSON_GetArraySize(circuits);
    if (!cJSON_IsArray(circuits) || n > CTL_CIRCUITS_MAX)
        return fail(err, len, "control.circuits: an array of at most 64 circuits {\"id\", \"parent\", \"limit_kw\" or "
                    "\"limit_a\", \"per_phase\", \"stations\"}");
    cfg->circuits = calloc((size_t)n + 1, sizeof *cfg->circuits);
    const char **parents = calloc((size_t)n + 1, sizeof *parents);
    int rc = cfg->circuits && parents ? 0 : fail(err, len, "out of memory");
    for (int c = 0; c < n && !rc; c++) rc = parse_one(cfg, cJSON_GetArrayItem(circuits, c), c, parents, err, len);
    if (!rc) rc = order_tree(cfg, parents, err, len);
    free(parents);
    return rc;
}

void ctl_circuits_free(struct ctl_config *cfg)
{
    free(cfg->circuits), free(cfg->attach), free(cfg->rotations);
    cfg->circuits = NULL, cfg->attach = NULL, cfg->rotations = NULL;
    cfg->n_circuits = cfg->n_attach = cfg->n_rotations = 0;
}

int ctl_circuit_of(const struct ctl_config *cfg, const char *station, int evse)
{
    int found = -1;
    for (int i = 0; i < cfg->n_attach; i++) {
        const struct ctl_attach *a = &cfg->attach[i];
        if (strcmp(a->station, station) != 0) continue;
        if (a->evse == evse) return a->circuit;
        if (a->evse == 0) found = a->circuit;
    }
    return found;
}

enum opt_phases ctl_session_phases(const struct ctl_config *cfg, const char *station, int evse, int phases)
{
    if (phases != 1) return OPT_THREE_PHASE; /* 3-phase, DC, or not known: balanced */
    int rot = 0; /* the EVSE's own rotation, else its station's, else none */
    for (int i = 0; i < cfg->n_rotations; i++)
        if (cfg->rotations[i].evse == 0 && strcmp(cfg->rotations[i].station, station) == 0) rot = cfg->rotations[i].rotation;
    for (int i = 0; i < cfg->n_rotations; i++)
        if (evse && cfg->rotations[i].evse == evse && strcmp(cfg->rotations[i].station, station) == 0)
            rot = cfg->rotations[i].rotation;
    /* The station's L1 is the grid's ROTATIONS[rot][1]. */
    return (enum opt_phases)(ROTATIONS[rot][1] - '0');
}

/* Whether a per-phase circuit is above the EVSE (evse 0: above any EVSE of the station). Its profiles then go in
 * A per phase where the station takes A: a limit in W lets a single-phase car draw all of it on one phase, three
 * times what the plan counted there; a limit in A bounds each phase's current whatever the car. */
bool ctl_circuits_per_phase(const struct ctl_config *cfg, const char *station, int evse)
{
    for (int i = 0; i < cfg->n_attach; i++) {
        const struct ctl_attach *a = &cfg->attach[i];
        if (strcmp(a->station, station) != 0 || (evse && a->evse && a->evse != evse)) continue;
        for (int c = a->circuit; c >= 0; c = cfg->circuits[c].parent)
            if (cfg->circuits[c].per_phase) return true;
    }
    return false;
}

/* The circuit's limit at t: the configured one, or a temporary one set through the API while it lasts (only ever
 * lower: it is a curtailment, like the site's). */
double ctl_circuit_limit_kw(const struct control *ctl, int c, int64_t t)
{
    const struct ctl_circuit_limit *l = &ctl->circuit_limit[c];
    double kw = ctl->cfg.circuits[c].limit_kw;
    return l->kw >= 0 && t < l->until_ms && l->kw < kw ? l->kw : kw;
}

int control_set_circuit_limit(struct depot *d, const char *id, double kw, int64_t until_ms, const char *who, char *err,
                              size_t err_len)
{
    struct control *ctl = d->control;
    if (!ctl || !ctl->cfg.enabled) {
        snprintf(err, err_len, "control is not enabled");
        return -1;
    }
    int c = ctl_circuit_find(&ctl->cfg, id);
    if (c < 0) {
        snprintf(err, err_len, "no circuit \"%s\" in control.circuits", id);
        return -2;
    }
    if (kw > ctl->cfg.circuits[c].limit_kw) {
        snprintf(err, err_len, "%g kW is above %s's configured %g kW%s; a temporary limit may only lower it", kw, id,
                 ctl->cfg.circuits[c].limit_kw, ctl->cfg.circuits[c].per_phase ? " per phase" : "");
        return -3;
    }
    struct ctl_circuit_limit *l = &ctl->circuit_limit[c];
    l->kw = kw;
    l->until_ms = kw < 0 ? 0 : until_ms;
    snprintf(l->by, sizeof l->by, "%s", who ? who : "");
    cJSON *o = cJSON_CreateObject();
    char buf[40];
    cJSON_AddStringToObject(o, "circuit", id);
    if (kw >= 0) {
        cJSON_AddNumberToObject(o, "kw", kw);
        cJSON_AddStringToObject(o, "until", ocpp_time_format(until_ms, buf));
    } else {
        cJSON_AddNullToObject(o, "kw");
    }
    cJSON_AddStringToObject(o, "by", l->by);
    ctl_log_event(ctl, "circuit_limit", NULL, o);
    ctl_replan(ctl, "limit");
    return 0;
}

/* What a draw of kw loads the circuit's limit by: a per-phase limit counts a 3-phase draw by a third, a 1-phase
 * draw whole (on its phase: the one limit per slot stands for the three phases, so it is taken off all). */
double ctl_circuit_load_kw(const struct ctl_circuit *c, enum opt_phases ph, double kw)
{
    return c->per_phase && ph == OPT_THREE_PHASE ? kw / 3.0 : kw;
}

/* ---- the fail-safe floors per circuit (TxDefaultProfile) --------------------------------------------------------- */

static enum opt_phases evse_phases(const struct ctl_config *cfg, const struct ctl_station *cs, const struct ctl_evse *e)
{
    return ctl_session_phases(cfg, cs->st->id, e->id, e->phases ? e->phases : cs->supply_phases);
}

/* Adds what one EVSE loads (w, by its phases) to the per-circuit sums of its circuit and every one above. */
static void add_up(const struct ctl_config *cfg, const struct ctl_station *cs, const struct ctl_evse *e, double w,
                   double *sum)
{
    enum opt_phases ph = evse_phases(cfg, cs, e);
    for (int c = ctl_circuit_of(cfg, cs->st->id, e->id); c >= 0; c = cfg->circuits[c].parent)
        sum[c] += ctl_circuit_load_kw(&cfg->circuits[c], ph, w);
}

static bool under(const struct ctl_config *cfg, int leaf, int c)
{
    for (int x = leaf; x >= 0; x = cfg->circuits[x].parent)
        if (x == c) return true;
    return false;
}

/* Adds (sign 1) or takes back (-1) one ask's floor in the sums of its circuit and every one above. */
static void count_floor(const struct ctl_config *cfg, int leaf, enum opt_phases ph, double w, double sign, double *sum)
{
    for (int c = leaf; c >= 0; c = cfg->circuits[c].parent) sum[c] += sign * ctl_circuit_load_kw(&cfg->circuits[c], ph, w);
}

/* The floors granted made to fit every circuit, deepest first, by the site's rule (floors.h: all when they fit
 * beside the sessions at their maximum, else the idle reserve's share of the circuit, never more than is left): a
 * station whose floors do not fit is taken back whole (one TxDefaultProfile for all its EVSEs), those that had none
 * before first, the last asked first. spare_w[c] is then what each circuit has left beside everything under it at
 * most (for the defaults' spare share). ask_cs/ask_e: each ask's station and EVSE. */
void ctl_circuits_fit_floors(const struct control *ctl, struct floor_ask *a, int n, struct ctl_station *const *ask_cs,
                             const struct ctl_evse *const *ask_e, double *spare_w)
{
    const struct ctl_config *cfg = &ctl->cfg;
    int nc = cfg->n_circuits;
    double committed[CTL_CIRCUITS_MAX] = {0}, demand[CTL_CIRCUITS_MAX] = {0}, floors[CTL_CIRCUITS_MAX] = {0};
    for (const struct ctl_station *cs = ctl->stations; cs; cs = cs->next)
        for (int k = 1; k <= cs->max_evse; k++) {
            double cm = 0, dm = 0;
            ctl_evse_load(ctl, cs, &cs->evse[k], &cm, &dm);
            add_up(cfg, cs, &cs->evse[k], cm, committed);
            add_up(cfg, cs, &cs->evse[k], dm, demand);
        }
    int *leaf = malloc(((size_t)n + 1) * sizeof *leaf);
    enum opt_phases *ph = malloc(((size_t)n + 1) * sizeof *ph);
    for (int x = 0; leaf && ph && x < n; x++) {
        leaf[x] = ctl_circuit_of(cfg, ask_cs[x]->st->id, ask_e[x]->id);
        ph[x] = evse_phases(cfg, ask_cs[x], ask_e[x]);
        if (a[x].granted) count_floor(cfg, leaf[x], ph[x], a[x].w, 1, floors);
    }
    for (int c = nc - 1; c >= 0 && leaf && ph; c--)
        for (int pass = 0; pass < 2; pass++)
            for (int i = n - 1; i >= 0; i--) {
                double limit = ctl_circuit_limit_kw(ctl, c, ctl_now(ctl)) * 1000.0;
                if (floors[c] <= floors_budget(limit, committed[c], demand[c], floors[c], cfg->idle_reserve_pct) + 0.5)
                    break;
                if (!a[i].granted || a[i].had != (pass == 1) || !under(cfg, leaf[i], c)) continue;
                for (int x = 0; x < n; x++)
                    if (a[x].granted && a[x].station == a[i].station) {
                        a[x].granted = false;
                        count_floor(cfg, leaf[x], ph[x], a[x].w, -1, floors);
                    }
            }
    if (!leaf || !ph) /* out of memory: no floor is safer than one that may not fit */
        for (int x = 0; x < n; x++) a[x].granted = false;
    free(leaf);
    free(ph);
    for (int c = 0; c < nc; c++)
        spare_w[c] = ctl_circuit_limit_kw(ctl, c, ctl_now(ctl)) * 1000.0 - committed[c] - demand[c] - floors[c];
}

/* How far one EVSE's default may rise (w more) so that every circuit above it keeps within spare_w; then that is
 * taken from them. */
double ctl_circuits_take_spare(const struct control *ctl, const struct ctl_station *cs, const struct ctl_evse *e,
                               double want_w, double *spare_w)
{
    const struct ctl_config *cfg = &ctl->cfg;
    if (!cfg->n_circuits) return want_w;
    enum opt_phases ph = evse_phases(cfg, cs, e);
    double w = want_w;
    for (int c = ctl_circuit_of(cfg, cs->st->id, e->id); c >= 0; c = cfg->circuits[c].parent) {
        double f = ctl_circuit_load_kw(&cfg->circuits[c], ph, 1.0);
        w = fmin(w, fmax(0, spare_w[c]) / f);
    }
    for (int c = ctl_circuit_of(cfg, cs->st->id, e->id); c >= 0; c = cfg->circuits[c].parent)
        spare_w[c] -= ctl_circuit_load_kw(&cfg->circuits[c], ph, w);
    return w;
}

/* ---- reports ------------------------------------------------------------------------------------------------------ */

/* Per circuit, what the plan's sessions load it by at most over the horizon (the worst phase of a per-phase one) and
 * the least room that leaves in any slot under the limit in force then; the idle floors reserved beside them are not
 * in it. NULL without circuits. */
/* What the stations measured on each circuit now (the EVSEs' latest Power.Active.Import), per grid phase. */
static void measured_load(struct control *ctl, double load[CTL_CIRCUITS_MAX][3])
{
    const struct ctl_config *cfg = &ctl->cfg;
    memset(load, 0, sizeof(double) * CTL_CIRCUITS_MAX * 3);
    for (struct ctl_station *cs = ctl->stations; cs; cs = cs->next)
        for (int k = 1; k <= cs->max_evse; k++) {
            const struct ctl_evse *e = &cs->evse[k];
            if (!e->active || !(e->power_w > 0)) continue;
            enum opt_phases ph = ctl_session_phases(cfg, cs->st->id, k, ctl_session_phase_count(cs, e));
            double kw = e->power_w / 1000.0;
            for (int c = ctl_circuit_of(cfg, cs->st->id, k); c >= 0; c = cfg->circuits[c].parent)
                for (int l = 0; l < 3; l++) load[c][l] += ph == OPT_THREE_PHASE ? kw / 3.0 : (l == (int)ph - 1 ? kw : 0);
        }
}

cJSON *ctl_circuits_plan_json(struct control *ctl, const struct ctl_plan *p)
{
    const struct ctl_config *cfg = &ctl->cfg;
    if (!cfg->n_circuits) return NULL;
    int nc = cfg->n_circuits;
    double peak[CTL_CIRCUITS_MAX] = {0}, load[CTL_CIRCUITS_MAX][3], room[CTL_CIRCUITS_MAX];
    for (int c = 0; c < nc; c++) room[c] = INFINITY;
    for (int t = 0; p && t < p->slots; t++) {
        memset(load, 0, sizeof load);
        for (int i = 0; i < p->n; i++) {
            const struct ctl_plan_session *ps = &p->sessions[i];
            struct ctl_station *cs = ctl_station_find(ctl, ps->station);
            struct ctl_evse *e = cs ? ctl_evse(cs, ps->evse) : NULL;
            int phases = e ? ctl_session_phase_count(cs, e) : 3;
            enum opt_phases ph = ctl_session_phases(cfg, ps->station, ps->evse, phases);
            double kw = p->kw[(size_t)i * p->slots + t];
            for (int c = ctl_circuit_of(cfg, ps->station, ps->evse); c >= 0; c = cfg->circuits[c].parent)
                for (int l = 0; l < 3; l++)
                    load[c][l] += ph == OPT_THREE_PHASE ? kw / 3.0 : (l == (int)ph - 1 ? kw : 0);
        }
        for (int c = 0; c < nc; c++) {
            double v = cfg->circuits[c].per_phase ? fmax(load[c][0], fmax(load[c][1], load[c][2]))
                                                  : load[c][0] + load[c][1] + load[c][2];
            peak[c] = fmax(peak[c], v);
            room[c] = fmin(room[c], ctl_circuit_limit_kw(ctl, c, p->at[t]) - v);
        }
    }
    double measured[CTL_CIRCUITS_MAX][3];
    measured_load(ctl, measured);
    cJSON *a = cJSON_CreateArray();
    for (int c = 0; c < nc; c++) {
        const struct ctl_circuit *ci = &cfg->circuits[c];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", ci->id);
        if (ci->parent >= 0) cJSON_AddStringToObject(o, "parent", cfg->circuits[ci->parent].id);
        else cJSON_AddNullToObject(o, "parent");
        cJSON_AddBoolToObject(o, "per_phase", ci->per_phase);
        int64_t now = ctl_now(ctl);
        double in_force = ctl_circuit_limit_kw(ctl, c, now);
        cJSON_AddNumberToObject(o, "limit_kw", round(ci->limit_kw * 1000) / 1000);
        cJSON_AddNumberToObject(o, "limit_in_force_kw", round(in_force * 1000) / 1000);
        const struct ctl_circuit_limit *l = &ctl->circuit_limit[c];
        if (l->kw >= 0 && now < l->until_ms) {
            char buf[40];
            cJSON *t = cJSON_AddObjectToObject(o, "temporary");
            cJSON_AddNumberToObject(t, "kw", l->kw);
            cJSON_AddStringToObject(t, "until", ocpp_time_format(l->until_ms, buf));
            cJSON_AddStringToObject(t, "set_by", l->by);
        } else {
            cJSON_AddNullToObject(o, "temporary");
        }
        cJSON_AddNumberToObject(o, "planned_peak_kw", round(peak[c] * 1000) / 1000);
        /* Measured now: the total, or the worst phase of a per-phase circuit (as its limit counts). */
        double m = ci->per_phase ? fmax(measured[c][0], fmax(measured[c][1], measured[c][2]))
                                 : measured[c][0] + measured[c][1] + measured[c][2];
        cJSON_AddNumberToObject(o, "measured_kw", round(m * 1000) / 1000);
        /* The least room the plan leaves in any slot, against the limit in force then (a temporary one ends). */
        cJSON_AddNumberToObject(o, "headroom_kw", round((isfinite(room[c]) ? room[c] : in_force) * 1000) / 1000);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

cJSON *control_circuits_json(struct depot *d)
{
    return d->control ? ctl_circuits_plan_json(d->control, d->control->plan) : NULL;
}
