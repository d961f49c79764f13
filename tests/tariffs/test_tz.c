/* Local time without setenv("TZ"): the TZif reader against glibc (used here as an independent oracle, single
 * threaded), DST days of 23 and 25 hours, ISO 8601 parsing, and time-of-use bands across DST. */
#include "common.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void test_offsets_match_glibc(void)
{
    const char *zones[] = {"Europe/Brussels", "Europe/London", "Europe/Dublin", "America/Los_Angeles",
                           "Australia/Sydney", "Asia/Kolkata", "America/Sao_Paulo", "Europe/Tallinn", "UTC"};
    for (size_t z = 0; z < sizeof zones / sizeof *zones; z++) {
        char err[256];
        tariff_tz *tz = tariff_tz_load(zones[z], NULL, err, sizeof err);
        CHECK(tz != NULL, "zone %s loads (%s)", zones[z], tz ? "ok" : err);
        if (!tz)
            continue;
        setenv("TZ", zones[z], 1);
        tzset();
        int mismatches = 0, checked = 0;
        /* every 3h37m from 1990 to 2060: past the table's end the POSIX footer rules answer */
        for (int64_t t = 631152000; t < 2840140800; t += 13020) {
            time_t tt = (time_t)t;
            struct tm lt;
            localtime_r(&tt, &lt);
            struct tariff_local mine;
            tariff_tz_to_local(tz, t * 1000, &mine);
            checked++;
            if (tariff_tz_offset(tz, t * 1000) != lt.tm_gmtoff || mine.hour != lt.tm_hour || mine.day != lt.tm_mday ||
                mine.wday != lt.tm_wday)
                mismatches++;
        }
        CHECK(mismatches == 0, "%s: offset, local hour, day, weekday equal glibc at %d instants 1990-2060 (%d differ)",
              zones[z], checked, mismatches);
        tariff_tz_free(tz);
    }
    unsetenv("TZ");
    tzset();
}

static void test_dst_days(void)
{
    char err[256];
    tariff_tz *be = tariff_tz_load("Europe/Brussels", NULL, err, sizeof err);
    struct { int y, m, d; int hours; } days[] = {
        {2022, 3, 27, 23}, {2022, 10, 30, 25}, {2022, 6, 1, 24}, {2041, 3, 31, 23}, {2041, 10, 27, 25},
    };
    for (size_t i = 0; i < sizeof days / sizeof *days; i++) {
        int64_t a = tariff_tz_from_local(be, days[i].y, days[i].m, days[i].d, 0, 0, 0, false);
        int64_t b = tariff_tz_day_start(be, a + 30 * TARIFF_MS_PER_HOUR);
        CHECK((b - a) / TARIFF_MS_PER_HOUR == days[i].hours, "Brussels %04d-%02d-%02d lasts %d h (got %lld)",
              days[i].y, days[i].m, days[i].d, days[i].hours, (long long)((b - a) / TARIFF_MS_PER_HOUR));
    }
    /* spring gap: 02:30 does not exist and moves forward to 03:30 CEST = 01:30Z */
    CHECK(tariff_tz_from_local(be, 2022, 3, 27, 2, 30, 0, false) == t_utc(2022, 3, 27, 1, 30),
          "02:30 on the 23-hour day maps to 01:30Z");
    /* fall overlap: 02:30 happens twice, 00:30Z and 01:30Z */
    CHECK(tariff_tz_from_local(be, 2022, 10, 30, 2, 30, 0, false) == t_utc(2022, 10, 30, 0, 30),
          "first 02:30 on the 25-hour day is 00:30Z");
    CHECK(tariff_tz_from_local(be, 2022, 10, 30, 2, 30, 0, true) == t_utc(2022, 10, 30, 1, 30),
          "second 02:30 on the 25-hour day is 01:30Z");
    tariff_tz_free(be);
}

static void test_bad_zone_names(void)
{
    char err[256] = "";
    const char *bad[] = {"../etc/passwd", "/etc/localtime", "Europe/Nowhere", "", "Europe/Brussels;rm"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tariff_tz *tz = tariff_tz_load(bad[i], NULL, err, sizeof err);
        CHECK(tz == NULL && err[0], "zone '%s' refused: %s", bad[i], err);
        tariff_tz_free(tz);
    }
}

