/*
 * fuzz_numa_stat.c - libFuzzer target for the cgroup numa_stat parser
 * (memory.numa_stat, hugetlb.<size>.numa_stat): any bytes must give either
 * a result whose per-node sums add up to the total (and, in the hugetlb
 * form, whose per-node bytes of the 2 MiB slot add up to its huge bytes),
 * or -EINVAL with a line number and a message and nothing added; never a
 * crash or a leak. An input starting "total=" or with an odd first byte is
 * read in the hugetlb form (2 MiB pages), any other in the memory form.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/linux.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    np_linux_mem m = {0};
    np_error err = {0};
    /* a hugetlb file ("total=..."), or any input with an odd first byte */
    bool huge = (size >= 6 && memcmp(data, "total=", 6) == 0) || (size > 0 && (data[0] & 1));
    uint64_t page_bytes = huge ? UINT64_C(2) << 20 : 0;
    int rc = np_linux_numa_stat_parse((const char *)data, size, "fuzz", page_bytes, &m, &err);
    if (rc == 0) {
        uint64_t sum = 0, anon = 0, slot0 = 0, other_slots = 0;
        for (size_t i = 0; i < m.nr_node_slots; i++) {
            sum += m.bytes_by_node_os_id[i];
            anon += m.anon_bytes_by_node_os_id[i];
            slot0 += m.huge_by_node_os_id[i * NP_LINUX_HUGE_SIZES_MAX];
            for (size_t s = 1; s < NP_LINUX_HUGE_SIZES_MAX; s++)
                other_slots += m.huge_by_node_os_id[i * NP_LINUX_HUGE_SIZES_MAX + s];
        }
        /* the hugetlb form's bytes land in one size slot, node by node */
        if (sum != m.total_bytes || anon > sum || m.huge_bytes > sum ||
            (huge && m.huge_bytes != sum) || slot0 != m.huge_bytes || other_slots ||
            (m.huge_bytes && m.huge_page_bytes[0] != page_bytes) ||
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
