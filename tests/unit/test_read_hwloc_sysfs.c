/*
 * test_read_hwloc_sysfs.c - np_topology_read_sysfs() on /proc and /sys
 * trees captured from real Linux machines (hwloc's test tarballs), which
 * hwloc's Linux backend reads through HWLOC_FSROOT. Each result is compared
 * with what hwloc's own lstopo printed for the same tree (the .console
 * files, parsed here: every node, its memory, every CPU's node and the
 * distance matrix) or with hwloc's expected XML export of it.
 */
#include <numaplace/topology.h>

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "np_test.h"
#include "read_hwloc_helpers.h"

/* What lstopo -v printed for a tree (a .console file): nodes with their
 * memory, each CPU with the node attached nearest above it (none when no
 * ancestor has memory), and the NUMA latency matrix. */
#define CON_MAX_NODES 64
#define CON_MAX_PUS 256
#define CON_MAX_DEPTH 64

typedef struct console {
    unsigned nr_nodes, nr_pus;
    uint32_t node_os[CON_MAX_NODES]; /* by lstopo's logical index */
    uint64_t node_unit[CON_MAX_NODES];      /* bytes per shown unit */
    uint64_t node_mem_units[CON_MAX_NODES]; /* "local=8190MiB" -> 8190, unit MiB */
    uint32_t pu_os[CON_MAX_PUS];
    long pu_node[CON_MAX_PUS]; /* node os_id or -1 */
    bool has_dist;
    uint32_t dist[CON_MAX_NODES][CON_MAX_NODES];
} console;

static uint64_t unit_bytes(const char *u)
{
    if (strncmp(u, "KiB", 3) == 0)
        return 1024ull;
    if (strncmp(u, "MiB", 3) == 0)
        return 1024ull * 1024;
    if (strncmp(u, "GiB", 3) == 0)
        return GIB;
    if (strncmp(u, "TiB", 3) == 0)
        return GIB * 1024;
    return 0;
}

/* Splits text into NUL-terminated lines in place; returns their count. */
static size_t split_lines(char *text, char ***lines_out)
{
    size_t n = 1, k = 0;
    char **lines;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    lines = calloc(n, sizeof(*lines));
    if (!lines)
        return 0;
    for (char *p = text; p; k++) {
        char *nl = strchr(p, '\n');
        lines[k] = p;
        if (nl)
            *nl++ = '\0';
        p = nl;
    }
    *lines_out = lines;
    return k;
}

