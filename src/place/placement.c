/*
 * place/placement.c - the policy table (policies.def), the one driver all
 * policies run under (np_place_run, see policy_int.h), the placement object
 * and np_placement_commit().
 *
 * A placement is the whole answer a hypervisor needs: the node set, the
 * memory per node (whole MiB, summing to the balloon maximum), the node of
 * each vCPU, affinity masks in the form the spec asks for (hard pins,
 * soft preference, or none), an optional vNUMA layout, and an explanation
 * (cost terms, runners-up and rejected sets). It owns all of its data, so
 * it outlives the host state it was computed from.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "place/policy_int.h"
#include "util/error.h"
#include "util/text.h"

static const np_place_policy policies[] = {
#define NP_PLACE_POLICY(id, name, summary) {name, summary, np_policy_##id},
#include "place/policies.def"
#undef NP_PLACE_POLICY
};
#define NR_POLICIES (sizeof(policies) / sizeof(policies[0]))

size_t np_place_policy_count(void)
{
    return NR_POLICIES;
}

const char *np_place_policy_name(size_t i)
{
    return i < NR_POLICIES ? policies[i].name : NULL;
}

const char *np_place_policy_summary(size_t i)
{
    return i < NR_POLICIES ? policies[i].summary : NULL;
}

const np_place_policy *np_place_policy_find(const char *name)
{
    for (size_t i = 0; i < NR_POLICIES; i++)
        if (strcmp(policies[i].name, name) == 0)
            return &policies[i];
    return NULL;
}

/* ---- building ------------------------------------------------------------------- */

void np_placement_destroy(np_placement *pl)
{
    if (!pl)
        return;
    if (pl->node_cpus)
        for (size_t i = 0; i < pl->nr_nodes; i++)
            np_bitmap_destroy(pl->node_cpus[i]);
    np_bitmap_destroy(pl->cpus_all);
    np_vnuma_destroy(pl->vnuma);
    for (size_t i = 0; i < pl->nr_alts; i++)
        np_bitmap_destroy(pl->alts[i].nodes_os);
    free(pl);
}

/* np_placement_build and np_placement_build_union: with `union_masks`,
 * every vCPU gets the union of the nodes' CPUs, so no per-node mask is
 * kept (on a 256-node stripe, 256 bitmap copies nothing reads). */
static int placement_build(const np_host_state *st, const np_guest_spec *spec,
                           const char *policy, size_t k, const uint32_t *node,
                           const uint64_t *mem_mib, const uint32_t *vcpus, bool union_masks,
                           np_placement **out)
{
    const np_topology *t = np_host_state_topology(st);
    size_t n = np_topology_nr_nodes(t);
    /* One block: the placement, its arrays and the vNUMA builder's
     * scratch, 64-bit arrays first (the struct's size is a multiple of
     * their alignment), then the size_t and pointer ones.
     * np_placement_destroy frees it with the placement. */
    np_placement *pl =
        calloc(1, sizeof(*pl) + n * sizeof(*pl->node_mem_bytes) + k * sizeof(uint64_t) +
                      k * sizeof(*pl->nodes) + spec->vcpus * sizeof(*pl->vcpu_node) +
                      k * sizeof(size_t) + k * sizeof(*pl->node_cpus));
    int rc = 0;

    if (!pl)
        return -ENOMEM;
    pl->policy = policy;
    pl->nr_topo_nodes = n;
    pl->nr_nodes = k;
    pl->nr_vcpus = spec->vcpus;
    pl->affinity = spec->affinity;
    pl->node_mem_bytes = (uint64_t *)(pl + 1);
    uint64_t *mem_bytes = pl->node_mem_bytes + n;
    pl->nodes = (size_t *)(mem_bytes + k);
    pl->vcpu_node = pl->nodes + k;
    size_t *idx = pl->vcpu_node + spec->vcpus;
    pl->node_cpus = (np_bitmap **)(idx + k);
    pl->union_masks = union_masks;
    if (np_bitmap_create(&pl->cpus_all) < 0) {
        rc = -ENOMEM;
        goto out;
    }
    uint32_t v = 0;
    bool spans = false;
    size_t with_mem = 0;
    for (size_t p = 0; p < k; p++) {
        pl->nodes[p] = node[p];
        idx[p] = node[p];
        mem_bytes[p] = mem_mib[p] * NP_MiB;
        pl->node_mem_bytes[node[p]] = mem_bytes[p];
        with_mem += mem_mib[p] > 0;
        for (uint32_t c = 0; c < vcpus[p] && v < spec->vcpus; c++)
            pl->vcpu_node[v++] = node[p];
        if (!union_masks) {
            rc = np_bitmap_copy(np_topology_node_cpuset(t, node[p]), &pl->node_cpus[p]);
            if (rc < 0)
                goto out;
        }
        rc = np_bitmap_or(pl->cpus_all, np_topology_node_cpuset(t, node[p]));
        if (rc < 0)
            goto out;
    }
    spans = with_mem > 1;
    if (spec->vnuma_nodes > 0 || (spec->vnuma_nodes == NP_VNUMA_AUTO && spans)) {
        rc = np_vnuma_build(t, spec, k, idx, mem_bytes, vcpus, &pl->vnuma);
        if (rc < 0)
            goto out;
    }
    *out = pl;
    pl = NULL;
out:
    np_placement_destroy(pl);
    return rc;
}

