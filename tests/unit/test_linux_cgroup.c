/*
 * test_linux_cgroup.c - cgroup v2 cpuset.cpus handling of the Linux layer
 * and the Linux backend, on scratch trees under a root fd with a fake
 * sched_setaffinity: reading cpuset lists, widening before steering
 * (never narrowing), the warning when the parent is what limits, the
 * per-thread cgroup (libvirt's vcpuN), and the backend's rules: soft
 * steering widens only, a whole-guest hard pin narrows to the union of the
 * pins, nothing is written without use_cgroup_cpuset or in the root cgroup.
 */
#include "linux_tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/backend_linux.h>

#include "linux/linux_internal.h"
#include "np_test.h"

static char logbuf[8192];

static void log_capture(void *opaque, np_log_level level, const char *subsys, const char *msg)
{
    (void)opaque;
    size_t n = strlen(logbuf);
    snprintf(logbuf + n, sizeof(logbuf) - n, "%d %s: %s\n", (int)level, subsys, msg);
}

/* The fake sched_setaffinity records the last mask per thread, as a list. */
#define FAKE_TIDS 8
static struct {
    pid_t tid[FAKE_TIDS];
    char mask[FAKE_TIDS][64];
    unsigned calls;
} A;

static int fake_set_affinity(void *opaque, pid_t tid, size_t nbits, const unsigned long *cpus)
{
    (void)opaque;
    np_bitmap *m = NULL;
    if (np_bitmap_create(&m) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < nbits; i++)
        if (cpus[i / (8 * sizeof(long))] & (1ul << (i % (8 * sizeof(long)))))
            np_bitmap_set(m, (unsigned)i);
    for (size_t k = 0; k < FAKE_TIDS; k++) {
        if (A.tid[k] == tid || A.tid[k] == 0) {
            A.tid[k] = tid;
            np_bitmap_format(m, A.mask[k], sizeof(A.mask[k]));
            break;
        }
    }
    np_bitmap_destroy(m);
    A.calls++;
    return 0;
}

static const char *affinity_of(pid_t tid)
{
    for (size_t k = 0; k < FAKE_TIDS; k++)
        if (A.tid[k] == tid)
            return A.mask[k];
    return "(never set)";
}

static const np_linux_sys fake_sys = {.set_affinity = fake_set_affinity};

static char root[256];
static char buf[256];

static const char *cg_read(const char *rel)
{
    char path[512];
    snprintf(path, sizeof(path), "sys/fs/cgroup/%s", rel);
    return tree_read(root, path, buf, sizeof(buf));
}

/* A 2-node host (CPUs 0-1 on node 0, 2-3 on node 1) with cgroup2 at
 * /sys/fs/cgroup: the root allows 0-3, /vm allows 0-3, /vm/g1 asks 0-1. */
static np_linux_ctx *setup(void)
{
    np_linux_ctx *ctx = NULL;
    memset(&A, 0, sizeof(A));
    logbuf[0] = '\0';
    if (!tree_create(root, sizeof(root)))
        return NULL;
    tree_write(root, "proc/self/mounts", "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n");
    tree_write(root, "sys/devices/system/node/online", "0-1\n");
    for (int n = 0; n < 2; n++) {
        char p[128], t[256];
        snprintf(p, sizeof(p), "sys/devices/system/node/node%d/cpulist", n);
        tree_write(root, p, n ? "2-3\n" : "0-1\n");
        snprintf(p, sizeof(p), "sys/devices/system/node/node%d/meminfo", n);
        snprintf(t, sizeof(t), "Node %d MemTotal: 1048576 kB\nNode %d MemFree: 524288 kB\n", n, n);
        tree_write(root, p, t);
    }
    tree_write(root, "sys/fs/cgroup/cpuset.cpus.effective", "0-3\n");
    tree_write(root, "sys/fs/cgroup/vm/cpuset.cpus", "\n");
    tree_write(root, "sys/fs/cgroup/vm/cpuset.cpus.effective", "0-3\n");
    tree_write(root, "sys/fs/cgroup/vm/g1/cpuset.cpus", "0-1\n");
    tree_write(root, "sys/fs/cgroup/vm/g1/cpuset.cpus.effective", "0-1\n");
    tree_write(root, "sys/fs/cgroup/vm/g1/cpuset.mems", "\n");
    if (np_linux_ctx_create(root, log_capture, NULL, &ctx) < 0)
        return NULL;
    np_linux_ctx_set_sys(ctx, &fake_sys);
    return ctx;
}