/* Parses a console file; false when it does not look like lstopo -v. */
static bool console_parse(const char *path, console *con)
{
    size_t len = 0, nr_lines;
    char *text = slurp(path, &len);
    char **lines = NULL;
    int stack_indent[CON_MAX_DEPTH];
    long stack_node[CON_MAX_DEPTH]; /* node attached to that object, or -1 */
    int depth = 0;
    bool ok = false;

    memset(con, 0, sizeof(*con));
    if (!text)
        return false;
    nr_lines = split_lines(text, &lines);
    for (size_t k = 0; k < nr_lines; k++) {
        const char *line = lines[k], *c;
        int indent = 0;
        unsigned l, p;
        char unit[8];
        unsigned long long size;

        while (line[indent] == ' ')
            indent++;
        c = line + indent;
        if (strncmp(c, "Relative latency matrix", 23) == 0 && strstr(c, "NUMANodes")) {
            /* then " index 0 1 ..." and one row per node: "  0  10  20 ..." */
            if (k + 1 + con->nr_nodes >= nr_lines)
                goto out;
            for (unsigned row = 0; row < con->nr_nodes; row++) {
                char *q;
                strtoul(lines[k + 2 + row], &q, 10); /* the row's index */
                for (unsigned col = 0; col < con->nr_nodes; col++)
                    con->dist[row][col] = (uint32_t)strtoul(q, &q, 10);
            }
            con->has_dist = true;
            k += 1 + con->nr_nodes;
            continue;
        }
        if (!strstr(c, " L#") && strncmp(c, "Machine", 7) != 0)
            continue; /* not an object line */
        while (depth > 0 && stack_indent[depth - 1] >= indent)
            depth--;
        if (strncmp(c, "NUMANode", 8) == 0) {
            c = strstr(c, " L#");
            if (sscanf(c, " L#%u (P#%u local=%llu%7s", &l, &p, &size, unit) != 4 ||
                con->nr_nodes >= CON_MAX_NODES || depth == 0)
                goto out;
            con->node_os[con->nr_nodes] = p;
            con->node_mem_units[con->nr_nodes] = size;
            con->node_unit[con->nr_nodes] = unit_bytes(unit);
            con->nr_nodes++;
            /* a CPU's node is the lowest-numbered one attached nearest above it */
            if (stack_node[depth - 1] < 0 || p < stack_node[depth - 1])
                stack_node[depth - 1] = p;
            continue;
        }
        if (depth >= CON_MAX_DEPTH)
            goto out;
        stack_indent[depth] = indent;
        stack_node[depth] = -1;
        depth++;
        if (strncmp(c, "PU L#", 5) == 0) {
            if (sscanf(c, "PU L#%u (P#%u)", &l, &p) != 2 || con->nr_pus >= CON_MAX_PUS)
                goto out;
            con->pu_os[con->nr_pus] = p;
            con->pu_node[con->nr_pus] = -1;
            for (int d = depth - 1; d >= 0; d--) {
                if (stack_node[d] >= 0) {
                    con->pu_node[con->nr_pus] = stack_node[d];
                    break;
                }
            }
            con->nr_pus++;
        }
    }
    ok = con->nr_nodes > 0 && con->nr_pus > 0;
out:
    free(lines);
    free(text);
    return ok;
}

/* Compares a topology with what lstopo printed for the same tree. */
static void check_console(const np_topology *t, const char *console_file)
{
    char path[512];
    console *con = calloc(1, sizeof(*con));
    unsigned with_node = 0;

    snprintf(path, sizeof(path), "%s/linux/%s", HW, console_file);
    ASSERT_TRUE(con && console_parse(path, con));
    if (!con || !con->nr_nodes) {
        free(con);
        return;
    }
    ASSERT_EQ(np_topology_nr_nodes(t), con->nr_nodes);
    for (unsigned i = 0; i < con->nr_nodes; i++) {
        const np_node_info *n = node_os(t, con->node_os[i]);
        ASSERT_TRUE(n != NULL);
        if (!n || !con->node_unit[i])
            continue;
        /* lstopo shows whole units; allow its rounding either way */
        uint64_t shown = con->node_mem_units[i], ours = n->mem_total_bytes / con->node_unit[i];
        ASSERT_TRUE(ours + 1 >= shown && ours <= shown + 1);
    }
    for (unsigned i = 0; i < con->nr_pus; i++) {
        if (node_of_cpu(t, con->pu_os[i]) != con->pu_node[i])
            fprintf(stderr, "  CPU %u: node %ld, lstopo says %ld\n", con->pu_os[i],
                    node_of_cpu(t, con->pu_os[i]), con->pu_node[i]);
        ASSERT_EQ(node_of_cpu(t, con->pu_os[i]), con->pu_node[i]);
        with_node += con->pu_node[i] >= 0;
    }
    ASSERT_EQ(np_topology_nr_cpus(t), with_node);
    ASSERT_TRUE(con->has_dist || con->nr_nodes == 1);
    if (con->has_dist)
        for (unsigned i = 0; i < con->nr_nodes; i++)
            for (unsigned j = 0; j < con->nr_nodes; j++)
                ASSERT_EQ(dist_os(t, con->node_os[i], con->node_os[j]), con->dist[i][j]);
    free(con);
}

/* A sysfs tree unpacked from a fixture tarball into a fresh directory
 * (tmpfs when there is one: the largest tree has 11,000 files). */
typedef struct tree {
    char dir[64];
    char root[512];
} tree;

