/*
 * linux/mover.c - chunked, rate-limited memory migration with move_pages(2).
 *
 * Why not one migrate_pages(2): it moves everything in one call that holds
 * the target's mmap lock and does not return until done - numad's
 * "moved to node(s) 1 in 51.83 seconds" in the lab was one such stretch.
 * katalyst switched to move_pages in chunks of about 20 ms and reports the
 * blocking "dropped from minutes to milliseconds" (anchors.md section 3).
 *
 * How: the mover reads /proc/PID/maps once, then each step takes the next
 * `batch` page addresses of the chosen mappings (anonymous private ones by
 * default: QEMU's guest RAM; only present pages where the kernel has
 * PAGEMAP_SCAN, see pagewalk.c), asks move_pages for their nodes (nodes=NULL),
 * and moves only those on a source node to the target with a second
 * move_pages call. A step is timed with the caller's clock and judged on
 * its time per page (projected to a full batch): after two steps in a row
 * over the target (20 ms) the batch is halved, down to a floor of 512
 * pages, and it grows back (up to the configured size) while steps stay
 * under a quarter of it.
 *
 * A mover stopped by max_bytes can go on (np_linux_mover_continue) from
 * where its walk stopped: a daemon migrating in steps keeps one mover per
 * guest, so each address is looked at once per migration, not once per
 * step. When max_bytes cuts a batch, the walk rewinds to the first source
 * page left over, so continuing skips nothing.
 * The byte budget paces steps: after moving B bytes the next step may
 * start B/budget seconds after this one's start (np_linux_pace_next_ns),
 * which the caller learns from next_at_ns and sleeps for - the mover never
 * sleeps or reads a clock by itself.
 *
 * Pages that fail are counted by cause (status of the move call): -EBUSY
 * (locked, under IO, pinned by DMA/vfio), -ENOMEM (target node full),
 * -EFAULT/-EACCES (gone, or shared with another process: needs move_all),
 * others. A process that exits midway ends the migration with -ESRCH.
 *
 * Worked example: 1 GiB on node 0 of a 2-node host, to node 1, budget
 * 256 MiB/s, batch 4096 pages (16 MiB): 64 steps, each allowed 62.5 ms
 * after the previous one's start, so about 4 s in total and no step
 * longer than the time to move 16 MiB.
 */
#include "linux/linux_internal.h"

#include <errno.h>
#include <numaif.h>
#include <stdlib.h>
#include <string.h>

#define SUBSYS "linux/move"
/* Largest batch accepted: 2^18 pages (1 GiB of 4 KiB pages; the arrays cost
 * 40 bytes a page). Far above any batch that stays near 20 ms. */
#define NP_LINUX_MOVE_BATCH_PAGES_MAX (1u << 18)

struct np_linux_mover {
    np_linux_ctx *ctx;
    pid_t pid;
    np_bitmap *from;          /* NULL: every node but `to` */
    unsigned to;
    np_linux_move_opts opts;
    uint32_t batch_max;
    np_linux_walk walk;       /* the page addresses still to look at */
    bool walk_open;
    void **pages;             /* batch_max entries each */
    unsigned char *anon;
    int *status;
    void **move_pages_arr;
    int *move_nodes;
    int *move_status;
    uint64_t next_at_ns;
    uint32_t min_batch;       /* floor of the halving */
    uint32_t over_streak;     /* batches over the target in a row */
    uint64_t seg_base_bytes;  /* bytes_moved when the current max_bytes began */
    bool walk_ended;          /* every address looked at once (or the process exited) */
    bool done;                /* walk ended, or max_bytes reached */
    np_linux_move_stats stats;
};

uint64_t np_linux_pace_next_ns(uint64_t budget_bytes_per_s, uint64_t prev_next_ns,
                               uint64_t start_ns, uint64_t bytes)
{
    if (budget_bytes_per_s == 0)
        return start_ns;
    uint64_t base = prev_next_ns > start_ns ? prev_next_ns : start_ns;
    /* bytes * 1e9 / budget without overflow: whole seconds in integers,
     * the remainder (under one second) in double, exact to the ns. */
    const uint64_t ns_per_s = 1000000000u;
    uint64_t secs = bytes / budget_bytes_per_s;
    uint64_t rest = bytes % budget_bytes_per_s;
    if (secs > (UINT64_MAX - base) / ns_per_s)
        return UINT64_MAX;
    uint64_t rest_ns = (uint64_t)((double)rest * (double)ns_per_s / (double)budget_bytes_per_s);
    uint64_t wait = secs * ns_per_s + rest_ns;
    return wait > UINT64_MAX - base ? UINT64_MAX : base + wait;
}

