/* test_time.c - RFC 3339 date-time parsing (the schemas' "format": "date-time") and formatting. */
#include "check.h"
#include "ocpp.h"

#include <inttypes.h>

struct tcase {
    const char *text;
    int rc;
    int64_t ms;
};

static const struct tcase cases[] = {
    {"1970-01-01T00:00:00Z", 0, 0},
    {"2026-11-26T10:00:00Z", 0, 1795687200000},
    {"2026-11-26T10:00:00.5Z", 0, 1795687200500},
    {"2026-11-26T10:00:00.123456789Z", 0, 1795687200123},
    {"2026-11-26T11:00:00+01:00", 0, 1795687200000},
    {"2026-11-26T05:30:00-04:30", 0, 1795687200000},
    {"2026-11-26t10:00:00z", 0, 1795687200000},
    {"2024-02-29T00:00:00Z", 0, 1709164800000},
    {"2000-02-29T00:00:00Z", 0, 951782400000},
    {"2016-12-31T23:59:60Z", 0, 1483228800000},
    {"2017-01-01T00:59:60+01:00", 0, 1483228800000},
    {"1969-12-31T23:59:59.999Z", 0, -1},
    {"2026-13-01T00:00:00Z", -1, 0},
    {"2026-00-01T00:00:00Z", -1, 0},
    {"2026-01-32T00:00:00Z", -1, 0},
    {"2026-01-00T00:00:00Z", -1, 0},
    {"2026-02-30T00:00:00Z", -1, 0},
    {"2025-02-29T00:00:00Z", -1, 0},
    {"1900-02-29T00:00:00Z", -1, 0},
    {"2026-04-31T00:00:00Z", -1, 0},
    {"2026-01-01T24:00:00Z", -1, 0},
    {"2026-01-01T23:60:00Z", -1, 0},
    {"2026-01-01T12:00:60Z", -1, 0},
    {"2026-01-01T12:00:61Z", -1, 0},
    {"2026-01-01T12:00:00", -1, 0},
    {"2026-01-01T12:00Z", -1, 0},
    {"2026-01-01 12:00:00Z", -1, 0},
    {"2026-01-01", -1, 0},
    {"2026-01-01T12:00:00.Z", -1, 0},
    {"2026-01-01T12:00:00+0100", -1, 0},
    {"2026-01-01T12:00:00+24:00", -1, 0},
    {"2026-01-01T12:00:00+01:60", -1, 0},
    {"2026-01-01T12:00:00Zjunk", -1, 0},
    {"2026-1-01T12:00:00Z", -1, 0},
    {"+2026-01-01T12:00:00Z", -1, 0},
    {"", -1, 0},
};

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t ms = 42;
        int rc = ocpp_time_parse(cases[i].text, &ms);
        if (cases[i].rc == 0)
            CHECK(rc == 0 && ms == cases[i].ms, "time_parse '%s' -> %" PRId64 " (rc %d)", cases[i].text, ms, rc);
        else
            CHECK(rc == -1, "time_parse_rejects '%s'", cases[i].text);
    }
    char buf[32];
    CHECK_STR(ocpp_time_format(1795687200123, buf), "2026-11-26T10:00:00.123Z", "time_format");
    CHECK_STR(ocpp_time_format(-1, buf), "1969-12-31T23:59:59.999Z", "time_format_before_epoch");
    CHECK_STR(ocpp_time_format(951782400000, buf), "2000-02-29T00:00:00.000Z", "time_format_leap_day");
    /* Round trip over a spread of instants, one every ~3.7 days for 60 years. */
    int bad = 0;
    for (int64_t t = 0; t < 60LL * 366 * 86400000; t += 318211123) {
        int64_t back = -1;
        if (ocpp_time_parse(ocpp_time_format(t, buf), &back) != 0 || back != t)
            bad++;
    }
    CHECK(bad == 0, "time_format_parse_round_trip (%d mismatches)", bad);
    return check_done();
}
