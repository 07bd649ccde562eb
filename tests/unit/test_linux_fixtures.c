/*
 * test_linux_fixtures.c - the Linux layer on captured and hand-made /proc
 * and /sys trees (tests/fixtures/linux, see its README): nodes, CPUs, free
 * memory (a 2-node KVM host, hwloc's sparse 8-node and offline-node
 * captures), KSM, guest discovery (libvirt, plain QEMU, qemu-kvm,
 * argv[0]-only), vCPU threads, cgroup.procs, cpuset writes, error reports
 * on malformed files, and the refusal of system calls on a fixture root.
 */
#include "linux_tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "linux/linux_internal.h"
#include "np_test.h"

#define FIX NP_FIXTURES_DIR "/linux/"
#define KIB 1024ull
#define PAGE4K 4096ull

/* The log lines the library sent, for checks on warnings. */
static char logbuf[8192];

static void log_capture(void *opaque, np_log_level level, const char *subsys, const char *msg)
{
    (void)opaque;
    size_t n = strlen(logbuf);
    snprintf(logbuf + n, sizeof(logbuf) - n, "%d %s: %s\n", (int)level, subsys, msg);
}

static np_linux_ctx *open_fixture(const char *name)
{
    np_linux_ctx *ctx = NULL;
    char root[512];
    snprintf(root, sizeof(root), "%s%s", FIX, name);
    logbuf[0] = '\0';
    int rc = np_linux_ctx_create(root, log_capture, NULL, &ctx);
    if (rc < 0)
        fprintf(stderr, "cannot open fixture %s: %s\n", root, np_strerror(rc));
    return ctx;
}

static char *list_of(const np_bitmap *m, char *buf, size_t len)
{
    np_bitmap_format(m, buf, len);
    return buf;
}

static void test_ctx(void)
{
    np_linux_ctx *ctx = NULL;
    ASSERT_EQ(np_linux_ctx_create(FIX "no-such-tree", NULL, NULL, &ctx), -ENOENT);
    ASSERT_TRUE(ctx == NULL);
    ASSERT_EQ(np_linux_ctx_create(FIX "README.md", NULL, NULL, &ctx), -ENOTDIR);
    ctx = open_fixture("kvmhost-2n");
    ASSERT_TRUE(ctx != NULL);
    ASSERT_TRUE(!np_linux_ctx_is_live(ctx));
    ASSERT_TRUE(np_linux_ctx_page_size(ctx) >= 4096);
    np_linux_ctx_destroy(ctx);
    np_linux_ctx_destroy(NULL);
}

static void test_nodes_kvmhost(void)
{
    np_linux_ctx *ctx = open_fixture("kvmhost-2n");
    np_bitmap *nodes = NULL, *cpus = NULL;
    np_linux_node_meminfo mi;
    char buf[256];
    ASSERT_EQ(np_linux_nodes_online(ctx, &nodes), 0);
    ASSERT_STR_EQ(list_of(nodes, buf, sizeof(buf)), "0-1");
    ASSERT_EQ(np_linux_node_cpus(ctx, 1, &cpus), 0);
    ASSERT_STR_EQ(list_of(cpus, buf, sizeof(buf)), "4-7,12-15");
    ASSERT_EQ(np_linux_node_meminfo_read(ctx, 0, &mi), 0);
    ASSERT_U64_EQ(mi.total_bytes, 65842340ull * KIB);
    ASSERT_U64_EQ(mi.free_bytes, 41233120ull * KIB);
    ASSERT_EQ(np_linux_node_meminfo_read(ctx, 2, &mi), -ENOENT);
    ASSERT_EQ(np_linux_node_cpus(ctx, 5, &cpus), -ENOENT);
    np_bitmap_destroy(nodes);
    np_bitmap_destroy(cpus);
    np_linux_ctx_destroy(ctx);
}

