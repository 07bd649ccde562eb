/*
 * place/bench_mixes.c - replaying arrival/departure mixes on a host under
 * one policy and judging the result by the standard metrics
 * (np_std_metrics), for `numaplace bench mixes`.
 *
 * A mix is a scenario file (docs/scenario.md) sized for a reference host
 * of NP_BENCH_MIX_REF_CPUS CPUs and NP_BENCH_MIX_REF_MEM_BYTES of memory
 * (bench/mixes/gen-mixes.py). On a larger host `copies` copies of it run
 * interleaved event by event, names and groups suffixed ".cJ", so the load
 * per CPU and per byte stays what the mix meant. A mix's passthrough
 * devices are placeholders: 0000:00:NN.0 is the host's NN-th PCI device
 * with a known node (modulo their number); on a host without one the
 * device is dropped. The host state starts with each node's free memory
 * from the topology (a capture's free figure, else its size), which is
 * also the "free at start" the memory metric divides by. A measured free
 * figure already excludes populated memory (hoststate.h), so the replay
 * keeps each node's free figure at free at start minus what its guests
 * have populated, as a fresh measurement would say.
 *
 * After every arrival (placed or refused) the metrics of the host state are
 * taken; the result has the final state's and the mean over arrivals.
 * Guests do not move once placed, so the per-arrival figures are kept
 * incrementally (each guest's part added when it is placed, taken away
 * when it leaves) rather than recomputed over thousands of guests at each
 * arrival; the final state is computed in full by np_std_metrics_compute
 * and the difference between the two is reported (incremental_error).
 * Decision time is CPU time of the calling thread around each decision
 * (this file and bench_place.c are the placement code's only clocks).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <numaplace/bench.h>
#include <numaplace/place.h>

#include "place/std_metrics_int.h"
#include "util/error.h"

static double thread_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

size_t np_bench_mix_auto_copies(const np_topology *topo)
{
    double cpus = (double)np_topology_nr_cpus(topo) / NP_BENCH_MIX_REF_CPUS;
    uint64_t free_bytes = 0;
    for (size_t i = 0; i < np_topology_nr_nodes(topo); i++)
        free_bytes += np_topology_node(topo, i)->mem_free_bytes;
    double mem = (double)free_bytes / (double)NP_BENCH_MIX_REF_MEM_BYTES;
    double r = floor(fmin(cpus, mem) + 0.5);
    return r < 1.0 ? 1 : (size_t)r;
}

/* The spec of copy j: names and groups suffixed, device placeholders
 * mapped to the host's devices. */
