/*
 * emit/emit_qemu.c - a placement as QEMU command-line options, one
 * "-option value" per line (values never contain blanks, so a line splits
 * into two argv words at its first space), with advice in "# " lines.
 *
 *   -m 12288M
 *   -smp 4
 *   -object memory-backend-ram,id=mem0,size=6144M,host-nodes=1,policy=bind
 *   -numa node,nodeid=0,cpus=0-1,memdev=mem0         one pair per vNUMA node
 *                                                     (no cpus= for a memory-only one)
 *   -numa dist,src=0,dst=1,val=21                     every ordered pair
 *   # vcpu 0: 8-15                                    thread affinity advice
 *
 * Without vNUMA the guest's RAM is one backend named by
 * -machine memory-backend=mem0, bound to (or preferring) all the placement's
 * nodes. -m is the balloon ceiling (maxmem); a smaller start size is reached
 * with the balloon, said in a comment. QEMU has no option for vCPU thread
 * affinity, hence advice: pin each vCPU thread (thread ids from QMP
 * query-cpus-fast) for hard affinity; soft affinity has no Linux
 * equivalent and is left to the balancer.
 */
#include <inttypes.h>

#include "emit/emit_buf.h"
#include "emit/emit_model.h"
#include "emit/emit_writers.h"

/* "host-nodes=1,host-nodes=3" or "cpus=0-1,cpus=4-5": QEMU takes a list
 * option as repeated keys, each a number or a range. */
static void write_repeated(np_emit_buf *b, const char *key, const np_bitmap *set)
{
    bool first = true;
    for (int i = np_bitmap_next(set, 0); i >= 0;) {
        int last = i;
        while (np_bitmap_test(set, (unsigned)last + 1))
            last++;
        if (last > i)
            np_emit_buf_printf(b, "%s%s=%d-%d", first ? "" : ",", key, i, last);
        else
            np_emit_buf_printf(b, "%s%s=%d", first ? "" : ",", key, i);
        first = false;
        i = np_bitmap_next(set, (unsigned)last + 1);
    }
}

static void write_backend(np_emit_buf *b, size_t id, uint64_t mib, const np_bitmap *nodes,
                          const char *policy)
{
    np_emit_buf_printf(b, "-object memory-backend-ram,id=mem%zu,size=%" PRIu64 "M,", id, mib);
    write_repeated(b, "host-nodes", nodes);
    np_emit_buf_printf(b, ",policy=%s\n", policy);
}

static void write_advice(const np_emit_model *m, bool comments, np_emit_buf *b)
{
    bool hard = m->affinity == NP_AFFINITY_HARD;
    np_bitmap *const *masks = hard ? m->vcpu_hard : m->vcpu_soft;
    if (m->affinity == NP_AFFINITY_NONE)
        return;
    if (comments)
        np_emit_buf_printf(b, hard ? "# vCPU thread affinity (hard): pin each vCPU thread, e.g. "
                                     "taskset -pc CPUS TID; TIDs from QMP query-cpus-fast\n"
                                   : "# vCPU thread affinity (soft): preferred CPUs; Linux has "
                                     "no soft affinity, the balancer steers towards them\n");
    for (uint32_t v = 0; v < m->nr_vcpus; v++) {
        if (!masks[v])
            continue;
        np_emit_buf_printf(b, "# vcpu %u: ", v);
        np_emit_buf_bitmap(b, masks[v]);
        np_emit_buf_printf(b, "\n");
    }
}

void np_emit_write_qemu(const np_emit_model *m, unsigned flags, np_emit_buf *b)
{
    bool comments = !(flags & NP_EMIT_NO_COMMENTS);
    const char *policy = m->affinity == NP_AFFINITY_HARD ? "bind" : "preferred";
    uint64_t ram_mib = np_emit_mib_ceil(m->maxmem_bytes);
    if (m->nr_vnodes) {
        ram_mib = 0;
        for (size_t i = 0; i < m->nr_vnodes; i++)
            ram_mib += m->vnodes[i].mem_bytes / NP_MIB_BYTES;
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
        np_emit_buf_printf(b, "-name %s\n", m->name);
    np_emit_buf_printf(b, "-m %" PRIu64 "M\n", ram_mib);
    np_emit_buf_printf(b, "-smp %u\n", m->nr_vcpus);
    if (comments && np_emit_mib_ceil(m->mem_bytes) < ram_mib)
        np_emit_buf_printf(b, "# start size %" PRIu64 " MiB: set the balloon target after boot "
                              "(virtio-balloon)\n",
                           np_emit_mib_ceil(m->mem_bytes));

    np_bitmap *nodes = NULL;
    if (np_bitmap_create(&nodes) < 0) {
        b->failed = true;
        return;
    }
    if (!m->nr_vnodes) {
        for (size_t i = 0; i < m->nr_nodes; i++)
            if (np_bitmap_set(nodes, m->node_os_id[i]) < 0)
                b->failed = true;
        np_emit_buf_printf(b, "-machine memory-backend=mem0\n");
        write_backend(b, 0, ram_mib, nodes, policy);
    }
    for (size_t i = 0; i < m->nr_vnodes; i++) {
        const np_emit_vnode *vn = &m->vnodes[i];
        np_bitmap_zero(nodes);
        if (np_bitmap_set(nodes, vn->pnode_os_id) < 0)
            b->failed = true;
        write_backend(b, i, vn->mem_bytes / NP_MIB_BYTES, nodes, policy);
        np_emit_buf_printf(b, "-numa node,nodeid=%zu,", i);
        if (!np_bitmap_is_empty(vn->vcpus)) { /* a memory-only node has no cpus= */
            write_repeated(b, "cpus", vn->vcpus);
            np_emit_buf_printf(b, ",");
        }
        np_emit_buf_printf(b, "memdev=mem%zu\n", i);
    }
    np_bitmap_destroy(nodes);
    /* QEMU assumes 10 on the diagonal and wants nothing else there. */
    for (size_t i = 0; i < m->nr_vnodes; i++)
        for (size_t j = 0; j < m->nr_vnodes; j++)
            if (i != j)
                np_emit_buf_printf(b, "-numa dist,src=%zu,dst=%zu,val=%u\n", i, j,
                                   m->vdistance[i * m->nr_vnodes + j]);
    write_advice(m, comments, b);
}
