/*
 * test_linux_live.c - the Linux layer on the machine running the tests (any
 * number of nodes, root or not): nodes and free memory, numa_maps and
 * move_pages queries of the test's own memory (the two methods must
 * agree), the chunked mover walking its own pages, affinity set/get on its
 * own thread, threads and CPU time, and -ESRCH when a child it is working
 * on exits.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "linux/linux_internal.h"
#include "np_test.h"

#define BUF_MIB 16u
#define MIB (1ull << 20)

static np_linux_ctx *live(void)
{
    np_linux_ctx *ctx = NULL;
    if (np_linux_ctx_create("/", NULL, NULL, &ctx) < 0)
        return NULL;
    return ctx;
}

/* 16 MiB of anonymous memory, every page touched, THP off so that pages
 * are counted one by one. */
static char *touched_buffer(size_t bytes)
{
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    madvise(p, bytes, MADV_NOHUGEPAGE);
    for (size_t i = 0; i < bytes; i += 4096)
        p[i] = 1;
    return p;
}

static void test_live_ctx_and_nodes(void)
{
    np_linux_ctx *ctx = live();
    np_bitmap *nodes = NULL;
    ASSERT_TRUE(ctx != NULL);
    ASSERT_TRUE(np_linux_ctx_is_live(ctx));
    ASSERT_EQ(np_linux_nodes_online(ctx, &nodes), 0);
    ASSERT_TRUE(nodes && np_bitmap_count(nodes) >= 1);
    for (int n = nodes ? np_bitmap_next(nodes, 0) : -1; n >= 0;
         n = np_bitmap_next(nodes, (unsigned)n + 1)) {
        np_linux_node_meminfo mi;
        np_bitmap *cpus = NULL;
        ASSERT_EQ(np_linux_node_meminfo_read(ctx, (unsigned)n, &mi), 0);
        ASSERT_TRUE(mi.total_bytes > 0 && mi.free_bytes <= mi.total_bytes);
        ASSERT_EQ(np_linux_node_cpus(ctx, (unsigned)n, &cpus), 0);
        np_bitmap_destroy(cpus);
    }
    np_linux_ksm k;
    ASSERT_EQ(np_linux_ksm_read(ctx, &k), 0);
    if (k.present)
        ASSERT_TRUE(k.merge_across_nodes == 0 || k.merge_across_nodes == 1);
    np_bitmap_destroy(nodes);
    np_linux_ctx_destroy(ctx);
}

static void test_live_numa_maps_and_query_agree(void)
{
    np_linux_ctx *ctx = live();
    np_linux_mem a = {0}, b = {0};
    size_t bytes = BUF_MIB * MIB;
    char *buf = touched_buffer(bytes);
    ASSERT_TRUE(buf != NULL);
    ASSERT_EQ(np_linux_mem_numa_maps(ctx, getpid(), &a), 0);
    ASSERT_EQ(np_linux_mem_query(ctx, getpid(), NP_LINUX_MAPS_ALL, &b), 0);
    /* Both see at least the buffer, as anonymous memory. */
    ASSERT_TRUE(a.total_bytes >= bytes);
    ASSERT_TRUE(b.total_bytes >= bytes);
    uint64_t anon_a = 0, anon_b = 0;
    for (size_t i = 0; i < a.nr_node_slots; i++)
        anon_a += a.anon_bytes_by_node_os_id[i];
    for (size_t i = 0; i < b.nr_node_slots; i++)
        anon_b += b.anon_bytes_by_node_os_id[i];
    ASSERT_TRUE(anon_a >= bytes && anon_b >= bytes);
    /* And agree on the total within 1 MiB (the process changes a little
     * between the two reads: the query's own arrays, stdio buffers). */
    uint64_t diff = a.total_bytes > b.total_bytes ? a.total_bytes - b.total_bytes
                                                  : b.total_bytes - a.total_bytes;
    if (diff > MIB)
        fprintf(stderr, "numa_maps %llu vs query %llu\n", (unsigned long long)a.total_bytes,
                (unsigned long long)b.total_bytes);
    ASSERT_TRUE(diff <= MIB);
    ASSERT_TRUE(b.pages_queried >= bytes / np_linux_ctx_page_size(ctx));
    munmap(buf, bytes);
    np_linux_mem_fini(&a);
    np_linux_mem_fini(&b);
    np_linux_ctx_destroy(ctx);
}

