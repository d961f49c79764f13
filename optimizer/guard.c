/* guard.c - see guard.h. */
#include "guard.h"

#include <glpk.h>

static void on_glpk_error(void *info)
{
    longjmp(*(jmp_buf *)info, 1);
}

void opt_guard_install(jmp_buf *jb)
{
    glp_term_out(GLP_OFF);
    glp_error_hook(on_glpk_error, jb);
}

void opt_guard_remove(void)
{
    glp_error_hook(NULL, NULL);
}

void opt_guard_recover(void)
{
    glp_free_env(); /* also drops the hook: it lives in the environment */
}
