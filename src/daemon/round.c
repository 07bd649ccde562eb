/*
 * daemon/round.c - one round of numaplaced: sense every guest through the
 * Linux backend, decide, act (or, in dry-run mode, only say what it would
 * do), and save the state.
 *
 * The decision (decide_guest) is the daemon's own small rule until the
 * pure balancer (numaplace/balance.h, np_balance) is wired in here; it is
 * the one function that would call it. The rule: a guest's home is the
 * node where most of its vCPU threads last ran; when less than
 * locality_target of its memory is there for DAEMON_CONFIRM_ROUNDS rounds,
 * its memory moves home in DAEMON_CHUNK_BYTES steps, at most
 * migrate_budget bytes per second host-wide, and its vCPU threads are
 * steered to the home node's CPUs unless someone pinned them (their kernel
 * affinity is narrower than the host and not what we set). Memory follows
 * threads rather than the reverse because moving a thread is free but
 * moving it away from where the scheduler put it fights the scheduler,
 * while memory stays where it is put.
 *
 * A guest that exits during a migration ends that migration with -ESRCH:
 * the round logs it, forgets the guest and carries on with the others.
 * An excluded guest is sensed and reported, never acted on.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

static const char *fmt_mib(uint64_t bytes, char *buf, size_t len)
{
    snprintf(buf, len, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
    return buf;
}

/* Node index where most vCPU threads last ran; -1 when none is known. */
static int run_node_idx(const np_topology *topo, const np_backend_guest *bg)
{
    size_t nn = np_topology_nr_nodes(topo);
    uint32_t count[NP_TOPO_MAX_NODES] = {0};
    int best = -1;

    for (uint32_t v = 0; v < bg->nr_vcpus; v++) {
        size_t cidx;
        int32_t c = bg->vcpus[v].last_cpu_os_id;
        if (c < 0 || np_topology_cpu_idx(topo, (uint32_t)c, &cidx))
            continue;
        count[np_topology_cpu(topo, cidx)->node_idx]++;
    }
    for (size_t k = 0; k < nn; k++)
        if (count[k] && (best < 0 || count[k] > count[best]))
            best = (int)k;
    return best;
}

/* Node index holding the most memory outside `home`, or -1. */
static int biggest_remote(const np_backend_guest *bg, size_t home)
{
    int best = -1;
    for (size_t k = 0; k < bg->nr_nodes; k++)
        if (k != home && bg->node_mem_bytes[k] &&
            (best < 0 || bg->node_mem_bytes[k] > bg->node_mem_bytes[best]))
            best = (int)k;
    return best;
}

static bool pinned_by_someone(const np_backend_guest *bg)
{
    for (uint32_t v = 0; v < bg->nr_vcpus; v++)
        if (bg->vcpus[v].hard)
            return true;
    return false;
}

