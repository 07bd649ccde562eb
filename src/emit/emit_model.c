/*
 * emit/emit_model.c - the emitters' model of a placed guest: building it
 * from the public placement accessors, and the consistency checks every
 * writer relies on (see emit_model.h).
 */
#include "emit/emit_model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/place.h>
#include <numaplace/topology.h>
#include <numaplace/vnuma.h>

#include "spec/spec_fields.h"
#include "util/error.h"

/* ACPI SLIT: 10 is a node's distance to itself and entries are bytes; QEMU
 * (-numa dist), libvirt (<sibling value=>) and xl (vdistances) all take
 * this scale, so a layout outside it could not be written faithfully. */
#define NP_SLIT_LOCAL 10u
#define NP_SLIT_MAX 255u

uint64_t np_emit_mib_ceil(uint64_t bytes)
{
    return bytes / NP_MIB_BYTES + (bytes % NP_MIB_BYTES ? 1 : 0);
}

int np_emit_model_init(np_emit_model *m, uint32_t nr_vcpus, size_t nr_nodes, size_t nr_vnodes)
{
    memset(m, 0, sizeof(*m));
    m->nr_vcpus = nr_vcpus;
    m->nr_nodes = nr_nodes;
    m->nr_vnodes = nr_vnodes;
    m->affinity = NP_AFFINITY_SOFT;
    m->node_os_id = calloc(nr_nodes ? nr_nodes : 1, sizeof(*m->node_os_id));
    m->node_mem_bytes = calloc(nr_nodes ? nr_nodes : 1, sizeof(*m->node_mem_bytes));
    m->vcpu_hard = calloc(nr_vcpus ? nr_vcpus : 1, sizeof(*m->vcpu_hard));
    m->vcpu_soft = calloc(nr_vcpus ? nr_vcpus : 1, sizeof(*m->vcpu_soft));
    m->vnodes = calloc(nr_vnodes ? nr_vnodes : 1, sizeof(*m->vnodes));
    m->vdistance = calloc(nr_vnodes ? nr_vnodes * nr_vnodes : 1, sizeof(*m->vdistance));
    if (!m->node_os_id || !m->node_mem_bytes || !m->vcpu_hard || !m->vcpu_soft || !m->vnodes ||
        !m->vdistance) {
        np_emit_model_fini(m);
        return -ENOMEM;
    }
    for (size_t v = 0; v < nr_vnodes; v++) {
        if (np_bitmap_create(&m->vnodes[v].vcpus) < 0) {
            np_emit_model_fini(m);
            return -ENOMEM;
        }
    }
    return 0;
}

void np_emit_model_fini(np_emit_model *m)
{
    if (m->vcpu_hard)
        for (uint32_t v = 0; v < m->nr_vcpus; v++)
            np_bitmap_destroy(m->vcpu_hard[v]);
    if (m->vcpu_soft)
        for (uint32_t v = 0; v < m->nr_vcpus; v++)
            np_bitmap_destroy(m->vcpu_soft[v]);
    if (m->vnodes)
        for (size_t v = 0; v < m->nr_vnodes; v++)
            np_bitmap_destroy(m->vnodes[v].vcpus);
    free(m->node_os_id);
    free(m->node_mem_bytes);
    free(m->vcpu_hard);
    free(m->vcpu_soft);
    free(m->vnodes);
    free(m->vdistance);
    memset(m, 0, sizeof(*m));
}

static bool has_node(const np_emit_model *m, uint32_t os_id)
{
    for (size_t i = 0; i < m->nr_nodes; i++)
        if (m->node_os_id[i] == os_id)
            return true;
    return false;
}

static int check_vnuma(const np_emit_model *m, np_error *err)
{
    uint64_t total = 0;
    size_t n = m->nr_vnodes;
    if (n == 0)
        return 0;
    for (size_t v = 0; v < n; v++) {
        const np_emit_vnode *vn = &m->vnodes[v];
        if (vn->mem_bytes == 0 || vn->mem_bytes % NP_MIB_BYTES)
            return np_error_set(err, NULL, 0, "vnode %zu: memory must be a positive whole MiB",
                                v);
        if (!has_node(m, vn->pnode_os_id))
            return np_error_set(err, NULL, 0,
                                "vnode %zu: backing node %u holds none of the guest's memory", v,
                                vn->pnode_os_id);
        /* A vnode without vCPUs is memory only (a CPU-less CXL or HBM node,
         * or a node the split gave memory and no vCPU): QEMU and libvirt
         * take it; xl.cfg cannot say it (np_emit_check_xl). */
        int last = -1;
        for (int c = np_bitmap_next(vn->vcpus, 0); c >= 0;
             c = np_bitmap_next(vn->vcpus, (unsigned)c + 1))
            last = c;
        if (last >= 0 && (uint32_t)last >= m->nr_vcpus)
            return np_error_set(err, NULL, 0, "vnode %zu names vCPU %d; the guest has %u", v,
                                last, m->nr_vcpus);
        for (size_t w = v + 1; w < n; w++)
            if (np_bitmap_intersects(vn->vcpus, m->vnodes[w].vcpus))
                return np_error_set(err, NULL, 0, "vnodes %zu and %zu share a vCPU", v, w);
        total += vn->mem_bytes;
        for (size_t w = 0; w < n; w++) {
            uint32_t d = m->vdistance[v * n + w];
            if (w == v && d != NP_SLIT_LOCAL)
                return np_error_set(err, NULL, 0,
                                    "vnode distance %zu->%zu is %u; a local distance is %u", v,
                                    w, d, NP_SLIT_LOCAL);
            if (d < NP_SLIT_LOCAL || d > NP_SLIT_MAX)
                return np_error_set(err, NULL, 0,
                                    "vnode distance %zu->%zu is %u; expected %u to %u", v, w, d,
                                    NP_SLIT_LOCAL, NP_SLIT_MAX);
        }
    }
    unsigned covered = 0;
    for (size_t v = 0; v < n; v++)
        covered += np_bitmap_count(m->vnodes[v].vcpus);
    if (covered != m->nr_vcpus)
        return np_error_set(err, NULL, 0, "vnodes cover %u of the guest's %u vCPUs", covered,
                            m->nr_vcpus);
    if (total < m->mem_bytes)
        return np_error_set(err, NULL, 0, "vnodes hold less memory than the guest starts with");
    return 0;
}

