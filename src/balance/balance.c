/*
 * balance/balance.c - np_balance(): one round of the runtime balancer.
 *
 * Sense has happened (the caller's snapshot); this decides. Four stages:
 *   1. locality: a managed guest whose vCPUs run away from its memory
 *      (expected local share, vCPU by vCPU, below cfg->locality_target)
 *      gets the best home among every node with CPU and memory room: most
 *      of its memory already there (all of it: the vCPUs simply follow the
 *      memory, no bytes to copy), then nearest to its memory, then where its
 *      vCPUs run; its memory follows. Room counts the guest's own demand
 *      once, and floating guests still waiting for a home not at all. A
 *      guest bigger than any node gets a home SET instead (the fewest,
 *      nearest nodes with room): its vCPUs prefer the set's CPUs, memory
 *      on a set node stays, memory outside moves in by CPU share;
 *   2. load: a node whose CPU demand exceeds its capacity by the threshold
 *      gives away the guest whose move gains most, preferring one that has
 *      memory on the destination already (ESXi's rule); only a guest whose
 *      node has been overloaded confirm_rounds in a row may go, as low
 *      locality must be confirmed (a first round counts a vCPU never
 *      measured as busy: an idle guest looked like load, and its memory
 *      moved for nothing);
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
 * "memory follows threads someone else pinned". A guest whose vCPUs use no
 * CPU at all is left where it is: it makes no memory accesses, so its
 * locality costs nothing (the idle-busy VM run moved an idle guest's
 * 350 MiB because its sleeping threads had last run away from its memory,
 * and the busy guest behind it in the mover's queue waited). Each guest leaves the round
 * with its locality and a reason in the state (why it is below target, or
 * its move's progress). Work per round: O(guests x (vCPUs + nodes x nodes)).
 */
#include "balance/balance_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance/actions_int.h"

/* A vCPU's weight is its demand plus this, so a guest idle at the moment
 * still has a defined home (its weight never decides a move: locality and
 * load gains are measured on real demand). */
#define WEIGHT_FLOOR 1e-3
/* Slack in CPU room comparisons: demands are sums of measured fractions,
 * and 2 x 1.0 must fit a capacity of 2.0 exactly. */
#define ROOM_EPSILON 1e-9

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
    bool floating;      /* no vCPU has a mask narrower than the host */
    bool waiting;       /* floating and due a home this round: its load is not where it ran */
    bool home_set;      /* its home is a set of nodes (wider than one node) */
    double demand;      /* sum of its vCPUs' demand */
    double *att;        /* nn: its demand as the load measure attributes it per node */
    double *run;        /* nn: its vCPUs' weight per node they run on */
    size_t pref_node;   /* where its affinity sends it (NONE: unknown) */
    size_t run_node;    /* where its vCPUs ran most */
    size_t mem_node;    /* where most of its memory is */
    uint64_t mem_total;
    double locality;   /* expected local share of accesses */
    uint32_t dev_nodes; /* bit k: node idx k holds one of its passthrough devices */
    char why[NP_BALANCE_REASON_MAX]; /* this round's reason, "" when at target */
} gview;

