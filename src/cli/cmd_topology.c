/*
 * cli/cmd_topology.c - `numaplace topology`: show a host's NUMA topology
 * from any source, or list the built-in example hosts.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: numaplace topology [--from SOURCE] [--format FMT] [--json]\n"
            "       numaplace topology --list [--json]\n\n"
            "Show a host's NUMA nodes with their CPUs, memory, distances, PCI devices and\n"
            "memory attributes.\n\n"
            "  --from SOURCE  live (this machine, through hwloc; the default; on a Xen\n"
            "                 dom0 the host as Xen sees it, like xen),\n"
            "                 xen (the Xen host through libxl; needs dom0),\n"
            "                 builtin:NAME (see --list), synthetic:DESC (hwloc synthetic),\n"
            "                 sysfs:DIR (a captured /sys and /proc tree rooted at DIR),\n"
            "                 or a file: hwloc XML (lstopo --of xml), `numactl --hardware`\n"
            "                 output, or `xl info -n` output; - reads standard input\n"
            "  --format FMT   force the file format: auto (default), hwloc-xml, numactl,\n"
            "                 xl-info, synthetic\n"
            "  --list         name the built-in example hosts\n"
            "  --json         machine-readable output (schema numaplace.topology/1)\n"
            "  --help         this text\n");
}

static int list_builtins(bool json)
{
    size_t n = np_topology_builtin_count();
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++) {
            json_t *o = json_object();
            json_object_set_new(o, "name", json_string(np_topology_builtin_name(i)));
            json_object_set_new(o, "summary", json_string(np_topology_builtin_summary(i)));
            json_array_append_new(arr, o);
        }
        return cli_print_json(arr);
    }
    for (size_t i = 0; i < n; i++)
        printf("%-12s %s\n", np_topology_builtin_name(i), np_topology_builtin_summary(i));
    return NP_EXIT_OK;
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'}, {"format", required_argument, NULL, 'F'},
        {"list", no_argument, NULL, 'l'},       {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    const char *source = "live", *format = NULL;
    bool json = false, list = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:F:ljh", opts, NULL)) != -1) {
        switch (c) {
        case 'f': source = optarg; break;
        case 'F': format = optarg; break;
        case 'l': list = true; break;
        case 'j': json = true; break;
        case 'h': usage(stdout); return NP_EXIT_OK;
        default: usage(stderr); return NP_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_errorf("topology: unexpected argument '%s'", argv[optind]);
        return NP_EXIT_USAGE;
    }
    if (list)
        return list_builtins(json);
    np_topology *topo = NULL;
    int status = cli_open_topology(source, format, &topo);
    if (status != NP_EXIT_OK)
        return status;
    if (json)
        status = cli_print_json(cli_topology_json(topo));
    else
        cli_print_topology(stdout, topo);
    np_topology_destroy(topo);
    return status;
}

const np_cli_cmd np_cmd_topology = {
    .name = "topology",
    .summary = "show a host's NUMA topology (live, built-in, or from a file)",
    .run = run,
    .usage = usage,
};