void np_linux_mover_destroy(np_linux_mover *mv)
{
    if (!mv)
        return;
    np_bitmap_destroy(mv->from);
    if (mv->walk_open)
        np_linux_walk_fini(&mv->walk);
    free(mv->pages);
    free(mv->anon);
    free(mv->status);
    free(mv->move_pages_arr);
    free(mv->move_nodes);
    free(mv->move_status);
    free(mv);
}

int np_linux_mover_create(np_linux_ctx *ctx, pid_t pid, const np_bitmap *from, unsigned to,
                          const np_linux_move_opts *opts, np_linux_mover **out)
{
    np_linux_mover *mv = NULL;
    int rc;

    if (!ctx || !opts || !opts->now_ns || !out || pid <= 0 || to > NP_LINUX_NODE_MAX_OS_ID)
        return -EINVAL;
    if (opts->batch_pages > NP_LINUX_MOVE_BATCH_PAGES_MAX)
        return -EINVAL;
    if (opts->filter != NP_LINUX_MAPS_ANON && opts->filter != NP_LINUX_MAPS_WRITABLE &&
        opts->filter != NP_LINUX_MAPS_ALL)
        return -EINVAL;
    if (from && (np_bitmap_is_empty(from) || (np_bitmap_test(from, to) &&
                                              np_bitmap_count(from) == 1)))
        return -EINVAL; /* nothing could ever move */
    if (!ctx->sys_ok)
        return -EOPNOTSUPP;
    mv = calloc(1, sizeof(*mv));
    if (!mv)
        return -ENOMEM;
    mv->ctx = ctx;
    mv->pid = pid;
    mv->to = to;
    mv->opts = *opts;
    if (!mv->opts.target_batch_ns)
        mv->opts.target_batch_ns = NP_LINUX_MOVE_TARGET_BATCH_NS;
    mv->batch_max = opts->batch_pages ? opts->batch_pages : NP_LINUX_MOVE_BATCH_PAGES;
    mv->stats.batch_pages_now = mv->batch_max;
    mv->min_batch = opts->min_batch_pages ? opts->min_batch_pages : NP_LINUX_MOVE_MIN_BATCH_PAGES;
    if (from) {
        rc = np_bitmap_copy(from, &mv->from);
        if (rc < 0)
            goto out;
    }
    rc = np_linux_walk_init(&mv->walk, ctx, pid, mv->opts.filter);
    if (rc < 0)
        goto out;
    mv->walk_open = true;
    mv->walk_ended = mv->done = mv->walk.nr_ranges == 0;
    size_t n = mv->batch_max;
    mv->pages = malloc(n * sizeof(*mv->pages));
    mv->anon = malloc(n);
    mv->status = malloc(n * sizeof(*mv->status));
    mv->move_pages_arr = malloc(n * sizeof(*mv->move_pages_arr));
    mv->move_nodes = malloc(n * sizeof(*mv->move_nodes));
    mv->move_status = malloc(n * sizeof(*mv->move_status));
    if (!mv->pages || !mv->anon || !mv->status || !mv->move_pages_arr || !mv->move_nodes ||
        !mv->move_status) {
        rc = -ENOMEM;
        goto out;
    }
    *out = mv;
    mv = NULL;
out:
    np_linux_mover_destroy(mv);
    return rc;
}

const np_linux_move_stats *np_linux_mover_stats(const np_linux_mover *mv)
{
    return mv ? &mv->stats : NULL;
}

static bool on_source(const np_linux_mover *mv, int node)
{
    if (node < 0 || (unsigned)node == mv->to)
        return false;
    return mv->from ? np_bitmap_test(mv->from, (unsigned)node) : true;
}

/* A failed system call: the process gone (or a zombie without memory)
 * becomes -ESRCH and ends the mover. */
