/*
 * daemon/backend_pick.c - which backend numaplaced drives and how it is
 * opened: the Linux backend (QEMU processes, a cgroup or listed PIDs; the
 * rest of the daemon's files describe it) or the Xen backend on a dom0
 * (every domain but dom0, through libxl; numaplace/xen.h). `backend = auto`
 * (the default) picks Xen when this numaplaced has Xen support and the
 * machine is a Xen control domain, else Linux.
 *
 * The Linux discovery options (discover, cgroup, pid, --cgroup, --pid)
 * choose Linux processes; with the Xen backend they are a configuration
 * error named by file and line, never silently ignored. The backend is
 * chosen once at start: a reload (SIGHUP) that asks for another backend
 * is refused, like a new socket path. A backend whose migrations may run
 * beside its other operations gets a memory mover thread (move_worker.c);
 * closing stops it first.
 *
 * `backend = libvirt` (asked for, never chosen by auto) drives the running
 * domains of libvirt_uri through libvirt's API (numaplace/libvirt.h).
 */
#include <errno.h>
#include <string.h>

#include <numaplace/libvirt.h>
#include <numaplace/xen.h>

#include "daemon.h"
#include "move_worker.h"

#ifdef NP_HAVE_XEN
#define DAEMON_XEN_BUILT true
#else
#define DAEMON_XEN_BUILT false
#endif
#ifdef NP_HAVE_LIBVIRT
#define DAEMON_LIBVIRT_BUILT true
#else
#define DAEMON_LIBVIRT_BUILT false
#endif

int daemon_backend_check(const np_daemon_config *c, const char *cfg_path, bool cli_linux_opts,
                         np_daemon_backend *out)
{
    bool dom0 = np_xen_is_dom0() == 1;
    np_daemon_backend b = np_daemon_backend_resolve(c->backend, DAEMON_XEN_BUILT, dom0);
    const char *why = c->backend == NP_DAEMON_BACKEND_AUTO
                          ? " (backend = auto chose xen: this is a Xen dom0)"
                          : "";

    if (b == NP_DAEMON_BACKEND_LIBVIRT && !DAEMON_LIBVIRT_BUILT) {
        dlog(NP_LOG_ERROR, "backend libvirt: this numaplaced was built without libvirt support "
                           "(rebuild with libvirt-dev installed)");
        return -ENOTSUP;
    }
    if (b == NP_DAEMON_BACKEND_XEN && !DAEMON_XEN_BUILT) {
        dlog(NP_LOG_ERROR, "backend xen: this numaplaced was built without Xen support "
                           "(rebuild with libxen-dev installed)");
        return -ENOTSUP;
    }
    if (b == NP_DAEMON_BACKEND_LIBVIRT && c->linux_keys_line) {
        dlog(NP_LOG_ERROR,
             "%s:%u: discover, cgroup and pid choose Linux processes; with the libvirt backend "
             "the guests are libvirt's running domains: remove the line or set backend = linux",
             cfg_path ? cfg_path : "<config>", c->linux_keys_line);
        return -EINVAL;
    }
    if (b == NP_DAEMON_BACKEND_LIBVIRT && cli_linux_opts) {
        dlog(NP_LOG_ERROR, "--cgroup and --pid choose Linux processes; with the libvirt backend "
                           "the guests are libvirt's running domains");
        return -EINVAL;
    }
    if (b == NP_DAEMON_BACKEND_XEN && c->linux_keys_line) {
        dlog(NP_LOG_ERROR,
             "%s:%u: discover, cgroup and pid choose Linux processes; with the Xen backend%s "
             "every domain but dom0 is a guest: remove the line or set backend = linux",
             cfg_path ? cfg_path : "<config>", c->linux_keys_line, why);
        return -EINVAL;
    }
    if (b == NP_DAEMON_BACKEND_XEN && cli_linux_opts) {
        dlog(NP_LOG_ERROR,
             "--cgroup and --pid choose Linux processes; with the Xen backend%s every domain "
             "but dom0 is a guest: drop them or use --backend linux",
             why);
        return -EINVAL;
    }
    *out = b;
    return 0;
}

/* The Xen backend's settings from d->cfg (memory moves). */
static int apply_xen(daemon_t *d)
{
#ifdef NP_HAVE_XEN
    np_xen_memory_move m = d->cfg.xen_memory_move == NP_DAEMON_XEN_MOVE_SAVE_RESTORE
                               ? NP_XEN_MEMORY_MOVE_SAVE_RESTORE
                               : NP_XEN_MEMORY_MOVE_OFF;
    int rc = np_xen_set_memory_move(d->xen, m, d->cfg.xen_save_dir);
    if (rc)
        dlog(NP_LOG_ERROR, "xen_save_dir %s: %s", d->cfg.xen_save_dir, np_strerror(rc));
    else if (m == NP_XEN_MEMORY_MOVE_SAVE_RESTORE)
        dlog(NP_LOG_INFO, "xen: memory moves by save/restore allowed (images in %s)",
             d->cfg.xen_save_dir);
    return rc;
#else
    (void)d;
    return -ENOTSUP;
#endif
}

