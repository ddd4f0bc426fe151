/* cache: TTL freshness in the caller's clock, replacement on a shared slot, invalidation by key and by
 * predicate, in-place updates, values that own memory released exactly once, and single-flight reloads
 * (one loader per stale key while the others keep the stale value; merges keep what was set meanwhile). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/cache.h"

typedef struct pair { int64_t a, b; } pair;

static int64_t get_a(cache *c, const char *key, int64_t now)
{
    pair p;
    return cache_get(c, key, now, &p) ? p.a : -1;
}

static void ttl_expiry(void **state)
{
    (void)state;
    cache *c = cache_new(64, 4, sizeof(pair), 100, NULL);
    assert_non_null(c);
    pair p = {7, 8};
    assert_int_equal(get_a(c, "k", 0), -1);
    cache_put(c, "k", 1000, &p);
    assert_int_equal(get_a(c, "k", 1000), 7);
    assert_int_equal(get_a(c, "k", 1099), 7);
    assert_int_equal(get_a(c, "k", 1100), -1); /* ttl reached */
    assert_int_equal(get_a(c, "k", 999), -1);  /* a clock that went back: not fresh */
    cache_put(c, "k", 1100, &p);
    assert_int_equal(get_a(c, "k", 1150), 7);
    cache_free(c);
}

