/* docs_pg_writers: see docs_pg_writers.h. A FIFO of jobs under one mutex; the threads sleep on a
 * condition while it is empty. */
#include "store/postgres/docs_pg_writers.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct job {
    void (*run)(void *arg);
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

/* The next job, or NULL once stopping with none left. */
static job *job_next(docs_pg_writers *w)
{
    pthread_mutex_lock(&w->lock);
    while (!w->head && !w->stopping) pthread_cond_wait(&w->queued, &w->lock);
    job *j = w->head;
    if (j && !(w->head = j->next)) w->tail = NULL;
    pthread_mutex_unlock(&w->lock);
    return j;
}

static void *writer_main(void *arg)
{
    docs_pg_writers *w = arg;
    for (job *j; (j = job_next(w));) {
        j->run(j->arg);
        free(j);
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

int docs_pg_writers_submit(docs_pg_writers *w, void (*run)(void *arg), void *arg, bs_err *err)
{
    job *j = malloc(sizeof *j);
    if (!j) return bs_err_internal(err);
    *j = (job){.run = run, .arg = arg};
    pthread_mutex_lock(&w->lock);
    if (w->tail) w->tail->next = j;
    else w->head = j;
    w->tail = j;
    pthread_cond_signal(&w->queued);
    pthread_mutex_unlock(&w->lock);
    return 0;
}