static void test_nodes_hwloc_sparse(void)
{
    np_linux_ctx *ctx = open_fixture("hwloc-48amd64-4pa2n6c-sparse");
    np_bitmap *nodes = NULL;
    char buf[256];
    ASSERT_EQ(np_linux_nodes_online(ctx, &nodes), 0);
    ASSERT_STR_EQ(list_of(nodes, buf, sizeof(buf)), "0-2,33-34,45,72-73");
    /* Node 45 (sparse id) has CPUs 30-35 and about 16 GiB free. */
    np_bitmap *cpus = NULL;
    np_linux_node_meminfo mi;
    ASSERT_EQ(np_linux_node_cpus(ctx, 45, &cpus), 0);
    ASSERT_STR_EQ(list_of(cpus, buf, sizeof(buf)), "30-35");
    ASSERT_EQ(np_linux_node_meminfo_read(ctx, 45, &mi), 0);
    ASSERT_U64_EQ(mi.free_bytes, 16498640ull * KIB);
    /* Every online node has a readable meminfo with free <= total. */
    for (int n = np_bitmap_next(nodes, 0); n >= 0; n = np_bitmap_next(nodes, (unsigned)n + 1)) {
        ASSERT_EQ(np_linux_node_meminfo_read(ctx, (unsigned)n, &mi), 0);
        ASSERT_TRUE(mi.free_bytes <= mi.total_bytes);
        ASSERT_TRUE(mi.total_bytes > 0);
    }
    np_bitmap_destroy(cpus);
    np_bitmap_destroy(nodes);
    np_linux_ctx_destroy(ctx);
}

static void test_nodes_hwloc_old_and_offline(void)
{
    np_linux_ctx *ctx = open_fixture("hwloc-16amd64-8n2c");
    np_bitmap *nodes = NULL;
    np_linux_node_meminfo mi;
    char buf[256];
    ASSERT_EQ(np_linux_nodes_online(ctx, &nodes), 0);
    ASSERT_EQ(np_bitmap_count(nodes), 8);
    /* Older meminfo: blank first line, no Inactive(file). */
    ASSERT_EQ(np_linux_node_meminfo_read(ctx, 3, &mi), 0);
    ASSERT_U64_EQ(mi.total_bytes, 8388608ull * KIB);
    ASSERT_U64_EQ(mi.inactive_file_bytes, 0);
    np_bitmap_destroy(nodes);
    np_linux_ctx_destroy(ctx);

    ctx = open_fixture("hwloc-offline-cpu0-node0");
    nodes = NULL;
    ASSERT_EQ(np_linux_nodes_online(ctx, &nodes), 0);
    ASSERT_STR_EQ(list_of(nodes, buf, sizeof(buf)), "1");
    np_bitmap *cpus = NULL;
    ASSERT_EQ(np_linux_node_cpus(ctx, 1, &cpus), 0);
    ASSERT_EQ(np_bitmap_count(cpus), 12);
    ASSERT_TRUE(!np_bitmap_test(cpus, 0));
    np_bitmap_destroy(cpus);
    np_bitmap_destroy(nodes);
    np_linux_ctx_destroy(ctx);
}

static void test_ksm_busy(void)
{
    np_linux_ctx *ctx = open_fixture("kvmhost-2n");
    np_linux_ksm k;
    ASSERT_EQ(np_linux_ksm_read(ctx, &k), 0);
    ASSERT_TRUE(k.present);
    ASSERT_EQ(k.run, 1);
    ASSERT_EQ(k.merge_across_nodes, 1);
    ASSERT_U64_EQ(k.pages_shared, 1532);
    ASSERT_U64_EQ(k.pages_sharing, 20877);
    /* Pages are shared: nothing is written, the warning says what to do. */
    ASSERT_EQ(np_linux_ksm_set_merge_across_nodes(ctx, false), -EBUSY);
    ASSERT_CONTAINS(logbuf, "1532 pages are shared");
    ASSERT_CONTAINS(logbuf, "write 2 to /sys/kernel/mm/ksm/run");
    ASSERT_EQ(np_linux_ksm_read(ctx, &k), 0);
    ASSERT_EQ(k.merge_across_nodes, 1);
    /* Asking for the current value is a no-op. */
    ASSERT_EQ(np_linux_ksm_set_merge_across_nodes(ctx, true), 0);
    ASSERT_CONTAINS(np_linux_ksm_merge_note(), "no pages are shared");
    np_linux_ctx_destroy(ctx);
}

