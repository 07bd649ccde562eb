/*
 * linux_sense_bench.c - what sensing one guest costs numaplaced, measured
 * (not extrapolated) at 1, 16 and 256 GiB-equivalent page counts.
 *
 *   linux_sense_bench [--reps N] [--backing-gib B] [--anon-gib A] [GIB_EQ...]
 *       defaults: --reps 5 --backing-gib 2 --anon-gib 1, GIB_EQ = 1 16 256
 *
 * Both sensing methods of the Linux layer walk page-table entries: reading
 * /proc/PID/numa_maps makes the kernel visit every present PTE of every
 * mapping; the move_pages query asks the node of every present page (found
 * with PAGEMAP_SCAN on Linux 6.7+, else every address). Their cost follows
 * the number of present PTEs, not the number of distinct physical pages.
 *
 * So a "G GiB-equivalent" process is made without G GiB of memory: a child
 * creates a memfd of B GiB (B <= G), allocates it (fallocate), and maps it
 * G/B times with MAP_SHARED|MAP_POPULATE, so its page tables hold
 * G GiB / 4 KiB present 4 KiB PTEs (shmem THP must be off:
 * /sys/kernel/mm/transparent_hugepage/shmem_enabled = never) over B GiB of
 * physical pages. Resident memory is B GiB plus the page tables (8 bytes a
 * PTE: 512 MiB at 256 GiB-equivalent).
 *
 * Before timing, the parent checks that the kernel really walks each
 * mapping: /proc/PID/numa_maps must list G/B memfd mappings, each counting
 * exactly B GiB of 4 KiB pages (every line parsed alone by the library's
 * parser), and each method must find at least G GiB. Then
 * np_linux_bench_sense_run times `reps` rounds of each method (median,
 * min, max), printed per run and per 4 KiB PTE.
 *
 * A plain anonymous process of A GiB (MAP_PRIVATE, touched, THP off) is
 * measured too, as a check that a shared-file PTE costs about what a guest
 * RAM PTE costs. --anon-gib 0 skips it. docs/results-linux.md reports the
 * numbers and what differs from a real 256 GiB guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <numaplace/linux.h>

#define DEFAULT_REPS 5u
#define REPS_MAX 100u
/* memfd size: 2 GiB + 512 MiB of page tables at 256 GiB-equivalent keeps
 * the benchmark under the 4 GiB a shared build machine can spare. */
#define DEFAULT_BACKING_GIB 2u
#define DEFAULT_ANON_GIB 1u
/* Largest size accepted: 1 TiB-equivalent is 2 GiB of page tables. */
#define GIB_EQ_MAX 1024u
#define SIZES_MAX 8u
#define PAGE_4K 4096ull
#define GIB (1ull << 30)
#define MEMFD_NAME "np-sense-bench"

typedef struct child {
    pid_t pid;
    int err; /* errno the child reported; 0 when ready */
} child;

/* Child side: build the process and wait to be killed. Reports 0 or an
 * errno through the pipe. */
static void child_main(int ready_fd, uint64_t backing_bytes, unsigned maps, bool anon)
{
    int err = 0, fd = -1;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (anon) {
        char *p = mmap(NULL, backing_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (p == MAP_FAILED) {
            err = errno;
        } else {
            madvise(p, backing_bytes, MADV_NOHUGEPAGE);
            for (uint64_t off = 0; off < backing_bytes; off += PAGE_4K)
                p[off] = 1;
        }
    } else {
        fd = memfd_create(MEMFD_NAME, MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, (off_t)backing_bytes) < 0 ||
            fallocate(fd, 0, 0, (off_t)backing_bytes) < 0)
            err = errno;
        for (unsigned k = 0; k < maps && !err; k++) {
            void *p = mmap(NULL, backing_bytes, PROT_READ | PROT_WRITE,
                           MAP_SHARED | MAP_POPULATE, fd, 0);
            if (p == MAP_FAILED)
                err = errno;
        }
    }
    if (write(ready_fd, &err, sizeof(err)) != (ssize_t)sizeof(err))
        _exit(1);
    if (!err)
        pause();
    _exit(0);
}

