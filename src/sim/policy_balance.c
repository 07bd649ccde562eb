/*
 * sim/policy_balance.c - "numaplace-balance": numaplace's placement with
 * soft affinity when a guest arrives (the "numaplace-soft" policy of
 * policy_place.c, called, not copied), then np_balance() every
 * config.rebalance_ns.
 *
 * A round is sense -> decide -> act, as the daemon does it on a real host:
 * np_backend_sense() snapshots the simulator through its backend, the
 * guests' specs (recorded when they arrived: opt-out, hard affinity,
 * groups) are put back with np_balance_restate(), np_balance() decides,
 * and each action goes back through the backend by np_backend_act(), the
 * act step the daemon uses too: soft affinity per vCPU (the hard mask
 * kept), node affinity, and memory migration in the same bounded steps,
 * which the simulator charges with its copy cost, guest stall and rate
 * limit.
 * Guests that arrived with their own plan bypass placement, so no spec is
 * recorded for them: sensed as no_autoplace, they are left alone.
 */
#include "sim/policy_balance.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/hoststate.h>

#include "sim/policy.h"
#include "sim/spec_table.h"

struct np_sim_balance_policy {
    np_balance_config cfg;
    np_balance_state *state;
    sim_spec_table specs; /* recorded at arrival */
    uint64_t actions, moved_bytes;
};

int np_sim_balance_policy_create(const np_balance_config *cfg, np_sim_balance_policy **out)
{
    np_sim_balance_policy *p;
    int rc;

    if (!out)
        return -EINVAL;
    p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    if (cfg)
        p->cfg = *cfg;
    else
        np_balance_config_init(&p->cfg);
    rc = np_balance_state_create(&p->state);
    if (rc) {
        free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void np_sim_balance_policy_destroy(np_sim_balance_policy *self)
{
    if (!self)
        return;
    np_balance_state_destroy(self->state);
    sim_spec_table_fini(&self->specs);
    free(self);
}

const np_balance_state *np_sim_balance_policy_state(const np_sim_balance_policy *self)
{
    return self ? self->state : NULL;
}

uint64_t np_sim_balance_policy_actions(const np_sim_balance_policy *self)
{
    return self ? self->actions : 0;
}

uint64_t np_sim_balance_policy_moved_bytes(const np_sim_balance_policy *self)
{
    return self ? self->moved_bytes : 0;
}

static const np_guest_spec *lookup_spec(void *opaque, const char *name)
{
    const np_sim_balance_policy *p = opaque;
    return sim_spec_table_find(&p->specs, name);
}

static int create_self(np_sim *sim, void **self_out)
{
    np_sim_balance_policy *p = NULL;
    (void)sim;
    int rc = np_sim_balance_policy_create(NULL, &p);
    if (!rc)
        *self_out = p;
    return rc;
}

static void destroy_self(void *self)
{
    np_sim_balance_policy_destroy(self);
}

static int place_balance(void *self, np_sim *sim, const np_guest_spec *spec, np_sim_plan *plan,
                         np_error *err)
{
    np_sim_balance_policy *p = self;
    int rc = p ? sim_spec_table_record(&p->specs, spec) : 0;
    if (rc)
        return rc;
    if (!p)
        return np_sim_policy_numaplace_soft.place(NULL, sim, spec, plan, err);
    return sim_place_numaplace_restated(sim, spec, lookup_spec, p, plan, err);
}

static void log_action(np_backend *be, const np_balance_action *a, int rc)
{
    char line[NP_BALANCE_REASON_MAX + 160];
    snprintf(line, sizeof(line), "%s %s vcpu=%ld from=%zu to=%zu bytes=%llu rc=%d: %s", a->guest,
             np_balance_action_kind_name(a->kind),
             a->vcpu == NP_BALANCE_ALL_VCPUS ? -1L : (long)a->vcpu, a->from_node_idx,
             a->to_node_idx, (unsigned long long)a->bytes, rc, a->reason);
    np_backend_log(be, rc ? NP_LOG_WARNING : NP_LOG_INFO, "balance", line);
}

/* One action through the shared act step (np_backend_act: the daemon's
 * too), migrations in the same bounded steps. */
static int apply(np_sim_balance_policy *p, np_backend *be, const np_host_state *st,
                 const np_backend_guest *guests, const np_balance_action *a)
{
    uint64_t moved = 0;
    int rc = np_backend_act(be, st, guests[a->gidx].id, a, NULL, &moved);
    p->moved_bytes += moved;
    p->actions++;
    return rc;
}

static int rebalance_balance(void *self, np_backend *be)
{
    np_sim_balance_policy *p = self;
    np_host_state *sensed = NULL, *st = NULL;
    np_balance_actions *acts = NULL;
    np_backend_guest *guests = NULL;
    size_t nr = 0;
    uint64_t now = 0;
    int rc;

    if (!p)
        return 0; /* set with an explicit NULL and no state: nothing to remember with */
    rc = np_backend_sense(be, &sensed);
    if (!rc)
        rc = np_balance_restate(sensed, lookup_spec, p, &st);
    if (!rc)
        rc = np_backend_now_ns(be, &now);
    /* Guest ids: sense lists guests in the backend's order, so snapshot
     * guest i is list entry i (checked by count). */
    if (!rc)
        rc = np_backend_list_guests(be, &guests, &nr);
    if (!rc && nr != np_host_state_nr_guests(st))
        rc = -EIO;
    if (!rc)
        rc = np_balance(st, p->state, now, &p->cfg, &acts);
    for (size_t i = 0; i < np_balance_actions_count(acts) && !rc; i++) {
        const np_balance_action *a = np_balance_actions_get(acts, i);
        int r = apply(p, be, st, guests, a);
        /* One refused action (a guest gone, no free memory) does not stop
         * the others; the next round sees what happened. */
        log_action(be, a, r);
    }
    np_balance_actions_destroy(acts);
    np_backend_guests_free(guests, nr);
    np_host_state_destroy(st);
    np_host_state_destroy(sensed);
    return rc;
}

const np_sim_policy np_sim_policy_numaplace_balance = {
    .name = "numaplace-balance",
    .summary = "numaplace placement with soft affinity, then np_balance every rebalance period",
    .place = place_balance,
    .rebalance = rebalance_balance,
    .create = create_self,
    .destroy = destroy_self,
};
