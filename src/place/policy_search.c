/*
 * place/policy_search.c - the table's entries for the two policies that
 * search under numaplace's objective: "numaplace" (candidate generation in
 * numaplace.c) and "oracle" (every node subset, small hosts). Both fill the
 * call's search; the driver builds the placement and its explanation.
 * Both see CPU-less memory as an ordinary remote tier unless the guest
 * refused it (np_place_ctx_init).
 */
#include <errno.h>

#include "place/policy_int.h"
#include "util/error.h"

int np_policy_numaplace(np_place_call *call)
{
    const np_numaplace_opts *opts = call->opts;
    int rc = np_place_numaplace(&call->ctx, opts, &call->s);
    if (rc == 0 && !(opts && opts->no_count_guard))
        rc = np_place_count_guard(call);
    return rc;
}

int np_policy_oracle(np_place_call *call)
{
    int rc = np_place_oracle_search(&call->ctx, &call->s);
    if (rc == -E2BIG)
        np_error_set(call->err, NULL, 0,
                     "the oracle tries every node subset: at most %u nodes, host %s has %zu",
                     NP_PLACE_ORACLE_MAX_NODES, np_topology_name(call->ctx.topo), call->ctx.n);
    return rc;
}
