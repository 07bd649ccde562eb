/*
 * sim/workload.c - progress of vCPUs (see workload.h) and their demand
 * patterns: steady vCPUs always have work; bursty and idle ones alternate
 * bursts of work, exponentially distributed around the configured mean,
 * and think times chosen so that a vCPU running at full speed is busy
 * `duty` of the time (closed loop: a slower vCPU does fewer bursts).
 */
#include "sim/workload.h"

#include <math.h>

double sim_guest_access_frac(const np_sim *sim, const sim_guest *g, uint32_t k)
{
    if (!g->total_pages)
        return 0.0;
    double f = (double)g->node_pages[k] / (double)g->total_pages;
    if (sim->cfg.share_mode == NP_SIM_SHARE_CROSS_NODE && g->share_node >= 0 &&
        g->shareable > 0) {
        /* Its shareable pages are read from the class's single copy. */
        if ((int32_t)k == g->share_node)
            f += g->shareable * (1.0 - f);
        else
            f *= 1.0 - g->shareable;
    }
    return f;
}

/* The memory, communication and IO factors of a guest on `node`, and the
 * share of its accesses that leave the node. */
static void guest_factors(np_sim *sim, const sim_guest *g, uint32_t node, double *mem_out,
                          double *comm_out, double *io_out, double *remote_out)
{
    double mem = 0.0, local = 0.0;
    const sim_node *nodes = sim->nodes;
    bool cross = sim->cfg.share_mode == NP_SIM_SHARE_CROSS_NODE && g->share_node >= 0;

    for (uint32_t i = 0; i < g->nr_mem_nodes; i++) {
        uint32_t k = g->mem_nodes[i];
        double f = sim_guest_access_frac(sim, g, k);
        double cont = k == node ? nodes[k].cont_local : nodes[k].cont_remote;
        mem += f * sim_lat(sim, node, k) * cont;
        if (k == node)
            local = f;
    }
    if (cross && !g->node_pages[g->share_node]) {
        /* The shared copy lives on a node where the guest has no pages. */
        uint32_t k = (uint32_t)g->share_node;
        double f = sim_guest_access_frac(sim, g, k);
        double cont = k == node ? nodes[k].cont_local : nodes[k].cont_remote;
        mem += f * sim_lat(sim, node, k) * cont;
        if (k == node)
            local = f;
    }
    if (!g->total_pages) {
        mem = 1.0; /* nothing touched yet: no memory stalls to model */
        local = 1.0;
    }
    *mem_out = mem;
    *remote_out = local < 1.0 ? 1.0 - local : 0.0;

    *comm_out = 1.0;
    if (g->nr_peers && g->peer_w_sum > 0) {
        double c = 0.0;
        for (uint32_t p = 0; p < g->nr_peers; p++) {
            const sim_guest *peer = &sim->guests[g->peers[p]];
            uint32_t where = peer->home_node != SIM_NONE ? peer->home_node : node;
            c += g->peer_w[p] * sim_lat(sim, node, where);
        }
        *comm_out = c / g->peer_w_sum;
    }
    *io_out = g->io_node != SIM_NONE ? sim_lat(sim, node, g->io_node) : 1.0;
}

static inline double cont_of(const np_sim *sim, uint32_t mem_node, uint32_t node)
{
    const sim_node *n = &sim->nodes[mem_node];
    return mem_node == node ? n->cont_local : n->cont_remote;
}

double sim_vcpu_rate_on(np_sim *sim, const sim_vcpu *v, uint32_t node, double *remote_out)
{
    const sim_guest *g = &sim->guests[v->guest];
    double mem, comm, io, remote;
    double m = v->intensity;
    double compute = 1.0 - g->comm_frac - g->io_frac;

    guest_factors(sim, g, node, &mem, &comm, &io, &remote);
    if (v->vnode_node != SIM_NONE && g->total_pages) {
        /* vNUMA: `locality` of its accesses go to its virtual node's node,
         * the rest spread like the guest's memory. */
        double loc = sim->cfg.vnuma_locality;
        uint32_t h = v->vnode_node;
        mem = loc * sim_lat(sim, node, h) * cont_of(sim, h, node) + (1.0 - loc) * mem;
        remote = loc * (h != node ? 1.0 : 0.0) + (1.0 - loc) * remote;
    }
    double per_work = compute * ((1.0 - m) + m * mem) + g->comm_frac * comm + g->io_frac * io;
    if (remote_out)
        *remote_out = remote;
    return per_work > 0 ? 1.0 / per_work : 1.0;
}

