/*
 * cli/cmd_libvirt.c - `numaplace create --libvirt DOMAIN.xml` and
 * `numaplace verify --libvirt DOMAIN`: placement at creation and its check
 * for libvirt guests (docs/libvirt.md).
 *
 * create: read the domain XML; sense the host through the libvirt backend
 * (its topology, free memory per node, every running domain with its
 * memory per node and vCPUs); place the guest with numaplace's policy;
 * write the placement into the XML (np_libvirt_tune_domain: vcpu cpuset,
 * cputune with emulator and I/O thread pins, numatune strict with a
 * memnode per guest cell, guest NUMA cells when it spans nodes, a
 * metadata record); define and start it through libvirt; record the plan
 * (DIR/NAME.plan, the Xen plan format) and check the running domain
 * against it.
 *
 * verify: the plan against what libvirt reports now (vCPU pins, emulator
 * and I/O thread pins, numatune nodeset) and, when the domain's QEMU
 * process runs on this host, where its memory is (numa_maps) and every
 * QEMU thread's CPU affinity. Exit 1 with the differences.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/backend.h>
#include <numaplace/ctl.h>
#include <numaplace/guest.h>
#include <numaplace/libvirt.h>
#include <numaplace/linux.h>
#include <numaplace/place.h>
#include <numaplace/vnuma.h>
#include <numaplace/xen.h>

#include "cli.h"

#define LV_DEFAULT_URI "qemu:///system"
#define LV_PLAN_DIR "/var/lib/numaplace/libvirt"
#define LV_XML_MAX_BYTES (4u << 20)

void cli_libvirt_create_usage(FILE *out)
{
    fprintf(out,
            "usage: numaplace create --libvirt DOMAIN.xml [--connect URI] [--dir DIR]\n"
            "                        [--dry-run] [-v]\n\n"
            "Place a libvirt domain with numaplace's policy against the host as libvirt\n"
            "reports it (running domains included), write the placement into its XML\n"
            "(vcpu cpuset, numatune with a memnode per guest cell, guest NUMA cells with\n"
            "distances when it spans nodes, emulator and I/O thread pins), define and\n"
            "start it through libvirt, record the plan and check the running domain.\n\n"
            "  --connect URI  libvirt connection (default %s)\n"
            "  --dir DIR      where NAME.xml and NAME.plan go (default %s)\n"
            "  --dry-run      place and write the files; do not define or start\n",
            LV_DEFAULT_URI, LV_PLAN_DIR);
}

void cli_libvirt_verify_usage(FILE *out)
{
    fprintf(out,
            "usage: numaplace verify --libvirt DOMAIN [--connect URI] [--dir DIR]\n\n"
            "Compare the plan `numaplace create --libvirt` recorded for DOMAIN with what\n"
            "libvirt reports (vCPU, emulator and I/O thread pins, numatune) and, for a\n"
            "QEMU process on this host, its memory per node and its threads' affinity.\n"
            "Exit 0 when they agree, 1 with the differences when not.\n");
}

#ifdef NP_HAVE_LIBVIRT

static void lv_cli_log(void *opaque, np_log_level level, const char *subsys, const char *msg)
{
    if (level <= NP_LOG_WARNING || opaque)
        fprintf(stderr, "numaplace: %s: %s\n", subsys ? subsys : "", msg);
}

static const char *fmt_map(const np_bitmap *m, char *buf, size_t len)
{
    if (!m)
        return "all";
    np_bitmap_format(m, buf, len);
    return buf[0] ? buf : "none";
}

static int read_file(const char *path, char **out, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int c;
    if (!f)
        return -errno;
    while ((c = fgetc(f)) != EOF) {
        if (len + 2 > cap) {
            cap = cap ? cap * 2 : 4096;
            char *n = cap > LV_XML_MAX_BYTES ? NULL : realloc(buf, cap);
            if (!n) {
                free(buf);
                fclose(f);
                return cap > LV_XML_MAX_BYTES ? -EFBIG : -ENOMEM;
            }
            buf = n;
        }
        buf[len++] = (char)c;
    }
    fclose(f);
    if (!buf && !(buf = calloc(1, 1)))
        return -ENOMEM;
    buf[len] = '\0';
    *out = buf;
    *len_out = len;
    return 0;
}

static int write_file(const char *path, const char *text)
{
    return np_write_file_atomic(path, text, strlen(text), 0644);
}

static int make_plan(const np_topology *topo, const np_guest_spec *spec, const np_placement *pl,
                     uint64_t id, np_xen_plan **out)
{
    np_xen_plan *plan = NULL;
    int rc = np_xen_plan_create(&plan);
    if (rc)
        return rc;
    snprintf(plan->name, sizeof(plan->name), "%s", spec->name);
    plan->domid = id > UINT32_MAX ? UINT32_MAX : (uint32_t)id;
    plan->vnodes = np_placement_vnuma(pl) ? (uint32_t)np_vnuma_nr_vnodes(np_placement_vnuma(pl)) : 0;
    for (size_t i = 0; i < np_placement_nr_nodes(pl) && i < NP_TOPO_MAX_NODES; i++) {
        size_t k = np_placement_node(pl, i);
        plan->node_os_id[i] = np_topology_node(topo, k)->os_id;
        plan->node_bytes[i] = np_placement_node_mem_bytes(pl, k);
        plan->nr_nodes = i + 1;
    }
    /* libvirt pins what numaplace prefers: each vCPU's mask is a hard pin
     * in libvirt, recorded as the plan's soft mask (numaplaced may widen it). */
    for (uint32_t v = 0; rc == 0 && v < spec->vcpus && v < NP_XEN_PLAN_MAX_VCPUS; v++) {
        const np_bitmap *m = np_placement_vcpu_hard(pl, v);
        if (!m)
            m = np_placement_vcpu_soft(pl, v);
        if (m)
            rc = np_bitmap_copy(m, m == np_placement_vcpu_hard(pl, v) ? &plan->hard[v]
                                                                       : &plan->soft[v]);
        plan->nr_vcpus = v + 1;
    }
    if (rc)
        np_xen_plan_destroy(plan);
    else
        *out = plan;
    return rc;
}

