/*
 * emit/emit_xl.c - a placement as xl.cfg(5) lines.
 *
 *   name = "web"
 *   memory = 8192                    MiB the guest starts with
 *   maxmem = 12288                   MiB ceiling (the vnode sizes' sum with vNUMA)
 *   vcpus = 4
 *   cpus = "8-15"                    hard affinity, one mask for all vCPUs, or
 *   cpus = [ "8-11", "8-11", "12-15", "12-15" ]   one per vCPU (xl's list form)
 *   cpus_soft = ...                  soft affinity, same two forms
 *   vnuma = [ [ "pnode=1", "size=6144", "vcpus=0-1", "vdistances=10,21" ], ... ]
 *
 * Xen derives a domain's node affinity, and so where its memory comes from,
 * from its vCPUs' hard and soft affinity; a per-vCPU list, any cpus_soft and
 * any vnuma pnode= also turn xl's own automatic placement off, which is what
 * a numaplace decision wants (anchors.md 1.1, 1.5). vnuma uses the syntax of
 * Xen 4.5+ (xl.cfg(5) "vnuma"): all four keys, sizes in MiB summing to
 * maxmem, pnode a Xen node number (the topology's os_id).
 */
#include <inttypes.h>
#include <stdbool.h>

#include "emit/emit_buf.h"
#include "emit/emit_model.h"
#include "emit/emit_writers.h"
#include "util/error.h"

/* Items per line of a per-vCPU list, to keep lines readable. */
#define NP_XL_ITEMS_PER_LINE 8u

/* All vCPUs have the same mask (or all none). */
static bool masks_uniform(np_bitmap *const *masks, uint32_t n)
{
    for (uint32_t v = 1; v < n; v++) {
        if (!masks[v] != !masks[0])
            return false;
        if (masks[v] && !np_bitmap_equal(masks[v], masks[0]))
            return false;
    }
    return true;
}

static bool masks_any(np_bitmap *const *masks, uint32_t n)
{
    for (uint32_t v = 0; v < n; v++)
        if (masks[v])
            return true;
    return false;
}

/* One vCPU's mask; "all" stands for no restriction, as xl spells it. */
static void mask_item(np_emit_buf *b, const np_bitmap *mask)
{
    np_emit_buf_printf(b, "\"");
    if (mask)
        np_emit_buf_bitmap(b, mask);
    else
        np_emit_buf_printf(b, "all");
    np_emit_buf_printf(b, "\"");
}

static void write_masks(np_emit_buf *b, const char *key, np_bitmap *const *masks, uint32_t n)
{
    np_emit_buf_printf(b, "%s = ", key);
    if (masks_uniform(masks, n)) {
        mask_item(b, masks[0]);
        np_emit_buf_printf(b, "\n");
        return;
    }
    np_emit_buf_printf(b, "[");
    for (uint32_t v = 0; v < n; v++) {
        if (v % NP_XL_ITEMS_PER_LINE == 0)
            np_emit_buf_printf(b, "%s\n    ", v ? "," : "");
        else
            np_emit_buf_printf(b, ", ");
        mask_item(b, masks[v]);
    }
    np_emit_buf_printf(b, "\n    ]\n");
}

/* Soft masks that only repeat the hard ones add nothing. */
static bool soft_adds_nothing(const np_emit_model *m)
{
    for (uint32_t v = 0; v < m->nr_vcpus; v++) {
        if (!m->vcpu_soft[v])
            continue;
        if (!m->vcpu_hard[v] || !np_bitmap_equal(m->vcpu_soft[v], m->vcpu_hard[v]))
            return false;
    }
    return true;
}

/* xl.cfg(5) (Xen 4.5 to 4.17) lists pnode, size, vcpus and vdistances as
 * "all mandatory at the moment" in every vnode, and xl stops at an empty
 * "vcpus=" ("failed to split ... into pair"). xl's parser would take a row
 * without the key, and libxl__vnuma_config_check() only wants each vCPU in
 * exactly one vnode, but that is outside the documented syntax and
 * untested on Xen. Leaving the vnode out would move its memory: the text
 * would no longer be the placement. So a memory-only vnode is an error
 * that names the ways out (docs/emit.md). */