static int spawn(uint64_t backing_bytes, unsigned maps, bool anon, child *out)
{
    int fds[2];
    if (pipe(fds))
        return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return -e;
    }
    if (pid == 0) {
        close(fds[0]);
        child_main(fds[1], backing_bytes, maps, anon);
    }
    close(fds[1]);
    out->pid = pid;
    out->err = EPIPE;
    ssize_t r = read(fds[0], &out->err, sizeof(out->err));
    close(fds[0]);
    if (r != (ssize_t)sizeof(out->err))
        out->err = EPIPE;
    return out->err ? -out->err : 0;
}

static void reap(child *c)
{
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
        c->pid = 0;
    }
}

/* Counts the memfd mappings of pid's numa_maps and checks that each one
 * counts exactly want_bytes (parsed line by line with the library parser).
 * Returns the number of mappings, or -1 with a message. */
static long check_memfd_mappings(pid_t pid, uint64_t want_bytes)
{
    static const char needle[] = "file=/memfd:" MEMFD_NAME;
    char path[64], *text = NULL;
    size_t len = 0, cap = 0;
    long maps = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/numa_maps", (int)pid);
    f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    for (;;) {
        if (len + 65536 > cap) {
            char *n = realloc(text, cap + (1u << 20));
            if (!n) {
                fclose(f);
                free(text);
                return -1;
            }
            text = n;
            cap += 1u << 20;
        }
        size_t r = fread(text + len, 1, cap - len, f);
        if (r == 0)
            break;
        len += r;
    }
    fclose(f);
    for (size_t pos = 0; pos < len && maps >= 0;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) + 1 : len;
        if (memmem(text + pos, end - pos, needle, sizeof(needle) - 1)) {
            np_linux_mem m = {0};
            np_error err = {0};
            int rc = np_linux_numa_maps_parse(text + pos, end - pos, path, &m, &err);
            if (rc || m.total_bytes != want_bytes) {
                fprintf(stderr,
                        "linux_sense_bench: %s: a memfd mapping counts %llu bytes, not %llu "
                        "(%s)\n",
                        path, (unsigned long long)m.total_bytes, (unsigned long long)want_bytes,
                        rc ? err.msg : "shmem THP on, or pages not present?");
                maps = -1;
            } else {
                maps++;
            }
            np_linux_mem_fini(&m);
        }
        pos = end;
    }
    free(text);
    return maps;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || !end || end == s || *end || v > max)
        return -EINVAL;
    *out = (unsigned)v;
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: linux_sense_bench [--reps N] [--backing-gib B] [--anon-gib A] "
                    "[GIB_EQ...]\n");
}

static void print_row(const char *kind, unsigned gib_eq, unsigned backing, unsigned maps,
                      const np_linux_bench_sense *b)
{
    double ptes = (double)((uint64_t)gib_eq * GIB / PAGE_4K);
    printf("%-6s %7u %8u %5u %10.0f | %9.1f %9.1f %9.1f %7.1f | %9.1f %9.1f %9.1f %7.1f\n", kind,
           gib_eq, backing, maps, ptes, b->numa_maps_ns / 1e6, b->numa_maps_min_ns / 1e6,
           b->numa_maps_max_ns / 1e6, (double)b->numa_maps_ns / ptes, b->query_ns / 1e6,
           b->query_min_ns / 1e6, b->query_max_ns / 1e6, (double)b->query_ns / ptes);
    fflush(stdout);
}