static void test_live_query_own_pages_nodes(void)
{
    /* The query's node for each page is an online node. */
    np_linux_ctx *ctx = live();
    np_linux_mem m = {0};
    np_bitmap *nodes = NULL;
    size_t bytes = 4 * MIB;
    char *buf = touched_buffer(bytes);
    ASSERT_TRUE(buf != NULL);
    ASSERT_EQ(np_linux_nodes_online(ctx, &nodes), 0);
    ASSERT_EQ(np_linux_mem_query(ctx, getpid(), NP_LINUX_MAPS_ANON, &m), 0);
    for (size_t i = 0; i < m.nr_node_slots; i++)
        if (m.bytes_by_node_os_id[i])
            ASSERT_TRUE(np_bitmap_test(nodes, (unsigned)i));
    ASSERT_EQ(m.pages_error, 0);
    munmap(buf, bytes);
    np_bitmap_destroy(nodes);
    np_linux_mem_fini(&m);
    np_linux_ctx_destroy(ctx);
}

static void test_live_mover_walks_own_pages(void)
{
    /* Move everything to the node the buffer is on: the walk queries every
     * page and moves nothing that is already there. On a multi-node host
     * other anonymous pages may move to that node, which is harmless. */
    np_linux_ctx *ctx = live();
    np_linux_mem m = {0};
    size_t bytes = BUF_MIB * MIB;
    char *buf = touched_buffer(bytes);
    ASSERT_TRUE(buf != NULL);
    ASSERT_EQ(np_linux_mem_query(ctx, getpid(), NP_LINUX_MAPS_ANON, &m), 0);
    unsigned target = 0;
    for (size_t i = 0; i < m.nr_node_slots; i++)
        if (m.anon_bytes_by_node_os_id[i] > m.anon_bytes_by_node_os_id[target])
            target = (unsigned)i;
    np_linux_move_opts o = {.now_ns = np_linux_clock_now_ns, .sleep_ns = np_linux_clock_sleep_ns,
                            .batch_pages = 1024};
    np_linux_move_stats st;
    ASSERT_EQ(np_linux_move_pages_chunked(ctx, getpid(), NULL, target, &o, &st), 0);
    ASSERT_TRUE(st.pages_queried >= bytes / np_linux_ctx_page_size(ctx));
    ASSERT_TRUE(st.batches >= st.pages_queried / 1024);
    ASSERT_U64_EQ(st.pages_moved + st.pages_failed, st.pages_on_source);
    if (m.nr_node_slots == 1)
        ASSERT_U64_EQ(st.pages_moved, 0);
    /* The data is intact. */
    size_t bad = 0;
    for (size_t i = 0; i < bytes; i += 4096)
        bad += buf[i] != 1;
    ASSERT_EQ(bad, 0);
    munmap(buf, bytes);
    np_linux_mem_fini(&m);
    np_linux_ctx_destroy(ctx);
}

static void test_live_affinity(void)
{
    np_linux_ctx *ctx = live();
    np_bitmap *orig = NULL, *one = NULL, *got = NULL;
    pid_t tid = (pid_t)syscall(SYS_gettid);
    ASSERT_EQ(np_linux_thread_get_affinity(ctx, tid, &orig), 0);
    ASSERT_TRUE(orig && np_bitmap_count(orig) >= 1);
    int cpu = orig ? np_bitmap_next(orig, 0) : -1;
    /* Pin to the last allowed CPU, check where we run, restore. */
    for (int c = cpu; c >= 0; c = np_bitmap_next(orig, (unsigned)c + 1))
        cpu = c;
    ASSERT_EQ(np_bitmap_create(&one), 0);
    ASSERT_EQ(np_bitmap_set(one, (unsigned)cpu), 0);
    ASSERT_EQ(np_linux_thread_set_affinity(ctx, tid, one), 0);
    ASSERT_EQ(np_linux_thread_get_affinity(ctx, tid, &got), 0);
    ASSERT_TRUE(got && np_bitmap_equal(got, one));
    sched_yield();
    ASSERT_EQ(sched_getcpu(), cpu);
    ASSERT_EQ(np_linux_thread_set_affinity(ctx, tid, orig), 0);
    /* A thread that does not exist. */
    ASSERT_EQ(np_linux_thread_set_affinity(ctx, 0x7ffffff0, one), -ESRCH);
    np_bitmap_destroy(orig);
    np_bitmap_destroy(one);
    np_bitmap_destroy(got);
    np_linux_ctx_destroy(ctx);
}

