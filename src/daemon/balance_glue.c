/*
 * daemon/balance_glue.c - numaplaced's use of the pure balancer
 * (numaplace/balance.h): sense a host state through the backend, give the
 * guests the daemon manages a spec that lets the balancer act (soft
 * affinity, not opted out), run np_balance(), and apply its actions
 * through the backend (or, in dry-run mode, log them).
 *
 * Which guests go where (round.c decides): excluded guests are never given
 * to the balancer as managed (their spec stays no_autoplace); every other
 * guest is. One whose vCPU threads someone else pinned (a kernel affinity
 * narrower than the host that the daemon did not set) is sensed with that
 * hard mask, so the balancer never touches its affinity and only lets its
 * memory follow its threads.
 *
 * The balancer's state (per guest: home, last move, pending bytes) is kept
 * in the daemon's state file, so a restart continues rather than redoes;
 * every action reaches the backend through np_backend_act (the act step
 * the simulator uses too). Migrations go to the mover thread
 * (move_worker.c) when the backend allows concurrent moves: one job per
 * guest, collected at the next round (its result may settle what cannot
 * move); otherwise the round moves itself, serving the socket between
 * steps (inline_move.c).
 * a guest's pending bytes also show as its migration in flight (status,
 * the "done" log line, "resuming" after a restart). A dry run decides on
 * a copy of that state kept for the dry run's life, so its rounds confirm
 * low locality as real ones do but no move counts as made.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/balance.h>

#include "daemon.h"
#include "move_worker.h"

typedef struct lookup_ctx {
    daemon_t *d;
    const np_host_state *sensed;
    const bool *managed_by_gidx;
    np_guest_spec spec; /* returned by lookup(): valid until the next call */
} lookup_ctx;

static const np_guest_spec *lookup(void *opaque, const char *name)
{
    lookup_ctx *lc = opaque;
    size_t gi;
    if (np_host_state_find_guest(lc->sensed, name, &gi) || !lc->managed_by_gidx[gi])
        return NULL;
    lc->spec = *np_host_state_guest_spec(lc->sensed, gi);
    lc->spec.no_autoplace = false;
    lc->spec.affinity = NP_AFFINITY_SOFT;
    return &lc->spec;
}

/* The listed guest a host-state name stands for: np_backend_sense names a
 * guest by its name, or "name#id" when the name is empty or taken. */
static const np_backend_guest *resolve(const char *name, const np_backend_guest *gs, size_t n)
{
    const char *hash = strrchr(name, '#');
    if (hash) {
        char *end = NULL;
        unsigned long long id = strtoull(hash + 1, &end, 10);
        if (end && !*end)
            for (size_t i = 0; i < n; i++)
                if (gs[i].id == id)
                    return &gs[i];
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(gs[i].name, name) == 0)
            return &gs[i];
    return NULL;
}

/* The jobs this round hands to the mover thread, one per guest. */
typedef struct round_jobs {
    dmove_job *list;
    size_t nr, cap;
} round_jobs;

static dmove_job *job_for(round_jobs *rj, const np_backend_guest *bg, const char *bal_name)
{
    for (size_t i = 0; i < rj->nr; i++)
        if (rj->list[i].guest_id == bg->id)
            return &rj->list[i];
    if (rj->nr == rj->cap) {
        size_t cap = rj->cap ? rj->cap * 2 : 8;
        dmove_job *n = realloc(rj->list, cap * sizeof(*n));
        if (!n)
            return NULL;
        rj->list = n;
        rj->cap = cap;
    }
    dmove_job *j = &rj->list[rj->nr++];
    memset(j, 0, sizeof(*j));
    j->guest_id = bg->id;
    snprintf(j->name, sizeof(j->name), "%s", bg->name);
    snprintf(j->bal_name, sizeof(j->bal_name), "%s", bal_name);
    return j;
}

/* After a migration (in the round or by the mover thread): the guest's
 * totals, and what the balancer must know. Short without an error:
 * nothing more on the source node that the mover takes; what is still off
 * home cannot move (settle), or it would be asked again every round. */
