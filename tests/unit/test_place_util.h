/*
 * test_place_util.h - small helpers shared by the placement and vNUMA
 * tests: hosts built from a few numbers, guests, a seeded PRNG, and mask
 * formatting. Header-only (static) so each test program stays one file.
 */
#ifndef TEST_PLACE_UTIL_H
#define TEST_PLACE_UTIL_H

#include <stdio.h>
#include <string.h>

#include <numaplace/bench.h>
#include <numaplace/hoststate.h>
#include <numaplace/place.h>

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

/* A host of `n` nodes with `cpus[i]` CPUs (one thread per core, each
 * node its own package) and `mem_mib[i]` MiB; dist is n*n or NULL for
 * 10/20. CPUs are numbered node by node. */
static inline np_topology *tp_host(size_t n, const uint32_t *cpus, const uint64_t *mem_mib,
                                   const uint32_t *dist)
{
    np_topology_builder *b = NULL;
    np_topology *t = NULL;
    np_error err = {0};
    uint32_t cpu = 0;
    np_topology_builder_create(&b);
    np_topology_builder_set_name(b, "test");
    for (size_t i = 0; i < n; i++) {
        np_topology_builder_add_node(b, (uint32_t)i, mem_mib[i] * MiB, mem_mib[i] * MiB);
        for (uint32_t c = 0; c < cpus[i]; c++, cpu++)
            np_topology_builder_add_cpu(b, cpu, (uint32_t)i, (uint32_t)i, c);
    }
    if (dist)
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                np_topology_builder_set_distance(b, (uint32_t)i, (uint32_t)j, dist[i * n + j]);
    if (np_topology_builder_finish(b, &t, &err) < 0)
        fprintf(stderr, "tp_host: %s\n", err.msg);
    np_topology_builder_destroy(b);
    return t;
}

static inline np_host_state *tp_state(np_topology *t)
{
    np_host_state *st = NULL;
    if (t)
        np_host_state_create(t, &st);
    np_topology_destroy(t);
    return st;
}

/* Two nodes of `cores` cores x 2 threads and 16 GiB, one node per package
 * (np_topo_gen's defaults: SLIT 21 between them), as a host state. */
static inline np_host_state *tp_smt_pair(uint32_t cores)
{
    np_topo_gen gen;
    np_topo_gen_init(&gen, 2, cores, 16ull << 30);
    gen.nodes_per_package = 1;
    np_topology *t = NULL;
    np_error err = {0};
    if (np_topology_generate(&gen, &t, &err) < 0)
        fprintf(stderr, "tp_smt_pair: %s\n", err.msg);
    return tp_state(t);
}

static inline np_guest_spec tp_guest(const char *name, uint32_t vcpus, uint64_t mem_mib)
{
    np_guest_spec s;
    np_guest_spec_init(&s);
    snprintf(s.name, sizeof(s.name), "%s", name);
    s.vcpus = vcpus;
    s.mem_bytes = mem_mib * MiB;
    return s;
}

/* "0-3" for a mask, "(null)" for none; a static buffer per call site is
 * enough for assertions. */
static inline const char *tp_mask(const np_bitmap *m, char *buf, size_t len)
{
    if (!m)
        return "(null)";
    np_bitmap_format(m, buf, len);
    return buf;
}

/* The chosen nodes as "1,2" (dense indices). */
static inline const char *tp_nodes(const np_placement *pl, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < np_placement_nr_nodes(pl) && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%zu", i ? "," : "",
                                 np_placement_node(pl, i));
    return buf;
}

/* xorshift64*: small, seeded, the same sequence everywhere. */
typedef struct tp_rng {
    uint64_t s;
} tp_rng;

static inline uint64_t tp_next(tp_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * UINT64_C(2685821657736338717);
}

static inline uint64_t tp_below(tp_rng *r, uint64_t n)
{
    return n ? tp_next(r) % n : 0;
}

static inline double tp_unit(tp_rng *r)
{
    return (double)(tp_next(r) >> 11) / 9007199254740992.0;
}

#endif
