/*
 * linux/act.c - the system calls that steer a process: sched_setaffinity
 * and sched_getaffinity on one thread, the whole-process
 * migrate_pages(2), and the check that a process's pages may be moved.
 *
 * migrate_pages moves every page of the process that sits on a node of
 * `from` in one call. The call holds the target's mmap lock for reading the
 * whole time and does not return before everything is moved, so a guest
 * with gigabytes to move can wait on page faults and mmap changes for
 * seconds (numad's 400 MiB took 5-7 s in the lab); it is here because it is
 * what numad does and for comparison (np_linux_bench_move_run), but the
 * daemon uses the chunked mover (mover.c) unless told otherwise.
 *
 * All of these refuse to run on a fixture root (-EOPNOTSUPP).
 */
#include "linux/linux_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SUBSYS "linux/act"

/* First size tried for sched_getaffinity's mask, doubled while the kernel
 * says EINVAL (its nr_cpu_ids is larger), up to the bitmap limit. */
#define NP_LINUX_AFFINITY_BITS_START 1024u
/* Node masks for migrate_pages: MAX_NUMNODES bits (node ids up to 1023). */
#define NP_LINUX_NODEMASK_LONGS ((NP_LINUX_NODE_MAX_OS_ID + 1) / (8 * sizeof(unsigned long)))

int np_linux_thread_set_affinity(np_linux_ctx *ctx, pid_t tid, const np_bitmap *cpus)
{
    unsigned long *mask = NULL;
    size_t nbits = 0;
    int rc;

    if (!ctx || !cpus || tid <= 0)
        return -EINVAL;
    if (!ctx->sys_ok)
        return -EOPNOTSUPP;
    if (np_bitmap_is_empty(cpus))
        return -EINVAL;
    rc = np_linux_mask_from_bitmap(cpus, &mask, &nbits);
    if (rc < 0)
        return rc;
    rc = ctx->sys.set_affinity(ctx->sys.opaque, tid, nbits, mask);
    if (rc < 0 && rc != -ESRCH) {
        char list[256];
        np_bitmap_format(cpus, list, sizeof(list));
        np_linux_log(ctx, NP_LOG_WARNING, SUBSYS, "sched_setaffinity(%d, %s): %s", (int)tid, list,
                     np_strerror(rc));
    }
    free(mask);
    return rc;
}

int np_linux_thread_get_affinity(np_linux_ctx *ctx, pid_t tid, np_bitmap **cpus_out)
{
    const size_t long_bits = 8 * sizeof(unsigned long);
    unsigned long *mask = NULL;
    np_bitmap *map = NULL;
    size_t nbits = NP_LINUX_AFFINITY_BITS_START;
    int rc;

    if (!ctx || !cpus_out || tid < 0)
        return -EINVAL;
    if (!ctx->sys_ok || !ctx->sys.get_affinity) /* a test's table may lack it */
        return -EOPNOTSUPP;
    for (;;) {
        free(mask);
        mask = calloc(nbits / long_bits, sizeof(unsigned long));
        if (!mask) {
            rc = -ENOMEM;
            goto out;
        }
        rc = ctx->sys.get_affinity(ctx->sys.opaque, tid, nbits, mask);
        if (rc != -EINVAL || nbits > NP_BITMAP_MAX_ID)
            break;
        nbits *= 2;
    }
    if (rc < 0)
        goto out;
    rc = np_bitmap_create(&map);
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < nbits; i++) {
        if (mask[i / long_bits] & (1ul << (i % long_bits))) {
            rc = np_bitmap_set(map, (unsigned)i);
            if (rc < 0)
                goto out;
        }
    }
    *cpus_out = map;
    map = NULL;
out:
    np_bitmap_destroy(map);
    free(mask);
    return rc;
}

static int to_nodemask(const np_bitmap *nodes, unsigned long *mask)
{
    const size_t long_bits = 8 * sizeof(unsigned long);
    memset(mask, 0, NP_LINUX_NODEMASK_LONGS * sizeof(unsigned long));
    for (int i = np_bitmap_next(nodes, 0); i >= 0; i = np_bitmap_next(nodes, (unsigned)i + 1)) {
        if ((unsigned)i > NP_LINUX_NODE_MAX_OS_ID)
            return -EINVAL;
        mask[(size_t)i / long_bits] |= 1ul << ((size_t)i % long_bits);
    }
    return 0;
}

int np_linux_migrate_process(np_linux_ctx *ctx, pid_t pid, const np_bitmap *from,
                             const np_bitmap *to, uint64_t *pages_left_out)
{
    unsigned long old_mask[NP_LINUX_NODEMASK_LONGS], new_mask[NP_LINUX_NODEMASK_LONGS];

    if (!ctx || !from || !to || pid <= 0 || np_bitmap_is_empty(to))
        return -EINVAL;
    if (!ctx->sys_ok)
        return -EOPNOTSUPP;
    if (to_nodemask(from, old_mask) < 0 || to_nodemask(to, new_mask) < 0)
        return -EINVAL;
    /* maxnode counts one more than the bits passed: the kernel's get_nodes()
     * starts with --maxnode (a historical off-by-one every caller repeats). */
    long r = ctx->sys.migrate_pages(ctx->sys.opaque, pid, NP_LINUX_NODE_MAX_OS_ID + 2, old_mask,
                                    new_mask);
    if (r < 0) {
        if (r == -EINVAL && np_linux_pid_gone(ctx, pid))
            r = -ESRCH; /* a zombie has no mm: the kernel says EINVAL */
        if (r != -ESRCH)
            np_linux_log(ctx, NP_LOG_WARNING, SUBSYS, "migrate_pages(%d): %s", (int)pid,
                         np_strerror((int)r));
        return (int)r;
    }
    if (pages_left_out)
        *pages_left_out = (uint64_t)r;
    return 0;
}

int np_linux_pid_check_move_access(np_linux_ctx *ctx, pid_t pid)
{
    if (!ctx || pid <= 0)
        return -EINVAL;
    if (!ctx->sys_ok)
        return -EOPNOTSUPP;
    long r = ctx->sys.move_pages(ctx->sys.opaque, pid, 0, NULL, NULL, NULL, 0);
    if (r == -EINVAL && np_linux_pid_gone(ctx, pid))
        r = -ESRCH; /* a zombie has no mm */
    return r < 0 ? (int)r : 0;
}