/* Fill a cache entry for running on `node`. */
static void rate_fill(np_sim *sim, const sim_vcpu *v, uint32_t node, sim_rate *r)
{
    r->node = node;
    r->gen = sim->mem_gen;
    r->epoch = sim->epoch;
    r->mem_node = SIM_NONE;
    if (v->plain && v->mem_node1 != SIM_NONE && sim->cfg.share_mode != NP_SIM_SHARE_CROSS_NODE &&
        (v->vnode_node == SIM_NONE || v->vnode_node == v->mem_node1)) {
        /* The usual case, without touching the guest: all of memory on one
         * node, no peers, no IO: per work (1 - m) + m x ratio x contention. */
        uint32_t k = v->mem_node1;
        r->mem_node = k;
        r->coef = v->intensity * sim_lat(sim, node, k);
        r->base = 1.0 - v->intensity;
        r->rate = 1.0 / (r->base + r->coef * cont_of(sim, k, node));
        r->remote_frac = k != node ? 1.0 : 0.0;
        return;
    }
    const sim_guest *g = &sim->guests[v->guest];
    r->rate = sim_vcpu_rate_on(sim, v, node, &r->remote_frac);
    bool cross = sim->cfg.share_mode == NP_SIM_SHARE_CROSS_NODE && g->share_node >= 0;
    if (g->nr_mem_nodes == 1 && !cross &&
        (v->vnode_node == SIM_NONE || v->vnode_node == g->mem_nodes[0])) {
        /* per work = base + coef x contention: split the exact value. */
        uint32_t k = g->mem_nodes[0];
        double compute = 1.0 - g->comm_frac - g->io_frac;
        r->mem_node = k;
        r->coef = compute * v->intensity * sim_lat(sim, node, k);
        r->base = 1.0 / r->rate - r->coef * cont_of(sim, k, node);
    }
}

void sim_vcpu_refresh_rate(np_sim *sim, sim_vcpu *v, uint32_t node)
{
    sim_rate *slot = NULL;

    for (int i = 0; i < SIM_RATE_CACHE; i++) {
        sim_rate *r = &v->cache[i];
        if (r->node != node)
            continue;
        slot = r;
        if (r->gen != sim->mem_gen)
            break;
        if (r->mem_node != SIM_NONE) {
            if (r->epoch != sim->epoch) {
                r->rate = 1.0 / (r->base + r->coef * cont_of(sim, r->mem_node, node));
                r->epoch = sim->epoch;
            }
        } else if (r->epoch != sim->epoch) {
            break;
        }
        v->rate = r->rate;
        v->remote_frac = r->remote_frac;
        return;
    }
    if (!slot) /* a node not remembered: replace the older entry */
        slot = v->cache[0].epoch <= v->cache[1].epoch ? &v->cache[0] : &v->cache[1];
    rate_fill(sim, v, node, slot);
    v->rate = slot->rate;
    v->remote_frac = slot->remote_frac;
}

void sim_vcpu_flush_run_node(np_sim *sim, sim_vcpu *v)
{
    if (v->run_node != SIM_NONE && v->run_node_ns) {
        sim->guests[v->guest].node_run_ns[v->run_node] += v->run_node_ns;
        v->run_node_ns = 0;
    }
}

void sim_vcpu_account(np_sim *sim, sim_vcpu *v, uint32_t node, uint64_t elapsed_ns)
{
    uint64_t stall = elapsed_ns < v->stall_ns ? elapsed_ns : v->stall_ns;
    double work = (double)(elapsed_ns - stall) * v->rate * v->smt_speed;

    if (work > v->remaining)
        work = v->remaining;
    v->stall_ns -= stall;
    v->remaining -= work;
    v->work_ns += work;
    v->cpu_ns += elapsed_ns;
    v->stall_total_ns += stall;
    v->credit_ns -= (int64_t)elapsed_ns;

    double acc = work * v->intensity;
    v->acc_total += acc;
    v->acc_remote += acc * v->remote_frac;
    if (node != v->run_node) {
        sim_vcpu_flush_run_node(sim, v);
        v->run_node = node;
    }
    v->run_node_ns += elapsed_ns;
    double bytes = work * v->bw_per_work;
    v->epoch_bytes += bytes;
    v->epoch_remote_bytes += bytes * v->remote_frac;

    sim->tot.work_ns += work;
    sim->tot.acc_total += acc;
    sim->tot.acc_remote += acc * v->remote_frac;
}

uint64_t sim_vcpu_time_to_finish(const sim_vcpu *v)
{
    if (isinf(v->remaining))
        return UINT64_MAX;
    double t = ceil(v->remaining / (v->rate * v->smt_speed));
    if (t > 9e18)
        return UINT64_MAX;
    return v->stall_ns + (uint64_t)t;
}

void sim_vcpu_new_burst(sim_vcpu *v)
{
    if (v->load.pattern == NP_SIM_STEADY) {
        v->remaining = INFINITY;
        return;
    }
    double w = np_prng_exp(&v->rng, (double)v->load.burst_work_ns);
    v->remaining = w < 1.0 ? 1.0 : w; /* at least 1 ns of work per burst */
}

uint64_t sim_vcpu_think_ns(sim_vcpu *v)
{
    double duty = v->load.duty;
    if (v->load.pattern == NP_SIM_STEADY || duty >= 1.0)
        return 0;
    double mean = (double)v->load.burst_work_ns * (1.0 - duty) / duty;
    double t = np_prng_exp(&v->rng, mean);
    return t < 1.0 ? 1 : (uint64_t)t;
}
