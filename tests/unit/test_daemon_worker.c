/*
 * test_daemon_worker.c - numaplaced's memory mover thread
 * (src/daemon/move_worker.c) against a fake backend whose migrate_memory
 * moves from a counter and sleeps a little per step: a job runs in bounded
 * steps while the caller goes on (busy, progress), its result is collected
 * once (moved bytes, short = nothing more on the node), a cancel stops it
 * after the step under way, pacing holds steps to the budget, and
 * destroying the worker during a long job returns after one step.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "daemon/daemon.h"
#include "daemon/move_worker.h"
#include "np_test.h"

#define MiB (UINT64_C(1) << 20)

static pthread_mutex_t fake_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t fake_left;  /* bytes the guest still has on the source node */
static unsigned fake_calls; /* migrate_memory calls */
static uint64_t fake_largest;
static unsigned fake_inflight, fake_most_inflight; /* calls under way at once */
static uint64_t fake_order[16]; /* guests in the order their steps began */
static size_t fake_nr_order;
static pthread_cond_t fake_cv = PTHREAD_COND_INITIALIZER;
static uint64_t fake_held; /* a guest whose steps wait until released (0: none) */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int fake_migrate(void *impl, uint64_t guest_id, size_t from, size_t to, uint64_t bytes,
                        uint64_t *moved_out)
{
    (void)impl;
    (void)from;
    (void)to;
    pthread_mutex_lock(&fake_mu);
    if (fake_nr_order < sizeof(fake_order) / sizeof(fake_order[0]) &&
        (fake_nr_order == 0 || fake_order[fake_nr_order - 1] != guest_id))
        fake_order[fake_nr_order++] = guest_id; /* each job's first step */
    while (fake_held && fake_held == guest_id)
        pthread_cond_wait(&fake_cv, &fake_mu);
    if (++fake_inflight > fake_most_inflight)
        fake_most_inflight = fake_inflight;
    pthread_mutex_unlock(&fake_mu);
    sleep_ms(5); /* a step takes time */
    pthread_mutex_lock(&fake_mu);
    fake_inflight--;
    uint64_t n = bytes < fake_left ? bytes : fake_left;
    fake_left -= n;
    fake_calls++;
    if (bytes > fake_largest)
        fake_largest = bytes;
    pthread_mutex_unlock(&fake_mu);
    *moved_out = n;
    return 0;
}

static const struct np_backend_ops fake_ops = {
    .version = 2,
    .name = "fake",
    .migrate_memory = fake_migrate,
    .flags = NP_BACKEND_CONCURRENT_MIGRATE,
};

static void reset(uint64_t left)
{
    pthread_mutex_lock(&fake_mu);
    fake_left = left;
    fake_calls = 0;
    fake_largest = 0;
    fake_most_inflight = 0;
    fake_nr_order = 0;
    fake_held = 0;
    pthread_mutex_unlock(&fake_mu);
}

static void hold(uint64_t guest_id)
{
    pthread_mutex_lock(&fake_mu);
    fake_held = guest_id;
    pthread_cond_broadcast(&fake_cv);
    pthread_mutex_unlock(&fake_mu);
}

/* A worker on the fake backend, budget_bps and 4 MiB steps, with left
 * bytes on the source node. */
static void start(uint64_t budget_bps, uint64_t left, np_backend **be, dworker **w)
{
    ASSERT_EQ(np_backend_create(&fake_ops, NULL, be), 0);
    ASSERT_EQ(dworker_create(*be, budget_bps, 4 * MiB, w), 0);
    reset(left);
}

static void finish(np_backend *be, dworker *w)
{
    dworker_destroy(w);
    np_backend_destroy(be);
}

static dmove_job job_of(uint64_t id, uint64_t bytes)
{
    dmove_job j;
    memset(&j, 0, sizeof(j));
    j.guest_id = id;
    snprintf(j.name, sizeof(j.name), "g%llu", (unsigned long long)id);
    snprintf(j.bal_name, sizeof(j.bal_name), "g%llu", (unsigned long long)id);
    j.nr_acts = 1;
    j.acts[0].kind = NP_BALANCE_MIGRATE_MEMORY;
    j.acts[0].from_node_idx = 0;
    j.acts[0].to_node_idx = 1;
    j.acts[0].bytes = bytes;
    j.pending_bytes = bytes;
    return j;
}

static dmove_job got;
static size_t nr_got;
static uint64_t got_total; /* bytes moved by every job collected */
static void collect(void *opaque, const dmove_job *job)
{
    (void)opaque;
    got = *job;
    nr_got++;
    got_total += job->moved_bytes;
}

