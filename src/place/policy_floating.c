/*
 * place/policy_floating.c - "floating": a guest nobody places, for scale.
 *
 * What a host does with a guest that has no NUMA policy at all when its
 * memory is interleaved (Linux's MPOL_INTERLEAVE over every node, or a
 * kernel that spreads a large guest's pages as free memory allows): the
 * vCPUs run anywhere (no hard and no soft affinity) and the memory is
 * spread over every node with memory in proportion to what each node has
 * available. It is the floor a placement policy must beat on locality; it
 * respects free memory like every policy (a host that lacks the memory
 * refuses the guest).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "place/policy_int.h"

int np_policy_floating(np_place_call *call)
{
    const np_place_ctx *ctx = &call->ctx;
    uint32_t *nodes = calloc(ctx->n ? ctx->n : 1, sizeof(*nodes));
    size_t k = 0;
    int rc;

    if (!nodes)
        return -ENOMEM;
    for (size_t i = 0; i < ctx->n; i++)
        if (ctx->avail_mib[i] > 0 || ctx->has_cpus[i])
            nodes[k++] = (uint32_t)i;
    rc = np_place_build_split(call, nodes, k, NP_PLACE_SPLIT_BY_FREE,
                              "floating: not placed; memory interleaved over every node by "
                              "available memory, vCPUs on any CPU");
    if (rc == 0)
        call->pl->affinity = NP_AFFINITY_NONE; /* vCPUs anywhere */
    free(nodes);
    return rc;
}
