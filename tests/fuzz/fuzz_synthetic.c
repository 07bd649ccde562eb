/*
 * fuzz_synthetic.c - arbitrary text as an hwloc synthetic description
 * ("pack:2 numa:1 core:4 pu:2"). The reader must build a topology that
 * holds together or refuse with -EINVAL and a message; it must also keep
 * hwloc from building machines too large to load quickly.
 */
#include <numaplace/topology.h>

#include "fuzz_topology.h"

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
    if (rc == 0 && t && (np_topology_nr_nodes(t) == 0 || np_topology_nr_cpus(t) == 0))
        abort();
    fuzz_check_topology_read(rc, t, &err, true);
    return 0;
}
