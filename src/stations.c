/* The station registry: stations from the config and from auto-registration, by id. Loop thread only. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control.h"
#include "depot.h"
#include "log.h"

int64_t depot_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t depot_mono_ms(void) { return depot_mono_us() / 1000; }

int64_t depot_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t hash_id(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

struct station *depot_station_find(struct depot *d, const char *id)
{
    if (!d->buckets) return NULL;
    for (struct station *s = d->buckets[hash_id(id) % d->n_buckets]; s; s = s->next)
        if (strcmp(s->id, id) == 0) return s;
    return NULL;
}

struct station *depot_station_add(struct depot *d, const char *id, enum cfg_boot boot, const char *password_hash)
{
    if (!d->buckets) {
        d->n_buckets = 4096;
        d->buckets = calloc(d->n_buckets, sizeof *d->buckets);
        if (!d->buckets) return NULL;
    }
    struct station *s = depot_station_find(d, id);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return NULL;
        snprintf(s->id, sizeof s->id, "%s", id);
        s->security_profile = config_station_profile(&d->cfg, NULL);
        size_t b = hash_id(id) % d->n_buckets;
        s->next = d->buckets[b];
        d->buckets[b] = s;
        d->n_stations++;
    }
    s->registry_boot = boot;
    if (password_hash) snprintf(s->password_hash, sizeof s->password_hash, "%s", password_hash);
    s->has_verified_mac = s->has_failed_mac = false;
    return s;
}

static enum ocpp_boot_state boot_state_of(const char *status)
{
    if (!status) return OCPP_BOOT_NONE;
    if (strcmp(status, "Accepted") == 0) return OCPP_BOOT_ACCEPTED;
    if (strcmp(status, "Pending") == 0) return OCPP_BOOT_PENDING;
    return strcmp(status, "Rejected") == 0 ? OCPP_BOOT_REJECTED : OCPP_BOOT_NONE;
}

static void on_stored_station(void *ctx, const struct store_station_row *row)
{
    struct depot *d = ctx;
    struct station *s = depot_station_find(d, row->id);
    /* The config wins over what auto-registration stored; a station seen but never registered must connect
     * again under the rules. */
    if (!s && row->password_hash && (s = depot_station_add(d, row->id, CFG_BOOT_PENDING, row->password_hash)))
        d->n_auto_registered++; /* registered itself once (auto_register_max counts it) */
    if (s) s->last_boot = boot_state_of(row->boot_status);
}

/* Start-up, newest registry event first: a configured station's newest A01 rotation stands while the config
 * still has the hash it had then (auto-registered stations get theirs from the stations projection). */
static int on_rotation(void *ctx, const char *data)
{
    struct depot *d = ctx;
    cJSON *o = cJSON_Parse(data);
    const char *src = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "source"));
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "station"));
    const char *hash = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "password_hash"));
    const char *was = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "config_hash"));
    struct station *st = src && id && hash && strcmp(src, "api_password") == 0 ? depot_station_find(d, id) : NULL;
    const struct cfg_station *cs = st ? config_find_station(&d->cfg, id) : NULL;
    if (st && !st->rotation_restored) {
        st->rotation_restored = true;
        if (cs && was && strcmp(cs->password_hash, was) == 0)
            snprintf(st->password_hash, sizeof st->password_hash, "%s", hash);
    }
    cJSON_Delete(o);
    return 0;
}

int depot_load_stations(struct depot *d, char *err, size_t err_len)
{
    if (RAND_bytes(d->mac_key, sizeof d->mac_key) != 1) {
        snprintf(err, err_len, "no randomness for the password cache key");
        return -1;
    }
    for (size_t i = 0; i < d->cfg.n_stations; i++) {
        const struct cfg_station *cs = &d->cfg.stations[i];
        struct station *s = depot_station_add(d, cs->id, cs->boot, cs->password_hash[0] ? cs->password_hash : NULL);
        if (!s) {
            snprintf(err, err_len, "out of memory loading stations");
            return -1;
        }
        s->security_profile = config_station_profile(&d->cfg, cs);
    }
    if (store_each_station(d->store, on_stored_station, d)) {
        snprintf(err, err_len, "cannot read the stations table");
        return -1;
    }
    if (store_each_station_event(d->store, STORE_EV_REGISTRY, NULL, 1000000, on_rotation, d)) {
        snprintf(err, err_len, "cannot read the registry events");
        return -1;
    }
    return 0;
}

static void password_mac(const struct depot *d, const char *password, unsigned char mac[32])
{
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), d->mac_key, sizeof d->mac_key, (const unsigned char *)password, strlen(password), mac, &mac_len);
}

