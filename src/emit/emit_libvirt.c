/*
 * emit/emit_libvirt.c - a placement as children of a libvirt <domain>.
 *
 *   <vcpu placement='static' cpuset='8-15'>4</vcpu>      hard affinity only
 *   <cputune><vcpupin vcpu='0' cpuset='8-11'/>...         when vCPU masks differ
 *   <numatune><memory mode=.. nodeset=../>
 *             <memnode cellid='0' mode=.. nodeset='1'/>   one per vNUMA cell
 *   <cpu><numa><cell id='0' cpus='0-1' memory='..' unit='KiB'>  no cpus= when memory only
 *          <distances><sibling id='0' value='10'/>...
 *
 * libvirt has no soft vCPU affinity: a soft placement leaves vCPUs unpinned
 * (the kernel's NUMA balancing or the numaplace daemon steers them) and
 * makes memory a preference: mode='preferred' for one node (or one per vNUMA
 * cell), mode='interleave' over several nodes without vNUMA, since libvirt's
 * 'preferred' takes a single node. Hard affinity pins vCPUs and makes memory
 * 'strict'. docs/emit.md has the whole mapping.
 */
#include <inttypes.h>
#include <string.h>

#include "emit/emit_buf.h"
#include "emit/emit_model.h"
#include "emit/emit_writers.h"

static uint64_t kib_ceil(uint64_t bytes)
{
    return bytes / NP_KIB_BYTES + (bytes % NP_KIB_BYTES ? 1 : 0);
}

/* The placement's nodes as a list ("1,3"). */
static void write_nodeset(const np_emit_model *m, np_emit_buf *b)
{
    np_bitmap *set = NULL;
    if (np_bitmap_create(&set) < 0) {
        b->failed = true;
        return;
    }
    for (size_t i = 0; i < m->nr_nodes; i++)
        if (np_bitmap_set(set, m->node_os_id[i]) < 0)
            b->failed = true;
    np_emit_buf_bitmap(b, set);
    np_bitmap_destroy(set);
}

static void write_vcpu(const np_emit_model *m, np_emit_buf *b)
{
    if (m->affinity != NP_AFFINITY_HARD) {
        np_emit_buf_printf(b, "<vcpu placement='static'>%u</vcpu>\n", m->nr_vcpus);
        return;
    }
    np_bitmap *all = NULL;
    bool uniform = true;
    if (np_bitmap_create(&all) < 0) {
        b->failed = true;
        return;
    }
    for (uint32_t v = 0; v < m->nr_vcpus; v++) {
        if (np_bitmap_or(all, m->vcpu_hard[v]) < 0)
            b->failed = true;
        if (!np_bitmap_equal(m->vcpu_hard[v], m->vcpu_hard[0]))
            uniform = false;
    }
    np_emit_buf_printf(b, "<vcpu placement='static' cpuset='");
    np_emit_buf_bitmap(b, all);
    np_emit_buf_printf(b, "'>%u</vcpu>\n", m->nr_vcpus);
    np_bitmap_destroy(all);
    if (uniform)
        return;
    np_emit_buf_printf(b, "<cputune>\n");
    for (uint32_t v = 0; v < m->nr_vcpus; v++) {
        np_emit_buf_printf(b, "  <vcpupin vcpu='%u' cpuset='", v);
        np_emit_buf_bitmap(b, m->vcpu_hard[v]);
        np_emit_buf_printf(b, "'/>\n");
    }
    np_emit_buf_printf(b, "</cputune>\n");
}

static void write_numatune(const np_emit_model *m, np_emit_buf *b)
{
    bool hard = m->affinity == NP_AFFINITY_HARD;
    np_emit_buf_printf(b, "<numatune>\n");
    if (hard || !m->nr_vnodes) {
        const char *mode = hard ? "strict" : m->nr_nodes == 1 ? "preferred" : "interleave";
        np_emit_buf_printf(b, "  <memory mode='%s' nodeset='", mode);
        write_nodeset(m, b);
        np_emit_buf_printf(b, "'/>\n");
    }
    for (size_t i = 0; i < m->nr_vnodes; i++)
        np_emit_buf_printf(b, "  <memnode cellid='%zu' mode='%s' nodeset='%u'/>\n", i,
                           hard ? "strict" : "preferred", m->vnodes[i].pnode_os_id);
    np_emit_buf_printf(b, "</numatune>\n");
}

static void write_cells(const np_emit_model *m, np_emit_buf *b)
{
    size_t n = m->nr_vnodes;
    np_emit_buf_printf(b, "<cpu>\n  <numa>\n");
    for (size_t i = 0; i < n; i++) {
        np_emit_buf_printf(b, "    <cell id='%zu'", i);
        /* cpus is optional in libvirt's schema: a memory-only cell */
        if (!np_bitmap_is_empty(m->vnodes[i].vcpus)) {
            np_emit_buf_printf(b, " cpus='");
            np_emit_buf_bitmap(b, m->vnodes[i].vcpus);
            np_emit_buf_printf(b, "'");
        }
        np_emit_buf_printf(b, " memory='%" PRIu64 "' unit='KiB'>\n",
                           m->vnodes[i].mem_bytes / NP_KIB_BYTES);
        np_emit_buf_printf(b, "      <distances>\n");
        for (size_t j = 0; j < n; j++)
            np_emit_buf_printf(b, "        <sibling id='%zu' value='%u'/>\n", j,
                               m->vdistance[i * n + j]);
        np_emit_buf_printf(b, "      </distances>\n    </cell>\n");
    }
    np_emit_buf_printf(b, "  </numa>\n</cpu>\n");
}

void np_emit_write_libvirt(const np_emit_model *m, unsigned flags, np_emit_buf *b)
{
    uint64_t max_kib = kib_ceil(m->maxmem_bytes);
    if (m->nr_vnodes) {
        /* libvirt takes the cells' sum as the guest's memory. */
        max_kib = 0;
        for (size_t i = 0; i < m->nr_vnodes; i++)
            max_kib += m->vnodes[i].mem_bytes / NP_KIB_BYTES;
    }
    if (!(flags & NP_EMIT_NO_COMMENTS)) {
        /* An XML comment may not contain "--"; policy names never do, but check. */
        const char *policy = strstr(m->policy, "--") ? "" : m->policy;
        np_emit_buf_printf(b, "<!-- numaplace placement%s%s: memory on nodes ",
                           policy[0] ? ", policy " : "",
                           policy);
        write_nodeset(m, b);
        np_emit_buf_printf(b, ", affinity %s%s -->\n", np_affinity_mode_name(m->affinity),
                           m->affinity == NP_AFFINITY_HARD
                               ? ""
                               : " (libvirt has no soft vCPU affinity: vCPUs are not pinned)");
    }
    if (!(flags & NP_EMIT_NO_NAME) && m->name[0])
        np_emit_buf_printf(b, "<name>%s</name>\n", m->name);
    np_emit_buf_printf(b, "<memory unit='KiB'>%" PRIu64 "</memory>\n", max_kib);
    np_emit_buf_printf(b, "<currentMemory unit='KiB'>%" PRIu64 "</currentMemory>\n",
                       kib_ceil(m->mem_bytes));
    write_vcpu(m, b);
    write_numatune(m, b);
    if (m->nr_vnodes)
        write_cells(m, b);
}
