/*
 * model/hoststate.c - the host as placement and balancing see it: guests,
 * where their memory and vCPUs are, what they demand, what is in flight.
 *
 * Workload assumed: hosts of 1 to 1024 nodes carrying up to some thousands
 * of guests of 1 to a few hundred vCPUs each; the state is filled by
 * sensing code (backends, the simulator) and read once per decision by a
 * policy. So writes do the expensive part once: when a vCPU's affinity is
 * set, its demand's split over nodes is worked out and cached; a guest's
 * memory is a short list of the nodes it uses; and every write updates
 * running sums of the load measure (a vCPU's or a guest's old contribution
 * taken off, the new one added), so np_host_state_node_loads() costs
 * O(nodes) and a replay of thousands of guests stays linear in events.
 */
#include "model/hoststate_int.h"
#include "util/text.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A node index and the fraction of a vCPU's demand attributed to it. */
typedef struct hs_share {
    uint32_t node_idx;
    double frac;
} hs_share;

/* A node index and a vCPU's count there, in COUNT_FX units. */
typedef struct hs_count {
    uint32_t node_idx;
    int64_t fx;
} hs_count;

typedef struct hs_vcpu {
    np_bitmap *hard; /* NULL: all CPUs */
    np_bitmap *soft; /* NULL: none */
    double demand;
    int32_t cpu_os_id; /* last CPU it ran on, -1 unknown */
    hs_share *shares;  /* cached attribution; NULL with nr_shares 0: anywhere */
    uint32_t nr_shares;
    /* where the standard metrics count the vCPU (np_hs_vcpu_counts) */
    hs_count *counts;
    uint32_t nr_counts;
    bool counted_anywhere; /* no mask: every node, in proportion to its CPUs */
    /* Xen's view (np_hs_xen_vcpus), bit per node index, hosts of at most
     * HS_XEN_MAX_NODES nodes: the nodes with CPUs its hard mask touches
     * (all without one), and those the CPUs of both masks touch */
    uint32_t xen_hard_nodes, xen_both_nodes;
} hs_vcpu;

typedef struct hs_guest {
    np_guest_spec spec;
    size_t idx;         /* its index in st->guests (kept on removals) */
    uint64_t name_hash; /* of spec.name, for the table */
    uint64_t balloon_target_bytes;
    np_hs_mem *mem;
    size_t nr_mem, cap_mem;
    hs_vcpu *vcpus; /* spec.vcpus entries */
    uint32_t xen_affinity; /* Xen's automatic node affinity (np_hs_xen_vcpus) */
} hs_guest;

struct np_host_state {
    np_topology *topo;
    size_t nr_nodes;
    uint64_t *reserved_bytes;
    uint64_t *free_bytes; /* measured now (live); NO_MEASURE when unset */
    uint64_t *free_start_bytes; /* free before any guest of this state: the
                                 * topology's figure unless set; capped at size */
    double *capacity;
    double total_capacity;
    uint32_t *by_distance; /* nr_nodes rows of nr_nodes node indices */
    hs_guest **guests;
    size_t nr_guests, cap_guests;
    hs_guest **hash; /* open addressing, linear probing; NULL = empty */
    size_t hash_cap;
    /* The load measure's sums, kept up to date by every write (a replay of
     * thousands of guests must not walk them all for each decision).
     * Demand is summed in fixed point (DEMAND_FX units of a CPU) so that
     * adding and later removing a vCPU's share leaves exactly what was
     * there, whatever the order. */
    int64_t *demand_fx;     /* per node: attributed demand */
    int64_t anywhere_fx;    /* demand of vCPUs free to run on any node */
    uint64_t *populated;    /* per node, bytes */
    uint64_t *claimed;
    uint64_t *balloon;
    /* The vCPU count of the standard metrics (np_hs_vcpu_counts), also a
     * running sum in fixed point (COUNT_FX per vCPU): per node, plus the
     * vCPUs counted anywhere and each node's share of one of those. */
    int64_t *count_fx;
    int64_t *anywhere_share_fx;
    uint64_t nr_anywhere;
    /* Per node, the vCPUs Xen counts there (np_hs_xen_vcpus); kept on
     * hosts of at most HS_XEN_MAX_NODES nodes (xen_kept). */
    uint64_t *xen_vcpus;
    bool xen_kept;
    uint32_t xen_cpu_nodes; /* bit per node with CPUs */
    /* Hugetlb pools: the page sizes seen (slots, in the order first set)
     * and per node and slot the free bytes (nr_nodes rows of
     * NP_HOST_HUGE_SIZES_MAX; NO_MEASURE when unset). */
    uint64_t huge_page_bytes[NP_HOST_HUGE_SIZES_MAX];
    size_t nr_huge_sizes;
    uint64_t *huge_free;
};

#define NO_MEASURE UINT64_MAX
/* Fixed-point unit of the demand sums: 2^40 per CPU, so a million vCPUs
 * at full demand (2^60) still fit an int64 and a share is kept to 1e-12. */
#define DEMAND_FX 1099511627776.0
/* Fixed-point unit of the vCPU counts: 2^40 per vCPU (a whole vCPU on a
 * node is exact; a fraction is kept to 1e-12). */
#define COUNT_FX_SHIFT 40
#define COUNT_FX 1099511627776.0
/* Xen's vCPU count uses a bit per node. */
#define HS_XEN_MAX_NODES 32u

/* ---- helpers ------------------------------------------------------------------ */

static uint64_t sat_sub(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

static void hash_put(np_host_state *st, hs_guest *g)
{
    size_t slot = g->name_hash & (st->hash_cap - 1);
    while (st->hash[slot])
        slot = (slot + 1) & (st->hash_cap - 1);
    st->hash[slot] = g;
}

/* Grows the table to keep it at most half full for min_entries guests and
 * re-inserts every guest. */
static int hash_rebuild(np_host_state *st, size_t min_entries)
{
    size_t cap = st->hash_cap ? st->hash_cap : 64;
    while (cap < min_entries * 2)
        cap *= 2;
    if (cap != st->hash_cap) {
        hs_guest **h = calloc(cap, sizeof(*h));
        if (!h)
            return -ENOMEM;
        free(st->hash);
        st->hash = h;
        st->hash_cap = cap;
    } else {
        memset(st->hash, 0, cap * sizeof(*st->hash));
    }
    for (size_t g = 0; g < st->nr_guests; g++)
        hash_put(st, st->guests[g]);
    return 0;
}

/* Linear probing's deletion by backward shift: every entry after the hole
 * whose home slot is not between the hole and itself moves into the hole,
 * so lookups never stop early. O(1) on a half-empty table. */
static void hash_del(np_host_state *st, const hs_guest *g)
{
    size_t mask = st->hash_cap - 1, i = g->name_hash & mask;
    while (st->hash[i] != g)
        i = (i + 1) & mask;
    for (size_t j = (i + 1) & mask; st->hash[j]; j = (j + 1) & mask) {
        size_t home = st->hash[j]->name_hash & mask;
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            st->hash[i] = st->hash[j];
            i = j;
        }
    }
    st->hash[i] = NULL;
}

