/*
 * test_linux_sense.c - what the Linux backend senses of a guest besides
 * numa_maps: memory per node from its cgroup's memory.numa_stat and
 * hugetlb.<size>.numa_stat when the guest is alone in its cgroup (the
 * fixture tests/fixtures/cgroup/, 350 MiB anonymous on node 0 and 1 GiB of
 * 2 MiB pages on node 1), numa_maps when it shares the cgroup; and each
 * vCPU's CPU use measured from its thread's run time between two lists
 * (an idle vCPU is idle, not busy), which sensing turns into demand.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <numaplace/backend.h>
#include <numaplace/backend_linux.h>
#include <numaplace/linux.h>

#include "linux_tree.h"
#include "np_test.h"

static char root[256];

static char *slurp(const char *rel)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", NP_FIXTURES_DIR, rel);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65536);
    if (buf)
        fread(buf, 1, 65535, f);
    fclose(f);
    return buf;
}

static void test_numa_stat_parse(void)
{
    char *text = slurp("cgroup/memory.numa_stat");
    char *huge = slurp("cgroup/hugetlb.2MB.numa_stat");
    np_linux_mem m = {0};
    np_error err = {0};

    ASSERT_TRUE(text != NULL && huge != NULL);
    if (!text || !huge)
        goto out;
    ASSERT_EQ(np_linux_numa_stat_parse(text, strlen(text), "ns", 0, &m, &err), 0);
    ASSERT_EQ(m.nr_node_slots, 2);
    ASSERT_U64_EQ(m.bytes_by_node_os_id[0], 367001600); /* anon + shmem, no page cache */
    ASSERT_U64_EQ(m.bytes_by_node_os_id[1], 0);
    ASSERT_U64_EQ(m.anon_bytes_by_node_os_id[0], 367001600);
    ASSERT_EQ(np_linux_numa_stat_parse(huge, strlen(huge), "hs", UINT64_C(2) << 20, &m, &err), 0);
    ASSERT_U64_EQ(m.bytes_by_node_os_id[1], UINT64_C(1) << 30);
    ASSERT_U64_EQ(m.huge_bytes, UINT64_C(1) << 30);
    /* by size and node: slot 0 holds 2 MiB pages, 1 GiB of them on node 1 */
    ASSERT_U64_EQ(m.huge_page_bytes[0], UINT64_C(2) << 20);
    ASSERT_U64_EQ(m.huge_by_node_os_id[1 * NP_LINUX_HUGE_SIZES_MAX + 0], UINT64_C(1) << 30);
    ASSERT_U64_EQ(m.huge_by_node_os_id[0 * NP_LINUX_HUGE_SIZES_MAX + 0], 0);
    /* a second size goes to its own slot; the same size again adds to slot 0 */
    ASSERT_EQ(np_linux_numa_stat_parse("total=1073741824 N0=1073741824\n", 31, "h1g",
                                       UINT64_C(1) << 30, &m, &err), 0);
    ASSERT_U64_EQ(m.huge_page_bytes[1], UINT64_C(1) << 30);
    ASSERT_U64_EQ(m.huge_by_node_os_id[0 * NP_LINUX_HUGE_SIZES_MAX + 1], UINT64_C(1) << 30);
    ASSERT_EQ(np_linux_numa_stat_parse("total=2097152 N1=2097152\n", 25, "h2m", UINT64_C(2) << 20,
                                       &m, &err), 0);
    ASSERT_U64_EQ(m.huge_by_node_os_id[1 * NP_LINUX_HUGE_SIZES_MAX + 0],
                  (UINT64_C(1) << 30) + (UINT64_C(2) << 20));
    ASSERT_U64_EQ(m.huge_bytes, (UINT64_C(2) << 30) + (UINT64_C(2) << 20));
    np_linux_mem_fini(&m);
    memset(&m, 0, sizeof(m));
    ASSERT_EQ(np_linux_numa_stat_parse(text, strlen(text), "ns", 0, &m, &err), 0);
    ASSERT_EQ(np_linux_numa_stat_parse(huge, strlen(huge), "hs", UINT64_C(2) << 20, &m, &err), 0);
    ASSERT_U64_EQ(m.total_bytes, 367001600 + (UINT64_C(1) << 30));
    /* shmem counts (QEMU's memfd RAM), on any node id */
    ASSERT_EQ(np_linux_numa_stat_parse("shmem N0=4096 N3=8192\n", 22, "s", 0, &m, &err), 0);
    ASSERT_EQ(m.nr_node_slots, 4);
    ASSERT_U64_EQ(m.bytes_by_node_os_id[3], 8192);
    /* refusals name the line; nothing is added */
    uint64_t before = m.total_bytes;
    static const char *bad[] = {"anon N0=1\nanon N0=x\n", "anon N0=1  N1=2\n", "anon 5\n",
                                "Anon N0=1\n", "anon N99999=1\n",
                                "anon N0=99999999999999999999\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0, sizeof(err));
        ASSERT_EQ(np_linux_numa_stat_parse(bad[i], strlen(bad[i]), "bad", 0, &m, &err),
                  -EINVAL);
        ASSERT_TRUE(err.line >= 1 && err.msg[0]);
    }
    ASSERT_EQ(err.line, 1);
    ASSERT_U64_EQ(m.total_bytes, before);
    memset(&err, 0, sizeof(err));
    np_linux_numa_stat_parse(bad[0], strlen(bad[0]), "bad", 0, &m, &err);
    ASSERT_EQ(err.line, 2);
