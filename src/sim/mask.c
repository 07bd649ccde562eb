/*
 * sim/mask.c - the mask pool (see mask.h): an array of masks and an
 * open-addressing hash table from their bits to their ids.
 */
#include "sim/mask.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/bits.h"

/* Load factor below 1/2 keeps probe sequences short. */
#define MASK_HT_INITIAL 64u

static uint64_t hash_words(const uint64_t *w, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++) {
        h ^= w[i];
        h *= UINT64_C(0x100000001b3);
        h ^= h >> 29;
    }
    return h;
}

static int ht_rebuild(np_sim *sim, size_t cap)
{
    uint32_t *ht = malloc(cap * sizeof(*ht));
    if (!ht)
        return -ENOMEM;
    for (size_t i = 0; i < cap; i++)
        ht[i] = SIM_NONE;
    for (size_t id = 0; id < sim->nr_masks; id++) {
        size_t slot = sim->masks[id].hash & (cap - 1);
        while (ht[slot] != SIM_NONE)
            slot = (slot + 1) & (cap - 1);
        ht[slot] = (uint32_t)id;
    }
    free(sim->mask_ht);
    sim->mask_ht = ht;
    sim->mask_ht_cap = cap;
    return 0;
}

int sim_masks_init(np_sim *sim)
{
    int rc;
    uint64_t *all = NULL;

    sim->cpu_words = np_bits_words(sim->nr_cpus);
    sim->node_words = np_bits_words(sim->nr_nodes);
    rc = ht_rebuild(sim, MASK_HT_INITIAL);
    if (rc)
        return rc;
    all = calloc(sim->cpu_words, sizeof(*all));
    if (!all)
        return -ENOMEM;
    for (size_t c = 0; c < sim->nr_cpus; c++)
        np_bits_set(all, c);
    uint32_t id;
    rc = sim_mask_intern(sim, all, &id);
    free(all);
    return rc; /* the first mask is id 0 = SIM_MASK_ALL */
}

void sim_masks_fini(np_sim *sim)
{
    for (size_t i = 0; i < sim->nr_masks; i++) {
        free(sim->masks[i].cpus);
        free(sim->masks[i].nodes);
        np_bitmap_destroy(sim->masks[i].os);
    }
    free(sim->masks);
    free(sim->mask_ht);
    sim->masks = NULL;
    sim->mask_ht = NULL;
    sim->nr_masks = sim->cap_masks = 0;
}

int sim_mask_intern(np_sim *sim, const uint64_t *cpus, uint32_t *id_out)
{
    size_t nw = sim->cpu_words;
    uint64_t h = hash_words(cpus, nw);
    size_t slot = h & (sim->mask_ht_cap - 1);
    sim_mask m = {0};
    int rc;

    while (sim->mask_ht[slot] != SIM_NONE) {
        const sim_mask *o = &sim->masks[sim->mask_ht[slot]];
        if (o->hash == h && !memcmp(o->cpus, cpus, nw * sizeof(*cpus))) {
            *id_out = sim->mask_ht[slot];
            return 0;
        }
        slot = (slot + 1) & (sim->mask_ht_cap - 1);
    }

    m.hash = h;
    m.cpus = malloc(nw * sizeof(*m.cpus));
    m.nodes = calloc(sim->node_words, sizeof(*m.nodes));
    if (!m.cpus || !m.nodes) {
        rc = -ENOMEM;
        goto out;
    }
    memcpy(m.cpus, cpus, nw * sizeof(*cpus));
    m.single_node = SIM_NONE;
    for (size_t c = np_bits_next_and(cpus, NULL, 0, sim->nr_cpus); c < sim->nr_cpus;
         c = np_bits_next_and(cpus, NULL, c + 1, sim->nr_cpus)) {
        uint32_t node = sim->pcpus[c].node;
        m.nr_cpus++;
        if (!np_bits_test(m.nodes, node)) {
            np_bits_set(m.nodes, node);
            m.single_node = m.nr_cpus == 1 ? node : SIM_NONE;
        }
    }
    if (!m.nr_cpus) {
        rc = -EINVAL;
        goto out;
    }
    if (sim->nr_masks == sim->cap_masks) {
        size_t cap = sim->cap_masks ? sim->cap_masks * 2 : 16;
        sim_mask *grown = realloc(sim->masks, cap * sizeof(*grown));
        if (!grown) {
            rc = -ENOMEM;
            goto out;
        }
        sim->masks = grown;
        sim->cap_masks = cap;
    }
    if (sim->nr_masks >= UINT32_MAX - 1) {
        rc = -E2BIG;
        goto out;
    }
    sim->masks[sim->nr_masks] = m;
    *id_out = (uint32_t)sim->nr_masks;
    sim->nr_masks++;
    m.cpus = NULL;
    m.nodes = NULL;
    if (sim->nr_masks * 2 > sim->mask_ht_cap)
        return ht_rebuild(sim, sim->mask_ht_cap * 2);
    sim->mask_ht[slot] = *id_out;
    return 0;
out:
    free(m.cpus);
    free(m.nodes);
    return rc;
}

int sim_mask_from_bitmap(np_sim *sim, const np_bitmap *os, uint32_t *id_out)
{
    uint64_t *w;
    int rc;

    if (!os) {
        *id_out = SIM_MASK_ALL;
        return 0;
    }
    w = calloc(sim->cpu_words, sizeof(*w));
    if (!w)
        return -ENOMEM;
    for (int id = np_bitmap_next(os, 0); id >= 0; id = np_bitmap_next(os, (unsigned)id + 1)) {
        if ((uint32_t)id < sim->cpu_id_limit && sim->cpu_of_os[id] != SIM_NONE)
            np_bits_set(w, sim->cpu_of_os[id]);
    }
    rc = sim_mask_intern(sim, w, id_out);
    free(w);
    return rc;
}

int sim_mask_and(np_sim *sim, uint32_t a, uint32_t b, uint32_t *id_out)
{
    uint64_t *w = malloc(sim->cpu_words * sizeof(*w));
    bool any = false;
    int rc = 0;

    if (!w)
        return -ENOMEM;
    for (size_t i = 0; i < sim->cpu_words; i++) {
        w[i] = sim->masks[a].cpus[i] & sim->masks[b].cpus[i];
        any |= w[i] != 0;
    }
    if (any)
        rc = sim_mask_intern(sim, w, id_out);
    else
        *id_out = SIM_NONE;
    free(w);
    return rc;
}

const np_bitmap *sim_mask_os(np_sim *sim, uint32_t id)
{
    sim_mask *m = &sim->masks[id];
    if (m->os)
        return m->os;
    if (np_bitmap_create(&m->os))
        return NULL;
    for (size_t c = np_bits_next_and(m->cpus, NULL, 0, sim->nr_cpus); c < sim->nr_cpus;
         c = np_bits_next_and(m->cpus, NULL, c + 1, sim->nr_cpus)) {
        if (np_bitmap_set(m->os, sim->pcpus[c].os_id)) {
            np_bitmap_destroy(m->os);
            m->os = NULL;
            return NULL;
        }
    }
    return m->os;
}

int sim_mask_node(np_sim *sim, uint32_t node, uint32_t *id_out)
{
    uint64_t *w = calloc(sim->cpu_words, sizeof(*w));
    const sim_node *n = &sim->nodes[node];
    int rc;

    if (!w)
        return -ENOMEM;
    for (uint32_t c = n->first_cpu; c < n->first_cpu + n->nr_cpus; c++)
        np_bits_set(w, c);
    rc = sim_mask_intern(sim, w, id_out);
    free(w);
    return rc;
}
