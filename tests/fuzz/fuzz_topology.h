/*
 * fuzz_topology.h - the contract every topology reader's fuzz target
 * checks on every input (header-only: each target is its own program).
 *
 * Success: a topology whose CPUs all belong to a node, whose nodes' CPU
 * counts add up to the CPU count, whose distances are all set and whose
 * devices name a node or none; it is walked (a half-built one would show up
 * under ASan) and destroyed. Failure: no topology, and -EINVAL carries a
 * message; with `only_einval_enomem` any other code is a defect too.
 */
#ifndef NP_FUZZ_TOPOLOGY_H
#define NP_FUZZ_TOPOLOGY_H

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include <numaplace/topology.h>

static inline void fuzz_check_topology_read(int rc, np_topology *t, const np_error *err,
                                            bool only_einval_enomem)
{
    if (rc != 0) {
        if (t || (rc == -EINVAL && !err->msg[0]) ||
            (only_einval_enomem && ((rc != -EINVAL && rc != -ENOMEM) || !err->msg[0])))
            abort();
        return;
    }
    if (!t)
        abort();
    size_t nodes = np_topology_nr_nodes(t), cpus = np_topology_nr_cpus(t), sum = 0;
    for (size_t c = 0; c < cpus; c++)
        if (np_topology_cpu(t, c)->node_idx >= nodes)
            abort();
    for (size_t n = 0; n < nodes; n++) {
        sum += np_topology_node(t, n)->nr_cpus;
        for (size_t m = 0; m < nodes; m++)
            if (np_topology_distance(t, n, m) == 0)
                abort();
    }
    if (sum != cpus)
        abort();
    for (size_t d = 0; d < np_topology_nr_devices(t); d++) {
        int32_t node = np_topology_device(t, d)->node_idx;
        if (node < -1 || node >= (int32_t)nodes)
            abort();
    }
    np_topology_destroy(t);
}

#endif