int np_placement_build(const np_host_state *st, const np_guest_spec *spec, const char *policy,
                       size_t k, const uint32_t *node, const uint64_t *mem_mib,
                       const uint32_t *vcpus, np_placement **out)
{
    return placement_build(st, spec, policy, k, node, mem_mib, vcpus, false, out);
}

int np_placement_build_union(const np_host_state *st, const np_guest_spec *spec,
                             const char *policy, size_t k, const uint32_t *node,
                             const uint64_t *mem_mib, const uint32_t *vcpus, np_placement **out)
{
    return placement_build(st, spec, policy, k, node, mem_mib, vcpus, true, out);
}

int np_placement_add_alt(np_placement *pl, const np_topology *topo, const uint32_t *node,
                         size_t k, double cost, const char *why_not)
{
    if (pl->nr_alts >= sizeof(pl->alts) / sizeof(pl->alts[0]))
        return 0;
    np_place_alt_rec *a = &pl->alts[pl->nr_alts];
    int rc = np_bitmap_create(&a->nodes_os);
    for (size_t p = 0; p < k && rc == 0; p++)
        rc = np_bitmap_set(a->nodes_os, np_topology_node(topo, node[p])->os_id);
    if (rc < 0) {
        np_bitmap_destroy(a->nodes_os);
        a->nodes_os = NULL;
        return rc;
    }
    a->cost = cost;
    /* a bounded copy (snprintf's format parsing was a tenth of a small
     * host's decision: most runners-up have no reason text) */
    size_t len = why_not ? strnlen(why_not, sizeof(a->why_not) - 1) : 0;
    memcpy(a->why_not, why_not ? why_not : "", len);
    a->why_not[len] = '\0';
    pl->nr_alts++;
    return 0;
}

