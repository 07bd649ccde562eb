/*
 * sim/policy.c - the table of built-in policies and the two that place
 * nothing: "none" stripes memory over every node and leaves vCPUs free
 * (Xen before 4.2 without a vCPU affinity), "first-touch" puts each page
 * where the vCPU that first touches it runs (Linux/KVM without numad).
 */
#include "sim/policy.h"
#include "sim/policy_balance.h"

#include <errno.h>
#include <string.h>

static int place_none(void *self, np_sim *sim, const np_guest_spec *spec, np_sim_plan *plan,
                      np_error *err)
{
    (void)self;
    (void)sim;
    (void)spec;
    (void)err;
    return np_sim_plan_set_mem_mode(plan, NP_SIM_MEM_STRIPED);
}

static int place_first_touch(void *self, np_sim *sim, const np_guest_spec *spec,
                             np_sim_plan *plan, np_error *err)
{
    (void)self;
    (void)sim;
    (void)spec;
    (void)err;
    return np_sim_plan_set_mem_mode(plan, NP_SIM_MEM_FIRST_TOUCH);
}

const np_sim_policy np_sim_policy_none = {
    .name = "none",
    .summary = "memory striped over all nodes, no vCPU affinity (Xen before 4.2)",
    .place = place_none,
};

const np_sim_policy np_sim_policy_first_touch = {
    .name = "first-touch",
    .summary = "memory where each vCPU first runs, no affinity (Linux/KVM default)",
    .place = place_first_touch,
};

static const np_sim_policy *const policies[] = {
    &np_sim_policy_none,
    &np_sim_policy_first_touch,
    &np_sim_policy_simple_hard,
    &np_sim_policy_simple_soft,
    &np_sim_policy_xl42_hard,
    &np_sim_policy_xl42_soft,
    &np_sim_policy_numaplace_soft,
    &np_sim_policy_numaplace_balance,
};

size_t np_sim_policy_count(void)
{
    return sizeof(policies) / sizeof(policies[0]);
}

const np_sim_policy *np_sim_policy_get(size_t i)
{
    return i < np_sim_policy_count() ? policies[i] : NULL;
}

int np_sim_policy_find(const char *name, const np_sim_policy **out)
{
    if (!name || !out)
        return -EINVAL;
    for (size_t i = 0; i < np_sim_policy_count(); i++) {
        if (!strcmp(policies[i]->name, name)) {
            *out = policies[i];
            return 0;
        }
    }
    return -ENOENT;
}
