/*
 * place/policy_util.c - what the baseline policies (least-loaded, xapi,
 * numad, floating) share once they have picked their nodes: the split a
 * hypervisor or kernel makes of a guest over a node set it was given, and
 * the placement built from it.
 *
 * A peer that is handed a node set does not split a guest the way
 * numaplace's objective does: Xen's allocator round-robins a domain's pages
 * over its node affinity (an even split), Linux's interleave policy spreads
 * pages over the allowed nodes. So the baselines build their placement
 * here, not through the objective's split; the objective only scores the
 * result, so every policy is measured with one ruler. Memory never lands
 * above what a node has available (ctx->avail_mib): a node that runs out
 * passes the rest of its share to the set's nodes with most room, and a set
 * that lacks the memory is refused (-ENOSPC), never squeezed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "place/policy_int.h"
#include "util/error.h"
#include "util/text.h"

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int np_place_build_split(np_place_call *call, const uint32_t *nodes_in, size_t k,
                         np_place_split mode, const char *note)
{
    const np_place_ctx *ctx = &call->ctx;
    uint32_t *node = calloc(k ? k : 1, sizeof(*node));
    uint32_t *vcpus = calloc(k ? k : 1, sizeof(*vcpus));
    uint64_t *mem = calloc(k ? k : 1, sizeof(*mem)), *units = calloc(k ? k : 1, sizeof(*units));
    double *w = calloc(k ? k : 1, sizeof(*w)), *wc = calloc(k ? k : 1, sizeof(*wc));
    double *term = NULL;
    int rc = 0;

    if (!node || !vcpus || !mem || !units || !w || !wc) {
        rc = -ENOMEM;
        goto out;
    }
    if (k == 0) {
        rc = -EINVAL;
        goto out;
    }
    memcpy(node, nodes_in, k * sizeof(*node));
    qsort(node, k, sizeof(*node), cmp_u32);
    double wsum = 0.0, csum = 0.0;
    for (size_t p = 0; p < k; p++) {
        w[p] = mode == NP_PLACE_SPLIT_BY_FREE ? (double)ctx->avail_mib[node[p]] : 1.0;
        wc[p] = (double)np_topology_node(ctx->topo, node[p])->nr_cpus;
        wsum += w[p];
        csum += wc[p];
    }
    uint64_t set_avail = 0;
    for (size_t p = 0; p < k; p++)
        set_avail += ctx->avail_mib[node[p]];
    if (set_avail < ctx->mem_mib || wsum <= 0.0 || csum <= 0.0) {
        char need[32], have[32];
        np_format_bytes(ctx->mem_mib * NP_MiB, need, sizeof(need));
        np_format_bytes(set_avail * NP_MiB, have, sizeof(have));
        np_error_set(call->err, NULL, 0,
                     "guest %s needs %s of memory; the %zu node(s) %s chose have %s available%s",
                     call->spec->name, need, k, call->policy, have,
                     csum <= 0.0 ? " and no CPUs" : "");
        rc = -ENOSPC;
        goto out;
    }
    np_split_largest_remainder(ctx->mem_mib, w, k, mem);
    uint64_t over = 0;
    for (size_t p = 0; p < k; p++) {
        uint64_t cap = ctx->avail_mib[node[p]];
        if (mem[p] > cap) {
            over += mem[p] - cap;
            mem[p] = cap;
        }
    }
    while (over > 0) { /* the set holds it (checked above): this ends */
        size_t best = k;
        uint64_t best_room = 0;
        for (size_t p = 0; p < k; p++) {
            uint64_t room = ctx->avail_mib[node[p]] - mem[p];
            if (room > best_room) {
                best_room = room;
                best = p;
            }
        }
        if (best == k)
            break;
        uint64_t put = over < best_room ? over : best_room;
        mem[best] += put;
        over -= put;
    }
    np_split_largest_remainder(call->spec->vcpus, wc, k, units);
    for (size_t p = 0; p < k; p++)
        vcpus[p] = (uint32_t)units[p];
    /* Nodes that got neither memory nor vCPUs leave the set. */
    size_t kept = 0;
    for (size_t p = 0; p < k; p++) {
        if (mem[p] == 0 && vcpus[p] == 0)
            continue;
        node[kept] = node[p];
        mem[kept] = mem[p];
        vcpus[kept] = vcpus[p];
        kept++;
    }
    np_guest_spec flat = *call->spec;
    flat.vnuma_nodes = NP_VNUMA_OFF; /* the peers build no layout */
    rc = np_placement_build_union(call->st, &flat, call->policy, kept, node, mem, vcpus,
                                  &call->pl);
    if (rc < 0)
        goto out;
    if (!call->explain)
        goto out; /* no note, no cost: only the split is read */
    snprintf(call->pl->note, sizeof(call->pl->note), "%s", note ? note : "");
    term = calloc(NP_TERM_COUNT, sizeof(*term));
    if (!term) {
        rc = -ENOMEM;
        goto out;
    }
    np_place_score_split(ctx, kept, node, vcpus, mem, term, &call->pl->cost);
    call->pl->nr_terms = NP_TERM_COUNT;
    for (size_t i = 0; i < NP_TERM_COUNT; i++)
        call->pl->terms[i] = (np_place_term){np_place_term_names[i], term[i]};
out:
    free(node);
    free(vcpus);
    free(mem);
    free(units);
    free(w);
    free(wc);
    free(term);
    return rc;
}

void np_place_nodes_text(const np_place_ctx *ctx, const uint32_t *nodes, size_t k, char *buf,
                         size_t len)
{
    size_t off = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    for (size_t p = 0; p < k && off + 1 < len; p++) {
        int w = snprintf(buf + off, len - off, "%s%u", p ? "," : "",
                         np_topology_node(ctx->topo, nodes[p])->os_id);
        if (w < 0)
            break;
        off += (size_t)w;
    }
}
