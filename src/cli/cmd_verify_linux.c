/*
 * cli/cmd_verify.c - `numaplace verify GUEST|PID`: does reality match the
 * plan? The plan is the node set given with --nodes, else the home node
 * numaplaced chose for the guest, else the node where most of the guest's
 * vCPU threads last ran. Reality is the guest's memory per node
 * (/proc/PID/numa_maps) and the CPU each vCPU thread last ran on. Exit
 * status 1 when the memory outside the plan, or the share of vCPU threads
 * outside it, exceeds the tolerance (default 10%).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <numaplace/ctl.h>
#include <numaplace/linux.h>

#include "cli.h"

void cli_verify_linux_usage(FILE *out)
{
    fprintf(out,
            "usage: numaplace verify GUEST|PID [--nodes LIST] [--tolerance PCT] [--socket PATH]\n"
            "                        [--json]\n\n"
            "Compare a running guest's plan with reality: memory per node and where its vCPU\n"
            "threads run. Exit status 1 when they differ beyond the tolerance.\n\n"
            "  --nodes LIST     the planned nodes (e.g. 1 or 0-1); default: numaplaced's home\n"
            "                   node for the guest, else where most of its vCPUs run\n"
            "  --tolerance PCT  share of memory or of vCPUs allowed off the plan (default 10)\n"
            "  --socket PATH    numaplaced's control socket (default " NP_CTL_SOCKET_PATH ")\n"
            "  --json           machine-readable output\n");
}

/* A PID from GUEST: a number, or a QEMU guest of that name. */
static int resolve(np_linux_ctx *ctx, const char *guest, pid_t *pid_out)
{
    uint64_t v;
    char *end = NULL;
    v = strtoull(guest, &end, 10);
    if (end && !*end && v > 0 && v <= 4194304) {
        *pid_out = (pid_t)v;
        return 0;
    }
    np_linux_proc *procs = NULL;
    size_t n = 0;
    int rc = np_linux_find_guests(ctx, &procs, &n);
    if (rc)
        return rc;
    rc = -ENOENT;
    for (size_t i = 0; i < n; i++)
        if (procs[i].guest_name && strcmp(procs[i].guest_name, guest) == 0) {
            *pid_out = procs[i].pid;
            rc = 0;
            break;
        }
    np_linux_procs_free(procs, n);
    return rc;
}

/* Node os_id of a CPU os_id, -1 when unknown. */
static int cpu_node(np_linux_ctx *ctx, const np_bitmap *nodes, int32_t cpu)
{
    for (int n = np_bitmap_next(nodes, 0); n >= 0 && cpu >= 0;
         n = np_bitmap_next(nodes, (unsigned)n + 1)) {
        np_bitmap *cpus = NULL;
        bool in = np_linux_node_cpus(ctx, (unsigned)n, &cpus) == 0 &&
                  np_bitmap_test(cpus, (unsigned)cpu);
        np_bitmap_destroy(cpus);
        if (in)
            return n;
    }
    return -1;
}

