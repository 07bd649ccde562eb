/*
 * sim/spec_table.c - the specs of the guests a policy placed, by name
 * (spec_table.h): one array in arrival order and a hash index over it,
 * linear probing, kept at most half full.
 */
#include "sim/spec_table.h"
#include "util/text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Slots of the first index; it doubles with the array. */
#define SPEC_TABLE_MIN_SLOTS 32u

/* The slot holding `name`, or the empty slot where it would go. */
static size_t slot_of(const sim_spec_table *t, const char *name)
{
    size_t mask = t->index_cap - 1, at = (size_t)np_text_hash(name) & mask;
    while (t->index[at] != 0 && strcmp(t->specs[t->index[at] - 1].name, name) != 0)
        at = (at + 1) & mask;
    return at;
}

const np_guest_spec *sim_spec_table_find(const sim_spec_table *t, const char *name)
{
    if (!t || !name || t->index_cap == 0)
        return NULL;
    uint32_t at = t->index[slot_of(t, name)];
    return at ? &t->specs[at - 1] : NULL;
}

/* Room for one more spec: the array and the index both doubled when
 * full, the index rebuilt from the array. */
static int grow(sim_spec_table *t)
{
    if (t->nr < t->cap)
        return 0;
    if (t->cap >= UINT32_MAX / 4)
        return -ENOMEM;
    size_t cap = t->cap ? t->cap * 2 : SPEC_TABLE_MIN_SLOTS / 2;
    np_guest_spec *specs = realloc(t->specs, cap * sizeof(*specs));
    if (!specs)
        return -ENOMEM;
    t->specs = specs;
    uint32_t *index = calloc(cap * 2, sizeof(*index));
    if (!index)
        return -ENOMEM; /* the array grew; the old index still answers */
    free(t->index);
    t->index = index;
    t->index_cap = cap * 2;
    t->cap = cap;
    for (size_t i = 0; i < t->nr; i++)
        t->index[slot_of(t, t->specs[i].name)] = (uint32_t)(i + 1);
    return 0;
}

int sim_spec_table_record(sim_spec_table *t, const np_guest_spec *spec)
{
    if (!t || !spec)
        return -EINVAL;
    if (t->index_cap) {
        uint32_t at = t->index[slot_of(t, spec->name)];
        if (at) {
            t->specs[at - 1] = *spec;
            return 0;
        }
    }
    int rc = grow(t);
    if (rc)
        return rc;
    t->specs[t->nr] = *spec;
    t->index[slot_of(t, spec->name)] = (uint32_t)(t->nr + 1);
    t->nr++;
    return 0;
}

void sim_spec_table_fini(sim_spec_table *t)
{
    if (!t)
        return;
    free(t->specs);
    free(t->index);
    memset(t, 0, sizeof(*t));
}
