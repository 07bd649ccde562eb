/*
 * daemon/round.c - one round of numaplaced: sense every guest through the
 * backend, let the balancer decide (balance_glue.c: np_balance, one policy
 * for every guest), act (or, in dry-run mode, only say what it would do),
 * and save the state.
 *
 * Every guest that is not excluded goes to the balancer. A guest whose
 * vCPU threads someone else pinned (a kernel affinity narrower than the
 * host that the daemon did not set) keeps its threads where they are: the
 * balancer only lets its memory follow them (home = the node they run on).
 * A guest free to move may have its threads steered (soft affinity) or its
 * memory moved, whichever the balancer finds cheaper.
 *
 * Migrations run on the mover thread (move_worker.c) when the backend
 * allows concurrent moves (Linux): the round only hands them over and
 * collects them. Otherwise (Xen) they run here in DAEMON_CHUNK_BYTES steps
 * (daemon_migrate, through np_backend_act), paced by migrate_budget, the
 * status published after each step. The control socket has its own thread
 * (ctl_server.c) and answers from what the round publishes: after sensing,
 * after deciding, at the end. A guest that exits during a migration ends it with -ESRCH: the
 * round logs it, forgets the guest and carries on with the others. An
 * excluded guest is sensed and reported, never acted on.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "move_worker.h"

static const char *fmt_mib(uint64_t bytes, char *buf, size_t len)
{
    snprintf(buf, len, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
    return buf;
}

static int save(daemon_t *d)
{
    int rc = dstate_save(&d->st, d->bal, d->cfg.state_path);
    if (rc)
        dlog(NP_LOG_WARNING, "cannot save the state to %s: %s", d->cfg.state_path, np_strerror(rc));
    return rc;
}

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
         fmt_mib(moved - m->last_moved, b1, sizeof(b1)), m->mv->from_os_id, m->mv->to_os_id,
         fmt_mib(m->mv->bytes > moved ? m->mv->bytes - moved : 0, b2, sizeof(b2)));
    m->last_moved = moved;
    if (now - d->saved_ns >= DAEMON_SAVE_INTERVAL_NS) {
        save(d);
        d->saved_ns = now;
    }
    uint64_t wait = pace_ns(d, moved);
    ctl_publish(d);
    daemon_wait_until(wait > UINT64_MAX - m->start_ns ? UINT64_MAX : m->start_ns + wait);
    if (daemon_should_stop()) { /* SIGTERM: the rest waits for the next run */
        dlog(NP_LOG_INFO, "guest %s: migration stopped after %s (stopping)", m->name,
             fmt_mib(moved, b1, sizeof(b1)));
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

static int update_guest(dguest *g, const np_backend_guest *bg)
{
    if (g->nr_nodes != bg->nr_nodes) {
        uint64_t *m = calloc(bg->nr_nodes ? bg->nr_nodes : 1, sizeof(*m));
        if (!m)
            return -ENOMEM;
        free(g->mem_by_node_idx);
        g->mem_by_node_idx = m;
        g->nr_nodes = bg->nr_nodes;
    }
    g->total_bytes = 0;
    for (size_t k = 0; k < bg->nr_nodes; k++) {
        g->mem_by_node_idx[k] = bg->node_mem_bytes[k];
        g->total_bytes += bg->node_mem_bytes[k];
    }
    g->nr_vcpus = bg->nr_vcpus;
    g->seen = true;
    return 0;
}

