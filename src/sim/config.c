/*
 * sim/config.c - defaults of the simulator's inputs: the host and
 * scheduler configuration, vCPU loads and guests. Every default is a named
 * constant with its unit and its reason; docs/simulator.md has the sources.
 */
#include <numaplace/sim.h>

#include <string.h>

#include "sim/calib.h"

/* Xen credit1: sched_credit_tslice_ms default 30, ticks of 10 ms
 * (CSCHED_TICKS_PER_TSLICE 3), domain weight 256. */
#define SIM_TSLICE_NS UINT64_C(30000000)
#define SIM_TICK_NS UINT64_C(10000000)
#define SIM_DEFAULT_WEIGHT 256u
/* An IPI and the trip into the scheduler on the target CPU: a few us. */
#define SIM_WAKE_LATENCY_NS UINT64_C(2000)
#define SIM_PAGE_BYTES UINT64_C(4096)
/* Bandwidth utilisation is averaged over 100 ms: long enough to smooth
 * scheduling noise, short enough to follow phases of a workload. */
#define SIM_EPOCH_NS UINT64_C(100000000)
/* Migration: Linux's historical NUMA-balancing cap was 128 MB per 100 ms
 * (1.28 GB/s); chunks of ~20 ms worth keep a guest's stalls short
 * (katalyst move_pages chunks). One copy runs at about a core's
 * streaming bandwidth. */
#define SIM_MIGRATE_LIMIT_BPS UINT64_C(1280000000)
#define SIM_MIGRATE_BURST_BYTES (UINT64_C(128) << 20)
#define SIM_MIGRATE_COPY_BPS UINT64_C(4000000000)
/* Per vCPU Xen keeps a struct vcpu page, a VMCS/VMCB page, MSR bitmaps and
 * a vLAPIC page: about 16 KiB. */
#define SIM_VCPU_INTERNAL_BYTES (UINT64_C(16) << 10)
/* A VM context switch without cache misses into the vCPU's state, and
 * the dependent misses into it (data/calibration.conf, assumed). */
#define SIM_CTXSW_BASE_NS ((uint64_t)NP_CALIB_CTXSW_BASE_NS)
#define SIM_CTXSW_MISSES ((uint32_t)NP_CALIB_CTXSW_MISSES)
/* A guest kernel that sees vNUMA keeps most, not all, of a vCPU's
 * accesses on its virtual node: the calibration's cross-vnode share
 * (assumed) is the rest, the same figure placement charges. */
#define SIM_VNUMA_LOCALITY (1.0 - NP_CALIB_VNUMA_CROSS_FRACTION)
/* KSM's default pace merges a few thousand pages per second; one scan a
 * second of the whole picture is an upper bound on its effect. */
#define SIM_SHARE_SCAN_NS UINT64_C(1000000000)
#define SIM_SAMPLE_NS UINT64_C(1000000000)
/* ESXi rebalances every 2 s (Numa.RebalancePeriod). */
#define SIM_REBALANCE_NS UINT64_C(2000000000)

/* Workload defaults. */
#define SIM_BURSTY_DUTY 0.5
#define SIM_BURSTY_WORK_NS UINT64_C(5000000)
#define SIM_IDLE_DUTY 0.01
#define SIM_IDLE_WORK_NS UINT64_C(200000)
#define SIM_MEM_INTENSITY NP_CALIB_MEM_STALL_FRACTION /* placement's assumption too */
#define SIM_WORKING_SET_BYTES (UINT64_C(256) << 20)
#define SIM_GUEST_MEM_BYTES (UINT64_C(1) << 30)

void np_sim_config_init(np_sim_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->seed = 1;
    cfg->tslice_ns = SIM_TSLICE_NS;
    cfg->tick_ns = SIM_TICK_NS;
    cfg->default_weight = SIM_DEFAULT_WEIGHT;
    cfg->wake_latency_ns = SIM_WAKE_LATENCY_NS;
    cfg->page_bytes = SIM_PAGE_BYTES;
    cfg->local_latency_ns = NP_SIM_LOCAL_LATENCY_NS;
    cfg->latency_per_distance = NP_SIM_LATENCY_PER_DISTANCE;
    cfg->node_bandwidth_bps = NP_SIM_NODE_BANDWIDTH_BPS;
    cfg->remote_bandwidth_ratio = NP_SIM_REMOTE_BANDWIDTH_RATIO;
    cfg->core_bandwidth_bps = NP_SIM_CORE_BANDWIDTH_BPS;
    cfg->epoch_ns = SIM_EPOCH_NS;
    cfg->migrate_limit_bps = SIM_MIGRATE_LIMIT_BPS;
    cfg->migrate_burst_bytes = SIM_MIGRATE_BURST_BYTES;
    cfg->migrate_copy_bps = SIM_MIGRATE_COPY_BPS;
    cfg->vcpu_internal_bytes = SIM_VCPU_INTERNAL_BYTES;
    cfg->ctxsw_base_ns = SIM_CTXSW_BASE_NS;
    cfg->ctxsw_misses = SIM_CTXSW_MISSES;
    cfg->internal_follow_plan = true;
    cfg->internal_default_node = 0;
    cfg->vnuma_locality = SIM_VNUMA_LOCALITY;
    cfg->share_mode = NP_SIM_SHARE_OFF;
    cfg->share_scan_ns = SIM_SHARE_SCAN_NS;
    cfg->sample_ns = SIM_SAMPLE_NS;
    cfg->rebalance_ns = SIM_REBALANCE_NS;
}

void np_sim_vcpu_load_init(np_sim_vcpu_load *load, np_sim_pattern pattern)
{
    memset(load, 0, sizeof(*load));
    load->pattern = pattern;
    load->mem_intensity = SIM_MEM_INTENSITY;
    load->working_set_bytes = SIM_WORKING_SET_BYTES;
    switch (pattern) {
    case NP_SIM_BURSTY:
        load->duty = SIM_BURSTY_DUTY;
        load->burst_work_ns = SIM_BURSTY_WORK_NS;
        break;
    case NP_SIM_IDLE:
        load->duty = SIM_IDLE_DUTY;
        load->burst_work_ns = SIM_IDLE_WORK_NS;
        break;
    case NP_SIM_STEADY:
    default:
        load->pattern = NP_SIM_STEADY;
        load->duty = 1.0;
        break;
    }
}

void np_sim_guest_init(np_sim_guest *g)
{
    memset(g, 0, sizeof(*g));
    /* The same defaults as np_guest_spec_init(), without needing it. */
    g->spec.vcpus = 1;
    g->spec.mem_bytes = SIM_GUEST_MEM_BYTES;
    g->spec.maxmem_bytes = SIM_GUEST_MEM_BYTES;
    g->spec.io_node_os_id = -1;
    g->spec.group_weight = NP_GROUP_WEIGHT_DEFAULT;
    g->spec.vnuma_nodes = NP_VNUMA_AUTO;
    g->spec.affinity = NP_AFFINITY_SOFT;
    g->spec.cpu_demand = 1.0;
    np_sim_vcpu_load_init(&g->load, NP_SIM_STEADY);
}
