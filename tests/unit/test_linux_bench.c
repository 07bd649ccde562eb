/*
 * test_linux_bench.c - np_linux_bench_sense_run on a scratch process tree
 * with a fake move_pages and a scripted clock: what each method found, and
 * the median, minimum and maximum of the rounds (odd and even counts).
 */
#include "linux_tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "linux/linux_internal.h"
#include "np_test.h"

#define PID 4343
#define PAGES 4 /* the one mapping of the fake process */

/* Every page is on node 0. */
static long fake_move_pages(void *opaque, pid_t pid, unsigned long count, void **pages,
                            const int *nodes, int *status, int flags)
{
    (void)opaque;
    (void)pid;
    (void)pages;
    (void)nodes;
    (void)flags;
    for (unsigned long i = 0; i < count; i++)
        status[i] = 0;
    return 0;
}

static const np_linux_sys fake_sys = {.move_pages = fake_move_pages};

/* The clock: each call returns the next time; the bench reads it three
 * times a round (start, after numa_maps, after the query). */
static struct {
    uint64_t t[32];
    size_t n, pos;
} C;

static uint64_t script_now(void *opaque)
{
    (void)opaque;
    return C.pos < C.n ? C.t[C.pos++] : 0;
}

/* Rounds that take numa_maps[i] and query[i] ns. */
static void script(const uint64_t *numa_maps, const uint64_t *query, size_t rounds)
{
    uint64_t t = 1000;
    memset(&C, 0, sizeof(C));
    for (size_t i = 0; i < rounds; i++) {
        C.t[C.n++] = t;
        t += numa_maps[i];
        C.t[C.n++] = t;
        t += query[i];
        C.t[C.n++] = t;
        t += 7; /* between rounds: not counted */
    }
}

static char root[256];

static np_linux_ctx *setup(void)
{
    np_linux_ctx *ctx = NULL;
    char maps[128], path[64];
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (!tree_create(root, sizeof(root)))
        return NULL;
    snprintf(maps, sizeof(maps), "7f0000000000-%llx rw-p 00000000 00:00 0 \n",
             (unsigned long long)(0x7f0000000000ull + PAGES * page));
    snprintf(path, sizeof(path), "proc/%d/maps", PID);
    tree_write(root, path, maps);
    snprintf(path, sizeof(path), "proc/%d/numa_maps", PID);
    tree_write(root, path, "7f0000000000 default anon=4 dirty=4 N0=4 kernelpagesize_kB=4\n");
    if (np_linux_ctx_create(root, NULL, NULL, &ctx) < 0)
        return NULL;
    np_linux_ctx_set_sys(ctx, &fake_sys);
    return ctx;
}

static void test_odd_rounds(void)
{
    static const uint64_t nm[] = {500, 100, 300}, q[] = {1000, 3000, 2000};
    np_linux_ctx *ctx = setup();
    np_linux_bench_sense b;
    ASSERT_TRUE(ctx != NULL);
    script(nm, q, 3);
    ASSERT_EQ(np_linux_bench_sense_run(ctx, PID, 3, script_now, NULL, &b), 0);
    ASSERT_EQ(b.reps, 3);
    ASSERT_EQ(b.numa_maps_ns, 300);
    ASSERT_EQ(b.numa_maps_min_ns, 100);
    ASSERT_EQ(b.numa_maps_max_ns, 500);
    ASSERT_EQ(b.query_ns, 2000);
    ASSERT_EQ(b.query_min_ns, 1000);
    ASSERT_EQ(b.query_max_ns, 3000);
    ASSERT_EQ(b.numa_maps_bytes, 4 * 4096);
    ASSERT_EQ(b.query_pages, PAGES);
    ASSERT_EQ(b.query_bytes, PAGES * np_linux_ctx_page_size(ctx));
    np_linux_ctx_destroy(ctx);
    tree_destroy(root);
}

static void test_even_rounds_and_limits(void)
{
    static const uint64_t nm[] = {400, 100, 200, 900}, q[] = {10, 10, 30, 50};
    np_linux_ctx *ctx = setup();
    np_linux_bench_sense b;
    ASSERT_TRUE(ctx != NULL);
    script(nm, q, 4);
    ASSERT_EQ(np_linux_bench_sense_run(ctx, PID, 4, script_now, NULL, &b), 0);
    ASSERT_EQ(b.numa_maps_ns, 300); /* (200 + 400) / 2 */
    ASSERT_EQ(b.numa_maps_min_ns, 100);
    ASSERT_EQ(b.numa_maps_max_ns, 900);
    ASSERT_EQ(b.query_ns, 20);
    ASSERT_EQ(b.query_max_ns, 50);
    ASSERT_EQ(np_linux_bench_sense_run(ctx, PID, 0, script_now, NULL, &b), -EINVAL);
    ASSERT_EQ(np_linux_bench_sense_run(ctx, PID, 1001, script_now, NULL, &b), -EINVAL);
    ASSERT_EQ(np_linux_bench_sense_run(ctx, PID + 1, 1, script_now, NULL, &b), -ESRCH);
    np_linux_ctx_destroy(ctx);
    tree_destroy(root);
}

int main(void)
{
    NP_RUN(test_odd_rounds);
    NP_RUN(test_even_rounds_and_limits);
    return np_test_summary();
}
