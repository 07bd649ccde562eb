/*
 * np-movecost - what moving a running process's pages with move_pages(2)
 * costs, by what the process's threads do meanwhile (issue 12: the mover's
 * steps on a guest whose vCPU threads write took milliseconds per page on
 * the TCG test guest while the kernel's NUMA-fault migration did not).
 *
 *   np-movecost MODE MIB FROM TO THREADS SECONDS [BATCH]
 *
 * Forks a child that binds its memory to node FROM, touches MIB MiB
 * (transparent huge pages off), drops the binding, widens its CPU affinity
 * to every CPU and starts THREADS threads, each on its own slice:
 *   write   - the threads write one byte per page in sweeps, continuously;
 *   sleep   - the threads sleep;
 *   stop    - the threads write, and the parent stops the child (SIGSTOP,
 *             waits until it is stopped) before moving.
 *   migrate - the threads write; the parent makes one migrate_pages(2)
 *             call FROM -> TO instead of move_pages batches.
 * The parent then moves the child's pages to node TO with move_pages in
 * batches of BATCH pages (default 512) until every page is on TO or
 * SECONDS passed, and prints
 *   MOVECOST mode=M pages=N tried=T moved=K secs=S pages_per_s=R longest_call_us=U
 * (T: pages passed to move calls before SECONDS ran out; K of N on TO at
 * the end, so K/T is the share of tried pages that moved).
 * then kills the child. Exit 0 when the measurement ran, 1 otherwise.
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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define MAX_THREADS 16
#define MAX_BATCH 65536

static char *mem;
static size_t pages, nthreads;
static int writing;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *worker(void *arg)
{
    size_t i = (size_t)(uintptr_t)arg;
    size_t first = pages * i / nthreads, last = pages * (i + 1) / nthreads;
    for (;;) {
        if (!writing) {
            pause();
            continue;
        }
        for (size_t p = first; p < last; p++)
            mem[p * PAGE]++;
    }
    return NULL;
}

static void child(int from, int ready_fd)
{
    unsigned long mask = 1UL << from;
    if (syscall(SYS_set_mempolicy, MPOL_BIND, &mask, sizeof(mask) * 8) < 0)
        _exit(3);
    mem = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        _exit(3);
    madvise(mem, pages * PAGE, MADV_NOHUGEPAGE);
    for (size_t p = 0; p < pages; p++)
        mem[p * PAGE] = 1;
    syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0);
    cpu_set_t all;
    CPU_ZERO(&all);
    for (int c = 0; c < CPU_SETSIZE; c++)
        CPU_SET(c, &all);
    sched_setaffinity(0, sizeof(all), &all);
    pthread_t th;
    for (size_t i = 0; i < nthreads; i++)
        pthread_create(&th, NULL, worker, (void *)(uintptr_t)i);
    uintptr_t addr = (uintptr_t)mem;
    if (write(ready_fd, &addr, sizeof(addr)) != (ssize_t)sizeof(addr))
        _exit(3);
    for (;;)
        pause();
}

int main(int argc, char **argv)
{
    if (argc < 7 || argc > 8) {
        fprintf(stderr, "usage: np-movecost write|sleep|stop|migrate MIB FROM TO THREADS "
                        "SECONDS [BATCH]\n");
        return 2;
    }
    const char *mode = argv[1];
    long mib = strtol(argv[2], NULL, 10);
    int from = (int)strtol(argv[3], NULL, 10), to = (int)strtol(argv[4], NULL, 10);
    nthreads = (size_t)strtol(argv[5], NULL, 10);
    long secs = strtol(argv[6], NULL, 10);
    size_t batch = argc == 8 ? (size_t)strtoul(argv[7], NULL, 10) : 512;
    if (mib <= 0 || from < 0 || to < 0 || from > 63 || to > 63 || nthreads < 1 ||
        nthreads > MAX_THREADS || secs <= 0 || batch < 1 || batch > MAX_BATCH)
        return 2;
    if (strcmp(mode, "write") && strcmp(mode, "sleep") && strcmp(mode, "stop") &&
        strcmp(mode, "migrate"))
        return 2;
    writing = strcmp(mode, "sleep") != 0;
    pages = (size_t)mib * (1UL << 20) / PAGE;
    int fds[2];
    if (pipe(fds) < 0)
        return 1;
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0)
        child(from, fds[1]);
    uintptr_t base = 0;
    if (read(fds[0], &base, sizeof(base)) != (ssize_t)sizeof(base)) {
        fprintf(stderr, "np-movecost: child failed\n");
        return 1;
    }
    /* Let the writers run a little (their TLBs warm on every CPU). */
    struct timespec warm = {.tv_sec = 1, .tv_nsec = 0};
    nanosleep(&warm, NULL);
    if (strcmp(mode, "stop") == 0) {
        int st;
        kill(pid, SIGSTOP);
        if (waitpid(pid, &st, WUNTRACED) != pid || !WIFSTOPPED(st))
            return 1;
    }
    static void *addrs[MAX_BATCH];
    static int nodes[MAX_BATCH], status[MAX_BATCH];
    size_t moved = 0, tried = 0;
    uint64_t longest = 0, t0 = now_ns(), limit = (uint64_t)secs * 1000000000u;
    if (strcmp(mode, "migrate") == 0) {
        unsigned long fm = 1UL << from, tm = 1UL << to;
        uint64_t c0 = now_ns();
        long r = syscall(SYS_migrate_pages, pid, 64, &fm, &tm);
        longest = now_ns() - c0;
        if (r < 0)
            perror("migrate_pages");
        else
            fprintf(stderr, "np-movecost: migrate_pages returned %ld (pages not moved)\n", r);
    }
    for (size_t p = 0; p < pages;) {
        size_t n = pages - p < batch ? pages - p : batch;
        for (size_t k = 0; k < n; k++) {
            addrs[k] = (void *)(base + (p + k) * PAGE);
            nodes[k] = to;
            status[k] = INT32_MIN;
        }
        if (strcmp(mode, "migrate") != 0) {
            uint64_t c0 = now_ns();
            long r = syscall(SYS_move_pages, pid, n, addrs, nodes, status, MPOL_MF_MOVE);
            uint64_t dt = now_ns() - c0;
            if (getenv("NP_MOVECOST_DEBUG") && p < 4 * batch) {
                int e = errno, unset = 0, ok = 0, other = 0, first = 0;
                for (size_t k = 0; k < n; k++) {
                    if (status[k] == INT32_MIN)
                        unset++;
                    else if (status[k] == to)
                        ok++;
                    else if (!other++)
                        first = status[k];
                }
                fprintf(stderr, "call r=%ld errno=%d ok=%d unset=%d other=%d (first %d) us=%llu\n",
                        r, r < 0 ? e : 0, ok, unset, other, first, (unsigned long long)(dt / 1000));
                errno = e;
            }
            if (dt > longest)
                longest = dt;
            if (r < 0 && errno != ENOMEM && errno != EBUSY) {
                fprintf(stderr, "np-movecost: move_pages: %s\n", strerror(errno));
                break;
            }
        }
        p += n;
        tried = p;
        if (now_ns() - t0 > limit)
            break;
    }
    double dt = (double)(now_ns() - t0) / 1e9;
    /* Count what is on TO now. */
    for (size_t p = 0; p < pages;) {
        size_t n = pages - p < MAX_BATCH ? pages - p : MAX_BATCH;
        for (size_t k = 0; k < n; k++)
            addrs[k] = (void *)(base + (p + k) * PAGE);
        if (syscall(SYS_move_pages, pid, n, addrs, NULL, status, 0) == 0)
            for (size_t k = 0; k < n; k++)
                moved += status[k] == to;
        p += n;
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    printf("MOVECOST mode=%s pages=%zu tried=%zu moved=%zu secs=%.3f pages_per_s=%.0f "
           "longest_call_us=%llu\n",
           mode, pages, tried, moved, dt, dt > 0 ? (double)moved / dt : 0.0,
           (unsigned long long)(longest / 1000));
    return 0;
}
