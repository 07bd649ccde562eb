/*
 * cli/cmd_bench_mixes.c - `numaplace bench mixes`: every placement policy
 * replays arrival/departure mixes on real-machine hosts and is judged by
 * the standard locality metrics (np_std_metrics), not by numaplace's own
 * objective. Rows per (host, mix, policy); a summary per policy compares
 * each with numaplace on the same (host, mix). docs/placement.md has the
 * figures and the command.
 */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <numaplace/bench.h>
#include <numaplace/place.h>
#include <numaplace/scenario.h>

#include "bench_suite.h"
#include "cli.h"

/* The default hosts, paths relative to the source tree's top (run from
 * there, or name hosts with --host): 2 to 64 nodes, SMT and not,
 * asymmetric distances, CPU-less and memory-less nodes, sub-NUMA
 * clustering, captures with a measured free figure. */
static const char *const default_hosts[] = {
    "builtin:2s-2n",
    "tests/fixtures/numactl/epyc9375f-2s-smt-off.txt",
    "tests/fixtures/numactl/opteron6272-2s-4n.txt",
    "tests/fixtures/hwloc/xml-v2/40intel64-2g2n4c+pcilocality.xml",
    "builtin:cxl-4n",
    "tests/fixtures/numactl/threadripper-nps4-memoryless.txt",
    "tests/fixtures/numactl/power9-ac922-sparse.txt",
    "tests/fixtures/hwloc/xml-v2/16amd64-4distances.xml",
    "tests/fixtures/numactl/epyc-2s-nps4-8n.txt",
    "tests/fixtures/hwloc/xml-v2/64intel64-heteromem.xml",
    "builtin:opteron-8n",
    "builtin:big-32n",
    "gen:64",
};
#define NR_DEFAULT_HOSTS (sizeof(default_hosts) / sizeof(default_hosts[0]))
#define MIXES_DEFAULT_GLOB "bench/mixes/*.json"
#define MIXES_MAX_ARGS 64
#define MIXES_MAX_POLICIES 32
/* A policy "ties" numaplace within this remote-weighted distance: smaller
 * differences are rounding in the shares, not a different placement. */
#define MIXES_RWD_TIE 0.005

static void usage(FILE *out)
{
    fprintf(out,
            "usage: numaplace bench mixes [--host HOST]... [--mix FILE]... [--policy NAME]...\n"
            "                             [--copies N|auto] [--json | --csv] [--svg FILE]\n"
            "                             [--trace FILE]\n\n"
            "Replay arrival/departure mixes on hosts under every placement policy and judge\n"
            "the states by standard metrics: mean remote-weighted distance (0 ideal), local\n"
            "fraction, worst CPU over-commit (vCPUs / CPUs of a node), worst memory use /\n"
            "free at start, refusals, decision time; for the final state and the mean over\n"
            "every arrival.\n\n"
            "  --host HOST     gen:N, builtin:NAME or a topology file; repeat for several.\n"
            "                  Default: %zu hosts of 2 to 64 nodes, files under tests/fixtures/\n"
            "                  (run from the source tree's top)\n"
            "  --mix FILE      a scenario file without a host (docs/scenario.md); repeat.\n"
            "                  Default: " MIXES_DEFAULT_GLOB "\n"
            "  --policy NAME   a placement policy, or oracle-metrics; repeat. Default: every\n"
            "                  registered policy and oracle-metrics (the oracles only run on\n"
            "                  hosts small enough: oracle 12 nodes, oracle-metrics 8)\n"
            "  --copies N      interleaved copies of each mix (default auto: the host's CPUs\n"
            "                  and free memory over the reference host's %u CPUs and %u GiB)\n"
            "  --json          machine-readable output (schema numaplace.bench-mixes/1)\n"
            "  --csv           one line per row, with a header\n"
            "  --svg FILE      a bar chart: per host and policy, the mean over the mixes of\n"
            "                  the mean-over-arrivals remote-weighted distance\n"
            "  --trace FILE    one line per arrival of every replay: the guest's vCPUs and\n"
            "                  MiB per node, its distance, the host's worst vCPUs/CPU and\n"
            "                  mean distance after it (compare two policies line by line);\n"
            "                  - for standard output, each replay's lines before its row\n\n"
            "Progress goes to stderr when it is a terminal. Decision time is CPU time of\n"
            "the calling thread per decision, with the metrics taken between decisions.\n",
            NR_DEFAULT_HOSTS, NP_BENCH_MIX_REF_CPUS, (unsigned)(NP_BENCH_MIX_REF_MEM_BYTES >> 30));
}

