/*
 * test_linux_mover_sizes.c - the chunked mover with pages of several sizes,
 * against a fake page table that behaves like Linux 6.1's move_pages:
 *   - a hugetlb mapping (2 MiB pages, KernelPageSize in a scratch smaps)
 *     moves a page only through its head address; a tail address answers
 *     -EACCES to a move and the page's node to a query;
 *   - a THP mapping (4 KiB KernelPageSize, AnonHugePages > 0) moves a whole
 *     aligned 2 MiB block from any of its addresses;
 *   - a page marked busy fails its move, and the call then stops: it
 *     returns the count of pages not moved and leaves the later status
 *     entries unwritten (the fake writes garbage there first, so a mover
 *     that trusts them miscounts);
 *   - node 1's pool of free 2 MiB pages (sysfs, in the scratch tree) bounds
 *     how many hugetlb pages may move there; each moved one takes one.
 * Checked: head addresses only, real bytes, the byte cap (at least one page,
 * never more than cap + one page), retries of pages a stopped call did not
 * reach, the pool check (-ENOSPC), the smaps parser's errors.
 */
#include "linux_tree.h"

#include <errno.h>
#include <numaif.h>
#include <stdlib.h>
#include <string.h>

#include "linux/linux_internal.h"
#include "np_test.h"

#define PID 4343
#define KIB 1024ull
#define MIB (1ull << 20)
#define HPAGE (2 * MIB)
/* Regions: H = 8 hugetlb pages at 0x40000000; T = 4 THP blocks (2048 base
 * pages) at 0x80000000; S = 64 small pages at 0x10000000. */
#define H_BASE 0x40000000ull
#define H_PAGES 8u
#define T_BASE 0x80000000ull
#define T_BLOCKS 4u
#define S_BASE 0x10000000ull
#define S_PAGES 64u

typedef struct fake {
    size_t page; /* base page */
    int h_node[H_PAGES];
    int t_node[T_BLOCKS]; /* a THP block is on one node */
    int s_node[S_PAGES];
    unsigned char s_busy[S_PAGES];
    unsigned char h_busy_tries[H_PAGES]; /* fail this many moves, then succeed */
    bool stop_on_fail;
    long pool_free;           /* node 1's free 2 MiB pages; <0: no pool file */
    unsigned long tail_moves; /* move requests for a hugetlb tail address */
    unsigned long h_move_addrs, t_move_addrs;
    uint64_t clock_ns;
    char root[256];
} fake;

static fake F;

static void write_pool(void)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%ld\n", F.pool_free);
    tree_write(F.root, "sys/devices/system/node/node1/hugepages/hugepages-2048kB/free_hugepages",
               buf);
}

/* The node of the page holding addr (query), or -EFAULT outside. */
static int where(uint64_t a, int **slot_out, int *kind_out)
{
    if (a >= H_BASE && a < H_BASE + H_PAGES * HPAGE) {
        *slot_out = &F.h_node[(a - H_BASE) / HPAGE];
        *kind_out = 'h';
    } else if (a >= T_BASE && a < T_BASE + T_BLOCKS * HPAGE) {
        *slot_out = &F.t_node[(a - T_BASE) / HPAGE];
        *kind_out = 't';
    } else if (a >= S_BASE && a < S_BASE + S_PAGES * F.page) {
        *slot_out = &F.s_node[(a - S_BASE) / F.page];
        *kind_out = 's';
    } else {
        return -EFAULT;
    }
    return 0;
}

