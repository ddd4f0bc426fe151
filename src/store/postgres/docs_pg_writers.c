/* docs_pg_writers: see docs_pg_writers.h. A FIFO of jobs under one mutex; the threads sleep on a
 * condition while it is empty. A thread taking a grouped job takes the later ones of its group with it. */
#include "store/postgres/docs_pg_writers.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct job {
    void (*run)(void *arg);                 /* a job alone, or */
    void (*many)(void **args, size_t n);    /* a job that goes with others of its key */
    uint64_t key;
    void *arg;
    struct job *next;
} job;

struct docs_pg_writers {
    pthread_mutex_t lock;
    pthread_cond_t queued;
    job *head, *tail;
    int stopping;
    int nthreads;
    pthread_t threads[DOCS_PG_WRITERS];
};

/* Takes the jobs queued after head (the lock held) that go with it, into group[1..]; their count + 1. */
static size_t group_take_locked(docs_pg_writers *w, job *head, job **group)
{
    size_t n = 1;
    job **link = &w->head;
    for (job *j = w->head; j && head->many && n < DOCS_PG_GROUP_MAX; j = *link) {
        if (j->many != head->many || j->key != head->key) {
            link = &j->next;
            continue;
        }
        *link = j->next; /* unlinked */
        group[n++] = j;
    }
    w->tail = NULL;
    for (job *j = w->head; j; j = j->next) w->tail = j;
    return n;
}

/* The next jobs (one, or a group), or 0 once stopping with none left. */
static size_t jobs_next(docs_pg_writers *w, job **group)
{
    pthread_mutex_lock(&w->lock);
    while (!w->head && !w->stopping) pthread_cond_wait(&w->queued, &w->lock);
    job *head = w->head;
    size_t n = 0;
    if (head) {
        if (!(w->head = head->next)) w->tail = NULL;
        n = head->many ? group_take_locked(w, head, group) : 1;
        group[0] = head;
    }
    pthread_mutex_unlock(&w->lock);
    return n;
}

static void *writer_main(void *arg)
{
    docs_pg_writers *w = arg;
    job *group[DOCS_PG_GROUP_MAX];
    void *args[DOCS_PG_GROUP_MAX];
    for (size_t n; (n = jobs_next(w, group));) {
        for (size_t i = 0; i < n; i++) args[i] = group[i]->arg;
        if (group[0]->many) group[0]->many(args, n);
        else group[0]->run(args[0]);
        for (size_t i = 0; i < n; i++) free(group[i]);
    }
    return NULL;
}

docs_pg_writers *docs_pg_writers_new(bs_err *err)
{
    docs_pg_writers *w = calloc(1, sizeof *w);
    if (!w) {
        bs_err_internal(err);
        return NULL;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->queued, NULL);
    while (w->nthreads < DOCS_PG_WRITERS && pthread_create(&w->threads[w->nthreads], NULL, writer_main, w) == 0) w->nthreads++;
    if (w->nthreads) return w;
    docs_pg_writers_free(w);
    bs_err_internal(err);
    return NULL;
}

void docs_pg_writers_free(docs_pg_writers *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_broadcast(&w->queued);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < w->nthreads; i++) pthread_join(w->threads[i], NULL);
    pthread_cond_destroy(&w->queued);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

static int job_queue(docs_pg_writers *w, const job *proto, bs_err *err)
{
    job *j = malloc(sizeof *j);
    if (!j) return bs_err_internal(err);
    *j = *proto;
    j->next = NULL;
    pthread_mutex_lock(&w->lock);
    if (w->tail) w->tail->next = j;
    else w->head = j;
    w->tail = j;
    pthread_cond_signal(&w->queued);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

int docs_pg_writers_submit(docs_pg_writers *w, void (*run)(void *arg), void *arg, bs_err *err)
{
    return job_queue(w, &(job){.run = run, .arg = arg}, err);
}

int docs_pg_writers_submit_grouped(docs_pg_writers *w, void (*many)(void **args, size_t n), uint64_t key, void *arg,
                                   bs_err *err)
{
    return job_queue(w, &(job){.many = many, .key = key, .arg = arg}, err);
}