static void copy_spec(const np_topology *t, const np_guest_spec *in, size_t copies, size_t j,
                      np_guest_spec *out)
{
    *out = *in;
    if (copies > 1) {
        snprintf(out->name, sizeof(out->name), "%.50s.c%u", in->name, (unsigned)j);
        if (in->group[0])
            snprintf(out->group, sizeof(out->group), "%.50s.c%u", in->group, (unsigned)j);
    }
    size_t with_node = 0;
    for (size_t d = 0; d < np_topology_nr_devices(t); d++)
        with_node += np_topology_device(t, d)->node_idx >= 0;
    out->nr_devices = 0;
    for (size_t i = 0; i < in->nr_devices && with_node; i++) {
        unsigned dom, bus, dev, fn;
        if (sscanf(in->devices[i], "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
            continue;
        size_t want = (dev + j) % with_node, seen = 0;
        for (size_t d = 0; d < np_topology_nr_devices(t); d++) {
            const np_pci_info *p = np_topology_device(t, d);
            if (p->node_idx < 0)
                continue;
            if (seen++ == want) {
                snprintf(out->devices[out->nr_devices++], sizeof(out->devices[0]),
                         "%04x:%02x:%02x.%x", (unsigned)p->domain, (unsigned)p->bus,
                         (unsigned)p->dev, (unsigned)p->fn);
                break;
            }
        }
    }
}

static void add_metrics(np_std_metrics *sum, const np_std_metrics *m)
{
    sum->remote_weighted_distance += m->remote_weighted_distance;
    sum->local_fraction += m->local_fraction;
    sum->worst_cpu_overcommit += m->worst_cpu_overcommit;
    sum->worst_mem_over_free += m->worst_mem_over_free;
}

/* Free memory moves with the guests: take (sign < 0) or give back guest
 * g's memory on every node. */
static int track_free(np_host_state *st, size_t g, int sign, uint64_t *now_free)
{
    size_t n = np_topology_nr_nodes(np_host_state_topology(st));
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint64_t b =
            np_host_state_guest_mem_bytes(st, g, i) + np_host_state_guest_claimed_bytes(st, g, i);
        if (b == 0)
            continue;
        if (sign < 0)
            now_free[i] = now_free[i] > b ? now_free[i] - b : 0;
        else
            now_free[i] += b;
        rc = np_host_state_set_node_free(st, i, now_free[i]);
    }
    return rc;
}

/* Running sums of the group and device figures (np_bench_mix_asked):
 * sums of per-pair or per-guest figures and how many there are. */
typedef struct asked_sums {
    double coloc, spread, dev;
    double nr_coloc, nr_spread, nr_dev;
} asked_sums;

/* The running sums behind the per-arrival metrics. */
typedef struct mix_tally {
    size_t n;
    double *vcpus, *gv, *w, *ga, *gb;
    uint64_t *mem, *gm;
    double rwd_sum, local_sum;
    size_t counted;
    asked_sums asked;
} mix_tally;

/* Guest g's memory per node as shares of its total (0 everywhere when it
 * has none). */
static void mem_shares(const np_host_state *st, size_t g, size_t n, double *out)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t b =
            np_host_state_guest_mem_bytes(st, g, i) + np_host_state_guest_claimed_bytes(st, g, i);
        out[i] = (double)b;
        total += b;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = total ? out[i] / (double)total : 0.0;
}

/* One pair of colocate members: sum over memory nodes of share x share x
 * (SLIT / 10 - 1). */
static double pair_distance(const np_topology *t, size_t n, const double *a, const double *b)
{
    double d = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (a[i] == 0.0)
            continue;
        for (size_t j = 0; j < n; j++)
            if (b[j] != 0.0)
                d += a[i] * b[j] * ((double)np_topology_distance(t, i, j) / 10.0 - 1.0);
    }
    return d;
}

static bool pair_shares_node(size_t n, const double *a, const double *b)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] > 0.0 && b[i] > 0.0)
            return true;
    return false;
}

/* Guest g's part of the group and device figures, added to *sum with
 * sign: its pairs with the other members of its group (every other guest
 * in the state, or with before_only those of lower index, so that a pass
 * over all guests counts each pair once) and its device distance.
 * vcpu_w: its vCPUs per node, summing to its vCPU count (np_std_guest). */
static void guest_asked(mix_tally *tl, const np_host_state *st, size_t g, const double *vcpu_w,
                        bool before_only, double sign, asked_sums *sum)
{
    const np_topology *t = np_host_state_topology(st);
    const np_guest_spec *s = np_host_state_guest_spec(st, g);
    size_t n = tl->n;
    if (s->group[0] && s->group_rule != NP_GROUP_NONE) {
        bool have_a = false;
        size_t end = before_only ? g : np_host_state_nr_guests(st);
        for (size_t h = 0; h < end; h++) {
            const np_guest_spec *o = np_host_state_guest_spec(st, h);
            if (h == g || o->group_rule != s->group_rule || strcmp(o->group, s->group) != 0)
                continue;
            if (!have_a)
                mem_shares(st, g, n, tl->ga);
            have_a = true;
            mem_shares(st, h, n, tl->gb);
            if (s->group_rule == NP_GROUP_COLOCATE) {
                sum->coloc += sign * pair_distance(t, n, tl->ga, tl->gb);
                sum->nr_coloc += sign;
            } else {
                sum->spread += sign * (pair_shares_node(n, tl->ga, tl->gb) ? 1.0 : 0.0);
                sum->nr_spread += sign;
            }
        }
    }
    size_t dev_nodes[NP_GUEST_MAX_DEVICES + 1], nr = 0, idx;
    for (size_t i = 0; i < s->nr_devices; i++)
        if (np_topology_device_find(t, s->devices[i], &idx) == 0 &&
            np_topology_device(t, idx)->node_idx >= 0)
            dev_nodes[nr++] = (size_t)np_topology_device(t, idx)->node_idx;
    if (s->io_node_os_id >= 0 && np_topology_node_idx(t, (uint32_t)s->io_node_os_id, &idx) == 0)
        dev_nodes[nr++] = idx;
    if (nr == 0 || s->vcpus == 0)
        return;
    double d = 0.0;
    for (size_t k = 0; k < nr; k++)
        for (size_t c = 0; c < n; c++)
            if (vcpu_w[c] > 0.0)
                d += vcpu_w[c] / s->vcpus *
                     ((double)np_topology_distance(t, c, dev_nodes[k]) / 10.0 - 1.0);
    sum->dev += sign * d / (double)nr;
    sum->nr_dev += sign;
}