int depot_station_password_known(const struct depot *d, const struct station *st, const char *password)
{
    unsigned char mac[32];
    password_mac(d, password, mac);
    if (st->has_verified_mac) return CRYPTO_memcmp(mac, st->verified_mac, sizeof mac) == 0 ? 1 : 0;
    if (st->has_failed_mac && CRYPTO_memcmp(mac, st->failed_mac, sizeof mac) == 0) return 0;
    return -1;
}

void depot_station_password_checked(const struct depot *d, struct station *st, const char *password, bool ok)
{
    unsigned char mac[32];
    password_mac(d, password, mac);
    memcpy(ok ? st->verified_mac : st->failed_mac, mac, sizeof mac);
    if (ok) st->has_verified_mac = true;
    else st->has_failed_mac = true;
}

/* What transit can make a clock look off by, on the planning clock: 1 ms of it is 3 s at 3000 x real speed. */
static double clock_noise_ms(void)
{
    double noise = 20.0 * depot_clock_speed();
    return noise < 2000 ? 2000 : noise;
}

void depot_station_clock_sample(struct depot *d, struct station *st, int64_t station_ms, int64_t now_ms)
{
    clock_offset_sample(&st->clock, station_ms, now_ms, clock_noise_ms());
    /* Logged and judged against the tolerance only once it is what depotd acts on (depot_station_clock). */
    if (!clock_offset_settled(&st->clock, now_ms)) return;
    int64_t hi = st->clock.offset_ms;
    bool first = !st->clock_reported;
    st->clock_reported = true;
    int64_t tol = (int64_t)d->cfg.clock_skew_tolerance_s * 1000;
    bool over = llabs(hi) > tol;
    /* Logged when first measured, when it moves by more than a tenth of the tolerance (at least 5 s), and when it
     * crosses the tolerance: a drifting clock shows in the log without a line per message. */
    int64_t step = tol / 10 > 5000 ? tol / 10 : 5000;
    if (!first && llabs(hi - st->clock_logged_ms) < step && over == st->clock_warned) return;
    st->clock_logged_ms = hi;
    char json[128];
    snprintf(json, sizeof json, "{\"offset_s\":%.1f,\"samples\":%d,\"tolerance_s\":%d,\"beyond_tolerance\":%s}",
             (double)hi / 1000.0, st->clock.n, d->cfg.clock_skew_tolerance_s, over ? "true" : "false");
    depot_log_station_event(d, "clock_offset", st->id, json);
    if (over && !st->clock_warned)
        log_warn("ocpp", st->id, "clock %+.0f s off depotd's, beyond clock_skew_tolerance_s (%d): its profiles may "
                 "apply at the wrong time; sync it (Heartbeat currentTime is depotd's clock)", (double)hi / 1000.0,
                 d->cfg.clock_skew_tolerance_s);
    else if (!over && st->clock_warned)
        log_info("ocpp", st->id, "clock back within clock_skew_tolerance_s: %+.1f s", (double)hi / 1000.0);
    st->clock_warned = over;
}

void depot_station_clock(const struct depot *d, const struct station *st, int64_t *offset_ms, int64_t *uncertainty_ms)
{
    /* Before the first estimate settles, on depotd's time, as if in sync; after, the last settled one, give or take
     * what a message takes: a round trip of depotd's CALLs bounds one way (10 ms until one was measured). */
    int64_t rtt_us = st->conn && st->conn->rtt_us > 0 ? st->conn->rtt_us : 10000;
    int64_t transit_ms = (int64_t)ceil((double)rtt_us / 1000.0 * depot_clock_speed());
    clock_offset_window(&st->clock, depot_now_ms(), clock_noise_ms(), (int64_t)d->cfg.clock_skew_tolerance_s * 1000,
                        transit_ms, offset_ms, uncertainty_ms);
}

void depot_station_rotate_password(struct depot *d, struct station *st, const char *new_hash)
{
    snprintf(st->previous_hash, sizeof st->previous_hash, "%s", st->password_hash);
    snprintf(st->password_hash, sizeof st->password_hash, "%s", new_hash);
    st->has_verified_mac = st->has_failed_mac = false;
    /* With the config's hash of the time: a restart keeps the new one unless the operator changed the config. */
    const struct cfg_station *cs = config_find_station(&d->cfg, st->id);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "station", st->id);
    cJSON_AddStringToObject(o, "password_hash", new_hash);
    cJSON_AddStringToObject(o, "source", "api_password");
    if (cs) cJSON_AddStringToObject(o, "config_hash", cs->password_hash);
    char *json = cJSON_PrintUnformatted(o);
    depot_log_station_event(d, STORE_EV_REGISTRY, st->id, json);
    cJSON_free(json);
    cJSON_Delete(o);
}

