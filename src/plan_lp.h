/*
 * plan_lp.h - the optimizer problem of a plan as JSON, at full precision: written into every `plan` event (its
 * "lp") by the planner, read back by `depotd --replay-plan` and by bench/optimizer/replay_plans, so a plan can
 * be re-solved from the event log alone. Plain data, no I/O; any thread.
 */
#ifndef DEPOTD_PLAN_LP_H
#define DEPOTD_PLAN_LP_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "optimizer.h"

/* The problem and the solver options as JSON (unlimited values as null). */
cJSON *plan_lp_to_json(const struct opt_problem *pb, const struct opt_options *o);

/* A problem read back; `pb` points into the arrays here and borrows its strings from the JSON, which must
 * outlive it. */
struct plan_lp {
    struct opt_problem pb;
    struct opt_options opts;
    double *price, *limit, *max_slot;
    struct opt_session *sessions;
    struct opt_circuit *circuits;
    double *circuit_slot;
    double *parts;               /* first_part_hours when slot 0 was cut */
};
/* 0, or -1 with err naming what is missing; call plan_lp_free() either way. */
int plan_lp_read(const cJSON *lp, struct plan_lp *l, char *err, size_t err_len);
void plan_lp_free(struct plan_lp *l);

#endif