static void test_iso8601(void)
{
    char err[256];
    tariff_tz *be = tariff_tz_load("Europe/Brussels", NULL, err, sizeof err);
    struct { const char *s; int64_t want; int ok; } cases[] = {
        {"2022-03-27T01:00:00Z", t_utc(2022, 3, 27, 1, 0), 1},
        {"2022-03-27T03:00:00.000+02:00", t_utc(2022, 3, 27, 1, 0), 1},
        {"2022-03-27T03:00:00+0200", t_utc(2022, 3, 27, 1, 0), 1},
        {"2022-10-30T02:00:00+01:00", t_utc(2022, 10, 30, 1, 0), 1},
        {"2022-10-30T02:00:00+02:00", t_utc(2022, 10, 30, 0, 0), 1},
        {"2022-03-26T23:00Z", t_utc(2022, 3, 26, 23, 0), 1},
        {"2022-01-01T00:00:00", t_utc(2021, 12, 31, 23, 0), 1}, /* naive: Brussels */
        {"2022-01-01T24:00:00", t_utc(2022, 1, 1, 23, 0), 1},
        {"2022-02-30T00:00:00Z", 0, 0},
        {"2022-01-01T25:00:00Z", 0, 0},
        {"2022-01-01X", 0, 0},
        {"yesterday", 0, 0},
        {"2022-01-01T00:00:00Zjunk", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int64_t got = 0;
        int rc = tariff_parse_iso8601(cases[i].s, be, &got);
        if (cases[i].ok)
            CHECK(rc == 0 && got == cases[i].want, "ISO '%s' = %lld (got %lld)", cases[i].s,
                  (long long)cases[i].want, (long long)got);
        else
            CHECK(rc < 0, "ISO '%s' refused", cases[i].s);
    }
    tariff_tz_free(be);
}

static void test_tou_across_dst(void)
{
    char err[256];
    const char *cfg = "{\"weekday\":[{\"from\":\"00:00\",\"price\":0.10},{\"from\":\"07:00\",\"price\":0.30},"
                      "{\"from\":\"22:00\",\"price\":0.10}],"
                      "\"weekend\":[{\"from\":\"00:00\",\"price\":0.05}],\"holidays\":[\"2022-11-01\"]}";
    cJSON *j = cJSON_Parse(cfg);
    struct tariff_tou tou;
    CHECK(tariff_tou_from_json(j, "bands", &tou, err, sizeof err) == 0, "time-of-use bands parse (%s)", err);
    tariff_tz *be = tariff_tz_load("Europe/Brussels", NULL, err, sizeof err);
    /* Monday 2022-03-28 (after the 23-hour Sunday): peak starts 07:00 CEST = 05:00Z */
    CHECK(tariff_tou_at(&tou, be, t_utc(2022, 3, 28, 4, 59)) == 0.10, "Mon 06:59 CEST is off-peak");
    CHECK(tariff_tou_at(&tou, be, t_utc(2022, 3, 28, 5, 0)) == 0.30, "Mon 07:00 CEST (05:00Z) is peak");
    /* Friday 2022-03-25, still CET: 07:00 = 06:00Z */
    CHECK(tariff_tou_at(&tou, be, t_utc(2022, 3, 25, 5, 30)) == 0.10, "Fri 06:30 CET is off-peak");
    CHECK(tariff_tou_at(&tou, be, t_utc(2022, 3, 25, 6, 0)) == 0.30, "Fri 07:00 CET (06:00Z) is peak");
    CHECK(tariff_tou_at(&tou, be, t_utc(2022, 3, 27, 12, 0)) == 0.05, "Sunday is weekend");
    CHECK(tariff_tou_at(&tou, be, t_utc(2022, 11, 1, 12, 0)) == 0.05, "holiday 2022-11-01 (Tue) uses weekend bands");
    CHECK(tariff_tou_at(&tou, be, t_utc(2022, 10, 31, 21, 30)) == 0.10, "Mon 22:30 CET is off-peak again");
    cJSON_Delete(j);

    const char *bad[][2] = {
        {"{\"weekday\":[{\"from\":\"01:00\",\"price\":1}]}", "must start at 00:00"},
        {"{\"weekday\":[{\"from\":\"00:00\",\"price\":1},{\"from\":\"00:00\",\"price\":2}]}", "ascending"},
        {"{\"weekday\":[{\"from\":\"00:00\",\"price\":\"x\"}]}", "price"},
        {"{\"weekday\":[{\"from\":\"00:00\",\"price\":1}],\"holidays\":[\"25/12\"]}", "holidays"},
        {"{\"weekdays\":[]}", "unknown key 'weekdays'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        j = cJSON_Parse(bad[i][0]);
        err[0] = '\0';
        int rc = tariff_tou_from_json(j, "bands", &tou, err, sizeof err);
        CHECK(rc < 0 && strstr(err, bad[i][1]), "bad bands refused, error says '%s': %s", bad[i][1], err);
        cJSON_Delete(j);
    }
    tariff_tz_free(be);
}

int main(void)
{
    test_offsets_match_glibc();
    test_dst_days();
    test_bad_zone_names();
    test_iso8601();
    test_tou_across_dst();
    return t_done();
}
