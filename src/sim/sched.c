/*
 * sim/sched.c - the credit scheduler model (see sched.h for what it does
 * and why).
 *
 * Hyper-threads: a core whose two threads both run vCPUs does 1 + y cores
 * of work (y, the calibration's SMT yield, the figure placement counts a
 * thread with), so each runs at (1 + y) / 2 while its sibling is busy.
 * Like credit1's _csched_cpu_pick, an idle CPU on an idle core is
 * preferred to one whose sibling is busy.
 *
 * Differences from Xen's credit1, all deliberate simplifications:
 *   - no socket-aware choice among idle CPUs (an idle CPU is picked by
 *     cycling from the current one, which stays within the node first
 *     because CPUs are numbered node by node);
 *   - no caps, no yield, no rate limiting, no cache-hot migration delay
 *     (Xen's default delay is 0);
 *   - the accounting visits active guests in a fixed order instead of
 *     Xen's lazily reordered list.
 * Speed: stealing skips nodes that have no queued vCPU able to leave them
 * (per-node counters and bit sets), which Xen finds by looking; the
 * outcome is the same, the cost is not O(pCPUs) per idle moment.
 */
#include "sim/sched.h"

#include <errno.h>

#include "model/calibration.h"
#include "sim/bits.h"
#include "sim/mask.h"
#include "sim/memory.h"
#include "sim/workload.h"

int sim_sched_init(np_sim *sim)
{
    for (uint32_t c = 0; c < sim->nr_cpus; c++) {
        sim_pcpu *p = &sim->pcpus[c];
        p->curr = SIM_NONE;
        p->rq_head = p->rq_tail = SIM_NONE;
        p->head_pri = SIM_PRI_IDLE;
        p->resched_at_ns = UINT64_MAX;
        np_bits_set(sim->idlers, c);
        np_bits_set(sim->idle_cores, c);
    }
    sim->nr_idle = (uint32_t)sim->nr_cpus;
    return 0;
}

/* ---- bookkeeping of queued vCPUs -------------------------------------------- */

/* A queued vCPU can be stolen by another node when its hard affinity is
 * not confined to the node it waits on; in the soft step, only by a node
 * in its soft affinity. Counts of such vCPUs per node (split by whether
 * they are UNDER/BOOST, "hi"), and bit sets of the nodes where a count is
 * non-zero, let a stealer skip nodes that cannot give it anything. A soft
 * affinity of one node H (the usual case) is indexed by H, so a soft-step
 * stealer on H visits only the nodes where H's vCPUs wait. */
static inline void count_one(uint64_t *bits, uint32_t *count, uint32_t node, int delta)
{
    *count = (uint32_t)((int64_t)*count + delta);
    if (*count)
        np_bits_set(bits, node);
    else
        np_bits_clear(bits, node);
}

static void count_queued(np_sim *sim, const sim_vcpu *v, uint32_t cpu, int delta)
{
    uint32_t node = sim->pcpus[cpu].node;
    sim_node *n = &sim->nodes[node];
    bool hi = v->pri >= SIM_PRI_UNDER;

    if (hi)
        n->queued_hi = (uint32_t)((int64_t)n->queued_hi + delta);
    if (v->hard_node == node)
        return; /* pinned to this node: nobody elsewhere may take it */
    sim->mobile_any_total = (uint32_t)((int64_t)sim->mobile_any_total + delta);
    count_one(sim->nodes_mobile_any, &n->mobile_any, node, delta);
    if (hi)
        count_one(sim->nodes_mobile_hi, &n->mobile_hi, node, delta);
    if (v->soft_eff == SIM_NONE)
        return;
    uint32_t home = v->soft_node;
    if (home == SIM_NONE) {
        count_one(sim->nodes_soft_any, &n->soft_any, node, delta);
        if (hi)
            count_one(sim->nodes_soft_hi, &n->soft_hi, node, delta);
    } else if (home != node) {
        size_t cell = (size_t)home * sim->nr_nodes + node;
        uint64_t *row_any = &sim->exile_any_bits[(size_t)home * sim->node_words];
        uint64_t *row_hi = &sim->exile_hi_bits[(size_t)home * sim->node_words];
        count_one(row_any, &sim->exile_any[cell], node, delta);
        if (hi)
            count_one(row_hi, &sim->exile_hi[cell], node, delta);
    }
}

