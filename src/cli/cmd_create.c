/*
 * cli/cmd_create.c - `numaplace create GUEST.cfg`: place a guest with the
 * numaplace policy on a Xen host and create it through libxl.
 *
 * Steps: read the xl.cfg; sense the host through the Xen backend (topology,
 * free memory, every domain's per-node memory from debug key `u`); under
 * the reservation lock (/run/numaplace, see numaplace/xen.h) subtract the
 * memory other creations in flight have promised, place, record this
 * guest's per-node reservation, unlock; write the decision into the domain
 * configuration (DIR/NAME.cfg: the file plus the emitted cpus_soft / cpus /
 * vnuma lines) and the plan (DIR/NAME.plan, read by `numaplace verify`);
 * create the domain with libxl's placement off; check where Xen really
 * put the memory (its allocator silently falls back to other nodes); drop
 * the reservation.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/backend.h>
#include <numaplace/emit.h>
#include <numaplace/guest.h>
#include <numaplace/hoststate.h>
#include <numaplace/place.h>
#include <numaplace/vnuma.h>
#include <numaplace/xen.h>

#include "cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: numaplace create [--dir DIR] [--dry-run] [-v] GUEST.cfg\n\n"
            "On a Xen dom0: place the guest of an xl.cfg file with the numaplace policy,\n"
            "write the decision into its configuration (cpus_soft; cpus with hard\n"
            "affinity; vnuma when it spans nodes) and create it through libxl with\n"
            "libxl's own NUMA placement off. Creations running at once never count the\n"
            "same node's free memory twice (a per-node reservation ledger under DIR).\n"
            "After the build it reports where Xen really put the memory.\n\n"
            "  --dir DIR   reservations, DIR/NAME.cfg and DIR/NAME.plan (default\n"
            "              /run/numaplace)\n"
            "  --dry-run   place and write the files, do not create the domain\n"
            "  -v          show libxl's own log lines\n"
            "  --help      this text\n");
}

#ifdef NP_HAVE_XEN

#define CREATE_CFG_MAX_BYTES (1u << 20)
/* Memory left free on every node for what Xen allocates beside the guest's
 * own pages (page tables, p2m, vNUMA rounding, its heap). Measured: a
 * PVH vnode of 207 MiB on a node with about 250 MiB free failed with
 * "xc_dom_boot_mem_init: can't allocate low memory for domain". */
#define CREATE_NODE_HEADROOM_BYTES (UINT64_C(64) << 20)

/* The whole file, at most max bytes, NUL-terminated. */
static int read_text(const char *path, size_t max, char **out, size_t *len_out)
{
    FILE *f = fopen(path, "re");
    char *buf;
    size_t n;
    if (!f)
        return -errno;
    buf = malloc(max + 1);
    if (!buf) {
        fclose(f);
        return -ENOMEM;
    }
    n = fread(buf, 1, max + 1, f);
    fclose(f);
    if (n > max) {
        free(buf);
        return -EFBIG;
    }
    buf[n] = '\0';
    *out = buf;
    *len_out = n;
    return 0;
}

