/*
 * linux/mover.c - chunked, rate-limited memory migration with move_pages(2).
 *
 * Why not one migrate_pages(2): it moves everything in one call that holds
 * the target's mmap lock and does not return until done - numad's
 * "moved to node(s) 1 in 51.83 seconds" in the lab was one such stretch.
 * katalyst switched to move_pages in chunks of about 20 ms and reports the
 * blocking "dropped from minutes to milliseconds" (anchors.md section 3).
 *
 * How: the mover reads /proc/PID/maps (and smaps, for each mapping's page
 * size) once, then each step takes the next page addresses of the chosen
 * mappings - one per page of the mapping's size, so a hugetlb page is one
 * head address; anonymous private mappings and anonymous hugetlb by
 * default: QEMU's guest RAM; only present pages where the kernel has
 * PAGEMAP_SCAN, see pagewalk.c - up to the batch's bytes (batch_pages base
 * pages' worth, never less than one page), asks move_pages for their nodes
 * (nodes=NULL), moves those on a source node to the target with a second
 * move_pages call (hugetlb pages one per call; an aligned THP block by one
 * address), and asks again where they are: only that last answer is
 * counted, by each page's size, because Linux 6.1 stops a move call at the
 * first failed page and leaves later status entries unwritten. Status
 * arrays start from a sentinel. Pages still on a source node for a passing
 * cause (-EBUSY, -EAGAIN, not reached) go to a retry queue that the next
 * steps take first, with a growing pause, up to NP_LINUX_MOVE_TRIES tries.
 * Hugetlb pages move only while the target node's pool of their size has
 * free pages (read before each step); with none, -ENOSPC.
 * A step is timed with the caller's clock and judged on
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
 * Quiesced steps (opts.quiesce, linux.h): the move calls of a step run
 * between the caller's stop and resume of the process, because Linux 6.1
 * flushes the TLB of every CPU running it once per page it moves, which
 * cost 15-17 ms a page on the TCG test guest while the process wrote and
 * 70-100 us with it stopped. Only the move calls are inside: the query
 * before and the check after unmap nothing. A quiesced step takes as many
 * base pages as fit in 3/4 of quiesce_max_ns at the stopped cost measured
 * so far (a moving average), and the next step waits quiesce_gap_ns after
 * the resume. Auto first moves NP_LINUX_QUIESCE_PROBE_PAGES beside the
 * running process and quiesces while that cost exceeds
 * NP_LINUX_QUIESCE_AUTO_NS_PER_PAGE, probing again every
 * NP_LINUX_QUIESCE_REPROBE_STEPS quiesced steps. Neither quiesced steps
 * nor probes change the batch size of unquiesced ones.
 *
 * Pages that fail are counted by cause (status of the move call): -EBUSY
 * and -EAGAIN after their retries (locked, under IO, being written, pinned
 * by DMA/vfio), -ENOMEM (target node full),
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
#include <limits.h>
#include <numaif.h>
#include <stdlib.h>
#include <string.h>

#define SUBSYS "linux/move"
/* Largest batch accepted: 2^18 pages (1 GiB of 4 KiB pages; the arrays cost
 * 40 bytes a page). Far above any batch that stays near 20 ms. */
#define NP_LINUX_MOVE_BATCH_PAGES_MAX (1u << 18)
/* What a status entry holds before the kernel writes it: no node and no
 * errno the kernel uses, so an entry it left unwritten is never taken for
 * an answer. */
#define NP_LINUX_STATUS_UNSET INT_MIN