static void test_ksm_write_and_absent(void)
{
    char root[256], buf[64];
    np_linux_ctx *ctx = NULL;
    np_linux_ksm k;
    ASSERT_TRUE(tree_create(root, sizeof(root)) != NULL);
    /* No ksm directory: a kernel without CONFIG_KSM. */
    ASSERT_EQ(np_linux_ctx_create(root, log_capture, NULL, &ctx), 0);
    ASSERT_EQ(np_linux_ksm_read(ctx, &k), 0);
    ASSERT_TRUE(!k.present);
    ASSERT_EQ(np_linux_ksm_set_merge_across_nodes(ctx, false), -EOPNOTSUPP);
    ASSERT_EQ(tree_write(root, "sys/kernel/mm/ksm/run", "2\n"), 0);
    ASSERT_EQ(tree_write(root, "sys/kernel/mm/ksm/merge_across_nodes", "1\n"), 0);
    ASSERT_EQ(tree_write(root, "sys/kernel/mm/ksm/pages_shared", "0\n"), 0);
    ASSERT_EQ(tree_write(root, "sys/kernel/mm/ksm/pages_sharing", "0\n"), 0);
    ASSERT_EQ(np_linux_ksm_set_merge_across_nodes(ctx, false), 0);
    ASSERT_STR_EQ(tree_read(root, "sys/kernel/mm/ksm/merge_across_nodes", buf, sizeof(buf)),
                  "0\n");
    ASSERT_EQ(np_linux_ksm_read(ctx, &k), 0);
    ASSERT_EQ(k.merge_across_nodes, 0);
    ASSERT_EQ(k.run, 2);
    /* Garbage in a KSM file is a parse error naming the file. */
    ASSERT_EQ(tree_write(root, "sys/kernel/mm/ksm/run", "yes\n"), 0);
    ASSERT_EQ(np_linux_ksm_read(ctx, &k), -EINVAL);
    ASSERT_CONTAINS(np_linux_ctx_last_error(ctx)->origin, "ksm/run");
    np_linux_ctx_destroy(ctx);
    tree_destroy(root);
}

static void test_find_guests(void)
{
    np_linux_ctx *ctx = open_fixture("kvmhost-2n");
    np_linux_proc *p = NULL;
    size_t n = 0;
    ASSERT_EQ(np_linux_find_guests(ctx, &p, &n), 0);
    ASSERT_EQ(n, 4);
    if (n == 4) {
        /* Sorted by PID. */
        ASSERT_EQ(p[0].pid, 3100);
        ASSERT_EQ(p[0].kind, NP_LINUX_PROC_QEMU);
        ASSERT_STR_EQ(p[0].guest_name, "db");
        ASSERT_STR_EQ(p[0].cgroup, "/user.slice/user-1000.slice/session-3.scope");
        ASSERT_EQ(p[1].pid, 4100);
        ASSERT_EQ(p[1].kind, NP_LINUX_PROC_QEMU_LIBVIRT);
        ASSERT_STR_EQ(p[1].guest_name, "rhel9,prod");
        ASSERT_STR_EQ(p[1].comm, "qemu-kvm");
        ASSERT_STR_EQ(p[1].cgroup, "/machine/rhel9.libvirt-qemu/emulator");
        ASSERT_EQ(p[2].pid, 5200);
        ASSERT_EQ(p[2].kind, NP_LINUX_PROC_QEMU);
        ASSERT_STR_EQ(p[2].comm, "vmx");
        ASSERT_STR_EQ(p[2].guest_name, "arm1");
        ASSERT_EQ(p[3].pid, 16186);
        ASSERT_EQ(p[3].kind, NP_LINUX_PROC_QEMU_LIBVIRT);
        ASSERT_STR_EQ(p[3].guest_name, "web1");
        ASSERT_STR_EQ(p[3].comm, "qemu-system-x86");
        ASSERT_STR_EQ(p[3].cgroup,
                      "/machine.slice/machine-qemu\\x2d1\\x2dweb1.scope/libvirt/emulator");
    }
    np_linux_procs_free(p, n);
    np_linux_ctx_destroy(ctx);
}

static void test_describe(void)
{
    np_linux_ctx *ctx = open_fixture("kvmhost-2n");
    np_linux_proc p = {0};
    /* vim with "-name" in its arguments is not a guest. */
    ASSERT_EQ(np_linux_proc_describe(ctx, 512, &p), 0);
    ASSERT_EQ(p.kind, NP_LINUX_PROC_OTHER);
    ASSERT_TRUE(p.guest_name == NULL);
    ASSERT_STR_EQ(p.comm, "vim");
    /* A kworker's long comm is cut to 15 bytes like the kernel's. */
    ASSERT_EQ(np_linux_proc_describe(ctx, 600, &p), 0);
    ASSERT_STR_EQ(p.comm, "kworker/u8:0-ev");
    ASSERT_STR_EQ(p.cgroup, "/");
    ASSERT_EQ(np_linux_proc_describe(ctx, 99999, &p), -ESRCH);
    ASSERT_EQ(np_linux_proc_describe(ctx, 0, &p), -EINVAL);
    np_linux_proc_fini(&p);
    np_linux_ctx_destroy(ctx);
}

