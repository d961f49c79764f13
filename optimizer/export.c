/* export.c - the debug export: the LP opt_solve() solves, written by GLPK as CPLEX LP or free MPS. */
#include "internal.h"
#include "guard.h"

#include <stdlib.h>

struct export_run {
    glp_prob *lp;
    int rc;
};

/* GLPK's MPS writer leaves the objective out when the problem has a free row (a reader would take the first
 * N row for the objective), so rows that constrain nothing are deleted from the written copy. */
static void drop_free_rows(glp_prob *lp)
{
    int m = glp_get_num_rows(lp), k = 0;
    int *num = malloc(sizeof(int) * (size_t)(m + 1));
    if (!num)
        return;
    for (int i = 1; i <= m; i++)
        if (glp_get_row_type(lp, i) == GLP_FR)
            num[++k] = i;
    if (k)
        glp_del_rows(lp, k, num);
    free(num);
}

static void guarded_write(const struct opt_model *m, const char *path, enum opt_export_format format,
                          struct export_run *r, jmp_buf *jb)
{
    if (setjmp(*jb)) {
        opt_guard_recover();
        r->lp = NULL;
        r->rc = -2;
        return;
    }
    opt_guard_install(jb);
    r->lp = opt_model_build(m, 1, NULL);
    if (r->lp)
        drop_free_rows(r->lp);
    if (!r->lp)
        r->rc = -1;
    else if (format == OPT_EXPORT_MPS)
        r->rc = glp_write_mps(r->lp, GLP_MPS_FILE, NULL, path);
    else
        r->rc = glp_write_lp(r->lp, NULL, path);
    if (r->lp)
        glp_delete_prob(r->lp);
    opt_guard_remove();
}

int opt_export(const struct opt_problem *pb, const struct opt_options *opts, const char *path,
               enum opt_export_format format, char *err, size_t errlen)
{
    struct opt_options o;
    opt_resolve_options(opts, &o);
    int rc = opt_validate_resolved(pb, &o, err, errlen);
    if (rc)
        return rc;
    if (!path || (format != OPT_EXPORT_LP && format != OPT_EXPORT_MPS)) {
        opt_errf(err, errlen, "export: path missing or unknown format %d", (int)format);
        return OPT_EINVAL;
    }
    struct opt_model m;
    if (opt_model_init(&m, pb, &o)) {
        opt_errf(err, errlen, "out of memory");
        return OPT_ENOMEM;
    }
    struct export_run r = { 0 };
    jmp_buf jb;
    guarded_write(&m, path, format, &r, &jb);
    opt_model_free(&m);
    if (r.rc != 0) {
        opt_errf(err, errlen, "export: GLPK could not write %s (%d)", path, r.rc);
        return r.rc == -1 ? OPT_ENOMEM : OPT_EIO;
    }
    return OPT_OK;
}
