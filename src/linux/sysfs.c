/*
 * linux/sysfs.c - node facts from /sys/devices/system/node (online nodes,
 * CPUs and free memory per node) and KSM's merge_across_nodes switch from
 * /sys/kernel/mm/ksm, all read (and written) relative to the context's root.
 *
 * Hugetlb pools (nodeN/hugepages/hugepages-*kB) say how many huge pages of
 * each size a node has free: a hugetlb page migrates only into one of them,
 * so the mover checks the target's pool before moving any.
 *
 * KSM matters for placement because with merge_across_nodes=1 (the default)
 * one shared page serves guests on every node, so some of them read it
 * remotely (RHEL's tuning guide: "a significant increase of access
 * latency"); numaplace recommends 0 on multi-node hosts and keeps page
 * sharing within a node.
 */
#include "linux/linux_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"
#include "util/text.h"

#define SUBSYS "linux/sysfs"
#define NODE_DIR "sys/devices/system/node"
#define KSM_DIR "sys/kernel/mm/ksm"
#define PCI_DIR "sys/bus/pci/devices"

/* Longest cpulist/nodelist line read: 8192 CPUs written as single ids with
 * commas take about 40 KiB. */
#define NP_LINUX_LIST_LINE_MAX 65536

static int read_list(np_linux_ctx *ctx, const char *path, np_bitmap **out)
{
    np_bitmap *map = NULL;
    char *line = malloc(NP_LINUX_LIST_LINE_MAX);
    int rc;

    if (!line)
        return -ENOMEM;
    rc = np_linux_read_line_at(ctx, path, line, NP_LINUX_LIST_LINE_MAX);
    if (rc < 0)
        goto out;
    rc = np_bitmap_create(&map);
    if (rc < 0)
        goto out;
    if (np_bitmap_parse(map, line) < 0) {
        np_error err = {0};
        np_error_set(&err, path, 1, "expected a list such as \"0-3,8\"");
        rc = np_linux_parse_failed(ctx, SUBSYS, &err);
        goto out;
    }
    *out = map;
    map = NULL;
out:
    np_bitmap_destroy(map);
    free(line);
    return rc;
}

int np_linux_nodes_online(np_linux_ctx *ctx, np_bitmap **nodes_out)
{
    if (!ctx || !nodes_out)
        return -EINVAL;
    return read_list(ctx, NODE_DIR "/online", nodes_out);
}

int np_linux_node_cpus(np_linux_ctx *ctx, unsigned node_os_id, np_bitmap **cpus_out)
{
    char path[128];
    if (!ctx || !cpus_out || node_os_id > NP_LINUX_NODE_MAX_OS_ID)
        return -EINVAL;
    int rc = np_linux_path(path, sizeof(path), NODE_DIR "/node%u/cpulist", node_os_id);
    return rc < 0 ? rc : read_list(ctx, path, cpus_out);
}

int np_linux_node_meminfo_read(np_linux_ctx *ctx, unsigned node_os_id,
                               np_linux_node_meminfo *out)
{
    char path[128], *text = NULL;
    size_t len = 0;
    np_error err = {0};
    int rc;

    if (!ctx || !out || node_os_id > NP_LINUX_NODE_MAX_OS_ID)
        return -EINVAL;
    rc = np_linux_path(path, sizeof(path), NODE_DIR "/node%u/meminfo", node_os_id);
    if (rc < 0)
        return rc;
    rc = np_linux_read_at(ctx, path, &text, &len);
    if (rc < 0)
        return rc;
    rc = np_linux_node_meminfo_parse(text, len, node_os_id, path, out, &err);
    if (rc == -EINVAL)
        rc = np_linux_parse_failed(ctx, SUBSYS, &err);
    free(text);
    return rc;
}

/* ---- hugetlb pools --------------------------------------------------------- */