static void test_threads(void)
{
    np_linux_ctx *ctx = open_fixture("kvmhost-2n");
    np_linux_thread *t = NULL;
    size_t n = 0;
    long hz = sysconf(_SC_CLK_TCK);
    uint64_t ns_per_tick = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
    ASSERT_EQ(np_linux_threads(ctx, 3100, &t, &n), 0);
    ASSERT_EQ(n, 6);
    if (n == 6) {
        ASSERT_EQ(t[0].tid, 3100);
        ASSERT_EQ(t[0].vcpu, -1);
        ASSERT_EQ(t[2].tid, 3104);
        ASSERT_STR_EQ(t[2].comm, "CPU 0/KVM");
        ASSERT_EQ(t[2].vcpu, 0);
        ASSERT_EQ(t[2].last_cpu, 6);
        ASSERT_U64_EQ(t[2].cpu_time_ns, (425012 + 13077) * ns_per_tick);
        ASSERT_EQ(t[3].vcpu, 1);
        ASSERT_EQ(t[3].last_cpu, 13);
        ASSERT_STR_EQ(t[4].comm, "a) b (c");
        ASSERT_U64_EQ(t[4].cpu_time_ns, 30 * ns_per_tick);
        ASSERT_EQ(t[4].vcpu, -1);
    }
    free(t);
    /* The real capture: two TCG vCPU threads. */
    ASSERT_EQ(np_linux_threads(ctx, 16186, &t, &n), 0);
    int vcpus = 0;
    for (size_t i = 0; i < n; i++)
        if (t[i].vcpu >= 0)
            vcpus++;
    ASSERT_EQ(n, 4);
    ASSERT_EQ(vcpus, 2);
    free(t);
    t = NULL;
    ASSERT_EQ(np_linux_threads(ctx, 4242, &t, &n), -ESRCH);
    np_linux_ctx_destroy(ctx);
}

static void test_mem_numa_maps_via_ctx(void)
{
    np_linux_ctx *ctx = open_fixture("kvmhost-2n");
    np_linux_mem m = {0};
    ASSERT_EQ(np_linux_mem_numa_maps(ctx, 4100, &m), 0);
    ASSERT_U64_EQ(m.huge_bytes, 2048ull << 20);
    ASSERT_EQ(np_linux_mem_numa_maps(ctx, 4242, &m), -ESRCH);
    np_linux_mem_fini(&m);
    np_linux_ctx_destroy(ctx);
}

static void test_cgroup_procs(void)
{
    np_linux_ctx *ctx = open_fixture("kvmhost-2n");
    pid_t *pids = NULL;
    size_t n = 0;
    /* Unsorted with a repeat in the file: sorted and unique here. */
    ASSERT_EQ(np_linux_cgroup_procs(ctx, "/user.slice/user-1000.slice/session-3.scope", &pids, &n),
              0);
    ASSERT_EQ(n, 3);
    if (n == 3) {
        ASSERT_EQ(pids[0], 500);
        ASSERT_EQ(pids[1], 512);
        ASSERT_EQ(pids[2], 3100);
    }
    free(pids);
    pids = NULL;
    ASSERT_EQ(np_linux_cgroup_procs(ctx, "/machine.slice/machine-qemu\\x2d1\\x2dweb1.scope/libvirt",
                                    &pids, &n),
              0);
    ASSERT_EQ(n, 1);
    if (n == 1)
        ASSERT_EQ(pids[0], 16186);
    free(pids);
    pids = NULL;
    ASSERT_EQ(np_linux_cgroup_procs(ctx, "/machine.slice", &pids, &n), 0);
    ASSERT_EQ(n, 0);
    free(pids);
    ASSERT_EQ(np_linux_cgroup_procs(ctx, "/user.slice/../../etc", &pids, &n), -EINVAL);
    ASSERT_EQ(np_linux_cgroup_procs(ctx, "relative", &pids, &n), -EINVAL);
    ASSERT_EQ(np_linux_cgroup_procs(ctx, "/no/such", &pids, &n), -ENOENT);
    np_linux_ctx_destroy(ctx);
}

