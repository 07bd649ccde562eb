/*
 * fuzz_xl_info.c - libFuzzer target for the `xl info -n` reader.
 *
 * Feeds arbitrary bytes to np_topology_read_xl_info() and checks the
 * reader's contract on every input: either 0 with a topology (which is
 * walked, so a half-built one would show up under ASan, then destroyed) or
 * -EINVAL/-ENOMEM with the out-parameter untouched and a message set.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <numaplace/topology.h>

#include "fuzz_topology.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    np_topology *t = NULL;
    np_error err = {0};
    int rc = np_topology_read_xl_info((const char *)data, size, "fuzz", &t, &err);
    fuzz_check_topology_read(rc, t, &err, false);
    return 0;
}
