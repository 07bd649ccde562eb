/*
 * cli/cmd_ksm.c - `numaplace ksm`: report KSM's state on a Linux host and,
 * when asked, set merge_across_nodes.
 *
 * With merge_across_nodes=1 (the kernel's default) one merged page serves
 * guests on every node, so guests on the other nodes read it remotely;
 * numaplace recommends 0 on a host with more than one node. The kernel
 * accepts a change only while no page is shared (pages_shared = 0), which
 * takes `echo 2 > /sys/kernel/mm/ksm/run` first: that un-merges every KSM
 * page at once and needs the memory for it, so this command never does it
 * by itself; it says so and exits 1 instead.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <numaplace/linux.h>

#include "cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: numaplace ksm [--merge-across-nodes 0|1] [--root DIR] [--json]\n\n"
            "Show KSM's state on this Linux host (run, merge_across_nodes, pages shared)\n"
            "with numaplace's recommendation: merge_across_nodes = 0 when the host has\n"
            "more than one NUMA node, so merged pages stay on their guests' node.\n\n"
            "  --merge-across-nodes 0|1  set it (root). The kernel accepts a change only\n"
            "                 while no page is shared: first `echo 2 > /sys/kernel/mm/ksm/run`\n"
            "                 (un-merges every KSM page at once; needs the memory), then\n"
            "                 this, then `echo 1 > /sys/kernel/mm/ksm/run`. With pages\n"
            "                 shared nothing is written and the exit status is 1.\n"
            "  --root DIR     read (and write) /proc and /sys under DIR instead of / (a\n"
            "                 captured tree; tests)\n"
            "  --json         machine-readable output (schema numaplace.ksm/1)\n"
            "  --help         this text\n");
}

static const char *run_text(int run)
{
    switch (run) {
    case 0: return "stopped";
    case 1: return "running";
    default: return "unmerging (run = 2)";
    }
}

/* What numaplace recommends: 0 with more than one node; with one node
 * there is nothing to keep local, so either (-1). */
static int recommendation(unsigned nr_nodes)
{
    return nr_nodes > 1 ? 0 : -1;
}

static int report(const np_linux_ksm *k, unsigned nr_nodes, int set_to, bool changed, bool json)
{
    int recommended = recommendation(nr_nodes);
    bool differs = recommended >= 0 && k->merge_across_nodes != recommended;
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "schema", json_string("numaplace.ksm/1"));
        json_object_set_new(o, "present", json_boolean(k->present));
        json_object_set_new(o, "nodes", json_integer(nr_nodes));
        if (k->present) {
            json_object_set_new(o, "run", json_integer(k->run));
            json_object_set_new(o, "merge_across_nodes", json_integer(k->merge_across_nodes));
            json_object_set_new(o, "pages_shared", json_integer((json_int_t)k->pages_shared));
            json_object_set_new(o, "pages_sharing", json_integer((json_int_t)k->pages_sharing));
            json_object_set_new(o, "recommended_merge_across_nodes",
                                recommended >= 0 ? json_integer(recommended) : json_null());
            if (set_to >= 0)
                json_object_set_new(o, "changed", json_boolean(changed));
            if (differs)
                json_object_set_new(o, "note", json_string(np_linux_ksm_merge_note()));
        }
        return cli_print_json(o);
    }
    if (!k->present) {
        printf("KSM: not available (no /sys/kernel/mm/ksm: kernel without CONFIG_KSM)\n");
        return NP_EXIT_OK;
    }
    printf("KSM:                %s\n", run_text(k->run));
    printf("merge_across_nodes: %d%s\n", k->merge_across_nodes,
           set_to >= 0 ? (changed ? " (changed)" : " (unchanged)") : "");
    printf("pages shared:       %llu (sharing: %llu)\n", (unsigned long long)k->pages_shared,
           (unsigned long long)k->pages_sharing);
    printf("NUMA nodes:         %u\n", nr_nodes);
    if (recommended < 0) {
        printf("recommendation:     either (one node: no page can be remote)\n");
    } else if (!differs) {
        printf("recommendation:     keep %d\n", recommended);
    } else {
        printf("recommendation:     %d (with 1, a merged page serves guests on every node and "
               "those on other nodes read it remotely)\n",
               recommended);
        printf("to change it:       %s\n", np_linux_ksm_merge_note());
    }
    return NP_EXIT_OK;
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"merge-across-nodes", required_argument, NULL, 'm'},
        {"root", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *root = "/";
    int set_to = -1, c, status;
    bool json = false, changed = false;
    np_linux_ctx *ctx = NULL;
    np_bitmap *nodes = NULL;
    np_linux_ksm k;

    optind = 1;
    while ((c = getopt_long(argc, argv, "m:r:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (strcmp(optarg, "0") != 0 && strcmp(optarg, "1") != 0) {
                cli_errorf("ksm: --merge-across-nodes: expected 0 or 1, not '%s'", optarg);
                return NP_EXIT_USAGE;
            }
            set_to = optarg[0] - '0';
            break;
        case 'r': root = optarg; break;
        case 'j': json = true; break;
        case 'h': usage(stdout); return NP_EXIT_OK;
        default: usage(stderr); return NP_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_errorf("ksm: unexpected argument '%s'", argv[optind]);
        return NP_EXIT_USAGE;
    }
    int rc = np_linux_ctx_create(root, NULL, NULL, &ctx);
    if (rc < 0) {
        cli_errorf("ksm: %s: %s", root, np_strerror(rc));
        return NP_EXIT_USAGE;
    }
    rc = np_linux_ksm_read(ctx, &k);
    if (rc == 0)
        rc = np_linux_nodes_online(ctx, &nodes);
    if (rc < 0) {
        status = cli_fail(rc, np_linux_ctx_last_error(ctx));
        goto out;
    }
    if (set_to >= 0) {
        if (!k.present) {
            cli_errorf("ksm: this kernel has no KSM (no sys/kernel/mm/ksm under %s)", root);
            status = NP_EXIT_FAIL;
            goto out;
        }
        changed = k.merge_across_nodes != set_to;
        rc = np_linux_ksm_set_merge_across_nodes(ctx, set_to == 1);
        if (rc == -EBUSY) {
            cli_errorf("ksm: merge_across_nodes not changed: %llu pages are shared. %s",
                       (unsigned long long)k.pages_shared, np_linux_ksm_merge_note());
            status = NP_EXIT_FAIL;
            goto out;
        }
        if (rc < 0) {
            cli_errorf("ksm: writing merge_across_nodes: %s", np_strerror(rc));
            status = cli_exit_status(rc);
            goto out;
        }
        rc = np_linux_ksm_read(ctx, &k);
        if (rc < 0) {
            status = cli_fail(rc, np_linux_ctx_last_error(ctx));
            goto out;
        }
    }
    status = report(&k, np_bitmap_count(nodes), set_to, changed, json);
out:
    np_bitmap_destroy(nodes);
    np_linux_ctx_destroy(ctx);
    return status;
}

const np_cli_cmd np_cmd_ksm = {
    .name = "ksm",
    .summary = "show KSM's page sharing across nodes, set merge_across_nodes (Linux)",
    .run = run,
    .usage = usage,
};
