/* action.c - the OCPP 2.0.1 action catalogue: names from the schema files, senders from gen_schemas.py. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static int cmp_action(const void *key, const void *elem)
{
    return strcmp(key, ((const struct sch_action *)elem)->name);
}

const struct sch_action *ocpp_sch_action(const char *action)
{
    if (!action)
        return NULL;
    return bsearch(action, ocpp_sch_actions, (size_t)ocpp_sch_n_actions, sizeof ocpp_sch_actions[0],
                   cmp_action);
}

bool ocpp_action_known(const char *action)
{
    return ocpp_sch_action(action) != NULL;
}

bool ocpp_action_sent_by(const char *action, enum ocpp_role sender)
{
    const struct sch_action *a = ocpp_sch_action(action);
    if (!a)
        return false;
    return (a->senders & (sender == OCPP_ROLE_STATION ? SCH_SENT_BY_STATION : SCH_SENT_BY_CSMS)) != 0;
}
