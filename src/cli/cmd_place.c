/*
 * cli/cmd_place.c - `numaplace place`: decide where guests go.
 *
 * One or more --vm guests are placed in order on a host (each decision
 * sees the ones before it), or a scenario file is replayed (arrivals,
 * departures, demand changes); the result is printed per guest, with the
 * cost terms and runners-up under --explain, as hypervisor configuration
 * under --emit, and, for several guests, as a node x guest map.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/emit.h>
#include <numaplace/hoststate.h>
#include <numaplace/place.h>
#include <numaplace/scenario.h>

#include "cli.h"

/* Most --vm options one command line may carry. */
#define PLACE_MAX_VMS 256

typedef struct place_opts {
    const char *source, *format, *policy, *scenario;
    bool explain, json, have_emit;
    np_emit_format emit;
    const char *vms[PLACE_MAX_VMS]; /* option strings, or file names when is_file */
    bool is_file[PLACE_MAX_VMS];
    size_t nr_vms;
} place_opts;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: numaplace place [--from SOURCE] [--policy NAME] [--explain]\n"
            "                       [--emit xl|libvirt|qemu] [--json] --vm SPEC | --guest FILE ...\n"
            "       numaplace place --scenario FILE [--from SOURCE] [--policy NAME] [--json]\n\n"
            "Decide on which NUMA nodes each guest's vCPUs and memory live. Guests are placed\n"
            "in the order given; each decision accounts for the guests placed before it.\n\n"
            "  --from SOURCE     the host: live (default), builtin:NAME, or a topology file\n"
            "                    (a scenario's \"host\" is used when --from is not given)\n"
            "  --format FMT      force the topology file format\n"
            "  --vm SPEC         a guest: name=NAME,vcpus=N,memory=SIZE[,maxmem=SIZE,\n"
            "                    dev=BDF,io-node=N,group=NAME:colocate|spread[:WEIGHT],\n"
            "                    vnuma=auto|off|N,affinity=soft|hard|none,autoplace=no,\n"
            "                    cpuless-memory=yes,demand=0..1]; sizes like 8G or 512M\n"
            "  --guest FILE      a guest from an existing configuration: a Xen xl.cfg, a\n"
            "                    libvirt domain XML, or a JSON guest object\n"
            "  --scenario FILE   a sequence of arrivals and departures (docs/scenario.md);\n"
            "                    prints each step and the final node x guest map\n"
            "  --policy NAME     placement policy (default numaplace):");
    for (size_t i = 0; i < np_place_policy_count(); i++)
        fprintf(out, " %s", np_place_policy_name(i));
    fprintf(out,
            "\n"
            "  --explain         show the cost terms and the runners-up of each decision\n"
            "  --emit FORMAT     print the decision as an xl.cfg fragment (xl), a libvirt\n"
            "                    domain XML fragment (libvirt) or QEMU options (qemu)\n"
            "  --json            machine-readable output (schema numaplace.place/1)\n\n"
            "Exit status: 0 every guest placed, 1 a guest fits nowhere (the message says what\n"
            "is missing), 2 bad usage or input.\n");
}

/* ---- one decision, as text and JSON ------------------------------------------ */

static char *cpus_text(const np_bitmap *m)
{
    if (!m)
        return NULL;
    size_t need = np_bitmap_format(m, NULL, 0);
    char *s = malloc(need + 1);
    if (s)
        np_bitmap_format(m, s, need + 1);
    return s;
}

static void nodes_text(const np_topology *topo, const np_placement *pl, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < np_placement_nr_nodes(pl) && off < len; i++) {
        int n = snprintf(buf + off, len - off, "%s%u", i ? "," : "",
                         np_topology_node(topo, np_placement_node(pl, i))->os_id);
        if (n < 0)
            break;
        off += (size_t)n;
    }
}

