/*
 * sim/sim.c - the simulator object and its event loop.
 *
 * The loop pops the earliest timer (time, then arming order) and hands it
 * to its owner: the global periodic tasks (credit accounting, contention
 * epochs, metric samples, page-sharing scans, the policy's runtime step),
 * a pCPU (tick, end of slice or burst, tickle), a guest (arrival, balloon
 * step) or a vCPU (wake). Simulated time only moves forward, to the time
 * of the event being handled; nothing reads a clock.
 */
#include <numaplace/sim.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/backend_sim.h"
#include "sim/bits.h"
#include "sim/calib.h"
#include "sim/guest.h"
#include "sim/heap.h"
#include "sim/mask.h"
#include "sim/memory.h"
#include "sim/metrics.h"
#include "sim/policy.h"
#include "sim/sched.h"
#include "sim/state.h"

/* Stream number of the policy's random numbers: far from any vCPU's. */
#define SIM_POLICY_STREAM UINT64_MAX

static int check_config(const np_sim_config *c, size_t nr_nodes)
{
    if (!c->tslice_ns || !c->tick_ns || c->tick_ns > c->tslice_ns || !c->default_weight ||
        !c->page_bytes || (c->page_bytes & (c->page_bytes - 1)) || !c->epoch_ns ||
        !c->migrate_copy_bps || !(c->local_latency_ns > 0) || !(c->latency_per_distance >= 0) ||
        !(c->remote_bandwidth_ratio > 0) || !c->node_bandwidth_bps ||
        !(c->vnuma_locality >= 0 && c->vnuma_locality <= 1) ||
        c->internal_default_node >= nr_nodes ||
        (c->share_mode != NP_SIM_SHARE_OFF && c->share_mode != NP_SIM_SHARE_NODE_LOCAL &&
         c->share_mode != NP_SIM_SHARE_CROSS_NODE) ||
        (c->share_mode != NP_SIM_SHARE_OFF && !c->share_scan_ns) || !c->rebalance_ns)
        return -EINVAL;
    return 0;
}

/* CPUs in scheduling order: by node, then by OS id. */
/* Pairs the hyper-threads of each core of node n (same package and core
 * id; a third thread, rare, stays unpaired): the scheduler slows a pair
 * that runs two vCPUs (sched.c). O(CPUs of the node ^ 2), once. */
static void link_siblings(np_sim *sim, size_t n, const uint32_t *topo_idx)
{
    const sim_node *nd = &sim->nodes[n];
    for (uint32_t a = nd->first_cpu; a < nd->first_cpu + nd->nr_cpus; a++) {
        const np_cpu_info *ca = np_topology_cpu(sim->topo, topo_idx[a]);
        if (!ca || ca->core_id == NP_TOPO_ID_UNKNOWN || sim->pcpus[a].sibling != SIM_NONE)
            continue;
        for (uint32_t b = a + 1; b < nd->first_cpu + nd->nr_cpus; b++) {
            const np_cpu_info *cb = np_topology_cpu(sim->topo, topo_idx[b]);
            if (cb && sim->pcpus[b].sibling == SIM_NONE && cb->core_id == ca->core_id &&
                cb->package_id == ca->package_id) {
                sim->pcpus[a].sibling = b;
                sim->pcpus[b].sibling = a;
                break;
            }
        }
    }
}

static int build_cpus(np_sim *sim)
{
    const np_topology *topo = sim->topo;
    uint32_t next = 0;

    sim->cpu_id_limit = np_topology_cpu_id_limit(topo);
    sim->cpu_of_os = malloc((sim->cpu_id_limit ? sim->cpu_id_limit : 1) * sizeof(*sim->cpu_of_os));
    uint32_t *topo_idx = malloc((sim->nr_cpus ? sim->nr_cpus : 1) * sizeof(*topo_idx));
    if (!sim->cpu_of_os || !topo_idx) {
        free(topo_idx);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < sim->cpu_id_limit; i++)
        sim->cpu_of_os[i] = SIM_NONE;
    for (size_t n = 0; n < sim->nr_nodes; n++) {
        sim->nodes[n].first_cpu = next;
        for (size_t c = 0; c < sim->nr_cpus; c++) {
            const np_cpu_info *ci = np_topology_cpu(topo, c);
            if (ci->node_idx != n)
                continue;
            sim->pcpus[next].node = (uint32_t)n;
            sim->pcpus[next].os_id = ci->os_id;
            sim->pcpus[next].sibling = SIM_NONE;
            topo_idx[next] = (uint32_t)c;
            sim->cpu_of_os[ci->os_id] = next;
            next++;
        }
        sim->nodes[n].nr_cpus = next - sim->nodes[n].first_cpu;
        sim->nodes[n].balance_bias = sim->nodes[n].first_cpu;
        link_siblings(sim, n, topo_idx);
    }
    free(topo_idx);
    return next == sim->nr_cpus ? 0 : -EINVAL;
}

