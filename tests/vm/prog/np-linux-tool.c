/*
 * np-linux-tool - drives the Linux layer of libnumaplace from a shell, for
 * the VM tests and for measurements on a host (until the numaplace command
 * and numaplaced expose these). One line of key=value output per result.
 *
 *   np-linux-tool nodes
 *   np-linux-tool guests
 *   np-linux-tool threads PID
 *   np-linux-tool sense PID
 *   np-linux-tool move [-b MIB_PER_S] [-p BATCH_PAGES] [-t TARGET_MS] [-f anon|writable|all]
 *                      PID FROM|any TO
 *   np-linux-tool migrate PID FROM TO
 *   np-linux-tool affinity TID [CPULIST]
 *   np-linux-tool ksm
 *   np-linux-tool cgroup-procs CGROUP
 *   np-linux-tool cpuset CGROUP CPULIST|- MEMLIST|-
 *   np-linux-tool bench-sense PID REPS
 *   np-linux-tool bench-move PID FROM TO
 *
 * Exit status: 0 success, 3 the process exited (-ESRCH), 2 usage, 1 other.
 * Set NP_ROOT to read a captured tree instead of "/".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/linux.h>

static void log_stderr(void *opaque, np_log_level level, const char *subsys, const char *msg)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    (void)opaque;
    if (level <= NP_LOG_INFO)
        fprintf(stderr, "%s: %s: %s\n", names[level], subsys, msg);
}

static int exit_code(int rc)
{
    if (rc == 0)
        return 0;
    fprintf(stderr, "np-linux-tool: %s\n", np_strerror(rc));
    return rc == -ESRCH ? 3 : 1;
}

static long num(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || end == s) {
        fprintf(stderr, "np-linux-tool: not a number: %s\n", s);
        exit(2);
    }
    return v;
}

static void print_mem(const char *label, const np_linux_mem *m)
{
    printf("%s total=%llu", label, (unsigned long long)m->total_bytes);
    for (size_t i = 0; i < m->nr_node_slots; i++)
        printf(" N%zu=%llu", i, (unsigned long long)m->bytes_by_node_os_id[i]);
    for (size_t i = 0; i < m->nr_node_slots; i++)
        printf(" anonN%zu=%llu", i, (unsigned long long)m->anon_bytes_by_node_os_id[i]);
    printf(" mappings=%llu queried=%llu absent=%llu\n", (unsigned long long)m->mappings,
           (unsigned long long)m->pages_queried, (unsigned long long)m->pages_absent);
}

static int cmd_nodes(np_linux_ctx *ctx)
{
    np_bitmap *nodes = NULL;
    int rc = np_linux_nodes_online(ctx, &nodes);
    for (int n = rc == 0 ? np_bitmap_next(nodes, 0) : -1; n >= 0 && rc == 0;
         n = np_bitmap_next(nodes, (unsigned)n + 1)) {
        np_bitmap *cpus = NULL;
        np_linux_node_meminfo mi;
        char list[1024];
        rc = np_linux_node_cpus(ctx, (unsigned)n, &cpus);
        if (rc == 0)
            rc = np_linux_node_meminfo_read(ctx, (unsigned)n, &mi);
        if (rc == 0) {
            np_bitmap_format(cpus, list, sizeof(list));
            printf("node=%d cpus=%s total=%llu free=%llu\n", n, list,
                   (unsigned long long)mi.total_bytes, (unsigned long long)mi.free_bytes);
        }
        np_bitmap_destroy(cpus);
    }
    np_bitmap_destroy(nodes);
    return rc;
}

static int cmd_guests(np_linux_ctx *ctx)
{
    np_linux_proc *procs = NULL;
    size_t n = 0;
    int rc = np_linux_find_guests(ctx, &procs, &n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        printf("pid=%d kind=%s name=%s comm=%s cgroup=%s\n", (int)procs[i].pid,
               procs[i].kind == NP_LINUX_PROC_QEMU_LIBVIRT ? "libvirt" : "qemu",
               procs[i].guest_name ? procs[i].guest_name : "-", procs[i].comm,
               procs[i].cgroup ? procs[i].cgroup : "-");
    np_linux_procs_free(procs, n);
    return rc;
}

static int cmd_threads(np_linux_ctx *ctx, pid_t pid)
{
    np_linux_thread *th = NULL;
    size_t n = 0;
    int rc = np_linux_threads(ctx, pid, &th, &n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        printf("tid=%d vcpu=%d last_cpu=%d cpu_time_ns=%llu comm=%s\n", (int)th[i].tid,
               th[i].vcpu, th[i].last_cpu, (unsigned long long)th[i].cpu_time_ns, th[i].comm);
    free(th);
    return rc;
}

static int cmd_sense(np_linux_ctx *ctx, pid_t pid)
{
    np_linux_mem m = {0};
    int rc = np_linux_mem_numa_maps(ctx, pid, &m);
    if (rc == 0)
        print_mem("numa_maps", &m);
    if (rc == 0)
        rc = np_linux_mem_query(ctx, pid, NP_LINUX_MAPS_ALL, &m);
    if (rc == 0)
        print_mem("query", &m);
    np_linux_mem_fini(&m);
    return rc;
}

static int parse_node_set(const char *s, np_bitmap **out)
{
    if (strcmp(s, "any") == 0) {
        *out = NULL;
        return 0;
    }
    int rc = np_bitmap_create(out);
    if (rc == 0 && np_bitmap_parse(*out, s) < 0) {
        fprintf(stderr, "np-linux-tool: bad node list: %s\n", s);
        exit(2);
    }
    return rc;
}

static int cmd_move(np_linux_ctx *ctx, int argc, char **argv)
{
    np_linux_move_opts opts = {.now_ns = np_linux_clock_now_ns,
                               .sleep_ns = np_linux_clock_sleep_ns};
    int i = 0;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "-b") == 0)
            opts.budget_bytes_per_s = (uint64_t)num(argv[i + 1]) << 20;
        else if (strcmp(argv[i], "-p") == 0)
            opts.batch_pages = (uint32_t)num(argv[i + 1]);
        else if (strcmp(argv[i], "-t") == 0) /* batch target; large = fixed batches */
            opts.target_batch_ns = (uint64_t)num(argv[i + 1]) * 1000000u;
        else if (strcmp(argv[i], "-f") == 0)
            opts.filter = strcmp(argv[i + 1], "all") == 0        ? NP_LINUX_MAPS_ALL
                          : strcmp(argv[i + 1], "writable") == 0 ? NP_LINUX_MAPS_WRITABLE
                                                                 : NP_LINUX_MAPS_ANON;
        else
            return -EINVAL;
    }
    if (argc - i != 3)
        return -EINVAL;
    np_bitmap *from = NULL;
    np_linux_move_stats st = {0};
    int rc = parse_node_set(argv[i + 1], &from);
    if (rc < 0)
        return rc;
    uint64_t t0 = np_linux_clock_now_ns(NULL);
    rc = np_linux_move_pages_chunked(ctx, (pid_t)num(argv[i]), from, (unsigned)num(argv[i + 2]),
                                     &opts, &st);
    uint64_t t1 = np_linux_clock_now_ns(NULL);
    printf("rc=%d moved=%llu failed=%llu busy=%llu nomem=%llu fault=%llu other=%llu "
           "on_source=%llu queried=%llu absent=%llu batches=%llu longest_batch_us=%llu "
           "busy_ms=%llu elapsed_ms=%llu batch_now=%u\n",
           rc, (unsigned long long)st.pages_moved, (unsigned long long)st.pages_failed,
           (unsigned long long)st.pages_busy, (unsigned long long)st.pages_nomem,
           (unsigned long long)st.pages_fault, (unsigned long long)st.pages_other,
           (unsigned long long)st.pages_on_source, (unsigned long long)st.pages_queried,
           (unsigned long long)st.pages_absent, (unsigned long long)st.batches,
           (unsigned long long)(st.longest_batch_ns / 1000), (unsigned long long)(st.busy_ns / 1000000),
           (unsigned long long)((t1 - t0) / 1000000), st.batch_pages_now);
    np_bitmap_destroy(from);
    return rc;
}