static void teardown(np_linux_ctx *ctx)
{
    np_linux_ctx_destroy(ctx);
    tree_destroy(root);
}

static np_bitmap *list(const char *text)
{
    np_bitmap *m = NULL;
    if (np_bitmap_create(&m) < 0 || np_bitmap_parse(m, text) < 0) {
        np_bitmap_destroy(m);
        return NULL;
    }
    return m;
}

static void test_read_cpus(void)
{
    np_linux_ctx *ctx = setup();
    np_bitmap *m = NULL;
    ASSERT_TRUE(ctx != NULL);
    ASSERT_EQ(np_linux_cgroup_cpus(ctx, "/vm/g1", false, &m), 0);
    ASSERT_EQ(np_bitmap_count(m), 2);
    ASSERT_TRUE(np_bitmap_test(m, 1) && !np_bitmap_test(m, 2));
    np_bitmap_destroy(m);
    m = NULL;
    ASSERT_EQ(np_linux_cgroup_cpus(ctx, "/vm", false, &m), 0);
    ASSERT_TRUE(np_bitmap_is_empty(m)); /* empty: inherits */
    np_bitmap_destroy(m);
    m = NULL;
    ASSERT_EQ(np_linux_cgroup_cpus(ctx, "/", true, &m), 0);
    ASSERT_EQ(np_bitmap_count(m), 4);
    np_bitmap_destroy(m);
    m = NULL;
    /* Malformed: the file and what was expected. */
    tree_write(root, "sys/fs/cgroup/vm/g1/cpuset.cpus", "0-1,x\n");
    ASSERT_EQ(np_linux_cgroup_cpus(ctx, "/vm/g1", false, &m), -EINVAL);
    ASSERT_STR_EQ(np_linux_ctx_last_error(ctx)->origin, "sys/fs/cgroup/vm/g1/cpuset.cpus");
    ASSERT_EQ(np_linux_ctx_last_error(ctx)->line, 1);
    ASSERT_CONTAINS(np_linux_ctx_last_error(ctx)->msg, "CPU list");
    ASSERT_TRUE(m == NULL);
    ASSERT_EQ(np_linux_cgroup_cpus(ctx, "/vm/none", false, &m), -ENOENT);
    ASSERT_EQ(np_linux_cgroup_cpus(ctx, "/vm/../x", false, &m), -EINVAL);
    teardown(ctx);
}

static void test_widen(void)
{
    np_linux_ctx *ctx = setup();
    np_bitmap *in = list("1"), *out = list("2-3"), *far = list("3-5");
    bool written = true;
    ASSERT_TRUE(ctx && in && out && far);

    /* Already allowed: nothing written. */
    ASSERT_EQ(np_linux_cgroup_widen_cpus(ctx, "/vm/g1", in, &written), 0);
    ASSERT_TRUE(!written);
    ASSERT_STR_EQ(cg_read("vm/g1/cpuset.cpus"), "0-1\n");

    /* Outside: added, none removed. */
    ASSERT_EQ(np_linux_cgroup_widen_cpus(ctx, "/vm/g1", out, &written), 0);
    ASSERT_TRUE(written);
    ASSERT_STR_EQ(cg_read("vm/g1/cpuset.cpus"), "0-3\n");
    ASSERT_CONTAINS(logbuf, "/vm/g1/cpuset.cpus = 0-3");

    /* An empty own set starts from the effective one. */
    tree_write(root, "sys/fs/cgroup/vm/g1/cpuset.cpus", "\n");
    tree_write(root, "sys/fs/cgroup/vm/g1/cpuset.cpus.effective", "0\n");
    ASSERT_EQ(np_linux_cgroup_widen_cpus(ctx, "/vm/g1", in, &written), 0);
    ASSERT_TRUE(written);
    ASSERT_STR_EQ(cg_read("vm/g1/cpuset.cpus"), "0-1\n");

    /* The parent (/vm: 0-3) lacks 4-5: still written, with a warning that
     * names the parent. */
    logbuf[0] = '\0';
    ASSERT_EQ(np_linux_cgroup_widen_cpus(ctx, "/vm/g1", far, &written), 0);
    ASSERT_TRUE(written);
    ASSERT_STR_EQ(cg_read("vm/g1/cpuset.cpus"), "0-1,3-5\n");
    ASSERT_CONTAINS(logbuf, "parent cgroup /vm allows only CPUs 0-3");

    /* The root cgroup has no cpuset.cpus. */
    ASSERT_EQ(np_linux_cgroup_widen_cpus(ctx, "/", out, &written), -EINVAL);
    /* A cgroup without the cpuset controller. */
    ASSERT_EQ(np_linux_cgroup_widen_cpus(ctx, "/vm/none", out, &written), -ENOENT);
    np_bitmap_destroy(in);
    np_bitmap_destroy(out);
    np_bitmap_destroy(far);
    teardown(ctx);
}