static void print_decision(const np_topology *topo, const np_guest_spec *spec,
                           const np_placement *pl, bool explain)
{
    char nodes[512], b1[32], b2[32];
    nodes_text(topo, pl, nodes, sizeof(nodes));
    printf("%s: %u vCPU%s, %s", spec->name, spec->vcpus, spec->vcpus == 1 ? "" : "s",
           cli_bytes(spec->mem_bytes, b1, sizeof(b1)));
    if (spec->maxmem_bytes > spec->mem_bytes)
        printf(" (max %s)", cli_bytes(spec->maxmem_bytes, b2, sizeof(b2)));
    printf(" -> node%s %s  [%s, cost %.2f%%]\n", np_placement_nr_nodes(pl) == 1 ? "" : "s",
           nodes, np_placement_policy(pl), 100.0 * np_placement_cost(pl));
    if (np_placement_is_fallback(pl))
        printf("  fallback     %s\n", np_placement_note(pl));
    else if (np_placement_note(pl)[0])
        printf("  note         %s\n", np_placement_note(pl));
    for (size_t i = 0; i < np_placement_nr_nodes(pl); i++) {
        size_t n = np_placement_node(pl, i);
        unsigned first = UINT32_MAX, last = 0, count = 0;
        for (uint32_t v = 0; v < spec->vcpus; v++) {
            if (np_placement_vcpu_node(pl, v) != n)
                continue;
            if (first == UINT32_MAX)
                first = v;
            last = v;
            count++;
        }
        printf("  node %-4u    memory %-10s", np_topology_node(topo, n)->os_id,
               cli_bytes(np_placement_node_mem_bytes(pl, n), b1, sizeof(b1)));
        if (count == 0)
            printf("  no vCPUs\n");
        else if (count == last - first + 1)
            printf("  vCPUs %u-%u\n", first, last);
        else
            printf("  %u vCPUs\n", count);
    }
    char *hard = cpus_text(np_placement_cpus_hard(pl));
    char *soft = cpus_text(np_placement_cpus_soft(pl));
    printf("  hard cpus    %s\n", hard ? hard : "all (not pinned)");
    printf("  soft cpus    %s\n", soft ? soft : "none");
    free(hard);
    free(soft);
    const np_vnuma *v = np_placement_vnuma(pl);
    if (v) {
        printf("  vnuma        %zu virtual nodes:", np_vnuma_nr_vnodes(v));
        for (size_t i = 0; i < np_vnuma_nr_vnodes(v); i++) {
            char *vc = cpus_text(np_vnuma_vcpus(v, i));
            bool none = vc && !vc[0]; /* memory only (a CPU-less node) */
            const char *list = vc ? vc : "?";
            printf(" [vnode %zu: %s, %s%s, on node %u]", i,
                   cli_bytes(np_vnuma_mem_bytes(v, i), b1, sizeof(b1)),
                   none ? "no vCPUs" : "vCPUs ", none ? "" : list, np_vnuma_pnode_os_id(v, i));
            free(vc);
        }
        printf("\n");
    }
    if (!explain)
        return;
    /* The objective's terms are the guest's expected slowdown (the share
     * of its work lost, its own and what it costs the guests there), with
     * the constants of data/calibration.conf; xl42 adds libxl's own
     * criteria, which are counts. */
    printf("  cost terms (expected slowdown, %% of the guest's work; data/calibration.conf):\n");
    for (size_t i = 0; i < np_placement_nr_terms(pl); i++) {
        const char *name;
        double value;
        if (np_placement_term(pl, i, &name, &value) < 0)
            continue;
        if (strncmp(name, "libxl_", 6) == 0)
            printf("    %-22s %10.0f\n", name, value);
        else
            printf("    %-22s %9.2f%%%s\n", name, 100.0 * value,
                   strcmp(name, "headroom") == 0 ? "  (tie-break)" : "");
    }
    size_t alts = np_placement_nr_alternatives(pl);
    printf("  runners-up%s\n", alts ? ":" : ": none");
    for (size_t i = 0; i < alts; i++) {
        np_place_alt alt;
        if (np_placement_alternative(pl, i, &alt) < 0)
            continue;
        char *set = cpus_text(alt.nodes_os);
        if (alt.why_not && alt.why_not[0])
            printf("    nodes %-12s rejected: %s\n", set ? set : "?", alt.why_not);
        else
            printf("    nodes %-12s cost %.2f%%\n", set ? set : "?", 100.0 * alt.cost);
        free(set);
    }
}

static json_t *bitmap_json(const np_bitmap *m)
{
    char *s = cpus_text(m);
    json_t *j = s ? json_string(s) : json_null();
    free(s);
    return j;
}