int np_placement_explain(np_placement *pl, const np_place_ctx *ctx, const np_search *s)
{
    int rc = 0;
    pl->cost = s->best.cost;
    pl->nr_terms = NP_TERM_COUNT;
    for (size_t i = 0; i < NP_TERM_COUNT; i++)
        pl->terms[i] = (np_place_term){np_place_term_names[i], s->best.term[i]};
    for (size_t i = 0; i < s->nr_alts && rc == 0; i++)
        rc = np_placement_add_alt(pl, ctx->topo, s->alts[i].node, s->alts[i].k,
                                  s->alts[i].cost, "");
    for (size_t i = 0; i < s->nr_rejects && rc == 0; i++) {
        const np_cand *c = &s->rejects[i];
        char why[160], amount[32];
        if (c->reject == NP_REJECT_TOO_MANY)
            snprintf(why, sizeof(why), "more than %zu nodes (vnuma=%zu)", ctx->max_nodes,
                     ctx->max_nodes);
        else
            snprintf(why, sizeof(why), "%s short of memory",
                     np_format_bytes(c->short_mib * NP_MiB, amount, sizeof(amount)));
        rc = np_placement_add_alt(pl, ctx->topo, c->node, c->k, INFINITY, why);
    }
    return rc;
}

/* ---- the driver ------------------------------------------------------------------ */

/* What the hypervisor does with a guest nobody places: every node, the
 * memory striped evenly in whole MiB (Xen's allocator round-robins over a
 * domain's node affinity), vCPUs spread evenly over the nodes with CPUs,
 * every vCPU allowed everywhere. Without `explain`, no note and no cost
 * (np_place_call's explain). */
static int stripe_all(const np_host_state *st, const np_guest_spec *spec, const char *policy,
                      const char *note, bool explain, np_placement **out, np_error *err)
{
    const np_topology *t = np_host_state_topology(st);
    size_t n = np_topology_nr_nodes(t);
    uint32_t *node = calloc(n, sizeof(*node)), *vcpus = calloc(n, sizeof(*vcpus));
    uint64_t *mem = calloc(n, sizeof(*mem)), *units = calloc(n, sizeof(*units));
    double *w = calloc(n, sizeof(*w)), *wc = calloc(n, sizeof(*wc));
    np_node_load *loads = calloc(n, sizeof(*loads));
    np_guest_spec flat = *spec;
    int rc = 0;

    if (!node || !vcpus || !mem || !units || !w || !wc || !loads) {
        rc = -ENOMEM;
        goto out;
    }
    uint64_t maxmem = np_guest_spec_maxmem_bytes(spec);
    uint64_t mib = maxmem / NP_MiB + (maxmem % NP_MiB ? 1 : 0);
    for (size_t p = 0; p < n; p++) {
        const np_node_info *ni = np_topology_node(t, p);
        node[p] = (uint32_t)p;
        w[p] = ni->mem_total_bytes > 0 ? 1.0 : 0.0;
        wc[p] = (double)ni->nr_cpus;
    }
    np_split_largest_remainder(mib, w, n, mem);
    /* Xen's allocator skips a node that has run out and takes the page
     * from the next one: cap each stripe at what the node has available
     * and pour the rest into the nodes with most room left. */
    rc = np_host_state_node_loads(st, loads);
    if (rc < 0)
        goto out;
    uint64_t over = 0;
    for (size_t p = 0; p < n; p++) {
        uint64_t avail = loads[p].mem_available_bytes / NP_MiB;
        if (mem[p] > avail) {
            over += mem[p] - avail;
            mem[p] = avail;
        }
    }
    while (over > 0) {
        size_t best = n;
        uint64_t best_room = 0;
        for (size_t p = 0; p < n; p++) {
            uint64_t room = loads[p].mem_available_bytes / NP_MiB - mem[p];
            if (room > best_room) {
                best_room = room;
                best = p;
            }
        }
        if (best == n) {
            char need[32];
            rc = np_error_set(err, NULL, 0,
                              "guest %s needs %s of memory, more than the host has available",
                              spec->name, np_format_bytes(mib * NP_MiB, need, sizeof(need)));
            rc = -ENOSPC;
            goto out;
        }
        uint64_t put = over < best_room ? over : best_room;
        mem[best] += put;
        over -= put;
    }
    np_split_largest_remainder(spec->vcpus, wc, n, units);
    for (size_t p = 0; p < n; p++)
        vcpus[p] = (uint32_t)units[p];
    /* Only the nodes that got memory or count vCPUs are the placement's
     * (a small guest on a big host leaves most nodes without a stripe),
     * and the note names the nodes the memory went to. */
    size_t k = 0;
    np_bitmap *mem_nodes = NULL;
    if (explain)
        rc = np_bitmap_create(&mem_nodes);
    for (size_t p = 0; p < n && rc == 0; p++) {
        if (mem[p] == 0 && vcpus[p] == 0)
            continue;
        if (mem[p] > 0 && mem_nodes)
            rc = np_bitmap_set(mem_nodes, np_topology_node(t, p)->os_id);
        node[k] = node[p];
        mem[k] = mem[p];
        vcpus[k] = vcpus[p];
        k++;
    }
    char list[128] = "";
    if (rc == 0 && mem_nodes && np_bitmap_format(mem_nodes, list, sizeof(list)) >= sizeof(list))
        snprintf(list, sizeof(list), "(%u of them)", np_bitmap_count(mem_nodes));
    np_bitmap_destroy(mem_nodes);
    if (rc < 0)
        goto out;
    flat.vnuma_nodes = NP_VNUMA_OFF; /* the hypervisor builds no layout */
    rc = np_placement_build_union(st, &flat, policy, k, node, mem, vcpus, out);
    if (rc < 0)
        goto out;
    (*out)->fallback = true;
    /* the vCPUs keep the all-node affinity: every CPU, not only those of
     * the nodes with a stripe */
    for (size_t p = 0; p < n && rc == 0; p++)
        rc = np_bitmap_or((*out)->cpus_all, np_topology_node_cpuset(t, p));
    if (rc < 0) {
        np_placement_destroy(*out);
        *out = NULL;
        goto out;
    }
    if (!explain)
        goto out;
    snprintf((*out)->note, sizeof((*out)->note),
             "%s; memory striped over nodes %s, vCPUs on any CPU", note, list);
    /* Its cost under numaplace's objective, so a fallback compares too. */
    np_place_ctx ctx;
    if (np_place_ctx_init(&ctx, st, &flat) == 0) { /* flat: no layout, as built */
        double term[NP_TERM_COUNT];
        np_place_score_split(&ctx, k, node, vcpus, mem, term, &(*out)->cost);
        (*out)->nr_terms = NP_TERM_COUNT;
        for (size_t i = 0; i < NP_TERM_COUNT; i++)
            (*out)->terms[i] = (np_place_term){np_place_term_names[i], term[i]};
        np_place_ctx_fini(&ctx);
    }
out:
    free(node);
    free(vcpus);
    free(mem);
    free(units);
    free(w);
    free(wc);
    free(loads);
    return rc;
}

