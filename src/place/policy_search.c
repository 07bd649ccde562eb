/*
 * place/policy_search.c - the table's entries for the two policies that
 * search under numaplace's objective: "numaplace" (candidate generation in
 * numaplace.c) and "oracle" (every node subset, small hosts). Both fill the
 * call's search; the driver builds the placement and its explanation.
 */
#include <errno.h>

#include "place/policy_int.h"
#include "util/error.h"

/* CPU-less memory as the last resort. A guest that did not say
 * cpuless-memory=yes keeps its memory on nodes with CPUs while they can
 * hold it; when no set of them can, its memory may go to CPU-less nodes
 * (CXL, HBM, GPU memory) next to its vCPUs rather than the guest be
 * refused: such a placement exists and runs (slower memory), a refusal
 * runs nothing, and every peer (libxl, xapi, numad) places it there too.
 * vCPUs never go to a CPU-less node (the split gives them none). Only an
 * explicit cpuless-memory=no refuses. True when the caller should search
 * again, with the search cleared and CPU-less nodes allowed. */
static bool cpuless_last_resort(np_place_call *call)
{
    np_place_ctx *ctx = &call->ctx;
    if (call->s.found || ctx->cpuless_ok || call->spec->cpuless_memory_refused)
        return false;
    for (size_t i = 0; i < ctx->n; i++) {
        if (!ctx->has_cpus[i] && ctx->avail_mib[i] > 0) {
            ctx->cpuless_ok = true;
            np_search_init(&call->s);
            return true;
        }
    }
    return false;
}

int np_policy_numaplace(np_place_call *call)
{
    const np_numaplace_opts *opts = call->opts;
    int rc = np_place_numaplace(&call->ctx, opts, &call->s);
    if (rc == 0 && cpuless_last_resort(call))
        rc = np_place_numaplace(&call->ctx, opts, &call->s);
    if (rc == 0 && !(opts && opts->no_count_guard))
        rc = np_place_count_guard(call);
    return rc;
}

int np_policy_oracle(np_place_call *call)
{
    int rc = np_place_oracle_search(&call->ctx, &call->s);
    if (rc == 0 && cpuless_last_resort(call))
        rc = np_place_oracle_search(&call->ctx, &call->s);
    if (rc == -E2BIG)
        np_error_set(call->err, NULL, 0,
                     "the oracle tries every node subset: at most %u nodes, host %s has %zu",
                     NP_PLACE_ORACLE_MAX_NODES, np_topology_name(call->ctx.topo), call->ctx.n);
    return rc;
}
