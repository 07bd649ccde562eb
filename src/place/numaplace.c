/*
 * place/numaplace.c - the default policy's candidate generation.
 *
 * The objective (objective.c) is cheap to evaluate for one node set; the
 * art is to evaluate few sets and still find the best one. numaplace
 * bounds the set size first, then either tries every set in that range
 * (small hosts) or grows sets outwards from a few seeds (big hosts):
 *
 *   k_lo  the fewest nodes with CPUs whose free memory, with all the
 *         CPU-less memory the guest allows, holds the guest (CPU-less
 *         nodes are added to each set that lacks memory, nearest first);
 *   k_hi  one more than the largest of k_lo, the fewest nodes whose free
 *         cores hold the guest's demand, and
 *         the fewest nodes with CPUs that hold the memory alone; capped by
 *         vnuma=N.
 *
 * Small hosts: when the sets of k_lo..k_hi nodes number at most
 * NP_PLACE_EXHAUSTIVE_MAX_SETS (an 8-node host for k <= 4), all of them.
 *
 * Big hosts: every single node (when k_lo is 1), the k_lo nodes with most
 * free memory, then from each of the NP_PLACE_SEEDS best seeds (by a cheap
 * per-node score: how much of the guest's memory and demand the node can
 * take, minus its device and group distance), plus the nodes nearest the
 * guest's devices and group, grow a set by distance like numad and xapi
 * do: the next node comes from the nearest tier of unused nodes (by SLIT
 * distance from the seed); of that tier the NP_PLACE_GROW_PICKS best by
 * score are scored in full and the cheapest is kept. That is O(n) for the
 * singles and O(seeds * k_hi * (tier scan + picks * k^2)) for the growth.
 *
 * Both end with a local search (add one or two near nodes, drop one, swap
 * one) from the best set and the runner-up. On 256 nodes a decision
 * scores a few hundred sets, against C(256, 3) = 2.7 million sets of 3.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/hoststate_int.h"
#include "place/place_int.h"

/* Memo of try_set's answers on hosts of at most NP_PLACE_MEMO_MAX_NODES
 * nodes, keyed by the node set as a bit mask of node indices (one 64-bit
 * word per 64 nodes). The local search tries many sets again (a one-node
 * best plus a near node is a pair every small host has enumerated; each
 * step re-tries most of the previous step's neighbours), and on a big
 * host the growths from different seeds reach the same sets: on the
 * 256-node host of `bench engine --policy numaplace-soft`, 43% of the sets
 * a decision tried were repeats, most of them the growth's sets of 5-64
 * nodes, the dearest to score. try_set is a pure function of the set and
 * np_place_consider() ignores a set it has seen, so answering from the
 * memo changes nothing but the time. */
#define NP_PLACE_MEMO_MAX_NODES 256u
#define NP_PLACE_MEMO_WORDS (NP_PLACE_MEMO_MAX_NODES / 64u)
/* Slots: a power of two, at least twice the sets the search is expected
 * to try (the enumerated ones plus NP_PLACE_MEMO_LOCAL_GUESS for the local
 * search; NP_PLACE_MEMO_GROW_GUESS for a growth from seeds: about 400
 * different sets per decision on that 256-node host), between the two
 * bounds below; clearing them is part of every decision, so a two-node
 * host gets a small table. Past 3/4 full, new sets are scored and not
 * kept: slower, never different. */
#define NP_PLACE_MEMO_MIN_SLOTS 32u
#define NP_PLACE_MEMO_MAX_SLOTS 1024u
/* ... and with a one-word key (up to 64 nodes), as many as before the
 * wide keys: clearing twice as many slots cost more than it saved. */
#define NP_PLACE_MEMO_MAX_SLOTS_ONE_WORD 512u
#define NP_PLACE_MEMO_LOCAL_GUESS 32u
#define NP_PLACE_MEMO_GROW_GUESS 512u
#define NP_PLACE_MEMO_HASH_MUL UINT64_C(0x9e3779b97f4a7c15) /* Fibonacci hashing */

