/*
 * test_linux_helpers.c - a guest's helper threads (helper_threads.c) on a
 * made-up /proc: QEMU 100 with its main thread, an I/O thread, a vCPU, a
 * worker and a vhost worker inside it (Linux 6.4+ vhost_task), a kernel
 * vhost thread of its own PID (Linux <= 6.3), and a vhost thread of
 * another QEMU that must not be taken; then, live, the pinning on this
 * process's own threads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <numaplace/linux.h>

#include "np_test.h"

static char root[] = "/tmp/np-helpers-XXXXXX";

static void put(const char *rel, const char *text)
{
    char path[512], dir[512];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    snprintf(dir, sizeof(dir), "%s", path);
    for (char *p = dir + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0755);
            *p = '/';
        }
    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void task(int pid, int tid, const char *comm)
{
    char rel[128], stat[512];
    snprintf(rel, sizeof(rel), "proc/%d/task/%d/comm", pid, tid);
    snprintf(stat, sizeof(stat), "%s\n", comm);
    put(rel, stat);
    snprintf(rel, sizeof(rel), "proc/%d/task/%d/stat", pid, tid);
    snprintf(stat, sizeof(stat),
             "%d (%s) S 1 %d %d 0 -1 4194560 0 0 0 0 10 5 0 0 20 0 1 0 100 0 0 0 0 0 0 0 0 0 0 0 "
             "0 0 0 0 17 3 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
             tid, comm, pid, pid);
    put(rel, stat);
}

static void proc(int pid, const char *comm)
{
    char rel[64], text[64];
    snprintf(rel, sizeof(rel), "proc/%d/comm", pid);
    snprintf(text, sizeof(text), "%s\n", comm);
    put(rel, text);
    task(pid, pid, comm);
}

static void test_fixture(void)
{
    np_linux_ctx *ctx = NULL;
    np_linux_helper *h = NULL;
    size_t n = 0;

    ASSERT_TRUE(mkdtemp(root) != NULL);
    proc(100, "qemu-system-x86");
    task(100, 101, "IO iothread1");
    task(100, 102, "CPU 0/TCG");
    task(100, 103, "vhost-100");
    task(100, 104, "call_rcu");
    proc(200, "vhost-100");
    proc(201, "vhost-1000");
    proc(300, "bash");
    ASSERT_EQ(np_linux_ctx_create(root, NULL, NULL, &ctx), 0);

    ASSERT_EQ(np_linux_helper_threads(ctx, 100, NP_LINUX_HELPER_ALL, &h, &n), 0);
    ASSERT_EQ(n, 5);
    if (n == 5) {
        ASSERT_EQ(h[0].tid, 100);
        ASSERT_EQ(h[0].kind, NP_LINUX_HELPER_EMULATOR);
        ASSERT_EQ(h[1].tid, 101);
        ASSERT_EQ(h[1].kind, NP_LINUX_HELPER_IO);
        ASSERT_EQ(h[2].tid, 103);
        ASSERT_EQ(h[2].kind, NP_LINUX_HELPER_VHOST);
        ASSERT_EQ(h[3].tid, 104);
        ASSERT_EQ(h[3].kind, NP_LINUX_HELPER_OTHER);
        ASSERT_EQ(h[4].tid, 200);
        ASSERT_EQ(h[4].kind, NP_LINUX_HELPER_VHOST);
        ASSERT_STR_EQ(h[4].comm, "vhost-100");
    }
    free(h);
    h = NULL;
    /* vhost only: the worker inside the process and the kernel thread,
     * never vhost-1000 (another QEMU's) */
    ASSERT_EQ(np_linux_helper_threads(ctx, 100, 1u << NP_LINUX_HELPER_VHOST, &h, &n), 0);
    ASSERT_EQ(n, 2);
    if (n == 2) {
        ASSERT_EQ(h[0].tid, 103);
        ASSERT_EQ(h[1].tid, 200);
    }
    free(h);
    h = NULL;
    /* one scan of proc/ serves several guests: each gets its own kernel
     * vhost thread from it and no other's */
    np_linux_vhost_scan scan = {0};
    proc(1000, "qemu-system-x86");
    ASSERT_EQ(np_linux_vhost_scan_host(ctx, &scan), 0);
    ASSERT_EQ(scan.n, 2); /* 200 and 201; 103 is a thread of 100, which lists it itself */
    ASSERT_EQ(np_linux_helper_threads_scanned(ctx, 100, 1u << NP_LINUX_HELPER_VHOST, &scan, &h,
                                              &n), 0);
    ASSERT_EQ(n, 2);
    if (n == 2) {
        ASSERT_EQ(h[0].tid, 103);
        ASSERT_EQ(h[1].tid, 200);
    }
    free(h);
    h = NULL;
    ASSERT_EQ(np_linux_helper_threads_scanned(ctx, 1000, NP_LINUX_HELPER_ALL, &scan, &h, &n), 0);
    ASSERT_EQ(n, 2);
    if (n == 2) {
        ASSERT_EQ(h[0].tid, 201);
        ASSERT_EQ(h[0].kind, NP_LINUX_HELPER_VHOST);
        ASSERT_EQ(h[1].tid, 1000);
        ASSERT_EQ(h[1].kind, NP_LINUX_HELPER_EMULATOR);
    }
    free(h);
    h = NULL;
    /* without a scan only the process's own threads */
    ASSERT_EQ(np_linux_helper_threads_scanned(ctx, 1000, NP_LINUX_HELPER_ALL, NULL, &h, &n), 0);
    ASSERT_EQ(n, 1);
    free(h);
    h = NULL;
    np_linux_vhost_scan_fini(&scan);
    ASSERT_EQ(np_linux_helper_threads(ctx, 4242, NP_LINUX_HELPER_ALL, &h, &n), -ESRCH);
    ASSERT_STR_EQ(np_linux_helper_kind_name(NP_LINUX_HELPER_VHOST), "vhost");
    np_linux_ctx_destroy(ctx);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    ASSERT_EQ(system(cmd), 0);
}