int np_place_fallback(const np_host_state *st, const np_guest_spec *spec, const char *policy,
                      const char *note, bool explain, np_placement **out, np_error *err)
{
    return stripe_all(st, spec, policy, note, explain, out, err);
}

int np_place_run(const np_host_state *st, const np_guest_spec *spec, const np_place_policy *p,
                 const void *opts, bool explain, const np_place_ctx *from, np_placement **out,
                 np_error *err)
{
    np_placement *pl = NULL;
    int rc;

    if (!st || !spec || !p || !out)
        return -EINVAL;
    rc = np_guest_spec_validate(spec, np_host_state_topology(st), err);
    if (rc < 0)
        return rc;
    if (spec->name[0] && np_host_state_find_guest(st, spec->name, NULL) == 0)
        return np_error_set(err, NULL, 0, "guest %s is already on the host", spec->name);
    if (spec->no_autoplace)
        return stripe_all(st, spec, p->name,
                          "autoplace=no: not placed, as the hypervisor does without a placement",
                          explain, out, err);
    /* The call (10 KiB of search bookkeeping) lives on the stack: on a
     * two-node host a decision takes about a microsecond. Its fields are
     * set one by one, not with an initializer: that would zero the whole
     * search (a tenth of a guarded decision, which runs five policies),
     * while np_search_init sets the counts and nothing reads a candidate
     * past them. */
    np_place_call call;
    call.st = st;
    call.spec = spec;
    call.policy = p->name;
    call.opts = opts;
    call.pl = NULL;
    call.err = err;
    call.explain = explain;
    rc = from ? np_place_ctx_copy(&call.ctx, from) : np_place_ctx_init(&call.ctx, st, spec);
    if (rc < 0)
        return rc;
    np_search_init(&call.s);
    rc = p->decide(&call);
    if (rc < 0)
        goto out;
    if (call.pl) {
        *out = call.pl;
        call.pl = NULL;
        goto out;
    }
    if (!call.s.found) {
        rc = np_place_no_fit(&call.ctx, &call.s, err);
        goto out;
    }
    rc = np_placement_build(st, spec, p->name, call.s.best.k, call.s.best.node,
                            call.s.best.mem_mib, call.s.best.vcpus, &pl);
    if (rc == 0)
        rc = np_placement_explain(pl, &call.ctx, &call.s);
    if (rc < 0)
        goto out;
    *out = pl;
    pl = NULL;
out:
    np_placement_destroy(call.pl);
    np_placement_destroy(pl);
    np_place_ctx_fini(&call.ctx);
    return rc;
}

