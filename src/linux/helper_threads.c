/*
 * linux/helper_threads.c - a guest's helper threads (numaplace/linux.h):
 * the QEMU process's emulator (main) thread, its I/O threads, other
 * non-vCPU threads, and the vhost workers of its network (or SCSI, vsock)
 * queues, found by name, and their CPU affinity set so they follow the
 * guest. One piece of code for plain QEMU (the Linux backend) and for
 * libvirt domains (the libvirt backend pins the emulator and I/O threads
 * through libvirt and the vhost workers here).
 *
 * vhost workers: the kernel names them "vhost-<pid of the thread that
 * called VHOST_SET_OWNER>", QEMU's main thread, i.e. the QEMU PID
 * (drivers/vhost/vhost.c, vhost_dev_set_owner). Up to Linux 6.3 they are
 * kernel threads (children of kthreadd, their own PIDs under /proc);
 * since 6.4 they are vhost_task threads inside the QEMU process
 * (/proc/PID/task). Both are looked for; a name is never reused while the
 * QEMU process lives, since PIDs are not.
 */
#include <numaplace/linux.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linux_internal.h"

#define SUBSYS "linux"

const char *np_linux_helper_kind_name(np_linux_helper_kind kind)
{
    switch (kind) {
    case NP_LINUX_HELPER_EMULATOR: return "emulator";
    case NP_LINUX_HELPER_IO: return "io";
    case NP_LINUX_HELPER_VHOST: return "vhost";
    case NP_LINUX_HELPER_OTHER: return "other";
    }
    return "?";
}

typedef struct helper_list {
    np_linux_helper *v;
    size_t n, cap;
} helper_list;

static int push(helper_list *l, pid_t tid, np_linux_helper_kind kind, const char *comm)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].tid == tid)
            return 0; /* a 6.4+ vhost thread is in both scans */
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        np_linux_helper *n = realloc(l->v, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        l->v = n;
        l->cap = cap;
    }
    np_linux_helper *h = &l->v[l->n++];
    h->tid = tid;
    h->kind = kind;
    snprintf(h->comm, sizeof(h->comm), "%.15s", comm);
    return 0;
}

static int cmp_tid(const void *a, const void *b)
{
    pid_t x = ((const np_linux_helper *)a)->tid, y = ((const np_linux_helper *)b)->tid;
    return x < y ? -1 : x > y;
}

/* "vhost-PID" -> PID; 0 for any other name. */
static pid_t vhost_owner(const char *comm)
{
    if (strncmp(comm, "vhost-", 6) != 0)
        return 0;
    char *end = NULL;
    long v = strtol(comm + 6, &end, 10);
    return end != comm + 6 && *end == '\0' && v > 0 && v <= INT32_MAX ? (pid_t)v : 0;
}

/* Kernel vhost threads (Linux <= 6.3): every process under proc/ named
 * vhost-PID. Processes that exit during the scan are skipped. */
int np_linux_vhost_scan_host(np_linux_ctx *ctx, np_linux_vhost_scan *out)
{
    pid_t *pids = NULL;
    size_t n = 0, cap = 0;
    np_linux_vhost_scan s = {0};

    if (!ctx || !out)
        return -EINVAL;
    int rc = np_linux_list_numeric_dir(ctx, "proc", &pids, &n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char path[64], comm[64];
        pid_t owner;
        if (np_linux_path(path, sizeof(path), "proc/%d/comm", (int)pids[i]) ||
            np_linux_read_line_at(ctx, path, comm, sizeof(comm)) != 0 ||
            !(owner = vhost_owner(comm)))
            continue;
        if (s.n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            np_linux_vhost_thread *v = realloc(s.v, ncap * sizeof(*v));
            if (!v) {
                rc = -ENOMEM;
                break;
            }
            s.v = v;
            cap = ncap;
        }
        np_linux_vhost_thread *t = &s.v[s.n++];
        t->tid = pids[i];
        t->owner = owner;
        snprintf(t->comm, sizeof(t->comm), "%.15s", comm);
    }
    free(pids);
    if (rc) {
        free(s.v);
        return rc;
    }
    *out = s;
    return 0;
}

void np_linux_vhost_scan_fini(np_linux_vhost_scan *scan)
{
    if (!scan)
        return;
    free(scan->v);
    scan->v = NULL;
    scan->n = 0;
}

