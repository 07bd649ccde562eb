/*
 * vnuma/vnuma.c - building a guest's virtual NUMA layout from its
 * placement, and reading it.
 *
 * The layout is what the guest's firmware tables (SRAT/SLIT, or Xen's
 * vnuma= list) will say: virtual nodes with whole-MiB sizes summing to the
 * guest's maximum memory, each vCPU in exactly one of them, and distances
 * copied from the physical nodes that back them, so that a NUMA-aware
 * guest kernel makes the same trade-offs the host would. A guest that is
 * not NUMA-aware gains nothing and loses nothing from it.
 */
#include "vnuma/vnuma_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/guest.h>

int np_vnuma_alloc(size_t nr, uint32_t nr_vcpus, np_vnuma **out)
{
    np_vnuma *v = calloc(1, sizeof(*v));
    int rc = 0;
    if (!v)
        return -ENOMEM;
    v->nr = nr;
    v->nr_vcpus = nr_vcpus;
    v->mem_bytes = calloc(nr, sizeof(*v->mem_bytes));
    v->vcpus = calloc(nr, sizeof(*v->vcpus));
    v->pnode_os = calloc(nr, sizeof(*v->pnode_os));
    v->dist = calloc(nr * nr, sizeof(*v->dist));
    v->vcpu_vnode = calloc(nr_vcpus ? nr_vcpus : 1, sizeof(*v->vcpu_vnode));
    if (!v->mem_bytes || !v->vcpus || !v->pnode_os || !v->dist || !v->vcpu_vnode) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < nr; i++) {
        rc = np_bitmap_create(&v->vcpus[i]);
        if (rc < 0)
            goto out;
    }
out:
    if (rc < 0) {
        np_vnuma_destroy(v);
        return rc;
    }
    *out = v;
    return 0;
}

void np_vnuma_destroy(np_vnuma *v)
{
    if (!v)
        return;
    if (v->vcpus)
        for (size_t i = 0; i < v->nr; i++)
            np_bitmap_destroy(v->vcpus[i]);
    free(v->vcpus);
    free(v->mem_bytes);
    free(v->pnode_os);
    free(v->dist);
    free(v->vcpu_vnode);
    free(v);
}

int np_vnuma_copy(const np_vnuma *src, np_vnuma **out)
{
    np_vnuma *v = NULL;
    int rc = np_vnuma_alloc(src->nr, src->nr_vcpus, &v);
    if (rc < 0)
        return rc;
    memcpy(v->mem_bytes, src->mem_bytes, src->nr * sizeof(*v->mem_bytes));
    memcpy(v->pnode_os, src->pnode_os, src->nr * sizeof(*v->pnode_os));
    memcpy(v->dist, src->dist, src->nr * src->nr * sizeof(*v->dist));
    memcpy(v->vcpu_vnode, src->vcpu_vnode, src->nr_vcpus * sizeof(*v->vcpu_vnode));
    for (size_t i = 0; i < src->nr; i++) {
        rc = np_bitmap_or(v->vcpus[i], src->vcpus[i]);
        if (rc < 0) {
            np_vnuma_destroy(v);
            return rc;
        }
    }
    *out = v;
    return 0;
}

size_t np_vnuma_nr_vnodes(const np_vnuma *v)
{
    return v ? v->nr : 0;
}

uint64_t np_vnuma_mem_bytes(const np_vnuma *v, size_t vnode)
{
    return v && vnode < v->nr ? v->mem_bytes[vnode] : 0;
}

const np_bitmap *np_vnuma_vcpus(const np_vnuma *v, size_t vnode)
{
    return v && vnode < v->nr ? v->vcpus[vnode] : NULL;
}

uint32_t np_vnuma_pnode_os_id(const np_vnuma *v, size_t vnode)
{
    return v && vnode < v->nr ? v->pnode_os[vnode] : NP_TOPO_ID_UNKNOWN;
}

uint32_t np_vnuma_distance(const np_vnuma *v, size_t from, size_t to)
{
    return v && from < v->nr && to < v->nr ? v->dist[from * v->nr + to] : 0;
}