int np_sim_create(np_topology *topo, const np_sim_config *cfg, np_sim **out)
{
    np_sim *sim = NULL;
    np_sim_config defaults;
    int rc;

    if (!topo || !out)
        return -EINVAL;
    if (!cfg) {
        np_sim_config_init(&defaults);
        cfg = &defaults;
    }
    rc = check_config(cfg, np_topology_nr_nodes(topo));
    if (rc)
        return rc;
    sim = calloc(1, sizeof(*sim));
    if (!sim)
        return -ENOMEM;
    sim->cfg = *cfg;
    sim->topo = np_topology_ref(topo);
    sim->nr_nodes = np_topology_nr_nodes(topo);
    sim->nr_cpus = np_topology_nr_cpus(topo);
    sim->nodes = calloc(sim->nr_nodes, sizeof(*sim->nodes));
    /* one pCPU per cache line */
    size_t pcpu_bytes = (sim->nr_cpus ? sim->nr_cpus : 1) * sizeof(*sim->pcpus);
    pcpu_bytes = (pcpu_bytes + SIM_LINE_BYTES - 1) / SIM_LINE_BYTES * SIM_LINE_BYTES;
    sim->pcpus = aligned_alloc(SIM_LINE_BYTES, pcpu_bytes);
    if (!sim->nodes || !sim->pcpus) {
        rc = -ENOMEM;
        goto out;
    }
    memset(sim->pcpus, 0, pcpu_bytes);
    rc = build_cpus(sim);
    if (!rc)
        rc = sim_masks_init(sim);
    if (!rc)
        rc = sim_calib_init(sim);
    if (rc)
        goto out;
    sim_mem_init(sim);
    sim->idlers = calloc(sim->cpu_words, sizeof(uint64_t));
    sim->idle_cores = calloc(sim->cpu_words, sizeof(uint64_t));
    sim->queued_cpus = calloc(sim->cpu_words, sizeof(uint64_t));
    sim->nodes_mobile_any = calloc(sim->node_words, sizeof(uint64_t));
    sim->nodes_mobile_hi = calloc(sim->node_words, sizeof(uint64_t));
    sim->nodes_soft_any = calloc(sim->node_words, sizeof(uint64_t));
    sim->nodes_soft_hi = calloc(sim->node_words, sizeof(uint64_t));
    sim->exile_any = calloc(sim->nr_nodes * sim->nr_nodes, sizeof(uint32_t));
    sim->exile_hi = calloc(sim->nr_nodes * sim->nr_nodes, sizeof(uint32_t));
    sim->exile_any_bits = calloc(sim->nr_nodes * sim->node_words, sizeof(uint64_t));
    sim->exile_hi_bits = calloc(sim->nr_nodes * sim->node_words, sizeof(uint64_t));
    if (!sim->idlers || !sim->idle_cores || !sim->queued_cpus || !sim->nodes_mobile_any || !sim->nodes_mobile_hi ||
        !sim->nodes_soft_any || !sim->nodes_soft_hi || !sim->exile_any || !sim->exile_hi ||
        !sim->exile_any_bits || !sim->exile_hi_bits) {
        rc = -ENOMEM;
        goto out;
    }
    rc = sim_sched_init(sim);
    if (rc)
        goto out;

    sim->nr_handles = SIM_T_NR_GLOBAL + (uint32_t)sim->nr_cpus;
    rc = np_timerq_create(sim->nr_handles, &sim->tq);
    if (rc)
        goto out;
    np_prng_seed(&sim->policy_rng, cfg->seed, SIM_POLICY_STREAM);
    rc = sim_backend_create(sim, &sim->backend);
    if (rc)
        goto out;
    sim->policy = &np_sim_policy_none;

    np_timerq_set(sim->tq, SIM_T_ACCT, cfg->tslice_ns);
    np_timerq_set(sim->tq, SIM_T_EPOCH, cfg->epoch_ns);
    if (cfg->sample_ns)
        np_timerq_set(sim->tq, SIM_T_SAMPLE, cfg->sample_ns);
    if (cfg->share_mode != NP_SIM_SHARE_OFF)
        np_timerq_set(sim->tq, SIM_T_SHARE, cfg->share_scan_ns);
    *out = sim;
    sim = NULL;
out:
    np_sim_destroy(sim);
    return rc;
}

