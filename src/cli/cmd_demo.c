/*
 * cli/cmd_demo.c - `numaplace demo`: a tour on embedded data. It places one
 * mixed set of guests on a built-in host twice, with Xen 4.2's libxl
 * heuristic (xl42) and with numaplace, and compares them by the standard
 * locality metrics (np_std_metrics: remote-weighted distance, local
 * fraction, worst CPU over-commit, memory over free, refusals), not by
 * numaplace's own objective; then it lists the built-in hosts and shows
 * this machine.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/hoststate.h>
#include <numaplace/place.h>

#include "cli.h"

/* The host of the placement demo: 8 nodes in two sockets (distances
 * 10/12/32), GPUs on four nodes, a NIC and NVMe. */
#define DEMO_HOST "epyc-8n"
/* The host shown in full in the topology part. */
#define DEMO_TOPOLOGY_HOST "2s-2n"

/* Guests chosen so each of numaplace's inputs matters once: real load
 * (idle vCPUs), a device, groups both ways, a wide guest, ballooning. */
static const char *const demo_guests[] = {
    "name=vdi-idle,vcpus=24,memory=32G,demand=0.05",
    "name=ml-train,vcpus=16,memory=64G,dev=0000:61:00.0",
    "name=web-a,vcpus=8,memory=16G,group=web:spread",
    "name=web-b,vcpus=8,memory=16G,group=web:spread",
    "name=shop-app,vcpus=4,memory=8G,group=shop:colocate:80",
    "name=shop-cache,vcpus=4,memory=24G,group=shop:colocate:80",
    "name=analytics,vcpus=40,memory=150G,vnuma=auto",
    "name=db,vcpus=12,memory=40G,maxmem=64G",
};
#define NR_DEMO_GUESTS (sizeof(demo_guests) / sizeof(demo_guests[0]))
static const char *const demo_policies[] = {"xl42", "numaplace"};
#define NR_DEMO_POLICIES 2

/* Where one policy put one guest. */
typedef struct demo_result {
    char nodes[128];
    double cost; /* numaplace's objective: expected slowdown */
    bool placed;
    double rwd;   /* remote-weighted distance (np_std_metrics) */
    double local; /* local fraction */
} demo_result;

/* The standard metrics of each policy's final state. */
static np_std_metrics demo_metrics[NR_DEMO_POLICIES];

static void usage(FILE *out)
{
    fprintf(out, "usage: numaplace demo [--json]\n\n"
                 "Place one mixed set of guests on builtin:%s with Xen 4.2's libxl heuristic\n"
                 "(xl42) and with numaplace and show the difference, then list the built-in\n"
                 "hosts and show this machine. Needs no input and changes nothing.\n",
            DEMO_HOST);
}

static void nodes_of(const np_topology *topo, const np_placement *pl, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < np_placement_nr_nodes(pl) && off + 1 < len; i++) {
        int n = snprintf(buf + off, len - off, "%s%u", i ? "," : "",
                         np_topology_node(topo, np_placement_node(pl, i))->os_id);
        if (n < 0)
            break;
        off += (size_t)n;
    }
}

/* Places every demo guest in order under one policy, and measures the
 * result against the empty host it started from. */
static int run_policy(np_topology *topo, const np_guest_spec *specs, const char *policy,
                      demo_result *res, np_std_metrics *metrics)
{
    np_host_state *st = NULL;
    uint64_t *free_at_start = NULL;
    size_t refusals = 0, n = np_topology_nr_nodes(topo);
    int rc = np_host_state_create(topo, &st);
    if (rc == 0 && !(free_at_start = calloc(n, sizeof(*free_at_start))))
        rc = -ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (np_host_state_node_free(st, i, &free_at_start[i]) < 0)
            free_at_start[i] = np_topology_node(topo, i)->mem_total_bytes;
    for (size_t g = 0; g < NR_DEMO_GUESTS && rc == 0; g++) {
        np_placement *pl = NULL;
        np_error err = {0};
        size_t gidx;
        rc = np_place(st, &specs[g], policy, &pl, &err);
        if (rc == -ENOSPC) {
            snprintf(res[g].nodes, sizeof(res[g].nodes), "(fits nowhere)");
            refusals++;
            rc = 0;
            continue;
        }
        if (rc < 0)
            break;
        nodes_of(topo, pl, res[g].nodes, sizeof(res[g].nodes));
        res[g].placed = true;
        res[g].cost = np_placement_cost(pl);
        rc = np_placement_commit(st, &specs[g], pl, &gidx);
        if (rc == 0) {
            np_host_state_populate(st, gidx);
            rc = np_std_metrics_guest(st, gidx, &res[g].rwd, &res[g].local);
        }
        np_placement_destroy(pl);
    }
    if (rc == 0) {
        rc = np_std_metrics_compute(st, free_at_start, metrics);
        metrics->refusals = refusals;
    }
    free(free_at_start);
    np_host_state_destroy(st);
    return rc;
}