typedef struct np_memo {
    size_t slots;   /* 0: off */
    size_t words;   /* of a key: one per 64 nodes of the host */
    unsigned shift; /* 64 - log2(slots) */
    size_t used;
    /* slot i's key is mask[i * words .. (i + 1) * words); all zero: empty
     * (a set is never empty) */
    uint64_t mask[NP_PLACE_MEMO_MAX_SLOTS * NP_PLACE_MEMO_WORDS];
    double cost[NP_PLACE_MEMO_MAX_SLOTS];
} np_memo;

/* Sizes and clears the memo for about `sets` sets (see above). */
static void memo_init(np_memo *m, size_t nr_nodes, uint64_t sets)
{
    m->slots = 0;
    m->used = 0;
    if (nr_nodes > NP_PLACE_MEMO_MAX_NODES)
        return;
    size_t slots = NP_PLACE_MEMO_MIN_SLOTS;
    size_t max = nr_nodes > 64 ? NP_PLACE_MEMO_MAX_SLOTS : NP_PLACE_MEMO_MAX_SLOTS_ONE_WORD;
    unsigned bits = 5; /* log2(NP_PLACE_MEMO_MIN_SLOTS) */
    while (slots < max && slots < 2 * (sets + NP_PLACE_MEMO_LOCAL_GUESS)) {
        slots *= 2;
        bits++;
    }
    m->slots = slots;
    m->words = nr_nodes > 64 ? (nr_nodes + 63) / 64 : 1;
    m->shift = 64u - bits;
    memset(m->mask, 0, slots * m->words * sizeof(m->mask[0]));
}

typedef struct np_gen {
    const np_place_ctx *ctx;
    np_search *s;
    uint32_t *cpu_nodes; /* nodes with CPUs, ascending */
    size_t nr_cpu;
    uint32_t *less_nodes; /* CPU-less nodes with memory, when allowed */
    size_t nr_less;
    size_t k_lo, k_hi;
    np_memo *memo;
    bool shortcuts; /* the memo, the lower bound and the early exit */
} np_gen;

/* The memo's slot for a set: where it is, or the empty slot where it
 * would go; SIZE_MAX when the set cannot be keyed (a big host, or a node
 * listed twice). key_out gets the set's mask (m->words words). */
static size_t memo_slot(const np_gen *g, const uint32_t *nodes, size_t k, uint64_t *key_out)
{
    const np_memo *m = g->memo;
    if (m->slots == 0)
        return SIZE_MAX;
    if (m->words == 1) { /* up to 64 nodes: one word, the loops below without loops */
        uint64_t mask = 0;
        for (size_t p = 0; p < k; p++) {
            uint64_t bit = UINT64_C(1) << nodes[p];
            if (mask & bit)
                return SIZE_MAX;
            mask |= bit;
        }
        size_t at = (size_t)((mask * NP_PLACE_MEMO_HASH_MUL) >> m->shift);
        while (m->mask[at] != 0 && m->mask[at] != mask)
            at = (at + 1) & (m->slots - 1);
        key_out[0] = mask;
        return at;
    }
    memset(key_out, 0, m->words * sizeof(key_out[0]));
    for (size_t p = 0; p < k; p++) {
        uint64_t bit = UINT64_C(1) << (nodes[p] % 64u);
        uint64_t *word = &key_out[nodes[p] / 64u];
        if (*word & bit)
            return SIZE_MAX;
        *word |= bit;
    }
    /* Each word folded in, then times the constant (one word: as above). */
    uint64_t h = 0;
    for (size_t w = 0; w < m->words; w++)
        h = (h ^ key_out[w]) * NP_PLACE_MEMO_HASH_MUL;
    size_t at = (size_t)(h >> m->shift);
    for (;;) {
        const uint64_t *slot = &m->mask[at * m->words];
        bool empty = true, same = true;
        for (size_t w = 0; w < m->words; w++) {
            empty &= slot[w] == 0;
            same &= slot[w] == key_out[w];
        }
        if (empty || same)
            return at;
        at = (at + 1) & (m->slots - 1);
    }
}

/* Whether slot `at` holds `key` (else it is the empty slot for it). */
static bool memo_holds(const np_memo *m, size_t at, const uint64_t *key)
{
    if (m->words == 1)
        return m->mask[at] == key[0];
    return memcmp(&m->mask[at * m->words], key, m->words * sizeof(key[0])) == 0;
}