static long fake_move_pages(void *opaque, pid_t pid, unsigned long count, void **pages,
                            const int *nodes, int *status, int flags)
{
    (void)opaque;
    (void)flags;
    if (pid != PID)
        return -ESRCH;
    if (nodes)
        for (unsigned long i = 0; i < count; i++)
            status[i] = 12345; /* what an unwritten entry may hold */
    for (unsigned long i = 0; i < count; i++) {
        uint64_t a = (uint64_t)(uintptr_t)pages[i];
        int *slot = NULL, kind = 0;
        if (where(a, &slot, &kind) < 0) {
            status[i] = -EFAULT;
            continue;
        }
        if (!nodes) {
            status[i] = *slot;
            continue;
        }
        if (kind == 'h') {
            F.h_move_addrs++;
            size_t hi = (size_t)((a - H_BASE) / HPAGE);
            if ((a - H_BASE) % HPAGE) {
                F.tail_moves++;
                status[i] = -EACCES;
                continue;
            }
            if (*slot != nodes[i] && F.h_busy_tries[hi] > 0) {
                F.h_busy_tries[hi]--;
                if (F.stop_on_fail)
                    return (long)(count - i); /* later entries unwritten */
                status[i] = -EBUSY;
                continue;
            }
            if (*slot != nodes[i] && nodes[i] == 1) {
                if (F.pool_free <= 0) {
                    status[i] = -ENOMEM;
                    continue;
                }
                F.pool_free--;
                write_pool();
            }
        } else if (kind == 't') {
            F.t_move_addrs++;
        } else if (F.s_busy[(a - S_BASE) / F.page]) {
            if (F.stop_on_fail)
                return (long)(count - i);
            status[i] = -EBUSY;
            continue;
        }
        *slot = nodes[i];
        status[i] = nodes[i];
        F.clock_ns += 1000;
    }
    return 0;
}

static const np_linux_sys fake_sys = {.move_pages = fake_move_pages};

static uint64_t fake_now(void *opaque)
{
    (void)opaque;
    return F.clock_ns;
}

static void fake_sleep(void *opaque, uint64_t ns)
{
    (void)opaque;
    F.clock_ns += ns;
}

/* A process with H (hugetlb, on node 0), T (THP, node 0) and S (small
 * pages, node 0); node 1's pool has `pool` free 2 MiB pages. */