out:
    np_linux_mem_fini(&m);
    free(text);
    free(huge);
}

/* A 2-node tree (CPUs 0-1 on node 0, 2-3 on node 1), cgroup2 mounted, and a
 * QEMU process 100 with two vCPU threads (101, 102) in `cgroup`, whose
 * numa_maps says 16 KiB on node 0. */
static np_linux_ctx *setup(const char *cgroup)
{
    np_linux_ctx *ctx = NULL;
    char line[128];
    if (!tree_create(root, sizeof(root)))
        return NULL;
    tree_write(root, "proc/self/mounts", "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n");
    tree_write(root, "sys/devices/system/node/online", "0-1\n");
    for (int n = 0; n < 2; n++) {
        char p[128], t[256];
        snprintf(p, sizeof(p), "sys/devices/system/node/node%d/cpulist", n);
        tree_write(root, p, n ? "2-3\n" : "0-1\n");
        snprintf(p, sizeof(p), "sys/devices/system/node/node%d/meminfo", n);
        snprintf(t, sizeof(t), "Node %d MemTotal: 4194304 kB\nNode %d MemFree: 2097152 kB\n", n,
                 n);
        tree_write(root, p, t);
    }
    snprintf(line, sizeof(line), "0::%s\n", cgroup);
    tree_write(root, "proc/100/comm", "qemu-system-x86\n");
    tree_write(root, "proc/100/cmdline", "qemu-system-x86_64");
    tree_write(root, "proc/100/cgroup", line);
    tree_write(root, "proc/100/numa_maps", "7f00 default anon=4 N0=4 kernelpagesize_kB=4\n");
    tree_write(root, "proc/100/task/100/comm", "qemu-system-x86\n");
    tree_write(root, "proc/100/task/100/stat", "100 (qemu-system-x86) S 1 1 1 0 -1 4194560 0 0 0 "
                                               "0 5 5 0 0 20 0 3 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 "
                                               "1 1 1 0 0\n");
    for (int t = 1; t <= 2; t++) {
        char rel[64], text[64];
        snprintf(rel, sizeof(rel), "proc/100/task/10%d/comm", t);
        snprintf(text, sizeof(text), "CPU %d/KVM\n", t - 1);
        tree_write(root, rel, text);
    }
    if (np_linux_ctx_create(root, NULL, NULL, &ctx) < 0)
        return NULL;
    return ctx;
}