/* Live: this process stands for QEMU; a second thread named like a vCPU
 * keeps its affinity, the main thread (the "emulator") follows it. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool done;
static pid_t vcpu_tid;

static void *vcpu_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "CPU 0/TCG");
    pthread_mutex_lock(&mu);
    vcpu_tid = gettid();
    pthread_cond_broadcast(&cv);
    while (!done)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void test_live_follow(void)
{
    np_linux_ctx *ctx = NULL;
    np_bitmap *mine = NULL, *one = NULL, *after = NULL;
    pthread_t t;
    size_t set = 0;

    ASSERT_EQ(np_linux_ctx_create("/", NULL, NULL, &ctx), 0);
    ASSERT_EQ(np_linux_thread_get_affinity(ctx, getpid(), &mine), 0);
    int cpu = np_bitmap_next(mine, 0);
    ASSERT_TRUE(cpu >= 0);
    ASSERT_EQ(np_bitmap_create(&one), 0);
    ASSERT_EQ(np_bitmap_set(one, (unsigned)cpu), 0);
    ASSERT_EQ(pthread_create(&t, NULL, vcpu_main, NULL), 0);
    pthread_mutex_lock(&mu);
    while (!vcpu_tid)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    ASSERT_EQ(np_linux_thread_set_affinity(ctx, vcpu_tid, one), 0);
    ASSERT_EQ(np_linux_helper_threads_follow(ctx, getpid(), &vcpu_tid, 1, &set), 0);
    ASSERT_EQ(set, 1); /* the main thread; the vCPU is not a helper */
    ASSERT_EQ(np_linux_thread_get_affinity(ctx, getpid(), &after), 0);
    ASSERT_TRUE(np_bitmap_equal(after, one));
    pthread_mutex_lock(&mu);
    done = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(t, NULL);
    ASSERT_EQ(np_linux_thread_set_affinity(ctx, getpid(), mine), 0);
    np_bitmap_destroy(mine);
    np_bitmap_destroy(one);
    np_bitmap_destroy(after);
    np_linux_ctx_destroy(ctx);
}

int main(void)
{
    NP_RUN(test_fixture);
    NP_RUN(test_live_follow);
    return np_test_summary();
}
