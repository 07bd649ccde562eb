/*
 * place/policy_int.h - the placement policy table and the one driver every
 * policy runs under.
 *
 * A policy is one file (src/place/policy_NAME.c, or an existing one) that
 * defines a decide function, and one row in policies.def. The driver
 * (np_place_run, placement.c) does what every decision shares: it checks
 * the spec, handles autoplace=no, builds the per-decision context (node
 * loads, free memory, the guest's needs), calls the policy's decide, and
 * turns the outcome into a placement:
 *   - a search policy fills call->s (np_place_consider) and returns 0; the
 *     driver builds the placement from the best candidate with its
 *     runners-up, or says why nothing fits (-ENOSPC) when none was found;
 *   - a policy that builds its own placement (xl42 with its libxl terms, a
 *     fallback, floating) sets call->pl and returns 0.
 * Either way the memory per node comes from ctx->avail_mib, so no policy
 * can place above free (test_place_memtruth.c checks every row).
 */
#ifndef NP_PLACE_POLICY_INT_H
#define NP_PLACE_POLICY_INT_H

#include "place/place_int.h"

typedef struct np_place_call {
    const np_host_state *st;
    const np_guest_spec *spec;
    const char *policy; /* the row's name: the placement's policy */
    const void *opts;   /* policy options (tests), NULL for the defaults */
    np_place_ctx ctx;   /* ready when decide runs */
    np_search s;        /* empty when decide runs */
    np_placement *pl;   /* set by a policy that builds its own */
    np_error *err;
    /* false when the caller reads only the split of the answer (its nodes,
     * memory and vCPUs per node: the count guard asking a peer), so a
     * policy leaves out what only an explanation shows: its note, its
     * runners-up and the objective's cost and terms of its answer. The
     * nodes, memory and vCPUs are the same either way. */
    bool explain;
} np_place_call;

typedef int (*np_place_decide_fn)(np_place_call *call);

typedef struct np_place_policy {
    const char *name;
    const char *summary;
    np_place_decide_fn decide;
} np_place_policy;

#define NP_PLACE_POLICY(id, name, summary) int np_policy_##id(np_place_call *call);
#include "place/policies.def"
#undef NP_PLACE_POLICY

/* The row of a policy name, NULL when unknown. */
const np_place_policy *np_place_policy_find(const char *name);
/* The driver (see the top of the file); `explain` as in np_place_call.
 * `from`: NULL, or a context initialised for the same state and guest
 * (the count guard's), copied (np_place_ctx_copy) instead of worked out
 * again. */
int np_place_run(const np_host_state *st, const np_guest_spec *spec, const np_place_policy *p,
                 const void *opts, bool explain, const np_place_ctx *from, np_placement **out,
                 np_error *err);

/* The count guard (count_guard.c): after numaplace's search, the choice
 * the search found is compared by the standard metrics (the host's worst
 * vCPUs per CPU, then over the guest's own nodes; the guest's
 * remote-weighted distance) with its runners-up and with what xl42, xapi,
 * numad and least-loaded decide for the same arrival; when some dominate
 * it (no worse in both, better in one), the cheapest of them under
 * numaplace's objective is returned instead, its note giving both
 * figures. Sets call->pl (to the search's choice when nothing dominates
 * it); 0 without a choice to check. */
int np_place_count_guard(np_place_call *call);
/* True when a's host worst vCPUs per CPU and distance are no worse than
 * b's and one is better, or both are equal and a's worst over its own
 * nodes is lower, counted from 1 (max(1, own worst): up to one vCPU per
 * CPU is no over-commit). */
bool np_place_guard_dominates(double a_host_worst, double a_own_worst, double a_rwd,
                              double b_host_worst, double b_own_worst, double b_rwd);

/* How a baseline's node set shares the guest's memory: evenly (Xen's
 * allocator round-robins over the node affinity) or in proportion to each
 * node's available memory (interleaving by free memory). */
typedef enum np_place_split {
    NP_PLACE_SPLIT_EVEN = 0,
    NP_PLACE_SPLIT_BY_FREE,
} np_place_split;

/* Builds call->pl from `nodes` (k of them, any order, any count up to the
 * host's): the memory (balloon maximum, whole MiB) split by `mode`, capped
 * at each node's available memory with the rest passed to the set's nodes
 * with most room; vCPUs in proportion to the nodes' CPUs; one mask for all
 * vCPUs (the union), no vNUMA layout; cost and terms under numaplace's
 * objective; `note` kept (neither cost nor note without call->explain).
 * -ENOSPC (err says what is missing) when the set
 * lacks the memory or has no CPU. Nodes left with neither memory nor vCPUs
 * leave the set. */
int np_place_build_split(np_place_call *call, const uint32_t *nodes, size_t k, np_place_split mode,
                         const char *note);
/* "0,2,5": node os_ids of a list of node indices, for notes. */
void np_place_nodes_text(const np_place_ctx *ctx, const uint32_t *nodes, size_t k, char *buf,
                         size_t len);

#endif
