/*
 * sim/metrics.c - metrics of a run (see sim.h for their definitions).
 *
 * Imbalance is ESXi's notion (max / mean - 1 over nodes, 0 = even);
 * fairness is Jain's index, (sum x)^2 / (n sum x^2), 1 when every guest
 * gets the same x, 1/n when one guest gets everything. Throughput is work
 * in ns at full local speed per ns alive, i.e. vCPU-equivalents: a 4-vCPU
 * guest running flat out on local memory scores 4.
 */
#include "sim/metrics.h"

#include <errno.h>
#include <stdlib.h>

#include "sim/memory.h"

static double imbalance(const double *x, size_t n)
{
    double sum = 0, max = 0;
    size_t cnt = 0;
    for (size_t i = 0; i < n; i++) {
        if (x[i] < 0)
            continue; /* not counted (no CPUs, no memory) */
        sum += x[i];
        if (x[i] > max)
            max = x[i];
        cnt++;
    }
    if (!cnt || !(sum > 0))
        return 0.0;
    double imb = max / (sum / (double)cnt) - 1.0;
    return imb > 0 ? imb : 0.0; /* max >= mean; below 0 only by rounding */
}

/* Per-node busy fraction and bandwidth utilisation since (busy0, bw0). */
static int node_figures(const np_sim *sim, double span_ns, bool since_sample, double *cpu_imb,
                        double *bw_imb)
{
    size_t n = sim->nr_nodes;
    double *cpu = malloc(n * sizeof(*cpu));
    double *bw = malloc(n * sizeof(*bw));
    if (!cpu || !bw) {
        free(cpu);
        free(bw);
        return -ENOMEM;
    }
    for (size_t k = 0; k < n; k++) {
        const sim_node *nd = &sim->nodes[k];
        uint64_t busy = nd->busy_ns - (since_sample ? nd->sample_busy_ns : 0);
        double util = nd->bw_util_ns - (since_sample ? nd->sample_bw_util_ns : 0);
        cpu[k] = nd->nr_cpus && span_ns > 0 ? (double)busy / ((double)nd->nr_cpus * span_ns) : -1;
        bw[k] = nd->total_pages && span_ns > 0 ? util / span_ns : -1;
    }
    *cpu_imb = imbalance(cpu, n);
    *bw_imb = imbalance(bw, n);
    free(cpu);
    free(bw);
    return 0;
}