static int placement_demo(np_topology *topo, np_guest_spec *specs,
                          demo_result res[NR_DEMO_POLICIES][NR_DEMO_GUESTS])
{
    for (size_t g = 0; g < NR_DEMO_GUESTS; g++) {
        np_error err = {0};
        int rc = np_guest_spec_parse_option(demo_guests[g], "demo", &specs[g], &err);
        if (rc < 0)
            return cli_fail(rc, &err);
    }
    for (size_t p = 0; p < NR_DEMO_POLICIES; p++) {
        int rc = run_policy(topo, specs, demo_policies[p], res[p], &demo_metrics[p]);
        if (rc < 0) {
            cli_errorf("demo: placement with %s failed: %s", demo_policies[p], np_strerror(rc));
            return cli_exit_status(rc);
        }
    }
    return NP_EXIT_OK;
}

static void print_placement_demo(const np_guest_spec *specs,
                                 demo_result res[NR_DEMO_POLICIES][NR_DEMO_GUESTS])
{
    double total[NR_DEMO_POLICIES] = {0};
    char b[32];
    printf("== placement on builtin:%s: the same guests, placed in order, by each policy ==\n\n",
           DEMO_HOST);
    printf("%-11s %5s %8s  %-12s %5s %5s  %-12s %5s %5s\n", "guest", "vcpus", "memory",
           "xl42 nodes", "rwd", "local", "numaplace", "rwd", "local");
    for (size_t g = 0; g < NR_DEMO_GUESTS; g++) {
        const demo_result *x = &res[0][g], *n = &res[1][g];
        printf("%-11s %5u %8s  %-12s %5.2f %5.2f  %-12s %5.2f %5.2f\n", specs[g].name,
               specs[g].vcpus, cli_bytes(specs[g].mem_bytes, b, sizeof(b)), x->nodes, x->rwd,
               x->local, n->nodes, n->rwd, n->local);
        for (size_t p = 0; p < NR_DEMO_POLICIES; p++)
            total[p] += res[p][g].cost;
    }
    printf("\nstandard metrics of the final state (not numaplace's objective):\n");
    printf("  %-10s %14s %8s %15s %15s %9s\n", "policy", "remote-w.dist", "local",
           "worst vCPU/CPU", "worst mem/free", "refusals");
    for (size_t p = 0; p < NR_DEMO_POLICIES; p++) {
        const np_std_metrics *m = &demo_metrics[p];
        printf("  %-10s %14.3f %8.3f %15.2f %15.2f %9zu\n", demo_policies[p],
               m->remote_weighted_distance, m->local_fraction, m->worst_cpu_overcommit,
               m->worst_mem_over_free, m->refusals);
    }
    printf("\nrwd: remote-weighted distance, per guest the mean over its vCPUs of the memory\n"
           "share on each node times (SLIT / 10 - 1); 0 is ideal. local: memory on the\n"
           "vCPU's own node. worst vCPU/CPU: most vCPUs per CPU on any node. worst mem/free:\n"
           "most memory placed on a node against what it had free. Lower is better except\n"
           "local. For reference, numaplace's own objective (expected slowdown summed over\n"
           "the guests, constants in data/calibration.conf): xl42 %.1f%%, numaplace %.1f%%.\n"
           "Try: numaplace place --from builtin:%s --explain --vm name=x,vcpus=8,memory=16G\n\n",
           100.0 * total[0], 100.0 * total[1], DEMO_HOST);
}

