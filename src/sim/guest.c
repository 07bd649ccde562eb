/*
 * sim/guest.c - adding guests, admitting them when they arrive, and their
 * balloon schedule.
 *
 * Admission is where placement happens: the guest's explicit plan, or the
 * policy's place() with the host as it is at that instant. The plan is
 * then applied the way a toolstack and hypervisor would: vCPU masks set,
 * memory populated (planned amounts, stripes, or left for first touch,
 * spilling to near nodes when a node is full), each vCPU's hypervisor
 * state allocated, vCPUs started. A guest whose memory the host cannot
 * hold is rejected, leaving nothing behind.
 */
#include "sim/guest.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/bits.h"
#include "sim/mask.h"
#include "sim/memory.h"
#include "sim/plan.h"
#include "sim/sched.h"
#include "sim/workload.h"
#include "util/error.h"

/* vCPU random streams are numbered (guest << bits) | vcpu. */
#define SIM_VCPU_STREAM_BITS 20

void sim_guest_fini(sim_guest *g)
{
    np_sim_plan_destroy(g->plan);
    free(g->node_pages);
    free(g->mem_nodes);
    free(g->node_aff);
    free(g->peers);
    free(g->peer_w);
    free(g->balloon);
    free(g->node_run_ns);
    memset(g, 0, sizeof(*g));
}

static int check_load(const np_sim_vcpu_load *l)
{
    if (l->pattern != NP_SIM_STEADY && l->pattern != NP_SIM_BURSTY && l->pattern != NP_SIM_IDLE)
        return -EINVAL;
    if (!(l->mem_intensity >= 0 && l->mem_intensity <= 1))
        return -EINVAL;
    if (l->pattern != NP_SIM_STEADY && (!(l->duty > 0 && l->duty <= 1) || !l->burst_work_ns))
        return -EINVAL;
    return 0;
}

static void vcpu_set_load(np_sim *sim, sim_vcpu *v, const np_sim_vcpu_load *l)
{
    v->load = *l;
    v->intensity = l->mem_intensity;
    uint64_t bps = l->mem_bw_bps ? l->mem_bw_bps
                                 : (uint64_t)(l->mem_intensity * (double)sim->cfg.core_bandwidth_bps);
    v->bw_per_work = (double)bps / 1e9;
}

/* The capacity grow() and grow_aligned() move to: doubled from 16 until
 * it holds need. */
static size_t next_cap(size_t cap, size_t need)
{
    size_t cap2 = cap ? cap : 16;
    while (cap2 < need)
        cap2 *= 2;
    return cap2;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t cap2 = next_cap(*cap, need);
    void *p = realloc(*arr, cap2 * elem);
    if (!p)
        return -ENOMEM;
    *arr = p;
    *cap = cap2;
    return 0;
}

/* grow() for arrays of 64-byte aligned records (sim_vcpu): no realloc,
 * which keeps only malloc's alignment. */
static int grow_aligned(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t cap2 = next_cap(*cap, need);
    size_t bytes = (cap2 * elem + SIM_LINE_BYTES - 1) / SIM_LINE_BYTES * SIM_LINE_BYTES;
    void *p = aligned_alloc(SIM_LINE_BYTES, bytes);
    if (!p)
        return -ENOMEM;
    if (*arr)
        memcpy(p, *arr, *cap * elem);
    free(*arr);
    *arr = p;
    *cap = cap2;
    return 0;
}

