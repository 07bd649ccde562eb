/*
 * daemon/inline_move.c - the round's own memory migration, for a backend
 * whose migrate_memory may not run beside its other operations (Xen): one
 * migration action through np_backend_act in DAEMON_CHUNK_BYTES steps,
 * paced by migrate_budget; after each step the state is saved now and
 * then (a restart resumes rather than redecides), the status is published
 * and the control socket served until the budget allows the next step,
 * and SIGTERM or an exclusion stops the move. Backends that move
 * concurrently (Linux) use the mover thread instead (move_worker.c).
 * balance_glue.c calls it; it calls nothing of the round.
 */
#include <errno.h>
#include <string.h>

#include "daemon.h"

/* Time a step that moved `bytes` must take at migrate_budget bytes/s. */
static uint64_t pace_ns(const daemon_t *d, uint64_t bytes)
{
    if (!d->cfg.migrate_budget_bps)
        return 0;
    double ns = (double)bytes * 1e9 / (double)d->cfg.migrate_budget_bps;
    return ns > 1.8e19 ? UINT64_MAX : (uint64_t)ns;
}

static bool excluded_meanwhile(daemon_t *d, const char *name, int64_t pid)
{
    if (!dstate_is_excluded(&d->st, name, pid))
        return false;
    dlog(NP_LOG_INFO, "guest %s (%s %lld) was excluded during its migration: stopped", name,
         dlog_id_word(), (long long)pid);
    return true;
}

/* The round's own migration (a backend without a mover thread): after each
 * step of np_backend_act, the state is saved now and then (a restart
 * resumes rather than redecides), the control socket is served until the
 * budget allows the next step, and an exclusion stops the move. */
typedef struct inline_move {
    daemon_t *d;
    const char *name;
    uint64_t guest_id;
    const daemon_move *mv;
    uint64_t start_ns, last_moved;
} inline_move;

static bool inline_step_done(void *opaque, uint64_t moved)
{
    inline_move *m = opaque;
    daemon_t *d = m->d;
    char b1[32], b2[32];
    uint64_t now = daemon_mono_ns();

    dlog(NP_LOG_DEBUG, "guest %s (%s %llu): moved %s node %u -> %u (%s of this action left)",
         m->name, dlog_id_word(), (unsigned long long)m->guest_id,
         dlog_mib(moved - m->last_moved, b1, sizeof(b1)), m->mv->from_os_id, m->mv->to_os_id,
         dlog_mib(m->mv->bytes > moved ? m->mv->bytes - moved : 0, b2, sizeof(b2)));
    m->last_moved = moved;
    if (now - d->saved_ns >= DAEMON_SAVE_INTERVAL_NS) {
        daemon_save(d);
        d->saved_ns = now;
    }
    uint64_t wait = pace_ns(d, moved);
    ctl_publish(d);
    daemon_wait_until(wait > UINT64_MAX - m->start_ns ? UINT64_MAX : m->start_ns + wait);
    if (daemon_should_stop()) { /* SIGTERM: the rest waits for the next run */
        dlog(NP_LOG_INFO, "guest %s: migration stopped after %s (stopping)", m->name,
             dlog_mib(moved, b1, sizeof(b1)));
        return false;
    }
    return !excluded_meanwhile(d, m->name, (int64_t)m->guest_id);
}

int daemon_migrate(daemon_t *d, np_backend *be, uint64_t guest_id, const char *name,
                   const daemon_move *mv, uint64_t *moved_out)
{
    inline_move m = {.d = d, .name = name, .guest_id = guest_id, .mv = mv,
                     .start_ns = daemon_mono_ns()};
    np_backend_act_hooks hooks = {.step_bytes = DAEMON_CHUNK_BYTES,
                                  .step_done = inline_step_done, .opaque = &m};
    np_balance_action a;

    memset(&a, 0, sizeof(a));
    a.kind = NP_BALANCE_MIGRATE_MEMORY;
    a.from_node_idx = mv->from_idx;
    a.to_node_idx = mv->to_idx;
    a.bytes = mv->bytes;
    return np_backend_act(be, NULL, guest_id, &a, &hooks, moved_out);
}