static np_linux_ctx *setup(long pool)
{
    np_linux_ctx *ctx = NULL;
    char maps[1024], smaps[4096];
    memset(&F, 0, sizeof(F));
    F.page = (size_t)sysconf(_SC_PAGESIZE);
    F.pool_free = pool;
    if (!tree_create(F.root, sizeof(F.root)))
        return NULL;
    snprintf(maps, sizeof(maps),
             "%llx-%llx rw-p 00000000 00:00 0 \n"
             "%llx-%llx rw-p 00000000 00:0f 136   /anon_hugepage (deleted)\n"
             "%llx-%llx rw-p 00000000 00:00 0 \n",
             S_BASE, S_BASE + S_PAGES * F.page, H_BASE, H_BASE + H_PAGES * HPAGE, T_BASE,
             T_BASE + T_BLOCKS * HPAGE);
    snprintf(smaps, sizeof(smaps),
             "%llx-%llx rw-p 00000000 00:00 0 \n"
             "Size:                256 kB\nKernelPageSize:        4 kB\n"
             "AnonHugePages:         0 kB\nVmFlags: rd wr mr mw me ac\n"
             "%llx-%llx rw-p 00000000 00:0f 136   /anon_hugepage (deleted)\n"
             "Size:              16384 kB\nKernelPageSize:     2048 kB\n"
             "MMUPageSize:        2048 kB\nAnonHugePages:         0 kB\n"
             "%llx-%llx rw-p 00000000 00:00 0 \n"
             "Size:               8192 kB\nKernelPageSize:        4 kB\n"
             "AnonHugePages:      8192 kB\n",
             S_BASE, S_BASE + S_PAGES * F.page, H_BASE, H_BASE + H_PAGES * HPAGE, T_BASE,
             T_BASE + T_BLOCKS * HPAGE);
    tree_write(F.root, "proc/4343/maps", maps);
    tree_write(F.root, "proc/4343/smaps", smaps);
    tree_write(F.root, "proc/4343/stat",
               "4343 (fake) S 1 1 1 0 -1 4194560 0 0 0 0 5 5 0 0 20 0 1 0 1 1 1 1 1 1 1 1 1 1 1 "
               "1 1 1 1 1 1 1 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
    tree_write(F.root, "sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages",
               "16\n");
    tree_write(F.root, "sys/devices/system/node/node1/hugepages/hugepages-2048kB/surplus_hugepages",
               "0\n");
    if (pool >= 0)
        write_pool();
    if (np_linux_ctx_create(F.root, NULL, NULL, &ctx) < 0)
        return NULL;
    np_linux_ctx_set_sys(ctx, &fake_sys);
    return ctx;
}

static void teardown(np_linux_ctx *ctx)
{
    np_linux_ctx_destroy(ctx);
    tree_destroy(F.root);
}

static np_linux_move_opts opts(uint32_t batch)
{
    np_linux_move_opts o = {.now_ns = fake_now, .sleep_ns = fake_sleep, .batch_pages = batch};
    return o;
}

static unsigned count(const int *nodes, size_t n, int node)
{
    unsigned c = 0;
    for (size_t i = 0; i < n; i++)
        c += nodes[i] == node;
    return c;
}

/* Everything moves; hugetlb pages only by their heads, THP blocks by one
 * address each; bytes are real. */
static void test_heads_and_real_bytes(void)
{
    np_linux_ctx *ctx = setup(16);
    np_linux_move_opts o = opts(0);
    np_linux_move_stats st;
    ASSERT_EQ(np_linux_move_pages_chunked(ctx, PID, NULL, 1, &o, &st), 0);
    ASSERT_EQ(count(F.h_node, H_PAGES, 1), H_PAGES);
    ASSERT_EQ(count(F.t_node, T_BLOCKS, 1), T_BLOCKS);
    ASSERT_EQ(count(F.s_node, S_PAGES, 1), S_PAGES);
    ASSERT_EQ(F.tail_moves, 0);
    ASSERT_EQ(F.h_move_addrs, H_PAGES);
    ASSERT_EQ(F.t_move_addrs, T_BLOCKS); /* one head per THP block */
    ASSERT_U64_EQ(st.huge_pages_moved, H_PAGES);
    ASSERT_U64_EQ(st.bytes_moved, H_PAGES * HPAGE + T_BLOCKS * HPAGE + S_PAGES * F.page);
    /* Pages are addresses looked at: 8 hugetlb heads, 2048 THP base pages, 64. */
    ASSERT_U64_EQ(st.pages_queried, H_PAGES + T_BLOCKS * HPAGE / F.page + S_PAGES);
    ASSERT_U64_EQ(st.pages_moved, st.pages_queried);
    ASSERT_U64_EQ(st.pages_failed, 0);
    ASSERT_U64_EQ(F.pool_free, 16 - H_PAGES);
    teardown(ctx);
}

/* The cap is in bytes but never below one page: a batch of 16 base pages
 * (64 KiB) still moves one 2 MiB page per step; max_bytes is overshot by
 * less than one page. */
static void test_cap_at_least_one_page(void)
{
    np_linux_ctx *ctx = setup(16);
    np_linux_move_opts o = opts(16);
    o.min_batch_pages = 16;
    np_linux_move_stats st;
    ASSERT_EQ(np_linux_move_pages_chunked(ctx, PID, NULL, 1, &o, &st), 0);
    ASSERT_EQ(count(F.h_node, H_PAGES, 1), H_PAGES);
    ASSERT_U64_EQ(st.longest_step_bytes, HPAGE); /* one huge page, > the 64 KiB cap */
    ASSERT_TRUE(st.longest_step_bytes <= 16 * F.page + HPAGE);
    teardown(ctx);

    /* max_bytes 3 MiB from the hugetlb pages alone: two pages (4 MiB), the
     * second one started under the limit; 4 MiB <= 3 MiB + one page. */
    ctx = setup(16);
    o = opts(0);
    np_bitmap *from = NULL;
    ASSERT_EQ(np_bitmap_create(&from), 0);
    ASSERT_EQ(np_bitmap_set(from, 0), 0);
    for (size_t i = 0; i < S_PAGES; i++)
        F.s_node[i] = 1; /* only H and T are on node 0 */
    for (size_t i = 0; i < T_BLOCKS; i++)
        F.t_node[i] = 1;
    o.max_bytes = 3 * MIB;
    ASSERT_EQ(np_linux_move_pages_chunked(ctx, PID, from, 1, &o, &st), 0);
    ASSERT_U64_EQ(st.bytes_moved, 2 * HPAGE);
    ASSERT_TRUE(st.bytes_moved < o.max_bytes + HPAGE);
    ASSERT_EQ(count(F.h_node, H_PAGES, 1), 2);
    np_bitmap_destroy(from);
    teardown(ctx);
}

/* A call that stops at a failed page leaves later entries unwritten (here
 * 12345, which a trusting mover would count as "moved to node 12345"):
 * the mover counts from a query after the call and retries what the call
 * did not reach. */
static void test_stopped_call_is_not_trusted(void)
{
    np_linux_ctx *ctx = setup(16);
    np_linux_move_opts o = opts(0);
    np_linux_move_stats st;
    F.stop_on_fail = true;
    F.s_busy[10] = 1;      /* busy for good: fails after every try */
    F.h_busy_tries[3] = 2; /* busy twice, then moves */
    ASSERT_EQ(np_linux_move_pages_chunked(ctx, PID, NULL, 1, &o, &st), 0);
    ASSERT_EQ(count(F.s_node, S_PAGES, 1), S_PAGES - 1);
    ASSERT_EQ(count(F.h_node, H_PAGES, 1), H_PAGES);
    ASSERT_U64_EQ(st.pages_failed, 1);
    ASSERT_U64_EQ(st.pages_busy, 1);
    ASSERT_U64_EQ(st.pages_other, 0);
    ASSERT_U64_EQ(st.bytes_moved, H_PAGES * HPAGE + T_BLOCKS * HPAGE + (S_PAGES - 1) * F.page);
    /* The busy small page was tried NP_LINUX_MOVE_TRIES times; the 53
     * small pages after it in the first call were not reached and went
     * round once more; the hugetlb page twice. */
    ASSERT_U64_EQ(st.pages_retried, (NP_LINUX_MOVE_TRIES - 1) + (S_PAGES - 11) + 2);
    /* Retries wait NP_LINUX_MOVE_RETRY_DELAY_NS between steps. */
    ASSERT_TRUE(F.clock_ns >= (uint64_t)(NP_LINUX_MOVE_TRIES - 1) * NP_LINUX_MOVE_RETRY_DELAY_NS);
    teardown(ctx);
}

/* Node 1's pool holds 3 free 2 MiB pages: 3 hugetlb pages move, then
 * -ENOSPC with nothing tried; no pool at all is the same. */
static void test_pool_room(void)
{
    np_linux_ctx *ctx = setup(3);
    np_linux_move_opts o = opts(0);
    np_linux_move_stats st;
    np_linux_hugepool hp;
    ASSERT_EQ(np_linux_node_hugepool_read(ctx, 1, HPAGE, &hp), 0);
    ASSERT_U64_EQ(hp.free_pages, 3);
    ASSERT_U64_EQ(hp.nr_pages, 16);
    ASSERT_EQ(np_linux_node_hugepool_read(ctx, 0, HPAGE, &hp), -ENOENT);
    ASSERT_EQ(np_linux_move_pages_chunked(ctx, PID, NULL, 1, &o, &st), -ENOSPC);
    ASSERT_EQ(count(F.h_node, H_PAGES, 1), 3);
    ASSERT_U64_EQ(st.huge_pages_moved, 3);
    ASSERT_U64_EQ(st.pages_nomem, 0); /* never asked the kernel beyond the pool */
    ASSERT_EQ(F.h_move_addrs, 3);
    /* The small pages before the hugetlb mapping moved (address order). */
    ASSERT_EQ(count(F.s_node, S_PAGES, 1), S_PAGES);
    /* Room again: a step goes on where it stopped. */
    F.pool_free = 16;
    write_pool();
    np_linux_mover *mv = NULL;
    ASSERT_EQ(np_linux_mover_create(ctx, PID, NULL, 1, &o, &mv), 0);
    ASSERT_EQ(np_linux_mover_run(mv), 0);
    ASSERT_EQ(count(F.h_node, H_PAGES, 1), H_PAGES);
    np_linux_mover_destroy(mv);
    teardown(ctx);

    ctx = setup(-1); /* node 1 has no pool file */
    ASSERT_EQ(np_linux_move_pages_chunked(ctx, PID, NULL, 1, &o, &st), -ENOSPC);
    ASSERT_EQ(count(F.h_node, H_PAGES, 1), 0);
    teardown(ctx);

    /* A malformed pool file is refused with its path. */
    ctx = setup(3);
    tree_write(F.root, "sys/devices/system/node/node1/hugepages/hugepages-2048kB/free_hugepages",
               "lots\n");
    ASSERT_EQ(np_linux_node_hugepool_read(ctx, 1, HPAGE, &hp), -EINVAL);
    ASSERT_TRUE(strstr(np_linux_ctx_last_error(ctx)->origin, "hugepages-2048kB/free_hugepages"));
    teardown(ctx);
}

static void test_query_counts_huge_pages_whole(void)
{
    np_linux_ctx *ctx = setup(16);
    np_linux_mem m = {0};
    ASSERT_EQ(np_linux_mem_query(ctx, PID, NP_LINUX_MAPS_ANON, &m), 0);
    /* The anonymous hugetlb mapping is selected without "shared" too. */
    ASSERT_U64_EQ(m.bytes_by_node_os_id[0], H_PAGES * HPAGE + T_BLOCKS * HPAGE + S_PAGES * F.page);
    ASSERT_U64_EQ(m.pages_queried, H_PAGES + T_BLOCKS * HPAGE / F.page + S_PAGES);
    np_linux_mem_fini(&m);
    teardown(ctx);
}

static void test_smaps_parser(void)
{
    np_linux_range r[2] = {{.start = 0x200000, .end = 0x600000},
                           {.start = 0x800000, .end = 0x801000}};
    np_error err = {0};
    const char *ok = "200000-600000 rw-s 00000000 00:0f 1  /memfd:ram (deleted)\n"
                     "KernelPageSize:     2048 kB\nAnonHugePages:      0 kB\n"
                     "800000-801000 rw-p 00000000 00:00 0\n"
                     "KernelPageSize:        4 kB\nAnonHugePages:   2048 kB\n";
    ASSERT_EQ(np_linux_smaps_apply(ok, strlen(ok), "smaps", 4096, r, 2, &err), 0);
    ASSERT_U64_EQ(r[0].page_bytes, HPAGE);
    ASSERT_TRUE(!r[0].thp);
    ASSERT_U64_EQ(r[1].page_bytes, 4096);
    ASSERT_TRUE(r[1].thp);
    const char *odd = "200000-600000 rw-s 00000000 00:0f 1  /x\nKernelPageSize:     3000 kB\n";
    ASSERT_EQ(np_linux_smaps_apply(odd, strlen(odd), "smaps", 4096, r, 2, &err), -EINVAL);
    ASSERT_EQ(err.line, 2);
    const char *unaligned = "200000-600000 rw-s 00000000 00:0f 1  /x\n"
                            "KernelPageSize:  1048576 kB\n";
    ASSERT_EQ(np_linux_smaps_apply(unaligned, strlen(unaligned), "smaps", 4096, r, 2, &err),
              -EINVAL);
    ASSERT_TRUE(strstr(err.msg, "not aligned") != NULL);
    const char *nokb = "200000-600000 rw-s 00000000 00:0f 1  /x\nAnonHugePages: 12\n";
    ASSERT_EQ(np_linux_smaps_apply(nokb, strlen(nokb), "smaps", 4096, r, 2, &err), -EINVAL);
    ASSERT_EQ(err.line, 2);
    const char *badhead = "zz-600000 rw-s\n";
    ASSERT_EQ(np_linux_smaps_apply(badhead, strlen(badhead), "smaps", 4096, r, 2, &err), 0);
}

/* The access check: the fake says ESRCH for another PID; the live kernel
 * answers for this process and for a PID that cannot exist (PID_MAX_LIMIT). */
static void test_pid_check(void)
{
    np_linux_ctx *ctx = setup(16);
    ASSERT_EQ(np_linux_pid_check_move_access(ctx, PID), 0);
    ASSERT_EQ(np_linux_pid_check_move_access(ctx, PID + 1), -ESRCH);
    ASSERT_EQ(np_linux_pid_check_move_access(ctx, 0), -EINVAL);
    teardown(ctx);
    ASSERT_EQ(np_linux_ctx_create("/", NULL, NULL, &ctx), 0);
    ASSERT_EQ(np_linux_pid_check_move_access(ctx, getpid()), 0);
    ASSERT_EQ(np_linux_pid_check_move_access(ctx, 4194304), -ESRCH);
    np_linux_ctx_destroy(ctx);
    /* A fixture root never makes the call. */
    char root[256];
    ASSERT_TRUE(tree_create(root, sizeof(root)) != NULL);
    ASSERT_EQ(np_linux_ctx_create(root, NULL, NULL, &ctx), 0);
    ASSERT_EQ(np_linux_pid_check_move_access(ctx, getpid()), -EOPNOTSUPP);
    np_linux_ctx_destroy(ctx);
    tree_destroy(root);
}

int main(void)
{
    NP_RUN(test_pid_check);
    NP_RUN(test_heads_and_real_bytes);
    NP_RUN(test_cap_at_least_one_page);
    NP_RUN(test_stopped_call_is_not_trusted);
    NP_RUN(test_pool_room);
    NP_RUN(test_query_counts_huge_pages_whole);
    NP_RUN(test_smaps_parser);
    return np_test_summary();
}