void bench_mixes_usage(FILE *out)
{
    usage(out);
}

typedef enum { OUT_TABLE, OUT_JSON, OUT_CSV } out_fmt;

typedef struct mix_row {
    const char *host, *mix;
    np_bench_mix_result r;
} mix_row;

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* A short name for the table: the file name without its extension, or the
 * built-in host's name. */
static const char *short_name(const char *path, char *buf, size_t len)
{
    const char *b = base_name(path);
    if (strncmp(b, "builtin:", 8) == 0)
        b += 8;
    const char *dot = strrchr(b, '.');
    int keep = dot && dot != b ? (int)(dot - b) : (int)strlen(b);
    snprintf(buf, len, "%.*s", keep, b);
    return buf;
}

/* What a --trace line needs besides the step. */
typedef struct trace_ctx {
    FILE *out;
    const char *host, *mix, *policy;
} trace_ctx;

/* One line per arrival: host mix policy arrival guest, then "refused" or
 * node:vCPUs/MiB for every node the guest uses, its distance, the host's
 * worst vCPUs per CPU, mean distance and vCPUs per node after it. */
static void trace_line(const np_bench_mix_step *st, void *arg)
{
    const trace_ctx *tc = arg;
    fprintf(tc->out, "%s %s %s %zu %s", tc->host, tc->mix, tc->policy, st->arrival, st->guest);
    if (!st->placed) {
        fprintf(tc->out, " refused");
    } else {
        const char *sep = " ";
        for (size_t i = 0; i < st->nr_nodes; i++) {
            if (st->guest_vcpus[i] <= 0.0 && st->guest_mem_bytes[i] == 0)
                continue;
            fprintf(tc->out, "%s%zu:%.2f/%" PRIu64, sep, i, st->guest_vcpus[i],
                    st->guest_mem_bytes[i] >> 20);
            sep = ",";
        }
    }
    fprintf(tc->out, " rwd %.3f host_cpu %.3f host_rwd %.4f vcpus", st->guest_rwd,
            st->metrics.worst_cpu_overcommit, st->metrics.remote_weighted_distance);
    for (size_t i = 0; i < st->nr_nodes; i++)
        fprintf(tc->out, "%s%.2f", i ? "," : " ", st->host_vcpus[i]);
    fputc('\n', tc->out);
}

static json_t *metrics_json(const np_std_metrics *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "remote_weighted_distance", json_real(m->remote_weighted_distance));
    json_object_set_new(o, "local_fraction", json_real(m->local_fraction));
    json_object_set_new(o, "worst_cpu_overcommit", json_real(m->worst_cpu_overcommit));
    json_object_set_new(o, "worst_mem_over_free",
                        isfinite(m->worst_mem_over_free) ? json_real(m->worst_mem_over_free)
                                                         : json_null());
    json_object_set_new(o, "refusals", json_integer((json_int_t)m->refusals));
    return o;
}

/* The group and device figures, null when there was nothing to count;
 * the counts are pairs and guests (final) or states (mean over arrivals). */
