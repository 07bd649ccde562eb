/*
 * spec/guest_spec.c - defaults and validation of a guest specification.
 *
 * Every reader (command-line option, JSON, xl.cfg, libvirt XML) starts from
 * np_guest_spec_init() and ends with np_guest_spec_validate(), so the rules
 * below are the one place that says what a well-formed guest is. Validation
 * against a host checks only what can never fit (more vCPUs than the host
 * has CPUs, more memory than it has in total, a device it does not have);
 * whether the guest fits *now* is placement's question.
 */
#include <numaplace/guest.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/text.h"

void np_guest_spec_init(np_guest_spec *spec)
{
    memset(spec, 0, sizeof(*spec));
    spec->io_node_os_id = -1;
    spec->group_rule = NP_GROUP_NONE;
    spec->group_weight = NP_GROUP_WEIGHT_DEFAULT;
    spec->vnuma_nodes = NP_VNUMA_AUTO;
    spec->affinity = NP_AFFINITY_SOFT;
    spec->cpu_demand = 1.0;
}

uint64_t np_guest_spec_maxmem_bytes(const np_guest_spec *spec)
{
    return spec->maxmem_bytes > spec->mem_bytes ? spec->maxmem_bytes : spec->mem_bytes;
}

const char *np_affinity_mode_name(np_affinity_mode mode)
{
    switch (mode) {
    case NP_AFFINITY_SOFT: return "soft";
    case NP_AFFINITY_HARD: return "hard";
    case NP_AFFINITY_NONE: return "none";
    }
    return "unknown";
}

const char *np_group_rule_name(np_group_rule rule)
{
    switch (rule) {
    case NP_GROUP_NONE: return "none";
    case NP_GROUP_COLOCATE: return "colocate";
    case NP_GROUP_SPREAD: return "spread";
    }
    return "unknown";
}

/* A fixed-size text field must hold a NUL within its size. */
static bool field_terminated(const char *field, size_t size)
{
    return memchr(field, '\0', size) != NULL;
}

/* The checks that need no host. */
static int validate_alone(const np_guest_spec *s, np_error *err)
{
    if (!field_terminated(s->name, sizeof(s->name)))
        return np_error_set(err, NULL, 0, "guest name longer than %d bytes",
                            NP_GUEST_NAME_MAX - 1);
    if (s->vcpus < 1 || s->vcpus > NP_GUEST_MAX_VCPUS)
        return np_error_set(err, NULL, 0, "vcpus must be 1..%u, got %u", NP_GUEST_MAX_VCPUS,
                            s->vcpus);
    if (s->mem_bytes == 0)
        return np_error_set(err, NULL, 0, "memory must be more than 0 bytes");
    if (s->maxmem_bytes != 0 && s->maxmem_bytes < s->mem_bytes)
        return np_error_set(err, NULL, 0,
                            "maxmem (%llu bytes) must be at least memory (%llu bytes)",
                            (unsigned long long)s->maxmem_bytes,
                            (unsigned long long)s->mem_bytes);
    if (s->nr_devices > NP_GUEST_MAX_DEVICES)
        return np_error_set(err, NULL, 0, "at most %d passthrough devices, got %zu",
                            NP_GUEST_MAX_DEVICES, s->nr_devices);
    for (size_t i = 0; i < s->nr_devices; i++) {
        uint32_t dom;
        uint8_t bus, dev, fn;
        if (!field_terminated(s->devices[i], sizeof(s->devices[i])) ||
            np_pci_parse_bdf(s->devices[i], &dom, &bus, &dev, &fn) < 0)
            return np_error_set(err, NULL, 0,
                                "device %zu: expected a PCI address DDDD:BB:DD.F or BB:DD.F", i);
    }
    if (s->io_node_os_id < -1)
        return np_error_set(err, NULL, 0, "io node must be a node number or -1, got %d",
                            (int)s->io_node_os_id);
    if (!field_terminated(s->group, sizeof(s->group)))
        return np_error_set(err, NULL, 0, "group name longer than %d bytes",
                            NP_GUEST_NAME_MAX - 1);
    if (s->group_rule != NP_GROUP_NONE && s->group_rule != NP_GROUP_COLOCATE &&
        s->group_rule != NP_GROUP_SPREAD)
        return np_error_set(err, NULL, 0, "unknown group rule %d", (int)s->group_rule);
    if (s->group[0] && s->group_rule == NP_GROUP_NONE)
        return np_error_set(err, NULL, 0, "group \"%s\" needs a rule: colocate or spread",
                            s->group);
    if (!s->group[0] && s->group_rule != NP_GROUP_NONE)
        return np_error_set(err, NULL, 0, "group rule %s without a group name",
                            np_group_rule_name(s->group_rule));
    if (s->group[0] && (s->group_weight < 1 || s->group_weight > NP_GROUP_WEIGHT_MAX))
        return np_error_set(err, NULL, 0, "group weight must be 1..%u, got %u",
                            NP_GROUP_WEIGHT_MAX, s->group_weight);
    if (s->vnuma_nodes < NP_VNUMA_AUTO || s->vnuma_nodes > NP_VNUMA_MAX_NODES)
        return np_error_set(err, NULL, 0, "vnuma must be auto, off or 1..%d, got %d",
                            NP_VNUMA_MAX_NODES, (int)s->vnuma_nodes);
    if (s->vnuma_nodes > 0 && (uint32_t)s->vnuma_nodes > s->vcpus)
        return np_error_set(err, NULL, 0,
                            "vnuma=%d needs at least one vCPU per virtual node, the guest has %u",
                            (int)s->vnuma_nodes, s->vcpus);
    if (s->vnuma_nodes > 0 &&
        np_guest_spec_maxmem_bytes(s) < (uint64_t)s->vnuma_nodes * (UINT64_C(1) << 20))
        return np_error_set(err, NULL, 0,
                            "vnuma=%d needs at least 1 MiB of memory per virtual node",
                            (int)s->vnuma_nodes);
    if (s->affinity != NP_AFFINITY_SOFT && s->affinity != NP_AFFINITY_HARD &&
        s->affinity != NP_AFFINITY_NONE)
        return np_error_set(err, NULL, 0, "unknown affinity mode %d", (int)s->affinity);
    if (!(s->cpu_demand >= 0.0 && s->cpu_demand <= 1.0)) /* also rejects NaN */
        return np_error_set(err, NULL, 0, "cpu demand must be 0..1, got %g", s->cpu_demand);
    return 0;
}

