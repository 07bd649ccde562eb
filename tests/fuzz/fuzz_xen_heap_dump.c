/*
 * fuzz_xen_heap_dump.c - np_xen_heap_dump_parse on arbitrary bytes: a
 * refusal says why; an accepted dump answers every query without reading
 * outside its tables; the allocator model then runs on what it read.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <numaplace/xen.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    np_xen_heap_dump *d = NULL;
    np_error err = {0};
    int rc = np_xen_heap_dump_parse((const char *)data, size, "fuzz.log", &d, &err);
    if (rc == -EINVAL && err.msg[0] == '\0')
        abort();
    if (rc == 0) {
        np_xen_alloc_node n[4];
        uint64_t out[4], sum = 0;
        uint32_t zone = np_xen_dma_zone(np_xen_heap_dump_dma_bits(d));
        for (uint32_t k = 0; k < 4; k++) {
            uint64_t all = np_xen_heap_dump_free_pages(d, k, UINT32_MAX);
            uint64_t dma = np_xen_heap_dump_free_pages(d, k, zone);
            if (dma > all)
                abort();
            n[k].os_id = k;
            n[k].free_bytes = (all - dma) * NP_XEN_PAGE_BYTES;
            n[k].dma_free_bytes = dma * NP_XEN_PAGE_BYTES;
            n[k].in_mask = k & 1;
        }
        uint64_t want = UINT64_C(64) << 20;
        if (np_xen_alloc_predict(n, 4, want, NP_XEN_ALLOC_CHUNK_BYTES, out) == 0) {
            for (int k = 0; k < 4; k++)
                sum += out[k];
            if (sum != want)
                abort();
        }
        np_xen_heap_dump_destroy(d);
    }
    return 0;
}
