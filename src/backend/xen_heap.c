/*
 * backend/xen_heap.c - Xen's heap by node and zone (debug key `H`), its DMA
 * width, and a model of how Xen 4.17's allocator spreads a guest's memory
 * over its node affinity. Pure: text and numbers in, numbers out, so it is
 * unit-tested and fuzzed without Xen (tests/unit/test_xen_heap.c,
 * tests/fuzz/fuzz_xen_heap_dump.c).
 *
 * Why a model: without vNUMA, Xen is given only the node set (the node
 * affinity implied by the vCPUs' soft and hard affinity); it does not take
 * a per-node split. What it does (xen/common/page_alloc.c,
 * alloc_domheap_pages and get_free_buddy): each extent (libxc builds a
 * guest from 2 MiB superpages) starts on the next node of the affinity
 * after the one the previous extent started on, so memory is split evenly
 * between the nodes; a node with no room is skipped for the next node of
 * the affinity, then for any other node; and all of that above the DMA
 * zone. Only when no node has memory above the DMA zone does it take DMA
 * pages. Measured on the emulated host (docs/xen.md): a PV guest planned
 * 197/315 MiB over two nodes got 256/256; a 654 MiB guest planned on node 0
 * with 818 MiB "free" got 626 MiB there and 28 MiB elsewhere, because about
 * 191 MiB of node 0's free memory was DMA zone.
 *
 * The `H` dump, from dump_heap() (4.17), one line per node and zone:
 *
 *     (XEN) 'H' pressed -> dumping heap info (now = 1234)
 *     (XEN) heap[node=0][zone=0] -> 0 pages
 *     ...
 *     (XEN) heap[node=0][zone=16] -> 48893 pages
 *
 * Zone z holds the frames whose number has z significant bits (page_to_zone
 * is flsl(mfn)); the DMA zones are 1..dma_bits-12 (bits_to_zone).
 */
#include <numaplace/xen.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/text.h"

#define HEAP_MARKER "pressed -> dumping heap info"
#define HEAP_LINE "heap[node="
#define DMA_WIDTH "DMA width "
/* Xen's NR_ZONES on x86 is PADDR_BITS - PAGE_SHIFT + 1 = 41; room above. */
#define HEAP_MAX_ZONES 64u
#define HEAP_MAX_PAGES (UINT64_C(1) << 40)
#define PAGE_SHIFT_BITS 12u
/* Xen clamps its default DMA width to 32 bits (arch_get_dma_bitsize). */
#define DMA_BITS_MAX 32u

struct np_xen_heap_dump {
    size_t nr_nodes;
    uint32_t node_os_ids[NP_TOPO_MAX_NODES];
    uint64_t pages[NP_TOPO_MAX_NODES][HEAP_MAX_ZONES];
    uint32_t dma_bits;
};

void np_xen_heap_dump_destroy(np_xen_heap_dump *dump)
{
    free(dump);
}

/* The position of node os_id in the dump, adding it when new; -ENOSPC. */
static int node_slot(np_xen_heap_dump *d, uint32_t os_id, size_t *slot)
{
    for (size_t i = 0; i < d->nr_nodes; i++)
        if (d->node_os_ids[i] == os_id) {
            *slot = i;
            return 0;
        }
    if (d->nr_nodes >= NP_TOPO_MAX_NODES)
        return -ENOSPC;
    d->node_os_ids[d->nr_nodes] = os_id;
    *slot = d->nr_nodes++;
    return 0;
}

/* "heap[node=N][zone=Z] -> P pages" (p points at "heap["). */
static int heap_line(np_xen_heap_dump *d, const char *p, const char *origin, unsigned lineno,
                     np_error *err)
{
    uint64_t node, zone, pages;
    size_t slot;
    p += strlen(HEAP_LINE);
    if (np_parse_u64(&p, NP_TOPO_MAX_NODES - 1, &node) || strncmp(p, "][zone=", 7) != 0)
        goto bad;
    p += 7;
    if (np_parse_u64(&p, HEAP_MAX_ZONES - 1, &zone) || strncmp(p, "] -> ", 5) != 0)
        goto bad;
    p += 5;
    if (np_parse_u64(&p, HEAP_MAX_PAGES, &pages) || strncmp(p, " pages", 6) != 0 ||
        !np_is_blank(p + 6))
        goto bad;
    if (node_slot(d, (uint32_t)node, &slot))
        return np_error_set(err, origin, lineno, "at most %u nodes", NP_TOPO_MAX_NODES);
    d->pages[slot][zone] = pages;
    return 0;
bad:
    return np_error_set(err, origin, lineno,
                        "heap[node=N][zone=Z] -> P pages, with N below %u and Z below %u",
                        NP_TOPO_MAX_NODES, HEAP_MAX_ZONES);
}