struct np_linux_mover {
    np_linux_ctx *ctx;
    pid_t pid;
    np_bitmap *from; /* NULL: every node but `to` */
    unsigned to;
    np_linux_move_opts opts;
    uint32_t batch_max;
    np_linux_walk walk; /* the page addresses still to look at */
    bool walk_open;
    /* The batch (batch_max entries each): retried pages first, then the
     * walk's; per entry its head address, flags, page size, tries so far,
     * node status, and the move entry that carries it (-1: not moved). */
    void **pages;
    unsigned char *flags;
    uint64_t *sizes;
    unsigned char *tries;
    int *status;
    long *unit;
    /* The move call: head addresses, target nodes, statuses, batch index. */
    void **move_pages_arr;
    int *move_nodes;
    int *move_status;
    size_t *move_of;
    /* The query after the move (every moved entry, tails of THP blocks too). */
    void **check_pages;
    int *check_status;
    size_t *check_of;
    /* Pages to try again (-EBUSY/-EAGAIN, not reached by a call that
     * stopped early): up to batch_max, taken first by the next step. */
    void **rq_pages;
    unsigned char *rq_flags;
    uint64_t *rq_sizes;
    unsigned char *rq_tries;
    size_t rq_n;
    uint64_t next_at_ns;
    uint32_t min_batch;      /* floor of the halving */
    uint32_t over_streak;    /* batches over the target in a row */
    uint64_t seg_base_bytes; /* bytes_moved when the current max_bytes began */
    /* Quiesced steps: base pages a quiesced step takes, the last fit of
     * their stopped cost (fit_quiet_cost; kept while the samples have one
     * size only), quiesced steps since the last unquiesced probe (auto). */
    uint32_t quiet_pages;
    /* The last NP_LINUX_QUIESCE_FIT_SAMPLES quiesced steps (a ring):
     * base pages moved and the move calls' time. */
    uint64_t quiet_pages_tab[NP_LINUX_QUIESCE_FIT_SAMPLES];
    uint64_t quiet_ns_tab[NP_LINUX_QUIESCE_FIT_SAMPLES];
    size_t quiet_nr;
    bool quiet_fitted;
    double quiet_fixed_ns, quiet_per_page_ns;
    uint32_t since_probe;
    uint32_t stop_fails; /* stop calls in a row that said -EAGAIN */
    bool walk_ended;         /* every address looked at once (or the process exited) */
    bool done;               /* walk ended, or max_bytes reached */
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
    free(mv->flags);
    free(mv->sizes);
    free(mv->tries);
    free(mv->status);
    free(mv->unit);
    free(mv->move_pages_arr);
    free(mv->move_nodes);
    free(mv->move_status);
    free(mv->move_of);
    free(mv->check_pages);
    free(mv->check_status);
    free(mv->check_of);
    free(mv->rq_pages);
    free(mv->rq_flags);
    free(mv->rq_sizes);
    free(mv->rq_tries);
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
    if (from &&
        (np_bitmap_is_empty(from) || (np_bitmap_test(from, to) && np_bitmap_count(from) == 1)))
        return -EINVAL; /* nothing could ever move */
    if (opts->quiesce != NP_LINUX_QUIESCE_NEVER && opts->quiesce != NP_LINUX_QUIESCE_AUTO &&
        opts->quiesce != NP_LINUX_QUIESCE_ALWAYS)
        return -EINVAL;
    if (opts->quiesce != NP_LINUX_QUIESCE_NEVER && !opts->quiesce_fn)
        return -EINVAL;
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
    if (!mv->opts.quiesce_max_ns)
        mv->opts.quiesce_max_ns = NP_LINUX_QUIESCE_MAX_NS;
    if (!mv->opts.quiesce_gap_ns)
        mv->opts.quiesce_gap_ns = NP_LINUX_QUIESCE_GAP_NS;
    mv->batch_max = opts->batch_pages ? opts->batch_pages : NP_LINUX_MOVE_BATCH_PAGES;
    mv->stats.batch_pages_now = mv->batch_max;
    mv->min_batch = opts->min_batch_pages ? opts->min_batch_pages : NP_LINUX_MOVE_MIN_BATCH_PAGES;
    mv->quiet_pages = NP_LINUX_QUIESCE_FIRST_PAGES < mv->batch_max ? NP_LINUX_QUIESCE_FIRST_PAGES
                                                                   : mv->batch_max;
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
    mv->flags = malloc(n);
    mv->sizes = malloc(n * sizeof(*mv->sizes));
    mv->tries = malloc(n);
    mv->status = malloc(n * sizeof(*mv->status));
    mv->unit = malloc(n * sizeof(*mv->unit));
    mv->move_pages_arr = malloc(n * sizeof(*mv->move_pages_arr));
    mv->move_nodes = malloc(n * sizeof(*mv->move_nodes));
    mv->move_status = malloc(n * sizeof(*mv->move_status));
    mv->move_of = malloc(n * sizeof(*mv->move_of));
    mv->check_pages = malloc(n * sizeof(*mv->check_pages));
    mv->check_status = malloc(n * sizeof(*mv->check_status));
    mv->check_of = malloc(n * sizeof(*mv->check_of));
    mv->rq_pages = malloc(n * sizeof(*mv->rq_pages));
    mv->rq_flags = malloc(n);
    mv->rq_sizes = malloc(n * sizeof(*mv->rq_sizes));
    mv->rq_tries = malloc(n);
    if (!mv->pages || !mv->flags || !mv->sizes || !mv->tries || !mv->status || !mv->unit ||
        !mv->move_pages_arr || !mv->move_nodes || !mv->move_status || !mv->move_of ||
        !mv->check_pages || !mv->check_status || !mv->check_of || !mv->rq_pages || !mv->rq_flags ||
        !mv->rq_sizes || !mv->rq_tries) {
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
                     "pid %d exited during migration; stopped after %llu pages moved", (int)mv->pid,
                     (unsigned long long)mv->stats.pages_moved);
    } else {
        np_linux_log(mv->ctx, NP_LOG_WARNING, SUBSYS, "move_pages(%d): %s", (int)mv->pid,
                     np_strerror(rc));
    }
    return rc;
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

