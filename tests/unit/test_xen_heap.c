/*
 * test_xen_heap.c - Xen's heap by node and zone (debug key H), the DMA
 * width and zone, and the model of Xen 4.17's allocator (numaplace/xen.h):
 * an even round-robin split over the node affinity, a full node skipped,
 * other nodes before DMA memory, DMA memory last.
 */
#include <errno.h>
#include <string.h>

#include <numaplace/xen.h>

#include "np_test.h"

#define MiB (UINT64_C(1) << 20)

/* As the serial log holds it: a stale dump first, then the one read. */
static const char *const heap_text =
    "(XEN) Domain heap initialised DMA width 28 bits\n"
    "(XEN) 'H' pressed -> dumping heap info (now = 100)\n"
    "(XEN) heap[node=0][zone=16] -> 1 pages\n"
    "(XEN) some other line\n"
    "(XEN) 'H' pressed -> dumping heap info (now = 200)\n"
    "(XEN) heap[node=0][zone=0] -> 77 pages\n"
    "(XEN) heap[node=0][zone=15] -> 16384 pages\n"
    "(XEN) heap[node=0][zone=16] -> 32768 pages\n"
    "(XEN) heap[node=0][zone=18] -> 100000 pages\n"
    "(XEN) [  12.5] heap[node=1][zone=19] -> 200000 pages\n";

static void test_parse(void)
{
    np_xen_heap_dump *d = NULL;
    np_error err = {0};
    ASSERT_EQ(np_xen_heap_dump_parse(heap_text, strlen(heap_text), "log", &d, &err), 0);
    if (!d)
        return;
    ASSERT_EQ(np_xen_heap_dump_dma_bits(d), 28);
    /* zone 0 is Xen's own heap: never counted */
    ASSERT_U64_EQ(np_xen_heap_dump_free_pages(d, 0, UINT32_MAX), 16384 + 32768 + 100000);
    ASSERT_U64_EQ(np_xen_heap_dump_free_pages(d, 0, np_xen_dma_zone(28)), 16384 + 32768);
    ASSERT_U64_EQ(np_xen_heap_dump_free_pages(d, 1, np_xen_dma_zone(28)), 0);
    ASSERT_U64_EQ(np_xen_heap_dump_free_pages(d, 1, UINT32_MAX), 200000);
    ASSERT_U64_EQ(np_xen_heap_dump_free_pages(d, 2, UINT32_MAX), 0);
    np_xen_heap_dump_destroy(d);
}