static inline void update_head_pri(np_sim *sim, sim_pcpu *p)
{
    p->head_pri = p->rq_head != SIM_NONE ? sim->vcpus[p->rq_head].pri : SIM_PRI_IDLE;
}

static void set_pri(np_sim *sim, sim_vcpu *v, int pri)
{
    if (v->pri == pri)
        return;
    if (v->state == SIM_V_QUEUED) {
        count_queued(sim, v, v->cpu, -1);
        v->pri = (int8_t)pri;
        count_queued(sim, v, v->cpu, +1);
        update_head_pri(sim, &sim->pcpus[v->cpu]);
    } else {
        v->pri = (int8_t)pri;
    }
}

/* Before the first vCPU of lower priority: FIFO within a priority. */
static void runq_insert(np_sim *sim, uint32_t cpu, uint32_t vid)
{
    sim_pcpu *p = &sim->pcpus[cpu];
    sim_vcpu *v = &sim->vcpus[vid];
    uint32_t it = p->rq_head;

    while (it != SIM_NONE && sim->vcpus[it].pri >= v->pri)
        it = sim->vcpus[it].rq_next;
    v->rq_next = it;
    v->rq_prev = it == SIM_NONE ? p->rq_tail : sim->vcpus[it].rq_prev;
    if (v->rq_prev == SIM_NONE)
        p->rq_head = vid;
    else
        sim->vcpus[v->rq_prev].rq_next = vid;
    if (it == SIM_NONE)
        p->rq_tail = vid;
    else
        sim->vcpus[it].rq_prev = vid;

    v->cpu = cpu;
    v->state = SIM_V_QUEUED;
    if (p->nr_queued++ == 0)
        np_bits_set(sim->queued_cpus, cpu);
    count_queued(sim, v, cpu, +1);
    update_head_pri(sim, p);
}

static void runq_remove(np_sim *sim, uint32_t vid)
{
    sim_vcpu *v = &sim->vcpus[vid];
    sim_pcpu *p = &sim->pcpus[v->cpu];

    if (v->rq_prev == SIM_NONE)
        p->rq_head = v->rq_next;
    else
        sim->vcpus[v->rq_prev].rq_next = v->rq_next;
    if (v->rq_next == SIM_NONE)
        p->rq_tail = v->rq_prev;
    else
        sim->vcpus[v->rq_next].rq_prev = v->rq_prev;
    v->rq_prev = v->rq_next = SIM_NONE;
    count_queued(sim, v, v->cpu, -1);
    if (--p->nr_queued == 0)
        np_bits_clear(sim->queued_cpus, v->cpu);
    update_head_pri(sim, p);
    v->state = SIM_V_BLOCKED; /* the caller sets the real state */
}

/* After an accounting pass changed priorities: UNDER (and BOOST) vCPUs
 * move ahead of OVER ones, keeping their order (Xen's csched_runq_sort). */
static void runq_sort(np_sim *sim, uint32_t cpu)
{
    sim_pcpu *p = &sim->pcpus[cpu];
    uint32_t hi_head = SIM_NONE, hi_tail = SIM_NONE, lo_head = SIM_NONE, lo_tail = SIM_NONE;

    if (p->runq_sort_last == sim->runq_sort)
        return;
    p->runq_sort_last = sim->runq_sort;
    for (uint32_t it = p->rq_head; it != SIM_NONE;) {
        sim_vcpu *v = &sim->vcpus[it];
        uint32_t next = v->rq_next;
        uint32_t *head = v->pri >= SIM_PRI_UNDER ? &hi_head : &lo_head;
        uint32_t *tail = v->pri >= SIM_PRI_UNDER ? &hi_tail : &lo_tail;
        v->rq_prev = *tail;
        v->rq_next = SIM_NONE;
        if (*tail == SIM_NONE)
            *head = it;
        else
            sim->vcpus[*tail].rq_next = it;
        *tail = it;
        it = next;
    }
    if (hi_head == SIM_NONE) {
        p->rq_head = lo_head;
        p->rq_tail = lo_tail;
    } else {
        p->rq_head = hi_head;
        p->rq_tail = lo_tail != SIM_NONE ? lo_tail : hi_tail;
        sim->vcpus[hi_tail].rq_next = lo_head;
        if (lo_head != SIM_NONE)
            sim->vcpus[lo_head].rq_prev = hi_tail;
    }
    update_head_pri(sim, p);
}

