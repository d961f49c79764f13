/* When to fetch: at start, at a cadence, shortly after the provider publishes tomorrow's prices, politely
 * again when a publication is late, and never while the breaker is open. */
#include "internal.h"

#include <limits.h>

void tariff_schedule_for(const tariff_provider *p, struct tariff_schedule *s)
{
    s->cadence_ms = TARIFF_MS_PER_HOUR;
    s->retry_ms = 5 * TARIFF_MS_PER_MIN;
    s->late_poll_ms = 15 * TARIFF_MS_PER_MIN;
    s->publication_minute = p ? p->pub_minute : -1;
    s->publication_delay_ms = p ? p->pub_delay_ms : 10 * TARIFF_MS_PER_MIN;
    s->publication_tz = p ? p->pub_tz : NULL;
}

int tariff_schedule_from_json(const cJSON *obj, struct tariff_schedule *s, char *err, size_t errlen)
{
    static const char *const keys[] = {"cadence_s", "retry_s", "late_poll_s", NULL};
    static const char *const names[] = {"cadence_s", "retry_s", "late_poll_s"};
    int64_t *fields[] = {&s->cadence_ms, &s->retry_ms, &s->late_poll_ms};
    if (!obj)
        return 0;
    if (!cJSON_IsObject(obj) || tariff_json_keys(obj, "schedule", keys, err, errlen) < 0)
        return cJSON_IsObject(obj) ? -1 : (tariff_err(err, errlen, "schedule: need an object"), -1);
    for (int i = 0; i < 3; i++) {
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, names[i]);
        if (!it)
            continue;
        if (!cJSON_IsNumber(it) || it->valuedouble < 10 || it->valuedouble > 7 * 86400)
            return tariff_err(err, errlen, "schedule.%s: need seconds in [10, 604800]", names[i]), -1;
        *fields[i] = (int64_t)(it->valuedouble * 1000);
    }
    return 0;
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* Publication instant (+ delay) on the local day `day_offset` days after the one containing t. */
static int64_t publication(const struct tariff_schedule *s, int64_t t, int day_offset)
{
    struct tariff_local lt;
    tariff_tz_to_local(s->publication_tz, t, &lt);
    int y, m, d;
    tariff_civil_from_days(tariff_days_from_civil(lt.year, lt.month, lt.day) + day_offset, &y, &m, &d);
    return tariff_tz_from_local(s->publication_tz, y, m, d, s->publication_minute / 60, s->publication_minute % 60,
                                0, false) +
           s->publication_delay_ms;
}

int64_t tariff_next_fetch(const struct tariff_schedule *s, int64_t now, int64_t last_attempt, int64_t last_success,
                          int64_t covered_until, const struct tariff_breaker *b)
{
    int64_t next;
    if (last_attempt != INT64_MIN && (last_success == INT64_MIN || last_attempt > last_success)) {
        next = last_attempt + s->retry_ms; /* the last attempt failed */
    } else if (last_success == INT64_MIN) {
        next = now; /* start */
    } else {
        next = last_success + s->cadence_ms;
        if (s->publication_minute >= 0) {
            int64_t pub = publication(s, last_success, 0);
            if (pub <= last_success) {
                /* Already past today's publication: was tomorrow in what we got? If not, it is late. */
                struct tariff_local lt;
                tariff_tz_to_local(s->publication_tz, last_success, &lt);
                int y, m, d;
                tariff_civil_from_days(tariff_days_from_civil(lt.year, lt.month, lt.day) + 2, &y, &m, &d);
                int64_t end_of_tomorrow = tariff_tz_from_local(s->publication_tz, y, m, d, 0, 0, 0, false);
                if (covered_until < end_of_tomorrow)
                    next = min64(next, last_success + s->late_poll_ms);
                pub = publication(s, last_success, 1);
            }
            next = min64(next, pub);
        }
    }
    if (b && b->state == TARIFF_BREAKER_OPEN)
        next = max64(next, b->open_until_ms);
    return max64(next, now);
}
