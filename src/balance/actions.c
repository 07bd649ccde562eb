/*
 * balance/actions.c - the list of actions one balancing round decided,
 * and the configuration defaults. Each action owns copies of its masks,
 * so the list outlives the host state it was decided from.
 */
#include "balance/balance_int.h"

#include <errno.h>
#include <stdlib.h>

#include "balance/actions_int.h"

void np_balance_config_init(np_balance_config *cfg)
{
    if (!cfg)
        return;
    cfg->period_ns = NP_BALANCE_PERIOD_NS;
    cfg->imbalance_threshold = NP_BALANCE_IMBALANCE_THRESHOLD;
    cfg->locality_target = NP_BALANCE_LOCALITY_TARGET;
    cfg->hold_off_ns = NP_BALANCE_HOLD_OFF_NS;
    cfg->migrate_budget_bps = NP_BALANCE_MIGRATE_BUDGET_BPS;
    cfg->migrate_chunk_bytes = NP_BALANCE_MIGRATE_CHUNK_BYTES;
    cfg->max_actions = NP_BALANCE_MAX_ACTIONS;
    cfg->confirm_rounds = NP_BALANCE_CONFIRM_ROUNDS;
}

int np_balance_actions_create(np_balance_actions **out)
{
    np_balance_actions *a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    *out = a;
    return 0;
}

int np_balance_actions_push(np_balance_actions *acts, const np_balance_action *act,
                            const np_bitmap *mask)
{
    np_bitmap *copy = NULL;
    int rc;

    if (acts->nr == acts->cap) {
        size_t cap = acts->cap ? acts->cap * 2 : 8;
        np_balance_action *a = realloc(acts->list, cap * sizeof(*a));
        if (!a)
            return -ENOMEM;
        acts->list = a;
        acts->cap = cap;
    }
    if (mask && (rc = np_bitmap_copy(mask, &copy)))
        return rc;
    np_balance_action *a = &acts->list[acts->nr++];
    *a = *act;
    a->cpus = NULL;
    a->nodes = NULL;
    if (act->kind == NP_BALANCE_SET_SOFT_AFFINITY)
        a->cpus = copy;
    else if (act->kind == NP_BALANCE_SET_NODE_AFFINITY)
        a->nodes = copy;
    else
        np_bitmap_destroy(copy);
    return 0;
}

size_t np_balance_actions_count(const np_balance_actions *acts)
{
    return acts ? acts->nr : 0;
}

const np_balance_action *np_balance_actions_get(const np_balance_actions *acts, size_t i)
{
    return acts && i < acts->nr ? &acts->list[i] : NULL;
}

void np_balance_actions_destroy(np_balance_actions *acts)
{
    if (!acts)
        return;
    for (size_t i = 0; i < acts->nr; i++) {
        /* The list made these copies; the public fields are const. */
        np_bitmap_destroy((np_bitmap *)(uintptr_t)acts->list[i].cpus);
        np_bitmap_destroy((np_bitmap *)(uintptr_t)acts->list[i].nodes);
    }
    free(acts->list);
    free(acts);
}

const char *np_balance_action_kind_name(np_balance_action_kind kind)
{
    switch (kind) {
    case NP_BALANCE_SET_SOFT_AFFINITY: return "set-soft-affinity";
    case NP_BALANCE_SET_NODE_AFFINITY: return "set-node-affinity";
    case NP_BALANCE_MIGRATE_MEMORY: return "migrate-memory";
    }
    return "unknown";
}