/* Adds CPU-less nodes to a set that lacks memory until their free memory
 * covers the shortfall: nearest first (mean distance from the set's
 * nodes; more free memory on ties), or, when that would take more nodes
 * than vnuma=N allows, largest first. */
static void complete_cpuless(const np_gen *g, np_cand *c, bool largest_first)
{
    const np_place_ctx *ctx = g->ctx;
    uint64_t need = c->short_mib, got = 0;
    size_t k0 = c->k;
    while (got < need && c->k < ctx->max_nodes && c->k < NP_PLACE_MAX_SET_NODES) {
        size_t best = g->nr_less;
        double best_d = 0.0;
        for (size_t i = 0; i < g->nr_less; i++) {
            uint32_t node = g->less_nodes[i];
            bool taken = false;
            for (size_t p = k0; p < c->k; p++)
                taken |= c->node[p] == node;
            if (taken)
                continue;
            double d = 0.0;
            for (size_t p = 0; p < k0 && !largest_first; p++)
                d += (double)np_topology_distance(ctx->topo, c->node[p], node);
            d /= (double)k0;
            if (best == g->nr_less || d < best_d ||
                (d == best_d && ctx->avail_mib[node] > ctx->avail_mib[g->less_nodes[best]])) {
                best = i;
                best_d = d;
            }
        }
        if (best == g->nr_less)
            break;
        c->node[c->k++] = g->less_nodes[best];
        got += ctx->avail_mib[g->less_nodes[best]];
    }
}

/* Evaluates a set of CPU nodes, and its completion with CPU-less nodes
 * when it lacks memory and the guest allows that. Returns the cost of the
 * feasible version, or INFINITY. try_set() answers from the memo when it
 * can. */
static double try_set_scored(const np_gen *g, const uint32_t *nodes, size_t k)
{
    np_cand c;
    c.k = (uint32_t)k;
    memcpy(c.node, nodes, k * sizeof(c.node[0]));
    np_place_eval(g->ctx, &c);
    np_place_consider(g->s, &c);
    if (c.reject != NP_REJECT_MEMORY || g->nr_less == 0)
        return c.reject == NP_REJECT_NONE ? c.cost : INFINITY;
    /* c.node is sorted now, and all of it CPU nodes */
    np_cand cpu_only;
    np_cand_copy(&cpu_only, &c);
    complete_cpuless(g, &c, false);
    if (c.k > k) {
        np_place_eval(g->ctx, &c);
        np_place_consider(g->s, &c);
    }
    if (c.reject == NP_REJECT_MEMORY) {
        np_cand_copy(&c, &cpu_only);
        complete_cpuless(g, &c, true);
        if (c.k > k) {
            np_place_eval(g->ctx, &c);
            np_place_consider(g->s, &c);
        }
    }
    return c.reject == NP_REJECT_NONE ? c.cost : INFINITY;
}

/* try_set_scored() unless the memo knows the set or the set provably
 * costs more than both the last runner-up kept and `bar`, the cost the
 * caller needs to beat (-INFINITY when it only collects candidates): such
 * a set would change nothing in the search, and the caller gets INFINITY
 * (not kept in the memo, whose answers are real costs). */
static double try_set(const np_gen *g, const uint32_t *nodes, size_t k, double bar)
{
    uint64_t key[NP_PLACE_MEMO_WORDS];
    size_t at = memo_slot(g, nodes, k, key);
    if (at != SIZE_MAX && memo_holds(g->memo, at, key))
        return g->memo->cost[at];
    const np_search *s = g->s;
    if (g->shortcuts && s->found && s->nr_alts == NP_PLACE_MAX_ALTS) {
        double last = s->alts[NP_PLACE_MAX_ALTS - 1].cost;
        if (np_place_cannot_beat(g->ctx, nodes, k, bar > last ? bar : last))
            return INFINITY;
    }
    double cost = try_set_scored(g, nodes, k);
    if (at != SIZE_MAX && g->memo->used < g->memo->slots / 4 * 3) {
        if (g->memo->words == 1)
            g->memo->mask[at] = key[0];
        else
            memcpy(&g->memo->mask[at * g->memo->words], key, g->memo->words * sizeof(key[0]));
        g->memo->cost[at] = cost;
        g->memo->used++;
    }
    return cost;
}

