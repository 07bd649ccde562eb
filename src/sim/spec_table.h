/*
 * sim/spec_table.h - the specs of the guests a simulator policy placed,
 * by name.
 *
 * The place.h policies' sense cache and "numaplace-balance" keep the
 * spec of every guest they placed and look each one up again: at every
 * arrival (a name seen twice replaces its spec) and for every guest of
 * each fresh snapshot (np_balance_restate). A list searched from the
 * start made filling a host quadratic in its guests (4000 arrivals: 8 M
 * string compares, a quarter of the placement time of `bench engine
 * --policy numaplace-soft`); a hash index over the list answers each look-up in
 * O(1). The specs stay in arrival order in one array.
 */
#ifndef NP_SIM_SPEC_TABLE_H
#define NP_SIM_SPEC_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include <numaplace/guest.h>

typedef struct sim_spec_table {
    np_guest_spec *specs; /* names unique: a name recorded again replaces its spec */
    size_t nr, cap;
    uint32_t *index; /* open addressing over specs: position + 1, 0 = empty */
    size_t index_cap; /* a power of two, at least twice cap; 0 before the first record */
} sim_spec_table;

/* The spec recorded under `name`, or NULL. */
const np_guest_spec *sim_spec_table_find(const sim_spec_table *t, const char *name);
/* Records `spec`, replacing the one of the same name. 0 or -ENOMEM. */
int sim_spec_table_record(sim_spec_table *t, const np_guest_spec *spec);
/* Frees the table's memory and empties it. */
void sim_spec_table_fini(sim_spec_table *t);

#endif