int cli_verify_linux(int argc, char **argv)
{
    static const struct option opts[] = {
        {"nodes", required_argument, NULL, 'n'}, {"tolerance", required_argument, NULL, 't'},
        {"socket", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *sock = NP_CTL_SOCKET_PATH, *nodes_arg = NULL, *plan_from = "--nodes";
    uint64_t tol_pct = 10;
    bool json = false;
    np_linux_ctx *ctx = NULL;
    np_bitmap *online = NULL, *plan = NULL;
    np_linux_mem mem = {0};
    np_linux_thread *th = NULL;
    size_t nth = 0;
    pid_t pid = 0;
    int c, rc, status = NP_EXIT_INTERNAL;

    optind = 1;
    while ((c = getopt_long(argc, argv, "n:t:s:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'n': nodes_arg = optarg; break;
        case 't':
            if (cli_parse_uint(optarg, "--tolerance", 0, 100, &tol_pct) < 0)
                return NP_EXIT_USAGE;
            break;
        case 's': sock = optarg; break;
        case 'j': json = true; break;
        case 'h': cli_verify_linux_usage(stdout); return NP_EXIT_OK;
        default: cli_verify_linux_usage(stderr); return NP_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        cli_errorf("verify: expected one GUEST or PID");
        return NP_EXIT_USAGE;
    }
    const char *guest = argv[optind];
    if ((rc = np_bitmap_create(&plan)) || (rc = np_linux_ctx_create("/", NULL, NULL, &ctx)) ||
        (rc = np_linux_nodes_online(ctx, &online)))
        goto fail;
    if (nodes_arg && (np_bitmap_parse(plan, nodes_arg) || np_bitmap_is_empty(plan))) {
        cli_errorf("verify: --nodes: a node list such as 1 or 0-1");
        status = NP_EXIT_USAGE;
        goto out;
    }
    rc = resolve(ctx, guest, &pid);
    if (rc) {
        /* a name is echoed up to 64 bytes: a 100 KB argument is not a name */
        cli_errorf("verify: no guest or process '%.64s'%s%s", guest,
                   strlen(guest) > 64 ? "..." : "",
                   geteuid() != 0 ? " (not root: the guests of other users may be unreadable; "
                                    "run as root)"
                                  : "");
        status = NP_EXIT_USAGE;
        goto out;
    }
    rc = np_linux_mem_numa_maps(ctx, pid, &mem);
    if (rc == -EACCES || rc == -EPERM) {
        cli_errorf("verify: cannot read /proc/%d/numa_maps: %s (run as root or as the "
                   "process's owner)",
                   (int)pid, np_strerror(rc));
        status = NP_EXIT_FAIL;
        goto out;
    }
    if (!rc)
        rc = np_linux_threads(ctx, pid, &th, &nth);
    if (rc == -ESRCH || rc == -ENOENT) {
        cli_errorf("verify: no process %d", (int)pid);
        status = NP_EXIT_FAIL;
        goto out;
    }
    if (rc)
        goto fail;
    /* vCPU threads: QEMU's "CPU N/..." ones, else every thread. */
    size_t nv = 0;
    for (size_t i = 0; i < nth; i++)
        nv += th[i].vcpu >= 0;
    bool only_vcpus = nv > 0;
    if (!only_vcpus)
        nv = nth;
    if (!nodes_arg) {
        np_ctl_request req = {.cmd = NP_CTL_PLAN};
        json_t *r = NULL;
        snprintf(req.guest, sizeof(req.guest), "%d", (int)pid);
        if (cli_ctl_call(sock, &req, &r) == 0 && json_is_true(json_object_get(r, "ok")) &&
            json_integer_value(json_object_get(r, "home")) >= 0) {
            np_bitmap_set(plan, (unsigned)json_integer_value(json_object_get(r, "home")));
            plan_from = "numaplaced";
        }
        json_decref(r);
    }
    if (np_bitmap_is_empty(plan)) {
        uint32_t count[NP_LINUX_NODE_MAX_OS_ID + 1] = {0};
        int best = -1;
        for (size_t i = 0; i < nth; i++) {
            int n = (only_vcpus && th[i].vcpu < 0) ? -1 : cpu_node(ctx, online, th[i].last_cpu);
            if (n < 0)
                continue;
            count[n]++;
            if (best < 0 || count[n] > count[best] || (count[n] == count[best] && n < best))
                best = n;
        }
        if (best < 0) {
            cli_errorf("verify: cannot tell where process %d runs", (int)pid);
            status = NP_EXIT_FAIL;
            goto out;
        }
        np_bitmap_set(plan, (unsigned)best);
        plan_from = "where its vCPUs run";
    }
    uint64_t on_plan = 0, total = 0;
    for (size_t s = 0; s < mem.nr_node_slots; s++) {
        total += mem.bytes_by_node_os_id[s];
        if (np_bitmap_test(plan, (unsigned)s))
            on_plan += mem.bytes_by_node_os_id[s];
    }
    size_t vcpus_on = 0;
    for (size_t i = 0; i < nth; i++) {
        if (only_vcpus && th[i].vcpu < 0)
            continue;
        int n = cpu_node(ctx, online, th[i].last_cpu);
        vcpus_on += n >= 0 && np_bitmap_test(plan, (unsigned)n);
    }
    double mem_off = total ? (double)(total - on_plan) / (double)total : 0.0;
    double vcpu_off = nv ? (double)(nv - vcpus_on) / (double)nv : 0.0;
    double tol = (double)tol_pct / 100.0;
    bool ok = mem_off <= tol && vcpu_off <= tol;
    char pl[128];
    np_bitmap_format(plan, pl, sizeof(pl));
    if (json) {
        json_t *m = json_object();
        for (size_t s = 0; s < mem.nr_node_slots; s++) {
            char key[24];
            snprintf(key, sizeof(key), "%zu", s);
            if (mem.bytes_by_node_os_id[s])
                json_object_set_new(m, key, json_integer((json_int_t)mem.bytes_by_node_os_id[s]));
        }
        status = cli_print_json(json_pack(
            "{s:s, s:i, s:s, s:s, s:o, s:f, s:i, s:i, s:f, s:f, s:b}", "schema",
            "numaplace.verify/1", "pid", (int)pid, "plan_nodes", pl, "plan_from", plan_from,
            "mem_by_node", m, "mem_off_plan", mem_off, "vcpus", (int)nv, "vcpus_on_plan",
            (int)vcpus_on, "vcpus_off_plan", vcpu_off, "tolerance", tol, "match", ok));
        if (status == NP_EXIT_OK && !ok)
            status = NP_EXIT_FAIL;
        goto out;
    }
    char b[32];
    printf("guest   %s (pid %d)\nplan    nodes %s (from %s)\nmemory ", guest, (int)pid, pl,
           plan_from);
    for (size_t s = 0; s < mem.nr_node_slots; s++)
        if (mem.bytes_by_node_os_id[s])
            printf(" node %zu: %s", s, cli_bytes(mem.bytes_by_node_os_id[s], b, sizeof(b)));
    printf("\n        %.1f%% off the plan (tolerance %llu%%)\n", 100.0 * mem_off,
           (unsigned long long)tol_pct);
    printf("vcpus   %zu of %zu last ran on the plan's nodes (%.1f%% off)\n", vcpus_on, nv,
           100.0 * vcpu_off);
    printf("%s\n", ok ? "MATCH" : "DIFFERS");
    status = ok ? NP_EXIT_OK : NP_EXIT_FAIL;
    goto out;
fail:
    cli_errorf("verify: %s", np_strerror(rc));
    status = cli_exit_status(rc);
out:
    free(th);
    np_linux_mem_fini(&mem);
    np_bitmap_destroy(online);
    np_bitmap_destroy(plan);
    np_linux_ctx_destroy(ctx);
    return status;
}

