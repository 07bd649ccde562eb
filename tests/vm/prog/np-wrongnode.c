/*
 * np-wrongnode - a workload whose memory is on the wrong node, for the VM
 * tests of the Linux layer (chunked mover, migrate_pages, sensing).
 *
 *   np-wrongnode MIB TOUCH_NODE RUN_NODE SECONDS
 *
 * Binds itself (CPU affinity and MPOL_BIND) to TOUCH_NODE, touches MIB MiB
 * of anonymous memory (transparent huge pages off, so pages move one by
 * one), drops the memory policy, prints
 *   READY pid=PID pages=N N0=.. N1=..
 * and then runs on RUN_NODE's CPUs (-1: all CPUs; "Nu": moves to node N's
 * CPUs and then widens its affinity to all CPUs, so it runs on node N but
 * nobody pins it - the scheduler leaves a running task where it is while
 * nothing pulls it away), writing one byte per
 * page in sweeps over its memory. Once a second, and when it ends (after
 * SECONDS, or at SIGTERM/SIGINT), it prints where its pages are and the
 * longest time one 1 MiB slice of a sweep took (max_slice_us) - the stall
 * a migration inflicts on a process that keeps using its memory:
 *   t=2.0 cpu=1 N0=.. N1=.. max_slice_us=.. sweeps=..
 *   FINAL cpu=1 N0=.. N1=.. max_slice_us=.. sweeps=..
 * Standalone (raw system calls, no libnuma), so it links statically.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <numaif.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Nodes a report prints (the VM tests use at most 8). */
#define MAX_NODES 64
/* Pages per move_pages status query of its own memory. */
#define QUERY_BATCH 4096
/* Pages per timed slice of a sweep: 1 MiB of 4 KiB pages. */
#define SLICE_PAGES 256
/* Seconds between status lines. */
#define REPORT_PERIOD_NS 1000000000ull

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPUs of a node from sysfs ("0-1,4") into set; -1 on error. */
static int node_cpus(int node, cpu_set_t *set)
{
    char path[96], buf[4096];
    snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist", node);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    CPU_ZERO(set);
    char *p = buf;
    while (*p && *p != '\n') {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p)
            return -1;
        p = end;
        if (*p == '-') {
            b = strtol(p + 1, &end, 10);
            p = end;
        }
        for (long c = a; c <= b && c < CPU_SETSIZE; c++)
            CPU_SET((int)c, set);
        if (*p == ',')
            p++;
    }
    return CPU_COUNT(set) > 0 ? 0 : -1;
}

static void count_nodes(char *mem, size_t pages, size_t page_size, unsigned long *per_node)
{
    static void *addrs[QUERY_BATCH];
    static int status[QUERY_BATCH];
    memset(per_node, 0, MAX_NODES * sizeof(*per_node));
    for (size_t i = 0; i < pages; i += QUERY_BATCH) {
        size_t n = pages - i < QUERY_BATCH ? pages - i : QUERY_BATCH;
        for (size_t j = 0; j < n; j++)
            addrs[j] = mem + (i + j) * page_size;
        if (syscall(SYS_move_pages, 0, n, addrs, NULL, status, 0) < 0)
            return;
        for (size_t j = 0; j < n; j++)
            if (status[j] >= 0 && status[j] < MAX_NODES)
                per_node[status[j]]++;
    }
}

static void report(const char *prefix, char *mem, size_t pages, size_t page_size,
                   uint64_t max_slice_ns, unsigned long sweeps)
{
    unsigned long per_node[MAX_NODES];
    unsigned cpu = 0, node = 0;
    count_nodes(mem, pages, page_size, per_node);
    syscall(SYS_getcpu, &cpu, &node, NULL);
    printf("%s cpu=%u", prefix, cpu);
    int last = 1;
    for (int i = 0; i < MAX_NODES; i++)
        if (per_node[i])
            last = i;
    for (int i = 0; i <= last; i++)
        printf(" N%d=%lu", i, per_node[i]);
    printf(" max_slice_us=%llu sweeps=%lu\n", (unsigned long long)(max_slice_ns / 1000), sweeps);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: np-wrongnode MIB TOUCH_NODE RUN_NODE SECONDS\n");
        return 2;
    }
    long mib = strtol(argv[1], NULL, 10);
    int touch = (int)strtol(argv[2], NULL, 10);
    char *run_end = NULL;
    int run = (int)strtol(argv[3], &run_end, 10);
    int unpinned = run_end && *run_end == 'u';
    long secs = strtol(argv[4], NULL, 10);
    size_t page_size = (size_t)sysconf(_SC_PAGESIZE);
    size_t bytes = (size_t)mib << 20, pages = bytes / page_size;
    cpu_set_t set;

    if (mib <= 0 || touch < 0 || touch >= MAX_NODES || secs <= 0) {
        fprintf(stderr, "np-wrongnode: bad arguments\n");
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    if (node_cpus(touch, &set) == 0 && sched_setaffinity(0, sizeof(set), &set) < 0)
        perror("np-wrongnode: sched_setaffinity(touch)");
    unsigned long mask = 1ul << touch;
    if (syscall(SYS_set_mempolicy, MPOL_BIND, &mask, sizeof(mask) * 8 + 1) < 0)
        perror("np-wrongnode: set_mempolicy(MPOL_BIND)");
    char *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        perror("np-wrongnode: mmap");
        return 1;
    }
    madvise(mem, bytes, MADV_NOHUGEPAGE);
    for (size_t i = 0; i < pages; i++)
        mem[i * page_size] = (char)i;
    syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0);

    unsigned long per_node[MAX_NODES];
    count_nodes(mem, pages, page_size, per_node);
    printf("READY pid=%d pages=%zu", (int)getpid(), pages);
    for (int i = 0; i < 2 || (i < MAX_NODES && per_node[i]); i++)
        printf(" N%d=%lu", i, per_node[i]);
    printf("\n");
    fflush(stdout);

    if (run >= 0) {
        if (node_cpus(run, &set) == 0 && sched_setaffinity(0, sizeof(set), &set) < 0)
            perror("np-wrongnode: sched_setaffinity(run)");
    }
    if (run < 0 || unpinned) {
        /* Widening the mask does not move a running task off its CPU. */
        CPU_ZERO(&set);
        for (int c = 0; c < CPU_SETSIZE; c++)
            CPU_SET(c, &set);
        sched_setaffinity(0, sizeof(set), &set);
    }

    uint64_t start = now_ns(), next_report = start + REPORT_PERIOD_NS, max_slice = 0;
    unsigned long sweeps = 0;
    while (!stop && now_ns() - start < (uint64_t)secs * 1000000000ull) {
        for (size_t i = 0; i < pages && !stop; i += SLICE_PAGES) {
            uint64_t t0 = now_ns();
            size_t end = i + SLICE_PAGES < pages ? i + SLICE_PAGES : pages;
            for (size_t j = i; j < end; j++)
                mem[j * page_size]++;
            uint64_t t1 = now_ns();
            if (t1 - t0 > max_slice)
                max_slice = t1 - t0;
            if (t1 >= next_report) {
                char prefix[32];
                snprintf(prefix, sizeof(prefix), "t=%.1f", (double)(t1 - start) / 1e9);
                report(prefix, mem, pages, page_size, max_slice, sweeps);
                next_report = t1 + REPORT_PERIOD_NS;
            }
        }
        sweeps++;
    }
    report("FINAL", mem, pages, page_size, max_slice, sweeps);
    return 0;
}
