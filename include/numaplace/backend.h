/*
 * numaplace/backend.h - the one interface between numaplace's policies and
 * a system: the simulator, a Linux/KVM host or a Xen host.
 *
 * A backend is a versioned table of operations, in the manner of SQLite's
 * sqlite3_vfs: an implementation fills a `struct np_backend_ops` with the
 * operations it supports and leaves the others NULL; the wrapper functions
 * below (np_backend_topology(), np_backend_list_guests(), ...) return
 * -ENOSYS for a NULL operation and for an operation newer than the table's
 * `version`, so old implementations keep working when the table grows.
 * The clock and randomness are operations too: a policy that reads time or
 * draws random numbers through its backend runs unchanged, and
 * deterministically, against the simulator.
 *
 * Index spaces: nodes are named by their dense index in the backend's
 * topology (node_idx); CPU masks hold CPU OS ids, node masks node OS ids,
 * exactly as np_bitmap prints them in an xl.cfg or a cpuset file.
 * Guests are named by an id the backend chooses (Xen domid, QEMU pid,
 * simulator index), stable while the guest lives.
 */
#ifndef NUMAPLACE_BACKEND_H
#define NUMAPLACE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <numaplace/balance.h>
#include <numaplace/bitmap.h>
#include <numaplace/common.h>
#include <numaplace/guest.h>
#include <numaplace/hoststate.h>
#include <numaplace/topology.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_backend np_backend;

/* Version of the operations table this header describes. Version 1 holds
 * every operation up to and including `log`; version 2 adds `flags`,
 * version 3 `node_huge_free_bytes`. New
 * operations are appended and raise the version; an implementation states
 * the version it filled. */
#define NP_BACKEND_OPS_VERSION 3u

/* flags (version 2): migrate_memory may run on another thread while the
 * other operations are called (the backend locks what they share), so a
 * caller may move memory in the background while it keeps sensing. */
#define NP_BACKEND_CONCURRENT_MIGRATE 0x1u
/* A guest keeps its name when its id changes, and names are unique (Xen:
 * a save/restore move gives a domain a new domid): a caller that follows
 * guests across listings matches a new id to a known name. */
#define NP_BACKEND_NAMES_IDENTIFY 0x2u

#define NP_BACKEND_NAME_MAX 64

/* One vCPU as a backend reports it. Masks are owned by the guest list. */
typedef struct np_backend_vcpu {
    uint64_t cpu_time_ns;   /* CPU time consumed since the guest started */
    int32_t last_cpu_os_id; /* CPU it last ran on, -1 when unknown */
    np_bitmap *hard;        /* CPU os_ids it may run on; NULL = every CPU */
    np_bitmap *soft;        /* CPU os_ids it prefers; NULL = no preference */
    /* Its CPU use since the backend's previous list_guests, as a share of
     * one CPU (0..1), when demand_measured: a backend that samples run
     * time between rounds (Linux) fills it; otherwise sensing falls back
     * to cpu_time_ns over the guest's time alive. */
    bool demand_measured;
    double demand;
} np_backend_vcpu;

/* One guest as a backend reports it. Arrays are owned by the guest list and
 * sized by np_backend_guest_alloc(). */
typedef struct np_backend_guest {
    uint64_t id;
    char name[NP_BACKEND_NAME_MAX];
    uint32_t nr_vcpus;
    np_backend_vcpu *vcpus;
    size_t nr_nodes;          /* = nodes of the backend's topology */
    uint64_t *node_mem_bytes; /* memory of the guest on each node_idx */
    /* Of node_mem_bytes, what is in hugetlb pages, by page size: slot i
     * holds pages of huge_page_bytes[i] bytes (0: slot unused), and
     * node_huge_bytes[k * NP_HOST_HUGE_SIZES_MAX + i] their bytes on
     * node_idx k. A backend that does not know leaves them 0: then all of
     * the guest's memory counts as ordinary memory. */
    uint64_t huge_page_bytes[NP_HOST_HUGE_SIZES_MAX];
    uint64_t *node_huge_bytes;
    uint64_t mem_target_bytes; /* current (balloon) size */
    uint64_t maxmem_bytes;     /* balloon ceiling */
    uint64_t start_ns;         /* when it started, on the backend's clock;
                                  NP_BACKEND_TIME_UNKNOWN when not known */
    /* Hints the guest's owner gave the backend (the libvirt backend reads
     * them from the domain's <metadata>): its affinity group (group[0] ==
     * '\0': none) and the node of its heavy IO (io_node_set). Sensing puts
     * them in the guest's spec, so placement and the balancer keep them. */
    char group[NP_GUEST_NAME_MAX];
    np_group_rule group_rule;
    uint32_t group_weight;
    bool io_node_set;
    int32_t io_node_os_id;
    /* Which guest of that id this is, when ids are reused (Linux: the
     * process's start time in clock ticks; 0: the id alone says it). A
     * different instance under the same id is a new guest. */
    uint64_t instance;
    /* PCI devices passed through to it ("DDDD:BB:DD.F"; the Linux backend
     * reads QEMU's vfio-pci -device arguments). Sensing puts those the
     * topology knows in the guest's spec: the balancer never moves the
     * guest away from their nodes. */
    size_t nr_devices;
    char devices[NP_GUEST_MAX_DEVICES][NP_BDF_TEXT_MAX];
    /* The host's own domain (Xen's dom0): listed because it uses CPUs and
     * memory, never a guest for a caller to manage. */
    bool runs_host;
} np_backend_guest;

