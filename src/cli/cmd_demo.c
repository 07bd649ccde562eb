/*
 * cli/cmd_demo.c - `numaplace demo`: a tour on embedded data. It places one
 * mixed set of guests on a built-in host twice, with Xen 4.2's libxl
 * heuristic (xl42) and with numaplace, and shows where they differ and
 * why; then it lists the built-in hosts and shows this machine.
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
    double cost;
    bool placed;
    char biggest_term[32]; /* the term numaplace lowered most vs xl42 */
    double biggest_gain;
    double terms[16];
    const char *term_names[16];
    size_t nr_terms;
} demo_result;

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

/* Places every demo guest in order under one policy. */
static int run_policy(np_topology *topo, const np_guest_spec *specs, const char *policy,
                      demo_result *res)
{
    np_host_state *st = NULL;
    int rc = np_host_state_create(topo, &st);
    if (rc < 0)
        return rc;
    for (size_t g = 0; g < NR_DEMO_GUESTS; g++) {
        np_placement *pl = NULL;
        np_error err = {0};
        rc = np_place(st, &specs[g], policy, &pl, &err);
        if (rc == -ENOSPC) {
            snprintf(res[g].nodes, sizeof(res[g].nodes), "(fits nowhere)");
            continue;
        }
        if (rc < 0)
            break;
        nodes_of(topo, pl, res[g].nodes, sizeof(res[g].nodes));
        res[g].placed = true;
        res[g].cost = np_placement_cost(pl);
        for (size_t i = 0; i < np_placement_nr_terms(pl) && res[g].nr_terms < 16; i++) {
            const char *name;
            double v;
            if (np_placement_term(pl, i, &name, &v) == 0) {
                res[g].term_names[res[g].nr_terms] = name; /* static strings */
                res[g].terms[res[g].nr_terms++] = v;
            }
        }
        rc = np_placement_commit(st, &specs[g], pl, NULL);
        size_t gidx;
        if (rc == 0 && np_host_state_find_guest(st, specs[g].name, &gidx) == 0)
            np_host_state_populate(st, gidx);
        np_placement_destroy(pl);
        if (rc < 0)
            break;
    }
    np_host_state_destroy(st);
    return rc < 0 && rc != -ENOSPC ? rc : 0;
}

/* Cost differences below this are rounding, not a reason. */
#define DEMO_MIN_GAIN 0.0005

/* Which cost term numaplace lowered most against xl42 for a guest. */
static void explain_difference(const demo_result *xl, demo_result *np)
{
    np->biggest_gain = DEMO_MIN_GAIN;
    np->biggest_term[0] = '\0';
    for (size_t i = 0; i < np->nr_terms; i++)
        for (size_t j = 0; j < xl->nr_terms; j++)
            if (strcmp(np->term_names[i], xl->term_names[j]) == 0 &&
                xl->terms[j] - np->terms[i] > np->biggest_gain) {
                np->biggest_gain = xl->terms[j] - np->terms[i];
                snprintf(np->biggest_term, sizeof(np->biggest_term), "%s", np->term_names[i]);
            }
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
        int rc = run_policy(topo, specs, demo_policies[p], res[p]);
        if (rc < 0) {
            cli_errorf("demo: placement with %s failed: %s", demo_policies[p], np_strerror(rc));
            return cli_exit_status(rc);
        }
    }
    for (size_t g = 0; g < NR_DEMO_GUESTS; g++)
        explain_difference(&res[0][g], &res[1][g]);
    return NP_EXIT_OK;
}

static void print_placement_demo(const np_guest_spec *specs,
                                 demo_result res[NR_DEMO_POLICIES][NR_DEMO_GUESTS])
{
    double total[NR_DEMO_POLICIES] = {0};
    char b[32];
    printf("== placement on builtin:%s: the same guests, placed in order, by each policy ==\n\n",
           DEMO_HOST);
    printf("%-11s %5s %8s  %-12s %7s  %-12s %7s  %s\n", "guest", "vcpus", "memory", "xl42 nodes",
           "cost", "numaplace", "cost", "numaplace lowers most");
    for (size_t g = 0; g < NR_DEMO_GUESTS; g++) {
        const demo_result *x = &res[0][g], *n = &res[1][g];
        printf("%-11s %5u %8s  %-12s %7.3f  %-12s %7.3f  ", specs[g].name, specs[g].vcpus,
               cli_bytes(specs[g].mem_bytes, b, sizeof(b)), x->nodes, x->cost, n->nodes, n->cost);
        if (strcmp(x->nodes, n->nodes) == 0)
            printf("(same choice)\n");
        else if (n->biggest_term[0])
            printf("%s by %.3f\n", n->biggest_term, n->biggest_gain);
        else
            printf("(other nodes, equal cost)\n");
        for (size_t p = 0; p < NR_DEMO_POLICIES; p++)
            total[p] += res[p][g].cost;
    }
    printf("\ntotal cost under numaplace's objective: xl42 %.3f, numaplace %.3f", total[0],
           total[1]);
    if (total[1] > 0)
        printf(" (%.1fx lower)", total[0] / total[1]);
    printf("\nThe terms: cpu_load/cpu_overload = measured vCPU demand against each node's cores\n"
           "(a second hyper-thread counts 0.2 of a core), mem_pressure = memory left after\n"
           "claims and balloon head-room, remote_memory = memory a vCPU reaches across a node\n"
           "distance, device = distance to a passthrough device, group = colocate/spread\n"
           "rules. Try: numaplace place --from builtin:%s --explain --vm name=x,vcpus=8,memory=16G\n\n",
           DEMO_HOST);
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
    .summary = "a tour: xl42 vs numaplace placement, built-in hosts, this machine",
    .run = run,
    .usage = usage,
};
