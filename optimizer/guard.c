/* guard.c - see guard.h. State is per thread, like GLPK's environment. */
#include "guard.h"

#include <glpk.h>
#include <string.h>

static _Thread_local unsigned generation;
static _Thread_local char last_error[160];
static _Thread_local size_t last_len;
static _Thread_local int capturing;

static void on_glpk_error(void *info)
{
    longjmp(*(jmp_buf *)info, 1);
}

/* GLPK forces terminal output on before printing an error; a term hook is the only way to keep the
 * library silent. Keep the text of errors for the plan's note. */
static int on_glpk_output(void *info, const char *s)
{
    (void)info;
    if (capturing) {
        size_t n = strlen(s);
        if (last_len + n >= sizeof(last_error))
            n = sizeof(last_error) - 1 - last_len;
        memcpy(last_error + last_len, s, n);
        last_len += n;
        last_error[last_len] = 0;
    }
    return 1;
}

void opt_guard_install(jmp_buf *jb)
{
    glp_term_out(GLP_OFF);
    glp_term_hook(on_glpk_output, NULL);
    glp_error_hook(on_glpk_error, jb);
    last_len = 0;
    last_error[0] = 0;
    capturing = 1;
}

void opt_guard_remove(void)
{
    capturing = 0;
    glp_error_hook(NULL, NULL);
    glp_term_hook(NULL, NULL);
}

void opt_guard_recover(void)
{
    capturing = 0;
    for (char *p = last_error; *p; p++)
        if (*p == '\n')
            *p = ' ';
    opt_guard_free_env(); /* also drops the hooks: they live in the environment */
}

void opt_guard_free_env(void)
{
    glp_free_env();
    generation++;
}

unsigned opt_guard_generation(void)
{
    return generation;
}

const char *opt_guard_last_error(void)
{
    return last_error;
}