#define NP_BACKEND_TIME_UNKNOWN UINT64_MAX

/* The operations. `impl` is the pointer given to np_backend_create(). Every
 * fallible operation returns 0 or a negative errno. */
struct np_backend_ops {
    uint32_t version; /* NP_BACKEND_OPS_VERSION the implementation filled */
    const char *name; /* "sim", "linux", "xen" */

    /* A new reference to the host topology. */
    int (*topology)(void *impl, np_topology **out);
    /* Every running guest. The implementation allocates the array with
     * np_backend_guests_alloc() and each guest's arrays with
     * np_backend_guest_alloc(); the caller frees with np_backend_guests_free(). */
    int (*list_guests)(void *impl, np_backend_guest **guests_out, size_t *nr_out);
    /* Free memory a new allocation could still get on a node. */
    int (*node_free_bytes)(void *impl, size_t node_idx, uint64_t *free_out);
    /* Hard and soft affinity of one vCPU (CPU os_ids). hard NULL = every CPU,
     * soft NULL = no preference. -ENOENT for an unknown guest or vCPU. */
    int (*set_vcpu_affinity)(void *impl, uint64_t guest_id, uint32_t vcpu, const np_bitmap *hard,
                             const np_bitmap *soft);
    /* Nodes (os_ids) new memory of the guest should come from; NULL = any. */
    int (*set_guest_node_affinity)(void *impl, uint64_t guest_id, const np_bitmap *nodes);
    /* Move up to `bytes` of the guest's memory from one node to another.
     * May move less (rate limit, free memory, what the guest has there):
     * *moved_out says how much moved. */
    int (*migrate_memory)(void *impl, uint64_t guest_id, size_t from_node_idx, size_t to_node_idx,
                          uint64_t bytes, uint64_t *moved_out);
    /* The backend's clock, in ns since an arbitrary origin (monotonic). */
    int (*now_ns)(void *impl, uint64_t *now_out);
    /* 64 random bits (seeded and reproducible in the simulator). */
    int (*random)(void *impl, uint64_t *out);
    /* A log line; `subsys` is a prefix such as "balance". */
    void (*log)(void *impl, np_log_level level, const char *subsys, const char *msg);
    /* Version 2: NP_BACKEND_* flags. */
    uint32_t flags;
    /* Version 3: free bytes in a node's pool of hugetlb pages of one size
     * (the only memory a hugetlb page can migrate into); -ENOENT when the
     * node has no pool of that size. */
    int (*node_huge_free_bytes)(void *impl, size_t node_idx, uint64_t page_bytes,
                                uint64_t *free_out);
};

/* Wraps an operations table and its implementation's state. The table must
 * outlive the backend; ops->version must be 1..NP_BACKEND_OPS_VERSION
 * (-ENOTSUP otherwise). The backend does not own `impl`. */
int np_backend_create(const struct np_backend_ops *ops, void *impl, np_backend **out);
void np_backend_destroy(np_backend *be);
const char *np_backend_name(const np_backend *be);
uint32_t np_backend_version(const np_backend *be);

/* The operations; each returns -ENOSYS when the backend lacks it. */
int np_backend_topology(np_backend *be, np_topology **out);
int np_backend_list_guests(np_backend *be, np_backend_guest **guests_out, size_t *nr_out);
int np_backend_node_free_bytes(np_backend *be, size_t node_idx, uint64_t *free_out);
int np_backend_node_huge_free_bytes(np_backend *be, size_t node_idx, uint64_t page_bytes,
                                    uint64_t *free_out);
