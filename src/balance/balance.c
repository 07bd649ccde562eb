/*
 * balance/balance.c - np_balance(): one round of the runtime balancer.
 *
 * Sense has happened (the caller's snapshot); this decides. Four stages:
 *   1. locality: a managed guest whose vCPUs mostly run away from its
 *      memory (expected local share below cfg->locality_target) either has
 *      its vCPUs steered to its memory's node, when that node has CPU room
 *      (no bytes to copy: the cheap fix), or gets a new home where its vCPUs
 *      run, memory to follow;
 *   2. load: a node whose CPU demand exceeds its capacity by the threshold
 *      gives away the guest whose move gains most, preferring one that has
 *      memory on the destination already (ESXi's rule);
 *   3. hysteresis: a guest moved within the hold-off, or still migrating,
 *      is not moved; a move must gain more than the threshold;
 *   4. budget: memory still off a guest's home moves in chunks, at most
 *      budget x elapsed time per round; the rest waits for the next round.
 * Guests opted out (no_autoplace) and those whose affinity group rule a
 * move would break are left where they are. A hard-pinned guest (spec, or
 * a hard mask narrower than the host: pinned by someone else) never has
 * its affinity touched and never moves for load; when its memory is far
 * from the node its vCPUs run on (stage 1's rule, confirm_rounds in a row)
 * that node becomes its home and its memory follows within the budget -
 * "memory follows threads someone else pinned". Work per round:
 * O(guests x (vCPUs + nodes)).
 */
#include "balance/balance_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance/actions_int.h"

/* A vCPU's weight is its demand plus this, so a guest idle at the moment
 * still has a defined home (its weight never decides a move: locality and
 * load gains are measured on real demand). */
#define WEIGHT_FLOOR 1e-3

#define NONE SIZE_MAX

/* What the round needs of one guest, computed once. */
typedef struct gview {
    size_t gidx;
    const np_guest_spec *spec;
    np_balance_entry *entry;
    bool managed;       /* may be moved (affinity and memory) */
    bool pinned;        /* hard-pinned, not opted out: only its memory follows */
    bool memory_only;   /* affinity NONE or pinned: memory moves, no vCPU affinity */
    bool wide;          /* its affinity spans several nodes: placed wide */
    double demand;      /* sum of its vCPUs' demand */
    size_t pref_node;   /* where its affinity sends it (NONE: unknown) */
    double pref_demand; /* demand attributed to pref_node */
    size_t run_node;    /* where its vCPUs ran most */
    size_t mem_node;    /* where most of its memory is */
    uint64_t mem_total;
    double locality;   /* expected local share of accesses */
    double run_on_mem; /* weight share running on mem_node */
} gview;

typedef struct round_ctx {
    const np_host_state *st;
    const np_topology *topo;
    const np_balance_config *cfg;
    np_balance_state *state;
    uint64_t now_ns;
    size_t nn;
    np_node_load *loads;
    gview *g;
    size_t ng;
    double *scratch_run, *scratch_pref; /* nn each */
    np_balance_actions *acts;
} round_ctx;

static size_t cpu_node(const round_ctx *c, int32_t cpu_os_id)
{
    size_t idx;
    if (cpu_os_id < 0 || np_topology_cpu_idx(c->topo, (uint32_t)cpu_os_id, &idx))
        return NONE;
    return np_topology_cpu(c->topo, idx)->node_idx;
}

/* Spreads w over the nodes of the CPUs in mask, in proportion to the CPUs
 * named on each. Returns false when the mask names no host CPU. */
static bool spread_mask(const round_ctx *c, const np_bitmap *mask, double w, double *per_node)
{
    unsigned n = 0;
    for (int id = np_bitmap_next(mask, 0); id >= 0; id = np_bitmap_next(mask, (unsigned)id + 1))
        n += cpu_node(c, id) != NONE;
    if (!n)
        return false;
    for (int id = np_bitmap_next(mask, 0); id >= 0; id = np_bitmap_next(mask, (unsigned)id + 1)) {
        size_t k = cpu_node(c, id);
        if (k != NONE)
            per_node[k] += w / n;
    }
    return true;
}

static size_t argmax_d(const double *v, size_t n)
{
    size_t best = NONE;
    for (size_t k = 0; k < n; k++)
        if (v[k] > 0 && (best == NONE || v[k] > v[best]))
            best = k; /* ties: lowest index */
    return best;
}