static bool tree_unpack(tree *tr, const char *tarball, const char *dirname)
{
    char cmd[1024];
    snprintf(tr->dir, sizeof(tr->dir), "%s/np-hwloc-fsroot-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    ASSERT_TRUE(mkdtemp(tr->dir) != NULL);
    snprintf(cmd, sizeof(cmd), "tar -xjf '%s/linux/%s' -C '%s'", HW, tarball, tr->dir);
    ASSERT_EQ(system(cmd), 0);
    snprintf(tr->root, sizeof(tr->root), "%s/%s", tr->dir, dirname);
    return access(tr->root, R_OK) == 0;
}

static void tree_remove(tree *tr)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tr->dir);
    ASSERT_EQ(system(cmd), 0);
}

/* Reads an unpacked tree: hwloc's Linux backend reads HWLOC_FSROOT, and HWLOC_COMPONENTS keeps
 * hwloc's x86 backend from adding this machine's CPUID to it (hwloc's own tests do the same). The
 * library itself never reads the environment; hwloc does. */
static np_topology *tree_read(const tree *tr, const char *pci_locality)
{
    np_topology *t = NULL;
    np_error err = {0};
    char msg[1024];
    int rc;

    setenv("HWLOC_FSROOT", tr->root, 1);
    setenv("HWLOC_COMPONENTS", "linux,stop", 1);
    if (pci_locality)
        setenv("HWLOC_PCI_LOCALITY", pci_locality, 1);
    rc = np_topology_read_sysfs(tr->root, &t, &err);
    unsetenv("HWLOC_FSROOT");
    unsetenv("HWLOC_COMPONENTS");
    unsetenv("HWLOC_PCI_LOCALITY");
    if (rc)
        fprintf(stderr, "%s: %s\n", tr->root, np_error_format(&err, msg, sizeof(msg)));
    ASSERT_EQ(rc, 0);
    return t;
}

static np_topology *read_tree(const char *tarball, const char *dirname, const char *pci_locality)
{
    np_topology *t = NULL;
    tree tr;
    if (tree_unpack(&tr, tarball, dirname))
        t = tree_read(&tr, pci_locality);
    tree_remove(&tr);
    return t;
}

/* 16amd64-8n2c: 8 Opteron packages of 2 cores, one node each. */
static void test_sysfs_amd_8n(void)
{
    np_topology *t = read_tree("16amd64-8n2c.tar.bz2", "16amd64-8n2c", NULL);
    if (!t)
        return;
    check_console(t, "16amd64-8n2c.console");
    ASSERT_EQ(np_topology_nr_nodes(t), 8);
    ASSERT_EQ(np_topology_nr_cpus(t), 16);
    ASSERT_EQ(node_of_cpu(t, 15), 7);
    /* Free memory comes from the tree's nodeN/meminfo (hwloc has none):
     * node 7 says MemTotal 8388608 kB, MemFree 8249784 kB. */
    ASSERT_EQ(node_os(t, 7)->mem_free_bytes, UINT64_C(8249784) * 1024);
    ASSERT_TRUE(node_os(t, 7)->mem_free_bytes < node_os(t, 7)->mem_total_bytes);
    np_topology_destroy(t);
}

/* 16ia64-8n2s: Itanium, packages numbered 0,0,512,... (OS numbers repeat,
 * so packages get logical ids and each CPU stays its own core). */
static void test_sysfs_ia64_8n(void)
{
    np_topology *t = read_tree("16ia64-8n2s.tar.bz2", "16ia64-8n2s", NULL);
    if (!t)
        return;
    check_console(t, "16ia64-8n2s.console");
    ASSERT_EQ(np_topology_nr_nodes(t), 8);
    ASSERT_EQ(dist_os(t, 0, 5), 29);
    ASSERT_TRUE(cpu_os(t, 0)->package_id != cpu_os(t, 1)->package_id);
    for (uint32_t n = 0; n < 8; n++)
        ASSERT_EQ(node_os(t, n)->nr_cores, 2);
    np_topology_destroy(t);
}

/* 48amd64-4pa2n6c-sparse: Magny-Cours, 4 packages of 2 dies, nodes
 * numbered 0,1,2,33,34,45,72,73; each die numbers its cores 0-5. */
