/*
 * cgroup_sense_bench.c - what sensing a guest through its cgroup's
 * memory.numa_stat costs numaplaced: the read of the file (the kernel
 * formats per-node counters it keeps, whatever the cgroup's size) and the
 * library's parse of it (np_linux_numa_stat_parse, what
 * np_linux_mem_cgroup_numa_stat does after the read).
 *
 *   cgroup_sense_bench [--reps N] FILE...      (default --reps 200)
 *   cgroup_sense_bench [--reps N] --cgroup ROOT CGROUP
 *
 * For each FILE: N rounds of open + read to the end + close, then N parses
 * of the text read (a file that is not in the cgroup v2 format, such as a
 * cgroup v1 memory.numa_stat, is read and timed but reported "no parse").
 * Prints per FILE: bytes, the read's median/min/max in microseconds, the
 * parse's median/min/max, and the guest memory the parse found (anon +
 * shmem) in GiB. With --cgroup: N calls of np_linux_mem_cgroup_numa_stat
 * on CGROUP under the root ROOT (a fixture tree, or / for the live host):
 * what sensing one guest costs the daemon end to end - memory.numa_stat
 * and each hugetlb.<size>.numa_stat tried, read and parsed. Prints the
 * call's median/min/max and what it found. docs/results-linux.md reports
 * the numbers.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <numaplace/linux.h>

#define REPS_DEFAULT 200u
#define REPS_MAX 100000u
#define FILE_MAX_BYTES (1u << 20)

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Reads path whole into buf (at most cap - 1 bytes): bytes, or -errno. */
static long read_whole(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t len = 0;
    if (fd < 0)
        return -errno;
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return -e;
        }
        if (n == 0 || len + (size_t)n == cap - 1) {
            len += (size_t)n;
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return (long)len;
}

static void stats(uint64_t *t, unsigned n, double *med_us, double *min_us, double *max_us)
{
    qsort(t, n, sizeof(*t), cmp_u64);
    *med_us = (double)t[n / 2] / 1e3;
    *min_us = (double)t[0] / 1e3;
    *max_us = (double)t[n - 1] / 1e3;
}

static int bench_file(const char *path, unsigned reps, char *buf, uint64_t *t)
{
    long len = 0;
    double med, mn, mx;

    for (unsigned r = 0; r < reps; r++) {
        uint64_t t0 = now_ns();
        len = read_whole(path, buf, FILE_MAX_BYTES);
        t[r] = now_ns() - t0;
        if (len < 0) {
            fprintf(stderr, "cgroup_sense_bench: %s: %s\n", path, strerror((int)-len));
            return -1;
        }
    }
    stats(t, reps, &med, &mn, &mx);
    printf("%s\n  bytes %ld | read us: median %.1f min %.1f max %.1f\n", path, len, med, mn, mx);

    np_linux_mem probe;
    memset(&probe, 0, sizeof(probe));
    if (np_linux_numa_stat_parse(buf, (size_t)len, path, 0, &probe, NULL) != 0) {
        printf("  parse: no parse (not the cgroup v2 format)\n");
        np_linux_mem_fini(&probe);
        return 0;
    }
    uint64_t total = probe.total_bytes;
    np_linux_mem_fini(&probe);
    for (unsigned r = 0; r < reps; r++) {
        np_linux_mem m;
        memset(&m, 0, sizeof(m));
        uint64_t t0 = now_ns();
        int rc = np_linux_numa_stat_parse(buf, (size_t)len, path, 0, &m, NULL);
        t[r] = now_ns() - t0;
        np_linux_mem_fini(&m);
        if (rc)
            return -1;
    }
    stats(t, reps, &med, &mn, &mx);
    printf("  parse us: median %.1f min %.1f max %.1f | guest memory found %.2f GiB\n", med, mn,
           mx, (double)total / (1024.0 * 1024.0 * 1024.0));
    return 0;
}

/* N calls of the daemon's sensing of one cgroup guest. */
static int bench_cgroup(const char *root, const char *cgroup, unsigned reps, uint64_t *t)
{
    np_linux_ctx *ctx = NULL;
    np_linux_mem m;
    double med, mn, mx;
    int rc = np_linux_ctx_create(root, NULL, NULL, &ctx);
    if (rc) {
        fprintf(stderr, "cgroup_sense_bench: root %s: %s\n", root, strerror(-rc));
        return -1;
    }
    memset(&m, 0, sizeof(m));
    for (unsigned r = 0; r < reps && !rc; r++) {
        uint64_t t0 = now_ns();
        rc = np_linux_mem_cgroup_numa_stat(ctx, cgroup, &m);
        t[r] = now_ns() - t0;
    }
    if (rc) {
        fprintf(stderr, "cgroup_sense_bench: cgroup %s under %s: %s\n", cgroup, root,
                strerror(-rc));
    } else {
        stats(t, reps, &med, &mn, &mx);
        printf("cgroup %s under %s\n  np_linux_mem_cgroup_numa_stat us: median %.1f min %.1f max "
               "%.1f | found %.2f GiB, %.2f GiB of it hugetlb%s\n",
               cgroup, root, med, mn, mx, (double)m.total_bytes / (1024.0 * 1024.0 * 1024.0),
               (double)m.huge_bytes / (1024.0 * 1024.0 * 1024.0),
               m.huge_not_sensed ? " (no hugetlb.<size>.numa_stat: not sensed)" : "");
    }
    np_linux_mem_fini(&m);
    np_linux_ctx_destroy(ctx);
    return rc ? -1 : 0;
}

int main(int argc, char **argv)
{
    unsigned reps = REPS_DEFAULT;
    int first = 1, ret = 0;
    char *buf = NULL;
    uint64_t *t = NULL;

    if (argc > 2 && strcmp(argv[1], "--reps") == 0) {
        char *end = NULL;
        unsigned long v = strtoul(argv[2], &end, 10);
        if (!end || *end || v == 0 || v > REPS_MAX) {
            fprintf(stderr, "cgroup_sense_bench: --reps: 1 to %u\n", REPS_MAX);
            return 2;
        }
        reps = (unsigned)v;
        first = 3;
    }
    bool cg = first < argc && strcmp(argv[first], "--cgroup") == 0;
    if (first >= argc || (cg && argc != first + 3)) {
        fprintf(stderr, "usage: cgroup_sense_bench [--reps N] FILE...\n"
                        "       cgroup_sense_bench [--reps N] --cgroup ROOT CGROUP\n");
        return 2;
    }
    buf = malloc(FILE_MAX_BYTES);
    t = calloc(reps, sizeof(*t));
    if (!buf || !t) {
        fprintf(stderr, "cgroup_sense_bench: out of memory\n");
        ret = 1;
        goto out;
    }
    if (cg && bench_cgroup(argv[first + 1], argv[first + 2], reps, t))
        ret = 1;
    for (int i = first; i < argc && !cg; i++)
        if (bench_file(argv[i], reps, buf, t))
            ret = 1;
out:
    free(buf);
    free(t);
    return ret;
}
