/*
 * linux/memsense.c - where a process's memory is, per node, by two methods.
 *
 * numa_maps: the kernel walks the page tables of every mapping and prints
 * page counts per node (one read, cost grows with resident memory, no
 * special rights beyond reading the file). move_pages query: the caller
 * walks /proc/PID/maps and asks move_pages(2) with nodes=NULL for the node
 * of each page address (costs one system call per NP_LINUX_QUERY_BATCH_PAGES
 * pages, counts unpopulated addresses too, and needs the right to move the
 * process's pages). The daemon senses with numa_maps; the query is what the
 * mover uses to choose pages and what verification cross-checks with. The
 * bench (bench_linux.c) measures both.
 */
#include "linux/linux_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

#define SUBSYS "linux/mem"

int np_linux_maps_ranges(np_linux_ctx *ctx, pid_t pid, np_linux_map_filter filter,
                         np_linux_range **ranges_out, size_t *n_out)
{
    char *text = NULL, origin[64];
    size_t len = 0;
    np_error err = {0};
    int rc = np_linux_read_pid(ctx, pid, "maps", &text, &len);
    if (rc < 0)
        return rc;
    np_linux_path(origin, sizeof(origin), "proc/%d/maps", (int)pid);
    rc = np_linux_maps_ranges_parse(text, len, origin, filter, ranges_out, n_out, &err);
    if (rc == -EINVAL)
        rc = np_linux_parse_failed(ctx, SUBSYS, &err);
    free(text);
    return rc;
}

int np_linux_mem_numa_maps(np_linux_ctx *ctx, pid_t pid, np_linux_mem *out)
{
    char *text = NULL, origin[64];
    size_t len = 0;
    np_error err = {0};
    int rc;

    if (!ctx || !out || pid <= 0)
        return -EINVAL;
    rc = np_linux_read_pid(ctx, pid, "numa_maps", &text, &len);
    if (rc < 0)
        return rc;
    np_linux_path(origin, sizeof(origin), "proc/%d/numa_maps", (int)pid);
    rc = np_linux_numa_maps_parse(text, len, origin, out, &err);
    if (rc == -EINVAL)
        rc = np_linux_parse_failed(ctx, SUBSYS, &err);
    free(text);
    return rc;
}

/* Adds one query batch's statuses to mem. */
static int account_batch(np_linux_mem *mem, const int *status, const unsigned char *flags,
                         size_t n, const uint64_t *page_bytes_of)
{
    for (size_t i = 0; i < n; i++) {
        int s = status[i];
        if (s == -ENOENT || s == -EFAULT) {
            /* Not present, or the shared zero page (never written). */
            mem->pages_absent++;
        } else if (s < 0 || (unsigned)s > NP_LINUX_NODE_MAX_OS_ID) {
            mem->pages_error++;
        } else {
            uint64_t page_bytes = page_bytes_of[i]; /* a huge page counts whole */
            int rc = np_linux_mem_reserve(mem, (size_t)s);
            if (rc < 0)
                return rc;
            mem->bytes_by_node_os_id[s] += page_bytes;
            if (flags[i] & NP_LINUX_WALK_ANON)
                mem->anon_bytes_by_node_os_id[s] += page_bytes;
            mem->total_bytes += page_bytes;
        }
    }
    mem->pages_queried += n;
    return 0;
}

int np_linux_mem_query(np_linux_ctx *ctx, pid_t pid, np_linux_map_filter filter,
                       np_linux_mem *out)
{
    np_linux_walk *w = NULL;
    void **pages = NULL;
    int *status = NULL;
    unsigned char *anon = NULL;
    uint64_t *sizes = NULL;
    np_linux_mem mem = {0};
    int rc;

    if (!ctx || !out || pid <= 0)
        return -EINVAL;
    if (!ctx->sys_ok)
        return -EOPNOTSUPP;
    w = malloc(sizeof(*w));
    pages = malloc(NP_LINUX_QUERY_BATCH_PAGES * sizeof(*pages));
    status = malloc(NP_LINUX_QUERY_BATCH_PAGES * sizeof(*status));
    anon = malloc(NP_LINUX_QUERY_BATCH_PAGES);
    sizes = malloc(NP_LINUX_QUERY_BATCH_PAGES * sizeof(*sizes));
    if (!w || !pages || !status || !anon || !sizes) {
        free(w);
        w = NULL;
        rc = -ENOMEM;
        goto out;
    }
    rc = np_linux_walk_init(w, ctx, pid, filter);
    if (rc < 0) {
        free(w);
        w = NULL;
        goto out;
    }
    mem.mappings = w->nr_ranges;
    for (;;) {
        long n = np_linux_walk_next_sized(w, pages, anon, sizes, NP_LINUX_QUERY_BATCH_PAGES,
                                          UINT64_MAX);
        if (n <= 0) {
            rc = (int)n;
            break;
        }
        long s = ctx->sys.move_pages(ctx->sys.opaque, pid, (unsigned long)n, pages, NULL, status, 0);
        if (s < 0) {
            rc = (int)s;
            if (rc == -EINVAL && np_linux_pid_gone(ctx, pid))
                rc = -ESRCH;
            break;
        }
        rc = account_batch(&mem, status, anon, (size_t)n, sizes);
        if (rc < 0)
            break;
    }
    if (rc < 0)
        goto out;
    np_linux_mem_fini(out);
    *out = mem;
    memset(&mem, 0, sizeof(mem));
out:
    if (w) {
        np_linux_walk_fini(w);
        free(w);
    }
    np_linux_mem_fini(&mem);
    free(pages);
    free(status);
    free(anon);
    free(sizes);
    return rc;
}