static void drop_policy_self(np_sim *sim)
{
    if (sim->policy_self_owned && sim->policy->destroy)
        sim->policy->destroy(sim->policy_self);
    sim->policy_self = NULL;
    sim->policy_self_owned = false;
}

void np_sim_destroy(np_sim *sim)
{
    if (!sim)
        return;
    drop_policy_self(sim);
    for (size_t i = 0; i < sim->nr_guests; i++)
        sim_guest_fini(&sim->guests[i]);
    free(sim->guests);
    free(sim->vcpus);
    free(sim->active_vcpus);
    free(sim->active_guests);
    sim_masks_fini(sim);
    np_timerq_destroy(sim->tq);
    free(sim->owner);
    np_backend_destroy(sim->backend);
    free(sim->idlers);
    free(sim->idle_cores);
    free(sim->queued_cpus);
    free(sim->nodes_mobile_any);
    free(sim->nodes_mobile_hi);
    free(sim->nodes_soft_any);
    free(sim->nodes_soft_hi);
    free(sim->exile_any);
    free(sim->exile_hi);
    free(sim->exile_any_bits);
    free(sim->exile_hi_bits);
    free(sim->lat);
    free(sim->near);
    free(sim->cpu_of_os);
    free(sim->nodes);
    free(sim->pcpus);
    free(sim->samples);
    np_topology_destroy(sim->topo);
    free(sim);
}

int np_sim_set_policy(np_sim *sim, const np_sim_policy *policy, void *self)
{
    void *made = NULL;

    if (!sim || !policy)
        return -EINVAL;
    if (!self && policy->create) {
        int rc = policy->create(sim, &made);
        if (rc)
            return rc;
    }
    drop_policy_self(sim);
    sim->policy = policy;
    sim->policy_self = made ? made : self;
    sim->policy_self_owned = made != NULL;
    if (policy->rebalance)
        np_timerq_set(sim->tq, SIM_T_POLICY, sim->now_ns + sim->cfg.rebalance_ns);
    else
        np_timerq_cancel(sim->tq, SIM_T_POLICY);
    return 0;
}

void sim_log(np_sim *sim, np_log_level level, const char *msg)
{
    if (sim->cfg.log)
        sim->cfg.log(sim->cfg.log_opaque, level, "sim", msg);
}

static void global_timer(np_sim *sim, uint32_t h)
{
    const np_sim_config *c = &sim->cfg;

    switch (h) {
    case SIM_T_ACCT:
        sim_sched_acct(sim); /* re-arms itself */
        break;
    case SIM_T_EPOCH:
        sim_mem_epoch(sim, c->epoch_ns);
        np_timerq_set(sim->tq, h, sim->now_ns + c->epoch_ns);
        break;
    case SIM_T_SAMPLE:
        if (sim_metrics_sample(sim))
            sim_log(sim, NP_LOG_WARNING, "out of memory for a metrics sample");
        np_timerq_set(sim->tq, h, sim->now_ns + c->sample_ns);
        break;
    case SIM_T_SHARE:
        sim_mem_share_scan(sim);
        np_timerq_set(sim->tq, h, sim->now_ns + c->share_scan_ns);
        break;
    case SIM_T_POLICY:
        if (sim->policy->rebalance) {
            int rc = sim->policy->rebalance(sim->policy_self, sim->backend);
            if (rc)
                sim_log(sim, NP_LOG_WARNING, "policy step failed");
            np_timerq_set(sim->tq, h, sim->now_ns + c->rebalance_ns);
        }
        break;
    default:
        break;
    }
}