static int cmp_u64_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x < y) - (x > y);
}

static int cmp_double_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* Up to this many CPU nodes, size_range() sorts on the stack by insertion
 * (qsort's set-up costs more than the sort); above, malloc and qsort. The
 * sorted values are the same either way. */
#define SIZE_RANGE_SMALL 32u

static void sort_desc_small(uint64_t *mem, double *room, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t m = mem[i];
        double r = room[i];
        size_t j = i;
        while (j > 0 && mem[j - 1] < m) {
            mem[j] = mem[j - 1];
            j--;
        }
        mem[j] = m;
        j = i;
        while (j > 0 && room[j - 1] < r) {
            room[j] = room[j - 1];
            j--;
        }
        room[j] = r;
    }
}

/* The size range (see the top of the file). */
static int size_range(np_gen *g)
{
    const np_place_ctx *ctx = g->ctx;
    uint64_t mem_small[SIZE_RANGE_SMALL];
    double room_small[SIZE_RANGE_SMALL];
    bool small = g->nr_cpu <= SIZE_RANGE_SMALL;
    uint64_t *mem = small ? mem_small : malloc(g->nr_cpu * sizeof(*mem));
    double *room = small ? room_small : malloc(g->nr_cpu * sizeof(*room));
    int rc = 0;

    if (!mem || !room) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < g->nr_cpu; i++) {
        mem[i] = ctx->avail_mib[g->cpu_nodes[i]];
        double r = np_place_free_cores(ctx, g->cpu_nodes[i]);
        room[i] = r > 0.0 ? r : 0.0;
    }
    if (small) {
        sort_desc_small(mem, room, g->nr_cpu);
    } else {
        qsort(mem, g->nr_cpu, sizeof(*mem), cmp_u64_desc);
        qsort(room, g->nr_cpu, sizeof(*room), cmp_double_desc);
    }
    uint64_t less = 0;
    for (size_t i = 0; i < g->nr_less; i++)
        less += ctx->avail_mib[g->less_nodes[i]];
    /* k_mem: fewest CPU nodes with all the CPU-less memory allowed;
     * k_mem_cpu: fewest without any (0 when CPU nodes alone cannot). */
    size_t k_mem = 0, k_mem_cpu = 0, k_cpu = g->nr_cpu;
    uint64_t sum = 0;
    for (size_t k = 0; k < g->nr_cpu && !k_mem_cpu; k++) {
        sum += mem[k];
        if (!k_mem && sum + less >= ctx->mem_mib)
            k_mem = k + 1;
        if (sum >= ctx->mem_mib)
            k_mem_cpu = k + 1;
    }
    double dsum = 0.0;
    if (ctx->demand <= 0.0)
        k_cpu = 1;
    for (size_t k = 0; k < g->nr_cpu && ctx->demand > 0.0; k++) {
        dsum += room[k];
        if (dsum >= ctx->demand) {
            k_cpu = k + 1;
            break;
        }
    }
    /* With CPU-less memory allowed, small sets of CPU nodes completed with
     * it and larger sets of CPU nodes alone both count. */
    g->k_lo = k_mem ? k_mem : g->nr_cpu;
    size_t hi = k_cpu > g->k_lo ? k_cpu : g->k_lo;
    hi = (k_mem_cpu > hi ? k_mem_cpu : hi) + NP_PLACE_EXTRA_NODES;
    if (hi > g->nr_cpu)
        hi = g->nr_cpu;
    if (hi > ctx->max_nodes)
        hi = ctx->max_nodes;
    g->k_hi = hi;
out:
    if (mem != mem_small)
        free(mem);
    if (room != room_small)
        free(room);
    return rc;
}

/* Number of k-sets of n, saturating at limit + 1. */
static uint64_t choose_capped(size_t n, size_t k, uint64_t limit)
{
    if (k > n)
        return 0;
    uint64_t r = 1;
    for (size_t i = 1; i <= k; i++) {
        /* r * (n - k + i) / i stays exact: r is C(n - k + i - 1, i - 1) */
        r = r * (uint64_t)(n - k + i) / (uint64_t)i;
        if (r > limit)
            return limit + 1;
    }
    return r;
}