int np_place(const np_host_state *st, const np_guest_spec *spec, const char *policy,
             np_placement **out, np_error *err)
{
    if (!st || !spec || !out)
        return -EINVAL;
    const char *name = policy ? policy : NP_PLACE_DEFAULT_POLICY;
    const np_place_policy *p = np_place_policy_find(name);
    if (!p) {
        char known[256];
        size_t off = 0;
        known[0] = '\0';
        for (size_t i = 0; i < NR_POLICIES && off < sizeof(known); i++) {
            int w = snprintf(known + off, sizeof(known) - off, "%s%s", i ? ", " : "",
                             policies[i].name);
            off += w > 0 ? (size_t)w : 0;
        }
        return np_error_set(err, NULL, 0, "unknown placement policy \"%s\" (known: %s)", name,
                            known);
    }
    return np_place_run(st, spec, p, NULL, true, NULL, out, err);
}

int np_place_numaplace_with(const np_host_state *st, const np_guest_spec *spec,
                            const np_numaplace_opts *opts, np_placement **out, np_error *err)
{
    return np_place_run(st, spec, np_place_policy_find("numaplace"), opts, true, NULL, out,
                        err);
}

int np_place_oracle(const np_host_state *st, const np_guest_spec *spec, np_placement **out,
                    np_error *err)
{
    return np_place(st, spec, "oracle", out, err);
}