static void migration_result(daemon_t *d, const char *name, uint64_t id, const char *bal_name,
                             int rc, uint64_t moved, uint64_t asked, uint64_t left_bytes,
                             bool stopped, uint64_t from_mask, uint64_t to_mask)
{
    char from[96], to[96];
    dguest *g = dstate_guest(&d->st, name, (int64_t)id, false);
    if (g) {
        g->moved_bytes += moved;
        g->inflight_left_bytes = left_bytes > moved ? left_bytes - moved : 0;
    }
    if (rc == 0) {
        dlog(NP_LOG_INFO, "guest %s (%s %llu): moved %llu of %llu bytes %s -> %s", name,
             dlog_id_word(), (unsigned long long)id, (unsigned long long)moved,
             (unsigned long long)asked, dnodes_text(from_mask, from, sizeof(from)),
             dnodes_list(to_mask, to, sizeof(to)));
        if (moved)
            dstate_note(&d->st, "%s: migrate-memory moved %.1f MiB", name,
                        (double)moved / (1024.0 * 1024.0));
    }
    if (stopped || dstate_is_excluded(&d->st, name, (int64_t)id)) {
        if (g)
            g->inflight = false; /* excluded meanwhile: the balancer lets go of it */
    } else if (rc == 0 && moved < asked) {
        np_balance_state_settle(d->bal, bal_name, g ? g->inflight_left_bytes : 0);
    } else if (rc == -ENOTSUP) {
        /* The backend cannot move memory at all (Xen with moves off):
         * nothing off home is movable until the guest is re-homed. */
        np_balance_state_settle(d->bal, bal_name, UINT64_MAX);
        if (g)
            g->inflight = false;
    } else if (rc == -EAGAIN || rc == -EBUSY) {
        if (g)
            g->inflight = false; /* asked again when the balancer next decides to */
    }
    if (rc == -ENOTSUP || rc == -EAGAIN || rc == -EBUSY) {
        /* Xen: moves off (the backend said once how to enable them), or its
         * rate limit / a whole-guest move already done this round */
        dlog(NP_LOG_DEBUG, "guest %s: memory not moved now: %s", name, np_strerror(rc));
    } else if (rc == -ESRCH) {
        if (dstate_first_exit(&d->st, name, (int64_t)id, g ? g->instance : 0)) {
            dlog(NP_LOG_WARNING, "guest %s (%s %llu) exited during a migration: carrying on",
                 name, dlog_id_word(), (unsigned long long)id);
            dstate_note(&d->st, "%s: exited during migration", name);
        }
        if (g) {
            g->inflight = false;
            g->seen = false; /* forgotten at the end of the round */
        }
    } else if (rc) {
        dlog(NP_LOG_WARNING, "guest %s: migrate-memory failed: %s", name, np_strerror(rc));
    }
}

static uint64_t os_bit(unsigned os_id)
{
    return os_id < 64 ? UINT64_C(1) << os_id : 0;
}

/* A job's migrations may come off several nodes and go to several (a home
 * set): the log names them all. */
static void harvest_one(void *opaque, const dmove_job *job)
{
    daemon_t *d = opaque;
    uint64_t from = 0, to = 0;
    for (size_t k = 0; k < job->nr_acts; k++) {
        from |= os_bit(job->from_os_id[k]);
        to |= os_bit(job->to_os_id[k]);
    }
    migration_result(d, job->name, job->guest_id, job->bal_name, job->rc, job->moved_bytes,
                     job->asked_bytes, job->pending_bytes, job->cancelled, from, to);
}

static void harvest_at_stop(void *opaque, const dmove_job *job)
{
    daemon_t *d = opaque;
    dguest *g = dstate_guest(&d->st, job->name, (int64_t)job->guest_id, false);
    if (g)
        g->moved_bytes += job->moved_bytes;
    if (job->moved_bytes)
        dlog(NP_LOG_INFO, "guest %s (%s %llu): moved %llu bytes before the stop", job->name,
             dlog_id_word(), (unsigned long long)job->guest_id,
             (unsigned long long)job->moved_bytes);
}

void daemon_collect_moves(daemon_t *d, bool stopping)
{
    if (d->worker)
        dworker_harvest(d->worker, stopping ? harvest_at_stop : harvest_one, d);
}