/* A page that stays on its source node after a move: tried again in a
 * later step when the cause may pass, else counted as failed by cause.
 * `s` is the move call's status for the page's head (NP_LINUX_STATUS_UNSET
 * when the call did not get to it). */
static void page_not_moved(np_linux_mover *mv, size_t i, int s, bool call_failed)
{
    np_linux_move_stats *st = &mv->stats;
    bool transient = call_failed || s == NP_LINUX_STATUS_UNSET || s == -EBUSY || s == -EAGAIN ||
                     s >= 0; /* s >= 0: a THP block's tail, or a page that raced back */
    if (transient && mv->tries[i] + 1u < NP_LINUX_MOVE_TRIES && mv->rq_n < mv->batch_max) {
        size_t q = mv->rq_n++;
        mv->rq_pages[q] = mv->pages[i];
        mv->rq_flags[q] = mv->flags[i];
        mv->rq_sizes[q] = mv->sizes[i];
        mv->rq_tries[q] = (unsigned char)(mv->tries[i] + 1u);
        st->pages_retried++;
        return;
    }
    st->pages_failed++;
    if (transient)
        st->pages_busy++;
    else if (s == -ENOMEM)
        st->pages_nomem++;
    else if (s == -EFAULT || s == -EACCES)
        st->pages_fault++;
    else
        st->pages_other++;
}

/* Room in the target's hugetlb pool for pages of `bytes`, counting those
 * this step already chose; 0 and a log line when there is none. */
typedef struct pool_use {
    uint64_t page_bytes;
    uint64_t free_pages;
    uint64_t used;
} pool_use;
#define MOVER_POOL_SIZES 4u /* page sizes tracked per step (x86-64 has 2) */

static bool pool_room(np_linux_mover *mv, pool_use *pools, size_t *nr_pools, uint64_t bytes,
                      int *rc_out)
{
    size_t k = 0;
    while (k < *nr_pools && pools[k].page_bytes != bytes)
        k++;
    if (k == *nr_pools) {
        np_linux_hugepool hp = {0};
        np_error err = {0};
        if (k == MOVER_POOL_SIZES) {
            *rc_out = -ENOSPC;
            return false;
        }
        int r = np_linux_hugepool_read_err(mv->ctx, mv->to, bytes, &hp, &err);
        if (r < 0) {
            char msg[800];
            np_linux_log(mv->ctx, NP_LOG_WARNING, SUBSYS,
                         "pid %d: cannot read node %u's pool of %llu kB huge pages: %s",
                         (int)mv->pid, mv->to, (unsigned long long)(bytes / 1024),
                         err.msg[0] ? np_error_format(&err, msg, sizeof(msg)) : np_strerror(r));
            hp.free_pages = 0;
        }
        pools[k] = (pool_use){.page_bytes = bytes, .free_pages = hp.free_pages};
        (*nr_pools)++;
    }
    if (pools[k].used < pools[k].free_pages) {
        pools[k].used++;
        return true;
    }
    *rc_out = -ENOSPC;
    return false;
}

/* Pages an aligned THP block of entry i spans when the batch holds all of
 * them, consecutive and on one node (then one head address moves the
 * block); 1 otherwise. */
static size_t thp_block(const np_linux_mover *mv, size_t i, size_t n)
{
    uint64_t base = mv->ctx->page_size, thp = mv->walk.thp_bytes;
    uint64_t addr = (uint64_t)(uintptr_t)mv->pages[i];
    if (!(mv->flags[i] & NP_LINUX_WALK_THP) || mv->sizes[i] != base || thp <= base ||
        addr % thp != 0)
        return 1;
    size_t per = (size_t)(thp / base);
    if (i + per > n)
        return 1;
    for (size_t j = 1; j < per; j++)
        if ((uint64_t)(uintptr_t)mv->pages[i + j] != addr + j * base ||
            mv->status[i + j] != mv->status[i] || mv->sizes[i + j] != base)
            return 1;
    return per;
}