static void asked_result(const asked_sums *a, np_bench_mix_asked *out)
{
    memset(out, 0, sizeof(*out));
    out->colocate_pairs = (size_t)llround(a->nr_coloc);
    out->spread_pairs = (size_t)llround(a->nr_spread);
    out->device_guests = (size_t)llround(a->nr_dev);
    out->colocate_distance = out->colocate_pairs ? a->coloc / a->nr_coloc : 0.0;
    out->spread_shared = out->spread_pairs ? a->spread / a->nr_spread : 0.0;
    out->device_distance = out->device_guests ? a->dev / a->nr_dev : 0.0;
}

/* The state's figures in full (each pair once). */
static int asked_compute(mix_tally *tl, const np_host_state *st, np_bench_mix_asked *out)
{
    asked_sums sum = {0};
    for (size_t g = 0; g < np_host_state_nr_guests(st); g++) {
        double rwd, local;
        bool counted;
        int rc = np_std_guest(st, g, tl->w, tl->gv, tl->gm, &rwd, &local, &counted);
        if (rc < 0)
            return rc;
        guest_asked(tl, st, g, tl->gv, true, 1.0, &sum);
    }
    asked_result(&sum, out);
    return 0;
}

/* After an arrival: each figure of the state, when it has something to
 * count, added to the means' sums (sum) and states (the nr_ fields). */
static void asked_arrival(const mix_tally *tl, asked_sums *mean)
{
    np_bench_mix_asked now;
    asked_result(&tl->asked, &now);
    if (now.colocate_pairs) {
        mean->coloc += now.colocate_distance;
        mean->nr_coloc += 1.0;
    }
    if (now.spread_pairs) {
        mean->spread += now.spread_shared;
        mean->nr_spread += 1.0;
    }
    if (now.device_guests) {
        mean->dev += now.device_distance;
        mean->nr_dev += 1.0;
    }
}

/* Add (sign +1) or take away (-1) guest g's part. */
static int tally_guest(mix_tally *tl, const np_host_state *st, size_t g, int sign, double *rwd_out)
{
    double rwd, local;
    bool counted;
    int rc = np_std_guest(st, g, tl->w, tl->gv, tl->gm, &rwd, &local, &counted);
    if (rc < 0)
        return rc;
    guest_asked(tl, st, g, tl->gv, false, sign, &tl->asked);
    for (size_t i = 0; i < tl->n; i++) {
        tl->vcpus[i] += sign * tl->gv[i];
        tl->mem[i] = sign > 0 ? tl->mem[i] + tl->gm[i] : tl->mem[i] - tl->gm[i];
    }
    if (counted) {
        tl->rwd_sum += sign * rwd;
        tl->local_sum += sign * local;
        tl->counted = sign > 0 ? tl->counted + 1 : tl->counted - 1;
    }
    if (rwd_out)
        *rwd_out = counted ? rwd : 0.0;
    return 0;
}

static void tally_metrics(const mix_tally *tl, const np_topology *t, const uint64_t *freeb,
                          np_std_metrics *m)
{
    memset(m, 0, sizeof(*m));
    m->remote_weighted_distance = tl->counted ? tl->rwd_sum / (double)tl->counted : 0.0;
    m->local_fraction = tl->counted ? tl->local_sum / (double)tl->counted : 1.0;
    m->worst_cpu_overcommit = np_std_worst_cpu(t, tl->vcpus);
    m->worst_mem_over_free = np_std_worst_mem(t, freeb, tl->mem);
}

