/*
 * fuzz_libvirt_caps.c - np_libvirt_caps_topology on arbitrary bytes: a
 * topology or a refusal with a message, never a crash.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <numaplace/libvirt.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    np_topology *t = NULL;
    np_error err = {0};
    int rc = np_libvirt_caps_topology((const char *)data, size, "fuzz", &t, &err);
    if (rc == -EINVAL && err.msg[0] == '\0')
        abort();
    if (rc == 0 && (!t || np_topology_nr_nodes(t) == 0))
        abort();
    np_topology_destroy(t);
    return 0;
}