static void vcpu_fini(hs_vcpu *v)
{
    np_bitmap_destroy(v->hard);
    np_bitmap_destroy(v->soft);
    free(v->shares);
    free(v->counts);
}

static void guest_free(hs_guest *g)
{
    if (!g)
        return;
    if (g->vcpus)
        for (uint32_t v = 0; v < g->spec.vcpus; v++)
            vcpu_fini(&g->vcpus[v]);
    free(g->vcpus);
    free(g->mem);
    free(g);
}

static hs_guest *guest_at(const np_host_state *st, size_t gidx)
{
    return gidx < st->nr_guests ? st->guests[gidx] : NULL;
}

static hs_vcpu *vcpu_at(const np_host_state *st, size_t gidx, uint32_t vcpu)
{
    hs_guest *g = guest_at(st, gidx);
    return g && vcpu < g->spec.vcpus ? &g->vcpus[vcpu] : NULL;
}

/* part / whole in COUNT_FX units, rounded to nearest (0 without a whole):
 * integer arithmetic, so the same share always gives the same units. */
static int64_t count_fx(uint64_t part, uint64_t whole)
{
    if (whole == 0)
        return 0;
    return (int64_t)(((part << COUNT_FX_SHIFT) + whole / 2) / whole);
}

/* ---- creation ----------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Row `from` of the by-distance table: keys (distance << 32 | index)
 * sorted, which orders by distance and then index; O(n log n) a row. */
static void sort_row(const np_topology *t, size_t from, size_t n, uint64_t *keys, uint32_t *row)
{
    for (size_t j = 0; j < n; j++)
        keys[j] = (uint64_t)np_topology_distance(t, from, j) << 32 | (uint64_t)j;
    qsort(keys, n, sizeof(*keys), cmp_u64);
    for (size_t j = 0; j < n; j++)
        row[j] = (uint32_t)(keys[j] & UINT32_MAX);
}

int np_host_state_create(np_topology *topo, np_host_state **out)
{
    np_host_state *st = NULL;
    uint64_t *keys = NULL;
    int rc = 0;

    if (!topo || !out)
        return -EINVAL;
    st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    st->topo = np_topology_ref(topo);
    size_t n = np_topology_nr_nodes(topo);
    st->nr_nodes = n;
    st->reserved_bytes = calloc(n, sizeof(*st->reserved_bytes));
    st->free_bytes = calloc(n, sizeof(*st->free_bytes));
    st->free_start_bytes = calloc(n, sizeof(*st->free_start_bytes));
    st->capacity = calloc(n, sizeof(*st->capacity));
    st->by_distance = calloc(n * n, sizeof(*st->by_distance));
    st->demand_fx = calloc(n, sizeof(*st->demand_fx));
    st->populated = calloc(n, sizeof(*st->populated));
    st->claimed = calloc(n, sizeof(*st->claimed));
    st->balloon = calloc(n, sizeof(*st->balloon));
    st->count_fx = calloc(n, sizeof(*st->count_fx));
    st->anywhere_share_fx = calloc(n, sizeof(*st->anywhere_share_fx));
    st->xen_vcpus = calloc(n ? n : 1, sizeof(*st->xen_vcpus));
    st->huge_free = malloc((n ? n : 1) * NP_HOST_HUGE_SIZES_MAX * sizeof(*st->huge_free));
    st->xen_kept = n <= HS_XEN_MAX_NODES;
    keys = calloc(n, sizeof(*keys));
    if (st->huge_free)
        for (size_t i = 0; i < (n ? n : 1) * NP_HOST_HUGE_SIZES_MAX; i++)
            st->huge_free[i] = NO_MEASURE;
    if (!st->huge_free || !st->reserved_bytes || !st->free_bytes || !st->free_start_bytes ||
        !st->capacity || !st->by_distance || !st->demand_fx || !st->populated ||
        !st->claimed || !st->balloon || !st->count_fx || !st->anywhere_share_fx || !st->xen_vcpus ||
        !keys) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const np_node_info *ni = np_topology_node(topo, i);
        st->free_bytes[i] = NO_MEASURE;
        /* What the topology's source measured free when it was read
         * (numactl -H, xl info -n, the live reader); a source that knows
         * no free figure reports the size. */
        st->free_start_bytes[i] = ni->mem_free_bytes < ni->mem_total_bytes
                                      ? ni->mem_free_bytes
                                      : ni->mem_total_bytes;
        uint32_t extra = ni->nr_cpus > ni->nr_cores ? ni->nr_cpus - ni->nr_cores : 0;
        st->capacity[i] = (double)ni->nr_cores + NP_LOAD_SMT_THREAD_CAPACITY * (double)extra;
        st->total_capacity += st->capacity[i];
        sort_row(topo, i, n, keys, &st->by_distance[i * n]);
        st->anywhere_share_fx[i] = count_fx(ni->nr_cpus, np_topology_nr_cpus(topo));
        if (st->xen_kept && ni->nr_cpus > 0)
            st->xen_cpu_nodes |= UINT32_C(1) << i;
    }
    rc = hash_rebuild(st, 0);
out:
    free(keys);
    if (rc < 0) {
        np_host_state_destroy(st);
        return rc;
    }
    *out = st;
    return 0;
}

void np_host_state_destroy(np_host_state *st)
{
    if (!st)
        return;
    for (size_t g = 0; g < st->nr_guests; g++)
        guest_free(st->guests[g]);
    free(st->guests);
    free(st->hash);
    free(st->reserved_bytes);
    free(st->free_bytes);
    free(st->free_start_bytes);
    free(st->capacity);
    free(st->by_distance);
    free(st->demand_fx);
    free(st->populated);
    free(st->claimed);
    free(st->balloon);
    free(st->count_fx);
    free(st->anywhere_share_fx);
    free(st->xen_vcpus);
    free(st->huge_free);
    np_topology_destroy(st->topo);
    free(st);
}

static int bitmap_dup(const np_bitmap *src, np_bitmap **out)
{
    *out = NULL;
    return src ? np_bitmap_copy(src, out) : 0;
}

