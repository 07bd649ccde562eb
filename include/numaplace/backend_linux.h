/*
 * numaplace/backend_linux.h - the Linux/KVM backend: np_backend_ops on top
 * of the Linux access layer (numaplace/linux.h).
 *
 * Guests are processes: every QEMU process, every process of one cgroup v2,
 * or the PIDs the user names. A guest's id is its PID; its name is QEMU's
 * -name (or the process's comm); its "vCPUs" are QEMU's "CPU N/KVM" threads
 * in vCPU order, or every thread of a process that is not QEMU.
 *
 * Sense: memory per node from /proc/PID/numa_maps; per thread CPU time and
 * last CPU from /proc/PID/task/TID/stat; hard affinity from
 * sched_getaffinity; free memory per node from sysfs.
 *
 * Act:
 *  - set_vcpu_affinity: Linux has no soft affinity in the scheduler, so
 *    "soft" is steering: the thread's kernel affinity becomes the soft mask
 *    (a whole node's CPUs, never one CPU) intersected with the hard mask, and
 *    the backend remembers the soft mask so the next sense reports it as
 *    soft, not hard. The daemon widens it again when the node is saturated
 *    (docs/daemon.md "Soft affinity on Linux"). With use_cgroup_cpuset and
 *    a thread in a cgroup other than the root, the cgroup's cpuset.cpus is
 *    widened first to allow the new mask (the kernel refuses or narrows an
 *    affinity outside it); it is narrowed only when every vCPU of the guest
 *    is pinned hard (to the union of the pins), never by steering
 *    (docs/linux.md "Soft affinity on Linux").
 *  - set_guest_node_affinity: writes cpuset.mems of the guest's cgroup when
 *    allowed (use_cgroup_cpuset and the guest lives in a cgroup other than
 *    the root); otherwise only records it: a process's memory policy cannot
 *    be set from outside, and new pages follow the threads (first touch).
 *  - migrate_memory: the chunked, rate-limited move_pages mover, bounded by
 *    the bytes asked; -ESRCH when the process exits meanwhile.
 */
#ifndef NUMAPLACE_BACKEND_LINUX_H
#define NUMAPLACE_BACKEND_LINUX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <numaplace/backend.h>
#include <numaplace/linux.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_linux_backend np_linux_backend;

typedef enum np_linux_guest_source {
    NP_LINUX_GUESTS_QEMU = 0, /* every QEMU process */
    NP_LINUX_GUESTS_CGROUP,   /* every process of `cgroup` */
    NP_LINUX_GUESTS_PIDS,     /* the PIDs listed */
} np_linux_guest_source;

typedef struct np_linux_backend_opts {
    np_linux_guest_source source;
    const char *cgroup;              /* NP_LINUX_GUESTS_CGROUP */
    const pid_t *pids;               /* NP_LINUX_GUESTS_PIDS */
    size_t nr_pids;
    uint64_t migrate_budget_bps;     /* 0 = no rate limit */
    np_linux_map_filter move_filter; /* mappings the mover walks */
    bool use_cgroup_cpuset;          /* write the guest cgroup's cpuset.mems (node
                                        affinity) and cpuset.cpus (widen for steering,
                                        narrow for a whole-guest hard pin) */
} np_linux_backend_opts;

/* Builds the backend on `ctx` (borrowed: it must outlive the backend),
 * reading the topology once (nodes, CPUs, memory from sysfs; distances are
 * Linux's defaults 10/20). */
int np_linux_backend_create(np_linux_ctx *ctx, const np_linux_backend_opts *opts,
                            np_linux_backend **out);
void np_linux_backend_destroy(np_linux_backend *lb); /* NULL ok */
/* The generic backend handle (owned by lb). */
np_backend *np_linux_backend_get(np_linux_backend *lb);
/* Quiesced steps for the migrations that start after this call (linux.h:
 * np_linux_quiesce_mode); fn stops and resumes a guest (NULL with NEVER).
 * should_stop (NULL: none) cuts a migrate_memory call short between two
 * batches (np_linux_move_opts.should_stop). Kept across set_source.
 * -EINVAL for a mode without fn. */
int np_linux_backend_set_quiesce(np_linux_backend *lb, np_linux_quiesce_mode mode,
                                 np_linux_quiesce_fn fn, void *opaque,
                                 bool (*should_stop)(void *opaque), void *stop_opaque);
/* Changes the guests the next list_guests finds (copies the arrays). */
int np_linux_backend_set_source(np_linux_backend *lb, const np_linux_backend_opts *opts);
/* Statistics of the mover behind the last migrate_memory call (zeroed
 * before each). A guest's mover lives across the steps of one migration
 * (same nodes), so its counts cover every step of it so far. */
const np_linux_move_stats *np_linux_backend_last_move(const np_linux_backend *lb);

#ifdef __cplusplus
}
#endif
#endif /* NUMAPLACE_BACKEND_LINUX_H */