static json_t *asked_json(const np_bench_mix_asked *a, bool states)
{
    json_t *o = json_object();
    json_object_set_new(o, "colocate_distance",
                        a->colocate_pairs ? json_real(a->colocate_distance) : json_null());
    json_object_set_new(o, states ? "colocate_states" : "colocate_pairs",
                        json_integer((json_int_t)a->colocate_pairs));
    json_object_set_new(o, "spread_shared",
                        a->spread_pairs ? json_real(a->spread_shared) : json_null());
    json_object_set_new(o, states ? "spread_states" : "spread_pairs",
                        json_integer((json_int_t)a->spread_pairs));
    json_object_set_new(o, "device_distance",
                        a->device_guests ? json_real(a->device_distance) : json_null());
    json_object_set_new(o, states ? "device_states" : "device_guests",
                        json_integer((json_int_t)a->device_guests));
    return o;
}

/* The three figures, as CSV fields (empty when nothing was counted) or
 * table columns ("-"). */
static void print_asked(const np_bench_mix_asked *a, bool csv)
{
    double v[3] = {a->colocate_distance, a->spread_shared, a->device_distance};
    size_t c[3] = {a->colocate_pairs, a->spread_pairs, a->device_guests};
    for (size_t i = 0; i < 3; i++) {
        if (c[i] && csv)
            printf(",%.4f", v[i]);
        else if (c[i])
            printf(" %5.3f", v[i]);
        else
            printf(csv ? "," : "     -"); /* " %5s" of "-" */
    }
}

static void print_row(out_fmt fmt, const mix_row *row, json_t *rows)
{
    const np_bench_mix_result *r = &row->r;
    const np_std_metrics *f = &r->final_metrics, *m = &r->mean_metrics;
    if (fmt == OUT_JSON) {
        json_t *o = json_object();
        json_object_set_new(o, "host", json_string(row->host));
        json_object_set_new(o, "mix", json_string(row->mix));
        json_object_set_new(o, "policy", json_string(r->policy));
        json_object_set_new(o, "nodes", json_integer((json_int_t)r->nr_nodes));
        json_object_set_new(o, "copies", json_integer((json_int_t)r->copies));
        json_object_set_new(o, "skipped", json_boolean(r->skipped));
        if (!r->skipped) {
            json_object_set_new(o, "arrivals", json_integer((json_int_t)r->arrivals));
            json_object_set_new(o, "placed", json_integer((json_int_t)r->placed));
            json_object_set_new(o, "invalid", json_integer((json_int_t)r->invalid));
            json_object_set_new(o, "final", metrics_json(f));
            json_object_set_new(o, "mean_over_arrivals", metrics_json(m));
            json_object_set_new(o, "ns_per_decision", json_real(r->ns_per_decision));
            json_object_set_new(o, "max_mem_over_free",
                                isfinite(r->max_mem_over_free) ? json_real(r->max_mem_over_free)
                                                               : json_null());
            json_t *asked = json_object();
            json_object_set_new(asked, "final", asked_json(&r->final_asked, false));
            json_object_set_new(asked, "mean_over_arrivals", asked_json(&r->mean_asked, true));
            json_object_set_new(o, "groups_devices", asked);
        }
        json_array_append_new(rows, o);
        return;
    }
    if (fmt == OUT_CSV) {
        if (r->skipped) {
            /* the 17 columns after copies, empty (the header has 22) */
            printf("%s,%s,%s,%zu,%zu%s\n", row->host, row->mix, r->policy, r->nr_nodes, r->copies,
                   ",,,,,,,,,,,,,,,,,");
            return;
        }
        printf("%s,%s,%s,%zu,%zu,%zu,%zu,%.4f,%.4f,%.3f,%.3f,%.4f,%.4f,%.3f,%.3f,%.0f", row->host,
               row->mix, r->policy, r->nr_nodes, r->copies, r->arrivals, f->refusals,
               f->remote_weighted_distance, f->local_fraction, f->worst_cpu_overcommit,
               f->worst_mem_over_free, m->remote_weighted_distance, m->local_fraction,
               m->worst_cpu_overcommit, m->worst_mem_over_free, r->ns_per_decision);
        print_asked(&r->final_asked, true);
        print_asked(&r->mean_asked, true);
        printf("\n");
        return;
    }
    char hb[64], mb[64];
    const char *hn = short_name(row->host, hb, sizeof(hb));
    const char *mn = short_name(row->mix, mb, sizeof(mb));
    if (r->skipped) {
        printf("%-24.24s %-15.15s %-14s %5zu %s\n", hn, mn, r->policy, r->nr_nodes,
               "n/a (host too large for this policy)");
        return;
    }
    printf("%-24.24s %-15.15s %-14s %5zu %4zu %5zu %5zu | %6.3f %5.3f %5.2f %5.2f | %6.3f %5.3f "
           "%5.2f %5.2f | %9.1f |",
           hn, mn, r->policy, r->nr_nodes, r->copies, r->arrivals, f->refusals,
           f->remote_weighted_distance, f->local_fraction, f->worst_cpu_overcommit,
           f->worst_mem_over_free, m->remote_weighted_distance, m->local_fraction,
           m->worst_cpu_overcommit, m->worst_mem_over_free, r->ns_per_decision / 1000.0);
    print_asked(&r->final_asked, false);
    printf("\n");
}

