#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_internal.h"

/* Migrations: index i brings the schema from version i to i + 1. Never edit a released entry; append. */
static const char *const migrations[] = {
    /* 1: the event log */
    "CREATE TABLE events ("
    "  seq INTEGER PRIMARY KEY,"
    "  time_ms INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  station TEXT,"
    "  msg_type INTEGER,"
    "  action TEXT,"
    "  message_id TEXT,"
    "  status TEXT,"
    "  data TEXT);"
    "CREATE INDEX events_station ON events(station, seq);"
    "CREATE INDEX events_time ON events(time_ms);"
    "CREATE TRIGGER events_append_only_u BEFORE UPDATE ON events"
    "  BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;"
    "CREATE TRIGGER events_append_only_d BEFORE DELETE ON events"
    "  BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;",
    /* 2: projections */
    NULL, /* NULL: run store_projection_schema (CREATE ... IF NOT EXISTS, shared with the rebuild) */
    /* 3: projection `prices` */
    NULL,
    /* 4: the log by type. Start-up replays every "api" event (vehicles, departures, idempotency keys) and
     * GET /plan?at= looks for "plan" events by their planning-clock start: without these both scanned the whole
     * log (measured on a 1e5-event, 88 MB log with 60 api and 485 plan events: the replay query 30 ms warm and
     * a read of the whole file cold, 0.4 ms with the index; this migration took 0.12 s there; the query plans
     * are checked by tests/store/test_store.c). The plan index is partial and guarded by json_valid, so a
     * malformed record can neither fail an insert nor this migration. */
    "CREATE INDEX IF NOT EXISTS events_type ON events(type, seq);"
    "CREATE INDEX IF NOT EXISTS events_plan_start ON events(" STORE_PLAN_START_SQL ", seq) WHERE type = 'plan';",
    /* 5: keep_frames_days (store_retention.c) */
    STORE_RETENTION_SCHEMA,
};
#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int store_schema_version(void) { return N_MIGRATIONS; }

struct owned_event {
    int64_t time_ms;
    int msg_type;
    char *type, *station, *action, *message_id, *status, *data;
};

struct batch {
    struct owned_event *ev;
    size_t n, cap;
    uint64_t ticket;
    bool lost;              /* an event could not be copied in: the batch fails as a whole */
    bool sync;              /* it must be on disk when committed (batch_needs_sync) */
    struct batch *next;
};

struct ticket_range {
    uint64_t lo, hi;
};

struct store {
    sqlite3 *wdb;           /* writer thread's connection */
    sqlite3 *rdb;           /* loop thread's read connection */
    pthread_t writer;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct batch *queue_head, *queue_tail; /* flushed, waiting for the writer */
    struct batch *filling;                  /* loop thread only */
    uint64_t next_ticket;                   /* loop thread only */
    uint64_t settled;                       /* under mu */
    struct ticket_range *failed;            /* under mu: every failed ticket, as ascending ranges */
    size_t n_ranges, cap_ranges;
    int n_failed_total;
    bool settled_lost;                      /* under mu: a failure could not be remembered (out of memory) */
    bool last_commit_failed;                /* under mu: the writer's last commit (store_health) */
    int64_t last_failed_ms;                 /* under mu */
    char last_error[200];                   /* under mu */
    bool stop;
    bool gathering;                         /* under mu: the writer waits for more before a commit without fsync */
    bool sync_queued;                       /* under mu: a queued batch needs an fsync (ends the gathering) */
    void (*notify)(void *);
    void *notify_ctx;
    struct store_disk disk;
    _Atomic int64_t keep_ms;                /* keep_frames_days; 0: every frame for ever */
    atomic_uint_fast64_t frames_pruned, prune_errors;
    bool prune_more;                        /* writer only: a pruning step left work for now */
    bool synchronous_full;                  /* writer only: the connection's synchronous mode (batch_needs_sync) */
    int64_t prune_checked_ms;               /* writer only: wall clock of the last step */
};

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static bool batch_needs_sync(const struct batch *b);

