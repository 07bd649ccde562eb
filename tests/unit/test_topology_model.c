/* The topology builder: sparse ids, derived hyper-threads, validation. */
#include <errno.h>

#include <numaplace/topology.h>

#include "np_test.h"

#define GiB (UINT64_C(1) << 30)

static np_topology_builder *sparse_builder(void)
{
    np_topology_builder *b = NULL;
    np_topology_builder_create(&b);
    np_topology_builder_set_name(b, "test");
    /* nodes 5, 0, 2 given out of order */
    np_topology_builder_add_node(b, 5, 8 * GiB, 4 * GiB);
    np_topology_builder_add_node(b, 0, 8 * GiB, 7 * GiB);
    np_topology_builder_add_node(b, 2, 0, 0); /* memory-less */
    /* node 0: one core with two threads (cpus 0 and 4); node 5: cpus 1,5;
     * node 2: cpu 2 */
    np_topology_builder_add_cpu(b, 0, 0, 0, 0);
    np_topology_builder_add_cpu(b, 4, 0, 0, 0);
    np_topology_builder_add_cpu(b, 1, 5, 1, 0);
    np_topology_builder_add_cpu(b, 5, 5, 1, 1);
    np_topology_builder_add_cpu(b, 2, 2, 2, 0);
    return b;
}

static void test_sparse_ids(void)
{
    np_topology_builder *b = sparse_builder();
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_EQ(np_topology_builder_finish(b, &t, &err), 0);
    np_topology_builder_destroy(b);
    if (!t)
        return;
    ASSERT_EQ(np_topology_nr_nodes(t), 3);
    ASSERT_EQ(np_topology_node(t, 0)->os_id, 0);
    ASSERT_EQ(np_topology_node(t, 1)->os_id, 2);
    ASSERT_EQ(np_topology_node(t, 2)->os_id, 5);
    size_t idx = 99;
    ASSERT_EQ(np_topology_node_idx(t, 5, &idx), 0);
    ASSERT_EQ(idx, 2);
    ASSERT_EQ(np_topology_node_idx(t, 1, &idx), -ENOENT);
    ASSERT_EQ(np_topology_node(t, 0)->nr_cpus, 2);
    ASSERT_EQ(np_topology_node(t, 0)->nr_cores, 1);
    ASSERT_EQ(np_topology_node(t, 2)->nr_cores, 2);
    ASSERT_EQ(np_topology_node(t, 1)->mem_total_bytes, 0);
    ASSERT_EQ(np_topology_distance(t, 0, 0), 10);
    ASSERT_EQ(np_topology_distance(t, 0, 2), 20);
    ASSERT_EQ(np_topology_cpu_idx(t, 4, &idx), 0);
    ASSERT_EQ(np_topology_cpu(t, idx)->thread_idx, 1);
    ASSERT_EQ(np_topology_cpu(t, idx)->node_idx, 0);
    ASSERT_EQ(np_topology_cpu_id_limit(t), 6);
    ASSERT_U64_EQ(np_topology_mem_total_bytes(t), 16 * GiB);
    char buf[32];
    np_bitmap_format(np_topology_node_cpuset(t, 2), buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "1,5");
    /* a reference is the same object and survives one destroy */
    np_topology *t2 = np_topology_ref(t);
    ASSERT_TRUE(t2 == t);
    np_topology_destroy(t);
    ASSERT_EQ(np_topology_nr_nodes(t2), 3);
    np_topology_destroy(t2);
}

static void test_duplicate_cpu_and_node(void)
{
    np_topology_builder *b = sparse_builder();
    ASSERT_EQ(np_topology_builder_add_cpu(b, 4, 5, 9, 9), -EEXIST);
    ASSERT_EQ(np_topology_builder_add_node(b, 5, GiB, GiB), -EEXIST);
    ASSERT_EQ(np_topology_builder_add_node(b, 4096, GiB, GiB), -E2BIG);
    ASSERT_EQ(np_topology_builder_add_node(b, 7, GiB, 2 * GiB), -EINVAL);
    ASSERT_EQ(np_topology_builder_add_cpu(b, 9, 3, 0, 0), -ENOENT);
    ASSERT_EQ(np_topology_builder_set_distance(b, 0, 5, 0), -ERANGE);
    np_topology_builder_destroy(b);
}