static json_t *placement_demo_json(const np_guest_spec *specs,
                                   demo_result res[NR_DEMO_POLICIES][NR_DEMO_GUESTS])
{
    json_t *arr = json_array();
    for (size_t g = 0; g < NR_DEMO_GUESTS; g++) {
        json_t *o = json_object();
        json_object_set_new(o, "guest", json_string(specs[g].name));
        for (size_t p = 0; p < NR_DEMO_POLICIES; p++) {
            json_t *r = json_object();
            json_object_set_new(r, "nodes", json_string(res[p][g].nodes));
            json_object_set_new(r, "placed", json_boolean(res[p][g].placed));
            json_object_set_new(r, "cost", json_real(res[p][g].cost));
            json_object_set_new(r, "remote_weighted_distance", json_real(res[p][g].rwd));
            json_object_set_new(r, "local_fraction", json_real(res[p][g].local));
            json_object_set_new(o, demo_policies[p], r);
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        case 'h': usage(stdout); return NP_EXIT_OK;
        default: usage(stderr); return NP_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_errorf("demo: unexpected argument '%s'", argv[optind]);
        return NP_EXIT_USAGE;
    }
    np_topology *host = NULL, *example = NULL, *live = NULL;
    np_guest_spec specs[NR_DEMO_GUESTS];
    static demo_result res[NR_DEMO_POLICIES][NR_DEMO_GUESTS];
    np_error err = {0};
    int status = NP_EXIT_OK;
    memset(res, 0, sizeof(res));
    int rc = np_topology_builtin(DEMO_HOST, &host, &err);
    if (rc == 0)
        rc = np_topology_builtin(DEMO_TOPOLOGY_HOST, &example, &err);
    if (rc < 0) {
        status = cli_fail(rc, &err);
        goto out;
    }
    status = placement_demo(host, specs, res);
    if (status != NP_EXIT_OK)
        goto out;
    np_error live_err = {0};
    int live_rc = np_topology_read_live(&live, &live_err);

    if (json) {
        json_t *root = json_object(), *hosts = json_array();
        for (size_t i = 0; i < np_topology_builtin_count(); i++)
            json_array_append_new(hosts, json_string(np_topology_builtin_name(i)));
        json_object_set_new(root, "schema", json_string("numaplace.demo/1"));
        json_object_set_new(root, "placement_host", json_string(np_topology_name(host)));
        json_object_set_new(root, "placement", placement_demo_json(specs, res));
        json_t *metrics = json_object();
        for (size_t p = 0; p < NR_DEMO_POLICIES; p++) {
            const np_std_metrics *m = &demo_metrics[p];
            json_t *o = json_object();
            json_object_set_new(o, "remote_weighted_distance",
                                json_real(m->remote_weighted_distance));
            json_object_set_new(o, "local_fraction", json_real(m->local_fraction));
            json_object_set_new(o, "worst_cpu_overcommit", json_real(m->worst_cpu_overcommit));
            json_object_set_new(o, "worst_mem_over_free", json_real(m->worst_mem_over_free));
            json_object_set_new(o, "refusals", json_integer((json_int_t)m->refusals));
            json_object_set_new(metrics, demo_policies[p], o);
        }
        json_object_set_new(root, "standard_metrics", metrics);
        json_object_set_new(root, "builtin_hosts", hosts);
        json_object_set_new(root, "example", cli_topology_json(example));
        json_object_set_new(root, "live", live ? cli_topology_json(live) : json_null());
        status = cli_print_json(root);
        goto out;
    }
    printf("numaplace %s demo\n\n", np_version());
    print_placement_demo(specs, res);
    printf("== built-in example hosts (numaplace topology --from builtin:NAME) ==\n");
    for (size_t i = 0; i < np_topology_builtin_count(); i++)
        printf("  %-12s %s\n", np_topology_builtin_name(i), np_topology_builtin_summary(i));
    printf("\n== builtin:%s ==\n", DEMO_TOPOLOGY_HOST);
    cli_print_topology(stdout, example);
    printf("\n== this machine (numaplace topology --from live) ==\n");
    if (live_rc == 0) {
        cli_print_topology(stdout, live);
    } else {
        char buf[1024];
        printf("cannot read this machine's topology: %s\n",
               np_error_format(&live_err, buf, sizeof(buf)));
    }
out:
    np_topology_destroy(host);
    np_topology_destroy(example);
    np_topology_destroy(live);
    return status;
}

const np_cli_cmd np_cmd_demo = {
    .name = "demo",
    .summary = "a tour: xl42 vs numaplace by standard metrics, built-in hosts, this machine",
    .run = run,
    .usage = usage,
};
