/*
 * place/place_int.h - what the placement policies share: the per-decision
 * context (node loads and the guest's needs, computed once), a candidate
 * (a node set with its memory and vCPU split), the objective that splits
 * and scores a candidate, the search bookkeeping (best, runners-up,
 * rejections) and the placement object they all produce.
 *
 * Every search has one shape: np_place_ctx_init() does all the work that
 * does not depend on the candidate (O(nodes + guests' vCPUs)), then the
 * policy generates node sets and hands each to np_place_eval() (split and
 * score, O(k^2) for k nodes, k small) and np_place_consider() (keep the
 * best, the runners-up and a few rejections).
 */
#ifndef NP_PLACE_INT_H
#define NP_PLACE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <numaplace/place.h>

/* ---- knobs of the objective ------------------------------------------------------ */

/* The objective's terms are all in one unit, the expected slowdown of the
 * guest (the share of its work lost, its own and what it makes the
 * guests already there lose, per unit of its demand), with the constants
 * of src/model/calibration.h (data/calibration.conf says where each comes
 * from). No weights: a term that is not a slowdown (headroom) is scaled by
 * its own calibration entry. */

/* When a node has no free core left its room counts as this fraction of
 * its cores, so the split's shares stay defined (never 0/0) and busy nodes
 * still take a little of a guest that must span them. */
#define NP_PLACE_CPU_MIN_ROOM 0.1

/* ---- knobs of the search ---------------------------------------------------------- */

/* Largest node set a placement may use (a vnuma layout has at most
 * NP_VNUMA_MAX_NODES virtual nodes, each on one physical node). */
#define NP_PLACE_MAX_SET_NODES 64u
/* Up to this many node sets in the size range, numaplace tries them all
 * (8 nodes, sizes 1-4: 162 sets); above, it grows sets from seeds. */
#define NP_PLACE_EXHAUSTIVE_MAX_SETS 256u
/* Seeds grown outwards on big hosts: the best by a cheap score, plus the
 * nodes of the guest's devices and group. */
#define NP_PLACE_SEEDS 8u
/* At each growth step, this many of the nearest unused nodes (best by the
 * cheap score) are scored in full; the cheapest is kept. */
#define NP_PLACE_GROW_PICKS 4u
/* Local search after the generation: at most this many improving moves,
 * each trying the nearest unused nodes. */
#define NP_PLACE_LOCAL_STEPS 8u
#define NP_PLACE_LOCAL_NEAR 6u
/* Sizes tried above the smallest that holds the memory and the demand. */
#define NP_PLACE_EXTRA_NODES 1u
/* Explanation: runners-up with a cost, and rejected sets with a reason. */
#define NP_PLACE_MAX_ALTS 5u
#define NP_PLACE_MAX_REJECTS 3u
#define NP_PLACE_MAX_TERMS 8u /* >= NP_TERM_COUNT + xl42's two criteria */
#define NP_PLACE_NOTE_MAX 384u

#define NP_MiB (UINT64_C(1) << 20)

/* ---- context ------------------------------------------------------------------------ */

