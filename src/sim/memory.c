/*
 * sim/memory.c - pages per (guest, node) and the operations that move
 * them (see memory.h).
 *
 * Allocation mirrors what hypervisors do rather than what would be best:
 * an allocation that does not fit on the nodes it asked for silently
 * spills to the nearest nodes with room (Xen's get_free_buddy() falls
 * back to every online node unless told to be exact), and a balloon driver
 * gives pages back wherever they happen to be. Page sharing is recomputed
 * from scratch at every scan: the copies a class of guests keeps are
 * derived from where the guests' pages are now, so nothing drifts.
 */
#include "sim/memory.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/bits.h"
#include "sim/calib.h"

void sim_mem_init(np_sim *sim)
{
    for (size_t n = 0; n < sim->nr_nodes; n++) {
        const np_node_info *info = np_topology_node(sim->topo, n);
        sim->nodes[n].total_pages = info->mem_total_bytes / sim->cfg.page_bytes;
    }
}

uint64_t sim_node_free_pages(const np_sim *sim, uint32_t node)
{
    const sim_node *n = &sim->nodes[node];
    int64_t avail = (int64_t)n->total_pages + n->saved_pages -
                    (int64_t)(n->guest_pages + n->internal_pages);
    return avail > 0 ? (uint64_t)avail : 0;
}

/* ---- the (guest, node) counters ------------------------------------------- */

static void mem_nodes_insert(sim_guest *g, uint32_t node)
{
    uint32_t i = g->nr_mem_nodes;
    while (i > 0 && g->mem_nodes[i - 1] > node) {
        g->mem_nodes[i] = g->mem_nodes[i - 1];
        i--;
    }
    g->mem_nodes[i] = node;
    g->nr_mem_nodes++;
}

static void mem_nodes_remove(sim_guest *g, uint32_t node)
{
    uint32_t i = 0;
    while (i < g->nr_mem_nodes && g->mem_nodes[i] != node)
        i++;
    if (i == g->nr_mem_nodes)
        return;
    memmove(&g->mem_nodes[i], &g->mem_nodes[i + 1],
            (g->nr_mem_nodes - i - 1) * sizeof(g->mem_nodes[0]));
    g->nr_mem_nodes--;
}

static void guest_add(np_sim *sim, sim_guest *g, uint32_t node, uint64_t pages)
{
    if (!pages)
        return;
    if (!g->node_pages[node])
        mem_nodes_insert(g, node);
    g->node_pages[node] += pages;
    g->total_pages += pages;
    sim->nodes[node].guest_pages += pages;
    sim->mem_gen++;
}

static void guest_sub(np_sim *sim, sim_guest *g, uint32_t node, uint64_t pages)
{
    if (pages > g->node_pages[node])
        pages = g->node_pages[node];
    if (!pages)
        return;
    g->node_pages[node] -= pages;
    g->total_pages -= pages;
    sim->nodes[node].guest_pages -= pages;
    if (!g->node_pages[node])
        mem_nodes_remove(g, node);
    sim->mem_gen++;
}

/* The node with most of the guest's pages (lowest index on ties), and
 * the single memory node its vCPUs keep for their fast speed path. */
static void update_home(np_sim *sim, sim_guest *g)
{
    uint32_t only = g->nr_mem_nodes == 1 ? g->mem_nodes[0] : SIM_NONE;
    for (uint32_t i = 0; i < g->nr_vcpus; i++)
        sim->vcpus[g->first_vcpu + i].mem_node1 = only;
    uint32_t best = SIM_NONE;
    uint64_t most = 0;
    for (uint32_t i = 0; i < g->nr_mem_nodes; i++) {
        uint32_t k = g->mem_nodes[i];
        if (g->node_pages[k] > most) {
            most = g->node_pages[k];
            best = k;
        }
    }
    g->home_node = best;
}

/* ---- allocation --------------------------------------------------------------- */

