/*
 * place/std_metrics.c - the standard locality metrics of a host state
 * (np_std_metrics, place.h): how a reviewer judges a placement without
 * numaplace's own objective.
 *
 *   remote_weighted_distance  per guest, the mean over its vCPUs of
 *                             sum over memory nodes m of
 *                             share(m) * (SLIT(vCPU node, m) / 10 - 1);
 *                             0 when all memory is local; the mean over guests
 *   local_fraction            per guest, the mean over its vCPUs of the share of
 *                             its memory on the vCPU's node; the mean over guests
 *   worst_cpu_overcommit      the largest vCPUs / CPUs (logical) of a node
 *   worst_mem_over_free       the largest guest memory / free memory at start
 *                             of a node (above 1: a placement that cannot exist)
 *
 * A vCPU's node follows the rule the host state uses for demand: the
 * effective mask (soft & hard when the soft mask meets the hard one, else
 * hard) split over the nodes of the CPUs it names, in proportion to them; a
 * vCPU with no mask runs anywhere, so it counts on every node in proportion
 * to its CPUs (an unplaced guest: vCPUs anywhere, memory where it landed).
 * A guest's memory is what it has populated plus what is claimed for it.
 * Pure: state in, numbers out. The CLI and the benchmarks call it after
 * every arrival; the metrics oracle (oracle_metrics.c) scores candidates
 * with the per-node tallies below.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/place.h>

#include "model/hoststate_int.h"
#include "place/std_metrics_int.h"

/* SLIT's local distance: 10 means "local", so SLIT/10 - 1 is the extra
 * cost relative to local (0 local, 1.1 for a typical remote 21). */
#define STD_SLIT_LOCAL 10.0
/* Hosts up to this many nodes need no allocation for a guest's node list. */
#define STD_SMALL_NODES 64u

/* The nodes a mask's CPUs belong to, as weights summing to 1 (zero when
 * the mask names no CPU of the host). A mask that is exactly one node's
 * CPUs (what placement sets per vCPU) is found with one comparison; a
 * wider one costs a look-up per CPU it names. */
static void mask_node_weights(const np_topology *t, const np_bitmap *mask, double *w)
{
    size_t n = np_topology_nr_nodes(t), idx;
    unsigned count = 0;
    memset(w, 0, n * sizeof(*w));
    int first = np_bitmap_next(mask, 0);
    if (first >= 0 && np_topology_cpu_idx(t, (uint32_t)first, &idx) == 0) {
        uint32_t node = np_topology_cpu(t, idx)->node_idx;
        if (np_bitmap_equal(mask, np_topology_node_cpuset(t, node))) {
            w[node] = 1.0;
            return;
        }
    }
    for (int c = first; c >= 0; c = np_bitmap_next(mask, (unsigned)c + 1)) {
        if (np_topology_cpu_idx(t, (uint32_t)c, &idx) < 0)
            continue;
        w[np_topology_cpu(t, idx)->node_idx] += 1.0;
        count++;
    }
    for (size_t i = 0; i < n && count; i++)
        w[i] /= count;
}

/* Every CPU of the host, as node weights. */
static void all_node_weights(const np_topology *t, double *w)
{
    size_t n = np_topology_nr_nodes(t), cpus = np_topology_nr_cpus(t);
    for (size_t i = 0; i < n; i++)
        w[i] = cpus ? (double)np_topology_node(t, i)->nr_cpus / (double)cpus : 0.0;
}

static bool same_mask(const np_bitmap *a, const np_bitmap *b)
{
    return a == b || (a && b && np_bitmap_equal(a, b));
}

int np_std_mask_weights(const np_topology *t, const np_bitmap *hard, const np_bitmap *soft,
                        double *w)
{
    np_bitmap *both = NULL;

    if (soft && hard && np_bitmap_intersects(soft, hard)) {
        if (np_bitmap_copy(soft, &both) < 0)
            return -ENOMEM;
        np_bitmap_and(both, hard);
        mask_node_weights(t, both, w);
        np_bitmap_destroy(both);
    } else if (soft && !hard) {
        mask_node_weights(t, soft, w);
    } else if (hard) {
        mask_node_weights(t, hard, w);
    } else {
        all_node_weights(t, w);
    }
    return 0;
}

