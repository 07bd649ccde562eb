/*
 * balance/actions_int.h - building an action list (balance.c fills it,
 * actions.c owns its memory).
 */
#ifndef NP_BALANCE_ACTIONS_INT_H
#define NP_BALANCE_ACTIONS_INT_H

#include <numaplace/balance.h>

struct np_balance_actions {
    np_balance_action *list;
    size_t nr, cap;
};

int np_balance_actions_create(np_balance_actions **out);
/* Appends a copy of act; mask (CPUs or nodes by kind) is copied too. */
int np_balance_actions_push(np_balance_actions *acts, const np_balance_action *act,
                            const np_bitmap *mask);

#endif