static int view_guest(round_ctx *c, size_t gi, gview *v)
{
    const np_host_state *st = c->st;
    uint32_t nr_cpus = (uint32_t)np_topology_nr_cpus(c->topo);
    double run_sum = 0;
    int rc;

    memset(v, 0, sizeof(*v));
    v->gidx = gi;
    v->spec = np_host_state_guest_spec(st, gi);
    rc = np_balance_state_entry(c->state, v->spec->name, &v->entry);
    if (rc)
        return rc;
    v->entry->seen = true;
    v->managed = !v->spec->no_autoplace && v->spec->affinity != NP_AFFINITY_HARD;
    v->pinned = !v->spec->no_autoplace && v->spec->affinity == NP_AFFINITY_HARD;
    v->memory_only = v->spec->affinity == NP_AFFINITY_NONE;
    for (size_t k = 0; k < c->nn; k++)
        c->scratch_run[k] = c->scratch_pref[k] = 0;
    for (uint32_t i = 0; i < v->spec->vcpus; i++) {
        const np_bitmap *hard = np_host_state_vcpu_hard(st, gi, i);
        const np_bitmap *soft = np_host_state_vcpu_soft(st, gi, i);
        double d = np_host_state_vcpu_demand(st, gi, i);
        double w = d + WEIGHT_FLOOR;
        /* Pinned by someone else (a hard mask narrower than the host). */
        if (hard && np_bitmap_count(hard) < nr_cpus && !v->spec->no_autoplace) {
            v->managed = false;
            v->pinned = true;
        }
        v->demand += d;
        /* Preference: soft inside hard (Xen's rule), else hard. */
        bool placed = false;
        if (soft && (!hard || np_bitmap_intersects(soft, hard)))
            placed = spread_mask(c, soft, d, c->scratch_pref);
        if (!placed && hard)
            placed = spread_mask(c, hard, d, c->scratch_pref);
        /* Where it runs: its soft affinity when it has one (the scheduler
         * keeps it there while it can; where it last ran is one sample, and
         * a vCPU that woke on an idle remote CPU for a moment would look
         * remote), else the CPU it last ran on (a vCPU free to run
         * anywhere: the only evidence), else its hard mask. */
        size_t k = cpu_node(c, np_host_state_vcpu_cpu(st, gi, i));
        bool ran = false;
        if (soft && (!hard || np_bitmap_intersects(soft, hard)))
            ran = spread_mask(c, soft, w, c->scratch_run);
        if (!ran && k != NONE) {
            c->scratch_run[k] += w;
            ran = true;
        }
        if (!ran && hard)
            spread_mask(c, hard, w, c->scratch_run);
    }
    for (size_t k = 0; k < c->nn; k++)
        run_sum += c->scratch_run[k];
    size_t pref_nodes = 0;
    for (size_t k = 0; k < c->nn; k++)
        pref_nodes += c->scratch_pref[k] > 0;
    v->wide = pref_nodes > 1;
    if (v->pinned)
        v->memory_only = true; /* its affinity is someone else's */
    v->run_node = argmax_d(c->scratch_run, c->nn);
    v->pref_node = argmax_d(c->scratch_pref, c->nn);
    if (v->pref_node == NONE)
        v->pref_node = v->run_node;
    v->pref_demand = v->pref_node != NONE ? c->scratch_pref[v->pref_node] : 0;
    uint64_t best_mem = 0;
    v->mem_node = NONE;
    double loc = 0;
    for (size_t k = 0; k < c->nn; k++) {
        uint64_t m = np_host_state_guest_mem_bytes(st, gi, k);
        v->mem_total += m;
        if (m > best_mem) {
            best_mem = m;
            v->mem_node = k;
        }
    }
    for (size_t k = 0; k < c->nn && v->mem_total && run_sum > 0; k++)
        loc += c->scratch_run[k] / run_sum *
               ((double)np_host_state_guest_mem_bytes(st, gi, k) / (double)v->mem_total);
    v->locality = run_sum > 0 && v->mem_total ? loc : 1.0;
    v->run_on_mem = v->mem_node != NONE && run_sum > 0 ? c->scratch_run[v->mem_node] / run_sum : 0;
    return 0;
}

/* ---- hysteresis and groups ------------------------------------------------------ */

static bool held_off(const round_ctx *c, const gview *v)
{
    const np_balance_guest_info *in = &v->entry->info;
    if (in->pending_bytes)
        return true; /* still moving: let the last decision finish */
    if (in->last_move_ns == NP_BALANCE_NEVER || c->now_ns < in->last_move_ns)
        return false;
    return c->now_ns - in->last_move_ns < c->cfg->hold_off_ns;
}

