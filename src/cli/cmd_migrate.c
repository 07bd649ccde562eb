/*
 * cli/cmd_migrate.c - `numaplace migrate PID --to NODES`: the chunked,
 * rate-limited mover of the Linux layer by hand, with progress on stderr
 * and a key=value summary on stdout. Memory on nodes outside NODES moves to
 * them (each source node to one target, taken in turn); --whole uses one
 * migrate_pages(2) call instead (blocks the process until done).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
            "  --shared       also writable shared and file mappings (memfd guest RAM)\n"
            "  --quiet        no progress lines\n");
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"to", required_argument, NULL, 't'},     {"from", required_argument, NULL, 'f'},
        {"budget", required_argument, NULL, 'b'}, {"whole", no_argument, NULL, 'w'},
        {"shared", no_argument, NULL, 'S'},       {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *to_arg = NULL, *from_arg = NULL;
    uint64_t budget = 0, pid64 = 0;
    bool whole = false, quiet = false, shared = false;
    np_linux_ctx *ctx = NULL;
    np_bitmap *to = NULL, *from = NULL, *online = NULL, *one = NULL;
    np_linux_mover *mv = NULL;
    int c, rc = 0, status = NP_EXIT_INTERNAL;

    optind = 1;
    while ((c = getopt_long(argc, argv, "t:f:b:wSqh", opts, NULL)) != -1) {
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
        case 'h': usage(stdout); return NP_EXIT_OK;
        default: usage(stderr); return NP_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc || !to_arg) {
        cli_errorf("migrate: expected PID and --to NODES");
        return NP_EXIT_USAGE;
    }
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
    printf("method=move_pages moved_pages=%llu moved_bytes=%llu failed=%llu batches=%llu "
           "longest_batch_us=%llu busy_ms=%llu elapsed_ms=%llu\n",
           (unsigned long long)total.pages_moved, (unsigned long long)total.bytes_moved,
           (unsigned long long)total.pages_failed, (unsigned long long)total.batches,
           (unsigned long long)(total.longest_batch_ns / 1000),
           (unsigned long long)(total.busy_ns / 1000000), (unsigned long long)ms);
    if (rc == -ESRCH) {
        cli_errorf("migrate: process %d exited during the migration", (int)pid);
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