int np_place_keep_vnuma(const np_host_state *st, const np_guest_spec *spec,
                        const np_vnuma *layout, np_placement **out, np_error *err)
{
    const np_topology *t = NULL;
    np_vnuma *nv = NULL;
    np_placement *pl = NULL;
    uint32_t node[NP_VNUMA_MAX_NODES], vcpus[NP_VNUMA_MAX_NODES];
    uint64_t mem[NP_VNUMA_MAX_NODES];
    size_t k = 0;
    int rc;

    if (!st || !spec || !layout || !out)
        return -EINVAL;
    t = np_host_state_topology(st);
    rc = np_guest_spec_validate(spec, t, err);
    if (rc < 0)
        return rc;
    if (spec->name[0] && np_host_state_find_guest(st, spec->name, NULL) == 0)
        return np_error_set(err, NULL, 0, "guest %s is already on the host", spec->name);
    rc = np_vnuma_remap(layout, st, spec, &nv, err);
    if (rc < 0)
        return rc;
    /* The distinct backing nodes, ascending, with their memory and vCPUs. */
    for (size_t a = 0; a < np_vnuma_nr_vnodes(nv) && k < NP_VNUMA_MAX_NODES; a++) {
        size_t idx;
        np_topology_node_idx(t, np_vnuma_pnode_os_id(nv, a), &idx);
        size_t p = 0;
        while (p < k && node[p] < idx)
            p++;
        if (p == k || node[p] != idx) {
            memmove(&node[p + 1], &node[p], (k - p) * sizeof(node[0]));
            memmove(&mem[p + 1], &mem[p], (k - p) * sizeof(mem[0]));
            memmove(&vcpus[p + 1], &vcpus[p], (k - p) * sizeof(vcpus[0]));
            node[p] = (uint32_t)idx;
            mem[p] = 0;
            vcpus[p] = 0;
            k++;
        }
        mem[p] += np_vnuma_mem_bytes(nv, a) / NP_MiB;
        vcpus[p] += np_bitmap_count(np_vnuma_vcpus(nv, a));
    }
    np_guest_spec flat = *spec;
    flat.vnuma_nodes = NP_VNUMA_OFF; /* the layout is the one given, not a new one */
    rc = np_placement_build(st, &flat, "vnuma-remap", k, node, mem, vcpus, &pl);
    if (rc < 0)
        goto out;
    /* each vCPU on its virtual node's node */
    for (uint32_t v = 0; v < spec->vcpus; v++) {
        size_t a, idx;
        if (np_vnuma_vcpu_vnode(nv, v, &a) == 0 &&
            np_topology_node_idx(t, np_vnuma_pnode_os_id(nv, a), &idx) == 0)
            pl->vcpu_node[v] = idx;
    }
    pl->affinity = spec->affinity;
    pl->vnuma = nv;
    nv = NULL;
    np_place_ctx ctx;
    if (np_place_ctx_init(&ctx, st, spec) == 0) {
        double term[NP_TERM_COUNT];
        np_place_score_split(&ctx, k, node, vcpus, mem, term, &pl->cost);
        pl->nr_terms = NP_TERM_COUNT;
        for (size_t i = 0; i < NP_TERM_COUNT; i++)
            pl->terms[i] = (np_place_term){np_place_term_names[i], term[i]};
        np_place_ctx_fini(&ctx);
    }
    *out = pl;
    pl = NULL;
out:
    np_vnuma_destroy(nv);
    np_placement_destroy(pl);
    return rc;
}

/* ---- reading ----------------------------------------------------------------------- */

const char *np_placement_policy(const np_placement *pl)
{
    return pl->policy;
}

size_t np_placement_nr_nodes(const np_placement *pl)
{
    return pl->nr_nodes;
}

size_t np_placement_node(const np_placement *pl, size_t i)
{
    return i < pl->nr_nodes ? pl->nodes[i] : SIZE_MAX;
}

uint64_t np_placement_node_mem_bytes(const np_placement *pl, size_t node_idx)
{
    return node_idx < pl->nr_topo_nodes ? pl->node_mem_bytes[node_idx] : 0;
}

size_t np_placement_vcpu_node(const np_placement *pl, uint32_t vcpu)
{
    return vcpu < pl->nr_vcpus ? pl->vcpu_node[vcpu] : SIZE_MAX;
}

const np_bitmap *np_placement_cpus_hard(const np_placement *pl)
{
    return pl->affinity == NP_AFFINITY_HARD ? pl->cpus_all : NULL;
}

const np_bitmap *np_placement_cpus_soft(const np_placement *pl)
{
    return pl->affinity == NP_AFFINITY_NONE ? NULL : pl->cpus_all;
}

/* The CPUs of a vCPU's node, or the union when the policy sets one mask
 * for all vCPUs. */
static const np_bitmap *vcpu_mask(const np_placement *pl, uint32_t vcpu)
{
    if (vcpu >= pl->nr_vcpus)
        return NULL;
    if (pl->union_masks)
        return pl->cpus_all;
    for (size_t p = 0; p < pl->nr_nodes; p++)
        if (pl->nodes[p] == pl->vcpu_node[vcpu])
            return pl->node_cpus[p];
    return pl->cpus_all;
}