static void print_header(out_fmt fmt)
{
    if (fmt == OUT_CSV)
        printf("host,mix,policy,nodes,copies,arrivals,refusals,final_rwd,final_local,"
               "final_cpu_over,final_mem_over_free,mean_rwd,mean_local,mean_cpu_over,"
               "mean_mem_over_free,ns_per_decision,final_coloc_dist,final_spread_shared,"
               "final_device_rwd,mean_coloc_dist,mean_spread_shared,mean_device_rwd\n");
    else if (fmt == OUT_TABLE)
        printf("%-24s %-15s %-14s %5s %4s %5s %5s | %-25s | %-25s | %9s | %-17s\n"
               "%-24s %-15s %-14s %5s %4s %5s %5s | %6s %5s %5s %5s | %6s %5s %5s %5s | %9s |"
               " %5s %5s %5s\n",
               "host", "mix", "policy", "nodes", "cop", "arriv", "refus", "final state",
               "mean over arrivals", "decision", "asked, final", "", "", "", "", "", "", "", "rwd",
               "local", "cpu", "mem", "rwd", "local", "cpu", "mem", "us", "coloc", "sprd", "dev");
}

/* Per policy, over the (host, mix) pairs it ran on: means of the final and
 * mean-over-arrival distances, refusals, the worst memory ratio, and how
 * often numaplace did better, equal or worse on the mean distance. */
static void print_summary(const mix_row *rows, size_t nr_rows, const char *const *policies,
                          size_t nr_policies)
{
    printf("\nsummary per policy over the (host, mix) pairs it ran on; vs numaplace: pairs\n"
           "where numaplace's mean-over-arrivals distance is lower / within %.3f / higher\n",
           MIXES_RWD_TIE);
    printf("%-16s %5s %9s %9s %9s %8s %9s   %s\n", "policy", "pairs", "final_rwd", "mean_rwd",
           "refusals", "cpu_max", "mem_max", "numaplace better/tie/worse");
    for (size_t p = 0; p < nr_policies; p++) {
        size_t pairs = 0, refusals = 0, better = 0, tie = 0, worse = 0;
        double frwd = 0, mrwd = 0, cpu = 0, mem = 0;
        for (size_t i = 0; i < nr_rows; i++) {
            const np_bench_mix_result *r = &rows[i].r;
            if (r->skipped || strcmp(r->policy, policies[p]) != 0)
                continue;
            pairs++;
            frwd += r->final_metrics.remote_weighted_distance;
            mrwd += r->mean_metrics.remote_weighted_distance;
            refusals += r->final_metrics.refusals;
            cpu = fmax(cpu, r->final_metrics.worst_cpu_overcommit);
            mem = fmax(mem, r->final_metrics.worst_mem_over_free);
            for (size_t j = 0; j < nr_rows; j++) {
                const np_bench_mix_result *q = &rows[j].r;
                if (q->skipped || strcmp(q->policy, "numaplace") != 0 ||
                    strcmp(rows[j].host, rows[i].host) != 0 ||
                    strcmp(rows[j].mix, rows[i].mix) != 0)
                    continue;
                double d = q->mean_metrics.remote_weighted_distance -
                           r->mean_metrics.remote_weighted_distance;
                if (d < -MIXES_RWD_TIE)
                    better++;
                else if (d > MIXES_RWD_TIE)
                    worse++;
                else
                    tie++;
            }
        }
        if (!pairs)
            continue;
        printf("%-16s %5zu %9.4f %9.4f %9zu %8.2f %9.3f   %zu/%zu/%zu\n", policies[p], pairs,
               frwd / pairs, mrwd / pairs, refusals, cpu, mem, better, tie, worse);
    }
}