/* CPUs of the plan's nodes on the host. */
static int plan_cpus(const np_topology *topo, const np_xen_plan *p, np_bitmap **out)
{
    int rc = np_bitmap_create(out);
    for (size_t i = 0; !rc && i < p->nr_nodes; i++) {
        size_t idx;
        if (np_topology_node_idx(topo, p->node_os_id[i], &idx))
            continue;
        rc = np_bitmap_or(*out, np_topology_node_cpuset(topo, idx));
    }
    return rc;
}

static bool subset(const np_bitmap *a, const np_bitmap *of)
{
    for (int i = np_bitmap_next(a, 0); i >= 0; i = np_bitmap_next(a, (unsigned)i + 1))
        if (!np_bitmap_test(of, (unsigned)i))
            return false;
    return true;
}

/* The check shared by create and verify. Prints item by item; returns
 * NP_EXIT_OK when everything agrees, NP_EXIT_FAIL otherwise. */
static int check_plan(np_libvirt *lv, const np_xen_plan *p, FILE *out)
{
    np_libvirt_domain d;
    np_topology *topo = np_libvirt_topology(lv);
    np_bitmap *cpus = NULL, *nodes = NULL, *host = NULL;
    np_backend *be = NULL;
    np_backend_guest *gs = NULL;
    size_t ng = 0;
    char b1[4096], b2[4096];
    int bad = 0, rc;

    /* Listing first: it finds the domains' QEMU processes (the PID below). */
    if (np_backend_create(np_libvirt_backend_ops(), lv, &be) || np_backend_list_guests(be, &gs, &ng))
        ng = 0;
    rc = np_libvirt_domain_find(lv, p->name, &d);
    if (rc) {
        np_backend_guests_free(gs, ng);
        np_backend_destroy(be);
        fprintf(out, "%s: %s\n", p->name, rc == -ESRCH ? "defined but not running" : "no such domain");
        np_topology_destroy(topo);
        return NP_EXIT_FAIL;
    }
    if (plan_cpus(topo, p, &cpus) || np_bitmap_create(&nodes) || np_bitmap_create(&host)) {
        bad = -1;
        goto out;
    }
    for (size_t k = 0; k < np_topology_nr_nodes(topo); k++)
        np_bitmap_or(host, np_topology_node_cpuset(topo, k));
    for (size_t i = 0; i < p->nr_nodes; i++)
        np_bitmap_set(nodes, p->node_os_id[i]);
    fprintf(out, "%s (domain %llu, uuid %s): plan nodes %s, CPUs %s\n", d.name,
            (unsigned long long)d.id, d.uuid, fmt_map(nodes, b1, sizeof(b1)),
            fmt_map(cpus, b2, sizeof(b2)));
    for (uint32_t v = 0; v < d.nr_vcpus; v++) {
        const np_bitmap *want = v < p->nr_vcpus ? (p->hard[v] ? p->hard[v] : p->soft[v]) : NULL;
        const np_bitmap *have = d.vcpu_pins[v];
        bool ok = have && (want ? np_bitmap_equal(want, have) : subset(have, cpus));
        bad += !ok;
        fprintf(out, "  vcpu %-4u pin %-16s plan %-16s %s\n", v, fmt_map(have, b1, sizeof(b1)),
                fmt_map(want ? want : cpus, b2, sizeof(b2)), ok ? "ok" : "DIFFERS");
    }
    /* The emulator and I/O threads sit on the plan's CPUs, or on a device's
     * node for a guest with an IO node: pinned somewhere, never floating
     * over the whole host when the plan is narrower. */
    bool narrow = !subset(host, cpus);
    bool eok = d.emulator_pin && !(narrow && subset(host, d.emulator_pin));
    bad += !eok;
    fprintf(out, "  emulator  pin %-16s %s\n", fmt_map(d.emulator_pin, b1, sizeof(b1)),
            eok ? "ok" : "DIFFERS (floats over the host)");
    for (uint32_t i = 0; i < d.nr_iothreads; i++) {
        bool ok = d.iothread_pins[i] && !(narrow && subset(host, d.iothread_pins[i]));
        bad += !ok;
        fprintf(out, "  iothread %-3u pin %-16s %s\n", d.iothread_ids[i],
                fmt_map(d.iothread_pins[i], b1, sizeof(b1)), ok ? "ok" : "DIFFERS (floats)");
    }
    bool nok = d.numatune_nodes && np_bitmap_equal(d.numatune_nodes, nodes);
    bad += !nok;
    fprintf(out, "  numatune  %s %-16s %s\n", d.numatune_mode[0] ? d.numatune_mode : "-",
            fmt_map(d.numatune_nodes, b1, sizeof(b1)), nok ? "ok" : "DIFFERS");
    /* Memory of the QEMU process when it runs here, from numa_maps: its
     * anonymous memory (guest RAM, QEMU's heap) is what placement decides;
     * file pages (the QEMU binary and libraries in the page cache) sit
     * wherever the file was first read and are shared with every other
     * QEMU, so they are shown, not judged. */
    np_linux_ctx *ctx = NULL;
    np_linux_mem mem = {0};
    if (d.pid > 0 && np_linux_ctx_create("/", NULL, NULL, &ctx) == 0 &&
        np_linux_mem_numa_maps(ctx, (pid_t)d.pid, &mem) == 0) {
        uint64_t on = 0, anon = 0;
        for (size_t k = 0; k < mem.nr_node_slots; k++) {
            anon += mem.anon_bytes_by_node_os_id[k];
            if (np_bitmap_test(nodes, (unsigned)k))
                on += mem.anon_bytes_by_node_os_id[k];
        }
        double share = anon ? (double)on / (double)anon : 1.0;
        bool mok = share >= 1.0 - NP_DAEMON_VERIFY_TOLERANCE;
        bad += !mok;
        fprintf(out, "  memory    %.1f%% of %llu MiB anonymous on the plan's nodes (pid %lld) %s\n",
                100.0 * share, (unsigned long long)(anon >> 20), (long long)d.pid,
                mok ? "ok" : "DIFFERS");
        for (size_t k = 0; k < mem.nr_node_slots; k++)
            if (mem.bytes_by_node_os_id[k])
                fprintf(out, "    node %zu: %llu MiB anonymous, %llu MiB in all\n", k,
                        (unsigned long long)(mem.anon_bytes_by_node_os_id[k] >> 20),
                        (unsigned long long)(mem.bytes_by_node_os_id[k] >> 20));
        np_linux_mem_fini(&mem);
    } else {
        fprintf(out, "  memory    unknown (no QEMU process of this domain on this host)\n");
    }
    /* Every QEMU thread's affinity (live host only). */
    np_linux_thread *th = NULL;
    size_t nt = 0;
    if (d.pid > 0 && ctx && np_linux_threads(ctx, (pid_t)d.pid, &th, &nt) == 0) {
        unsigned outside = 0;
        for (size_t i = 0; i < nt; i++) {
            np_bitmap *aff = NULL;
            if (np_linux_thread_get_affinity(ctx, th[i].tid, &aff))
                continue;
            if (!subset(aff, cpus) && !(d.emulator_pin && subset(aff, d.emulator_pin))) {
                outside++;
                fprintf(out, "    thread %d (%s) affinity %s: outside the plan\n", (int)th[i].tid,
                        th[i].comm, fmt_map(aff, b1, sizeof(b1)));
            }
            np_bitmap_destroy(aff);
        }
        bad += outside != 0;
        fprintf(out, "  threads   %zu, %u outside the plan's CPUs %s\n", nt, outside,
                outside ? "DIFFERS" : "ok");
        free(th);
    }
    /* The vhost workers of its network queues (kernel threads before
     * Linux 6.4): libvirt does not pin them, numaplace does. */
    np_linux_helper *vh = NULL;
    size_t nvh = 0;
    if (d.pid > 0 && ctx &&
        np_linux_helper_threads(ctx, (pid_t)d.pid, 1u << NP_LINUX_HELPER_VHOST, &vh, &nvh) == 0) {
        for (size_t i = 0; i < nvh; i++) {
            np_bitmap *aff = NULL;
            if (np_linux_thread_get_affinity(ctx, vh[i].tid, &aff))
                continue;
            bool ok = subset(aff, cpus);
            bad += !ok;
            fprintf(out, "  vhost     thread %d (%s) affinity %-10s %s\n", (int)vh[i].tid,
                    vh[i].comm, fmt_map(aff, b1, sizeof(b1)), ok ? "ok" : "DIFFERS");
            np_bitmap_destroy(aff);
        }
        free(vh);
    }
    np_linux_ctx_destroy(ctx);
out:
    np_backend_guests_free(gs, ng);
    np_backend_destroy(be);
    np_bitmap_destroy(cpus);
    np_bitmap_destroy(nodes);
    np_bitmap_destroy(host);
    np_libvirt_domain_fini(&d);
    np_topology_destroy(topo);
    if (bad < 0)
        return NP_EXIT_INTERNAL;
    fprintf(out, "%s\n", bad ? "verify: the domain differs from its plan" : "verify: as planned");
    return bad ? NP_EXIT_FAIL : NP_EXIT_OK;
}

