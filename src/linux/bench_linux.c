/*
 * linux/bench_linux.c - measurements for `numaplace bench` on a Linux host:
 * what sensing one process costs by each method (numa_maps read+parse vs a
 * move_pages query walk), and what moving its memory costs by each path
 * (the chunked mover vs one migrate_pages call): throughput and the
 * longest time the process could be held up.
 *
 * The clock comes from the caller (np_linux_clock_now_ns for real runs).
 * Sensing times are medians over `reps` rounds, so one round disturbed by
 * another process on a shared host does not decide the result.
 */
#include "linux/linux_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SUBSYS "linux/bench"
/* Most rounds a sensing benchmark runs (each is one full walk). */
#define NP_LINUX_BENCH_REPS_MAX 1000u

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Sorts v and returns its median (mean of the middle two for even n). */
static uint64_t median(uint64_t *v, unsigned n)
{
    qsort(v, n, sizeof(*v), cmp_u64);
    return n % 2 ? v[n / 2] : v[n / 2 - 1] / 2 + v[n / 2] / 2;
}

int np_linux_bench_sense_run(np_linux_ctx *ctx, pid_t pid, unsigned reps, np_linux_now_fn now,
                             void *clock_opaque, np_linux_bench_sense *out)
{
    uint64_t *t_maps = NULL, *t_query = NULL;
    np_linux_mem mem = {0};
    np_linux_bench_sense res = {0};
    int rc = 0;

    if (!ctx || !now || !out || reps == 0 || reps > NP_LINUX_BENCH_REPS_MAX)
        return -EINVAL;
    t_maps = calloc(reps, sizeof(*t_maps));
    t_query = calloc(reps, sizeof(*t_query));
    if (!t_maps || !t_query) {
        rc = -ENOMEM;
        goto out;
    }
    for (unsigned i = 0; i < reps; i++) {
        uint64_t t0 = now(clock_opaque);
        rc = np_linux_mem_numa_maps(ctx, pid, &mem);
        if (rc < 0)
            goto out;
        uint64_t t1 = now(clock_opaque);
        res.numa_maps_bytes = mem.total_bytes;
        rc = np_linux_mem_query(ctx, pid, NP_LINUX_MAPS_ALL, &mem);
        if (rc < 0)
            goto out;
        uint64_t t2 = now(clock_opaque);
        res.query_bytes = mem.total_bytes;
        res.query_pages = mem.pages_queried;
        t_maps[i] = t1 - t0;
        t_query[i] = t2 - t1;
    }
    res.reps = reps;
    res.numa_maps_ns = median(t_maps, reps);
    res.query_ns = median(t_query, reps);
    /* median() sorted the arrays. */
    res.numa_maps_min_ns = t_maps[0];
    res.numa_maps_max_ns = t_maps[reps - 1];
    res.query_min_ns = t_query[0];
    res.query_max_ns = t_query[reps - 1];
    *out = res;
out:
    np_linux_mem_fini(&mem);
    free(t_maps);
    free(t_query);
    return rc;
}

/* Anonymous bytes of pid on one node, by query. */
static int anon_on_node(np_linux_ctx *ctx, pid_t pid, unsigned node, uint64_t *bytes_out)
{
    np_linux_mem mem = {0};
    int rc = np_linux_mem_query(ctx, pid, NP_LINUX_MAPS_ANON, &mem);
    if (rc < 0)
        return rc;
    *bytes_out = node < mem.nr_node_slots ? mem.anon_bytes_by_node_os_id[node] : 0;
    np_linux_mem_fini(&mem);
    return 0;
}

int np_linux_bench_move_run(np_linux_ctx *ctx, pid_t pid, unsigned from, unsigned to,
                            np_linux_now_fn now, void *clock_opaque, np_linux_bench_move *out)
{
    np_bitmap *from_set = NULL, *to_set = NULL;
    np_linux_move_stats st;
    np_linux_bench_move res = {0};
    uint64_t on_from_before, on_from_after;
    int rc;

    if (!ctx || !now || !out || from == to || from > NP_LINUX_NODE_MAX_OS_ID ||
        to > NP_LINUX_NODE_MAX_OS_ID)
        return -EINVAL;
    rc = np_bitmap_create(&from_set);
    if (rc == 0)
        rc = np_bitmap_create(&to_set);
    if (rc == 0)
        rc = np_bitmap_set(from_set, from);
    if (rc == 0)
        rc = np_bitmap_set(to_set, to);
    if (rc < 0)
        goto out;

    /* There: the chunked mover, unpaced, with the default batch. */
    np_linux_move_opts opts = {.now_ns = now, .clock_opaque = clock_opaque,
                               .filter = NP_LINUX_MAPS_ANON};
    /* No sleeps are needed without a budget; run steps directly. */
    np_linux_mover *mv = NULL;
    uint64_t t0 = now(clock_opaque);
    rc = np_linux_mover_create(ctx, pid, from_set, to, &opts, &mv);
    if (rc < 0)
        goto out;
    for (bool done = false; !done && rc == 0;) {
        uint64_t next;
        rc = np_linux_mover_step(mv, &done, &next);
    }
    st = *np_linux_mover_stats(mv);
    np_linux_mover_destroy(mv);
    if (rc < 0)
        goto out;
    res.chunked_ns = now(clock_opaque) - t0;
    res.chunked_bytes = st.bytes_moved;
    res.chunked_longest_batch_ns = st.longest_batch_ns;
    res.chunked_batches = st.batches;

    /* And back: one migrate_pages call. */
    rc = anon_on_node(ctx, pid, from, &on_from_before);
    if (rc < 0)
        goto out;
    uint64_t t1 = now(clock_opaque);
    rc = np_linux_migrate_process(ctx, pid, to_set, from_set, NULL);
    if (rc < 0)
        goto out;
    res.migrate_ns = now(clock_opaque) - t1;
    rc = anon_on_node(ctx, pid, from, &on_from_after);
    if (rc < 0)
        goto out;
    res.migrate_bytes = on_from_after > on_from_before ? on_from_after - on_from_before : 0;
    np_linux_log(ctx, NP_LOG_INFO, SUBSYS,
                 "pid %d: chunked %llu bytes in %llu us (longest batch %llu us), "
                 "migrate_pages %llu bytes in %llu us",
                 (int)pid, (unsigned long long)res.chunked_bytes,
                 (unsigned long long)(res.chunked_ns / 1000),
                 (unsigned long long)(res.chunked_longest_batch_ns / 1000),
                 (unsigned long long)res.migrate_bytes, (unsigned long long)(res.migrate_ns / 1000));
    *out = res;
out:
    np_bitmap_destroy(from_set);
    np_bitmap_destroy(to_set);
    return rc;
}
