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
 * bench (bench_linux.c) measures both. numa_stat: for a guest alone in its
 * cgroup, the cgroup's per-node counters (one small read whatever the
 * guest's size: numa_maps of a 256 GiB guest of 4 KiB pages took 3.3 s).
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

/* ---- numa_stat ----------------------------------------------------------------- */

/* One "N<id>=<bytes>" token: 0, or -EINVAL. */
static int stat_token(const char *tok, size_t tl, size_t *node_out, uint64_t *bytes_out)
{
    uint64_t node = 0, bytes = 0;
    size_t i = 1;
    if (tl < 4 || tok[0] != 'N')
        return -EINVAL;
    for (; i < tl && tok[i] >= '0' && tok[i] <= '9'; i++) {
        node = node * 10 + (uint64_t)(tok[i] - '0');
        if (node > NP_LINUX_NODE_MAX_OS_ID)
            return -EINVAL;
    }
    if (i == 1 || i >= tl || tok[i] != '=' || ++i == tl)
        return -EINVAL;
    for (; i < tl; i++) {
        if (tok[i] < '0' || tok[i] > '9' || bytes > (UINT64_MAX - 9) / 10)
            return -EINVAL;
        bytes = bytes * 10 + (uint64_t)(tok[i] - '0');
    }
    *node_out = (size_t)node;
    *bytes_out = bytes;
    return 0;
}

int np_linux_numa_stat_parse(const char *text, size_t len, const char *origin,
                             uint64_t huge_page_bytes, np_linux_mem *out, np_error *err)
{
    np_linux_mem m = {0};
    unsigned lineno = 0;
    bool huge = huge_page_bytes != 0;
    int rc = 0;

    if (!text || !out)
        return -EINVAL;
    for (size_t pos = 0; pos < len && rc == 0;) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        pos += ll + 1;
        lineno++;
        if (memchr(line, '\0', ll)) {
            rc = np_error_set(err, origin, lineno, "expected text, found a NUL byte");
            break;
        }
        size_t kl = 0;
        while (kl < ll && ((line[kl] >= 'a' && line[kl] <= 'z') || line[kl] == '_' ||
                           (line[kl] >= '0' && line[kl] <= '9')))
            kl++;
        if (kl == ll && kl == 0)
            continue; /* an empty line */
        if (kl == 0 || (kl < ll && line[kl] != ' ' && line[kl] != '=')) {
            rc = np_error_set(err, origin, lineno,
                              "expected \"<key> N<node>=<bytes> ...\" with a lower-case key");
            break;
        }
        bool take = huge ? (kl == 5 && !memcmp(line, "total", 5))
                         : ((kl == 4 && !memcmp(line, "anon", 4)) ||
                            (kl == 5 && !memcmp(line, "shmem", 5)));
        bool anon = !huge && kl == 4;
        size_t p = kl;
        if (p < ll && line[p] == '=') { /* hugetlb: "total=<bytes>" then the nodes */
            p++;
            while (p < ll && line[p] >= '0' && line[p] <= '9')
                p++;
            if (p == kl + 1 || (p < ll && line[p] != ' ')) {
                rc = np_error_set(err, origin, lineno, "expected <key>=<bytes>");
                break;
            }
        }
        while (p < ll) {
            if (line[p] != ' ') {
                rc = np_error_set(err, origin, lineno, "expected one space between fields");
                break;
            }
            p++;
            const char *tok = line + p;
            while (p < ll && line[p] != ' ')
                p++;
            size_t node;
            uint64_t bytes;
            if (stat_token(tok, (size_t)(line + p - tok), &node, &bytes) < 0) {
                rc = np_error_set(err, origin, lineno, "expected N<node>=<bytes> (node <= %u)",
                                  NP_LINUX_NODE_MAX_OS_ID);
                break;
            }
            if (!take)
                continue;
            if ((rc = np_linux_mem_reserve(&m, node)) < 0)
                break;
            if (m.bytes_by_node_os_id[node] > UINT64_MAX - bytes ||
                m.total_bytes > UINT64_MAX - bytes) {
                rc = np_error_set(err, origin, lineno, "byte counts add up past 2^64");
                break;
            }
            m.bytes_by_node_os_id[node] += bytes;
            m.total_bytes += bytes;
            if (anon)
                m.anon_bytes_by_node_os_id[node] += bytes;
            if (huge) {
                m.huge_bytes += bytes;
                m.huge_by_node_os_id[node * NP_LINUX_HUGE_SIZES_MAX] += bytes; /* slot 0 */
            }
        }
    }
    /* add to out; this file's huge pages go to out's slot of their size */
    size_t slot = huge ? np_linux_mem_huge_slot(out, huge_page_bytes) : NP_LINUX_HUGE_SIZES_MAX;
    if (rc == 0 && m.nr_node_slots && (rc = np_linux_mem_reserve(out, m.nr_node_slots - 1)) == 0) {
        for (size_t k = 0; k < m.nr_node_slots; k++) {
            out->bytes_by_node_os_id[k] += m.bytes_by_node_os_id[k];
            out->anon_bytes_by_node_os_id[k] += m.anon_bytes_by_node_os_id[k];
            if (slot < NP_LINUX_HUGE_SIZES_MAX)
                out->huge_by_node_os_id[k * NP_LINUX_HUGE_SIZES_MAX + slot] +=
                    m.huge_by_node_os_id[k * NP_LINUX_HUGE_SIZES_MAX];
        }
        out->total_bytes += m.total_bytes;
        out->huge_bytes += m.huge_bytes;
        if (slot < NP_LINUX_HUGE_SIZES_MAX && m.huge_bytes)
            out->huge_page_bytes[slot] = huge_page_bytes;
    }
    np_linux_mem_fini(&m);
    return rc;
}

