/*
 * linux/linux_internal.h - what the files of src/linux share: the context,
 * the table of system calls (replaceable so unit tests can drive the
 * chunked mover against a fake multi-node process), file access relative to
 * the root directory fd, and the /proc/PID/maps parser.
 */
#ifndef NP_LINUX_INTERNAL_H
#define NP_LINUX_INTERNAL_H

#include <numaplace/linux.h>

#include <stdarg.h>

/* Largest /proc or /sys file read in one piece. numa_maps and maps of a
 * QEMU with many mappings stay far below; the cap protects against a
 * runaway fixture. */
#define NP_LINUX_FILE_MAX_BYTES (64u << 20)

/* A run of present pages [start, end), laid out as the kernel's struct
 * page_region of the PAGEMAP_SCAN ioctl (Linux 6.7+). */
typedef struct np_linux_region {
    uint64_t start, end;
    uint64_t categories;
} np_linux_region;

/* System calls, returning the raw result (>= 0) or -errno (never -1 with
 * errno), so a fake needs no errno juggling. Node masks are bitmaps of
 * `maxnode` bits in unsigned longs, as the kernel takes them. */
typedef struct np_linux_sys {
    long (*move_pages)(void *opaque, pid_t pid, unsigned long count, void **pages,
                       const int *nodes, int *status, int flags);
    long (*migrate_pages)(void *opaque, pid_t pid, unsigned long maxnode,
                          const unsigned long *old_nodes, const unsigned long *new_nodes);
    /* cpus: set of `nbits` bits in unsigned longs */
    int (*set_affinity)(void *opaque, pid_t tid, size_t nbits, const unsigned long *cpus);
    int (*get_affinity)(void *opaque, pid_t tid, size_t nbits, unsigned long *cpus);
    /* PAGEMAP_SCAN on an open /proc/PID/pagemap: the present pages of
     * [start, end) as up to vec_len regions; *walk_end_out = where the scan
     * stopped. Returns the region count. NULL = not available. */
    long (*scan_present)(void *opaque, int pagemap_fd, uint64_t start, uint64_t end,
                         np_linux_region *vec, size_t vec_len, uint64_t *walk_end_out);
    void *opaque;
} np_linux_sys;

struct np_linux_ctx {
    int root_fd;
    bool live;              /* root is the real "/" */
    bool sys_ok;            /* live, or a fake table was installed */
    np_linux_sys sys;
    np_log_fn log;
    void *log_opaque;
    size_t page_size;
    char *cgroup2_mount;    /* relative to root, found lazily; NULL = not yet */
    np_error last_error;
};

/* Replace the system calls (tests). Also allows them on a fixture root. */
void np_linux_ctx_set_sys(np_linux_ctx *ctx, const np_linux_sys *sys);
/* The real ones. */
extern const np_linux_sys np_linux_sys_real;