static void test_sysfs_amd_sparse(void)
{
    static const uint32_t nodes[8] = {0, 1, 2, 33, 34, 45, 72, 73};
    np_topology *t = read_tree("48amd64-4pa2n6c-sparse.tar.bz2", "48amd64-4d2n6c-sparse", NULL);
    if (!t)
        return;
    check_console(t, "48amd64-4pa2n6c-sparse.console");
    ASSERT_EQ(np_topology_nr_nodes(t), 8);
    for (size_t i = 0; i < 8; i++) {
        ASSERT_EQ(np_topology_node(t, i)->os_id, nodes[i]);
        ASSERT_EQ(np_topology_node(t, i)->nr_cpus, 6);
        ASSERT_EQ(np_topology_node(t, i)->nr_cores, 6); /* not 6 pairs of "threads" */
    }
    ASSERT_U64_EQ(node_os(t, 33)->mem_total_bytes, 16 * GIB);
    ASSERT_EQ(node_of_cpu(t, 18), 33);
    ASSERT_EQ(cpu_os(t, 0)->package_id, cpu_os(t, 6)->package_id);
    ASSERT_TRUE(cpu_os(t, 0)->core_id != cpu_os(t, 6)->core_id);
    ASSERT_EQ(cpu_os(t, 6)->thread_idx, 0);
    np_topology_destroy(t);
}

/* offline-cpu0-node0: CPUs 0-3 and 21-23 offline, node 0 offline; CPUs
 * 4,6,...,20 are online but no node holds them any more. */
static void test_sysfs_offline_cpu0(void)
{
    np_topology *t = read_tree("offline-cpu0-node0.tar.bz2", "offline-cpu0-node0", NULL);
    char buf[128];
    if (!t)
        return;
    check_console(t, "offline-cpu0-node0.console");
    ASSERT_EQ(np_topology_nr_nodes(t), 1);
    ASSERT_EQ(np_topology_node(t, 0)->os_id, 1);
    ASSERT_U64_EQ(np_topology_node(t, 0)->mem_total_bytes, 64 * GIB);
    ASSERT_STR_EQ(cpus_of(t, 1, buf, sizeof(buf)), "5,7,9,11,13,15,17,19");
    ASSERT_EQ(node_of_cpu(t, 0), -1);
    ASSERT_EQ(node_of_cpu(t, 4), -1);
    np_topology_destroy(t);
}

/* Both topologies hold the same nodes, CPUs, distances and devices. */
static void check_same(const np_topology *a, const np_topology *b)
{
    ASSERT_EQ(np_topology_nr_nodes(a), np_topology_nr_nodes(b));
    ASSERT_EQ(np_topology_nr_cpus(a), np_topology_nr_cpus(b));
    ASSERT_EQ(np_topology_nr_devices(a), np_topology_nr_devices(b));
    if (np_topology_nr_nodes(a) != np_topology_nr_nodes(b) ||
        np_topology_nr_cpus(a) != np_topology_nr_cpus(b) ||
        np_topology_nr_devices(a) != np_topology_nr_devices(b))
        return;
    for (size_t i = 0; i < np_topology_nr_nodes(a); i++) {
        const np_node_info *x = np_topology_node(a, i), *y = np_topology_node(b, i);
        ASSERT_EQ(x->os_id, y->os_id);
        ASSERT_U64_EQ(x->mem_total_bytes, y->mem_total_bytes);
        ASSERT_EQ(x->nr_cpus, y->nr_cpus);
        ASSERT_EQ(x->nr_cores, y->nr_cores);
        ASSERT_EQ(x->mem_kind, y->mem_kind);
        for (size_t j = 0; j < np_topology_nr_nodes(a); j++)
            ASSERT_EQ(np_topology_distance(a, i, j), np_topology_distance(b, i, j));
    }
    for (size_t i = 0; i < np_topology_nr_cpus(a); i++) {
        const np_cpu_info *x = np_topology_cpu(a, i), *y = np_topology_cpu(b, i);
        ASSERT_EQ(x->os_id, y->os_id);
        ASSERT_EQ(x->node_idx, y->node_idx);
        ASSERT_EQ(x->package_id, y->package_id);
        ASSERT_EQ(x->core_id, y->core_id);
        ASSERT_EQ(x->thread_idx, y->thread_idx);
    }
    for (size_t i = 0; i < np_topology_nr_devices(a); i++) {
        const np_pci_info *x = np_topology_device(a, i), *y = np_topology_device(b, i);
        char bx[16], by[16];
        ASSERT_STR_EQ(np_pci_format_bdf(x, bx, sizeof(bx)), np_pci_format_bdf(y, by, sizeof(by)));
        ASSERT_EQ(x->node_idx, y->node_idx);
        ASSERT_EQ(x->vendor_id, y->vendor_id);
        ASSERT_EQ(x->device_id, y->device_id);
        ASSERT_EQ(x->class_code, y->class_code);
        ASSERT_STR_EQ(x->name, y->name);
    }
}