static int check_guest(const np_sim *sim, const np_sim_guest *in, np_error *err)
{
    const np_guest_spec *s = &in->spec;
    size_t idx;

    if (!s->vcpus || s->vcpus > NP_SIM_MAX_VCPUS_PER_GUEST)
        return np_error_set(err, NULL, 0, "expected 1..%u vCPUs, got %u",
                            NP_SIM_MAX_VCPUS_PER_GUEST, s->vcpus);
    if (!s->mem_bytes)
        return np_error_set(err, NULL, 0, "expected memory > 0");
    if (s->maxmem_bytes && s->maxmem_bytes < s->mem_bytes)
        return np_error_set(err, NULL, 0, "expected maxmem >= memory");
    if (in->start_ns < sim->now_ns)
        return np_error_set(err, NULL, 0, "expected a start time not in the past");
    if (check_load(&in->load))
        return np_error_set(err, NULL, 0,
                            "expected a load with intensity 0..1 and, unless steady, duty in "
                            "(0, 1] and a burst > 0");
    if (!(in->comm_fraction >= 0 && in->io_fraction >= 0 &&
          in->comm_fraction + in->io_fraction < 1))
        return np_error_set(err, NULL, 0,
                            "expected communication and IO fractions >= 0 summing below 1");
    if (!(in->shareable_fraction >= 0 && in->shareable_fraction <= 1))
        return np_error_set(err, NULL, 0, "expected a shareable fraction in 0..1");
    if (s->io_node_os_id >= 0 && np_topology_node_idx(sim->topo, (uint32_t)s->io_node_os_id, &idx))
        return np_error_set(err, NULL, 0, "io node %d is not a node of the host",
                            (int)s->io_node_os_id);
    if (in->plan && (in->plan->nr_nodes != sim->nr_nodes || in->plan->nr_vcpus != s->vcpus))
        return np_error_set(err, NULL, 0, "expected a plan for %zu nodes and %u vCPUs",
                            sim->nr_nodes, s->vcpus);
    if (in->weight > 65535)
        return np_error_set(err, NULL, 0, "expected a weight of at most 65535");
    return 0;
}

