/*
 * cli/cmd_migrate.c - `numaplace migrate PID --to NODES`: the chunked,
 * rate-limited mover of the Linux layer by hand, with progress on stderr
 * and a key=value summary on stdout. Memory on nodes outside NODES moves to
 * them (each source node to one target, taken in turn); --whole uses one
 * migrate_pages(2) call instead (blocks the process until done).
 *
 * On a Xen dom0, `numaplace migrate DOMAIN --to NODE [--from NODE]` moves a
 * domain (named, not numbered) the only way Xen 4.17 can: a save/restore
 * onto the new node (the Xen backend's migrate_memory, docs/xen.md), which
 * pauses the guest for the whole move; asking by hand is the opt-in.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/backend.h>
#include <numaplace/ctl.h>
#include <numaplace/linux.h>

#include "cli.h"

/* Progress at most this often (a batch is ~20 ms). */
#define PROGRESS_EVERY_NS UINT64_C(1000000000)

static void usage(FILE *out)
{
    fprintf(out,
            "usage: numaplace migrate PID --to NODES [--from NODES] [--budget SIZE]\n"
            "                         [--whole] [--shared] [--quiet]\n\n"
            "Move a process's memory to NODES in short batches of move_pages(2), at most\n"
            "--budget bytes per second, printing progress. Pages already on NODES are\n"
            "left alone.\n\n"
            "  --to NODES     target nodes (e.g. 1 or 2-3)\n"
            "  --from NODES   only memory on these nodes (default: every other node)\n"
            "  --budget SIZE  bytes per second (e.g. 256M; default no limit)\n"
            "  --whole        one migrate_pages(2) call (numactl's migratepages): faster,\n"
            "                 but the process stalls until it is done\n"
            "  --shared       also writable shared and file mappings (memfd guest RAM);\n"
            "                 anonymous memory, hugetlb included, is always moved\n"
            "  --quiet        no progress lines\n\n"
            "Huge pages move whole (a 2 MiB hugetlb page by its head address), and only\n"
            "while the target node's pool of their size has free pages (else exit 1).\n"
            "Exit: 0 done, 1 no such process, not permitted, no room in the target's huge\n"
            "page pool or the process exited, 2 bad arguments, 3 system error.\n\n"
            "usage: numaplace migrate DOMAIN --to NODE [--from NODE] [--save-dir DIR]\n\n"
            "On a Xen dom0: move a domain's memory on node --from (default: the node\n"
            "other than NODE holding most of it) to NODE by saving and restoring the\n"
            "domain (Xen 4.17 has no other way): the whole guest moves, paused for the\n"
            "whole move, and gets a new domid. libxl 4.17 cannot save a vNUMA guest.\n"
            "NODE must take the whole guest as `numaplace create` counts a node's memory\n"
            "(free above the DMA zone, minus creations in flight and 64 MiB head-room);\n"
            "else nothing moves (exit 1) and the message names a node that can.\n"
            "  --save-dir DIR where the save image goes (default " NP_DAEMON_XEN_SAVE_DIR ")\n");
}

#ifdef NP_HAVE_XEN
/* The domain's memory on --from (or its biggest share off `to`) moves to
 * `to` by save/restore. */
