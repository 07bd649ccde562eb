/*
 * emit/emit_model.h - everything the guest emitters need, in one plain
 * struct: the guest's size, its memory per host node, each vCPU's masks and
 * the vNUMA rows.
 *
 * The writers (xl.cfg, libvirt XML, QEMU) read only this model. One adapter
 * fills it from the public placement accessors (np_placement_node_mem_bytes,
 * np_placement_vcpu_hard/soft, np_placement_vnuma, ...), so the writers do
 * not depend on how placement stores its result, and unit tests build a
 * model directly to cover layouts no policy would choose.
 */
#ifndef NP_EMIT_MODEL_H
#define NP_EMIT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <numaplace/bitmap.h>
#include <numaplace/common.h>
#include <numaplace/emit.h>
#include <numaplace/guest.h>

#define NP_MIB_BYTES (UINT64_C(1) << 20)
#define NP_KIB_BYTES (UINT64_C(1) << 10)

typedef struct np_emit_vnode {
    uint32_t pnode_os_id; /* host node backing it */
    uint64_t mem_bytes;   /* whole MiB (NP_VNUMA_ALIGN_BYTES) */
    np_bitmap *vcpus;     /* vCPU numbers */
} np_emit_vnode;

typedef struct np_emit_model {
    char name[NP_GUEST_NAME_MAX]; /* "" for none */
    char policy[64];              /* placement policy, for a comment; "" for none */
    uint32_t nr_vcpus;
    uint64_t mem_bytes;
    uint64_t maxmem_bytes;
    np_affinity_mode affinity;

    /* Host nodes that receive memory, ascending os_id, with their share. */
    size_t nr_nodes;
    uint32_t *node_os_id;
    uint64_t *node_mem_bytes;

    /* Per vCPU masks of CPU os_ids; an entry is NULL when the vCPU has no
     * such affinity (hard NULL = may run anywhere, soft NULL = no preference). */
    np_bitmap **vcpu_hard;
    np_bitmap **vcpu_soft;

    /* Virtual NUMA, nr_vnodes = 0 when the guest sees one node. */
    size_t nr_vnodes;
    np_emit_vnode *vnodes;
    uint32_t *vdistance; /* nr_vnodes x nr_vnodes, row-major */
} np_emit_model;

/* Allocates the arrays (masks NULL, vnode vCPU sets empty). */
int np_emit_model_init(np_emit_model *m, uint32_t nr_vcpus, size_t nr_nodes, size_t nr_vnodes);
void np_emit_model_fini(np_emit_model *m);

/* Checks what every writer relies on: nodes ascending and distinct, memory
 * on them summing to maxmem (rounded up to MiB), vnodes covering each vCPU
 * exactly once with MiB sizes summing to the same, distances positive. A
 * vnode may have no vCPUs (memory only). */
int np_emit_model_check(const np_emit_model *m, np_error *err);

/* The adapter from the public placement API. */
int np_emit_model_from_placement(const np_topology *topo, const np_guest_spec *spec,
                                 const np_placement *pl, np_emit_model *out, np_error *err);

/* The writers; each checks the model first. */
int np_emit_model_write(np_emit_format fmt, const np_emit_model *m, unsigned flags,
                        char **text_out, np_error *err);

/* np_emit's buffer contract: copies text into buf (NUL-terminated when
 * len > 0, truncated if need be), its full length into *len_out; 0 when
 * it fit, -ENOSPC when not. */
int np_emit_copy_out(const char *text, char *buf, size_t len, size_t *len_out);

/* Memory in whole MiB, rounded up (xl.cfg and QEMU sizes). */
uint64_t np_emit_mib_ceil(uint64_t bytes);

#endif
