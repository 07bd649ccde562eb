/*
 * np-hugeguest - a QEMU-like guest whose RAM is hugetlb memory on the wrong
 * node, for the hugetlb VM test of the chunked mover.
 *
 *   np-hugeguest [-name NAME] anon|memfd|thp MIB TOUCH_NODE RUN_NODE THREADS SECONDS
 *
 * Run through a link named qemu-system-x86_64 with -name NAME, numaplace's
 * Linux layer sees a QEMU guest called NAME whose vCPUs are the writer
 * threads (named "CPU n/KVM" as QEMU names them).
 *
 * The RAM is MIB MiB of 2 MiB huge pages, mapped the ways QEMU maps guest
 * RAM backed by huge pages: `anon` is a private MAP_HUGETLB mapping, `memfd`
 * a memfd_create(MFD_HUGETLB) file, ftruncate'd and mapped MAP_SHARED
 * (memory-backend-memfd,hugetlb=on), `thp` ordinary anonymous memory
 * aligned to 2 MiB with MADV_HUGEPAGE (memory-backend-ram, the default,
 * with transparent huge pages). THREADS may be 0 (nobody writes). The process binds itself (CPU
 * affinity and MPOL_BIND) to TOUCH_NODE, touches every huge page there, drops the policy, prints
 *   READY pid=PID hpages=N N0=.. N1=..
 * and starts THREADS writer threads ("vCPUs") on RUN_NODE's CPUs, each
 * sweeping its own share of the RAM writing one byte per 4 KiB. Once a
 * second and at the end (SECONDS, or SIGTERM) it prints where its huge
 * pages are (move_pages query at each head address) and the longest time a
 * writer took for one 1 MiB slice:
 *   t=2.0 N0=.. N1=.. max_slice_us=..
 *   FINAL N0=.. N1=.. max_slice_us=..
 * Standalone (raw system calls, no libnuma).
 */
#define _GNU_SOURCE
#include <numaif.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004u
#endif
#ifndef MAP_HUGETLB
#define MAP_HUGETLB 0x40000
#endif

/* Nodes a report prints. */
#define MAX_NODES 64
/* The hugetlb page size the test reserves (x86-64's default huge page). */
#define HPAGE_BYTES (2ull << 20)
/* Bytes written per timed slice: 1 MiB. */
#define SLICE_BYTES (1ull << 20)
/* Writes every this many bytes: one per 4 KiB page. */
#define TOUCH_STRIDE 4096u
#define MAX_THREADS 64
#define REPORT_PERIOD_NS 1000000000ull

static volatile sig_atomic_t stop;
static _Atomic uint64_t max_slice_ns;

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

static char *mem;
static size_t hpages;
static int nthreads;
static cpu_set_t run_set;

static void report(const char *prefix)
{
    unsigned long per_node[MAX_NODES] = {0};
    void *addrs[256];
    int status[256];
    for (size_t i = 0; i < hpages; i += 256) {
        size_t n = hpages - i < 256 ? hpages - i : 256;
        for (size_t j = 0; j < n; j++)
            addrs[j] = mem + (i + j) * HPAGE_BYTES;
        if (syscall(SYS_move_pages, 0, n, addrs, NULL, status, 0) < 0)
            break;
        for (size_t j = 0; j < n; j++)
            if (status[j] >= 0 && status[j] < MAX_NODES)
                per_node[status[j]]++;
    }
    int last = 1;
    for (int i = 0; i < MAX_NODES; i++)
        if (per_node[i])
            last = i;
    printf("%s", prefix);
    for (int i = 0; i <= last; i++)
        printf(" N%d=%lu", i, per_node[i]);
    printf(" max_slice_us=%llu\n", (unsigned long long)(atomic_load(&max_slice_ns) / 1000));
    fflush(stdout);
}

