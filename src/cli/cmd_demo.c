/*
 * cli/cmd_demo.c - `numaplace demo`: a tour on embedded data. It lists the
 * built-in example hosts, shows one of them in full, and shows this
 * machine's topology as hwloc sees it.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The host shown in full: two sockets, a NIC on one of them. */
#define DEMO_HOST "2s-2n"

static void usage(FILE *out)
{
    fprintf(out, "usage: numaplace demo [--json]\n\n"
                 "Show the built-in example hosts, one of them in full, and this machine.\n"
                 "Needs no input and changes nothing.\n");
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
    np_topology *example = NULL, *live = NULL;
    np_error err = {0};
    int status = NP_EXIT_OK;
    int rc = np_topology_builtin(DEMO_HOST, &example, &err);
    if (rc < 0) {
        status = cli_fail(rc, &err);
        goto out;
    }
    np_error live_err = {0};
    int live_rc = np_topology_read_live(&live, &live_err);

    if (json) {
        json_t *root = json_object(), *hosts = json_array();
        for (size_t i = 0; i < np_topology_builtin_count(); i++)
            json_array_append_new(hosts, json_string(np_topology_builtin_name(i)));
        json_object_set_new(root, "schema", json_string("numaplace.demo/1"));
        json_object_set_new(root, "builtin_hosts", hosts);
        json_object_set_new(root, "example", cli_topology_json(example));
        if (live)
            json_object_set_new(root, "live", cli_topology_json(live));
        else
            json_object_set_new(root, "live", json_null());
        status = cli_print_json(root);
        goto out;
    }
    printf("numaplace %s demo\n\n", np_version());
    printf("Built-in example hosts (numaplace topology --from builtin:NAME):\n");
    for (size_t i = 0; i < np_topology_builtin_count(); i++)
        printf("  %-12s %s\n", np_topology_builtin_name(i), np_topology_builtin_summary(i));
    printf("\n== builtin:%s ==\n", DEMO_HOST);
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
    np_topology_destroy(example);
    np_topology_destroy(live);
    return status;
}

const np_cli_cmd np_cmd_demo = {
    .name = "demo",
    .summary = "a tour: built-in example hosts and this machine",
    .run = run,
    .usage = usage,
};