static void test_refusals(void)
{
    np_xen_heap_dump *d = NULL;
    np_error err = {0};
    const char *none = "(XEN) nothing here\n";
    const char *bad = "'H' pressed -> dumping heap info\nheap[node=0][zone=99] -> 1 pages\n";
    const char *bad2 = "'H' pressed -> dumping heap info\nheap[node=0][zone=3] -> x pages\n";
    ASSERT_EQ(np_xen_heap_dump_parse(none, strlen(none), "log", &d, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "heap dump");
    memset(&err, 0, sizeof(err));
    ASSERT_EQ(np_xen_heap_dump_parse(bad, strlen(bad), "log", &d, &err), -EINVAL);
    ASSERT_EQ(err.line, 2);
    ASSERT_CONTAINS(err.msg, "zone=Z");
    memset(&err, 0, sizeof(err));
    ASSERT_EQ(np_xen_heap_dump_parse(bad2, strlen(bad2), "log", &d, &err), -EINVAL);
    ASSERT_EQ(err.line, 2);
    ASSERT_TRUE(d == NULL);
}

/* Xen's arch_get_dma_bitsize on the emulated host: node 0 spans 1 GiB from
 * frame 0, a quarter of it is 256 MiB: 28 bits; zones 1..16. */
static void test_dma_bits(void)
{
    ASSERT_EQ(np_xen_default_dma_bits(0, 262144), 28);
    ASSERT_EQ(np_xen_dma_zone(28), 16);
    /* a large node is clamped to 32 bits */
    ASSERT_EQ(np_xen_default_dma_bits(0, UINT64_C(64) << 20 >> 2 << 8), 32);
    ASSERT_EQ(np_xen_dma_zone(5), 1);
}

static void test_even_split(void)
{
    /* two nodes with room: a 512 MiB PV guest over both gets 256 + 256
     * (measured: planned 197/315, Xen gave 256/256) */
    np_xen_alloc_node n[3] = {
        {.os_id = 0, .free_bytes = 600 * MiB, .dma_free_bytes = 190 * MiB, .in_mask = true},
        {.os_id = 1, .free_bytes = 400 * MiB, .in_mask = true},
        {.os_id = 2, .free_bytes = 900 * MiB},
    };
    uint64_t out[3];
    ASSERT_EQ(np_xen_alloc_predict(n, 3, 512 * MiB, NP_XEN_ALLOC_CHUNK_BYTES, out), 0);
    ASSERT_U64_EQ(out[0], 256 * MiB);
    ASSERT_U64_EQ(out[1], 256 * MiB);
    ASSERT_U64_EQ(out[2], 0);
}

static void test_full_node_and_dma(void)
{
    /* node 0 holds 818 MiB free but 191 MiB of it DMA: a 654 MiB guest
     * with affinity {0} gets 627 MiB there, the rest from node 1 (not the
     * DMA zone) - measured 626 + 28 */
    np_xen_alloc_node n[2] = {
        {.os_id = 0, .free_bytes = 627 * MiB, .dma_free_bytes = 191 * MiB, .in_mask = true},
        {.os_id = 1, .free_bytes = 300 * MiB},
    };
    uint64_t out[2];
    ASSERT_EQ(np_xen_alloc_predict(n, 2, 654 * MiB, NP_XEN_ALLOC_CHUNK_BYTES, out), 0);
    ASSERT_U64_EQ(out[0], 626 * MiB); /* 313 whole 2 MiB extents */
    ASSERT_U64_EQ(out[1], 28 * MiB);
    /* without node 1's memory the DMA zone serves the rest */
    n[1].free_bytes = 0;
    ASSERT_EQ(np_xen_alloc_predict(n, 2, 654 * MiB, NP_XEN_ALLOC_CHUNK_BYTES, out), 0);
    ASSERT_U64_EQ(out[0], 654 * MiB);
    ASSERT_U64_EQ(out[1], 0);
    /* and beyond that it does not fit */
    ASSERT_EQ(np_xen_alloc_predict(n, 2, 900 * MiB, NP_XEN_ALLOC_CHUNK_BYTES, out), -ENOSPC);
}

static void test_uneven_room(void)
{
    /* affinity {0,1}: node 1 fills after 100 MiB, the rest stays on node 0
     * (the next node of the affinity) before any other node */
    np_xen_alloc_node n[3] = {
        {.os_id = 0, .free_bytes = 900 * MiB, .in_mask = true},
        {.os_id = 1, .free_bytes = 100 * MiB, .in_mask = true},
        {.os_id = 2, .free_bytes = 900 * MiB},
    };
    uint64_t out[3];
    ASSERT_EQ(np_xen_alloc_predict(n, 3, 512 * MiB, NP_XEN_ALLOC_CHUNK_BYTES, out), 0);
    ASSERT_U64_EQ(out[0], 412 * MiB);
    ASSERT_U64_EQ(out[1], 100 * MiB);
    ASSERT_U64_EQ(out[2], 0);
    /* no affinity at all: every node in turn */
    n[0].in_mask = n[1].in_mask = false;
    ASSERT_EQ(np_xen_alloc_predict(n, 3, 60 * MiB, NP_XEN_ALLOC_CHUNK_BYTES, out), 0);
    ASSERT_U64_EQ(out[0], 20 * MiB);
    ASSERT_U64_EQ(out[1], 20 * MiB);
    ASSERT_U64_EQ(out[2], 20 * MiB);
    ASSERT_EQ(np_xen_alloc_predict(n, 0, 60 * MiB, NP_XEN_ALLOC_CHUNK_BYTES, out), -EINVAL);
}

int main(void)
{
    NP_RUN(test_parse);
    NP_RUN(test_refusals);
    NP_RUN(test_dma_bits);
    NP_RUN(test_even_split);
    NP_RUN(test_full_node_and_dma);
    NP_RUN(test_uneven_room);
    return np_test_summary();
}
