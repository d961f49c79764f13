/* A line per check, non-zero exit when any failed. */
#ifndef SIM_TEST_CHECK_H
#define SIM_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_failures, check_count;

#define CHECK(cond, ...)                                                                          \
    do {                                                                                          \
        check_count++;                                                                            \
        if (cond) {                                                                               \
            printf("ok   ");                                                                      \
        } else {                                                                                  \
            check_failures++;                                                                     \
            printf("FAIL %s:%d ", __FILE__, __LINE__);                                            \
        }                                                                                         \
        printf(__VA_ARGS__);                                                                      \
        printf("\n");                                                                             \
    } while (0)

#define CHECK_NEAR(got, want, tol, name)                                                          \
    do {                                                                                          \
        double g_ = (got), w_ = (want);                                                           \
        CHECK(fabs(g_ - w_) <= (tol), "%s: got %.4f want %.4f", name, g_, w_);                    \
    } while (0)

#define CHECK_DONE()                                                                              \
    (printf("%d checks, %d failed\n", check_count, check_failures), check_failures ? 1 : 0)

#endif
