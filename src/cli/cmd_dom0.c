/*
 * cli/cmd_dom0.c - `numaplace dom0`: recommend Xen boot options that place
 * Dom0 (dom0_nodes=, dom0_max_vcpus=, dom0_mem=, pinning) from the host's
 * topology and where its IO devices sit, with the reasons.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <numaplace/emit.h>

#include "cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: numaplace dom0 [--from SOURCE] [--format FMT] [--memory SIZE] [--vcpus N]\n"
            "                      [--relaxed] [--dedicated] [--json]\n\n"
            "Recommend the Xen boot options that put Dom0 on the nodes next to the host's IO\n"
            "devices: dom0_nodes=, dom0_max_vcpus=, dom0_mem= and dom0_vcpus_pin, with reasons.\n\n"
            "  --from SOURCE  the host (see numaplace topology --help); default live\n"
            "  --format FMT   force the file format of SOURCE\n"
            "  --memory SIZE  Dom0 memory (e.g. 4G) instead of the rule's choice\n"
            "  --vcpus N      Dom0 vCPUs instead of the rule's choice\n"
            "  --relaxed      let Dom0 prefer its nodes (dom0_nodes=...,relaxed) instead of\n"
            "                 Xen's default strict confinement\n"
            "  --dedicated    guests are kept off Dom0's CPUs (a cpupool): pin Dom0's vCPUs\n"
            "  --json         machine-readable output (schema numaplace.dom0/1)\n");
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'},   {"format", required_argument, NULL, 'F'},
        {"memory", required_argument, NULL, 'm'}, {"vcpus", required_argument, NULL, 'c'},
        {"relaxed", no_argument, NULL, 'r'},      {"dedicated", no_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *source = "live", *format = NULL;
    np_dom0_options o = {0};
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:F:m:c:rdjh", opts, NULL)) != -1) {
        switch (c) {
        case 'f': source = optarg; break;
        case 'F': format = optarg; break;
        case 'm':
            if (cli_parse_size(optarg, "--memory", &o.mem_bytes) < 0)
                return NP_EXIT_USAGE;
            if (o.mem_bytes == 0) { /* 0 would mean "the rule's choice" */
                cli_errorf("--memory: a size above 0 such as 4G (leave it out for the rule's "
                           "choice)");
                return NP_EXIT_USAGE;
            }
            break;
        case 'c': {
            uint64_t v;
            if (cli_parse_uint(optarg, "--vcpus", 1, 4096, &v) < 0)
                return NP_EXIT_USAGE;
            o.max_vcpus = (uint32_t)v;
            break;
        }
        case 'r': o.relaxed = true; break;
        case 'd': o.dedicated_cpus = true; break;
        case 'j': json = true; break;
        case 'h': usage(stdout); return NP_EXIT_OK;
        default: usage(stderr); return NP_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_errorf("dom0: unexpected argument '%s'", argv[optind]);
        return NP_EXIT_USAGE;
    }
    np_topology *topo = NULL;
    int status = cli_open_topology(source, format, &topo);
    if (status != NP_EXIT_OK)
        return status;
    np_dom0_rec rec;
    int rc = np_dom0_recommend(topo, &o, &rec);
    if (rc < 0) {
        cli_errorf("dom0: cannot recommend options for %s: %s", np_topology_name(topo),
                   np_strerror(rc));
        np_topology_destroy(topo);
        return cli_exit_status(rc);
    }
    if (json) {
        json_t *root = json_object(), *nodes = json_array(), *reasons = json_array();
        for (size_t i = 0; i < rec.nr_nodes; i++)
            json_array_append_new(nodes, json_integer(rec.nodes_os[i]));
        for (size_t i = 0; i < rec.nr_reasons; i++)
            json_array_append_new(reasons, json_string(rec.reasons[i]));
        json_object_set_new(root, "schema", json_string("numaplace.dom0/1"));
        json_object_set_new(root, "host", json_string(np_topology_name(topo)));
        json_object_set_new(root, "cmdline", json_string(rec.cmdline));
        json_object_set_new(root, "nodes", nodes);
        json_object_set_new(root, "max_vcpus", json_integer(rec.max_vcpus));
        json_object_set_new(root, "memory_bytes", json_integer((json_int_t)rec.mem_bytes));
        json_object_set_new(root, "relaxed", json_boolean(rec.relaxed));
        json_object_set_new(root, "vcpus_pin", json_boolean(rec.vcpus_pin));
        json_object_set_new(root, "reasons", reasons);
        status = cli_print_json(root);
    } else {
        printf("host    %s\n", np_topology_name(topo));
        printf("xen boot options:\n  %s\n\nwhy:\n", rec.cmdline);
        for (size_t i = 0; i < rec.nr_reasons; i++)
            printf("  - %s\n", rec.reasons[i]);
    }
    np_topology_destroy(topo);
    return status;
}

const np_cli_cmd np_cmd_dom0 = {
    .name = "dom0",
    .summary = "recommend Xen boot options placing Dom0 near the IO devices",
    .run = run,
    .usage = usage,
};