/* How long the writer gathers batches that need no fsync (Heartbeat frames: nobody waits for them) into one
 * commit: one transaction and one wake-up of each thread for many of them, not one per loop turn. */
#define STORE_GATHER_MS 10

static int64_t store_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        struct owned_event *e = &b->ev[i];
        free(e->type), free(e->station), free(e->action), free(e->message_id), free(e->status), free(e->data);
    }
    free(b->ev);
    free(b);
}

static int exec(sqlite3 *db, const char *sql, char *err, size_t err_len)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, err_len, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int migrate(sqlite3 *db, char *err, size_t err_len)
{
    sqlite3_stmt *st;
    int version = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > N_MIGRATIONS) {
        snprintf(err, err_len, "database schema version %d is newer than this depotd (%d)", version, N_MIGRATIONS);
        return -1;
    }
    for (int v = version; v < N_MIGRATIONS; v++) {
        const char *sql = migrations[v] ? migrations[v] : store_projection_schema;
        char buf[64];
        if (exec(db, "BEGIN IMMEDIATE", err, err_len)) return -1;
        snprintf(buf, sizeof buf, "PRAGMA user_version = %d", v + 1);
        if (exec(db, sql, err, err_len) || exec(db, buf, err, err_len) || exec(db, "COMMIT", err, err_len)) {
            char inner[256];
            snprintf(inner, sizeof inner, "%s", err);
            snprintf(err, err_len, "migration to schema version %d failed: %s", v + 1, inner);
            exec(db, "ROLLBACK", buf, sizeof buf);
            return -1;
        }
    }
    return 0;
}

/* The log holds every station's messages and the registry's password hashes: owner only. SQLite gives the -wal
 * and -shm files the database file's mode, so creating that one 0600 (and tightening an older one) is enough. */
static void owner_only(const char *path)
{
    if (!path[0] || strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0) return;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return; /* sqlite3_open_v2 reports the problem */
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 077)) fchmod(fd, st.st_mode & 0700);
    close(fd);
}

static sqlite3 *open_db(const char *path, bool readonly, char *err, size_t err_len)
{
    sqlite3 *db = NULL;
    if (!readonly) owner_only(path);
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, err_len, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    /* WAL: readers (the API, start-up restore) never block the writer. synchronous=FULL fsyncs the WAL at
     * every commit, so an answered CALL survives a power cut, not just a crash; group commit pays for it. */
    if (!readonly && (exec(db, "PRAGMA journal_mode=WAL", err, err_len) ||
                      exec(db, "PRAGMA synchronous=FULL", err, err_len) ||
                      exec(db, "PRAGMA foreign_keys=ON", err, err_len))) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static int insert_event(sqlite3 *db, sqlite3_stmt *ins, const struct owned_event *e)
{
    sqlite3_reset(ins);
    sqlite3_bind_int64(ins, 1, e->time_ms);
    sqlite3_bind_text(ins, 2, e->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 3, e->station, -1, SQLITE_STATIC);
    if (e->msg_type) sqlite3_bind_int(ins, 4, e->msg_type);
    else sqlite3_bind_null(ins, 4);
    sqlite3_bind_text(ins, 5, e->action, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 6, e->message_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 7, e->status, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 8, e->data, -1, SQLITE_STATIC);
    if (sqlite3_step(ins) != SQLITE_DONE) return -1;
    int64_t seq = sqlite3_last_insert_rowid(db);
    struct store_event view = {e->time_ms, e->type, e->station, e->msg_type, e->action, e->message_id, e->status,
                               e->data};
    return store_project(db, seq, &view);
}

/* Remembers the outcome for store_health: the error text of a failure, as SQLite said it. */
static void note_commit(struct store *st, const char *err)
{
    pthread_mutex_lock(&st->mu);
    st->last_commit_failed = err != NULL;
    if (err) {
        snprintf(st->last_error, sizeof st->last_error, "%s", err);
        st->last_failed_ms = store_wall_ms();
    }
    pthread_mutex_unlock(&st->mu);
}

/* Whether a batch must be on disk when its commit returns. Nothing ever waits for a Heartbeat frame (its answer
 * goes at once, and no answer waits for its ticket), so a batch of nothing else is committed without an fsync
 * (WAL, synchronous=NORMAL: safe from a crash of depotd, on disk with the next synced commit or checkpoint). At
 * 1,000 Heartbeats/s an fsync per loop turn was most of depotd's CPU (docs/benchmarks.md). */
static bool batch_needs_sync(const struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        const struct owned_event *e = &b->ev[i];
        bool frame = e->type && (strcmp(e->type, STORE_EV_OCPP_IN) == 0 || strcmp(e->type, STORE_EV_OCPP_OUT) == 0);
        if (!frame || !e->action || strcmp(e->action, "Heartbeat") != 0) return true;
    }
    return false;
}

