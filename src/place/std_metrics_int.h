/*
 * place/std_metrics_int.h - the pieces of the standard metrics
 * (std_metrics.c) that the metrics oracle (oracle_metrics.c) reuses to
 * score a candidate without copying the host state.
 */
#ifndef NP_PLACE_STD_METRICS_INT_H
#define NP_PLACE_STD_METRICS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <numaplace/hoststate.h>

/* The masks the node weights in hand were computed from. */
typedef struct np_std_mask_cache {
    bool valid;
    const np_bitmap *hard, *soft;
    uint64_t computed; /* how many times the weights were worked out */
} np_std_mask_cache;

/* Where a vCPU with these masks runs, as node weights summing to 1 (the
 * rule of the top of std_metrics.c). */
int np_std_mask_weights(const np_topology *t, const np_bitmap *hard, const np_bitmap *soft,
                        double *w);
/* Where vCPU v of guest g runs, as node weights summing to 1 (w has one
 * entry per node); unchanged when its masks equal the cached ones. */
int np_std_vcpu_weights(const np_host_state *st, size_t g, uint32_t v, np_std_mask_cache *c,
                        double *w);
/* Per node: vCPUs counted there (fractions for vCPUs spanning nodes) and
 * guest memory (populated + claimed); mem_out may be NULL (vCPUs only). */
int np_std_tally(const np_host_state *st, double *vcpus_out, uint64_t *mem_out);
double np_std_worst_cpu(const np_topology *t, const double *vcpus);
double np_std_worst_mem(const np_topology *t, const uint64_t *free_bytes, const uint64_t *mem);
/* One guest's remote-weighted distance from its vCPU node weights and its
 * memory per node; its local fraction through local_out. */
double np_std_rwd(const np_topology *t, const double *vcpu_w, const uint64_t *mem,
                  double *local_out);
/* One guest's part: vCPUs and memory per node (vcpus_out, mem_out), its
 * distance and local fraction, and whether it counts in the means (it has
 * memory and vCPUs). w is scratch of one entry per node. */
int np_std_guest(const np_host_state *st, size_t g, double *w, double *vcpus_out, uint64_t *mem_out,
                 double *rwd_out, double *local_out, bool *counted_out);
/* Free memory at start: the state's measured free, else the node's size. */
void np_std_free_at_start(const np_host_state *st, uint64_t *free_out);

#endif