static uint64_t alloc_near_raw(np_sim *sim, sim_guest *g, uint32_t node, uint64_t pages)
{
    const uint32_t *row = &sim->near[(size_t)node * sim->nr_nodes];
    uint64_t got = 0;
    for (size_t i = 0; i < sim->nr_nodes && got < pages; i++) {
        uint32_t k = row[i];
        uint64_t free_pages = sim_node_free_pages(sim, k);
        uint64_t take = pages - got < free_pages ? pages - got : free_pages;
        guest_add(sim, g, k, take);
        got += take;
    }
    return got;
}

uint64_t sim_mem_alloc_near(np_sim *sim, sim_guest *g, uint32_t node, uint64_t pages)
{
    uint64_t got = alloc_near_raw(sim, g, node, pages);
    update_home(sim, g);
    return got;
}

uint64_t sim_mem_alloc_striped(np_sim *sim, sim_guest *g, const uint64_t *node_bits,
                               uint64_t pages)
{
    uint64_t left = pages;
    uint32_t first = SIM_NONE;

    /* Rounds of equal shares over the stripe nodes that still have room:
     * each round either places everything or fills at least one node, so
     * there are at most nr_nodes rounds. */
    for (;;) {
        uint32_t cand = 0;
        for (uint32_t k = 0; k < sim->nr_nodes; k++) {
            if (node_bits && !np_bits_test(node_bits, k))
                continue;
            if (!sim->nodes[k].total_pages)
                continue;
            if (first == SIM_NONE)
                first = k;
            if (sim_node_free_pages(sim, k))
                cand++;
        }
        if (!left || !cand)
            break;
        uint64_t share = left / cand ? left / cand : 1;
        for (uint32_t k = 0; k < sim->nr_nodes && left; k++) {
            if ((node_bits && !np_bits_test(node_bits, k)) || !sim->nodes[k].total_pages)
                continue;
            uint64_t free_pages = sim_node_free_pages(sim, k);
            uint64_t take = share < free_pages ? share : free_pages;
            if (take > left)
                take = left;
            guest_add(sim, g, k, take);
            left -= take;
        }
    }
    if (left)
        left -= alloc_near_raw(sim, g, first != SIM_NONE ? first : 0, left);
    update_home(sim, g);
    return pages - left;
}

void sim_mem_release(np_sim *sim, sim_guest *g, uint64_t pages)
{
    uint64_t total = g->total_pages;
    uint64_t left;

    if (!total || !pages)
        return;
    if (pages >= total) {
        sim_mem_free_guest(sim, g);
        return;
    }
    /* Proportional shares first (a copy of the node list: shares never
     * empty a node, since share < pages there, but be safe)... */
    uint32_t nr = g->nr_mem_nodes;
    uint32_t *nodes = malloc(nr * sizeof(*nodes));
    if (!nodes)
        return;
    memcpy(nodes, g->mem_nodes, nr * sizeof(*nodes));
    left = pages;
    for (uint32_t i = 0; i < nr; i++) {
        uint32_t k = nodes[i];
        uint64_t share = (uint64_t)((unsigned __int128)g->node_pages[k] * pages / total);
        guest_sub(sim, g, k, share);
        left -= share;
    }
    /* ...then the rounding remainder from the fullest nodes. */
    while (left) {
        uint32_t best = SIM_NONE;
        for (uint32_t i = 0; i < g->nr_mem_nodes; i++) {
            uint32_t k = g->mem_nodes[i];
            if (best == SIM_NONE || g->node_pages[k] > g->node_pages[best])
                best = k;
        }
        if (best == SIM_NONE)
            break;
        uint64_t take = left < g->node_pages[best] ? left : g->node_pages[best];
        guest_sub(sim, g, best, take);
        left -= take;
    }
    free(nodes);
    update_home(sim, g);
}

void sim_mem_free_guest(np_sim *sim, sim_guest *g)
{
    while (g->nr_mem_nodes) {
        uint32_t k = g->mem_nodes[g->nr_mem_nodes - 1];
        guest_sub(sim, g, k, g->node_pages[k]);
    }
    g->pending_pages = 0;
    g->boot_pages = 0;
    update_home(sim, g);
}