static json_t *decision_json(const np_topology *topo, const np_guest_spec *spec,
                             const np_placement *pl, const char *emitted)
{
    json_t *o = json_object(), *nodes = json_array(), *mem = json_object();
    json_t *vcpu_nodes = json_array(), *terms = json_object(), *alts = json_array();
    json_object_set_new(o, "guest", json_string(spec->name));
    json_object_set_new(o, "policy", json_string(np_placement_policy(pl)));
    json_object_set_new(o, "fallback", json_boolean(np_placement_is_fallback(pl)));
    json_object_set_new(o, "note", json_string(np_placement_note(pl)));
    for (size_t i = 0; i < np_placement_nr_nodes(pl); i++) {
        size_t n = np_placement_node(pl, i);
        char key[16];
        uint32_t os = np_topology_node(topo, n)->os_id;
        snprintf(key, sizeof(key), "%u", os);
        json_array_append_new(nodes, json_integer(os));
        /* only the nodes that hold some of it (a node may be in the set
         * for its vCPUs alone) */
        uint64_t bytes = np_placement_node_mem_bytes(pl, n);
        if (bytes)
            json_object_set_new(mem, key, json_integer((json_int_t)bytes));
    }
    for (uint32_t v = 0; v < spec->vcpus; v++)
        json_array_append_new(vcpu_nodes,
                              json_integer(np_topology_node(topo, np_placement_vcpu_node(pl, v))->os_id));
    json_object_set_new(o, "nodes", nodes);
    json_object_set_new(o, "memory_bytes", mem);
    json_object_set_new(o, "vcpu_nodes", vcpu_nodes);
    const np_bitmap *hard = np_placement_cpus_hard(pl), *soft = np_placement_cpus_soft(pl);
    json_object_set_new(o, "cpus_hard", hard ? bitmap_json(hard) : json_null());
    json_object_set_new(o, "cpus_soft", soft ? bitmap_json(soft) : json_null());
    const np_vnuma *v = np_placement_vnuma(pl);
    if (v) {
        json_t *vn = json_array();
        for (size_t i = 0; i < np_vnuma_nr_vnodes(v); i++) {
            json_t *e = json_object(), *d = json_array();
            json_object_set_new(e, "memory_bytes", json_integer((json_int_t)np_vnuma_mem_bytes(v, i)));
            json_object_set_new(e, "vcpus", bitmap_json(np_vnuma_vcpus(v, i)));
            json_object_set_new(e, "pnode", json_integer(np_vnuma_pnode_os_id(v, i)));
            for (size_t j = 0; j < np_vnuma_nr_vnodes(v); j++)
                json_array_append_new(d, json_integer(np_vnuma_distance(v, i, j)));
            json_object_set_new(e, "distances", d);
            json_array_append_new(vn, e);
        }
        json_object_set_new(o, "vnuma", vn);
    } else {
        json_object_set_new(o, "vnuma", json_null());
    }
    json_object_set_new(o, "cost", json_real(np_placement_cost(pl)));
    for (size_t i = 0; i < np_placement_nr_terms(pl); i++) {
        const char *name;
        double value;
        if (np_placement_term(pl, i, &name, &value) == 0)
            json_object_set_new(terms, name, json_real(value));
    }
    json_object_set_new(o, "cost_terms", terms);
    for (size_t i = 0; i < np_placement_nr_alternatives(pl); i++) {
        np_place_alt alt;
        if (np_placement_alternative(pl, i, &alt) < 0)
            continue;
        json_t *a = json_object();
        json_object_set_new(a, "nodes", bitmap_json(alt.nodes_os));
        /* a rejected set has no cost (JSON has no infinity): null */
        json_object_set_new(a, "cost", isfinite(alt.cost) ? json_real(alt.cost) : json_null());
        json_object_set_new(a, "rejected", json_string(alt.why_not ? alt.why_not : ""));
        json_array_append_new(alts, a);
    }
    json_object_set_new(o, "runners_up", alts);
    if (emitted)
        json_object_set_new(o, "emitted", json_string(emitted));
    return o;
}

/* ---- the host map -------------------------------------------------------------- */

/* Node x guest table of the final state: one row per guest, one column per
 * node that holds any guest memory (a 256-node host shows only the used
 * nodes). */