static int commit_batch(struct store *st, sqlite3_stmt *ins, struct batch *b)
{
    char err[256];
    if (b->lost) {
        note_commit(st, "out of memory: an event of the batch was lost before it reached the writer");
        return -1;
    }
    bool sync = b->sync;
    if (sync != st->synchronous_full &&
        exec(st->wdb, sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", err, sizeof err) == 0)
        st->synchronous_full = sync;
    if (sync && !st->synchronous_full) { /* could not turn the fsync back on: this batch is not committed */
        note_commit(st, err);
        return -1;
    }
    if (exec(st->wdb, "BEGIN IMMEDIATE", err, sizeof err)) {
        note_commit(st, err);
        return -1;
    }
    for (size_t i = 0; i < b->n; i++) {
        if (insert_event(st->wdb, ins, &b->ev[i])) {
            snprintf(err, sizeof err, "%s", sqlite3_errmsg(st->wdb));
            note_commit(st, err);
            char e2[64];
            exec(st->wdb, "ROLLBACK", e2, sizeof e2);
            return -1;
        }
    }
    int rc = exec(st->wdb, "COMMIT", err, sizeof err);
    note_commit(st, rc ? err : NULL);
    return rc;
}

/* Remembers a failed ticket. Tickets fail in ascending order; a run of them is one range. If the list cannot
 * grow, the last range stretches over the tickets between: they read as failed, the safe way to be wrong. */
static void note_failed(struct store *st, uint64_t ticket)
{
    pthread_mutex_lock(&st->mu);
    st->n_failed_total++;
    struct ticket_range *last = st->n_ranges ? &st->failed[st->n_ranges - 1] : NULL;
    if (last && last->hi + 1 == ticket) {
        last->hi = ticket;
    } else {
        if (st->n_ranges == st->cap_ranges) {
            size_t cap = st->cap_ranges ? st->cap_ranges * 2 : 16;
            struct ticket_range *nr = realloc(st->failed, cap * sizeof *nr);
            if (nr) st->failed = nr, st->cap_ranges = cap;
            last = st->n_ranges ? &st->failed[st->n_ranges - 1] : NULL;
        }
        if (st->n_ranges < st->cap_ranges) st->failed[st->n_ranges++] = (struct ticket_range){ticket, ticket};
        else if (last) last->hi = ticket;
        else st->settled_lost = true; /* not even one range: no ticket may read as durable any more */
    }
    pthread_mutex_unlock(&st->mu);
}

/* Everything queued since the last commit goes into one transaction: under load, batches from several loop turns
 * share one fsync. A failing batch is retried alone so it cannot take the others down with it. */
static void commit_list(struct store *st, sqlite3_stmt *ins, struct batch *list)
{
    struct batch merged = {0};
    uint64_t last = 0;
    bool any_lost = false;
    for (struct batch *b = list; b; b = b->next) merged.n += b->n, last = b->ticket, any_lost |= b->lost, merged.sync |= b->sync;
    if (!list->next) {
        if (commit_batch(st, ins, list)) note_failed(st, list->ticket);
    } else {
        merged.ev = any_lost ? NULL : malloc(merged.n * sizeof *merged.ev);
        size_t k = 0;
        for (struct batch *b = list; merged.ev && b; b = b->next)
            for (size_t i = 0; i < b->n; i++) merged.ev[k++] = b->ev[i];
        int rc = merged.ev ? commit_batch(st, ins, &merged) : -1;
        free(merged.ev);
        if (rc)
            for (struct batch *b = list; b; b = b->next)
                if (commit_batch(st, ins, b)) note_failed(st, b->ticket);
    }
    while (list) {
        struct batch *next = list->next;
        batch_free(list);
        list = next;
    }
    store_disk_measure(&st->disk, false);
    pthread_mutex_lock(&st->mu);
    st->settled = last;
    pthread_mutex_unlock(&st->mu);
    if (st->notify) st->notify(st->notify_ctx);
}

/* keep_frames_days: a pruning step an hour after the last one caught up, or at once while there is more. */
static void prune_tick(struct store *st)
{
    int64_t keep = atomic_load(&st->keep_ms), now = store_wall_ms();
    if (keep <= 0 || (!st->prune_more && now - st->prune_checked_ms < 3600000)) {
        st->prune_more = st->prune_more && keep > 0;
        return;
    }
    st->prune_checked_ms = now;
    int64_t n = 0;
    int rc = store_retention_step(st->wdb, now - keep, &n);
    st->prune_more = rc == 1;
    if (rc < 0) atomic_fetch_add(&st->prune_errors, 1);
    atomic_fetch_add(&st->frames_pruned, (uint64_t)n);
}

static void *writer_main(void *arg)
{
    struct store *st = arg;
    sqlite3_stmt *ins = NULL;
    sqlite3_prepare_v2(st->wdb,
                       "INSERT INTO events(time_ms, type, station, msg_type, action, message_id, status, data)"
                       " VALUES(?,?,?,?,?,?,?,?)",
                       -1, &ins, NULL);
    pthread_mutex_lock(&st->mu);
    for (;;) {
        /* Wakes for batches, and once a second for the pruning (at once while a step left work). */
        while (!st->queue_head && !st->stop && !st->prune_more) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            if (pthread_cond_timedwait(&st->cv, &st->mu, &until) == ETIMEDOUT) break;
        }
        if (!st->queue_head && st->stop) break;
        if (st->queue_head && !st->stop && !st->sync_queued) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += STORE_GATHER_MS * 1000000L;
            if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
            st->gathering = true;
            while (!st->stop && !st->sync_queued && pthread_cond_timedwait(&st->cv, &st->mu, &until) != ETIMEDOUT) {
            }
            st->gathering = false;
        }
        struct batch *list = st->queue_head;
        st->queue_head = st->queue_tail = NULL;
        st->sync_queued = false;
        pthread_mutex_unlock(&st->mu);
        if (list) commit_list(st, ins, list);
        prune_tick(st);
        pthread_mutex_lock(&st->mu);
    }
    pthread_mutex_unlock(&st->mu);
    sqlite3_finalize(ins);
    store_project_done(st->wdb);
    return NULL;
}