static int write_text(const char *path, const char *a, const char *b)
{
    FILE *f = fopen(path, "we");
    int rc = 0;
    if (!f)
        return -errno;
    if (fputs(a, f) == EOF || (b && fputs(b, f) == EOF))
        rc = -EIO;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

static int write_plan(const char *path, const np_topology *topo, const np_guest_spec *spec,
                      const np_placement *pl, uint32_t domid)
{
    np_xen_plan *plan = NULL;
    int rc = np_xen_plan_create(&plan);
    if (rc)
        return rc;
    snprintf(plan->name, sizeof(plan->name), "%s", spec->name);
    plan->domid = domid;
    plan->vnodes = np_placement_vnuma(pl) ? (uint32_t)np_vnuma_nr_vnodes(np_placement_vnuma(pl)) : 0;
    for (size_t i = 0; i < np_placement_nr_nodes(pl) && i < NP_TOPO_MAX_NODES; i++) {
        size_t k = np_placement_node(pl, i);
        plan->node_os_id[i] = np_topology_node(topo, k)->os_id;
        plan->node_bytes[i] = np_placement_node_mem_bytes(pl, k);
        plan->nr_nodes = i + 1;
    }
    /* Each vCPU's masks: with vNUMA they differ per vCPU. */
    for (uint32_t v = 0; rc == 0 && v < spec->vcpus && v < NP_XEN_PLAN_MAX_VCPUS; v++) {
        const np_bitmap *soft = np_placement_vcpu_soft(pl, v), *hard = np_placement_vcpu_hard(pl, v);
        if (!soft)
            soft = np_placement_cpus_soft(pl);
        if (!hard)
            hard = np_placement_cpus_hard(pl);
        if (soft && spec->affinity == NP_AFFINITY_SOFT)
            rc = np_bitmap_copy(soft, &plan->soft[v]);
        if (rc == 0 && hard && spec->affinity == NP_AFFINITY_HARD)
            rc = np_bitmap_copy(hard, &plan->hard[v]);
        plan->nr_vcpus = v + 1;
    }
    if (rc == 0)
        rc = np_xen_plan_write(plan, path);
    np_xen_plan_destroy(plan);
    return rc;
}

/* True when the xl.cfg asks for a PV guest (type="pv", or no type: xl's
 * default). libxl 4.17 refuses vNUMA for PV, so such a guest is placed
 * with vNUMA off (it may still span nodes; it then sees one node). */
static bool is_pv(const char *text)
{
    const char *p = text;
    while (p && *p) {
        const char *line = p;
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
        while (*line == ' ' || *line == '\t')
            line++;
        if (strncmp(line, "type", 4) == 0) {
            const char *q = line + 4;
            while (*q == ' ' || *q == '\t')
                q++;
            if (*q == '=')
                return strncmp(q + 1 + strspn(q + 1, " \t\"'"), "pv", 2) == 0 &&
                       (q + 1 + strspn(q + 1, " \t\"'"))[2] != 'h';
        }
    }
    return true;
}

/* Places under the reservation lock and records the reservation. */
static int place_reserved(np_host_state *st, np_guest_spec *spec, const char *dir,
                          np_placement **pl_out, np_error *err)
{
    const np_topology *topo = np_host_state_topology(st);
    np_reserve *r = NULL;
    int rc = np_reserve_lock(dir, &r);
    if (rc) {
        snprintf(err->msg, sizeof(err->msg), "cannot lock the reservations in %s: %s", dir,
                 np_strerror(rc));
        return rc;
    }
    for (size_t k = 0; k < np_topology_nr_nodes(topo) && rc == 0; k++) {
        uint64_t other = np_reserve_node_bytes(r, np_topology_node(topo, k)->os_id);
        rc = np_host_state_set_reserved(st, k, np_host_state_reserved_bytes(st, k) + other +
                                                   CREATE_NODE_HEADROOM_BYTES);
    }
    if (rc == 0)
        rc = np_place(st, spec, NULL, pl_out, err);
    /* libxl 4.17 builds at most NP_XEN_VNUMA_MAX_VNODES virtual nodes
     * (docs/xen.md): a layout with more is placed again on at most that
     * many nodes (vnuma_nodes = N caps the nodes placement may use). */
    if (rc == 0 && spec->vnuma_nodes == NP_VNUMA_AUTO && np_placement_vnuma(*pl_out) &&
        np_vnuma_nr_vnodes(np_placement_vnuma(*pl_out)) > NP_XEN_VNUMA_MAX_VNODES) {
        np_placement_destroy(*pl_out);
        *pl_out = NULL;
        spec->vnuma_nodes = (int32_t)NP_XEN_VNUMA_MAX_VNODES;
        rc = np_place(st, spec, NULL, pl_out, err);
    }
    for (size_t i = 0; rc == 0 && i < np_placement_nr_nodes(*pl_out); i++) {
        size_t k = np_placement_node(*pl_out, i);
        rc = np_reserve_add(r, spec->name, np_topology_node(topo, k)->os_id,
                            np_placement_node_mem_bytes(*pl_out, k));
    }
    if (rc == 0)
        rc = np_reserve_commit(r);
    np_reserve_unlock(r);
    return rc;
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'}, {"dry-run", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0},
    };
    const char *dir = NP_RESERVE_DIR;
    bool dry_run = false, verbose = false, reserved = false;
    int c, rc, status = NP_EXIT_OK;
    np_guest_spec spec;
    np_error err = {0};
    char *text = NULL, *emitted = NULL, cfg_path[4096], plan_path[4096];
    size_t len = 0;
    np_xen *xen = NULL;
    np_backend *be = NULL;
    np_host_state *st = NULL;
    np_placement *pl = NULL;
    uint32_t domid = UINT32_MAX;

    setvbuf(stdout, NULL, _IOLBF, 0); /* progress lines appear as they happen */
    while ((c = getopt_long(argc, argv, "d:nvh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'n': dry_run = true; break;
        case 'v': verbose = true; break;
        case 'h': usage(stdout); return NP_EXIT_OK;
        default: usage(stderr); return NP_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        usage(stderr);
        return NP_EXIT_USAGE;
    }
    const char *path = argv[optind];
    rc = np_guest_spec_read_file(path, &spec, &err);
    if (rc)
        return cli_fail(rc, &err);
    rc = read_text(path, CREATE_CFG_MAX_BYTES, &text, &len);
    if (rc)
        goto fail;
    if (is_pv(text))
        spec.vnuma_nodes = NP_VNUMA_OFF;
    rc = np_xen_open(cli_xen_log, verbose ? (void *)1 : NULL, &xen);
    if (rc) {
        cli_errorf("create: cannot open libxl (%s): run this on a Xen dom0 as root",
                   np_strerror(rc));
        status = NP_EXIT_INTERNAL;
        goto out;
    }
    if ((rc = np_backend_create(np_xen_backend_ops(), xen, &be)) ||
        (rc = np_backend_sense(be, &st)))
        goto fail;
    const np_topology *topo = np_host_state_topology(st);
    rc = place_reserved(st, &spec, dir, &pl, &err);
    if (rc)
        goto fail;
    reserved = true;
    rc = np_emit_alloc(NP_EMIT_XL_CFG, topo, &spec, pl, NP_EMIT_NO_NAME, &emitted, &err);
    if (rc)
        goto fail;
    snprintf(cfg_path, sizeof(cfg_path), "%s/%s.cfg", dir, spec.name);
    snprintf(plan_path, sizeof(plan_path), "%s/%s.plan", dir, spec.name);
    /* The emitted lines come last, so they win over the file's own. */
    char *joined = malloc(len + 64);
    if (!joined) {
        rc = -ENOMEM;
        goto fail;
    }
    memcpy(joined, text, len);
    snprintf(joined + len, 64, "%s# placed by numaplace\n",
             len && text[len - 1] != '\n' ? "\n" : "");
    rc = write_text(cfg_path, joined, emitted);
    free(joined);
    if (rc)
        goto fail;
    printf("placement of %s%s%s:\n", spec.name, np_placement_note(pl)[0] ? ": " : "",
           np_placement_note(pl));
    fputs(emitted, stdout);
    if (dry_run) {
        rc = write_plan(plan_path, topo, &spec, pl, UINT32_MAX);
        printf("configuration: %s (dry run: not created)\n", cfg_path);
        goto done;
    }
    free(text);
    text = NULL;
    rc = read_text(cfg_path, CREATE_CFG_MAX_BYTES, &text, &len);
    if (rc == 0)
        rc = np_xen_create_domain(xen, text, len, cfg_path, topo, &spec, pl, &domid, &err);
    if (rc)
        goto fail;
    printf("created %s as domain %u from %s\n", spec.name, (unsigned)domid, cfg_path);
    rc = write_plan(plan_path, topo, &spec, pl, domid);
    if (rc)
        goto fail;
    /* After the build: where did the memory really go? */
    status = cli_xen_check_plan(xen, plan_path, stdout);
done:
    if (rc)
        goto fail;
    goto out;
fail:
    status = cli_fail(rc, &err);
out:
    if (reserved && np_reserve_release(dir, spec.name) != 0)
        cli_errorf("create: could not release the reservation of %s in %s", spec.name, dir);
    np_placement_destroy(pl);
    np_host_state_destroy(st);
    np_backend_destroy(be);
    np_xen_close(xen);
    free(emitted);
    free(text);
    return status;
}

#else /* !NP_HAVE_XEN */

static int run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_errorf("create: this numaplace was built without Xen support (libxen-dev)");
    return NP_EXIT_USAGE;
}

#endif

/* --libvirt DOMAIN.xml: a libvirt domain (cmd_libvirt.c); otherwise Xen. */
static int run_create(int argc, char **argv)
{
    return cli_wants_libvirt(argc, argv) ? cli_create_libvirt(argc, argv) : run(argc, argv);
}

static void usage_create(FILE *out)
{
    usage(out);
    fputc('\n', out);
    cli_libvirt_create_usage(out);
}

const np_cli_cmd np_cmd_create = {
    .name = "create",
    .summary = "place a guest with numaplace and create it (Xen xl.cfg, or --libvirt DOMAIN.xml)",
    .run = run_create,
    .usage = usage_create,
};