static int parse_common(int argc, char **argv, const char **uri, const char **dir, bool *dry,
                        bool *verbose, const char **arg, bool create)
{
    static const struct option opts[] = {
        {"libvirt", required_argument, NULL, 'L'}, {"connect", required_argument, NULL, 'c'},
        {"dir", required_argument, NULL, 'd'},     {"dry-run", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    static const struct option vopts[] = {
        {"libvirt", no_argument, NULL, 'l'},   {"connect", required_argument, NULL, 'c'},
        {"dir", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "vh", create ? opts : vopts, NULL)) != -1) {
        switch (c) {
        case 'L': *arg = optarg; break;
        case 'l': break;
        case 'c': *uri = optarg; break;
        case 'd': *dir = optarg; break;
        case 'n': *dry = true; break;
        case 'v': *verbose = true; break;
        case 'h':
            (create ? cli_libvirt_create_usage : cli_libvirt_verify_usage)(stdout);
            return -1;
        default:
            (create ? cli_libvirt_create_usage : cli_libvirt_verify_usage)(stderr);
            return NP_EXIT_USAGE;
        }
    }
    if (!create && optind == argc - 1)
        *arg = argv[optind++];
    if (optind != argc || !*arg) {
        (create ? cli_libvirt_create_usage : cli_libvirt_verify_usage)(stderr);
        return NP_EXIT_USAGE;
    }
    return NP_EXIT_OK;
}

int cli_create_libvirt(int argc, char **argv)
{
    const char *uri = LV_DEFAULT_URI, *dir = LV_PLAN_DIR, *path = NULL;
    bool dry = false, verbose = false;
    np_guest_spec spec;
    np_libvirt_hints hints;
    np_error err = {0};
    np_libvirt *lv = NULL;
    np_backend *be = NULL;
    np_host_state *st = NULL;
    np_placement *pl = NULL;
    np_xen_plan *plan = NULL;
    char *xml = NULL, *tuned = NULL;
    size_t len = 0;
    char xml_path[4096], plan_path[4096];
    uint64_t id = UINT64_MAX;
    int status = parse_common(argc, argv, &uri, &dir, &dry, &verbose, &path, true);
    if (status < 0)
        return NP_EXIT_OK;
    if (status)
        return status;
    int rc = read_file(path, &xml, &len);
    if (rc) {
        cli_errorf("create: %s: %s", path, np_strerror(rc));
        return NP_EXIT_USAGE;
    }
    rc = np_guest_spec_read_libvirt_xml(xml, len, path, &spec, &err);
    if (!rc)
        rc = np_libvirt_hints_parse(xml, len, path, &hints, &err);
    if (rc) {
        status = cli_fail(rc, &err);
        goto out;
    }
    np_libvirt_hints_apply(&hints, &spec);
    rc = np_libvirt_open(uri, "/", lv_cli_log, verbose ? (void *)1 : NULL, &lv);
    if (rc) {
        cli_errorf("create: cannot connect to libvirt at %s", uri);
        status = NP_EXIT_INTERNAL;
        goto out;
    }
    if ((rc = np_backend_create(np_libvirt_backend_ops(), lv, &be)) ||
        (rc = np_backend_sense(be, &st))) {
        cli_errorf("create: sensing the host through libvirt: %s", np_strerror(rc));
        status = NP_EXIT_INTERNAL;
        goto out;
    }
    if (hints.io_device[0] && hints.io_node_os_id < 0) {
        int32_t io = -1;
        rc = np_libvirt_device_node(lv, hints.io_device, &io);
        if (rc) {
            cli_errorf("create: %s: io-device %s: libvirt knows no NUMA node of it", path,
                       hints.io_device);
            status = NP_EXIT_USAGE;
            goto out;
        }
        spec.io_node_os_id = io;
    }
    if (hints.group[0] || spec.io_node_os_id >= 0)
        printf("hints of %s: group %s (%s), IO node %d\n", spec.name,
               hints.group[0] ? hints.group : "-", np_group_rule_name(hints.group_rule),
               (int)spec.io_node_os_id);
    size_t gidx;
    if (np_host_state_find_guest(st, spec.name, &gidx) == 0) {
        cli_errorf("create: a domain named %s is already running", spec.name);
        status = NP_EXIT_FAIL;
        goto out;
    }
    const np_topology *topo = np_host_state_topology(st);
    rc = np_guest_spec_validate(&spec, topo, &err);
    if (!rc)
        rc = np_place(st, &spec, NULL, &pl, &err);
    if (rc == -ENOSPC) {
        printf("%s: fits nowhere: %s\n", spec.name, err.msg);
        status = NP_EXIT_FAIL;
        goto out;
    }
    if (!rc)
        rc = np_libvirt_tune_domain(xml, len, path, topo, &spec, pl, &tuned, &err);
    if (rc) {
        if (!err.origin[0])
            snprintf(err.origin, sizeof(err.origin), "%s", path);
        status = cli_fail(rc, &err);
        goto out;
    }
    snprintf(xml_path, sizeof(xml_path), "%s/%s.xml", dir, spec.name);
    snprintf(plan_path, sizeof(plan_path), "%s/%s.plan", dir, spec.name);
    printf("placement of %s: nodes", spec.name);
    for (size_t i = 0; i < np_placement_nr_nodes(pl); i++)
        printf("%s%u", i ? "," : " ", np_topology_node(topo, np_placement_node(pl, i))->os_id);
    printf(" [%s, cost %.4f]%s%s\n", np_placement_policy(pl), np_placement_cost(pl),
           np_placement_note(pl)[0] ? " " : "", np_placement_note(pl));
    if ((rc = write_file(xml_path, tuned))) {
        cli_errorf("create: %s: %s", xml_path, np_strerror(rc));
        status = NP_EXIT_INTERNAL;
        goto out;
    }
    printf("domain XML with the placement: %s\n", xml_path);
    if (!dry) {
        rc = np_libvirt_define(lv, tuned, true, &id);
        if (rc) {
            cli_errorf("create: libvirt %s %s: %s", rc == -EIO ? "could not start" : "refused",
                       spec.name, np_strerror(rc));
            status = rc == -EEXIST ? NP_EXIT_FAIL : NP_EXIT_INTERNAL;
            goto out;
        }
        printf("defined and started %s as domain %llu\n", spec.name, (unsigned long long)id);
        size_t nvh = 0;
        rc = np_libvirt_pin_vhost(lv, id, &nvh);
        if (rc == 0 && nvh)
            printf("vhost threads of %s: %zu pinned with its emulator thread\n", spec.name, nvh);
        else if (rc && rc != -ENOSYS)
            cli_errorf("create: %s: pinning its vhost threads: %s", spec.name, np_strerror(rc));
    }
    if ((rc = make_plan(topo, &spec, pl, id, &plan)) || (rc = np_xen_plan_write(plan, plan_path))) {
        cli_errorf("create: plan %s: %s", plan_path, np_strerror(rc));
        status = NP_EXIT_INTERNAL;
        goto out;
    }
    printf("plan: %s\n", plan_path);
    if (dry) {
        printf("dry run: %s not defined; its XML:\n%s", spec.name, tuned);
        goto out;
    }
    status = check_plan(lv, plan, stdout);
out:
    np_xen_plan_destroy(plan);
    np_placement_destroy(pl);
    np_host_state_destroy(st);
    np_backend_destroy(be);
    np_libvirt_close(lv);
    free(tuned);
    free(xml);
    return status;
}

int cli_verify_libvirt(int argc, char **argv)
{
    const char *uri = LV_DEFAULT_URI, *dir = LV_PLAN_DIR, *name = NULL;
    bool dry = false, verbose = false;
    np_libvirt *lv = NULL;
    np_xen_plan *plan = NULL;
    np_error err = {0};
    char plan_path[4096];
    int status = parse_common(argc, argv, &uri, &dir, &dry, &verbose, &name, false);
    if (status < 0)
        return NP_EXIT_OK;
    if (status)
        return status;
    snprintf(plan_path, sizeof(plan_path), "%s/%s.plan", dir, name);
    int rc = np_xen_plan_read(plan_path, &plan, &err);
    if (rc) {
        if (rc == -ENOENT) {
            cli_errorf("verify: no plan for %s in %s (numaplace create --libvirt writes it)", name,
                       dir);
            return NP_EXIT_USAGE;
        }
        return cli_fail(rc, &err);
    }
    rc = np_libvirt_open(uri, "/", lv_cli_log, NULL, &lv);
    if (rc) {
        cli_errorf("verify: cannot connect to libvirt at %s", uri);
        status = NP_EXIT_INTERNAL;
    } else {
        status = check_plan(lv, plan, stdout);
    }
    np_libvirt_close(lv);
    np_xen_plan_destroy(plan);
    return status;
}

#else /* !NP_HAVE_LIBVIRT */

int cli_create_libvirt(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_errorf("create --libvirt: this numaplace was built without libvirt support (libvirt-dev)");
    return NP_EXIT_USAGE;
}

int cli_verify_libvirt(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_errorf("verify --libvirt: this numaplace was built without libvirt support (libvirt-dev)");
    return NP_EXIT_USAGE;
}

#endif

bool cli_wants_libvirt(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--libvirt") == 0 || strncmp(argv[i], "--libvirt=", 10) == 0)
            return true;
    return false;
}