int daemon_apply_source(daemon_t *d)
{
    np_linux_backend_opts o = {0};
    pid_t pids[NP_DAEMON_MAX_LIST];

    if (d->backend == NP_DAEMON_BACKEND_XEN)
        return apply_xen(d);
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

/* Memory moves leave the round when the backend allows it (its
 * migrate_memory may run beside the other operations): a mover thread. */
static int start_worker(daemon_t *d)
{
    if (!(np_backend_flags(d->be) & NP_BACKEND_CONCURRENT_MIGRATE))
        return 0; /* the round moves memory itself, serving the socket between steps */
    int rc = dworker_create(d->be, d->cfg.migrate_budget_bps, DAEMON_WORKER_STEP_BYTES,
                           &d->worker);
    if (rc)
        dlog(NP_LOG_ERROR, "cannot start the memory mover thread: %s", np_strerror(rc));
    if (!rc && d->lb && d->be == np_linux_backend_get(d->lb)) {
        rc = dworker_set_quiesce(d->worker, d->lb, d->cfg.move_quiesce,
                                 d->cfg.dry_run ? NULL : d->cfg.state_path);
        if (rc)
            dlog(NP_LOG_ERROR, "cannot start the quiesce guardian: %s", np_strerror(rc));
    }
    return rc;
}

int daemon_backend_open(daemon_t *d, const char *root)
{
    int rc;
    if (d->backend == NP_DAEMON_BACKEND_XEN) {
#ifdef NP_HAVE_XEN
        rc = np_xen_open(dlog_sink, NULL, &d->xen);
        if (!rc)
            rc = apply_xen(d);
        if (!rc)
            rc = np_backend_create(np_xen_backend_ops(), d->xen, &d->own_be);
        if (rc) {
            dlog(NP_LOG_ERROR, "cannot open the Xen host through libxl: %s", np_strerror(rc));
            return rc;
        }
        d->be = d->own_be;
        return start_worker(d);
#else
        return -ENOTSUP;
#endif
    }
    if (d->backend == NP_DAEMON_BACKEND_LIBVIRT) {
        /* libvirt for the domains and their pinning; the Linux layer under
         * root for the QEMU processes' memory and the mover. */
        rc = np_libvirt_open(d->cfg.libvirt_uri, root, dlog_sink, NULL, &d->lv);
        if (!rc)
            rc = np_backend_create(np_libvirt_backend_ops(), d->lv, &d->own_be);
        /* The QEMU processes' helper threads, for status (helpers.c). */
        if (!rc)
            rc = np_linux_ctx_create(root, dlog_sink, NULL, &d->ctx);
        if (rc) {
            dlog(NP_LOG_ERROR, "cannot open libvirt at %s: %s", d->cfg.libvirt_uri,
                 np_strerror(rc));
            return rc;
        }
        d->be = d->own_be;
        return 0;
    }
    rc = np_linux_ctx_create(root, dlog_sink, NULL, &d->ctx);
    if (!rc)
        rc = daemon_apply_source(d);
    if (rc) {
        dlog(NP_LOG_ERROR, "cannot open the Linux host under %s: %s", root, np_strerror(rc));
        return rc;
    }
    d->be = np_linux_backend_get(d->lb);
    return start_worker(d);
}

void daemon_backend_close(daemon_t *d)
{
    /* First the mover: it waits for the step under way (one bounded step),
     * then nothing uses the backend behind our back. What it moved since
     * the last round is counted and saved again, so a restart resumes from
     * what really moved. */
    if (d->worker) {
        /* DAEMON_STOP_WAIT_NS from the signal, not from here: the round
         * may have taken part of it already. */
        uint64_t seen = daemon_stop_seen_ns(), now = daemon_mono_ns(), wait = DAEMON_STOP_WAIT_NS;
        if (seen && now > seen)
            wait = now - seen < DAEMON_STOP_WAIT_NS ? DAEMON_STOP_WAIT_NS - (now - seen) : 0;
        int r = dworker_stop_within(d->worker, wait);
        bool moved_any = false;
        for (size_t i = 0; i < d->st.nr_guests; i++)
            moved_any |= d->st.guests[i].inflight;
        daemon_collect_moves(d, true);
        if (r == -ETIMEDOUT) {
            /* One move_pages call is still in the kernel: count what its
             * job moved so far; the pages of the call under way are found
             * where they are by the next start. */
            for (size_t i = 0; i < d->st.nr_guests; i++) {
                uint64_t moved = 0, asked = 0;
                if (dworker_progress(d->worker, (uint64_t)d->st.guests[i].pid, &moved, &asked))
                    d->st.guests[i].moved_bytes += moved;
            }
            dlog(NP_LOG_INFO, "stopping with a migration step still in the kernel: it ends "
                              "with the process; the migration stays in flight for the next start");
        }
        if (moved_any && !d->cfg.dry_run && d->cfg.state_path[0])
            dstate_save(&d->st, d->bal, d->cfg.state_path);
        if (r == -ETIMEDOUT) {
            d->worker_left = true; /* main() exits without tearing the backend down */
            return;
        }
    }
    dworker_destroy(d->worker);
    d->worker = NULL;
    np_backend_destroy(d->own_be);
    d->own_be = NULL;
    d->be = NULL;
#ifdef NP_HAVE_XEN
    np_xen_close(d->xen);
    d->xen = NULL;
#endif
    np_libvirt_close(d->lv);
    d->lv = NULL;
    np_linux_backend_destroy(d->lb);
    d->lb = NULL;
    np_linux_ctx_destroy(d->ctx);
    d->ctx = NULL;
}