int np_vnuma_vcpu_vnode(const np_vnuma *v, uint32_t vcpu, size_t *vnode_out)
{
    if (!v || vcpu >= v->nr_vcpus)
        return -ENOENT;
    *vnode_out = v->vcpu_vnode[vcpu];
    return 0;
}

uint64_t np_vnuma_total_mem_bytes(const np_vnuma *v)
{
    uint64_t sum = 0;
    for (size_t i = 0; v && i < v->nr; i++)
        sum += v->mem_bytes[i];
    return sum;
}

uint32_t np_vnuma_nr_vcpus(const np_vnuma *v)
{
    return v ? v->nr_vcpus : 0;
}

int np_vnuma_same_guest_view(const np_vnuma *a, const np_vnuma *b)
{
    if (!a || !b)
        return a == b;
    if (a->nr != b->nr || a->nr_vcpus != b->nr_vcpus)
        return 0;
    for (size_t i = 0; i < a->nr; i++)
        if (a->mem_bytes[i] != b->mem_bytes[i] || !np_bitmap_equal(a->vcpus[i], b->vcpus[i]))
            return 0;
    return memcmp(a->dist, b->dist, a->nr * a->nr * sizeof(*a->dist)) == 0;
}

/* ---- building -------------------------------------------------------------------- */

/* Virtual nodes per physical node for vnuma=N: one each, then one at a
 * time to the node whose vnodes have the most vCPUs each (while it has a
 * vCPU for every vnode), lower position on ties. */
static void vnodes_per_pnode(size_t k, const uint32_t *vcpus, size_t n_vnodes, size_t *count)
{
    size_t given = k;
    for (size_t p = 0; p < k; p++)
        count[p] = 1;
    while (given < n_vnodes) {
        size_t best = k;
        for (size_t p = 0; p < k; p++) {
            if (vcpus[p] <= count[p])
                continue;
            /* compare vcpus[p]/count[p] with vcpus[best]/count[best] */
            if (best == k || (uint64_t)vcpus[p] * count[best] > (uint64_t)vcpus[best] * count[p])
                best = p;
        }
        if (best == k) /* every vnode has its vCPU: give by position */
            best = given % k;
        count[best]++;
        given++;
    }
}

