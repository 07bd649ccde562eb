/*
 * fuzz_xen_numa_dump.c - libFuzzer target for the reader of Xen's debug-key
 * `u` output (np_xen_numa_dump_parse).
 *
 * Checks the reader's contract on every input: either 0 with a dump in
 * which every listed domain has a page count for every listed node (walked,
 * so a half-built table shows up under ASan) and no node has more free
 * pages than pages, or -EINVAL/-ENOMEM with the out-parameter untouched and
 * -EINVAL carrying a message.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <numaplace/xen.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    np_xen_numa_dump *d = NULL;
    np_error err = {0};
    int rc = np_xen_numa_dump_parse((const char *)data, size, "fuzz", &d, &err);
    if (rc == 0) {
        if (!d || np_xen_numa_dump_nr_nodes(d) == 0)
            abort();
        for (size_t k = 0; k < np_xen_numa_dump_nr_nodes(d); k++) {
            uint32_t node;
            uint64_t total, freep;
            if (np_xen_numa_dump_node(d, k, &node, &total, &freep) || freep > total)
                abort();
            for (size_t i = 0; i < np_xen_numa_dump_nr_domains(d); i++) {
                uint32_t domid;
                uint64_t pages;
                if (np_xen_numa_dump_domain(d, i, &domid, &pages) ||
                    np_xen_numa_dump_pages(d, domid, node, &pages))
                    abort();
            }
        }
        np_xen_numa_dump_destroy(d);
    } else if (d != NULL || (rc != -EINVAL && rc != -ENOMEM) || (rc == -EINVAL && !err.msg[0])) {
        abort();
    }
    return 0;
}