int np_linux_hugepool_read_err(np_linux_ctx *ctx, unsigned node_os_id, uint64_t page_bytes,
                               np_linux_hugepool *out, np_error *err)
{
    static const char *const files[3] = {"nr_hugepages", "free_hugepages", "surplus_hugepages"};
    np_linux_hugepool pool = {.page_bytes = page_bytes};
    uint64_t *fields[3] = {&pool.nr_pages, &pool.free_pages, &pool.surplus_pages};
    char path[160], line[64];

    if (!ctx || !out || node_os_id > NP_LINUX_NODE_MAX_OS_ID || page_bytes < 1024 ||
        (page_bytes & (page_bytes - 1)) != 0)
        return -EINVAL;
    for (int i = 0; i < 3; i++) {
        int rc = np_linux_path(path, sizeof(path), NODE_DIR "/node%u/hugepages/hugepages-%llukB/%s",
                               node_os_id, (unsigned long long)(page_bytes / 1024), files[i]);
        if (rc == 0)
            rc = np_linux_read_line_at(ctx, path, line, sizeof(line));
        if (rc < 0)
            return rc;
        if (np_parse_u64_full(line, UINT64_MAX, fields[i]) < 0)
            return np_error_set(err, path, 1, "expected a number of huge pages");
    }
    if (pool.free_pages > pool.nr_pages + pool.surplus_pages)
        return np_error_set(err, path, 1,
                            "expected free_hugepages (%llu) <= nr_hugepages (%llu) + "
                            "surplus_hugepages",
                            (unsigned long long)pool.free_pages, (unsigned long long)pool.nr_pages);
    *out = pool;
    return 0;
}

int np_linux_node_hugepool_read(np_linux_ctx *ctx, unsigned node_os_id, uint64_t page_bytes,
                                np_linux_hugepool *out)
{
    np_error err = {0};
    int rc = np_linux_hugepool_read_err(ctx, node_os_id, page_bytes, out, &err);
    return rc == -EINVAL && err.msg[0] ? np_linux_parse_failed(ctx, SUBSYS, &err) : rc;
}

/* ---- KSM ------------------------------------------------------------------ */

const char *np_linux_ksm_merge_note(void)
{
    return "KSM merge_across_nodes can only be changed while no pages are shared: "
           "write 2 to /sys/kernel/mm/ksm/run to unmerge every KSM page first (this "
           "un-shares all merged memory at once and needs free memory for it), then "
           "write merge_across_nodes, then write 1 to run to merge again (within nodes "
           "when 0)";
}

static int read_u64_file(np_linux_ctx *ctx, const char *path, uint64_t max, uint64_t *out)
{
    char line[64];
    int rc = np_linux_read_line_at(ctx, path, line, sizeof(line));
    if (rc < 0)
        return rc;
    if (np_parse_u64_full(line, max, out) < 0) {
        np_error err = {0};
        np_error_set(&err, path, 1, "expected a number up to %llu", (unsigned long long)max);
        return np_linux_parse_failed(ctx, SUBSYS, &err);
    }
    return 0;
}

int np_linux_ksm_read(np_linux_ctx *ctx, np_linux_ksm *out)
{
    np_linux_ksm k = {0};
    uint64_t v;
    int rc;

    if (!ctx || !out)
        return -EINVAL;
    rc = read_u64_file(ctx, KSM_DIR "/run", 2, &v);
    if (rc == -ENOENT) {
        *out = k; /* kernel without CONFIG_KSM */
        return 0;
    }
    if (rc < 0)
        return rc;
    k.present = true;
    k.run = (int)v;
    /* merge_across_nodes exists only with CONFIG_NUMA; without it KSM
     * merges everything, which is what 1 means. */
    rc = read_u64_file(ctx, KSM_DIR "/merge_across_nodes", 1, &v);
    if (rc == -ENOENT)
        v = 1;
    else if (rc < 0)
        return rc;
    k.merge_across_nodes = (int)v;
    rc = read_u64_file(ctx, KSM_DIR "/pages_shared", UINT64_MAX, &k.pages_shared);
    if (rc < 0 && rc != -ENOENT)
        return rc;
    rc = read_u64_file(ctx, KSM_DIR "/pages_sharing", UINT64_MAX, &k.pages_sharing);
    if (rc < 0 && rc != -ENOENT)
        return rc;
    *out = k;
    return 0;
}

int np_linux_ksm_set_merge_across_nodes(np_linux_ctx *ctx, bool merge)
{
    np_linux_ksm k;
    int rc;

    if (!ctx)
        return -EINVAL;
    rc = np_linux_ksm_read(ctx, &k);
    if (rc < 0)
        return rc;
    if (!k.present) {
        np_linux_log(ctx, NP_LOG_WARNING, SUBSYS, "KSM is not available on this kernel");
        return -EOPNOTSUPP;
    }
    if (k.merge_across_nodes == (merge ? 1 : 0))
        return 0;
    if (k.pages_shared > 0) {
        np_linux_log(ctx, NP_LOG_WARNING, SUBSYS, "not changing merge_across_nodes: %llu pages "
                     "are shared. %s", (unsigned long long)k.pages_shared,
                     np_linux_ksm_merge_note());
        return -EBUSY;
    }
    rc = np_linux_write_at(ctx, KSM_DIR "/merge_across_nodes", merge ? "1\n" : "0\n");
    if (rc == -EBUSY)
        np_linux_log(ctx, NP_LOG_WARNING, SUBSYS, "the kernel refused merge_across_nodes: %s",
                     np_linux_ksm_merge_note());
    else if (rc < 0)
        np_linux_log(ctx, NP_LOG_WARNING, SUBSYS, "writing %s/merge_across_nodes: %s", KSM_DIR,
                     np_strerror(rc));
    else
        np_linux_log(ctx, NP_LOG_INFO, SUBSYS, "KSM merge_across_nodes set to %d", merge ? 1 : 0);
    return rc;
}