/* Thread 10<t>'s stat with utime `ticks`, last on CPU `cpu`. */
static void set_vcpu_ticks(int t, unsigned ticks, int cpu)
{
    char rel[64], text[256];
    snprintf(rel, sizeof(rel), "proc/100/task/10%d/stat", t);
    snprintf(text, sizeof(text),
             "10%d (CPU %d/KVM) S 1 1 1 0 -1 4194560 0 0 0 0 %u 0 0 0 20 0 3 0 1 1 1 1 1 1 "
             "1 1 1 1 1 1 1 1 1 1 1 1 0 %d\n",
             t, t - 1, ticks, cpu);
    tree_write(root, rel, text);
}

static np_linux_backend *backend(np_linux_ctx *ctx)
{
    static const pid_t pids[] = {100};
    np_linux_backend *lb = NULL;
    np_linux_backend_opts o = {.source = NP_LINUX_GUESTS_PIDS, .pids = pids, .nr_pids = 1};
    return np_linux_backend_create(ctx, &o, &lb) < 0 ? NULL : lb;
}

static void copy_fixture(const char *from, const char *to)
{
    char *text = slurp(from);
    if (text)
        tree_write(root, to, text);
    free(text);
}

/* Guest 100 alone in its cgroup g1.scope, with the fixture's
 * memory.numa_stat (350 MiB anonymous on node 0). */
static void alone_in_cgroup(void)
{
    set_vcpu_ticks(1, 0, 0);
    set_vcpu_ticks(2, 0, 2);
    tree_write(root, "sys/fs/cgroup/machine.slice/g1.scope/cgroup.procs", "100\n");
    copy_fixture("cgroup/memory.numa_stat", "sys/fs/cgroup/machine.slice/g1.scope/memory.numa_stat");
}

static void test_cgroup_counters_when_alone(void)
{
    np_linux_ctx *ctx = setup("/machine.slice/g1.scope");
    ASSERT_TRUE(ctx != NULL);
    if (!ctx)
        return;
    alone_in_cgroup();
    copy_fixture("cgroup/hugetlb.2MB.numa_stat",
                 "sys/fs/cgroup/machine.slice/g1.scope/hugetlb.2MB.numa_stat");
    np_linux_backend *lb = backend(ctx);
    np_backend_guest *gs = NULL;
    size_t n = 0;
    ASSERT_TRUE(lb != NULL);
    ASSERT_EQ(np_backend_list_guests(np_linux_backend_get(lb), &gs, &n), 0);
    ASSERT_EQ(n, 1);
    if (n == 1) {
        ASSERT_U64_EQ(gs[0].node_mem_bytes[0], 367001600);
        ASSERT_U64_EQ(gs[0].node_mem_bytes[1], UINT64_C(1) << 30);
    }
    np_backend_guests_free(gs, n);
    /* the huge pages by size and node reach the host state (what the
     * balancer judges against each node's pool, as from numa_maps) */
    np_host_state *st = NULL;
    ASSERT_EQ(np_backend_sense(np_linux_backend_get(lb), &st), 0);
    if (st) {
        ASSERT_U64_EQ(np_host_state_guest_huge_mem_bytes(st, 0, 1, UINT64_C(2) << 20),
                      UINT64_C(1) << 30);
        ASSERT_U64_EQ(np_host_state_guest_huge_mem_bytes(st, 0, 0, UINT64_C(2) << 20), 0);
    }
    np_host_state_destroy(st);
    /* Another process joins the cgroup: its counters are no longer this
     * guest's alone, numa_maps (16 KiB on node 0) is read instead. */
    tree_write(root, "sys/fs/cgroup/machine.slice/g1.scope/cgroup.procs", "100\n200\n");
    ASSERT_EQ(np_backend_list_guests(np_linux_backend_get(lb), &gs, &n), 0);
    if (n == 1) {
        ASSERT_U64_EQ(gs[0].node_mem_bytes[0], 16384);
        ASSERT_U64_EQ(gs[0].node_mem_bytes[1], 0);
    }
    np_backend_guests_free(gs, n);
    np_linux_backend_destroy(lb);
    np_linux_ctx_destroy(ctx);
    tree_destroy(root);
}

