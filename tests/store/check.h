/* A tiny check harness for depotd's white-box tests: one line per check, non-zero exit on any failure. */
#ifndef DEPOTD_TEST_CHECK_H
#define DEPOTD_TEST_CHECK_H

#include <stdio.h>

static int checks_failed, checks_run;

#define CHECK(cond, ...)                                                                                      \
    do {                                                                                                      \
        checks_run++;                                                                                         \
        if (cond) {                                                                                           \
            printf("ok   - ");                                                                                \
        } else {                                                                                              \
            checks_failed++;                                                                                  \
            printf("FAIL - %s:%d: ", __FILE__, __LINE__);                                                      \
        }                                                                                                     \
        printf(__VA_ARGS__);                                                                                  \
        printf("\n");                                                                                         \
    } while (0)

#define CHECK_DONE()                                                                                          \
    (printf("%d checks, %d failed\n", checks_run, checks_failed), checks_failed ? 1 : 0)

#endif
