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
 * collects them. Otherwise (Xen) the round runs them in DAEMON_CHUNK_BYTES
 * steps (daemon_migrate in inline_move.c, through np_backend_act), paced by
 * migrate_budget, the status published after each step. Calls go one way:
 * round.c -> balance_glue.c -> inline_move.c, and backend_pick.c (opening,
 * reloading, closing the backend) -> balance_glue.c; neither calls back
 * into round.c. The host's own domain (np_backend_guest.runs_host: Xen's
 * dom0) is never managed, and with a backend whose names identify guests
 * (NP_BACKEND_NAMES_IDENTIFY: Xen after a save/restore move) a guest is
 * kept across a new id. The control socket has its own thread
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
                     dlog_mib(g->moved_bytes, b, sizeof(b)));
                dstate_note(s, "%s: exited during migration (%s moved)", g->name,
                            dlog_mib(g->moved_bytes, b, sizeof(b)));
            } else {
                dlog(NP_LOG_INFO, "guest %s (%s %lld) is gone", g->name, dlog_id_word(),
                     (long long)g->pid);
            }
            free(s->guests[i].mem_by_node_idx);
        }
    }
    s->nr_guests = w;
}

/* A backend whose names identify guests across ids (NP_BACKEND_NAMES_IDENTIFY;
 * Xen: a save/restore move gives a domain a new domid under the same name):
 * the guest remembered under its old id is this one. NULL when the backend
 * says nothing of the kind, or none. */
static dguest *rekey_by_name(daemon_t *d, const np_backend_guest *bg)
{
    if (!(np_backend_flags(d->be) & NP_BACKEND_NAMES_IDENTIFY) || !bg->name[0])
        return NULL;
    for (size_t i = 0; i < d->st.nr_guests; i++) {
        dguest *g = &d->st.guests[i];
        if (strcmp(g->name, bg->name) != 0)
            continue;
        if (g->pid != (int64_t)bg->id) {
            dlog(NP_LOG_INFO, "guest %s: %s %lld -> %llu", g->name, dlog_id_word(),
                 (long long)g->pid, (unsigned long long)bg->id);
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
 * old one's move. (Xen keeps a domain across a new domid: rekey_by_name.) */
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
        if (gs[i].runs_host)
            continue; /* dom0: never managed */
        dguest *g = rekey_by_name(d, &gs[i]);
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
    /* After acting: status shows where the helper threads went. */
    daemon_sense_all_helpers(d);
    drop_unseen(&d->st);
    d->st.rounds++;
    ctl_publish(d);
    if (!d->cfg.dry_run)
        daemon_save(d);
out:
    np_backend_guests_free(gs, n);
    np_topology_destroy(topo);
    return rc;
}
