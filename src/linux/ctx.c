/*
 * linux/ctx.c - the Linux context: the root directory fd every /proc and
 * /sys path is opened relative to, the log callback, the table of system
 * calls, and the real clock handed to the migration code by callers.
 *
 * A context over a fixture tree (tests replaying captures of real hosts)
 * reads and writes files under that tree only, and refuses the system calls
 * that act on PIDs unless a test installed a fake table: PIDs in a capture
 * name processes of another machine.
 */
#include "linux/linux_internal.h"
#include "util/text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "util/error.h"

/* Fallback when sysconf cannot say: every Linux architecture numaplace
 * targets has 4 KiB base pages. */
#define NP_LINUX_DEFAULT_PAGE_BYTES 4096u
/* Longest log line; longer messages are cut. */
#define NP_LINUX_LOG_LINE_MAX 1024

/* ---- the real system calls ------------------------------------------ */

static long real_move_pages(void *opaque, pid_t pid, unsigned long count, void **pages,
                            const int *nodes, int *status, int flags)
{
    (void)opaque;
    long r = syscall(SYS_move_pages, (long)pid, count, pages, nodes, status, (long)flags);
    return r < 0 ? -errno : r;
}

static long real_migrate_pages(void *opaque, pid_t pid, unsigned long maxnode,
                               const unsigned long *old_nodes, const unsigned long *new_nodes)
{
    (void)opaque;
    long r = syscall(SYS_migrate_pages, (long)pid, maxnode, old_nodes, new_nodes);
    return r < 0 ? -errno : r;
}

static int real_set_affinity(void *opaque, pid_t tid, size_t nbits, const unsigned long *cpus)
{
    (void)opaque;
    long r = syscall(SYS_sched_setaffinity, (long)tid, nbits / 8, cpus);
    return r < 0 ? -errno : 0;
}

static int real_get_affinity(void *opaque, pid_t tid, size_t nbits, unsigned long *cpus)
{
    (void)opaque;
    long r = syscall(SYS_sched_getaffinity, (long)tid, nbits / 8, cpus);
    return r < 0 ? -errno : 0;
}

/* PAGEMAP_SCAN (Linux 6.7, include/uapi/linux/fs.h), spelled out here
 * because Debian 12's kernel headers predate it. The ABI is fixed: the
 * argument starts with its own size, so later kernels accept it too. */
struct np_pm_scan_arg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define NP_PAGEMAP_SCAN _IOWR('f', 16, struct np_pm_scan_arg)
#define NP_PAGE_IS_PRESENT (1u << 3)
#define NP_PAGE_IS_PFNZERO (1u << 5)

static long real_scan_present(void *opaque, int fd, uint64_t start, uint64_t end,
                              np_linux_region *vec, size_t vec_len, uint64_t *walk_end_out)
{
    (void)opaque;
    struct np_pm_scan_arg a = {
        .size = sizeof(a),
        .start = start,
        .end = end,
        .vec = (uint64_t)(uintptr_t)vec,
        .vec_len = vec_len,
        /* Present and not the shared zero page (which move_pages reports
         * as -EFAULT and which is nobody's memory). */
        .category_inverted = NP_PAGE_IS_PFNZERO,
        .category_mask = NP_PAGE_IS_PRESENT | NP_PAGE_IS_PFNZERO,
        .return_mask = NP_PAGE_IS_PRESENT,
    };
    long r = ioctl(fd, NP_PAGEMAP_SCAN, &a);
    if (r < 0)
        return -errno;
    *walk_end_out = a.walk_end;
    return r;
}

const np_linux_sys np_linux_sys_real = {
    .move_pages = real_move_pages,
    .migrate_pages = real_migrate_pages,
    .set_affinity = real_set_affinity,
    .get_affinity = real_get_affinity,
    .scan_present = real_scan_present,
    .opaque = NULL,
};

/* ---- context --------------------------------------------------------- */

int np_linux_ctx_create(const char *root, np_log_fn log, void *opaque, np_linux_ctx **out)
{
    np_linux_ctx *ctx = NULL;
    int rc = 0;
    struct stat st_root, st_slash;

    if (!root || !out)
        return -EINVAL;
    ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return -ENOMEM;
    ctx->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ctx->root_fd < 0) {
        rc = -errno;
        goto out;
    }
    if (fstat(ctx->root_fd, &st_root) < 0) {
        rc = -errno;
        goto out;
    }
    ctx->live = stat("/", &st_slash) == 0 && st_slash.st_dev == st_root.st_dev &&
                st_slash.st_ino == st_root.st_ino;
    ctx->sys = np_linux_sys_real;
    ctx->sys_ok = ctx->live;
    ctx->log = log;
    ctx->log_opaque = opaque;
    long ps = sysconf(_SC_PAGESIZE);
    ctx->page_size = ps > 0 ? (size_t)ps : NP_LINUX_DEFAULT_PAGE_BYTES;
    *out = ctx;
    ctx = NULL;
out:
    np_linux_ctx_destroy(ctx);
    return rc;
}

void np_linux_ctx_destroy(np_linux_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->root_fd >= 0)
        close(ctx->root_fd);
    free(ctx->cgroup2_mount);
    free(ctx);
}

bool np_linux_ctx_is_live(const np_linux_ctx *ctx)
{
    return ctx && ctx->live;
}

const np_error *np_linux_ctx_last_error(const np_linux_ctx *ctx)
{
    return ctx ? &ctx->last_error : NULL;
}