int np_std_vcpu_weights(const np_host_state *st, size_t g, uint32_t v, np_std_mask_cache *c,
                        double *w)
{
    const np_topology *t = np_host_state_topology(st);
    const np_bitmap *hard = np_host_state_vcpu_hard(st, g, v);
    const np_bitmap *soft = np_host_state_vcpu_soft(st, g, v);

    /* consecutive vCPUs of a guest usually have the same masks: w stays */
    if (c->valid && same_mask(c->hard, hard) && same_mask(c->soft, soft))
        return 0;
    c->valid = true;
    c->hard = hard;
    c->soft = soft;
    c->computed++;
    int rc = np_std_mask_weights(t, hard, soft, w);
    if (rc < 0)
        c->valid = false;
    return rc;
}

int np_std_tally(const np_host_state *st, double *vcpus_out, uint64_t *mem_out)
{
    const np_topology *t = np_host_state_topology(st);
    size_t n = np_topology_nr_nodes(t);

    /* the host state keeps the vCPU count by the rule above as it changes
     * (np_hs_vcpu_counts): O(nodes), not O(guests' vCPUs) per call */
    np_hs_vcpu_counts(st, vcpus_out);
    if (!mem_out)
        return 0;
    memset(mem_out, 0, n * sizeof(*mem_out));
    for (size_t g = 0; g < np_host_state_nr_guests(st); g++)
        for (size_t m = 0; m < n; m++)
            mem_out[m] += np_host_state_guest_mem_bytes(st, g, m) +
                          np_host_state_guest_claimed_bytes(st, g, m);
    return 0;
}

double np_std_worst_cpu(const np_topology *t, const double *vcpus)
{
    double worst = 0.0;
    for (size_t i = 0; i < np_topology_nr_nodes(t); i++) {
        uint32_t cpus = np_topology_node(t, i)->nr_cpus;
        if (cpus && vcpus[i] / cpus > worst)
            worst = vcpus[i] / cpus;
    }
    return worst;
}

double np_std_worst_mem(const np_topology *t, const uint64_t *free_bytes, const uint64_t *mem)
{
    double worst = 0.0;
    for (size_t i = 0; i < np_topology_nr_nodes(t); i++) {
        if (mem[i] == 0)
            continue;
        double r = free_bytes[i] ? (double)mem[i] / (double)free_bytes[i] : INFINITY;
        worst = r > worst ? r : worst;
    }
    return worst;
}

double np_std_rwd(const np_topology *t, const double *vcpu_w, const uint64_t *mem,
                  double *local_out)
{
    size_t n = np_topology_nr_nodes(t);
    uint64_t total = 0;
    double rwd = 0.0, local = 0.0;
    for (size_t m = 0; m < n; m++)
        total += mem[m];
    if (total == 0) {
        *local_out = 1.0;
        return 0.0;
    }
    /* only the nodes holding memory: most guests have one or two */
    uint32_t small[STD_SMALL_NODES], *held = n <= STD_SMALL_NODES ? small : NULL;
    if (!held && !(held = malloc(n * sizeof(*held)))) {
        *local_out = NAN;
        return NAN;
    }
    size_t k = 0;
    for (size_t m = 0; m < n; m++)
        if (mem[m])
            held[k++] = (uint32_t)m;
    for (size_t c = 0; c < n; c++) {
        if (vcpu_w[c] == 0.0)
            continue;
        for (size_t j = 0; j < k; j++) {
            size_t m = held[j];
            double share = (double)mem[m] / (double)total;
            rwd +=
                vcpu_w[c] * share * ((double)np_topology_distance(t, c, m) / STD_SLIT_LOCAL - 1.0);
            if (m == c)
                local += vcpu_w[c] * share;
        }
    }
    if (held != small)
        free(held);
    *local_out = local;
    return rwd;
}

