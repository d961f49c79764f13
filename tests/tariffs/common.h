/* Shared by the tariffs tests: checks that print one line each, the real Belgian day-ahead prices, and the
 * price server (price_server.py) as a child process. */
#ifndef TARIFFS_TEST_COMMON_H
#define TARIFFS_TEST_COMMON_H

#include "tariffs.h"

#include <stdio.h>
#include <sys/types.h>

extern int t_failures, t_checks;

#define CHECK(cond, ...)                                                                                           \
    do {                                                                                                           \
        t_checks++;                                                                                                \
        if (cond) {                                                                                                \
            printf("ok   - ");                                                                                     \
        } else {                                                                                                   \
            t_failures++;                                                                                          \
            printf("FAIL - %s:%d: ", __FILE__, __LINE__);                                                          \
        }                                                                                                          \
        printf(__VA_ARGS__);                                                                                       \
        printf("\n");                                                                                              \
    } while (0)

int t_done(void); /* prints the summary, returns the exit status */

/* UTC ms of a UTC date-time. */
int64_t t_utc(int y, int mo, int d, int h, int mi);

/* The real prices: ../shared/data/prices-be-dayahead-2022.csv (EUR/kWh, CET/CEST hourly rows). */
struct be_row { char time[24]; double price; };
int t_load_be(const char *path, struct be_row *rows, int max);
/* Prices of the local BE day (23, 24 or 25 rows), in order; returns the count. */
int t_be_day(const struct be_row *rows, int n, const char *ddmonyyyy, double *out, int max);
/* Whole file as text (malloc'd). */
char *t_read_file(const char *path, size_t *len);

/* The price server as a child process. */
struct t_server { pid_t pid; int port; char scheme[8]; char ca[512]; };
int t_server_start(struct t_server *s, const char *script, const char *cert, const char *key, const char *ca);
void t_server_stop(struct t_server *s);
/* POST /_control/routes with a JSON object of routes; 0 on success. */
int t_server_routes(const struct t_server *s, const char *json);
/* GET /_control/requests; malloc'd JSON text. */
char *t_server_requests(const struct t_server *s);

#endif
