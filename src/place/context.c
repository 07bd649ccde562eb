/*
 * place/context.c - the per-decision context: everything a placement
 * search needs that does not depend on the candidate node set.
 *
 * Computed once per decision in O(nodes + guests' vCPUs + guests' memory
 * entries) plus O(nodes x device nodes) and O(nodes x group nodes) for the
 * device and group terms, so that scoring one candidate of k nodes costs
 * O(k^2) and never walks the guest list again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/calibration.h"
#include "model/hoststate_int.h"
#include "place/place_int.h"

/* The per-node arrays of the context share one block; each starts on a
 * multiple of CTX_ALIGN bytes (enough for doubles and 64-bit integers). */
#define CTX_ALIGN sizeof(uint64_t)
#define ROUND_ALIGN(bytes) (((bytes) + CTX_ALIGN - 1) / CTX_ALIGN * CTX_ALIGN)
/* dev_cost, group_cost, share, util_before, cores, threads, loss_before,
 * usable_mib, fill_before, score */
#define CTX_NR_DOUBLES 10u

/* Extra latency of reaching b from a's CPUs, as a share of local latency
 * (calibration: HMAT, else the SLIT class): 0 local, 0.56 a socket away. */
static double excess_latency(const np_topology *t, size_t a, size_t b)
{
    return np_calib_latency_ratio(t, a, b) - 1.0;
}

/* Device term per node, in slowdown: the calibration's device I/O share of
 * the guest's time times the mean extra latency from the node to the
 * nodes of its passthrough devices and its IO node (devices whose node
 * the platform does not report are left out). */
static void device_costs(np_place_ctx *ctx)
{
    const np_guest_spec *s = ctx->spec;
    size_t dev_nodes[NP_GUEST_MAX_DEVICES + 1];
    size_t nr = 0;

    for (size_t i = 0; i < s->nr_devices; i++) {
        size_t didx;
        if (np_topology_device_find(ctx->topo, s->devices[i], &didx) < 0)
            continue;
        int32_t node = np_topology_device(ctx->topo, didx)->node_idx;
        if (node >= 0)
            dev_nodes[nr++] = (size_t)node;
    }
    size_t io;
    if (s->io_node_os_id >= 0 &&
        np_topology_node_idx(ctx->topo, (uint32_t)s->io_node_os_id, &io) == 0)
        dev_nodes[nr++] = io;
    for (size_t i = 0; i < ctx->n; i++) {
        double sum = 0.0;
        for (size_t d = 0; d < nr; d++)
            sum += excess_latency(ctx->topo, i, dev_nodes[d]);
        ctx->dev_cost[i] = nr ? NP_CALIB_DEVICE_IO_FRACTION * sum / (double)nr : 0.0;
    }
}

/* Group term per node. colocate: mean extra latency from the node to
 * where the group's other members hold memory (weighted by that memory),
 * as if the guest spent all its time talking to them at weight 100;
 * spread: the number of other members holding memory on the node, each
 * charged like losing all of the guest's work at weight 100 (a rule the
 * user set, not a slowdown: it must win over any locality gain). Both
 * scaled by group_weight / 100. Members not placed yet count nowhere. */
