/*
 * cli/cmd_verify.c - `numaplace verify DOMAIN`: plan against reality on a
 * Xen host. The plan is what `numaplace create` wrote (DIR/NAME.plan: the
 * nodes with the memory planned on each, cpus_soft, cpus); the reality is
 * what the Xen backend reads now: the domain's pages on each node (debug
 * key `u`) and each vCPU's hard and soft affinity (libxl_list_vcpu).
 * `create` runs the same check right after the build, since Xen's
 * allocator falls back to other nodes without saying so.
 *
 * Off Xen (or given a PID) the same command checks a Linux guest or process
 * against the plan numaplaced keeps (cmd_verify_linux.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <numaplace/backend.h>
#include <numaplace/xen.h>

#include "cli.h"

/* Memory a domain may have off plan before verify says so: Xen adds a few
 * pages of its own per domain (32785 pages for a 32768-page PVH guest), so
 * 4 MiB or 2% of the plan, whichever is more. */
#define VERIFY_SLACK_MIN_BYTES (UINT64_C(4) << 20)
#define VERIFY_SLACK_PERCENT 2u

static void verify_xen_usage(FILE *out)
{
    fprintf(out,
            "usage: numaplace verify [--dir DIR] DOMAIN\n\n"
            "On a Xen dom0: compare the plan `numaplace create` made for DOMAIN (a name)\n"
            "with where its memory is now (per node, from Xen's debug key u) and the\n"
            "vCPUs' hard and soft affinity (libxl). Exit 0 when they agree, 1 when not.\n"
            "A domain without a plan (created by xl create) is checked against its own\n"
            "affinity: its memory on the nodes its hard and soft masks imply.\n\n"
            "  --dir DIR   where create wrote NAME.plan (default /run/numaplace)\n"
            "  --help      this text\n");
}

#ifdef NP_HAVE_XEN

static const np_backend_guest *find_guest(const np_backend_guest *g, size_t nr,
                                          const np_xen_plan *p)
{
    for (size_t i = 0; i < nr; i++)
        if (strcmp(g[i].name, p->name) == 0)
            return &g[i];
    return NULL;
}

static bool masks_match(const np_bitmap *want, const np_bitmap *have)
{
    return !want || (have && np_bitmap_equal(want, have));
}

int cli_xen_check_plan(np_xen *xen, const char *plan_path, FILE *out)
{
    np_xen_plan *p = NULL;
    np_error perr = {0};
    np_backend *be = NULL;
    np_topology *topo = NULL;
    np_backend_guest *guests = NULL;
    size_t nr = 0;
    const np_backend_guest *g;
    uint64_t planned = 0, off_plan = 0, short_total = 0, in_plan_total = 0, slack;
    /* Without vNUMA Xen is given only the set of nodes (node affinity) and
     * spreads the memory over them as its allocator likes: then only the
     * set is checked, not the amount on each node. */
    bool per_node;
    bool ok = true;
    char buf[4096], a[32], b[32];
    int rc = np_xen_plan_read(plan_path, &p, &perr);
    if (rc) {
        cli_errorf("verify: %s", np_error_format(&perr, buf, sizeof(buf)));
        return NP_EXIT_USAGE;
    }
    if ((rc = np_backend_create(np_xen_backend_ops(), xen, &be)) ||
        (rc = np_backend_topology(be, &topo)) ||
        (rc = np_backend_list_guests(be, &guests, &nr))) {
        cli_errorf("verify: cannot read the Xen host: %s", np_strerror(rc));
        rc = NP_EXIT_INTERNAL;
        goto out;
    }
    per_node = p->split == NP_XEN_PLAN_SPLIT_DEFAULT
                   ? p->nr_nodes <= 1 || p->vnodes > 1
                   : p->split != NP_XEN_PLAN_SPLIT_SET;
    g = find_guest(guests, nr, p);
    if (!g) {
        cli_errorf("verify: no domain named '%s' is running", p->name);
        rc = NP_EXIT_FAIL;
        goto out;
    }
    fprintf(out, "domain %s (id %llu): plan vs reality%s\n", p->name, (unsigned long long)g->id,
            p->user ? " (the user's own placement)" : "");
    fprintf(out, "node    planned     actual\n");
    for (size_t k = 0; k < np_topology_nr_nodes(topo); k++) {
        uint32_t os = np_topology_node(topo, k)->os_id;
        uint64_t want = 0, have = g->node_mem_bytes[k];
        bool in_plan = false;
        for (size_t i = 0; i < p->nr_nodes; i++) {
            if (p->node_os_id[i] == os) {
                want = p->node_bytes[i];
                in_plan = true;
            }
        }
        planned += want;
        if (!in_plan)
            off_plan += have;
        else
            in_plan_total += have;
        if (in_plan && per_node && have < want)
            short_total += want - have;
        fprintf(out, "%4u %10s %10s\n", (unsigned)os, cli_bytes(want, a, sizeof(a)),
                cli_bytes(have, b, sizeof(b)));
    }
    if (!per_node && in_plan_total < planned)
        short_total = planned - in_plan_total;
    slack = planned / 100 * VERIFY_SLACK_PERCENT;
    if (slack < VERIFY_SLACK_MIN_BYTES)
        slack = VERIFY_SLACK_MIN_BYTES;
    if (off_plan > slack || short_total > slack) {
        ok = false;
        fprintf(out, "memory: MISMATCH: %s on nodes outside the plan, %s missing on planned "
                     "nodes (Xen's allocator fell back)\n",
                cli_bytes(off_plan, a, sizeof(a)), cli_bytes(short_total, b, sizeof(b)));
    } else if (per_node && p->split == NP_XEN_PLAN_SPLIT_ALLOCATOR) {
        fprintf(out, "memory: as planned (the split Xen's allocator was predicted to make)\n");
    } else if (per_node) {
        fprintf(out, "memory: as planned\n");
    } else {
        fprintf(out, "memory: on the planned nodes (without vNUMA Xen chooses the split)\n");
    }
    for (uint32_t v = 0; v < g->nr_vcpus; v++) {
        const np_backend_vcpu *bv = &g->vcpus[v];
        const np_bitmap *want_soft = v < NP_XEN_PLAN_MAX_VCPUS ? p->soft[v] : NULL;
        const np_bitmap *want_hard = v < NP_XEN_PLAN_MAX_VCPUS ? p->hard[v] : NULL;
        bool soft_ok = masks_match(want_soft, bv->soft), hard_ok = masks_match(want_hard, bv->hard);
        if (bv->soft)
            np_bitmap_format(bv->soft, buf, sizeof(buf));
        else
            snprintf(buf, sizeof(buf), "all");
        fprintf(out, "vcpu %u: soft %s%s%s\n", (unsigned)v, buf, soft_ok ? "" : " (MISMATCH)",
                hard_ok ? "" : ", hard affinity differs from the plan (MISMATCH)");
        ok = ok && soft_ok && hard_ok;
    }
    fprintf(out, "verify: %s\n", ok ? "OK" : "MISMATCH");
    rc = ok ? NP_EXIT_OK : NP_EXIT_FAIL;
out:
    np_backend_guests_free(guests, nr);
    np_topology_destroy(topo);
    np_backend_destroy(be);
    np_xen_plan_destroy(p);
    return rc;
}