/* Puts batch entries [from, to) of retried pages back in the queue. */
static void requeue(np_linux_mover *mv, size_t from, size_t to)
{
    for (size_t i = from; i < to && mv->rq_n < mv->batch_max; i++) {
        size_t q = mv->rq_n++;
        mv->rq_pages[q] = mv->pages[i];
        mv->rq_flags[q] = mv->flags[i];
        mv->rq_sizes[q] = mv->sizes[i];
        mv->rq_tries[q] = mv->tries[i];
    }
}

/* Whether this step's move calls run with the process stopped, and how
 * many base pages the step may take (*want, lowered for a quiesced step or
 * auto's probe). */
static bool plan_quiesce(np_linux_mover *mv, uint32_t *want, bool *probe_out)
{
    const np_linux_move_stats *st = &mv->stats;
    bool quiesce = false;

    *probe_out = false;
    if (mv->opts.quiesce == NP_LINUX_QUIESCE_ALWAYS) {
        quiesce = true;
    } else if (mv->opts.quiesce == NP_LINUX_QUIESCE_AUTO) {
        if (st->live_ns_per_page == 0 || mv->since_probe >= NP_LINUX_QUIESCE_REPROBE_STEPS)
            *probe_out = true;
        else
            quiesce = st->live_ns_per_page > NP_LINUX_QUIESCE_AUTO_NS_PER_PAGE;
    }
    if (*probe_out && *want > NP_LINUX_QUIESCE_PROBE_PAGES)
        *want = NP_LINUX_QUIESCE_PROBE_PAGES;
    if (quiesce && *want > mv->quiet_pages)
        *want = mv->quiet_pages;
    return quiesce;
}

/* The stopped cost of a quiesced step's move calls, fitted on its recent
 * steps by least squares as fixed_ns + per_page_ns x base pages. Why two
 * terms: in the unpinned VM test (other guests writing on the other vCPUs)
 * a stopped call cost about 138 ms whatever its size plus 0.46 ms a page
 * (docs/results-linux.md) - most likely each move call first draining every
 * CPU's LRU caches (lru_cache_disable), a cost per call. Judged on time per
 * page alone, such calls shrink the steps until only the fixed cost is
 * left. false when the samples do not have two sizes yet (or fit a cost
 * that falls with size): then only the mean per page is known. */
static bool fit_quiet_cost(const np_linux_mover *mv, double *fixed_ns, double *per_page_ns)
{
    size_t n = mv->quiet_nr < NP_LINUX_QUIESCE_FIT_SAMPLES ? mv->quiet_nr
                                                          : NP_LINUX_QUIESCE_FIT_SAMPLES;
    double sp = 0, st = 0, spp = 0, spt = 0;
    for (size_t i = 0; i < n; i++) {
        double p = (double)mv->quiet_pages_tab[i], t = (double)mv->quiet_ns_tab[i];
        sp += p;
        st += t;
        spp += p * p;
        spt += p * t;
    }
    if (n == 0)
        return false;
    double var = spp - sp * sp / (double)n; /* n x the variance of the sizes */
    *fixed_ns = 0;
    *per_page_ns = st / sp;
    /* Sizes must differ by more than a few pages for the slope to mean
     * anything: n x variance of at least n x 16 pages^2. */
    if (n < 2 || var < 16.0 * (double)n)
        return false;
    double per = (spt - sp * st / (double)n) / var;
    double fixed = (st - per * sp) / (double)n;
    if (per <= 0)
        return false;
    if (fixed < 0) {
        /* No fixed cost to see: proportional through zero. */
        *per_page_ns = spt / spp;
        return true;
    }
    *fixed_ns = fixed;
    *per_page_ns = per;
    return true;
}

/* After a step's move calls (move_ns inside them; stop_ns from the stop
 * call to the resume call's return, 0 unquiesced): what they cost per base
 * page unquiesced (live), or a sample of the stopped cost for the fit
 * above; the next quiesced step's size from that fit: as many pages as
 * keep its move calls within 3/4 of quiesce_max_ns, or, when the fixed
 * cost of a call alone takes an eighth of that, within
 * min(8 x fixed, 3/4 of NP_LINUX_QUIESCE_STRETCH_NS) so that one stop
 * carries enough pages to pay for its fixed cost (an eighth, not a
 * quarter: at the unpinned VM test's 138 ms fixed cost, 4 x fixed left a
 * quarter of every stop to the fixed cost and that test one guest short
 * of its window); when the fixed cost
 * exceeds even that, as many pages as cost the fixed cost again (half the
 * stop moving). The size is judged on the move calls alone: the time the
 * stop itself takes (the signal reaching every thread) does not shrink
 * with fewer pages. */