/* The node a guest counts on for its group: where it prefers to run. */
static size_t group_node(const gview *v)
{
    return v->pref_node != NONE ? v->pref_node : v->mem_node;
}

/* A move from -> to may not make the guest's group worse: colocated
 * members must not end up with fewer peers beside them, spread members
 * must not end up with more. */
static bool group_ok(const round_ctx *c, const gview *v, size_t from, size_t to)
{
    const np_guest_spec *s = v->spec;
    size_t on_from = 0, on_to = 0;

    if (!s->group[0] || s->group_rule == NP_GROUP_NONE)
        return true;
    for (size_t i = 0; i < c->ng; i++) {
        const gview *o = &c->g[i];
        if (o == v || strcmp(o->spec->group, s->group))
            continue;
        size_t k = group_node(o);
        on_from += k == from;
        on_to += k == to;
    }
    if (s->group_rule == NP_GROUP_COLOCATE)
        return on_to >= on_from;
    return on_to <= on_from;
}

/* ---- acting ------------------------------------------------------------------------ */

static size_t room_for_actions(const round_ctx *c)
{
    size_t n = np_balance_actions_count(c->acts);
    return n < c->cfg->max_actions ? c->cfg->max_actions - n : 0;
}

/* Re-homes a guest on node `to`: its vCPUs prefer the node's CPUs (unless
 * memory-only), new memory comes from it, and what is elsewhere becomes
 * pending migration (stage 4). Updates the round's loads. */
static int rehome(round_ctx *c, gview *v, size_t to, const char *why)
{
    const np_node_info *node = np_topology_node(c->topo, to);
    np_balance_action a;
    np_bitmap *nodes = NULL;
    int rc;

    memset(&a, 0, sizeof(a));
    a.gidx = v->gidx;
    snprintf(a.guest, sizeof(a.guest), "%s", v->spec->name);
    snprintf(a.reason, sizeof(a.reason), "%s", why);
    if (!v->memory_only) {
        a.kind = NP_BALANCE_SET_SOFT_AFFINITY;
        a.vcpu = NP_BALANCE_ALL_VCPUS;
        rc = np_balance_actions_push(c->acts, &a, np_topology_node_cpuset(c->topo, to));
        if (rc)
            return rc;
    }
    rc = np_bitmap_create(&nodes);
    if (!rc)
        rc = np_bitmap_set(nodes, node->os_id);
    a.kind = NP_BALANCE_SET_NODE_AFFINITY;
    a.vcpu = 0;
    if (!rc)
        rc = np_balance_actions_push(c->acts, &a, nodes);
    np_bitmap_destroy(nodes);
    if (rc)
        return rc;

    uint64_t off = v->mem_total - np_host_state_guest_mem_bytes(c->st, v->gidx, to);
    if (!v->memory_only) {
        if (v->pref_node != NONE && c->loads[v->pref_node].cpu_demand >= v->pref_demand)
            c->loads[v->pref_node].cpu_demand -= v->pref_demand;
        c->loads[to].cpu_demand += v->demand;
        v->pref_node = to;
        v->pref_demand = v->demand;
    }
    c->loads[to].mem_available_bytes -=
        off <= c->loads[to].mem_available_bytes ? off : c->loads[to].mem_available_bytes;
    np_balance_guest_info *in = &v->entry->info;
    in->last_move_ns = c->now_ns;
    in->home_node_os_id = (int32_t)node->os_id;
    in->pending_bytes = off;
    in->settled_bytes = 0; /* a new home: what could not move may now */
    in->moves++;
    in->low_rounds = 0;
    return 0;
}

/* CPU room on node k for a guest's demand, less what it already has there. */
static bool cpu_room(const round_ctx *c, const gview *v, size_t k)
{
    const np_node_load *l = &c->loads[k];
    double here = v->pref_node == k ? v->pref_demand : 0;
    return l->cpu_capacity > 0 && l->cpu_demand - here + v->demand <= l->cpu_capacity;
}

