/* fake_port.h - the control loop's seam (struct ctl_port, control_internal.h) for C tests: no sockets, no database,
 * a clock that moves only when told. The port keeps every CALL, event and timer; the test answers them. Plans are
 * the real ones (GLPK on the planner's worker thread). One loop at a time (the state is global). */
#ifndef DEPOTD_TEST_FAKE_PORT_H
#define DEPOTD_TEST_FAKE_PORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "control_internal.h"

#define MAX_SENT 1024
#define MAX_STATIONS 12
#define T0 1798761600000LL /* 2027-01-01T00:00:00Z: a slot boundary */

struct sent {
    int station;
    char action[40];
    cJSON *req;
    uint64_t cookie;
    bool answered, accepted;
};

struct fake_port {
    int64_t now;
    struct sent sent[MAX_SENT];
    int n_sent;
    int n_events, n_cap_sending;
    uint64_t ticket;
    struct wait { void (*fn)(struct control *, void *, bool); void *arg; } waits[64];
    int n_waits;
    bool armed[2];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    void (*posted_fn)(struct control *, void *);
    void *posted_arg;
    int64_t clock_off[MAX_STATIONS], clock_unc[MAX_STATIONS];
    bool offline[MAX_STATIONS];  /* the port says these are not connected (all connected after loop_new) */
    double limit_w, hw_w[MAX_STATIONS];
    int over;                    /* station maxima sent while those in force or in flight could exceed the limit */
    void (*on_call)(int i);      /* the test's oracle, told of each CALL as it is sent (F.sent[i]) */
    char event_type[MAX_SENT][32]; /* the type of each event logged (the first MAX_SENT) */
    double (*site_load)(int64_t t); /* the building's load (kW) at planning time t; NULL: no site load feed */
    double (*site_supply)(int64_t t); /* PV and battery (kW) the plan may count on at t; NULL: none */
};
extern struct fake_port F;
extern struct station stations[MAX_STATIONS];
extern int n_stations;

/* A control loop over n stations ST00.. with this "control" config (NULL: it did not parse; said on stderr). */
struct control *loop_new(int stations_n, const char *control_json);
void loop_free(void);                                   /* at the end of main */
/* A station boots with n EVSEs of 22 kW, all Available. */
void boot(struct control *ctl, int st, int evses);
void tx_event(struct control *ctl, int st, int evse, const char *type, const char *token);
/* The re-plan timer fires; the plan comes back from the worker and is applied (its first saga phase sent). */
bool plan(struct control *ctl);
void answer(struct control *ctl, int i, const char *status);
void answer_with(struct control *ctl, int i, cJSON *payload);   /* takes the payload */
void durable(struct control *ctl);                      /* every write-ahead event durable now */
/* Every CALL answered Accepted and every event durable, until nothing more leaves; then the re-plans that asked. */
void settle(struct control *ctl);
void settle_but(struct control *ctl, const char *action);  /* the same, leaving CALLs of this action to the test */
const cJSON *profile(int i);
const char *purpose(int i);
double limit_at(int i, int64_t t);                      /* W a profile sent sets at planning time t */
int last_sent(int st, const char *purp, int evse);      /* newest profile of this purpose (and EVSE) or -1 */
double cap_w(int st, int64_t t);
double tx_w(int st, int evse, int64_t t);
int calls_to(int st, int from);
int events_of(const char *type);                        /* events of this type logged so far */
int sent_of(const char *action, int from);              /* CALLs of this action sent from call `from` on */

#endif
