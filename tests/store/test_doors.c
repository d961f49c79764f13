/* doors.c without sockets: the login back-off per station and per address, what a success clears, the refusal
 * folding, and a table that stays bounded when thousands of names knock. Times are hand-picked milliseconds. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "doors.h"

int main(void)
{
    struct doors *d = doors_new();
    int64_t t = 1000000;
    for (int i = 0; i < DOORS_FREE_TRIES; i++) doors_failed(d, "CS1", "10.0.0.5", t);
    CHECK(doors_wait_ms(d, "CS1", "10.0.0.5", t) == 0, "%d failures are free", DOORS_FREE_TRIES);
    doors_failed(d, "CS1", "10.0.0.5", t);
    CHECK(doors_wait_ms(d, "CS1", "10.0.0.5", t) == 1000, "the next one costs 1 s: %lld",
          (long long)doors_wait_ms(d, "CS1", "10.0.0.5", t));
    CHECK(doors_wait_ms(d, "CS1", "10.0.0.9", t) == 1000, "for that station from any address");
    CHECK(doors_wait_ms(d, "CS2", "10.0.0.5", t) == 0, "another station at the same address is not held (yet)");
    doors_failed(d, "CS1", "10.0.0.5", t + 1000);
    doors_failed(d, "CS1", "10.0.0.5", t + 1000);
    CHECK(doors_wait_ms(d, "CS1", NULL, t + 1000) == 4000, "each failure doubles it: 2 s, then 4 s: %lld",
          (long long)doors_wait_ms(d, "CS1", NULL, t + 1000));
    for (int i = 0; i < 30; i++) doors_failed(d, "CS1", NULL, t + 2000);
    CHECK(doors_wait_ms(d, "CS1", NULL, t + 2000) == DOORS_MAX_WAIT_MS, "up to %d ms", DOORS_MAX_WAIT_MS);
    CHECK(doors_wait_ms(d, "CS1", NULL, t + 2000 + DOORS_MAX_WAIT_MS) == 0, "and over when it has passed");
    doors_succeeded(d, "CS1", "10.0.0.5");
    doors_failed(d, "CS1", NULL, t + 5000);
    CHECK(doors_wait_ms(d, "CS1", NULL, t + 5000) == 0, "a success starts the count again");

    /* An address that tries many station ids: held after DOORS_FREE_TRIES_ADDR failures, whatever the id. */
    for (int i = 0; i < DOORS_FREE_TRIES_ADDR; i++) {
        char id[16];
        snprintf(id, sizeof id, "GUESS%d", i);
        doors_failed(d, id, "192.0.2.1", t);
    }
    CHECK(doors_wait_ms(d, "NEW", "192.0.2.1", t) == 0, "%d failures from one address are free (NAT)",
          DOORS_FREE_TRIES_ADDR);
    doors_failed(d, "GUESS-X", "192.0.2.1", t);
    CHECK(doors_wait_ms(d, "NEW", "192.0.2.1", t) == 1000, "then the address waits, for any station id");

    int folded = -1, logged = 0;
    for (int i = 0; i < 12; i++) logged += doors_log_refusal(d, "CS9|wrong password", t, &folded);
    CHECK(logged == DOORS_LOG_BURST, "%d refusals of one kind in a minute are logged, the rest counted: %d",
          DOORS_LOG_BURST, logged);
    CHECK(doors_log_refusal(d, "CS9|no basic auth credentials", t, &folded) && folded == 0,
          "another reason has its own count");
    CHECK(doors_log_refusal(d, "CS9|wrong password", t + DOORS_LOG_EVERY_MS, &folded) && folded == 12 - DOORS_LOG_BURST,
          "the next window's first event tells how many were left out: %d", folded);

    /* Thousands of names: the table stays bounded, and the newest entries are kept. */
    for (int i = 0; i < 5 * DOORS_SLOTS; i++) {
        char id[24];
        snprintf(id, sizeof id, "FLOOD%d", i);
        for (int k = 0; k <= DOORS_FREE_TRIES; k++) doors_failed(d, id, NULL, t + 10000 + i);
    }
    CHECK(doors_wait_ms(d, "FLOOD40959", NULL, t + 10000 + 40959) > 0, "the newest flood entry is remembered");
    doors_free(d);
    return CHECK_DONE();
}