/* 40intel64-2g2n4c+pcilocality: 4 sockets; sysfs gives the PCI buses no
 * locality, so hwloc's test forces it with HWLOC_PCI_LOCALITY. With hwloc's
 * setting (buses 00-09 near packages 0 and 2, 40-46 near 1 and 3) each bus
 * is local to two nodes: our node is unknown, and the tree reads exactly as
 * hwloc's expected export of it. Pinned to one package's CPUs, the devices
 * get that package's node. */
static void test_sysfs_pci_locality(void)
{
    static const char hwloc_setting[] =
        "# near 1st package;0000:00-09 0x00000055,0x55555555;"
        "# near 2nd package;0000:40-46 0x000000aa,0xaaaaaaaa";
    /* node 0 = CPUs 0,4,...,36, node 1 = CPUs 1,5,...,37 (from the export) */
    static const char per_node[] = "0000:00-09 0x00000011,0x11111111;"
                                   "0000:40-46 0x00000022,0x22222222";
    static const char *const bus0[] = {"0000:00:1f.2", "0000:01:00.0", "0000:02:00.0",
                                       "0000:02:00.1", "0000:03:00.0", "0000:03:00.1",
                                       "0000:09:03.0"};
    np_topology *t = NULL, *x = load_xml(HW "/xml-v2/40intel64-2g2n4c+pcilocality.xml");
    tree tr;

    if (!tree_unpack(&tr, "40intel64-2g2n4c+pcilocality.tar.bz2", "40intel64-2g2n4c+pci"))
        goto out;
    t = tree_read(&tr, hwloc_setting);

    if (t && x)
        check_same(t, x);
    if (t) {
        ASSERT_EQ(np_topology_nr_nodes(t), 4);
        ASSERT_EQ(np_topology_nr_cpus(t), 40);
        ASSERT_EQ(np_topology_nr_devices(t), 8);
        ASSERT_EQ(dev_node(t, "0000:02:00.0"), -1);
        ASSERT_STR_EQ(dev_at(t, "0000:02:00.0") ? dev_at(t, "0000:02:00.0")->name : NULL, "eth0");
        ASSERT_EQ(dev_node(t, "0000:43:00.0"), -1);
    }
    np_topology_destroy(t);

    t = tree_read(&tr, per_node);
    if (t) {
        for (size_t i = 0; i < sizeof(bus0) / sizeof(bus0[0]); i++)
            ASSERT_EQ(dev_node(t, bus0[i]), 0);
        ASSERT_EQ(dev_node(t, "0000:43:00.0"), 1);
        ASSERT_STR_EQ(dev_at(t, "0000:43:00.0") ? dev_at(t, "0000:43:00.0")->name : NULL, "ib0");
        np_topology_destroy(t);
    }

    /* without any locality the buses hang off the whole machine */
    t = tree_read(&tr, NULL);
    if (t) {
        ASSERT_EQ(dev_node(t, "0000:02:00.0"), -1);
        ASSERT_EQ(np_topology_nr_devices(t), 8);
        np_topology_destroy(t);
    }
out:
    tree_remove(&tr);
    np_topology_destroy(x);
}

