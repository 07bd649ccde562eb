/*
 * cli/cmd_advise.c - `numaplace advise -w NCPUS[:MB]`: numad's pre-placement
 * advice, answered by numaplace's policy.
 *
 * libvirt's placement='auto' runs the numad binary it was built with as
 * `numad -w VCPUS:MEMORY_MB` and binds the domain to the node list printed
 * on standard output; any other exit status than 0 fails the domain start.
 * This command keeps that contract (docs/libvirt.md shows the shim that
 * puts it where libvirt looks): one line, the nodes as a kernel node list
 * ("0", "0-1", "1,3"), exit 0, also when nothing fits (then every node, as
 * numad answers, and the reason on stderr). Bad requests exit 2 (numad: 1).
 *
 * The host is the live one by default: the Linux backend senses the
 * topology, each node's free memory and the running QEMU guests (their
 * memory per node and vCPUs), so the answer accounts for what already runs.
 * --from reads a topology instead (an empty host), --root reads /proc and
 * /sys under a directory (captured trees, for tests).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/backend.h>
#include <numaplace/backend_linux.h>
#include <numaplace/libvirt.h>
#include <numaplace/place.h>

#include "cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: numaplace advise -w NCPUS[:MB] [--from SOURCE | --root DIR]\n"
            "                        [--policy NAME] [--json] [-v]\n\n"
            "NUMA nodes for a new guest of NCPUS CPUs and MB MiB of memory, in numad's\n"
            "format (numad -w): one line with a node list such as 0-1 or 1,3. libvirt's\n"
            "placement='auto' can use it in place of numad (docs/libvirt.md).\n\n"
            "  -w NCPUS[:MB]    the request, as libvirt passes it to numad\n"
            "  --from SOURCE    place on this topology (builtin:NAME or a file), empty\n"
            "                   of guests, instead of the live host\n"
            "  --root DIR       read the live host's /proc and /sys under DIR\n"
            "  --policy NAME    placement policy (default %s)\n"
            "  --json           machine-readable answer (schema numaplace.advise/1)\n"
            "  -v               say on stderr why (the policy's note)\n\n"
            "Exit status: 0 an answer (also when nothing fits: then every node, as numad\n"
            "answers, and the reason on stderr), 2 bad request or usage, 3 the host\n"
            "could not be read.\n",
            NP_PLACE_DEFAULT_POLICY);
}

/* The live host (or a captured tree) with its running QEMU guests. */
static int sense_linux(const char *root, np_host_state **st_out)
{
    np_linux_ctx *ctx = NULL;
    np_linux_backend *lb = NULL;
    np_linux_backend_opts opts = {.source = NP_LINUX_GUESTS_QEMU};
    int rc = np_linux_ctx_create(root, NULL, NULL, &ctx);
    if (!rc)
        rc = np_linux_backend_create(ctx, &opts, &lb);
    if (!rc)
        rc = np_backend_sense(np_linux_backend_get(lb), st_out);
    if (rc)
        cli_errorf("advise: cannot read the host under %s: %s", root, np_strerror(rc));
    np_linux_backend_destroy(lb);
    np_linux_ctx_destroy(ctx);
    return rc;
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'}, {"format", required_argument, NULL, 'F'},
        {"root", required_argument, NULL, 'r'}, {"policy", required_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},       {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *request = NULL, *from = NULL, *format = NULL, *root = NULL, *policy = NULL;
    bool json = false, verbose = false;
    np_advise_request req = {0};
    np_advice adv = {0};
    np_topology *topo = NULL;
    np_host_state *st = NULL;
    np_error err = {0};
    char *text = NULL;
    int status = NP_EXIT_OK, c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "w:f:F:r:p:jvh", opts, NULL)) != -1) {
        switch (c) {
        case 'w': request = optarg; break;
        case 'f': from = optarg; break;
        case 'F': format = optarg; break;
        case 'r': root = optarg; break;
        case 'p': policy = optarg; break;
        case 'j': json = true; break;
        case 'v': verbose = true; break;
        case 'h': usage(stdout); return NP_EXIT_OK;
        default: usage(stderr); return NP_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_errorf("advise: unexpected argument '%s'", argv[optind]);
        return NP_EXIT_USAGE;
    }
    if (!request) {
        cli_errorf("advise: give the request with -w NCPUS[:MB], e.g. -w 4:8192");
        return NP_EXIT_USAGE;
    }
    if (from && root) {
        cli_errorf("advise: --from and --root do not go together");
        return NP_EXIT_USAGE;
    }
    rc = np_advise_parse(request, "-w", &req, &err);
    if (rc)
        return cli_fail(rc, &err);

    if (from) {
        status = cli_open_topology(from, format, &topo);
        if (status != NP_EXIT_OK)
            goto out;
        rc = np_host_state_create(topo, &st);
    } else {
        rc = sense_linux(root ? root : "/", &st);
        if (rc) {
            status = NP_EXIT_INTERNAL;
            goto out;
        }
    }
    if (rc == 0)
        rc = np_advise(st, &req, policy, &adv, &err);
    if (rc) {
        status = cli_fail(rc, &err);
        goto out;
    }
    size_t need = np_bitmap_format(adv.nodes, NULL, 0);
    text = malloc(need + 1);
    if (!text) {
        status = NP_EXIT_INTERNAL;
        goto out;
    }
    np_bitmap_format(adv.nodes, text, need + 1);
    if (!adv.fits)
        cli_errorf("advise: %u CPUs, %llu MiB fit nowhere (%s); answering every node, as "
                   "numad does",
                   req.vcpus, (unsigned long long)(req.mem_bytes >> 20), adv.note);
    else if (verbose && adv.note[0])
        cli_errorf("advise: %s", adv.note);
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "schema", json_string("numaplace.advise/1"));
        json_object_set_new(o, "vcpus", json_integer(req.vcpus));
        json_object_set_new(o, "memory_bytes", json_integer((json_int_t)req.mem_bytes));
        json_object_set_new(o, "nodes", json_string(text));
        json_object_set_new(o, "fits", json_boolean(adv.fits));
        json_object_set_new(o, "note", json_string(adv.note));
        status = cli_print_json(o);
    } else {
        printf("%s\n", text);
    }
out:
    free(text);
    np_advice_fini(&adv);
    np_host_state_destroy(st);
    np_topology_destroy(topo);
    return status;
}

const np_cli_cmd np_cmd_advise = {
    .name = "advise",
    .summary = "numad -w's advice from numaplace: nodes for a new guest (libvirt placement='auto')",
    .run = run,
    .usage = usage,
};