static int guest_copy(const hs_guest *src, hs_guest **out)
{
    hs_guest *g = calloc(1, sizeof(*g));
    int rc = 0;
    if (!g)
        return -ENOMEM;
    g->spec = src->spec;
    g->idx = src->idx;
    g->name_hash = src->name_hash;
    g->balloon_target_bytes = src->balloon_target_bytes;
    g->xen_affinity = src->xen_affinity;
    g->vcpus = calloc(src->spec.vcpus, sizeof(*g->vcpus));
    if (!g->vcpus) {
        rc = -ENOMEM;
        goto out;
    }
    if (src->nr_mem) {
        g->mem = malloc(src->nr_mem * sizeof(*g->mem));
        if (!g->mem) {
            rc = -ENOMEM;
            goto out;
        }
        memcpy(g->mem, src->mem, src->nr_mem * sizeof(*g->mem));
        g->nr_mem = g->cap_mem = src->nr_mem;
    }
    for (uint32_t v = 0; v < src->spec.vcpus; v++) {
        const hs_vcpu *sv = &src->vcpus[v];
        hs_vcpu *dv = &g->vcpus[v];
        dv->demand = sv->demand;
        dv->cpu_os_id = sv->cpu_os_id;
        if ((rc = bitmap_dup(sv->hard, &dv->hard)) < 0 ||
            (rc = bitmap_dup(sv->soft, &dv->soft)) < 0)
            goto out;
        if (sv->nr_shares) {
            dv->shares = malloc(sv->nr_shares * sizeof(*dv->shares));
            if (!dv->shares) {
                rc = -ENOMEM;
                goto out;
            }
            memcpy(dv->shares, sv->shares, sv->nr_shares * sizeof(*dv->shares));
            dv->nr_shares = sv->nr_shares;
        }
        dv->counted_anywhere = sv->counted_anywhere;
        dv->xen_hard_nodes = sv->xen_hard_nodes;
        dv->xen_both_nodes = sv->xen_both_nodes;
        if (sv->nr_counts) {
            dv->counts = malloc(sv->nr_counts * sizeof(*dv->counts));
            if (!dv->counts) {
                rc = -ENOMEM;
                goto out;
            }
            memcpy(dv->counts, sv->counts, sv->nr_counts * sizeof(*dv->counts));
            dv->nr_counts = sv->nr_counts;
        }
    }
out:
    if (rc < 0) {
        guest_free(g);
        return rc;
    }
    *out = g;
    return 0;
}

int np_host_state_copy(const np_host_state *st, np_host_state **out)
{
    np_host_state *c = NULL;
    int rc = np_host_state_create(st->topo, &c);
    if (rc < 0)
        return rc;
    size_t n = st->nr_nodes;
    memcpy(c->reserved_bytes, st->reserved_bytes, n * sizeof(*c->reserved_bytes));
    memcpy(c->free_bytes, st->free_bytes, n * sizeof(*c->free_bytes));
    memcpy(c->free_start_bytes, st->free_start_bytes, n * sizeof(*c->free_start_bytes));
    /* the guests are copied as they are, so are their sums */
    memcpy(c->demand_fx, st->demand_fx, n * sizeof(*c->demand_fx));
    memcpy(c->populated, st->populated, n * sizeof(*c->populated));
    memcpy(c->claimed, st->claimed, n * sizeof(*c->claimed));
    memcpy(c->balloon, st->balloon, n * sizeof(*c->balloon));
    memcpy(c->count_fx, st->count_fx, n * sizeof(*c->count_fx));
    memcpy(c->xen_vcpus, st->xen_vcpus, n * sizeof(*c->xen_vcpus));
    memcpy(c->huge_free, st->huge_free, n * NP_HOST_HUGE_SIZES_MAX * sizeof(*c->huge_free));
    memcpy(c->huge_page_bytes, st->huge_page_bytes, sizeof(c->huge_page_bytes));
    c->nr_huge_sizes = st->nr_huge_sizes;
    c->anywhere_fx = st->anywhere_fx;
    c->nr_anywhere = st->nr_anywhere;
    if (st->nr_guests) {
        c->guests = calloc(st->nr_guests, sizeof(*c->guests));
        if (!c->guests) {
            rc = -ENOMEM;
            goto out;
        }
        c->cap_guests = st->nr_guests;
        for (size_t g = 0; g < st->nr_guests; g++) {
            rc = guest_copy(st->guests[g], &c->guests[g]);
            if (rc < 0)
                goto out;
            c->nr_guests = g + 1;
        }
    }
    rc = hash_rebuild(c, c->nr_guests);
out:
    if (rc < 0) {
        np_host_state_destroy(c);
        return rc;
    }
    *out = c;
    return 0;
}

const np_topology *np_host_state_topology(const np_host_state *st)
{
    return st->topo;
}

/* ---- node facts ------------------------------------------------------------------ */

int np_host_state_set_reserved(np_host_state *st, size_t node_idx, uint64_t bytes)
{
    if (node_idx >= st->nr_nodes)
        return -EINVAL;
    st->reserved_bytes[node_idx] = bytes;
    return 0;
}

uint64_t np_host_state_reserved_bytes(const np_host_state *st, size_t node_idx)
{
    return node_idx < st->nr_nodes ? st->reserved_bytes[node_idx] : 0;
}

int np_host_state_set_node_free(np_host_state *st, size_t node_idx, uint64_t free_bytes)
{
    if (node_idx >= st->nr_nodes || free_bytes == NO_MEASURE)
        return -EINVAL;
    st->free_bytes[node_idx] = free_bytes;
    return 0;
}

int np_host_state_set_node_free_at_start(np_host_state *st, size_t node_idx,
                                         uint64_t free_bytes)
{
    if (node_idx >= st->nr_nodes)
        return -EINVAL;
    uint64_t total = np_topology_node(st->topo, node_idx)->mem_total_bytes;
    st->free_start_bytes[node_idx] = free_bytes < total ? free_bytes : total;
    return 0;
}

uint64_t np_host_state_node_free_at_start(const np_host_state *st, size_t node_idx)
{
    return node_idx < st->nr_nodes ? st->free_start_bytes[node_idx] : 0;
}

uint64_t np_hs_node_free_now_bytes(const np_host_state *st, size_t node_idx,
                                   uint64_t populated_bytes)
{
    if (node_idx >= st->nr_nodes)
        return 0;
    if (st->free_bytes[node_idx] != NO_MEASURE)
        return st->free_bytes[node_idx];
    return sat_sub(sat_sub(st->free_start_bytes[node_idx], st->reserved_bytes[node_idx]),
                   populated_bytes);
}

int np_host_state_node_free(const np_host_state *st, size_t node_idx, uint64_t *free_out)
{
    if (node_idx >= st->nr_nodes)
        return -EINVAL;
    if (st->free_bytes[node_idx] == NO_MEASURE)
        return -ENODATA;
    *free_out = st->free_bytes[node_idx];
    return 0;
}