static int cmd_migrate(np_linux_ctx *ctx, const char *pid, const char *from_s, const char *to_s)
{
    np_bitmap *from = NULL, *to = NULL;
    uint64_t left = 0;
    int rc = np_bitmap_create(&from);
    if (rc == 0)
        rc = np_bitmap_create(&to);
    if (rc == 0 && (np_bitmap_parse(from, from_s) < 0 || np_bitmap_parse(to, to_s) < 0))
        rc = -EINVAL;
    uint64_t t0 = np_linux_clock_now_ns(NULL);
    if (rc == 0)
        rc = np_linux_migrate_process(ctx, (pid_t)num(pid), from, to, &left);
    uint64_t t1 = np_linux_clock_now_ns(NULL);
    printf("rc=%d left=%llu elapsed_ms=%llu\n", rc, (unsigned long long)left,
           (unsigned long long)((t1 - t0) / 1000000));
    np_bitmap_destroy(from);
    np_bitmap_destroy(to);
    return rc;
}

static int cmd_affinity(np_linux_ctx *ctx, pid_t tid, const char *list)
{
    np_bitmap *cpus = NULL;
    char buf[1024];
    int rc = 0;
    if (list) {
        rc = np_bitmap_create(&cpus);
        if (rc == 0 && np_bitmap_parse(cpus, list) < 0)
            rc = -EINVAL;
        if (rc == 0)
            rc = np_linux_thread_set_affinity(ctx, tid, cpus);
        np_bitmap_destroy(cpus);
        cpus = NULL;
    }
    if (rc == 0)
        rc = np_linux_thread_get_affinity(ctx, tid, &cpus);
    if (rc == 0) {
        np_bitmap_format(cpus, buf, sizeof(buf));
        printf("tid=%d cpus=%s\n", (int)tid, buf);
    }
    np_bitmap_destroy(cpus);
    return rc;
}