static void set_all(np_topology_builder *b, const uint32_t *ids, const uint32_t *d, int n)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            np_topology_builder_set_distance(b, ids[i], ids[j], d[i * n + j]);
}

static void test_distance_validation(void)
{
    static const uint32_t ids[] = {0, 2, 5};
    static const uint32_t good[] = {10, 21, 31, 21, 10, 21, 31, 21, 10};
    static const uint32_t asym[] = {10, 21, 31, 22, 10, 21, 31, 21, 10};
    static const uint32_t flat[] = {10, 10, 31, 10, 10, 21, 31, 21, 10};
    np_error err = {0};
    np_topology *t = NULL;

    np_topology_builder *b = sparse_builder();
    set_all(b, ids, good, 3);
    ASSERT_EQ(np_topology_builder_finish(b, &t, &err), 0);
    ASSERT_EQ(np_topology_distance(t, 0, 2), 31);
    np_topology_destroy(t);
    np_topology_builder_destroy(b);

    b = sparse_builder();
    set_all(b, ids, asym, 3);
    ASSERT_EQ(np_topology_builder_finish(b, &t, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "not symmetric");
    np_topology_builder_destroy(b);

    b = sparse_builder();
    set_all(b, ids, flat, 3);
    ASSERT_EQ(np_topology_builder_finish(b, &t, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "larger than");
    np_topology_builder_destroy(b);

    b = sparse_builder();
    np_topology_builder_set_distance(b, 0, 0, 10);
    ASSERT_EQ(np_topology_builder_finish(b, &t, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "missing");
    np_topology_builder_destroy(b);
}

static void test_empty_and_cpuless(void)
{
    np_topology_builder *b = NULL;
    np_topology *t = NULL;
    np_error err = {0};
    np_topology_builder_create(&b);
    ASSERT_EQ(np_topology_builder_finish(b, &t, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "no NUMA node");
    np_topology_builder_add_node(b, 0, GiB, GiB);
    ASSERT_EQ(np_topology_builder_finish(b, &t, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "no CPU");
    np_topology_builder_destroy(b);
}

static void test_devices(void)
{
    np_topology_builder *b = sparse_builder();
    np_pci_info d = {0};
    np_topology *t = NULL;
    np_error err = {0};
    d.bus = 3;
    snprintf(d.name, sizeof(d.name), "nic");
    ASSERT_EQ(np_topology_builder_add_device(b, &d, 5), 0);
    d.bus = 1;
    ASSERT_EQ(np_topology_builder_add_device(b, &d, NP_TOPO_ID_UNKNOWN), 0);
    ASSERT_EQ(np_topology_builder_add_device(b, &d, 3), -ENOENT);
    ASSERT_EQ(np_topology_builder_finish(b, &t, &err), 0);
    size_t idx;
    ASSERT_EQ(np_topology_device_find(t, "0000:03:00.0", &idx), 0);
    ASSERT_EQ(np_topology_device(t, idx)->node_idx, 2);
    ASSERT_EQ(np_topology_device_find(t, "01:00.0", &idx), 0);
    ASSERT_EQ(np_topology_device(t, idx)->node_idx, -1);
    ASSERT_EQ(np_topology_device_find(t, "zz", &idx), -EINVAL);
    ASSERT_EQ(np_topology_device_find(t, "0000:04:00.0", &idx), -ENOENT);
    np_topology_destroy(t);
    np_topology_builder_destroy(b);

    b = sparse_builder();
    np_topology_builder_add_device(b, &d, 0);
    np_topology_builder_add_device(b, &d, 0);
    ASSERT_EQ(np_topology_builder_finish(b, &t, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "listed twice");
    np_topology_builder_destroy(b);
}

int main(void)
{
    NP_RUN(test_sparse_ids);
    NP_RUN(test_duplicate_cpu_and_node);
    NP_RUN(test_distance_validation);
    NP_RUN(test_empty_and_cpuless);
    NP_RUN(test_devices);
    return np_test_summary();
}