/* A guest without a plan (created by `xl create`): checked against its own
 * affinity. Its memory must lie on the node set its vCPUs' hard and soft
 * masks imply (as Xen derives node affinity from them), within its node
 * affinity, and the node affinity must be that set unless it was set
 * outright. Exit 0 when all holds, 1 when not. */
static int check_own_affinity(np_xen *xen, const char *name, FILE *out)
{
    np_backend *be = NULL;
    np_topology *topo = NULL;
    np_backend_guest *guests = NULL;
    np_bitmap *implied = NULL, *naff = NULL;
    np_bitmap *hard[NP_XEN_PLAN_MAX_VCPUS] = {0}, *soft[NP_XEN_PLAN_MAX_VCPUS] = {0};
    const np_backend_guest *g = NULL;
    size_t nr = 0;
    uint64_t total = 0, outside = 0, outside_aff = 0, slack;
    char buf[4096], a[32];
    bool ok = true;
    int rc;

    if ((rc = np_backend_create(np_xen_backend_ops(), xen, &be)) ||
        (rc = np_backend_topology(be, &topo)) ||
        (rc = np_backend_list_guests(be, &guests, &nr))) {
        cli_errorf("verify: cannot read the Xen host: %s", np_strerror(rc));
        rc = NP_EXIT_INTERNAL;
        goto out;
    }
    for (size_t i = 0; i < nr && !g; i++)
        if (strcmp(guests[i].name, name) == 0)
            g = &guests[i];
    if (!g) {
        cli_errorf("verify: no domain named '%s' is running", name);
        rc = NP_EXIT_FAIL;
        goto out;
    }
    uint32_t nv = g->nr_vcpus < NP_XEN_PLAN_MAX_VCPUS ? g->nr_vcpus : NP_XEN_PLAN_MAX_VCPUS;
    for (uint32_t v = 0; v < nv; v++) {
        hard[v] = g->vcpus[v].hard; /* borrowed; NULL = all */
        soft[v] = g->vcpus[v].soft;
    }
    if ((rc = np_xen_implied_nodes(topo, hard, soft, nv, &implied)) ||
        (rc = np_xen_node_affinity(xen, (uint32_t)g->id, &naff))) {
        cli_errorf("verify: cannot read the affinity of %s: %s", name, np_strerror(rc));
        rc = NP_EXIT_INTERNAL;
        goto out;
    }
    fprintf(out, "domain %s (id %llu): no plan file; checked against its own affinity\n",
            name, (unsigned long long)g->id);
    np_bitmap_format(implied, buf, sizeof(buf));
    fprintf(out, "nodes its vCPU masks imply: %s\n", buf);
    np_bitmap_format(naff, buf, sizeof(buf));
    fprintf(out, "node affinity (Xen): %s\n", buf);
    fprintf(out, "node     memory\n");
    for (size_t k = 0; k < np_topology_nr_nodes(topo); k++) {
        uint32_t os = np_topology_node(topo, k)->os_id;
        uint64_t have = g->node_mem_bytes[k];
        total += have;
        if (!np_bitmap_test(implied, os))
            outside += have;
        if (!np_bitmap_test(naff, os))
            outside_aff += have;
        fprintf(out, "%4u %10s%s\n", (unsigned)os, cli_bytes(have, a, sizeof(a)),
                np_bitmap_test(implied, os) ? "" : "  (outside the implied nodes)");
    }
    for (uint32_t v = 0; v < g->nr_vcpus; v++) {
        char h[256], s2[256];
        if (g->vcpus[v].hard)
            np_bitmap_format(g->vcpus[v].hard, h, sizeof(h));
        else
            snprintf(h, sizeof(h), "all");
        if (g->vcpus[v].soft)
            np_bitmap_format(g->vcpus[v].soft, s2, sizeof(s2));
        else
            snprintf(s2, sizeof(s2), "all");
        fprintf(out, "vcpu %u: hard %s soft %s\n", (unsigned)v, h, s2);
    }
    slack = total / 100 * VERIFY_SLACK_PERCENT;
    if (slack < VERIFY_SLACK_MIN_BYTES)
        slack = VERIFY_SLACK_MIN_BYTES;
    if (outside > slack) {
        ok = false;
        fprintf(out, "memory: MISMATCH: %s outside the nodes its affinity implies\n",
                cli_bytes(outside, a, sizeof(a)));
    } else {
        fprintf(out, "memory: on the nodes its affinity implies\n");
    }
    if (outside_aff > slack) {
        ok = false;
        fprintf(out, "memory: MISMATCH: %s outside its node affinity\n",
                cli_bytes(outside_aff, a, sizeof(a)));
    }
    if (!np_bitmap_equal(naff, implied) && !np_bitmap_intersects(naff, implied)) {
        ok = false;
        fprintf(out, "node affinity: MISMATCH: shares no node with what the vCPU masks imply\n");
    }
    fprintf(out, "verify: %s\n", ok ? "OK" : "MISMATCH");
    rc = ok ? NP_EXIT_OK : NP_EXIT_FAIL;
out:
    np_bitmap_destroy(implied);
    np_bitmap_destroy(naff);
    np_backend_guests_free(guests, nr);
    np_topology_destroy(topo);
    np_backend_destroy(be);
    return rc;
}