int np_sim_add_guest(np_sim *sim, const np_sim_guest *in, size_t *gidx_out, np_error *err)
{
    sim_guest *g;
    uint32_t gidx;
    int rc;

    if (!sim || !in)
        return -EINVAL;
    if (sim->in_run)
        return -EBUSY; /* a policy callback: the guest arrays would move under it */
    rc = check_guest(sim, in, err);
    if (rc)
        return rc;
    if (sim->nr_guests >= NP_SIM_MAX_GUESTS || sim->nr_vcpus + in->spec.vcpus >= SIM_OWNER_VCPU ||
        sim->nr_handles > UINT32_MAX - 1 - in->spec.vcpus)
        return -E2BIG;
    size_t nv = sim->nr_vcpus + in->spec.vcpus;
    rc = grow_aligned((void **)&sim->vcpus, &sim->cap_vcpus, nv, sizeof(*sim->vcpus));
    if (!rc)
        rc = grow((void **)&sim->active_vcpus, &sim->cap_active, nv, sizeof(*sim->active_vcpus));
    if (!rc)
        rc = grow((void **)&sim->guests, &sim->cap_guests, sim->nr_guests + 1, sizeof(*sim->guests));
    if (!rc)
        rc = grow((void **)&sim->active_guests, &sim->cap_active_guests, sim->nr_guests + 1,
                  sizeof(*sim->active_guests));
    if (rc)
        return rc;
    size_t nh = sim->nr_handles + 1 + in->spec.vcpus;
    size_t first = SIM_T_NR_GLOBAL + sim->nr_cpus;
    size_t cap_h = sim->cap_handles;
    rc = grow((void **)&sim->owner, &cap_h, nh - first, sizeof(*sim->owner));
    if (rc)
        return rc;
    sim->cap_handles = (uint32_t)cap_h;
    rc = np_timerq_grow(sim->tq, (uint32_t)nh);
    if (rc)
        return rc;

    gidx = (uint32_t)sim->nr_guests;
    g = &sim->guests[gidx];
    memset(g, 0, sizeof(*g));
    g->spec = in->spec;
    if (!g->spec.maxmem_bytes)
        g->spec.maxmem_bytes = g->spec.mem_bytes;
    if (!g->spec.name[0])
        snprintf(g->spec.name, sizeof(g->spec.name), "g%u", gidx);
    g->node_pages = calloc(sim->nr_nodes, sizeof(*g->node_pages));
    g->mem_nodes = calloc(sim->nr_nodes, sizeof(*g->mem_nodes));
    g->node_run_ns = calloc(sim->nr_nodes, sizeof(*g->node_run_ns));
    if (!g->node_pages || !g->mem_nodes || !g->node_run_ns) {
        sim_guest_fini(g);
        return -ENOMEM;
    }
    if (in->plan) {
        rc = np_sim_plan_copy(in->plan, &g->plan);
        if (rc) {
            sim_guest_fini(g);
            return rc;
        }
    }
    g->status = NP_SIM_GUEST_PENDING;
    g->first_vcpu = (uint32_t)sim->nr_vcpus;
    g->nr_vcpus = in->spec.vcpus;
    g->weight = in->weight ? in->weight : sim->cfg.default_weight;
    g->start_ns = in->start_ns;
    g->depart_ns = UINT64_MAX;
    g->home_node = SIM_NONE;
    g->share_node = -1;
    g->comm_frac = in->comm_fraction;
    g->io_frac = in->io_fraction;
    g->io_node = SIM_NONE;
    if (in->spec.io_node_os_id >= 0) {
        size_t idx = 0;
        np_topology_node_idx(sim->topo, (uint32_t)in->spec.io_node_os_id, &idx);
        g->io_node = (uint32_t)idx;
    }
    g->share_class = in->share_class;
    g->shareable = in->shareable_fraction;

    for (uint32_t i = 0; i < g->nr_vcpus; i++) {
        sim_vcpu *v = &sim->vcpus[g->first_vcpu + i];
        memset(v, 0, sizeof(*v));
        v->guest = gidx;
        v->idx = i;
        v->state = SIM_V_OFFLINE;
        v->pri = SIM_PRI_UNDER;
        v->cpu = v->last_run_cpu = SIM_NONE;
        v->rq_prev = v->rq_next = SIM_NONE;
        v->soft = v->soft_eff = SIM_NONE;
        v->internal_node = SIM_NONE;
        v->vnode_node = SIM_NONE;
        v->mem_node1 = SIM_NONE;
        v->plain = !(in->comm_fraction > 0) && !(in->io_fraction > 0);
        v->rate = 1.0;
        v->smt_speed = 1.0;
        v->timer = sim->nr_handles + 1 + i;
        v->run_node = SIM_NONE;
        for (int c = 0; c < SIM_RATE_CACHE; c++)
            v->cache[c].node = SIM_NONE;
        vcpu_set_load(sim, v, &in->load);
        np_prng_seed(&v->rng, sim->cfg.seed, ((uint64_t)gidx << SIM_VCPU_STREAM_BITS) | i);
    }
    g->timer = sim->nr_handles;
    sim->owner[g->timer - first] = gidx;
    for (uint32_t i = 0; i < g->nr_vcpus; i++)
        sim->owner[g->timer + 1 + i - first] = (g->first_vcpu + i) | SIM_OWNER_VCPU;
    sim->nr_handles = (uint32_t)nh;
    sim->nr_vcpus = nv;
    sim->nr_guests++;
    np_timerq_set(sim->tq, g->timer, g->start_ns);
    if (gidx_out)
        *gidx_out = gidx;
    return 0;
}

int np_sim_set_vcpu_load(np_sim *sim, size_t gidx, uint32_t vcpu, const np_sim_vcpu_load *load)
{
    if (!sim || !load || gidx >= sim->nr_guests || vcpu >= sim->guests[gidx].nr_vcpus ||
        check_load(load))
        return -EINVAL;
    sim_guest *g = &sim->guests[gidx];
    sim_vcpu *v = &sim->vcpus[g->first_vcpu + vcpu];
    if (g->status != NP_SIM_GUEST_PENDING)
        return -EBUSY; /* its current burst was drawn from the old load */
    vcpu_set_load(sim, v, load);
    return 0;
}

static int add_peer(np_sim *sim, sim_guest *g, uint32_t peer, double w)
{
    uint32_t *p = realloc(g->peers, (g->nr_peers + 1) * sizeof(*p));
    if (!p)
        return -ENOMEM;
    g->peers = p;
    double *pw = realloc(g->peer_w, (g->nr_peers + 1) * sizeof(*pw));
    if (!pw)
        return -ENOMEM;
    g->peer_w = pw;
    for (uint32_t i = 0; i < g->nr_vcpus; i++)
        sim->vcpus[g->first_vcpu + i].plain = false;
    g->peers[g->nr_peers] = peer;
    g->peer_w[g->nr_peers] = w;
    g->nr_peers++;
    g->peer_w_sum += w;
    return 0;
}