typedef struct round_ctx {
    const np_host_state *st;
    const np_topology *topo;
    const np_balance_config *cfg;
    np_balance_state *state;
    uint64_t now_ns;
    size_t nn;
    np_node_load *loads;
    double *waiting; /* nn: demand of floating guests still waiting for a home */
    gview *g;
    size_t ng;
    double *scratch_pref; /* nn */
    double *per_guest;    /* ng x 2nn: each guest's att and run rows */
    np_balance_actions *acts;
    /* Free bytes of each node's hugetlb pools (nn rows of
     * NP_HOST_HUGE_SIZES_MAX, by the state's size slots; 0 when not
     * measured), less what this round's moves claimed. */
    uint64_t *pool;
    size_t nr_sizes;
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

/* A mask that restricts: names some host CPUs but not all. */
static bool restricts(const round_ctx *c, const np_bitmap *mask)
{
    if (!mask)
        return false;
    unsigned n = 0;
    for (int id = np_bitmap_next(mask, 0); id >= 0; id = np_bitmap_next(mask, (unsigned)id + 1))
        n += cpu_node(c, id) != NONE;
    return n > 0 && n < np_topology_nr_cpus(c->topo);
}

/* Where the load measure (np_host_state_node_loads) puts one vCPU's
 * demand d: spread over its effective mask (soft within hard, else hard)
 * when that restricts it, else on the node of the CPU it last ran on,
 * else over every node by capacity. Mirrored here so that a guest's room
 * check takes out exactly its own share, no more, no less. */
static void attribute(const round_ctx *c, const np_bitmap *hard, const np_bitmap *soft,
                      int32_t cpu, double d, double *att)
{
    if (soft && !np_bitmap_is_empty(soft) && (!hard || np_bitmap_intersects(soft, hard))) {
        np_bitmap *eff = NULL;
        if (np_bitmap_copy(soft, &eff) == 0) {
            if (hard)
                np_bitmap_and(eff, hard);
            bool done = restricts(c, eff) && spread_mask(c, eff, d, att);
            np_bitmap_destroy(eff);
            if (done)
                return;
        }
    } else if (restricts(c, hard) && spread_mask(c, hard, d, att)) {
        return;
    }
    size_t k = cpu_node(c, cpu);
    if (k != NONE) {
        att[k] += d;
        return;
    }
    double total = 0;
    for (size_t j = 0; j < c->nn; j++)
        total += c->loads[j].cpu_capacity;
    for (size_t j = 0; j < c->nn && total > 0; j++)
        att[j] += d * c->loads[j].cpu_capacity / total;
}

/* Nodes of the guest's passthrough devices the platform places. */
static uint32_t device_nodes(const round_ctx *c, const np_guest_spec *s)
{
    uint32_t bits = 0;
    for (size_t i = 0; i < s->nr_devices; i++) {
        size_t didx;
        if (np_topology_device_find(c->topo, s->devices[i], &didx) < 0)
            continue;
        int32_t node = np_topology_device(c->topo, didx)->node_idx;
        if (node >= 0 && node < 32)
            bits |= UINT32_C(1) << node;
    }
    return bits;
}

static int view_guest(round_ctx *c, size_t gi, gview *v)
{
    const np_host_state *st = c->st;
    uint32_t nr_cpus = (uint32_t)np_topology_nr_cpus(c->topo);
    double run_sum = 0;
    int rc;

    memset(v, 0, sizeof(*v));
    v->gidx = gi;
    v->att = &c->per_guest[gi * 2 * c->nn];
    v->run = v->att + c->nn;
    v->spec = np_host_state_guest_spec(st, gi);
    rc = np_balance_state_entry(c->state, v->spec->name, &v->entry);
    if (rc)
        return rc;
    v->entry->seen = true;
    v->managed = !v->spec->no_autoplace && v->spec->affinity != NP_AFFINITY_HARD;
    v->pinned = !v->spec->no_autoplace && v->spec->affinity == NP_AFFINITY_HARD;
    v->memory_only = v->spec->affinity == NP_AFFINITY_NONE;
    v->floating = true;
    v->dev_nodes = device_nodes(c, v->spec);
    for (size_t k = 0; k < c->nn; k++)
        c->scratch_pref[k] = 0;
    for (uint32_t i = 0; i < v->spec->vcpus; i++) {
        const np_bitmap *hard = np_host_state_vcpu_hard(st, gi, i);
        const np_bitmap *soft = np_host_state_vcpu_soft(st, gi, i);
        double d = np_host_state_vcpu_demand(st, gi, i);
        double w = d + WEIGHT_FLOOR;
        int32_t cpu = np_host_state_vcpu_cpu(st, gi, i);
        /* Pinned by someone else (a hard mask narrower than the host). */
        if (hard && np_bitmap_count(hard) < nr_cpus && !v->spec->no_autoplace) {
            v->managed = false;
            v->pinned = true;
        }
        if (restricts(c, hard) || restricts(c, soft))
            v->floating = false;
        v->demand += d;
        attribute(c, hard, soft, cpu, d, v->att);
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
         * anywhere: the only evidence), else its hard mask. Each vCPU
         * counts on its own node: a guest with threads on two nodes is
         * half remote, never "at home" on the node holding most. */
        size_t k = cpu_node(c, cpu);
        bool ran = false;
        if (soft && (!hard || np_bitmap_intersects(soft, hard)))
            ran = spread_mask(c, soft, w, v->run);
        if (!ran && k != NONE) {
            v->run[k] += w;
            ran = true;
        }
        if (!ran && hard)
            spread_mask(c, hard, w, v->run);
    }
    for (size_t k = 0; k < c->nn; k++)
        run_sum += v->run[k];
    size_t pref_nodes = 0;
    for (size_t k = 0; k < c->nn; k++)
        pref_nodes += c->scratch_pref[k] > 0;
    v->wide = pref_nodes > 1;
    if (v->pinned)
        v->memory_only = true; /* its affinity is someone else's */
    v->run_node = argmax_d(v->run, c->nn);
    v->pref_node = argmax_d(c->scratch_pref, c->nn);
    if (v->pref_node == NONE)
        v->pref_node = v->run_node;
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
        loc += v->run[k] / run_sum *
               ((double)np_host_state_guest_mem_bytes(st, gi, k) / (double)v->mem_total);
    /* A guest on a home set is judged like any other: which vCPU touches
     * which page is not known, so each is taken to touch all of the
     * guest's memory alike (the line above). */
    uint64_t set = v->entry->info.home_nodes_mask;
    v->home_set = (set & (set - 1)) != 0;
    v->locality = run_sum > 0 && v->mem_total ? loc : 1.0;
    return 0;
}

static void set_why(gview *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_why(gview *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->why, sizeof(v->why), fmt, ap);
    va_end(ap);
}

static unsigned os_id(const round_ctx *c, size_t k)
{
    return np_topology_node(c->topo, k)->os_id;
}