static int call_failed(np_linux_mover *mv, long r)
{
    int rc = (int)r;
    if (rc == -EINVAL && np_linux_pid_gone(mv->ctx, mv->pid))
        rc = -ESRCH;
    if (rc == -ESRCH) {
        mv->walk_ended = mv->done = true;
        np_linux_log(mv->ctx, NP_LOG_INFO, SUBSYS,
                     "pid %d exited during migration; stopped after %llu pages moved",
                     (int)mv->pid, (unsigned long long)mv->stats.pages_moved);
    } else {
        np_linux_log(mv->ctx, NP_LOG_WARNING, SUBSYS, "move_pages(%d): %s", (int)mv->pid,
                     np_strerror(rc));
    }
    return rc;
}

static void count_move_status(np_linux_mover *mv, int s)
{
    np_linux_move_stats *st = &mv->stats;
    if (s >= 0 && (unsigned)s == mv->to) {
        st->pages_moved++;
        st->bytes_moved += mv->ctx->page_size;
        return;
    }
    st->pages_failed++;
    if (s == -EBUSY)
        st->pages_busy++;
    else if (s == -ENOMEM)
        st->pages_nomem++;
    else if (s == -EFAULT || s == -EACCES)
        st->pages_fault++;
    else
        st->pages_other++;
}

/* Keeps batches near the target duration, judged on time per page: the
 * duration projected to a full batch (dur * batch / pages looked at, so a
 * short last batch is not taken for a fast one). Halve only after
 * NP_LINUX_MOVE_HALVE_AFTER projections over the target in a row: one slow
 * batch is noise (on the TCG test guest a 64-page batch took 521 ms where
 * its neighbours took 2 ms, docs/results-linux.md), and halving on noise
 * only multiplies the batches. Grow back while well under the target. */
static void adapt_batch(np_linux_mover *mv, uint64_t dur, size_t n)
{
    np_linux_move_stats *st = &mv->stats;
    uint32_t b = st->batch_pages_now;
    uint32_t floor = mv->min_batch < mv->batch_max ? mv->min_batch : mv->batch_max;

    if (n == 0)
        return;
    uint64_t projected = n >= b ? dur : (uint64_t)((double)dur * (double)b / (double)n);

    if (projected > mv->opts.target_batch_ns) {
        if (++mv->over_streak >= NP_LINUX_MOVE_HALVE_AFTER && b / 2 >= floor) {
            st->batch_pages_now = b / 2;
            mv->over_streak = 0;
        }
        return;
    }
    mv->over_streak = 0;
    if (projected < mv->opts.target_batch_ns / 4 && b < mv->batch_max)
        st->batch_pages_now = b * 2 > mv->batch_max ? mv->batch_max : b * 2;
}