/* ---- idle pCPUs and their timers -------------------------------------------- */

static inline void set_idle(np_sim *sim, uint32_t cpu)
{
    if (!np_bits_test(sim->idlers, cpu)) {
        np_bits_set(sim->idlers, cpu);
        sim->nr_idle++;
        uint32_t sib = sim->pcpus[cpu].sibling;
        if (sib == SIM_NONE) {
            np_bits_set(sim->idle_cores, cpu);
        } else if (np_bits_test(sim->idlers, sib)) {
            np_bits_set(sim->idle_cores, cpu);
            np_bits_set(sim->idle_cores, sib);
        }
    }
}

static inline void clear_idle(np_sim *sim, uint32_t cpu)
{
    if (np_bits_test(sim->idlers, cpu)) {
        np_bits_clear(sim->idlers, cpu);
        sim->nr_idle--;
        np_bits_clear(sim->idle_cores, cpu);
        uint32_t sib = sim->pcpus[cpu].sibling;
        if (sib != SIM_NONE)
            np_bits_clear(sim->idle_cores, sib);
    }
}

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Arm the pCPU's one timer for the earliest thing it waits for. */
static void arm(np_sim *sim, uint32_t cpu)
{
    sim_pcpu *p = &sim->pcpus[cpu];
    uint64_t t = p->need_resched ? p->resched_at_ns : UINT64_MAX;

    if (p->curr != SIM_NONE) {
        const sim_vcpu *v = &sim->vcpus[p->curr];
        uint64_t fin = sim_vcpu_time_to_finish(v);
        t = min_u64(t, min_u64(v->slice_end_ns, p->next_tick_ns));
        if (fin != UINT64_MAX)
            t = min_u64(t, v->run_start_ns + fin);
    }
    uint32_t h = sim_pcpu_handle(sim, cpu);
    if (t == UINT64_MAX)
        np_timerq_cancel(sim->tq, h);
    else
        np_timerq_set(sim->tq, h, t > sim->now_ns ? t : sim->now_ns);
}

/* Ask a pCPU to run the scheduler soon (an IPI). Tickling an idle pCPU
 * takes it off the idlers at once, as Xen does, so that the next wake
 * tickles another one. */
static void resched(np_sim *sim, uint32_t cpu)
{
    sim_pcpu *p = &sim->pcpus[cpu];
    uint64_t at = sim->now_ns + sim->cfg.wake_latency_ns;

    clear_idle(sim, cpu);
    if (p->need_resched && p->resched_at_ns <= at)
        return;
    p->need_resched = true;
    p->resched_at_ns = at;
    arm(sim, cpu);
}

/* ---- choosing CPUs --------------------------------------------------------------- */

/* True when cpu's core has no other thread running something other than
 * vid (no sibling counts as idle). */
static inline bool sibling_idle(const np_sim *sim, uint32_t cpu, uint32_t vid)
{
    uint32_t sib = sim->pcpus[cpu].sibling;
    if (sib == SIM_NONE)
        return true;
    uint32_t other = sim->pcpus[sib].curr;
    return other == SIM_NONE || other == vid;
}

/* Xen's _csched_cpu_pick, SMT refinement simplified (an idle CPU on an
 * idle core beats one whose sibling runs): for the soft step
 * (when the vCPU has a useful soft affinity) and then the hard step, take
 * the current CPU if it is in the mask, else the next one; prefer an idle
 * CPU of the mask; stop at the first step that found an idle CPU. A
 * running vCPU's own CPU counts as idle when nothing waits there. */