static void apply(daemon_t *d, np_backend *be, const np_topology *topo, const np_host_state *st,
                  const np_balance_action *a, const np_backend_guest *bg, round_jobs *rj)
{
    char list[256];
    int rc = 0;
    dguest *g = dstate_guest(&d->st, bg->name, (int64_t)bg->id, false);

    if (g && !g->seen)
        return; /* an earlier action found it gone: no more actions, no more log lines */
    switch (a->kind) {
    case NP_BALANCE_SET_SOFT_AFFINITY:
        np_bitmap_format(a->cpus, list, sizeof(list));
        dlog(NP_LOG_INFO, "%sguest %s (%s %llu): steer vCPU(s) to CPUs %s: %s",
             d->cfg.dry_run ? "dry-run: " : "", bg->name, dlog_id_word(),
             (unsigned long long)bg->id, list, a->reason);
        if (!d->cfg.dry_run)
            rc = np_backend_act(be, st, bg->id, a, NULL, NULL);
        break;
    case NP_BALANCE_SET_NODE_AFFINITY:
        np_bitmap_format(a->nodes, list, sizeof(list));
        dlog(NP_LOG_INFO, "%sguest %s (%s %llu): new memory from nodes %s: %s",
             d->cfg.dry_run ? "dry-run: " : "", bg->name, dlog_id_word(),
             (unsigned long long)bg->id, list, a->reason);
        if (!d->cfg.dry_run)
            rc = np_backend_act(be, st, bg->id, a, NULL, NULL);
        break;
    case NP_BALANCE_MIGRATE_MEMORY: {
        unsigned from = np_topology_node(topo, a->from_node_idx)->os_id;
        unsigned to = np_topology_node(topo, a->to_node_idx)->os_id;
        uint64_t moved = 0;
        if (d->cfg.dry_run) {
            dlog(NP_LOG_INFO, "dry-run: guest %s (%s %llu) would move %llu bytes node %u -> %u",
                 bg->name, dlog_id_word(), (unsigned long long)bg->id, (unsigned long long)a->bytes,
                 from, to);
            return;
        }
        np_balance_guest_info info;
        if (np_balance_state_guest(d->bal, a->guest, &info))
            memset(&info, 0, sizeof(info));
        if (info.settled_bytes && !info.pending_bytes) {
            /* An earlier action of this round found nothing more to move. */
            dlog(NP_LOG_DEBUG, "guest %s (%s %llu): skipping a migration: nothing movable left",
                 bg->name, dlog_id_word(), (unsigned long long)bg->id);
            return;
        }
        if (g) { /* its home came from the balancer's state (show_balancer_view) */
            if (!g->inflight)
                g->inflight_from_mask = 0; /* a new migration: its sources from here */
            g->inflight = true; /* status shows it while the steps run */
            g->inflight_from_mask |= os_bit(from);
        }
        if (d->worker) {
            /* The mover thread moves it; one job per guest at a time. */
            if (dworker_busy(d->worker, bg->id))
                return; /* its last job still runs: the balancer asks again */
            dmove_job *j = job_for(rj, bg, a->guest);
            if (!j || j->nr_acts == DWORKER_JOB_MAX_ACTIONS)
                return;
            j->from_os_id[j->nr_acts] = from;
            j->to_os_id[j->nr_acts] = to;
            j->acts[j->nr_acts++] = *a;
            j->pending_bytes = info.pending_bytes;
            return;
        }
        daemon_move mv = {.from_idx = a->from_node_idx,
                          .to_idx = a->to_node_idx,
                          .from_os_id = from,
                          .to_os_id = to,
                          .bytes = a->bytes};
        rc = daemon_migrate(d, be, bg->id, bg->name, &mv, &moved);
        migration_result(d, bg->name, bg->id, a->guest, rc, moved, a->bytes,
                         g ? g->inflight_left_bytes : info.pending_bytes, false, os_bit(from),
                         os_bit(to));
        return;
    }
    }
    if (rc == -ESRCH) {
        if (dstate_first_exit(&d->st, bg->name, (int64_t)bg->id, g ? g->instance : 0))
            dlog(NP_LOG_WARNING, "guest %s (%s %llu) exited: carrying on", bg->name,
                 dlog_id_word(), (unsigned long long)bg->id);
        if (g)
            g->seen = false;
    } else if (rc) {
        dlog(NP_LOG_WARNING, "guest %s: %s failed: %s", bg->name,
             np_balance_action_kind_name(a->kind), np_strerror(rc));
    } else if (!d->cfg.dry_run) {
        dstate_note(&d->st, "%s: %s (%s)", bg->name, np_balance_action_kind_name(a->kind),
                    a->reason);
    }
}