/* Collects until n jobs are (at most 5 s); got_total counts their bytes. */
static void harvest_n(dworker *w, size_t n)
{
    size_t collected = 0;
    uint64_t t0 = mono_ns();
    got_total = 0;
    while (collected < n && mono_ns() - t0 < 5000000000u) {
        nr_got = 0;
        dworker_harvest(w, collect, NULL);
        collected += nr_got;
        sleep_ms(2);
    }
    ASSERT_EQ(collected, n);
}

/* Waits (at most 5 s) until the guest's job is collected. */
static void harvest_until_done(dworker *w, uint64_t id)
{
    harvest_n(w, 1);
    ASSERT_U64_EQ(got.guest_id, id);
}

static void test_job_runs_in_steps_beside_the_caller(void)
{
    np_backend *be = NULL;
    dworker *w = NULL;
    start(0, 64 * MiB, &be, &w);
    dmove_job j = job_of(7, 40 * MiB);
    ASSERT_EQ(dworker_submit(w, &j), 0);
    ASSERT_EQ(dworker_submit(w, &j), -EBUSY); /* one job per guest */
    ASSERT_TRUE(dworker_busy(w, 7));
    ASSERT_TRUE(!dworker_busy(w, 8));
    uint64_t moved = 0, asked = 0;
    ASSERT_TRUE(dworker_progress(w, 7, &moved, &asked));
    ASSERT_U64_EQ(asked, 40 * MiB);
    harvest_until_done(w, 7);
    ASSERT_EQ(got.rc, 0);
    ASSERT_U64_EQ(got.moved_bytes, 40 * MiB);
    ASSERT_EQ(fake_calls, 10); /* 10 steps of 4 MiB */
    ASSERT_U64_EQ(fake_largest, 4 * MiB);
    ASSERT_TRUE(!dworker_busy(w, 7)); /* collected: forgotten */
    /* Short: only 6 MiB left on the node: the job ends after the short step. */
    reset(6 * MiB);
    j = job_of(7, 40 * MiB);
    ASSERT_EQ(dworker_submit(w, &j), 0);
    harvest_until_done(w, 7);
    ASSERT_U64_EQ(got.moved_bytes, 6 * MiB);
    ASSERT_EQ(fake_calls, 2);
    finish(be, w);
}

static void test_cancel_and_pacing(void)
{
    np_backend *be = NULL;
    dworker *w = NULL;
    start(40 * MiB, 64 * MiB, &be, &w); /* 40 MiB/s: 4 MiB steps 100 ms apart */
    dmove_job j = job_of(3, 64 * MiB);
    uint64_t t0 = mono_ns();
    ASSERT_EQ(dworker_submit(w, &j), 0);
    sleep_ms(250);
    dworker_cancel(w, 3);
    harvest_until_done(w, 3);
    uint64_t took_ms = (mono_ns() - t0) / 1000000;
    ASSERT_TRUE(got.cancelled);
    /* paced: in ~250 ms at most 4 steps (0, 100, 200 ms, then the cancel) */
    ASSERT_TRUE(got.moved_bytes >= 4 * MiB && got.moved_bytes <= 16 * MiB);
    ASSERT_TRUE(took_ms < 2000); /* the cancel cut the budget's wait short */
    finish(be, w);
}

static void test_destroy_during_a_long_job(void)
{
    np_backend *be = NULL;
    dworker *w = NULL;
    start(4 * MiB, 1024 * MiB, &be, &w); /* 1 s per step */
    dmove_job j = job_of(1, 1024 * MiB);
    ASSERT_EQ(dworker_submit(w, &j), 0);
    sleep_ms(50);
    uint64_t t0 = mono_ns();
    dworker_destroy(w); /* stops after the step under way, not after 256 s */
    ASSERT_TRUE(mono_ns() - t0 < 1000000000u);
    ASSERT_TRUE(fake_calls <= 2);
    np_backend_destroy(be);
}

/* With one mover thread busy, the queued job with the most bytes runs
 * next, whatever the order they were submitted in (a guest nearly local
 * does not hold up one that needs its whole memory moved). */
static void test_largest_queued_job_first(void)
{
    np_backend *be = NULL;
    dworker *w = NULL;
    if (DWORKER_THREADS != 1)
        return; /* the order is only defined for one thread */
    start(0, 1024 * MiB, &be, &w);
    dmove_job j = job_of(1, 40 * MiB); /* 10 steps of 5 ms: runs while 2 and 3 queue */
    ASSERT_EQ(dworker_submit(w, &j), 0);
    sleep_ms(10);
    j = job_of(2, 4 * MiB);
    ASSERT_EQ(dworker_submit(w, &j), 0);
    j = job_of(3, 20 * MiB);
    ASSERT_EQ(dworker_submit(w, &j), 0);
    harvest_n(w, 3);
    ASSERT_EQ(fake_nr_order, 3);
    ASSERT_U64_EQ(fake_order[0], 1);
    ASSERT_U64_EQ(fake_order[1], 3);
    ASSERT_U64_EQ(fake_order[2], 2);
    finish(be, w);
}