store *store_open(const char *path, void (*notify)(void *), void *notify_ctx, char *err, size_t err_len)
{
    struct store *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->wdb = open_db(path, false, err, err_len);
    if (!st->wdb || migrate(st->wdb, err, err_len)) goto fail;
    if (store_retention_register(st->wdb)) {
        snprintf(err, err_len, "cannot register depotd_essential() on the database");
        goto fail;
    }
    st->rdb = open_db(path, true, err, err_len);
    if (!st->rdb) goto fail;
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    st->next_ticket = 1;
    st->synchronous_full = true; /* open_db's setting */
    store_disk_init(&st->disk, path);
    st->notify = notify;
    st->notify_ctx = notify_ctx;
    if (pthread_create(&st->writer, NULL, writer_main, st)) {
        snprintf(err, err_len, "cannot start the store writer thread");
        goto fail;
    }
    return st;
fail:
    if (st->rdb) sqlite3_close(st->rdb);
    if (st->wdb) sqlite3_close(st->wdb);
    free(st);
    return NULL;
}

uint64_t store_append(store *st, const struct store_event *ev)
{
    if (atomic_load(&st->disk.lean) && !store_event_essential(ev)) {
        atomic_fetch_add(&st->disk.dropped, 1);
        /* Nothing of its own to wait for, but no answer overtakes what was appended before it. */
        return st->filling ? st->filling->ticket : st->next_ticket - 1;
    }
    struct batch *b = st->filling;
    if (!b) {
        b = st->filling = calloc(1, sizeof *b);
        if (!b) return STORE_TICKET_LOST;
        b->ticket = st->next_ticket++;
    }
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        struct owned_event *nev = realloc(b->ev, cap * sizeof *nev);
        if (!nev) {
            b->lost = true;
            return b->ticket;
        }
        b->ev = nev;
        b->cap = cap;
    }
    struct owned_event *e = &b->ev[b->n++];
    e->time_ms = ev->time_ms;
    e->msg_type = ev->msg_type;
    e->type = dup_or_null(ev->type);
    e->station = dup_or_null(ev->station);
    e->action = dup_or_null(ev->action);
    e->message_id = dup_or_null(ev->message_id);
    e->status = dup_or_null(ev->status);
    e->data = dup_or_null(ev->data);
    if ((ev->type && !e->type) || (ev->station && !e->station) || (ev->action && !e->action) ||
        (ev->message_id && !e->message_id) || (ev->status && !e->status) || (ev->data && !e->data))
        b->lost = true;
    return b->ticket;
}