/* Spawns, checks and measures one process; 0 or 1 (error printed). */
static int measure(np_linux_ctx *ctx, unsigned reps, unsigned gib_eq, unsigned backing_gib,
                   bool anon)
{
    uint64_t backing_bytes = (uint64_t)backing_gib * GIB, want = (uint64_t)gib_eq * GIB;
    unsigned maps = anon ? 1 : gib_eq / backing_gib;
    child c = {0};
    np_linux_bench_sense b;
    int rc = spawn(backing_bytes, maps, anon, &c), ret = 1;

    if (rc) {
        fprintf(stderr, "linux_sense_bench: child for %u GiB-equivalent: %s\n", gib_eq,
                strerror(-rc));
        goto out;
    }
    if (!anon) {
        long seen = check_memfd_mappings(c.pid, backing_bytes);
        if (seen < 0)
            goto out;
        if ((unsigned long)seen != maps) {
            fprintf(stderr, "linux_sense_bench: %ld memfd mappings in numa_maps, want %u\n", seen,
                    maps);
            goto out;
        }
    }
    rc = np_linux_bench_sense_run(ctx, c.pid, reps, np_linux_clock_now_ns, NULL, &b);
    if (rc) {
        fprintf(stderr, "linux_sense_bench: %s\n", np_strerror(rc));
        goto out;
    }
    if (b.numa_maps_bytes < want || b.query_bytes < want) {
        fprintf(stderr,
                "linux_sense_bench: %u GiB-equivalent: numa_maps found %llu bytes, the query "
                "%llu: fewer than %llu\n",
                gib_eq, (unsigned long long)b.numa_maps_bytes, (unsigned long long)b.query_bytes,
                (unsigned long long)want);
        goto out;
    }
    print_row(anon ? "anon" : "memfd", gib_eq, backing_gib, maps, &b);
    ret = 0;
out:
    reap(&c);
    return ret;
}

int main(int argc, char **argv)
{
    static const unsigned default_sizes[] = {1, 16, 256};
    unsigned reps = DEFAULT_REPS, backing_gib = DEFAULT_BACKING_GIB, anon_gib = DEFAULT_ANON_GIB;
    unsigned sizes[SIZES_MAX];
    size_t nsizes = 0;
    np_linux_ctx *ctx = NULL;
    int ret = 0;

    for (int i = 1; i < argc; i++) {
        unsigned *opt = strcmp(argv[i], "--reps") == 0          ? &reps
                        : strcmp(argv[i], "--backing-gib") == 0 ? &backing_gib
                        : strcmp(argv[i], "--anon-gib") == 0    ? &anon_gib
                                                                : NULL;
        if (opt) {
            if (i + 1 >= argc || parse_uint(argv[++i], GIB_EQ_MAX, opt) < 0) {
                usage();
                return 2;
            }
            continue;
        }
        if (nsizes == SIZES_MAX || parse_uint(argv[i], GIB_EQ_MAX, &sizes[nsizes]) < 0 ||
            sizes[nsizes] == 0) {
            usage();
            return 2;
        }
        nsizes++;
    }
    if (reps == 0 || reps > REPS_MAX || backing_gib == 0) {
        usage();
        return 2;
    }
    if (nsizes == 0) {
        for (; nsizes < sizeof(default_sizes) / sizeof(default_sizes[0]); nsizes++)
            sizes[nsizes] = default_sizes[nsizes];
    }
    for (size_t i = 0; i < nsizes; i++) {
        unsigned b = sizes[i] < backing_gib ? sizes[i] : backing_gib;
        if (sizes[i] % b) {
            fprintf(stderr, "linux_sense_bench: %u GiB is not a multiple of the %u GiB memfd\n",
                    sizes[i], b);
            return 2;
        }
    }
    if (np_linux_ctx_create("/", NULL, NULL, &ctx)) {
        fprintf(stderr, "linux_sense_bench: cannot open /\n");
        return 1;
    }
    if (np_linux_ctx_page_size(ctx) != PAGE_4K)
        fprintf(stderr, "linux_sense_bench: base pages are not 4 KiB; per-PTE figures assume "
                        "they are\n");
    printf("sensing cost, median (min max) of %u rounds; ms per reading, ns per 4 KiB PTE\n",
           reps);
    printf("%-6s %7s %8s %5s %10s | %9s %9s %9s %7s | %9s %9s %9s %7s\n", "kind", "GiB_eq",
           "real_GiB", "maps", "ptes", "nmaps_ms", "min", "max", "ns/pte", "query_ms", "min",
           "max", "ns/pte");
    if (anon_gib)
        ret |= measure(ctx, reps, anon_gib, anon_gib, true);
    for (size_t i = 0; i < nsizes; i++)
        ret |= measure(ctx, reps, sizes[i], sizes[i] < backing_gib ? sizes[i] : backing_gib,
                       false);
    np_linux_ctx_destroy(ctx);
    return ret;
}