void np_linux_log(np_linux_ctx *ctx, np_log_level level, const char *subsys, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Record a parse error in ctx->last_error and log it as a warning. Returns -EINVAL. */
int np_linux_parse_failed(np_linux_ctx *ctx, const char *subsys, const np_error *err);

/* Read/write a file given relative to the root ("proc/1/maps"; a leading
 * '/' is ignored). Reads NUL-terminate the buffer. -errno on failure. */
int np_linux_read_at(np_linux_ctx *ctx, const char *path, char **buf_out, size_t *len_out);
int np_linux_write_at(np_linux_ctx *ctx, const char *path, const char *text);
/* Same for /proc/PID/...: a missing process (ENOENT/ESRCH) becomes -ESRCH. */
int np_linux_read_pid(np_linux_ctx *ctx, pid_t pid, const char *file, char **buf_out,
                      size_t *len_out);
/* Read a one-line file and trim trailing blanks/newlines. */
int np_linux_read_line_at(np_linux_ctx *ctx, const char *path, char *buf, size_t len);
/* snprintf into buf, -ENAMETOOLONG when it does not fit. */
int np_linux_path(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The cgroup v2 path ("0::/path" line) of a /proc/PID/cgroup text as a heap
 * string in *out, or NULL when there is none (procs.c). */
int np_linux_cgroup_of(const char *text, size_t len, char **out);
/* Reads <cgroup2 mount>/<cgroup>/<file> (heap buffer); origin, when not
 * NULL, gets the path for messages. */
int np_linux_cgroup_read(np_linux_ctx *ctx, const char *cgroup, const char *file, char **buf_out,
                         size_t *len_out, char *origin, size_t origin_len);

/* Whether a process is gone or a zombie (no memory left to act on). */
bool np_linux_pid_gone(np_linux_ctx *ctx, pid_t pid);

/* ---- /proc/PID/maps ---- */

typedef struct np_linux_map {
    uint64_t start, end;    /* [start, end) */
    char perms[5];          /* "rw-p" */
    uint64_t offset;
    uint64_t inode;
    const char *path;       /* points into the parsed line; "" when anonymous */
} np_linux_map;

/* Parses one maps line (the line buffer must outlive out->path). */
int np_linux_maps_parse_line(const char *line, np_linux_map *out);
/* Whether a mapping is walked under a filter. */
bool np_linux_map_selected(const np_linux_map *m, np_linux_map_filter filter);
/* Whether a mapping counts as anonymous (no file behind it). */
bool np_linux_map_is_anon(const np_linux_map *m);

typedef struct np_linux_range {
    uint64_t start, end;
    bool anon;
    /* Filled by the walk from /proc/PID/smaps (0 before): the mapping's
     * KernelPageSize in bytes (2 MiB or 1 GiB for hugetlb, the base page
     * otherwise, THP included), and whether it holds transparent huge
     * pages (AnonHugePages, ShmemPmdMapped or FilePmdMapped above 0). */
    uint64_t page_bytes;
    bool thp;
} np_linux_range;

/* Applies a /proc/PID/smaps text to ranges (sorted, from the maps of the
 * same moment): page_bytes from KernelPageSize (base_page_bytes where a
 * range has no smaps entry) and thp. -EINVAL with err naming the line for
 * malformed text or a page size that is not a power of two between the
 * base page and 16 GiB, or that the mapping is not aligned to. */
int np_linux_smaps_apply(const char *text, size_t len, const char *origin, uint64_t base_page_bytes,
                         np_linux_range *ranges, size_t n, np_error *err);

/* Reads proc/PID/maps and keeps the ranges the filter selects, in address
 * order. -ESRCH when the process is gone; -EINVAL (last_error set) when a
 * line is malformed. */
int np_linux_maps_ranges(np_linux_ctx *ctx, pid_t pid, np_linux_map_filter filter,
                         np_linux_range **ranges_out, size_t *n_out);
/* The same on text already read (origin names it in errors). */
int np_linux_maps_ranges_parse(const char *text, size_t len, const char *origin,
                               np_linux_map_filter filter, np_linux_range **ranges_out,
                               size_t *n_out, np_error *err);

/* ---- walking a process's pages ---- */

/* Regions asked from PAGEMAP_SCAN per call (256 * 24 bytes = 6 KiB). */
#define NP_LINUX_SCAN_REGIONS 256u

/* Yields the page addresses of the selected mappings of a process, in
 * address order: only the present ones when the kernel has PAGEMAP_SCAN
 * (Linux 6.7+), which skips holes at page-table level, else every page.
 * Without it, a huge sparse mapping (an address-sanitizer shadow, a large
 * guest that touched little) costs one query per page of its size. */
typedef struct np_linux_walk {
    np_linux_ctx *ctx;
    pid_t pid;
    np_linux_range *ranges;
    size_t nr_ranges;
    size_t idx;             /* current range */
    uint64_t addr;          /* next address to yield */
    int pagemap_fd;         /* -1: no scan */
    bool scan;              /* PAGEMAP_SCAN works */
    np_linux_region vec[NP_LINUX_SCAN_REGIONS];
    size_t vec_n, vec_pos;
    uint64_t scanned_to;    /* the scan covered the current range below this */
    uint64_t thp_bytes;     /* a transparent huge page (hpage_pmd_size) */
} np_linux_walk;

/* Bits of the flags a sized walk yields per address. */
#define NP_LINUX_WALK_ANON 0x1u /* from a mapping without a file */
#define NP_LINUX_WALK_THP 0x2u  /* from a mapping holding transparent huge pages */

/* Reads the maps (-ESRCH when the process is gone) and opens pagemap. */
int np_linux_walk_init(np_linux_walk *w, np_linux_ctx *ctx, pid_t pid, np_linux_map_filter filter);
void np_linux_walk_fini(np_linux_walk *w);
/* Up to `want` next addresses into pages[] (anon[i]: from an anonymous
 * mapping). Returns how many (0 at the end) or -errno. */
long np_linux_walk_next(np_linux_walk *w, void **pages, unsigned char *anon, size_t want);
/* The same by page size: each address is the head of one page of its
 * mapping (a hugetlb mapping yields one address per huge page), with
 * page_bytes[i] its size and flags[i] NP_LINUX_WALK_* bits. Stops at `want`
 * addresses or before the bytes would pass want_bytes, but always yields
 * at least one page when any is left (a 1 GiB page exceeds any byte cap).
 * In a THP mapping it does not split an aligned THP-sized block between
 * two calls when the block fits in a call, so one move call sees all of a
 * transparent huge page. */
long np_linux_walk_next_sized(np_linux_walk *w, void **pages, unsigned char *flags,
                              uint64_t *page_bytes, size_t want, uint64_t want_bytes);
/* Cursor for retrying a batch: save before np_linux_walk_next, restore
 * after a failed system call. */
typedef struct np_linux_walk_pos {
    size_t idx;
    uint64_t addr;
} np_linux_walk_pos;
np_linux_walk_pos np_linux_walk_tell(const np_linux_walk *w);
void np_linux_walk_seek(np_linux_walk *w, np_linux_walk_pos pos);
/* Rewinds to `addr`, an address this walk yielded (the next call yields it
 * again); the walk must have at least one range. */
void np_linux_walk_seek_addr(np_linux_walk *w, uint64_t addr);
bool np_linux_walk_at_end(np_linux_walk *w);

/* np_linux_node_hugepool_read without touching ctx->last_error (the mover
 * reads pools from whatever thread steps it): a malformed file gives
 * -EINVAL with err set. */
int np_linux_hugepool_read_err(np_linux_ctx *ctx, unsigned node_os_id, uint64_t page_bytes,
                               np_linux_hugepool *out, np_error *err);

/* Grow the node arrays of mem to hold node_os_id. */
int np_linux_mem_reserve(np_linux_mem *mem, size_t node_os_id);
/* The slot of mem's hugetlb pages of page_bytes: the one holding that
 * size, else the first unused (the caller sets huge_page_bytes[slot] when
 * it adds bytes), NP_LINUX_HUGE_SIZES_MAX when all hold other sizes. */
size_t np_linux_mem_huge_slot(const np_linux_mem *mem, uint64_t page_bytes);

/* Nodemask helpers for the system calls: a bitmap as unsigned longs of
 * `nbits` bits (nbits rounded up to a whole long, at least one). */
int np_linux_mask_from_bitmap(const np_bitmap *map, unsigned long **mask_out, size_t *nbits_out);

/* The numeric entries of a directory under the root (proc/ or
 * proc/PID/task/), sorted (procs.c). */
int np_linux_list_numeric_dir(np_linux_ctx *ctx, const char *path, pid_t **ids_out, size_t *n_out);

#endif