/* Before this round's actions: what the balancer counts off home is what
 * the guest's migration has left (actions subtract what they move). */
static void start_inflight(daemon_t *d, const char *bal_name, const np_backend_guest *bg)
{
    np_balance_guest_info info;
    dguest *g = dstate_guest(&d->st, bg->name, (int64_t)bg->id, false);

    if (g && np_balance_state_guest(d->bal, bal_name, &info) == 0)
        g->inflight_left_bytes = info.pending_bytes;
}

/* After them: a guest whose migration the balancer no longer counts
 * (nothing movable left off its home) is done. The log names the nodes
 * the memory was taken off (every source of the migration, not the last
 * action's) and the guest's home, one node or its set. */
static void sync_inflight(daemon_t *d, const char *bal_name, const np_backend_guest *bg)
{
    char b[32], from[96], to[96];
    np_balance_guest_info info;
    dguest *g = dstate_guest(&d->st, bg->name, (int64_t)bg->id, false);

    if (!g || !g->seen || !g->inflight || np_balance_state_guest(d->bal, bal_name, &info) ||
        info.pending_bytes || (d->worker && dworker_busy(d->worker, bg->id)))
        return;
    g->inflight = false;
    snprintf(b, sizeof(b), "%.1f MiB", (double)g->moved_bytes / (1024.0 * 1024.0));
    dnodes_text(g->inflight_from_mask, from, sizeof(from));
    dnodes_list(dguest_home_set(g->home_node_os_id, g->home_nodes_mask), to, sizeof(to));
    dlog(NP_LOG_INFO, "guest %s (%s %lld): migration %s -> %s done, %llu bytes moved", g->name,
         dlog_id_word(), (long long)g->pid, from, to, (unsigned long long)g->moved_bytes);
    dstate_note(&d->st, "%s: memory %s -> %s done, %s moved in total", g->name, from, to, b);
}

/* What status shows of a guest is what the balancer computed: locality
 * per vCPU against memory per node, why it is below target, its pending
 * move and, outside a dry run, its home. The daemon's guest takes these
 * from the balancer's state here, once a round, and nowhere else. */
static void show_balancer_view(daemon_t *d, const np_balance_state *bal, const char *bal_name,
                               const np_backend_guest *bg)
{
    np_balance_guest_info info;
    dguest *g = bg ? dstate_guest(&d->st, bg->name, (int64_t)bg->id, false) : NULL;

    if (!g || np_balance_state_guest(bal, bal_name, &info))
        return;
    g->locality = info.locality;
    if (!d->cfg.dry_run && info.home_node_os_id >= 0) {
        g->home_node_os_id = info.home_node_os_id;
        g->home_nodes_mask = info.home_nodes_mask;
    }
    snprintf(g->reason, sizeof(g->reason), "%s", info.reason);
    g->pending_bytes = info.pending_bytes;
    g->move_total_bytes = info.move_bytes > info.pending_bytes ? info.move_bytes : info.pending_bytes;
    if (!g->inflight) {
        g->progress_base = false;
    } else if (!g->progress_base) {
        /* The move's progress counts from here: what it did before (a
         * restart) is what the balancer no longer sees off home. */
        uint64_t done = g->move_total_bytes - info.pending_bytes;
        g->moved_at_start_bytes = g->moved_bytes > done ? g->moved_bytes - done : 0;
        g->progress_base = true;
    }
}