static void print_host_map(const np_host_state *st)
{
    const np_topology *topo = np_host_state_topology(st);
    size_t nn = np_topology_nr_nodes(topo), ng = np_host_state_nr_guests(st);
    bool *used = calloc(nn, sizeof(*used));
    char b[32];
    if (!used)
        return;
    for (size_t g = 0; g < ng; g++)
        for (size_t n = 0; n < nn; n++)
            if (np_host_state_guest_mem_bytes(st, g, n) || np_host_state_guest_claimed_bytes(st, g, n))
                used[n] = true;
    printf("\nhost map (memory per node):\n%-16s %5s", "guest", "vcpus");
    for (size_t n = 0; n < nn; n++)
        if (used[n]) {
            char head[24];
            snprintf(head, sizeof(head), "node %u", np_topology_node(topo, n)->os_id);
            printf(" %12s", head);
        }
    printf("\n");
    for (size_t g = 0; g < ng; g++) {
        const np_guest_spec *s = np_host_state_guest_spec(st, g);
        printf("%-16s %5u", s->name, s->vcpus);
        for (size_t n = 0; n < nn; n++) {
            if (!used[n])
                continue;
            uint64_t m = np_host_state_guest_mem_bytes(st, g, n) +
                         np_host_state_guest_claimed_bytes(st, g, n);
            printf(" %12s", m ? cli_bytes(m, b, sizeof(b)) : "-");
        }
        printf("\n");
    }
    printf("%-22s", "available");
    for (size_t n = 0; n < nn; n++) {
        if (!used[n])
            continue;
        np_node_load load;
        if (np_host_state_node_load(st, n, &load) == 0)
            printf(" %12s", cli_bytes(load.mem_available_bytes, b, sizeof(b)));
    }
    printf("\n%-22s", "cpu demand/capacity");
    for (size_t n = 0; n < nn; n++) {
        if (!used[n])
            continue;
        np_node_load load;
        if (np_host_state_node_load(st, n, &load) == 0) {
            char cell[32];
            snprintf(cell, sizeof(cell), "%.1f/%.1f", load.cpu_demand, load.cpu_capacity);
            printf(" %12s", cell);
        }
    }
    printf("\n");
    free(used);
}

static json_t *host_map_json(const np_host_state *st)
{
    const np_topology *topo = np_host_state_topology(st);
    json_t *guests = json_array(), *nodes = json_array();
    for (size_t g = 0; g < np_host_state_nr_guests(st); g++) {
        const np_guest_spec *s = np_host_state_guest_spec(st, g);
        json_t *o = json_object(), *mem = json_object();
        for (size_t n = 0; n < np_topology_nr_nodes(topo); n++) {
            uint64_t m = np_host_state_guest_mem_bytes(st, g, n) +
                         np_host_state_guest_claimed_bytes(st, g, n);
            if (!m)
                continue;
            char key[16];
            snprintf(key, sizeof(key), "%u", np_topology_node(topo, n)->os_id);
            json_object_set_new(mem, key, json_integer((json_int_t)m));
        }
        json_object_set_new(o, "name", json_string(s->name));
        json_object_set_new(o, "vcpus", json_integer(s->vcpus));
        json_object_set_new(o, "memory_bytes", mem);
        json_array_append_new(guests, o);
    }
    for (size_t n = 0; n < np_topology_nr_nodes(topo); n++) {
        np_node_load load;
        if (np_host_state_node_load(st, n, &load) < 0)
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(np_topology_node(topo, n)->os_id));
        json_object_set_new(o, "available_bytes", json_integer((json_int_t)load.mem_available_bytes));
        json_object_set_new(o, "cpu_demand", json_real(load.cpu_demand));
        json_object_set_new(o, "cpu_capacity", json_real(load.cpu_capacity));
        json_array_append_new(nodes, o);
    }
    json_t *root = json_object();
    json_object_set_new(root, "guests", guests);
    json_object_set_new(root, "nodes", nodes);
    return root;
}

/* ---- driving the decisions -------------------------------------------------------- */

typedef struct place_run {
    const place_opts *o;
    np_host_state *st;
    json_t *steps; /* JSON array of decisions, or NULL for text */
    bool any_misfit;
} place_run;

/* Places one guest and records it in the host state. Returns an exit
 * status; a misfit is reported and remembered, not fatal. */
