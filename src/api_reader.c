/*
 * api_reader.c - the API's reader thread: its own read-only SQLite connection to the store, a bounded queue
 * of jobs from the loop, and each result handed back with depot_post().
 *
 * Why a thread and not the store's loop-side read connection: a page of events filtered by type, or a
 * session's meter values, may have to scan many rows of a large log; on the loop thread that would delay
 * every station's answer. WAL lets this connection read while the store's writer commits, and one reader is
 * enough: jobs are bounded (page sizes, scan windows), and a full queue is answered 503 with Retry-After
 * rather than queued without end.
 *
 * Threads: api_reader_start/stop/submit and job_done on the loop thread; reader_main and the jobs' `run` on the
 * reader thread, which touches only its queue (under mu), its jobs and its connection.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "log.h"

#define READER_QUEUE_MAX 64

struct api_reader {
    struct depot *d;
    sqlite3 *db;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct api_job *head, *tail;  /* under mu */
    int queued;                   /* under mu */
    bool stop;                    /* under mu */
};

int api_job_problem(struct api_job *job, int status, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(job->detail, sizeof job->detail, fmt, ap);
    va_end(ap);
    snprintf(job->field, sizeof job->field, "%s", field ? field : "");
    job->status = status;
    return status;
}

static void job_free(struct api_job *job)
{
    cJSON_Delete(job->in);
    cJSON_Delete(job->out);
    free(job);
}

/* Loop thread: the result of a job. The request may be gone (client closed) or the API stopped. */
static void job_done(struct depot *d, void *arg)
{
    struct api_job *job = arg;
    struct api *a = d->api;
    struct api_req *r = a ? api_resume(a, job->serial) : NULL;
    if (r) {
        if (!job->out) api_problem(r, job->status, job->field[0] ? job->field : NULL, "%s", job->detail);
        else {
            api_reply(r, job->status, job->out);
            job->out = NULL;
        }
    }
    job_free(job);
}

static void *reader_main(void *arg)
{
    struct api_reader *rd = arg;
    pthread_mutex_lock(&rd->mu);
    for (;;) {
        while (!rd->head && !rd->stop) pthread_cond_wait(&rd->cv, &rd->mu);
        if (rd->stop) break;
        struct api_job *job = rd->head;
        rd->head = job->next;
        if (!rd->head) rd->tail = NULL;
        rd->queued--;
        pthread_mutex_unlock(&rd->mu);

        job->next = NULL;
        job->status = job->run(rd->db, job);
        /* A read transaction must not stay open between jobs: it would pin the WAL and stop checkpoints. */
        if (!sqlite3_get_autocommit(rd->db)) sqlite3_exec(rd->db, "ROLLBACK", NULL, NULL, NULL);
        if (depot_post(rd->d, job_done, job)) job_free(job); /* out of memory: the client times out */

        pthread_mutex_lock(&rd->mu);
    }
    pthread_mutex_unlock(&rd->mu);
    return NULL;
}

int api_reader_start(struct api *a, char *err, size_t err_len)
{
    struct api_reader *rd = calloc(1, sizeof *rd);
    if (!rd) return -1;
    rd->d = a->d;
    if (sqlite3_open_v2(a->d->cfg.database, &rd->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, err_len, "api: cannot open %s for reading: %s", a->d->cfg.database,
                 rd->db ? sqlite3_errmsg(rd->db) : "out of memory");
        sqlite3_close(rd->db);
        free(rd);
        return -1;
    }
    sqlite3_busy_timeout(rd->db, 2000);
    pthread_mutex_init(&rd->mu, NULL);
    pthread_cond_init(&rd->cv, NULL);
    if (pthread_create(&rd->thread, NULL, reader_main, rd)) {
        snprintf(err, err_len, "api: cannot start the reader thread");
        sqlite3_close(rd->db);
        free(rd);
        return -1;
    }
    a->reader = rd;
    return 0;
}

void api_reader_stop(struct api *a)
{
    struct api_reader *rd = a->reader;
    if (!rd) return;
    pthread_mutex_lock(&rd->mu);
    rd->stop = true;
    pthread_cond_signal(&rd->cv);
    pthread_mutex_unlock(&rd->mu);
    pthread_join(rd->thread, NULL);
    while (rd->head) {
        struct api_job *j = rd->head;
        rd->head = j->next;
        job_free(j);
    }
    sqlite3_close(rd->db);
    pthread_mutex_destroy(&rd->mu);
    pthread_cond_destroy(&rd->cv);
    free(rd);
    a->reader = NULL;
}

void api_reader_submit(struct api *a, struct api_req *r, int (*run)(sqlite3 *, struct api_job *), cJSON *in)
{
    struct api_reader *rd = a->reader;
    struct api_job *job = calloc(1, sizeof *job);
    if (!job || !rd) {
        cJSON_Delete(in);
        free(job);
        api_problem(r, 503, NULL, "the API's reader is not available");
        return;
    }
    job->run = run;
    job->in = in;
    pthread_mutex_lock(&rd->mu);
    bool full = rd->queued >= READER_QUEUE_MAX;
    if (!full) {
        job->serial = api_wait(a, r);
        if (rd->tail) rd->tail->next = job;
        else rd->head = job;
        rd->tail = job;
        rd->queued++;
        pthread_cond_signal(&rd->cv);
    }
    pthread_mutex_unlock(&rd->mu);
    if (full) {
        job_free(job);
        a->reader_refused++;
        r->retry_after_s = 1;
        api_problem(r, 503, NULL, "too many reads in progress (%d queued); retry shortly", READER_QUEUE_MAX);
        return;
    }
    a->reader_jobs++;
}

static const char *col_text(sqlite3_stmt *s, int i) { return (const char *)sqlite3_column_text(s, i); }

/* ---- reader-thread helpers (api_read.c, api_events.c) ------------------------------------------------- */

void api_col_str(cJSON *o, const char *name, sqlite3_stmt *s, int i)
{
    const char *v = col_text(s, i);
    if (v) cJSON_AddStringToObject(o, name, v);
    else cJSON_AddNullToObject(o, name);
}

void api_col_time(cJSON *o, const char *name, sqlite3_stmt *s, int i)
{
    api_add_time(o, name, sqlite3_column_type(s, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, i));
}

void api_col_num(cJSON *o, const char *name, sqlite3_stmt *s, int i, double scale)
{
    if (sqlite3_column_type(s, i) == SQLITE_NULL) cJSON_AddNullToObject(o, name);
    else cJSON_AddNumberToObject(o, name, sqlite3_column_double(s, i) * scale);
}

int api_db_error(struct api_job *job, sqlite3 *db)
{
    /* SQLite's text names files and tables: for the log, not for the client. */
    log_error("api", NULL, "reading the event log failed: %s", sqlite3_errmsg(db));
    return api_job_problem(job, 500, NULL, "reading the event log failed (the error is in depotd's log)");
}

const char *api_in_str(const struct api_job *job, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(job->in, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

double api_in_num(const struct api_job *job, const char *name, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(job->in, name);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* A JSON text from the store as JSON, or as a string when it is not JSON (a refused frame is kept verbatim). */
cJSON *api_json_or_string(const char *text)
{
    if (!text) return cJSON_CreateNull();
    cJSON *j = cJSON_Parse(text);
    return j ? j : cJSON_CreateString(text);
}
