/*
 * fuzz_hwloc_xml.c - arbitrary bytes into the hwloc XML reader. Every input
 * must give either a topology that holds together (every CPU on an
 * existing node, node CPU counts adding up, positive local distances,
 * devices on an existing node or none) or -EINVAL/-ENOMEM with a message
 * and no topology. Anything else aborts, so libFuzzer reports it.
 */
#include <numaplace/topology.h>

#include "fuzz_topology.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    np_topology *t = NULL;
    np_error err = {0};
    int rc = np_topology_read_hwloc_xml((const char *)data, size, "fuzz", &t, &err);

    /* hwloc's views always hold a node and a CPU */
    if (rc == 0 && t && (np_topology_nr_nodes(t) == 0 || np_topology_nr_cpus(t) == 0))
        abort();
    fuzz_check_topology_read(rc, t, &err, true);
    return 0;
}