int daemon_balance(daemon_t *d, np_backend *be, const np_backend_guest *gs, size_t n,
                   const bool *managed, uint64_t now_ns, uint64_t budget_bps)
{
    np_host_state *sensed = NULL, *st = NULL;
    np_balance_actions *acts = NULL;
    np_topology *topo = NULL;
    bool *by_gidx = NULL;
    round_jobs rj = {0};
    int rc;

    /* Every guest goes through np_balance, managed or not: the locality
     * and reason status shows are the balancer's for all of them. */
    if (!d->bal && (rc = np_balance_state_create(&d->bal)))
        return rc;
    /* What the mover thread finished since the last round, before the
     * balancer decides again (a short move settles what cannot move). */
    if (d->worker) {
        dworker_set_budget(d->worker, budget_bps);
        daemon_collect_moves(d, false);
        for (size_t i = 0; i < n; i++)
            if (!managed[i])
                dworker_cancel(d->worker, gs[i].id); /* excluded since: stop its move */
    }
    rc = np_backend_sense_guests(be, gs, n, &sensed);
    if (!rc)
        rc = np_backend_topology(be, &topo);
    if (rc)
        goto out;
    size_t ng = np_host_state_nr_guests(sensed);
    by_gidx = calloc(ng ? ng : 1, sizeof(*by_gidx));
    if (!by_gidx) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t gi = 0; gi < ng; gi++) {
        const np_backend_guest *bg = resolve(np_host_state_guest_spec(sensed, gi)->name, gs, n);
        by_gidx[gi] = bg && managed[bg - gs];
    }
    lookup_ctx lc = {.d = d, .sensed = sensed, .managed_by_gidx = by_gidx};
    rc = np_balance_restate(sensed, lookup, &lc, &st);
    if (rc)
        goto out;
    np_balance_config cfg;
    np_balance_config_init(&cfg);
    cfg.period_ns = d->cfg.period_ns;
    cfg.locality_target = d->cfg.locality_target;
    cfg.migrate_budget_bps = budget_bps ? budget_bps : 1;
    cfg.confirm_rounds = DAEMON_CONFIRM_ROUNDS;
    /* Dry run: decide on a copy of the state, so nothing counts as done;
     * the copy lives as long as the dry run, so low locality is confirmed
     * over rounds as in a real run. */
    if (d->cfg.dry_run && !d->bal_dry) {
        char *json = NULL;
        np_error err = {0};
        rc = np_balance_state_save(d->bal, &json);
        if (!rc)
            rc = np_balance_state_load(json, strlen(json), "<copy>", &d->bal_dry, &err);
        free(json);
        if (rc)
            goto out;
    } else if (!d->cfg.dry_run && d->bal_dry) {
        np_balance_state_destroy(d->bal_dry);
        d->bal_dry = NULL;
    }
    rc = np_balance(st, d->cfg.dry_run ? d->bal_dry : d->bal, now_ns, &cfg, &acts);
    if (rc)
        goto out;
    for (size_t gi = 0; gi < ng; gi++)
        show_balancer_view(d, d->cfg.dry_run ? d->bal_dry : d->bal,
                           np_host_state_guest_spec(sensed, gi)->name, resolve(np_host_state_guest_spec(sensed, gi)->name, gs, n));
    for (size_t gi = 0; gi < ng && !d->cfg.dry_run; gi++) {
        const char *name = np_host_state_guest_spec(sensed, gi)->name;
        const np_backend_guest *bg = resolve(name, gs, n);
        if (bg && managed[bg - gs])
            start_inflight(d, name, bg);
    }
    for (size_t i = 0; i < np_balance_actions_count(acts); i++) {
        const np_balance_action *a = np_balance_actions_get(acts, i);
        const np_backend_guest *bg = resolve(a->guest, gs, n);
        if (!bg || !managed[bg - gs])
            continue; /* never act on a guest the daemon does not manage */
        apply(d, be, topo, st, a, bg, &rj);
    }
    for (size_t i = 0; i < rj.nr && d->worker; i++) {
        int r = dworker_submit(d->worker, &rj.list[i]);
        if (r)
            dlog(NP_LOG_WARNING, "guest %s: cannot hand its migration to the mover: %s",
                 rj.list[i].name, np_strerror(r));
    }
    for (size_t gi = 0; gi < ng && !d->cfg.dry_run; gi++) {
        const char *name = np_host_state_guest_spec(sensed, gi)->name;
        const np_backend_guest *bg = resolve(name, gs, n);
        uint64_t total = 0;
        for (size_t k = 0; k < np_topology_nr_nodes(topo); k++)
            total += np_host_state_guest_mem_bytes(sensed, gi, k);
        /* No memory at all: a process on its way out (its pages are gone
         * before it is), not a migration that is done. */
        if (bg && managed[bg - gs] && total)
            sync_inflight(d, name, bg);
    }
out:
    if (rc)
        dlog(NP_LOG_WARNING, "balancer round failed: %s", np_strerror(rc));
    np_balance_actions_destroy(acts);
    np_host_state_destroy(st);
    np_host_state_destroy(sensed);
    np_topology_destroy(topo);
    free(by_gidx);
    free(rj.list);
    return rc;
}