int np_linux_mover_step(np_linux_mover *mv, bool *done_out, uint64_t *next_at_ns_out)
{
    np_linux_ctx *ctx;
    np_linux_move_stats *st;
    size_t n, m = 0;
    long r;
    int rc;

    if (!mv || !done_out || !next_at_ns_out)
        return -EINVAL;
    ctx = mv->ctx;
    st = &mv->stats;
    *next_at_ns_out = mv->next_at_ns;
    *done_out = mv->done;
    if (mv->done)
        return 0;
    uint64_t t0 = mv->opts.now_ns(mv->opts.clock_opaque);
    if (t0 < mv->next_at_ns)
        return -EAGAIN;

    /* A failed call (other than the process exiting) leaves the cursor
     * where it was, so a later step retries the same pages. */
    np_linux_walk_pos saved = np_linux_walk_tell(&mv->walk);
    long got = np_linux_walk_next(&mv->walk, mv->pages, mv->anon, st->batch_pages_now);
    if (got < 0)
        return (int)got;
    n = (size_t)got;
    if (n == 0) {
        mv->walk_ended = mv->done = true;
        *done_out = true;
        return 0;
    }
    r = ctx->sys.move_pages(ctx->sys.opaque, mv->pid, n, mv->pages, NULL, mv->status, 0);
    if (r < 0)
        goto failed;
    st->pages_queried += n;

    /* Choose the pages on a source node, no more than max_bytes allows. The
     * first source page over the limit is where the walk resumes (a later
     * np_linux_mover_continue), so no page is skipped. */
    uint64_t limit = UINT64_MAX, seg_bytes = st->bytes_moved - mv->seg_base_bytes;
    bool cut = false;
    if (mv->opts.max_bytes)
        limit = mv->opts.max_bytes > seg_bytes
                    ? (mv->opts.max_bytes - seg_bytes + ctx->page_size - 1) / ctx->page_size
                    : 0;
    for (size_t i = 0; i < n; i++) {
        if (mv->status[i] == -ENOENT || mv->status[i] == -EFAULT)
            st->pages_absent++; /* not present, or the shared zero page */
        if (!on_source(mv, mv->status[i]))
            continue;
        if (m >= limit) {
            st->pages_queried -= n - i; /* queried again after the rewind */
            np_linux_walk_seek_addr(&mv->walk, (uint64_t)(uintptr_t)mv->pages[i]);
            n = i; /* the pages this batch dealt with */
            cut = true;
            break;
        }
        mv->move_pages_arr[m] = mv->pages[i];
        mv->move_nodes[m] = (int)mv->to;
        m++;
    }
    st->pages_on_source += m;
    if (m > 0) {
        int flags = mv->opts.move_all ? MPOL_MF_MOVE_ALL : MPOL_MF_MOVE;
        r = ctx->sys.move_pages(ctx->sys.opaque, mv->pid, m, mv->move_pages_arr, mv->move_nodes,
                                mv->move_status, flags);
        if (r < 0)
            goto failed;
        /* r > 0 is the number of pages the kernel did not move; the status
         * array says which and why. */
        for (size_t i = 0; i < m; i++)
            count_move_status(mv, mv->move_status[i]);
    }

    uint64_t t1 = mv->opts.now_ns(mv->opts.clock_opaque);
    uint64_t dur = t1 > t0 ? t1 - t0 : 0;
    st->batches++;
    st->busy_ns += dur;
    if (dur > st->longest_batch_ns)
        st->longest_batch_ns = dur;
    adapt_batch(mv, dur, n);

    uint64_t batch_bytes = (uint64_t)m * ctx->page_size;
    mv->next_at_ns = np_linux_pace_next_ns(mv->opts.budget_bytes_per_s, mv->next_at_ns, t0,
                                           batch_bytes);
    if (!cut && np_linux_walk_at_end(&mv->walk))
        mv->walk_ended = mv->done = true;
    if (mv->opts.max_bytes && st->bytes_moved - mv->seg_base_bytes >= mv->opts.max_bytes)
        mv->done = true;
    *done_out = mv->done;
    *next_at_ns_out = mv->next_at_ns;
    return 0;

failed:
    rc = call_failed(mv, r);
    if (!mv->done)
        np_linux_walk_seek(&mv->walk, saved);
    *done_out = mv->done;
    return rc;
}

int np_linux_mover_continue(np_linux_mover *mv, uint64_t max_bytes)
{
    if (!mv)
        return -EINVAL;
    if (mv->walk_ended)
        return -ENODATA;
    mv->seg_base_bytes = mv->stats.bytes_moved;
    mv->opts.max_bytes = max_bytes;
    mv->done = false;
    return 0;
}

int np_linux_mover_run(np_linux_mover *mv)
{
    if (!mv || !mv->opts.sleep_ns)
        return -EINVAL;
    for (;;) {
        bool done = false;
        uint64_t next = 0;
        int rc = np_linux_mover_step(mv, &done, &next);
        if (rc < 0 && rc != -EAGAIN)
            return rc;
        if (done)
            return 0;
        uint64_t now = mv->opts.now_ns(mv->opts.clock_opaque);
        if (next > now)
            mv->opts.sleep_ns(mv->opts.clock_opaque, next - now);
    }
}

int np_linux_move_pages_chunked(np_linux_ctx *ctx, pid_t pid, const np_bitmap *from, unsigned to,
                                const np_linux_move_opts *opts, np_linux_move_stats *stats_out)
{
    np_linux_mover *mv = NULL;
    int rc = np_linux_mover_create(ctx, pid, from, to, opts, &mv);
    if (rc < 0)
        return rc;
    rc = np_linux_mover_run(mv);
    if (stats_out)
        *stats_out = mv->stats;
    np_linux_log(ctx, NP_LOG_INFO, SUBSYS,
                 "pid %d: %llu pages moved to node %u, %llu failed, %llu batches, longest %llu us",
                 (int)pid, (unsigned long long)mv->stats.pages_moved, to,
                 (unsigned long long)mv->stats.pages_failed, (unsigned long long)mv->stats.batches,
                 (unsigned long long)(mv->stats.longest_batch_ns / 1000));
    np_linux_mover_destroy(mv);
    return rc;
}
