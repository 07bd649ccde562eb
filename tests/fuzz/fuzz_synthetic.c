/*
 * fuzz_synthetic.c - arbitrary text as an hwloc synthetic description
 * ("pack:2 numa:1 core:4 pu:2"). The reader must build a topology that
 * holds together or refuse with -EINVAL and a message; it must also keep
 * hwloc from building machines too large to load quickly.
 */
#include <numaplace/topology.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Longer than the reader accepts, so its length check is exercised too. */
#define FUZZ_SYNTH_MAX_LEN 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char desc[FUZZ_SYNTH_MAX_LEN + 1];
    size_t len = size < FUZZ_SYNTH_MAX_LEN ? size : FUZZ_SYNTH_MAX_LEN;
    np_topology *t = NULL;
    np_error err = {0};
    int rc;

    memcpy(desc, data, len);
    desc[len] = '\0';
    rc = np_topology_read_hwloc_synthetic(desc, &t, &err);
    if (rc == 0) {
        size_t cpus = 0;
        if (!t || np_topology_nr_nodes(t) == 0 || np_topology_nr_cpus(t) == 0)
            abort();
        for (size_t n = 0; n < np_topology_nr_nodes(t); n++)
            cpus += np_topology_node(t, n)->nr_cpus;
        if (cpus != np_topology_nr_cpus(t))
            abort();
    } else if (t || (rc != -EINVAL && rc != -ENOMEM) || !err.msg[0]) {
        abort();
    }
    np_topology_destroy(t);
    return 0;
}