double np_hs_node_capacity(const np_host_state *st, size_t node_idx)
{
    return node_idx < st->nr_nodes ? st->capacity[node_idx] : 0.0;
}

const uint32_t *np_hs_nodes_by_distance(const np_host_state *st, size_t node_idx)
{
    return node_idx < st->nr_nodes ? &st->by_distance[node_idx * st->nr_nodes] : NULL;
}

/* ---- the load sums ------------------------------------------------------------------- */

static void guest_headroom(const hs_guest *g, uint64_t *headroom_out);

static int64_t to_fx(double demand)
{
    return (int64_t)llround(demand * DEMAND_FX);
}

/* Adds (sign 1) or takes off (sign -1) a vCPU's demand where it is
 * attributed. Each share is rounded to fixed point the same way both
 * times, so a removal undoes an addition exactly. */
static void vcpu_sum(np_host_state *st, const hs_vcpu *v, int sign)
{
    if (v->nr_shares == 0) {
        st->anywhere_fx += sign * to_fx(v->demand);
        return;
    }
    for (uint32_t s = 0; s < v->nr_shares; s++)
        st->demand_fx[v->shares[s].node_idx] += sign * to_fx(v->demand * v->shares[s].frac);
}

/* Adds or takes off a vCPU's count (np_hs_vcpu_counts). */
static void vcpu_count_sum(np_host_state *st, const hs_vcpu *v, int sign)
{
    if (v->counted_anywhere)
        st->nr_anywhere += sign > 0 ? 1 : (uint64_t)-1;
    for (uint32_t c = 0; c < v->nr_counts; c++)
        st->count_fx[v->counts[c].node_idx] += sign * v->counts[c].fx;
}

/* Xen's automatic node affinity of a guest: the nodes the CPUs of its
 * vCPUs' hard and soft masks both touch, or those its hard masks touch
 * when that is none. */
static uint32_t xen_affinity(const hs_guest *g)
{
    uint32_t hard = 0, both = 0;
    for (uint32_t v = 0; v < g->spec.vcpus; v++) {
        hard |= g->vcpus[v].xen_hard_nodes;
        both |= g->vcpus[v].xen_both_nodes;
    }
    return both ? both : hard;
}

/* Adds or takes off a guest's vCPUs in Xen's count: each vCPU on the nodes
 * its hard mask touches within the guest's node affinity. */
static void guest_xen_sum(np_host_state *st, const hs_guest *g, int sign)
{
    if (!st->xen_kept)
        return;
    for (uint32_t v = 0; v < g->spec.vcpus; v++) {
        uint32_t nodes = g->vcpus[v].xen_hard_nodes & g->xen_affinity;
        for (size_t i = 0; nodes; i++, nodes >>= 1)
            if (nodes & 1)
                st->xen_vcpus[i] += sign > 0 ? 1 : (uint64_t)-1;
    }
}

/* Adds or takes off a guest's memory: populated, claimed and balloon
 * head-room per node (the head-room depends on all of its entries, so a
 * write to one entry takes the guest off, changes it, and puts it back). */
static void guest_mem_sum(np_host_state *st, const hs_guest *g, int sign)
{
    /* a guest has one entry per node it uses, so at most a topology's
     * node count: 8 KiB of stack, no allocation that could fail between
     * an addition and its removal */
    uint64_t room[NP_TOPO_MAX_NODES];
    guest_headroom(g, room);
    for (size_t i = 0; i < g->nr_mem; i++) {
        const np_hs_mem *e = &g->mem[i];
        if (sign > 0) {
            st->populated[e->node_idx] += e->populated_bytes;
            st->claimed[e->node_idx] += e->claimed_bytes;
            st->balloon[e->node_idx] += room[i];
        } else {
            st->populated[e->node_idx] -= e->populated_bytes;
            st->claimed[e->node_idx] -= e->claimed_bytes;
            st->balloon[e->node_idx] -= room[i];
        }
    }
}

/* ---- guests ------------------------------------------------------------------------ */

int np_host_state_find_guest(const np_host_state *st, const char *name, size_t *gidx_out)
{
    if (!name)
        return -EINVAL;
    size_t slot = np_text_hash(name) & (st->hash_cap - 1);
    while (st->hash[slot]) {
        const hs_guest *g = st->hash[slot];
        if (strcmp(g->spec.name, name) == 0) {
            if (gidx_out)
                *gidx_out = g->idx;
            return 0;
        }
        slot = (slot + 1) & (st->hash_cap - 1);
    }
    return -ENOENT;
}

int np_host_state_add_guest(np_host_state *st, const np_guest_spec *spec, size_t *gidx_out)
{
    hs_guest *g = NULL;
    int rc = 0;

    if (!spec || !memchr(spec->name, '\0', sizeof(spec->name)) || !spec->name[0])
        return -EINVAL;
    rc = np_guest_spec_validate(spec, NULL, NULL);
    if (rc < 0)
        return rc;
    if (np_host_state_find_guest(st, spec->name, NULL) == 0)
        return -EEXIST;
    if (st->nr_guests >= UINT32_MAX - 1)
        return -E2BIG;
    g = calloc(1, sizeof(*g));
    if (!g)
        return -ENOMEM;
    g->spec = *spec;
    g->name_hash = np_text_hash(spec->name);
    g->balloon_target_bytes = spec->mem_bytes;
    g->vcpus = calloc(spec->vcpus, sizeof(*g->vcpus));
    if (!g->vcpus) {
        rc = -ENOMEM;
        goto out;
    }
    for (uint32_t v = 0; v < spec->vcpus; v++) {
        g->vcpus[v].demand = spec->cpu_demand;
        g->vcpus[v].cpu_os_id = -1;
        g->vcpus[v].counted_anywhere = true; /* no mask yet */
        g->vcpus[v].xen_hard_nodes = st->xen_cpu_nodes;
        g->vcpus[v].xen_both_nodes = st->xen_cpu_nodes;
    }
    g->xen_affinity = xen_affinity(g);
    if (st->nr_guests == st->cap_guests) {
        size_t ncap = st->cap_guests ? st->cap_guests * 2 : 16;
        hs_guest **ng = realloc(st->guests, ncap * sizeof(*ng));
        if (!ng) {
            rc = -ENOMEM;
            goto out;
        }
        st->guests = ng;
        st->cap_guests = ncap;
    }
    g->idx = st->nr_guests;
    st->guests[st->nr_guests++] = g;
    if ((st->nr_guests + 1) * 2 > st->hash_cap) {
        rc = hash_rebuild(st, st->nr_guests + 1);
        if (rc < 0) {
            st->nr_guests--;
            goto out;
        }
    } else {
        hash_put(st, g);
    }
    for (uint32_t v = 0; v < spec->vcpus; v++) {
        vcpu_sum(st, &g->vcpus[v], 1);
        vcpu_count_sum(st, &g->vcpus[v], 1);
    }
    guest_xen_sum(st, g, 1);
    if (gidx_out)
        *gidx_out = st->nr_guests - 1;
    g = NULL;
out:
    guest_free(g);
    return rc;
}

