/*
 * linux_sense_bench.c - what sensing one guest costs numaplaced, for guests
 * of 1, 16 and 256 GiB.
 *
 *   linux_sense_bench [REAL_MIB...]      (default: 256 1024)
 *
 * Real part: for each REAL_MIB, a child process touches that much anonymous
 * memory (4 KiB pages, THP off) and waits; the parent times the two ways the
 * Linux layer senses it (np_linux_bench_sense_run, median of 5): reading and
 * parsing /proc/PID/numa_maps (the daemon's way: the kernel walks the page
 * tables), and asking move_pages(2) where each page is. Printed per run and
 * per 4 KiB page.
 *
 * Synthetic part: a host rarely has 256 GiB to spare for a benchmark, so
 * for 1, 16 and 256 GiB the numa_maps *text* of a QEMU-like process (300
 * small mappings of binaries and libraries, plus guest RAM as one mapping
 * split over two nodes, as the kernel prints it) is generated and parsed:
 * the parse cost does not grow with the page count (a count is one number),
 * only the kernel's walk does. The per-GiB estimate adds the walk cost
 * measured per page in the real part, times the page count. Both parts are
 * printed; docs/results-linux.md explains.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <numaplace/linux.h>

#define REPS 5u
#define SYNTH_LIBS 300u /* mappings of a QEMU process besides guest RAM */

static pid_t spawn_toucher(size_t mib, int ready_fd)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    size_t len = mib << 20;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        _exit(1);
    madvise(p, len, MADV_NOHUGEPAGE);
    for (size_t off = 0; off < len; off += 4096)
        p[off] = 1;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (write(ready_fd, "r", 1) != 1)
        _exit(1);
    pause();
    _exit(0);
}

static char *synth_numa_maps(uint64_t guest_pages, size_t *len_out)
{
    size_t cap = (SYNTH_LIBS + 2) * 160, len = 0;
    char *t = malloc(cap);
    if (!t)
        return NULL;
    for (unsigned i = 0; i < SYNTH_LIBS; i++)
        len += (size_t)snprintf(t + len, cap - len,
                                "7f%08x000 default file=/usr/lib/x86_64-linux-gnu/lib%u.so "
                                "mapped=%u mapmax=3 N0=%u kernelpagesize_kB=4\n",
                                i * 64, i, 20 + i % 50, 20 + i % 50);
    len += (size_t)snprintf(t + len, cap - len,
                            "7e0000000000 bind:0-1 anon=%llu dirty=%llu N0=%llu N1=%llu "
                            "kernelpagesize_kB=4\n",
                            (unsigned long long)guest_pages, (unsigned long long)guest_pages,
                            (unsigned long long)(guest_pages / 2),
                            (unsigned long long)(guest_pages - guest_pages / 2));
    *len_out = len;
    return t;
}

int main(int argc, char **argv)
{
    np_linux_ctx *ctx = NULL;
    double walk_ns_per_page = 0;
    double prev_pages = 0, prev_ns = 0, last_pages = 0, last_ns = 0;
    size_t sizes[8] = {256, 1024};
    size_t nsizes = 2;

    if (argc > 1) {
        nsizes = 0;
        for (int i = 1; i < argc && nsizes < 8; i++) {
            char *end = NULL;
            unsigned long v = strtoul(argv[i], &end, 10);
            if (!end || *end || v == 0) {
                fprintf(stderr, "usage: linux_sense_bench [REAL_MIB...]\n");
                return 2;
            }
            sizes[nsizes++] = v;
        }
    }
    if (np_linux_ctx_create("/", NULL, NULL, &ctx)) {
        fprintf(stderr, "linux_sense_bench: cannot open /\n");
        return 1;
    }
    printf("real processes (median of %u):\n", REPS);
    printf("%10s %14s %14s %14s %14s\n", "MiB", "numa_maps_us", "ns/page", "query_us",
           "ns/page");
    for (size_t i = 0; i < nsizes; i++) {
        int fds[2];
        char c;
        if (pipe(fds))
            return 1;
        pid_t pid = spawn_toucher(sizes[i], fds[1]);
        if (pid < 0 || read(fds[0], &c, 1) != 1) {
            fprintf(stderr, "linux_sense_bench: child for %zu MiB failed\n", sizes[i]);
            return 1;
        }
        close(fds[0]);
        close(fds[1]);
        np_linux_bench_sense b;
        int rc = np_linux_bench_sense_run(ctx, pid, REPS, np_linux_clock_now_ns, NULL, &b);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (rc) {
            fprintf(stderr, "linux_sense_bench: %s\n", np_strerror(rc));
            return 1;
        }
        double pages = (double)b.numa_maps_bytes / 4096.0;
        walk_ns_per_page = (double)b.numa_maps_ns / pages;
        prev_pages = last_pages;
        prev_ns = last_ns;
        last_pages = pages;
        last_ns = (double)b.numa_maps_ns;
        printf("%10zu %14.1f %14.2f %14.1f %14.2f\n", sizes[i], b.numa_maps_ns / 1e3,
               walk_ns_per_page, b.query_ns / 1e3, (double)b.query_ns / (double)b.query_pages);
    }
    /* The walk has a fixed part: extrapolate along the slope between the
     * two largest real runs (their marginal cost per page), from the
     * largest; with one run, its average cost per page. */
    double slope = walk_ns_per_page, base_pages = 0, base_ns = 0;
    if (prev_pages > 0 && last_pages > prev_pages && last_ns > prev_ns) {
        slope = (last_ns - prev_ns) / (last_pages - prev_pages);
        base_pages = last_pages;
        base_ns = last_ns;
    }
    printf("\nsynthetic numa_maps of a QEMU guest (%u library mappings + guest RAM on 2 nodes),"
           " parse only; estimate = parse + the kernel's walk extrapolated at %.2f ns/page "
           "(marginal cost between the two largest real runs):\n",
           SYNTH_LIBS, slope);
    printf("%10s %14s %14s %16s\n", "GiB", "pages", "parse_us", "estimate_ms");
    static const unsigned gib[] = {1, 16, 256};
    for (size_t i = 0; i < 3; i++) {
        uint64_t pages = (uint64_t)gib[i] << 18; /* 4 KiB pages per GiB */
        size_t len = 0;
        char *text = synth_numa_maps(pages, &len);
        uint64_t best = UINT64_MAX;
        for (unsigned r = 0; r < REPS && text; r++) {
            np_linux_mem m = {0};
            np_error err = {0};
            uint64_t t0 = np_linux_clock_now_ns(NULL);
            int rc = np_linux_numa_maps_parse(text, len, "synthetic", &m, &err);
            uint64_t dt = np_linux_clock_now_ns(NULL) - t0;
            if (rc || m.total_bytes < pages * 4096) {
                fprintf(stderr, "linux_sense_bench: synthetic parse failed: %s\n", err.msg);
                return 1;
            }
            np_linux_mem_fini(&m);
            best = dt < best ? dt : best;
        }
        free(text);
        printf("%10u %14llu %14.1f %16.1f\n", gib[i], (unsigned long long)pages, best / 1e3,
               (best + base_ns + slope * ((double)pages - base_pages)) / 1e6);
    }
    np_linux_ctx_destroy(ctx);
    return 0;
}
