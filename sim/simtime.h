/*
 * simtime.h - date-time text <-> milliseconds since the Unix epoch (UTC), and the simulated clock.
 * Pure functions; the clock is a value the caller advances.
 */
#ifndef SIM_SIMTIME_H
#define SIM_SIMTIME_H

#include <stdint.h>

/* RFC 3339 ("2026-11-26T18:00:00Z", fractions and offsets allowed). 0, or -1 when invalid. */
int sim_time_parse(const char *text, int64_t *ms_out);
/* RFC 1123 as ACN-Data writes it ("Sat, 01 May 2021 20:42:47 GMT"). 0, or -1 when invalid. */
int sim_time_parse_rfc1123(const char *text, int64_t *ms_out);
/* "YYYY-MM-DDTHH:MM:SS.mmmZ"; buf holds at least 32 bytes. Returns buf. */
char *sim_time_format(int64_t ms, char *buf);

/*
 * The simulated clock: sim = sim_start + (real - real_start) x speed. Every timestamp a station sends
 * and every schedule it applies is read from here, so --speed compresses all of them alike.
 */
struct sim_clock {
    int64_t sim_start_ms;
    int64_t real_start_ms;
    double speed;
};
int64_t sim_clock_now(const struct sim_clock *c, int64_t real_now_ms);
/* Real milliseconds until the simulated clock reaches sim_ms (0 when already past). */
int64_t sim_clock_real_delay(const struct sim_clock *c, int64_t real_now_ms, int64_t sim_ms);
/*
 * A clock shared with another process (depotd): sim = sim_start + (wall now - anchor_unix_ms) x speed, where wall
 * is CLOCK_REALTIME in ms. Both sides read the same formula, so they agree on simulated time whatever moment each
 * was started. The clock keeps running on the monotonic clock (real_start_ms is the anchor moved onto it once),
 * so a wall-clock step during the run does not make simulated time jump.
 */
void sim_clock_anchor(struct sim_clock *c, int64_t sim_start_ms, double speed, int64_t anchor_unix_ms,
                      int64_t wall_now_ms, int64_t mono_now_ms);

#endif