int np_host_state_remove_guest(np_host_state *st, const char *name)
{
    size_t g;
    int rc = np_host_state_find_guest(st, name, &g);
    if (rc < 0)
        return rc;
    hs_guest *gu = st->guests[g];
    guest_mem_sum(st, gu, -1);
    for (uint32_t v = 0; v < gu->spec.vcpus; v++) {
        vcpu_sum(st, &gu->vcpus[v], -1);
        vcpu_count_sum(st, &gu->vcpus[v], -1);
    }
    guest_xen_sum(st, gu, -1);
    hash_del(st, gu);
    guest_free(gu);
    /* Keep the order (reports list guests as they came): the guests above
     * g move down one place and learn their new index. */
    memmove(&st->guests[g], &st->guests[g + 1], (st->nr_guests - g - 1) * sizeof(*st->guests));
    st->nr_guests--;
    for (size_t i = g; i < st->nr_guests; i++)
        st->guests[i]->idx = i;
    return 0;
}

size_t np_host_state_nr_guests(const np_host_state *st)
{
    return st->nr_guests;
}

const np_guest_spec *np_host_state_guest_spec(const np_host_state *st, size_t gidx)
{
    hs_guest *g = guest_at(st, gidx);
    return g ? &g->spec : NULL;
}

/* ---- guest memory ------------------------------------------------------------------- */

static np_hs_mem *mem_entry(hs_guest *g, size_t node_idx, bool create)
{
    for (size_t i = 0; i < g->nr_mem; i++)
        if (g->mem[i].node_idx == node_idx)
            return &g->mem[i];
    if (!create)
        return NULL;
    if (g->nr_mem == g->cap_mem) {
        size_t ncap = g->cap_mem ? g->cap_mem * 2 : 2;
        np_hs_mem *nm = realloc(g->mem, ncap * sizeof(*nm));
        if (!nm)
            return NULL;
        g->mem = nm;
        g->cap_mem = ncap;
    }
    np_hs_mem *e = &g->mem[g->nr_mem++];
    memset(e, 0, sizeof(*e));
    e->node_idx = (uint32_t)node_idx;
    return e;
}

int np_host_state_set_guest_mem(np_host_state *st, size_t gidx, size_t node_idx,
                                uint64_t populated_bytes, uint64_t claimed_bytes)
{
    hs_guest *g = guest_at(st, gidx);
    if (!g || node_idx >= st->nr_nodes || populated_bytes > UINT64_MAX - claimed_bytes)
        return -EINVAL;
    guest_mem_sum(st, g, -1);
    np_hs_mem *e = mem_entry(g, node_idx, true);
    if (e) {
        e->populated_bytes = populated_bytes;
        e->claimed_bytes = claimed_bytes;
    }
    guest_mem_sum(st, g, 1);
    return e ? 0 : -ENOMEM;
}

int np_host_state_set_guest_mem_max(np_host_state *st, size_t gidx, size_t node_idx,
                                    uint64_t max_bytes)
{
    hs_guest *g = guest_at(st, gidx);
    if (!g || node_idx >= st->nr_nodes)
        return -EINVAL;
    guest_mem_sum(st, g, -1);
    np_hs_mem *e = mem_entry(g, node_idx, true);
    if (e) {
        e->max_bytes = max_bytes;
        e->has_max = true;
    }
    guest_mem_sum(st, g, 1);
    return e ? 0 : -ENOMEM;
}

/* The slot of a hugetlb page size, added when `add` and not yet seen:
 * -ENOSPC beyond NP_HOST_HUGE_SIZES_MAX sizes, -ENOENT when not seen. */
static int huge_slot(np_host_state *st, uint64_t page_bytes, bool add, size_t *slot_out)
{
    for (size_t i = 0; i < st->nr_huge_sizes; i++)
        if (st->huge_page_bytes[i] == page_bytes) {
            *slot_out = i;
            return 0;
        }
    if (!add)
        return -ENOENT;
    if (st->nr_huge_sizes == NP_HOST_HUGE_SIZES_MAX)
        return -ENOSPC;
    st->huge_page_bytes[st->nr_huge_sizes] = page_bytes;
    *slot_out = st->nr_huge_sizes++;
    return 0;
}

int np_host_state_set_node_huge_free(np_host_state *st, size_t node_idx, uint64_t page_bytes,
                                     uint64_t free_bytes)
{
    size_t slot;
    if (!st || node_idx >= st->nr_nodes || !page_bytes || free_bytes == NO_MEASURE)
        return -EINVAL;
    int rc = huge_slot(st, page_bytes, true, &slot);
    if (rc)
        return rc;
    st->huge_free[node_idx * NP_HOST_HUGE_SIZES_MAX + slot] = free_bytes;
    return 0;
}

int np_host_state_node_huge_free(const np_host_state *st, size_t node_idx, uint64_t page_bytes,
                                 uint64_t *free_out)
{
    size_t slot;
    if (!st || node_idx >= st->nr_nodes || !free_out)
        return -EINVAL;
    if (huge_slot((np_host_state *)st, page_bytes, false, &slot))
        return -ENODATA;
    uint64_t f = st->huge_free[node_idx * NP_HOST_HUGE_SIZES_MAX + slot];
    if (f == NO_MEASURE)
        return -ENODATA;
    *free_out = f;
    return 0;
}

size_t np_host_state_nr_huge_sizes(const np_host_state *st)
{
    return st ? st->nr_huge_sizes : 0;
}

uint64_t np_host_state_huge_size(const np_host_state *st, size_t i)
{
    return st && i < st->nr_huge_sizes ? st->huge_page_bytes[i] : 0;
}

