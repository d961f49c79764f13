/*
 * clock_offset.h - a station's clock against depotd's planning clock (station minus depotd), from the timestamps
 * it puts on what it sends. Pure: no depot state, no clock of its own; stations.c feeds it and
 * tests/control/test_clock_offset.c checks it by hand-computed cases.
 *
 * A stamp is never later than the station's clock when the message left; transit, and above all waiting in the
 * station's queue, make it look older. So the largest of the last samples is the estimate, a message that may
 * have waited is no sample at all (clock_offset_fresh), and the estimate is acted on only once it holds still.
 */
#ifndef DEPOTD_CLOCK_OFFSET_H
#define DEPOTD_CLOCK_OFFSET_H

#include <stdbool.h>
#include <stdint.h>

/* How long (planning clock) the estimate must hold still before it counts. */
#define CLOCK_OFFSET_SETTLE_MS (60 * 1000)

struct clock_offset {
    int64_t samples[8];     /* station minus depotd, ms: the last ones, a ring */
    int n, next;
    int stable;             /* samples in a row that left the estimate where it was (within noise) */
    int64_t stable_since_ms;
    int64_t offset_ms;      /* the estimate: the largest sample */
    bool known;             /* three samples or more */
    int64_t settled_ms;     /* the last estimate that settled: in force while a new one settles */
    bool has_settled;
    bool sub_second;        /* a stamp carried milliseconds: else the station stamps whole seconds */
};

/* One stamp (station_ms) on a message the station sent as it happened, and depotd's clock when it came. noise_ms:
 * what transit can make a stamp look off by on the planning clock. */
void clock_offset_sample(struct clock_offset *c, int64_t station_ms, int64_t now_ms, double noise_ms);

/* Known and held still, over two samples or more and CLOCK_OFFSET_SETTLE_MS. */
bool clock_offset_settled(const struct clock_offset *c, int64_t now_ms);

/* What to shift a station's schedules by: the last estimate that settled (the one before, while a moved one holds
 * still: dropping to 0 meanwhile shifted a station's caps by its whole offset), when transit alone cannot explain
 * it (beyond noise_ms) and it is within tolerance_ms (a clock further off is warned about, not followed: an offset
 * that large is more likely a backlog mistaken for one); else 0. */
int64_t clock_offset_in_force(const struct clock_offset *c, int64_t now_ms, double noise_ms, int64_t tolerance_ms);

/* Where the offset in force lies: a sample is never above the real offset and at most transit_ms (what a message
 * can take, on the planning clock) plus the stamps' resolution below it, so the real one is within
 * [est, est + transit_ms + resolution]: *offset_ms is its middle and *uncertainty_ms half its width. Both 0 while
 * clock_offset_in_force is 0 (the station is taken to share depotd's clock). */
void clock_offset_window(const struct clock_offset *c, int64_t now_ms, double noise_ms, int64_t tolerance_ms,
                         int64_t transit_ms, int64_t *offset_ms, int64_t *uncertainty_ms);

/* Whether a CALL that arrived at rx_us was sent as it happened. OCPP-J gives a station one CALL in flight: what it
 * makes meanwhile waits and leaves the moment the answer comes back. One arriving more than two round trips
 * (rtt_us, 0: not measured, then 10 ms) plus 1 ms after depotd's last answer (answered_us) went out did not wait.
 * All monotonic microseconds. */
bool clock_offset_fresh(int64_t rx_us, int64_t answered_us, int64_t rtt_us);

#endif
