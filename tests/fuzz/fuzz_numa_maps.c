/*
 * fuzz_numa_maps.c - libFuzzer target for the /proc/PID/numa_maps parser:
 * any bytes must give either a complete result whose per-node sums add up
 * to the total, or -EINVAL with a line number and a message; never a crash,
 * a leak or a partial result.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <numaplace/linux.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    np_linux_mem m = {0};
    np_error err = {0};
    int rc = np_linux_numa_maps_parse((const char *)data, size, "fuzz", &m, &err);
    if (rc == 0) {
        uint64_t sum = 0, anon = 0;
        for (size_t i = 0; i < m.nr_node_slots; i++) {
            sum += m.bytes_by_node_os_id[i];
            anon += m.anon_bytes_by_node_os_id[i];
            if (m.anon_bytes_by_node_os_id[i] > m.bytes_by_node_os_id[i])
                abort();
        }
        if (sum != m.total_bytes || anon > sum || m.huge_bytes > sum ||
            m.nr_node_slots > NP_LINUX_NODE_MAX_OS_ID + 1)
            abort();
    } else if (rc == -EINVAL) {
        if (err.line == 0 || err.msg[0] == '\0' || m.nr_node_slots != 0)
            abort();
    } else if (rc != -ENOMEM) {
        abort();
    }
    np_linux_mem_fini(&m);
    return 0;
}