static double metrics_diff(const np_std_metrics *a, const np_std_metrics *b)
{
    double d = fabs(a->remote_weighted_distance - b->remote_weighted_distance);
    d = fmax(d, fabs(a->local_fraction - b->local_fraction));
    d = fmax(d, fabs(a->worst_cpu_overcommit - b->worst_cpu_overcommit));
    if (isfinite(a->worst_mem_over_free) || isfinite(b->worst_mem_over_free))
        d = fmax(d, fabs(a->worst_mem_over_free - b->worst_mem_over_free));
    return d;
}

static int decide(const np_host_state *st, const np_guest_spec *spec, const char *policy,
                  const uint64_t *freeb, np_placement **pl, np_error *err)
{
    if (strcmp(policy, NP_BENCH_MIX_ORACLE_METRICS) == 0)
        return np_place_oracle_metrics(st, spec, freeb, pl, err);
    return np_place(st, spec, policy, pl, err);
}

int np_bench_mix_replay(np_topology *topo, const np_scenario *mix, size_t copies,
                        const char *policy, np_bench_mix_result *out, np_error *err)
{
    return np_bench_mix_replay_traced(topo, mix, copies, policy, NULL, NULL, out, err);
}

int np_bench_mix_replay_traced(np_topology *topo, const np_scenario *mix, size_t copies,
                               const char *policy, np_bench_mix_trace_fn trace, void *ctx,
                               np_bench_mix_result *out, np_error *err)
{
    np_host_state *st = NULL;
    uint64_t *freeb = NULL, *now_free = NULL;
    np_placement *pl = NULL;
    np_std_metrics sum = {0}, m;
    mix_tally tl = {0};
    asked_sums mean_asked = {0};
    double ns = 0.0;
    int rc;

    if (!topo || !mix || !policy || !out || copies == 0)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    snprintf(out->policy, sizeof(out->policy), "%s", policy);
    out->copies = copies;
    size_t n = np_topology_nr_nodes(topo);
    out->nr_nodes = n;
    rc = np_host_state_create(topo, &st);
    if (rc < 0)
        return rc;
    freeb = calloc(n, sizeof(*freeb));
    now_free = calloc(n, sizeof(*now_free));
    tl.n = n;
    tl.vcpus = calloc(n, sizeof(double));
    tl.gv = calloc(n, sizeof(double));
    tl.w = calloc(n, sizeof(double));
    tl.mem = calloc(n, sizeof(uint64_t));
    tl.gm = calloc(n, sizeof(uint64_t));
    tl.ga = calloc(n, sizeof(double));
    tl.gb = calloc(n, sizeof(double));
    if (!freeb || !now_free || !tl.vcpus || !tl.gv || !tl.w || !tl.mem || !tl.gm || !tl.ga ||
        !tl.gb) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        freeb[i] = np_topology_node(topo, i)->mem_free_bytes;
        now_free[i] = freeb[i];
        rc = np_host_state_set_node_free(st, i, freeb[i]);
        if (rc < 0)
            goto out;
    }
    for (size_t e = 0; e < np_scenario_nr_events(mix); e++) {
        for (size_t j = 0; j < copies; j++) {
            np_guest_spec s;
            size_t g;
            char name[NP_GUEST_NAME_MAX];
            const char *guest = np_scenario_event_guest(mix, e);
            if (copies > 1)
                snprintf(name, sizeof(name), "%.50s.c%u", guest, (unsigned)j);
            else
                snprintf(name, sizeof(name), "%s", guest);
            switch (np_scenario_event_kind_of(mix, e)) {
            case NP_SCENARIO_ARRIVE: {
                copy_spec(topo, np_scenario_event_spec(mix, e), copies, j, &s);
                double t0 = thread_ns(), guest_rwd = 0.0;
                bool placed = false;
                rc = decide(st, &s, policy, freeb, &pl, err);
                ns += thread_ns() - t0;
                out->arrivals++;
                if (rc == -E2BIG) {
                    out->skipped = true;
                    rc = 0;
                    goto out;
                }
                if (rc == -ENOSPC || rc == -EINVAL) {
                    /* -EINVAL: the host cannot take this spec at all (more
                     * vCPUs than it has CPUs, say): a refusal too */
                    out->final_metrics.refusals++;
                    out->invalid += rc == -EINVAL;
                    rc = 0;
                } else if (rc < 0) {
                    goto out;
                } else {
                    rc = np_placement_commit(st, &s, pl, &g);
                    np_placement_destroy(pl);
                    pl = NULL;
                    if (rc < 0)
                        goto out;
                    np_host_state_populate(st, g);
                    rc = track_free(st, g, -1, now_free);
                    if (rc == 0)
                        rc = tally_guest(&tl, st, g, +1, &guest_rwd);
                    if (rc < 0)
                        goto out;
                    out->placed++;
                    placed = true;
                }
                tally_metrics(&tl, topo, freeb, &m);
                if (trace) {
                    np_bench_mix_step step = {
                        .arrival = out->arrivals - 1,
                        .guest = name,
                        .placed = placed,
                        .nr_nodes = n,
                        .guest_vcpus = tl.gv,
                        .guest_mem_bytes = tl.gm,
                        .host_vcpus = tl.vcpus,
                        .guest_rwd = guest_rwd,
                        .metrics = m,
                    };
                    if (!placed) {
                        memset(tl.gv, 0, n * sizeof(*tl.gv));
                        memset(tl.gm, 0, n * sizeof(*tl.gm));
                    }
                    trace(&step, ctx);
                }
                add_metrics(&sum, &m);
                asked_arrival(&tl, &mean_asked);
                out->max_mem_over_free = fmax(out->max_mem_over_free, m.worst_mem_over_free);
                break;
            }
            case NP_SCENARIO_DEPART:
                /* a refused guest is not on the host: nothing to remove */
                if (np_host_state_find_guest(st, name, &g) < 0)
                    break;
                rc = track_free(st, g, +1, now_free);
                if (rc == 0)
                    rc = tally_guest(&tl, st, g, -1, NULL);
                if (rc == 0)
                    rc = np_host_state_remove_guest(st, name);
                if (rc < 0)
                    goto out;
                break;
            case NP_SCENARIO_SET_DEMAND: {
                double demand = 0.0;
                np_scenario_event_demand(mix, e, &demand);
                if (np_host_state_find_guest(st, name, &g) < 0)
                    break;
                for (uint32_t v = 0; v < np_host_state_guest_spec(st, g)->vcpus; v++)
                    np_host_state_set_vcpu_demand(st, g, v, demand);
                break;
            }
            }
        }
    }
    rc = np_std_metrics_compute(st, freeb, &m);
    if (rc < 0)
        goto out;
    np_std_metrics inc;
    tally_metrics(&tl, topo, freeb, &inc);
    out->incremental_error = metrics_diff(&inc, &m);
    rc = asked_compute(&tl, st, &out->final_asked);
    if (rc < 0)
        goto out;
    asked_result(&mean_asked, &out->mean_asked);
    m.refusals = out->final_metrics.refusals;
    out->final_metrics = m;
    if (out->arrivals) {
        double a = (double)out->arrivals;
        out->mean_metrics.remote_weighted_distance = sum.remote_weighted_distance / a;
        out->mean_metrics.local_fraction = sum.local_fraction / a;
        out->mean_metrics.worst_cpu_overcommit = sum.worst_cpu_overcommit / a;
        out->mean_metrics.worst_mem_over_free = sum.worst_mem_over_free / a;
        out->ns_per_decision = ns / a;
    }
    out->mean_metrics.refusals = m.refusals;
out:
    np_placement_destroy(pl);
    free(freeb);
    free(now_free);
    free(tl.vcpus);
    free(tl.gv);
    free(tl.w);
    free(tl.mem);
    free(tl.gm);
    free(tl.ga);
    free(tl.gb);
    np_host_state_destroy(st);
    return rc;
}