static int group_costs(np_place_ctx *ctx)
{
    const np_guest_spec *s = ctx->spec;
    double *held = NULL;
    uint32_t *members = NULL;
    int rc = 0;

    memset(ctx->group_cost, 0, ctx->n * sizeof(*ctx->group_cost));
    if (!s->group[0] || s->group_rule == NP_GROUP_NONE)
        return 0;
    held = calloc(ctx->n, sizeof(*held));
    members = calloc(ctx->n, sizeof(*members));
    if (!held || !members) {
        rc = -ENOMEM;
        goto out;
    }
    double total = 0.0;
    size_t nr_guests = np_host_state_nr_guests(ctx->st);
    for (size_t g = 0; g < nr_guests; g++) {
        const np_guest_spec *gs = np_host_state_guest_spec(ctx->st, g);
        if (strcmp(gs->group, s->group) != 0 || strcmp(gs->name, s->name) == 0)
            continue;
        size_t nm = np_hs_guest_nr_mem(ctx->st, g);
        for (size_t i = 0; i < nm; i++) {
            const np_hs_mem *e = np_hs_guest_mem(ctx->st, g, i);
            uint64_t b = np_hs_guest_mem_held_bytes(ctx->st, g, i);
            if (b == 0)
                continue;
            held[e->node_idx] += (double)b;
            members[e->node_idx]++;
            total += (double)b;
        }
    }
    double scale = (double)s->group_weight / (double)NP_GROUP_WEIGHT_MAX;
    if (s->group_rule == NP_GROUP_SPREAD) {
        for (size_t i = 0; i < ctx->n; i++)
            ctx->group_cost[i] = scale * (double)members[i];
    } else if (total > 0.0) {
        for (size_t j = 0; j < ctx->n; j++) {
            if (held[j] == 0.0)
                continue;
            double share = held[j] / total;
            for (size_t i = 0; i < ctx->n; i++)
                ctx->group_cost[i] += scale * share * excess_latency(ctx->topo, i, j);
        }
    }
out:
    free(held);
    free(members);
    return rc;
}

/* Carves `count` items of `size` bytes from *cursor, keeping every array
 * aligned for doubles and 64-bit integers. */
static void *carve(unsigned char **cursor, size_t count, size_t size)
{
    void *p = *cursor;
    size_t bytes = count * size;
    *cursor += (bytes + CTX_ALIGN - 1) / CTX_ALIGN * CTX_ALIGN;
    return p;
}

/* What a decision may change in a context after its init, as the guest's
 * spec sets it: the searches' scratch (zero), memory on CPU-less nodes,
 * the vNUMA layout (xl42 has none; the guard's one-mask split scores
 * without it). */
static void ctx_decision_start(np_place_ctx *ctx)
{
    memset(ctx->used, 0, ctx->n * sizeof(*ctx->used));
    memset(ctx->score, 0, ctx->n * sizeof(*ctx->score));
    /* CPU-less memory (CXL, HBM, GPU memory) is one more remote tier,
     * priced like any other by its distance from the guest's vCPUs: near
     * HBM at SLIT 12 is closer than another socket's DRAM at 20, and the
     * kernel's own fallback order is by distance too. Only an explicit
     * cpuless-memory=no keeps the guest off it. */
    ctx->cpuless_ok = !ctx->spec->cpuless_memory_refused;
    /* A guest split over nodes sees a vNUMA layout unless vnuma=off
     * (np_placement_build), and then only the share of its accesses that
     * crosses virtual nodes goes to the other nodes. */
    ctx->vnuma = ctx->spec->vnuma_nodes != NP_VNUMA_OFF;
}

double np_place_lat_slow(const np_place_ctx *ctx, size_t i, size_t j)
{
    return np_calib_latency_ratio(ctx->topo, i, j);
}