/* Forgets guests that are gone (a new process with the same name is a new guest). */
static void drop_unseen(dstate *s)
{
    size_t w = 0;
    for (size_t i = 0; i < s->nr_guests; i++) {
        if (s->guests[i].seen) {
            s->guests[w++] = s->guests[i];
        } else {
            const dguest *g = &s->guests[i];
            char b[32];
            /* Logged once: an action or the mover may have seen the exit
             * first, and a dying process can be listed once more. */
            if (!dstate_first_exit(s, g->name, g->pid, g->instance)) {
                /* said already */
            } else if (g->inflight) {
                /* It exited between two steps of a migration: same outcome
                 * as an -ESRCH inside a step. */
                dlog(NP_LOG_WARNING,
                     "guest %s (%s %lld) exited during a migration after %s: carrying on",
                     g->name, dlog_id_word(), (long long)g->pid,
                     fmt_mib(g->moved_bytes, b, sizeof(b)));
                dstate_note(s, "%s: exited during migration (%s moved)", g->name,
                            fmt_mib(g->moved_bytes, b, sizeof(b)));
            } else {
                dlog(NP_LOG_INFO, "guest %s (%s %lld) is gone", g->name, dlog_id_word(),
                     (long long)g->pid);
            }
            free(s->guests[i].mem_by_node_idx);
        }
    }
    s->nr_guests = w;
}

/* On Xen a save/restore move gives a domain a new domid under the same
 * name (numaplace/xen.h), and Xen domain names are unique: the guest
 * remembered under its old domid is this one. NULL when not Xen or none. */
static dguest *xen_rekey(daemon_t *d, const np_backend_guest *bg)
{
    if (d->backend != NP_DAEMON_BACKEND_XEN || !bg->name[0])
        return NULL;
    for (size_t i = 0; i < d->st.nr_guests; i++) {
        dguest *g = &d->st.guests[i];
        if (strcmp(g->name, bg->name) != 0)
            continue;
        if (g->pid != (int64_t)bg->id) {
            dlog(NP_LOG_INFO, "guest %s: domid %lld -> %llu", g->name, (long long)g->pid,
                 (unsigned long long)bg->id);
            g->pid = (int64_t)bg->id;
        }
        return g;
    }
    return NULL;
}

/* The guest as the daemon knows it, or a new one. A process with a name
 * the daemon knew under another pid is a new guest (a restarted QEMU), not
 * the old one: the balancer forgets what it held under that name (home,
 * pending bytes, low-locality rounds), or the new guest would inherit the
 * old one's move. (Xen keeps a domain across a new domid: xen_rekey.) */
static dguest *new_or_known(daemon_t *d, const np_backend_guest *bg)
{
    dguest *g = dstate_guest(&d->st, bg->name, (int64_t)bg->id, false);
    if (g && g->instance && bg->instance && g->instance != bg->instance) {
        /* Same pid and name, another process (it started later): the old
         * one is gone and nothing of it carries over, not even a move. */
        if (dstate_first_exit(&d->st, g->name, g->pid, g->instance))
            dlog(NP_LOG_INFO, "guest %s (%s %lld) is gone", g->name, dlog_id_word(),
                 (long long)g->pid);
        dlog(NP_LOG_INFO, "guest %s: a new process under the same %s %llu: a new guest",
             bg->name, dlog_id_word(), (unsigned long long)bg->id);
        if (d->worker)
            dworker_cancel(d->worker, bg->id);
        if (d->bal)
            np_balance_state_forget(d->bal, bg->name);
        dstate_forget(&d->st, g);
        g = NULL;
    }
    if (g) {
        if (!g->instance)
            g->instance = bg->instance; /* a state file without it */
        return g;
    }
    for (size_t i = 0; i < d->st.nr_guests && d->bal; i++)
        if (strcmp(d->st.guests[i].name, bg->name) == 0 && np_balance_state_forget(d->bal, bg->name) == 0)
            dlog(NP_LOG_INFO, "guest %s: a new %s %llu under a known name: its balancer state is "
                              "dropped", bg->name, dlog_id_word(), (unsigned long long)bg->id);
    g = dstate_guest(&d->st, bg->name, (int64_t)bg->id, true);
    if (g)
        g->instance = bg->instance;
    return g;
}

