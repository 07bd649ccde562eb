/*
 * np-vcpus - a QEMU-like guest for the VM tests of unpinned balancing: one
 * process, THREADS "vCPU" threads (named "CPU n/KVM" as QEMU names them),
 * free to run anywhere, its memory first-touched on one node.
 *
 *   np-vcpus [-name NAME] MIB TOUCH_NODE THREADS SECONDS
 *
 * Run it through a link named qemu-system-x86_64 and numaplace's Linux
 * layer sees a QEMU guest called NAME whose vCPUs are the worker threads.
 * It binds itself to TOUCH_NODE (CPU affinity and MPOL_BIND), touches MIB
 * MiB of anonymous memory (transparent huge pages off: pages move one by
 * one), then drops the policy and widens its affinity to every CPU (the
 * ordinary KVM case: nobody pins it), prints
 *   READY pid=PID pages=N N0=.. N1=.. ...
 * and starts the threads; thread i writes one byte per page of its own
 * slice of the memory in sweeps and notes the CPU it runs on. Once a second
 * (and at the end: after SECONDS, or at SIGTERM) the main thread prints
 *   t=SECS loc=L N0=.. N1=.. ... cpus=C0,C1 max_slice_us=..
 * where L is the mean over threads of the share of the thread's slice on
 * the node of the CPU it last ran on (what "local" means for a guest whose
 * vCPU threads each use their own memory), N<k> the guest's pages per
 * node, max_slice_us the longest 1 MiB slice a thread took (a stall).
 * The last line starts with FINAL instead of t=. With NP_GO=PATH in the
 * environment it waits, after READY, until PATH exists before starting the
 * threads and its clock, so several guests (and a balancer) start together.
 * With NP_IDLE=1 the threads only sleep (an idle guest: its memory is
 * touched once, then left alone).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <numaif.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_NODES 16
#define MAX_CPUS 256
#define MAX_THREADS 16
#define QUERY_BATCH 4096
#define PAGE 4096UL
#define SLICE (1UL << 20)

static volatile sig_atomic_t stop;
static char *mem;
static size_t pages, nthreads;
static int node_of_cpu[MAX_CPUS];
static int nr_nodes;
static volatile int thread_cpu[MAX_THREADS];
static volatile uint64_t max_slice_ns;
static int idle;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Reads /sys/devices/system/node/nodeN/cpulist for every node. */
static void read_nodes(void)
{
    for (int c = 0; c < MAX_CPUS; c++)
        node_of_cpu[c] = -1;
    for (int n = 0; n < MAX_NODES; n++) {
        char path[96], buf[256];
        snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist", n);
        FILE *f = fopen(path, "r");
        if (!f)
            break;
        nr_nodes = n + 1;
        if (!fgets(buf, sizeof(buf), f))
            buf[0] = '\0';
        fclose(f);
        for (char *p = buf; *p && *p != '\n';) {
            long a = strtol(p, &p, 10), b = a;
            if (*p == '-')
                b = strtol(p + 1, &p, 10);
            for (long c = a; c <= b && c < MAX_CPUS; c++)
                node_of_cpu[c] = n;
            if (*p == ',')
                p++;
            else
                break;
        }
    }
}

static void *vcpu(void *arg)
{
    size_t i = (size_t)(uintptr_t)arg;
    size_t first = pages * i / nthreads, last = pages * (i + 1) / nthreads;
    char name[16];
    snprintf(name, sizeof(name), "CPU %zu/KVM", i);
    prctl(PR_SET_NAME, name);
    while (!stop && idle) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 100000000};
        nanosleep(&ts, NULL);
        thread_cpu[i] = sched_getcpu();
    }
    while (!stop) {
        for (size_t p = first; p < last && !stop;) {
            uint64_t t0 = now_ns();
            size_t end = p + SLICE / PAGE < last ? p + SLICE / PAGE : last;
            for (; p < end; p++)
                mem[p * PAGE]++;
            uint64_t dt = now_ns() - t0;
            if (dt > max_slice_ns)
                max_slice_ns = dt;
            thread_cpu[i] = sched_getcpu();
        }
    }
    return NULL;
}