int np_xen_heap_dump_parse(const char *text, size_t len, const char *origin,
                           np_xen_heap_dump **out, np_error *err)
{
    np_xen_heap_dump *d = NULL;
    np_line_scanner sc;
    const char *line;
    uint32_t dma_bits = 0;
    bool in_dump = false, any = false;
    int rc = 0, r;

    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    np_scanner_init(&sc, text, len);
    while (rc == 0 && (r = np_scanner_next(&sc, &line)) != 0) {
        if (r < 0) {
            rc = r;
            break;
        }
        if (sc.has_nul) {
            rc = np_error_set(err, origin, sc.lineno, "text without NUL bytes");
            break;
        }
        const char *dma = strstr(line, DMA_WIDTH);
        if (dma) {
            const char *q = dma + strlen(DMA_WIDTH);
            uint64_t bits;
            if (np_parse_u64(&q, 64, &bits) == 0 && strncmp(q, " bits", 5) == 0)
                dma_bits = (uint32_t)bits;
        }
        if (strstr(line, HEAP_MARKER)) {
            /* A later dump replaces an earlier one. */
            uint32_t keep = dma_bits;
            memset(d, 0, sizeof(*d));
            d->dma_bits = keep;
            in_dump = true;
            any = true;
            continue;
        }
        const char *h = strstr(line, HEAP_LINE);
        if (in_dump && h)
            rc = heap_line(d, h, origin, sc.lineno, err);
    }
    np_scanner_fini(&sc);
    if (rc == 0 && (!any || d->nr_nodes == 0))
        rc = np_error_set(err, origin, 0, "a heap dump (debug key H: \"heap[node=...\" lines)");
    if (rc) {
        free(d);
        return rc;
    }
    d->dma_bits = dma_bits;
    *out = d;
    return 0;
}

uint64_t np_xen_heap_dump_free_pages(const np_xen_heap_dump *dump, uint32_t node_os_id,
                                     uint32_t zone_max)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < dump->nr_nodes; i++) {
        if (dump->node_os_ids[i] != node_os_id)
            continue;
        /* zone 0 is Xen's own heap (MEMZONE_XEN), never a guest's */
        for (uint32_t z = 1; z < HEAP_MAX_ZONES && z <= zone_max; z++)
            sum += dump->pages[i][z];
    }
    return sum;
}

uint32_t np_xen_heap_dump_dma_bits(const np_xen_heap_dump *dump)
{
    return dump->dma_bits;
}

/* Position of the highest set bit, 1-based (flsl); 0 for 0. */
static uint32_t fls64(uint64_t v)
{
    uint32_t n = 0;
    while (v) {
        n++;
        v >>= 1;
    }
    return n;
}

uint32_t np_xen_default_dma_bits(uint64_t node_start_pages, uint64_t node_size_pages)
{
    uint64_t last = node_start_pages + node_size_pages / 4;
    uint32_t bits = fls64(last ? last - 1 : 0) + PAGE_SHIFT_BITS;
    return bits < DMA_BITS_MAX ? bits : DMA_BITS_MAX;
}

uint32_t np_xen_dma_zone(uint32_t dma_bits)
{
    return dma_bits < PAGE_SHIFT_BITS + 1 ? 1u : dma_bits - PAGE_SHIFT_BITS;
}

/* One extent: the node that serves it, starting at mask position `start`
 * (an index into nodes), or -1. dma: phase two (DMA pages allowed). */
static int pick(const np_xen_alloc_node *n, size_t nr, bool all, const uint64_t *left,
                const uint64_t *dma_left, size_t start, uint64_t chunk, bool dma)
{
    /* the nodes of the affinity, from `start` on, wrapping */
    for (size_t k = 0; k < nr; k++) {
        size_t i = (start + k) % nr;
        if ((all || n[i].in_mask) && left[i] + (dma ? dma_left[i] : 0) >= chunk)
            return (int)i;
    }
    /* then the other nodes, lowest first */
    for (size_t i = 0; i < nr; i++)
        if (!all && !n[i].in_mask && left[i] + (dma ? dma_left[i] : 0) >= chunk)
            return (int)i;
    return -1;
}

int np_xen_alloc_predict(const np_xen_alloc_node *nodes, size_t nr, uint64_t bytes,
                         uint64_t chunk_bytes, uint64_t *out_bytes)
{
    uint64_t *left = NULL, *dma_left = NULL;
    size_t last = nr ? nr - 1 : 0; /* so the first extent starts on the first node */
    bool any_mask = false;
    int rc = 0;

    if (!nodes || !out_bytes || nr == 0 || chunk_bytes == 0)
        return -EINVAL;
    left = calloc(nr, sizeof(*left));
    dma_left = calloc(nr, sizeof(*dma_left));
    if (!left || !dma_left) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < nr; i++) {
        left[i] = nodes[i].free_bytes;
        dma_left[i] = nodes[i].dma_free_bytes;
        out_bytes[i] = 0;
        any_mask = any_mask || nodes[i].in_mask;
    }
    while (bytes > 0) {
        uint64_t want = bytes < chunk_bytes ? bytes : chunk_bytes;
        size_t start = last;
        int i;
        /* cycle_node(): the next node of the affinity after the last start
         * (no affinity at all reads as every node) */
        for (size_t k = 1; k <= nr; k++) {
            size_t c = (last + k) % nr;
            if (nodes[c].in_mask || !any_mask) {
                start = c;
                break;
            }
        }
        last = start;
        i = pick(nodes, nr, !any_mask, left, dma_left, start, want, false);
        if (i < 0)
            i = pick(nodes, nr, !any_mask, left, dma_left, start, want, true);
        if (i < 0) {
            rc = -ENOSPC;
            goto out;
        }
        uint64_t from_free = left[i] < want ? left[i] : want;
        left[i] -= from_free;
        dma_left[i] -= want - from_free;
        out_bytes[i] += want;
        bytes -= want;
    }
out:
    free(left);
    free(dma_left);
    return rc;
}