uint32_t sim_mem_alloc_internal(np_sim *sim, uint32_t node)
{
    uint64_t pages = (sim->cfg.vcpu_internal_bytes + sim->cfg.page_bytes - 1) / sim->cfg.page_bytes;
    const uint32_t *row = &sim->near[(size_t)node * sim->nr_nodes];
    for (size_t i = 0; i < sim->nr_nodes; i++) {
        if (sim_node_free_pages(sim, row[i]) >= pages) {
            sim->nodes[row[i]].internal_pages += pages;
            return row[i];
        }
    }
    /* A full host still runs the vCPU: the state is accounted where asked. */
    sim->nodes[node].internal_pages += pages;
    return node;
}

void sim_mem_first_touch(np_sim *sim, sim_vcpu *v, uint32_t node)
{
    sim_guest *g = &sim->guests[v->guest];
    uint64_t ws, want, got;

    if (v->flags & SIM_VF_TOUCHED)
        return;
    v->flags |= SIM_VF_TOUCHED;
    if (g->mem_mode != NP_SIM_MEM_FIRST_TOUCH || !g->pending_pages)
        return;
    /* Each vCPU touches its working set where it first runs; vCPU 0 also
     * touches what the guest's boot touches (the rest of its memory). */
    ws = v->load.working_set_bytes / sim->cfg.page_bytes;
    want = g->pending_pages - g->boot_pages;
    if (ws < want)
        want = ws;
    if (v->idx == 0) {
        want += g->boot_pages;
        g->boot_pages = 0;
    }
    got = sim_mem_alloc_near(sim, g, node, want);
    g->pending_pages -= want;
    (void)got; /* pages the full host could not give are simply not there */
}

void sim_mem_balloon(np_sim *sim, sim_guest *g, uint64_t target_bytes)
{
    uint64_t target = target_bytes / sim->cfg.page_bytes;
    uint64_t current = g->total_pages + g->pending_pages;

    if (target > g->max_pages)
        target = g->max_pages;
    if (target < current) {
        uint64_t delta = current - target;
        uint64_t from_pending = delta < g->pending_pages ? delta : g->pending_pages;
        g->pending_pages -= from_pending;
        if (g->boot_pages > g->pending_pages)
            g->boot_pages = g->pending_pages;
        sim_mem_release(sim, g, delta - from_pending);
    } else if (target > current) {
        uint64_t delta = target - current;
        if (g->mem_mode == NP_SIM_MEM_FIRST_TOUCH)
            sim_mem_alloc_near(sim, g, g->home_node != SIM_NONE ? g->home_node : 0, delta);
        else
            sim_mem_alloc_striped(sim, g, g->node_aff, delta);
    }
}