void store_flush(store *st)
{
    struct batch *b = st->filling;
    if (!b) return;
    st->filling = NULL;
    b->sync = batch_needs_sync(b);
    pthread_mutex_lock(&st->mu);
    if (st->queue_tail) st->queue_tail->next = b;
    else st->queue_head = b;
    st->queue_tail = b;
    st->sync_queued |= b->sync;
    if (!st->gathering || b->sync) pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

void store_health(store *st, struct store_health *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&st->mu);
    out->last_commit_ok = !st->last_commit_failed;
    out->commits_failed = st->n_failed_total;
    out->last_failed_ms = st->last_failed_ms;
    snprintf(out->last_error, sizeof out->last_error, "%s", st->last_error);
    pthread_mutex_unlock(&st->mu);
}

void store_set_watermarks(store *st, int64_t warn_free_bytes, int64_t min_free_bytes)
{
    atomic_store(&st->disk.warn_bytes, warn_free_bytes > 0 ? warn_free_bytes : 0);
    atomic_store(&st->disk.min_bytes, min_free_bytes > 0 ? min_free_bytes : 0);
    store_disk_measure(&st->disk, true);
}

void store_set_retention(store *st, int64_t keep_frames_ms)
{
    atomic_store(&st->keep_ms, keep_frames_ms > 0 ? keep_frames_ms : 0);
}

void store_disk(store *st, struct store_disk_state *out)
{
    *out = (struct store_disk_state){.free_bytes = atomic_load(&st->disk.free_bytes), .low = atomic_load(&st->disk.low),
                                     .lean = atomic_load(&st->disk.lean), .dropped = atomic_load(&st->disk.dropped),
                                     .frames_pruned = atomic_load(&st->frames_pruned),
                                     .prune_errors = atomic_load(&st->prune_errors)};
}

uint64_t store_settled(store *st)
{
    pthread_mutex_lock(&st->mu);
    uint64_t s = st->settled;
    pthread_mutex_unlock(&st->mu);
    return s;
}