int np_std_guest(const np_host_state *st, size_t g, double *w, double *vcpus_out, uint64_t *mem_out,
                 double *rwd_out, double *local_out, bool *counted_out)
{
    const np_topology *t = np_host_state_topology(st);
    const np_guest_spec *s = np_host_state_guest_spec(st, g);
    size_t n = np_topology_nr_nodes(t);
    np_std_mask_cache cache = {0};
    uint64_t total = 0;

    for (size_t m = 0; m < n; m++) {
        mem_out[m] =
            np_host_state_guest_mem_bytes(st, g, m) + np_host_state_guest_claimed_bytes(st, g, m);
        total += mem_out[m];
        vcpus_out[m] = 0.0;
    }
    for (uint32_t v = 0; v < s->vcpus; v++) {
        int rc = np_std_vcpu_weights(st, g, v, &cache, w);
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < n; i++)
            vcpus_out[i] += w[i];
    }
    *rwd_out = 0.0;
    *local_out = 1.0;
    *counted_out = total > 0 && s->vcpus > 0; /* else nothing to be local to */
    if (!*counted_out)
        return 0;
    for (size_t i = 0; i < n; i++)
        w[i] = vcpus_out[i] / s->vcpus;
    *rwd_out = np_std_rwd(t, w, mem_out, local_out);
    return isnan(*rwd_out) ? -ENOMEM : 0;
}

void np_std_free_at_start(const np_host_state *st, uint64_t *free_out)
{
    const np_topology *t = np_host_state_topology(st);
    for (size_t i = 0; i < np_topology_nr_nodes(t); i++) {
        uint64_t f;
        free_out[i] =
            np_host_state_node_free(st, i, &f) == 0 ? f : np_topology_node(t, i)->mem_total_bytes;
    }
}

int np_std_metrics_compute(const np_host_state *st, const uint64_t *free_at_start_bytes,
                           np_std_metrics *out)
{
    const np_topology *t = NULL;
    double *vcpus = NULL, *w = NULL, *gw = NULL;
    uint64_t *mem = NULL, *gmem = NULL, *freeb = NULL;
    int rc = 0;

    if (!st || !out)
        return -EINVAL;
    t = np_host_state_topology(st);
    size_t n = np_topology_nr_nodes(t);
    memset(out, 0, sizeof(*out));
    vcpus = calloc(n, sizeof(*vcpus));
    w = calloc(n, sizeof(*w));
    gw = calloc(n, sizeof(*gw));
    mem = calloc(n, sizeof(*mem));
    gmem = calloc(n, sizeof(*gmem));
    freeb = calloc(n, sizeof(*freeb));
    if (!vcpus || !w || !gw || !mem || !gmem || !freeb) {
        rc = -ENOMEM;
        goto out;
    }
    if (free_at_start_bytes)
        memcpy(freeb, free_at_start_bytes, n * sizeof(*freeb));
    else
        np_std_free_at_start(st, freeb);
    size_t guests = 0;
    double rwd_sum = 0.0, local_sum = 0.0;
    for (size_t g = 0; g < np_host_state_nr_guests(st); g++) {
        double rwd, local;
        bool counted;
        rc = np_std_guest(st, g, w, gw, gmem, &rwd, &local, &counted);
        if (rc < 0)
            goto out;
        for (size_t i = 0; i < n; i++) {
            vcpus[i] += gw[i];
            mem[i] += gmem[i];
        }
        if (!counted)
            continue;
        rwd_sum += rwd;
        local_sum += local;
        guests++;
    }
    out->worst_cpu_overcommit = np_std_worst_cpu(t, vcpus);
    out->worst_mem_over_free = np_std_worst_mem(t, freeb, mem);
    out->remote_weighted_distance = guests ? rwd_sum / (double)guests : 0.0;
    out->local_fraction = guests ? local_sum / (double)guests : 1.0;
out:
    free(vcpus);
    free(w);
    free(gw);
    free(mem);
    free(gmem);
    free(freeb);
    return rc;
}

int np_std_metrics_guest(const np_host_state *st, size_t gidx, double *remote_weighted_distance_out,
                         double *local_fraction_out)
{
    if (!st || !remote_weighted_distance_out || !local_fraction_out ||
        gidx >= np_host_state_nr_guests(st))
        return -EINVAL;
    size_t n = np_topology_nr_nodes(np_host_state_topology(st));
    double *w = calloc(n, sizeof(*w)), *vcpus = calloc(n, sizeof(*vcpus));
    uint64_t *mem = calloc(n, sizeof(*mem));
    bool counted;
    int rc = -ENOMEM;
    if (w && vcpus && mem)
        rc = np_std_guest(st, gidx, w, vcpus, mem, remote_weighted_distance_out, local_fraction_out,
                          &counted);
    free(w);
    free(vcpus);
    free(mem);
    return rc;
}