int np_host_state_set_guest_huge_mem(np_host_state *st, size_t gidx, size_t node_idx,
                                     uint64_t page_bytes, uint64_t bytes)
{
    hs_guest *g = guest_at(st, gidx);
    size_t slot;
    if (!g || node_idx >= st->nr_nodes || !page_bytes)
        return -EINVAL;
    np_hs_mem *e = mem_entry(g, node_idx, false);
    uint64_t other = 0;
    if (e)
        for (size_t i = 0; i < NP_HOST_HUGE_SIZES_MAX; i++)
            if (st->huge_page_bytes[i] != page_bytes || i >= st->nr_huge_sizes)
                other += e->huge_bytes[i];
    if (bytes > (e ? e->populated_bytes - other : 0))
        return -ERANGE; /* more than its populated memory there */
    int rc = huge_slot(st, page_bytes, true, &slot);
    if (rc)
        return rc;
    if (e)
        e->huge_bytes[slot] = bytes;
    return 0;
}

uint64_t np_host_state_guest_huge_mem_bytes(const np_host_state *st, size_t gidx,
                                            size_t node_idx, uint64_t page_bytes)
{
    hs_guest *g = guest_at(st, gidx);
    size_t slot;
    if (!g || huge_slot((np_host_state *)st, page_bytes, false, &slot))
        return 0;
    np_hs_mem *e = mem_entry(g, node_idx, false);
    return e ? e->huge_bytes[slot] : 0;
}

static const np_hs_mem *mem_find(const np_host_state *st, size_t gidx, size_t node_idx)
{
    hs_guest *g = guest_at(st, gidx);
    return g ? mem_entry(g, node_idx, false) : NULL;
}

uint64_t np_host_state_guest_mem_bytes(const np_host_state *st, size_t gidx, size_t node_idx)
{
    const np_hs_mem *e = mem_find(st, gidx, node_idx);
    return e ? e->populated_bytes : 0;
}

uint64_t np_host_state_guest_claimed_bytes(const np_host_state *st, size_t gidx,
                                           size_t node_idx)
{
    const np_hs_mem *e = mem_find(st, gidx, node_idx);
    return e ? e->claimed_bytes : 0;
}

uint64_t np_host_state_guest_mem_max_bytes(const np_host_state *st, size_t gidx,
                                           size_t node_idx)
{
    const np_hs_mem *e = mem_find(st, gidx, node_idx);
    return e && e->has_max ? e->max_bytes : 0;
}

int np_host_state_populate(np_host_state *st, size_t gidx)
{
    hs_guest *g = guest_at(st, gidx);
    if (!g)
        return -EINVAL;
    guest_mem_sum(st, g, -1);
    for (size_t i = 0; i < g->nr_mem; i++) {
        g->mem[i].populated_bytes += g->mem[i].claimed_bytes;
        g->mem[i].claimed_bytes = 0;
    }
    guest_mem_sum(st, g, 1);
    return 0;
}

int np_host_state_set_balloon_target(np_host_state *st, size_t gidx, uint64_t target_bytes)
{
    hs_guest *g = guest_at(st, gidx);
    if (!g || target_bytes > np_guest_spec_maxmem_bytes(&g->spec))
        return -EINVAL;
    g->balloon_target_bytes = target_bytes;
    return 0;
}

uint64_t np_host_state_balloon_target(const np_host_state *st, size_t gidx)
{
    hs_guest *g = guest_at(st, gidx);
    return g ? g->balloon_target_bytes : 0;
}

size_t np_hs_guest_nr_mem(const np_host_state *st, size_t gidx)
{
    hs_guest *g = guest_at(st, gidx);
    return g ? g->nr_mem : 0;
}

const np_hs_mem *np_hs_guest_mem(const np_host_state *st, size_t gidx, size_t i)
{
    hs_guest *g = guest_at(st, gidx);
    return g && i < g->nr_mem ? &g->mem[i] : NULL;
}

/* Balloon head-room of a guest on each of its entries, written to
 * headroom_out[i]. With recorded maxima it is max - populated - claimed per
 * node. Without, the guest-wide head-room maxmem - (populated + claimed) is
 * split in proportion to what it holds per node; the rounding remainder
 * goes to its largest entry (first of equals) so the parts sum exactly. */
static void guest_headroom(const hs_guest *g, uint64_t *headroom_out)
{
    bool any_max = false;
    uint64_t held = 0;
    for (size_t i = 0; i < g->nr_mem; i++) {
        any_max |= g->mem[i].has_max;
        held += g->mem[i].populated_bytes + g->mem[i].claimed_bytes;
    }
    if (any_max) {
        for (size_t i = 0; i < g->nr_mem; i++) {
            const np_hs_mem *e = &g->mem[i];
            headroom_out[i] =
                e->has_max ? sat_sub(e->max_bytes, e->populated_bytes + e->claimed_bytes) : 0;
        }
        return;
    }
    uint64_t room = sat_sub(np_guest_spec_maxmem_bytes(&g->spec), held);
    uint64_t given = 0;
    size_t largest = 0;
    for (size_t i = 0; i < g->nr_mem; i++) {
        uint64_t here = g->mem[i].populated_bytes + g->mem[i].claimed_bytes;
        headroom_out[i] = held ? (uint64_t)((double)room * ((double)here / (double)held)) : 0;
        if (headroom_out[i] > room - given)
            headroom_out[i] = room - given;
        given += headroom_out[i];
        if (here > g->mem[largest].populated_bytes + g->mem[largest].claimed_bytes)
            largest = i;
    }
    if (held && g->nr_mem)
        headroom_out[largest] += room - given;
}

uint64_t np_hs_guest_mem_held_bytes(const np_host_state *st, size_t gidx, size_t i)
{
    hs_guest *g = guest_at(st, gidx);
    if (!g || i >= g->nr_mem)
        return 0;
    uint64_t small[8];
    uint64_t *room = g->nr_mem <= 8 ? small : malloc(g->nr_mem * sizeof(*room));
    if (!room)
        return g->mem[i].populated_bytes + g->mem[i].claimed_bytes;
    guest_headroom(g, room);
    uint64_t held = g->mem[i].populated_bytes + g->mem[i].claimed_bytes + room[i];
    if (room != small)
        free(room);
    return held;
}

/* ---- vCPUs ------------------------------------------------------------------------ */