enum store_ticket_state store_ticket_state(store *st, uint64_t ticket)
{
    if (ticket == STORE_TICKET_LOST) return STORE_FAILED;
    pthread_mutex_lock(&st->mu);
    enum store_ticket_state r = STORE_PENDING;
    if (ticket <= st->settled) {
        r = st->settled_lost ? STORE_FAILED : STORE_DURABLE;
        size_t lo = 0, hi = st->n_ranges; /* the first range whose hi >= ticket */
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (st->failed[mid].hi < ticket) lo = mid + 1;
            else hi = mid;
        }
        if (lo < st->n_ranges && st->failed[lo].lo <= ticket) r = STORE_FAILED;
    }
    pthread_mutex_unlock(&st->mu);
    return r;
}

int store_close(store *st)
{
    if (!st) return 0;
    store_flush(st);
    pthread_mutex_lock(&st->mu);
    st->stop = true;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
    pthread_join(st->writer, NULL);
    int failed = st->n_failed_total;
    if (st->filling) batch_free(st->filling);
    sqlite3_close(st->rdb);
    char err[128];
    exec(st->wdb, "PRAGMA wal_checkpoint(TRUNCATE)", err, sizeof err);
    sqlite3_close(st->wdb);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    free(st->failed);
    free(st);
    return failed ? -1 : 0;
}

int store_rebuild_projections(const char *path, char *err, size_t err_len)
{
    sqlite3 *db = open_db(path, false, err, err_len);
    if (!db) return -1;
    int rc = -1;
    sqlite3_stmt *sel = NULL;
    if (migrate(db, err, err_len) || exec(db, "BEGIN IMMEDIATE", err, err_len)) goto out;
    /* What pruned frames (keep_frames_days) put in the projections is kept, then folded back in. */
    if (store_retention_keep(db)) goto rollback;
    for (const char *const *t = store_projection_tables; *t; t++) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", *t);
        if (exec(db, sql, err, err_len)) goto rollback;
    }
    if (exec(db, store_projection_schema, err, err_len)) goto rollback;
    if (sqlite3_prepare_v2(db,
                           "SELECT seq, time_ms, type, station, msg_type, action, message_id, status, data"
                           " FROM events ORDER BY seq",
                           -1, &sel, NULL) != SQLITE_OK)
        goto rollback;
    int r;
    while ((r = sqlite3_step(sel)) == SQLITE_ROW) {
        struct store_event ev = {
            .time_ms = sqlite3_column_int64(sel, 1),
            .type = (const char *)sqlite3_column_text(sel, 2),
            .station = (const char *)sqlite3_column_text(sel, 3),
            .msg_type = sqlite3_column_int(sel, 4),
            .action = (const char *)sqlite3_column_text(sel, 5),
            .message_id = (const char *)sqlite3_column_text(sel, 6),
            .status = (const char *)sqlite3_column_text(sel, 7),
            .data = (const char *)sqlite3_column_text(sel, 8),
        };
        if (store_project(db, sqlite3_column_int64(sel, 0), &ev)) {
            snprintf(err, err_len, "event %lld: %s", (long long)sqlite3_column_int64(sel, 0), sqlite3_errmsg(db));
            goto rollback;
        }
    }
    if (r != SQLITE_DONE) {
        snprintf(err, err_len, "reading the event log: %s", sqlite3_errmsg(db));
        goto rollback;
    }
    sqlite3_finalize(sel);
    sel = NULL;
    if (store_retention_fold(db)) goto rollback;
    rc = exec(db, "COMMIT", err, err_len);
    goto out;
rollback:
    if (!err[0]) snprintf(err, err_len, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(sel);
    sel = NULL;
    {
        char e2[64];
        exec(db, "ROLLBACK", e2, sizeof e2);
    }
out:
    sqlite3_finalize(sel);
    store_project_done(db);
    sqlite3_close(db);
    return rc;
}

sqlite3 *store_rdb(store *st) { return st->rdb; }