int np_emit_check_xl(const np_emit_model *m, np_error *err)
{
    for (size_t i = 0; i < m->nr_vnodes; i++) {
        const np_emit_vnode *vn = &m->vnodes[i];
        if (!np_bitmap_is_empty(vn->vcpus))
            continue;
        return np_error_set(err, NULL, 0,
                            "xl.cfg vnuma cannot express virtual node %zu (%" PRIu64
                            " MiB on node %u) without vCPUs: xl.cfg(5) makes vcpus= "
                            "mandatory in every vnode; place with cpuless-memory=no or "
                            "vnuma=off (Xen then takes the memory from the vCPUs' nodes), "
                            "or emit libvirt or qemu, which can",
                            i, vn->mem_bytes / NP_MIB_BYTES, vn->pnode_os_id);
    }
    return 0;
}

void np_emit_write_xl(const np_emit_model *m, unsigned flags, np_emit_buf *b)
{
    bool comments = !(flags & NP_EMIT_NO_COMMENTS);
    uint64_t mem_mib = np_emit_mib_ceil(m->mem_bytes);
    uint64_t maxmem_mib = np_emit_mib_ceil(m->maxmem_bytes);
    if (m->nr_vnodes) {
        maxmem_mib = 0;
        for (size_t i = 0; i < m->nr_vnodes; i++)
            maxmem_mib += m->vnodes[i].mem_bytes / NP_MIB_BYTES;
    }

    if (comments) {
        np_emit_buf_printf(b, "# numaplace placement%s%s: memory on node%s",
                           m->policy[0] ? ", policy " : "",
                           m->policy, m->nr_nodes > 1 ? "s" : "");
        for (size_t i = 0; i < m->nr_nodes; i++)
            np_emit_buf_printf(b, "%s %u (%" PRIu64 " MiB)", i ? "," : "", m->node_os_id[i],
                               np_emit_mib_ceil(m->node_mem_bytes[i]));
        np_emit_buf_printf(b, ", affinity %s\n", np_affinity_mode_name(m->affinity));
    }
    if (!(flags & NP_EMIT_NO_NAME) && m->name[0])
        np_emit_buf_printf(b, "name = \"%s\"\n", m->name);
    np_emit_buf_printf(b, "memory = %" PRIu64 "\n", mem_mib);
    if (maxmem_mib != mem_mib || m->nr_vnodes)
        np_emit_buf_printf(b, "maxmem = %" PRIu64 "\n", maxmem_mib);
    np_emit_buf_printf(b, "vcpus = %u\n", m->nr_vcpus);

    if (m->affinity == NP_AFFINITY_HARD)
        write_masks(b, "cpus", m->vcpu_hard, m->nr_vcpus);
    if (m->affinity != NP_AFFINITY_NONE && masks_any(m->vcpu_soft, m->nr_vcpus) &&
        !(m->affinity == NP_AFFINITY_HARD && soft_adds_nothing(m)))
        write_masks(b, "cpus_soft", m->vcpu_soft, m->nr_vcpus);
    if (m->affinity == NP_AFFINITY_NONE && comments && !m->nr_vnodes)
        np_emit_buf_printf(b, "# affinity none: xl.cfg cannot place memory without a vCPU "
                              "affinity; xl would run its own placement\n");

    if (!m->nr_vnodes)
        return;
    if (comments && mem_mib != maxmem_mib)
        np_emit_buf_printf(b, "# note: HVM guests cannot combine vnuma with populate-on-demand "
                              "(memory < maxmem)\n");
    np_emit_buf_printf(b, "vnuma = [");
    for (size_t i = 0; i < m->nr_vnodes; i++) {
        const np_emit_vnode *vn = &m->vnodes[i];
        np_emit_buf_printf(b, "%s[ \"pnode=%u\", \"size=%" PRIu64 "\", \"vcpus=", i ? ",\n          " : " ",
                           vn->pnode_os_id, vn->mem_bytes / NP_MIB_BYTES);
        np_emit_buf_bitmap(b, vn->vcpus);
        np_emit_buf_printf(b, "\", \"vdistances=");
        for (size_t j = 0; j < m->nr_vnodes; j++)
            np_emit_buf_printf(b, "%s%u", j ? "," : "", m->vdistance[i * m->nr_vnodes + j]);
        np_emit_buf_printf(b, "\" ]");
    }
    np_emit_buf_printf(b, " ]\n");
}
