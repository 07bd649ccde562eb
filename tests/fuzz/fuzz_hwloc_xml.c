/*
 * fuzz_hwloc_xml.c - arbitrary bytes into the hwloc XML reader. Every input
 * must give either a topology that holds together (every CPU on an
 * existing node, node CPU counts adding up, positive local distances,
 * devices on an existing node or none) or -EINVAL/-ENOMEM with a message
 * and no topology. Anything else aborts, so libFuzzer reports it.
 */
#include <numaplace/topology.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_topology(const np_topology *t)
{
    size_t nodes = np_topology_nr_nodes(t), cpus = np_topology_nr_cpus(t), sum = 0;

    if (nodes == 0 || cpus == 0)
        abort();
    for (size_t c = 0; c < cpus; c++)
        if (np_topology_cpu(t, c)->node_idx >= nodes)
            abort();
    for (size_t n = 0; n < nodes; n++) {
        sum += np_topology_node(t, n)->nr_cpus;
        if (np_topology_distance(t, n, n) == 0)
            abort();
    }
    if (sum != cpus)
        abort();
    for (size_t d = 0; d < np_topology_nr_devices(t); d++) {
        int32_t node = np_topology_device(t, d)->node_idx;
        if (node < -1 || node >= (int32_t)nodes)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    np_topology *t = NULL;
    np_error err = {0};
    int rc = np_topology_read_hwloc_xml((const char *)data, size, "fuzz", &t, &err);

    if (rc == 0) {
        if (!t)
            abort();
        check_topology(t);
    } else if (t || (rc != -EINVAL && rc != -ENOMEM) || !err.msg[0]) {
        abort();
    }
    np_topology_destroy(t);
    return 0;
}
