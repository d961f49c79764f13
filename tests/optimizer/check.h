/* check.h - tiny check macros for the optimizer tests: one line per check, non-zero exit on any failure. */
#ifndef OPT_TEST_CHECK_H
#define OPT_TEST_CHECK_H

#include <math.h>
#include <stdio.h>

static int check_failures;

#define CHECK(cond, ...)                                                                                 \
    do {                                                                                                 \
        int ok_ = (cond);                                                                                \
        printf("%s ", ok_ ? "ok  " : "FAIL");                                                            \
        printf(__VA_ARGS__);                                                                             \
        printf("\n");                                                                                    \
        if (!ok_)                                                                                        \
            check_failures++;                                                                            \
    } while (0)

#define CHECK_NEAR(got, want, tol, what)                                                                 \
    CHECK(fabs((double)(got) - (double)(want)) <= (tol), "%s: got %.9g want %.9g", what, (double)(got),  \
          (double)(want))

static inline int check_done(const char *name)
{
    printf("%s: %d failure(s)\n", name, check_failures);
    return check_failures ? 1 : 0;
}

#endif