int np_vnuma_build(const np_topology *topo, const struct np_guest_spec *spec, size_t nr_pnodes,
                   const size_t *pnode_idx, const uint64_t *mem_bytes, const uint32_t *vcpus,
                   np_vnuma **out)
{
    size_t *mem_pos = NULL, *count = NULL, *home = NULL, *vn_pidx = NULL;
    uint32_t *eff_vcpus = NULL;
    np_vnuma *v = NULL;
    int rc = 0;

    if (!topo || !spec || !out || nr_pnodes == 0 || spec->vnuma_nodes == NP_VNUMA_OFF)
        return -EINVAL;
    mem_pos = calloc(nr_pnodes, sizeof(*mem_pos));
    count = calloc(nr_pnodes, sizeof(*count));
    home = calloc(nr_pnodes, sizeof(*home));
    eff_vcpus = calloc(nr_pnodes, sizeof(*eff_vcpus));
    if (!mem_pos || !count || !home || !eff_vcpus) {
        rc = -ENOMEM;
        goto out;
    }
    /* Nodes with memory back vnodes; the others lend their vCPUs to the
     * nearest of those (lower index on ties). */
    size_t k = 0;
    uint32_t total_vcpus = 0;
    for (size_t p = 0; p < nr_pnodes; p++) {
        if (pnode_idx[p] >= np_topology_nr_nodes(topo) || mem_bytes[p] % NP_VNUMA_ALIGN_BYTES) {
            rc = -EINVAL;
            goto out;
        }
        if (mem_bytes[p] > 0)
            mem_pos[k++] = p;
        total_vcpus += vcpus[p];
    }
    if (k == 0 || total_vcpus != spec->vcpus) {
        rc = -EINVAL;
        goto out;
    }
    for (size_t p = 0; p < nr_pnodes; p++) {
        size_t best = 0;
        for (size_t i = 1; i < k && mem_bytes[p] == 0; i++) {
            uint32_t d = np_topology_distance(topo, pnode_idx[p], pnode_idx[mem_pos[i]]);
            uint32_t bd = np_topology_distance(topo, pnode_idx[p], pnode_idx[mem_pos[best]]);
            if (d < bd)
                best = i;
        }
        if (mem_bytes[p] > 0) {
            for (size_t i = 0; i < k; i++)
                if (mem_pos[i] == p)
                    best = i;
        }
        home[p] = best;
        eff_vcpus[best] += vcpus[p];
    }
    size_t n_vnodes = spec->vnuma_nodes > 0 ? (size_t)spec->vnuma_nodes : k;
    if (n_vnodes < k) {
        rc = -EINVAL;
        goto out;
    }
    vnodes_per_pnode(k, eff_vcpus, n_vnodes, count);
    rc = np_vnuma_alloc(n_vnodes, spec->vcpus, &v);
    if (rc < 0)
        goto out;
    vn_pidx = malloc(n_vnodes * sizeof(*vn_pidx));
    if (!vn_pidx) {
        rc = -ENOMEM;
        goto out;
    }

    /* vnodes in physical node order; sizes and vCPUs split evenly among
     * the vnodes of one physical node (the first ones get the remainders). */
    size_t first_vnode = 0;
    for (size_t i = 0; i < k; i++) {
        size_t p = mem_pos[i];
        uint64_t mib = mem_bytes[p] / NP_VNUMA_ALIGN_BYTES;
        if (mib < count[i]) {
            rc = -EINVAL;
            goto out;
        }
        for (size_t j = 0; j < count[i]; j++) {
            size_t vn = first_vnode + j;
            uint64_t part = mib / count[i] + (j < mib % count[i] ? 1 : 0);
            v->mem_bytes[vn] = part * NP_VNUMA_ALIGN_BYTES;
            v->pnode_os[vn] = np_topology_node(topo, pnode_idx[p])->os_id;
        }
        /* The vCPUs homed here, in their own (ascending) order. */
        uint32_t first_vcpu = 0, seen = 0;
        for (size_t q = 0; q < nr_pnodes; q++) {
            for (uint32_t c = 0; c < vcpus[q]; c++) {
                uint32_t vcpu = first_vcpu + c;
                if (home[q] != i)
                    continue;
                /* vnode j of this node takes an even, contiguous run */
                size_t j = 0;
                uint64_t run_end = 0;
                for (j = 0; j < count[i]; j++) {
                    run_end += eff_vcpus[i] / count[i] + (j < eff_vcpus[i] % count[i] ? 1 : 0);
                    if (seen < run_end)
                        break;
                }
                size_t vn = first_vnode + j;
                rc = np_bitmap_set(v->vcpus[vn], vcpu);
                if (rc < 0)
                    goto out;
                v->vcpu_vnode[vcpu] = (uint32_t)vn;
                seen++;
            }
            first_vcpu += vcpus[q];
        }
        first_vnode += count[i];
    }
    /* Each vnode's physical node index (vnodes are in mem_pos order):
     * looked up once, not twice per pair. */
    for (size_t i = 0, vn = 0; i < k; i++)
        for (size_t j = 0; j < count[i]; j++)
            vn_pidx[vn++] = pnode_idx[mem_pos[i]];
    for (size_t a = 0; a < n_vnodes; a++) {
        for (size_t b = 0; b < n_vnodes; b++) {
            uint32_t d = NP_VNUMA_LOCAL_DISTANCE;
            if (a != b) {
                size_t pa = vn_pidx[a], pb = vn_pidx[b];
                d = pa == pb ? NP_VNUMA_SAME_PNODE_DISTANCE : np_topology_distance(topo, pa, pb);
                if (d < NP_VNUMA_SAME_PNODE_DISTANCE)
                    d = NP_VNUMA_SAME_PNODE_DISTANCE;
            }
            v->dist[a * n_vnodes + b] = d;
        }
    }
    *out = v;
    v = NULL;
out:
    np_vnuma_destroy(v);
    free(mem_pos);
    free(count);
    free(home);
    free(eff_vcpus);
    free(vn_pidx);
    return rc;
}