int np_sim_add_traffic(np_sim *sim, size_t a, size_t b, double weight)
{
    int rc;
    if (!sim || a >= sim->nr_guests || b >= sim->nr_guests || a == b || !(weight > 0) ||
        isinf(weight))
        return -EINVAL;
    if (sim->in_run)
        return -EBUSY;
    rc = add_peer(sim, &sim->guests[a], (uint32_t)b, weight);
    if (!rc)
        rc = add_peer(sim, &sim->guests[b], (uint32_t)a, weight);
    sim->mem_gen++; /* every vCPU's speed may change */
    return rc;
}

static void arm_guest(np_sim *sim, sim_guest *g)
{
    uint64_t t = UINT64_MAX;
    if (g->status == NP_SIM_GUEST_PENDING)
        t = g->start_ns; /* balloon steps due before then apply at arrival */
    else if (g->next_balloon < g->nr_balloon)
        t = g->balloon[g->next_balloon].at_ns;
    if (g->status == NP_SIM_GUEST_RUNNING && g->depart_ns < t)
        t = g->depart_ns;
    if (t == UINT64_MAX)
        np_timerq_cancel(sim->tq, g->timer);
    else
        np_timerq_set(sim->tq, g->timer, t > sim->now_ns ? t : sim->now_ns);
}

int np_sim_balloon_at(np_sim *sim, size_t gidx, uint64_t at_ns, uint64_t target_bytes)
{
    if (!sim || gidx >= sim->nr_guests || at_ns < sim->now_ns)
        return -EINVAL;
    sim_guest *g = &sim->guests[gidx];
    if (target_bytes > g->spec.maxmem_bytes || g->status == NP_SIM_GUEST_REJECTED)
        return -EINVAL;
    if (g->nr_balloon - g->next_balloon >= NP_SIM_MAX_BALLOON_STEPS)
        return -E2BIG;
    sim_balloon_step *b = realloc(g->balloon, (g->nr_balloon + 1) * sizeof(*b));
    if (!b)
        return -ENOMEM;
    g->balloon = b;
    /* Sorted by time; equal times keep the order they were given in. */
    uint32_t i = g->nr_balloon;
    while (i > g->next_balloon && b[i - 1].at_ns > at_ns) {
        b[i] = b[i - 1];
        i--;
    }
    b[i] = (sim_balloon_step){.at_ns = at_ns, .target_bytes = target_bytes};
    g->nr_balloon++;
    arm_guest(sim, g);
    return 0;
}

int np_sim_depart_at(np_sim *sim, size_t gidx, uint64_t at_ns)
{
    if (!sim || gidx >= sim->nr_guests || at_ns < sim->now_ns)
        return -EINVAL;
    if (sim->in_run)
        return -EBUSY;
    sim_guest *g = &sim->guests[gidx];
    if (g->status == NP_SIM_GUEST_DEPARTED || at_ns < g->start_ns)
        return -EINVAL;
    g->depart_ns = at_ns;
    arm_guest(sim, g);
    return 0;
}

/* The guest leaves: its memory goes back to the nodes at once (the pages
 * of a destroyed domain are scrubbed and freed), its vCPUs finish the run
 * they are in (at most a time slice) and never wake again. */
static void depart(np_sim *sim, sim_guest *g)
{
    g->status = NP_SIM_GUEST_DEPARTED;
    sim_mem_free_guest(sim, g);
    for (uint32_t i = 0; i < g->nr_vcpus; i++) {
        uint32_t vid = g->first_vcpu + i;
        sim_vcpu *v = &sim->vcpus[vid];
        v->flags |= SIM_VF_GONE;
        v->remaining = 0;
        if (v->state == SIM_V_BLOCKED) {
            np_timerq_cancel(sim->tq, sim_vcpu_handle(sim, vid));
            v->state = SIM_V_OFFLINE;
        }
    }
}

