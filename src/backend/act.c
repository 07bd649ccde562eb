/*
 * backend/act.c - np_backend_act(): the "act" of sense -> decide -> act,
 * written once. The daemon (numaplaced, for every backend) and the
 * simulator's numaplace-balance policy both turn a balancer action into
 * backend operations here, so the simulator cannot prove something the
 * daemon does not do: the same masks (soft affinity within the vCPU's
 * sensed hard mask), the same node affinity, and migrations in the same
 * bounded steps, each followed by the caller's hook (pacing, progress,
 * cancel) - the daemon's worker thread paces by its budget there, the
 * simulator lets its own rate limit and copy cost apply.
 */
#include <numaplace/backend.h>

#include <errno.h>

static int migrate(np_backend *be, uint64_t guest_id, const np_balance_action *a,
                   const np_backend_act_hooks *hooks, uint64_t *moved_out)
{
    uint64_t step_max = hooks && hooks->step_bytes ? hooks->step_bytes
                                                   : NP_BACKEND_MIGRATE_STEP_BYTES;
    int rc = 0;

    while (*moved_out < a->bytes) {
        uint64_t left = a->bytes - *moved_out; /* a step may overshoot by a page */
        uint64_t step = left < step_max ? left : step_max;
        uint64_t got = 0;
        rc = np_backend_migrate_memory(be, guest_id, a->from_node_idx, a->to_node_idx, step, &got);
        *moved_out += got;
        if (rc || got < step)
            break; /* failed, or nothing more on the source node */
        if (hooks && hooks->step_done && !hooks->step_done(hooks->opaque, *moved_out))
            break;
    }
    return rc;
}

int np_backend_act(np_backend *be, const np_host_state *st, uint64_t guest_id,
                   const np_balance_action *a, const np_backend_act_hooks *hooks,
                   uint64_t *moved_out)
{
    uint64_t moved = 0;
    int rc = 0;

    /* A migration needs no host state (the daemon's mover thread has
     * none); affinity does (the vCPUs' hard masks). */
    if (!be || !a || (st && a->gidx >= np_host_state_nr_guests(st)) ||
        (!st && a->kind != NP_BALANCE_MIGRATE_MEMORY))
        return -EINVAL;
    switch (a->kind) {
    case NP_BALANCE_SET_SOFT_AFFINITY: {
        const np_guest_spec *spec = np_host_state_guest_spec(st, a->gidx);
        for (uint32_t v = 0; v < spec->vcpus && !rc; v++)
            if (a->vcpu == NP_BALANCE_ALL_VCPUS || a->vcpu == v)
                rc = np_backend_set_vcpu_affinity(be, guest_id, v,
                                                  np_host_state_vcpu_hard(st, a->gidx, v), a->cpus);
        break;
    }
    case NP_BALANCE_SET_NODE_AFFINITY:
        rc = np_backend_set_guest_node_affinity(be, guest_id, a->nodes);
        break;
    case NP_BALANCE_MIGRATE_MEMORY:
        rc = migrate(be, guest_id, a, hooks, &moved);
        break;
    default:
        rc = -EINVAL;
    }
    if (moved_out)
        *moved_out = moved;
    return rc;
}