/* The checks against a host: what could never fit. */
static int validate_on_host(const np_guest_spec *s, const np_topology *topo, np_error *err)
{
    char have[32], want[32];

    if (s->vcpus > np_topology_nr_cpus(topo))
        return np_error_set(err, NULL, 0, "the guest has %u vCPUs but host %s has only %zu CPUs",
                            s->vcpus, np_topology_name(topo), np_topology_nr_cpus(topo));
    if (np_guest_spec_maxmem_bytes(s) > np_topology_mem_total_bytes(topo)) {
        uint64_t w = np_guest_spec_maxmem_bytes(s), h = np_topology_mem_total_bytes(topo);
        np_format_bytes(w, want, sizeof(want));
        np_format_bytes(h, have, sizeof(have));
        /* 31.97 GiB shows as "32.0 GiB": when the rounded figures do not
         * show the shortfall, say the bytes */
        const char *wu = strchr(want, ' '), *hu = strchr(have, ' ');
        if (wu && hu && strcmp(wu, hu) == 0 && strtod(have, NULL) >= strtod(want, NULL))
            return np_error_set(err, NULL, 0,
                                "the guest needs %s (%llu bytes) of memory but host %s has only "
                                "%llu bytes",
                                want, (unsigned long long)w, np_topology_name(topo),
                                (unsigned long long)h);
        return np_error_set(err, NULL, 0, "the guest needs %s of memory but host %s has only %s",
                            want, np_topology_name(topo), have);
    }
    for (size_t i = 0; i < s->nr_devices; i++) {
        size_t idx;
        if (np_topology_device_find(topo, s->devices[i], &idx) < 0)
            return np_error_set(err, NULL, 0, "device %s is not on host %s", s->devices[i],
                                np_topology_name(topo));
    }
    if (s->io_node_os_id >= 0) {
        size_t idx;
        if (np_topology_node_idx(topo, (uint32_t)s->io_node_os_id, &idx) < 0)
            return np_error_set(err, NULL, 0, "io node %d is not a node of host %s",
                                (int)s->io_node_os_id, np_topology_name(topo));
    }
    return 0;
}

int np_guest_spec_validate(const np_guest_spec *spec, const np_topology *topo, np_error *err)
{
    if (!spec)
        return -EINVAL;
    int rc = validate_alone(spec, err);
    if (rc == 0 && topo)
        rc = validate_on_host(spec, topo, err);
    return rc;
}