typedef struct np_place_ctx {
    const np_host_state *st;
    const np_topology *topo;
    const np_guest_spec *spec;
    size_t n;             /* nodes of the host */
    np_node_load *load;   /* per node */
    uint64_t *avail_mib;  /* per node: whole MiB a new guest may take */
    bool *has_cpus;       /* per node */
    double *dev_cost;     /* per node: device term of a share placed there */
    double *group_cost;   /* per node: group term of a share placed there */
    /* Per node, what the split and the score would otherwise work out
     * again for every candidate holding the node (same expressions, so
     * the same values): */
    double *share;       /* the split's weight of a CPU node (objective.c) */
    double *util_before; /* cpu_demand / cpu_capacity, at most 1 (0 without capacity) */
    double *cores;       /* the node's cores */
    double *threads;     /* the node's CPUs (hyper-threads) */
    double *loss_before; /* vCPU-equivalents of demand the node cannot serve now */
    double *usable_mib;  /* total - reserved, whole MiB */
    double *fill_before; /* memory fill before the guest (1 without usable memory) */
    const double *lat;   /* the topology's latency ratios, n x n, or NULL (np_place_lat) */
    uint32_t vcpus;
    bool vnuma;           /* a split guest sees its layout (vnuma not off) */
    bool group_by_vcpu;   /* the group term follows the vCPUs (colocate) */
    double vcpu_demand;   /* per vCPU, 0..1 */
    double demand;        /* vcpus * vcpu_demand */
    uint64_t mem_mib;     /* balloon maximum, rounded up to whole MiB */
    size_t max_nodes;     /* vnuma=N caps the set size at N */
    bool cpuless_ok;      /* memory may go to CPU-less nodes */
    /* scratch for the searches, n entries each */
    bool *used;
    double *score;        /* cheap per-node score for seeds and growth */
    uint32_t *nodes_a;    /* node lists of the policies (CPU / CPU-less nodes) */
    uint32_t *nodes_b;
    void *block; /* the one allocation behind the arrays above */
    size_t block_bytes;
} np_place_ctx;

int np_place_ctx_init(np_place_ctx *ctx, const np_host_state *st, const np_guest_spec *spec);
/* *dst as np_place_ctx_init would make it for src's state and guest, from
 * src (initialised for them, then used by a decision): its own copy of the
 * per-node figures, with what a decision changes (the search's scratch,
 * cpuless_ok, vnuma) set back as the init sets it. The count guard runs
 * the peers on copies of numaplace's context instead of working it out
 * again for each. Nothing else in a context changes after its init
 * (test_place_split_only compares a copy with a fresh one). */
int np_place_ctx_copy(np_place_ctx *dst, const np_place_ctx *src);

/* Cores of node i not busy yet (demand counted against cores first, as
 * a scheduler that spreads over idle cores before siblings runs it);
 * negative past the cores. */
static inline double np_place_free_cores(const np_place_ctx *ctx, size_t i)
{
    return ctx->cores[i] - ctx->load[i].cpu_demand;
}
void np_place_ctx_fini(np_place_ctx *ctx);
/* np_calib_latency_ratio(ctx->topo, i, j), read from the topology's table
 * where it has one (the search reads it for every pair of every set). */
double np_place_lat_slow(const np_place_ctx *ctx, size_t i, size_t j);
static inline double np_place_lat(const np_place_ctx *ctx, size_t i, size_t j)
{
    return ctx->lat ? ctx->lat[i * ctx->n + j] : np_place_lat_slow(ctx, i, j);
}
/* The guest will see no vNUMA layout (xl42, fallbacks: the hypervisor
 * builds none): all its accesses spread like its memory. */
void np_place_ctx_no_vnuma(np_place_ctx *ctx);
/* Fills the context's per-node figures of the objective (share,
 * util_before, ... local_dist); np_place_ctx_init calls it. */
void np_place_objective_prepare(np_place_ctx *ctx);

/* ---- candidate ---------------------------------------------------------------------- */

typedef enum np_reject {
    NP_REJECT_NONE = 0,
    NP_REJECT_MEMORY,   /* short_mib more memory needed */
    NP_REJECT_NO_CPU,   /* only CPU-less nodes */
    NP_REJECT_UNUSED,   /* a node would get neither memory nor vCPUs */
    NP_REJECT_TOO_MANY, /* more nodes than vnuma=N allows */
    NP_REJECT_CPUS,     /* fewer pCPUs than vCPUs (xl42's rule) */
} np_reject;

enum {
    NP_TERM_CPU_OVER = 0, /* time-sharing and SMT sharing past the node's cores */
    NP_TERM_REMOTE,       /* remote memory latency */
    NP_TERM_DEVICE,       /* device I/O crossing nodes */
    NP_TERM_GROUP,        /* affinity groups */
    NP_TERM_HEADROOM,     /* tie-break: load already on the nodes */
    NP_TERM_COUNT,
};
extern const char *const np_place_term_names[NP_TERM_COUNT];