/* Pages per node (counts[nr_nodes]) and the mean local share of slices. */
static double report(const char *tag, double t)
{
    static void *addrs[QUERY_BATCH];
    static int status[QUERY_BATCH];
    long counts[MAX_NODES] = {0};
    double loc = 0;
    for (size_t i = 0; i < nthreads; i++) {
        size_t first = pages * i / nthreads, last = pages * (i + 1) / nthreads;
        int cpu = thread_cpu[i];
        int home = cpu >= 0 && cpu < MAX_CPUS ? node_of_cpu[cpu] : -1;
        long local = 0;
        for (size_t p = first; p < last; p += QUERY_BATCH) {
            size_t n = last - p < QUERY_BATCH ? last - p : QUERY_BATCH;
            for (size_t k = 0; k < n; k++)
                addrs[k] = mem + (p + k) * PAGE;
            if (syscall(SYS_move_pages, 0, n, addrs, NULL, status, 0) < 0)
                continue;
            for (size_t k = 0; k < n; k++)
                if (status[k] >= 0 && status[k] < MAX_NODES) {
                    counts[status[k]]++;
                    local += status[k] == home;
                }
        }
        loc += last > first ? (double)local / (double)(last - first) : 0;
    }
    loc /= (double)nthreads;
    printf("%s%s%.1f loc=%.3f", tag, *tag == 't' ? "=" : " t=", t, loc);
    for (int n = 0; n < nr_nodes; n++)
        printf(" N%d=%ld", n, counts[n]);
    printf(" cpus=");
    for (size_t i = 0; i < nthreads; i++)
        printf("%s%d", i ? "," : "", thread_cpu[i]);
    printf(" max_slice_us=%llu\n", (unsigned long long)(max_slice_ns / 1000));
    fflush(stdout);
    return loc;
}

int main(int argc, char **argv)
{
    int a = 1;
    if (argc > 2 && strcmp(argv[1], "-name") == 0)
        a = 3;
    if (argc - a != 4) {
        fprintf(stderr, "usage: np-vcpus [-name NAME] MIB TOUCH_NODE THREADS SECONDS\n");
        return 2;
    }
    long mib = strtol(argv[a], NULL, 10);
    int touch = (int)strtol(argv[a + 1], NULL, 10);
    nthreads = (size_t)strtol(argv[a + 2], NULL, 10);
    long secs = strtol(argv[a + 3], NULL, 10);
    if (mib <= 0 || touch < 0 || nthreads < 1 || nthreads > MAX_THREADS || secs <= 0)
        return 2;
    idle = getenv("NP_IDLE") && strcmp(getenv("NP_IDLE"), "1") == 0;
    read_nodes();
    if (touch >= nr_nodes)
        return 2;
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    cpu_set_t set;
    CPU_ZERO(&set);
    for (int c = 0; c < MAX_CPUS; c++)
        if (node_of_cpu[c] == touch)
            CPU_SET(c, &set);
    sched_setaffinity(0, sizeof(set), &set);
    unsigned long nodemask = 1UL << touch;
    if (syscall(SYS_set_mempolicy, MPOL_BIND, &nodemask, sizeof(nodemask) * 8) < 0)
        perror("set_mempolicy");
    pages = (size_t)mib * (SLICE / PAGE);
    mem = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return 1;
    madvise(mem, pages * PAGE, MADV_NOHUGEPAGE);
    for (size_t p = 0; p < pages; p++)
        mem[p * PAGE] = 1;
    syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0);
    CPU_ZERO(&set);
    for (int c = 0; c < MAX_CPUS; c++)
        if (node_of_cpu[c] >= 0)
            CPU_SET(c, &set);
    sched_setaffinity(0, sizeof(set), &set);
    for (size_t i = 0; i < nthreads; i++)
        thread_cpu[i] = -1;
    printf("READY pid=%d pages=%zu", (int)getpid(), pages);
    long counts[MAX_NODES] = {0};
    {
        static void *addrs[QUERY_BATCH];
        static int status[QUERY_BATCH];
        for (size_t p = 0; p < pages; p += QUERY_BATCH) {
            size_t n = pages - p < QUERY_BATCH ? pages - p : QUERY_BATCH;
            for (size_t k = 0; k < n; k++)
                addrs[k] = mem + (p + k) * PAGE;
            if (syscall(SYS_move_pages, 0, n, addrs, NULL, status, 0) == 0)
                for (size_t k = 0; k < n; k++)
                    if (status[k] >= 0 && status[k] < MAX_NODES)
                        counts[status[k]]++;
        }
    }
    for (int n = 0; n < nr_nodes; n++)
        printf(" N%d=%ld", n, counts[n]);
    printf("\n");
    fflush(stdout);

    const char *go = getenv("NP_GO");
    while (go && !stop && access(go, F_OK) != 0) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 100000000};
        nanosleep(&ts, NULL);
    }
    pthread_t th[MAX_THREADS];
    for (size_t i = 0; i < nthreads; i++)
        pthread_create(&th[i], NULL, vcpu, (void *)(uintptr_t)i);
    uint64_t t0 = now_ns();
    while (!stop && now_ns() - t0 < (uint64_t)secs * 1000000000u) {
        struct timespec ts = {.tv_sec = 1, .tv_nsec = 0};
        nanosleep(&ts, NULL);
        report("t", (double)(now_ns() - t0) / 1e9);
    }
    stop = 1;
    for (size_t i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    report("FINAL", (double)(now_ns() - t0) / 1e9);
    return 0;
}