static uint32_t cpu_pick(np_sim *sim, uint32_t vid, bool running)
{
    sim_vcpu *v = &sim->vcpus[vid];
    uint32_t n = (uint32_t)sim->nr_cpus;
    uint32_t cur = v->cpu;
    uint32_t cpu = SIM_NONE;
    bool cur_idle;

    if (cur == SIM_NONE) {
        cur = sim->rr_cpu; /* first placement: spread like vCPU creation does */
        sim->rr_cpu = (sim->rr_cpu + 1) % n;
    }
    cur_idle = running && sim->pcpus[cur].curr == vid && sim->pcpus[cur].nr_queued == 0;

    for (int step = 0; step < 2; step++) {
        uint32_t mid = step == 0 ? v->soft_eff : v->hard;
        if (mid == SIM_NONE)
            continue;
        const uint64_t *mask = sim->masks[mid].cpus;
        cpu = np_bits_test(mask, cur) ? cur : (uint32_t)np_bits_cycle_and(mask, NULL, 0, n, cur);
        bool idle = np_bits_test(sim->idlers, cpu) || (cpu == cur && cur_idle);
        if (sim->nr_idle && !(idle && sibling_idle(sim, cpu, vid))) {
            /* an idle core first, then any idle thread */
            uint32_t c2 = (uint32_t)np_bits_cycle_and(mask, sim->idle_cores, 0, n, cpu);
            if (c2 >= n && !idle)
                c2 = (uint32_t)np_bits_cycle_and(mask, sim->idlers, 0, n, cpu);
            if (c2 < n) {
                cpu = c2;
                idle = true;
            }
        }
        if (idle)
            break;
    }
    return cpu;
}

/* Xen's __runq_tickle: the vCPU just queued on v->cpu. */
static void tickle(np_sim *sim, uint32_t vid)
{
    sim_vcpu *v = &sim->vcpus[vid];
    uint32_t cpu = v->cpu;
    sim_pcpu *p = &sim->pcpus[cpu];
    uint32_t n = (uint32_t)sim->nr_cpus;

    if (p->curr == SIM_NONE) {
        resched(sim, cpu);
        return;
    }
    const sim_vcpu *cur = &sim->vcpus[p->curr];
    if (!sim->nr_idle) {
        if (v->pri > cur->pri)
            resched(sim, cpu);
        return;
    }
    for (int step = 0; step < 2; step++) {
        uint32_t mid = step == 0 ? v->soft_eff : v->hard;
        if (mid == SIM_NONE)
            continue;
        uint32_t idl = (uint32_t)np_bits_cycle_and(sim->masks[mid].cpus, sim->idle_cores, 0, n,
                                                   sim->last_tickle + 1);
        if (idl >= n)
            idl = (uint32_t)np_bits_cycle_and(sim->masks[mid].cpus, sim->idlers, 0, n,
                                              sim->last_tickle + 1);
        if (idl >= n) {
            if (step == 0)
                continue; /* no idle preferred CPU: look at the hard affinity */
            if (v->pri > cur->pri) {
                /* Preempt cur; if it could run on an idle CPU, send it there. */
                if (np_bits_intersects(sim->masks[cur->hard].cpus, sim->idlers, sim->cpu_words))
                    p->migrate_curr = true;
                resched(sim, cpu);
            }
            return;
        }
        sim->last_tickle = idl;
        resched(sim, idl);
        return;
    }
}

/* ---- stealing --------------------------------------------------------------------- */

static uint32_t steal_runq(np_sim *sim, uint32_t peer, uint32_t cpu, int pri, int step)
{
    if (sim->pcpus[peer].head_pri <= pri)
        return SIM_NONE; /* checked without touching the queue's vCPUs */
    for (uint32_t it = sim->pcpus[peer].rq_head; it != SIM_NONE; it = sim->vcpus[it].rq_next) {
        const sim_vcpu *v = &sim->vcpus[it];
        if (v->pri <= pri)
            break; /* the rest is no more urgent than what we have */
        uint32_t mid = step == 0 ? v->soft_eff : v->hard;
        if (mid == SIM_NONE)
            continue; /* no useful soft affinity: wait for the hard step */
        if (np_bits_test(sim->masks[mid].cpus, cpu)) {
            runq_remove(sim, it);
            return it;
        }
    }
    return SIM_NONE;
}

/* The pCPUs of one node with queued work, from the node's balance bias
 * on, as Xen's csched_load_balance walks them. */
static uint32_t steal_node(np_sim *sim, uint32_t cpu, uint32_t node, int pri, int step)
{
    sim_node *n = &sim->nodes[node];
    size_t lo = n->first_cpu, hi = lo + n->nr_cpus;
    size_t start = n->balance_bias >= lo && n->balance_bias < hi ? n->balance_bias : lo;

    for (int pass = 0; pass < 2; pass++) {
        size_t from = pass == 0 ? start : lo, to = pass == 0 ? hi : start;
        for (size_t c = np_bits_next_and(sim->queued_cpus, NULL, from, to); c < to;
             c = np_bits_next_and(sim->queued_cpus, NULL, c + 1, to)) {
            if (c == cpu || sim->pcpus[c].curr == SIM_NONE)
                continue; /* an idle peer is about to run its queue itself */
            uint32_t got = steal_runq(sim, (uint32_t)c, cpu, pri, step);
            if (got != SIM_NONE) {
                n->balance_bias = (uint32_t)c;
                return got;
            }
        }
    }
    return SIM_NONE;
}

