/*
 * guard.h - GLPK calls abort() on an internal error unless glp_error_hook is set. The hook longjmp()s back
 * to the frame that called setjmp; that frame then calls opt_guard_recover(), which frees the thread's
 * whole GLPK environment (GLPK's state is undefined after an error, so no GLPK object may be used again).
 * Rule for the setjmp frame: keep results in memory outside it (a struct owned by the caller), never in
 * its own automatic variables changed after setjmp.
 */
#ifndef OPT_GUARD_H
#define OPT_GUARD_H

#include <setjmp.h>

void opt_guard_install(jmp_buf *jb); /* also silences GLPK's terminal output */
void opt_guard_remove(void);
void opt_guard_recover(void);

#endif