static void note_quiesce(np_linux_mover *mv, bool stopped, bool probe, uint64_t move_ns,
                         uint64_t stop_ns, uint64_t base_pages)
{
    np_linux_move_stats *st = &mv->stats;
    if (stopped) {
        st->quiesced_steps++;
        if (stop_ns > st->longest_stop_ns)
            st->longest_stop_ns = stop_ns;
        st->stopped_ns_total += stop_ns;
        st->quiet_move_ns_total += move_ns;
    }
    if (base_pages == 0)
        return;
    if (!stopped) {
        uint64_t per = move_ns / base_pages;
        st->live_ns_per_page = per ? per : 1;
        if (probe)
            mv->since_probe = 0;
        return;
    }
    mv->since_probe++;
    size_t slot = mv->quiet_nr++ % NP_LINUX_QUIESCE_FIT_SAMPLES;
    mv->quiet_pages_tab[slot] = base_pages;
    mv->quiet_ns_tab[slot] = move_ns;

    double fixed = 0, per = 1;
    bool fitted = fit_quiet_cost(mv, &fixed, &per);
    if (fitted) {
        mv->quiet_fitted = true;
        mv->quiet_fixed_ns = fixed;
        mv->quiet_per_page_ns = per;
    } else if (mv->quiet_fitted) {
        fitted = true; /* samples of one size: the last fit still holds */
        fixed = mv->quiet_fixed_ns;
        per = mv->quiet_per_page_ns;
    }
    if (per < 1)
        per = 1;
    st->quiet_fixed_ns = (uint64_t)fixed;
    st->quiet_ns_per_page = (uint64_t)per;
    double target = (double)mv->opts.quiesce_max_ns * 3 / 4;
    double stretch = (double)NP_LINUX_QUIESCE_STRETCH_NS * 3 / 4;
    if (fixed * 8 > target)
        target = fixed * 8 < stretch ? fixed * 8 : stretch;
    double pages = target > fixed ? (target - fixed) / per : 0;
    if (fixed > 0 && pages < fixed / per)
        pages = fixed / per;
    /* A noisy fit (calls of other guests' movers and writers on the other
     * CPUs vary by the second) can promise pages for free: never more than
     * would fit the stretched stop at the lowest time per page any sample
     * showed, fixed cost included (the unpinned VM test's first run stopped
     * a guest 1.73 s on a fit of 546 ms + 0.064 ms a page). */
    double lowest = 0;
    size_t nr = mv->quiet_nr < NP_LINUX_QUIESCE_FIT_SAMPLES ? mv->quiet_nr
                                                           : NP_LINUX_QUIESCE_FIT_SAMPLES;
    for (size_t i = 0; i < nr; i++) {
        double tp = (double)mv->quiet_ns_tab[i] / (double)mv->quiet_pages_tab[i];
        if (lowest == 0 || tp < lowest)
            lowest = tp;
    }
    if (lowest > 0 && pages > stretch / lowest)
        pages = stretch / lowest;
    /* Before a fit (one size seen so far): the floor, and a step of another
     * size (twice this one) so that the next sample tells fixed from per
     * page cost. */
    if (!fitted && pages < 2.0 * (double)base_pages)
        pages = 2.0 * (double)base_pages;
    if (pages < NP_LINUX_QUIESCE_FIRST_PAGES)
        pages = NP_LINUX_QUIESCE_FIRST_PAGES;
    if (!fitted && pages < NP_LINUX_QUIESCE_MIN_PAGES)
        pages = NP_LINUX_QUIESCE_MIN_PAGES;
    if (pages > mv->batch_max)
        pages = mv->batch_max;
    mv->quiet_pages = (uint32_t)pages;
}