/* Bars per host (groups) and policy (series): the mean over the mixes of
 * the mean-over-arrivals distance; no bar where the policy did not run. */
static int write_svg(const char *path, const mix_row *rows, size_t nr_rows,
                     const char *const *hosts, size_t nr_hosts, const char *const *policies,
                     size_t nr_policies)
{
    double *values = calloc(nr_hosts * nr_policies, sizeof(*values));
    char(*names)[64] = calloc(nr_hosts, sizeof(*names));
    const char **groups = calloc(nr_hosts, sizeof(*groups));
    int rc = -1;
    if (!values || !names || !groups)
        goto out;
    for (size_t h = 0; h < nr_hosts; h++) {
        groups[h] = short_name(hosts[h], names[h], sizeof(names[h]));
        for (size_t p = 0; p < nr_policies; p++) {
            double sum = 0.0;
            size_t cnt = 0;
            for (size_t i = 0; i < nr_rows; i++)
                if (rows[i].host == hosts[h] && !rows[i].r.skipped &&
                    strcmp(rows[i].r.policy, policies[p]) == 0) {
                    sum += rows[i].r.mean_metrics.remote_weighted_distance;
                    cnt++;
                }
            values[h * nr_policies + p] = cnt ? sum / (double)cnt : -1.0;
        }
    }
    rc = bench_svg_bars(
        path, "Remote-weighted distance, mean over arrivals and mixes (lower is better)",
        "remote-weighted distance", groups, nr_hosts, policies, nr_policies, values, 0.0);
out:
    free(values);
    free(names);
    free(groups);
    return rc;
}