static int place_one(place_run *r, const np_guest_spec *spec, const char *origin)
{
    const np_topology *topo = np_host_state_topology(r->st);
    np_placement *pl = NULL;
    np_error err = {0};
    char *emitted = NULL;
    int status = NP_EXIT_OK;
    int rc = np_guest_spec_validate(spec, topo, &err);
    if (rc == 0)
        rc = np_place(r->st, spec, r->o->policy, &pl, &err);
    if (rc == -ENOSPC) {
        char buf[1024];
        np_error_format(&err, buf, sizeof(buf));
        if (r->steps) {
            json_t *o = json_object();
            json_object_set_new(o, "guest", json_string(spec->name));
            json_object_set_new(o, "fits", json_false());
            json_object_set_new(o, "missing", json_string(err.msg));
            json_array_append_new(r->steps, o);
        } else {
            printf("%s: fits nowhere: %s\n", spec->name, err.msg);
        }
        r->any_misfit = true;
        goto out;
    }
    if (rc < 0) {
        if (!err.origin[0] && origin)
            snprintf(err.origin, sizeof(err.origin), "%s", origin);
        status = cli_fail(rc, &err);
        goto out;
    }
    if (r->o->have_emit) {
        rc = np_emit_alloc(r->o->emit, topo, spec, pl, 0, &emitted, &err);
        if (rc < 0) {
            status = cli_fail(rc, &err);
            goto out;
        }
    }
    if (r->steps) {
        json_t *d = decision_json(topo, spec, pl, emitted);
        json_object_set_new(d, "fits", json_true());
        json_array_append_new(r->steps, d);
    } else {
        print_decision(topo, spec, pl, r->o->explain);
        if (emitted)
            printf("\n%s", emitted);
    }
    rc = np_placement_commit(r->st, spec, pl, NULL);
    if (rc < 0) {
        cli_errorf("cannot record %s in the host state: %s", spec->name, np_strerror(rc));
        status = cli_exit_status(rc);
        goto out;
    }
    size_t gidx;
    if (np_host_state_find_guest(r->st, spec->name, &gidx) == 0)
        np_host_state_populate(r->st, gidx);
out:
    free(emitted);
    np_placement_destroy(pl);
    return status;
}

static int replay_scenario(place_run *r, const np_scenario *sc)
{
    for (size_t i = 0; i < np_scenario_nr_events(sc); i++) {
        const char *guest = np_scenario_event_guest(sc, i);
        size_t gidx;
        switch (np_scenario_event_kind_of(sc, i)) {
        case NP_SCENARIO_ARRIVE: {
            int status = place_one(r, np_scenario_event_spec(sc, i), r->o->scenario);
            if (status != NP_EXIT_OK)
                return status;
            break;
        }
        case NP_SCENARIO_DEPART:
            /* A guest that did not fit is not on the host: nothing to remove. */
            if (np_host_state_remove_guest(r->st, guest) == 0 && !r->steps)
                printf("%s: departs\n", guest);
            break;
        case NP_SCENARIO_SET_DEMAND: {
            double demand = 0;
            np_scenario_event_demand(sc, i, &demand);
            if (np_host_state_find_guest(r->st, guest, &gidx) < 0)
                break;
            const np_guest_spec *s = np_host_state_guest_spec(r->st, gidx);
            for (uint32_t v = 0; v < s->vcpus; v++)
                np_host_state_set_vcpu_demand(r->st, gidx, v, demand);
            if (!r->steps)
                printf("%s: demand now %.2f per vCPU\n", guest, demand);
            break;
        }
        }
    }
    return NP_EXIT_OK;
}

static int parse_args(int argc, char **argv, place_opts *o)
{
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'},     {"format", required_argument, NULL, 'F'},
        {"vm", required_argument, NULL, 'v'},       {"scenario", required_argument, NULL, 's'},
        {"guest", required_argument, NULL, 'g'},
        {"policy", required_argument, NULL, 'p'},   {"explain", no_argument, NULL, 'x'},
        {"emit", required_argument, NULL, 'e'},     {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:F:v:g:s:p:xe:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'f': o->source = optarg; break;
        case 'F': o->format = optarg; break;
        case 'v':
        case 'g':
            if (o->nr_vms == PLACE_MAX_VMS) {
                cli_errorf("place: at most %d guests on the command line; use --scenario for more",
                           PLACE_MAX_VMS);
                return NP_EXIT_USAGE;
            }
            o->is_file[o->nr_vms] = c == 'g';
            o->vms[o->nr_vms++] = optarg;
            break;
        case 's': o->scenario = optarg; break;
        case 'p': o->policy = optarg; break;
        case 'x': o->explain = true; break;
        case 'e':
            if (np_emit_format_parse(optarg, &o->emit) < 0) {
                cli_errorf("place: --emit: expected xl, libvirt or qemu, got '%s'", optarg);
                return NP_EXIT_USAGE;
            }
            o->have_emit = true;
            break;
        case 'j': o->json = true; break;
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return NP_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_errorf("place: unexpected argument '%s'", argv[optind]);
        return NP_EXIT_USAGE;
    }
    if (!o->scenario && o->nr_vms == 0) {
        cli_errorf("place: give at least one --vm SPEC, --guest FILE or a --scenario FILE");
        return NP_EXIT_USAGE;
    }
    if (o->scenario && o->nr_vms) {
        cli_errorf("place: --vm/--guest and --scenario do not go together");
        return NP_EXIT_USAGE;
    }
    if (o->policy) {
        bool known = false;
        for (size_t i = 0; i < np_place_policy_count(); i++)
            known |= strcmp(np_place_policy_name(i), o->policy) == 0;
        if (!known) {
            cli_errorf("place: unknown --policy '%s'; `numaplace place --help` lists them", o->policy);
            return NP_EXIT_USAGE;
        }
    }
    return NP_EXIT_OK;
}

