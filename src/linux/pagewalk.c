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
 *
 * Page sizes: a mapping's pages are all of one size, its KernelPageSize in
 * /proc/PID/smaps (2 MiB or 1 GiB for hugetlb - anonymous MAP_HUGETLB,
 * hugetlbfs files, memfd_create(MFD_HUGETLB) as QEMU's
 * memory-backend-memfd,hugetlb=on -, the base page otherwise). The sized
 * walk yields one address per page, the page's head, so a caller asks
 * move_pages about a 2 MiB hugetlb page once, not 512 times: the kernel
 * (Linux 6.1 add_page_for_migration) migrates a hugetlb page only through
 * its head address and answers every tail address with -EACCES. THP is
 * different: KernelPageSize stays 4 kB, a transparent huge page may be
 * split at any time, and move_pages on any of its addresses moves it whole;
 * smaps' AnonHugePages/ShmemPmdMapped/FilePmdMapped only say a mapping may
 * hold some, which the walk passes on (NP_LINUX_WALK_THP) so the mover can
 * pass one address per aligned block. smaps costs one page-table walk of
 * the process (like numa_maps), once per walk; without it (unreadable, a
 * fixture without the file) every mapping counts as base pages.
 */
#include "linux/linux_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"
#include "util/text.h"

#define SUBSYS "linux/walk"
/* Largest KernelPageSize accepted: 16 GiB, the biggest huge page of any
 * architecture (powerpc gigantic pages). */
#define NP_LINUX_SMAPS_PAGE_KB_MAX (16ull << 20)
/* THP size when sys/kernel/mm/transparent_hugepage/hpage_pmd_size cannot
 * be read: the PMD size of x86-64 and of arm64 with 4 KiB pages. */
#define NP_LINUX_THP_BYTES_DEFAULT (2ull << 20)

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A maps-style line opens an entry: hex digits and a '-' ("AnonHugePages:"
 * starts with hex digits too, but a ':' follows them). */
static bool is_entry_head(const char *line)
{
    const char *p = line;
    while (is_hex(*p))
        p++;
    return p > line && *p == '-';
}

/* "Key:   123 kB" -> 123 (the value in kB). -EINVAL when malformed. */
static int smaps_kb(const char *line, size_t key_len, uint64_t *kb_out)
{
    const char *p = np_skip_ws(line + key_len);
    if (np_parse_u64(&p, UINT64_MAX / 1024, kb_out) < 0)
        return -EINVAL;
    p = np_skip_ws(p);
    return strcmp(p, "kB") == 0 ? 0 : -EINVAL;
}

int np_linux_smaps_apply(const char *text, size_t len, const char *origin, uint64_t base_page_bytes,
                         np_linux_range *ranges, size_t n, np_error *err)
{
    np_line_scanner sc;
    const char *line;
    np_linux_range *cur = NULL; /* the range of the current smaps entry */
    size_t next = 0;            /* ranges before this one are behind us */
    int rc = 0, r;

    for (size_t i = 0; i < n; i++) {
        ranges[i].page_bytes = base_page_bytes;
        ranges[i].thp = false;
    }
    np_scanner_init(&sc, text, len);
    while ((r = np_scanner_next(&sc, &line)) > 0) {
        if (sc.too_long || sc.has_nul) {
            rc = np_error_set(err, origin, sc.lineno,
                              "expected an smaps line (\"Key: N kB\" "
                              "or a maps line), got an overlong line or a NUL byte");
            goto out;
        }
        if (is_entry_head(line)) {
            np_linux_map m;
            if (np_linux_maps_parse_line(line, &m) < 0) {
                rc = np_error_set(err, origin, sc.lineno,
                                  "expected \"start-end perms offset major:minor inode [path]\"");
                goto out;
            }
            cur = NULL;
            while (next < n && ranges[next].start < m.start)
                next++;
            if (next < n && ranges[next].start == m.start)
                cur = &ranges[next];
            continue;
        }
        uint64_t kb;
        if (strncmp(line, "KernelPageSize:", 15) == 0) {
            if (smaps_kb(line, 15, &kb) < 0 || kb * 1024 < base_page_bytes ||
                kb > NP_LINUX_SMAPS_PAGE_KB_MAX || (kb & (kb - 1)) != 0) {
                rc = np_error_set(err, origin, sc.lineno,
                                  "expected KernelPageSize: <power of two from %llu to %llu> kB",
                                  (unsigned long long)(base_page_bytes / 1024),
                                  (unsigned long long)NP_LINUX_SMAPS_PAGE_KB_MAX);
                goto out;
            }
            if (!cur)
                continue;
            uint64_t bytes = kb * 1024;
            if (cur->start % bytes || cur->end % bytes) {
                rc = np_error_set(err, origin, sc.lineno,
                                  "mapping %llx-%llx is not aligned to its %llu kB pages",
                                  (unsigned long long)cur->start, (unsigned long long)cur->end,
                                  (unsigned long long)kb);
                goto out;
            }
            cur->page_bytes = bytes;
        } else if (strncmp(line, "AnonHugePages:", 14) == 0 ||
                   strncmp(line, "ShmemPmdMapped:", 15) == 0 ||
                   strncmp(line, "FilePmdMapped:", 14) == 0) {
            size_t key = (size_t)(strchr(line, ':') - line) + 1;
            if (smaps_kb(line, key, &kb) < 0) {
                rc = np_error_set(err, origin, sc.lineno, "expected \"%.*s N kB\"", (int)key, line);
                goto out;
            }
            if (cur && kb > 0)
                cur->thp = true;
        }
        /* Other keys (Rss, Pss, VmFlags, ...) are not needed. */
    }
    if (r < 0)
        rc = r;
out:
    np_scanner_fini(&sc);
    return rc;
}