static void test_cgroup_cpuset_write(void)
{
    char root[256], buf[128];
    np_linux_ctx *ctx = NULL;
    np_bitmap *cpus = NULL, *mems = NULL;
    ASSERT_TRUE(tree_create(root, sizeof(root)) != NULL);
    /* A hybrid host: the unified hierarchy at /sys/fs/cgroup/unified, with
     * a space (\040) in a mount point line before it. */
    ASSERT_EQ(tree_write(root, "proc/self/mounts",
                         "cgroup /sys/fs/cgroup/cpu\\040set cgroup rw,cpuset 0 0\n"
                         "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nsdelegate 0 0\n"),
              0);
    ASSERT_EQ(tree_write(root, "sys/fs/cgroup/unified/vm/a/cpuset.cpus", ""), 0);
    ASSERT_EQ(tree_write(root, "sys/fs/cgroup/unified/vm/a/cpuset.mems", ""), 0);
    ASSERT_EQ(tree_write(root, "sys/fs/cgroup/unified/vm/a/cgroup.procs", "77\n"), 0);
    ASSERT_EQ(np_linux_ctx_create(root, log_capture, NULL, &ctx), 0);
    ASSERT_EQ(np_bitmap_create(&cpus), 0);
    ASSERT_EQ(np_bitmap_create(&mems), 0);
    ASSERT_EQ(np_bitmap_parse(cpus, "4-7,12-15"), 0);
    ASSERT_EQ(np_bitmap_parse(mems, "1"), 0);
    logbuf[0] = '\0';
    ASSERT_EQ(np_linux_cgroup_set_cpuset(ctx, "/vm/a", cpus, mems), 0);
    ASSERT_STR_EQ(tree_read(root, "sys/fs/cgroup/unified/vm/a/cpuset.cpus", buf, sizeof(buf)),
                  "4-7,12-15\n");
    ASSERT_STR_EQ(tree_read(root, "sys/fs/cgroup/unified/vm/a/cpuset.mems", buf, sizeof(buf)),
                  "1\n");
    ASSERT_CONTAINS(logbuf, "/vm/a/cpuset.mems = 1");
    /* NULL leaves a file alone. */
    ASSERT_EQ(np_bitmap_parse(mems, "0-1"), 0);
    ASSERT_EQ(np_linux_cgroup_set_cpuset(ctx, "/vm/a", NULL, mems), 0);
    ASSERT_STR_EQ(tree_read(root, "sys/fs/cgroup/unified/vm/a/cpuset.cpus", buf, sizeof(buf)),
                  "4-7,12-15\n");
    ASSERT_STR_EQ(tree_read(root, "sys/fs/cgroup/unified/vm/a/cpuset.mems", buf, sizeof(buf)),
                  "0-1\n");
    pid_t *pids = NULL;
    size_t n = 0;
    ASSERT_EQ(np_linux_cgroup_procs(ctx, "/vm/a", &pids, &n), 0);
    ASSERT_EQ(n, 1);
    free(pids);
    /* A cgroup without cpuset files (controller not enabled). */
    ASSERT_EQ(np_linux_cgroup_set_cpuset(ctx, "/vm/b", cpus, NULL), -ENOENT);
    ASSERT_CONTAINS(logbuf, "cpuset.cpus");
    ASSERT_EQ(np_linux_cgroup_set_cpuset(ctx, "/vm/..", cpus, NULL), -EINVAL);
    np_bitmap_destroy(cpus);
    np_bitmap_destroy(mems);
    np_linux_ctx_destroy(ctx);
    tree_destroy(root);
}

