/*
 * linux/pagewalk.c - the page addresses a move_pages query or the chunked
 * mover goes through: the mappings of /proc/PID/maps a filter selects,
 * page by page, skipping pages that are not present when the kernel can
 * say so cheaply.
 *
 * move_pages(2) answers one address at a time (about 0.6 us per page on the
 * build host), and a mapping's size says nothing about how much of it is
 * populated: QEMU reserves all guest RAM at start, an address-sanitizer
 * shadow is a 16 TiB mapping with a few dozen pages. Linux 6.7 added the
 * PAGEMAP_SCAN ioctl on /proc/PID/pagemap, which reports runs of present
 * pages and skips empty page tables whole; the walk uses it when it works
 * and falls back to every page of the mapping otherwise (older kernels,
 * no permission to open pagemap, a fixture root).
 */
#include "linux/linux_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SUBSYS "linux/walk"

int np_linux_walk_init(np_linux_walk *w, np_linux_ctx *ctx, pid_t pid, np_linux_map_filter filter)
{
    char path[64];
    int rc;

    memset(w, 0, sizeof(*w));
    w->ctx = ctx;
    w->pid = pid;
    w->pagemap_fd = -1;
    rc = np_linux_maps_ranges(ctx, pid, filter, &w->ranges, &w->nr_ranges);
    if (rc < 0)
        return rc;
    w->addr = w->nr_ranges ? w->ranges[0].start : 0;
    w->scanned_to = w->addr;
    if (ctx->sys.scan_present &&
        np_linux_path(path, sizeof(path), "proc/%d/pagemap", (int)pid) == 0) {
        w->pagemap_fd = openat(ctx->root_fd, path, O_RDONLY | O_CLOEXEC);
        w->scan = w->pagemap_fd >= 0;
    }
    return 0;
}

void np_linux_walk_fini(np_linux_walk *w)
{
    if (!w)
        return;
    if (w->pagemap_fd >= 0)
        close(w->pagemap_fd);
    free(w->ranges);
    w->ranges = NULL;
    w->pagemap_fd = -1;
}

static void enter_range(np_linux_walk *w, size_t idx, uint64_t addr)
{
    w->idx = idx;
    w->addr = addr;
    w->scanned_to = addr;
    w->vec_n = w->vec_pos = 0;
}

bool np_linux_walk_at_end(np_linux_walk *w)
{
    while (w->idx < w->nr_ranges && w->addr >= w->ranges[w->idx].end) {
        size_t next = w->idx + 1;
        enter_range(w, next, next < w->nr_ranges ? w->ranges[next].start : 0);
    }
    return w->idx >= w->nr_ranges;
}

np_linux_walk_pos np_linux_walk_tell(const np_linux_walk *w)
{
    np_linux_walk_pos pos = {w->idx, w->addr};
    return pos;
}

void np_linux_walk_seek(np_linux_walk *w, np_linux_walk_pos pos)
{
    /* Forget the scanned regions: the next call scans again from pos. */
    enter_range(w, pos.idx, pos.addr);
}

void np_linux_walk_seek_addr(np_linux_walk *w, uint64_t addr)
{
    /* addr was yielded by this walk, so it lies in a range at or before
     * the current one (ranges are in address order). */
    size_t idx = w->idx < w->nr_ranges ? w->idx : w->nr_ranges - 1;
    while (idx > 0 && w->ranges[idx].start > addr)
        idx--;
    enter_range(w, idx, addr);
}

/* Ask the kernel for the next runs of present pages of the current range. */
static int scan_more(np_linux_walk *w)
{
    const np_linux_range *r = &w->ranges[w->idx];
    uint64_t walk_end = 0;
    long k = w->ctx->sys.scan_present(w->ctx->sys.opaque, w->pagemap_fd, w->scanned_to, r->end,
                                      w->vec, NP_LINUX_SCAN_REGIONS, &walk_end);
    if (k == -ENOMEM)
        return -ENOMEM;
    if (k < 0 || (size_t)k > NP_LINUX_SCAN_REGIONS) {
        /* Old kernel (ENOTTY), or refused: walk every page from here on. */
        np_linux_log(w->ctx, NP_LOG_DEBUG, SUBSYS, "PAGEMAP_SCAN of pid %d: %s; walking all pages",
                     (int)w->pid, np_strerror(k < 0 ? (int)k : -EINVAL));
        w->scan = false;
        return 0;
    }
    w->vec_n = (size_t)k;
    w->vec_pos = 0;
    /* No progress and nothing found would loop forever: end the range. */
    w->scanned_to = walk_end > w->scanned_to ? walk_end : r->end;
    if (w->scanned_to > r->end)
        w->scanned_to = r->end;
    return 0;
}

long np_linux_walk_next(np_linux_walk *w, void **pages, unsigned char *anon, size_t want)
{
    const uint64_t page = w->ctx->page_size;
    size_t n = 0;

    while (n < want && !np_linux_walk_at_end(w)) {
        const np_linux_range *r = &w->ranges[w->idx];
        if (!w->scan) {
            pages[n] = (void *)(uintptr_t)w->addr;
            anon[n++] = r->anon;
            w->addr += page;
            continue;
        }
        if (w->vec_pos < w->vec_n) {
            const np_linux_region *reg = &w->vec[w->vec_pos];
            if (w->addr < reg->start)
                w->addr = reg->start;
            if (w->addr >= reg->end || w->addr >= r->end) {
                w->vec_pos++;
                continue;
            }
            pages[n] = (void *)(uintptr_t)w->addr;
            anon[n++] = r->anon;
            w->addr += page;
            continue;
        }
        if (w->scanned_to >= r->end) {
            w->addr = r->end; /* nothing more present in this range */
            continue;
        }
        if (w->addr < w->scanned_to)
            w->addr = w->scanned_to;
        int rc = scan_more(w);
        if (rc < 0)
            return rc;
    }
    return (long)n;
}