typedef struct np_cand {
    uint32_t k;
    uint32_t node[NP_PLACE_MAX_SET_NODES]; /* ascending node indices */
    uint32_t vcpus[NP_PLACE_MAX_SET_NODES];
    uint64_t mem_mib[NP_PLACE_MAX_SET_NODES];
    np_reject reject;
    uint64_t short_mib;
    double cost;
    double term[NP_TERM_COUNT]; /* in slowdown units: they sum to cost */
} np_cand;

/* Sorts cand->node, splits memory and vCPUs over the set and scores it;
 * sets cand->reject when the set cannot hold the guest. */
void np_place_eval(const np_place_ctx *ctx, np_cand *cand);
/* Scores a given split (memory and vCPUs already filled in). */
void np_place_score(const np_place_ctx *ctx, np_cand *cand);
/* The same for a split of any size (fallbacks stripe over every node):
 * fills term_out[NP_TERM_COUNT] and the cost. */
void np_place_score_split(const np_place_ctx *ctx, size_t k, const uint32_t *node,
                          const uint32_t *vcpus, const uint64_t *mem_mib, double *term_out,
                          double *cost_out);
/* True when a set of k nodes with CPUs, holding the guest's memory,
 * provably costs more than `limit` (a lower bound of the objective that
 * needs no split, O(k^2)); false when it might not, or cannot tell. The
 * searches skip such sets when they could neither become a runner-up nor
 * improve on what the caller has. */
bool np_place_cannot_beat(const np_place_ctx *ctx, const uint32_t *node, size_t k, double limit);
/* -1 when a is below b by more than eps, 1 when above, 0 within: for
 * figures that rounding in a sum may move (compare, never subtract). */
static inline int np_place_cmp_dbl(double a, double b, double eps)
{
    if (a < b - eps)
        return -1;
    if (a > b + eps)
        return 1;
    return 0;
}
/* Strict order on feasible candidates: cost, then fewer nodes, then the
 * smaller node list. */
bool np_cand_better(const np_cand *a, const np_cand *b);

static inline bool np_cand_same_set(const np_cand *a, const np_cand *b)
{
    if (a->k != b->k)
        return false;
    for (uint32_t p = 0; p < a->k; p++)
        if (a->node[p] != b->node[p])
            return false;
    return true;
}

/* *dst = *src for the first k entries of the arrays, the only ones that
 * mean anything: a whole np_cand is over a kilobyte, a set a few nodes. */
static inline void np_cand_copy(np_cand *dst, const np_cand *src)
{
    dst->k = src->k;
    for (uint32_t p = 0; p < src->k; p++) {
        dst->node[p] = src->node[p];
        dst->vcpus[p] = src->vcpus[p];
        dst->mem_mib[p] = src->mem_mib[p];
    }
    dst->reject = src->reject;
    dst->short_mib = src->short_mib;
    dst->cost = src->cost;
    if (src->reject == NP_REJECT_NONE) /* a rejected set is never scored */
        for (size_t t = 0; t < NP_TERM_COUNT; t++)
            dst->term[t] = src->term[t];
}

/* ---- search bookkeeping ------------------------------------------------------------- */

typedef struct np_search {
    bool found;
    np_cand best;
    size_t nr_alts;
    np_cand alts[NP_PLACE_MAX_ALTS]; /* ascending cost */
    size_t nr_rejects;
    np_cand rejects[NP_PLACE_MAX_REJECTS]; /* smallest shortfall first */
    uint64_t evaluated;
} np_search;

void np_search_init(np_search *s);
/* Next k-combination of positions 0..n-1 in lexicographic order (start
 * from {0, 1, ..., k-1}); false after the last. */
bool np_comb_next(size_t *pos, size_t k, size_t n);
void np_place_consider(np_search *s, const np_cand *cand);

/* Formats why nothing fits into err->msg and returns -ENOSPC. */
int np_place_no_fit(const np_place_ctx *ctx, const np_search *s, np_error *err);