int np_linux_mover_step(np_linux_mover *mv, bool *done_out, uint64_t *next_at_ns_out)
{
    np_linux_ctx *ctx;
    np_linux_move_stats *st;
    const uint64_t base = mv ? mv->ctx->page_size : 0;
    pool_use pools[MOVER_POOL_SIZES];
    size_t n, k, m = 0, nr_pools = 0, cut_at = SIZE_MAX;
    uint64_t chosen_bytes = 0, step_bytes = 0, batch_bytes = 0;
    long r;
    int rc, cut_rc = 0;

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

    /* The batch: pages to retry first, then the walk's, up to the batch's
     * count and bytes (batch_pages_now base pages' worth; at least one
     * page, whatever its size). */
    uint32_t want = st->batch_pages_now;
    bool probe = false, stopped = false;
    bool quiesce = plan_quiesce(mv, &want, &probe);
    uint64_t stop_t0 = 0, stop_ns = 0, move_ns = 0;
    uint64_t cap_bytes = (uint64_t)want * base, rq_bytes = 0;
    k = mv->rq_n < want ? mv->rq_n : want;
    for (size_t i = 0; i < k; i++) {
        mv->pages[i] = mv->rq_pages[i];
        mv->flags[i] = mv->rq_flags[i];
        mv->sizes[i] = mv->rq_sizes[i];
        mv->tries[i] = mv->rq_tries[i];
        rq_bytes += mv->sizes[i];
    }
    memmove(mv->rq_pages, mv->rq_pages + k, (mv->rq_n - k) * sizeof(*mv->rq_pages));
    memmove(mv->rq_flags, mv->rq_flags + k, mv->rq_n - k);
    memmove(mv->rq_sizes, mv->rq_sizes + k, (mv->rq_n - k) * sizeof(*mv->rq_sizes));
    memmove(mv->rq_tries, mv->rq_tries + k, mv->rq_n - k);
    mv->rq_n -= k;

    /* A failed call (other than the process exiting) puts the walk back
     * where it was and the retried pages back in the queue, so a later
     * step tries the same pages again. */
    np_linux_walk_pos saved = np_linux_walk_tell(&mv->walk);
    const np_linux_move_stats st_before = *st;
    long got = 0;
    if (k < want && (k == 0 || rq_bytes < cap_bytes)) {
        got = np_linux_walk_next_sized(&mv->walk, mv->pages + k, mv->flags + k, mv->sizes + k,
                                       want - k, k ? cap_bytes - rq_bytes : cap_bytes);
        if (got < 0) {
            requeue(mv, 0, k);
            return (int)got;
        }
    }
    for (size_t i = k; i < k + (size_t)got; i++)
        mv->tries[i] = 0;
    n = k + (size_t)got;
    if (n == 0) {
        mv->walk_ended = mv->done = true;
        *done_out = true;
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        mv->status[i] = NP_LINUX_STATUS_UNSET;
    r = ctx->sys.move_pages(ctx->sys.opaque, mv->pid, n, mv->pages, NULL, mv->status, 0);
    if (r < 0)
        goto failed;
    st->pages_queried += (uint64_t)got;

    /* Choose the pages on a source node: no more once max_bytes is reached
     * (so a step overshoots by less than one page), and hugetlb pages only
     * while the target's pool of their size has free pages. The first page
     * not taken is where the walk resumes, so no page is skipped. */
    uint64_t limit = UINT64_MAX, seg_bytes = st->bytes_moved - mv->seg_base_bytes;
    if (mv->opts.max_bytes)
        limit = mv->opts.max_bytes > seg_bytes ? mv->opts.max_bytes - seg_bytes : 0;
    for (size_t i = 0; i < n; i++) {
        mv->unit[i] = -1;
        int s = mv->status[i];
        if (i >= k && (s == -ENOENT || s == -EFAULT))
            st->pages_absent++; /* not present, or the shared zero page */
        if (!on_source(mv, s)) {
            /* A retried page found on the target after all (its move
             * finished after the check) counts as moved; one that vanished
             * drops out. */
            if (i < k && s >= 0 && (unsigned)s == mv->to) {
                st->pages_moved++;
                st->bytes_moved += mv->sizes[i];
                step_bytes += mv->sizes[i];
                if (mv->sizes[i] > base)
                    st->huge_pages_moved++;
            }
            continue;
        }
        size_t per = thp_block(mv, i, n);
        uint64_t unit_bytes = per > 1 ? mv->walk.thp_bytes : mv->sizes[i];
        if (chosen_bytes >= limit ||
            (mv->sizes[i] > base && !pool_room(mv, pools, &nr_pools, mv->sizes[i], &cut_rc))) {
            cut_at = i;
            break;
        }
        mv->move_pages_arr[m] = mv->pages[i];
        mv->move_nodes[m] = (int)mv->to;
        mv->move_of[m] = i;
        for (size_t j = i; j < i + per; j++) {
            mv->unit[j] = (long)m;
            if (j >= k)
                st->pages_on_source++;
        }
        m++;
        chosen_bytes += unit_bytes;
        i += per - 1;
    }
    if (cut_at != SIZE_MAX) {
        /* Retried pages not reached go back to the queue; the walk rewinds
         * to its first page not reached (queried again then). */
        if (cut_at < k)
            requeue(mv, cut_at, k);
        size_t first_walk = cut_at > k ? cut_at : k;
        if (first_walk < n) {
            st->pages_queried -= n - first_walk;
            np_linux_walk_seek_addr(&mv->walk, (uint64_t)(uintptr_t)mv->pages[first_walk]);
        }
        n = cut_at;
        if (m == 0 && cut_rc == -ENOSPC) {
            char path[128];
            np_linux_path(path, sizeof(path),
                          "/sys/devices/system/node/node%u/hugepages/hugepages-%llukB", mv->to,
                          (unsigned long long)(mv->sizes[cut_at] / 1024));
            np_linux_log(ctx, NP_LOG_WARNING, SUBSYS,
                         "pid %d: node %u has no free %llu kB huge page for the next page on a "
                         "source node (%s/free_hugepages is 0); grow its pool with "
                         "echo N > %s/nr_hugepages",
                         (int)mv->pid, mv->to, (unsigned long long)(mv->sizes[cut_at] / 1024), path,
                         path);
            return -ENOSPC;
        }
    }
    for (size_t i = 0; i < n; i++)
        batch_bytes += mv->sizes[i];

    if (m > 0) {
        int flags = mv->opts.move_all ? MPOL_MF_MOVE_ALL : MPOL_MF_MOVE;
        for (size_t j = 0; j < m; j++)
            mv->move_status[j] = NP_LINUX_STATUS_UNSET;
        /* Hugetlb pages and pages tried before move one per call, other
         * base pages (and THP heads) in runs. Linux 6.1 stops a call at
         * the first page whose migration failed and leaves the later pages
         * untried (their status unwritten, the failed one's too, so the
         * culprit is unknown), and a hugetlb page of a file (memfd,
         * hugetlbfs) under a writing guest fails often (docs/linux.md):
         * one page per call keeps a failure to that page, so a page that
         * stays busy never starves the others. */
        r = 0;
        if (quiesce) {
            stop_t0 = mv->opts.now_ns(mv->opts.clock_opaque);
            int qr = mv->opts.quiesce_fn(mv->opts.quiesce_opaque, mv->pid, true);
            stopped = qr == 0;
            if (qr == -EAGAIN && mv->stop_fails + 1 < NP_LINUX_QUIESCE_STOP_TRIES) {
                mv->stop_fails++;
                /* Not stopped in time (its threads did not get to run
                 * the stop): moving beside it is what is slow, so this
                 * step moves nothing and a later one takes the same pages
                 * again (walk, queue and counts as they were). */
                np_linux_walk_seek(&mv->walk, saved);
                requeue(mv, 0, k < cut_at ? k : cut_at); /* the rest went back at the cut */
                *st = st_before;
                uint64_t t = mv->opts.now_ns(mv->opts.clock_opaque);
                mv->next_at_ns = t + mv->opts.quiesce_gap_ns;
                *done_out = false;
                *next_at_ns_out = mv->next_at_ns;
                return 0;
            }
            mv->stop_fails = 0;
        }
        uint64_t move_t0 = mv->opts.now_ns(mv->opts.clock_opaque);
        if (stopped)
            st->stop_wait_ns_total += move_t0 > stop_t0 ? move_t0 - stop_t0 : 0;
        for (size_t j = 0; j < m && (r >= 0 || r == -ENOMEM || r == -EBUSY || r == -EAGAIN);) {
            size_t run = 1;
            if (mv->sizes[mv->move_of[j]] == base && mv->tries[mv->move_of[j]] == 0)
                while (j + run < m && mv->sizes[mv->move_of[j + run]] == base &&
                       mv->tries[mv->move_of[j + run]] == 0)
                    run++;
            r = ctx->sys.move_pages(ctx->sys.opaque, mv->pid, run, mv->move_pages_arr + j,
                                    mv->move_nodes + j, mv->move_status + j, flags);
            j += run;
        }
        uint64_t move_t1 = mv->opts.now_ns(mv->opts.clock_opaque);
        move_ns = move_t1 > move_t0 ? move_t1 - move_t0 : 0;
        if (stopped) {
            /* Resumed before anything else: the failure paths below too. */
            mv->opts.quiesce_fn(mv->opts.quiesce_opaque, mv->pid, false);
            uint64_t t = mv->opts.now_ns(mv->opts.clock_opaque);
            stop_ns = t > stop_t0 ? t - stop_t0 : 0;
        }
        note_quiesce(mv, stopped, probe, move_ns, stop_ns, chosen_bytes / base);
        /* ENOMEM/EBUSY/EAGAIN for the whole call are passing conditions:
         * its pages are checked below and tried again. */
        bool whole_failed = r < 0;
        if (r < 0 && r != -ENOMEM && r != -EBUSY && r != -EAGAIN)
            goto failed;
        /* What the kernel says after r > 0 (pages it could not move) is
         * not the whole truth: Linux 6.1 stops at the first page whose
         * migration failed and leaves the later status entries unwritten.
         * So ask where each page is now and count that. */
        size_t c = 0;
        for (size_t i = 0; i < n; i++) {
            if (mv->unit[i] < 0)
                continue;
            mv->check_pages[c] = mv->pages[i];
            mv->check_status[c] = NP_LINUX_STATUS_UNSET;
            mv->check_of[c++] = i;
        }
        r = ctx->sys.move_pages(ctx->sys.opaque, mv->pid, c, mv->check_pages, NULL,
                                mv->check_status, 0);
        if (r < 0)
            goto failed;
        for (size_t j = 0; j < c; j++) {
            size_t i = mv->check_of[j];
            int now = mv->check_status[j];
            if (now >= 0 && (unsigned)now == mv->to) {
                st->pages_moved++;
                st->bytes_moved += mv->sizes[i];
                step_bytes += mv->sizes[i];
                if (mv->sizes[i] > base)
                    st->huge_pages_moved++;
            } else if (on_source(mv, now)) {
                page_not_moved(mv, i, mv->move_status[mv->unit[i]], whole_failed);
            } else if (now >= 0) {
                st->pages_failed++; /* landed on a third node */
                st->pages_other++;
            }
            /* else: gone meanwhile (freed, swapped): nothing to count */
        }
    }

    uint64_t t1 = mv->opts.now_ns(mv->opts.clock_opaque);
    uint64_t dur = t1 > t0 ? t1 - t0 : 0;
    st->batches++;
    st->busy_ns += dur;
    if (dur > st->longest_batch_ns)
        st->longest_batch_ns = dur;
    if (step_bytes > st->longest_step_bytes)
        st->longest_step_bytes = step_bytes;
    if (!quiesce && !probe)
        adapt_batch(mv, dur, (size_t)((batch_bytes + base - 1) / base));

    mv->next_at_ns =
        np_linux_pace_next_ns(mv->opts.budget_bytes_per_s, mv->next_at_ns, t0, step_bytes);
    /* After a stop the process runs at least quiesce_gap_ns. */
    if (stopped && mv->next_at_ns < t1 + mv->opts.quiesce_gap_ns)
        mv->next_at_ns = t1 + mv->opts.quiesce_gap_ns;
    /* Pages to retry wait a little: what made them busy (a fault of the
     * guest on the page, a write under way) passes in that time. */
    if (mv->rq_n > 0) {
        uint64_t delay = (uint64_t)mv->rq_tries[0] * NP_LINUX_MOVE_RETRY_DELAY_NS;
        if (delay > NP_LINUX_MOVE_RETRY_DELAY_MAX_NS)
            delay = NP_LINUX_MOVE_RETRY_DELAY_MAX_NS;
        if (mv->next_at_ns < t1 + delay)
            mv->next_at_ns = t1 + delay;
    }
    if (cut_at == SIZE_MAX && mv->rq_n == 0 && np_linux_walk_at_end(&mv->walk))
        mv->walk_ended = mv->done = true;
    if (mv->opts.max_bytes && st->bytes_moved - mv->seg_base_bytes >= mv->opts.max_bytes)
        mv->done = true;
    *done_out = mv->done;
    *next_at_ns_out = mv->next_at_ns;
    return cut_rc == -ENOSPC && m == 0 ? -ENOSPC : 0;

failed:
    rc = call_failed(mv, r);
    if (!mv->done) {
        np_linux_walk_seek(&mv->walk, saved);
        requeue(mv, 0, k < cut_at ? k : cut_at); /* the rest went back at the cut */
    }
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
        if (mv->opts.should_stop && mv->opts.should_stop(mv->opts.should_stop_opaque))
            return 0;
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
                 "pid %d: %llu bytes (%llu pages, %llu of them hugetlb) moved to node %u, "
                 "%llu failed, %llu retried, %llu batches, longest %llu us",
                 (int)pid, (unsigned long long)mv->stats.bytes_moved,
                 (unsigned long long)mv->stats.pages_moved,
                 (unsigned long long)mv->stats.huge_pages_moved, to,
                 (unsigned long long)mv->stats.pages_failed,
                 (unsigned long long)mv->stats.pages_retried, (unsigned long long)mv->stats.batches,
                 (unsigned long long)(mv->stats.longest_batch_ns / 1000));
    np_linux_mover_destroy(mv);
    return rc;
}