static void test_live_threads_and_describe(void)
{
    np_linux_ctx *ctx = live();
    np_linux_thread *t = NULL;
    np_linux_proc p = {0};
    size_t n = 0;
    /* Burn about 30 ms of CPU so utime+stime is above one tick. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    volatile unsigned long x = 0;
    do {
        for (int i = 0; i < 100000; i++)
            x += (unsigned long)i;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    } while ((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) < 30000000L);
    ASSERT_TRUE(x > 0);
    ASSERT_EQ(np_linux_threads(ctx, getpid(), &t, &n), 0);
    ASSERT_TRUE(n >= 1);
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        if (t[i].tid == getpid()) {
            found = true;
            ASSERT_TRUE(t[i].cpu_time_ns >= 10000000);
            ASSERT_TRUE(t[i].last_cpu >= 0);
            ASSERT_EQ(t[i].vcpu, -1);
        }
    }
    ASSERT_TRUE(found);
    free(t);
    ASSERT_EQ(np_linux_proc_describe(ctx, getpid(), &p), 0);
    ASSERT_EQ(p.kind, NP_LINUX_PROC_OTHER);
    ASSERT_STR_EQ(p.comm, "test_linux_live");
    np_linux_proc_fini(&p);
    np_linux_proc *procs = NULL;
    ASSERT_EQ(np_linux_find_guests(ctx, &procs, &n), 0);
    np_linux_procs_free(procs, n);
    np_linux_ctx_destroy(ctx);
}

static void test_live_child_exits(void)
{
    np_linux_ctx *ctx = live();
    int pipefd[2];
    ASSERT_EQ(pipe(pipefd), 0);
    pid_t child = fork();
    if (child == 0) {
        char *b = touched_buffer(8 * MIB);
        char c = b ? 'r' : 'x';
        if (write(pipefd[1], &c, 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    ASSERT_TRUE(child > 0);
    char c = 0;
    ASSERT_EQ(read(pipefd[0], &c, 1), 1);
    ASSERT_EQ(c, 'r');

    np_linux_move_opts o = {.now_ns = np_linux_clock_now_ns, .batch_pages = 256};
    np_linux_mover *mv = NULL;
    bool done = false;
    uint64_t next;
    np_linux_mem m = {0};
    ASSERT_EQ(np_linux_mem_query(ctx, child, NP_LINUX_MAPS_ANON, &m), 0);
    ASSERT_TRUE(m.total_bytes >= 8 * MIB);
    ASSERT_EQ(np_linux_mover_create(ctx, child, NULL, 0, &o, &mv), 0);
    ASSERT_EQ(np_linux_mover_step(mv, &done, &next), 0);
    ASSERT_TRUE(!done);
    /* The child dies and is reaped mid-migration: the mover stops cleanly. */
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    ASSERT_EQ(np_linux_mover_step(mv, &done, &next), -ESRCH);
    ASSERT_TRUE(done);
    np_linux_mover_destroy(mv);
    ASSERT_EQ(np_linux_mem_numa_maps(ctx, child, &m), -ESRCH);
    ASSERT_EQ(np_linux_mem_query(ctx, child, NP_LINUX_MAPS_ANON, &m), -ESRCH);
    np_linux_thread *t = NULL;
    size_t n;
    ASSERT_EQ(np_linux_threads(ctx, child, &t, &n), -ESRCH);
    close(pipefd[0]);
    close(pipefd[1]);
    np_linux_mem_fini(&m);
    np_linux_ctx_destroy(ctx);
}

static void test_live_zombie_child(void)
{
    /* A child that exited but was not reaped has no memory left: the
     * kernel answers EINVAL, the layer says -ESRCH. */
    np_linux_ctx *ctx = live();
    np_linux_mem m = {0};
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    ASSERT_TRUE(child > 0);
    /* Wait until it is a zombie without reaping it. */
    siginfo_t si;
    ASSERT_EQ(waitid(P_PID, (id_t)child, &si, WEXITED | WNOWAIT), 0);
    ASSERT_EQ(np_linux_mem_query(ctx, child, NP_LINUX_MAPS_ANON, &m), 0); /* no mappings left */
    ASSERT_U64_EQ(m.total_bytes, 0);
    np_bitmap *from = NULL, *to = NULL;
    ASSERT_EQ(np_bitmap_create(&from), 0);
    ASSERT_EQ(np_bitmap_create(&to), 0);
    ASSERT_EQ(np_bitmap_set(from, 0), 0);
    ASSERT_EQ(np_bitmap_set(to, 0), 0);
    ASSERT_EQ(np_linux_migrate_process(ctx, child, from, to, NULL), -ESRCH);
    waitpid(child, NULL, 0);
    np_bitmap_destroy(from);
    np_bitmap_destroy(to);
    np_linux_mem_fini(&m);
    np_linux_ctx_destroy(ctx);
}

int main(void)
{
    NP_RUN(test_live_ctx_and_nodes);
    NP_RUN(test_live_numa_maps_and_query_agree);
    NP_RUN(test_live_query_own_pages_nodes);
    NP_RUN(test_live_mover_walks_own_pages);
    NP_RUN(test_live_affinity);
    NP_RUN(test_live_threads_and_describe);
    NP_RUN(test_live_child_exits);
    NP_RUN(test_live_zombie_child);
    return np_test_summary();
}