/* Works out and caches where a vCPU's demand goes (see hoststate.h). */
static int vcpu_attribute(const np_host_state *st, hs_vcpu *v)
{
    const np_topology *t = st->topo;
    np_bitmap *eff = NULL;
    uint32_t *count = NULL;
    hs_share *shares = NULL;
    uint32_t nr = 0;
    int rc = 0;

    if (v->soft && !np_bitmap_is_empty(v->soft) &&
        (!v->hard || np_bitmap_intersects(v->soft, v->hard))) {
        rc = np_bitmap_copy(v->soft, &eff);
        if (rc < 0)
            goto out;
        if (v->hard)
            np_bitmap_and(eff, v->hard);
    } else if (v->hard) {
        rc = np_bitmap_copy(v->hard, &eff);
        if (rc < 0)
            goto out;
    }

    if (eff) {
        count = calloc(st->nr_nodes, sizeof(*count));
        if (!count) {
            rc = -ENOMEM;
            goto out;
        }
        uint32_t total = 0;
        for (int c = np_bitmap_next(eff, 0); c >= 0; c = np_bitmap_next(eff, (unsigned)c + 1)) {
            size_t cidx;
            if (np_topology_cpu_idx(t, (uint32_t)c, &cidx) < 0)
                continue; /* a CPU the host does not have */
            count[np_topology_cpu(t, cidx)->node_idx]++;
            total++;
        }
        /* A mask of every CPU (or of none the host has) restricts nothing. */
        if (total > 0 && total < np_topology_nr_cpus(t)) {
            for (size_t i = 0; i < st->nr_nodes; i++)
                nr += count[i] ? 1 : 0;
            shares = malloc(nr * sizeof(*shares));
            if (!shares) {
                rc = -ENOMEM;
                goto out;
            }
            nr = 0;
            for (size_t i = 0; i < st->nr_nodes; i++)
                if (count[i])
                    shares[nr++] = (hs_share){(uint32_t)i, (double)count[i] / (double)total};
        }
    }
    if (!shares && v->cpu_os_id >= 0) {
        size_t cidx;
        if (np_topology_cpu_idx(t, (uint32_t)v->cpu_os_id, &cidx) == 0) {
            shares = malloc(sizeof(*shares));
            if (!shares) {
                rc = -ENOMEM;
                goto out;
            }
            shares[0] = (hs_share){np_topology_cpu(t, cidx)->node_idx, 1.0};
            nr = 1;
        }
    }
    free(v->shares);
    v->shares = shares;
    v->nr_shares = nr;
    shares = NULL;
out:
    free(shares);
    free(count);
    np_bitmap_destroy(eff);
    return rc;
}

/* Where the standard metrics count a vCPU with these masks (the rule of
 * np_hs_vcpu_counts): the nodes of the mask's CPUs, each in proportion to
 * the CPUs it has there. *anywhere_out when it has no mask. */
static int vcpu_counts(const np_host_state *st, const np_bitmap *hard, const np_bitmap *soft,
                       hs_count **out, uint32_t *nr_out, bool *anywhere_out)
{
    const np_topology *t = st->topo;
    const np_bitmap *mask = NULL;
    np_bitmap *both = NULL;
    uint32_t *count = NULL;
    hs_count *counts = NULL;
    uint32_t nr = 0, total = 0;
    size_t idx;
    int rc = 0;

    *out = NULL;
    *nr_out = 0;
    *anywhere_out = false;
    if (soft && hard && np_bitmap_intersects(soft, hard)) {
        rc = np_bitmap_copy(soft, &both);
        if (rc < 0)
            return rc;
        np_bitmap_and(both, hard);
        mask = both;
    } else if (soft && !hard) {
        mask = soft;
    } else if (hard) {
        mask = hard;
    } else {
        *anywhere_out = true;
        return 0;
    }
    /* a mask of exactly one node's CPUs (what placement sets): one look-up */
    int first = np_bitmap_next(mask, 0);
    if (first >= 0 && np_topology_cpu_idx(t, (uint32_t)first, &idx) == 0) {
        uint32_t node = np_topology_cpu(t, idx)->node_idx;
        if (np_bitmap_equal(mask, np_topology_node_cpuset(t, node))) {
            counts = malloc(sizeof(*counts));
            if (!counts) {
                rc = -ENOMEM;
                goto out;
            }
            counts[0] = (hs_count){node, count_fx(1, 1)};
            nr = 1;
            goto done;
        }
    }
    count = calloc(st->nr_nodes, sizeof(*count));
    if (!count) {
        rc = -ENOMEM;
        goto out;
    }
    for (int c = first; c >= 0; c = np_bitmap_next(mask, (unsigned)c + 1)) {
        if (np_topology_cpu_idx(t, (uint32_t)c, &idx) < 0)
            continue;
        count[np_topology_cpu(t, idx)->node_idx]++;
        total++;
    }
    for (size_t i = 0; i < st->nr_nodes; i++)
        nr += count[i] ? 1 : 0;
    if (nr) {
        counts = malloc(nr * sizeof(*counts));
        if (!counts) {
            rc = -ENOMEM;
            goto out;
        }
    }
    nr = 0;
    for (size_t i = 0; i < st->nr_nodes; i++)
        if (count[i])
            counts[nr++] = (hs_count){(uint32_t)i, count_fx(count[i], total)};
done:
    *out = counts;
    *nr_out = nr;
    counts = NULL;
out:
    free(counts);
    free(count);
    np_bitmap_destroy(both);
    return rc;
}

/* Nodes with CPUs (bit per node) that a CPU mask touches; NULL: all. */
static uint32_t xen_mask_nodes(const np_host_state *st, const np_bitmap *mask)
{
    uint32_t nodes = 0;
    for (size_t i = 0; i < st->nr_nodes; i++)
        if ((st->xen_cpu_nodes >> i & 1) &&
            (!mask || np_bitmap_intersects(mask, np_topology_node_cpuset(st->topo, i))))
            nodes |= UINT32_C(1) << i;
    return nodes;
}

/* A vCPU's nodes in Xen's count: its hard mask's, and those of the CPUs
 * in both masks (a missing soft mask is Xen's default, all CPUs). */
static int xen_vcpu_nodes(const np_host_state *st, const np_bitmap *hard, const np_bitmap *soft,
                          uint32_t *hard_out, uint32_t *both_out)
{
    *hard_out = *both_out = 0;
    if (!st->xen_kept)
        return 0;
    uint32_t hn = xen_mask_nodes(st, hard);
    *hard_out = hn;
    if (!soft || !hard) {
        *both_out = hn & xen_mask_nodes(st, soft);
        return 0;
    }
    np_bitmap *both = NULL;
    int rc = np_bitmap_copy(hard, &both);
    if (rc < 0)
        return rc;
    np_bitmap_and(both, soft);
    *both_out = xen_mask_nodes(st, both);
    np_bitmap_destroy(both);
    return 0;
}