static double mib(uint64_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

/* ---- homes: one node or a set ---------------------------------------------------- */

/* Node idx k's bit in a home set mask (bit = os id); 0 when it has none. */
static uint64_t os_bit(const round_ctx *c, size_t k)
{
    unsigned id = os_id(c, k);
    return id < 64 ? UINT64_C(1) << id : 0;
}

static unsigned node_cpus(const round_ctx *c, size_t k)
{
    return np_bitmap_count(np_topology_node_cpuset(c->topo, k));
}

static bool multi(uint64_t mask)
{
    return (mask & (mask - 1)) != 0;
}

/* Is node idx k off guest gi's home: not the one-node home (node idx
 * `home`), or outside the home set (os id mask `set`)? */
static bool off_home(const round_ctx *c, uint64_t set, size_t home, size_t k)
{
    return multi(set) ? !(set & os_bit(c, k)) : k != home;
}

/* Bytes of guest gi on node k that must move: all of them when k is off
 * its home. On a home set, memory already on a set node stays where it
 * is: which vCPU uses which page is not known, so no node of the set is a
 * better place for a page than another. */
static uint64_t home_excess(const round_ctx *c, size_t gi, uint64_t set, size_t home, size_t k)
{
    return off_home(c, set, home, k) ? np_host_state_guest_mem_bytes(c->st, gi, k) : 0;
}

/* Bytes of guest gi the home asks onto node k: on a one-node home all
 * that is elsewhere; on a home set, node k's share of the set's CPUs of
 * what lies outside the set (rounded up, so the shares cover it all). */
/* Of `total` units outside a home set (os id mask `set`), set node k's
 * share by its CPUs among the set's, rounded up so the shares cover it all. */
static uint64_t set_share(const round_ctx *c, uint64_t set, size_t k, uint64_t total)
{
    unsigned all = 0;
    for (size_t j = 0; j < c->nn; j++)
        if (!off_home(c, set, k, j))
            all += node_cpus(c, j);
    unsigned mine = node_cpus(c, k);
    if (!all)
        return 0;
    return total / all * mine + ((total % all) * mine + all - 1) / all;
}

static uint64_t home_deficit(const round_ctx *c, size_t gi, uint64_t set, size_t home, size_t k)
{
    if (off_home(c, set, home, k))
        return 0;
    uint64_t outside = 0;
    for (size_t j = 0; j < c->nn; j++)
        if (off_home(c, set, home, j))
            outside += np_host_state_guest_mem_bytes(c->st, gi, j);
    return multi(set) ? set_share(c, set, k, outside) : outside;
}

/* Of home_deficit on set node k (os id mask `set`, more than one node),
 * what is in hugetlb pages of size slot s: node k's share of those pages
 * outside the set, in whole pages (a page does not split). */
static uint64_t set_huge_need(const round_ctx *c, size_t gi, uint64_t set, size_t k, size_t s)
{
    uint64_t page = np_host_state_huge_size(c->st, s), outside = 0;
    if (!page || off_home(c, set, k, k))
        return 0;
    for (size_t j = 0; j < c->nn; j++)
        if (off_home(c, set, k, j))
            outside += np_host_state_guest_huge_mem_bytes(c->st, gi, j, page);
    return set_share(c, set, k, (outside + page - 1) / page) * page;
}

/* "0,1,3": the os ids of a set. */
static void format_set(uint64_t set, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (unsigned k = 0; k < 64 && n < len; k++)
        if (set >> k & 1)
            n += (size_t)snprintf(buf + n, len - n, "%s%u", n ? "," : "", k);
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

static bool device_ok(const gview *v, size_t k)
{
    return !v->dev_nodes || (k < 32 && (v->dev_nodes & (UINT32_C(1) << k)));
}

/* ---- acting ------------------------------------------------------------------------ */

static size_t room_for_actions(const round_ctx *c)
{
    size_t n = np_balance_actions_count(c->acts);
    return n < c->cfg->max_actions ? c->cfg->max_actions - n : 0;
}

static void claim_room(round_ctx *c, const gview *v, size_t to);

/* Re-homes a guest on node `to`, or, when `set` (node idx bits) names
 * several nodes, on that set (`to` is then its lowest node): its vCPUs
 * prefer the home's CPUs (unless memory-only), new memory comes from it,
 * and what is off home becomes pending migration (stage 4). Updates the
 * round's loads: the guest's demand lands on the home (spread by CPUs, as
 * the load measure spreads a mask) and the memory the home still needs is
 * reserved on each node. */
static int rehome_on(round_ctx *c, gview *v, size_t to, uint64_t set, const char *why)
{
    np_balance_action a;
    np_bitmap *nodes = NULL, *cpus = NULL;
    uint64_t os_set = 0;
    unsigned set_cpus = 0;
    int rc;

    if (!multi(set))
        set = 0;
    memset(&a, 0, sizeof(a));
    a.gidx = v->gidx;
    snprintf(a.guest, sizeof(a.guest), "%s", v->spec->name);
    snprintf(a.reason, sizeof(a.reason), "%s", why);
    snprintf(v->why, sizeof(v->why), "%s", why);
    rc = np_bitmap_create(&nodes);
    if (!rc)
        rc = np_bitmap_create(&cpus);
    for (size_t k = 0; k < c->nn && !rc; k++) {
        if (set ? !(set >> k & 1) : k != to)
            continue;
        rc = np_bitmap_set(nodes, os_id(c, k));
        if (!rc)
            rc = np_bitmap_or(cpus, np_topology_node_cpuset(c->topo, k));
        os_set |= set ? os_bit(c, k) : 0;
        set_cpus += node_cpus(c, k);
    }
    if (!rc && !v->memory_only) {
        a.kind = NP_BALANCE_SET_SOFT_AFFINITY;
        a.vcpu = NP_BALANCE_ALL_VCPUS;
        rc = np_balance_actions_push(c->acts, &a, cpus);
    }
    a.kind = NP_BALANCE_SET_NODE_AFFINITY;
    a.vcpu = 0;
    if (!rc)
        rc = np_balance_actions_push(c->acts, &a, nodes);
    np_bitmap_destroy(cpus);
    np_bitmap_destroy(nodes);
    if (rc)
        return rc;

    uint64_t off = 0;
    for (size_t k = 0; k < c->nn; k++)
        off += home_excess(c, v->gidx, os_set, to, k);
    if (!v->memory_only) {
        /* Its demand leaves the nodes the load measure put it on (and, for
         * a guest that was waiting, the waiting pool) and lands on its home. */
        for (size_t k = 0; k < c->nn; k++) {
            double d = v->att[k];
            c->loads[k].cpu_demand -= d <= c->loads[k].cpu_demand ? d : c->loads[k].cpu_demand;
            if (v->waiting)
                c->waiting[k] -= d <= c->waiting[k] ? d : c->waiting[k];
            v->att[k] = 0;
        }
        for (size_t k = 0; k < c->nn; k++) {
            if (set ? !(set >> k & 1) : k != to)
                continue;
            double share = set && set_cpus ? v->demand * node_cpus(c, k) / set_cpus : v->demand;
            c->loads[k].cpu_demand += share;
            v->att[k] = share;
        }
        v->pref_node = to;
        v->waiting = false;
        v->floating = false;
    }
    if (set) {
        /* A home set: the memory each node of the set still needs, its
         * hugetlb share from that node's pools, the rest from its ordinary
         * memory (set_fits checked both). */
        for (size_t k = 0; k < c->nn; k++) {
            uint64_t need = home_deficit(c, v->gidx, os_set, to, k), huge = 0;
            for (size_t s = 0; s < c->nr_sizes && (set >> k & 1); s++) {
                uint64_t h = set_huge_need(c, v->gidx, os_set, k, s);
                uint64_t *pool = &c->pool[k * NP_HOST_HUGE_SIZES_MAX + s];
                *pool -= h <= *pool ? h : *pool;
                huge += h;
            }
            need = need > huge ? need - huge : 0;
            uint64_t *avail = &c->loads[k].mem_available_bytes;
            *avail -= need <= *avail ? need : *avail;
        }
    } else {
        claim_room(c, v, to);
    }
    np_balance_guest_info *in = &v->entry->info;
    in->last_move_ns = c->now_ns;
    in->home_node_os_id = (int32_t)os_id(c, to);
    in->home_nodes_mask = os_set;
    in->pending_bytes = off;
    in->move_bytes = off;
    in->settled_bytes = 0; /* a new home: what could not move may now */
    in->moves++;
    in->low_rounds = 0;
    v->home_set = set != 0;
    return 0;
}

static int rehome(round_ctx *c, gview *v, size_t to, const char *why)
{
    return rehome_on(c, v, to, 0, why);
}

/* Bytes of guest v in hugetlb pages of size slot s on nodes other than k:
 * what a move to k must fit into k's pool of that size. */
static uint64_t huge_off(const round_ctx *c, const gview *v, size_t k, size_t s)
{
    uint64_t page = np_host_state_huge_size(c->st, s), sum = 0;
    for (size_t j = 0; j < c->nn; j++)
        if (j != k)
            sum += np_host_state_guest_huge_mem_bytes(c->st, v->gidx, j, page);
    return sum;
}

/* Room on node k for the guest's memory not there yet, by kind: its
 * hugetlb pages of each size against k's free pool of that size, the rest
 * against ordinary free memory (which the pools' free pages are not part
 * of). False with the lack in `lack` when something does not fit. */
static bool mem_room(const round_ctx *c, const gview *v, size_t k, char *lack, size_t lack_size)
{
    uint64_t off = v->mem_total - np_host_state_guest_mem_bytes(c->st, v->gidx, k);
    uint64_t huge = 0;
    for (size_t s = 0; s < c->nr_sizes; s++) {
        uint64_t h = huge_off(c, v, k, s), free_bytes = c->pool[k * NP_HOST_HUGE_SIZES_MAX + s];
        if (h > free_bytes) {
            snprintf(lack, lack_size,
                     "no room in its %.0f KiB huge page pool for %.0f MiB (%.0f MiB free)",
                     (double)np_host_state_huge_size(c->st, s) / 1024.0, mib(h), mib(free_bytes));
            return false;
        }
        huge += h;
    }
    uint64_t ordinary = off > huge ? off - huge : 0;
    if (ordinary > c->loads[k].mem_available_bytes) {
        snprintf(lack, lack_size, "no memory room there for %.0f MiB", mib(ordinary));
        return false;
    }
    return true;
}

/* A move of guest v to node `to` claims its room there, by kind. */
static void claim_room(round_ctx *c, const gview *v, size_t to)
{
    uint64_t off = v->mem_total - np_host_state_guest_mem_bytes(c->st, v->gidx, to);
    uint64_t huge = 0;
    for (size_t s = 0; s < c->nr_sizes; s++) {
        uint64_t h = huge_off(c, v, to, s), *free_bytes = &c->pool[to * NP_HOST_HUGE_SIZES_MAX + s];
        *free_bytes -= h <= *free_bytes ? h : *free_bytes;
        huge += h;
    }
    uint64_t ordinary = off > huge ? off - huge : 0;
    uint64_t *avail = &c->loads[to].mem_available_bytes;
    *avail -= ordinary <= *avail ? ordinary : *avail;
}

/* CPU left on node k for guest v: capacity less the demand of everything
 * else there. The guest's own share (as the load measure attributed it)
 * is taken out, once; so is the demand of floating guests still waiting
 * for a home this round (their threads run where the kernel put them for
 * now, and follow the home they get; counting them would let a crowd of
 * wandering guests block each other from every node). */
static double cpu_free(const round_ctx *c, const gview *v, size_t k)
{
    const np_node_load *l = &c->loads[k];
    double others = l->cpu_demand - v->att[k] - c->waiting[k] + (v->waiting ? v->att[k] : 0);
    if (others < 0)
        others = 0;
    return l->cpu_capacity - others;
}

static bool cpu_room(const round_ctx *c, const gview *v, size_t k)
{
    return c->loads[k].cpu_capacity > 0 && cpu_free(c, v, k) + ROOM_EPSILON >= v->demand;
}

/* Memory-weighted distance from the guest's memory to node k: the node
 * nearest to what must move (and to what stays remote while it moves). */
static double mem_distance(const round_ctx *c, const gview *v, size_t k)
{
    double sum = 0;
    for (size_t j = 0; j < c->nn; j++)
        sum += mib(np_host_state_guest_mem_bytes(c->st, v->gidx, j)) *
               (double)np_topology_distance(c->topo, j, k);
    return sum;
}

/* Is node a a better home than node b (b may be NONE)? Most memory already
 * there (least to copy), then nearest to the memory, then most of its
 * vCPUs already there, then least loaded, then lowest index. */
static bool better_home(const round_ctx *c, const gview *v, size_t a, size_t b)
{
    if (b == NONE)
        return true;
    uint64_t ma = np_host_state_guest_mem_bytes(c->st, v->gidx, a);
    uint64_t mb = np_host_state_guest_mem_bytes(c->st, v->gidx, b);
    if (ma != mb)
        return ma > mb;
    double da = mem_distance(c, v, a), db = mem_distance(c, v, b);
    if (da != db)
        return da < db;
    if (v->run[a] != v->run[b])
        return v->run[a] > v->run[b];
    double fa = cpu_free(c, v, a), fb = cpu_free(c, v, b);
    if (fa != fb)
        return fa > fb;
    return a < b;
}

/* ---- a home set for a guest wider than one node --------------------------------- */

static unsigned popcount64(uint64_t x)
{
    unsigned n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

/* A node that may join a home set: CPUs free for the guest, its device's
 * node if it has one, an os id a set mask can hold. */
static bool set_usable(const round_ctx *c, const gview *v, size_t k)
{
    return c->loads[k].cpu_capacity > 0 && device_ok(v, k) && os_bit(c, k) &&
           cpu_free(c, v, k) > ROOM_EPSILON;
}

static uint64_t idx_to_os(const round_ctx *c, uint64_t set)
{
    uint64_t os = 0;
    for (size_t k = 0; k < c->nn; k++)
        if (set >> k & 1)
            os |= os_bit(c, k);
    return os;
}

/* Does set (node idx bits) hold the guest: its free CPUs cover its demand,
 * and every node has room for its share of what lies outside - its share
 * of the hugetlb pages of each size in its free pool of that size (as for
 * a one-node home, mem_room), the rest in its ordinary free memory? */
static bool set_fits(const round_ctx *c, const gview *v, uint64_t set)
{
    double free_cpus = 0;
    uint64_t os = idx_to_os(c, set);
    for (size_t k = 0; k < c->nn; k++) {
        if (!(set >> k & 1))
            continue;
        double f = cpu_free(c, v, k);
        free_cpus += f > 0 ? f : 0;
        uint64_t need = home_deficit(c, v->gidx, os, k, k), huge = 0;
        for (size_t s = 0; s < c->nr_sizes && multi(os); s++) {
            uint64_t h = set_huge_need(c, v->gidx, os, k, s);
            if (h > c->pool[k * NP_HOST_HUGE_SIZES_MAX + s])
                return false;
            huge += h;
        }
        if ((need > huge ? need - huge : 0) > c->loads[k].mem_available_bytes)
            return false;
    }
    return multi(set) && free_cpus + ROOM_EPSILON >= v->demand;
}

/* Sum of the distances between the set's nodes: how spread it is. */
static double set_spread(const round_ctx *c, uint64_t set)
{
    double sum = 0;
    for (size_t i = 0; i < c->nn; i++)
        for (size_t j = i + 1; j < c->nn && (set >> i & 1); j++)
            if (set >> j & 1)
                sum += np_topology_distance(c->topo, i, j);
    return sum;
}

static uint64_t set_mem(const round_ctx *c, const gview *v, uint64_t set)
{
    uint64_t m = 0;
    for (size_t k = 0; k < c->nn; k++)
        if (set >> k & 1)
            m += np_host_state_guest_mem_bytes(c->st, v->gidx, k);
    return m;
}

/* Is set a better home than set b (0: none)? Fewest nodes, then least
 * spread, then most of its memory already inside, then lowest indices. */
static bool better_set(const round_ctx *c, const gview *v, uint64_t a, uint64_t b)
{
    if (!b)
        return true;
    unsigned na = popcount64(a), nb = popcount64(b);
    if (na != nb)
        return na < nb;
    double sa = set_spread(c, a), sb = set_spread(c, b);
    if (sa != sb)
        return sa < sb;
    uint64_t ma = set_mem(c, v, a), mb = set_mem(c, v, b);
    if (ma != mb)
        return ma > mb;
    return a < b;
}

/* The home set (node idx bits, 0 when none) of a guest no single node has
 * CPU room for. From every usable seed node, the nearest usable nodes join
 * (least distance to the nodes already in; ties: more free CPU, then more
 * of its memory there, then lowest index) until the set fits; of the sets
 * found, the best by better_set. Free CPU before memory: with its vCPUs
 * spread over n nodes a guest's locality is at most 1/n whatever its
 * memory does, so a node that brings the CPUs it lacks beats one that
 * holds its memory but little room (which made the set a node larger:
 * 0,1,2 where 1,2 held it). Greedy, O(nodes^3): "fewest" is the fewest a
 * nearest-first growth reaches, not an exhaustive search. */
static uint64_t pick_set(const round_ctx *c, const gview *v)
{
    uint64_t best = 0;
    if (c->nn > 64)
        return 0;
    for (size_t seed = 0; seed < c->nn; seed++) {
        if (!set_usable(c, v, seed))
            continue;
        uint64_t set = UINT64_C(1) << seed;
        while (!set_fits(c, v, set)) {
            size_t add = NONE;
            double add_dist = 0;
            for (size_t k = 0; k < c->nn; k++) {
                if ((set >> k & 1) || !set_usable(c, v, k))
                    continue;
                double dist = 0;
                for (size_t j = 0; j < c->nn; j++)
                    if (set >> j & 1)
                        dist += np_topology_distance(c->topo, j, k);
                bool take = add == NONE || dist < add_dist;
                if (!take && dist == add_dist) {
                    double fk = cpu_free(c, v, k), fa = cpu_free(c, v, add);
                    uint64_t mk = np_host_state_guest_mem_bytes(c->st, v->gidx, k);
                    uint64_t ma = np_host_state_guest_mem_bytes(c->st, v->gidx, add);
                    take = fk > fa || (fk == fa && mk > ma);
                }
                if (take) {
                    add = k;
                    add_dist = dist;
                }
            }
            if (add == NONE)
                break;
            set |= UINT64_C(1) << add;
        }
        if (set_fits(c, v, set) && better_set(c, v, set, best))
            best = set;
    }
    return best;
}

/* Stage 1 for a guest wider than one node (its demand exceeds every
 * node's CPU capacity: no node could hold it however idle): a home set, if
 * one fits. A guest that would fit one node waits for one instead of being
 * split over the leftovers of busy nodes. 1 when it was re-homed, 0 when
 * not (the caller says why). */
static int home_on_set(round_ctx *c, gview *v)
{
    const np_balance_config *cfg = c->cfg;
    char why[NP_BALANCE_REASON_MAX], list[96];

    for (size_t k = 0; k < c->nn; k++)
        if (device_ok(v, k) && c->loads[k].cpu_capacity + ROOM_EPSILON >= v->demand)
            return 0; /* not wider than a node */
    if (v->spec->group[0] && v->spec->group_rule != NP_GROUP_NONE)
        return 0; /* a group rule counts one node per guest: not for sets */
    uint64_t set = pick_set(c, v);
    if (!set)
        return 0;
    size_t first = 0;
    while (!(set >> first & 1))
        first++;
    uint64_t inside = set_mem(c, v, set);
    format_set(idx_to_os(c, set), list, sizeof(list));
    snprintf(why, sizeof(why),
             "locality %.2f < target %.2f: needs %.2f CPUs, more than any node has free: "
             "home on nodes %.24s; memory inside stays, %.0f of %.0f MiB moves in",
             v->locality, cfg->locality_target, v->demand, list, mib(v->mem_total - inside),
             mib(v->mem_total));
    int rc = rehome_on(c, v, first, set, why);
    return rc ? rc : 1;
}

/* Stage 1 for a guest whose vCPUs may move: the best node with CPU room,
 * memory room, the device's node and the group rule satisfied. */
static int home_anywhere(round_ctx *c, gview *v)
{
    const np_balance_config *cfg = c->cfg;
    size_t best = NONE, most_free_node = NONE;
    size_t nr_cpu_ok = 0, nr_mem_ok = 0, lack_node = NONE;
    double most_free = 0;
    char why[NP_BALANCE_REASON_MAX], lack[NP_BALANCE_REASON_MAX / 2] = "";

    for (size_t k = 0; k < c->nn; k++) {
        if (c->loads[k].cpu_capacity <= 0 || !device_ok(v, k))
            continue;
        double f = cpu_free(c, v, k);
        if (most_free_node == NONE || f > most_free) {
            most_free = f;
            most_free_node = k;
        }
        if (!cpu_room(c, v, k))
            continue;
        nr_cpu_ok++;
        if (!mem_room(c, v, k, lack, sizeof(lack))) {
            lack_node = k;
            continue;
        }
        nr_mem_ok++;
        if (!group_ok(c, v, group_node(v), k))
            continue;
        if (better_home(c, v, k, best))
            best = k;
    }
    if (best == NONE && !nr_cpu_ok) {
        int rc = home_on_set(c, v);
        if (rc)
            return rc < 0 ? rc : 0;
    }
    if (best == NONE) {
        if (!nr_cpu_ok && most_free_node != NONE)
            set_why(v, "no CPU room on any node%s: needs %.2f CPUs, most free %.2f on node %u",
                    v->dev_nodes ? " of its passthrough device" : "", v->demand,
                    most_free < 0 ? 0.0 : most_free, os_id(c, most_free_node));
        else if (!nr_cpu_ok)
            set_why(v, "no node its passthrough device allows has CPUs");
        else if (!nr_mem_ok)
            set_why(v, "no node with CPU room has memory room for its %.0f MiB (node %u: %s)",
                    mib(v->mem_total), os_id(c, lack_node), lack);
        else
            set_why(v, "group %s (%s): no node with room keeps the rule", v->spec->group,
                    np_group_rule_name(v->spec->group_rule));
        return 0;
    }
    uint64_t there = np_host_state_guest_mem_bytes(c->st, v->gidx, best);
    uint64_t off = v->mem_total - there;
    if (!off && v->pref_node == best && !v->floating) {
        set_why(v, "already steered to node %u, where its memory is", os_id(c, best));
        return 0;
    }
    if (!off)
        snprintf(why, sizeof(why),
                 "locality %.2f < target %.2f: vCPUs follow memory to node %u (CPU room there)",
                 v->locality, cfg->locality_target, os_id(c, best));
    else if (best == v->run_node && v->mem_node != NONE && !cpu_room(c, v, v->mem_node))
        snprintf(why, sizeof(why),
                 "locality %.2f < target %.2f: memory follows vCPUs to node %u (%llu bytes; "
                 "node %u has no CPU room)",
                 v->locality, cfg->locality_target, os_id(c, best), (unsigned long long)off,
                 os_id(c, v->mem_node));
    else
        snprintf(why, sizeof(why),
                 "locality %.2f < target %.2f: home on node %u (CPU room, %.0f of %.0f MiB "
                 "there, %.0f MiB to move)",
                 v->locality, cfg->locality_target, os_id(c, best), mib(there), mib(v->mem_total),
                 mib(off));
    if (v->dev_nodes) {
        size_t len = strlen(why);
        snprintf(why + len, sizeof(why) - len, "; its passthrough device keeps it on node %u",
                 os_id(c, best));
    }
    return rehome(c, v, best, why);
}

/* Stage 1 for a guest whose vCPUs stay (pinned, or affinity NONE): its
 * memory follows them to the node they run on most. */
static int memory_follows(round_ctx *c, gview *v)
{
    const np_balance_config *cfg = c->cfg;
    const char *who = v->spec->affinity == NP_AFFINITY_HARD ? "pinned (hard affinity)"
                      : v->pinned                            ? "pinned by someone else"
                                                             : "affinity none";
    size_t t = v->run_node;
    double run_sum = 0;
    char why[NP_BALANCE_REASON_MAX];

    for (size_t k = 0; k < c->nn; k++)
        run_sum += v->run[k];
    if (t == NONE || run_sum <= 0) {
        set_why(v, "%s: where its vCPUs run is unknown", who);
        return 0;
    }
    if (!device_ok(v, t)) {
        set_why(v, "%s on node %u, away from its passthrough device: memory stays", who,
                os_id(c, t));
        return 0;
    }
    /* Once moved, the local share is the vCPUs' share on t. */
    double after = v->run[t] / run_sum;
    if (after - v->locality <= cfg->imbalance_threshold) {
        set_why(v, "%s across nodes: memory to node %u would reach only %.2f", who, os_id(c, t),
                after);
        return 0;
    }
    uint64_t off = v->mem_total - np_host_state_guest_mem_bytes(c->st, v->gidx, t);
    char lack[NP_BALANCE_REASON_MAX / 2];
    if (!mem_room(c, v, t, lack, sizeof(lack))) {
        set_why(v, "%s on node %u: %s", who, os_id(c, t), lack);
        return 0;
    }
    if (!group_ok(c, v, group_node(v), t)) {
        set_why(v, "%s: group %s rule keeps its memory", who, v->spec->group);
        return 0;
    }
    if (v->pinned)
        snprintf(why, sizeof(why),
                 "locality %.2f < target %.2f: memory follows pinned vCPUs to node %u "
                 "(%llu bytes)",
                 v->locality, cfg->locality_target, os_id(c, t), (unsigned long long)off);
    else
        snprintf(why, sizeof(why),
                 "locality %.2f < target %.2f: memory follows vCPUs to node %u (%llu bytes; "
                 "affinity none)",
                 v->locality, cfg->locality_target, os_id(c, t), (unsigned long long)off);
    return rehome(c, v, t, why);
}

/* A guest on a home set stays below target while its vCPUs are spread
 * over the set; nothing will change that (not the hold-off running out):
 * say so. True when it said so. */
static bool home_set_why(gview *v, double target)
{
    if (!v->wide || !v->home_set || v->pinned || v->locality >= target)
        return false;
    char list[96];
    format_set(v->entry->info.home_nodes_mask, list, sizeof(list));
    set_why(v,
            "wider than one node: home on nodes %s; memory stays where it is inside the "
            "set (which vCPU uses which page is not known)",
            list);
    return true;
}

/* Stage 1 for one guest. */
static int fix_locality(round_ctx *c, gview *v)
{
    const np_balance_config *cfg = c->cfg;

    if (v->locality >= cfg->locality_target || v->mem_node == NONE)
        return 0;
    if (v->demand <= 0) {
        set_why(v, "idle: its vCPUs use no CPU, so remote memory costs nothing yet");
        return 0;
    }
    if (v->wide) {
        set_why(v, "%s: its affinity spans several nodes",
                v->pinned ? "pinned by someone else" : "placed wide");
        return 0;
    }
    if (v->entry->info.low_rounds < cfg->confirm_rounds) {
        set_why(v, "hysteresis: %u of %u rounds below target", v->entry->info.low_rounds,
                cfg->confirm_rounds);
        return 0;
    }
    if (1.0 - v->locality <= cfg->imbalance_threshold) {
        set_why(v, "locality %.2f: a move gains less than the %.0f%% threshold", v->locality,
                cfg->imbalance_threshold * 100);
        return 0;
    }
    return v->memory_only ? memory_follows(c, v) : home_anywhere(c, v);
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
            v->demand <= 0 || v->entry->info.hot_rounds < c->cfg->confirm_rounds)
            continue;
        /* Candidates: nodes holding some of its memory, and the least
         * loaded node. */
        for (size_t k = 0; k < c->nn; k++) {
            uint64_t there = np_host_state_guest_mem_bytes(c->st, v->gidx, k);
            if (k == src || (k != least && !there) || !cpu_room(c, v, k) || !device_ok(v, k))
                continue;
            char lack[NP_BALANCE_REASON_MAX / 2];
            if (!mem_room(c, v, k, lack, sizeof(lack)))
                continue;
            const np_node_load *ld = &c->loads[k];
            double before = util(ls);
            double after_src = (ls->cpu_demand - v->att[src]) / ls->cpu_capacity;
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

/* What this round already asked to move of guest gi from (to_side false)
 * or to (true) node k. */
static uint64_t asked(const round_ctx *c, size_t gi, size_t k, bool to_side)
{
    uint64_t sum = 0;
    for (size_t a = 0; a < c->acts->nr; a++) {
        const np_balance_action *x = &c->acts->list[a];
        if (x->kind == NP_BALANCE_MIGRATE_MEMORY && x->gidx == gi &&
            (to_side ? x->to_node_idx : x->from_node_idx) == k)
            sum += x->bytes;
    }
    return sum;
}

/* Stage 4: memory still off its home, within the round's budget. Guests in
 * name order (the state's order): stable across rounds and restarts. Off
 * home is what lies outside the home node or the home set (home_excess). */
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
        uint64_t set = ent->info.home_nodes_mask;
        uint64_t off = 0;
        bool room = false;
        for (size_t k = 0; k < c->nn; k++) {
            off += home_excess(c, gi, set, home, k);
            room |= home_deficit(c, gi, set, home, k) && c->loads[k].mem_available_bytes;
        }
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
        if (!moved_now && off && !room) {
            ent->info.pending_bytes = 0;
            continue;
        }
        /* From the node off home holding most, as numad does, to the home
         * node lacking most of its share; ties: lowest index. */
        while (off > sent && budget_bytes && room_for_actions(c)) {
            size_t from = NONE, to = NONE;
            uint64_t from_left = 0, to_left = 0;
            for (size_t k = 0; k < c->nn; k++) {
                uint64_t x = home_excess(c, gi, set, home, k);
                uint64_t y = home_deficit(c, gi, set, home, k);
                uint64_t ax = asked(c, gi, k, false), ay = asked(c, gi, k, true);
                x -= ax <= x ? ax : x;
                y -= ay <= y ? ay : y;
                if (x > from_left) {
                    from = k;
                    from_left = x;
                }
                if (!moved_now && y > c->loads[k].mem_available_bytes)
                    y = c->loads[k].mem_available_bytes;
                if (y > to_left) {
                    to = k;
                    to_left = y;
                }
            }
            if (from == NONE || to == NONE)
                break;
            uint64_t n = from_left < to_left ? from_left : to_left;
            if (n > c->cfg->migrate_chunk_bytes)
                n = c->cfg->migrate_chunk_bytes;
            if (n > budget_bytes)
                n = budget_bytes;
            if (!n)
                break;
            np_balance_action a;
            memset(&a, 0, sizeof(a));
            a.kind = NP_BALANCE_MIGRATE_MEMORY;
            a.gidx = gi;
            snprintf(a.guest, sizeof(a.guest), "%s", ent->name);
            a.from_node_idx = from;
            a.to_node_idx = to;
            a.bytes = n;
            if (multi(set)) {
                char list[96];
                format_set(set, list, sizeof(list));
                snprintf(a.reason, sizeof(a.reason),
                         "home is nodes %s: %llu bytes still outside them", list,
                         (unsigned long long)(off - sent));
            } else {
                snprintf(a.reason, sizeof(a.reason), "home is node %d: %llu bytes still elsewhere",
                         ent->info.home_node_os_id, (unsigned long long)(off - sent));
            }
            int rc = np_balance_actions_push(c->acts, &a, NULL);
            if (rc)
                return rc;
            sent += n;
            budget_bytes -= n;
            if (!moved_now)
                c->loads[to].mem_available_bytes -= n;
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

/* The guest's reason for the status: a move in progress shows its
 * progress, else what stage 1 found ("" when at target). */
static void set_reason(const round_ctx *c, gview *v)
{
    np_balance_guest_info *in = &v->entry->info;
    in->locality = v->locality;
    if (!v->managed && !v->pinned) {
        snprintf(in->reason, sizeof(in->reason), "%s",
                 v->locality < c->cfg->locality_target ? "opted out: not managed" : "");
    } else if (in->pending_bytes && in->home_node_os_id >= 0) {
        uint64_t total = in->move_bytes > in->pending_bytes ? in->move_bytes : in->pending_bytes;
        double pct = total ? 100.0 * (double)(total - in->pending_bytes) / (double)total : 0;
        char list[96];
        if (multi(in->home_nodes_mask))
            format_set(in->home_nodes_mask, list, sizeof(list));
        else
            snprintf(list, sizeof(list), "%d", in->home_node_os_id);
        snprintf(in->reason, sizeof(in->reason), "moving: %.0f%% of %.0f MiB to node%s %s", pct,
                 mib(total), multi(in->home_nodes_mask) ? "s" : "", list);
    } else if (v->why[0]) {
        snprintf(in->reason, sizeof(in->reason), "%s", v->why);
    } else if (v->locality < c->cfg->locality_target) {
        snprintf(in->reason, sizeof(in->reason), "below target: no memory to compare");
    } else {
        in->reason[0] = '\0';
    }
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
    c.waiting = calloc(c.nn, sizeof(double));
    c.g = calloc(c.ng ? c.ng : 1, sizeof(*c.g));
    c.scratch_pref = calloc(c.nn, sizeof(double));
    c.per_guest = calloc((c.ng ? c.ng : 1) * 2 * c.nn, sizeof(double));
    c.pool = calloc((c.nn ? c.nn : 1) * NP_HOST_HUGE_SIZES_MAX, sizeof(*c.pool));
    c.nr_sizes = np_host_state_nr_huge_sizes(st);
    rc = np_balance_actions_create(&c.acts);
    if (!rc && (!c.loads || !c.waiting || !c.g || !c.scratch_pref || !c.per_guest || !c.pool))
        rc = -ENOMEM;
    for (size_t k = 0; k < c.nn && !rc; k++)
        for (size_t s = 0; s < c.nr_sizes; s++)
            if (np_host_state_node_huge_free(st, k, np_host_state_huge_size(st, s),
                                             &c.pool[k * NP_HOST_HUGE_SIZES_MAX + s]))
                c.pool[k * NP_HOST_HUGE_SIZES_MAX + s] = 0; /* not measured: no room known */
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

    /* Rounds in a row each guest's locality has been low. A guest whose
     * vCPUs use no CPU makes no memory accesses: its locality costs
     * nothing while it is idle, so it is not counted low (it is confirmed
     * afresh once it runs). */
    for (size_t i = 0; i < c.ng; i++) {
        np_balance_guest_info *in = &c.g[i].entry->info;
        if (c.g[i].locality >= cfg->locality_target || c.g[i].demand <= 0)
            in->low_rounds = 0;
        else if (in->low_rounds < UINT32_MAX)
            in->low_rounds++;
    }
    /* Rounds in a row the node each guest prefers has been overloaded
     * (stage 2 moves only guests whose overload is confirmed). */
    for (size_t i = 0; i < c.ng; i++) {
        const gview *v = &c.g[i];
        np_balance_guest_info *in = &v->entry->info;
        const np_node_load *l = v->pref_node != NONE ? &c.loads[v->pref_node] : NULL;
        if (!l || l->cpu_capacity <= 0 ||
            l->cpu_demand <= l->cpu_capacity * (1.0 + cfg->imbalance_threshold))
            in->hot_rounds = 0;
        else if (in->hot_rounds < UINT32_MAX)
            in->hot_rounds++;
    }
    /* Floating guests due a home this round: their demand is not held
     * against any node while homes are chosen (cpu_free). */
    for (size_t i = 0; i < c.ng; i++) {
        gview *v = &c.g[i];
        v->waiting = v->managed && !v->memory_only && !v->wide && v->floating && v->mem_node != NONE &&
                     v->locality < cfg->locality_target &&
                     v->entry->info.low_rounds >= cfg->confirm_rounds && !held_off(&c, v);
        for (size_t k = 0; k < c.nn && v->waiting; k++)
            c.waiting[k] += v->att[k];
    }
    /* 1: locality, guests in snapshot order (a pinned guest: memory only).
     * A move takes up to two actions; keep the room. */
    for (size_t i = 0; i < c.ng && !rc; i++) {
        gview *v = &c.g[i];
        const np_balance_guest_info *in = &v->entry->info;
        if (!v->managed && !v->pinned)
            continue;
        if (home_set_why(v, cfg->locality_target))
            continue; /* stage 4 still moves what is outside its set */
        if (held_off(&c, v)) {
            if (!in->pending_bytes && v->locality < cfg->locality_target)
                set_why(v, "held off: moved %.0f s ago (hold-off %.0f s)",
                        (double)(now_ns - in->last_move_ns) / 1e9, (double)cfg->hold_off_ns / 1e9);
            continue;
        }
        if (room_for_actions(&c) < 2) {
            if (v->locality < cfg->locality_target)
                set_why(v, "waits: this round's %zu actions are used", cfg->max_actions);
            continue;
        }
        rc = fix_locality(&c, v);
    }
    /* Homes are chosen: every guest's demand counts where it is now. */
    for (size_t k = 0; k < c.nn; k++)
        c.waiting[k] = 0;
    for (size_t i = 0; i < c.ng; i++)
        c.g[i].waiting = false;
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
    for (size_t i = 0; i < c.ng; i++)
        set_reason(&c, &c.g[i]);
    np_balance_state_prune(state);
    state->last_round_ns = now_ns;
    *out = c.acts;
    c.acts = NULL;
out:
    if (rc)
        for (size_t e = 0; e < state->nr; e++)
            state->entries[e].seen = false;
    np_balance_actions_destroy(c.acts);
    free(c.pool);
    free(c.per_guest);
    free(c.scratch_pref);
    free(c.waiting);
    free(c.g);
    free(c.loads);
    return rc;
}
