/*
 * emit/dom0.c - Xen boot options for Dom0 from the host topology.
 *
 * Dom0 runs the backends of every guest's disks and network (blkback,
 * netback, device models), so its vCPUs and memory belong where the IO
 * devices are: a packet or block that crosses nodes twice (device to Dom0,
 * Dom0 to guest) pays the remote cost twice. The rules, in order:
 *
 *  1. Score each node by the IO devices attached to it, weighting what Dom0
 *     drives for guests (NICs, NVMe and other storage controllers, Fibre
 *     Channel, InfiniBand) above what it does not (bridges, USB, GPUs,
 *     which are usually passed through). A CPU-less node's score goes to
 *     the nearest node with CPUs.
 *  2. dom0_nodes = the best node, plus each node scoring at least half of
 *     it, at most NP_DOM0_RULE_MAX_NODES. With no locality known: the
 *     first node (ties and the unknown case prefer the lowest os_id).
 *  3. dom0_max_vcpus = a quarter of those nodes' CPUs, 2..16.
 *  4. dom0_mem = 1 GiB + 1/64 of host memory, at most 8 GiB and half the
 *     chosen nodes' memory, fixed with max: so Dom0 never balloons.
 *  5. strict by default (Xen's default), relaxed on request; dom0_vcpus_pin
 *     only when Dom0 has CPUs to itself.
 * Sources: Xen's docs/misc/xen-command-line.pandoc (dom0_nodes: "Default:
 * strict", values are ACPI PXMs, "relaxed sets up vCPU affinities to prefer
 * but be not limited to the specified node(s)"; dom0_mem max: sets the
 * balloon maximum and autoballooning should be disabled; dom0_vcpus_pin
 * default false). The numbers in 3 and 4 are numaplace's choices, explained
 * at each constant; docs/emit.md repeats the rules.
 */
#include <numaplace/emit.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "emit/emit_model.h"

/* Rule 1: how much a device on a node pulls Dom0 there. Dom0 forwards
 * every guest packet (netback) and block request (blkback), so NICs and
 * storage count most; NVMe queues are per CPU and most sensitive to a
 * remote hop. Bridges, USB, display and accelerators carry no guest IO
 * through Dom0 in the usual set-up. */
#define NP_DOM0_WEIGHT_NVME 4u
#define NP_DOM0_WEIGHT_NIC 4u
#define NP_DOM0_WEIGHT_STORAGE 3u /* SATA, SAS, RAID, Fibre Channel, InfiniBand */
#define NP_DOM0_WEIGHT_UNKNOWN 1u /* a device whose class the source did not give */
#define NP_DOM0_WEIGHT_OTHER 1u
/* Rule 2: a second node joins when it has at least this share of the best
 * node's IO score, percent: a node with half the IO traffic loses more by
 * crossing than Dom0 loses by spanning two nodes. */
#define NP_DOM0_JOIN_PCT 50u
/* Rule 2: Dom0 on more than two nodes is no longer local to anything. */
#define NP_DOM0_RULE_MAX_NODES 2u
/* Rule 3: a quarter of the nodes' CPUs covers backend threads for their
 * devices; 2 keeps one vCPU free while another handles an interrupt; 16
 * is where Dom0 starts competing with guests for no further IO gain. */
#define NP_DOM0_CPU_DIVISOR 4u
#define NP_DOM0_VCPUS_MIN 2u
#define NP_DOM0_VCPUS_MAX 16u
/* Rule 4: 1 GiB runs a Dom0 kernel, toolstack and backends; per-guest
 * bookkeeping (grant mappings, device model state) grows with how much
 * guest memory there is, 1/64 of it; 8 GiB is ample even for big hosts.
 * Half a node's memory at most leaves the rest of the node to guests. */
#define NP_DOM0_MEM_BASE_BYTES (UINT64_C(1) << 30)
#define NP_DOM0_MEM_HOST_DIVISOR 64u
#define NP_DOM0_MEM_MAX_BYTES (UINT64_C(8) << 30)
#define NP_DOM0_MEM_NODE_PCT 50u
/* Dom0 memory is rounded to this granule (Xen takes M suffixes). */
#define NP_DOM0_MEM_ALIGN_BYTES (UINT64_C(256) << 20)