/* Every k-set of the CPU nodes for k in [k_lo, k_hi]. */
static void enumerate_all(np_gen *g)
{
    size_t pos[NP_PLACE_MAX_SET_NODES];
    uint32_t nodes[NP_PLACE_MAX_SET_NODES];
    size_t n = g->nr_cpu;
    for (size_t k = g->k_lo; k <= g->k_hi; k++) {
        for (size_t i = 0; i < k; i++)
            pos[i] = i;
        for (;;) {
            for (size_t i = 0; i < k; i++)
                nodes[i] = g->cpu_nodes[pos[i]];
            try_set(g, nodes, k, -INFINITY);
            if (!np_comb_next(pos, k, n))
                break;
        }
    }
}

/* Cheap per-node score for seeds and growth (higher is better): the part
 * of the guest's memory and of its demand the node could take (each at
 * most 1), less its device and group terms. */
static void node_scores(const np_gen *g)
{
    const np_place_ctx *ctx = g->ctx;
    for (size_t i = 0; i < g->nr_cpu; i++) {
        uint32_t node = g->cpu_nodes[i];
        double mem = (double)ctx->avail_mib[node] / (double)ctx->mem_mib;
        double cpu = 1.0;
        if (ctx->demand > 0.0) {
            double r = np_place_free_cores(ctx, node);
            cpu = r > 0.0 ? r / ctx->demand : 0.0;
        }
        ctx->score[node] = (mem < 1.0 ? mem : 1.0) + (cpu < 1.0 ? cpu : 1.0) -
                           ctx->dev_cost[node] - ctx->group_cost[node];
    }
}

static bool score_better(const np_place_ctx *ctx, uint32_t a, uint32_t b)
{
    if (ctx->score[a] != ctx->score[b])
        return ctx->score[a] > ctx->score[b];
    return a < b;
}

static void most_memory(const np_gen *g, size_t k, np_cand *c);

/* The unused CPU nodes nearest to a set (smallest distance to any of its
 * nodes; better score, then lower index, on ties), at most `max`. */
static size_t nearest_unused(const np_gen *g, const uint32_t *set, size_t k, uint32_t *out,
                             size_t max)
{
    const np_place_ctx *ctx = g->ctx;
    uint32_t dist[NP_PLACE_LOCAL_NEAR];
    size_t nr = 0;
    for (size_t p = 0; p < k; p++)
        ctx->used[set[p]] = true;
    for (size_t i = 0; i < g->nr_cpu; i++) {
        uint32_t node = g->cpu_nodes[i];
        if (ctx->used[node])
            continue;
        uint32_t d = UINT32_MAX;
        for (size_t p = 0; p < k; p++) {
            uint32_t dp = np_topology_distance(ctx->topo, set[p], node);
            d = dp < d ? dp : d;
        }
        size_t at = nr;
        while (at > 0 && (d < dist[at - 1] ||
                          (d == dist[at - 1] && score_better(ctx, node, out[at - 1]))))
            at--;
        if (at >= max)
            continue;
        size_t last = nr < max ? nr : max - 1;
        memmove(&out[at + 1], &out[at], (last - at) * sizeof(out[0]));
        memmove(&dist[at + 1], &dist[at], (last - at) * sizeof(dist[0]));
        out[at] = node;
        dist[at] = d;
        if (nr < max)
            nr++;
    }
    for (size_t p = 0; p < k; p++)
        ctx->used[set[p]] = false;
    return nr;
}

/* Local search from the best set found so far: add one of the nearest
 * unused nodes, drop one node, or swap one for a near one; take the best
 * improving move, at most NP_PLACE_LOCAL_STEPS times. It reaches sets
 * outside the size range (a spread that relieves overloaded CPUs) and
 * repairs the greedy growth's early choices. Each step scores
 * O(k * NP_PLACE_LOCAL_NEAR) sets. */