/* ---- admission --------------------------------------------------------------------- */

static void reject(np_sim *sim, sim_guest *g, const char *why)
{
    char line[sizeof(g->spec.name) + sizeof(((np_error *)0)->msg) + 32];
    sim_mem_free_guest(sim, g);
    free(g->node_aff);
    g->node_aff = NULL;
    g->status = NP_SIM_GUEST_REJECTED;
    snprintf(line, sizeof(line), "guest %s rejected: %s", g->spec.name, why);
    sim_log(sim, NP_LOG_WARNING, line);
}

/* Memory of a guest on the plan's nodes, in the plan's proportions. */
static uint64_t alloc_planned(np_sim *sim, sim_guest *g, const np_sim_plan *plan, uint64_t pages)
{
    unsigned __int128 total = 0;
    uint64_t got = 0, given = 0;
    uint32_t largest = 0;

    for (size_t k = 0; k < sim->nr_nodes; k++) {
        total += plan->node_bytes[k];
        if (plan->node_bytes[k] > plan->node_bytes[largest])
            largest = (uint32_t)k;
    }
    for (size_t k = 0; k < sim->nr_nodes; k++) {
        if (!plan->node_bytes[k] || k == largest)
            continue;
        uint64_t share = (uint64_t)((unsigned __int128)pages * plan->node_bytes[k] / total);
        got += sim_mem_alloc_near(sim, g, (uint32_t)k, share);
        given += share;
    }
    /* The largest share takes the rounding remainder. */
    got += sim_mem_alloc_near(sim, g, largest, pages - given);
    return got;
}

static int apply_masks(np_sim *sim, sim_guest *g, const np_sim_plan *plan)
{
    for (uint32_t i = 0; i < g->nr_vcpus; i++) {
        sim_vcpu *v = &sim->vcpus[g->first_vcpu + i];
        uint32_t hard = SIM_MASK_ALL, soft = SIM_NONE;
        int rc = sim_mask_from_bitmap(sim, plan->hard[i], &hard);
        if (rc)
            return rc;
        if (plan->soft[i] && sim_mask_from_bitmap(sim, plan->soft[i], &soft))
            soft = SIM_NONE; /* a soft mask naming no CPU of the host means nothing */
        rc = sim_sched_init_vcpu_masks(sim, v, hard, soft);
        if (rc)
            return rc;
    }
    return 0;
}

static int apply_node_affinity(np_sim *sim, sim_guest *g, const np_sim_plan *plan)
{
    if (!plan->node_aff)
        return 0;
    g->node_aff = calloc(sim->node_words, sizeof(*g->node_aff));
    if (!g->node_aff)
        return -ENOMEM;
    bool any = false;
    for (int id = np_bitmap_next(plan->node_aff, 0); id >= 0;
         id = np_bitmap_next(plan->node_aff, (unsigned)id + 1)) {
        size_t idx;
        if (!np_topology_node_idx(sim->topo, (uint32_t)id, &idx)) {
            np_bits_set(g->node_aff, idx);
            any = true;
        }
    }
    if (!any) {
        free(g->node_aff);
        g->node_aff = NULL;
    }
    return 0;
}

static void start_vcpus(np_sim *sim, sim_guest *g, const np_sim_plan *plan)
{
    for (uint32_t i = 0; i < g->nr_vcpus; i++) {
        uint32_t vid = g->first_vcpu + i;
        sim_vcpu *v = &sim->vcpus[vid];
        uint32_t node = sim->cfg.internal_default_node;
        if (sim->cfg.internal_follow_plan && plan->internal_node[i] != UINT32_MAX)
            node = plan->internal_node[i];
        v->internal_node = sim_mem_alloc_internal(sim, node);
        v->vnode_node = plan->vnode_node[i] != UINT32_MAX ? plan->vnode_node[i] : SIM_NONE;

        uint32_t pref = v->soft_eff != SIM_NONE ? v->soft_eff : v->hard;
        uint32_t home = sim->masks[pref].single_node;
        if (home != SIM_NONE)
            sim->nodes[home].planned_demand += g->spec.cpu_demand;

        v->state = SIM_V_BLOCKED;
        /* Steady vCPUs start at once; the others after a first think time,
         * so that a host full of bursty guests does not start in lockstep. */
        np_timerq_set(sim->tq, sim_vcpu_handle(sim, vid), sim->now_ns + sim_vcpu_think_ns(v));
    }
}