int np_backend_set_vcpu_affinity(np_backend *be, uint64_t guest_id, uint32_t vcpu,
                                 const np_bitmap *hard, const np_bitmap *soft);
int np_backend_set_guest_node_affinity(np_backend *be, uint64_t guest_id, const np_bitmap *nodes);
int np_backend_migrate_memory(np_backend *be, uint64_t guest_id, size_t from_node_idx,
                              size_t to_node_idx, uint64_t bytes, uint64_t *moved_out);
int np_backend_now_ns(np_backend *be, uint64_t *now_out);
int np_backend_random(np_backend *be, uint64_t *out);
/* The table's flags (0 for a version 1 table). */
uint32_t np_backend_flags(const np_backend *be);
/* Logging never fails: without a log operation the line is dropped. */
void np_backend_log(np_backend *be, np_log_level level, const char *subsys, const char *msg);

/* Guest lists: a zeroed array of nr guests, the per-guest arrays, and one
 * call that frees all of it (NULL ok). */
int np_backend_guests_alloc(size_t nr, np_backend_guest **out);
int np_backend_guest_alloc(np_backend_guest *g, uint32_t nr_vcpus, size_t nr_nodes);
void np_backend_guests_free(np_backend_guest *guests, size_t nr);

/* A new host state filled from what the backend reports: its topology,
 * each node's free memory, the free pool of every hugetlb page size a
 * guest uses (a node without one, or a backend without the operation:
 * left unmeasured, which the balancer counts as empty), and every running
 * guest with its per-node memory (populated; its hugetlb share by size), balloon target and maximum, vCPU affinities, the CPU
 * each vCPU last ran on, and each vCPU's demand: what the backend measured
 * since its previous list (demand_measured), else CPU time over time alive
 * (1.0 while a guest is younger than NP_SENSE_MIN_AGE_NS or its start is
 * unknown: a vCPU never measured counts as busy). Guest names that are empty or repeat get "#<id>"
 * appended (host states need unique names). Needs the topology and
 * list_guests operations; missing ones give -ENOSYS. */
#define NP_SENSE_MIN_AGE_NS UINT64_C(1000000000) /* 1 s: shorter lives measure noise */
int np_backend_sense(np_backend *be, np_host_state **out);
/* The same from a guest list the caller already has (from
 * np_backend_list_guests): sensing a guest's memory can cost seconds for a
 * large guest (docs/results-linux.md), so a caller that listed the guests
 * this round does not list them twice. */
int np_backend_sense_guests(np_backend *be, const np_backend_guest *guests, size_t nr,
                            np_host_state **out);

/* ---- act: the one way a balancer's decision reaches a backend ------------------ */

/* A migration moves in steps of at most this: 4 MiB (1024 pages; 2-5 ms of
 * copying at the 2-5 us a page of real hardware), so a caller regains
 * control (pacing, progress, cancel) after each; on the TCG test guest a
 * 16 MiB step once took 12 s. The simulator's runs step the same way. */
#define NP_BACKEND_MIGRATE_STEP_BYTES (UINT64_C(4) << 20)

typedef struct np_backend_act_hooks {
    uint64_t step_bytes; /* largest migration step; 0: NP_BACKEND_MIGRATE_STEP_BYTES */
    /* After each migration step that moved something, with the bytes moved
     * so far by this action; false stops the migration (a cancel, the
     * guest excluded). May wait (pacing). NULL: go on. */
    bool (*step_done)(void *opaque, uint64_t moved_bytes);
    void *opaque;
} np_backend_act_hooks;

/* Applies one action np_balance() decided, for the guest `guest_id` of the
 * backend, `st` being the host state it was decided on: soft affinity to
 * the vCPUs it names (each keeps the hard mask `st` has for it, so a
 * steered vCPU stays within what its owner allows), node affinity, or a
 * memory migration in steps until the action's bytes have moved or a step
 * comes up short (nothing more the backend can move from that node) or
 * step_done says stop. The daemon and the simulator's policy both call
 * this: what the simulator shows is what the daemon does. *moved_out: the
 * bytes a migration moved (0 for the others). hooks may be NULL; st may be
 * NULL for a migration (-EINVAL for the other kinds). */
int np_backend_act(np_backend *be, const np_host_state *st, uint64_t guest_id,
                   const np_balance_action *a, const np_backend_act_hooks *hooks,
                   uint64_t *moved_out);

#ifdef __cplusplus
}
#endif
#endif /* NUMAPLACE_BACKEND_H */