size_t np_linux_ctx_page_size(const np_linux_ctx *ctx)
{
    return ctx ? ctx->page_size : NP_LINUX_DEFAULT_PAGE_BYTES;
}

void np_linux_ctx_set_sys(np_linux_ctx *ctx, const np_linux_sys *sys)
{
    ctx->sys = sys ? *sys : np_linux_sys_real;
    ctx->sys_ok = sys ? true : ctx->live;
}

void np_linux_log(np_linux_ctx *ctx, np_log_level level, const char *subsys, const char *fmt, ...)
{
    if (!ctx || !ctx->log)
        return;
    char msg[NP_LINUX_LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ctx->log(ctx->log_opaque, level, subsys, msg);
}

int np_linux_parse_failed(np_linux_ctx *ctx, const char *subsys, const np_error *err)
{
    char buf[sizeof(err->origin) + sizeof(err->msg) + 32];
    ctx->last_error = *err;
    np_linux_log(ctx, NP_LOG_WARNING, subsys, "%s", np_error_format(err, buf, sizeof(buf)));
    return -EINVAL;
}

uint64_t np_linux_clock_now_ns(void *opaque)
{
    (void)opaque;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void np_linux_clock_sleep_ns(void *opaque, uint64_t ns)
{
    (void)opaque;
    struct timespec req = {.tv_sec = (time_t)(ns / 1000000000ull),
                           .tv_nsec = (long)(ns % 1000000000ull)};
    struct timespec rem;
    while (nanosleep(&req, &rem) < 0 && errno == EINTR)
        req = rem;
}

/* ---- files under the root -------------------------------------------- */

int np_linux_path(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

static const char *rel_path(const char *path)
{
    while (*path == '/')
        path++;
    return *path ? path : ".";
}

int np_linux_read_at(np_linux_ctx *ctx, const char *path, char **buf_out, size_t *len_out)
{
    int fd = openat(ctx->root_fd, rel_path(path), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = np_read_fd(fd, NP_LINUX_FILE_MAX_BYTES, buf_out, len_out);
    close(fd);
    return rc;
}

int np_linux_write_at(np_linux_ctx *ctx, const char *path, const char *text)
{
    int fd = openat(ctx->root_fd, rel_path(path), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = strlen(text);
    int rc = 0;
    ssize_t r;
    do {
        r = write(fd, text, len);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        rc = -errno;
    else if ((size_t)r != len)
        rc = -EIO; /* kernel attribute files take a value in one write */
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

int np_linux_read_pid(np_linux_ctx *ctx, pid_t pid, const char *file, char **buf_out,
                      size_t *len_out)
{
    char path[64];
    if (pid <= 0)
        return -EINVAL;
    int rc = np_linux_path(path, sizeof(path), "proc/%d/%s", (int)pid, file);
    if (rc < 0)
        return rc;
    rc = np_linux_read_at(ctx, path, buf_out, len_out);
    return rc == -ENOENT ? -ESRCH : rc;
}

int np_linux_read_line_at(np_linux_ctx *ctx, const char *path, char *buf, size_t len)
{
    char *text = NULL;
    size_t n = 0;
    int rc = np_linux_read_at(ctx, path, &text, &n);
    if (rc < 0)
        return rc;
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ' || text[n - 1] == '\t' ||
                     text[n - 1] == '\0'))
        n--;
    if (memchr(text, '\n', n) || memchr(text, '\0', n) || n >= len) {
        free(text);
        return -EINVAL;
    }
    memcpy(buf, text, n);
    buf[n] = '\0';
    free(text);
    return 0;
}

/* The kernel's PF_EXITING (include/linux/sched.h): set at the start of
 * do_exit(), before the memory is released, and never cleared. */
#define NP_LINUX_PF_EXITING 0x4u

bool np_linux_pid_gone(np_linux_ctx *ctx, pid_t pid)
{
    char *text = NULL;
    size_t len = 0;
    if (np_linux_read_pid(ctx, pid, "stat", &text, &len) < 0)
        return true;
    np_linux_task_stat st;
    /* A zombie, or a task on its way out: between releasing its memory
     * and becoming a zombie it still shows R or D. */
    bool gone = np_linux_task_stat_parse(text, len, "stat", &st, NULL) < 0 || st.state == 'Z' ||
                st.state == 'X' || st.state == 'x' || (st.flags & NP_LINUX_PF_EXITING);
    free(text);
    return gone;
}

int np_linux_mask_from_bitmap(const np_bitmap *map, unsigned long **mask_out, size_t *nbits_out)
{
    const size_t long_bits = 8 * sizeof(unsigned long);
    size_t nbits = long_bits;
    for (int i = np_bitmap_next(map, 0); i >= 0; i = np_bitmap_next(map, (unsigned)i + 1)) {
        if ((size_t)i >= nbits)
            nbits = ((size_t)i / long_bits + 1) * long_bits;
    }
    unsigned long *mask = calloc(nbits / long_bits, sizeof(unsigned long));
    if (!mask)
        return -ENOMEM;
    for (int i = np_bitmap_next(map, 0); i >= 0; i = np_bitmap_next(map, (unsigned)i + 1))
        mask[(size_t)i / long_bits] |= 1ul << ((size_t)i % long_bits);
    *mask_out = mask;
    *nbits_out = nbits;
    return 0;
}