/* Look for work more urgent than `pri`: own node first, then the other
 * nodes in increasing id order from ours; soft-affine work first. */
static uint32_t load_balance(np_sim *sim, uint32_t cpu, int pri)
{
    uint32_t own = sim->pcpus[cpu].node;
    const sim_node *on = &sim->nodes[own];
    bool hi = pri >= SIM_PRI_OVER; /* only UNDER/BOOST work beats an OVER candidate */
    size_t nn = sim->nr_nodes;
    bool own_work = hi ? on->queued_hi > 0
                       : np_bits_next_and(sim->queued_cpus, NULL, on->first_cpu,
                                          on->first_cpu + on->nr_cpus) < on->first_cpu + on->nr_cpus;

    if (!own_work && !sim->mobile_any_total)
        return SIM_NONE;
    for (int step = 0; step < 2; step++) {
        uint32_t got = own_work ? steal_node(sim, cpu, own, pri, step) : SIM_NONE;
        if (got != SIM_NONE)
            return got;
        /* Soft step: nodes holding vCPUs that prefer ours, or several
         * nodes; hard step: nodes holding vCPUs free to leave. */
        const uint64_t *a, *b;
        if (step == 0) {
            const uint64_t *rows = hi ? sim->exile_hi_bits : sim->exile_any_bits;
            a = &rows[(size_t)own * sim->node_words];
            b = hi ? sim->nodes_soft_hi : sim->nodes_soft_any;
        } else {
            a = b = hi ? sim->nodes_mobile_hi : sim->nodes_mobile_any;
        }
        for (int pass = 0; pass < 2; pass++) {
            size_t from = pass == 0 ? own + 1 : 0, to = pass == 0 ? nn : own;
            for (size_t k = np_bits_next_or(a, b, from, to); k < to;
                 k = np_bits_next_or(a, b, k + 1, to)) {
                got = steal_node(sim, cpu, (uint32_t)k, pri, step);
                if (got != SIM_NONE)
                    return got;
            }
        }
    }
    return SIM_NONE;
}

/* ---- credit accounting -------------------------------------------------------------- */

static void acct_start(np_sim *sim, uint32_t vid)
{
    sim_vcpu *v = &sim->vcpus[vid];
    sim_guest *g = &sim->guests[v->guest];

    v->flags |= SIM_VF_ACTIVE;
    v->active_pos = (uint32_t)sim->nr_active;
    sim->active_vcpus[sim->nr_active++] = vid;
    sim->weight_total += g->weight;
    if (g->n_active++ == 0) {
        g->active_pos = (uint32_t)sim->nr_active_guests;
        sim->active_guests[sim->nr_active_guests++] = v->guest;
    }
}

static void acct_stop(np_sim *sim, uint32_t vid)
{
    sim_vcpu *v = &sim->vcpus[vid];
    sim_guest *g = &sim->guests[v->guest];
    uint32_t last = sim->active_vcpus[--sim->nr_active];

    sim->active_vcpus[v->active_pos] = last;
    sim->vcpus[last].active_pos = v->active_pos;
    v->flags &= (uint8_t)~SIM_VF_ACTIVE;
    sim->weight_total -= g->weight;
    if (--g->n_active == 0) {
        uint32_t lg = sim->active_guests[--sim->nr_active_guests];
        sim->active_guests[g->active_pos] = lg;
        sim->guests[lg].active_pos = g->active_pos;
    }
}

static inline int64_t ceil_div(__int128 a, __int128 b)
{
    return (int64_t)((a + b - 1) / b);
}

/* Xen's csched_acct, in ns of credit (1 Xen credit = 100 us): the period's
 * credit, ncpus x tslice, goes to active guests by weight x active vCPUs,
 * capped at what their active vCPUs can burn in a period; what a capped
 * guest does not take goes to the guests after it. */