/* ---- the policies ------------------------------------------------------------------- */

typedef struct np_numaplace_opts {
    unsigned exhaustive_max_sets; /* NP_PLACE_EXHAUSTIVE_MAX_SETS; 0 forces growth */
    bool no_shortcuts; /* no memo, no lower bound, no early exit: the plain search
                          the shortcuts must match (tests) */
    bool no_count_guard; /* the search's answer as found (tests compare it with the oracle) */
} np_numaplace_opts;

int np_place_numaplace(const np_place_ctx *ctx, const np_numaplace_opts *opts, np_search *s);
int np_place_oracle_search(const np_place_ctx *ctx, np_search *s);
/* numaplace with explicit options (tests compare the growth path with the
 * oracle on small hosts). */
int np_place_numaplace_with(const np_host_state *st, const np_guest_spec *spec,
                            const np_numaplace_opts *opts, np_placement **out, np_error *err);

/* ---- the placement object ------------------------------------------------------------ */

typedef struct np_place_term {
    const char *name;
    double value;
} np_place_term;

typedef struct np_place_alt_rec {
    np_bitmap *nodes_os;
    double cost;
    char why_not[160];
} np_place_alt_rec;

struct np_placement {
    const char *policy;
    size_t nr_topo_nodes;
    size_t nr_nodes;
    size_t *nodes;            /* ascending indices */
    uint64_t *node_mem_bytes; /* per host node */
    uint32_t nr_vcpus;
    size_t *vcpu_node;
    np_affinity_mode affinity;
    np_bitmap **node_cpus; /* per chosen node (same order as nodes) */
    bool union_masks;      /* every vCPU gets the union (libxl's way) */
    np_bitmap *cpus_all;   /* union of the chosen nodes' CPUs */
    np_vnuma *vnuma;
    bool fallback;
    char note[NP_PLACE_NOTE_MAX];
    double cost;
    size_t nr_terms;
    np_place_term terms[NP_PLACE_MAX_TERMS];
    size_t nr_alts;
    np_place_alt_rec alts[NP_PLACE_MAX_ALTS + NP_PLACE_MAX_REJECTS];
};

/* Builds a placement from a split: nodes (ascending), MiB and vCPUs per
 * node; the vCPUs are numbered contiguously node after node. Builds the
 * vNUMA layout when the spec asks for one. */
int np_placement_build(const np_host_state *st, const np_guest_spec *spec, const char *policy,
                       size_t k, const uint32_t *node, const uint64_t *mem_mib,
                       const uint32_t *vcpus, np_placement **out);
/* The same with one mask for all vCPUs, the union of the nodes' CPUs
 * (union_masks: libxl's way, the baselines' and the fallbacks'). */
int np_placement_build_union(const np_host_state *st, const np_guest_spec *spec,
                             const char *policy, size_t k, const uint32_t *node,
                             const uint64_t *mem_mib, const uint32_t *vcpus, np_placement **out);
/* The hypervisor's own answer when nobody places the guest: every node,
 * memory striped evenly (a node that runs out passes its stripe on),
 * every vCPU allowed everywhere; flagged as a fallback with `note`.
 * -ENOSPC when the host as a whole lacks the memory. */
int np_place_fallback(const np_host_state *st, const np_guest_spec *spec, const char *policy,
                      const char *note, bool explain, np_placement **out, np_error *err);
/* Copies the search's terms and runners-up into the placement. */
int np_placement_explain(np_placement *pl, const np_place_ctx *ctx, const np_search *s);
int np_placement_add_alt(np_placement *pl, const np_topology *topo, const uint32_t *node,
                         size_t k, double cost, const char *why_not);

/* Largest-remainder rounding: splits `total` units in proportion to
 * weights[0..k) (non-negative, not all zero) into out[0..k), summing to
 * total exactly; ties go to the lower position. */
void np_split_largest_remainder(uint64_t total, const double *weights, size_t k, uint64_t *out);

#endif
