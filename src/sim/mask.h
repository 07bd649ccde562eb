/*
 * sim/mask.h - interned CPU masks.
 *
 * Guests share a handful of masks (one per node, one per node set, "all
 * CPUs"), so vCPUs hold a 32-bit mask id instead of a private bit array;
 * equal masks get equal ids, and mask 0 is always "every CPU".
 */
#ifndef NP_SIM_MASK_H
#define NP_SIM_MASK_H

#include "sim/state.h"

#define SIM_MASK_ALL 0u

int sim_masks_init(np_sim *sim);
void sim_masks_fini(np_sim *sim);
/* The id of the mask with these CPU bits (cpu_words words); interned. An
 * empty mask is -EINVAL. */
int sim_mask_intern(np_sim *sim, const uint64_t *cpus, uint32_t *id_out);
/* From a bitmap of CPU os_ids; ids of CPUs the host lacks are ignored,
 * NULL is SIM_MASK_ALL. -EINVAL when nothing is left. */
int sim_mask_from_bitmap(np_sim *sim, const np_bitmap *os, uint32_t *id_out);
/* a & b, or SIM_NONE when empty. */
int sim_mask_and(np_sim *sim, uint32_t a, uint32_t b, uint32_t *id_out);
/* CPU os_ids of a mask, owned by the pool. */
const np_bitmap *sim_mask_os(np_sim *sim, uint32_t id);
/* Mask of the CPUs of a node. */
int sim_mask_node(np_sim *sim, uint32_t node, uint32_t *id_out);

static inline const sim_mask *sim_mask_get(const np_sim *sim, uint32_t id)
{
    return &sim->masks[id];
}

#endif
