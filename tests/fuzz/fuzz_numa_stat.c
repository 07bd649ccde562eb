/*
 * fuzz_numa_stat.c - libFuzzer target for the cgroup numa_stat parser
 * (memory.numa_stat, hugetlb.<size>.numa_stat): any bytes must give either
 * a result whose per-node sums add up to the total, or -EINVAL with a line
 * number and a message and nothing added; never a crash or a leak. The
 * first byte chooses the memory or the hugetlb form.
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
    bool huge = size > 0 && (data[0] & 1);
    int rc = np_linux_numa_stat_parse((const char *)data, size, "fuzz", huge, &m, &err);
    if (rc == 0) {
        uint64_t sum = 0, anon = 0;
        for (size_t i = 0; i < m.nr_node_slots; i++) {
            sum += m.bytes_by_node_os_id[i];
            anon += m.anon_bytes_by_node_os_id[i];
        }
        if (sum != m.total_bytes || anon > sum || m.huge_bytes > sum ||
            (huge && m.huge_bytes != sum) || m.nr_node_slots > NP_LINUX_NODE_MAX_OS_ID + 1)
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