/* Huge page sizes whose hugetlb.<size>.numa_stat is read (x86-64, arm64
 * with 4 KiB base pages, POWER: 2 MiB, 1 GiB, 16 MiB, 16 GiB), named as
 * the kernel names them (mm/hugetlb_cgroup.c: mem_fmt). */
static const struct {
    const char *name;
    uint64_t page_bytes;
} HUGETLB_SIZES[] = {{"2MB", UINT64_C(2) << 20},
                     {"1GB", UINT64_C(1) << 30},
                     {"16MB", UINT64_C(16) << 20},
                     {"16GB", UINT64_C(16) << 30}};

int np_linux_mem_cgroup_numa_stat(np_linux_ctx *ctx, const char *cgroup, np_linux_mem *out)
{
    np_linux_mem m = {0};
    char *text = NULL, origin[4096 + 256]; /* a cgroup path (at most 4096) and the mount */
    size_t len = 0;
    np_error err = {0};
    int rc;

    if (!ctx || !cgroup || !out)
        return -EINVAL;
    rc = np_linux_cgroup_read(ctx, cgroup, "memory.numa_stat", &text, &len, origin,
                              sizeof(origin));
    if (rc == 0)
        rc = np_linux_numa_stat_parse(text, len, origin, 0, &m, &err);
    free(text);
    text = NULL;
    size_t huge_files = 0;
    for (size_t i = 0; rc == 0 && i < sizeof(HUGETLB_SIZES) / sizeof(HUGETLB_SIZES[0]); i++) {
        char file[64];
        snprintf(file, sizeof(file), "hugetlb.%s.numa_stat", HUGETLB_SIZES[i].name);
        int r = np_linux_cgroup_read(ctx, cgroup, file, &text, &len, origin, sizeof(origin));
        if (r == -ENOENT)
            continue; /* no such size here, or no hugetlb controller */
        huge_files++;
        rc = r ? r : np_linux_numa_stat_parse(text, len, origin, HUGETLB_SIZES[i].page_bytes, &m,
                                              &err);
        free(text);
        text = NULL;
    }
    m.huge_not_sensed = huge_files == 0;
    if (rc == -EINVAL && err.msg[0])
        rc = np_linux_parse_failed(ctx, SUBSYS, &err);
    if (rc == 0) {
        np_linux_mem_fini(out);
        *out = m;
        return 0;
    }
    np_linux_mem_fini(&m);
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