static void test_thread_cgroup(void)
{
    np_linux_ctx *ctx = setup();
    char *cg = NULL;
    ASSERT_TRUE(ctx != NULL);
    tree_write(root, "proc/50/task/51/cgroup",
               "0::/machine.slice/machine-qemu\\x2d1\\x2dweb.scope/libvirt/vcpu0\n");
    tree_write(root, "proc/50/task/52/cgroup", "12:cpuset:/x\n");
    ASSERT_EQ(np_linux_thread_cgroup(ctx, 50, 51, &cg), 0);
    ASSERT_STR_EQ(cg, "/machine.slice/machine-qemu\\x2d1\\x2dweb.scope/libvirt/vcpu0");
    free(cg);
    cg = NULL;
    ASSERT_EQ(np_linux_thread_cgroup(ctx, 50, 52, &cg), -ENOENT); /* v1 only */
    ASSERT_EQ(np_linux_thread_cgroup(ctx, 50, 53, &cg), -ESRCH);
    teardown(ctx);
}

/* A QEMU process 100 with vCPU threads 101 and 102 in /vm/g1. */
static np_linux_backend *guest_backend(np_linux_ctx *ctx, bool use_cpuset, const char *cgroup)
{
    static const pid_t pids[] = {100};
    char cgline[128];
    np_linux_backend *lb = NULL;
    np_backend_guest *gs = NULL;
    size_t n = 0;
    snprintf(cgline, sizeof(cgline), "0::%s\n", cgroup);
    tree_write(root, "proc/100/comm", "qemu-system-x86\n");
    static const char cmd[] = "qemu-system-x86_64\0-name\0g1\0";
    char path[512];
    snprintf(path, sizeof(path), "%s/proc/100/cmdline", root);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fwrite(cmd, 1, sizeof(cmd) - 1, f);
    fclose(f);
    tree_write(root, "proc/100/cgroup", cgline);
    tree_write(root, "proc/100/numa_maps", "7f00 default anon=4 N0=4 kernelpagesize_kB=4\n");
    tree_write(root, "proc/100/task/100/comm", "qemu-system-x86\n");
    tree_write(root, "proc/100/task/100/stat", "100 (qemu-system-x86) S 1 1 1 0 -1 4194560 0 0 0 "
                                               "0 5 5 0 0 20 0 3 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 "
                                               "1 1 1 0 0\n");
    for (int t = 1; t <= 2; t++) {
        char rel[64], text[256];
        snprintf(rel, sizeof(rel), "proc/100/task/10%d/comm", t);
        snprintf(text, sizeof(text), "CPU %d/KVM\n", t - 1);
        tree_write(root, rel, text);
        snprintf(rel, sizeof(rel), "proc/100/task/10%d/stat", t);
        snprintf(text, sizeof(text),
                 "10%d (CPU %d/KVM) S 1 1 1 0 -1 4194560 0 0 0 0 5 5 0 0 20 0 3 0 1 1 1 1 1 1 "
                 "1 1 1 1 1 1 1 1 1 1 1 1 0 %d\n",
                 t, t - 1, t - 1);
        tree_write(root, rel, text);
        snprintf(rel, sizeof(rel), "proc/100/task/10%d/cgroup", t);
        tree_write(root, rel, cgline);
    }
    np_linux_backend_opts o = {.source = NP_LINUX_GUESTS_PIDS, .pids = pids, .nr_pids = 1,
                               .use_cgroup_cpuset = use_cpuset};
    if (np_linux_backend_create(ctx, &o, &lb) < 0)
        return NULL;
    int rc = np_backend_list_guests(np_linux_backend_get(lb), &gs, &n);
    np_backend_guests_free(gs, n);
    if (rc < 0 || n != 1) {
        np_linux_backend_destroy(lb);
        return NULL;
    }
    return lb;
}