/* Page sizes of the walk's ranges from proc/PID/smaps; base pages when it
 * cannot be read. A malformed file is an error (-EINVAL, last_error set). */
static int read_page_sizes(np_linux_walk *w)
{
    char path[64], *text = NULL, line[32];
    size_t len = 0;
    np_error err = {0};
    uint64_t v;
    int rc;

    w->thp_bytes = NP_LINUX_THP_BYTES_DEFAULT;
    if (np_linux_read_line_at(w->ctx, "sys/kernel/mm/transparent_hugepage/hpage_pmd_size", line,
                              sizeof(line)) == 0) {
        const char *p = line;
        if (np_parse_u64(&p, UINT64_MAX, &v) == 0 && !*p && v >= w->ctx->page_size &&
            (v & (v - 1)) == 0)
            w->thp_bytes = v;
    }
    for (size_t i = 0; i < w->nr_ranges; i++) {
        w->ranges[i].page_bytes = w->ctx->page_size;
        w->ranges[i].thp = false;
    }
    /* A missing smaps is a capture without it (the maps were just read; a
     * process that exited since is noticed by the next system call). */
    np_linux_path(path, sizeof(path), "proc/%d/smaps", (int)w->pid);
    rc = np_linux_read_at(w->ctx, path, &text, &len);
    if (rc == -ESRCH)
        return rc;
    if (rc < 0) {
        np_linux_log(w->ctx, NP_LOG_DEBUG, SUBSYS,
                     "smaps of pid %d: %s; every mapping counts as %zu-byte pages", (int)w->pid,
                     np_strerror(rc), w->ctx->page_size);
        return 0;
    }
    rc = np_linux_smaps_apply(text, len, path, w->ctx->page_size, w->ranges, w->nr_ranges, &err);
    if (rc == -EINVAL)
        rc = np_linux_parse_failed(w->ctx, SUBSYS, &err);
    free(text);
    return rc;
}

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
    rc = read_page_sizes(w);
    if (rc < 0) {
        free(w->ranges);
        w->ranges = NULL;
        return rc;
    }
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

/* Where the next page head at or after `a` starts in range r (its pages
 * are aligned to their size, the range too). */
static uint64_t head_at_or_after(const np_linux_range *r, uint64_t a)
{
    uint64_t off = (a - r->start) % r->page_bytes;
    return off ? a - off + r->page_bytes : a;
}

/* The head of the page holding `a`. */
static uint64_t head_of(const np_linux_range *r, uint64_t a)
{
    return a - (a - r->start) % r->page_bytes;
}

long np_linux_walk_next_sized(np_linux_walk *w, void **pages, unsigned char *flags,
                              uint64_t *page_bytes, size_t want, uint64_t want_bytes)
{
    size_t n = 0;
    uint64_t bytes = 0;

    while (n < want && !np_linux_walk_at_end(w)) {
        const np_linux_range *r = &w->ranges[w->idx];
        uint64_t page = r->page_bytes ? r->page_bytes : w->ctx->page_size;
        if (n > 0 && bytes + page > want_bytes)
            break;
        if (w->scan) {
            if (w->vec_pos < w->vec_n) {
                const np_linux_region *reg = &w->vec[w->vec_pos];
                /* A region may start inside a huge page: its head is the
                 * address to give (never one already given). */
                if (w->addr < reg->start) {
                    uint64_t h = head_of(r, reg->start);
                    w->addr = h > w->addr ? h : w->addr;
                }
                if (w->addr >= reg->end || w->addr >= r->end) {
                    w->vec_pos++;
                    continue;
                }
            } else if (w->scanned_to >= r->end) {
                w->addr = r->end; /* nothing more present in this range */
                continue;
            } else {
                if (w->addr < w->scanned_to)
                    w->addr = head_at_or_after(r, w->scanned_to);
                int rc = scan_more(w);
                if (rc < 0)
                    return rc;
                continue;
            }
        }
        /* Keep an aligned THP-sized block in one call when it fits in one. */
        if (r->thp && n > 0 && w->thp_bytes > page && (w->addr % w->thp_bytes) == 0 &&
            w->addr + w->thp_bytes <= r->end &&
            (n + w->thp_bytes / page > want || bytes + w->thp_bytes > want_bytes) &&
            w->thp_bytes / page <= want && w->thp_bytes <= want_bytes)
            break;
        pages[n] = (void *)(uintptr_t)w->addr;
        flags[n] =
            (unsigned char)((r->anon ? NP_LINUX_WALK_ANON : 0) | (r->thp ? NP_LINUX_WALK_THP : 0));
        if (page_bytes)
            page_bytes[n] = page;
        n++;
        bytes += page;
        w->addr += page;
    }
    return (long)n;
}

long np_linux_walk_next(np_linux_walk *w, void **pages, unsigned char *anon, size_t want)
{
    long n = np_linux_walk_next_sized(w, pages, anon, NULL, want, UINT64_MAX);
    for (long i = 0; i < n; i++)
        anon[i] = (anon[i] & NP_LINUX_WALK_ANON) != 0;
    return n;
}