static int verify_xen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NP_RESERVE_DIR;
    char path[4096];
    np_xen *xen = NULL;
    int c, rc;
    while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'h': verify_xen_usage(stdout); return NP_EXIT_OK;
        default: verify_xen_usage(stderr); return NP_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc || strchr(argv[optind], '/')) {
        verify_xen_usage(stderr);
        return NP_EXIT_USAGE;
    }
    snprintf(path, sizeof(path), "%s/%s.plan", dir, argv[optind]);
    rc = np_xen_open(cli_xen_log, NULL, &xen);
    if (rc) {
        cli_errorf("verify: cannot open libxl (%s): run this on a Xen dom0 as root",
                   np_strerror(rc));
        return NP_EXIT_INTERNAL;
    }
    if (access(path, F_OK) != 0 && errno == ENOENT)
        rc = check_own_affinity(xen, argv[optind], stdout);
    else
        rc = cli_xen_check_plan(xen, path, stdout);
    np_xen_close(xen);
    return rc;
}

#else /* !NP_HAVE_XEN */

static int verify_xen(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_errorf("verify: this numaplace was built without Xen support (libxen-dev)");
    return NP_EXIT_USAGE;
}

#endif

static bool is_pid(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* On a Xen dom0 a name is a domain; anywhere else, or given a PID, the
 * guest is a Linux process. */
static int run(int argc, char **argv)
{
    if (cli_wants_libvirt(argc, argv))
        return cli_verify_libvirt(argc, argv);
    bool any_pid = false;
    for (int i = 1; i < argc; i++)
        any_pid |= is_pid(argv[i]);
    if (np_xen_is_dom0() && !any_pid)
        return verify_xen(argc, argv);
    return cli_verify_linux(argc, argv);
}

static void usage(FILE *out)
{
    cli_libvirt_verify_usage(out);
    fputc('\n', out);
    cli_verify_linux_usage(out);
    fprintf(out, "\nOn a Xen dom0, with a domain name:\n");
    verify_xen_usage(out);
}

const np_cli_cmd np_cmd_verify = {
    .name = "verify",
    .summary = "compare a guest's plan with where its memory and vCPUs are (Linux, Xen)",
    .run = run,
    .usage = usage,
};
