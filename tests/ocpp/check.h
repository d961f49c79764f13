/* check.h - the tiny check harness of the ocpp tests: one line per check, non-zero exit on any failure. */
#ifndef OCPP_TEST_CHECK_H
#define OCPP_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures, check_count;

#define CHECK(cond, ...)                                                                                   \
    do {                                                                                                   \
        check_count++;                                                                                     \
        if (cond) {                                                                                        \
            printf("ok   ");                                                                               \
        } else {                                                                                           \
            check_failures++;                                                                              \
            printf("FAIL %s:%d (%s) ", __FILE__, __LINE__, #cond);                                         \
        }                                                                                                  \
        printf(__VA_ARGS__);                                                                               \
        printf("\n");                                                                                      \
    } while (0)

#define CHECK_STR(got, want, name)                                                                         \
    do {                                                                                                   \
        const char *g_ = (got), *w_ = (want);                                                              \
        CHECK(g_ && w_ && strcmp(g_, w_) == 0, "%s: got '%s' want '%s'", name, g_ ? g_ : "(null)", w_);  \
    } while (0)

static inline int check_done(void)
{
    printf("%d checks, %d failed\n", check_count, check_failures);
    return check_failures ? 1 : 0;
}

#endif