int np_linux_helper_threads_scanned(np_linux_ctx *ctx, pid_t pid, unsigned kinds,
                                    const np_linux_vhost_scan *scan, np_linux_helper **out,
                                    size_t *n_out)
{
    np_linux_thread *th = NULL;
    size_t nt = 0;
    helper_list l = {0};
    int rc;

    if (!ctx || !out || !n_out || pid <= 0)
        return -EINVAL;
    rc = np_linux_threads(ctx, pid, &th, &nt);
    for (size_t i = 0; i < nt && rc == 0; i++) {
        np_linux_helper_kind k;
        if (th[i].vcpu >= 0)
            continue;
        if (th[i].tid == pid)
            k = NP_LINUX_HELPER_EMULATOR;
        else if (vhost_owner(th[i].comm) == pid)
            k = NP_LINUX_HELPER_VHOST;
        else if (strncmp(th[i].comm, "IO ", 3) == 0)
            k = NP_LINUX_HELPER_IO;
        else
            k = NP_LINUX_HELPER_OTHER;
        if (kinds & (1u << k))
            rc = push(&l, th[i].tid, k, th[i].comm);
    }
    if (scan && (kinds & (1u << NP_LINUX_HELPER_VHOST)))
        for (size_t i = 0; i < scan->n && rc == 0; i++)
            if (scan->v[i].owner == pid && scan->v[i].tid != pid)
                rc = push(&l, scan->v[i].tid, NP_LINUX_HELPER_VHOST, scan->v[i].comm);
    free(th);
    if (rc) {
        free(l.v);
        return rc;
    }
    if (l.n)
        qsort(l.v, l.n, sizeof(*l.v), cmp_tid);
    *out = l.v;
    *n_out = l.n;
    return 0;
}

int np_linux_helper_threads(np_linux_ctx *ctx, pid_t pid, unsigned kinds, np_linux_helper **out,
                            size_t *n_out)
{
    np_linux_vhost_scan scan = {0};
    int rc = 0;

    if (!ctx || !out || !n_out || pid <= 0)
        return -EINVAL;
    if (kinds & (1u << NP_LINUX_HELPER_VHOST))
        rc = np_linux_vhost_scan_host(ctx, &scan);
    if (rc == 0)
        rc = np_linux_helper_threads_scanned(ctx, pid, kinds, &scan, out, n_out);
    np_linux_vhost_scan_fini(&scan);
    return rc;
}

int np_linux_helper_threads_pin(np_linux_ctx *ctx, pid_t pid, unsigned kinds,
                                const np_bitmap *cpus, size_t *nr_set_out)
{
    np_linux_helper *hs = NULL;
    size_t n = 0, set = 0;
    int rc = np_linux_helper_threads(ctx, pid, kinds, &hs, &n), first = 0;

    for (size_t i = 0; i < n && rc == 0; i++) {
        int r = np_linux_thread_set_affinity(ctx, hs[i].tid, cpus);
        if (r == 0)
            set++;
        else if (r != -ESRCH && !first) {
            first = r;
            np_linux_log(ctx, NP_LOG_DEBUG, SUBSYS, "pid %d: %s thread %d (%s): affinity: %s",
                         (int)pid, np_linux_helper_kind_name(hs[i].kind), (int)hs[i].tid,
                         hs[i].comm, np_strerror(r));
        }
    }
    free(hs);
    if (nr_set_out)
        *nr_set_out = set;
    return rc ? rc : first;
}

int np_linux_helper_threads_follow(np_linux_ctx *ctx, pid_t pid, const pid_t *vcpu_tids,
                                   size_t nr_vcpus, size_t *nr_set_out)
{
    np_bitmap *uni = NULL;
    int rc = np_bitmap_create(&uni);

    if (nr_set_out)
        *nr_set_out = 0;
    for (size_t v = 0; v < nr_vcpus && rc == 0; v++) {
        np_bitmap *m = NULL;
        if (np_linux_thread_get_affinity(ctx, vcpu_tids[v], &m) == 0)
            rc = np_bitmap_or(uni, m);
        np_bitmap_destroy(m);
    }
    if (rc == 0 && !np_bitmap_is_empty(uni))
        rc = np_linux_helper_threads_pin(ctx, pid, NP_LINUX_HELPER_ALL, uni, nr_set_out);
    np_bitmap_destroy(uni);
    return rc;
}