static void test_cpu_use_between_lists(void)
{
    np_linux_ctx *ctx = setup("/");
    ASSERT_TRUE(ctx != NULL);
    if (!ctx)
        return;
    set_vcpu_ticks(1, 100, 0);
    set_vcpu_ticks(2, 100, 2);
    np_linux_backend *lb = backend(ctx);
    np_backend *be = lb ? np_linux_backend_get(lb) : NULL;
    np_backend_guest *gs = NULL;
    np_host_state *st = NULL;
    size_t n = 0;
    ASSERT_TRUE(lb != NULL);
    if (!lb)
        goto out;
    /* First list: nothing to compare with, not measured. */
    ASSERT_EQ(np_backend_list_guests(be, &gs, &n), 0);
    ASSERT_EQ(n, 1);
    if (n == 1)
        ASSERT_TRUE(!gs[0].vcpus[0].demand_measured && !gs[0].vcpus[1].demand_measured);
    np_backend_guests_free(gs, n);
    /* 300 ms later vCPU 0 ran 15 ticks (150 ms at 100 Hz), vCPU 1 none. */
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 300000000};
    nanosleep(&ts, NULL);
    set_vcpu_ticks(1, 115, 0);
    set_vcpu_ticks(2, 100, 2);
    ASSERT_EQ(np_backend_list_guests(be, &gs, &n), 0);
    ASSERT_EQ(n, 1);
    if (n == 1) {
        double tick_s = 1.0 / (double)sysconf(_SC_CLK_TCK);
        const np_backend_vcpu *v0 = &gs[0].vcpus[0], *v1 = &gs[0].vcpus[1];
        ASSERT_TRUE(v0->demand_measured && v1->demand_measured);
        /* 15 ticks over at least 0.3 s and (on a loaded machine) at most 5 s */
        ASSERT_TRUE(v0->demand <= 15 * tick_s / 0.3 + 1e-9 && v0->demand >= 15 * tick_s / 5);
        ASSERT_TRUE(v1->demand == 0.0);
        ASSERT_EQ(np_backend_sense_guests(be, gs, n, &st), 0);
        ASSERT_TRUE(np_host_state_vcpu_demand(st, 0, 1) == 0.0); /* idle, not busy */
        ASSERT_TRUE(np_host_state_vcpu_demand(st, 0, 0) > 0.0);
    }
    np_host_state_destroy(st);
    np_backend_guests_free(gs, n);
out:
    np_linux_backend_destroy(lb);
    np_linux_ctx_destroy(ctx);
    tree_destroy(root);
}

static void write_pool(unsigned node, const char *nr, const char *free_pages)
{
    const char *files[3][2] = {{"nr_hugepages", nr}, {"free_hugepages", free_pages},
                               {"surplus_hugepages", "0\n"}};
    for (int i = 0; i < 3; i++) {
        char rel[160];
        snprintf(rel, sizeof(rel), "sys/devices/system/node/node%u/hugepages/hugepages-2048kB/%s",
                 node, files[i][0]);
        tree_write(root, rel, files[i][1]);
    }
}

/* The issue-12 hugetlb guest through the Linux backend: 320 MiB of 2 MiB
 * pages and 4 MiB of ordinary pages on node 0 (numa_maps), node 1's pool
 * with 170 free 2 MiB pages, node 0 without a pool. Sensing puts the
 * hugetlb bytes by node and size and node 1's free pool in the state. */
