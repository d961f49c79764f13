/*
 * store_disk.c - the disk watermarks (store.h): how much the file system under the database has free, and what
 * is still written when that runs low. The writer thread measures (after a commit, at most once a second);
 * store_append on the loop thread reads the verdict.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "store_internal.h"

/* Frames that only repeat what their station says again and again, or what nothing derives state from. */
static const char *const bulk_actions[] = {"Heartbeat", "MeterValues", "NotifyEvent", "LogStatusNotification",
                                           "FirmwareStatusNotification", "DataTransfer", NULL};

/* A TransactionEvent CALL of eventType Updated sent for its periodic meter values: the bulk of a charging day. */
static bool periodic_transaction_event(const struct store_event *ev)
{
    if (ev->msg_type != 2 || !ev->action || strcmp(ev->action, "TransactionEvent") != 0 || !ev->data) return false;
    cJSON *frame = cJSON_Parse(ev->data);
    const cJSON *p = cJSON_GetArrayItem(frame, 3);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "eventType");
    const cJSON *why = cJSON_GetObjectItemCaseSensitive(p, "triggerReason");
    bool periodic = cJSON_IsString(type) && strcmp(type->valuestring, "Updated") == 0 && cJSON_IsString(why) &&
                    strcmp(why->valuestring, "MeterValuePeriodic") == 0;
    cJSON_Delete(frame);
    return periodic;
}

bool store_event_essential(const struct store_event *ev)
{
    if (!ev->type || (strcmp(ev->type, STORE_EV_OCPP_IN) != 0 && strcmp(ev->type, STORE_EV_OCPP_OUT) != 0))
        return true;
    for (int i = 0; ev->action && bulk_actions[i]; i++)
        if (strcmp(ev->action, bulk_actions[i]) == 0) return false;
    return !periodic_transaction_event(ev);
}

void store_disk_init(struct store_disk *dk, const char *db_path)
{
    snprintf(dk->dir, sizeof dk->dir, "%s", db_path);
    char *slash = strrchr(dk->dir, '/');
    if (slash) *(slash == dk->dir ? slash + 1 : slash) = 0;
    else snprintf(dk->dir, sizeof dk->dir, ".");
    atomic_store(&dk->free_bytes, -1);
}

void store_disk_update(struct store_disk *dk, int64_t free_bytes)
{
    int64_t warn = atomic_load(&dk->warn_bytes), min = atomic_load(&dk->min_bytes);
    atomic_store(&dk->free_bytes, free_bytes);
    if (free_bytes < 0) return; /* unknown: as it was */
    atomic_store(&dk->low, warn > 0 && free_bytes < warn);
    /* Out of lean only a quarter above the mark: a disk hovering at it does not flap. */
    if (min <= 0 || free_bytes >= min + min / 4) atomic_store(&dk->lean, false);
    else if (free_bytes < min) atomic_store(&dk->lean, true);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void store_disk_measure(struct store_disk *dk, bool now)
{
    int64_t t = mono_ms();
    if (!now && t - dk->measured_mono_ms < 1000) return;
    dk->measured_mono_ms = t;
    struct statvfs vfs;
    store_disk_update(dk, statvfs(dk->dir, &vfs) == 0 ? (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize : -1);
}