static int save(daemon_t *d)
{
    int rc = dstate_save(&d->st, d->bal, d->cfg.state_path);
    if (rc)
        dlog(NP_LOG_WARNING, "cannot save the state to %s: %s", d->cfg.state_path,
             np_strerror(rc));
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

/* One migration step, then the control socket is served until the budget
 * allows the next step (and at least the connections already waiting), so
 * the daemon answers while a migration goes on and the backend's mover
 * finds its pacing already satisfied. */
static int migrate_step(daemon_t *d, np_backend *be, uint64_t id, size_t from_idx,
                        size_t to_idx, uint64_t bytes, uint64_t *moved_out)
{
    uint64_t t0 = daemon_mono_ns();
    int rc = np_backend_migrate_memory(be, id, from_idx, to_idx, bytes, moved_out);
    uint64_t wait = pace_ns(d, *moved_out);
    ctl_serve_until(d, wait > UINT64_MAX - t0 ? UINT64_MAX : t0 + wait);
    return rc;
}

static bool excluded_meanwhile(daemon_t *d, const char *name, int64_t pid)
{
    if (!dstate_is_excluded(&d->st, name, pid))
        return false;
    dlog(NP_LOG_INFO, "guest %s (pid %lld) was excluded during its migration: stopped", name,
         (long long)pid);
    return true;
}

int daemon_migrate(daemon_t *d, np_backend *be, uint64_t guest_id, const char *name,
                   size_t from_idx, size_t to_idx, uint64_t bytes, uint64_t *moved_out)
{
    *moved_out = 0;
    while (*moved_out < bytes) {
        uint64_t step = bytes - *moved_out < DAEMON_CHUNK_BYTES ? bytes - *moved_out
                                                               : DAEMON_CHUNK_BYTES;
        uint64_t got = 0;
        int rc = migrate_step(d, be, guest_id, from_idx, to_idx, step, &got);
        *moved_out += got;
        if (rc)
            return rc;
        if (got < step || excluded_meanwhile(d, name, (int64_t)guest_id))
            break;
    }
    return 0;
}

/* Moves up to *budget bytes of g's in-flight migration; saves the state
 * before each step so a restart resumes rather than repeats. */
static void run_migration(daemon_t *d, np_backend *be, const np_topology *topo, dguest *g,
                          const np_backend_guest *bg, uint64_t *budget)
{
    char b1[32], b2[32];
    size_t from_idx, to_idx;

    if (np_topology_node_idx(topo, (uint32_t)g->inflight_from_os_id, &from_idx) ||
        np_topology_node_idx(topo, (uint32_t)g->home_node_os_id, &to_idx)) {
        g->inflight = false;
        return;
    }
    while (g->inflight && *budget > 0) {
        uint64_t step = g->inflight_left_bytes < DAEMON_CHUNK_BYTES ? g->inflight_left_bytes
                                                                    : DAEMON_CHUNK_BYTES;
        uint64_t moved = 0;
        if (step > *budget)
            step = *budget;
        if (step == 0) {
            g->inflight = false;
            break;
        }
        save(d);
        int rc = migrate_step(d, be, bg->id, from_idx, to_idx, step, &moved);
        g->moved_bytes += moved;
        *budget -= moved < *budget ? moved : *budget;
        if (rc == -ESRCH) {
            dlog(NP_LOG_WARNING,
                 "guest %s (pid %lld) exited during a migration after %s: carrying on",
                 g->name, (long long)g->pid, fmt_mib(g->moved_bytes, b1, sizeof(b1)));
            dstate_note(&d->st, "%s: exited during migration (%s moved)", g->name,
                        fmt_mib(g->moved_bytes, b1, sizeof(b1)));
            g->inflight = false;
            g->seen = false;
            return;
        }
        if (rc) {
            dlog(NP_LOG_WARNING, "guest %s: migration node %d -> %d failed: %s", g->name,
                 g->inflight_from_os_id, g->home_node_os_id, np_strerror(rc));
            g->inflight = false;
            return;
        }
        g->inflight_left_bytes -= moved < g->inflight_left_bytes ? moved : g->inflight_left_bytes;
        dlog(NP_LOG_INFO, "guest %s (pid %lld): moved %s node %d -> %d (%s left)", g->name,
             (long long)g->pid, fmt_mib(moved, b1, sizeof(b1)), g->inflight_from_os_id, g->home_node_os_id,
             fmt_mib(g->inflight_left_bytes, b2, sizeof(b2)));
        if (moved < step) /* nothing more of it sits on the source node */
            g->inflight = false;
        else if (excluded_meanwhile(d, g->name, g->pid)) {
            g->inflight = false;
            return;
        }
    }
    if (!g->inflight) {
        dlog(NP_LOG_INFO, "guest %s (pid %lld): migration node %d -> %d done, %llu bytes moved",
             g->name, (long long)g->pid, g->inflight_from_os_id, g->home_node_os_id,
             (unsigned long long)g->moved_bytes);
        dstate_note(&d->st, "%s: memory node %d -> %d done, %s moved in total", g->name,
                    g->inflight_from_os_id, g->home_node_os_id,
                    fmt_mib(g->moved_bytes, b1, sizeof(b1)));
    }
}

/* The decision for one guest; see the file comment. */
static void decide_guest(daemon_t *d, np_backend *be, const np_topology *topo, dguest *g,
                         const np_backend_guest *bg, uint64_t now_ns, uint64_t *budget)
{
    char b1[32];
    int run = run_node_idx(topo, bg);

    if (run < 0 || g->total_bytes == 0)
        return;
    const np_node_info *home = np_topology_node(topo, (size_t)run);
    g->locality = (double)bg->node_mem_bytes[run] / (double)g->total_bytes;
    if (g->inflight) {
        if (!d->cfg.dry_run)
            run_migration(d, be, topo, g, bg, budget);
        return;
    }
    if (g->locality >= d->cfg.locality_target) {
        g->low_rounds = 0;
        return;
    }
    g->low_rounds++;
    if (g->low_rounds < DAEMON_CONFIRM_ROUNDS)
        return;
    bool rehome = g->home_node_os_id != (int32_t)home->os_id;
    if (rehome && g->last_move_ns && now_ns - g->last_move_ns < DAEMON_HOLD_OFF_NS)
        return;
    int from = biggest_remote(bg, (size_t)run);
    if (from < 0)
        return;
    const np_node_info *src = np_topology_node(topo, (size_t)from);
    if (d->cfg.dry_run) {
        dlog(NP_LOG_INFO,
             "dry-run: guest %s (pid %lld, locality %.0f%%) would move %s from node %u to "
             "node %u",
             g->name, (long long)g->pid, 100.0 * g->locality,
             fmt_mib(bg->node_mem_bytes[from], b1, sizeof(b1)), src->os_id, home->os_id);
        dstate_note(&d->st, "dry-run: %s would move %s node %u -> %u", g->name,
                    fmt_mib(bg->node_mem_bytes[from], b1, sizeof(b1)), src->os_id, home->os_id);
        return;
    }
    g->home_node_os_id = (int32_t)home->os_id;
    g->last_move_ns = now_ns;
    g->inflight = true;
    g->inflight_from_os_id = (int32_t)src->os_id;
    g->inflight_left_bytes = bg->node_mem_bytes[from];
    dlog(NP_LOG_INFO, "guest %s (pid %lld): locality %.0f%%, moving %s from node %u to node %u",
         g->name, (long long)g->pid, 100.0 * g->locality,
         fmt_mib(g->inflight_left_bytes, b1, sizeof(b1)), src->os_id, home->os_id);
    dstate_note(&d->st, "%s: locality %.0f%%, memory node %u -> %u (%s)", g->name,
                100.0 * g->locality, src->os_id, home->os_id,
                fmt_mib(g->inflight_left_bytes, b1, sizeof(b1)));
    /* Steer (soft affinity): unless pinned by someone, prefer home's CPUs. */
    if (!pinned_by_someone(bg)) {
        const np_bitmap *cpus = np_topology_node_cpuset(topo, (size_t)run);
        for (uint32_t v = 0; v < bg->nr_vcpus; v++) {
            int rc = np_backend_set_vcpu_affinity(be, bg->id, v, NULL, cpus);
            if (rc && rc != -ESRCH)
                dlog(NP_LOG_WARNING, "guest %s vCPU %u: steering failed: %s", g->name, v,
                     np_strerror(rc));
        }
    }
    np_bitmap *nodes = NULL;
    if (np_bitmap_create(&nodes) == 0 && np_bitmap_set(nodes, home->os_id) == 0) {
        int rc = np_backend_set_guest_node_affinity(be, bg->id, nodes);
        if (rc && rc != -ESRCH)
            dlog(NP_LOG_WARNING, "guest %s: node affinity: %s", g->name, np_strerror(rc));
    }
    np_bitmap_destroy(nodes);
    run_migration(d, be, topo, g, bg, budget);
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
        } else if (s->guests[i].inflight) {
            /* It exited between two steps of a migration: same outcome as
             * an -ESRCH inside a step. */
            char b[32];
            dlog(NP_LOG_WARNING,
                 "guest %s (pid %lld) exited during a migration after %s: carrying on",
                 s->guests[i].name, (long long)s->guests[i].pid,
                 fmt_mib(s->guests[i].moved_bytes, b, sizeof(b)));
            dstate_note(s, "%s: exited during migration (%s moved)", s->guests[i].name,
                        fmt_mib(s->guests[i].moved_bytes, b, sizeof(b)));
            free(s->guests[i].mem_by_node_idx);
        } else {
            dlog(NP_LOG_INFO, "guest %s (pid %lld) is gone", s->guests[i].name,
                 (long long)s->guests[i].pid);
            free(s->guests[i].mem_by_node_idx);
        }
    }
    s->nr_guests = w;
}