static int migrate_xen(const char *domain, const char *to_arg, const char *from_arg,
                       const char *save_dir)
{
    np_xen *xen = NULL;
    np_backend *be = NULL;
    np_topology *topo = NULL;
    np_backend_guest *gs = NULL;
    size_t nr = 0, to_idx = 0, from_idx = 0;
    uint64_t to_os = 0, from_os = 0, moved = 0;
    const np_backend_guest *g = NULL;
    int status = NP_EXIT_INTERNAL, rc;

    if (cli_parse_uint(to_arg, "--to", 0, NP_TOPO_MAX_NODES - 1, &to_os) < 0 ||
        (from_arg && cli_parse_uint(from_arg, "--from", 0, NP_TOPO_MAX_NODES - 1, &from_os) < 0))
        return NP_EXIT_USAGE;
    rc = np_xen_open(cli_xen_log, NULL, &xen);
    if (rc) {
        cli_errorf("migrate: cannot open libxl (%s): run this on a Xen dom0 as root",
                   np_strerror(rc));
        return NP_EXIT_INTERNAL;
    }
    if ((rc = np_xen_set_memory_move(xen, NP_XEN_MEMORY_MOVE_SAVE_RESTORE, save_dir)) ||
        (rc = np_backend_create(np_xen_backend_ops(), xen, &be)) ||
        (rc = np_backend_topology(be, &topo)) || (rc = np_backend_list_guests(be, &gs, &nr)))
        goto fail;
    for (size_t i = 0; i < nr && !g; i++)
        if (strcmp(gs[i].name, domain) == 0)
            g = &gs[i];
    if (!g) {
        cli_errorf("migrate: no domain named '%s' is running", domain);
        status = NP_EXIT_FAIL;
        goto out;
    }
    if (np_topology_node_idx(topo, (uint32_t)to_os, &to_idx) ||
        (from_arg && np_topology_node_idx(topo, (uint32_t)from_os, &from_idx))) {
        cli_errorf("migrate: --to/--from: no such node on this host");
        status = NP_EXIT_USAGE;
        goto out;
    }
    if (!from_arg) {
        bool found = false;
        for (size_t k = 0; k < g->nr_nodes; k++)
            if (k != to_idx && g->node_mem_bytes[k] &&
                (!found || g->node_mem_bytes[k] > g->node_mem_bytes[from_idx])) {
                from_idx = k;
                found = true;
            }
        if (!found) {
            printf("method=save-restore moved_bytes=0 (all of %s is on node %llu already)\n",
                   domain, (unsigned long long)to_os);
            status = NP_EXIT_OK;
            goto out;
        }
    }
    if (from_idx == to_idx) {
        cli_errorf("migrate: --from and --to name the same node");
        status = NP_EXIT_USAGE;
        goto out;
    }
    uint64_t t0 = np_linux_clock_now_ns(NULL);
    rc = np_backend_migrate_memory(be, g->id, from_idx, to_idx, g->node_mem_bytes[from_idx],
                                   &moved);
    if (rc)
        goto fail;
    printf("method=save-restore moved_bytes=%llu from=%u to=%u elapsed_ms=%llu\n",
           (unsigned long long)moved, np_topology_node(topo, from_idx)->os_id,
           np_topology_node(topo, to_idx)->os_id,
           (unsigned long long)((np_linux_clock_now_ns(NULL) - t0) / 1000000));
    status = NP_EXIT_OK;
    goto out;
fail:
    if (rc == -ENOSPC)
        /* the backend's warning above says which node lacks what */
        cli_errorf("migrate: %s not moved: %s", domain, np_strerror(rc));
    else
        cli_errorf("migrate: %s", np_strerror(rc));
    /* cannot be done now or here (no room, another move, gone, vNUMA) */
    status = rc == -ENOSPC || rc == -EBUSY || rc == -ESRCH || rc == -ENOTSUP || rc == -EAGAIN
                 ? NP_EXIT_FAIL
                 : cli_exit_status(rc);
out:
    np_backend_guests_free(gs, nr);
    np_topology_destroy(topo);
    np_backend_destroy(be);
    np_xen_close(xen);
    return status;
}
#endif

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"to", required_argument, NULL, 't'},     {"from", required_argument, NULL, 'f'},
        {"budget", required_argument, NULL, 'b'}, {"whole", no_argument, NULL, 'w'},
        {"shared", no_argument, NULL, 'S'},       {"quiet", no_argument, NULL, 'q'},
        {"save-dir", required_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *to_arg = NULL, *from_arg = NULL, *save_dir = NP_DAEMON_XEN_SAVE_DIR;
    uint64_t budget = 0, pid64 = 0;
    bool whole = false, quiet = false, shared = false;
    np_linux_ctx *ctx = NULL;
    np_bitmap *to = NULL, *from = NULL, *online = NULL, *one = NULL;
    np_linux_mover *mv = NULL;
    int c, rc = 0, status = NP_EXIT_INTERNAL;

    optind = 1;
    while ((c = getopt_long(argc, argv, "t:f:b:wSqD:h", opts, NULL)) != -1) {
        switch (c) {
        case 't': to_arg = optarg; break;
        case 'f': from_arg = optarg; break;
        case 'b':
            if (cli_parse_size(optarg, "--budget", &budget) < 0)
                return NP_EXIT_USAGE;
            break;
        case 'w': whole = true; break;
        case 'S': shared = true; break;
        case 'q': quiet = true; break;
        case 'D': save_dir = optarg; break;
        case 'h': usage(stdout); return NP_EXIT_OK;
        default: usage(stderr); return NP_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc || !to_arg) {
        cli_errorf("migrate: expected PID (or a Xen DOMAIN name) and --to NODES");
        return NP_EXIT_USAGE;
    }
    const char *who = argv[optind];
    if (who[0] && strspn(who, "0123456789") != strlen(who)) { /* a name: a Xen domain */
#ifdef NP_HAVE_XEN
        /* Off a dom0, libxl would only print why it cannot open Xen. */
        if (!np_xen_is_dom0()) {
            cli_errorf("migrate: '%.64s' is not a PID, and this is not a Xen dom0 "
                       "(/proc/xen/capabilities has no control_d) for a domain name",
                       who);
            return NP_EXIT_USAGE;
        }
        return migrate_xen(who, to_arg, from_arg, save_dir);
#else
        cli_errorf("migrate: '%.64s' is not a PID, and this numaplace was built without Xen "
                   "support for domain names",
                   who);
        return NP_EXIT_USAGE;
#endif
    }
    (void)save_dir;
    if (cli_parse_uint(argv[optind], "PID", 1, 4194304, &pid64) < 0)
        return NP_EXIT_USAGE;
    pid_t pid = (pid_t)pid64;
    if ((rc = np_bitmap_create(&to)) || (rc = np_bitmap_create(&from)) ||
        (rc = np_bitmap_create(&one)) || (rc = np_linux_ctx_create("/", NULL, NULL, &ctx)) ||
        (rc = np_linux_nodes_online(ctx, &online)))
        goto fail;
    if (np_bitmap_parse(to, to_arg) || np_bitmap_is_empty(to) ||
        (from_arg && (np_bitmap_parse(from, from_arg) || np_bitmap_is_empty(from)))) {
        cli_errorf("migrate: --to/--from: a node list such as 1 or 0-1");
        status = NP_EXIT_USAGE;
        goto out;
    }
    /* The process must exist and be ours to move before anything else,
     * also when nothing has to move (every node a target). */
    rc = np_linux_pid_check_move_access(ctx, pid);
    if (rc == -ESRCH) {
        cli_errorf("migrate: no process %d (or it has exited)", (int)pid);
        status = NP_EXIT_FAIL;
        goto out;
    }
    if (rc == -EPERM || rc == -EACCES) {
        cli_errorf("migrate: not allowed to move the memory of process %d (%s): run as its "
                   "owner, or as root (another user's process needs CAP_SYS_NICE)",
                   (int)pid, np_strerror(rc));
        status = NP_EXIT_FAIL;
        goto out;
    }
    if (rc)
        goto fail;
    np_bitmap *chk = NULL;
    if ((rc = np_bitmap_copy(to, &chk)))
        goto fail;
    np_bitmap_and(chk, online);
    bool to_ok = np_bitmap_equal(chk, to);
    np_bitmap_destroy(chk);
    if (!to_ok) {
        cli_errorf("migrate: --to %s names a node that is not online", to_arg);
        status = NP_EXIT_USAGE;
        goto out;
    }
    if (!from_arg) /* every online node not a target */
        for (int n = np_bitmap_next(online, 0); n >= 0; n = np_bitmap_next(online, (unsigned)n + 1))
            if (!np_bitmap_test(to, (unsigned)n))
                np_bitmap_set(from, (unsigned)n);
    uint64_t t0 = np_linux_clock_now_ns(NULL);
    if (whole) {
        uint64_t left = 0;
        rc = np_linux_migrate_process(ctx, pid, from, to, &left);
        uint64_t ms = (np_linux_clock_now_ns(NULL) - t0) / 1000000;
        if (rc == -ESRCH) {
            cli_errorf("migrate: process %d is gone", (int)pid);
            status = NP_EXIT_FAIL;
            goto out;
        }
        if (rc)
            goto fail;
        printf("method=migrate_pages pages_left=%llu elapsed_ms=%llu longest_stall_ms=%llu\n",
               (unsigned long long)left, (unsigned long long)ms, (unsigned long long)ms);
        status = NP_EXIT_OK;
        goto out;
    }
    np_linux_move_stats total = {0};
    unsigned k = 0;
    int target = np_bitmap_next(to, 0);
    for (int src = np_bitmap_next(from, 0); src >= 0;
         src = np_bitmap_next(from, (unsigned)src + 1)) {
        if (np_bitmap_test(to, (unsigned)src))
            continue;
        np_linux_move_opts mo = {.now_ns = np_linux_clock_now_ns,
                                 .sleep_ns = np_linux_clock_sleep_ns,
                                 .budget_bytes_per_s = budget,
                                 .filter = shared ? NP_LINUX_MAPS_WRITABLE : NP_LINUX_MAPS_ANON};
        np_bitmap_zero(one);
        np_bitmap_set(one, (unsigned)src);
        rc = np_linux_mover_create(ctx, pid, one, (unsigned)target, &mo, &mv);
        uint64_t last_print = t0;
        bool done = false;
        while (!rc && !done) {
            uint64_t next_at = 0;
            rc = np_linux_mover_step(mv, &done, &next_at);
            if (rc == -EAGAIN) {
                uint64_t now = np_linux_clock_now_ns(NULL);
                if (next_at > now)
                    np_linux_clock_sleep_ns(NULL, next_at - now);
                rc = 0;
                continue;
            }
            const np_linux_move_stats *st = np_linux_mover_stats(mv);
            uint64_t now = np_linux_clock_now_ns(NULL);
            if (!quiet && (done || now - last_print >= PROGRESS_EVERY_NS)) {
                char b[32];
                fprintf(stderr, "numaplace: node %d -> %d: moved %s (%llu pages), %llu batches\n",
                        src, target, cli_bytes(st->bytes_moved, b, sizeof(b)),
                        (unsigned long long)st->pages_moved, (unsigned long long)st->batches);
                last_print = now;
            }
        }
        if (mv) {
            const np_linux_move_stats *st = np_linux_mover_stats(mv);
            total.pages_moved += st->pages_moved;
            total.bytes_moved += st->bytes_moved;
            total.pages_failed += st->pages_failed;
            total.huge_pages_moved += st->huge_pages_moved;
            total.pages_retried += st->pages_retried;
            if (st->longest_step_bytes > total.longest_step_bytes)
                total.longest_step_bytes = st->longest_step_bytes;
            total.batches += st->batches;
            total.busy_ns += st->busy_ns;
            if (st->longest_batch_ns > total.longest_batch_ns)
                total.longest_batch_ns = st->longest_batch_ns;
            np_linux_mover_destroy(mv);
            mv = NULL;
        }
        if (rc)
            break;
        target = np_bitmap_next(to, (unsigned)target + 1);
        if (target < 0)
            target = np_bitmap_next(to, 0);
        k++;
    }
    uint64_t ms = (np_linux_clock_now_ns(NULL) - t0) / 1000000;
    printf("method=move_pages moved_pages=%llu moved_bytes=%llu huge_pages=%llu failed=%llu "
           "retried=%llu batches=%llu longest_step_bytes=%llu "
           "longest_batch_us=%llu busy_ms=%llu elapsed_ms=%llu\n",
           (unsigned long long)total.pages_moved, (unsigned long long)total.bytes_moved,
           (unsigned long long)total.huge_pages_moved, (unsigned long long)total.pages_failed,
           (unsigned long long)total.pages_retried, (unsigned long long)total.batches,
           (unsigned long long)total.longest_step_bytes,
           (unsigned long long)(total.longest_batch_ns / 1000),
           (unsigned long long)(total.busy_ns / 1000000), (unsigned long long)ms);
    if (rc == -ESRCH) {
        cli_errorf("migrate: process %d exited during the migration", (int)pid);
        status = NP_EXIT_FAIL;
        goto out;
    }
    if (rc == -ENOSPC) {
        cli_errorf("migrate: node %d has no free huge page of the size the next page needs: "
                   "see /sys/devices/system/node/node%d/hugepages/hugepages-*/free_hugepages "
                   "and grow nr_hugepages there",
                   target, target);
        status = NP_EXIT_FAIL;
        goto out;
    }
    if (rc)
        goto fail;
    (void)k;
    status = NP_EXIT_OK;
    goto out;
fail:
    cli_errorf("migrate: %s", np_strerror(rc));
    status = rc == -EPERM || rc == -EOPNOTSUPP ? NP_EXIT_FAIL : cli_exit_status(rc);
out:
    np_linux_mover_destroy(mv);
    np_bitmap_destroy(to);
    np_bitmap_destroy(from);
    np_bitmap_destroy(one);
    np_bitmap_destroy(online);
    np_linux_ctx_destroy(ctx);
    return status;
}

const np_cli_cmd np_cmd_migrate = {
    .name = "migrate",
    .summary = "move a process's memory to nodes in short rate-limited batches",
    .run = run,
    .usage = usage,
};