static void test_backend_soft_widens_only(void)
{
    np_linux_ctx *ctx = setup();
    ASSERT_TRUE(ctx != NULL);
    np_linux_backend *lb = guest_backend(ctx, true, "/vm/g1");
    ASSERT_TRUE(lb != NULL);
    np_backend *be = np_linux_backend_get(lb);
    np_bitmap *n0 = list("0-1"), *n1 = list("2-3");

    /* Steering vCPU 0 to node 1 (outside the cgroup's 0-1) widens first. */
    ASSERT_EQ(np_backend_set_vcpu_affinity(be, 100, 0, NULL, n1), 0);
    ASSERT_STR_EQ(affinity_of(101), "2-3");
    ASSERT_STR_EQ(cg_read("vm/g1/cpuset.cpus"), "0-3\n");
    /* Steering back to node 0 never narrows the cgroup. */
    tree_write(root, "sys/fs/cgroup/vm/g1/cpuset.cpus.effective", "0-3\n");
    ASSERT_EQ(np_backend_set_vcpu_affinity(be, 100, 0, NULL, n0), 0);
    ASSERT_EQ(np_backend_set_vcpu_affinity(be, 100, 1, NULL, n0), 0);
    ASSERT_STR_EQ(affinity_of(101), "0-1");
    ASSERT_STR_EQ(affinity_of(102), "0-1");
    ASSERT_STR_EQ(cg_read("vm/g1/cpuset.cpus"), "0-3\n");
    /* Soft within hard: the thread gets the intersection, the cgroup is only
     * widened to it. */
    np_bitmap *h = list("1-2");
    tree_write(root, "sys/fs/cgroup/vm/g1/cpuset.cpus", "0\n");
    tree_write(root, "sys/fs/cgroup/vm/g1/cpuset.cpus.effective", "0\n");
    ASSERT_EQ(np_backend_set_vcpu_affinity(be, 100, 1, h, n1), 0);
    ASSERT_STR_EQ(affinity_of(102), "2");
    ASSERT_STR_EQ(cg_read("vm/g1/cpuset.cpus"), "0,2\n");
    np_bitmap_destroy(h);
    np_bitmap_destroy(n0);
    np_bitmap_destroy(n1);
    np_linux_backend_destroy(lb);
    teardown(ctx);
}