/* Stage 1 for one guest. */
static int fix_locality(round_ctx *c, gview *v)
{
    const np_balance_config *cfg = c->cfg;
    char why[NP_BALANCE_REASON_MAX];

    if (v->locality >= cfg->locality_target || v->mem_node == NONE || v->run_node == NONE ||
        v->entry->info.low_rounds < cfg->confirm_rounds)
        return 0;
    size_t m = v->mem_node, t = v->run_node;
    double mem_share =
        (double)np_host_state_guest_mem_bytes(c->st, v->gidx, m) / (double)v->mem_total;

    /* Cheap fix: vCPUs to the memory. Only when that changes something
     * (their preference is not already there) and gains enough. */
    if (!v->memory_only && v->pref_node != m && cpu_room(c, v, m) &&
        mem_share - v->locality > cfg->imbalance_threshold && group_ok(c, v, group_node(v), m)) {
        snprintf(why, sizeof(why),
                 "locality %.2f < target %.2f: vCPUs follow memory to node %u (CPU room there)",
                 v->locality, cfg->locality_target, np_topology_node(c->topo, m)->os_id);
        return rehome(c, v, m, why);
    }
    /* Else memory to where the vCPUs run, if it fits and the vCPUs can
     * stay there. */
    if (t == m || 1.0 - v->locality <= cfg->imbalance_threshold)
        return 0;
    uint64_t off = v->mem_total - np_host_state_guest_mem_bytes(c->st, v->gidx, t);
    if (off > c->loads[t].mem_available_bytes)
        return 0;
    if (!v->memory_only && !cpu_room(c, v, t))
        return 0;
    if (!group_ok(c, v, group_node(v), t))
        return 0;
    if (v->pinned)
        snprintf(why, sizeof(why),
                 "locality %.2f < target %.2f: memory follows pinned vCPUs to node %u "
                 "(%llu bytes)",
                 v->locality, cfg->locality_target, np_topology_node(c->topo, t)->os_id,
                 (unsigned long long)off);
    else
        snprintf(why, sizeof(why),
                 "locality %.2f < target %.2f: memory follows vCPUs to node %u (%llu bytes; "
                 "node %u has no CPU room)",
                 v->locality, cfg->locality_target, np_topology_node(c->topo, t)->os_id,
                 (unsigned long long)off, np_topology_node(c->topo, m)->os_id);
    return rehome(c, v, t, why);
}

static double util(const np_node_load *l)
{
    return l->cpu_capacity > 0 ? l->cpu_demand / l->cpu_capacity : 0;
}

/* Stage 2: one move off the most overloaded node, if any gains enough.
 * Returns 1 when it moved a guest, 0 when nothing is worth moving. */
static int fix_load_once(round_ctx *c)
{
    const double thr = c->cfg->imbalance_threshold;
    size_t src = NONE;

    for (size_t k = 0; k < c->nn; k++) {
        const np_node_load *l = &c->loads[k];
        if (l->cpu_capacity <= 0 || l->cpu_demand <= l->cpu_capacity * (1.0 + thr))
            continue;
        if (src == NONE || util(l) > util(&c->loads[src]))
            src = k;
    }
    if (src == NONE)
        return 0;
    /* The least loaded node: a destination for any guest. */
    size_t least = NONE;
    for (size_t k = 0; k < c->nn; k++)
        if (k != src && c->loads[k].cpu_capacity > 0 &&
            (least == NONE || util(&c->loads[k]) < util(&c->loads[least])))
            least = k;
    if (least == NONE)
        return 0;

    gview *best = NULL;
    size_t best_dst = NONE;
    double best_score = 0;
    const np_node_load *ls = &c->loads[src];
    for (size_t i = 0; i < c->ng; i++) {
        gview *v = &c->g[i];
        if (!v->managed || v->memory_only || v->wide || v->pref_node != src || held_off(c, v) ||
            v->demand <= 0)
            continue;
        /* Candidates: nodes holding some of its memory, and the least
         * loaded node. */
        for (size_t k = 0; k < c->nn; k++) {
            uint64_t there = np_host_state_guest_mem_bytes(c->st, v->gidx, k);
            if (k == src || (k != least && !there) || !cpu_room(c, v, k))
                continue;
            uint64_t off = v->mem_total - there;
            if (off > c->loads[k].mem_available_bytes)
                continue;
            const np_node_load *ld = &c->loads[k];
            double before = util(ls);
            double after_src = (ls->cpu_demand - v->pref_demand) / ls->cpu_capacity;
            double after_dst = (ld->cpu_demand + v->demand) / ld->cpu_capacity;
            double after = after_src > after_dst ? after_src : after_dst;
            double gain = before - after;
            if (gain <= thr || !group_ok(c, v, src, k))
                continue;
            /* ESXi prefers a VM with memory on the destination: weigh the
             * gain by 1 + the share of memory already there. Ties: the
             * first guest in snapshot order, the lowest node. */
            double share = v->mem_total ? (double)there / (double)v->mem_total : 0;
            double score = gain * (1.0 + share);
            if (!best || score > best_score) {
                best = v;
                best_dst = k;
                best_score = score;
            }
        }
    }
    if (!best)
        return 0;
    char why[NP_BALANCE_REASON_MAX];
    snprintf(why, sizeof(why),
             "node %u CPU demand %.2f > capacity %.2f by over %.0f%%: "
             "re-home on node %u",
             np_topology_node(c->topo, src)->os_id, ls->cpu_demand, ls->cpu_capacity, thr * 100,
             np_topology_node(c->topo, best_dst)->os_id);
    int rc = rehome(c, best, best_dst, why);
    return rc ? rc : 1;
}

