/*
 * fuzz_numactl.c - libFuzzer target for the `numactl --hardware` reader.
 *
 * Feeds arbitrary bytes to np_topology_read_numactl() and checks the
 * reader's contract on every input: either 0 with a topology (which is
 * walked, so a half-built one would show up under ASan, then destroyed) or
 * -EINVAL/-ENOMEM with the out-parameter untouched and a message set.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <numaplace/topology.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    np_topology *t = NULL;
    np_error err = {0};
    int rc = np_topology_read_numactl((const char *)data, size, "fuzz", &t, &err);
    if (rc == 0) {
        if (!t)
            abort();
        size_t n = np_topology_nr_nodes(t);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                if (np_topology_distance(t, i, j) == 0)
                    abort();
        for (size_t i = 0; i < np_topology_nr_cpus(t); i++)
            if (np_topology_cpu(t, i)->node_idx >= n)
                abort();
        np_topology_destroy(t);
    } else if (t != NULL || (rc == -EINVAL && err.msg[0] == '\0')) {
        abort();
    }
    return 0;
}