static void test_backend_whole_guest_pin_narrows(void)
{
    np_linux_ctx *ctx = setup();
    ASSERT_TRUE(ctx != NULL);
    np_linux_backend *lb = guest_backend(ctx, true, "/vm/g1");
    ASSERT_TRUE(lb != NULL);
    np_backend *be = np_linux_backend_get(lb);
    np_bitmap *c2 = list("2"), *c3 = list("3"), *c0 = list("0"), *all = list("0-3");
    tree_write(root, "sys/fs/cgroup/vm/g1/cpuset.cpus", "0-3\n");
    tree_write(root, "sys/fs/cgroup/vm/g1/cpuset.cpus.effective", "0-3\n");

    /* One vCPU pinned: not a whole-guest pin, the cgroup stays. */
    ASSERT_EQ(np_backend_set_vcpu_affinity(be, 100, 0, c2, NULL), 0);
    ASSERT_STR_EQ(affinity_of(101), "2");
    ASSERT_STR_EQ(cg_read("vm/g1/cpuset.cpus"), "0-3\n");
    /* Both pinned: narrowed to the union of the pins. */
    ASSERT_EQ(np_backend_set_vcpu_affinity(be, 100, 1, c3, NULL), 0);
    ASSERT_STR_EQ(affinity_of(102), "3");
    ASSERT_STR_EQ(cg_read("vm/g1/cpuset.cpus"), "2-3\n");
    /* Re-pinning vCPU 0 outside: widened before the thread moves, then
     * narrowed to the new union. */
    tree_write(root, "sys/fs/cgroup/vm/g1/cpuset.cpus.effective", "2-3\n");
    logbuf[0] = '\0';
    ASSERT_EQ(np_backend_set_vcpu_affinity(be, 100, 0, c0, NULL), 0);
    ASSERT_STR_EQ(affinity_of(101), "0");
    ASSERT_CONTAINS(logbuf, "/vm/g1/cpuset.cpus = 0,2-3");
    ASSERT_STR_EQ(cg_read("vm/g1/cpuset.cpus"), "0,3\n");
    /* Steering one vCPU ends the whole-guest pin: widened, not narrowed. */
    tree_write(root, "sys/fs/cgroup/vm/g1/cpuset.cpus.effective", "0,3\n");
    ASSERT_EQ(np_backend_set_vcpu_affinity(be, 100, 1, NULL, all), 0);
    ASSERT_STR_EQ(cg_read("vm/g1/cpuset.cpus"), "0-3\n");
    tree_write(root, "sys/fs/cgroup/vm/g1/cpuset.cpus.effective", "0-3\n");
    ASSERT_EQ(np_backend_set_vcpu_affinity(be, 100, 0, c2, NULL), 0);
    ASSERT_STR_EQ(cg_read("vm/g1/cpuset.cpus"), "0-3\n");
    np_bitmap_destroy(c0);
    np_bitmap_destroy(c2);
    np_bitmap_destroy(c3);
    np_bitmap_destroy(all);
    np_linux_backend_destroy(lb);
    teardown(ctx);
}

static void test_backend_leaves_cgroup_alone(void)
{
    np_bitmap *n1 = list("2-3");
    /* use_cgroup_cpuset off. */
    np_linux_ctx *ctx = setup();
    ASSERT_TRUE(ctx != NULL);
    np_linux_backend *lb = guest_backend(ctx, false, "/vm/g1");
    ASSERT_TRUE(lb != NULL);
    ASSERT_EQ(np_backend_set_vcpu_affinity(np_linux_backend_get(lb), 100, 0, NULL, n1), 0);
    ASSERT_STR_EQ(affinity_of(101), "2-3");
    ASSERT_STR_EQ(cg_read("vm/g1/cpuset.cpus"), "0-1\n");
    np_linux_backend_destroy(lb);
    teardown(ctx);

    /* The guest lives in the root cgroup. */
    ctx = setup();
    ASSERT_TRUE(ctx != NULL);
    lb = guest_backend(ctx, true, "/");
    ASSERT_TRUE(lb != NULL);
    ASSERT_EQ(np_backend_set_vcpu_affinity(np_linux_backend_get(lb), 100, 1, n1, NULL), 0);
    ASSERT_EQ(np_backend_set_vcpu_affinity(np_linux_backend_get(lb), 100, 0, n1, NULL), 0);
    ASSERT_STR_EQ(affinity_of(102), "2-3");
    ASSERT_STR_EQ(cg_read("vm/g1/cpuset.cpus"), "0-1\n");
    ASSERT_TRUE(strstr(logbuf, "cpuset") == NULL);
    np_linux_backend_destroy(lb);
    teardown(ctx);

    /* A cgroup without cpuset files: warned, and the thread is still steered. */
    ctx = setup();
    ASSERT_TRUE(ctx != NULL);
    lb = guest_backend(ctx, true, "/vm/nocpuset");
    ASSERT_TRUE(lb != NULL);
    ASSERT_EQ(np_backend_set_vcpu_affinity(np_linux_backend_get(lb), 100, 0, NULL, n1), 0);
    ASSERT_STR_EQ(affinity_of(101), "2-3");
    ASSERT_CONTAINS(logbuf, "cannot widen cpuset.cpus of /vm/nocpuset");
    np_linux_backend_destroy(lb);
    teardown(ctx);
    np_bitmap_destroy(n1);
}

int main(void)
{
    NP_RUN(test_read_cpus);
    NP_RUN(test_widen);
    NP_RUN(test_thread_cgroup);
    NP_RUN(test_backend_soft_widens_only);
    NP_RUN(test_backend_whole_guest_pin_narrows);
    NP_RUN(test_backend_leaves_cgroup_alone);
    return np_test_summary();
}