const np_bitmap *np_placement_vcpu_hard(const np_placement *pl, uint32_t vcpu)
{
    return pl->affinity == NP_AFFINITY_HARD ? vcpu_mask(pl, vcpu) : NULL;
}

const np_bitmap *np_placement_vcpu_soft(const np_placement *pl, uint32_t vcpu)
{
    return pl->affinity == NP_AFFINITY_NONE ? NULL : vcpu_mask(pl, vcpu);
}

const np_vnuma *np_placement_vnuma(const np_placement *pl)
{
    return pl->vnuma;
}

bool np_placement_is_fallback(const np_placement *pl)
{
    return pl->fallback;
}

const char *np_placement_note(const np_placement *pl)
{
    return pl->note;
}

double np_placement_cost(const np_placement *pl)
{
    return pl->cost;
}

size_t np_placement_nr_terms(const np_placement *pl)
{
    return pl->nr_terms;
}

int np_placement_term(const np_placement *pl, size_t i, const char **name_out, double *value_out)
{
    if (i >= pl->nr_terms)
        return -ENOENT;
    *name_out = pl->terms[i].name;
    *value_out = pl->terms[i].value;
    return 0;
}

size_t np_placement_nr_alternatives(const np_placement *pl)
{
    return pl->nr_alts;
}

int np_placement_alternative(const np_placement *pl, size_t i, np_place_alt *out)
{
    if (i >= pl->nr_alts)
        return -ENOENT;
    out->nodes_os = pl->alts[i].nodes_os;
    out->cost = pl->alts[i].cost;
    out->why_not = pl->alts[i].why_not;
    return 0;
}

/* ---- commit ------------------------------------------------------------------------- */

int np_placement_commit(np_host_state *st, const np_guest_spec *spec, const np_placement *pl,
                        size_t *gidx_out)
{
    double *w = NULL;
    uint64_t *claim = NULL;
    size_t g;
    int rc;

    if (!st || !spec || !pl || spec->vcpus != pl->nr_vcpus ||
        pl->nr_topo_nodes != np_topology_nr_nodes(np_host_state_topology(st)))
        return -EINVAL;
    w = calloc(pl->nr_nodes, sizeof(*w));
    claim = calloc(pl->nr_nodes, sizeof(*claim));
    if (!w || !claim) {
        rc = -ENOMEM;
        goto out;
    }
    rc = np_host_state_add_guest(st, spec, &g);
    if (rc < 0)
        goto out;
    /* The memory the guest populates at start, claimed in proportion to
     * each node's part of the maximum; the rest of the maximum is kept
     * there as balloon head-room. */
    for (size_t p = 0; p < pl->nr_nodes; p++)
        w[p] = (double)pl->node_mem_bytes[pl->nodes[p]];
    np_split_largest_remainder(spec->mem_bytes, w, pl->nr_nodes, claim);
    for (size_t p = 0; p < pl->nr_nodes && rc == 0; p++) {
        size_t node = pl->nodes[p];
        uint64_t max = pl->node_mem_bytes[node];
        if (max == 0)
            continue;
        rc = np_host_state_set_guest_mem(st, g, node, 0, claim[p] < max ? claim[p] : max);
        if (rc == 0)
            rc = np_host_state_set_guest_mem_max(st, g, node, max);
    }
    for (uint32_t v = 0; v < spec->vcpus && rc == 0; v++)
        rc = np_host_state_set_vcpu_affinity(st, g, v, np_placement_vcpu_hard(pl, v),
                                             np_placement_vcpu_soft(pl, v));
    if (rc < 0) {
        np_host_state_remove_guest(st, spec->name);
        goto out;
    }
    if (gidx_out)
        *gidx_out = g;
out:
    free(w);
    free(claim);
    return rc;
}