static int run(int argc, char **argv)
{
    place_opts o = {0};
    np_scenario *sc = NULL;
    np_topology *topo = NULL;
    place_run r = {&o, NULL, NULL, false};
    np_guest_spec *specs = NULL;
    np_error err = {0};
    int status = parse_args(argc, argv, &o);
    if (status < 0)
        return NP_EXIT_OK; /* --help */
    if (status != NP_EXIT_OK)
        return status;

    /* Read every input before deciding anything: a typo in the fifth --vm
     * must not leave four decisions printed. */
    if (o.scenario) {
        int rc = np_scenario_read_file(o.scenario, &sc, &err);
        if (rc < 0) {
            status = cli_fail(rc, &err);
            goto out;
        }
        if (!o.source)
            o.source = np_scenario_host(sc);
    } else {
        specs = calloc(o.nr_vms, sizeof(*specs));
        if (!specs) {
            status = NP_EXIT_INTERNAL;
            goto out;
        }
        for (size_t i = 0; i < o.nr_vms; i++) {
            int rc = o.is_file[i] ? np_guest_spec_read_file(o.vms[i], &specs[i], &err)
                                  : np_guest_spec_parse_option(o.vms[i], "--vm", &specs[i], &err);
            if (rc < 0) {
                status = cli_fail(rc, &err);
                goto out;
            }
        }
    }
    status = cli_open_topology(o.source ? o.source : "live", o.format, &topo);
    if (status != NP_EXIT_OK)
        goto out;
    /* Check every guest against the host before deciding anything. */
    size_t nr_checks = sc ? np_scenario_nr_events(sc) : o.nr_vms;
    for (size_t i = 0; i < nr_checks; i++) {
        const np_guest_spec *spec = sc ? np_scenario_event_spec(sc, i) : &specs[i];
        if (!spec)
            continue;
        int vrc = np_guest_spec_validate(spec, topo, &err);
        if (vrc < 0) {
            snprintf(err.origin, sizeof(err.origin), "%s",
                     sc ? o.scenario : (o.is_file[i] ? o.vms[i] : "--vm"));
            err.line = sc ? np_scenario_event_line(sc, i) : 0;
            status = cli_fail(vrc, &err);
            goto out;
        }
    }
    int rc = np_host_state_create(topo, &r.st);
    if (rc < 0) {
        status = cli_exit_status(rc);
        goto out;
    }
    if (o.json)
        r.steps = json_array();
    if (sc)
        status = replay_scenario(&r, sc);
    else
        for (size_t i = 0; i < o.nr_vms && status == NP_EXIT_OK; i++)
            status = place_one(&r, &specs[i], o.is_file[i] ? o.vms[i] : "--vm");
    if (status != NP_EXIT_OK)
        goto out;
    if (o.json) {
        json_t *root = json_object();
        json_object_set_new(root, "schema", json_string("numaplace.place/1"));
        json_object_set_new(root, "host", json_string(np_topology_name(topo)));
        json_object_set_new(root, "policy", json_string(o.policy ? o.policy : NP_PLACE_DEFAULT_POLICY));
        json_object_set_new(root, "decisions", r.steps);
        r.steps = NULL;
        json_object_set_new(root, "host_map", host_map_json(r.st));
        status = cli_print_json(root);
    } else if (sc || o.nr_vms > 1) {
        print_host_map(r.st);
    }
    if (status == NP_EXIT_OK && r.any_misfit)
        status = NP_EXIT_FAIL;
out:
    json_decref(r.steps);
    np_host_state_destroy(r.st);
    np_topology_destroy(topo);
    np_scenario_destroy(sc);
    free(specs);
    return status;
}

const np_cli_cmd np_cmd_place = {
    .name = "place",
    .summary = "decide where guests' vCPUs and memory go (with --emit for xl, libvirt, QEMU)",
    .run = run,
    .usage = usage,
};