/* Stage 4: memory still off its home, within the round's budget. Guests in
 * name order (the state's order): stable across rounds and restarts. */
static int migrate_pending(round_ctx *c, uint64_t budget_bytes)
{
    np_balance_state *s = c->state;

    for (size_t e = 0; e < s->nr; e++) {
        np_balance_entry *ent = &s->entries[e];
        size_t gi, home;
        if (!ent->seen || ent->info.home_node_os_id < 0)
            continue;
        if (np_host_state_find_guest(c->st, ent->name, &gi) ||
            np_topology_node_idx(c->topo, (uint32_t)ent->info.home_node_os_id, &home)) {
            ent->info.pending_bytes = 0;
            continue;
        }
        const gview *v = &c->g[gi]; /* views are in snapshot order */
        if (!v->managed && !v->pinned) {
            ent->info.pending_bytes = 0; /* opted out since: stop */
            continue;
        }
        uint64_t off = v->mem_total - np_host_state_guest_mem_bytes(c->st, gi, home);
        uint64_t sent = 0;
        if (off <= ent->info.settled_bytes) {
            ent->info.pending_bytes = 0; /* what is left cannot move */
            continue;
        }
        /* Room at home: a guest moved this round reserved it in rehome();
         * an older move takes what is still available. A home that has
         * filled up (other guests, ballooning) ends the migration: the
         * guest is no longer held off and may be moved elsewhere. */
        bool moved_now = ent->info.last_move_ns == c->now_ns;
        uint64_t *avail = &c->loads[home].mem_available_bytes;
        if (!moved_now && off && !*avail) {
            ent->info.pending_bytes = 0;
            continue;
        }
        /* From the node holding most, as numad does; ties: lowest index. */
        while (off > sent && budget_bytes && room_for_actions(c)) {
            size_t from = NONE;
            uint64_t from_left = 0;
            for (size_t k = 0; k < c->nn; k++) {
                if (k == home)
                    continue;
                uint64_t m = np_host_state_guest_mem_bytes(c->st, gi, k);
                /* less what this round already asked to move from k */
                for (size_t a = 0; a < c->acts->nr; a++) {
                    const np_balance_action *x = &c->acts->list[a];
                    if (x->kind == NP_BALANCE_MIGRATE_MEMORY && x->gidx == gi &&
                        x->from_node_idx == k)
                        m -= x->bytes <= m ? x->bytes : m;
                }
                if (m > from_left) {
                    from = k;
                    from_left = m;
                }
            }
            if (from == NONE)
                break;
            uint64_t n = from_left;
            if (n > c->cfg->migrate_chunk_bytes)
                n = c->cfg->migrate_chunk_bytes;
            if (n > budget_bytes)
                n = budget_bytes;
            if (!moved_now && n > *avail)
                n = *avail;
            if (!n)
                break;
            np_balance_action a;
            memset(&a, 0, sizeof(a));
            a.kind = NP_BALANCE_MIGRATE_MEMORY;
            a.gidx = gi;
            snprintf(a.guest, sizeof(a.guest), "%s", ent->name);
            a.from_node_idx = from;
            a.to_node_idx = home;
            a.bytes = n;
            snprintf(a.reason, sizeof(a.reason), "home is node %d: %llu bytes still elsewhere",
                     ent->info.home_node_os_id, (unsigned long long)(off - sent));
            int rc = np_balance_actions_push(c->acts, &a, NULL);
            if (rc)
                return rc;
            sent += n;
            budget_bytes -= n;
            if (!moved_now)
                *avail -= n;
        }
        /* What the snapshot still shows off home, not what this round
         * asked for: a backend may move less (rate limit, full node), and
         * the guest stays held off until its memory has arrived. */
        ent->info.pending_bytes = off;
    }
    return 0;
}