static void local_search(const np_gen *g, const np_cand *start)
{
    const np_place_ctx *ctx = g->ctx;
    uint32_t cur[NP_PLACE_MAX_SET_NODES], trial[NP_PLACE_MAX_SET_NODES];
    uint32_t best_set[NP_PLACE_MAX_SET_NODES], near[NP_PLACE_LOCAL_NEAR];
    size_t k = 0;

    for (size_t p = 0; p < start->k; p++)
        if (ctx->has_cpus[start->node[p]])
            cur[k++] = start->node[p];
    double cur_cost = start->cost;
    size_t max_k = ctx->max_nodes < g->nr_cpu ? ctx->max_nodes : g->nr_cpu;
    for (unsigned step = 0; step < NP_PLACE_LOCAL_STEPS; step++) {
        size_t nr_near = nearest_unused(g, cur, k, near, NP_PLACE_LOCAL_NEAR);
        size_t best_k = 0;
        double best_cost = cur_cost;
        /* add */
        for (size_t q = 0; q < nr_near && k < max_k; q++) {
            memcpy(trial, cur, k * sizeof(trial[0]));
            trial[k] = near[q];
            double c = try_set(g, trial, k + 1, best_cost);
            if (c < best_cost) {
                best_cost = c;
                best_k = k + 1;
                memcpy(best_set, trial, best_k * sizeof(trial[0]));
            }
        }
        /* add two: integer vCPU shares make some spreads pay off only
         * two nodes at a time */
        for (size_t q = 0; q < nr_near && k + 1 < max_k; q++) {
            for (size_t r = q + 1; r < nr_near; r++) {
                memcpy(trial, cur, k * sizeof(trial[0]));
                trial[k] = near[q];
                trial[k + 1] = near[r];
                double c = try_set(g, trial, k + 2, best_cost);
                if (c < best_cost) {
                    best_cost = c;
                    best_k = k + 2;
                    memcpy(best_set, trial, best_k * sizeof(trial[0]));
                }
            }
        }
        for (size_t p = 0; p < k; p++) {
            /* drop p */
            size_t t = 0;
            for (size_t i = 0; i < k; i++)
                if (i != p)
                    trial[t++] = cur[i];
            if (t > 0) {
                double c = try_set(g, trial, t, best_cost);
                if (c < best_cost) {
                    best_cost = c;
                    best_k = t;
                    memcpy(best_set, trial, best_k * sizeof(trial[0]));
                }
            }
            /* swap p for a near node */
            for (size_t q = 0; q < nr_near; q++) {
                memcpy(trial, cur, k * sizeof(trial[0]));
                trial[p] = near[q];
                double c = try_set(g, trial, k, best_cost);
                if (c < best_cost) {
                    best_cost = c;
                    best_k = k;
                    memcpy(best_set, trial, best_k * sizeof(trial[0]));
                }
            }
        }
        if (best_k == 0)
            break; /* a local optimum */
        k = best_k;
        memcpy(cur, best_set, k * sizeof(cur[0]));
        cur_cost = best_cost;
    }
}

/* Grows a set from `seed` (see the top of the file). */
static void grow(np_gen *g, uint32_t seed)
{
    const np_place_ctx *ctx = g->ctx;
    const uint32_t *row = np_hs_nodes_by_distance(ctx->st, seed);
    uint32_t set[NP_PLACE_MAX_SET_NODES];
    size_t k = 1, pos = 1;

    set[0] = seed;
    ctx->used[seed] = true;
    while (k < g->k_hi) {
        while (pos < ctx->n && (ctx->used[row[pos]] || !ctx->has_cpus[row[pos]]))
            pos++;
        if (pos >= ctx->n)
            break;
        /* The best few unused CPU nodes of the nearest tier. */
        uint32_t tier_d = np_topology_distance(ctx->topo, seed, row[pos]);
        uint32_t picks[NP_PLACE_GROW_PICKS];
        size_t nr_picks = 0;
        for (size_t q = pos; q < ctx->n; q++) {
            uint32_t node = row[q];
            if (np_topology_distance(ctx->topo, seed, node) != tier_d)
                break;
            if (ctx->used[node] || !ctx->has_cpus[node])
                continue;
            size_t at = nr_picks;
            while (at > 0 && score_better(ctx, node, picks[at - 1]))
                at--;
            if (at >= NP_PLACE_GROW_PICKS)
                continue;
            size_t last = nr_picks < NP_PLACE_GROW_PICKS ? nr_picks : NP_PLACE_GROW_PICKS - 1;
            memmove(&picks[at + 1], &picks[at], (last - at) * sizeof(picks[0]));
            picks[at] = node;
            if (nr_picks < NP_PLACE_GROW_PICKS)
                nr_picks++;
        }
        if (nr_picks == 0)
            break; /* cannot happen: row[pos] is an unused CPU node */
        uint32_t chosen = picks[0];
        if (k + 1 >= g->k_lo) {
            double best = INFINITY;
            for (size_t i = 0; i < nr_picks; i++) {
                set[k] = picks[i];
                double cost = try_set(g, set, k + 1, best);
                if (cost < best) {
                    best = cost;
                    chosen = picks[i];
                }
            }
        }
        set[k++] = chosen;
        ctx->used[chosen] = true;
    }
    for (size_t i = 0; i < k; i++)
        ctx->used[set[i]] = false;
}