int sim_metrics_sample(np_sim *sim)
{
    sim_totals *t = &sim->tot;
    double span = (double)(sim->now_ns - t->s_t_ns);
    np_sim_sample s = {.t_ns = sim->now_ns};
    uint64_t busy = 0;
    int rc;

    if (sim->nr_samples == sim->cap_samples) {
        size_t cap = sim->cap_samples ? sim->cap_samples * 2 : 64;
        np_sim_sample *grown = realloc(sim->samples, cap * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        sim->samples = grown;
        sim->cap_samples = cap;
    }
    rc = node_figures(sim, span, true, &s.cpu_imbalance, &s.bw_imbalance);
    if (rc)
        return rc;
    for (size_t k = 0; k < sim->nr_nodes; k++)
        busy += sim->nodes[k].busy_ns - sim->nodes[k].sample_busy_ns;
    s.work_rate = span > 0 ? (t->work_ns - t->s_work_ns) / span : 0;
    double acc = t->acc_total - t->s_acc_total;
    s.remote_ratio = acc > 0 ? (t->acc_remote - t->s_acc_remote) / acc : 0;
    s.cpu_util = span > 0 ? (double)busy / ((double)sim->nr_cpus * span) : 0;
    s.vcpu_migrations = t->vcpu_migrations;
    s.pages_migrated = t->pages_migrated;
    sim->samples[sim->nr_samples++] = s;

    for (size_t k = 0; k < sim->nr_nodes; k++) {
        sim->nodes[k].sample_busy_ns = sim->nodes[k].busy_ns;
        sim->nodes[k].sample_bw_util_ns = sim->nodes[k].bw_util_ns;
    }
    t->s_t_ns = sim->now_ns;
    t->s_work_ns = t->work_ns;
    t->s_acc_total = t->acc_total;
    t->s_acc_remote = t->acc_remote;
    return 0;
}

/* Sums over a guest's vCPUs. */
static void guest_sums(const np_sim *sim, const sim_guest *g, np_sim_guest_metrics *m,
                       uint64_t *switches, uint64_t *remote_switches, double *acc,
                       double *acc_remote)
{
    *switches = *remote_switches = 0;
    *acc = *acc_remote = 0;
    for (uint32_t i = 0; i < g->nr_vcpus; i++) {
        const sim_vcpu *v = &sim->vcpus[g->first_vcpu + i];
        m->work_ns += v->work_ns;
        m->cpu_ns += v->cpu_ns;
        m->wait_ns += v->wait_ns;
        m->stall_ns += v->stall_total_ns;
        m->vcpu_migrations += v->migrations;
        m->node_migrations += v->node_migrations;
        *switches += v->switches;
        *remote_switches += v->switches_remote;
        *acc += v->acc_total;
        *acc_remote += v->acc_remote;
        /* A vCPU queued right now has waited since it was queued. */
        if (v->state == SIM_V_QUEUED)
            m->wait_ns += sim->now_ns - v->queued_since_ns;
    }
}

int np_sim_guest_metrics_get(const np_sim *sim, size_t gidx, np_sim_guest_metrics *out)
{
    uint64_t sw, rsw;
    double acc, acc_remote;

    if (!sim || !out || gidx >= sim->nr_guests)
        return -EINVAL;
    const sim_guest *g = &sim->guests[gidx];
    *out = (np_sim_guest_metrics){.status = (np_sim_guest_status)g->status};
    guest_sums(sim, g, out, &sw, &rsw, &acc, &acc_remote);
    if (g->status == NP_SIM_GUEST_RUNNING && sim->now_ns > g->admitted_ns)
        out->throughput = out->work_ns / (double)(sim->now_ns - g->admitted_ns);
    out->remote_ratio = acc > 0 ? acc_remote / acc : 0;
    out->internal_remote_ratio = sw ? (double)rsw / (double)sw : 0;
    out->pages_migrated = g->pages_migrated;
    out->mem_pages = g->total_pages;
    return 0;
}

int np_sim_host_metrics_get(const np_sim *sim, np_sim_host_metrics *out)
{
    double sx_cpu = 0, sxx_cpu = 0, sx_prog = 0, sxx_prog = 0;
    size_t nfair = 0;
    uint64_t busy = 0;
    int rc;

    if (!sim || !out)
        return -EINVAL;
    *out = (np_sim_host_metrics){
        .now_ns = sim->now_ns,
        .events = sim->events,
        .work_ns = sim->tot.work_ns,
        .vcpu_migrations = sim->tot.vcpu_migrations,
        .node_migrations = sim->tot.node_migrations,
        .pages_migrated = sim->tot.pages_migrated,
        .pages_shared_saved = sim->shared_saved_pages,
    };
    out->remote_ratio = sim->tot.acc_total > 0 ? sim->tot.acc_remote / sim->tot.acc_total : 0;
    for (size_t k = 0; k < sim->nr_nodes; k++)
        busy += sim->nodes[k].busy_ns;
    out->cpu_util = sim->now_ns ? (double)busy / ((double)sim->nr_cpus * (double)sim->now_ns) : 0;
    rc = node_figures(sim, (double)sim->now_ns, false, &out->cpu_imbalance, &out->bw_imbalance);
    if (rc)
        return rc;

    for (size_t i = 0; i < sim->nr_guests; i++) {
        const sim_guest *g = &sim->guests[i];
        np_sim_guest_metrics m = {0};
        uint64_t sw, rsw;
        double acc, acc_remote;
        if (g->status == NP_SIM_GUEST_RUNNING)
            out->guests_running++;
        else if (g->status == NP_SIM_GUEST_REJECTED)
            out->guests_rejected++;
        if (g->status != NP_SIM_GUEST_RUNNING)
            continue;
        guest_sums(sim, g, &m, &sw, &rsw, &acc, &acc_remote);
        double runnable = (double)(m.cpu_ns + m.wait_ns);
        if (!(runnable > 0))
            continue;
        double x = (double)m.cpu_ns / runnable;
        double y = m.work_ns / runnable;
        sx_cpu += x;
        sxx_cpu += x * x;
        sx_prog += y;
        sxx_prog += y * y;
        nfair++;
    }
    out->fairness_cpu = nfair && sxx_cpu > 0 ? sx_cpu * sx_cpu / ((double)nfair * sxx_cpu) : 1.0;
    out->fairness_progress =
        nfair && sxx_prog > 0 ? sx_prog * sx_prog / ((double)nfair * sxx_prog) : 1.0;
    return 0;
}

size_t np_sim_nr_samples(const np_sim *sim)
{
    return sim ? sim->nr_samples : 0;
}

int np_sim_sample_get(const np_sim *sim, size_t i, np_sim_sample *out)
{
    if (!sim || !out || i >= sim->nr_samples)
        return -EINVAL;
    *out = sim->samples[i];
    return 0;
}

int np_sim_node_mem_get(const np_sim *sim, size_t node_idx, np_sim_node_mem *out)
{
    if (!sim || !out || node_idx >= sim->nr_nodes)
        return -EINVAL;
    const sim_node *n = &sim->nodes[node_idx];
    *out = (np_sim_node_mem){
        .total_pages = n->total_pages,
        .guest_pages = n->guest_pages,
        .internal_pages = n->internal_pages,
        .shared_saved_pages = n->saved_pages,
        .free_pages = sim_node_free_pages(sim, (uint32_t)node_idx),
    };
    return 0;
}

uint64_t np_sim_guest_node_pages(const np_sim *sim, size_t gidx, size_t node_idx)
{
    if (!sim || gidx >= sim->nr_guests || node_idx >= sim->nr_nodes)
        return 0;
    return sim->guests[gidx].node_pages[node_idx];
}

uint64_t np_sim_guest_node_run_ns(const np_sim *sim, size_t gidx, size_t node_idx)
{
    if (!sim || gidx >= sim->nr_guests || node_idx >= sim->nr_nodes)
        return 0;
    const sim_guest *g = &sim->guests[gidx];
    uint64_t ns = g->node_run_ns[node_idx];
    for (uint32_t i = 0; i < g->nr_vcpus; i++) {
        const sim_vcpu *v = &sim->vcpus[g->first_vcpu + i];
        if (v->run_node == node_idx)
            ns += v->run_node_ns; /* not yet flushed to the guest's table */
    }
    return ns;
}