int sim_mem_migrate(np_sim *sim, uint32_t gidx, uint32_t from, uint32_t to, uint64_t bytes,
                    uint64_t *moved_out)
{
    sim_guest *g = &sim->guests[gidx];
    uint64_t pb = sim->cfg.page_bytes;
    uint64_t pages;
    double elapsed_ns = (double)(sim->now_ns - sim->mig_last_ns);

    *moved_out = 0;
    if (from >= sim->nr_nodes || to >= sim->nr_nodes || from == to)
        return -EINVAL;

    /* Token bucket: the host-wide migration rate limit. */
    sim->mig_tokens_bytes += elapsed_ns * (double)sim->cfg.migrate_limit_bps / 1e9;
    if (sim->mig_tokens_bytes > (double)sim->cfg.migrate_burst_bytes)
        sim->mig_tokens_bytes = (double)sim->cfg.migrate_burst_bytes;
    sim->mig_last_ns = sim->now_ns;

    pages = bytes / pb;
    if (pages > g->node_pages[from])
        pages = g->node_pages[from];
    uint64_t room = sim_node_free_pages(sim, to);
    if (pages > room)
        pages = room;
    uint64_t budget = (uint64_t)(sim->mig_tokens_bytes / (double)pb);
    if (pages > budget)
        pages = budget;
    if (!pages)
        return 0;

    guest_sub(sim, g, from, pages);
    guest_add(sim, g, to, pages);
    update_home(sim, g);
    uint64_t moved = pages * pb;
    sim->mig_tokens_bytes -= (double)moved;
    g->pages_migrated += pages;
    sim->tot.pages_migrated += pages;

    /* The copy reads on `from` (served to another node) and writes on `to`. */
    sim->nodes[from].epoch_bytes += (double)moved;
    sim->nodes[from].epoch_remote_bytes += (double)moved;
    sim->nodes[to].epoch_bytes += (double)moved;

    /* While pages are in flight they are unmapped: a vCPU stalls for the
     * copy time in proportion to the chance that its working set touches
     * them. */
    double copy_ns = (double)moved * 1e9 / (double)sim->cfg.migrate_copy_bps;
    double guest_bytes = (double)(g->total_pages ? g->total_pages : 1) * (double)pb;
    for (uint32_t i = 0; i < g->nr_vcpus; i++) {
        sim_vcpu *v = &sim->vcpus[g->first_vcpu + i];
        double touch = (double)v->load.working_set_bytes / guest_bytes;
        if (touch > 1.0)
            touch = 1.0;
        v->stall_ns += (uint64_t)(copy_ns * touch);
    }
    *moved_out = moved;
    return 0;
}

/* ---- page sharing ---------------------------------------------------------------- */

typedef struct share_key {
    uint32_t share_class;
    uint32_t gidx;
} share_key;

static int share_key_cmp(const void *pa, const void *pb)
{
    const share_key *a = pa, *b = pb;
    if (a->share_class != b->share_class)
        return a->share_class < b->share_class ? -1 : 1;
    if (a->gidx != b->gidx)
        return a->gidx < b->gidx ? -1 : 1;
    return 0;
}

static uint64_t shareable_pages(const sim_guest *g, uint32_t k)
{
    return (uint64_t)((double)g->node_pages[k] * g->shareable);
}

void sim_mem_share_scan(np_sim *sim)
{
    size_t n = sim->nr_nodes;
    share_key *keys = NULL;
    uint64_t *sum = NULL, *max = NULL;
    size_t nr = 0;

    for (size_t k = 0; k < n; k++)
        sim->nodes[k].saved_pages = 0;
    sim->shared_saved_pages = 0;
    for (size_t i = 0; i < sim->nr_guests; i++)
        sim->guests[i].share_node = -1;
    if (sim->cfg.share_mode == NP_SIM_SHARE_OFF)
        goto out;

    keys = malloc((sim->nr_guests ? sim->nr_guests : 1) * sizeof(*keys));
    sum = calloc(n, sizeof(*sum));
    max = calloc(n, sizeof(*max));
    if (!keys || !sum || !max)
        goto out; /* no memory: this scan shares nothing, the next retries */
    for (size_t i = 0; i < sim->nr_guests; i++) {
        const sim_guest *g = &sim->guests[i];
        if (g->status == NP_SIM_GUEST_RUNNING && g->share_class && g->shareable > 0)
            keys[nr++] = (share_key){g->share_class, (uint32_t)i};
    }
    qsort(keys, nr, sizeof(*keys), share_key_cmp);

    for (size_t lo = 0; lo < nr;) {
        size_t hi = lo + 1;
        while (hi < nr && keys[hi].share_class == keys[lo].share_class)
            hi++;
        if (hi - lo < 2) { /* nobody to share with */
            lo = hi;
            continue;
        }
        memset(sum, 0, n * sizeof(*sum));
        memset(max, 0, n * sizeof(*max));
        uint64_t biggest = 0;
        for (size_t i = lo; i < hi; i++) {
            const sim_guest *g = &sim->guests[keys[i].gidx];
            uint64_t s_g = 0;
            for (uint32_t j = 0; j < g->nr_mem_nodes; j++) {
                uint32_t k = g->mem_nodes[j];
                uint64_t s = shareable_pages(g, k);
                sum[k] += s;
                if (s > max[k])
                    max[k] = s;
                s_g += s;
            }
            if (s_g > biggest)
                biggest = s_g;
        }
        if (sim->cfg.share_mode == NP_SIM_SHARE_NODE_LOCAL) {
            /* Each node keeps one copy: as many pages as its largest holder. */
            for (size_t k = 0; k < n; k++)
                sim->nodes[k].saved_pages += (int64_t)(sum[k] - max[k]);
        } else {
            /* One copy host-wide, on the node holding most of the class. */
            uint32_t canon = 0;
            for (size_t k = 1; k < n; k++)
                if (sum[k] > sum[canon])
                    canon = (uint32_t)k;
            for (size_t k = 0; k < n; k++)
                sim->nodes[k].saved_pages += (int64_t)sum[k];
            sim->nodes[canon].saved_pages -= (int64_t)biggest;
            for (size_t i = lo; i < hi; i++)
                sim->guests[keys[i].gidx].share_node = (int32_t)canon;
        }
        lo = hi;
    }
    for (size_t k = 0; k < n; k++)
        sim->shared_saved_pages += sim->nodes[k].saved_pages;
out:
    /* Redirected accesses change where guests' accesses go. */
    sim->mem_gen++;
    free(keys);
    free(sum);
    free(max);
}