static void grow_from_seeds(np_gen *g)
{
    const np_place_ctx *ctx = g->ctx;
    uint32_t seeds[NP_PLACE_SEEDS + 2];
    size_t nr = 0;
    np_cand c;

    /* The k_lo nodes with most free memory always hold the guest's
     * memory: with them among the candidates, growth can only improve on
     * a placement, never miss one. */
    most_memory(g, g->k_lo, &c);
    try_set(g, c.node, c.k, -INFINITY);
    if (g->k_lo == 1) {
        for (size_t i = 0; i < g->nr_cpu; i++)
            try_set(g, &g->cpu_nodes[i], 1, -INFINITY);
    }
    if (g->k_hi < 2)
        return;
    /* The best seeds by score (a partial insertion sort). */
    for (size_t i = 0; i < g->nr_cpu; i++) {
        uint32_t node = g->cpu_nodes[i];
        size_t at = nr;
        while (at > 0 && score_better(ctx, node, seeds[at - 1]))
            at--;
        if (at >= NP_PLACE_SEEDS)
            continue;
        size_t last = nr < NP_PLACE_SEEDS ? nr : NP_PLACE_SEEDS - 1;
        memmove(&seeds[at + 1], &seeds[at], (last - at) * sizeof(seeds[0]));
        seeds[at] = node;
        if (nr < NP_PLACE_SEEDS)
            nr++;
    }
    /* The nodes nearest the devices and the group, if not among them. */
    const double *terms[2] = {ctx->dev_cost, ctx->group_cost};
    for (size_t t = 0; t < 2; t++) {
        size_t best = g->nr_cpu;
        bool any = false;
        for (size_t i = 0; i < g->nr_cpu; i++) {
            uint32_t node = g->cpu_nodes[i];
            any |= terms[t][node] != 0.0;
            if (best == g->nr_cpu || terms[t][node] < terms[t][g->cpu_nodes[best]])
                best = i;
        }
        if (!any)
            continue;
        bool have = false;
        for (size_t i = 0; i < nr; i++)
            have |= seeds[i] == g->cpu_nodes[best];
        if (!have)
            seeds[nr++] = g->cpu_nodes[best];
    }
    for (size_t i = 0; i < nr; i++)
        grow(g, seeds[i]);
}

/* The k CPU nodes with most free memory, for the record of why fewer
 * nodes cannot do. */
static void most_memory(const np_gen *g, size_t k, np_cand *c)
{
    const np_place_ctx *ctx = g->ctx;
    c->k = (uint32_t)(k < g->nr_cpu ? k : g->nr_cpu);
    for (size_t p = 0; p < c->k; p++) {
        size_t best = g->nr_cpu;
        for (size_t i = 0; i < g->nr_cpu; i++) {
            uint32_t node = g->cpu_nodes[i];
            bool taken = false;
            for (size_t q = 0; q < p; q++)
                taken |= c->node[q] == node;
            if (!taken &&
                (best == g->nr_cpu || ctx->avail_mib[node] > ctx->avail_mib[g->cpu_nodes[best]]))
                best = i;
        }
        c->node[p] = g->cpu_nodes[best];
    }
}

/* Records the best set one node smaller than k_lo: rejected, it says in
 * the explanation how much memory fewer nodes lack. */
static void record_smaller(const np_gen *g)
{
    np_cand c;
    most_memory(g, g->k_lo - 1, &c);
    np_place_eval(g->ctx, &c);
    np_place_consider(g->s, &c);
}