int np_place_ctx_init(np_place_ctx *ctx, const np_host_state *st, const np_guest_spec *spec)
{
    int rc = 0;

    memset(ctx, 0, sizeof(*ctx));
    ctx->st = st;
    ctx->topo = np_host_state_topology(st);
    ctx->spec = spec;
    ctx->n = np_topology_nr_nodes(ctx->topo);
    ctx->lat = np_topology_latency_table(ctx->topo);
    size_t n = ctx->n;
    /* One allocation per decision for every per-node array (a decision on
     * a small host is a few microseconds; a dozen mallocs and frees were a
     * tenth of it). */
    size_t bytes = ROUND_ALIGN(n * sizeof(np_node_load)) + ROUND_ALIGN(n * sizeof(uint64_t)) +
                   CTX_NR_DOUBLES * ROUND_ALIGN(n * sizeof(double)) +
                   2 * ROUND_ALIGN(n * sizeof(uint32_t)) + 2 * ROUND_ALIGN(n * sizeof(bool));
    unsigned char *cursor = malloc(bytes ? bytes : 1);
    if (!cursor)
        return -ENOMEM;
    ctx->block = cursor;
    ctx->block_bytes = bytes;
    ctx->load = carve(&cursor, n, sizeof(*ctx->load));
    ctx->avail_mib = carve(&cursor, n, sizeof(*ctx->avail_mib));
    double **doubles[CTX_NR_DOUBLES] = {
        &ctx->dev_cost,    &ctx->group_cost, &ctx->share,       &ctx->util_before, &ctx->cores,
        &ctx->threads,     &ctx->loss_before, &ctx->usable_mib, &ctx->fill_before, &ctx->score,
    };
    for (size_t i = 0; i < CTX_NR_DOUBLES; i++)
        *doubles[i] = carve(&cursor, n, sizeof(double));
    ctx->nodes_a = carve(&cursor, n, sizeof(*ctx->nodes_a));
    ctx->nodes_b = carve(&cursor, n, sizeof(*ctx->nodes_b));
    ctx->has_cpus = carve(&cursor, n, sizeof(*ctx->has_cpus));
    ctx->used = carve(&cursor, n, sizeof(*ctx->used));

    rc = np_host_state_node_loads(st, ctx->load);
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        ctx->avail_mib[i] = ctx->load[i].mem_available_bytes / NP_MiB;
        const np_node_info *ni = np_topology_node(ctx->topo, i);
        ctx->has_cpus[i] = ni->nr_cpus > 0;
        ctx->threads[i] = (double)ni->nr_cpus;
        /* a source without core ids: every CPU its own core */
        ctx->cores[i] = (double)(ni->nr_cores ? ni->nr_cores : ni->nr_cpus);
    }
    ctx->vcpus = spec->vcpus;
    ctx->vcpu_demand = spec->cpu_demand;
    ctx->demand = (double)spec->vcpus * spec->cpu_demand;
    uint64_t maxmem = np_guest_spec_maxmem_bytes(spec);
    ctx->mem_mib = maxmem / NP_MiB + (maxmem % NP_MiB ? 1 : 0);
    ctx->max_nodes = NP_PLACE_MAX_SET_NODES;
    if (spec->vnuma_nodes > 0 && (size_t)spec->vnuma_nodes < ctx->max_nodes)
        ctx->max_nodes = (size_t)spec->vnuma_nodes;
    ctx_decision_start(ctx);
    ctx->group_by_vcpu = spec->group_rule == NP_GROUP_COLOCATE;
    device_costs(ctx);
    rc = group_costs(ctx);
    if (rc < 0)
        goto out;
    np_place_objective_prepare(ctx);
out:
    if (rc < 0)
        np_place_ctx_fini(ctx);
    return rc;
}

/* p, a pointer into src's block, at the same offset in dst's. */
static void *rebase(const np_place_ctx *src, const np_place_ctx *dst, const void *p)
{
    return (unsigned char *)dst->block + ((const unsigned char *)p - (unsigned char *)src->block);
}

int np_place_ctx_copy(np_place_ctx *dst, const np_place_ctx *src)
{
    *dst = *src;
    dst->block = malloc(src->block_bytes ? src->block_bytes : 1);
    if (!dst->block) {
        memset(dst, 0, sizeof(*dst));
        return -ENOMEM;
    }
    memcpy(dst->block, src->block, src->block_bytes);
    dst->load = rebase(src, dst, src->load);
    dst->avail_mib = rebase(src, dst, src->avail_mib);
    dst->has_cpus = rebase(src, dst, src->has_cpus);
    dst->dev_cost = rebase(src, dst, src->dev_cost);
    dst->group_cost = rebase(src, dst, src->group_cost);
    dst->share = rebase(src, dst, src->share);
    dst->util_before = rebase(src, dst, src->util_before);
    dst->cores = rebase(src, dst, src->cores);
    dst->threads = rebase(src, dst, src->threads);
    dst->loss_before = rebase(src, dst, src->loss_before);
    dst->usable_mib = rebase(src, dst, src->usable_mib);
    dst->fill_before = rebase(src, dst, src->fill_before);
    dst->used = rebase(src, dst, src->used);
    dst->score = rebase(src, dst, src->score);
    dst->nodes_a = rebase(src, dst, src->nodes_a);
    dst->nodes_b = rebase(src, dst, src->nodes_b);
    ctx_decision_start(dst);
    return 0;
}

void np_place_ctx_fini(np_place_ctx *ctx)
{
    free(ctx->block);
    memset(ctx, 0, sizeof(*ctx));
}