static void *writer(void *arg)
{
    size_t k = (size_t)(uintptr_t)arg;
    size_t bytes = hpages * HPAGE_BYTES, share = bytes / (size_t)nthreads;
    char *lo = mem + k * share, *hi = k + 1 == (size_t)nthreads ? mem + bytes : lo + share;
    char name[16];
    snprintf(name, sizeof(name), "CPU %zu/KVM", k);
    prctl(PR_SET_NAME, name);
    sched_setaffinity(0, sizeof(run_set), &run_set);
    while (!stop) {
        for (char *s = lo; s < hi && !stop; s += SLICE_BYTES) {
            uint64_t t0 = now_ns();
            char *e = s + SLICE_BYTES < hi ? s + SLICE_BYTES : hi;
            for (char *p = s; p < e; p += TOUCH_STRIDE)
                (*(volatile char *)p)++;
            uint64_t d = now_ns() - t0, cur = atomic_load(&max_slice_ns);
            while (d > cur && !atomic_compare_exchange_weak(&max_slice_ns, &cur, d))
                ;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "-name") == 0) {
        argc -= 2; /* the name is for numaplace's view of the command line */
        argv += 2;
    }
    if (argc != 7) {
        fprintf(stderr, "usage: np-hugeguest [-name NAME] anon|memfd|thp MIB TOUCH_NODE RUN_NODE "
                        "THREADS SECONDS\n");
        return 2;
    }
    int memfd_mode = strcmp(argv[1], "memfd") == 0, thp_mode = strcmp(argv[1], "thp") == 0;
    long mib = strtol(argv[2], NULL, 10);
    int touch = (int)strtol(argv[3], NULL, 10), run = (int)strtol(argv[4], NULL, 10);
    nthreads = (int)strtol(argv[5], NULL, 10);
    long secs = strtol(argv[6], NULL, 10);
    if ((!memfd_mode && !thp_mode && strcmp(argv[1], "anon") != 0) || mib < 2 || touch < 0 ||
        touch >= MAX_NODES || run < 0 || nthreads < 0 || nthreads > MAX_THREADS || secs < 1) {
        fprintf(stderr, "np-hugeguest: bad arguments\n");
        return 2;
    }
    hpages = (size_t)mib / 2;
    size_t bytes = hpages * HPAGE_BYTES;
    cpu_set_t set;
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    if (node_cpus(touch, &set) == 0)
        sched_setaffinity(0, sizeof(set), &set);
    if (node_cpus(run, &run_set) < 0) {
        fprintf(stderr, "np-hugeguest: node %d has no CPUs\n", run);
        return 2;
    }
    unsigned long mask = 1ul << touch;
    if (syscall(SYS_set_mempolicy, MPOL_BIND, &mask, sizeof(mask) * 8 + 1) < 0)
        perror("np-hugeguest: set_mempolicy(MPOL_BIND)");
    if (memfd_mode) {
        int fd = (int)syscall(SYS_memfd_create, "guest-ram", MFD_HUGETLB);
        if (fd < 0 || ftruncate(fd, (off_t)bytes) < 0) {
            perror("np-hugeguest: memfd_create(MFD_HUGETLB)");
            return 1;
        }
        mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    } else if (thp_mode) {
        char *raw = mmap(NULL, bytes + HPAGE_BYTES, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        mem = raw == MAP_FAILED ? raw
                                : (char *)(((uintptr_t)raw + HPAGE_BYTES - 1) & ~(HPAGE_BYTES - 1));
        if (mem != MAP_FAILED)
            madvise(mem, bytes, MADV_HUGEPAGE);
    } else {
        mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB,
                   -1, 0);
    }
    if (mem == MAP_FAILED) {
        perror("np-hugeguest: mmap");
        return 1;
    }
    for (size_t i = 0; i < bytes; i += TOUCH_STRIDE)
        mem[i] = (char)i;
    syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0);
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "READY pid=%d hpages=%zu addr=%lx", (int)getpid(), hpages,
             (unsigned long)(uintptr_t)mem);
    report(prefix);

    pthread_t th[MAX_THREADS];
    for (int k = 0; k < nthreads; k++)
        pthread_create(&th[k], NULL, writer, (void *)(uintptr_t)k);
    uint64_t start = now_ns(), next = start + REPORT_PERIOD_NS;
    while (!stop && now_ns() - start < (uint64_t)secs * 1000000000ull) {
        usleep(50000);
        if (now_ns() >= next) {
            snprintf(prefix, sizeof(prefix), "t=%.1f", (double)(now_ns() - start) / 1e9);
            report(prefix);
            next += REPORT_PERIOD_NS;
        }
    }
    stop = 1;
    for (int k = 0; k < nthreads; k++)
        pthread_join(th[k], NULL);
    report("FINAL");
    return 0;
}