/* 32amd64-4s2n4c-cgroup2: a cgroup v2 limits the capturing process to CPUs
 * 0-5 and nodes 0-5. Read "live", the whole machine shows (8 nodes, 32
 * CPUs); hwloc's expected export of the tree holds only the allowed part,
 * which must match ours where both have it. */
static void test_sysfs_cgroup(void)
{
    np_topology *t = read_tree("32amd64-4s2n4c-cgroup2.tar.bz2", "32amd64-4s2n4c-cgroup", NULL);
    np_topology *x = load_xml(HW "/xml-v2/32amd64-4s2n4c-cgroup2.xml");

    if (t) {
        ASSERT_EQ(np_topology_nr_nodes(t), 8);
        ASSERT_EQ(np_topology_nr_cpus(t), 32);
        ASSERT_EQ(node_of_cpu(t, 31), 7);
    }
    if (x) {
        ASSERT_EQ(np_topology_nr_nodes(x), 6);
        ASSERT_EQ(np_topology_nr_cpus(x), 6);
    }
    if (t && x) {
        for (size_t i = 0; i < np_topology_nr_nodes(x); i++) {
            const np_node_info *n = np_topology_node(x, i);
            ASSERT_TRUE(node_os(t, n->os_id) != NULL);
            if (node_os(t, n->os_id))
                ASSERT_U64_EQ(node_os(t, n->os_id)->mem_total_bytes, n->mem_total_bytes);
            for (size_t j = 0; j < np_topology_nr_nodes(x); j++)
                ASSERT_EQ(dist_os(t, n->os_id, np_topology_node(x, j)->os_id),
                          np_topology_distance(x, i, j));
        }
        for (size_t c = 0; c < np_topology_nr_cpus(x); c++) {
            uint32_t os = np_topology_cpu(x, c)->os_id;
            ASSERT_EQ(node_of_cpu(t, os), node_of_cpu(x, os));
        }
    }
    np_topology_destroy(t);
    np_topology_destroy(x);
}

/* What hwloc 2.9 cannot read is refused before it sees it (a node
 * directory without nodes made it abort), and a read of this machine
 * instead of the tree (HWLOC_FSROOT not set) is an error, not a lie. */
static void test_sysfs_refusals(void)
{
    np_topology *t = NULL;
    np_error err = {0};
    char msg[1024], cmd[1200];
    tree tr;

    ASSERT_EQ(np_topology_read_sysfs("/nonexistent-np", &t, &err), -EINVAL);
    ASSERT_CONTAINS(np_error_format(&err, msg, sizeof(msg)), "is not a directory");
    if (!tree_unpack(&tr, "16amd64-8n2c.tar.bz2", "16amd64-8n2c"))
        return;
    /* hwloc reads "/" without HWLOC_FSROOT */
    memset(&err, 0, sizeof(err));
    setenv("HWLOC_COMPONENTS", "linux,stop", 1);
    ASSERT_EQ(np_topology_read_sysfs(tr.root, &t, &err), -EINVAL);
    ASSERT_CONTAINS(np_error_format(&err, msg, sizeof(msg)), "hwloc read this machine");
    unsetenv("HWLOC_COMPONENTS");
    ASSERT_TRUE(t == NULL);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'/sys/devices/system/node/node*", tr.root);
    ASSERT_EQ(system(cmd), 0);
    memset(&err, 0, sizeof(err));
    ASSERT_EQ(np_topology_read_sysfs(tr.root, &t, &err), -EINVAL);
    ASSERT_CONTAINS(np_error_format(&err, msg, sizeof(msg)), "holds no NUMA node");
    tree_remove(&tr);
}

int main(void)
{
    NP_RUN(test_sysfs_amd_8n);
    NP_RUN(test_sysfs_ia64_8n);
    NP_RUN(test_sysfs_amd_sparse);
    NP_RUN(test_sysfs_offline_cpu0);
    NP_RUN(test_sysfs_pci_locality);
    NP_RUN(test_sysfs_cgroup);
    NP_RUN(test_sysfs_refusals);
    return np_test_summary();
}