static uint64_t round_budget(const round_ctx *c)
{
    const np_balance_config *cfg = c->cfg;
    uint64_t elapsed = cfg->period_ns;
    uint64_t last = c->state->last_round_ns;
    /* The time since the last round, never more than a period: a daemon
     * that slept does not get to catch up in one burst. */
    if (last != NP_BALANCE_NEVER && c->now_ns > last && c->now_ns - last < elapsed)
        elapsed = c->now_ns - last;
    return (uint64_t)((double)cfg->migrate_budget_bps * ((double)elapsed / 1e9));
}

static bool config_ok(const np_balance_config *cfg)
{
    return cfg->period_ns && cfg->imbalance_threshold >= 0 && cfg->imbalance_threshold < 1 &&
           cfg->locality_target >= 0 && cfg->locality_target <= 1 && cfg->migrate_chunk_bytes &&
           cfg->max_actions && cfg->confirm_rounds;
}

int np_balance(const np_host_state *st, np_balance_state *state, uint64_t now_ns,
               const np_balance_config *cfg, np_balance_actions **out)
{
    round_ctx c;
    int rc;

    if (!st || !state || !cfg || !out || !config_ok(cfg))
        return -EINVAL;
    memset(&c, 0, sizeof(c));
    c.st = st;
    c.topo = np_host_state_topology(st);
    c.cfg = cfg;
    c.state = state;
    c.now_ns = now_ns;
    c.nn = np_topology_nr_nodes(c.topo);
    c.ng = np_host_state_nr_guests(st);
    c.loads = calloc(c.nn, sizeof(*c.loads));
    c.g = calloc(c.ng ? c.ng : 1, sizeof(*c.g));
    c.scratch_run = calloc(c.nn, sizeof(double));
    c.scratch_pref = calloc(c.nn, sizeof(double));
    rc = np_balance_actions_create(&c.acts);
    if (!rc && (!c.loads || !c.g || !c.scratch_run || !c.scratch_pref))
        rc = -ENOMEM;
    if (!rc)
        rc = np_host_state_node_loads(st, c.loads);
    for (size_t i = 0; i < c.ng && !rc; i++)
        rc = view_guest(&c, i, &c.g[i]);
    if (rc)
        goto out;
    /* view_guest may have grown the table: entries move, so look them up
     * again before keeping pointers across stages. */
    for (size_t i = 0; i < c.ng && !rc; i++)
        rc = np_balance_state_entry(state, c.g[i].spec->name, &c.g[i].entry);
    if (rc)
        goto out;

    /* Rounds in a row each guest's locality has been low. */
    for (size_t i = 0; i < c.ng; i++) {
        np_balance_guest_info *in = &c.g[i].entry->info;
        if (c.g[i].locality >= cfg->locality_target)
            in->low_rounds = 0;
        else if (in->low_rounds < UINT32_MAX)
            in->low_rounds++;
    }
    /* 1: locality, guests in snapshot order (a pinned guest: memory only).
     * A move takes up to two actions; keep the room. */
    for (size_t i = 0; i < c.ng && !rc && room_for_actions(&c) >= 2; i++)
        if ((c.g[i].managed || c.g[i].pinned) && !c.g[i].wide && !held_off(&c, &c.g[i]))
            rc = fix_locality(&c, &c.g[i]);
    /* 2: load, one move at a time until no move gains enough. Each guest
     * moves at most once (it is then held off), so this ends. */
    while (!rc && room_for_actions(&c) >= 2) {
        rc = fix_load_once(&c);
        if (rc == 1)
            rc = 0;
        else
            break;
    }
    /* 4: migration within the budget. */
    if (!rc)
        rc = migrate_pending(&c, round_budget(&c));
    if (rc)
        goto out;
    np_balance_state_prune(state);
    state->last_round_ns = now_ns;
    *out = c.acts;
    c.acts = NULL;
out:
    if (rc)
        for (size_t e = 0; e < state->nr; e++)
            state->entries[e].seen = false;
    np_balance_actions_destroy(c.acts);
    free(c.scratch_pref);
    free(c.scratch_run);
    free(c.g);
    free(c.loads);
    return rc;
}
