/*
 * xen/xen_int.h - translation between libxl's types and numaplace's, kept
 * apart from the calls into libxl so it is tested on synthetic libxl data
 * (tests/unit/test_xen_translate.c) on a machine without Xen.
 */
#ifndef NP_XEN_INT_H
#define NP_XEN_INT_H

#include <libxl.h>

#include <numaplace/backend.h>
#include <numaplace/bitmap.h>
#include <numaplace/guest.h>
#include <numaplace/place.h>
#include <numaplace/topology.h>
#include <numaplace/xen.h>

/* A libxl error code (ERROR_*, negative) as a negative errno. */
int np_xen_errno(int libxl_rc);
/* libxl's name for its error code ("ERROR_DOMAIN_NOTFOUND"), for logs. */
const char *np_xen_error_name(int libxl_rc);

/* A topology from what libxl_get_numainfo, libxl_get_cpu_topology and
 * libxl_get_pci_topology return. Entries libxl marks invalid (absent node,
 * offline CPU, device without a node) are skipped or read as unknown.
 * -EINVAL with err filled (origin "xen") when the data is inconsistent. */
int np_xen_topology_from_libxl(const libxl_numainfo *numa, int nr_nodes,
                               const libxl_cputopology *cpus, int nr_cpus,
                               const libxl_pcitopology *devs, int nr_devs, np_topology **out,
                               np_error *err);

/* libxl_bitmap <-> np_bitmap (bit i = CPU or node os_id i). The libxl one
 * is allocated with calloc, freed by libxl_bitmap_dispose() or free(map). */
int np_xen_bitmap_to_np(const libxl_bitmap *lb, np_bitmap **out);
int np_xen_bitmap_from_np(const np_bitmap *map, uint32_t nr_bits, libxl_bitmap *out);

/* One vCPU of libxl_list_vcpu as a backend vCPU. A mask holding every CPU
 * of `topo` reads as no restriction (NULL), as xl prints it "all". */
int np_xen_vcpu_from_libxl(const libxl_vcpuinfo *vi, const np_topology *topo,
                           np_backend_vcpu *out);

/* Per-node memory of domain `domid` from a `u` dump, by the topology's
 * node_idx, in bytes. -ENOENT when the dump does not list the domain. */
int np_xen_guest_node_mem(const np_xen_numa_dump *dump, uint32_t domid,
                          const np_topology *topo, uint64_t *node_mem_bytes);

/* ---- save/restore memory moves (xen_move.c) ---- */

/* Guests whose last move time is remembered for the rate limit; more
 * guests than this on one host forget the oldest entry. */
#define XEN_MOVE_TRACK_MAX 64u

typedef struct xen_move_rec {
    char name[NP_BACKEND_NAME_MAX];
    uint64_t last_ns;     /* CLOCK_MONOTONIC, when the last move started */
    uint32_t old_domid;   /* the domain that move saved */
    uint32_t domid;       /* the domain it restored, 0 = none (failed) */
    uint64_t restored_ns; /* CLOCK_MONOTONIC, when that domain started */
} xen_move_rec;

typedef struct xen_move_state {
    np_xen_memory_move mode;
    char save_dir[NP_XEN_SAVE_DIR_MAX];
    bool off_logged; /* the "how to enable" line is logged once */
    xen_move_rec recs[XEN_MOVE_TRACK_MAX];
    size_t nr_recs;
} xen_move_state;

/* 0 when guest `name` may be moved at now_ns, -EAGAIN when its last move is
 * less than min_interval_ns ago (*wait_ns_out: how long still). Pure. */
int np_xen_move_admit(const xen_move_state *ms, const char *name, uint64_t now_ns,
                      uint64_t min_interval_ns, uint64_t *wait_ns_out);
/* Remembers a move of `name` (domain old_domid) at now_ns, replacing the
 * oldest record when the table is full. Pure. */
void np_xen_move_note(xen_move_state *ms, const char *name, uint32_t old_domid, uint64_t now_ns);
/* True when domid is a domain a move of this np_xen saved and replaced:
 * a caller still holding it asks about a guest that lives on under a new
 * domid. Pure. */
bool np_xen_move_replaced(const xen_move_state *ms, uint32_t domid);
/* Records that the move of `name` restored it as domain `domid` at
 * restored_ns. Pure; no-op when `name` has no record. */
void np_xen_move_restored(xen_move_state *ms, const char *name, uint32_t domid,
                          uint64_t restored_ns);
/* When domain `domid` was started by a move of this np_xen (it shares its
 * UUID with the domain it replaced, whose destruction removed libxl's
 * record of the start time under /vm/UUID): 0 and *start_ns_out, or
 * -ENOENT. Pure. */
int np_xen_move_start_ns(const xen_move_state *ms, uint32_t domid, uint64_t *start_ns_out);
/* Bytes that went from the source node to the target node, from the
 * guest's bytes on each before and after: the smaller of the source's loss
 * and the target's gain (a whole-guest restore also brings in memory from
 * other nodes, which is not "from the source"). Pure. */
uint64_t np_xen_moved_bytes(uint64_t from_before, uint64_t from_after, uint64_t to_before,
                            uint64_t to_after);
/* The migrate_memory operation (numaplace/xen.h). */
int np_xen_op_migrate_memory(void *impl, uint64_t guest_id, size_t from_node_idx,
                             size_t to_node_idx, uint64_t bytes, uint64_t *moved_out);

/* The libxl context of an open np_xen (backend_xen.c). */
libxl_ctx *np_xen_ctx(np_xen *xen);
/* Logs "what failed: libxl error N (NAME)" and returns np_xen_errno(N). */
int np_xen_fail(np_xen *xen, const char *what, int libxl_rc);
/* A log line with subsystem "xen" (dropped without a log callback). */
void np_xen_logf(np_xen *xen, np_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The move settings and rate-limit records of an open np_xen. */
xen_move_state *np_xen_move_state(np_xen *xen);

#endif