int daemon_round(daemon_t *d)
{
    np_backend *be = np_linux_backend_get(d->lb);
    np_topology *topo = NULL;
    np_backend_guest *gs = NULL;
    size_t n = 0;
    uint64_t now_ns = 0;
    int rc;

    rc = np_backend_topology(be, &topo);
    if (!rc)
        rc = np_backend_list_guests(be, &gs, &n);
    if (!rc)
        rc = np_backend_now_ns(be, &now_ns);
    if (rc) {
        dlog(NP_LOG_ERROR, "sensing failed: %s", np_strerror(rc));
        goto out;
    }
    for (size_t i = 0; i < d->st.nr_guests; i++)
        d->st.guests[i].seen = false;
    /* Host-wide budget for this round: migrate_budget bytes/s over one period. */
    double per_round = (double)d->cfg.migrate_budget_bps * ((double)d->cfg.period_ns / 1e9);
    uint64_t budget = per_round > 1.8e19 ? UINT64_MAX : (uint64_t)per_round;
    bool *managed = calloc(n ? n : 1, sizeof(*managed));
    if (!managed) {
        rc = -ENOMEM;
        goto out;
    }
    /* Every guest's sensed facts first: the socket is answered between
     * migration steps below, and status must show all of them. */
    for (size_t i = 0; i < n; i++) {
        dguest *g = dstate_guest(&d->st, gs[i].name, (int64_t)gs[i].id, true);
        if (!g || update_guest(g, &gs[i])) {
            free(managed);
            rc = -ENOMEM;
            goto out;
        }
        int run = run_node_idx(topo, &gs[i]);
        if (run >= 0 && g->total_bytes)
            g->locality = (double)gs[i].node_mem_bytes[run] / (double)g->total_bytes;
    }
    for (size_t i = 0; i < n; i++) {
        dguest *g = dstate_guest(&d->st, gs[i].name, (int64_t)gs[i].id, false);
        if (!g)
            continue;
        if (dstate_is_excluded(&d->st, g->name, g->pid)) {
            dlog(NP_LOG_DEBUG, "guest %s (pid %lld) is excluded: not touched", g->name,
                 (long long)g->pid);
            continue;
        }
        /* Pinned by someone else: memory follows the threads (this file's
         * rule). Free to move: the balancer decides. A migration the rule
         * started before continues under the rule. */
        if (pinned_by_someone(&gs[i]) || g->inflight)
            decide_guest(d, be, topo, g, &gs[i], now_ns, &budget);
        else
            managed[i] = true;
    }
    daemon_balance(d, be, gs, n, managed, now_ns,
                   (uint64_t)((double)budget / ((double)d->cfg.period_ns / 1e9)));
    free(managed);
    for (size_t i = 0; i < n; i++) {
        np_balance_guest_info info;
        dguest *g = dstate_guest(&d->st, gs[i].name, (int64_t)gs[i].id, false);
        if (g && d->bal && !pinned_by_someone(&gs[i]) &&
            np_balance_state_guest(d->bal, gs[i].name, &info) == 0 && info.home_node_os_id >= 0)
            g->home_node_os_id = info.home_node_os_id;
    }
    drop_unseen(&d->st);
    d->st.rounds++;
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