static void replacement_and_long_keys(void **state)
{
    (void)state;
    cache *c = cache_new(1, 1, sizeof(pair), 100, NULL); /* one slot: every key collides */
    pair a = {1, 0}, b = {2, 0};
    cache_put(c, "a", 0, &a);
    cache_put(c, "b", 0, &b);
    assert_int_equal(get_a(c, "a", 0), -1);
    assert_int_equal(get_a(c, "b", 0), 2);
    char longkey[CACHE_KEY_MAX + 8];
    memset(longkey, 'x', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    cache_put(c, longkey, 0, &a); /* not cacheable: dropped, the slot keeps b */
    assert_int_equal(get_a(c, longkey, 0), -1);
    assert_int_equal(get_a(c, "b", 0), 2);
    cache_free(c);
    assert_null(cache_new(0, 1, 8, 1, NULL));
    assert_null(cache_new(8, 1, 8, 0, NULL));
}

static int a_is(const char *key, const void *value, void *arg)
{
    (void)key;
    return ((const pair *)value)->a == *(int64_t *)arg;
}

static int add_b(void *value, void *arg)
{
    ((pair *)value)->b += *(int64_t *)arg;
    return 1;
}

static int read_b(const void *value, void *arg)
{
    (void)arg;
    return (int)((const pair *)value)->b;
}

static void invalidate_update_read(void **state)
{
    (void)state;
    cache *c = cache_new(256, 8, sizeof(pair), 100, NULL);
    char key[16];
    for (int64_t i = 0; i < 20; i++) {
        pair p = {i % 2, 0};
        snprintf(key, sizeof key, "k%d", (int)i);
        cache_put(c, key, 0, &p);
    }
    cache_invalidate(c, "k0");
    cache_invalidate(c, "absent");
    assert_int_equal(get_a(c, "k0", 0), -1);
    assert_int_equal(get_a(c, "k2", 0), 0);
    int64_t one = 1;
    cache_invalidate_if(c, a_is, &one); /* every odd key */
    for (int i = 1; i < 20; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(get_a(c, key, 0), i % 2 ? -1 : 0);
    }
    int64_t five = 5;
    assert_int_equal(cache_update(c, "k2", add_b, &five), 1);
    assert_int_equal(cache_update(c, "k2", add_b, &five), 1);
    assert_int_equal(cache_update(c, "k1", add_b, &five), 0); /* absent */
    assert_int_equal(cache_read(c, "k2", 50, read_b, NULL), 10);
    assert_int_equal(cache_read(c, "k2", 100, read_b, NULL), -1);  /* stale: not read */
    assert_int_equal(cache_update(c, "k2", add_b, &five), 1);      /* but still updatable */
    cache_free(c);
}

/* ---- values that own memory ---- */

static atomic_int frees;

typedef struct owned { char *text; } owned;

static void owned_free(void *value)
{
    owned *o = value;
    free(o->text);
    o->text = NULL;
    atomic_fetch_add(&frees, 1);
}

static void put_owned(cache *c, const char *key, const char *text)
{
    owned o = {strdup(text)};
    cache_put(c, key, 0, &o);
}

static int read_text(const void *value, void *arg)
{
    return strcmp(((const owned *)value)->text, arg) == 0;
}

static void owned_values_freed_once(void **state)
{
    (void)state;
    atomic_store(&frees, 0);
    cache *c = cache_new(2, 2, sizeof(owned), 100, owned_free);
    put_owned(c, "a", "one");
    put_owned(c, "a", "two");  /* replaces: "one" freed */
    assert_int_equal(atomic_load(&frees), 1);
    assert_int_equal(cache_read(c, "a", 0, read_text, "two"), 1);
    cache_invalidate(c, "a");  /* "two" freed */
    assert_int_equal(atomic_load(&frees), 2);
    cache_invalidate(c, "a");  /* nothing left to free */
    assert_int_equal(atomic_load(&frees), 2);
    char longkey[CACHE_KEY_MAX + 1];
    memset(longkey, 'y', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    put_owned(c, longkey, "dropped"); /* not cacheable: freed at once */
    assert_int_equal(atomic_load(&frees), 3);
    put_owned(c, "b", "three");
    put_owned(c, "c", "four");
    put_owned(c, "d", "five");
    cache_free(c); /* whatever is still held is freed here; ASan reports any leak or double free */
    assert_int_equal(atomic_load(&frees), 6);
}

/* Threads putting, reading, invalidating and replacing owned values on a few shared slots: every value
 * put is freed exactly once (run under TSan and ASan). */
#define CHURN_THREADS 4
#define CHURN_ROUNDS 4000

static atomic_int churn_puts, bad_reads;

static int drop_odd(const char *key, const void *value, void *arg)
{
    (void)value;
    (void)arg;
    return (key[1] - '0') % 2;
}

static int text_len(const void *value, void *arg)
{
    (void)arg;
    return (int)strlen(((const owned *)value)->text);
}

static void *churn(void *arg)
{
    cache *c = arg;
    char key[4];
    for (int i = 0; i < CHURN_ROUNDS; i++) {
        snprintf(key, sizeof key, "k%d", i % 10);
        switch (i % 5) {
        case 0: case 1: put_owned(c, key, i % 2 ? "odd" : "even"); atomic_fetch_add(&churn_puts, 1); break;
        case 2: if (cache_read(c, key, 0, text_len, NULL) > 4) atomic_fetch_add(&bad_reads, 1); break;
        case 3: cache_invalidate(c, key); break;
        default: if (i % 50 == 4) cache_invalidate_if(c, drop_odd, NULL); break;
        }
    }
    return NULL;
}

static void owned_values_under_threads(void **state)
{
    (void)state;
    atomic_store(&frees, 0);
    atomic_store(&churn_puts, 0);
    cache *c = cache_new(8, 4, sizeof(owned), 100, owned_free);
    pthread_t th[CHURN_THREADS];
    for (int i = 0; i < CHURN_THREADS; i++) assert_int_equal(pthread_create(&th[i], NULL, churn, c), 0);
    for (int i = 0; i < CHURN_THREADS; i++) pthread_join(th[i], NULL);
    cache_free(c);
    assert_int_equal(atomic_load(&frees), atomic_load(&churn_puts));
    assert_int_equal(atomic_load(&bad_reads), 0);
}

/* ---- single flight ---- */

typedef struct flight {
    cache *c;
    atomic_int calls;
    int fail;
    int delay_ms;
    int64_t value;
    int64_t now;
    pthread_barrier_t start;
    int64_t seen[8];
    int rc[8];
} flight;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int slow_load(void *arg, const char *key, void *value, bs_err *err)
{
    flight *f = arg;
    (void)key;
    atomic_fetch_add(&f->calls, 1);
    sleep_ms(f->delay_ms);
    if (f->fail) return bs_err_set(err, 503, "common/unavailable", "store down");
    ((pair *)value)->a = f->value;
    return 0;
}

static void keep_b(void *stored, const void *loaded, void *arg)
{
    (void)arg;
    ((pair *)stored)->a = ((const pair *)loaded)->a;
}

typedef struct worker { flight *f; int i; } worker;

static void *ask(void *arg)
{
    worker *w = arg;
    flight *f = w->f;
    const cache_loader loader = {.load = slow_load, .merge = keep_b, .arg = f};
    pair p = {0, 0};
    bs_err err;
    pthread_barrier_wait(&f->start);
    f->rc[w->i] = cache_get_or_load(f->c, "k", f->now, &p, &loader, &err);
    f->seen[w->i] = p.a;
    return NULL;
}

static void run_flight(flight *f, int n)
{
    pthread_t th[8];
    worker w[8];
    pthread_barrier_init(&f->start, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        w[i] = (worker){f, i};
        assert_int_equal(pthread_create(&th[i], NULL, ask, &w[i]), 0);
    }
    for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
    pthread_barrier_destroy(&f->start);
}

static void single_flight_stale(void **state)
{
    (void)state;
    flight *f = calloc(1, sizeof *f);
    f->c = cache_new(64, 4, sizeof(pair), 100, NULL);
    pair old = {1, 0};
    cache_put(f->c, "k", 0, &old);
    f->now = 500; /* stale */
    f->delay_ms = 100;
    f->value = 2;
    run_flight(f, 8);
    assert_int_equal(atomic_load(&f->calls), 1); /* one loader; the others used 1 meanwhile (or 2 after) */
    for (int i = 0; i < 8; i++) {
        assert_int_equal(f->rc[i], 0);
        assert_true(f->seen[i] == 1 || f->seen[i] == 2);
    }
    assert_int_equal(get_a(f->c, "k", 500), 2);
    cache_free(f->c);
    free(f);
}

static void single_flight_missing_key(void **state)
{
    (void)state;
    flight *f = calloc(1, sizeof *f);
    f->c = cache_new(64, 4, sizeof(pair), 100, NULL);
    f->now = 10;
    f->delay_ms = 50;
    f->value = 3;
    run_flight(f, 8); /* nothing to reuse: one caller loads, the others wait for it */
    assert_int_equal(atomic_load(&f->calls), 1);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(f->rc[i], 0);
        assert_int_equal(f->seen[i], 3);
    }
    cache_free(f->c);
    free(f);
}

static void single_flight_missing_key_failing(void **state)
{
    (void)state;
    flight *f = calloc(1, sizeof *f);
    f->c = cache_new(64, 4, sizeof(pair), 100, NULL);
    f->now = 10;
    f->delay_ms = 10;
    f->fail = 1;
    run_flight(f, 8); /* each failure is its loader's own: a woken waiter loads next, one at a time */
    assert_int_equal(atomic_load(&f->calls), 8);
    for (int i = 0; i < 8; i++) assert_int_equal(f->rc[i], -1);
    f->fail = 0;
    f->value = 4;
    run_flight(f, 8); /* nothing was left behind: the key loads once more */
    assert_int_equal(atomic_load(&f->calls), 9);
    for (int i = 0; i < 8; i++) assert_int_equal(f->seen[i], 4);
    cache_free(f->c);
    free(f);
}

/* A loader that sets b through cache_update while it loads (as a claim would): the merge keeps it. */
static int load_and_update(void *arg, const char *key, void *value, bs_err *err)
{
    flight *f = arg;
    int64_t four = 4;
    (void)err;
    atomic_fetch_add(&f->calls, 1);
    cache_update(f->c, key, add_b, &four);
    ((pair *)value)->a = f->value;
    return 0;
}

static void reload_merges_and_failures_retry(void **state)
{
    (void)state;
    flight *f = calloc(1, sizeof *f);
    f->c = cache_new(64, 4, sizeof(pair), 100, NULL);
    pair old = {1, 1}, p;
    bs_err err;
    cache_put(f->c, "k", 0, &old);
    f->value = 9;
    cache_loader loader = {.load = load_and_update, .merge = keep_b, .arg = f};
    assert_int_equal(cache_get_or_load(f->c, "k", 200, &p, &loader, &err), 0);
    assert_int_equal(p.a, 9);
    assert_int_equal(p.b, 5); /* 1, plus 4 set during the load */
    loader.merge = NULL;      /* without a merge a reload replaces the value */
    assert_int_equal(cache_get_or_load(f->c, "k", 400, &p, &loader, &err), 0);
    assert_int_equal(p.b, 0);
    f->fail = 1;
    loader.load = slow_load;
    assert_int_equal(cache_get_or_load(f->c, "k", 600, &p, &loader, &err), -1);
    assert_int_equal(err.status, 503);
    assert_int_equal(cache_get_or_load(f->c, "k", 600, &p, &loader, &err), -1); /* the mark was cleared: tried again */
    assert_int_equal(atomic_load(&f->calls), 4);
    f->fail = 0;
    assert_int_equal(cache_get_or_load(f->c, "k", 600, &p, &loader, &err), 0);
    assert_int_equal(p.a, 9);
    cache_free(f->c);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ttl_expiry),
        cmocka_unit_test(replacement_and_long_keys),
        cmocka_unit_test(invalidate_update_read),
        cmocka_unit_test(owned_values_freed_once),
        cmocka_unit_test(owned_values_under_threads),
        cmocka_unit_test(single_flight_stale),
        cmocka_unit_test(single_flight_missing_key),
        cmocka_unit_test(single_flight_missing_key_failing),
        cmocka_unit_test(reload_merges_and_failures_retry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
