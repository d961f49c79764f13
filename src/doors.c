#include "doors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROBE 16
#define KEY_MAX 72
#define STALE_MS (3600 * 1000) /* an entry untouched this long is free to reuse */

struct entry {
    char key[KEY_MAX];       /* "s:<station>", "a:<address>", "r:<refusal key>"; "" free */
    int fails;               /* failed logins in a row */
    int64_t until_ms;        /* no try counts before this */
    int64_t last_ms;         /* last touched, for eviction */
    int64_t window_ms;       /* refusals: when the current window began */
    int logged;              /* refusals logged in it */
    int folded;              /* refusals not logged since the last one that was */
};

struct doors {
    struct entry e[DOORS_SLOTS];
};

struct doors *doors_new(void) { return calloc(1, sizeof(struct doors)); }

void doors_free(struct doors *d) { free(d); }

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* How willing a slot is to be reused: free first, then stale, then the least recently used. */
static int64_t reuse_rank(const struct entry *x, int64_t now_ms)
{
    if (!x->key[0]) return INT64_MIN;
    if (now_ms - x->last_ms > STALE_MS && x->until_ms <= now_ms) return INT64_MIN + 1;
    return x->last_ms;
}

/* The entry for key, or NULL; create: make one in the most reusable slot of its probe window. */
static struct entry *find(struct doors *d, const char *prefix, const char *name, bool create, int64_t now_ms)
{
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s%s", prefix, name ? name : "");
    uint32_t h = hash(key);
    struct entry *spare = NULL;
    for (int i = 0; i < PROBE; i++) {
        struct entry *x = &d->e[(h + (uint32_t)i) % DOORS_SLOTS];
        if (x->key[0] && strcmp(x->key, key) == 0) return x;
        if (!spare || reuse_rank(x, now_ms) < reuse_rank(spare, now_ms)) spare = x;
    }
    if (!create) return NULL;
    memset(spare, 0, sizeof *spare);
    snprintf(spare->key, sizeof spare->key, "%s", key);
    spare->last_ms = now_ms;
    return spare;
}

static int64_t wait_of(const struct entry *x, int64_t now_ms)
{
    return x && x->until_ms > now_ms ? x->until_ms - now_ms : 0;
}

int64_t doors_wait_ms(struct doors *d, const char *station, const char *addr, int64_t now_ms)
{
    int64_t s = station ? wait_of(find(d, "s:", station, false, now_ms), now_ms) : 0;
    int64_t a = addr ? wait_of(find(d, "a:", addr, false, now_ms), now_ms) : 0;
    return s > a ? s : a;
}

static void fail(struct entry *x, int free_tries, int64_t now_ms)
{
    x->fails++;
    x->last_ms = now_ms;
    if (x->fails <= free_tries) return;
    int64_t wait = 1000;
    for (int i = free_tries + 1; i < x->fails && wait < DOORS_MAX_WAIT_MS; i++) wait *= 2;
    x->until_ms = now_ms + (wait < DOORS_MAX_WAIT_MS ? wait : DOORS_MAX_WAIT_MS);
}

void doors_failed(struct doors *d, const char *station, const char *addr, int64_t now_ms)
{
    if (station) fail(find(d, "s:", station, true, now_ms), DOORS_FREE_TRIES, now_ms);
    if (addr) fail(find(d, "a:", addr, true, now_ms), DOORS_FREE_TRIES_ADDR, now_ms);
}

void doors_succeeded(struct doors *d, const char *station, const char *addr)
{
    struct entry *x = station ? find(d, "s:", station, false, 0) : NULL;
    if (x) x->fails = 0, x->until_ms = 0;
    x = addr ? find(d, "a:", addr, false, 0) : NULL;
    if (x) x->fails = 0, x->until_ms = 0;
}

bool doors_log_refusal(struct doors *d, const char *key, int64_t now_ms, int *folded)
{
    struct entry *x = find(d, "r:", key, true, now_ms);
    x->last_ms = now_ms;
    if (!x->window_ms || now_ms - x->window_ms >= DOORS_LOG_EVERY_MS) x->window_ms = now_ms, x->logged = 0;
    if (x->logged >= DOORS_LOG_BURST) {
        x->folded++;
        return false;
    }
    x->logged++;
    *folded = x->folded;
    x->folded = 0;
    return true;
}