static int cmd_cgroup_procs(np_linux_ctx *ctx, const char *cgroup)
{
    pid_t *pids = NULL;
    size_t n = 0;
    int rc = np_linux_cgroup_procs(ctx, cgroup, &pids, &n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        printf("pid=%d\n", (int)pids[i]);
    free(pids);
    return rc;
}

static int cmd_cpuset(np_linux_ctx *ctx, const char *cgroup, const char *cpus_s,
                      const char *mems_s)
{
    np_bitmap *cpus = NULL, *mems = NULL;
    int rc = 0;
    if (strcmp(cpus_s, "-") != 0) {
        rc = np_bitmap_create(&cpus);
        if (rc == 0 && np_bitmap_parse(cpus, cpus_s) < 0)
            rc = -EINVAL;
    }
    if (rc == 0 && strcmp(mems_s, "-") != 0) {
        rc = np_bitmap_create(&mems);
        if (rc == 0 && np_bitmap_parse(mems, mems_s) < 0)
            rc = -EINVAL;
    }
    uint64_t t0 = np_linux_clock_now_ns(NULL);
    if (rc == 0)
        rc = np_linux_cgroup_set_cpuset(ctx, cgroup, cpus, mems);
    printf("rc=%d elapsed_ms=%llu\n", rc,
           (unsigned long long)((np_linux_clock_now_ns(NULL) - t0) / 1000000));
    np_bitmap_destroy(cpus);
    np_bitmap_destroy(mems);
    return rc;
}

static int cmd_ksm(np_linux_ctx *ctx)
{
    np_linux_ksm k;
    int rc = np_linux_ksm_read(ctx, &k);
    if (rc == 0)
        printf("present=%d run=%d merge_across_nodes=%d pages_shared=%llu pages_sharing=%llu\n",
               k.present, k.run, k.merge_across_nodes, (unsigned long long)k.pages_shared,
               (unsigned long long)k.pages_sharing);
    return rc;
}

static int cmd_bench_sense(np_linux_ctx *ctx, pid_t pid, unsigned reps)
{
    np_linux_bench_sense b;
    int rc = np_linux_bench_sense_run(ctx, pid, reps, np_linux_clock_now_ns, NULL, &b);
    if (rc == 0)
        printf("reps=%u numa_maps_us=%llu query_us=%llu numa_maps_bytes=%llu query_bytes=%llu "
               "query_pages=%llu\n",
               b.reps, (unsigned long long)(b.numa_maps_ns / 1000),
               (unsigned long long)(b.query_ns / 1000), (unsigned long long)b.numa_maps_bytes,
               (unsigned long long)b.query_bytes, (unsigned long long)b.query_pages);
    return rc;
}

static int cmd_bench_move(np_linux_ctx *ctx, pid_t pid, unsigned from, unsigned to)
{
    np_linux_bench_move b;
    int rc = np_linux_bench_move_run(ctx, pid, from, to, np_linux_clock_now_ns, NULL, &b);
    if (rc == 0) {
        double c_mibps = b.chunked_ns ? (double)b.chunked_bytes / (1 << 20) / ((double)b.chunked_ns / 1e9) : 0;
        double m_mibps = b.migrate_ns ? (double)b.migrate_bytes / (1 << 20) / ((double)b.migrate_ns / 1e9) : 0;
        printf("chunked_bytes=%llu chunked_ms=%llu chunked_mibps=%.1f chunked_longest_batch_us=%llu "
               "chunked_batches=%llu migrate_bytes=%llu migrate_ms=%llu migrate_mibps=%.1f\n",
               (unsigned long long)b.chunked_bytes, (unsigned long long)(b.chunked_ns / 1000000),
               c_mibps, (unsigned long long)(b.chunked_longest_batch_ns / 1000),
               (unsigned long long)b.chunked_batches, (unsigned long long)b.migrate_bytes,
               (unsigned long long)(b.migrate_ns / 1000000), m_mibps);
    }
    return rc;
}

int main(int argc, char **argv)
{
    np_linux_ctx *ctx = NULL;
    const char *root = getenv("NP_ROOT");
    int rc;

    if (argc < 2) {
        fprintf(stderr, "usage: np-linux-tool nodes|guests|threads|sense|move|migrate|affinity|"
                        "ksm|cgroup-procs|cpuset|bench-sense|bench-move ...\n");
        return 2;
    }
    rc = np_linux_ctx_create(root ? root : "/", log_stderr, NULL, &ctx);
    if (rc < 0)
        return exit_code(rc);
    const char *cmd = argv[1];
    int n = argc - 2;
    char **a = argv + 2;
    if (strcmp(cmd, "nodes") == 0)
        rc = cmd_nodes(ctx);
    else if (strcmp(cmd, "guests") == 0)
        rc = cmd_guests(ctx);
    else if (strcmp(cmd, "threads") == 0 && n == 1)
        rc = cmd_threads(ctx, (pid_t)num(a[0]));
    else if (strcmp(cmd, "sense") == 0 && n == 1)
        rc = cmd_sense(ctx, (pid_t)num(a[0]));
    else if (strcmp(cmd, "move") == 0)
        rc = cmd_move(ctx, n, a);
    else if (strcmp(cmd, "migrate") == 0 && n == 3)
        rc = cmd_migrate(ctx, a[0], a[1], a[2]);
    else if (strcmp(cmd, "affinity") == 0 && (n == 1 || n == 2))
        rc = cmd_affinity(ctx, (pid_t)num(a[0]), n == 2 ? a[1] : NULL);
    else if (strcmp(cmd, "ksm") == 0)
        rc = cmd_ksm(ctx);
    else if (strcmp(cmd, "cgroup-procs") == 0 && n == 1)
        rc = cmd_cgroup_procs(ctx, a[0]);
    else if (strcmp(cmd, "cpuset") == 0 && n == 3)
        rc = cmd_cpuset(ctx, a[0], a[1], a[2]);
    else if (strcmp(cmd, "bench-sense") == 0 && n == 2)
        rc = cmd_bench_sense(ctx, (pid_t)num(a[0]), (unsigned)num(a[1]));
    else if (strcmp(cmd, "bench-move") == 0 && n == 3)
        rc = cmd_bench_move(ctx, (pid_t)num(a[0]), (unsigned)num(a[1]), (unsigned)num(a[2]));
    else {
        fprintf(stderr, "np-linux-tool: unknown command or wrong arguments: %s\n", cmd);
        np_linux_ctx_destroy(ctx);
        return 2;
    }
    np_linux_ctx_destroy(ctx);
    return exit_code(rc);
}