/* ---- bandwidth contention ------------------------------------------------------------ */

/* Latency multipliers are refreshed when they move by more than 1%: finer
 * changes are below what the model can claim to know. */
#define SIM_CONTENTION_REFRESH 0.01

void sim_mem_epoch(np_sim *sim, uint64_t epoch_len_ns)
{
    double len = (double)(epoch_len_ns ? epoch_len_ns : 1);
    bool changed = false;

    /* A guest's bytes go to its pages' nodes; the part drawn from remote
     * CPUs also crosses the serving node's links. Spreading the remote
     * part like the pages is exact when the guest runs on one node. */
    for (size_t i = 0; i < sim->nr_guests; i++) {
        sim_guest *g = &sim->guests[i];
        double bytes = 0, remote = 0;
        for (uint32_t j = 0; j < g->nr_vcpus; j++) {
            sim_vcpu *v = &sim->vcpus[g->first_vcpu + j];
            bytes += v->epoch_bytes;
            remote += v->epoch_remote_bytes;
            v->epoch_bytes = v->epoch_remote_bytes = 0;
        }
        if (!(bytes > 0) || !g->total_pages)
            continue;
        for (uint32_t j = 0; j < g->nr_mem_nodes; j++) {
            uint32_t k = g->mem_nodes[j];
            double f = (double)g->node_pages[k] / (double)g->total_pages;
            sim->nodes[k].epoch_bytes += bytes * f;
            sim->nodes[k].epoch_remote_bytes += remote * f;
        }
    }
    for (size_t k = 0; k < sim->nr_nodes; k++) {
        sim_node *n = &sim->nodes[k];
        double u = n->bw_bytes_per_ns > 0 ? n->epoch_bytes / (n->bw_bytes_per_ns * len) : 0;
        double ul = n->link_bytes_per_ns > 0 ? n->epoch_remote_bytes / (n->link_bytes_per_ns * len) : 0;
        double cl = sim_contention(u), cr = sim_contention(u > ul ? u : ul);
        /* Keep factors that moved less than the refresh threshold: every
         * change makes every vCPU recompute its speed. */
        if (fabs(cl - n->cont_local) > SIM_CONTENTION_REFRESH * n->cont_local ||
            fabs(cr - n->cont_remote) > SIM_CONTENTION_REFRESH * n->cont_remote) {
            n->cont_local = cl;
            n->cont_remote = cr;
            changed = true;
        }
        n->bw_util_ns += u * len;
        n->epoch_bytes = 0;
        n->epoch_remote_bytes = 0;
    }
    if (changed)
        sim->epoch++;
}