static void test_hugetlb_bytes_and_pools_sensed(void)
{
    np_linux_ctx *ctx = setup("/");
    ASSERT_TRUE(ctx != NULL);
    if (!ctx)
        return;
    tree_write(root, "proc/100/numa_maps",
               "7f00 default anon=1024 N0=1024 kernelpagesize_kB=4\n"
               "7f40000000 bind:0 file=/dev/hugepages/g huge dirty=160 N0=160 "
               "kernelpagesize_kB=2048\n");
    write_pool(1, "170\n", "170\n");
    np_linux_backend *lb = backend(ctx);
    np_host_state *st = NULL;
    uint64_t f = 0;
    ASSERT_TRUE(lb != NULL);
    if (!lb)
        goto out;
    ASSERT_EQ(np_backend_sense(np_linux_backend_get(lb), &st), 0);
    if (!st)
        goto out;
    ASSERT_U64_EQ(np_host_state_guest_mem_bytes(st, 0, 0), 324 * (UINT64_C(1) << 20));
    ASSERT_U64_EQ(np_host_state_guest_huge_mem_bytes(st, 0, 0, UINT64_C(2) << 20),
                  320 * (UINT64_C(1) << 20));
    ASSERT_EQ(np_host_state_node_huge_free(st, 1, UINT64_C(2) << 20, &f), 0);
    ASSERT_U64_EQ(f, 340 * (UINT64_C(1) << 20));
    ASSERT_EQ(np_host_state_node_huge_free(st, 0, UINT64_C(2) << 20, &f), -ENODATA);
out:
    np_host_state_destroy(st);
    np_linux_backend_destroy(lb);
    np_linux_ctx_destroy(ctx);
    tree_destroy(root);
}

/* A cgroup without any hugetlb.<size>.numa_stat (hugetlb controller not
 * enabled, Linux < 5.16) cannot report huge pages: with none in use on the
 * host its counters stand; with some in use (they may be the guest's)
 * numa_maps is read instead, whose 2 MiB pages are then counted. */
static void test_cgroup_without_hugetlb_counters(void)
{
    np_linux_ctx *ctx = setup("/machine.slice/g1.scope");
    np_linux_backend *lb = NULL;
    np_backend_guest *gs = NULL;
    size_t n = 0;
    ASSERT_TRUE(ctx != NULL);
    if (!ctx)
        return;
    alone_in_cgroup();
    tree_write(root, "proc/100/numa_maps",
               "7f00 default anon=1024 N0=1024 kernelpagesize_kB=4\n"
               "7f40000000 default file=/dev/hugepages/g huge dirty=8 N1=8 "
               "kernelpagesize_kB=2048\n");
    write_pool(1, "8\n", "8\n"); /* a pool, all of it free */
    lb = backend(ctx);
    ASSERT_TRUE(lb != NULL);
    if (!lb)
        goto out;
    ASSERT_EQ(np_backend_list_guests(np_linux_backend_get(lb), &gs, &n), 0);
    ASSERT_EQ(n, 1);
    if (n == 1) { /* the counters: 350 MiB anon, nothing on node 1 */
        ASSERT_U64_EQ(gs[0].node_mem_bytes[0], 367001600);
        ASSERT_U64_EQ(gs[0].node_mem_bytes[1], 0);
    }
    np_backend_guests_free(gs, n);
    write_pool(1, "8\n", "0\n"); /* its 8 pages in use */
    ASSERT_EQ(np_backend_list_guests(np_linux_backend_get(lb), &gs, &n), 0);
    ASSERT_EQ(n, 1);
    if (n == 1) { /* numa_maps: 4 MiB on node 0, 16 MiB of 2 MiB pages on node 1 */
        ASSERT_U64_EQ(gs[0].node_mem_bytes[0], UINT64_C(4) << 20);
        ASSERT_U64_EQ(gs[0].node_mem_bytes[1], UINT64_C(16) << 20);
        ASSERT_U64_EQ(gs[0].huge_page_bytes[0], UINT64_C(2) << 20);
    }
    np_backend_guests_free(gs, n);
out:
    np_linux_backend_destroy(lb);
    np_linux_ctx_destroy(ctx);
    tree_destroy(root);
}

int main(void)
{
    NP_RUN(test_numa_stat_parse);
    NP_RUN(test_cgroup_counters_when_alone);
    NP_RUN(test_cpu_use_between_lists);
    NP_RUN(test_hugetlb_bytes_and_pools_sensed);
    NP_RUN(test_cgroup_without_hugetlb_counters);
    return np_test_summary();
}
