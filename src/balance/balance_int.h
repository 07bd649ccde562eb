/*
 * balance/balance_int.h - the balancer's persistent state as the decision
 * code in balance.c and the JSON reader and writer in state.c share it: a
 * table of guests sorted by name (binary search, deterministic order).
 */
#ifndef NP_BALANCE_INT_H
#define NP_BALANCE_INT_H

#include <numaplace/balance.h>

typedef struct np_balance_entry {
    char name[NP_GUEST_NAME_MAX];
    np_balance_guest_info info;
    bool seen; /* present in the current round's snapshot */
} np_balance_entry;

struct np_balance_state {
    uint64_t last_round_ns;    /* NP_BALANCE_NEVER before the first round */
    np_balance_entry *entries; /* sorted by name */
    size_t nr, cap;
};

/* The entry of a guest, created (never moved, no home) when absent. */
int np_balance_state_entry(np_balance_state *state, const char *name, np_balance_entry **out);
/* Drops the entries not marked seen; clears the marks. */
void np_balance_state_prune(np_balance_state *state);

#endif
