/*
 * pwpool.c - password hashing off the loop. PBKDF2 is slow on purpose (~10 ms at the default 20,000
 * iterations); here it runs on password_threads worker threads, so a storm of reconnecting stations or a
 * stranger guessing passwords never delays a connected station's message. Results go back to the loop thread
 * through depot_post, in whatever order the workers finish.
 */
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "depot.h"

#define PW_THREADS_MAX 16
#define PW_NICE 10

struct pw_pool {
    struct depot *d;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct pw_job *head, *tail;          /* under mu */
    bool stop;                           /* under mu */
    pthread_t threads[PW_THREADS_MAX];
    int n_threads;
};

static void work(struct pw_job *job)
{
    if (job->kind == PW_VERIFY) {
        job->ok = auth_verify_password(job->password, job->hash);
        if (!job->ok && job->hash2[0]) job->ok = job->used_previous = auth_verify_password(job->password, job->hash2);
    } else {
        job->ok = auth_hash_password(job->password, job->iterations, job->hash, sizeof job->hash) == 0;
    }
}

static void *worker(void *arg)
{
    struct pw_pool *p = arg;
    /* Linux nices threads one by one: the loop keeps its weight when a storm of hashing has every core busy
     * (best effort; raising one's own nice value needs no privilege). */
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), PW_NICE);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stop) pthread_cond_wait(&p->cv, &p->mu);
        if (p->stop) break; /* what is queued is cancelled by depot_pw_stop */
        struct pw_job *job = p->head;
        p->head = job->next;
        if (!p->head) p->tail = NULL;
        pthread_mutex_unlock(&p->mu);
        work(job);
        depot_post_node(p->d, &job->post);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int depot_pw_start(struct depot *d, char *err, size_t err_len)
{
    struct pw_pool *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    p->d = d;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = d->cfg.password_threads ? d->cfg.password_threads : cpus > 0 ? (int)cpus : 1;
    if (n > PW_THREADS_MAX) n = PW_THREADS_MAX;
    for (int i = 0; i < n; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p)) {
            snprintf(err, err_len, "cannot start a password thread");
            d->pw = p;
            depot_pw_stop(d);
            return -1;
        }
        p->n_threads++;
    }
    d->pw = p;
    return 0;
}

void depot_pw_submit(struct depot *d, struct pw_job *job, void (*done)(struct depot *d, void *job))
{
    struct pw_pool *p = d->pw;
    job->next = NULL;
    job->post = (struct posted){.fn = done, .arg = job, .embedded = true};
    pthread_mutex_lock(&p->mu);
    if (p->tail) p->tail->next = job;
    else p->head = job;
    p->tail = job;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void depot_pw_stop(struct depot *d)
{
    struct pw_pool *p = d->pw;
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_threads; i++) pthread_join(p->threads[i], NULL);
    /* Jobs never started go back to the loop as cancelled: their connections still point at them. */
    while (p->head) {
        struct pw_job *job = p->head;
        p->head = job->next;
        job->cancelled = true;
        depot_post_node(d, &job->post);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
    d->pw = NULL;
}