int bench_mixes(int argc, char **argv)
{
    static const struct option opts[] = {
        {"host", required_argument, NULL, 'H'},   {"mix", required_argument, NULL, 'm'},
        {"policy", required_argument, NULL, 'p'}, {"copies", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},         {"csv", no_argument, NULL, 'C'},
        {"svg", required_argument, NULL, 'S'},    {"trace", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *hosts[MIXES_MAX_ARGS], *mixes[MIXES_MAX_ARGS], *policies[MIXES_MAX_POLICIES];
    size_t nr_hosts = 0, nr_mixes = 0, nr_policies = 0;
    uint64_t copies = 0; /* 0: auto */
    out_fmt fmt = OUT_TABLE;
    const char *svg = NULL, *trace_path = NULL;
    FILE *trace_out = NULL;
    glob_t gl = {0};
    bool globbed = false;
    np_scenario **scs = NULL;
    np_topology **topos = NULL;
    mix_row *rows = NULL;
    size_t nr_rows = 0;
    json_t *jrows = NULL;
    int status = NP_EXIT_OK, c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "H:m:p:c:jCS:T:h", opts, NULL)) != -1) {
        switch (c) {
        case 'H':
        case 'm':
        case 'p': {
            const char **list = c == 'H' ? hosts : c == 'm' ? mixes : policies;
            size_t *nr = c == 'H' ? &nr_hosts : c == 'm' ? &nr_mixes : &nr_policies;
            size_t max = c == 'p' ? MIXES_MAX_POLICIES : MIXES_MAX_ARGS;
            if (*nr == max) {
                cli_errorf("bench mixes: at most %zu --%s options", max,
                           c == 'H'   ? "host"
                           : c == 'm' ? "mix"
                                      : "policy");
                return NP_EXIT_USAGE;
            }
            list[(*nr)++] = optarg;
            break;
        }
        case 'c':
            if (strcmp(optarg, "auto") == 0)
                copies = 0;
            else if (cli_parse_uint(optarg, "--copies", 1, 10000, &copies) < 0)
                return NP_EXIT_USAGE;
            break;
        case 'j': fmt = OUT_JSON; break;
        case 'C': fmt = OUT_CSV; break;
        case 'S': svg = optarg; break;
        case 'T': trace_path = optarg; break;
        case 'h': usage(stdout); return NP_EXIT_OK;
        default: usage(stderr); return NP_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_errorf("bench mixes: unexpected argument '%s'", argv[optind]);
        return NP_EXIT_USAGE;
    }
    if (!nr_hosts)
        for (; nr_hosts < NR_DEFAULT_HOSTS; nr_hosts++)
            hosts[nr_hosts] = default_hosts[nr_hosts];
    if (!nr_policies) {
        for (size_t i = 0; i < np_place_policy_count() && nr_policies + 1 < MIXES_MAX_POLICIES; i++)
            policies[nr_policies++] = np_place_policy_name(i);
        policies[nr_policies++] = NP_BENCH_MIX_ORACLE_METRICS;
    }
    for (size_t p = 0; p < nr_policies; p++) {
        bool known = strcmp(policies[p], NP_BENCH_MIX_ORACLE_METRICS) == 0;
        for (size_t i = 0; i < np_place_policy_count() && !known; i++)
            known = strcmp(policies[p], np_place_policy_name(i)) == 0;
        if (!known) {
            cli_errorf("bench mixes: unknown policy '%s'; see `numaplace place --help`",
                       policies[p]);
            return NP_EXIT_USAGE;
        }
    }
    if (!nr_mixes) {
        if (glob(MIXES_DEFAULT_GLOB, 0, NULL, &gl) != 0 || gl.gl_pathc == 0) {
            cli_errorf("bench mixes: no mix given and none in %s (run from the source tree's "
                       "top, or give --mix FILE)",
                       MIXES_DEFAULT_GLOB);
            globfree(&gl);
            return NP_EXIT_USAGE;
        }
        globbed = true;
        for (size_t i = 0; i < gl.gl_pathc && nr_mixes < MIXES_MAX_ARGS; i++)
            mixes[nr_mixes++] = gl.gl_pathv[i];
    }
    scs = calloc(nr_mixes, sizeof(*scs));
    rows = calloc(nr_hosts * nr_mixes * nr_policies, sizeof(*rows));
    if (!scs || !rows) {
        status = cli_fail(-ENOMEM, NULL);
        goto out;
    }
    for (size_t i = 0; i < nr_mixes; i++) {
        np_error err = {0};
        int rc = np_scenario_read_file(mixes[i], &scs[i], &err);
        if (rc < 0) {
            status = cli_fail(rc, &err);
            goto out;
        }
    }
    /* Every host is read before the first row: a host that cannot be read
     * stops the run before it prints anything (no partial table). */
    topos = calloc(nr_hosts, sizeof(*topos));
    if (!topos) {
        status = cli_fail(-ENOMEM, NULL);
        goto out;
    }
    for (size_t h = 0; h < nr_hosts; h++) {
        np_error err = {0};
        int rc = np_bench_open_host(hosts[h], &topos[h], &err);
        if (rc < 0) {
            status = cli_fail(rc, &err);
            goto out;
        }
    }
    if (trace_path && strcmp(trace_path, "-") == 0)
        trace_out = stdout;
    else if (trace_path && !(trace_out = fopen(trace_path, "w"))) {
        cli_errorf("bench mixes: cannot write %s: %s", trace_path, strerror(errno));
        status = NP_EXIT_USAGE;
        goto out;
    }
    bool progress = isatty(STDERR_FILENO);
    jrows = fmt == OUT_JSON ? json_array() : NULL;
    print_header(fmt);
    size_t steps = nr_hosts * nr_mixes * nr_policies, step = 0;
    for (size_t h = 0; h < nr_hosts; h++) {
        np_topology *topo = topos[h];
        np_error err = {0};
        int rc;
        size_t cp = copies ? (size_t)copies : np_bench_mix_auto_copies(topo);
        for (size_t m = 0; m < nr_mixes; m++) {
            for (size_t p = 0; p < nr_policies; p++) {
                mix_row *row = &rows[nr_rows];
                row->host = hosts[h];
                row->mix = base_name(mixes[m]);
                if (progress)
                    fprintf(stderr, "\r[%zu/%zu] %s %s %s ...%10s", ++step, steps,
                            base_name(hosts[h]), row->mix, policies[p], "");
                trace_ctx tc = {trace_out, base_name(hosts[h]), row->mix, policies[p]};
                rc = np_bench_mix_replay_traced(topo, scs[m], cp, policies[p],
                                                trace_out ? trace_line : NULL, &tc, &row->r, &err);
                if (progress)
                    fprintf(stderr, "\r%*s\r", 100, "");
                if (rc < 0) {
                    cli_errorf("bench mixes: %s on %s under %s:", mixes[m], hosts[h], policies[p]);
                    status = cli_fail(rc, &err);
                    goto out;
                }
                nr_rows++;
                print_row(fmt, row, jrows);
                fflush(stdout);
            }
        }
    }
    if (svg && write_svg(svg, rows, nr_rows, hosts, nr_hosts, policies, nr_policies) < 0) {
        cli_errorf("bench mixes: cannot write %s", svg);
        status = NP_EXIT_INTERNAL;
        goto out;
    }
    if (fmt == OUT_JSON) {
        json_t *root = json_object();
        json_object_set_new(root, "schema", json_string("numaplace.bench-mixes/1"));
        json_object_set_new(root, "rows", jrows);
        jrows = NULL;
        status = cli_print_json(root);
    } else if (fmt == OUT_TABLE) {
        print_summary(rows, nr_rows, policies, nr_policies);
        printf(
            "rwd: remote-weighted distance (0: all memory local); local: share of memory on\n"
            "the vCPU's node; cpu: worst vCPUs / CPUs of a node; mem: worst guest memory /\n"
            "free memory at start of a node (above 1: cannot exist); us: CPU time per decision.\n"
            "asked (what the guests ask for, which the metrics above do not see): coloc: mean\n"
            "distance between colocate members' memory (SLIT/10 - 1; 0: together); sprd: share\n"
            "of spread pairs with memory on a common node (0: apart); dev: remote-weighted\n"
            "distance of device guests' vCPUs to their devices' nodes; -: nothing to count.\n");
    }
out:
    if (trace_out && trace_out != stdout && fclose(trace_out) != 0 && status == NP_EXIT_OK) {
        cli_errorf("bench mixes: cannot write %s", trace_path);
        status = NP_EXIT_INTERNAL;
    }
    json_decref(jrows);
    for (size_t h = 0; topos && h < nr_hosts; h++)
        np_topology_destroy(topos[h]);
    free(topos);
    for (size_t i = 0; scs && i < nr_mixes; i++)
        np_scenario_destroy(scs[i]);
    free(scs);
    free(rows);
    if (globbed)
        globfree(&gl);
    return status;
}