static void reason(np_dom0_rec *rec, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void reason(np_dom0_rec *rec, const char *fmt, ...)
{
    if (rec->nr_reasons >= NP_DOM0_MAX_REASONS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rec->reasons[rec->nr_reasons++], NP_DOM0_REASON_MAX, fmt, ap);
    va_end(ap);
}

static unsigned device_weight(const np_pci_info *d)
{
    uint32_t cls = d->class_code >> 16, sub = (d->class_code >> 8) & 0xff;
    if (d->class_code == 0)
        return NP_DOM0_WEIGHT_UNKNOWN;
    if (cls == 0x01 && sub == 0x08)
        return NP_DOM0_WEIGHT_NVME;
    if (cls == 0x01)
        return NP_DOM0_WEIGHT_STORAGE;
    if (cls == 0x02)
        return NP_DOM0_WEIGHT_NIC;
    if (cls == 0x0c && (sub == 0x04 || sub == 0x06)) /* Fibre Channel, InfiniBand */
        return NP_DOM0_WEIGHT_STORAGE;
    if (cls == 0x06 || cls == 0x0c || cls == 0x03 || cls == 0x08 || cls == 0x0b ||
        cls == 0x12 || cls == 0x04)
        return 0;
    return NP_DOM0_WEIGHT_OTHER;
}

static bool usable(const np_topology *topo, size_t idx)
{
    const np_node_info *n = np_topology_node(topo, idx);
    return n->nr_cpus > 0 && n->mem_total_bytes > 0;
}

/* The usable node nearest to idx (itself when usable); ties: lower os_id,
 * which the ascending index order gives. */
static size_t nearest_usable(const np_topology *topo, size_t idx)
{
    size_t best = SIZE_MAX;
    for (size_t j = 0; j < np_topology_nr_nodes(topo); j++) {
        if (!usable(topo, j))
            continue;
        if (best == SIZE_MAX ||
            np_topology_distance(topo, idx, j) < np_topology_distance(topo, idx, best))
            best = j;
    }
    return best;
}

static void choose_nodes(const np_topology *topo, np_dom0_rec *rec, bool *chosen)
{
    size_t n = np_topology_nr_nodes(topo);
    uint64_t score[NP_TOPO_MAX_NODES] = {0};
    unsigned unplaced = 0, counted = 0;

    for (size_t i = 0; i < np_topology_nr_devices(topo); i++) {
        const np_pci_info *d = np_topology_device(topo, i);
        unsigned w = device_weight(d);
        if (w == 0)
            continue;
        if (d->node_idx < 0 || (size_t)d->node_idx >= n) {
            unplaced++;
            continue;
        }
        score[nearest_usable(topo, (size_t)d->node_idx)] += w;
        counted++;
    }
    if (unplaced)
        reason(rec, "%u IO device(s) have no known node (firmware gave no locality) and were "
                    "not counted",
               unplaced);

    size_t best = SIZE_MAX;
    for (size_t i = 0; i < n; i++)
        if (usable(topo, i) && (best == SIZE_MAX || score[i] > score[best]))
            best = i;
    chosen[best] = true;
    rec->nr_nodes = 1;
    if (score[best] == 0) {
        reason(rec, "no IO device with a known node: node %u, the first node with CPUs and "
                    "memory (platform IO usually hangs off the first socket)",
               np_topology_node(topo, best)->os_id);
        return;
    }
    reason(rec, "node %u carries the most Dom0 IO (score %" PRIu64 " from %u weighted "
                "device(s): NIC/NVMe 4, other storage 3)",
           np_topology_node(topo, best)->os_id, score[best], counted);
    while (rec->nr_nodes < NP_DOM0_RULE_MAX_NODES) {
        size_t next = SIZE_MAX;
        for (size_t i = 0; i < n; i++)
            if (!chosen[i] && usable(topo, i) && score[i] > 0 &&
                (next == SIZE_MAX || score[i] > score[next]))
                next = i;
        if (next == SIZE_MAX || score[next] * 100 < score[best] * NP_DOM0_JOIN_PCT)
            break;
        chosen[next] = true;
        rec->nr_nodes++;
        reason(rec, "node %u joins: its IO score %" PRIu64 " is at least %u%% of node %u's",
               np_topology_node(topo, next)->os_id, score[next], NP_DOM0_JOIN_PCT,
               np_topology_node(topo, best)->os_id);
    }
}

int np_dom0_recommend(const np_topology *topo, const np_dom0_options *options,
                      np_dom0_rec *out)
{
    np_dom0_options opt = {0};
    np_dom0_rec rec;
    bool chosen[NP_TOPO_MAX_NODES] = {false};
    size_t n;

    if (!topo || !out)
        return -EINVAL;
    if (options)
        opt = *options;
    memset(&rec, 0, sizeof(rec));
    n = np_topology_nr_nodes(topo);
    bool any = false;
    for (size_t i = 0; i < n; i++)
        any = any || usable(topo, i);
    if (!any)
        return -EINVAL;

    choose_nodes(topo, &rec, chosen);
    uint32_t cpus = 0;
    uint64_t node_mem = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!chosen[i])
            continue;
        rec.nodes_os[k++] = np_topology_node(topo, i)->os_id;
        cpus += np_topology_node(topo, i)->nr_cpus;
        node_mem += np_topology_node(topo, i)->mem_total_bytes;
    }

    if (opt.max_vcpus) {
        rec.max_vcpus = opt.max_vcpus;
        reason(&rec, "dom0_max_vcpus=%u as asked%s", opt.max_vcpus,
               opt.max_vcpus > cpus ? " (more than the nodes' CPUs: they will share)" : "");
    } else {
        uint32_t v = cpus / NP_DOM0_CPU_DIVISOR;
        v = v < NP_DOM0_VCPUS_MIN ? NP_DOM0_VCPUS_MIN : v > NP_DOM0_VCPUS_MAX ? NP_DOM0_VCPUS_MAX : v;
        rec.max_vcpus = v < cpus ? v : cpus;
        reason(&rec, "dom0_max_vcpus=%u: a quarter of the nodes' %u CPUs, kept within %u..%u "
                     "and the CPUs there",
               rec.max_vcpus, cpus, NP_DOM0_VCPUS_MIN, NP_DOM0_VCPUS_MAX);
    }

    if (opt.mem_bytes) {
        rec.mem_bytes = np_emit_mib_ceil(opt.mem_bytes) * NP_MIB_BYTES;
        reason(&rec, "dom0_mem=%" PRIu64 "M as asked%s", rec.mem_bytes / NP_MIB_BYTES,
               rec.mem_bytes > node_mem ? " (more than the nodes hold: some will be remote)" : "");
    } else {
        uint64_t host = np_topology_mem_total_bytes(topo);
        uint64_t m = NP_DOM0_MEM_BASE_BYTES + host / NP_DOM0_MEM_HOST_DIVISOR;
        /* node_mem * pct / 100 without overflowing or losing the remainder */
        uint64_t cap = node_mem / 100 * NP_DOM0_MEM_NODE_PCT +
                       node_mem % 100 * NP_DOM0_MEM_NODE_PCT / 100;
        if (m > NP_DOM0_MEM_MAX_BYTES)
            m = NP_DOM0_MEM_MAX_BYTES;
        if (m > cap)
            m = cap;
        m = (m + NP_DOM0_MEM_ALIGN_BYTES - 1) / NP_DOM0_MEM_ALIGN_BYTES * NP_DOM0_MEM_ALIGN_BYTES;
        if (m > cap) /* rounding up must not break the cap */
            m = cap / NP_MIB_BYTES * NP_MIB_BYTES;
        rec.mem_bytes = m;
        reason(&rec, "dom0_mem=%" PRIu64 "M,max:%" PRIu64 "M: 1 GiB + 1/64 of host memory, at "
                     "most 8 GiB and half the nodes' memory; fixed, so Dom0 never balloons "
                     "(set autoballoon=0 in xl.conf, as Xen's dom0_mem documentation advises)",
               m / NP_MIB_BYTES, m / NP_MIB_BYTES);
    }

    rec.relaxed = opt.relaxed;
    reason(&rec, rec.relaxed
                     ? "relaxed: Dom0 vCPUs prefer but are not limited to the nodes' CPUs"
                     : "strict (Xen's default for dom0_nodes): Dom0 vCPUs run only on the "
                       "nodes' CPUs and its memory comes from them");
    reason(&rec, "dom0_nodes takes ACPI proximity domains; numaplace writes node numbers, which "
                 "match PXMs when the SRAT numbers them 0..n-1 (check dmesg SRAT lines)");
    rec.vcpus_pin = opt.dedicated_cpus;
    reason(&rec, rec.vcpus_pin
                     ? "dom0_vcpus_pin: Dom0 has CPUs to itself, so pinning each vCPU to one "
                       "CPU costs nothing and keeps caches warm"
                     : "no dom0_vcpus_pin: guests share Dom0's CPUs, and a pinned Dom0 vCPU "
                       "would wait behind them; the node restriction already keeps it local");

    size_t pos = 0;
    pos += (size_t)snprintf(rec.cmdline + pos, sizeof(rec.cmdline) - pos, "dom0_nodes=");
    for (size_t i = 0; i < rec.nr_nodes && pos < sizeof(rec.cmdline); i++)
        pos += (size_t)snprintf(rec.cmdline + pos, sizeof(rec.cmdline) - pos, "%s%u",
                                i ? "," : "", rec.nodes_os[i]);
    if (pos < sizeof(rec.cmdline))
        pos += (size_t)snprintf(rec.cmdline + pos, sizeof(rec.cmdline) - pos,
                                "%s dom0_max_vcpus=%u dom0_mem=%" PRIu64 "M,max:%" PRIu64 "M%s",
                                rec.relaxed ? ",relaxed" : "", rec.max_vcpus,
                                rec.mem_bytes / NP_MIB_BYTES, rec.mem_bytes / NP_MIB_BYTES,
                                rec.vcpus_pin ? " dom0_vcpus_pin" : "");
    *out = rec;
    return 0;
}
