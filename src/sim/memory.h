/*
 * sim/memory.h - where guests' pages live, and everything that moves
 * them: allocation (planned, striped, first-touch, with the silent
 * fall-back to other nodes that Xen's allocator has), ballooning, page
 * migration, page sharing and the hypervisor's own per-vCPU allocations.
 *
 * Memory is counted in pages per (guest, node); pages have no identity.
 */
#ifndef NP_SIM_MEMORY_H
#define NP_SIM_MEMORY_H

#include "sim/state.h"

void sim_mem_init(np_sim *sim);
uint64_t sim_node_free_pages(const np_sim *sim, uint32_t node);

/* Allocate on `node`, then on the nearest nodes with room; returns what it
 * got (less than asked only when the host is full). */
uint64_t sim_mem_alloc_near(np_sim *sim, sim_guest *g, uint32_t node, uint64_t pages);
/* Equal shares over the nodes in `node_bits` (NULL: all nodes with
 * memory), each share falling back like sim_mem_alloc_near. */
uint64_t sim_mem_alloc_striped(np_sim *sim, sim_guest *g, const uint64_t *node_bits,
                               uint64_t pages);
/* Release pages in proportion to where the guest has them (a balloon
 * driver does not know about nodes). */
void sim_mem_release(np_sim *sim, sim_guest *g, uint64_t pages);
/* All of a guest's pages (a rejected admission). */
void sim_mem_free_guest(np_sim *sim, sim_guest *g);
/* Per-vCPU hypervisor state on `node` (or the nearest with room); returns
 * the node it landed on. */
uint32_t sim_mem_alloc_internal(np_sim *sim, uint32_t node);

/* First run of a first-touch vCPU on `node`. */
void sim_mem_first_touch(np_sim *sim, sim_vcpu *v, uint32_t node);
/* Balloon target: release or reclaim towards target_bytes. */
void sim_mem_balloon(np_sim *sim, sim_guest *g, uint64_t target_bytes);
/* Rate-limited migration; *moved_out bytes moved. Charges the copy to
 * both nodes' bandwidth and a stall to the guest's vCPUs. */
int sim_mem_migrate(np_sim *sim, uint32_t gidx, uint32_t from, uint32_t to, uint64_t bytes,
                    uint64_t *moved_out);
/* Recompute page sharing from the guests' current pages. */
void sim_mem_share_scan(np_sim *sim);

/* End of a contention epoch: turn the bytes guests and migrations drew
 * into per-node utilisation and the latency multipliers of the next epoch. */
void sim_mem_epoch(np_sim *sim, uint64_t epoch_len_ns);

#endif
