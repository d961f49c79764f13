/*
 * api_circuits.c - the depot's feeder tree (control.circuits) through the API: each circuit with its limit
 * (configured, in force, temporary) and the plan's load on it; a temporary limit per circuit with an expiry, set by
 * an admin like the site's curtailment (the grid operator or an electrician asking for less on one feeder).
 * Loop thread.
 */
#include <stdio.h>
#include <string.h>

#include "api_internal.h"
#include "control.h"

void api_get_circuits(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    cJSON *items = control_circuits_json(a->d), *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "items", items ? items : cJSON_CreateArray());
    api_reply(r, 200, o);
}

/* The circuit's document after a change: its row of GET /circuits. */
static void reply_circuit(struct api *a, struct api_req *r, const char *id)
{
    cJSON *items = control_circuits_json(a->d), *c, *found = NULL;
    cJSON_ArrayForEach(c, items)
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "id")), id) == 0) found = c;
    if (found) cJSON_DetachItemViaPointer(items, found);
    cJSON_Delete(items);
    if (found) api_reply(r, 200, found);
    else api_problem(r, 404, "circuit_id", "circuit_id: no circuit \"%s\" in control.circuits", id);
}

static void set_limit(struct api *a, struct api_req *r, double kw, int64_t until)
{
    char err[256];
    int rc = control_set_circuit_limit(a->d, r->params[0], kw, until, r->token->name, err, sizeof err);
    if (rc == -2) api_problem(r, 404, "circuit_id", "circuit_id: %s", err);
    else if (rc == -3) api_problem(r, 422, "kw", "kw: %s", err);
    else if (rc) api_problem(r, 409, NULL, "the circuit's limit cannot be set: %s", err);
    else reply_circuit(a, r, r->params[0]);
}

void api_put_circuit_limit(struct api *a, struct api_req *r, const cJSON *body)
{
    static const char *const allowed[] = {"kw", "until", NULL};
    if (!api_body_only(r, body, allowed)) return;
    double kw;
    if (!cJSON_GetObjectItemCaseSensitive(body, "kw")) {
        api_problem(r, 422, "kw", "kw: required (the circuit's temporary limit in kW; per phase on a per-phase circuit)");
        return;
    }
    if (!api_body_number(r, body, "kw", 0, 1e6, &kw)) return;
    int64_t until;
    if (!api_body_until(r, body, "control.circuits", &until)) return;
    set_limit(a, r, kw, until);
}

void api_delete_circuit_limit(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    set_limit(a, r, -1, 0);
}