/* ---- PCI devices ------------------------------------------------------------ */

int np_linux_pci_device_node(np_linux_ctx *ctx, const char *bdf, int32_t *node_out)
{
    char path[128], line[32];
    uint32_t domain;
    uint8_t bus, dev, fn;

    if (!ctx || !bdf || !node_out || np_pci_parse_bdf(bdf, &domain, &bus, &dev, &fn) < 0)
        return -EINVAL;
    int rc = np_linux_path(path, sizeof(path), PCI_DIR "/%04x:%02x:%02x.%x/numa_node",
                           (unsigned)domain, bus, dev, fn);
    if (rc == 0)
        rc = np_linux_read_line_at(ctx, path, line, sizeof(line));
    if (rc < 0)
        return rc;
    char *end = NULL;
    long v = strtol(line, &end, 10);
    while (end && (*end == '\n' || *end == ' '))
        end++;
    if (end == line || !end || *end || v < -1 || v > (long)NP_LINUX_NODE_MAX_OS_ID) {
        np_error err = {0};
        np_error_set(&err, path, 1, "expected a node number or -1");
        return np_linux_parse_failed(ctx, SUBSYS, &err);
    }
    *node_out = (int32_t)v;
    return 0;
}

int np_linux_pci_devices(np_linux_ctx *ctx, char (**bdfs_out)[NP_BDF_TEXT_MAX],
                         int32_t **nodes_out, size_t *n_out)
{
    char (*bdfs)[NP_BDF_TEXT_MAX] = NULL;
    int32_t *nodes = NULL;
    size_t n = 0, cap = 0;
    DIR *d = NULL;
    int rc = 0;

    if (!ctx || !bdfs_out || !nodes_out || !n_out)
        return -EINVAL;
    int fd = openat(ctx->root_fd, PCI_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        rc = errno == ENOENT ? 0 : -errno; /* no PCI bus in this tree */
        goto done;
    }
    d = fdopendir(fd);
    if (!d) {
        rc = -errno;
        close(fd);
        goto done;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        uint32_t domain;
        uint8_t bus, dev, fn;
        int32_t node;
        if (e->d_name[0] == '.' || np_pci_parse_bdf(e->d_name, &domain, &bus, &dev, &fn) < 0 ||
            domain > 0xffff)
            continue;
        char bdf[NP_BDF_TEXT_MAX];
        snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%x", (unsigned)(domain & 0xffff), bus, dev,
                 fn);
        int r = np_linux_pci_device_node(ctx, bdf, &node);
        if (r == -ENOENT || (r == 0 && node < 0))
            continue; /* gone meanwhile, or no node to keep */
        if (r < 0) {
            rc = r;
            goto done;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            char (*nb)[NP_BDF_TEXT_MAX] = realloc(bdfs, ncap * sizeof(*nb));
            if (nb)
                bdfs = nb;
            int32_t *nn = nb ? realloc(nodes, ncap * sizeof(*nn)) : NULL;
            if (!nn) {
                rc = -ENOMEM;
                goto done;
            }
            nodes = nn;
            cap = ncap;
        }
        /* insertion in address order: readdir's order is the file system's */
        size_t i = n;
        while (i > 0 && strcmp(bdfs[i - 1], bdf) > 0) {
            memcpy(bdfs[i], bdfs[i - 1], sizeof(bdf));
            nodes[i] = nodes[i - 1];
            i--;
        }
        memcpy(bdfs[i], bdf, sizeof(bdf));
        nodes[i] = node;
        n++;
    }
done:
    if (d)
        closedir(d);
    if (rc == 0) {
        *bdfs_out = bdfs;
        *nodes_out = nodes;
        *n_out = n;
    } else {
        free(bdfs);
        free(nodes);
    }
    return rc;
}