void sim_sched_acct(np_sim *sim)
{
    int64_t tslice = (int64_t)sim->cfg.tslice_ns;
    __int128 credit_total = (__int128)sim->nr_cpus * tslice;
    __int128 weight_total = sim->weight_total;
    __int128 weight_left = weight_total;
    int64_t balance = 0;

    if (sim->credit_balance < 0)
        credit_total -= sim->credit_balance;
    if (!weight_total) {
        sim->credit_balance = 0;
        goto out;
    }
    for (size_t i = 0; i < sim->nr_active_guests; i++) {
        sim_guest *g = &sim->guests[sim->active_guests[i]];
        __int128 wn = (__int128)g->weight * g->n_active;
        __int128 peak = (__int128)g->n_active * tslice;
        weight_left -= wn;
        if (sim->credit_balance < 0)
            peak += ceil_div(-(__int128)sim->credit_balance * wn, weight_total);
        __int128 fair = ceil_div(credit_total * wn, weight_total);
        if (fair >= peak) {
            if (weight_left > 0)
                credit_total += ceil_div((fair - peak) * weight_total, weight_left);
            fair = peak;
        }
        g->acct_fair_ns = ceil_div(fair, g->n_active);
    }
    /* Backwards: acct_stop() moves the last entry into the freed slot. */
    for (size_t i = sim->nr_active; i-- > 0;) {
        uint32_t vid = sim->active_vcpus[i];
        sim_vcpu *v = &sim->vcpus[vid];
        v->credit_ns += sim->guests[v->guest].acct_fair_ns;
        if (v->credit_ns < 0) {
            set_pri(sim, v, SIM_PRI_OVER);
            if (v->credit_ns < -tslice)
                v->credit_ns = -tslice;
        } else {
            set_pri(sim, v, SIM_PRI_UNDER);
            if (v->credit_ns > tslice) {
                /* Full: stops earning; restarts a little ahead. */
                acct_stop(sim, vid);
                v->credit_ns /= 2;
            }
        }
        balance += v->credit_ns;
    }
    sim->credit_balance = balance;
    sim->runq_sort++;
out:
    np_timerq_set(sim->tq, SIM_T_ACCT, sim->now_ns + sim->cfg.tslice_ns);
}

/* ---- running vCPUs ------------------------------------------------------------------- */

/* cpu just started or stopped running a vCPU: its sibling's vCPU, if
 * any, now runs at another speed. Account what it did so far at the old
 * one, then re-arm its timer (its finish time moved). */
static void smt_settle(np_sim *sim, uint32_t cpu)
{
    uint32_t sib = sim->pcpus[cpu].sibling;
    if (sib == SIM_NONE || sim->pcpus[sib].curr == SIM_NONE)
        return;
    sim_pcpu *q = &sim->pcpus[sib];
    sim_vcpu *v = &sim->vcpus[q->curr];
    double speed = sim->pcpus[cpu].curr != SIM_NONE ? np_calib_smt_shared_speed() : 1.0;
    if (speed == v->smt_speed)
        return;
    uint64_t elapsed = sim->now_ns - v->run_start_ns;
    sim_vcpu_account(sim, v, q->node, elapsed);
    q->busy_ns += elapsed;
    sim->nodes[q->node].busy_ns += elapsed;
    v->run_start_ns = sim->now_ns;
    v->smt_speed = speed;
    arm(sim, sib);
}

static void dispatch(np_sim *sim, uint32_t cpu, uint32_t vid, uint32_t prev)
{
    sim_pcpu *p = &sim->pcpus[cpu];
    sim_vcpu *v = &sim->vcpus[vid];
    uint32_t node = p->node;

    v->state = SIM_V_RUNNING;
    v->cpu = cpu;
    p->curr = vid;
    clear_idle(sim, cpu);
    v->wait_ns += sim->now_ns - v->queued_since_ns;
    if (v->last_run_cpu != SIM_NONE && v->last_run_cpu != cpu) {
        v->migrations++;
        sim->tot.vcpu_migrations++;
        if (sim->pcpus[v->last_run_cpu].node != node) {
            v->node_migrations++;
            sim->tot.node_migrations++;
        }
    }
    v->last_run_cpu = cpu;
    if (vid != prev) {
        /* A context switch loads the vCPU's state from wherever the
         * hypervisor allocated it. */
        double lat = sim_lat(sim, node, v->internal_node) * sim->cfg.local_latency_ns;
        v->stall_ns += sim->cfg.ctxsw_base_ns + (uint64_t)(sim->cfg.ctxsw_misses * lat);
        v->switches++;
        if (v->internal_node != node)
            v->switches_remote++;
    }
    if (!(v->flags & SIM_VF_TOUCHED))
        sim_mem_first_touch(sim, v, node);
    sim_vcpu_refresh_rate(sim, v, node);
    v->smt_speed = sibling_idle(sim, cpu, vid) ? 1.0 : np_calib_smt_shared_speed();
    v->run_start_ns = sim->now_ns;
    v->slice_end_ns = sim->now_ns + sim->cfg.tslice_ns;
    if (p->next_tick_ns <= sim->now_ns)
        p->next_tick_ns = sim->now_ns + sim->cfg.tick_ns - sim->now_ns % sim->cfg.tick_ns;
    arm(sim, cpu);
}