/* Start loading what the next event will touch while this one runs: the
 * engine's time goes mostly to cache misses into pCPU and vCPU records
 * scattered over megabytes, and the next event is known in advance. A
 * pCPU's event touches its running vCPU's lines 0-4, a wake lines 0, 3, 5
 * and 6 (state.h). */
static inline void prefetch_next(const np_sim *sim, uint32_t first_guest)
{
    uint32_t h = np_timerq_peek_handle(sim->tq);
    if (h == UINT32_MAX || h < SIM_T_NR_GLOBAL)
        return;
    if (h < first_guest) {
        const sim_pcpu *p = &sim->pcpus[h - SIM_T_NR_GLOBAL];
        __builtin_prefetch(p);
        if (p->curr != SIM_NONE) { /* usually already known: it is running */
            const char *v = (const char *)&sim->vcpus[p->curr];
            for (unsigned line = 0; line < 5; line++)
                __builtin_prefetch(v + line * SIM_LINE_BYTES);
        }
        return;
    }
    uint32_t who = sim->owner[h - first_guest];
    if (who & SIM_OWNER_VCPU) {
        const char *v = (const char *)&sim->vcpus[who & ~SIM_OWNER_VCPU];
        __builtin_prefetch(v);
        __builtin_prefetch(v + 3 * SIM_LINE_BYTES);
        __builtin_prefetch(v + 5 * SIM_LINE_BYTES);
        __builtin_prefetch(v + 6 * SIM_LINE_BYTES);
    }
}

int np_sim_run(np_sim *sim, uint64_t until_ns)
{
    uint32_t h;
    uint64_t t;
    uint32_t first_guest = SIM_T_NR_GLOBAL + (uint32_t)sim->nr_cpus;

    if (!sim || until_ns < sim->now_ns)
        return -EINVAL;
    if (sim->in_run)
        return -EBUSY; /* called from a policy callback */
    sim->in_run = true;
    while (np_timerq_pop_until(sim->tq, until_ns, &h, &t)) {
        sim->now_ns = t;
        sim->events++;
        prefetch_next(sim, first_guest);
        if (h < SIM_T_NR_GLOBAL) {
            global_timer(sim, h);
        } else if (h < first_guest) {
            sim_sched_pcpu_timer(sim, h - SIM_T_NR_GLOBAL);
        } else {
            uint32_t who = sim->owner[h - first_guest];
            if (who & SIM_OWNER_VCPU)
                sim_sched_vcpu_wake(sim, who & ~SIM_OWNER_VCPU);
            else
                sim_guest_timer(sim, who);
        }
    }
    sim->now_ns = until_ns;
    sim_sched_settle(sim);
    sim->in_run = false;
    return 0;
}

uint64_t np_sim_now_ns(const np_sim *sim)
{
    return sim ? sim->now_ns : 0;
}

uint64_t np_sim_events(const np_sim *sim)
{
    return sim ? sim->events : 0;
}

np_backend *np_sim_backend(np_sim *sim)
{
    return sim ? sim->backend : NULL;
}

const np_topology *np_sim_topology(const np_sim *sim)
{
    return sim ? sim->topo : NULL;
}

size_t np_sim_nr_guests(const np_sim *sim)
{
    return sim ? sim->nr_guests : 0;
}

uint64_t np_sim_node_free_bytes(const np_sim *sim, size_t node_idx)
{
    if (!sim || node_idx >= sim->nr_nodes)
        return 0;
    return sim_node_free_pages(sim, (uint32_t)node_idx) * sim->cfg.page_bytes;
}

double np_sim_node_planned_demand(const np_sim *sim, size_t node_idx)
{
    if (!sim || node_idx >= sim->nr_nodes)
        return 0;
    return sim->nodes[node_idx].planned_demand;
}

double np_sim_latency_ratio(const np_sim *sim, size_t from_node_idx, size_t to_node_idx)
{
    if (!sim || from_node_idx >= sim->nr_nodes || to_node_idx >= sim->nr_nodes)
        return 0;
    return sim_lat(sim, (uint32_t)from_node_idx, (uint32_t)to_node_idx);
}
