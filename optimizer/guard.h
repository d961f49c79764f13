/*
 * guard.h - GLPK calls abort() on an internal error unless glp_error_hook is set. The hook longjmp()s back
 * to the frame that called setjmp; that frame then calls opt_guard_recover(), which frees the thread's
 * whole GLPK environment (GLPK's state is undefined after an error, so no GLPK object may be used again).
 * Rule for the setjmp frame: keep results in memory outside it (a struct owned by the caller), never in
 * its own automatic variables changed after setjmp.
 * Every GLPK object made before a recovery is gone: holders compare opt_guard_generation() with the value
 * they saw when they made the object.
 */
#ifndef OPT_GUARD_H
#define OPT_GUARD_H

#include <setjmp.h>
#include <stddef.h>

void opt_guard_install(jmp_buf *jb); /* also swallows GLPK's terminal output (errors included) */
void opt_guard_remove(void);
void opt_guard_recover(void);
void opt_guard_free_env(void);       /* glp_free_env, counted as a new generation */
unsigned opt_guard_generation(void);
const char *opt_guard_last_error(void); /* GLPK's own words for the last error in this thread */

#endif