int np_place_numaplace(const np_place_ctx *ctx, const np_numaplace_opts *opts, np_search *s)
{
    np_gen g = {.ctx = ctx, .s = s};
    int rc = 0;

    /* The memo (40 KiB) and the caller's np_search (10 KiB) live on the
     * stack: on a two-node host a decision takes about a microsecond, and
     * each large malloc made glibc consolidate its free lists. */
    np_memo memo;
    g.memo = &memo;
    memo.slots = 0; /* sized below, once the search's size is known */
    g.cpu_nodes = ctx->nodes_a;
    g.less_nodes = ctx->nodes_b;
    for (size_t i = 0; i < ctx->n; i++) {
        if (ctx->has_cpus[i])
            g.cpu_nodes[g.nr_cpu++] = (uint32_t)i;
        else if (ctx->cpuless_ok && ctx->avail_mib[i] > 0)
            g.less_nodes[g.nr_less++] = (uint32_t)i;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < g.nr_cpu; i++)
        total += ctx->avail_mib[g.cpu_nodes[i]];
    for (size_t i = 0; i < g.nr_less; i++)
        total += ctx->avail_mib[g.less_nodes[i]];
    if (total < ctx->mem_mib || g.nr_cpu == 0)
        goto out; /* nothing can fit: np_place_no_fit says why */
    rc = size_range(&g);
    if (rc < 0)
        goto out;
    if (g.k_lo > g.k_hi) {
        /* vnuma=N allows fewer nodes than the memory needs: record the
         * best N nodes' shortfall for the message, nothing can fit. */
        np_cand c;
        most_memory(&g, ctx->max_nodes, &c);
        np_place_eval(ctx, &c);
        np_place_consider(s, &c);
        goto out;
    }
    if (g.k_lo > 1)
        record_smaller(&g);
    uint64_t limit = opts ? opts->exhaustive_max_sets : NP_PLACE_EXHAUSTIVE_MAX_SETS;
    uint64_t sets = 0;
    for (size_t k = g.k_lo; k <= g.k_hi && sets <= limit; k++)
        sets += choose_capped(g.nr_cpu, k, limit);
    g.shortcuts = !(opts && opts->no_shortcuts);
    if (g.shortcuts)
        memo_init(g.memo, ctx->n, sets <= limit ? sets : NP_PLACE_MEMO_GROW_GUESS);
    if (sets <= limit) {
        enumerate_all(&g);
        /* Early exit: when every set of CPU nodes the local search could
         * reach (1 node up to the most it may use) has been enumerated,
         * it can only revisit them (two- and three-node hosts, mostly). */
        size_t max_k = ctx->max_nodes < g.nr_cpu ? ctx->max_nodes : g.nr_cpu;
        if (g.shortcuts && g.k_lo == 1 && g.k_hi >= max_k)
            goto out;
        node_scores(&g);
    } else {
        node_scores(&g);
        grow_from_seeds(&g);
    }
    /* From the best set and the runner-up (another basin, often), copied
     * first: the search updates both. */
    np_cand start[2];
    size_t nr_start = 0;
    if (s->found)
        np_cand_copy(&start[nr_start++], &s->best);
    if (s->nr_alts > 0)
        np_cand_copy(&start[nr_start++], &s->alts[0]);
    for (size_t i = 0; i < nr_start; i++)
        local_search(&g, &start[i]);
out:
    return rc;
}

int np_place_oracle_search(const np_place_ctx *ctx, np_search *s)
{
    if (ctx->n > NP_PLACE_ORACLE_MAX_NODES)
        return -E2BIG;
    /* Every non-empty subset of the nodes, as a bit mask over indices. */
    for (uint32_t mask = 1; mask < (UINT32_C(1) << ctx->n); mask++) {
        np_cand c;
        c.k = 0;
        bool skip = false;
        for (size_t i = 0; i < ctx->n; i++) {
            if (!(mask & (UINT32_C(1) << i)))
                continue;
            if (!ctx->has_cpus[i] && !ctx->cpuless_ok)
                skip = true;
            c.node[c.k++] = (uint32_t)i;
        }
        if (skip || c.k > ctx->max_nodes)
            continue;
        np_place_eval(ctx, &c);
        np_place_consider(s, &c);
    }
    return 0;
}