int daemon_round(daemon_t *d)
{
    np_backend *be = d->be;
    np_topology *topo = NULL;
    np_backend_guest *gs = NULL;
    size_t n = 0;
    uint64_t now_ns = 0;
    int rc;

    uint64_t sense_t0 = daemon_mono_ns();
    rc = np_backend_topology(be, &topo);
    if (!rc)
        rc = np_backend_list_guests(be, &gs, &n);
    if (!rc)
        rc = np_backend_now_ns(be, &now_ns);
    if (rc) {
        dlog(NP_LOG_ERROR, "sensing failed: %s", np_strerror(rc));
        goto out;
    }
    daemon_metrics_sensed(d, gs, n, daemon_mono_ns() - sense_t0);
    for (size_t i = 0; i < d->st.nr_guests; i++)
        d->st.guests[i].seen = false;
    bool *managed = calloc(n ? n : 1, sizeof(*managed));
    if (!managed) {
        rc = -ENOMEM;
        goto out;
    }
    /* Every guest's sensed facts first, published at once: status shows
     * all of them while the balancer decides and acts. */
    for (size_t i = 0; i < n; i++) {
        if (d->backend == NP_DAEMON_BACKEND_XEN && gs[i].id == 0)
            continue; /* dom0 runs the host: never managed */
        dguest *g = xen_rekey(d, &gs[i]);
        if (!g)
            g = new_or_known(d, &gs[i]);
        if (!g || update_guest(g, &gs[i])) {
            free(managed);
            rc = -ENOMEM;
            goto out;
        }
    }
    ctl_publish(d);
    for (size_t i = 0; i < n; i++) {
        dguest *g = dstate_guest(&d->st, gs[i].name, (int64_t)gs[i].id, false);
        if (!g)
            continue;
        if (dstate_is_excluded(&d->st, g->name, g->pid)) {
            dlog(NP_LOG_DEBUG, "guest %s (%s %lld) is excluded: not touched", g->name,
                 dlog_id_word(), (long long)g->pid);
            continue;
        }
        managed[i] = true; /* pinned or not: the balancer knows the difference */
    }
    daemon_balance(d, be, gs, n, managed, now_ns, d->cfg.migrate_budget_bps);
    free(managed);
    for (size_t i = 0; i < n; i++) {
        np_balance_guest_info info;
        dguest *g = dstate_guest(&d->st, gs[i].name, (int64_t)gs[i].id, false);
        if (g && d->bal && !d->cfg.dry_run &&
            np_balance_state_guest(d->bal, gs[i].name, &info) == 0 && info.home_node_os_id >= 0)
            g->home_node_os_id = info.home_node_os_id;
    }
    /* After acting: status shows where the helper threads went. */
    for (size_t i = 0; i < d->st.nr_guests; i++)
        if (d->st.guests[i].seen)
            daemon_sense_helpers(d, &d->st.guests[i]);
    drop_unseen(&d->st);
    d->st.rounds++;
    ctl_publish(d);
    if (!d->cfg.dry_run)
        save(d);
out:
    np_backend_guests_free(gs, n);
    np_topology_destroy(topo);
    return rc;
}

int daemon_apply_source(daemon_t *d)
{
    np_linux_backend_opts o = {0};
    pid_t pids[NP_DAEMON_MAX_LIST];

    if (d->backend == NP_DAEMON_BACKEND_XEN)
        return daemon_backend_apply_xen(d);
    if (d->backend == NP_DAEMON_BACKEND_LIBVIRT)
        return 0; /* libvirt lists the domains; no Linux discovery options */

    for (uint32_t i = 0; i < d->cfg.nr_pids; i++)
        pids[i] = (pid_t)d->cfg.pids[i];
    o.source = d->cfg.discover == NP_DISCOVER_QEMU     ? NP_LINUX_GUESTS_QEMU
               : d->cfg.discover == NP_DISCOVER_CGROUP ? NP_LINUX_GUESTS_CGROUP
                                                       : NP_LINUX_GUESTS_PIDS;
    o.cgroup = d->cfg.cgroup[0] ? d->cfg.cgroup : NULL;
    o.pids = pids;
    o.nr_pids = d->cfg.nr_pids;
    o.migrate_budget_bps = d->cfg.migrate_budget_bps;
    o.move_filter = NP_LINUX_MAPS_WRITABLE;
    o.use_cgroup_cpuset = d->cfg.use_cgroup_cpuset;
    if (!d->lb)
        return np_linux_backend_create(d->ctx, &o, &d->lb);
    return np_linux_backend_set_source(d->lb, &o);
}