int np_emit_model_check(const np_emit_model *m, np_error *err)
{
    if (m->nr_vcpus < 1 || m->nr_vcpus > NP_GUEST_MAX_VCPUS)
        return np_error_set(err, NULL, 0, "the guest needs 1 to %u vCPUs", NP_GUEST_MAX_VCPUS);
    if (m->mem_bytes == 0 || m->maxmem_bytes < m->mem_bytes)
        return np_error_set(err, NULL, 0, "the guest needs memory > 0 and maxmem >= memory");
    if (m->name[0] && !np_spec_name_ok(m->name, strlen(m->name)))
        return np_error_set(err, NULL, 0,
                            "guest name \"%s\" cannot be written as is; expected letters, "
                            "digits or '-_.+@'",
                            m->name);
    for (const char *p = m->policy; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
            return np_error_set(err, NULL, 0, "policy name \"%s\" cannot go into a comment",
                                m->policy);
    if (m->nr_nodes == 0)
        return np_error_set(err, NULL, 0, "the placement puts memory on no node");
    for (size_t i = 0; i < m->nr_nodes; i++) {
        if (i > 0 && m->node_os_id[i] <= m->node_os_id[i - 1])
            return np_error_set(err, NULL, 0, "placement nodes must be ascending and distinct");
        if (m->node_mem_bytes[i] == 0)
            return np_error_set(err, NULL, 0, "placement node %u holds no memory",
                                m->node_os_id[i]);
    }
    for (uint32_t v = 0; v < m->nr_vcpus; v++) {
        if (m->affinity == NP_AFFINITY_HARD && !m->vcpu_hard[v])
            return np_error_set(err, NULL, 0, "hard affinity but vCPU %u has no hard mask", v);
        if ((m->vcpu_hard[v] && np_bitmap_is_empty(m->vcpu_hard[v])) ||
            (m->vcpu_soft[v] && np_bitmap_is_empty(m->vcpu_soft[v])))
            return np_error_set(err, NULL, 0, "vCPU %u has an empty CPU mask", v);
    }
    return check_vnuma(m, err);
}

/* ---- the adapter ------------------------------------------------------------------- */

static int copy_mask(const np_bitmap *src, np_bitmap **dst)
{
    return src ? np_bitmap_copy(src, dst) : 0;
}

int np_emit_model_from_placement(const np_topology *topo, const np_guest_spec *spec,
                                 const np_placement *pl, np_emit_model *out, np_error *err)
{
    np_emit_model m;
    const np_vnuma *vn = np_placement_vnuma(pl);
    size_t nr_vnodes = vn ? np_vnuma_nr_vnodes(vn) : 0;
    size_t nr_topo = np_topology_nr_nodes(topo);
    size_t nr_nodes = 0;
    int rc;

    for (size_t i = 0; i < nr_topo; i++)
        if (np_placement_node_mem_bytes(pl, i) > 0)
            nr_nodes++;
    rc = np_emit_model_init(&m, spec->vcpus, nr_nodes, nr_vnodes);
    if (rc < 0)
        return rc;
    snprintf(m.name, sizeof(m.name), "%s", spec->name);
    snprintf(m.policy, sizeof(m.policy), "%s", np_placement_policy(pl) ? np_placement_policy(pl) : "");
    m.mem_bytes = spec->mem_bytes;
    m.maxmem_bytes = np_guest_spec_maxmem_bytes(spec); /* 0 in the spec: equal to memory */
    m.affinity = spec->affinity;
    /* Topology nodes are sorted by os_id, so this list is ascending. */
    size_t k = 0;
    for (size_t i = 0; i < nr_topo; i++) {
        uint64_t bytes = np_placement_node_mem_bytes(pl, i);
        if (bytes == 0)
            continue;
        m.node_os_id[k] = np_topology_node(topo, i)->os_id;
        m.node_mem_bytes[k] = bytes;
        k++;
    }
    for (uint32_t v = 0; v < spec->vcpus && rc == 0; v++) {
        rc = copy_mask(np_placement_vcpu_hard(pl, v), &m.vcpu_hard[v]);
        if (rc == 0)
            rc = copy_mask(np_placement_vcpu_soft(pl, v), &m.vcpu_soft[v]);
    }
    for (size_t i = 0; i < nr_vnodes && rc == 0; i++) {
        m.vnodes[i].pnode_os_id = np_vnuma_pnode_os_id(vn, i);
        m.vnodes[i].mem_bytes = np_vnuma_mem_bytes(vn, i);
        const np_bitmap *vcpus = np_vnuma_vcpus(vn, i);
        if (vcpus)
            rc = np_bitmap_or(m.vnodes[i].vcpus, vcpus);
        for (size_t j = 0; j < nr_vnodes; j++)
            m.vdistance[i * nr_vnodes + j] = np_vnuma_distance(vn, i, j);
    }
    if (rc == 0)
        rc = np_emit_model_check(&m, err);
    if (rc < 0) {
        np_emit_model_fini(&m);
        return rc;
    }
    *out = m;
    return 0;
}