/* Ageing: a small job that has waited longer than the bound runs before a
 * larger one submitted later (largest-first alone ran 1, 3, 2: the small
 * job would wait behind every larger job that arrives). Guest 1's step is
 * held until both others are queued, so the order does not depend on how
 * fast the thread is. */
static void test_a_job_waiting_past_the_bound_runs_next(void)
{
    np_backend *be = NULL;
    dworker *w = NULL;
    if (DWORKER_THREADS != 1)
        return;
    start(0, 1024 * MiB, &be, &w);
    dworker_set_max_wait(w, 20 * 1000000u);
    hold(1);
    dmove_job j = job_of(1, 4 * MiB);
    ASSERT_EQ(dworker_submit(w, &j), 0);
    j = job_of(2, 4 * MiB); /* small, queued first */
    ASSERT_EQ(dworker_submit(w, &j), 0);
    sleep_ms(40); /* guest 2 waits past the 20 ms bound */
    j = job_of(3, 40 * MiB);
    ASSERT_EQ(dworker_submit(w, &j), 0);
    hold(0);
    harvest_n(w, 3);
    ASSERT_EQ(fake_nr_order, 3);
    ASSERT_U64_EQ(fake_order[0], 1);
    ASSERT_U64_EQ(fake_order[1], 2);
    ASSERT_U64_EQ(fake_order[2], 3);
    ASSERT_U64_EQ(got_total, 48 * MiB);
    finish(be, w);
}

/* A stop asked without waiting (the control thread at SIGTERM) ends the
 * job after the step under way, so a later stop wait finds the thread
 * gone: it returns 0 with no time left to wait. */
static void test_ask_stop_then_no_wait(void)
{
    np_backend *be = NULL;
    dworker *w = NULL;
    start(4 * MiB, 1024 * MiB, &be, &w); /* 1 s per step */
    dmove_job j = job_of(1, 1024 * MiB);
    ASSERT_EQ(dworker_submit(w, &j), 0);
    sleep_ms(50);
    dworker_ask_stop(w);
    dworker_ask_stop(NULL); /* a no-op */
    sleep_ms(100); /* the step (5 ms) ends; the budget's wait is cut short */
    uint64_t t0 = mono_ns();
    ASSERT_EQ(dworker_stop_within(w, 0), 0);
    ASSERT_TRUE(mono_ns() - t0 < 50000000u);
    ASSERT_TRUE(fake_calls <= 2);
    finish(be, w);
}

/* Three guests' jobs all run to the end, no more of them at once than
 * there are mover threads (DWORKER_THREADS), and the threads share one
 * budget: together they move no more than it allows. */
static void test_jobs_run_together_on_one_budget(void)
{
    np_backend *be = NULL;
    dworker *w = NULL;
    start(0, 1024 * MiB, &be, &w);
    for (uint64_t id = 1; id <= 3; id++) {
        dmove_job j = job_of(id, 40 * MiB);
        ASSERT_EQ(dworker_submit(w, &j), 0);
    }
    harvest_n(w, 3);
    ASSERT_U64_EQ(got_total, 120 * MiB);
    ASSERT_EQ(fake_calls, 30);
    ASSERT_TRUE(fake_most_inflight >= 1 && fake_most_inflight <= DWORKER_THREADS);
    dworker_destroy(w);

    /* 40 MiB/s shared: in 500 ms about 20 MiB in all, not 20 MiB each. */
    ASSERT_EQ(dworker_create(be, 40 * MiB, 4 * MiB, &w), 0);
    reset(1024 * MiB);
    for (uint64_t id = 1; id <= 3; id++) {
        dmove_job j = job_of(id, 64 * MiB);
        ASSERT_EQ(dworker_submit(w, &j), 0);
    }
    sleep_ms(500);
    for (uint64_t id = 1; id <= 3; id++)
        dworker_cancel(w, id);
    harvest_n(w, 3);
    /* The first step of each thread is free (paced after it), then 40 MiB/s:
     * at most 3 x 4 + 20 + one step of slack. */
    ASSERT_TRUE(got_total >= 12 * MiB && got_total <= 36 * MiB);
    finish(be, w);
}

int main(void)
{
    dlog_init(NP_LOG_ERROR);
    NP_RUN(test_job_runs_in_steps_beside_the_caller);
    NP_RUN(test_cancel_and_pacing);
    NP_RUN(test_destroy_during_a_long_job);
    NP_RUN(test_jobs_run_together_on_one_budget);
    NP_RUN(test_ask_stop_then_no_wait);
    NP_RUN(test_largest_queued_job_first);
    NP_RUN(test_a_job_waiting_past_the_bound_runs_next);
    return np_test_summary();
}