static void test_malformed_trees(void)
{
    char root[256];
    np_linux_ctx *ctx = NULL;
    np_bitmap *nodes = NULL;
    np_linux_node_meminfo mi;
    np_linux_mem m = {0};
    np_linux_thread *t = NULL;
    size_t n = 0;
    ASSERT_TRUE(tree_create(root, sizeof(root)) != NULL);
    ASSERT_EQ(tree_write(root, "sys/devices/system/node/online", "0-\n"), 0);
    ASSERT_EQ(tree_write(root, "sys/devices/system/node/node0/meminfo",
                         "Node 0 MemTotal: 100 kB\nNode 0 MemFree 50 kB\n"),
              0);
    ASSERT_EQ(tree_write(root, "proc/9/numa_maps", "7f00 default N0=1 kernelpagesize_kB=4\n"
                                                   "7f01 default N0=1 N0=1 kernelpagesize_kB=4\n"),
              0);
    ASSERT_EQ(tree_write(root, "proc/9/task/9/comm", "x\n"), 0);
    ASSERT_EQ(tree_write(root, "proc/9/task/9/stat", "9 (x) S 1 2 3\n"), 0);
    ASSERT_EQ(np_linux_ctx_create(root, log_capture, NULL, &ctx), 0);

    ASSERT_EQ(np_linux_nodes_online(ctx, &nodes), -EINVAL);
    ASSERT_CONTAINS(np_linux_ctx_last_error(ctx)->origin, "node/online");
    ASSERT_CONTAINS(np_linux_ctx_last_error(ctx)->msg, "0-3,8");

    ASSERT_EQ(np_linux_node_meminfo_read(ctx, 0, &mi), -EINVAL);
    ASSERT_EQ(np_linux_ctx_last_error(ctx)->line, 2);
    ASSERT_CONTAINS(np_linux_ctx_last_error(ctx)->origin, "node0/meminfo");

    logbuf[0] = '\0';
    ASSERT_EQ(np_linux_mem_numa_maps(ctx, 9, &m), -EINVAL);
    ASSERT_STR_EQ(np_linux_ctx_last_error(ctx)->origin, "proc/9/numa_maps");
    ASSERT_EQ(np_linux_ctx_last_error(ctx)->line, 2);
    ASSERT_CONTAINS(logbuf, "proc/9/numa_maps:2: node N0 listed twice");

    ASSERT_EQ(np_linux_threads(ctx, 9, &t, &n), -EINVAL);
    ASSERT_STR_EQ(np_linux_ctx_last_error(ctx)->origin, "proc/9/task/9/stat");
    np_linux_mem_fini(&m);
    np_linux_ctx_destroy(ctx);
    tree_destroy(root);
}

static void test_syscalls_refused_on_fixture(void)
{
    np_linux_ctx *ctx = open_fixture("kvmhost-2n");
    np_bitmap *set = NULL, *got = NULL;
    np_linux_mem m = {0};
    np_linux_mover *mv = NULL;
    np_linux_move_opts opts = {.now_ns = np_linux_clock_now_ns};
    ASSERT_EQ(np_bitmap_create(&set), 0);
    ASSERT_EQ(np_bitmap_set(set, 0), 0);
    /* PIDs of a capture belong to another machine: never act on them. */
    ASSERT_EQ(np_linux_mem_query(ctx, 3100, NP_LINUX_MAPS_ALL, &m), -EOPNOTSUPP);
    ASSERT_EQ(np_linux_thread_set_affinity(ctx, 3104, set), -EOPNOTSUPP);
    ASSERT_EQ(np_linux_thread_get_affinity(ctx, 3104, &got), -EOPNOTSUPP);
    ASSERT_EQ(np_linux_migrate_process(ctx, 3100, set, set, NULL), -EOPNOTSUPP);
    ASSERT_EQ(np_linux_mover_create(ctx, 3100, NULL, 1, &opts, &mv), -EOPNOTSUPP);
    ASSERT_TRUE(mv == NULL);
    np_bitmap_destroy(set);
    np_linux_ctx_destroy(ctx);
}

int main(void)
{
    NP_RUN(test_ctx);
    NP_RUN(test_nodes_kvmhost);
    NP_RUN(test_nodes_hwloc_sparse);
    NP_RUN(test_nodes_hwloc_old_and_offline);
    NP_RUN(test_ksm_busy);
    NP_RUN(test_ksm_write_and_absent);
    NP_RUN(test_find_guests);
    NP_RUN(test_describe);
    NP_RUN(test_threads);
    NP_RUN(test_mem_numa_maps_via_ctx);
    NP_RUN(test_cgroup_procs);
    NP_RUN(test_cgroup_cpuset_write);
    NP_RUN(test_malformed_trees);
    NP_RUN(test_syscalls_refused_on_fixture);
    return np_test_summary();
}