int np_host_state_set_vcpu_affinity(np_host_state *st, size_t gidx, uint32_t vcpu,
                                    const np_bitmap *hard, const np_bitmap *soft)
{
    hs_vcpu *v = vcpu_at(st, gidx, vcpu);
    np_bitmap *h = NULL, *s = NULL;
    hs_count *counts = NULL;
    uint32_t nr_counts = 0, xen_hard = 0, xen_both = 0;
    bool anywhere = false;
    int rc;

    if (!v)
        return -EINVAL;
    if ((rc = bitmap_dup(hard, &h)) < 0 || (rc = bitmap_dup(soft, &s)) < 0 ||
        (rc = vcpu_counts(st, h, s, &counts, &nr_counts, &anywhere)) < 0 ||
        (rc = xen_vcpu_nodes(st, h, s, &xen_hard, &xen_both)) < 0)
        goto out;
    /* Swap in the new masks, keeping the old ones to restore on failure. */
    np_bitmap *old_h = v->hard, *old_s = v->soft;
    vcpu_sum(st, v, -1);
    v->hard = h;
    v->soft = s;
    rc = vcpu_attribute(st, v);
    if (rc < 0) {
        v->hard = old_h;
        v->soft = old_s;
        vcpu_sum(st, v, 1); /* the old attribution is still cached */
        goto out;
    }
    vcpu_sum(st, v, 1);
    h = old_h;
    s = old_s;
    /* the counts follow the masks */
    vcpu_count_sum(st, v, -1);
    hs_count *old_counts = v->counts;
    v->counts = counts;
    v->nr_counts = nr_counts;
    v->counted_anywhere = anywhere;
    vcpu_count_sum(st, v, 1);
    counts = old_counts;
    /* Xen's count: the guest's node affinity may change with any vCPU */
    hs_guest *g = guest_at(st, gidx);
    guest_xen_sum(st, g, -1);
    v->xen_hard_nodes = xen_hard;
    v->xen_both_nodes = xen_both;
    g->xen_affinity = xen_affinity(g);
    guest_xen_sum(st, g, 1);
out:
    np_bitmap_destroy(h);
    np_bitmap_destroy(s);
    free(counts);
    return rc;
}

int np_host_state_set_vcpu_demand(np_host_state *st, size_t gidx, uint32_t vcpu, double demand)
{
    hs_vcpu *v = vcpu_at(st, gidx, vcpu);
    if (!v || !(demand >= 0.0 && demand <= 1.0))
        return -EINVAL;
    vcpu_sum(st, v, -1);
    v->demand = demand;
    vcpu_sum(st, v, 1);
    return 0;
}

int np_host_state_set_vcpu_cpu(np_host_state *st, size_t gidx, uint32_t vcpu, int32_t cpu_os_id)
{
    hs_vcpu *v = vcpu_at(st, gidx, vcpu);
    if (!v || cpu_os_id < -1)
        return -EINVAL;
    int32_t old = v->cpu_os_id;
    vcpu_sum(st, v, -1);
    v->cpu_os_id = cpu_os_id;
    int rc = vcpu_attribute(st, v);
    if (rc < 0)
        v->cpu_os_id = old; /* the old attribution is still cached */
    vcpu_sum(st, v, 1);
    return rc;
}

const np_bitmap *np_host_state_vcpu_hard(const np_host_state *st, size_t gidx, uint32_t vcpu)
{
    hs_vcpu *v = vcpu_at(st, gidx, vcpu);
    return v ? v->hard : NULL;
}

const np_bitmap *np_host_state_vcpu_soft(const np_host_state *st, size_t gidx, uint32_t vcpu)
{
    hs_vcpu *v = vcpu_at(st, gidx, vcpu);
    return v ? v->soft : NULL;
}

double np_host_state_vcpu_demand(const np_host_state *st, size_t gidx, uint32_t vcpu)
{
    hs_vcpu *v = vcpu_at(st, gidx, vcpu);
    return v ? v->demand : 0.0;
}

int32_t np_host_state_vcpu_cpu(const np_host_state *st, size_t gidx, uint32_t vcpu)
{
    hs_vcpu *v = vcpu_at(st, gidx, vcpu);
    return v ? v->cpu_os_id : -1;
}

/* ---- the load measure ----------------------------------------------------------------- */

int np_host_state_node_loads(const np_host_state *st, np_node_load *loads_out)
{
    size_t n = st->nr_nodes;
    double anywhere = (double)st->anywhere_fx / DEMAND_FX;

    memset(loads_out, 0, n * sizeof(*loads_out));
    for (size_t i = 0; i < n; i++) {
        np_node_load *l = &loads_out[i];
        const np_node_info *ni = np_topology_node(st->topo, i);
        l->cpu_capacity = st->capacity[i];
        l->cpu_demand = (double)st->demand_fx[i] / DEMAND_FX;
        if (st->total_capacity > 0.0)
            l->cpu_demand += anywhere * st->capacity[i] / st->total_capacity;
        l->mem_populated_bytes = st->populated[i];
        l->mem_claimed_bytes = st->claimed[i];
        l->mem_balloon_bytes = st->balloon[i];
        l->mem_total_bytes = ni->mem_total_bytes;
        l->mem_reserved_bytes = st->reserved_bytes[i];
        /* Memory truth: never above size, never above what was measured
         * free. With a live measurement (taken with the guests in place)
         * populated memory is already out of it; with the free figure from
         * before the guests (the topology's), every guest of the state
         * comes off it. Claims, balloon head-room and reservations (other
         * creations in flight) are in neither, so they come off both. */
        uint64_t base = st->free_bytes[i] != NO_MEASURE
                            ? st->free_bytes[i]
                            : sat_sub(st->free_start_bytes[i], l->mem_populated_bytes);
        uint64_t cap = sat_sub(ni->mem_total_bytes, l->mem_populated_bytes);
        if (base > cap)
            base = cap;
        uint64_t avail = sat_sub(sat_sub(base, st->reserved_bytes[i]),
                                 l->mem_claimed_bytes + l->mem_balloon_bytes);
        l->mem_available_bytes = avail;
    }
    return 0;
}

int np_hs_xen_vcpus(const np_host_state *st, uint64_t *vcpus_out)
{
    if (!st->xen_kept)
        return -E2BIG;
    memcpy(vcpus_out, st->xen_vcpus, st->nr_nodes * sizeof(*vcpus_out));
    return 0;
}

void np_hs_vcpu_counts(const np_host_state *st, double *vcpus_out)
{
    for (size_t i = 0; i < st->nr_nodes; i++) {
        int64_t fx = st->count_fx[i] + (int64_t)st->nr_anywhere * st->anywhere_share_fx[i];
        vcpus_out[i] = (double)fx / COUNT_FX;
    }
}

int np_host_state_node_load(const np_host_state *st, size_t node_idx, np_node_load *out)
{
    if (node_idx >= st->nr_nodes || !out)
        return -EINVAL;
    np_node_load *all = malloc(st->nr_nodes * sizeof(*all));
    if (!all)
        return -ENOMEM;
    int rc = np_host_state_node_loads(st, all);
    if (rc == 0)
        *out = all[node_idx];
    free(all);
    return rc;
}