static void do_schedule(np_sim *sim, uint32_t cpu)
{
    sim_pcpu *p = &sim->pcpus[cpu];
    uint32_t prev = p->curr;
    uint32_t snext;
    bool was_busy = prev != SIM_NONE;

    p->need_resched = false;
    p->resched_at_ns = UINT64_MAX;
    if (prev != SIM_NONE) {
        sim_vcpu *v = &sim->vcpus[prev];
        p->curr = SIM_NONE;
        if (v->state == SIM_V_RUNNING) {
            v->queued_since_ns = sim->now_ns;
            if (p->migrate_curr) {
                /* Kicked away or re-picked at a tick: queue it where
                 * cpu_pick says and let that CPU know. */
                uint32_t to = cpu_pick(sim, prev, false);
                runq_insert(sim, to, prev);
                if (to != cpu)
                    tickle(sim, prev);
            } else {
                runq_insert(sim, cpu, prev);
            }
        }
    }
    p->migrate_curr = false;
    runq_sort(sim, cpu);

    snext = p->rq_head;
    if (snext != SIM_NONE && sim->vcpus[snext].pri > SIM_PRI_OVER) {
        runq_remove(sim, snext);
    } else {
        int pri = snext != SIM_NONE ? sim->vcpus[snext].pri : SIM_PRI_IDLE;
        uint32_t stolen = load_balance(sim, cpu, pri);
        if (stolen != SIM_NONE)
            snext = stolen;
        else if (snext != SIM_NONE)
            runq_remove(sim, snext);
    }
    if (snext == SIM_NONE) {
        set_idle(sim, cpu);
        arm(sim, cpu);
        if (was_busy)
            smt_settle(sim, cpu);
        return;
    }
    dispatch(sim, cpu, snext, prev);
    if (!was_busy)
        smt_settle(sim, cpu);
}

static void block(np_sim *sim, uint32_t vid)
{
    sim_vcpu *v = &sim->vcpus[vid];
    if (v->flags & SIM_VF_GONE) {
        if (v->flags & SIM_VF_ACTIVE)
            acct_stop(sim, vid);
        v->state = SIM_V_OFFLINE; /* its guest departed: no more wakes */
        return;
    }
    v->state = SIM_V_BLOCKED;
    np_timerq_set(sim->tq, sim_vcpu_handle(sim, vid), sim->now_ns + sim_vcpu_think_ns(v));
}

/* Xen's csched_tick + csched_unit_acct for the running vCPU. */
static void tick(np_sim *sim, uint32_t cpu)
{
    sim_pcpu *p = &sim->pcpus[cpu];
    uint32_t vid = p->curr;
    sim_vcpu *v = &sim->vcpus[vid];

    p->next_tick_ns += sim->cfg.tick_ns;
    if (p->next_tick_ns <= sim->now_ns)
        p->next_tick_ns = sim->now_ns + sim->cfg.tick_ns - sim->now_ns % sim->cfg.tick_ns;
    if (v->pri == SIM_PRI_BOOST)
        v->pri = SIM_PRI_UNDER;
    if (!(v->flags & SIM_VF_ACTIVE)) {
        acct_start(sim, vid);
    } else if (cpu_pick(sim, vid, true) != cpu) {
        p->migrate_curr = true;
    }
    runq_sort(sim, cpu);
}

