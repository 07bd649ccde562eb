/*
 * fuzz_libvirt_hints.c - np_libvirt_hints_parse (numaplace's element in a
 * domain's <metadata>) and np_libvirt_nodedev_numa_node on arbitrary bytes:
 * hints or a refusal with a message, never a crash; parsed hints always
 * carry a spec-valid group and an IO node in range.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/guest.h>
#include <numaplace/libvirt.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    np_libvirt_hints h;
    np_error err = {0};
    int rc = np_libvirt_hints_parse((const char *)data, size, "fuzz", &h, &err);
    if (rc == -EINVAL && err.msg[0] == '\0')
        abort();
    if (rc == 0) {
        if (h.group[0] && h.group_rule == NP_GROUP_NONE)
            abort();
        if (h.group[0] && (h.group_weight < 1 || h.group_weight > NP_GROUP_WEIGHT_MAX))
            abort();
        if (h.io_node_os_id < -1 || h.io_node_os_id > 1023)
            abort();
        if (memchr(h.group, '\0', sizeof(h.group)) == NULL)
            abort();
    }
    int32_t node = -1;
    memset(&err, 0, sizeof(err));
    rc = np_libvirt_nodedev_numa_node((const char *)data, size, "fuzz", &node, &err);
    if (rc == 0 && (node < 0 || node > 1023))
        abort();
    if (rc && err.msg[0] == '\0')
        abort();
    return 0;
}