static void admit(np_sim *sim, uint32_t gidx)
{
    sim_guest *g = &sim->guests[gidx];
    np_sim_plan *plan = NULL;
    np_error err = {{0}, 0, {0}};
    uint64_t pb = sim->cfg.page_bytes;
    uint64_t pages = (g->spec.mem_bytes + pb - 1) / pb;
    int rc;

    if (g->plan) {
        plan = g->plan;
    } else {
        rc = np_sim_plan_create(sim->nr_nodes, g->nr_vcpus, &g->plan);
        if (rc) {
            reject(sim, g, "out of memory for its plan");
            return;
        }
        plan = g->plan;
        if (sim->policy->place) {
            rc = sim->policy->place(sim->policy_self, sim, &g->spec, plan, &err);
            if (rc) {
                reject(sim, g, err.msg[0] ? err.msg : np_strerror(rc));
                return;
            }
        } else {
            np_sim_plan_set_mem_mode(plan, NP_SIM_MEM_STRIPED);
        }
    }
    rc = apply_masks(sim, g, plan);
    if (!rc)
        rc = apply_node_affinity(sim, g, plan);
    if (rc) {
        reject(sim, g, rc == -EINVAL ? "a hard affinity names no CPU of the host"
                                     : "out of memory for its masks");
        return;
    }

    g->mem_mode = plan->mode;
    if (g->mem_mode == NP_SIM_MEM_PLAN) {
        bool any = false;
        for (size_t k = 0; k < sim->nr_nodes; k++)
            any |= plan->node_bytes[k] != 0;
        if (!any)
            g->mem_mode = NP_SIM_MEM_STRIPED;
    }
    g->max_pages = g->spec.maxmem_bytes / pb;
    if (g->max_pages < pages)
        g->max_pages = pages;
    if (g->mem_mode == NP_SIM_MEM_FIRST_TOUCH) {
        uint64_t left = pages;
        for (uint32_t i = 0; i < g->nr_vcpus; i++) {
            uint64_t ws = sim->vcpus[g->first_vcpu + i].load.working_set_bytes / pb;
            left -= ws < left ? ws : left;
        }
        g->pending_pages = pages;
        g->boot_pages = left;
        uint64_t free_total = 0;
        for (size_t k = 0; k < sim->nr_nodes; k++)
            free_total += sim_node_free_pages(sim, (uint32_t)k);
        if (free_total < pages) {
            reject(sim, g, "the host has not enough free memory");
            return;
        }
    } else {
        uint64_t got = g->mem_mode == NP_SIM_MEM_PLAN ? alloc_planned(sim, g, plan, pages)
                                                      : sim_mem_alloc_striped(sim, g, g->node_aff, pages);
        if (got < pages) {
            reject(sim, g, "the host has not enough free memory");
            return;
        }
    }
    g->status = NP_SIM_GUEST_RUNNING;
    g->admitted_ns = sim->now_ns;
    start_vcpus(sim, g, plan);
}

void sim_guest_timer(np_sim *sim, uint32_t gidx)
{
    sim_guest *g = &sim->guests[gidx];

    if (g->status == NP_SIM_GUEST_PENDING && g->start_ns <= sim->now_ns)
        admit(sim, gidx);
    while (g->status != NP_SIM_GUEST_PENDING && g->next_balloon < g->nr_balloon &&
           g->balloon[g->next_balloon].at_ns <= sim->now_ns) {
        if (g->status == NP_SIM_GUEST_RUNNING)
            sim_mem_balloon(sim, g, g->balloon[g->next_balloon].target_bytes);
        g->next_balloon++;
    }
    if (g->status == NP_SIM_GUEST_RUNNING && g->depart_ns <= sim->now_ns)
        depart(sim, g);
    arm_guest(sim, g);
}