void sim_sched_pcpu_timer(np_sim *sim, uint32_t cpu)
{
    sim_pcpu *p = &sim->pcpus[cpu];
    bool sched = p->need_resched && sim->now_ns >= p->resched_at_ns;

    if (p->curr != SIM_NONE) {
        uint32_t vid = p->curr;
        sim_vcpu *v = &sim->vcpus[vid];
        uint64_t elapsed = sim->now_ns - v->run_start_ns;
        sim_vcpu_account(sim, v, p->node, elapsed);
        p->busy_ns += elapsed;
        sim->nodes[p->node].busy_ns += elapsed;
        v->run_start_ns = sim->now_ns;
        if (v->remaining <= SIM_WORK_EPS) {
            block(sim, vid);
            sched = true;
        } else {
            if (sim->now_ns >= p->next_tick_ns)
                tick(sim, cpu);
            if (sim->now_ns >= v->slice_end_ns || p->migrate_curr)
                sched = true;
            if (!sched)
                sim_vcpu_refresh_rate(sim, v, p->node);
        }
    }
    if (sched)
        do_schedule(sim, cpu);
    else
        arm(sim, cpu);
}

void sim_sched_vcpu_wake(np_sim *sim, uint32_t vid)
{
    sim_vcpu *v = &sim->vcpus[vid];
    uint32_t cpu = v->cpu;

    if (v->state != SIM_V_BLOCKED)
        return;
    sim_vcpu_new_burst(v);
    if (!(v->flags & SIM_VF_MIGRATING) && v->pri == SIM_PRI_UNDER)
        v->pri = SIM_PRI_BOOST;
    v->flags &= (uint8_t)~SIM_VF_MIGRATING;
    if (cpu == SIM_NONE || !np_bits_test(sim->masks[v->hard].cpus, cpu))
        cpu = cpu_pick(sim, vid, false);
    v->queued_since_ns = sim->now_ns;
    runq_insert(sim, cpu, vid);
    tickle(sim, vid);
}

int sim_sched_init_vcpu_masks(np_sim *sim, sim_vcpu *v, uint32_t hard, uint32_t soft)
{
    uint32_t eff = SIM_NONE;
    int rc;

    if (soft != SIM_NONE) {
        /* Xen's has_soft_affinity(): the soft step is used only when soft
         * & hard is non-empty and smaller than hard. */
        rc = sim_mask_and(sim, soft, hard, &eff);
        if (rc)
            return rc;
        if (eff == hard)
            eff = SIM_NONE;
    }
    v->hard = hard;
    v->soft = soft;
    v->soft_eff = eff;
    v->hard_node = sim->masks[hard].single_node;
    v->soft_node = eff != SIM_NONE ? sim->masks[eff].single_node : SIM_NONE;
    return 0;
}

int sim_sched_set_affinity(np_sim *sim, uint32_t vid, uint32_t hard, uint32_t soft)
{
    sim_vcpu *v = &sim->vcpus[vid];
    int rc;

    if (v->state == SIM_V_QUEUED) {
        /* Re-queue so that the stealing counters see the new mask. */
        uint32_t cpu = v->cpu;
        runq_remove(sim, vid);
        rc = sim_sched_init_vcpu_masks(sim, v, hard, soft);
        if (!np_bits_test(sim->masks[v->hard].cpus, cpu))
            cpu = cpu_pick(sim, vid, false);
        runq_insert(sim, cpu, vid);
        tickle(sim, vid);
        return rc;
    }
    rc = sim_sched_init_vcpu_masks(sim, v, hard, soft);
    if (rc)
        return rc;
    if (v->state == SIM_V_RUNNING && !np_bits_test(sim->masks[v->hard].cpus, v->cpu)) {
        sim->pcpus[v->cpu].migrate_curr = true;
        resched(sim, v->cpu);
    }
    return 0;
}

void sim_sched_settle(np_sim *sim)
{
    for (uint32_t cpu = 0; cpu < sim->nr_cpus; cpu++) {
        sim_pcpu *p = &sim->pcpus[cpu];
        if (p->curr == SIM_NONE)
            continue;
        sim_vcpu *v = &sim->vcpus[p->curr];
        uint64_t elapsed = sim->now_ns - v->run_start_ns;
        sim_vcpu_account(sim, v, p->node, elapsed);
        p->busy_ns += elapsed;
        sim->nodes[p->node].busy_ns += elapsed;
        v->run_start_ns = sim->now_ns;
    }
}
